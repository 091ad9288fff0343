#include "expr_stats.h"

#include <math.h>
#include <stdlib.h>

#include "rank.h"
#include "stats.h"
#include "xalloc.h"

double xs_rank_avg_sparse(const double *x, int64_t k, int64_t n, double *rank, double *zero_rank)
{
	/* Stable order (ties by index, -0 == +0): rank.h's argsort. */
	int64_t *o = xmallocarray((size_t)(k ? k : 1), sizeof *o);
	rank_argsort(x, k, o);
	int64_t nz = n - k, neg = 0;
	while (neg < k && x[o[neg]] < 0)
		neg++;
	double tie = 0;
	/* Zeros occupy positions neg+1 .. neg+nz of the full sorted vector. */
	*zero_rank = nz ? (double)neg + 0.5 * (double)(nz + 1) : 0;
	double tz = (double)nz;
	tie += tz * tz * tz - tz;
	for (int64_t i = 0; i < k;) {
		int64_t j = i + 1;
		while (j < k && x[o[j]] == x[o[i]])
			j++;
		double shift = i >= neg ? (double)nz : 0;
		double r = 0.5 * (double)(i + 1 + j) + shift;
		for (int64_t q = i; q < j; q++)
			rank[o[q]] = r;
		double t = (double)(j - i);
		tie += t * t * t - t;
		i = j;
	}
	free(o);
	return tie;
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
	*p = betainc_reg(0.5 * d, 0.5, d / (d + t2), t2 / (d + t2));
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
	double p = 2 * norm_sf(z);
	if (p > 1) p = 1;
	if (p < 0) p = 0;
	return p;
}
