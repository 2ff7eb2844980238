/* Branch visevt's shortcuts in the visible response's draws give the same numbers as the plain
 * methods they replace (exact equality: the output bytes of `na64 sim` must not change):
 * - V2's Poisson counts (src/sim/vis_v2.c v2_poisson): 0 from the bound u <= fl(1 - mu)(1 - 2^-40)
 *   without exp(-mu), else Knuth's loop; against Knuth's method with the exponential
 *   (sim_stream_poisson, fast_internal.h) on the same word stream: the same count and the same words
 *   taken, over 2000 streams at each of 60 means from 1e-12 to 29. And the inequality the bound
 *   relies on, fl(1 - mu)(1 - 2^-40) < libm's exp(-mu), over 2e5 means in (0, 1) (convexity gives
 *   e^-mu > 1 - mu; the margin covers the roundings and exp's <= 1 ulp).
 * - V2's whole draw (vis_v2_draw: the shortcut v2_quiet_by_bounds deciding both counts 0 from upper
 *   bounds of the means, the Poisson bound, the inline fmin/fmax) against the draw as it was before
 *   (a copy here: ln Gamma, Q and both exponentials at every draw): the same value and the same stream
 *   state after, over 1-150 GeV and 20-40 X0. The draw's test meets a bound that is wrong only when a
 *   word falls between the two (review rv12b: ln Gamma's lower bound raised by 0.01 passed it), so
 *   the bounds themselves (v2_mean_bounds) are checked against the means, as the exact path computes
 *   them (vis_lngamma, vis_gamma_q_pre) and from GSL (gsl_sf_lngamma, gsl_sf_gamma_inc_Q_e), over
 *   a = 1.1-5000 (the draw's a is >= 1.1) and x = a + 1 to 3 a + 700.
 * - The A' bin of the signal sampler (src/sim/vis_signal.c sample_bin): the guide table's bracket
 *   against the bisection of the whole cumulative table (Devroye 1986, III.2.4), on tables with
 *   empty bins (plateaus of the cdf), at 2e5 random u and at the guide's boundaries u = g/G and
 *   their neighbours. */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>

#include "sim/fast_internal.h"
#include "sim/vis_gamma.c" /* hidden in libna64 */
#include "sim/ecal_shape.c"
#include "sim/vis_v2.c"
#include "sim/vis_signal.c"
#include "support/na64_test.h"

/* vis_v2.c's MIP draws are not exercised here (fast_event.c is not linked into the test) */
double sim_mip_draw(na64_rng *rng, double mean, double w)
{
  (void)rng;
  (void)w;
  return mean;
}

static void test_poisson_bound(void **state)
{
  (void)state;
  na64_rng rng;
  na64_rng_init(&rng, 12, 0);
  long shortcut = 0, n = 0;
  for (double mu = 1e-12; mu < 30.0; mu *= 1.6) {
    for (int i = 0; i < 2000; ++i, ++n) {
      const uint64_t key = na64_rng_u64(&rng);
      sim_word_stream a = {key, 2}, b = {key, 2};
      unsigned long ka = v2_poisson(&a, &rng, mu);
      unsigned long kb = sim_stream_poisson(&b, exp(-mu));
      assert_int_equal(ka, kb);
      assert_int_equal(a.k, b.k);
      shortcut += ka == 0 && sim_word_uniform(sim_noise_word(key, 3)) <= (1.0 - mu) * (1.0 - 0x1.0p-40);
    }
  }
  print_message("Poisson: %ld of %ld draws decided by the bound\n", shortcut, n);
  assert_true(shortcut > n / 4); /* small means dominate the grid: the shortcut must be taken */
  for (int i = 0; i < 200000; ++i) {
    double mu = na64_rng_uniform(&rng);
    if (i % 2) mu = ldexp(mu, -(int)(na64_rng_u64(&rng) % 1000)); /* tiny means too */
    assert_true((1.0 - mu) * (1.0 - 0x1.0p-40) < exp(-mu));
  }
}

/* hep-ex/0001020, sampling calorimeters (the GFlash defaults): the reference's own copy of the widths'
 * constants (vis_v2.c takes them from sim_gp_spread_at, fast_internal.h) */
#define GP_S1 (-2.5)
#define GP_S2 1.25
#define GP_S3 (-0.82)
#define GP_S4 0.79
#define GP_R1 0.784
#define GP_R2 (-0.023)

