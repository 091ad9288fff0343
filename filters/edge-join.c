/* edge-join: label gene pairs with a reference network (TRRUST, DoRothEA,
 * any TSV of edges), optionally through a many-to-many id map, carry chosen
 * reference columns and the endpoints' embedding cosine; or summarise per
 * group the share of pairs that are reference edges against the
 * vocabulary-matched null, with Fisher's exact test.
 *
 * The reference is hashed once into a set of directed id pairs; pairs then
 * stream through, one hash lookup per endpoint (genes are resolved once and
 * cached) and one per mapped combination. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fisher.h"
#include "idmap.h"
#include "in.h"
#include "mat.h"
#include "opt.h"
#include "out.h"
#include "pairset.h"
#include "refnet.h"
#include "sort.h"
#include "strtab.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: edge-join --ref REF [--ref-cols A,B] [--ref-header auto|yes|no] [--undirected]\n"
	"                 [--map MAP [--map-cols FROM,TO]] [--among GENES] [--carry COL,...]\n"
	"                 [--embeddings EMB [--embedding-names NAMES]] [-o OUT] [PAIRS]\n"
	"       edge-join --summary --ref REF ... --vocab GENES [--by COL,...] [PAIRS]\n"
	"       edge-join --edges --ref REF ... --among GENES [-o OUT]\n"
	"\n"
	"PAIRS: TSV with columns from and to [stdin]. Labels each pair with in_ref\n"
	"(1/0), the carried reference columns and the endpoints' cosine; or, with\n"
	"--summary, per group: n_pairs n_mapped n_in_ref true_fraction null_fraction\n"
	"odds_ratio fisher_p [median_cosine background_cosine] [fisher_p_less fisher_p_two];\n"
	"or, with --edges, the\n"
	"reference's edges among GENES as from to (sorted, distinct, no self edges).\n"
	"\n"
	REFNET_USAGE
	"  --among GENES           only reference edges between two of these genes\n"
	"                          (one id per line, the pairs' id type) count\n"
	"  --carry COL,...         reference columns copied to matched pairs\n"
	"  --embeddings EMB        genes x d matrix (.npy, .akm, ...): column cosine\n"
	"  --embedding-names NAMES EMB's row ids, one per line [EMB's own row names]\n"
	"  --summary               one row per group instead of one per pair\n"
	"  --by COL,...            summary: group by these pair columns [one group]\n"
	"  --vocab GENES           summary: the model's vocabulary, one id per line\n"
	"  --tails                 summary: also Fisher's depletion (one-sided, less) and\n"
	"                          two-sided p, as columns fisher_p_less fisher_p_two\n"
	"  --edges                 write the reference's edges among --among GENES\n"
	"  -o, --output OUT        write to OUT (gzip when it ends in .gz) [stdout]\n"
	"  -h, --help              this text\n";

enum { OPT_CARRY = 256, OPT_EMB, OPT_EMBNAMES, OPT_SUMMARY, OPT_BY, OPT_VOCAB, OPT_AMONG,
       OPT_EDGES, OPT_TAILS };

static const struct option longopts[] = {
	REFNET_LONGOPTS,
	{ "carry", required_argument, NULL, OPT_CARRY },
	{ "embeddings", required_argument, NULL, OPT_EMB },
	{ "embedding-names", required_argument, NULL, OPT_EMBNAMES },
	{ "summary", no_argument, NULL, OPT_SUMMARY },
	{ "by", required_argument, NULL, OPT_BY },
	{ "vocab", required_argument, NULL, OPT_VOCAB },
	{ "among", required_argument, NULL, OPT_AMONG },
	{ "edges", no_argument, NULL, OPT_EDGES },
	{ "tails", no_argument, NULL, OPT_TAILS },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

/* ---------------------------------------------------------------- reference */

typedef struct {
	refnet_t *net;
	const char *name;
	/* (x, y) -> the first reference row (edge index) holding that edge. */
	pairset_t *edges;
	/* Per reference id: 1 = source of some edge, 2 = target of some edge.
	 * Most pairs are not edges, and most genes of a regulatory network
	 * are never a source: this answers them without touching the table. */
	unsigned char *role;
	int ncarry;
	char **carry_names;   /* output column names */
} ref_t;

