/*
 * Triggered events of the fast simulation into DATE raw data, through the existing writer and
 * codecs (na64/daq.h): sampling-ADC waveforms for every calorimeter-type readout, F1 hits of the
 * straw digitiser and APV strip hits of the Micromegas and GEM planes for the beam track.
 * docs/simulation.md, "Raw data".
 *
 * Strip model (ESTIMATES, documented in docs/simulation.md "Strip response (mmres)"): plane
 * efficiency 0.95; the charge of a crossing, Landau-like (Moyal) with most probable 400 ADC counts;
 * its centroid displaced from the track by the statistics of the primary electrons (diffusion,
 * Polya gain) and by the delta electron that carries the Landau excess; spread over the strips by
 * the charge cloud (transverse diffusion over the drift and transfer gaps, the Micromegas' resistive
 * layer, the track's inclination); three APV25 samples at 0.35, 1.0 and 0.75 of the strip
 * amplitude; noise 5 counts per sample; zero suppression at 3 sigma of the middle sample;
 * amplitudes clip at 4095. strip_response_setup gives the formulas and their sources.
 *
 * Waveform model (ESTIMATES, documented): 32 samples of 12.5 ns (NA64_DAQ_SADC_DEFAULT_PERIOD_NS), the
 * even/odd pedestals of the calibration, Gaussian noise of 1.0 count per sample, and a pulse
 * A (x/2)^2 exp(2 - x), x = t/tau, whose maximum A = E / gain counts is at t = 2 tau, tau = 15 ns,
 * starting 80 ns into the window with 1 ns of trigger jitter; samples clip to the 12-bit range. The gain
 * of the conditions database (GeV per ADC count) is read as GeV per count of pulse maximum.
 */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <pthread.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "na64/cond.h"
#include "sim/fast_internal.h"

#define APV_EFF 0.95
#define APV_MPV 400.0
/* The physics of the strip response (strip_response_setup), per detector kind: gas Ar/CO2 70/30 in
 * both (COMPASS-type chambers). ESTIMATES where no source is named. */
#define GAS_DT 0.022           /* transverse diffusion, cm/sqrt(cm) (Magboltz order for Ar/CO2 70/30 at ~1 kV/cm) */
#define GAS_NT 95.0            /* electrons per cm of a MIP: PDG RPP 2024 Table 35.5, n_T 97 (Ar), 91 (CO2) */
#define GAS_RHO 1.714e-3       /* g/cm3 at 20 C: 0.7 x 1.662e-3 (Ar) + 0.3 x 1.842e-3 (CO2), PDG atomic data */
#define GAIN_THETA 0.5         /* Polya parameter of the single-electron gain: relative variance 1/(1 + theta) */
#define MM_GAP 0.5             /* Micromegas drift (conversion) gap, cm */
#define MM_SPREAD 0.028        /* lateral spread of the resistive layer, cm: a cluster of ~5 strips of 250 um */
#define MM_EMPV 1.06           /* most probable energy loss in the 5 mm gap, keV (Bichsel, PDG Eq. 34.12) */
#define GEM_GAP 0.3            /* triple GEM: drift gap, cm (COMPASS: 3 mm drift, 2 + 2 mm transfer, 2 mm induction) */
#define GEM_TRANSFER 0.6       /* transfer and induction gaps crossed by every electron, cm */
#define GEM_EMPV 0.62          /* most probable energy loss in the 3 mm drift gap, keV (PDG Eq. 34.12) */
#define APV_DELTA_N 80         /* delta-electron offset table: q/q_mpv in [1, 3.5] in steps of 1/32 */
#define APV_NOISE 5.0
#define APV_MAX_HITS 4096
#define ERF_TAB_X 6.0  /* erf tabulated on [-6, 6] (1 - erf(6) = 2e-17) */
#define ERF_TAB_N 3072 /* steps of 1/256: linear interpolation error < h^2/8 max|erf''| = 1.8e-6 */
/* Multiple scattering in the tracker material (ESTIMATES of the material per plane, in X0: a
 * Micromegas 0.3%, a triple GEM 0.4%, a straw plane of two layers of 70 um Kapton tubes 0.1%); a strip
 * plane with a strip_resolution record in the conditions database scatters with its x_x0 (the same
 * numbers in the default database, sql/setups/45_strip_resolution.sql) */
#define MS_MAX_PLANES 64
#define MS_X0_MICROMEGAS 0.003
#define MS_X0_GEM 0.004
#define MS_X0_STRAW 0.001

typedef enum { SRC_ECAL, SRC_HCAL, SRC_SRD, SRC_VETO, SRC_COUNTER } readout_kind;

typedef struct readout {
  sim_sadc_channel ch;
  readout_kind kind;
  int section, index, module; /* where its energy is in na64_sim_event */
  double mip;                 /* counters only (GeV) */
  long eoff;                  /* byte offset of its energy in na64_sim_event (readout_offset); -1: a counter */
} readout;

/* A Micromegas or GEM plane, in the order the hits are made (strip_planes_setup) */
typedef struct strip_plane {
  int plane, ms;                 /* index in the geometry; in the scattering planes (-1: none) */
  uint32_t src, chip, channel;   /* the smallest DAQ address of its strips */
  /* its response (strip_response_setup), lengths in strips */
  double cloud2;                 /* variance of the charge cloud at normal incidence */
  double gap2;                   /* (drift gap)^2 / 12: the inclination's variance per unit slope^2 */
  double ion2, ion_n;            /* centroid variance of the primary electrons (normal incidence); (1 + 1/(1 + theta))/N_e */
  double delta[APV_DELTA_N + 1]; /* the delta electron's centroid offset amplitude against q/q_mpv */
} strip_plane;

struct na64_sim_digitizer {
  const na64_sim *sim;
  strip_plane *sp;
  int nsp;
  readout *ro;
  int nro;
  na64_straw_digitizer *straw; /* NULL if the setup has no straw planes */
  sim_sadc_channel *ch; /* the channels of ro[], in the same order */
  double *amp;          /* this event's pulse maximum per channel, counts */
  na64_straw_digi_event sev;
  sim_sadc_noise nz; /* the waveform noise table, also the strips' */
  double erf_tab[ERF_TAB_N + 1]; /* erf on [-ERF_TAB_X, ERF_TAB_X], for the strip charge sharing */
  double cos_tab[256];           /* cos(2 pi (k + 1/2) / 256): the delta electron's azimuth */
  na64_daq_apv_hit *apv;  /* APV_MAX_HITS */
  int nms;                 /* tracker planes in z order: multiple scattering */
  int ms_plane[MS_MAX_PLANES];
  double ms_z[MS_MAX_PLANES], ms_x0[MS_MAX_PLANES];
  double ms_sqrt[MS_MAX_PLANES], ms_log[MS_MAX_PLANES]; /* Highland's sqrt(x/X0) and 1 + 0.038 ln(x/X0) */
  double ms_dx[MS_MAX_PLANES], ms_dy[MS_MAX_PLANES]; /* this event's offsets at each plane, cm */
  double ms_sx, ms_sy;     /* and the total deflection, rad */
  double tail_a;           /* Phi^-1(4095/4096): where gauss_table's exact tails start */
  double moyal_q[4096];    /* plane_hits' charge APV_MPV (1 - 0.15 ln z^2) at the quantile z[i] (inner i) */
};

/* Highland's formula for the width of the projected multiple-scattering angle (PDG Review of
 * Particle Physics, "Passage of particles through matter", eq. 34.16): theta0 = 13.6 MeV / (beta c p)
 * sqrt(x/X0) (1 + 0.038 ln(x/X0)) for a singly charged particle (beta = 1 here), p in GeV. */
double na64_sim_highland(double p, double x_over_x0)
{
  if (!(p > 0.0) || !(x_over_x0 > 0.0)) return 0.0;
  return 0.0136 / p * sqrt(x_over_x0) * (1.0 + 0.038 * log(x_over_x0));
}

/* The tracker planes ordered in z with their material (insertion sort: a few dozen planes). */
static void ms_setup(na64_sim_digitizer *d)
{
  const na64_geom *g = d->sim->geom;
  for (int i = 0; i < g->nplanes && d->nms < MS_MAX_PLANES; ++i) {
    int k = g->planes[i].kind;
    double x = k == NA64_DET_MICROMEGAS ? MS_X0_MICROMEGAS : k == NA64_DET_GEM ? MS_X0_GEM : k == NA64_DET_STRAW ? MS_X0_STRAW : 0.0;
    if (k != NA64_DET_STRAW && g->planes[i].has_response) x = g->planes[i].x_x0; /* the strip plane's material that the fit uses */
    if (!(x > 0.0)) continue;
    int j = d->nms++;
    while (j > 0 && d->ms_z[j - 1] > g->planes[i].centre[2]) {
      d->ms_z[j] = d->ms_z[j - 1];
      d->ms_x0[j] = d->ms_x0[j - 1];
      d->ms_plane[j] = d->ms_plane[j - 1];
      --j;
    }
    d->ms_z[j] = g->planes[i].centre[2];
    d->ms_x0[j] = x;
    d->ms_plane[j] = i;
  }
  for (int i = 0; i < d->nms; ++i) { /* the factors of na64_sim_highland that do not depend on p */
    d->ms_sqrt[i] = sqrt(d->ms_x0[i]);
    d->ms_log[i] = 1.0 + 0.038 * log(d->ms_x0[i]);
  }
}

