/* Microbenchmark of the rank histogram (common/keyhist.c) behind
 * attn-topk --at; run through bench/keyhist.sh, which builds it against the
 * current keyhist and against an older one (-DKH_OLD: one kh_add per key).
 *
 *   keyhist MODE THREADS KEYS_PER_THREAD [POOL.f32 ROWLEN]
 *
 * MODE "gen" only makes the keys (the cost to subtract), "hist" also counts
 * them. Keys come as attn-topk streams them: rows of ROWLEN (20,000)
 * softmax-like values, each a row of the pool (raw float32, e.g. 256 rows of
 * the attn-topk benchmark's head-averaged attention) scaled by a random
 * factor in [2^-0.5, 2^0.5) so rows do not repeat bins; without a pool, 64
 * synthetic rows (8 heads of exp(normal scores), sd uniform in [SDLO, SDHI]
 * from the environment, default 1..4, normalised per row, averaged). Keys go
 * in by chunks of 512 columns, the flush test runs once per 256 rows (a
 * block), each thread flushes into the shared table at the end under a
 * mutex; then kh_finish and 160,000 queries. Prints "name value" lines. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "err.h"
#include "keyhist.h"
#include "topk.h"
#include "xalloc.h"

#define CHUNK 512
#define BLOCK_ROWS 256
#define NQUERY 160000

static float *pool;
static int64_t prow, rowlen, per_thread;
static int hist_mode;
static kh_t g;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double flush_s[64];

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static double unif(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1p-53;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void synth_pool(uint64_t seed)
{
	const char *lo = getenv("SDLO"), *hi = getenv("SDHI");
	double sdlo = lo ? atof(lo) : 1.0, sdhi = hi ? atof(hi) : 4.0;
	prow = 64;
	pool = xmallocarray((size_t)(prow * rowlen), sizeof *pool);
	double *acc = xmallocarray((size_t)rowlen, sizeof *acc), *e = xmallocarray((size_t)rowlen, sizeof *e);
	uint64_t s = seed;
	for (int64_t i = 0; i < prow; i++) {
		memset(acc, 0, (size_t)rowlen * sizeof *acc);
		for (int h = 0; h < 8; h++) {
			double sd = sdlo + (sdhi - sdlo) * unif(&s), mx = -INFINITY, z = 0;
			for (int64_t j = 0; j < rowlen; j++) {
				double u1 = unif(&s), u2 = unif(&s);
				e[j] = sd * sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
				mx = e[j] > mx ? e[j] : mx;
			}
			for (int64_t j = 0; j < rowlen; j++)
				z += e[j] = exp(e[j] - mx);
			for (int64_t j = 0; j < rowlen; j++)
				acc[j] += e[j] / z / 8;
		}
		for (int64_t j = 0; j < rowlen; j++)
			pool[i * rowlen + j] = (float)acc[j];
	}
	free(acc);
	free(e);
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint64_t s = 0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1);
	uint32_t *key = xmallocarray((size_t)rowlen, sizeof *key);
	kh_local_t *l = xcalloc(1, sizeof *l);
	uint64_t sink = 0;
	/* POLLUTE_KB: write this much of a private buffer every 256 x 512 keys,
	 * as attn-topk's products and exponentials of the next chunk of
	 * scores go through the caches between scans. Subtracted with gen. */
	const char *pe = getenv("POLLUTE_KB");
	size_t pbytes = pe ? (size_t)atol(pe) * 1024 : 0, since = 0;
	char *pbuf = pbytes ? xmalloc(pbytes) : NULL;
	for (int64_t done = 0, rows = 0; done < per_thread; rows++) {
		const float *v = pool + (int64_t)(rng_next(&s) % (uint64_t)prow) * rowlen;
		float f = (float)exp2(unif(&s) - 0.5);
		int64_t m = per_thread - done < rowlen ? per_thread - done : rowlen;
		for (int64_t j = 0; j < m; j++)
			key[j] = tk_key(v[j] * f + 0.0f);
		if (hist_mode) {
			if (rows % BLOCK_ROWS == 0 && kh_needs_flush(l, (uint64_t)(BLOCK_ROWS * rowlen))) {
				pthread_mutex_lock(&mu);
				kh_flush(&g, l);
				pthread_mutex_unlock(&mu);
			}
			for (int64_t c = 0; c < m; c += CHUNK) {
				int64_t len = m - c < CHUNK ? m - c : CHUNK;
#ifdef KH_OLD
				for (int64_t j = 0; j < len; j++)
					kh_add(l, key[c + j]);
#else
				kh_add_keys(l, key + c, (size_t)len);
#endif
				l->count += (uint64_t)len;
			}
		} else {
			for (int64_t j = 0; j < m; j++)
				sink += key[j];
		}
		done += m;
		if (pbytes && (since += (size_t)m) >= 256 * 512) {
			since = 0;
			memset(pbuf, (int)(rows & 0xff), pbytes);
			sink += (uint64_t)pbuf[rows % pbytes];
		}
	}
	double t0 = now();
