/* Low-level HDF5 through libhdf5: open read-only, test and list objects,
 * read attributes, strings and numeric hyperslabs. Every failure dies with a
 * message naming the file and the object; libhdf5's own error stack printing
 * is switched off (its multi-line traces are not for users). */
#ifndef AK_H5_H
#define AK_H5_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* HDF5's signature, the first 8 bytes of a file without a user block. */
extern const unsigned char H5_MAGIC[8];

typedef struct h5f {
	hid_t id;
	char *path;
} h5f_t;

h5f_t *h5_open(const char *path);
void h5_close(h5f_t *f);

enum { H5K_NONE, H5K_GROUP, H5K_DATASET, H5K_OTHER };
/* What "a/b/c" is under loc (every step checked, so a missing parent is
 * H5K_NONE rather than an error). */
int h5_kind(hid_t loc, const char *path);
hid_t h5_gopen(const h5f_t *f, hid_t loc, const char *path);
hid_t h5_dopen(const h5f_t *f, hid_t loc, const char *path);
/* Name of an object (for messages), into a static buffer. */
const char *h5_name(hid_t obj);

/* Children of a group in name order; caller frees each and the array. */
char **h5_children(hid_t grp, size_t *n);
/* "a, b, c" (at most cap bytes, "..." when cut) for "(there are: ...)". */
void h5_join(char *buf, size_t cap, char **v, size_t n);
void h5_free_strs(char **v, size_t n);

/* String attribute (variable or fixed length, scalar or first element), or
 * NULL when absent. */
char *h5_attr_str(hid_t obj, const char *name);
/* String-array attribute (e.g. column-order); NULL/0 when absent. */
char **h5_attr_strs(hid_t obj, const char *name, size_t *n);
/* Integer-array attribute (e.g. shape) into out[max]; -1 when absent. */
int h5_attr_i64s(hid_t obj, const char *name, int64_t *out, int max);

/* Element kinds of a dataset. */
enum { H5T_K_OTHER, H5T_K_INT, H5T_K_UINT, H5T_K_FLOAT, H5T_K_STR, H5T_K_BOOL, H5T_K_REF };
int h5_type_kind(hid_t dset, size_t *size);
/* "float32", "int64", "string", "bool", ... for listings. */
const char *h5_type_desc(hid_t dset);
/* Rank and extents (at most max). */
int h5_dims(hid_t dset, int64_t *dims, int max);

/* Read elements [off, off+n) of a 1-D dataset, or rows [off, off+n) of a 2-D
 * one (whole rows), converted to the memory type. */
void h5_read_rows(hid_t dset, int64_t off, int64_t n, hid_t memtype, void *buf);
/* Read the block [r0, r0+nr) x [c0, c0+nc) of a 2-D dataset. */
void h5_read_block(hid_t dset, int64_t r0, int64_t nr, int64_t c0, int64_t nc, hid_t memtype,
		   void *buf);
/* A whole 1-D string dataset; *n gets the length. */
char **h5_read_strs(hid_t dset, int64_t *n);
/* A whole 1-D dataset as int64 (codes, indptr). */
int64_t *h5_read_i64(hid_t dset, int64_t *n);



/* Data frames (h5frame.c), for h5mat.c. */
struct h5frame;
/* An AnnData dataframe group (obs, var, raw/var): the index named by the
 * _index attribute, then the columns in column-order. */
struct h5frame *h5frame_anndata(const h5f_t *f, const char *grp);
/* A group of 1-D datasets as columns (loom row_attrs/col_attrs, 10x
 * features): the index is the first of index_names present, else the row
 * numbers; datasets of another length or rank are left out. */
struct h5frame *h5frame_attrs(const h5f_t *f, const char *grp, const char *const *index_names);
/* A column from one dataset (1-D), as strings. */
char **h5frame_strings(const h5f_t *f, hid_t d, const char *what, int64_t *n);
#endif
