/* match: propensity-matched benchmark rows. Is an edge score still
 * predictive when positives are compared with negatives that gene-level
 * covariates (expression, degree) make equally likely to be positive? A
 * logistic propensity model on the covariates, then within each
 * perturbation greedy nearest-neighbour matching on the logit of the
 * propensity, without replacement, inside a caliper. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logit.h"
#include "opt.h"
#include "out.h"
#include "sort.h"
#include "rowstore.h"
#include "strtab.h"
#include "tsv.h"
#include "tsvlabel.h"
#include "xalloc.h"

static const char usage[] =
	"usage: match --label COL --group COL --x COL,... [--k K] [--caliper C] [--C C]\n"
	"             [--balance FILE] [-o OUT] [FILE]\n"
	"\n"
	"Writes the matched rows (input columns, then logit_ps, match_id, match_weight),\n"
	"in input order. Propensity: L2 logistic regression of the label on the\n"
	"standardised covariates over all complete rows; each positive, highest logit propensity\n"
	"first, takes the K nearest unused negatives of its own group within C standard\n"
	"deviations of the logit; positives without any are dropped and counted.\n"
	"\n"
	"  --label COL      1/0 or true/false\n"
	"  --group COL      matches stay within a group (the perturbation)\n"
	"  --x COL,...      gene-level covariates of the propensity model\n"
	"  --k K            negatives per positive [5]\n"
	"  --caliper C      in SDs of the logit propensity [0.2]\n"
	"  --C C            inverse L2 penalty of the propensity model [1.0]\n"
	"  --balance FILE   covariate smd_before smd_after (and logit_ps)\n"
	"  -o FILE          write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help       this text\n";

enum { OPT_LABEL = 256, OPT_GROUP, OPT_X, OPT_K, OPT_CALIPER, OPT_C, OPT_BALANCE };

static const struct option longopts[] = {
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "x", required_argument, NULL, OPT_X },
	{ "k", required_argument, NULL, OPT_K },
	{ "caliper", required_argument, NULL, OPT_CALIPER },
	{ "C", required_argument, NULL, OPT_C },
	{ "balance", required_argument, NULL, OPT_BALANCE },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

typedef struct conf {
	const char *label, *group, *x, *out, *balance;
	int k;
	double caliper, C;
} conf_t;

typedef struct rows {
	int64_t n; /* complete rows */
	int p;
	double *x;       /* n x p */
	unsigned char *y;
	int64_t *gid, *line; /* group, index into the row store */
	double *ps;      /* logit propensity */
	int64_t *match;  /* match id, -1 unmatched */
} rows_t;

/* Greedy matching inside one group: rows r[0..m) of the group. Positives in
 * decreasing logit propensity (ties: input order) each take the nearest
 * unused negatives (ties: the lower one, then input order) while within the
 * caliper. Negatives sorted by propensity; a positive looks outward from
 * its position, skipping used ones. */
