#include "logit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "linfit.h"
#include "xalloc.h"

/* log(1 + exp(t)) without overflow */
static double log1pexp(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

static double sigmoid(double t)
{
	if (t >= 0)
		return 1 / (1 + exp(-t));
	double e = exp(t);
	return e / (1 + e);
}

/* Solve H d = g for symmetric positive definite H (k x k) by Cholesky;
 * returns 0 on success. H is overwritten. */
static int chol_solve(double *H, const double *g, double *d, int k)
{
	for (int j = 0; j < k; j++) {
		double s = H[j * k + j];
		for (int l = 0; l < j; l++)
			s -= H[j * k + l] * H[j * k + l];
		if (!(s > 0))
			return -1;
		double r = sqrt(s);
		H[j * k + j] = r;
		for (int i = j + 1; i < k; i++) {
			double t = H[i * k + j];
			for (int l = 0; l < j; l++)
				t -= H[i * k + l] * H[j * k + l];
			H[i * k + j] = t / r;
		}
	}
	for (int i = 0; i < k; i++) {
		double t = g[i];
		for (int l = 0; l < i; l++)
			t -= H[i * k + l] * d[l];
		d[i] = t / H[i * k + i];
	}
	for (int i = k - 1; i >= 0; i--) {
		double t = d[i];
		for (int l = i + 1; l < k; l++)
			t -= H[l * k + i] * d[l];
		d[i] = t / H[i * k + i];
	}
	return 0;
}

static double objective(const double *Z, const unsigned char *y, const double *s, int64_t m, int p,
			const double *beta, double C)
{
	double f = 0;
	for (int64_t i = 0; i < m; i++) {
		double eta = beta[0];
		for (int j = 0; j < p; j++)
			eta += beta[j + 1] * Z[i * p + j];
		f += s[i] * (log1pexp(eta) - (y[i] ? eta : 0));
	}
	double pen = 0;
	for (int j = 1; j <= p; j++)
		pen += beta[j] * beta[j];
	return C * f + 0.5 * pen;
}

void logit_fit(const double *x, const unsigned char *y, int p, const int64_t *rows, int64_t m,
	       double C, int balanced, logit_t *f)
{
	int k = p + 1;
	f->p = p;
	f->mean = xmallocarray((size_t)p + 1, sizeof *f->mean);
	f->scale = xmallocarray((size_t)p + 1, sizeof *f->scale);
	f->beta = xcalloc((size_t)k, sizeof *f->beta);
	f->iters = 0;
	f->converged = 0;
	colstats(x, p, rows, m, f->mean, f->scale);
	double *Z = xmallocarray(xmul((size_t)(m ? m : 1), (size_t)(p ? p : 1)), sizeof *Z);
	unsigned char *yy = xmalloc((size_t)(m ? m : 1));
	double *s = xmallocarray((size_t)(m ? m : 1), sizeof *s);
	int64_t npos = 0;
	for (int64_t i = 0; i < m; i++) {
		const double *xr = x + rows[i] * p;
		for (int j = 0; j < p; j++)
			Z[i * p + j] = (xr[j] - f->mean[j]) / f->scale[j];
		yy[i] = y[rows[i]];
		npos += yy[i];
	}
	for (int64_t i = 0; i < m; i++)
		s[i] = 1.0;
	if (balanced && npos > 0 && npos < m)
		for (int64_t i = 0; i < m; i++)
			s[i] = (double)m / (2.0 * (double)(yy[i] ? npos : m - npos));
	double *g = xmallocarray((size_t)k, sizeof *g), *H = xmallocarray((size_t)k * k, sizeof *H);
	double *d = xmallocarray((size_t)k, sizeof *d), *bn = xmallocarray((size_t)k, sizeof *bn);
	double *zi = xmallocarray((size_t)k, sizeof *zi);
	double *beta = f->beta;
	double fcur = objective(Z, yy, s, m, p, beta, C);
	for (int it = 0; it < 200; it++) {
		memset(g, 0, (size_t)k * sizeof *g);
		memset(H, 0, (size_t)k * k * sizeof *H);
		for (int64_t i = 0; i < m; i++) {
			zi[0] = 1;
			double eta = beta[0];
			for (int j = 0; j < p; j++) {
				zi[j + 1] = Z[i * p + j];
				eta += beta[j + 1] * zi[j + 1];
			}
			double mu = sigmoid(eta);
			double r = s[i] * (mu - yy[i]), w = s[i] * mu * (1 - mu);
			for (int a = 0; a < k; a++) {
				g[a] += r * zi[a];
				for (int b = 0; b <= a; b++)
					H[a * k + b] += w * zi[a] * zi[b];
			}
		}
		for (int a = 0; a < k; a++) {
			g[a] *= C;
			for (int b = 0; b <= a; b++) {
				H[a * k + b] *= C;
				H[b * k + a] = H[a * k + b];
			}
		}
		for (int j = 1; j < k; j++) {
			g[j] += beta[j];
			H[j * k + j] += 1;
		}
		/* The intercept's curvature can vanish (a class absent, or perfect
		 * separation): a tiny ridge keeps the system solvable. */
		H[0] += 1e-12 * (1 + H[0]);
		if (chol_solve(H, g, d, k) != 0)
			die("logistic regression: singular Newton system");
		double step = 1, fnew = fcur;
		for (int ls = 0; ls < 60; ls++) {
			for (int a = 0; a < k; a++)
				bn[a] = beta[a] - step * d[a];
			fnew = objective(Z, yy, s, m, p, bn, C);
			if (fnew <= fcur)
				break;
			step *= 0.5;
		}
		double dmax = 0, bmax = 0;
		for (int a = 0; a < k; a++) {
			double t = fabs(step * d[a]);
			dmax = t > dmax ? t : dmax;
			bmax = fabs(bn[a]) > bmax ? fabs(bn[a]) : bmax;
		}
		if (fnew <= fcur) {
			memcpy(beta, bn, (size_t)k * sizeof *beta);
			fcur = fnew;
		}
		f->iters = it + 1;
		if (dmax <= 1e-10 * (1 + bmax)) {
			f->converged = 1;
			break;
		}
	}
	free(Z);
	free(yy);
	free(s);
	free(g);
	free(H);
	free(d);
	free(bn);
	free(zi);
}

double logit_decision(const logit_t *f, const double *xrow)
{
	return stdlin_eval(f->p, f->mean, f->scale, f->beta, xrow);
}

void logit_free(logit_t *f)
{
	free(f->mean);
	free(f->scale);
	free(f->beta);
}
