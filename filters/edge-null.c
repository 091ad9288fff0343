/* edge-null: is a score's AUROC against a reference network more than the
 * network's degree structure gives? Observed AUROC, and a null from
 * randomised references: curveball (every source's out-degree and every
 * target's in-degree kept) or labels shuffled within each source. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "opt.h"
#include "out.h"
#include "pairset.h"
#include "sort.h"
#include "refnet.h"
#include "rng.h"
#include "stats.h"
#include "strtab.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: edge-null --score COL --ref REF [--ref-cols A,B] [--ref-header auto|yes|no]\n"
	"                 [--undirected] [--map MAP [--map-cols FROM,TO]] --universe GENES\n"
	"                 --method curveball|shuffle --draws N [--seed S] [--trades T]\n"
	"                 [--null-out FILE] [--edges-out FILE] [-o OUT] [FILE]\n"
	"\n"
	"FILE: scored directed pairs (columns from, to, and the score). A pair is positive\n"
	"when the reference has the edge. Output: auroc_obs null_mean null_sd z p, with\n"
	"p = (1 + #(null >= observed)) / (1 + N).\n"
	"\n"
	"  --score COL        score column (NA rows skipped)\n"
	REFNET_USAGE
	"  --universe GENES   the genes, one per line; pairs and edges must use them\n"
	"  --method M         curveball: degree-preserving randomised references;\n"
	"                     shuffle: labels permuted within each source\n"
	"  --draws N          number of null draws\n"
	"  --seed S           seed [1]\n"
	"  --trades T         curveball trades per draw [5 x number of edges]\n"
	"  --null-out FILE    one row per draw: draw auroc changed_fraction\n"
	"  --edges-out FILE   curveball: every draw's edges (draw from to), for checks\n"
	"  -o FILE            write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help         this text\n";

enum { OPT_SCORE = 256, OPT_UNIV, OPT_METHOD, OPT_DRAWS,
       OPT_TRADES, OPT_NULLOUT, OPT_EDGESOUT };

static const struct option longopts[] = {
	{ "score", required_argument, NULL, OPT_SCORE },
	REFNET_LONGOPTS,
	{ "universe", required_argument, NULL, OPT_UNIV },
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "draws", required_argument, NULL, OPT_DRAWS },
	OPT_LONG_SEED,
	{ "trades", required_argument, NULL, OPT_TRADES },
	{ "null-out", required_argument, NULL, OPT_NULLOUT },
	{ "edges-out", required_argument, NULL, OPT_EDGESOUT },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

enum { M_CURVEBALL = 1, M_SHUFFLE = 2 };

typedef struct conf {
	refnet_opts_t ref;
	const char *score, *universe, *out, *nullout, *edgesout;
	int method;
	int64_t draws, trades;
	uint64_t seed;
} conf_t;

/* ---- the reference as adjacency lists (CSR): degrees never change ---- */
typedef struct graph {
	int64_t nv, ne;
	int64_t *off;   /* nv + 1 */
	int64_t *adj;   /* ne targets */
	int64_t *src;   /* sources with at least one edge */
	int64_t nsrc;
} graph_t;

/* The reference's edges among the universe (through the map when given),
 * without self edges, as CSR adjacency in the reference's row order, and
 * as a set of (from, to) universe ids. */
static void read_ref(const conf_t *c, const strtab_t *U, graph_t *G, pairset_t **E)
{
	refnet_t *r = refnet_read(&c->ref, NULL);
	idmap_t *map = refnet_map(&c->ref);
	refnet_genes_t *g = refnet_genes(r, map, U);
	refnet_check_match(r, map, g->matched, g->n, "universe genes", strtab_str(U, 0));
	uint32_t *ef, *et;
	refnet_among_stats_t st;
	int64_t nv = strtab_size(U), n = refnet_among(r, g, 0, &ef, &et, &st);
	if (st.outside || st.self || st.repeats)
		warn("%s: %lld edges kept; dropped %lld with a gene outside the universe, %lld self edges, %lld duplicates",
		     r->name, (long long)n, (long long)st.outside, (long long)st.self, (long long)st.repeats);
	if (n == 0)
		die("%s: no reference edge among the universe's genes", r->name);
	*E = pairset_new_keys((size_t)n);
	for (int64_t i = 0; i < n; i++)
		pairset_add(*E, ef[i], et[i], 0);
	G->nv = nv;
	G->ne = n;
	G->off = xcalloc((size_t)nv + 1, sizeof *G->off);
	for (int64_t i = 0; i < n; i++)
		G->off[ef[i] + 1]++;
	for (int64_t v = 0; v < nv; v++)
		G->off[v + 1] += G->off[v];
	G->adj = xmallocarray((size_t)n, sizeof *G->adj);
	int64_t *pos = xmallocarray((size_t)nv + 1, sizeof *pos);
	memcpy(pos, G->off, ((size_t)nv + 1) * sizeof *pos);
	for (int64_t i = 0; i < n; i++)
		G->adj[pos[ef[i]]++] = et[i];
	free(pos);
	G->src = xmallocarray((size_t)nv, sizeof *G->src);
	G->nsrc = 0;
	for (int64_t v = 0; v < nv; v++)
		if (G->off[v + 1] > G->off[v])
			G->src[G->nsrc++] = v;
	free(ef);
	free(et);
	refnet_genes_free(g);
	idmap_free(map);
	refnet_free(r);
}

