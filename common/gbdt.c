#include "gbdt.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "par.h"
#include "err.h"
#include "opt.h"
#include "xalloc.h"

void model_opt_init(model_opt_t *m, const char *linear)
{
	memset(m, 0, sizeof *m);
	m->kind = MODEL_LINEAR;
	m->linear = linear;
	m->g = (gbdt_opt_t){ .rounds = 200, .depth = 4, .eta = 0.1, .subsample = 1, .hist = 1, .seed = 0,
			     .threads = 0 };
}

const char *model_name(const model_opt_t *m)
{
	return m->kind == MODEL_GBDT ? "gbdt" : m->linear;
}

int model_opt_parse(model_opt_t *m, int ch, const char *arg)
{
	gbdt_opt_t *g = &m->g;
	switch (ch) {
	case MODEL_OPT_MODEL:
		if (!strcmp(arg, "gbdt"))
			m->kind = MODEL_GBDT;
		else if (!strcmp(arg, m->linear))
			m->kind = MODEL_LINEAR;
		else
			die_usage("--model: expected %s or gbdt (got '%s')", m->linear, arg);
		return 1;
	case MODEL_OPT_ROUNDS: g->rounds = (int)opt_int(arg, "--gbdt-rounds", 1, 1000000); return 1;
	case MODEL_OPT_DEPTH: g->depth = (int)opt_int(arg, "--gbdt-depth", 1, 64); return 1;
	case MODEL_OPT_ETA:
		g->eta = opt_double(arg, "--gbdt-eta");
		if (!(g->eta > 0 && g->eta <= 1))
			die_usage("--gbdt-eta: %s is not in (0, 1]", arg);
		return 1;
	case MODEL_OPT_SUBSAMPLE:
		g->subsample = opt_double(arg, "--gbdt-subsample");
		if (!(g->subsample > 0 && g->subsample <= 1))
			die_usage("--gbdt-subsample: %s is not in (0, 1]", arg);
		return 1;
	case MODEL_OPT_METHOD:
		if (!strcmp(arg, "hist"))
			g->hist = 1;
		else if (!strcmp(arg, "exact"))
			g->hist = 0;
		else
			die_usage("--gbdt-method: expected hist or exact (got '%s')", arg);
		return 1;
	case MODEL_OPT_GSEED: g->seed = (uint64_t)opt_int(arg, "--gbdt-seed", 0, INT32_MAX); return 1;
	case MODEL_OPT_THREADS: g->threads = opt_threads(arg); return 1;
	default: return 0;
	}
}

/* Every XGBoost call goes through here: a failure is fatal, with the
 * library's own message. */
static void xgb_check(int rc, const char *what)
{
	if (rc != 0)
		die("XGBoost: %s: %s", what, XGBGetLastError());
}

typedef struct cv_job {
	const double *x, *y;
	int balanced;
	const int *fold;
	int64_t n;
	int p, k, objective;
	const gbdt_opt_t *o;
	double *pred;
	pthread_mutex_t lock;
	int next; /* next fold to fit */
} cv_job_t;

/* A float32 DMatrix of the given rows (labels, weights). */
static DMatrixHandle dmatrix_rows(const cv_job_t *j, const int64_t *rows, int64_t m, int labelled)
{
	float *xf = xmallocarray(xmul((size_t)(m ? m : 1), (size_t)j->p), sizeof *xf);
	for (int64_t r = 0; r < m; r++)
		for (int c = 0; c < j->p; c++)
			xf[r * j->p + c] = (float)j->x[rows[r] * j->p + c];
	DMatrixHandle d;
	xgb_check(XGDMatrixCreateFromMat_omp(xf, (bst_ulong)m, (bst_ulong)j->p, NAN, &d, 1),
		  "XGDMatrixCreateFromMat");
	free(xf);
	if (labelled) {
		float *v = xmallocarray((size_t)(m ? m : 1), sizeof *v);
		for (int64_t r = 0; r < m; r++)
			v[r] = (float)j->y[rows[r]];
		xgb_check(XGDMatrixSetFloatInfo(d, "label", v, (bst_ulong)m), "set label");
		if (j->balanced) {
			int64_t npos = 0;
			for (int64_t r = 0; r < m; r++)
				npos += j->y[rows[r]] != 0;
			for (int64_t r = 0; r < m; r++)
				v[r] = (float)((double)m / (2.0 * (double)(j->y[rows[r]] != 0 ? npos : m - npos)));
			xgb_check(XGDMatrixSetFloatInfo(d, "weight", v, (bst_ulong)m), "set weight");
		}
		free(v);
	}
	return d;
}

