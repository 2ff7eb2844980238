/*
 * Visible-mode events into DATE raw data (issue 12; docs/visible.md, "Raw data"), through the DATE
 * writer and codecs of na64/daq.h with the channel map and calibrations of the run in the
 * conditions database: one sampling-ADC waveform per calorimeter and counter readout (WCAL
 * sections, V2, S4, ECAL, VETO, HCAL, SRD) and the F1 hits of the e+ and e- lines in the straw
 * planes (the straw digitiser, src/sim/straw_digi.c). The waveform is the pulse model of the
 * invisible digitisation (src/sim/fast_digi.c, docs/simulation.md "Raw data"), which the
 * reconstruction inverts: 32 samples of 12.5 ns, the calibration's even/odd pedestals, Gaussian
 * noise of 1 count, a pulse A (x/2)^2 exp(2 - x), x = t/tau, tau = 15 ns, maximum A = E / gain at
 * 2 tau, starting 80 ns into the window with 1 ns of trigger jitter, 12-bit clipping.
 * Micromegas and GEM: the APV path of the invisible digitisation (fast_digi.c ms_event and write_apv:
 * multiple scattering in the tracker planes, strip charges, zero suppression) on the beam electron's
 * line before the dipoles (MM01, MM02, GM01) and behind them up to the WCAL (MM05, MM06), then the line
 * of what crosses the trackers behind the WCAL (MM03, MM04): the A' line of a signal event (the e+e-
 * pair's energy-weighted centre: the A' flies along the beam, vis_event.c), nothing for a beam
 * electron, which the WCAL absorbs (docs/visible.md, "Incoming momentum", "Momentum of every event").
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "na64/sim.h"
#include "sim/fast_internal.h"


typedef enum { RO_ECAL, RO_WCAL, RO_V2, RO_S4, RO_VETO, RO_ZERO } ro_kind;

typedef struct vis_readout {
  sim_sadc_channel ch;
  ro_kind kind;
  int section, index;
} vis_readout;

struct na64_vis_digitizer {
  const na64_vis_sim *sim;
  vis_readout *ro;
  int nro;
  na64_straw_digitizer *straw;
  na64_straw_digi_event sev;
  sim_sadc_channel *ch; /* the channels of ro[], in the same order */
  double *amp;          /* this event's pulse maximum per channel, counts (RO_ZERO channels: always 0) */
  int *live;            /* the channels whose energy an event can hold (kind != RO_ZERO), nlive */
  size_t *eoff;         /* and the byte offset of that energy in na64_vis_sim_event */
  int nlive;
  sim_sadc_noise nz; /* the waveform noise of the invisible digitisation */
  na64_sim_digitizer *apv; /* the strip path of the run's invisible digitiser (sim_strip_digitizer_new) */
  na64_sim_event *apv_ev;  /* the track it digitises (truth lines only) */
  double z_ecal, z_wcal;   /* ECAL face (the reference of write_apv's downstream line), WCAL front, cm */
};

static int cmp_readout(const void *a, const void *b)
{
  return sim_sadc_channel_cmp(&((const vis_readout *)a)->ch, &((const vis_readout *)b)->ch);
}

/* where the energy of a readout is in na64_vis_sim_event */
static ro_kind kind_of(const na64_geom_detector *det)
{
  switch (det->kind) {
  case NA64_DET_ECAL: return RO_ECAL;
  case NA64_DET_WCAL: return RO_WCAL;
  case NA64_DET_VETO: return RO_VETO;
  case NA64_DET_COUNTER: return !strcmp(det->name, "V2") ? RO_V2 : !strcmp(det->name, "S4") ? RO_S4 : RO_ZERO;
  default: return RO_ZERO; /* HCAL, SRD: noise only (no energy reaches them in these events) */
  }
}

