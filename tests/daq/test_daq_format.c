/* DATE format: byte layout against docs/raw-format.md, write/read round trips (plain, byte-swapped,
 * zstd-framed, through files), payload content against the generated truth, seeking. */
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "support/na64_test.h"
#include "daq/daq_gen.h"

#define SEED 20180705u
#define NEV 60u

/* Bytes 0..79 of an event header as docs/raw-format.md §1 specifies them (little-endian writer). */
static uint32_t le32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void test_header_bytes(void **state)
{
  (void)state;
  const uint16_t one = 1;
  if (*(const uint8_t *)&one != 1) skip(); /* the byte constants below are those of a little-endian host */
  na64_daq_writer *w;
  na64_err err;
  na64_daq_writer_options po = {.plain_events = 1};
  assert_int_equal(na64_daq_writer_open_memory(&po, &w, &err), NA64_OK);
  na64_daq_header h;
  memset(&h, 0, sizeof h);
  h.type = NA64_DAQ_PHYSICS_EVENT;
  h.run = 1234;
  h.id[0] = 77;
  h.id[1] = NA64_DAQ_ID1(5, 17);
  h.trigger_pattern[0] = 0x11;
  h.trigger_pattern[3] = 0x44;
  h.detector_pattern = 0x55;
  h.type_attribute[2] = 0x66;
  h.ldc_id = 7;
  h.gdc_id = 8;
  h.time_sec = 1530000000u;
  h.time_usec = 999999;
  assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), NA64_OK);
  uint32_t words[2] = {0xA5A5A5A5u, 0x01020304u};
  na64_daq_equipment_header eh;
  memset(&eh, 0, sizeof eh);
  eh.type = 9;
  eh.id = 612;
  eh.type_attribute[1] = 0x1234;
  assert_int_equal(na64_daq_writer_add_equipment(w, &eh, words, 2, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_end_event(w, &err), NA64_OK);
  void *buf;
  size_t n;
  assert_int_equal(na64_daq_writer_close_memory(w, &buf, &n, &err), NA64_OK);
  const uint8_t *b = buf;
  assert_int_equal(n, 80 + 28 + 8);
  assert_int_equal(le32(b + 0), 116);           /* eventSize */
  assert_int_equal(b[4], 0xFE);                 /* eventMagic 0xDA1E5AFE, little-endian */
  assert_int_equal(b[5], 0x5A);
  assert_int_equal(b[6], 0x1E);
  assert_int_equal(b[7], 0xDA);
  assert_int_equal(le32(b + 8), 80);            /* eventHeadSize */
  assert_int_equal(le32(b + 12), 0x0003000E);   /* eventVersion 3.14 */
  assert_int_equal(le32(b + 16), 7);            /* eventType physics */
  assert_int_equal(le32(b + 20), 1234);         /* eventRunNb */
  assert_int_equal(le32(b + 24), 77);           /* eventId[0] */
  assert_int_equal(le32(b + 28), (5u << 20) | 17u);
  assert_int_equal(le32(b + 32), 0x11);         /* eventTriggerPattern[0..3] */
  assert_int_equal(le32(b + 44), 0x44);
  assert_int_equal(le32(b + 48), 0x55);         /* eventDetectorPattern */
  assert_int_equal(le32(b + 60), 0x66);         /* eventTypeAttribute[2] */
  assert_int_equal(le32(b + 64), 7);            /* eventLdcId */
  assert_int_equal(le32(b + 68), 8);            /* eventGdcId */
  assert_int_equal(le32(b + 72), 1530000000u);  /* eventTimestampSec */
  assert_int_equal(le32(b + 76), 999999);       /* eventTimestampUsec */
  assert_int_equal(le32(b + 80), 36);           /* equipmentSize: header included (version >= 3.2) */
  assert_int_equal(le32(b + 84), 9);            /* equipmentType */
  assert_int_equal(le32(b + 88), 612);          /* equipmentId */
  assert_int_equal(le32(b + 96), 0x1234);       /* equipmentTypeAttribute[1] */
  assert_int_equal(le32(b + 104), 4);           /* equipmentBasicElementSize */
  assert_int_equal(le32(b + 108), 0xA5A5A5A5u);
  assert_int_equal(le32(b + 112), 0x01020304u);

  /* read back: header, burst numbering and the equipment block */
  na64_daq_reader *r;
  assert_int_equal(na64_daq_reader_open_memory(buf, n, "hdr", NULL, &r, &err), NA64_OK);
  na64_daq_event ev;
  assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
  assert_int_equal(na64_daq_header_burst(&ev.header), 5);
  assert_int_equal(na64_daq_header_nb_in_burst(&ev.header), 17);
  assert_int_equal(ev.header.time_usec, 999999);
  size_t cur = 0;
  na64_daq_equipment eq;
  assert_int_equal(na64_daq_event_next_equipment(&ev, &cur, &eq), 1);
  assert_int_equal(eq.header.id, 612);
  assert_int_equal(eq.nwords, 2);
  assert_int_equal(eq.words[1], 0x01020304u);
  assert_int_equal(na64_daq_event_next_equipment(&ev, &cur, &eq), 0);
  assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_EEOF);
  na64_daq_reader_close(r);
  free(buf);
}

