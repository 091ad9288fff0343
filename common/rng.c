#include "rng.h"

#include <math.h>
#include <string.h>

#include "hash.h"
#include "xalloc.h"

uint64_t rng_mix64(uint64_t *state)
{
	return hash_mix64(*state += 0x9e3779b97f4a7c15ULL);
}

void rng_seed(rng_t *r, uint64_t seed)
{
	/* splitmix64 never yields four zero words in a row, so the state is valid. */
	for (int i = 0; i < 4; i++)
		r->s[i] = rng_mix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(rng_t *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rng_uniform(rng_t *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t rng_below(rng_t *r, uint64_t n)
{
	/* Lemire: multiply-shift with rejection of the biased low zone. */
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t thresh = (0 - n) % n;
		while (lo < thresh) {
			m = (unsigned __int128)rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

void rng_shuffle_u8(rng_t *r, unsigned char *a, int64_t n)
{
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)rng_below(r, (uint64_t)i + 1);
		unsigned char t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

void rng_shuffle_i64(rng_t *r, int64_t *a, int64_t n)
{
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)rng_below(r, (uint64_t)i + 1);
		int64_t t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

int64_t *rng_perm(uint64_t seed, int64_t n)
{
	int64_t *perm = xmallocarray((size_t)(n ? n : 1), sizeof *perm);
	for (int64_t i = 0; i < n; i++)
		perm[i] = i;
	rng_t r;
	rng_seed(&r, seed);
	rng_shuffle_i64(&r, perm, n);
	return perm;
}

double rng_norm(rng_t *r)
{
	double u, v, s;
	do {
		u = 2 * rng_uniform(r) - 1;
		v = 2 * rng_uniform(r) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	return u * sqrt(-2 * log(s) / s);
}

void rng_boot_counts(rng_t *r, double *counts, int64_t n)
{
	memset(counts, 0, (size_t)n * sizeof *counts);
	for (int64_t k = 0; k < n; k++)
		counts[rng_below(r, (uint64_t)n)] += 1;
}
