/* grn-sim: simulate single-cell counts from state-specific gene regulatory
 * networks, with the true edges of every state, so that stratified scoring
 * (coexpr --strata, CSSI) can be checked against a known answer. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "opt.h"
#include "out.h"
#include "rng.h"
#include "xalloc.h"

static const char usage[] =
	"usage: grn-sim --out DIR [--states S] [--cells N] [--genes G] [--tfs T] [--edges E]\n"
	"               [--shared-edges H] [--shift SD] [--noise SD] [--depth D] [--dropout P]\n"
	"               [--seed S]\n"
	"\n"
	"Writes DIR/counts.mtx (genes x cells, MatrixMarket integer), genes.txt, tfs.txt,\n"
	"cells.tsv (cell, state) and truth.tsv (from, to, state, weight: the edges of\n"
	"every state).\n"
	"\n"
	"  --out DIR          output directory (created)\n"
	"  --states S         cell states [4]\n"
	"  --cells N          cells, split evenly over the states [1000]\n"
	"  --genes G          genes, the T regulators included [200]\n"
	"  --tfs T            regulators (TF1..TFT) [20]\n"
	"  --edges E          state-specific edges per state [30]\n"
	"  --shared-edges H   edges active in every state [0]\n"
	"  --shift SD         sd of each gene's state mean shift (log scale) [0.5]\n"
	"  --noise SD         sd of a target's own noise (log scale) [0.5]\n"
	"  --depth D          mean counts per cell [2000]\n"
	"  --dropout P        probability that a non-zero count is lost [0.1]\n"
	"  --seed S           random seed [1]\n"
	"  -h, --help         this text\n";

typedef struct conf {
	const char *out;
	int states, tfs, edges, shared;
	int64_t cells, genes;
	double shift, noise, depth, dropout;
	uint64_t seed;
} conf_t;

typedef struct edge {
	int tf, target, state;   /* state -1: shared by all states */
	double w;
} edge_t;

enum { OPT_STATES = 256, OPT_CELLS, OPT_GENES, OPT_TFS, OPT_EDGES, OPT_SHARED, OPT_SHIFT,
	OPT_NOISE, OPT_DEPTH, OPT_DROPOUT, OPT_OUT };

static const struct option longopts[] = {
	{ "out", required_argument, NULL, OPT_OUT },
	{ "states", required_argument, NULL, OPT_STATES },
	{ "cells", required_argument, NULL, OPT_CELLS },
	{ "genes", required_argument, NULL, OPT_GENES },
	{ "tfs", required_argument, NULL, OPT_TFS },
	{ "edges", required_argument, NULL, OPT_EDGES },
	{ "shared-edges", required_argument, NULL, OPT_SHARED },
	{ "shift", required_argument, NULL, OPT_SHIFT },
	{ "noise", required_argument, NULL, OPT_NOISE },
	{ "depth", required_argument, NULL, OPT_DEPTH },
	{ "dropout", required_argument, NULL, OPT_DROPOUT },
	OPT_LONG_SEED,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

/* Poisson variate: inversion by sequential search for small means, PTRS
 * (Hormann 1993, as numpy) for large ones. */
static int64_t poisson(rng_t *r, double lam)
{
	if (lam <= 0)
		return 0;
	if (lam < 10) {
		double l = exp(-lam), p = rng_uniform(r);
		int64_t k = 0;
		while (p > l) {
			p *= rng_uniform(r);
			k++;
		}
		return k;
	}
	double slam = sqrt(lam), loglam = log(lam);
	double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
	double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
	for (;;) {
		double U = rng_uniform(r) - 0.5, V = rng_uniform(r), us = 0.5 - fabs(U);
		double k = floor((2 * a / us + b) * U + lam + 0.43);
		if (us >= 0.07 && V <= vr)
			return (int64_t)k;
		if (k < 0 || (us < 0.013 && V > us))
			continue;
		if (log(V) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1))
			return (int64_t)k;
	}
}

static void mkdir_or_die(const char *p)
{
	if (mkdir(p, 0777) != 0 && errno != EEXIST)
		die_errno("%s", p);
}

static void gene_name(const conf_t *c, int64_t g, char *buf, size_t n)
{
	if (g < c->tfs)
		snprintf(buf, n, "TF%lld", (long long)g + 1);
	else
		snprintf(buf, n, "G%lld", (long long)(g - c->tfs + 1));
}

/* Draw `count` distinct (tf, target) edges for one state (targets are
 * never regulators, so every edge is one unordered gene pair). */
