/* edge-eval: how well a scored list of gene pairs recovers a true or
 * reference network: precision, recall and F1 of the top k pairs (globally
 * and per source gene), AUROC and average precision over all pairs. */
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
#include "stats.h"
#include "strtab.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: edge-eval --ref REF [--ref-cols A,B] [--ref-header auto|yes|no] [--undirected]\n"
	"                 [--map MAP [--map-cols FROM,TO]] [--score COL] [--abs] [--top K]\n"
	"                 [--per-source K] [--label NAME=VALUE]... [-o OUT] [PAIRS]\n"
	"\n"
	"PAIRS: TSV with from, to and a score column (stdin when absent or -). One row:\n"
	"labels, n_pairs n_true auroc auprc top_k precision recall f1, and with\n"
	"--per-source: per_source_k ps_selected ps_precision ps_recall ps_f1.\n"
	"\n"
	REFNET_USAGE
	"  --truth, --truth-cols  old names of --ref, --ref-cols\n"
	"  --score COL            score column [value]; missing/nan ranks below all\n"
	"  --abs                  rank by |score|\n"
	"  --top K                global top K pairs [the number of true pairs, n_true]\n"
	"  --per-source K         also the top K pairs of every from gene\n"
	"  --label NAME=VALUE     constant leading column (repeatable)\n"
	"  -o FILE                write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help             this text\n";

enum { OPT_SCORE = 256, OPT_ABS, OPT_TOP, OPT_PERSRC, OPT_LABEL };

static const struct option longopts[] = {
	REFNET_LONGOPTS,
	{ "truth", required_argument, NULL, REFNET_OPT_REF },
	{ "truth-cols", required_argument, NULL, REFNET_OPT_COLS },
	{ "score", required_argument, NULL, OPT_SCORE },
	{ "abs", no_argument, NULL, OPT_ABS },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "per-source", required_argument, NULL, OPT_PERSRC },
	{ "label", required_argument, NULL, OPT_LABEL },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

typedef struct conf {
	refnet_opts_t ref;
	const char *score, *out, *pairs;
	int absval;
	int64_t top, persrc;   /* -1: default / off */
	char **label;
	int nlabel;
} conf_t;

typedef struct pairs {
	int64_t n, cap;
	uint32_t *from, *to;  /* gene ids (in the pairs' own table) */
	double *s;            /* missing -> -inf */
	unsigned char *y;
} pairs_t;

/* Reads the pairs, interning their genes in ids. */
static void pairs_read(const conf_t *c, strtab_t *ids, pairs_t *P)
{
	tsv_t *t = tsv_open(c->pairs ? c->pairs : "-");
	int cf = tsv_col(t, "from"), ct = tsv_col(t, "to"), cs = tsv_col(t, c->score);
	pairset_t *seen = pairset_new_keys(4096);
	memset(P, 0, sizeof *P);
	while (tsv_next(t)) {
		const char *a = tsv_str(t, cf), *b = tsv_str(t, ct);
		if (!*a)
			tsv_die(t, cf, "empty gene id");
		if (!*b)
			tsv_die(t, ct, "empty gene id");
		uint32_t x = (uint32_t)strtab_put(ids, a, strlen(a), NULL);
		uint32_t y = (uint32_t)strtab_put(ids, b, strlen(b), NULL);
		if (!pairset_add(seen, x, y, 0))
			tsv_die(t, cf, "pair %s -> %s occurs twice", a, b);
		double v;
		if (!tsv_num_na(t, cs, &v) || isnan(v))
			v = -INFINITY;
		else if (isinf(v))
			tsv_die(t, cs, "\"%s\" is not a finite number", tsv_str(t, cs));
		else if (c->absval)
			v = fabs(v);
		if (P->n == P->cap) {
			P->cap = P->cap ? 2 * P->cap : 4096;
			P->from = xreallocarray(P->from, (size_t)P->cap, sizeof *P->from);
			P->to = xreallocarray(P->to, (size_t)P->cap, sizeof *P->to);
			P->s = xreallocarray(P->s, (size_t)P->cap, sizeof *P->s);
		}
		P->from[P->n] = x;
		P->to[P->n] = y;
		P->s[P->n] = v;
		P->n++;
	}
	if (P->n == 0)
		die("%s: header only, no pairs", tsv_name(t));
	pairset_free(seen);
	tsv_close(t);
}

