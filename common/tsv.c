#include "tsv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "num.h"
#include "xalloc.h"

int tsv_split(char *s, char **f, int cap)
{
	int n = 0;
	for (;;) {
		if (n < cap)
			f[n] = s;
		n++;
		char *tab = strchr(s, '\t');
		if (!tab)
			break;
		*tab = '\0';
		s = tab + 1;
	}
	return n;
}

static tsv_t *open_common(const char *path)
{
	tsv_t *t = xcalloc(1, sizeof *t);
	t->rd = rd_open(path);
	return t;
}

static void check_dups(tsv_t *t)
{
	for (int i = 0; i < t->ncol; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(t->names[i], t->names[j]) == 0)
				die("%s:1: duplicate column name '%s' (columns %d and %d)",
				    rd_name(t->rd), t->names[i], j + 1, i + 1);
}

tsv_t *tsv_open(const char *path)
{
	tsv_t *t = open_common(path);
	size_t len;
	char *line = rd_line(t->rd, &len);
	if (!line)
		die("%s: empty input: expected a header line", rd_name(t->rd));
	int n = tsv_split(line, NULL, 0);
	/* tsv_split with cap 0 already cut the line at tabs; walk the pieces. */
	t->ncol = n;
	t->names = xmallocarray((size_t)n, sizeof *t->names);
	char *s = line;
	for (int i = 0; i < n; i++) {
		size_t k = strlen(s);
		t->names[i] = xstrndup(s, k);
		s += k + 1;
	}
	if (n == 1 && t->names[0][0] == '\0')
		die("%s:1: empty header line", rd_name(t->rd));
	check_dups(t);
	t->cap = n;
	t->f = xmallocarray((size_t)n, sizeof *t->f);
	return t;
}

tsv_t *tsv_open_noheader(const char *path)
{
	tsv_t *t = open_common(path);
	char buf[4096];
	size_t k = rd_peek(t->rd, buf, sizeof buf - 1);
	if (k == 0)
		die("%s: empty input", rd_name(t->rd));
	buf[k] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	int n = tsv_split(buf, NULL, 0);
	t->ncol = n;
	t->names = xmallocarray((size_t)n, sizeof *t->names);
	for (int i = 0; i < n; i++) {
		char nm[16];
		snprintf(nm, sizeof nm, "%d", i + 1);
		t->names[i] = xstrdup(nm);
	}
	t->cap = n;
	t->f = xmallocarray((size_t)n, sizeof *t->f);
	return t;
}

void tsv_close(tsv_t *t)
{
	if (!t)
		return;
	rd_close(t->rd);
	for (int i = 0; i < t->ncol; i++)
		free(t->names[i]);
	free(t->names);
	free(t->f);
	free(t);
}

const char *tsv_name(const tsv_t *t) { return rd_name(t->rd); }
int64_t tsv_line(const tsv_t *t) { return rd_lineno(t->rd); }

int tsv_col_opt(const tsv_t *t, const char *name)
{
	for (int i = 0; i < t->ncol; i++)
		if (strcmp(t->names[i], name) == 0)
			return i;
	return -1;
}

int tsv_col(const tsv_t *t, const char *name)
{
	int c = tsv_col_opt(t, name);
	if (c >= 0)
		return c;
	/* List what is there, so the user sees the typo or the wrong file. */
	size_t cap = 256, len = 0;
	char *list = xmalloc(cap);
	list[0] = '\0';
	for (int i = 0; i < t->ncol && len < 400; i++) {
		size_t k = strlen(t->names[i]);
		if (len + k + 4 >= cap) {
			cap = 2 * (len + k + 4);
			list = xrealloc(list, cap);
		}
		len += (size_t)sprintf(list + len, "%s%s", i ? ", " : "", t->names[i]);
	}
	die("%s: no column '%s' (columns: %s%s)", rd_name(t->rd), name, list,
	    len >= 400 ? ", ..." : "");
}

int tsv_cols(const tsv_t *t, const char *list, int **idx)
{
	char *copy = xstrdup(list);
	int n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	*idx = xmallocarray((size_t)n, sizeof **idx);
	int k = 0;
	for (char *s = copy, *tok; (tok = strsep(&s, ",")) != NULL;)
		(*idx)[k++] = tsv_col(t, tok);
	free(copy);
	return k;
}

int tsv_next(tsv_t *t)
{
	size_t len;
	char *line = rd_line(t->rd, &len);
	if (!line)
		return 0;
	int n = tsv_split(line, t->f, t->cap);
	if (n != t->ncol)
		die("%s:%lld: expected %d fields, found %d", rd_name(t->rd),
		    (long long)rd_lineno(t->rd), t->ncol, n);
	t->nf = n;
	return 1;
}

void tsv_die(const tsv_t *t, int col, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	die("%s:%lld: column '%s': %s", rd_name(t->rd), (long long)rd_lineno(t->rd),
	    t->names[col], msg);
}

/* Quote at most 60 characters of a bad field. */
static const char *shorten(const char *s, char *buf, size_t cap)
{
	size_t n = strlen(s);
	if (n < cap)
		return s;
	snprintf(buf, cap, "%.*s...", (int)(cap - 4), s);
	return buf;
}

double tsv_num(const tsv_t *t, int col)
{
	double v;
	if (!parse_f64(t->f[col], &v)) {
		char b[64];
		tsv_die(t, col, "\"%s\" is not a number", shorten(t->f[col], b, sizeof b));
	}
	return v;
}

double tsv_finite(const tsv_t *t, int col)
{
	double v = tsv_num(t, col);
	if (!isfinite(v))
		tsv_die(t, col, "\"%s\" is not a finite number", t->f[col]);
	return v;
}

int tsv_num_na(const tsv_t *t, int col, double *out)
{
	if (is_na(t->f[col])) {
		*out = NAN;
		return 0;
	}
	*out = tsv_num(t, col);
	return 1;
}

double tsv_finite_na(const tsv_t *t, int col, int *na)
{
	double v;
	if (!tsv_num_na(t, col, &v)) {
		*na = 1;
		return NAN;
	}
	if (!isfinite(v))
		tsv_die(t, col, "\"%s\" is not a finite number", tsv_str(t, col));
	return v;
}

int64_t tsv_int(const tsv_t *t, int col)
{
	int64_t v;
	if (!parse_i64(t->f[col], &v)) {
		char b[64];
		tsv_die(t, col, "\"%s\" is not an integer", shorten(t->f[col], b, sizeof b));
	}
	return v;
}
