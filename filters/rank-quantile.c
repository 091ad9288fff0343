/* rank-quantile: how far partitions (layers, models) agree on their top
 * pairs. Reads the long table written by `attn-topk --at` (every partition's
 * top-K pairs evaluated in every partition) and reports, per ordered pair of
 * partitions, where the query partition's top-K pairs fall in the eval
 * partition (median quantile, Wilcoxon test against 0.5); or, with
 * --spearman, the rank correlation of the two partitions' values; or, with
 * --families, a cross-family coherence score per partition. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "num.h"
#include "opt.h"
#include "out.h"
#include "pairtab.h"
#include "progress.h"
#include "rank.h"
#include "rankcorr.h"
#include "select.h"
#include "signrank.h"
#include "sort.h"
#include "strtab.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: rank-quantile --by COLS [--within COLS] --top K [--spearman | --families FILE]\n"
	"                     [--consecutive] [-o OUT] [-v] [FILE...]\n"
	"\n"
	"Input: TSV (gzip ok, '-' or none = stdin) with columns from, to, rank, quantile\n"
	"(value with --spearman) and the key columns; several files are read as one table.\n"
	"\n"
	"  --by COLS        comma-separated columns naming a partition, e.g. model,layer\n"
	"  --within COLS    compare partitions only inside groups of these columns, e.g. category\n"
	"  --top K          a partition's query pairs are its rows with rank <= K\n"
	"                   (required, except with --spearman where it restricts the union)\n"
	"  --spearman       per unordered pair: Spearman of values over the pairs present in both\n"
	"  --consecutive    only eval = the next layer of the same model (needs 'layer' in --by)\n"
	"  --families FILE  TSV with columns model, family: coherence per query partition\n"
	"                   (needs 'model' in --by)\n"
	"  -o FILE          output [stdout]; gzip when FILE ends in .gz\n"
	"  -v               progress on stderr\n"
	"  -h, --help       this text\n";

enum { OPT_BY = 256, OPT_WITHIN, OPT_TOP, OPT_SPEARMAN, OPT_CONSEC, OPT_FAMILIES };

static const struct option longopts[] = {
	{ "by", required_argument, NULL, OPT_BY },
	{ "within", required_argument, NULL, OPT_WITHIN },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "spearman", no_argument, NULL, OPT_SPEARMAN },
	{ "consecutive", no_argument, NULL, OPT_CONSEC },
	{ "families", required_argument, NULL, OPT_FAMILIES },
	OPT_LONG_OUTPUT,
	OPT_LONG_VERBOSE,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

/* One partition: its rows as (pair id, number) in arrays, and the ids of
 * its own query pairs (rank <= K). The number is the quantile, or the
 * value with --spearman. Storage is 12 bytes per input row. */
typedef struct {
	char **key;          /* within values, then by values */
	uint32_t *pair;
	double *val;
	size_t n, cap;
	uint32_t *qry;
	size_t nq, qcap;
	uint32_t *r2;        /* --spearman: doubled average ranks of val */
	unsigned __int128 srr;
	int64_t layer;
	int next;            /* --consecutive: partition holding the next layer, or -1 */
	int64_t family;
} part_t;

typedef struct {
	int nw, nb, nk;      /* within, by, all key columns */
	char **kname;        /* nk names: within then by */
	int have_top;
	int64_t top;
	int spearman, consecutive;
	const char *families;
	strtab_t *genes;
	pairtab_t *pairs;
	strtab_t *pkey;      /* joined key values -> partition id */
	part_t *part;
	int np, pcap;
	int64_t rows;
	int *numeric;        /* per key column: every value is a number (sort numerically) */
	int *ord;            /* partitions in output order */
	int *gstart;         /* groups: ord[gstart[g] .. gstart[g+1]) */
	int ng;
} rq_t;

static char **split_list(const char *s, int *n, const char *opt)
{
	char *copy = xstrdup(s);
	int cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	char **v = xmallocarray((size_t)cap, sizeof *v);
	int k = 0;
	for (char *rest = copy, *tok; (tok = strsep(&rest, ",")) != NULL;) {
		if (!*tok)
			die_usage("%s: empty column name in '%s'", opt, s);
		v[k++] = xstrdup(tok);
	}
	free(copy);
	*n = k;
	return v;
}