/* y = 1 for the pairs that are reference edges (a self pair too, when the
 * reference has that self edge), after the loud check that the pairs'
 * genes and the reference share an id type. */
static void pairs_label(const conf_t *c, const strtab_t *ids, pairs_t *P)
{
	refnet_t *r = refnet_read(&c->ref, NULL);
	idmap_t *map = refnet_map(&c->ref);
	refnet_genes_t *g = refnet_genes(r, map, ids);
	refnet_check_match(r, map, g->matched, g->n, "pair genes", strtab_str(ids, 0));
	uint32_t *ef, *et;
	int64_t ne = refnet_among(r, g, 1, &ef, &et, NULL);
	pairset_t *truth = pairset_new_keys((size_t)ne);
	for (int64_t i = 0; i < ne; i++)
		pairset_add(truth, ef[i], et[i], 0);
	P->y = xmalloc((size_t)P->n);
	for (int64_t i = 0; i < P->n; i++)
		P->y[i] = (unsigned char)pairset_has(truth, P->from[i], P->to[i]);
	pairset_free(truth);
	free(ef);
	free(et);
	refnet_genes_free(g);
	idmap_free(map);
	refnet_free(r);
}

/* Expected true pairs among the k best of idx[0..n) (sorted by descending
 * score): a tie straddling the cut counts its true pairs in proportion to
 * the places left, so the result never depends on the input order. */
static double hits_at(const double *s, const unsigned char *y, const int64_t *idx, int64_t n, int64_t k)
{
	if (k > n)
		k = n;
	if (k <= 0)
		return 0;
	double cut = s[idx[k - 1]];
	int64_t above = 0, tied = 0;
	double hit = 0, tiedhit = 0;
	for (int64_t i = 0; i < n; i++) {
		double v = s[idx[i]];
		if (v > cut) {
			above++;
			hit += y[idx[i]];
		} else if (v == cut) {
			tied++;
			tiedhit += y[idx[i]];
		} else {
			break;
		}
	}
	return hit + tiedhit * (double)(k - above) / (double)tied;
}

