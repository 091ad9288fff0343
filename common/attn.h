/* Streaming attention over row blocks: S_h = Q_h K_h^T / sqrt(d_k) per head
 * through OpenBLAS sgemm in chunks of keys, softmax per row, head average,
 * and per block the fused top-K selection and rank counting. Never holds an
 * n x n matrix: memory is O(n d + threads * heads * block * n + K + |at|)
 * (plus the rank histogram's occupied regions when pairs are looked up).
 * Several layers (a consensus): each block is computed per layer and folded
 * into one blk x n tile per thread; queries and keys of every layer are
 * held (O(L n d)), still no n x n.
 * Definitions as in DESIGN.md. Output is identical for any thread count:
 * blocks and chunks have fixed boundaries, each block's arithmetic is the
 * same whoever computes it, and selections and counts are merged in an
 * order-free way (total order on pairs, integer sums). */
#ifndef AK_ATTN_H
#define AK_ATTN_H

#include <stdint.h>

#include "topk.h"

/* One layer's inputs, when several layers are combined into a consensus
 * (attn_spec_t.layers): the fields of the same names in attn_spec_t. */
typedef struct attn_layer {
	const float *x, *wq, *wk, *bq, *bk;
	void (*given)(void *ctx, int p, int64_t r0, int64_t m, float *dst, int64_t ld);
	void *given_ctx;
} attn_layer_t;

/* How several layers' values of one pair combine (attn-topk --combine).
 * Each layer's value is the one a single-layer run ranks (softmax or raw,
 * head-averaged); the combination is float32 arithmetic in layer order, so
 * the ranked value is reproducible bit for bit from the layers' values. */
enum {
	ATTN_COMBINE_SUM,       /* ((v0 + v1) + v2) + ... */
	ATTN_COMBINE_MEAN,      /* the sum / L (one float division) */
	ATTN_COMBINE_MAX,       /* the largest value */
	ATTN_COMBINE_ABSMAX,    /* the value of largest |value|, sign kept; the
	                         * first such layer on ties of |value| */
};

typedef struct attn_spec {
	int64_t n, d;           /* genes, model width */
	int heads;
	const float *x;         /* n x d, the attention input (LayerNorm already applied) */
	const float *wq, *wk;   /* d x d, PyTorch Linear (out x in) */
	const float *bq, *bk;   /* length d, or NULL */
	int raw;                /* scaled scores instead of softmax */
	int absval;             /* rank by |value| */
	int keep_self;          /* diagonal in selection and distribution */
	int per_head;           /* one distribution per head instead of the average */
	int64_t k;              /* top-K per distribution */
	/* Genes whose pairs are selected and ranked (NULL: all). Softmax still runs
	 * over every key: a subset aligns genes across models without changing
	 * a model's own attention. N = ns(ns-1), or ns^2 with keep_self. */
	const uint8_t *subset;
	int64_t nat;            /* pairs to look up (0: none) */
	const int32_t *at_from, *at_to;
	int threads;
	/* Given attention instead of X, W_Q, W_K (attn-topk --attn): fills rows
	 * [r0, r0 + m) of plane p (head p with per_head, else p = -1: the head
	 * average) into dst, row stride ld. x, wq, wk, bq, bk are unused. */
	void (*given)(void *ctx, int p, int64_t r0, int64_t m, float *dst, int64_t ld);
	void *given_ctx;
	/* Sees every row's ranked values over all n columns (diagonal and genes
	 * outside the subset included), one column chunk at a time, from the
	 * worker that computed them (each row exactly once): --check. */
	void (*observe)(void *ctx, int dist, int64_t row, int64_t c0, const float *v, int64_t cw);
	void *observe_ctx;
	/* Several layers (nlayers >= 1, layers != NULL): x, wq, wk, bq, bk, given
	 * and given_ctx above are unused, each layer has its own; every pair's
	 * ranked value is the layers' values combined by `combine` (per block of
	 * rows: a tile of blk x n per layer, folded into one, never n x n).
	 * Not with per_head or observe. All layers given, or none. */
	int nlayers;
	const attn_layer_t *layers;
	int combine;
	/* Rows whose pairs are ranked (NULL: all); columns are not restricted.
	 * N = nr(ns-1) (nr rows of the mask and the subset), or nr ns with keep_self. */
	const uint8_t *row_mask;
	/* Exact ranks and tie counts for the looked-up pairs: a first pass
	 * computes their values (blocks without pairs skipped), a second pass
	 * counts every entry in their histogram bins key by key. Without it,
	 * pairs outside the top-K are exact only up to float32 near-ties
	 * within 16 ulps. */
	int exact_at;
} attn_spec_t;

typedef struct attn_result {
	int ndist;              /* 1, or heads with per_head */
	int64_t ntotal;         /* N: size of each ranked distribution */
	tk_buf_t *top;          /* [ndist], finished: best min(k, N) first */
	int64_t **rank;         /* [ndist][top[d].n] */
	float *at_value;        /* [nat * ndist], pair-major */
	int64_t *at_rank;       /* [nat * ndist] */
	int64_t *at_ties;       /* [nat * ndist] with exact_at: entries of the distribution
	                         * with exactly the pair's ranking value (itself included
	                         * when it is in the distribution) */
} attn_result_t;

void attn_run(const attn_spec_t *s, attn_result_t *r);
void attn_result_free(attn_result_t *r);

/* LayerNorm per row over d features (population variance), in double,
 * stored as float; w, b may be NULL (1 and 0). In place. */
void layer_norm_rows(float *x, int64_t n, int64_t d, const float *w, const float *b, double eps);

#endif