static void set_params(BoosterHandle b, const cv_job_t *j)
{
	char buf[64];
	const gbdt_opt_t *o = j->o;
	xgb_check(XGBoosterSetParam(b, "nthread", "1"), "nthread");
	xgb_check(XGBoosterSetParam(b, "objective",
				    j->objective == GBDT_BINARY ? "binary:logistic" : "reg:squarederror"),
		  "objective");
	xgb_check(XGBoosterSetParam(b, "tree_method", o->hist ? "hist" : "exact"), "tree_method");
	snprintf(buf, sizeof buf, "%d", o->depth);
	xgb_check(XGBoosterSetParam(b, "max_depth", buf), "max_depth");
	snprintf(buf, sizeof buf, "%.17g", o->eta);
	xgb_check(XGBoosterSetParam(b, "eta", buf), "eta");
	snprintf(buf, sizeof buf, "%.17g", o->subsample);
	xgb_check(XGBoosterSetParam(b, "subsample", buf), "subsample");
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->seed);
	xgb_check(XGBoosterSetParam(b, "seed", buf), "seed");
}

static void fit_fold(cv_job_t *j, int f, int64_t *train, int64_t *test)
{
	int64_t m = 0, nt = 0;
	for (int64_t i = 0; i < j->n; i++) {
		if (j->fold[i] < 0)
			continue;
		if (j->fold[i] == f)
			test[nt++] = i;
		else
			train[m++] = i;
	}
	if (nt == 0)
		return;
	if (m == 0)
		die("gbdt: fold %d has no training rows", f);
	DMatrixHandle dtr = dmatrix_rows(j, train, m, 1), dte = dmatrix_rows(j, test, nt, 0);
	BoosterHandle b;
	xgb_check(XGBoosterCreate(&dtr, 1, &b), "XGBoosterCreate");
	set_params(b, j);
	for (int it = 0; it < j->o->rounds; it++)
		xgb_check(XGBoosterUpdateOneIter(b, it, dtr), "XGBoosterUpdateOneIter");
	bst_ulong const *shape;
	bst_ulong dim;
	const float *out;
	xgb_check(XGBoosterPredictFromDMatrix(
			  b, dte,
			  "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
			  "\"iteration_end\": 0, \"strict_shape\": false}",
			  &shape, &dim, &out),
		  "XGBoosterPredictFromDMatrix");
	for (int64_t r = 0; r < nt; r++)
		j->pred[test[r]] = out[r];
	xgb_check(XGBoosterFree(b), "XGBoosterFree");
	xgb_check(XGDMatrixFree(dtr), "XGDMatrixFree");
	xgb_check(XGDMatrixFree(dte), "XGDMatrixFree");
}

/* Folds are handed out one at a time; each writes only its own test rows of
 * pred, so no two workers touch the same element. */
static void *worker(void *arg)
{
	cv_job_t *j = arg;
	int64_t *train = xmallocarray((size_t)(j->n ? j->n : 1), sizeof *train);
	int64_t *test = xmallocarray((size_t)(j->n ? j->n : 1), sizeof *test);
	for (;;) {
		pthread_mutex_lock(&j->lock);
		int f = j->next++;
		pthread_mutex_unlock(&j->lock);
		if (f >= j->k)
			break;
		fit_fold(j, f, train, test);
	}
	free(train);
	free(test);
	return NULL;
}

void gbdt_cv(const double *x, int p, const double *y, int balanced, const int *fold, int64_t n,
	     int k, int objective, const gbdt_opt_t *o, double *pred)
{
	cv_job_t j = { .x = x, .y = y, .balanced = balanced, .fold = fold, .n = n, .p = p, .k = k,
		       .objective = objective, .o = o, .pred = pred, .next = 0 };
	pthread_mutex_init(&j.lock, NULL);
	int nt = o->threads > 0 ? o->threads : par_threads();
	if (nt > k)
		nt = k;
	parallel_for(nt, worker, &j, 0);
	pthread_mutex_destroy(&j.lock);
}