/* where the energy of a readout is in na64_vis_sim_event: its byte offset (-1: RO_ZERO, none) */
static long readout_offset(const vis_readout *r)
{
  const size_t dz = sizeof(double);
  switch (r->kind) {
  case RO_ECAL:
    return (long)(offsetof(na64_vis_sim_event, ecal) + dz * ((size_t)r->section * NA64_SIM_MAX_ECAL + (size_t)r->index));
  case RO_WCAL: return (long)(offsetof(na64_vis_sim_event, wcal) + dz * (size_t)r->section);
  case RO_V2: return (long)offsetof(na64_vis_sim_event, v2);
  case RO_S4: return (long)offsetof(na64_vis_sim_event, s4);
  case RO_VETO: return (long)(offsetof(na64_vis_sim_event, veto) + dz * (size_t)r->index);
  case RO_ZERO: return -1;
  }
  return -1;
}

static void add_readout(na64_vis_digitizer *d, const na64_geom *g, const na64_geom_cell *c, int k)
{
  const na64_geom_detector *det = &g->detectors[c->detector];
  if (c->daq_key[k] == NA64_GEOM_NO_KEY || !c->has_calib[k] || !(c->gain[k] > 0.0)) return;
  vis_readout r = {0};
  uint32_t chip;
  na64_geom_key_unpack(c->daq_key[k], &r.ch.src, &r.ch.port, &chip, &r.ch.channel);
  if (r.ch.port > 15 || r.ch.channel > 63) return; /* outside the SADC addressing */
  r.kind = kind_of(det);
  r.section = k;
  r.index = det->nx > 0 ? c->iy * det->nx + c->ix : 0;
  if (r.kind == RO_ECAL && (k >= NA64_SIM_ECAL_SECTIONS || r.index >= NA64_SIM_MAX_ECAL)) r.kind = RO_ZERO;
  if (r.kind == RO_VETO && r.index >= NA64_SIM_MAX_VETO) r.kind = RO_ZERO;
  if (r.kind == RO_WCAL && k >= NA64_VIS_WCAL_SECTIONS) r.kind = RO_ZERO;
  r.ch.gain = c->gain[k];
  r.ch.ped_even = c->ped_even[k];
  r.ch.ped_odd = c->ped_odd[k];
  sim_sadc_channel_prepare(&r.ch, &d->nz);
  d->ro[d->nro++] = r;
}

/* The APV digitiser of the run's fast simulation and the planes' reference positions. */
static int apv_setup(na64_vis_digitizer *d, const na64_vis_sim *s, na64_err *err)
{
  const na64_sim *fast = sim_vis_fast(s);
  const na64_geom *g = na64_vis_sim_geom(s);
  d->z_ecal = fast->ecal.z_front;
  d->z_wcal = NAN;
  for (int i = 0; i < g->ndetectors; ++i)
    if (g->detectors[i].kind == NA64_DET_WCAL) d->z_wcal = g->detectors[i].centre[2] - 0.5 * g->detectors[i].size[2];
  d->apv_ev = calloc(1, sizeof *d->apv_ev);
  if (!d->apv_ev) return na64_err_set(err, NA64_ENOMEM, "visible digitizer: out of memory");
  return sim_strip_digitizer_new(fast, &d->nz, &d->apv, err); /* its strip path only, our quantile table */
}

