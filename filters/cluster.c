/* cluster: assign cells to strata by k-means (K clusters) or by Leiden
 * communities of a kNN graph (igraph), on the top principal components of
 * log1p(CP10k) of the most variable genes or on a provided embedding (e.g. a
 * model's cell embedding), deterministically for a seed; for coexpr --strata
 * when cells have no labels. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "expr.h"
#include "kmeans.h"
#include "leiden.h"
#include "mat.h"
#include "opt.h"
#include "out.h"
#include "pca.h"
#include "xalloc.h"

static const char usage[] =
	"usage: cluster (--k K | --method leiden) (--counts FILE [--genes FILE] | --embedding FILE)\n"
	"               [--cells FILE] [--where COL=VALUE]... [--no-normalize] [--hvg N] [--pcs P]\n"
	"               [--no-scale] [--seed S] [--restarts R] [--max-iter N] [--knn K]\n"
	"               [--resolution R] [--objective modularity|cpm] [--beta B] [--iterations N]\n"
	"               [--graph-out FILE] [--stats FILE] [--column NAME] [--scores FILE] [-o OUT]\n"
	"\n"
	"k-means of the selected cells into K clusters, or Leiden communities of their kNN\n"
	"graph (1 = largest), on the top P principal components of the N most variable\n"
	"genes' log1p(counts per 10,000) (centred and scaled to unit variance), or on the\n"
	"rows of an embedding (cells x dims).\n"
	"Output: the cells table with one more column (NA for cells not selected), or\n"
	"'cell cluster' (1-based input order) without a cells table.\n"
	"\n"
	EXPR_USAGE
	"  --embedding FILE     cells x dims matrix (.npy, .akm, .tsv) instead of --counts\n"
	"  --method M           kmeans or leiden [kmeans]\n"
	"  --k K                number of clusters (kmeans)\n"
	"  --hvg N              genes of largest variance for the PCA [2000]\n"
	"  --pcs P              principal components [20]\n"
	"  --no-scale           centre the genes but do not scale them to unit variance\n"
	"  --seed S             seed of the k-means++ starts or of Leiden [1]\n"
	"  --restarts R         k-means runs; the least within-cluster sum of squares wins [10]\n"
	"  --max-iter N         Lloyd iterations per run [300]\n"
	"  --knn K              leiden: neighbours per cell in the kNN graph [15]\n"
	"  --resolution R       leiden: resolution parameter [1]\n"
	"  --objective O        leiden: modularity or cpm [modularity]\n"
	"  --beta B             leiden: randomness of the refinement [0.01]\n"
	"  --iterations N       leiden: iterations, -1 = until stable [-1]\n"
	"  --graph-out FILE     leiden: write the kNN graph's edges (from to, 0-based)\n"
	"  --stats FILE         leiden: write communities, modularity and quality\n"
	"  --column NAME        name of the added column [cluster]\n"
	"  --scores FILE        also write the PCA scores, selected cells x P (.npy .akm .tsv)\n"
	"  -o FILE              output [stdout]; .gz compresses\n"
	"  -h, --help           this text\n";

enum { OPT_EMB = 256, OPT_K, OPT_HVG, OPT_PCS, OPT_NOSCALE, OPT_RESTARTS, OPT_MAXITER, OPT_COLUMN, OPT_SCORES,
       OPT_METHOD, OPT_KNN, OPT_RES, OPT_OBJ, OPT_BETA, OPT_ITER, OPT_GRAPH, OPT_STATS };

static const struct option longopts[] = {
	EXPR_LONGOPTS,
	{ "embedding", required_argument, NULL, OPT_EMB },
	{ "k", required_argument, NULL, OPT_K },
	{ "hvg", required_argument, NULL, OPT_HVG },
	{ "pcs", required_argument, NULL, OPT_PCS },
	{ "no-scale", no_argument, NULL, OPT_NOSCALE },
	OPT_LONG_SEED,
	{ "restarts", required_argument, NULL, OPT_RESTARTS },
	{ "max-iter", required_argument, NULL, OPT_MAXITER },
	{ "column", required_argument, NULL, OPT_COLUMN },
	{ "scores", required_argument, NULL, OPT_SCORES },
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "knn", required_argument, NULL, OPT_KNN },
	{ "resolution", required_argument, NULL, OPT_RES },
	{ "objective", required_argument, NULL, OPT_OBJ },
	{ "beta", required_argument, NULL, OPT_BETA },
	{ "iterations", required_argument, NULL, OPT_ITER },
	{ "graph-out", required_argument, NULL, OPT_GRAPH },
	{ "stats", required_argument, NULL, OPT_STATS },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
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

/* The kNN graph as python-igraph's Graph(n, edges) takes it: 0-based
 * vertex ids (the selected cells in input order), one edge per line, in the
 * order igraph got them (the order matters to Leiden's outcome). */
static void write_graph(const char *path, const knn_graph_t *g)
{
	wr_t *w = wr_open(path, 0);
	wr_puts(w, "from\tto\n");
	for (int64_t t = 0; t < g->m; t++) {
		wr_i64(w, g->ends[2 * t]);
		wr_putc(w, '\t');
		wr_i64(w, g->ends[2 * t + 1]);
		wr_putc(w, '\n');
	}
	wr_close(w);
}

