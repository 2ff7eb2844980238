/* Pulls of the momentum fit with the strip planes' resolution and material from the conditions
 * database (task mmres, issues 11 and 12; table strip_resolution, docs/reco.md §3), in both setups:
 * beam electrons of the invisible run 2000 (100 GeV; its downstream planes sit on the 100 GeV
 * trajectory, which a 150 GeV electron misses by ~5 cm) and of the visible cards 2017 (100 GeV) and
 * 2018 (150 GeV) simulated, digitised to DATE, the largest cluster of every Micromegas/GEM plane
 * decoded (tests/support/strip_residual.h), and each side of the dipoles fitted by na64_track_fit
 * (the reconstruction's fit) with the plane's sigma and x_x0 of the geometry (straws left out: this
 * tests the strip planes' numbers). Momentum from the deflection, p = 0.299792458 sum(B L) / delta
 * (track.c), its error from the two slopes' variances, sigma_p = p^2 sqrt(C_up + C_down) /
 * (0.299792458 sum(B L)); pull = (p - p_true) / sigma_p, p_true the simulated beam momentum.
 * Expected: pull mean 0 and rms 1, sum chi2 / sum ndf 1, if the database's resolution is the simulated
 * one (tests/sim/test_strip_resolution checks that against the model) and its material the
 * simulated scattering. Tolerances: rms within 0.12 of 1 (statistical error 1/sqrt(2N) = 0.03-0.04
 * for N = 350-500 fitted events, plus the delta electrons' tails, kurtosis ~5: 0.05), the mean
 * within 4/sqrt(N), chi2/ndf within 0.12 of 1 (its error sqrt(2 / sum ndf) < 0.04 plus the tails).
 * The same events fitted with the former 0.3 x pitch (75 and 120 um) give pulls of rms < 0.6: the
 * test tells the two apart. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/cond.h"
#include "na64/daq.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"
#include "support/inv_chain.h"
#include "support/vis_chain.h"
#include "support/strip_residual.h"

#define C_KICK 0.299792458

typedef struct pulls {
  int n;
  double s, s2, chi2, ndf, old2, rel; /* rel: sum of sigma_p/p; pull sums; chi2 and ndf sums; squared pulls with 0.3 x pitch */
} pulls;

/* Both sides of one event from its raw data; adds its pull to *pu. scale_pitch > 0: sigma = that x pitch. */
static int fit_event(const na64_geom *g, const na64_daq_event *ev, double p_true, double z_in, double z_out, double z_stop,
                     double scale_pitch, double *pull, double *chi2, double *ndf, double *rel)
{
  na64_track_meas m[2][32];
  int n[2] = {0, 0};
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *pl = &g->planes[i];
    if (pl->kind != NA64_DET_MICROMEGAS && pl->kind != NA64_DET_GEM) continue;
    double z = pl->centre[2];
    int side = z < z_in ? 0 : z > z_out && z < z_stop ? 1 : -1;
    if (side < 0) continue;
    assert_true(pl->has_response);
    double u = plane_cluster_u(g, ev, i);
    if (!isfinite(u) || n[side] == 32) continue;
    double cs = pl->u_dir[0], sn = pl->u_dir[1];
    double sig = scale_pitch > 0.0 ? scale_pitch * pl->pitch : pl->sigma_u;
    m[side][n[side]++] = (na64_track_meas){z, cs, sn, u + pl->centre[0] * cs + pl->centre[1] * sn, -1.0, sig, pl->x_x0, i, 0, 0};
  }
  na64_track_line l[2];
  for (int s = 0; s < 2; ++s)
    if (na64_track_fit(m[s], n[s], s ? z_out : z_in, p_true, 0.0, &l[s], NULL) != NA64_OK) return 0;
  double bl = na64_geom_field_integral(g), delta = l[1].p[1] - l[0].p[1];
  double p = C_KICK * bl / delta, sp = p * p * sqrt(l[0].cov[1][1] + l[1].cov[1][1]) / (C_KICK * bl);
  *pull = (p - p_true) / sp, *rel = sp / p;
  *chi2 = l[0].chi2 + l[1].chi2, *ndf = l[0].ndf + l[1].ndf;
  return 1;
}

