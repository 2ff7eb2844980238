/* The HDF5 table reader (src/io/h5read.c) against the writer (src/io/h5table.c): rows read back in
 * chunks across the writer's 4096-row chunks, columns matched by name (a reader struct in another
 * order and a subset of the columns), errors naming the file, table and column; and the
 * untriggered-event attributes of the events table (src/reco/reco_events.c) read back bit for bit. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/io.h"
#include "na64/reco.h"
#include "support/na64_test.h"

typedef struct wrow {
  int32_t id;
  uint64_t big;
  double x;
} wrow;

typedef struct rrow { /* another layout, a subset: the reader matches names */
  double x;
  int32_t id;
} rrow;

static const na64_h5_field wfields[] = {
    {"id", offsetof(wrow, id), NA64_H5_I32}, {"big", offsetof(wrow, big), NA64_H5_U64}, {"x", offsetof(wrow, x), NA64_H5_F64}};

enum { NROWS = 5000 };

static void path_of(char *buf, size_t len, const char *name) { snprintf(buf, len, "%s/%s", na64_test_tmpdir, name); }

static void write_table(const char *path, int nrows, const na64_reco_untriggered *u)
{
  na64_err err = {0};
  na64_h5table *t = NULL;
  assert_int_equal(na64_h5table_create(path, "events", sizeof(wrow), wfields, 3, &t, &err), NA64_OK);
  for (int i = 0; i < nrows; ++i) {
    wrow r = {i, (uint64_t)i << 40, 0.5 * i - 3.25};
    assert_int_equal(na64_h5table_append(t, &r, 1, &err), NA64_OK);
  }
  assert_int_equal(na64_h5table_attr(t, "note", "hello", &err), NA64_OK);
  if (u) assert_int_equal(na64_reco_untriggered_write(t, u, &err), NA64_OK);
  assert_int_equal(na64_h5table_close(t, &err), NA64_OK);
}

static void test_rows_by_name(void **state)
{
  (void)state;
  char path[512];
  path_of(path, sizeof path, "rows.h5");
  write_table(path, NROWS, NULL);
  const na64_h5_field rf[] = {{"x", offsetof(rrow, x), NA64_H5_F64}, {"id", offsetof(rrow, id), NA64_H5_I32}};
  na64_err err = {0};
  na64_h5reader *r = NULL;
  assert_int_equal(na64_h5reader_open(path, "events", sizeof(rrow), rf, 2, &r, &err), NA64_OK);
  assert_int_equal(na64_h5reader_nrows(r), NROWS);
  rrow buf[1000];
  size_t n = 0, total = 0;
  while (na64_h5reader_read(r, buf, 1000, &n, &err) == NA64_OK && n > 0) {
    for (size_t i = 0; i < n; ++i) {
      assert_int_equal(buf[i].id, (int)(total + i));
      assert_true(buf[i].x == 0.5 * (double)(total + i) - 3.25); /* exact: binary fractions */
    }
    total += n;
  }
  assert_int_equal(total, NROWS);
  char text[32];
  assert_int_equal(na64_h5reader_attr(r, "note", text, sizeof text, &err), NA64_OK);
  assert_string_equal(text, "hello");
  assert_int_equal(na64_h5reader_attr(r, "absent", text, sizeof text, &err), NA64_ENOTFOUND);
  assert_int_equal(na64_h5reader_attr(r, "note", text, 3, &err), NA64_ERANGE); /* too long for the buffer */
  na64_h5reader_close(r);
}

static void expect_error(const char *path, const char *table, const na64_h5_field *f, int nf, int code, const char *words)
{
  na64_err err = {0};
  na64_h5reader *r = NULL;
  assert_int_equal(na64_h5reader_open(path, table, sizeof(wrow), f, nf, &r, &err), code);
  assert_null(r);
  if (!strstr(err.msg, words) || !strstr(err.msg, path)) fail_msg("message '%s' should name '%s' and the file", err.msg, words);
}

