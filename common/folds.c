#include "folds.h"

#include <stdlib.h>

#include "rng.h"
#include "xalloc.h"

void folds_random(int64_t n, int k, uint64_t seed, int *fold)
{
	int64_t *perm = xmallocarray((size_t)(n ? n : 1), sizeof *perm);
	for (int64_t i = 0; i < n; i++)
		perm[i] = i;
	rng_t r;
	rng_seed(&r, seed);
	rng_shuffle_i64(&r, perm, n);
	int64_t base = n / k, extra = n % k, pos = 0;
	for (int f = 0; f < k; f++) {
		int64_t sz = base + (f < extra);
		for (int64_t j = 0; j < sz; j++)
			fold[perm[pos++]] = f;
	}
	free(perm);
}

static const int64_t *sort_sizes;
static int by_size_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	if (sort_sizes[x] != sort_sizes[y])
		return sort_sizes[x] > sort_sizes[y] ? -1 : 1;
	return (x > y) - (x < y);
}

int folds_grouped(const int64_t *gsize, int64_t ngroups, int k, int *gfold)
{
	int64_t nonempty = 0;
	for (int64_t g = 0; g < ngroups; g++)
		nonempty += gsize[g] > 0;
	if (nonempty < k)
		return -1;
	int64_t *ord = xmallocarray((size_t)(ngroups ? ngroups : 1), sizeof *ord);
	for (int64_t g = 0; g < ngroups; g++)
		ord[g] = g;
	sort_sizes = gsize;
	qsort(ord, (size_t)ngroups, sizeof *ord, by_size_desc);
	int64_t *load = xcalloc((size_t)k, sizeof *load);
	for (int64_t i = 0; i < ngroups; i++) {
		int best = 0;
		for (int f = 1; f < k; f++)
			if (load[f] < load[best])
				best = f;
		gfold[ord[i]] = best;
		load[best] += gsize[ord[i]];
	}
	free(load);
	free(ord);
	return 0;
}
