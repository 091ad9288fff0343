/* logit-cv: does a feature set add anything? Grouped K-fold cross-validated
 * L2 logistic regression for several feature sets on the same folds;
 * AUROC/AUPRC of the out-of-fold predictions, the AUROC gain over the first
 * set, and a bootstrap over groups. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvbench.h"
#include "err.h"
#include "folds.h"
#include "gbdt.h"
#include "logit.h"
#include "opt.h"
#include "out.h"
#include "rank.h"
#include "rng.h"
#include "stats.h"
#include "strtab.h"
#include "tsv.h"
#include "tsvlabel.h"
#include "xalloc.h"

static const char usage[] =
	"usage: logit-cv --label COL --group COL --set NAME=COL,... [--set ...] [--folds K]\n"
	"                [--C C] [--balanced] [--bootstrap B] [--seed S] [--folds-out FILE]\n"
	"                [--boot-p] [-v] [-o OUT] [FILE]\n"
	"       logit-cv ... [--model logit|gbdt] [--gbdt-* ...] [--split perturbation|gene|joint]\n"
	"                [--group2 COL] [--recall-k K] [--long] [--pred-out FILE]\n"
	"\n"
	"One output row per set: set auroc auprc delta_auroc ci_lo ci_hi. Predictions are\n"
	"out of fold (GroupKFold by --group: no group split); delta_auroc = auroc - auroc\n"
	"of the first set. ci_lo ci_hi: percentile bootstrap over groups of delta_auroc\n"
	"(of the auroc itself for the first set); NA without --bootstrap.\n"
	"\n"
	"  --label COL         1/0 or true/false\n"
	"  --group COL         GroupKFold folds (as scikit-learn); the bootstrap resamples groups\n"
	"  --set NAME=COL,...  a feature set (repeatable; the first is the baseline)\n"
	"  --folds K           number of folds [5]\n"
	"  --C C               inverse L2 penalty, as scikit-learn's C [1.0]\n"
	"  --balanced          class weights n / (2 n_class), as class_weight='balanced'\n"
	"  --bootstrap B       B resamples of the groups for the interval\n"
	"  --seed S            seed of the bootstrap [1]\n"
	"  --ci-level L        confidence level [0.95]\n"
	"  --folds-out FILE    write the group -> fold assignment (group, fold)\n"
	"  --boot-p            add column boot_p: (1 + #{bootstrap delta <= 0}) / (1 + B)\n"
	"  -v                  per-fold AUROC of every set on stderr\n"
	"  --model M           logit (L2 logistic) or gbdt (XGBoost) [logit]\n"
	MODEL_USAGE
	"  --split S           perturbation (GroupKFold by --group), gene (by --group2) or\n"
	"                      joint (tests P_k x G_k, trains outside both) [perturbation]\n"
	"  --group2 COL        the gene column of --split gene|joint\n"
	"  --recall-k K        k of recall_at_k [50]\n"
	"  --long              one row per metric and set: split model metric set value\n"
	"                      delta ci_lo ci_hi boot_p n_rows n_dropped\n"
	"  --pred-out FILE     out-of-fold predictions: row group fold SET...\n"
	"  -o FILE             write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help          this text\n";

enum { OPT_LABEL = 256, OPT_GROUP, OPT_SET, OPT_FOLDS, OPT_C, OPT_BAL, OPT_BOOT, OPT_SEED,
       OPT_LEVEL, OPT_FOLDSOUT, OPT_BOOTP, OPT_SPLIT, OPT_GROUP2, OPT_RECALLK, OPT_LONG, OPT_PREDOUT };

static const struct option longopts[] = {
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "set", required_argument, NULL, OPT_SET },
	{ "folds", required_argument, NULL, OPT_FOLDS },
	{ "C", required_argument, NULL, OPT_C },
	{ "balanced", no_argument, NULL, OPT_BAL },
	{ "bootstrap", required_argument, NULL, OPT_BOOT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "ci-level", required_argument, NULL, OPT_LEVEL },
	{ "folds-out", required_argument, NULL, OPT_FOLDSOUT },
	{ "boot-p", no_argument, NULL, OPT_BOOTP },
	MODEL_LONGOPTS,
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "group2", required_argument, NULL, OPT_GROUP2 },
	{ "recall-k", required_argument, NULL, OPT_RECALLK },
	{ "long", no_argument, NULL, OPT_LONG },
	{ "pred-out", required_argument, NULL, OPT_PREDOUT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_SETS 64

typedef struct fset {
	char *name;
	char *cols;
	int p;
	int *col;     /* TSV column of each feature */
	int *feat;    /* index into the distinct feature columns */
} fset_t;

