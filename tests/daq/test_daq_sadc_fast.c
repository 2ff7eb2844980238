/* SADC decoding: the whole-waveform path (clean header, pedestal word and sample words checked at
 * once, the usual 32 samples by 16-byte loads) must give what the word layout of docs/raw-format.md
 * §5.2 says, for every length, and must leave every fault to the word-by-word path, which reports
 * it at the word where it is. Expected values are the encoder's input and the word positions of the
 * layout (header, optional pedestal word, ceil(n/2) sample words), not decoder output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "support/na64_test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t next_u32(void) /* xorshift64: a fixed sequence, so failures reproduce */
{
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 32);
}

static void random_waveform(na64_daq_sadc_waveform *w, unsigned nsamples, int peds)
{
  memset(w, 0, sizeof *w);
  w->port = (uint8_t)(next_u32() % 16u), w->channel = (uint8_t)(next_u32() % 64u);
  w->nsamples = (uint16_t)nsamples, w->has_pedestals = (uint16_t)peds;
  if (peds) w->pedestal_even = (next_u32() % 32768u) / 8.0, w->pedestal_odd = (next_u32() % 32768u) / 8.0;
  for (unsigned s = 0; s < nsamples; ++s) /* the extremes 0 and 4095 now and then */
    w->samples[s] = (uint16_t)(s % 7 == 3 ? 4095u : s % 11 == 5 ? 0u : next_u32() % 4096u);
}

static na64_daq_equipment block(const uint32_t *w, size_t n)
{
  na64_daq_equipment eq;
  memset(&eq, 0, sizeof eq);
  eq.header = na64_daq_sadc_equipment(610, 12.5);
  eq.header.size = (uint32_t)(4 * n);
  eq.words = w;
  eq.nwords = n;
  return eq;
}

static void assert_same_waveform(const na64_daq_sadc_waveform *in, const na64_daq_sadc_waveform *out)
{
  assert_int_equal(out->source_id, 610);
  assert_int_equal(out->port, in->port);
  assert_int_equal(out->channel, in->channel);
  assert_int_equal(out->nsamples, in->nsamples);
  assert_int_equal(out->has_pedestals, in->has_pedestals);
  assert_true(out->pedestal_even == in->pedestal_even && out->pedestal_odd == in->pedestal_odd);
  assert_memory_equal(out->samples, in->samples, sizeof in->samples[0] * in->nsamples);
}

/* Every length 0..40, 64, 254, 255, with and without pedestals, three waveforms per block: the
 * decoded waveforms are the encoded ones, with no error. */
static void test_round_trip_every_length(void **state)
{
  (void)state;
  static na64_daq_sadc_waveform in[3], out[3];
  static uint32_t words[3 * (2 + 128)];
  unsigned lengths[44];
  int nl = 0;
  for (unsigned l = 0; l <= 40; ++l) lengths[nl++] = l;
  lengths[nl++] = 64, lengths[nl++] = 254, lengths[nl++] = 255;
  for (int li = 0; li < nl; ++li)
    for (int peds = 0; peds < 2; ++peds) {
      for (int k = 0; k < 3; ++k) random_waveform(&in[k], k == 1 ? 32u : lengths[li], (peds + k) % 2);
      size_t nw = 0, got = 0;
      na64_err err = {0, ""};
      assert_int_equal(na64_daq_sadc_encode(in, 3, words, sizeof words / sizeof words[0], &nw, &err), NA64_OK);
      na64_daq_equipment eq = block(words, nw);
      na64_daq_decode_stats st;
      memset(&st, 0, sizeof st);
      assert_int_equal(na64_daq_sadc_decode(&eq, out, 3, &got, &st, &err), NA64_OK);
      assert_int_equal(got, 3);
      assert_int_equal(st.errors, 0);
      for (int k = 0; k < 3; ++k) {
        assert_int_equal(out[k].flags, 0);
        assert_same_waveform(&in[k], &out[k]);
      }
    }
}

/* A usual waveform (32 samples, pedestal word) at the end of a block: words 0 header, 1 pedestals,
 * 2..17 samples. A fault in any sample word is reported at that word, once; the samples keep their
 * 12-bit values (the reserved bits are not part of them). */
