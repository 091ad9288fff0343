/* mat: look at matrices and convert them between .npy, .npz members,
 * MatrixMarket, TSV and the .akm stream. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "h5mat.h"
#include "mat.h"
#include "opt.h"
#include "out.h"
#include "safetensors.h"
#include "strtab.h"
#include "xalloc.h"

static const char usage[] =
	"usage: mat info [--row-sums | --col-sums] [-o OUT] FILE\n"
	"       mat convert [--to FMT] [--dtype T] [--row-names FILE] [--col-names FILE] [-z] IN OUT\n"
	"       mat obs [-o OUT] FILE\n"
	"\n"
	"Inputs: .npy, FILE.npz:MEMBER, .akm[.gz], .mtx[.gz], .tsv[.gz],\n"
	"FILE.safetensors:TENSOR (info FILE.safetensors lists the tensors); SPEC[a:b]\n"
	"takes rows a..b-1. The format is detected from the first bytes, so '-'\n"
	"(stdin) works. HDF5 files: a.h5ad (X), a.h5ad:layers/NAME, :raw/X,\n"
	":obsm/NAME, 10x .h5 (its Gene Expression rows; f.h5:TYPE[,TYPE] reads other\n"
	"feature types), .loom (cells x genes; info on the whole file lists what it\n"
	"holds). Output format from OUT's\n"
	"extension (.npy .akm .mtx .tsv, optionally .gz), or --to npy|akm|mtx|tsv.\n"
	"\n"
	"  --row-sums, --col-sums   info: one line per row/column with its sum\n"
	"  --to FMT                 convert: output format (needed when OUT is '-')\n"
	"  --dtype T                convert: f32, f64, i32 or i64 [as input]\n"
	"  --row-names FILE         attach row names (one per line) [--rows-names too]\n"
	"  --col-names FILE         attach column names (one per line)\n"
	"  -z, --gzip               gzip the output whatever its name\n"
	"  -o FILE                  info, obs: write to FILE [stdout]\n"
	"  -h, --help               this text\n";

enum { OPT_ROWSUMS = 256, OPT_COLSUMS, OPT_TO, OPT_DTYPE, OPT_ROWNAMES, OPT_COLNAMES };

static const struct option longopts[] = {
	{ "row-sums", no_argument, NULL, OPT_ROWSUMS },
	{ "col-sums", no_argument, NULL, OPT_COLSUMS },
	{ "to", required_argument, NULL, OPT_TO },
	{ "dtype", required_argument, NULL, OPT_DTYPE },
	{ "row-names", required_argument, NULL, OPT_ROWNAMES },
	{ "rows-names", required_argument, NULL, OPT_ROWNAMES },
	{ "col-names", required_argument, NULL, OPT_COLNAMES },
	{ "gzip", no_argument, NULL, 'z' },
	OPT_LONG_OUTPUT,
	OPT_LONG_HELP,
	{ NULL, 0, NULL, 0 },
};

static void kv(wr_t *w, const char *k, const char *v)
{
	wr_puts(w, k);
	wr_putc(w, '\t');
	wr_puts(w, v);
	wr_putc(w, '\n');
}

static void kv_num(wr_t *w, const char *k, double v)
{
	wr_puts(w, k);
	wr_putc(w, '\t');
	wr_f64(w, v);
	wr_putc(w, '\n');
}

static void info_summary(wr_t *w, const akmat_t *m, int fmt)
{
	char b[256];
	int64_t n = mat_count(m), nan = 0, inf = 0;
	double sum = 0, lo = INFINITY, hi = -INFINITY;
	for (int64_t i = 0; i < n; i++) {
		double v = mat_get(m, i);
		if (isnan(v)) { nan++; continue; }
		if (isinf(v)) inf++;
		sum += v;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	wr_puts(w, "field\tvalue\n");
	kv(w, "file", m->src ? m->src : "-");
	kv(w, "format", fmt_name(fmt));
	kv(w, "dtype", ak_dtype_name(m->dtype));
	size_t k = 0;
	for (int i = 0; i < m->ndim; i++)
		k += (size_t)snprintf(b + k, sizeof b - k, "%s%lld", i ? " x " : "", (long long)m->shape[i]);
	kv(w, "shape", b);
	snprintf(b, sizeof b, "%lld", (long long)m->rows);
	kv(w, "rows", b);
	snprintf(b, sizeof b, "%lld", (long long)m->cols);
	kv(w, "cols", b);
	snprintf(b, sizeof b, "%s%.100s", m->rownames ? "yes, first " : "no", m->rownames && m->rows ? m->rownames[0] : "");
	kv(w, "row_names", b);
	snprintf(b, sizeof b, "%s%.100s", m->colnames ? "yes, first " : "no", m->colnames && m->cols ? m->colnames[0] : "");
	kv(w, "col_names", b);
	kv_num(w, "sum", sum);
	kv_num(w, "min", n - nan ? lo : NAN);
	kv_num(w, "max", n - nan ? hi : NAN);
	kv_num(w, "nan", (double)nan);
	kv_num(w, "inf", (double)inf);
}

static void info_sums(wr_t *w, const akmat_t *m, int by_row)
{
	int64_t len = by_row ? m->rows : m->cols;
	double *s = xcalloc((size_t)(len ? len : 1), sizeof *s);
	for (int64_t i = 0; i < m->rows; i++)
		for (int64_t j = 0; j < m->cols; j++)
			s[by_row ? i : j] += mat_get(m, i * m->cols + j);
	char **names = by_row ? m->rownames : m->colnames;
	wr_puts(w, by_row ? "row\tname\tsum\n" : "col\tname\tsum\n");
	for (int64_t i = 0; i < len; i++) {
		wr_i64(w, i);
		wr_putc(w, '\t');
		wr_puts(w, names ? names[i] : "");
		wr_putc(w, '\t');
		wr_f64(w, s[i]);
		wr_putc(w, '\n');
	}
	free(s);
}

static int cmd_info(const char *path, int sums, const char *out)
{
	wr_t *w = wr_open(out, 0);
	if (!sums && h5_is_spec(path) && h5mat_info(path, w)) {
		/* listed the whole HDF5 file */
	} else if (!sums && !strstr(path, ".safetensors:") && path[strlen(path) - 1] != ']' && st_is_file(path)) {
		/* Weights: the tensors' names, dtypes and shapes. */
		st_list(w, path);
	} else if (!sums && strstr(path, ".npz") && !strstr(path, ".npz:")) {
		/* Whole archive: summarise every member. */
		size_t n;
		char **mem = npz_list(path, &n);
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(path) + strlen(mem[i]) + 2;
			char *spec = xmalloc(len);
			snprintf(spec, len, "%s:%s", path, mem[i]);
			akmat_t *m = mat_load(spec);
			if (i)
				wr_putc(w, '\n');
			info_summary(w, m, FMT_NPZ);
			mat_free(m);
			free(spec);
			free(mem[i]);
		}
		free(mem);
	} else {
		int fmt;
		akmat_t *m = mat_load_fmt(path, &fmt);
		if (sums)
			info_sums(w, m, sums == OPT_ROWSUMS);
		else
			info_summary(w, m, fmt);
		mat_free(m);
	}
	wr_close(w);
	return 0;
}