static ref_t *ref_load(const refnet_opts_t *o, const char *carry)
{
	ref_t *r = xcalloc(1, sizeof *r);
	r->net = refnet_read(o, carry);
	r->name = r->net->name;
	r->ncarry = r->net->ncarry;
	r->carry_names = r->net->carry_names;
	int64_t dups;
	r->edges = refnet_pairset(r->net, &dups);
	int64_t nid = strtab_size(r->net->ids);
	r->role = xcalloc((size_t)(nid ? nid : 1), 1);
	size_t it = 0;
	uint32_t x, y;
	while (pairset_next(r->edges, &it, &x, &y, NULL)) {
		r->role[x] |= 1;
		r->role[y] |= 2;
	}
	if (dups && r->ncarry)
		warn("%s: %lld repeated edges: carried columns come from each edge's first row",
		     r->name, (long long)dups);
	return r;
}

static void ref_free(ref_t *r)
{
	pairset_free(r->edges);
	free(r->role);
	refnet_free(r->net);
	free(r);
}

static const char *carry_val(const ref_t *r, int64_t k, int j)
{
	return refnet_carry(r->net, k, j);
}

/* ---------------------------------------------------------------- embedding */

typedef struct {
	strtab_t *names;
	double *unit;   /* rows x d, each row scaled to unit length */
	char *ok;       /* 0 for an all-zero row: no direction, no cosine */
	int64_t rows, d;
} emb_t;

static emb_t *emb_load(const char *path, const char *names_path)
{
	akmat_t *m = mat_load(path);
	if (m->ndim != 2)
		die("%s: embeddings must be a 2-D genes x d matrix (it has %d dimensions)", m->src,
		    m->ndim);
	emb_t *e = xcalloc(1, sizeof *e);
	if (names_path) {
		e->names = strtab_read_lines(names_path);
		if (strtab_size(e->names) != m->rows)
			die("%s: %lld rows, but %s has %lld names", m->src, (long long)m->rows,
			    names_path, (long long)strtab_size(e->names));
	} else if (m->rownames) {
		e->names = strtab_new();
		for (int64_t i = 0; i < m->rows; i++) {
			int added;
			strtab_put(e->names, m->rownames[i], strlen(m->rownames[i]), &added);
			if (!added)
				die("%s: duplicate row name '%s'", m->src, m->rownames[i]);
		}
	} else {
		die("%s: no row names: give --embedding-names NAMES", m->src);
	}
	mat_check_finite(m);
	e->rows = m->rows;
	e->d = m->cols;
	e->unit = mat_f64(m);
	e->ok = xcalloc((size_t)(e->rows ? e->rows : 1), 1);
	for (int64_t i = 0; i < e->rows; i++) {
		double *v = e->unit + i * e->d, ss = 0;
		for (int64_t k = 0; k < e->d; k++)
			ss += v[k] * v[k];
		if (ss > 0) {
			double s = 1 / sqrt(ss);
			for (int64_t k = 0; k < e->d; k++)
				v[k] *= s;
			e->ok[i] = 1;
		}
	}
	mat_free(m);
	return e;
}

static void emb_free(emb_t *e)
{
	if (!e)
		return;
	strtab_free(e->names);
	free(e->unit);
	free(e->ok);
	free(e);
}

static double emb_cos(const emb_t *e, int64_t i, int64_t j)
{
	const double *u = e->unit + i * e->d, *v = e->unit + j * e->d;
	double s = 0;
	for (int64_t k = 0; k < e->d; k++)
		s += u[k] * v[k];
	return s;
}

/* ---------------------------------------------------------------- genes */

/* Genes of the pairs (label mode: discovered as they stream in; summary:
 * the vocabulary), each resolved once to its reference ids, whether it has
 * an id of the reference's type at all, and its embedding row. */
