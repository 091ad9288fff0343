/* Attention matrices given in a file (a model's own forward pass,
 * output_attentions=True), for attn-topk --attn and --check: a .npy of
 * n x n, or H x n x n (one matrix per head), float16, float32 or float64,
 * C order. A plain file is memory-mapped and read row by row, so n = 20,000
 * needs no n x n buffer; a gzip'd file or stdin is first copied, expanded,
 * to an unlinked temporary file (in TMPDIR) and mapped from there. */
#ifndef AK_ATTN_GIVEN_H
#define AK_ATTN_GIVEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct attn_given {
	char *path;
	int heads;                  /* 1 for an n x n file */
	int has_heads;              /* the file is H x n x n */
	int64_t n;
	int esz;                    /* 2, 4 or 8 bytes */
	const unsigned char *data;  /* first element */
	void *map;
	size_t maplen;
} attn_given_t;

attn_given_t *attn_given_open(const char *path);
void attn_given_close(attn_given_t *g);
/* Rows [r0, r0 + m), columns [c0, c0 + cw) of head h (h < 0: the average
 * over the file's heads, summed in double) as float32 into dst, row stride
 * ld. Dies naming head, row and column of a NaN or infinity. */
void attn_given_rows(const attn_given_t *g, int h, int64_t r0, int64_t m, int64_t c0, int64_t cw,
		     float *dst, int64_t ld);
/* One value (same arithmetic as attn_given_rows). */
double attn_given_at(const attn_given_t *g, int h, int64_t i, int64_t j);

#endif
