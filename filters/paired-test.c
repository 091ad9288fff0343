/* paired-test: per group, compare two paired columns (method a vs method b
 * over the same items): means, Wilcoxon signed-rank test, paired t-test and
 * the standardised mean difference. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "groupby.h"
#include "opt.h"
#include "out.h"
#include "signrank.h"
#include "stats.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: paired-test --a COL --b COL [--by COL,...] [-o OUT] [FILE]\n"
	"\n"
	"Per group (all rows without --by), over the rows where both columns are present:\n"
	"n mean_a mean_b mean_diff (d = a - b) wilcoxon_stat wilcoxon_p (signed-rank,\n"
	"two-sided, zero differences split) t_stat t_p (paired t-test) cohen_d (mean(d)/sd(d)).\n"
	"\n"
	"  --a COL, --b COL   the paired columns; rows with either missing are skipped\n"
	"  --by COL,...       one output row per distinct combination of these columns\n"
	"  -o FILE            write to FILE (gzip if it ends in .gz) [stdout]\n"
	"  -h, --help         this text\n";

enum { OPT_A = 256, OPT_B, OPT_BY };

static const struct option longopts[] = {
	{ "a", required_argument, NULL, OPT_A },
	{ "b", required_argument, NULL, OPT_B },
	{ "by", required_argument, NULL, OPT_BY },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

static void put_num(wr_t *w, double x)
{
	wr_putc(w, '\t');
	wr_f64_na(w, x);
}

static void run(const char *path, const char *acol, const char *bcol, const char *by, const char *out)
{
	tsv_t *t = tsv_open(path);
	int ca = tsv_col(t, acol), cb = tsv_col(t, bcol);
	groupby_t *g = groupby_new(t, by);
	int64_t n = 0, cap = 0, skipped = 0;
	double *a = NULL, *b = NULL;
	int64_t *gid = NULL;
	while (tsv_next(t)) {
		/* The key first: a group whose rows are all incomplete still gets a line. */
		int64_t k = groupby_row(g, t);
		int na = 0;
		double va = tsv_finite_na(t, ca, &na), vb = tsv_finite_na(t, cb, &na);
		if (na) {
			skipped++;
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			a = xreallocarray(a, (size_t)cap, sizeof *a);
			b = xreallocarray(b, (size_t)cap, sizeof *b);
			gid = xreallocarray(gid, (size_t)cap, sizeof *gid);
		}
		a[n] = va;
		b[n] = vb;
		gid[n++] = k;
	}
	if (n + skipped == 0)
		die("%s: header only, no data rows", tsv_name(t));
	if (skipped)
		warn("%s: %lld rows with a missing value skipped", tsv_name(t), (long long)skipped);

	int64_t ng = groupby_count(g), *start, *rows;
	group_index(gid, n, ng, &start, &rows);
	size_t sz = (size_t)(n ? n : 1);
	double *ga = xmallocarray(sz, sizeof *ga), *gb = xmallocarray(sz, sizeof *gb);
	double *d = xmallocarray(sz, sizeof *d);

	wr_t *w = wr_open(out, 0);
	groupby_write_header(g, t, w);
	wr_puts(w, "n\tmean_a\tmean_b\tmean_diff\twilcoxon_stat\twilcoxon_p\tt_stat\tt_p\tcohen_d\n");
	for (int64_t k = 0; k < ng; k++) {
		int64_t m = start[k + 1] - start[k];
		for (int64_t j = 0; j < m; j++) {
			int64_t i = rows[start[k] + j];
			ga[j] = a[i];
			gb[j] = b[i];
			d[j] = a[i] - b[i];
		}
		wilcoxon_res_t wx = wilcoxon_signed_rank(d, m);
		ttest_res_t tt = ttest_one(d, m);
		groupby_write_key(g, k, w);
		wr_i64(w, m);
		put_num(w, mean_np(ga, m));
		put_num(w, mean_np(gb, m));
		put_num(w, tt.mean);
		put_num(w, wx.stat);
		put_num(w, wx.p);
		put_num(w, tt.t);
		put_num(w, tt.p);
		put_num(w, tt.mean / tt.sd);
		wr_putc(w, '\n');
	}
	wr_close(w);
	free(ga);
	free(gb);
	free(d);
	free(a);
	free(b);
	free(gid);
	free(start);
	free(rows);
	groupby_free(g);
	tsv_close(t);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	const char *acol = NULL, *bcol = NULL, *by = NULL, *out = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_A: acol = optarg; break;
		case OPT_B: bcol = optarg; break;
		case OPT_BY: by = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (!acol || !bcol)
		die_usage("--a COL and --b COL are required");
	if (argc - optind > 1)
		die_usage("at most one input FILE");
	run(optind < argc ? argv[optind] : "-", acol, bcol, by, out);
	return 0;
}
