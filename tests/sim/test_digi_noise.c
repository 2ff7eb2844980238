/* The pedestal-run noise library of the SADC waveforms (src/sim/fast_digi.c, sim_sadc_noise_library;
 * docs/simulation.md "Raw data"). Expected from its definition, not from its output:
 *  - every lane (sample position of a block) holds each of the 4096 quantiles of N(0, 1) exactly
 *    once (its sorted values are the quantile table, computed here with erfc bisection, not the
 *    library's own table), so the lane means are 0 and the lane variances the table's, to float
 *    precision (1e-6);
 *  - the library is a function of the seed: the same seed gives the same blocks, another seed
 *    other blocks, and rebuilding for the first seed restores them;
 *  - the lanes are independent permutations: the correlation of two lanes over the 4096 blocks is
 *    of order 1/sqrt(4096) = 0.016 (below 5/64 for all 120 pairs; the Hadamard signs of make_samples
 *    remove it from the waveforms, tests/sim/test_sadc_noise). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fast_internal.h"
#include "support/na64_test.h"

static int cmp_float(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

/* The standard normal quantile of p by bisection of 0.5 erfc(-z / sqrt 2) = p (independent of GSL) */
static double quantile(double p)
{
  double lo = -10.0, hi = 10.0;
  for (int i = 0; i < 200; ++i) {
    double mid = 0.5 * (lo + hi);
    if (0.5 * erfc(-mid / M_SQRT2) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

static void test_library(void **state)
{
  (void)state;
  static sim_sadc_noise nz, other;
  sim_sadc_noise_init(&nz);
  sim_sadc_noise_init(&other);
  sim_sadc_noise_library(&nz, 12345);
  static float col[SADC_LIB_BLOCKS], first[SADC_LIB_BLOCKS][SADC_LIB_LEN];
  memcpy(first, nz.lib, sizeof first);
  for (int j = 0; j < SADC_LIB_LEN; ++j) {
    double s1 = 0.0, s2 = 0.0;
    for (int i = 0; i < SADC_LIB_BLOCKS; ++i) {
      col[i] = nz.lib[i][j];
      s1 += col[i];
      s2 += (double)col[i] * col[i];
    }
    qsort(col, SADC_LIB_BLOCKS, sizeof *col, cmp_float);
    for (int i = 0; i < SADC_LIB_BLOCKS; i += 97) /* a sample of the 4096 quantiles */
      assert_true(fabs(col[i] - WF_NOISE * quantile((i + 0.5) / 4096.0)) < 1e-5);
    assert_true(fabs(col[0] - WF_NOISE * quantile(0.5 / 4096.0)) < 1e-5);
    assert_true(fabs(col[4095] - WF_NOISE * quantile(4095.5 / 4096.0)) < 1e-5);
    assert_true(fabs(s1 / 4096.0) < 1e-6);
    double v = 0.0;
    for (int i = 0; i < 4096; ++i) v += nz.z[i] * nz.z[i];
    assert_true(fabs(s2 - WF_NOISE * WF_NOISE * v) < 1e-6 * v);
    for (int k = 0; k < j; ++k) {
      double c = 0.0;
      for (int i = 0; i < SADC_LIB_BLOCKS; ++i) c += (double)nz.lib[i][j] * nz.lib[i][k];
      assert_true(fabs(c / s2) < 5.0 / 64.0);
    }
  }
  sim_sadc_noise_library(&other, 12345);
  assert_memory_equal(other.lib, first, sizeof first);
  sim_sadc_noise_library(&other, 12346);
  assert_memory_not_equal(other.lib, first, sizeof first);
  sim_sadc_noise_library(&other, 12345);
  assert_memory_equal(other.lib, first, sizeof first);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_library)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
