/* Gene-gene correlation over a set of cells as one matrix product: each
 * gene's values (or average ranks, for Spearman) over the cells are centred
 * and scaled to unit length, so that the product of two such rows is their
 * Pearson correlation. Products are taken in row blocks (OpenBLAS dgemm, or
 * one dsyrk when a square block covers every row), so no n x n matrix is held
 * unless the caller's block is the whole matrix. */
#ifndef AK_CORR_H
#define AK_CORR_H

#include <stdint.h>

#include "expr.h"

typedef struct corr_rows {
	int64_t n;          /* rows (genes) */
	int64_t m;          /* cells */
	double *z;          /* n x m, row-major, unit-length centred rows */
	uint8_t *constant;  /* 1: the gene is constant over these cells (row of zeros) */
} corr_rows_t;

/* Rows for genes[0..ng-1] over the selected cells c with cmap[c] >= 0 (their
 * column is cmap[c]; m such cells; cmap NULL: all selected cells, m = ncells). */
corr_rows_t *corr_rows_new(const expr_t *e, const int64_t *genes, int64_t ng, const int32_t *cmap,
			   int64_t m, int spearman);
void corr_rows_free(corr_rows_t *r);

/* C (nr x c->n, row-major) = correlations of rows r0 .. r0+nr-1 of r with every
 * row of c, clipped to [-1, 1]; NaN where either gene is constant. same: r and
 * c are the same rows (then a block of every row uses dsyrk and mirrors it). */
void corr_block(const corr_rows_t *r, int64_t r0, int64_t nr, const corr_rows_t *c, int same, double *C);

#endif
