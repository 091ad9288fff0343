/* MatrixMarket coordinate files (10x's matrix.mtx): real, integer or pattern;
 * general or symmetric. Indices are 1-based in the file, 0-based here. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "in.h"
#include "mat.h"
#include "num.h"
#include "out.h"
#include "xalloc.h"

static int next_tok(char **p, char *tok, size_t cap)
{
	char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t k = 0;
	while (*s && *s != ' ' && *s != '\t') {
		if (k + 1 < cap)
			tok[k++] = (char)tolower((unsigned char)*s);
		s++;
	}
	tok[k] = '\0';
	*p = s;
	return k > 0;
}

static void parse_banner(rd_t *r, char *line, int *field, int *sym)
{
	char t[5][32];
	char *p = line;
	for (int i = 0; i < 5; i++)
		if (!next_tok(&p, t[i], sizeof t[i]))
			die("%s:1: incomplete MatrixMarket header", rd_name(r));
	if (strcmp(t[0], "%%matrixmarket") != 0 || strcmp(t[1], "matrix") != 0)
		die("%s:1: not a MatrixMarket matrix header", rd_name(r));
	if (strcmp(t[2], "coordinate") != 0)
		die("%s:1: MatrixMarket format '%s' is not supported (only coordinate)", rd_name(r), t[2]);
	if (strcmp(t[3], "real") == 0 || strcmp(t[3], "double") == 0) *field = 0;
	else if (strcmp(t[3], "integer") == 0) *field = 1;
	else if (strcmp(t[3], "pattern") == 0) *field = 2;
	else die("%s:1: MatrixMarket field '%s' is not supported (real, integer, pattern)", rd_name(r), t[3]);
	if (strcmp(t[4], "general") == 0) *sym = 0;
	else if (strcmp(t[4], "symmetric") == 0) *sym = 1;
	else die("%s:1: MatrixMarket symmetry '%s' is not supported (general, symmetric)", rd_name(r), t[4]);
}

static int64_t parse_index(rd_t *r, char **p, const char *what, int64_t max)
{
	char *s = *p, *end;
	while (*s == ' ' || *s == '\t')
		s++;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno)
		die("%s:%lld: bad %s index", rd_name(r), (long long)rd_lineno(r), what);
	if (v < 1 || v > max)
		die("%s:%lld: %s index %lld out of range 1..%lld", rd_name(r), (long long)rd_lineno(r),
		    what, v, (long long)max);
	*p = end;
	return v - 1;
}

static void push(spmat_t *s, int64_t *cap, int64_t i, int64_t j, double v)
{
	if (s->nnz == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		s->ri = xreallocarray(s->ri, (size_t)*cap, sizeof *s->ri);
		s->ci = xreallocarray(s->ci, (size_t)*cap, sizeof *s->ci);
		s->val = xreallocarray(s->val, (size_t)*cap, sizeof *s->val);
	}
	s->ri[s->nnz] = (int32_t)i;
	s->ci[s->nnz] = (int32_t)j;
	s->val[s->nnz] = v;
	s->nnz++;
}

spmat_t *mtx_read_rd(rd_t *r)
{
	size_t len;
	char *line = rd_line(r, &len);
	if (!line)
		die("%s: empty input", rd_name(r));
	int field, sym;
	parse_banner(r, line, &field, &sym);
	while ((line = rd_line(r, &len)) != NULL && (line[0] == '%' || len == 0))
		;
	if (!line)
		die("%s: MatrixMarket size line missing", rd_name(r));
	long long rows, cols, nnz;
	char extra;
	if (sscanf(line, "%lld %lld %lld %c", &rows, &cols, &nnz, &extra) != 3 || rows < 0 || cols < 0 || nnz < 0)
		die("%s:%lld: bad MatrixMarket size line (want: rows cols entries)", rd_name(r),
		    (long long)rd_lineno(r));
	if (rows > INT32_MAX || cols > INT32_MAX)
		die("%s:%lld: %lld x %lld is too large (at most 2^31-1 per dimension)", rd_name(r),
		    (long long)rd_lineno(r), rows, cols);
	spmat_t *s = xcalloc(1, sizeof *s);
	s->rows = rows;
	s->cols = cols;
	s->is_int = field != 0;
	int64_t cap = 0;
	long long seen = 0;
	while ((line = rd_line(r, &len)) != NULL) {
		if (line[0] == '%' || len == 0)
			continue;
		if (++seen > nnz)
			die("%s:%lld: more entries than the %lld the size line declares", rd_name(r),
			    (long long)rd_lineno(r), nnz);
		char *p = line;
		int64_t i = parse_index(r, &p, "row", rows);
		int64_t j = parse_index(r, &p, "column", cols);
		double v = 1;
		if (field != 2) {
			while (*p == ' ' || *p == '\t')
				p++;
			char *e = p + strcspn(p, " \t");
			char save = *e;
			*e = '\0';
			if (!parse_f64(p, &v))
				die("%s:%lld: value \"%s\" is not a number", rd_name(r), (long long)rd_lineno(r), p);
			*e = save;
			p = e;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p)
			die("%s:%lld: trailing text after the entry", rd_name(r), (long long)rd_lineno(r));
		push(s, &cap, i, j, v);
		if (sym && i != j)
			push(s, &cap, j, i, v);
	}
	if (seen < nnz)
		die("%s: truncated MatrixMarket file: %lld of %lld entries", rd_name(r), seen, nnz);
	return s;
}

spmat_t *mtx_read(const char *path)
{
	rd_t *r = rd_open(path);
	spmat_t *s = mtx_read_rd(r);
	rd_close(r);
	return s;
}

void spmat_free(spmat_t *s)
{
	if (!s)
		return;
	free(s->ri);
	free(s->ci);
	free(s->val);
	free(s);
}

akmat_t *mtx_read_dense(rd_t *r)
{
	spmat_t *s = mtx_read_rd(r);
	akmat_t *m = mat_new2(s->is_int ? AK_I64 : AK_F64, s->rows, s->cols);
	/* Duplicate entries add up, as scipy's coo -> dense does. */
	for (int64_t k = 0; k < s->nnz; k++) {
		int64_t idx = (int64_t)s->ri[k] * s->cols + s->ci[k];
		if (s->is_int)
			((int64_t *)m->data)[idx] += (int64_t)s->val[k];
		else
			((double *)m->data)[idx] += s->val[k];
	}
	spmat_free(s);
	return m;
}