/* This event's scattering: a Gaussian kick of width theta0 after each plane (both projections),
 * N(0, 1) from gauss_table (exact tails);
 * the offset at plane i is the sum of the kicks of the planes before it times their distance. The
 * dipoles leave slope differences unchanged at first order, so the kicks propagate as straight lines. */
/* N(0, 1) from the 12-bit index i of a random word: the quantile table for the 4094 inner bins of
 * probability 1/4096, and an exact draw from the tail beyond tail_a = Phi^-1(4095/4096) for the two
 * outer ones (Marsaglia's tail method, G. Marsaglia, Technometrics 6 (1964) 101: x = sqrt(a^2 - 2
 * ln u1) until u2 x <= a), so that the tails are not cut at 3.66 sigma (the scattering kicks'
 * tails are what moves a track out of the momentum cut). */
static double gauss_table(const na64_sim_digitizer *d, unsigned i, sim_sadc_stream *st)
{
  if (i - 1u < 4094u) return d->nz.z[i];
  const double a = d->tail_a;
  double x;
  for (;;) {
    uint64_t w = sim_noise_word(st->key, ++st->k);
    double u1 = ((double)(w >> 32) + 0.5) * 0x1.0p-32, u2 = ((double)(w & 0xFFFFFFFFu) + 0.5) * 0x1.0p-32;
    x = sqrt(a * a - 2.0 * log(u1));
    if (u2 * x <= a) break;
  }
  return i ? x : -x;
}

void ms_event(na64_sim_digitizer *d, double p, sim_sadc_stream *st)
{
  double sx = 0.0, sy = 0.0, ox = 0.0, oy = 0.0, c = p > 0.0 ? 0.0136 / p : 0.0;
  for (int i = 0; i < d->nms; ++i) {
    if (i > 0) {
      ox += sx * (d->ms_z[i] - d->ms_z[i - 1]);
      oy += sy * (d->ms_z[i] - d->ms_z[i - 1]);
    }
    d->ms_dx[i] = ox;
    d->ms_dy[i] = oy;
    double th = c * d->ms_sqrt[i] * d->ms_log[i]; /* = na64_sim_highland(p, x/X0), the same operations */
    uint64_t w = sim_noise_word(st->key, ++st->k);
    sx += th * gauss_table(d, (unsigned)(w & 4095u), st);
    sy += th * gauss_table(d, (unsigned)((w >> 16) & 4095u), st);
  }
  d->ms_sx = sx;
  d->ms_sy = sy;
}

static int ms_index(const na64_sim_digitizer *d, int plane)
{
  for (int i = 0; i < d->nms; ++i)
    if (d->ms_plane[i] == plane) return i;
  return -1;
}

static int cmp_strip_plane(const void *a, const void *b)
{
  const strip_plane *x = a, *y = b;
  if (x->src != y->src) return x->src < y->src ? -1 : 1;
  if (x->chip != y->chip) return x->chip < y->chip ? -1 : 1;
  if (x->channel != y->channel) return x->channel < y->channel ? -1 : 1;
  return (x->plane > y->plane) - (x->plane < y->plane);
}

/* Kanaya-Okayama range of an electron of kinetic energy t (keV) in the gas, cm: R = 0.0276 A t^1.67 /
 * (Z^0.889 rho) um (K. Kanaya, S. Okayama, J. Phys. D 5 (1972) 43), with Ar's A = 39.95, Z = 18. */
static double delta_range(double t) { return 1e-4 * 0.0276 * 39.95 * pow(t, 1.67) / (pow(18.0, 0.889) * GAS_RHO); }

/* The response of strip plane pl (lengths in strips of its pitch):
 *  - charge cloud: every primary electron diffuses by D_T sqrt(l) over its drift length l (F. Sauli,
 *    Gaseous Radiation Detectors, CUP 2014, ch. 4: sigma_x = sqrt(2 D t) = D_T sqrt(l)); created
 *    uniformly over the drift gap L and crossing the transfer gaps L_t of a GEM, the cloud of all of
 *    them has variance D_T^2 (L/2 + L_t), plus the resistive layer's spread of the Micromegas;
 *    a track of slope t_u across the strips adds (L t_u)^2/12 (its ionisation spread over L t_u);
 *  - its centroid: the mean of N_e = n_T L electrons, each displaced with that variance and weighted
 *    by a Polya gain of relative variance 1/(1 + theta) (W. Blum, W. Riegler, L. Rolandi, Particle
 *    Detection with Drift Chambers, Springer 2008, ch. 4.4: var = sigma^2 (1 + f) / N), at the
 *    track's point in the middle of the drift gap (the plane's z);
 *  - the Landau excess q - q_mpv (q > q_mpv) is one delta electron of energy T = (q/q_mpv - 1) E_mpv
 *    (E_mpv: Bichsel's most probable loss in the drift gap, PDG RPP 2024 Eq. 34.12), emitted almost
 *    perpendicular to a relativistic track (cos theta = sqrt(T/T_max) ~ 0, PDG Eq. 34.5's kinematics)
 *    at a uniform azimuth phi; its charge lies along its range R(T) (Kanaya-Okayama), taken as a
 *    straight path (an upper estimate: the delta's scattering curls it up), so the centroid moves
 *    by (q - q_mpv)/q R(T)/2 cos(phi). delta[] tabulates (q - q_mpv)/q R/2 against
 *    q/q_mpv = 1 + k/32, k = 0..80 (q <= 3.4 q_mpv in the Moyal draw). */
static void strip_response_setup(strip_plane *sp, const na64_geom_plane *pl)
{
  const int gem = pl->kind == NA64_DET_GEM;
  const double L = gem ? GEM_GAP : MM_GAP, lt = gem ? GEM_TRANSFER : 0.0, spread = gem ? 0.0 : MM_SPREAD;
  const double e_mpv = gem ? GEM_EMPV : MM_EMPV, p = pl->pitch > 0.0 ? pl->pitch : 0.04;
  const double diff2 = GAS_DT * GAS_DT * (0.5 * L + lt); /* cm^2 */
  sp->cloud2 = (diff2 + spread * spread) / (p * p);
  sp->gap2 = L * L / 12.0 / (p * p);
  sp->ion_n = (1.0 + 1.0 / (1.0 + GAIN_THETA)) / (GAS_NT * L);
  sp->ion2 = diff2 / (p * p) * sp->ion_n;
  sp->delta[0] = 0.0;
  for (int k = 1; k <= APV_DELTA_N; ++k) {
    double x = 1.0 + k / 32.0;
    sp->delta[k] = (x - 1.0) / x * 0.5 * delta_range((x - 1.0) * e_mpv) / p;
  }
}

/* The strip planes by their smallest DAQ address (source, chip, channel): the hits then come
 * nearly in the order of the APV blocks, and sort_apv has little to move (the geometry's plane
 * order interleaves the sources). */
static int strip_planes_setup(na64_sim_digitizer *d, na64_err *err)
{
  const na64_geom *g = d->sim->geom;
  d->sp = calloc((size_t)g->nplanes + 1, sizeof *d->sp);
  if (!d->sp) return na64_err_set(err, NA64_ENOMEM, "sim digitizer: out of memory");
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *pl = &g->planes[i];
    if (pl->kind != NA64_DET_MICROMEGAS && pl->kind != NA64_DET_GEM) continue;
    strip_plane p = {.plane = i, .ms = ms_index(d, i), .src = UINT32_MAX, .chip = UINT32_MAX, .channel = UINT32_MAX};
    for (int k = 0; k < pl->nwires; ++k) {
      if (pl->daq_key[k] == NA64_GEOM_NO_KEY) continue;
      strip_plane q = p;
      uint32_t port;
      na64_geom_key_unpack(pl->daq_key[k], &q.src, &port, &q.chip, &q.channel);
      if (cmp_strip_plane(&q, &p) < 0) p = q;
    }
    strip_response_setup(&p, pl);
    d->sp[d->nsp++] = p;
  }
  qsort(d->sp, (size_t)d->nsp, sizeof *d->sp, cmp_strip_plane);
  return NA64_OK;
}

int sim_sadc_channel_cmp(const sim_sadc_channel *x, const sim_sadc_channel *y)
{
  if (x->src != y->src) return x->src < y->src ? -1 : 1;
  if (x->port != y->port) return x->port < y->port ? -1 : 1;
  return x->channel < y->channel ? -1 : x->channel > y->channel;
}

static int cmp_readout(const void *a, const void *b)
{
  return sim_sadc_channel_cmp(&((const readout *)a)->ch, &((const readout *)b)->ch);
}

/* Where readout_energy finds the energy of r in an event: its byte offset, -1 for the counters
 * (a MIP drawn per event) and for an ECAL section the event does not have. */
