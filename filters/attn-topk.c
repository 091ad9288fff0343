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
	"  --top K             pairs to keep [10000]\n"
	"  --raw               head-averaged scaled scores instead of softmax\n"
	"  --abs               rank by |value| (the signed value is reported)\n"
	"  --keep-self         include the diagonal in selection and distribution\n"
	"  --per-head          one top-K (or lookup) per head, column 'head'\n"
	"  --genes FILE        gene ids, one per line, in row order [0-based indices]\n"
	"  --at PAIRS          report these pairs (TSV with columns from, to) instead\n"
	"  --subset FILE       select and rank only pairs of these genes (one per line);\n"
	"                      softmax still runs over all keys [all genes]\n"
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
	OPT_SUBSET, OPT_ATTN, OPT_CHECK, OPT_CHECKTOL,
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

/* --label values: kept reachable from a static, since --help and error exits
 * leave main with the array in use (valgrind counted it definitely lost). */
static char **labels_kept;

int main(int argc, char **argv)
{
	err_init(argv[0]);
	const char *resid = NULL, *wq = NULL, *wk = NULL, *bq = NULL, *bk = NULL, *lnw = NULL,
		   *lnb = NULL, *genes_path = NULL, *at = NULL, *out = NULL, *subset_path = NULL,
		   *attn_path = NULL, *check_path = NULL;
	double ln_eps = 1e-5, check_tol = 1e-4;
	long long heads = 0, top = 10000, threads = sysconf(_SC_NPROCESSORS_ONLN);
	int raw = 0, absval = 0, keep_self = 0, per_head = 0, nlabel = 0, verbose = 0, c;
	char **label = labels_kept = xmallocarray((size_t)argc, sizeof *label);
	if (threads < 1)
		threads = 1;
	while ((c = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RESID: resid = optarg; break;
		case OPT_WQ: wq = optarg; break;
		case OPT_WK: wk = optarg; break;
		case OPT_BQ: bq = optarg; break;
		case OPT_BK: bk = optarg; break;
		case OPT_LNW: lnw = optarg; break;
		case OPT_LNB: lnb = optarg; break;
		case OPT_LNEPS:
			ln_eps = opt_double(optarg, "--ln-eps");
			if (ln_eps < 0)
				die_usage("--ln-eps: %s is negative", optarg);
			break;
		case OPT_HEADS: heads = opt_int(optarg, "--heads", 1, 1 << 16); break;
		case OPT_TOP: top = opt_int(optarg, "--top", 1, INT64_MAX); break;
		case OPT_RAW: raw = 1; break;
		case OPT_ABS: absval = 1; break;
		case OPT_SELF: keep_self = 1; break;
		case OPT_PERHEAD: per_head = 1; break;
		case OPT_GENES: genes_path = optarg; break;
		case OPT_AT: at = optarg; break;
		case OPT_SUBSET: subset_path = optarg; break;
		case OPT_ATTN: attn_path = optarg; break;
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
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (attn_path) {
		if (resid || wq || wk || bq || bk || lnw || lnb || raw || check_path)
			die_usage("--attn ranks a given matrix: --resid, --wq, --wk, --bq, --bk, --ln-*, --raw "
				  "and --check do not apply");
	} else {
		if (!resid || !wq || !wk)
			die_usage("--resid, --wq and --wk are required (or --attn)");
		if (!heads)
			die_usage("--heads is required");
	}
	progress_init(verbose);

	int64_t d = 0, n;
	float *fwq = NULL, *fwk = NULL, *x = NULL, *fbq = NULL, *fbk = NULL, *flnw = NULL, *flnb = NULL;
	attn_given_t *given = NULL;
	if (attn_path) {
		/* The matrix fixes n and the heads. */
		given = attn_given_open(attn_path);
		n = given->n;
		if (given->has_heads && heads && heads != given->heads)
			die("%s: %d heads, but --heads %lld", attn_path, given->heads, heads);
		if (!given->has_heads && heads > 1)
			die("%s: one n x n matrix (heads already averaged), but --heads %lld", attn_path, heads);
		if (per_head && !given->has_heads)
			die("%s: --per-head needs heads x n x n; this is one n x n matrix", attn_path);
		heads = given->heads;
		resid = attn_path;
	} else {
		/* Weights first: they fix d; then X must have d columns. */
		akmat_t *probe = mat_load(wq);
		d = probe->ndim == 2 ? probe->cols : mat_count(probe);
		mat_free(probe);
		d_source = wq;
		fwq = load_f32(wq, d, d, "d x d", NULL);
		fwk = load_f32(wk, d, d, "d x d", NULL);
		x = load_f32(resid, -1, d, "genes x d", &n);
		fbq = bq ? load_f32(bq, -2, d, "a bias", NULL) : NULL;
		fbk = bk ? load_f32(bk, -2, d, "a bias", NULL) : NULL;
		flnw = lnw ? load_f32(lnw, -2, d, "a LayerNorm weight", NULL) : NULL;
		flnb = lnb ? load_f32(lnb, -2, d, "a LayerNorm bias", NULL) : NULL;
		if (n == 0)
			die("%s: no rows (genes)", resid);
		if (d % heads != 0)
			die("--heads %lld does not divide d = %lld", heads, (long long)d);
		if (n > INT32_MAX)
			die("%s: %lld genes, at most %d supported", resid, (long long)n, INT32_MAX);
	}
	strtab_t *genes = NULL;
	if (genes_path) {
		genes = strtab_read_lines(genes_path);
		if (strtab_size(genes) != n)
			die("%s: %lld ids, but %s has %lld rows", genes_path, (long long)strtab_size(genes),
			    resid, (long long)n);
	}
	uint8_t *subset = subset_path ? read_subset(subset_path, genes, n) : NULL;
	int32_t *at_from = NULL, *at_to = NULL;
	int64_t nat = 0;
	if (at) {
		nat = read_pairs(at, genes, n, &at_from, &at_to);
		for (int64_t p = 0; subset && p < nat; p++)
			if (!subset[at_from[p]] || !subset[at_to[p]])
				die("%s: pair %lld (data line %lld) has a gene outside --subset %s", at,
				    (long long)p + 1, (long long)p + 1, subset_path);
		if (n < 2 && !keep_self)
			die("%s: no pairs to rank: one gene and no --keep-self", resid);
	}
	if (lnw || lnb)
		layer_norm_rows(x, n, d, flnw, flnb, ln_eps);

	wr_t *w = wr_open(out, 0);
	attn_spec_t s = {
		.n = n, .d = d, .heads = (int)heads, .x = x, .wq = fwq, .wk = fwk, .bq = fbq, .bk = fbk,
		.raw = raw, .absval = absval, .keep_self = keep_self, .per_head = per_head, .k = top,
		.subset = subset, .nat = nat, .at_from = at_from, .at_to = at_to, .threads = (int)threads,
		.given = given ? given_fill : NULL, .given_ctx = given,
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
	if (check_path) {
		if (check_report(&s, &r, &chk, check_path, genes, check_tol))
			die("check against %s: the computed attention differs from the forward pass's by more "
			    "than --check-tol %g: check the export (W_Q/W_K layout out x in, head split, "
			    "--heads, LayerNorm, biases, residual stream)", check_path, check_tol);
		attn_given_close(chk.g);
		free(chk.maxd);
		free(chk.argj);
	}

	wr_puts(w, "from\tto\tvalue\trank\tquantile");
	if (per_head)
		wr_puts(w, "\thead");
	for (int l = 0; l < nlabel; l++) {
		wr_putc(w, '\t');
		wr_write(w, label[l], (size_t)(strchr(label[l], '=') - label[l]));
	}
	wr_putc(w, '\n');
	if (at) {
		for (int64_t p = 0; p < nat; p++)
			for (int t = 0; t < r.ndist; t++)
				put_row(w, genes, at_from[p], at_to[p], r.at_value[p * r.ndist + t],
					r.at_rank[p * r.ndist + t], r.ntotal, per_head ? t : -1, nlabel, label);
	} else {
		for (int t = 0; t < r.ndist; t++)
			for (size_t i = 0; i < r.top[t].n && (long long)i < top; i++)
				put_row(w, genes, r.top[t].v[i].from, r.top[t].v[i].to, r.top[t].v[i].value,
					r.rank[t][i], r.ntotal, per_head ? t : -1, nlabel, label);
	}
	wr_close(w);
	attn_result_free(&r);
	if (genes)
		strtab_free(genes);
	free(at_from);
	free(subset);
	free(at_to);
	free(x);
	free(fwq);
	free(fwk);
	free(fbq);
	free(fbk);
	free(flnw);
	free(flnb);
	free(labels_kept);
	attn_given_close(given);
	return 0;
}
