/* The visible-mode geometry derived from the published band (issue 12, sql/setups/20_visible_2017.sql,
 * tools/fit_visible_geometry.py): with the WCAL at 30.1 X0 and the decay region 88 cm long from
 * 33.2 cm behind it, the 90% CL band for 5.4e10 EOT at 100 GeV (efficiency 1, E_A' > 30 GeV) against
 * NA64 PRL 120 (2018) 231802 (tests/refdata/limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_*.csv)
 * and its X17 range 1.3e-4 < eps < 4.2e-4 (abstract). And the conditions database's geometry since the
 * joint fit of 2026-12-07 (psjoint; refitted with the exact cross sections by visfit2: 13.5 cm behind
 * the 33.6 X0 WCAL, 91 cm long), which follows the X17 edges of three papers rather than the digitised
 * band. */
#include <math.h>

#include "na64/ana.h"
#include "support/na64_test.h"


static void derived_2017(na64_limit_config *cfg)
{
  assert_int_equal(na64_limit_config_default(cfg, NULL), NA64_OK);
  na64_material wcal;
  assert_int_equal(na64_material_get("WCAL", &wcal, NULL), NA64_OK);
  na64_beamdump_init_visible(&cfg->dump, &wcal, 100.0, 30.1, 30.0, 33.2, 88.0);
  cfg->eot = 5.4e10;
}

/* Both edges of cfg's band at the masses vm (MeV) against the published ones within tol */
static void edges_against_published(const na64_limit_config *cfg, const double *vm, int n, double tol, const char *label)
{
  na64_test_csv lo, hi;
  na64_test_load_refdata("limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_lower.csv", &lo);
  na64_test_load_refdata("limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_upper.csv", &hi);
  for (int i = 0; i < n; ++i) {
    double m = vm[i] * 1e-3;
    na64_limit_point p;
    assert_int_equal(na64_limit_scan(cfg, &m, 1, &p, NULL), NA64_OK);
    double pl = na64_test_csv_loglog(&lo, vm[i]), ph = na64_test_csv_loglog(&hi, vm[i]);
    print_message("%s| %.1f MeV | low %.3g / %.3g = %.2f | high %.3g / %.3g = %.2f |\n", label, vm[i], p.eps_low, pl,
                  p.eps_low / pl, p.eps_high, ph, p.eps_high / ph);
    assert_rel(p.eps_low, pl, tol);
    assert_rel(p.eps_high, ph, tol);
  }
  na64_test_csv_free(&lo);
  na64_test_csv_free(&hi);
}

/* The first mass (MeV, steps of 0.1 from `from`) where cfg's band is closed */
static double closing_mass(const na64_limit_config *cfg, double from)
{
  for (double m = from; m < 26.0; m += 0.1) {
    double g = m * 1e-3;
    na64_limit_point p;
    assert_int_equal(na64_limit_scan(cfg, &g, 1, &p, NULL), NA64_OK);
    if (isnan(p.eps_low)) return m;
  }
  return NAN;
}

/* Both edges at 2, 10, 16.7 and 20 MeV. Tolerance 40% in eps: the fit (chi2/ndf = 14 with 5%
 * digitisation errors) leaves residuals up to 37% (lower edge at 2 MeV) because the model's edges
 * have a different mass dependence from the published ones (docs/validation.md); before the
 * derivation the upper edge was 1.7-2.0 times too high. */
static void test_band_edges(void **state)
{
  (void)state;
  na64_limit_config cfg;
  derived_2017(&cfg);
  const double vm[] = {2, 10, 16.7, 20};
  edges_against_published(&cfg, vm, 4, 0.40, "");
}

/* The band closes at 20.85 MeV in the published figure (last digitised point); ours within 1 MeV
 * (the fit gives 20.1 MeV). */
static void test_closing_mass(void **state)
{
  (void)state;
  na64_limit_config cfg;
  derived_2017(&cfg);
  double close = closing_mass(&cfg, 18.0);
  print_message("band closes at %.1f MeV (published 20.85)\n", close);
  assert_true(fabs(close - 20.85) < 1.0);
}

/* X17 (16.7 MeV, vector coupling): PRL 120 abstract 1.3e-4 < eps < 4.2e-4. Tolerance 25%: the
 * lower edge as above, the upper edge quoted for the X17 is above the digitised A' curve at 16.7 MeV
 * (3.5e-4; refdata na64-published-numbers.md leaves the difference unresolved). */
static void test_x17_range(void **state)
{
  (void)state;
  na64_limit_config cfg;
  derived_2017(&cfg);
  double m = 0.0167;
  na64_limit_point p;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p, NULL), NA64_OK);
  print_message("X17: %.3g < eps < %.3g (PRL 120: 1.3e-4 - 4.2e-4)\n", p.eps_low, p.eps_high);
  assert_rel(p.eps_low, 1.3e-4, 0.25);
  assert_rel(p.eps_high, 4.2e-4, 0.25);
}

