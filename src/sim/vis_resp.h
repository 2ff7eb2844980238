/*
 * Helpers of the visible detector response (vis_event.c, vis_v2.c; branch vissmear): the sparse cell
 * fluctuations of the ECAL (fast_ecal.c), ln Gamma and the incomplete gamma function of the WCAL and
 * V2 profiles (vis_gamma.c). Internal to libna64 (hidden).
 */
#ifndef NA64_SIM_VIS_RESP_H
#define NA64_SIM_VIS_RESP_H

#include "sim/fast_internal.h"

/* fast_ecal.c: sim_ecal_smear with the cells (with_cells = 1) for the visible pair, the cells below
 * 3e-4 of their section without a deviate of their own (the section sums fluctuate exactly as with
 * sim_ecal_smear; fast_ecal.c says what the cells lose). */
void sim_ecal_smear_sparse(const na64_sim *s, na64_rng *rng, double cells[][NA64_SIM_MAX_ECAL], const double dep[2],
                           double vis[2]);

/* vis_gamma.c: ln Gamma(a) for a > 0 (Stirling's series with the recurrence; within ~1e-11 of gsl) */
double vis_lngamma(double a);
/* vis_gamma.c: Q(a, x) = 1 - P(a, x) for a > 0, given pre = x^a e^-x / Gamma(a) (1 for x <= 0) */
double vis_gamma_q_pre(double a, double x, double pre);

/* vis_gamma.c: P(a, x_k) for up to VG_TAB_X fixed x_k (k < nx) on a grid in a: for the WCAL's mean
 * profile (b = 0.5 fixed, the section depths fixed by the run), a function of the shape a(E) alone */
#define VG_TAB_X 3
#define VG_TAB_N 515
typedef struct vis_gamma_table {
  int nx;
  double v[VG_TAB_N][VG_TAB_X];
} vis_gamma_table;
void vis_gamma_table_fill(vis_gamma_table *t, const double *x, int nx);
/* P[k] = P(a, x_k) for k < nx interpolated; 0 (P untouched) if a is outside the table */
int vis_gamma_table_p(const vis_gamma_table *t, double a, double *P);

#endif
