#include "corr.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rank.h"
#include "num.h"
#include "par.h"
#include "xalloc.h"

typedef struct {
	const expr_t *e;
	const int64_t *genes;
	const int32_t *cmap;
	int64_t m, lo, hi;
	int spearman;
	corr_rows_t *r;
} rows_job_t;

/* Rows lo..hi-1: each depends on its gene alone, so threads split the genes
 * and the result does not depend on their number. */
static void *rows_work(void *arg)
{
	rows_job_t *j = arg;
	const expr_t *e = j->e;
	int64_t m = j->m;
	corr_rows_t *r = j->r;
	double *vals = xmallocarray((size_t)(m ? m : 1), sizeof *vals);
	double *rk = xmallocarray((size_t)(m ? m : 1), sizeof *rk);
	int32_t *pos = xmallocarray((size_t)(m ? m : 1), sizeof *pos);
	for (int64_t i = j->lo; i < j->hi; i++) {
		int64_t g = j->genes[i], k = 0;
		for (int64_t q = e->ptr[g]; q < e->ptr[g + 1]; q++) {
			int32_t c = j->cmap ? j->cmap[e->cell[q]] : e->cell[q];
			if (c >= 0) {
				vals[k] = e->val[q];
				pos[k++] = c;
			}
		}
		double *row = r->z + i * m, fill = 0;
		const double *v = vals;
		if (j->spearman) {
			rank_mid_sparse(vals, k, m, rk, &fill);
			v = rk;
		}
		for (int64_t q = 0; q < m; q++)
			row[q] = fill;
		for (int64_t q = 0; q < k; q++)
			row[pos[q]] = v[q];
		/* Constant exactly when every value equals the first: test before
		 * centring, which would leave rounding noise instead of zeros. */
		int constant = 1;
		for (int64_t q = 1; q < m && constant; q++)
			constant = row[q] == row[0];
		if (constant) {
			r->constant[i] = 1;
			memset(row, 0, (size_t)m * sizeof *row);
			continue;
		}
		double s = 0;
		for (int64_t q = 0; q < m; q++)
			s += row[q];
		double mean = s / (double)m, ss = 0;
		for (int64_t q = 0; q < m; q++) {
			row[q] -= mean;
			ss += row[q] * row[q];
		}
		double inv = 1 / sqrt(ss);
		for (int64_t q = 0; q < m; q++)
			row[q] *= inv;
	}
	free(vals);
	free(rk);
	free(pos);
	return NULL;
}

corr_rows_t *corr_rows_new(const expr_t *e, const int64_t *genes, int64_t ng, const int32_t *cmap,
			   int64_t m, int spearman)
{
	corr_rows_t *r = xcalloc(1, sizeof *r);
	r->n = ng;
	r->m = m;
	r->z = xmallocarray(xmul((size_t)(ng ? ng : 1), (size_t)(m ? m : 1)), sizeof *r->z);
	r->constant = xcalloc((size_t)(ng ? ng : 1), 1);
	int nt = par_threads();
	if (nt > ng)
		nt = ng > 0 ? (int)ng : 1;
	rows_job_t *jobs = xcalloc((size_t)nt, sizeof *jobs);
	for (int t = 0; t < nt; t++)
		jobs[t] = (rows_job_t){ e, genes, cmap, m, ng * t / nt, ng * (t + 1) / nt, spearman, r };
	parallel_for(nt, rows_work, jobs, sizeof *jobs);
	free(jobs);
	return r;
}

void corr_rows_free(corr_rows_t *r)
{
	if (!r)
		return;
	free(r->z);
	free(r->constant);
	free(r);
}

void corr_block(const corr_rows_t *r, int64_t r0, int64_t nr, const corr_rows_t *c, int same, double *C)
{
	int64_t n = c->n, m = r->m;
	if (nr == 0 || n == 0)
		return;
	if (same && r0 == 0 && nr == n) {
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)m, 1.0, r->z, (int)m, 0.0,
			    C, (int)n);
		for (int64_t i = 1; i < n; i++)
			for (int64_t j = 0; j < i; j++)
				C[i * n + j] = C[j * n + i];
	} else {
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)n, (int)m, 1.0,
			    r->z + r0 * m, (int)m, c->z, (int)m, 0.0, C, (int)n);
	}
	for (int64_t i = 0; i < nr; i++) {
		double *row = C + i * n;
		if (r->constant[r0 + i]) {
			for (int64_t j = 0; j < n; j++)
				row[j] = NAN;
			continue;
		}
		for (int64_t j = 0; j < n; j++) {
			if (c->constant[j]) row[j] = NAN;
			else if (row[j] > 1) row[j] = 1;
			else if (row[j] < -1) row[j] = -1;
		}
	}
}
