/* Conditions database: schema migration, IOV look-ups at boundaries, export/import round trip,
 * malformed imports rejected whole with their line, WAL reader/writer concurrency, validation on
 * load and of new calibrations. The default database (built from sql/ at build time) is only read;
 * every test that writes works on its own copy in a temporary directory. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "na64/cond.h"
#include "na64/geom.h"
#include "support/na64_test.h"

#define DEFAULT_DB NA64_BINARY_DIR "/conditions.db"

#define tmpdir na64_test_tmpdir

static void tmp_path(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmpdir, name); }

static void copy_file(const char *from, const char *to) { na64_test_copy_file(from, to); }

/* A private read-write copy of the default database. */
static na64_cond *open_copy(const char *name)
{
  char path[320];
  tmp_path(path, sizeof path, name);
  copy_file(DEFAULT_DB, path);
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  int st = na64_cond_open(path, NA64_COND_READWRITE, &db, &err);
  if (st != NA64_OK) fail_msg("%s", err.msg);
  return db;
}

static char *export_string(na64_cond *db)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  na64_err err = {0, ""};
  int st = na64_cond_export(db, f, &err);
  fclose(f);
  if (st != NA64_OK) fail_msg("%s", err.msg);
  return buf;
}

static void expect_ok(int st, const na64_err *err)
{
  if (st != NA64_OK) fail_msg("unexpected error %d: %s", st, err->msg);
}

static void expect_msg(const na64_err *err, const char *needle)
{
  if (!strstr(err->msg, needle)) fail_msg("message '%s' does not contain '%s'", err->msg, needle);
}

/* ---- the default database ---- */

static void test_default_database(void **state)
{
  (void)state;
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  expect_ok(na64_cond_open(DEFAULT_DB, NA64_COND_READONLY, &db, &err), &err);
  int v = 0;
  expect_ok(na64_cond_user_version(db, &v, &err), &err);
  assert_int_equal(v, na64_cond_schema_version());
  assert_true(na64_cond_schema_version() >= 3);
  expect_ok(na64_cond_validate(db, &err), &err);
  /* published EOT (refdata): invisible 2016-2018 total 2.84e11, visible 2017+2018 8.4e10 */
  na64_cond_records *r = NULL;
  expect_ok(na64_cond_fetch(db, NA64_COND_ALL_RUNS, &r, &err), &err);
  double inv = 0, vis = 0;
  for (size_t i = 0; i < r->nruns; ++i) {
    if (!strcmp(r->runs[i].mode, "invisible")) inv += r->runs[i].eot;
    else vis += r->runs[i].eot;
  }
  assert_rel(inv, 2.84e11, 1e-9);
  assert_rel(vis, 8.4e10, 1e-9);
  assert_true(r->nchannels > 5000);
  na64_cond_records_free(r);
  /* a read-only handle cannot write */
  assert_int_equal(na64_cond_import(db, "", 0, "empty", &err), NA64_EINVAL);
  na64_cond_close(db);
}

static void test_default_path(void **state)
{
  (void)state;
  char buf[4096];
  setenv(NA64_COND_ENV, "/some/where/else.db", 1);
  assert_int_equal(na64_cond_default_path(buf, sizeof buf), NA64_OK);
  assert_string_equal(buf, "/some/where/else.db");
  assert_int_equal(na64_cond_default_path(buf, 5), NA64_ERANGE);
  unsetenv(NA64_COND_ENV);
  /* next to the test program (the build tree): the database built from sql/ */
  assert_int_equal(na64_cond_default_path(buf, sizeof buf), NA64_OK);
  struct stat a, b;
  assert_int_equal(stat(buf, &a), 0);
  assert_int_equal(stat(DEFAULT_DB, &b), 0);
  assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  expect_ok(na64_cond_open(NULL, NA64_COND_READONLY, &db, &err), &err);
  na64_cond_close(db);
  /* the build tree's database path is not compiled into the library (issue 8, item 6): the build
   * tree is found at run time, next to the library, so an installed copy never looks there */
  FILE *lib = fopen(NA64_BINARY_DIR "/libna64.so", "rb");
  if (!lib) return; /* static build */
  static char bytes[1 << 24];
  size_t n = fread(bytes, 1, sizeof bytes, lib);
  fclose(lib);
  const char *needle = NA64_BINARY_DIR "/conditions.db";
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; ++i)
    if (bytes[i] == needle[0] && !memcmp(bytes + i, needle, k)) fail_msg("libna64.so contains '%s'", needle);
}

/* ---- opening: bad files, versions, migration ---- */