static void add_event(const na64_geom *g, const na64_daq_event *ev, double p_true, pulls *pu)
{
  double z_in = HUGE_VAL, z_out = -HUGE_VAL, z_stop = HUGE_VAL;
  for (int i = 0; i < g->nmagnets; ++i) {
    z_in = fmin(z_in, g->magnets[i].centre[2] - 0.5 * g->magnets[i].length);
    z_out = fmax(z_out, g->magnets[i].centre[2] + 0.5 * g->magnets[i].length);
  }
  for (int i = 0; i < g->ndetectors; ++i) /* the visible WCAL ends the beam electron (track.c) */
    if (g->detectors[i].kind == NA64_DET_WCAL) z_stop = fmin(z_stop, g->detectors[i].centre[2] - 0.5 * g->detectors[i].size[2]);
  double pull, c2, ndf, rel, pull_old, c2_old, ndf_old, rel_old;
  if (!fit_event(g, ev, p_true, z_in, z_out, z_stop, 0.0, &pull, &c2, &ndf, &rel)) return;
  assert_true(fit_event(g, ev, p_true, z_in, z_out, z_stop, 0.3, &pull_old, &c2_old, &ndf_old, &rel_old));
  pu->n++;
  pu->s += pull, pu->s2 += pull * pull, pu->chi2 += c2, pu->ndf += ndf, pu->rel += rel, pu->old2 += pull_old * pull_old;
}

static void check(const char *what, const pulls *pu, int nev)
{
  double mean = pu->s / pu->n, rms = sqrt(pu->s2 / pu->n - mean * mean), chi2 = pu->chi2 / pu->ndf, old = sqrt(pu->old2 / pu->n);
  print_message("%s: %d/%d fitted, pull mean %+.3f rms %.3f, chi2/ndf %.3f; with 0.3 x pitch: pull rms %.3f\n", what, pu->n, nev, mean,
                rms, chi2, old);
  assert_true(pu->n > nev / 2);
  assert_true(fabs(rms - 1.0) < 0.12);
  assert_true(fabs(mean) < 4.0 / sqrt(pu->n));
  assert_true(fabs(chi2 - 1.0) < 0.12);
  assert_true(old < 0.6);
}

/* The invisible chain at beam energy e (GeV); also the reconstruction's own dp/p (na64_reco_process,
 * straws included) against the strip-only fit's mean sigma_p/p, printed for docs/validation.md. */
static void run_invisible(double e)
{
  enum { N = 500 };
  na64_err err = {0, ""};
  char card[1024];
  snprintf(card, sizeof card,
           "setup: {run: 2000, conditions: \"%s\"}\nbeam:\n  energy: %g\n  admixture: {pi-: 0, K-: 0, p: 0, mu-: 0}\n"
           "  tail: {fraction: 0}\n",
           DB, e);
  na64_sim_config c;
  na64_sim_config_default(&c);
  if (na64_sim_config_parse(card, strlen(card), "test.yaml", &c, &err)) fail_msg("card: %s", err.msg);
  na64_sim *s = NULL;
  if (na64_sim_new(&c, &s, &err)) fail_msg("%s", err.msg);
  na64_sim_event *truth = calloc(N, sizeof *truth);
  double *dp = calloc(N, sizeof *dp);
  assert_true(truth && dp);
  void *data = NULL;
  size_t size = 0;
  inv_chain_raw(s, N, 91, truth, &data, &size);
  na64_geom *g = NULL;
  na64_reco *r = NULL;
  na64_daq_reader *rd = NULL;
  inv_chain_reco(DB, 2000, data, size, &g, &r, &rd);
  na64_daq_event ev;
  pulls pu = {0};
  int k = 0, nf = 0;
  while (k < N && na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    double pt = truth[k++].truth.energy;
    add_event(g, &ev, pt, &pu);
    na64_reco_event re;
    assert_int_equal(na64_reco_process(r, &ev, &re, &err), NA64_OK);
    if (isfinite(re.momentum)) dp[nf++] = re.momentum / pt - 1.0;
  }
  assert_int_equal(k, N);
  char what[64];
  snprintf(what, sizeof what, "invisible run 2000, %g GeV", e);
  check(what, &pu, N);
  print_message("%s: reconstruction dp/p half the central 68%% %.3e (%d fitted); strip-only fit mean sigma_p/p %.3e\n", what,
                central68_of(dp, nf), nf, pu.rel / pu.n);
  na64_daq_reader_close(rd);
  na64_reco_free(r);
  free(data);
  free(truth);
  free(dp);
  na64_geom_free(g);
  na64_sim_free(s);
}

static void test_pulls_invisible_100(void **state)
{
  (void)state;
  run_invisible(100.0);
}

