/* Straw calibration against generated data of known truth: tracks digitised with the straw model
 * (random t0 per channel, Ar/CO2 r(t), resolution, efficiency, noise, trigger jitter, F1
 * quantisation), written as DATE events, read back, decoded and calibrated. The calibration must
 * recover every channel's t0 within 1 ns and each plane's r(t) within 50 um (issue 4), at the
 * statistics stated in each test; the new records must land in the database with their IOV. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reco/straw_gen.h"

#define tmpdir na64_test_tmpdir

typedef struct calib_check {
  double worst_t0;   /* max |t0 - truth| over calibrated channels, ns */
  double rms_t0;
  double worst_rt;   /* max over planes of max_t |r(t) - truth|, cm */
  double pull_rms;   /* rms of (t0 - truth) / t0_err */
  int nchan, nfit, ntemplate, nnone;
} calib_check;

/* Compare every plane's calibration with the digitiser's truth; print a table. */
static void check_against_truth(const straw_gen *s, const na64_straw_calib *cal, double sigma_tol, calib_check *k)
{
  memset(k, 0, sizeof *k);
  double s2 = 0, sp = 0;
  for (int i = 0; i < na64_straw_calib_nplanes(cal); ++i) {
    const na64_straw_plane_calib *p = na64_straw_calib_plane(cal, i);
    assert_int_equal(p->status, NA64_OK);
    double worst = 0, mean_hits = 0;
    for (int w = 0; w < p->nwires; ++w) {
      const na64_straw_channel_calib *c = &p->channels[w];
      mean_hits += (double)c->nhits / p->nwires;
      if (c->method == NA64_STRAW_T0_NONE) {
        k->nnone++;
        continue;
      }
      double d = c->t0 - na64_straw_digitizer_t0(s->digi, p->plane, w);
      if (fabs(d) > worst) worst = fabs(d);
      s2 += d * d;
      sp += d * d / (c->t0_err * c->t0_err);
      k->nchan++;
      if (c->method == NA64_STRAW_T0_FIT) k->nfit++;
      else k->ntemplate++;
    }
    if (worst > k->worst_t0) k->worst_t0 = worst;
    /* r(t): the calibrated table against the digitiser's gas model over the whole drift range */
    const na64_straw_drift *truth = na64_straw_digitizer_drift(s->digi, p->plane);
    na64_straw_drift calm;
    na64_err err = {0, ""};
    assert_int_equal(na64_straw_drift_from_table(p->rt_t, p->rt_r, p->rt_n, &calm, &err), NA64_OK);
    double at = 0, drt = gen_rt_maxdiff(&calm, truth, truth->t_max, &at);
    if (drt > k->worst_rt) k->worst_rt = drt;
    double sig_true = hypot(hypot(na64_straw_digitizer_sigma_t(s->digi, p->plane),
                                  na64_straw_digitizer_options(s->digi)->trigger_jitter),
                            NA64_DAQ_F1_DEFAULT_BIN_NS / sqrt(6.0));
    printf("  %-6s %5.0f hits/ch  fit %3d tmpl %3d none %2d  |dt0|max %.3f ns  t_max %6.2f (true %6.2f) ns  "
           "|dr|max %5.1f um at %5.1f ns  sigma_t %.2f (true %.2f) ns  %d points  sigma_r %.0f um\n",
           p->name, mean_hits, p->nfit, p->ntemplate, p->nwires - p->ncalibrated, worst, p->t_max, truth->t_max,
           drt * 1e4, at, p->sigma_t, sig_true, p->rt_n, p->sigma_r * 1e4);
    /* the edge width measures the time resolution (resolution, trigger jitter, TDC bin) */
    if (sigma_tol > 0) {
      assert_true(fabs(p->sigma_t - sig_true) < sigma_tol * sig_true);
      assert_true(fabs(p->t_max - truth->t_max) < 1.5); /* the end of r(t) is the gas's maximal drift time */
    }
  }
  k->rms_t0 = k->nchan ? sqrt(s2 / k->nchan) : NAN;
  k->pull_rms = k->nchan ? sqrt(sp / k->nchan) : NAN;
}

