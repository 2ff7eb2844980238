/* Test helper of the DATE tests: events with known content (F1 hits with known times relative to the
 * trigger, SADC waveforms, APV hits), reproducible from (seed, event number). */
#ifndef NA64_TEST_DAQ_GEN_H
#define NA64_TEST_DAQ_GEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/core.h"
#include "na64/daq.h"

#define GEN_F1_SOURCE 612u
#define GEN_SADC_SOURCE 700u
#define GEN_APV_SOURCE 800u
#define GEN_BIN_NS 0.1289

typedef struct gen_event {
  na64_daq_header h;
  na64_daq_f1_hit f1[64];
  int32_t f1_rel[64]; /* the generated time relative to the trigger (TDC bins): the truth */
  size_t nf1;
  na64_daq_sadc_waveform sadc[3];
  size_t nsadc;
  na64_daq_apv_hit apv[16];
  size_t napv;
} gen_event;

/* Event i of a run: i == 0 start of run, i == n-1 end of run, every 10th a start of burst (no payload),
 * the others physics events with payload. */
static inline void gen_event_make(gen_event *g, uint64_t seed, uint32_t i, uint32_t n)
{
  memset(g, 0, sizeof *g);
  na64_rng r;
  na64_rng_init(&r, seed, i);
  g->h.type = i == 0 ? NA64_DAQ_START_OF_RUN
            : i == n - 1 ? NA64_DAQ_END_OF_RUN
            : i % 10 == 1 ? NA64_DAQ_START_OF_BURST
                          : NA64_DAQ_PHYSICS_EVENT;
  g->h.run = 4242;
  g->h.id[0] = i;
  g->h.id[1] = NA64_DAQ_ID1(1 + i / 10, i % 10);
  g->h.trigger_pattern[0] = 1u << (i % 4);
  g->h.detector_pattern = 0x3F;
  g->h.ldc_id = 3;
  g->h.gdc_id = 1;
  g->h.time_sec = 1530000000u + i;
  g->h.time_usec = (uint32_t)(na64_rng_u64(&r) % 1000000u);
  if (g->h.type != NA64_DAQ_PHYSICS_EVENT) return;
  uint16_t trig = (uint16_t)(na64_rng_u64(&r) & 0xFFFFu); /* any value: tests the 16-bit wrap */
  g->nf1 = 1 + na64_rng_u64(&r) % 40;
  for (size_t k = 0; k < g->nf1; ++k) {
    na64_daq_f1_hit *f = &g->f1[k];
    f->port = (uint8_t)(na64_rng_u64(&r) % 16);
    f->chip = (uint8_t)(na64_rng_u64(&r) % 8);
    f->channel = (uint8_t)(na64_rng_u64(&r) % 8);
    f->flags = (na64_rng_u64(&r) % 5 == 0) ? NA64_DAQ_F1_TRAILING : 0;
    int32_t rel = -300 + (int32_t)(na64_rng_u64(&r) % 2000);
    g->f1_rel[k] = rel;
    f->trigger_units = trig;
    f->time_units = (uint16_t)(trig + rel);
  }
  g->nsadc = 1 + na64_rng_u64(&r) % 3;
  for (size_t k = 0; k < g->nsadc; ++k) {
    na64_daq_sadc_waveform *w = &g->sadc[k];
    w->port = (uint8_t)k;
    w->channel = (uint8_t)(na64_rng_u64(&r) % 64);
    w->nsamples = (uint16_t)(31 + k); /* odd and even lengths */
    w->has_pedestals = (k != 1);
    w->pedestal_even = w->has_pedestals ? 200.125 : 0;
    w->pedestal_odd = w->has_pedestals ? 190.5 : 0;
    for (int s = 0; s < w->nsamples; ++s)
      w->samples[s] = (uint16_t)((s % 2 ? 190 : 200) + (s > 8 && s < 16 ? 1500 : 0) + na64_rng_u64(&r) % 4);
  }
  g->napv = na64_rng_u64(&r) % 16;
  for (size_t k = 0; k < g->napv; ++k) {
    na64_daq_apv_hit *a = &g->apv[k];
    a->chip = (uint8_t)(na64_rng_u64(&r) % 4);
    a->channel = (uint8_t)(na64_rng_u64(&r) % 128);
    for (int s = 0; s < 3; ++s) a->amp[s] = (uint16_t)(na64_rng_u64(&r) % 4096);
  }
}

/* Write g: F1, SADC and APV blocks for physics events, none otherwise. Returns NA64_OK or a status. */
static inline int gen_event_write(na64_daq_writer *w, const gen_event *g)
{
  na64_err err;
  uint32_t words[1024];
  size_t nw;
  int st = na64_daq_writer_begin_event(w, &g->h, &err);
  if (st) return st;
  if (g->h.type == NA64_DAQ_PHYSICS_EVENT) {
    uint32_t ev = na64_daq_header_nb_in_burst(&g->h);
    na64_daq_equipment_header eh = na64_daq_f1_equipment(GEN_F1_SOURCE, GEN_BIN_NS);
    if ((st = na64_daq_f1_encode(g->f1, g->nf1, ev, words, 1024, &nw, &err))) return st;
    if ((st = na64_daq_writer_add_equipment(w, &eh, words, nw, &err))) return st;
    eh = na64_daq_sadc_equipment(GEN_SADC_SOURCE, 12.5);
    if ((st = na64_daq_sadc_encode(g->sadc, g->nsadc, words, 1024, &nw, &err))) return st;
    if ((st = na64_daq_writer_add_equipment(w, &eh, words, nw, &err))) return st;
    eh = na64_daq_apv_equipment(GEN_APV_SOURCE, 25.0);
    if ((st = na64_daq_apv_encode(g->apv, g->napv, ev, words, 1024, &nw, &err))) return st;
    if ((st = na64_daq_writer_add_equipment(w, &eh, words, nw, &err))) return st;
  }
  return na64_daq_writer_end_event(w, &err);
}

/* A run of n events in memory (malloc'd, *size bytes), written with the options o as given (NULL:
 * the writer's defaults, super events of one LDC sub-event). */
static inline void *gen_run_ex(uint64_t seed, uint32_t n, const na64_daq_writer_options *o, size_t *size)
{
  na64_daq_writer *w = NULL;
  na64_err err;
  if (na64_daq_writer_open_memory(o, &w, &err)) return NULL;
  gen_event *g = malloc(sizeof *g);
  for (uint32_t i = 0; i < n; ++i) {
    gen_event_make(g, seed, i, n);
    if (gen_event_write(w, g)) {
      free(g);
      na64_daq_writer_close(w, NULL);
      return NULL;
    }
  }
  free(g);
  void *buf = NULL;
  if (na64_daq_writer_close_memory(w, &buf, size, &err)) return NULL;
  return buf;
}

/* The same with plain events (no LDC level), whatever o says: the byte-level tests of plain events. */
static inline void *gen_run(uint64_t seed, uint32_t n, const na64_daq_writer_options *o, size_t *size)
{
  na64_daq_writer_options p = {0};
  if (o) p = *o;
  p.plain_events = 1;
  return gen_run_ex(seed, n, &p, size);
}

/* A unique scratch path under the build tree for this test. */
static inline void gen_tmp_path(char *out, size_t n, const char *name)
{
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/tests-tmp", NA64_BINARY_DIR);
  if (system(NULL)) {
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) { /* the open below will report it */
    }
  }
  snprintf(out, n, "%s/daq-%s", dir, name);
}

#endif
