#include "attn.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "err.h"
#include "keyhist.h"
#include "progress.h"
#include "xalloc.h"

/* OpenBLAS's own call (cblas.h of some builds declares it, others not). */
void openblas_set_num_threads(int);

/* Hot loops use GCC/Clang vector extensions (common/attn_kern.h), built
 * once per instruction set and chosen once per run (kern_pick), so they
 * vectorise at any optimisation level. The helpers below are macros over
 * the current instantiation's types VF, VI, VU. */
#define VLOAD(v, p) memcpy(&(v), (p), sizeof(v))
#define VSTORE(p, v) memcpy((p), &(v), sizeof(v))
#define VSEL(mask, a, b) ((VF)(((VI)(a) & (mask)) | ((VI)(b) & ~(mask))))
#define VUMAX(a, b) (((a) & (VU)((a) > (b))) | ((b) & ~(VU)((a) > (b))))
#define VUMIN(a, b) (((a) & (VU)((a) < (b))) | ((b) & ~(VU)((a) < (b))))
/* Order keys of a vector of values (tk_key, vectorised). */
#define VKEY(k, v, absval) do {                                                  \
		VU u_ = (absval) ? ((VU)(v) & 0x7fffffffu) : (VU)((v) + 0.0f);   \
		(k) = u_ ^ ((VU)((VI)u_ >> 31) | 0x80000000u);                   \
	} while (0)

/* exp(x) for x <= 0 (scores minus the row maximum), float32, about 1 ulp:
 * Cody-Waite reduction x = n ln2 + r, Cephes' degree-6 polynomial, and the
 * power of two applied in two halves so that results down into the
 * subnormal range are right. Scalar and vector forms do the same steps. */
#define EXP_STEPS(X, T, R, P)                                                   \
	T = X * 1.44269504088896341f;                                           \
	T = (T + 12582912.0f) - 12582912.0f; /* round to nearest */             \
	R = X - T * 0.693359375f;                                               \
	R = R - T * -2.12194440e-4f;                                            \
	P = R * 1.9875691500e-4f + 1.3981999507e-3f;                            \
	P = P * R + 8.3334519073e-3f;                                           \
	P = P * R + 4.1665795894e-2f;                                           \
	P = P * R + 1.6666665459e-1f;                                           \
	P = P * R + 5.0000001201e-1f;                                           \
	P = P * (R * R) + R + 1.0f;

static inline float exp_nonpos(float x)
{
	float t, r, p;
	x = x < -104.0f ? -104.0f : x;
	EXP_STEPS(x, t, r, p)
	int32_t n = (int32_t)t, n1 = n >> 1, n2 = n - n1;   /* both in [-75, 0] */
	uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
	float s1, s2;
	memcpy(&s1, &b1, sizeof s1);
	memcpy(&s2, &b2, sizeof s2);
	return (p * s1) * s2;
}

#define VEXP_NONPOS(out, xin) do {                                        \
		VF x_ = (xin), t, r, p, lo_ = (VF){ 0 } - 104.0f;                \
		x_ = VSEL(x_ < lo_, lo_, x_);                                    \
		EXP_STEPS(x_, t, r, p)                                           \
		VI n_ = __builtin_convertvector(t, VI), n1 = n_ >> 1, n2 = n_ - n1; \
		VF s1 = (VF)((n1 + 127) << 23), s2 = (VF)((n2 + 127) << 23);     \
		(out) = (p * s1) * s2;                                           \
	} while (0)

/* The fast form, for x >= -87 (results normal): the power of two in one
 * step. Power-of-two scalings are exact on normal numbers, so both forms
 * give the same bits wherever both apply. */
#define EXP_NORMAL_MIN (-87.0f)
#define VEXP_NORMAL(out, xin) do {                                        \
		VF x_ = (xin), t, r, p;                                          \
		EXP_STEPS(x_, t, r, p)                                           \
		VI n_ = __builtin_convertvector(t, VI);                          \
		(out) = p * (VF)((n_ + 127) << 23);                              \
	} while (0)
#define EXP_RUN 64

/* ---- the scan: selection, rank histogram, finiteness ---- */

typedef struct scan {
	tk_buf_t *tb;
	kh_local_t *kh;     /* NULL when no pairs are looked up */
	uint32_t *keys;     /* the block's keys so far, for kh */
	size_t nkeys;
	int absval;
	uint32_t kmin, kmax;
} scan_t;

static inline float rank_value(float v, int absval)
{
	return absval ? fabsf(v) : v + 0.0f;
}

/* ---- the hot loops, one build per instruction set ---- */

typedef struct kern {
	void (*row_minmax)(const float *s, int64_t n, float *lo, float *hi);
	double (*exp_sum)(const float *src, float *dst, int64_t n, float m, float lo);
	void (*combine)(float *restrict out, const float *const *e, const float *w, int nh, int64_t n);
	void (*scan_range)(scan_t *c, const float *v, int32_t row, int64_t col0, int64_t cnt);
	void (*qk_tile)(const float *restrict q, int64_t dk, const float *restrict kp, int64_t j0,
			int64_t ncols, float *restrict out, int64_t ldo, float *restrict lo, float *restrict hi);
	int qk_rows;
	int qk_default;
	const char *name;
} kern_t;

#define KCAT(a, b) KCAT2(a, b)
#define KCAT2(a, b) a##_##b
#define KSTR(a) KSTR2(a)
#define KSTR2(a) #a

typedef float vf4 __attribute__((vector_size(16)));
typedef int32_t vi4 __attribute__((vector_size(16)));
typedef uint32_t vu4 __attribute__((vector_size(16)));

/* Streaming stores (they bypass the caches: score rows are written once and
 * read back only after the whole block, and a normal store would first read
 * each line from memory). Rows and chunks start on 64-byte boundaries
 * (xaligned, ld and pick_chunk see to it). */
#if defined(__SSE2__)
#include <emmintrin.h>
#define STREAM_FENCE() _mm_sfence()
#else
#define STREAM_FENCE() ((void)0)
#endif

/* The baseline build: 4 lanes (SSE2 on x86-64), no FMA. */
#define KW 4
#define KSFX base
#define VF vf4
#define VI vi4
#define VU vu4
#define KTARGET
#define KTARGET_FMA
#define KROWS 4
#define KQK_DEFAULT 0
#if defined(__SSE2__)
#define VSTREAM(p, v) _mm_stream_ps((p), (__m128)(v))
#else
#define VSTREAM(p, v) VSTORE(p, v)
#endif
#include "attn_kern.h"

/* AVX2 (with FMA) and AVX-512 builds, GCC on x86-64. The exponential may
 * contract multiply-adds into FMA there: about a fifth faster. Its last bit
 * then differs between builds, which is harmless (the exponentials feed the
 * values but are never compared with anything recomputed elsewhere); the
 * output stays identical for any thread count on one machine. Nothing else
 * may contract: a looked-up pair's value must repeat the ranked one
 * exactly. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define AK_KERN_X86 1
typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));
typedef uint32_t vu8 __attribute__((vector_size(32)));
typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));
typedef uint32_t vu16 __attribute__((vector_size(64)));

#define KW 8
#define KSFX avx2
#define VF vf8
#define VI vi8
#define VU vu8
#define KTARGET __attribute__((target("avx2,fma")))
#define KTARGET_FMA __attribute__((target("avx2,fma"), optimize("fp-contract=fast")))
#define VSTREAM(p, v) _mm256_stream_ps((p), (__m256)(v))
#define KROWS 6
#define KQK_DEFAULT 0   /* as fast as OpenBLAS's Haswell kernels, not faster */
#include "attn_kern.h"

