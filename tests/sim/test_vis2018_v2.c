/* The 2018 visible setup (150 GeV) with the physical V2 (src/sim/vis_v2.c; vis2018, issue 12).
 * - V2 behind the WCAL: the fraction of 150 GeV beam electrons whose V2 stays below half a MIP, from
 *   the event simulation (na64_vis_sim_event_generate), against a quadrature written here from the
 *   published formulas alone: the PDG mean profile (eqs. 34.35-34.36, b = 0.5, t_max = ln(E/E_c) -
 *   0.5), the Grindhammer-Peters widths of ln t_max and ln a (hep-ex/0001020, sampling calorimeters)
 *   integrated over the 2-D Gaussian, the track-length count of charged particles E f(T)/E_c
 *   (Poisson: V2 quiet needs none of them, a Moyal MIP of width 0.15 is below half a MIP with
 *   probability ~0.3%, neglected), and the Compton electrons of the tail photons (3 MeV, mu/rho =
 *   0.0363 cm2/g, kinetic energy uniform up to the Compton edge): k of them stay below the threshold
 *   with probability r^k / k! (Irwin-Hall, r = threshold / edge < 1). Tolerance: 4 binomial sigma +
 *   0.01 (the neglected MIP tail and the quadrature).
 * - The track length: the charged count integrated over depth is E / E_c (PDG: total track length of
 *   a shower E/E_c X0), checked through the same quadrature's profile (1e-3).
 * - Punch-through at 150 GeV (src/sim/vis_bkg_routes.c) in the 2018 setup: in a box opened so that
 *   only the photon's energy (>= ecal_fraction_min E0) and its conversion matter, the route's rate
 *   against a quadrature written here: electron energy fraction u after t1 X0 (Bethe-Heitler, -ln u
 *   ~ Gamma(t1/ln 2)), bremsstrahlung of y >= f/u (PDG eq. 34.29, complete screening), photon survival
 *   exp(-7/9 (T - t1)) and conversion 7/9 (t_V2 x inefficiency + material) (Tsai RMP 46 (1974) 815),
 *   within 4 sigma of the Monte Carlo error + 2% (the photon's energy smearing at the cut); and in
 *   the card's own box the row must stay below Table 2's 1e-13 per EOT (NA64 report, visible mode). */
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/sim.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define MIP_DEDX 2.052e-3 /* GeV cm2/g, polystyrene (PDG) */

static na64_vis_sim *make_sim(na64_vis_config *c)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/configs/visible_2018.yaml", NA64_SOURCE_DIR);
  na64_vis_config_default(c);
  na64_err err = {0, ""};
  if (na64_vis_config_load(path, c, &err)) fail_msg("%s", err.msg);
  snprintf(c->conditions, sizeof c->conditions, "%s", DB);
  c->momentum_spread = 0.0;
  na64_vis_sim *s = NULL;
  if (na64_vis_sim_new(c, &s, &err)) fail_msg("%s", err.msg);
  return s;
}

static const na64_geom_detector *find_kind(const na64_geom *g, int kind)
{
  for (int i = 0; i < g->ndetectors; ++i)
    if (g->detectors[i].kind == kind) return &g->detectors[i];
  return NULL;
}

static double wcal_depth(const na64_geom *g)
{
  const na64_geom_detector *w = find_kind(g, NA64_DET_WCAL);
  assert_non_null(w);
  double T = 0.0;
  for (int k = 0; k < w->nsections; ++k) T += w->sections[k].depth_x0;
  return T;
}

/* V2's areal density (g/cm2) and thickness in X0 */
static void v2_of(const na64_geom *g, double *areal, double *t_x0)
{
  const na64_geom_detector *v = na64_geom_find_detector(g, "V2");
  assert_non_null(v);
  double x0 = 42.54, rho = 1.06; /* polystyrene (PDG) */
  if (v->material >= 0 && v->material < g->nmaterials) x0 = g->materials[v->material].x0, rho = g->materials[v->material].density;
  *areal = rho * v->size[2];
  *t_x0 = v->size[2] / x0;
}

/* P(V2 quiet) of a shower of energy E behind T X0, and (via *track) the charged count integrated over
 * depth for the mean profile: the quadrature of the header */
