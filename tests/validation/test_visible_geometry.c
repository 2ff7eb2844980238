/* The visible-mode geometry derived from the published band (issue 12, sql/setups/20_visible_2017.sql,
 * tools/fit_visible_geometry.py): with the WCAL at 30.1 X0 and the decay region 88 cm long from
 * 33.2 cm behind it, the 90% CL band for 5.4e10 EOT at 100 GeV (efficiency 1, E_A' > 30 GeV) against
 * NA64 PRL 120 (2018) 231802 (tests/refdata/limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_*.csv)
 * and its X17 range 1.3e-4 < eps < 4.2e-4 (abstract). And the refit of 2026-12-06 (the conditions
 * database's region since then: 35.4 cm behind the WCAL, 295 cm long) with the efficiency `na64 run`
 * measures, checked at the masses the fit did not use. */
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

/* The refitted 2017 setup (docs/validation.md "Refit with the measured efficiency"): the conditions
 * database's geometry of run 2800 with the measured signal, efficiency 0.84 for E_A' >= 50 GeV. */
static void refit_2017(na64_limit_config *cfg)
{
  na64_sens_options o;
  na64_sens_options_default(&o);
  assert_int_equal(na64_sens_options_from_run(&o, DB, 2800, 0, 0, NULL, 0, NULL), NA64_OK);
  assert_rel(o.decay_start, 29.4, 1e-3); /* sql/setups/20_visible_2017.sql (vis2018: 33.6 X0 WCAL, the same flight distance as 30.1 X0 + 35.4 cm less 4 cm) */
  assert_rel(o.decay_length, 295.0, 1e-3);
  assert_int_equal(na64_limit_config_default(cfg, NULL), NA64_OK);
  na64_material wcal;
  assert_int_equal(na64_material_get("WCAL", &wcal, NULL), NA64_OK);
  na64_beamdump_init_visible(&cfg->dump, &wcal, 100.0, o.wcal_x0, 50.0, o.decay_start, o.decay_length);
  cfg->efficiency = 0.84;
  cfg->eot = 5.4e10;
}

/* The refit is tuned to the published edges at 3, 5, 7, 12, 14, 18 MeV (tools/fit_visible_geometry.py);
 * the check is at 2, 10 and 16.7 MeV, not used: both edges within 40% (the fit's residuals reach 23%
 * at the fit masses, chi2/ndf = 8.4 with 5% errors: the model's edges fall faster with the mass
 * than the published ones), the X17 lower edge within 25% of the abstract's 1.3e-4 and the upper
 * within 25% of the digitised curve's 3.51e-4 (the abstract's 4.2e-4 lies above the curve), and the
 * band closing within 2.5 MeV of the published 20.85 MeV (the refit gives 18.6: the same shape
 * residual; 20 MeV is not excluded). */
static void test_refit_check(void **state)
{
  (void)state;
  na64_limit_config cfg;
  refit_2017(&cfg);
  const double vm[] = {2, 10, 16.7};
  edges_against_published(&cfg, vm, 3, 0.40, "refit ");
  double m = 0.0167;
  na64_limit_point p;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p, NULL), NA64_OK);
  assert_rel(p.eps_low, 1.3e-4, 0.25);
  assert_rel(p.eps_high, 3.51e-4, 0.25);
  double close = closing_mass(&cfg, 16.0);
  print_message("refit: band closes at %.1f MeV (published 20.85)\n", close);
  assert_true(fabs(close - 20.85) < 2.5);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_band_edges),
      cmocka_unit_test(test_closing_mass),
      cmocka_unit_test(test_x17_range),
      cmocka_unit_test(test_refit_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
