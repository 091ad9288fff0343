#include "refnet.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "colspec.h"
#include "err.h"
#include "tsv.h"
#include "xalloc.h"

void refnet_opts_init(refnet_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->header = REFNET_HDR_AUTO;
	o->map_cols = "1,2";
}

int refnet_opt(refnet_opts_t *o, int code, const char *arg)
{
	switch (code) {
	case REFNET_OPT_REF: o->path = arg; break;
	case REFNET_OPT_COLS: o->cols = arg; break;
	case REFNET_OPT_NOHEADER: o->header = REFNET_HDR_NO; break;
	case REFNET_OPT_UNDIR: o->undirected = 1; break;
	case REFNET_OPT_MAP: o->map = arg; break;
	case REFNET_OPT_MAPCOLS: o->map_cols = arg; break;
	case REFNET_OPT_HEADER:
		if (strcmp(arg, "auto") == 0)
			o->header = REFNET_HDR_AUTO;
		else if (strcmp(arg, "yes") == 0)
			o->header = REFNET_HDR_YES;
		else if (strcmp(arg, "no") == 0)
			o->header = REFNET_HDR_NO;
		else
			die_usage("--ref-header: expected auto, yes or no (got '%s')", arg);
		break;
	default: return 0;
	}
	return 1;
}

idmap_t *refnet_map(const refnet_opts_t *o)
{
	return o->map ? idmap_read(o->map, o->map_cols) : NULL;
}

/* ---------------------------------------------------------------- reading */

static int is_position(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && strspn(s, "0123456789") == n;
}

/* 1 when some element of the comma list is a name, not a position. */
static int names_a_column(const char *list)
{
	if (!list)
		return 0;
	char *copy = xstrdup(list);
	int named = 0;
	for (char *s = copy, *tok; (tok = strsep(&s, ",")) != NULL;)
		named |= *tok && !is_position(tok);
	free(copy);
	return named;
}

static int has_field(char **f, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(f[i], name) == 0)
			return 1;
	return 0;
}

/* The reader's state between rows: columns, growing arrays. */
typedef struct rdstate {
	refnet_t *r;
	int c[2], *cc;
	int64_t cap;
	size_t clen, ccap;
	int line1_edge;      /* edge 0 came from line 1 */
} rdstate_t;

static void push_edge(rdstate_t *s, char **f)
{
	refnet_t *r = s->r;
	const char *a = f[s->c[0]], *b = f[s->c[1]];
	r->rows++;
	if (!*a || !*b) {
		r->empty++;
		return;
	}
	if (r->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		r->src = xreallocarray(r->src, (size_t)s->cap, sizeof *r->src);
		r->dst = xreallocarray(r->dst, (size_t)s->cap, sizeof *r->dst);
		if (r->ncarry)
			r->carry_off = xreallocarray(r->carry_off, xmul((size_t)s->cap, (size_t)r->ncarry),
						     sizeof *r->carry_off);
	}
	r->src[r->n] = (uint32_t)strtab_put(r->ids, a, strlen(a), NULL);
	r->dst[r->n] = (uint32_t)strtab_put(r->ids, b, strlen(b), NULL);
	for (int j = 0; j < r->ncarry; j++) {
		const char *v = f[s->cc[j]];
		size_t n = strlen(v) + 1;
		if (s->clen + n > s->ccap) {
			s->ccap = (s->clen + n) * 2;
			r->carry_buf = xrealloc(r->carry_buf, s->ccap);
		}
		memcpy(r->carry_buf + s->clen, v, n);
		r->carry_off[r->n * r->ncarry + j] = (int64_t)s->clen;
		s->clen += n;
	}
	r->n++;
}

/* Line 1's two columns are names of t (the header) from now on. */
static void take_header(tsv_t *t, char **line1)
{
	for (int i = 0; i < t->ncol; i++) {
		free(t->names[i]);
		t->names[i] = xstrdup(line1[i]);
	}
}

