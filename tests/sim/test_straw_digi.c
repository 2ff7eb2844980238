/* Straw digitisation model: the drift relation and its inverse, the distance of closest approach,
 * which straws a known track fires and with which times, efficiency and noise rates, the F1
 * quantisation and trigger reference, reproducibility, the DATE round trip, and bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/straw_gen.h"

static void test_drift_model(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_straw_drift m6, m2, m4;
  assert_int_equal(na64_straw_drift_default(0.6, &m6, &err), NA64_OK);
  assert_int_equal(na64_straw_drift_default(0.2, &m2, &err), NA64_OK);
  assert_int_equal(na64_straw_drift_default(0.4, &m4, &err), NA64_OK);
  /* the documented anchors: 110 ns at r = 3 mm, 38 ns at 1 mm, interpolated between */
  assert_true(fabs(m6.radius - 0.3) < 1e-15 && fabs(m6.t_max - 110) < 1e-12);
  assert_true(fabs(m2.radius - 0.1) < 1e-15 && fabs(m2.t_max - 38) < 1e-12);
  assert_true(fabs(m4.t_max - 74) < 1e-12 && fabs(m4.alpha - 0.45) < 1e-12);
  assert_true(fabs(na64_straw_drift_time(&m6, 0.3) - 110) < 1e-12);
  assert_true(na64_straw_drift_time(&m6, 0) == 0);
  assert_true(fabs(na64_straw_drift_time(&m6, 1.0) - 110) < 1e-12); /* clamped to R */
  /* t(r) = T (alpha x + (1 - alpha) x^2) at x = 1/2 */
  assert_true(fabs(na64_straw_drift_time(&m6, 0.15) - 110 * (0.35 * 0.5 + 0.65 * 0.25)) < 1e-12);
  /* inverse and derivative */
  for (double r = 0; r <= 0.3; r += 0.01) {
    double t = na64_straw_drift_time(&m6, r);
    assert_true(fabs(na64_straw_drift_radius(&m6, t) - r) < 1e-12);
    double h = 1e-6, v = na64_straw_drift_velocity(&m6, r);
    if (r > h && r < 0.3 - h) {
      double vn = 2 * h / (na64_straw_drift_time(&m6, r + h) - na64_straw_drift_time(&m6, r - h));
      assert_true(fabs(v - vn) < 1e-6 * v);
    }
  }
  assert_true(na64_straw_drift_radius(&m6, -3) == 0 && na64_straw_drift_radius(&m6, 1e3) == 0.3);
  assert_true(isnan(na64_straw_drift_radius(&m6, NAN)));
  /* table model: the same relation tabulated, linear interpolation both ways */
  double t[51], r[51];
  for (int k = 0; k <= 50; ++k) {
    r[k] = 0.1 * k / 50;
    t[k] = na64_straw_drift_time(&m2, r[k]);
  }
  na64_straw_drift mt;
  assert_int_equal(na64_straw_drift_from_table(t, r, 51, &mt, &err), NA64_OK);
  assert_true(fabs(mt.t_max - 38) < 1e-12 && fabs(mt.radius - 0.1) < 1e-15);
  for (double x = 0; x <= 38; x += 0.37)
    assert_true(fabs(na64_straw_drift_radius(&mt, x) - na64_straw_drift_radius(&m2, x)) < 2e-5);
  assert_true(fabs(na64_straw_drift_time(&mt, r[20]) - t[20]) < 1e-12);
  assert_true(fabs(na64_straw_drift_velocity(&mt, 0.05) - na64_straw_drift_velocity(&m2, 0.05)) < 0.02 * na64_straw_drift_velocity(&m2, 0.05));
  /* bad models */
  assert_int_equal(na64_straw_drift_default(-1, &m6, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "-1"));
  assert_int_equal(na64_straw_drift_default(NAN, &m6, &err), NA64_EINVAL);
  t[10] = t[9];
  assert_int_equal(na64_straw_drift_from_table(t, r, 51, &mt, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "t[10]"));
  assert_int_equal(na64_straw_drift_from_table(t, r, 1, &mt, &err), NA64_EINVAL);
}

