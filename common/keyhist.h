/* Counting histogram of float32 order keys (topk.h's tk_key), to count how
 * many entries of a streamed distribution are greater than a value that is
 * only known after the stream has passed. A bin holds 2^KH_SHIFT adjacent
 * keys (16 float32 ulps: 1.9e-6 relative at most), so "entries in higher
 * bins" is exact and only entries within one bin of the value, which are
 * float32 near-ties, are left to the caller. Pages of bins (one per sign
 * and exponent, 2^19 bins) are allocated when first touched, so memory
 * follows the occupied range. Per-thread 32-bit counters, flushed into a
 * shared 64-bit histogram before they could overflow. */
#ifndef AK_KEYHIST_H
#define AK_KEYHIST_H

#include <stdint.h>

#define KH_SHIFT 4
#define KH_PAGES 512
#define KH_PAGE_BITS (23 - KH_SHIFT)
#define KH_PAGE_BINS (1u << KH_PAGE_BITS)

typedef struct kh_local {
	uint32_t *page[KH_PAGES];
	uint64_t count;           /* entries added since the last flush */
} kh_local_t;

typedef struct kh {
	uint64_t *page[KH_PAGES]; /* after kh_finish: counts of bins >= b within the page */
	uint64_t above[KH_PAGES + 1]; /* after kh_finish: entries in pages > p */
} kh_t;

uint32_t *kh_new_page(kh_local_t *l, uint32_t p);

static inline void kh_add(kh_local_t *l, uint32_t key)
{
	uint32_t p = key >> 23;
	uint32_t *pg = l->page[p];
	if (!pg)
		pg = kh_new_page(l, p);
	pg[(key >> KH_SHIFT) & (KH_PAGE_BINS - 1)]++;
}

/* Flush when adding `more` entries could overflow a 32-bit counter. */
int kh_needs_flush(const kh_local_t *l, uint64_t more);
/* Add l's counts into g and zero l (the caller serialises calls on g). */
void kh_flush(kh_t *g, kh_local_t *l);
void kh_local_free(kh_local_t *l);
/* After the last flush: cumulative counts for kh_count_above. */
void kh_finish(kh_t *g);
/* Entries whose key lies in a bin strictly above key's bin. */
uint64_t kh_count_above(const kh_t *g, uint32_t key);
/* Entries in the same bin as key (near-ties, any side). */
uint64_t kh_count_bin(const kh_t *g, uint32_t key);
void kh_free(kh_t *g);

#endif
