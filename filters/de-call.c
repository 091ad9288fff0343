/* de-call: for each perturbation (value of a cells-table column) against
 * control cells, per gene: means, log fold change, Welch t or Mann-Whitney U
 * test, Benjamini-Hochberg within the perturbation, and a DE call. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "expr.h"
#include "rank.h"
#include "h5mat.h"
#include "stats.h"
#include "opt.h"
#include "out.h"
#include "strtab.h"
#include "xalloc.h"

static const char usage[] =
	"usage: de-call --counts FILE [--genes FILE] [--cells FILE] [--where COL=VALUE]...\n"
	"               [--no-normalize] --group COL --control VALUE|rest [--test welch|mwu]\n"
	"               [--lfc X] [--alpha A] [--min-cells N] [-o OUT]\n"
	"\n"
	"For each value of COL other than the control, per gene: perturbation gene n_pert\n"
	"n_ctrl mean_pert mean_ctrl lfc stat p q de, on log1p(counts per 10,000).\n"
	"COL may hold comma-separated lists (high-MOI screens): a cell then belongs to\n"
	"every perturbation it lists; control cells are those whose list is only VALUE,\n"
	"or with '--control rest' all cells not carrying the perturbation.\n"
	"\n"
	EXPR_USAGE
	"  --group COL          cells-table column naming each cell's perturbation(s)\n"
	"  --control V          control value, or 'rest'\n"
	"  --test T             welch (Welch's t-test) or mwu (Mann-Whitney U, normal\n"
	"                       approximation with tie and continuity corrections) [welch]\n"
	"  --lfc X              |lfc| threshold of the DE call [0.5]\n"
	"  --alpha A            q threshold of the DE call [0.05]\n"
	"  --min-cells N        skip (and report) perturbations with fewer perturbed or\n"
	"                       control cells [30]\n"
	"  -o FILE              output [stdout]; .gz compresses\n"
	"  -h, --help           this text\n";

enum { OPT_GROUP = 256, OPT_CONTROL, OPT_TEST, OPT_LFC, OPT_ALPHA, OPT_MINCELLS };

static const struct option longopts[] = {
	EXPR_LONGOPTS,
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "test", required_argument, NULL, OPT_TEST },
	{ "lfc", required_argument, NULL, OPT_LFC },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "min-cells", required_argument, NULL, OPT_MINCELLS },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

enum { G_NONE = 0, G_PERT = 1, G_CTRL = 2 };

/* Who carries what: per perturbation, its cells (sorted by name). */
typedef struct {
	int64_t npert;
	char **name;
	int64_t *ptr;       /* cells of perturbation p: cells[ptr[p] .. ptr[p+1]) */
	int64_t *cells;
	int32_t *base;      /* per cell: G_CTRL for control cells, else G_NONE */
	int64_t nctrl;      /* cells whose list is only the control value */
} design_t;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Kept reachable for valgrind when die() leaves design_build (noreturn). */
static void *volatile park[4];

static void design_build(design_t *d, const expr_t *e, const char *col, const char *control)
{
	int gc = expr_col(e, col, "--group");
	int rest = strcmp(control, "rest") == 0;
	strtab_t *t = park[0] = strtab_new();
	/* pass 1: names, and (cell, perturbation) memberships */
	int64_t cap = 1024, nm = 0;
	int64_t *mc = park[1] = xmallocarray((size_t)cap, sizeof *mc);
	int64_t *mp = park[2] = xmallocarray((size_t)cap, sizeof *mp);
	d->base = xmallocarray((size_t)e->ncells, sizeof *d->base);
	d->nctrl = 0;
	for (int64_t c = 0; c < e->ncells; c++) {
		const char *f = expr_field(e, c, gc);
		int only_ctrl = 1, items = 0;
		while (*f) {
			size_t len = strcspn(f, ",");
			if (len) {
				items++;
				if (!rest && strlen(control) == len && strncmp(f, control, len) == 0) {
					;
				} else {
					only_ctrl = 0;
					int added;
					int64_t id = strtab_put(t, f, len, &added);
					/* a list naming a perturbation twice counts once */
					int dup = 0;
					for (int64_t k = nm - 1; k >= 0 && mc[k] == c && !dup; k--)
						dup = mp[k] == id;
					if (!dup) {
						if (nm == cap) {
							cap *= 2;
							mc = park[1] = xreallocarray(mc, (size_t)cap, sizeof *mc);
							mp = park[2] = xreallocarray(mp, (size_t)cap, sizeof *mp);
						}
						mc[nm] = c;
						mp[nm++] = id;
					}
				}
			}
			f += len;
			if (*f == ',')
				f++;
		}
		int is_ctrl = rest ? 0 : (items > 0 && only_ctrl);
		d->base[c] = is_ctrl ? G_CTRL : G_NONE;
		d->nctrl += is_ctrl;
	}
	if (!rest && d->nctrl == 0) {
		char list[400];
		size_t len = 0;
		list[0] = '\0';
		for (int64_t i = 0; i < strtab_size(t) && len + 60 < sizeof list; i++)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%.50s", i ? ", " : "", strtab_str(t, i));
		die("%s: no control cell: no cell's '%s' is only '%s' (values: %s%s)", e->cells_src, col, control,
		    list, len + 60 >= sizeof list ? ", ..." : "");
	}
	/* sort perturbations by name; renumber */
	int64_t np = strtab_size(t);
	char **names = xmallocarray((size_t)(np ? np : 1), sizeof *names);
	for (int64_t i = 0; i < np; i++)
		names[i] = xstrdup(strtab_str(t, i));
	qsort(names, (size_t)np, sizeof *names, cmp_str);
	int64_t *newid = xmallocarray((size_t)(np ? np : 1), sizeof *newid);
	for (int64_t i = 0; i < np; i++)
		newid[strtab_get(t, names[i], strlen(names[i]))] = i;
	d->npert = np;
	d->name = names;
	d->ptr = xcalloc((size_t)np + 1, sizeof *d->ptr);
	for (int64_t k = 0; k < nm; k++)
		d->ptr[newid[mp[k]] + 1]++;
	for (int64_t p = 0; p < np; p++)
		d->ptr[p + 1] += d->ptr[p];
	d->cells = xmallocarray((size_t)(nm ? nm : 1), sizeof *d->cells);
	int64_t *fill = xmallocarray((size_t)np + 1, sizeof *fill);
	memcpy(fill, d->ptr, ((size_t)np + 1) * sizeof *fill);
	for (int64_t k = 0; k < nm; k++)
		d->cells[fill[newid[mp[k]]]++] = mc[k];
	free(fill);
	free(newid);
	free(mc);
	free(mp);
	strtab_free(t);
}

