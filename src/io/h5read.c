/*
 * Reading HDF5 tables of fixed-size rows (na64/io.h): the counterpart of h5table.c. The file's
 * dataset is a 1-D array of a compound type; the caller's row struct is described by the same
 * na64_h5_field list the writer takes. Each field is looked up BY NAME in the file's compound
 * type (H5Tget_member_index) and its class checked (integer for I32/U64, float for F64); HDF5
 * then converts sizes and byte order while reading (HDF5 1.10 User's Guide, "Datatypes:
 * compound datatype conversion": members are matched by name). Rows are read in chunks through
 * a hyperslab of the file's dataspace.
 */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/io.h"

struct na64_h5reader {
  char path[1024], dataset[128];
  hid_t file, dset, mtype;
  size_t row_size;
  hsize_t nrows, next;
};

static hid_t native_of(na64_h5_type t)
{
  switch (t) {
  case NA64_H5_I32: return H5T_NATIVE_INT32;
  case NA64_H5_U64: return H5T_NATIVE_UINT64;
  default: return H5T_NATIVE_DOUBLE;
  }
}

static const char *class_name(H5T_class_t c)
{
  switch (c) {
  case H5T_INTEGER: return "integer";
  case H5T_FLOAT: return "float";
  case H5T_STRING: return "string";
  case H5T_COMPOUND: return "compound";
  case H5T_ARRAY: return "array";
  default: return "another type";
  }
}

void na64_h5reader_close(na64_h5reader *r)
{
  if (!r) return;
  if (r->mtype >= 0) H5Tclose(r->mtype);
  if (r->dset >= 0) H5Dclose(r->dset);
  if (r->file >= 0) H5Fclose(r->file);
  free(r);
}

/* Every requested field is a column of the file's compound type ftype, of the right class. */
static int check_columns(const na64_h5reader *r, hid_t ftype, const na64_h5_field *fields, int nfields, na64_err *err)
{
  for (int i = 0; i < nfields; ++i) {
    int idx = H5Tget_member_index(ftype, fields[i].name);
    if (idx < 0)
      return na64_err_set(err, NA64_EFORMAT, "%s: table '%s' has no column '%s'", r->path, r->dataset, fields[i].name);
    H5T_class_t want = fields[i].type == NA64_H5_F64 ? H5T_FLOAT : H5T_INTEGER;
    H5T_class_t got = H5Tget_member_class(ftype, (unsigned)idx);
    if (got != want)
      return na64_err_set(err, NA64_EFORMAT, "%s: column '%s' of table '%s' is %s, expected %s", r->path, fields[i].name,
                          r->dataset, class_name(got), class_name(want));
  }
  return NA64_OK;
}

/* The file's dataset: 1-D, compound; its row count. */
static int open_dataset(na64_h5reader *r, const na64_h5_field *fields, int nfields, na64_err *err)
{
  if (H5Lexists(r->file, r->dataset, H5P_DEFAULT) <= 0 || (r->dset = H5Dopen2(r->file, r->dataset, H5P_DEFAULT)) < 0)
    return na64_err_set(err, NA64_EFORMAT, "%s: no table '%s' in the file", r->path, r->dataset);
  hid_t ftype = H5Dget_type(r->dset), space = H5Dget_space(r->dset);
  int st = NA64_OK;
  if (ftype < 0 || space < 0 || H5Tget_class(ftype) != H5T_COMPOUND || H5Sget_simple_extent_ndims(space) != 1)
    st = na64_err_set(err, NA64_EFORMAT, "%s: '%s' is not a table (a one-dimensional dataset of rows with named columns)",
                      r->path, r->dataset);
  if (st == NA64_OK) st = check_columns(r, ftype, fields, nfields, err);
  if (st == NA64_OK) H5Sget_simple_extent_dims(space, &r->nrows, NULL);
  if (ftype >= 0) H5Tclose(ftype);
  if (space >= 0) H5Sclose(space);
  return st;
}

