#include "pairset.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hash.h"
#include "xalloc.h"

/* The empty slot is the key (UINT32_MAX, UINT32_MAX); that pair is not a
 * valid key (ids come from interners far smaller than 2^32). */
#define EMPTY UINT64_MAX

struct pairset {
	uint64_t *key;
	int64_t *val;
	uint64_t mask;
	int64_t n;
};

static inline uint64_t pack(uint32_t a, uint32_t b) { return (uint64_t)a << 32 | b; }

static void alloc_table(pairset_t *s, uint64_t slots, int with_values)
{
	s->key = xmallocarray(slots, sizeof *s->key);
	s->val = with_values ? xmallocarray(slots, sizeof *s->val) : NULL;
	memset(s->key, 0xff, slots * sizeof *s->key);
	s->mask = slots - 1;
}

static pairset_t *new_set(size_t hint, int with_values)
{
	pairset_t *s = xcalloc(1, sizeof *s);
	uint64_t slots = 64;
	while (slots / 2 < hint)
		slots *= 2;
	alloc_table(s, slots, with_values);
	return s;
}

pairset_t *pairset_new(size_t hint) { return new_set(hint, 1); }
pairset_t *pairset_new_keys(size_t hint) { return new_set(hint, 0); }

void pairset_free(pairset_t *s)
{
	if (!s)
		return;
	free(s->key);
	free(s->val);
	free(s);
}

int64_t pairset_size(const pairset_t *s) { return s->n; }

void pairset_clear(pairset_t *s)
{
	memset(s->key, 0xff, (s->mask + 1) * sizeof *s->key);
	s->n = 0;
}

static void grow(pairset_t *s)
{
	uint64_t *ok = s->key, omask = s->mask;
	int64_t *ov = s->val;
	alloc_table(s, (omask + 1) * 2, ov != NULL);
	for (uint64_t i = 0; i <= omask; i++) {
		if (ok[i] == EMPTY)
			continue;
		uint64_t h = hash_mix64(ok[i]) & s->mask;
		while (s->key[h] != EMPTY)
			h = (h + 1) & s->mask;
		s->key[h] = ok[i];
		if (ov)
			s->val[h] = ov[i];
	}
	free(ok);
	free(ov);
}

int pairset_add(pairset_t *s, uint32_t a, uint32_t b, int64_t v)
{
	uint64_t k = pack(a, b), h = hash_mix64(k) & s->mask;
	if (k == EMPTY)
		die("pairset: id pair (%u, %u) is reserved", a, b);
	for (;;) {
		if (s->key[h] == k)
			return 0;
		if (s->key[h] == EMPTY)
			break;
		h = (h + 1) & s->mask;
	}
	s->key[h] = k;
	if (s->val)
		s->val[h] = v;
	/* Keep the load at most 1/2: short probe sequences on misses, which
	 * are the common case when labelling pairs against a sparse network. */
	if ((uint64_t)++s->n * 2 > s->mask)
		grow(s);
	return 1;
}

int pairset_get(const pairset_t *s, uint32_t a, uint32_t b, int64_t *v)
{
	uint64_t k = pack(a, b), h = hash_mix64(k) & s->mask;
	for (;;) {
		if (s->key[h] == k) {
			if (v)
				*v = s->val ? s->val[h] : 0;
			return 1;
		}
		if (s->key[h] == EMPTY)
			return 0;
		h = (h + 1) & s->mask;
	}
}

int pairset_next(const pairset_t *s, size_t *pos, uint32_t *a, uint32_t *b, int64_t *v)
{
	for (uint64_t i = *pos; i <= s->mask; i++) {
		if (s->key[i] == EMPTY)
			continue;
		*a = (uint32_t)(s->key[i] >> 32);
		*b = (uint32_t)s->key[i];
		if (v)
			*v = s->val ? s->val[i] : 0;
		*pos = i + 1;
		return 1;
	}
	*pos = s->mask + 1;
	return 0;
}