typedef struct {
	const ref_t *ref;
	const idmap_t *map;
	int64_t *to2ref;   /* map TO id -> reference id, or -1 */
	const emb_t *emb;
	const strtab_t *among; /* --among: only these genes have reference ids */
	strtab_t *names;
	int64_t n, cap;
	int64_t *off;      /* gene g's reference ids: ids[off[g] .. off[g] + cnt[g]) */
	int32_t *cnt;
	char *mapped;
	unsigned char *role; /* union of its reference ids' roles */
	int64_t *erow;     /* embedding row, or -1 */
	uint32_t *ids;
	int64_t nids, capids;
} genes_t;

static genes_t *genes_new(const ref_t *ref, const idmap_t *map, const emb_t *emb,
			  const strtab_t *among)
{
	genes_t *g = xcalloc(1, sizeof *g);
	g->ref = ref;
	g->among = among;
	g->map = map;
	g->emb = emb;
	g->names = strtab_new();
	if (map) {
		int64_t nt = strtab_size(map->to);
		g->to2ref = xmallocarray((size_t)nt, sizeof *g->to2ref);
		for (int64_t i = 0; i < nt; i++) {
			const char *s = strtab_str(map->to, i);
			g->to2ref[i] = refnet_id(ref->net, s, strlen(s));
		}
	}
	return g;
}

static void genes_free(genes_t *g)
{
	strtab_free(g->names);
	free(g->to2ref);
	free(g->off);
	free(g->cnt);
	free(g->mapped);
	free(g->role);
	free(g->erow);
	free(g->ids);
	free(g);
}

static void push_id(genes_t *g, uint32_t x)
{
	if (g->nids == g->capids) {
		g->capids = g->capids ? 2 * g->capids : 1024;
		g->ids = xreallocarray(g->ids, (size_t)g->capids, sizeof *g->ids);
	}
	g->ids[g->nids++] = x;
}

static int64_t emb_find(const emb_t *e, const char *s, size_t len)
{
	int64_t i = strtab_get(e->names, s, len);
	return i >= 0 && e->ok[i] ? i : -1;
}

static int64_t gene_get(genes_t *g, const char *s, size_t len)
{
	int added;
	int64_t id = strtab_put(g->names, s, len, &added);
	if (!added)
		return id;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 1024;
		g->off = xreallocarray(g->off, (size_t)g->cap, sizeof *g->off);
		g->cnt = xreallocarray(g->cnt, (size_t)g->cap, sizeof *g->cnt);
		g->mapped = xreallocarray(g->mapped, (size_t)g->cap, 1);
		g->role = xreallocarray(g->role, (size_t)g->cap, 1);
		g->erow = xreallocarray(g->erow, (size_t)g->cap, sizeof *g->erow);
	}
	g->n++;
	g->off[id] = g->nids;
	g->erow[id] = -1;
	int inside = !g->among || strtab_get(g->among, s, len) >= 0;
	if (!g->map) {
		int64_t x = refnet_id(g->ref->net, s, len);
		if (x >= 0 && inside)
			push_id(g, (uint32_t)x);
		g->mapped[id] = 1;
		if (g->emb)
			g->erow[id] = emb_find(g->emb, s, len);
	} else {
		const int64_t *to;
		int64_t k = idmap_lookup(g->map, s, len, &to);
		g->mapped[id] = k > 0;
		/* TO ids are distinct, so are their reference ids. */
		for (int64_t i = 0; i < k && inside; i++)
			if (g->to2ref[to[i]] >= 0)
				push_id(g, (uint32_t)g->to2ref[to[i]]);
		if (g->emb) {
			/* The embedding may be named by either id type: the gene's
			 * own id first, then its mapped ids in map file order. */
			int64_t r = emb_find(g->emb, s, len);
			for (int64_t i = 0; r < 0 && i < k; i++) {
				const char *t = strtab_str(g->map->to, to[i]);
				r = emb_find(g->emb, t, strlen(t));
			}
			g->erow[id] = r;
		}
	}
	g->cnt[id] = (int32_t)(g->nids - g->off[id]);
	g->role[id] = 0;
	for (int64_t i = g->off[id]; i < g->nids; i++)
		g->role[id] |= g->ref->role[g->ids[i]];
	return id;
}

/* The first reference row matching any mapped combination of the pair, or
 * -1 when the pair is not a reference edge. */