static void design_free(design_t *d)
{
	for (int64_t p = 0; p < d->npert; p++)
		free(d->name[p]);
	free(d->name);
	free(d->ptr);
	free(d->cells);
	free(d->base);
}

typedef struct {
	int mwu;
	double lfc, alpha;
	int64_t min_cells;
} params_t;

/* U of the perturbed cells and the tie term, from gene g's non-zero values
 * in both groups; zeros form one tie block. */
static double mwu_gene(const expr_t *e, int64_t g, const int32_t *grp, int64_t n1, int64_t n2,
		       double *vals, int32_t *who, double *rk, double *tie)
{
	int64_t k = 0, k1 = 0;
	for (int64_t i = e->ptr[g]; i < e->ptr[g + 1]; i++) {
		int32_t q = grp[e->cell[i]];
		if (q == G_NONE)
			continue;
		vals[k] = e->val[i];
		who[k++] = q;
		k1 += q == G_PERT;
	}
	double zr;
	*tie = rank_mid_sparse(vals, k, n1 + n2, rk, &zr);
	double r1 = (double)(n1 - k1) * zr;
	for (int64_t i = 0; i < k; i++)
		if (who[i] == G_PERT)
			r1 += rk[i];
	return r1 - (double)n1 * (double)(n1 + 1) / 2;
}

/* Group means and variances per gene: the perturbed cells' through their
 * own entries; fixed controls once (ctrl_m/ctrl_v), "rest" per perturbation. */
typedef struct {
	const double *ctrl_m, *ctrl_v;   /* NULL with --control rest */
	const int64_t *pert_cells;
} groups_t;

static void test_one(wr_t *w, expr_t *e, const char *pname, const int32_t *grp, int64_t n1,
		     int64_t n2, const groups_t *gs, const params_t *P, double *scratch, int32_t *who)
{
	int64_t G = e->ngenes;
	double *m1 = xmallocarray((size_t)G, sizeof *m1), *m2 = xmallocarray((size_t)G, sizeof *m2);
	double *v1 = xmallocarray((size_t)G, sizeof *v1), *v2 = xmallocarray((size_t)G, sizeof *v2);
	double *st = xmallocarray((size_t)G, sizeof *st), *p = xmallocarray((size_t)G, sizeof *p);
	double *q = xmallocarray((size_t)G, sizeof *q);
	expr_moments_cells(e, gs->pert_cells, n1, m1, v1);
	for (int64_t g = 0; g < G; g++) {
		if (gs->ctrl_m) {
			m2[g] = gs->ctrl_m[g];
			v2[g] = gs->ctrl_v[g];
		} else {
			expr_moments(e, g, grp, G_CTRL, n2, &m2[g], &v2[g]);
		}
		if (P->mwu) {
			double tie;
			st[g] = mwu_gene(e, g, grp, n1, n2, scratch, who, scratch + e->ncells, &tie);
			p[g] = mwu_p_normal(st[g], (double)n1, (double)n2, tie, 1);
		} else {
			double df;
			welch_moments(m1[g], v1[g], (double)n1, m2[g], v2[g], (double)n2, &st[g], &df, &p[g]);
		}
	}
	fdr_adjust_nan(p, G, FDR_BH, q);
	for (int64_t g = 0; g < G; g++) {
		double lfc = m1[g] - m2[g];
		int de = !isnan(q[g]) && q[g] < P->alpha && fabs(lfc) >= P->lfc;
		wr_puts(w, pname);
		wr_putc(w, '\t');
		wr_puts(w, e->genes[g]);
		wr_putc(w, '\t');
		wr_i64(w, n1);
		wr_putc(w, '\t');
		wr_i64(w, n2);
		wr_putc(w, '\t');
		wr_f64(w, m1[g]);
		wr_putc(w, '\t');
		wr_f64(w, m2[g]);
		wr_putc(w, '\t');
		wr_f64(w, lfc);
		wr_putc(w, '\t');
		wr_f64(w, st[g]);
		wr_putc(w, '\t');
		wr_f64(w, p[g]);
		wr_putc(w, '\t');
		wr_f64(w, q[g]);
		wr_putc(w, '\t');
		wr_putc(w, de ? '1' : '0');
		wr_putc(w, '\n');
	}
	free(m1);
	free(m2);
	free(v1);
	free(v2);
	free(st);
	free(p);
	free(q);
}

