#include "h5.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

const unsigned char H5_MAGIC[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };

h5f_t *h5_open(const char *path)
{
	/* libhdf5 prints a stack trace per failed call by default; attnkit
	 * reports its own one-line messages instead. */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	if (access(path, R_OK) != 0)
		die_errno("%s", path);
	hid_t id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (id < 0)
		die("%s: cannot open as HDF5 (damaged or not an HDF5 file)", path);
	h5f_t *f = xcalloc(1, sizeof *f);
	f->id = id;
	f->path = xstrdup(path);
	return f;
}

void h5_close(h5f_t *f)
{
	if (!f)
		return;
	H5Fclose(f->id);
	free(f->path);
	free(f);
}

int h5_kind(hid_t loc, const char *path)
{
	while (*path == '/')
		path++;
	if (!*path)
		return H5K_GROUP;
	/* H5Lexists fails (rather than saying no) when a parent is missing:
	 * test each prefix in turn. */
	char *p = xstrdup(path);
	int ok = 1;
	for (char *s = p; ok; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			ok = H5Lexists(loc, p, H5P_DEFAULT) > 0;
			*s = c;
			if (c == '\0')
				break;
		}
	}
	int kind = H5K_NONE;
	if (ok) {
		hid_t o = H5Oopen(loc, p, H5P_DEFAULT);
		if (o >= 0) {
			H5I_type_t t = H5Iget_type(o);
			kind = t == H5I_GROUP ? H5K_GROUP : t == H5I_DATASET ? H5K_DATASET : H5K_OTHER;
			H5Oclose(o);
		}
	}
	free(p);
	return kind;
}

hid_t h5_gopen(const h5f_t *f, hid_t loc, const char *path)
{
	hid_t g = H5Gopen2(loc, path, H5P_DEFAULT);
	if (g < 0)
		die("%s: cannot open group '%s'", f->path, path);
	return g;
}

hid_t h5_dopen(const h5f_t *f, hid_t loc, const char *path)
{
	hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
	if (d < 0)
		die("%s: cannot open dataset '%s'", f->path, path);
	return d;
}

const char *h5_name(hid_t obj)
{
	static char buf[1024];
	if (H5Iget_name(obj, buf, sizeof buf) < 0)
		snprintf(buf, sizeof buf, "(unnamed)");
	return buf;
}

