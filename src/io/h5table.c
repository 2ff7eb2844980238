/*
 * HDF5 tables of fixed-size rows (na64/io.h): one chunked, extendible, deflate-compressed 1-D
 * dataset of a compound type (HDF5 1.10 C API: H5Tcreate(H5T_COMPOUND), H5Dset_extent). Readable
 * with h5py as a structured NumPy array. Written to "<path>.tmp.<pid>" and renamed when complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "na64/io.h"

#define H5T_CHUNK 4096 /* rows per chunk and per buffered write */

struct na64_h5table {
  char path[1024], tmp[1100];
  hid_t file, dset, type;
  size_t row_size;
  unsigned char *buf;
  size_t nbuf;
  hsize_t nrows;
};

static hid_t native(na64_h5_type t)
{
  switch (t) {
  case NA64_H5_I32: return H5T_NATIVE_INT32;
  case NA64_H5_U64: return H5T_NATIVE_UINT64;
  default: return H5T_NATIVE_DOUBLE;
  }
}

static void release(na64_h5table *t)
{
  if (t->dset >= 0) H5Dclose(t->dset);
  if (t->type >= 0) H5Tclose(t->type);
  if (t->file >= 0) H5Fclose(t->file);
  t->dset = t->type = t->file = -1;
  free(t->buf);
  t->buf = NULL;
}

/* The exit handler's crash after a failed write: include/na64/io.h. A process-wide HDF5 setting, so it
 * is the program's call (src/cli/main.c), not something loading libna64 does to its host. */
void na64_h5table_exit_handler_disable(void) { H5dont_atexit(); }

void na64_h5table_abort(na64_h5table *t)
{
  if (!t) return;
  release(t);
  unlink(t->tmp);
  free(t);
}

static int fail(na64_h5table *t, na64_err *err, const char *what)
{
  int st = na64_err_set(err, NA64_EIO, "%s: HDF5 error while %s", t->path, what);
  na64_h5table_abort(t);
  return st;
}