static void draw_edges(rng_t *r, const conf_t *c, int state, int count, int64_t nshared,
	edge_t *e, int64_t *ne)
{
	int64_t start = *ne;
	int64_t ntarget = c->genes - c->tfs;
	for (int k = 0; k < count; k++) {
		for (;;) {
			int tf = (int)rng_below(r, (uint64_t)c->tfs);
			int tg = c->tfs + (int)rng_below(r, (uint64_t)ntarget);
			int dup = 0;
			for (int64_t j = 0; j < nshared; j++)
				if (e[j].tf == tf && e[j].target == tg)
					dup = 1;
			for (int64_t j = start; j < *ne; j++)
				if (e[j].tf == tf && e[j].target == tg)
					dup = 1;
			if (dup)
				continue;
			double w = 0.5 + 0.5 * rng_uniform(r);
			if (rng_uniform(r) < 0.3)
				w = -w;
			e[*ne] = (edge_t){ tf, tg, state, w };
			(*ne)++;
			break;
		}
	}
}

static void simulate(const conf_t *c)
{
	rng_t r;
	rng_seed(&r, c->seed);
	int S = c->states;
	int64_t G = c->genes, N = c->cells;

	/* Per gene a base level, per state and gene a mean shift. */
	double *base = xmallocarray((size_t)G, sizeof *base);
	for (int64_t g = 0; g < G; g++)
		base[g] = rng_norm(&r);
	double *shift = xmallocarray(xmul((size_t)S, (size_t)G), sizeof *shift);
	for (int64_t i = 0; i < (int64_t)S * G; i++)
		shift[i] = c->shift * rng_norm(&r);

	int64_t maxe = (int64_t)c->shared + (int64_t)S * c->edges;
	edge_t *e = xmallocarray((size_t)(maxe ? maxe : 1), sizeof *e);
	int64_t ne = 0;
	draw_edges(&r, c, -1, c->shared, 0, e, &ne);
	int64_t nshared = ne;
	int64_t *first = xmallocarray((size_t)S + 1, sizeof *first);
	for (int s = 0; s < S; s++) {
		first[s] = ne;
		draw_edges(&r, c, s, c->edges, nshared, e, &ne);
	}
	first[S] = ne;

	/* Balanced states in a random order of cells. */
	int64_t *state = xmallocarray((size_t)N, sizeof *state);
	for (int64_t i = 0; i < N; i++)
		state[i] = i % S;
	rng_shuffle_i64(&r, state, N);

	int32_t *counts = xmallocarray(xmul((size_t)G, (size_t)N), sizeof *counts);
	double *lat = xmallocarray((size_t)G, sizeof *lat);
	int64_t nnz = 0;
	for (int64_t i = 0; i < N; i++) {
		int s = (int)state[i];
		const double *sh = shift + (size_t)s * (size_t)G;
		/* Regulator activity: its state's mean plus the cell's own
		 * deviation; it is the regulator's expression too. */
		for (int64_t g = 0; g < G; g++)
			lat[g] = base[g] + sh[g] + (g < c->tfs ? rng_norm(&r) : c->noise * rng_norm(&r));
		for (int64_t j = 0; j < nshared; j++)
			lat[e[j].target] += e[j].w * (lat[e[j].tf] - base[e[j].tf]);
		for (int64_t j = first[s]; j < first[s + 1]; j++)
			lat[e[j].target] += e[j].w * (lat[e[j].tf] - base[e[j].tf]);
		double mx = lat[0], tot = 0;
		for (int64_t g = 1; g < G; g++)
			if (lat[g] > mx)
				mx = lat[g];
		for (int64_t g = 0; g < G; g++)
			tot += exp(lat[g] - mx);
		double lib = c->depth * exp(0.3 * rng_norm(&r) - 0.045);
		for (int64_t g = 0; g < G; g++) {
			int64_t k = poisson(&r, lib * exp(lat[g] - mx) / tot);
			if (k > 0 && rng_uniform(&r) < c->dropout)
				k = 0;
			if (k > INT32_MAX)
				k = INT32_MAX;
			counts[(size_t)g * (size_t)N + (size_t)i] = (int32_t)k;
			nnz += k > 0;
		}
	}

	mkdir_or_die(c->out);
	char name[64];
	char *p = path_join(c->out, "genes.txt");
	wr_t *w = wr_open(p, 0);
	for (int64_t g = 0; g < G; g++) {
		gene_name(c, g, name, sizeof name);
		wr_printf(w, "%s\n", name);
	}
	wr_close(w);
	free(p);

	p = path_join(c->out, "tfs.txt");
	w = wr_open(p, 0);
	for (int64_t g = 0; g < c->tfs; g++) {
		gene_name(c, g, name, sizeof name);
		wr_printf(w, "%s\n", name);
	}
	wr_close(w);
	free(p);

	p = path_join(c->out, "cells.tsv");
	w = wr_open(p, 0);
	wr_puts(w, "cell\tstate\n");
	for (int64_t i = 0; i < N; i++)
		wr_printf(w, "c%lld\ts%lld\n", (long long)i + 1, (long long)state[i] + 1);
	wr_close(w);
	free(p);

	/* One row per edge and state in which it acts: a shared edge is listed
	 * under every state, so each state's rows are its whole network. */
	p = path_join(c->out, "truth.tsv");
	w = wr_open(p, 0);
	wr_puts(w, "from\tto\tstate\tweight\n");
	for (int s = 0; s < S; s++) {
		for (int64_t j = 0; j < ne; j++) {
			if (!(e[j].state == s || (e[j].state == -1)))
				continue;
			gene_name(c, e[j].tf, name, sizeof name);
			wr_printf(w, "%s\t", name);
			gene_name(c, e[j].target, name, sizeof name);
			wr_printf(w, "%s\ts%d\t", name, s + 1);
			wr_f64(w, e[j].w);
			wr_putc(w, '\n');
		}
	}
	wr_close(w);
	free(p);

	p = path_join(c->out, "counts.mtx");
	w = wr_open(p, 0);
	wr_puts(w, "%%MatrixMarket matrix coordinate integer general\n");
	wr_printf(w, "%lld %lld %lld\n", (long long)G, (long long)N, (long long)nnz);
	for (int64_t i = 0; i < N; i++)
		for (int64_t g = 0; g < G; g++) {
			int32_t k = counts[(size_t)g * (size_t)N + (size_t)i];
			if (k > 0)
				wr_printf(w, "%lld %lld %d\n", (long long)g + 1, (long long)i + 1, (int)k);
		}
	wr_close(w);
	free(p);

	free(base);
	free(shift);
	free(e);
	free(first);
	free(state);
	free(counts);
	free(lat);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	conf_t c = { .states = 4, .cells = 1000, .genes = 200, .tfs = 20, .edges = 30,
		.shared = 0, .shift = 0.5, .noise = 0.5, .depth = 2000, .dropout = 0.1, .seed = 1 };
	int o;
	while ((o = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (o) {
		case OPT_OUT: c.out = optarg; break;
		case OPT_STATES: c.states = (int)opt_int(optarg, "--states", 1, 1000); break;
		case OPT_CELLS: c.cells = opt_int(optarg, "--cells", 1, 100000000); break;
		case OPT_GENES: c.genes = opt_int(optarg, "--genes", 2, 1000000); break;
		case OPT_TFS: c.tfs = (int)opt_int(optarg, "--tfs", 1, 1000000); break;
		case OPT_EDGES: c.edges = (int)opt_int(optarg, "--edges", 0, 1000000); break;
		case OPT_SHARED: c.shared = (int)opt_int(optarg, "--shared-edges", 0, 1000000); break;
		case OPT_SHIFT: c.shift = opt_double(optarg, "--shift"); break;
		case OPT_NOISE: c.noise = opt_double(optarg, "--noise"); break;
		case OPT_DEPTH: c.depth = opt_double(optarg, "--depth"); break;
		case OPT_DROPOUT: c.dropout = opt_double(optarg, "--dropout"); break;
		case OPT_STD_SEED: c.seed = opt_seed(optarg); break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind != argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!c.out)
		die_usage("--out DIR is required");
	if (c.tfs >= c.genes)
		die_usage("--tfs (%d) must be below --genes (%lld)", c.tfs, (long long)c.genes);
	if (c.cells < c.states)
		die_usage("--cells (%lld) must be at least --states (%d)", (long long)c.cells, c.states);
	if (!(c.shift >= 0 && c.shift <= 10) || !(c.noise >= 0 && c.noise <= 10))
		die_usage("--shift and --noise must be in [0, 10]");
	if (!(c.depth > 0 && c.depth <= 1e9))
		die_usage("--depth must be in (0, 1e9]");
	if (!(c.dropout >= 0 && c.dropout < 1))
		die_usage("--dropout must be in [0, 1)");
	/* distinct edges per state must fit among the tf x target pairs */
	double room = (double)c.tfs * (double)(c.genes - c.tfs);
	if ((double)c.edges + (double)c.shared > room / 2)
		die_usage("--edges + --shared-edges must be at most half of tfs x targets (%.0f)", room);
	if ((double)c.genes * (double)c.cells > 2e9)
		die_usage("--genes x --cells must be at most 2e9");
	simulate(&c);
	return 0;
}
