#include "cvbench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "folds.h"
#include "logit.h"
#include "metrics.h"
#include "out.h"
#include "sort.h"
#include "rng.h"
#include "select.h"
#include "stats.h"
#include "strtab.h"
#include "tsv.h"
#include "tsvlabel.h"
#include "xalloc.h"

static const char *const split_names[] = { "perturbation", "gene", "joint" };
enum { NMETRIC = 3 };
static const char *const metric_names[NMETRIC] = { "auroc", "auprc", "recall_at_k" };

int cvbench_split(const char *arg)
{
	for (int s = 0; s < 3; s++)
		if (!strcmp(arg, split_names[s]))
			return s;
	die_usage("--split: expected perturbation, gene or joint (got '%s')", arg);
}

void cvrows_read(tsv_t *t, int cl, int cg, int cg2, const int *fcol, int nf, const char *what, cvrows_t *d)
{
	memset(d, 0, sizeof *d);
	d->nf = nf;
	d->groups = strtab_new();
	d->groups2 = cg2 >= 0 ? strtab_new() : NULL;
	int64_t cap = 0;
	while (tsv_next(t)) {
		d->total++;
		int lab = tsv_label(t, cl);
		if (d->n == cap) {
			cap = cap ? 2 * cap : 4096;
			d->X = xreallocarray(d->X, xmul((size_t)cap, (size_t)(nf ? nf : 1)), sizeof *d->X);
			d->y = xreallocarray(d->y, (size_t)cap, 1);
			d->gid = xreallocarray(d->gid, (size_t)cap, sizeof *d->gid);
			d->row = xreallocarray(d->row, (size_t)cap, sizeof *d->row);
			if (d->groups2)
				d->g2id = xreallocarray(d->g2id, (size_t)cap, sizeof *d->g2id);
		}
		int na = 0;
		for (int k = 0; k < nf; k++) {
			double v;
			if (!tsv_num_na(t, fcol[k], &v))
				na = 1;
			else if (!isfinite(v))
				tsv_die(t, fcol[k], "\"%s\" is not a finite number", tsv_str(t, fcol[k]));
			d->X[d->n * nf + k] = v;
		}
		if (na) {
			d->skipped++;
			continue;
		}
		const char *g = tsv_str(t, cg);
		d->gid[d->n] = strtab_put(d->groups, g, strlen(g), NULL);
		if (d->groups2) {
			g = tsv_str(t, cg2);
			d->g2id[d->n] = strtab_put(d->groups2, g, strlen(g), NULL);
		}
		d->row[d->n] = d->total - 1;
		d->y[d->n++] = (unsigned char)lab;
	}
	if (d->total == 0)
		die("%s: header only, no data rows", tsv_name(t));
	if (d->skipped)
		warn("%s: %lld rows with a missing %s skipped", tsv_name(t), (long long)d->skipped, what);
}

void cvrows_free(cvrows_t *d)
{
	free(d->X);
	free(d->y);
	free(d->gid);
	free(d->row);
	free(d->g2id);
	strtab_free(d->groups);
	strtab_free(d->groups2);
}

int *cvrows_group_folds(const cvrows_t *d, int second, int k, const char *file, const char *col)
{
	const strtab_t *names = second ? d->groups2 : d->groups;
	const int64_t *ids = second ? d->g2id : d->gid;
	int64_t ng = strtab_size(names);
	int64_t *size = xcalloc((size_t)(ng ? ng : 1), sizeof *size);
	int *gfold = xmallocarray((size_t)(ng ? ng : 1), sizeof *gfold);
	for (int64_t i = 0; i < d->n; i++)
		size[ids[i]]++;
	if (folds_grouped(names, size, ng, k, gfold) != 0)
		die("%s: column '%s' has %lld groups, fewer than %d folds", file, col, (long long)ng, k);
	free(size);
	return gfold;
}

static void write_group_folds(wr_t *w, const char *column, const strtab_t *st, const int *gfold)
{
	for (int64_t g = 0; g < strtab_size(st); g++) {
		if (column) {
			wr_puts(w, column);
			wr_putc(w, '\t');
		}
		wr_puts(w, strtab_str(st, g));
		wr_putc(w, '\t');
		wr_i64(w, gfold[g]);
		wr_putc(w, '\n');
	}
}

