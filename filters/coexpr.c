/* coexpr: gene-gene co-expression edges (Spearman or Pearson) over the
 * selected cells, as directed pairs; with --strata, per-stratum correlations
 * aggregated into one score per pair (CSSI). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corr.h"
#include "err.h"
#include "expr.h"
#include "h5mat.h"
#include "num.h"
#include "opt.h"
#include "out.h"
#include "par.h"
#include "rng.h"
#include "strtab.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: coexpr --counts FILE [--genes FILE] [--cells FILE] [--where COL=VALUE]...\n"
	"              [--no-normalize] [--method spearman|pearson]\n"
	"              [--genes-subset FILE | --hvg N] [--sources FILE] [--top K] [--abs]\n"
	"              [--strata COL [--agg max|mean|wmean|range|deviation] [--min-cells N]\n"
	"               [--shuffle-strata | --random-strata | --contrast-perm N]]\n"
	"              [--subsample FRAC] [--seed S] [--threads N] [-o OUT]\n"
	"\n"
	"Correlation of every pair of genes over the selected cells of log1p(counts per\n"
	"10,000), written as directed pairs: from to value (both directions, no self pairs).\n"
	"\n"
	EXPR_USAGE
	"  --method M           spearman (average ranks for ties) or pearson [spearman]\n"
	"  --genes-subset FILE  only these genes (one name per line)\n"
	"  --hvg N              only the N most variable genes (as gene-stats --hvg)\n"
	"  --sources FILE       only pairs from these genes (to every gene of the subset)\n"
	"  --top K              only the K strongest pairs, strongest first\n"
	"  --abs                --top and --agg max compare |value| (the sign is kept);\n"
	"                       --agg mean and wmean average |value| (CSSI-mean)\n"
	"  --strata COL         correlate within each value of cells-table column COL,\n"
	"                       then aggregate over the strata (CSSI)\n"
	"  --agg A              max, mean (unweighted mean over strata), wmean (weighted\n"
	"                       by cells), range (max - min) or deviation\n"
	"                       (max |stratum - all selected cells|) [max]\n"
	"  --min-cells N        skip (and report) strata with fewer cells, N >= 3 [20]\n"
	"  --shuffle-strata     null model: permute the stratum labels over the cells\n"
	"                       (same stratum sizes) before correlating\n"
	"  --random-strata      null model: each cell takes one of the kept strata at\n"
	"                       random (uniform; sizes vary)\n"
	"  --contrast-perm N    per-pair permutation test of the aggregate against N\n"
	"                       shuffles of the strata (seeds S..S+N-1); adds columns\n"
	"                       pooled, p (one-sided, (1 + #null >= observed) / (N + 1))\n"
	"                       and q (Benjamini-Hochberg over all defined pairs)\n"
	"  --subsample FRAC     only round(FRAC x cells) selected cells, drawn without\n"
	"                       replacement (seeded): one replicate of a stability check\n"
	"  --seed S             seed of --shuffle-strata, --random-strata, --subsample,\n"
	"                       first seed of --contrast-perm [1]\n"
	"  --at PAIRS           only these pairs (TSV with columns from, to; names of\n"
	"                       --genes), in input order, pooled cells: from to value\n"
	"  --threads N          threads for ranking and formatting; the output does not\n"
	"                       depend on it [ATTNKIT_THREADS or online CPUs, at most 16]\n"
	"  -o FILE              output [stdout]; .gz compresses\n"
	"  -h, --help           this text\n";

enum { OPT_METHOD = 256, OPT_SUBSET, OPT_HVG, OPT_SOURCES, OPT_TOP, OPT_ABS, OPT_STRATA, OPT_AGG,
       OPT_MINCELLS, OPT_SHUFFLE, OPT_RANDOM, OPT_CONTRAST, OPT_SUBSAMPLE, OPT_AT };
enum { AGG_NONE, AGG_MAX, AGG_MEAN, AGG_WMEAN, AGG_RANGE, AGG_DEV };

static const struct option longopts[] = {
	EXPR_LONGOPTS,
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "genes-subset", required_argument, NULL, OPT_SUBSET },
	{ "hvg", required_argument, NULL, OPT_HVG },
	{ "sources", required_argument, NULL, OPT_SOURCES },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "abs", no_argument, NULL, OPT_ABS },
	{ "strata", required_argument, NULL, OPT_STRATA },
	{ "agg", required_argument, NULL, OPT_AGG },
	{ "min-cells", required_argument, NULL, OPT_MINCELLS },
	{ "shuffle-strata", no_argument, NULL, OPT_SHUFFLE },
	OPT_LONG_SEED,
	{ "random-strata", no_argument, NULL, OPT_RANDOM },
	{ "contrast-perm", required_argument, NULL, OPT_CONTRAST },
	{ "subsample", required_argument, NULL, OPT_SUBSAMPLE },
	{ "at", required_argument, NULL, OPT_AT },
	OPT_LONG_THREADS,
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

/* ---- top K directed pairs: a heap whose root is the weakest kept pair ---- */

/* pooled and nge: --contrast-perm's pooled value and null count */
typedef struct { double key, val, pooled; int64_t from, to, nge; } pair_t;

