/* layer-select: which attention layer, chosen without peeking? Nested
 * cross-validation over perturbations: inside each outer training fold the
 * layer with the best mean perturbation-first AUROC is chosen and then
 * judged on the held-out perturbations only. Beside it, the layer that looks
 * best on all perturbations ("in hindsight"), with a Bonferroni p over the
 * layers, for the paper's comparison. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvbench.h"
#include "err.h"
#include "metrics.h"
#include "opt.h"
#include "out.h"
#include "sort.h"
#include "rng.h"
#include "select.h"
#include "stats.h"
#include "strtab.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: layer-select --label COL --group COL --layers COL,COL,... [--folds K]\n"
	"                    [--bootstrap B] [--seed S] [--ci-level L] [--folds-out FILE]\n"
	"                    [-o OUT] [FILE]\n"
	"\n"
	"Rows: kind fold layer train_auroc auroc ci_lo ci_hi p p_bonferroni n_perturbations.\n"
	"kind = fold (the layer chosen on each outer training fold, its mean AUROC there\n"
	"and on the held-out perturbations), nested (the held-out AUROCs pooled), layer\n"
	"(each layer on all perturbations), hindsight (the best of those).\n"
	"\n"
	"  --label COL         1/0 or true/false\n"
	"  --group COL         the perturbation: AUROC within each, folds never split one\n"
	"  --layers COL,...    one score column per layer (at least 2)\n"
	"  --folds K           outer folds (GroupKFold by --group) [5]\n"
	"  --bootstrap B       resamples of perturbations for the intervals [1000]\n"
	"  --seed S            seed of the bootstrap [1]\n"
	"  --ci-level L        confidence level [0.95]\n"
	"  --folds-out FILE    write the perturbation -> fold assignment (group, fold)\n"
	"  -o FILE             write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help          this text\n";

enum { OPT_LABEL = 256, OPT_GROUP, OPT_LAYERS, OPT_FOLDS, OPT_BOOT, OPT_LEVEL, OPT_FOLDSOUT };

static const struct option longopts[] = {
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "layers", required_argument, NULL, OPT_LAYERS },
	{ "folds", required_argument, NULL, OPT_FOLDS },
	{ "bootstrap", required_argument, NULL, OPT_BOOT },
	OPT_LONG_SEED,
	{ "ci-level", required_argument, NULL, OPT_LEVEL },
	{ "folds-out", required_argument, NULL, OPT_FOLDSOUT },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

typedef struct conf {
	const char *label, *group, *layers, *out, *foldsout;
	int folds;
	int64_t boot;
	uint64_t seed;
	double level;
} conf_t;

/* Mean of a[g] over the perturbations with a defined AUROC: all of them
 * (f < 0), those of fold f (held_out) or those outside it. */
static double mean_over(const double *a, int64_t ng, const int *gfold, int f, int held_out, int64_t *cnt)
{
	double s = 0;
	int64_t c = 0;
	for (int64_t g = 0; g < ng; g++) {
		if (isnan(a[g]) || (f >= 0 && (gfold[g] == f) != held_out))
			continue;
		s += a[g];
		c++;
	}
	if (cnt)
		*cnt = c;
	return c ? s / (double)c : NAN;
}

/* Percentile bootstrap interval of the mean of v[0..m) (perturbations
 * drawn with replacement). */
static void boot_ci(const conf_t *c, const double *v, int64_t m, double *lo, double *hi)
{
	*lo = *hi = NAN;
	if (!c->boot || m == 0)
		return;
	rng_t r;
	rng_seed(&r, c->seed);
	double *mb = xmallocarray((size_t)c->boot, sizeof *mb);
	for (int64_t b = 0; b < c->boot; b++) {
		double s = 0;
		for (int64_t k = 0; k < m; k++)
			s += v[rng_below(&r, (uint64_t)m)];
		mb[b] = s / (double)m;
	}
	quantile_interval(mb, c->boot, c->level, lo, hi);
	free(mb);
}

typedef struct row {
	const char *kind;
	int fold;
	const char *layer;
	double train, auroc, lo, hi, p, pbonf;
	int64_t n;
} row_t;

static void put(wr_t *w, const row_t *r)
{
	wr_puts(w, r->kind);
	wr_putc(w, '\t');
	if (r->fold >= 0)
		wr_i64(w, r->fold);
	else
		wr_puts(w, "NA");
	wr_putc(w, '\t');
	wr_puts(w, r->layer);
	double v[6] = { r->train, r->auroc, r->lo, r->hi, r->p, r->pbonf };
	for (int k = 0; k < 6; k++) {
		wr_putc(w, '\t');
		wr_f64_na(w, v[k]);
	}
	wr_putc(w, '\t');
	wr_i64(w, r->n);
	wr_putc(w, '\n');
}

/* Two-sided one-sample t-test of the AUROCs against 0.5. */
static double p_half(const double *v, int64_t m, double *d)
{
	for (int64_t k = 0; k < m; k++)
		d[k] = v[k] - 0.5;
	return ttest_one(d, m).p;
}