static char **read_names(const char *path, int64_t want, const char *what, const char *src)
{
	strtab_t *t = strtab_read_lines(path);
	if (strtab_size(t) != want)
		die("%s: %lld names, but %s has %lld %s", path, (long long)strtab_size(t), src,
		    (long long)want, what);
	char **v = xmallocarray((size_t)(want ? want : 1), sizeof *v);
	for (int64_t i = 0; i < want; i++)
		v[i] = xstrdup(strtab_str(t, i));
	strtab_free(t);
	return v;
}

static int cmd_convert(const char *in, const char *out, int to, int dtype, const char *rn,
		       const char *cn, int gz)
{
	if (strcmp(out, "-") == 0 && to == FMT_NONE)
		die_usage("convert: writing to stdout needs --to FMT");
	if (to == FMT_NONE && fmt_from_name(out) == FMT_NONE)
		die_usage("convert: cannot tell the format of '%s' from its name: use --to FMT", out);
	akmat_t *m = mat_load(in);
	if (dtype && dtype != m->dtype) {
		akmat_t *c = mat_convert(m, dtype);
		mat_free(m);
		m = c;
	}
	if (rn) {
		char **v = read_names(rn, m->rows, "rows", m->src);
		for (int64_t i = 0; m->rownames && i < m->rows; i++)
			free(m->rownames[i]);
		free(m->rownames);
		m->rownames = v;
	}
	if (cn) {
		if (m->ndim != 2)
			die("%s: column names need a 2-D matrix", m->src);
		char **v = read_names(cn, m->cols, "columns", m->src);
		for (int64_t i = 0; m->colnames && i < m->cols; i++)
			free(m->colnames[i]);
		free(m->colnames);
		m->colnames = v;
	}
	if ((m->rownames || m->colnames) && (to == FMT_NPY || (to == FMT_NONE && fmt_from_name(out) == FMT_NPY)))
		warn("%s: .npy cannot hold row or column names; they are dropped (use .akm or .tsv)", out);
	mat_save(m, out, to, gz);
	mat_free(m);
	return 0;
}

