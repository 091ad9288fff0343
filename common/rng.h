/* Seeded pseudo-random numbers (xoshiro256**, seeded through splitmix64):
 * the same seed gives the same stream on every machine, so anything random
 * in attnkit is reproducible from its --seed. */
#ifndef AK_RNG_H
#define AK_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; } rng_t;

void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_next(rng_t *r);
/* Uniform in [0, 1) with 53 random bits. */
double rng_unif(rng_t *r);
/* Uniform integer in [0, n), without modulo bias. */
uint64_t rng_below(rng_t *r, uint64_t n);
/* Standard normal (Marsaglia polar method; no cached spare, so streams stay simple). */
double rng_norm(rng_t *r);
/* Fisher-Yates shuffle of an int64 array. */
void rng_shuffle(rng_t *r, int64_t *a, int64_t n);

#endif