static int key_cmp(const void *a, const void *b)
{
  const size_t *x = a, *y = b;
  return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Compare a delivered event with the generated truth, decoding every block. */
static void check_event(const na64_daq_event *ev, uint32_t n_run)
{
  gen_event *g = malloc(sizeof *g);
  gen_event_make(g, SEED, ev->header.id[0], n_run);
  assert_memory_equal(&ev->header.type, &g->h.type, sizeof(na64_daq_header) - 16);
  assert_int_equal(ev->header.size, ev->size);
  assert_int_equal(ev->header.magic, NA64_DAQ_MAGIC);
  size_t cur = 0, nblocks = 0;
  na64_daq_equipment eq;
  na64_err err;
  while (na64_daq_event_next_equipment(ev, &cur, &eq)) {
    nblocks++;
    if (eq.header.type == NA64_DAQ_EQ_F1) {
      na64_daq_f1_hit hits[128];
      size_t nh;
      assert_int_equal(na64_daq_f1_decode(&eq, (long)na64_daq_header_nb_in_burst(&ev->header), hits, 128, &nh, NULL, &err),
                       NA64_OK);
      assert_int_equal(nh, g->nf1);
      /* expected order: by (port, chip), generation order within a chip */
      size_t order[64][2];
      for (size_t k = 0; k < g->nf1; ++k) {
        order[k][0] = ((size_t)g->f1[k].port * 8 + g->f1[k].chip) * 1000 + k;
        order[k][1] = k;
      }
      qsort(order, g->nf1, sizeof order[0], key_cmp);
      for (size_t k = 0; k < nh; ++k) {
        const na64_daq_f1_hit *t = &g->f1[order[k][1]];
        assert_int_equal(hits[k].source_id, GEN_F1_SOURCE);
        assert_int_equal(hits[k].port, t->port);
        assert_int_equal(hits[k].chip, t->chip);
        assert_int_equal(hits[k].channel, t->channel);
        assert_int_equal(hits[k].flags, t->flags);
        assert_int_equal(hits[k].time_units, t->time_units);
        assert_int_equal(hits[k].rel_units, g->f1_rel[order[k][1]]);
        /* the bin is stored in femtoseconds: 0.1289 ns exactly representable, so 1e-12 relative */
        assert_true(fabs(hits[k].time_ns - g->f1_rel[order[k][1]] * GEN_BIN_NS) < 1e-9);
      }
    } else if (eq.header.type == NA64_DAQ_EQ_SADC) {
      static na64_daq_sadc_waveform wf[8];
      size_t nwf;
      assert_int_equal(na64_daq_sadc_decode(&eq, wf, 8, &nwf, NULL, &err), NA64_OK);
      assert_int_equal(nwf, g->nsadc);
      assert_rel(na64_daq_sadc_period_ns(&eq.header), 12.5, 1e-12);
      for (size_t k = 0; k < nwf; ++k) {
        assert_int_equal(wf[k].port, g->sadc[k].port);
        assert_int_equal(wf[k].channel, g->sadc[k].channel);
        assert_int_equal(wf[k].nsamples, g->sadc[k].nsamples);
        assert_int_equal(wf[k].has_pedestals, g->sadc[k].has_pedestals);
        assert_true(wf[k].pedestal_even == g->sadc[k].pedestal_even); /* 1/8 counts: exact */
        assert_true(wf[k].pedestal_odd == g->sadc[k].pedestal_odd);
        assert_memory_equal(wf[k].samples, g->sadc[k].samples, 2u * g->sadc[k].nsamples);
        assert_int_equal(wf[k].flags, 0);
      }
    } else if (eq.header.type == NA64_DAQ_EQ_APV) {
      na64_daq_apv_hit ah[32];
      size_t na;
      assert_int_equal(na64_daq_apv_decode(&eq, (long)na64_daq_header_nb_in_burst(&ev->header), ah, 32, &na, NULL, &err),
                       NA64_OK);
      assert_int_equal(na, g->napv);
      size_t order[16][2];
      for (size_t k = 0; k < g->napv; ++k) {
        order[k][0] = (size_t)g->apv[k].chip * 1000 + k;
        order[k][1] = k;
      }
      qsort(order, g->napv, sizeof order[0], key_cmp);
      for (size_t k = 0; k < na; ++k) {
        const na64_daq_apv_hit *t = &g->apv[order[k][1]];
        assert_int_equal(ah[k].chip, t->chip);
        assert_int_equal(ah[k].channel, t->channel);
        assert_memory_equal(ah[k].amp, t->amp, sizeof t->amp);
        assert_int_equal(ah[k].flags, 0);
        assert_int_equal(ah[k].event, na64_daq_header_nb_in_burst(&ev->header) & 0xFFF);
      }
    }
  }
  assert_int_equal(nblocks, g->h.type == NA64_DAQ_PHYSICS_EVENT ? 3 : 0);
  free(g);
}

/* Read everything; every event must come back in order, equal to the truth, with no bad region. */
static void read_and_check(const void *buf, size_t n, int expect_swapped, int expect_compressed)
{
  na64_daq_reader *r;
  na64_err err;
  assert_int_equal(na64_daq_reader_open_memory(buf, n, "roundtrip", NULL, &r, &err), NA64_OK);
  na64_daq_event ev;
  uint32_t i = 0;
  uint64_t sum = 0;
  while (na64_daq_reader_next_event(r, &ev, &err) == NA64_OK) {
    assert_int_equal(ev.header.id[0], i);
    assert_int_equal(ev.swapped, expect_swapped);
    check_event(&ev, NEV);
    sum += ev.size;
    ++i;
  }
  assert_int_equal(i, NEV);
  na64_daq_reader_stats st;
  na64_daq_reader_get_stats(r, &st);
  assert_int_equal(st.events, NEV);
  assert_int_equal(st.regions, 0);
  assert_int_equal(st.bytes_skipped, 0);
  assert_int_equal(st.bytes_read, n);
  assert_int_equal(st.compressed, expect_compressed);
  assert_int_equal(st.swapped_events, expect_swapped ? NEV : 0);
  /* run 0 = SOR, NEV-1 = EOR, every 10th (i%10==1) = SOB: 6 of them in 60 events */
  assert_int_equal(st.by_type[NA64_DAQ_START_OF_RUN], 1);
  assert_int_equal(st.by_type[NA64_DAQ_END_OF_RUN], 1);
  assert_int_equal(st.by_type[NA64_DAQ_START_OF_BURST], 6);
  assert_int_equal(st.by_type[NA64_DAQ_PHYSICS_EVENT], NEV - 8);
  if (!expect_compressed) assert_int_equal(sum, n);
  else assert_int_equal(sum, st.bytes_decompressed);
  na64_daq_reader_close(r);
}

static void test_roundtrip_plain(void **state)
{
  (void)state;
  size_t n;
  void *buf = gen_run(SEED, NEV, NULL, &n);
  assert_non_null(buf);
  read_and_check(buf, n, 0, 0);
  free(buf);
}

/* A file written on a machine of the other byte order: every 32-bit word swapped. */
static void test_roundtrip_swapped(void **state)
{
  (void)state;
  size_t n;
  uint8_t *buf = gen_run(SEED, NEV, NULL, &n);
  assert_non_null(buf);
  assert_int_equal(n % 4, 0);
  for (size_t i = 0; i < n; i += 4) {
    uint8_t t0 = buf[i], t1 = buf[i + 1];
    buf[i] = buf[i + 3];
    buf[i + 1] = buf[i + 2];
    buf[i + 2] = t1;
    buf[i + 3] = t0;
  }
  read_and_check(buf, n, 1, 0);
  free(buf);
}

static void test_roundtrip_zstd(void **state)
{
  (void)state;
  na64_daq_writer_options o = {.compress = 1, .frame_events = 7};
  size_t n, np;
  uint8_t *buf = gen_run(SEED, NEV, &o, &n);
  void *plain = gen_run(SEED, NEV, NULL, &np);
  assert_non_null(buf);
  /* zstd frame magic 0xFD2FB528, little-endian (RFC 8878 §3.1.1) */
  assert_int_equal(buf[0], 0x28);
  assert_int_equal(buf[3], 0xFD);
  assert_true(n < np); /* it does compress */
  read_and_check(buf, n, 0, 1);
  na64_daq_reader *r;
  na64_err err;
  assert_int_equal(na64_daq_reader_open_memory(buf, n, "z", NULL, &r, &err), NA64_OK);
  na64_daq_event ev;
  while (na64_daq_reader_next_event(r, &ev, &err) == NA64_OK) {
  }
  na64_daq_reader_stats st;
  na64_daq_reader_get_stats(r, &st);
  assert_int_equal(st.frames, (NEV + 6) / 7); /* 7 events per frame */
  assert_int_equal(st.bytes_decompressed, np);
  na64_daq_reader_close(r);
  free(buf);
  free(plain);
}

static void test_files(void **state)
{
  (void)state;
  char path[1200];
  for (int z = 0; z < 2; ++z) {
    gen_tmp_path(path, sizeof path, z ? "files.dat.zst" : "files.dat");
    na64_daq_writer_options o = {.compress = z, .frame_bytes = 4096, .plain_events = 1};
    na64_daq_writer *w;
    na64_err err;
    assert_int_equal(na64_daq_writer_open(path, &o, &w, &err), NA64_OK);
    gen_event *g = malloc(sizeof *g);
    for (uint32_t i = 0; i < NEV; ++i) {
      gen_event_make(g, SEED, i, NEV);
      assert_int_equal(gen_event_write(w, g), NA64_OK);
    }
    free(g);
    assert_int_equal(na64_daq_writer_events(w), NEV);
    assert_int_equal(na64_daq_writer_close(w, &err), NA64_OK);
    na64_daq_reader *r;
    assert_int_equal(na64_daq_reader_open(path, NULL, &r, &err), NA64_OK);
    na64_daq_event ev;
    uint32_t i = 0;
    while (na64_daq_reader_next_event(r, &ev, &err) == NA64_OK) {
      assert_int_equal(ev.header.id[0], i++);
      check_event(&ev, NEV);
    }
    assert_int_equal(i, NEV);
    na64_daq_reader_close(r);
  }
  /* a missing file: NA64_EIO and a message naming it */
  na64_daq_reader *r = NULL;
  na64_err err;
  assert_int_equal(na64_daq_reader_open("/nonexistent/run-1.dat", NULL, &r, &err), NA64_EIO);
  assert_null(r);
  assert_non_null(strstr(err.msg, "/nonexistent/run-1.dat"));
  /* an empty file: no events, no damage */
  gen_tmp_path(path, sizeof path, "empty.dat");
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(na64_daq_reader_open(path, NULL, &r, &err), NA64_OK);
  na64_daq_event ev;
  assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_EEOF);
  na64_daq_reader_close(r);
}