#define KW 16
#define KSFX avx512
#define VF vf16
#define VI vi16
#define VU vu16
#define KTARGET __attribute__((target("avx512f")))
#define KTARGET_FMA __attribute__((target("avx512f"), optimize("fp-contract=fast")))
#define VSTREAM(p, v) _mm512_stream_ps((p), (__m512)(v))
#define KROWS 8
#define KQK_DEFAULT 1
#include "attn_kern.h"
#endif

static kern_t kern;   /* chosen once in attn_run, before any thread starts */
static int qk_own;    /* softmax scores by kern.qk_tile, not sgemm (kern_pick) */

/* Who computes the softmax scores: our own tile (kern.qk_tile: the products
 * of a few rows stay in L1 from the multiply-adds through the row maximum
 * and the exponentials, keys packed once per run) or OpenBLAS (sgemm per
 * chunk into an L2 scratch). Ours where bench/attn_topk.sh measured it
 * faster; AK_ATTN_PRODUCT=blas or own chooses, for tests and benchmarks. */
static void qk_pick(void)
{
	const char *want = getenv("AK_ATTN_PRODUCT");
	qk_own = kern.qk_default;
	if (want && *want) {
		if (!strcmp(want, "own"))
			qk_own = 1;
		else if (!strcmp(want, "blas"))
			qk_own = 0;
		else
			die("AK_ATTN_PRODUCT=%s: not one of own, blas", want);
	}
}

/* The widest build this CPU runs, or the one AK_ATTN_ISA names (avx512,
 * avx2, base: for tests and benchmarks). */
static void kern_pick(void)
{
	const char *want = getenv("AK_ATTN_ISA");
	kern = kern_base;
#ifdef AK_KERN_X86
	int has512 = __builtin_cpu_supports("avx512f");
	int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	if (want && *want) {
		if (!strcmp(want, "avx512") && has512)
			kern = kern_avx512;
		else if (!strcmp(want, "avx2") && has2)
			kern = kern_avx2;
		else if (strcmp(want, "base"))
			die("AK_ATTN_ISA=%s: not one of avx512, avx2, base that this CPU runs", want);
		qk_pick();
		return;
	}
	if (has512)
		kern = kern_avx512;
	else if (has2)
		kern = kern_avx2;
	qk_pick();
#else
	if (want && *want && strcmp(want, "base"))
		die("AK_ATTN_ISA=%s: only base is built for this CPU", want);
	qk_pick();
#endif
}

/* A large buffer (the block's exponentials, queries and keys: up to
 * hundreds of MB) on 2 MiB pages where the kernel offers them (THP in
 * "madvise" mode): first touching it in 4 KiB pages cost ~10% of a run in
 * page faults (perf, n = 8,000). Freed with free(). */
static void *big_alloc(size_t n)
{
	size_t huge = (size_t)2 << 20;
	if (n < huge)
		return xaligned(64, n);
	void *p = xaligned(huge, (n + huge - 1) / huge * huge);
#ifdef MADV_HUGEPAGE
	(void)madvise(p, (n + huge - 1) / huge * huge, MADV_HUGEPAGE);   /* advice only */
#endif
	return p;
}

/* ---- shared state and the thread pool ---- */

/* Histogram bins refined to single keys (exact_at's second pass): an open
 * addressing table bin -> index, behind a bit filter that stays in L2, so
 * that the ~all keys outside these bins cost one load and a test. */
#define RF_FILTER_BITS 20
typedef struct refine {
	size_t nbins;
	uint32_t mask;          /* table size - 1 */
	uint32_t *slot;         /* bin + 1, or 0 (empty) */
	uint32_t *idx;
	uint64_t *filter;       /* 2^RF_FILTER_BITS bits */
} refine_t;

static inline uint32_t rf_hash(uint32_t bin)
{
	return bin * 0x9E3779B1u;
}

static void rf_build(refine_t *rf, const uint32_t *bins, size_t nb)
{
	size_t cap = 16;
	while (cap < 2 * nb + 2)
		cap *= 2;
	rf->mask = (uint32_t)(cap - 1);
	rf->slot = xcalloc(cap, sizeof *rf->slot);
	rf->idx = xcalloc(cap, sizeof *rf->idx);
	rf->filter = xcalloc((size_t)1 << (RF_FILTER_BITS - 6), sizeof *rf->filter);
	rf->nbins = 0;
	for (size_t u = 0; u < nb; u++) {
		uint32_t h = rf_hash(bins[u]), f = h >> (32 - RF_FILTER_BITS), at = h & rf->mask;
		while (rf->slot[at] && rf->slot[at] != bins[u] + 1)
			at = (at + 1) & rf->mask;
		if (rf->slot[at])
			continue;
		rf->slot[at] = bins[u] + 1;
		rf->idx[at] = (uint32_t)rf->nbins++;
		rf->filter[f >> 6] |= (uint64_t)1 << (f & 63);
	}
}

/* Index of bin in rf, or -1. */
static inline int64_t rf_find(const refine_t *rf, uint32_t bin)
{
	uint32_t h = rf_hash(bin), f = h >> (32 - RF_FILTER_BITS);
	if (!(rf->filter[f >> 6] >> (f & 63) & 1))
		return -1;
	for (uint32_t at = h & rf->mask; rf->slot[at]; at = (at + 1) & rf->mask)
		if (rf->slot[at] == bin + 1)
			return rf->idx[at];
	return -1;
}

static void rf_free(refine_t *rf)
{
	free(rf->slot);
	free(rf->idx);
	free(rf->filter);
}

typedef struct job {
	const attn_spec_t *s;
	const attn_layer_t *lay;  /* [nl]: the layers (one, from s, without s->layers) */
	int nl;
	int pl;                 /* the layer being projected */
	float **q, **k;         /* [nl] projections, q prescaled by 1/sqrt(d_k): n x d,
	                         * then heads x n x d_k except for the --raw average */
	int64_t blk, nblocks;   /* rows per block */
	int64_t chunk, nchunks; /* columns per sgemm call */
	int64_t ld;             /* row stride of the block buffers: n rounded up to 16 */
	int nbuf;               /* score buffers per block: heads, or 1 (--raw, averaged) */
	int direct;             /* buffers hold the values themselves (--raw, given attention) */
	int ndist;
	int own;                /* softmax scores by kern.qk_tile: k holds packed keys */
	int64_t ldt;            /* row stride of the score tile: the chunk rounded up to 32 */
	int64_t kk;             /* min(k, N) */
	atomic_llong next;
	atomic_llong done;      /* blocks finished, for the progress line */
	pthread_mutex_t mu;
	kh_t *hist;             /* [ndist] */
	int64_t *at_order;      /* pair indices sorted by from */
	int64_t *at_start;      /* [nblocks + 1] into at_order */
	float *at_value;
	tk_buf_t **thread_top;  /* [threads][ndist] */
	int64_t *runs;          /* [2 nruns]: column runs [a, b) of the subset */
	int64_t nruns;
	atomic_int bad;
	int values_only;        /* exact_at's first pass: the pairs' values, nothing counted */
	/* exact_at's first pass over only the rows that hold looked-up pairs
	 * (grow != NULL): where a row's values depend on that row alone (our own
	 * score tile, given attention), gathered into blocks of their own. */
	const int64_t *grow;    /* [ngrow] the rows, ascending */
	int64_t ngrow, ngblocks;
	float **qg;             /* [nl] their queries, heads x ngrow x d_k */
	int64_t *g_idx;         /* [nat] the pair's row's index in grow */
	int64_t *g_start;       /* [ngblocks + 1] into g_order */
	int64_t *g_order;       /* pair indices by gathered block */
	const refine_t *rf;     /* [ndist]: exact_at's second pass: bins counted key by key */
	const size_t *sub_off;  /* [ndist + 1]: distribution t's counters, 2^KH_SHIFT per bin */
	uint64_t **thread_sub;  /* [threads] -> [sub_off[ndist]] */
} job_t;

