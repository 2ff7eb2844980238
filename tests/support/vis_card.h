/* A small visible card and `na64 run` on it, shared by the visible-job tests (issue 12):
 * tests/ana/test_vis_job_threads.c and test_vis_x17_long.c. Include after support/na64_test.h.
 * A test that checks exactness (threads, parts) rather than the background's size defines
 * NA64_TEST_VIS_BKG_EVENTS first: the weighted events per background source (default 200000, two
 * thirds of a run's CPU time; the report's numbers then differ, every code path is still taken). */
#ifndef NA64_TEST_VIS_CARD_H
#define NA64_TEST_VIS_CARD_H
#include <stdio.h>
#include <stdlib.h>

#define DB NA64_BINARY_DIR "/conditions.db"

static void write_card(const char *path, int threads, const char *masses)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
#ifdef NA64_TEST_VIS_BKG_EVENTS
  fprintf(f, "backgrounds:\n  events: %d\n", NA64_TEST_VIS_BKG_EVENTS);
#endif
  fprintf(f, "setup:\n  run: 2800\n  conditions: \"%s\"\nbeam:\n  energy: 100.0\n"
             "aprime:\n  mass_MeV: 16.7\n  epsilon: 2.0e-4\n  decay: ee\n"
             "analysis:\n  eot: 5.4e10\n  events: 301\n  signal_events: 203\n  seed: 7\n  threads: %d\n"
             "  masses_MeV: \"%s\"\n", DB, threads, masses);
  fclose(f);
}

static void run_report(const char *card, int threads, const char *masses, const char *dir)
{
  write_card(card, threads, masses);
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s run %s --report-dir %s 2>/dev/null", NA64_CLI_PATH, card, dir);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  free(out);
}

#endif
