/* The visible signal efficiency's dependence on the X's polarisation, measured on paired events (not
 * a timing; docs/validation.md "The spin-1 polarisation, bounded"). The simulation decays the X
 * isotropically in its rest frame (src/sim/vis_signal.c). A vector's decay to e+e- at the angle
 * theta* between the electron and the flight direction goes as
 *   helicity +-1: 1 + c^2 + r (1 - c^2),   helicity 0: 1 - c^2 + r c^2,   c = cos theta*, r = 4 m_e^2/m^2
 * (the trace of a vector current's decay to two fermions; massless, the 1 + cos^2 theta of e+e- ->
 * mu+mu- through a transverse photon, F. Halzen, A. D. Martin, "Quarks and Leptons" (1984), sec. 6.6).
 * Each event goes through the whole chain (response, DATE, reader, reconstruction, the card's
 * selection), its c is recovered from the electron's lab energy (E_e = gamma m/2 + beta gamma p* c),
 * and the efficiency for each helicity is the same events reweighted by f(c)/f_iso(c): the three
 * efficiencies share their events, so their differences carry only the weights' spread.
 * usage: bench_vis_polarisation [CARD] [CONDITIONS_DB] [EVENTS] [MASS_MeV] [EPS ...] (default:
 * configs/visible_2017.yaml with its database, 100000 events, the card's mass, eps 7.24e-5 1.86e-4
 * 4.78e-4: the couplings at which `na64 run` measures the 2017 card's 16.7 MeV efficiencies, the
 * efficiency-1 island's edges and their geometric middle). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "na64/ana.h"
#include "na64/physics.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "vis_chain.h"

static int fail(const na64_err *e)
{
  fprintf(stderr, "bench_vis_polarisation: %s\n", e->msg);
  return 1;
}

/* event i through response, DATE, reader and reconstruction; *pass = all cuts passed, *c = cos theta* */
static int event_pass(chain *c, const na64_vis_select_config *sel, double m, uint64_t i, int *pass, double *cs,
                      na64_err *err)
{
  na64_vis_sim_event ev;
  if (na64_vis_sim_event_generate(c->s, 1, i, 1, &ev, err)) return 1;
  void *buf = NULL;
  size_t len = 0;
  na64_vis_reco_event row;
  if (digitize_alone(c, &ev, (int)i, &buf, &len, err)) return 1;
  int st = reconstruct(c, buf, len, &row, err);
  free(buf);
  if (st != NA64_OK) return 1;
  na64_vis_cutflow flow = {{0}};
  *pass = na64_vis_cutflow_fill(&flow, sel, &row);
  /* E_e- = gamma E* + beta gamma p* c (src/sim/vis_signal.c na64_vis_pair_decay) */
  const double E = ev.aprime_energy, es = 0.5 * m, ps = sqrt(0.25 * m * m - NA64_M_E * NA64_M_E);
  double c0 = (ev.e_energy[0] - E / m * es) / (sqrt(E * E - m * m) / m * ps);
  *cs = c0 > 1.0 ? 1.0 : c0 < -1.0 ? -1.0 : c0;
  return 0;
}

/* the helicity densities over their isotropic 1/2: (1 + c^2 + r (1 - c^2)) / (8/3 + 4r/3) and
 * (1 - c^2 + r c^2) / (4/3 + 2r/3), each times 2 */
static void helicity_weights(double c, double r, double w[2])
{
  const double c2 = c * c;
  w[0] = 2.0 * (1.0 + c2 + r * (1.0 - c2)) / (8.0 / 3.0 + 4.0 * r / 3.0);
  w[1] = 2.0 * (1.0 - c2 + r * c2) / (4.0 / 3.0 + 2.0 * r / 3.0);
}

/* the efficiencies at one eps: isotropic, helicity +-1, helicity 0, and the paired differences'
 * errors (delta method for the ratio estimator sum w p / sum w against sum p / n) */
