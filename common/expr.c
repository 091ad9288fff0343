#include "expr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "h5mat.h"
#include "in.h"
#include "mat.h"
#include "num.h"
#include "tsv.h"
#include "xalloc.h"

/* die() is noreturn, so at an error the compiler may already have dropped
 * the only pointer to what loading allocated; parking the pointers here keeps
 * that memory reachable, and valgrind's leak check quiet on error paths. */
static void *volatile park[16];
static void *parked(int slot, void *p)
{
	park[slot] = p;
	return p;
}

static const unsigned char NPY_MAGIC6[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };
extern const unsigned char AKM_MAGIC[8];

/* The whole cells table in memory (it is small next to the counts). */
typedef struct {
	char *src;
	int ncol;
	char **names;
	char **f;       /* rows x ncol */
	int64_t rows;
} celltab_t;

static celltab_t *celltab_read(const char *path)
{
	tsv_t *t = tsv_open(path);
	celltab_t *c = xcalloc(1, sizeof *c);
	c->src = xstrdup(tsv_name(t));
	c->ncol = t->ncol;
	c->names = xmallocarray((size_t)t->ncol, sizeof *c->names);
	for (int i = 0; i < t->ncol; i++)
		c->names[i] = xstrdup(t->names[i]);
	int64_t cap = 0;
	while (tsv_next(t)) {
		if (c->rows == cap) {
			cap = cap ? 2 * cap : 1024;
			c->f = xreallocarray(c->f, xmul((size_t)cap, (size_t)c->ncol), sizeof *c->f);
		}
		for (int i = 0; i < c->ncol; i++)
			c->f[c->rows * c->ncol + i] = xstrdup(tsv_str(t, i));
		c->rows++;
	}
	if (c->rows == 0)
		die("%s: header only, no cells", c->src);
	tsv_close(t);
	return c;
}

/* An HDF5 file's obs (10x barcodes, loom col_attrs) as the cells table:
 * the index first, under its own name. */
static celltab_t *celltab_obs(h5frame_t *fr)
{
	if (!fr)
		return NULL;
	celltab_t *c = xcalloc(1, sizeof *c);
	c->src = xstrdup(fr->src);
	c->ncol = fr->ncol;
	c->rows = fr->rows;
	c->names = xmallocarray((size_t)c->ncol, sizeof *c->names);
	c->f = xmallocarray(xmul((size_t)(c->rows ? c->rows : 1), (size_t)c->ncol), sizeof *c->f);
	for (int i = 0; i < c->ncol; i++) {
		c->names[i] = xstrdup(fr->col[i].name);
		for (int64_t r = 0; r < c->rows; r++) {
			c->f[r * c->ncol + i] = fr->col[i].v[r];
			fr->col[i].v[r] = NULL;
		}
	}
	h5frame_free(fr);
	return c;
}

static void list_columns(char *buf, size_t cap, char **names, int n)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && len + 8 < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", names[i]);
	if (len >= cap - 8)
		snprintf(buf + cap - 8, 8, ", ...");
}

static int col_of(char **names, int n, const char *name, const char *src)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	char list[512];
	list_columns(list, sizeof list, names, n);
	die("%s: no column '%s' (columns: %s)", src, name, list);
}

int expr_col(const expr_t *e, const char *name, const char *opt)
{
	if (!e->colnames)
		die_usage("%s needs a cells table (--cells FILE)", opt);
	return col_of(e->colnames, e->ncol, name, e->cells_src);
}