/* One field of the cells table; TSV cannot carry a TAB or a line break in a
 * value, and silently splitting a label would shift every later column. */
static void obs_field(wr_t *w, const char *v, const h5frame_t *fr, int col, int64_t row)
{
	if (!strpbrk(v, "\t\r\n"))
		wr_puts(w, v);
	else if (row < 0)
		die("%s: column name '%s' holds a TAB or a line break; a TSV header cannot carry it",
		    fr->src, fr->col[col].name);
	else
		die("%s: column %s, row %lld holds a TAB or a line break; a TSV cells table cannot carry it",
		    fr->src, fr->col[col].name, (long long)row + 1);
}

/* mat obs: the cells' table of an HDF5 expression file (AnnData obs, 10x
 * barcodes, loom col_attrs), index first, exactly as the expression filters
 * read it when no --cells is given, so a pipeline can list the groups. */
static int cmd_obs(const char *spec, const char *out)
{
	if (!h5_is_spec(spec))
		die("%s: not an HDF5 file (.h5ad, 10x .h5, .loom): obs reads their cells table", spec);
	h5frame_t *fr = h5mat_obs(spec);
	if (!fr)
		die("%s: no cells table (obs) in this file", spec);
	wr_t *w = wr_open(out, 0);
	for (int i = 0; i < fr->ncol; i++) {
		if (i)
			wr_putc(w, '\t');
		obs_field(w, fr->col[i].name, fr, i, -1);
	}
	wr_putc(w, '\n');
	for (int64_t r = 0; r < fr->rows; r++) {
		for (int i = 0; i < fr->ncol; i++) {
			if (i)
				wr_putc(w, '\t');
			obs_field(w, fr->col[i].v[r], fr, i, r);
		}
		wr_putc(w, '\n');
	}
	wr_close(w);
	h5frame_free(fr);
	return 0;
}

int main(int argc, char **argv)
{
	err_init(argv[0]);
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 2)
		die_usage("missing command: info, convert or obs");
	const char *cmd = argv[1];
	int sums = 0, to = FMT_NONE, dtype = 0, gz = 0, c;
	const char *rn = NULL, *cn = NULL, *out = NULL;
	optind = 2;
	while ((c = getopt_long(argc, argv, "zo:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ROWSUMS: case OPT_COLSUMS: sums = c; break;
		case OPT_TO:
			if ((to = fmt_parse(optarg)) == FMT_NONE || to == FMT_NPZ)
				die_usage("--to: unknown format '%s' (npy, akm, mtx, tsv)", optarg);
			break;
		case OPT_DTYPE:
			if (!(dtype = ak_dtype_parse(optarg)))
				die_usage("--dtype: unknown dtype '%s' (f32, f64, i32, i64)", optarg);
			break;
		case OPT_ROWNAMES: rn = optarg; break;
		case OPT_COLNAMES: cn = optarg; break;
		case 'z': gz = 1; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: die_usage("bad option");
		}
	}
	int nargs = argc - optind;
	if (strcmp(cmd, "info") == 0) {
		if (nargs != 1)
			die_usage("info takes one FILE");
		return cmd_info(argv[optind], sums, out);
	}
	if (strcmp(cmd, "convert") == 0) {
		if (nargs != 2)
			die_usage("convert takes IN and OUT");
		return cmd_convert(argv[optind], argv[optind + 1], to, dtype, rn, cn, gz);
	}
	if (strcmp(cmd, "obs") == 0) {
		if (nargs != 1)
			die_usage("obs takes one FILE");
		return cmd_obs(argv[optind], out);
	}
	die_usage("unknown command '%s' (info, convert, obs)", cmd);
}
