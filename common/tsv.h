/* TSV with a header line; columns addressed by name. Rows are split in place
 * (fields point into the reader's buffer until the next tsv_next). Every
 * problem is reported as "file:line: ..." and ends the program. */
#ifndef AK_TSV_H
#define AK_TSV_H

#include <stdint.h>
#include <stdnoreturn.h>

#include "in.h"

typedef struct tsv {
	rd_t *rd;
	int ncol;
	char **names;   /* header names, owned */
	char **f;       /* fields of the current row */
	int cap;
	int nf;
} tsv_t;

/* Opens and reads the header. Dies on empty input or duplicate names. */
tsv_t *tsv_open(const char *path);
/* Header-less tables (e.g. TRRUST as distributed): columns named "1".."n" by position. */
tsv_t *tsv_open_noheader(const char *path);
void tsv_close(tsv_t *t);
const char *tsv_name(const tsv_t *t);
int64_t tsv_line(const tsv_t *t);

/* Column index by name; dies naming the column and listing those present. */
int tsv_col(const tsv_t *t, const char *name);
/* -1 when absent. */
int tsv_col_opt(const tsv_t *t, const char *name);
/* Parse "a,b,c" into column indices (dies on a missing one); returns count. */
int tsv_cols(const tsv_t *t, const char *list, int **idx);

/* Next data row: 1, or 0 at end of input. Dies on a ragged row. */
int tsv_next(tsv_t *t);

/* Field values of the current row. */
static inline const char *tsv_str(const tsv_t *t, int col) { return t->f[col]; }
/* Strict number; NaN/inf spellings accepted (use tsv_finite to forbid). */
double tsv_num(const tsv_t *t, int col);
/* Finite number or die. */
double tsv_finite(const tsv_t *t, int col);
/* Number or missing (empty, NA, nan): returns 0 and sets NAN when missing. */
int tsv_num_na(const tsv_t *t, int col, double *out);
/* Finite number, or missing: NAN and *na = 1 (*na is left alone otherwise,
 * so one flag can collect a row's columns); infinities die. */
double tsv_finite_na(const tsv_t *t, int col, int *na);
int64_t tsv_int(const tsv_t *t, int col);
/* Report an error at the current row and column. */
noreturn void tsv_die(const tsv_t *t, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Split s on '\t' in place into at most cap fields; returns the field count
 * (which may exceed cap: then only cap were stored). */
int tsv_split(char *s, char **f, int cap);

#endif
