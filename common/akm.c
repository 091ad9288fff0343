/* The .akm matrix stream (attnkit matrix):
 *
 *   magic    8 bytes  89 'A' 'K' 'M' 0d 0a 1a 0a   (non-printable first byte,
 *                     CR LF and ^Z catch text-mode mangling, as PNG does)
 *   version  u32      1
 *   dtype    u32      1 float32, 2 float64, 3 int32, 4 int64
 *   ndim     u32      1..8
 *   flags    u32      bit 0: row names follow, bit 1: column names follow
 *   shape    u64 x ndim
 *   names    per name: u32 length, bytes (row names, then column names)
 *   data     C order, little-endian
 *   trailer  8 bytes  89 'A' 'K' 'M' 'E' 'N' 'D' 0a
 *            u64      element count (again)
 *            u32      CRC-32 of the data bytes
 *            u32      0
 *
 * All integers little-endian. The trailer lets a reader tell a complete
 * stream from one cut short (a killed writer, a partial copy). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "err.h"
#include "in.h"
#include "mat.h"
#include "out.h"
#include "xalloc.h"

const unsigned char AKM_MAGIC[8] = { 0x89, 'A', 'K', 'M', 0x0d, 0x0a, 0x1a, 0x0a };
static const unsigned char AKM_END[8] = { 0x89, 'A', 'K', 'M', 'E', 'N', 'D', 0x0a };
#define AKM_VERSION 1
#define MAX_NAME (1u << 20)

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* crc32() takes uInt lengths: feed large data in pieces. */
static uint32_t crc_all(const void *p, size_t n)
{
	const unsigned char *d = p;
	uLong crc = crc32(0L, Z_NULL, 0);
	while (n) {
		uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = crc32(crc, d, piece);
		d += piece;
		n -= piece;
	}
	return (uint32_t)crc;
}

static char **read_names(rd_t *r, int64_t n)
{
	/* Names are read one by one, so a false count fails as truncation. */
	int64_t cap = n < 4096 ? n : 4096;
	char **v = xmallocarray((size_t)(cap ? cap : 1), sizeof *v);
	for (int64_t i = 0; i < n; i++) {
		unsigned char b[4];
		mat_read_exact(r, b, 4, ".akm names");
		uint32_t len = get32(b);
		if (len > MAX_NAME)
			die("%s: corrupt .akm stream: name %lld claims %u bytes", rd_name(r), (long long)i + 1, len);
		if (i == cap) {
			cap = cap * 2 < n ? cap * 2 : n;
			v = xreallocarray(v, (size_t)cap, sizeof *v);
		}
		v[i] = xmalloc(len + 1);
		mat_read_exact(r, v[i], len, ".akm names");
		v[i][len] = '\0';
	}
	return v;
}

akmat_t *akm_read(rd_t *r)
{
	const char *name = rd_name(r);
	unsigned char h[24];
	mat_read_exact(r, h, 24, ".akm header");
	if (memcmp(h, AKM_MAGIC, 8) != 0)
		die("%s: not an .akm stream (wrong magic bytes)", name);
	uint32_t ver = get32(h + 8), dtype = get32(h + 12), ndim = get32(h + 16), flags = get32(h + 20);
	if (ver != AKM_VERSION)
		die("%s: unsupported .akm version %u (this attnkit reads version %d)", name, ver, AKM_VERSION);
	if (!ak_dtype_size((int)dtype))
		die("%s: corrupt .akm header: unknown dtype code %u", name, dtype);
	if (ndim < 1 || ndim > AK_MAXDIM)
		die("%s: corrupt .akm header: %u dimensions", name, ndim);
	if (flags & ~3u)
		die("%s: corrupt .akm header: unknown flags %#x", name, flags);
	akmat_t *m = xcalloc(1, sizeof *m);
	m->dtype = (int)dtype;
	m->ndim = (int)ndim;
	/* bound: product of the nonzero extents. Bounding count alone let a zero
	 * extent hide huge later ones, whose product (cols) then overflowed
	 * (found by fuzzing: fuzz/regress/akm-crashes-2f045fb94019). */
	int64_t count = 1, bound = 1;
	for (uint32_t i = 0; i < ndim; i++) {
		unsigned char b[8];
		mat_read_exact(r, b, 8, ".akm header");
		uint64_t s = get64(b);
		if (s > (uint64_t)INT64_MAX / 8 || (s && (uint64_t)bound > (uint64_t)(INT64_MAX / 8) / s))
			die("%s: corrupt .akm header: shape too large", name);
		m->shape[i] = (int64_t)s;
		count *= (int64_t)s;
		if (s)
			bound *= (int64_t)s;
	}
	m->rows = m->shape[0];
	m->cols = 1;
	for (uint32_t i = 1; i < ndim; i++)
		m->cols *= m->shape[i];
	if (flags & 1)
		m->rownames = read_names(r, m->rows);
	if (flags & 2) {
		if (ndim != 2)
			die("%s: corrupt .akm header: column names on a %u-dimensional array", name, ndim);
		m->colnames = read_names(r, m->cols);
	}
	size_t esz = ak_dtype_size(m->dtype);
	m->data = mat_read_data(r, count, esz, ".akm stream (data)");
	unsigned char t[24];
	size_t k = rd_read(r, t, 24);
	if (k < 24)
		die("%s: truncated .akm stream: the trailer is missing (the writer did not finish)", name);
	uint32_t crc = crc_all(m->data, (size_t)count * esz);
	if (memcmp(t, AKM_END, 8) != 0 || get64(t + 8) != (uint64_t)count)
		die("%s: corrupt .akm stream: bad trailer", name);
	if (get32(t + 16) != crc)
		die("%s: corrupt .akm stream: data checksum mismatch", name);
	if (rd_read(r, t, 1) != 0)
		die("%s: trailing bytes after the .akm stream", name);
	m->src = xstrdup(name);
	return m;
}

static void write_names(wr_t *w, char **v, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]);
		unsigned char b[4];
		put32(b, (uint32_t)len);
		wr_write(w, b, 4);
		wr_write(w, v[i], len);
	}
}

void akm_write(wr_t *w, const akmat_t *m)
{
	unsigned char h[24];
	memcpy(h, AKM_MAGIC, 8);
	put32(h + 8, AKM_VERSION);
	put32(h + 12, (uint32_t)m->dtype);
	put32(h + 16, (uint32_t)m->ndim);
	uint32_t flags = (m->rownames ? 1u : 0u) | (m->colnames && m->ndim == 2 ? 2u : 0u);
	put32(h + 20, flags);
	wr_write(w, h, 24);
	for (int i = 0; i < m->ndim; i++) {
		unsigned char b[8];
		put64(b, (uint64_t)m->shape[i]);
		wr_write(w, b, 8);
	}
	if (flags & 1)
		write_names(w, m->rownames, m->rows);
	if (flags & 2)
		write_names(w, m->colnames, m->cols);
	size_t bytes = (size_t)mat_count(m) * ak_dtype_size(m->dtype);
	wr_write(w, m->data, bytes);
	uint32_t crc = crc_all(m->data, bytes);
	unsigned char t[24];
	memcpy(t, AKM_END, 8);
	put64(t + 8, (uint64_t)mat_count(m));
	put32(t + 16, crc);
	put32(t + 20, 0);
	wr_write(w, t, 24);
}