static void run(wr_t *w, expr_t *e, const design_t *d, int rest, const params_t *P)
{
	double *cm = NULL, *cv = NULL;
	if (!rest) {
		int64_t *ctrl = xmallocarray((size_t)(d->nctrl ? d->nctrl : 1), sizeof *ctrl), k = 0;
		for (int64_t c = 0; c < e->ncells; c++)
			if (d->base[c] == G_CTRL)
				ctrl[k++] = c;
		cm = xmallocarray((size_t)e->ngenes, sizeof *cm);
		cv = xmallocarray((size_t)e->ngenes, sizeof *cv);
		expr_moments_cells(e, ctrl, k, cm, cv);
		free(ctrl);
	}
	int32_t *grp = xmallocarray((size_t)e->ncells, sizeof *grp);
	double *scratch = xmallocarray(2 * (size_t)e->ncells, sizeof *scratch);
	int32_t *who = xmallocarray((size_t)e->ncells, sizeof *who);
	int64_t tested = 0;
	for (int64_t c = 0; c < e->ncells; c++)
		grp[c] = rest ? G_CTRL : d->base[c];
	wr_puts(w, "perturbation\tgene\tn_pert\tn_ctrl\tmean_pert\tmean_ctrl\tlfc\tstat\tp\tq\tde\n");
	for (int64_t p = 0; p < d->npert; p++) {
		int64_t a = d->ptr[p], b = d->ptr[p + 1];
		int64_t n1 = b - a, n2 = rest ? e->ncells - n1 : d->nctrl;
		if (n1 < P->min_cells || n2 < P->min_cells) {
			warn("perturbation '%s': %lld perturbed and %lld control cells (< --min-cells %lld), skipped",
			     d->name[p], (long long)n1, (long long)n2, (long long)P->min_cells);
			continue;
		}
		for (int64_t k = a; k < b; k++)
			grp[d->cells[k]] = G_PERT;
		groups_t gs = { cm, cv, d->cells + a };
		test_one(w, e, d->name[p], grp, n1, n2, &gs, P, scratch, who);
		for (int64_t k = a; k < b; k++)
			grp[d->cells[k]] = rest ? G_CTRL : d->base[d->cells[k]];
		tested++;
	}
	if (tested == 0)
		warn("no perturbation has --min-cells %lld cells; nothing tested", (long long)P->min_cells);
	free(grp);
	free(scratch);
	free(who);
	free(cm);
	free(cv);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	expr_opts_t o;
	expr_opts_init(&o);
	const char *group = NULL, *control = NULL, *out = NULL;
	params_t P = { .mwu = 0, .lfc = 0.5, .alpha = 0.05, .min_cells = 30 };
	int c;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (expr_getopt(&o, c, optarg))
			continue;
		switch (c) {
		case OPT_GROUP: group = optarg; break;
		case OPT_CONTROL: control = optarg; break;
		case OPT_TEST:
			if (strcmp(optarg, "welch") == 0) P.mwu = 0;
			else if (strcmp(optarg, "mwu") == 0) P.mwu = 1;
			else die_usage("--test: '%s' is not welch or mwu", optarg);
			break;
		case OPT_LFC:
			P.lfc = opt_double(optarg, "--lfc");
			if (P.lfc < 0)
				die_usage("--lfc: %s is negative", optarg);
			break;
		case OPT_ALPHA:
			P.alpha = opt_double(optarg, "--alpha");
			if (P.alpha <= 0 || P.alpha > 1)
				die_usage("--alpha: %s is not in (0, 1]", optarg);
			break;
		case OPT_MINCELLS: P.min_cells = opt_int(optarg, "--min-cells", 2, INT64_MAX); break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!o.counts)
		die_usage("--counts FILE is required");
	if (!o.cells && !h5_is_spec(o.counts))
		die_usage("--cells FILE is required (HDF5 counts bring their own: obs)");
	if (!group)
		die_usage("--group COL is required");
	if (!control)
		die_usage("--control VALUE (or 'rest') is required");

	expr_t *e = expr_load(&o);
	design_t d;
	design_build(&d, e, group, control);
	wr_t *w = wr_open(out, 0);
	run(w, e, &d, strcmp(control, "rest") == 0, &P);
	wr_close(w);
	design_free(&d);
	free(o.where);
	expr_free(e);
	return 0;
}