/* 120 000 single-track events (2 hits per plane crossed): ~4100 hits per 6 mm channel (ST01X/Y,
 * 64 channels) and ~2000 per 2 mm channel (ST02X/Y, 96 channels), 0.005 noise hits per channel per
 * event in the 400 ns readout window; sigma_t 2.0 / 1.2 ns, trigger jitter 0.3 ns, efficiency 0.97.
 * Expected statistical t0 errors ~0.2 ns per channel: the worst of 320 channels stays below 1 ns.
 * Both t0 methods are checked on these data: the per-channel leading-edge fits, and the template
 * shifts alone. */
static void test_calibration_recovers_truth(void **state)
{
  (void)state;
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  o.noise_per_channel = 0.005;
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, &o, 11);
  void *data = NULL;
  size_t size = 0;
  gen_memory(&s, GEN_RUN, 11, 120000, &data, &size);

  na64_err err = {0, ""};
  na64_straw_calib *cal = NULL;
  assert_int_equal(na64_straw_calib_new(s.g, NULL, &cal, &err), NA64_OK);
  uint64_t nd = gen_feed_calib(s.g, data, size, cal);
  assert_true(nd > 100000);
  assert_int_equal(na64_straw_calib_entries(cal), nd);
  if (na64_straw_calib_compute(cal, &err) != NA64_OK) fail_msg("%s", err.msg);
  calib_check k;
  printf("  %llu digits, %zu bytes of DATE data\n", (unsigned long long)nd, size);
  check_against_truth(&s, cal, 0.25, &k);
  printf("  t0: %d channels (%d fit, %d template, %d none), worst %.3f ns, rms %.3f ns, pull rms %.2f; r(t) worst %.1f "
         "um\n",
         k.nchan, k.nfit, k.ntemplate, k.nnone, k.worst_t0, k.rms_t0, k.pull_rms, k.worst_rt * 1e4);
  assert_int_equal(k.nnone, 0);
  assert_true(k.worst_t0 < 1.0);       /* issue 4: t0 within 1 ns, every channel */
  assert_true(k.worst_rt < 50e-4);     /* issue 4: r(t) within 50 um over 0..t_max */
  assert_true(k.pull_rms > 0.7 && k.pull_rms < 1.4); /* the t0 errors describe the scatter */

  /* the template method alone on the same data */
  {
    na64_straw_calib_options co;
    na64_straw_calib_options_default(&co);
    co.min_hits_fit = 1000000;
    na64_straw_calib *c2 = NULL;
    assert_int_equal(na64_straw_calib_new(s.g, &co, &c2, &err), NA64_OK);
    gen_feed_calib(s.g, data, size, c2);
    assert_int_equal(na64_straw_calib_compute(c2, &err), NA64_OK);
    calib_check k2;
    check_against_truth(&s, c2, 0.25, &k2);
    printf("  template only: %d channels, worst %.3f ns, rms %.3f ns, pull rms %.2f; r(t) worst %.1f um\n", k2.nchan,
           k2.worst_t0, k2.rms_t0, k2.pull_rms, k2.worst_rt * 1e4);
    assert_int_equal(k2.nfit, 0);
    assert_int_equal(k2.nnone, 0);
    assert_true(k2.worst_t0 < 1.0);
    assert_true(k2.worst_rt < 50e-4);
    assert_true(k2.pull_rms > 0.7 && k2.pull_rms < 1.4);
    na64_straw_calib_free(c2);
  }

  /* written to a copy of the database with the run as IOV, then read back through the geometry */
  char dbpath[320];
  snprintf(dbpath, sizeof dbpath, "%s/calib.db", tmpdir);
  gen_copy_db(dbpath);
  na64_cond *db = NULL;
  assert_int_equal(na64_cond_open(dbpath, NA64_COND_READWRITE, &db, &err), NA64_OK);
  int nt0 = 0, nrt = 0;
  if (na64_straw_calib_write(cal, db, GEN_RUN, GEN_RUN, "test", &nt0, &nrt, &err) != NA64_OK) fail_msg("%s", err.msg);
  assert_int_equal(nt0, 320);
  assert_int_equal(nrt, 4);
  na64_geom *g2 = NULL, *g3 = NULL;
  assert_int_equal(na64_geom_load(db, GEN_RUN, &g2, &err), NA64_OK);
  assert_int_equal(na64_geom_load(db, GEN_RUN + 1, &g3, &err), NA64_OK);
  for (int i = 0; i < na64_straw_calib_nplanes(cal); ++i) {
    const na64_straw_plane_calib *p = na64_straw_calib_plane(cal, i);
    const na64_geom_plane *q = &g2->planes[p->plane], *q3 = &g3->planes[p->plane];
    assert_string_equal(q->name, p->name);
    for (int w = 0; w < p->nwires; ++w) {
      assert_true(q->t0[w] == p->channels[w].t0);                 /* exact: 17 digits */
      assert_true(q3->t0[w] == s.g->planes[p->plane].t0[w]);      /* the next run keeps the old value */
    }
    assert_int_equal(q->rt_n, p->rt_n);
    for (int j = 0; j < p->rt_n; ++j) assert_true(q->rt_t[j] == p->rt_t[j] && q->rt_r[j] == p->rt_r[j]);
    assert_true(q->sigma_r == p->sigma_r);
  }
  na64_geom_free(g2);
  na64_geom_free(g3);
  na64_cond_close(db);
  na64_straw_calib_free(cal);
  free(data);
  gen_free(&s);
}

