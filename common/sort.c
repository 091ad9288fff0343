#include "sort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

uint64_t f64_key(double x)
{
	uint64_t u;
	x += 0.0; /* -0.0 + 0.0 is +0.0 */
	memcpy(&u, &x, sizeof u);
	return u >> 63 ? ~u : u | 1ULL << 63;
}

double key_f64(uint64_t k)
{
	uint64_t u = k >> 63 ? k & ~(1ULL << 63) : ~k;
	double x;
	memcpy(&x, &u, sizeof x);
	return x;
}

uint32_t f32_key(float x)
{
	uint32_t u;
	x += 0.0f;
	memcpy(&u, &x, sizeof u);
	return u >> 31 ? ~u : u | 1U << 31;
}

/* 11-bit digits: 6 passes cover 64 bits, and the 2048 counters of all six
 * digits fit in L1 while one pass over the data fills them all. */
#define RBITS 11
#define RSIZE (1 << RBITS)
#define RPASS 6

static void histograms(const uint64_t *a, size_t n, size_t (*h)[RSIZE])
{
	memset(h, 0, RPASS * sizeof *h);
	for (size_t i = 0; i < n; i++) {
		uint64_t k = a[i];
		for (int p = 0; p < RPASS; p++)
			h[p][(k >> (p * RBITS)) & (RSIZE - 1)]++;
	}
}

/* Turn counts into starting offsets; 0 when the pass would not move anything. */
static int offsets(size_t *h, size_t n)
{
	size_t sum = 0;
	for (int d = 0; d < RSIZE; d++) {
		if (h[d] == n)
			return 0;
		size_t c = h[d];
		h[d] = sum;
		sum += c;
	}
	return 1;
}

