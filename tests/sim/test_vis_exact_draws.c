/* Branch visevt's shortcuts in the visible response's draws give the same numbers as the plain
 * methods they replace (exact equality: the output bytes of `na64 sim` must not change):
 * - V2's Poisson counts (src/sim/vis_v2.c v2_poisson): 0 from the bound u <= fl(1 - mu)(1 - 2^-40)
 *   without exp(-mu), else Knuth's loop; against Knuth's method with the exponential
 *   (sim_stream_poisson, fast_internal.h) on the same word stream: the same count and the same words
 *   taken, over 2000 streams at each of 60 means from 1e-12 to 29. And the inequality the bound
 *   relies on, fl(1 - mu)(1 - 2^-40) < libm's exp(-mu), over 2e5 means in (0, 1) (convexity gives
 *   e^-mu > 1 - mu; the margin covers the roundings and exp's <= 1 ulp).
 * - The A' bin of the signal sampler (src/sim/vis_signal.c sample_bin): the guide table's bracket
 *   against the bisection of the whole cumulative table (Devroye 1986, III.2.4), on tables with
 *   empty bins (plateaus of the cdf), at 2e5 random u and at the guide's boundaries u = g/G and
 *   their neighbours. */
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
      cmocka_unit_test(test_guide_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
