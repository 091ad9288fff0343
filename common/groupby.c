#include "groupby.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

groupby_t *groupby_new(const tsv_t *t, const char *list)
{
	groupby_t *g = xcalloc(1, sizeof *g);
	g->keys = strtab_new();
	if (list && *list)
		g->ncols = tsv_cols(t, list, &g->cols);
	g->cap = 256;
	g->buf = xmalloc(g->cap);
	return g;
}

void groupby_free(groupby_t *g)
{
	if (!g)
		return;
	strtab_free(g->keys);
	free(g->cols);
	free(g->buf);
	free(g);
}

int64_t groupby_row(groupby_t *g, const tsv_t *t)
{
	size_t len = 0;
	for (int i = 0; i < g->ncols; i++) {
		const char *f = tsv_str(t, g->cols[i]);
		size_t k = strlen(f);
		if (len + k + 1 > g->cap) {
			g->cap = 2 * (len + k + 1);
			g->buf = xrealloc(g->buf, g->cap);
		}
		if (i)
			g->buf[len++] = '\t';
		memcpy(g->buf + len, f, k);
		len += k;
	}
	return strtab_put(g->keys, g->buf, len, NULL);
}

int64_t groupby_count(const groupby_t *g) { return strtab_size(g->keys); }
const char *groupby_key(const groupby_t *g, int64_t id) { return strtab_str(g->keys, id); }

void groupby_write_header(const groupby_t *g, const tsv_t *t, wr_t *w)
{
	for (int i = 0; i < g->ncols; i++) {
		wr_puts(w, t->names[g->cols[i]]);
		wr_putc(w, '\t');
	}
}

void groupby_write_key(const groupby_t *g, int64_t id, wr_t *w)
{
	if (g->ncols == 0)
		return;
	wr_puts(w, groupby_key(g, id));
	wr_putc(w, '\t');
}

void group_index(const int64_t *gid, int64_t n, int64_t ngroups, int64_t **start, int64_t **rows)
{
	int64_t *st = xcalloc((size_t)ngroups + 1, sizeof *st);
	int64_t *r = xmallocarray((size_t)(n ? n : 1), sizeof *r);
	for (int64_t i = 0; i < n; i++)
		st[gid[i] + 1]++;
	for (int64_t k = 0; k < ngroups; k++)
		st[k + 1] += st[k];
	int64_t *pos = xmallocarray((size_t)(ngroups ? ngroups : 1), sizeof *pos);
	memcpy(pos, st, (size_t)ngroups * sizeof *pos);
	for (int64_t i = 0; i < n; i++)
		r[pos[gid[i]]++] = i;
	free(pos);
	*start = st;
	*rows = r;
}
