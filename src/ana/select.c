/*
 * The NA64 invisible-mode selection: cut definitions, defaults, the `selection:` section of the
 * run card, per-event decisions and the cut flow (docs/selection.md: each cut, default, source).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/ana.h"

static const char *const cut_names[NA64_NCUTS] = {"momentum", "angle", "single_track", "srd",
                                                   "shower_shape", "preshower", "veto", "signal_box"};

const char *na64_cut_name(int cut) { return cut >= 0 && cut < NA64_NCUTS ? cut_names[cut] : "unknown"; }

void na64_select_config_default(na64_select_config *c)
{
  memset(c, 0, sizeof *c);
  /* Incoming momentum "100 GeV within a few GeV" and a small angle to the beam axis (NA64, PRD 97
   * (2018) 072002, selection (i); PRL 118 (2017) 011802). The published window is not in our
   * reference data: +-3 GeV is 3 sigma of the spectrometer's dp/p ~ 1% (NA64 report). ESTIMATE. */
  c->p_min = 97.0;
  c->p_max = 103.0;
  /* "small angle": 1 mrad, 10 sigma of the H4 divergence of the run cards. ESTIMATE. */
  c->theta_max = 1.0e-3;
  /* single track: PRD 97 (2018) 072002, selection (iv), no multiple hits in the trackers */
  c->max_tracks_down = 1;
  /* SRD energy in the synchrotron-radiation range of a 100 GeV e- and in time (PRD 97 (2018) 072002,
   * selection (ii); PRL 118 (2017) 011802). Window: the SR spectrum of the fast simulation, whose
   * 7 T m bending gives ~40-50 MeV per electron in the SRD (docs/selection.md); ESTIMATE. */
  c->srd_min = 0.001;
  c->srd_max = 0.5;
  c->srd_module_min = 0.0;
  c->srd_time_window = 5.0; /* ns, ESTIMATE: a few SADC samples */
  /* EM shower shape: lateral profile consistent with an e-m shower (PRD 97 (2018) 072002, (iii)) */
  c->shape_chi2_max = 9.0; /* chi2/ndf, ESTIMATE: 3 sigma for one degree of freedom */
  /* pre-shower of an electron: the trigger threshold E_PS > 0.3 GeV (PRD 97 (2018) 072002) */
  c->preshower_min = 0.3;
  /* no veto activity (PRD 97 (2018) 072002, (v)): below half a MIP of the 2 cm thick V2; ESTIMATE */
  c->veto_max = 0.005;
  /* signal box E_ECAL < 50 GeV, E_HCAL < 1 GeV (NA64, PRL 123 (2019) 121801) */
  c->ecal_max = 50.0;
  c->hcal_max = 1.0;
  /* sideband of the extrapolation: 1 <= E_HCAL < 10 GeV, region C of PRL 123 (2019) 121801 (ESTIMATE of its edge) */
  c->hcal_sideband_max = 10.0;
  for (int i = 0; i < NA64_NCUTS; ++i) c->enabled[i] = 1;
}

/* A cut that cannot be applied: the message names the card key (selection.<key>, docs/selection.md)
 * and the condition in words, not the C expression. */
#define BAD(field, key, cond, why)                                                                 \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      return na64_err_set(err, NA64_EINVAL, "selection.%s = %g: %s", key, (double)c->field, why); \
  } while (0)

int na64_select_config_check(const na64_select_config *c, na64_err *err)
{
  if (!c) return na64_err_set(err, NA64_EINVAL, "selection: NULL config");
  BAD(p_min, "momentum_min", isfinite(c->p_min) && c->p_min >= 0, "must be finite and >= 0");
  BAD(p_max, "momentum_max", isfinite(c->p_max) && c->p_max > c->p_min, "must be finite and above momentum_min");
  BAD(theta_max, "theta_max", c->theta_max > 0, "must be > 0");
  BAD(max_tracks_down, "max_tracks_down", c->max_tracks_down >= 1, "must be >= 1");
  BAD(srd_min, "srd_min", isfinite(c->srd_min) && c->srd_min >= 0, "must be finite and >= 0");
  BAD(srd_max, "srd_max", isfinite(c->srd_max) && c->srd_max > c->srd_min, "must be finite and above srd_min");
  BAD(srd_module_min, "srd_module_min", c->srd_module_min >= 0 && c->srd_module_min <= c->srd_max,
      "must lie in [0, srd_max]");
  BAD(srd_time_window, "srd_time_window", c->srd_time_window > 0, "must be > 0");
  BAD(shape_chi2_max, "shape_chi2_max", c->shape_chi2_max > 0, "must be > 0");
  BAD(preshower_min, "preshower_min", isfinite(c->preshower_min) && c->preshower_min >= 0, "must be finite and >= 0");
  BAD(veto_max, "veto_max", c->veto_max > 0, "must be > 0");
  BAD(ecal_max, "ecal_max", isfinite(c->ecal_max) && c->ecal_max > 0, "must be finite and > 0");
  BAD(hcal_max, "hcal_max", isfinite(c->hcal_max) && c->hcal_max > 0, "must be finite and > 0");
  BAD(hcal_sideband_max, "hcal_sideband_max", isfinite(c->hcal_sideband_max) && c->hcal_sideband_max > c->hcal_max,
      "must be finite and above hcal_max");
  return NA64_OK;
}

