/* Simulated models. Each of the 4 heads of a layer reads its own slice of the
 * residual: W_Q picks a "query code" and W_K a "key code" (c dims each), so
 * head h's score for (i, j) is qcode_h(i) . kcode_h(j) / sqrt(d_k). One-hot
 * codes plant directed cluster-to-cluster pairs:
 *   head 0  shared pairs, the same for every model; their strength follows a
 *           bump over depth in "converging" models and is ~0 in the others;
 *   head 1  model-specific pairs, constant over depth;
 *   head 2  early pairs, fading to nothing by mid-depth (late layers suppress
 *           early structure);
 *   head 3  noise.
 * Every code also carries a random walk over layers, so adjacent layers agree
 * more than distant ones. A reference network is planted as a subset of the
 * shared pairs plus random edges, so network grounding shows enrichment where
 * the shared pairs are strong (the middle layers of converging models). */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "mat.h"
#include "out.h"
#include "rng.h"
#include "xalloc.h"

#define HEADS 4
#define CLUSTERS_MAX 64
#define CLUSTER_SIZE 5

typedef struct {
	const char *name, *family, *id_type;
	int converges;
} model_spec_t;

static const model_spec_t MODELS[] = {
	{ "alpha", "A", "symbol", 1 },
	{ "alpha2", "A", "symbol", 1 },
	{ "beta", "B", "ensembl", 1 },
	{ "gamma", "C", "symbol", 0 },
};
#define NMODELS (int)(sizeof MODELS / sizeof *MODELS)

/* Directed cluster structure: gene -> (query cluster, key cluster), -1 if none. */
typedef struct {
	int *qc, *kc;
	int nclusters;
} plant_t;

static void mkdir_p(const char *path)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0777) != 0 && errno != EEXIST)
				die_errno("cannot create directory '%s'", p);
			*s = '/';
		}
	if (mkdir(p, 0777) != 0 && errno != EEXIST)
		die_errno("cannot create directory '%s'", p);
	free(p);
}

/* Clusters of CLUSTER_SIZE distinct genes drawn from `pool`; cluster k's
 * genes query with code k, and are keys for the cluster that maps onto them
 * (sigma is a random permutation without fixed points). */
static void plant(rng_t *r, int ngenes, int nclusters, plant_t *p)
{
	p->nclusters = nclusters;
	p->qc = xmallocarray((size_t)ngenes, sizeof *p->qc);
	p->kc = xmallocarray((size_t)ngenes, sizeof *p->kc);
	for (int g = 0; g < ngenes; g++)
		p->qc[g] = p->kc[g] = -1;
	int64_t *perm = xmallocarray((size_t)ngenes, sizeof *perm);
	for (int g = 0; g < ngenes; g++)
		perm[g] = g;
	rng_shuffle_i64(r, perm, ngenes);
	int sigma[CLUSTERS_MAX];
	for (int k = 0; k < nclusters; k++)
		sigma[k] = (k + 1 + (int)rng_below(r, (uint64_t)nclusters - 1)) % nclusters;
	/* sigma need not be a permutation: several clusters may point at one. */
	for (int k = 0; k < nclusters; k++)
		for (int t = 0; t < CLUSTER_SIZE; t++) {
			int g = (int)perm[k * CLUSTER_SIZE + t];
			p->qc[g] = k;
		}
	/* Key side: cluster sigma(k)'s genes answer code k. A gene is the key of
	 * at most one code; clusters hit twice keep the first. */
	for (int k = 0; k < nclusters; k++)
		for (int t = 0; t < CLUSTER_SIZE; t++) {
			int g = (int)perm[sigma[k] * CLUSTER_SIZE + t];
			if (p->kc[g] < 0)
				p->kc[g] = k;
		}
	free(perm);
}

static void plant_free(plant_t *p)
{
	free(p->qc);
	free(p->kc);
}

static void write_npy(const char *dir, const char *name, int rows, int cols, const float *v)
{
	akmat_t *m = mat_new2(AK_F32, rows, cols);
	memcpy(m->data, v, (size_t)rows * (size_t)cols * sizeof *v);
	char *p = path_join(dir, name);
	mat_save(m, p, FMT_NPY, 0);
	free(p);
	mat_free(m);
}

