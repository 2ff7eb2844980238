/* The ziggurat normal (na64_rng_gauss_zig, na64_rng_gauss_word) against the exact normal
 * distribution Phi(x) = erfc(-x / sqrt 2) / 2 (libm): moments, a binned chi2, Kolmogorov-Smirnov,
 * and the tail beyond the ziggurat's base r = 3.654 out to 5 sigma and beyond. The seeds are fixed,
 * so the tests are deterministic; their thresholds are 5 sigma (or p = 1e-3 for KS), so a correct
 * generator passes them with any seed, and a wrong layer table (a layer of the wrong area shifts
 * 1/256 of the probability, ~0.4%, over a range of x) fails the chi2 by far. */
#include <stdlib.h>
#include <string.h>

#include "na64/core.h"
#include "support/na64_test.h"

static double phi_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* KS statistic sqrt(n) D of v (sorted here) against Phi, or, for a finite lo, against the normal
 * conditioned on x > lo: F(x) = 1 - Q(x) / Q(lo), Q(x) = erfc(x / sqrt 2) / 2. */
static double ks_sqrtn(double *v, int n, double lo)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  double d = 0.0;
  for (int i = 0; i < n; ++i) {
    double F = isfinite(lo) ? 1.0 - erfc(v[i] / sqrt(2.0)) / erfc(lo / sqrt(2.0)) : phi_cdf(v[i]);
    d = fmax(d, fmax(fabs((i + 1.0) / n - F), fabs((double)i / n - F)));
  }
  return sqrt((double)n) * d;
}

/* Mean, variance, skewness, kurtosis of 2e6 draws: errors 1/sqrt(n), sqrt(2/n), sqrt(6/n),
 * sqrt(24/n) (normal sample moments); tolerance 5 of them. */
static void test_zig_moments(void **state)
{
  (void)state;
  na64_rng r;
  na64_rng_init(&r, 12, 0);
  const int n = 2000000;
  double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  for (int i = 0; i < n; ++i) {
    double g = na64_rng_gauss_zig(&r);
    s1 += g;
    s2 += g * g;
    s3 += g * g * g;
    s4 += g * g * g * g;
  }
  assert_true(fabs(s1 / n) < 5 / sqrt(n));
  assert_true(fabs(s2 / n - 1.0) < 5 * sqrt(2.0 / n));
  assert_true(fabs(s3 / n) < 5 * sqrt(6.0 / n));
  assert_true(fabs(s4 / n - 3.0) < 5 * sqrt(96.0 / n)); /* var(x^4) = 105 - 9 = 96 */
}

/* 2e6 draws in 200 bins of 0.04 on [-4, 4] and two outer bins, against the exact probabilities:
 * chi2 below ndf + 5 sqrt(2 ndf). */
static void test_zig_chi2(void **state)
{
  (void)state;
  enum { NB = 200 };
  static long cnt[NB + 2];
  memset(cnt, 0, sizeof cnt);
  na64_rng r;
  na64_rng_init(&r, 99, 3);
  const int n = 2000000;
  for (int i = 0; i < n; ++i) {
    double g = na64_rng_gauss_zig(&r);
    int b = g < -4.0 ? 0 : g >= 4.0 ? NB + 1 : 1 + (int)((g + 4.0) / 0.04);
    if (b > NB) b = g >= 4.0 ? NB + 1 : NB;
    cnt[b]++;
  }
  double chi2 = 0.0;
  for (int b = 0; b < NB + 2; ++b) {
    double lo = b == 0 ? -INFINITY : -4.0 + 0.04 * (b - 1), hi = b == NB + 1 ? INFINITY : -4.0 + 0.04 * b;
    double p = (b == NB + 1 ? 1.0 : phi_cdf(hi)) - (b == 0 ? 0.0 : phi_cdf(lo)), e = n * p;
    chi2 += (cnt[b] - e) * (cnt[b] - e) / e;
  }
  const double ndf = NB + 1;
  print_message("ziggurat chi2 %.1f / %.0f\n", chi2, ndf);
  assert_true(chi2 < ndf + 5 * sqrt(2 * ndf));
}

/* KS of 2e5 draws from the word form (words from an independent stream) against Phi. */
static void test_zig_ks(void **state)
{
  (void)state;
  const int n = 200000;
  double *v = malloc((size_t)n * sizeof *v);
  assert_non_null(v);
  na64_rng r, w;
  na64_rng_init(&r, 7, 1);
  na64_rng_init(&w, 7, 2);
  for (int i = 0; i < n; ++i) v[i] = na64_rng_gauss_word(&r, na64_rng_u64(&w));
  double k = ks_sqrtn(v, n, -INFINITY);
  print_message("ziggurat KS sqrt(n) D = %.3f\n", k);
  assert_true(k < 1.95); /* Kolmogorov distribution: P(K > 1.95) = 1e-3 */
  free(v);
}

