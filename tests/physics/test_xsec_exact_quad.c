/* The deterministic Gauss-rule total of the exact tree-level cross section (na64_xsec_exact_quad,
 * src/physics/xsec_exact.c, issue 14) against the VEGAS total of the same matrix element
 * (na64_xsec_exact_total, an independent integration of the same integrand with its own
 * variables), at points that span the beams, mediators, masses, energies and targets; the rule's
 * convergence with its orders; its error estimate; the energy window; determinism; bad input.
 * The DMG4 table checks with the Gauss rules are in test_xsec_exact.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/physics.h"
#include "physics/internal.h"
#include "support/na64_test.h"

typedef struct {
  na64_lepton beam;
  na64_mediator med;
  double E0, m;
  int ff;
  double Z, A;
} point;

static const point points[] = {
    {NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.0167, NA64_FF_ALL, 82, 207},
    {NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.001, NA64_FF_ALL, 82, 207},
    {NA64_LEPTON_E, NA64_MED_VECTOR, 20.0, 1.0, NA64_FF_ALL, 82, 207},
    {NA64_LEPTON_MU, NA64_MED_ZPRIME, 160.0, 0.01, NA64_FF_ELASTIC, 82, 207},
    {NA64_LEPTON_MU, NA64_MED_ZPRIME, 160.0, 1.0, NA64_FF_ELASTIC, 82, 207},
    {NA64_LEPTON_E, NA64_MED_SCALAR, 100.0, 0.1, NA64_FF_ELASTIC, 82, 207},
    {NA64_LEPTON_MU, NA64_MED_PSEUDOSCALAR, 160.0, 0.05, NA64_FF_ELASTIC, 82, 207},
    {NA64_LEPTON_E, NA64_MED_AXIAL, 100.0, 0.01, NA64_FF_ELASTIC, 74, 184},
    {NA64_LEPTON_MU, NA64_MED_VECTOR, 40.0, 0.2, NA64_FF_ALL, 26, 56},
};

static void make(const point *pt, na64_exact_process *p)
{
  na64_exact_process_init(p, pt->beam, pt->med, pt->E0, pt->m);
  p->ff = pt->ff;
  p->Z = pt->Z;
  p->A = pt->A;
}

/* Gauss rules at the precision (1%) against VEGAS at 0.3% (seed fixed): within 1%, the
 * issue's precision (measured: within 0.4% at every point). The returned error estimate meets
 * the request and covers the difference to VEGAS within three VEGAS errors. */
static void test_quad_vs_vegas(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof points / sizeof points[0]; ++i) {
    na64_exact_process p;
    make(&points[i], &p);
    double q, eq, v, ev;
    na64_err err = {0};
    int st = na64_xsec_exact_quad(&p, 0.01, &q, &eq, &err);
    if (st) print_error("%s\n", err.msg);
    assert_int_equal(st, NA64_OK);
    assert_int_equal(na64_xsec_exact_total(&p, 0.003, 777, &v, &ev, &err), NA64_OK);
    print_message("%s %s %g GeV m %g GeV Z %g: Gauss %.5g +- %.1e pb, VEGAS %.5g +- %.1e, ratio %.4f\n",
                  na64_lepton_name(p.beam), na64_mediator_name(p.mediator), p.E0, p.m, p.Z, q, eq / q, v, ev / v, q / v);
    assert_true(eq <= 0.01 * q);
    assert_rel(q, v, 0.01);
    assert_true(fabs(q - v) <= eq + 3.0 * ev);
  }
}

/* Convergence: the rule at 1e-3 against fixed high orders (12, 12, 8, 8 per panel, ~8 times the
 * nodes per dimension of the lowest level) within 1e-3; the error estimate at 1e-3 is below 1e-3. */
static void test_quad_convergence(void **state)
{
  (void)state;
  const int which[] = {0, 3, 6};
  for (int k = 0; k < 3; ++k) {
    na64_exact_process p;
    make(&points[which[k]], &p);
    double q, eq, hi;
    assert_int_equal(na64_xsec_exact_quad(&p, 1e-3, &q, &eq, NULL), NA64_OK);
    assert_int_equal(na64_exact_quad_orders(&p, 12, 12, 8, 8, &hi, NULL), NA64_OK);
    print_message("point %d: 1e-3 rule %.7g (+- %.1e), orders 12/12/8/8 %.7g, ratio %.6f\n", which[k], q, eq / q, hi, q / hi);
    assert_true(eq <= 1e-3 * q);
    assert_rel(q, hi, 1e-3);
  }
}