/* W (out x in, d x d): head h's rows pick its query (or key) code. */
static void write_weights(rng_t *r, const char *dir, int layer, int c)
{
	int d = HEADS * 2 * c, dk = 2 * c;
	float *wq = xcalloc((size_t)d * (size_t)d, sizeof *wq);
	float *wk = xcalloc((size_t)d * (size_t)d, sizeof *wk);
	for (int i = 0; i < d * d; i++) {
		wq[i] = (float)(0.01 * rng_norm(r));
		wk[i] = (float)(0.01 * rng_norm(r));
	}
	for (int h = 0; h < HEADS; h++)
		for (int t = 0; t < c; t++) {
			wq[(size_t)(h * dk + t) * d + (size_t)(h * 2 * c + t)] += 1.0f;
			wk[(size_t)(h * dk + t) * d + (size_t)(h * 2 * c + c + t)] += 1.0f;
		}
	char name[64];
	snprintf(name, sizeof name, "layer%d.wq.npy", layer);
	write_npy(dir, name, d, d, wq);
	snprintf(name, sizeof name, "layer%d.wk.npy", layer);
	write_npy(dir, name, d, d, wk);
	free(wq);
	free(wk);
}

static double bump(int layer, int layers)
{
	double mid = (layers - 1) / 2.0, w = layers / 3.0;
	double z = (layer - mid) / w;
	return exp(-z * z);
}

static void add_code(float *x, int c, int head, const plant_t *p, int g, double amp)
{
	if (!p || amp == 0)
		return;
	if (p->qc[g] >= 0)
		x[head * 2 * c + p->qc[g] % c] += (float)amp;
	if (p->kc[g] >= 0)
		x[head * 2 * c + c + p->kc[g] % c] += (float)amp;
}

static const char *gene_id(char *buf, size_t cap, int g, int ensembl)
{
	if (ensembl)
		snprintf(buf, cap, "ENSSIMG%011d", g + 1);
	else
		snprintf(buf, cap, "SIM%04d", g + 1);
	return buf;
}

typedef struct {
	const sim_opts_t *o;
	const plant_t *shared;
	int c, d;
} world_t;

static void write_model(const world_t *w, rng_t *r, const model_spec_t *ms)
{
	const sim_opts_t *o = w->o;
	int G = o->genes, c = w->c, d = w->d, L = o->layers;
	char *dir = path_join(o->out, ms->name);
	mkdir_p(dir);
	/* Vocabulary: 95% of the universe, in a model-specific order. */
	int64_t *perm = xmallocarray((size_t)G, sizeof *perm);
	for (int g = 0; g < G; g++)
		perm[g] = g;
	rng_shuffle_i64(r, perm, G);
	int n = (int)(0.95 * G);
	plant_t own, early;
	plant(r, G, c < 12 ? c : 12, &own);
	plant(r, G, c < 12 ? c : 12, &early);
	char *p = path_join(dir, "genes.txt");
	wr_t *gw = wr_open(p, 0);
	char id[32];
	for (int i = 0; i < n; i++) {
		wr_puts(gw, gene_id(id, sizeof id, (int)perm[i], strcmp(ms->id_type, "ensembl") == 0));
		wr_putc(gw, '\n');
	}
	wr_close(gw);
	free(p);
	p = path_join(dir, "meta.tsv");
	wr_t *mw = wr_open(p, 0);
	wr_printf(mw, "key\tvalue\nn_layers\t%d\nn_heads\t%d\nd_model\t%d\nfamily\t%s\nid_type\t%s\n",
		  L, HEADS, d, ms->family, ms->id_type);
	wr_close(mw);
	free(p);
	for (int l = 0; l < L; l++)
		write_weights(r, dir, l, c);
	/* Residual streams: structure + a random walk over layers + category noise. */
	float *walk = xcalloc((size_t)n * (size_t)d, sizeof *walk);
	float *x = xmallocarray((size_t)n * (size_t)d, sizeof *x);
	float *xc = xmallocarray((size_t)n * (size_t)d, sizeof *xc);
	for (int l = 0; l < L; l++) {
		double a_shared = ms->converges ? 7.0 * bump(l, L) : 0.3;
		double a_early = 6.0 * fmax(0.0, 1.0 - l / (0.5 * L));
		for (int i = 0; i < n * d; i++)
			walk[i] += (float)(0.12 * rng_norm(r));
		for (int i = 0; i < n; i++) {
			int g = (int)perm[i];
			float *xi = x + (size_t)i * d;
			memcpy(xi, walk + (size_t)i * d, (size_t)d * sizeof *xi);
			add_code(xi, c, 0, w->shared, g, a_shared);
			add_code(xi, c, 1, &own, g, 5.0);
			add_code(xi, c, 2, &early, g, a_early);
			for (int t = 0; t < 2 * c; t++)
				xi[3 * 2 * c + t] += (float)(0.8 * rng_norm(r));
		}
		for (int k = 0; k < o->categories; k++) {
			for (int i = 0; i < n * d; i++)
				xc[i] = x[i] + (float)(0.3 * rng_norm(r));
			char sub[64], name[32];
			snprintf(sub, sizeof sub, "resid/cat%d", k + 1);
			char *cd = path_join(dir, sub);
			mkdir_p(cd);
			snprintf(name, sizeof name, "layer%d.npy", l);
			write_npy(cd, name, n, d, xc);
			free(cd);
		}
	}
	free(walk);
	free(x);
	free(xc);
	free(perm);
	plant_free(&own);
	plant_free(&early);
	free(dir);
}

