/* Scale-out of the selection and of the reconstruction (issue 15) and the events tables of a job in
 * parts (issue 11):
 *  - `na64 select` shared among MPI ranks gives the serial output byte for byte (2 and 3 ranks,
 *    rows of one file split between ranks); the library pieces it is made of (rows of a file in
 *    shares, the accumulators' text form) give the whole file's sums exactly, also under ASan;
 *  - `na64 run --part K/N` writes the part's events table, `na64 merge` puts them in the report with
 *    events.index.yaml, and `na64 select` of that index is the serial `na64 select REPORT/events.h5`
 *    (likewise the index of `mpirun na64 run`);
 *  - one raw DATE file (plain and zstd) reconstructed in event ranges (the library's range job,
 *    and `mpirun -n 3 na64 reco RAW`) gives the serial events table row for row (h5py, column by
 *    column) and the serial selection.
 * Expected values are the serial outputs of the same inputs: the claim tested is exactness of the
 * split, so the tolerance is zero. Small samples (3000 and 20000 beam particles): seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/io.h"
#include "na64/reco.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define PY "/usr/bin/python3"

static const char job_card[] =
    "setup:\n  run: 2000\n"
    "processes:\n  aprime:\n    enabled: true\n    bias: 1.0e8\n    min_energy: 50.0\n"
    "aprime:\n  mass_MeV: 16.7\n  epsilon: 1.0e-4\n"
    "analysis:\n  eot: 2.84e11\n  events: 3000\n  signal_events: 400\n  seed: 9\n  threads: 2\n"
    "  masses_MeV: \"16.7\"\n"
    "  background_events: 2000\n"; /* per Table 1 route (default 20000, half of a run's CPU): exactness only */

/* A shell command line in the scratch directory; stdout and stderr in *out. */
static int sh(const char *args, char **out)
{
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "cd '%s' && %s 2>&1", na64_test_tmpdir, args);
  return na64_test_run(cmd, out);
}

static void sh_ok(const char *args)
{
  char *out = NULL;
  int rc = sh(args, &out);
  if (rc) fail_msg("%s: %s", args, out);
  free(out);
}

static void na64_ok(const char *args)
{
  char cmd[3072];
  snprintf(cmd, sizeof cmd, "'%s' %s", NA64_CLI_PATH, args);
  sh_ok(cmd);
}

static void write_file(const char *name, const char *text) { na64_test_write_text(na64_test_tmpdir, name, text); }

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", na64_test_tmpdir, name); }

static int setup(void **state)
{
  if (na64_test_setup_tmpdir(state)) return -1;
  write_file("card.yaml", job_card);
  char reco_card[1024];
  snprintf(reco_card, sizeof reco_card,
           "setup: {run: 2000, conditions: \"%s\"}\n"
           "processes:\n  aprime: {enabled: true, bias: 1.0e8, min_energy: 50.0}\n"
           "aprime: {mass_MeV: 16.7, epsilon: 1.0e-4}\n",
           DB);
  write_file("reco.yaml", reco_card);
  char cmd[4096], *out = NULL;
  /* the serial job's report (events.h5), and a raw file of 20000 beam particles (plain and zstd,
   * truth with every event: the EOT is known) with its serial events table */
  snprintf(cmd, sizeof cmd,
           "cd '%s' && '%s' run card.yaml --report-dir serial && "
           "'%s' sim reco.yaml --events 20000 --seed 5 --out raw.dat --truth truth.h5 --all && "
           "'%s' sim reco.yaml --events 20000 --seed 5 --out raw.dat.zst && "
           "'%s' reco raw.dat --truth truth.h5 --out ev.h5 --db '%s'",
           na64_test_tmpdir, NA64_CLI_PATH, NA64_CLI_PATH, NA64_CLI_PATH, NA64_CLI_PATH, DB);
  int rc = na64_test_run(cmd, &out);
  if (rc) fprintf(stderr, "setup: %s\n", out);
  free(out);
  return rc;
}

/* ---- the selection's pieces (library; also under ASan) ---- */

static char *accum_text(const na64_select_accum *a)
{
  char *t = NULL;
  size_t n = 0;
  na64_err err = {0, ""};
  if (na64_select_accum_format(a, &t, &n, &err)) fail_msg("%s", err.msg);
  return t;
}