typedef struct worker {
	job_t *j;
	int id;
} worker_t;

static void run_pool(int nthreads, void *(*fn)(void *), job_t *j)
{
	if (nthreads < 1)
		nthreads = 1;
	pthread_t *th = xmallocarray((size_t)nthreads, sizeof *th);
	worker_t *w = xmallocarray((size_t)nthreads, sizeof *w);
	for (int t = 0; t < nthreads; t++) {
		w[t].j = j;
		w[t].id = t;
		if (t > 0 && pthread_create(&th[t], NULL, fn, &w[t]) != 0)
			die("cannot start a thread");
	}
	fn(&w[0]);
	for (int t = 1; t < nthreads; t++)
		pthread_join(th[t], NULL);
	free(th);
	free(w);
}

/* Projections Q = (X W_Q^T + b_Q) / sqrt(d_k), K = X W_K^T + b_K, in fixed
 * chunks of rows. */
#define PROJ_ROWS 256
static void *project_worker(void *arg)
{
	job_t *j = ((worker_t *)arg)->j;
	const attn_spec_t *s = j->s;
	const attn_layer_t *ly = &j->lay[j->pl];
	int64_t n = s->n, d = s->d, nchunk = (n + PROJ_ROWS - 1) / PROJ_ROWS;
	float scale = (float)(1.0 / sqrt((double)(d / s->heads)));
	for (;;) {
		int64_t c = atomic_fetch_add(&j->next, 1);
		if (c >= 2 * nchunk)
			break;
		int isq = c < nchunk;
		int64_t r0 = (c % nchunk) * PROJ_ROWS, m = n - r0 < PROJ_ROWS ? n - r0 : PROJ_ROWS;
		float *out = (isq ? j->q[j->pl] : j->k[j->pl]) + r0 * d;
		const float *b = isq ? ly->bq : ly->bk;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)d, (int)d, 1.0f,
			    ly->x + r0 * d, (int)d, isq ? ly->wq : ly->wk, (int)d, 0.0f, out, (int)d);
		for (int64_t i = 0; i < m; i++)
			for (int64_t t = 0; t < d; t++) {
				float v = out[i * d + t] + (b ? b[t] : 0.0f);
				out[i * d + t] = isq ? v * scale : v;
			}
	}
	return NULL;
}

/* n x d (row-major) to heads x n x d_k; frees the input. */
static float *head_major(float *x, int64_t n, int64_t d, int64_t heads)
{
	int64_t dk = d / heads;
	float *y = big_alloc(xmul(xmul((size_t)n, (size_t)d), sizeof *y));
	for (int64_t i = 0; i < n; i++)
		for (int64_t h = 0; h < heads; h++)
			memcpy(y + ((size_t)h * n + i) * dk, x + i * d + h * dk, (size_t)dk * sizeof *y);
	free(x);
	return y;
}

/* ---- one block of rows ---- */

/* A thread's buffers for one block: for every head (m x n each) the
 * exponentials exp(s - chunk max), taken from each chunk's product while it
 * is still in cache, and per (head, row, chunk) the weight that makes them
 * softmax values: exp(chunk max - row max) / (row sum * heads). With --raw,
 * the scores themselves. */
typedef struct blockbuf {
	float *e;               /* [nbuf][blk][ld], 64-byte aligned */
	float *scratch;         /* [blk][chunk]: one product, in L2 */
	float *tile;            /* [qk_rows][ldt]: our own product's tile, in L1 */
	float *qt;              /* [qk_rows][d_k]: the last rows of a block, zero padded */
	float *cmax;            /* [nbuf][blk][nchunks] */
	double *csum;           /* [nbuf][blk][nchunks] */
	float *w;               /* [nbuf][blk][nchunks] */
	float *vals;            /* [chunk]: one row chunk of the ranked values */
	float *acc;             /* [ndist][blk][ld]: layers combined (several layers), or NULL */
	int use_acc;            /* the ranked values are acc's (set after the last layer) */
	uint32_t *keys;         /* [blk][n]: a block's keys, for the rank histogram */
	const float **eptr;     /* [nbuf]: scratch for block_values */
	float *wv;              /* [nbuf] */
	tk_buf_t *tb;           /* [ndist] */
	kh_local_t *kh;         /* [ndist], or NULL */
	uint64_t *sub;          /* [sub_off[ndist]], or NULL */
	uint32_t kmin, kmax;
} blockbuf_t;

/* Floats of one head's packed keys (pack_keys): panels of 16 keys, one spare. */
static size_t packed_head(int64_t n, int64_t dk)
{
	return xmul(xmul((size_t)(n + 15) / 16 + 1, 16), (size_t)dk);
}

/* heads x n x d_k (head-major keys) to panels of 16 keys per head, each
 * panel d_k x 16 (component-major), zero beyond n: the layout kern.qk_tile
 * reads with one vector load per component. Frees the input. */
static float *pack_keys(float *k, int64_t n, int64_t d, int64_t heads)
{
	int64_t dk = d / heads;
	size_t ph = packed_head(n, dk);
	float *p = big_alloc(xmul(xmul(ph, (size_t)heads), sizeof *p));
	memset(p, 0, ph * (size_t)heads * sizeof *p);
	for (int64_t h = 0; h < heads; h++)
		for (int64_t i = 0; i < n; i++) {
			const float *src = k + ((size_t)h * n + i) * dk;
			float *dst = p + (size_t)h * ph + (size_t)(i / 16) * 16 * dk + i % 16;
			for (int64_t t = 0; t < dk; t++)
				dst[16 * t] = src[t];
		}
	free(k);
	return p;
}

/* Softmax scores of the block's m rows (qh: head h's rows, stride d_k)
 * against keys [c0, c0 + cw), by our own tile: kern.qk_rows rows at a time,
 * their scores in L1 from the multiply-adds through the row minimum and
 * maximum to the exponentials (which go to the block buffer). */
