/* `na64 run configs/invisible_2018.yaml` (the 2016-2018 invisible data set, 2.84e11 EOT: 1e6 beam
 * particles through digitisation, reconstruction and the selection, 20000 per mass for the
 * efficiency) against the published limit of that data set, NA64 PRL 123 (2019) 121801
 * (tests/refdata, digitised). `make validate` only (label long: about 10 s of CPU, a minute of wall
 * time on a shared machine). docs/validation.md discusses the numbers.
 *
 * Tolerances and why:
 * - efficiency per mass in [0.5, 0.95]: NA64 quotes roughly 0.5-0.7 (na64-report-facts.md); ours
 *   is higher (about 0.75-0.83) because the fast simulation has no DAQ dead time, SRD noise or
 *   pile-up in the shower shape; a value outside this range is a broken selection, not physics.
 * - limit / published in [0.55, 1.15] from 1 to 500 MeV: with efficiency e the limit scales as
 *   1/sqrt(e): 0.8 against NA64's 0.5-0.7 gives 0.8-0.95; above 100 MeV our ETL cross section
 *   is up to 25% above the one behind the published curve (docs/validation.md, first table), which
 *   brings the ratio to ~0.6 at 500 MeV. Outside these bounds something else changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/na64_test.h"

static void run_report(void)
{
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run '%s/configs/invisible_2018.yaml' --report-dir rep 2>&1", na64_test_tmpdir,
           NA64_CLI_PATH, NA64_SOURCE_DIR);
  int st = na64_test_run(cmd, &out);
  if (st != 0) fail_msg("na64 run: exit %d\n%s", st, out ? out : "");
  free(out);
}

static void test_run_limit_2016_2018(void **state)
{
  (void)state;
  run_report();
  char path[512];
  na64_test_csv eff, lim, pub;
  snprintf(path, sizeof path, "%s/rep/efficiency.csv", na64_test_tmpdir);
  na64_test_load_csv(path, &eff);
  snprintf(path, sizeof path, "%s/rep/limit.csv", na64_test_tmpdir);
  na64_test_load_csv(path, &lim);
  na64_test_load_refdata("limit_invisible_NA64_PRL123_121801_2019_2p84e11EOT.csv", &pub);
  int ce = na64_test_csv_col(&eff, "efficiency");
  assert_true(eff.nrows >= 1);
  for (int i = 0; i < eff.nrows; ++i) {
    double e = eff.v[i * eff.ncols + ce];
    printf("efficiency at %g MeV: %.4f\n", eff.v[i * eff.ncols], e);
    assert_true(e >= 0.5 && e <= 0.95);
  }
  const double masses[] = {1, 2, 10, 16.7, 100, 200, 500};
  for (size_t i = 0; i < sizeof masses / sizeof masses[0]; ++i) {
    double ours = na64_test_csv_loglog(&lim, masses[i]), p = na64_test_csv_loglog(&pub, masses[i]);
    printf("m = %6.1f MeV: eps %.3g, published %.3g, ratio %.2f\n", masses[i], ours, p, ours / p);
    assert_true(ours / p >= 0.55 && ours / p <= 1.15);
  }
  na64_test_csv_free(&eff);
  na64_test_csv_free(&lim);
  na64_test_csv_free(&pub);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_run_limit_2016_2018)};
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
