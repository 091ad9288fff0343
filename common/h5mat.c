/* Expression matrices in HDF5 files (see h5mat.h): which object a spec
 * names in each file layout, its storage (dense, CSR, CSC), streaming its
 * entries cells x genes, dense loading for mat, and the listing for
 * `mat info`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "h5.h"
#include "h5mat.h"
#include "out.h"
#include "xalloc.h"

enum { FL_HDF5, FL_H5AD, FL_10X, FL_10X2, FL_LOOM };
static const char *const FLAVOR[] = { "hdf5", "h5ad", "10x-h5", "10x-h5-v2", "loom" };

/* Entries per block when streaming (the block's three arrays are 24 bytes an
 * entry: 6 MB, however large the file). */
#define H5X_BLOCK ((int64_t)1 << 18)

/* One stored matrix, in the file's own orientation. */
typedef struct h5m {
	int sparse, csr;        /* csr: indptr runs over the stored rows */
	int64_t rows, cols, ndim;
	int64_t dims[AK_MAXDIM];
	hid_t dense, data, indices, indptr;
	int dtype;              /* AK_* the values are held as */
} h5m_t;

struct h5x {
	h5f_t *f;
	int flavor;
	char *src;              /* "FILE" or "FILE:MEMBER" */
	char *path;             /* the matrix object */
	h5m_t m;
	int genes_rows;         /* stored genes x cells (10x, loom) */
	int embedding;          /* obsm/NAME: cells x dims, no genes */
	char *group;            /* 10x v2: the genome group */
	char *var;              /* h5ad: var or raw/var */
	/* 10x of several feature types: stored feature -> gene of the view, -1
	 * when left out (NULL: every feature is a gene). */
	int64_t *keep;
	int64_t nkeep;
	char *types;            /* the feature types read, for mat info */
};

static const char *const EXTS[] = { ".h5ad", ".h5", ".hdf5", ".loom", NULL };

/* "FILE.h5ad:MEMBER" -> FILE.h5ad and MEMBER (NULL when none). */
static char *split_spec(const char *spec, const char **member)
{
	*member = NULL;
	for (int i = 0; EXTS[i]; i++) {
		size_t k = strlen(EXTS[i]);
		for (const char *p = strstr(spec, EXTS[i]); p; p = strstr(p + 1, EXTS[i]))
			if (p[k] == ':') {
				*member = p + k + 1;
				return xstrndup(spec, (size_t)(p + k - spec));
			}
	}
	return xstrdup(spec);
}

static int has_magic(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char b[8];
	int ok = fp && fread(b, 1, 8, fp) == 8 && memcmp(b, H5_MAGIC, 8) == 0;
	if (fp)
		fclose(fp);
	return ok;
}

static int has_ext(const char *path)
{
	size_t n = strlen(path);
	for (int i = 0; EXTS[i]; i++) {
		size_t k = strlen(EXTS[i]);
		if (n > k && strcmp(path + n - k, EXTS[i]) == 0)
			return 1;
	}
	return 0;
}

/* By name too, so that a damaged .h5ad is reported as such, not as a
 * malformed TSV. */
int h5_is_spec(const char *spec)
{
	const char *member;
	char *path = split_spec(spec, &member);
	int yes = member != NULL || (strcmp(path, "-") != 0 && (has_ext(path) || has_magic(path)));
	free(path);
	return yes;
}

static int flavor_of(const h5f_t *f)
{
	hid_t root = f->id;
	char *enc = h5_attr_str(root, "encoding-type");
	int h5ad = enc && strcmp(enc, "anndata") == 0;
	free(enc);
	if (h5ad || (h5_kind(root, "obs") != H5K_NONE && h5_kind(root, "var") != H5K_NONE))
		return FL_H5AD;
	if (h5_kind(root, "matrix") == H5K_GROUP && h5_kind(root, "matrix/barcodes") == H5K_DATASET)
		return FL_10X;
	if (h5_kind(root, "matrix") == H5K_DATASET && h5_kind(root, "row_attrs") == H5K_GROUP)
		return FL_LOOM;
	size_t n;
	char **kids = h5_children(root, &n);
	int v2 = 0;
	for (size_t i = 0; i < n && !v2; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/genes", kids[i]);
		v2 = h5_kind(root, p) == H5K_DATASET;
	}
	h5_free_strs(kids, n);
	return v2 ? FL_10X2 : FL_HDF5;
}