static void match_group(rows_t *R, const int64_t *r, int64_t m, int k, double cal, int64_t *next_id,
			int64_t *unmatched, int64_t *short_sets)
{
	int64_t npos = 0, nneg = 0;
	for (int64_t i = 0; i < m; i++)
		npos += R->y[r[i]];
	nneg = m - npos;
	int64_t *pos = xmallocarray((size_t)(npos ? npos : 1), sizeof *pos);
	int64_t *neg = xmallocarray((size_t)(nneg ? nneg : 1), sizeof *neg);
	double *v = xmallocarray((size_t)(m ? m : 1), sizeof *v);
	int64_t *ord = xmallocarray((size_t)(m ? m : 1), sizeof *ord);
	int64_t a = 0, b = 0;
	for (int64_t i = 0; i < m; i++)
		v[i] = R->ps[r[i]];
	argsort_f64(v, m, ord);
	for (int64_t i = 0; i < m; i++) {
		int64_t row = r[ord[i]];
		if (R->y[row])
			pos[a++] = row;
		else
			neg[b++] = row;
	}
	/* positives: decreasing propensity (ties by input order) */
	for (int64_t i = 0; i < npos; i++)
		v[i] = R->ps[pos[i]];
	argsort_f64_desc(v, npos, ord);
	unsigned char *used = xcalloc((size_t)(nneg ? nneg : 1), 1);
	double *nv = xmallocarray((size_t)(nneg ? nneg : 1), sizeof *nv);
	for (int64_t j = 0; j < nneg; j++)
		nv[j] = R->ps[neg[j]];
	for (int64_t q = 0; q < npos; q++) {
		int64_t pr = pos[ord[q]];
		double t = R->ps[pr];
		/* first negative with propensity >= t */
		int64_t lo = 0, hi = nneg;
		while (lo < hi) {
			int64_t mid = lo + (hi - lo) / 2;
			if (nv[mid] < t)
				lo = mid + 1;
			else
				hi = mid;
		}
		int64_t L = lo - 1, U = lo;
		int got = 0;
		while (got < k) {
			while (L >= 0 && used[L])
				L--;
			while (U < nneg && used[U])
				U++;
			double dl = L >= 0 ? t - nv[L] : INFINITY, du = U < nneg ? nv[U] - t : INFINITY;
			int64_t pick;
			if (dl <= du && dl <= cal)
				pick = L;
			else if (du < dl && du <= cal)
				pick = U;
			else
				break;
			used[pick] = 1;
			R->match[neg[pick]] = *next_id;
			got++;
		}
		if (got == 0) {
			(*unmatched)++;
			continue;
		}
		if (got < k)
			(*short_sets)++;
		R->match[pr] = (*next_id)++;
	}
	free(pos);
	free(neg);
	free(v);
	free(ord);
	free(used);
	free(nv);
}

/* Weighted mean difference (positives - negatives) of column j (j < 0:
 * the logit propensity); w == NULL: every row weighs 1. */
static double mean_diff(const rows_t *R, int j, const double *w)
{
	double s[2] = { 0, 0 }, c[2] = { 0, 0 };
	for (int64_t i = 0; i < R->n; i++) {
		double wi = w ? w[i] : 1;
		if (wi == 0)
			continue;
		double v = j < 0 ? R->ps[i] : R->x[i * R->p + j];
		s[R->y[i]] += wi * v;
		c[R->y[i]] += wi;
	}
	return s[1] / c[1] - s[0] / c[0];
}

/* sqrt((var_pos + var_neg) / 2), variances with ddof 1, over all complete
 * rows: the same denominator before and after matching, so that the SMDs
 * differ only by the mean difference (cobalt's default). */
static double pooled_sd(const rows_t *R, int j)
{
	double s[2] = { 0, 0 }, ss[2] = { 0, 0 };
	int64_t c[2] = { 0, 0 };
	for (int64_t i = 0; i < R->n; i++) {
		double v = j < 0 ? R->ps[i] : R->x[i * R->p + j];
		s[R->y[i]] += v;
		c[R->y[i]]++;
	}
	for (int64_t i = 0; i < R->n; i++) {
		double v = j < 0 ? R->ps[i] : R->x[i * R->p + j];
		double d = v - s[R->y[i]] / (double)c[R->y[i]];
		ss[R->y[i]] += d * d;
	}
	double v1 = c[1] > 1 ? ss[1] / (double)(c[1] - 1) : 0, v0 = c[0] > 1 ? ss[0] / (double)(c[0] - 1) : 0;
	return sqrt((v1 + v0) / 2);
}

/* A match set's negatives share its positive's weight: 1 / their number
 * (MatchIt's weights for variable-ratio matching), so that sets short of k
 * negatives are not under-counted; unmatched rows weigh 0. */
static double *match_weights(const rows_t *R)
{
	int64_t nset = 0;
	for (int64_t i = 0; i < R->n; i++)
		if (R->match[i] >= nset)
			nset = R->match[i] + 1;
	int64_t *nneg = xcalloc((size_t)(nset ? nset : 1), sizeof *nneg);
	for (int64_t i = 0; i < R->n; i++)
		if (R->match[i] >= 0 && !R->y[i])
			nneg[R->match[i]]++;
	double *w = xmallocarray((size_t)(R->n ? R->n : 1), sizeof *w);
	for (int64_t i = 0; i < R->n; i++)
		w[i] = R->match[i] < 0 ? 0 : R->y[i] ? 1 : 1.0 / (double)nneg[R->match[i]];
	free(nneg);
	return w;
}