int na64_h5reader_open(const char *path, const char *dataset, size_t row_size, const na64_h5_field *fields, int nfields,
                       na64_h5reader **out, na64_err *err)
{
  if (!path || !dataset || !fields || nfields < 1 || !out || row_size == 0)
    return na64_err_set(err, NA64_EINVAL, "na64_h5reader_open: NULL or empty argument");
  *out = NULL;
  if (strlen(path) >= sizeof((na64_h5reader *)0)->path || strlen(dataset) >= sizeof((na64_h5reader *)0)->dataset)
    return na64_err_set(err, NA64_EINVAL, "%s: path or table name too long", path);
  for (int i = 0; i < nfields; ++i)
    if (!fields[i].name || fields[i].offset + (fields[i].type == NA64_H5_I32 ? 4 : 8) > row_size)
      return na64_err_set(err, NA64_EINVAL, "na64_h5reader_open: field %d lies outside the row", i);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the library never prints: errors come back as codes */
  na64_h5reader *r = calloc(1, sizeof *r);
  if (!r) return na64_err_set(err, NA64_ENOMEM, "h5 reader: out of memory");
  r->file = r->dset = r->mtype = -1;
  snprintf(r->path, sizeof r->path, "%s", path);
  snprintf(r->dataset, sizeof r->dataset, "%s", dataset);
  r->row_size = row_size;
  FILE *probe = fopen(path, "rb");
  int st = NA64_OK;
  if (!probe) st = na64_err_set(err, NA64_EIO, "%s: cannot open: %s", path, strerror(errno));
  else fclose(probe);
  if (st == NA64_OK && (H5Fis_hdf5(path) <= 0 || (r->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0))
    st = na64_err_set(err, NA64_EFORMAT, "%s: not an HDF5 file", path);
  if (st == NA64_OK) st = open_dataset(r, fields, nfields, err);
  if (st == NA64_OK) { /* the memory type: only the requested members, at the caller's offsets */
    r->mtype = H5Tcreate(H5T_COMPOUND, row_size);
    for (int i = 0; r->mtype >= 0 && i < nfields; ++i)
      if (H5Tinsert(r->mtype, fields[i].name, fields[i].offset, native_of(fields[i].type)) < 0) {
        H5Tclose(r->mtype);
        r->mtype = -1;
      }
    if (r->mtype < 0) st = na64_err_set(err, NA64_EINVAL, "%s: cannot build the row type (duplicate field names?)", path);
  }
  if (st != NA64_OK) {
    na64_h5reader_close(r);
    return st;
  }
  *out = r;
  return NA64_OK;
}

uint64_t na64_h5reader_nrows(const na64_h5reader *r) { return r ? (uint64_t)r->nrows : 0; }

int na64_h5reader_read(na64_h5reader *r, void *rows, size_t max, size_t *n, na64_err *err)
{
  if (!r || !rows || !n) return na64_err_set(err, NA64_EINVAL, "na64_h5reader_read: NULL argument");
  *n = 0;
  hsize_t start = r->next, count = r->nrows - r->next;
  if (count > max) count = max;
  if (count == 0) return NA64_OK;
  memset(rows, 0, (size_t)count * r->row_size); /* members not requested read as 0 */
  hid_t fs = H5Dget_space(r->dset), ms = H5Screate_simple(1, &count, NULL);
  int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
           H5Dread(r->dset, r->mtype, ms, fs, H5P_DEFAULT, rows) >= 0;
  if (fs >= 0) H5Sclose(fs);
  if (ms >= 0) H5Sclose(ms);
  if (!ok)
    return na64_err_set(err, NA64_EIO, "%s: cannot read rows %llu-%llu of table '%s'", r->path, (unsigned long long)start,
                        (unsigned long long)(start + count - 1), r->dataset);
  r->next += count;
  *n = (size_t)count;
  return NA64_OK;
}

int na64_h5reader_seek(na64_h5reader *r, uint64_t row, na64_err *err)
{
  if (!r) return na64_err_set(err, NA64_EINVAL, "na64_h5reader_seek: NULL reader");
  if (row > r->nrows)
    return na64_err_set(err, NA64_EINVAL, "%s: row %llu beyond the %llu rows of table '%s'", r->path, (unsigned long long)row,
                        (unsigned long long)r->nrows, r->dataset);
  r->next = (hsize_t)row;
  return NA64_OK;
}

int na64_h5reader_attr(const na64_h5reader *r, const char *name, char *buf, size_t len, na64_err *err)
{
  if (!r || !name || !buf || len == 0) return na64_err_set(err, NA64_EINVAL, "na64_h5reader_attr: NULL argument");
  buf[0] = '\0';
  if (H5Aexists(r->dset, name) <= 0)
    return na64_err_set(err, NA64_ENOTFOUND, "%s: table '%s' has no attribute '%s'", r->path, r->dataset, name);
  hid_t a = H5Aopen(r->dset, name, H5P_DEFAULT), ft = a >= 0 ? H5Aget_type(a) : -1, mt = -1;
  int st = NA64_OK;
  size_t size = ft >= 0 && H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft) ? H5Tget_size(ft) : 0;
  char *tmp = size ? calloc(1, size + 1) : NULL;
  if (!tmp) st = na64_err_set(err, NA64_EFORMAT, "%s: attribute '%s' of table '%s' is not a fixed-length string", r->path, name,
                              r->dataset);
  if (st == NA64_OK) {
    mt = H5Tcopy(H5T_C_S1);
    if (mt < 0 || H5Tset_size(mt, size) < 0 || H5Aread(a, mt, tmp) < 0)
      st = na64_err_set(err, NA64_EIO, "%s: cannot read attribute '%s'", r->path, name);
  }
  if (st == NA64_OK) {
    if (strlen(tmp) >= len) st = na64_err_set(err, NA64_ERANGE, "%s: attribute '%s' longer than %zu bytes", r->path, name, len - 1);
    else memcpy(buf, tmp, strlen(tmp) + 1);
  }
  free(tmp);
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (a >= 0) H5Aclose(a);
  return st;
}
