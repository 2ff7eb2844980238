/* Straw hits against generated data of known truth: drift radius pulls, left/right resolution in
 * the double layers, segments and the monitoring quantities. Two sets of constants: the truth
 * (t0 of the digitiser and its gas r(t), tabulated), which isolates the hit reconstruction, and
 * the calibration of an independent sample (the whole chain). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reco/straw_gen.h"

#define tmpdir na64_test_tmpdir

/* Effective time resolution of the digitiser: resolution, trigger jitter and F1 quantisation
 * (bin / sqrt(6) for a random counter phase, include/na64/sim.h). */
static double sigma_eff(const straw_gen *s, int plane)
{
  double st = na64_straw_digitizer_sigma_t(s->digi, plane), j = na64_straw_digitizer_options(s->digi)->trigger_jitter;
  double q = na64_straw_digitizer_options(s->digi)->bin_ns / sqrt(6.0);
  return sqrt(st * st + j * j + q * q);
}

/* Write the truth constants of every straw plane into db for run..run. */
static void insert_truth(const straw_gen *s, na64_cond *db, int run)
{
  na64_err err = {0, ""};
  for (int i = 0; i < s->g->nplanes; ++i) {
    const na64_geom_plane *p = &s->g->planes[i];
    if (p->kind != NA64_DET_STRAW) continue;
    const na64_straw_drift *m = na64_straw_digitizer_drift(s->digi, i);
    double t[121], r[121], t0[128], vbar = 0;
    for (int k = 0; k <= 120; ++k) {
      r[k] = m->radius * k / 120.0;
      t[k] = na64_straw_drift_time(m, r[k]);
      if (k) vbar += (r[k] - r[k - 1]) * (r[k] - r[k - 1]) / (t[k] - t[k - 1]);
    }
    vbar /= m->radius;
    assert_true(p->nwires <= 128);
    for (int w = 0; w < p->nwires; ++w) t0[w] = na64_straw_digitizer_t0(s->digi, i, w);
    if (na64_cond_insert_straw_calib(db, run, run, p->name, p->nwires, t0, 121, t, r, sigma_eff(s, i) * vbar, "truth",
                                     &err) != NA64_OK)
      fail_msg("%s", err.msg);
  }
}

typedef struct hit_stats {
  double pull_n, pull_s, pull_s2;     /* radius pulls of hits with DCA in [0.3 R, 0.9 R] */
  double upull_n, upull_s2;           /* position pulls of correctly resolved hits, same range */
  double all_n, all_s2;               /* radius pulls of every matched hit */
  double clean_hits, clean_right;     /* hits of clean double-layer pairs, and with the right side */
  double pairs_expected, pairs_found; /* planes with one track hit in each layer / paired */
  double mon_lr_checked, mon_lr_correct;
} hit_stats;

/* Digitise n single-track events, write them as DATE, read back, decode with the geometry g
 * (whose constants are the ones under test) and reconstruct; compare with the truth. */
