#include "matspec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "in.h"
#include "safetensors.h"
#include "xalloc.h"

size_t mat_spec_range(const char *spec, int64_t *r0, int64_t *r1)
{
	size_t n = strlen(spec);
	*r0 = 0;
	*r1 = -1;
	if (n < 3 || spec[n - 1] != ']')
		return n;
	const char *open = strrchr(spec, '[');
	if (!open)
		return n;
	const char *p = open + 1, *colon = strchr(p, ':');
	if (!colon || colon > spec + n - 1)
		return n;
	for (const char *q = p; q < spec + n - 1; q++)
		if (q != colon && (*q < '0' || *q > '9'))
			return n;   /* not a range: part of the name */
	long long a = 0, b = -1;
	if (colon > p)
		a = strtoll(p, NULL, 10);
	if (spec + n - 1 > colon + 1)
		b = strtoll(colon + 1, NULL, 10);
	if (b >= 0 && a >= b)
		die("%s: empty row range [%lld:%lld]", spec, a, b);
	*r0 = a;
	*r1 = b;
	return (size_t)(open - spec);
}

/* Rows [r0, r1) of m (r1 < 0: to the end), names included. */
static akmat_t *slice_rows(akmat_t *m, const char *spec, int64_t r0, int64_t r1)
{
	if (r1 < 0)
		r1 = m->rows;
	if (r0 >= r1 || r1 > m->rows)
		die("%s: row range [%lld:%lld] is outside its %lld rows", spec, (long long)r0,
		    (long long)r1, (long long)m->rows);
	int64_t shape[AK_MAXDIM];
	memcpy(shape, m->shape, sizeof shape);
	shape[0] = r1 - r0;
	akmat_t *s = mat_new(m->dtype, m->ndim, shape);
	size_t esz = ak_dtype_size(m->dtype), row = xmul((size_t)m->cols, esz);
	memcpy(s->data, (const char *)m->data + (size_t)r0 * row, xmul((size_t)(r1 - r0), row));
	if (m->rownames) {
		s->rownames = xmallocarray((size_t)(r1 - r0), sizeof *s->rownames);
		for (int64_t i = r0; i < r1; i++)
			s->rownames[i - r0] = xstrdup(m->rownames[i]);
	}
	if (m->colnames) {
		s->colnames = xmallocarray((size_t)m->cols, sizeof *s->colnames);
		for (int64_t j = 0; j < m->cols; j++)
			s->colnames[j] = xstrdup(m->colnames[j]);
	}
	s->src = xstrdup(spec);
	mat_free(m);
	return s;
}

akmat_t *mat_load_special(const char *spec, int *fmt)
{
	int64_t r0, r1;
	size_t base = mat_spec_range(spec, &r0, &r1);
	const char *z = strstr(spec, ".safetensors:");
	char *path = NULL, *name = NULL;
	if (z && (size_t)(z - spec) + 13 <= base) {
		path = xstrndup(spec, (size_t)(z + 12 - spec));
		name = xstrndup(z + 13, base - (size_t)(z + 13 - spec));
	} else {
		path = xstrndup(spec, base);
		if (!st_is_file(path)) {
			if (base == strlen(spec)) {
				free(path);
				return NULL;
			}
			akmat_t *m = mat_load_fmt(path, fmt);
			free(path);
			return slice_rows(m, spec, r0, r1);
		}
	}
	akmat_t *m = st_load(path, name, r0, r1);
	free(path);
	free(name);
	if (fmt)
		*fmt = FMT_SAFETENSORS;
	return m;
}

static noreturn void refuse_torch(const char *name, const char *what)
{
	die("%s: %s, which attnkit does not load (unpickling runs code from the file). Export the "
	    "tensors in Python: safetensors.torch.save_file(model.state_dict(), 'model.safetensors') "
	    "(then use model.safetensors:TENSOR.NAME; mat info lists the names), or "
	    "numpy.save('W.npy', tensor.detach().float().cpu().numpy()) per tensor", name, what);
}