/* "category=B, model=A, layer=3" for messages. */
static const char *part_name(const rq_t *q, int p, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < q->nk && len + 1 < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s=%s", i ? ", " : "", q->kname[i],
					q->part[p].key[i]);
	return buf;
}

static int new_part(rq_t *q, tsv_t *t, const int *kc)
{
	if (q->np == q->pcap) {
		q->pcap = q->pcap ? 2 * q->pcap : 16;
		q->part = xreallocarray(q->part, (size_t)q->pcap, sizeof *q->part);
	}
	part_t *p = &q->part[q->np];
	memset(p, 0, sizeof *p);
	p->key = xmallocarray((size_t)q->nk, sizeof *p->key);
	for (int i = 0; i < q->nk; i++)
		p->key[i] = xstrdup(tsv_str(t, kc[i]));
	p->next = -1;
	return q->np++;
}

static void push(part_t *p, uint32_t pair, double v)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 1024;
		p->pair = xreallocarray(p->pair, p->cap, sizeof *p->pair);
		p->val = xreallocarray(p->val, p->cap, sizeof *p->val);
	}
	p->pair[p->n] = pair;
	p->val[p->n++] = v;
}

static void push_qry(part_t *p, uint32_t pair)
{
	if (p->nq == p->qcap) {
		p->qcap = p->qcap ? 2 * p->qcap : 256;
		p->qry = xreallocarray(p->qry, p->qcap, sizeof *p->qry);
	}
	p->qry[p->nq++] = pair;
}

static void read_input(rq_t *q, const char *path)
{
	tsv_t *t = tsv_open(path);
	int cf = tsv_col(t, "from"), ct = tsv_col(t, "to");
	/* Every numeric column present is checked, used or not: NaN anywhere is an error. */
	int cr = q->have_top ? tsv_col(t, "rank") : tsv_col_opt(t, "rank");
	int cq = q->spearman ? tsv_col_opt(t, "quantile") : tsv_col(t, "quantile");
	int cv = q->spearman ? tsv_col(t, "value") : tsv_col_opt(t, "value");
	int *kc = xmallocarray((size_t)q->nk, sizeof *kc);
	for (int i = 0; i < q->nk; i++)
		kc[i] = tsv_col(t, q->kname[i]);
	char *jbuf = NULL;
	size_t jcap = 0;
	int last = -1;
	while (tsv_next(t)) {
		/* Rows of one partition usually come together: compare with the
		 * last partition's key before hashing. */
		int pid = last;
		for (int i = 0; pid >= 0 && i < q->nk; i++)
			if (strcmp(tsv_str(t, kc[i]), q->part[pid].key[i]) != 0)
				pid = -1;
		if (pid < 0) {
			size_t len = 0;
			for (int i = 0; i < q->nk; i++) {
				const char *s = tsv_str(t, kc[i]);
				size_t k = strlen(s);
				if (k == 0)
					tsv_die(t, kc[i], "empty key value");
				if (len + k + 2 > jcap) {
					jcap = 2 * (len + k + 2);
					jbuf = xrealloc(jbuf, jcap);
				}
				memcpy(jbuf + len, s, k);
				len += k;
				jbuf[len++] = '\t';
			}
			int added;
			pid = (int)strtab_put(q->pkey, jbuf, len, &added);
			if (added)
				new_part(q, t, kc);
			last = pid;
		}
		const char *fs = tsv_str(t, cf), *ts = tsv_str(t, ct);
		size_t fl = strlen(fs), tl = strlen(ts);
		if (!fl)
			tsv_die(t, cf, "empty gene id");
		if (!tl)
			tsv_die(t, ct, "empty gene id");
		uint32_t from = (uint32_t)strtab_put(q->genes, fs, fl, NULL);
		uint32_t to = (uint32_t)strtab_put(q->genes, ts, tl, NULL);
		uint32_t pair = pairtab_put(q->pairs, from, to, NULL);
		int64_t rank = 0;
		if (cr >= 0 && ((rank = tsv_int(t, cr)) < 1))
			tsv_die(t, cr, "rank %lld is not >= 1", (long long)rank);
		double qu = 0, v = 0;
		if (cq >= 0) {
			qu = tsv_num(t, cq);
			if (!(qu > 0 && qu <= 1))
				tsv_die(t, cq, "quantile \"%s\" is not in (0, 1]", tsv_str(t, cq));
		}
		if (cv >= 0)
			v = tsv_finite(t, cv);
		part_t *p = &q->part[pid];
		push(p, pair, q->spearman ? v : qu);
		if (q->have_top && rank <= q->top)
			push_qry(p, pair);
		if ((++q->rows & 0xfffff) == 0)
			progress("%s: %lld rows, %d partitions, %u pairs", tsv_name(t), (long long)q->rows,
				 q->np, pairtab_size(q->pairs));
	}
	free(jbuf);
	free(kc);
	tsv_close(t);
}

