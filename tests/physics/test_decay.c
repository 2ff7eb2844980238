/* A' decays: the decay-length table of refdata/physics-formulas.md §2, thresholds and limits. */
#include <string.h>

#include "na64/physics.h"
#include "support/na64_test.h"

/* refdata/physics-formulas.md §2 ([DERIVED] with alpha = 1/137.036, ee channel): Gamma, c tau,
 * L(100 GeV), L(150 GeV). Required agreement: 0.1% (issue 2); the table prints 4 digits. */
static void test_decay_length_table(void **state)
{
  (void)state;
  const struct { double m_MeV, eps, width, ctau, L100, L150; } ref[] = {
      {16.7, 1e-4, 4.062e-13, 4.858e-2, 290.9, 436.3},
      {16.7, 3e-4, 3.656e-12, 5.397e-3, 32.32, 48.48},
      {16.7, 1e-3, 4.062e-11, 4.858e-4, 2.909, 4.363},
      {100, 1e-4, 2.433e-12, 8.112e-3, 8.112, 12.17},
  };
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; ++i) {
    na64_aprime a = {ref[i].m_MeV * 1e-3, ref[i].eps, NA64_DM_NONE, 0, 0, 0};
    na64_aprime_decay d;
    double L100, L150;
    assert_int_equal(na64_aprime_decay_compute(&a, &d, NULL), NA64_OK);
    assert_int_equal(na64_aprime_decay_length(&a, 100, &L100, NULL), NA64_OK);
    assert_int_equal(na64_aprime_decay_length(&a, 150, &L150, NULL), NA64_OK);
    assert_rel(d.width_total, ref[i].width, 1e-3);
    assert_rel(d.ctau, ref[i].ctau, 1e-3);
    assert_rel(L100, ref[i].L100, 1e-3);
    assert_rel(L150, ref[i].L150, 1e-3);
  }
}

static void test_lepton_width_limits(void **state)
{
  (void)state;
  /* closed below threshold, exactly zero at it */
  assert_true(na64_width_ll(2 * NA64_M_MU * 0.999, 1e-3, NA64_M_MU) == 0.0);
  assert_true(na64_width_ll(2 * NA64_M_E, 1e-3, NA64_M_E) == 0.0);
  /* m >> m_l: alpha eps^2 m / 3 */
  assert_rel(na64_width_ll(10.0, 1e-3, NA64_M_E), NA64_ALPHA_EM * 1e-6 * 10.0 / 3.0, 1e-7);
  /* scales as eps^2 */
  assert_rel(na64_width_ll(0.3, 2e-4, NA64_M_MU), 4.0 * na64_width_ll(0.3, 1e-4, NA64_M_MU), 1e-12);
}

/* Hadrons: nothing below 2 m_pi; at the rho and phi peaks R follows from the PDG e+e- widths
 * (sigma_peak = 12 pi B_ee/M^2; R(rho) ~ 8, plus the omega tail; R(phi) ~ 50 from B_ee = 2.98e-4),
 * and above ~1.5 GeV R approaches 2 (1 + alpha_s/pi). Tolerances reflect the model's 30% accuracy. */
static void test_hadronic_width(void **state)
{
  (void)state;
  assert_true(na64_r_ratio(0.27) == 0.0);
  assert_true(na64_width_hadronic(0.25, 1e-3) == 0.0);
  assert_true(na64_r_ratio(0.7755) > 8.0 && na64_r_ratio(0.7755) < 14.0);
  double M = 1.019461, rphi = 12 * M_PI * 2.979e-4 / (M * M) / (4 * M_PI * NA64_ALPHA_EM * NA64_ALPHA_EM / (3 * M * M));
  assert_rel(na64_r_ratio(M), rphi, 0.10);
  assert_rel(na64_r_ratio(2.0), 2.0 * (1 + 0.3 / M_PI), 0.05);
  /* low-energy pi pi: R -> beta^3/4 |F|^2 with F ~ 1, i.e. well below 0.1 at 300 MeV */
  assert_true(na64_r_ratio(0.30) > 0.005 && na64_r_ratio(0.30) < 0.05);
}

