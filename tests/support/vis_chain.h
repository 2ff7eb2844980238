/* The visible chain in memory for the tests (issue 12): a card of configs/ on the test build's
 * conditions database, and N events simulated and digitised into a DATE buffer, shared by
 * tests/sim/test_vis_event.c and tests/reco/test_vis_momentum.c. Include after support/na64_test.h,
 * na64/sim.h and na64/reco.h. */
#ifndef NA64_TEST_VIS_CHAIN_H
#define NA64_TEST_VIS_CHAIN_H
#include <stdio.h>
#include <stdlib.h>

#ifndef DB
#define DB NA64_BINARY_DIR "/conditions.db"
#endif

static void vis_load_card(const char *name, na64_vis_config *c)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/configs/%s", NA64_SOURCE_DIR, name);
  na64_vis_config_default(c);
  na64_err err = {0, ""};
  if (na64_vis_config_load(path, c, &err)) fail_msg("%s", err.msg);
  snprintf(c->conditions, sizeof c->conditions, "%s", DB);
}

/* The simulation, digitiser and reconstruction of card c (fails the test on an error). */
static void vis_chain_open(const na64_vis_config *c, na64_vis_sim **s, na64_vis_digitizer **d, na64_vis_reco **r)
{
  na64_err err = {0, ""};
  if (na64_vis_sim_new(c, s, &err) || na64_vis_digitizer_new(*s, d, &err) || na64_vis_reco_new(na64_vis_sim_geom(*s), r, &err))
    fail_msg("%s", err.msg);
}

static void vis_chain_close(na64_vis_sim *s, na64_vis_digitizer *d, na64_vis_reco *r)
{
  na64_vis_reco_free(r);
  na64_vis_digitizer_free(d);
  na64_vis_sim_free(s);
}

/* Events 0..n-1 from the streams (seed, i), every `beam_every`-th (i % beam_every == 0) a beam electron,
 * the others signal, into truth[0..n) and one DATE buffer (*buf, *len: free it). */
static void vis_chain_simulate(na64_vis_sim *s, na64_vis_digitizer *d, uint64_t seed, int n, int beam_every,
                               na64_vis_sim_event *truth, void **buf, size_t *len)
{
  na64_daq_writer *w = NULL;
  assert_int_equal(na64_daq_writer_open_memory(NULL, &w, NULL), NA64_OK);
  for (int i = 0; i < n; ++i) {
    assert_int_equal(na64_vis_sim_event_generate(s, seed, (uint64_t)i, i % beam_every != 0, &truth[i], NULL), NA64_OK);
    assert_int_equal(na64_vis_digitize_write(d, &truth[i], seed, (uint32_t)i, w, NULL), NA64_OK);
  }
  assert_int_equal(na64_daq_writer_close_memory(w, buf, len, NULL), NA64_OK);
}

#endif