static void test_line_distance(void **state)
{
  (void)state;
  /* a track along z through (0.2, 0, 0) and a wire along y through the origin: DCA 0.2 */
  double p[3] = {0.2, 0, -5}, a[3] = {0, 0, 2}, q[3] = {0, 3, 0}, b[3] = {0, 1, 0}, s, t;
  assert_true(fabs(na64_straw_line_distance(p, a, q, b, &s, &t) - 0.2) < 1e-15);
  assert_true(fabs(s - 2.5) < 1e-15 && fabs(t + 3) < 1e-15); /* at p + 2.5 a = (0.2, 0, 0), q - 3 b */
  /* skew lines: x axis and the line (0, t, 1): distance 1 */
  double p2[3] = {5, 0, 0}, a2[3] = {1, 0, 0}, q2[3] = {0, 0, 1}, b2[3] = {0, 1, 0};
  assert_true(fabs(na64_straw_line_distance(p2, a2, q2, b2, NULL, NULL) - 1) < 1e-15);
  /* parallel lines 0.7 apart */
  double p3[3] = {0, 0.7, 0}, a3[3] = {0, 0, 1}, q3[3] = {0, 0, 4}, b3[3] = {0, 0, 1};
  assert_true(fabs(na64_straw_line_distance(p3, a3, q3, b3, NULL, NULL) - 0.7) < 1e-15);
  double z[3] = {0, 0, 0};
  assert_true(isnan(na64_straw_line_distance(p3, z, q3, b3, NULL, NULL)));
}

/* A track perpendicular to the planes at a known position, no smearing, full efficiency, no noise:
 * exactly the straws within their radius fire, with DCA |u - u_wire| and t = t0 + t(DCA). */
static void test_known_track(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  o.sigma_t = 1e-9;
  o.efficiency = 1;
  o.noise_per_channel = 0;
  o.trigger_jitter = 0;
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, &o, 5);
  int x1 = na64_geom_plane_index(s.g, "ST01X");
  const na64_geom_plane *p = &s.g->planes[x1];
  na64_straw_track t;
  memset(&t, 0, sizeof t);
  t.point[0] = p->centre[0] + 1.234;
  t.point[1] = p->centre[1] - 2.5;
  t.point[2] = p->centre[2] - 10;
  t.dir[2] = 1;
  na64_rng rng;
  na64_rng_init(&rng, 1, 1);
  na64_straw_digi_event ev;
  na64_straw_digi_event_init(&ev);
  assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &ev, &err), NA64_OK);
  int nx = 0;
  for (int w = 0; w < p->nwires; ++w) {
    double d = fabs(1.234 - p->wires[w].u);
    const na64_straw_truth *tr = NULL;
    for (size_t k = 0; k < ev.ntruth; ++k)
      if (ev.truth[k].plane == x1 && ev.truth[k].wire == w) tr = &ev.truth[k];
    if (d < 0.3) {
      assert_non_null(tr);
      assert_true(fabs(tr->doca - d) < 1e-12);
      assert_true(fabs(tr->u_track - (1.234 - p->wires[w].u)) < 1e-12);
      assert_int_equal(tr->track, 0);
      double texp = na64_straw_digitizer_t0(s.digi, x1, w) + na64_straw_drift_time(na64_straw_digitizer_drift(s.digi, x1), d);
      assert_true(fabs(tr->time - texp) < 1e-6);
      assert_true(tr->hit >= 0);
      const na64_daq_f1_hit *h = &ev.hits[tr->hit];
      uint32_t src, port, chip, chan;
      na64_geom_key_unpack(p->daq_key[w], &src, &port, &chip, &chan);
      assert_true(h->source_id == src && h->port == port && h->chip == chip && h->channel == chan);
      assert_true(h->trigger_units == ev.trigger_units);
      assert_int_equal((int16_t)(uint16_t)(h->time_units - h->trigger_units), h->rel_units);
      assert_true(fabs(h->time_ns - texp) < o.bin_ns);
      nx++;
    } else {
      assert_null(tr);
    }
  }
  assert_int_equal(nx, 2); /* close-packed double layer: one straw per layer */
  /* every straw plane was crossed: two straws each where the track is inside the plane's coverage */
  size_t planes = 0;
  for (int i = 0; i < s.g->nplanes; ++i)
    if (s.g->planes[i].kind == NA64_DET_STRAW) planes++;
  assert_true(ev.ntruth >= 2 * 2 && ev.ntruth <= 2 * planes);
  /* a track outside every plane fires nothing; a track along a wire's direction is handled */
  t.point[0] = p->centre[0] + 50;
  assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &ev, &err), NA64_OK);
  assert_int_equal(ev.ntruth, 0);
  assert_int_equal(ev.nhits, 0);
  t.point[0] = p->centre[0];
  t.point[2] = p->wires[0].pos[2];
  t.dir[0] = 0;
  t.dir[1] = 1;
  t.dir[2] = 0;
  assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &ev, &err), NA64_OK);
  /* bad tracks */
  t.dir[1] = 0;
  assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &ev, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "track 0"));
  t.dir[2] = 1;
  t.point[1] = NAN;
  assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &ev, &err), NA64_EINVAL);
  na64_straw_digi_event_release(&ev);
  gen_free(&s);
}

