/* Leiden communities of cells: an exact k-nearest-neighbour graph of points
 * (cells x dims), then igraph's igraph_community_leiden on it. The random
 * stream igraph draws from is Python's own (MT19937 seeded as random.seed(S),
 * 32-bit words as getrandbits(32), reals as random()), which is the stream
 * python-igraph hands the same C routine: the same graph and seed give
 * python-igraph's partition. */
#ifndef AK_LEIDEN_H
#define AK_LEIDEN_H

#include <stdint.h>

/* The undirected kNN graph: edge {i, j} (i < j) when j is among the k nearest
 * points of i (Euclidean; ties by the lower index) or i among those of j.
 * Edges sorted by (i, j), no duplicates. */
typedef struct {
	int64_t n;       /* vertices (points) */
	int64_t m;       /* edges */
	int64_t *ends;   /* 2m: i0 j0 i1 j1 ... */
} knn_graph_t;

/* x: n points x d dims, row-major; 1 <= k < n. Time O(n^2 d), memory O(n k). */
knn_graph_t *knn_graph(const double *x, int64_t n, int d, int k);
void knn_graph_free(knn_graph_t *g);

enum { LEIDEN_MODULARITY, LEIDEN_CPM };

typedef struct {
	int objective;      /* LEIDEN_MODULARITY or LEIDEN_CPM */
	double resolution;  /* gamma (modularity: of the normalised form, as python-igraph) */
	double beta;        /* randomness of the refinement [0.01] */
	int iterations;     /* < 0: until an iteration changes nothing */
	uint64_t seed;      /* as Python's random.seed(seed) */
} leiden_opts_t;

typedef struct {
	int64_t ncomm;      /* communities */
	double quality;     /* igraph's value of the objective */
	double modularity;  /* Newman's modularity of the partition (resolution 1) */
} leiden_stats_t;

/* label[n] gets 0..ncomm-1, numbered by decreasing size (ties: the community
 * holding the lower vertex first). Dies on an igraph error. */
void leiden(const knn_graph_t *g, const leiden_opts_t *o, int32_t *label, leiden_stats_t *st);

#endif