void mtx_write(wr_t *w, const akmat_t *m)
{
	if (m->ndim > 2)
		die("%s: MatrixMarket holds 2-D matrices only", wr_name(w));
	if (m->rownames || m->colnames)
		warn("%s: MatrixMarket cannot hold row or column names; they are dropped", wr_name(w));
	int isint = m->dtype == AK_I32 || m->dtype == AK_I64;
	int64_t n = mat_count(m), nnz = 0;
	for (int64_t i = 0; i < n; i++)
		nnz += mat_get(m, i) != 0;
	wr_printf(w, "%%%%MatrixMarket matrix coordinate %s general\n", isint ? "integer" : "real");
	wr_printf(w, "%lld %lld %lld\n", (long long)m->rows, (long long)m->cols, (long long)nnz);
	char b[NUM_BUFSZ];
	for (int64_t i = 0; i < n; i++) {
		double v = mat_get(m, i);
		if (v == 0)
			continue;
		wr_printf(w, "%lld %lld ", (long long)(i / m->cols + 1), (long long)(i % m->cols + 1));
		int k;
		if (m->dtype == AK_I64) k = fmt_i64(b, ((const int64_t *)m->data)[i]);
		else if (m->dtype == AK_I32) k = fmt_i64(b, ((const int32_t *)m->data)[i]);
		else if (m->dtype == AK_F32) k = fmt_f32(b, ((const float *)m->data)[i]);
		else k = fmt_f64(b, v);
		wr_write(w, b, (size_t)k);
		wr_putc(w, '\n');
	}
}
