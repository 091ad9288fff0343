#include "mat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "h5mat.h"
#include "in.h"
#include "matspec.h"
#include "out.h"
#include "xalloc.h"

/* Files are little-endian and data are copied as they lie in memory. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "attnkit assumes a little-endian host");

size_t ak_dtype_size(int dtype)
{
	switch (dtype) {
	case AK_F32: case AK_I32: return 4;
	case AK_F64: case AK_I64: return 8;
	}
	return 0;
}

const char *ak_dtype_name(int dtype)
{
	switch (dtype) {
	case AK_F32: return "float32";
	case AK_F64: return "float64";
	case AK_I32: return "int32";
	case AK_I64: return "int64";
	}
	return "unknown";
}

int ak_dtype_parse(const char *s)
{
	static const struct { const char *n; int d; } t[] = {
		{ "f32", AK_F32 }, { "float32", AK_F32 }, { "f4", AK_F32 },
		{ "f64", AK_F64 }, { "float64", AK_F64 }, { "f8", AK_F64 },
		{ "i32", AK_I32 }, { "int32", AK_I32 }, { "i4", AK_I32 },
		{ "i64", AK_I64 }, { "int64", AK_I64 }, { "i8", AK_I64 },
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (strcmp(s, t[i].n) == 0)
			return t[i].d;
	return 0;
}

static int64_t shape_count(int ndim, const int64_t *shape)
{
	/* bound over the nonzero extents: a zero one must not hide an overflow */
	int64_t n = 1, bound = 1;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			die("negative dimension %lld", (long long)shape[i]);
		if (shape[i] && bound > INT64_MAX / shape[i])
			die("shape too large");
		n *= shape[i];
		if (shape[i])
			bound *= shape[i];
	}
	return n;
}

static akmat_t *mat_shell(int dtype, int ndim, const int64_t *shape)
{
	if (ndim < 1 || ndim > AK_MAXDIM)
		die("unsupported number of dimensions: %d", ndim);
	akmat_t *m = xcalloc(1, sizeof *m);
	m->dtype = dtype;
	m->ndim = ndim;
	memcpy(m->shape, shape, (size_t)ndim * sizeof *shape);
	int64_t n = shape_count(ndim, shape);
	m->rows = shape[0];
	m->cols = m->rows ? n / m->rows : shape_count(ndim - 1, shape + 1);
	return m;
}

akmat_t *mat_new(int dtype, int ndim, const int64_t *shape)
{
	akmat_t *m = mat_shell(dtype, ndim, shape);
	m->data = xcalloc((size_t)mat_count(m), ak_dtype_size(dtype));
	return m;
}

akmat_t *mat_new2(int dtype, int64_t rows, int64_t cols)
{
	int64_t s[2] = { rows, cols };
	return mat_new(dtype, 2, s);
}

