#include "colspec.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

int colspec_one(const tsv_t *t, const char *spec)
{
	int c = tsv_col_opt(t, spec);
	if (c >= 0)
		return c;
	size_t n = strlen(spec);
	if (n > 0 && n < 10 && strspn(spec, "0123456789") == n) {
		long k = strtol(spec, NULL, 10);
		if (k >= 1 && k <= t->ncol)
			return (int)k - 1;
		die("%s: no column %ld: the table has %d column%s", tsv_name(t), k, t->ncol,
		    t->ncol == 1 ? "" : "s");
	}
	return tsv_col(t, spec); /* dies listing the columns present */
}

int colspec_list(const tsv_t *t, const char *list, int **idx)
{
	int n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	*idx = xmallocarray((size_t)n, sizeof **idx);
	char *copy = xstrdup(list);
	int k = 0;
	for (char *s = copy, *tok; (tok = strsep(&s, ",")) != NULL;) {
		if (!*tok)
			die("%s: empty column name in '%s'", tsv_name(t), list);
		(*idx)[k++] = colspec_one(t, tok);
	}
	free(copy);
	return k;
}
