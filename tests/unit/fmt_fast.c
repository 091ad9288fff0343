/* fmt_f64's fast path (common/fmt_fast.c) against the plain loop it
 * replaces (shortest of %.15g..%.17g that reads back), on N values drawn
 * from several distributions: uniform in [-1, 1], random bit patterns,
 * log-uniform magnitudes, decimals with few digits and their neighbours.
 * Prints "N fast mismatches". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_fast.h"

static int slow(char *buf, double x)
{
	int n = 0;
	for (int p = 15; p <= 17; p++) {
		n = snprintf(buf, 32, "%.*g", p, x);
		if (p == 17 || strtod(buf, NULL) == x)
			break;
	}
	return n;
}

static unsigned long long st = 88172645463325252ULL;
static unsigned long long xr(void)
{
	st ^= st << 13;
	st ^= st >> 7;
	st ^= st << 17;
	return st;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000, fast = 0, bad = 0;
	char a[40], b[40];
	for (long i = 0; i < n; i++) {
		double x, y;
		unsigned long long u;
		switch (i % 6) {
		case 0: x = (double)(xr() >> 11) * 0x1.0p-53 * 2 - 1; break;
		case 1: u = xr(); memcpy(&x, &u, 8); break;
		case 2: x = pow(10, -(double)(xr() % 700) / 100.0) * ((xr() & 1) ? 1 : -1); break;
		case 3: x = (double)(xr() % 1000000) / 1000000.0; break;
		case 4: x = round((double)(xr() >> 11) * 0x1.0p-53 * 1e6) / 1e6; break;
		default:
			y = (double)(xr() % 100000) * 1e-5;
			memcpy(&u, &y, 8);
			u += (unsigned long long)((long long)(xr() % 5) - 2);
			memcpy(&x, &u, 8);
		}
		if (!isfinite(x))
			continue;
		int k = fmt_f64_fast(a, x);
		if (k < 0)
			continue;
		fast++;
		int m = slow(b, x);
		if (k != m || strcmp(a, b) != 0) {
			if (bad++ < 5)
				fprintf(stderr, "x=%.17g fast=%s slow=%s\n", x, a, b);
		}
	}
	printf("%ld %ld %ld\n", n, fast, bad);
	return bad != 0;
}
