/* NumPy .npy, versions 1.0, 2.0 and 3.0; dtypes <f4 <f8 <i4 <i8 (and their
 * big-endian forms, swapped on read); C or Fortran order. Object arrays are
 * refused: loading them means unpickling, i.e. running code from the file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "in.h"
#include "mat.h"
#include "out.h"
#include "xalloc.h"

struct npyhdr {
	int dtype;
	int swap;
	int fortran;
	int ndim;
	int64_t shape[AK_MAXDIM];
};

static const char *find_key(const char *h, const char *key)
{
	char pat[32];
	snprintf(pat, sizeof pat, "'%s'", key);
	const char *p = strstr(h, pat);
	if (!p) {
		snprintf(pat, sizeof pat, "\"%s\"", key);
		p = strstr(h, pat);
	}
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p != ':')
		return NULL;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

/* The 'descr' string, e.g. "<f4" (at most 15 characters). */
static void descr_string(const char *name, const char *p, char *d)
{
	if (!p)
		die("%s: .npy header has no 'descr'", name);
	if (*p == '[')
		die("%s: structured (record) arrays are not supported", name);
	char q = *p;
	if (q != '\'' && q != '"')
		die("%s: .npy header: cannot read 'descr'", name);
	const char *e = strchr(p + 1, q);
	if (!e || e - p > 16)
		die("%s: .npy header: cannot read 'descr'", name);
	memcpy(d, p + 1, (size_t)(e - p - 1));
	d[e - p - 1] = '\0';
	if (strchr(d, 'O'))
		die("%s: object arrays are not supported (they are pickled Python objects, which "
		    "would run code on loading); save a numeric array, e.g. x.astype('float32')", name);
}

static void parse_descr(const char *name, const char *p, struct npyhdr *h)
{
	char d[16];
	descr_string(name, p, d);
	char end = d[0];
	const char *t = d + 1;
	if (end != '<' && end != '>' && end != '|' && end != '=')
		t = d, end = '=';
	h->swap = end == '>';
	if (strcmp(t, "f4") == 0) h->dtype = AK_F32;
	else if (strcmp(t, "f8") == 0) h->dtype = AK_F64;
	else if (strcmp(t, "i4") == 0) h->dtype = AK_I32;
	else if (strcmp(t, "i8") == 0) h->dtype = AK_I64;
	else
		die("%s: unsupported dtype '%s' (supported: <f4 <f8 <i4 <i8)", name, d);
}

static void parse_shape(const char *name, const char *p, struct npyhdr *h)
{
	if (!p || *p != '(')
		die("%s: .npy header: cannot read 'shape'", name);
	p++;
	h->ndim = 0;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')')
			break;
		if (!isdigit((unsigned char)*p))
			die("%s: .npy header: bad 'shape'", name);
		char *end;
		long long v = strtoll(p, &end, 10);
		if (h->ndim == AK_MAXDIM)
			die("%s: more than %d dimensions", name, AK_MAXDIM);
		h->shape[h->ndim++] = v;
		p = end;
		while (*p == 'L')
			p++;
	}
	if (h->ndim == 0)
		die("%s: 0-dimensional arrays (scalars) are not supported", name);
}

static void parse_header(const char *name, const char *hdr, struct npyhdr *h)
{
	memset(h, 0, sizeof *h);
	parse_descr(name, find_key(hdr, "descr"), h);
	const char *f = find_key(hdr, "fortran_order");
	if (!f)
		die("%s: .npy header has no 'fortran_order'", name);
	h->fortran = strncmp(f, "True", 4) == 0;
	parse_shape(name, find_key(hdr, "shape"), h);
}

void npy_fields(const char *name, const char *hdr, char descr[16], int *fortran, int *ndim,
		int64_t *shape)
{
	struct npyhdr h;
	memset(&h, 0, sizeof h);
	descr_string(name, find_key(hdr, "descr"), descr);
	const char *f = find_key(hdr, "fortran_order");
	if (!f)
		die("%s: .npy header has no 'fortran_order'", name);
	*fortran = strncmp(f, "True", 4) == 0;
	parse_shape(name, find_key(hdr, "shape"), &h);
	*ndim = h.ndim;
	memcpy(shape, h.shape, sizeof h.shape);
}

static void swap_bytes(void *data, int64_t n, size_t esz)
{
	unsigned char *p = data;
	for (int64_t i = 0; i < n; i++, p += esz)
		for (size_t a = 0, b = esz - 1; a < b; a++, b--) {
			unsigned char t = p[a];
			p[a] = p[b];
			p[b] = t;
		}
}

/* Fortran order -> C order for any number of dimensions. */
static void *fortran_to_c(const void *src, const struct npyhdr *h, size_t esz)
{
	int64_t n = 1;
	for (int i = 0; i < h->ndim; i++)
		n *= h->shape[i];
	unsigned char *dst = xmallocarray((size_t)n, esz);
	int64_t idx[AK_MAXDIM] = { 0 };
	int64_t fstride[AK_MAXDIM];
	fstride[0] = 1;
	for (int i = 1; i < h->ndim; i++)
		fstride[i] = fstride[i - 1] * h->shape[i - 1];
	for (int64_t c = 0; c < n; c++) {
		int64_t f = 0;
		for (int i = 0; i < h->ndim; i++)
			f += idx[i] * fstride[i];
		memcpy(dst + (size_t)c * esz, (const unsigned char *)src + (size_t)f * esz, esz);
		for (int i = h->ndim - 1; i >= 0; i--) {
			if (++idx[i] < h->shape[i])
				break;
			idx[i] = 0;
		}
	}
	return dst;
}

