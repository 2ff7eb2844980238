/* HDF5 tables (io.h, used for the simulation truth): rows of a C struct read back with h5py as a
 * structured array, more rows than one chunk, the atomic replacement of an existing file, abort
 * leaving the target untouched, and refusal of targets that are not regular files. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "na64/io.h"
#include "support/na64_test.h"

typedef struct row {
  uint64_t id;
  int32_t kind;
  int32_t pad;
  double value;
} row;

static const na64_h5_field fields[] = {
    {"id", offsetof(row, id), NA64_H5_U64}, {"kind", offsetof(row, kind), NA64_H5_I32}, {"value", offsetof(row, value), NA64_H5_F64}};

static int write_rows(const char *path, size_t n, na64_err *err)
{
  na64_h5table *t = NULL;
  NA64_CALL(na64_h5table_create(path, "rows", sizeof(row), fields, 3, &t, err));
  NA64_CALL(na64_h5table_attr(t, "note", "written by test_h5table", err));
  for (size_t i = 0; i < n; ++i) {
    row r = {i, (int32_t)(i % 7), 0, 0.5 * (double)i};
    int st = na64_h5table_append(t, &r, 1, err);
    if (st) {
      na64_h5table_abort(t);
      return st;
    }
  }
  return na64_h5table_close(t, err);
}

static void test_roundtrip(void **state)
{
  (void)state;
  char path[512], cmd[1024];
  snprintf(path, sizeof path, "%s/rows.h5", na64_test_tmpdir);
  na64_err err = {0, ""};
  assert_int_equal(write_rows(path, 10000, &err), NA64_OK); /* > 2 chunks of 4096 */
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import h5py; f = h5py.File('%s'); d = f['rows'][:]; "
           "print(len(d), int(d['id'].sum()), int(d['kind'].sum()), float(d['value'][9999]), f['rows'].attrs['note'].decode())\"",
           path);
  char *out = NULL;
  assert_int_equal(na64_test_run(cmd, &out), 0);
  /* sum of 0..9999 = 49995000; kinds i % 7: 1428 full cycles (21 each) + 0..3 = 29994 */
  assert_string_equal(out, "10000 49995000 29994 4999.5 written by test_h5table\n");
  free(out);
  /* replacing an existing file: the new content, no temporary left behind */
  assert_int_equal(write_rows(path, 3, &err), NA64_OK);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import h5py; print(len(h5py.File('%s')['rows']))\"; ls %s | wc -l", path,
           na64_test_tmpdir);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_string_equal(out, "3\n1\n");
  free(out);
}

static void test_abort_and_refusals(void **state)
{
  (void)state;
  char path[512], link[512], fifo[512];
  snprintf(path, sizeof path, "%s/keep.h5", na64_test_tmpdir);
  na64_err err = {0, ""};
  assert_int_equal(write_rows(path, 5, &err), NA64_OK);
  struct stat before, after;
  assert_int_equal(stat(path, &before), 0);
  na64_h5table *t = NULL;
  assert_int_equal(na64_h5table_create(path, "rows", sizeof(row), fields, 3, &t, &err), NA64_OK);
  row r = {1, 2, 0, 3.0};
  assert_int_equal(na64_h5table_append(t, &r, 1, &err), NA64_OK);
  na64_h5table_abort(t); /* the old file stays as it was */
  assert_int_equal(stat(path, &after), 0);
  assert_true(before.st_ino == after.st_ino && before.st_size == after.st_size);
  snprintf(link, sizeof link, "%s/link.h5", na64_test_tmpdir);
  assert_int_equal(symlink(path, link), 0);
  assert_int_equal(na64_h5table_create(link, "rows", sizeof(row), fields, 3, &t, &err), NA64_EIO);
  assert_non_null(strstr(err.msg, "not a regular file"));
  snprintf(fifo, sizeof fifo, "%s/fifo.h5", na64_test_tmpdir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_int_equal(na64_h5table_create(fifo, "rows", sizeof(row), fields, 3, &t, &err), NA64_EIO);
  assert_int_equal(na64_h5table_create("/nonexistent-dir/x.h5", "rows", sizeof(row), fields, 3, &t, &err), NA64_EIO);
  assert_int_equal(na64_h5table_create(path, "rows", sizeof(row), NULL, 0, &t, &err), NA64_EINVAL);
  unlink(link);
  unlink(fifo);
  unlink(path);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_abort_and_refusals),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
