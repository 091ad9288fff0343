/* gene-stats: per-gene mean, variance and dropout of expression over the
 * selected cells (the trivial baselines), optionally ranked as highly
 * variable genes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "expr.h"
#include "opt.h"
#include "out.h"
#include "xalloc.h"

static const char usage[] =
	"usage: gene-stats --counts FILE [--genes FILE] [--cells FILE] [--where COL=VALUE]...\n"
	"                  [--no-normalize] [--hvg N [--force FILE]] [-o OUT]\n"
	"\n"
	"Per gene over the selected cells: gene mean var dropout n_cells [hvg_rank].\n"
	"mean and var (sample variance, ddof 1) of log1p(counts per 10,000); dropout =\n"
	"fraction of the selected cells with a zero count; n_cells = selected cells.\n"
	"\n"
	EXPR_USAGE
	"  --hvg N              add hvg_rank: rank by variance (1 = highest) of the top N\n"
	"                       genes and of the forced ones, NA for the others\n"
	"  --force FILE         genes always selected with --hvg (one name per line)\n"
	"  -o FILE              output [stdout]; .gz compresses\n"
	"  -h, --help           this text\n";

enum { OPT_HVG = 256, OPT_FORCE };

static const struct option longopts[] = {
	EXPR_LONGOPTS,
	{ "hvg", required_argument, NULL, OPT_HVG },
	{ "force", required_argument, NULL, OPT_FORCE },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

static void write_stats(wr_t *w, const expr_t *e, const int64_t *rank, const uint8_t *sel)
{
	wr_puts(w, rank ? "gene\tmean\tvar\tdropout\tn_cells\thvg_rank\n" : "gene\tmean\tvar\tdropout\tn_cells\n");
	for (int64_t g = 0; g < e->ngenes; g++) {
		double mean, var;
		expr_moments(e, g, NULL, 0, e->ncells, &mean, &var);
		int64_t nz = e->ptr[g + 1] - e->ptr[g];
		wr_puts(w, e->genes[g]);
		wr_putc(w, '\t');
		wr_f64(w, mean);
		wr_putc(w, '\t');
		wr_f64(w, var);
		wr_putc(w, '\t');
		wr_f64(w, (double)(e->ncells - nz) / (double)e->ncells);
		wr_putc(w, '\t');
		wr_i64(w, e->ncells);
		if (rank) {
			wr_putc(w, '\t');
			if (sel[g])
				wr_i64(w, rank[g]);
			else
				wr_puts(w, "NA");
		}
		wr_putc(w, '\n');
	}
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	expr_opts_t o;
	expr_opts_init(&o);
	long long hvg = -1;
	const char *force = NULL, *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (expr_getopt(&o, c, optarg))
			continue;
		switch (c) {
		case OPT_HVG: hvg = opt_int(optarg, "--hvg", 1, INT64_MAX); break;
		case OPT_FORCE: force = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!o.counts)
		die_usage("--counts FILE is required");
	if (force && hvg < 0)
		die_usage("--force needs --hvg N");

	expr_t *e = expr_load(&o);
	/* The sample variance of one cell is 0/0: a var column of nan would
	 * pass as numbers downstream (and rank no HVG). */
	if (e->ncells < 2) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s: %lld cell%s selected; variance (and the HVG ranking) needs at least 2 cells",
			 e->src, (long long)e->ncells, e->ncells == 1 ? "" : "s");
		expr_free(e);
		free(o.where);
		die("%s", msg);
	}
	int64_t *rank = NULL, *forced = NULL, nforced = 0;
	uint8_t *sel = NULL;
	if (hvg >= 0) {
		if (force)
			nforced = expr_gene_list(e, force, &forced);
		rank = xmallocarray((size_t)(e->ngenes ? e->ngenes : 1), sizeof *rank);
		sel = xmalloc((size_t)(e->ngenes ? e->ngenes : 1));
		expr_hvg(e, hvg, forced, nforced, rank, sel);
	}
	wr_t *w = wr_open(out, 0);
	write_stats(w, e, rank, sel);
	wr_close(w);
	free(rank);
	free(sel);
	free(forced);
	free(o.where);
	expr_free(e);
	return 0;
}