/* Re-writing delivered events (write_event) reproduces the file byte for byte. */
static void test_copy_events(void **state)
{
  (void)state;
  size_t n;
  void *buf = gen_run(SEED, NEV, NULL, &n);
  na64_daq_reader *r;
  na64_daq_writer *w;
  na64_err err;
  assert_int_equal(na64_daq_reader_open_memory(buf, n, NULL, NULL, &r, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_open_memory(NULL, &w, &err), NA64_OK);
  na64_daq_event ev;
  while (na64_daq_reader_next_event(r, &ev, &err) == NA64_OK)
    assert_int_equal(na64_daq_writer_write_event(w, ev.data, ev.size, &err), NA64_OK);
  /* a malformed event is refused */
  uint8_t bad[80];
  memset(bad, 0, sizeof bad);
  assert_int_equal(na64_daq_writer_write_event(w, bad, sizeof bad, &err), NA64_EFORMAT);
  void *copy;
  size_t nc;
  assert_int_equal(na64_daq_writer_close_memory(w, &copy, &nc, &err), NA64_OK);
  assert_int_equal(nc, n);
  assert_memory_equal(copy, buf, n);
  na64_daq_reader_close(r);
  free(copy);
  free(buf);
}

/* Seeking to an offset continues at the first event (plain) / frame (zstd) starting at or after it. */
static void test_seek(void **state)
{
  (void)state;
  size_t n;
  void *buf = gen_run(SEED, NEV, NULL, &n);
  na64_daq_reader *r;
  na64_err err;
  na64_daq_event ev;
  uint64_t off[NEV];
  assert_int_equal(na64_daq_reader_open_memory(buf, n, NULL, NULL, &r, &err), NA64_OK);
  for (uint32_t i = 0; i < NEV; ++i) {
    assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
    off[i] = ev.offset;
  }
  assert_int_equal(na64_daq_reader_seek(r, off[20], &err), NA64_OK);
  assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
  assert_int_equal(ev.header.id[0], 20);
  assert_int_equal(na64_daq_reader_seek(r, off[20] + 1, &err), NA64_OK);
  assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
  assert_int_equal(ev.header.id[0], 21);
  assert_int_equal(na64_daq_reader_seek(r, n, &err), NA64_EEOF);
  na64_daq_reader_stats st;
  na64_daq_reader_get_stats(r, &st);
  assert_int_equal(st.regions, 0);
  na64_daq_reader_close(r);
  free(buf);

  na64_daq_writer_options o = {.compress = 1, .frame_events = 10};
  buf = gen_run(SEED, NEV, &o, &n);
  uint64_t fo[NEV];
  assert_int_equal(na64_daq_reader_open_memory(buf, n, NULL, NULL, &r, &err), NA64_OK);
  for (uint32_t i = 0; i < NEV; ++i) {
    assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
    fo[i] = ev.frame_offset;
    assert_int_equal(ev.frame_offset == fo[i - i % 10], 1); /* 10 events per frame */
  }
  assert_int_equal(na64_daq_reader_seek(r, fo[30] + 1, &err), NA64_OK);
  assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
  assert_int_equal(ev.header.id[0], 40);
  assert_int_equal(na64_daq_reader_seek(r, 0, &err), NA64_OK);
  assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
  assert_int_equal(ev.header.id[0], 0);
  na64_daq_reader_get_stats(r, &st);
  assert_int_equal(st.regions, 0);
  na64_daq_reader_close(r);
  free(buf);
}

static void test_names(void **state)
{
  (void)state;
  assert_string_equal(na64_daq_event_type_name(7), "physics");
  assert_string_equal(na64_daq_event_type_name(1), "start_of_run");
  assert_string_equal(na64_daq_event_type_name(5), "start_of_burst");
  assert_string_equal(na64_daq_event_type_name(6), "end_of_burst");
  assert_string_equal(na64_daq_event_type_name(99), "unknown");
  assert_string_equal(na64_daq_reason_name(NA64_DAQ_TRUNCATED), "truncated");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_bytes),   cmocka_unit_test(test_roundtrip_plain),
      cmocka_unit_test(test_roundtrip_swapped), cmocka_unit_test(test_roundtrip_zstd),
      cmocka_unit_test(test_files),          cmocka_unit_test(test_copy_events),
      cmocka_unit_test(test_seek),           cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
