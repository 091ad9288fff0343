/* residualize: cross-fitted OLS residuals of a score on covariates, so that
 * what remains of an edge score is what gene-level features do not explain,
 * and no row is predicted by a model that saw it. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "folds.h"
#include "gbdt.h"
#include "linfit.h"
#include "opt.h"
#include "out.h"
#include "rowstore.h"
#include "strtab.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: residualize --y COL --x COL,... [--folds K] [--seed S | --group COL]\n"
	"                   [--model ols|gbdt] [--gbdt-* ...] [-o OUT] [FILE]\n"
	"\n"
	"Appends fitted, residual (y - fitted) and fold to every row, in input order. The\n"
	"rows of each fold are predicted by OLS (intercept + covariates standardised on\n"
	"the training rows) fitted on the other folds. Rows with a missing y or x get NA.\n"
	"Held-out R^2 per fold goes to stderr.\n"
	"\n"
	"  --y COL        response column\n"
	"  --x COL,...    covariate columns\n"
	"  --folds K      number of folds, >= 2 [5]\n"
	"  --seed S       random folds from this seed [1]\n"
	"  --group COL    folds by group, scikit-learn's GroupKFold exactly\n"
	"  --model M      ols, or gbdt (XGBoost, reg:squarederror on the raw covariates) [ols]\n"
	MODEL_USAGE
	"  -o FILE        write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help     this text\n";

enum { OPT_Y = 256, OPT_X, OPT_FOLDS, OPT_GROUP };

static const struct option longopts[] = {
	{ "y", required_argument, NULL, OPT_Y },
	{ "x", required_argument, NULL, OPT_X },
	{ "folds", required_argument, NULL, OPT_FOLDS },
	OPT_LONG_SEED,
	{ "group", required_argument, NULL, OPT_GROUP },
	MODEL_LONGOPTS,
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

typedef struct conf {
	const char *y, *x, *group, *out;
	int folds, seeded;
	uint64_t seed;
	model_opt_t model;
} conf_t;

static void run(const conf_t *c, const char *path)
{
	tsv_t *t = tsv_open(path);
	int cy = tsv_col(t, c->y), *cx;
	int p = tsv_cols(t, c->x, &cx);
	int cg = c->group ? tsv_col(t, c->group) : -1;
	for (int i = 0; i < t->ncol; i++)
		if (!strcmp(t->names[i], "fitted") || !strcmp(t->names[i], "residual") ||
		    !strcmp(t->names[i], "fold"))
			die("%s:1: the input already has a column '%s' (drop or rename it first)",
			    tsv_name(t), t->names[i]);
	strtab_t *groups = cg >= 0 ? strtab_new() : NULL;
	rowstore_t rs = { 0 };
	int64_t n = 0, cap = 0, nuse = 0;
	double *x = NULL, *y = NULL;
	unsigned char *use = NULL;
	int64_t *gid = NULL;
	while (tsv_next(t)) {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			x = xreallocarray(x, xmul((size_t)cap, (size_t)p), sizeof *x);
			y = xreallocarray(y, (size_t)cap, sizeof *y);
			use = xreallocarray(use, (size_t)cap, 1);
			gid = xreallocarray(gid, (size_t)cap, sizeof *gid);
		}
		int na = 0;
		y[n] = tsv_finite_na(t, cy, &na);
		for (int j = 0; j < p; j++)
			x[n * p + j] = tsv_finite_na(t, cx[j], &na);
		use[n] = !na;
		nuse += !na;
		if (groups) {
			const char *g = tsv_str(t, cg);
			gid[n] = na ? -1 : strtab_put(groups, g, strlen(g), NULL);
		}
		rowstore_add(&rs, t);
		n++;
	}
	if (n == 0)
		die("%s: header only, no data rows", tsv_name(t));

	/* Folds over the usable rows. */
	int *fold = xmallocarray((size_t)n, sizeof *fold);
	int64_t *urow = xmallocarray((size_t)(nuse ? nuse : 1), sizeof *urow);
	for (int64_t i = 0, k = 0; i < n; i++) {
		fold[i] = -1;
		if (use[i])
			urow[k++] = i;
	}
	if (nuse < c->folds)
		die("%s: %lld complete rows, fewer than %d folds", tsv_name(t), (long long)nuse, c->folds);
	if (groups) {
		int64_t ng = strtab_size(groups);
		int64_t *gsize = xcalloc((size_t)(ng ? ng : 1), sizeof *gsize);
		int *gfold = xmallocarray((size_t)(ng ? ng : 1), sizeof *gfold);
		for (int64_t i = 0; i < n; i++)
			if (use[i])
				gsize[gid[i]]++;
		if (folds_grouped(groups, gsize, ng, c->folds, gfold) != 0)
			die("%s: column '%s' has %lld groups, fewer than %d folds", tsv_name(t), c->group,
			    (long long)ng, c->folds);
		for (int64_t i = 0; i < n; i++)
			if (use[i])
				fold[i] = gfold[gid[i]];
		free(gsize);
		free(gfold);
	} else {
		int *uf = xmallocarray((size_t)nuse, sizeof *uf);
		folds_random(nuse, c->folds, c->seed, uf);
		for (int64_t k = 0; k < nuse; k++)
			fold[urow[k]] = uf[k];
		free(uf);
	}

	double *fitted = xmallocarray((size_t)n, sizeof *fitted);
	for (int64_t i = 0; i < n; i++)
		fitted[i] = NAN;
	int64_t *train = xmallocarray((size_t)nuse, sizeof *train);
	/* The per-fold notes go to stderr only once the output is safely closed,
	 * so that a failed write (full disk) ends with its one error line alone. */
	char (*note)[160] = xmallocarray((size_t)c->folds, sizeof *note);
	int linear = c->model.kind == MODEL_LINEAR;
	if (!linear)
		gbdt_cv(x, p, y, 0, fold, n, c->folds, GBDT_REGRESSION, &c->model.g, fitted);
	for (int f = 0; f < c->folds; f++) {
		int64_t m = 0, ntest = 0;
		for (int64_t k = 0; k < nuse; k++) {
			if (fold[urow[k]] != f)
				train[m++] = urow[k];
			else
				ntest++;
		}
		linfit_t lf = { 0 };
		if (linear)
			linfit_ols(x, y, p, train, m, &lf);
		double sy = 0, ss_res = 0, ss_tot = 0;
		for (int64_t k = 0; k < nuse; k++) {
			int64_t i = urow[k];
			if (fold[i] != f)
				continue;
			if (linear)
				fitted[i] = linfit_predict(&lf, x + i * p);
			sy += y[i];
		}
		double my = ntest ? sy / (double)ntest : NAN;
		for (int64_t k = 0; k < nuse; k++) {
			int64_t i = urow[k];
			if (fold[i] != f)
				continue;
			ss_res += (y[i] - fitted[i]) * (y[i] - fitted[i]);
			ss_tot += (y[i] - my) * (y[i] - my);
		}
		snprintf(note[f], sizeof note[f],
			 "fold %d: %lld training rows, %lld held out, held-out R^2 %.4f%s", f, (long long)m,
			 (long long)ntest, 1 - ss_res / ss_tot,
			 linear && lf.rank < p + 1 ? " (collinear covariates: minimum-norm fit)" : "");
		if (linear)
			linfit_free(&lf);
	}

	wr_t *w = wr_open(c->out, 0);
	tsv_write_header(w, t);
	wr_puts(w, "\tfitted\tresidual\tfold\n");
	for (int64_t i = 0; i < n; i++) {
		wr_puts(w, rs.line[i]);
		if (!use[i]) {
			wr_puts(w, "\tNA\tNA\tNA\n");
			continue;
		}
		wr_putc(w, '\t');
		wr_f64(w, fitted[i]);
		wr_putc(w, '\t');
		wr_f64(w, y[i] - fitted[i]);
		wr_putc(w, '\t');
		wr_i64(w, fold[i]);
		wr_putc(w, '\n');
	}
	wr_close(w);
	for (int f = 0; f < c->folds; f++)
		warn("%s", note[f]);
	free(note);
	free(train);
	free(fitted);
	free(fold);
	free(urow);
	free(x);
	free(y);
	free(use);
	free(gid);
	free(cx);
	strtab_free(groups);
	rowstore_free(&rs);
	tsv_close(t);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	conf_t c = { .folds = 5, .seed = 1 };
	model_opt_init(&c.model, "ols");
	int ch;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (model_opt_parse(&c.model, ch, optarg))
			continue;
		switch (ch) {
		case OPT_Y: c.y = optarg; break;
		case OPT_X: c.x = optarg; break;
		case OPT_FOLDS: c.folds = (int)opt_int(optarg, "--folds", 2, 1000000); break;
		case OPT_STD_SEED:
			c.seed = opt_seed(optarg);
			c.seeded = 1;
			break;
		case OPT_GROUP: c.group = optarg; break;
		case 'o': c.out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!c.y || !c.x)
		die_usage("--y COL and --x COL,... are required");
	if (c.seeded && c.group)
		die_usage("--seed and --group exclude each other (grouped folds are not random)");
	if (argc - optind > 1)
		die_usage("at most one input FILE");
	run(&c, optind < argc ? argv[optind] : "-");
	return 0;
}