static const rq_t *cmp_ctx;

static int cmp_keys(const rq_t *q, int a, int b, int from, int to)
{
	for (int i = from; i < to; i++) {
		const char *x = q->part[a].key[i], *y = q->part[b].key[i];
		if (q->numeric[i]) {
			double u, v;
			parse_f64(x, &u);
			parse_f64(y, &v);
			if (u != v)
				return u < v ? -1 : 1;
		}
		int c = strcmp(x, y);
		if (c)
			return c;
	}
	return 0;
}

static int cmp_part(const void *x, const void *y)
{
	return cmp_keys(cmp_ctx, *(const int *)x, *(const int *)y, 0, cmp_ctx->nk);
}

/* Output order: groups, then partitions, by their key values (numerically
 * for columns whose values are all numbers, so layer 10 follows layer 9). */
static void order_partitions(rq_t *q)
{
	q->numeric = xmallocarray((size_t)q->nk, sizeof *q->numeric);
	for (int i = 0; i < q->nk; i++) {
		q->numeric[i] = 1;
		for (int p = 0; p < q->np && q->numeric[i]; p++) {
			double v;
			q->numeric[i] = parse_f64(q->part[p].key[i], &v) && isfinite(v);
		}
	}
	q->ord = xmallocarray((size_t)q->np, sizeof *q->ord);
	for (int p = 0; p < q->np; p++)
		q->ord[p] = p;
	cmp_ctx = q;
	qsort(q->ord, (size_t)q->np, sizeof *q->ord, cmp_part);
	q->gstart = xmallocarray((size_t)q->np + 1, sizeof *q->gstart);
	q->ng = 0;
	for (int i = 0; i < q->np; i++)
		if (i == 0 || cmp_keys(q, q->ord[i - 1], q->ord[i], 0, q->nw) != 0)
			q->gstart[q->ng++] = i;
	q->gstart[q->ng] = q->np;
}

/* With --within, every group must hold the same partitions: a partition
 * missing from one group is an upstream failure, not a smaller comparison. */
static void check_groups(const rq_t *q)
{
	char b1[512], b2[512];
	for (int g = 1; g < q->ng; g++) {
		int n0 = q->gstart[1] - q->gstart[0], n1 = q->gstart[g + 1] - q->gstart[g];
		for (int i = 0; i < n0 || i < n1; i++) {
			int a = i < n0 ? q->ord[q->gstart[0] + i] : -1;
			int b = i < n1 ? q->ord[q->gstart[g] + i] : -1;
			int c = a < 0 ? 1 : b < 0 ? -1 : cmp_keys(q, a, b, q->nw, q->nk);
			if (c == 0)
				continue;
			/* The smaller key is missing from the other group. */
			int have = c < 0 ? a : b, lacks = c < 0 ? q->ord[q->gstart[g]] : q->ord[q->gstart[0]];
			size_t k = 0;
			b2[0] = '\0';
			for (int j = 0; j < q->nw; j++)
				k += (size_t)snprintf(b2 + k, sizeof b2 - k, "%s%s=%s", j ? ", " : "",
						      q->kname[j], q->part[lacks].key[j]);
			die("%s: partition with no rows: %s (present in another group)", b2,
			    part_name(q, have, b1, sizeof b1));
		}
	}
}

