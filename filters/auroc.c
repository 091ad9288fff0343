/* auroc: per group, how well a score separates positive from negative rows
 * (AUROC, average precision, precision at k), with bootstrap confidence
 * intervals and label-permutation p-values. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "groupby.h"
#include "hash.h"
#include "opt.h"
#include "out.h"
#include "sort.h"
#include "rng.h"
#include "select.h"
#include "stats.h"
#include "strtab.h"
#include "tsv.h"
#include "tsvlabel.h"
#include "xalloc.h"

static const char usage[] =
	"usage: auroc --score COL --label COL [--by COL,...] [--min-pos N] [--min-neg N]\n"
	"             [--precision-at K]... [--bootstrap B [--bootstrap-by COL]] [--perm B]\n"
	"             [--seed S] [--ci-level L] [--descending | --ascending] [-o OUT] [FILE]\n"
	"\n"
	"Per group of rows (all rows without --by): n_pos n_neg auroc auprc, then\n"
	"precision_at_K per --precision-at, ci_lo ci_hi with --bootstrap, perm_p with --perm.\n"
	"\n"
	"  --score COL         score column; NA rows are skipped (counted on stderr)\n"
	"  --label COL         label column: 1/0 or true/false\n"
	"  --by COL,...        one output row per distinct combination of these columns\n"
	"  --min-pos N         fewer positives: statistics reported as NA [3]\n"
	"  --min-neg N         fewer negatives: statistics reported as NA [3]\n"
	"  --precision-at K    share of positives among the K best scores (repeatable)\n"
	"  --bootstrap B       percentile CI of the AUROC from B resamples of the rows\n"
	"                      (positives and negatives resampled separately)\n"
	"  --bootstrap-by COL  resample the clusters given by COL instead of rows\n"
	"  --perm B            p-value from B label permutations within the group:\n"
	"                      (1 + #(null >= observed)) / (1 + B)\n"
	"  --seed S            seed for --bootstrap and --perm [1]\n"
	"  --ci-level L        confidence level of the interval [0.95]\n"
	"  --descending        higher scores mean positive (default)\n"
	"  --ascending         lower scores mean positive (p-values, ranks)\n"
	"  -o FILE             write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help          this text\n";

enum {
	OPT_SCORE = 256, OPT_LABEL, OPT_BY, OPT_MINPOS, OPT_MINNEG, OPT_PAT, OPT_BOOT,
	OPT_BOOTBY, OPT_PERM, OPT_LEVEL, OPT_DESC, OPT_ASC
};

static const struct option longopts[] = {
	{ "score", required_argument, NULL, OPT_SCORE },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "by", required_argument, NULL, OPT_BY },
	{ "min-pos", required_argument, NULL, OPT_MINPOS },
	{ "min-neg", required_argument, NULL, OPT_MINNEG },
	{ "precision-at", required_argument, NULL, OPT_PAT },
	{ "bootstrap", required_argument, NULL, OPT_BOOT },
	{ "bootstrap-by", required_argument, NULL, OPT_BOOTBY },
	{ "perm", required_argument, NULL, OPT_PERM },
	OPT_LONG_SEED,
	{ "ci-level", required_argument, NULL, OPT_LEVEL },
	{ "descending", no_argument, NULL, OPT_DESC },
	{ "ascending", no_argument, NULL, OPT_ASC },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

#define MAX_PAT 32

typedef struct conf {
	const char *score, *label, *by, *bootby, *out;
	int64_t minpos, minneg, boot, perm;
	int64_t pat[MAX_PAT];
	int npat;
	uint64_t seed;
	double level;
	int ascending;
} conf_t;

/* All usable rows, column-wise. */
typedef struct rows {
	int64_t n, cap;
	double *score;
	unsigned char *label;
	int64_t *gid;
	int64_t *cid;     /* --bootstrap-by cluster, or NULL */
	int64_t nclust;
	int64_t skipped;  /* NA scores */
} rows_t;

