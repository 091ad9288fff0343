#include "topk.h"

#include <stdlib.h>

#include "xalloc.h"

static int cmp_pair(const void *a, const void *b)
{
	const tk_pair_t *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return 0;
}

void tk_init(tk_buf_t *b, size_t k)
{
	b->k = k;
	/* Room for k plus as many again (at least 4096): a prune sorts the
	 * buffer, so each costs O(cap log cap) and happens at most every cap-k pushes. */
	b->cap = xmul(2, k < 4096 ? 4096 : k);
	b->v = xmallocarray(b->cap, sizeof *b->v);
	b->n = 0;
	b->thr = k ? 0 : UINT32_MAX;   /* k = 0 (no pairs at all): accept nothing */
}

void tk_free(tk_buf_t *b)
{
	free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}

void tk_prune(tk_buf_t *b)
{
	qsort(b->v, b->n, sizeof *b->v, cmp_pair);
	if (b->k == 0) {
		b->n = 0;
	} else if (b->n >= b->k) {
		b->n = b->k;
		/* Strict from now on: see tk_buf_t. The k-th key is finite, so +1 cannot wrap. */
		b->thr = b->v[b->k - 1].key + 1;
	}
}

void tk_merge(tk_buf_t *dst, tk_buf_t *src)
{
	for (size_t i = 0; i < src->n; i++) {
		if (dst->n == dst->cap) {
			/* Prune without raising the threshold: entries from different
			 * selectors do not arrive in (row, column) order. */
			qsort(dst->v, dst->n, sizeof *dst->v, cmp_pair);
			if (dst->n > dst->k)
				dst->n = dst->k;
		}
		dst->v[dst->n++] = src->v[i];
	}
	tk_free(src);
}

void tk_finish(tk_buf_t *b)
{
	qsort(b->v, b->n, sizeof *b->v, cmp_pair);
	if (b->n > b->k)
		b->n = b->k;
}

void tk_ranks(const tk_buf_t *b, int64_t *rank)
{
	for (size_t i = 0; i < b->n; i++)
		rank[i] = (i > 0 && b->v[i].key == b->v[i - 1].key) ? rank[i - 1] : (int64_t)i + 1;
}

size_t tk_count_greater(const tk_buf_t *b, uint32_t key)
{
	size_t lo = 0, hi = b->n;   /* first index whose key <= key (keys descend) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->v[mid].key > key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
