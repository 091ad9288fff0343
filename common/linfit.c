#include "linfit.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "err.h"
#include "xalloc.h"

/* LAPACK (Fortran symbols from OpenBLAS). */
void dgelsd_(const int *m, const int *n, const int *nrhs, double *a, const int *lda, double *b,
	     const int *ldb, double *s, const double *rcond, int *rank, double *work,
	     const int *lwork, int *iwork, int *info);

void colstats(const double *x, int p, const int64_t *rows, int64_t m, double *mean, double *scale)
{
	for (int j = 0; j < p; j++) {
		double s = 0;
		for (int64_t i = 0; i < m; i++)
			s += x[rows[i] * p + j];
		double mu = m ? s / (double)m : 0;
		double ss = 0;
		for (int64_t i = 0; i < m; i++) {
			double d = x[rows[i] * p + j] - mu;
			ss += d * d;
		}
		double sd = m ? sqrt(ss / (double)m) : 0;
		mean[j] = mu;
		scale[j] = sd > 0 ? sd : 1.0;
	}
}

void linfit_ols(const double *x, const double *y, int p, const int64_t *rows, int64_t m, linfit_t *f)
{
	f->p = p;
	f->mean = xmallocarray((size_t)p + 1, sizeof *f->mean);
	f->scale = xmallocarray((size_t)p + 1, sizeof *f->scale);
	f->beta = xcalloc((size_t)p + 1, sizeof *f->beta);
	colstats(x, p, rows, m, f->mean, f->scale);
	if (m > INT32_MAX)
		die("least squares: %lld rows exceed LAPACK's 32-bit index", (long long)m);
	int M = (int)m, N = p + 1, nrhs = 1, lda = M > 1 ? M : 1, ldb = M > N ? M : N, rank = 0, info = 0;
	double *A = xmallocarray(xmul((size_t)lda, (size_t)N), sizeof *A);
	double *B = xcalloc((size_t)ldb, sizeof *B);
	for (int64_t i = 0; i < m; i++) {
		A[i] = 1.0;
		const double *xr = x + rows[i] * p;
		for (int j = 0; j < p; j++)
			A[(size_t)(j + 1) * (size_t)lda + (size_t)i] = (xr[j] - f->mean[j]) / f->scale[j];
		B[i] = y[rows[i]];
	}
	double *S = xmallocarray((size_t)N, sizeof *S);
	/* numpy's default cut-off for small singular values */
	double rcond = DBL_EPSILON * (double)(M > N ? M : N);
	double wq;
	int iwq, lwork = -1;
	dgelsd_(&M, &N, &nrhs, A, &lda, B, &ldb, S, &rcond, &rank, &wq, &lwork, &iwq, &info);
	if (info != 0)
		die("least squares: LAPACK dgelsd workspace query failed (info %d)", info);
	lwork = (int)wq + 1;
	double *work = xmallocarray((size_t)lwork, sizeof *work);
	int *iwork = xmallocarray((size_t)(iwq > 1 ? iwq : 1) + 64, sizeof *iwork);
	dgelsd_(&M, &N, &nrhs, A, &lda, B, &ldb, S, &rcond, &rank, work, &lwork, iwork, &info);
	if (info != 0)
		die("least squares: LAPACK dgelsd failed (info %d)", info);
	for (int j = 0; j < N; j++)
		f->beta[j] = B[j];
	f->rank = rank;
	free(A);
	free(B);
	free(S);
	free(work);
	free(iwork);
}

double stdlin_eval(int p, const double *mean, const double *scale, const double *beta,
		   const double *xrow)
{
	double s = beta[0];
	for (int j = 0; j < p; j++)
		s += beta[j + 1] * ((xrow[j] - mean[j]) / scale[j]);
	return s;
}

double linfit_predict(const linfit_t *f, const double *xrow)
{
	return stdlin_eval(f->p, f->mean, f->scale, f->beta, xrow);
}

void linfit_free(linfit_t *f)
{
	free(f->mean);
	free(f->scale);
	free(f->beta);
}
