/* splitmix64's finaliser: a cheap 64-bit mix in which every input bit
 * reaches every output bit, so hash tables may index by the low bits (a
 * power-of-two mask). Shared by the pair tables and the seeder of rng. */
#ifndef AK_HASH_H
#define AK_HASH_H

#include <stdint.h>

static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#endif
