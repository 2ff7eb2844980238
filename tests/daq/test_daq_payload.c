/* Payload codecs: word layouts against the hand-computed values of docs/raw-format.md §5, round trips
 * with random content, and tolerant decoding of malformed blocks (flags, counts, messages). */
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "support/na64_test.h"

static na64_daq_equipment block(uint32_t type, uint32_t id, const uint32_t *w, size_t n)
{
  na64_daq_equipment eq;
  memset(&eq, 0, sizeof eq);
  if (type == NA64_DAQ_EQ_F1) eq.header = na64_daq_f1_equipment(id, 0.1289);
  else if (type == NA64_DAQ_EQ_SADC) eq.header = na64_daq_sadc_equipment(id, 12.5);
  else eq.header = na64_daq_apv_equipment(id, 25.0);
  eq.header.size = (uint32_t)(4 * n);
  eq.words = w;
  eq.nwords = n;
  return eq;
}

static void test_f1_layout(void **state)
{
  (void)state;
  na64_daq_f1_hit h;
  memset(&h, 0, sizeof h);
  h.port = 3;
  h.chip = 2;
  h.channel = 5;
  h.time_units = 0x1234;
  h.trigger_units = 0x1200;
  uint32_t w[8];
  size_t n;
  na64_err err;
  assert_int_equal(na64_daq_f1_encode(&h, 1, 17, w, 8, &n, &err), NA64_OK);
  assert_int_equal(n, 3);
  assert_int_equal(w[0], 0x8D111200u); /* header: 10 | port 3 | chip 2 | tbo 0 | event 17 | trigger 0x1200 */
  assert_int_equal(w[1], 0x4D501234u); /* data: 01 | port 3 | chip 2 | ch 5 | leading | 000 | 0x1234 */
  assert_int_equal(w[2], 0xCD110001u); /* trailer: 11 | port 3 | chip 2 | ok | event 17 | 1 word */
  h.flags = NA64_DAQ_F1_TRAILING;
  assert_int_equal(na64_daq_f1_encode(&h, 1, 17 + 64, w, 8, &n, &err), NA64_OK); /* event mod 64 */
  assert_int_equal(w[0], 0x8D111200u);
  assert_int_equal(w[1], 0x4D581234u); /* bit 19: trailing edge */
  /* decode: 0x34 = 52 bins after the trigger at 0.1289 ns */
  na64_daq_equipment eq = block(NA64_DAQ_EQ_F1, 612, w, 3);
  assert_int_equal(eq.header.type_attribute[1], 128900); /* femtoseconds */
  na64_daq_f1_hit out[4];
  size_t nh;
  na64_daq_decode_stats st = {0};
  assert_int_equal(na64_daq_f1_decode(&eq, 17, out, 4, &nh, &st, &err), NA64_OK);
  assert_int_equal(nh, 1);
  assert_int_equal(out[0].rel_units, 0x34);
  assert_rel(out[0].time_ns, 52 * 0.1289, 1e-12);
  assert_int_equal(out[0].source_id, 612);
  assert_int_equal(out[0].flags, NA64_DAQ_F1_TRAILING);
  assert_int_equal(st.words, 3);
  assert_int_equal(st.items, 1);
  assert_int_equal(st.errors, 0);
  /* range checks of the encoder */
  h.port = 16;
  assert_int_equal(na64_daq_f1_encode(&h, 1, 0, w, 8, &n, &err), NA64_ERANGE);
  h.port = 1;
  assert_int_equal(na64_daq_f1_encode(&h, 1, 0, w, 2, &n, &err), NA64_ERANGE); /* no room */
  na64_daq_f1_hit two[2] = {h, h};
  two[1].trigger_units = 7;
  assert_int_equal(na64_daq_f1_encode(two, 2, 0, w, 8, &n, &err), NA64_EINVAL); /* one trigger per chip */
}

/* The F1 counter wraps at 2^16: a hit just after a trigger near the top of the range. */
static void test_f1_wrap(void **state)
{
  (void)state;
  uint32_t w[3] = {0x80000000u | 65500u, 0x40000000u | 100u, 0xC0000001u};
  na64_daq_equipment eq = block(NA64_DAQ_EQ_F1, 1, w, 3);
  na64_daq_f1_hit out[2];
  size_t nh;
  na64_err err;
  assert_int_equal(na64_daq_f1_decode(&eq, -1, out, 2, &nh, NULL, &err), NA64_OK);
  assert_int_equal(out[0].rel_units, 136); /* 100 - 65500 + 65536 */
  w[0] = 0x80000000u | 100u;
  w[1] = 0x40000000u | 65500u;
  assert_int_equal(na64_daq_f1_decode(&eq, -1, out, 2, &nh, NULL, &err), NA64_OK);
  assert_int_equal(out[0].rel_units, -136);
}

