/* Results outside the physical domain are never returned as numbers (issue 9, item 10):
 *  - an invisible-mode "limit" above eps = 1 (too few electrons on target) is "not excluded" (NAN);
 *  - widths that underflow double precision (eps ~ 1e-160) are an error naming epsilon, not
 *    "no open decay channel";
 *  - a decay length that overflows (E = 1e308 GeV) is an error naming the energy, never inf. */
#include <float.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/physics.h"
#include "support/na64_test.h"

static void test_limit_above_one_not_excluded(void **state)
{
  (void)state;
  na64_limit_config cfg;
  assert_int_equal(na64_limit_config_default(&cfg, NULL), NA64_OK);
  cfg.eot = 1; /* eps_up = sqrt(2.3 / Y(eps=1)) >> 1: nothing physical excluded */
  cfg.expected = 1;
  double m[2] = {0.001, 0.010};
  na64_limit_point pt[2];
  assert_int_equal(na64_limit_scan(&cfg, m, 2, pt, NULL), NA64_OK);
  for (int i = 0; i < 2; ++i) {
    /* the unphysical value the formula gives, from the returned yield: well above 1 */
    assert_true(sqrt(pt[i].s_up / pt[i].yield_eps1) > 1.0);
    assert_true(isnan(pt[i].eps));
    for (int b = 0; b < 5; ++b) assert_true(isnan(pt[i].band[b]));
  }
  /* with enough EOT the same masses are excluded below 1 */
  cfg.eot = 1e11;
  assert_int_equal(na64_limit_scan(&cfg, m, 2, pt, NULL), NA64_OK);
  for (int i = 0; i < 2; ++i) assert_true(pt[i].eps > 0 && pt[i].eps < 1);
}

static void test_width_underflow(void **state)
{
  (void)state;
  na64_aprime a = {.mass = 0.010, .eps = 1e-160, .dm = NA64_DM_NONE};
  na64_aprime_decay d;
  na64_err err = {0, ""};
  assert_int_equal(na64_aprime_decay_compute(&a, &d, &err), NA64_ERANGE);
  assert_non_null(strstr(err.msg, "epsilon = 1e-160"));
  assert_null(strstr(err.msg, "no open decay channel"));
  /* the smallest eps the message names works, and gives a normal width */
  a.eps = 1e-150;
  assert_int_equal(na64_aprime_decay_compute(&a, &d, &err), NA64_OK);
  assert_true(d.width_total >= DBL_MIN && isfinite(d.ctau));
  /* Gamma_ee = alpha eps^2 m / 3 (1 + 2r) sqrt(1 - 4r), r = (m_e/m)^2: checked at eps = 1e-150 */
  double r = (NA64_M_E / a.mass) * (NA64_M_E / a.mass);
  assert_rel(d.width_ee, NA64_ALPHA_EM * 1e-300 * a.mass / 3.0 * (1 + 2 * r) * sqrt(1 - 4 * r), 1e-12);
  /* below threshold it is still the channel message */
  a.mass = 0.0005;
  assert_int_equal(na64_aprime_decay_compute(&a, &d, &err), NA64_EPHYS);
  assert_non_null(strstr(err.msg, "no open decay channel"));
}

static void test_decay_length_overflow(void **state)
{
  (void)state;
  na64_aprime a = {.mass = 0.010, .eps = 1e-4, .dm = NA64_DM_NONE};
  double L = 0;
  na64_err err = {0, ""};
  assert_int_equal(na64_aprime_decay_length(&a, 1e308, &L, &err), NA64_ERANGE);
  assert_non_null(strstr(err.msg, "1e+308 GeV"));
  /* E = 1e200 GeV: E^2 would overflow, the length itself is finite */
  assert_int_equal(na64_aprime_decay_length(&a, 1e200, &L, &err), NA64_OK);
  assert_true(isfinite(L) && L > 0);
  na64_aprime_decay d;
  assert_int_equal(na64_aprime_decay_compute(&a, &d, &err), NA64_OK);
  assert_rel(L, 1e200 / a.mass * d.ctau, 1e-12); /* beta gamma = p/m = E/m for E >> m */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_limit_above_one_not_excluded),
      cmocka_unit_test(test_width_underflow),
      cmocka_unit_test(test_decay_length_overflow),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