int na64_h5table_create(const char *path, const char *dataset, size_t row_size, const na64_h5_field *fields,
                        int nfields, na64_h5table **out, na64_err *err)
{
  if (!path || !dataset || !fields || nfields < 1 || !out || row_size == 0)
    return na64_err_set(err, NA64_EINVAL, "na64_h5table_create: NULL or empty argument");
  *out = NULL;
  struct stat sb;
  if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
    return na64_err_set(err, NA64_EIO, "%s: exists and is not a regular file; refusing to replace it", path);
  if (strlen(path) >= sizeof((na64_h5table *)0)->path) return na64_err_set(err, NA64_EINVAL, "%s: path too long", path);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the library never prints: errors come back as codes */
  na64_h5table *t = calloc(1, sizeof *t);
  if (!t) return na64_err_set(err, NA64_ENOMEM, "h5 table: out of memory");
  t->file = t->dset = t->type = -1;
  snprintf(t->path, sizeof t->path, "%s", path);
  snprintf(t->tmp, sizeof t->tmp, "%s.tmp.%ld", path, (long)getpid());
  t->row_size = row_size;
  t->buf = malloc(row_size * H5T_CHUNK);
  if (!t->buf) {
    free(t);
    return na64_err_set(err, NA64_ENOMEM, "h5 table: out of memory");
  }
  t->file = H5Fcreate(t->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (t->file < 0) {
    int st = na64_err_set(err, NA64_EIO, "%s: cannot create the HDF5 file", t->tmp);
    na64_h5table_abort(t);
    return st;
  }
  t->type = H5Tcreate(H5T_COMPOUND, row_size);
  for (int i = 0; t->type >= 0 && i < nfields; ++i)
    if (H5Tinsert(t->type, fields[i].name, fields[i].offset, native(fields[i].type)) < 0) return fail(t, err, "building the row type");
  hsize_t dims = 0, maxd = H5S_UNLIMITED, chunk = H5T_CHUNK;
  hid_t space = H5Screate_simple(1, &dims, &maxd), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 && H5Pset_deflate(dcpl, 4) >= 0 && t->type >= 0)
    t->dset = H5Dcreate2(t->file, dataset, t->type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (space >= 0) H5Sclose(space);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (t->dset < 0) return fail(t, err, "creating the dataset");
  *out = t;
  return NA64_OK;
}

int na64_h5table_attr(na64_h5table *t, const char *name, const char *value, na64_err *err)
{
  if (!t || !name || !value) return na64_err_set(err, NA64_EINVAL, "na64_h5table_attr: NULL argument");
  hid_t st = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = -1;
  int ok = st >= 0 && sp >= 0 && H5Tset_size(st, strlen(value) + 1) >= 0;
  if (ok) a = H5Acreate2(t->dset, name, st, sp, H5P_DEFAULT, H5P_DEFAULT);
  ok = ok && a >= 0 && H5Awrite(a, st, value) >= 0;
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  if (st >= 0) H5Tclose(st);
  return ok ? NA64_OK : na64_err_set(err, NA64_EIO, "%s: cannot write attribute %s", t->path, name);
}

static int flush_rows(na64_h5table *t, na64_err *err)
{
  if (t->nbuf == 0) return NA64_OK;
  errno = 0; /* the message below names errno only if these calls set it (not an earlier, unrelated one) */
  hsize_t start = t->nrows, count = t->nbuf, total = t->nrows + t->nbuf;
  int ok = H5Dset_extent(t->dset, &total) >= 0;
  hid_t fs = ok ? H5Dget_space(t->dset) : -1, ms = H5Screate_simple(1, &count, NULL);
  ok = ok && fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
       H5Dwrite(t->dset, t->type, ms, fs, H5P_DEFAULT, t->buf) >= 0;
  if (fs >= 0) H5Sclose(fs);
  if (ms >= 0) H5Sclose(ms);
  if (!ok)
    return na64_err_set(err, NA64_EIO, "%s: cannot write rows %llu-%llu to its temporary file %s%s%s", t->path,
                        (unsigned long long)start, (unsigned long long)(total - 1), t->tmp, errno ? ": " : "",
                        errno ? strerror(errno) : "");
  t->nrows = total;
  t->nbuf = 0;
  return NA64_OK;
}

int na64_h5table_append(na64_h5table *t, const void *rows, size_t n, na64_err *err)
{
  if (!t || (!rows && n)) return na64_err_set(err, NA64_EINVAL, "na64_h5table_append: NULL argument");
  const unsigned char *r = rows;
  for (size_t i = 0; i < n; ++i) {
    memcpy(t->buf + t->nbuf * t->row_size, r + i * t->row_size, t->row_size);
    if (++t->nbuf == H5T_CHUNK) NA64_CALL(flush_rows(t, err));
  }
  return NA64_OK;
}

int na64_h5table_close(na64_h5table *t, na64_err *err)
{
  if (!t) return na64_err_set(err, NA64_EINVAL, "na64_h5table_close: NULL");
  int st = flush_rows(t, err);
  errno = 0;
  if (st == NA64_OK && H5Fflush(t->file, H5F_SCOPE_GLOBAL) < 0)
    st = na64_err_set(err, NA64_EIO, "%s: flush of its temporary file %s failed%s%s; old file kept", t->path, t->tmp,
                      errno ? ": " : "", errno ? strerror(errno) : "");
  hid_t f = t->file;
  t->file = -1;
  if (t->dset >= 0) H5Dclose(t->dset);
  if (t->type >= 0) H5Tclose(t->type);
  t->dset = t->type = -1;
  errno = 0;
  if (H5Fclose(f) < 0 && st == NA64_OK)
    st = na64_err_set(err, NA64_EIO, "%s: close of its temporary file %s failed%s%s; old file kept", t->path, t->tmp,
                      errno ? ": " : "", errno ? strerror(errno) : "");
  if (st == NA64_OK) { /* the data must be on disk before the name points at it */
    int fd = open(t->tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) st = na64_err_set(err, NA64_EIO, "%s: fsync failed: %s", t->tmp, strerror(errno));
    if (fd >= 0) close(fd);
  }
  if (st == NA64_OK && rename(t->tmp, t->path) != 0)
    st = na64_err_set(err, NA64_EIO, "%s: cannot rename to %s: %s", t->tmp, t->path, strerror(errno));
  if (st != NA64_OK) unlink(t->tmp);
  free(t->buf);
  free(t);
  return st;
}
