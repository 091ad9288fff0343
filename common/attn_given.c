#include "attn_given.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "half.h"
#include "in.h"
#include "mat.h"
#include "xalloc.h"

/* The file as a descriptor that can be mapped: the file itself when it is
 * a plain regular file, else its expanded content in an unlinked temporary. */
static int mappable_fd(const char *path)
{
	rd_t *r = rd_open(path);
	struct stat st;
	if (!rd_is_gzip(r) && strcmp(path, "-") && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		rd_close(r);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			die_errno("%s", path);
		return fd;
	}
	const char *dir = getenv("TMPDIR");
	char *tmpl = xmalloc(strlen(dir && *dir ? dir : "/tmp") + 32);
	sprintf(tmpl, "%s/attnkit-attn-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(tmpl);
	if (fd < 0)
		die_errno("%s: cannot create a temporary file for the expanded attention", tmpl);
	unlink(tmpl);
	free(tmpl);
	unsigned char *buf = xmalloc(1u << 20);
	size_t k;
	while ((k = rd_read(r, buf, 1u << 20)) > 0)
		for (size_t off = 0; off < k;) {
			ssize_t w = write(fd, buf + off, k - off);
			if (w < 0)
				die_errno("%s: cannot write the expanded attention to TMPDIR", rd_name(r));
			off += (size_t)w;
		}
	free(buf);
	rd_close(r);
	return fd;
}

attn_given_t *attn_given_open(const char *path)
{
	int fd = mappable_fd(path);
	struct stat st;
	if (fstat(fd, &st) != 0)
		die_errno("%s", path);
	attn_given_t *g = xcalloc(1, sizeof *g);
	g->path = xstrdup(path);
	g->maplen = (size_t)st.st_size;
	if (g->maplen < 10)
		die("%s: not a .npy file (too short); --attn takes a .npy array", path);
	g->map = mmap(NULL, g->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
	if (g->map == MAP_FAILED)
		die_errno("%s: cannot map the file", path);
	close(fd);
	const unsigned char *p = g->map;
	if (memcmp(p, "\x93NUMPY", 6) != 0)
		die("%s: not a .npy file (wrong magic bytes); --attn takes a .npy array "
		    "(numpy.save('A.npy', attn.float().numpy()))", path);
	size_t off = p[6] == 1 ? 10 : 12, hl;
	if (p[6] < 1 || p[6] > 3 || g->maplen < off)
		die("%s: unsupported or truncated .npy header", path);
	hl = p[6] == 1 ? (size_t)(p[8] | p[9] << 8)
		       : (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
	if (hl > g->maplen - off || hl > (1u << 20))
		die("%s: truncated .npy header", path);
	char *hdr = xstrndup((const char *)p + off, hl);
	char descr[16];
	int fortran, ndim;
	int64_t shape[AK_MAXDIM];
	npy_fields(path, hdr, descr, &fortran, &ndim, shape);
	free(hdr);
	off += hl;
	const char *t = descr[0] == '<' || descr[0] == '=' || descr[0] == '|' ? descr + 1 : descr;
	if (descr[0] == '>')
		die("%s: big-endian dtype '%s'; save little-endian (A.astype('<f4'))", path, descr);
	g->esz = !strcmp(t, "f2") ? 2 : !strcmp(t, "f4") ? 4 : !strcmp(t, "f8") ? 8 : 0;
	if (!g->esz)
		die("%s: dtype '%s'; attention must be float16, float32 or float64", path, descr);
	if (ndim != 2 && ndim != 3)
		die("%s: %d dimensions; --attn takes n x n or heads x n x n", path, ndim);
	if (fortran)
		die("%s: Fortran order; rows are read one by one, so save C order "
		    "(numpy.save('A.npy', numpy.ascontiguousarray(A)))", path);
	g->has_heads = ndim == 3;
	g->heads = ndim == 3 ? (int)(shape[0] < (1 << 16) ? shape[0] : 0) : 1;
	g->n = shape[ndim - 1];
	if (g->heads < 1 || shape[ndim - 2] != g->n || g->n < 1)
		die("%s: shape %s%lld x %lld; --attn takes a square n x n (or heads x n x n) with n >= 1",
		    path, ndim == 3 ? "(heads) x " : "", (long long)shape[ndim - 2], (long long)g->n);
	if (g->n > INT32_MAX)
		die("%s: %lld genes, at most %d supported", path, (long long)g->n, INT32_MAX);
	size_t count = xmul(xmul((size_t)g->heads, (size_t)g->n), (size_t)g->n);
	size_t bytes = xmul(count, (size_t)g->esz);
	if (bytes != g->maplen - off)
		die("%s: shape says %zu bytes of data, the file holds %zu (truncated or trailing bytes)",
		    path, bytes, g->maplen - off);
	g->data = p + off;
	madvise(g->map, g->maplen, MADV_SEQUENTIAL);
	return g;
}

void attn_given_close(attn_given_t *g)
{
	if (!g)
		return;
	munmap(g->map, g->maplen);
	free(g->path);
	free(g);
}

static inline double elem(const attn_given_t *g, size_t idx)
{
	const unsigned char *p = g->data + idx * (size_t)g->esz;
	if (g->esz == 2)
		return ak_f16_to_f32(ak_le16(p));
	if (g->esz == 4) {
		float f;
		memcpy(&f, p, sizeof f);
		return f;
	}
	double d;
	memcpy(&d, p, sizeof d);
	return d;
}

static noreturn void bad_value(const attn_given_t *g, int h, int64_t i, int64_t j, double v)
{
	char hs[32] = "";
	if (g->has_heads)
		snprintf(hs, sizeof hs, h < 0 ? "the heads' average, " : "head %d, ", h);
	die("%s: %srow %lld, column %lld: %s (attention must be finite)", g->path, hs, (long long)i + 1,
	    (long long)j + 1, isnan(v) ? "NaN" : "infinity");
}

double attn_given_at(const attn_given_t *g, int h, int64_t i, int64_t j)
{
	size_t plane = (size_t)g->n * (size_t)g->n, at = (size_t)i * (size_t)g->n + (size_t)j;
	if (h >= 0)
		return elem(g, (size_t)h * plane + at);
	double s = 0;
	for (int t = 0; t < g->heads; t++)
		s += elem(g, (size_t)t * plane + at);
	return g->heads == 1 ? s : s / g->heads;
}

void attn_given_rows(const attn_given_t *g, int h, int64_t r0, int64_t m, int64_t c0, int64_t cw,
		     float *dst, int64_t ld)
{
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < cw; j++) {
			double v = attn_given_at(g, h, r0 + i, c0 + j);
			if (!isfinite(v))
				bad_value(g, h, r0 + i, c0 + j, v);
			dst[i * ld + j] = (float)v;
		}
}