/* A partition whose rows all rank below K has nothing to ask. */
static void check_queries(const rq_t *q)
{
	char buf[512];
	for (int p = 0; q->have_top && p < q->np; p++)
		if (q->part[p].nq == 0)
			die("partition %s: no rows with rank <= %lld (no query pairs)",
			    part_name(q, p, buf, sizeof buf), (long long)q->top);
}

/* Sort each partition's rows by pair id: lookups then stream through memory
 * in order, and a duplicate pair shows up as two equal neighbours. */
static void sort_partitions(rq_t *q)
{
	size_t max = 1;
	for (int p = 0; p < q->np; p++)
		max = q->part[p].n > max ? q->part[p].n : max;
	uint64_t *key = xmallocarray(max, sizeof *key), *tk = xmallocarray(max, sizeof *tk);
	uint32_t *idx = xmallocarray(max, sizeof *idx), *ti = xmallocarray(max, sizeof *ti);
	double *dv = xmallocarray(max, sizeof *dv);
	char buf[512];
	for (int pi = 0; pi < q->np; pi++) {
		part_t *p = &q->part[pi];
		for (size_t i = 0; i < p->n; i++) {
			key[i] = p->pair[i];
			idx[i] = (uint32_t)i;
		}
		radix64_sort_idx(key, idx, p->n, tk, ti);
		for (size_t i = 0; i < p->n; i++) {
			p->pair[i] = (uint32_t)key[i];
			dv[i] = p->val[idx[i]];
			if (i && key[i] == key[i - 1]) {
				uint32_t f, t;
				pairtab_pair(q->pairs, p->pair[i], &f, &t);
				free(key);
				free(tk);
				free(idx);
				free(ti);
				free(dv);
				die("partition %s: duplicate pair (from %s, to %s)", part_name(q, pi, buf, sizeof buf),
				    strtab_str(q->genes, f), strtab_str(q->genes, t));
			}
		}
		memcpy(p->val, dv, p->n * sizeof *dv);
		if (q->have_top) {
			for (size_t i = 0; i < p->nq; i++)
				key[i] = p->qry[i];
			radix64_sort(key, p->nq, 0, tk);
			for (size_t i = 0; i < p->nq; i++)
				p->qry[i] = (uint32_t)key[i];
		}
	}
	free(key);
	free(tk);
	free(idx);
	free(ti);
	free(dv);
}

/* --consecutive: the next layer of the same model = same group and same
 * values of every other --by column, smallest layer above this one. */
static void link_layers(rq_t *q)
{
	int lc = -1;
	for (int i = q->nw; i < q->nk; i++)
		if (strcmp(q->kname[i], "layer") == 0)
			lc = i;
	if (lc < 0)
		die_usage("--consecutive needs a column 'layer' in --by");
	char buf[512];
	for (int p = 0; p < q->np; p++)
		if (!parse_i64(q->part[p].key[lc], &q->part[p].layer))
			die("partition %s: layer \"%s\" is not an integer", part_name(q, p, buf, sizeof buf),
			    q->part[p].key[lc]);
	for (int g = 0; g < q->ng; g++)
		for (int i = q->gstart[g]; i < q->gstart[g + 1]; i++) {
			part_t *a = &q->part[q->ord[i]];
			for (int j = q->gstart[g]; j < q->gstart[g + 1]; j++) {
				part_t *b = &q->part[q->ord[j]];
				if (b->layer <= a->layer)
					continue;
				int same = 1;
				for (int k = q->nw; k < q->nk && same; k++)
					same = k == lc || strcmp(a->key[k], b->key[k]) == 0;
				if (same && (a->next < 0 || b->layer < q->part[a->next].layer))
					a->next = q->ord[j];
			}
		}
}