/* The value returned at the default 1% against fixed high orders (12, 12, 8, 8 per panel), at the
 * heavy-mediator points where the ladder stops earliest (the muon at 1 GeV climbs to level 2, the
 * electron at 300 MeV has the largest true error of the 34 points of docs/physics.md): within
 * 0.5% (measured <= 0.28% at these three against orders 20/20/12/10, branch exact1ms), and the quoted error
 * meets the request. */
static void test_quad_default_accuracy(void **state)
{
  (void)state;
  const point pts[] = {
      {NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.3, NA64_FF_ELASTIC, 82, 207},
      {NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 1.0, NA64_FF_ELASTIC, 82, 207},
      {NA64_LEPTON_MU, NA64_MED_ZPRIME, 160.0, 1.0, NA64_FF_ELASTIC, 82, 207},
  };
  for (size_t k = 0; k < sizeof pts / sizeof pts[0]; ++k) {
    na64_exact_process p;
    make(&pts[k], &p);
    double q, eq, hi;
    assert_int_equal(na64_xsec_exact_quad(&p, 0.01, &q, &eq, NULL), NA64_OK);
    assert_int_equal(na64_exact_quad_orders(&p, 12, 12, 8, 8, &hi, NULL), NA64_OK);
    print_message("%s %g GeV m %g: 1%% rule %.6g (+- %.1e), orders 12/12/8/8 %.6g, ratio %.5f\n", na64_lepton_name(p.beam), p.E0,
                  p.m, q, eq / q, hi, q / hi);
    assert_true(eq <= 0.01 * q);
    assert_rel(q, hi, 0.005);
  }
}

/* The window x >= x_min: a part of the total, the same part as VEGAS within 1%; a closed window
 * gives 0 with no error; the value does not depend on anything but the inputs (bitwise). */
static void test_quad_window(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.0167);
  p.ff = NA64_FF_ALL;
  double all, all2, half, v, e, ev;
  assert_int_equal(na64_xsec_exact_quad(&p, 0.01, &all, &e, NULL), NA64_OK);
  assert_int_equal(na64_xsec_exact_quad(&p, 0.01, &all2, &e, NULL), NA64_OK);
  assert_true(all == all2);
  p.x_min = 0.5;
  assert_int_equal(na64_xsec_exact_quad(&p, 0.01, &half, &e, NULL), NA64_OK);
  assert_int_equal(na64_xsec_exact_total(&p, 0.003, 778, &v, &ev, NULL), NA64_OK);
  print_message("x > 0.5: Gauss %.5g, VEGAS %.5g (ratio %.4f), of the total %.3f\n", half, v, half / v, half / all);
  assert_true(half > 0.5 * all && half < all);
  assert_rel(half, v, 0.01);
  p.x_min = 1.0 - 1e-7;
  assert_int_equal(na64_xsec_exact_quad(&p, 0.01, &half, &e, NULL), NA64_OK);
  assert_true(half == 0.0 && e == 0.0);
}

static void test_quad_errors(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_ZPRIME, 100.0, 0.01);
  na64_err err = {0};
  double s, e;
  assert_int_equal(na64_xsec_exact_quad(&p, 0.01, &s, &e, &err), NA64_EPHYS);
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.01);
  assert_int_equal(na64_xsec_exact_quad(&p, -1.0, &s, &e, &err), NA64_EINVAL);
  assert_int_equal(na64_xsec_exact_quad(&p, NAN, &s, &e, &err), NA64_EINVAL);
  assert_int_equal(na64_exact_quad_orders(&p, 0, 4, 4, 4, &s, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "rule orders"));
  /* 0 means the default 1% */
  assert_int_equal(na64_xsec_exact_quad(&p, 0.0, &s, &e, &err), NA64_OK);
  assert_true(s > 0.0 && e <= 0.01 * s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quad_vs_vegas),
      cmocka_unit_test(test_quad_convergence),
      cmocka_unit_test(test_quad_default_accuracy),
      cmocka_unit_test(test_quad_window),
      cmocka_unit_test(test_quad_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