static void test_open_errors(void **state)
{
  (void)state;
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  char path[320];
  tmp_path(path, sizeof path, "missing.db");
  assert_int_equal(na64_cond_open(path, NA64_COND_READONLY, &db, &err), NA64_EIO);
  expect_msg(&err, "missing.db");
  assert_null(db);
  /* a text file is not a database */
  tmp_path(path, sizeof path, "text.db");
  FILE *f = fopen(path, "w");
  fputs("this is not SQLite\n", f);
  fclose(f);
  assert_int_equal(na64_cond_open(path, NA64_COND_READONLY, &db, &err), NA64_EFORMAT);
  expect_msg(&err, "not a conditions database");
  /* a foreign SQLite file (tables, no application id) is refused, even read-write */
  tmp_path(path, sizeof path, "foreign.db");
  expect_ok(na64_cond_open(path, NA64_COND_CREATE | NA64_COND_NO_MIGRATE, &db, &err), &err);
  expect_ok(na64_cond_exec(db, "CREATE TABLE foo (x INTEGER);", &err), &err);
  na64_cond_close(db);
  assert_int_equal(na64_cond_open(path, NA64_COND_READWRITE, &db, &err), NA64_EFORMAT);
  expect_msg(&err, "not a conditions database");
  /* a schema newer than the library */
  tmp_path(path, sizeof path, "newer.db");
  expect_ok(na64_cond_open(path, NA64_COND_CREATE, &db, &err), &err);
  expect_ok(na64_cond_exec(db, "PRAGMA user_version = 99;", &err), &err);
  na64_cond_close(db);
  assert_int_equal(na64_cond_open(path, NA64_COND_READWRITE, &db, &err), NA64_EFORMAT);
  expect_msg(&err, "schema version 99 is newer");
}

/* A file at schema version 1 (geometry only, run_info without eot) is upgraded in place when opened
 * read-write; its records survive and the tables of versions 2 and 3 become usable. */
static void test_migration_from_v1(void **state)
{
  (void)state;
  char path[320];
  tmp_path(path, sizeof path, "v1.db");
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  expect_ok(na64_cond_open(path, NA64_COND_CREATE | NA64_COND_NO_MIGRATE, &db, &err), &err);
  expect_ok(na64_cond_migrate(db, 1, &err), &err);
  int v = 0;
  expect_ok(na64_cond_user_version(db, &v, &err), &err);
  assert_int_equal(v, 1);
  /* version 1 has no eot column and no calibration tables */
  assert_int_equal(na64_cond_exec(db, "INSERT INTO run_info (first_run, setup, mode, beam_particle, beam_energy, eot) "
                                      "VALUES (1, 's', 'visible', 'e-', 100.0, 1e9);",
                                  &err),
                   NA64_EFORMAT);
  expect_msg(&err, "eot");
  assert_int_equal(na64_cond_exec(db, "INSERT INTO straw_t0 (first_run, plane, wire, t0) VALUES (1, 'X', 0, 1.0);", &err),
                   NA64_EFORMAT);
  expect_msg(&err, "no such table");
  expect_ok(na64_cond_exec(db,
                           "INSERT INTO run_info (first_run, last_run, setup, mode, year, beam_particle, beam_energy) "
                           "VALUES (100, 199, 'old', 'invisible', 2015, 'e-', 100.0);\n"
                           "INSERT INTO materials (first_run, name, density, x0, lambda_i) VALUES (0, 'Sc', 1.06, 41.31, 77.07);\n"
                           "INSERT INTO detectors (first_run, last_run, setup, name, kind, x, y, z, size_x, size_y, size_z) "
                           "VALUES (100, 199, 'old', 'S0', 'counter', 0, 0, 0, 4, 4, 0.5);\n"
                           "INSERT INTO calo_sections (first_run, last_run, setup, detector, section, name, z_offset, "
                           "length, nlayers, absorber_thickness, active, active_thickness) "
                           "VALUES (100, 199, 'old', 'S0', 0, 'S0', 0, 0.5, 1, 0, 'Sc', 0.5);\n"
                           "INSERT INTO calo_cells (first_run, last_run, setup, detector, module, ix, iy, x, y, z, "
                           "size_x, size_y, size_z) VALUES (100, 199, 'old', 'S0', 0, 0, 0, 0, 0, 0, 4, 4, 0.5);\n",
                           &err),
            &err);
  na64_cond_close(db);

  /* read-only: refused with the way out */
  assert_int_equal(na64_cond_open(path, NA64_COND_READONLY, &db, &err), NA64_EFORMAT);
  expect_msg(&err, "schema version 1 is older");
  expect_msg(&err, "migrate");
  /* read-write: upgraded in place */
  expect_ok(na64_cond_open(path, NA64_COND_READWRITE, &db, &err), &err);
  expect_ok(na64_cond_user_version(db, &v, &err), &err);
  assert_int_equal(v, na64_cond_schema_version());
  na64_cond_run_info ri;
  expect_ok(na64_cond_get_run_info(db, 150, &ri, &err), &err);
  assert_string_equal(ri.iov.setup, "old");
  assert_int_equal(ri.year, 2015);
  assert_true(isnan(ri.eot)); /* the column added by migration 3 is NULL for old rows */
  na64_geom *g = NULL;
  expect_ok(na64_geom_load(db, 150, &g, &err), &err);
  assert_int_equal(g->ndetectors, 1);
  assert_non_null(na64_geom_find_cell(g, "S0", 0, 0, 0));
  na64_geom_free(g);
  /* tables of migration 2 work: a calibration of the old counter */
  na64_cond_calo_calib k = {.detector = "S0", .module = 0, .ix = 0, .iy = 0, .section = 0, .gain = 1e-5,
                            .ped_even = 100, .ped_odd = 101};
  expect_ok(na64_cond_insert_calo_calib(db, 100, 199, 1, &k, "after migration", &err), &err);
  expect_ok(na64_geom_load(db, 150, &g, &err), &err);
  const na64_geom_cell *c = na64_geom_find_cell(g, "S0", 0, 0, 0);
  assert_true(c->has_calib[0]);
  assert_rel(c->ped_odd[0], 101.0, 0);
  na64_geom_free(g);
  na64_cond_close(db);
  /* and now read-only is fine */
  expect_ok(na64_cond_open(path, NA64_COND_READONLY, &db, &err), &err);
  na64_cond_close(db);
}

