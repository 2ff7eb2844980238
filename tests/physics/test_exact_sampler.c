/* The (x, theta) sampler of the exact tree-level cross section (src/physics/xsec_exact_sampler.c):
 * its table against the independent adaptive exact d sigma/dx and VEGAS total of xsec_exact.c,
 * and the drawn x and theta distributions against the table (chi^2). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "na64/physics.h"
#include "support/na64_test.h"

/* One sampler (e- Pb, vector, 16.7 MeV, 100 GeV, elastic + quasi-elastic) for all tests: built once. */
static na64_exact_sampler *shared;

static na64_exact_sampler *sampler_16MeV(na64_exact_process *p)
{
  na64_exact_process_init(p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.0167);
  p->ff = NA64_FF_ALL;
  if (shared) return shared;
  na64_err err = {0};
  clock_t t0 = clock();
  int st = na64_exact_sampler_new(p, &shared, &err);
  if (st) print_error("%s\n", err.msg);
  assert_int_equal(st, NA64_OK);
  print_message("sampler built in %.2f s CPU\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
  return shared;
}

static int teardown(void **state)
{
  (void)state;
  na64_exact_sampler_free(shared);
  shared = NULL;
  return 0;
}

/* The table against the independent calculations: the adaptive d sigma/dx (QAGP in theta and t,
 * relative 1e-4 / 1e-6) at 5 points within 1% (the table interpolates linearly in y = -ln(1-x)
 * with steps of 0.3 (branch simexact; 0.25 gave ~0.5%, h^2 scaling ~0.7%), error ~ h^2 f''/8 where the
 * spectrum curves most; the theta
 * trapezoid is good to 1e-4), and the tabulated total against VEGAS (0.5%) within 1.5%. */
static void test_table_vs_exact(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_sampler *s = sampler_16MeV(&p);
  const double xs[] = {0.1, 0.5, 0.8, 0.95, 0.99};
  for (int i = 0; i < 5; ++i) {
    double ex = 0.0, e = 0.0;
    assert_int_equal(na64_xsec_exact_dsdx(&p, xs[i], &ex, &e, NULL), NA64_OK);
    double tab = na64_exact_sampler_dsdx(s, xs[i]);
    print_message("x = %.2f: table %.5g pb, adaptive %.5g pb, ratio %.4f\n", xs[i], tab, ex, tab / ex);
    assert_rel(tab, ex, 0.01);
  }
  double rel = 0.0, tot = na64_exact_sampler_integral(s, 0.0, &rel), v = 0.0, ve = 0.0;
  assert_int_equal(na64_xsec_exact_total(&p, 0.005, 7, &v, &ve, NULL), NA64_OK);
  print_message("total: table %.5g pb (quadrature %.1e), VEGAS %.5g +- %.2g pb, ratio %.4f\n", tot, rel, v, ve, tot / v);
  assert_true(rel < 5e-3); /* the estimate (trapezoid on every second node) is pessimistic: 25 vs 19 nodes differ by 3e-4
                            (branch simexact: 17 nodes over s in [-5.5, 5.5], the step of 25 over [-6.9, 6.9]) */
  assert_rel(tot, v, 0.015);
  /* the window x >= 0.5 against VEGAS with x_min = 0.5 */
  na64_exact_process pw = p;
  pw.x_min = 0.5;
  assert_int_equal(na64_xsec_exact_total(&pw, 0.005, 7, &v, &ve, NULL), NA64_OK);
  double above = na64_exact_sampler_integral(s, 0.5, NULL);
  print_message("x >= 0.5: table %.5g pb, VEGAS %.5g pb, ratio %.4f\n", above, v, above / v);
  assert_rel(above, v, 0.015);
}

/* Drawn x against the table's d sigma/dx: chi^2/ndf over 24 bins in y = -ln(1 - x) with
 * expected counts integrated from the table (Simpson, 8 panels per bin: < 1e-5). For a correct
 * sampler chi^2/ndf has mean 1 and sd sqrt(2/ndf) = 0.3: we accept < 2 (the chance that a
 * correct sampler fails is 2e-3 for ndf = 23; the seed is fixed, so the test is reproducible).
 * Then a truncated draw (x >= 0.7) never goes below its limit and has the table's mean. */
static void test_sampled_x(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_sampler *s = sampler_16MeV(&p);
  enum { NB = 24, N = 200000 };
  const double ylo = 0.0, yhi = 6.0;
  double cnt[NB] = {0}, exp_[NB], tot = na64_exact_sampler_integral(s, 0.0, NULL);
  na64_rng rng;
  na64_rng_init(&rng, 99, 1);
  long outside = 0;
  for (int i = 0; i < N; ++i) {
    double x, th;
    assert_int_equal(na64_exact_sample(s, &rng, 0.0, &x, &th), NA64_OK);
    assert_true(x > 0.0 && x < 1.0 && th > 0.0 && th <= M_PI);
    double y = -log1p(-x);
    int b = (int)((y - ylo) / (yhi - ylo) * NB);
    if (b >= 0 && b < NB) cnt[b] += 1.0;
    else ++outside;
  }
  double chi2 = 0.0, in_exp = 0.0;
  int ndf = 0;
  for (int b = 0; b < NB; ++b) {
    double a = ylo + (yhi - ylo) * b / NB, h = (yhi - ylo) / NB / 8.0, sum = 0.0;
    for (int k = 0; k <= 8; ++k) {
      double y = a + k * h, x = -expm1(-y), f = na64_exact_sampler_dsdx(s, x) * (1.0 - x);
      sum += f * (k == 0 || k == 8 ? 1.0 : (k % 2 ? 4.0 : 2.0));
    }
    exp_[b] = sum * h / 3.0 / tot * N;
    in_exp += exp_[b];
    if (exp_[b] > 5.0) {
      chi2 += (cnt[b] - exp_[b]) * (cnt[b] - exp_[b]) / exp_[b];
      ++ndf;
    }
  }
  --ndf;
  print_message("x spectrum: chi2/ndf = %.1f/%d, outside y < 6: %ld (expected %.0f)\n", chi2, ndf, outside, N - in_exp);
  assert_true(chi2 / ndf < 2.0);
  /* truncated */
  double xm = 0.0, wsum = 0.0;
  for (int i = 0; i < 40000; ++i) {
    double x, th;
    assert_int_equal(na64_exact_sample(s, &rng, 0.7, &x, &th), NA64_OK);
    assert_true(x >= 0.7);
    xm += x;
  }
  xm /= 40000;
  double mean = 0.0;
  for (int k = 0; k < 2000; ++k) { /* table mean of x over [0.7, 1) by the midpoint rule in y */
    double y0 = -log1p(-0.7), y1 = -log1p(-(1.0 - 1e-9)), y = y0 + (y1 - y0) * (k + 0.5) / 2000, x = -expm1(-y);
    double f = na64_exact_sampler_dsdx(s, x) * (1.0 - x) * (y1 - y0) / 2000;
    mean += x * f;
    wsum += f;
  }
  mean /= wsum;
  print_message("x >= 0.7: sampled mean %.5f, table %.5f\n", xm, mean);
  assert_true(fabs(xm - mean) < 4.0 * 0.3 / sqrt(40000.0)); /* sd of x in [0.7, 1) < 0.3 */
  assert_int_equal(na64_exact_sample(s, &rng, 1.0 - 1e-12, &xm, &wsum), NA64_EPHYS);
}

/* Drawn theta against the exact d sigma/dx dcos: for x drawn in [0.49, 0.51] the fraction with
 * theta < theta_c(0.5) against the ratio of integrals of the independent adaptive
 * na64_xsec_exact_dsdxdcos at x = 0.5 (GL in ln theta over [1e-3, 1e3] theta_c, 48 points
 * in 6 panels: < 1e-4); tolerance 4 sigma of the binomial plus 1% for the x-bin width. */
static void test_sampled_theta(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_sampler *s = sampler_16MeV(&p);
  double U = 0.0167 * 0.0167 * 0.5 / 0.5 + NA64_M_E * NA64_M_E * 0.5, tc = sqrt(U) / 50.0;
  na64_rng rng;
  na64_rng_init(&rng, 5, 2);
  long n = 0, below = 0;
  while (n < 20000) {
    double x, th;
    assert_int_equal(na64_exact_sample(s, &rng, 0.49, &x, &th), NA64_OK);
    if (x > 0.51) continue;
    ++n;
    below += th < tc;
  }
  /* reference: int d sigma/dcos dcos over theta < theta_c and over all, in s = ln(theta/theta_c) */
  double in = 0.0, all = 0.0;
  static const double gx[4] = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526};
  static const double gw[4] = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538};
  for (int panel = 0; panel < 12; ++panel) {
    double a = -6.9 + 13.8 * panel / 12, b = a + 13.8 / 12;
    for (int k = 0; k < 4; ++k) {
      double sv = 0.5 * (a + b) + 0.5 * (b - a) * gx[k], th = tc * exp(sv), v = 0.0;
      if (th >= M_PI) continue;
      assert_int_equal(na64_xsec_exact_dsdxdcos(&p, 0.5, cos(th), &v, NULL, NULL), NA64_OK);
      double f = 0.5 * (b - a) * gw[k] * v * sin(th) * th;
      all += f;
      if (sv < 0.0) in += f;
    }
  }
  double frac = (double)below / n, ref = in / all, sd = sqrt(ref * (1.0 - ref) / n);
  print_message("theta < theta_c at x = 0.5: sampled %.4f, exact %.4f (+- %.4f)\n", frac, ref, sd);
  assert_true(fabs(frac - ref) < 4.0 * sd + 0.01);
}