/* a weaker than b: smaller key; on equal keys the later (from, to) is weaker. */
static int weaker(const pair_t *a, const pair_t *b)
{
	if (a->key != b->key)
		return a->key < b->key;
	if (a->from != b->from)
		return a->from > b->from;
	return a->to > b->to;
}

typedef struct { pair_t *h; int64_t n, cap; } topk_t;

static void sift_down(topk_t *t, int64_t i)
{
	for (;;) {
		int64_t l = 2 * i + 1, r = l + 1, w = i;
		if (l < t->n && weaker(&t->h[l], &t->h[w])) w = l;
		if (r < t->n && weaker(&t->h[r], &t->h[w])) w = r;
		if (w == i)
			return;
		pair_t x = t->h[i];
		t->h[i] = t->h[w];
		t->h[w] = x;
		i = w;
	}
}

static void topk_push(topk_t *t, const pair_t *p)
{
	if (t->n < t->cap) {
		int64_t i = t->n++;
		t->h[i] = *p;
		while (i > 0) {
			int64_t up = (i - 1) / 2;
			if (!weaker(&t->h[i], &t->h[up]))
				break;
			pair_t x = t->h[i];
			t->h[i] = t->h[up];
			t->h[up] = x;
			i = up;
		}
	} else if (t->cap > 0 && weaker(&t->h[0], p)) {
		t->h[0] = *p;
		sift_down(t, 0);
	}
}

static int cmp_stronger_first(const void *a, const void *b)
{
	const pair_t *x = a, *y = b;
	return weaker(y, x) ? -1 : weaker(x, y) ? 1 : 0;
}

/* ---- the run ---- */

struct fmt_job;
typedef struct {
	int spearman, absval, agg;
	int64_t top;
	wr_t *w;
	topk_t tk;
	const expr_t *e;
	int nthreads;
	struct fmt_job *jobs;
	FILE *spool;      /* --contrast-perm without --top: (value, pooled, count) per pair */
	int64_t nperm;    /* --contrast-perm N, or 0 */
	int64_t *hist;    /* --contrast-perm: defined pairs by null count 0..N */
} run_t;

/* Text of rows lo..hi-1 of a block, formatted by one thread into its buffer. */
typedef struct fmt_job {
	const expr_t *e;
	const int64_t *rg, *cg;
	const double *V;
	int64_t r0, lo, hi, nc;
	char *buf;
	size_t len, cap;
} fmt_job_t;

static void *fmt_work(void *arg)
{
	fmt_job_t *j = arg;
	j->len = 0;
	for (int64_t i = j->lo; i < j->hi; i++) {
		int64_t from = j->rg[j->r0 + i];
		const char *fn = j->e->genes[from];
		size_t fl = strlen(fn);
		const double *row = j->V + i * j->nc;
		for (int64_t c = 0; c < j->nc; c++) {
			int64_t to = j->cg[c];
			if (to == from)
				continue;
			const char *tn = j->e->genes[to];
			size_t tl = strlen(tn);
			if (j->len + fl + tl + NUM_BUFSZ + 3 > j->cap) {
				j->cap = 2 * (j->cap + fl + tl + NUM_BUFSZ + 3);
				j->buf = xrealloc(j->buf, j->cap);
			}
			char *p = j->buf + j->len;
			memcpy(p, fn, fl);
			p += fl;
			*p++ = '\t';
			memcpy(p, tn, tl);
			p += tl;
			*p++ = '\t';
			p += fmt_f64(p, row[c]);
			*p++ = '\n';
			j->len = (size_t)(p - j->buf);
		}
	}
	return NULL;
}

/* Rows are formatted by several threads, a few rows each, and written in
 * order: the number formatting dominates the all-pairs output. */
static void emit_text(run_t *R, const int64_t *rg, int64_t r0, int64_t nr, const int64_t *cg, int64_t nc,
		      const double *V)
{
	int nt = R->nthreads;
	int64_t per = nc > 0 ? (1 << 20) / (nc * 24) : 1;  /* about 1 MB of text per thread */
	if (per < 1) per = 1;
	for (int64_t a = 0; a < nr;) {
		int used = 0;
		for (int t = 0; t < nt && a < nr; t++) {
			int64_t b = a + per < nr ? a + per : nr;
			R->jobs[t] = (fmt_job_t){ R->e, rg, cg, V, r0, a, b, nc, R->jobs[t].buf, 0, R->jobs[t].cap };
			a = b;
			used++;
		}
		parallel_for(used, fmt_work, R->jobs, sizeof *R->jobs);
		for (int t = 0; t < used; t++)
			wr_write(R->w, R->jobs[t].buf, R->jobs[t].len);
	}
}

/* One (value, pooled, null count) record of the --contrast-perm spool. */
typedef struct { double val, pooled; int64_t nge; } spool_rec_t;

/* Rows of a block: written (all pairs), spooled (all pairs with
 * --contrast-perm: q needs every p first) or offered to the top K. P and
 * NGE (pooled values, null counts) only with --contrast-perm. */
