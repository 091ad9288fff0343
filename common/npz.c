/* .npz archives as numpy writes them (np.savez, np.savez_compressed): a zip
 * file of .npy members, stored or deflated, with zip64 fields (numpy forces
 * zip64 in local headers). The archive is read whole: zip's directory sits at
 * the end, and reading it all also works on pipes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "err.h"
#include "in.h"
#include "mat.h"
#include "xalloc.h"

typedef struct {
	char *name;
	uint64_t csize, usize, off;
	uint32_t crc;
	int method;
} zent_t;

typedef struct {
	const char *path;
	unsigned char *buf;
	size_t len;
	zent_t *e;
	size_t n;
} zip_t;

static uint32_t g16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t g32(const unsigned char *p) { return g16(p) | g16(p + 2) << 16; }
static uint64_t g64(const unsigned char *p) { return g32(p) | (uint64_t)g32(p + 4) << 32; }

static void need(const zip_t *z, uint64_t off, uint64_t n)
{
	if (off > z->len || n > z->len - off)
		die("%s: corrupt or truncated zip archive (offset %llu beyond the end)", z->path,
		    (unsigned long long)(off + n));
}

static size_t find_eocd(const zip_t *z)
{
	if (z->len < 22)
		die("%s: not a zip archive (too short)", z->path);
	size_t lo = z->len > 65557 ? z->len - 65557 : 0;
	for (size_t i = z->len - 22 + 1; i-- > lo;)
		if (g32(z->buf + i) == 0x06054b50)
			return i;
	die("%s: corrupt or truncated zip archive (no end-of-directory record)", z->path);
}

static void zip64_fields(const zip_t *z, const unsigned char *ex, size_t exlen, zent_t *e,
			 int need_u, int need_c, int need_o)
{
	size_t i = 0;
	while (i + 4 <= exlen) {
		uint32_t id = g16(ex + i), sz = g16(ex + i + 2);
		if (i + 4 + sz > exlen)
			break;
		if (id == 0x0001) {
			const unsigned char *p = ex + i + 4;
			size_t k = 0;
			if (need_u && k + 8 <= sz) e->usize = g64(p + k), k += 8;
			if (need_c && k + 8 <= sz) e->csize = g64(p + k), k += 8;
			if (need_o && k + 8 <= sz) e->off = g64(p + k), k += 8;
			return;
		}
		i += 4 + sz;
	}
	if (need_u || need_c || need_o)
		die("%s: corrupt zip archive: zip64 sizes missing for '%s'", z->path, e->name);
}

static void read_dir(zip_t *z)
{
	size_t eo = find_eocd(z);
	uint64_t n = g16(z->buf + eo + 10), cdoff = g32(z->buf + eo + 16);
	if (n == 0xffff || cdoff == 0xffffffffu) {
		if (eo < 20 || g32(z->buf + eo - 20) != 0x07064b50)
			die("%s: corrupt zip archive (zip64 locator missing)", z->path);
		uint64_t z64 = g64(z->buf + eo - 20 + 8);
		need(z, z64, 56);
		if (g32(z->buf + z64) != 0x06064b50)
			die("%s: corrupt zip archive (bad zip64 record)", z->path);
		n = g64(z->buf + z64 + 32);
		cdoff = g64(z->buf + z64 + 48);
	}
	if (n > z->len / 46)
		die("%s: corrupt zip archive (%llu entries claimed)", z->path, (unsigned long long)n);
	z->e = xcalloc((size_t)n ? (size_t)n : 1, sizeof *z->e);
	uint64_t p = cdoff;
	for (uint64_t i = 0; i < n; i++) {
		need(z, p, 46);
		const unsigned char *c = z->buf + p;
		if (g32(c) != 0x02014b50)
			die("%s: corrupt zip archive (bad directory entry %llu)", z->path, (unsigned long long)i + 1);
		zent_t *e = &z->e[z->n++];
		e->method = (int)g16(c + 10);
		e->crc = g32(c + 16);
		e->csize = g32(c + 20);
		e->usize = g32(c + 24);
		uint32_t nl = g16(c + 28), xl = g16(c + 30), cl = g16(c + 32);
		e->off = g32(c + 42);
		need(z, p + 46, (uint64_t)nl + xl);
		e->name = xstrndup((const char *)c + 46, nl);
		zip64_fields(z, c + 46 + nl, xl, e, e->usize == 0xffffffffu, e->csize == 0xffffffffu,
			     e->off == 0xffffffffu);
		p += 46 + (uint64_t)nl + xl + cl;
	}
}

static unsigned char *extract(const zip_t *z, const zent_t *e, size_t *len)
{
	need(z, e->off, 30);
	const unsigned char *l = z->buf + e->off;
	if (g32(l) != 0x04034b50)
		die("%s: corrupt zip archive (bad local header for '%s')", z->path, e->name);
	uint64_t data = e->off + 30 + g16(l + 26) + g16(l + 28);
	need(z, data, e->csize);
	if (e->usize > ((uint64_t)1 << 40))
		die("%s: member '%s' claims %llu bytes", z->path, e->name, (unsigned long long)e->usize);
	unsigned char *out = xmalloc(e->usize ? (size_t)e->usize : 1);
	if (e->method == 0) {
		if (e->csize != e->usize)
			die("%s: corrupt zip archive (stored member '%s' sizes differ)", z->path, e->name);
		memcpy(out, z->buf + data, (size_t)e->usize);
	} else if (e->method == 8) {
		z_stream s;
		memset(&s, 0, sizeof s);
		if (inflateInit2(&s, -15) != Z_OK)
			die("%s: cannot initialise inflate", z->path);
		const unsigned char *in = z->buf + data;
		uint64_t in_left = e->csize, out_done = 0;
		int rc = Z_OK;
		while (rc != Z_STREAM_END) {
			uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
			uInt co = e->usize - out_done > (1u << 30) ? (1u << 30) : (uInt)(e->usize - out_done);
			s.next_in = (unsigned char *)in;
			s.avail_in = ci;
			s.next_out = out + out_done;
			s.avail_out = co;
			rc = inflate(&s, Z_NO_FLUSH);
			in += ci - s.avail_in;
			in_left -= ci - s.avail_in;
			out_done += co - s.avail_out;
			if (rc == Z_STREAM_END)
				break;
			if (rc != Z_OK || (ci == s.avail_in && co == s.avail_out))
				die("%s: corrupt deflate data in member '%s'", z->path, e->name);
		}
		inflateEnd(&s);
		if (out_done != e->usize)
			die("%s: member '%s' inflates to %llu bytes, directory says %llu", z->path, e->name,
			    (unsigned long long)out_done, (unsigned long long)e->usize);
	} else {
		die("%s: member '%s' uses zip compression method %d (supported: stored, deflate)", z->path,
		    e->name, e->method);
	}
	uLong crc = crc32(0L, Z_NULL, 0);
	for (uint64_t done = 0; done < e->usize;) {
		uInt piece = e->usize - done > (1u << 30) ? (1u << 30) : (uInt)(e->usize - done);
		crc = crc32(crc, out + done, piece);
		done += piece;
	}
	if ((uint32_t)crc != e->crc)
		die("%s: member '%s' fails its CRC check (corrupt archive)", z->path, e->name);
	*len = (size_t)e->usize;
	return out;
}

static void zip_open(zip_t *z, const char *path)
{
	memset(z, 0, sizeof *z);
	z->path = path;
	rd_t *r = rd_open(path);
	z->buf = rd_slurp(r, &z->len);
	rd_close(r);
	if (z->len < 4 || g32(z->buf) != 0x04034b50)
		die("%s: not an .npz (zip) archive (wrong magic bytes)", path);
	read_dir(z);
}

static void zip_close(zip_t *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->e[i].name);
	free(z->e);
	free(z->buf);
}

/* Member name as the user says it: numpy's "x.npy" is "x". */
static char *short_name(const char *n)
{
	size_t k = strlen(n);
	if (k > 4 && strcmp(n + k - 4, ".npy") == 0)
		k -= 4;
	return xstrndup(n, k);
}