static void test_f1_malformed(void **state)
{
  (void)state;
  na64_daq_f1_hit out[16];
  size_t nh;
  na64_err err;
  na64_daq_decode_stats st;
  /* data word without a header: delivered, flagged, counted, message names source/word/value */
  uint32_t a[] = {0x4D501234u, 0x00000000u /* filler: fine */};
  na64_daq_equipment eq = block(NA64_DAQ_EQ_F1, 612, a, 2);
  memset(&st, 0, sizeof st);
  assert_int_equal(na64_daq_f1_decode(&eq, -1, out, 16, &nh, &st, &err), NA64_EFORMAT);
  assert_int_equal(nh, 1);
  assert_int_equal(out[0].flags & NA64_DAQ_F1_NO_HEADER, NA64_DAQ_F1_NO_HEADER);
  assert_int_equal(out[0].time_units, 0x1234);
  assert_int_equal(st.errors, 1);
  assert_int_equal(st.first_error, 0);
  assert_non_null(strstr(err.msg, "source 612"));
  assert_non_null(strstr(err.msg, "0x4D501234"));
  /* trailer count wrong (says 2, one data word), tbo set, event mismatch (header event 17, expect 18) */
  uint32_t b[] = {0x8D511200u, 0x4D501234u, 0xCD110002u};
  eq = block(NA64_DAQ_EQ_F1, 612, b, 3);
  assert_int_equal(na64_daq_f1_decode(&eq, 18, out, 16, &nh, NULL, &err), NA64_EFORMAT);
  assert_int_equal(nh, 1);
  assert_int_equal(out[0].flags, NA64_DAQ_F1_TBO | NA64_DAQ_F1_EVENT_MISMATCH | NA64_DAQ_F1_BAD_TRAILER);
  /* missing trailer, then a new chip: the first chip's hits are flagged, the second chip's are fine */
  uint32_t c[] = {0x8D111200u, 0x4D501234u, 0x80111200u, 0x40101201u, 0xC0110001u};
  eq = block(NA64_DAQ_EQ_F1, 612, c, 5);
  memset(&st, 0, sizeof st);
  assert_int_equal(na64_daq_f1_decode(&eq, 17, out, 16, &nh, &st, &err), NA64_EFORMAT);
  assert_int_equal(nh, 2);
  assert_int_equal(out[0].flags, NA64_DAQ_F1_BAD_TRAILER);
  assert_int_equal(out[1].flags, 0);
  assert_int_equal(out[1].rel_units, 1);
  assert_int_equal(st.errors, 1);
  assert_int_equal(st.first_error, 2);
  /* trailer error bit; block ending inside a chip */
  uint32_t d[] = {0x8D111200u, 0x4D501234u, 0xCD510001u, 0x8D111200u, 0x4D501235u};
  eq = block(NA64_DAQ_EQ_F1, 612, d, 5);
  assert_int_equal(na64_daq_f1_decode(&eq, 17, out, 16, &nh, NULL, &err), NA64_EFORMAT);
  assert_int_equal(out[0].flags, NA64_DAQ_F1_CHIP_ERROR);
  assert_int_equal(out[1].flags, NA64_DAQ_F1_BAD_TRAILER);
  /* capacity reached: ERANGE with the hits that fit */
  eq = block(NA64_DAQ_EQ_F1, 612, c, 5);
  assert_int_equal(na64_daq_f1_decode(&eq, 17, out, 1, &nh, NULL, &err), NA64_ERANGE);
  assert_int_equal(nh, 1);
  assert_int_equal(na64_daq_f1_decode(&eq, 17, NULL, 0, &nh, NULL, &err), NA64_ERANGE); /* no room at all */
  assert_int_equal(nh, 0);
}

