/* Counting histogram of float32 order keys (topk.h's tk_key), to count how
 * many entries of a streamed distribution are greater than a value that is
 * only known after the stream has passed. A bin holds 2^KH_SHIFT adjacent
 * keys (16 float32 ulps: 1.9e-6 relative at most), so "entries in higher
 * bins" is exact and only entries within one bin of the value, which are
 * float32 near-ties, are left to the caller.
 *
 * Layout. The 2^28 bins are cut into regions of 2^KH_RBITS bins (8192 bins,
 * 2^17 keys: 1/64 of a binade). A region's counters are allocated when a key
 * first lands in it, so memory follows the occupied range (softmax values
 * of 20,000 genes occupy ~2,000 regions). A bin's count is a 16-bit digit
 * lo plus 65536 hi, hi allocated per region on the first carry: counts are
 * ~100 per bin, so the table is half the size of 32-bit counters and carries
 * are rare; and counts are exact to 2^64 in a thread's table too.
 *
 * Why staging, in two levels. Bins are hit in random order over tens of
 * MB, so counting each key on arrival would miss the caches on nearly every
 * key; a region's counters must instead meet many of its keys at once. So a
 * key's offset in its region (16 bits) is appended to the region's first
 * stage (KH_STAGE offsets: ~2,000 of them take 512 KB, which stays in L2,
 * or comes back quickly after attn-topk's products went through it); a
 * full first stage is copied to the end of the region's second stage
 * (KH_BIG offsets, in memory, with streaming stores: it is read only when
 * full); a full second stage is counted, 8192 keys against 16 KB of
 * counters, one turn later, after its counters and offsets were prefetched.
 * One level alone either spreads its appends over too much memory (~2,000
 * streams missing the caches) or counts too few keys per counter line.
 * Measured (bench/keyhist.sh, 2 threads, head-averaged attention rows of
 * 20,000 genes): ~2-3 ns per key against ~6 for one level of 64 KB stages.
 * Stages come from 2 MB slabs (few TLB entries) and are aligned to their
 * size, so "first stage full" is a test of the write pointer's low bits,
 * and a region without a stage points into a per-thread trap stage whose
 * last slot is its only one: the first key of a region takes the slow path
 * without a test of its own.
 *
 * Threads: one kh_local_t per thread, flushed into a shared kh_t (under the
 * caller's mutex); a region the shared table lacks is handed over, not
 * copied, so the shared table costs no memory of its own in the usual case
 * of one final flush per thread. kh_add_keys and kh_add end their streaming
 * stores with a fence, so a table filled by one thread may be flushed by
 * another after the usual pthread synchronisation. */
#ifndef AK_KEYHIST_H
#define AK_KEYHIST_H

#include <stddef.h>
#include <stdint.h>

#define KH_SHIFT 4                          /* keys per bin: 2^KH_SHIFT */
#define KH_RBITS 13                         /* bins per region: 2^KH_RBITS */
#define KH_RBINS (1u << KH_RBITS)
#define KH_RSHIFT (KH_SHIFT + KH_RBITS)     /* key >> KH_RSHIFT = region */
#define KH_NREG (1u << (32 - KH_RSHIFT))
#define KH_STAGE 128u                       /* first stage: offsets */
#define KH_BIG 8192u                        /* second stage: offsets */
#define KH_BLK 32u                          /* bins per block (kh_finish) */

typedef struct kh_reg {
	uint16_t lo[KH_RBINS];  /* low 16 bits of each bin's count */
	uint64_t *hi;           /* NULL, or [KH_RBINS]: count = lo + 65536 hi */
	uint64_t *blk;          /* after kh_finish: entries in higher blocks of the region */
} kh_reg_t;

typedef struct kh_local {
	uint16_t *cur[KH_NREG]; /* next free slot of region r's stage (or the trap's last) */
	kh_reg_t *reg[KH_NREG];
	uint64_t count;         /* entries added since the last flush: kept by the caller */
	uint16_t *trap;         /* NULL until the first key (zeroed struct = empty) */
	uint16_t *big[KH_NREG];  /* region r's second stage: KH_BIG offsets */
	uint32_t bfill[KH_NREG];
	uint32_t pend;          /* 1 + the region whose full second stage awaits counting, or 0 */
	uint16_t **slab;        /* 2 MB slabs the stages are cut from */
	size_t nslab;
	size_t used[2];         /* bytes used in the last small / big slab */
	uint16_t *cut[2];       /* those slabs */
	uint16_t *active;       /* regions that have a stage, in order of first use */
	size_t nactive;
} kh_local_t;

typedef struct kh {
	kh_reg_t *reg[KH_NREG];
	uint64_t *above;        /* after kh_finish: [KH_NREG + 1], entries in regions > r */
} kh_t;

/* Slow path of kh_add: the stage of key's region is full (or missing). */
void kh_stage_full(kh_local_t *l, uint32_t r);
void kh_local_init(kh_local_t *l);

/* Add one key (the batch form below is the fast one). Neither form touches
 * l->count: the caller adds the number of entries it adds, once per block
 * (a per-key increment in memory would chain every key to the last). */
static inline void kh_add(kh_local_t *l, uint32_t key)
{
	if (!l->trap)
		kh_local_init(l);
	uint32_t r = key >> KH_RSHIFT;
	uint16_t *p = l->cur[r];
	*p++ = (uint16_t)(key >> KH_SHIFT);
	l->cur[r] = p;
	if (!((uintptr_t)p & (KH_STAGE * sizeof *p - 1)))
		kh_stage_full(l, r);
}

/* Add n keys, any n (a few hundred or more amortise the call and its one
 * store fence). */
void kh_add_keys(kh_local_t *l, const uint32_t *keys, size_t n);

/* Flush when adding `more` entries would take the count since the last
 * flush past 2^32 - 1. Flushing is never needed for exactness (a thread's
 * counts are exact to 2^64); the rule is kept so callers flush now and then. */
int kh_needs_flush(const kh_local_t *l, uint64_t more);
/* Count the keys still staged in l (optional: kh_flush does it; called
 * before taking the caller's mutex, it keeps that work out of the lock). */
void kh_settle(kh_local_t *l);
/* Add l's counts into g and empty l (the caller serialises calls on g). */
void kh_flush(kh_t *g, kh_local_t *l);
void kh_local_free(kh_local_t *l);
/* After the last flush: block sums for kh_count_above. */
void kh_finish(kh_t *g);
/* Entries whose key lies in a bin strictly above key's bin. */
uint64_t kh_count_above(const kh_t *g, uint32_t key);
/* kh_count_above for n keys into above[i]: the same counts, several times
 * faster for many keys in random order (their lines are fetched ahead). */
void kh_count_above_n(const kh_t *g, const uint32_t *keys, size_t n, uint64_t *above);
/* Entries in the same bin as key (near-ties, any side). */
uint64_t kh_count_bin(const kh_t *g, uint32_t key);
void kh_free(kh_t *g);

#endif
