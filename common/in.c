#include "in.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "xalloc.h"

#define RAW_CAP (256u << 10)

struct rd {
	char *name;
	int fd;
	int gz;          /* 1 when the stream is gzip */
	int zdone;       /* inflate reached the end of a member and no more input */
	int eof;         /* no more decompressed data will come */
	z_stream zs;
	unsigned char *raw; /* compressed bytes (gzip) or plain bytes via buf */
	size_t raw_len;
	int raw_eof;
	char *buf;       /* decompressed data: buf[pos..len) unread */
	size_t pos, len, cap;
	int64_t line;
	uint64_t off;
};

static size_t read_fd(rd_t *r, void *p, size_t n)
{
	for (;;) {
		ssize_t k = read(r->fd, p, n);
		if (k >= 0)
			return (size_t)k;
		if (errno != EINTR)
			die_errno("%s: read error", r->name);
	}
}

static void fill_raw(rd_t *r)
{
	if (r->raw_eof)
		return;
	/* zlib may not have consumed everything: keep the tail. */
	if (r->zs.avail_in && r->zs.next_in != r->raw)
		memmove(r->raw, r->zs.next_in, r->zs.avail_in);
	r->raw_len = r->zs.avail_in;
	size_t k = read_fd(r, r->raw + r->raw_len, RAW_CAP - r->raw_len);
	if (k == 0)
		r->raw_eof = 1;
	r->raw_len += k;
	r->zs.next_in = r->raw;
	r->zs.avail_in = (uInt)r->raw_len;
}

static void make_room(rd_t *r, size_t want)
{
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->cap - r->len < want) {
		while (r->cap - r->len < want)
			r->cap *= 2;
		r->buf = xrealloc(r->buf, r->cap);
	}
}

/* Inflate more data into buf; handles concatenated gzip members. */
static size_t fill_gz(rd_t *r)
{
	size_t before = r->len;
	while (r->len == before && !r->eof) {
		if (r->zs.avail_in == 0) {
			fill_raw(r);
			if (r->zs.avail_in == 0) {
				if (!r->zdone)
					die("%s: truncated gzip stream (unexpected end of file)", r->name);
				r->eof = 1;
				break;
			}
		}
		if (r->zdone) {
			/* Another member follows the previous one. */
			if (inflateReset(&r->zs) != Z_OK)
				die("%s: gzip reset failed", r->name);
			r->zdone = 0;
		}
		r->zs.next_out = (unsigned char *)r->buf + r->len;
		r->zs.avail_out = (uInt)(r->cap - r->len);
		int rc = inflate(&r->zs, Z_NO_FLUSH);
		r->len = r->cap - r->zs.avail_out;
		if (rc == Z_STREAM_END) {
			r->zdone = 1;
			if (r->zs.avail_in == 0) {
				fill_raw(r);
				if (r->zs.avail_in == 0)
					r->eof = 1;
			}
		} else if (rc == Z_BUF_ERROR) {
			/* no progress possible: need input */
			if (r->zs.avail_in != 0)
				die("%s: corrupt gzip stream", r->name);
		} else if (rc != Z_OK) {
			die("%s: corrupt gzip stream (%s)", r->name, r->zs.msg ? r->zs.msg : "inflate failed");
		}
	}
	return r->len - before;
}

/* Ensure at least one more unread byte unless at EOF; returns bytes added. */
static size_t fill(rd_t *r, size_t want)
{
	if (r->eof)
		return 0;
	make_room(r, want);
	if (r->gz)
		return fill_gz(r);
	size_t k = read_fd(r, r->buf + r->len, r->cap - r->len);
	if (k == 0)
		r->eof = 1;
	r->len += k;
	return k;
}

