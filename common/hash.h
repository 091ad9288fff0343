/* The hashes of the tree, in one place. hash_mix64 for integer keys: the
 * pair tables (pairtab, pairset, and through pairset edge-null's edge
 * sets) and rng's seeder. hash_bytes for strings: strtab. */
#ifndef AK_HASH_H
#define AK_HASH_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64's finaliser: a cheap 64-bit mix in which every input bit
 * reaches every output bit, so hash tables may index by the low bits (a
 * power-of-two mask). */
static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* FNV-1a over the bytes, then half of murmur3's finaliser so that the low
 * bits used by a mask are good. It is not hash_mix64 on purpose: auroc
 * derives each group's bootstrap stream from hash_bytes of the group key,
 * so a different mix would change published intervals. */
uint64_t hash_bytes(const void *p, size_t n);

#endif
