#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include "colspec.h"
#include "err.h"
#include "pairset.h"
#include "tsv.h"
#include "xalloc.h"

idmap_t *idmap_read(const char *path, const char *cols)
{
	tsv_t *t = tsv_open(path);
	int *c;
	if (colspec_list(t, cols, &c) != 2)
		die("%s: map columns must be two, FROM,TO (got '%s')", tsv_name(t), cols);
	idmap_t *m = xcalloc(1, sizeof *m);
	m->from = strtab_new();
	m->to = strtab_new();
	/* (from, to) rows in file order, duplicates dropped. */
	pairset_t *seen = pairset_new_keys(0);
	int64_t n = 0, cap = 1024;
	int64_t *fr = xmallocarray((size_t)cap, sizeof *fr), *to = xmallocarray((size_t)cap, sizeof *to);
	while (tsv_next(t)) {
		m->rows++;
		const char *a = tsv_str(t, c[0]), *b = tsv_str(t, c[1]);
		if (!*a || !*b) {
			m->skipped++;
			continue;
		}
		int64_t ia = strtab_put(m->from, a, strlen(a), NULL);
		int64_t ib = strtab_put(m->to, b, strlen(b), NULL);
		if (!pairset_add(seen, (uint32_t)ia, (uint32_t)ib, 0)) {
			m->dups++;
			continue;
		}
		if (n == cap) {
			cap *= 2;
			fr = xreallocarray(fr, (size_t)cap, sizeof *fr);
			to = xreallocarray(to, (size_t)cap, sizeof *to);
		}
		fr[n] = ia;
		to[n] = ib;
		n++;
	}
	if (n == 0)
		die("%s: the map has no rows with both ids (columns '%s')", tsv_name(t), cols);
	/* Counting sort by FROM id, stable, so each id's targets keep file order. */
	int64_t nf = strtab_size(m->from);
	m->off = xcalloc((size_t)nf + 1, sizeof *m->off);
	for (int64_t i = 0; i < n; i++)
		m->off[fr[i] + 1]++;
	for (int64_t i = 0; i < nf; i++)
		m->off[i + 1] += m->off[i];
	int64_t *pos = xmallocarray((size_t)nf + 1, sizeof *pos);
	memcpy(pos, m->off, ((size_t)nf + 1) * sizeof *pos);
	m->tgt = xmallocarray((size_t)n, sizeof *m->tgt);
	for (int64_t i = 0; i < n; i++)
		m->tgt[pos[fr[i]]++] = to[i];
	free(pos);
	free(fr);
	free(to);
	free(c);
	pairset_free(seen);
	tsv_close(t);
	return m;
}

void idmap_free(idmap_t *m)
{
	if (!m)
		return;
	strtab_free(m->from);
	strtab_free(m->to);
	free(m->off);
	free(m->tgt);
	free(m);
}

int64_t idmap_lookup(const idmap_t *m, const char *s, size_t len, const int64_t **first)
{
	int64_t i = strtab_get(m->from, s, len);
	if (i < 0) {
		*first = NULL;
		return 0;
	}
	*first = m->tgt + m->off[i];
	return m->off[i + 1] - m->off[i];
}
