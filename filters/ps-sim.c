/* ps-sim: a simulated Perturb-seq screen with a known gene regulatory
 * network, for checking that the perturbation pipeline recovers planted
 * truth. Two sources of co-expression are planted: cell-state programs
 * (modules of genes that rise and fall together, no regulation) and the GRN
 * (TF -> target, so a TF's own cell-to-cell variation shows in its targets).
 * Knocking a TF down shifts its targets: those are the DE genes. Two edge
 * tables come with it: "real" carries the GRN on top of the module structure,
 * "confounded" carries only the module structure (co-expression). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>

#include "err.h"
#include "opt.h"
#include "out.h"
#include "rng.h"
#include "xalloc.h"

static const char usage[] =
	"usage: ps-sim --out DIR [--seed S] [--genes N] [--tfs T] [--targets K] [--cells C]\n"
	"              [--control C] [--knockdown X] [--dropout P]\n"
	"\n"
	"Writes a simulated CRISPR screen with a known GRN to DIR: counts.mtx (genes x\n"
	"cells), genes.txt, cells.tsv (barcode, target), grn.tsv (from to weight), and\n"
	"edges_real.tsv, edges_confounded.tsv (from to value, every ordered pair).\n"
	"\n"
	"  --out DIR         output directory (created)\n"
	"  --seed S          random seed [1]\n"
	"  --genes N         genes, TFs included [200]\n"
	"  --tfs T           transcription factors, each knocked down [12]\n"
	"  --targets K       targets per TF [10]\n"
	"  --cells C         cells per knockdown [80]\n"
	"  --control C       non-targeting cells [400]\n"
	"  --knockdown X     drop of the TF's log expression [2]\n"
	"  --dropout P       extra chance that a count is lost [0.1]\n"
	"  -h, --help        this text\n";

enum { OPT_TFS = 256, OPT_TARGETS, OPT_CELLS, OPT_CONTROL, OPT_KD, OPT_DROP };
static const struct option longopts[] = {
	{ "out", required_argument, NULL, 'O' },
	{ "seed", required_argument, NULL, 's' },
	{ "genes", required_argument, NULL, 'g' },
	{ "tfs", required_argument, NULL, OPT_TFS },
	{ "targets", required_argument, NULL, OPT_TARGETS },
	{ "cells", required_argument, NULL, OPT_CELLS },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "knockdown", required_argument, NULL, OPT_KD },
	{ "dropout", required_argument, NULL, OPT_DROP },
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

#define MODULES 5

typedef struct {
	const char *out;
	uint64_t seed;
	int genes, tfs, targets, cells, control;
	double kd, dropout;
} ps_opts_t;

typedef struct {
	int n, t;
	double *mu;     /* base log mean */
	int *module;    /* cell-state program of the gene, -1 none */
	double *load;   /* its loading */
	double *w;      /* n x n, w[tf * n + g]: regulation tf -> g */
} grn_t;

static const char *gene_name(char *buf, size_t len, const grn_t *m, int g)
{
	if (g < m->t)
		snprintf(buf, len, "TF%02d", g + 1);
	else
		snprintf(buf, len, "G%03d", g - m->t + 1);
	return buf;
}

/* Knuth's product method for small means, the rounded normal for large ones
 * (the counts only need to look like counts). */
static int64_t poisson(rng_t *r, double lambda)
{
	if (lambda > 30) {
		double x = lambda + sqrt(lambda) * rng_norm(r);
		return x < 0 ? 0 : (int64_t)(x + 0.5);
	}
	double L = exp(-lambda), p = 1;
	int64_t k = 0;
	do {
		k++;
		p *= rng_uniform(r);
	} while (p > L);
	return k - 1;
}

