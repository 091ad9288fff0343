#include "metrics.h"

#include <math.h>
#include <stdlib.h>

#include "stats.h"
#include "xalloc.h"

/* Scatter the rows into contiguous per-group slices, keeping their
 * (ascending score) order: a counting sort on the group id. */
typedef struct slices {
	int64_t *start; /* ng + 1 */
	double *s;
	unsigned char *y;
} slices_t;

static void slice(const double *s, const unsigned char *y, const int64_t *g, int64_t n, int64_t ng,
		  slices_t *o)
{
	o->start = xcalloc((size_t)ng + 1, sizeof *o->start);
	o->s = xmallocarray((size_t)(n ? n : 1), sizeof *o->s);
	o->y = xmalloc((size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++)
		o->start[g[i] + 1]++;
	for (int64_t q = 0; q < ng; q++)
		o->start[q + 1] += o->start[q];
	int64_t *pos = xmallocarray((size_t)(ng ? ng : 1), sizeof *pos);
	for (int64_t q = 0; q < ng; q++)
		pos[q] = o->start[q];
	for (int64_t i = 0; i < n; i++) {
		int64_t at = pos[g[i]]++;
		o->s[at] = s[i];
		o->y[at] = y[i];
	}
	free(pos);
}

static void slices_free(slices_t *o)
{
	free(o->start);
	free(o->s);
	free(o->y);
}

void recall_at_k_groups(const double *s, const unsigned char *y, const int64_t *g, int64_t n,
			int64_t ng, int64_t k, double *r)
{
	slices_t sl;
	slice(s, y, g, n, ng, &sl);
	for (int64_t q = 0; q < ng; q++) {
		int64_t a = sl.start[q], m = sl.start[q + 1] - a, npos = 0;
		for (int64_t i = 0; i < m; i++)
			npos += sl.y[a + i];
		if (npos == 0) {
			r[q] = NAN;
			continue;
		}
		int64_t kk = k < m ? k : m;
		r[q] = precision_at_sorted(sl.s + a, sl.y + a, m, kk) * (double)kk / (double)npos;
	}
	slices_free(&sl);
}

void auroc_groups(const double *s, const unsigned char *y, const int64_t *g, int64_t n, int64_t ng,
		  double *au)
{
	slices_t sl;
	slice(s, y, g, n, ng, &sl);
	for (int64_t q = 0; q < ng; q++) {
		int64_t a = sl.start[q];
		au[q] = auroc_sorted(sl.s + a, sl.y + a, NULL, sl.start[q + 1] - a);
	}
	slices_free(&sl);
}

double mean_weighted_nonan(const double *v, const double *w, int64_t n)
{
	double sw = 0, sv = 0;
	for (int64_t i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		double wi = w ? w[i] : 1;
		sw += wi;
		sv += wi * v[i];
	}
	return sw > 0 ? sv / sw : NAN;
}
