#include "strtab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hash.h"
#include "in.h"
#include "xalloc.h"

struct strtab {
	char **str;
	size_t *len;
	int64_t n, cap;
	int64_t *slot; /* open addressing: id or -1 */
	uint64_t mask;
	char *arena;   /* strings live in chunks to avoid one malloc each */
	size_t arena_left;
	char **chunks;
	size_t nchunks;
};

strtab_t *strtab_new(void)
{
	strtab_t *t = xcalloc(1, sizeof *t);
	t->cap = 64;
	t->str = xmallocarray((size_t)t->cap, sizeof *t->str);
	t->len = xmallocarray((size_t)t->cap, sizeof *t->len);
	t->mask = 127;
	t->slot = xmallocarray(t->mask + 1, sizeof *t->slot);
	memset(t->slot, 0xff, (t->mask + 1) * sizeof *t->slot);
	return t;
}

void strtab_free(strtab_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->str);
	free(t->len);
	free(t->slot);
	free(t);
}

static char *store(strtab_t *t, const char *s, size_t len)
{
	if (t->arena_left < len + 1) {
		size_t sz = len + 1 > (1u << 16) ? len + 1 : (1u << 16);
		t->chunks = xreallocarray(t->chunks, t->nchunks + 1, sizeof *t->chunks);
		t->arena = t->chunks[t->nchunks++] = xmalloc(sz);
		t->arena_left = sz;
	}
	char *d = t->arena;
	memcpy(d, s, len);
	d[len] = '\0';
	t->arena += len + 1;
	t->arena_left -= len + 1;
	return d;
}

static void rehash(strtab_t *t)
{
	uint64_t m = (t->mask + 1) * 2 - 1;
	int64_t *slot = xmallocarray(m + 1, sizeof *slot);
	memset(slot, 0xff, (m + 1) * sizeof *slot);
	for (int64_t id = 0; id < t->n; id++) {
		uint64_t h = hash_bytes(t->str[id], t->len[id]) & m;
		while (slot[h] >= 0)
			h = (h + 1) & m;
		slot[h] = id;
	}
	free(t->slot);
	t->slot = slot;
	t->mask = m;
}

int64_t strtab_get(const strtab_t *t, const char *s, size_t len)
{
	uint64_t h = hash_bytes(s, len) & t->mask;
	for (;;) {
		int64_t id = t->slot[h];
		if (id < 0)
			return -1;
		if (t->len[id] == len && memcmp(t->str[id], s, len) == 0)
			return id;
		h = (h + 1) & t->mask;
	}
}

int64_t strtab_put(strtab_t *t, const char *s, size_t len, int *added)
{
	uint64_t h = hash_bytes(s, len) & t->mask;
	for (;;) {
		int64_t id = t->slot[h];
		if (id < 0)
			break;
		if (t->len[id] == len && memcmp(t->str[id], s, len) == 0) {
			if (added)
				*added = 0;
			return id;
		}
		h = (h + 1) & t->mask;
	}
	if (t->n == t->cap) {
		t->cap *= 2;
		t->str = xreallocarray(t->str, (size_t)t->cap, sizeof *t->str);
		t->len = xreallocarray(t->len, (size_t)t->cap, sizeof *t->len);
	}
	int64_t id = t->n++;
	t->str[id] = store(t, s, len);
	t->len[id] = len;
	t->slot[h] = id;
	if ((uint64_t)t->n * 2 > t->mask)
		rehash(t);
	if (added)
		*added = 1;
	return id;
}

const char *strtab_str(const strtab_t *t, int64_t id) { return t->str[id]; }
int64_t strtab_size(const strtab_t *t) { return t->n; }

strtab_t *strtab_read_lines(const char *path)
{
	rd_t *r = rd_open(path);
	strtab_t *t = strtab_new();
	size_t len;
	char *line;
	while ((line = rd_line(r, &len)) != NULL) {
		if (len == 0) {
			char msg[512];
			snprintf(msg, sizeof msg, "%s:%lld: empty id", rd_name(r), (long long)rd_lineno(r));
			strtab_free(t);
			rd_close(r);
			die("%s", msg);
		}
		/* A 10x features.tsv (id, symbol, type) read as one id per line
		 * made every id "ENSG...\tSYMBOL\tGene Expression" and the
		 * outputs malformed TSV: refuse it, saying which column to keep. */
		const char *tab = memchr(line, '\t', len);
		if (tab) {
			char msg[512];
			int ncol = 1;
			for (size_t i = 0; i < len; i++)
				ncol += line[i] == '\t';
			snprintf(msg, sizeof msg,
				 "%s:%lld: %d tab-separated columns, but this file must hold one id per line "
				 "(a 10x features.tsv? keep one column: cut -f1 for ids, cut -f2 for symbols)",
				 rd_name(r), (long long)rd_lineno(r), ncol);
			strtab_free(t);
			rd_close(r);
			die("%s", msg);
		}
		int added;
		int64_t id = strtab_put(t, line, len, &added);
		if (!added) {
			/* Free first: leak checkers run over error exits too. */
			char msg[512];
			snprintf(msg, sizeof msg, "%s:%lld: duplicate id '%.200s' (first on line %lld)",
				 rd_name(r), (long long)rd_lineno(r), line, (long long)id + 1);
			strtab_free(t);
			rd_close(r);
			die("%s", msg);
		}
	}
	rd_close(r);
	return t;
}
