/* attn-topk: exact streaming attention top-K, with exact ranks and
 * quantiles in the layer's whole distribution, or the value, rank and
 * quantile of given pairs (--at). The engine is common/attn.c. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attn.h"
#include "attn_given.h"
#include "err.h"
#include "mat.h"
#include "num.h"
#include "opt.h"
#include "out.h"
#include "progress.h"
#include "refnet.h"
#include "strtab.h"
#include "tsv.h"
#include "xalloc.h"

static const char usage[] =
	"usage: attn-topk --resid X --wq WQ --wk WK --heads H [--top K] [options] [-o OUT]\n"
	"       attn-topk --attn A.npy [--top K] [options] [-o OUT]\n"
	"\n"
	"Head-averaged attention between all gene pairs of one layer, streamed in row\n"
	"blocks; the top-K directed pairs with exact ranks and quantiles.\n"
	"\n"
	"  --resid FILE        genes x d attention input (.npy, FILE.npz:MEMBER, .akm[.gz], ...)\n"
	"  --wq, --wk FILE     d x d, PyTorch Linear (out x in); head h = rows h*d/H..(h+1)*d/H-1\n"
	"  --bq, --bk FILE     biases (length d) [none]\n"
	"  --ln-weight FILE    apply LayerNorm to X first, with this gamma [no LayerNorm]\n"
	"  --ln-bias FILE      ... and this beta\n"
	"  --ln-eps E          LayerNorm epsilon [1e-5]\n"
	"  --heads H           number of heads (must divide d)\n"
	"  --attn A.npy        rank a given attention matrix instead (a forward pass's\n"
	"                      output_attentions): n x n, or H x n x n (heads averaged;\n"
	"                      --per-head ranks each), float16/32/64, C order\n"
	"  --check A.npy       compare the computed attention with a forward pass's\n"
	"                      (n x n, or H x n x n): report the max |difference| and\n"
	"                      the top-100 pairs shared on stderr; exit 1 above --check-tol\n"
	"  --check-tol T       largest max |difference| accepted [1e-4]\n"
	"\n"
	"Consensus of several layers (each pair's layer values combined, then ranked):\n"
	"  --layer             start the next layer's inputs (--resid --wq --wk --bq --bk\n"
	"                      --ln-weight --ln-bias, or --attn)\n"
	"  --model DIR         the layers of a model directory: DIR/resid/CAT/layerL.npy,\n"
	"                      DIR/layerL.{wq,wk}.npy (+ .bq, .bk if present); --heads\n"
	"                      from DIR/meta.tsv n_heads unless given\n"
	"  --category CAT      ... of this cell category (required with --model)\n"
	"  --layers LIST       ... only these layers, e.g. 0,2-3 [0..n_layers-1]\n"
	"  --combine HOW       sum, mean, max or absmax (value of largest |value|, sign\n"
	"                      kept) over layers, in float32, layer order [sum]\n"
	"\n"
	"Continuous AUROC and AUPRC against a reference network, over all pairs:\n"
	REFNET_USAGE
	"  --sources           rank only pairs whose from gene is a source of a\n"
	"                      reference edge (the TF endpoint) [all pairs]\n"
	"  (--ref is repeatable: one pass, one row per reference; reference options\n"
	"  before the first --ref apply to all, after a --ref to that one)\n"
	"  --top K             pairs to keep [10000]\n"
	"  --ties HOW          first: exactly K pairs, ties at the K-th value broken by\n"
	"                      (from, to); keep: also every pair tied with the K-th [first]\n"
	"  --raw               head-averaged scaled scores instead of softmax\n"
	"  --abs               rank by |value| (the signed value is reported)\n"
	"  --keep-self         include the diagonal in selection and distribution\n"
	"  --per-head          one top-K (or lookup) per head, column 'head'\n"
	"  --genes FILE        gene ids, one per line, in row order [0-based indices]\n"
	"  --at PAIRS          report these pairs (TSV with columns from, to) instead\n"
	"  --subset FILE       select and rank only pairs of these genes (one per line);\n"
	"                      softmax still runs over all keys [all genes]\n"
	"  --subset-softmax    with --subset: the softmax runs over the subset's keys\n"
	"                      only (attention among the subset's rows of X, as\n"
	"                      napistu-torch on aligned genes); needs --genes\n"
	"  --label NAME=VALUE  constant column appended to every row (repeatable)\n"
	"  --threads N         worker threads [online CPUs]\n"
	"  -o, --output FILE   write to FILE (.gz: gzip) [stdout]\n"
	"  -v, --verbose       progress lines on stderr (shown anyway on a terminal)\n"
	"  -h, --help          this text\n"
	"\n"
	"Output: from to value rank quantile [head] [labels...]; rank = 1 + number of\n"
	"entries strictly greater, quantile = rank / N, N = n(n-1) or n^2 (--keep-self).\n";

enum {
	OPT_RESID = 256, OPT_WQ, OPT_WK, OPT_BQ, OPT_BK, OPT_LNW, OPT_LNB, OPT_LNEPS, OPT_HEADS,
	OPT_TOP, OPT_RAW, OPT_ABS, OPT_SELF, OPT_PERHEAD, OPT_GENES, OPT_AT, OPT_LABEL, OPT_THREADS,
	OPT_SUBSET, OPT_ATTN, OPT_CHECK, OPT_CHECKTOL, OPT_LAYER, OPT_MODEL, OPT_CATEGORY, OPT_LAYERS,
	OPT_COMBINE, OPT_SOURCES, OPT_TIES, OPT_SUBSET_SOFTMAX,
};

static const struct option longopts[] = {
	{ "resid", required_argument, NULL, OPT_RESID },
	{ "wq", required_argument, NULL, OPT_WQ },
	{ "wk", required_argument, NULL, OPT_WK },
	{ "bq", required_argument, NULL, OPT_BQ },
	{ "bk", required_argument, NULL, OPT_BK },
	{ "ln-weight", required_argument, NULL, OPT_LNW },
	{ "ln-bias", required_argument, NULL, OPT_LNB },
	{ "ln-eps", required_argument, NULL, OPT_LNEPS },
	{ "heads", required_argument, NULL, OPT_HEADS },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "abs", no_argument, NULL, OPT_ABS },
	{ "keep-self", no_argument, NULL, OPT_SELF },
	{ "per-head", no_argument, NULL, OPT_PERHEAD },
	{ "genes", required_argument, NULL, OPT_GENES },
	{ "subset", required_argument, NULL, OPT_SUBSET },
	{ "at", required_argument, NULL, OPT_AT },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "attn", required_argument, NULL, OPT_ATTN },
	{ "check", required_argument, NULL, OPT_CHECK },
	{ "check-tol", required_argument, NULL, OPT_CHECKTOL },
	{ "layer", no_argument, NULL, OPT_LAYER },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "category", required_argument, NULL, OPT_CATEGORY },
	{ "layers", required_argument, NULL, OPT_LAYERS },
	{ "combine", required_argument, NULL, OPT_COMBINE },
	{ "sources", no_argument, NULL, OPT_SOURCES },
	{ "ties", required_argument, NULL, OPT_TIES },
	{ "subset-softmax", no_argument, NULL, OPT_SUBSET_SOFTMAX },
	REFNET_LONGOPTS,
	{ "output", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The file d was taken from (--wq): shape errors name it as well, because
 * either file may be the wrong one (issue 12: the message must name the bad file). */
