/* Leiden communities on a kNN graph through igraph's C library; see leiden.h. */
#include <igraph.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "leiden.h"
#include "xalloc.h"

/* ---- the kNN graph ---- */

typedef struct { double d; int64_t j; } nb_t;

/* a is a worse neighbour than b: farther, or as far with the higher index. */
static int worse(const nb_t *a, const nb_t *b)
{
	return a->d > b->d || (a->d == b->d && a->j > b->j);
}

/* Max-heap of the k best so far, the worst at the root. */
static void heap_offer(nb_t *h, int *n, int k, nb_t x)
{
	if (*n < k) {
		int i = (*n)++;
		h[i] = x;
		while (i > 0 && worse(&h[i], &h[(i - 1) / 2])) {
			nb_t t = h[i];
			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return;
	}
	if (!worse(&h[0], &x))
		return;
	h[0] = x;
	for (int i = 0;;) {
		int l = 2 * i + 1, r = l + 1, w = i;
		if (l < k && worse(&h[l], &h[w])) w = l;
		if (r < k && worse(&h[r], &h[w])) w = r;
		if (w == i)
			break;
		nb_t t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

static int cmp_edge(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;
	if (x[0] != y[0])
		return (x[0] > y[0]) - (x[0] < y[0]);
	return (x[1] > y[1]) - (x[1] < y[1]);
}

knn_graph_t *knn_graph(const double *x, int64_t n, int d, int k)
{
	if (k < 1 || k >= n)
		die("knn: k = %d needs 1 <= k < %lld points", k, (long long)n);
	int64_t *e = xmallocarray(xmul(xmul((size_t)n, (size_t)k), 2), sizeof *e);
	nb_t *h = xmallocarray((size_t)k, sizeof *h);
	for (int64_t i = 0; i < n; i++) {
		int nh = 0;
		const double *xi = x + i * d;
		for (int64_t j = 0; j < n; j++) {
			if (j == i)
				continue;
			const double *xj = x + j * d;
			double s = 0;
			for (int t = 0; t < d; t++) {
				double u = xi[t] - xj[t];
				s += u * u;
			}
			heap_offer(h, &nh, k, (nb_t){ s, j });
		}
		for (int t = 0; t < k; t++) {
			int64_t j = h[t].j;
			e[2 * (i * k + t)] = i < j ? i : j;
			e[2 * (i * k + t) + 1] = i < j ? j : i;
		}
	}
	free(h);
	int64_t m = n * k;
	qsort(e, (size_t)m, 2 * sizeof *e, cmp_edge);
	int64_t u = 0;
	for (int64_t t = 0; t < m; t++) {
		if (u && e[2 * (u - 1)] == e[2 * t] && e[2 * (u - 1) + 1] == e[2 * t + 1])
			continue;
		e[2 * u] = e[2 * t];
		e[2 * u + 1] = e[2 * t + 1];
		u++;
	}
	knn_graph_t *g = xmalloc(sizeof *g);
	g->n = n;
	g->m = u;
	g->ends = e;
	return g;
}

void knn_graph_free(knn_graph_t *g)
{
	if (!g)
		return;
	free(g->ends);
	free(g);
}

/* ---- Python's random module as an igraph RNG ----
 * MT19937 seeded by init_by_array with the seed's 32-bit words (CPython's
 * random_seed), get() = getrandbits(32), get_real() = random(). igraph's
 * integers and the Leiden refinement's draws then come from the same words
 * as under python-igraph, which installs random as igraph's generator. */

enum { MT_N = 624, MT_M = 397 };
typedef struct { uint32_t mt[MT_N]; int i; } pyrand_t;

static void mt_init(pyrand_t *r, uint32_t s)
{
	r->mt[0] = s;
	for (int i = 1; i < MT_N; i++)
		r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
	r->i = MT_N;
}

static void mt_init_by_array(pyrand_t *r, const uint32_t *key, int len)
{
	mt_init(r, 19650218u);
	uint32_t *mt = r->mt;
	int i = 1, j = 0;
	for (int k = MT_N > len ? MT_N : len; k; k--) {
		mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
		i++;
		j++;
		if (i >= MT_N) { mt[0] = mt[MT_N - 1]; i = 1; }
		if (j >= len) j = 0;
	}
	for (int k = MT_N - 1; k; k--) {
		mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
		i++;
		if (i >= MT_N) { mt[0] = mt[MT_N - 1]; i = 1; }
	}
	mt[0] = 0x80000000u;
}

static uint32_t mt_next(pyrand_t *r)
{
	uint32_t *mt = r->mt, y;
	if (r->i >= MT_N) {
		int k;
		for (k = 0; k < MT_N - MT_M; k++) {
			y = (mt[k] & 0x80000000u) | (mt[k + 1] & 0x7fffffffu);
			mt[k] = mt[k + MT_M] ^ (y >> 1) ^ (y & 1 ? 0x9908b0dfu : 0);
		}
		for (; k < MT_N - 1; k++) {
			y = (mt[k] & 0x80000000u) | (mt[k + 1] & 0x7fffffffu);
			mt[k] = mt[k + (MT_M - MT_N)] ^ (y >> 1) ^ (y & 1 ? 0x9908b0dfu : 0);
		}
		y = (mt[MT_N - 1] & 0x80000000u) | (mt[0] & 0x7fffffffu);
		mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ (y & 1 ? 0x9908b0dfu : 0);
		r->i = 0;
	}
	y = mt[r->i++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680u;
	y ^= (y << 15) & 0xefc60000u;
	y ^= y >> 18;
	return y;
}

static igraph_error_t pyrand_init(void **state)
{
	*state = xcalloc(1, sizeof(pyrand_t));
	return IGRAPH_SUCCESS;
}

static void pyrand_destroy(void *state)
{
	free(state);
}

static igraph_error_t pyrand_seed(void *state, igraph_uint_t seed)
{
	/* random.seed(n): the 32-bit words of n, low first; [0] for 0 */
	uint32_t key[2] = { (uint32_t)seed, (uint32_t)((uint64_t)seed >> 32) };
	mt_init_by_array(state, key, key[1] ? 2 : 1);
	return IGRAPH_SUCCESS;
}

static igraph_uint_t pyrand_get(void *state)
{
	return mt_next(state);
}

static igraph_real_t pyrand_real(void *state)
{
	uint32_t a = mt_next(state) >> 5, b = mt_next(state) >> 6;
	return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

static const igraph_rng_type_t pyrand_type = {
	.name = "Python random (MT19937, init_by_array)",
	.bits = 32,
	.init = pyrand_init,
	.destroy = pyrand_destroy,
	.seed = pyrand_seed,
	.get = pyrand_get,
	.get_real = pyrand_real,
};

/* ---- Leiden ---- */

static void on_igraph_error(const char *reason, const char *file, int line, igraph_error_t code)
{
	die("igraph: %s (%s:%d, %s)", reason, file, line, igraph_strerror(code));
}

static void on_igraph_warning(const char *reason, const char *file, int line)
{
	(void)file;
	(void)line;
	warn("igraph: %s", reason);
}

typedef struct { int64_t size, first, old; } comm_t;

static int cmp_comm(const void *a, const void *b)
{
	const comm_t *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

/* Renumber memb (0..nc-1) by decreasing size, ties by first vertex. */
static void renumber(const igraph_vector_int_t *memb, int64_t n, int64_t nc, int32_t *label)
{
	comm_t *c = xmallocarray((size_t)nc, sizeof *c);
	for (int64_t i = 0; i < nc; i++)
		c[i] = (comm_t){ 0, n, i };
	for (int64_t v = 0; v < n; v++) {
		comm_t *x = &c[VECTOR(*memb)[v]];
		if (x->size++ == 0)
			x->first = v;
	}
	qsort(c, (size_t)nc, sizeof *c, cmp_comm);
	int32_t *to = xmallocarray((size_t)nc, sizeof *to);
	for (int64_t i = 0; i < nc; i++)
		to[c[i].old] = (int32_t)i;
	for (int64_t v = 0; v < n; v++)
		label[v] = to[VECTOR(*memb)[v]];
	free(to);
	free(c);
}

void leiden(const knn_graph_t *g, const leiden_opts_t *o, int32_t *label, leiden_stats_t *st)
{
	igraph_set_error_handler(on_igraph_error);
	igraph_set_warning_handler(on_igraph_warning);

	igraph_vector_int_t ends;
	igraph_vector_int_init(&ends, 2 * g->m);
	for (int64_t t = 0; t < 2 * g->m; t++)
		VECTOR(ends)[t] = g->ends[t];
	igraph_t graph;
	igraph_create(&graph, &ends, g->n, IGRAPH_UNDIRECTED);
	igraph_vector_int_destroy(&ends);

	/* Modularity as python-igraph's objective_function="modularity": node
	 * weights = degrees, resolution divided by their sum (2m). CPM: unit node
	 * weights (NULL) and the resolution as given. */
	igraph_vector_t nw;
	igraph_vector_t *nwp = NULL;
	double res = o->resolution;
	if (o->objective == LEIDEN_MODULARITY) {
		igraph_vector_init(&nw, g->n);
		for (int64_t t = 0; t < 2 * g->m; t++)
			VECTOR(nw)[g->ends[t]] += 1;
		res /= 2.0 * (double)g->m;
		nwp = &nw;
	}

	igraph_rng_t rng, *saved = igraph_rng_default();
	igraph_rng_init(&rng, &pyrand_type);
	igraph_rng_seed(&rng, o->seed);
	igraph_rng_set_default(&rng);

	igraph_vector_int_t memb;
	igraph_vector_int_init(&memb, g->n);
	igraph_integer_t nc = 0;
	igraph_real_t q = 0;
	igraph_community_leiden(&graph, NULL, nwp, res, o->beta, 0, o->iterations, &memb, &nc, &q);
	igraph_rng_set_default(saved);
	igraph_rng_destroy(&rng);

	igraph_real_t mod = 0;
	igraph_modularity(&graph, &memb, NULL, 1.0, IGRAPH_UNDIRECTED, &mod);
	renumber(&memb, g->n, nc, label);
	st->ncomm = nc;
	st->quality = q;
	st->modularity = mod;

	igraph_vector_int_destroy(&memb);
	if (nwp)
		igraph_vector_destroy(&nw);
	igraph_destroy(&graph);
}