/* Low statistics: 4000 events, ~125 hits per 6 mm channel and ~57 per 2 mm channel (of which ~20
 * noise), below the fit threshold of 200 hits: every channel gets the template shift. With a perfect
 * template its error would be 0.9 and 0.7 ns at these counts; the template is built from the same
 * low-statistics channels aligned on their coarse edges, and the errors understate the scatter by
 * ~1.7 x here (docs/straw.md). The r(t) integration still works on the plane's hits. */
static void test_low_statistics(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, NULL, 23);
  void *data = NULL;
  size_t size = 0;
  gen_memory(&s, GEN_RUN, 24, 4000, &data, &size);
  na64_straw_calib *cal = NULL;
  assert_int_equal(na64_straw_calib_new(s.g, NULL, &cal, &err), NA64_OK);
  gen_feed_calib(s.g, data, size, cal);
  assert_int_equal(na64_straw_calib_compute(cal, &err), NA64_OK);
  calib_check k;
  check_against_truth(&s, cal, 0, &k);
  printf("  low statistics: %d channels (%d fit, %d template, %d none), worst %.3f ns, rms %.3f ns, pull rms %.2f; "
         "r(t) worst %.1f um\n",
         k.nchan, k.nfit, k.ntemplate, k.nnone, k.worst_t0, k.rms_t0, k.pull_rms, k.worst_rt * 1e4);
  assert_true(k.ntemplate > 250);
  assert_int_equal(k.nnone, 0);
  assert_true(k.rms_t0 < 1.5);
  assert_true(k.worst_t0 < 5.0);
  assert_true(k.pull_rms < 2.2);
  assert_true(k.worst_rt < 60e-4);
  na64_straw_calib_free(cal);
  free(data);

  /* fewer hits than min_hits: channels left uncalibrated, none invented */
  gen_memory(&s, GEN_RUN, 25, 150, &data, &size);
  assert_int_equal(na64_straw_calib_new(s.g, NULL, &cal, &err), NA64_OK);
  gen_feed_calib(s.g, data, size, cal);
  int st = na64_straw_calib_compute(cal, &err);
  int none = 0, some = 0;
  for (int i = 0; i < na64_straw_calib_nplanes(cal); ++i) {
    const na64_straw_plane_calib *p = na64_straw_calib_plane(cal, i);
    printf("  150 events: %s status %d (%s), %d channels calibrated\n", p->name, p->status, p->message, p->ncalibrated);
    for (int w = 0; w < p->nwires; ++w) {
      if (p->channels[w].method == NA64_STRAW_T0_NONE) {
        none++;
        assert_true(isnan(p->channels[w].t0));
        assert_true(p->channels[w].nhits < 10 || p->status != NA64_OK);
      } else {
        some++;
      }
    }
  }
  printf("  150 events: compute %d (%s): %d channels with t0, %d without\n", st, st ? err.msg : "ok", some, none);
  assert_true(none > 0);
  na64_straw_calib_free(cal);
  free(data);
  gen_free(&s);
}

/* Bad input: no hits at all, hits of unknown planes/wires and non-finite times, a plane with noise
 * only, bad options, writing nothing. Errors with messages, never a crash. */