static void plant(rng_t *r, const ps_opts_t *o, grn_t *m)
{
	int n = o->genes;
	m->n = n;
	m->t = o->tfs;
	m->mu = xmallocarray((size_t)n, sizeof *m->mu);
	m->module = xmallocarray((size_t)n, sizeof *m->module);
	m->load = xmallocarray((size_t)n, sizeof *m->load);
	m->w = xcalloc(xmul((size_t)n, (size_t)n), sizeof *m->w);
	for (int g = 0; g < n; g++) {
		m->mu[g] = log(2.0) + 0.8 * rng_norm(r);
		/* 70% of genes follow one of the cell-state programs */
		m->module[g] = rng_uniform(r) < 0.7 ? (int)rng_below(r, MODULES) : -1;
		m->load[g] = m->module[g] >= 0 ? 0.3 + 0.4 * rng_uniform(r) : 0;
	}
	/* TFs regulate non-TF genes only: one layer, so effects do not compound */
	int pool = n - m->t;
	int *idx = xmallocarray((size_t)pool, sizeof *idx);
	for (int tf = 0; tf < m->t; tf++) {
		for (int i = 0; i < pool; i++)
			idx[i] = m->t + i;
		for (int k = 0; k < o->targets; k++) {
			int j = k + (int)rng_below(r, (uint64_t)(pool - k));
			int tmp = idx[k];
			idx[k] = idx[j];
			idx[j] = tmp;
			double w = 0.6 + 0.6 * rng_uniform(r);
			m->w[(size_t)tf * n + idx[k]] = rng_uniform(r) < 0.7 ? w : -w;
		}
	}
	free(idx);
}

static void write_grn(const ps_opts_t *o, const grn_t *m)
{
	char a[16], b[16];
	char *p = path_join(o->out, "grn.tsv");
	wr_t *w = wr_open(p, 0);
	wr_puts(w, "from\tto\tweight\n");
	for (int tf = 0; tf < m->t; tf++)
		for (int g = 0; g < m->n; g++)
			if (m->w[(size_t)tf * m->n + g] != 0) {
				wr_printf(w, "%s\t%s\t", gene_name(a, sizeof a, m, tf), gene_name(b, sizeof b, m, g));
				wr_f64(w, m->w[(size_t)tf * m->n + g]);
				wr_putc(w, '\n');
			}
	wr_close(w);
	free(p);
	p = path_join(o->out, "genes.txt");
	w = wr_open(p, 0);
	for (int g = 0; g < m->n; g++)
		wr_printf(w, "%s\n", gene_name(a, sizeof a, m, g));
	wr_close(w);
	free(p);
}

/* Every ordered pair: confounded = the shared cell-state program (l_i l_j
 * when both genes follow the same one) plus noise; real = the same plus the
 * regulation |w| of i -> j, with its own noise. */
static void write_edges(rng_t *r, const ps_opts_t *o, const grn_t *m)
{
	char a[16], b[16];
	char *pr = path_join(o->out, "edges_real.tsv"), *pc = path_join(o->out, "edges_confounded.tsv");
	wr_t *wr = wr_open(pr, 0), *wc = wr_open(pc, 0);
	wr_puts(wr, "from\tto\tvalue\n");
	wr_puts(wc, "from\tto\tvalue\n");
	for (int i = 0; i < m->n; i++)
		for (int j = 0; j < m->n; j++) {
			if (i == j)
				continue;
			double co = (m->module[i] >= 0 && m->module[i] == m->module[j]) ? m->load[i] * m->load[j] : 0;
			double conf = co + 0.05 * rng_norm(r);
			double real = co + 0.5 * fabs(m->w[(size_t)i * m->n + j]) + 0.1 * rng_norm(r);
			gene_name(a, sizeof a, m, i);
			gene_name(b, sizeof b, m, j);
			wr_printf(wc, "%s\t%s\t", a, b);
			wr_f64(wc, conf);
			wr_putc(wc, '\n');
			wr_printf(wr, "%s\t%s\t", a, b);
			wr_f64(wr, real);
			wr_putc(wr, '\n');
		}
	wr_close(wr);
	wr_close(wc);
	free(pr);
	free(pc);
}