void mat_refuse_zip(rd_t *r, const char *spec)
{
	/* The first local header's file name: PyTorch writes ARCHIVE/data.pkl
	 * (or ARCHIVE/version, ARCHIVE/byteorder) first, an .npz a NAME.npy. */
	unsigned char h[30 + 256];
	size_t k = rd_peek(r, h, sizeof h);
	if (k < 30)
		return;
	size_t nl = (size_t)h[26] | (size_t)h[27] << 8;
	if (nl > k - 30)
		nl = k - 30;
	char fn[257];
	memcpy(fn, h + 30, nl);
	fn[nl] = '\0';
	size_t sl = strlen(spec);
	int torch_ext = (sl > 3 && !strcmp(spec + sl - 3, ".pt")) || (sl > 4 && !strcmp(spec + sl - 4, ".pth")) ||
			(sl > 5 && !strcmp(spec + sl - 5, ".ckpt")) || (sl > 4 && !strcmp(spec + sl - 4, ".bin"));
	if (strstr(fn, ".pkl") || strstr(fn, "/version") || strstr(fn, "/byteorder") || torch_ext)
		refuse_torch(rd_name(r), "a PyTorch checkpoint (.pt/.pth/.ckpt: a zip of pickled tensors)");
}

static const struct { const char *magic; size_t len; const char *what; } MAGIC[] = {
	{ "\x89HDF\r\n\x1a\n", 8, "an HDF5 file (.h5ad, 10x .h5, .loom)" },
	{ "\x28\xb5\x2f\xfd", 4, "zstd-compressed data (decompress it first: zstd -d)" },
	{ "BZh", 3, "bzip2-compressed data (decompress it first: bunzip2)" },
	{ "\xfd" "7zXZ", 5, "xz-compressed data (decompress it first: unxz)" },
	{ "PAR1", 4, "a Parquet file" },
	{ "ARROW1", 6, "an Arrow/Feather file" },
	{ "RDX2\n", 5, "an R workspace (.RData)" },
	{ "RDX3\n", 5, "an R workspace (.RData)" },
	{ "X\n\0", 3, "an R object (.rds)" },
	{ "\x89PNG", 4, "a PNG image" },
	{ "%PDF", 4, "a PDF document" },
	{ "\x7f" "ELF", 4, "an executable (ELF)" },
	{ "SQLite format 3", 15, "an SQLite database" },
};

void mat_refuse_binary(rd_t *r, const char *spec)
{
	(void)spec;
	unsigned char h[512];
	size_t k = rd_peek(r, h, sizeof h);
	const char *name = rd_name(r);
	if (st_sniff(h, k))
		die("%s: a safetensors file, which is read by offset: give it uncompressed, as a file, "
		    "and name the tensor (FILE.safetensors:TENSOR)", name);
	/* Pickle protocols 2-5 start with PROTO (0x80) and the version. */
	if (k >= 2 && h[0] == 0x80 && h[1] >= 2 && h[1] <= 5)
		refuse_torch(name, "a Python pickle (a PyTorch .pt/.pth/.ckpt saved without zip, or pickled Python objects)");
	for (size_t i = 0; i < sizeof MAGIC / sizeof *MAGIC; i++)
		if (k >= MAGIC[i].len && !memcmp(h, MAGIC[i].magic, MAGIC[i].len))
			die("%s: %s, which this input does not read (matrices: .npy, FILE.npz:MEMBER, .akm, "
			    ".mtx, .tsv, FILE.safetensors:TENSOR; optionally gzip'd)", name, MAGIC[i].what);
	/* Text has no NUL and few control bytes; anything else is binary. */
	size_t ctl = 0;
	for (size_t i = 0; i < k; i++) {
		if (h[i] == 0)
			ctl = k;
		else if (h[i] < 0x20 && h[i] != '\t' && h[i] != '\n' && h[i] != '\r')
			ctl++;
	}
	if (k && ctl * 10 > k)
		die("%s: an unrecognised binary format (first bytes %02x %02x %02x %02x), not a matrix "
		    "attnkit reads (.npy, FILE.npz:MEMBER, .akm, .mtx, .tsv, FILE.safetensors:TENSOR; "
		    "optionally gzip'd)", name, h[0], k > 1 ? h[1] : 0, k > 2 ? h[2] : 0, k > 3 ? h[3] : 0);
}