/* Selected input cells: sel[c] = new index or -1. Returns the count. */
static int64_t select_cells(const expr_opts_t *o, const celltab_t *ct, int64_t ncells, int64_t *sel)
{
	int *wc = parked(0, xmallocarray((size_t)(o->nwhere ? o->nwhere : 1), sizeof *wc));
	const char **wv = parked(1, xmallocarray((size_t)(o->nwhere ? o->nwhere : 1), sizeof *wv));
	char **wcopy = parked(2, xcalloc((size_t)(o->nwhere ? o->nwhere : 1), sizeof *wcopy));
	for (int i = 0; i < o->nwhere; i++) {
		const char *eq = strchr(o->where[i], '=');
		if (!eq || eq == o->where[i])
			die_usage("--where: '%s' is not COL=VALUE", o->where[i]);
		if (!ct)
			die_usage("--where needs a cells table (--cells FILE)");
		wcopy[i] = xstrndup(o->where[i], (size_t)(eq - o->where[i]));
		wc[i] = col_of(ct->names, ct->ncol, wcopy[i], ct->src);
		wv[i] = eq + 1;
	}
	int64_t n = 0;
	for (int64_t c = 0; c < ncells; c++) {
		int ok = 1;
		for (int i = 0; i < o->nwhere && ok; i++)
			ok = strcmp(ct->f[c * ct->ncol + wc[i]], wv[i]) == 0;
		sel[c] = ok ? n++ : -1;
	}
	if (n == 0) {
		char what[512];
		size_t len = 0;
		what[0] = '\0';
		for (int i = 0; i < o->nwhere && len + 8 < sizeof what; i++)
			len += (size_t)snprintf(what + len, sizeof what - len, "%s--where %s", i ? " " : "", o->where[i]);
		die("%s: no cell matches %s", ct ? ct->src : o->counts, what);
	}
	for (int i = 0; i < o->nwhere; i++)
		free(wcopy[i]);
	free(wcopy);
	free(wc);
	free(wv);
	return n;
}

void expr_opts_init(expr_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->normalize = 1;
}

int expr_getopt(expr_opts_t *o, int c, const char *arg)
{
	switch (c) {
	case EXPR_OPT_COUNTS: o->counts = arg; return 1;
	case EXPR_OPT_GENES: o->genes = arg; return 1;
	case EXPR_OPT_CELLS: o->cells = arg; return 1;
	case EXPR_OPT_WHERE:
		o->where = xreallocarray(o->where, (size_t)o->nwhere + 1, sizeof *o->where);
		o->where[o->nwhere++] = arg;
		return 1;
	case EXPR_OPT_NONORM: o->normalize = 0; return 1;
	case EXPR_OPT_GENECOL: o->gene_col = arg; return 1;
	}
	return 0;
}

static int cmp_i32v(const void *a, const void *b)
{
	const int32_t *x = a, *y = b;
	return (*x > *y) - (*x < *y);
}

/* Sort gene g's entries by cell and add duplicates (MatrixMarket files may
 * hold them; scipy adds them too). Entries that add up to 0 are dropped. */
typedef struct { int32_t cell; int32_t pad; double v; } cv_t;

static void tidy_gene(expr_t *e, int64_t g, int64_t *w)
{
	int64_t a = e->ptr[g], b = e->ptr[g + 1], k = b - a;
	int sorted = 1;
	for (int64_t i = a + 1; i < b && sorted; i++)
		sorted = e->cell[i] > e->cell[i - 1];
	if (!sorted) {
		cv_t *t = xmallocarray((size_t)k, sizeof *t);
		for (int64_t i = 0; i < k; i++) {
			t[i].cell = e->cell[a + i];
			t[i].pad = 0;
			t[i].v = e->val[a + i];
		}
		qsort(t, (size_t)k, sizeof *t, cmp_i32v);
		for (int64_t i = 0; i < k; i++) {
			e->cell[a + i] = t[i].cell;
			e->val[a + i] = t[i].v;
		}
		free(t);
	}
	/* compact into position *w (genes are processed in order) */
	int64_t start = *w;
	for (int64_t i = a; i < b;) {
		int32_t c = e->cell[i];
		double s = 0;
		while (i < b && e->cell[i] == c)
			s += e->val[i++];
		if (s != 0) {
			e->cell[*w] = c;
			e->val[*w] = s;
			(*w)++;
		}
	}
	e->ptr[g] = start;
}

