/* The Micromegas/GEM strip response of the simulation (task mmres, issues 11 and 12; docs/simulation.md
 * "Strip response (mmres)"): the residuals of the reconstructed cluster centroids (DATE -> APV decoding
 * -> na64_strip_cluster_find, the largest cluster) about the true beam line, against the resolution
 * the model's parameters give, computed here by a Monte Carlo of the model written independently of
 * src/sim/fast_digi.c (libm erf for the strip charges instead of its table, its own random numbers,
 * the delta electron's range from the Kanaya-Okayama formula instead of the table):
 *   - the track crosses at a uniform position within a strip, at normal incidence (beam slopes
 *     ~1e-4: the inclination's (L t)^2/12 is < 1e-6 strip^2);
 *   - charge q = q_mpv (1 + 0.15 lambda), lambda = -ln z^2, z ~ N(0, 1) with |z| >= 3.06e-4 (the
 *     Moyal law, the simulation's draw from the inner quantiles; q <= 3.4 q_mpv), q_mpv = 400 counts;
 *   - the centroid offset of the primary electrons: N(0, D_T^2 (L/2 + L_t) (1 + 1/(1 + theta)) / (n_T L));
 *   - the delta electron: (q - q_mpv)/q R(T)/2 cos(phi), T = (q/q_mpv - 1) E_mpv, R of Kanaya-Okayama;
 *   - the cloud: a Gaussian of variance D_T^2 (L/2 + L_t) + s_R^2 over the strips within 4 of its
 *     standard deviations; a strip's peak sample q f + 5 N(0, 1) counts, rounded, kept above 15
 *     counts (3 sigma, before rounding); the largest run of adjacent strips, its charge-weighted centre.
 * Parameters (the simulation's, docs/simulation.md): Ar/CO2 70/30, D_T = 0.022 cm/sqrt(cm),
 * n_T = 95/cm, rho = 1.714e-3 g/cm3, theta = 0.5; Micromegas L = 0.5 cm, L_t = 0, s_R = 0.028 cm,
 * E_mpv = 1.06 keV, pitch 250 um; GEM L = 0.3 cm, L_t = 0.6 cm, s_R = 0, E_mpv = 0.62 keV, pitch 400 um.
 *
 * Measured: the first plane of the beam line, MM01X (no material in front of it), and GM01X (after
 * MM01 and MM02: the variance of their scattering offsets, Highland for the simulation's 0.3% X0 per
 * Micromegas plane, subtracted), in 2 x 600 beam electrons of the 2017 (100 GeV) and 2018 (150 GeV)
 * visible cards. Compared: the rms and half the central 68% of the residuals. Tolerances: the
 * statistical errors for ~1100 clusters are ~2.5% (central 68%: 1.1/sqrt(2N)) and ~4-6% for the rms
 * (the delta tail's kurtosis); 10% for the central width, 15% for the rms (GEM: + the scattering's
 * subtraction, 20%). The model's rms is also the resolution the conditions database gives the fit
 * (sql/setups/45_strip_resolution.sql), checked here to within 5%. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"
#include "support/vis_chain.h"
#include "support/strip_residual.h"
#include "support/strip_model.h"

/* The residuals (cm) of n crossings of the model m into r[]: the largest run of kept strips' centroid
 * against the crossing's position. */
static void model_residuals(const model *m, int n, double *r)
{
  for (int i = 0; i < n; ++i) {
    model_crossing c;
    model_cross(m, &c);
    double best = 0.0, u = NAN;
    for (int k = c.lo; k <= c.hi;) {
      if (!c.fired[k - c.lo]) {
        ++k;
        continue;
      }
      double sq = 0.0, su = 0.0;
      for (; k <= c.hi && c.fired[k - c.lo]; ++k) sq += c.a[k - c.lo], su += c.a[k - c.lo] * k;
      if (sq > best) best = sq, u = su / sq;
    }
    r[i] = isfinite(u) ? (u - c.u0) * m->pitch : 0.0;
  }
}

static double rms_of(const double *r, int n)
{
  double s = 0.0, s2 = 0.0;
  for (int i = 0; i < n; ++i) s += r[i], s2 += r[i] * r[i];
  return sqrt(s2 / n - (s / n) * (s / n));
}

/* Highland (PDG RPP 2024 Eq. 34.15) of a simulated Micromegas plane, 0.3% X0 */
static double theta_mm(double p) { return 0.0136 / p * sqrt(0.003) * (1.0 + 0.038 * log(0.003)); }