static long readout_offset(const readout *r)
{
  switch (r->kind) {
  case SRC_ECAL:
    return r->section < NA64_SIM_ECAL_SECTIONS ? (long)(offsetof(na64_sim_event, ecal) +
                                                        sizeof(double) * ((size_t)r->section * NA64_SIM_MAX_ECAL + (size_t)r->index))
                                               : -1;
  case SRC_HCAL:
    return (long)(offsetof(na64_sim_event, hcal) + sizeof(double) * ((size_t)r->module * NA64_SIM_HCAL_CELLS + (size_t)r->index));
  case SRC_SRD: return (long)(offsetof(na64_sim_event, srd) + sizeof(double) * (size_t)r->index);
  case SRC_VETO: return (long)(offsetof(na64_sim_event, veto) + sizeof(double) * (size_t)r->index);
  case SRC_COUNTER: return -1;
  }
  return -1;
}

/* The readout of cell c, section k, if it has a DAQ channel, a calibration and a known detector. */
static int add_readout(na64_sim_digitizer *d, const na64_geom *g, const na64_geom_cell *c, int k)
{
  const na64_geom_detector *det = &g->detectors[c->detector];
  if (c->daq_key[k] == NA64_GEOM_NO_KEY || !c->has_calib[k] || !(c->gain[k] > 0.0)) return 0;
  readout r = {0};
  uint32_t chip;
  na64_geom_key_unpack(c->daq_key[k], &r.ch.src, &r.ch.port, &chip, &r.ch.channel);
  if (r.ch.port > 15 || r.ch.channel > 63) return 0; /* outside the SADC addressing */
  r.section = k;
  r.module = c->module;
  r.ch.gain = c->gain[k];
  r.ch.ped_even = c->ped_even[k];
  r.ch.ped_odd = c->ped_odd[k];
  const sim_grid *grid = NULL;
  if (!strcmp(det->name, "ECAL")) r.kind = SRC_ECAL, grid = &d->sim->ecal;
  else if (!strcmp(det->name, "HCAL") && c->module < d->sim->nhcal) r.kind = SRC_HCAL, grid = &d->sim->hcal[c->module];
  else if (!strcmp(det->name, "SRD") && c->module < d->sim->nsrd) r.kind = SRC_SRD;
  else if (!strcmp(det->name, "VETO")) r.kind = SRC_VETO, grid = &d->sim->veto;
  else if (!strcmp(det->name, "S0") || !strcmp(det->name, "S1")) {
    r.kind = SRC_COUNTER; /* a MIP in the scintillator (PDG min dE/dx of polystyrene 2.052 MeV cm2/g) */
    r.mip = 1e-3 * 2.052 * 1.06 * c->size[2];
  } else return 0;
  r.index = grid ? c->iy * grid->nx + c->ix : c->module;
  r.eoff = readout_offset(&r);
  d->ro[d->nro++] = r;
  return 1;
}

/* The strip (APV) path of a digitiser: the quantile table z of nz (copied: the visible digitiser
 * passes its own, the invisible one its freshly made table), the tail start of gauss_table, the erf
 * table of the charge sharing, the hit buffer, the scattering planes and the strip planes. */
static int strip_path_setup(na64_sim_digitizer *d, const sim_sadc_noise *nz, na64_err *err)
{
  if (nz != &d->nz) {
    memcpy(d->nz.z, nz->z, sizeof d->nz.z);
    d->nz.zmax = nz->zmax;
  }
  d->tail_a = gsl_cdf_ugaussian_Pinv(4095.0 / 4096.0);
  for (int i = 0; i < 4096; ++i) d->moyal_q[i] = APV_MPV * (1.0 + 0.15 * (-log(d->nz.z[i] * d->nz.z[i])));
  for (int i = 0; i <= ERF_TAB_N; ++i) d->erf_tab[i] = erf(-ERF_TAB_X + i * (2.0 * ERF_TAB_X / ERF_TAB_N));
  for (int i = 0; i < 256; ++i) d->cos_tab[i] = cos(2.0 * M_PI * (i + 0.5) / 256.0);
  d->apv = calloc(APV_MAX_HITS, sizeof *d->apv);
  if (!d->apv) return na64_err_set(err, NA64_ENOMEM, "sim digitizer: out of memory");
  ms_setup(d);
  return strip_planes_setup(d, err);
}

int na64_sim_digitizer_new(const na64_sim *s, na64_sim_digitizer **out, na64_err *err)
{
  if (!s || !out) return na64_err_set(err, NA64_EINVAL, "na64_sim_digitizer_new: NULL argument");
  *out = NULL;
  const na64_geom *g = s->geom;
  na64_sim_digitizer *d = calloc(1, sizeof *d);
  if (!d) return na64_err_set(err, NA64_ENOMEM, "sim digitizer: out of memory");
  d->sim = s;
  na64_straw_digi_event_init(&d->sev);
  d->ro = calloc((size_t)g->ncells * NA64_GEOM_MAX_SECTIONS + 1, sizeof *d->ro);
  int st = d->ro ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "sim digitizer: out of memory");
  for (int i = 0; st == NA64_OK && i < g->ncells; ++i)
    for (int k = 0; k < NA64_GEOM_MAX_SECTIONS; ++k) add_readout(d, g, &g->cells[i], k);
  if (st == NA64_OK) qsort(d->ro, (size_t)d->nro, sizeof *d->ro, cmp_readout);
  d->ch = st == NA64_OK ? calloc((size_t)d->nro + 1, sizeof *d->ch) : NULL;
  d->amp = st == NA64_OK ? calloc((size_t)d->nro + 1, sizeof *d->amp) : NULL;
  if (st == NA64_OK && (!d->ch || !d->amp)) st = na64_err_set(err, NA64_ENOMEM, "sim digitizer: out of memory");
  int nstraw = 0;
  for (int i = 0; i < g->nplanes; ++i) nstraw += g->planes[i].kind == NA64_DET_STRAW;
  if (st == NA64_OK && nstraw) st = na64_straw_digitizer_new(g, NULL, &d->straw, err);
  sim_sadc_noise_init(&d->nz);
  for (int i = 0; st == NA64_OK && i < d->nro; ++i) {
    sim_sadc_channel_prepare(&d->ro[i].ch, &d->nz);
    d->ch[i] = d->ro[i].ch;
  }
  if (st == NA64_OK) sim_sadc_channels_group(d->ch, d->nro);
  if (st == NA64_OK) st = strip_path_setup(d, &d->nz, err);
  if (st) {
    na64_sim_digitizer_free(d);
    return st;
  }
  *out = d;
  return NA64_OK;
}

int sim_strip_digitizer_new(const na64_sim *s, const sim_sadc_noise *nz, na64_sim_digitizer **out, na64_err *err)
{
  if (!s || !nz || !out) return na64_err_set(err, NA64_EINVAL, "sim_strip_digitizer_new: NULL argument");
  *out = NULL;
  na64_sim_digitizer *d = calloc(1, sizeof *d);
  if (!d) return na64_err_set(err, NA64_ENOMEM, "sim digitizer: out of memory");
  d->sim = s;
  na64_straw_digi_event_init(&d->sev);
  int st = strip_path_setup(d, nz, err);
  if (st) {
    na64_sim_digitizer_free(d);
    return st;
  }
  *out = d;
  return NA64_OK;
}

void na64_sim_digitizer_free(na64_sim_digitizer *d)
{
  if (!d) return;
  na64_straw_digitizer_free(d->straw);
  na64_straw_digi_event_release(&d->sev);
  free(d->ro);
  free(d->ch);
  free(d->amp);
  free(d->apv);
  free(d->sp);
  free(d);
}

static double readout_energy(const readout *r, const na64_sim_event *ev, na64_rng *rng)
{
  if (r->eoff >= 0) { /* a calorimeter, SRD or veto cell: the energy the event holds */
    double E;
    memcpy(&E, (const char *)ev + r->eoff, sizeof E);
    return E;
  }
  switch (r->kind) {
  case SRC_ECAL: return r->section < NA64_SIM_ECAL_SECTIONS ? ev->ecal[r->section][r->index] : 0.0;
  case SRC_HCAL: return ev->hcal[r->module][r->index];
  case SRC_SRD: return ev->srd[r->index];
  case SRC_VETO: return ev->veto[r->index];
  case SRC_COUNTER: return ev->truth.triggered ? r->mip * (1.0 + 0.1 * na64_rng_gauss(rng)) : 0.0;
  }
  return 0.0;
}

/* The quantile table is the same for every digitiser: made once per process (4096
 * gsl_cdf_ugaussian_Pinv, ~1.4M instructions), copied into each. */
static double quantile_z[4096], quantile_zmax;
static pthread_once_t quantile_once = PTHREAD_ONCE_INIT;

static void quantile_fill(void)
{
  quantile_zmax = 0.0;
  for (int i = 0; i < 4096; ++i) {
    quantile_z[i] = gsl_cdf_ugaussian_Pinv((i + 0.5) / 4096.0);
    quantile_zmax = fmax(quantile_zmax, WF_NOISE * fabs(quantile_z[i]));
  }
}