void cvrows_write_folds(const char *path, const strtab_t *groups, const int *gfold)
{
	wr_t *w = wr_open(path, 0);
	wr_puts(w, "group\tfold\n");
	write_group_folds(w, NULL, groups, gfold);
	wr_close(w);
}

/* The complete rows over the distinct feature columns of all sets. */
typedef struct data {
	cvrows_t r;
	char *name; /* the input's name for messages */
	int *setp;  /* features per set */
	int **feat; /* per set: index into the distinct columns */
} data_t;

static void read_rows(const cvbench_t *c, const char *path, data_t *d)
{
	memset(d, 0, sizeof *d);
	tsv_t *t = tsv_open(path);
	int cl = tsv_col(t, c->label), cg = tsv_col(t, c->group);
	int cg2 = c->group2 ? tsv_col(t, c->group2) : -1;
	int fcol[1024], nf = 0;
	d->setp = xmallocarray((size_t)c->nset, sizeof *d->setp);
	d->feat = xmallocarray((size_t)c->nset, sizeof *d->feat);
	for (int s = 0; s < c->nset; s++) {
		int *col;
		d->setp[s] = tsv_cols(t, c->cols[s], &col);
		d->feat[s] = xmallocarray((size_t)d->setp[s], sizeof **d->feat);
		for (int j = 0; j < d->setp[s]; j++) {
			int k = 0;
			while (k < nf && fcol[k] != col[j])
				k++;
			if (k == nf) {
				if (nf == 1024)
					die_usage("more than 1024 distinct feature columns");
				fcol[nf++] = col[j];
			}
			d->feat[s][j] = k;
		}
		free(col);
	}
	cvrows_read(t, cl, cg, cg2, fcol, nf, "feature", &d->r);
	d->name = xstrdup(tsv_name(t));
	int64_t npos = 0;
	for (int64_t i = 0; i < d->r.n; i++)
		npos += d->r.y[i];
	if (npos == 0 || npos == d->r.n)
		die("%s: the label has a single class over the %lld complete rows", tsv_name(t),
		    (long long)d->r.n);
	tsv_close(t);
}

static void data_free(data_t *d, int nset)
{
	for (int s = 0; s < nset; s++)
		free(d->feat[s]);
	free(d->feat);
	free(d->setp);
	free(d->name);
	cvrows_free(&d->r);
}

/* Row folds of the split design; returns the number of rows dropped. */
static int64_t assign_folds(const cvbench_t *c, const data_t *d, int *fold)
{
	const cvrows_t *r = &d->r;
	int *pf = NULL, *gf = NULL;
	if (c->split != SPLIT_GENE)
		pf = cvrows_group_folds(r, 0, c->folds, d->name, c->group);
	if (c->split != SPLIT_PERTURBATION)
		gf = cvrows_group_folds(r, 1, c->folds, d->name, c->group2);
	int64_t dropped = 0;
	for (int64_t i = 0; i < r->n; i++) {
		if (c->split == SPLIT_PERTURBATION)
			fold[i] = pf[r->gid[i]];
		else if (c->split == SPLIT_GENE)
			fold[i] = gf[r->g2id[i]];
		else if (pf[r->gid[i]] == gf[r->g2id[i]])
			fold[i] = pf[r->gid[i]];
		else {
			fold[i] = -1;
			dropped++;
		}
	}
	if (c->foldsout && c->split == SPLIT_JOINT) {
		wr_t *w = wr_open(c->foldsout, 0);
		wr_puts(w, "column\tgroup\tfold\n");
		write_group_folds(w, c->group, r->groups, pf);
		write_group_folds(w, c->group2, r->groups2, gf);
		wr_close(w);
	} else if (c->foldsout)
		cvrows_write_folds(c->foldsout, pf ? r->groups : r->groups2, pf ? pf : gf);
	free(pf);
	free(gf);
	return dropped;
}

/* As scikit-learn refuses it: a fit on a single class has no boundary.
 * Checked for every fold before any set is fitted. */