static void tile_scores(job_t *j, blockbuf_t *bb, const float *qh, const float *kp, int h, int64_t m,
			int64_t c0, int64_t cw)
{
	const attn_spec_t *s = j->s;
	int64_t dk = s->d / s->heads, ld = j->ld, R = kern.qk_rows;
	float *e = bb->e + (size_t)h * j->blk * ld;
	for (int64_t i = 0; i < m; i += R) {
		int64_t rows = m - i < R ? m - i : R;
		const float *q = qh + i * dk;
		if (rows < R) {
			/* The block's last rows: padded with zero rows. */
			memset(bb->qt, 0, (size_t)(R * dk) * sizeof *bb->qt);
			memcpy(bb->qt, q, (size_t)(rows * dk) * sizeof *bb->qt);
			q = bb->qt;
		}
		float lo[12], hi[12];   /* kern.qk_rows <= 12 */
		kern.qk_tile(q, dk, kp, c0, cw, bb->tile, j->ldt, lo, hi);
		for (int64_t r = 0; r < rows; r++) {
			const float *row = bb->tile + r * j->ldt;
			float mx = hi[r];
			if (!isfinite(mx)) {
				atomic_store(&j->bad, 1);
				mx = 0;
			}
			size_t at = ((size_t)h * j->blk + (size_t)(i + r)) * (size_t)j->nchunks + (size_t)(c0 / j->chunk);
			bb->cmax[at] = mx;
			bb->csum[at] = kern.exp_sum(row, e + (i + r) * ld + c0, cw, mx, lo[r]);
		}
	}
}

/* Scores of block rows [r0, r0 + m) against every key, one sgemm per head
 * and column chunk; with softmax, each chunk's rows are exponentiated
 * against their chunk maximum right after the product, while in cache. */
static void block_scores(job_t *j, blockbuf_t *bb, int l, int64_t r0, int64_t m)
{
	const attn_spec_t *s = j->s;
	const attn_layer_t *ly = &j->lay[l];
	const float *q = j->q ? j->q[l] : NULL, *k = j->k ? j->k[l] : NULL;
	int64_t n = s->n, d = s->d, dk = d / s->heads, nc = j->nchunks, blk = j->blk, ld = j->ld;
	if (ly->given) {
		for (int h = 0; h < j->nbuf; h++) {
			float *e = bb->e + (size_t)h * blk * ld;
			if (j->grow)
				for (int64_t i = 0; i < m; i++)
					ly->given(ly->given_ctx, s->per_head ? h : -1, j->grow[r0 + i], 1, e + i * ld, ld);
			else
				ly->given(ly->given_ctx, s->per_head ? h : -1, r0, m, e, ld);
		}
		return;
	}
	for (int h = 0; h < j->nbuf; h++) {
		float *e = bb->e + (size_t)h * blk * ld;
		for (int64_t c = 0; c < nc; c++) {
			int64_t c0 = c * j->chunk, cw = n - c0 < j->chunk ? n - c0 : j->chunk;
			if (s->raw && !s->per_head) {
				/* The head average of raw scores is one product over all of d. */
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)cw, (int)d,
					    (float)(1.0 / (double)s->heads), q + r0 * d, (int)d,
					    k + c0 * d, (int)d, 0.0f, e + c0, (int)ld);
				continue;
			}
			/* Head h's rows are contiguous (head-major layout): sgemm packs
			 * them faster than d_k-float pieces of d-float rows. */
			const float *qh = q + (size_t)h * n * dk + r0 * dk, *kh = k + (size_t)h * n * dk + c0 * dk;
			if (s->raw) {
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)cw, (int)dk,
					    1.0f, qh, (int)dk, kh, (int)dk, 0.0f, e + c0, (int)ld);
				continue;
			}
			if (j->own) {
				tile_scores(j, bb,
					    j->grow ? j->qg[l] + ((size_t)h * j->ngrow + r0) * dk
						    : q + (size_t)h * n * dk + r0 * dk,
					    k + (size_t)h * packed_head(n, dk), h, m, c0, cw);
				continue;
			}
			/* Softmax: the product goes to a chunk-sized scratch that stays
			 * in L2; the exponentials go from there to the block buffer. */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)cw, (int)dk,
				    1.0f, qh, (int)dk, kh, (int)dk, 0.0f, bb->scratch, (int)j->chunk);
			for (int64_t i = 0; i < m; i++) {
				const float *row = bb->scratch + i * j->chunk;
				float lo, mx;
				kern.row_minmax(row, cw, &lo, &mx);
				if (!isfinite(mx)) {
					atomic_store(&j->bad, 1);
					mx = 0;
				}
				size_t at = ((size_t)h * blk + (size_t)i) * (size_t)nc + (size_t)c;
				bb->cmax[at] = mx;
				bb->csum[at] = kern.exp_sum(row, e + i * ld + c0, cw, mx, lo);
			}
		}
	}
	STREAM_FENCE();
}

/* Softmax weights from the chunk maxima and sums: per row, the maximum over
 * chunks M and the sum Z = sum_c z_c exp(m_c - M), in float64. */
static void block_weights(job_t *j, blockbuf_t *bb, int64_t m)
{
	const attn_spec_t *s = j->s;
	int64_t nc = j->nchunks;
	double div = s->per_head ? 1.0 : (double)s->heads;
	for (int h = 0; h < j->nbuf; h++)
		for (int64_t i = 0; i < m; i++) {
			size_t at = ((size_t)h * j->blk + (size_t)i) * (size_t)nc;
			float mx = bb->cmax[at];
			for (int64_t c = 1; c < nc; c++)
				mx = bb->cmax[at + c] > mx ? bb->cmax[at + c] : mx;
			double z = 0;
			for (int64_t c = 0; c < nc; c++) {
				double f = exp((double)bb->cmax[at + c] - mx);
				z += bb->csum[at + c] * f;
				bb->csum[at + c] = f;   /* the sum is spent: keep the factor */
			}
			for (int64_t c = 0; c < nc; c++)
				bb->w[at + c] = (float)(bb->csum[at + c] / (z * div));
		}
}

/* The ranked values of row i (block-relative), columns [c0, c0 + cw), of
 * distribution `dist` (a head with --per-head, else the average): a pointer
 * to them, computed into bb->vals unless they are the raw buffer itself. */
static const float *block_values(job_t *j, blockbuf_t *bb, int dist, int64_t i, int64_t c)
{
	const attn_spec_t *s = j->s;
	int64_t n = s->n, c0 = c * j->chunk, cw = n - c0 < j->chunk ? n - c0 : j->chunk;
	size_t plane = (size_t)j->blk * (size_t)j->ld;
	const float **e = bb->eptr;
	float *w = bb->wv;
	int h0 = s->per_head ? dist : 0, nh = s->per_head ? 1 : j->nbuf;
	if (bb->use_acc)
		return bb->acc + ((size_t)dist * (size_t)j->blk + (size_t)i) * (size_t)j->ld + (size_t)c0;
	for (int h = 0; h < nh; h++) {
		e[h] = bb->e + (size_t)(h0 + h) * plane + (size_t)i * (size_t)j->ld + (size_t)c0;
		w[h] = j->direct ? 1.0f : bb->w[((size_t)(h0 + h) * j->blk + (size_t)i) * (size_t)j->nchunks + (size_t)c];
	}
	if (j->direct)
		return e[0];
	kern.combine(bb->vals, e, w, nh, cw);
	return bb->vals;
}

/* The same value for one entry, by the same operations in the same order. */
static float entry_value(job_t *j, blockbuf_t *bb, int dist, int64_t i, int64_t col)
{
	const attn_spec_t *s = j->s;
	int64_t c = col / j->chunk;
	size_t plane = (size_t)j->blk * (size_t)j->ld;
	int h0 = s->per_head ? dist : 0, nh = s->per_head ? 1 : j->nbuf;
	if (bb->use_acc)
		return bb->acc[((size_t)dist * (size_t)j->blk + (size_t)i) * (size_t)j->ld + (size_t)col];
	float a = 0;
	for (int h = 0; h < nh; h++) {
		float e = bb->e[(size_t)(h0 + h) * plane + (size_t)i * (size_t)j->ld + (size_t)col];
		if (j->direct) {
			a = e;
			break;
		}
		float w = bb->w[((size_t)(h0 + h) * j->blk + (size_t)i) * (size_t)j->nchunks + (size_t)c];
		a = h == 0 ? e * w : a + e * w;
	}
	return a + 0.0f;
}

