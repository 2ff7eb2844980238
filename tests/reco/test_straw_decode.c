/* Straw decoding: F1 hits -> (plane, wire) through the channel map of the run, drift time = F1 time
 * - t0 of the wire; unknown channels, non-straw channels, trailing edges, flagged hits, out-of-window
 * and non-finite times are counted and skipped with a message naming the first culprit; whole DATE
 * events written by the digitiser decode back to exactly its hits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/straw_gen.h"

static void test_decode_by_hand(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_geom *g = gen_load_geom(GEN_DB, GEN_RUN);
  int x1 = na64_geom_plane_index(g, "ST01X"), y2 = na64_geom_plane_index(g, "ST02Y");
  assert_true(x1 >= 0 && y2 >= 0);
  na64_straw_decoder *d = NULL;
  assert_int_equal(na64_straw_decoder_new(g, NULL, &d, &err), NA64_OK);

  /* mapped hits: plane, wire and t0 subtraction (the default database's nominal t0) */
  na64_daq_f1_hit in[4] = {gen_f1_hit_on(g, x1, 17, 80.0), gen_f1_hit_on(g, y2, 95, 45.5), gen_f1_hit_on(g, x1, 0, 41.0), gen_f1_hit_on(g, x1, 63, 300.0)};
  na64_straw_digit out[8];
  size_t n = 0;
  na64_straw_decode_stats st;
  memset(&st, 0, sizeof st);
  assert_int_equal(na64_straw_decode(d, in, 4, out, 8, &n, &st, &err), NA64_OK);
  assert_int_equal(n, 3); /* the last is 300 - 40 ns after t0: beyond r(t) end (90 ns) + 50 ns */
  assert_int_equal(out[0].plane, x1);
  assert_int_equal(out[0].wire, 17);
  assert_true(out[0].raw == 80.0);
  assert_true(fabs(out[0].time - (80.0 - g->planes[x1].t0[17])) < 1e-12);
  assert_int_equal(out[1].plane, y2);
  assert_int_equal(out[1].wire, 95);
  assert_true(fabs(out[1].time - (45.5 - g->planes[y2].t0[95])) < 1e-12);
  assert_int_equal(st.f1_hits, 4);
  assert_int_equal(st.digits, 3);
  assert_int_equal(st.out_of_window, 1);

  /* bad input among good hits: all counted, the good ones still delivered, the first culprit named */
  na64_daq_f1_hit bad[7];
  bad[0] = gen_f1_hit_on(g, x1, 5, 60);
  bad[1] = gen_f1_hit_on(g, x1, 5, 60);
  bad[1].port = 15; /* no straw on port 15 of source 400 in this setup */
  bad[2] = gen_f1_hit_on(g, x1, 6, 60);
  bad[2].flags = NA64_DAQ_F1_TRAILING;
  bad[3] = gen_f1_hit_on(g, x1, 7, 60);
  bad[3].flags = NA64_DAQ_F1_NO_HEADER;
  bad[4] = gen_f1_hit_on(g, x1, 8, NAN);
  bad[5] = gen_f1_hit_on(g, x1, 9, -1e6); /* far before the window */
  bad[6] = gen_f1_hit_on(g, y2, 3, 50);
  memset(&st, 0, sizeof st);
  assert_int_equal(na64_straw_decode(d, bad, 7, out, 8, &n, &st, &err), NA64_EFORMAT);
  printf("  %s\n", err.msg);
  assert_non_null(strstr(err.msg, "port 15"));
  assert_non_null(strstr(err.msg, "not in the channel map of run 1500"));
  assert_int_equal(n, 2);
  assert_int_equal(out[0].wire, 5);
  assert_int_equal(out[1].plane, y2);
  assert_int_equal(st.unmapped, 1);
  assert_int_equal(st.trailing, 1);
  assert_int_equal(st.flagged, 1);
  assert_int_equal(st.nonfinite, 1);
  assert_int_equal(st.out_of_window, 1);

  /* an F1 hit on a calorimeter channel (source 600 is the ECAL's SADC) */
  na64_daq_f1_hit calo;
  memset(&calo, 0, sizeof calo);
  calo.source_id = 600;
  calo.port = 1;
  calo.chip = 0;
  calo.channel = 3;
  calo.time_ns = 50;
  memset(&st, 0, sizeof st);
  assert_int_equal(na64_straw_decode(d, &calo, 1, out, 8, &n, &st, &err), NA64_EFORMAT);
  printf("  %s\n", err.msg);
  assert_non_null(strstr(err.msg, "not a straw wire"));
  assert_int_equal(st.not_straw, 1);
  assert_int_equal(n, 0);

  /* room for fewer digits than hits */
  assert_int_equal(na64_straw_decode(d, in, 3, out, 2, &n, NULL, &err), NA64_ERANGE);
  assert_int_equal(n, 2);
  assert_int_equal(na64_straw_decode(NULL, in, 3, out, 2, &n, NULL, &err), NA64_EINVAL);

  /* no window: every time kept; an explicit window */
  na64_straw_decode_options o;
  na64_straw_decode_options_default(&o);
  o.no_window = 1;
  na64_straw_decoder *dn = NULL;
  assert_int_equal(na64_straw_decoder_new(g, &o, &dn, &err), NA64_OK);
  assert_int_equal(na64_straw_decode(dn, in, 4, out, 8, &n, NULL, &err), NA64_OK);
  assert_int_equal(n, 4);
  na64_straw_decoder_free(dn);
  na64_straw_decode_options_default(&o);
  o.window_lo = 0;
  o.window_hi = 10;
  assert_int_equal(na64_straw_decoder_new(g, &o, &dn, &err), NA64_OK);
  assert_int_equal(na64_straw_decode(dn, in, 4, out, 8, &n, NULL, &err), NA64_OK);
  assert_int_equal(n, 2); /* drift times 39, 4, 1 and 258.5 ns: two inside [0, 10] */
  na64_straw_decoder_free(dn);
  o.window_hi = -1;
  assert_int_equal(na64_straw_decoder_new(g, &o, &dn, &err), NA64_EINVAL);
  assert_null(dn);
  na64_straw_decoder_free(d);
  na64_geom_free(g);
}