static void write_balance(const conf_t *c, const rows_t *R, const double *keep, const tsv_t *t,
			  const int *cx)
{
	wr_t *w = wr_open(c->balance, 0);
	wr_puts(w, "covariate\tsmd_before\tsmd_after\n");
	for (int k = 0; k <= R->p; k++) {
		int jj = k < R->p ? k : -1; /* the covariates, then logit_ps */
		double sd = pooled_sd(R, jj);
		wr_puts(w, jj < 0 ? "logit_ps" : t->names[cx[jj]]);
		wr_putc(w, '\t');
		wr_f64_na(w, sd > 0 ? mean_diff(R, jj, NULL) / sd : NAN);
		wr_putc(w, '\t');
		wr_f64_na(w, sd > 0 ? mean_diff(R, jj, keep) / sd : NAN);
		wr_putc(w, '\n');
	}
	wr_close(w);
}

static void run(const conf_t *c, const char *path)
{
	tsv_t *t = tsv_open(path);
	int cl = tsv_col(t, c->label), cg = tsv_col(t, c->group), *cx;
	int p = tsv_cols(t, c->x, &cx);
	for (int i = 0; i < t->ncol; i++)
		if (!strcmp(t->names[i], "logit_ps") || !strcmp(t->names[i], "match_id") ||
		    !strcmp(t->names[i], "match_weight"))
			die("%s:1: the input already has a column '%s' (drop or rename it first)", tsv_name(t),
			    t->names[i]);
	rowstore_t rs = { 0 };
	strtab_t *groups = strtab_new();
	rows_t R = { .p = p };
	int64_t cap = 0, total = 0, skipped = 0;
	while (tsv_next(t)) {
		total++;
		int lab = tsv_label(t, cl);
		if (R.n == cap) {
			cap = cap ? 2 * cap : 4096;
			R.x = xreallocarray(R.x, xmul((size_t)cap, (size_t)p), sizeof *R.x);
			R.y = xreallocarray(R.y, (size_t)cap, 1);
			R.gid = xreallocarray(R.gid, (size_t)cap, sizeof *R.gid);
			R.line = xreallocarray(R.line, (size_t)cap, sizeof *R.line);
		}
		int na = 0;
		for (int j = 0; j < p; j++) {
			double v;
			if (!tsv_num_na(t, cx[j], &v))
				na = 1;
			else if (!isfinite(v))
				tsv_die(t, cx[j], "\"%s\" is not a finite number", tsv_str(t, cx[j]));
			R.x[R.n * p + j] = v;
		}
		if (na) {
			skipped++;
			continue;
		}
		const char *g = tsv_str(t, cg);
		R.gid[R.n] = strtab_put(groups, g, strlen(g), NULL);
		R.y[R.n] = (unsigned char)lab;
		R.line[R.n++] = rs.n;
		rowstore_add(&rs, t);
	}
	if (total == 0)
		die("%s: header only, no data rows", tsv_name(t));
	if (skipped)
		warn("%s: %lld rows with a missing covariate skipped", tsv_name(t), (long long)skipped);
	int64_t npos = 0;
	for (int64_t i = 0; i < R.n; i++)
		npos += R.y[i];
	if (npos == 0 || npos == R.n)
		die("%s: the label has a single class over the %lld complete rows", tsv_name(t), (long long)R.n);

	/* propensity on the logit scale */
	int64_t *all = xmallocarray((size_t)R.n, sizeof *all);
	for (int64_t i = 0; i < R.n; i++)
		all[i] = i;
	logit_t L;
	logit_fit(R.x, R.y, p, all, R.n, c->C, 0, &L);
	if (!L.converged)
		warn("propensity model: Newton did not converge in %d iterations", L.iters);
	R.ps = xmallocarray((size_t)R.n, sizeof *R.ps);
	double s = 0, ss = 0;
	for (int64_t i = 0; i < R.n; i++) {
		R.ps[i] = logit_decision(&L, R.x + i * p);
		s += R.ps[i];
	}
	for (int64_t i = 0; i < R.n; i++)
		ss += (R.ps[i] - s / (double)R.n) * (R.ps[i] - s / (double)R.n);
	double cal = c->caliper * (R.n > 1 ? sqrt(ss / (double)(R.n - 1)) : 0);
	logit_free(&L);

	/* rows of each group, contiguous (counting sort keeps input order) */
	int64_t ng = strtab_size(groups);
	int64_t *start = xcalloc((size_t)ng + 1, sizeof *start), *byg = xmallocarray((size_t)R.n, sizeof *byg);
	for (int64_t i = 0; i < R.n; i++)
		start[R.gid[i] + 1]++;
	for (int64_t g = 0; g < ng; g++)
		start[g + 1] += start[g];
	int64_t *fill = xmallocarray((size_t)ng, sizeof *fill);
	memcpy(fill, start, (size_t)ng * sizeof *fill);
	for (int64_t i = 0; i < R.n; i++)
		byg[fill[R.gid[i]]++] = i;
	R.match = xmallocarray((size_t)R.n, sizeof *R.match);
	for (int64_t i = 0; i < R.n; i++)
		R.match[i] = -1;
	int64_t next_id = 0, unmatched = 0, short_sets = 0;
	for (int64_t g = 0; g < ng; g++)
		match_group(&R, byg + start[g], start[g + 1] - start[g], c->k, cal, &next_id, &unmatched,
			    &short_sets);

	wr_t *w = wr_open(c->out, 0);
	tsv_write_header(w, t);
	wr_puts(w, "\tlogit_ps\tmatch_id\tmatch_weight\n");
	double *mw = match_weights(&R);
	for (int64_t i = 0; i < R.n; i++) {
		if (R.match[i] < 0)
			continue;
		wr_puts(w, rs.line[R.line[i]]);
		wr_putc(w, '\t');
		wr_f64(w, R.ps[i]);
		wr_putc(w, '\t');
		wr_i64(w, R.match[i]);
		wr_putc(w, '\t');
		wr_f64(w, mw[i]);
		wr_putc(w, '\n');
	}
	wr_close(w);
	if (c->balance)
		write_balance(c, &R, mw, t, cx);
	free(mw);
	warn("%lld of %lld positives matched (%lld with fewer than %d negatives), %lld dropped without a "
	     "negative within the caliper (%.4g on the logit scale)",
	     (long long)next_id, (long long)npos, (long long)short_sets, c->k, (long long)unmatched, cal);
	free(start);
	free(byg);
	free(fill);
	free(all);
	free(R.x);
	free(R.y);
	free(R.gid);
	free(R.line);
	free(R.ps);
	free(R.match);
	free(cx);
	strtab_free(groups);
	rowstore_free(&rs);
	tsv_close(t);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	conf_t c = { .k = 5, .caliper = 0.2, .C = 1.0 };
	int ch;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_LABEL: c.label = optarg; break;
		case OPT_GROUP: c.group = optarg; break;
		case OPT_X: c.x = optarg; break;
		case OPT_K: c.k = (int)opt_int(optarg, "--k", 1, 1000000); break;
		case OPT_CALIPER:
			c.caliper = opt_double(optarg, "--caliper");
			if (!(c.caliper > 0))
				die_usage("--caliper: %s is not positive", optarg);
			break;
		case OPT_C:
			c.C = opt_double(optarg, "--C");
			if (!(c.C > 0))
				die_usage("--C: %s is not positive", optarg);
			break;
		case OPT_BALANCE: c.balance = optarg; break;
		case 'o': c.out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!c.label || !c.group || !c.x)
		die_usage("--label, --group and --x are required");
	if (argc - optind > 1)
		die_usage("at most one input FILE");
	run(&c, optind < argc ? argv[optind] : "-");
	return 0;
}
