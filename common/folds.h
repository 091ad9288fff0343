/* Cross-validation fold assignment, deterministic. */
#ifndef AK_FOLDS_H
#define AK_FOLDS_H

#include <stdint.h>

#include "strtab.h"

/* Rows 0..n-1 into k folds (0-based) of sizes differing by at most one: the
 * rows are shuffled (xoshiro256** from seed) and the shuffled order is cut
 * into k consecutive blocks, the first n % k one row larger (as
 * scikit-learn's KFold with shuffling cuts its permutation). */
void folds_random(int64_t n, int k, uint64_t seed, int *fold);

/* scikit-learn's GroupKFold (1.2) assignment, reproduced exactly, ties
 * included. Groups are numbered as np.unique numbers string labels (byte
 * order of the names); the group sizes are ordered by np.argsort (NumPy's
 * default introsort, not stable: equal sizes come out in the order its
 * partitioning leaves them) and that order is reversed; each group in turn
 * goes to the fold with the fewest rows so far (ties: lowest fold).
 * names[g] and gsize[g] describe group g (any order; every gsize > 0);
 * gfold[g] receives its fold. Returns 0, or -1 when there are fewer groups
 * than folds. */
int folds_grouped(const strtab_t *names, const int64_t *gsize, int64_t ngroups, int k, int *gfold);

/* NumPy 1.24's np.argsort(v) (kind='quicksort': introsort with median of
 * three, insertion sort for 16 elements or fewer, heapsort past the depth limit)
 * on int64 keys: idx receives the permutation NumPy returns. Exposed for
 * the tests. */
void folds_np_argsort(const int64_t *v, int64_t n, int64_t *idx);

#endif
