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
 *    remove it from the waveforms, tests/sim/test_sadc_noise).
 * The waveform words of sim_sadc_write_event (test_waveform_words), against a sample-by-sample
 * computation written here from the model of docs/simulation.md "Raw data" (sample j = floor of the
 * float sum pedestal + 1/2 + s z + A shape[j], clipped to [0, 4095]; z the library value of sample j
 * of the block drawn by the channel's noise word, s the sign of Hadamard row p & 15 at j times -1 if
 * p & 16): exactly equal (the same float operations in the same order: no tolerance), on the SSE2
 * path and on the AVX2 path where the CPU has it, which must also give the same bytes as each other
 * (as test_corners_avx_same_bits for the ECAL corners); channels near both ends of the ADC range
 * and with pulses up to beyond 4095 counts exercise the four clipping/pulse cases. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "sim/fast_internal.h"
#include "support/na64_test.h"
#include "support/sadc_event.h"

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

#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HAVE_AVX2_PATH 1
extern atomic_int sim_sadc_use_avx2; /* src/sim/fast_digi.c, compiled into this test */
#endif

#define WCH 45 /* channels: sources 7 (20), 8 (1), 9 (24) */

/* The model's sample j of channel c (the c + 1st noise word of the stream) */
static unsigned model_sample(const sim_sadc_noise *nz, const sim_sadc_channel *c, double A, const double *shape,
                             uint64_t word, int j)
{
  const uint64_t h = word >> (32 * (j / SADC_LIB_LEN));
  const unsigned blk = (unsigned)(h & 4095u), p = (unsigned)((h >> 12) & 31u), k = (unsigned)(j % SADC_LIB_LEN);
  int par = (p >> 4) & 1u;
  for (unsigned x = p & 15u & k; x; x >>= 1) par ^= (int)(x & 1u); /* popcount parity: Hadamard H[p & 15][k] */
  float z = nz->lib[blk][sim_sadc_lane((int)k)];
  float v = (float)(((j & 1) ? c->ped_odd : c->ped_even) + 0.5) + (par ? -z : z);
  if (A > 0.0) v += (float)A * (float)shape[j];
  return !(v >= 0.0f) ? 0u : v >= 4095.0f ? 4095u : (unsigned)v;
}

/* The channels' words in the stream: each source's block holds its channels in order, each one
 * header word (unique per channel here), one pedestal word and 16 words of two samples. */
static void check_model(const uint8_t *buf, size_t len, const sim_sadc_noise *nz, const sim_sadc_channel *ch,
                        const double *amp, const double *shape, uint64_t key)
{
  int clipped = 0, pulses = 0;
  for (int c = 0; c < WCH; ++c) {
    const uint8_t *at = NULL;
    for (size_t off = 0; off + 8 <= len && !at; off += 4) {
      uint32_t w2[2];
      memcpy(w2, buf + off, 8);
      if (w2[0] == ch[c].header_word && w2[1] == ch[c].pedestal_word) at = buf + off;
    }
    assert_non_null(at);
    const uint64_t word = sim_noise_word(key, (uint64_t)c + 1);
    for (int j = 0; j < WF_SAMPLES; ++j) {
      uint32_t pair;
      memcpy(&pair, at + 8 + 4 * (j / 2), 4);
      const unsigned got = (j & 1) ? pair >> 16 : pair & 0xFFFFu;
      const unsigned want = model_sample(nz, &ch[c], amp[c], shape, word, j);
      if (got != want) fail_msg("channel %d sample %d: %u, the model %u", c, j, got, want);
      clipped += got == 0u || got == 4095u;
    }
    pulses += amp[c] > 0.0;
  }
  assert_true(clipped > 20 && pulses > 10); /* the clipping and pulse paths were taken */
}