void sim_sadc_noise_init(sim_sadc_noise *nz)
{
  pthread_once(&quantile_once, quantile_fill);
  memcpy(nz->z, quantile_z, sizeof nz->z);
  nz->zmax = quantile_zmax;
  nz->lib_ready = 0;
}

_Static_assert(SADC_LIB_BLOCKS == 4096, "every lane of the library holds each quantile once");

/* The pedestal-run noise library (docs/simulation.md, "Raw data"): as NA64 (like ATLAS and CMS with
 * zero-bias overlay) could take the noise of a channel from recorded noise-only waveforms, the
 * waveforms take theirs from blocks of a library generated here from the noise model itself: lane
 * j (sample j of a block of 16) of the 4096 blocks is an independent random permutation of the 4096
 * quantiles WF_NOISE z[i] of N(0, 1), shuffled by Fisher-Yates (Knuth TAOCP vol. 2, 3.4.2 P) with
 * the Philox stream (seed + DIGI_SEED_KEY, 2^64 - 1), a stream no event uses (events count from 0).
 * Every sample's marginal distribution is then exactly the quantile table's. At use, each block
 * gets the signs of a random row of the 16 x 16 Sylvester-Hadamard matrix times a random global
 * sign (sign_pattern): as the columns of a Hadamard matrix are orthogonal, the products of two
 * samples of a block average to exactly 0 over the 32 sign patterns, whatever the library's own
 * (frozen, ~1/64) lane-to-lane correlations; samples of different blocks have independent global
 * signs, hence zero covariance even when they share a library block (probability 1/4096 per pair).
 * Sample j is stored at sim_sadc_lane(j) (the waveform loops' order); the values are those of j. */
void sim_sadc_noise_library(sim_sadc_noise *nz, uint64_t seed)
{
  if (nz->lib_ready && nz->lib_seed == seed) return;
  na64_rng r;
  na64_rng_init(&r, seed + DIGI_SEED_KEY, UINT64_MAX);
  for (int j = 0; j < SADC_LIB_LEN; ++j) {
    const int l = sim_sadc_lane(j);
    for (int i = 0; i < SADC_LIB_BLOCKS; ++i) nz->lib[i][l] = (float)(WF_NOISE * nz->z[i]);
    for (int i = SADC_LIB_BLOCKS - 1; i > 0; --i) { /* k uniform in [0, i]: 31 random bits u, u (i + 1) / 2^31 */
      int k = (int)(((na64_rng_u64(&r) >> 33) * (uint64_t)(i + 1)) >> 31);
      float t = nz->lib[i][l];
      nz->lib[i][l] = nz->lib[k][l];
      nz->lib[k][l] = t;
    }
  }
  nz->lib_seed = seed;
  nz->lib_ready = 1;
}

void sim_sadc_channel_prepare(sim_sadc_channel *c, const sim_sadc_noise *nz)
{
  double zmax = nz->zmax; /* a margin of one count on both sides */
  c->ped_word_even = floor(c->ped_even * 8.0 + 0.5) / 8.0;
  c->ped_word_odd = floor(c->ped_odd * 8.0 + 0.5) / 8.0;
  c->unclipped = fmin(c->ped_even, c->ped_odd) - zmax >= 1.0 && fmax(c->ped_even, c->ped_odd) + zmax <= 4093.0;
  c->headroom = 4093.0 - zmax - fmax(c->ped_even, c->ped_odd); /* largest pulse that cannot clip */
  /* unclipped: headroom >= 0, so any amplitude <= 0 (no pulse) neither clips; NaN: no amplitude is
   * <= it (the general path) */
  c->quiet_max = c->unclipped ? 0.0 : NAN;
  c->pulse_max = c->unclipped ? c->headroom : NAN; /* amplitudes in (quiet_max, pulse_max]: a pulse, no clipping */
  /* the words na64_daq_sadc_encode writes for a waveform of the channel: header (kind 2, port,
   * channel, sample count, pedestal flag) and pedestals in 1/8 count (kind 1, odd << 15 | even) */
  c->header_word = (2u << 30) | (c->port << 26) | (c->channel << 20) | ((uint32_t)WF_SAMPLES << 12) | (1u << 11);
  double pe8 = c->ped_word_even * 8.0, po8 = c->ped_word_odd * 8.0; /* integers: ped_word is in 1/8 */
  c->pedestals_ok = pe8 >= 0.0 && pe8 <= 32767.0 && po8 >= 0.0 && po8 <= 32767.0;
  c->pedestal_word = c->pedestals_ok ? (1u << 30) | ((uint32_t)po8 << 15) | (uint32_t)pe8 : 0u;
  for (int j = 0; j < 4; ++j) c->ped_half[j] = (float)(((j & 1) ? c->ped_odd : c->ped_even) + 0.5);
}

_Static_assert(WF_SAMPLES == 2 * SADC_LIB_LEN && SADC_LIB_BLOCKS == 4096, "a waveform is two 12-bit block draws");
_Static_assert(offsetof(sim_sadc_channel, pedestal_word) == offsetof(sim_sadc_channel, header_word) + 4,
               "the two leading payload words are copied as one");

/* The 32 sign patterns of a noise block: pattern p = row p & 15 of the 16 x 16 Sylvester-Hadamard
 * matrix, H[k][j] = (-1)^popcount(k & j) (J. J. Sylvester, Phil. Mag. 34 (1867) 461), times -1 if
 * p & 16; as float sign bits for the sixteen samples, stored in the library's lane order
 * (sim_sadc_lane: samples 0-3, 8-11, 4-7, 12-15). tests/sim/test_sadc_noise checks the resulting
 * independence of the samples (autocorrelation at lags 1 to 16). */
#define SGN_POP4(x) (((x) & 1) + (((x) >> 1) & 1) + (((x) >> 2) & 1) + (((x) >> 3) & 1))
#define SGN(p, j) ((uint32_t)((SGN_POP4((p) & 15 & (j)) + ((p) >> 4)) & 1) << 31)
#define SGN_ROW(p)                                                                                                   \
  {SGN(p, 0), SGN(p, 1), SGN(p, 2),  SGN(p, 3),  SGN(p, 8),  SGN(p, 9),  SGN(p, 10), SGN(p, 11),                    \
   SGN(p, 4), SGN(p, 5), SGN(p, 6),  SGN(p, 7),  SGN(p, 12), SGN(p, 13), SGN(p, 14), SGN(p, 15)}
static _Alignas(64) const uint32_t sign_pattern[32][SADC_LIB_LEN] = {
    SGN_ROW(0),  SGN_ROW(1),  SGN_ROW(2),  SGN_ROW(3),  SGN_ROW(4),  SGN_ROW(5),  SGN_ROW(6),  SGN_ROW(7),
    SGN_ROW(8),  SGN_ROW(9),  SGN_ROW(10), SGN_ROW(11), SGN_ROW(12), SGN_ROW(13), SGN_ROW(14), SGN_ROW(15),
    SGN_ROW(16), SGN_ROW(17), SGN_ROW(18), SGN_ROW(19), SGN_ROW(20), SGN_ROW(21), SGN_ROW(22), SGN_ROW(23),
    SGN_ROW(24), SGN_ROW(25), SGN_ROW(26), SGN_ROW(27), SGN_ROW(28), SGN_ROW(29), SGN_ROW(30), SGN_ROW(31)};
#undef SGN_ROW
#undef SGN
#undef SGN_POP4

#define SADC_WORDS (2 + WF_SAMPLES / 2) /* payload words of a waveform: header, pedestals, sample pairs */
#define SADC_CHUNK 64                   /* channels whose noise words are drawn at a time (a multiple of 4) */
#define SADC_ROW sizeof(float[SADC_LIB_LEN]) /* bytes of a library block and of a sign pattern */

/* The noise draws of a channel: word k0 + 1 + c of the stream (sim_noise_word) gives channel c
 * the library block (bits 0-11) and sign pattern (bits 12-16) of its samples 0-15, and those of
 * samples 16-31 (bits 32-43, 44-48). The AVX2 path draws SADC_CHUNK channels ahead (draws_avx2):
 * for block b their offsets z[c][b], s[c][b] from lib and sgn in units of 8 bytes (an x86
 * addressing mode scales an index by 8: base + 8 index is one operand). */
typedef struct sadc_draws {
  const uint64_t *lib, *sgn; /* the library and the sign patterns, as 8-byte units */
  uint32_t z[SADC_CHUNK][2], s[SADC_CHUNK][2];
} sadc_draws;
#define SADC_UNITS (SADC_ROW / 8) /* units of a row */

#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SADC_LIB_SSE2 1
/* Eight samples of a block, four per single-precision operation: the quarters z[0..3] and
 * z[8..11] of the lane order (samples 0-3 and 4-7 of the block, or 8-11 and 12-15 from z + 4), as
 * eight 16-bit samples in order; pulse and clip are constants at every call (the branches vanish
 * from the four specialisations of samples_sse2). */
