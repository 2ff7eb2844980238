/* The end-of-run check of `na64 reco` (src/reco/reco_file.c): a DATE file of the fast simulation
 * with its start-of-run event, NEV physics events and the end-of-run event counting them reads
 * without warning; the same file cut before its end-of-run event, cut inside its last physics
 * event, or with an end-of-run event counting more events than the file holds, reconstructs every
 * complete physics event and warns, naming the file and the counts. Expected numbers come from the
 * construction of the files (how many events were written and where they were cut), not from the
 * reconstruction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define NEV 6

static na64_sim *make_sim(void)
{
  na64_sim_config c;
  na64_sim_config_default(&c);
  c.run = 2000;
  snprintf(c.conditions, sizeof c.conditions, "%s", DB);
  na64_err err = {0, ""};
  na64_sim *s = NULL;
  if (na64_sim_new(&c, &s, &err)) fail_msg("sim: %s", err.msg);
  return s;
}

/* SOR, NEV triggered events, then EOR with count eor (no EOR if eor < 0), in memory; *last_start:
 * the byte offset where the last physics event starts (as the reader finds it). */
static void *make_file(na64_sim *s, long eor, size_t *size, size_t *last_start)
{
  na64_err err = {0, ""};
  na64_sim_digitizer *d = NULL;
  na64_daq_writer *w = NULL;
  na64_sim_worker *wk = NULL;
  assert_int_equal(na64_sim_digitizer_new(s, &d, &err), NA64_OK);
  assert_int_equal(na64_sim_worker_new(s, &wk, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_open_memory(NULL, &w, &err), NA64_OK);
  assert_int_equal(na64_sim_write_run_mark(s, NA64_DAQ_START_OF_RUN, 0, w, &err), NA64_OK);
  na64_sim_event ev;
  uint32_t n = 0;
  for (uint64_t i = 0; n < NEV; ++i) {
    assert_int_equal(na64_sim_event_generate(wk, 9, i, 0, &ev, &err), NA64_OK);
    if (!ev.truth.triggered) continue;
    assert_int_equal(na64_sim_digitize_write(d, &ev, 9, n++, w, &err), NA64_OK);
  }
  if (eor >= 0) assert_int_equal(na64_sim_write_run_mark(s, NA64_DAQ_END_OF_RUN, (uint32_t)eor, w, &err), NA64_OK);
  void *buf = NULL;
  assert_int_equal(na64_daq_writer_close_memory(w, &buf, size, &err), NA64_OK);
  na64_daq_reader *r = NULL; /* where the last physics event starts */
  assert_int_equal(na64_daq_reader_open_memory(buf, *size, "eor", NULL, &r, &err), NA64_OK);
  na64_daq_event e;
  while (na64_daq_reader_next_event(r, &e, &err) == NA64_OK)
    if (e.header.type == NA64_DAQ_PHYSICS_EVENT) *last_start = (size_t)e.offset;
  na64_daq_reader_close(r);
  na64_sim_worker_free(wk);
  na64_sim_digitizer_free(d);
  return buf;
}

/* Write the first n bytes of buf as file `name` and reconstruct it. */
static na64_reco_summary reco_of(const char *name, const void *buf, size_t n, char *path, size_t cap)
{
  snprintf(path, cap, "%s/%s", na64_test_tmpdir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, n, f), n);
  fclose(f);
  char out[512];
  snprintf(out, sizeof out, "%s/%s.h5", na64_test_tmpdir, name);
  na64_reco_job job;
  na64_reco_job_default(&job);
  job.raw_path = path;
  job.out_path = out;
  job.db_path = DB;
  na64_reco_summary sum;
  na64_err err = {0, ""};
  if (na64_reco_file(&job, &sum, &err)) fail_msg("reco %s: %s", name, err.msg);
  printf("%s: %llu events, EOR %lld, warning: %s\n", name, (unsigned long long)sum.events, (long long)sum.eor_events,
         sum.warning[0] ? sum.warning : "(none)");
  return sum;
}

static void assert_mentions(const char *text, const char *what)
{
  if (!strstr(text, what)) fail_msg("warning \"%s\" does not mention \"%s\"", text, what);
}

static void test_end_of_run(void **state)
{
  (void)state;
  na64_sim *s = make_sim();
  size_t size = 0, last = 0, size_eor = 0, last_eor = 0;
  void *full = make_file(s, NEV, &size_eor, &last_eor);
  char path[512];
  /* complete: no warning */
  na64_reco_summary m = reco_of("complete.dat", full, size_eor, path, sizeof path);
  assert_int_equal(m.events, NEV);
  assert_int_equal(m.eor_events, NEV);
  assert_string_equal(m.warning, "");
  /* the same without its end-of-run event (the bytes before it): truncated */
  void *noeor = make_file(s, -1, &size, &last);
  assert_true(size < size_eor);
  m = reco_of("no_eor.dat", full, size, path, sizeof path);
  assert_int_equal(m.events, NEV);
  assert_int_equal(m.eor_events, -1);
  assert_mentions(m.warning, path);
  assert_mentions(m.warning, "no end-of-run event");
  assert_mentions(m.warning, "6 physics events read");
  /* cut inside the last physics event: the NEV - 1 complete events, truncated */
  m = reco_of("cut.dat", full, last + (size - last) / 2, path, sizeof path);
  assert_int_equal(m.events, NEV - 1);
  assert_mentions(m.warning, path);
  assert_mentions(m.warning, "no end-of-run event");
  assert_mentions(m.warning, "5 physics events read");
  /* an end-of-run event counting two more events than the file holds */
  void *more = make_file(s, NEV + 2, &size, &last);
  m = reco_of("lost.dat", more, size, path, sizeof path);
  assert_int_equal(m.events, NEV);
  assert_int_equal(m.eor_events, NEV + 2);
  assert_mentions(m.warning, path);
  assert_mentions(m.warning, "counts 8 physics events but 6 were read");
  free(full);
  free(noeor);
  free(more);
  na64_sim_free(s);
}

static int setup(void **state) { return na64_test_setup_tmpdir(state); }

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_end_of_run)};
  return cmocka_run_group_tests(tests, setup, na64_test_teardown_tmpdir);
}