/* ---- IOV ---- */

static void check_run(na64_cond *db, int run, int expect_status, const char *setup, const char *mode, double energy,
                       int year)
{
  na64_cond_run_info ri;
  na64_err err = {0, ""};
  int st = na64_cond_get_run_info(db, run, &ri, &err);
  if (st != expect_status) fail_msg("run %d: status %d (%s), expected %d", run, st, err.msg, expect_status);
  if (st != NA64_OK) {
    expect_msg(&err, "no run_info record covers run");
    return;
  }
  assert_string_equal(ri.iov.setup, setup);
  assert_string_equal(ri.mode, mode);
  assert_rel(ri.beam_energy, energy, 0);
  assert_int_equal(ri.year, year);
}

/* Run ranges of sql/setups/02_runs.sql at each boundary, both sides. */
static void test_iov_run_boundaries(void **state)
{
  (void)state;
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  expect_ok(na64_cond_open(DEFAULT_DB, NA64_COND_READONLY, &db, &err), &err);
  check_run(db, 999, NA64_ENOTFOUND, NULL, NULL, 0, 0);
  check_run(db, 1000, NA64_OK, "invisible_2016_2018", "invisible", 100, 2016);
  check_run(db, 2399, NA64_OK, "invisible_2016_2018", "invisible", 100, 2016);
  check_run(db, 2400, NA64_OK, "invisible_2016_2018", "invisible", 100, 2017);
  check_run(db, 2799, NA64_OK, "invisible_2016_2018", "invisible", 100, 2017);
  check_run(db, 2800, NA64_OK, "visible_2017", "visible", 100, 2017);
  check_run(db, 3199, NA64_OK, "visible_2017", "visible", 100, 2017);
  check_run(db, 3200, NA64_OK, "invisible_2016_2018", "invisible", 100, 2018);
  check_run(db, 4223, NA64_OK, "invisible_2016_2018", "invisible", 100, 2018);
  check_run(db, 4224, NA64_OK, "visible_2018", "visible", 150, 2018);
  check_run(db, 4309, NA64_OK, "visible_2018", "visible", 150, 2018);
  check_run(db, 4310, NA64_ENOTFOUND, NULL, NULL, 0, 0);
  /* geometry switches with the setup although the invisible records' IOV (1000-4223) spans 2800 */
  na64_geom *g = NULL;
  expect_ok(na64_geom_load(db, 2799, &g, &err), &err);
  assert_null(na64_geom_find_detector(g, "WCAL"));
  na64_geom_free(g);
  expect_ok(na64_geom_load(db, 2800, &g, &err), &err);
  assert_non_null(na64_geom_find_detector(g, "WCAL"));
  assert_non_null(na64_geom_find_detector(g, "MM01")); /* beam line records: setup NULL */
  na64_geom_free(g);
  na64_cond_close(db);
}

static double t0_of(na64_cond *db, int run, const char *plane, int wire)
{
  na64_geom *g = NULL;
  na64_err err = {0, ""};
  expect_ok(na64_geom_load(db, run, &g, &err), &err);
  const na64_geom_plane *p = na64_geom_find_plane(g, plane);
  assert_non_null(p);
  double v = p->t0[wire];
  na64_geom_free(g);
  return v;
}

