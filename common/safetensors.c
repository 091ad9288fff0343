#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "half.h"
#include "out.h"
#include "xalloc.h"

/* ---- a small JSON reader, just enough for the header ---- */

typedef struct js {
	const char *p, *start, *end;
	const char *name;
} js_t;

#define JS_MAXDEPTH 32

static noreturn void js_fail(const js_t *j, const char *what)
{
	die("%s: bad safetensors header: %s at byte %zu of the JSON header", j->name, what,
	    (size_t)(j->p - j->start));
}

static void js_ws(js_t *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int js_peek(js_t *j)
{
	js_ws(j);
	return j->p < j->end ? (unsigned char)*j->p : -1;
}

static void js_expect(js_t *j, char c)
{
	if (js_peek(j) != (unsigned char)c) {
		char what[32];
		snprintf(what, sizeof what, "expected '%c'", c);
		js_fail(j, what);
	}
	j->p++;
}

static int js_hex4(js_t *j)
{
	if (j->end - j->p < 4)
		js_fail(j, "truncated \\u escape");
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = *j->p++;
		v <<= 4;
		if (c >= '0' && c <= '9') v |= c - '0';
		else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
		else js_fail(j, "bad \\u escape");
	}
	return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string, unescaped (malloc'd). The unescaped form is never longer than
 * the escaped one, so the span bounds the buffer. */
static char *js_string(js_t *j)
{
	js_expect(j, '"');
	const char *s = j->p;
	while (j->p < j->end && *j->p != '"')
		j->p += *j->p == '\\' && j->end - j->p > 1 ? 2 : 1;
	if (j->p >= j->end)
		js_fail(j, "unterminated string");
	const char *e = j->p;
	char *out = xmalloc((size_t)(e - s) + 1), *o = out;
	j->p = s;
	while (j->p < e) {
		unsigned char c = (unsigned char)*j->p++;
		if (c < 0x20)
			js_fail(j, "control character in a string");
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		char x = *j->p++;
		switch (x) {
		case '"': case '\\': case '/': *o++ = x; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp = (unsigned)js_hex4(j);
			if (cp >= 0xd800 && cp < 0xdc00 && e - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
				j->p += 2;
				unsigned lo = (unsigned)js_hex4(j);
				if (lo < 0xdc00 || lo >= 0xe000)
					js_fail(j, "bad surrogate pair");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xd800 && cp < 0xe000) {
				js_fail(j, "lone surrogate");
			} else if (cp == 0) {
				js_fail(j, "NUL in a string");
			}
			/* 6 escaped bytes (12 for a pair) become at most 3 (4). */
			o += put_utf8(o, cp);
			break;
		}
		default: js_fail(j, "bad escape");
		}
		if (j->p > e)
			js_fail(j, "bad escape");
	}
	*o = '\0';
	j->p = e + 1;
	return out;
}

/* A non-negative integer (all the header's numbers are sizes or offsets). */
static uint64_t js_uint(js_t *j)
{
	js_ws(j);
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		js_fail(j, "expected a non-negative integer");
	uint64_t v = 0;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		unsigned dgt = (unsigned)(*j->p++ - '0');
		if (v > (UINT64_MAX - dgt) / 10)
			js_fail(j, "integer too large");
		v = v * 10 + dgt;
	}
	if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
		js_fail(j, "expected an integer");
	return v;
}

/* Skip any value (metadata, unknown keys), with a depth bound. */
static void js_skip(js_t *j, int depth)
{
	if (depth > JS_MAXDEPTH)
		js_fail(j, "nested too deeply");
	int c = js_peek(j);
	if (c == '"') {
		free(js_string(j));
	} else if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		j->p++;
		if (js_peek(j) == close) {
			j->p++;
			return;
		}
		for (;;) {
			if (c == '{') {
				free(js_string(j));
				js_expect(j, ':');
			}
			js_skip(j, depth + 1);
			if (js_peek(j) == ',') {
				j->p++;
				continue;
			}
			js_expect(j, close);
			return;
		}
	} else {
		const char *s = j->p;
		while (j->p < j->end && (strchr("+-.eE", *j->p) || (*j->p >= '0' && *j->p <= '9') ||
					 (*j->p >= 'a' && *j->p <= 'z')))
			j->p++;
		size_t n = (size_t)(j->p - s);
		int num = n && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'));
		if (!num && !(n == 4 && !memcmp(s, "true", 4)) && !(n == 5 && !memcmp(s, "false", 5)) &&
		    !(n == 4 && !memcmp(s, "null", 4))) {
			j->p = s;
			js_fail(j, "expected a value");
		}
	}
}