static void load_families(rq_t *q)
{
	int mc = -1;
	for (int i = q->nw; i < q->nk; i++)
		if (strcmp(q->kname[i], "model") == 0)
			mc = i;
	if (mc < 0)
		die_usage("--families needs a column 'model' in --by");
	tsv_t *t = tsv_open(q->families);
	int cm = tsv_col(t, "model"), cf = tsv_col(t, "family");
	strtab_t *models = strtab_new(), *fams = strtab_new();
	int64_t *fam = NULL;
	int64_t *line = NULL;
	while (tsv_next(t)) {
		const char *m = tsv_str(t, cm), *f = tsv_str(t, cf);
		if (!*m)
			tsv_die(t, cm, "empty model name");
		if (!*f)
			tsv_die(t, cf, "empty family name");
		int added;
		int64_t id = strtab_put(models, m, strlen(m), &added);
		int64_t fid = strtab_put(fams, f, strlen(f), NULL);
		if (added) {
			fam = xreallocarray(fam, (size_t)id + 1, sizeof *fam);
			line = xreallocarray(line, (size_t)id + 1, sizeof *line);
			fam[id] = fid;
			line[id] = tsv_line(t);
		} else if (fam[id] != fid) {
			tsv_die(t, cf, "model '%s' already has family '%s' (line %lld)", m,
				strtab_str(fams, fam[id]), (long long)line[id]);
		}
	}
	for (int p = 0; p < q->np; p++) {
		const char *m = q->part[p].key[mc];
		int64_t id = strtab_get(models, m, strlen(m));
		if (id < 0)
			die("%s: no family for model '%s'", q->families, m);
		q->part[p].family = fam[id];
	}
	free(fam);
	free(line);
	strtab_free(models);
	strtab_free(fams);
	tsv_close(t);
}

static void put_keys(wr_t *w, const rq_t *q, int p, int from, int to)
{
	for (int i = from; i < to; i++) {
		wr_puts(w, q->part[p].key[i]);
		wr_putc(w, '\t');
	}
}

static void header(wr_t *w, const rq_t *q, const char *pa, const char *pb, const char *rest)
{
	for (int i = 0; i < q->nw; i++) {
		wr_puts(w, q->kname[i]);
		wr_putc(w, '\t');
	}
	for (int i = q->nw; i < q->nk; i++)
		wr_printf(w, "%s%s\t", pa, q->kname[i]);
	for (int i = q->nw; pb && i < q->nk; i++)
		wr_printf(w, "%s%s\t", pb, q->kname[i]);
	wr_puts(w, rest);
	wr_putc(w, '\n');
}

typedef struct {
	int64_t n;
	double mean, med, min, max, z, p;
} agree_t;

/* x[0..n) sorted ascending. */
static void agree_stats(const double *x, size_t n, agree_t *s)
{
	s->n = (int64_t)n;
	if (n == 0) {
		s->mean = s->med = s->min = s->max = s->z = s->p = NAN;
		return;
	}
	/* Summing in sorted order makes the mean independent of row order. */
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += x[i];
	s->mean = sum / (double)n;
	s->med = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
	s->min = x[0];
	s->max = x[n - 1];
	size_t m;
	wilcoxon_sorted(x, n, 0.5, &s->z, &s->p, &m);
}

static int wanted(const rq_t *q, int p, int e)
{
	if (p == e)
		return 0;
	if (q->consecutive)
		return q->part[p].next == e;
	if (q->families)
		return q->part[p].family != q->part[e].family;
	return 1;
}

/* Default and --families: for each eval partition E, its quantiles are
 * scattered into a table indexed by pair id; each query partition's sorted
 * query ids then read that table in increasing address order. */