/* Random hits: encode -> decode gives the hits back grouped by (port, chip), order kept inside. */
static void test_f1_roundtrip_random(void **state)
{
  (void)state;
  na64_rng r;
  na64_rng_init(&r, 11, 0);
  enum { N = 600 };
  static na64_daq_f1_hit in[N], out[3 * N];
  static uint32_t w[3 * N];
  uint16_t trig[128];
  for (int k = 0; k < 128; ++k) trig[k] = (uint16_t)na64_rng_u64(&r);
  for (int trial = 0; trial < 50; ++trial) {
    size_t n = na64_rng_u64(&r) % N;
    for (size_t i = 0; i < n; ++i) {
      in[i].port = (uint8_t)(na64_rng_u64(&r) % 16);
      in[i].chip = (uint8_t)(na64_rng_u64(&r) % 8);
      in[i].channel = (uint8_t)(na64_rng_u64(&r) % 8);
      in[i].flags = (uint8_t)(na64_rng_u64(&r) % 2);
      in[i].trigger_units = trig[in[i].port * 8 + in[i].chip];
      in[i].time_units = (uint16_t)na64_rng_u64(&r);
    }
    size_t nw, nh;
    na64_err err;
    assert_int_equal(na64_daq_f1_encode(in, n, (uint32_t)trial, w, NA64_DAQ_F1_MAX_WORDS(n), &nw, &err), NA64_OK);
    na64_daq_equipment eq = block(NA64_DAQ_EQ_F1, 5, w, nw);
    assert_int_equal(na64_daq_f1_decode(&eq, trial, out, 3 * N, &nh, NULL, &err), NA64_OK);
    assert_int_equal(nh, n);
    size_t k = 0;
    for (int key = 0; key < 128; ++key)
      for (size_t i = 0; i < n; ++i) {
        if (in[i].port * 8 + in[i].chip != key) continue;
        assert_int_equal(out[k].port, in[i].port);
        assert_int_equal(out[k].chip, in[i].chip);
        assert_int_equal(out[k].channel, in[i].channel);
        assert_int_equal(out[k].flags, in[i].flags);
        assert_int_equal(out[k].time_units, in[i].time_units);
        assert_int_equal(out[k].trigger_units, in[i].trigger_units);
        int32_t rel = (int32_t)in[i].time_units - (int32_t)in[i].trigger_units;
        if (rel > 32767) rel -= 65536;
        if (rel < -32768) rel += 65536;
        assert_int_equal(out[k].rel_units, rel);
        ++k;
      }
  }
}

/* Whole events: the hits of every F1 block, appended to one list. */
static void test_f1_decode_event(void **state)
{
  (void)state;
  na64_daq_writer *w;
  na64_err err;
  assert_int_equal(na64_daq_writer_open_memory(NULL, &w, &err), NA64_OK);
  na64_daq_header h;
  memset(&h, 0, sizeof h);
  h.type = NA64_DAQ_PHYSICS_EVENT;
  h.id[1] = NA64_DAQ_ID1(2, 5);
  assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), NA64_OK);
  na64_daq_f1_hit hits[300];
  memset(hits, 0, sizeof hits);
  for (int i = 0; i < 300; ++i) {
    hits[i].port = (uint8_t)(i % 16);
    hits[i].chip = (uint8_t)((i / 16) % 8);
    hits[i].channel = (uint8_t)(i % 8);
    hits[i].time_units = (uint16_t)(1000 + i);
    hits[i].trigger_units = 1000;
  }
  uint32_t words[1000];
  size_t nw;
  for (uint32_t src = 0; src < 2; ++src) {
    assert_int_equal(na64_daq_f1_encode(hits + 150 * src, 150, 5, words, 1000, &nw, &err), NA64_OK);
    na64_daq_equipment_header eh = na64_daq_f1_equipment(600 + src, 0.1);
    assert_int_equal(na64_daq_writer_add_equipment(w, &eh, words, nw, &err), NA64_OK);
  }
  assert_int_equal(na64_daq_writer_end_event(w, &err), NA64_OK);
  void *buf;
  size_t n;
  assert_int_equal(na64_daq_writer_close_memory(w, &buf, &n, &err), NA64_OK);
  na64_daq_reader *r;
  assert_int_equal(na64_daq_reader_open_memory(buf, n, NULL, NULL, &r, &err), NA64_OK);
  na64_daq_event ev;
  assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
  na64_daq_f1_hit_list list;
  na64_daq_f1_hit_list_init(&list);
  na64_daq_decode_stats st = {0};
  assert_int_equal(na64_daq_f1_decode_event(&ev, &list, &st, &err), NA64_OK);
  assert_int_equal(list.n, 300);
  assert_int_equal(st.items, 300);
  double sum = 0;
  int src600 = 0;
  for (size_t i = 0; i < list.n; ++i) {
    sum += list.hits[i].rel_units;
    src600 += list.hits[i].source_id == 600;
    assert_int_equal(list.hits[i].flags, 0);
  }
  assert_int_equal(src600, 150);
  assert_true(sum == 299.0 * 300 / 2); /* rel = i for i = 0..299 */
  na64_daq_f1_hit_list_release(&list);
  na64_daq_reader_close(r);
  free(buf);
}

