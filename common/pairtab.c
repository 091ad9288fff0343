#include "pairtab.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hash.h"
#include "xalloc.h"

struct pairtab {
	uint64_t *key;   /* by id: from << 32 | to */
	uint32_t n, cap;
	uint32_t *slot;  /* open addressing: id + 1, 0 = empty */
	uint64_t mask;
};

pairtab_t *pairtab_new(void)
{
	pairtab_t *t = xcalloc(1, sizeof *t);
	t->cap = 1024;
	t->key = xmallocarray(t->cap, sizeof *t->key);
	t->mask = 2047;
	t->slot = xcalloc(t->mask + 1, sizeof *t->slot);
	return t;
}

void pairtab_free(pairtab_t *t)
{
	if (!t)
		return;
	free(t->key);
	free(t->slot);
	free(t);
}

static void rehash(pairtab_t *t)
{
	uint64_t m = (t->mask + 1) * 2 - 1;
	uint32_t *slot = xcalloc(m + 1, sizeof *slot);
	for (uint32_t id = 0; id < t->n; id++) {
		uint64_t h = hash_mix64(t->key[id]) & m;
		while (slot[h])
			h = (h + 1) & m;
		slot[h] = id + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->mask = m;
}

int64_t pairtab_get(const pairtab_t *t, uint32_t from, uint32_t to)
{
	uint64_t k = (uint64_t)from << 32 | to;
	for (uint64_t h = hash_mix64(k) & t->mask;; h = (h + 1) & t->mask) {
		uint32_t s = t->slot[h];
		if (!s)
			return -1;
		if (t->key[s - 1] == k)
			return s - 1;
	}
}

uint32_t pairtab_put(pairtab_t *t, uint32_t from, uint32_t to, int *added)
{
	uint64_t k = (uint64_t)from << 32 | to;
	uint64_t h = hash_mix64(k) & t->mask;
	for (;; h = (h + 1) & t->mask) {
		uint32_t s = t->slot[h];
		if (!s)
			break;
		if (t->key[s - 1] == k) {
			if (added)
				*added = 0;
			return s - 1;
		}
	}
	if (t->n == UINT32_MAX - 1)
		die("more than %u distinct pairs", UINT32_MAX - 1);
	if (t->n == t->cap) {
		t->cap = t->cap > UINT32_MAX / 2 ? UINT32_MAX : t->cap * 2;
		t->key = xreallocarray(t->key, t->cap, sizeof *t->key);
	}
	uint32_t id = t->n++;
	t->key[id] = k;
	t->slot[h] = id + 1;
	if ((uint64_t)t->n * 2 > t->mask)
		rehash(t);
	if (added)
		*added = 1;
	return id;
}

uint32_t pairtab_size(const pairtab_t *t) { return t->n; }

void pairtab_pair(const pairtab_t *t, uint32_t id, uint32_t *from, uint32_t *to)
{
	*from = (uint32_t)(t->key[id] >> 32);
	*to = (uint32_t)t->key[id];
}