/* ---- the header ---- */

static const struct { const char *name; unsigned size; } DTYPES[] = {
	{ "F64", 8 }, { "F32", 4 }, { "F16", 2 }, { "BF16", 2 }, { "I64", 8 }, { "I32", 4 },
	{ "I16", 2 }, { "I8", 1 }, { "U64", 8 }, { "U32", 4 }, { "U16", 2 }, { "U8", 1 },
	{ "BOOL", 1 }, { "F8_E4M3", 1 }, { "F8_E5M2", 1 },
};

static unsigned dtype_size(const char *d)
{
	for (size_t i = 0; i < sizeof DTYPES / sizeof *DTYPES; i++)
		if (!strcmp(d, DTYPES[i].name))
			return DTYPES[i].size;
	return 0;
}

/* Elements of a shape, or -1 past 2^62 bytes (no file holds that much). */
static uint64_t shape_bytes(const st_tensor_t *t, unsigned esz)
{
	uint64_t n = esz;
	for (int i = 0; i < t->ndim; i++) {
		if (t->shape[i] && n > (UINT64_C(1) << 62) / (uint64_t)t->shape[i])
			return UINT64_MAX;
		n *= (uint64_t)t->shape[i];
	}
	return n;
}

/* One tensor's description: {"dtype": .., "shape": [..], "data_offsets": [a, b]}. */
static void parse_tensor(js_t *j, st_tensor_t *t)
{
	int have = 0;
	js_expect(j, '{');
	if (js_peek(j) == '}')
		js_fail(j, "empty tensor description");
	for (;;) {
		char *key = js_string(j);
		js_expect(j, ':');
		if (!strcmp(key, "dtype")) {
			char *d = js_string(j);
			if (strlen(d) >= sizeof t->dtype || !dtype_size(d)) {
				free(key);
				free(d);
				js_fail(j, "unknown dtype");
			}
			strcpy(t->dtype, d);
			free(d);
			have |= 1;
		} else if (!strcmp(key, "shape")) {
			js_expect(j, '[');
			t->ndim = 0;
			if (js_peek(j) != ']')
				for (;;) {
					if (t->ndim == AK_MAXDIM)
						js_fail(j, "more dimensions than attnkit supports (8)");
					uint64_t v = js_uint(j);
					if (v > (UINT64_C(1) << 62))
						js_fail(j, "dimension too large");
					t->shape[t->ndim++] = (int64_t)v;
					if (js_peek(j) != ',')
						break;
					j->p++;
				}
			js_expect(j, ']');
			have |= 2;
		} else if (!strcmp(key, "data_offsets")) {
			js_expect(j, '[');
			t->begin = js_uint(j);
			js_expect(j, ',');
			t->end = js_uint(j);
			js_expect(j, ']');
			have |= 4;
		} else {
			js_skip(j, 1);
		}
		free(key);
		if (js_peek(j) != ',')
			break;
		j->p++;
	}
	js_expect(j, '}');
	if (have != 7)
		js_fail(j, "a tensor needs dtype, shape and data_offsets");
}

