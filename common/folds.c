#include "folds.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "xalloc.h"

void folds_random(int64_t n, int k, uint64_t seed, int *fold)
{
	int64_t *perm = rng_perm(seed, n);
	int64_t base = n / k, extra = n % k, pos = 0;
	for (int f = 0; f < k; f++) {
		int64_t sz = base + (f < extra);
		for (int64_t j = 0; j < sz; j++)
			fold[perm[pos++]] = f;
	}
	free(perm);
}

/* One sift-down of NumPy's aheapsort_: tmp settles from heap slot i of the
 * 1-based heap a[1..n], the larger child first (v decides). */
static void np_sift(const int64_t *v, int64_t *a, int64_t i, int64_t n, int64_t tmp)
{
	for (int64_t j = i << 1; j <= n;) {
		if (j < n && v[a[j]] < v[a[j + 1]])
			j++;
		if (!(v[tmp] < v[a[j]]))
			break;
		a[i] = a[j];
		i = j;
		j += j;
	}
	a[i] = tmp;
}

/* NumPy's aheapsort_ (npysort/heapsort.cpp), the introsort fallback. The
 * arrays are offset by one for heap indexing, as there. */
static void np_aheapsort(const int64_t *v, int64_t *tosort, int64_t n)
{
	int64_t *a = tosort - 1;
	for (int64_t l = n >> 1; l > 0; --l)
		np_sift(v, a, l, n, a[l]);
	for (; n > 1;) {
		int64_t tmp = a[n];
		a[n] = a[1];
		n -= 1;
		np_sift(v, a, 1, n, tmp);
	}
}

#define SWAP(a, b) do { int64_t t_ = (a); (a) = (b); (b) = t_; } while (0)
enum { SMALL_QUICKSORT = 15, QS_STACK = 128 };

/* NumPy's aquicksort_ (npysort/quicksort.cpp, 1.24), statement for
 * statement: the order of equal keys is whatever its partitioning leaves,
 * and GroupKFold inherits that order for groups of equal size. */
void folds_np_argsort(const int64_t *v, int64_t n, int64_t *idx)
{
	for (int64_t i = 0; i < n; i++)
		idx[i] = i;
	if (n < 2)
		return;
	int64_t *pl = idx, *pr = idx + n - 1;
	int64_t *stack[QS_STACK], **sptr = stack;
	int depth[QS_STACK], *psdepth = depth;
	int cdepth = 0;
	for (uint64_t u = (uint64_t)n; u >>= 1;)
		cdepth++;
	cdepth *= 2;
	for (;;) {
		if (cdepth < 0) {
			np_aheapsort(v, pl, pr - pl + 1);
			goto stack_pop;
		}
		while (pr - pl > SMALL_QUICKSORT) {
			int64_t *pm = pl + ((pr - pl) >> 1), *pi, *pj;
			if (v[*pm] < v[*pl])
				SWAP(*pm, *pl);
			if (v[*pr] < v[*pm])
				SWAP(*pr, *pm);
			if (v[*pm] < v[*pl])
				SWAP(*pm, *pl);
			int64_t vp = v[*pm];
			pi = pl;
			pj = pr - 1;
			SWAP(*pm, *pj);
			for (;;) {
				do
					++pi;
				while (v[*pi] < vp);
				do
					--pj;
				while (vp < v[*pj]);
				if (pi >= pj)
					break;
				SWAP(*pi, *pj);
			}
			SWAP(*pi, *(pr - 1));
			/* the larger partition on the stack */
			if (pi - pl < pr - pi) {
				*sptr++ = pi + 1;
				*sptr++ = pr;
				pr = pi - 1;
			} else {
				*sptr++ = pl;
				*sptr++ = pi - 1;
				pl = pi + 1;
			}
			*psdepth++ = --cdepth;
		}
		for (int64_t *pi = pl + 1; pi <= pr; ++pi) {
			int64_t vi = *pi, vp = v[vi], *pj = pi, *pk = pi - 1;
			while (pj > pl && vp < v[*pk])
				*pj-- = *pk--;
			*pj = vi;
		}
stack_pop:
		if (sptr == stack)
			break;
		pr = *(--sptr);
		pl = *(--sptr);
		cdepth = *(--psdepth);
	}
}

static const strtab_t *sort_names;
static int by_name(const void *a, const void *b)
{
	return strcmp(strtab_str(sort_names, *(const int64_t *)a), strtab_str(sort_names, *(const int64_t *)b));
}

int folds_grouped(const strtab_t *names, const int64_t *gsize, int64_t ngroups, int k, int *gfold)
{
	if (ngroups < k)
		return -1;
	size_t ng = (size_t)(ngroups ? ngroups : 1);
	/* uniq[u] = our id of np.unique's u-th group; size[u] its size */
	int64_t *uniq = xmallocarray(ng, sizeof *uniq), *size = xmallocarray(ng, sizeof *size);
	int64_t *ord = xmallocarray(ng, sizeof *ord);
	for (int64_t g = 0; g < ngroups; g++)
		uniq[g] = g;
	sort_names = names;
	qsort(uniq, (size_t)ngroups, sizeof *uniq, by_name);
	for (int64_t u = 0; u < ngroups; u++)
		size[u] = gsize[uniq[u]];
	folds_np_argsort(size, ngroups, ord);
	int64_t *load = xcalloc((size_t)k, sizeof *load);
	for (int64_t i = ngroups - 1; i >= 0; i--) {
		int best = 0;
		for (int f = 1; f < k; f++)
			if (load[f] < load[best])
				best = f;
		gfold[uniq[ord[i]]] = best;
		load[best] += size[ord[i]];
	}
	free(load);
	free(ord);
	free(size);
	free(uniq);
	return 0;
}
