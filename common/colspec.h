/* Columns named on the command line either by header name or, for tables
 * without a (useful) header, by 1-based position: "tf,target" or "1,2". */
#ifndef AK_COLSPEC_H
#define AK_COLSPEC_H

#include "tsv.h"

/* Index of one column: a header name when one matches, otherwise a number
 * 1..ncol read as a position. Dies naming the column and listing those
 * present. */
int colspec_one(const tsv_t *t, const char *spec);
/* "a,b,c" -> indices (malloc'd in *idx); returns the count. Dies on an
 * empty list or an empty element. */
int colspec_list(const tsv_t *t, const char *list, int **idx);

#endif
