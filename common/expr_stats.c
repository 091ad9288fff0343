#include "expr_stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef struct { double v; int64_t i; } vi_t;

static int cmp_vi(const void *a, const void *b)
{
	const vi_t *x = a, *y = b;
	if (x->v < y->v) return -1;
	if (x->v > y->v) return 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* Order-preserving map of a double (no NaN) to an unsigned key. */
static inline uint64_t dkey(double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	if (v == 0)
		u = 0; /* -0 and +0 tie */
	return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

/* Sort by value, ties by index: an LSD radix sort (stable, so pairs built in
 * index order keep it among ties), byte passes skipped when every key shares
 * that byte. Much faster than qsort for the thousands of values per gene. */
static void sort_vi(vi_t *s, int64_t n)
{
	if (n < 64) {
		for (int64_t i = 1; i < n; i++) {
			vi_t x = s[i];
			int64_t j = i;
			while (j > 0 && cmp_vi(&s[j - 1], &x) > 0) {
				s[j] = s[j - 1];
				j--;
			}
			s[j] = x;
		}
		return;
	}
	uint64_t *k = xmallocarray((size_t)n, sizeof *k), *k2 = xmallocarray((size_t)n, sizeof *k2);
	vi_t *t = xmallocarray((size_t)n, sizeof *t);
	for (int64_t i = 0; i < n; i++)
		k[i] = dkey(s[i].v);
	vi_t *src = s, *dst = t;
	for (int b = 0; b < 64; b += 8) {
		int64_t cnt[257] = { 0 };
		for (int64_t i = 0; i < n; i++)
			cnt[((k[i] >> b) & 0xff) + 1]++;
		int skip = 0;
		for (int d = 1; d <= 256 && !skip; d++)
			skip = cnt[d] == n;
		if (skip)
			continue;
		for (int d = 0; d < 256; d++)
			cnt[d + 1] += cnt[d];
		for (int64_t i = 0; i < n; i++) {
			int64_t at = cnt[(k[i] >> b) & 0xff]++;
			dst[at] = src[i];
			k2[at] = k[i];
		}
		vi_t *x = src; src = dst; dst = x;
		uint64_t *y = k; k = k2; k2 = y;
	}
	if (src != s)
		memcpy(s, src, (size_t)n * sizeof *s);
	free(k);
	free(k2);
	free(t);
}

/* Sorted (value, index) pairs of x; caller frees. */
static vi_t *sorted_pairs(const double *x, int64_t n)
{
	vi_t *s = xmallocarray((size_t)(n ? n : 1), sizeof *s);
	for (int64_t i = 0; i < n; i++) {
		s[i].v = x[i];
		s[i].i = i;
	}
	sort_vi(s, n);
	return s;
}

double xs_rank_avg(const double *x, int64_t n, double *rank)
{
	vi_t *s = sorted_pairs(x, n);
	double tie = 0;
	for (int64_t i = 0; i < n;) {
		int64_t j = i + 1;
		while (j < n && s[j].v == s[i].v)
			j++;
		/* positions i+1 .. j share their mean rank */
		double r = 0.5 * (double)(i + 1 + j);
		for (int64_t k = i; k < j; k++)
			rank[s[k].i] = r;
		double t = (double)(j - i);
		tie += t * t * t - t;
		i = j;
	}
	free(s);
	return tie;
}

double xs_rank_avg_sparse(const double *x, int64_t k, int64_t n, double *rank, double *zero_rank)
{
	vi_t *s = sorted_pairs(x, k);
	int64_t nz = n - k, neg = 0;
	while (neg < k && s[neg].v < 0)
		neg++;
	double tie = 0;
	/* Zeros occupy positions neg+1 .. neg+nz of the full sorted vector. */
	*zero_rank = nz ? (double)neg + 0.5 * (double)(nz + 1) : 0;
	double tz = (double)nz;
	tie += tz * tz * tz - tz;
	for (int64_t i = 0; i < k;) {
		int64_t j = i + 1;
		while (j < k && s[j].v == s[i].v)
			j++;
		double shift = i >= neg ? (double)nz : 0;
		double r = 0.5 * (double)(i + 1 + j) + shift;
		for (int64_t q = i; q < j; q++)
			rank[s[q].i] = r;
		double t = (double)(j - i);
		tie += t * t * t - t;
		i = j;
	}
	free(s);
	return tie;
}

void xs_bh(const double *p, int64_t n, double *q)
{
	vi_t *s = xmallocarray((size_t)(n ? n : 1), sizeof *s);
	int64_t m = 0;
	for (int64_t i = 0; i < n; i++)
		if (!isnan(p[i])) {
			s[m].v = p[i];
			s[m].i = i;
			m++;
		}
	qsort(s, (size_t)m, sizeof *s, cmp_vi);
	for (int64_t i = 0; i < n; i++)
		if (isnan(p[i]))
			q[i] = NAN;
	double run = 1;
	for (int64_t j = m - 1; j >= 0; j--) {
		double v = (double)m * s[j].v / (double)(j + 1);
		if (v < run)
			run = v;
		q[s[j].i] = run;
	}
	free(s);
}

double xs_norm_sf(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

/* Continued fraction for the incomplete beta (modified Lentz). */
static double betacf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-16;
	double qab = a + b, qap = a + 1, qam = a - 1;
	double c = 1, d = 1 - qab * x / qap;
	if (fabs(d) < tiny) d = tiny;
	d = 1 / d;
	double h = d;
	for (int m = 1; m <= 100000; m++) {
		double m2 = 2.0 * m;
		double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny) d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny) c = tiny;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny) d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny) c = tiny;
		d = 1 / d;
		double del = d * c;
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return h;
}