static void check_tensor(const char *name, const st_tensor_t *t, uint64_t data_len)
{
	uint64_t bytes = shape_bytes(t, dtype_size(t->dtype));
	if (t->begin > t->end || t->end > data_len)
		die("%s: tensor '%s': data_offsets [%llu, %llu] outside the %llu bytes of data (truncated file?)",
		    name, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
		    (unsigned long long)data_len);
	if (bytes != t->end - t->begin)
		die("%s: tensor '%s': shape and dtype %s need %llu bytes, data_offsets give %llu", name,
		    t->name, t->dtype, (unsigned long long)bytes, (unsigned long long)(t->end - t->begin));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

st_file_t *st_parse(const char *name, const char *json, size_t len, uint64_t data_len)
{
	js_t j = { json, json, json + len, name };
	st_file_t *f = xcalloc(1, sizeof *f);
	f->path = xstrdup(name);
	f->data_len = data_len;
	size_t cap = 0;
	js_expect(&j, '{');
	if (js_peek(&j) == '}')
		j.p++;
	else
		for (;;) {
			char *key = js_string(&j);
			js_expect(&j, ':');
			if (!strcmp(key, "__metadata__")) {
				free(key);
				if (js_peek(&j) != '{')
					js_fail(&j, "__metadata__ must be an object");
				js_skip(&j, 1);
			} else {
				if (f->n == cap) {
					cap = cap ? 2 * cap : 64;
					f->t = xreallocarray(f->t, cap, sizeof *f->t);
				}
				st_tensor_t *t = &f->t[f->n++];
				memset(t, 0, sizeof *t);
				t->name = key;
				parse_tensor(&j, t);
				check_tensor(name, t, data_len);
			}
			if (js_peek(&j) != ',')
				break;
			j.p++;
		}
	if (j.p < j.end && *j.p == '}')
		j.p++;
	else
		js_expect(&j, '}');
	if (js_peek(&j) != -1)
		js_fail(&j, "trailing bytes after the header object");
	/* Duplicate names would make NAME ambiguous. Quadratic is fine for the
	 * few thousand tensors of a model; sort a copy for more. */
	char **names = xmallocarray(f->n ? f->n : 1, sizeof *names);
	for (size_t i = 0; i < f->n; i++)
		names[i] = f->t[i].name;
	qsort(names, f->n, sizeof *names, cmp_str);
	for (size_t i = 1; i < f->n; i++)
		if (!strcmp(names[i - 1], names[i])) {
			char *dup = xstrdup(names[i]);
			free(names);
			die("%s: bad safetensors header: tensor '%s' appears twice", name, dup);
		}
	free(names);
	return f;
}

void st_free(st_file_t *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->t[i].name);
	free(f->t);
	free(f->path);
	free(f);
}

const st_tensor_t *st_find(const st_file_t *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->t[i].name, name))
			return &f->t[i];
	return NULL;
}

int st_sniff(const unsigned char *h, size_t k)
{
	if (k < 9 || h[8] != '{')
		return 0;
	uint64_t len = 0;
	for (int i = 7; i >= 0; i--)
		len = len << 8 | h[i];
	return len >= 2 && len <= ST_MAX_HEADER;
}

int st_is_file(const char *path)
{
	size_t n = strlen(path);
	if (n >= 12 && !strcmp(path + n - 12, ".safetensors"))
		return 1;
	if (!strcmp(path, "-"))
		return 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	unsigned char h[9];
	ssize_t k = pread(fd, h, sizeof h, 0);
	close(fd);
	return k == (ssize_t)sizeof h && st_sniff(h, sizeof h);
}

static void pread_all(int fd, void *buf, size_t n, uint64_t off, const char *name)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t k = pread(fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die_errno("%s: read error", name);
		if (k == 0)
			die("%s: truncated safetensors file", name);
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
}

static int open_file(const char *path, uint64_t *size)
{
	if (!strcmp(path, "-"))
		die("safetensors are read from a file, not from stdin (tensors are found by offset)");
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die_errno("%s", path);
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		die("%s: not a regular file (safetensors are read by offset)", path);
	*size = (uint64_t)st.st_size;
	return fd;
}

static st_file_t *open_header(const char *path, int fd, uint64_t size)
{
	unsigned char pre[8];
	if (size < 8)
		die("%s: not a safetensors file (shorter than its 8-byte header length)", path);
	pread_all(fd, pre, 8, 0, path);
	uint64_t hl = 0;
	for (int i = 7; i >= 0; i--)
		hl = hl << 8 | pre[i];
	if (hl > ST_MAX_HEADER)
		die("%s: safetensors header length %llu is over the %u-byte limit (not a safetensors file?)",
		    path, (unsigned long long)hl, ST_MAX_HEADER);
	if (hl > size - 8)
		die("%s: truncated safetensors file: header of %llu bytes, file of %llu", path,
		    (unsigned long long)hl, (unsigned long long)size);
	char *json = xmalloc(hl ? hl : 1);
	pread_all(fd, json, hl, 8, path);
	st_file_t *f = st_parse(path, json, hl, size - 8 - hl);
	free(json);
	f->data_off = 8 + hl;
	return f;
}

st_file_t *st_open(const char *path)
{
	uint64_t size;
	int fd = open_file(path, &size);
	st_file_t *f = open_header(path, fd, size);
	close(fd);
	return f;
}

static int ak_dtype_of(const char *d)
{
	if (!strcmp(d, "F32") || !strcmp(d, "F16") || !strcmp(d, "BF16")) return AK_F32;
	if (!strcmp(d, "F64")) return AK_F64;
	if (!strcmp(d, "I32")) return AK_I32;
	if (!strcmp(d, "I64")) return AK_I64;
	return 0;
}

