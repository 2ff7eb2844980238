/*
 * Private state of the visible-mode Table 2 background estimates (src/sim/vis_bkg.c: configuration,
 * setup and the estimate loop; src/sim/vis_bkg_routes.c: one route per source). Not installed.
 */
#ifndef NA64_SIM_VIS_BKG_INTERNAL_H
#define NA64_SIM_VIS_BKG_INTERNAL_H

#include "na64/sim.h"
#include "sim/fast_bkg_internal.h" /* bkg_shape, bkg_em, bkg_ecal_showers: the ECAL showers and shape chi2 */

/* The setup the routes see, from the conditions of the card's run (lengths cm, energies GeV). */
typedef struct vis_bkg {
  const na64_vis_bkg_config *c;
  double E0, spread;      /* beam energy and sigma_p/p */
  double a_wcal, a_ecal;  /* stochastic terms of the WCAL and the ECAL */
  double T;               /* WCAL depth, X0 */
  double L, lam;          /* WCAL length and its nuclear interaction length */
  double Ec;              /* critical energy of the W/Sc mix (shower profile of the leak) */
  double t_v2;            /* V2 thickness, X0 */
  double z1, z2;          /* from the WCAL's back face: V2's back face, S4's front face */
  double mip, mip_width;  /* MIP signal of the 1 cm counters V2 and S4 and its relative width */
  double B;               /* bias of the source being estimated (>= 1) */
  /* the hadron route's decay products in the ECAL (NULL shape: the shape cut not applied) */
  const na64_sim *ecal;   /* the visible sim's ECAL (vis_sim_ecal) */
  bkg_shape *shape;       /* the expected cell fractions of the selection's shape chi2 */
  double zE;              /* ECAL front face from the WCAL's back face, cm */
  double xE, yE, sx;      /* ECAL front-face centre (global, cm) and the setup axis' slope dx/dz */
  double cell;            /* ECAL cell pitch (x), cm */
} vis_bkg;

/* vis_event.c: the fast simulation holding the visible sim's ECAL */
const na64_sim *vis_sim_ecal(const na64_vis_sim *s);

/* vis_bkg_routes.c: the weight per EOT of one forced event of each source (0 outside the box) */
double vis_bkg_ev_punch(const vis_bkg *k, na64_rng *rng);
double vis_bkg_ev_hadron(const vis_bkg *k, na64_rng *rng);
double vis_bkg_ev_muon(const vis_bkg *k, na64_rng *rng);
double vis_bkg_ev_accidental(const vis_bkg *k, na64_rng *rng);
/* the probability per EOT of the forced process of a source (the weight scale) */
double vis_bkg_process_prob(const vis_bkg *k, int source);
/* Gamma(a, 1) variate, a > 0 (Marsaglia and Tsang, ACM TOMS 26 (2000) 363) */
double vis_bkg_gamma_draw(na64_rng *rng, double a);
/* Lab energy fraction z of the e from an ultra-relativistic unpolarised mu decay:
 * dN/dz = 5/3 - 3 z^2 + 4/3 z^3 (the Michel spectrum boosted); its integral above z. */
double vis_bkg_michel_lab(double z);
double vis_bkg_michel_lab_above(double z);

#endif
