/* The invisible chain in memory for the tests (issue 11): n events of a simulation, all of them
 * (triggered or not), generated from the streams (seed, i) and digitised into one DATE buffer.
 * Shared by tests/reco/test_reco_event.c and tests/reco/test_track_pulls.c. Include after
 * support/na64_test.h, na64/daq.h, na64/reco.h and na64/sim.h. */
#ifndef NA64_TEST_INV_CHAIN_H
#define NA64_TEST_INV_CHAIN_H
#include <stdint.h>

/* Events 0..n-1 of s into truth[0..n) and the DATE buffer (*data, *size: free it). */
static inline void inv_chain_raw(na64_sim *s, size_t n, uint64_t seed, na64_sim_event *truth, void **data, size_t *size)
{
  na64_err err = {0, ""};
  na64_sim_worker *w = NULL;
  na64_sim_digitizer *d = NULL;
  assert_int_equal(na64_sim_worker_new(s, &w, &err), NA64_OK);
  assert_int_equal(na64_sim_digitizer_new(s, &d, &err), NA64_OK);
  na64_daq_writer *wr = NULL;
  assert_int_equal(na64_daq_writer_open_memory(NULL, &wr, &err), NA64_OK);
  for (size_t i = 0; i < n; ++i) {
    assert_int_equal(na64_sim_event_generate(w, seed, i, 1, &truth[i], &err), NA64_OK);
    if (na64_sim_digitize_write(d, &truth[i], seed, (uint32_t)i, wr, &err)) fail_msg("digitize: %s", err.msg);
  }
  assert_int_equal(na64_daq_writer_close_memory(wr, data, size, &err), NA64_OK);
  na64_sim_digitizer_free(d);
  na64_sim_worker_free(w);
}

/* The geometry of run `run` in database db, its reconstruction and a reader on the buffer (data, size). */
static inline void inv_chain_reco(const char *db, int run, void *data, size_t size, na64_geom **g, na64_reco **r,
                                  na64_daq_reader **rd)
{
  na64_err err = {0, ""};
  if (na64_geom_load_path(db, run, g, &err)) fail_msg("geom: %s", err.msg);
  if (na64_reco_new(*g, r, &err)) fail_msg("reco: %s", err.msg);
  assert_int_equal(na64_daq_reader_open_memory(data, size, "sim", NULL, rd, &err), NA64_OK);
}
#endif