#define DB NA64_BINARY_DIR "/conditions.db"

/* The 2017 setup of the conditions database since visfit2 (docs/validation.md "visfit2: the joint
 * geometry with the exact cross sections"): the decay region 91 cm long from 13.5 cm behind the 33.6 X0
 * WCAL, derived from the X17 edges of PRL 120, PRD 101 and PRD 104 together with the exact cross
 * sections and the measured efficiency (psjoint's fit, with ETL, gave 15.0 cm and 110 cm); here with
 * the refit's constant signal efficiency, 0.84 for E_A' >= 50 GeV. */
static void joint_2017(na64_limit_config *cfg)
{
  na64_sens_options o;
  na64_sens_options_default(&o);
  assert_int_equal(na64_sens_options_from_run(&o, DB, 2800, 0, 0, NULL, 0, NULL), NA64_OK);
  assert_rel(o.decay_start, 13.5, 1e-3); /* sql/setups/20_visible_2017.sql */
  assert_rel(o.decay_length, 91.0, 1e-3);
  assert_int_equal(na64_limit_config_default(cfg, NULL), NA64_OK);
  na64_material wcal;
  assert_int_equal(na64_material_get("WCAL", &wcal, NULL), NA64_OK);
  na64_beamdump_init_visible(&cfg->dump, &wcal, 100.0, o.wcal_x0, 50.0, o.decay_start, o.decay_length);
  cfg->efficiency = 0.84;
  cfg->eot = 5.4e10;
}

/* The joint fit follows the three abstracts' X17 edges, not the digitised PRL 120 A' band, and the two
 * disagree at 16.7 MeV (abstract 4.2e-4, curve 3.51e-4): docs/validation.md "Pseudoscalar and vector
 * together (psjoint)" step 2. Checked here, at constant efficiency:
 * - the X17 upper edge within 10% of PRL 120's 4.2e-4 (the fit's edges were within 5% with the measured
 *   efficiency; the constant 0.84 moves the upper edge by a few per cent), the lower edge within 20% of
 *   1.3e-4 (the constant efficiency overestimates the soft A' that make the lower edge: 0.12 measured);
 * - the band's lower edges from 10 MeV within 25% of the digitised ones (1.21 at 10 MeV with visfit2's
 *   91 cm region, 1.16 with psjoint's 110 cm: the lower edge ~ (L x efficiency)^(-1/4), (110/91)^(1/4)
 *   = 1.05); the constant 0.84 is not the measured efficiency, with which the lower edge at 10 MeV is 0.99
 *   of the digitised one, checked within 15% by tests/ana/test_vis_joint_long.c;
 * - its upper edges at 2-16.7 MeV above the digitised ones by a factor in [1.0, 1.8]: the published
 *   tension (the curve's upper edge at 16.7 MeV lies below the abstract's X17 edge; the model's upper
 *   edge falls as m^-1.35 from 2 to 16.7 MeV, the curve's as m^-1.22, so the ratio grows toward 2 MeV);
 * - the closing mass within 1 MeV of the published 20.85 MeV. */
static void test_joint_check(void **state)
{
  (void)state;
  na64_limit_config cfg;
  joint_2017(&cfg);
  na64_test_csv lo, hi;
  na64_test_load_refdata("limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_lower.csv", &lo);
  na64_test_load_refdata("limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_upper.csv", &hi);
  const double vm[] = {2, 5, 10, 14, 16.7};
  for (int i = 0; i < 5; ++i) {
    double m = vm[i] * 1e-3;
    na64_limit_point p;
    assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p, NULL), NA64_OK);
    double rl = p.eps_low / na64_test_csv_loglog(&lo, vm[i]), rh = p.eps_high / na64_test_csv_loglog(&hi, vm[i]);
    print_message("joint | %.1f MeV | low / digitised %.2f | high / digitised %.2f |\n", vm[i], rl, rh);
    if (vm[i] >= 10.0) assert_true(fabs(rl - 1.0) < 0.25);
    assert_true(rh >= 1.0 && rh <= 1.8);
    if (vm[i] == 16.7) {
      print_message("joint: X17 %.3g < eps < %.3g (PRL 120: 1.3e-4 - 4.2e-4)\n", p.eps_low, p.eps_high);
      assert_rel(p.eps_high, 4.2e-4, 0.10);
      assert_rel(p.eps_low, 1.3e-4, 0.20);
    }
  }
  na64_test_csv_free(&lo);
  na64_test_csv_free(&hi);
  double close = closing_mass(&cfg, 16.0);
  print_message("joint: band closes at %.1f MeV (published 20.85)\n", close);
  assert_true(fabs(close - 20.85) < 1.0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_band_edges),
      cmocka_unit_test(test_closing_mass),
      cmocka_unit_test(test_x17_range),
      cmocka_unit_test(test_joint_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
