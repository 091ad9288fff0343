/* Unit check (tests/keyhist.bats): the rank histogram of attn-topk --at
 * (common/keyhist.c) against brute force. Keys of random floats of every
 * kind (negative, zero, subnormal, huge, plus keys that are no float's
 * such as 0 and 2^32 - 1), clustered keys, and one key repeated (150,000
 * times among the others, then 140,000 more times into one thread's table
 * and 70,000 into the other's, so its 16-bit digit wraps in a thread's table
 * and again when the tables are added) go through two kh_local_t, in
 * batches of odd sizes and single kh_add calls, with flushes in between,
 * into one kh_t.
 * Then kh_count_above / kh_count_bin for every bin that holds a key, for
 * the neighbours of those bins, and for random keys, and kh_count_above_n
 * on all those keys shuffled, must equal counts over the sorted keys:
 * entries in higher bins, entries in the same bin.
 *   keyhist SEED: prints "ok KEYS QUERIES" or the first mismatches. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keyhist.h"
#include "topk.h"
#include "xalloc.h"

static uint64_t rng = 1;

static uint64_t next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static float randf(void)
{
	uint64_t c = next() % 128;
	if (c == 0) { /* any bit pattern that is a finite float (1/128: each opens a region) */
		uint32_t u;
		float f;
		do {
			u = (uint32_t)next();
			memcpy(&f, &u, sizeof f);
		} while (!isfinite(f));
		return f;
	}
	if (c < 16) /* subnormals of both signs */
		return (float)((double)(next() % 8388608) * 0x1p-149) * (next() & 1 ? 1.0f : -1.0f);
	if (c < 32) /* huge */
		return (float)(0x1p100 * (1.0 + (double)(next() % 1000))) * (next() & 1 ? 1.0f : -1.0f);
	if (c < 48)
		return 0.0f;
	/* softmax-like: a few binades, dense bins */
	return (float)exp(-9.0 - 4.0 * (double)(next() % 100000) / 100000.0) * (next() % 16 ? 1.0f : -1.0f);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Sorted keys: how many have (key >> KH_SHIFT) > (q >> KH_SHIFT), == it. */
static size_t upper(const uint32_t *k, size_t n, uint64_t v)   /* first k > v */
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (k[m] > v)
			hi = m;
		else
			lo = m + 1;
	}
	return lo;
}

static int fails;
static size_t nquery;
static uint32_t *qkey;    /* every key queried, for kh_count_above_n */
static uint64_t *qwant;

