/* LSD radix sort of unsigned 64-bit keys, and removal of repeats: the
 * cache-friendly way to deduplicate millions of packed pairs (a * n + b),
 * faster than hashing them one at a time and with a quarter of the memory. */
#ifndef AK_RADIX_H
#define AK_RADIX_H

#include <stddef.h>
#include <stdint.h>

/* Sorts v[0..n) ascending. maxkey bounds the keys (v[i] <= maxkey) so that
 * only the digits in use are passed over; UINT64_MAX when unknown. */
void radix_sort_u64(uint64_t *v, size_t n, uint64_t maxkey);
/* Sorted v: drops repeats in place, returns the new length. */
size_t uniq_u64(uint64_t *v, size_t n);

#endif