static void test_dark_matter_widths(void **state)
{
  (void)state;
  double m = 0.3, aD = 0.5;
  /* thresholds */
  assert_true(na64_width_dirac(m, aD, 0.15) == 0.0);
  assert_true(na64_width_scalar(m, aD, 0.151) == 0.0);
  /* light chi: Dirac -> alpha_D m/3, scalar -> alpha_D m/12 */
  assert_rel(na64_width_dirac(m, aD, 1e-6), aD * m / 3, 1e-6);
  assert_rel(na64_width_scalar(m, aD, 1e-6), aD * m / 12, 1e-6);
  /* pseudo-Dirac with no splitting equals the Dirac width */
  assert_rel(na64_width_pseudo_dirac(m, aD, 0.1, 0.1), na64_width_dirac(m, aD, 0.1), 1e-12);
  assert_true(na64_width_pseudo_dirac(m, aD, 0.1, 0.2) == 0.0);
  assert_true(na64_width_pseudo_dirac(m, aD, 0.1, 0.11) < na64_width_dirac(m, aD, 0.1));
  /* invisible mode: BR(inv) ~ 1 for alpha_D >> alpha eps^2 */
  na64_aprime a = {m, 1e-4, NA64_DM_DIRAC, 0.1, 0.1, 0};
  na64_aprime_decay d;
  assert_int_equal(na64_aprime_decay_compute(&a, &d, NULL), NA64_OK);
  assert_true(d.br_inv > 0.999999);
  assert_rel(d.br_ee + d.br_mumu + d.br_had + d.br_inv, 1.0, 1e-12);
}

static void test_y_convention(void **state)
{
  (void)state;
  double y = na64_y_from_eps(1e-4, 0.5, 0.01, 0.03);
  assert_rel(y, 1e-8 * 0.5 / 81.0, 1e-12);
  assert_rel(na64_eps_from_y(y, 0.5, 0.01, 0.03), 1e-4, 1e-12);
}

static void test_bad_parameters(void **state)
{
  (void)state;
  na64_aprime_decay d;
  na64_err err = {0};
  na64_aprime bad_eps = {0.01, 1.5, NA64_DM_NONE, 0, 0, 0};
  assert_int_equal(na64_aprime_decay_compute(&bad_eps, &d, &err), NA64_EPHYS);
  assert_non_null(strstr(err.msg, "1.5"));
  na64_aprime neg_mass = {-0.01, 1e-4, NA64_DM_NONE, 0, 0, 0};
  assert_int_equal(na64_aprime_decay_compute(&neg_mass, &d, &err), NA64_EPHYS);
  assert_non_null(strstr(err.msg, "-10"));
  na64_aprime zero_eps = {0.01, 0.0, NA64_DM_NONE, 0, 0, 0};
  assert_int_equal(na64_aprime_check(&zero_eps, &err), NA64_EPHYS);
  na64_aprime below = {0.0009, 1e-4, NA64_DM_NONE, 0, 0, 0};
  assert_int_equal(na64_aprime_decay_compute(&below, &d, &err), NA64_EPHYS);
  na64_aprime ok = {0.0167, 1e-4, NA64_DM_NONE, 0, 0, 0};
  double L;
  assert_int_equal(na64_aprime_decay_length(&ok, 0.01, &L, &err), NA64_EPHYS);
  na64_aprime bad_ad = {0.1, 1e-4, NA64_DM_DIRAC, 7.0, 0.01, 0};
  assert_int_equal(na64_aprime_check(&bad_ad, &err), NA64_EPHYS);
  na64_aprime nan_m = {NAN, 1e-4, NA64_DM_NONE, 0, 0, 0};
  assert_int_equal(na64_aprime_check(&nan_m, &err), NA64_EPHYS);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decay_length_table), cmocka_unit_test(test_lepton_width_limits),
      cmocka_unit_test(test_hadronic_width),     cmocka_unit_test(test_dark_matter_widths),
      cmocka_unit_test(test_y_convention),       cmocka_unit_test(test_bad_parameters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
