#include "attn.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keyhist.h"
#include "xalloc.h"

/* OpenBLAS's own call (cblas.h of some builds declares it, others not). */
void openblas_set_num_threads(int);

/* Hot loops use GCC/Clang vector extensions over 16 float lanes, so they
 * vectorise at any optimisation level, and every instruction-set clone
 * below does the same IEEE operations in the same order (no FMA
 * contraction under -std=c11; max and sums reduced over fixed lanes):
 * the results are bit-identical whatever the CPU path. */
#define LANES 16
typedef float vf __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));
typedef uint32_t vu __attribute__((vector_size(64)));
typedef double vd __attribute__((vector_size(128)));
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOT
#endif

/* Vector helpers are macros: GCC warns (-Wpsabi) about any function that
 * passes 64-byte vectors when AVX-512 is not the baseline. */
#define VLOAD(v, p) memcpy(&(v), (p), sizeof(v))
#define VSTORE(p, v) memcpy((p), &(v), sizeof(v))
#define VSEL(mask, a, b) ((vf)(((vi)(a) & (mask)) | ((vi)(b) & ~(mask))))
#define VUMAX(a, b) (((a) & (vu)((a) > (b))) | ((b) & ~(vu)((a) > (b))))
#define VUMIN(a, b) (((a) & (vu)((a) < (b))) | ((b) & ~(vu)((a) < (b))))

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
		vf x_ = (xin), t, r, p, lo = (vf){ 0 } - 104.0f;                 \
		x_ = VSEL(x_ < lo, lo, x_);                                      \
		EXP_STEPS(x_, t, r, p)                                           \
		vi n_ = __builtin_convertvector(t, vi), n1 = n_ >> 1, n2 = n_ - n1; \
		vf s1 = (vf)((n1 + 127) << 23), s2 = (vf)((n2 + 127) << 23);     \
		(out) = (p * s1) * s2;                                           \
	} while (0)

HOT static float row_max(const float *s, int64_t n)
{
	vf m = (vf){ 0 } - INFINITY;
	int64_t j = 0;
	if (n >= LANES)
		for (VLOAD(m, s); j + LANES <= n; j += LANES) {
			vf v;
			VLOAD(v, s + j);
			m = VSEL(v > m, v, m);
		}
	float r = -INFINITY;
	for (; j < n; j++)
		r = s[j] > r ? s[j] : r;
	for (int l = 0; l < LANES; l++)
		r = m[l] > r ? m[l] : r;
	return r;
}

/* s <- exp(s - m); returns the sum. Each lane adds up to 64 values in
 * float (values <= 1, so at most ~4e-6 relative error, typically far less),
 * then those partial sums go into float64: cheaper than converting every
 * value, and the order is fixed, so the result is the same on every path. */
#define EXP_RUN 64
HOT static double exp_sum(float *s, int64_t n, float m)
{
	double z[LANES] = { 0 };
	int64_t j = 0;
	while (j + LANES <= n) {
		vf part = { 0 };
		for (int c = 0; c < EXP_RUN && j + LANES <= n; c++, j += LANES) {
			vf e, v;
			VLOAD(v, s + j);
			VEXP_NONPOS(e, v - m);
			VSTORE(s + j, e);
			part += e;
		}
		for (int l = 0; l < LANES; l++)
			z[l] += part[l];
	}
	double t = 0;
	for (; j < n; j++) {
		s[j] = exp_nonpos(s[j] - m);
		t += s[j];
	}
	for (int l = 0; l < LANES; l++)
		t += z[l];
	return t;
}

HOT static void scale_into(float *restrict acc, const float *restrict e, int64_t n, float w, int first)
{
	int64_t j = 0;
	for (; j + LANES <= n; j += LANES) {
		vf v, a;
		VLOAD(v, e + j);
		v = v * w;
		if (!first) {
			VLOAD(a, acc + j);
			v = a + v;
		}
		VSTORE(acc + j, v);
	}
	for (; j < n; j++)
		acc[j] = first ? e[j] * w : acc[j] + e[j] * w;
}

HOT static void scale_inplace(float *s, int64_t n, float w)
{
	int64_t j = 0;
	for (; j + LANES <= n; j += LANES)
	{
		vf v;
		VLOAD(v, s + j);
		v = v * w;
		VSTORE(s + j, v);
	}
	for (; j < n; j++)
		s[j] *= w;
}

