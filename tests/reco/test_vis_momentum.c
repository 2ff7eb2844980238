/* The incoming momentum of the visible-mode events (task vistrk, issue 12; docs/visible.md "Momentum
 * of every event"): beam electrons and signal events of the 2017 (100 GeV) and 2018 (150 GeV) cards
 * simulated, digitised to DATE, reconstructed by na64_vis_reco_process, and the spread of p_reco /
 * p_true - 1 compared with the resolution expected from the geometry of the conditions database:
 *
 *   sigma_p / p = sqrt(var(t_up) + var(t_down)) / delta,  delta = 0.299792458 sum(B L) / p
 *
 * (the deflection in the dipoles, PDG RPP "Kinematics"/track.c: p_T kick = 0.3 B L), var(t) the
 * variance of the slope at the magnets of the least-squares line through the x measurements of one
 * side (Gluckstern, NIM 24 (1963) 381, for a straight line: var(t) = sigma^2 / sum (z_i - <z>)^2
 * with equal errors; here the generalised least squares with the covariance of the measurements
 * V_ij = sigma_i^2 delta_ij + sum_k theta_k^2 l_ik l_jk, l_ik the lever arm from scatterer k to
 * plane i on the far side of k from the magnets: the multiple-scattering term), computed here
 * without the reconstruction's code:
 *   - sides: the Micromegas/GEM planes in front of the first magnet, and those between the last
 *     magnet and the WCAL (the beam electron ends there);
 *   - sigma_i: the station resolution, measured here from the same events: the centroid of the
 *     largest cluster (na64_strip_cluster_find on the decoded APV hits) of the first Micromegas
 *     plane MM01X, which no material precedes, minus the true line of the beam electron there;
 *     for the GEM plane GM01X the same with the scattering offsets of the planes in front of it
 *     (the variance the model below gives them) subtracted in quadrature. Widths are half the
 *     central 68% (robust against the 3-sigma noise strips of the zero suppression);
 *   - theta_k: Highland (PDG RPP 2024 "Passage of particles through matter" Eq. 34.15) for each
 *     plane's material in the simulation (src/sim/fast_digi.c MS_X0_MICROMEGAS 0.003, MS_X0_GEM
 *     0.004 X0 per plane), every plane of the side (both projections) a scatterer.
 * Tolerance: the measured width (half the central 68% of p_reco/p_true - 1) within 25% of the
 * expectation. Its statistical error for ~240 fitted events is ~6% (1.1/sqrt(2 N) for a central
 * interval), the station resolutions' ~5% each; the fit weights its planes with the resolution and
 * material of the conditions database (table strip_resolution: 27.5 um and 0.3% X0 per Micromegas
 * plane, 47 um and 0.4% per GEM plane since task mmres; 0.3 x pitch and 0.15% before), which
 * tests/reco/test_track_pulls checks against the simulation. A fit that used the pair behind the
 * WCAL (2.8% before) or the upstream planes only fails it by far.
 * The beam electrons of the visible runs are fitted too (they were not before: no tracker between
 * the dipoles and the WCAL). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"
#include "support/strip_residual.h"
#include "support/vis_chain.h"

#define MAXM 16

/* Solve V y = b for symmetric positive-definite V (n x n, row-major) by Cholesky; V is overwritten. */
static void chol_solve(double *V, int n, double *b)
{
  for (int j = 0; j < n; ++j) {
    for (int k = 0; k < j; ++k) V[j * n + j] -= V[j * n + k] * V[j * n + k];
    V[j * n + j] = sqrt(V[j * n + j]);
    for (int i = j + 1; i < n; ++i) {
      for (int k = 0; k < j; ++k) V[i * n + j] -= V[i * n + k] * V[j * n + k];
      V[i * n + j] /= V[j * n + j];
    }
  }
  for (int i = 0; i < n; ++i) { /* L y = b */
    for (int k = 0; k < i; ++k) b[i] -= V[i * n + k] * b[k];
    b[i] /= V[i * n + i];
  }
  for (int i = n - 1; i >= 0; --i) { /* L^T x = y */
    for (int k = i + 1; k < n; ++k) b[i] -= V[k * n + i] * b[k];
    b[i] /= V[i * n + i];
  }
}

/* Highland's theta0 (PDG RPP 2024 Eq. 34.15, beta = 1) of one plane of the simulation (fast_digi.c:
 * 0.003 X0 per Micromegas plane, 0.004 per GEM plane). */
static double plane_theta0(const na64_geom_plane *pl, double p)
{
  double x = pl->kind == NA64_DET_MICROMEGAS ? 0.003 : 0.004;
  return 0.0136 / p * sqrt(x) * (1.0 + 0.038 * log(x));
}

static int is_strip(const na64_geom_plane *pl) { return pl->kind == NA64_DET_MICROMEGAS || pl->kind == NA64_DET_GEM; }

