#include "rq_stats.h"

#include <math.h>

void avg_ranks2_sorted(const uint64_t *key, const uint32_t *idx, size_t n, uint32_t *r2)
{
	for (size_t s = 0; s < n;) {
		size_t e = s + 1;
		while (e < n && key[e] == key[s])
			e++;
		uint32_t v = (uint32_t)(s + e + 1);
		for (size_t i = s; i < e; i++)
			r2[idx[i]] = v;
		s = e;
	}
}

double spearman_r2(uint64_t n, unsigned __int128 sab, unsigned __int128 saa, unsigned __int128 sbb)
{
	if (n < 2)
		return NAN;
	/* Doubled ranks sum to n(n+1) whatever the ties, so the centred sums
	 * are sum(ab) - n(n+1)^2 (and likewise for a, b), still exact. */
	unsigned __int128 c = (unsigned __int128)n * (n + 1) * (n + 1);
	__int128 sxy = (__int128)(sab - c);
	unsigned __int128 sxx = saa - c, syy = sbb - c;
	if (sxx == 0 || syy == 0)
		return NAN;
	/* double, not long double: the sums are exact, one rounding each is
	 * plenty, and valgrind does not emulate x87 extended precision. */
	double r = (double)sxy / sqrt((double)sxx * (double)syy);
	if (r > 1)
		r = 1;
	if (r < -1)
		r = -1;
	return r;
}

unsigned __int128 dot_u32(const uint32_t *x, const uint32_t *y, size_t n)
{
	unsigned __int128 s = 0;
	for (size_t i = 0; i < n; i++)
		s += (uint64_t)x[i] * y[i];
	return s;
}

void wilcoxon_sorted(const double *x, size_t n, double mu, double *z, double *p, size_t *m)
{
	/* x sorted, so d = x - mu is sorted: negatives first, then zeros, then
	 * positives. |d| ascends walking the negatives down from the zeros and
	 * the positives up from them: merge the two walks to rank |d| in O(n). */
	size_t a = 0, b;
	while (a < n && x[a] - mu < 0)
		a++;
	b = a;
	while (b < n && x[b] - mu == 0)
		b++;
	size_t nr = a + (n - b);
	*m = nr;
	if (nr == 0) {
		*z = *p = NAN;
		return;
	}
	ptrdiff_t i = (ptrdiff_t)a - 1;
	size_t j = b, done = 0;
	double rplus = 0, ties = 0;
	while (i >= 0 || j < n) {
		double vn = i >= 0 ? -(x[i] - mu) : INFINITY;
		double vp = j < n ? x[j] - mu : INFINITY;
		double v = vn < vp ? vn : vp;
		size_t cn = 0, cp = 0;
		while (i >= 0 && -(x[i] - mu) == v) {
			cn++;
			i--;
		}
		while (j < n && x[j] - mu == v) {
			cp++;
			j++;
		}
		double t = (double)(cn + cp);
		rplus += (double)cp * ((double)done + (t + 1) / 2);
		ties += t * t * t - t;
		done += cn + cp;
	}
	double dn = (double)nr;
	double mn = dn * (dn + 1) * 0.25;
	double se = sqrt((dn * (dn + 1) * (2 * dn + 1) - 0.5 * ties) / 24);
	*z = (rplus - mn) / se;
	*p = erfc(fabs(*z) / sqrt(2.0));
}
