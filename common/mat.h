/* Dense matrices in memory, and the formats they travel in: .npy, .npz
 * members, the .akm stream, MatrixMarket and TSV. Data are held in C (row-
 * major) order whatever the file's order. Shapes from files are checked
 * before anything large is allocated: data are read in growing chunks, so a
 * huge shape claim in a small file fails as "truncated", not as out of memory. */
#ifndef AK_MAT_H
#define AK_MAT_H

#include <stddef.h>
#include <stdint.h>

enum { AK_F32 = 1, AK_F64 = 2, AK_I32 = 3, AK_I64 = 4 };
#define AK_MAXDIM 8

typedef struct akmat {
	int dtype;
	int ndim;
	int64_t shape[AK_MAXDIM];
	int64_t rows, cols;   /* rows = shape[0]; cols = product of the rest (1 when 1-D) */
	void *data;
	char **rownames;      /* NULL, or rows strings */
	char **colnames;      /* NULL, or cols strings (2-D only) */
	char *src;            /* where it came from, for messages */
} akmat_t;

size_t ak_dtype_size(int dtype);
const char *ak_dtype_name(int dtype);
/* "f32", "float32", "f64", ... -> dtype, or 0. */
int ak_dtype_parse(const char *s);

akmat_t *mat_new(int dtype, int ndim, const int64_t *shape);
akmat_t *mat_new2(int dtype, int64_t rows, int64_t cols);
void mat_free(akmat_t *m);
int64_t mat_count(const akmat_t *m);
double mat_get(const akmat_t *m, int64_t idx);
/* New matrix of another dtype (values converted as C casts do). */
akmat_t *mat_convert(const akmat_t *m, int dtype);
/* Copies as float/double arrays (caller frees). */
float *mat_f32(const akmat_t *m);
double *mat_f64(const akmat_t *m);
/* Dies naming file, row and column of the first NaN or infinity. */
void mat_check_finite(const akmat_t *m);

/* Formats by name. */
enum { FMT_NONE, FMT_NPY, FMT_NPZ, FMT_AKM, FMT_MTX, FMT_TSV,
       FMT_H5 /* .h5ad, 10x .h5, .loom: read only, through h5mat.h */ };
enum { FMT_SAFETENSORS = 32 };   /* read only: common/safetensors.c */
/* Format implied by a file name's extension (".gz" looked through), or FMT_NONE. */
int fmt_from_name(const char *path);
int fmt_parse(const char *s);
const char *fmt_name(int fmt);

/* Load any supported input: "file.npz:member" selects an npz member;
 * otherwise the format is detected from the first bytes. */
akmat_t *mat_load(const char *spec);
/* Like mat_load, and also says which format was found. */
akmat_t *mat_load_fmt(const char *spec, int *fmt);
/* Save in fmt (FMT_NONE: by extension of path; "-" needs fmt). */
void mat_save(const akmat_t *m, const char *path, int fmt, int gzip);

/* Per-format readers/writers (rd/wr from in.h/out.h). */
struct rd;
struct wr;
akmat_t *npy_read(struct rd *r);
akmat_t *npy_read_mem(const unsigned char *p, size_t n, const char *name);
void npy_write(struct wr *w, const akmat_t *m);
/* A .npy header dict's fields, the dtype not judged (for readers of other
 * dtypes, e.g. float16 attention in attn_given.c); shape has AK_MAXDIM slots. */
void npy_fields(const char *name, const char *hdr, char descr[16], int *fortran, int *ndim,
		int64_t *shape);
akmat_t *akm_read(struct rd *r);
void akm_write(struct wr *w, const akmat_t *m);
akmat_t *tsvmat_read(struct rd *r);
void tsvmat_write(struct wr *w, const akmat_t *m);
akmat_t *mtx_read_dense(struct rd *r);
void mtx_write(struct wr *w, const akmat_t *m);
/* npz: list members, or load one (name with or without ".npy"). */
akmat_t *npz_read(const char *path, const char *member);
/* Member names (without ".npy"); caller frees each and the array. */
char **npz_list(const char *path, size_t *n);

/* Sparse coordinate matrix from MatrixMarket (1-based in the file, 0-based
 * here; symmetric files expanded). */
typedef struct spmat {
	int64_t rows, cols, nnz;
	int32_t *ri, *ci;
	double *val;
	int is_int;       /* field integer or pattern */
} spmat_t;
spmat_t *mtx_read(const char *path);
spmat_t *mtx_read_rd(struct rd *r);
void spmat_free(spmat_t *s);

/* Shared by readers: read exactly n bytes or die with "truncated". */
void mat_read_exact(struct rd *r, void *buf, size_t n, const char *what);
/* Read count elements of size esz into a buffer grown as data arrive. */
void *mat_read_data(struct rd *r, int64_t count, size_t esz, const char *what);

#endif
