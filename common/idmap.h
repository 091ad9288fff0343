/* A many-to-many id map (e.g. gene symbol <-> Ensembl id) read from two
 * columns of a TSV with a header. Each FROM id maps to the distinct TO ids
 * of its rows, in file order. Rows with an empty id on either side are
 * skipped (and counted). */
#ifndef AK_IDMAP_H
#define AK_IDMAP_H

#include <stdint.h>

#include "strtab.h"

typedef struct idmap {
	strtab_t *from, *to;  /* the ids of each side */
	int64_t *off;         /* from id i maps to tgt[off[i] .. off[i+1]) */
	int64_t *tgt;         /* to ids */
	int64_t rows;         /* data rows read */
	int64_t skipped;      /* rows with an empty id */
	int64_t dups;         /* repeated (from, to) rows */
} idmap_t;

/* cols: "FROM,TO" as column names or 1-based positions (see colspec.h).
 * Dies on a missing column, or when no row maps anything. */
idmap_t *idmap_read(const char *path, const char *cols);
void idmap_free(idmap_t *m);

/* The TO ids of a FROM string: count, and *first pointing at them; 0 when
 * the string is not a FROM id. */
int64_t idmap_lookup(const idmap_t *m, const char *s, size_t len, const int64_t **first);

#endif
