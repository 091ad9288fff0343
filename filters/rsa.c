/* rsa: representational similarity of residual streams. For each input
 * (genes x d, same genes in the same order) the gene x gene cosine
 * similarity; for each pair of inputs the Spearman correlation of their
 * cosines over the upper triangle (i < j). Ranks are exact: every input's
 * n(n-1)/2 cosines are ranked (one input at a time, 4 bytes per pair kept);
 * --sample M ranks a fixed, seeded subset of M pairs instead. */
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mat.h"
#include "opt.h"
#include "out.h"
#include "progress.h"
#include "rng.h"
#include "rank.h"
#include "rankcorr.h"
#include "sort.h"
#include "xalloc.h"

static const char usage[] =
	"usage: rsa [--label NAME]... [--sample M [--seed S]] [--max-mem GIB] [-o OUT] [-v]\n"
	"           IN1 IN2 [IN...]\n"
	"\n"
	"Inputs: genes x d matrices (.npy, FILE.npz:MEMBER, .akm, .mtx, .tsv), same genes\n"
	"in the same row order. Output: a b n_pairs spearman, one row per pair of inputs.\n"
	"\n"
	"  --label NAME     name of the next input in the output (repeat once per input)\n"
	"                   [the file name as given]\n"
	"  --sample M       rank M pairs (i < j) drawn without replacement, the same pairs for\n"
	"                   every input (deterministic given --seed) instead of all n(n-1)/2\n"
	"  --seed S         seed of --sample [1]\n"
	"  --max-mem GIB    refuse exact runs estimated to need more memory [12]\n"
	"  -o FILE          output [stdout]; gzip when FILE ends in .gz\n"
	"  -v               progress on stderr\n"
	"  -h, --help       this text\n";

enum { OPT_LABEL = 256, OPT_SAMPLE, OPT_MAXMEM };

