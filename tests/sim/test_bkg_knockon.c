/* The SRD tag of a beam pi- / K- by its knock-on electrons (src/sim/fast_bkg_knockon.c, issue 11)
 * against an independent computation here, on the 2018 card and its conditions geometry:
 *
 * (1) per g/cm2 of material upstream of the dipoles: the delta-ray integral
 *       int_{T_lo}^{W_max} (1/2) K (Z/A) / beta^2 (1 - beta^2 T / W_max) / T^2 P_win(T) dT
 *     (PDG Review, "Passage of particles through matter", knock-on electrons, eq. 34.7, spin 0;
 *     W_max PDG eq. 34.4; K = 0.307075 MeV cm2/mol, Z/A = 0.54), with P_win(T) the share of
 *     electrons of energy T starting at the first counter along the beam axis whose synchrotron
 *     radiation through the dipoles (na64_sim_synchrotron, the public SR of the simulation) falls in
 *     the SRD window 1-500 MeV, counted here on a linear grid of 2 GeV steps (Simpson's rule), not
 *     the code's log grid, and without the knock-on angle the code draws.
 *     Tolerance 25%: binomial noise of both P_win tables (~3% each on the integral), the grids
 *     (~2%), and the knock-on angle (theta^2 = 2 m_e (1/T - 1/W_max): 5-7 mrad at 20-30 GeV, against
 *     the ~20 mrad bend of a 100 GeV particle, which moves part of the SR off the SRD; measured
 *     here 4-16%). For the pion, a step P_win = 1 above the threshold where P_win = 1/2 gives the
 *     same within a factor 2 (a looser check of the integral's scale; the kaon's W_max, 29.5 GeV,
 *     lies on the rise of P_win, where a step means nothing).
 * (2) the upstream material: the geometry's detectors in front of the first dipole (recorded
 *     density x thickness) plus the per-kind ESTIMATES of the code's comment (Micromegas 0.35,
 *     GEM 0.15 g/cm2, exit window 0.028 g/cm2) and the air between the first detector and the
 *     first dipole, recomputed here from the public geometry, to 1e-9.
 * (3) with the momentum window the tag must nearly vanish: a knock-on of T leaves the hadron with
 *     E0 - T, and P_win(T) = 0 here below T_min (the smallest T with a tag, found here, > 5 GeV),
 *     i.e. more than 2 sigma of dp/p = 1% below the 97 GeV edge: the applied tag must be below 1e-2
 *     of the unconditional one (only knock-ons near the end of the field, from the air in the
 *     dipoles, keep the momentum). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/geom.h"
#include "na64/physics.h"
#include "na64/sim.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define ME 0.51099895e-3
#define NE 600 /* electrons per P_win node */

static double p_win(const na64_sim *s, double T, uint64_t key)
{
  na64_rng rng;
  na64_rng_init(&rng, 77, key);
  int n = 0;
  for (int i = 0; i < NE; ++i) {
    double emitted = 0, esrd = 0, srd[NA64_SIM_MAX_SRD] = {0};
    na64_sim_synchrotron(s, ME, -1.0, T, 0.0, 0.0, &rng, &emitted, &esrd, srd);
    n += esrd > 0.001 && esrd < 0.5;
  }
  return n / (double)NE;
}

/* Upstream material recomputed from the public geometry (see (2) above). */
static double upstream_gcm2(int run)
{
  na64_geom *g = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_geom_load_path(DB, run, &g, &err), NA64_OK);
  assert_true(g->nmagnets > 0);
  const na64_geom_magnet *m = &g->magnets[0];
  double z0 = m->centre[2] - 0.5 * m->length, zf = z0, thick = 0, t = 0;
  int nmm = 0, ngem = 0;
  for (int i = 0; i < g->ndetectors; ++i) {
    const na64_geom_detector *d = &g->detectors[i];
    if (d->centre[2] + 0.5 * d->size[2] > z0) continue;
    if (d->material >= 0) t += g->materials[d->material].density * d->size[2];
    nmm += d->kind == NA64_DET_MICROMEGAS;
    ngem += d->kind == NA64_DET_GEM;
    zf = fmin(zf, d->centre[2] - 0.5 * d->size[2]);
    thick += d->size[2];
  }
  const na64_geom_material *air = na64_geom_find_material(g, "Air");
  assert_non_null(air);
  double a = air->density * (z0 - zf - thick);
  print_message("upstream of z = %.0f cm: recorded %.3f g/cm2, %d Micromegas, %d GEM, air %.3f g/cm2\n", z0, t, nmm,
                ngem, a);
  assert_true(nmm >= 2 && ngem >= 1);
  na64_geom_free(g);
  return t + 0.35 * nmm + 0.15 * ngem + 0.028 + a;
}