static void test_sadc_layout(void **state)
{
  (void)state;
  na64_daq_sadc_waveform wf;
  memset(&wf, 0, sizeof wf);
  wf.port = 1;
  wf.channel = 9;
  wf.nsamples = 3;
  wf.has_pedestals = 1;
  wf.pedestal_even = 100.5;
  wf.pedestal_odd = 99.25;
  wf.samples[0] = 100;
  wf.samples[1] = 200;
  wf.samples[2] = 300;
  uint32_t w[8];
  size_t n;
  na64_err err;
  assert_int_equal(na64_daq_sadc_encoded_words(&wf, 1), 4);
  assert_int_equal(na64_daq_sadc_encode(&wf, 1, w, 8, &n, &err), NA64_OK);
  assert_int_equal(n, 4);
  assert_int_equal(w[0], 0x84903800u); /* 10 | port 1 | ch 9 | 3 samples | P | 0 */
  assert_int_equal(w[1], 0x418D0324u); /* 01 | odd 99.25*8=794 | even 100.5*8=804 */
  assert_int_equal(w[2], 0x00C80064u); /* samples 1, 0 */
  assert_int_equal(w[3], 0x0000012Cu); /* sample 2 */
  na64_daq_equipment eq = block(NA64_DAQ_EQ_SADC, 700, w, n);
  assert_int_equal(eq.header.type_attribute[1], 12500); /* picoseconds */
  static na64_daq_sadc_waveform out[2];
  size_t nw;
  assert_int_equal(na64_daq_sadc_decode(&eq, out, 2, &nw, NULL, &err), NA64_OK);
  assert_int_equal(nw, 1);
  assert_int_equal(out[0].nsamples, 3);
  assert_true(out[0].pedestal_even == 100.5 && out[0].pedestal_odd == 99.25);
  assert_int_equal(out[0].samples[2], 300);
  assert_int_equal(out[0].source_id, 700);
  /* range checks */
  wf.samples[1] = 4096;
  assert_int_equal(na64_daq_sadc_encode(&wf, 1, w, 8, &n, &err), NA64_ERANGE);
  wf.samples[1] = 1;
  wf.pedestal_odd = -1;
  assert_int_equal(na64_daq_sadc_encode(&wf, 1, w, 8, &n, &err), NA64_ERANGE);
}

static void test_sadc_malformed_and_pedestals(void **state)
{
  (void)state;
  /* header announces 6 samples (3 words) but only 2 words come before the next header */
  uint32_t w[] = {0x80006000u, 0x00020001u, 0x00040003u, 0x80102000u, 0x00060005u, 0x00070000u};
  na64_daq_equipment eq = block(NA64_DAQ_EQ_SADC, 700, w, 6);
  static na64_daq_sadc_waveform out[4];
  size_t n;
  na64_err err;
  na64_daq_decode_stats st = {0};
  assert_int_equal(na64_daq_sadc_decode(&eq, out, 4, &n, &st, &err), NA64_EFORMAT);
  assert_int_equal(n, 2);
  assert_int_equal(out[0].nsamples, 4);
  assert_int_equal(out[0].flags, NA64_DAQ_SADC_TRUNCATED);
  assert_int_equal(out[1].channel, 1);
  assert_int_equal(out[1].nsamples, 2);
  assert_int_equal(out[1].samples[1], 6);
  assert_int_equal(st.errors, 2); /* early header; the last word outside any waveform */
  assert_int_equal(st.first_error, 3);
  /* pedestals from the front: even samples 200, 202 -> 201; odd 190, 194 -> 192 */
  na64_daq_sadc_waveform wf;
  memset(&wf, 0, sizeof wf);
  wf.nsamples = 8;
  uint16_t s[8] = {200, 190, 202, 194, 900, 800, 300, 250};
  memcpy(wf.samples, s, sizeof s);
  double pe, po;
  assert_int_equal(na64_daq_sadc_pedestals_from_front(&wf, 4, &pe, &po, &err), NA64_OK);
  assert_true(pe == 201.0 && po == 192.0);
  assert_int_equal(na64_daq_sadc_pedestals_from_front(&wf, 9, &pe, &po, &err), NA64_EINVAL);
}

