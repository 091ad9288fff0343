#include "rank.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Map a double to an unsigned key with the same order (IEEE total order,
 * but -0.0 folded into +0.0 so that the two compare equal, as == does). */
static inline uint64_t key_of(double v)
{
	uint64_t u;
	v += 0.0; /* -0.0 + 0.0 == +0.0 */
	memcpy(&u, &v, sizeof u);
	return (u >> 63) ? ~u : (u | 0x8000000000000000ULL);
}

typedef struct { uint64_t k; int64_t i; } kv_t;

/* Insertion sort for short runs (stable). */
static void insertion(kv_t *a, int64_t n)
{
	for (int64_t i = 1; i < n; i++) {
		kv_t t = a[i];
		int64_t j = i;
		while (j > 0 && a[j - 1].k > t.k) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = t;
	}
}

/* Stable merge sort of kv pairs by key (ties keep input order). */
static void merge_sort(kv_t *a, kv_t *tmp, int64_t n)
{
	if (n <= 24) {
		insertion(a, n);
		return;
	}
	int64_t h = n / 2;
	merge_sort(a, tmp, h);
	merge_sort(a + h, tmp, n - h);
	if (a[h - 1].k <= a[h].k)
		return;
	memcpy(tmp, a, (size_t)h * sizeof *a);
	int64_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		a[k++] = (a[j].k < tmp[i].k) ? a[j++] : tmp[i++];
	while (i < h)
		a[k++] = tmp[i++];
}

/* LSD radix sort on 11-bit digits (6 passes, passes where every key shares
 * the digit skipped). Stable, so ties keep index order. */
#define RBITS 11
#define RSIZE (1 << RBITS)
#define RPASS 6
static void radix_sort(kv_t *a, kv_t *tmp, int64_t n)
{
	int64_t *cnt = xcalloc((size_t)RPASS * RSIZE, sizeof *cnt);
	for (int64_t i = 0; i < n; i++) {
		uint64_t k = a[i].k;
		for (int p = 0; p < RPASS; p++)
			cnt[p * RSIZE + ((k >> (p * RBITS)) & (RSIZE - 1))]++;
	}
	kv_t *src = a, *dst = tmp;
	for (int p = 0; p < RPASS; p++) {
		int64_t *c = cnt + p * RSIZE;
		int shift = p * RBITS;
		if (c[(src[0].k >> shift) & (RSIZE - 1)] == n)
			continue;
		int64_t sum = 0;
		for (int d = 0; d < RSIZE; d++) {
			int64_t t = c[d];
			c[d] = sum;
			sum += t;
		}
		for (int64_t i = 0; i < n; i++)
			dst[c[(src[i].k >> shift) & (RSIZE - 1)]++] = src[i];
		kv_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, (size_t)n * sizeof *a);
	free(cnt);
}

static void argsort(const double *x, int64_t n, int64_t *order, int desc)
{
	if (n <= 0)
		return;
	kv_t *a = xmallocarray((size_t)n, sizeof *a);
	for (int64_t i = 0; i < n; i++) {
		uint64_t k = key_of(x[i]);
		/* Descending: complement the key; stability still orders ties by index. */
		a[i].k = desc ? ~k : k;
		a[i].i = i;
	}
	kv_t *tmp = xmallocarray((size_t)(n > 1 ? n : 1), sizeof *tmp);
	if (n < 4096)
		merge_sort(a, tmp, n);
	else
		radix_sort(a, tmp, n);
	free(tmp);
	for (int64_t i = 0; i < n; i++)
		order[i] = a[i].i;
	free(a);
}

void rank_argsort(const double *x, int64_t n, int64_t *order) { argsort(x, n, order, 0); }
void rank_argsort_desc(const double *x, int64_t n, int64_t *order) { argsort(x, n, order, 1); }

double rank_mid(const double *x, int64_t n, double *rank)
{
	if (n <= 0)
		return 0;
	int64_t *o = xmallocarray((size_t)n, sizeof *o);
	rank_argsort(x, n, o);
	double ties = 0;
	for (int64_t i = 0; i < n;) {
		int64_t j = i + 1;
		while (j < n && x[o[j]] == x[o[i]])
			j++;
		/* ranks i+1..j share their mean, (i+1+j)/2 */
		double r = 0.5 * (double)(i + 1 + j);
		for (int64_t k = i; k < j; k++)
			rank[o[k]] = r;
		double t = (double)(j - i);
		ties += t * t * t - t;
		i = j;
	}
	free(o);
	return ties;
}
