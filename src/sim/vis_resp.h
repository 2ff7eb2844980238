/*
 * Helpers of the visible detector response (vis_event.c, vis_v2.c; branch vissmear): the sparse cell
 * fluctuations of the ECAL (fast_ecal.c), ln Gamma and the incomplete gamma function of the WCAL and
 * V2 profiles (vis_gamma.c). Internal to libna64 (hidden).
 */
#ifndef NA64_SIM_VIS_RESP_H
#define NA64_SIM_VIS_RESP_H

#include "sim/fast_internal.h"

/* fast_ecal.c: sim_ecal_smear with the cells (with_cells = 1) for the visible pair, the cells below
 * 1e-3 of their section without a deviate of their own (the section sums fluctuate exactly as with
 * sim_ecal_smear; fast_ecal.c says what the cells lose). */
void sim_ecal_smear_sparse(const na64_sim *s, na64_rng *rng, double cells[][NA64_SIM_MAX_ECAL], const double dep[2],
                           double vis[2]);

#endif
