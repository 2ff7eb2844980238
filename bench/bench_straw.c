/* Straw-tube throughput on one core: DATE reading + F1 decoding + straw decoding (channel map, t0,
 * drift-time window), hit reconstruction (r(t), errors, left/right pairs), and the calibration of
 * 1e6 hits (histogramming and the t0 / r(t) computation), on events made by the straw digitiser of
 * the invisible setup (run 1500 of the default conditions database): 2 tracks per event, noise 0.01
 * hits per channel. MB = 1e6 bytes of DATE data; times are process CPU time, best of 3.
 * Usage: bench_straw [events] [calibration hits]   (defaults 100000, 1000000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "na64/daq.h"
#include "na64/geom.h"
#include "na64/reco.h"
#include "na64/sim.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const na64_err *err)
{
  fprintf(stderr, "bench_straw: %s: %s\n", what, err->msg);
  exit(1);
}

/* A DATE file in memory: n physics events of `ntrack` tracks through the straw stations. */
static void make_data(const na64_geom *g, na64_straw_digitizer *d, long n, int ntrack, int seed, void **data, size_t *size,
                      double *gen_s)
{
  na64_err err = {0, ""};
  int first = -1, last = -1;
  for (int i = 0; i < g->nplanes; ++i)
    if (g->planes[i].kind == NA64_DET_STRAW) {
      if (first < 0) first = i;
      last = i;
    }
  const na64_geom_plane *a = &g->planes[first], *b = &g->planes[last];
  double slope = (b->centre[0] - a->centre[0]) / (b->centre[2] - a->centre[2]);
  na64_daq_writer *w = NULL;
  if (na64_daq_writer_open_memory(NULL, &w, &err)) die("writer", &err);
  na64_straw_digi_event ev;
  na64_straw_digi_event_init(&ev);
  na64_straw_track tr[8];
  double t0 = now();
  for (long i = 0; i < n; ++i) {
    na64_rng r;
    na64_rng_init(&r, (uint64_t)seed, (uint64_t)i);
    for (int k = 0; k < ntrack; ++k) {
      tr[k].point[0] = a->centre[0] + 16 * (na64_rng_uniform(&r) - 0.5);
      tr[k].point[1] = a->centre[1] + 16 * (na64_rng_uniform(&r) - 0.5);
      tr[k].point[2] = a->centre[2] - 5;
      tr[k].dir[0] = slope + 0.002 * na64_rng_gauss(&r);
      tr[k].dir[1] = 0.002 * na64_rng_gauss(&r);
      tr[k].dir[2] = 1;
      tr[k].time = 0;
    }
    if (na64_straw_digitize(d, tr, (size_t)ntrack, &r, &ev, &err)) die("digitize", &err);
    na64_daq_header h;
    memset(&h, 0, sizeof h);
    h.type = NA64_DAQ_PHYSICS_EVENT;
    h.run = (uint32_t)g->run;
    h.id[0] = (uint32_t)i;
    h.id[1] = NA64_DAQ_ID1(1 + i / 100000, i % 100000);
    if (na64_daq_writer_begin_event(w, &h, &err) || na64_straw_digi_write(d, &ev, na64_daq_header_nb_in_burst(&h), w, &err) ||
        na64_daq_writer_end_event(w, &err))
      die("write", &err);
  }
  *gen_s = now() - t0;
  na64_straw_digi_event_release(&ev);
  if (na64_daq_writer_close_memory(w, data, size, &err)) die("close", &err);
}

/* The time, s, of reading the DATE data and F1-decoding every event (src/daq alone, the reference). */
static double time_f1(const void *data, size_t size, na64_straw_digit_list *list)
{
  na64_err err = {0, ""};
  na64_daq_reader *rd = NULL;
  if (na64_daq_reader_open_memory(data, size, "bench", NULL, &rd, &err)) die("reader", &err);
  na64_daq_event ev;
  double t0 = now();
  while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
    list->f1.n = 0;
    na64_daq_f1_decode_event(&ev, &list->f1, NULL, &err);
  }
  double dt = now() - t0;
  na64_daq_reader_close(rd);
  return dt;
}

/* The time, s, of reading + straw decoding (reco NULL) or reading + decoding + hit reconstruction;
 * the decoder's statistics in *st, the hits and left/right pairs in *nh, *np. */
static double time_decode(const void *data, size_t size, na64_straw_decoder *dec, na64_straw_reco *reco,
                          na64_straw_digit_list *list, na64_straw_event *sev, na64_straw_decode_stats *st,
                          uint64_t *nh, uint64_t *np)
{
  na64_err err = {0, ""};
  na64_daq_reader *rd = NULL;
  if (na64_daq_reader_open_memory(data, size, "bench", NULL, &rd, &err)) die("reader", &err);
  memset(st, 0, sizeof *st);
  *nh = *np = 0;
  na64_daq_event ev;
  double t0 = now();
  while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
    if (na64_straw_decode_event(dec, &ev, list, st, &err)) die("decode", &err);
    if (reco) {
      if (na64_straw_reco_event(reco, list->digits, list->n, sev, &err)) die("hits", &err);
      *nh += sev->nhits;
      for (size_t s = 0; s < sev->nsegments; ++s) *np += (sev->segments[s].flags & NA64_STRAW_SEG_PAIR) != 0;
    }
  }
  double dt = now() - t0;
  na64_daq_reader_close(rd);
  return dt;
}