/* The digitiser's closest approach and drift time (per-plane linear forms and an r(t) segment index
 * since branch visdigi) against the reference functions na64_straw_line_distance and
 * na64_straw_drift_time, for inclined tracks, with the r(t) tables of the conditions database and
 * after na64_straw_digitizer_set_drift replaces one plane's table (its index must follow). */
static void test_fast_forms_match_reference(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  o.noise_per_channel = 0;
  o.rt_from_conditions = 1;
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, &o, 5);
  int x1 = na64_geom_plane_index(s.g, "ST01X");
  const na64_geom_plane *p1 = &s.g->planes[x1];
  /* a coarser, uneven table on ST01X: points at r = R (k/6)^1.5, t = 90 (k/6)^1.2 ns */
  double tt[7], rr[7];
  for (int k = 0; k <= 6; ++k) {
    rr[k] = 0.5 * p1->diameter * pow(k / 6.0, 1.5);
    tt[k] = 90.0 * pow(k / 6.0, 1.2);
  }
  na64_straw_drift m;
  assert_int_equal(na64_straw_drift_from_table(tt, rr, 7, &m, &err), NA64_OK);
  na64_rng rng;
  na64_rng_init(&rng, 7, 3);
  na64_straw_digi_event ev;
  na64_straw_digi_event_init(&ev);
  size_t checked = 0;
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) assert_int_equal(na64_straw_digitizer_set_drift(s.digi, x1, &m, 2.0, &err), NA64_OK);
    for (int n = 0; n < 200; ++n) {
      na64_straw_track t;
      memset(&t, 0, sizeof t);
      t.point[0] = p1->centre[0] + 20.0 * (na64_rng_uniform(&rng) - 0.5);
      t.point[1] = p1->centre[1] + 20.0 * (na64_rng_uniform(&rng) - 0.5);
      t.point[2] = p1->centre[2] - 30.0;
      t.dir[0] = 0.05 * (na64_rng_uniform(&rng) - 0.5);
      t.dir[1] = 0.05 * (na64_rng_uniform(&rng) - 0.5);
      t.dir[2] = 1.0;
      assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &ev, &err), NA64_OK);
      double dn = sqrt(t.dir[0] * t.dir[0] + t.dir[1] * t.dir[1] + 1.0);
      double D[3] = {t.dir[0] / dn, t.dir[1] / dn, 1.0 / dn};
      for (size_t k = 0; k < ev.ntruth; ++k) {
        const na64_straw_truth *tr = &ev.truth[k];
        if (tr->track != 0) continue;
        const na64_geom_plane *p = &s.g->planes[tr->plane];
        double st, sw;
        double dref = na64_straw_line_distance(t.point, D, p->wires[tr->wire].pos, p->w_dir, &st, &sw);
        assert_true(fabs(tr->doca - dref) < 1e-12);
        double c[3];
        for (int a = 0; a < 3; ++a) c[a] = t.point[a] + st * D[a] - p->wires[tr->wire].pos[a];
        assert_true(fabs(tr->u_track - (c[0] * p->u_dir[0] + c[1] * p->u_dir[1] + c[2] * p->u_dir[2])) < 1e-12);
        const na64_straw_drift *dm = na64_straw_digitizer_drift(s.digi, tr->plane);
        assert_true(fabs(tr->drift_time - na64_straw_drift_time(dm, tr->doca)) < 1e-9);
        if (pass == 1 && tr->plane == x1) /* the new table, not the database's */
          assert_true(fabs(tr->drift_time - na64_straw_drift_time(&m, tr->doca)) < 1e-9);
        checked++;
      }
    }
  }
  assert_true(checked > 1000);
  na64_straw_digi_event_release(&ev);
  gen_free(&s);
}

