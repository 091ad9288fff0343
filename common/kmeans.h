/* k-means (Lloyd) with k-means++ seeding and restarts, deterministic for a
 * seed: the restart of least within-cluster sum of squares wins (the first
 * on ties), and clusters are numbered by decreasing size (ties: the cluster
 * holding the lower first point first). */
#ifndef AK_KMEANS_H
#define AK_KMEANS_H

#include <stdint.h>

/* x: n points x d dims, row-major. label[n] gets 0..k-1. Returns the
 * within-cluster sum of squares of the result. */
double kmeans(const double *x, int64_t n, int d, int k, int restarts, int max_iter, uint64_t seed,
	      int32_t *label);

#endif