/* New calibrations override older ones exactly inside their IOV (highest id wins). */
static void test_iov_calibration_override(void **state)
{
  (void)state;
  na64_cond *db = open_copy("override.db");
  na64_err err = {0, ""};
  double t0[64], t[3] = {0, 40, 95}, r[3] = {0, 0.15, 0.3};
  for (int w = 0; w < 64; ++w) t0[w] = 55.0;
  expect_ok(na64_cond_insert_straw_calib(db, 4230, 4250, "ST01X", 64, t0, 3, t, r, 0.015, "test", &err), &err);
  const double nominal = 40.0 + 0.5 * ((5 / 8) % 4); /* wire 5, sql/setups nominal t0 */
  assert_rel(t0_of(db, 4229, "ST01X", 5), nominal, 0);
  assert_rel(t0_of(db, 4230, "ST01X", 5), 55.0, 0);
  assert_rel(t0_of(db, 4250, "ST01X", 5), 55.0, 0);
  assert_rel(t0_of(db, 4251, "ST01X", 5), nominal, 0);
  /* open-ended IOV */
  for (int w = 0; w < 64; ++w) t0[w] = 60.0;
  expect_ok(na64_cond_insert_straw_calib(db, 4300, NA64_COND_RUN_OPEN, "ST01X", 64, t0, 0, NULL, NULL, 0, NULL, &err),
            &err);
  assert_rel(t0_of(db, 4299, "ST01X", 5), nominal, 0);
  assert_rel(t0_of(db, 4309, "ST01X", 5), 60.0, 0);
  /* a one-run IOV inside it, and only some wires (NaN = no record) */
  for (int w = 0; w < 64; ++w) t0[w] = (w == 5) ? 70.0 : NAN;
  expect_ok(na64_cond_insert_straw_calib(db, 4305, 4305, "ST01X", 64, t0, 0, NULL, NULL, 0, NULL, &err), &err);
  assert_rel(t0_of(db, 4304, "ST01X", 5), 60.0, 0);
  assert_rel(t0_of(db, 4305, "ST01X", 5), 70.0, 0);
  assert_rel(t0_of(db, 4305, "ST01X", 6), 60.0, 0);
  assert_rel(t0_of(db, 4306, "ST01X", 5), 60.0, 0);
  /* the r(t) of the first insert is used inside its IOV only */
  na64_geom *g = NULL;
  expect_ok(na64_geom_load(db, 4240, &g, &err), &err);
  const na64_geom_plane *p = na64_geom_find_plane(g, "ST01X");
  assert_int_equal(p->rt_n, 3);
  assert_rel(p->sigma_r, 0.015, 0);
  assert_rel(na64_geom_drift_radius(p, 40.0), 0.15, 1e-12);
  na64_geom_free(g);
  expect_ok(na64_geom_load(db, 4251, &g, &err), &err);
  assert_int_equal(na64_geom_find_plane(g, "ST01X")->rt_n, 11);
  na64_geom_free(g);
  na64_cond_close(db);
}

/* ---- export / import ---- */

static int count_lines_starting(const char *text, const char *prefix)
{
  int n = 0;
  size_t lp = strlen(prefix);
  for (const char *p = text; p && *p;) {
    if (!strncmp(p, prefix, lp)) ++n;
    p = strchr(p, '\n');
    if (p) ++p;
  }
  return n;
}

static void test_export_import_roundtrip(void **state)
{
  (void)state;
  na64_cond *src = NULL, *dst = NULL;
  na64_err err = {0, ""};
  expect_ok(na64_cond_open(DEFAULT_DB, NA64_COND_READONLY, &src, &err), &err);
  char *a = export_string(src);
  na64_cond_records *r = NULL;
  expect_ok(na64_cond_fetch(src, NA64_COND_ALL_RUNS, &r, &err), &err);
  size_t rows = r->nruns + r->nmaterials + r->ndetectors + r->nplanes + r->nstraw_layers + r->nstraw_wires +
                r->ncalo_sections + r->ncalo_cells + r->nmagnets + r->nchannels + r->nstraw_t0 + r->nstraw_rt +
                r->ncalo_calib + r->nmon_bands + r->nstrip_res;
  na64_cond_records_free(r);
  assert_int_equal(count_lines_starting(a, "INSERT INTO "), (int)rows);

  char path[320];
  tmp_path(path, sizeof path, "roundtrip.db");
  expect_ok(na64_cond_open(path, NA64_COND_CREATE, &dst, &err), &err);
  expect_ok(na64_cond_import(dst, a, strlen(a), "export.sql", &err), &err);
  char *b = export_string(dst);
  assert_string_equal(a, b); /* same records, same ids, reals bit for bit (17 digits) */
  /* the re-imported database gives the same geometry */
  na64_geom *g1 = NULL, *g2 = NULL;
  expect_ok(na64_geom_load(src, 4250, &g1, &err), &err);
  expect_ok(na64_geom_load(dst, 4250, &g2, &err), &err);
  assert_int_equal(g1->nplanes, g2->nplanes);
  assert_int_equal(g1->ncells, g2->ncells);
  for (int i = 0; i < g1->nplanes; ++i)
    for (int w = 0; w < g1->planes[i].nwires; ++w)
      assert_memory_equal(g1->planes[i].wires[w].pos, g2->planes[i].wires[w].pos, sizeof(double[3]));
  na64_geom_free(g1);
  na64_geom_free(g2);
  /* importing the same export again collides with the existing ids: rejected whole */
  assert_int_equal(na64_cond_import(dst, a, strlen(a), "again.sql", &err), NA64_EFORMAT);
  expect_msg(&err, "UNIQUE constraint failed");
  char *c = export_string(dst);
  assert_string_equal(a, c);
  free(a);
  free(b);
  free(c);
  na64_cond_close(src);
  na64_cond_close(dst);
  /* export to a file goes through a temporary name: no .tmp left behind */
  expect_ok(na64_cond_open(DEFAULT_DB, NA64_COND_READONLY, &src, &err), &err);
  tmp_path(path, sizeof path, "dump.sql");
  expect_ok(na64_cond_export_file(src, path, &err), &err);
  char tmp[340];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_int_not_equal(access(path, R_OK), -1);
  assert_int_equal(access(tmp, F_OK), -1);
  na64_cond_close(src);
}