static inline __attribute__((always_inline)) __m128i half_sse2(__m128 ped, __m128 a, const float *z, const uint32_t *sg,
                                                               const float *shape, int pulse, int clip)
{
  __m128 v0 = _mm_add_ps(ped, _mm_xor_ps(_mm_loadu_ps(z), _mm_load_ps((const float *)sg)));
  __m128 v1 = _mm_add_ps(ped, _mm_xor_ps(_mm_loadu_ps(z + 8), _mm_load_ps((const float *)sg + 8)));
  if (pulse) {
    v0 = _mm_add_ps(v0, _mm_mul_ps(a, _mm_load_ps(shape)));
    v1 = _mm_add_ps(v1, _mm_mul_ps(a, _mm_load_ps(shape + 8)));
  }
  if (clip) {
    v0 = _mm_min_ps(_mm_max_ps(v0, _mm_setzero_ps()), _mm_set1_ps(4095.0f));
    v1 = _mm_min_ps(_mm_max_ps(v1, _mm_setzero_ps()), _mm_set1_ps(4095.0f));
  }
  /* truncation of values in [0, 4095]: their floor; two 16-bit samples per 32-bit word */
  return _mm_packs_epi32(_mm_cvttps_epi32(v0), _mm_cvttps_epi32(v1));
}
/* Block b (samples 16b..16b+15, payload words 8b..8b+7) of a waveform */
#define BLOCK_SSE2(b, pulse, clip)                                                                                   \
  do {                                                                                                               \
    const uint32_t h = (uint32_t)(w >> (32 * (b)));                                                                  \
    const float *z = lib[h & 4095u], *sh = shape + SADC_LIB_LEN * (b);                                               \
    const uint32_t *sg = sign_pattern[(h >> 12) & 31u];                                                              \
    _mm_storeu_si128((__m128i *)(o + 8 * (b)), half_sse2(ped, a, z, sg, sh, pulse, clip));                           \
    _mm_storeu_si128((__m128i *)(o + 8 * (b) + 4), half_sse2(ped, a, z + 4, sg + 4, sh + 4, pulse, clip));           \
  } while (0)
#define WAVEFORM_SSE2(pulse, clip)                                                                                   \
  do {                                                                                                               \
    BLOCK_SSE2(0, pulse, clip);                                                                                      \
    BLOCK_SSE2(1, pulse, clip);                                                                                      \
  } while (0)
#endif

/* The waveforms of m channels into their payload words out[SADC_WORDS c ...]: header, pedestals
 * and sample i = floor(ped(i) + 1/2 + noise + A shape[i]) clipped to [0, 4095], the noise of
 * samples 16b..16b+15 the library block and sign pattern of half b of the channel's noise word
 * (words k0 + 1 ... of the stream key); shape in the lane order. With SSE2 (the x86-64 baseline)
 * four samples per single-precision operation; the pedestal + 1/2 + noise is within 1.3e-4 count
 * of the double sum for pedestals below 4096 (half an ulp of float), so a sample differs from the
 * double computation's with probability ~1e-4 by one count, far below the noise. Payload words
 * hold the samples two per word, even sample in the low half (na64_daq_sadc_encode,
 * docs/raw-format.md §5.2). */
static void samples_sse2(const sim_sadc_noise *nz, const sim_sadc_channel *ch, const double *amp, int m,
                         const float *shape, uint64_t key, uint64_t k0, uint32_t *out)
{
  const float(*lib)[SADC_LIB_LEN] = nz->lib;
  for (int i = 0; i < m; ++i, out += SADC_WORDS) {
    const double A = amp[i];
    const uint64_t w = sim_noise_word(key, k0 + 1 + (uint64_t)i);
    uint32_t *o = out + 2;
    memcpy(out, &ch[i].header_word, 2 * sizeof(uint32_t));
#ifdef SADC_LIB_SSE2
    const __m128 ped = _mm_loadu_ps(ch[i].ped_half);
    if (A <= ch[i].quiet_max) { /* most channels */
      const __m128 a = _mm_setzero_ps();
      WAVEFORM_SSE2(0, 0);
      continue;
    }
    const __m128 a = _mm_set1_ps((float)A);
    if (A <= ch[i].pulse_max) WAVEFORM_SSE2(1, 0);
    else if (!(A > 0.0)) WAVEFORM_SSE2(0, 1);
    else WAVEFORM_SSE2(1, 1);
#else
    const int pulse = A > 0.0;
    uint16_t s[WF_SAMPLES];
    for (int k = 0; k < WF_SAMPLES; ++k) {
      const int b = k / SADC_LIB_LEN, l = SADC_LIB_LEN * b + sim_sadc_lane(k % SADC_LIB_LEN);
      const uint32_t h = (uint32_t)(w >> (32 * b));
      float z = lib[h & 4095u][l % SADC_LIB_LEN];
      if (sign_pattern[(h >> 12) & 31u][l % SADC_LIB_LEN]) z = -z;
      float v = ch[i].ped_half[k & 1] + z;
      if (pulse) v += (float)A * shape[l];
      s[k] = (uint16_t)(!(v >= 0.0f) ? 0.0f : v >= 4095.0f ? 4095.0f : v); /* floor, clipped: truncation */
    }
    for (int k = 0; k < WF_SAMPLES; k += 2) o[k / 2] = ((uint32_t)s[k + 1] << 16) | s[k];
#endif
  }
}

#if defined(SADC_LIB_SSE2) && defined(__x86_64__) && defined(__GNUC__)
/* The same on AVX2 where the CPU has it (functions compiled for AVX2, chosen at run time as
 * src/sim/ecal_shape.c chooses its AVX loop): the same single-precision additions, multiplications,
 * min/max and truncations lane by lane as samples_sse2 (no FMA; -ffp-contract=off), eight samples
 * per operation, so the words are the same to the bit on either path (tests/sim/test_digi_noise);
 * the noise words four channels at a time, their 64-bit products from 32-bit ones (AVX2 has no
 * 64-bit multiplication, mul64_avx2). */
#define SADC_AVX2 1
#include <immintrin.h>
#include <stdatomic.h>
/* -1: decided at the first use (every thread may store the same value); tests set 0 (SSE2) or 1
 * (AVX2, where the CPU has it) to compare the two paths */
extern atomic_int sim_sadc_use_avx2;
atomic_int sim_sadc_use_avx2 = -1;
static int sadc_have_avx2(void)
{
  int use = atomic_load_explicit(&sim_sadc_use_avx2, memory_order_relaxed);
  if (use < 0) {
    use = __builtin_cpu_supports("avx2") ? 1 : 0;
    atomic_store_explicit(&sim_sadc_use_avx2, use, memory_order_relaxed);
  }
  return use && __builtin_cpu_supports("avx2");
}

/* x c mod 2^64 per 64-bit lane: lo(x) lo(c) (vpmuludq) + 2^32 (lo(x) hi(c) + hi(x) lo(c) mod 2^32),
 * the two cross products as the 32-bit lanes of one vpmulld with c's halves swapped */
__attribute__((target("avx2"))) static inline __m256i mul64_avx2(__m256i x, uint64_t c)
{
  const __m256i cl = _mm256_set1_epi64x((long long)(c & 0xFFFFFFFFu));
  const __m256i swap = _mm256_set1_epi64x((long long)((c << 32) | (c >> 32)));
  const __m256i t = _mm256_mullo_epi32(x, swap); /* lanes lo(x) hi(c), hi(x) lo(c) */
  const __m256i cross = _mm256_add_epi32(t, _mm256_srli_epi64(t, 32)); /* their sum in the low lane */
  return _mm256_add_epi64(_mm256_mul_epu32(x, cl), _mm256_slli_epi64(cross, 32));
}

/* The draws of m channels (sadc_draws), four at a time (z and s have room for m rounded up to 4):
 * the 32-bit lanes of a word are its halves, one per block */
__attribute__((target("avx2"))) static void draws_avx2(uint64_t key, uint64_t k0, int m, sadc_draws *d)
{
  const uint64_t g = 0x9E3779B97F4A7C15ull; /* sim_noise_word's */
  __m256i z = _mm256_set_epi64x((long long)(key + (k0 + 4) * g), (long long)(key + (k0 + 3) * g),
                                (long long)(key + (k0 + 2) * g), (long long)(key + (k0 + 1) * g));
  const __m256i step = _mm256_set1_epi64x((long long)(4 * g)), m12 = _mm256_set1_epi32(4095 * SADC_UNITS),
                m5 = _mm256_set1_epi32(31 * SADC_UNITS);
  for (int c = 0; c < m; c += 4, z = _mm256_add_epi64(z, step)) {
    __m256i x = mul64_avx2(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), 0xBF58476D1CE4E5B9ull);
    x = mul64_avx2(_mm256_xor_si256(x, _mm256_srli_epi64(x, 27)), 0x94D049BB133111EBull);
    x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 31));
    _Static_assert(SADC_UNITS == 8, "the offsets of rows are their indices << 3");
    _mm256_storeu_si256((__m256i *)(void *)d->z[c], _mm256_and_si256(_mm256_slli_epi32(x, 3), m12));
    _mm256_storeu_si256((__m256i *)(void *)d->s[c], _mm256_and_si256(_mm256_srli_epi32(x, 9), m5));
  }
}