static void carry_names(refnet_t *r, const tsv_t *t, const int *cc)
{
	r->carry_names = xmallocarray((size_t)(r->ncarry ? r->ncarry : 1), sizeof *r->carry_names);
	for (int j = 0; j < r->ncarry; j++) {
		/* Header-less columns are called 1, 2, ...: a bare number
		 * would be a poor output column name. */
		char b[32];
		snprintf(b, sizeof b, "ref_%d", cc[j] + 1);
		r->carry_names[j] = xstrdup(r->header ? t->names[cc[j]] : b);
	}
}

/* auto with positions: line 1 is a header when neither of its ids recurs. */
static int line1_is_header(const refnet_t *r, const rdstate_t *s)
{
	if (!s->line1_edge)
		return 0;
	uint32_t x = r->src[0], y = r->dst[0];
	int64_t own = x == y ? 2 : 1;
	return r->deg[x] == own && r->deg[y] == own;
}

static void drop_first_edge(refnet_t *r)
{
	r->deg[r->src[0]] = r->deg[r->dst[0]] = 0;
	r->n--;
	r->rows--;
	memmove(r->src, r->src + 1, (size_t)r->n * sizeof *r->src);
	memmove(r->dst, r->dst + 1, (size_t)r->n * sizeof *r->dst);
	if (r->ncarry)
		memmove(r->carry_off, r->carry_off + r->ncarry,
			(size_t)r->n * (size_t)r->ncarry * sizeof *r->carry_off);
}

static void count_degrees(refnet_t *r)
{
	int64_t nid = strtab_size(r->ids);
	r->deg = xcalloc((size_t)(nid ? nid : 1), sizeof *r->deg);
	for (int64_t i = 0; i < r->n; i++) {
		r->deg[r->src[i]]++;
		r->deg[r->dst[i]]++;
	}
}

refnet_t *refnet_read(const refnet_opts_t *o, const char *carry)
{
	refnet_t *r = xcalloc(1, sizeof *r);
	rdstate_t s = { .r = r };
	/* Every header choice starts from the same reader: line 1 read as data,
	 * so that stdin needs no second look. */
	tsv_t *t = tsv_open_noheader(o->path);
	r->name = xstrdup(tsv_name(t));
	r->undirected = o->undirected;
	r->ids = strtab_new();
	if (!tsv_next(t))
		die("%s: empty input", r->name);
	char **line1 = xmallocarray((size_t)t->ncol, sizeof *line1);
	for (int i = 0; i < t->ncol; i++)
		line1[i] = xstrdup(tsv_str(t, i));
	const char *cols = o->cols;
	if (!cols)
		cols = has_field(line1, t->ncol, "from") && has_field(line1, t->ncol, "to") ? "from,to" : "1,2";
	int named = names_a_column(cols) || names_a_column(carry);
	int pending = o->header == REFNET_HDR_AUTO && !named;
	r->header = o->header == REFNET_HDR_YES || (o->header == REFNET_HDR_AUTO && named);
	if (r->header)
		take_header(t, line1);
	int *c;
	if (colspec_list(t, cols, &c) != 2)
		die("%s: --ref-cols needs two columns, source and target (got '%s')", r->name, cols);
	s.c[0] = c[0];
	s.c[1] = c[1];
	free(c);
	if (carry)
		r->ncarry = colspec_list(t, carry, &s.cc);
	if (!r->header) {
		s.line1_edge = *line1[s.c[0]] && *line1[s.c[1]];
		push_edge(&s, line1);
	}
	while (tsv_next(t))
		push_edge(&s, t->f);
	count_degrees(r);
	if (pending && line1_is_header(r, &s)) {
		drop_first_edge(r);
		r->header = 1;
		take_header(t, line1);
		warn("%s: line 1 (%s, %s) read as a header: neither id occurs on another line "
		     "(--ref-header yes or no to decide)", r->name, line1[s.c[0]], line1[s.c[1]]);
	}
	carry_names(r, t, s.cc);
	if (r->n == 0)
		die("%s: no reference edges (%lld data rows%s)", r->name, (long long)r->rows,
		    r->empty ? ", all with an empty id" : "");
	if (r->empty)
		warn("%s: %lld rows with an empty id skipped", r->name, (long long)r->empty);
	for (int i = 0; i < t->ncol; i++)
		free(line1[i]);
	free(line1);
	free(s.cc);
	tsv_close(t);
	return r;
}

