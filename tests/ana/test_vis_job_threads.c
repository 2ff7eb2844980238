/* Threads of the visible job (issue 12; src/ana/vis_job.c): `na64 run` on a visible card with
 * analysis.threads 1 and 2 writes the same report, byte for byte (every file but card.yaml, which
 * is the card itself): each event draws from its own streams and the cut flows are integer counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

/* exactness, not the background size: 20000 weighted events per background source (vis_card.h) */
#define NA64_TEST_VIS_BKG_EVENTS 20000
#include "support/vis_card.h"

static void test_same_report(void **state)
{
  (void)state;
  char card[512], d1[512], dn[512], cmd[4096];
  snprintf(card, sizeof card, "%s/vis_threads.yaml", na64_test_tmpdir);
  snprintf(d1, sizeof d1, "%s/threads1", na64_test_tmpdir);
  run_report(card, 1, "10", d1);
  static const char *const files[] = {"cutflow.csv", "efficiency.csv", "limit.csv", "validation.csv",
                                      "index.html",  "limit.svg",      "limit.png"};
  for (int t = 2; t <= 2; ++t) {
    snprintf(dn, sizeof dn, "%s/threads%d", na64_test_tmpdir, t);
    run_report(card, t, "10", dn);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; ++i) {
      snprintf(cmd, sizeof cmd, "cmp '%s/%s' '%s/%s'", d1, files[i], dn, files[i]);
      if (system(cmd) != 0) fail_msg("%s differs between 1 and %d threads", files[i], t);
    }
  }
  /* and the counts are real: every event of both samples went through the chain */
  snprintf(cmd, sizeof cmd,
           "python3 -c \"import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); "
           "print(r[0]['background_events'], r[0]['signal_events'])\" %s/cutflow.csv", d1);
  char *out = NULL;
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_string_equal(out, "301 203\n");
  free(out);

}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_report),
  };
  /* its own scratch directory (na64_test_setup_tmpdir): without it na64_test_tmpdir is "" and the
   * cards and reports went to /, shared by every copy of the test running at once (the helpers'
   * trees, parallel ctest): a copy's write_card (fopen "w") truncated the card another copy was
   * reading, and the copies wrote their reports over each other's. */
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
