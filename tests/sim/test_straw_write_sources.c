/* na64_straw_digi_write on an event whose hits are on more than one DAQ source id (include/na64/sim.h:
 * "one F1 equipment block per DAQ source id, in ascending source id") with a digitiser whose own
 * channels are all on one source (the setups' straws; branch visstraw added a shortcut for that
 * case). The hits are the digitiser's for a real track, then one of them moved by hand to another
 * source id, as a caller that merges or edits events may do: the file must have two F1 blocks, each
 * hit in the block of its own source (review rv11). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/straw_gen.h"

/* the F1 blocks of the single physics event in data: their source ids and hit counts */
static int read_blocks(const void *data, size_t size, uint32_t *ids, size_t *counts, int cap)
{
  na64_err err = {0, ""};
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(data, size, "m", NULL, &rd, &err), NA64_OK);
  na64_daq_event ev;
  int nb = 0;
  while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
    size_t cur = 0;
    na64_daq_equipment eq;
    while (na64_daq_event_next_equipment(&ev, &cur, &eq)) {
      if (eq.header.type != NA64_DAQ_EQ_F1) continue;
      assert_true(nb < cap);
      na64_daq_f1_hit hits[64];
      size_t n = 0;
      assert_int_equal(na64_daq_f1_decode(&eq, -1, hits, 64, &n, NULL, &err), NA64_OK);
      ids[nb] = eq.header.id;
      counts[nb++] = n;
    }
  }
  na64_daq_reader_close(rd);
  return nb;
}

static void test_two_sources(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  o.efficiency = 1;
  o.noise_per_channel = 0;
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, &o, 5);
  na64_straw_track t;
  na64_straw_digi_event ev;
  na64_straw_digi_event_init(&ev);
  gen_event_truth(&s, 3, 0, &t, &ev);
  assert_true(ev.nhits >= 4); /* a beam track crosses ~12 straws */
  const uint32_t own = ev.hits[0].source_id;
  for (size_t i = 1; i < ev.nhits; ++i) assert_int_equal(ev.hits[i].source_id, own); /* the setup's one source */
  ev.hits[1].source_id = own + 1;
  na64_daq_writer *w = NULL;
  assert_int_equal(na64_daq_writer_open_memory(NULL, &w, &err), NA64_OK);
  na64_daq_header h;
  gen_header(&h, NA64_DAQ_PHYSICS_EVENT, GEN_RUN, 0);
  assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), NA64_OK);
  assert_int_equal(na64_straw_digi_write(s.digi, &ev, 0, w, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_end_event(w, &err), NA64_OK);
  void *data = NULL;
  size_t size = 0;
  assert_int_equal(na64_daq_writer_close_memory(w, &data, &size, &err), NA64_OK);
  uint32_t ids[4];
  size_t counts[4];
  assert_int_equal(read_blocks(data, size, ids, counts, 4), 2);
  assert_int_equal(ids[0], own);
  assert_int_equal(counts[0], ev.nhits - 1);
  assert_int_equal(ids[1], own + 1);
  assert_int_equal(counts[1], 1);
  free(data);
  na64_straw_digi_event_release(&ev);
  gen_free(&s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_two_sources)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