/* Decoding and hit reconstruction of nev two-track events, best of 3. */
static void bench_decode(const na64_geom *g, na64_straw_digitizer *d, long nev)
{
  na64_err err = {0, ""};
  void *data = NULL;
  size_t size = 0;
  double gen_s;
  make_data(g, d, nev, 2, 1, &data, &size, &gen_s);
  na64_straw_decoder *dec = NULL;
  na64_straw_reco *reco = NULL;
  if (na64_straw_decoder_new(g, NULL, &dec, &err) || na64_straw_reco_new(g, NULL, &reco, &err)) die("reco", &err);
  na64_straw_digit_list list;
  na64_straw_digit_list_init(&list);
  na64_straw_event sev;
  na64_straw_event_init(&sev);
  double best_dec = 1e30, best_reco = 1e30, best_f1 = 1e30;
  uint64_t f1 = 0, digits = 0, hits = 0, pairs = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double dt = time_f1(data, size, &list);
    if (dt < best_f1) best_f1 = dt;
    na64_straw_decode_stats st;
    uint64_t nh, np;
    dt = time_decode(data, size, dec, NULL, &list, &sev, &st, &nh, &np);
    if (dt < best_dec) {
      best_dec = dt;
      f1 = st.f1_hits;
      digits = st.digits;
    }
    dt = time_decode(data, size, dec, reco, &list, &sev, &st, &nh, &np);
    if (dt < best_reco) best_reco = dt;
    hits = nh;
    pairs = np;
  }
  printf("straw events: %ld, %.1f F1 hits/event, %.0f bytes/event, %.2f MB (digitise + write: %.0f events/s)\n", nev,
         (double)f1 / nev, (double)size / nev, size / 1e6, nev / gen_s);
  printf("reference, read + F1 decode only: %.3g hits/s, %.0f MB/s\n", f1 / best_f1, size / 1e6 / best_f1);
  printf("read + F1 decode + straw decode (map, t0, window): %.3g hits/s, %.0f MB/s, %.3g events/s (%llu digits)\n",
         f1 / best_dec, size / 1e6 / best_dec, nev / best_dec, (unsigned long long)digits);
  printf("  + hit reconstruction (r(t), errors, left/right pairs): %.3g hits/s, %.0f MB/s (%llu hits, %llu pairs)\n",
         f1 / best_reco, size / 1e6 / best_reco, (unsigned long long)hits, (unsigned long long)pairs);
  free(data);
  na64_straw_event_release(&sev);
  na64_straw_digit_list_release(&list);
  na64_straw_reco_free(reco);
  na64_straw_decoder_free(dec);
}

/* Calibration of ncal hits: one track per event, no window; best of 3. */
static void bench_calib(const na64_geom *g, na64_straw_digitizer *d, long ncal)
{
  na64_err err = {0, ""};
  void *data = NULL;
  size_t size = 0;
  double gen_s;
  long nev_cal = ncal / 6; /* ~6 F1 hits per single-track event with this noise */
  make_data(g, d, nev_cal, 1, 2, &data, &size, &gen_s);
  na64_straw_decode_options dopt;
  na64_straw_decode_options_default(&dopt);
  dopt.no_window = 1;
  na64_straw_decoder *dcal = NULL;
  if (na64_straw_decoder_new(g, &dopt, &dcal, &err)) die("decoder", &err);
  na64_straw_digit_list list;
  na64_straw_digit_list_init(&list);
  double best_add = 1e30, best_comp = 1e30;
  uint64_t entries = 0;
  for (int rep = 0; rep < 3; ++rep) {
    na64_straw_calib *cal = NULL;
    if (na64_straw_calib_new(g, NULL, &cal, &err)) die("calib", &err);
    na64_daq_reader *rd = NULL;
    if (na64_daq_reader_open_memory(data, size, "bench", NULL, &rd, &err)) die("reader", &err);
    na64_daq_event ev;
    double t0 = now();
    while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
      if (na64_straw_decode_event(dcal, &ev, &list, NULL, &err)) die("decode", &err);
      na64_straw_calib_add(cal, list.digits, list.n, &err);
    }
    double t1 = now();
    if (na64_straw_calib_compute(cal, &err)) die("compute", &err);
    double t2 = now();
    entries = na64_straw_calib_entries(cal);
    if (t1 - t0 < best_add) best_add = t1 - t0;
    if (t2 - t1 < best_comp) best_comp = t2 - t1;
    na64_daq_reader_close(rd);
    na64_straw_calib_free(cal);
  }
  printf("calibration of %llu hits (%ld events, 320 channels): read + decode + histogram %.3f s, t0 and r(t) %.3f s, "
         "total %.3f s\n",
         (unsigned long long)entries, nev_cal, best_add, best_comp, best_add + best_comp);
  free(data);
  na64_straw_digit_list_release(&list);
  na64_straw_decoder_free(dcal);
}

int main(int argc, char **argv)
{
  long nev = argc > 1 ? atol(argv[1]) : 100000;
  long ncal = argc > 2 ? atol(argv[2]) : 1000000;
  if (nev < 1 || ncal < 1000) {
    fprintf(stderr, "usage: bench_straw [events >= 1] [calibration hits >= 1000]\n");
    return 2;
  }
  na64_err err = {0, ""};
  na64_geom *g = NULL;
  if (na64_geom_load_path(NULL, 1500, &g, &err)) die("geometry of run 1500", &err);
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  o.noise_per_channel = 0.01;
  na64_straw_digitizer *d = NULL;
  if (na64_straw_digitizer_new(g, &o, &d, &err)) die("digitizer", &err);
  bench_decode(g, d, nev);
  bench_calib(g, d, ncal);
  na64_straw_digitizer_free(d);
  na64_geom_free(g);
  return 0;
}