/* Names of the first few tensors, for "which one?" messages. */
static void some_names(const st_file_t *f, char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < f->n && i < 5 && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", f->t[i].name);
	if (f->n > 5 && k < cap)
		snprintf(buf + k, cap - k, ", ... (%zu in all)", f->n);
}

static const st_tensor_t *pick(const st_file_t *f, const char *path, const char *tensor)
{
	char names[512];
	if (!tensor) {
		if (f->n == 1)
			return &f->t[0];
		some_names(f, names, sizeof names);
		die("%s: a safetensors file with %zu tensors: name one as %s:NAME (mat info %s lists them): %s",
		    path, f->n, path, path, names);
	}
	const st_tensor_t *t = st_find(f, tensor);
	if (!t) {
		some_names(f, names, sizeof names);
		die("%s: no tensor '%s' (mat info %s lists them): %s", path, tensor, path, names);
	}
	return t;
}

akmat_t *st_load(const char *path, const char *tensor, int64_t r0, int64_t r1)
{
	uint64_t size;
	int fd = open_file(path, &size);
	st_file_t *f = open_header(path, fd, size);
	const st_tensor_t *t = pick(f, path, tensor);
	int dtype = ak_dtype_of(t->dtype);
	if (!dtype)
		die("%s: tensor '%s' has dtype %s; attnkit reads F32, F16, BF16, F64, I32 and I64", path,
		    t->name, t->dtype);
	int ndim = t->ndim ? t->ndim : 1;
	int64_t shape[AK_MAXDIM];
	memcpy(shape, t->shape, sizeof shape);
	if (!t->ndim)
		shape[0] = 1;
	if (r1 < 0)
		r1 = shape[0];
	if (r0 < 0 || r0 >= r1 || r1 > shape[0])
		die("%s:%s: row range [%lld:%lld] is outside its %lld rows (or empty)", path, t->name,
		    (long long)r0, (long long)r1, (long long)shape[0]);
	unsigned esz = dtype_size(t->dtype);
	uint64_t row = shape[0] ? (t->end - t->begin) / (uint64_t)shape[0] : 0;
	shape[0] = r1 - r0;
	akmat_t *m = mat_new(dtype, ndim, shape);
	size_t count = (size_t)mat_count(m), bytes = xmul(count, esz);
	uint64_t off = f->data_off + t->begin + (uint64_t)r0 * row;
	if (esz == ak_dtype_size(dtype)) {
		pread_all(fd, m->data, bytes, off, path);
	} else {
		/* 16-bit floats: widened in pieces, so the raw copy stays small. */
		unsigned char *raw = xmalloc(1u << 20);
		float *dst = m->data;
		int bf = !strcmp(t->dtype, "BF16");
		for (size_t done = 0; done < count;) {
			size_t k = count - done < (1u << 19) ? count - done : (1u << 19);
			pread_all(fd, raw, k * 2, off + done * 2, path);
			for (size_t i = 0; i < k; i++)
				dst[done + i] = bf ? ak_bf16_to_f32(ak_le16(raw + 2 * i)) : ak_f16_to_f32(ak_le16(raw + 2 * i));
			done += k;
		}
		free(raw);
	}
	close(fd);
	size_t sl = strlen(path) + strlen(t->name) + 48;
	m->src = xmalloc(sl);
	if (r0 == 0 && r1 == (t->ndim ? t->shape[0] : 1))
		snprintf(m->src, sl, "%s:%s", path, t->name);
	else
		snprintf(m->src, sl, "%s:%s[%lld:%lld]", path, t->name, (long long)r0, (long long)r1);
	st_free(f);
	return m;
}

void st_list(wr_t *w, const char *path)
{
	st_file_t *f = st_open(path);
	wr_puts(w, "tensor\tdtype\tshape\n");
	for (size_t i = 0; i < f->n; i++) {
		const st_tensor_t *t = &f->t[i];
		wr_puts(w, t->name);
		wr_putc(w, '\t');
		wr_puts(w, t->dtype);
		wr_putc(w, '\t');
		for (int d = 0; d < t->ndim; d++)
			wr_printf(w, "%s%lld", d ? " x " : "", (long long)t->shape[d]);
		if (!t->ndim)
			wr_puts(w, "scalar");
		wr_putc(w, '\n');
	}
	st_free(f);
}