static void test_fault_in_each_sample_word(void **state)
{
  (void)state;
  na64_daq_sadc_waveform in;
  static na64_daq_sadc_waveform out[2];
  uint32_t words[18], bad[18];
  size_t nw = 0, got = 0;
  na64_err err = {0, ""};
  random_waveform(&in, 32, 1);
  assert_int_equal(na64_daq_sadc_encode(&in, 1, words, 18, &nw, &err), NA64_OK);
  assert_int_equal(nw, 18);
  const uint32_t faults[3] = {1u << 12, 1u << 28, 1u << 15}; /* reserved bits 15..12 and 29..28 */
  for (int f = 0; f < 3; ++f)
    for (size_t q = 2; q < 18; ++q) {
      memcpy(bad, words, sizeof bad);
      bad[q] |= faults[f];
      na64_daq_equipment eq = block(bad, 18);
      na64_daq_decode_stats st;
      memset(&st, 0, sizeof st);
      assert_int_equal(na64_daq_sadc_decode(&eq, out, 2, &got, &st, &err), NA64_EFORMAT);
      assert_non_null(strstr(err.msg, "reserved bits 29..28 or 15..12 of a sample word not zero"));
      assert_int_equal(got, 1);
      assert_int_equal(st.errors, 1);
      assert_int_equal(st.first_error, q);
      assert_same_waveform(&in, &out[0]);
    }
  /* a word of kind 11 inside the samples: reported there and skipped; the sample words after it
   * continue the waveform, which ends one word short (truncated, 30 samples) */
  for (size_t q = 2; q < 18; ++q) {
    memcpy(bad, words, sizeof bad);
    bad[q] |= 3u << 30;
    na64_daq_equipment eq = block(bad, 18);
    na64_daq_decode_stats st;
    memset(&st, 0, sizeof st);
    assert_int_equal(na64_daq_sadc_decode(&eq, out, 2, &got, &st, &err), NA64_EFORMAT);
    assert_int_equal(got, 1);
    assert_int_equal(st.first_error, q);
    assert_int_equal(st.errors, 2); /* the word, then the block ending inside the waveform */
    assert_int_equal(out[0].flags, NA64_DAQ_SADC_TRUNCATED);
    assert_int_equal(out[0].nsamples, 30);
    assert_memory_equal(out[0].samples, in.samples, sizeof in.samples[0] * 2 * (q - 2));
    assert_memory_equal(out[0].samples + 2 * (q - 2), in.samples + 2 * (q - 1), sizeof in.samples[0] * 2 * (17 - q));
  }
}

/* Odd length (31 samples: header, pedestals, 16 sample words): the upper half of the last word must be 0; a missing pedestal
 * word; a block cut inside the samples. */
static void test_odd_missing_and_truncated(void **state)
{
  (void)state;
  na64_daq_sadc_waveform in;
  static na64_daq_sadc_waveform out[2];
  uint32_t words[18];
  size_t nw = 0, got = 0;
  na64_err err = {0, ""};
  random_waveform(&in, 31, 1);
  assert_int_equal(na64_daq_sadc_encode(&in, 1, words, 18, &nw, &err), NA64_OK);
  assert_int_equal(nw, 18);
  words[17] |= 0x00050000u; /* a sample in the unused upper half */
  na64_daq_equipment eq = block(words, nw);
  na64_daq_decode_stats st;
  memset(&st, 0, sizeof st);
  assert_int_equal(na64_daq_sadc_decode(&eq, out, 2, &got, &st, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "unused upper sample of an odd-length waveform not zero"));
  assert_int_equal(st.first_error, 17);
  assert_same_waveform(&in, &out[0]);
  /* the header announces a pedestal word that is not there: the samples still decode */
  random_waveform(&in, 32, 1);
  assert_int_equal(na64_daq_sadc_encode(&in, 1, words, 18, &nw, &err), NA64_OK);
  memmove(words + 1, words + 2, 16 * sizeof words[0]);
  eq = block(words, 17);
  memset(&st, 0, sizeof st);
  assert_int_equal(na64_daq_sadc_decode(&eq, out, 2, &got, &st, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "pedestal word announced but missing"));
  assert_int_equal(st.first_error, 1);
  assert_int_equal(out[0].nsamples, 32);
  assert_memory_equal(out[0].samples, in.samples, sizeof in.samples);
  /* cut after 10 of the 16 sample words */
  assert_int_equal(na64_daq_sadc_encode(&in, 1, words, 18, &nw, &err), NA64_OK);
  eq = block(words, 12);
  assert_int_equal(na64_daq_sadc_decode(&eq, out, 2, &got, &st, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "block ends inside a waveform"));
  assert_int_equal(out[0].flags, NA64_DAQ_SADC_TRUNCATED);
  assert_int_equal(out[0].nsamples, 20);
  assert_memory_equal(out[0].samples, in.samples, 20 * sizeof in.samples[0]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_every_length),
      cmocka_unit_test(test_fault_in_each_sample_word),
      cmocka_unit_test(test_odd_missing_and_truncated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