static void run_sample(straw_gen *s, const na64_geom *g, uint64_t seed, uint32_t n, hit_stats *hs, na64_straw_monitor **mon_out)
{
  memset(hs, 0, sizeof *hs);
  na64_err err = {0, ""};
  void *data = NULL;
  size_t size = 0;
  gen_memory(s, GEN_RUN, seed, n, &data, &size);
  na64_straw_decoder *dec = NULL;
  assert_int_equal(na64_straw_decoder_new(g, NULL, &dec, &err), NA64_OK);
  na64_straw_reco_options ro;
  na64_straw_reco_options_default(&ro);
  ro.slope_x = s->slope_x; /* the beam direction, known from the setup */
  na64_straw_reco *reco = NULL;
  assert_int_equal(na64_straw_reco_new(g, &ro, &reco, &err), NA64_OK);
  na64_straw_monitor *mon = NULL;
  assert_int_equal(na64_straw_monitor_new(reco, &mon, &err), NA64_OK);
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(data, size, "hits", NULL, &rd, &err), NA64_OK);
  na64_straw_digit_list list;
  na64_straw_digit_list_init(&list);
  na64_straw_event ev;
  na64_straw_event_init(&ev);
  na64_straw_digi_event truth;
  na64_straw_digi_event_init(&truth);
  na64_daq_event de;
  uint32_t i = 0;
  while (na64_daq_reader_next_event(rd, &de, &err) == NA64_OK) {
    if (de.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    i = de.header.id[0];
    /* the truth of this event: the same rng stream as the writer (straw_gen.h) */
    na64_straw_track t;
    gen_event_truth(s, seed, i, &t, &truth);
    if (na64_straw_decode_event(dec, &de, &list, NULL, &err) != NA64_OK) fail_msg("%s", err.msg);
    assert_int_equal(na64_straw_reco_event(reco, list.digits, list.n, &ev, &err), NA64_OK);
    na64_straw_monitor_fill(mon, reco, &ev);
    na64_straw_monitor_fill_track(mon, reco, &ev, t.point, t.dir, 0.9);
    /* match hits to the truth by (plane, wire) */
    for (size_t h = 0; h < ev.nhits; ++h) {
      const na64_straw_hit *hit = &ev.hits[h];
      const na64_straw_truth *tr = NULL;
      int nwire = 0;
      for (size_t k = 0; k < truth.ntruth; ++k)
        if (truth.truth[k].plane == hit->plane && truth.truth[k].wire == hit->wire && truth.truth[k].hit >= 0) {
          nwire++;
          if (truth.truth[k].track == 0) tr = &truth.truth[k];
        }
      if (!tr || nwire != 1) continue; /* noise, or a noise hit on the same wire */
      double R = g->planes[hit->plane].diameter / 2, pull = (hit->r - tr->doca) / hit->sigma_r;
      hs->all_n += 1;
      hs->all_s2 += pull * pull;
      if (tr->doca > 0.3 * R && tr->doca < 0.9 * R) {
        hs->pull_n += 1;
        hs->pull_s += pull;
        hs->pull_s2 += pull * pull;
        if (hit->side && (hit->side > 0) == (tr->u_track > 0)) {
          double up = (hit->u - (hit->u_wire + tr->u_track)) / hit->sigma_r;
          hs->upull_n += 1;
          hs->upull_s2 += up * up;
        }
      }
    }
    /* clean double layers: exactly two hits in the plane, one per layer, both from the track alone */
    for (int p = 0; p < g->nplanes; ++p) {
      if (g->planes[p].kind != NA64_DET_STRAW) continue;
      int nh = 0, idx[2] = {-1, -1}, layers = 0;
      for (size_t h = 0; h < ev.nhits; ++h)
        if (ev.hits[h].plane == p) {
          if (nh < 2) idx[nh] = (int)h;
          nh++;
          layers |= 1 << ev.hits[h].layer;
        }
      int ntrue = 0, noise = 0;
      for (size_t k = 0; k < truth.ntruth; ++k)
        if (truth.truth[k].plane == p && truth.truth[k].hit >= 0) {
          if (truth.truth[k].track == 0) ntrue++;
          else noise++;
        }
      if (nh != 2 || layers != 3 || ntrue != 2 || noise) continue;
      hs->pairs_expected += 1;
      if (ev.hits[idx[0]].partner != idx[1]) continue;
      hs->pairs_found += 1;
      for (int q = 0; q < 2; ++q) {
        const na64_straw_hit *hit = &ev.hits[idx[q]];
        for (size_t k = 0; k < truth.ntruth; ++k)
          if (truth.truth[k].plane == p && truth.truth[k].wire == hit->wire) {
            hs->clean_hits += 1;
            if ((hit->side > 0) == (truth.truth[k].u_track > 0)) hs->clean_right += 1;
          }
      }
    }
  }
  for (int k = 0; k < mon->nplanes; ++k) {
    hs->mon_lr_checked += (double)mon->planes[k].lr_checked;
    hs->mon_lr_correct += (double)mon->planes[k].lr_correct;
  }
  na64_straw_digi_event_release(&truth);
  na64_straw_event_release(&ev);
  na64_straw_digit_list_release(&list);
  na64_daq_reader_close(rd);
  if (mon_out) *mon_out = mon;
  else na64_straw_monitor_free(mon);
  na64_straw_reco_free(reco);
  na64_straw_decoder_free(dec);
  free(data);
}