/* vis_v2_draw as it was before branch visevt (vis_v2.c at int): ln Gamma(a) and Q(a, x) at every draw,
 * Knuth's Poisson with the exponential, fmin/fmax from libm */
static double v2_reference(const vis_v2_model *m, double E, double T, na64_rng *rng)
{
  if (!(E > 0.0) || !(T > 0.0)) return 0.0;
  const double ly = log(E / m->Ec), lny = ly > 0.0 ? ly : 0.0;
  double a0 = PROFILE_B * fmax(ly - 0.5, 0.5) + 1.0, t0 = (a0 - 1.0) / PROFILE_B;
  double sT = fmin(0.5, 1.0 / fmax(GP_S1 + GP_S2 * lny, 2.0));
  double sa = fmin(0.5, 1.0 / fmax(GP_S3 + GP_S4 * lny, 2.0));
  double rho = GP_R1 + GP_R2 * lny, c1 = sqrt(0.5 * (1.0 + rho)), c2 = sqrt(0.5 * (1.0 - rho));
  sim_word_stream st = {na64_rng_u64(rng), 2};
  uint64_t w[2] = {sim_noise_word(st.key, 1), sim_noise_word(st.key, 2)};
  double z[2];
  na64_rng_gauss_words(rng, w, z, 2);
  double tmax = t0 * exp(sT * (c1 * z[0] + c2 * z[1])), a = fmax(1.1, a0 * exp(sa * (c1 * z[0] - c2 * z[1])));
  double b = (a - 1.0) / tmax, x = b * T;
  double dens = exp((a - 1.0) * log(x) - x - vis_lngamma(a));
  double mu[2] = {E * b * dens / m->Ec, fmax(E * vis_gamma_q_pre(a, x, x * dens), 0.0) / E_TAIL_GAMMA * m->p_gamma};
  unsigned long n[2];
  for (int k = 0; k < 2; ++k)
    n[k] = !(mu[k] > 0.0) ? 0 : mu[k] >= 30.0 ? na64_rng_poisson(rng, mu[k]) : sim_stream_poisson(&st, exp(-mu[k]));
  double v = 0.0, vg = 0.0;
  unsigned long nd = n[0] < MAX_MIPS ? n[0] : MAX_MIPS;
  for (unsigned long i = 0; i < nd; ++i) v += sim_mip_draw(rng, m->mip, m->mip_width);
  if (n[0] > nd) v *= (double)n[0] / (double)nd;
  nd = n[1] < MAX_MIPS ? n[1] : MAX_MIPS;
  for (unsigned long i = 0; i < nd; ++i) vg += fmin(m->t_compton * sim_word_uniform(sim_stream_word(&st)), m->mip);
  if (n[1] > nd) vg *= (double)n[1] / (double)nd;
  return v + vg;
}

/* vis_v2_draw (with its bounds) against the reference: the same value and the same state of the event's
 * stream after, over 1-150 GeV showers behind 20-40 X0 (the WCALs' depths), 3 x 40 x 500 draws */
static void test_v2_draw(void **state)
{
  (void)state;
  vis_v2_model m;
  vis_v2_model_init(&m, 0.0086, MIP_DEDX * 1.06 * 1.0, 0.15); /* E_c of a W/Sc mix, 1 cm of plastic */
  long quiet = 0, n = 0;
  for (double T = 20.0; T <= 40.0; T += 10.0)
    for (double E = 1.0; E < 150.0; E *= 1.135)
      for (uint64_t ev = 0; ev < 500; ++ev, ++n) {
        na64_rng r1, r2;
        na64_rng_init(&r1, 21, ev);
        na64_rng_init(&r2, 21, ev);
        double v1 = vis_v2_draw(&m, E, T, &r1), v2 = v2_reference(&m, E, T, &r2);
        assert_true(v1 == v2);
        assert_true(na64_rng_u64(&r1) == na64_rng_u64(&r2));
        quiet += v1 == 0.0;
      }
  print_message("V2: %ld of %ld draws 0\n", quiet, n);
  assert_true(quiet > n / 10 && quiet < n); /* both paths exercised */
}