/* Statistics: efficiency, noise rate and its time distribution, quantisation spread, trigger
 * jitter, and the readout window. Tolerances are 5 standard deviations of the sample. */
static void test_rates(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  o.efficiency = 0.9;
  o.noise_per_channel = 0.01;
  o.sigma_t = 1e-9;
  o.trigger_jitter = 0;
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, &o, 7);
  na64_straw_digi_event ev;
  na64_straw_digi_event_init(&ev);
  double crossed = 0, fired = 0, noise = 0, tsum = 0, qs = 0, q2 = 0, nq = 0;
  int nchan = 0;
  for (int i = 0; i < s.g->nplanes; ++i)
    if (s.g->planes[i].kind == NA64_DET_STRAW) nchan += s.g->planes[i].nwires;
  const int N = 4000;
  for (int e = 0; e < N; ++e) {
    na64_rng rng;
    na64_rng_init(&rng, 7, (uint64_t)e);
    na64_straw_track t;
    gen_track(&s, &rng, &t);
    assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &ev, &err), NA64_OK);
    for (size_t k = 0; k < ev.ntruth; ++k) {
      const na64_straw_truth *tr = &ev.truth[k];
      if (tr->track < 0) {
        noise++;
        tsum += tr->time;
        continue;
      }
      crossed++;
      if (tr->hit >= 0) {
        fired++;
        double dq = ev.hits[tr->hit].time_ns - tr->time;
        qs += dq;
        q2 += dq * dq;
        nq++;
      }
    }
  }
  double eff = fired / crossed, se = sqrt(0.9 * 0.1 / crossed);
  double rate = noise / ((double)N * nchan), sr = sqrt(0.01 / ((double)N * nchan));
  double bin = o.bin_ns, qm = qs / nq, qsd = sqrt(q2 / nq - qm * qm);
  printf("  efficiency %.4f (%.0f crossings), noise %.5f per channel, mean noise time %.1f ns, quantisation mean "
         "%.4f sd %.4f ns (bin/sqrt(6) = %.4f)\n",
         eff, crossed, rate, tsum / noise, qm, qsd, bin / sqrt(6.0));
  assert_true(fabs(eff - 0.9) < 5 * se);
  assert_true(fabs(rate - 0.01) < 5 * sr);
  /* uniform in [-100, 300]: mean 100, sd 400/sqrt(12) */
  assert_true(fabs(tsum / noise - 100) < 5 * 400 / sqrt(12.0) / sqrt(noise));
  /* quantisation with a random counter phase: unbiased, sd bin / sqrt(6) (include/na64/sim.h) */
  assert_true(fabs(qm) < 5 * bin / sqrt(6.0) / sqrt(nq));
  assert_true(fabs(qsd - bin / sqrt(6.0)) < 0.03 * bin);

  /* per-straw settings and the trigger jitter */
  int x1 = na64_geom_plane_index(s.g, "ST01X");
  assert_int_equal(na64_straw_digitizer_set_efficiency(s.digi, x1, -1, 0, &err), NA64_OK);
  assert_int_equal(na64_straw_digitizer_set_efficiency(s.digi, x1, 3, 1.5, &err), NA64_EINVAL);
  assert_int_equal(na64_straw_digitizer_set_efficiency(s.digi, x1, 64, 1, &err), NA64_ERANGE);
  assert_int_equal(na64_straw_digitizer_set_t0(s.digi, na64_geom_plane_index(s.g, "MM03X"), 0, 1, &err), NA64_ERANGE);
  assert_int_equal(na64_straw_digitizer_set_t0(s.digi, x1, 0, INFINITY, &err), NA64_EINVAL);
  for (int e = 0; e < 200; ++e) {
    na64_rng rng;
    na64_rng_init(&rng, 8, (uint64_t)e);
    na64_straw_track t;
    gen_track(&s, &rng, &t);
    assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &ev, &err), NA64_OK);
    for (size_t k = 0; k < ev.ntruth; ++k)
      if (ev.truth[k].plane == x1 && ev.truth[k].track == 0) assert_int_equal(ev.truth[k].hit, -1);
  }
  /* t0 beyond the readout window: crossed but not read out */
  assert_int_equal(na64_straw_digitizer_set_efficiency(s.digi, x1, -1, 1, &err), NA64_OK);
  assert_int_equal(na64_straw_digitizer_set_t0(s.digi, x1, -1, 500, &err), NA64_OK);
  na64_rng rng;
  na64_rng_init(&rng, 9, 9);
  na64_straw_track t;
  gen_track(&s, &rng, &t);
  assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &ev, &err), NA64_OK);
  for (size_t k = 0; k < ev.ntruth; ++k)
    if (ev.truth[k].plane == x1 && ev.truth[k].track == 0) assert_int_equal(ev.truth[k].hit, -1);
  na64_straw_digi_event_release(&ev);
  gen_free(&s);
}