typedef struct bad_import {
  const char *what;
  const char *text;
  int line;            /* expected line in the message (0: no line) */
  const char *needle;  /* expected in the message */
} bad_import;

#define MAT_INSERT "INSERT INTO materials (first_run, last_run, setup, name, density, x0, lambda_i) VALUES "

static const bad_import bad_imports[] = {
    {"syntax error after a valid statement",
     MAT_INSERT "(0, NULL, NULL, 'Cu', 8.96, 1.436, 15.32);\n-- a comment\n\nINSERT INTO materials (first_run, name) VALUS (1, 'x');\n",
     4, "syntax error"},
    {"text in a REAL column (STRICT)", "-- header\n" MAT_INSERT "(0, NULL, NULL, 'Cu', 'heavy', 1.436, 15.32);\n", 2,
     "cannot store TEXT value in REAL column materials.density"},
    {"missing NOT NULL column", "\n\n" "INSERT INTO materials (first_run, name, x0, lambda_i) VALUES (0, 'Cu', 1.4, 15.3);\n",
     3, "NOT NULL constraint failed: materials.density"},
    {"DDL", MAT_INSERT "(0, NULL, NULL, 'Cu', 8.96, 1.436, 15.32);\nDROP TABLE planes;\n", 2, "DROP TABLE planes is not allowed"},
    {"UPDATE", "UPDATE planes SET pitch = 1.0;\n", 1, "UPDATE planes is not allowed"},
    {"PRAGMA", "PRAGMA user_version = 1;\n", 1, "PRAGMA"},
    {"transaction control", "BEGIN;\n" MAT_INSERT "(0, NULL, NULL, 'Cu', 8.96, 1.436, 15.32);\nCOMMIT;\n", 1, "not allowed"},
    {"statement that inserts nothing", "SELECT 1;\n", 1, "does not insert anything"},
    /* only literal rows (issue 9, item 9): a recursive CTE generated rows without bound */
    {"recursive CTE", "-- grows without bound\nWITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k)\n"
                      "INSERT INTO materials (first_run, name, density, x0, lambda_i) SELECT n, 'Cu', 1, 1, 1 FROM k;\n",
     2, "only plain INSERT ... VALUES"},
    {"INSERT ... SELECT", MAT_INSERT "(0, NULL, NULL, 'Cu', 8.96, 1.436, 15.32);\n"
                          "INSERT INTO materials (first_run, name, density, x0, lambda_i) SELECT 1, 'Fe', 1, 1, 1;\n",
     2, "literal rows"},
    {"subquery in VALUES", MAT_INSERT "(0, NULL, NULL, 'Cu', (SELECT 8.96), 1.436, 15.32);\n", 1, "literal rows"},
    {"function in VALUES", MAT_INSERT "(0, NULL, NULL, 'Cu', abs(-8.96), 1.436, 15.32);\n", 1, "literal rows"},
    {"ATTACH", "ATTACH DATABASE ':memory:' AS x;\n", 1, "ATTACH"},
    {"trigger", "CREATE TRIGGER t AFTER INSERT ON materials BEGIN DELETE FROM planes; END;\n", 1, "CREATE TRIGGER"},
    {"unterminated statement", MAT_INSERT "(0, NULL, NULL, 'Cu', 8.96, 1.436, 15.32);\n" MAT_INSERT "(0, NULL, NULL, 'W2', 19.3,\n",
     2, "incomplete input"},
    {"REPLACE of an existing record", "INSERT OR REPLACE INTO materials (id, first_run, name, density, x0, lambda_i) "
                                      "VALUES (1, 0, 'Pb', 1.0, 1.0, 1.0);\n",
     0, "would be replaced"},
    {"non-monotonic r(t) (validation)",
     "-- a new r(t) for ST01X\n\n\n\nINSERT INTO straw_rt (first_run, last_run, setup, plane, points, sigma_r) VALUES\n"
     "  (1000, 4223, NULL, 'ST01X', '[[0, 0], [50, 0.2], [40, 0.25], [90, 0.3]]', 0.02);\n",
     5, "t is not strictly increasing: t[2] = 40 ns after t[1] = 50 ns"},
    {"r(t) beyond the straw radius (validation)",
     "INSERT INTO straw_rt (first_run, last_run, setup, plane, points, sigma_r) VALUES\n"
     "  (1000, 4223, NULL, 'ST01X', '[[0, 0], [90, 0.35]]', 0.02);\n",
     1, "exceeds the straw radius 0.3 cm"},
    {"infinite value (validation)", "\n" MAT_INSERT "(0, NULL, NULL, 'Cu', 9e999, 1.436, 15.32);\n", 2,
     "density = inf is not finite"},
    {"negative pitch (validation)",
     "INSERT INTO planes (first_run, last_run, setup, detector, name, x, y, z, angle_deg, pitch, nchannels, size_u, size_v)\n"
     "VALUES (1001, 4223, 'invisible_2016_2018', 'MM03', 'MM03X', 15.2, 0, 1500, 0, -0.025, 320, 8, 8);\n",
     1, "pitch = -0.025 is not positive"},
    {"straw plane whose wire list does not match (validation)",
     "INSERT INTO planes (first_run, last_run, setup, detector, name, x, y, z, angle_deg, pitch, nchannels, size_u, size_v)\n"
     "VALUES (1001, 4223, 'invisible_2016_2018', 'ST01', 'ST01X', 16.27, 0, 1550, 0, 0.6, 66, 20, 20);\n",
     1, "nchannels = 66 but its straw_layers hold 64 wires"},
    {"channel map to a missing wire (validation)",
     "INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, plane, wire)\n"
     "VALUES (1000, 4223, NULL, 400, 15, 7, 7, 'ST01', 'ST01X', 64);\n",
     1, "is not below the plane's nchannels"},
};

