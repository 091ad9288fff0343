/* Rank statistics used to compare layers: average ranks kept doubled (so
 * they are integers and sums are exact), Spearman correlation from such
 * ranks, and the Wilcoxon signed-rank test (normal approximation). */
#ifndef AK_RQ_STATS_H
#define AK_RQ_STATS_H

#include <stddef.h>
#include <stdint.h>

/* key[0..n) sorted ascending (equal keys = tied values), idx the original
 * positions: r2[idx[i]] = 2 * average rank (ranks 1..n), i.e. a tie group
 * at sorted positions s..e-1 gets s + e + 1. n < 2^31. */
void avg_ranks2_sorted(const uint64_t *key, const uint32_t *idx, size_t n, uint32_t *r2);

/* Spearman rho from doubled average ranks a, b of the same n items, given
 * saa = sum a^2, sbb = sum b^2, sab = sum a*b (exact integers): Pearson
 * correlation of the ranks. NaN when n < 2 or either side is constant. */
double spearman_r2(uint64_t n, unsigned __int128 sab, unsigned __int128 saa, unsigned __int128 sbb);
/* sum of x[i] * y[i] for uint32 arrays, exactly. */
unsigned __int128 dot_u32(const uint32_t *x, const uint32_t *y, size_t n);

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
