/*
 * Visible-mode event reconstruction (issue 12; docs/visible.md, "Reconstruction"): the invisible
 * reconstruction (na64_reco_process: ECAL with its pre-shower and shower shape, HCAL, VETO, straw
 * hits) plus what the visible setup adds: the WCAL sections and the counters V2 and S4, and the two
 * tracks and their vertex in the straws (vertex.c); the incoming momentum and angle are the
 * invisible reconstruction's fit (track.c), copied: the deflection between the line of the
 * Micromegas/GEM upstream of the dipoles and that of the stations between the dipoles and the WCAL
 * (MM05, MM06 of the visible setups), for every event; the trackers behind the WCAL, which see the
 * pair and not the beam electron, are not part of it (docs/visible.md "Momentum of every event").
 *
 * WCAL and counter amplitudes: least-squares amplitude of the pulse template at the in-time start
 * (sum s_i (y_i - ped_i) / sum s_i^2, s the pulse model of the digitisation, docs/simulation.md
 * "Raw data"; the start is not fitted: the trigger jitter of 1 ns moves the maximum by < 0.3% of the
 * amplitude), times the gain of the conditions database.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reco/reco_internal.h"

struct na64_vis_reco {
  na64_reco *reco;
  const na64_geom *g;
  int wcal_det, v2_det, s4_det;
  double shape[RECO_NS_TAB], ss;
  na64_daq_sadc_waveform *wf;
  size_t wf_cap;
  na64_vertex_options vopt;
};

int na64_vis_reco_new(const na64_geom *g, na64_vis_reco **out, na64_err *err)
{
  if (!g || !out) return na64_err_set(err, NA64_EINVAL, "na64_vis_reco_new: NULL argument");
  *out = NULL;
  na64_vis_reco *r = calloc(1, sizeof *r);
  if (!r) return na64_err_set(err, NA64_ENOMEM, "visible reco: out of memory");
  r->g = g;
  r->wcal_det = r->v2_det = r->s4_det = -1;
  for (int i = 0; i < g->ndetectors; ++i) {
    if (g->detectors[i].kind == NA64_DET_WCAL) r->wcal_det = i;
    if (!strcmp(g->detectors[i].name, "V2")) r->v2_det = i;
    if (!strcmp(g->detectors[i].name, "S4")) r->s4_det = i;
  }
  for (int i = 0; i < RECO_NS_TAB; ++i) { /* A (x/2)^2 exp(2 - x), x = (t - t_start)/tau: maximum 1 at x = 2 */
    double x = (i * NA64_DAQ_SADC_DEFAULT_PERIOD_NS - RECO_T_INTIME) / RECO_TAU;
    r->shape[i] = x > 0.0 ? 0.25 * x * x * exp(2.0 - x) : 0.0;
    r->ss += r->shape[i] * r->shape[i];
  }
  na64_vertex_options_default(&r->vopt);
  int st = na64_reco_new(g, &r->reco, err);
  if (st != NA64_OK) {
    na64_vis_reco_free(r);
    return st;
  }
  *out = r;
  return NA64_OK;
}

void na64_vis_reco_free(na64_vis_reco *r)
{
  if (!r) return;
  na64_reco_free(r->reco);
  free(r->wf);
  free(r);
}

static double amplitude(const na64_vis_reco *r, const na64_daq_sadc_waveform *w, const na64_geom_cell *c, int sec)
{
  double sy = 0.0;
  int n = w->nsamples < RECO_NS_TAB ? w->nsamples : RECO_NS_TAB;
  for (int i = 0; i < n; ++i) sy += r->shape[i] * (w->samples[i] - ((i & 1) ? c->ped_odd[sec] : c->ped_even[sec]));
  return sy / r->ss;
}

/* WCAL sections, V2 and S4 from the SADC blocks of the event */
static int counters(na64_vis_reco *r, const na64_daq_event *ev, na64_vis_reco_event *out, na64_err *err)
{
  size_t cur = 0;
  na64_daq_equipment eq;
  while (na64_daq_event_next_equipment(ev, &cur, &eq)) {
    if (eq.header.type != NA64_DAQ_EQ_SADC) continue;
    size_t got = 0;
    NA64_CALL(reco_reserve((void **)&r->wf, &r->wf_cap, eq.nwords + 1, sizeof *r->wf, err));
    if (na64_daq_sadc_decode(&eq, r->wf, r->wf_cap, &got, NULL, NULL) != NA64_OK) out->flags |= NA64_RECO_DECODE_ERROR;
    for (size_t k = 0; k < got; ++k) {
      const na64_geom_chan *ch = na64_geom_chan_lookup(r->g, r->wf[k].source_id, r->wf[k].port, 0, r->wf[k].channel);
      if (!ch || ch->cell < 0 || ch->cell >= r->g->ncells || ch->section < 0 || ch->section >= NA64_GEOM_MAX_SECTIONS) continue;
      const na64_geom_cell *c = &r->g->cells[ch->cell];
      int sec = ch->section;
      if (!c->has_calib[sec] || (c->detector != r->wcal_det && c->detector != r->v2_det && c->detector != r->s4_det)) continue;
      double E = amplitude(r, &r->wf[k], c, sec) * c->gain[sec];
      if (c->detector == r->wcal_det && sec < NA64_VIS_RECO_WCAL_SECTIONS) out->wcal_section[sec] += E, out->wcal_energy += E;
      else if (c->detector == r->v2_det) out->v2_energy += E;
      else if (c->detector == r->s4_det) out->s4_energy += E;
    }
  }
  return NA64_OK;
}

int na64_vis_reco_process(na64_vis_reco *r, const na64_daq_event *ev, na64_vis_reco_event *out, na64_err *err)
{
  if (!r || !ev || !out) return na64_err_set(err, NA64_EINVAL, "na64_vis_reco_process: NULL argument");
  memset(out, 0, sizeof *out);
  na64_reco_event row;
  NA64_CALL(na64_reco_process(r->reco, ev, &row, err));
  out->run = row.run;
  out->event = row.event;
  out->ecal_energy = row.ecal_energy;
  out->preshower_energy = row.preshower_energy;
  out->ecal_shape_chi2 = row.ecal_shape_chi2;
  out->hcal_energy = row.hcal_energy;
  out->veto_energy = row.veto_energy;
  out->weight = 1.0;
  out->flags = row.flags & (NA64_RECO_DECODE_ERROR | NA64_RECO_SATURATED | NA64_RECO_NO_TRACK);
  /* the incoming electron: the Micromegas/GEM upstream of the dipoles give the angle, with those
   * between the dipoles and the WCAL the deflection (track.c stops the downstream side at the WCAL) */
  out->momentum = row.momentum;
  out->theta = row.theta;
  out->track_chi2ndf = row.track_chi2ndf;
  NA64_CALL(counters(r, ev, out, err));
  /* the straw hits and segments of the invisible reconstruction's pass over the event */
  NA64_CALL(na64_vertex_find(r->g, &r->reco->sev, &r->vopt, &out->vertex, err));
  return NA64_OK;
}