/* The same (seed, stream) gives the same words; another stream does not; the DATE round trip
 * decodes to the same F1 hits, one block per source id. */
static void test_reproducible_and_date(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, NULL, 9);
  void *a = NULL, *b = NULL, *c = NULL;
  size_t na = 0, nb = 0, nc = 0;
  gen_memory(&s, GEN_RUN, 9, 500, &a, &na);
  gen_memory(&s, GEN_RUN, 9, 500, &b, &nb);
  gen_memory(&s, GEN_RUN, 10, 500, &c, &nc);
  assert_true(na == nb && memcmp(a, b, na) == 0);
  assert_true(nc != na || memcmp(a, c, na) != 0);
  /* the F1 hits read back equal the digitiser's, chip by chip (the encoder groups by port/chip) */
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(a, na, "a", NULL, &rd, &err), NA64_OK);
  na64_daq_event ev;
  na64_daq_f1_hit_list l;
  na64_daq_f1_hit_list_init(&l);
  na64_straw_digi_event d;
  na64_straw_digi_event_init(&d);
  int nphys = 0;
  while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    nphys++;
    l.n = 0;
    assert_int_equal(na64_daq_f1_decode_event(&ev, &l, NULL, &err), NA64_OK);
    na64_rng rng;
    na64_rng_init(&rng, 9, ev.header.id[0]);
    na64_straw_track t;
    gen_track(&s, &rng, &t);
    assert_int_equal(na64_straw_digitize(s.digi, &t, 1, &rng, &d, &err), NA64_OK);
    assert_int_equal(l.n, d.nhits);
    for (size_t i = 0; i < d.nhits; ++i) {
      int found = 0;
      for (size_t j = 0; j < l.n && !found; ++j)
        found = l.hits[j].source_id == d.hits[i].source_id && l.hits[j].port == d.hits[i].port &&
                l.hits[j].chip == d.hits[i].chip && l.hits[j].channel == d.hits[i].channel &&
                l.hits[j].time_units == d.hits[i].time_units && l.hits[j].trigger_units == d.hits[i].trigger_units &&
                l.hits[j].rel_units == d.hits[i].rel_units && l.hits[j].flags == 0;
      assert_true(found);
    }
  }
  assert_int_equal(nphys, 500);
  na64_daq_reader_close(rd);
  na64_daq_f1_hit_list_release(&l);
  na64_straw_digi_event_release(&d);
  free(a);
  free(b);
  free(c);

  /* options and construction errors */
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  na64_straw_digitizer *dz = NULL;
  o.efficiency = 2;
  assert_int_equal(na64_straw_digitizer_new(s.g, &o, &dz, &err), NA64_EINVAL);
  na64_straw_digi_options_default(&o);
  o.window_hi = o.window_lo;
  assert_int_equal(na64_straw_digitizer_new(s.g, &o, &dz, &err), NA64_EINVAL);
  na64_straw_digi_options_default(&o);
  o.window_hi = 1e5; /* beyond +-32767 TDC bins */
  assert_int_equal(na64_straw_digitizer_new(s.g, &o, &dz, &err), NA64_ERANGE);
  assert_null(dz);
  /* the conditions r(t) as the drift model */
  na64_straw_digi_options_default(&o);
  o.rt_from_conditions = 1;
  assert_int_equal(na64_straw_digitizer_new(s.g, &o, &dz, &err), NA64_OK);
  int x1 = na64_geom_plane_index(s.g, "ST01X");
  const na64_straw_drift *m = na64_straw_digitizer_drift(dz, x1);
  assert_int_equal(m->n, s.g->planes[x1].rt_n);
  assert_true(fabs(m->t_max - 90) < 1e-12); /* the nominal table of the default database */
  /* sigma_t = sigma_r / <dr/dt>_r of the table (the convention of docs/straw.md) */
  const na64_geom_plane *px = &s.g->planes[x1];
  double vbar = 0;
  for (int k = 1; k < px->rt_n; ++k)
    vbar += pow(px->rt_r[k] - px->rt_r[k - 1], 2) / (px->rt_t[k] - px->rt_t[k - 1]);
  vbar /= px->rt_r[px->rt_n - 1];
  assert_true(fabs(na64_straw_digitizer_sigma_t(dz, x1) - px->sigma_r / vbar) < 1e-12);
  na64_straw_drift m6;
  assert_int_equal(na64_straw_drift_default(0.2, &m6, &err), NA64_OK);
  assert_int_equal(na64_straw_digitizer_set_drift(dz, x1, &m6, 1, &err), NA64_EINVAL); /* 2 mm model, 6 mm plane */
  assert_int_equal(na64_straw_drift_default(0.6, &m6, &err), NA64_OK);
  assert_int_equal(na64_straw_digitizer_set_drift(dz, x1, &m6, 1.5, &err), NA64_OK);
  assert_true(na64_straw_digitizer_sigma_t(dz, x1) == 1.5);
  assert_null(na64_straw_digitizer_drift(dz, na64_geom_plane_index(s.g, "MM03X")));
  na64_straw_digitizer_free(dz);
  gen_free(&s);
}