static int dtype_of(hid_t d, const char *path, const char *file)
{
	size_t sz;
	switch (h5_type_kind(d, &sz)) {
	case H5T_K_FLOAT: return sz <= 4 ? AK_F32 : AK_F64;
	case H5T_K_INT: return sz <= 4 ? AK_I32 : AK_I64;
	case H5T_K_UINT: case H5T_K_BOOL: return sz <= 2 ? AK_I32 : AK_I64;
	}
	die("%s: %s holds %s values, not numbers", file, path, h5_type_desc(d));
}

static hid_t native(int dtype)
{
	switch (dtype) {
	case AK_F32: return H5T_NATIVE_FLOAT;
	case AK_I32: return H5T_NATIVE_INT32;
	case AK_I64: return H5T_NATIVE_INT64;
	}
	return H5T_NATIVE_DOUBLE;
}

/* Dies saying that `path` is missing and what its parent group holds. */
static _Noreturn void missing(const h5f_t *f, const char *path, const char *what)
{
	char *parent = xstrdup(path);
	char *slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(parent, "/");
	char list[600] = "nothing";
	if (h5_kind(f->id, parent) == H5K_GROUP) {
		hid_t g = h5_gopen(f, f->id, parent);
		size_t n;
		char **kids = h5_children(g, &n);
		h5_join(list, sizeof list, kids, n);
		h5_free_strs(kids, n);
		H5Gclose(g);
	} else {
		snprintf(list, sizeof list, "no group %s", parent);
	}
	die("%s: no %s '%s' (%s%s holds: %s)", f->path, what, path, parent, strcmp(parent, "/") ? "/" : "",
	    list);
}

/* The sparse group's storage and shape: anndata >= 0.7 (encoding-type,
 * shape), anndata 0.6 (h5sparse_format, h5sparse_shape), 10x (no
 * attribute, a shape dataset, CSC). */
static void open_sparse(const h5f_t *f, const char *path, h5m_t *m)
{
	hid_t g = h5_gopen(f, f->id, path);
	char *enc = h5_attr_str(g, "encoding-type");
	char *old = h5_attr_str(g, "h5sparse_format");
	int64_t shape[2];
	int ns = h5_attr_i64s(g, enc ? "shape" : "h5sparse_shape", shape, 2);
	if (enc && strcmp(enc, "csr_matrix") == 0) m->csr = 1;
	else if (enc && strcmp(enc, "csc_matrix") == 0) m->csr = 0;
	else if (!enc && old && strcmp(old, "csr") == 0) m->csr = 1;
	else if (!enc && old && strcmp(old, "csc") == 0) m->csr = 0;
	else if (!enc && !old && h5_kind(g, "shape") == H5K_DATASET && h5_kind(g, "indptr") == H5K_DATASET) {
		hid_t sd = h5_dopen(f, g, "shape");
		int64_t n;
		int64_t *s = h5_read_i64(sd, &n);
		if (n != 2)
			die("%s: %s/shape has %lld values, not 2", f->path, path, (long long)n);
		shape[0] = s[0];
		shape[1] = s[1];
		ns = 2;
		free(s);
		H5Dclose(sd);
		m->csr = 0;
	} else
		die("%s: %s is a group with encoding '%s', not a matrix (dense dataset, csr_matrix or csc_matrix)",
		    f->path, path, enc ? enc : old ? old : "(none)");
	if (ns != 2 || shape[0] < 0 || shape[1] < 0)
		die("%s: %s: no valid 2-D shape attribute", f->path, path);
	m->sparse = 1;
	m->rows = m->dims[0] = shape[0];
	m->cols = m->dims[1] = shape[1];
	m->ndim = 2;
	const char *part[3] = { "data", "indices", "indptr" };
	hid_t *h[3] = { &m->data, &m->indices, &m->indptr };
	for (int i = 0; i < 3; i++) {
		if (h5_kind(g, part[i]) != H5K_DATASET) {
			char p[600];
			snprintf(p, sizeof p, "%s/%s", path, part[i]);
			missing(f, p, "dataset");
		}
		*h[i] = h5_dopen(f, g, part[i]);
	}
	m->dtype = dtype_of(m->data, path, f->path);
	int64_t nd[1], ni[1], np[1];
	if (h5_dims(m->data, nd, 1) != 1 || h5_dims(m->indices, ni, 1) != 1 || h5_dims(m->indptr, np, 1) != 1)
		die("%s: %s: data, indices and indptr must be 1-D", f->path, path);
	if (nd[0] != ni[0])
		die("%s: %s: %lld data but %lld indices", f->path, path, (long long)nd[0], (long long)ni[0]);
	int64_t major = m->csr ? m->rows : m->cols;
	if (np[0] != major + 1)
		die("%s: %s: indptr has %lld entries, the %s shape %lld x %lld needs %lld", f->path, path,
		    (long long)np[0], m->csr ? "CSR" : "CSC", (long long)m->rows, (long long)m->cols,
		    (long long)major + 1);
	free(enc);
	free(old);
	H5Gclose(g);
}

