/*
 * The veto counter V2 behind the WCAL: what a 1 cm scintillator sees of the electron shower that
 * leaks past the WCAL's last layer (src/sim/vis_v2.c; docs/visible.md "V2 behind the WCAL").
 * Shared by the event simulation (vis_event.c) and the Table 2 punch-through route
 * (vis_bkg_routes.c). Internal to libna64 (hidden).
 */
#ifndef NA64_SIM_VIS_V2_H
#define NA64_SIM_VIS_V2_H

#include "na64/core.h"

typedef struct vis_v2_model {
  double Ec;        /* critical energy of the WCAL's W/Sc mix, GeV (the shower profile and the track length) */
  double mip;       /* mean energy of a MIP crossing V2, GeV */
  double mip_width; /* its relative (Moyal) width */
  double p_gamma;   /* probability that a tail photon interacts in V2 (Compton) */
  double t_compton; /* largest kinetic energy of its Compton electron, GeV */
} vis_v2_model;

/* The model for a WCAL of critical energy Ec (GeV) and a plastic counter whose MIP signal is mip
 * (GeV; its areal density is mip / <dE/dx>_min) with the relative width mip_width. */
void vis_v2_model_init(vis_v2_model *m, double Ec, double mip, double mip_width);

/* The mean longitudinal profile of an electron shower of energy E (GeV) in a medium of critical
 * energy Ec (GeV), PDG eqs. 34.35-34.36: dE/dt = E b (bt)^(a-1) e^(-bt) / Gamma(a), b = 0.5,
 * t_max = (a - 1)/b = ln(E/Ec) - 0.5 (at least 0.5 X0). The one profile of the
 * WCAL sections (vis_event.c), V2 (vis_v2.c) and the punch-through route's leak (vis_bkg_routes.c). */
typedef struct vis_mean_profile {
  double a, b;
} vis_mean_profile;
vis_mean_profile vis_mean_profile_of(double E, double Ec);
/* the same from ly = ln(E/Ec), for a caller that has it (vis_event.c: the WCAL sections and V2 of one
 * deposit share one logarithm) */
vis_mean_profile vis_mean_profile_ly(double ly);

/* Mean number of charged particles crossing the plane at depth T (X0) of the mean profile of an
 * electron shower of energy E (GeV): E f(T) / E_c (PDG eqs. 34.35-34.36 and the track length). */
double vis_v2_charged_mean(double E, double T, double Ec);

/* One shower of energy E (GeV) started at the front of T X0 of WCAL: the energy V2 sees (GeV). The
 * profile's depth and shape fluctuate (Grindhammer-Peters widths); Poisson numbers of charged
 * particles (one Moyal MIP each) and of tail photons interacting in V2 (one Compton electron each). */
double vis_v2_draw(const vis_v2_model *m, double E, double T, na64_rng *rng);
/* the same given ly = ln(E / m->Ec) (the same value, the same draws) */
double vis_v2_draw_ly(const vis_v2_model *m, double E, double ly, double T, na64_rng *rng);

#endif