int na64_vis_digitizer_new(const na64_vis_sim *s, na64_vis_digitizer **out, na64_err *err)
{
  if (!s || !out) return na64_err_set(err, NA64_EINVAL, "na64_vis_digitizer_new: NULL argument");
  *out = NULL;
  const na64_geom *g = na64_vis_sim_geom(s);
  na64_vis_digitizer *d = sim_calloc_aligned(sizeof *d); /* its noise library is 64-byte aligned */
  if (!d) return na64_err_set(err, NA64_ENOMEM, "visible digitizer: out of memory");
  d->sim = s;
  na64_straw_digi_event_init(&d->sev);
  sim_sadc_noise_init(&d->nz);
  d->ro = calloc((size_t)g->ncells * NA64_GEOM_MAX_SECTIONS + 1, sizeof *d->ro);
  d->ch = calloc((size_t)g->ncells * NA64_GEOM_MAX_SECTIONS + 1, sizeof *d->ch);
  d->amp = calloc((size_t)g->ncells * NA64_GEOM_MAX_SECTIONS + 1, sizeof *d->amp);
  int st = d->ro && d->ch && d->amp ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "visible digitizer: out of memory");
  for (int i = 0; st == NA64_OK && i < g->ncells; ++i)
    for (int k = 0; k < NA64_GEOM_MAX_SECTIONS; ++k) add_readout(d, g, &g->cells[i], k);
  if (st == NA64_OK) qsort(d->ro, (size_t)d->nro, sizeof *d->ro, cmp_readout);
  d->live = calloc((size_t)d->nro + 1, sizeof *d->live);
  d->eoff = calloc((size_t)d->nro + 1, sizeof *d->eoff);
  if (st == NA64_OK && (!d->live || !d->eoff)) st = na64_err_set(err, NA64_ENOMEM, "visible digitizer: out of memory");
  for (int i = 0; st == NA64_OK && i < d->nro; ++i) {
    d->ch[i] = d->ro[i].ch;
    long off = readout_offset(&d->ro[i]);
    if (off < 0) continue;
    d->live[d->nlive] = i;
    d->eoff[d->nlive++] = (size_t)off;
  }
  if (st == NA64_OK) sim_sadc_channels_group(d->ch, d->nro);
  int nstraw = 0;
  for (int i = 0; i < g->nplanes; ++i) nstraw += g->planes[i].kind == NA64_DET_STRAW;
  na64_straw_digi_options so;
  na64_straw_digi_options_default(&so);
  so.rt_from_conditions = 1; /* the drift of the r(t) the reconstruction is calibrated with */
  if (st == NA64_OK && nstraw) st = na64_straw_digitizer_new(g, &so, &d->straw, err);
  if (st == NA64_OK) st = apv_setup(d, s, err);
  if (st != NA64_OK) {
    na64_vis_digitizer_free(d);
    return st;
  }
  *out = d;
  return NA64_OK;
}

void na64_vis_digitizer_free(na64_vis_digitizer *d)
{
  if (!d) return;
  na64_straw_digitizer_free(d->straw);
  na64_straw_digi_event_release(&d->sev);
  free(d->ro);
  free(d->ch);
  free(d->amp);
  free(d->live);
  free(d->eoff);
  na64_sim_digitizer_free(d->apv);
  free(d->apv_ev);
  free(d);
}

static int write_sadc(na64_vis_digitizer *d, const na64_vis_sim_event *ev, na64_rng *rng, na64_daq_writer *w, na64_err *err)
{
  double shape[WF_SAMPLES];
  sim_sadc_pulse_shape(WF_START + WF_JITTER * na64_rng_gauss(rng), shape);
  sim_word_stream ns = {na64_rng_u64(rng), 0}; /* the invisible digitisation's noise path (fast_digi.c) */
  for (int l = 0; l < d->nlive; ++l) { /* the others stay at 0 (set-up) */
    const int i = d->live[l];
    double E;
    memcpy(&E, (const char *)ev + d->eoff[l], sizeof E);
    d->amp[i] = E > 0.0 ? E / d->ro[i].ch.gain : 0.0;
  }
  return sim_sadc_write_event(&d->nz, d->ch, d->amp, d->nro, shape, &ns, w, err);
}

/* The Micromegas/GEM strips of the event through the invisible digitiser's APV path: the beam line
 * before the dipoles and, behind them, the beam line up to the WCAL front (the stations between the
 * dipoles and the WCAL, docs/visible.md "Momentum of every event"); behind the WCAL the A' line of a
 * signal event (the A' continues the beam's line, vis_event.c) or nothing for a beam electron, which
 * the WCAL absorbs (the planes behind it draw nothing: z_stop of write_apv). */
