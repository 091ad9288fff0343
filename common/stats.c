#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rank.h"
#include "xalloc.h"

/* ---------------------------------------------------------------- sums */

/* numpy's pairwise_sum (umath/loops_utils.h): sequential below 8 elements,
 * 8 accumulators up to a block of 128, halving (at multiples of 8) above. */
static double pairwise(const double *a, int64_t n)
{
	if (n < 8) {
		double res = 0.;
		for (int64_t i = 0; i < n; i++)
			res += a[i];
		return res;
	}
	if (n <= 128) {
		double r[8];
		for (int j = 0; j < 8; j++)
			r[j] = a[j];
		int64_t i;
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += a[i + j];
		double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	int64_t n2 = n / 2;
	n2 -= n2 % 8;
	return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

double sum_pairwise(const double *x, int64_t n)
{
	/* add.reduce starts from the identity 0.0; its iterator hands the inner
	 * loop at most one buffer (8192 elements) at a time, and each piece is
	 * summed pairwise and added to the running total. */
	double res = 0.0;
	for (int64_t i = 0; i < n; i += 8192)
		res += pairwise(x + i, n - i < 8192 ? n - i : 8192);
	return res;
}

double mean_np(const double *x, int64_t n)
{
	return n > 0 ? sum_pairwise(x, n) / (double)n : NAN;
}

double var_np(const double *x, int64_t n, int ddof, double *tmp)
{
	if (n <= 0)
		return NAN;
	double m = mean_np(x, n);
	for (int64_t i = 0; i < n; i++) {
		double d = x[i] - m;
		tmp[i] = d * d;
	}
	double v = sum_pairwise(tmp, n) / (double)n;
	if (ddof)
		v *= (double)n / (double)(n - ddof); /* n == ddof: inf * 0 = NaN, as numpy */
	return v;
}

double quantile_sorted(const double *v, int64_t n, double q)
{
	if (n <= 0)
		return NAN;
	double h = (double)(n - 1) * q;
	int64_t lo = (int64_t)floor(h);
	if (lo < 0)
		lo = 0;
	if (lo >= n - 1)
		return v[n - 1];
	double f = h - (double)lo;
	return v[lo] + f * (v[lo + 1] - v[lo]);
}

/* ------------------------------------------------ binary classification */

double auroc_sorted_u2(const double *s, const unsigned char *y, int64_t n, int64_t *u2out)
{
	int64_t npos = 0, nneg = 0, u2 = 0;
	for (int64_t i = 0; i < n;) {
		int64_t j = i, bp = 0;
		while (j < n && s[j] == s[i])
			bp += y[j++];
		int64_t bn = (j - i) - bp;
		/* each positive beats the negatives below and ties half of its block's */
		u2 += bp * (2 * nneg + bn);
		npos += bp;
		nneg += bn;
		i = j;
	}
	if (u2out)
		*u2out = u2;
	if (npos == 0 || nneg == 0)
		return NAN;
	return (double)u2 / (2.0 * (double)npos * (double)nneg);
}

double auroc_sorted(const double *s, const unsigned char *y, const double *w, int64_t n)
{
	if (!w)
		return auroc_sorted_u2(s, y, n, NULL);
	double wp = 0, wn = 0, u2 = 0;
	for (int64_t i = 0; i < n;) {
		int64_t j = i;
		double bp = 0, bn = 0;
		for (; j < n && s[j] == s[i]; j++) {
			if (y[j])
				bp += w[j];
			else
				bn += w[j];
		}
		u2 += bp * (2 * wn + bn);
		wp += bp;
		wn += bn;
		i = j;
	}
	if (!(wp > 0) || !(wn > 0))
		return NAN;
	return u2 / (2.0 * wp * wn);
}

double avgprec_sorted(const double *s, const unsigned char *y, const double *w, int64_t n)
{
	double P = 0;
	for (int64_t i = 0; i < n; i++)
		if (y[i])
			P += w ? w[i] : 1.0;
	if (!(P > 0))
		return NAN;
	/* One term per distinct threshold, from the highest score down to the
	 * first that reaches full recall, summed in scikit-learn's order (lowest
	 * threshold first, numpy pairwise sum) so the result matches its bits. */
	double *term = xmallocarray((size_t)(n ? n : 1), sizeof *term);
	int64_t nt = 0;
	double tp = 0, fp = 0, prev = 0;
	for (int64_t j = n; j > 0 && tp < P;) {
		int64_t i = j - 1;
		while (i > 0 && s[i - 1] == s[j - 1])
			i--;
		for (int64_t k = i; k < j; k++) {
			double wk = w ? w[k] : 1.0;
			if (y[k])
				tp += wk;
			else
				fp += wk;
		}
		double rec = tp / P;
		double prec = tp + fp > 0 ? tp / (tp + fp) : 0.0;
		term[nt++] = (rec - prev) * prec;
		prev = rec;
		j = i;
	}
	/* reverse into scikit-learn's order */
	for (int64_t a = 0, b = nt - 1; a < b; a++, b--) {
		double t = term[a];
		term[a] = term[b];
		term[b] = t;
	}
	double ap = sum_pairwise(term, nt);
	free(term);
	return ap;
}

double precision_at_sorted(const double *s, const unsigned char *y, int64_t n, int64_t k)
{
	if (n <= 0 || k < 1)
		return NAN;
	if (k > n)
		k = n;
	double pos = 0;
	int64_t taken = 0;
	for (int64_t j = n; j > 0 && taken < k;) {
		int64_t i = j - 1, bp = 0;
		while (i > 0 && s[i - 1] == s[j - 1])
			i--;
		for (int64_t t = i; t < j; t++)
			bp += y[t];
		int64_t b = j - i;
		if (taken + b <= k) {
			pos += (double)bp;
			taken += b;
		} else {
			pos += (double)bp * (double)(k - taken) / (double)b;
			taken = k;
		}
		j = i;
	}
	return pos / (double)k;
}

static void sorted_copy(const double *score, const unsigned char *label, int64_t n, double **s,
			unsigned char **y)
{
	int64_t *o = xmallocarray((size_t)(n ? n : 1), sizeof *o);
	rank_argsort(score, n, o);
	*s = xmallocarray((size_t)(n ? n : 1), sizeof **s);
	*y = xmalloc((size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++) {
		(*s)[i] = score[o[i]];
		(*y)[i] = label[o[i]] ? 1 : 0;
	}
	free(o);
}

double auroc(const double *score, const unsigned char *label, int64_t n)
{
	double *s;
	unsigned char *y;
	sorted_copy(score, label, n, &s, &y);
	double a = auroc_sorted(s, y, NULL, n);
	free(s);
	free(y);
	return a;
}

double avgprec(const double *score, const unsigned char *label, int64_t n)
{
	double *s;
	unsigned char *y;
	sorted_copy(score, label, n, &s, &y);
	double a = avgprec_sorted(s, y, NULL, n);
	free(s);
	free(y);
	return a;
}

/* ------------------------------------------------------ multiple testing */

void fdr_adjust_sorted(const double *p, const int64_t *order, int64_t m, int method, double *q)
{
	if (m <= 0)
		return;
	double cm = 1.0;
	if (method == FDR_BY) {
		/* np.sum(1. / np.arange(1, m + 1)) */
		double *h = xmallocarray((size_t)m, sizeof *h);
		for (int64_t k = 0; k < m; k++)
			h[k] = 1.0 / (double)(k + 1);
		cm = sum_pairwise(h, m);
		free(h);
	}
	double run = INFINITY;
	for (int64_t r = m - 1; r >= 0; r--) {
		int64_t i = order[r];
		double f = (double)(r + 1) / (double)m;
		if (method == FDR_BY)
			f /= cm;
		double raw = p[i] / f;
		if (raw < run)
			run = raw;
		q[i] = run > 1.0 ? 1.0 : run;
	}
}

void fdr_adjust(const double *p, int64_t m, int method, double *q)
{
	if (m <= 0)
		return;
	int64_t *o = xmallocarray((size_t)m, sizeof *o);
	rank_argsort(p, m, o);
	fdr_adjust_sorted(p, o, m, method, q);
	free(o);
}

/* ---------------------------------------------------------- paired tests */

wilcoxon_res_t wilcoxon_signed_rank(const double *d, int64_t n)
{
	wilcoxon_res_t res = { NAN, NAN, NAN, 0 };
	if (n <= 0)
		return res;
	double *a = xmallocarray((size_t)n, sizeof *a);
	double *r = xmallocarray((size_t)n, sizeof *r);
	int64_t nzero = 0;
	for (int64_t i = 0; i < n; i++) {
		a[i] = fabs(d[i]);
		nzero += d[i] == 0;
	}
	/* mid-ranks of |d|; tiecorr = sum of t^3 - t over tied groups */
	double tiecorr = rank_mid(a, n, r);
	/* Half-integer ranks: these sums are exact. */
	double rplus = 0, rminus = 0, rzero = 0;
	for (int64_t i = 0; i < n; i++) {
		if (d[i] > 0)
			rplus += r[i];
		else if (d[i] < 0)
			rminus += r[i];
		else
			rzero += r[i];
	}
	rplus += rzero / 2.;
	rminus += rzero / 2.;
	res.stat = rplus < rminus ? rplus : rminus;
	if (n <= 50 && nzero == 0 && tiecorr == 0) {
		/* Exact: number of subsets of {1..n} with each rank sum, in integers
		 * (2^50 fits), so the tail sums are exact dyadic rationals. */
		int64_t M = n * (n + 1) / 2;
		uint64_t *c = xcalloc((size_t)M + 1, sizeof *c);
		c[0] = 1;
		for (int64_t k = 1; k <= n; k++)
			for (int64_t s = k * (k + 1) / 2; s >= k; s--)
				c[s] += c[s - k];
		int64_t rp = (int64_t)rplus;
		if (rp == M / 2) {
			res.p = 1.0; /* scipy: the centre of the distribution */
		} else {
			uint64_t lo = 0, hi = 0;
			for (int64_t s = 0; s <= rp; s++)
				lo += c[s];
			for (int64_t s = rp; s <= M; s++)
				hi += c[s];
			double scale = ldexp(1.0, -(int)n);
			double pl = (double)lo * scale, pg = (double)hi * scale;
			double p = 2 * (pl < pg ? pl : pg);
			res.p = p > 1 ? 1 : p;
		}
		res.exact = 1;
		free(c);
	} else {
		double nn = (double)n;
		double mn = nn * (nn + 1.) * 0.25;
		double se = nn * (nn + 1.) * (2. * nn + 1.);
		se -= 0.5 * tiecorr;
		se = sqrt(se / 24);
		double z = (res.stat - mn) / se;
		res.z = z;
		res.p = 2. * norm_sf(fabs(z));
		res.exact = 0;
	}
	free(a);
	free(r);
	return res;
}

ttest_res_t ttest_one(const double *d, int64_t n)
{
	ttest_res_t res = { NAN, NAN, NAN, NAN, NAN };
	if (n <= 0)
		return res;
	res.mean = mean_np(d, n);
	if (n < 2)
		return res;
	double *tmp = xmallocarray((size_t)n, sizeof *tmp);
	double v = var_np(d, n, 1, tmp);
	free(tmp);
	res.df = (double)(n - 1);
	res.sd = sqrt(v);
	double denom = sqrt(v / (double)n);
	res.t = res.mean / denom;
	if (!isnan(res.t))
		res.p = 2 * t_sf(fabs(res.t), res.df);
	return res;
}

/* --------------------------------------------------------- distributions */

double norm_sf(double z)
{
	return 0.5 * erfc(z * M_SQRT1_2);
}

/* Stirling series remainder of log Gamma(x) for x >= 10:
 * lgamma(x) = (x - 0.5) log x - x + log(2 pi)/2 + corr(x). */
static double stirling_corr(double x)
{
	double r = 1.0 / x, r2 = r * r;
	return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 / 1188))));
}