/* ---- the scan: selection, rank histogram, finiteness ---- */

typedef struct scan {
	tk_buf_t *tb;
	kh_local_t *kh;     /* NULL when no pairs are looked up */
	int absval;
	uint32_t kmin, kmax;
} scan_t;

static inline float rank_value(float v, int absval)
{
	return absval ? fabsf(v) : v + 0.0f;
}

/* Order keys of 16 values (tk_key, vectorised). */
#define VKEY(k, v, absval) do {                                                  \
		vu u_ = (absval) ? ((vu)(v) & 0x7fffffffu) : (vu)((v) + 0.0f);   \
		(k) = u_ ^ ((vu)((vi)u_ >> 31) | 0x80000000u);                   \
	} while (0)

HOT static void scan_range(scan_t *c, const float *v, int64_t j0, int64_t j1, int32_t row)
{
	uint32_t kmin = c->kmin, kmax = c->kmax;
	int64_t j = j0;
	if (j + LANES <= j1) {
		vf x;
		vu k, mx, mn;
		VLOAD(x, v + j);
		VKEY(mx, x, c->absval);
		mn = mx;
		for (; j + LANES <= j1; j += LANES) {
			VLOAD(x, v + j);
			VKEY(k, x, c->absval);
			mx = VUMAX(k, mx);
			mn = VUMIN(k, mn);
			if (c->kh)
				for (int l = 0; l < LANES; l++)
					kh_add(c->kh, k[l]);
			vu ge = (vu)(k >= c->tb->thr);
			uint64_t any = 0;
			for (int l = 0; l < LANES; l++)
				any |= ge[l];
			if (any)
				for (int l = 0; l < LANES; l++)
					tk_push(c->tb, k[l], row, (int32_t)(j + l), v[j + l] + 0.0f);
		}
		for (int l = 0; l < LANES; l++) {
			kmin = mn[l] < kmin ? mn[l] : kmin;
			kmax = mx[l] > kmax ? mx[l] : kmax;
		}
	}
	for (; j < j1; j++) {
		uint32_t k = tk_key(rank_value(v[j], c->absval));
		kmin = k < kmin ? k : kmin;
		kmax = k > kmax ? k : kmax;
		if (c->kh)
			kh_add(c->kh, k);
		tk_push(c->tb, k, row, (int32_t)j, v[j] + 0.0f);
	}
	c->kmin = kmin;
	c->kmax = kmax;
}

/* ---- shared state and the thread pool ---- */

typedef struct job {
	const attn_spec_t *s;
	float *q, *k;           /* n x d: projections, q prescaled by 1/sqrt(d_k) */
	int64_t blk, nblocks;
	int ndist;
	int64_t kk;             /* min(k, N) */
	atomic_llong next;
	pthread_mutex_t mu;
	kh_t *hist;             /* [ndist] */
	int64_t *at_order;      /* pair indices sorted by from */
	int64_t *at_start;      /* [nblocks + 1] into at_order */
	float *at_value;
	tk_buf_t **thread_top;  /* [threads][ndist] */
	int64_t *runs;          /* [2 nruns]: column runs [a, b) of the subset */
	int64_t nruns;
	atomic_int bad;
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
	int64_t n = s->n, d = s->d, nchunk = (n + PROJ_ROWS - 1) / PROJ_ROWS;
	float scale = (float)(1.0 / sqrt((double)(d / s->heads)));
	for (;;) {
		int64_t c = atomic_fetch_add(&j->next, 1);
		if (c >= 2 * nchunk)
			break;
		int isq = c < nchunk;
		int64_t r0 = (c % nchunk) * PROJ_ROWS, m = n - r0 < PROJ_ROWS ? n - r0 : PROJ_ROWS;
		float *out = (isq ? j->q : j->k) + r0 * d;
		const float *b = isq ? s->bq : s->bk;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)d, (int)d, 1.0f,
			    s->x + r0 * d, (int)d, isq ? s->wq : s->wk, (int)d, 0.0f, out, (int)d);
		for (int64_t i = 0; i < m; i++)
			for (int64_t t = 0; t < d; t++) {
				float v = out[i * d + t] + (b ? b[t] : 0.0f);
				out[i * d + t] = isq ? v * scale : v;
			}
	}
	return NULL;
}

