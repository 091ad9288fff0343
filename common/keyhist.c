#include "keyhist.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "err.h"
#include "xalloc.h"

#define STAGE_BYTES (KH_STAGE * sizeof(uint16_t))
#define SLAB_BYTES ((size_t)1 << 21)

static kh_reg_t *reg_new(void)
{
	kh_reg_t *g = xaligned(64, sizeof *g);
	memset(g, 0, sizeof *g);
	return g;
}

static void reg_free(kh_reg_t *g)
{
	if (g) {
		free(g->hi);
		free(g->blk);
		free(g);
	}
}

static inline uint64_t reg_bin(const kh_reg_t *g, uint32_t b)
{
	return g->lo[b] + (g->hi ? g->hi[b] << 16 : 0);
}

/* A 16-bit digit wrapped to 0: one more 65536 in the region's high digits. */
static void carry(kh_reg_t *g, uint32_t b)
{
	if (!g->hi)
		g->hi = xcalloc(KH_RBINS, sizeof *g->hi);
	g->hi[b]++;
}

void kh_local_init(kh_local_t *l)
{
	/* Aligned to its size, so that writing its last slot ends on a stage
	 * boundary: every region without a stage takes the slow path. */
	l->trap = xaligned(STAGE_BYTES, STAGE_BYTES);
	for (uint32_t r = 0; r < KH_NREG; r++)
		l->cur[r] = l->trap + KH_STAGE - 1;
	l->active = xmallocarray(KH_NREG, sizeof *l->active);
	l->nactive = 0;
}

/* Stages of one size (kind 0: first stages, 1: second stages) are cut from
 * their own 2 MB slabs: the first stages of all regions stay together in a
 * few pages (and in L2), and the second stages are written in whole lines. */
static uint16_t *stage_new(kh_local_t *l, int kind, size_t bytes)
{
	if (!l->cut[kind] || l->used[kind] == SLAB_BYTES) {
		l->slab = xrealloc(l->slab, (l->nslab + 1) * sizeof *l->slab);
		uint16_t *s = xaligned(SLAB_BYTES, SLAB_BYTES);
#ifdef MADV_HUGEPAGE
		madvise(s, SLAB_BYTES, MADV_HUGEPAGE);
#endif
		l->slab[l->nslab++] = l->cut[kind] = s;
		l->used[kind] = 0;
	}
	uint16_t *p = l->cut[kind] + l->used[kind] / sizeof *p;
	l->used[kind] += bytes;
	return p;
}

/* Count n staged offsets of region r. */
static void count_stage(kh_local_t *l, uint32_t r, const uint16_t *st, size_t n)
{
	kh_reg_t *g = l->reg[r];
	if (!g)
		g = l->reg[r] = reg_new();
	uint16_t *lo = g->lo;
	for (size_t i = 0; i < n; i++) {
		uint32_t b = st[i] & (KH_RBINS - 1);
		if (!++lo[b])
			carry(g, b);
	}
}

/* Copy a full first stage to the end of the second: with streaming stores
 * where there are (SSE2, part of x86-64), as the second stage is read only
 * when full, long after: fetching its lines before writing them and keeping
 * them in cache would be wasted. */
static inline void append(uint16_t *dst, const uint16_t *src)
{
#if defined(__SSE2__)
	for (size_t i = 0; i < STAGE_BYTES; i += 16)
		_mm_stream_si128((__m128i *)((char *)dst + i), _mm_load_si128((const __m128i *)((const char *)src + i)));
#else
	memcpy(dst, src, STAGE_BYTES);
#endif
}

static void count_big(kh_local_t *l, uint32_t r)
{
	count_stage(l, r, l->big[r], l->bfill[r]);
	l->bfill[r] = 0;
	if (l->pend == r + 1)
		l->pend = 0;
}

/* A region's full second stage is counted at the next one's turn, its
 * counters and offsets fetched into L2 in the meantime (thousands of keys
 * later): counting it at once would wait on memory for each line. */