/* Fold layer l's values of the block's rows (all n columns) into bb->acc.
 * The same float operations in the same order for every pair, whichever
 * worker computes it: the consensus is thread-count independent and a
 * float32 replay of the layers' values reproduces it bit for bit. */
static void block_fold(job_t *j, blockbuf_t *bb, int l, int64_t m)
{
	const attn_spec_t *s = j->s;
	int64_t n = s->n;
	for (int dist = 0; dist < j->ndist; dist++)
		for (int64_t i = 0; i < m; i++)
			for (int64_t c = 0; c < j->nchunks; c++) {
				int64_t c0 = c * j->chunk, cw = n - c0 < j->chunk ? n - c0 : j->chunk;
				const float *v = block_values(j, bb, dist, i, c);
				float *a = bb->acc + ((size_t)dist * (size_t)j->blk + (size_t)i) * (size_t)j->ld + (size_t)c0;
				if (l == 0) {
					memcpy(a, v, (size_t)cw * sizeof *a);
					continue;
				}
				switch (s->combine) {
				case ATTN_COMBINE_SUM:
				case ATTN_COMBINE_MEAN:
					for (int64_t t = 0; t < cw; t++)
						a[t] = a[t] + v[t];
					break;
				case ATTN_COMBINE_MAX:
					for (int64_t t = 0; t < cw; t++)
						a[t] = v[t] > a[t] ? v[t] : a[t];
					break;
				default:   /* ABSMAX: strict, so the first layer wins ties of |value| */
					for (int64_t t = 0; t < cw; t++)
						a[t] = fabsf(v[t]) > fabsf(a[t]) ? v[t] : a[t];
					break;
				}
				if (s->combine == ATTN_COMBINE_MEAN && l == j->nl - 1)
					for (int64_t t = 0; t < cw; t++)
						a[t] = a[t] / (float)j->nl;
			}
}

/* Select and count the block's entries of every distribution, row by row and
 * chunk by chunk (increasing row, then column: the selector's tie rule), over
 * the subset's column runs, without the diagonal unless it is kept. */
static void block_scan(job_t *j, blockbuf_t *bb, int64_t r0, int64_t m)
{
	const attn_spec_t *s = j->s;
	int64_t n = s->n;
	for (int dist = 0; dist < j->ndist; dist++) {
		kh_local_t *kh = bb->kh ? &bb->kh[dist] : NULL;
		if (kh && kh_needs_flush(kh, (uint64_t)(m * n))) {
			pthread_mutex_lock(&j->mu);
			kh_flush(&j->hist[dist], kh);
			pthread_mutex_unlock(&j->mu);
		}
		scan_t sc = { &bb->tb[dist], kh, bb->keys, 0, s->absval, bb->kmin, bb->kmax };
		for (int64_t i = 0; i < m; i++) {
			int64_t gi = r0 + i, u = 0;
			if ((s->subset && !s->subset[gi]) || (s->row_mask && !s->row_mask[gi]))
				continue;
			for (int64_t c = 0; c < j->nchunks; c++) {
				int64_t c0 = c * j->chunk, c1 = n - c0 < j->chunk ? n : c0 + j->chunk;
				while (u < j->nruns && j->runs[2 * u + 1] <= c0)
					u++;
				if (u == j->nruns || j->runs[2 * u] >= c1)
					continue;
				const float *v = block_values(j, bb, dist, i, c);
				for (int64_t t = u; t < j->nruns && j->runs[2 * t] < c1; t++) {
					int64_t a = j->runs[2 * t] > c0 ? j->runs[2 * t] : c0;
					int64_t b = j->runs[2 * t + 1] < c1 ? j->runs[2 * t + 1] : c1;
					if (!s->keep_self && gi >= a && gi < b) {
						kern.scan_range(&sc, v + (a - c0), (int32_t)gi, a, gi - a);
						kern.scan_range(&sc, v + (gi + 1 - c0), (int32_t)gi, gi + 1, b - gi - 1);
					} else {
						kern.scan_range(&sc, v + (a - c0), (int32_t)gi, a, b - a);
					}
				}
			}
		}
		/* The histogram takes the block's keys in one go, apart from the
		 * products: its staging and theirs would evict each other from L2. */
		if (kh) {
			kh_add_keys(kh, sc.keys, sc.nkeys);
			kh->count += (uint64_t)(m * n);
		}
		if (j->rf) {
			/* Keys in the looked-up pairs' bins, one counter per key. */
			uint64_t *sub = bb->sub + j->sub_off[dist];
			const refine_t *rf = &j->rf[dist];
			for (size_t u = 0; u < sc.nkeys; u++) {
				int64_t b = rf_find(rf, sc.keys[u] >> KH_SHIFT);
				if (b >= 0)
					sub[(size_t)b << KH_SHIFT | (sc.keys[u] & ((1u << KH_SHIFT) - 1))]++;
			}
		}
		bb->kmin = sc.kmin;
		bb->kmax = sc.kmax;
		/* Pairs whose row is in this block. */
		for (int64_t a = j->at_start ? j->at_start[r0 / j->blk] : 0;
		     j->at_start && a < j->at_start[r0 / j->blk + 1]; a++) {
			int64_t p = j->at_order[a];
			j->at_value[p * j->ndist + dist] = entry_value(j, bb, dist, s->at_from[p] - r0, s->at_to[p]);
		}
	}
}

/* exact_at's first pass over gathered rows: gathered block b's values, and
 * from them the values of its rows' looked-up pairs. */
static void block_lookup(job_t *j, blockbuf_t *bb, int64_t b)
{
	const attn_spec_t *s = j->s;
	int64_t r0 = b * j->blk, m = j->ngrow - r0 < j->blk ? j->ngrow - r0 : j->blk;
	for (int l = 0; l < j->nl; l++) {
		block_scores(j, bb, l, r0, m);
		if (!j->direct)
			block_weights(j, bb, m);
		if (j->nl > 1)
			block_fold(j, bb, l, m);
	}
	bb->use_acc = j->nl > 1;
	for (int dist = 0; dist < j->ndist; dist++)
		for (int64_t a = j->g_start[b]; a < j->g_start[b + 1]; a++) {
			int64_t p = j->g_order[a];
			j->at_value[p * j->ndist + dist] = entry_value(j, bb, dist, j->g_idx[p] - r0, s->at_to[p]);
		}
	bb->use_acc = 0;
}

/* Every value of the block's rows, for the observer (--check). */
static void block_observe(job_t *j, blockbuf_t *bb, int64_t r0, int64_t m)
{
	const attn_spec_t *s = j->s;
	for (int dist = 0; dist < j->ndist; dist++)
		for (int64_t i = 0; i < m; i++)
			for (int64_t c = 0; c < j->nchunks; c++) {
				int64_t c0 = c * j->chunk, cw = s->n - c0 < j->chunk ? s->n - c0 : j->chunk;
				s->observe(s->observe_ctx, dist, r0 + i, c0, block_values(j, bb, dist, i, c), cw);
			}
}

