/* Two Wilcoxon signed-rank tests, side by side on purpose. They answer
 * different callers and differ in how they treat zero differences, so
 * neither can replace the other without changing published numbers:
 *
 * - wilcoxon_signed_rank (paired-test): differences d in any order, zeros
 *   kept and their ranks split between R+ and R- (scipy's
 *   zero_method="zsplit"), the exact null distribution for small samples
 *   without ties, the normal approximation otherwise; reports min(R+, R-).
 * - wilcoxon_sorted (rank-quantile): quantiles already sorted, tested
 *   against mu = 0.5; zeros dropped (scipy's zero_method="wilcox"), always
 *   the normal approximation, a signed z, and O(n) ranking by merging the
 *   two walks away from mu instead of a sort.
 *
 * Both rank |d| with mid-ranks and reduce the variance by the tie term
 * sum(t^3 - t) (rank.h's convention). */
#include "signrank.h"

#include <math.h>
#include <stdlib.h>

#include "rank.h"
#include "stats.h"
#include "xalloc.h"

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