/* The literal forms an import accepts: several rows, signs, exponents, comments between tokens,
 * quoted identifiers, 'it''s' strings, NULL, OR IGNORE. */
static void test_literal_import_forms(void **state)
{
  (void)state;
  na64_cond *db = open_copy("literal.db");
  na64_err err = {0, ""};
  const char *sql = "insert /* c */ or ignore into \"materials\" (first_run, last_run, setup, [name], density, x0, "
                    "lambda_i, comment)\n"
                    "  VALUES (0, NULL, NULL, 'Lit1', +8.96, 1.436e0, 15.32, 'it''s fine'), -- row 1\n"
                    "         (0, 0x10, NULL, 'Lit2', 1.5E+1, .5, 2., NULL);\n"
                    "REPLACE INTO materials (first_run, name, density, x0, lambda_i) VALUES (0, 'Lit3', 1, 1, 1)";
  expect_ok(na64_cond_import(db, sql, strlen(sql), "literal.sql", &err), &err);
  na64_cond_close(db);
}

/* Any error rejects the whole import with its line and reason; the database is unchanged. */
static void test_malformed_import_rejected(void **state)
{
  (void)state;
  na64_cond *db = open_copy("malformed.db");
  char *before = export_string(db);
  for (size_t i = 0; i < sizeof bad_imports / sizeof bad_imports[0]; ++i) {
    const bad_import *b = &bad_imports[i];
    na64_err err = {0, ""};
    int st = na64_cond_import(db, b->text, strlen(b->text), "bad.sql", &err);
    if (st != NA64_EFORMAT) fail_msg("%s: status %d (%s), expected rejection", b->what, st, err.msg);
    char where[32];
    snprintf(where, sizeof where, "bad.sql:%d:", b->line);
    if (b->line && !strstr(err.msg, where)) fail_msg("%s: '%s' does not name %s", b->what, err.msg, where);
    if (!strstr(err.msg, b->needle)) fail_msg("%s: '%s' does not contain '%s'", b->what, err.msg, b->needle);
    if (strstr(b->what, "validation") && !strstr(err.msg, "row id"))
      fail_msg("%s: '%s' does not name the row id", b->what, err.msg);
    char *after = export_string(db);
    if (strcmp(before, after)) fail_msg("%s: database changed by a rejected import", b->what);
    free(after);
  }
  /* a NUL byte: rejected with its line and offset */
  static const char nul[] = MAT_INSERT "(0, NULL, NULL, 'Cu', 8.96, 1.436, 15.32);\nINSERT\0 INTO x;\n";
  na64_err err = {0, ""};
  assert_int_equal(na64_cond_import(db, nul, sizeof nul - 1, "nul.sql", &err), NA64_EFORMAT);
  expect_msg(&err, "nul.sql:2: NUL byte at offset");
  /* and a good import still works afterwards, adding exactly its record */
  static const char good[] = "-- copper\n" MAT_INSERT "(0, NULL, NULL, 'Cu', 8.96, 1.436, 15.32);\n";
  expect_ok(na64_cond_import(db, good, strlen(good), "good.sql", &err), &err);
  char *after = export_string(db);
  assert_true(strlen(after) > strlen(before));
  assert_non_null(strstr(after, "'Cu', 8.96"));
  free(after);
  free(before);
  na64_cond_close(db);
}

/* ---- concurrency ---- */

/* A forked writer commits 40 transactions, each giving all 64 wires of ST01X a new t0 (one
 * INSERT ... SELECT); the parent reads the geometry meanwhile. WAL gives every read a snapshot: a
 * read must see all 64 wires with the same value (never half a transaction), values never go back,
 * and no read fails with "database is locked". */
