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

#include <stddef.h>
#include <stdint.h>

#define KH_SHIFT 4
#define KH_PAGES 512
#define KH_PAGE_BITS (23 - KH_SHIFT)
#define KH_PAGE_BINS (1u << KH_PAGE_BITS)

/* Increments land in random bins of a large table, which would miss the
 * caches on nearly every entry. So keys are first staged by region (1/8 of a
 * page, 256 KB of counters) and a region's keys are counted together when
 * its stage fills, with the region's counters in L2. */
#define KH_REGION_SHIFT 18
#define KH_REGIONS (1u << (32 - KH_REGION_SHIFT))
#define KH_STAGE 16384

typedef struct kh_local {
	uint32_t *page[KH_PAGES];
	uint64_t count;           /* entries added since the last flush */
	uint32_t *stage[KH_REGIONS];
	uint16_t fill[KH_REGIONS];
} kh_local_t;

typedef struct kh {
	uint64_t *page[KH_PAGES]; /* after kh_finish: counts of bins >= b within the page */
	uint64_t above[KH_PAGES + 1]; /* after kh_finish: entries in pages > p */
} kh_t;

uint32_t *kh_new_stage(kh_local_t *l, uint32_t r);
/* Count region r's staged keys. */
void kh_drain(kh_local_t *l, uint32_t r);

static inline void kh_add(kh_local_t *l, uint32_t key)
{
	uint32_t r = key >> KH_REGION_SHIFT;
	uint32_t *st = l->stage[r];
	if (!st)
		st = kh_new_stage(l, r);
	st[l->fill[r]++] = key;
	if (l->fill[r] == KH_STAGE)
		kh_drain(l, r);
}

/* Add n keys. */
void kh_add_keys(kh_local_t *l, const uint32_t *keys, size_t n);

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