static void emit(run_t *R, const int64_t *rg, int64_t r0, int64_t nr, const int64_t *cg, int64_t nc,
		 const double *V, const double *P, const int64_t *NGE)
{
	if (R->nperm)
		for (int64_t k = 0; k < nr * nc; k++)
			if (!isnan(V[k]) && rg[r0 + k / nc] != cg[k % nc])
				R->hist[NGE[k]]++;
	if (R->top < 0 && !R->nperm) {
		emit_text(R, rg, r0, nr, cg, nc, V);
		return;
	}
	for (int64_t i = 0; i < nr; i++) {
		int64_t from = rg[r0 + i];
		for (int64_t j = 0; j < nc; j++) {
			int64_t to = cg[j], k = i * nc + j;
			double v = V[k];
			if (to == from)
				continue;
			if (R->top < 0) {
				spool_rec_t rec = { v, P[k], NGE[k] };
				if (fwrite(&rec, sizeof rec, 1, R->spool) != 1)
					die("cannot write the temporary file of --contrast-perm");
				continue;
			}
			if (isnan(v))
				continue;
			pair_t p = { R->absval ? fabs(v) : v, v, P ? P[k] : NAN, from, to, NGE ? NGE[k] : 0 };
			topk_push(&R->tk, &p);
		}
	}
}

/* One set of cells: all selected cells, or one stratum. */
typedef struct {
	corr_rows_t *r, *c;   /* c == r when the rows are the columns */
	double weight;        /* cells */
} cellset_t;

static void cellset_make(cellset_t *s, const expr_t *e, const int64_t *rg, int64_t nr, const int64_t *cg,
			 int64_t nc, int same, const int32_t *cmap, int64_t m, int spearman)
{
	s->c = corr_rows_new(e, cg, nc, cmap, m, spearman);
	s->r = same ? s->c : corr_rows_new(e, rg, nr, cmap, m, spearman);
	s->weight = (double)m;
}

static void cellset_free(cellset_t *s)
{
	if (s->r != s->c)
		corr_rows_free(s->r);
	corr_rows_free(s->c);
}

/* Fold stratum block C into the accumulators (NaN = stratum undefined). */
static void fold(int agg, int absval, double w, const double *C, const double *P, double *A, double *B,
		 int64_t len)
{
	for (int64_t k = 0; k < len; k++) {
		double v = C[k];
		if (isnan(v))
			continue;
		switch (agg) {
		case AGG_MAX:
			if (isnan(A[k]) || (absval ? fabs(v) > fabs(A[k]) : v > A[k]))
				A[k] = v;
			break;
		case AGG_MEAN:   /* w = 1 */
		case AGG_WMEAN:  /* w = the stratum's cells */
			if (isnan(A[k])) { A[k] = 0; B[k] = 0; }
			A[k] += w * (absval ? fabs(v) : v);
			B[k] += w;
			break;
		case AGG_RANGE:
			if (isnan(A[k]) || v > A[k]) A[k] = v;
			if (isnan(B[k]) || v < B[k]) B[k] = v;
			break;
		case AGG_DEV: {
			double d = fabs(v - P[k]);
			if (isnan(A[k]) || d > A[k]) A[k] = d;
			break;
		}
		}
	}
}