static void test_bad_input(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_geom *g = gen_load_geom(GEN_DB, GEN_RUN);
  na64_straw_calib *cal = NULL;
  na64_straw_calib_options co;
  na64_straw_calib_options_default(&co);
  co.bin_ns = -1;
  assert_int_equal(na64_straw_calib_new(g, &co, &cal, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "bin"));
  na64_straw_calib_options_default(&co);
  co.t_hi = co.t_lo;
  assert_int_equal(na64_straw_calib_new(g, &co, &cal, &err), NA64_EINVAL);
  assert_int_equal(na64_straw_calib_new(NULL, NULL, &cal, &err), NA64_EINVAL);

  /* empty: compute says why */
  assert_int_equal(na64_straw_calib_new(g, NULL, &cal, &err), NA64_OK);
  assert_int_equal(na64_straw_calib_compute(cal, &err), NA64_ENOTFOUND);
  assert_non_null(strstr(err.msg, "no straw hits"));
  const na64_straw_plane_calib *p = na64_straw_calib_plane(cal, 0);
  assert_non_null(p);
  assert_int_equal(p->status, NA64_ENOTFOUND);
  assert_non_null(strstr(p->message, "empty"));
  assert_null(na64_straw_calib_plane(cal, 99));
  na64_cond *db = NULL;
  char dbpath[320];
  snprintf(dbpath, sizeof dbpath, "%s/bad.db", tmpdir);
  gen_copy_db(dbpath);
  assert_int_equal(na64_cond_open(dbpath, NA64_COND_READWRITE, &db, &err), NA64_OK);
  int nt0 = -1;
  assert_int_equal(na64_straw_calib_write(cal, db, GEN_RUN, GEN_RUN, NULL, &nt0, NULL, &err), NA64_ENOTFOUND);
  assert_int_equal(nt0, 0);

  /* digits that must be rejected, and uniform noise only in one plane (no drift spectrum) */
  int pl = na64_geom_plane_index(g, "ST01X");
  int calo_plane = na64_geom_plane_index(g, "MM03X");
  assert_true(pl >= 0 && calo_plane >= 0);
  na64_straw_digit bad[5] = {{0, NAN, pl, 3}, {0, 10, pl, 9999}, {0, 10, -1, 0}, {0, 10, calo_plane, 1},
                             {0, 1e9, pl, 3}};
  assert_int_equal(na64_straw_calib_add(cal, bad, 5, &err), NA64_OK);
  assert_int_equal(na64_straw_calib_rejected(cal), 5);
  assert_int_equal(na64_straw_calib_entries(cal), 0);
  na64_rng rng;
  na64_rng_init(&rng, 5, 5);
  na64_straw_digit noise[2000];
  for (int i = 0; i < 2000; ++i) {
    noise[i].plane = pl;
    noise[i].wire = (int32_t)(na64_rng_u64(&rng) % 64);
    noise[i].raw = -100 + 400 * na64_rng_uniform(&rng);
    noise[i].time = noise[i].raw;
  }
  assert_int_equal(na64_straw_calib_add(cal, noise, 2000, &err), NA64_OK);
  /* flat noise has no drift spectrum: the plane is refused with the reason, nothing is written */
  int st = na64_straw_calib_compute(cal, &err);
  p = na64_straw_calib_plane(cal, 0);
  printf("  noise-only plane: compute %d: %s\n", st, err.msg);
  assert_int_equal(st, NA64_ENOTFOUND);
  assert_int_equal(p->status, NA64_ENOTFOUND);
  assert_non_null(strstr(p->message, "no drift-time spectrum"));
  assert_int_equal(p->rt_n, 0);
  for (int i = 1; i < na64_straw_calib_nplanes(cal); ++i)
    assert_int_equal(na64_straw_calib_plane(cal, i)->status, NA64_ENOTFOUND);
  assert_int_equal(na64_straw_calib_write(cal, db, GEN_RUN, GEN_RUN, NULL, &nt0, NULL, &err), NA64_ENOTFOUND);
  assert_int_equal(na64_straw_calib_write(cal, db, 5, 4, NULL, NULL, NULL, &err), NA64_ERANGE);
  na64_cond_close(db);
  na64_straw_calib_free(cal);
  na64_geom_free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calibration_recovers_truth),
      cmocka_unit_test(test_low_statistics),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
