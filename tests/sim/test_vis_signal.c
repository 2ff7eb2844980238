/* The visible-mode signal generator (src/sim/vis_signal.c, issue 12): the pair kinematics against
 * closed forms, the sampled decay positions against the truncated-exponential law, the event
 * yield against the track-length yield, determinism, bad input. */
#include <math.h>
#include <string.h>

#include "na64/sim.h"
#include "support/na64_test.h"

/* Symmetric decay (cos* = 0) of m = 50 MeV at 50 GeV: opening 2 atan(2 p* / p) = 2.0 mrad, the
 * NA64 proposal's number (refdata na64-report-facts.md); the pair's invariant mass is m and its
 * momentum sums to the A' one (energy-momentum conservation, 1e-9 relative: double rounding). */
static void test_pair_kinematics(void **state)
{
  (void)state;
  const double m = 0.050, E = 50.0;
  na64_vis_pair p;
  assert_int_equal(na64_vis_pair_decay(m, E, 0.0, 0.3, &p, NULL), NA64_OK);
  double pstar = sqrt(0.25 * m * m - NA64_M_E * NA64_M_E), ptot = sqrt(E * E - m * m);
  assert_rel(p.opening, 2.0 * atan(2.0 * pstar / ptot), 1e-9);
  assert_rel(p.opening, 2.0e-3, 0.01);
  for (double c = -0.9; c < 1.0; c += 0.45) {
    assert_int_equal(na64_vis_pair_decay(m, E, c, 1.1, &p, NULL), NA64_OK);
    double es = p.E[0] + p.E[1], px = p.p[0][0] + p.p[1][0], py = p.p[0][1] + p.p[1][1], pz = p.p[0][2] + p.p[1][2];
    assert_rel(es, E, 1e-12);
    assert_true(fabs(px) < 1e-15 && fabs(py) < 1e-15);
    assert_rel(pz, ptot, 1e-12);
    for (int s = 0; s < 2; ++s) {
      double pp = p.p[s][0] * p.p[s][0] + p.p[s][1] * p.p[s][1] + p.p[s][2] * p.p[s][2];
      assert_rel(p.E[s] * p.E[s] - pp, NA64_M_E * NA64_M_E, 1e-6); /* E^2 - p^2 = m_e^2: cancellation at 1e8 */
    }
    /* the symmetric decay has the smallest opening angle */
    assert_true(p.opening >= 2.0 * atan(2.0 * pstar / ptot) * (1 - 1e-12));
  }
  na64_err err = {0, ""};
  assert_int_equal(na64_vis_pair_decay(0.001, E, 0.0, 0.0, &p, &err), NA64_EINVAL); /* below 2 m_e */
  assert_int_equal(na64_vis_pair_decay(m, 0.01, 0.0, 0.0, &p, &err), NA64_EINVAL);  /* E < m */
  assert_int_equal(na64_vis_pair_decay(m, E, 1.5, 0.0, &p, &err), NA64_EINVAL);
}

static void dump_2017(na64_beamdump *d)
{
  na64_material wcal;
  assert_int_equal(na64_material_get("WCAL", &wcal, NULL), NA64_OK);
  na64_beamdump_init_visible(d, &wcal, 100.0, 30.1, 30.0, 33.2, 88.0);
}

/* Long-lived A' (m = 5 MeV, eps = 1e-4: l >> 88 cm) decay uniformly in the region: mean position
 * L/2 = 44 cm within 4 standard errors (L / sqrt(12 N)); the event yield is the track-length yield
 * (the same table, 1e-12); a 1 km aperture accepts everything. */
