/* The SADC waveform words of sim_sadc_write_event on AVX2 and on SSE2 for sources of more channels
 * than the AVX2 path draws at a time (SADC_CHUNK = 64: its draws come chunk by chunk, the noise
 * words continuing across chunks and sources): the same bytes on both paths, and one noise word per
 * channel (branch vissadc claims the same bits; tests/sim/test_digi_noise checks both paths against
 * the model on sources of at most 24 channels, inside one chunk; review rv11). Sources of 151
 * channels (two chunk boundaries, an odd tail for the two-channels-per-iteration loop), 64 (exactly
 * one chunk) and 3; pedestals and amplitudes such that the quiet, pulse and clipping paths all occur. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "sim/fast_digi.c" /* sim_sadc_write_event, sim_sadc_use_avx2: hidden in libna64 */
#include "support/na64_test.h"
#include "support/sadc_event.h"

#define NCH (151 + 64 + 3)

static void test_chunks_same_bytes(void **state)
{
  (void)state;
#if defined(SADC_AVX2)
  if (!__builtin_cpu_supports("avx2")) {
    printf("no AVX2 on this CPU: nothing to compare\n");
    return;
  }
  static sim_sadc_noise nz;
  sim_sadc_noise_init(&nz);
  sim_sadc_noise_library(&nz, 424242);
  static sim_sadc_channel ch[NCH];
  double amp[NCH], shape[WF_SAMPLES];
  memset(ch, 0, sizeof ch);
  na64_rng r;
  na64_rng_init(&r, 31, 7);
  int quiet = 0, pulse = 0, clip = 0;
  for (int c = 0; c < NCH; ++c) {
    ch[c].src = c < 151 ? 3u : c < 215 ? 4u : 5u;
    ch[c].port = (uint32_t)(c % 16);
    ch[c].channel = (uint32_t)((c / 16) % 64);
    const double u = na64_rng_uniform(&r);
    ch[c].ped_even = u < 0.1 ? 1.5 * u : u > 0.9 ? 4095.0 - 20.0 * (1.0 - u) : 4000.0 * u; /* near both ends */
    ch[c].ped_odd = ch[c].ped_even + 0.625;
    if (ch[c].ped_odd > 4095.0) ch[c].ped_odd = ch[c].ped_even - 0.625;
    ch[c].gain = 1.0;
    sim_sadc_channel_prepare(&ch[c], &nz);
    const double v = na64_rng_uniform(&r);
    amp[c] = v < 0.5 ? 0.0 : v < 0.8 ? 300.0 * v : 6000.0 * v;
    quiet += amp[c] <= ch[c].quiet_max;
    pulse += amp[c] > ch[c].quiet_max && amp[c] <= ch[c].pulse_max;
    clip += !(amp[c] <= ch[c].pulse_max);
  }
  assert_true(quiet > 20 && pulse > 20 && clip > 20);
  sim_sadc_channels_group(ch, NCH);
  assert_int_equal(ch[0].group, 151);
  sim_sadc_pulse_shape(77.7, shape);
  for (uint64_t key = 1; key <= 3; ++key) {
    size_t ls = 0, la = 0;
    sim_sadc_use_avx2 = 0;
    uint8_t *s = sadc_event_write(&nz, ch, amp, NCH, shape, key * 0x9E3779B97F4A7C15ull, &ls);
    sim_sadc_use_avx2 = 1;
    uint8_t *a = sadc_event_write(&nz, ch, amp, NCH, shape, key * 0x9E3779B97F4A7C15ull, &la);
    sim_sadc_use_avx2 = -1;
    assert_int_equal(la, ls);
    assert_memory_equal(a, s, ls);
    free(s);
    free(a);
  }
#else
  printf("no AVX2 path in this build\n");
#endif
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_chunks_same_bytes)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
