/* What mat_load (mat.c) reads beyond plain matrix files: tensors of a
 * .safetensors file ("FILE.safetensors:TENSOR"), row ranges ("SPEC[a:b]",
 * for fused projections such as in_proj_weight), and the formats that are
 * named and refused (pickles, PyTorch checkpoints, unknown binaries)
 * instead of being misread as TSV. */
#ifndef AK_MATSPEC_H
#define AK_MATSPEC_H

#include <stddef.h>

#include "mat.h"

struct rd;
/* A safetensors tensor or a row range: the matrix, else NULL (a plain spec). */
akmat_t *mat_load_special(const char *spec, int *fmt);
/* After the known formats' magic bytes did not match: dies naming any
 * binary format (or says how to export a checkpoint); returns for text. */
void mat_refuse_binary(struct rd *r, const char *spec);
/* A zip archive that is a PyTorch checkpoint, not an .npz: refused. */
void mat_refuse_zip(struct rd *r, const char *spec);
/* Parse a trailing "[a:b]" (a, b optional: [a:], [:b]); returns the length
 * of the spec without it, or strlen(spec) when there is none; *r1 = -1
 * means "to the end". */
size_t mat_spec_range(const char *spec, int64_t *r0, int64_t *r1);

#endif