char **h5_children(hid_t grp, size_t *n)
{
	H5G_info_t info;
	if (H5Gget_info(grp, &info) < 0)
		die("cannot list HDF5 group '%s'", h5_name(grp));
	char **v = xmallocarray(info.nlinks + 1, sizeof *v);
	for (hsize_t i = 0; i < info.nlinks; i++) {
		ssize_t len = H5Lget_name_by_idx(grp, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
		if (len < 0)
			die("cannot list HDF5 group '%s'", h5_name(grp));
		v[i] = xmalloc((size_t)len + 1);
		H5Lget_name_by_idx(grp, ".", H5_INDEX_NAME, H5_ITER_INC, i, v[i], (size_t)len + 1, H5P_DEFAULT);
	}
	*n = info.nlinks;
	return v;
}

void h5_join(char *buf, size_t cap, char **v, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(v[i]) + 2;
		if (len + k + 5 >= cap) {
			snprintf(buf + len, cap - len, "%s...", i ? ", " : "");
			return;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", v[i]);
	}
	if (n == 0)
		snprintf(buf, cap, "nothing");
}

void h5_free_strs(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* n strings of file type ftype read by fn (H5Aread or H5Dread on obj) as
 * malloc'd C strings. Variable-length ones come back allocated by libhdf5,
 * fixed-length ones padded with NULs or spaces (10x barcodes are |S18). */
static char **read_strings(hid_t obj, int is_attr, hid_t ftype, hid_t fspace, hid_t mspace, size_t n)
{
	char **v = xmallocarray(n ? n : 1, sizeof *v);
	hid_t mt = H5Tcopy(ftype);
	herr_t rc;
	if (H5Tis_variable_str(ftype) > 0) {
		char **raw = xcalloc(n ? n : 1, sizeof *raw);
		rc = is_attr ? H5Aread(obj, mt, raw) : H5Dread(obj, mt, mspace, fspace, H5P_DEFAULT, raw);
		if (rc < 0)
			die("cannot read strings from HDF5 object '%s'", h5_name(obj));
		for (size_t i = 0; i < n; i++) {
			v[i] = xstrdup(raw[i] ? raw[i] : "");
			H5free_memory(raw[i]);
		}
		free(raw);
	} else {
		size_t w = H5Tget_size(ftype);
		char *buf = xmallocarray(n ? n : 1, w ? w : 1);
		rc = is_attr ? H5Aread(obj, mt, buf) : H5Dread(obj, mt, mspace, fspace, H5P_DEFAULT, buf);
		if (rc < 0)
			die("cannot read strings from HDF5 object '%s'", h5_name(obj));
		int space = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
		for (size_t i = 0; i < n; i++) {
			v[i] = xstrndup(buf + i * w, w);
			for (size_t k = strlen(v[i]); space && k > 0 && v[i][k - 1] == ' '; k--)
				v[i][k - 1] = '\0';
		}
		free(buf);
	}
	H5Tclose(mt);
	return v;
}

char **h5_attr_strs(hid_t obj, const char *name, size_t *n)
{
	*n = 0;
	if (H5Aexists(obj, name) <= 0)
		return NULL;
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
	hid_t t = H5Aget_type(a), s = H5Aget_space(a);
	hssize_t np = H5Sget_simple_extent_npoints(s);
	char **v = NULL;
	if (H5Tget_class(t) == H5T_STRING)
		v = read_strings(a, 1, t, H5S_ALL, H5S_ALL, (size_t)np);
	else if (np == 0)
		v = xmalloc(sizeof *v);   /* anndata writes an empty column-order as float64 */
	else
		die("HDF5 object '%s': attribute '%s' is not a string", h5_name(obj), name);
	*n = (size_t)np;
	H5Tclose(t);
	H5Sclose(s);
	H5Aclose(a);
	return v;
}

char *h5_attr_str(hid_t obj, const char *name)
{
	size_t n;
	char **v = h5_attr_strs(obj, name, &n);
	if (!v)
		return NULL;
	char *s = n ? v[0] : xstrdup("");
	for (size_t i = 1; i < n; i++)
		free(v[i]);
	free(v);
	return s;
}

int h5_attr_i64s(hid_t obj, const char *name, int64_t *out, int max)
{
	if (H5Aexists(obj, name) <= 0)
		return -1;
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
	hid_t s = H5Aget_space(a), t = H5Aget_type(a);
	hssize_t np = H5Sget_simple_extent_npoints(s);
	if (np > max || (H5Tget_class(t) != H5T_INTEGER && H5Tget_class(t) != H5T_FLOAT))
		die("HDF5 object '%s': attribute '%s' is not a short list of integers", h5_name(obj), name);
	if (H5Aread(a, H5T_NATIVE_INT64, out) < 0)
		die("HDF5 object '%s': cannot read attribute '%s'", h5_name(obj), name);
	H5Tclose(t);
	H5Sclose(s);
	H5Aclose(a);
	return (int)np;
}

/* h5py stores numpy bool as an enum over int8 with members FALSE and TRUE. */
static int is_bool_enum(hid_t t)
{
	if (H5Tget_nmembers(t) != 2 || H5Tget_size(t) != 1)
		return 0;
	char *a = H5Tget_member_name(t, 0), *b = H5Tget_member_name(t, 1);
	int ok = a && b && strcmp(a, "FALSE") == 0 && strcmp(b, "TRUE") == 0;
	H5free_memory(a);
	H5free_memory(b);
	return ok;
}

int h5_type_kind(hid_t dset, size_t *size)
{
	hid_t t = H5Dget_type(dset);
	int k = H5T_K_OTHER;
	switch (H5Tget_class(t)) {
	case H5T_INTEGER: k = H5Tget_sign(t) == H5T_SGN_NONE ? H5T_K_UINT : H5T_K_INT; break;
	case H5T_FLOAT: k = H5T_K_FLOAT; break;
	case H5T_STRING: k = H5T_K_STR; break;
	case H5T_ENUM: k = is_bool_enum(t) ? H5T_K_BOOL : H5T_K_OTHER; break;
	case H5T_REFERENCE: k = H5T_K_REF; break;
	default: break;
	}
	if (size)
		*size = H5Tget_size(t);
	H5Tclose(t);
	return k;
}

const char *h5_type_desc(hid_t dset)
{
	size_t sz;
	switch (h5_type_kind(dset, &sz)) {
	case H5T_K_INT: return sz == 1 ? "int8" : sz == 2 ? "int16" : sz == 4 ? "int32" : "int64";
	case H5T_K_UINT: return sz == 1 ? "uint8" : sz == 2 ? "uint16" : sz == 4 ? "uint32" : "uint64";
	case H5T_K_FLOAT: return sz == 2 ? "float16" : sz == 4 ? "float32" : "float64";
	case H5T_K_STR: return "string";
	case H5T_K_BOOL: return "bool";
	case H5T_K_REF: return "reference";
	}
	return "other";
}

int h5_dims(hid_t dset, int64_t *dims, int max)
{
	hid_t s = H5Dget_space(dset);
	int nd = H5Sget_simple_extent_ndims(s);
	hsize_t d[H5S_MAX_RANK];
	if (nd < 0 || nd > max)
		die("HDF5 dataset '%s': %d dimensions (at most %d expected)", h5_name(dset), nd, max);
	H5Sget_simple_extent_dims(s, d, NULL);
	for (int i = 0; i < nd; i++)
		dims[i] = (int64_t)d[i];
	H5Sclose(s);
	return nd;
}

void h5_read_block(hid_t dset, int64_t r0, int64_t nr, int64_t c0, int64_t nc, hid_t memtype,
		   void *buf)
{
	if (nr <= 0 || nc <= 0)
		return;
	hid_t fs = H5Dget_space(dset);
	int nd = H5Sget_simple_extent_ndims(fs);
	hsize_t start[2] = { (hsize_t)r0, (hsize_t)c0 }, count[2] = { (hsize_t)nr, (hsize_t)nc };
	if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
		die("HDF5 dataset '%s': rows %lld..%lld out of range", h5_name(dset), (long long)r0,
		    (long long)(r0 + nr));
	hid_t ms = H5Screate_simple(nd, count, NULL);
	if (H5Dread(dset, memtype, ms, fs, H5P_DEFAULT, buf) < 0)
		die("HDF5 dataset '%s': read failed (damaged file, or a type that does not convert)",
		    h5_name(dset));
	H5Sclose(ms);
	H5Sclose(fs);
}

void h5_read_rows(hid_t dset, int64_t off, int64_t n, hid_t memtype, void *buf)
{
	int64_t d[2] = { 0, 1 };
	int nd = h5_dims(dset, d, 2);
	if (nd == 1)
		/* a 1-D hyperslab: the second extent is ignored */
		h5_read_block(dset, off, n, 0, 1, memtype, buf);
	else
		h5_read_block(dset, off, n, 0, d[1], memtype, buf);
}

char **h5_read_strs(hid_t dset, int64_t *n)
{
	int64_t d[1];
	if (h5_dims(dset, d, 1) != 1)
		die("HDF5 dataset '%s': strings must be 1-D", h5_name(dset));
	hid_t t = H5Dget_type(dset);
	if (H5Tget_class(t) != H5T_STRING)
		die("HDF5 dataset '%s': %s, not strings", h5_name(dset), h5_type_desc(dset));
	char **v = read_strings(dset, 0, t, H5S_ALL, H5S_ALL, (size_t)d[0]);
	H5Tclose(t);
	*n = d[0];
	return v;
}

int64_t *h5_read_i64(hid_t dset, int64_t *n)
{
	int64_t d[1];
	if (h5_dims(dset, d, 1) != 1)
		die("HDF5 dataset '%s': expected 1-D", h5_name(dset));
	int k = h5_type_kind(dset, NULL);
	if (k != H5T_K_INT && k != H5T_K_UINT)
		die("HDF5 dataset '%s': %s, expected integers", h5_name(dset), h5_type_desc(dset));
	int64_t *v = xmallocarray((size_t)(d[0] ? d[0] : 1), sizeof *v);
	h5_read_rows(dset, 0, d[0], H5T_NATIVE_INT64, v);
	*n = d[0];
	return v;
}