static void test_knockon(void **state)
{
  (void)state;
  na64_sim_config c;
  na64_err err = {0, ""};
  na64_sim_config_default(&c);
  if (na64_sim_config_load(NA64_SOURCE_DIR "/configs/invisible_2018.yaml", &c, &err)) fail_msg("card: %s", err.msg);
  snprintf(c.conditions, sizeof c.conditions, "%s", DB);
  c.aprime_enabled = 0;
  na64_sim *s = NULL;
  if (na64_sim_new(&c, &s, &err)) fail_msg("sim: %s", err.msg);
  na64_sim_bkg_result r;
  assert_int_equal(na64_sim_bkg_estimate(s, NA64_SIM_BKG_DECAY, 200, 3, &r, &err), NA64_OK);

  /* P_win on T = 0, 2, ..., 84 GeV (the pion's W_max is 84 GeV at 100 GeV) */
  enum { NG = 43 };
  double pw[NG], tmin = 0, t50 = 0;
  for (int i = 0; i < NG; ++i) {
    pw[i] = i == 0 ? 0.0 : p_win(s, 2.0 * i, (uint64_t)i);
    if (pw[i] > 0 && tmin == 0) tmin = 2.0 * i;
    if (pw[i] >= 0.5 && t50 == 0) t50 = 2.0 * i;
  }
  print_message("P_win: 10 GeV %.3f, 16 %.3f, 20 %.3f, 26 %.3f, 30 %.3f, 50 %.3f; first > 0 at %.0f GeV, 1/2 at %.0f\n",
                pw[5], pw[8], pw[10], pw[13], pw[15], pw[25], tmin, t50);
  assert_true(tmin > 5.0 && t50 > tmin);
  const double mass[2] = {0.13957039, 0.493677}, E0 = c.beam_energy, K = 0.307075e-3, ZA = 0.54;
  for (int j = 0; j < 2; ++j) {
    double g = sqrt(E0 * E0 + mass[j] * mass[j]) / mass[j], b2 = 1 - 1 / (g * g), rr = ME / mass[j];
    double W = 2 * ME * b2 * g * g / (1 + 2 * g * rr + rr * rr);
    /* Simpson on [2, 2 n] with P_win linearly interpolated at W, the rest of [2n, W] by a trapezoid */
    int n = (int)(W / 2.0);
    if (n % 2 == 0) --n; /* even number of intervals from node 1 */
    double sum = 0;
    for (int i = 1; i <= n; ++i) {
      double T = 2.0 * i, f = 0.5 * K * ZA / b2 * (1 - b2 * T / W) / (T * T) * pw[i];
      sum += f * (i == 1 || i == n ? 1.0 : (i - 1) % 2 ? 4.0 : 2.0);
    }
    double integ = sum * 2.0 / 3.0;
    double Tn = 2.0 * n, fn = 0.5 * K * ZA / b2 * (1 - b2 * Tn / W) / (Tn * Tn) * pw[n];
    integ += 0.5 * fn * (W - Tn); /* the integrand vanishes at W (spin 0) */
    double step = 0.5 * K * ZA / b2 * (1 / t50 - 1 / W - b2 / W * log(W / t50));
    print_message("%s: W_max %.1f GeV; per g/cm2: code %.3g, here %.3g (ratio %.3f), step at %.0f GeV %.3g\n",
                  j ? "K-" : "pi-", W, r.srd_knockon_per_gcm2[j], integ, r.srd_knockon_per_gcm2[j] / integ, t50, step);
    assert_true(fabs(r.srd_knockon_per_gcm2[j] / integ - 1.0) < 0.25);
    if (j == 0) /* the pion; a kaon's W_max (29.5 GeV) lies on P_win's rise, where a step means nothing */
      assert_true(r.srd_knockon_per_gcm2[j] > 0.5 * step && r.srd_knockon_per_gcm2[j] < 2.0 * step);
    assert_true(fabs(r.srd_knockon[j] / (r.srd_knockon_per_gcm2[j] * r.srd_upstream_gcm2) - 1.0) < 1e-9);
    print_message("  x %.3f g/cm2: %.3g; applied with the momentum window %.3g\n", r.srd_upstream_gcm2,
                  r.srd_knockon[j], r.srd_knockon_applied[j]);
    assert_true(r.srd_knockon_applied[j] < 1e-2 * r.srd_knockon[j]);
  }
  double up = upstream_gcm2(c.run);
  print_message("upstream material: code %.4f g/cm2, here %.4f\n", r.srd_upstream_gcm2, up);
  assert_true(fabs(r.srd_upstream_gcm2 / up - 1.0) < 1e-9);
  /* the hadron route uses the pion's knock-on tag as well (an upper bound for K-, p) */
  na64_sim_bkg_result h;
  assert_int_equal(na64_sim_bkg_estimate(s, NA64_SIM_BKG_HADRON, 10, 3, &h, &err), NA64_OK);
  assert_true(h.srd_knockon_applied[0] == r.srd_knockon_applied[0]);
  na64_sim_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_knockon),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
