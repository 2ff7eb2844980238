/* The scalar's and the axial's efficiency tables and islands at every mass of a visible `na64 run`
 * (visphys, issue 12; docs/visible.md "Scalar and axial X17 at every mass"): the report of a small
 * card (support/vis_card.h, masses 2, 10 and 16.7 MeV) read with python3's csv by
 * tests/ana/check_vis_med.py, which states the physics and the tolerances: the partner's rows at the
 * coupling of the same decay length (sqrt(Gamma_partner/Gamma_X) from the widths' formulas, 2e-5), the
 * islands against the partner's (3% at 10 and 16.7 MeV; the upper edge at 2 MeV scaled by
 * sqrt(Gamma_partner/Gamma_X) within 5%), and `na64 limits --dataset SETUP:EOT:RUNDIR` reading them back
 * (1e-4). The equality of the partners' efficiencies itself is measured in test_vis_chirality_long.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

/* the tables, not the background's size: 20000 weighted events per background source (vis_card.h) */
#define NA64_TEST_VIS_BKG_EVENTS 20000
#include "support/vis_card.h"

static void test_med_tables(void **state)
{
  (void)state;
  char card[512], dir[512], cmd[4096];
  snprintf(card, sizeof card, "%s/vis_med.yaml", na64_test_tmpdir);
  snprintf(dir, sizeof dir, "%s/report", na64_test_tmpdir);
  run_report(card, 2, "2,10,16.7", dir);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/ana/check_vis_med.py' '%s' '%s' 2>&1", NA64_SOURCE_DIR, dir,
           NA64_CLI_PATH);
  char *out = NULL;
  int rc = na64_test_run(cmd, &out);
  if (rc != 0 || !out || strcmp(out, "ok\n")) fail_msg("check_vis_med.py: %s", out ? out : "(no output)");
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_med_tables)};
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