static const struct option longopts[] = {
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	OPT_LONG_SEED,
	{ "max-mem", required_argument, NULL, OPT_MAXMEM },
	OPT_LONG_OUTPUT,
	OPT_LONG_VERBOSE,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

/* Position of pair (i, j), i < j, in row-major order of the upper triangle. */
static uint64_t tri_pos(uint64_t n, uint64_t i, uint64_t j)
{
	return i * (n - 1) - i * (i - 1) / 2 + (j - i - 1);
}

/* Knuth's selection sampling (Algorithm S): each of the M positions in turn
 * is taken with probability (still needed)/(still left). Exactly m
 * positions, in increasing order, every m-subset equally likely. */
static uint64_t *sample_positions(uint64_t M, uint64_t m, uint64_t seed)
{
	uint64_t *pos = xmallocarray(m, sizeof *pos), got = 0;
	rng_t r;
	rng_seed(&r, seed);
	for (uint64_t t = 0; t < M && got < m; t++) {
		double u = rng_uniform(&r);
		if ((double)(M - t) * u < (double)(m - got))
			pos[got++] = t;
		if ((t & 0xffffff) == 0)
			progress("sampling pairs: %llu/%llu", (unsigned long long)t, (unsigned long long)M);
	}
	return pos;
}

/* Unit-length rows in double precision; a zero row has no cosine. */
static double *unit_rows(const akmat_t *m)
{
	double *x = mat_f64(m);
	for (int64_t i = 0; i < m->rows; i++) {
		double *r = x + i * m->cols, s = 0;
		for (int64_t k = 0; k < m->cols; k++)
			s += r[k] * r[k];
		if (!(s > 0))
			die("%s: row %lld (gene %lld) is all zeros: its cosine similarity is undefined",
			    m->src, (long long)i + 1, (long long)i);
		s = 1 / sqrt(s);
		for (int64_t k = 0; k < m->cols; k++)
			r[k] *= s;
	}
	return x;
}

/* Ranks of one input's cosines over all pairs (pos == NULL) or over the
 * sampled positions pos[0..m): r2[k] = doubled average rank. Cosines come
 * from dgemm in row blocks and are rounded to float32 for ranking; each is
 * packed with its index into one 64-bit word (cosine key high, index low),
 * so one in-place radix sort on the high half orders them: 8 bytes per pair
 * are the only temporary memory. */
static void rank_input(const akmat_t *mt, const uint64_t *pos, uint64_t m, uint32_t *r2)
{
	int64_t n = mt->rows, d = mt->cols;
	double *x = unit_rows(mt);
	int64_t blk = (int64_t)((32u << 20) / (sizeof(double) * (size_t)n));
	blk = blk < 1 ? 1 : blk > n ? n : blk;
	double *c = xmallocarray(xmul((size_t)blk, (size_t)n), sizeof *c);
	uint64_t *rec = xmallocarray(m ? m : 1, sizeof *rec);
	uint64_t k = 0;
	for (int64_t r0 = 0; r0 < n - 1; r0 += blk) {
		int64_t b = r0 + blk > n ? n - r0 : blk, w = n - r0;
		/* c[b x w] = X[r0..r0+b) X[r0..n)^T: only columns j >= r0 are needed. */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)w, (int)d, 1.0,
			    x + r0 * d, (int)d, x + r0 * d, (int)d, 0.0, c, (int)w);
		for (int64_t i = r0; i < r0 + b; i++) {
			const double *row = c + (i - r0) * w; /* row[j - r0] = cos(i, j) */
			if (!pos) {
				for (int64_t j = i + 1; j < n; j++, k++)
					rec[k] = (uint64_t)f32_key((float)row[j - r0]) << 32 | k;
			} else {
				uint64_t p0 = tri_pos((uint64_t)n, (uint64_t)i, (uint64_t)i + 1);
				uint64_t p1 = p0 + (uint64_t)(n - 1 - i);
				for (; k < m && pos[k] < p1; k++)
					rec[k] = (uint64_t)f32_key((float)row[i + 1 - r0 + (int64_t)(pos[k] - p0)]) << 32 | k;
			}
		}
		progress("%s: cosines, row %lld/%lld", mt->src, (long long)(r0 + b), (long long)n);
	}
	free(c);
	free(x);
	radix64_sort_inplace(rec, m, 32);
	rank2_packed_sorted(rec, m, r2);
	free(rec);
}