static int64_t pair_lookup(const genes_t *g, int64_t a, int64_t b)
{
	int32_t na = g->cnt[a], nb = g->cnt[b];
	int64_t best = -1, k;
	if (!(g->role[a] & 1) || !(g->role[b] & 2))
		return -1;
	/* Only now: while no gene has mapped, ids is NULL, and NULL + 0 is
	 * undefined in C (clang's UBSan; AFL++ found it: fuzz/regress/edgejoin-*). */
	const uint32_t *xa = g->ids + g->off[a], *xb = g->ids + g->off[b];
	for (int32_t i = 0; i < na; i++)
		for (int32_t j = 0; j < nb; j++)
			if (pairset_get(g->ref->edges, xa[i], xb[j], &k) && (best < 0 || k < best))
				best = k;
	return best;
}

static void report_unmapped(const genes_t *g, const char *what, const char *mapname)
{
	int64_t un = 0;
	for (int64_t i = 0; i < g->n; i++)
		un += !g->mapped[i];
	warn("%lld of %lld %s did not map through %s", (long long)un, (long long)g->n, what, mapname);
}

/* The loud id-type check, once the genes are known. */
static void check_genes(const genes_t *g, const char *what)
{
	int64_t matched = 0;
	for (int64_t i = 0; i < g->n; i++)
		matched += g->cnt[i] > 0;
	refnet_check_match(g->ref->net, g->map, matched, g->n, what,
			   g->n ? strtab_str(g->names, 0) : "");
}

/* ---------------------------------------------------------------- pair rows */

/* Rows of the pairs table are read raw (not split in place) so that label
 * mode can copy each line through unchanged. */
typedef struct {
	tsv_t *t;
	int cfrom, cto;
	int nby, *by;
	const char **fs;   /* field starts of the current row */
	size_t *fl;        /* field lengths */
	char *line;
	size_t len;
} pairs_t;

static pairs_t *pairs_open(const char *path, const char *by)
{
	pairs_t *p = xcalloc(1, sizeof *p);
	p->t = tsv_open(path);
	p->cfrom = tsv_col(p->t, "from");
	p->cto = tsv_col(p->t, "to");
	if (by)
		p->nby = tsv_cols(p->t, by, &p->by);
	p->fs = xmallocarray((size_t)p->t->ncol, sizeof *p->fs);
	p->fl = xmallocarray((size_t)p->t->ncol, sizeof *p->fl);
	return p;
}

static int pairs_next(pairs_t *p)
{
	p->line = rd_line(p->t->rd, &p->len);
	if (!p->line)
		return 0;
	/* One pass over the bytes: fields are short, a call per field costs
	 * more than the scan. */
	const char *s = p->line, *start = s, *end = p->line + p->len;
	int n = 0, ncol = p->t->ncol;
	for (; s < end; s++) {
		if (*s != '\t')
			continue;
		if (n < ncol) {
			p->fs[n] = start;
			p->fl[n] = (size_t)(s - start);
		}
		n++;
		start = s + 1;
	}
	if (n < ncol) {
		p->fs[n] = start;
		p->fl[n] = (size_t)(end - start);
	}
	n++;
	if (n != ncol)
		die("%s:%lld: expected %d fields, found %d", tsv_name(p->t),
		    (long long)tsv_line(p->t), ncol, n);
	return 1;
}

static void pairs_close(pairs_t *p)
{
	tsv_close(p->t);
	free(p->by);
	free(p->fs);
	free(p->fl);
	free(p);
}

static void check_name_free(const tsv_t *t, const char *name)
{
	if (tsv_col_opt(t, name) >= 0)
		die("%s: the pairs already have a column '%s', which the output adds", tsv_name(t),
		    name);
}

/* ---------------------------------------------------------------- label mode */