void refnet_free(refnet_t *r)
{
	if (!r)
		return;
	for (int j = 0; j < r->ncarry; j++)
		free(r->carry_names[j]);
	free(r->carry_names);
	free(r->carry_off);
	free(r->carry_buf);
	free(r->src);
	free(r->dst);
	free(r->deg);
	strtab_free(r->ids);
	free(r->name);
	free(r);
}

int64_t refnet_id(const refnet_t *r, const char *s, size_t len)
{
	int64_t x = strtab_get(r->ids, s, len);
	return x >= 0 && r->deg[x] > 0 ? x : -1;
}

pairset_t *refnet_pairset(const refnet_t *r, int64_t *dups)
{
	pairset_t *e = pairset_new((size_t)r->n);
	int64_t d = 0;
	for (int64_t i = 0; i < r->n; i++) {
		uint32_t x = r->src[i], y = r->dst[i];
		int added = pairset_add(e, x, y, i);
		if (r->undirected && x != y)
			added |= pairset_add(e, y, x, i);
		d += !added;
	}
	if (dups)
		*dups = d;
	return e;
}

/* ---------------------------------------------------------------- genes */

refnet_genes_t *refnet_genes(const refnet_t *r, const idmap_t *map, const strtab_t *G)
{
	refnet_genes_t *g = xcalloc(1, sizeof *g);
	g->n = strtab_size(G);
	g->off = xmallocarray((size_t)g->n + 1, sizeof *g->off);
	int64_t *to2ref = NULL, cap = 1024, k = 0;
	if (map) {
		int64_t nt = strtab_size(map->to);
		to2ref = xmallocarray((size_t)(nt ? nt : 1), sizeof *to2ref);
		for (int64_t i = 0; i < nt; i++) {
			const char *s = strtab_str(map->to, i);
			to2ref[i] = refnet_id(r, s, strlen(s));
		}
	}
	g->ids = xmallocarray((size_t)cap, sizeof *g->ids);
	for (int64_t i = 0; i < g->n; i++) {
		const char *s = strtab_str(G, i);
		g->off[i] = k;
		const int64_t *to;
		int64_t m = map ? idmap_lookup(map, s, strlen(s), &to) : 1;
		for (int64_t j = 0; j < m; j++) {
			/* The map's TO ids are distinct, so are their reference ids. */
			int64_t x = map ? to2ref[to[j]] : refnet_id(r, s, strlen(s));
			if (x < 0)
				continue;
			if (k == cap) {
				cap *= 2;
				g->ids = xreallocarray(g->ids, (size_t)cap, sizeof *g->ids);
			}
			g->ids[k++] = (uint32_t)x;
		}
		g->matched += k > g->off[i];
	}
	g->off[g->n] = k;
	free(to2ref);
	return g;
}

void refnet_genes_free(refnet_genes_t *g)
{
	if (!g)
		return;
	free(g->off);
	free(g->ids);
	free(g);
}

