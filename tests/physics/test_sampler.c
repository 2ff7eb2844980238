/* The (x, theta) sampler reproduces the WW double-differential distribution it samples from. */
#include "na64/physics.h"
#include "physics/internal.h"
#include "support/na64_test.h"

/* Fraction of the cross section with x > xcut and theta < th (th = INFINITY: no angular cut),
 * integrated numerically from the shape functions (midpoint rule in y = -ln(1-x), v = ln U). */
static double fraction(double E0, double m, double xcut, double th)
{
  double ylo = -log(1 - m / E0), yhi = log(2 * E0 * m / (NA64_M_E * NA64_M_E)) + 4, num = 0, den = 0;
  const int n = 4000, k = 400;
  for (int i = 0; i < n; ++i) {
    double y = ylo + (yhi - ylo) * (i + 0.5) / n, x = 1 - exp(-y), w = (1 - x) * (yhi - ylo) / n;
    double fx = na64_ww_shape_x(x, E0, m) * w;
    den += fx;
    if (x <= xcut) continue;
    if (isinf(th)) {
      num += fx;
      continue;
    }
    double U0 = m * m * (1 - x) / x + NA64_M_E * NA64_M_E * x, U1 = U0 + E0 * E0 * x * th * th, s = 0;
    for (int j = 0; j < k; ++j) {
      double v = log(U0) + (log(U1) - log(U0)) * (j + 0.5) / k, U = exp(v);
      s += na64_ww_shape(x, (U - U0) / (2 * E0 * E0 * x), E0, m) * U / (2 * E0 * E0 * x) * (log(U1) - log(U0)) / k;
    }
    num += s * w;
  }
  return num / den;
}

static void check_mass(double E0, double m)
{
  na64_aprime_sampler *s;
  assert_int_equal(na64_aprime_sampler_new(E0, m, 82, 207, 0.0, &s, NULL), NA64_OK);
  na64_rng rng;
  na64_rng_init(&rng, 2024, (uint64_t)(m * 1e6));
  const int n = 200000;
  const double xcuts[3] = {0.5, 0.9, 0.99};
  const double th0 = m / E0; /* the characteristic A' angle */
  int above[3] = {0}, narrow = 0;
  for (int i = 0; i < n; ++i) {
    double x, th;
    na64_aprime_sample(s, &rng, &x, &th);
    assert_true(x > m / E0 && x < 1.0 && th >= 0.0);
    for (int c = 0; c < 3; ++c) above[c] += x > xcuts[c];
    narrow += (x > 0.5 && th < th0);
  }
  /* binomial errors: tolerance 5 sigma + 0.3% for the numerical integration */
  for (int c = 0; c < 3; ++c) {
    double p = fraction(E0, m, xcuts[c], INFINITY), got = (double)above[c] / n;
    double tol = 5 * sqrt(p * (1 - p) / n) + 0.003 * p;
    if (fabs(got - p) > tol) print_error("m=%g x>%g: sampled %g expected %g\n", m, xcuts[c], got, p);
    assert_true(fabs(got - p) <= tol);
  }
  double p = fraction(E0, m, 0.5, th0), got = (double)narrow / n;
  double tol = 5 * sqrt(p * (1 - p) / n) + 0.003 * p;
  if (fabs(got - p) > tol) print_error("m=%g theta<m/E0: sampled %g expected %g\n", m, got, p);
  assert_true(fabs(got - p) <= tol);
  assert_int_equal(na64_aprime_sampler_violations(s), 0);
  assert_true(na64_aprime_sampler_efficiency(s) > 0.5);
  na64_aprime_sampler_free(s);
}

static void test_distribution_16MeV(void **state) { (void)state; check_mass(100, 0.0167); }
static void test_distribution_500MeV(void **state) { (void)state; check_mass(100, 0.5); }
static void test_distribution_2MeV(void **state) { (void)state; check_mass(150, 0.002); }

static void test_reproducible(void **state)
{
  (void)state;
  na64_aprime_sampler *s;
  assert_int_equal(na64_aprime_sampler_new(100, 0.0167, 82, 207, 0.5, &s, NULL), NA64_OK);
  na64_rng a, b;
  na64_rng_init(&a, 7, 99);
  na64_rng_init(&b, 7, 99);
  for (int i = 0; i < 1000; ++i) {
    double x1, t1, x2, t2;
    na64_aprime_sample(s, &a, &x1, &t1);
    na64_aprime_sample(s, &b, &x2, &t2);
    assert_true(x1 == x2 && t1 == t2);
    assert_true(x1 > 0.5);
  }
  na64_aprime_sampler_free(s);
  na64_err err = {0};
  assert_int_equal(na64_aprime_sampler_new(0.01, 0.0167, 82, 207, 0, &s, &err), NA64_EPHYS);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_distribution_16MeV), cmocka_unit_test(test_distribution_500MeV),
      cmocka_unit_test(test_distribution_2MeV), cmocka_unit_test(test_reproducible),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