static void test_errors(void **state)
{
  (void)state;
  char path[512], missing[512], text[512];
  path_of(path, sizeof path, "rows.h5");
  path_of(missing, sizeof missing, "missing.h5");
  path_of(text, sizeof text, "text.h5");
  FILE *f = fopen(text, "w");
  fputs("not hdf5\n", f);
  fclose(f);
  expect_error(missing, "events", wfields, 3, NA64_EIO, "cannot open");
  expect_error(text, "events", wfields, 3, NA64_EFORMAT, "not an HDF5 file");
  expect_error(path, "truth", wfields, 3, NA64_EFORMAT, "no table 'truth'");
  const na64_h5_field nocol[] = {{"weight", 0, NA64_H5_F64}};
  expect_error(path, "events", nocol, 1, NA64_EFORMAT, "no column 'weight'");
  const na64_h5_field wrongtype[] = {{"id", 0, NA64_H5_F64}};
  expect_error(path, "events", wrongtype, 1, NA64_EFORMAT, "column 'id' of table 'events' is integer, expected float");
  const na64_h5_field outside[] = {{"x", sizeof(wrow), NA64_H5_F64}};
  na64_err err = {0};
  na64_h5reader *r = NULL;
  assert_int_equal(na64_h5reader_open(path, "events", sizeof(wrow), outside, 1, &r, &err), NA64_EINVAL);
}

static void test_untriggered_roundtrip(void **state)
{
  (void)state;
  na64_reco_untriggered u;
  na64_reco_untriggered_init(&u);
  u.eot = 123456;
  double wbkg = (1.0 - 5.07537e-11) / (1.0 - 5.07537e-3); /* a weight with a full 53-bit mantissa */
  for (int i = 0; i < 1000; ++i) na64_reco_untriggered_add(&u, 0, i % 3 ? wbkg : 1.0);
  for (int i = 0; i < 40; ++i) na64_reco_untriggered_add(&u, 1, 1e-8 * (1 + i)); /* more than 16 distinct weights */
  assert_int_equal(u.nw[0], 2);
  assert_int_equal(u.nw[1], NA64_RECO_UNTRIG_WEIGHTS);
  assert_int_equal(u.extra_n[1], 40 - NA64_RECO_UNTRIG_WEIGHTS);
  char path[512];
  path_of(path, sizeof path, "untrig.h5");
  write_table(path, 3, &u);
  const na64_h5_field rf[] = {{"id", 0, NA64_H5_I32}};
  na64_err err = {0};
  na64_h5reader *r = NULL;
  assert_int_equal(na64_h5reader_open(path, "events", sizeof(wrow), rf, 1, &r, &err), NA64_OK);
  na64_reco_untriggered v;
  assert_int_equal(na64_reco_untriggered_read(r, &v, &err), NA64_OK);
  na64_h5reader_close(r);
  assert_true(v.eot == 123456);
  assert_int_equal(na64_reco_untriggered_events(&v, 0), 1000);
  assert_int_equal(na64_reco_untriggered_events(&v, 1), 40);
  for (int k = 0; k < 2; ++k) { /* the weights bit for bit */
    assert_true(v.w[0][k] == u.w[0][k]);
    assert_int_equal(v.count[0][k], u.count[0][k]);
  }
  /* the 24 weights beyond the 16 distinct ones: one item, their mean */
  double mean = 0;
  for (int i = NA64_RECO_UNTRIG_WEIGHTS; i < 40; ++i) mean += 1e-8 * (1 + i);
  mean /= 40 - NA64_RECO_UNTRIG_WEIGHTS;
  assert_int_equal(v.nw[1], NA64_RECO_UNTRIG_WEIGHTS + 1);
  assert_true(v.w[1][NA64_RECO_UNTRIG_WEIGHTS - 1] == u.w[1][NA64_RECO_UNTRIG_WEIGHTS - 1]);
  assert_rel(v.w[1][NA64_RECO_UNTRIG_WEIGHTS], mean, 1e-15); /* summed in another order: rounding only */
  assert_int_equal(v.count[1][NA64_RECO_UNTRIG_WEIGHTS], 40 - NA64_RECO_UNTRIG_WEIGHTS);
  /* a table without the attributes (data): EOT NaN, no untriggered events */
  path_of(path, sizeof path, "rows.h5");
  assert_int_equal(na64_h5reader_open(path, "events", sizeof(wrow), rf, 1, &r, &err), NA64_OK);
  assert_int_equal(na64_reco_untriggered_read(r, &v, &err), NA64_OK);
  na64_h5reader_close(r);
  assert_true(isnan(v.eot));
  assert_int_equal(na64_reco_untriggered_events(&v, 0) + na64_reco_untriggered_events(&v, 1), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rows_by_name),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_untriggered_roundtrip),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
