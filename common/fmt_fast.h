/* A fast path for fmt_f64 (num.h): the same bytes, computed with exact
 * 128-bit integer arithmetic instead of three snprintf and two strtod calls,
 * for the values analyses print by the million (correlations, most p values):
 * finite x with 1e-5 <= |x| < 1. */
#ifndef AK_FMT_FAST_H
#define AK_FMT_FAST_H

/* Writes what fmt_f64 would write and returns its length, or returns -1
 * (writing nothing useful) when x is outside the range or an exact tie makes
 * the slow path the safe one. buf holds at least NUM_BUFSZ bytes. */
int fmt_f64_fast(char *buf, double x);

#endif