static void run_agreement(rq_t *q, wr_t *w)
{
	uint32_t U = pairtab_size(q->pairs);
	double *dense = xmallocarray(U ? U : 1, sizeof *dense);
	for (uint32_t i = 0; i < U; i++)
		dense[i] = NAN;
	size_t maxq = 1;
	for (int p = 0; p < q->np; p++)
		maxq = q->part[p].nq > maxq ? q->part[p].nq : maxq;
	uint64_t *kb = xmallocarray(maxq, sizeof *kb), *tk = xmallocarray(maxq, sizeof *tk);
	double *xb = xmallocarray(maxq, sizeof *xb);
	if (q->families)
		header(w, q, "query_", NULL, "n_eval\tcoherence");
	else
		header(w, q, "query_", "eval_", "n\tmean_quantile\tmedian_quantile\tmin_quantile\tmax_quantile\twilcoxon_z\twilcoxon_p");
	for (int g = 0; g < q->ng; g++) {
		int g0 = q->gstart[g], gn = q->gstart[g + 1] - g0;
		agree_t *res = xcalloc((size_t)gn * gn, sizeof *res);
		double *coh = xcalloc((size_t)gn, sizeof *coh);
		int64_t *ncoh = xcalloc((size_t)gn, sizeof *ncoh);
		for (int ei = 0; ei < gn; ei++) {
			int e = q->ord[g0 + ei];
			part_t *E = &q->part[e];
			for (size_t i = 0; i < E->n; i++)
				dense[E->pair[i]] = E->val[i];
			for (int pi = 0; pi < gn; pi++) {
				int p = q->ord[g0 + pi];
				if (!wanted(q, p, e))
					continue;
				part_t *P = &q->part[p];
				size_t m = 0;
				for (size_t i = 0; i < P->nq; i++) {
					double v = dense[P->qry[i]];
					if (v == v)
						xb[m++] = v;
				}
				if (q->families) {
					/* Only the median is needed: selection, no sort. */
					if (m) {
						double med = median_f64(xb, m);
						coh[pi] += -log10(2 * (med < 0.5 ? med : 0.5));
						ncoh[pi]++;
					}
					continue;
				}
				for (size_t i = 0; i < m; i++)
					kb[i] = f64_key(xb[i]);
				radix64_sort(kb, m, 0, tk);
				for (size_t i = 0; i < m; i++)
					xb[i] = key_f64(kb[i]);
				agree_stats(xb, m, &res[(size_t)pi * gn + ei]);
			}
			for (size_t i = 0; i < E->n; i++)
				dense[E->pair[i]] = NAN;
			progress("group %d/%d: eval partition %d/%d", g + 1, q->ng, ei + 1, gn);
		}
		for (int pi = 0; pi < gn; pi++) {
			int p = q->ord[g0 + pi];
			if (q->families) {
				put_keys(w, q, p, 0, q->nk);
				wr_i64(w, ncoh[pi]);
				wr_putc(w, '\t');
				wr_f64(w, ncoh[pi] ? coh[pi] / (double)ncoh[pi] : NAN);
				wr_putc(w, '\n');
				continue;
			}
			for (int ei = 0; ei < gn; ei++) {
				int e = q->ord[g0 + ei];
				if (!wanted(q, p, e))
					continue;
				const agree_t *s = &res[(size_t)pi * gn + ei];
				put_keys(w, q, p, 0, q->nk);
				put_keys(w, q, e, q->nw, q->nk);
				wr_i64(w, s->n);
				double v[] = { s->mean, s->med, s->min, s->max, s->z, s->p };
				for (int k = 0; k < 6; k++) {
					wr_putc(w, '\t');
					wr_f64(w, v[k]);
				}
				wr_putc(w, '\n');
			}
		}
		free(res);
		free(coh);
		free(ncoh);
	}
	free(dense);
	free(kb);
	free(tk);
	free(xb);
}

/* Doubled average ranks of x[0..n) into r2. */
static void rank_values(const uint64_t *k0, size_t n, uint32_t *r2, uint64_t *key, uint32_t *idx,
			uint64_t *tk, uint32_t *ti)
{
	for (size_t i = 0; i < n; i++) {
		key[i] = k0[i];
		idx[i] = (uint32_t)i;
	}
	radix64_sort_idx(key, idx, n, tk, ti);
	rank2_sorted(key, idx, n, r2);
}

/* --spearman. Each partition's values are ranked once over its pairs (in
 * the union of top-K sets when --top is given). When two partitions hold
 * the same pairs, those ranks serve as they are; otherwise the pairs
 * present in both are ranked again. Sums are exact integers. */
