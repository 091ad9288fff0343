/* Unit check (tests/large-inputs.bats): the rank histogram of attn-topk
 * counts beyond 2^32 entries. A real run needs n > 46,341 genes (N > 2^31
 * pairs; bench/large_inputs.sh does that by hand); here a thread's table is
 * filled to 2^32 - 1 entries in one bin directly (white-box: 2^32 - 2 set in
 * the bin's two digits, plus one key staged) and flushed three times, so the
 * shared counts (carrying from the 16-bit digit), the block sums of
 * kh_finish and kh_count_above must carry 3 (2^32 - 1) exactly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "keyhist.h"
#include "xalloc.h"

static int fails;

static void expect(const char *what, uint64_t got, uint64_t want)
{
	if (got != want) {
		printf("%s: got %llu, want %llu\n", what, (unsigned long long)got,
		       (unsigned long long)want);
		fails++;
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	err_init(argv[0]);
	static kh_local_t l;
	static kh_t g;
	const uint32_t khi = 0xC1234560u, klo = 0x40000010u;
	const uint32_t r = khi >> KH_RSHIFT, b = (khi >> KH_SHIFT) & (KH_RBINS - 1);
	for (int rep = 0; rep < 3; rep++) {
		kh_add(&l, khi);
		/* as if 2^32 - 2 entries had been counted in this bin already */
		if (!l.reg[r])
			l.reg[r] = xcalloc(1, sizeof *l.reg[r]);
		l.reg[r]->lo[b] = 0xFFFE;
		l.reg[r]->hi = xcalloc(KH_RBINS, sizeof *l.reg[r]->hi);
		l.reg[r]->hi[b] = 0xFFFF;
		l.count = UINT32_MAX;
		expect("needs flush before one more entry", (uint64_t)kh_needs_flush(&l, 1), 1);
		kh_flush(&g, &l);
		expect("nothing pending after a flush", l.count, 0);
	}
	kh_add(&l, klo);
	kh_add(&l, klo);
	kh_flush(&g, &l);
	kh_finish(&g);
	const uint64_t big = 3 * (uint64_t)UINT32_MAX;
	expect("entries above the low key", kh_count_above(&g, klo), big);
	expect("entries in the high key's bin", kh_count_bin(&g, khi), big);
	expect("entries above the high key", kh_count_above(&g, khi), 0);
	expect("entries in the low key's bin", kh_count_bin(&g, klo), 2);
	kh_local_free(&l);
	kh_free(&g);
	if (!fails)
		printf("ok %llu\n", (unsigned long long)big);
	return fails != 0;
}