/* v2_mean_bounds >= the two means, at every (a, x) of a grid wider than the draws reach */
static void test_v2_mean_bounds(void **state)
{
  (void)state;
  vis_v2_model m;
  vis_v2_model_init(&m, 0.0086, MIP_DEDX * 1.06 * 1.0, 0.15);
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  const double E = 100.0;
  double worst[2] = {INFINITY, INFINITY};
  long n = 0, used = 0;
  for (double a = 1.1; a < 5000.0; a *= 1.07)
    for (double x = a + 1.0; x < 3.0 * a + 700.0; x = x < 2.0 * a + 20.0 ? x + 0.37 : x * 1.05, ++n) {
      const double b = x / 30.0, lx = log(x);
      double hi[2];
      v2_mean_bounds(&m, E, a, b, x, lx, hi);
      /* the exact path's values (vis_v2_draw_ly) */
      const double dens = exp((a - 1.0) * lx - x - vis_lngamma(a));
      const double mu[2] = {E * b * dens / m.Ec,
                            fmax(E * vis_gamma_q_pre(a, x, x * dens), 0.0) / E_TAIL_GAMMA * m.p_gamma};
      /* GSL's */
      gsl_sf_result q;
      const double nch_gsl = E * b * exp((a - 1.0) * lx - x - gsl_sf_lngamma(a)) / m.Ec;
      const double ng_gsl = gsl_sf_gamma_inc_Q_e(a, x, &q) == GSL_SUCCESS ? E * q.val / E_TAIL_GAMMA * m.p_gamma : 0.0;
      /* where the shortcut may use them (both >= 1e-280: subnormal means, rounded to a few bits, are
       * left to the exact path) */
      if (!(hi[0] >= 1e-280 && hi[1] >= 1e-280)) continue;
      ++used;
      assert_true(hi[0] >= mu[0] && hi[0] >= nch_gsl);
      assert_true(hi[1] >= mu[1] && hi[1] >= ng_gsl);
      worst[0] = fmin(worst[0], hi[0] / mu[0] - 1.0);
      worst[1] = fmin(worst[1], hi[1] / mu[1] - 1.0);
    }
  gsl_set_error_handler(old);
  print_message("V2 bounds: %ld points (%ld with both >= 1e-280), smallest relative margin %.3g (charged) %.3g "
                "(photons)\n", n, used, worst[0], worst[1]);
  assert_true(used > n / 4);
  assert_true(worst[0] > 1e-6 && worst[1] > 1e-6); /* the 1e-6 margins at least, above the roundings */
}

static void check_table(const double *cdf, int n, na64_rng *rng)
{
  na64_vis_sampler s = {0};
  s.cdf = (double *)cdf;
  s.guide = guide_new(cdf, n, &s.G);
  assert_non_null(s.guide);
  for (int i = 0; i < 200000; ++i) {
    double u = na64_rng_uniform(rng);
    assert_int_equal(sample_bin(&s, n, u), bisect(cdf, 0, n - 1, u * cdf[n - 1]));
  }
  for (int g = 1; g < s.G; ++g) {
    const double u0 = (double)g / (double)s.G, us[3] = {nextafter(u0, 0.0), u0, nextafter(u0, 1.0)};
    for (int k = 0; k < 3; ++k) assert_int_equal(sample_bin(&s, n, us[k]), bisect(cdf, 0, n - 1, us[k] * cdf[n - 1]));
  }
  free(s.guide);
}

static void test_guide_table(void **state)
{
  (void)state;
  enum { N = 1500 };
  static double cdf[N];
  na64_rng rng;
  na64_rng_init(&rng, 13, 0);
  for (int t = 0; t < 4; ++t) {
    double sum = 0.0;
    for (int i = 0; i < N; ++i) {
      double u = na64_rng_uniform(&rng);
      /* empty bins (a third; all of the first 40 in table 1), steep weights (table 2) */
      double w = (u < 1.0 / 3.0 || (t == 1 && i < 40)) ? 0.0 : t == 2 ? exp(30.0 * u) : u;
      sum += w;
      cdf[i] = sum;
    }
    check_table(cdf, t == 3 ? 7 : N, &rng); /* a table shorter than the guide's 8 */
  }
  /* not monotone: no guide, the bisection of the whole table */
  double bad[3] = {1.0, 0.5, 2.0};
  int G = -1;
  assert_null(guide_new(bad, 3, &G));
  assert_int_equal(G, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_poisson_bound),
      cmocka_unit_test(test_v2_draw),
      cmocka_unit_test(test_v2_mean_bounds),
      cmocka_unit_test(test_guide_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
