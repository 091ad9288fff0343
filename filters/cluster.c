/* cluster: assign cells to K strata by k-means, on the top principal
 * components of log1p(CP10k) of the most variable genes or on a provided
 * embedding (e.g. a model's cell embedding), deterministically for a seed;
 * for coexpr --strata when cells have no labels. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "expr.h"
#include "kmeans.h"
#include "mat.h"
#include "opt.h"
#include "out.h"
#include "pca.h"
#include "xalloc.h"

static const char usage[] =
	"usage: cluster --k K (--counts FILE [--genes FILE] | --embedding FILE) [--cells FILE]\n"
	"               [--where COL=VALUE]... [--no-normalize] [--hvg N] [--pcs P] [--no-scale]\n"
	"               [--seed S] [--restarts R] [--max-iter N] [--column NAME] [--scores FILE]\n"
	"               [-o OUT]\n"
	"\n"
	"k-means of the selected cells into K clusters (1 = largest), on the top P principal\n"
	"components of the N most variable genes' log1p(counts per 10,000) (centred and\n"
	"scaled to unit variance), or on the rows of an embedding (cells x dims).\n"
	"Output: the cells table with one more column (NA for cells not selected), or\n"
	"'cell cluster' (1-based input order) without a cells table.\n"
	"\n"
	EXPR_USAGE
	"  --embedding FILE     cells x dims matrix (.npy, .akm, .tsv) instead of --counts\n"
	"  --k K                number of clusters\n"
	"  --hvg N              genes of largest variance for the PCA [2000]\n"
	"  --pcs P              principal components [20]\n"
	"  --no-scale           centre the genes but do not scale them to unit variance\n"
	"  --seed S             seed of the k-means++ starts [1]\n"
	"  --restarts R         k-means runs; the least within-cluster sum of squares wins [10]\n"
	"  --max-iter N         Lloyd iterations per run [300]\n"
	"  --column NAME        name of the added column [cluster]\n"
	"  --scores FILE        also write the PCA scores, selected cells x P (.npy .akm .tsv)\n"
	"  -o FILE              output [stdout]; .gz compresses\n"
	"  -h, --help           this text\n";

enum { OPT_EMB = 256, OPT_K, OPT_HVG, OPT_PCS, OPT_NOSCALE, OPT_SEED, OPT_RESTARTS, OPT_MAXITER, OPT_COLUMN, OPT_SCORES };

static const struct option longopts[] = {
	EXPR_LONGOPTS,
	{ "embedding", required_argument, NULL, OPT_EMB },
	{ "k", required_argument, NULL, OPT_K },
	{ "hvg", required_argument, NULL, OPT_HVG },
	{ "pcs", required_argument, NULL, OPT_PCS },
	{ "no-scale", no_argument, NULL, OPT_NOSCALE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "restarts", required_argument, NULL, OPT_RESTARTS },
	{ "max-iter", required_argument, NULL, OPT_MAXITER },
	{ "column", required_argument, NULL, OPT_COLUMN },
	{ "scores", required_argument, NULL, OPT_SCORES },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* PCA scores (ncells x *p) of the nh most variable genes. */
static double *expr_pcs(expr_t *e, int64_t hvg, int *p, int scale)
{
	int64_t *rank = xmallocarray((size_t)e->ngenes, sizeof *rank);
	uint8_t *sel = xmalloc((size_t)e->ngenes);
	int64_t nh = expr_hvg(e, hvg < e->ngenes ? hvg : e->ngenes, NULL, 0, rank, sel);
	int64_t m = e->ncells;
	double *x = xcalloc(xmul((size_t)nh, (size_t)m), sizeof *x);
	for (int64_t g = 0, r = 0; g < e->ngenes; g++) {
		if (!sel[g])
			continue;
		for (int64_t k = e->ptr[g]; k < e->ptr[g + 1]; k++)
			x[r * m + e->cell[k]] = e->val[k];
		r++;
	}
	int lim = (int)(nh < m - 1 ? nh : m - 1);
	if (*p > lim) {
		warn("--pcs %d: only %d components possible (%lld genes, %lld cells)", *p, lim, (long long)nh,
		     (long long)m);
		*p = lim;
	}
	if (*p < 1)
		die("%s: too few genes or cells for a PCA (%lld genes, %lld cells)", e->src, (long long)nh,
		    (long long)m);
	double *sc = pca_scores(x, nh, m, *p, scale, NULL);
	free(x);
	free(rank);
	free(sel);
	return sc;
}

