/* paired-test: per group, compare two paired columns (method a vs method b
 * over the same items): means, Wilcoxon signed-rank test, paired t-test and
 * the standardised mean difference; or, with --corr, their Pearson and
 * Spearman correlations with p-values, and the partial correlation given
 * control columns (a trend over layers, two references' layer profiles,
 * attention vs reference membership net of co-expression). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "groupby.h"
#include "linfit.h"
#include "opt.h"
#include "out.h"
#include "signrank.h"
#include "stats.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: paired-test --a COL --b COL [--by COL,...] [--corr [--control COL,...]]\n"
	"                   [-o OUT] [FILE]\n"
	"\n"
	"Per group (all rows without --by), over the rows where both columns are present:\n"
	"n mean_a mean_b mean_diff (d = a - b) wilcoxon_stat wilcoxon_p (signed-rank,\n"
	"two-sided, zero differences split) t_stat t_p (paired t-test) cohen_d (mean(d)/sd(d)).\n"
	"\n"
	"  --a COL, --b COL   the paired columns; rows with either missing are skipped\n"
	"  --by COL,...       one output row per distinct combination of these columns\n"
	"  --corr             instead: n pearson_r pearson_p spearman_rho spearman_p\n"
	"                     (two-sided; p from Student's t with n-2 df, as scipy's\n"
	"                     pearsonr and spearmanr)\n"
	"  --control COL,...  with --corr, also partial_r partial_p share: the Pearson\n"
	"                     correlation of a's and b's OLS residuals on these columns\n"
	"                     (and an intercept), p with n-2-k df, share = partial_r /\n"
	"                     pearson_r; rows with a missing control are skipped\n"
	"  -o FILE            write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help         this text\n";

enum { OPT_A = 256, OPT_B, OPT_BY, OPT_CORR, OPT_CONTROL };

static const struct option longopts[] = {
	{ "a", required_argument, NULL, OPT_A },
	{ "b", required_argument, NULL, OPT_B },
	{ "by", required_argument, NULL, OPT_BY },
	{ "corr", no_argument, NULL, OPT_CORR },
	{ "control", required_argument, NULL, OPT_CONTROL },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

static void put_num(wr_t *w, double x)
{
	wr_putc(w, '\t');
	wr_f64_na(w, x);
}

/* Average (mid-)ranks of x[0..n) into r, 1-based, as scipy's rankdata. */
static const double *rank_vals;   /* what cmp_by_val compares (qsort has no context) */
static int cmp_by_val(const void *a, const void *b)
{
	double x = rank_vals[*(const int64_t *)a], y = rank_vals[*(const int64_t *)b];
	return (x > y) - (x < y);
}

static void mid_ranks(const double *x, int64_t n, int64_t *idx, double *r)
{
	for (int64_t i = 0; i < n; i++)
		idx[i] = i;
	rank_vals = x;
	qsort(idx, (size_t)n, sizeof *idx, cmp_by_val);
	for (int64_t i = 0; i < n;) {
		int64_t e = i;
		while (e < n && x[idx[e]] == x[idx[i]])
			e++;
		for (int64_t j = i; j < e; j++)
			r[idx[j]] = (double)(i + e + 1) / 2.0;   /* mean of ranks i+1 .. e */
		i = e;
	}
}

/* Pearson r of x and y (centred on numpy's means, then sums of products);
 * NaN when n < 2 or either is constant. Clipped to [-1, 1]. */
static double pearson(const double *x, const double *y, int64_t n)
{
	if (n < 2)
		return NAN;
	double mx = mean_np(x, n), my = mean_np(y, n), sxy = 0, sxx = 0, syy = 0;
	for (int64_t i = 0; i < n; i++) {
		double dx = x[i] - mx, dy = y[i] - my;
		sxy += dx * dy;
		sxx += dx * dx;
		syy += dy * dy;
	}
	if (sxx == 0 || syy == 0)
		return NAN;
	double r = sxy / sqrt(sxx * syy);
	return r > 1 ? 1 : r < -1 ? -1 : r;
}

/* Two-sided p of a correlation r with df degrees of freedom:
 * t = r sqrt(df / (1 - r^2)), p = 2 P(T_df > |t|); |r| = 1 gives 0. */
static double corr_p(double r, double df)
{
	if (isnan(r) || !(df > 0))
		return NAN;
	if (fabs(r) >= 1)
		return 0;
	double t = fabs(r) * sqrt(df / ((1 - r) * (1 + r)));
	double p = 2 * t_sf(t, df);
	return p > 1 ? 1 : p;
}

/* Residuals of y on [1, x] (x: m rows of k columns, row-major) into res. */
static void ols_resid(const double *x, int k, const double *y, int64_t m, const int64_t *rows, double *res)
{
	linfit_t f;
	linfit_ols(x, y, k, rows, m, &f);
	for (int64_t i = 0; i < m; i++)
		res[i] = y[i] - linfit_predict(&f, x + (size_t)i * (size_t)k);
	linfit_free(&f);
}

typedef struct cols {
	int a, b, k;     /* columns of a, b; number of controls */
	int *ctl;        /* [k] */
} cols_t;

