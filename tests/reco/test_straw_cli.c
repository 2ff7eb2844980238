/* `na64 calib straw` end to end: a generated DATE file of known truth, calibrated into a copy of the
 * default database, then read back through the geometry; dry runs, run selection, files with
 * several setups, empty and missing files, bad usage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reco/straw_gen.h"

#define tmpdir na64_test_tmpdir

static int run_cli(const char *args, char **out)
{
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", NA64_CLI_PATH, args);
  return na64_test_run(cmd, out);
}

/* Largest |t0 - truth| over every straw channel, as the database gives t0 for `run`. */
static double max_t0_error(const char *db, int run, const straw_gen *s)
{
  na64_geom *g = gen_load_geom(db, run);
  double worst = 0;
  for (int i = 0; i < g->nplanes; ++i) {
    if (g->planes[i].kind != NA64_DET_STRAW) continue;
    for (int w = 0; w < g->planes[i].nwires; ++w) {
      double d = fabs(g->planes[i].t0[w] - na64_straw_digitizer_t0(s->digi, i, w));
      if (d > worst) worst = d;
    }
  }
  na64_geom_free(g);
  return worst;
}

/* 120 000 events (~4100 hits per 6 mm and ~2000 per 2 mm channel): t0 within 1 ns everywhere. The
 * other invocations use the first 20 000 events only (--events), to keep the test short. */
static void test_calib_cli(void **state)
{
  (void)state;
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, NULL, 51);
  char raw[320], db[320], args[1200];
  snprintf(raw, sizeof raw, "%s/run1500.dat", tmpdir);
  snprintf(db, sizeof db, "%s/c.db", tmpdir);
  gen_file(&s, raw, GEN_RUN, 51, 120000);
  gen_copy_db(db);
  double before = max_t0_error(db, GEN_RUN, &s);
  assert_true(before > 5); /* the nominal t0 of 40-41.5 ns against truth in [25, 55] */

  /* dry run: the table, nothing written */
  char *out = NULL;
  snprintf(args, sizeof args, "calib straw '%s' --db '%s' --dry-run --events 20000", raw, db);
  assert_int_equal(run_cli(args, &out), 0);
  printf("%s", out);
  assert_non_null(strstr(out, "ST01X"));
  assert_non_null(strstr(out, "ST02Y"));
  assert_non_null(strstr(out, "dry run: nothing written"));
  free(out);
  assert_true(max_t0_error(db, GEN_RUN, &s) == before);

  /* the real thing */
  snprintf(args, sizeof args, "calib straw '%s' --db '%s'", raw, db);
  assert_int_equal(run_cli(args, &out), 0);
  printf("%s", out);
  assert_non_null(strstr(out, "wrote 320 t0 records and 4 r(t) tables"));
  assert_non_null(strstr(out, "valid for runs 1500-1500"));
  free(out);
  double after = max_t0_error(db, GEN_RUN, &s);
  printf("  worst t0 error in the database: %.3f ns (before: %.3f ns)\n", after, before);
  assert_true(after < 1.0);
  /* the next run keeps the old calibration */
  assert_true(max_t0_error(db, GEN_RUN + 1, &s) == before);

  /* csv per channel, selected run, explicit IOV over the setup's 2016 run range, in another copy */
  char db2[320];
  snprintf(db2, sizeof db2, "%s/c2.db", tmpdir);
  gen_copy_db(db2);
  snprintf(args, sizeof args,
           "calib straw '%s' --db '%s' --run 1500 --first-run 1000 --last-run 2399 --channels --format csv "
           "--comment 'cli test' --events 20000",
           raw, db2);
  assert_int_equal(run_cli(args, &out), 0);
  assert_non_null(strstr(out, "plane,wire,hits,t0_ns,t0_err_ns,method"));
  assert_non_null(strstr(out, "ST02Y,95,"));
  assert_non_null(strstr(out, "valid for runs 1000-2399"));
  free(out);
  assert_true(max_t0_error(db2, 2000, &s) < 3.0); /* 20 000 events: ~700 hits per channel */
  /* open ended would reach the visible-mode runs, whose straw planes differ: refused, nothing written */
  snprintf(args, sizeof args, "calib straw '%s' --db '%s' --open-ended --events 20000", raw, db2);
  assert_int_equal(run_cli(args, &out), 1);
  assert_non_null(strstr(out, "setup visible_2017"));
  assert_null(strstr(out, "wrote"));
  free(out);
  assert_true(max_t0_error(db2, 2000, &s) < 3.0);
  assert_true(max_t0_error(db2, 2400, &s) == before); /* unchanged beyond the range */

  /* a run that is not in the file */
  snprintf(args, sizeof args, "calib straw '%s' --db '%s' --run 1501", raw, db);
  assert_int_equal(run_cli(args, &out), 1);
  assert_non_null(strstr(out, "no physics event of run 1501"));
  free(out);
  gen_free(&s);
}

