/* logit-cv: does a feature set add anything? Grouped K-fold cross-validated
 * L2 logistic regression for several feature sets on the same folds;
 * AUROC/AUPRC of the out-of-fold predictions, the AUROC gain over the first
 * set, and a bootstrap over groups. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvbench.h"
#include "err.h"
#include "gbdt.h"
#include "opt.h"
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

enum { OPT_LABEL = 256, OPT_GROUP, OPT_SET, OPT_FOLDS, OPT_C, OPT_BAL, OPT_BOOT,
       OPT_LEVEL, OPT_FOLDSOUT, OPT_BOOTP, OPT_SPLIT, OPT_GROUP2, OPT_RECALLK, OPT_LONG, OPT_PREDOUT };

static const struct option longopts[] = {
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "set", required_argument, NULL, OPT_SET },
	{ "folds", required_argument, NULL, OPT_FOLDS },
	{ "C", required_argument, NULL, OPT_C },
	{ "balanced", no_argument, NULL, OPT_BAL },
	{ "bootstrap", required_argument, NULL, OPT_BOOT },
	OPT_LONG_SEED,
	{ "ci-level", required_argument, NULL, OPT_LEVEL },
	{ "folds-out", required_argument, NULL, OPT_FOLDSOUT },
	{ "boot-p", no_argument, NULL, OPT_BOOTP },
	MODEL_LONGOPTS,
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "group2", required_argument, NULL, OPT_GROUP2 },
	{ "recall-k", required_argument, NULL, OPT_RECALLK },
	{ "long", no_argument, NULL, OPT_LONG },
	{ "pred-out", required_argument, NULL, OPT_PREDOUT },
	OPT_LONG_VERBOSE,
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

#define MAX_SETS 64

typedef struct fset {
	char *name;
	char *cols;
} fset_t;

typedef struct conf {
	const char *label, *group, *out, *foldsout;
	fset_t set[MAX_SETS];
	int nset, folds, balanced, verbose, bootp;
	double C, level;
	int64_t boot;
	uint64_t seed;
	cvbench_t bench; /* the model, split and metric options */
} conf_t;

/* The engine (row reading, folds, models, metrics, bootstrap) is
 * common/cvbench.c; the default output is its wide table. */
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
		if (model_opt_parse(&c.bench.model, ch, optarg))
			continue;
		switch (ch) {
		case OPT_SPLIT: c.bench.split = cvbench_split(optarg); break;
		case OPT_GROUP2: c.bench.group2 = optarg; break;
		case OPT_RECALLK: c.bench.recall_k = opt_int(optarg, "--recall-k", 1, INT64_MAX); break;
		case OPT_LONG: c.bench.longout = 1; break;
		case OPT_PREDOUT: c.bench.predout = optarg; break;
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
		case OPT_STD_SEED: c.seed = opt_seed(optarg); break;
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
	run_bench(&c, optind < argc ? argv[optind] : "-");
	for (int s = 0; s < c.nset; s++)
		free(c.set[s].name);
	return 0;
}