static const char *d_source = "";

/* A finite float32 matrix of the expected shape (rows < 0: any). */
static float *load_f32(const char *path, int64_t rows, int64_t cols, const char *what, int64_t *nrows)
{
	akmat_t *m = mat_load(path);
	if (rows == -2) {
		/* A vector of length cols (1-D, or one row or column). */
		if (mat_count(m) != cols || (m->ndim == 2 && m->rows != 1 && m->cols != 1) || m->ndim > 2)
			die("%s: %lld values, expected %s of length d = %lld", path,
			    (long long)mat_count(m), what, (long long)cols);
	} else if (m->ndim != 2 || (rows >= 0 && m->rows != rows) || m->cols != cols) {
		char got[64] = "";
		size_t k = 0;
		for (int i = 0; i < m->ndim; i++)
			k += (size_t)snprintf(got + k, sizeof got - k, "%s%lld", i ? " x " : "",
					      (long long)m->shape[i]);
		if (rows == -1 && m->ndim == 2)
			die("%s: %lld columns, but the weights give d = %lld (from %s)", path,
			    (long long)m->cols, (long long)cols, d_source);
		die("%s: shape %s, expected %s %lld x %lld (d from %s)", path, got, what,
		    (long long)(rows >= 0 ? rows : m->rows), (long long)cols, d_source);
	}
	mat_check_finite(m);
	if (nrows)
		*nrows = m->rows;
	float *f = mat_f32(m);
	mat_free(m);
	return f;
}

/* The pairs of --at, as row/column indices. */
static int64_t read_pairs(const char *path, const strtab_t *genes, int64_t n, int32_t **from,
			  int32_t **to)
{
	tsv_t *t = tsv_open(path);
	int cf = tsv_col(t, "from"), ct = tsv_col(t, "to");
	int64_t m = 0, cap = 1024, nunknown = 0;
	int32_t *f = xmallocarray((size_t)cap, sizeof *f), *g = xmallocarray((size_t)cap, sizeof *g);
	char *unknown[5];
	while (tsv_next(t)) {
		if (m == cap) {
			cap *= 2;
			f = xreallocarray(f, (size_t)cap, sizeof *f);
			g = xreallocarray(g, (size_t)cap, sizeof *g);
		}
		int cols[2] = { cf, ct };
		int32_t *dst[2] = { f, g };
		for (int c = 0; c < 2; c++) {
			const char *s = tsv_str(t, cols[c]);
			int64_t id;
			if (genes) {
				id = strtab_get(genes, s, strlen(s));
				if (id < 0) {
					int seen = 0;
					for (int u = 0; u < nunknown && u < 5; u++)
						seen |= strcmp(unknown[u], s) == 0;
					if (!seen && nunknown < 5)
						unknown[nunknown++] = xstrdup(s);
					else if (!seen)
						nunknown++;
					id = 0;
				}
			} else {
				id = tsv_int(t, cols[c]);
				if (id < 0 || id >= n)
					tsv_die(t, cols[c], "gene index %lld is out of range (0..%lld); use --genes for names",
						(long long)id, (long long)n - 1);
			}
			dst[c][m] = (int32_t)id;
		}
		m++;
	}
	if (nunknown) {
		char list[512] = "";
		size_t k = 0;
		for (int u = 0; u < nunknown && u < 5; u++)
			k += (size_t)snprintf(list + k, k < sizeof list ? sizeof list - k : 0, "%s%s",
					      u ? ", " : "", unknown[u]);
		/* Free first: leak checkers run over error exits too (as in strtab.c). */
		char msg[1024];
		snprintf(msg, sizeof msg, "%s: %lld%s gene id%s not in the --genes file: %s%s", path,
			 (long long)nunknown, nunknown > 5 ? " or more" : "", nunknown == 1 ? "" : "s", list,
			 nunknown > 5 ? ", ..." : "");
		for (int u = 0; u < nunknown && u < 5; u++)
			free(unknown[u]);
		free(f);
		free(g);
		tsv_close(t);
		die("%s", msg);
	}
	tsv_close(t);
	*from = f;
	*to = g;
	return m;
}

