#include "select.h"

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

double select_f64(double *a, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	/* Quickselect with a median-of-three pivot; after too many rounds
	 * (adversarial input) the remaining range is sorted: O(n log n) worst. */
	int budget = 64;
	while (hi > lo) {
		if (--budget == 0) {
			qsort(a + lo, (size_t)(hi - lo + 1), sizeof *a, cmp_f64);
			return a[kk];
		}
		ptrdiff_t mid = lo + (hi - lo) / 2;
		double x = a[lo], y = a[mid], z = a[hi];
		double p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		ptrdiff_t i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p)
				i++;
			while (a[j] > p)
				j--;
			if (i <= j) {
				double t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		/* [lo, j] <= p, [i, hi] >= p, and anything between equals p. */
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			return a[kk];
	}
	return a[kk];
}

double median_f64(double *a, size_t n)
{
	if (n == 0)
		return NAN;
	size_t h = n / 2;
	double hi = select_f64(a, n, h);
	if (n % 2)
		return hi;
	/* After selecting h, a[0..h) holds the h smallest: the lower middle is their max. */
	double lo = a[0];
	for (size_t i = 1; i < h; i++)
		lo = a[i] > lo ? a[i] : lo;
	return (lo + hi) / 2;
}