/* Rows of one file in 3 shares (one of them whole), through the text form, add up to the file. */
static void test_select_shares_exact(void **state)
{
  (void)state;
  char ev[512];
  path_of(ev, sizeof ev, "ev.h5");
  na64_select_config sel;
  na64_select_config_default(&sel);
  na64_err err = {0, ""};
  na64_select_accum *whole = malloc(sizeof *whole), *sum = malloc(sizeof *sum), *part = malloc(sizeof *part),
                    *back = malloc(sizeof *back);
  assert_non_null(whole);
  assert_non_null(sum);
  assert_non_null(part);
  assert_non_null(back);
  na64_select_accum_init(whole);
  na64_select_files_info wi = {0}, si = {0};
  assert_int_equal(na64_select_file_fill(ev, &sel, whole, &wi, &err), NA64_OK);
  uint64_t rows = 0;
  assert_int_equal(na64_select_file_rows(ev, &rows, &err), NA64_OK);
  assert_int_equal(rows, wi.rows);
  assert_true(rows > 60); /* enough rows for three shares */
  na64_select_accum_init(sum);
  for (int k = 0; k < 3; ++k) {
    uint64_t first, count;
    na64_part_range(rows, k, 3, &first, &count);
    na64_select_accum_init(part);
    assert_int_equal(na64_select_file_fill_rows(ev, &sel, first, count, k == 1, part, &si, &err), NA64_OK);
    char *t = accum_text(part);
    assert_int_equal(na64_select_accum_parse(t, strlen(t), "share", back, &err), NA64_OK);
    free(t);
    na64_select_accum_merge(sum, back);
  }
  char *a = accum_text(whole), *b = accum_text(sum);
  assert_string_equal(a, b);
  free(a);
  free(b);
  assert_int_equal(si.rows, wi.rows);
  assert_int_equal(si.untriggered, wi.untriggered);
  assert_true(si.eot == wi.eot && wi.eot == 20000.0); /* every simulated beam particle: --all */
  /* a damaged text form is refused with its name */
  assert_int_equal(na64_select_accum_parse("accum\n1 2\n", 10, "rank 7", back, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "rank 7"));
  free(whole);
  free(sum);
  free(part);
  free(back);
}

/* ---- one raw file in event ranges (library; also under ASan) ---- */

static na64_reco_event *read_rows(const char *path, uint64_t *n)
{
  int nf = 0;
  const na64_h5_field *f = na64_reco_event_fields(&nf);
  na64_h5reader *rd = NULL;
  na64_err err = {0, ""};
  if (na64_h5reader_open(path, "events", sizeof(na64_reco_event), f, nf, &rd, &err)) fail_msg("%s", err.msg);
  *n = na64_h5reader_nrows(rd);
  na64_reco_event *rows = calloc(*n + 1, sizeof *rows);
  assert_non_null(rows);
  size_t got = 0;
  assert_int_equal(na64_h5reader_read(rd, rows, (size_t)*n, &got, &err), NA64_OK);
  assert_int_equal(got, *n);
  na64_h5reader_close(rd);
  return rows;
}