static int *control_cols(tsv_t *t, const char *list, int *k)
{
	char *cp = xstrdup(list), *save = NULL;
	int *c = xmallocarray(strlen(list) + 1, sizeof *c);
	*k = 0;
	for (char *tok = strtok_r(cp, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		c[(*k)++] = tsv_col(t, tok);
	if (*k == 0)
		die_usage("--control: no column named in '%s'", list);
	free(cp);
	return c;
}

static void run(const char *path, const char *acol, const char *bcol, const char *by, const char *control,
		int corr, const char *out)
{
	tsv_t *t = tsv_open(path);
	int ca = tsv_col(t, acol), cb = tsv_col(t, bcol), k = 0;
	int *cc = control ? control_cols(t, control, &k) : NULL;
	groupby_t *g = groupby_new(t, by);
	int64_t n = 0, cap = 0, skipped = 0;
	double *a = NULL, *b = NULL, *x = NULL;
	int64_t *gid = NULL;
	while (tsv_next(t)) {
		/* The key first: a group whose rows are all incomplete still gets a line. */
		int64_t key = groupby_row(g, t);
		int na = 0;
		double va = tsv_finite_na(t, ca, &na), vb = tsv_finite_na(t, cb, &na);
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			a = xreallocarray(a, (size_t)cap, sizeof *a);
			b = xreallocarray(b, (size_t)cap, sizeof *b);
			gid = xreallocarray(gid, (size_t)cap, sizeof *gid);
			if (k)
				x = xreallocarray(x, xmul((size_t)cap, (size_t)k), sizeof *x);
		}
		for (int j = 0; j < k; j++)
			x[(size_t)n * (size_t)k + (size_t)j] = tsv_finite_na(t, cc[j], &na);
		if (na) {
			skipped++;
			continue;
		}
		a[n] = va;
		b[n] = vb;
		gid[n++] = key;
	}
	if (n + skipped == 0)
		die("%s: header only, no data rows", tsv_name(t));
	if (skipped)
		warn("%s: %lld rows with a missing value skipped", tsv_name(t), (long long)skipped);

	int64_t ng = groupby_count(g), *start, *rows;
	group_index(gid, n, ng, &start, &rows);
	size_t sz = (size_t)(n ? n : 1);
	double *ga = xmallocarray(sz, sizeof *ga), *gb = xmallocarray(sz, sizeof *gb);
	double *d = xmallocarray(sz, sizeof *d), *ra = xmallocarray(sz, sizeof *ra), *rb = xmallocarray(sz, sizeof *rb);
	double *gx = k ? xmallocarray(xmul(sz, (size_t)k), sizeof *gx) : NULL;
	int64_t *idx = xmallocarray(sz, sizeof *idx);

	wr_t *w = wr_open(out, 0);
	groupby_write_header(g, t, w);
	if (corr)
		wr_puts(w, k ? "n\tpearson_r\tpearson_p\tspearman_rho\tspearman_p\tpartial_r\tpartial_p\tshare\n"
			     : "n\tpearson_r\tpearson_p\tspearman_rho\tspearman_p\n");
	else
		wr_puts(w, "n\tmean_a\tmean_b\tmean_diff\twilcoxon_stat\twilcoxon_p\tt_stat\tt_p\tcohen_d\n");
	for (int64_t q = 0; q < ng; q++) {
		int64_t m = start[q + 1] - start[q];
		for (int64_t j = 0; j < m; j++) {
			int64_t i = rows[start[q] + j];
			ga[j] = a[i];
			gb[j] = b[i];
			d[j] = a[i] - b[i];
			idx[j] = j;
			for (int c = 0; c < k; c++)
				gx[(size_t)j * (size_t)k + (size_t)c] = x[(size_t)i * (size_t)k + (size_t)c];
		}
		groupby_write_key(g, q, w);
		wr_i64(w, m);
		if (corr) {
			double r = pearson(ga, gb, m);
			put_num(w, r);
			put_num(w, corr_p(r, (double)m - 2));
			mid_ranks(ga, m, idx, ra);
			mid_ranks(gb, m, idx, rb);
			double rho = pearson(ra, rb, m);
			put_num(w, rho);
			put_num(w, corr_p(rho, (double)m - 2));
			if (k) {
				/* the design needs more rows than parameters, else NaN */
				double pr = NAN;
				if (m > k + 2) {
					for (int64_t j = 0; j < m; j++)
						idx[j] = j;
					ols_resid(gx, k, ga, m, idx, ra);
					ols_resid(gx, k, gb, m, idx, rb);
					pr = pearson(ra, rb, m);
				}
				put_num(w, pr);
				put_num(w, corr_p(pr, (double)m - 2 - k));
				put_num(w, pr / r);
			}
			wr_putc(w, '\n');
			continue;
		}
		wilcoxon_res_t wx = wilcoxon_signed_rank(d, m);
		ttest_res_t tt = ttest_one(d, m);
		put_num(w, mean_np(ga, m));
		put_num(w, mean_np(gb, m));
		put_num(w, tt.mean);
		put_num(w, wx.stat);
		put_num(w, wx.p);
		put_num(w, tt.t);
		put_num(w, tt.p);
		put_num(w, tt.mean / tt.sd);
		wr_putc(w, '\n');
	}
	wr_close(w);
	free(ga);
	free(gb);
	free(d);
	free(ra);
	free(rb);
	free(gx);
	free(idx);
	free(a);
	free(b);
	free(x);
	free(cc);
	free(gid);
	free(start);
	free(rows);
	groupby_free(g);
	tsv_close(t);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	const char *acol = NULL, *bcol = NULL, *by = NULL, *out = NULL, *control = NULL;
	int ch, corr = 0;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_A: acol = optarg; break;
		case OPT_B: bcol = optarg; break;
		case OPT_BY: by = optarg; break;
		case OPT_CORR: corr = 1; break;
		case OPT_CONTROL: control = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!acol || !bcol)
		die_usage("--a COL and --b COL are required");
	if (control && !corr)
		die_usage("--control goes with --corr");
	if (argc - optind > 1)
		die_usage("at most one input FILE");
	run(optind < argc ? argv[optind] : "-", acol, bcol, by, control, corr, out);
	return 0;
}
