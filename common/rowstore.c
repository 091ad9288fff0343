#include "rowstore.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define CHUNK (64u << 20)

static char *store(rowstore_t *s, const char *p, size_t n)
{
	if (s->left < n + 1) {
		size_t sz = n + 1 > CHUNK ? n + 1 : CHUNK;
		s->chunks = xreallocarray(s->chunks, s->nchunks + 1, sizeof *s->chunks);
		s->cur = s->chunks[s->nchunks++] = xmalloc(sz);
		s->left = sz;
	}
	char *d = s->cur;
	memcpy(d, p, n);
	d[n] = '\0';
	s->cur += n + 1;
	s->left -= n + 1;
	return d;
}

void rowstore_add(rowstore_t *s, const tsv_t *t)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 65536;
		s->line = xreallocarray(s->line, (size_t)s->cap, sizeof *s->line);
	}
	/* The fields are contiguous in the reader's buffer, split by NULs where
	 * the tabs were: copy the span and put the tabs back. */
	const char *first = t->f[0], *last = t->f[t->ncol - 1];
	size_t len = (size_t)(last - first) + strlen(last);
	char *d = s->line[s->n++] = store(s, first, len);
	for (int i = 1; i < t->ncol; i++)
		d[t->f[i] - first - 1] = '\t';
}

void rowstore_free(rowstore_t *s)
{
	for (size_t c = 0; c < s->nchunks; c++)
		free(s->chunks[c]);
	free(s->chunks);
	free(s->line);
	memset(s, 0, sizeof *s);
}

void tsv_write_header(wr_t *w, const tsv_t *t)
{
	for (int i = 0; i < t->ncol; i++) {
		if (i)
			wr_putc(w, '\t');
		wr_puts(w, t->names[i]);
	}
}
