/*
 * Validation of the expected limits against the published NA64 curves (refdata, digitised plots)
 * at 1, 2, 10, 16.7, 100 and 200 MeV; the ratio table is docs/validation.md.
 *
 * Assumptions (docs/validation.md): signal efficiency 0.6 for every data set (the NA64 invisible
 * analyses quote ~0.5-0.7, refdata RECALLED); ETL cross sections for PRD 97 and PRL 123, which state
 * that they use them, and WW for PRL 118 (2016 data, before the exact-tree-level calculation); CLs
 * with n_obs = 0 (2.30 events whatever the background). Tolerances:
 *  - invisible: every ratio ours/published within 25% (issue 3's aim; the spread of the ratios, a
 *    mass-dependent 0.8-1.2, reflects the papers' mass-dependent efficiencies that we do not model);
 *  - visible: lower edge within 30% (efficiency and decay-volume length, both estimates), upper edge
 *    within a factor 2 (it is set by the distance the A' must fly before the decay volume, i.e. the
 *    unpublished WCAL length, estimated at 30 X0 in the conditions database), and the band closes
 *    between 17 and 25 MeV (published: 20.85 MeV).
 */
#include <stdio.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

static const double masses_MeV[] = {1, 2, 10, 16.7, 100, 200};
enum { NM = sizeof masses_MeV / sizeof masses_MeV[0] };


static void invisible_set(const char *file, double eot, na64_xsec_method method, const char *name)
{
  na64_test_csv pub;
  na64_test_load_refdata(file, &pub);
  na64_limit_config cfg;
  assert_int_equal(na64_limit_config_default(&cfg, NULL), NA64_OK);
  cfg.eot = eot;
  cfg.efficiency = 0.6;
  cfg.dump.method = method;
  double m[NM];
  na64_limit_point pt[NM];
  for (int i = 0; i < NM; ++i) m[i] = masses_MeV[i] * 1e-3;
  na64_err err = {0};
  assert_int_equal(na64_limit_scan(&cfg, m, NM, pt, &err), NA64_OK);
  print_message("| %s | %s |", name, na64_xsec_method_name(method));
  for (int i = 0; i < NM; ++i) {
    double p = na64_test_csv_loglog(&pub, masses_MeV[i]);
    print_message(" %.2e / %.2e = %.2f |", pt[i].eps, p, pt[i].eps / p);
  }
  print_message("\n");
  for (int i = 0; i < NM; ++i) assert_rel(pt[i].eps, na64_test_csv_loglog(&pub, masses_MeV[i]), 0.25);
  na64_test_csv_free(&pub);
}

static void test_invisible_2017(void **state)
{
  (void)state;
  invisible_set("limit_invisible_NA64_PRL118_011802_2017_2p75e9EOT.csv", 2.75e9, NA64_XS_WW, "PRL 118, 2.75e9");
}
static void test_invisible_2018(void **state)
{
  (void)state;
  invisible_set("limit_invisible_NA64_PRD97_072002_2018_4p3e10EOT.csv", 4.3e10, NA64_XS_ETL, "PRD 97, 4.3e10");
}
static void test_invisible_2019(void **state)
{
  (void)state;
  invisible_set("limit_invisible_NA64_PRL123_121801_2019_2p84e11EOT.csv", 2.84e11, NA64_XS_ETL, "PRL 123, 2.84e11");
}

static void test_visible_2018(void **state)
{
  (void)state;
  na64_test_csv lo, hi;
  na64_test_load_refdata("limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_lower.csv", &lo);
  na64_test_load_refdata("limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_upper.csv", &hi);
  na64_limit_config cfg;
  assert_int_equal(na64_limit_config_default(&cfg, NULL), NA64_OK);
  na64_material wcal;
  na64_material_get("WCAL", &wcal, NULL);
  /* the conditions-database estimates of the 2017 setup (sql/setups/20_visible_2017.sql) */
  na64_beamdump_init_visible(&cfg.dump, &wcal, 100, 30, 30, 7.5, 300);
  cfg.eot = 5.4e10;
  cfg.efficiency = 0.6;
  const double vm[] = {2, 10, 16.7, 20};
  na64_limit_point pt[4];
  for (int i = 0; i < 4; ++i) {
    double m = vm[i] * 1e-3;
    assert_int_equal(na64_limit_scan(&cfg, &m, 1, &pt[i], NULL), NA64_OK);
    double pl = na64_test_csv_loglog(&lo, vm[i]), ph = na64_test_csv_loglog(&hi, vm[i]);
    print_message("| visible %.1f MeV | low %.2e / %.2e = %.2f | high %.2e / %.2e = %.2f |\n", vm[i], pt[i].eps_low, pl,
                  pt[i].eps_low / pl, pt[i].eps_high, ph, pt[i].eps_high / ph);
    assert_rel(pt[i].eps_low, pl, 0.30);
    assert_true(pt[i].eps_high / ph > 0.5 && pt[i].eps_high / ph < 2.0);
  }
  /* where the band closes */
  double close = NAN;
  for (double m = 15.0; m < 40.0; m *= 1.01) {
    double mm = m * 1e-3;
    na64_limit_point p;
    assert_int_equal(na64_limit_scan(&cfg, &mm, 1, &p, NULL), NA64_OK);
    if (isnan(p.eps_low)) {
      close = m;
      break;
    }
  }
  print_message("| visible band closes at %.1f MeV (published 20.85) |\n", close);
  assert_true(close > 17.0 && close < 25.0);
  na64_test_csv_free(&lo);
  na64_test_csv_free(&hi);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_invisible_2017), cmocka_unit_test(test_invisible_2018),
      cmocka_unit_test(test_invisible_2019), cmocka_unit_test(test_visible_2018),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
