#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sort.h"
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
	argsort_f64(score, n, o);
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
	argsort_f64(p, m, o);
	fdr_adjust_sorted(p, o, m, method, q);
	free(o);
}

/* ---------------------------------------------------------- paired tests */

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

/* ------------------------------------------------------- two-sample tests */

void welch_moments(double m1, double v1, double n1, double m2, double v2, double n2,
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
	*p = betainc_reg(0.5 * d, 0.5, d / (d + t2), t2 / (d + t2));
}

double mwu_p_normal(double u1, double n1, double n2, double tie, int cont)
{
	double mu = n1 * n2 / 2, n = n1 + n2;
	double u2 = n1 * n2 - u1, u = u1 > u2 ? u1 : u2;
	double s = sqrt(n1 * n2 / 12 * ((n + 1) - tie / (n * (n - 1))));
	double num = u - mu;
	if (cont)
		num -= 0.5;
	double z = num / s;
	double p = 2 * norm_sf(z);
	if (p > 1) p = 1;
	if (p < 0) p = 0;
	return p;
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