static void test_waveform_words(void **state)
{
  (void)state;
  static sim_sadc_noise nz;
  sim_sadc_noise_init(&nz);
  sim_sadc_noise_library(&nz, 987654321);
  /* pedestals across the range (near 0 and 4095: clipping without pulse), amplitudes 0 to 5000 */
  static const double peds[9] = {0.3, 2.05, 37.5, 151.2, 402.77, 1000.01, 2047.9, 4090.6, 4094.2};
  static const double amps[7] = {0.0, 0.0, 3.7, 55.25, 800.0, 3990.0, 5000.0};
  sim_sadc_channel ch[WCH];
  double amp[WCH], shape[WF_SAMPLES];
  memset(ch, 0, sizeof ch);
  for (int c = 0; c < WCH; ++c) {
    ch[c].src = c < 20 ? 7u : c < 21 ? 8u : 9u;
    ch[c].port = (uint32_t)(c % 16);
    ch[c].channel = (uint32_t)(c / 16);
    ch[c].ped_even = peds[c % 9];
    ch[c].ped_odd = peds[c % 9] + (c % 3 ? 0.75 : -0.25 * (peds[c % 9] > 1.0));
    ch[c].gain = 1.0;
    sim_sadc_channel_prepare(&ch[c], &nz);
    amp[c] = amps[(c * 5) % 7];
  }
  sim_sadc_channels_group(ch, WCH);
  sim_sadc_pulse_shape(80.3, shape);
  for (uint64_t key = 1; key <= 4; ++key) {
    const uint64_t k = key * 0x243F6A8885A308D3ull;
    size_t len_sse2 = 0, len_avx2 = 0;
#ifdef HAVE_AVX2_PATH
    sim_sadc_use_avx2 = 0;
#endif
    uint8_t *sse2 = sadc_event_write(&nz, ch, amp, WCH, shape, k, &len_sse2);
    check_model(sse2, len_sse2, &nz, ch, amp, shape, k);
#ifdef HAVE_AVX2_PATH
    if (__builtin_cpu_supports("avx2")) {
      sim_sadc_use_avx2 = 1;
      uint8_t *avx2 = sadc_event_write(&nz, ch, amp, WCH, shape, k, &len_avx2);
      assert_int_equal(len_avx2, len_sse2);
      assert_memory_equal(avx2, sse2, len_sse2);
      check_model(avx2, len_avx2, &nz, ch, amp, shape, k);
      free(avx2);
    } else if (key == 1) {
      printf("no AVX2 on this CPU: the SSE2 path only\n");
    }
    sim_sadc_use_avx2 = -1;
#endif
    free(sse2);
  }
}

/* The pulse against its formula A (x/2)^2 exp(2 - x), x = (12.5 i - t0) / 15 (fast_digi.c, "Waveform
 * model"), each sample from libm's exp: within 1e-13 relative (the recurrence's ~30 roundings of
 * 1.1e-16); 0 where x <= 0 and everywhere for a NaN start or one after the window. */
static void test_pulse_shape(void **state)
{
  (void)state;
  static const double t0s[] = {80.3, 77.7, 0.0, -3.1, 12.5, 386.0, 400.0, 1e9, NAN};
  for (size_t k = 0; k < sizeof t0s / sizeof t0s[0]; ++k) {
    double shape[WF_SAMPLES];
    sim_sadc_pulse_shape(t0s[k], shape);
    for (int i = 0; i < WF_SAMPLES; ++i) {
      const double x = (12.5 * i - t0s[k]) / 15.0;
      if (!(x > 0.0)) {
        if (shape[i] != 0.0) fail_msg("t0 %g sample %d: %g, not 0", t0s[k], i, shape[i]);
        continue;
      }
      const double want = 0.25 * x * x * exp(2.0 - x);
      if (!(fabs(shape[i] - want) <= 1e-13 * want)) fail_msg("t0 %g sample %d: %.17g, formula %.17g", t0s[k], i, shape[i], want);
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_library), cmocka_unit_test(test_waveform_words),
                                     cmocka_unit_test(test_pulse_shape)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