static void test_wal_reader_writer(void **state)
{
  (void)state;
  na64_cond *db = open_copy("wal.db"); /* read-write open: WAL mode */
  char path[320];
  snprintf(path, sizeof path, "%s", na64_cond_path(db));
  na64_cond_close(db);
  const int ntx = 40;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    na64_cond *w = NULL;
    na64_err e = {0, ""};
    if (na64_cond_open(path, NA64_COND_READWRITE, &w, &e) != NA64_OK) _exit(10);
    for (int i = 1; i <= ntx; ++i) {
      char sql[512];
      snprintf(sql, sizeof sql,
               "WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 63) "
               "INSERT INTO straw_t0 (first_run, last_run, setup, plane, wire, t0) "
               "SELECT 4224, 4309, NULL, 'ST01X', n, %d.0 FROM k;",
               1000 + i);
      if (na64_cond_exec(w, sql, &e) != NA64_OK) _exit(11);
      usleep(5000);
    }
    na64_cond_close(w);
    _exit(0);
  }
  na64_cond *r = NULL;
  na64_err err = {0, ""};
  expect_ok(na64_cond_open(path, NA64_COND_READONLY, &r, &err), &err);
  int reads = 0, distinct = 0, done = 0, status = 0;
  double last = 0;
  while (!done || reads < 3) {
    if (!done && waitpid(pid, &status, WNOHANG) == pid) done = 1;
    na64_geom *g = NULL;
    expect_ok(na64_geom_load(r, 4250, &g, &err), &err);
    const na64_geom_plane *p = na64_geom_find_plane(g, "ST01X");
    /* before the first commit: the nominal t0 (< 1000 ns, varying by chip); after: one writer value */
    double v = p->t0[0];
    for (int w = 1; w < 64; ++w)
      if ((v >= 1000 && p->t0[w] != v) || (v < 1000 && p->t0[w] >= 1000))
        fail_msg("read %d saw a partial transaction: t0[0] = %g, t0[%d] = %g", reads, v, w, p->t0[w]);
    if (v < 1000) v = 0;
    assert_true(v >= last);
    if (v != last) distinct++;
    last = v;
    na64_geom_free(g);
    reads++;
  }
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_rel(last, 1000.0 + ntx, 0); /* the final read sees the last commit */
  print_message("WAL test: %d consistent reads, %d distinct snapshots while the writer committed %d transactions\n",
                reads, distinct, ntx);
  na64_cond_close(r);
}

/* ---- validation on load ---- */

typedef struct bad_row {
  const char *sql;
  int run;
  const char *needle;
} bad_row;

static const bad_row bad_rows[] = {
    {"INSERT INTO planes (first_run, last_run, setup, detector, name, x, y, z, angle_deg, pitch, nchannels, size_u, "
     "size_v) VALUES (1001, 4223, 'invisible_2016_2018', 'MM03', 'MM03X', 15.2, 0, 1500, 0, -0.2, 320, 8, 8);",
     1500, "planes row id "},
    {"INSERT INTO straw_rt (first_run, last_run, setup, plane, points, sigma_r) VALUES "
     "(1000, 4223, NULL, 'ST01X', '[[0, 0], [10, 0.2], [20, 0.1]]', 0.02);",
     1500, "r decreases: r[2] = 0.1 cm after r[1] = 0.2 cm"},
    {"INSERT INTO straw_rt (first_run, last_run, setup, plane, points, sigma_r) VALUES "
     "(1000, 4223, NULL, 'ST01X', '[[0, 0], [10 0.2]]', 0.02);",
     1500, "expected ',' between t and r"},
    {"DELETE FROM straw_wires WHERE plane = 'ST01X' AND wire = 5;", 1500,
     "nchannels = 64 but 63 straw_wires are valid for the run"},
    {"INSERT INTO calo_cells (first_run, last_run, setup, detector, module, ix, iy, x, y, z, size_x, size_y, size_z) "
     "VALUES (1001, 4223, 'invisible_2016_2018', 'ECAL', 0, 2, 2, 0, 0, 1922.5, 9e999, 3.82, 45);",
     1500, "size_x = inf is not finite"},
    {"INSERT INTO calo_cells (first_run, last_run, setup, detector, module, ix, iy, x, y, z, size_x, size_y, size_z) "
     "VALUES (1000, 4223, 'invisible_2016_2018', 'ECAL', 0, 6, 0, 0, 0, 1922.5, 3.82, 3.82, 45);",
     1500, "37 calo_cells do not fill the grid of 1 module(s) x 7 x 6 cells"},
    {"INSERT INTO detectors (first_run, last_run, setup, name, kind, x, y, z, size_x, size_y, size_z, material) "
     "VALUES (1001, 4223, 'invisible_2016_2018', 'VETO', 'veto', 24.7, 0, 1952, 48, 48, 4, 'Unobtainium');",
     1500, "material 'Unobtainium' is not in materials"},
    {"INSERT INTO straw_t0 (first_run, last_run, setup, plane, wire, t0) VALUES (4224, 4309, NULL, 'ST03X', 96, 1.0);",
     4250, "straw_t0 row id"},
    {"INSERT INTO straw_layers (first_run, last_run, setup, plane, layer, nwires, diameter, pitch, stagger, dz) "
     "VALUES (2801, 3199, 'visible_2017', 'ST01X', 0, 32, 0.6, 0.5, -0.15, -0.26);",
     3000, "pitch = 0.5 cm is smaller than the straw diameter 0.6 cm"},
    {"INSERT INTO run_info (first_run, last_run, setup, mode, beam_particle, beam_energy) "
     "VALUES (5000, 5100, 'nothing_here', 'invisible', 'e-', -100.0);",
     5050, "beam_energy = -100 is not positive"},
};