static void check(const kh_t *g, const uint32_t *k, size_t n, uint32_t q)
{
	uint64_t first = (uint64_t)(q >> KH_SHIFT) << KH_SHIFT;
	uint64_t last = first + (1u << KH_SHIFT) - 1;
	size_t a = first ? upper(k, n, first - 1) : 0, b = upper(k, n, last);
	uint64_t want_above = n - b, want_bin = b - a;
	uint64_t got_above = kh_count_above(g, q), got_bin = kh_count_bin(g, q);
	qkey[nquery] = q;
	qwant[nquery++] = want_above;
	if ((got_above != want_above || got_bin != want_bin) && fails++ < 10)
		printf("key %08x: above %llu want %llu, bin %llu want %llu\n", q,
		       (unsigned long long)got_above, (unsigned long long)want_above,
		       (unsigned long long)got_bin, (unsigned long long)want_bin);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	rng = argc > 1 ? strtoull(argv[1], NULL, 10) | 1 : 1;
	const size_t nrand = 300000, nrep = 150000, nclus = 100000;
	const size_t nrep0 = 140000, nrep1 = 70000;
	size_t n = nrand + nrep + nclus + 2 + nrep0 + nrep1;
	uint32_t *key = xmallocarray(n, sizeof *key), *all = xmallocarray(n, sizeof *all);
	size_t m = 0;
	for (size_t i = 0; i < nrand; i++)
		key[m++] = tk_key(randf() + 0.0f);
	const uint32_t rep = tk_key(3.0e-5f);
	for (size_t i = 0; i < nrep; i++)
		key[m++] = rep;
	for (size_t i = 0; i < nclus; i++) /* 100,000 keys over 64 bins */
		key[m++] = 0x3f000000u + (uint32_t)(next() % (64u << KH_SHIFT));
	key[m++] = 0;
	key[m++] = UINT32_MAX;
	for (size_t i = m - 1; i > 0; i--) {
		size_t j = next() % (i + 1);
		uint32_t t = key[i];
		key[i] = key[j];
		key[j] = t;
	}
	memcpy(all, key, m * sizeof *all);

	static kh_local_t loc[2];
	static kh_t g;
	size_t i = 0, calls = 0;
	while (i < m) {
		kh_local_t *l = &loc[next() % 2];
		size_t len;
		switch (next() % 4) {
		case 0:
			len = 1 + next() % 7;
			break;
		case 1:
			len = 500 + next() % 30;
			break;
		default:
			len = 1 + next() % 5000;
		}
		if (len > m - i)
			len = m - i;
		if (next() % 3 == 0) {
			for (size_t t = 0; t < len; t++)
				kh_add(l, key[i + t]);
		} else {
			kh_add_keys(l, key + i, len);
		}
		l->count += len; /* the caller's part */
		i += len;
		if (calls % 97 == 0)
			kh_settle(l); /* optional: kh_flush settles too */
		if (++calls % 150 == 0) {
			kh_flush(&g, l);
			if (l->count && fails++ < 10)
				printf("count not zero after a flush\n");
		}
	}
	/* The repeated key again, without a flush in between. */
	for (size_t t = 0; t < nrep0; t++)
		all[m++] = key[t] = rep;
	for (size_t t = 0; t < nrep0; t += 7001)
		kh_add_keys(&loc[0], key, nrep0 - t < 7001 ? nrep0 - t : 7001);
	for (size_t t = 0; t < nrep1; t++) {
		all[m++] = rep;
		kh_add(&loc[1], rep);
	}
	loc[0].count += nrep0;
	loc[1].count += nrep1;
	if ((kh_needs_flush(&loc[0], UINT32_MAX) != (loc[0].count > 0) ||
	     kh_needs_flush(&loc[0], UINT32_MAX - loc[0].count)) && fails++ < 10)
		printf("kh_needs_flush wrong\n");
	for (int t = 0; t < 2; t++) {
		kh_flush(&g, &loc[t]);
		kh_local_free(&loc[t]);
	}
	kh_finish(&g);

	qsort(all, m, sizeof *all, cmp_u32);
	qkey = xmallocarray(3 * m + 100002, sizeof *qkey);
	qwant = xmallocarray(3 * m + 100002, sizeof *qwant);
	for (size_t t = 0; t < m; t++) {
		if (t && (all[t] >> KH_SHIFT) == (all[t - 1] >> KH_SHIFT))
			continue;
		uint32_t b = all[t] >> KH_SHIFT;
		check(&g, all, m, all[t]);
		if (b > 0)
			check(&g, all, m, (b - 1) << KH_SHIFT);
		if (b + 1 < (1u << (32 - KH_SHIFT)))
			check(&g, all, m, ((b + 1) << KH_SHIFT) | 7);
	}
	for (int t = 0; t < 100000; t++)
		check(&g, all, m, (uint32_t)next());
	check(&g, all, m, 0);
	check(&g, all, m, UINT32_MAX);
	/* The batch form, on all those queries (in random order too). */
	for (size_t t = nquery - 1; t > 0; t--) {
		size_t j = next() % (t + 1);
		uint32_t a = qkey[t];
		uint64_t w = qwant[t];
		qkey[t] = qkey[j];
		qwant[t] = qwant[j];
		qkey[j] = a;
		qwant[j] = w;
	}
	uint64_t *got = xmallocarray(nquery, sizeof *got);
	kh_count_above_n(&g, qkey, nquery, got);
	for (size_t t = 0; t < nquery; t++)
		if (got[t] != qwant[t] && fails++ < 10)
			printf("batch: key %08x: above %llu want %llu\n", qkey[t], (unsigned long long)got[t],
			       (unsigned long long)qwant[t]);
	free(got);
	free(qkey);
	free(qwant);
	kh_free(&g);
	free(key);
	free(all);
	if (!fails)
		printf("ok %zu %zu\n", m, nquery);
	return fails != 0;
}
