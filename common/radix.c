#include "radix.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define BITS 11
#define RADIX (1u << BITS)

void radix_sort_u64(uint64_t *v, size_t n, uint64_t maxkey)
{
	if (n < 2)
		return;
	int passes = 0;
	for (uint64_t m = maxkey; m; m >>= BITS)
		passes++;
	if (n < 64) {
		/* insertion sort: not worth the counting arrays */
		for (size_t i = 1; i < n; i++) {
			uint64_t x = v[i];
			size_t j = i;
			for (; j > 0 && v[j - 1] > x; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return;
	}
	uint64_t *tmp = xmallocarray(n, sizeof *tmp), *src = v, *dst = tmp;
	size_t *count = xmallocarray(RADIX, sizeof *count);
	for (int p = 0; p < passes; p++) {
		int shift = p * BITS;
		memset(count, 0, RADIX * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & (RADIX - 1)]++;
		if (count[(src[0] >> shift) & (RADIX - 1)] == n)
			continue; /* every key has the same digit here */
		size_t sum = 0;
		for (size_t d = 0; d < RADIX; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & (RADIX - 1)]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof *v);
	free(count);
	free(tmp);
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