static void read_rows(tsv_t *t, const conf_t *c, groupby_t *g, rows_t *R)
{
	int cs = tsv_col(t, c->score), cl = tsv_col(t, c->label);
	int cb = c->bootby ? tsv_col(t, c->bootby) : -1;
	strtab_t *clusters = cb >= 0 ? strtab_new() : NULL;
	memset(R, 0, sizeof *R);
	while (tsv_next(t)) {
		double v;
		/* The key first: a group whose scores are all NA still gets a line. */
		int64_t gid = groupby_row(g, t);
		if (!tsv_num_na(t, cs, &v)) {
			R->skipped++;
			/* still check the label: a bad label is bad data either way */
			tsv_label(t, cl);
			continue;
		}
		if (!isfinite(v))
			tsv_die(t, cs, "\"%s\" is not a finite number", tsv_str(t, cs));
		int y = tsv_label(t, cl);
		if (R->n == R->cap) {
			R->cap = R->cap ? 2 * R->cap : 4096;
			R->score = xreallocarray(R->score, (size_t)R->cap, sizeof *R->score);
			R->label = xreallocarray(R->label, (size_t)R->cap, 1);
			R->gid = xreallocarray(R->gid, (size_t)R->cap, sizeof *R->gid);
			if (clusters)
				R->cid = xreallocarray(R->cid, (size_t)R->cap, sizeof *R->cid);
		}
		/* ascending: negate, so that "higher is more positive" holds inside */
		R->score[R->n] = c->ascending ? -v : v;
		R->label[R->n] = (unsigned char)y;
		R->gid[R->n] = gid;
		if (clusters) {
			const char *f = tsv_str(t, cb);
			R->cid[R->n] = strtab_put(clusters, f, strlen(f), NULL);
		}
		R->n++;
	}
	if (R->n + R->skipped == 0)
		die("%s: header only, no data rows", tsv_name(t));
	if (clusters) {
		R->nclust = strtab_size(clusters);
		strtab_free(clusters);
	}
}

/* Percentile interval of the AUROC over bootstrap resamples. Rows: positives
 * and negatives resampled separately (stratified, as pROC does), so every
 * resample has both classes. Clusters: whole clusters drawn with
 * replacement; resamples that lack a class are discarded (and counted). */
static void bootstrap_ci(const conf_t *c, const double *s, const unsigned char *y,
			 const int64_t *cl, int64_t n, int64_t nclust_local, rng_t *rng,
			 double *lo, double *hi, int64_t *discarded)
{
	double *w = xmallocarray((size_t)n, sizeof *w);
	double *val = xmallocarray((size_t)c->boot, sizeof *val);
	int64_t nv = 0;
	if (!cl) {
		int64_t np = 0;
		for (int64_t i = 0; i < n; i++)
			np += y[i];
		int64_t *pos = xmallocarray((size_t)np, sizeof *pos);
		int64_t *neg = xmallocarray((size_t)(n - np), sizeof *neg);
		for (int64_t i = 0, a = 0, b = 0; i < n; i++) {
			if (y[i])
				pos[a++] = i;
			else
				neg[b++] = i;
		}
		for (int64_t b = 0; b < c->boot; b++) {
			memset(w, 0, (size_t)n * sizeof *w);
			for (int64_t k = 0; k < np; k++)
				w[pos[rng_below(rng, (uint64_t)np)]] += 1;
			for (int64_t k = 0; k < n - np; k++)
				w[neg[rng_below(rng, (uint64_t)(n - np))]] += 1;
			val[nv++] = auroc_sorted(s, y, w, n);
		}
		free(pos);
		free(neg);
	} else {
		double *m = xmallocarray((size_t)nclust_local, sizeof *m);
		for (int64_t b = 0; b < c->boot; b++) {
			memset(m, 0, (size_t)nclust_local * sizeof *m);
			for (int64_t k = 0; k < nclust_local; k++)
				m[rng_below(rng, (uint64_t)nclust_local)] += 1;
			for (int64_t i = 0; i < n; i++)
				w[i] = m[cl[i]];
			double a = auroc_sorted(s, y, w, n);
			if (isnan(a))
				(*discarded)++;
			else
				val[nv++] = a;
		}
		free(m);
	}
	quantile_interval(val, nv, c->level, lo, hi);
	free(val);
	free(w);
}