static void scan_block(job_t *j, int dist, const float *buf, int64_t r0, int64_t m, tk_buf_t *tb,
		       kh_local_t *kh, uint32_t *kmin, uint32_t *kmax)
{
	const attn_spec_t *s = j->s;
	int64_t n = s->n;
	if (kh && kh_needs_flush(kh, (uint64_t)(m * n))) {
		pthread_mutex_lock(&j->mu);
		kh_flush(&j->hist[dist], kh);
		pthread_mutex_unlock(&j->mu);
	}
	scan_t c = { tb, kh, s->absval, *kmin, *kmax };
	for (int64_t i = 0; i < m; i++) {
		const float *row = buf + i * n;
		int32_t gi = (int32_t)(r0 + i);
		if (s->subset && !s->subset[gi])
			continue;
		/* Runs of columns in the subset ([0, n) without one): the diagonal
		 * splits the run that holds it unless it is kept. */
		for (int64_t u = 0; u < j->nruns; u++) {
			int64_t a = j->runs[2 * u], b = j->runs[2 * u + 1];
			if (!s->keep_self && gi >= a && gi < b) {
				scan_range(&c, row, a, gi, gi);
				scan_range(&c, row, gi + 1, b, gi);
			} else {
				scan_range(&c, row, a, b, gi);
			}
		}
	}
	if (kh)
		kh->count += (uint64_t)(m * n);
	*kmin = c.kmin;
	*kmax = c.kmax;
	/* Pairs whose row is in this block. */
	for (int64_t a = j->at_start ? j->at_start[r0 / j->blk] : 0;
	     j->at_start && a < j->at_start[r0 / j->blk + 1]; a++) {
		int64_t p = j->at_order[a];
		j->at_value[p * j->ndist + dist] = buf[(s->at_from[p] - r0) * n + s->at_to[p]] + 0.0f;
	}
}

static void *block_worker(void *arg)
{
	worker_t *w = arg;
	job_t *j = w->j;
	const attn_spec_t *s = j->s;
	int64_t n = s->n, d = s->d, dk = d / s->heads, H = s->heads;
	int nd = j->ndist;
	float *S = xmallocarray(xmul((size_t)j->blk, (size_t)n), sizeof *S);
	float *acc = s->per_head ? NULL : xmallocarray(xmul((size_t)j->blk, (size_t)n), sizeof *acc);
	tk_buf_t *tb = xcalloc((size_t)nd, sizeof *tb);
	kh_local_t *kh = s->nat ? xcalloc((size_t)nd, sizeof *kh) : NULL;
	for (int t = 0; t < nd; t++)
		tk_init(&tb[t], (size_t)j->kk);
	uint32_t kmin = UINT32_MAX, kmax = 0;
	for (;;) {
		int64_t b = atomic_fetch_add(&j->next, 1);
		if (b >= j->nblocks)
			break;
		int64_t r0 = b * j->blk, m = n - r0 < j->blk ? n - r0 : j->blk;
		if (s->raw && !s->per_head) {
			/* The head average of raw scores is one product over all of d. */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)d,
				    (float)(1.0 / (double)H), j->q + r0 * d, (int)d, j->k, (int)d, 0.0f,
				    acc, (int)n);
		} else {
			for (int64_t h = 0; h < H; h++) {
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)dk,
					    1.0f, j->q + r0 * d + h * dk, (int)d, j->k + h * dk, (int)d, 0.0f,
					    S, (int)n);
				if (!s->raw) {
					for (int64_t i = 0; i < m; i++) {
						float *row = S + i * n;
						float mx = row_max(row, n);
						if (!isfinite(mx)) {
							atomic_store(&j->bad, 1);
							mx = 0;
						}
						double z = exp_sum(row, n, mx);
						if (s->per_head)
							scale_inplace(row, n, (float)(1.0 / z));
						else
							scale_into(acc + i * n, row, n, (float)(1.0 / (z * (double)H)), h == 0);
					}
				}
				if (s->per_head)
					scan_block(j, (int)h, S, r0, m, &tb[h], kh ? &kh[h] : NULL, &kmin, &kmax);
			}
		}
		if (!s->per_head)
			scan_block(j, 0, acc, r0, m, &tb[0], kh ? &kh[0] : NULL, &kmin, &kmax);
	}
	if (kmin <= TK_KEY_NEGINF || kmax >= TK_KEY_POSINF)
		atomic_store(&j->bad, 1);
	pthread_mutex_lock(&j->mu);
	for (int t = 0; kh && t < nd; t++) {
		kh_flush(&j->hist[t], &kh[t]);
		kh_local_free(&kh[t]);
	}
	pthread_mutex_unlock(&j->mu);
	j->thread_top[w->id] = tb;
	free(kh);
	free(S);
	free(acc);
	return NULL;
}