/* I_x(a, b) with y = 1 - x given separately, so that x near 1 keeps its
 * precision (y is what the caller can compute exactly). */
static double ibeta(double a, double b, double x, double y)
{
	if (x <= 0) return 0;
	if (y <= 0) return 1;
	double lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(y);
	if (x < (a + 1) / (a + b + 2))
		return exp(lfront) * betacf(a, b, x) / a;
	return 1 - exp(lfront) * betacf(b, a, y) / b;
}

double xs_beta_inc(double a, double b, double x)
{
	return ibeta(a, b, x, 1 - x);
}

double xs_t_sf(double t, double df)
{
	if (isnan(t) || isnan(df))
		return NAN;
	if (isinf(t))
		return t > 0 ? 0 : 1;
	double t2 = t * t;
	/* two-sided tail I_{df/(df+t^2)}(df/2, 1/2) */
	double two = ibeta(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2));
	return t > 0 ? 0.5 * two : 1 - 0.5 * two;
}

void xs_welch(double m1, double v1, double n1, double m2, double v2, double n2,
	      double *t, double *df, double *p)
{
	double a = v1 / n1, b = v2 / n2;
	double d = (a + b) * (a + b) / (a * a / (n1 - 1) + b * b / (n2 - 1));
	if (isnan(d))
		d = 1;
	double tt = (m1 - m2) / sqrt(a + b);
	*t = tt;
	*df = d;
	if (isnan(tt)) {
		*p = NAN;
		return;
	}
	if (isinf(tt)) {
		*p = 0;
		return;
	}
	double t2 = tt * tt;
	*p = ibeta(0.5 * d, 0.5, d / (d + t2), t2 / (d + t2));
}

double xs_mwu_p(double u1, double n1, double n2, double tie, int cont)
{
	double mu = n1 * n2 / 2, n = n1 + n2;
	double u2 = n1 * n2 - u1, u = u1 > u2 ? u1 : u2;
	double s = sqrt(n1 * n2 / 12 * ((n + 1) - tie / (n * (n - 1))));
	double num = u - mu;
	if (cont)
		num -= 0.5;
	double z = num / s;
	double p = 2 * xs_norm_sf(z);
	if (p > 1) p = 1;
	if (p < 0) p = 0;
	return p;
}
