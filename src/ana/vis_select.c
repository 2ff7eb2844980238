/*
 * The visible-mode selection (issue 12; docs/visible.md, "Selection"): the signal signature of the
 * NA64 report's visible-mode setup (refdata na64-report-facts.md) and PRL 120 (2018) 231802:
 * E_WCAL + E_ECAL = E0 within the resolution, E_WCAL <= 0.1 E0 and E_ECAL >= 0.9 E0, no energy in
 * V2, the decay counter S4 with the signal of two MIPs, both showers e-m and starting in the first
 * X0 (pre-shower and lateral shape), two isolated tracks at E0 <= 30 GeV.
 */
#include <math.h>
#include <string.h>

#include "na64/ana.h"

/* a MIP in the 1 cm scintillator counters V2 and S4 of both setups (sql/setups/20_visible_2017.sql):
 * <dE/dx>_min 2.052 MeV cm2/g x 1.06 g/cm3 (PDG table of polystyrene-based scintillator) */
#define VIS_MIP 2.175e-3

static const char *const cut_names[NA64_VIS_NCUTS] = {"energy_sum", "wcal_fraction", "ecal_fraction", "v2",
                                                      "s4",         "preshower",     "shower_shape",  "tracks"};

const char *na64_vis_cut_name(int cut) { return cut >= 0 && cut < NA64_VIS_NCUTS ? cut_names[cut] : NULL; }

void na64_vis_select_config_default(na64_vis_select_config *c)
{
  memset(c, 0, sizeof *c);
  c->energy_sum_sigmas = 3.0;  /* ESTIMATE: the width of "E1 + E2 = E0" (NA64 report) */
  c->wcal_fraction_max = 0.1;  /* f <= 0.1 in the wall (NA64 report) */
  c->ecal_fraction_min = 0.9;  /* (1 - f) >= 0.9 in the ECAL (NA64 report) */
  c->v2_max_mips = 0.5;        /* no energy in V2 (NA64 report); threshold ESTIMATE */
  c->s4_min_mips = 1.5;        /* the decay counter signal of two MIPs (NA64 report); window ESTIMATE */
  c->s4_max_mips = 3.0;
  c->preshower_min = 0.3;      /* GeV: showers starting in the first X0 (NA64 report); the invisible trigger value */
  c->shape_chi2_max = 9.0;     /* e-m lateral shape, as the invisible selection (ESTIMATE) */
  c->min_tracks = 0;           /* two isolated tracks only at E0 <= 30 GeV (NA64 report) */
  c->beam_energy = 100.0;
  c->momentum_spread = 0.01;
  c->wcal_stochastic = 0.18;
  c->ecal_stochastic = 0.10;
  for (int i = 0; i < NA64_VIS_NCUTS; ++i) c->enabled[i] = 1;
}

#define KEY(name, type, dst, lo, hi) {name, type, dst, 0, lo, hi, 0, NULL, 0, NULL}

int na64_vis_select_config_read(const na64_card *card, na64_vis_select_config *c, na64_err *err)
{
  if (!card || !c) return na64_err_set(err, NA64_EINVAL, "na64_vis_select_config_read: NULL argument");
  const na64_card_node *sec = na64_card_get(card, NULL, "selection");
  if (!sec) return NA64_OK;
  int *en = c->enabled;
  na64_card_key apply[NA64_VIS_NCUTS];
  for (int i = 0; i < NA64_VIS_NCUTS; ++i) {
    na64_card_key k = KEY(cut_names[i], NA64_CARD_BOOL, &en[i], 1, 0);
    apply[i] = k;
  }
  const na64_card_key keys[] = {
      KEY("energy_sum_sigmas", NA64_CARD_DOUBLE, &c->energy_sum_sigmas, 0.1, 100),
      KEY("wcal_fraction_max", NA64_CARD_DOUBLE, &c->wcal_fraction_max, 0, 1),
      KEY("ecal_fraction_min", NA64_CARD_DOUBLE, &c->ecal_fraction_min, 0, 1),
      KEY("v2_max_mips", NA64_CARD_DOUBLE, &c->v2_max_mips, 0, 100),
      KEY("s4_min_mips", NA64_CARD_DOUBLE, &c->s4_min_mips, 0, 100),
      KEY("s4_max_mips", NA64_CARD_DOUBLE, &c->s4_max_mips, 0, 100),
      KEY("preshower_min", NA64_CARD_DOUBLE, &c->preshower_min, 0, 1000),
      KEY("shape_chi2_max", NA64_CARD_DOUBLE, &c->shape_chi2_max, 1e-6, 1e9),
      KEY("min_tracks", NA64_CARD_INT, &c->min_tracks, 0, 2),
      {"apply", NA64_CARD_MAP, NULL, 0, 1, 0, 0, apply, NA64_VIS_NCUTS, NULL},
  };
  NA64_CALL(na64_card_read(card, sec, keys, (int)(sizeof keys / sizeof keys[0]), err));
  if (!(c->s4_min_mips < c->s4_max_mips))
    return na64_card_error(card, sec, na64_card_get(card, sec, "s4_max_mips") ? "s4_max_mips" : "s4_min_mips", err,
                           NA64_EFORMAT, "selection.s4_min_mips %g must be below s4_max_mips %g", c->s4_min_mips,
                           c->s4_max_mips);
  return NA64_OK;
}