/* keyed_channels packs (plane, wire) in 32 bits as plane << 16 | wire: a plane of more than 65536
 * wires is refused at set-up, naming the plane, instead of being mispacked. */
static void test_too_many_wires(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_straw_digi_options o;
  na64_straw_digi_options_default(&o);
  straw_gen s;
  gen_init(&s, GEN_DB, GEN_RUN, &o, 5);
  int x1 = na64_geom_plane_index(s.g, "ST01X");
  assert_true(x1 >= 0);
  na64_geom g2 = *s.g;
  g2.planes = malloc((size_t)g2.nplanes * sizeof *g2.planes);
  assert_non_null(g2.planes);
  memcpy(g2.planes, s.g->planes, (size_t)g2.nplanes * sizeof *g2.planes);
  g2.planes[x1].nwires = 65537;
  na64_straw_digitizer *d = NULL;
  assert_int_equal(na64_straw_digitizer_new(&g2, &o, &d, &err), NA64_ERANGE);
  assert_null(d);
  assert_non_null(strstr(err.msg, "ST01X"));
  assert_non_null(strstr(err.msg, "65537"));
  free(g2.planes);
  gen_free(&s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_drift_model),     cmocka_unit_test(test_line_distance),
      cmocka_unit_test(test_known_track),     cmocka_unit_test(test_rates),
      cmocka_unit_test(test_reproducible_and_date), cmocka_unit_test(test_fast_forms_match_reference),
      cmocka_unit_test(test_too_many_wires),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