typedef struct conf {
	const char *label, *group, *out, *foldsout;
	fset_t set[MAX_SETS];
	int nset, folds, balanced, verbose, bootp;
	double C, level;
	int64_t boot;
	uint64_t seed;
	cvbench_t bench; /* the model, split and metric options; used = 1: hand over */
	int bench_used;
} conf_t;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void run(conf_t *c, const char *path)
{
	tsv_t *t = tsv_open(path);
	int cl = tsv_col(t, c->label), cg = tsv_col(t, c->group);
	/* distinct feature columns over all sets */
	int nf = 0, fcol[1024];
	for (int s = 0; s < c->nset; s++) {
		fset_t *S = &c->set[s];
		S->p = tsv_cols(t, S->cols, &S->col);
		S->feat = xmallocarray((size_t)S->p, sizeof *S->feat);
		for (int j = 0; j < S->p; j++) {
			int k = 0;
			while (k < nf && fcol[k] != S->col[j])
				k++;
			if (k == nf) {
				if (nf == 1024)
					die_usage("more than 1024 distinct feature columns");
				fcol[nf++] = S->col[j];
			}
			S->feat[j] = k;
		}
	}
	strtab_t *groups = strtab_new();
	int64_t n = 0, cap = 0, skipped = 0, total = 0;
	double *X = NULL;
	unsigned char *y = NULL;
	int64_t *gid = NULL;
	while (tsv_next(t)) {
		total++;
		int lab = tsv_label(t, cl);
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			X = xreallocarray(X, xmul((size_t)cap, (size_t)nf), sizeof *X);
			y = xreallocarray(y, (size_t)cap, 1);
			gid = xreallocarray(gid, (size_t)cap, sizeof *gid);
		}
		int na = 0;
		for (int k = 0; k < nf; k++) {
			double v;
			if (!tsv_num_na(t, fcol[k], &v))
				na = 1;
			else if (!isfinite(v))
				tsv_die(t, fcol[k], "\"%s\" is not a finite number", tsv_str(t, fcol[k]));
			X[n * nf + k] = v;
		}
		if (na) {
			skipped++;
			continue;
		}
		const char *g = tsv_str(t, cg);
		gid[n] = strtab_put(groups, g, strlen(g), NULL);
		y[n++] = (unsigned char)lab;
	}
	if (total == 0)
		die("%s: header only, no data rows", tsv_name(t));
	if (skipped)
		warn("%s: %lld rows with a missing feature skipped", tsv_name(t), (long long)skipped);
	int64_t npos = 0;
	for (int64_t i = 0; i < n; i++)
		npos += y[i];
	if (npos == 0 || npos == n)
		die("%s: the label has a single class over the %lld complete rows", tsv_name(t), (long long)n);

	int64_t ng = strtab_size(groups);
	int64_t *gsize = xcalloc((size_t)(ng ? ng : 1), sizeof *gsize);
	int *gfold = xmallocarray((size_t)(ng ? ng : 1), sizeof *gfold);
	for (int64_t i = 0; i < n; i++)
		gsize[gid[i]]++;
	if (folds_grouped(groups, gsize, ng, c->folds, gfold) != 0)
		die("%s: column '%s' has %lld groups, fewer than %d folds", tsv_name(t), c->group,
		    (long long)ng, c->folds);
	if (c->foldsout) {
		wr_t *fw = wr_open(c->foldsout, 0);
		wr_puts(fw, "group\tfold\n");
		for (int64_t g = 0; g < ng; g++) {
			wr_puts(fw, strtab_str(groups, g));
			wr_putc(fw, '\t');
			wr_i64(fw, gfold[g]);
			wr_putc(fw, '\n');
		}
		wr_close(fw);
	}

	/* Out-of-fold decision values, per set. */
	double *pred = xmallocarray(xmul((size_t)c->nset, (size_t)(n ? n : 1)), sizeof *pred);
	int64_t *train = xmallocarray((size_t)n, sizeof *train), *test = xmallocarray((size_t)n, sizeof *test);
	double *xs = NULL;
	for (int s = 0; s < c->nset; s++) {
		fset_t *S = &c->set[s];
		xs = xreallocarray(xs, xmul((size_t)n, (size_t)S->p), sizeof *xs);
		for (int64_t i = 0; i < n; i++)
			for (int j = 0; j < S->p; j++)
				xs[i * S->p + j] = X[i * nf + S->feat[j]];
		for (int f = 0; f < c->folds; f++) {
			int64_t m = 0, nt = 0, mpos = 0;
			for (int64_t i = 0; i < n; i++) {
				if (gfold[gid[i]] == f)
					test[nt++] = i;
				else
					mpos += y[train[m++] = i];
			}
			/* as scikit-learn refuses it: a one-class fit has no boundary */
			if (mpos == 0 || mpos == m)
				die("%s: fold %d: the %lld training rows (the other folds) have a single class",
				    tsv_name(t), f, (long long)m);
			logit_t L;
			logit_fit(xs, y, S->p, train, m, c->C, c->balanced, &L);
			if (!L.converged)
				warn("set %s, fold %d: Newton did not converge in %d iterations", S->name, f, L.iters);
			double *pf = pred + (size_t)s * n;
			for (int64_t k = 0; k < nt; k++)
				pf[test[k]] = logit_decision(&L, xs + test[k] * S->p);
			if (c->verbose) {
				double *sc = xmallocarray((size_t)(nt ? nt : 1), sizeof *sc);
				unsigned char *yl = xmalloc((size_t)(nt ? nt : 1));
				for (int64_t k = 0; k < nt; k++) {
					sc[k] = pf[test[k]];
					yl[k] = y[test[k]];
				}
				double a = auroc(sc, yl, nt);
				fprintf(stderr, "logit-cv: set %s fold %d: %lld train, %lld test, auroc %.6f, %d Newton steps\n",
					S->name, f, (long long)m, (long long)nt, a, L.iters);
				free(sc);
				free(yl);
			}
			logit_free(&L);
		}
	}
	free(xs);
	free(train);
	free(test);

	/* Each set's predictions sorted once; AUROC/AP on the sorted view. */
	double **ss = xmallocarray((size_t)c->nset, sizeof *ss);
	unsigned char **ys = xmallocarray((size_t)c->nset, sizeof *ys);
	int64_t **gs = xmallocarray((size_t)c->nset, sizeof *gs);
	int64_t *ord = xmallocarray((size_t)n, sizeof *ord);
	double *au = xmallocarray((size_t)c->nset, sizeof *au), *ap = xmallocarray((size_t)c->nset, sizeof *ap);
	for (int s = 0; s < c->nset; s++) {
		const double *pf = pred + (size_t)s * n;
		rank_argsort(pf, n, ord);
		ss[s] = xmallocarray((size_t)n, sizeof **ss);
		ys[s] = xmalloc((size_t)n);
		gs[s] = xmallocarray((size_t)n, sizeof **gs);
		for (int64_t i = 0; i < n; i++) {
			ss[s][i] = pf[ord[i]];
			ys[s][i] = y[ord[i]];
			gs[s][i] = gid[ord[i]];
		}
		au[s] = auroc_sorted(ss[s], ys[s], NULL, n);
		ap[s] = avgprec_sorted(ss[s], ys[s], NULL, n);
	}
	double *lo = xmallocarray((size_t)c->nset, sizeof *lo), *hi = xmallocarray((size_t)c->nset, sizeof *hi);
	/* bootstrap p of "the set adds nothing": the share of resamples whose
	 * delta is not above 0, counted with the observed data as one draw */
	double *bp = xmallocarray((size_t)c->nset, sizeof *bp);
	for (int s = 0; s < c->nset; s++)
		lo[s] = hi[s] = bp[s] = NAN;
	if (c->boot) {
		rng_t rng;
		rng_seed(&rng, c->seed);
		double *mult = xmallocarray((size_t)ng, sizeof *mult), *w = xmallocarray((size_t)n, sizeof *w);
		double *val = xmallocarray(xmul((size_t)c->nset, (size_t)c->boot), sizeof *val);
		double *cur = xmallocarray((size_t)c->nset, sizeof *cur);
		int64_t nv = 0, discarded = 0;
		for (int64_t b = 0; b < c->boot; b++) {
			rng_boot_counts(&rng, mult, ng);
			int bad = 0;
			for (int s = 0; s < c->nset && !bad; s++) {
				for (int64_t i = 0; i < n; i++)
					w[i] = mult[gs[s][i]];
				cur[s] = auroc_sorted(ss[s], ys[s], w, n);
				bad = isnan(cur[s]);
			}
			if (bad) {
				discarded++;
				continue;
			}
			for (int s = 0; s < c->nset; s++)
				val[(size_t)s * c->boot + nv] = s ? cur[s] - cur[0] : cur[0];
			nv++;
		}
		if (discarded)
			warn("%lld bootstrap resamples lacked a class and were discarded", (long long)discarded);
		double tail = (1 - c->level) / 2;
		for (int s = 0; s < c->nset; s++) {
			double *v = val + (size_t)s * c->boot;
			qsort(v, (size_t)nv, sizeof *v, cmp_double);
			lo[s] = quantile_sorted(v, nv, tail);
			hi[s] = quantile_sorted(v, nv, 1 - tail);
			int64_t le = 0;
			for (int64_t i = 0; i < nv; i++)
				le += v[i] <= 0;
			if (s)
				bp[s] = (1.0 + (double)le) / (1.0 + (double)nv);
		}
		free(mult);
		free(w);
		free(val);
		free(cur);
	}

	wr_t *w = wr_open(c->out, 0);
	wr_puts(w, c->bootp ? "set\tauroc\tauprc\tdelta_auroc\tci_lo\tci_hi\tboot_p\n"
			    : "set\tauroc\tauprc\tdelta_auroc\tci_lo\tci_hi\n");
	for (int s = 0; s < c->nset; s++) {
		wr_puts(w, c->set[s].name);
		double v[6] = { au[s], ap[s], au[s] - au[0], lo[s], hi[s], bp[s] };
		for (int k = 0; k < 5 + c->bootp; k++) {
			wr_putc(w, '\t');
			wr_f64_na(w, v[k]);
		}
		wr_putc(w, '\n');
	}
	wr_close(w);
	for (int s = 0; s < c->nset; s++) {
		free(ss[s]);
		free(ys[s]);
		free(gs[s]);
		free(c->set[s].col);
		free(c->set[s].feat);
	}
	free(ss);
	free(ys);
	free(gs);
	free(ord);
	free(au);
	free(ap);
	free(lo);
	free(hi);
	free(bp);
	free(pred);
	free(gsize);
	free(gfold);
	free(X);
	free(y);
	free(gid);
	strtab_free(groups);
	tsv_close(t);
}