static void test_long_lived(void **state)
{
  (void)state;
  na64_beamdump d;
  dump_2017(&d);
  na64_vis_acceptance acc;
  na64_vis_acceptance_default(&acc);
  acc.half_aperture = 1e5;
  const int n = 4000;
  na64_vis_signal_eff e;
  assert_int_equal(na64_vis_signal_efficiency(&d, 0.005, 1e-4, &acc, 7, n, &e, NULL), NA64_OK);
  assert_int_equal(e.nevents, n);
  assert_true(fabs(e.mean_decay_z - 44.0) < 4.0 * 88.0 / sqrt(12.0 * n));
  assert_rel(e.acceptance, 1.0, 1e-12);
  na64_yield *y;
  assert_int_equal(na64_yield_new(&d, 0.005, &y, NULL), NA64_OK);
  assert_rel(e.yield_per_eot, na64_yield_per_eot(y, 1e-4), 1e-12);
  na64_yield_free(y);
  /* at 100 GeV the 5 MeV pair opens ~ 2 m / E_A' ~ 0.2 mrad: a few mm at the straws, not resolved */
  assert_true(e.mean_opening > 1e-4 && e.mean_opening < 1e-3);
  assert_true(e.separated < 0.5);
}

/* Short-lived A' (16.7 MeV, eps = 3e-4, near the upper edge): decays crowd at the region's start,
 * mean position below L/2; the same seed gives the same numbers (per-event streams). */
static void test_short_lived_and_determinism(void **state)
{
  (void)state;
  na64_beamdump d;
  dump_2017(&d);
  na64_vis_acceptance acc;
  na64_vis_acceptance_default(&acc);
  na64_vis_signal_eff a, b;
  assert_int_equal(na64_vis_signal_efficiency(&d, 0.0167, 3e-4, &acc, 11, 2000, &a, NULL), NA64_OK);
  assert_int_equal(na64_vis_signal_efficiency(&d, 0.0167, 3e-4, &acc, 11, 2000, &b, NULL), NA64_OK);
  assert_memory_equal(&a, &b, sizeof a);
  print_message("16.7 MeV, eps 3e-4: <z> = %.1f cm, acceptance %.3f, <E_A'> = %.1f GeV, <opening> = %.2g rad\n",
                a.mean_decay_z, a.acceptance, a.mean_energy, a.mean_opening);
  assert_true(a.mean_decay_z < 44.0 - 4.0 * 88.0 / sqrt(12.0 * 2000));
  assert_true(a.mean_energy > 30.0 && a.mean_energy < 100.0);
  assert_true(a.acceptance > 0.9); /* sub-mrad pairs stay inside 20 x 20 cm2 */
}

static void test_bad_input(void **state)
{
  (void)state;
  na64_beamdump d;
  dump_2017(&d);
  na64_vis_acceptance acc;
  na64_vis_acceptance_default(&acc);
  na64_vis_signal_eff e;
  na64_err err = {0, ""};
  assert_int_equal(na64_vis_signal_efficiency(&d, 0.0167, 0.0, &acc, 1, 10, &e, &err), NA64_EINVAL);
  assert_int_equal(na64_vis_signal_efficiency(&d, 0.0167, 1e-4, &acc, 1, 0, &e, &err), NA64_EINVAL);
  acc.half_aperture = 0.0;
  assert_int_equal(na64_vis_signal_efficiency(&d, 0.0167, 1e-4, &acc, 1, 10, &e, &err), NA64_EINVAL);
  na64_vis_acceptance_default(&acc);
  na64_beamdump inv;
  na64_material ecal;
  assert_int_equal(na64_material_get("ECAL", &ecal, NULL), NA64_OK);
  na64_beamdump_init_invisible(&inv, &ecal, 100.0, 50.0);
  assert_int_equal(na64_vis_signal_efficiency(&inv, 0.0167, 1e-4, &acc, 1, 10, &e, &err), NA64_EINVAL);
  /* below the e+e- threshold nothing decays visibly: no events, no error */
  assert_int_equal(na64_vis_signal_efficiency(&d, 0.0009, 1e-4, &acc, 1, 10, &e, &err), NA64_OK);
  assert_int_equal(e.nevents, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pair_kinematics),
      cmocka_unit_test(test_long_lived),
      cmocka_unit_test(test_short_lived_and_determinism),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