static double quiet_probability(double E, double T, double Ec, double areal, double *track)
{
  double lny = log(E / Ec), t0 = lny - 0.5, a0 = 0.5 * t0 + 1.0;
  double sT = fmin(0.5, 1.0 / fmax(-2.5 + 1.25 * lny, 2.0)), sa = fmin(0.5, 1.0 / fmax(-0.82 + 0.79 * lny, 2.0));
  double rho = 0.784 - 0.023 * lny, c1 = sqrt(0.5 * (1.0 + rho)), c2 = sqrt(0.5 * (1.0 - rho));
  double eg = 3.0e-3, k = eg / 0.51099895e-3, edge = eg * 2.0 * k / (1.0 + 2.0 * k);
  double pg = 1.0 - exp(-0.0363 * areal), thr = 0.5 * MIP_DEDX * areal, r = thr / edge;
  const int n = 160;
  const double zmax = 6.0, h = 2.0 * zmax / n;
  double p = 0.0, norm = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double z1 = -zmax + (i + 0.5) * h, z2 = -zmax + (j + 0.5) * h, w = exp(-0.5 * (z1 * z1 + z2 * z2));
      double tm = t0 * exp(sT * (c1 * z1 + c2 * z2)), a = fmax(1.1, a0 * exp(sa * (c1 * z1 - c2 * z2))), b = (a - 1.0) / tm;
      double nch = E * b * exp((a - 1.0) * log(b * T) - b * T - gsl_sf_lngamma(a)) / Ec;
      double mug = E * gsl_sf_gamma_inc_Q(a, b * T) / eg * pg, sum = 0.0, term = 1.0;
      for (int q = 0; q < 60; ++q) { /* sum_k mu^k / k! x r^k / k! */
        sum += term;
        term *= mug * r / ((q + 1.0) * (q + 1.0));
      }
      p += w * exp(-nch - mug) * sum;
      norm += w;
    }
  /* the mean profile's charged track length over depth: sum E f(t) / E_c dt */
  double tl = 0.0, dt = 0.01;
  for (double t = 0.5 * dt; t < 200.0; t += dt)
    tl += E * 0.5 * exp((a0 - 1.0) * log(0.5 * t) - 0.5 * t - gsl_sf_lngamma(a0)) / Ec * dt;
  *track = tl;
  return p / norm;
}

/* the 2018 card's simulation, its WCAL depth (X0), V2's areal density (g/cm2) and thickness (X0) */
static na64_vis_sim *setup_2018(na64_vis_config *c, double *T, double *areal, double *tv2)
{
  na64_vis_sim *s = make_sim(c);
  const na64_geom *g = na64_vis_sim_geom(s);
  *T = wcal_depth(g);
  v2_of(g, areal, tv2);
  return s;
}

static void test_v2_quiet(void **state)
{
  (void)state;
  na64_vis_config c;
  double T, areal, tv2;
  na64_vis_sim *s = setup_2018(&c, &T, &areal, &tv2);
  na64_material wm;
  na64_err err = {0, ""};
  assert_int_equal(na64_material_get("WCAL", &wm, &err), NA64_OK);
  double track, want = quiet_probability(c.beam_energy, T, wm.E_c, areal, &track);
  assert_rel(track, c.beam_energy / wm.E_c, 1e-3);
  const int n = 4000;
  int quiet = 0;
  double thr = 0.5 * MIP_DEDX * areal;
  for (int i = 0; i < n; ++i) {
    na64_vis_sim_event ev;
    assert_int_equal(na64_vis_sim_event_generate(s, 17, (uint64_t)i, 0, &ev, &err), NA64_OK);
    quiet += ev.v2 < thr;
  }
  double f = (double)quiet / n, sig = sqrt(want * (1.0 - want) / n);
  print_message("150 GeV behind %.2f X0: V2 quiet %.4f (sim) vs %.4f (quadrature)\n", T, f, want);
  if (!(fabs(f - want) <= 4.0 * sig + 0.01)) fail_msg("V2 quiet %.4f against %.4f +- %.4f", f, want, sig);
  na64_vis_sim_free(s);
}