#ifndef KH_OLD
	if (hist_mode)
		kh_settle(l);
#endif
	pthread_mutex_lock(&mu);
	if (hist_mode) {
		kh_flush(&g, l);
		kh_local_free(l);
	}
	pthread_mutex_unlock(&mu);
	flush_s[id] = now() - t0;
	free(l);
	free(key);
	free(pbuf);
	return (void *)(uintptr_t)(sink & 1);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	if (argc != 4 && argc != 6)
		die("usage: keyhist gen|hist THREADS KEYS_PER_THREAD [POOL.f32 ROWLEN]");
	hist_mode = strcmp(argv[1], "hist") == 0;
	int nt = atoi(argv[2]);
	per_thread = atoll(argv[3]);
	if (nt < 1 || nt > 64 || per_thread < 1)
		die("bad THREADS or KEYS_PER_THREAD");
	if (argc == 6) {
		rowlen = atoll(argv[5]);
		FILE *f = fopen(argv[4], "rb");
		if (!f)
			die_errno("%s", argv[4]);
		fseek(f, 0, SEEK_END);
		long bytes = ftell(f);
		fseek(f, 0, SEEK_SET);
		prow = bytes / (long)sizeof(float) / rowlen;
		if (prow < 1)
			die("%s: shorter than one row", argv[4]);
		pool = xmallocarray((size_t)(prow * rowlen), sizeof *pool);
		if (fread(pool, sizeof *pool, (size_t)(prow * rowlen), f) != (size_t)(prow * rowlen))
			die("%s: short read", argv[4]);
		fclose(f);
	} else {
		rowlen = 20000;
		synth_pool(12345);
	}
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	long rss0 = ru0.ru_maxrss;
	double t0 = now();
	pthread_t th[64];
	for (int t = 1; t < nt; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0)
			die("cannot start a thread");
	worker((void *)(intptr_t)0);
	for (int t = 1; t < nt; t++)
		pthread_join(th[t], NULL);
	double t1 = now();
	uint64_t check = 0;
	double t_fin = 0, t_query = 0;
	if (hist_mode) {
		kh_finish(&g);
		t_fin = now() - t1;
		/* Queries at values of the stream, as --at looks up pairs. */
		uint32_t *qk = xmallocarray(NQUERY, sizeof *qk);
		uint64_t s = 7;
		for (int q = 0; q < NQUERY; q++) {
			float v = pool[rng_next(&s) % (uint64_t)(prow * rowlen)];
			qk[q] = tk_key(v * (float)exp2(unif(&s) - 0.5) + 0.0f);
		}
		double tq = now();
#ifdef KH_OLD
		for (int q = 0; q < NQUERY; q++)
			check += kh_count_above(&g, qk[q]);
#else
		uint64_t *above = xmallocarray(NQUERY, sizeof *above);
		kh_count_above_n(&g, qk, NQUERY, above);
		for (int q = 0; q < NQUERY; q++)
			check += above[q];
		free(above);
#endif
		t_query = now() - tq;
		for (int q = 0; q < NQUERY; q++)
			check += 3 * kh_count_bin(&g, qk[q]);
		free(qk);
		kh_free(&g);
	}
	double t2 = now();
	getrusage(RUSAGE_SELF, &ru1);
	double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		     1e-6 * (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
	double sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		     1e-6 * (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
	double keys = (double)per_thread * nt, fl = 0;
	for (int t = 0; t < nt; t++)
		fl = flush_s[t] > fl ? flush_s[t] : fl;
	printf("keys %.0f\n", keys);
	printf("pool_rows %lld\n", (long long)prow);
	printf("wall_s %.3f\n", t2 - t0);
	printf("stream_wall_s %.3f\n", t1 - t0);
	printf("final_flush_s %.3f\n", fl);
	printf("finish_query_s %.3f\n", t2 - t1);
	printf("finish_s %.3f\n", t_fin);
	printf("query_s %.3f\n", t_query);
	printf("cpu_s %.3f\n", cpu);
	printf("sys_s %.3f\n", sys);
	printf("cpu_ns_per_key %.3f\n", cpu / keys * 1e9);
	printf("rss_before_mb %.1f\n", (double)rss0 / 1024);
	printf("rss_peak_mb %.1f\n", (double)ru1.ru_maxrss / 1024);
	printf("check %llu\n", (unsigned long long)check);
	return 0;
}
