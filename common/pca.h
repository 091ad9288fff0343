/* Principal components of a dense matrix held as variables x observations
 * (rows = variables, e.g. genes; columns = observations, e.g. cells): the
 * covariance of the centred (optionally unit-variance) variables by one
 * dsyrk, its top eigenvectors by LAPACK dsyevr, and the observations'
 * scores. Eigenvector signs are fixed (largest |loading| positive) so the
 * scores do not depend on the LAPACK build's choice. */
#ifndef AK_PCA_H
#define AK_PCA_H

#include <stdint.h>

/* x: nv x no, row-major, overwritten (centred, scaled). Returns the no x k
 * scores (row-major, malloc'd); var[k] (may be NULL) gets the variance of
 * each component (eigenvalue of the covariance, denominator no - 1). */
double *pca_scores(double *x, int64_t nv, int64_t no, int k, int scale, double *var);

#endif
