/* HuggingFace .safetensors: an 8-byte little-endian header length, a JSON
 * header {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [a, b]},
 * "__metadata__": {...}}, then the raw little-endian tensors. Read with
 * pread, one tensor (or a range of its rows) at a time: a multi-gigabyte
 * checkpoint is never read whole. F32, F16, BF16, F64, I32, I64 load
 * (F16 and BF16 widened to float32, exactly); other dtypes are listed but
 * refused on loading. Nothing in the file is executed (no pickle). */
#ifndef AK_SAFETENSORS_H
#define AK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "mat.h"

/* Headers larger than this are refused (the reference implementation's limit). */
#define ST_MAX_HEADER (100u << 20)

typedef struct st_tensor {
	char *name;
	char dtype[12];         /* as in the file: F32, BF16, I8, ... */
	int ndim;               /* 0 for a scalar */
	int64_t shape[AK_MAXDIM];
	uint64_t begin, end;    /* byte offsets into the data section */
} st_tensor_t;

typedef struct st_file {
	char *path;
	uint64_t data_off;      /* 8 + header length */
	uint64_t data_len;      /* bytes after the header */
	size_t n;
	st_tensor_t *t;         /* in header order */
} st_file_t;

/* Parse a header of len bytes (not NUL-terminated) for a data section of
 * data_len bytes; dies with name and the reason on anything malformed,
 * inconsistent (offsets, sizes, duplicate names) or out of bounds. */
st_file_t *st_parse(const char *name, const char *json, size_t len, uint64_t data_len);
st_file_t *st_open(const char *path);
void st_free(st_file_t *f);
const st_tensor_t *st_find(const st_file_t *f, const char *name);

/* 1 if the first bytes (k of them) look like a safetensors header: a
 * plausible length followed by '{'. */
int st_sniff(const unsigned char *head, size_t k);
/* 1 if path names a safetensors file (by extension, or by its first bytes). */
int st_is_file(const char *path);

/* Tensor `tensor` (NULL: the file's only one) of path, rows [r0, r1) of its
 * first dimension (r1 < 0: to the end). A scalar loads as a vector of length 1. */
akmat_t *st_load(const char *path, const char *tensor, int64_t r0, int64_t r1);

/* "tensor dtype shape" lines, a header first (mat info). */
struct wr;
void st_list(struct wr *w, const char *path);

#endif