static void ranges_of(const char *raw_name, const char *prefix)
{
  char raw[512], truth[512], serial[512];
  path_of(raw, sizeof raw, raw_name);
  path_of(truth, sizeof truth, "truth.h5");
  path_of(serial, sizeof serial, "ev.h5");
  uint64_t nser = 0, at = 0;
  na64_reco_event *ser = read_rows(serial, &nser);
  na64_select_config sel;
  na64_select_config_default(&sel);
  na64_select_accum *a = malloc(sizeof *a), *b = malloc(sizeof *b);
  assert_non_null(a);
  assert_non_null(b);
  na64_select_accum_init(a);
  na64_select_accum_init(b);
  na64_select_files_info ia = {0}, ib = {0};
  na64_err err = {0, ""};
  assert_int_equal(na64_select_file_fill(serial, &sel, a, &ia, &err), NA64_OK);
  for (int k = 0; k < 3; ++k) {
    char out[512], name[64];
    snprintf(name, sizeof name, "%s%d.h5", prefix, k);
    path_of(out, sizeof out, name);
    na64_reco_job job;
    na64_reco_job_default(&job);
    job.raw_path = raw;
    job.truth_path = truth;
    job.db_path = DB;
    job.out_path = out;
    uint64_t first = 0, count = 0, nev = 0;
    int run = 0;
    assert_int_equal(na64_reco_job_range(&job, k, 3, &first, &count, &nev, &run, &err), NA64_OK);
    assert_int_equal(nev, nser);
    assert_int_equal(first, at);
    assert_int_equal(run, 2000);
    assert_true(k == 0 || job.start_offset > 0 || job.skip_events > 0); /* a later range seeks or skips */
    na64_reco_summary sum;
    if (na64_reco_file(&job, &sum, &err)) fail_msg("range %d: %s", k, err.msg);
    assert_int_equal(sum.events, count);
    uint64_t n = 0;
    na64_reco_event *rows = read_rows(out, &n);
    assert_int_equal(n, count);
    for (uint64_t i = 0; i < n; ++i)
      if (memcmp(&rows[i], &ser[at + i], sizeof *rows) != 0) fail_msg("%s row %llu differs from serial row %llu", name,
                                                                       (unsigned long long)i, (unsigned long long)(at + i));
    at += n;
    free(rows);
    assert_int_equal(na64_select_file_fill(out, &sel, b, &ib, &err), NA64_OK);
  }
  assert_int_equal(at, nser);
  char *ta = accum_text(a), *tb = accum_text(b);
  assert_string_equal(ta, tb); /* the untriggered events once, with the first range */
  assert_true(ia.eot == ib.eot);
  free(ta);
  free(tb);
  free(a);
  free(b);
  free(ser);
}

static void test_reco_ranges_library(void **state)
{
  (void)state;
  ranges_of("raw.dat", "lib_plain");
  ranges_of("raw.dat.zst", "lib_zst"); /* seek to the zstd frame, then skip within it */
}

/* ---- issue 11: the events tables of `na64 run --part` and of `mpirun na64 run` ---- */

static void test_part_events_selection(void **state)
{
  (void)state;
  sh_ok("mkdir -p parts");
  na64_ok("run card.yaml --part 1/2 --partial parts/p1.na64part");
  na64_ok("run card.yaml --part 0/2 --partial parts/p0.na64part");
  na64_ok("merge parts/p1.na64part parts/p0.na64part --report-dir merged");
  sh_ok(PY " -c \"import yaml; x = yaml.safe_load(open('merged/events.index.yaml')); "
           "assert x['kind'] == 'events' and x['nparts'] == 2 and x['events'] == 3000, x; "
           "assert [x['parts'][k]['first_event'] for k in ('0', '1')] == [0, 1500], x\"");
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "'%s' select serial/events.h5 --format json > s.json && '%s' select merged/events.index.yaml --format json > m.json"
           " && cmp s.json m.json && " PY " -c \"import json; json.load(open('m.json'))\"",
           NA64_CLI_PATH, NA64_CLI_PATH);
  sh_ok(cmd);
  /* a part whose events file is gone: the report is still written, without events tables */
  sh_ok("mkdir -p lone && cp parts/p0.na64part parts/p1.na64part lone/");
  char *out = NULL;
  snprintf(cmd, sizeof cmd, "'%s' merge lone/p0.na64part lone/p1.na64part --report-dir lone-report", NA64_CLI_PATH);
  assert_int_equal(sh(cmd, &out), 0);
  assert_non_null(strstr(out, "no events file"));
  free(out);
}

/* ---- under mpirun (not under ASan: Open MPI's own leaks, see tests/e2e/test_cli_scale.c) ---- */

#if defined(NA64_MPIEXEC) && !defined(__SANITIZE_ADDRESS__)
static void mpirun_ok(int n, const char *args)
{
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  char cmd[3072];
  snprintf(cmd, sizeof cmd, "'%s' -n %d --oversubscribe '%s' %s", NA64_MPIEXEC, n, NA64_CLI_PATH, args);
  sh_ok(cmd);
}
#endif