static void run_label(pairs_t *p, genes_t *g, const ref_t *r, const emb_t *e, wr_t *w)
{
	const tsv_t *t = p->t;
	check_name_free(t, "in_ref");
	for (int j = 0; j < r->ncarry; j++)
		check_name_free(t, r->carry_names[j]);
	if (e)
		check_name_free(t, "cosine");
	for (int i = 0; i < t->ncol; i++) {
		if (i)
			wr_putc(w, '\t');
		wr_puts(w, t->names[i]);
	}
	wr_puts(w, "\tin_ref");
	for (int j = 0; j < r->ncarry; j++) {
		wr_putc(w, '\t');
		wr_puts(w, r->carry_names[j]);
	}
	if (e)
		wr_puts(w, "\tcosine");
	wr_putc(w, '\n');
	while (pairs_next(p)) {
		int64_t a = gene_get(g, p->fs[p->cfrom], p->fl[p->cfrom]);
		int64_t b = gene_get(g, p->fs[p->cto], p->fl[p->cto]);
		int64_t k = pair_lookup(g, a, b);
		wr_write(w, p->line, p->len);
		wr_puts(w, k >= 0 ? "\t1" : "\t0");
		for (int j = 0; j < r->ncarry; j++) {
			wr_putc(w, '\t');
			if (k >= 0)
				wr_puts(w, carry_val(r, k, j));
		}
		if (e) {
			wr_putc(w, '\t');
			if (g->erow[a] >= 0 && g->erow[b] >= 0)
				wr_f64(w, emb_cos(e, g->erow[a], g->erow[b]));
		}
		wr_putc(w, '\n');
	}
}

/* ---------------------------------------------------------------- summary mode */

/* A group's non-self pairs as packed keys a * n + b, repeats included; they
 * are sorted and deduplicated once the input has ended. */
typedef struct {
	uint64_t *key;
	size_t nkey, capkey;
	int64_t npairs, nmapped, nin;
	double median_cos;
} group_t;

/* Sort and deduplicate the group's pairs, then count them; the cosines of
 * the distinct pairs with vectors go to cos (room for all pairs). */
static void group_finish(group_t *G, const genes_t *g, const emb_t *e, double *cos, int64_t *ncos)
{
	uint64_t n = (uint64_t)g->n;
	radix64_sort(G->key, G->nkey, 0, NULL);
	G->nkey = uniq_u64(G->key, G->nkey);
	G->npairs = (int64_t)G->nkey;
	*ncos = 0;
	for (size_t i = 0; i < G->nkey; i++) {
		int64_t a = (int64_t)(G->key[i] / n), b = (int64_t)(G->key[i] % n);
		if (g->mapped[a] && g->mapped[b]) {
			G->nmapped++;
			G->nin += pair_lookup(g, a, b) >= 0;
		}
		if (e && g->erow[a] >= 0 && g->erow[b] >= 0)
			cos[(*ncos)++] = emb_cos(e, g->erow[a], g->erow[b]);
	}
}

/* Ordered vocabulary pairs (a, b), a != b, both mapped, with some mapped
 * combination a reference edge. Found from the edges, expanded back to the
 * vocabulary through the inverse map, so the cost follows the edges, not
 * the n^2 pairs. */