static void run_spearman(rq_t *q, wr_t *w)
{
	uint32_t U = pairtab_size(q->pairs);
	uint32_t *dense = xcalloc(U ? U : 1, sizeof *dense);
	uint32_t *mark = q->have_top ? xcalloc(U ? U : 1, sizeof *mark) : NULL;
	size_t max = 1;
	for (int p = 0; p < q->np; p++)
		max = q->part[p].n > max ? q->part[p].n : max;
	uint64_t *key = xmallocarray(max, sizeof *key), *tk = xmallocarray(max, sizeof *tk);
	uint64_t *k0 = xmallocarray(max, sizeof *k0);
	uint32_t *idx = xmallocarray(max, sizeof *idx), *ti = xmallocarray(max, sizeof *ti);
	uint32_t *xa = xmallocarray(max, sizeof *xa), *xbv = xmallocarray(max, sizeof *xbv);
	uint32_t *ra = xmallocarray(max, sizeof *ra), *rb = xmallocarray(max, sizeof *rb);
	if (max > INT32_MAX)
		die("a partition has more than %d rows", INT32_MAX);
	header(w, q, "a_", "b_", "n\tspearman");
	for (int g = 0; g < q->ng; g++) {
		int g0 = q->gstart[g], gn = q->gstart[g + 1] - g0;
		if (mark)
			for (int i = 0; i < gn; i++) {
				part_t *P = &q->part[q->ord[g0 + i]];
				for (size_t j = 0; j < P->nq; j++)
					mark[P->qry[j]] = (uint32_t)g + 1;
			}
		for (int i = 0; i < gn; i++) {
			part_t *P = &q->part[q->ord[g0 + i]];
			size_t k = 0;
			for (size_t j = 0; j < P->n; j++)
				if (!mark || mark[P->pair[j]] == (uint32_t)g + 1) {
					P->pair[k] = P->pair[j];
					k0[k++] = f64_key(P->val[j]);
				}
			P->n = k;
			P->r2 = xmallocarray(k ? k : 1, sizeof *P->r2);
			rank_values(k0, k, P->r2, key, idx, tk, ti);
			P->srr = dot_u32(P->r2, P->r2, k);
			free(P->val);
			P->val = NULL;
		}
		for (int i = 0; i < gn; i++) {
			int a = q->ord[g0 + i];
			part_t *A = &q->part[a];
			for (size_t j = 0; j < A->n; j++)
				dense[A->pair[j]] = A->r2[j];
			for (int jj = i + 1; jj < gn; jj++) {
				int b = q->ord[g0 + jj];
				if (q->consecutive && A->next != b)
					continue;
				part_t *B = &q->part[b];
				size_t cnt = 0;
				unsigned __int128 sab = 0;
				for (size_t j = 0; j < B->n; j++) {
					uint32_t r = dense[B->pair[j]];
					if (r) {
						cnt++;
						sab += (uint64_t)r * B->r2[j];
					}
				}
				double rho;
				if (cnt == A->n && cnt == B->n) {
					rho = spearman_r2(cnt, sab, A->srr, B->srr);
				} else {
					size_t m = 0;
					for (size_t j = 0; j < B->n; j++) {
						uint32_t r = dense[B->pair[j]];
						if (r) {
							xa[m] = r;
							xbv[m++] = B->r2[j];
						}
					}
					/* Ranks over the larger sets keep the order of the values,
					 * ties included, so ranking them again is ranking the values. */
					for (size_t j = 0; j < m; j++)
						k0[j] = xa[j];
					rank_values(k0, m, ra, key, idx, tk, ti);
					for (size_t j = 0; j < m; j++)
						k0[j] = xbv[j];
					rank_values(k0, m, rb, key, idx, tk, ti);
					rho = spearman_r2(m, dot_u32(ra, rb, m), dot_u32(ra, ra, m), dot_u32(rb, rb, m));
				}
				put_keys(w, q, a, 0, q->nk);
				put_keys(w, q, b, q->nw, q->nk);
				wr_i64(w, (long long)cnt);
				wr_putc(w, '\t');
				wr_f64(w, rho);
				wr_putc(w, '\n');
			}
			for (size_t j = 0; j < A->n; j++)
				dense[A->pair[j]] = 0;
			progress("group %d/%d: partition %d/%d", g + 1, q->ng, i + 1, gn);
		}
	}
	free(dense);
	free(mark);
	free(key);
	free(tk);
	free(k0);
	free(idx);
	free(ti);
	free(xa);
	free(xbv);
	free(ra);
	free(rb);
}