static double hist_rms(const na64_straw_hist *h)
{
  double n = 0, s1 = 0, s2 = 0, bw = (h->hi - h->lo) / h->nbins;
  for (int k = 1; k <= h->nbins; ++k) {
    double x = h->lo + (k - 0.5) * bw;
    n += h->content[k];
    s1 += h->content[k] * x;
    s2 += h->content[k] * x * x;
  }
  return n > 0 ? sqrt(s2 / n - (s1 / n) * (s1 / n)) : NAN;
}

static void print_stats(const char *what, const hit_stats *h)
{
  printf("  %s: radius pull mean %+.3f width %.3f (%.0f hits, DCA in [0.3, 0.9] R; all hits rms %.3f); position pull "
         "width %.3f; clean pairs %.0f/%.0f formed, right side %.2f %% of %.0f hits (monitor %.2f %%)\n",
         what, h->pull_s / h->pull_n, sqrt(h->pull_s2 / h->pull_n - pow(h->pull_s / h->pull_n, 2)), h->pull_n,
         sqrt(h->all_s2 / h->all_n), sqrt(h->upull_s2 / h->upull_n), h->pairs_found, h->pairs_expected,
         100 * h->clean_right / h->clean_hits, h->clean_hits, 100 * h->mon_lr_correct / h->mon_lr_checked);
}

/* Truth constants: 20 000 single-track events (~40 000 hits per plane type in the pull range). */
static void test_hits_with_truth_constants(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, NULL, 31);
  char dbpath[320];
  snprintf(dbpath, sizeof dbpath, "%s/truth.db", tmpdir);
  gen_copy_db(dbpath);
  na64_cond *db = NULL;
  assert_int_equal(na64_cond_open(dbpath, NA64_COND_READWRITE, &db, &err), NA64_OK);
  insert_truth(&s, db, GEN_RUN);
  na64_geom *g = NULL;
  assert_int_equal(na64_geom_load(db, GEN_RUN, &g, &err), NA64_OK);
  hit_stats hs;
  na64_straw_monitor *mon = NULL;
  run_sample(&s, g, 32, 20000, &hs, &mon);
  print_stats("truth constants", &hs);
  assert_true(hs.pull_n > 20000);
  assert_true(fabs(hs.pull_s / hs.pull_n) < 0.05);
  double width = sqrt(hs.pull_s2 / hs.pull_n - pow(hs.pull_s / hs.pull_n, 2));
  assert_true(width > 0.9 && width < 1.1);          /* radius errors describe the scatter */
  assert_true(sqrt(hs.upull_s2 / hs.upull_n) < 1.1); /* positions of resolved hits as well */
  assert_true(hs.pairs_found > 0.97 * hs.pairs_expected);
  assert_true(hs.clean_right > 0.95 * hs.clean_hits); /* issue 4: left/right right in > 95 % */
  assert_true(hs.mon_lr_correct > 0.95 * hs.mon_lr_checked);

  /* monitoring quantities: efficiency 0.97 of the digitiser, seen per wire with the reference
   * tracks and per layer by self-tagging; hit maps add up */
  for (int k = 0; k < mon->nplanes; ++k) {
    const na64_straw_plane_monitor *q = &mon->planes[k];
    double exp_sum = 0, found_sum = 0, map_sum = 0;
    for (int w = 0; w < q->nwires; ++w) {
      exp_sum += q->expected[w];
      found_sum += q->found[w];
      map_sum += q->hitmap[w];
    }
    double eff = found_sum / exp_sum, sig = sqrt(0.97 * 0.03 / exp_sum);
    double l0 = na64_straw_monitor_layer_efficiency(q, 0), l1 = na64_straw_monitor_layer_efficiency(q, 1);
    printf("  %s: wire efficiency %.4f (%.0f crossings), self-tagged layers %.4f %.4f, %llu pairs %llu singles %llu "
           "ambiguous, pair residual rms %.0f um, radius residual entries %.0f\n",
           q->name, eff, exp_sum, l0, l1, (unsigned long long)q->pairs, (unsigned long long)q->singles,
           (unsigned long long)q->ambiguous, 1e4 * hist_rms(&q->pair_residual), q->track_residual.entries);
    assert_true(fabs(eff - 0.97) < 5 * sig);
    assert_true(map_sum == (double)q->hits);
    assert_true(l0 > 0.9 && l0 < 0.99 && l1 > 0.9 && l1 < 0.99);
    assert_true(q->time.entries == (double)q->hits);
    for (int w = 0; w < q->nwires; ++w)
      if (q->expected[w] > 100) assert_true(fabs(na64_straw_monitor_wire_efficiency(q, w) - 0.97) < 0.06);
  }
  na64_straw_monitor_reset(mon);
  assert_int_equal(mon->planes[0].hits, 0);
  assert_true(mon->planes[0].time.entries == 0);
  na64_straw_monitor_free(mon);
  na64_geom_free(g);
  na64_cond_close(db);
  gen_free(&s);
}

