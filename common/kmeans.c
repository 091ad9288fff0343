#include "kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rng.h"
#include "xalloc.h"

static double dist2(const double *a, const double *b, int d)
{
	double s = 0;
	for (int j = 0; j < d; j++) {
		double t = a[j] - b[j];
		s += t * t;
	}
	return s;
}

/* k-means++: the first centre uniformly, then each next one with probability
 * proportional to the squared distance to the nearest chosen centre. */
static void seed_centres(const double *x, int64_t n, int d, int k, rng_t *r, double *c, double *near)
{
	int64_t first = (int64_t)rng_below(r, (uint64_t)n);
	memcpy(c, x + first * d, (size_t)d * sizeof *c);
	for (int64_t i = 0; i < n; i++)
		near[i] = dist2(x + i * d, c, d);
	for (int q = 1; q < k; q++) {
		double tot = 0;
		for (int64_t i = 0; i < n; i++)
			tot += near[i];
		int64_t pick = n - 1;
		if (tot > 0) {
			double u = rng_uniform(r) * tot, acc = 0;
			for (int64_t i = 0; i < n; i++) {
				acc += near[i];
				if (acc > u) { pick = i; break; }
			}
		} else {
			pick = (int64_t)rng_below(r, (uint64_t)n);
		}
		memcpy(c + (size_t)q * d, x + pick * d, (size_t)d * sizeof *c);
		for (int64_t i = 0; i < n; i++) {
			double t = dist2(x + i * d, c + (size_t)q * d, d);
			if (t < near[i])
				near[i] = t;
		}
	}
}

static double lloyd(const double *x, int64_t n, int d, int k, int max_iter, double *c, int32_t *lab,
		    double *near)
{
	int64_t *cnt = xmallocarray((size_t)k, sizeof *cnt);
	double sse = 0;
	for (int it = 0; it <= max_iter; it++) {
		int changed = 0;
		sse = 0;
		for (int64_t i = 0; i < n; i++) {
			int best = 0;
			double bd = dist2(x + i * d, c, d);
			for (int q = 1; q < k; q++) {
				double t = dist2(x + i * d, c + (size_t)q * d, d);
				if (t < bd) { bd = t; best = q; }
			}
			if (it == 0 || lab[i] != best)
				changed = 1;
			lab[i] = best;
			near[i] = bd;
			sse += bd;
		}
		if (!changed || it == max_iter)
			break;
		memset(c, 0, (size_t)k * d * sizeof *c);
		memset(cnt, 0, (size_t)k * sizeof *cnt);
		for (int64_t i = 0; i < n; i++) {
			cnt[lab[i]]++;
			for (int j = 0; j < d; j++)
				c[(size_t)lab[i] * d + j] += x[i * d + j];
		}
		for (int q = 0; q < k; q++) {
			if (cnt[q] == 0) {
				/* an empty cluster takes the point farthest from its centre */
				int64_t far = 0;
				for (int64_t i = 1; i < n; i++)
					if (near[i] > near[far]) far = i;
				memcpy(c + (size_t)q * d, x + far * d, (size_t)d * sizeof *c);
				near[far] = 0;
				continue;
			}
			for (int j = 0; j < d; j++)
				c[(size_t)q * d + j] /= (double)cnt[q];
		}
	}
	free(cnt);
	return sse;
}

typedef struct { int64_t size, first; int q; } csz_t;
static int cmp_csz(const void *a, const void *b)
{
	const csz_t *x = a, *y = b;
	if (x->size != y->size) return x->size > y->size ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

double kmeans(const double *x, int64_t n, int d, int k, int restarts, int max_iter, uint64_t seed,
	      int32_t *label)
{
	if (k < 1 || k > n)
		die("k-means: %d clusters asked of %lld points", k, (long long)n);
	rng_t r;
	rng_seed(&r, seed);
	double *c = xmallocarray(xmul((size_t)k, (size_t)d), sizeof *c);
	double *near = xmallocarray((size_t)n, sizeof *near);
	int32_t *lab = xmallocarray((size_t)n, sizeof *lab);
	double best = INFINITY;
	for (int t = 0; t < restarts; t++) {
		seed_centres(x, n, d, k, &r, c, near);
		double sse = lloyd(x, n, d, k, max_iter, c, lab, near);
		if (sse < best) {
			best = sse;
			memcpy(label, lab, (size_t)n * sizeof *lab);
		}
	}
	csz_t *cs = xmallocarray((size_t)k, sizeof *cs);
	for (int q = 0; q < k; q++)
		cs[q] = (csz_t){ 0, n, q };
	for (int64_t i = 0; i < n; i++) {
		csz_t *s = &cs[label[i]];
		if (s->size++ == 0)
			s->first = i;
	}
	qsort(cs, (size_t)k, sizeof *cs, cmp_csz);
	int32_t *map = xmallocarray((size_t)k, sizeof *map);
	for (int q = 0; q < k; q++)
		map[cs[q].q] = q;
	for (int64_t i = 0; i < n; i++)
		label[i] = map[label[i]];
	free(map);
	free(cs);
	free(c);
	free(near);
	free(lab);
	return best;
}
