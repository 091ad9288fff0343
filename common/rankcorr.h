/* Spearman correlation from doubled mid-ranks (rank.h's rank2_*): the
 * ranks are integers, so the sums behind the coefficient are exact (used
 * by rank-quantile and rsa to compare layers). */
#ifndef AK_RANKCORR_H
#define AK_RANKCORR_H

#include <stddef.h>
#include <stdint.h>

/* Spearman rho from doubled average ranks a, b of the same n items, given
 * saa = sum a^2, sbb = sum b^2, sab = sum a*b (exact integers): Pearson
 * correlation of the ranks. NaN when n < 2 or either side is constant. */
double spearman_r2(uint64_t n, unsigned __int128 sab, unsigned __int128 saa, unsigned __int128 sbb);
/* sum of x[i] * y[i] for uint32 arrays, exactly. */
unsigned __int128 dot_u32(const uint32_t *x, const uint32_t *y, size_t n);

#endif