static double f1_of(double p, double r)
{
	if (isnan(p) || isnan(r))
		return NAN;
	return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

/* Pairs grouped by from gene, each group by descending score (ties by
 * input order): sort on (from, -score, index). */
static const pairs_t *cmp_P;
static int cmp_src(const void *a, const void *b)
{
	int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
	if (cmp_P->from[i] != cmp_P->from[j])
		return cmp_P->from[i] < cmp_P->from[j] ? -1 : 1;
	double x = cmp_P->s[i], z = cmp_P->s[j];
	if (x != z)
		return x > z ? -1 : 1;
	return (i > j) - (i < j);
}

static void evaluate(const conf_t *c, const pairs_t *P, wr_t *w)
{
	int64_t n = P->n, npos = 0;
	for (int64_t i = 0; i < n; i++)
		npos += P->y[i];
	int64_t *idx = xmallocarray((size_t)n, sizeof *idx);
	argsort_f64_desc(P->s, n, idx);
	int64_t k = c->top >= 0 ? c->top : npos;
	if (k > n)
		k = n;
	double hits = hits_at(P->s, P->y, idx, n, k);
	double prec = k > 0 ? hits / (double)k : NAN;
	double rec = npos > 0 ? hits / (double)npos : NAN;
	double au = auroc(P->s, P->y, n), ap = avgprec(P->s, P->y, n);

	for (int l = 0; l < c->nlabel; l++) {
		const char *eq = strchr(c->label[l], '=');
		wr_write(w, c->label[l], (size_t)(eq - c->label[l]));
		wr_putc(w, '\t');
	}
	wr_puts(w, "n_pairs\tn_true\tauroc\tauprc\ttop_k\tprecision\trecall\tf1");
	if (c->persrc >= 0)
		wr_puts(w, "\tper_source_k\tps_selected\tps_precision\tps_recall\tps_f1");
	wr_putc(w, '\n');
	for (int l = 0; l < c->nlabel; l++) {
		wr_puts(w, strchr(c->label[l], '=') + 1);
		wr_putc(w, '\t');
	}
	wr_i64(w, n); wr_putc(w, '\t');
	wr_i64(w, npos); wr_putc(w, '\t');
	wr_f64(w, au); wr_putc(w, '\t');
	wr_f64(w, ap); wr_putc(w, '\t');
	wr_i64(w, k); wr_putc(w, '\t');
	wr_f64(w, prec); wr_putc(w, '\t');
	wr_f64(w, rec); wr_putc(w, '\t');
	wr_f64(w, f1_of(prec, rec));
	if (c->persrc >= 0) {
		for (int64_t i = 0; i < n; i++)
			idx[i] = i;
		cmp_P = P;
		qsort(idx, (size_t)n, sizeof *idx, cmp_src);
		double phits = 0;
		int64_t sel = 0;
		for (int64_t a = 0, b; a < n; a = b) {
			for (b = a + 1; b < n && P->from[idx[b]] == P->from[idx[a]]; b++)
				;
			int64_t kk = c->persrc < b - a ? c->persrc : b - a;
			phits += hits_at(P->s, P->y, idx + a, b - a, kk);
			sel += kk;
		}
		double pp = sel > 0 ? phits / (double)sel : NAN;
		double pr = npos > 0 ? phits / (double)npos : NAN;
		wr_putc(w, '\t'); wr_i64(w, c->persrc);
		wr_putc(w, '\t'); wr_i64(w, sel);
		wr_putc(w, '\t'); wr_f64(w, pp);
		wr_putc(w, '\t'); wr_f64(w, pr);
		wr_putc(w, '\t'); wr_f64(w, f1_of(pp, pr));
	}
	wr_putc(w, '\n');
	free(idx);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	conf_t c = { .score = "value", .top = -1, .persrc = -1 };
	refnet_opts_init(&c.ref);
	c.label = xmallocarray((size_t)argc, sizeof *c.label);
	int o;
	while ((o = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		if (refnet_opt(&c.ref, o, optarg))
			continue;
		switch (o) {
		case OPT_SCORE: c.score = optarg; break;
		case OPT_ABS: c.absval = 1; break;
		case OPT_TOP: c.top = opt_int(optarg, "--top", 1, INT64_MAX); break;
		case OPT_PERSRC: c.persrc = opt_int(optarg, "--per-source", 1, INT64_MAX); break;
		case OPT_LABEL:
			if (!strchr(optarg, '=') || strchr(optarg, '=') == optarg || strchr(optarg, '\t') ||
			    strchr(optarg, '\n'))
				die_usage("--label: expected NAME=VALUE (no tabs), got '%s'", optarg);
			c.label[c.nlabel++] = optarg;
			break;
		case 'o': c.out = optarg; break;
		case 'h': fputs(usage, stdout); free(c.label); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind + 1 < argc)
		die_usage("one PAIRS file at most (got '%s')", argv[optind + 1]);
	if (optind < argc)
		c.pairs = argv[optind];
	if (!c.ref.path)
		die_usage("--ref REF (or --truth REF) is required");
	strtab_t *ids = strtab_new();
	pairs_t P;
	pairs_read(&c, ids, &P);
	pairs_label(&c, ids, &P);
	wr_t *w = wr_open(c.out, 0);
	evaluate(&c, &P, w);
	wr_close(w);
	free(P.from);
	free(P.to);
	free(P.s);
	free(P.y);
	strtab_free(ids);
	free(c.label);
	return 0;
}