/* photon route of the punch-through, opened box: the quadrature of the header */
static double punch_quadrature(double T, double f, double conv_factor)
{
  const int nt = 400, nv = 400;
  double sum = 0.0, ht = T / nt;
  for (int i = 0; i < nt; ++i) {
    double t1 = (i + 0.5) * ht, kk = t1 / M_LN2, vmax = -log(f); /* u = e^-v >= f */
    double hv = vmax / nv, inner = 0.0;
    for (int j = 0; j < nv; ++j) {
      double v = (j + 0.5) * hv, u = exp(-v), y0 = f / u;
      double pv = exp((kk - 1.0) * log(v) - v - gsl_sf_lngamma(kk)); /* Gamma(kk) density of -ln u */
      double brems = 4.0 / 3.0 * log(1.0 / y0) - 4.0 / 3.0 * (1.0 - y0) + 0.5 * (1.0 - y0 * y0);
      inner += pv * brems * hv;
    }
    sum += inner * exp(-7.0 / 9.0 * (T - t1)) * ht;
  }
  return sum * 7.0 / 9.0 * conv_factor;
}

static void test_punch_through(void **state)
{
  (void)state;
  na64_vis_config c;
  double T, areal, tv2;
  na64_vis_sim *s = setup_2018(&c, &T, &areal, &tv2);
  na64_vis_bkg_config b;
  na64_vis_bkg_config_default(&b);
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i) b.enabled[i] = i == NA64_VIS_BKG_PUNCH;
  b.events = 100000;
  b.bias[NA64_VIS_BKG_PUNCH] = 4.0;
  /* opened box: only E_ECAL = E_gamma >= 0.3 E0 and the conversion */
  b.wcal_fraction_max = 1.0;
  b.ecal_fraction_min = 0.3;
  b.energy_sum_sigmas = 1e6;
  b.v2_max_mips = 1e9;
  b.s4_min_mips = 0.0;
  b.s4_max_mips = 1e9;
  na64_vis_bkg_result r;
  na64_err err = {0, ""};
  if (na64_vis_bkg_estimate(s, &b, NA64_VIS_BKG_PUNCH, 7, &r, &err)) fail_msg("%s", err.msg);
  /* the route samples y above (fraction - 0.05) / u and the smeared photon energy decides: at the
   * cut's 0.3 the 0.10 / sqrt(45 GeV) smearing is symmetric, so the threshold is 0.3 */
  double want = punch_quadrature(T, 0.3, tv2 * b.veto_inefficiency + b.material_x0);
  print_message("punch-through, opened box, T = %.2f X0: %.4g +- %.2g (route) vs %.4g (quadrature)\n", T, r.rate, r.error,
                want);
  if (!(fabs(r.rate - want) <= 4.0 * r.error + 0.02 * want)) fail_msg("punch-through %.4g +- %.2g against %.4g", r.rate, r.error, want);
  /* the card's box: below Table 2's punch-through level (1e-13 per EOT, NA64 report) */
  char path[1024];
  snprintf(path, sizeof path, "%s/configs/visible_2018.yaml", NA64_SOURCE_DIR);
  na64_card *card = NULL;
  assert_int_equal(na64_card_load(path, &card, &err), NA64_OK);
  na64_vis_bkg_config_default(&b);
  assert_int_equal(na64_vis_bkg_config_read(card, &b, &err), NA64_OK);
  na64_vis_select_config sel;
  na64_vis_select_config_default(&sel);
  assert_int_equal(na64_vis_select_config_read(card, &sel, &err), NA64_OK);
  na64_card_free(card);
  na64_vis_select_box_to_bkg(&sel, &b); /* the box as `na64 run` gives it to the routes */
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i) b.enabled[i] = i == NA64_VIS_BKG_PUNCH;
  b.events = 50000;
  if (na64_vis_bkg_estimate(s, &b, NA64_VIS_BKG_PUNCH, 7, &r, &err)) fail_msg("%s", err.msg);
  print_message("punch-through, 2018 card's box: %.4g +- %.2g per EOT (Table 2: 1e-13)\n", r.rate, r.error);
  assert_true(r.rate + 4.0 * r.error < 1e-13);
  na64_vis_sim_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v2_quiet),
      cmocka_unit_test(test_punch_through),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