/* Every input: 2-D, finite, as many genes (rows) as the first one seen. */
static void check_shape(akmat_t *m, int64_t *n, const char **first)
{
	if (m->ndim != 2)
		die("%s: expected a genes x d matrix, found %d dimension%s", m->src, m->ndim,
		    m->ndim == 1 ? "" : "s");
	if (m->cols < 1)
		die("%s: no columns", m->src);
	if (*n < 0) {
		*n = m->rows;
		*first = xstrdup(m->src);
	} else if (m->rows != *n) {
		die("%s: %lld genes (rows), but %s has %lld: inputs must hold the same genes", m->src,
		    (long long)m->rows, *first, (long long)*n);
	}
	mat_check_finite(m);
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	const char *out = NULL;
	char **label = NULL;
	int nlabel = 0, verbose = 0, c;
	int64_t sample = 0;
	uint64_t seed = 1;
	double maxmem = 12;
	while ((c = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LABEL:
			label = xreallocarray(label, (size_t)nlabel + 1, sizeof *label);
			label[nlabel++] = optarg;
			break;
		case OPT_SAMPLE: sample = opt_int(optarg, "--sample", 2, INT32_MAX); break;
		case OPT_STD_SEED: seed = opt_seed(optarg); break;
		case OPT_MAXMEM:
			maxmem = opt_double(optarg, "--max-mem");
			if (!(maxmem > 0))
				die_usage("--max-mem: must be > 0 (GiB)");
			break;
		case 'o': out = optarg; break;
		case 'v': verbose = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	int L = argc - optind;
	if (L < 2)
		die_usage("need at least two inputs");
	if (nlabel && nlabel != L)
		die_usage("%d --label for %d inputs: give one per input or none", nlabel, L);
	char **in = argv + optind;
	progress_init(verbose);

	/* Shapes first (cheap next to the work), so a mismatch fails early;
	 * stdin can be read only once, so it is checked when its turn comes. */
	int64_t n = -1;
	const char *first = NULL;
	for (int a = 0; a < L; a++) {
		if (strcmp(in[a], "-") == 0)
			continue;
		akmat_t *m = mat_load(in[a]);
		check_shape(m, &n, &first);
		mat_free(m);
	}
	if (n < 0) {
		/* Only stdin: L >= 2 inputs cannot all be stdin. */
		die_usage("stdin ('-') can be given only once");
	}
	if (n < 2)
		die("%s: %lld genes: need at least 2 for a pair", in[0], (long long)n);
	uint64_t M = (uint64_t)n * (uint64_t)(n - 1) / 2;
	uint64_t m = sample && (uint64_t)sample < M ? (uint64_t)sample : M;
	if (m > (uint64_t)INT32_MAX)
		die("%lld genes give %llu pairs: more than this program ranks (2^31 - 1); use --sample",
		    (long long)n, (unsigned long long)M);
	/* ranks kept (4 bytes per pair per input), the packed cosines being
	 * sorted (8), the sampled positions (8) */
	double need = ((double)L * 4 + 8 + (m < M ? 8 : 0)) * (double)m;
	if (need > maxmem * 1073741824.0)
		die("%llu pairs x %d inputs need about %.1f GiB (more than --max-mem %.3g): use --sample M "
		    "(e.g. --sample 10000000) or raise --max-mem",
		    (unsigned long long)m, L, need / 1073741824.0, maxmem);
	uint64_t *pos = m < M ? sample_positions(M, m, seed) : NULL;

	uint32_t **r2 = xmallocarray((size_t)L, sizeof *r2);
	int stdin_used = 0;
	for (int a = 0; a < L; a++) {
		if (strcmp(in[a], "-") == 0 && stdin_used++)
			die_usage("stdin ('-') can be given only once");
		akmat_t *mt = mat_load(in[a]);
		check_shape(mt, &n, &first);
		r2[a] = xmallocarray(m, sizeof **r2);
		rank_input(mt, pos, m, r2[a]);
		mat_free(mt);
	}
	free(pos);

	/* All pairs' sums in one pass over the ranks, a cache-sized chunk at a time. */
	unsigned __int128 *s = xcalloc((size_t)L * L, sizeof *s);
	const uint64_t chunk = 1 << 14;
	for (uint64_t c0 = 0; c0 < m; c0 += chunk) {
		size_t len = (size_t)(c0 + chunk > m ? m - c0 : chunk);
		for (int a = 0; a < L; a++)
			for (int b = a; b < L; b++)
				s[a * L + b] += dot_u32(r2[a] + c0, r2[b] + c0, len);
	}
	wr_t *w = wr_open(out, 0);
	wr_puts(w, "a\tb\tn_pairs\tspearman\n");
	for (int a = 0; a < L; a++)
		for (int b = a + 1; b < L; b++) {
			wr_puts(w, nlabel ? label[a] : in[a]);
			wr_putc(w, '\t');
			wr_puts(w, nlabel ? label[b] : in[b]);
			wr_putc(w, '\t');
			wr_i64(w, (long long)m);
			wr_putc(w, '\t');
			wr_f64(w, spearman_r2(m, s[a * L + b], s[a * L + a], s[b * L + b]));
			wr_putc(w, '\n');
		}
	progress_done();
	wr_close(w);
	for (int a = 0; a < L; a++)
		free(r2[a]);
	free(r2);
	free(s);
	free(label);
	free((char *)first);
	return 0;
}
