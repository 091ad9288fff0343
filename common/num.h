/* Numbers in and out, independent of the locale. Output round-trips: reading
 * the text back gives the same binary value (shortest such form for double,
 * at most 9 significant digits for float). NaN and infinities have one
 * spelling each: nan, inf, -inf. */
#ifndef AK_NUM_H
#define AK_NUM_H

#include <stdint.h>

#define NUM_BUFSZ 32

int fmt_f64(char *buf, double x);
int fmt_f32(char *buf, float x);
int fmt_i64(char *buf, long long x);

/* Strict parsing of a whole NUL-terminated field: no surrounding blanks, no
 * trailing junk, no overflow. Accepts nan/inf spellings (any case) for doubles.
 * Return 1 on success, 0 on failure. */
int parse_f64(const char *s, double *out);
int parse_i64(const char *s, int64_t *out);
/* Missing-value spellings: empty, NA, nan (any case). */
int is_na(const char *s);

#endif