static void write_stats(const char *path, const knn_graph_t *g, const leiden_stats_t *st)
{
	wr_t *w = wr_open(path, 0);
	wr_puts(w, "cells\tedges\tcommunities\tmodularity\tquality\n");
	wr_i64(w, g->n);
	wr_putc(w, '\t');
	wr_i64(w, g->m);
	wr_putc(w, '\t');
	wr_i64(w, st->ncomm);
	wr_putc(w, '\t');
	wr_f64(w, st->modularity);
	wr_putc(w, '\t');
	wr_f64(w, st->quality);
	wr_putc(w, '\n');
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
	int scale = 1, use_leiden = 0, c;
	long long knn = 15;
	leiden_opts_t lo = { LEIDEN_MODULARITY, 1.0, 0.01, -1, 1 };
	const char *graph_out = NULL, *stats_out = NULL;
	int leiden_opt = 0;  /* a Leiden-only option was given */
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (expr_getopt(&o, c, optarg))
			continue;
		switch (c) {
		case OPT_EMB: emb = optarg; break;
		case OPT_K: k = opt_int(optarg, "--k", 1, INT32_MAX); break;
		case OPT_HVG: hvg = opt_int(optarg, "--hvg", 2, INT64_MAX); break;
		case OPT_PCS: pcs = opt_int(optarg, "--pcs", 1, 10000); break;
		case OPT_NOSCALE: scale = 0; break;
		case OPT_STD_SEED: seed = opt_seed(optarg); break;
		case OPT_RESTARTS: restarts = opt_int(optarg, "--restarts", 1, 100000); break;
		case OPT_MAXITER: max_iter = opt_int(optarg, "--max-iter", 1, 1000000); break;
		case OPT_COLUMN: column = optarg; break;
		case OPT_SCORES: scores = optarg; break;
		case OPT_METHOD:
			if (strcmp(optarg, "kmeans") == 0) use_leiden = 0;
			else if (strcmp(optarg, "leiden") == 0) use_leiden = 1;
			else die_usage("--method: '%s' is not kmeans or leiden", optarg);
			break;
		case OPT_KNN: knn = opt_int(optarg, "--knn", 1, INT32_MAX); leiden_opt = 1; break;
		case OPT_RES:
			lo.resolution = opt_double(optarg, "--resolution");
			if (!(lo.resolution > 0))
				die_usage("--resolution: '%s' is not positive", optarg);
			leiden_opt = 1;
			break;
		case OPT_OBJ:
			if (strcmp(optarg, "modularity") == 0) lo.objective = LEIDEN_MODULARITY;
			else if (strcmp(optarg, "cpm") == 0) lo.objective = LEIDEN_CPM;
			else die_usage("--objective: '%s' is not modularity or cpm", optarg);
			leiden_opt = 1;
			break;
		case OPT_BETA:
			lo.beta = opt_double(optarg, "--beta");
			if (!(lo.beta > 0))
				die_usage("--beta: '%s' is not positive", optarg);
			leiden_opt = 1;
			break;
		case OPT_ITER: lo.iterations = (int)opt_int(optarg, "--iterations", -1, INT32_MAX); leiden_opt = 1; break;
		case OPT_GRAPH: graph_out = optarg; leiden_opt = 1; break;
		case OPT_STATS: stats_out = optarg; leiden_opt = 1; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (use_leiden && k)
		die_usage("--k is for --method kmeans (Leiden finds the number of communities)");
	if (!use_leiden && !k)
		die_usage("--k K is required (or --method leiden)");
	if (!use_leiden && leiden_opt)
		die_usage("--knn, --resolution, --objective, --beta, --iterations, --graph-out and --stats need --method leiden");
	if (use_leiden && (restarts != 10 || max_iter != 300))
		die_usage("--restarts and --max-iter are for --method kmeans");
	if (lo.iterations == 0)
		die_usage("--iterations: 0 iterations would leave every cell alone (-1 = until stable)");
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
	int32_t *lab = xmallocarray((size_t)e->ncells, sizeof *lab);
	if (use_leiden) {
		if (knn >= e->ncells)
			die("%s: --knn %lld needs more than %lld selected cells", e->src, knn, (long long)e->ncells);
		knn_graph_t *g = knn_graph(x, e->ncells, d, (int)knn);
		if (graph_out)
			write_graph(graph_out, g);
		lo.seed = (uint64_t)seed;
		leiden_stats_t st;
		leiden(g, &lo, lab, &st);
		if (stats_out)
			write_stats(stats_out, g, &st);
		knn_graph_free(g);
	} else {
		if (k > e->ncells)
			die("%s: --k %lld is more than the %lld selected cells", e->src, k, (long long)e->ncells);
		kmeans(x, e->ncells, d, (int)k, (int)restarts, (int)max_iter, (uint64_t)seed, lab);
	}
	write_out(out, e, lab, column);
	free(lab);
	free(x);
	free(o.where);
	expr_free(e);
	return 0;
}