static void rq_free(rq_t *q)
{
	for (int p = 0; p < q->np; p++) {
		part_t *P = &q->part[p];
		for (int i = 0; i < q->nk; i++)
			free(P->key[i]);
		free(P->key);
		free(P->pair);
		free(P->val);
		free(P->qry);
		free(P->r2);
	}
	free(q->part);
	for (int i = 0; i < q->nk; i++)
		free(q->kname[i]);
	free(q->kname);
	free(q->numeric);
	free(q->ord);
	free(q->gstart);
	strtab_free(q->genes);
	strtab_free(q->pkey);
	pairtab_free(q->pairs);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	rq_t q = { 0 };
	const char *by = NULL, *within = NULL, *out = NULL;
	int verbose = 0, c;
	while ((c = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_BY: by = optarg; break;
		case OPT_WITHIN: within = optarg; break;
		case OPT_TOP:
			q.top = opt_int(optarg, "--top", 1, INT64_MAX);
			q.have_top = 1;
			break;
		case OPT_SPEARMAN: q.spearman = 1; break;
		case OPT_CONSEC: q.consecutive = 1; break;
		case OPT_FAMILIES: q.families = optarg; break;
		case 'o': out = optarg; break;
		case 'v': verbose = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!by)
		die_usage("--by COLS is required (e.g. --by model,layer)");
	if (!q.have_top && !q.spearman)
		die_usage("--top K is required (except with --spearman)");
	if (q.spearman && q.families)
		die_usage("--spearman and --families do not go together");
	if (q.consecutive && q.families)
		die_usage("--consecutive and --families do not go together");
	char **bn = split_list(by, &q.nb, "--by");
	char **wn = within ? split_list(within, &q.nw, "--within") : NULL;
	q.nk = q.nw + q.nb;
	q.kname = xmallocarray((size_t)q.nk, sizeof *q.kname);
	for (int i = 0; i < q.nw; i++)
		q.kname[i] = wn[i];
	for (int i = 0; i < q.nb; i++)
		q.kname[q.nw + i] = bn[i];
	free(bn);
	free(wn);
	static const char *reserved[] = { "from", "to", "value", "rank", "quantile" };
	for (int i = 0; i < q.nk; i++) {
		for (int j = 0; j < i; j++)
			if (strcmp(q.kname[i], q.kname[j]) == 0)
				die_usage("column '%s' given twice in --by/--within", q.kname[i]);
		for (size_t j = 0; j < sizeof reserved / sizeof *reserved; j++)
			if (strcmp(q.kname[i], reserved[j]) == 0)
				die_usage("'%s' cannot be a key column", q.kname[i]);
	}
	/* Check the key columns these modes rely on before reading anything. */
	int has_layer = 0, has_model = 0;
	for (int i = q.nw; i < q.nk; i++) {
		has_layer |= strcmp(q.kname[i], "layer") == 0;
		has_model |= strcmp(q.kname[i], "model") == 0;
	}
	if (q.consecutive && !has_layer)
		die_usage("--consecutive needs a column 'layer' in --by");
	if (q.families && !has_model)
		die_usage("--families needs a column 'model' in --by");
	progress_init(verbose);
	q.genes = strtab_new();
	q.pairs = pairtab_new();
	q.pkey = strtab_new();
	wr_t *w = wr_open(out, 0);
	if (optind == argc)
		read_input(&q, "-");
	for (int i = optind; i < argc; i++)
		read_input(&q, argv[i]);
	if (q.np == 0)
		die("%s: no data rows", optind == argc ? "<stdin>" : argv[optind]);
	order_partitions(&q);
	check_groups(&q);
	check_queries(&q);
	sort_partitions(&q);
	if (q.consecutive)
		link_layers(&q);
	if (q.families)
		load_families(&q);
	if (q.spearman)
		run_spearman(&q, w);
	else
		run_agreement(&q, w);
	progress_done();
	wr_close(w);
	rq_free(&q);
	return 0;
}
