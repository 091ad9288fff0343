/* Matrices as TSV: a header line (corner label, then column names) and one
 * line per row (row name, then values). Names that are just 0, 1, 2, ... are
 * written for unnamed matrices and read back as "no names", so a round trip
 * through TSV keeps a matrix unnamed. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "in.h"
#include "mat.h"
#include "num.h"
#include "out.h"
#include "tsv.h"
#include "xalloc.h"

static int is_index_names(char **v, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		char b[NUM_BUFSZ];
		fmt_i64(b, i);
		if (strcmp(v[i], b) != 0)
			return 0;
	}
	return 1;
}

static void drop_names(char ***v, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
}

akmat_t *tsvmat_read(rd_t *r)
{
	size_t len;
	char *line = rd_line(r, &len);
	if (!line)
		die("%s: empty input", rd_name(r));
	int nf = tsv_split(line, NULL, 0);
	if (nf < 2)
		die("%s:1: a TSV matrix needs a header with a corner label and at least one column name",
		    rd_name(r));
	int64_t cols = nf - 1;
	char **colnames = xmallocarray((size_t)cols, sizeof *colnames);
	char *s = line + strlen(line) + 1;
	for (int64_t j = 0; j < cols; j++) {
		size_t k = strlen(s);
		colnames[j] = xstrndup(s, k);
		s += k + 1;
	}
	char **f = xmallocarray((size_t)nf, sizeof *f);
	int64_t rows = 0, rcap = 0;
	double *data = NULL;
	char **rownames = NULL;
	while ((line = rd_line(r, &len)) != NULL) {
		int n = tsv_split(line, f, nf);
		if (n != nf)
			die("%s:%lld: expected %d fields, found %d", rd_name(r), (long long)rd_lineno(r), nf, n);
		if (rows == rcap) {
			rcap = rcap ? rcap * 2 : 64;
			data = xreallocarray(data, xmul((size_t)rcap, (size_t)cols), sizeof *data);
			rownames = xreallocarray(rownames, (size_t)rcap, sizeof *rownames);
		}
		rownames[rows] = xstrdup(f[0]);
		for (int64_t j = 0; j < cols; j++)
			if (!parse_f64(f[j + 1], &data[rows * cols + j]))
				die("%s:%lld: column '%s': \"%.40s\" is not a number", rd_name(r),
				    (long long)rd_lineno(r), colnames[j], f[j + 1]);
		rows++;
	}
	free(f);
	if (rows == 0)
		die("%s: header only, no data rows", rd_name(r));
	akmat_t *m = xcalloc(1, sizeof *m);
	m->dtype = AK_F64;
	m->ndim = 2;
	m->shape[0] = m->rows = rows;
	m->shape[1] = m->cols = cols;
	m->data = data;
	m->rownames = rownames;
	m->colnames = colnames;
	if (is_index_names(m->rownames, rows))
		drop_names(&m->rownames, rows);
	if (is_index_names(m->colnames, cols))
		drop_names(&m->colnames, cols);
	return m;
}

static void put_value(wr_t *w, const akmat_t *m, int64_t i)
{
	switch (m->dtype) {
	case AK_F32: wr_f32(w, ((const float *)m->data)[i]); break;
	case AK_F64: wr_f64(w, ((const double *)m->data)[i]); break;
	case AK_I32: wr_i64(w, ((const int32_t *)m->data)[i]); break;
	case AK_I64: wr_i64(w, ((const int64_t *)m->data)[i]); break;
	}
}

void tsvmat_write(wr_t *w, const akmat_t *m)
{
	wr_puts(w, "row");
	for (int64_t j = 0; j < m->cols; j++) {
		wr_putc(w, '\t');
		if (m->colnames)
			wr_puts(w, m->colnames[j]);
		else
			wr_i64(w, j);
	}
	wr_putc(w, '\n');
	for (int64_t i = 0; i < m->rows; i++) {
		if (m->rownames)
			wr_puts(w, m->rownames[i]);
		else
			wr_i64(w, i);
		for (int64_t j = 0; j < m->cols; j++) {
			wr_putc(w, '\t');
			put_value(w, m, i * m->cols + j);
		}
		wr_putc(w, '\n');
	}
}
