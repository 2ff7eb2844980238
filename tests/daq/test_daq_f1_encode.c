/* The F1 encoder (na64_daq_f1_encode, src/daq/f1.c) against a reference written directly from the
 * word tables of docs/raw-format.md §5.1: for every (port, chip) in ascending order that has hits, the
 * header, the chip's data words in the order of the input, the trailer. Random hit lists with one
 * trigger time (the digitiser's case), with one trigger time per chip, with chip flags (TBO, chip
 * error) and trailing edges, each also sorted by (port, chip) (the one-pass path); then the errors. The comparison is word for word: any difference in
 * the layout is a failure. */
#include <stdlib.h>
#include <string.h>

#include "na64/core.h"
#include "na64/daq.h"
#include "support/na64_test.h"

/* The reference: a scan over the 128 keys, one pass over the hits per key (quadratic, obvious). */
static size_t ref_encode(const na64_daq_f1_hit *h, size_t n, uint32_t event, uint32_t *out)
{
  size_t nw = 0;
  const uint32_t ev = event & 63u;
  for (uint32_t port = 0; port < 16; ++port)
    for (uint32_t chip = 0; chip < 8; ++chip) {
      size_t cnt = 0, first = n;
      uint32_t tbo = 0, cherr = 0;
      for (size_t i = 0; i < n; ++i)
        if (h[i].port == port && h[i].chip == chip) {
          if (first == n) first = i;
          cnt++;
          tbo |= (h[i].flags & NA64_DAQ_F1_TBO) != 0;
          cherr |= (h[i].flags & NA64_DAQ_F1_CHIP_ERROR) != 0;
        }
      if (!cnt) continue;
      out[nw++] = (2u << 30) | (port << 26) | (chip << 23) | (tbo << 22) | (ev << 16) | h[first].trigger_units;
      for (size_t i = 0; i < n; ++i)
        if (h[i].port == port && h[i].chip == chip)
          out[nw++] = (1u << 30) | (port << 26) | (chip << 23) | ((uint32_t)h[i].channel << 20) |
                      ((uint32_t)(h[i].flags & NA64_DAQ_F1_TRAILING) << 19) | h[i].time_units;
      out[nw++] = (3u << 30) | (port << 26) | (chip << 23) | (cherr << 22) | (ev << 16) | (uint32_t)cnt;
    }
  return nw;
}

/* n random hits on `nchips` chips of `nports` ports; mode 0: one trigger time, 1: one per chip,
 * 2: one trigger time and random flags. */
static void random_hits(na64_rng *rng, na64_daq_f1_hit *h, size_t n, int nports, int mode)
{
  const uint16_t trig = (uint16_t)na64_rng_u64(rng);
  for (size_t i = 0; i < n; ++i) {
    uint64_t w = na64_rng_u64(rng);
    memset(&h[i], 0, sizeof h[i]);
    h[i].port = (uint8_t)(w % (uint64_t)nports);
    h[i].chip = (uint8_t)((w >> 8) & 7u);
    h[i].channel = (uint8_t)((w >> 12) & 7u);
    h[i].time_units = (uint16_t)(w >> 16);
    h[i].trigger_units = mode == 1 ? (uint16_t)(trig + 97u * (uint32_t)(h[i].port * 8 + h[i].chip)) : trig;
    if (mode == 2) h[i].flags = (uint8_t)((w >> 32) & 7u); /* trailing, TBO, chip error */
  }
}

static void test_f1_encode_matches_reference(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_rng rng;
  na64_rng_init(&rng, 4242, 1);
  enum { MAXN = 400 };
  na64_daq_f1_hit h[MAXN];
  uint32_t got[3 * MAXN], ref[3 * MAXN];
  size_t compared = 0, sorted_words = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const int mode = trial % 3;
    const size_t n = (size_t)(na64_rng_u64(&rng) % (trial < 1500 ? 40u : (uint64_t)MAXN)) + (trial == 0 ? 0 : 1);
    const int nports = 1 + (int)(na64_rng_u64(&rng) % 16u);
    random_hits(&rng, h, n, nports, mode);
    size_t nw = 99;
    const uint32_t event = (uint32_t)na64_rng_u64(&rng);
    assert_int_equal(na64_daq_f1_encode(h, n, event, got, NA64_DAQ_F1_MAX_WORDS(n) + 1, &nw, &err), NA64_OK);
    const size_t nr = ref_encode(h, n, event, ref);
    assert_int_equal(nw, nr);
    assert_memory_equal(got, ref, nr * sizeof *ref);
    compared += nr;
    /* the same hits in ascending (port, chip), stable (the encoder's one-pass path when they share
     * one trigger time and have no chip flags): the same words */
    for (size_t i = 1; i < n; ++i) {
      na64_daq_f1_hit x = h[i];
      size_t j = i;
      for (; j > 0 && (h[j - 1].port << 3 | h[j - 1].chip) > (x.port << 3 | x.chip); --j) h[j] = h[j - 1];
      h[j] = x;
    }
    assert_int_equal(na64_daq_f1_encode(h, n, event, got, NA64_DAQ_F1_MAX_WORDS(n), &nw, &err), NA64_OK);
    assert_int_equal(nw, nr);
    assert_memory_equal(got, ref, nr * sizeof *ref);
    sorted_words += nr;
  }
  assert_true(sorted_words > 100000);
  assert_true(compared > 100000);
}

