/* obs and var: AnnData dataframes (current encoding, and the older one with
 * categories under __categories), loom attributes and 10x features, read as
 * string columns: these become the cells table of the expression filters
 * (--where, --group, --strata) and the gene names. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "h5.h"
#include "h5mat.h"
#include "xalloc.h"

/* Python's repr of a float (what pandas writes for a float column), so that
 * `--where n_genes=3.0` matches the value a user sees in Python: the
 * shortest %g that reads back, positional for exponents in [-4, 16). */
static char *fmt_float(double v, int single)
{
	char b[64];
	if (isnan(v))
		return xstrdup("");
	if (isinf(v))
		return xstrdup(v > 0 ? "inf" : "-inf");
	int p;
	for (p = 1; p < 17; p++) {
		snprintf(b, sizeof b, "%.*e", p - 1, v);
		double r = strtod(b, NULL);
		if (single ? (float)r == (float)v : r == v)
			break;
	}
	snprintf(b, sizeof b, "%.*e", p - 1, v);
	int ex = atoi(strchr(b, 'e') + 1);
	if (ex >= -4 && ex < 16) {
		int dec = p - 1 - ex;
		snprintf(b, sizeof b, "%.*f", dec > 0 ? dec : 0, v);
		if (!strchr(b, '.'))
			strcat(b, ".0");
	}
	return xstrdup(b);
}

static char *frame_src(const h5f_t *f, const char *grp)
{
	size_t n = strlen(f->path) + strlen(grp) + 2;
	char *s = xmalloc(n);
	snprintf(s, n, "%s:%s", f->path, grp);
	return s;
}

static h5col_t *add_col(h5frame_t *fr, const char *name)
{
	fr->col = xreallocarray(fr->col, (size_t)fr->ncol + 1, sizeof *fr->col);
	h5col_t *c = &fr->col[fr->ncol++];
	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	c->nlevels = -1;
	return c;
}

char **h5frame_strings(const h5f_t *f, hid_t d, const char *what, int64_t *n)
{
	int64_t dims[2];
	if (h5_dims(d, dims, 2) != 1)
		die("%s: %s is not 1-D", f->path, what);
	*n = dims[0];
	size_t sz;
	int k = h5_type_kind(d, &sz);
	if (k == H5T_K_STR)
		return h5_read_strs(d, n);
	size_t rows = (size_t)(dims[0] ? dims[0] : 1);
	char **v = xmallocarray(rows, sizeof *v);
	char b[32];
	if (k == H5T_K_INT || k == H5T_K_UINT || k == H5T_K_BOOL) {
		int64_t *x = xmallocarray(rows, sizeof *x);
		/* an enum converts to an integer type only from its own base */
		hid_t mt = k == H5T_K_BOOL ? H5Tenum_create(H5T_NATIVE_INT64) : H5T_NATIVE_INT64;
		if (k == H5T_K_BOOL) {
			int64_t zero = 0, one = 1;
			H5Tenum_insert(mt, "FALSE", &zero);
			H5Tenum_insert(mt, "TRUE", &one);
		}
		h5_read_rows(d, 0, dims[0], mt, x);
		if (k == H5T_K_BOOL)
			H5Tclose(mt);
		for (int64_t i = 0; i < dims[0]; i++) {
			if (k == H5T_K_BOOL)
				v[i] = xstrdup(x[i] ? "True" : "False");
			else {
				snprintf(b, sizeof b, k == H5T_K_UINT ? "%llu" : "%lld", (long long)x[i]);
				v[i] = xstrdup(b);
			}
		}
		free(x);
	} else if (k == H5T_K_FLOAT) {
		double *x = xmallocarray(rows, sizeof *x);
		h5_read_rows(d, 0, dims[0], H5T_NATIVE_DOUBLE, x);
		for (int64_t i = 0; i < dims[0]; i++)
			v[i] = fmt_float(x[i], sz <= 4);
		free(x);
	} else {
		die("%s: %s has a %s type, not strings, numbers or booleans", f->path, what,
		    h5_type_desc(d));
	}
	return v;
}