static int64_t count_ref_pairs(const genes_t *g)
{
	int64_t nref = strtab_size(g->ref->net->ids);
	int64_t *ioff = xcalloc((size_t)nref + 1, sizeof *ioff);
	for (int64_t i = 0; i < g->n; i++)
		for (int32_t j = 0; j < g->cnt[i]; j++)
			ioff[g->ids[g->off[i] + j] + 1]++;
	for (int64_t x = 0; x < nref; x++)
		ioff[x + 1] += ioff[x];
	uint32_t *inv = xmallocarray((size_t)(ioff[nref] ? ioff[nref] : 1), sizeof *inv);
	int64_t *pos = xmallocarray((size_t)nref + 1, sizeof *pos);
	memcpy(pos, ioff, ((size_t)nref + 1) * sizeof *pos);
	for (int64_t i = 0; i < g->n; i++)
		for (int32_t j = 0; j < g->cnt[i]; j++)
			inv[pos[g->ids[g->off[i] + j]]++] = (uint32_t)i;
	pairset_t *hit = pairset_new_keys(0);
	size_t it = 0;
	uint32_t x, y;
	while (pairset_next(g->ref->edges, &it, &x, &y, NULL))
		for (int64_t i = ioff[x]; i < ioff[x + 1]; i++)
			for (int64_t j = ioff[y]; j < ioff[y + 1]; j++)
				if (inv[i] != inv[j])
					pairset_add(hit, inv[i], inv[j], 0);
	int64_t n = pairset_size(hit);
	pairset_free(hit);
	free(pos);
	free(inv);
	free(ioff);
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int64_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Mean cosine over ordered pairs of distinct vocabulary genes with a vector:
 * sum_{a != b} u_a . u_b = |sum u|^2 - sum |u|^2, so O(n d), not O(n^2 d). */
static double background_cosine(const genes_t *g, const emb_t *e)
{
	double *s = xcalloc((size_t)(e->d ? e->d : 1), sizeof *s), self = 0, tot = 0;
	int64_t m = 0;
	for (int64_t i = 0; i < g->n; i++) {
		if (g->erow[i] < 0)
			continue;
		const double *u = e->unit + g->erow[i] * e->d;
		double uu = 0;
		for (int64_t k = 0; k < e->d; k++) {
			s[k] += u[k];
			uu += u[k] * u[k];
		}
		self += uu;
		m++;
	}
	for (int64_t k = 0; k < e->d; k++)
		tot += s[k] * s[k];
	free(s);
	return m < 2 ? NAN : (tot - self) / ((double)m * (double)(m - 1));
}

static int tails;   /* --tails: depletion and two-sided p too */

static void run_summary(pairs_t *p, genes_t *g, const emb_t *e, const char *vocab_path,
			const char *out)
{
	int64_t nmap = 0;
	for (int64_t i = 0; i < g->n; i++)
		nmap += g->mapped[i];
	int64_t R = count_ref_pairs(g);
	double N = (double)nmap * (double)(nmap - 1);
	double bg = e ? background_cosine(g, e) : NAN;

	strtab_t *keys = strtab_new();
	group_t *gr = NULL;
	int64_t ngr = 0, capgr = 0;
	size_t kcap = 256;
	char *key = xmalloc(kcap);
	if (!p->nby) {
		gr = xcalloc(1, sizeof *gr);
		ngr = capgr = 1;
	}
	while (pairs_next(p)) {
		int64_t gi = 0;
		if (p->nby) {
			size_t klen = 0;
			for (int j = 0; j < p->nby; j++) {
				size_t fl = p->fl[p->by[j]];
				if (klen + fl + 1 > kcap) {
					kcap = 2 * (klen + fl + 1);
					key = xrealloc(key, kcap);
				}
				if (j)
					key[klen++] = '\t';
				memcpy(key + klen, p->fs[p->by[j]], fl);
				klen += fl;
			}
			int added;
			gi = strtab_put(keys, key, klen, &added);
			if (added) {
				if (ngr == capgr) {
					capgr = capgr ? 2 * capgr : 16;
					gr = xreallocarray(gr, (size_t)capgr, sizeof *gr);
				}
				memset(&gr[ngr++], 0, sizeof *gr);
			}
		}
		int64_t ab[2];
		for (int s = 0; s < 2; s++) {
			int c = s ? p->cto : p->cfrom;
			ab[s] = strtab_get(g->names, p->fs[c], p->fl[c]);
			if (ab[s] < 0)
				die("%s:%lld: column '%s': gene '%.*s' is not in the vocabulary %s",
				    tsv_name(p->t), (long long)tsv_line(p->t), p->t->names[c],
				    (int)(p->fl[c] > 100 ? 100 : p->fl[c]), p->fs[c], vocab_path);
		}
		group_t *G = &gr[gi];
		if (ab[0] == ab[1])
			continue;
		if (G->nkey == G->capkey) {
			G->capkey = G->capkey ? 2 * G->capkey : 256;
			G->key = xreallocarray(G->key, G->capkey, sizeof *G->key);
		}
		G->key[G->nkey++] = (uint64_t)ab[0] * (uint64_t)g->n + (uint64_t)ab[1];
	}
	size_t maxkey = 0;
	for (int64_t i = 0; i < ngr; i++)
		maxkey = gr[i].nkey > maxkey ? gr[i].nkey : maxkey;
	double *cos = e ? xmallocarray(maxkey ? maxkey : 1, sizeof *cos) : NULL;
	for (int64_t i = 0; i < ngr; i++) {
		int64_t ncos = 0;
		group_finish(&gr[i], g, e, cos, &ncos);
		gr[i].median_cos = e ? median(cos, ncos) : NAN;
		free(gr[i].key);
	}
	free(cos);
	/* Opened only now: every data error has had its chance to stop us. */
	wr_t *w = wr_open(out, 0);
	for (int j = 0; j < p->nby; j++) {
		wr_puts(w, p->t->names[p->by[j]]);
		wr_putc(w, '\t');
	}
	wr_puts(w, "n_pairs\tn_mapped\tn_in_ref\ttrue_fraction\tnull_fraction\todds_ratio\tfisher_p");
	if (e)
		wr_puts(w, "\tmedian_cosine\tbackground_cosine");
	if (tails)
		wr_puts(w, "\tfisher_p_less\tfisher_p_two");
	wr_putc(w, '\n');
	for (int64_t i = 0; i < ngr; i++) {
		group_t *G = &gr[i];
		/* The group's pairs against all other ordered pairs of the mapped
		 * vocabulary: [[in ref, not], [other in ref, other not]]. */
		int64_t a = G->nin, b = G->nmapped - G->nin, c = R - a;
		int64_t d = nmap * (nmap - 1) - G->nmapped - c;
		if (p->nby) {
			wr_puts(w, strtab_str(keys, i));
			wr_putc(w, '\t');
		}
		wr_i64(w, G->npairs);
		wr_putc(w, '\t');
		wr_i64(w, G->nmapped);
		wr_putc(w, '\t');
		wr_i64(w, G->nin);
		wr_putc(w, '\t');
		wr_f64(w, G->nmapped ? (double)G->nin / (double)G->nmapped : NAN);
		wr_putc(w, '\t');
		wr_f64(w, nmap >= 2 ? (double)R / N : NAN);
		wr_putc(w, '\t');
		wr_f64(w, fisher_odds_ratio(a, b, c, d));
		wr_putc(w, '\t');
		wr_f64(w, fisher_greater(a, b, c, d));
		if (e) {
			wr_putc(w, '\t');
			wr_f64(w, G->median_cos);
			wr_putc(w, '\t');
			wr_f64(w, bg);
		}
		if (tails) {
			wr_putc(w, '\t');
			wr_f64(w, fisher_less(a, b, c, d));
			wr_putc(w, '\t');
			wr_f64(w, fisher_two_sided(a, b, c, d));
		}
		wr_putc(w, '\n');
	}
	wr_close(w);
	free(gr);
	free(key);
	strtab_free(keys);
}

/* ---------------------------------------------------------------- edges mode */

static const strtab_t *cmp_names;
static const uint32_t *cmp_from, *cmp_to;

/* By from, then to, as strings: the order of LC_ALL=C sort on "from\tto"
 * lines, since a tab sorts before every character of an id. */
static int cmp_edge(const void *p, const void *q)
{
	int64_t i = *(const int64_t *)p, j = *(const int64_t *)q;
	int c = strcmp(strtab_str(cmp_names, cmp_from[i]), strtab_str(cmp_names, cmp_from[j]));
	if (!c)
		c = strcmp(strtab_str(cmp_names, cmp_to[i]), strtab_str(cmp_names, cmp_to[j]));
	return c;
}

static void run_edges(const ref_t *r, const idmap_t *map, const strtab_t *among, const char *out)
{
	refnet_genes_t *g = refnet_genes(r->net, map, among);
	refnet_check_match(r->net, map, g->matched, g->n, "genes of --among",
			   g->n ? strtab_str(among, 0) : "");
	uint32_t *ef, *et;
	int64_t n = refnet_among(r->net, g, 0, &ef, &et, NULL);
	int64_t *ord = xmallocarray((size_t)(n ? n : 1), sizeof *ord);
	for (int64_t i = 0; i < n; i++)
		ord[i] = i;
	cmp_names = among;
	cmp_from = ef;
	cmp_to = et;
	qsort(ord, (size_t)n, sizeof *ord, cmp_edge);
	wr_t *w = wr_open(out, 0);
	wr_puts(w, "from\tto\n");
	for (int64_t i = 0; i < n; i++) {
		wr_puts(w, strtab_str(among, ef[ord[i]]));
		wr_putc(w, '\t');
		wr_puts(w, strtab_str(among, et[ord[i]]));
		wr_putc(w, '\n');
	}
	wr_close(w);
	free(ord);
	free(ef);
	free(et);
	refnet_genes_free(g);
}

/* ---------------------------------------------------------------- main */

/* Label mode writes while it reads, so a data error can end the program with
 * the output open: a static keeps it reachable for leak checkers then. */
static wr_t *out_w;
/* The same for the gene table: --summary's reader can die with it in use
 * (valgrind counted it definitely lost: tests/bad-input.bats under make valgrind). */
static genes_t *genes_g;

int main(int argc, char **argv)
{
	err_init(argv[0]);
	refnet_opts_t ro;
	refnet_opts_init(&ro);
	const char *carry = NULL, *emb_path = NULL, *emb_names = NULL, *by = NULL, *vocab = NULL;
	const char *out = NULL, *among_path = NULL;
	int summary = 0, edges = 0, c;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (refnet_opt(&ro, c, optarg))
			continue;
		switch (c) {
		case OPT_CARRY: carry = optarg; break;
		case OPT_EMB: emb_path = optarg; break;
		case OPT_EMBNAMES: emb_names = optarg; break;
		case OPT_SUMMARY: summary = 1; break;
		case OPT_TAILS: tails = 1; break;
		case OPT_BY: by = optarg; break;
		case OPT_VOCAB: vocab = optarg; break;
		case OPT_AMONG: among_path = optarg; break;
		case OPT_EDGES: edges = 1; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!ro.path)
		die_usage("--ref REF is required");
	if (argc - optind > 1)
		die_usage("at most one PAIRS file");
	if (emb_names && !emb_path)
		die_usage("--embedding-names needs --embeddings");
	if (summary && !vocab)
		die_usage("--summary needs --vocab GENES (the vocabulary defines the null)");
	if (summary && carry)
		die_usage("--carry applies to labelled pairs, not to --summary");
	if (!summary && tails)
		die_usage("--tails applies only with --summary");
	if (!summary && (by || vocab))
		die_usage("--by and --vocab apply only with --summary");
	if (edges && (summary || carry || emb_path || optind < argc))
		die_usage("--edges reads no pairs: it takes only reference options and --among");
	if (edges && !among_path)
		die_usage("--edges needs --among GENES");
	const char *pairs_path = optind < argc ? argv[optind] : "-";

	ref_t *ref = ref_load(&ro, carry);
	idmap_t *map = refnet_map(&ro);
	strtab_t *among = among_path ? strtab_read_lines(among_path) : NULL;
	if (edges) {
		run_edges(ref, map, among, out);
		strtab_free(among);
		idmap_free(map);
		ref_free(ref);
		return 0;
	}
	emb_t *emb = emb_path ? emb_load(emb_path, emb_names) : NULL;
	genes_t *g = genes_g = genes_new(ref, map, emb, among);
	if (summary) {
		strtab_t *v = strtab_read_lines(vocab);
		for (int64_t i = 0; i < strtab_size(v); i++) {
			const char *s = strtab_str(v, i);
			gene_get(g, s, strlen(s));
		}
		strtab_free(v);
		if (map)
			report_unmapped(g, "vocabulary genes", ro.map);
		check_genes(g, "vocabulary genes");
	}
	pairs_t *p = pairs_open(pairs_path, by);
	if (summary) {
		run_summary(p, g, emb, vocab, out);
	} else {
		out_w = wr_open(out, 0);
		run_label(p, g, ref, emb, out_w);
		check_genes(g, "pair genes");
		wr_close(out_w);
	}
	if (map && !summary)
		report_unmapped(g, "pair genes", ro.map);
	pairs_close(p);
	genes_free(genes_g);
	emb_free(emb);
	strtab_free(among);
	idmap_free(map);
	ref_free(ref);
	return 0;
}