/* Variance of the slope at z_ref of the GLS line through the x planes with z in (z_lo, z_hi), at
 * momentum p, station resolutions sig_mm, sig_gem; upstream (downstream = 0) the scatterers between
 * a plane and z_ref lie behind it. */
static double side_slope_var(const na64_geom *g, double z_lo, double z_hi, double z_ref, int downstream, double p,
                             double sig_mm, double sig_gem, int *nx)
{
  double zm[MAXM], sig[MAXM], zs[MAXM], th2[MAXM];
  int n = 0, ns = 0;
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *pl = &g->planes[i];
    double z = pl->centre[2];
    if (!(z > z_lo && z < z_hi) || !is_strip(pl)) continue;
    double t0 = plane_theta0(pl, p);
    assert_true(ns < MAXM);
    zs[ns] = z, th2[ns++] = t0 * t0;
    if (fabs(pl->u_dir[0]) > 0.99) zm[n] = z, sig[n++] = pl->kind == NA64_DET_MICROMEGAS ? sig_mm : sig_gem;
  }
  *nx = n;
  if (n < 2) return NAN;
  double V[MAXM * MAXM], y0[MAXM], y1[MAXM], W[MAXM * MAXM];
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double v = i == j ? sig[i] * sig[i] : 0.0;
      for (int k = 0; k < ns; ++k) {
        double li = downstream ? zm[i] - zs[k] : zs[k] - zm[i], lj = downstream ? zm[j] - zs[k] : zs[k] - zm[j];
        if (li > 0.0 && lj > 0.0) v += th2[k] * li * lj;
      }
      V[i * n + j] = v;
    }
  for (int i = 0; i < n; ++i) y0[i] = 1.0, y1[i] = zm[i] - z_ref; /* H = [1, z - z_ref] */
  memcpy(W, V, sizeof V);
  chol_solve(W, n, y0);
  memcpy(W, V, sizeof V);
  chol_solve(W, n, y1);
  double f00 = 0, f01 = 0, f11 = 0; /* H^T V^-1 H */
  for (int i = 0; i < n; ++i) f00 += y0[i], f01 += y1[i], f11 += (zm[i] - z_ref) * y1[i];
  return f00 / (f00 * f11 - f01 * f01);
}

/* The expected sigma_p/p of the geometry at momentum p. */
static double expected_resolution(const na64_geom *g, double p, double sig_mm, double sig_gem)
{
  double z_in = HUGE_VAL, z_out = -HUGE_VAL, bl = 0.0, z_wcal = HUGE_VAL;
  for (int i = 0; i < g->nmagnets; ++i) {
    z_in = fmin(z_in, g->magnets[i].centre[2] - 0.5 * g->magnets[i].length);
    z_out = fmax(z_out, g->magnets[i].centre[2] + 0.5 * g->magnets[i].length);
    bl += g->magnets[i].field_integral;
  }
  for (int i = 0; i < g->ndetectors; ++i)
    if (g->detectors[i].kind == NA64_DET_WCAL) z_wcal = g->detectors[i].centre[2] - 0.5 * g->detectors[i].size[2];
  int nup = 0, ndown = 0;
  double vu = side_slope_var(g, -HUGE_VAL, z_in, z_in, 0, p, sig_mm, sig_gem, &nup);
  double vd = side_slope_var(g, z_out, z_wcal, z_out, 1, p, sig_mm, sig_gem, &ndown);
  assert_true(nup >= 2 && ndown >= 2); /* x planes on both sides: upstream MM01, MM02, GM01; MM05, MM06 */
  double delta = 0.299792458 * bl / p;
  print_message("expected: %d x planes upstream (slope sigma %.2e), %d downstream (%.2e), kick %.4f rad\n", nup,
                sqrt(vu), ndown, sqrt(vd), delta);
  return sqrt(vu + vd) / delta;
}

/* The centroid (global x, cm) of the largest cluster of plane `plane` in the event's APV blocks; NaN if none. */
static double plane_cluster_x(const na64_geom *g, const na64_daq_event *ev, int plane)
{
  return plane_cluster_u(g, ev, plane) + g->planes[plane].centre[0] * g->planes[plane].u_dir[0];
}

typedef struct stat {
  int n, fitted;
  double s, s2;
  double *q;
} stat;

/* The scattering offset variance at plane `plane` (x projection) from the kicks of the planes in front of it. */
static double ms_offset_var(const na64_geom *g, int plane, double p)
{
  double z = g->planes[plane].centre[2], v = 0.0;
  for (int k = 0; k < g->nplanes; ++k) {
    const na64_geom_plane *pl = &g->planes[k];
    if (!is_strip(pl) || !(pl->centre[2] < z)) continue;
    double t0 = plane_theta0(pl, p);
    v += t0 * t0 * (z - pl->centre[2]) * (z - pl->centre[2]);
  }
  return v;
}