static void die_members(const zip_t *z, const char *what)
{
	char list[600];
	size_t k = 0;
	list[0] = '\0';
	for (size_t i = 0; i < z->n && k < 500; i++) {
		char *s = short_name(z->e[i].name);
		k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", s);
		free(s);
	}
	die("%s: %s (members: %s%s)", z->path, what, z->n ? list : "none", k >= 500 ? ", ..." : "");
}

akmat_t *npz_read(const char *path, const char *member)
{
	zip_t z;
	zip_open(&z, path);
	const zent_t *e = NULL;
	if (!member) {
		if (z.n != 1)
			die_members(&z, "holds several arrays: name one as FILE.npz:MEMBER");
		e = &z.e[0];
	} else {
		for (size_t i = 0; i < z.n && !e; i++) {
			char *s = short_name(z.e[i].name);
			if (strcmp(s, member) == 0 || strcmp(z.e[i].name, member) == 0)
				e = &z.e[i];
			free(s);
		}
		if (!e) {
			char what[300];
			snprintf(what, sizeof what, "no member '%.200s'", member);
			die_members(&z, what);
		}
	}
	size_t len;
	unsigned char *p = extract(&z, e, &len);
	char *sn = short_name(e->name);
	size_t nl = strlen(path) + strlen(sn) + 2;
	char *name = xmalloc(nl);
	snprintf(name, nl, "%s:%s", path, sn);
	free(sn);
	akmat_t *m = npy_read_mem(p, len, name);
	free(name);
	free(p);
	zip_close(&z);
	return m;
}

char **npz_list(const char *path, size_t *n)
{
	zip_t z;
	zip_open(&z, path);
	char **v = xmallocarray(z.n ? z.n : 1, sizeof *v);
	for (size_t i = 0; i < z.n; i++)
		v[i] = short_name(z.e[i].name);
	*n = z.n;
	zip_close(&z);
	return v;
}