rd_t *rd_open(const char *path)
{
	rd_t *r = xcalloc(1, sizeof *r);
	if (!path || strcmp(path, "-") == 0) {
		r->name = xstrdup("<stdin>");
		r->fd = 0;
	} else {
		r->name = xstrdup(path);
		r->fd = open(path, O_RDONLY);
		if (r->fd < 0)
			die_errno("cannot open '%s'", path);
	}
	r->cap = RAW_CAP;
	r->buf = xmalloc(r->cap);
	/* Peek by reading the first bytes into buf as plain data. */
	while (r->len < 2) {
		size_t k = read_fd(r, r->buf + r->len, r->cap - r->len);
		if (k == 0) {
			r->eof = 1;
			break;
		}
		r->len += k;
	}
	if (r->len >= 2 && (unsigned char)r->buf[0] == 0x1f && (unsigned char)r->buf[1] == 0x8b) {
		r->gz = 1;
		r->raw = xmalloc(RAW_CAP);
		memcpy(r->raw, r->buf, r->len);
		r->raw_len = r->len;
		r->len = 0;
		r->eof = 0;
		if (inflateInit2(&r->zs, 15 + 16) != Z_OK)
			die("%s: cannot initialise gzip decoder", r->name);
		r->zs.next_in = r->raw;
		r->zs.avail_in = (uInt)r->raw_len;
	}
	return r;
}

void rd_close(rd_t *r)
{
	if (!r)
		return;
	if (r->gz)
		inflateEnd(&r->zs);
	if (r->fd > 0)
		close(r->fd);
	free(r->raw);
	free(r->buf);
	free(r->name);
	free(r);
}

const char *rd_name(const rd_t *r) { return r->name; }
int rd_is_gzip(const rd_t *r) { return r->gz; }
int64_t rd_lineno(const rd_t *r) { return r->line; }
uint64_t rd_offset(const rd_t *r) { return r->off; }

char *rd_line(rd_t *r, size_t *len)
{
	size_t scan = r->pos;
	for (;;) {
		char *nl = memchr(r->buf + scan, '\n', r->len - scan);
		if (nl) {
			char *s = r->buf + r->pos;
			size_t n = (size_t)(nl - s);
			r->off += n + 1;
			r->pos += n + 1;
			if (n && s[n - 1] == '\r')
				n--;
			s[n] = '\0';
			r->line++;
			if (len)
				*len = n;
			return s;
		}
		size_t seen = r->len - r->pos;
		if (fill(r, 64u << 10) == 0 && r->eof) {
			if (r->len == r->pos)
				return NULL;
			/* last line without newline: make room for the NUL */
			make_room(r, 1);
			char *s = r->buf + r->pos;
			size_t n = r->len - r->pos;
			r->off += n;
			r->pos = r->len;
			if (n && s[n - 1] == '\r')
				n--;
			s[n] = '\0';
			r->line++;
			if (len)
				*len = n;
			return s;
		}
		scan = r->pos + seen;
	}
}

size_t rd_read(rd_t *r, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		if (r->pos == r->len) {
			r->pos = r->len = 0;
			if (fill(r, 1) == 0 && r->eof)
				break;
		}
		size_t k = r->len - r->pos;
		if (k > n - got)
			k = n - got;
		memcpy((char *)buf + got, r->buf + r->pos, k);
		r->pos += k;
		got += k;
	}
	r->off += got;
	return got;
}

size_t rd_peek(rd_t *r, void *buf, size_t n)
{
	while (r->len - r->pos < n && !r->eof)
		if (fill(r, n) == 0 && r->eof)
			break;
	size_t k = r->len - r->pos;
	if (k > n)
		k = n;
	memcpy(buf, r->buf + r->pos, k);
	return k;
}

unsigned char *rd_slurp(rd_t *r, size_t *len)
{
	size_t cap = 1u << 20, n = 0;
	unsigned char *p = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			cap = xmul(cap, 2);
			p = xrealloc(p, cap);
		}
		size_t k = rd_read(r, p + n, cap - n);
		n += k;
		if (k == 0)
			break;
	}
	*len = n;
	return p;
}