static void test_f1_encode_errors(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_daq_f1_hit h[3];
  memset(h, 0, sizeof h);
  uint32_t w[16];
  size_t nw = 0;
  for (int i = 0; i < 3; ++i) {
    h[i].port = 2;
    h[i].chip = 7;
    h[i].channel = 7;
    h[i].trigger_units = 100;
  }
  assert_int_equal(na64_daq_f1_encode(h, 3, 1, w, 16, &nw, &err), NA64_OK);
  assert_int_equal(nw, 5);
  /* every out-of-range field alone: port 16, chip 8, channel 8 */
  h[1].port = 16;
  assert_int_equal(na64_daq_f1_encode(h, 3, 1, w, 16, &nw, &err), NA64_ERANGE);
  assert_non_null(strstr(err.msg, "hit 1"));
  h[1].port = 2;
  h[2].chip = 8;
  assert_int_equal(na64_daq_f1_encode(h, 3, 1, w, 16, &nw, &err), NA64_ERANGE);
  h[2].chip = 7;
  h[0].channel = 8;
  assert_int_equal(na64_daq_f1_encode(h, 3, 1, w, 16, &nw, &err), NA64_ERANGE);
  assert_non_null(strstr(err.msg, "hit 0"));
  h[0].channel = 0;
  /* two trigger times in one chip: refused; on two chips: one header each */
  h[2].trigger_units = 101;
  assert_int_equal(na64_daq_f1_encode(h, 3, 1, w, 16, &nw, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "hit 2"));
  h[2].chip = 6;
  assert_int_equal(na64_daq_f1_encode(h, 3, 1, w, 16, &nw, &err), NA64_OK);
  assert_int_equal(nw, 7);
  assert_int_equal(w[0] & 0xFFFFu, 101); /* chip 6 first */
  assert_int_equal(w[3] & 0xFFFFu, 100);
  /* no room */
  assert_int_equal(na64_daq_f1_encode(h, 3, 1, w, 6, &nw, &err), NA64_ERANGE);
}

/* More than 65535 hits on one chip are refused (the trailer's 16-bit count); 65535 are encoded. */
static void test_f1_encode_chip_count(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  const size_t n = 65536;
  na64_daq_f1_hit *h = calloc(n, sizeof *h);
  uint32_t *w = malloc(NA64_DAQ_F1_MAX_WORDS(n) * sizeof *w);
  assert_non_null(h);
  assert_non_null(w);
  size_t nw = 0;
  assert_int_equal(na64_daq_f1_encode(h, n - 1, 0, w, NA64_DAQ_F1_MAX_WORDS(n), &nw, &err), NA64_OK);
  assert_int_equal(nw, n + 1);
  assert_int_equal(w[nw - 1] & 0xFFFFu, 0xFFFFu);
  assert_int_equal(na64_daq_f1_encode(h, n, 0, w, NA64_DAQ_F1_MAX_WORDS(n), &nw, &err), NA64_ERANGE);
  assert_non_null(strstr(err.msg, "65535"));
  h[n - 1].chip = 1; /* 65535 + 1 on two chips: fine */
  assert_int_equal(na64_daq_f1_encode(h, n, 0, w, NA64_DAQ_F1_MAX_WORDS(n), &nw, &err), NA64_OK);
  assert_int_equal(nw, n + 4);
  free(h);
  free(w);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_f1_encode_matches_reference),
      cmocka_unit_test(test_f1_encode_errors),
      cmocka_unit_test(test_f1_encode_chip_count),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