static void test_apv_layout(void **state)
{
  (void)state;
  na64_daq_apv_hit h;
  memset(&h, 0, sizeof h);
  h.chip = 5;
  h.channel = 100;
  h.amp[0] = 1;
  h.amp[1] = 2;
  h.amp[2] = 3;
  uint32_t w[4];
  size_t n;
  na64_err err;
  assert_int_equal(na64_daq_apv_encode(&h, 1, 0x123, w, 4, &n, &err), NA64_OK);
  assert_int_equal(n, 3);
  assert_int_equal(w[0], 0x85012301u); /* 10 | chip 5 | 0 | event 0x123 | 1 hit */
  assert_int_equal(w[1], 0x72000001u); /* 01 | channel 100 | 0 | a0 = 1 */
  assert_int_equal(w[2], 0x00003002u); /* 00 | 0 | a2 = 3 | a1 = 2 */
  na64_daq_equipment eq = block(NA64_DAQ_EQ_APV, 800, w, 3);
  na64_daq_apv_hit out[4];
  size_t nh;
  assert_int_equal(na64_daq_apv_decode(&eq, 0x123, out, 4, &nh, NULL, &err), NA64_OK);
  assert_int_equal(nh, 1);
  assert_int_equal(out[0].amp[2], 3);
  assert_int_equal(out[0].channel, 100);
  /* event mismatch and a hit missing its second word */
  assert_int_equal(na64_daq_apv_decode(&eq, 0x124, out, 4, &nh, NULL, &err), NA64_OK);
  assert_int_equal(out[0].flags, NA64_DAQ_APV_EVENT_MISMATCH);
  eq.nwords = 2;
  assert_int_equal(na64_daq_apv_decode(&eq, 0x123, out, 4, &nh, NULL, &err), NA64_EFORMAT);
  assert_int_equal(nh, 1);
  assert_int_equal(out[0].flags, NA64_DAQ_APV_INCOMPLETE);
  h.channel = 128;
  assert_int_equal(na64_daq_apv_encode(&h, 1, 0, w, 4, &n, &err), NA64_ERANGE);
}

static void test_apv_roundtrip_random(void **state)
{
  (void)state;
  na64_rng r;
  na64_rng_init(&r, 12, 0);
  static na64_daq_apv_hit in[500], out[500];
  static uint32_t w[1500];
  for (int trial = 0; trial < 30; ++trial) {
    size_t n = na64_rng_u64(&r) % 500;
    for (size_t i = 0; i < n; ++i) {
      in[i].chip = (uint8_t)(na64_rng_u64(&r) % 64);
      in[i].channel = (uint8_t)(na64_rng_u64(&r) % 128);
      for (int s = 0; s < 3; ++s) in[i].amp[s] = (uint16_t)(na64_rng_u64(&r) % 4096);
    }
    size_t nw, nh;
    na64_err err;
    int st = na64_daq_apv_encode(in, n, 9, w, NA64_DAQ_APV_MAX_WORDS(n), &nw, &err);
    if (st == NA64_ERANGE) continue; /* > 255 hits on one chip cannot happen with n < 500 / 64 chips... */
    assert_int_equal(st, NA64_OK);
    na64_daq_equipment eq = block(NA64_DAQ_EQ_APV, 3, w, nw);
    assert_int_equal(na64_daq_apv_decode(&eq, 9, out, 500, &nh, NULL, &err), NA64_OK);
    assert_int_equal(nh, n);
    size_t k = 0;
    for (int c = 0; c < 64; ++c)
      for (size_t i = 0; i < n; ++i) {
        if (in[i].chip != c) continue;
        assert_int_equal(out[k].channel, in[i].channel);
        assert_memory_equal(out[k].amp, in[i].amp, sizeof in[i].amp);
        ++k;
      }
    /* the same hits grouped by chip (stable) take the encoder's one-pass path: the same words */
    static na64_daq_apv_hit sorted[500];
    static uint32_t w2[1500];
    size_t m = 0, nw2 = 0;
    for (int c = 0; c < 64; ++c)
      for (size_t i = 0; i < n; ++i)
        if (in[i].chip == c) sorted[m++] = in[i];
    assert_int_equal(na64_daq_apv_encode(sorted, m, 9, w2, NA64_DAQ_APV_MAX_WORDS(m), &nw2, &err), NA64_OK);
    assert_int_equal(nw2, nw);
    assert_memory_equal(w2, w, nw * sizeof *w);
  }
}