static void open_matrix(const h5f_t *f, const char *path, h5m_t *m)
{
	memset(m, 0, sizeof *m);
	m->dense = m->data = m->indices = m->indptr = -1;
	int k = h5_kind(f->id, path);
	if (k == H5K_NONE)
		missing(f, path, "matrix");
	if (k == H5K_GROUP) {
		open_sparse(f, path, m);
		return;
	}
	m->dense = h5_dopen(f, f->id, path);
	m->ndim = h5_dims(m->dense, m->dims, AK_MAXDIM);
	if (m->ndim < 1)
		die("%s: %s is a scalar, not a matrix", f->path, path);
	m->rows = m->dims[0];
	m->cols = 1;
	for (int i = 1; i < m->ndim; i++)
		m->cols *= m->dims[i];
	m->dtype = dtype_of(m->dense, path, f->path);
}

static void close_matrix(h5m_t *m)
{
	hid_t h[4] = { m->dense, m->data, m->indices, m->indptr };
	for (int i = 0; i < 4; i++)
		if (h[i] >= 0)
			H5Dclose(h[i]);
}

/* Which object the member names, per layout; sets genes_rows, var, group. */
static char *resolve(h5x_t *x, const char *member)
{
	const h5f_t *f = x->f;
	switch (x->flavor) {
	case FL_H5AD:
		if (!member || !*member || strcmp(member, "X") == 0) {
			if (h5_kind(f->id, "X") == H5K_NONE)
				die("%s: no X (an AnnData file written with X=None): name a layer, "
				    "e.g. %s:layers/counts", f->path, f->path);
			member = "X";
		}
		x->var = xstrdup(strncmp(member, "raw/", 4) == 0 ? "raw/var" : "var");
		x->embedding = strncmp(member, "obsm/", 5) == 0;
		return xstrdup(member);
	case FL_10X:
		/* a member other than "matrix" names feature types (see pick_features) */
		x->genes_rows = 1;
		x->group = xstrdup("matrix");
		return xstrdup("matrix");
	case FL_10X2: {
		x->genes_rows = 1;
		size_t n;
		char **kids = h5_children(f->id, &n);
		for (size_t i = 0; i < n && !x->group; i++) {
			char p[512];
			snprintf(p, sizeof p, "%s/genes", kids[i]);
			if ((!member || !*member || strcmp(member, kids[i]) == 0) && h5_kind(f->id, p) == H5K_DATASET)
				x->group = xstrdup(kids[i]);
		}
		h5_free_strs(kids, n);
		if (!x->group)
			missing(f, member, "genome group");
		return xstrdup(x->group);
	}
	case FL_LOOM:
		x->genes_rows = 1;
		return xstrdup(member && *member ? member : "matrix");
	}
	if (!member || !*member)
		die("%s: an HDF5 file that is not AnnData, 10x or loom: name the matrix as %s:PATH "
		    "(mat info lists them)", f->path, f->path);
	return xstrdup(member);
}

#define GEX "Gene Expression"

/* The distinct values of v[0..n) in order of first appearance, with counts. */
static int64_t distinct(char **v, int64_t n, char ***val, int64_t **cnt)
{
	int64_t k = 0;
	*val = NULL;
	*cnt = NULL;
	for (int64_t i = 0; i < n; i++) {
		int64_t j = 0;
		while (j < k && strcmp((*val)[j], v[i]))
			j++;
		if (j == k) {
			*val = xreallocarray(*val, (size_t)k + 1, sizeof **val);
			*cnt = xreallocarray(*cnt, (size_t)k + 1, sizeof **cnt);
			(*val)[k] = v[i];
			(*cnt)[k++] = 0;
		}
		(*cnt)[j]++;
	}
	return k;
}