static void run_card(const char *card, int n)
{
  na64_vis_config c;
  vis_load_card(card, &c);
  na64_vis_sim *s = NULL;
  na64_vis_digitizer *d = NULL;
  na64_vis_reco *r = NULL;
  na64_err err = {0, ""};
  vis_chain_open(&c, &s, &d, &r);
  const na64_geom *g = na64_vis_sim_geom(s);
  int p_mm = plane_index_of(g, "MM01X"), p_gem = plane_index_of(g, "GM01X");
  na64_vis_sim_event *truth = calloc((size_t)n, sizeof *truth);
  double *res_mm = calloc((size_t)n, sizeof(double)), *res_gem = calloc((size_t)n, sizeof(double));
  assert_true(truth && res_mm && res_gem);
  void *buf = NULL;
  size_t len = 0;
  vis_chain_simulate(s, d, 33, n, 2, truth, &buf, &len); /* every other event a beam electron */
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(buf, len, "vis", NULL, &rd, NULL), NA64_OK);
  stat st[2] = {{0}, {0}}; /* beam electrons, signal */
  st[0].q = calloc((size_t)n, sizeof(double)), st[1].q = calloc((size_t)n, sizeof(double));
  assert_true(st[0].q && st[1].q);
  na64_daq_event de;
  int k = 0, nmm = 0, ngem = 0;
  while (k < n && na64_daq_reader_next_event(rd, &de, NULL) == NA64_OK) {
    na64_vis_reco_event ve;
    if (na64_vis_reco_process(r, &de, &ve, &err)) fail_msg("%s", err.msg);
    const na64_vis_sim_event *t = &truth[k++];
    /* the station residuals against the true line before the dipoles */
    double xm = plane_cluster_x(g, &de, p_mm), xg = plane_cluster_x(g, &de, p_gem);
    if (isfinite(xm)) res_mm[nmm++] = xm - (t->beam_x0 + t->beam_dxdz0 * g->planes[p_mm].centre[2]);
    if (isfinite(xg)) res_gem[ngem++] = xg - (t->beam_x0 + t->beam_dxdz0 * g->planes[p_gem].centre[2]);
    stat *a = &st[t->signal ? 1 : 0];
    a->n++;
    if (!isfinite(ve.momentum)) continue;
    double q = ve.momentum / t->beam_energy - 1.0;
    a->q[a->fitted++] = q;
    a->s += q, a->s2 += q * q;
  }
  assert_int_equal(k, n);
  assert_true(nmm > n / 2 && ngem > n / 2);
  double sig_mm = central68_of(res_mm, nmm), w_gem = central68_of(res_gem, ngem);
  double v_ms = ms_offset_var(g, p_gem, c.beam_energy);
  assert_true(w_gem * w_gem > v_ms);
  double sig_gem = sqrt(w_gem * w_gem - v_ms);
  print_message("%s: station resolution MM %.1f um (%d clusters), GEM %.1f um (width %.1f um, scattering %.1f um)\n", card,
                1e4 * sig_mm, nmm, 1e4 * sig_gem, 1e4 * w_gem, 1e4 * sqrt(v_ms));
  double expect = expected_resolution(g, c.beam_energy, sig_mm, sig_gem);
  for (int j = 0; j < 2; ++j) {
    stat *a = &st[j];
    assert_true(a->fitted > 10);
    double mean = a->s / a->fitted, rms = sqrt(a->s2 / a->fitted - mean * mean);
    double c68 = central68_of(a->q, a->fitted);
    print_message("%s %s: %d/%d fitted, dp/p mean %+.2e, rms %.3e, central 68%% +-%.3e (+-%.1e); expected %.3e\n", card,
                  j ? "signal" : "beam e-", a->fitted, a->n, mean, rms, c68, 1.1 * c68 / sqrt(2.0 * a->fitted), expect);
    /* every event has a line up to the WCAL: at least 2 of 2 x and y planes there of efficiency 0.95
     * each (fast_digi.c APV_EFF) makes >= 0.95^4 = 0.81; 0.7 leaves 4 sigma of binomial spread */
    assert_true(a->fitted >= 0.7 * a->n);
    assert_true(c68 > 0.75 * expect && c68 < 1.25 * expect);
    assert_true(fabs(mean) < 4.0 * rms / sqrt(a->fitted)); /* unbiased */
  }
  free(res_mm);
  free(res_gem);
  free(st[0].q);
  free(st[1].q);
  na64_daq_reader_close(rd);
  free(buf);
  free(truth);
  vis_chain_close(s, d, r);
}

static void test_momentum_2017(void **state)
{
  (void)state;
  run_card("visible_2017.yaml", 600);
}

static void test_momentum_2018(void **state)
{
  (void)state;
  run_card("visible_2018.yaml", 600);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_momentum_2017),
      cmocka_unit_test(test_momentum_2018),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