/* One curveball trade between sources a and b (directed, no self edges):
 * targets held by only one of them, other than the partner itself (a -> b
 * must stay with a, or b would get a self edge), are pooled, shuffled and
 * dealt back in the same numbers. Degrees in and out are unchanged. */
static void trade(graph_t *G, int64_t a, int64_t b, int64_t *mark, int64_t *stamp, int64_t *pool,
		  int64_t *keep, rng_t *rng)
{
	int64_t *A = G->adj + G->off[a], na = G->off[a + 1] - G->off[a];
	int64_t *B = G->adj + G->off[b], nb = G->off[b + 1] - G->off[b];
	int64_t np = 0, nka = 0, nkb = 0;
	(*stamp)++;
	for (int64_t i = 0; i < nb; i++)
		mark[B[i]] = *stamp;
	for (int64_t i = 0; i < na; i++) {
		if (mark[A[i]] == *stamp || A[i] == b)
			keep[nka++] = A[i];
		else
			pool[np++] = A[i];
	}
	int64_t nA = np;
	(*stamp)++;
	for (int64_t i = 0; i < na; i++)
		mark[A[i]] = *stamp;
	for (int64_t i = 0; i < nb; i++) {
		if (mark[B[i]] == *stamp || B[i] == a)
			keep[na + nkb++] = B[i];
		else
			pool[np++] = B[i];
	}
	if (np == 0)
		return;
	rng_shuffle_i64(rng, pool, np);
	memcpy(A, keep, (size_t)nka * sizeof *A);
	memcpy(A + nka, pool, (size_t)nA * sizeof *A);
	memcpy(B, keep + na, (size_t)nkb * sizeof *B);
	memcpy(B + nkb, pool + nA, (size_t)(np - nA) * sizeof *B);
}