/* Records written behind the library's back (trusted exec, or another tool) are caught when a
 * geometry is loaded, with the table, row id and value. */
static void test_validation_on_load(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; ++i) {
    char name[32];
    snprintf(name, sizeof name, "bad%zu.db", i);
    na64_cond *db = open_copy(name);
    na64_err err = {0, ""};
    expect_ok(na64_cond_exec(db, bad_rows[i].sql, &err), &err);
    na64_geom *g = NULL;
    int st = na64_geom_load(db, bad_rows[i].run, &g, &err);
    if (st == NA64_OK) fail_msg("case %zu: bad record accepted", i);
    assert_null(g);
    if (!strstr(err.msg, bad_rows[i].needle)) fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad_rows[i].needle);
    if (!strstr(err.msg, "row id")) fail_msg("case %zu: '%s' does not name the row id", i, err.msg);
    /* the whole-database check finds it too */
    assert_int_not_equal(na64_cond_validate(db, &err), NA64_OK);
    na64_cond_close(db);
  }
}

/* New calibrations: bad arguments or records that do not fit the geometry write nothing. */
static void test_insert_calibration_checks(void **state)
{
  (void)state;
  na64_cond *db = open_copy("insert.db");
  char *before = export_string(db);
  na64_err err = {0, ""};
  double t0[64] = {0}, t[3] = {0, 50, 40}, r[3] = {0, 0.2, 0.3};
  assert_int_equal(na64_cond_insert_straw_calib(db, 4224, 4309, "ST01X", 64, t0, 3, t, r, 0.02, NULL, &err),
                   NA64_EFORMAT);
  expect_msg(&err, "not strictly increasing");
  t[2] = 90;
  assert_int_equal(na64_cond_insert_straw_calib(db, 4224, 4309, "ST01X", 64, t0, 3, t, r, -1, NULL, &err), NA64_EINVAL);
  assert_int_equal(na64_cond_insert_straw_calib(db, 4300, 4200, "ST01X", 64, t0, 3, t, r, 0.02, NULL, &err),
                   NA64_ERANGE);
  /* a plane unknown for the runs: inserted then rejected by validation, rolled back */
  assert_int_not_equal(na64_cond_insert_straw_calib(db, 4224, 4309, "ST99X", 64, t0, 3, t, r, 0.02, NULL, &err),
                       NA64_OK);
  expect_msg(&err, "ST99X");
  /* 96 wires on a 64-wire plane */
  double t96[96] = {0};
  assert_int_not_equal(na64_cond_insert_straw_calib(db, 4224, 4309, "ST01X", 96, t96, 0, NULL, NULL, 0, NULL, &err),
                       NA64_OK);
  expect_msg(&err, "straw_t0 row id");
  na64_cond_calo_calib k = {.detector = "ECAL", .module = 0, .ix = 6, .iy = 0, .section = 0, .gain = 0.03};
  assert_int_not_equal(na64_cond_insert_calo_calib(db, 4224, 4309, 1, &k, NULL, &err), NA64_OK);
  expect_msg(&err, "does not exist");
  k.ix = 0;
  k.gain = NAN;
  assert_int_equal(na64_cond_insert_calo_calib(db, 4224, 4309, 1, &k, NULL, &err), NA64_EINVAL);
  char *after = export_string(db);
  assert_string_equal(before, after);
  free(before);
  free(after);
  na64_cond_close(db);
}

/* r(t) point lists: the documented text form and its errors. */
static void test_rt_text(void **state)
{
  (void)state;
  na64_cond *db = open_copy("rt.db");
  na64_err err = {0, ""};
  double t[4] = {0, 10.25, 20.5, 90}, r[4] = {0, 0.1, 0.2, 0.3};
  expect_ok(na64_cond_insert_straw_calib(db, 4224, 4309, "ST01X", 0, NULL, 4, t, r, 0.02, "rt", &err), &err);
  na64_geom *g = NULL;
  expect_ok(na64_geom_load(db, 4224, &g, &err), &err);
  const na64_geom_plane *p = na64_geom_find_plane(g, "ST01X");
  assert_int_equal(p->rt_n, 4);
  for (int i = 0; i < 4; ++i) {
    assert_true(p->rt_t[i] == t[i]); /* 17 digits in the text: exact */
    assert_true(p->rt_r[i] == r[i]);
  }
  na64_geom_free(g);
  na64_cond_close(db);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_database),
      cmocka_unit_test(test_default_path),
      cmocka_unit_test(test_open_errors),
      cmocka_unit_test(test_migration_from_v1),
      cmocka_unit_test(test_iov_run_boundaries),
      cmocka_unit_test(test_iov_calibration_override),
      cmocka_unit_test(test_export_import_roundtrip),
      cmocka_unit_test(test_malformed_import_rejected),
      cmocka_unit_test(test_literal_import_forms),
      cmocka_unit_test(test_wal_reader_writer),
      cmocka_unit_test(test_validation_on_load),
      cmocka_unit_test(test_insert_calibration_checks),
      cmocka_unit_test(test_rt_text),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
