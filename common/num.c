#include "num.h"

#include "fmt_fast.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int special(char *buf, double x)
{
	if (isnan(x))
		return (int)(memcpy(buf, "nan", 4), 3);
	if (isinf(x)) {
		if (x > 0)
			return (int)(memcpy(buf, "inf", 4), 3);
		return (int)(memcpy(buf, "-inf", 5), 4);
	}
	return -1;
}

/* Shortest of %.15g..%.17g that reads back exactly. %.15g gives the shortest
 * form whenever that has <= 15 digits (DBL_DIG), so only two more tries remain. */
int fmt_f64(char *buf, double x)
{
	int n = special(buf, x);
	if (n >= 0)
		return n;
	/* same bytes, exact integer arithmetic, for 1e-5 <= |x| < 1 */
	if ((n = fmt_f64_fast(buf, x)) >= 0)
		return n;
	for (int p = 15; p <= 17; p++) {
		n = snprintf(buf, NUM_BUFSZ, "%.*g", p, x);
		if (p == 17 || strtod(buf, NULL) == x)
			break;
	}
	return n;
}

int fmt_f32(char *buf, float x)
{
	int n = special(buf, x);
	if (n >= 0)
		return n;
	for (int p = 6; p <= 9; p++) {
		n = snprintf(buf, NUM_BUFSZ, "%.*g", p, (double)x);
		if (p == 9 || strtof(buf, NULL) == x)
			break;
	}
	return n;
}

int fmt_i64(char *buf, long long x)
{
	char tmp[24];
	int n = 0, neg = x < 0;
	unsigned long long u = neg ? 0ULL - (unsigned long long)x : (unsigned long long)x;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	int k = 0;
	if (neg)
		buf[k++] = '-';
	while (n)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return k;
}

int is_na(const char *s)
{
	return s[0] == '\0' || strcmp(s, "NA") == 0 || strcasecmp(s, "nan") == 0;
}

int parse_f64(const char *s, double *out)
{
	char *end;
	/* strtod skips leading blanks; we do not. */
	if (s[0] == '\0' || s[0] == ' ' || s[0] == '\t')
		return 0;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end != '\0')
		return 0;
	/* Overflow to inf is an error; underflow to a denormal or zero is a value. */
	if (errno == ERANGE && isinf(v))
		return 0;
	*out = v;
	return 1;
}

int parse_i64(const char *s, int64_t *out)
{
	char *end;
	if (s[0] == '\0' || s[0] == ' ' || s[0] == '\t')
		return 0;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE)
		return 0;
	*out = (int64_t)v;
	return 1;
}
