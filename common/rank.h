/* Ranks with fixed tie handling, for statistics: every mid-rank loop of the
 * tree. Orders come from sort.h's stable argsort and radix sorts, so equal
 * values (and -0.0 == +0.0) keep their index order and results never depend
 * on the sort algorithm. NaN must be filtered out by the caller. */
#ifndef AK_RANK_H
#define AK_RANK_H

#include <stddef.h>
#include <stdint.h>

/* Mid-ranks (1-based; tied values get the mean of the ranks they span), as
 * scipy.stats.rankdata(method='average'). Returns the tie term
 * sum over groups of tied values of (t^3 - t), which the tie corrections of
 * rank tests and of Spearman's coefficient need (0 when there is no tie). */
double rank_mid(const double *x, int64_t n, double *rank);

/* Mid-ranks within a vector of length n of which only the k entries
 * x[0..k-1] are stored and the other n - k are zeros (x holds no zeros and
 * no NaN). Writes the ranks of the stored entries into rank[0..k-1] and the
 * shared rank of the zeros (0 when k == n) into *zero_rank. Returns the tie
 * term (zeros included as one tie group). */
double rank_mid_sparse(const double *x, int64_t k, int64_t n, double *rank, double *zero_rank);

/* Doubled mid-ranks (integers, so sums of products are exact), n < 2^31.
 * key[0..n) sorted ascending (equal keys = tied values), idx the original
 * positions: r2[idx[i]] = 2 * mid-rank, i.e. a tie group at sorted
 * positions s..e-1 gets s + e + 1. */
void rank2_sorted(const uint64_t *key, const uint32_t *idx, size_t n, uint32_t *r2);
/* Same for records sorted by their high 32 bits (the value's key) that
 * carry the original position in their low 32 bits. */
void rank2_packed_sorted(const uint64_t *rec, size_t n, uint32_t *r2);

#endif