/* The tail: words that select the base layer with an abscissa beyond r go the tail branch; 1e5 of
 * them must follow the normal conditioned on |x| > r (KS), with the fraction beyond 5 sigma
 * erfc(5/sqrt 2) / erfc(r/sqrt 2) = 2.22e-3 within 5 Poisson sigma. Also, the tail appears at the
 * rate 2 (1 - Phi(r)) = 2.58e-4 among ordinary draws (4e6: 1033 +- 32). */
static void test_zig_tail(void **state)
{
  (void)state;
  const int n = 100000;
  const double r0 = 3.6541528853610088; /* Marsaglia and Tsang's r for 256 layers */
  double *v = malloc((size_t)n * sizeof *v);
  assert_non_null(v);
  na64_rng r, w;
  na64_rng_init(&r, 5, 0);
  na64_rng_init(&w, 5, 1);
  int beyond5 = 0, neg = 0;
  for (int i = 0; i < n; ++i) {
    uint64_t u = na64_rng_u64(&w);
    uint64_t word = (u & ~(uint64_t)0xFF) | ((uint64_t)1 << 63); /* layer 0, top abscissa bit set: x >= 0.5 X0 */
    /* X0 = v / f(r) = 3.91 > r, so an abscissa >= 0.94 X0 is beyond r: set the next three bits too */
    word |= (uint64_t)0x7 << 60;
    double x = na64_rng_gauss_word(&r, word);
    neg += x < 0;
    assert_true(fabs(x) > r0 - 1e-12);
    beyond5 += fabs(x) > 5.0;
    v[i] = fabs(x);
  }
  double k = ks_sqrtn(v, n, r0);
  double e5 = n * erfc(5.0 / sqrt(2.0)) / erfc(r0 / sqrt(2.0));
  print_message("tail KS %.3f, beyond 5 sigma %d (expected %.1f), negative %d\n", k, beyond5, e5, neg);
  assert_true(k < 1.95);
  assert_true(fabs(beyond5 - e5) < 5 * sqrt(e5));
  assert_true(fabs(neg - 0.5 * n) < 5 * sqrt(0.25 * n));
  free(v);

  na64_rng_init(&r, 5, 2);
  const int m = 4000000;
  int tail = 0;
  for (int i = 0; i < m; ++i) tail += fabs(na64_rng_gauss_zig(&r)) > r0;
  double et = m * erfc(r0 / sqrt(2.0));
  print_message("draws beyond r: %d (expected %.1f)\n", tail, et);
  assert_true(fabs(tail - et) < 5 * sqrt(et));
}

/* Same stream, same draws; bits 8-31 of the word are free for the caller. */
static void test_zig_word_bits(void **state)
{
  (void)state;
  na64_rng a, b, w;
  na64_rng_init(&a, 3, 4);
  na64_rng_init(&b, 3, 4);
  na64_rng_init(&w, 3, 5);
  for (int i = 0; i < 100000; ++i) {
    uint64_t u = na64_rng_u64(&w);
    double x = na64_rng_gauss_word(&a, u), y = na64_rng_gauss_word(&b, u ^ ((uint64_t)(i * 2654435761u) & 0xFFFFFF00u));
    assert_true(x == y);
  }
}

/* na64_rng_gauss_words is na64_rng_gauss_word on each word in turn: the same bits (signed zeros and
 * the sign of every value included), the same rejections drawing the same further words from rng
 * (the streams stay in step: the next draws agree), over 2e5 words in blocks of 1-64 (~2400
 * rejections, of every kind: wedges and the tail). */
static void test_zig_words_same(void **state)
{
  (void)state;
  na64_rng a, b, w;
  na64_rng_init(&a, 8, 1);
  na64_rng_init(&b, 8, 1);
  na64_rng_init(&w, 8, 2);
  uint64_t u[64];
  double z[64];
  long n = 0, slow = 0;
  for (int blk = 0; n < 200000; ++blk) {
    int m = 1 + blk % 64;
    for (int i = 0; i < m; ++i) u[i] = na64_rng_u64(&w);
    na64_rng_gauss_words(&b, u, z, m);
    for (int i = 0; i < m; ++i) {
      double x = na64_rng_gauss_word(&a, u[i]);
      assert_memory_equal(&x, &z[i], sizeof x);
      slow += (u[i] & 0xFF) == 0 || fabs(x) >= 3.0; /* the tail layer drew, or a wedge was likely */
    }
    assert_true(na64_rng_u64(&a) == na64_rng_u64(&b));
    n += m;
  }
  na64_rng_gauss_words(&b, u, z, 0); /* nothing to do */
  assert_true(slow > 100);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_zig_moments), cmocka_unit_test(test_zig_chi2), cmocka_unit_test(test_zig_ks),
      cmocka_unit_test(test_zig_tail),    cmocka_unit_test(test_zig_word_bits), cmocka_unit_test(test_zig_words_same),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