/* --subset: a mask over the rows, from gene ids (or 0-based indices without --genes). */
static uint8_t *read_subset(const char *path, const strtab_t *genes, int64_t n)
{
	strtab_t *t = strtab_read_lines(path);
	uint8_t *mask = xcalloc((size_t)n, 1);
	for (int64_t u = 0; u < strtab_size(t); u++) {
		const char *id = strtab_str(t, u);
		int64_t i;
		if (genes) {
			i = strtab_get(genes, id, strlen(id));
			if (i < 0)
				die("%s:%lld: gene '%s' is not in the --genes file", path, (long long)u + 1, id);
		} else if (!parse_i64(id, &i) || i < 0 || i >= n) {
			die("%s:%lld: '%s' is not a gene index 0..%lld (use --genes for names)", path,
			    (long long)u + 1, id, (long long)n - 1);
		}
		mask[i] = 1;
	}
	strtab_free(t);
	return mask;
}

static void put_id(wr_t *w, const strtab_t *genes, int32_t i)
{
	if (genes)
		wr_puts(w, strtab_str(genes, i));
	else
		wr_i64(w, i);
}

static void put_row(wr_t *w, const strtab_t *genes, int32_t from, int32_t to, float value, int64_t rank,
		    int64_t ntotal, int head, int nlabel, char **label)
{
	put_id(w, genes, from);
	wr_putc(w, '\t');
	put_id(w, genes, to);
	wr_putc(w, '\t');
	wr_f32(w, value);
	wr_putc(w, '\t');
	wr_i64(w, rank);
	wr_putc(w, '\t');
	wr_f64(w, (double)rank / (double)ntotal);
	if (head >= 0) {
		wr_putc(w, '\t');
		wr_i64(w, head);
	}
	for (int l = 0; l < nlabel; l++) {
		wr_putc(w, '\t');
		wr_puts(w, strchr(label[l], '=') + 1);
	}
	wr_putc(w, '\n');
}

/* --attn: the engine's rows of the given matrix. */
static void given_fill(void *ctx, int p, int64_t r0, int64_t m, float *dst, int64_t ld)
{
	const attn_given_t *g = ctx;
	attn_given_rows(g, p, r0, m, 0, g->n, dst, ld);
}

/* --check: per row, the largest |computed - given| and where (each row is
 * seen by one worker only: no locks, and the result is the same for any
 * thread count). */
typedef struct check {
	attn_given_t *g;
	int per_head;
	int64_t n;
	double *maxd;       /* [ndist][n] */
	int64_t *argj;      /* [ndist][n] */
} check_t;

static void check_observe(void *ctx, int dist, int64_t row, int64_t c0, const float *v, int64_t cw)
{
	check_t *c = ctx;
	size_t at = (size_t)dist * (size_t)c->n + (size_t)row;
	if (c0 == 0) {
		c->maxd[at] = -1;
		c->argj[at] = 0;
	}
	for (int64_t j = 0; j < cw; j++) {
		double e = fabs((double)v[j] - attn_given_at(c->g, c->per_head ? dist : -1, row, c0 + j));
		if (!(e <= c->maxd[at])) {   /* NaN counts as the largest */
			c->maxd[at] = e;
			c->argj[at] = c0 + j;
		}
	}
}

/* Pairs among the first k of a and of b (selections, best first). */
static int shared_pairs(const tk_buf_t *a, const tk_buf_t *b, size_t k)
{
	int shared = 0;
	size_t na = a->n < k ? a->n : k, nb = b->n < k ? b->n : k;
	for (size_t i = 0; i < na; i++)
		for (size_t u = 0; u < nb; u++)
			if (a->v[i].from == b->v[u].from && a->v[i].to == b->v[u].to) {
				shared++;
				break;
			}
	return shared;
}

#define CHECK_TOP 100

/* Compare the run's attention with the forward pass's: one line per
 * distribution on stderr; 1 if any max |difference| exceeds tol. */
static int check_report(const attn_spec_t *s, const attn_result_t *r, check_t *c, const char *path,
			const strtab_t *genes, double tol)
{
	attn_spec_t gs = *s;
	gs.given = given_fill;
	gs.given_ctx = c->g;
	gs.observe = NULL;
	gs.raw = 0;
	gs.nat = 0;
	gs.k = CHECK_TOP;
	attn_result_t gr;
	attn_run(&gs, &gr);
	int bad = 0;
	for (int t = 0; t < r->ndist; t++) {
		double worst = -1;
		int64_t wi = 0;
		for (int64_t i = 0; i < c->n; i++) {
			double e = c->maxd[(size_t)t * (size_t)c->n + (size_t)i];
			if (!(e <= worst)) {
				worst = e;
				wi = i;
			}
		}
		int64_t wj = c->argj[(size_t)t * (size_t)c->n + (size_t)wi];
		size_t k = gr.top[t].n < CHECK_TOP ? gr.top[t].n : CHECK_TOP;
		int shared = shared_pairs(&r->top[t], &gr.top[t], CHECK_TOP);
		int ok = worst <= tol;
		bad |= !ok;
		char head[32] = "";
		if (r->ndist > 1)
			snprintf(head, sizeof head, "head %d: ", t);
		char wa[64], wb[64];
		snprintf(wa, sizeof wa, "%.60s", genes ? strtab_str(genes, wi) : "");
		snprintf(wb, sizeof wb, "%.60s", genes ? strtab_str(genes, wj) : "");
		if (!genes) {
			snprintf(wa, sizeof wa, "%lld", (long long)wi);
			snprintf(wb, sizeof wb, "%lld", (long long)wj);
		}
		fprintf(stderr, "attn-topk: check against %s: %smax |computed - given| %.3g (from %s to %s), "
			"top-%d pairs shared %d of %zu: %s (--check-tol %g)\n", path, head, worst, wa, wb,
			CHECK_TOP, shared, k, ok ? "ok" : "FAILED", tol);
	}
	attn_result_free(&gr);
	return bad;
}

/* --label values and the paths built from --model: kept reachable from
 * statics, since --help and error exits leave main with them in use
 * (valgrind counted them definitely lost). */
static char **labels_kept;
static char **paths_kept;
static size_t npaths_kept;

