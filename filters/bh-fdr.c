/* bh-fdr: Benjamini-Hochberg (or -Yekutieli) q-values over a registry of
 * tests, per family of rows; rows pass through in their order with `q` and
 * `significant` appended. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "groupby.h"
#include "opt.h"
#include "out.h"
#include "rowstore.h"
#include "stats.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: bh-fdr --p COL [--by COL,...] [--alpha A] [--method bh|by] [-o OUT] [FILE]\n"
	"\n"
	"Appends q (adjusted p-value) and significant (1 when q <= alpha, else 0) to every\n"
	"row, keeping the row order. Each family (distinct values of the --by columns;\n"
	"everything without --by) is adjusted on its own, with m = its number of\n"
	"non-missing p-values. Missing p (empty, NA, nan) gives q and significant NA.\n"
	"\n"
	"  --p COL          p-value column (values in [0, 1])\n"
	"  --by COL,...     families of tests\n"
	"  --alpha A        FDR level for the significant column [0.05]\n"
	"  --method M       bh: Benjamini-Hochberg; by: Benjamini-Yekutieli [bh]\n"
	"  -o FILE          write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help       this text\n";

enum { OPT_P = 256, OPT_BY, OPT_ALPHA, OPT_METHOD };

static const struct option longopts[] = {
	{ "p", required_argument, NULL, OPT_P },
	{ "by", required_argument, NULL, OPT_BY },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "method", required_argument, NULL, OPT_METHOD },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

static void run(const char *path, const char *pcol, const char *by, double alpha, int method,
		const char *out)
{
	tsv_t *t = tsv_open(path);
	int cp = tsv_col(t, pcol);
	for (int i = 0; i < t->ncol; i++)
		if (strcmp(t->names[i], "q") == 0 || strcmp(t->names[i], "significant") == 0)
			die("%s:1: the input already has a column '%s' (drop or rename it first)",
			    tsv_name(t), t->names[i]);
	groupby_t *g = groupby_new(t, by);
	rowstore_t rs = { 0 };
	int64_t n = 0, cap = 0;
	double *p = NULL;
	int64_t *gid = NULL;
	while (tsv_next(t)) {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			p = xreallocarray(p, (size_t)cap, sizeof *p);
			gid = xreallocarray(gid, (size_t)cap, sizeof *gid);
		}
		double v;
		if (tsv_num_na(t, cp, &v) && !(v >= 0 && v <= 1))
			tsv_die(t, cp, "\"%s\" is not a p-value in [0, 1]", tsv_str(t, cp));
		p[n] = v;
		gid[n] = groupby_row(g, t);
		rowstore_add(&rs, t);
		n++;
	}

	if (n == 0)
		die("%s: header only, no data rows", tsv_name(t));

	/* Families: gather each one's non-missing p, adjust, scatter back. */
	int64_t ng = groupby_count(g);
	int64_t *start, *rows;
	group_index(gid, n, ng, &start, &rows);
	free(gid);
	double *q = xmallocarray((size_t)(n ? n : 1), sizeof *q);
	double *gp = xmallocarray((size_t)(n ? n : 1), sizeof *gp);
	double *gq = xmallocarray((size_t)(n ? n : 1), sizeof *gq);
	int64_t *gi = xmallocarray((size_t)(n ? n : 1), sizeof *gi);
	for (int64_t k = 0; k < ng; k++) {
		int64_t m = 0;
		for (int64_t j = start[k]; j < start[k + 1]; j++) {
			int64_t i = rows[j];
			q[i] = NAN;
			if (!isnan(p[i])) {
				gp[m] = p[i];
				gi[m++] = i;
			}
		}
		fdr_adjust(gp, m, method, gq);
		for (int64_t j = 0; j < m; j++)
			q[gi[j]] = gq[j];
	}
	free(gp);
	free(gq);
	free(gi);
	free(start);
	free(rows);

	wr_t *w = wr_open(out, 0);
	tsv_write_header(w, t);
	wr_puts(w, "\tq\tsignificant\n");
	for (int64_t i = 0; i < n; i++) {
		wr_puts(w, rs.line[i]);
		if (isnan(q[i])) {
			wr_puts(w, "\tNA\tNA\n");
			continue;
		}
		wr_putc(w, '\t');
		wr_f64(w, q[i]);
		wr_puts(w, q[i] <= alpha ? "\t1\n" : "\t0\n");
	}
	wr_close(w);
	rowstore_free(&rs);
	free(p);
	free(q);
	groupby_free(g);
	tsv_close(t);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	const char *pcol = NULL, *by = NULL, *out = NULL;
	double alpha = 0.05;
	int method = FDR_BH, ch;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_P: pcol = optarg; break;
		case OPT_BY: by = optarg; break;
		case OPT_ALPHA:
			alpha = opt_double(optarg, "--alpha");
			if (!(alpha > 0 && alpha < 1))
				die_usage("--alpha: %s is not between 0 and 1", optarg);
			break;
		case OPT_METHOD:
			if (strcmp(optarg, "bh") == 0)
				method = FDR_BH;
			else if (strcmp(optarg, "by") == 0)
				method = FDR_BY;
			else
				die_usage("--method: unknown method '%s' (bh, by)", optarg);
			break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!pcol)
		die_usage("--p COL is required");
	if (argc - optind > 1)
		die_usage("at most one input FILE");
	run(optind < argc ? argv[optind] : "-", pcol, by, alpha, method, out);
	return 0;
}
