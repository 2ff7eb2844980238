/* The visible response's gamma functions (src/sim/vis_gamma.c, branch vissmear) against GSL's
 * independent implementations (gsl_sf_lngamma: Lanczos and its own series; gsl_sf_gamma_inc_Q:
 * Temme's uniform asymptotics and continued fractions):
 * - vis_lngamma (Stirling's series at a + n >= 8 and the recurrence): the series' remainder is below
 *   6.3e-12 (A&S 6.1.42), the rest is rounding of terms up to ~|ln Gamma|: tolerance 1e-11 + 4e-15
 *   |ln Gamma|, over a = 0.05-200;
 * - vis_gamma_q_pre (Legendre's continued fraction / the series, to 1e-10 a step): relative 1e-9 where
 *   Q > 1e-280, over a = 1.1-30 (the profiles' shapes) and x = 0.01-80 (both branches);
 * - vis_gamma_table_p (the 4-point Lagrange cubic in a, step 1/64): within 1e-9 of sim_gamma_p at
 *   the x of the WCAL faces of both visible setups (0.5 x 3.5-30 X0), at 20000 shapes a in the table,
 *   and 0 outside it; the interpolation's error bound h^4 max|P''''| 3/128 ~ 1e-9 for |P''''| < 3
 *   (printed: the largest error seen). In energy, 1e-9 E is far below the sampling fluctuation 0.18 sqrt(E). */
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdio.h>

#include "sim/ecal_shape.c" /* sim_gamma_p: hidden in libna64 */
#include "sim/vis_gamma.c"  /* hidden in libna64 */
#include "support/na64_test.h"

static void test_lngamma(void **state)
{
  (void)state;
  double worst = 0.0;
  for (double a = 0.05; a < 200.0; a *= 1.0137) {
    double g = gsl_sf_lngamma(a), v = vis_lngamma(a), tol = 1e-11 + 4e-15 * fabs(g);
    worst = fmax(worst, fabs(v - g) / tol);
    assert_true(fabs(v - g) < tol);
  }
  print_message("ln Gamma: largest |error| / tolerance %.3f\n", worst);
}

static void test_gamma_q(void **state)
{
  (void)state;
  double worst = 0.0;
  int n = 0;
  for (double a = 1.1; a < 30.0; a *= 1.09)
    for (double x = 0.01; x < 80.0; x *= 1.11) {
      double q = gsl_sf_gamma_inc_Q(a, x);
      if (!(q > 1e-280)) continue;
      double pre = exp(a * log(x) - x - gsl_sf_lngamma(a)), v = vis_gamma_q_pre(a, x, pre);
      worst = fmax(worst, fabs(v / q - 1.0));
      assert_true(fabs(v / q - 1.0) < 1e-9);
      ++n;
    }
  assert_true(n > 1000);
  assert_true(vis_gamma_q_pre(2.0, 0.0, 0.0) == 1.0);
  print_message("Q: %d points, largest relative error %.2e\n", n, worst);
}

static void test_table(void **state)
{
  (void)state;
  /* b t at the WCAL sections' back faces, b = 0.5: 2017 at 5, 17, 19.5 X0 and 2018 at 3.5, 17.5,
   * 19.5 X0 (sql/setups/20_visible_2017.sql, 30_visible_2018.sql), and a deeper 10, 20, 30 X0 */
  const double faces[3][3] = {{0.5 * 5.0, 0.5 * 17.0, 0.5 * 19.5}, {0.5 * 3.5, 0.5 * 17.5, 0.5 * 19.5},
                              {0.5 * 10.0, 0.5 * 20.0, 0.5 * 30.0}};
  static vis_gamma_table t;
  double worst = 0.0;
  for (int f = 0; f < 3; ++f) {
    vis_gamma_table_fill(&t, faces[f], 3);
    for (int i = 0; i < 20000; ++i) {
      double a = 1.25 + (9.2 - 1.25) * (i + 0.5) / 20000.0, P[3];
      assert_true(vis_gamma_table_p(&t, a, P));
      double lg = gsl_sf_lngamma(a);
      for (int k = 0; k < 3; ++k) {
        double e = fabs(P[k] - sim_gamma_p(a, faces[f][k], lg));
        worst = fmax(worst, e);
        assert_true(e < 1e-9);
      }
    }
    double P[3] = {-1, -1, -1};
    assert_false(vis_gamma_table_p(&t, 1.2, P));
    assert_false(vis_gamma_table_p(&t, 9.5, P));
    assert_false(vis_gamma_table_p(&t, NAN, P));
    assert_true(P[0] == -1.0);
  }
  print_message("table: largest |P error| %.2e\n", worst);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lngamma),
      cmocka_unit_test(test_gamma_q),
      cmocka_unit_test(test_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