static void *block_worker(void *arg)
{
	worker_t *w = arg;
	job_t *j = w->j;
	const attn_spec_t *s = j->s;
	int64_t n = s->n;
	int nd = j->ndist;
	size_t nstat = xmul(xmul((size_t)j->nbuf, (size_t)j->blk), (size_t)j->nchunks);
	blockbuf_t bb = {
		.e = big_alloc(xmul(xmul(xmul((size_t)j->nbuf, (size_t)j->blk), (size_t)j->ld), sizeof(float))),
		.scratch = j->own ? NULL : xmallocarray(xmul((size_t)j->blk, (size_t)j->chunk), sizeof(float)),
		.tile = j->own ? xaligned(64, xmul(xmul((size_t)kern.qk_rows, (size_t)j->ldt), sizeof(float))) : NULL,
		.qt = j->own ? xcalloc(xmul((size_t)kern.qk_rows, (size_t)(s->d / s->heads)), sizeof(float)) : NULL,
		.cmax = xmallocarray(nstat, sizeof(float)),
		.csum = xmallocarray(nstat, sizeof(double)),
		.w = xmallocarray(nstat, sizeof(float)),
		.vals = xmallocarray((size_t)j->chunk, sizeof(float)),
		.acc = j->nl > 1 ? big_alloc(xmul(xmul(xmul((size_t)nd, (size_t)j->blk), (size_t)j->ld), sizeof(float)))
				 : NULL,
		.keys = s->nat && !j->values_only ? big_alloc(xmul(xmul((size_t)j->blk, (size_t)n), sizeof(uint32_t))) : NULL,
		.eptr = xmallocarray((size_t)j->nbuf, sizeof(float *)),
		.wv = xmallocarray((size_t)j->nbuf, sizeof(float)),
		.tb = xcalloc((size_t)nd, sizeof(tk_buf_t)),
		.kh = s->nat && !j->values_only ? xcalloc((size_t)nd, sizeof(kh_local_t)) : NULL,
		.sub = j->rf ? xcalloc(j->sub_off[nd] ? j->sub_off[nd] : 1, sizeof(uint64_t)) : NULL,
		.kmin = UINT32_MAX,
		.kmax = 0,
	};
	for (int t = 0; t < nd; t++)
		tk_init(&bb.tb[t], (size_t)j->kk);
	for (;;) {
		int64_t b = atomic_fetch_add(&j->next, 1);
		if (b >= (j->grow ? j->ngblocks : j->nblocks))
			break;
		if (j->grow) {
			block_lookup(j, &bb, b);
			continue;
		}
		int64_t r0 = b * j->blk, m = n - r0 < j->blk ? n - r0 : j->blk;
		if (j->values_only && j->at_start[b] == j->at_start[b + 1])
			continue;   /* no looked-up pair in these rows */
		for (int l = 0; l < j->nl; l++) {
			block_scores(j, &bb, l, r0, m);
			if (!j->direct)
				block_weights(j, &bb, m);
			if (j->nl > 1)
				block_fold(j, &bb, l, m);
		}
		bb.use_acc = j->nl > 1;
		block_scan(j, &bb, r0, m);
		bb.use_acc = 0;
		if (s->observe)
			block_observe(j, &bb, r0, m);
		int64_t done = atomic_fetch_add(&j->done, 1) + 1;
		if (w->id == 0)
			progress("attention rows %lld of %lld", (long long)(done * j->blk < n ? done * j->blk : n),
				 (long long)n);
	}
	if (bb.kmin <= TK_KEY_NEGINF || bb.kmax >= TK_KEY_POSINF)
		atomic_store(&j->bad, 1);
	/* Count what is still staged before taking the lock. */
	for (int t = 0; bb.kh && t < nd; t++)
		kh_settle(&bb.kh[t]);
	pthread_mutex_lock(&j->mu);
	for (int t = 0; bb.kh && t < nd; t++) {
		kh_flush(&j->hist[t], &bb.kh[t]);
		kh_local_free(&bb.kh[t]);
	}
	pthread_mutex_unlock(&j->mu);
	j->thread_top[w->id] = bb.tb;
	if (j->thread_sub)
		j->thread_sub[w->id] = bb.sub;
	free(bb.kh);
	free(bb.e);
	free(bb.scratch);
	free(bb.tile);
	free(bb.qt);
	free(bb.cmax);
	free(bb.csum);
	free(bb.w);
	free(bb.vals);
	free(bb.acc);
	free(bb.keys);
	free(bb.eptr);
	free(bb.wv);
	return NULL;
}

/* Rows per block and columns per sgemm call: functions of n only, never of
 * the thread count, so every block's arithmetic is the same for any
 * --threads. */
static int64_t env_size(const char *name, int64_t dflt)
{
	const char *e = getenv(name);
	return e && atoi(e) > 0 ? atoi(e) : dflt;
}

static int64_t pick_block(int64_t n)
{
	/* Tall blocks amortise sgemm's packing of K (n x d_k, once per block
	 * and head): at 256 rows it costs a few percent. Small n: smaller
	 * blocks, so that threads get work. */
	int64_t b = 256;
	while (b > 8 && b * 16 > n)
		b /= 2;
	return env_size("AK_ATTN_BLOCK", b);
}

static int64_t pick_chunk(int64_t n)
{
	/* A block's chunk of scores (256 x 512 floats, 512 KB) stays in L2
	 * from the product through the exponentials: no pass over memory.
	 * A multiple of 16 keys, so that every chunk starts on a 64-byte
	 * boundary (streaming stores need their vector's alignment). */
	int64_t c = env_size("AK_ATTN_CHUNK", 512);
	c = c < 16 ? 16 : c - c % 16;
	return c < n ? c : n;
}

/* exact_at's first pass on the rows that hold pairs only (job_t.grow): a
 * reference network's pairs start at its few hundred regulators, so this
 * pass costs a few percent of a full one instead of all of it. Only where
 * a row's values are a function of that row alone, whatever rows share its
 * block: our own score tile computes every score by the same chain of
 * multiply-adds, softmax and head weights are per row, given attention is
 * read entry by entry (OpenBLAS promises no such thing). */