/* Whole events: the digitiser's hits, written as DATE and read back, decode to exactly the hits it
 * made (plane, wire, TDC time); a damaged F1 word costs only its own hit. */
static void test_decode_events(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  o.noise_per_channel = 0.05;
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, &o, 3);
  void *data = NULL;
  size_t size = 0;
  gen_memory(&s, GEN_RUN, 3, 300, &data, &size);
  na64_straw_decode_options dop;
  na64_straw_decode_options_default(&dop);
  dop.no_window = 1;
  na64_straw_decoder *dec = NULL;
  assert_int_equal(na64_straw_decoder_new(s.g, &dop, &dec, &err), NA64_OK);
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(data, size, "ev", NULL, &rd, &err), NA64_OK);
  na64_straw_digit_list list;
  na64_straw_digit_list_init(&list);
  na64_straw_digi_event truth;
  na64_straw_digi_event_init(&truth);
  na64_daq_event ev;
  size_t nev = 0, ndig = 0;
  na64_straw_decode_stats st;
  memset(&st, 0, sizeof st);
  while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) {
      assert_int_equal(na64_straw_decode_event(dec, &ev, &list, &st, &err), NA64_OK);
      assert_int_equal(list.n, 0);
      continue;
    }
    uint32_t i = ev.header.id[0];
    na64_rng rng;
    na64_rng_init(&rng, 3, i);
    na64_straw_track t;
    gen_track(&s, &rng, &t);
    assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &truth, &err), NA64_OK);
    assert_int_equal(na64_straw_decode_event(dec, &ev, &list, &st, &err), NA64_OK);
    assert_int_equal(list.n, truth.nhits);
    /* every truth record with a hit appears once with its quantised time */
    for (size_t k = 0; k < truth.ntruth; ++k) {
      const na64_straw_truth *tr = &truth.truth[k];
      if (tr->hit < 0) continue;
      const na64_daq_f1_hit *fh = &truth.hits[tr->hit];
      int found = 0;
      for (size_t j = 0; j < list.n; ++j)
        if (list.digits[j].plane == tr->plane && list.digits[j].wire == tr->wire && list.digits[j].raw == fh->time_ns)
          found++;
      assert_true(found >= 1);
      /* quantisation: within one bin of the unquantised time (floor with a phase in [0, 1)) */
      assert_true(fh->time_ns > tr->time - 2 * o.bin_ns && fh->time_ns < tr->time + o.bin_ns);
    }
    nev++;
    ndig += list.n;
  }
  printf("  %zu events, %zu digits, %llu F1 hits\n", nev, ndig, (unsigned long long)st.f1_hits);
  assert_int_equal(nev, 300);
  assert_int_equal(st.digits, ndig);
  assert_int_equal(st.unmapped + st.not_straw + st.flagged + st.trailing, 0);
  na64_daq_reader_close(rd);

  /* damage: turn one F1 data word of the first physics event into an unknown-kind word */
  uint8_t *bytes = data;
  assert_int_equal(na64_daq_reader_open_memory(data, size, "ev", NULL, &rd, &err), NA64_OK);
  size_t off = 0;
  while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK)
    if (ev.header.type == NA64_DAQ_PHYSICS_EVENT && ev.size > 80 + 28 + 12) {
      size_t cur = 0;
      na64_daq_equipment eq;
      assert_int_equal(na64_daq_event_next_equipment(&ev, &cur, &eq), 1);
      off = (size_t)ev.offset + eq.offset; /* the first block, whatever the LDC nesting */
      break;
    }
  na64_daq_reader_close(rd);
  assert_true(off > 0);
  uint32_t word;
  size_t woff = off + 28 + 4; /* the first data word after the first chip header */
  memcpy(&word, bytes + woff, 4);
  assert_int_equal(word >> 30, 1u);
  word = 0x00000001u; /* kind 00 that is not the filler: an error word */
  memcpy(bytes + woff, &word, 4);
  assert_int_equal(na64_daq_reader_open_memory(data, size, "ev", NULL, &rd, &err), NA64_OK);
  assert_int_equal(na64_daq_reader_next_event(rd, &ev, &err), NA64_OK); /* start of run */
  size_t before;
  assert_int_equal(na64_daq_reader_next_event(rd, &ev, &err), NA64_OK);
  {
    na64_daq_f1_hit_list l;
    na64_daq_f1_hit_list_init(&l);
    na64_daq_f1_decode_event(&ev, &l, NULL, NULL);
    before = l.n;
    na64_daq_f1_hit_list_release(&l);
  }
  assert_int_equal(na64_straw_decode_event(dec, &ev, &list, NULL, &err), NA64_EFORMAT);
  printf("  damaged word: %s (%zu digits of %zu hits)\n", err.msg, list.n, before);
  assert_non_null(strstr(err.msg, "run 1500"));
  assert_int_equal(list.n, before); /* the chip is flagged (bad trailer) but its other hits are kept */
  na64_daq_reader_close(rd);

  na64_straw_digi_event_release(&truth);
  na64_straw_digit_list_release(&list);
  na64_straw_decoder_free(dec);
  free(data);
  gen_free(&s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_by_hand),
      cmocka_unit_test(test_decode_events),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