/* Label-shuffle p-value: (1 + #{U_null >= U_obs}) / (1 + B), compared on
 * exact integer U statistics. */
static double perm_p(const conf_t *c, const double *s, const unsigned char *y, int64_t n, rng_t *rng)
{
	int64_t u_obs, u;
	auroc_sorted_u2(s, y, n, &u_obs);
	unsigned char *yy = xmalloc((size_t)n);
	memcpy(yy, y, (size_t)n);
	int64_t ge = 0;
	for (int64_t b = 0; b < c->perm; b++) {
		rng_shuffle_u8(rng, yy, n);
		auroc_sorted_u2(s, yy, n, &u);
		ge += u >= u_obs;
	}
	free(yy);
	return (1.0 + (double)ge) / (1.0 + (double)c->perm);
}

static void put_num(wr_t *w, double x)
{
	wr_putc(w, '\t');
	wr_f64_na(w, x);
}

static void run(const conf_t *c, const char *path)
{
	tsv_t *t = tsv_open(path);
	groupby_t *g = groupby_new(t, c->by);
	rows_t R;
	if (c->bootby)
		tsv_col(t, c->bootby);
	read_rows(t, c, g, &R);
	if (R.skipped)
		warn("%s: %lld rows with NA score skipped", tsv_name(t), (long long)R.skipped);

	wr_t *w = wr_open(c->out, 0);
	groupby_write_header(g, t, w);
	wr_puts(w, "n_pos\tn_neg\tauroc\tauprc");
	for (int k = 0; k < c->npat; k++)
		wr_printf(w, "\tprecision_at_%lld", (long long)c->pat[k]);
	if (c->boot)
		wr_puts(w, "\tci_lo\tci_hi");
	if (c->perm)
		wr_puts(w, "\tperm_p");
	wr_putc(w, '\n');

	int64_t ng = groupby_count(g);
	int64_t *start, *rows;
	group_index(R.gid, R.n, ng, &start, &rows);
	/* A group with no usable row (all NA) still gets its line. */
	int64_t maxn = 0;
	for (int64_t k = 0; k < ng; k++)
		if (start[k + 1] - start[k] > maxn)
			maxn = start[k + 1] - start[k];
	size_t cap = (size_t)(maxn ? maxn : 1);
	double *gs = xmallocarray(cap, sizeof *gs), *ss = xmallocarray(cap, sizeof *ss);
	unsigned char *ys = xmalloc(cap);
	int64_t *ord = xmallocarray(cap, sizeof *ord), *cl = NULL, *cmap = NULL;
	if (c->bootby) {
		cl = xmallocarray(cap, sizeof *cl);
		cmap = xmallocarray((size_t)(R.nclust ? R.nclust : 1), sizeof *cmap);
		for (int64_t i = 0; i < R.nclust; i++)
			cmap[i] = -1;
	}
	int64_t discarded = 0;
	for (int64_t k = 0; k < ng; k++) {
		int64_t n = start[k + 1] - start[k];
		const int64_t *rk = rows + start[k];
		for (int64_t i = 0; i < n; i++)
			gs[i] = R.score[rk[i]];
		argsort_f64(gs, n, ord);
		int64_t np = 0;
		for (int64_t i = 0; i < n; i++) {
			ss[i] = gs[ord[i]];
			ys[i] = R.label[rk[ord[i]]];
			np += ys[i];
		}
		int64_t nn = n - np;
		groupby_write_key(g, k, w);
		wr_i64(w, np);
		wr_putc(w, '\t');
		wr_i64(w, nn);
		int ok = np >= c->minpos && nn >= c->minneg;
		put_num(w, ok ? auroc_sorted(ss, ys, NULL, n) : NAN);
		put_num(w, ok ? avgprec_sorted(ss, ys, NULL, n) : NAN);
		for (int j = 0; j < c->npat; j++)
			put_num(w, ok ? precision_at_sorted(ss, ys, n, c->pat[j]) : NAN);
		/* Each group draws from its own stream, derived from the seed and its
		 * key, so its result does not depend on the other groups. */
		const char *key = groupby_key(g, k);
		uint64_t gseed = c->seed ^ hash_bytes(key, strlen(key));
		if (c->boot) {
			double lo = NAN, hi = NAN;
			if (ok) {
				rng_t rng;
				rng_seed(&rng, gseed ^ 0x626f6f7473747261ULL);
				int64_t nloc = 0;
				if (cl) {
					for (int64_t i = 0; i < n; i++) {
						int64_t id = R.cid[rk[ord[i]]];
						if (cmap[id] < 0)
							cmap[id] = nloc++;
						cl[i] = cmap[id];
					}
					for (int64_t i = 0; i < n; i++)
						cmap[R.cid[rk[i]]] = -1;
				}
				bootstrap_ci(c, ss, ys, cl, n, nloc, &rng, &lo, &hi, &discarded);
			}
			put_num(w, lo);
			put_num(w, hi);
		}
		if (c->perm) {
			double p = NAN;
			if (ok) {
				rng_t rng;
				rng_seed(&rng, gseed ^ 0x7065726d75746531ULL);
				p = perm_p(c, ss, ys, n, &rng);
			}
			put_num(w, p);
		}
		wr_putc(w, '\n');
	}
	if (discarded)
		warn("%lld cluster-bootstrap resamples lacked a class and were discarded",
		     (long long)discarded);
	wr_close(w);
	free(gs);
	free(ss);
	free(ys);
	free(ord);
	free(cl);
	free(cmap);
	free(start);
	free(rows);
	free(R.score);
	free(R.label);
	free(R.gid);
	free(R.cid);
	groupby_free(g);
	tsv_close(t);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	conf_t c = { .minpos = 3, .minneg = 3, .seed = 1, .level = 0.95 };
	int ch;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_SCORE: c.score = optarg; break;
		case OPT_LABEL: c.label = optarg; break;
		case OPT_BY: c.by = optarg; break;
		case OPT_MINPOS: c.minpos = opt_int(optarg, "--min-pos", 1, INT64_MAX); break;
		case OPT_MINNEG: c.minneg = opt_int(optarg, "--min-neg", 1, INT64_MAX); break;
		case OPT_PAT:
			if (c.npat == MAX_PAT)
				die_usage("--precision-at: at most %d values", MAX_PAT);
			c.pat[c.npat] = opt_int(optarg, "--precision-at", 1, INT64_MAX);
			for (int k = 0; k < c.npat; k++)
				if (c.pat[k] == c.pat[c.npat])
					die_usage("--precision-at: %s given twice", optarg);
			c.npat++;
			break;
		case OPT_BOOT: c.boot = opt_int(optarg, "--bootstrap", 1, 100000000); break;
		case OPT_BOOTBY: c.bootby = optarg; break;
		case OPT_PERM: c.perm = opt_int(optarg, "--perm", 1, 1000000000); break;
		case OPT_STD_SEED:
			c.seed = opt_seed(optarg);
			break;
		case OPT_LEVEL:
			c.level = opt_double(optarg, "--ci-level");
			if (!(c.level > 0 && c.level < 1))
				die_usage("--ci-level: %s is not between 0 and 1", optarg);
			break;
		case OPT_DESC: c.ascending = 0; break;
		case OPT_ASC: c.ascending = 1; break;
		case 'o': c.out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!c.score || !c.label)
		die_usage("--score and --label are required");
	if (c.bootby && !c.boot)
		die_usage("--bootstrap-by needs --bootstrap B");
	if (argc - optind > 1)
		die_usage("at most one input FILE");
	run(&c, optind < argc ? argv[optind] : "-");
	return 0;
}
