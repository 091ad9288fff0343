#include "rank.h"

#include <stdlib.h>

#include "sort.h"
#include "xalloc.h"

double rank_mid_sparse(const double *x, int64_t k, int64_t n, double *rank, double *zero_rank)
{
	int64_t *o = xmallocarray((size_t)(k ? k : 1), sizeof *o);
	argsort_f64(x, k, o);
	int64_t nz = n - k, neg = 0;
	while (neg < k && x[o[neg]] < 0)
		neg++;
	double tie = 0;
	/* Zeros occupy positions neg+1 .. neg+nz of the full sorted vector. */
	*zero_rank = nz ? (double)neg + 0.5 * (double)(nz + 1) : 0;
	double tz = (double)nz;
	tie += tz * tz * tz - tz;
	for (int64_t i = 0; i < k;) {
		int64_t j = i + 1;
		while (j < k && x[o[j]] == x[o[i]])
			j++;
		double shift = i >= neg ? (double)nz : 0;
		double r = 0.5 * (double)(i + 1 + j) + shift;
		for (int64_t q = i; q < j; q++)
			rank[o[q]] = r;
		double t = (double)(j - i);
		tie += t * t * t - t;
		i = j;
	}
	free(o);
	return tie;
}

/* Dense x is the sparse case without implicit zeros: the same loop, with a
 * shift of 0 and an empty zero group. */
double rank_mid(const double *x, int64_t n, double *rank)
{
	double zero_rank;
	return n > 0 ? rank_mid_sparse(x, n, n, rank, &zero_rank) : 0;
}

void rank2_sorted(const uint64_t *key, const uint32_t *idx, size_t n, uint32_t *r2)
{
	for (size_t s = 0; s < n;) {
		size_t e = s + 1;
		while (e < n && key[e] == key[s])
			e++;
		uint32_t v = (uint32_t)(s + e + 1);
		for (size_t i = s; i < e; i++)
			r2[idx[i]] = v;
		s = e;
	}
}

void rank2_packed_sorted(const uint64_t *rec, size_t n, uint32_t *r2)
{
	for (size_t s = 0; s < n;) {
		size_t e = s + 1;
		while (e < n && rec[e] >> 32 == rec[s] >> 32)
			e++;
		uint32_t v = (uint32_t)(s + e + 1);
		for (size_t i = s; i < e; i++)
			r2[(uint32_t)rec[i]] = v;
		s = e;
	}
}