/* Shared pairs (the truth the cross-model analysis should find), the planted
 * reference network, the id map, and the model families. */
static void write_truth(const world_t *w, rng_t *r)
{
	const sim_opts_t *o = w->o;
	int G = o->genes;
	char a[32], b[32];
	char *p = path_join(o->out, "shared_pairs.tsv");
	wr_t *sp = wr_open(p, 0);
	free(p);
	p = path_join(o->out, "reference.tsv");
	wr_t *rf = wr_open(p, 0);
	free(p);
	wr_puts(sp, "from\tto\n");
	wr_puts(rf, "tf\ttarget\n");
	for (int i = 0; i < G; i++)
		for (int j = 0; j < G; j++) {
			if (i == j || w->shared->qc[i] < 0 || w->shared->qc[i] != w->shared->kc[j])
				continue;
			gene_id(a, sizeof a, i, 0);
			gene_id(b, sizeof b, j, 0);
			wr_printf(sp, "%s\t%s\n", a, b);
			if (rng_uniform(r) < 0.6)
				wr_printf(rf, "%s\t%s\n", a, b);
		}
	for (int e = 0; e < G / 2; e++) {
		int i = (int)rng_below(r, (uint64_t)G), j = (int)rng_below(r, (uint64_t)G);
		if (i != j)
			wr_printf(rf, "%s\t%s\n", gene_id(a, sizeof a, i, 0), gene_id(b, sizeof b, j, 0));
	}
	wr_close(sp);
	wr_close(rf);
	p = path_join(o->out, "id_map.tsv");
	wr_t *im = wr_open(p, 0);
	free(p);
	wr_puts(im, "symbol\tensembl_gene\n");
	for (int g = 0; g < G; g++)
		wr_printf(im, "%s\t%s\n", gene_id(a, sizeof a, g, 0), gene_id(b, sizeof b, g, 1));
	wr_close(im);
	p = path_join(o->out, "families.tsv");
	wr_t *fm = wr_open(p, 0);
	free(p);
	wr_puts(fm, "model\tfamily\n");
	for (int m = 0; m < NMODELS; m++)
		wr_printf(fm, "%s\t%s\n", MODELS[m].name, MODELS[m].family);
	wr_close(fm);
}

void sim_write(const sim_opts_t *o)
{
	if (o->genes < CLUSTER_SIZE * 2 * 12)
		die("--genes must be at least %d", CLUSTER_SIZE * 2 * 12);
	mkdir_p(o->out);
	world_t w = { .o = o, .c = o->code, .d = HEADS * 2 * o->code };
	rng_t r;
	rng_seed(&r, o->seed);
	plant_t shared;
	plant(&r, o->genes, o->code < 12 ? o->code : 12, &shared);
	w.shared = &shared;
	write_truth(&w, &r);
	for (int m = 0; m < NMODELS; m++)
		write_model(&w, &r, &MODELS[m]);
	plant_free(&shared);
}
