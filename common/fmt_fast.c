#include "fmt_fast.h"

#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

/* 10^k for k = 0..22 (the most the fast path needs: s <= 21, -X <= 6) */
static u128 pow10_128(int k)
{
	static const uint64_t lo[20] = {
		1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
		100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
		10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
		100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
	};
	if (k < 20)
		return lo[k];
	u128 p = lo[19];
	for (int i = 19; i < k; i++)
		p *= 10;
	return p;
}

/* Digits of x = M 2^-sh correctly rounded to p significant digits, for
 * decimal exponent X (x in [10^X, 10^(X+1))): D in [10^(p-1), 10^p] (10^p
 * when rounding carries), s = p - 1 - X. Returns 0 on an exact tie. */
static int round_digits(uint64_t M, int sh, int p, int X, uint64_t *D, int *s)
{
	*s = p - 1 - X;
	u128 n = (u128)M * pow10_128(*s);
	u128 q = n >> sh, r = n & (((u128)1 << sh) - 1), half = (u128)1 << (sh - 1);
	if (r == half)
		return 0;
	if (r > half)
		q++;
	*D = (uint64_t)q;
	return 1;
}

/* 1: the decimal D 10^-s reads back as M 2^-sh; 0: it does not; -1: exactly
 * half way (left to strtod's tie rule, i.e. the slow path). */
static int round_trips(uint64_t M, int sh, uint64_t D, int s)
{
	u128 a = (u128)D << sh, b = (u128)M * pow10_128(s);
	u128 d = a > b ? a - b : b - a;
	u128 lim = pow10_128(s);
	if (2 * d < lim)
		return 1;
	return 2 * d == lim ? -1 : 0;
}

/* Format p digits of D (no leading zeros) with decimal exponent X as
 * printf's %.<p>g does: fixed for -4 <= X < p, else d.ddde[+-]XX; trailing
 * zeros and a bare point removed. */
static int format_g(char *buf, int neg, uint64_t D, int p, int X)
{
	char dig[24];
	for (int i = p - 1; i >= 0; i--) {
		dig[i] = (char)('0' + D % 10);
		D /= 10;
	}
	int nd = p;
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	char *o = buf;
	if (neg)
		*o++ = '-';
	if (X < -4 || X >= p) {
		*o++ = dig[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)(nd - 1));
			o += nd - 1;
		}
		*o++ = 'e';
		*o++ = X < 0 ? '-' : '+';
		int ax = X < 0 ? -X : X;
		if (ax >= 100)
			*o++ = (char)('0' + ax / 100);
		*o++ = (char)('0' + ax / 10 % 10);
		*o++ = (char)('0' + ax % 10);
	} else if (X < 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -X - 1; i++)
			*o++ = '0';
		memcpy(o, dig, (size_t)nd);
		o += nd;
	} else {
		memcpy(o, dig, (size_t)(X + 1 < nd ? X + 1 : nd));
		o += X + 1 < nd ? X + 1 : nd;
		for (int i = nd; i < X + 1; i++)
			*o++ = '0';
		if (nd > X + 1) {
			*o++ = '.';
			memcpy(o, dig + X + 1, (size_t)(nd - X - 1));
			o += nd - X - 1;
		}
	}
	*o = '\0';
	return (int)(o - buf);
}

int fmt_f64_fast(char *buf, double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof u);
	int neg = (int)(u >> 63), be = (int)((u >> 52) & 0x7ff);
	uint64_t M = (u & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
	int sh = 1075 - be;
	/* |x| in [2^-17, 1): sh in 53..69, and 2^-17 < 1e-5. Powers of two
	 * (uneven gaps to the neighbours) take the slow path. */
	if (be == 0 || be == 0x7ff || sh < 53 || sh > 69 || M == (UINT64_C(1) << 52))
		return -1;
	/* decimal exponent X: 10^X <= |x| < 10^(X+1), from an exact comparison */
	int X = -1;
	while (X > -6 && ((u128)M * pow10_128(-X)) < ((u128)1 << sh))
		X--;
	if (X < -5)
		return -1;
	for (int p = 15; p <= 17; p++) {
		uint64_t D;
		int s;
		if (!round_digits(M, sh, p, X, &D, &s))
			return -1;
		int rt = round_trips(M, sh, D, s);
		if (rt < 0)
			return -1;
		if (rt == 0) {
			if (p == 17)
				return -1; /* cannot happen: 17 digits always suffice */
			continue;
		}
		int Xp = X;
		if (D == (uint64_t)pow10_128(p)) {
			D /= 10;
			Xp++;
		}
		return format_g(buf, neg, D, p, Xp);
	}
	return -1;
}