/* The bases of the draws' offsets and of the second halves of the rows (samples 4-7, 12-15), the
 * latter hidden from the compiler (an empty asm), which otherwise adds the offset to a base once
 * (lea) for both halves: each load keeps its one base + 8 offset operand. */
typedef struct sadc_bases {
  const uint64_t *lib, *sgn, *lib8, *sgn8;
} sadc_bases;
__attribute__((target("avx2"))) static inline sadc_bases sadc_bases_of(const sadc_draws *d)
{
  sadc_bases q = {d->lib, d->sgn, d->lib + 4, d->sgn + 4};
  __asm__("" : "+r"(q.lib8), "+r"(q.sgn8));
  return q;
}

/* half_sse2 for a whole block: the halves z[0..7] (samples 0-3, 8-11) and z[8..15] (4-7, 12-15)
 * pack within their 128-bit lanes into samples 0..15 in order */
__attribute__((target("avx2"))) static inline __m256i block_avx2(__m256 ped, __m256 a, const sadc_bases *q, uint64_t zi,
                                                                 uint64_t si, const float *shape, int pulse, int clip)
{
  __m256 v0 = _mm256_add_ps(ped, _mm256_xor_ps(_mm256_loadu_ps((const float *)(const void *)(q->lib + zi)),
                                               _mm256_load_ps((const float *)(const void *)(q->sgn + si))));
  __m256 v1 = _mm256_add_ps(ped, _mm256_xor_ps(_mm256_loadu_ps((const float *)(const void *)(q->lib8 + zi)),
                                               _mm256_load_ps((const float *)(const void *)(q->sgn8 + si))));
  if (pulse) {
    v0 = _mm256_add_ps(v0, _mm256_mul_ps(a, _mm256_load_ps(shape)));
    v1 = _mm256_add_ps(v1, _mm256_mul_ps(a, _mm256_load_ps(shape + 8)));
  }
  if (clip) {
    v0 = _mm256_min_ps(_mm256_max_ps(v0, _mm256_setzero_ps()), _mm256_set1_ps(4095.0f));
    v1 = _mm256_min_ps(_mm256_max_ps(v1, _mm256_setzero_ps()), _mm256_set1_ps(4095.0f));
  }
  return _mm256_packs_epi32(_mm256_cvttps_epi32(v0), _mm256_cvttps_epi32(v1));
}
#define WAVEFORM_AVX2(pulse, clip)                                                                                   \
  do {                                                                                                               \
    _mm256_storeu_si256((__m256i *)(void *)o, block_avx2(ped, a, q, d->z[i][0], d->s[i][0], shape, pulse, clip));     \
    _mm256_storeu_si256((__m256i *)(void *)(o + 8),                                                                  \
                        block_avx2(ped, a, q, d->z[i][1], d->s[i][1], shape + SADC_LIB_LEN, pulse, clip));           \
  } while (0)

/* One channel's words (the body of samples_avx2: inlined twice per iteration there) */
__attribute__((target("avx2"), always_inline)) static inline void channel_avx2(const sim_sadc_channel *c, double A,
                                                                              const float *shape, const sadc_draws *d,
                                                                              const sadc_bases *q, int i, uint32_t *out)
{
  uint32_t *o = out + 2;
  memcpy(out, &c->header_word, 2 * sizeof(uint32_t));
  const __m256 ped = _mm256_broadcast_ps((const __m128 *)(const void *)c->ped_half);
  if (A <= c->quiet_max) { /* most channels */
    const __m256 a = _mm256_setzero_ps();
    WAVEFORM_AVX2(0, 0);
    return;
  }
  const __m256 a = _mm256_set1_ps((float)A);
  if (A <= c->pulse_max) WAVEFORM_AVX2(1, 0);
  else if (!(A > 0.0)) WAVEFORM_AVX2(0, 1);
  else WAVEFORM_AVX2(1, 1);
}

/* samples_sse2 on AVX2, two channels per iteration */
__attribute__((target("avx2"))) static void samples_avx2(const sim_sadc_channel *ch, const double *amp, int m,
                                                         const float *shape, const sadc_draws *d, uint32_t *out)
{
  const sadc_bases q = sadc_bases_of(d);
  int i = 0;
  for (; i + 2 <= m; i += 2, out += 2 * SADC_WORDS) {
    channel_avx2(ch + i, amp[i], shape, d, &q, i, out);
    channel_avx2(ch + i + 1, amp[i + 1], shape, d, &q, i + 1, out + SADC_WORDS);
  }
  if (i < m) channel_avx2(ch + i, amp[i], shape, d, &q, i, out);
}
#endif

/* The unit pulse A (x/2)^2 exp(2 - x) sampled at the SADC clock: maximum 1 at x = t/tau = 2. One
 * exp per pulse: exp(2 - x) at the next sample is the previous one times exp(-period/tau). */
void sim_sadc_pulse_shape(double t0, double shape[WF_SAMPLES])
{
  const double r = exp(-NA64_DAQ_SADC_DEFAULT_PERIOD_NS / WF_TAU);
  double e = 0.0;
  for (int i = 0; i < WF_SAMPLES; ++i) {
    double x = (i * NA64_DAQ_SADC_DEFAULT_PERIOD_NS - t0) / WF_TAU;
    if (!(x > 0.0)) {
      shape[i] = 0.0;
      continue;
    }
    e = e > 0.0 ? e * r : exp(2.0 - x);
    shape[i] = 0.25 * x * x * e;
  }
}

_Static_assert(WF_SAMPLES % 2 == 0 && WF_SAMPLES <= NA64_DAQ_SADC_MAX_SAMPLES, "whole sample pairs");

void sim_sadc_channels_group(sim_sadc_channel *ch, int n)
{
  for (int a = 0; a < n;) {
    int b = a, ok = 1;
    for (; b < n && ch[b].src == ch[a].src; ++b) {
      ok = ok && ch[b].pedestals_ok;
      ch[b].group = ch[b].group_ok = 0;
    }
    ch[a].group = b - a;
    ch[a].group_ok = ok;
    a = b;
  }
}

/* The pulse shape in single precision (rounded to nearest) and in the library's lane order: samples
 * 4q..4q+3 of block q / 4 at its lanes sim_sadc_lane(4 (q % 4)).. (quarters 0, 2, 1, 3) */
#ifdef SADC_LIB_SSE2
#define SHAPE_QUARTER(q, lane)                                                                                       \
  _mm_storeu_ps(out + (lane), _mm_movelh_ps(_mm_cvtpd_ps(_mm_loadu_pd(shape + 4 * (q))),                             \
                                            _mm_cvtpd_ps(_mm_loadu_pd(shape + 4 * (q) + 2))))
#else
#define SHAPE_QUARTER(q, lane)                                                                                       \
  for (int t = 0; t < 4; ++t) out[(lane) + t] = (float)shape[4 * (q) + t]
#endif
static void shape_lanes(const double *shape, float *out)
{
  _Static_assert(WF_SAMPLES == 32 && SADC_LIB_LEN == 16, "eight quarters");
  SHAPE_QUARTER(0, 0);
  SHAPE_QUARTER(1, 8);
  SHAPE_QUARTER(2, 4);
  SHAPE_QUARTER(3, 12);
  SHAPE_QUARTER(4, 16);
  SHAPE_QUARTER(5, 24);
  SHAPE_QUARTER(6, 20);
  SHAPE_QUARTER(7, 28);
}
#undef SHAPE_QUARTER

/* The waveforms of channels [a, b) of a source into out (noise words ns->k + 1 ...), on AVX2 if
 * chosen: their noise draws SADC_CHUNK channels at a time, then their samples. */
static void sadc_source_words(const sim_sadc_noise *nz, const sim_sadc_channel *ch, const double *amp, int a, int b,
                              const float *shape, int avx2, sim_sadc_stream *ns, uint32_t *out)
{
#ifdef SADC_AVX2
  if (avx2) {
    _Alignas(32) sadc_draws d;
    d.lib = (const uint64_t *)(const void *)nz->lib;
    d.sgn = (const uint64_t *)(const void *)sign_pattern;
    for (int c = a; c < b; c += SADC_CHUNK, out += SADC_CHUNK * SADC_WORDS) {
      const int m = b - c < SADC_CHUNK ? b - c : SADC_CHUNK;
      draws_avx2(ns->key, ns->k, m, &d);
      samples_avx2(ch + c, amp + c, m, shape, &d, out);
      ns->k += (uint64_t)m;
    }
    return;
  }
#endif
  (void)avx2;
  samples_sse2(nz, ch + a, amp + a, b - a, shape, ns->key, ns->k, out);
  ns->k += (uint64_t)(b - a);
}

