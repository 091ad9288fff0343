/* sgemm_floor: the hardware floor for attn-topk. Measures the sgemm rate on
 * the per-head shapes of the attention pass, S = Q_blk K^T with Q_blk
 * (block x dk), K (n x dk, row-major, used transposed), the way attn-topk
 * calls it: T threads of our own, each running single-threaded OpenBLAS on
 * its own row blocks. Also measures OpenBLAS's own threading on one large
 * call for comparison. Prints "rate_gflops <best>" (wall) and
 * "rate_gflops_per_cpu_second" (own threads, per CPU-second) plus details.
 *   sgemm_floor N DK BLOCK THREADS [SECONDS]
 * Built by bench/attn_topk.sh, not by the Makefile. */
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

extern void openblas_set_num_threads(int);

static int n, dk, blk, nthr;
static float *K;
static double secs;

static double clk(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now(void)
{
	return clk(CLOCK_MONOTONIC);
}

static void *worker(void *arg)
{
	long *calls = arg;
	float *A = malloc(sizeof(float) * blk * dk), *C = malloc(sizeof(float) * blk * (size_t)n);
	for (int i = 0; i < blk * dk; i++)
		A[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
	double t0 = now();
	long c = 0;
	do {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blk, n, dk, 1.0f, A, dk, K, dk,
			    0.0f, C, n);
		c++;
	} while (now() - t0 < secs);
	*calls = c;
	free(A);
	free(C);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: sgemm_floor N DK BLOCK THREADS [SECONDS]\n");
		return 2;
	}
	n = atoi(argv[1]); dk = atoi(argv[2]); blk = atoi(argv[3]); nthr = atoi(argv[4]);
	secs = argc > 5 ? atof(argv[5]) : 2.0;
	K = malloc(sizeof(float) * (size_t)n * dk);
	for (size_t i = 0; i < (size_t)n * dk; i++)
		K[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
	/* Our own threads, OpenBLAS single-threaded inside (what attn-topk does). */
	openblas_set_num_threads(1);
	pthread_t th[64];
	long calls[64];
	double t0 = now(), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
	for (int t = 0; t < nthr; t++)
		pthread_create(&th[t], NULL, worker, &calls[t]);
	long total = 0;
	for (int t = 0; t < nthr; t++) {
		pthread_join(th[t], NULL);
		total += calls[t];
	}
	double el = now() - t0, cpu = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
	double own = 2.0 * blk * (double)n * dk * total / el / 1e9;
	/* Per CPU-second: less sensitive to other load on a shared machine. */
	double own_cpu = 2.0 * blk * (double)n * dk * total / cpu / 1e9;
	/* OpenBLAS threads on one (n x dk)(dk x n)-sized sweep in blocks of 4*block rows. */
	openblas_set_num_threads(nthr);
	int big = 4 * blk;
	float *A = malloc(sizeof(float) * big * dk), *C = malloc(sizeof(float) * big * (size_t)n);
	for (int i = 0; i < big * dk; i++)
		A[i] = 0.001f * (i % 97);
	long c = 0;
	t0 = now();
	do {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, big, n, dk, 1.0f, A, dk, K, dk, 0.0f, C, n);
		c++;
	} while (now() - t0 < secs);
	el = now() - t0;
	double blas = 2.0 * big * (double)n * dk * c / el / 1e9;
	printf("shape\t(%d x %d)(%d x %d)\n", blk, dk, dk, n);
	printf("own_threads_gflops\t%.1f\n", own);
	printf("blas_threads_gflops\t%.1f\n", blas);
	printf("rate_gflops\t%.1f\n", own > blas ? own : blas);
	printf("rate_gflops_per_cpu_second\t%.1f\n", own_cpu);
	return 0;
}