static void check_training_classes(const cvbench_t *c, const data_t *d, const int *fold)
{
	for (int f = 0; f < c->folds; f++) {
		int64_t m = 0, mpos = 0;
		for (int64_t i = 0; i < d->r.n; i++)
			if (fold[i] >= 0 && fold[i] != f) {
				m++;
				mpos += d->r.y[i];
			}
		if (mpos == 0 || mpos == m)
			die("%s: fold %d: the %lld training rows (the other folds) have a single class", d->name, f,
			    (long long)m);
	}
}

/* -v: one line per set and fold, with the fold's own test AUROC. */
static void report_fold(const data_t *d, const char *set, int f, const int *fold, const double *pred, int64_t m,
			int iters)
{
	int64_t n = d->r.n, nt = 0;
	double *sc = xmallocarray((size_t)(n ? n : 1), sizeof *sc);
	unsigned char *yl = xmalloc((size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++)
		if (fold[i] == f) {
			sc[nt] = pred[i];
			yl[nt++] = d->r.y[i];
		}
	fprintf(stderr, "logit-cv: set %s fold %d: %lld train, %lld test, auroc %.6f, %d Newton steps\n", set, f,
		(long long)m, (long long)nt, auroc(sc, yl, nt), iters);
	free(sc);
	free(yl);
}

/* Out-of-fold predictions of set s into pred (rows with fold >= 0). */
static void fit_set(const cvbench_t *c, const data_t *d, int s, const int *fold, double *pred)
{
	int p = d->setp[s];
	int64_t n = d->r.n;
	double *xs = xmallocarray(xmul((size_t)(n ? n : 1), (size_t)p), sizeof *xs);
	for (int64_t i = 0; i < n; i++)
		for (int j = 0; j < p; j++)
			xs[i * p + j] = d->r.X[i * d->r.nf + d->feat[s][j]];
	if (c->model.kind == MODEL_GBDT) {
		double *yd = xmallocarray((size_t)(n ? n : 1), sizeof *yd);
		for (int64_t i = 0; i < n; i++)
			yd[i] = d->r.y[i];
		gbdt_cv(xs, p, yd, c->balanced, fold, n, c->folds, GBDT_BINARY, &c->model.g, pred);
		free(yd);
		free(xs);
		return;
	}
	int64_t *train = xmallocarray((size_t)(n ? n : 1), sizeof *train);
	for (int f = 0; f < c->folds; f++) {
		int64_t m = 0;
		for (int64_t i = 0; i < n; i++)
			if (fold[i] >= 0 && fold[i] != f)
				train[m++] = i;
		logit_t L;
		logit_fit(xs, d->r.y, p, train, m, c->C, c->balanced, &L);
		if (!L.converged)
			warn("set %s, fold %d: Newton did not converge in %d iterations", c->name[s], f, L.iters);
		for (int64_t i = 0; i < n; i++)
			if (fold[i] == f)
				pred[i] = logit_decision(&L, xs + i * p);
		if (c->verbose)
			report_fold(d, c->name[s], f, fold, pred, m, L.iters);
		logit_free(&L);
	}
	free(train);
	free(xs);
}

/* One set's used rows sorted by ascending prediction, with what the
 * metrics need. */
typedef struct sorted {
	double *s;
	unsigned char *y;
	int64_t *g;
	double *recall; /* per group */
} sorted_t;

/* Value of metric m for set S under group multiplicities mult (NULL: the
 * data as observed); w is scratch of the set's length. */
static double metric(const sorted_t *S, int64_t n, int64_t ng, int m, const double *mult, double *w)
{
	if (m == 2)
		return mean_weighted_nonan(S->recall, mult, ng);
	if (mult)
		for (int64_t i = 0; i < n; i++)
			w[i] = mult[S->g[i]];
	const double *wt = mult ? w : NULL;
	return m == 0 ? auroc_sorted(S->s, S->y, wt, n) : avgprec_sorted(S->s, S->y, wt, n);
}

typedef struct result {
	double value[NMETRIC], lo[NMETRIC], hi[NMETRIC], p[NMETRIC];
} result_t;

/* Observed metrics, and a bootstrap over groups: CI of the first set's
 * value and of every other set's delta over it; boot_p = (1 + #{delta <=
 * 0}) / (1 + B). A resample in which any metric is undefined (a class or
 * every positive group missing) is discarded for all, so that every
 * interval rests on the same draws. */
static void evaluate(const cvbench_t *c, sorted_t *S, int64_t n, int64_t ng, result_t *r)
{
	int ns = c->nset;
	/* without --long only the AUROC's interval is written: bootstrap it
	 * alone (a resample without a class is undefined for all three alike) */
	int nm = c->longout ? NMETRIC : 1;
	for (int s = 0; s < ns; s++)
		for (int m = 0; m < NMETRIC; m++) {
			r[s].value[m] = metric(&S[s], n, ng, m, NULL, NULL);
			r[s].lo[m] = r[s].hi[m] = r[s].p[m] = NAN;
		}
	if (!c->boot)
		return;
	rng_t rng;
	rng_seed(&rng, c->seed);
	double *mult = xmallocarray((size_t)ng, sizeof *mult), *w = xmallocarray((size_t)n, sizeof *w);
	double *val = xmallocarray(xmul(xmul((size_t)ns, NMETRIC), (size_t)c->boot), sizeof *val);
	double *cur = xmallocarray((size_t)ns * NMETRIC, sizeof *cur);
	int64_t nv = 0, discarded = 0;
	for (int64_t b = 0; b < c->boot; b++) {
		rng_boot_counts(&rng, mult, ng);
		int bad = 0;
		for (int s = 0; s < ns && !bad; s++)
			for (int m = 0; m < nm && !bad; m++) {
				cur[s * NMETRIC + m] = metric(&S[s], n, ng, m, mult, w);
				bad = isnan(cur[s * NMETRIC + m]);
			}
		if (bad) {
			discarded++;
			continue;
		}
		for (int s = 0; s < ns; s++)
			for (int m = 0; m < nm; m++)
				val[((size_t)s * NMETRIC + m) * c->boot + nv] =
					s ? cur[s * NMETRIC + m] - cur[m] : cur[m];
		nv++;
	}
	if (discarded)
		warn("%lld bootstrap resamples lacked a class and were discarded", (long long)discarded);
	for (int s = 0; s < ns; s++)
		for (int m = 0; m < nm; m++) {
			double *v = val + ((size_t)s * NMETRIC + m) * c->boot;
			quantile_interval(v, nv, c->level, &r[s].lo[m], &r[s].hi[m]);
			int64_t le = 0;
			for (int64_t i = 0; i < nv; i++)
				le += v[i] <= 0;
			if (s)
				r[s].p[m] = (1.0 + (double)le) / (1.0 + (double)nv);
		}
	free(mult);
	free(w);
	free(val);
	free(cur);
}

static void write_preds(const cvbench_t *c, const data_t *d, const int *fold, const double *pred)
{
	wr_t *w = wr_open(c->predout, 0);
	wr_puts(w, "row\tgroup\tfold");
	for (int s = 0; s < c->nset; s++) {
		wr_putc(w, '\t');
		wr_puts(w, c->name[s]);
	}
	wr_putc(w, '\n');
	for (int64_t i = 0; i < d->r.n; i++) {
		if (fold[i] < 0)
			continue;
		wr_i64(w, d->r.row[i]);
		wr_putc(w, '\t');
		wr_puts(w, strtab_str(d->r.groups, d->r.gid[i]));
		wr_putc(w, '\t');
		wr_i64(w, fold[i]);
		for (int s = 0; s < c->nset; s++) {
			wr_putc(w, '\t');
			wr_f64(w, pred[(size_t)s * d->r.n + i]);
		}
		wr_putc(w, '\n');
	}
	wr_close(w);
}

static void put_f(wr_t *w, double v)
{
	wr_putc(w, '\t');
	wr_f64_na(w, v);
}

static void write_results(const cvbench_t *c, const result_t *r, int64_t nused, int64_t dropped)
{
	wr_t *w = wr_open(c->out, 0);
	if (c->longout) {
		wr_puts(w, "split\tmodel\tmetric\tset\tvalue\tdelta\tci_lo\tci_hi\tboot_p\tn_rows\tn_dropped\n");
		for (int m = 0; m < NMETRIC; m++)
			for (int s = 0; s < c->nset; s++) {
				wr_printf(w, "%s\t%s\t%s\t%s", split_names[c->split], model_name(&c->model),
					  metric_names[m], c->name[s]);
				put_f(w, r[s].value[m]);
				put_f(w, r[s].value[m] - r[0].value[m]);
				put_f(w, r[s].lo[m]);
				put_f(w, r[s].hi[m]);
				put_f(w, r[s].p[m]);
				wr_printf(w, "\t%lld\t%lld\n", (long long)nused, (long long)dropped);
			}
	} else {
		wr_puts(w, c->bootp ? "set\tauroc\tauprc\tdelta_auroc\tci_lo\tci_hi\tboot_p\n"
				    : "set\tauroc\tauprc\tdelta_auroc\tci_lo\tci_hi\n");
		for (int s = 0; s < c->nset; s++) {
			wr_puts(w, c->name[s]);
			put_f(w, r[s].value[0]);
			put_f(w, r[s].value[1]);
			put_f(w, r[s].value[0] - r[0].value[0]);
			put_f(w, r[s].lo[0]);
			put_f(w, r[s].hi[0]);
			if (c->bootp)
				put_f(w, r[s].p[0]);
			wr_putc(w, '\n');
		}
	}
	wr_close(w);
}

void cvbench_run(const cvbench_t *c, const char *path)
{
	if (c->split != SPLIT_PERTURBATION && !c->group2)
		die_usage("--split %s needs --group2 (the gene column)", split_names[c->split]);
	data_t d;
	read_rows(c, path, &d);
	int64_t n = d.r.n;
	int *fold = xmallocarray((size_t)(n ? n : 1), sizeof *fold);
	int64_t dropped = assign_folds(c, &d, fold);
	if (dropped)
		warn("--split joint: %lld of %lld rows pair a perturbation and a gene of different folds: dropped",
		     (long long)dropped, (long long)n);
	check_training_classes(c, &d, fold);
	double *pred = xmallocarray(xmul((size_t)c->nset, (size_t)(n ? n : 1)), sizeof *pred);
	for (int s = 0; s < c->nset; s++)
		fit_set(c, &d, s, fold, pred + (size_t)s * n);
	if (c->predout)
		write_preds(c, &d, fold, pred);

	/* The used rows, each set's sorted once. */
	int64_t nu = 0, ng = strtab_size(d.r.groups);
	int64_t *use = xmallocarray((size_t)(n ? n : 1), sizeof *use);
	for (int64_t i = 0; i < n; i++)
		if (fold[i] >= 0)
			use[nu++] = i;
	int64_t npos = 0;
	for (int64_t k = 0; k < nu; k++)
		npos += d.r.y[use[k]];
	if (npos == 0 || npos == nu)
		die("%s: the label has a single class over the %lld rows the split keeps", d.name, (long long)nu);
	double *pu = xmallocarray((size_t)nu, sizeof *pu);
	int64_t *ord = xmallocarray((size_t)nu, sizeof *ord);
	sorted_t *S = xcalloc((size_t)c->nset, sizeof *S);
	for (int s = 0; s < c->nset; s++) {
		for (int64_t k = 0; k < nu; k++)
			pu[k] = pred[(size_t)s * n + use[k]];
		argsort_f64(pu, nu, ord);
		S[s].s = xmallocarray((size_t)nu, sizeof *S[s].s);
		S[s].y = xmalloc((size_t)nu);
		S[s].g = xmallocarray((size_t)nu, sizeof *S[s].g);
		S[s].recall = xmallocarray((size_t)(ng ? ng : 1), sizeof *S[s].recall);
		for (int64_t k = 0; k < nu; k++) {
			S[s].s[k] = pu[ord[k]];
			S[s].y[k] = d.r.y[use[ord[k]]];
			S[s].g[k] = d.r.gid[use[ord[k]]];
		}
		recall_at_k_groups(S[s].s, S[s].y, S[s].g, nu, ng, c->recall_k, S[s].recall);
	}
	result_t *r = xcalloc((size_t)c->nset, sizeof *r);
	evaluate(c, S, nu, ng, r);
	write_results(c, r, nu, dropped);
	for (int s = 0; s < c->nset; s++) {
		free(S[s].s);
		free(S[s].y);
		free(S[s].g);
		free(S[s].recall);
	}
	free(S);
	free(r);
	free(pu);
	free(ord);
	free(use);
	free(pred);
	free(fold);
	data_free(&d, c->nset);
}