static void run(const conf_t *c, const char *path)
{
	strtab_t *U = strtab_read_lines(c->universe);
	int64_t nv = strtab_size(U);
	/* Said here, naming the universe file: otherwise the reference reader
	 * reports every edge dropped and then fails naming the reference. */
	if (nv == 0)
		die("%s: empty universe (no gene ids)", c->universe);
	graph_t G;
	pairset_t *Eobs;
	read_ref(c, U, &G, &Eobs);
	if (c->method == M_CURVEBALL && G.nsrc < 2)
		die("%s: curveball needs at least two sources with edges (found %lld)", c->ref.path,
		    (long long)G.nsrc);

	/* scored pairs */
	tsv_t *t = tsv_open(path);
	int cf = tsv_col(t, "from"), ct = tsv_col(t, "to"), cs = tsv_col(t, c->score);
	int64_t n = 0, cap = 0, skipped = 0, total = 0;
	int64_t *pf = NULL, *pt = NULL;
	double *ps = NULL;
	while (tsv_next(t)) {
		total++;
		double v;
		if (!tsv_num_na(t, cs, &v)) {
			skipped++;
			continue;
		}
		if (!isfinite(v))
			tsv_die(t, cs, "\"%s\" is not a finite number", tsv_str(t, cs));
		const char *a = tsv_str(t, cf), *b = tsv_str(t, ct);
		int64_t u = strtab_get(U, a, strlen(a)), w = strtab_get(U, b, strlen(b));
		if (u < 0)
			tsv_die(t, cf, "gene '%.60s' is not in the universe %s", a, c->universe);
		if (w < 0)
			tsv_die(t, ct, "gene '%.60s' is not in the universe %s", b, c->universe);
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			pf = xreallocarray(pf, (size_t)cap, sizeof *pf);
			pt = xreallocarray(pt, (size_t)cap, sizeof *pt);
			ps = xreallocarray(ps, (size_t)cap, sizeof *ps);
		}
		pf[n] = u;
		pt[n] = w;
		ps[n++] = v;
	}
	if (total == 0)
		die("%s: header only, no data rows", tsv_name(t));
	if (skipped)
		warn("%s: %lld rows with NA score skipped", tsv_name(t), (long long)skipped);

	/* pairs in ascending score order, once */
	int64_t *ord = xmallocarray((size_t)(n ? n : 1), sizeof *ord);
	argsort_f64(ps, n, ord);
	double *s = xmallocarray((size_t)(n ? n : 1), sizeof *s);
	uint32_t *to = xmallocarray((size_t)(n ? n : 1), sizeof *to);
	int64_t *from = xmallocarray((size_t)(n ? n : 1), sizeof *from);
	unsigned char *yobs = xmalloc((size_t)(n ? n : 1)), *y = xmalloc((size_t)(n ? n : 1));
	int64_t npos = 0;
	for (int64_t i = 0; i < n; i++) {
		s[i] = ps[ord[i]];
		from[i] = pf[ord[i]];
		to[i] = (uint32_t)pt[ord[i]];
		yobs[i] = (unsigned char)pairset_has(Eobs, (uint32_t)from[i], to[i]);
		npos += yobs[i];
	}
	free(pf);
	free(pt);
	free(ps);
	if (npos == 0 || npos == n)
		die("%s: %lld of %lld scored pairs are reference edges: the AUROC needs both classes",
		    tsv_name(t), (long long)npos, (long long)n);
	double aobs = auroc_sorted(s, yobs, NULL, n);

	rng_t rng;
	rng_seed(&rng, c->seed);
	double *null = xmallocarray((size_t)c->draws, sizeof *null);
	double *changed = xmallocarray((size_t)c->draws, sizeof *changed);
	int64_t ge = 0;
	wr_t *ew = c->edgesout ? wr_open(c->edgesout, 0) : NULL;
	if (ew)
		wr_puts(ew, "draw\tfrom\tto\n");
	if (c->method == M_CURVEBALL) {
		int64_t *adj0 = xmallocarray((size_t)G.ne, sizeof *adj0);
		memcpy(adj0, G.adj, (size_t)G.ne * sizeof *adj0);
		int64_t maxdeg = 0;
		for (int64_t v = 0; v < nv; v++)
			if (G.off[v + 1] - G.off[v] > maxdeg)
				maxdeg = G.off[v + 1] - G.off[v];
		int64_t *mark = xcalloc((size_t)nv, sizeof *mark), stamp = 0;
		int64_t *pool = xmallocarray((size_t)(2 * maxdeg + 1), sizeof *pool);
		int64_t *keep = xmallocarray((size_t)(2 * maxdeg + 1), sizeof *keep);
		pairset_t *Ed = pairset_new_keys((size_t)G.ne);
		int64_t T = c->trades > 0 ? c->trades : 5 * G.ne;
		for (int64_t d = 0; d < c->draws; d++) {
			/* every draw starts from the observed reference: draws are
			 * independent given the seed */
			memcpy(G.adj, adj0, (size_t)G.ne * sizeof *adj0);
			for (int64_t k = 0; k < T; k++) {
				int64_t i = (int64_t)rng_below(&rng, (uint64_t)G.nsrc);
				int64_t j = (int64_t)rng_below(&rng, (uint64_t)G.nsrc - 1);
				if (j >= i)
					j++;
				trade(&G, G.src[i], G.src[j], mark, &stamp, pool, keep, &rng);
			}
			pairset_clear(Ed);
			int64_t kept = 0;
			for (int64_t v = 0; v < nv; v++)
				for (int64_t e = G.off[v]; e < G.off[v + 1]; e++) {
					uint32_t a = (uint32_t)v, b = (uint32_t)G.adj[e];
					pairset_add(Ed, a, b, 0);
					kept += pairset_has(Eobs, a, b);
					if (ew) {
						wr_i64(ew, d);
						wr_putc(ew, '\t');
						wr_puts(ew, strtab_str(U, v));
						wr_putc(ew, '\t');
						wr_puts(ew, strtab_str(U, G.adj[e]));
						wr_putc(ew, '\n');
					}
				}
			changed[d] = 1.0 - (double)kept / (double)G.ne;
			for (int64_t i = 0; i < n; i++)
				y[i] = (unsigned char)pairset_has(Ed, (uint32_t)from[i], to[i]);
			/* the number of positives among the scored pairs can change from
			 * draw to draw (curveball), so compare AUROCs, not U */
			null[d] = auroc_sorted(s, y, NULL, n);
			ge += null[d] >= aobs; /* NaN compares false */
		}
		free(adj0);
		free(mark);
		free(pool);
		free(keep);
		pairset_free(Ed);
	} else {
		/* positions of each source's pairs, grouped */
		int64_t *cnt = xcalloc((size_t)nv + 1, sizeof *cnt);
		for (int64_t i = 0; i < n; i++)
			cnt[from[i] + 1]++;
		for (int64_t v = 0; v < nv; v++)
			cnt[v + 1] += cnt[v];
		int64_t *pos = xmallocarray((size_t)(n ? n : 1), sizeof *pos);
		int64_t *fill = xmallocarray((size_t)nv + 1, sizeof *fill);
		memcpy(fill, cnt, ((size_t)nv + 1) * sizeof *fill);
		for (int64_t i = 0; i < n; i++)
			pos[fill[from[i]]++] = i;
		unsigned char *lab = xmalloc((size_t)(n ? n : 1));
		for (int64_t d = 0; d < c->draws; d++) {
			for (int64_t i = 0; i < n; i++)
				lab[i] = yobs[pos[i]];
			for (int64_t v = 0; v < nv; v++)
				rng_shuffle_u8(&rng, lab + cnt[v], cnt[v + 1] - cnt[v]);
			int64_t moved = 0;
			for (int64_t i = 0; i < n; i++) {
				y[pos[i]] = lab[i];
				moved += yobs[pos[i]] && !lab[i];
			}
			changed[d] = (double)moved / (double)npos;
			/* the number of positives among the scored pairs can change from
			 * draw to draw (curveball), so compare AUROCs, not U */
			null[d] = auroc_sorted(s, y, NULL, n);
			ge += null[d] >= aobs; /* NaN compares false */
		}
		free(cnt);
		free(pos);
		free(fill);
		free(lab);
	}
	if (ew)
		wr_close(ew);

	/* summary: mean and sample sd (ddof 1) of the defined null values */
	double sum = 0;
	int64_t m = 0;
	for (int64_t d = 0; d < c->draws; d++)
		if (!isnan(null[d])) {
			sum += null[d];
			m++;
		}
	double mean = m ? sum / (double)m : NAN, ss = 0;
	for (int64_t d = 0; d < c->draws; d++)
		if (!isnan(null[d]))
			ss += (null[d] - mean) * (null[d] - mean);
	double sd = m > 1 ? sqrt(ss / (double)(m - 1)) : NAN;
	double z = sd > 0 ? (aobs - mean) / sd : NAN;
	double p = (1.0 + (double)ge) / (1.0 + (double)c->draws);
	if (m < c->draws)
		warn("%lld draws left a single class among the scored pairs (AUROC undefined; counted as not >= observed)",
		     (long long)(c->draws - m));

	if (c->nullout) {
		wr_t *nw = wr_open(c->nullout, 0);
		wr_puts(nw, "draw\tauroc\tchanged_fraction\n");
		for (int64_t d = 0; d < c->draws; d++) {
			wr_i64(nw, d);
			wr_putc(nw, '\t');
			wr_f64_na(nw, null[d]);
			wr_putc(nw, '\t');
			wr_f64(nw, changed[d]);
			wr_putc(nw, '\n');
		}
		wr_close(nw);
	}
	wr_t *w = wr_open(c->out, 0);
	wr_puts(w, "auroc_obs\tnull_mean\tnull_sd\tz\tp\n");
	double v[5] = { aobs, mean, sd, z, p };
	for (int k = 0; k < 5; k++) {
		if (k)
			wr_putc(w, '\t');
		wr_f64_na(w, v[k]);
	}
	wr_putc(w, '\n');
	wr_close(w);
	free(null);
	free(changed);
	free(ord);
	free(s);
	free(to);
	free(from);
	free(yobs);
	free(y);
	free(G.off);
	free(G.adj);
	free(G.src);
	pairset_free(Eobs);
	strtab_free(U);
	tsv_close(t);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	conf_t c = { .seed = 1 };
	refnet_opts_init(&c.ref);
	int ch;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (refnet_opt(&c.ref, ch, optarg))
			continue;
		switch (ch) {
		case OPT_SCORE: c.score = optarg; break;
		case OPT_UNIV: c.universe = optarg; break;
		case OPT_METHOD:
			if (strcmp(optarg, "curveball") == 0)
				c.method = M_CURVEBALL;
			else if (strcmp(optarg, "shuffle") == 0)
				c.method = M_SHUFFLE;
			else
				die_usage("--method: unknown method '%s' (curveball, shuffle)", optarg);
			break;
		case OPT_DRAWS: c.draws = opt_int(optarg, "--draws", 1, 100000000); break;
		case OPT_STD_SEED: c.seed = opt_seed(optarg); break;
		case OPT_TRADES: c.trades = opt_int(optarg, "--trades", 1, INT64_MAX); break;
		case OPT_NULLOUT: c.nullout = optarg; break;
		case OPT_EDGESOUT: c.edgesout = optarg; break;
		case 'o': c.out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!c.score || !c.ref.path || !c.universe || !c.method || !c.draws)
		die_usage("--score, --ref, --universe, --method and --draws are required");
	if (c.edgesout && c.method != M_CURVEBALL)
		die_usage("--edges-out is for --method curveball");
	if (argc - optind > 1)
		die_usage("at most one input FILE");
	run(&c, optind < argc ? argv[optind] : "-");
	return 0;
}
