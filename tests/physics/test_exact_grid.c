/* The shipped grids of the exact tree-level total (issue 14; src/physics/xsec_exact_grid.c,
 * data/exact_grid_e_vector_Z*.csv, docs/physics.md 4d) against independent direct computations
 * by na64_xsec_exact_quad: regenerated nodes, interpolated values half-way between nodes (where
 * the interpolation error is largest), the coverage rules, and their use by NA64_XS_EXACT.
 * Tolerance 1%: the precision the issue asks of the exact computation (the nodes are computed to
 * 0.2%, the direct values here to 0.2%; the measured interpolation error is <= 0.4%,
 * tests/physics/test_exact_grid_long.c). */
#include <math.h>
#include <stdio.h>

#include "na64/physics.h"
#include "support/na64_test.h"

/* the elements of the built-in materials (src/physics/material.c) */
static const struct {
  int Z;
  double A;
} elements[] = {{1, 1.008}, {6, 12.011}, {7, 14.007}, {8, 15.999}, {13, 26.9815385},
                {18, 39.948}, {26, 55.845}, {29, 63.546}, {74, 183.84}, {82, 207.2}};
#define NEL ((int)(sizeof elements / sizeof elements[0]))

static double direct(int Z, double A, double m, double E0)
{
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, E0, m);
  p.Z = Z;
  p.A = A;
  p.ff = NA64_FF_ALL;
  double s = 0.0, e = 0.0;
  na64_err err = {0};
  int st = na64_xsec_exact_quad(&p, NA64_EXACT_GRID_PREC, &s, &e, &err);
  if (st) print_error("%s\n", err.msg);
  assert_int_equal(st, NA64_OK);
  return s;
}

/* every element of the built-in materials has its grid; a few nodes regenerated (one per element,
 * spread over the grid) agree with the shipped values within 1% */
static void test_nodes_regenerated(void **state)
{
  (void)state;
  const double *ms, *Es;
  int nm, nE;
  na64_exact_grid_axes(&ms, &nm, &Es, &nE);
  assert_int_equal(nm, 25);
  assert_int_equal(nE, 16);
  assert_true(fabs((ms[0]) - (1e-3)) <= 1e-15);
  assert_true(fabs((ms[nm - 1]) - (1.0)) <= 1e-12);
  assert_true(fabs((Es[0]) - (10.0)) <= 1e-12);
  assert_true(fabs((Es[nE - 1]) - (200.0)) <= 1e-12);
  for (int k = 0; k < NEL; ++k) {
    int i = (7 * k + 3) % nm, j = (5 * k + 2) % nE;
    double g = 0.0;
    assert_int_equal(na64_exact_grid_eval(elements[k].Z, elements[k].A, ms[i], Es[j], &g), 1);
    double d = direct(elements[k].Z, elements[k].A, ms[i], Es[j]);
    print_message("Z %2d node m %.4g GeV E %.4g GeV: grid %.6g pb, direct %.6g pb, ratio %.5f\n", elements[k].Z, ms[i],
                  Es[j], g, d, g / d);
    assert_true(fabs(g / d - 1.0) <= 0.01);
  }
}

/* half-way between nodes in (ln m, ln E), including the first and last cells where the stencil
 * is one-sided: interpolated values within 1% of the direct ones */
static void test_off_node(void **state)
{
  (void)state;
  const double *ms, *Es;
  int nm, nE;
  na64_exact_grid_axes(&ms, &nm, &Es, &nE);
  const struct {
    int el, i, j;
  } pts[] = {{9, 0, 0}, {9, 12, 7}, {9, 23, 14}, {0, 0, 14}, {0, 17, 3}, {5, 4, 9}, {8, 20, 0}};
  for (size_t n = 0; n < sizeof pts / sizeof pts[0]; ++n) {
    int Z = elements[pts[n].el].Z;
    double A = elements[pts[n].el].A;
    double m = sqrt(ms[pts[n].i] * ms[pts[n].i + 1]), E = sqrt(Es[pts[n].j] * Es[pts[n].j + 1]), g = 0.0;
    assert_int_equal(na64_exact_grid_eval(Z, A, m, E, &g), 1);
    double d = direct(Z, A, m, E);
    print_message("Z %2d m %.4g GeV E %.4g GeV: grid %.6g pb, direct %.6g pb, ratio %.5f\n", Z, m, E, g, d, g / d);
    assert_true(fabs(g / d - 1.0) <= 0.01);
  }
}

/* outside the nodes, another atomic weight, an element without grid: not covered */
static void test_coverage(void **state)
{
  (void)state;
  double g = -1.0;
  assert_int_equal(na64_exact_grid_eval(82, 207.2, 0.5e-3, 100.0, &g), 0);
  assert_int_equal(na64_exact_grid_eval(82, 207.2, 1.5, 100.0, &g), 0);
  assert_int_equal(na64_exact_grid_eval(82, 207.2, 0.01, 9.0, &g), 0);
  assert_int_equal(na64_exact_grid_eval(82, 207.2, 0.01, 250.0, &g), 0);
  assert_int_equal(na64_exact_grid_eval(82, 207.0, 0.01, 100.0, &g), 0);
  assert_int_equal(na64_exact_grid_eval(50, 118.71, 0.01, 100.0, &g), 0);
  assert_int_equal(na64_exact_grid_eval(82.5, 207.2, 0.01, 100.0, &g), 0);
  assert_true(g == -1.0);
  assert_int_equal(na64_exact_grid_eval(82, 207.2, 1e-3, 10.0, &g), 1); /* corners included */
  assert_int_equal(na64_exact_grid_eval(82, 207.2, 1.0, 200.0, &g), 1);
  char name[64];
  na64_exact_grid_name(74, name, sizeof name);
  assert_string_equal(name, "exact_grid_e_vector_Z74.csv");
}

/* NA64_XS_EXACT: the grid value times eps^2 inside the grid; outside it the direct computation
 * (here E0 = 300 GeV: the remembered 1% total, compared with an independent 0.2% one) */
static void test_xsec_total_uses_grid(void **state)
{
  (void)state;
  na64_err err = {0};
  double s = 0.0, g = 0.0, eps = 1e-4;
  assert_int_equal(na64_xsec_total(NA64_XS_EXACT, 100.0, 0.0167, eps, 82, 207.2, &s, &err), NA64_OK);
  assert_int_equal(na64_exact_grid_eval(82, 207.2, 0.0167, 100.0, &g), 1);
  assert_true(fabs((s) - (g * eps * eps)) <= 1e-12 * s);
  assert_int_equal(na64_xsec_total(NA64_XS_EXACT, 300.0, 0.0167, eps, 82, 207.2, &s, &err), NA64_OK);
  double d = direct(82, 207.2, 0.0167, 300.0) * eps * eps;
  print_message("E0 300 GeV (outside the grid): %.6g pb, direct %.6g pb\n", s, d);
  assert_true(fabs(s / d - 1.0) <= 0.01);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nodes_regenerated),
      cmocka_unit_test(test_off_node),
      cmocka_unit_test(test_coverage),
      cmocka_unit_test(test_xsec_total_uses_grid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