double lbeta(double a, double b)
{
	double lo = a < b ? a : b, hi = a < b ? b : a;
	if (hi < 10)
		return lgamma(a) + lgamma(b) - lgamma(a + b);
	if (lo < 10) {
		/* lgamma(hi) - lgamma(hi + lo) without cancelling two large numbers */
		double d = -(hi - 0.5) * log1p(lo / hi) - lo * log(hi + lo) + lo +
			   stirling_corr(hi) - stirling_corr(hi + lo);
		return lgamma(lo) + d;
	}
	double s = a + b;
	return 0.5 * log(2 * M_PI) - 0.5 * log(s) - (a - 0.5) * log1p(b / a) -
	       (b - 0.5) * log1p(a / b) + stirling_corr(a) + stirling_corr(b) - stirling_corr(s);
}

/* Continued fraction for I_x(a, b) (modified Lentz), used where it converges
 * fast: x < (a + 1) / (a + b + 2). */
static double betainc_cf(double a, double b, double x, double y)
{
	const double tiny = 1e-300, eps = 1e-16;
	double lx = x < 0.5 ? log(x) : log1p(-y);
	double ly = y < 0.5 ? log(y) : log1p(-x);
	double front = exp(a * lx + b * ly - lbeta(a, b)) / a;
	double qab = a + b, qap = a + 1, qam = a - 1;
	double c = 1, d = 1 - qab * x / qap;
	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	double h = d;
	for (int m = 1; m <= 100000; m++) {
		double m2 = 2.0 * m;
		double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		double del = d * c;
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return front * h;
}

double betainc_reg(double a, double b, double x, double y)
{
	if (isnan(x) || isnan(y) || !(a > 0) || !(b > 0))
		return NAN;
	if (x <= 0)
		return 0;
	if (y <= 0)
		return 1;
	if (x > (a + 1) / (a + b + 2))
		return 1 - betainc_cf(b, a, y, x);
	return betainc_cf(a, b, x, y);
}

double t_sf(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return t > 0 ? 0 : 1;
	if (t == 0)
		return 0.5;
	/* P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t^2); u = df / t^2
	 * formed without overflowing t^2. */
	double at = fabs(t);
	double u = df / at / at;
	double x = u / (1 + u), y = 1 / (1 + u);
	double tail = 0.5 * betainc_reg(0.5 * df, 0.5, x, y);
	return t > 0 ? tail : 1 - tail;
}

void fdr_adjust_nan(const double *p, int64_t n, int method, double *q)
{
	int64_t *idx = xmallocarray((size_t)(n ? n : 1), sizeof *idx);
	double *v = xmallocarray((size_t)(n ? n : 1), sizeof *v);
	int64_t m = 0;
	for (int64_t i = 0; i < n; i++)
		if (!isnan(p[i])) {
			idx[m] = i;
			v[m++] = p[i];
		}
	double *qq = xmallocarray((size_t)(m ? m : 1), sizeof *qq);
	fdr_adjust(v, m, method, qq);
	for (int64_t i = 0; i < n; i++)
		q[i] = NAN;
	for (int64_t k = 0; k < m; k++)
		q[idx[k]] = qq[k];
	free(qq);
	free(v);
	free(idx);
}
