/* Cross-validation fold assignment, deterministic. */
#ifndef AK_FOLDS_H
#define AK_FOLDS_H

#include <stdint.h>

/* Rows 0..n-1 into k folds (0-based) of sizes differing by at most one: the
 * rows are shuffled (xoshiro256** from seed) and the shuffled order is cut
 * into k consecutive blocks, the first n % k one row larger (as
 * scikit-learn's KFold with shuffling cuts its permutation). */
void folds_random(int64_t n, int k, uint64_t seed, int *fold);

/* Groups into k folds so that no group is split (scikit-learn's GroupKFold
 * rule): groups taken by decreasing size (ties: smaller group id first),
 * each given to the fold with the fewest rows so far (ties: lowest fold).
 * gfold[g] receives the fold of group g; returns 0, or -1 when there are
 * fewer groups with rows than folds. */
int folds_grouped(const int64_t *gsize, int64_t ngroups, int k, int *gfold);

#endif