/* Muon beam, L_mu - L_tau Z' of 100 MeV at 160 GeV (NA64mu): the tabulated total against VEGAS
 * (0.5%) within 1.5%, as for the electron. */
static void test_muon_table(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_MU, NA64_MED_ZPRIME, 160.0, 0.1);
  p.ff = NA64_FF_ALL;
  na64_exact_sampler *s = NULL;
  assert_int_equal(na64_exact_sampler_new(&p, &s, NULL), NA64_OK);
  double rel = 0.0, tot = na64_exact_sampler_integral(s, 0.0, &rel), v = 0.0, ve = 0.0;
  assert_int_equal(na64_xsec_exact_total(&p, 0.005, 7, &v, &ve, NULL), NA64_OK);
  print_message("mu Z' 100 MeV: table %.5g pb (quadrature %.1e), VEGAS %.5g +- %.2g pb, ratio %.4f\n", tot, rel, v, ve, tot / v);
  assert_rel(tot, v, 0.015);
  na64_rng rng;
  na64_rng_init(&rng, 3, 3);
  double x, th;
  assert_int_equal(na64_exact_sample(s, &rng, 0.5, &x, &th), NA64_OK);
  assert_true(x >= 0.5 && x < 1.0 - NA64_M_MU / 160.0 + 1e-12);
  na64_exact_sampler_free(s);
}