static void finish(int agg, double *A, const double *B, const double *P, int64_t len)
{
	for (int64_t k = 0; k < len; k++) {
		if ((agg == AGG_MEAN || agg == AGG_WMEAN) && !isnan(A[k])) A[k] /= B[k];
		else if (agg == AGG_RANGE && !isnan(A[k])) A[k] -= B[k];
		else if (agg == AGG_DEV && isnan(P[k])) A[k] = NAN;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t *all_genes(int64_t n)
{
	int64_t *v = xmallocarray((size_t)(n ? n : 1), sizeof *v);
	for (int64_t i = 0; i < n; i++)
		v[i] = i;
	return v;
}

typedef struct { const char *label; int64_t n; } stratum_t;
static int cmp_label(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Stratum id per selected cell (by sorted label), or -1 when skipped. Returns
 * the kept strata in *out (labels point into e's cells table). */
static int64_t make_strata(const expr_t *e, const char *col, int64_t min_cells, int32_t *sid,
			   stratum_t **out)
{
	int ci = expr_col(e, col, "--strata");
	const char **lab = xmallocarray((size_t)e->ncells, sizeof *lab);
	for (int64_t c = 0; c < e->ncells; c++)
		lab[c] = expr_field(e, c, ci);
	qsort(lab, (size_t)e->ncells, sizeof *lab, cmp_label);
	stratum_t *all = xmallocarray((size_t)e->ncells, sizeof *all);
	int64_t ns = 0;
	for (int64_t c = 0; c < e->ncells; c++) {
		if (ns && strcmp(all[ns - 1].label, lab[c]) == 0) {
			all[ns - 1].n++;
			continue;
		}
		all[ns].label = lab[c];
		all[ns++].n = 1;
	}
	stratum_t *kept = xmallocarray((size_t)ns, sizeof *kept);
	int64_t nk = 0;
	for (int64_t s = 0; s < ns; s++) {
		if (all[s].n < min_cells)
			warn("stratum %s='%s': %lld cells (< --min-cells %lld), skipped", col, all[s].label,
			     (long long)all[s].n, (long long)min_cells);
		else
			kept[nk++] = all[s];
	}
	if (nk == 0)
		die("%s: no stratum of '%s' has --min-cells %lld cells or more", e->cells_src, col,
		    (long long)min_cells);
	for (int64_t c = 0; c < e->ncells; c++) {
		const char *l = expr_field(e, c, ci);
		sid[c] = -1;
		/* binary search over the kept labels (sorted) */
		int64_t lo = 0, hi = nk - 1;
		while (lo <= hi) {
			int64_t mid = (lo + hi) / 2;
			int d = strcmp(l, kept[mid].label);
			if (d == 0) { sid[c] = (int32_t)mid; break; }
			if (d < 0) hi = mid - 1; else lo = mid + 1;
		}
	}
	free(lab);
	free(all);
	*out = kept;
	return nk;
}

/* The null of issue 11: cell c takes the stratum of cell perm[c], perm a
 * seeded Fisher-Yates permutation, so every stratum keeps its size. */
static void shuffle_strata(int32_t *sid, int64_t n, uint64_t seed)
{
	int64_t *perm = rng_perm(seed, n);
	int32_t *copy = xmallocarray((size_t)n, sizeof *copy);
	memcpy(copy, sid, (size_t)n * sizeof *sid);
	for (int64_t i = 0; i < n; i++)
		sid[i] = copy[perm[i]];
	free(perm);
	free(copy);
}

/* The random-labels null: every selected cell of a kept stratum takes one
 * of the nk kept strata, uniformly and independently (seeded), so strata
 * sizes vary around n / nk. */
static void random_strata(int32_t *sid, int64_t n, int64_t nk, uint64_t seed)
{
	rng_t r;
	rng_seed(&r, seed);
	for (int64_t i = 0; i < n; i++)
		if (sid[i] >= 0)
			sid[i] = (int32_t)rng_below(&r, (uint64_t)nk);
}

/* After a relabelling that changes sizes: skip (and report) strata now below
 * min_cells, renumbering the rest in order. Returns the strata left. */
static int64_t drop_small(int32_t *sid, int64_t n, int64_t nk, int64_t min_cells, const stratum_t *st,
			  const char *col, const char *what)
{
	int64_t *cnt = xcalloc((size_t)nk, sizeof *cnt);
	int32_t *to = xmallocarray((size_t)nk, sizeof *to);
	for (int64_t i = 0; i < n; i++)
		if (sid[i] >= 0)
			cnt[sid[i]]++;
	int64_t left = 0;
	for (int64_t s = 0; s < nk; s++) {
		if (cnt[s] < min_cells) {
			warn("%s stratum %s='%s': %lld cells (< --min-cells %lld), skipped", what, col, st[s].label,
			     (long long)cnt[s], (long long)min_cells);
			to[s] = -1;
		} else {
			to[s] = (int32_t)left++;
		}
	}
	for (int64_t i = 0; i < n; i++)
		if (sid[i] >= 0)
			sid[i] = to[sid[i]];
	free(cnt);
	free(to);
	if (left == 0)
		die("%s: no %s stratum has --min-cells %lld cells or more", col, what, (long long)min_cells);
	return left;
}

/* --subsample: keep[c] = 1 for round(frac x n) of the n selected cells
 * (at least one), the first ones of a seeded Fisher-Yates permutation:
 * a draw without replacement. Returns the cells kept. */
static int64_t subsample(uint8_t *keep, int64_t n, double frac, uint64_t seed)
{
	int64_t m = (int64_t)llround(frac * (double)n);
	if (m < 1) m = 1;
	if (m > n) m = n;
	int64_t *perm = rng_perm(seed, n);
	memset(keep, 0, (size_t)n);
	for (int64_t i = 0; i < m; i++)
		keep[perm[i]] = 1;
	free(perm);
	return m;
}

/* The cell sets of strata 0..nsets-1 of sid (a cell with -1 is in none). */
static cellset_t *strata_sets(const expr_t *e, const int64_t *rg, int64_t nr, const int64_t *cg, int64_t nc,
			      int same, const int32_t *sid, int64_t nsets, int spearman)
{
	cellset_t *sets = xcalloc((size_t)nsets, sizeof *sets);
	int32_t *cmap = xmallocarray((size_t)e->ncells, sizeof *cmap);
	for (int64_t s = 0; s < nsets; s++) {
		int32_t k = 0;
		for (int64_t ci = 0; ci < e->ncells; ci++)
			cmap[ci] = sid[ci] == s ? k++ : -1;
		cellset_make(&sets[s], e, rg, nr, cg, nc, same, cmap, k, spearman);
	}
	free(cmap);
	return sets;
}

static void sets_free(cellset_t *sets, int64_t n)
{
	for (int64_t s = 0; s < n; s++)
		cellset_free(&sets[s]);
	free(sets);
}

/* A (len = rows r0..r0+n-1 x columns) = the aggregate over the strata; C and
 * B are scratch, P the pooled block (deviation only). */
static void aggregate(int agg, int absval, const cellset_t *sets, int64_t nsets, int64_t r0, int64_t n, int same,
		      double *C, const double *P, double *A, double *B, int64_t len)
{
	for (int64_t k = 0; k < len; k++)
		A[k] = B[k] = NAN;
	for (int64_t s = 0; s < nsets; s++) {
		corr_block(sets[s].r, r0, n, sets[s].c, same, C);
		fold(agg, absval, agg == AGG_MEAN ? 1.0 : sets[s].weight, C, P, A, B, len);
	}
	finish(agg, A, B, P, len);
}

/* --contrast-perm: what the permutations need besides the block. */
typedef struct {
	const expr_t *e;
	const int64_t *rg, *cg;
	int64_t nr, nc, nsets, nperm;
	int same, spearman, agg, absval;
	const int32_t *sid;   /* the observed strata */
	uint64_t seed;
} contrast_t;

/* NGE[k] = the permutations b = 0..N-1 (strata shuffled as --shuffle-strata
 * --seed seed+b does) whose aggregate for pair k is undefined or at least the
 * observed A[k], comparing |value| with --abs, else value. An undefined null
 * value counts against the pair (conservative). The genes are ranked again
 * within the permuted strata for every block: memory stays that of a block. */
static void contrast_block(const contrast_t *T, int64_t r0, int64_t n, const double *A, const double *P, double *C,
			   double *Ab, double *Bb, int64_t *NGE)
{
	int64_t len = n * T->nc, ncell = T->e->ncells;
	memset(NGE, 0, (size_t)len * sizeof *NGE);
	int32_t *sb = xmallocarray((size_t)(ncell ? ncell : 1), sizeof *sb);
	for (int64_t b = 0; b < T->nperm; b++) {
		memcpy(sb, T->sid, (size_t)ncell * sizeof *sb);
		shuffle_strata(sb, ncell, T->seed + (uint64_t)b);
		cellset_t *sets = strata_sets(T->e, T->rg, T->nr, T->cg, T->nc, T->same, sb, T->nsets, T->spearman);
		aggregate(T->agg, T->absval, sets, T->nsets, r0, n, T->same, C, P, Ab, Bb, len);
		sets_free(sets, T->nsets);
		for (int64_t k = 0; k < len; k++) {
			if (isnan(A[k]))
				continue;
			double obs = T->absval ? fabs(A[k]) : A[k], nul = T->absval ? fabs(Ab[k]) : Ab[k];
			if (isnan(nul) || nul >= obs)
				NGE[k]++;
		}
	}
	free(sb);
}

/* Benjamini-Hochberg q per null count c, p = (1 + c) / (N + 1), over the m
 * defined pairs (hist[c] of them with count c): q(c) = min over counts
 * c' >= c present of min(1, p(c') m / #{pairs with count <= c'}). Tied p
 * values share one q, as statsmodels' fdr_bh gives them. */
static double *bh_by_count(const int64_t *hist, int64_t nperm)
{
	double *q = xmallocarray((size_t)nperm + 1, sizeof *q);
	int64_t m = 0;
	for (int64_t c = 0; c <= nperm; c++)
		m += hist[c];
	int64_t below = m;  /* pairs with count <= c */
	double run = 1.0;
	for (int64_t c = nperm; c >= 0; c--) {
		if (hist[c]) {
			double v = (double)(1 + c) / (double)(nperm + 1) * (double)m / (double)below;
			if (v < run) run = v;
			below -= hist[c];
		}
		q[c] = run;
	}
	return q;
}

static void put_contrast(wr_t *w, const expr_t *e, int64_t from, int64_t to, double v, double pooled, int64_t nge,
			 int64_t nperm, const double *q)
{
	wr_puts(w, e->genes[from]);
	wr_putc(w, '\t');
	wr_puts(w, e->genes[to]);
	wr_putc(w, '\t');
	wr_f64(w, v);
	wr_putc(w, '\t');
	wr_f64(w, pooled);
	wr_putc(w, '\t');
	wr_f64(w, isnan(v) ? NAN : (double)(1 + nge) / (double)(nperm + 1));
	wr_putc(w, '\t');
	wr_f64(w, isnan(v) ? NAN : q[nge]);
	wr_putc(w, '\n');
}

#define BLOCK_BYTES ((size_t)256 << 20)

/* --at: the correlation of each listed pair over the pooled cells, in
 * input order. Only the genes the pairs name are standardised (O(genes x
 * cells)), and each pair is one dot product: no gene x gene matrix, so a
 * sample of pairs of a 20,000-gene vocabulary costs what its genes cost. */
static void run_at(const expr_t *e, const char *path, int spearman, const char *out)
{
	tsv_t *t = tsv_open(path);
	int cf = tsv_col(t, "from"), ct = tsv_col(t, "to");
	int64_t *row = xmallocarray((size_t)(e->ngenes ? e->ngenes : 1), sizeof *row);
	for (int64_t g = 0; g < e->ngenes; g++)
		row[g] = -1;
	int64_t np = 0, cap = 0, ng = 0, nunknown = 0, nbad = 0, *pa = NULL, *genes = xmallocarray((size_t)(e->ngenes ? e->ngenes : 1), sizeof *genes);
	char *first_unknown = NULL, **names = NULL;
	while (tsv_next(t)) {
		int64_t g[2] = { -1, -1 };
		int col[2] = { cf, ct };
		for (int k = 0; k < 2; k++) {
			const char *s = tsv_str(t, col[k]);
			g[k] = strtab_get(e->gene_ix, s, strlen(s));
			if (g[k] < 0) {
				/* a gene without expression: no co-expression (nan), counted */
				if (!nunknown++)
					first_unknown = xstrdup(s);
				continue;
			}
			if (row[g[k]] < 0) {
				row[g[k]] = ng;
				genes[ng++] = g[k];
			}
		}
		if (np == cap) {
			cap = cap ? 2 * cap : 4096;
			pa = xreallocarray(pa, xmul((size_t)cap, 2), sizeof *pa);
		}
		pa[2 * np] = g[0];
		pa[2 * np + 1] = g[1];
		names = xreallocarray(names, xmul((size_t)cap, 2), sizeof *names);
		names[2 * np] = xstrdup(tsv_str(t, cf));
		names[2 * np + 1] = xstrdup(tsv_str(t, ct));
		nbad += g[0] < 0 || g[1] < 0;
		np++;
	}
	if (np && nbad == np)
		die("%s: no pair has both genes among the counts' genes (e.g. \"%s\"): a different id type?",
		    tsv_name(t), first_unknown);
	if (nbad)
		warn("%s: %lld of %lld pairs name a gene without counts (e.g. \"%s\"): value nan", tsv_name(t),
		     (long long)nbad, (long long)np, first_unknown);
	free(first_unknown);
	tsv_close(t);
	corr_rows_t *z = corr_rows_new(e, genes, ng, NULL, e->ncells, spearman);
	wr_t *w = wr_open(out, 0);
	wr_puts(w, "from\tto\tvalue\n");
	for (int64_t p = 0; p < np; p++) {
		int64_t ga = pa[2 * p], gb = pa[2 * p + 1];
		int64_t a = ga < 0 ? -1 : row[ga], b = gb < 0 ? -1 : row[gb];
		double v = NAN;
		if (a >= 0 && b >= 0 && !z->constant[a] && !z->constant[b]) {
			const double *x = z->z + (size_t)a * (size_t)z->m, *y = z->z + (size_t)b * (size_t)z->m;
			v = 0;
			for (int64_t k = 0; k < z->m; k++)
				v += x[k] * y[k];
			v = v > 1 ? 1 : v < -1 ? -1 : v;
		}
		wr_puts(w, names[2 * p]);
		wr_putc(w, '\t');
		wr_puts(w, names[2 * p + 1]);
		wr_putc(w, '\t');
		wr_f64(w, v);
		wr_putc(w, '\n');
	}
	wr_close(w);
	corr_rows_free(z);
	for (int64_t p = 0; p < 2 * np; p++)
		free(names[p]);
	free(names);
	free(row);
	free(genes);
	free(pa);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	expr_opts_t o;
	expr_opts_init(&o);
	const char *subset = NULL, *sources = NULL, *strata = NULL, *out = NULL;
	long long hvg = -1, min_cells = 20;
	run_t R = { .spearman = 1, .top = -1, .agg = AGG_NONE };
	int agg = AGG_MAX, agg_set = 0, shuffle = 0, randomize = 0, seed_set = 0, c;
	long long seed = 1, nperm = 0;
	double frac = -1;
	const char *at = NULL;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (expr_getopt(&o, c, optarg))
			continue;
		switch (c) {
		case OPT_METHOD:
			if (strcmp(optarg, "spearman") == 0) R.spearman = 1;
			else if (strcmp(optarg, "pearson") == 0) R.spearman = 0;
			else die_usage("--method: '%s' is not spearman or pearson", optarg);
			break;
		case OPT_SUBSET: subset = optarg; break;
		case OPT_HVG: hvg = opt_int(optarg, "--hvg", 1, INT64_MAX); break;
		case OPT_SOURCES: sources = optarg; break;
		case OPT_TOP: R.top = opt_int(optarg, "--top", 0, INT64_MAX); break;
		case OPT_ABS: R.absval = 1; break;
		case OPT_STRATA: strata = optarg; break;
		case OPT_AGG:
			agg_set = 1;
			if (strcmp(optarg, "max") == 0) agg = AGG_MAX;
			else if (strcmp(optarg, "mean") == 0) agg = AGG_MEAN;
			else if (strcmp(optarg, "wmean") == 0) agg = AGG_WMEAN;
			else if (strcmp(optarg, "range") == 0) agg = AGG_RANGE;
			else if (strcmp(optarg, "deviation") == 0) agg = AGG_DEV;
			else die_usage("--agg: '%s' is not max, mean, wmean, range or deviation", optarg);
			break;
		case OPT_MINCELLS:
			/* a correlation over 2 cells is +-1 whatever the data */
			min_cells = opt_int(optarg, "--min-cells", 1, INT64_MAX);
			if (min_cells < 3)
				die_usage("--min-cells %lld: a stratum needs at least 3 cells for a correlation that is not +-1 by construction",
					  min_cells);
			break;
		case OPT_RANDOM: randomize = 1; break;
		case OPT_SHUFFLE: shuffle = 1; break;
		case OPT_CONTRAST: nperm = opt_int(optarg, "--contrast-perm", 1, INT32_MAX); break;
		case OPT_SUBSAMPLE:
			frac = opt_double(optarg, "--subsample");
			if (!(frac > 0 && frac <= 1))
				die_usage("--subsample: '%s' is not a fraction in (0, 1]", optarg);
			break;
		case OPT_STD_SEED: seed = opt_seed(optarg); seed_set = 1; break;
		case OPT_STD_THREADS: opt_threads(optarg); break;
		case OPT_AT: at = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!o.counts)
		die_usage("--counts FILE is required");
	if (subset && hvg >= 0)
		die_usage("--genes-subset and --hvg exclude each other");
	if (agg_set && !strata)
		die_usage("--agg needs --strata COL");
	if (shuffle && !strata)
		die_usage("--shuffle-strata needs --strata COL");
	if (randomize && !strata)
		die_usage("--random-strata needs --strata COL");
	if (randomize && shuffle)
		die_usage("--shuffle-strata and --random-strata exclude each other");
	if (nperm && !strata)
		die_usage("--contrast-perm needs --strata COL");
	if (nperm && (shuffle || randomize))
		die_usage("--contrast-perm tests the observed strata: not with --shuffle-strata or --random-strata");
	if (frac > 0 && (shuffle || randomize || nperm))
		die_usage("--subsample is a replicate of the observed scores: not with --shuffle-strata, --random-strata or --contrast-perm");
	if (seed_set && !shuffle && !randomize && !nperm && !(frac > 0))
		die_usage("--seed needs --shuffle-strata, --random-strata, --contrast-perm or --subsample");
	if (strata && !o.cells && !h5_is_spec(o.counts))
		die_usage("--strata needs a cells table (--cells FILE, or HDF5 counts with obs)");
	R.agg = strata ? agg : AGG_NONE;
	if (at && (subset || hvg >= 0 || sources || R.top >= 0 || R.absval || strata || frac > 0 || seed_set))
		die_usage("--at gives the listed pairs over the pooled cells: not with --genes-subset, --hvg, "
			  "--sources, --top, --abs, --strata, --subsample or --seed");

	expr_t *e = expr_load(&o);
	R.e = e;
	/* With one or two cells every correlation is NaN or +-1 by
	 * construction: a table of those looks like a result and is not. */
	if (e->ncells < 3) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s: %lld cell%s selected; a correlation needs at least 3 cells",
			 e->src, (long long)e->ncells, e->ncells == 1 ? "" : "s");
		expr_free(e);
		die("%s", msg);
	}
	if (at) {
		run_at(e, at, R.spearman, out);
		expr_free(e);
		return 0;
	}
	/* Column genes (the subset) and row genes (sources, or the same). */
	int64_t nc, nr, *cg, *rg;
	if (subset) {
		nc = expr_gene_list(e, subset, &cg);
		qsort(cg, (size_t)nc, sizeof *cg, cmp_i64);
	} else if (hvg >= 0) {
		int64_t *rank = xmallocarray((size_t)e->ngenes, sizeof *rank);
		uint8_t *sel = xmalloc((size_t)e->ngenes);
		nc = expr_hvg(e, hvg, NULL, 0, rank, sel);
		cg = xmallocarray((size_t)nc, sizeof *cg);
		for (int64_t g = 0, k = 0; g < e->ngenes; g++)
			if (sel[g])
				cg[k++] = g;
		free(rank);
		free(sel);
	} else {
		nc = e->ngenes;
		cg = all_genes(nc);
	}
	int same = !sources;
	if (sources) {
		nr = expr_gene_list(e, sources, &rg);
		qsort(rg, (size_t)nr, sizeof *rg, cmp_i64);
	} else {
		nr = nc;
		rg = cg;
	}

	/* Cells: all selected ones, or a subsample of them. */
	uint8_t *keep = NULL;
	int32_t *pmap = NULL;
	int64_t npool = e->ncells;
	if (frac > 0) {
		keep = xmalloc((size_t)(e->ncells ? e->ncells : 1));
		npool = subsample(keep, e->ncells, frac, (uint64_t)seed);
		pmap = xmallocarray((size_t)(e->ncells ? e->ncells : 1), sizeof *pmap);
		for (int64_t ci = 0, k = 0; ci < e->ncells; ci++)
			pmap[ci] = keep[ci] ? (int32_t)k++ : -1;
	}
	/* Cell sets: the pooled cells (for deviation and the contrast too) and/or the kept strata. */
	int64_t nsets = 0;
	cellset_t pooled = { 0 }, *sets = NULL;
	int want_pooled = !strata || agg == AGG_DEV || nperm;
	if (want_pooled)
		cellset_make(&pooled, e, rg, nr, cg, nc, same, pmap, npool, R.spearman);
	int32_t *sid = NULL;
	if (strata) {
		sid = xmallocarray((size_t)(e->ncells ? e->ncells : 1), sizeof *sid);
		stratum_t *st;
		/* random labels and subsamples: sizes are checked after the relabelling */
		int late = randomize || keep;
		nsets = make_strata(e, strata, late ? 1 : min_cells, sid, &st);
		if (shuffle)
			shuffle_strata(sid, e->ncells, (uint64_t)seed);
		if (randomize) {
			random_strata(sid, e->ncells, nsets, (uint64_t)seed);
			nsets = drop_small(sid, e->ncells, nsets, min_cells, st, strata, "random");
		}
		if (keep) {
			for (int64_t ci = 0; ci < e->ncells; ci++)
				if (!keep[ci])
					sid[ci] = -1;
			nsets = drop_small(sid, e->ncells, nsets, min_cells, st, strata, "subsampled");
		}
		sets = strata_sets(e, rg, nr, cg, nc, same, sid, nsets, R.spearman);
		free(st);
	}
	contrast_t T = { e, rg, cg, nr, nc, nsets, nperm, same, R.spearman, agg, R.absval, sid, (uint64_t)seed };

	/* Row blocks: as many rows as fit the budget with every buffer held.
	 * ATTNKIT_BLOCK_BYTES lowers the budget (tests use it to force blocks). */
	size_t budget = BLOCK_BYTES;
	const char *env = getenv("ATTNKIT_BLOCK_BYTES");
	if (env && *env) {
		int64_t b;
		if (!parse_i64(env, &b) || b < 1)
			die("ATTNKIT_BLOCK_BYTES: '%s' is not a positive integer", env);
		budget = (size_t)b;
	}
	int nbuf = !strata ? 1 : nperm ? 7 : 4;
	size_t rowbytes = xmul((size_t)(nc ? nc : 1), sizeof(double) * (size_t)nbuf);
	int64_t blk = (int64_t)(budget / rowbytes);
	if (blk < 1) blk = 1;
	if (blk > nr) blk = nr;
	size_t blen = xmul((size_t)(blk ? blk : 1), (size_t)(nc ? nc : 1));
	double *C = xmallocarray(blen, sizeof *C);
	double *A = NULL, *B = NULL, *P = NULL, *Ab = NULL, *Bb = NULL;
	int64_t *NGE = NULL;
	if (strata) {
		A = xmallocarray(blen, sizeof *A);
		B = xmallocarray(blen, sizeof *B);
		if (agg == AGG_DEV || nperm)
			P = xmallocarray(blen, sizeof *P);
	}
	if (nperm) {
		Ab = xmallocarray(blen, sizeof *Ab);
		Bb = xmallocarray(blen, sizeof *Bb);
		NGE = xmallocarray(blen, sizeof *NGE);
		R.nperm = nperm;
		R.hist = xcalloc((size_t)nperm + 1, sizeof *R.hist);
		if (R.top < 0 && !(R.spool = tmpfile()))
			die("--contrast-perm: cannot open a temporary file");
	}
	if (R.top >= 0) {
		/* at most the number of directed pairs */
		int64_t npairs = nr * nc;
		R.tk.cap = R.top < npairs ? R.top : npairs;
		R.tk.h = xmallocarray((size_t)(R.tk.cap ? R.tk.cap : 1), sizeof *R.tk.h);
	}
	R.nthreads = par_threads();
	R.jobs = xcalloc((size_t)R.nthreads, sizeof *R.jobs);
	R.w = wr_open(out, 0);
	wr_puts(R.w, nperm ? "from\tto\tvalue\tpooled\tp\tq\n" : "from\tto\tvalue\n");
	for (int64_t r0 = 0; r0 < nr; r0 += blk) {
		int64_t n = nr - r0 < blk ? nr - r0 : blk;
		int64_t len = n * nc;
		if (!strata) {
			corr_block(pooled.r, r0, n, pooled.c, same, C);
			emit(&R, rg, r0, n, cg, nc, C, NULL, NULL);
			continue;
		}
		if (P)
			corr_block(pooled.r, r0, n, pooled.c, same, P);
		aggregate(agg, R.absval, sets, nsets, r0, n, same, C, P, A, B, len);
		if (nperm)
			contrast_block(&T, r0, n, A, P, C, Ab, Bb, NGE);
		emit(&R, rg, r0, n, cg, nc, A, nperm ? P : NULL, NGE);
	}
	double *q = nperm ? bh_by_count(R.hist, nperm) : NULL;
	if (R.spool) {
		/* the pairs again, in the order they were spooled */
		rewind(R.spool);
		for (int64_t i = 0; i < nr; i++)
			for (int64_t j = 0; j < nc; j++) {
				if (rg[i] == cg[j])
					continue;
				spool_rec_t rec;
				if (fread(&rec, sizeof rec, 1, R.spool) != 1)
					die("--contrast-perm: cannot read back the temporary file");
				put_contrast(R.w, e, rg[i], cg[j], rec.val, rec.pooled, rec.nge, nperm, q);
			}
		fclose(R.spool);
	}
	if (R.top >= 0) {
		qsort(R.tk.h, (size_t)R.tk.n, sizeof *R.tk.h, cmp_stronger_first);
		for (int64_t i = 0; i < R.tk.n; i++) {
			const pair_t *p = &R.tk.h[i];
			if (nperm) {
				put_contrast(R.w, e, p->from, p->to, p->val, p->pooled, p->nge, nperm, q);
				continue;
			}
			wr_puts(R.w, e->genes[p->from]);
			wr_putc(R.w, '\t');
			wr_puts(R.w, e->genes[p->to]);
			wr_putc(R.w, '\t');
			wr_f64(R.w, p->val);
			wr_putc(R.w, '\n');
		}
	}
	wr_close(R.w);

	free(R.tk.h);
	for (int t = 0; t < R.nthreads; t++)
		free(R.jobs[t].buf);
	free(R.jobs);
	free(C);
	free(A);
	free(B);
	free(P);
	free(Ab);
	free(Bb);
	free(NGE);
	free(q);
	free(R.hist);
	free(sid);
	free(keep);
	free(pmap);
	if (want_pooled)
		cellset_free(&pooled);
	if (sets)
		sets_free(sets, nsets);
	if (rg != cg)
		free(rg);
	free(cg);
	free(o.where);
	expr_free(e);
	return 0;
}