/* Codes into categories; code -1 (pandas' NaN) becomes "". */
static void decode(const h5f_t *f, const char *what, h5col_t *c, const int64_t *code, int64_t n,
		   char **cat, int64_t ncat)
{
	c->v = xmallocarray((size_t)(n ? n : 1), sizeof *c->v);
	for (int64_t i = 0; i < n; i++) {
		if (code[i] < -1 || code[i] >= ncat)
			die("%s: %s: code %lld at row %lld is not a category (%lld categories)", f->path,
			    what, (long long)code[i], (long long)i + 1, (long long)ncat);
		c->v[i] = xstrdup(code[i] < 0 ? "" : cat[code[i]]);
	}
	c->nlevels = ncat;
	free(c->dtype);
	c->dtype = xstrdup("category");
}

static void read_categorical(const h5f_t *f, hid_t codes_d, hid_t cats_d, const char *what,
			     h5col_t *c, int64_t *n)
{
	int64_t ncat;
	int64_t *code = h5_read_i64(codes_d, n);
	char **cat = h5frame_strings(f, cats_d, what, &ncat);
	decode(f, what, c, code, *n, cat, ncat);
	h5_free_strs(cat, (size_t)ncat);
	free(code);
}

/* nullable-integer / nullable-boolean / nullable-string-array: values with a
 * mask, masked values written as "" (pandas' <NA>). */
static void read_nullable(const h5f_t *f, hid_t g, const char *what, h5col_t *c, int64_t *n)
{
	hid_t vd = h5_dopen(f, g, "values"), md = h5_dopen(f, g, "mask");
	c->v = h5frame_strings(f, vd, what, n);
	c->dtype = xstrdup(h5_type_desc(vd));
	int64_t nm;
	char **mask = h5frame_strings(f, md, what, &nm);
	if (nm != *n)
		die("%s: %s: mask of %lld rows for %lld values", f->path, what, (long long)nm, (long long)*n);
	for (int64_t i = 0; i < nm; i++)
		if (strcmp(mask[i], "True") == 0) {
			free(c->v[i]);
			c->v[i] = xstrdup("");
		}
	h5_free_strs(mask, (size_t)nm);
	H5Dclose(vd);
	H5Dclose(md);
}

/* One column `name` of the dataframe group g (path gpath) into c. */
static void read_column(const h5f_t *f, hid_t g, const char *gpath, const char *name, h5col_t *c,
			int64_t *n)
{
	char what[512];
	snprintf(what, sizeof what, "%s/%s", gpath, name);
	int kind = h5_kind(g, name);
	if (kind == H5K_GROUP) {
		hid_t cg = h5_gopen(f, g, name);
		char *enc = h5_attr_str(cg, "encoding-type");
		if (enc && strcmp(enc, "categorical") == 0) {
			hid_t cd = h5_dopen(f, cg, "codes"), kd = h5_dopen(f, cg, "categories");
			read_categorical(f, cd, kd, what, c, n);
			H5Dclose(cd);
			H5Dclose(kd);
		} else if (enc && strncmp(enc, "nullable-", 9) == 0) {
			read_nullable(f, cg, what, c, n);
		} else {
			die("%s: %s: encoding '%s' is not supported (categorical, nullable-integer, "
			    "nullable-boolean, arrays)", f->path, what, enc ? enc : "(none)");
		}
		free(enc);
		H5Gclose(cg);
		return;
	}
	if (kind != H5K_DATASET)
		die("%s: %s is listed in column-order but missing", f->path, what);
	hid_t d = h5_dopen(f, g, name);
	char old[512];
	snprintf(old, sizeof old, "__categories/%s", name);
	if (h5_kind(g, old) == H5K_DATASET) {
		/* anndata < 0.8: codes here, categories in __categories/NAME
		 * (the "categories" attribute is a reference to the same). */
		hid_t kd = h5_dopen(f, g, old);
		read_categorical(f, d, kd, what, c, n);
		H5Dclose(kd);
	} else {
		c->dtype = xstrdup(h5_type_desc(d));
		c->v = h5frame_strings(f, d, what, n);
	}
	H5Dclose(d);
}

static void check_rows(h5frame_t *fr, const char *name, int64_t n)
{
	if (fr->rows < 0)
		fr->rows = n;
	else if (n != fr->rows)
		die("%s/%s has %lld rows, the index %lld", fr->src, name, (long long)n,
		    (long long)fr->rows);
}