static void run(const conf_t *c, const char *path)
{
	tsv_t *t = tsv_open(path);
	int cl = tsv_col(t, c->label), cg = tsv_col(t, c->group), *cx;
	int nl = tsv_cols(t, c->layers, &cx);
	if (nl < 2)
		die_usage("--layers: at least two layer columns");
	/* the rows as logit-cv reads them: a layer per value column */
	cvrows_t R;
	cvrows_read(t, cl, cg, -1, cx, nl, "layer score", &R);
	int64_t n = R.n;
	const double *x = R.X;
	const unsigned char *y = R.y;
	const int64_t *gid = R.gid;
	const strtab_t *groups = R.groups;
	int64_t ng = strtab_size(groups);

	/* per layer and perturbation: AUROC within the perturbation */
	double *A = xmallocarray(xmul((size_t)nl, (size_t)(ng ? ng : 1)), sizeof *A);
	double *col = xmallocarray((size_t)(n ? n : 1), sizeof *col), *cs = xmallocarray((size_t)(n ? n : 1), sizeof *cs);
	unsigned char *ys = xmalloc((size_t)(n ? n : 1));
	int64_t *gs = xmallocarray((size_t)(n ? n : 1), sizeof *gs), *ord = xmallocarray((size_t)(n ? n : 1), sizeof *ord);
	for (int l = 0; l < nl; l++) {
		for (int64_t i = 0; i < n; i++)
			col[i] = x[i * nl + l];
		argsort_f64(col, n, ord);
		for (int64_t i = 0; i < n; i++) {
			cs[i] = col[ord[i]];
			ys[i] = y[ord[i]];
			gs[i] = gid[ord[i]];
		}
		auroc_groups(cs, ys, gs, n, ng, A + (size_t)l * ng);
	}
	int64_t usable = 0;
	for (int64_t g = 0; g < ng; g++)
		usable += !isnan(A[g]);
	if (usable < c->folds)
		die("%s: %lld perturbations have both classes, fewer than %d folds", tsv_name(t), (long long)usable,
		    c->folds);
	if (usable < ng)
		warn("%lld of %lld perturbations lack a class and are left out of every mean",
		     (long long)(ng - usable), (long long)ng);

	int *gfold = cvrows_group_folds(&R, 0, c->folds, tsv_name(t), c->group);
	if (c->foldsout)
		cvrows_write_folds(c->foldsout, groups, gfold);

	wr_t *w = wr_open(c->out, 0);
	wr_puts(w, "kind\tfold\tlayer\ttrain_auroc\tauroc\tci_lo\tci_hi\tp\tp_bonferroni\tn_perturbations\n");
	/* outer folds: choose on the training perturbations (ties: the first
	 * layer), judge on the held-out ones */
	double *held = xmallocarray((size_t)ng, sizeof *held), *tmp = xmallocarray((size_t)ng, sizeof *tmp);
	int64_t nh = 0;
	for (int f = 0; f < c->folds; f++) {
		int best = 0;
		double bv = -INFINITY;
		for (int l = 0; l < nl; l++) {
			double m = mean_over(A + (size_t)l * ng, ng, gfold, f, 0, NULL);
			if (m > bv) {
				bv = m;
				best = l;
			}
		}
		int64_t cnt;
		const double *Ab = A + (size_t)best * ng;
		double ho = mean_over(Ab, ng, gfold, f, 1, &cnt);
		for (int64_t g = 0; g < ng; g++)
			if (gfold[g] == f && !isnan(Ab[g]))
				held[nh++] = Ab[g];
		row_t r = { "fold", f, t->names[cx[best]], bv, ho, NAN, NAN, NAN, NAN, cnt };
		put(w, &r);
	}
	row_t nr = { "nested", -1, "-", NAN, mean_over(held, nh, NULL, -1, 0, NULL), NAN, NAN,
		     p_half(held, nh, tmp), NAN, nh };
	boot_ci(c, held, nh, &nr.lo, &nr.hi);
	put(w, &nr);
	/* every layer on all perturbations; the best is the hindsight pick */
	int hb = 0;
	double hv = -INFINITY;
	row_t *lr = xcalloc((size_t)nl, sizeof *lr);
	for (int l = 0; l < nl; l++) {
		const double *Al = A + (size_t)l * ng;
		int64_t m = 0;
		for (int64_t g = 0; g < ng; g++)
			if (!isnan(Al[g]))
				held[m++] = Al[g];
		double p = p_half(held, m, tmp);
		lr[l] = (row_t){ "layer", -1, t->names[cx[l]], NAN, mean_over(held, m, NULL, -1, 0, NULL), NAN, NAN,
				 p, fmin(1, p * nl), m };
		boot_ci(c, held, m, &lr[l].lo, &lr[l].hi);
		put(w, &lr[l]);
		if (lr[l].auroc > hv) {
			hv = lr[l].auroc;
			hb = l;
		}
	}
	row_t hr = lr[hb];
	hr.kind = "hindsight";
	put(w, &hr);
	wr_close(w);
	free(lr);
	free(held);
	free(tmp);
	free(gfold);
	free(A);
	free(col);
	free(cs);
	free(ys);
	free(gs);
	free(ord);
	cvrows_free(&R);
	free(cx);
	tsv_close(t);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	conf_t c = { .folds = 5, .boot = 1000, .seed = 1, .level = 0.95 };
	int ch;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_LABEL: c.label = optarg; break;
		case OPT_GROUP: c.group = optarg; break;
		case OPT_LAYERS: c.layers = optarg; break;
		case OPT_FOLDS: c.folds = (int)opt_int(optarg, "--folds", 2, 1000000); break;
		case OPT_BOOT: c.boot = opt_int(optarg, "--bootstrap", 0, 100000000); break;
		case OPT_STD_SEED: c.seed = opt_seed(optarg); break;
		case OPT_LEVEL:
			c.level = opt_double(optarg, "--ci-level");
			if (!(c.level > 0 && c.level < 1))
				die_usage("--ci-level: %s is not between 0 and 1", optarg);
			break;
		case OPT_FOLDSOUT: c.foldsout = optarg; break;
		case 'o': c.out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!c.label || !c.group || !c.layers)
		die_usage("--label, --group and --layers are required");
	if (argc - optind > 1)
		die_usage("at most one input FILE");
	run(&c, optind < argc ? argv[optind] : "-");
	return 0;
}