static void prefetch_region(kh_local_t *l, uint32_t r)
{
	kh_reg_t *g = l->reg[r];
	if (!g)
		g = l->reg[r] = reg_new();
	for (uint32_t b = 0; b < KH_RBINS; b += 64 / sizeof *g->lo)
		__builtin_prefetch(g->lo + b, 1, 2);
	for (uint32_t i = 0; i < KH_BIG; i += 64 / sizeof *g->lo)
		__builtin_prefetch(l->big[r] + i, 0, 2);
}

static void stage_full(kh_local_t *l, uint32_t r)
{
	uint16_t *base = l->cur[r] - KH_STAGE;
	if (base == l->trap) {
		/* First key of region r: give it a stage. */
		uint16_t *st = stage_new(l, 0, STAGE_BYTES);
		st[0] = l->trap[KH_STAGE - 1];
		l->cur[r] = st + 1;
		l->active[l->nactive++] = (uint16_t)r;
		return;
	}
	if (!l->big[r]) /* only regions with KH_STAGE keys: the sparse tails never */
		l->big[r] = stage_new(l, 1, KH_BIG * sizeof(uint16_t));
	if (l->bfill[r] == KH_BIG)
		count_big(l, r);
	append(l->big[r] + l->bfill[r], base);
	l->cur[r] = base;
	if ((l->bfill[r] += KH_STAGE) == KH_BIG) {
		prefetch_region(l, r);
		if (l->pend)
			count_big(l, l->pend - 1);
		l->pend = r + 1;
	}
}

/* Streamed stores are weakly ordered: fenced before anything another thread
 * could do with this table (once per call of the batch form). */
static inline void fence(void)
{
#if defined(__SSE2__)
	_mm_sfence();
#endif
}

void kh_stage_full(kh_local_t *l, uint32_t r)
{
	stage_full(l, r);
	fence();
}

void kh_add_keys(kh_local_t *l, const uint32_t *keys, size_t n)
{
	if (!l->trap)
		kh_local_init(l);
	uint16_t **cur = l->cur;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = keys[i], r = k >> KH_RSHIFT;
		uint16_t *p = cur[r];
		*p++ = (uint16_t)(k >> KH_SHIFT);
		cur[r] = p;
		if (__builtin_expect(!((uintptr_t)p & (STAGE_BYTES - 1)), 0))
			stage_full(l, r);
	}
	fence();
}

int kh_needs_flush(const kh_local_t *l, uint64_t more)
{
	return l->count + more > UINT32_MAX;
}

/* d += s, bin by bin, carrying into d's high digits. */
static void reg_add(kh_reg_t *d, const kh_reg_t *s)
{
	/* Carries are rare: test for one first, in a loop the compiler
	 * vectorises, and add digit by digit only if there is one. */
	uint32_t any = 0;
	for (uint32_t b = 0; b < KH_RBINS; b++)
		any |= (uint32_t)d->lo[b] + s->lo[b];
	if (any >> 16) {
		for (uint32_t b = 0; b < KH_RBINS; b++) {
			uint32_t v = (uint32_t)d->lo[b] + s->lo[b];
			d->lo[b] = (uint16_t)v;
			if (v >> 16)
				carry(d, b);
		}
	} else {
		for (uint32_t b = 0; b < KH_RBINS; b++)
			d->lo[b] = (uint16_t)(d->lo[b] + s->lo[b]);
	}
	if (s->hi) {
		if (!d->hi)
			d->hi = xcalloc(KH_RBINS, sizeof *d->hi);
		for (uint32_t b = 0; b < KH_RBINS; b++)
			d->hi[b] += s->hi[b];
	}
}

void kh_settle(kh_local_t *l)
{
	for (size_t a = 0; a < l->nactive; a++) {
		uint32_t r = l->active[a];
		uint16_t *p = l->cur[r];
		uint16_t *base = (uint16_t *)((uintptr_t)p & ~(uintptr_t)(STAGE_BYTES - 1));
		if (p > base)
			count_stage(l, r, base, (size_t)(p - base));
		l->cur[r] = base;
		if (l->bfill[r])
			count_big(l, r);
	}
}