static void write_cells(rng_t *r, const ps_opts_t *o, const grn_t *m)
{
	int64_t nc = (int64_t)o->control + (int64_t)o->cells * m->t;
	int n = m->n;
	int32_t *cnt = xmallocarray(xmul((size_t)nc, (size_t)n), sizeof *cnt);
	double *x = xmallocarray((size_t)n, sizeof *x), z[MODULES];
	char a[16];
	char *p = path_join(o->out, "cells.tsv");
	wr_t *cw = wr_open(p, 0);
	free(p);
	wr_puts(cw, "barcode\ttarget\n");
	int64_t nnz = 0;
	for (int64_t c = 0; c < nc; c++) {
		int ko = c < o->control ? -1 : (int)((c - o->control) / o->cells);
		for (int k = 0; k < MODULES; k++)
			z[k] = rng_norm(r);
		double lib = exp(0.2 * rng_norm(r));
		for (int g = 0; g < n; g++) {
			double v = m->mu[g] + (m->module[g] >= 0 ? m->load[g] * z[m->module[g]] : 0) + 0.25 * rng_norm(r);
			if (g < m->t) {
				v += 0.25 * rng_norm(r); /* TFs vary on their own too */
				if (g == ko)
					v -= o->kd;
			} else {
				for (int tf = 0; tf < m->t; tf++)
					v += m->w[(size_t)tf * n + g] * (x[tf] - m->mu[tf]);
			}
			x[g] = v;
			int64_t k = poisson(r, exp(v) * lib);
			if (k && rng_uniform(r) < o->dropout)
				k = 0;
			if (k > INT32_MAX)
				k = INT32_MAX;
			cnt[(size_t)c * n + g] = (int32_t)k;
			nnz += k != 0;
		}
		wr_printf(cw, "cell%lld\t%s\n", (long long)c + 1, ko < 0 ? "non-targeting" : gene_name(a, sizeof a, m, ko));
	}
	wr_close(cw);
	p = path_join(o->out, "counts.mtx");
	wr_t *w = wr_open(p, 0);
	free(p);
	wr_printf(w, "%%%%MatrixMarket matrix coordinate integer general\n%d %lld %lld\n", n, (long long)nc, (long long)nnz);
	for (int64_t c = 0; c < nc; c++)
		for (int g = 0; g < n; g++)
			if (cnt[(size_t)c * n + g])
				wr_printf(w, "%d %lld %d\n", g + 1, (long long)c + 1, cnt[(size_t)c * n + g]);
	wr_close(w);
	free(cnt);
	free(x);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	ps_opts_t o = { .seed = 1, .genes = 200, .tfs = 12, .targets = 10, .cells = 80, .control = 400,
			.kd = 2, .dropout = 0.1 };
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'O': o.out = optarg; break;
		case 's': o.seed = opt_seed(optarg); break;
		case 'g': o.genes = (int)opt_int(optarg, "--genes", 20, 20000); break;
		case OPT_TFS: o.tfs = (int)opt_int(optarg, "--tfs", 1, 999); break;
		case OPT_TARGETS: o.targets = (int)opt_int(optarg, "--targets", 1, 20000); break;
		case OPT_CELLS: o.cells = (int)opt_int(optarg, "--cells", 2, 1000000); break;
		case OPT_CONTROL: o.control = (int)opt_int(optarg, "--control", 2, 1000000); break;
		case OPT_KD:
			o.kd = opt_double(optarg, "--knockdown");
			if (!(o.kd >= 0 && o.kd <= 20))
				die_usage("--knockdown: %s is not in [0, 20]", optarg);
			break;
		case OPT_DROP:
			o.dropout = opt_double(optarg, "--dropout");
			if (!(o.dropout >= 0 && o.dropout < 1))
				die_usage("--dropout: %s is not in [0, 1)", optarg);
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind != argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!o.out)
		die_usage("--out DIR is required");
	if (o.tfs >= o.genes || o.targets > o.genes - o.tfs)
		die_usage("need --tfs < --genes and --targets <= genes - tfs");
	if (mkdir(o.out, 0777) != 0 && errno != EEXIST)
		die_errno("cannot create directory '%s'", o.out);
	rng_t r;
	rng_seed(&r, o.seed);
	grn_t m;
	plant(&r, &o, &m);
	write_grn(&o, &m);
	write_edges(&r, &o, &m);
	write_cells(&r, &o, &m);
	free(m.mu);
	free(m.module);
	free(m.load);
	free(m.w);
	return 0;
}