h5frame_t *h5frame_anndata(const h5f_t *f, const char *grp)
{
	hid_t g = h5_gopen(f, f->id, grp);
	h5frame_t *fr = xcalloc(1, sizeof *fr);
	fr->src = frame_src(f, grp);
	fr->rows = -1;
	char *index = h5_attr_str(g, "_index");
	if (!index) {
		if (h5_kind(g, "_index") == H5K_DATASET)
			index = xstrdup("_index");
		else if (h5_kind(g, "index") == H5K_DATASET)
			index = xstrdup("index");
		else
			die("%s: %s is not an AnnData dataframe (no _index attribute)", f->path, grp);
	}
	int64_t n;
	h5col_t *c = add_col(fr, index);
	read_column(f, g, grp, index, c, &n);
	check_rows(fr, index, n);
	size_t nc;
	char **order = h5_attr_strs(g, "column-order", &nc);
	if (!order) {
		/* anndata 0.7 without column-order: every dataset but the index */
		order = h5_children(g, &nc);
	}
	for (size_t i = 0; i < nc; i++) {
		if (strcmp(order[i], index) == 0 || strcmp(order[i], "__categories") == 0)
			continue;
		c = add_col(fr, order[i]);
		read_column(f, g, grp, order[i], c, &n);
		check_rows(fr, order[i], n);
	}
	h5_free_strs(order, nc);
	free(index);
	H5Gclose(g);
	return fr;
}

static char **row_numbers(int64_t n)
{
	char **v = xmallocarray((size_t)(n ? n : 1), sizeof *v);
	char b[32];
	for (int64_t i = 0; i < n; i++) {
		snprintf(b, sizeof b, "%lld", (long long)i);
		v[i] = xstrdup(b);
	}
	return v;
}

h5frame_t *h5frame_attrs(const h5f_t *f, const char *grp, const char *const *index_names)
{
	hid_t g = h5_gopen(f, f->id, grp);
	h5frame_t *fr = xcalloc(1, sizeof *fr);
	fr->src = frame_src(f, grp);
	fr->rows = -1;
	const char *index = NULL;
	for (int i = 0; index_names[i] && !index; i++)
		if (h5_kind(g, index_names[i]) == H5K_DATASET)
			index = index_names[i];
	size_t nk;
	char **kids = h5_children(g, &nk);
	h5col_t *ic = add_col(fr, index ? index : "_index");
	if (index) {
		int64_t n;
		hid_t d = h5_dopen(f, g, index);
		ic->dtype = xstrdup(h5_type_desc(d));
		ic->v = h5frame_strings(f, d, index, &n);
		fr->rows = n;
		H5Dclose(d);
	}
	for (size_t i = 0; i < nk; i++) {
		if ((index && strcmp(kids[i], index) == 0) || h5_kind(g, kids[i]) != H5K_DATASET)
			continue;
		hid_t d = h5_dopen(f, g, kids[i]);
		int64_t dims[H5S_MAX_RANK];
		int nd = h5_dims(d, dims, H5S_MAX_RANK);
		int k = h5_type_kind(d, NULL);
		if (nd == 1 && (fr->rows < 0 || dims[0] == fr->rows) && k != H5T_K_OTHER && k != H5T_K_REF) {
			int64_t n;
			h5col_t *c = add_col(fr, kids[i]);
			c->dtype = xstrdup(h5_type_desc(d));
			c->v = h5frame_strings(f, d, kids[i], &n);
			fr->rows = n;
		}
		H5Dclose(d);
	}
	h5_free_strs(kids, nk);
	if (fr->rows < 0)
		fr->rows = 0;
	if (!index) {
		ic->dtype = xstrdup("int64");
		ic->v = row_numbers(fr->rows);
	}
	H5Gclose(g);
	return fr;
}

void h5frame_free(h5frame_t *fr)
{
	if (!fr)
		return;
	for (int i = 0; i < fr->ncol; i++) {
		h5_free_strs(fr->col[i].v, (size_t)fr->rows);
		free(fr->col[i].name);
		free(fr->col[i].dtype);
	}
	free(fr->col);
	free(fr->src);
	free(fr);
}

int h5frame_col(const h5frame_t *fr, const char *name)
{
	for (int i = 0; i < fr->ncol; i++)
		if (strcmp(fr->col[i].name, name) == 0)
			return i;
	char list[512];
	char **names = xmallocarray((size_t)fr->ncol + 1, sizeof *names);
	for (int i = 0; i < fr->ncol; i++)
		names[i] = fr->col[i].name;
	h5_join(list, sizeof list, names, (size_t)fr->ncol);
	free(names);
	die("%s: no column '%s' (there are: %s)", fr->src, name, list);
}