/* Random words never crash a decoder; every decoder reports consistent counts. */
static void test_random_words(void **state)
{
  (void)state;
  na64_rng r;
  na64_rng_init(&r, 13, 0);
  static uint32_t w[256];
  static na64_daq_f1_hit fh[256];
  static na64_daq_sadc_waveform sw[256];
  static na64_daq_apv_hit ah[256];
  for (int trial = 0; trial < 3000; ++trial) {
    size_t n = na64_rng_u64(&r) % 256;
    for (size_t i = 0; i < n; ++i) w[i] = (uint32_t)na64_rng_u64(&r);
    na64_err err;
    size_t got;
    na64_daq_equipment eq = block(NA64_DAQ_EQ_F1, 1, w, n);
    int st = na64_daq_f1_decode(&eq, 3, fh, 256, &got, NULL, &err);
    assert_true(st == NA64_OK || st == NA64_EFORMAT);
    assert_true(got <= n);
    eq = block(NA64_DAQ_EQ_SADC, 1, w, n);
    st = na64_daq_sadc_decode(&eq, sw, 256, &got, NULL, &err);
    assert_true(st == NA64_OK || st == NA64_EFORMAT);
    for (size_t i = 0; i < got; ++i) assert_true(sw[i].nsamples <= NA64_DAQ_SADC_MAX_SAMPLES);
    eq = block(NA64_DAQ_EQ_APV, 1, w, n);
    st = na64_daq_apv_decode(&eq, 3, ah, 256, &got, NULL, &err);
    assert_true(st == NA64_OK || st == NA64_EFORMAT);
    na64_daq_describer d;
    char line[200];
    for (uint32_t t = 0; t < 4; ++t) {
      eq.header.type = t;
      na64_daq_describer_init(&d, &eq.header);
      for (size_t i = 0; i < n; ++i) na64_daq_describe_word(&d, w[i], line, sizeof line);
    }
  }
}

static void test_describe(void **state)
{
  (void)state;
  na64_daq_equipment_header eh = na64_daq_f1_equipment(1, 0.1289);
  na64_daq_describer d;
  char line[200];
  na64_daq_describer_init(&d, &eh);
  na64_daq_describe_word(&d, 0x8D111200u, line, sizeof line);
  assert_non_null(strstr(line, "F1 header"));
  assert_non_null(strstr(line, "trigger  4608"));
  na64_daq_describe_word(&d, 0x4D501234u, line, sizeof line);
  assert_non_null(strstr(line, "ch 5"));
  assert_non_null(strstr(line, "+52"));     /* bins after the trigger */
  assert_non_null(strstr(line, "+6.703 ns")); /* 52 * 0.1289 = 6.7028 */
  na64_daq_describe_word(&d, 0xCD110001u, line, sizeof line);
  assert_non_null(strstr(line, "words 1"));
  eh = na64_daq_sadc_equipment(2, 12.5);
  na64_daq_describer_init(&d, &eh);
  na64_daq_describe_word(&d, 0x84903800u, line, sizeof line);
  assert_non_null(strstr(line, "channel  9 samples 3 +pedestals"));
  na64_daq_describe_word(&d, 0x418D0324u, line, sizeof line);
  assert_non_null(strstr(line, "even 100.500 odd 99.250"));
  na64_daq_describe_word(&d, 0x00C80064u, line, sizeof line);
  assert_non_null(strstr(line, " 100  200"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_f1_layout),         cmocka_unit_test(test_f1_wrap),
      cmocka_unit_test(test_f1_malformed),      cmocka_unit_test(test_f1_roundtrip_random),
      cmocka_unit_test(test_f1_decode_event),   cmocka_unit_test(test_sadc_layout),
      cmocka_unit_test(test_sadc_malformed_and_pedestals), cmocka_unit_test(test_apv_layout),
      cmocka_unit_test(test_apv_roundtrip_random), cmocka_unit_test(test_random_words),
      cmocka_unit_test(test_describe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