static void write_out(const char *out, const expr_t *e, const int32_t *lab, const char *column)
{
	wr_t *w = wr_open(out, 0);
	if (e->table_all) {
		for (int i = 0; i < e->ncol; i++) {
			if (strcmp(e->colnames[i], column) == 0)
				die("%s: already has a column '%s' (choose another with --column)", e->cells_src, column);
			wr_puts(w, e->colnames[i]);
			wr_putc(w, '\t');
		}
	} else {
		wr_puts(w, "cell\t");
	}
	wr_puts(w, column);
	wr_putc(w, '\n');
	for (int64_t c = 0; c < e->ncells_in; c++) {
		if (e->table_all) {
			for (int i = 0; i < e->ncol; i++) {
				wr_puts(w, e->table_all[c * e->ncol + i]);
				wr_putc(w, '\t');
			}
		} else {
			wr_i64(w, c + 1);
			wr_putc(w, '\t');
		}
		int64_t s = e->sel_in[c];
		if (s >= 0)
			wr_i64(w, lab[s] + 1);
		else
			wr_puts(w, "NA");
		wr_putc(w, '\n');
	}
	wr_close(w);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	expr_opts_t o;
	expr_opts_init(&o);
	o.keep_table = 1;
	const char *emb = NULL, *out = NULL, *column = "cluster", *scores = NULL;
	long long k = 0, hvg = 2000, pcs = 20, seed = 1, restarts = 10, max_iter = 300;
	int scale = 1, c;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (expr_getopt(&o, c, optarg))
			continue;
		switch (c) {
		case OPT_EMB: emb = optarg; break;
		case OPT_K: k = opt_int(optarg, "--k", 1, INT32_MAX); break;
		case OPT_HVG: hvg = opt_int(optarg, "--hvg", 2, INT64_MAX); break;
		case OPT_PCS: pcs = opt_int(optarg, "--pcs", 1, 10000); break;
		case OPT_NOSCALE: scale = 0; break;
		case OPT_SEED: seed = opt_int(optarg, "--seed", 0, INT64_MAX); break;
		case OPT_RESTARTS: restarts = opt_int(optarg, "--restarts", 1, 100000); break;
		case OPT_MAXITER: max_iter = opt_int(optarg, "--max-iter", 1, 1000000); break;
		case OPT_COLUMN: column = optarg; break;
		case OPT_SCORES: scores = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!k)
		die_usage("--k K is required");
	if (!o.counts == !emb)
		die_usage("give either --counts FILE or --embedding FILE");
	if (scores && emb)
		die_usage("--scores needs --counts (an embedding has no PCA)");
	if (scores && fmt_from_name(scores) == FMT_NONE)
		die_usage("--scores: cannot tell the format of '%s' from its name (.npy, .akm, .tsv)", scores);

	expr_t *e;
	double *x;
	int d;
	if (emb) {
		akmat_t *m = mat_load(emb);
		if (m->ndim != 2)
			die("%s: an embedding must be a 2-D matrix (cells x dims)", m->src);
		mat_check_finite(m);
		o.counts = emb;
		o.no_counts = m->rows;
		e = expr_load(&o);
		d = (int)m->cols;
		x = xmallocarray(xmul((size_t)e->ncells, (size_t)d), sizeof *x);
		for (int64_t i = 0; i < e->ncells; i++)
			for (int j = 0; j < d; j++)
				x[i * d + j] = mat_get(m, e->cell_in[i] * m->cols + j);
		mat_free(m);
	} else {
		e = expr_load(&o);
		d = (int)pcs;
		x = expr_pcs(e, hvg, &d, scale);
		if (scores) {
			akmat_t *sm = mat_new2(AK_F64, e->ncells, d);
			memcpy(sm->data, x, xmul(xmul((size_t)e->ncells, (size_t)d), sizeof *x));
			mat_save(sm, scores, FMT_NONE, 0);
			mat_free(sm);
		}
	}
	if (k > e->ncells)
		die("%s: --k %lld is more than the %lld selected cells", e->src, k, (long long)e->ncells);
	int32_t *lab = xmallocarray((size_t)e->ncells, sizeof *lab);
	kmeans(x, e->ncells, d, (int)k, (int)restarts, (int)max_iter, (uint64_t)seed, lab);
	write_out(out, e, lab, column);
	free(lab);
	free(x);
	free(o.where);
	expr_free(e);
	return 0;
}