static int64_t pick_block(int64_t n)
{
	const char *e = getenv("AK_ATTN_BLOCK");
	if (e && atoi(e) > 0)
		return atoi(e);
	/* Tall blocks amortise sgemm's packing of K (n x d_k, once per call):
	 * at 256 rows it costs a few percent; the block's scores then live in L3
	 * but each row is reused from L2. Small n: smaller blocks, so that
	 * threads get work. The size depends on n only, never on the thread
	 * count, so every block's arithmetic is the same for any --threads. */
	int64_t b = 256;
	while (b > 8 && b * 16 > n)
		b /= 2;
	return b;
}

void attn_run(const attn_spec_t *s, attn_result_t *r)
{
	int64_t n = s->n, d = s->d;
	memset(r, 0, sizeof *r);
	r->ndist = s->per_head ? s->heads : 1;
	int64_t ns = n;
	if (s->subset) {
		ns = 0;
		for (int64_t i = 0; i < n; i++)
			ns += s->subset[i] != 0;
	}
	r->ntotal = s->keep_self ? ns * ns : ns * (ns - 1);
	openblas_set_num_threads(1);

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
	j.ndist = r->ndist;
	j.kk = s->k < r->ntotal ? s->k : r->ntotal;
	pthread_mutex_init(&j.mu, NULL);
	j.q = xmallocarray(xmul((size_t)n, (size_t)d), sizeof(float));
	j.k = xmallocarray(xmul((size_t)n, (size_t)d), sizeof(float));
	int threads = s->threads > 0 ? s->threads : 1;

	atomic_store(&j.next, 0);
	int64_t nchunk = (n + PROJ_ROWS - 1) / PROJ_ROWS;
	run_pool(threads < 2 * nchunk ? threads : (int)(2 * nchunk), project_worker, &j);
	for (int64_t i = 0; i < n * d; i++)
		if (!isfinite(j.q[i]) || !isfinite(j.k[i]))
			die("queries or keys overflow float32 (row %lld): inputs too large",
			    (long long)(i / d + 1));

	j.blk = pick_block(n);
	j.nblocks = (n + j.blk - 1) / j.blk;
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
	atomic_store(&j.next, 0);
	atomic_store(&j.bad, 0);
	run_pool(threads, block_worker, &j);
	if (atomic_load(&j.bad))
		die("attention scores overflow float32: inputs too large");

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
		for (int t = 0; t < r->ndist; t++) {
			kh_t *g = &j.hist[t];
			const tk_buf_t *tb = &r->top[t];
			/* Diagonal entries were counted only with --keep-self. */
			kh_finish(g);
			uint32_t kth = tb->n ? tb->v[tb->n - 1].key : 0;
			int all = (int64_t)tb->n == r->ntotal;
			for (int64_t p = 0; p < s->nat; p++) {
				float v = r->at_value[p * r->ndist + t];
				uint32_t key = tk_key(rank_value(v, s->absval));
				int64_t greater;
				if (all || (tb->n && key >= kth)) {
					/* Everything greater is in the selection: exact. */
					greater = (int64_t)tk_count_greater(tb, key);
				} else {
					/* Exact above the value's bin; inside it (float32
					 * near-ties, within 16 ulps) the selected entries
					 * greater than the value are counted exactly. */
					greater = (int64_t)kh_count_above(g, key);
					uint32_t lo = key | ((1u << KH_SHIFT) - 1);
					greater += (int64_t)(tk_count_greater(tb, key) - tk_count_greater(tb, lo));
				}
				r->at_rank[p * r->ndist + t] = greater + 1;
			}
			kh_free(g);
		}
		free(j.hist);
		free(j.at_order);
		free(j.at_start);
	}
	free(j.runs);
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
