#include "fisher.h"

#include <float.h>
#include <math.h>

#define LN_2PI 1.837877066409345483560659472811 /* log(2 pi) */

/* log(n!) - log(sqrt(2 pi n) (n/e)^n): the error of Stirling's formula. */
static double stirlerr(double n)
{
	const double S0 = 1.0 / 12, S1 = 1.0 / 360, S2 = 1.0 / 1260, S3 = 1.0 / 1680,
		     S4 = 1.0 / 1188;
	if (n <= 15) {
		/* Small n: the definition, in extended precision (the terms are
		 * at most ~30, so the absolute error stays ~1e-18). */
		long double x = n;
		return (double)(lgammal(x + 1) - (x + 0.5L) * logl(x) + x - 0.5L * (long double)LN_2PI);
	}
	double nn = n * n;
	if (n > 500)
		return (S0 - S1 / nn) / n;
	if (n > 80)
		return (S0 - (S1 - S2 / nn) / nn) / n;
	if (n > 35)
		return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
	return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/* Deviance term x log(x / np) + np - x, computed without cancellation when
 * x is close to np (Loader 2000). */
static double bd0(double x, double np)
{
	if (fabs(x - np) < 0.1 * (x + np)) {
		double v = (x - np) / (x + np);
		double s = (x - np) * v;
		if (fabs(s) < DBL_MIN)
			return s;
		double ej = 2 * x * v;
		v *= v;
		for (int j = 1; j < 1000; j++) {
			ej *= v;
			double s1 = s + ej / (2 * j + 1);
			if (s1 == s)
				return s1;
			s = s1;
		}
	}
	return x * log(x / np) + np - x;
}

/* log of the binomial probability of x successes in n trials, p + q = 1. */
static double ldbinom(double x, double n, double p, double q)
{
	if (p == 0)
		return x == 0 ? 0 : -INFINITY;
	if (q == 0)
		return x == n ? 0 : -INFINITY;
	if (x < 0 || x > n)
		return -INFINITY;
	if (x == 0)
		return n == 0 ? 0 : p < 0.1 ? -bd0(n, n * q) - n * p : n * log(q);
	if (x == n)
		return q < 0.1 ? -bd0(n, n * p) - n * q : n * log(p);
	double lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
	double lf = LN_2PI + log(x) + log1p(-x / n);
	return lc - 0.5 * lf;
}

double hyper_logpmf(int64_t x, int64_t K, int64_t n, int64_t N)
{
	if (x < 0 || x > K || x > n || n - x > N - K)
		return -INFINITY;
	if (n == 0 || n == N)
		return 0; /* x is forced: 0 or K */
	/* P(X = x) = B(x; K, p) B(n - x; N - K, p) / B(n; N, p) for any p;
	 * p = n / N puts the denominator at its mode (R's dhyper). */
	double p = (double)n / (double)N, q = (double)(N - n) / (double)N;
	return ldbinom((double)x, (double)K, p, q) + ldbinom((double)(n - x), (double)(N - K), p, q) -
	       ldbinom((double)n, (double)N, p, q);
}

/* Sum of P(X = y) / P(X = x) for y from x away from the mode to the end of
 * the support (dir +1 upward, -1 downward). The terms shrink monotonically
 * there, so the sum stops once they no longer change it. */
static double tail_ratio_sum(int64_t x, int64_t K, int64_t n, int64_t N, int dir)
{
	int64_t lo = n - (N - K) > 0 ? n - (N - K) : 0, hi = n < K ? n : K;
	double sum = 1, t = 1;
	if (dir > 0) {
		for (int64_t y = x; y < hi; y++) {
			t *= ((double)(K - y) * (double)(n - y)) /
			     ((double)(y + 1) * (double)(N - K - n + y + 1));
			double s1 = sum + t;
			if (s1 == sum)
				break;
			sum = s1;
		}
	} else {
		for (int64_t y = x; y > lo; y--) {
			t *= ((double)y * (double)(N - K - n + y)) /
			     ((double)(K - y + 1) * (double)(n - y + 1));
			double s1 = sum + t;
			if (s1 == sum)
				break;
			sum = s1;
		}
	}
	return sum;
}

static double mode_of(int64_t K, int64_t n, int64_t N)
{
	return floor(((double)n + 1) * ((double)K + 1) / ((double)N + 2));
}

/* The tail beyond x on the far side of the mode, in log space. */
static double log_far_tail(int64_t x, int64_t K, int64_t n, int64_t N, int dir)
{
	return hyper_logpmf(x, K, n, N) + log(tail_ratio_sum(x, K, n, N, dir));
}

double hyper_logsf_ge(int64_t x, int64_t K, int64_t n, int64_t N)
{
	int64_t lo = n - (N - K) > 0 ? n - (N - K) : 0, hi = n < K ? n : K;
	if (x <= lo)
		return 0;
	if (x > hi)
		return -INFINITY;
	if ((double)x > mode_of(K, n, N))
		return log_far_tail(x, K, n, N, +1);
	/* x at or below the mode: the upper tail holds at least about half the
	 * mass, so 1 - lower tail loses nothing that matters. */
	double low = exp(log_far_tail(x - 1, K, n, N, -1));
	return low >= 1 ? -INFINITY : log1p(-low);
}

double hyper_logcdf(int64_t x, int64_t K, int64_t n, int64_t N)
{
	int64_t lo = n - (N - K) > 0 ? n - (N - K) : 0, hi = n < K ? n : K;
	if (x < lo)
		return -INFINITY;
	if (x >= hi)
		return 0;
	if ((double)x < mode_of(K, n, N))
		return log_far_tail(x, K, n, N, -1);
	double up = exp(log_far_tail(x + 1, K, n, N, +1));
	return up >= 1 ? -INFINITY : log1p(-up);
}

static int degenerate(int64_t a, int64_t b, int64_t c, int64_t d)
{
	return a + b == 0 || c + d == 0 || a + c == 0 || b + d == 0;
}

double fisher_greater_log(int64_t a, int64_t b, int64_t c, int64_t d)
{
	if (degenerate(a, b, c, d))
		return 0;
	double lp = hyper_logsf_ge(a, a + c, a + b, a + b + c + d);
	return lp > 0 ? 0 : lp;
}

double fisher_greater(int64_t a, int64_t b, int64_t c, int64_t d)
{
	return exp(fisher_greater_log(a, b, c, d));
}

double fisher_less(int64_t a, int64_t b, int64_t c, int64_t d)
{
	if (degenerate(a, b, c, d))
		return 1;
	double lp = hyper_logcdf(a, a + c, a + b, a + b + c + d);
	return lp > 0 ? 1 : exp(lp);
}

/* Two-sided: the probability of every table no more likely than the
 * observed one, as scipy.stats.fisher_exact: the observed tail, plus the
 * other side's tail beyond the last value whose probability exceeds the
 * observed one's, found by bisection (the mass is unimodal). Probabilities
 * within a relative 1e-7 of the observed count as equal (R's fisher.test;
 * scipy uses 1e-14, which log-space masses cannot resolve), so mirror-image
 * tables of a symmetric distribution are counted on both sides. */
double fisher_two_sided(int64_t a, int64_t b, int64_t c, int64_t d)
{
	if (degenerate(a, b, c, d))
		return 1;
	int64_t K = a + c, n = a + b, N = a + b + c + d;
	int64_t lo = n - (N - K) > 0 ? n - (N - K) : 0, hi = n < K ? n : K;
	const double tol = 1e-7;
	double le = hyper_logpmf(a, K, n, N);
	int64_t mode = (int64_t)floor(mode_of(K, n, N));
	if (mode < lo)
		mode = lo;
	if (mode > hi)
		mode = hi;
	if (le >= hyper_logpmf(mode, K, n, N) - tol)
		return 1;
	/* at least as likely as the observed: logpmf(x) > le + tol */
	double p;
	if (a < mode) {
		/* last x in (mode, hi] still more likely than a: pmf decreases there */
		int64_t l = mode, h = hi;
		while (l < h) {
			int64_t m = l + (h - l + 1) / 2;
			if (hyper_logpmf(m, K, n, N) > le + tol)
				l = m;
			else
				h = m - 1;
		}
		p = exp(hyper_logcdf(a, K, n, N)) + exp(hyper_logsf_ge(l + 1, K, n, N));
	} else {
		int64_t l = lo, h = mode;   /* first x in [lo, mode) more likely than a */
		while (l < h) {
			int64_t m = l + (h - l) / 2;
			if (hyper_logpmf(m, K, n, N) > le + tol)
				h = m;
			else
				l = m + 1;
		}
		p = exp(hyper_logsf_ge(a, K, n, N)) + exp(hyper_logcdf(l - 1, K, n, N));
	}
	return p > 1 ? 1 : p;
}

double fisher_odds_ratio(int64_t a, int64_t b, int64_t c, int64_t d)
{
	if (degenerate(a, b, c, d))
		return NAN;
	if (b == 0 || c == 0)
		return INFINITY;
	/* scipy multiplies in int64 and divides the two products as doubles;
	 * do the same (exact products) so the ratios agree to the last bit. */
	__int128 num = (__int128)a * d, den = (__int128)b * c;
	return (double)num / (double)den;
}