int sim_sadc_write_event(const sim_sadc_noise *nz, const sim_sadc_channel *ch, const double *amp, int n,
                         const double *shape, sim_sadc_stream *ns, na64_daq_writer *w, na64_err *err)
{
  if (!nz->lib_ready) return na64_err_set(err, NA64_EINVAL, "sim_sadc_write_event: no noise library (sim_sadc_noise_library)");
  _Alignas(32) float shapef[WF_SAMPLES];
  shape_lanes(shape, shapef);
#ifdef SADC_AVX2
  const int avx2 = sadc_have_avx2();
#else
  const int avx2 = 0;
#endif
  na64_daq_equipment_header eh = na64_daq_sadc_equipment(0, NA64_DAQ_SADC_DEFAULT_PERIOD_NS); /* but its id */
  for (int a = 0; a < n;) { /* one equipment block per source id, its words made in the event's buffer */
    int b = a + ch[a].group;
    if (ch[a].group < 1 || b > n) /* not grouped (sim_sadc_channels_group): find the source's end */
      for (b = a + 1; b < n && ch[b].src == ch[a].src;) ++b;
    if (!ch[a].group_ok || ch[a].group != b - a)
      for (int i = a; i < b; ++i)
        if (!ch[i].pedestals_ok)
          return na64_err_set(err, NA64_ERANGE, "SADC channel %u/%u/%u: pedestals %g, %g outside [0, 4095.875]",
                              ch[i].src, ch[i].port, ch[i].channel, ch[i].ped_even, ch[i].ped_odd);
    uint32_t *out;
    NA64_CALL(na64_daq_writer_reserve_equipment(w, ch[a].src, (size_t)(b - a) * SADC_WORDS, &out, err));
    sadc_source_words(nz, ch, amp, a, b, shapef, avx2, ns, out);
    eh.id = ch[a].src;
    NA64_CALL(na64_daq_writer_commit_equipment(w, &eh, (size_t)(b - a) * SADC_WORDS, err));
    a = b;
  }
  return NA64_OK;
}

static int write_sadc(na64_sim_digitizer *d, const na64_sim_event *ev, na64_rng *rng, na64_daq_writer *w, na64_err *err)
{
  double shape[WF_SAMPLES];
  sim_sadc_pulse_shape(WF_START + WF_JITTER * na64_rng_gauss(rng), shape);
  sim_sadc_stream ns = {na64_rng_u64(rng), 0};
  for (int i = 0; i < d->nro; ++i) {
    double E = readout_energy(&d->ro[i], ev, rng);
    d->amp[i] = E > 0.0 ? E / d->ro[i].ch.gain : 0.0;
  }
  return sim_sadc_write_event(&d->nz, d->ch, d->amp, d->nro, shape, &ns, w, err);
}

/* Track position (and slopes) at z: the beam line before the dipoles, the measured line behind them;
 * 0 inside. */
static int track_at(const na64_sim *s, const na64_sim_truth *t, double z, double *x, double *y, double *tx, double *ty)
{
  if (z < s->mag[0].z_in) {
    *x = t->x0 + t->dxdz0 * z;
    *y = t->y0 + t->dydz0 * z;
    *tx = t->dxdz0;
    *ty = t->dydz0;
    return 1;
  }
  if (z > s->mag[s->nmag - 1].z_out) {
    *x = t->x + t->dxdz * (z - s->ecal.z_front);
    *y = t->y + t->dydz * (z - s->ecal.z_front);
    *tx = t->dxdz;
    *ty = t->dydz;
    return 1;
  }
  return 0;
}

/* The APV hits' order, by source, chip and channel, as one integer */
static inline uint64_t apv_order(const na64_daq_apv_hit *h)
{
  return (uint64_t)h->source_id << 16 | (uint64_t)h->chip << 8 | h->channel;
}

static int cmp_apv(const void *a, const void *b)
{
  const uint64_t x = apv_order(a), y = apv_order(b);
  return (x > y) - (x < y);
}

/* The hits by source, chip and channel: an insertion sort (the planes come in geometry order and the
 * strips of a plane in order, so the list is nearly sorted; glibc's qsort cost 50k instructions per
 * event here); qsort if it turns out far from sorted. */
static void sort_apv(na64_daq_apv_hit *h, size_t n)
{
  size_t moves = 0;
  for (size_t i = 1; i < n; ++i) {
    const uint64_t ki = apv_order(&h[i]);
    if (apv_order(&h[i - 1]) <= ki) continue; /* in place already (most hits): no copy out and back */
    na64_daq_apv_hit t = h[i];
    size_t j = i;
    while (j > 0 && apv_order(&h[j - 1]) > ki) {
      h[j] = h[j - 1];
      --j;
      ++moves;
    }
    h[j] = t;
    if (moves > 8 * n + 64) {
      qsort(h, n, sizeof *h, cmp_apv);
      return;
    }
  }
}

/* erf from the table, linear between the nodes; +-1 outside. */
static double erf_fast(const na64_sim_digitizer *d, double x)
{
  double u = (x + ERF_TAB_X) * (ERF_TAB_N / (2.0 * ERF_TAB_X));
  if (!(u > 0.0)) return -1.0;
  if (u >= ERF_TAB_N) return 1.0;
  int i = (int)u;
  double f = u - i;
  return d->erf_tab[i] + f * (d->erf_tab[i + 1] - d->erf_tab[i]);
}

/* The charge centre (in strips from the first strip's centre) of a crossing at u with slope tu across
 * the strips and charge q: the track plus the offsets of strip_response_setup (primary-electron
 * statistics: a Gaussian from bits 12-23 of wq; the delta electron: azimuth from bits 24-31);
 * *c = 1/(sqrt(2) sigma_cloud) for that slope. */
static double strip_centre(const na64_sim_digitizer *d, const strip_plane *sp, const na64_geom_plane *pl, double u,
                           double tu, double q, uint64_t wq, double *c)
{
  const double t2 = tu * tu * sp->gap2; /* the inclination's spread, strips^2 */
  *c = 1.0 / sqrt(2.0 * (sp->cloud2 + t2));
  double s0 = (u - pl->wires[0].u) / pl->pitch + sqrt(sp->ion2 + t2 * sp->ion_n) * d->nz.z[(wq >> 12) & 4095u];
  double x = (q * (1.0 / APV_MPV) - 1.0) * 32.0; /* the delta table's index */
  if (x > 0.0) {
    int k = x < APV_DELTA_N ? (int)x : APV_DELTA_N - 1;
    double f = x - k, a = sp->delta[k] + f * (sp->delta[k + 1] - sp->delta[k]);
    s0 += a * d->cos_tab[(wq >> 24) & 255u];
  }
  return s0;
}

/* An APV amplitude: floor(a + 1/2) clipped to [0, 4095]: truncation, then the clip (|a| < 1e6 here) */
static inline uint16_t apv_amp(double a)
{
  int v = (int)(a + 0.5);
  v = v < 0 ? 0 : v;
  return (uint16_t)(v > 4095 ? 4095 : v);
}

/* Strip hits of plane sp crossed at (x, y) with slopes (tx, ty); noise from the quantile table (as the
 * waveforms). */
static size_t plane_hits(const na64_sim_digitizer *d, const strip_plane *sp, double x, double y, double tx, double ty,
                         sim_sadc_stream *st, na64_daq_apv_hit *out, size_t room)
{
  static const double shape[3] = {0.35, 1.0, 0.75};
  const na64_geom_plane *pl = &d->sim->geom->planes[sp->plane];
  double u = (x - pl->centre[0]) * pl->u_dir[0] + (y - pl->centre[1]) * pl->u_dir[1];
  /* one word: the charge's Gaussian (gauss_table: exact tails) from its low 12 bits, the centroid's
   * offsets from bits 12-31 (strip_centre), the efficiency from its upper 32 bits */
  uint64_t wq = sim_noise_word(st->key, ++st->k);
  const unsigned iz = (unsigned)(wq & 4095u);
  double q;
  if (iz - 1u < 4094u) q = d->moyal_q[iz]; /* the table of the same expression (strip_path_setup) */
  else {
    double z = gauss_table(d, iz, st);
    q = APV_MPV * (1.0 + 0.15 * (-log(z * z))); /* Moyal around the MPV (|z| >= 3.1e-4) */
  }
  if ((double)(wq >> 32) * 0x1.0p-32 >= APV_EFF || !(pl->pitch > 0.0) || pl->nwires < 1) return 0;
  double c;
  double s0 = strip_centre(d, sp, pl, u, tx * pl->u_dir[0] + ty * pl->u_dir[1], q, wq, &c);
  if (!(s0 > -1e6 && s0 < 1e6)) return 0; /* far outside the plane (or NaN): no strip */
  /* the strips within 4 sigma of the charge centre that the plane has */
  const double w = 4.0 / (M_SQRT2 * c);
  int lo = (int)floor(s0 - w), hi = (int)ceil(s0 + w);
  if (lo < 0) lo = 0;
  if (hi > pl->nwires - 1) hi = pl->nwires - 1;
  double e_lo = erf_fast(d, (lo - 0.5 - s0) * c);
  size_t n = 0;
  for (int k = lo; k <= hi && n < room; ++k) {
    /* charge on strip k: the Gaussian integrated over [k - 1/2, k + 1/2] */
    double e_hi = erf_fast(d, (k + 0.5 - s0) * c), f = 0.5 * (e_hi - e_lo);
    e_lo = e_hi;
    const uint64_t key = pl->daq_key[k];
    if (key == NA64_GEOM_NO_KEY) continue;
    uint64_t bits = sim_noise_word(st->key, ++st->k);
    /* sample j from bits 12j..12j+11; the middle one first: most strips fail the zero suppression */
    const double qf = q * f, *zq = d->nz.z;
    const double a1 = qf * shape[1] + APV_NOISE * zq[(bits >> 12) & 4095u];
    if (a1 < 3.0 * APV_NOISE) continue; /* zero suppression */
    const uint32_t chip = (uint32_t)(key >> 16) & 0xFFFFu, ch = (uint32_t)key & 0xFFFFu; /* na64_geom_key_unpack */
    if (chip > 63 || ch > 127) continue;
    const double a0 = qf * shape[0] + APV_NOISE * zq[bits & 4095u];
    const double a2 = qf * shape[2] + APV_NOISE * zq[(bits >> 24) & 4095u];
    out[n++] = (na64_daq_apv_hit){.source_id = (uint32_t)(key >> 48) & 0xFFFFu,
                                  .chip = (uint8_t)chip,
                                  .channel = (uint8_t)ch,
                                  .amp = {apv_amp(a0), apv_amp(a1), apv_amp(a2)}};
  }
  return n;
}

