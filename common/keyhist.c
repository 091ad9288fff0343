#include "keyhist.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "err.h"
#include "xalloc.h"

/* Counters are hit in random order, so 4 KB pages would miss the TLB on
 * nearly every increment: ask for 2 MB pages (a hint; fine if refused). */
static void *page_alloc(size_t bytes)
{
	void *p = NULL;
	if (posix_memalign(&p, (size_t)1 << 21, bytes) != 0)
		die("out of memory (rank histogram)");
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE);
#endif
	memset(p, 0, bytes);
	return p;
}

uint32_t *kh_new_stage(kh_local_t *l, uint32_t r)
{
	return l->stage[r] = xmallocarray(KH_STAGE, sizeof(uint32_t));
}

void kh_drain(kh_local_t *l, uint32_t r)
{
	uint32_t p = r >> (23 - KH_REGION_SHIFT);
	uint32_t *pg = l->page[p];
	if (!pg)
		pg = l->page[p] = page_alloc(KH_PAGE_BINS * sizeof(uint32_t));
	const uint32_t *st = l->stage[r];
	for (uint32_t i = 0; i < l->fill[r]; i++)
		pg[(st[i] >> KH_SHIFT) & (KH_PAGE_BINS - 1)]++;
	l->fill[r] = 0;
}

void kh_add_keys(kh_local_t *l, const uint32_t *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kh_add(l, keys[i]);
}

int kh_needs_flush(const kh_local_t *l, uint64_t more)
{
	return l->count + more > UINT32_MAX;
}

void kh_flush(kh_t *g, kh_local_t *l)
{
	for (uint32_t r = 0; r < KH_REGIONS; r++)
		if (l->fill[r])
			kh_drain(l, r);
	for (uint32_t p = 0; p < KH_PAGES; p++) {
		if (!l->page[p])
			continue;
		if (!g->page[p])
			g->page[p] = page_alloc(KH_PAGE_BINS * sizeof(uint64_t));
		uint64_t *d = g->page[p];
		uint32_t *s = l->page[p];
		for (uint32_t b = 0; b < KH_PAGE_BINS; b++)
			d[b] += s[b];
		memset(s, 0, KH_PAGE_BINS * sizeof *s);
	}
	l->count = 0;
}

void kh_local_free(kh_local_t *l)
{
	for (uint32_t r = 0; r < KH_REGIONS; r++) {
		free(l->stage[r]);
		l->stage[r] = NULL;
	}
	for (uint32_t p = 0; p < KH_PAGES; p++) {
		free(l->page[p]);
		l->page[p] = NULL;
	}
}

void kh_finish(kh_t *g)
{
	g->above[KH_PAGES] = 0;
	for (int p = KH_PAGES - 1; p >= 0; p--) {
		uint64_t tot = 0;
		if (g->page[p])
			for (int64_t b = KH_PAGE_BINS - 1; b >= 0; b--)
				g->page[p][b] = tot += g->page[p][b];
		g->above[p] = g->above[p + 1] + tot;
	}
}

uint64_t kh_count_above(const kh_t *g, uint32_t key)
{
	uint32_t p = key >> 23, b = (key >> KH_SHIFT) & (KH_PAGE_BINS - 1);
	uint64_t c = g->above[p + 1];
	if (g->page[p] && b + 1 < KH_PAGE_BINS)
		c += g->page[p][b + 1];
	return c;
}

uint64_t kh_count_bin(const kh_t *g, uint32_t key)
{
	uint32_t p = key >> 23, b = (key >> KH_SHIFT) & (KH_PAGE_BINS - 1);
	if (!g->page[p])
		return 0;
	return g->page[p][b] - (b + 1 < KH_PAGE_BINS ? g->page[p][b + 1] : 0);
}

void kh_free(kh_t *g)
{
	for (uint32_t p = 0; p < KH_PAGES; p++) {
		free(g->page[p]);
		g->page[p] = NULL;
	}
}