/* die() with the signature of warn(), for a choice between the two. */
static void die_loud(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die_loud(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	die("%s", msg);
}

void refnet_check_match(const refnet_t *r, const idmap_t *map, int64_t matched, int64_t n,
			const char *what, const char *example)
{
	int64_t nref = 0, nid = strtab_size(r->ids);
	const char *rex = "";
	for (int64_t x = 0; x < nid; x++)
		if (r->deg[x] > 0) {
			if (!nref)
				rex = strtab_str(r->ids, x);
			nref++;
		}
	if (n == 0)
		return;
	if (matched == 0) {
		/* Fewer than 50 genes may honestly miss a network that covers
		 * a seventh of the genome; 50 or more almost never do. */
		void (*say)(const char *, ...) = n >= 50 ? die_loud : warn;
		if (map)
			say("%s: 0 of %lld %s map to an id of the reference (e.g. '%s', reference '%s'): "
			    "check --map-cols FROM,TO (FROM = the genes' id type, TO = the reference's)",
			    r->name, (long long)n, what, example, rex);
		else
			say("%s: 0 of %lld %s in the reference: Ensembl vs symbol? set MAP (--map) "
			    "(e.g. '%s', reference '%s')", r->name, (long long)n, what, example, rex);
		return;
	}
	int64_t base = n < nref ? n : nref;
	if (matched * 10 < base)
		warn("%s: only %lld of %lld %s in the reference (%lld reference genes): "
		     "id types differ? set MAP (--map)", r->name, (long long)matched, (long long)n,
		     what, (long long)nref);
}

/* ---------------------------------------------------------------- among */

typedef struct { uint32_t a, b; } ab_t;

/* Genes of each reference id: the inverse of g, as CSR. */
static int64_t *invert(const refnet_t *r, const refnet_genes_t *g, uint32_t **inv)
{
	int64_t nref = strtab_size(r->ids);
	int64_t *ioff = xcalloc((size_t)nref + 2, sizeof *ioff);
	for (int64_t k = 0; k < g->off[g->n]; k++)
		ioff[g->ids[k] + 2]++;
	for (int64_t x = 0; x < nref; x++)
		ioff[x + 2] += ioff[x + 1];
	*inv = xmallocarray((size_t)(g->off[g->n] ? g->off[g->n] : 1), sizeof **inv);
	for (int64_t i = 0; i < g->n; i++)
		for (int64_t k = g->off[i]; k < g->off[i + 1]; k++)
			(*inv)[ioff[g->ids[k] + 1]++] = (uint32_t)i;
	return ioff; /* id x's genes: inv[ioff[x] .. ioff[x + 1]) */
}

/* Appends (a, b) when new; 1 when it was. */
static int among_add(pairset_t *hit, ab_t **e, int64_t *n, int64_t *cap, uint32_t a, uint32_t b)
{
	if (!pairset_add(hit, a, b, 0))
		return 0;
	if (*n == *cap) {
		*cap *= 2;
		*e = xreallocarray(*e, (size_t)*cap, sizeof **e);
	}
	(*e)[(*n)++] = (ab_t){ a, b };
	return 1;
}

int64_t refnet_among(const refnet_t *r, const refnet_genes_t *g, int self, uint32_t **from,
		     uint32_t **to, refnet_among_stats_t *st)
{
	uint32_t *inv;
	int64_t *ioff = invert(r, g, &inv);
	pairset_t *hit = pairset_new_keys(0);
	int64_t n = 0, cap = 1024;
	ab_t *e = xmallocarray((size_t)cap, sizeof *e);
	refnet_among_stats_t s = { 0, 0, 0 };
	for (int64_t i = 0; i < r->n; i++) {
		uint32_t x = r->src[i], y = r->dst[i];
		if (ioff[x] == ioff[x + 1] || ioff[y] == ioff[y + 1]) {
			s.outside++;
			continue;
		}
		int added = 0, other = 0;
		for (int dir = 0; dir < 1 + r->undirected; dir++) {
			uint32_t u = dir ? y : x, v = dir ? x : y;
			for (int64_t p = ioff[u]; p < ioff[u + 1]; p++)
				for (int64_t q = ioff[v]; q < ioff[v + 1]; q++) {
					if (!self && inv[p] == inv[q])
						continue;
					other = 1;
					added |= among_add(hit, &e, &n, &cap, inv[p], inv[q]);
				}
		}
		s.self += !other;
		s.repeats += other && !added;
	}
	*from = xmallocarray((size_t)(n ? n : 1), sizeof **from);
	*to = xmallocarray((size_t)(n ? n : 1), sizeof **to);
	for (int64_t i = 0; i < n; i++) {
		(*from)[i] = e[i].a;
		(*to)[i] = e[i].b;
	}
	if (st)
		*st = s;
	free(e);
	pairset_free(hit);
	free(inv);
	free(ioff);
	return n;
}
