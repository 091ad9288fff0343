/* fm-sim: write simulated foundation models with planted structure, in the
 * model-directory layout the pipelines read. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "opt.h"
#include "sim.h"

static const char usage[] =
	"usage: fm-sim --out DIR [--seed S] [--genes N] [--layers L] [--code C] [--categories K]\n"
	"\n"
	"Writes 4 simulated models (alpha, alpha2: family A; beta: family B, Ensembl ids;\n"
	"gamma: family C) to DIR/MODEL/ (meta.tsv, genes.txt, layerL.wq.npy, layerL.wk.npy,\n"
	"resid/catK/layerL.npy), and DIR/shared_pairs.tsv, reference.tsv, id_map.tsv,\n"
	"families.tsv.\n"
	"\n"
	"  --out DIR         output directory (created)\n"
	"  --seed S          random seed [1]\n"
	"  --genes N         gene universe size [300]\n"
	"  --layers L        layers per model [6]\n"
	"  --code C          code width per head; d_model = 8 C [16]\n"
	"  --categories K    cell categories per model [2]\n"
	"  -h, --help        this text\n";

static const struct option longopts[] = {
	{ "out", required_argument, NULL, 'O' },
	{ "seed", required_argument, NULL, 's' },
	{ "genes", required_argument, NULL, 'g' },
	{ "layers", required_argument, NULL, 'l' },
	{ "code", required_argument, NULL, 'c' },
	{ "categories", required_argument, NULL, 'k' },
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	err_init(argv[0]);
	sim_opts_t o = { .seed = 1, .genes = 300, .layers = 6, .code = 16, .categories = 2 };
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'O': o.out = optarg; break;
		case 's': o.seed = opt_seed(optarg); break;
		case 'g': o.genes = (int)opt_int(optarg, "--genes", 1, 1000000); break;
		case 'l': o.layers = (int)opt_int(optarg, "--layers", 1, 1000); break;
		case 'c': o.code = (int)opt_int(optarg, "--code", 12, 64); break;
		case 'k': o.categories = (int)opt_int(optarg, "--categories", 1, 100); break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind != argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!o.out)
		die_usage("--out DIR is required");
	sim_write(&o);
	return 0;
}
