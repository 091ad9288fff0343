/* Rows of a TSV kept verbatim in memory, for filters that append columns to
 * every row but can only compute them after reading all rows (q-values,
 * cross-fitted residuals). Text lives in 64 MB chunks, not one malloc a row. */
#ifndef AK_ROWSTORE_H
#define AK_ROWSTORE_H

#include <stdint.h>

#include "out.h"
#include "tsv.h"

typedef struct rowstore {
	char **line;      /* line[i]: row i's text, NUL-terminated, tabs restored */
	int64_t n, cap;
	char **chunks;
	size_t nchunks, left;
	char *cur;
} rowstore_t;

/* Keep the current row of t (call right after tsv_next). */
void rowstore_add(rowstore_t *s, const tsv_t *t);
void rowstore_free(rowstore_t *s);
/* The header line of t (names joined by tabs), without a newline. */
void tsv_write_header(wr_t *w, const tsv_t *t);

#endif