static void test_mpirun_select(void **state)
{
  (void)state;
#if defined(NA64_MPIEXEC) && !defined(__SANITIZE_ADDRESS__)
  char cmd[2048];
  /* two files (the same twice): 2 ranks split the first file's rows, 3 ranks split both */
  snprintf(cmd, sizeof cmd, "'%s' select ev.h5 serial/events.h5 --format csv > sel1.csv && "
                            "'%s' select ev.h5 serial/events.h5 --format json > sel1.json",
           NA64_CLI_PATH, NA64_CLI_PATH);
  sh_ok(cmd);
  mpirun_ok(2, "select ev.h5 serial/events.h5 --format csv > sel2.csv");
  mpirun_ok(3, "select ev.h5 serial/events.h5 --format json > sel3.json");
  sh_ok("cmp sel1.csv sel2.csv && cmp sel1.json sel3.json");
  /* `mpirun na64 run`: the ranks' events files and their index */
  mpirun_ok(2, "run card.yaml --report-dir mpi > /dev/null");
  snprintf(cmd, sizeof cmd, "'%s' select serial/events.h5 --format csv > r1.csv && '%s' select mpi/events.index.yaml "
                            "--format csv > r2.csv && cmp r1.csv r2.csv",
           NA64_CLI_PATH, NA64_CLI_PATH);
  sh_ok(cmd);
#else
  skip();
#endif
}

static void test_mpirun_reco_ranges(void **state)
{
  (void)state;
#if defined(NA64_MPIEXEC) && !defined(__SANITIZE_ADDRESS__)
  char args[1024];
  snprintf(args, sizeof args, "reco raw.dat --truth truth.h5 --out evp.h5 --db '%s' > /dev/null", DB);
  mpirun_ok(3, args);
  snprintf(args, sizeof args, "reco raw.dat.zst --truth truth.h5 --out evz.h5 --db '%s' > /dev/null", DB);
  mpirun_ok(3, args);
  /* the union of the ranks' tables, in index order, column for column the serial table (h5py;
   * whole-row bytes are not compared: numpy leaves the compound's padding undefined) */
  static const char check[] =
      PY " -c \"import h5py, yaml, numpy as np, sys\n"
      "s = h5py.File('ev.h5', 'r')['events'][()]\n"
      "for ix in ('evp.index.yaml', 'evz.index.yaml'):\n"
      "  x = yaml.safe_load(open(ix))\n"
      "  assert x['kind'] == 'events' and x['nparts'] == 3 and x['events'] == len(s), x\n"
      "  p = [h5py.File(x['parts'][str(k)]['file'], 'r')['events'][()] for k in range(3)]\n"
      "  assert [len(t) for t in p] == [x['parts'][str(k)]['records'] for k in range(3)]\n"
      "  c = np.concatenate(p)\n"
      "  assert len(c) == len(s) and min(len(t) for t in p) > 0\n"
      "  bad = [n for n in s.dtype.names if s[n].tobytes() != c[n].tobytes()]\n"
      "  assert not bad, (ix, bad)\n"
      "print('ok')\"";
  char *out = NULL;
  int rc = sh(check, &out);
  if (rc) fail_msg("h5py comparison: %s", out);
  assert_string_equal(out, "ok\n");
  free(out);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' select ev.h5 --format csv > e1.csv && '%s' select evz.index.yaml --format csv > e2.csv"
                            " && cmp e1.csv e2.csv",
           NA64_CLI_PATH, NA64_CLI_PATH);
  sh_ok(cmd);
  mpirun_ok(2, "select evp.index.yaml --format csv > e3.csv");
  sh_ok("cmp e1.csv e3.csv");
  /* --events does not combine with a shared file */
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  snprintf(cmd, sizeof cmd, "'%s' -n 2 --oversubscribe '%s' reco raw.dat --events 5 --out bad.h5 --db '%s'", NA64_MPIEXEC,
           NA64_CLI_PATH, DB);
  assert_int_not_equal(sh(cmd, &out), 0);
  assert_non_null(strstr(out, "--events does not apply"));
  free(out);
#else
  skip();
#endif
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_select_shares_exact),
      cmocka_unit_test(test_reco_ranges_library),
      cmocka_unit_test(test_part_events_selection),
      cmocka_unit_test(test_mpirun_select),
      cmocka_unit_test(test_mpirun_reco_ranges),
  };
  return cmocka_run_group_tests(tests, setup, na64_test_teardown_tmpdir);
}