static void check_value(const expr_opts_t *o, const char *src, double v, int64_t g, int64_t c,
			char **genes)
{
	if (!isfinite(v))
		die("%s: gene '%s', cell %lld: value %s is not finite", src, genes[g], (long long)c + 1,
		    isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
	if (o->normalize && v < 0)
		die("%s: gene '%s', cell %lld: negative count %.17g (counts must be >= 0; "
		    "use --no-normalize for values that are already normalised)",
		    src, genes[g], (long long)c + 1, v);
}

/* Row c of a dense cells x genes matrix as doubles (buf when converting). */
static const double *dense_row(const akmat_t *m, int64_t c, double *buf)
{
	int64_t n = m->cols, o = c * n;
	switch (m->dtype) {
	case AK_F64: return (const double *)m->data + o;
	case AK_F32: for (int64_t j = 0; j < n; j++) buf[j] = ((const float *)m->data)[o + j]; break;
	case AK_I32: for (int64_t j = 0; j < n; j++) buf[j] = ((const int32_t *)m->data)[o + j]; break;
	case AK_I64: for (int64_t j = 0; j < n; j++) buf[j] = (double)((const int64_t *)m->data)[o + j]; break;
	default: for (int64_t j = 0; j < n; j++) buf[j] = mat_get(m, o + j); break;
	}
	return buf;
}

/* The two passes over HDF5 counts, streamed in blocks: per-cell totals and
 * per-gene entry counts, then the fill (as for MatrixMarket triplets). */
typedef struct {
	const expr_opts_t *o;
	expr_t *e;
	double *tot;
	const int64_t *sel;
	int64_t *fill;
} h5pass_t;

static void h5_count(void *ctx, const int64_t *cell, const int64_t *gene, const double *val, int64_t n)
{
	h5pass_t *p = ctx;
	for (int64_t k = 0; k < n; k++) {
		check_value(p->o, p->e->src, val[k], gene[k], cell[k], p->e->genes);
		p->tot[cell[k]] += val[k];
		if (p->sel[cell[k]] >= 0 && val[k] != 0)
			p->e->ptr[gene[k] + 1]++;
	}
}

static void h5_fill(void *ctx, const int64_t *cell, const int64_t *gene, const double *val, int64_t n)
{
	h5pass_t *p = ctx;
	for (int64_t k = 0; k < n; k++) {
		int64_t c = p->sel[cell[k]];
		if (c >= 0 && val[k] != 0) {
			int64_t at = p->fill[gene[k]]++;
			p->e->cell[at] = (int32_t)c;
			p->e->val[at] = val[k];
		}
	}
}

/* Gene names of HDF5 counts (var index or --gene-col) into a table. */
static strtab_t *h5_gene_tab(h5x_t *hx, const char *col, const char *src)
{
	int64_t n = h5x_ngenes(hx);
	char **v = h5x_genes(hx, col);
	if (!v)
		return NULL;
	strtab_t *t = strtab_new();
	for (int64_t j = 0; j < n; j++) {
		int added;
		strtab_put(t, v[j], strlen(v[j]), &added);
		if (!added)
			die("%s: duplicate gene name '%s' in %s (make the names unique, or choose "
			    "another column with --gene-col)", src, v[j], col ? col : "the var index");
		free(v[j]);
	}
	free(v);
	return t;
}

static char **names_from_tab(strtab_t *t)
{
	int64_t n = strtab_size(t);
	char **v = xmallocarray((size_t)(n ? n : 1), sizeof *v);
	for (int64_t i = 0; i < n; i++)
		v[i] = xstrdup(strtab_str(t, i));
	return v;
}

expr_t *expr_load(const expr_opts_t *o)
{
	expr_t *e = parked(3, xcalloc(1, sizeof *e));
	strtab_t *gt = parked(4, o->genes ? strtab_read_lines(o->genes) : NULL);

	spmat_t *sp = NULL;
	akmat_t *dm = NULL;
	h5x_t *hx = NULL;
	int64_t ngenes, ncells;
	if (o->no_counts > 0) {
		/* cells only (e.g. for an embedding named by o->counts) */
		e->src = xstrdup(o->counts ? o->counts : "(no counts)");
		strtab_free(gt);
		gt = parked(4, strtab_new());
		ngenes = 0;
		ncells = o->no_counts;
	} else if (h5_is_spec(o->counts)) {
		hx = parked(9, h5x_open(o->counts));
		e->src = xstrdup(h5x_src(hx));
		ngenes = h5x_ngenes(hx);
		ncells = h5x_ncells(hx);
		if (!gt)
			gt = parked(4, h5_gene_tab(hx, o->gene_col, e->src));
		if (!gt)
			die_usage("--genes FILE is needed: %s has no gene names", e->src);
		if (strtab_size(gt) != ngenes)
			die("%s: %lld genes, but %s has %lld genes", o->genes, (long long)strtab_size(gt),
			    e->src, (long long)ngenes);
	} else {
		if (o->gene_col)
			die_usage("--gene-col needs HDF5 counts (.h5ad, 10x .h5, .loom)");
		rd_t *r = rd_open(o->counts);
		e->src = xstrdup(rd_name(r));
		unsigned char head[16];
		size_t hk = rd_peek(r, head, sizeof head);
		if (hk == 0)
			die("%s: empty input", e->src);
		if (hk >= 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0)
			die("%s: HDF5 needs a file name (it cannot be read from a pipe)", e->src);
		if (hk >= 14 && memcmp(head, "%%MatrixMarket", 14) == 0)
			sp = parked(5, mtx_read_rd(r));
		else if (hk >= 6 && memcmp(head, NPY_MAGIC6, 6) == 0)
			dm = parked(6, npy_read(r));
		else if (hk >= 8 && memcmp(head, AKM_MAGIC, 8) == 0)
			dm = parked(6, akm_read(r));
		else
			dm = parked(6, tsvmat_read(r));
		rd_close(r);

		if (sp) {
			if (!gt)
				die_usage("--genes FILE is needed with MatrixMarket counts (one name per row)");
			ngenes = sp->rows;
			ncells = sp->cols;
			if (strtab_size(gt) != ngenes)
				die("%s: %lld genes, but %s has %lld rows (MatrixMarket counts are genes x cells)",
				    o->genes, (long long)strtab_size(gt), e->src, (long long)ngenes);
		} else {
			if (dm->ndim != 2)
				die("%s: dense counts must be a 2-D matrix (cells x genes), not %d-D", e->src, dm->ndim);
			mat_check_finite(dm);
			ngenes = dm->cols;
			ncells = dm->rows;
			if (!gt && dm->colnames) {
				gt = parked(4, strtab_new());
				for (int64_t j = 0; j < ngenes; j++) {
					int added;
					strtab_put(gt, dm->colnames[j], strlen(dm->colnames[j]), &added);
					if (!added)
						die("%s: duplicate gene name '%s' in the column names", e->src, dm->colnames[j]);
				}
			}
			if (!gt)
				die_usage("--genes FILE is needed: %s has no gene (column) names", e->src);
			if (strtab_size(gt) != ngenes)
				die("%s: %lld genes, but %s has %lld columns (dense counts are cells x genes%s)",
				    o->genes ? o->genes : "column names", (long long)strtab_size(gt), e->src,
				    (long long)ngenes, strtab_size(gt) == ncells ? "; this one looks transposed" : "");
		}
	}
	e->ngenes = ngenes;
	e->ncells_in = ncells;
	e->genes = names_from_tab(gt);
	e->gene_ix = gt;

	celltab_t *ct = NULL;
	if (!o->cells && hx)
		ct = parked(7, celltab_obs(h5x_obs(hx)));
	else if (!o->cells && o->no_counts > 0 && o->counts && h5_is_spec(o->counts))
		ct = parked(7, celltab_obs(h5mat_obs(o->counts)));   /* cluster --embedding a.h5ad:obsm/X */
	if (o->cells) {
		ct = parked(7, celltab_read(o->cells));
		if (ct->rows != ncells)
			die("%s: %lld cells (rows after the header), but %s has %lld cells (%s)", ct->src,
			    (long long)ct->rows, e->src, (long long)ncells,
			    sp ? "columns of the genes x cells MatrixMarket" : hx ? "obs rows" :
			    o->no_counts > 0 ? "rows" : "rows of the cells x genes matrix");
	}
	int64_t *sel = parked(8, xmallocarray((size_t)(ncells ? ncells : 1), sizeof *sel));
	int64_t n = select_cells(o, ct, ncells, sel);
	e->ncells = n;
	if (n > INT32_MAX)
		die("%s: too many cells (%lld)", e->src, (long long)n);
	e->cell_in = xmallocarray((size_t)n, sizeof *e->cell_in);
	for (int64_t c = 0; c < ncells; c++)
		if (sel[c] >= 0)
			e->cell_in[sel[c]] = c;
	if (ct) {
		e->ncol = ct->ncol;
		e->colnames = ct->names;
		e->cells_src = ct->src;
		e->field = xmallocarray(xmul((size_t)n, (size_t)ct->ncol), sizeof *e->field);
		for (int64_t c = 0; c < ncells; c++)
			for (int i = 0; i < ct->ncol; i++) {
				char *f = ct->f[c * ct->ncol + i];
				if (sel[c] >= 0)
					e->field[sel[c] * ct->ncol + i] = o->keep_table ? xstrdup(f) : f;
				else if (!o->keep_table)
					free(f);
			}
		if (o->keep_table)
			e->table_all = ct->f;
		else
			free(ct->f);
		free(ct);
	}

	/* Per-cell totals over all genes (the CP10k denominator), then the
	 * per-gene entry counts of the selected cells. */
	double *tot = xcalloc((size_t)(ncells ? ncells : 1), sizeof *tot), *rowbuf = NULL;
	e->ptr = xcalloc((size_t)ngenes + 1, sizeof *e->ptr);
	if (sp) {
		for (int64_t k = 0; k < sp->nnz; k++) {
			check_value(o, e->src, sp->val[k], sp->ri[k], sp->ci[k], e->genes);
			tot[sp->ci[k]] += sp->val[k];
			if (sel[sp->ci[k]] >= 0 && sp->val[k] != 0)
				e->ptr[sp->ri[k] + 1]++;
		}
	} else if (hx) {
		h5pass_t p = { o, e, tot, sel, NULL };
		h5x_scan(hx, h5_count, &p);
	} else if (dm) {
		rowbuf = xmallocarray((size_t)(ngenes ? ngenes : 1), sizeof *rowbuf);
		for (int64_t c = 0; c < ncells; c++) {
			const double *row = dense_row(dm, c, rowbuf);
			for (int64_t g = 0; g < ngenes; g++) {
				double v = row[g];
				check_value(o, e->src, v, g, c, e->genes);
				tot[c] += v;
				if (sel[c] >= 0 && v != 0)
					e->ptr[g + 1]++;
			}
		}
	}
	for (int64_t g = 0; g < ngenes; g++)
		e->ptr[g + 1] += e->ptr[g];
	int64_t nnz = e->ptr[ngenes];
	e->cell = xmallocarray((size_t)(nnz ? nnz : 1), sizeof *e->cell);
	e->val = xmallocarray((size_t)(nnz ? nnz : 1), sizeof *e->val);
	int64_t *fill = xmallocarray((size_t)ngenes + 1, sizeof *fill);
	memcpy(fill, e->ptr, ((size_t)ngenes + 1) * sizeof *fill);
	if (sp) {
		for (int64_t k = 0; k < sp->nnz; k++) {
			int64_t c = sel[sp->ci[k]];
			if (c >= 0 && sp->val[k] != 0) {
				int64_t at = fill[sp->ri[k]]++;
				e->cell[at] = (int32_t)c;
				e->val[at] = sp->val[k];
			}
		}
		spmat_free(sp);
	} else if (hx) {
		h5pass_t p = { o, e, tot, sel, fill };
		h5x_scan(hx, h5_fill, &p);
		h5x_close(hx);
	}
	if (sp || hx) {
		/* sparse files may hold duplicates and unsorted indices */
		int64_t w = 0;
		for (int64_t g = 0; g < ngenes; g++)
			tidy_gene(e, g, &w);
		e->ptr[ngenes] = w;
	} else if (dm) {
		for (int64_t c = 0; c < ncells; c++) {
			if (sel[c] < 0)
				continue;
			const double *row = dense_row(dm, c, rowbuf);
			for (int64_t g = 0; g < ngenes; g++) {
				double v = row[g];
				if (v != 0) {
					int64_t at = fill[g]++;
					e->cell[at] = (int32_t)sel[c];
					e->val[at] = v;
				}
			}
		}
		mat_free(dm);
		free(rowbuf);
	}
	free(fill);
	if (o->normalize)
		for (int64_t g = 0; g < ngenes; g++)
			for (int64_t k = e->ptr[g]; k < e->ptr[g + 1]; k++)
				e->val[k] = log1p(e->val[k] / tot[e->cell_in[e->cell[k]]] * 1e4);
	free(tot);
	if (o->keep_table)
		e->sel_in = sel;
	else
		free(sel);
	return e;
}

void expr_free(expr_t *e)
{
	if (!e)
		return;
	for (int64_t g = 0; g < e->ngenes; g++)
		free(e->genes[g]);
	free(e->genes);
	strtab_free(e->gene_ix);
	free(e->ptr);
	free(e->cell);
	free(e->val);
	free(e->cell_in);
	if (e->table_all)
		for (int64_t i = 0; i < e->ncells_in * e->ncol; i++)
			free(e->table_all[i]);
	free(e->table_all);
	free(e->sel_in);
	free(e->rptr);
	free(e->rgene);
	free(e->rval);
	if (e->field)
		for (int64_t i = 0; i < e->ncells * e->ncol; i++)
			free(e->field[i]);
	free(e->field);
	for (int i = 0; i < e->ncol; i++)
		free(e->colnames[i]);
	free(e->colnames);
	free(e->cells_src);
	free(e->src);
	free(e);
}

void expr_moments(const expr_t *e, int64_t g, const int32_t *grp, int32_t want, int64_t n,
		  double *mean, double *var)
{
	double s = 0;
	int64_t k = 0;
	for (int64_t i = e->ptr[g]; i < e->ptr[g + 1]; i++)
		if (!grp || grp[e->cell[i]] == want) {
			s += e->val[i];
			k++;
		}
	double m = n ? s / (double)n : NAN;
	double ss = 0;
	for (int64_t i = e->ptr[g]; i < e->ptr[g + 1]; i++)
		if (!grp || grp[e->cell[i]] == want) {
			double d = e->val[i] - m;
			ss += d * d;
		}
	ss += (double)(n - k) * m * m;
	*mean = m;
	*var = n > 1 ? ss / (double)(n - 1) : NAN;
}

static void build_csr(expr_t *e)
{
	int64_t n = e->ncells, nnz = e->ptr[e->ngenes];
	e->rptr = xcalloc((size_t)n + 1, sizeof *e->rptr);
	for (int64_t k = 0; k < nnz; k++)
		e->rptr[e->cell[k] + 1]++;
	for (int64_t c = 0; c < n; c++)
		e->rptr[c + 1] += e->rptr[c];
	e->rgene = xmallocarray((size_t)(nnz ? nnz : 1), sizeof *e->rgene);
	e->rval = xmallocarray((size_t)(nnz ? nnz : 1), sizeof *e->rval);
	int64_t *fill = xmallocarray((size_t)n + 1, sizeof *fill);
	memcpy(fill, e->rptr, ((size_t)n + 1) * sizeof *fill);
	/* genes in ascending order within each cell */
	for (int64_t g = 0; g < e->ngenes; g++)
		for (int64_t k = e->ptr[g]; k < e->ptr[g + 1]; k++) {
			int64_t at = fill[e->cell[k]]++;
			e->rgene[at] = (int32_t)g;
			e->rval[at] = e->val[k];
		}
	free(fill);
}

void expr_moments_cells(expr_t *e, const int64_t *cells, int64_t n, double *mean, double *var)
{
	if (!e->rptr)
		build_csr(e);
	int64_t G = e->ngenes;
	int64_t *k = xcalloc((size_t)(G ? G : 1), sizeof *k);
	double *ss = xcalloc((size_t)(G ? G : 1), sizeof *ss);
	for (int64_t g = 0; g < G; g++)
		mean[g] = 0;
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = e->rptr[cells[i]]; j < e->rptr[cells[i] + 1]; j++) {
			mean[e->rgene[j]] += e->rval[j];
			k[e->rgene[j]]++;
		}
	for (int64_t g = 0; g < G; g++)
		mean[g] = n ? mean[g] / (double)n : NAN;
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = e->rptr[cells[i]]; j < e->rptr[cells[i] + 1]; j++) {
			double d = e->rval[j] - mean[e->rgene[j]];
			ss[e->rgene[j]] += d * d;
		}
	for (int64_t g = 0; g < G; g++) {
		double s = ss[g] + (double)(n - k[g]) * mean[g] * mean[g];
		var[g] = n > 1 ? s / (double)(n - 1) : NAN;
	}
	free(k);
	free(ss);
}