/* "Gene Expression (14), CRISPR Guide Capture (2)" into buf. */
static void type_list(char *buf, size_t cap, char **val, const int64_t *cnt, int64_t k)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int64_t j = 0; j < k && len < cap; j++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s (%lld)", j ? ", " : "", val[j],
				       (long long)cnt[j]);
}

/* Whether the comma-separated list names type t. */
static int listed(const char *list, const char *t)
{
	size_t n = strlen(t);
	for (const char *p = list; p;) {
		const char *e = strchr(p, ',');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		if (k == n && strncmp(p, t, n) == 0)
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

/* Dies unless every type of the list `want` is among the file's k types. */
static void check_types(const h5f_t *f, const char *want, int named, char **val, const int64_t *cnt,
			int64_t k)
{
	char have[600];
	type_list(have, sizeof have, val, cnt, k);
	const char *eg = k ? val[0] : "TYPE";
	for (const char *p = want; p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int64_t j = 0;
		while (j < k && !(strlen(val[j]) == len && strncmp(val[j], p, len) == 0))
			j++;
		if (j == k && named)
			die("%s: no features of type '%.*s' (the file has: %s; the member of a 10x file is "
			    "'matrix' or feature types, as '%s:%s')", f->path, (int)len, p, have, f->path, eg);
		if (j == k)
			die("%s: no Gene Expression features (the file has: %s): name the type to read, "
			    "as '%s:%s'", f->path, have, f->path, eg);
		p = e ? e + 1 : NULL;
	}
}

/* "reading the 14 Gene Expression features of 18; left out 2 Antibody
 * Capture, 2 CRISPR Guide Capture" on stderr. */
static void note_left_out(const h5x_t *x, int64_t n, char **val, const int64_t *cnt, int64_t k)
{
	char out[600];
	size_t len = 0;
	out[0] = '\0';
	for (int64_t j = 0; j < k && len < sizeof out; j++)
		if (strcmp(val[j], GEX))
			len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld %s", len ? ", " : "",
					       (long long)cnt[j], val[j]);
	warn("%s: reading the %lld Gene Expression features of %lld; left out %s (read those as '%s:TYPE')",
	     x->f->path, (long long)x->nkeep, (long long)n, out, x->f->path);
}

/* A 10x file of several modalities (CellRanger's CRISPR Guide Capture,
 * Antibody Capture) keeps every feature in one matrix: read as genes, the
 * guides' counts would enter library sizes, HVGs and DE. So FILE.h5 (or
 * FILE.h5:matrix) is its Gene Expression rows, as scanpy.read_10x_h5's
 * gex_only=True default reads it, and FILE.h5:TYPE[,TYPE...] names the
 * feature types to read instead. `loud` says on stderr what was left out
 * (naming the types is asking for it: silent). */
static void pick_features(h5x_t *x, const char *member, int loud)
{
	const h5f_t *f = x->f;
	int named = member && *member && strcmp(member, "matrix") != 0;
	const char *ft = "matrix/features/feature_type";
	if (h5_kind(f->id, ft) != H5K_DATASET) {
		if (named)
			die("%s: a 10x file holds one matrix ('matrix'), not '%s' (no %s to select by)", f->path,
			    member, ft);
		return;
	}
	hid_t d = h5_dopen(f, f->id, ft);
	int64_t n;
	char **type = h5frame_strings(f, d, ft, &n);
	H5Dclose(d);
	if (n != x->m.rows)
		die("%s: %s has %lld values for %lld features", f->path, ft, (long long)n, (long long)x->m.rows);
	char **val;
	int64_t *cnt, k = distinct(type, n, &val, &cnt);
	const char *want = named ? member : GEX;
	check_types(f, want, named, val, cnt, k);
	x->types = xstrdup(want);
	x->keep = xmallocarray((size_t)(n ? n : 1), sizeof *x->keep);
	for (int64_t i = 0; i < n; i++)
		x->keep[i] = listed(want, type[i]) ? x->nkeep++ : -1;
	if (x->nkeep == n) {
		/* every feature is read: no view */
		free(x->keep);
		x->keep = NULL;
	}
	if (loud && !named && x->keep)
		note_left_out(x, n, val, cnt, k);
	free(val);
	free(cnt);
	h5_free_strs(type, (size_t)n);
}

static h5x_t *x_open(const char *spec, int loud)
{
	const char *member;
	char *path = split_spec(spec, &member);
	h5x_t *x = xcalloc(1, sizeof *x);
	x->f = h5_open(path);
	x->src = xstrdup(spec);
	x->flavor = flavor_of(x->f);
	x->path = resolve(x, member);
	open_matrix(x->f, x->path, &x->m);
	if (x->flavor == FL_10X)
		pick_features(x, member, loud);
	free(path);
	return x;
}

h5x_t *h5x_open(const char *spec)
{
	h5x_t *x = x_open(spec, 1);
	if (x->embedding)
		die("%s: %s is an embedding (cells x dimensions), not counts: use it as cluster --embedding",
		    x->f->path, x->path);
	if (x->m.ndim != 2)
		die("%s: %s is %lld-D, counts must be 2-D", x->f->path, x->path, (long long)x->m.ndim);
	return x;
}

void h5x_close(h5x_t *x)
{
	if (!x)
		return;
	close_matrix(&x->m);
	h5_close(x->f);
	free(x->src);
	free(x->path);
	free(x->group);
	free(x->var);
	free(x->keep);
	free(x->types);
	free(x);
}

int64_t h5x_ncells(const h5x_t *x) { return x->genes_rows ? x->m.cols : x->m.rows; }
int64_t h5x_ngenes(const h5x_t *x)
{
	return x->keep ? x->nkeep : x->genes_rows ? x->m.rows : x->m.cols;
}
const char *h5x_src(const h5x_t *x) { return x->src; }

static const char *const LOOM_CELL[] = { "CellID", "obs_names", "cell_names", NULL };
static const char *const LOOM_GENE[] = { "Gene", "var_names", "gene_names", "Accession", NULL };
static const char *const TENX_FEAT[] = { "id", NULL };
static const char *const TENX2_GENE[] = { "genes", NULL };
static const char *const TENX_CELL[] = { "barcodes", NULL };

/* The table of one axis (cells: obs = 1, genes: 0) of the file's layout. */
static h5frame_t *frame(h5x_t *x, int obs)
{
	const h5f_t *f = x->f;
	char p[600];
	switch (x->flavor) {
	case FL_H5AD:
		return h5frame_anndata(f, obs ? "obs" : x->var ? x->var : "var");
	case FL_LOOM:
		return h5frame_attrs(f, obs ? "col_attrs" : "row_attrs", obs ? LOOM_CELL : LOOM_GENE);
	case FL_10X:
		return h5frame_attrs(f, obs ? "matrix" : "matrix/features", obs ? TENX_CELL : TENX_FEAT);
	case FL_10X2:
		/* genes, gene_names, barcodes all live in the genome group */
		snprintf(p, sizeof p, "%s", x->group);
		if (obs) {
			h5frame_t *fr = h5frame_attrs(f, p, TENX_CELL);
			/* keep the index only: the other 1-D datasets are genes or entries */
			for (int i = 1; i < fr->ncol; i++) {
				h5_free_strs(fr->col[i].v, (size_t)fr->rows);
				free(fr->col[i].name);
				free(fr->col[i].dtype);
			}
			fr->ncol = 1;
			return fr;
		}
		return h5frame_attrs(f, p, TENX2_GENE);
	}
	return NULL;
}

static void check_len(const h5x_t *x, const h5frame_t *fr, int64_t want, const char *what)
{
	if (fr->rows != want)
		die("%s: %lld rows in %s, but %s has %lld %s", x->f->path, (long long)fr->rows, fr->src,
		    x->path, (long long)want, what);
}

h5frame_t *h5x_obs(h5x_t *x)
{
	h5frame_t *fr = frame(x, 1);
	if (fr)
		check_len(x, fr, h5x_ncells(x), "cells");
	return fr;
}

h5frame_t *h5mat_obs(const char *spec)
{
	h5x_t *x = x_open(spec, 0);
	h5frame_t *fr = h5x_obs(x);
	h5x_close(x);
	return fr;
}

/* Column c of the genes' table, the left-out features dropped; takes the
 * values out of fr. */
static char **view_col(const h5x_t *x, h5frame_t *fr, int c)
{
	char **v = fr->col[c].v;
	fr->col[c].v = NULL;
	if (x->keep) {
		int64_t w = 0;
		for (int64_t i = 0; i < fr->rows; i++)
			if (x->keep[i] >= 0)
				v[w++] = v[i];
			else
				free(v[i]);
	}
	return v;
}

char **h5x_genes(h5x_t *x, const char *col)
{
	h5frame_t *fr = frame(x, 0);
	if (!fr) {
		if (col)
			die("%s: --gene-col %s: this HDF5 file has no var table", x->f->path, col);
		return NULL;
	}
	check_len(x, fr, x->genes_rows ? x->m.rows : x->m.cols, "genes");
	char **v = view_col(x, fr, col ? h5frame_col(fr, col) : 0);
	h5frame_free(fr);
	return v;
}

typedef struct {
	int64_t *cell, *gene;
	double *val;
	int64_t n, cap;
} blk_t;

static void blk_grow(blk_t *b, int64_t need)
{
	if (need <= b->cap)
		return;
	b->cap = need;
	b->cell = xreallocarray(b->cell, (size_t)need, sizeof *b->cell);
	b->gene = xreallocarray(b->gene, (size_t)need, sizeof *b->gene);
	b->val = xreallocarray(b->val, (size_t)need, sizeof *b->val);
}

/* Stored (r, c) to the cells x genes view (left-out features dropped). */
static void put(const h5x_t *x, blk_t *b, int64_t r, int64_t c, double v)
{
	int64_t g = x->genes_rows ? r : c;
	if (x->keep && (g = x->keep[g]) < 0)
		return;
	b->cell[b->n] = x->genes_rows ? c : r;
	b->gene[b->n] = g;
	b->val[b->n++] = v;
}

static void scan_dense(h5x_t *x, h5x_fn fn, void *ctx, blk_t *b)
{
	int64_t R = x->m.rows, C = x->m.cols;
	int64_t step = C ? H5X_BLOCK / C : R;
	step = step < 1 ? 1 : step;
	double *buf = xmallocarray((size_t)(step * (C ? C : 1)), sizeof *buf);
	blk_grow(b, step * (C ? C : 1));
	for (int64_t r0 = 0; r0 < R; r0 += step) {
		int64_t nr = R - r0 < step ? R - r0 : step;
		h5_read_rows(x->m.dense, r0, nr, H5T_NATIVE_DOUBLE, buf);
		b->n = 0;
		for (int64_t i = 0; i < nr; i++)
			for (int64_t j = 0; j < C; j++)
				if (buf[i * C + j] != 0)
					put(x, b, r0 + i, j, buf[i * C + j]);
		fn(ctx, b->cell, b->gene, b->val, b->n);
	}
	free(buf);
}

static void scan_sparse(h5x_t *x, h5x_fn fn, void *ctx, blk_t *b)
{
	const h5m_t *m = &x->m;
	int64_t np, nnz[1];
	int64_t *ptr = h5_read_i64(m->indptr, &np);
	h5_dims(m->data, nnz, 1);
	int64_t major = np - 1, minor = m->csr ? m->cols : m->rows;
	for (int64_t i = 0; i < major; i++)
		if (ptr[i] < 0 || ptr[i + 1] < ptr[i] || ptr[i + 1] > nnz[0])
			die("%s: %s/indptr is not non-decreasing within 0..%lld at %lld", x->f->path, x->path,
			    (long long)nnz[0], (long long)i);
	int64_t *idx = NULL;
	for (int64_t i0 = 0; i0 < major;) {
		int64_t i1 = i0 + 1;
		while (i1 < major && ptr[i1 + 1] - ptr[i0] <= H5X_BLOCK)
			i1++;
		int64_t k0 = ptr[i0], k = ptr[i1] - k0;
		if (k > b->cap) {
			blk_grow(b, k);
			idx = xreallocarray(idx, (size_t)k, sizeof *idx);
		} else if (!idx)
			idx = xmallocarray((size_t)(b->cap ? b->cap : 1), sizeof *idx);
		h5_read_rows(m->indices, k0, k, H5T_NATIVE_INT64, idx);
		h5_read_rows(m->data, k0, k, H5T_NATIVE_DOUBLE, b->val);
		b->n = 0;
		for (int64_t i = i0; i < i1; i++)
			for (int64_t e = ptr[i] - k0; e < ptr[i + 1] - k0; e++) {
				if (idx[e] < 0 || idx[e] >= minor)
					die("%s: %s/indices: %lld at entry %lld is outside 0..%lld", x->f->path,
					    x->path, (long long)idx[e], (long long)(e + k0), (long long)minor - 1);
				double v = b->val[e];
				if (m->csr)
					put(x, b, i, idx[e], v);
				else
					put(x, b, idx[e], i, v);
			}
		fn(ctx, b->cell, b->gene, b->val, b->n);
		i0 = i1;
	}
	free(idx);
	free(ptr);
}

void h5x_scan(h5x_t *x, h5x_fn fn, void *ctx)
{
	blk_t b = { 0 };
	blk_grow(&b, H5X_BLOCK);
	if (x->m.sparse)
		scan_sparse(x, fn, ctx, &b);
	else
		scan_dense(x, fn, ctx, &b);
	free(b.cell);
	free(b.gene);
	free(b.val);
}

/* Sparse or transposed into a dense cells x genes matrix (duplicates add,
 * as scipy's toarray does). */
static void fill_dense(void *ctx, const int64_t *cell, const int64_t *gene, const double *val, int64_t n)
{
	akmat_t *m = ctx;
	for (int64_t i = 0; i < n; i++) {
		int64_t at = cell[i] * m->cols + gene[i];
		switch (m->dtype) {
		case AK_F32: ((float *)m->data)[at] += (float)val[i]; break;
		case AK_F64: ((double *)m->data)[at] += val[i]; break;
		case AK_I32: ((int32_t *)m->data)[at] += (int32_t)val[i]; break;
		case AK_I64: ((int64_t *)m->data)[at] += (int64_t)val[i]; break;
		}
	}
}

static char **take_col(h5frame_t *fr, int64_t want)
{
	if (!fr || fr->rows != want) {
		h5frame_free(fr);
		return NULL;
	}
	char **v = fr->col[0].v;
	fr->col[0].v = NULL;
	h5frame_free(fr);
	return v;
}

/* The view's gene names (NULL when the table does not fit the matrix). */
static char **gene_names(h5x_t *x)
{
	h5frame_t *fr = frame(x, 0);
	if (!fr || fr->rows != (x->genes_rows ? x->m.rows : x->m.cols)) {
		h5frame_free(fr);
		return NULL;
	}
	char **v = view_col(x, fr, 0);
	h5frame_free(fr);
	return v;
}

akmat_t *h5mat_load(const char *spec)
{
	h5x_t *x = x_open(spec, 1);
	akmat_t *m;
	if (!x->m.sparse && !x->genes_rows) {
		/* as stored, in the stored type (integers stay integers) */
		m = mat_new(x->m.dtype, (int)x->m.ndim, x->m.dims);
		h5_read_rows(x->m.dense, 0, x->m.rows, native(x->m.dtype), m->data);
	} else {
		m = mat_new2(x->m.dtype, h5x_ncells(x), h5x_ngenes(x));
		h5x_scan(x, fill_dense, m);
	}
	if (x->flavor != FL_HDF5) {
		m->rownames = take_col(frame(x, 1), m->rows);
		if (m->ndim == 2 && !x->embedding)
			m->colnames = gene_names(x);
	}
	m->src = xstrdup(x->src);
	h5x_close(x);
	return m;
}

/* ---- mat info ---- */

static void row(wr_t *w, const char *path, const char *kind, const int64_t *dims, int nd,
		const char *dtype)
{
	wr_puts(w, path);
	wr_putc(w, '\t');
	wr_puts(w, kind);
	wr_putc(w, '\t');
	for (int i = 0; i < nd; i++) {
		if (i)
			wr_puts(w, " x ");
		wr_i64(w, dims[i]);
	}
	wr_putc(w, '\t');
	wr_puts(w, dtype);
	wr_putc(w, '\n');
}

/* "a/b" ("b" under the root), malloc'd. */
static char *join_path(const char *a, const char *b)
{
	int root = strcmp(a, "/") == 0;
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = xmalloc(n);
	snprintf(p, n, "%s%s%s", root ? "" : a, root ? "" : "/", b);
	return p;
}

static void info_frame(const h5f_t *f, wr_t *w, const char *path)
{
	h5frame_t *fr = h5frame_anndata(f, path);
	int64_t d[2] = { fr->rows, fr->ncol - 1 };
	row(w, path, "dataframe", d, 2, "");
	for (int i = 0; i < fr->ncol; i++) {
		char dt[64], *p = join_path(path, fr->col[i].name);
		if (fr->col[i].nlevels >= 0)
			snprintf(dt, sizeof dt, "category (%lld)", (long long)fr->col[i].nlevels);
		else
			snprintf(dt, sizeof dt, "%s", fr->col[i].dtype ? fr->col[i].dtype : "");
		row(w, p, i ? "column" : "index", &fr->rows, 1, dt);
		free(p);
	}
	h5frame_free(fr);
}

static void info_group(const h5f_t *f, wr_t *w, const char *path, int skip_sparse);

static void info_object(const h5f_t *f, wr_t *w, const char *path)
{
	int k = h5_kind(f->id, path);
	if (k == H5K_DATASET) {
		hid_t d = h5_dopen(f, f->id, path);
		int64_t dims[H5S_MAX_RANK];
		int nd = h5_dims(d, dims, H5S_MAX_RANK);
		row(w, path, "dataset", dims, nd, h5_type_desc(d));
		H5Dclose(d);
		return;
	}
	if (k != H5K_GROUP)
		return;
	hid_t g = h5_gopen(f, f->id, path);
	char *enc = h5_attr_str(g, "encoding-type");
	char *old = h5_attr_str(g, "h5sparse_format");
	int sparse = (enc && strstr(enc, "_matrix")) || old ||
		     (!enc && h5_kind(g, "indptr") == H5K_DATASET && h5_kind(g, "shape") == H5K_DATASET);
	int df = (enc && strcmp(enc, "dataframe") == 0) || (!enc && H5Aexists(g, "_index") > 0);
	H5Gclose(g);
	if (sparse) {
		h5m_t m;
		open_sparse(f, path, &m);
		row(w, path, m.csr ? "csr_matrix" : "csc_matrix", m.dims, 2, ak_dtype_name(m.dtype));
		close_matrix(&m);
		info_group(f, w, path, 1);   /* 10x keeps barcodes and features beside */
	} else if (df) {
		info_frame(f, w, path);
	} else {
		info_group(f, w, path, 0);
	}
	free(enc);
	free(old);
}

static int sparse_part(const char *name)
{
	return strcmp(name, "data") == 0 || strcmp(name, "indices") == 0 || strcmp(name, "indptr") == 0 ||
	       strcmp(name, "shape") == 0;
}

/* Every object under path; skip_sparse leaves out the parts of a sparse
 * matrix already shown as one line. */
static void info_group(const h5f_t *f, wr_t *w, const char *path, int skip_sparse)
{
	hid_t g = h5_gopen(f, f->id, path);
	size_t n;
	char **kids = h5_children(g, &n);
	H5Gclose(g);
	for (size_t i = 0; i < n; i++) {
		if (skip_sparse && sparse_part(kids[i]))
			continue;
		char *p = join_path(path, kids[i]);
		info_object(f, w, p);
		free(p);
	}
	h5_free_strs(kids, n);
}

/* A 10x file of several feature types: one line per type, named as the
 * member that reads it (FILE.h5:TYPE). */
static void info_types(const h5x_t *x, wr_t *w)
{
	const char *ft = "matrix/features/feature_type";
	hid_t d = h5_dopen(x->f, x->f->id, ft);
	int64_t n;
	char **type = h5frame_strings(x->f, d, ft, &n);
	H5Dclose(d);
	char **val;
	int64_t *cnt, k = distinct(type, n, &val, &cnt);
	for (int64_t j = 0; j < k; j++) {
		int64_t dims[2] = { h5x_ncells(x), cnt[j] };
		row(w, val[j], "10x feature type (cells x features)", dims, 2, ak_dtype_name(x->m.dtype));
	}
	free(val);
	free(cnt);
	h5_free_strs(type, (size_t)n);
}

int h5mat_info(const char *spec, wr_t *w)
{
	const char *member;
	char *path = split_spec(spec, &member);
	if (member) {
		free(path);
		return 0;
	}
	h5f_t *f = h5_open(path);
	int fl = flavor_of(f);
	wr_puts(w, "path\tkind\tshape\tdtype\n");
	if (fl != FL_HDF5 && (fl != FL_H5AD || h5_kind(f->id, "X") != H5K_NONE)) {
		/* the default matrix first, cells x genes */
		h5x_t *x = x_open(path, 0);
		int64_t d[2] = { h5x_ncells(x), h5x_ngenes(x) };
		char kind[1200];
		snprintf(kind, sizeof kind, "%s (cells x genes: %s%s%s)", FLAVOR[fl], x->path,
			 x->keep ? ", " : "", x->keep ? x->types : "");
		row(w, "/", kind, d, 2, ak_dtype_name(x->m.dtype));
		if (x->keep)
			info_types(x, w);
		h5x_close(x);
	}
	info_group(f, w, "/", 0);
	h5_close(f);
	free(path);
	return 1;
}
