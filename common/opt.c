#include "opt.h"

#include <math.h>

#include "err.h"
#include "num.h"
#include "par.h"

long long opt_int(const char *s, const char *opt, long long lo, long long hi)
{
	int64_t v;
	if (!parse_i64(s, &v))
		die_usage("%s: '%s' is not an integer", opt, s);
	if (v < lo || v > hi)
		die_usage("%s: %s is out of range (%lld..%lld)", opt, s, lo, hi);
	return (long long)v;
}

double opt_double(const char *s, const char *opt)
{
	double v;
	if (!parse_f64(s, &v) || !isfinite(v))
		die_usage("%s: '%s' is not a finite number", opt, s);
	return v;
}

uint64_t opt_seed(const char *arg)
{
	return (uint64_t)opt_int(arg, "--seed", 0, INT64_MAX);
}

int opt_threads(const char *arg)
{
	int n = (int)opt_int(arg, "--threads", 1, 256);
	par_set_threads(n);
	return n;
}