int write_apv(na64_sim_digitizer *d, const na64_sim_event *ev, uint32_t event, double z_stop, sim_sadc_stream *st,
              na64_daq_writer *w, na64_err *err)
{
  const na64_geom *g = d->sim->geom;
  size_t n = 0;
  for (int i = 0; i < d->nsp; ++i) {
    const na64_geom_plane *pl = &g->planes[d->sp[i].plane];
    double x, y, tx, ty;
    if (pl->centre[2] > z_stop || !track_at(d->sim, &ev->truth, pl->centre[2], &x, &y, &tx, &ty)) continue;
    int m = d->sp[i].ms;
    if (m >= 0) {
      x += d->ms_dx[m];
      y += d->ms_dy[m];
    }
    n += plane_hits(d, &d->sp[i], x, y, tx, ty, st, d->apv + n, APV_MAX_HITS - n);
  }
  sort_apv(d->apv, n);
  na64_daq_equipment_header eh = na64_daq_apv_equipment(0, 25.0); /* the same for every source but its id */
  for (size_t a = 0; a < n;) { /* one block per source id */
    size_t b = a;
    while (b < n && d->apv[b].source_id == d->apv[a].source_id) ++b;
    size_t need = NA64_DAQ_APV_MAX_WORDS(b - a), nw = 0;
    uint32_t *out; /* encoded in place in the writer's event */
    NA64_CALL(na64_daq_writer_reserve_equipment(w, d->apv[a].source_id, need, &out, err));
    NA64_CALL(na64_daq_apv_encode(d->apv + a, b - a, event, out, need, &nw, err));
    eh.id = d->apv[a].source_id;
    NA64_CALL(na64_daq_writer_commit_equipment(w, &eh, nw, err));
    a = b;
  }
  return NA64_OK;
}

int na64_sim_digitize_write(na64_sim_digitizer *d, const na64_sim_event *ev, uint64_t seed, uint32_t nb_in_run,
                            na64_daq_writer *w, na64_err *err)
{
  if (!d || !ev || !w) return na64_err_set(err, NA64_EINVAL, "na64_sim_digitize_write: NULL argument");
  na64_rng rng;
  na64_rng_init(&rng, seed + DIGI_SEED_KEY, ev->truth.event);
  na64_daq_header h;
  memset(&h, 0, sizeof h);
  h.type = NA64_DAQ_PHYSICS_EVENT;
  h.run = (uint32_t)d->sim->cfg.run;
  h.id[0] = nb_in_run;
  /* spills of 2^19 triggers at most (the 20-bit number in burst), burst numbers from 1 */
  uint32_t burst = 1 + nb_in_run / (1u << 19), nb = nb_in_run % (1u << 19);
  h.id[1] = NA64_DAQ_ID1(burst, nb);
  h.trigger_pattern[0] = ev->truth.triggered ? 1u : 0u;
  NA64_CALL(na64_daq_writer_begin_event(w, &h, err));
  sim_sadc_noise_library(&d->nz, seed);
  NA64_CALL(write_sadc(d, ev, &rng, w, err));
  /* the scattering and the strips: the quantile table and a SplitMix64 stream keyed by one draw */
  sim_sadc_stream st = {na64_rng_u64(&rng), 0};
  ms_event(d, ev->truth.energy, &st);
  NA64_CALL(write_apv(d, ev, nb_in_run, HUGE_VAL, &st, w, err));
  if (d->straw) {
    const na64_sim_truth *t = &ev->truth;
    const double z0 = d->sim->ecal.z_front;
    /* the straws see the line with the accumulated scattering of all tracker planes (approximation:
     * kicks of planes behind a straw plane are applied to it too; they are 0.1-0.4% X0 each) */
    double ox = 0.0, oy = 0.0; /* offset at the ECAL face */
    if (d->nms > 0) {
      ox = d->ms_dx[d->nms - 1] + d->ms_sx * (z0 - d->ms_z[d->nms - 1]);
      oy = d->ms_dy[d->nms - 1] + d->ms_sy * (z0 - d->ms_z[d->nms - 1]);
    }
    na64_straw_track tr = {{t->x + ox, t->y + oy, z0}, {t->dxdz + d->ms_sx, t->dydz + d->ms_sy, 1.0}, 0.0};
    NA64_CALL(na64_straw_digitize(d->straw, &tr, 1, &rng, &d->sev, err));
    NA64_CALL(na64_straw_digi_write(d->straw, &d->sev, nb, w, err));
  }
  return na64_daq_writer_end_event(w, err);
}

/* Start- and end-of-run events: the header of the type with the card's run number and the count of
 * physics events so far as its number in run, no equipment (DATE event.h START_OF_RUN/END_OF_RUN;
 * the reader counts them by type, docs/raw-format.md). Timestamps stay 0: the file is a function
 * of the card and the seed only. */
int sim_write_run_mark(const char *who, long run, uint32_t type, uint32_t nb_in_run, na64_daq_writer *w,
                       na64_err *err)
{
  if (type != NA64_DAQ_START_OF_RUN && type != NA64_DAQ_END_OF_RUN)
    return na64_err_set(err, NA64_EINVAL, "%s: event type %u is neither start (%d) nor end (%d) of run", who, type,
                        NA64_DAQ_START_OF_RUN, NA64_DAQ_END_OF_RUN);
  na64_daq_header h;
  memset(&h, 0, sizeof h);
  h.type = type;
  h.run = (uint32_t)run;
  h.id[0] = nb_in_run;
  NA64_CALL(na64_daq_writer_begin_event(w, &h, err));
  return na64_daq_writer_end_event(w, err);
}

int na64_sim_write_run_mark(const na64_sim *sim, uint32_t type, uint32_t nb_in_run, na64_daq_writer *w, na64_err *err)
{
  if (!sim || !w) return na64_err_set(err, NA64_EINVAL, "na64_sim_write_run_mark: NULL argument");
  return sim_write_run_mark("na64_sim_write_run_mark", sim->cfg.run, type, nb_in_run, w, err);
}

/* The LDC grouping of the run's DAQ sources from the conditions database (channel_map.ldc_id): the
 * DATE event builder writes every physics event as a GDC super event of one sub-event per LDC
 * (DATE event.h, ATTR_SUPER_EVENT; docs/raw-format.md), so the simulation does too. */
static int ldc_map_of_run(const na64_sim_config *cfg, na64_daq_ldc_entry **map, size_t *n, na64_err *err)
{
  na64_cond *db = NULL;
  NA64_CALL(na64_cond_open(cfg->conditions[0] ? cfg->conditions : NULL, NA64_COND_READONLY, &db, err));
  na64_cond_records *rec = NULL;
  int st = na64_cond_fetch(db, (int)cfg->run, &rec, err);
  if (st == NA64_OK) st = na64_daq_ldc_map_from_cond(rec, map, n, err);
  na64_cond_records_free(rec);
  na64_cond_close(db);
  return st;
}

int na64_sim_raw_open(const na64_sim *sim, const char *path, na64_daq_writer **out, na64_err *err)
{
  if (!sim || !path || !out) return na64_err_set(err, NA64_EINVAL, "na64_sim_raw_open: NULL argument");
  *out = NULL;
  size_t len = strlen(path);
  na64_daq_writer_options o = {0};
  o.compress = len > 4 && strcmp(path + len - 4, ".zst") == 0;
  na64_daq_ldc_entry *map = NULL;
  size_t nmap = 0;
  NA64_CALL(ldc_map_of_run(na64_sim_get_config(sim), &map, &nmap, err));
  o.ldc_map = map;
  o.nldc_map = nmap;
  int st = na64_daq_writer_open(path, &o, out, err); /* the writer copies the map */
  free(map);
  return st;
}
