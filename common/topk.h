/* Exact streaming top-K of (value, row, column) entries, and exact ranks.
 * Entries are compared by an order-preserving 32-bit key of their ranking
 * value (larger key = larger value), then by lower row, then lower column,
 * so the selected set and its order are unique whatever the order in which
 * entries arrive or how they are split between threads. */
#ifndef AK_TOPK_H
#define AK_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct tk_pair {
	uint32_t key;     /* order key of the ranking value */
	int32_t from, to;
	float value;      /* the value reported (signed, even when ranked by |value|) */
} tk_pair_t;

/* Order-preserving key of a float: a < b (as floats) iff key(a) < key(b).
 * Callers canonicalise -0 to +0 first (x + 0.0f) so that they share a key. */
static inline uint32_t tk_key(float x)
{
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static inline float tk_unkey(uint32_t k)
{
	uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
	float x;
	memcpy(&x, &u, sizeof x);
	return x;
}

/* Keys of finite floats lie strictly between these. */
#define TK_KEY_NEGINF 0x007fffffu
#define TK_KEY_POSINF 0xff800000u

/* One selector. It accepts entries while it is filling, then only those
 * that can still enter the best k. Within one selector, entries must arrive
 * in increasing (row, column) order: a later entry with the k-th key is then
 * known to lose the tie, so the filter can be strict. */
typedef struct tk_buf {
	tk_pair_t *v;
	size_t n, cap, k;
	uint32_t thr;     /* accept key >= thr */
} tk_buf_t;

void tk_init(tk_buf_t *b, size_t k);
void tk_free(tk_buf_t *b);
/* Keep the best k (sorted), raise the threshold. */
void tk_prune(tk_buf_t *b);

static inline void tk_push(tk_buf_t *b, uint32_t key, int32_t from, int32_t to, float value)
{
	if (key < b->thr)
		return;
	if (b->n == b->cap) {
		tk_prune(b);
		if (key < b->thr)
			return;
	}
	tk_pair_t *p = &b->v[b->n++];
	p->key = key;
	p->from = from;
	p->to = to;
	p->value = value;
}

/* Move all of src's entries into dst (any order), then free src. */
void tk_merge(tk_buf_t *dst, tk_buf_t *src);
/* Final: the best min(k, n) entries sorted best first. */
void tk_finish(tk_buf_t *b);
/* For a finished buffer: rank[i] = 1 + number of entries with a strictly
 * greater key (ties share the best rank). Exact for the whole distribution,
 * since anything strictly greater than a selected entry is itself selected. */
void tk_ranks(const tk_buf_t *b, int64_t *rank);
/* For a finished buffer: how many entries have a key strictly greater. */
size_t tk_count_greater(const tk_buf_t *b, uint32_t key);

#endif
