/*
 * STAND-IN for the reconstruction: a row of the events table (na64_reco_event) from the fast
 * simulation's truth, so that the selection, the efficiency, the background and the report of
 * `na64 run` are real before the reconstruction of raw DATE events (src/reco) lands. The integrator
 * replaces the call of na64_reco_event_from_sim_truth in the job (src/ana/job.c) by the real
 * reconstruction of the raw events; nothing else in the selection depends on it.
 */
#include <math.h>
#include <string.h>

#include "na64/ana.h"

double na64_reco_ecal_outer_fraction(const na64_sim *sim, const na64_sim_event *ev)
{
  int nx = 0, ny = 0;
  double cell = 0, depth[2];
  na64_sim_ecal_layout(sim, &nx, &ny, &cell, depth);
  double tot = 0.0, best = -1.0;
  int ib = 0;
  for (int i = 0; i < nx * ny; ++i) {
    double e = ev->ecal[0][i] + ev->ecal[1][i];
    tot += e;
    if (e > best) {
      best = e;
      ib = i;
    }
  }
  if (!(tot > 0)) return NAN;
  int bx = ib % nx, by = ib / nx;
  double core = 0.0;
  for (int iy = by - 1; iy <= by + 1; ++iy)
    for (int ix = bx - 1; ix <= bx + 1; ++ix)
      if (ix >= 0 && ix < nx && iy >= 0 && iy < ny) core += ev->ecal[0][iy * nx + ix] + ev->ecal[1][iy * nx + ix];
  return fmax(0.0, 1.0 - core / tot);
}

/* Expected outer fraction of an e-m shower and its spread: measured on simulated 100 GeV e- of the
 * default card (docs/selection.md); a one-degree-of-freedom chi2 of the broader-than-EM side. */
#define EM_OUTER_MEAN 0.023
#define EM_OUTER_SIGMA 0.0085

int na64_reco_event_from_sim_truth(const na64_sim *sim, const na64_sim_event *ev, na64_reco_event *r, na64_err *err)
{
  if (!sim || !ev || !r) return na64_err_set(err, NA64_EINVAL, "na64_reco_event_from_sim_truth: NULL argument");
  if (!ev->has_cells)
    return na64_err_set(err, NA64_EINVAL, "event %llu: no detector response (not triggered): not a row of the events table",
                        (unsigned long long)ev->truth.event);
  const na64_sim_truth *t = &ev->truth;
  memset(r, 0, sizeof *r);
  r->run = (int32_t)na64_sim_get_config(sim)->run;
  r->spill = 0;
  r->event = t->event;
  r->momentum = t->energy;
  r->theta = hypot(t->dxdz0, t->dydz0);
  r->track_chi2ndf = NAN;
  r->ntracks_up = r->ntracks_down = 1 + t->pileup;
  r->srd_energy = t->srd;
  for (int m = 0; m < NA64_RECO_SRD_MODULES && m < NA64_SIM_MAX_SRD; ++m) r->srd_module[m] = ev->srd[m];
  r->srd_time = 0.0;
  r->ecal_energy = t->ecal;
  r->preshower_energy = t->ps;
  r->ecal_x = t->x;
  r->ecal_y = t->y;
  double f = na64_reco_ecal_outer_fraction(sim, ev);
  double d = fmax(0.0, f - EM_OUTER_MEAN) / EM_OUTER_SIGMA;
  r->ecal_shape_chi2 = d * d;
  r->hcal_energy = t->hcal;
  for (int m = 0; m < NA64_RECO_HCAL_MODULES && m < NA64_SIM_MAX_HCAL; ++m)
    for (int c = 0; c < NA64_SIM_HCAL_CELLS; ++c) r->hcal_module[m] += ev->hcal[m][c];
  r->veto_energy = t->veto;
  r->weight = t->weight;
  r->simulated = 1;
  r->flags = 0;
  return NA64_OK;
}