unsigned na64_vis_select_event(const na64_vis_select_config *c, const na64_vis_reco_event *ev)
{
  const double E0 = c->beam_energy, ew = ev->wcal_energy, ee = ev->ecal_energy;
  /* resolution of the sum: the sampling terms of both calorimeters and the beam's momentum spread */
  double var = c->wcal_stochastic * c->wcal_stochastic * fmax(ew, 0.0) + c->ecal_stochastic * c->ecal_stochastic * fmax(ee, 0.0) +
               (c->momentum_spread * E0) * (c->momentum_spread * E0);
  int ntr = ev->vertex.resolved ? 2 : ev->vertex.ntracks[0] + ev->vertex.ntracks[1] > 0 ? 1 : 0;
  int pass[NA64_VIS_NCUTS] = {
      fabs(ew + ee - E0) <= c->energy_sum_sigmas * sqrt(var),
      ew <= c->wcal_fraction_max * E0,
      ee >= c->ecal_fraction_min * E0,
      ev->v2_energy < c->v2_max_mips * VIS_MIP,
      ev->s4_energy >= c->s4_min_mips * VIS_MIP && ev->s4_energy <= c->s4_max_mips * VIS_MIP,
      ev->preshower_energy >= c->preshower_min,
      ev->ecal_shape_chi2 <= c->shape_chi2_max,
      ntr >= c->min_tracks,
  };
  unsigned bits = 0;
  for (int i = 0; i < NA64_VIS_NCUTS; ++i)
    if (pass[i] || !c->enabled[i]) bits |= 1u << i;
  return bits;
}

int na64_vis_cutflow_fill(na64_vis_cutflow *f, const na64_vis_select_config *c, const na64_vis_reco_event *ev)
{
  unsigned bits = na64_vis_select_event(c, ev);
  f->events[0]++;
  for (int i = 0; i < NA64_VIS_NCUTS; ++i) {
    if (!(bits & (1u << i))) return 0;
    f->events[i + 1]++;
  }
  return 1;
}

void na64_vis_select_box_to_bkg(const na64_vis_select_config *sel, na64_vis_bkg_config *bc)
{
  bc->wcal_fraction_max = sel->enabled[NA64_VIS_CUT_WCAL] ? sel->wcal_fraction_max : 1.0;
  bc->ecal_fraction_min = sel->enabled[NA64_VIS_CUT_ECAL] ? sel->ecal_fraction_min : 1e-3;
  bc->energy_sum_sigmas = sel->enabled[NA64_VIS_CUT_ENERGY_SUM] ? sel->energy_sum_sigmas : 1e9;
  bc->v2_max_mips = sel->enabled[NA64_VIS_CUT_V2] ? sel->v2_max_mips : 1e9;
  bc->s4_min_mips = sel->enabled[NA64_VIS_CUT_S4] ? sel->s4_min_mips : 0.0;
  bc->s4_max_mips = sel->enabled[NA64_VIS_CUT_S4] ? sel->s4_max_mips : 1e9;
  bc->shape_chi2_max = sel->enabled[NA64_VIS_CUT_SHAPE] ? sel->shape_chi2_max : INFINITY;
}
