/* Wilcoxon signed-rank tests: scipy's zero_method="zsplit" with an exact
 * small-sample distribution (paired-test), and zero_method="wilcox" on
 * sorted data with the normal approximation (rank-quantile). signrank.c
 * says why both exist. */
#ifndef AK_SIGNRANK_H
#define AK_SIGNRANK_H

#include <stddef.h>
#include <stdint.h>

typedef struct wilcoxon_res {
	double stat;   /* min(R+, R-), zero differences split between both */
	double p;      /* two-sided */
	double z;      /* normal approximation's z (NaN when exact) */
	int exact;     /* 1: exact null distribution, 0: normal approximation */
} wilcoxon_res_t;
/* Wilcoxon signed-rank test of differences d[0..n), two-sided, zero
 * differences handled as scipy's zero_method='zsplit', no continuity
 * correction. Exact distribution when n <= 50 and there are no ties and no
 * zeros; otherwise the normal approximation with tie correction. n == 0:
 * everything NaN. */
wilcoxon_res_t wilcoxon_signed_rank(const double *d, int64_t n);

/* Wilcoxon signed-rank test of x - mu for x[0..n) sorted ascending.
 * Zeros (x == mu) are dropped (scipy's zero_method="wilcox"); the |x - mu|
 * are ranked with average ranks; normal approximation without continuity
 * correction, variance reduced by sum(t^3 - t)/48 over tie groups.
 * *z = (R+ - m(m+1)/4) / sd, signed (negative: x tends to lie below mu);
 * *p two-sided = erfc(|z| / sqrt 2). m = n minus zeros goes to *m; z and p
 * are NaN when m = 0. Same numbers as scipy.stats.wilcoxon(x - mu,
 * zero_method="wilcox", correction=False, method="approx") in scipy 1.10,
 * except that scipy reports z = -|z| for the two-sided test. */
void wilcoxon_sorted(const double *x, size_t n, double mu, double *z, double *p, size_t *m);

#endif