static const char *keep_path(char *p)
{
	paths_kept = xreallocarray(paths_kept, npaths_kept + 1, sizeof *paths_kept);
	paths_kept[npaths_kept++] = p;
	return p;
}

/* One layer's input files: a --layer group, or a layer of --model. */
typedef struct lfiles {
	const char *resid, *wq, *wk, *bq, *bk, *lnw, *lnb, *attn;
} lfiles_t;

static int lfiles_empty(const lfiles_t *f)
{
	return !f->resid && !f->wq && !f->wk && !f->bq && !f->bk && !f->lnw && !f->lnb && !f->attn;
}

/* An input option of the current layer: twice in one layer is a mistake
 * (the second layer's --layer forgotten), not "the last one wins". */
static void set_once(const char **slot, const char *val, const char *opt)
{
	if (*slot)
		die_usage("%s given twice for one layer (--layer starts the next layer's inputs)", opt);
	*slot = val;
}

/* The value of KEY in DIR/meta.tsv (columns key, value), or NULL. */
static char *meta_get(const char *dir, const char *key)
{
	char *path = xmallocarray(strlen(dir) + 16, 1);
	sprintf(path, "%s/meta.tsv", dir);
	tsv_t *t = tsv_open(path);
	int ck = tsv_col(t, "key"), cv = tsv_col(t, "value");
	char *v = NULL;
	while (tsv_next(t))
		if (!strcmp(tsv_str(t, ck), key)) {
			free(v);
			v = xstrdup(tsv_str(t, cv));
		}
	tsv_close(t);
	free(path);
	return v;
}

/* DIR/layerL.WHAT.npy, or DIR/resid/CAT/layerL.npy when cat is given. */
static const char *layer_file(const char *dir, const char *cat, long long l, const char *what)
{
	size_t len = strlen(dir) + (cat ? strlen(cat) : strlen(what)) + 64;
	char *p = xmallocarray(len, 1);
	if (cat)
		snprintf(p, len, "%s/resid/%s/layer%lld.npy", dir, cat, l);
	else
		snprintf(p, len, "%s/layer%lld.%s.npy", dir, l, what);
	return keep_path(p);
}

/* --layers "0,2-3" over 0..nl-1: a mask. */
static void parse_layers(const char *list, long long nl, uint8_t *want)
{
	const char *p = list;
	memset(want, 0, (size_t)nl);
	while (*p) {
		char *end;
		long long a = strtoll(p, &end, 10), b = a;
		if (end == p)
			die_usage("--layers: expected a list like 0,2-3, got '%s'", list);
		p = end;
		if (*p == '-') {
			b = strtoll(++p, &end, 10);
			if (end == p)
				die_usage("--layers: expected a list like 0,2-3, got '%s'", list);
			p = end;
		}
		if (a < 0 || b < a || b >= nl)
			die_usage("--layers: %lld-%lld is outside the model's layers 0..%lld", a, b, nl - 1);
		for (long long l = a; l <= b; l++)
			want[l] = 1;
		if (*p == ',')
			p++;
		else if (*p)
			die_usage("--layers: expected a list like 0,2-3, got '%s'", list);
	}
}

/* --model DIR --category CAT: the layers' files (biases when present). */
static int model_layers(const char *dir, const char *cat, const char *layers, long long *heads, lfiles_t **out)
{
	char *s = meta_get(dir, "n_layers");
	int64_t nl;
	if (!s || !parse_i64(s, &nl) || nl < 1 || nl > 100000)
		die("%s/meta.tsv: no n_layers (a positive integer) in columns key, value", dir);
	free(s);
	if (!*heads) {
		s = meta_get(dir, "n_heads");
		int64_t h;
		if (!s || !parse_i64(s, &h) || h < 1 || h > (1 << 16))
			die("%s/meta.tsv: no n_heads, and no --heads", dir);
		*heads = h;
		free(s);
	}
	uint8_t *want = xmallocarray((size_t)nl, 1);
	if (layers)
		parse_layers(layers, nl, want);
	else
		memset(want, 1, (size_t)nl);
	lfiles_t *f = xcalloc((size_t)nl, sizeof *f);
	int m = 0;
	for (int64_t l = 0; l < nl; l++) {
		if (!want[l])
			continue;
		f[m].resid = layer_file(dir, cat, l, NULL);
		f[m].wq = layer_file(dir, NULL, l, "wq");
		f[m].wk = layer_file(dir, NULL, l, "wk");
		const char *bq = layer_file(dir, NULL, l, "bq"), *bk = layer_file(dir, NULL, l, "bk");
		f[m].bq = access(bq, F_OK) == 0 ? bq : NULL;
		f[m].bk = access(bk, F_OK) == 0 ? bk : NULL;
		m++;
	}
	free(want);
	*out = f;
	return m;
}

/* One layer's loaded inputs. */
typedef struct linputs {
	float *x, *wq, *wk, *bq, *bk;
	attn_given_t *given;
} linputs_t;

/* Load one layer (LayerNorm applied); *d is fixed by the first layer's W_Q,
 * *n by the first layer's rows. */
