/* Gradient-boosted trees from a real library: XGBoost's C API, so that the
 * boosting is exactly python3-xgboost's (same version, same parameters, same
 * float32 rows give the same trees). Each fit is single-threaded (XGBoost's
 * nthread = 1), so the output bytes do not depend on the thread count; the
 * cross-validation folds run side by side instead.
 *
 * Also the one model-option table shared by logit-cv and residualize
 * (--model and the --gbdt-* options), parsed in one place. */
#ifndef AK_GBDT_H
#define AK_GBDT_H

#include <getopt.h>
#include <stdint.h>

enum { MODEL_LINEAR = 0, MODEL_GBDT = 1 };
enum { GBDT_BINARY = 0, GBDT_REGRESSION = 1 };

typedef struct gbdt_opt {
	int rounds;       /* boosting rounds [200] */
	int depth;        /* max_depth [4] */
	double eta;       /* learning rate [0.1] */
	double subsample; /* row subsample per tree, (0, 1] [1] */
	int hist;         /* tree_method: 1 hist [default], 0 exact */
	uint64_t seed;    /* XGBoost's seed [0] */
	int threads;      /* folds fitted side by side [ATTNKIT_THREADS or CPUs] */
} gbdt_opt_t;

typedef struct model_opt {
	int kind;           /* MODEL_LINEAR or MODEL_GBDT */
	const char *linear; /* what the filter calls its linear model: "logit", "ols" */
	gbdt_opt_t g;
} model_opt_t;

/* getopt_long codes of the shared options, above any filter's own. */
enum { MODEL_OPT_MODEL = 0x4000, MODEL_OPT_ROUNDS, MODEL_OPT_DEPTH, MODEL_OPT_ETA,
       MODEL_OPT_SUBSAMPLE, MODEL_OPT_METHOD, MODEL_OPT_GSEED, MODEL_OPT_THREADS };

/* Entries for a filter's struct option table. */
#define MODEL_LONGOPTS                                                         \
	{ "model", required_argument, NULL, MODEL_OPT_MODEL },                 \
	{ "gbdt-rounds", required_argument, NULL, MODEL_OPT_ROUNDS },          \
	{ "gbdt-depth", required_argument, NULL, MODEL_OPT_DEPTH },            \
	{ "gbdt-eta", required_argument, NULL, MODEL_OPT_ETA },                \
	{ "gbdt-subsample", required_argument, NULL, MODEL_OPT_SUBSAMPLE },    \
	{ "gbdt-method", required_argument, NULL, MODEL_OPT_METHOD },          \
	{ "gbdt-seed", required_argument, NULL, MODEL_OPT_GSEED },             \
	{ "threads", required_argument, NULL, MODEL_OPT_THREADS }

/* Usage lines for those options (after the filter's own). */
#define MODEL_USAGE                                                                        \
	"  --gbdt-rounds N     boosting rounds [200]\n"                                    \
	"  --gbdt-depth D      maximum tree depth [4]\n"                                   \
	"  --gbdt-eta E        learning rate [0.1]\n"                                      \
	"  --gbdt-subsample F  share of rows drawn for each tree, in (0, 1] [1]\n"        \
	"  --gbdt-method M     XGBoost tree_method: hist or exact [hist]\n"               \
	"  --gbdt-seed S       XGBoost's seed [0]\n"                                       \
	"  --threads N         folds fitted side by side (each fit single-threaded)\n"    \
	"                      [ATTNKIT_THREADS or online CPUs]\n"

/* Defaults; linear names the filter's linear model ("logit" or "ols"). */
void model_opt_init(model_opt_t *m, const char *linear);
/* Handles ch when it is one of the shared options (returns 1), else 0.
 * Bad values are usage errors naming the option. */
int model_opt_parse(model_opt_t *m, int ch, const char *arg);
/* "gbdt" or the linear model's name. */
const char *model_name(const model_opt_t *m);

/* Cross-fitted predictions: for each fold f in 0..k-1 a model is fitted on
 * the rows with fold[i] >= 0 and fold[i] != f and predicts the rows with
 * fold[i] == f; rows with fold[i] < 0 take no part (pred[i] untouched).
 * x is row-major n x p (cast to float32, as python3-xgboost does; NaN is
 * missing), y the label (0/1 for GBDT_BINARY). balanced (GBDT_BINARY only):
 * each fit weighs its training rows m / (2 m_class), as scikit-learn's
 * compute_sample_weight('balanced') on them.
 * pred receives the probability (GBDT_BINARY) or the fitted value. Dies on
 * a fold without training rows and on an XGBoost error. */
void gbdt_cv(const double *x, int p, const double *y, int balanced, const int *fold, int64_t n,
	     int k, int objective, const gbdt_opt_t *o, double *pred);

#endif