static void gather_rows(job_t *j)
{
	const attn_spec_t *s = j->s;
	int64_t n = s->n, ng = 0;
	int64_t *pos = xmallocarray((size_t)n, sizeof *pos);
	for (int64_t i = 0; i < n; i++)
		pos[i] = -1;
	for (int64_t p = 0; p < s->nat; p++)
		pos[s->at_from[p]] = 0;
	int64_t *grow = xmallocarray((size_t)n, sizeof *grow);
	for (int64_t i = 0; i < n; i++)
		if (pos[i] == 0) {
			pos[i] = ng;
			grow[ng++] = i;
		}
	j->grow = grow;
	j->ngrow = ng;
	j->ngblocks = (ng + j->blk - 1) / j->blk;
	/* Pairs by gathered block (stable counting sort). */
	j->g_idx = xmallocarray((size_t)s->nat, sizeof *j->g_idx);
	j->g_start = xcalloc((size_t)j->ngblocks + 1, sizeof *j->g_start);
	j->g_order = xmallocarray((size_t)s->nat, sizeof *j->g_order);
	for (int64_t p = 0; p < s->nat; p++) {
		j->g_idx[p] = pos[s->at_from[p]];
		j->g_start[j->g_idx[p] / j->blk + 1]++;
	}
	for (int64_t b = 0; b < j->ngblocks; b++)
		j->g_start[b + 1] += j->g_start[b];
	int64_t *fill = xmallocarray((size_t)j->ngblocks + 1, sizeof *fill);
	memcpy(fill, j->g_start, (size_t)(j->ngblocks + 1) * sizeof *fill);
	for (int64_t p = 0; p < s->nat; p++)
		j->g_order[fill[j->g_idx[p] / j->blk]++] = p;
	free(fill);
	free(pos);
	if (j->lay[0].given)
		return;
	/* Their queries, head-major like q. */
	int64_t dk = s->d / s->heads;
	j->qg = xcalloc((size_t)j->nl, sizeof *j->qg);
	for (int l = 0; l < j->nl; l++) {
		j->qg[l] = xmallocarray(xmul(xmul((size_t)s->heads, (size_t)(ng ? ng : 1)), (size_t)dk), sizeof(float));
		for (int64_t h = 0; h < s->heads; h++)
			for (int64_t g = 0; g < ng; g++)
				memcpy(j->qg[l] + ((size_t)h * ng + g) * dk, j->q[l] + ((size_t)h * n + grow[g]) * dk,
				       (size_t)dk * sizeof(float));
	}
}

static void gather_free(job_t *j)
{
	for (int l = 0; j->qg && l < j->nl; l++)
		free(j->qg[l]);
	free(j->qg);
	free((void *)j->grow);
	free(j->g_idx);
	free(j->g_start);
	free(j->g_order);
	j->qg = NULL;
	j->grow = NULL;
	j->g_idx = j->g_start = j->g_order = NULL;
	j->ngrow = j->ngblocks = 0;
}

/* Q and K for every gene, head-major unless --raw averages the heads. */
static void project(job_t *j, int threads)
{
	const attn_spec_t *s = j->s;
	int64_t n = s->n, d = s->d;
	j->q = xcalloc((size_t)j->nl, sizeof *j->q);
	j->k = xcalloc((size_t)j->nl, sizeof *j->k);
	for (int l = 0; l < j->nl; l++) {
		j->pl = l;
		j->q[l] = big_alloc(xmul(xmul((size_t)n, (size_t)d), sizeof(float)));
		j->k[l] = big_alloc(xmul(xmul((size_t)n, (size_t)d), sizeof(float)));
		atomic_store(&j->next, 0);
		int64_t nchunk = (n + PROJ_ROWS - 1) / PROJ_ROWS;
		run_pool(threads < 2 * nchunk ? threads : (int)(2 * nchunk), project_worker, j);
		for (int64_t i = 0; i < n * d; i++)
			if (!isfinite(j->q[l][i]) || !isfinite(j->k[l][i])) {
				if (j->nl > 1)
					die("layer %d: queries or keys overflow float32 (row %lld): inputs too large",
					    l, (long long)(i / d + 1));
				die("queries or keys overflow float32 (row %lld): inputs too large",
				    (long long)(i / d + 1));
			}
		if (!(s->raw && !s->per_head)) {
			j->q[l] = head_major(j->q[l], n, d, s->heads);
			j->k[l] = head_major(j->k[l], n, d, s->heads);
		}
		if (j->own)
			j->k[l] = pack_keys(j->k[l], n, d, s->heads);
	}
}

