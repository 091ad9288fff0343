/* Groups of TSV rows by the values of some key columns (--by a,b): rows with
 * the same values belong together wherever they appear in the input; groups
 * are numbered in order of first appearance. */
#ifndef AK_GROUPBY_H
#define AK_GROUPBY_H

#include <stdint.h>

#include "out.h"
#include "strtab.h"
#include "tsv.h"

typedef struct groupby {
	int ncols;        /* 0: everything is one group */
	int *cols;
	strtab_t *keys;   /* key = the fields joined by tabs */
	char *buf;
	size_t cap;
} groupby_t;

/* list: comma-separated column names, or NULL / "" for a single group. */
groupby_t *groupby_new(const tsv_t *t, const char *list);
void groupby_free(groupby_t *g);
/* Group id of the current row of t. */
int64_t groupby_row(groupby_t *g, const tsv_t *t);
int64_t groupby_count(const groupby_t *g);
/* Key of a group as it goes out: the key fields joined by tabs. */
const char *groupby_key(const groupby_t *g, int64_t id);
/* Write the key column names, each followed by a tab (nothing when ncols 0). */
void groupby_write_header(const groupby_t *g, const tsv_t *t, wr_t *w);
/* Write a group's key fields, each followed by a tab. */
void groupby_write_key(const groupby_t *g, int64_t id, wr_t *w);

/* Counting sort of rows by group: rows of group k are rows[start[k] ..
 * start[k+1]) in input order. start has ngroups + 1 entries. Caller frees. */
void group_index(const int64_t *gid, int64_t n, int64_t ngroups, int64_t **start, int64_t **rows);

#endif
