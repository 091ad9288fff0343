/* Ordering numbers: order-preserving integer keys for doubles and floats,
 * LSD radix sorts on 64-bit keys (optionally carrying a 32-bit payload such
 * as an index), and the stable argsort of doubles that every ranking and
 * statistic builds on. Selection and quantiles are select.h's; ranks are
 * rank.h's. (topk.h keeps its own key, tk_key, inside the attention engine.) */
#ifndef AK_SORT_H
#define AK_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Keys whose unsigned order is the numeric order (IEEE total order; NaNs
 * sort after +inf). -0.0 maps to the key of +0.0, so equal numbers have
 * equal keys, as == says. */
uint64_t f64_key(double x);
double key_f64(uint64_t k);
uint32_t f32_key(float x);

/* Sort a[0..n) ascending by bits lo_bit..63 only (lo_bit 0: the whole key);
 * stable. tmp: NULL or space for n keys. Digit passes on which all keys
 * agree are skipped, so narrow key ranges cost fewer passes. */
void radix64_sort(uint64_t *a, size_t n, int lo_bit, uint64_t *tmp);
/* As radix64_sort but in place (MSD, American flag sort): no second
 * buffer, for arrays too large to double; not stable. */
void radix64_sort_inplace(uint64_t *a, size_t n, int lo_bit);
/* Same, permuting idx[0..n) along with the keys; stable. tk/ti: NULL or n each. */
void radix64_sort_idx(uint64_t *key, uint32_t *idx, size_t n, uint64_t *tk, uint32_t *ti);

/* Sorted v[0..n): drops repeats in place, returns the new length. */
size_t uniq_u64(uint64_t *v, size_t n);

/* Sort a[0..n) ascending with qsort and the < / > comparison (the order
 * of equal values, -0.0 and +0.0 among them, is glibc's). No NaN. */
void sort_f64(double *a, size_t n);

/* order[0..n) = indices of x in ascending order of value, ties (and -0.0
 * == +0.0) by index: a stable argsort, so results never depend on the
 * algorithm. NaN must be filtered out by the caller (here NaNs sort after
 * +inf, in index order). O(n) extra memory; radix sort for large n. */
void argsort_f64(const double *x, int64_t n, int64_t *order);
/* Same, descending by value, ties still by ascending index. */
void argsort_f64_desc(const double *x, int64_t n, int64_t *order);

#endif
