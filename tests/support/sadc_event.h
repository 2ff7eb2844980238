/* Test helper of the SADC waveform tests (test_digi_noise, test_sadc_chunks): one event's SADC
 * equipment blocks of n channels written by sim_sadc_write_event (src/sim/fast_digi.c, compiled into
 * the test) into a memory stream, the noise stream keyed by key; checks one noise word per channel. */
#ifndef NA64_TEST_SADC_EVENT_H
#define NA64_TEST_SADC_EVENT_H

#include <string.h>

#include "na64/daq.h"
#include "sim/fast_internal.h"
#include "support/na64_test.h"

static inline void *sadc_event_write(const sim_sadc_noise *nz, const sim_sadc_channel *ch, const double *amp, int n,
                                     const double *shape, uint64_t key, size_t *len)
{
  na64_err err = {0, ""};
  na64_daq_writer *w = NULL;
  na64_daq_header h;
  memset(&h, 0, sizeof h);
  h.type = NA64_DAQ_PHYSICS_EVENT;
  h.run = 1;
  sim_word_stream ns = {key, 0};
  void *buf = NULL;
  assert_int_equal(na64_daq_writer_open_memory(NULL, &w, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), NA64_OK);
  assert_int_equal(sim_sadc_write_event(nz, ch, amp, n, shape, &ns, w, &err), NA64_OK);
  assert_true(ns.k == (uint64_t)n); /* one noise word per channel */
  assert_int_equal(na64_daq_writer_end_event(w, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_close_memory(w, &buf, len, &err), NA64_OK);
  return buf;
}

#endif