/* ---- per-event decisions: a comparison with NaN is false, so a missing quantity fails ---- */

static int in(double x, double lo, double hi) { return x >= lo && x <= hi; }

static int pass_srd(const na64_select_config *c, const na64_reco_event *e)
{
  if (!in(e->srd_energy, c->srd_min, c->srd_max) || !(fabs(e->srd_time) <= c->srd_time_window)) return 0;
  if (c->srd_module_min > 0)
    for (int m = 0; m < NA64_RECO_SRD_MODULES; ++m)
      if (!(e->srd_module[m] >= c->srd_module_min)) return 0;
  return 1;
}

unsigned na64_select_event(const na64_select_config *c, const na64_reco_event *e)
{
  int pass[NA64_NCUTS];
  pass[NA64_CUT_MOMENTUM] = in(e->momentum, c->p_min, c->p_max);
  pass[NA64_CUT_ANGLE] = fabs(e->theta) <= c->theta_max;
  pass[NA64_CUT_SINGLE_TRACK] = e->ntracks_up == 1 && e->ntracks_down >= 1 && e->ntracks_down <= c->max_tracks_down;
  pass[NA64_CUT_SRD] = pass_srd(c, e);
  pass[NA64_CUT_SHAPE] = e->ecal_shape_chi2 <= c->shape_chi2_max;
  pass[NA64_CUT_PRESHOWER] = e->preshower_energy >= c->preshower_min;
  pass[NA64_CUT_VETO] = e->veto_energy < c->veto_max;
  pass[NA64_CUT_BOX] = e->ecal_energy < c->ecal_max && e->hcal_energy < c->hcal_max;
  unsigned bits = 0;
  for (int i = 0; i < NA64_NCUTS; ++i)
    if (pass[i] || !c->enabled[i]) bits |= 1u << i;
  return bits;
}

int na64_select_pass(const na64_select_config *c, const na64_reco_event *e)
{
  return na64_select_event(c, e) == (1u << NA64_NCUTS) - 1;
}

/* ---- cut flow ---- */

void na64_cutflow_init(na64_cutflow *f)
{
  memset(f, 0, sizeof *f);
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) {
    na64_xsum_init(&f->weighted[i]);
    na64_xsum_init(&f->weighted2[i]);
  }
}

int na64_cutflow_fill(na64_cutflow *f, const na64_select_config *c, const na64_reco_event *e)
{
  unsigned bits = na64_select_event(c, e);
  double w = e->weight;
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) {
    if (i > 1 && !(bits & (1u << (i - 2)))) return 0; /* sequential: stop at the first failing cut */
    f->events[i]++;
    na64_xsum_add(&f->weighted[i], w);
    na64_xsum_add(&f->weighted2[i], w * w);
  }
  return 1;
}

void na64_cutflow_fill_untriggered(na64_cutflow *f, double w)
{
  f->events[0]++;
  na64_xsum_add(&f->weighted[0], w);
  na64_xsum_add(&f->weighted2[0], w * w);
}

void na64_cutflow_merge(na64_cutflow *f, const na64_cutflow *g)
{
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) {
    f->events[i] += g->events[i];
    na64_xsum_merge(&f->weighted[i], &g->weighted[i]);
    na64_xsum_merge(&f->weighted2[i], &g->weighted2[i]);
  }
}

const char *na64_cutflow_label(int i) { return i == 0 ? "generated" : i == 1 ? "triggered" : na64_cut_name(i - 2); }