void kh_flush(kh_t *g, kh_local_t *l)
{
	kh_settle(l);
	for (size_t a = 0; a < l->nactive; a++) {
		uint32_t r = l->active[a];
		kh_reg_t *s = l->reg[r];
		if (!s)
			continue;
		if (!g->reg[r]) {
			/* Hand the region over instead of copying it. */
			g->reg[r] = s;
			l->reg[r] = NULL;
			continue;
		}
		reg_add(g->reg[r], s);
		memset(s->lo, 0, sizeof s->lo);
		free(s->hi);
		s->hi = NULL;
	}
	l->count = 0;
}

void kh_local_free(kh_local_t *l)
{
	for (size_t a = 0; a < l->nactive; a++)
		reg_free(l->reg[l->active[a]]);
	for (size_t s = 0; s < l->nslab; s++)
		free(l->slab[s]);
	free(l->slab);
	free(l->trap);
	free(l->active);
	memset(l, 0, sizeof *l);
}

void kh_finish(kh_t *g)
{
	free(g->above);
	g->above = xmallocarray(KH_NREG, sizeof *g->above);
	uint64_t tot = 0;
	for (int64_t r = KH_NREG - 1; r >= 0; r--) {
		g->above[r] = tot;
		kh_reg_t *h = g->reg[r];
		if (!h)
			continue;
		if (!h->blk)
			h->blk = xmallocarray(KH_RBINS / KH_BLK, sizeof *h->blk);
		uint64_t in = 0;
		for (int64_t i = KH_RBINS / KH_BLK - 1; i >= 0; i--) {
			h->blk[i] = in;
			for (uint32_t b = (uint32_t)i * KH_BLK; b < (uint32_t)(i + 1) * KH_BLK; b++)
				in += reg_bin(h, b);
		}
		tot += in;
	}
}

uint64_t kh_count_above(const kh_t *g, uint32_t key)
{
	uint32_t r = key >> KH_RSHIFT, b = (key >> KH_SHIFT) & (KH_RBINS - 1);
	uint64_t c = g->above[r];
	const kh_reg_t *h = g->reg[r];
	if (h) {
		c += h->blk[b / KH_BLK];
		for (uint32_t i = b + 1; i % KH_BLK; i++)
			c += reg_bin(h, i);
	}
	return c;
}

void kh_count_above_n(const kh_t *g, const uint32_t *keys, size_t n, uint64_t *above)
{
	/* Three dependent loads per key (region pointer, then its block sum and
	 * counters): the first is fetched 16 keys ahead, the others 8. */
	enum { AHEAD = 16 };
	for (size_t i = 0; i < n; i++) {
		if (i + AHEAD < n) {
			uint32_t r = keys[i + AHEAD] >> KH_RSHIFT;
			__builtin_prefetch(&g->reg[r]);
			__builtin_prefetch(&g->above[r]);
		}
		if (i + AHEAD / 2 < n) {
			uint32_t k = keys[i + AHEAD / 2], b = (k >> KH_SHIFT) & (KH_RBINS - 1);
			const kh_reg_t *h = g->reg[k >> KH_RSHIFT];
			if (h) {
				__builtin_prefetch(&h->blk[b / KH_BLK]);
				__builtin_prefetch(&h->lo[b]);
			}
		}
		above[i] = kh_count_above(g, keys[i]);
	}
}

uint64_t kh_count_bin(const kh_t *g, uint32_t key)
{
	const kh_reg_t *h = g->reg[key >> KH_RSHIFT];
	return h ? reg_bin(h, (key >> KH_SHIFT) & (KH_RBINS - 1)) : 0;
}

void kh_free(kh_t *g)
{
	for (uint32_t r = 0; r < KH_NREG; r++)
		reg_free(g->reg[r]);
	free(g->above);
	memset(g, 0, sizeof *g);
}
