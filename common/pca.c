#include "pca.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

/* LAPACK, Fortran calling convention (lapacke is not linked). */
void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a, const int *lda,
	     const double *vl, const double *vu, const int *il, const int *iu, const double *abstol, int *m,
	     double *w, double *z, const int *ldz, int *isuppz, double *work, const int *lwork, int *iwork,
	     const int *liwork, int *info, size_t ljobz, size_t lrange, size_t luplo);

double *pca_scores(double *x, int64_t nv, int64_t no, int k, int scale, double *var)
{
	if (k < 1 || k > nv || k > no)
		die("pca: %d components asked of %lld variables x %lld observations", k, (long long)nv, (long long)no);
	for (int64_t i = 0; i < nv; i++) {
		double *r = x + i * no, s = 0;
		for (int64_t j = 0; j < no; j++)
			s += r[j];
		double mean = s / (double)no, ss = 0;
		for (int64_t j = 0; j < no; j++) {
			r[j] -= mean;
			ss += r[j] * r[j];
		}
		if (scale && ss > 0) {
			double inv = 1 / sqrt(ss / (double)(no - 1));
			for (int64_t j = 0; j < no; j++)
				r[j] *= inv;
		}
	}
	int n = (int)nv;
	double *cov = xmallocarray(xmul((size_t)nv, (size_t)nv), sizeof *cov);
	/* Row-major upper = column-major lower of the same symmetric matrix. */
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, (int)no, 1.0 / (double)(no - 1), x, (int)no, 0.0,
		    cov, n);
	int il = n - k + 1, iu = n, m = 0, info = 0, lwork = -1, liwork = -1, iw;
	double vl = 0, vu = 0, abstol = 0, wq;
	double *w = xmallocarray((size_t)nv, sizeof *w);
	double *z = xmallocarray(xmul((size_t)nv, (size_t)k), sizeof *z);
	int *isuppz = xmallocarray(2 * (size_t)k, sizeof *isuppz);
	dsyevr_("V", "I", "L", &n, cov, &n, &vl, &vu, &il, &iu, &abstol, &m, w, z, &n, isuppz, &wq, &lwork, &iw,
		&liwork, &info, 1, 1, 1);
	lwork = (int)wq;
	liwork = iw;
	double *work = xmallocarray((size_t)lwork, sizeof *work);
	int *iwork = xmallocarray((size_t)liwork, sizeof *iwork);
	dsyevr_("V", "I", "L", &n, cov, &n, &vl, &vu, &il, &iu, &abstol, &m, w, z, &n, isuppz, work, &lwork, iwork,
		&liwork, &info, 1, 1, 1);
	if (info != 0 || m != k)
		die("pca: LAPACK dsyevr failed (info %d, %d of %d eigenvectors)", info, m, k);
	/* Columns of z (column-major, nv each) ascend by eigenvalue: reverse,
	 * fix signs, and store as a row-major nv x k loading matrix. */
	double *load = xmallocarray(xmul((size_t)nv, (size_t)k), sizeof *load);
	for (int c = 0; c < k; c++) {
		const double *v = z + (size_t)(k - 1 - c) * (size_t)nv;
		int64_t arg = 0;
		for (int64_t i = 1; i < nv; i++)
			if (fabs(v[i]) > fabs(v[arg]))
				arg = i;
		double sg = v[arg] < 0 ? -1 : 1;
		for (int64_t i = 0; i < nv; i++)
			load[i * k + c] = sg * v[i];
		if (var)
			var[c] = w[k - 1 - c];
	}
	double *sc = xmallocarray(xmul((size_t)no, (size_t)k), sizeof *sc);
	/* scores (no x k) = x^T (no x nv) * load (nv x k) */
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)no, k, n, 1.0, x, (int)no, load, k, 0.0, sc, k);
	free(cov);
	free(w);
	free(z);
	free(isuppz);
	free(work);
	free(iwork);
	free(load);
	return sc;
}