static int write_apv_hits(na64_vis_digitizer *d, const na64_vis_sim_event *ev, uint32_t nb_in_run, na64_rng *rng,
                          na64_daq_writer *w, na64_err *err)
{
  na64_sim_truth *t = &d->apv_ev->truth;
  t->event = ev->event;
  t->energy = ev->beam_energy;
  t->x0 = ev->beam_x0;
  t->y0 = ev->beam_y0;
  t->dxdz0 = ev->beam_dxdz0;
  t->dydz0 = ev->beam_dydz0;
  double dz = d->z_ecal - d->z_wcal;
  t->x = ev->beam_x + ev->beam_dxdz * dz;
  t->y = ev->beam_y + ev->beam_dydz * dz;
  t->dxdz = ev->beam_dxdz;
  t->dydz = ev->beam_dydz;
  sim_word_stream st = {na64_rng_u64(rng), 0}; /* keyed by one draw, as na64_sim_digitize_write */
  ms_event(d->apv, ev->beam_energy, &st);
  return write_apv(d->apv, d->apv_ev, nb_in_run, ev->signal ? HUGE_VAL : d->z_wcal, &st, w, err);
}

int na64_vis_digitize_write(na64_vis_digitizer *d, const na64_vis_sim_event *ev, uint64_t seed, uint32_t nb_in_run,
                            na64_daq_writer *w, na64_err *err)
{
  if (!d || !ev || !w) return na64_err_set(err, NA64_EINVAL, "na64_vis_digitize_write: NULL argument");
  na64_rng rng;
  sim_sadc_noise_library(&d->nz, seed); /* the waveforms' noise library of the run seed (fast_digi.c) */
  na64_rng_init(&rng, seed + DIGI_SEED_KEY, ev->event);
  na64_daq_header h;
  memset(&h, 0, sizeof h);
  h.type = NA64_DAQ_PHYSICS_EVENT;
  h.run = (uint32_t)na64_vis_sim_config(d->sim)->run;
  h.id[0] = nb_in_run;
  uint32_t burst = 1 + nb_in_run / (1u << 19), nb = nb_in_run % (1u << 19); /* as na64_sim_digitize_write */
  h.id[1] = NA64_DAQ_ID1(burst, nb);
  h.trigger_pattern[0] = 1u;
  NA64_CALL(na64_daq_writer_begin_event(w, &h, err));
  NA64_CALL(write_sadc(d, ev, &rng, w, err));
  NA64_CALL(write_apv_hits(d, ev, nb_in_run, &rng, w, err));
  if (d->straw) {
    na64_straw_track tr[2];
    size_t n = 0;
    for (int q = 0; q < 2 && ev->signal; ++q, ++n) {
      na64_straw_track t = {{ev->decay[0], ev->decay[1], ev->decay[2]}, {ev->slope[q][0], ev->slope[q][1], 1.0}, 0.0};
      tr[q] = t;
    }
    NA64_CALL(na64_straw_digitize(d->straw, tr, n, &rng, &d->sev, err));
    NA64_CALL(na64_straw_digi_write(d->straw, &d->sev, nb, w, err));
  }
  return na64_daq_writer_end_event(w, err);
}

/* Start and end of run as the invisible digitisation writes them (na64_sim_write_run_mark): an
 * event of that type with the run number and the count in id[0] (docs/raw-format.md). */
int na64_vis_write_run_mark(const na64_vis_sim *s, uint32_t type, uint32_t nb_in_run, na64_daq_writer *w, na64_err *err)
{
  if (!s || !w) return na64_err_set(err, NA64_EINVAL, "na64_vis_write_run_mark: NULL argument");
  return sim_write_run_mark("na64_vis_write_run_mark", na64_vis_sim_config(s)->run, type, nb_in_run, w, err);
}