static int measure(const na64_vis_config *base, const na64_vis_select_config *sel, double eps, int n, na64_err *err)
{
  na64_vis_config cfg = *base;
  cfg.aprime_eps = eps;
  chain c;
  if (chain_new(&cfg, &c, err)) return 1;
  const double m = cfg.aprime_mass, r = 4.0 * NA64_M_E * NA64_M_E / (m * m);
  double *p = malloc(sizeof *p * (size_t)n), *cs = malloc(sizeof *cs * (size_t)n);
  int st = p && cs ? 0 : 1;
  for (int i = 0; i < n && !st; ++i) {
    int pass;
    st = event_pass(&c, sel, m, (uint64_t)i, &pass, &cs[i], err);
    p[i] = pass;
  }
  chain_free(&c);
  if (st) {
    free(p);
    free(cs);
    return 1;
  }
  double sp = 0.0, sw[2] = {0, 0}, swp[2] = {0, 0}, sc = 0.0, sc2 = 0.0;
  for (int i = 0; i < n; ++i) {
    double w[2];
    helicity_weights(cs[i], r, w);
    sp += p[i];
    sc += cs[i], sc2 += cs[i] * cs[i];
    for (int h = 0; h < 2; ++h) sw[h] += w[h], swp[h] += w[h] * p[i];
  }
  const double e_iso = sp / n;
  /* the recovered c of the isotropic draws: mean 0 +- 0.58/sqrt(n), mean square 1/3 +- 0.30/sqrt(n) */
  printf("  eps %.3g: %d events, <c> %+.4f, <c^2> %.4f (1/3); isotropic %.4f +- %.4f", eps, n, sc / n, sc2 / n, e_iso,
         sqrt(e_iso * (1.0 - e_iso) / n));
  static const char *name[2] = {"helicity +-1", "helicity 0"};
  for (int h = 0; h < 2; ++h) {
    const double e_h = swp[h] / sw[h], wbar = sw[h] / n;
    double s = 0.0, s2 = 0.0;
    for (int i = 0; i < n; ++i) {
      double w[2];
      helicity_weights(cs[i], r, w);
      const double d = w[h] / wbar * (p[i] - e_h) - (p[i] - e_iso);
      s += d, s2 += d * d;
    }
    const double var = (s2 - s * s / n) / ((double)n * (n - 1));
    printf("; %s %.4f (difference %+.4f +- %.4f)", name[h], e_h, e_h - e_iso, sqrt(var));
  }
  printf("\n");
  free(p);
  free(cs);
  return 0;
}

/* the card's simulation and selection (its conditions database replaced by db when given) */
static int load_card(const char *path, const char *db, na64_vis_config *cfg, na64_vis_select_config *sel, na64_err *err)
{
  if (na64_vis_config_load(path, cfg, err)) return 1;
  if (db) snprintf(cfg->conditions, sizeof cfg->conditions, "%s", db);
  na64_card *card = NULL;
  if (na64_card_load(path, &card, err)) return 1;
  na64_vis_select_config_default(sel);
  int st = na64_vis_select_config_read(card, sel, err);
  na64_card_free(card);
  return st;
}

int main(int argc, char **argv)
{
  const char *path = argc > 1 ? argv[1] : "configs/visible_2017.yaml", *db = argc > 2 ? argv[2] : NULL;
  const int n = argc > 3 ? atoi(argv[3]) : 100000;
  na64_err err = {0, ""};
  na64_vis_config cfg;
  na64_vis_select_config sel;
  if (load_card(path, db, &cfg, &sel, &err)) return fail(&err);
  const double m_mev = argc > 4 ? atof(argv[4]) : 1e3 * cfg.aprime_mass;
  if (n < 2 || !(m_mev > 1.03 && m_mev < 1000.0)) {
    fprintf(stderr, "bench_vis_polarisation: need EVENTS >= 2 and 1.03 < MASS_MeV < 1000\n");
    return 2;
  }
  cfg.aprime_mass = 1e-3 * m_mev;
  static const double eps_default[] = {7.24e-5, 1.86e-4, 4.78e-4};
  printf("visible signal efficiency by X polarisation (%s, %.4g MeV, vector):\n", path, m_mev);
  const int neps = argc > 5 ? argc - 5 : 3;
  for (int k = 0; k < neps; ++k) {
    const double eps = argc > 5 ? atof(argv[5 + k]) : eps_default[k];
    if (!(eps > 0.0 && eps <= 1.0)) {
      fprintf(stderr, "bench_vis_polarisation: eps %s must be in (0, 1]\n", argc > 5 ? argv[5 + k] : "?");
      return 2;
    }
    if (measure(&cfg, &sel, eps, n, &err)) return fail(&err);
  }
  return 0;
}
