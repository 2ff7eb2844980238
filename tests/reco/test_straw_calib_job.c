/* The calibration pipeline of a raw-data file as a library call (na64_straw_calib_run): events with
 * a corrupted run number are skipped and counted, not fatal (issue 9 item 13); a dry run makes
 * every check of the real run, the interval of validity included, and writes nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/straw_gen.h"

#define tmpdir na64_test_tmpdir
#define BAD_RUN 2098652 /* the run number of the corrupted events */

static char raw[320], db[320];

/* run 1500 (start-of-run record, 20 000 physics events) with 3 physics events in the middle whose
 * header says run BAD_RUN (no run_info covers it), written once for the tests below */
static void make_file(void)
{
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, NULL, 71);
  snprintf(raw, sizeof raw, "%s/stray.dat", tmpdir);
  snprintf(db, sizeof db, "%s/c.db", tmpdir);
  na64_err err = {0, ""};
  na64_daq_writer *w = NULL;
  assert_int_equal(na64_daq_writer_open(raw, NULL, &w, &err), NA64_OK);
  gen_write_record(w, NA64_DAQ_START_OF_RUN, GEN_RUN, 0);
  gen_write_physics(&s, w, GEN_RUN, 71, 1, 10000);
  gen_write_physics(&s, w, BAD_RUN, 72, 10001, 3);
  gen_write_physics(&s, w, GEN_RUN, 71, 10004, 10000);
  gen_write_record(w, NA64_DAQ_END_OF_RUN, GEN_RUN, 20004);
  assert_int_equal(na64_daq_writer_close(w, &err), NA64_OK);
  gen_copy_db(db);
  gen_free(&s);
}

static int count_t0_records(void)
{
  na64_err err = {0, ""};
  na64_cond *c = NULL;
  assert_int_equal(na64_cond_open(db, NA64_COND_READONLY, &c, &err), NA64_OK);
  na64_cond_records *r = NULL;
  assert_int_equal(na64_cond_fetch(c, NA64_COND_ALL_RUNS, &r, &err), NA64_OK);
  int n = (int)r->nstraw_rt; /* one r(t) record per calibrated plane */
  na64_cond_records_free(r);
  na64_cond_close(c);
  return n;
}

static void test_stray_events_and_dry_run(void **state)
{
  (void)state;
  make_file();
  int before = count_t0_records();
  na64_straw_calib_job job;
  na64_straw_calib_job_default(&job);
  job.path = raw;
  job.db_path = db;
  job.dry_run = 1;
  na64_straw_calib_report rep;
  na64_err err = {0, ""};
  int st = na64_straw_calib_run(&job, &rep, &err);
  if (st) print_error("%s\n", err.msg);
  assert_int_equal(st, NA64_OK);
  assert_int_equal(rep.stray_events, 3);
  assert_int_equal(rep.first_stray_run, BAD_RUN);
  assert_int_equal(rep.ref_run, GEN_RUN);
  assert_int_equal(rep.events, 20000);
  assert_int_equal(rep.first, GEN_RUN);
  assert_int_equal(rep.last, GEN_RUN);
  assert_int_equal(rep.iov_first, GEN_RUN);
  assert_int_equal(rep.iov_last, GEN_RUN);
  assert_int_equal(rep.written, 0);
  assert_non_null(rep.cal);
  na64_straw_calib_report_release(&rep);
  assert_int_equal(count_t0_records(), before);

  /* the dry run refuses what the real run refuses: an open-ended IOV reaching the visible setup */
  job.open_ended = 1;
  st = na64_straw_calib_run(&job, &rep, &err);
  assert_int_equal(st, NA64_ERANGE);
  assert_non_null(strstr(err.msg, "setup"));
  na64_straw_calib_report_release(&rep);
  job.dry_run = 0;
  assert_int_equal(na64_straw_calib_run(&job, &rep, &err), NA64_ERANGE);
  assert_int_equal(rep.written, 0);
  na64_straw_calib_report_release(&rep);
  assert_int_equal(count_t0_records(), before);

  /* the real run writes the 4 planes for run 1500 only */
  job.open_ended = 0;
  st = na64_straw_calib_run(&job, &rep, &err);
  if (st) print_error("%s\n", err.msg);
  assert_int_equal(st, NA64_OK);
  assert_int_equal(rep.written, 1);
  assert_int_equal(rep.nrt, 4);
  assert_true(rep.nt0 > 0);
  assert_int_equal(rep.stray_events, 3);
  na64_straw_calib_report_release(&rep);
  assert_int_equal(count_t0_records(), before + 4);
}

static void test_bad_jobs(void **state)
{
  (void)state;
  na64_straw_calib_job job;
  na64_straw_calib_job_default(&job);
  na64_straw_calib_report rep;
  na64_err err = {0, ""};
  assert_int_equal(na64_straw_calib_run(&job, &rep, &err), NA64_EINVAL); /* no file */
  job.path = raw;
  job.db_path = db;
  job.first_run = 10;
  job.last_run = 5;
  assert_int_equal(na64_straw_calib_run(&job, &rep, &err), NA64_EINVAL);
  job.first_run = job.last_run = -1;
  job.run = 1501; /* not in the file */
  assert_int_equal(na64_straw_calib_run(&job, &rep, &err), NA64_ENOTFOUND);
  assert_non_null(strstr(err.msg, "1501"));
  na64_straw_calib_report_release(&rep);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stray_events_and_dry_run),
      cmocka_unit_test(test_bad_jobs),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
