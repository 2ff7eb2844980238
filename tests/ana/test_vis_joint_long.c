/* The vector and the pseudoscalar X17 of the 2017 + 2018 visible data together (issue 12, branch
 * psjoint; docs/validation.md "Pseudoscalar and vector together (psjoint)"). Long (`make validate`):
 * `na64 run` on both shipped cards (about a minute of CPU; the pseudoscalar's efficiency at every
 * mass), then `na64 limits --dataset visible_2017:5.4e10:R17 [--dataset visible_2018:3e10:R18]`.
 *
 * The decay regions (s17 = 15.0 +- 1.1 cm, s18 = 3.0 cm, L = 110 +- 20 cm; sql/setups) are the joint
 * fit of the three papers' X17 edges at 16.7 MeV; this checks that the geometry, with the efficiency
 * the jobs measure, reproduces those edges within the fit's uncertainty:
 * - PRL 120 (2018) 231802, 2017 alone, vector: 1.3e-4 < eps < 4.2e-4; within 10% (L +-20 cm moves the
 *   lower edge by ~5%, s17 +-1.1 cm the upper by ~3%, the efficiency statistics ~1.5%);
 * - PRD 101 (2020) 071101, 2017 + 2018, vector: 1.2e-4 - 6.8e-4; the upper edge (the one s18 was
 *   derived from) within 3% (s18 +-1.5 cm: 5% at its bound), the lower within 15%;
 * - PRD 104 (2021) L111102, 2017 + 2018, pseudoscalar: 2.1e-4 - 3.2e-4 and masses 1 - 17.1 MeV; both
 *   edges within 15% (the fit's residuals: 0.94 and 0.90; the published band is narrow, its largest
 *   signal ~2.5 events, so its edges move 2-3x faster than a wide band's with the signal), the
 *   island present at 10 and 14 MeV with the pseudoscalar's own efficiency per mass and absent at
 *   18 MeV (closing between 16.7 and 18 MeV; published 17.1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

static char r17[600], r18[600];

static int setup_dirs(void **state)
{
  int st = na64_test_setup_tmpdir(state);
  if (st) return st;
  const char *card[2] = {"visible_2017.yaml", "visible_2018.yaml"};
  char *dir[2] = {r17, r18};
  for (int k = 0; k < 2; ++k) {
    snprintf(dir[k], sizeof r17, "%s/r%d", na64_test_tmpdir, k);
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s run %s/configs/%s --report-dir %s 2>/dev/null", NA64_CLI_PATH, NA64_SOURCE_DIR, card[k],
             dir[k]);
    if (na64_test_run(cmd, &out) != 0) return -1;
    free(out);
  }
  return 0;
}

/* the combined island at `masses` for mediator med with the EOT scaled by k: "lo hi" per line */
static char *combined(const char *med, double k, const char *masses)
{
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd,
           "%s limits --mode visible --mediator %s --masses %s --format csv --dataset visible_2017:%.6g:%s "
           "--dataset visible_2018:%.6g:%s 2>/dev/null | grep -v '^#' | tail -n +2",
           NA64_CLI_PATH, med, masses, 5.4e10 * k, r17, 3e10 * k, r18);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  return out;
}

static int edges(const char *line, double *lo, double *hi)
{
  *lo = *hi = NAN;
  return sscanf(line, "%*[^,],%lf,%lf", lo, hi) == 2;
}

static void check(const char *what, const char *out, double pub_lo, double pub_hi, double tol_lo, double tol_hi)
{
  double lo, hi;
  assert_true(edges(out, &lo, &hi));
  printf("# %s: %.4g - %.4g (published %.2g - %.2g)\n", what, lo, hi, pub_lo, pub_hi);
  assert_true(fabs(log(lo / pub_lo)) < log(1.0 + tol_lo));
  assert_true(fabs(log(hi / pub_hi)) < log(1.0 + tol_hi));
}

static void test_vector(void **state)
{
  (void)state;
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd,
           "%s limits --mode visible --masses 16.7 --format csv --dataset visible_2017:5.4e10:%s 2>/dev/null | "
           "grep -v '^#' | tail -n +2", NA64_CLI_PATH, r17);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  check("vector X17, 2017 alone (PRL 120)", out, 1.3e-4, 4.2e-4, 0.10, 0.10);
  free(out);
  out = combined("vector", 1.0, "16.7");
  check("vector X17, 2017 + 2018 (PRD 101)", out, 1.2e-4, 6.8e-4, 0.15, 0.03);
  free(out);
}

static void test_pseudoscalar(void **state)
{
  (void)state;
  char *out = combined("pseudoscalar", 1.0, "16.7");
  check("pseudoscalar X17, 2017 + 2018 (PRD 104)", out, 2.1e-4, 3.2e-4, 0.15, 0.15);
  free(out);
  /* the island over masses with the pseudoscalar's efficiency of every mass */
  out = combined("pseudoscalar", 1.0, "10,14,18");
  printf("# pseudoscalar combined at 10, 14, 18 MeV:\n%s", out);
  char *l2 = strchr(out, '\n');
  assert_non_null(l2);
  char *l3 = strchr(l2 + 1, '\n');
  assert_non_null(l3);
  double lo, hi;
  assert_true(edges(out, &lo, &hi) && lo > 0 && hi > lo);
  assert_true(edges(l2 + 1, &lo, &hi) && lo > 0 && hi > lo);
  assert_false(edges(l3 + 1, &lo, &hi) && lo > 0);
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_vector), cmocka_unit_test(test_pseudoscalar)};
  return cmocka_run_group_tests(tests, setup_dirs, na64_test_teardown_tmpdir);
}