int64_t expr_gene_list(const expr_t *e, const char *path, int64_t **out)
{
	rd_t *r = rd_open(path);
	uint8_t *seen = xcalloc((size_t)(e->ngenes ? e->ngenes : 1), 1);
	int64_t n = 0, cap = 64, unknown = 0;
	int64_t *v = xmallocarray((size_t)cap, sizeof *v);
	char first[128] = "";
	size_t len;
	char *line;
	while ((line = rd_line(r, &len)) != NULL) {
		if (len == 0)
			continue;
		int64_t g = strtab_get(e->gene_ix, line, len);
		if (g < 0) {
			if (!unknown++)
				snprintf(first, sizeof first, "%s", line);
			continue;
		}
		if (seen[g])
			continue;
		seen[g] = 1;
		if (n == cap)
			v = xreallocarray(v, (size_t)(cap *= 2), sizeof *v);
		v[n++] = g;
	}
	if (unknown)
		warn("%s: %lld of %lld names are not genes of %s (first: %s); ignored", rd_name(r),
		     (long long)unknown, (long long)(unknown + n), e->src, first);
	if (n == 0)
		die("%s: no gene of %s listed", rd_name(r), e->src);
	rd_close(r);
	free(seen);
	*out = v;
	return n;
}

static const double *hvg_var;
static int cmp_hvg(const void *a, const void *b)
{
	int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
	double x = hvg_var[i], y = hvg_var[j];
	int xn = isnan(x), yn = isnan(y);
	if (xn != yn)
		return xn - yn;
	if (!xn && x != y)
		return x > y ? -1 : 1;
	return (i > j) - (i < j);
}

int64_t expr_hvg(const expr_t *e, int64_t n, const int64_t *forced, int64_t nforced,
		 int64_t *rank, uint8_t *sel)
{
	int64_t G = e->ngenes;
	double *var = xmallocarray((size_t)(G ? G : 1), sizeof *var);
	int64_t *ord = xmallocarray((size_t)(G ? G : 1), sizeof *ord);
	for (int64_t g = 0; g < G; g++) {
		double m;
		expr_moments(e, g, NULL, 0, e->ncells, &m, &var[g]);
		ord[g] = g;
	}
	hvg_var = var;
	qsort(ord, (size_t)G, sizeof *ord, cmp_hvg);
	hvg_var = NULL;
	memset(sel, 0, (size_t)G);
	for (int64_t i = 0; i < G; i++) {
		rank[ord[i]] = i + 1;
		sel[ord[i]] = i < n;
	}
	for (int64_t i = 0; i < nforced; i++)
		sel[forced[i]] = 1;
	int64_t k = 0;
	for (int64_t g = 0; g < G; g++)
		k += sel[g];
	free(var);
	free(ord);
	return k;
}
