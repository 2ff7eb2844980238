/* Test helper of the straw tests: generated data of known truth. Tracks parallel to the beam line
 * through the straw stations of the invisible setup (run 1500 of the default conditions database),
 * digitised with the straw model of na64/sim.h, written as DATE events with the daq writer (in
 * memory or to a file), read back and decoded to digits. Truth t0 per channel is random (uniform
 * in [GEN_T0_LO, GEN_T0_HI] ns) so that the calibration has something to find. */
#ifndef NA64_TEST_STRAW_GEN_H
#define NA64_TEST_STRAW_GEN_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/cond.h"
#include "na64/daq.h"
#include "na64/geom.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"

#define GEN_DB NA64_BINARY_DIR "/conditions.db"
#define GEN_RUN 1500
#define GEN_T0_LO 25.0
#define GEN_T0_HI 55.0

typedef struct straw_gen {
  na64_geom *g;
  na64_straw_digitizer *digi;
  double origin[3];   /* a point on the beam line at the first straw plane */
  double slope_x;     /* beam-line slope dx/dz from the plane centres */
  double half_wide;   /* fraction f_wide of the tracks is uniform over +-half_wide cm in x and y, */
  double half_narrow; /* the rest over +-half_narrow (more statistics for the narrower 2 mm planes) */
  double f_wide;
  double angle;       /* Gaussian spread of the track angles around the beam line, rad */
} straw_gen;

static inline na64_geom *gen_load_geom(const char *db, int run)
{
  na64_geom *g = NULL;
  na64_err err = {0, ""};
  if (na64_geom_load_path(db, run, &g, &err) != NA64_OK) fail_msg("loading %s run %d: %s", db, run, err.msg);
  return g;
}

/* Geometry of the run, digitiser with options o (NULL: defaults) and truth t0 drawn from seed. */
static inline void gen_init(straw_gen *s, const char *db, int run, const na64_straw_digi_options *o, uint64_t seed)
{
  memset(s, 0, sizeof *s);
  s->g = gen_load_geom(db, run);
  na64_err err = {0, ""};
  if (na64_straw_digitizer_new(s->g, o, &s->digi, &err) != NA64_OK) fail_msg("digitizer: %s", err.msg);
  na64_rng rng;
  na64_rng_init(&rng, seed, 0xF00D);
  int first = -1, last = -1;
  for (int i = 0; i < s->g->nplanes; ++i) {
    const na64_geom_plane *p = &s->g->planes[i];
    if (p->kind != NA64_DET_STRAW) continue;
    if (first < 0) first = i;
    last = i;
    for (int w = 0; w < p->nwires; ++w)
      assert_int_equal(na64_straw_digitizer_set_t0(s->digi, i, w, GEN_T0_LO + (GEN_T0_HI - GEN_T0_LO) * na64_rng_uniform(&rng), &err),
                       NA64_OK);
  }
  assert_true(first >= 0 && last > first);
  const na64_geom_plane *a = &s->g->planes[first], *b = &s->g->planes[last];
  s->slope_x = (b->centre[0] - a->centre[0]) / (b->centre[2] - a->centre[2]);
  memcpy(s->origin, a->centre, sizeof s->origin);
  s->origin[2] -= 5; /* upstream of every straw layer of the first plane */
  s->half_wide = 10.0;
  s->half_narrow = 5.0;
  s->f_wide = 0.75;
  s->angle = 0.002;
}

static inline void gen_free(straw_gen *s)
{
  na64_straw_digitizer_free(s->digi);
  na64_geom_free(s->g);
  memset(s, 0, sizeof *s);
}

static inline void gen_track(const straw_gen *s, na64_rng *rng, na64_straw_track *t)
{
  double h = na64_rng_uniform(rng) < s->f_wide ? s->half_wide : s->half_narrow;
  t->point[0] = s->origin[0] + h * (2 * na64_rng_uniform(rng) - 1);
  t->point[1] = s->origin[1] + h * (2 * na64_rng_uniform(rng) - 1);
  t->point[2] = s->origin[2];
  t->dir[0] = s->slope_x + s->angle * na64_rng_gauss(rng);
  t->dir[1] = s->angle * na64_rng_gauss(rng);
  t->dir[2] = 1;
  t->time = 0;
}

static inline void gen_header(na64_daq_header *h, uint32_t type, int run, uint32_t i)
{
  memset(h, 0, sizeof *h);
  h->type = type;
  h->run = (uint32_t)run;
  h->id[0] = i;
  h->id[1] = NA64_DAQ_ID1(1 + i / 1000, i % 1000);
  h->trigger_pattern[0] = 1;
  h->time_sec = 1530000000u + i / 100;
}

/* Write nevents physics events (one track each; the event's rng stream is its number) between a
 * start- and an end-of-run event. w: an open writer. */
/* The truth of event i of a generated file: its track and digitisation from stream (seed, i), the
 * same draws the writer made (so a reader can compare what it decodes with what was generated). */
static inline void gen_event_truth(const straw_gen *s, uint64_t seed, uint32_t i, na64_straw_track *t,
                                   na64_straw_digi_event *ev)
{
  na64_err err = {0, ""};
  na64_rng rng;
  na64_rng_init(&rng, seed, i);
  gen_track(s, &rng, t);
  if (na64_straw_digitize(s->digi, t, 1, &rng, ev, &err) != NA64_OK) fail_msg("digitize: %s", err.msg);
}