void attn_run(const attn_spec_t *s, attn_result_t *r)
{
	int64_t n = s->n;
	memset(r, 0, sizeof *r);
	r->ndist = s->per_head ? s->heads : 1;
	int64_t ns = n;
	if (s->subset) {
		ns = 0;
		for (int64_t i = 0; i < n; i++)
			ns += s->subset[i] != 0;
	}
	int64_t nr = ns;
	if (s->row_mask) {
		nr = 0;
		for (int64_t i = 0; i < n; i++)
			nr += s->row_mask[i] && (!s->subset || s->subset[i]);
	}
	r->ntotal = s->keep_self ? nr * ns : nr * (ns - 1);
	openblas_set_num_threads(1);
	kern_pick();

	job_t j;
	memset(&j, 0, sizeof j);
	j.runs = xmallocarray(2 * (size_t)(n + 1), sizeof *j.runs);
	for (int64_t i = 0; i < n;) {
		if (s->subset && !s->subset[i]) {
			i++;
			continue;
		}
		int64_t a = i;
		while (i < n && (!s->subset || s->subset[i]))
			i++;
		j.runs[2 * j.nruns] = a;
		j.runs[2 * j.nruns + 1] = i;
		j.nruns++;
	}
	j.s = s;
	attn_layer_t one = { s->x, s->wq, s->wk, s->bq, s->bk, s->given, s->given_ctx };
	j.lay = s->nlayers >= 1 && s->layers ? s->layers : &one;
	j.nl = s->nlayers >= 1 && s->layers ? s->nlayers : 1;
	if (j.nl > 1 && (s->per_head || s->observe))
		die("internal: several layers with per_head or observe");
	for (int l = 1; l < j.nl; l++)
		if (!j.lay[l].given != !j.lay[0].given)
			die("internal: given and computed layers mixed");
	j.ndist = r->ndist;
	j.kk = s->k < r->ntotal ? s->k : r->ntotal;
	pthread_mutex_init(&j.mu, NULL);
	int threads = s->threads > 0 ? s->threads : 1;
	j.own = qk_own && !s->raw && !j.lay[0].given;
	if (!j.lay[0].given)
		project(&j, threads);

	j.blk = pick_block(n);
	j.nblocks = (n + j.blk - 1) / j.blk;
	j.chunk = pick_chunk(n);
	j.ldt = (j.chunk + 31) / 32 * 32;
	j.nchunks = (n + j.chunk - 1) / j.chunk;
	j.ld = (n + 15) / 16 * 16;
	j.nbuf = (s->raw || j.lay[0].given) && !s->per_head ? 1 : s->heads;
	j.direct = s->raw || j.lay[0].given;
	if (s->nat) {
		/* Pairs by row (stable: counting sort), so each block finds its own. */
		j.at_start = xcalloc((size_t)j.nblocks + 1, sizeof *j.at_start);
		j.at_order = xmallocarray((size_t)s->nat, sizeof *j.at_order);
		for (int64_t p = 0; p < s->nat; p++)
			j.at_start[s->at_from[p] / j.blk + 1]++;
		for (int64_t b = 0; b < j.nblocks; b++)
			j.at_start[b + 1] += j.at_start[b];
		int64_t *fill = xmallocarray((size_t)j.nblocks, sizeof *fill);
		memcpy(fill, j.at_start, (size_t)j.nblocks * sizeof *fill);
		for (int64_t p = 0; p < s->nat; p++)
			j.at_order[fill[s->at_from[p] / j.blk]++] = p;
		free(fill);
		j.at_value = r->at_value = xmallocarray(xmul((size_t)s->nat, (size_t)r->ndist), sizeof(float));
		j.hist = xcalloc((size_t)r->ndist, sizeof *j.hist);
	}
	if (threads > j.nblocks)
		threads = (int)(j.nblocks > 0 ? j.nblocks : 1);
	j.thread_top = xcalloc((size_t)threads, sizeof *j.thread_top);
	refine_t *rf = NULL;
	size_t *sub_off = NULL;
	uint64_t *sub = NULL;
	if (s->nat && s->exact_at) {
		/* First pass: the pairs' values (the same arithmetic as the second
		 * pass, so the same bits); their bins are then counted key by key. */
		j.values_only = 1;
		if (j.own || j.lay[0].given)
			gather_rows(&j);
		atomic_store(&j.next, 0);
		atomic_store(&j.bad, 0);
		atomic_store(&j.done, 0);
		run_pool(threads, block_worker, &j);
		progress_done();
		for (int w = 0; w < threads; w++) {
			for (int t = 0; j.thread_top[w] && t < r->ndist; t++)
				tk_free(&j.thread_top[w][t]);
			free(j.thread_top[w]);
			j.thread_top[w] = NULL;
		}
		/* Per distribution, the bins of its pairs' values. */
		rf = xcalloc((size_t)r->ndist, sizeof *rf);
		sub_off = xcalloc((size_t)r->ndist + 1, sizeof *sub_off);
		uint32_t *bins = xmallocarray((size_t)s->nat, sizeof *bins);
		for (int t = 0; t < r->ndist; t++) {
			for (int64_t p = 0; p < s->nat; p++)
				bins[p] = tk_key(rank_value(r->at_value[p * r->ndist + t], s->absval)) >> KH_SHIFT;
			rf_build(&rf[t], bins, (size_t)s->nat);
			sub_off[t + 1] = sub_off[t] + xmul(rf[t].nbins, (size_t)1 << KH_SHIFT);
		}
		free(bins);
		j.values_only = 0;
		gather_free(&j);
		j.rf = rf;
		j.sub_off = sub_off;
		j.thread_sub = xcalloc((size_t)threads, sizeof *j.thread_sub);
	}
	atomic_store(&j.next, 0);
	atomic_store(&j.bad, 0);
	atomic_store(&j.done, 0);
	run_pool(threads, block_worker, &j);
	progress_done();
	if (atomic_load(&j.bad))
		die("attention scores overflow float32: inputs too large");
	if (j.rf) {
		/* Integer sums: the same for any thread count. */
		size_t ns_ = sub_off[r->ndist];
		sub = xcalloc(ns_ ? ns_ : 1, sizeof *sub);
		for (int w = 0; w < threads; w++) {
			for (size_t u = 0; j.thread_sub[w] && u < ns_; u++)
				sub[u] += j.thread_sub[w][u];
			free(j.thread_sub[w]);
		}
		free(j.thread_sub);
	}

	/* Merge the threads' selections (a total order: the merge order is free). */
	r->top = xcalloc((size_t)r->ndist, sizeof *r->top);
	r->rank = xcalloc((size_t)r->ndist, sizeof *r->rank);
	for (int t = 0; t < r->ndist; t++) {
		tk_init(&r->top[t], (size_t)j.kk);
		for (int w = 0; w < threads; w++)
			tk_merge(&r->top[t], &j.thread_top[w][t]);
		tk_finish(&r->top[t]);
		r->rank[t] = xmallocarray(r->top[t].n ? r->top[t].n : 1, sizeof(int64_t));
		tk_ranks(&r->top[t], r->rank[t]);
	}
	for (int w = 0; w < threads; w++)
		free(j.thread_top[w]);
	free(j.thread_top);

	if (s->nat) {
		r->at_rank = xmallocarray(xmul((size_t)s->nat, (size_t)r->ndist), sizeof *r->at_rank);
		if (j.rf)
			r->at_ties = xmallocarray(xmul((size_t)s->nat, (size_t)r->ndist), sizeof *r->at_ties);
		uint32_t *keys = xmallocarray((size_t)s->nat, sizeof *keys);
		uint64_t *above = xmallocarray((size_t)s->nat, sizeof *above);
		for (int t = 0; t < r->ndist; t++) {
			kh_t *g = &j.hist[t];
			const tk_buf_t *tb = &r->top[t];
			/* Diagonal entries were counted only with --keep-self. */
			kh_finish(g);
			uint32_t kth = tb->n ? tb->v[tb->n - 1].key : 0;
			int all = (int64_t)tb->n == r->ntotal;
			/* Histogram counts for all pairs at once: random lookups,
			 * fetched ahead. */
			for (int64_t p = 0; p < s->nat; p++)
				keys[p] = tk_key(rank_value(r->at_value[p * r->ndist + t], s->absval));
			kh_count_above_n(g, keys, (size_t)s->nat, above);
			for (int64_t p = 0; p < s->nat; p++) {
				uint32_t key = keys[p];
				int64_t greater;
				if (j.rf) {
					/* Exact: entries in higher bins, then key by key in its own. */
					const uint64_t *c = sub + sub_off[t] +
							    (size_t)rf_find(&rf[t], key >> KH_SHIFT) * (1u << KH_SHIFT);
					uint32_t low = key & ((1u << KH_SHIFT) - 1);
					greater = (int64_t)above[p];
					for (uint32_t u = low + 1; u < (1u << KH_SHIFT); u++)
						greater += (int64_t)c[u];
					r->at_ties[p * r->ndist + t] = (int64_t)c[low];
				} else if (all || (tb->n && key >= kth)) {
					/* Everything greater is in the selection: exact. */
					greater = (int64_t)tk_count_greater(tb, key);
				} else {
					/* Exact above the value's bin; inside it (float32
					 * near-ties, within 16 ulps) the selected entries
					 * greater than the value are counted exactly. */
					greater = (int64_t)above[p];
					uint32_t lo = key | ((1u << KH_SHIFT) - 1);
					greater += (int64_t)(tk_count_greater(tb, key) - tk_count_greater(tb, lo));
				}
				r->at_rank[p * r->ndist + t] = greater + 1;
			}
			kh_free(g);
		}
		free(keys);
		free(above);
		free(sub);
		for (int t = 0; rf && t < r->ndist; t++)
			rf_free(&rf[t]);
		free(rf);
		free(sub_off);
		free(j.hist);
		free(j.at_order);
		free(j.at_start);
	}
	free(j.runs);
	for (int l = 0; j.q && l < j.nl; l++) {
		free(j.q[l]);
		free(j.k[l]);
	}
	free(j.q);
	free(j.k);
	pthread_mutex_destroy(&j.mu);
}

void attn_result_free(attn_result_t *r)
{
	for (int t = 0; t < r->ndist; t++) {
		if (r->top)
			tk_free(&r->top[t]);
		if (r->rank)
			free(r->rank[t]);
	}
	free(r->top);
	free(r->rank);
	free(r->at_value);
	free(r->at_rank);
	free(r->at_ties);
	memset(r, 0, sizeof *r);
}

void layer_norm_rows(float *x, int64_t n, int64_t d, const float *w, const float *b, double eps)
{
	for (int64_t i = 0; i < n; i++) {
		float *row = x + i * d;
		double mu = 0, var = 0;
		for (int64_t t = 0; t < d; t++)
			mu += row[t];
		mu /= (double)d;
		for (int64_t t = 0; t < d; t++)
			var += (row[t] - mu) * (row[t] - mu);
		var /= (double)d;
		double inv = 1.0 / sqrt(var + eps);
		for (int64_t t = 0; t < d; t++)
			row[t] = (float)((row[t] - mu) * inv * (w ? w[t] : 1.0) + (b ? b[t] : 0.0));
	}
}
