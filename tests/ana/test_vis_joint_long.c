/* The vector and the pseudoscalar X17 of the 2017 + 2018 visible data together (issue 12, branch
 * psjoint; docs/validation.md "Pseudoscalar and vector together (psjoint)"). Long (`make validate`):
 * `na64 run` on both shipped cards (about a minute of CPU; the pseudoscalar's efficiency at every
 * mass), then `na64 limits --dataset visible_2017:5.4e10:R17 --dataset visible_2018:3e10:R18`.
 *
 * Checked against the published numbers:
 * - vector X17, PRD 101 (2020) 071101: 1.2e-4 < eps < 6.8e-4. The upper edge is the one the 2018
 *   decay-region start was derived from (s18, sql/setups/30_visible_2018.sql): within 3% (the fit's
 *   uncertainty on it, +-1.5 cm at 3.4% per cm of s18 is 5%; the efficiency statistics 1%). The lower
 *   edge within 25% (the derived length's +-31% moves it by +-8%; it is 0.80 of the published one,
 *   docs/validation.md "After vis2018").
 * - pseudoscalar X17, PRD 104 (2021) L111102: 2.1e-4 < eps < 3.2e-4, masses 1 - 17.1 MeV. The
 *   published band is narrow: with one decay distance N(eps) = N_max z e^(1 - z) (docs/validation.md
 *   "The island's tip") its edges' ratio 1.52 implies N_max = 2.51 signal events at 16.7 MeV, and
 *   the closing at 17.1 MeV with N_max ~ m^-3.7 implies the same (2.303 (17.1/16.7)^3.7 = 2.51). Ours
 *   is the largest expected signal over eps, N_max = 2.303 / k_c with k_c the EOT scale at which the
 *   combined island opens (0 observed: the CLs limit is 2.30 events whatever the background), within
 *   a factor 1.35 of 2.51 (ours 2.13: the shortfall, 0.85, docs/validation.md), and the island over
 *   masses exists at 10 and 14 MeV (N_max ~ m^-3.7: 4.1 at 14 MeV) with the pseudoscalar's own
 *   efficiency at every mass. */
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

static void test_vector(void **state)
{
  (void)state;
  char *out = combined("vector", 1.0, "16.7");
  double lo, hi;
  assert_true(edges(out, &lo, &hi));
  printf("# vector X17 combined %.4g - %.4g (PRD 101: 1.2e-4 - 6.8e-4)\n", lo, hi);
  assert_true(fabs(log(hi / 6.8e-4)) < log(1.03));
  assert_true(fabs(log(lo / 1.2e-4)) < log(1.25));
  free(out);
}

static void test_pseudoscalar(void **state)
{
  (void)state;
  /* N_max at 16.7 MeV by bisection of the EOT scale in ln k */
  double a = log(0.3), b = log(3.0);
  for (int it = 0; it < 8; ++it) {
    double m = 0.5 * (a + b), lo, hi;
    char *out = combined("pseudoscalar", exp(m), "16.7");
    if (edges(out, &lo, &hi)) b = m;
    else a = m;
    free(out);
  }
  double nmax = 2.303 / exp(0.5 * (a + b));
  printf("# pseudoscalar X17 combined: N_max %.3f (PRD 104's band implies 2.51)\n", nmax);
  assert_true(fabs(log(nmax / 2.51)) < log(1.35));
  /* the island over masses with the pseudoscalar's efficiency of every mass */
  char *out = combined("pseudoscalar", 1.0, "10,14");
  printf("# pseudoscalar combined at 10, 14 MeV:\n%s", out);
  char *line2 = strchr(out, '\n');
  assert_non_null(line2);
  double lo, hi;
  assert_true(edges(out, &lo, &hi) && lo > 0 && hi > lo);
  assert_true(edges(line2 + 1, &lo, &hi) && lo > 0 && hi > lo);
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_vector), cmocka_unit_test(test_pseudoscalar)};
  return cmocka_run_group_tests(tests, setup_dirs, na64_test_teardown_tmpdir);
}
