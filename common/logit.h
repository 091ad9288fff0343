/* L2-penalised logistic regression on standardised features, the model of
 * scikit-learn's LogisticRegression(penalty='l2', C): minimises
 *   0.5 |w|^2 + C sum_i s_i log(1 + exp(-y_i (b + w . z_i)))
 * (intercept b not penalised; z = (x - mean) / sd over the training rows,
 * sd with ddof 0; s_i = 1, or n / (2 n_class) with class balancing).
 * Solved by Newton's method with a backtracking line search, to a stated
 * tolerance: stop when the Newton step's largest component is below
 * 1e-10 (1 + largest coefficient). */
#ifndef AK_LOGIT_H
#define AK_LOGIT_H

#include <stdint.h>

typedef struct logit {
	int p;
	double *mean, *scale; /* p each */
	double *beta;         /* p + 1: intercept, then one per feature */
	int iters;
	int converged;
} logit_t;

/* x row-major (any number of rows) with p columns; fit on rows[0..m). */
void logit_fit(const double *x, const unsigned char *y, int p, const int64_t *rows, int64_t m,
	       double C, int balanced, logit_t *f);
/* Decision value b + w . z for one row of raw features. */
double logit_decision(const logit_t *f, const double *xrow);
void logit_free(logit_t *f);

#endif