/* An F1 hit on the DAQ channel of (plane, wire) of g at time t_ns relative to the trigger. */
static inline na64_daq_f1_hit gen_f1_hit_on(const na64_geom *g, int plane, int wire, double t_ns)
{
  na64_daq_f1_hit h;
  memset(&h, 0, sizeof h);
  uint32_t src, port, chip, chan;
  na64_geom_key_unpack(g->planes[plane].daq_key[wire], &src, &port, &chip, &chan);
  h.source_id = src;
  h.port = (uint8_t)port;
  h.chip = (uint8_t)chip;
  h.channel = (uint8_t)chan;
  h.time_ns = t_ns;
  return h;
}

/* Physics events first..first+nevents-1 of `run` (event i from stream (seed, i)), no run records. */
static inline void gen_write_physics(const straw_gen *s, na64_daq_writer *w, int run, uint64_t seed, uint32_t first,
                                     uint32_t nevents)
{
  na64_err err = {0, ""};
  na64_daq_header h;
  na64_straw_digi_event ev;
  na64_straw_digi_event_init(&ev);
  for (uint32_t i = first; i < first + nevents; ++i) {
    na64_straw_track t;
    gen_event_truth(s, seed, i, &t, &ev);
    gen_header(&h, NA64_DAQ_PHYSICS_EVENT, run, i);
    assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), NA64_OK);
    if (na64_straw_digi_write(s->digi, &ev, na64_daq_header_nb_in_burst(&h), w, &err) != NA64_OK)
      fail_msg("digi write: %s", err.msg);
    assert_int_equal(na64_daq_writer_end_event(w, &err), NA64_OK);
  }
  na64_straw_digi_event_release(&ev);
}

/* A record-only event (start/end of run) of `run`. */
static inline void gen_write_record(na64_daq_writer *w, uint32_t type, int run, uint32_t i)
{
  na64_err err = {0, ""};
  na64_daq_header h;
  gen_header(&h, type, run, i);
  assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_end_event(w, &err), NA64_OK);
}

/* A whole run: start of run, nevents physics events, end of run. */
static inline void gen_write(const straw_gen *s, na64_daq_writer *w, int run, uint64_t seed, uint32_t nevents)
{
  gen_write_record(w, NA64_DAQ_START_OF_RUN, run, 0);
  gen_write_physics(s, w, run, seed, 1, nevents);
  gen_write_record(w, NA64_DAQ_END_OF_RUN, run, nevents + 1);
}

/* The same events as a DATE file in memory (free() it). */
static inline void gen_memory(const straw_gen *s, int run, uint64_t seed, uint32_t nevents, void **data, size_t *size)
{
  na64_err err = {0, ""};
  na64_daq_writer *w = NULL;
  assert_int_equal(na64_daq_writer_open_memory(NULL, &w, &err), NA64_OK);
  gen_write(s, w, run, seed, nevents);
  assert_int_equal(na64_daq_writer_close_memory(w, data, size, &err), NA64_OK);
}

static inline void gen_file(const straw_gen *s, const char *path, int run, uint64_t seed, uint32_t nevents)
{
  na64_err err = {0, ""};
  na64_daq_writer *w = NULL;
  if (na64_daq_writer_open(path, NULL, &w, &err) != NA64_OK) fail_msg("%s", err.msg);
  gen_write(s, w, run, seed, nevents);
  assert_int_equal(na64_daq_writer_close(w, &err), NA64_OK);
}

/* Read the DATE bytes back and feed every physics event's digits (no time window) to the
 * calibration built on geometry g. Returns the number of digits. */
static inline uint64_t gen_feed_calib(const na64_geom *g, const void *data, size_t size, na64_straw_calib *cal)
{
  na64_err err = {0, ""};
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(data, size, "generated", NULL, &rd, &err), NA64_OK);
  na64_straw_decode_options o;
  na64_straw_decode_options_default(&o);
  o.no_window = 1;
  na64_straw_decoder *dec = NULL;
  assert_int_equal(na64_straw_decoder_new(g, &o, &dec, &err), NA64_OK);
  na64_straw_digit_list list;
  na64_straw_digit_list_init(&list);
  na64_daq_event ev;
  uint64_t n = 0;
  while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    if (na64_straw_decode_event(dec, &ev, &list, NULL, &err) != NA64_OK) fail_msg("decode: %s", err.msg);
    assert_int_equal(na64_straw_calib_add(cal, list.digits, list.n, &err), NA64_OK);
    n += list.n;
  }
  na64_straw_digit_list_release(&list);
  na64_straw_decoder_free(dec);
  na64_daq_reader_close(rd);
  return n;
}

/* Maximal |r_a(t) - r_b(t)| over t in [0, tmax] (step 0.1 ns) between two drift models. */
static inline double gen_rt_maxdiff(const na64_straw_drift *a, const na64_straw_drift *b, double tmax, double *at)
{
  double worst = 0;
  for (double t = 0; t <= tmax; t += 0.1) {
    double d = fabs(na64_straw_drift_radius(a, t) - na64_straw_drift_radius(b, t));
    if (d > worst) {
      worst = d;
      if (at) *at = t;
    }
  }
  return worst;
}

/* A private copy of the default database in dir. */
static inline void gen_copy_db(const char *to) { na64_test_copy_file(GEN_DB, to); }

#endif