static void load_layer(const lfiles_t *f, int l, int nl, long long *heads, int per_head, double ln_eps,
		       int64_t *d, int64_t *n, const char **n_source, linputs_t *in)
{
	memset(in, 0, sizeof *in);
	int64_t rows;
	if (f->attn) {
		/* The matrix fixes n and the heads. */
		in->given = attn_given_open(f->attn);
		rows = in->given->n;
		if (in->given->has_heads && *heads && *heads != in->given->heads)
			die("%s: %d heads, but --heads %lld", f->attn, in->given->heads, *heads);
		if (!in->given->has_heads && *heads > 1)
			die("%s: one n x n matrix (heads already averaged), but --heads %lld", f->attn, *heads);
		if (per_head && !in->given->has_heads)
			die("%s: --per-head needs heads x n x n; this is one n x n matrix", f->attn);
		*heads = in->given->heads;
	} else {
		/* Weights first: they fix d; then X must have d columns. */
		if (l == 0) {
			akmat_t *probe = mat_load(f->wq);
			*d = probe->ndim == 2 ? probe->cols : mat_count(probe);
			mat_free(probe);
			d_source = f->wq;
		}
		in->wq = load_f32(f->wq, *d, *d, "d x d", NULL);
		in->wk = load_f32(f->wk, *d, *d, "d x d", NULL);
		in->x = load_f32(f->resid, -1, *d, "genes x d", &rows);
		in->bq = f->bq ? load_f32(f->bq, -2, *d, "a bias", NULL) : NULL;
		in->bk = f->bk ? load_f32(f->bk, -2, *d, "a bias", NULL) : NULL;
		float *lnw = f->lnw ? load_f32(f->lnw, -2, *d, "a LayerNorm weight", NULL) : NULL;
		float *lnb = f->lnb ? load_f32(f->lnb, -2, *d, "a LayerNorm bias", NULL) : NULL;
		if (rows == 0)
			die("%s: no rows (genes)", f->resid);
		if (*d % *heads != 0)
			die("--heads %lld does not divide d = %lld", *heads, (long long)*d);
		if (rows > INT32_MAX)
			die("%s: %lld genes, at most %d supported", f->resid, (long long)rows, INT32_MAX);
		if (lnw || lnb)
			layer_norm_rows(in->x, rows, *d, lnw, lnb, ln_eps);
		free(lnw);
		free(lnb);
	}
	const char *src = f->attn ? f->attn : f->resid;
	if (l == 0) {
		*n = rows;
		*n_source = src;
	} else if (rows != *n) {
		die("%s: %lld genes, but layer 0 (%s) has %lld: the layers of a consensus share their genes",
		    src, (long long)rows, *n_source, (long long)*n);
	}
	(void)nl;
}

/* --ref: the reference's edges among the genes (both ends in --subset) as
 * the pairs looked up; with --sources, *rows marks their from genes. */
static int64_t ref_pairs(const refnet_opts_t *ro, const strtab_t *genes, const uint8_t *subset, int keep_self,
			 int sources, int32_t **from, int32_t **to, uint8_t **rows)
{
	refnet_t *r = refnet_read(ro, NULL);
	idmap_t *map = refnet_map(ro);
	refnet_genes_t *g = refnet_genes(r, map, genes);
	refnet_check_match(r, map, g->matched, g->n, "genes", strtab_str(genes, 0));
	uint32_t *f, *t;
	int64_t ne = refnet_among(r, g, keep_self, &f, &t, NULL), m = 0;
	int32_t *pf = xmallocarray(ne ? (size_t)ne : 1, sizeof *pf), *pt = xmallocarray(ne ? (size_t)ne : 1, sizeof *pt);
	for (int64_t e = 0; e < ne; e++)
		if (!subset || (subset[f[e]] && subset[t[e]])) {
			pf[m] = (int32_t)f[e];
			pt[m++] = (int32_t)t[e];
		}
	*rows = NULL;
	if (sources) {
		*rows = xcalloc((size_t)strtab_size(genes), 1);
		for (int64_t e = 0; e < m; e++)
			(*rows)[pf[e]] = 1;
	}
	free(f);
	free(t);
	refnet_genes_free(g);
	idmap_free(map);
	refnet_free(r);
	*from = pf;
	*to = pt;
	return m;
}

/* Exact AUROC (Mann-Whitney with mid-ranks) and average precision of one
 * distribution of N entries whose positives have, each, `greater` entries
 * strictly above and `ties` entries equal (itself included):
 *   2U = sum_p (2 (N - greater_p - ties_p) + ties_p) - n_pos^2
 * (the positives' comparisons among themselves, mid-ranked, add n_pos^2 / 2),
 * AUROC = U / (n_pos n_neg); AP = sum over distinct positive values s of
 * (positives at s / n_pos) x (positives >= s) / (entries >= s), as
 * sklearn's average_precision_score. Integer sums: exact until the division. */
typedef struct pos_rank {
	int64_t greater, ties;
} pos_rank_t;

static int cmp_pos(const void *a, const void *b)
{
	const pos_rank_t *x = a, *y = b;
	return (x->greater > y->greater) - (x->greater < y->greater);
}

static void auc_exact(pos_rank_t *p, int64_t npos, int64_t N, double *auroc, double *ap)
{
	if (npos == 0 || npos == N) {
		*auroc = *ap = NAN;
		return;
	}
	__int128 two_u = 0;
	for (int64_t i = 0; i < npos; i++)
		two_u += 2 * (__int128)(N - p[i].greater - p[i].ties) + p[i].ties;
	two_u -= (__int128)npos * npos;
	*auroc = (double)((long double)two_u / (2.0L * (long double)npos * (long double)(N - npos)));
	/* Equal values have equal `greater`: sorting by it groups them. */
	qsort(p, (size_t)npos, sizeof *p, cmp_pos);
	long double sum = 0;
	for (int64_t i = 0; i < npos;) {
		int64_t e = i;
		while (e < npos && p[e].greater == p[i].greater)
			e++;
		sum += (long double)(e - i) * (long double)e / (long double)(p[i].greater + p[i].ties);
		i = e;
	}
	*ap = (double)(sum / (long double)npos);
}

/* --subset-softmax: keep only the rows of X (every layer) and the gene ids
 * that the subset lists, in their order, so that each softmax runs over the
 * subset's keys; returns the new n. Attention between two genes depends on
 * nothing but their rows and the keys' normaliser, so this is exactly the
 * attention of a model that saw only these genes. */