static void run_visible(const char *card)
{
  enum { N = 500 };
  na64_vis_config c;
  vis_load_card(card, &c);
  na64_vis_sim *s = NULL;
  na64_vis_digitizer *d = NULL;
  na64_vis_reco *r = NULL;
  vis_chain_open(&c, &s, &d, &r);
  const na64_geom *g = na64_vis_sim_geom(s);
  na64_vis_sim_event *truth = calloc(N, sizeof *truth);
  assert_non_null(truth);
  void *buf = NULL;
  na64_daq_reader *rd = NULL;
  vis_beam_events(s, d, 57, N, truth, &buf, &rd);
  na64_daq_event ev;
  pulls pu = {0};
  int k = 0;
  while (k < N && na64_daq_reader_next_event(rd, &ev, NULL) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    add_event(g, &ev, truth[k++].beam_energy, &pu);
  }
  assert_int_equal(k, N);
  check(card, &pu, N);
  print_message("%s: strip-only fit mean sigma_p/p %.3e\n", card, pu.rel / pu.n);
  na64_daq_reader_close(rd);
  free(buf);
  free(truth);
  vis_chain_close(s, d, r);
}

static void test_pulls_visible_2017(void **state)
{
  (void)state;
  run_visible("visible_2017.yaml");
}

static void test_pulls_visible_2018(void **state)
{
  (void)state;
  run_visible("visible_2018.yaml");
}

/* The table itself (schema 7): a record inserted later for one plane and this run wins (IOV rule of
 * docs/conditions.md) and reaches the geometry the fit reads; a record for a straw plane, or a
 * negative sigma, is refused naming the table. */
static void test_strip_resolution_table(void **state)
{
  (void)state;
  char db[320];
  snprintf(db, sizeof db, "%s/sres.db", na64_test_tmpdir);
  na64_test_copy_file(DB, db);
  na64_cond *c = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(db, NA64_COND_READWRITE, &c, &err)) fail_msg("%s", err.msg);
  int v = 0;
  assert_int_equal(na64_cond_user_version(c, &v, &err), NA64_OK);
  assert_true(v >= 7);
  const char *sql = "INSERT INTO strip_resolution (first_run, last_run, setup, plane, sigma, x_x0, comment) VALUES "
                    "(2000, 2000, NULL, 'MM01X', 0.01, 0.002, 'test');\n";
  if (na64_cond_import(c, sql, strlen(sql), "sres.sql", &err)) fail_msg("%s", err.msg);
  const char *neg = "INSERT INTO strip_resolution (first_run, last_run, setup, plane, sigma, x_x0) VALUES "
                    "(2000, 2000, NULL, 'MM02X', -0.01, 0.002);\n";
  assert_int_not_equal(na64_cond_import(c, neg, strlen(neg), "neg.sql", &err), 0);
  if (!strstr(err.msg, "sigma")) fail_msg("negative sigma: %s", err.msg);
  na64_cond_close(c);
  na64_geom *g = NULL;
  if (na64_geom_load_path(db, 2000, &g, &err)) fail_msg("%s", err.msg);
  const na64_geom_plane *p = &g->planes[plane_index_of(g, "MM01X")], *q = &g->planes[plane_index_of(g, "MM02X")];
  assert_true(p->has_response && q->has_response);
  assert_true(p->sigma_u == 0.01 && p->x_x0 == 0.002);   /* the later record, this run */
  assert_true(q->sigma_u == 0.00275 && q->x_x0 == 0.003); /* sql/setups/45_strip_resolution.sql */
  na64_geom_free(g);
  if (na64_geom_load_path(db, 2001, &g, &err)) fail_msg("%s", err.msg); /* the next run: the default row */
  assert_true(g->planes[plane_index_of(g, "MM01X")].sigma_u == 0.00275);
  na64_geom_free(g);
  /* a straw plane has no strip resolution (its r(t) record holds sigma_r): refused on load */
  if (na64_cond_open(db, NA64_COND_READWRITE, &c, &err)) fail_msg("%s", err.msg);
  const char *straw = "INSERT INTO strip_resolution (first_run, last_run, setup, plane, sigma, x_x0) VALUES "
                      "(2000, 2000, 'invisible_2016_2018', 'ST01X', 0.01, 0.001);\n";
  int st = na64_cond_import(c, straw, strlen(straw), "straw.sql", &err);
  na64_cond_close(c);
  if (st == NA64_OK) st = na64_geom_load_path(db, 2000, &g, &err);
  assert_int_not_equal(st, NA64_OK);
  if (!strstr(err.msg, "strip_resolution") || !strstr(err.msg, "ST01X")) fail_msg("straw plane: %s", err.msg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pulls_invisible_100),
      cmocka_unit_test(test_pulls_visible_2017),
      cmocka_unit_test(test_pulls_visible_2018),
      cmocka_unit_test(test_strip_resolution_table),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
