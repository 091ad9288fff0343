/* Directed pair table: (from id, to id) -> dense pair id 0, 1, 2, ... in order
 * of first sight. Interning a pair once lets callers keep per-pair data in
 * flat arrays indexed by pair id instead of hashing strings again. */
#ifndef AK_PAIRTAB_H
#define AK_PAIRTAB_H

#include <stdint.h>

typedef struct pairtab pairtab_t;

pairtab_t *pairtab_new(void);
void pairtab_free(pairtab_t *t);
/* Id of (from, to), adding it when new; *added (may be NULL) tells which.
 * Dies beyond 2^32 - 2 pairs. */
uint32_t pairtab_put(pairtab_t *t, uint32_t from, uint32_t to, int *added);
/* Id of (from, to), or -1. */
int64_t pairtab_get(const pairtab_t *t, uint32_t from, uint32_t to);
uint32_t pairtab_size(const pairtab_t *t);
/* The (from, to) of a pair id. */
void pairtab_pair(const pairtab_t *t, uint32_t id, uint32_t *from, uint32_t *to);

#endif