/* The whole chain: calibrate on 60 000 events, write the constants, reconstruct 20 000 other
 * events with them. The pulls then include the calibration's own errors (~0.3 ns in t0, ~20 um in
 * r(t)), hence the wider band. */
static void test_hits_with_calibrated_constants(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, NULL, 41);
  void *data = NULL;
  size_t size = 0;
  gen_memory(&s, GEN_RUN, 42, 60000, &data, &size);
  na64_straw_calib *cal = NULL;
  assert_int_equal(na64_straw_calib_new(s.g, NULL, &cal, &err), NA64_OK);
  gen_feed_calib(s.g, data, size, cal);
  free(data);
  if (na64_straw_calib_compute(cal, &err) != NA64_OK) fail_msg("%s", err.msg);
  char dbpath[320];
  snprintf(dbpath, sizeof dbpath, "%s/calib.db", tmpdir);
  gen_copy_db(dbpath);
  na64_cond *db = NULL;
  assert_int_equal(na64_cond_open(dbpath, NA64_COND_READWRITE, &db, &err), NA64_OK);
  assert_int_equal(na64_straw_calib_write(cal, db, GEN_RUN, GEN_RUN, "test", NULL, NULL, &err), NA64_OK);
  na64_straw_calib_free(cal);
  na64_geom *g = NULL;
  assert_int_equal(na64_geom_load(db, GEN_RUN, &g, &err), NA64_OK);
  hit_stats hs;
  run_sample(&s, g, 43, 20000, &hs, NULL);
  print_stats("calibrated constants", &hs);
  double mean = hs.pull_s / hs.pull_n, width = sqrt(hs.pull_s2 / hs.pull_n - mean * mean);
  assert_true(fabs(mean) < 0.2);
  assert_true(width > 0.85 && width < 1.2);
  assert_true(hs.clean_right > 0.95 * hs.clean_hits);
  na64_geom_free(g);
  na64_cond_close(db);
  gen_free(&s);
}

/* Hit reconstruction on hand-made digits: radius and error at known drift times, the earliest
 * digit of a wire, flags, a pair whose left/right is fixed by geometry, bad digits ignored. */