static void test_strip_resolution(void **state)
{
  (void)state;
  static const char *cards[2] = {"visible_2017.yaml", "visible_2018.yaml"};
  enum { N = 600 };
  double res_mm[2 * N], res_gem[2 * N], ms_var[2 * N];
  int nmm = 0, ngem = 0, split_mm = 0, split_gem = 0; /* crossings with more than one cluster */
  double sig_db_mm = NAN, sig_db_gem = NAN;
  for (int c = 0; c < 2; ++c) {
    na64_vis_config cfg;
    vis_load_card(cards[c], &cfg);
    na64_vis_sim *s = NULL;
    na64_vis_digitizer *d = NULL;
    na64_vis_reco *r = NULL;
    vis_chain_open(&cfg, &s, &d, &r);
    const na64_geom *g = na64_vis_sim_geom(s);
    int pm = plane_index_of(g, "MM01X"), pg = plane_index_of(g, "GM01X");
    const na64_geom_plane *plm = &g->planes[pm], *plg = &g->planes[pg];
    assert_true(plm->has_response && plg->has_response);
    sig_db_mm = plm->sigma_u, sig_db_gem = plg->sigma_u;
    /* the scattering offset at GM01X: the Micromegas planes in front of it (x projection) */
    double v = 0.0, th = theta_mm(cfg.beam_energy);
    for (int i = 0; i < g->nplanes; ++i)
      if (g->planes[i].kind == NA64_DET_MICROMEGAS && g->planes[i].centre[2] < plg->centre[2])
        v += th * th * pow(plg->centre[2] - g->planes[i].centre[2], 2);
    na64_vis_sim_event *truth = calloc(N, sizeof *truth);
    void *buf = NULL;
    na64_daq_reader *rd = NULL;
    vis_beam_events(s, d, 71, N, truth, &buf, &rd);
    na64_daq_event de;
    for (int k = 0; k < N && na64_daq_reader_next_event(rd, &de, NULL) == NA64_OK; ++k) {
      const na64_vis_sim_event *t = &truth[k];
      double um = plane_cluster_u(g, &de, pm);
      split_mm += plane_cluster_count > 1;
      double ug = plane_cluster_u(g, &de, pg);
      split_gem += plane_cluster_count > 1;
      double zm = plm->centre[2], zg = plg->centre[2];
      if (isfinite(um)) res_mm[nmm++] = um - plane_u_of(plm, t->beam_x0 + t->beam_dxdz0 * zm, t->beam_y0 + t->beam_dydz0 * zm);
      if (isfinite(ug))
        ms_var[ngem] = v, res_gem[ngem++] = ug - plane_u_of(plg, t->beam_x0 + t->beam_dxdz0 * zg, t->beam_y0 + t->beam_dydz0 * zg);
    }
    na64_daq_reader_close(rd);
    free(buf);
    free(truth);
    vis_chain_close(s, d, r);
  }
  assert_true(nmm > N && ngem > N); /* efficiency 0.95 */
  double vms = 0.0;
  for (int i = 0; i < ngem; ++i) vms += ms_var[i] / ngem;
  double rm = rms_of(res_mm, nmm), cm = central68_of(res_mm, nmm);
  double rg = sqrt(pow(rms_of(res_gem, ngem), 2) - vms), cg = sqrt(pow(central68_of(res_gem, ngem), 2) - vms);

  enum { NM = 100000 };
  double *r = malloc(NM * sizeof *r);
  assert_non_null(r);
  sm_state = 12345;
  const model mm = {0.025, 0.5, 0.0, 0.028, 1.06}, gem = {0.04, 0.3, 0.6, 0.0, 0.62};
  model_residuals(&mm, NM, r);
  double em_rms = rms_of(r, NM), em_c = central68_of(r, NM);
  model_residuals(&gem, NM, r);
  double eg_rms = rms_of(r, NM), eg_c = central68_of(r, NM);
  free(r);
  print_message("Micromegas (MM01X, %d clusters): rms %.1f um, central 68%% %.1f um; model %.1f, %.1f um; database %.1f um\n", nmm,
                1e4 * rm, 1e4 * cm, 1e4 * em_rms, 1e4 * em_c, 1e4 * sig_db_mm);
  print_message("GEM (GM01X, %d clusters, scattering %.1f um subtracted): rms %.1f um, central 68%% %.1f um; model %.1f, %.1f um; "
                "database %.1f um\n",
                ngem, 1e4 * sqrt(vms), 1e4 * rg, 1e4 * cg, 1e4 * eg_rms, 1e4 * eg_c, 1e4 * sig_db_gem);
  print_message("crossings with a second cluster (noise split off the cloud's tail): MM01X %d/%d, GM01X %d/%d\n", split_mm, nmm,
                split_gem, ngem);
  assert_true(fabs(cm / em_c - 1.0) < 0.10);
  assert_true(fabs(rm / em_rms - 1.0) < 0.15);
  assert_true(fabs(cg / eg_c - 1.0) < 0.10);
  assert_true(fabs(rg / eg_rms - 1.0) < 0.20);
  assert_true(fabs(sig_db_mm / em_rms - 1.0) < 0.05);
  assert_true(fabs(sig_db_gem / eg_rms - 1.0) < 0.05);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_strip_resolution)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