static void test_sampler_errors(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, 100.0, 0.0167);
  na64_exact_sampler *s = NULL;
  na64_err err = {0};
  assert_int_equal(na64_exact_sampler_new(&p, NULL, &err), NA64_EINVAL);
  p.E0 = -1.0;
  assert_int_equal(na64_exact_sampler_new(&p, &s, &err), NA64_EPHYS);
  assert_null(s);
  assert_non_null(strstr(err.msg, "beam energy"));
}

/* The per-process memo of tables (branch simexact): the same process returns the same table, one
 * reference per caller; the coupling is part of the key: at coupling 2 a new table with 4 times the
 * cross section (d sigma ~ g^2, docs/physics.md 4b; tolerance 1e-9: only rounding differs). */
static void test_memo(void **state)
{
  (void)state;
  na64_exact_process p;
  na64_exact_sampler *a = sampler_16MeV(&p), *b = NULL, *c = NULL, *d = NULL;
  assert_int_equal(na64_exact_sampler_new(&p, &b, NULL), NA64_OK);
  assert_ptr_equal(a, b);
  na64_exact_sampler_free(b); /* one reference dropped: a stays usable */
  double one = na64_exact_sampler_integral(a, 0.0, NULL);
  p.coupling = 2.0;
  p.x_min = 0.5; /* a small table */
  assert_int_equal(na64_exact_sampler_new(&p, &c, NULL), NA64_OK);
  assert_ptr_not_equal(a, c);
  p.coupling = 1.0;
  assert_int_equal(na64_exact_sampler_new(&p, &d, NULL), NA64_OK);
  assert_ptr_not_equal(c, d);
  assert_rel(na64_exact_sampler_integral(c, 0.0, NULL), 4.0 * na64_exact_sampler_integral(d, 0.0, NULL), 1e-9);
  assert_rel(na64_exact_sampler_integral(a, 0.0, NULL), one, 0.0);
  na64_exact_sampler_free(c);
  na64_exact_sampler_free(d);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_vs_exact),
      cmocka_unit_test(test_sampled_x),
      cmocka_unit_test(test_sampled_theta),
      cmocka_unit_test(test_muon_table),
      cmocka_unit_test(test_sampler_errors),
      cmocka_unit_test(test_memo),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
