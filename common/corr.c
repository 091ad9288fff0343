#include "corr.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr_stats.h"
#include "xalloc.h"

corr_rows_t *corr_rows_new(const expr_t *e, const int64_t *genes, int64_t ng, const int32_t *cmap,
			   int64_t m, int spearman)
{
	corr_rows_t *r = xcalloc(1, sizeof *r);
	r->n = ng;
	r->m = m;
	r->z = xmallocarray(xmul((size_t)(ng ? ng : 1), (size_t)(m ? m : 1)), sizeof *r->z);
	r->constant = xcalloc((size_t)(ng ? ng : 1), 1);
	double *vals = xmallocarray((size_t)(m ? m : 1), sizeof *vals);
	double *rk = xmallocarray((size_t)(m ? m : 1), sizeof *rk);
	int32_t *pos = xmallocarray((size_t)(m ? m : 1), sizeof *pos);
	for (int64_t i = 0; i < ng; i++) {
		int64_t g = genes[i], k = 0;
		for (int64_t j = e->ptr[g]; j < e->ptr[g + 1]; j++) {
			int32_t c = cmap ? cmap[e->cell[j]] : e->cell[j];
			if (c >= 0) {
				vals[k] = e->val[j];
				pos[k++] = c;
			}
		}
		double *row = r->z + i * m, fill = 0;
		const double *v = vals;
		if (spearman) {
			xs_rank_avg_sparse(vals, k, m, rk, &fill);
			v = rk;
		}
		for (int64_t j = 0; j < m; j++)
			row[j] = fill;
		for (int64_t j = 0; j < k; j++)
			row[pos[j]] = v[j];
		/* Constant exactly when every value equals the first: test before
		 * centring, which would leave rounding noise instead of zeros. */
		int constant = 1;
		for (int64_t j = 1; j < m && constant; j++)
			constant = row[j] == row[0];
		if (constant) {
			r->constant[i] = 1;
			memset(row, 0, (size_t)m * sizeof *row);
			continue;
		}
		double s = 0;
		for (int64_t j = 0; j < m; j++)
			s += row[j];
		double mean = s / (double)m, ss = 0;
		for (int64_t j = 0; j < m; j++) {
			row[j] -= mean;
			ss += row[j] * row[j];
		}
		double inv = 1 / sqrt(ss);
		for (int64_t j = 0; j < m; j++)
			row[j] *= inv;
	}
	free(vals);
	free(rk);
	free(pos);
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