/* The model, split and metric options live in common/cvbench.c: hand the
 * rest of the configuration over. */
static void run_bench(conf_t *c, const char *path)
{
	cvbench_t *b = &c->bench;
	char *name[MAX_SETS];
	const char *cols[MAX_SETS];
	for (int s = 0; s < c->nset; s++) {
		name[s] = c->set[s].name;
		cols[s] = c->set[s].cols;
	}
	b->label = c->label;
	b->group = c->group;
	b->out = c->out;
	b->foldsout = c->foldsout;
	b->nset = c->nset;
	b->name = name;
	b->cols = cols;
	b->folds = c->folds;
	b->balanced = c->balanced;
	b->verbose = c->verbose;
	b->bootp = c->bootp;
	b->C = c->C;
	b->level = c->level;
	b->boot = c->boot;
	b->seed = c->seed;
	cvbench_run(b, path);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	conf_t c = { .folds = 5, .C = 1.0, .level = 0.95, .seed = 1, .bench.recall_k = 50 };
	model_opt_init(&c.bench.model, "logit");
	int ch;
	while ((ch = getopt_long(argc, argv, "vo:h", longopts, NULL)) != -1) {
		if (model_opt_parse(&c.bench.model, ch, optarg)) {
			c.bench_used = 1;
			continue;
		}
		switch (ch) {
		case OPT_SPLIT: c.bench.split = cvbench_split(optarg); c.bench_used = 1; break;
		case OPT_GROUP2: c.bench.group2 = optarg; c.bench_used = 1; break;
		case OPT_RECALLK: c.bench.recall_k = opt_int(optarg, "--recall-k", 1, INT64_MAX); c.bench_used = 1; break;
		case OPT_LONG: c.bench.longout = 1; c.bench_used = 1; break;
		case OPT_PREDOUT: c.bench.predout = optarg; c.bench_used = 1; break;
		case OPT_LABEL: c.label = optarg; break;
		case OPT_GROUP: c.group = optarg; break;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1])
				die_usage("--set: expected NAME=COL,COL,... (got '%s')", optarg);
			if (c.nset == MAX_SETS)
				die_usage("--set: at most %d sets", MAX_SETS);
			for (int s = 0; s < c.nset; s++)
				if (strlen(c.set[s].name) == (size_t)(eq - optarg) &&
				    !strncmp(c.set[s].name, optarg, (size_t)(eq - optarg)))
					die_usage("--set: name '%s' given twice", c.set[s].name);
			c.set[c.nset].name = xstrndup(optarg, (size_t)(eq - optarg));
			c.set[c.nset++].cols = eq + 1;
			break;
		}
		case OPT_FOLDS: c.folds = (int)opt_int(optarg, "--folds", 2, 1000000); break;
		case OPT_C:
			c.C = opt_double(optarg, "--C");
			if (!(c.C > 0))
				die_usage("--C: %s is not positive", optarg);
			break;
		case OPT_BAL: c.balanced = 1; break;
		case OPT_BOOT: c.boot = opt_int(optarg, "--bootstrap", 1, 100000000); break;
		case OPT_SEED: c.seed = (uint64_t)opt_int(optarg, "--seed", 0, INT64_MAX); break;
		case OPT_LEVEL:
			c.level = opt_double(optarg, "--ci-level");
			if (!(c.level > 0 && c.level < 1))
				die_usage("--ci-level: %s is not between 0 and 1", optarg);
			break;
		case OPT_FOLDSOUT: c.foldsout = optarg; break;
		case OPT_BOOTP: c.bootp = 1; break;
		case 'v': c.verbose = 1; break;
		case 'o': c.out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!c.label || !c.group || c.nset == 0)
		die_usage("--label, --group and at least one --set are required");
	if (argc - optind > 1)
		die_usage("at most one input FILE");
	if (c.bench_used)
		run_bench(&c, optind < argc ? argv[optind] : "-");
	else
		run(&c, optind < argc ? argv[optind] : "-");
	for (int s = 0; s < c.nset; s++)
		free(c.set[s].name);
	return 0;
}