static int64_t keep_rows(linputs_t *in, int ngroup, int64_t d, strtab_t **genes, const uint8_t *keep, int64_t n)
{
	strtab_t *kept = strtab_new();
	int64_t m = 0;
	for (int64_t i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		const char *g = strtab_str(*genes, i);
		strtab_put(kept, g, strlen(g), NULL);
		for (int l = 0; l < ngroup; l++)
			memmove(in[l].x + (size_t)m * (size_t)d, in[l].x + (size_t)i * (size_t)d, (size_t)d * sizeof(float));
		m++;
	}
	strtab_free(*genes);
	*genes = kept;
	return m;
}

/* --ties keep: entry i of a finished selection is printed when it is among
 * the first K or tied with the K-th. */
static int in_top(const tk_buf_t *b, size_t i, long long top, int ties_keep)
{
	if ((long long)i < top)
		return 1;
	return ties_keep && b->v[i].key == b->v[top - 1].key;
}

/* --ties keep: does some distribution's selection (full: fewer entries than
 * the distribution) end with a pair tied with its K-th? Then pairs tied with
 * the K-th may have been left out. */
static int ties_cut(const attn_result_t *r, long long top)
{
	for (int t = 0; t < r->ndist; t++) {
		const tk_buf_t *b = &r->top[t];
		if ((long long)b->n > top && (int64_t)b->n < r->ntotal && b->v[b->n - 1].key == b->v[top - 1].key)
			return 1;
	}
	return 0;
}

