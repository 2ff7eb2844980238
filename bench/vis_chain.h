/* The visible event chain of the benches (bench_vis_event, bench_vis_polarisation): simulation,
 * DATE digitisation into a memory writer per event, reader and reconstruction, as the visible job
 * runs them (src/ana/vis_job.c event_row, static in libna64). Header-only: static functions. */
#ifndef NA64_BENCH_VIS_CHAIN_H
#define NA64_BENCH_VIS_CHAIN_H

#include <stdint.h>
#include <stdlib.h>

#include "na64/reco.h"
#include "na64/sim.h"

typedef struct chain {
  na64_vis_sim *s;
  na64_vis_digitizer *d;
  na64_vis_reco *r;
} chain;

static void chain_free(chain *c)
{
  na64_vis_reco_free(c->r);
  na64_vis_digitizer_free(c->d);
  na64_vis_sim_free(c->s);
  c->s = NULL, c->d = NULL, c->r = NULL;
}

/* the chain of configuration cfg; nonzero (and nothing left allocated) on error */
static int chain_new(const na64_vis_config *cfg, chain *c, na64_err *err)
{
  c->s = NULL, c->d = NULL, c->r = NULL;
  if (na64_vis_sim_new(cfg, &c->s, err) || na64_vis_digitizer_new(c->s, &c->d, err) ||
      na64_vis_reco_new(na64_vis_sim_geom(c->s), &c->r, err)) {
    chain_free(c);
    return 1;
  }
  return 0;
}

/* event i into its own memory writer (seed 1, as vis_job.c event_row); the caller frees *buf */
static int digitize_alone(chain *c, const na64_vis_sim_event *ev, int i, void **buf, size_t *len, na64_err *err)
{
  na64_daq_writer *w = NULL;
  if (na64_daq_writer_open_memory(NULL, &w, err)) return 1;
  if (na64_vis_digitize_write(c->d, ev, 1, (uint32_t)i, w, err)) {
    na64_daq_writer_close(w, NULL);
    return 1;
  }
  return na64_daq_writer_close_memory(w, buf, len, err) != NA64_OK;
}

/* the DATE event in buf read back and reconstructed into *re */
static int reconstruct(chain *c, const void *buf, size_t len, na64_vis_reco_event *re, na64_err *err)
{
  na64_daq_reader *rd = NULL;
  na64_daq_event de;
  int st = na64_daq_reader_open_memory(buf, len, "bench", NULL, &rd, err) || na64_daq_reader_next_event(rd, &de, err) ||
           na64_vis_reco_process(c->r, &de, re, err);
  na64_daq_reader_close(rd);
  return st;
}

#endif
