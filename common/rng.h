/* A small seeded random number generator (xoshiro256**, seeded through
 * splitmix64) for bootstraps and permutations. The same seed gives the same
 * stream on every platform: results are reproducible with --seed. */
#ifndef AK_RNG_H
#define AK_RNG_H

#include <stdint.h>

typedef struct rng {
	uint64_t s[4];
} rng_t;

/* splitmix64 step: also a good 64-bit mixing function for deriving seeds. */
uint64_t rng_mix64(uint64_t *state);
void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_next(rng_t *r);
/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(rng_t *r);
/* Uniform integer in [0, n), unbiased (Lemire's method); n >= 1. */
uint64_t rng_below(rng_t *r, uint64_t n);
/* Standard normal (Marsaglia's polar method, no cached spare value). */
double rng_norm(rng_t *r);
/* Fisher-Yates shuffle of n bytes / n int64 values in place. */
/* A bootstrap over n groups: counts[g] = how often group g is drawn in n
 * draws with replacement (rng_below, in draw order). */
void rng_boot_counts(rng_t *r, double *counts, int64_t n);
void rng_shuffle_u8(rng_t *r, unsigned char *a, int64_t n);
void rng_shuffle_i64(rng_t *r, int64_t *a, int64_t n);
/* 0..n-1 shuffled by rng_shuffle_i64 from rng_seed(seed): a new array
 * (at least one element), for the caller to free. */
int64_t *rng_perm(uint64_t seed, int64_t n);

#endif