void radix64_sort(uint64_t *a, size_t n, int lo_bit, uint64_t *tmp)
{
	if (n < 2)
		return;
	size_t (*h)[RSIZE] = xmallocarray(RPASS, sizeof *h);
	histograms(a, n, h);
	uint64_t *buf = tmp ? tmp : xmallocarray(n, sizeof *buf);
	uint64_t *src = a, *dst = buf;
	for (int p = 0; p < RPASS; p++) {
		if ((p + 1) * RBITS <= lo_bit || !offsets(h[p], n))
			continue;
		int sh = p * RBITS;
		size_t *o = h[p];
		for (size_t i = 0; i < n; i++)
			dst[o[(src[i] >> sh) & (RSIZE - 1)]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
	if (!tmp)
		free(buf);
	free(h);
}

void radix64_sort_idx(uint64_t *key, uint32_t *idx, size_t n, uint64_t *tk, uint32_t *ti)
{
	if (n < 2)
		return;
	size_t (*h)[RSIZE] = xmallocarray(RPASS, sizeof *h);
	histograms(key, n, h);
	uint64_t *kb = tk ? tk : xmallocarray(n, sizeof *kb);
	uint32_t *ib = ti ? ti : xmallocarray(n, sizeof *ib);
	uint64_t *ks = key, *kd = kb;
	uint32_t *is = idx, *id = ib;
	for (int p = 0; p < RPASS; p++) {
		if (!offsets(h[p], n))
			continue;
		int sh = p * RBITS;
		size_t *o = h[p];
		for (size_t i = 0; i < n; i++) {
			size_t j = o[(ks[i] >> sh) & (RSIZE - 1)]++;
			kd[j] = ks[i];
			id[j] = is[i];
		}
		uint64_t *t = ks;
		ks = kd;
		kd = t;
		uint32_t *u = is;
		is = id;
		id = u;
	}
	if (ks != key) {
		memcpy(key, ks, n * sizeof *key);
		memcpy(idx, is, n * sizeof *idx);
	}
	if (!tk)
		free(kb);
	if (!ti)
		free(ib);
	free(h);
}

/* Digits from the top: bits 53..63, 42..52, ..., 9..19, then 0..8. */
static void msd(uint64_t *a, size_t n, int shift, int lo_bit)
{
	for (;;) {
		if (n < 48) {
			/* Insertion sort on the bits that matter. */
			for (size_t i = 1; i < n; i++) {
				uint64_t v = a[i], k = v >> lo_bit;
				size_t j = i;
				for (; j > 0 && a[j - 1] >> lo_bit > k; j--)
					a[j] = a[j - 1];
				a[j] = v;
			}
			return;
		}
		size_t cnt[RSIZE] = { 0 }, head[RSIZE], tail[RSIZE];
		for (size_t i = 0; i < n; i++)
			cnt[(a[i] >> shift) & (RSIZE - 1)]++;
		size_t sum = 0, full = 0;
		for (int d = 0; d < RSIZE; d++) {
			head[d] = sum;
			sum += cnt[d];
			tail[d] = sum;
			full |= cnt[d] == n;
		}
		if (!full) {
			/* Cycle each misplaced key to its bucket's next free slot. */
			for (int b = 0; b < RSIZE; b++)
				while (head[b] < tail[b]) {
					uint64_t v = a[head[b]];
					int d = (int)((v >> shift) & (RSIZE - 1));
					while (d != b) {
						uint64_t t = a[head[d]];
						a[head[d]++] = v;
						v = t;
						d = (int)((v >> shift) & (RSIZE - 1));
					}
					a[head[b]++] = v;
				}
		}
		if (shift <= lo_bit)
			return;
		int next = shift >= RBITS ? shift - RBITS : 0;
		if (full) {
			shift = next;
			continue;
		}
		size_t s0 = 0;
		for (int d = 0; d < RSIZE; d++) {
			if (cnt[d] > 1)
				msd(a + s0, cnt[d], next, lo_bit);
			s0 += cnt[d];
		}
		return;
	}
}

void radix64_sort_inplace(uint64_t *a, size_t n, int lo_bit)
{
	if (n > 1)
		msd(a, n, 64 - RBITS, lo_bit);
}

size_t uniq_u64(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

static int cmp_f64(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

void sort_f64(double *a, size_t n)
{
	qsort(a, n, sizeof *a, cmp_f64);
}

/* ---- stable argsort of doubles ---- */

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

/* Short or huge (more than 2^32 entries, beyond a 32-bit payload) inputs:
 * merge sort of key/index pairs. */
static void argsort_merge(const double *x, int64_t n, int64_t *order, int desc)
{
	kv_t *a = xmallocarray((size_t)n, sizeof *a);
	for (int64_t i = 0; i < n; i++) {
		uint64_t k = f64_key(x[i]);
		a[i].k = desc ? ~k : k;
		a[i].i = i;
	}
	kv_t *tmp = xmallocarray((size_t)n, sizeof *tmp);
	merge_sort(a, tmp, n);
	free(tmp);
	for (int64_t i = 0; i < n; i++)
		order[i] = a[i].i;
	free(a);
}

/* A stable sort by key has one result whatever the algorithm: the LSD radix
 * sort with a 32-bit index payload gives the merge sort's order. */
static void argsort(const double *x, int64_t n, int64_t *order, int desc)
{
	if (n <= 0)
		return;
	if (n < 4096 || (uint64_t)n > UINT32_MAX) {
		argsort_merge(x, n, order, desc);
		return;
	}
	uint64_t *k = xmallocarray((size_t)n, sizeof *k);
	uint32_t *ix = xmallocarray((size_t)n, sizeof *ix);
	for (int64_t i = 0; i < n; i++) {
		/* Descending: complement the key; stability still orders ties by index. */
		k[i] = desc ? ~f64_key(x[i]) : f64_key(x[i]);
		ix[i] = (uint32_t)i;
	}
	radix64_sort_idx(k, ix, (size_t)n, NULL, NULL);
	for (int64_t i = 0; i < n; i++)
		order[i] = ix[i];
	free(ix);
	free(k);
}

void argsort_f64(const double *x, int64_t n, int64_t *order) { argsort(x, n, order, 0); }
void argsort_f64_desc(const double *x, int64_t n, int64_t *order) { argsort(x, n, order, 1); }