static akmat_t *finish(void *data, const struct npyhdr *h)
{
	size_t esz = ak_dtype_size(h->dtype);
	int64_t n = 1;
	for (int i = 0; i < h->ndim; i++)
		n *= h->shape[i];
	if (h->swap)
		swap_bytes(data, n, esz);
	if (h->fortran && h->ndim > 1) {
		void *c = fortran_to_c(data, h, esz);
		free(data);
		data = c;
	}
	akmat_t *m = xcalloc(1, sizeof *m);
	m->dtype = h->dtype;
	m->ndim = h->ndim;
	memcpy(m->shape, h->shape, sizeof h->shape);
	m->rows = h->shape[0];
	m->cols = 1;
	for (int i = 1; i < h->ndim; i++)
		m->cols *= h->shape[i];
	m->data = data;
	return m;
}

static size_t header_len(const unsigned char *pre, const char *name, int *major)
{
	*major = pre[6];
	if (*major == 1)
		return (size_t)pre[8] | (size_t)pre[9] << 8;
	if (*major == 2 || *major == 3)
		return (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
	die("%s: unsupported .npy version %d.%d", name, pre[6], pre[7]);
}

static int64_t checked_count(const char *name, const struct npyhdr *h)
{
	/* bound: product of the nonzero extents, so that a zero extent cannot
	 * hide huge later ones whose product (cols) would overflow (as in .akm). */
	int64_t n = 1, bound = 1;
	for (int i = 0; i < h->ndim; i++) {
		if (h->shape[i] && bound > (INT64_MAX / 8) / h->shape[i])
			die("%s: shape too large", name);
		n *= h->shape[i];
		if (h->shape[i])
			bound *= h->shape[i];
	}
	return n;
}

akmat_t *npy_read(rd_t *r)
{
	const char *name = rd_name(r);
	unsigned char pre[12];
	mat_read_exact(r, pre, 10, ".npy header");
	if (memcmp(pre, "\x93NUMPY", 6) != 0)
		die("%s: not a .npy file (wrong magic bytes)", name);
	int major;
	if (pre[6] >= 2)
		mat_read_exact(r, pre + 10, 2, ".npy header");
	size_t hl = header_len(pre, name, &major);
	if (hl > (1u << 20))
		die("%s: .npy header too long (%zu bytes)", name, hl);
	char *hdr = xmalloc(hl + 1);
	mat_read_exact(r, hdr, hl, ".npy header");
	hdr[hl] = '\0';
	struct npyhdr h;
	parse_header(name, hdr, &h);
	free(hdr);
	int64_t n = checked_count(name, &h);
	void *data = mat_read_data(r, n, ak_dtype_size(h.dtype), ".npy data");
	unsigned char extra;
	if (rd_read(r, &extra, 1) != 0)
		die("%s: trailing bytes after the .npy data (shape and file size disagree)", name);
	akmat_t *m = finish(data, &h);
	m->src = xstrdup(name);
	return m;
}

akmat_t *npy_read_mem(const unsigned char *p, size_t len, const char *name)
{
	if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
		die("%s: not a .npy member (wrong magic bytes)", name);
	int major;
	if (p[6] >= 2 && len < 12)
		die("%s: truncated .npy header", name);
	size_t hl = header_len(p, name, &major);
	size_t off = major == 1 ? 10 : 12;
	if (hl > len - off)
		die("%s: truncated .npy header", name);
	char *hdr = xstrndup((const char *)p + off, hl);
	struct npyhdr h;
	parse_header(name, hdr, &h);
	free(hdr);
	off += hl;
	int64_t n = checked_count(name, &h);
	size_t bytes = xmul((size_t)n, ak_dtype_size(h.dtype));
	if (bytes != len - off)
		die("%s: shape says %zu bytes of data, member holds %zu", name, bytes, len - off);
	void *data = xmalloc(bytes ? bytes : 1);
	memcpy(data, p + off, bytes);
	akmat_t *m = finish(data, &h);
	m->src = xstrdup(name);
	return m;
}

void npy_write(wr_t *w, const akmat_t *m)
{
	const char *descr = m->dtype == AK_F32 ? "<f4" : m->dtype == AK_F64 ? "<f8"
		: m->dtype == AK_I32 ? "<i4" : "<i8";
	char shape[256];
	size_t k = 0;
	for (int i = 0; i < m->ndim; i++)
		k += (size_t)snprintf(shape + k, sizeof shape - k, "%lld,%s", (long long)m->shape[i],
				      i + 1 < m->ndim ? " " : "");
	if (m->ndim > 1)
		shape[--k] = '\0'; /* numpy writes (3, 4) but (3,) */
	char dict[512];
	int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
			  descr, shape);
	/* Pad so that data start at a multiple of 64, header ends in '\n' (as numpy). */
	size_t total = 10 + (size_t)dl + 1;
	size_t pad = (64 - total % 64) % 64;
	size_t hl = (size_t)dl + pad + 1;
	unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
				  (unsigned char)(hl & 0xff), (unsigned char)(hl >> 8) };
	wr_write(w, pre, 10);
	wr_write(w, dict, (size_t)dl);
	for (size_t i = 0; i < pad; i++)
		wr_putc(w, ' ');
	wr_putc(w, '\n');
	wr_write(w, m->data, (size_t)mat_count(m) * ak_dtype_size(m->dtype));
}
