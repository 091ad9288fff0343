/* A hash map from directed id pairs (a, b) to a 64-bit value: reference
 * networks, deduplication of gene pairs. Ids are 32-bit (interned gene
 * ids); (a, b) and (b, a) are different keys. Open addressing with linear
 * probing on a power-of-two table of packed keys, so a lookup is one hash
 * and usually one cache line. */
#ifndef AK_PAIRSET_H
#define AK_PAIRSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct pairset pairset_t;

/* hint: expected number of pairs (0 is fine); the table grows as needed. */
pairset_t *pairset_new(size_t hint);
/* A set without values (half the memory): pairset_get then reports 0. */
pairset_t *pairset_new_keys(size_t hint);
void pairset_free(pairset_t *s);
int64_t pairset_size(const pairset_t *s);
/* Empty the set, keeping its memory. */
void pairset_clear(pairset_t *s);

/* Insert (a, b) with value v when absent. Returns 1 when added, 0 when the
 * pair was present (its value is left unchanged). */
int pairset_add(pairset_t *s, uint32_t a, uint32_t b, int64_t v);
/* 1 when present (value in *v if v is not NULL), else 0. */
int pairset_get(const pairset_t *s, uint32_t a, uint32_t b, int64_t *v);
static inline int pairset_has(const pairset_t *s, uint32_t a, uint32_t b)
{
	return pairset_get(s, a, b, NULL);
}

/* Iterate: start with *pos = 0; returns 0 when done. Order is the table's,
 * not insertion order: sort if order matters. */
int pairset_next(const pairset_t *s, size_t *pos, uint32_t *a, uint32_t *b, int64_t *v);

#endif