static void linputs_free(linputs_t *in)
{
	free(in->x);
	free(in->wq);
	free(in->wk);
	free(in->bq);
	free(in->bk);
	attn_given_close(in->given);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	const char *genes_path = NULL, *at = NULL, *out = NULL, *subset_path = NULL, *check_path = NULL,
		   *model = NULL, *category = NULL, *layers_list = NULL;
	double ln_eps = 1e-5, check_tol = 1e-4;
	long long heads = 0, top = 10000, threads = sysconf(_SC_NPROCESSORS_ONLN);
	int raw = 0, absval = 0, keep_self = 0, per_head = 0, nlabel = 0, verbose = 0, c;
	int combine = ATTN_COMBINE_SUM, ngroup = 1, grouped = 0, sources = 0, ties_keep = 0, subset_softmax = 0;
	/* --ref options before the first --ref are every reference's defaults;
	 * after a --ref, they are that reference's own. */
	refnet_opts_t dflt, *refs = xcalloc((size_t)argc + 1, sizeof *refs);
	int nref = 0;
	refnet_opts_init(&dflt);
	char **label = labels_kept = xmallocarray((size_t)argc, sizeof *label);
	/* At most one group per argument, plus the first. */
	lfiles_t *grp = xcalloc((size_t)argc + 1, sizeof *grp), *cur = grp;
	if (threads < 1)
		threads = 1;
	while ((c = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		if (c == REFNET_OPT_REF) {
			refs[nref] = dflt;
			refs[nref++].path = optarg;
			continue;
		}
		if (refnet_opt(nref ? &refs[nref - 1] : &dflt, c, optarg))
			continue;
		switch (c) {
		case OPT_SOURCES: sources = 1; break;
		case OPT_RESID: set_once(&cur->resid, optarg, "--resid"); break;
		case OPT_WQ: set_once(&cur->wq, optarg, "--wq"); break;
		case OPT_WK: set_once(&cur->wk, optarg, "--wk"); break;
		case OPT_BQ: set_once(&cur->bq, optarg, "--bq"); break;
		case OPT_BK: set_once(&cur->bk, optarg, "--bk"); break;
		case OPT_LNW: set_once(&cur->lnw, optarg, "--ln-weight"); break;
		case OPT_LNB: set_once(&cur->lnb, optarg, "--ln-bias"); break;
		case OPT_ATTN: set_once(&cur->attn, optarg, "--attn"); break;
		case OPT_LAYER:
			/* A --layer before any input opens the first layer. */
			grouped = 1;
			if (!lfiles_empty(cur))
				cur = &grp[ngroup++];
			break;
		case OPT_MODEL: model = optarg; break;
		case OPT_CATEGORY: category = optarg; break;
		case OPT_LAYERS: layers_list = optarg; break;
		case OPT_COMBINE:
			if (!strcmp(optarg, "sum"))
				combine = ATTN_COMBINE_SUM;
			else if (!strcmp(optarg, "mean"))
				combine = ATTN_COMBINE_MEAN;
			else if (!strcmp(optarg, "max"))
				combine = ATTN_COMBINE_MAX;
			else if (!strcmp(optarg, "absmax"))
				combine = ATTN_COMBINE_ABSMAX;
			else
				die_usage("--combine: '%s' is not one of sum, mean, max, absmax", optarg);
			break;
		case OPT_LNEPS:
			ln_eps = opt_double(optarg, "--ln-eps");
			if (ln_eps < 0)
				die_usage("--ln-eps: %s is negative", optarg);
			break;
		case OPT_HEADS: heads = opt_int(optarg, "--heads", 1, 1 << 16); break;
		case OPT_TOP: top = opt_int(optarg, "--top", 1, INT64_MAX); break;
		case OPT_TIES:
			if (!strcmp(optarg, "keep"))
				ties_keep = 1;
			else if (strcmp(optarg, "first"))
				die_usage("--ties: '%s' is not one of first, keep", optarg);
			break;
		case OPT_RAW: raw = 1; break;
		case OPT_ABS: absval = 1; break;
		case OPT_SELF: keep_self = 1; break;
		case OPT_PERHEAD: per_head = 1; break;
		case OPT_GENES: genes_path = optarg; break;
		case OPT_AT: at = optarg; break;
		case OPT_SUBSET: subset_path = optarg; break;
		case OPT_SUBSET_SOFTMAX: subset_softmax = 1; break;
		case OPT_CHECK: check_path = optarg; break;
		case OPT_CHECKTOL:
			check_tol = opt_double(optarg, "--check-tol");
			if (!(check_tol >= 0))
				die_usage("--check-tol: %s is negative", optarg);
			break;
		case OPT_LABEL:
			if (!strchr(optarg, '=') || optarg[0] == '=' || strpbrk(optarg, "\t\n"))
				die_usage("--label: expected NAME=VALUE (no tabs), got '%s'", optarg);
			label[nlabel++] = optarg;
			break;
		case OPT_THREADS: threads = opt_int(optarg, "--threads", 1, 1024); break;
		case 'o': out = optarg; break;
		case 'v': verbose = 1; break;
		case 'h': fputs(usage, stdout); free(grp); free(refs); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (ngroup > 1 && lfiles_empty(&grp[ngroup - 1]))
		ngroup--;   /* a trailing --layer */
	if (model) {
		if (!category)
			die_usage("--model needs --category (the residual streams' resid/CAT)");
		if (grouped || !lfiles_empty(&grp[0]))
			die_usage("--model gives every layer's inputs: --layer, --resid, --wq, --wk, --bq, --bk, "
				  "--ln-* and --attn do not apply");
		free(grp);
		ngroup = model_layers(model, category, layers_list, &heads, &grp);
		if (ngroup == 0)
			die_usage("--layers: no layer selected");
	} else if (category || layers_list) {
		die_usage("--category and --layers go with --model");
	}
	int given_mode = grp[0].attn != NULL;
	for (int l = 0; l < ngroup; l++) {
		const lfiles_t *f = &grp[l];
		char where[48] = "";
		if (ngroup > 1)
			snprintf(where, sizeof where, "layer %d: ", l);
		if (!f->attn != !given_mode)
			die_usage("%severy layer is given either by --attn or by --resid, --wq, --wk", where);
		if (f->attn) {
			if (f->resid || f->wq || f->wk || f->bq || f->bk || f->lnw || f->lnb || raw || check_path)
				die_usage("%s--attn ranks a given matrix: --resid, --wq, --wk, --bq, --bk, --ln-*, --raw "
					  "and --check do not apply", where);
		} else {
			if (!f->resid || !f->wq || !f->wk)
				die_usage("%s--resid, --wq and --wk are required (or --attn)", where);
			if (!heads)
				die_usage("--heads is required");
		}
	}
	refnet_opts_t ro = nref ? refs[0] : dflt;   /* ro.path: AUROC mode */
	if (nref > 1 && sources)
		die_usage("--sources with several --ref: each reference has its own source rows; one run per reference");
	if (ro.path && (at || check_path))
		die_usage("--ref gives one AUROC row per distribution: not with --at or --check");
	if (ro.path && !genes_path)
		die_usage("--ref needs --genes (the ids matched with the reference)");
	if (sources && !ro.path)
		die_usage("--sources goes with --ref");
	if (ngroup > 1 && per_head)
		die_usage("--per-head with several layers: heads are not matched across layers");
	if (subset_softmax && (!subset_path || !genes_path || given_mode || check_path))
		die_usage("--subset-softmax needs --subset and --genes, and computed attention (not --attn or --check)");
	if (ties_keep && (ro.path || at || check_path))
		die_usage("--ties keep widens the top-K: not with --ref, --at or --check");
	if (ngroup > 1 && check_path)
		die_usage("--check compares one layer: give one layer");
	progress_init(verbose);

	int64_t d = 0, n = 0;
	const char *n_source = NULL;
	linputs_t *in = xcalloc((size_t)ngroup, sizeof *in);
	for (int l = 0; l < ngroup; l++)
		load_layer(&grp[l], l, ngroup, &heads, per_head, ln_eps, &d, &n, &n_source, &in[l]);
	const char *resid = n_source;
	strtab_t *genes = NULL;
	if (genes_path) {
		genes = strtab_read_lines(genes_path);
		if (strtab_size(genes) != n)
			die("%s: %lld ids, but %s has %lld rows", genes_path, (long long)strtab_size(genes),
			    resid, (long long)n);
	}
	uint8_t *subset = subset_path ? read_subset(subset_path, genes, n) : NULL;
	if (subset_softmax) {
		/* The subset's rows only: every later step sees n_s genes, all selected. */
		n = keep_rows(in, ngroup, d, &genes, subset, n);
		free(subset);
		subset = NULL;
	}
	int32_t *at_from = NULL, *at_to = NULL;
	int64_t nat = 0;
	uint8_t *rows = NULL;
	int64_t *ref_off = xcalloc((size_t)nref + 1, sizeof *ref_off);
	for (int k = 0; k < nref; k++) {
		/* Every reference's edges looked up in one pass. */
		int32_t *f, *g;
		int64_t m = ref_pairs(&refs[k], genes, subset, keep_self, sources, &f, &g, &rows);
		at_from = xreallocarray(at_from, (size_t)(nat + m + 1), sizeof *at_from);
		at_to = xreallocarray(at_to, (size_t)(nat + m + 1), sizeof *at_to);
		memcpy(at_from + nat, f, (size_t)m * sizeof *f);
		memcpy(at_to + nat, g, (size_t)m * sizeof *g);
		free(f);
		free(g);
		nat += m;
		ref_off[k + 1] = nat;
		top = 1;   /* nothing printed from the selection */
	}
	if (at) {
		nat = read_pairs(at, genes, n, &at_from, &at_to);
		for (int64_t p = 0; subset && p < nat; p++)
			if (!subset[at_from[p]] || !subset[at_to[p]])
				die("%s: pair %lld (data line %lld) has a gene outside --subset %s", at,
				    (long long)p + 1, (long long)p + 1, subset_path);
		if (n < 2 && !keep_self)
			die("%s: no pairs to rank: one gene and no --keep-self", resid);
	}

	wr_t *w = wr_open(out, 0);
	attn_layer_t *lay = xcalloc((size_t)ngroup, sizeof *lay);
	for (int l = 0; l < ngroup; l++)
		lay[l] = (attn_layer_t){ in[l].x, in[l].wq, in[l].wk, in[l].bq, in[l].bk,
					 in[l].given ? given_fill : NULL, in[l].given };
	attn_spec_t s = {
		.n = n, .d = d, .heads = (int)heads, .x = in[0].x, .wq = in[0].wq, .wk = in[0].wk, .bq = in[0].bq,
		.bk = in[0].bk, .raw = raw, .absval = absval, .keep_self = keep_self, .per_head = per_head,
		.k = ties_keep && top < INT64_MAX ? top + 1 : top,
		.subset = subset, .nat = nat, .at_from = at_from, .at_to = at_to, .threads = (int)threads,
		.given = lay[0].given, .given_ctx = lay[0].given_ctx,
		.nlayers = ngroup > 1 ? ngroup : 0, .layers = ngroup > 1 ? lay : NULL, .combine = combine,
		.row_mask = rows, .exact_at = ro.path != NULL,
	};
	check_t chk = { 0 };
	if (check_path) {
		chk.g = attn_given_open(check_path);
		chk.n = n;
		chk.per_head = per_head;
		if (chk.g->n != n)
			die("%s: attention over %lld genes, but %s has %lld", check_path, (long long)chk.g->n,
			    resid, (long long)n);
		if (chk.g->has_heads && chk.g->heads != heads)
			die("check against %s: FAILED: the forward pass has %d heads, --heads says %lld",
			    check_path, chk.g->heads, heads);
		if (per_head && !chk.g->has_heads)
			die("%s: --per-head --check needs the per-head attention (heads x n x n)", check_path);
		chk.maxd = xmallocarray(xmul((size_t)n, (size_t)heads), sizeof *chk.maxd);
		chk.argj = xmallocarray(xmul((size_t)n, (size_t)heads), sizeof *chk.argj);
		s.observe = check_observe;
		s.observe_ctx = &chk;
		/* the top-100 compared, whatever --top prints */
		s.k = top > CHECK_TOP ? top : CHECK_TOP;
	}
	attn_result_t r;
	attn_run(&s, &r);
	/* --ties keep: select one pair more than K; while some distribution's
	 * selection ends inside the run of pairs tied with its K-th, the run may
	 * go on past it: select twice as many and run again (a whole pass each;
	 * float32 attention rarely has such ties, given matrices may). */
	while (ties_keep && ties_cut(&r, top)) {
		attn_result_free(&r);
		s.k = s.k > INT64_MAX / 2 ? INT64_MAX : 2 * s.k;
		attn_run(&s, &r);
	}
	if (check_path) {
		if (check_report(&s, &r, &chk, check_path, genes, check_tol))
			die("check against %s: the computed attention differs from the forward pass's by more "
			    "than --check-tol %g: check the export (W_Q/W_K layout out x in, head split, "
			    "--heads, LayerNorm, biases, residual stream)", check_path, check_tol);
		attn_given_close(chk.g);
		free(chk.maxd);
		free(chk.argj);
	}

	if (ro.path) {
		wr_puts(w, "ref\tscope\tn_pos\tn_neg\tauroc\tauprc");
	} else {
		wr_puts(w, "from\tto\tvalue\trank\tquantile");
	}
	if (per_head)
		wr_puts(w, "\thead");
	for (int l = 0; l < nlabel; l++) {
		wr_putc(w, '\t');
		wr_write(w, label[l], (size_t)(strchr(label[l], '=') - label[l]));
	}
	wr_putc(w, '\n');
	if (ro.path) {
		pos_rank_t *pr = xmallocarray(nat ? (size_t)nat : 1, sizeof *pr);
		for (int k = 0; k < nref; k++) {
			for (int t = 0; t < r.ndist; t++) {
				int64_t np = ref_off[k + 1] - ref_off[k];
				for (int64_t p = 0; p < np; p++) {
					size_t at_ = (size_t)(ref_off[k] + p) * (size_t)r.ndist + (size_t)t;
					pr[p] = (pos_rank_t){ r.at_rank[at_] - 1, r.at_ties[at_] };
				}
				double auroc, ap;
				auc_exact(pr, np, r.ntotal, &auroc, &ap);
				wr_puts(w, refs[k].path);
				wr_puts(w, sources ? "\tsources\t" : "\tall\t");
				wr_i64(w, np);
				wr_putc(w, '\t');
				wr_i64(w, r.ntotal - np);
				wr_putc(w, '\t');
				wr_f64_na(w, auroc);
				wr_putc(w, '\t');
				wr_f64_na(w, ap);
				if (per_head) {
					wr_putc(w, '\t');
					wr_i64(w, t);
				}
				for (int l = 0; l < nlabel; l++) {
					wr_putc(w, '\t');
					wr_puts(w, strchr(label[l], '=') + 1);
				}
				wr_putc(w, '\n');
			}
		}
		free(pr);
	} else if (at) {
		for (int64_t p = 0; p < nat; p++)
			for (int t = 0; t < r.ndist; t++)
				put_row(w, genes, at_from[p], at_to[p], r.at_value[p * r.ndist + t],
					r.at_rank[p * r.ndist + t], r.ntotal, per_head ? t : -1, nlabel, label);
	} else {
		for (int t = 0; t < r.ndist; t++)
			for (size_t i = 0; i < r.top[t].n && in_top(&r.top[t], i, top, ties_keep); i++)
				put_row(w, genes, r.top[t].v[i].from, r.top[t].v[i].to, r.top[t].v[i].value,
					r.rank[t][i], r.ntotal, per_head ? t : -1, nlabel, label);
	}
	wr_close(w);
	attn_result_free(&r);
	if (genes)
		strtab_free(genes);
	free(at_from);
	free(rows);
	free(ref_off);
	free(refs);
	free(subset);
	free(at_to);
	for (int l = 0; l < ngroup; l++)
		linputs_free(&in[l]);
	free(in);
	free(lay);
	free(grp);
	for (size_t u = 0; u < npaths_kept; u++)
		free(paths_kept[u]);
	free(paths_kept);
	free(labels_kept);
	return 0;
}