static void test_calib_cli_bad(void **state)
{
  (void)state;
  char raw[320], db[320], args[1200], *out = NULL;
  snprintf(db, sizeof db, "%s/b.db", tmpdir);
  gen_copy_db(db);
  /* usage errors: exit 2 with a one-line message naming the argument */
  assert_int_equal(run_cli("calib", &out), 2);
  free(out);
  assert_int_equal(run_cli("calib ecal x.dat", &out), 2);
  assert_non_null(strstr(out, "unknown detector 'ecal'"));
  free(out);
  assert_int_equal(run_cli("calib straw", &out), 2);
  assert_non_null(strstr(out, "missing RAWFILE"));
  free(out);
  assert_int_equal(run_cli("calib straw a.dat b.dat", &out), 2);
  free(out);
  assert_int_equal(run_cli("calib straw a.dat --run -5", &out), 2);
  assert_non_null(strstr(out, "--run"));
  free(out);
  assert_int_equal(run_cli("calib straw a.dat --first-run 10 --last-run 5", &out), 2);
  free(out);
  assert_int_equal(run_cli("calib straw a.dat --open-ended --last-run 5", &out), 2);
  free(out);
  assert_int_equal(run_cli("calib straw --help", &out), 0);
  assert_non_null(strstr(out, "ns"));
  free(out);
  /* runtime errors: exit 1 naming the file */
  snprintf(args, sizeof args, "calib straw '%s/missing.dat' --db '%s'", tmpdir, db);
  assert_int_equal(run_cli(args, &out), 1);
  assert_non_null(strstr(out, "missing.dat"));
  free(out);
  /* a file of garbage: no physics event */
  snprintf(raw, sizeof raw, "%s/garbage.dat", tmpdir);
  FILE *f = fopen(raw, "wb");
  assert_non_null(f);
  for (int i = 0; i < 4096; ++i) fputc((i * 7919) & 0xFF, f);
  fclose(f);
  snprintf(args, sizeof args, "calib straw '%s' --db '%s'", raw, db);
  assert_int_equal(run_cli(args, &out), 1);
  assert_non_null(strstr(out, "no physics event"));
  free(out);
  /* physics events without straw hits (efficiency 0): no hits, nothing written */
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  o.efficiency = 0;
  o.noise_per_channel = 0;
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, &o, 61);
  snprintf(raw, sizeof raw, "%s/empty.dat", tmpdir);
  gen_file(&s, raw, GEN_RUN, 61, 100);
  snprintf(args, sizeof args, "calib straw '%s' --db '%s'", raw, db);
  assert_int_equal(run_cli(args, &out), 1);
  printf("%s", out);
  assert_non_null(strstr(out, "no straw hits"));
  assert_null(strstr(out, "wrote"));
  free(out);
  gen_free(&s);
  /* runs of two setups in one file: refused, with the advice */
  gen_init(&s, GEN_DB, GEN_RUN, NULL, 62);
  snprintf(raw, sizeof raw, "%s/two.dat", tmpdir);
  na64_err err = {0, ""};
  na64_daq_writer *w = NULL;
  assert_int_equal(na64_daq_writer_open(raw, NULL, &w, &err), NA64_OK);
  gen_write(&s, w, GEN_RUN, 62, 50);
  gen_write(&s, w, 2900, 63, 50); /* a visible-mode run */
  assert_int_equal(na64_daq_writer_close(w, &err), NA64_OK);
  snprintf(args, sizeof args, "calib straw '%s' --db '%s'", raw, db);
  assert_int_equal(run_cli(args, &out), 1);
  assert_non_null(strstr(out, "two setups"));
  free(out);
  gen_free(&s);
}

/* A few events with a corrupted run number (issue 9 item 13): skipped and reported on stderr, the
 * calibration of the file's run goes on (exit 0). */
static void test_calib_cli_stray_events(void **state)
{
  (void)state;
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, NULL, 81);
  char raw[320], db[320], args[1200];
  snprintf(raw, sizeof raw, "%s/stray_cli.dat", tmpdir);
  snprintf(db, sizeof db, "%s/stray_cli.db", tmpdir);
  na64_err err = {0, ""};
  na64_daq_writer *w = NULL;
  assert_int_equal(na64_daq_writer_open(raw, NULL, &w, &err), NA64_OK);
  gen_write_record(w, NA64_DAQ_START_OF_RUN, GEN_RUN, 0);
  gen_write_physics(&s, w, GEN_RUN, 81, 1, 3000);
  gen_write_physics(&s, w, 2098652, 82, 3001, 2);
  gen_write_physics(&s, w, GEN_RUN, 81, 3003, 3000);
  assert_int_equal(na64_daq_writer_close(w, &err), NA64_OK);
  gen_copy_db(db);
  char *out = NULL;
  snprintf(args, sizeof args, "calib straw '%s' --db '%s' --dry-run", raw, db);
  assert_int_equal(run_cli(args, &out), 0);
  assert_non_null(strstr(out, "2 physics events skipped"));
  assert_non_null(strstr(out, "run 2098652"));
  assert_non_null(strstr(out, "6000 physics events of runs 1500-1500"));
  assert_non_null(strstr(out, "dry run: nothing written"));
  free(out);
  gen_free(&s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calib_cli),
      cmocka_unit_test(test_calib_cli_bad),
      cmocka_unit_test(test_calib_cli_stray_events),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