static void free_names(char **v, int64_t n)
{
	if (!v)
		return;
	for (int64_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void mat_free(akmat_t *m)
{
	if (!m)
		return;
	free_names(m->rownames, m->rows);
	free_names(m->colnames, m->cols);
	free(m->data);
	free(m->src);
	free(m);
}

int64_t mat_count(const akmat_t *m) { return m->rows * m->cols; }

double mat_get(const akmat_t *m, int64_t i)
{
	switch (m->dtype) {
	case AK_F32: return ((const float *)m->data)[i];
	case AK_F64: return ((const double *)m->data)[i];
	case AK_I32: return ((const int32_t *)m->data)[i];
	case AK_I64: return (double)((const int64_t *)m->data)[i];
	}
	return NAN;
}

static char **copy_names(char **v, int64_t n)
{
	if (!v)
		return NULL;
	char **c = xmallocarray((size_t)n, sizeof *c);
	for (int64_t i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	return c;
}

akmat_t *mat_convert(const akmat_t *m, int dtype)
{
	akmat_t *c = mat_new(dtype, m->ndim, m->shape);
	int64_t n = mat_count(m);
	if (dtype == m->dtype) {
		memcpy(c->data, m->data, (size_t)n * ak_dtype_size(dtype));
	} else if (dtype == AK_I64 && m->dtype == AK_I32) {
		for (int64_t i = 0; i < n; i++)
			((int64_t *)c->data)[i] = ((const int32_t *)m->data)[i];
	} else {
		for (int64_t i = 0; i < n; i++) {
			double v = mat_get(m, i);
			switch (dtype) {
			case AK_F32: ((float *)c->data)[i] = (float)v; break;
			case AK_F64: ((double *)c->data)[i] = v; break;
			case AK_I32:
				if (!(v >= INT32_MIN && v <= INT32_MAX))
					die("%s: value %g does not fit int32", m->src ? m->src : "matrix", v);
				((int32_t *)c->data)[i] = (int32_t)v;
				break;
			case AK_I64:
				if (!(v >= -9.2e18 && v <= 9.2e18))
					die("%s: value %g does not fit int64", m->src ? m->src : "matrix", v);
				((int64_t *)c->data)[i] = (int64_t)v;
				break;
			}
		}
	}
	c->rownames = copy_names(m->rownames, m->rows);
	c->colnames = copy_names(m->colnames, m->cols);
	c->src = m->src ? xstrdup(m->src) : NULL;
	return c;
}

float *mat_f32(const akmat_t *m)
{
	int64_t n = mat_count(m);
	float *p = xmallocarray((size_t)n, sizeof *p);
	if (m->dtype == AK_F32)
		memcpy(p, m->data, (size_t)n * sizeof *p);
	else
		for (int64_t i = 0; i < n; i++)
			p[i] = (float)mat_get(m, i);
	return p;
}

double *mat_f64(const akmat_t *m)
{
	int64_t n = mat_count(m);
	double *p = xmallocarray((size_t)n, sizeof *p);
	for (int64_t i = 0; i < n; i++)
		p[i] = mat_get(m, i);
	return p;
}

void mat_check_finite(const akmat_t *m)
{
	if (m->dtype == AK_I32 || m->dtype == AK_I64)
		return;
	int64_t n = mat_count(m);
	for (int64_t i = 0; i < n; i++) {
		double v = mat_get(m, i);
		if (!isfinite(v))
			die("%s: row %lld, column %lld: %s (only finite values are allowed)",
			    m->src ? m->src : "matrix", (long long)(i / m->cols + 1),
			    (long long)(i % m->cols + 1), isnan(v) ? "NaN" : "infinity");
	}
}

void mat_read_exact(rd_t *r, void *buf, size_t n, const char *what)
{
	size_t k = rd_read(r, buf, n);
	if (k != n)
		die("%s: truncated %s: expected %zu more bytes, found %zu", rd_name(r), what, n, k);
}

void *mat_read_data(rd_t *r, int64_t count, size_t esz, const char *what)
{
	size_t total = xmul((size_t)count, esz);
	/* Grow as bytes arrive: a false shape claim fails on truncation first. */
	size_t cap = total < (64u << 20) ? total : (64u << 20);
	unsigned char *p = xmalloc(cap ? cap : 1);
	size_t got = 0;
	while (got < total) {
		if (got == cap) {
			cap = cap > total / 2 ? total : cap * 2;
			p = xrealloc(p, cap);
		}
		size_t k = rd_read(r, p + got, cap - got);
		if (k == 0)
			die("%s: truncated %s: shape says %zu bytes of data, found %zu", rd_name(r), what,
			    total, got);
		got += k;
	}
	return p;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

int fmt_from_name(const char *path)
{
	size_t n = strlen(path);
	char *p = xstrndup(path, n);
	if (ends_with(p, ".gz"))
		p[n - 3] = '\0';
	int f = FMT_NONE;
	if (ends_with(p, ".npy")) f = FMT_NPY;
	else if (ends_with(p, ".npz")) f = FMT_NPZ;
	else if (ends_with(p, ".akm")) f = FMT_AKM;
	else if (ends_with(p, ".mtx")) f = FMT_MTX;
	else if (ends_with(p, ".tsv") || ends_with(p, ".txt")) f = FMT_TSV;
	else if (ends_with(p, ".h5ad") || ends_with(p, ".h5") || ends_with(p, ".loom")) f = FMT_H5;
	free(p);
	return f;
}

int fmt_parse(const char *s)
{
	if (strcmp(s, "npy") == 0) return FMT_NPY;
	if (strcmp(s, "akm") == 0) return FMT_AKM;
	if (strcmp(s, "mtx") == 0) return FMT_MTX;
	if (strcmp(s, "tsv") == 0) return FMT_TSV;
	if (strcmp(s, "npz") == 0) return FMT_NPZ;
	return FMT_NONE;
}

const char *fmt_name(int fmt)
{
	switch (fmt) {
	case FMT_NPY: return "npy";
	case FMT_NPZ: return "npz";
	case FMT_AKM: return "akm";
	case FMT_MTX: return "mtx";
	case FMT_TSV: return "tsv";
	case FMT_H5: return "hdf5";
	case FMT_SAFETENSORS: return "safetensors";
	}
	return "none";
}

static const unsigned char NPY_MAGIC[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };
extern const unsigned char AKM_MAGIC[8];

akmat_t *mat_load_fmt(const char *spec, int *fmt)
{
	/* FILE.safetensors:TENSOR and SPEC[a:b] row ranges (matspec.c). */
	akmat_t *sp = mat_load_special(spec, fmt);
	if (sp)
		return sp;
	/* "a.npz:member": split at the last ':' after ".npz". */
	const char *z = strstr(spec, ".npz:");
	if (z) {
		char *path = xstrndup(spec, (size_t)(z + 4 - spec));
		akmat_t *m = npz_read(path, z + 5);
		free(path);
		if (fmt)
			*fmt = FMT_NPZ;
		return m;
	}
	if (h5_is_spec(spec)) {
		if (fmt)
			*fmt = FMT_H5;
		return h5mat_load(spec);
	}
	rd_t *r = rd_open(spec);
	unsigned char head[16];
	size_t k = rd_peek(r, head, sizeof head);
	if (k == 0)
		die("%s: empty input", rd_name(r));
	if (k >= 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0)
		die("%s: HDF5 needs a file name (it cannot be read from a pipe)", rd_name(r));
	akmat_t *m;
	int f;
	if (k >= 6 && memcmp(head, NPY_MAGIC, 6) == 0) {
		f = FMT_NPY;
		m = npy_read(r);
	} else if (k >= 8 && memcmp(head, AKM_MAGIC, 8) == 0) {
		f = FMT_AKM;
		m = akm_read(r);
	} else if (k >= 4 && memcmp(head, "PK\003\004", 4) == 0) {
		mat_refuse_zip(r, spec);
		rd_close(r);
		f = FMT_NPZ;
		m = npz_read(spec, NULL);
		r = NULL;
	} else if (k >= 14 && memcmp(head, "%%MatrixMarket", 14) == 0) {
		f = FMT_MTX;
		m = mtx_read_dense(r);
	} else if (fmt_from_name(spec) == FMT_NPY || fmt_from_name(spec) == FMT_AKM) {
		die("%s: not a %s file (wrong magic bytes)", rd_name(r), fmt_name(fmt_from_name(spec)));
	} else {
		mat_refuse_binary(r, spec);   /* named, never misread as TSV */
		f = FMT_TSV;
		m = tsvmat_read(r);
	}
	if (r) {
		if (!m->src)
			m->src = xstrdup(rd_name(r));
		rd_close(r);
	}
	if (fmt)
		*fmt = f;
	return m;
}

akmat_t *mat_load(const char *spec) { return mat_load_fmt(spec, NULL); }

void mat_save(const akmat_t *m, const char *path, int fmt, int gzip)
{
	if (fmt == FMT_NONE)
		fmt = fmt_from_name(path);
	if (fmt == FMT_NONE)
		die("cannot tell the output format from '%s': use a known extension (.npy .akm .mtx .tsv, optionally .gz)", path);
	if (fmt == FMT_NPZ || fmt == FMT_H5)
		die("%s: writing .%s is not supported; write .npy or .akm", path, fmt == FMT_NPZ ? "npz" : "h5ad");
	wr_t *w = wr_open(path, gzip);
	if ((fmt == FMT_NPY || fmt == FMT_AKM) && wr_isatty(w))
		die("refusing to write binary %s data to a terminal", fmt_name(fmt));
	switch (fmt) {
	case FMT_NPY: npy_write(w, m); break;
	case FMT_AKM: akm_write(w, m); break;
	case FMT_MTX: mtx_write(w, m); break;
	case FMT_TSV: tsvmat_write(w, m); break;
	}
	wr_close(w);
}