static void test_hits_by_hand(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_geom *g = gen_load_geom(GEN_DB, GEN_RUN);
  int pl = na64_geom_plane_index(g, "ST01X");
  const na64_geom_plane *p = &g->planes[pl];
  na64_straw_reco_options ro;
  na64_straw_reco_options_default(&ro);
  ro.sigma_t = 2.0;
  na64_straw_reco *reco = NULL;
  assert_int_equal(na64_straw_reco_new(g, &ro, &reco, &err), NA64_OK);
  assert_true(na64_straw_reco_sigma_t(reco, pl) == 2.0);
  assert_true(isnan(na64_straw_reco_sigma_t(reco, na64_geom_plane_index(g, "MM03X"))));
  /* r(t) of the default database: linear interpolation, slope from the segment */
  double r, sg;
  double tm = 0.5 * (p->rt_t[1] + p->rt_t[2]);
  assert_int_equal(na64_straw_reco_radius(reco, pl, tm, &r, &sg), 0);
  double slope = (p->rt_r[2] - p->rt_r[1]) / (p->rt_t[2] - p->rt_t[1]);
  assert_true(fabs(r - 0.5 * (p->rt_r[1] + p->rt_r[2])) < 1e-12);
  assert_true(fabs(sg - 2.0 * slope) < 1e-12);
  assert_int_equal(na64_straw_reco_radius(reco, pl, -5, &r, &sg), NA64_STRAW_HIT_EARLY);
  assert_true(r == 0);
  assert_int_equal(na64_straw_reco_radius(reco, pl, 1e4, &r, &sg), NA64_STRAW_HIT_LATE);
  assert_true(r == p->rt_r[p->rt_n - 1]);
  assert_int_equal(na64_straw_reco_radius(reco, -1, 10, &r, &sg), -1);

  /* a perpendicular track at u = u(wire 10 of layer 0) + 0.1 cm: between wire 10 (layer 0) and
   * the layer-1 wire half a pitch to its right; drift times from the database's r(t) */
  int w0 = 10, w1 = -1;
  double u = p->wires[w0].u + 0.1;
  for (int w = 0; w < p->nwires; ++w)
    if (p->wires[w].layer == 1 && fabs(p->wires[w].u - u) < p->diameter / 2) w1 = w;
  assert_true(w1 >= 0);
  na64_straw_drift m;
  assert_int_equal(na64_straw_drift_from_table(p->rt_t, p->rt_r, p->rt_n, &m, &err), NA64_OK);
  double t0 = na64_straw_drift_time(&m, fabs(u - p->wires[w0].u)), t1 = na64_straw_drift_time(&m, fabs(u - p->wires[w1].u));
  na64_straw_digit d[6] = {
      {t0 + 30, 0, pl, w0},  /* a later digit on the same wire: ignored, flag MULTI */
      {t1, 0, pl, w1},
      {t0, 0, pl, w0},
      {NAN, 0, pl, 3},       /* not finite: ignored */
      {5, 0, pl, 9999},      /* no such wire: ignored */
      {5, 0, 999, 0},        /* no such plane: ignored */
  };
  na64_straw_event ev;
  na64_straw_event_init(&ev);
  assert_int_equal(na64_straw_reco_event(reco, d, 6, &ev, &err), NA64_OK);
  assert_int_equal(ev.nhits, 2);
  assert_int_equal(ev.nsegments, 1);
  const na64_straw_hit *a = &ev.hits[0], *b = &ev.hits[1];
  assert_int_equal(a->wire, w0);
  assert_int_equal(a->digit, 2);
  assert_true(a->flags & NA64_STRAW_HIT_MULTI);
  assert_int_equal(b->wire, w1);
  assert_int_equal(a->partner, 1);
  assert_int_equal(b->partner, 0);
  assert_int_equal(a->side, +1);
  assert_int_equal(b->side, u > p->wires[w1].u ? +1 : -1);
  assert_true(fabs(a->u - u) < 1e-6 && fabs(b->u - u) < 1e-6);
  const na64_straw_segment *sgm = &ev.segments[0];
  assert_true(sgm->flags & NA64_STRAW_SEG_PAIR);
  assert_true(fabs(sgm->u - u) < 1e-6);
  assert_true(fabs(sgm->slope) < 1e-6);
  assert_true(sgm->chi2 < 1e-6 && sgm->chi2_next > 1);
  /* one hit alone: unresolved single segment */
  assert_int_equal(na64_straw_reco_event(reco, d + 2, 1, &ev, &err), NA64_OK);
  assert_int_equal(ev.nhits, 1);
  assert_int_equal(ev.hits[0].side, 0);
  assert_true(isnan(ev.hits[0].u));
  assert_true(!(ev.segments[0].flags & NA64_STRAW_SEG_PAIR));
  /* nothing at all */
  assert_int_equal(na64_straw_reco_event(reco, NULL, 0, &ev, &err), NA64_OK);
  assert_int_equal(ev.nhits, 0);
  assert_int_equal(na64_straw_reco_event(NULL, d, 1, &ev, &err), NA64_EINVAL);
  /* bad options */
  ro.sigma_slope = 0;
  na64_straw_reco *bad = NULL;
  assert_int_equal(na64_straw_reco_new(g, &ro, &bad, &err), NA64_EINVAL);
  assert_null(bad);
  na64_straw_event_release(&ev);
  na64_straw_reco_free(reco);
  na64_geom_free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hits_by_hand),
      cmocka_unit_test(test_hits_with_truth_constants),
      cmocka_unit_test(test_hits_with_calibrated_constants),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
