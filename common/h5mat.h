/* Matrices and tables in HDF5 files: AnnData .h5ad (X, layers/NAME, raw/X,
 * obsm/NAME; obs and var dataframes), 10x Genomics feature-barcode .h5 and
 * .loom. The spec is FILE or FILE:MEMBER ("adata.h5ad:layers/counts"); the
 * member of a 10x file of several feature types names the types to read
 * ("screen.h5:CRISPR Guide Capture"), Gene Expression when there is none.
 * Expression is presented cells x genes whatever the file's orientation
 * (10x and loom store genes x cells), and is streamed in blocks so that a
 * sparse matrix never becomes dense on the way in. */
#ifndef AK_H5MAT_H
#define AK_H5MAT_H

#include <stdint.h>

#include "mat.h"

struct wr;

/* Whether spec names an HDF5 file: FILE:MEMBER with a .h5ad, .h5, .hdf5 or
 * .loom FILE, or a file starting with HDF5's signature. */
int h5_is_spec(const char *spec);

/* A data frame read as strings (the index first): obs, var, 10x barcodes
 * and features, loom col_attrs and row_attrs. */
typedef struct h5col {
	char *name;
	char *dtype;            /* "string", "int64", "float32", "bool", "category" ... */
	int64_t nlevels;        /* categories (-1: not categorical) */
	char **v;               /* rows values; numbers as Python's repr, NaN and missing "" */
} h5col_t;

typedef struct h5frame {
	char *src;              /* "FILE:obs" for messages */
	int64_t rows;
	int ncol;               /* col[0] is the index */
	h5col_t *col;
} h5frame_t;

void h5frame_free(h5frame_t *fr);
/* Column index by name; dies listing the columns there are. */
int h5frame_col(const h5frame_t *fr, const char *name);

/* Counts (or any cells x genes values) in an HDF5 file. */
typedef struct h5x h5x_t;
h5x_t *h5x_open(const char *spec);
void h5x_close(h5x_t *x);
int64_t h5x_ncells(const h5x_t *x);
int64_t h5x_ngenes(const h5x_t *x);
const char *h5x_src(const h5x_t *x);
/* Gene names: the var index (col NULL) or a var column; caller frees. */
char **h5x_genes(h5x_t *x, const char *col);
/* The cells' table (obs, barcodes, col_attrs); caller frees. */
h5frame_t *h5x_obs(h5x_t *x);
/* The same for any member (obsm/NAME too); NULL for a plain HDF5 file. */
h5frame_t *h5mat_obs(const char *spec);
/* Every stored entry, cell by cell or gene by gene in blocks: fn gets n
 * triplets. Within a cell, genes come in ascending order; explicit zeros
 * of sparse files are passed on (the caller drops them). */
typedef void (*h5x_fn)(void *ctx, const int64_t *cell, const int64_t *gene, const double *val,
		       int64_t n);
void h5x_scan(h5x_t *x, h5x_fn fn, void *ctx);

/* The member as a dense matrix (cells x genes, names attached), for mat
 * and the filters that take dense input (obsm/NAME is cells x dims). */
akmat_t *h5mat_load(const char *spec);
/* mat info on a whole file (spec without a member): every dataset, matrix
 * and data-frame column with its shape and dtype, one per line (TSV with a
 * header); returns 1. A spec with a member lists nothing and returns 0. */
int h5mat_info(const char *spec, struct wr *w);

#endif
