/* Linear models on standardised covariates: column means and scales from a
 * subset of rows (the training fold), least squares with an intercept
 * through LAPACK's dgelsd (SVD, minimum-norm solution, so a constant or
 * collinear covariate does not break the fit; numpy's lstsq uses the same
 * routine and cut-off). */
#ifndef AK_LINFIT_H
#define AK_LINFIT_H

#include <stdint.h>

/* Mean and population standard deviation (ddof 0, as scikit-learn's
 * StandardScaler) of each of the p columns of row-major x (rows n x p) over
 * rows[0..m); a zero deviation becomes 1 so the column just centres. */
void colstats(const double *x, int p, const int64_t *rows, int64_t m, double *mean, double *scale);

/* beta[0] + sum_j beta[j+1] (xrow[j] - mean[j]) / scale[j]: the prediction
 * of every linear model fitted on standardised columns (linfit_t's OLS,
 * logit.h's logistic regression: same layout, one evaluation). */
double stdlin_eval(int p, const double *mean, const double *scale, const double *beta,
		   const double *xrow);

typedef struct linfit {
	int p;
	double *mean, *scale; /* p each */
	double *beta;         /* p + 1: intercept, then per standardised column */
	int rank;
} linfit_t;

/* OLS of y on [1, (x - mean) / scale] over rows[0..m)
 * (dies when LAPACK reports failure). */
void linfit_ols(const double *x, const double *y, int p, const int64_t *rows, int64_t m, linfit_t *f);
double linfit_predict(const linfit_t *f, const double *xrow);
void linfit_free(linfit_t *f);

#endif
