/* Ordering numbers fast: order-preserving integer keys for doubles and
 * floats, LSD radix sorts on 64-bit keys (optionally carrying a 32-bit
 * payload such as an index), and selection of the k-th smallest value. */
#ifndef AK_SELECT_H
#define AK_SELECT_H

#include <stddef.h>
#include <stdint.h>

/* Keys whose unsigned order is the numeric order (NaN must not occur).
 * -0.0 maps to the key of +0.0, so equal numbers have equal keys. */
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
/* Same, permuting idx[0..n) along with the keys. tk/ti: NULL or n each. */
void radix64_sort_idx(uint64_t *key, uint32_t *idx, size_t n, uint64_t *tk, uint32_t *ti);

/* Sorted v[0..n): drops repeats in place, returns the new length. */
size_t uniq_u64(uint64_t *v, size_t n);

/* k-th smallest (0-based) of a[0..n), n > k; a is reordered so that
 * a[i] <= a[k] for i < k and a[i] >= a[k] for i > k. Expected O(n). */
double select_f64(double *a, size_t n, size_t k);
/* Median (mean of the two middle values when n is even, as numpy), NaN
 * when n is 0; a is reordered. */
double median_f64(double *a, size_t n);

#endif
