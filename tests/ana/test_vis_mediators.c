/* The visible-mode limit of every electron mediator (visscal, issue 12; docs/visible.md "Scalar and
 * axial X17"): na64_sens_limit_config + na64_limit_scan with mediator vector, scalar, pseudoscalar,
 * axial and g = eps e.
 *
 * How the limits must scale, from the physics and not from our output:
 *  - chirality: for m >> m_e the lepton mass is the only thing that tells a scalar from a
 *    pseudoscalar and a vector from an axial vector (the helicity amplitudes of the massless lepton are
 *    the same up to phases). Their production cross sections and widths differ by O(m_e^2/m^2) ~ 1e-3
 *    at 16.7 MeV (widths: beta^2 = 0.9963, docs/physics.md 2), so their bands agree: within 2% (the
 *    windowed grids' accuracy, ~0.5% per value; the edges move as Y^(1/4) or logarithmically) at 10 and
 *    16.7 MeV (at 5 MeV, m_e^2/m^2 = 0.01, the axial's width is 6% below the vector's and its upper edge
 *    4% above: not a chirality pair any more);
 *  - spin 0 against spin 1 at the same eps: the scalar's production on W is ~0.42 of the vector's and its
 *    width 1.49 times larger, so its decay length is shorter: the band's upper edge (short-lived
 *    side, where the X must survive the WCAL) comes down and the lower edge (long-lived side, yield ~
 *    eps^4 sigma Gamma) goes up by about (1/(0.42 x 1.49))^(1/4) = 1.13: the scalar's band lies
 *    inside the vector's;
 *  - efficiency: the same band at efficiency 0.7 is narrower: the lower edge up by ~(1/0.7)^(1/4) = 1.093
 *    (long-lived regime: decay length >> the WCAL-to-region distance) within 3% at 5 MeV. */
#include <math.h>
#include <stdio.h>

#include "na64/ana.h"
#include "support/na64_test.h"

static void scan(na64_mediator med, double eff, const double *masses, int n, na64_limit_point *pt)
{
  na64_sens_options o;
  na64_sens_options_default(&o);
  o.mode = NA64_SENS_VISIBLE;
  o.eot = 8.4e10; /* PRD 101 (2020) 071101: 2017 + 2018 */
  o.energy = 100.0;
  o.efficiency = eff;
  o.mediator = med;
  na64_limit_config cfg;
  na64_err err = {0, ""};
  if (na64_sens_limit_config(&o, &cfg, &err)) fail_msg("%s", err.msg);
  if (na64_limit_scan(&cfg, masses, n, pt, &err)) fail_msg("%s", err.msg);
}

static void test_chirality_pairs(void **state)
{
  (void)state;
  const double masses[] = {0.01, 0.0167};
  enum { NM = 2 };
  na64_limit_point v[NM], a[NM], s[NM], p[NM];
  scan(NA64_MED_VECTOR, 1.0, masses, NM, v);
  scan(NA64_MED_AXIAL, 1.0, masses, NM, a);
  scan(NA64_MED_SCALAR, 1.0, masses, NM, s);
  scan(NA64_MED_PSEUDOSCALAR, 1.0, masses, NM, p);
  for (int i = 0; i < NM; ++i) {
    print_message("%5.1f MeV: vector %.4g-%.4g axial %.4g-%.4g | pseudoscalar %.4g-%.4g scalar %.4g-%.4g\n",
                  masses[i] * 1e3, v[i].eps_low, v[i].eps_high, a[i].eps_low, a[i].eps_high, p[i].eps_low, p[i].eps_high,
                  s[i].eps_low, s[i].eps_high);
    assert_true(isfinite(v[i].eps_low) && isfinite(s[i].eps_low));
    assert_rel(a[i].eps_low, v[i].eps_low, 0.02);
    assert_rel(a[i].eps_high, v[i].eps_high, 0.02);
    assert_rel(s[i].eps_low, p[i].eps_low, 0.02);
    assert_rel(s[i].eps_high, p[i].eps_high, 0.02);
    /* spin 0 inside spin 1: shorter-lived and less produced */
    assert_true(s[i].eps_low > v[i].eps_low * 1.05 && s[i].eps_high < v[i].eps_high);
  }
}

static void test_efficiency_scaling(void **state)
{
  (void)state;
  const double masses[] = {0.005};
  const na64_mediator meds[] = {NA64_MED_SCALAR, NA64_MED_AXIAL};
  for (int k = 0; k < 2; ++k) {
    na64_limit_point one, half;
    scan(meds[k], 1.0, masses, 1, &one);
    scan(meds[k], 0.7, masses, 1, &half);
    double r = half.eps_low / one.eps_low;
    print_message("%s 5 MeV: eps_low at efficiency 0.7 / at 1 = %.4f ((1/0.7)^(1/4) = %.4f); upper edge %.4g -> %.4g\n",
                  na64_mediator_name(meds[k]), r, pow(1.0 / 0.7, 0.25), one.eps_high, half.eps_high);
    assert_rel(r, pow(1.0 / 0.7, 0.25), 0.03);
    assert_true(half.eps_high < one.eps_high);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chirality_pairs),
      cmocka_unit_test(test_efficiency_scaling),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
