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
 * amplitudes clip at 4095. strip_response_setup gives the formulas and their sources. The strip
 * fractions come from per-cloud tables (strip_profile), the strips of the window with less than
 * APV_TRIM counts of charge are made as noise only, and the hits go straight into the APV payload
 * words (apv_sink): docs/simulation.md "Strip digitisation (visstrip)".
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
#define APV_EFF_16 62260u /* ceil(APV_EFF 2^16): plane_hits' efficiency from 16 bits, 0.950012 */
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
#define APV_NO_ADDR UINT32_MAX
/* The charge profile table (strip_profile): the charge centre rounded to 1/1024 of a strip (0.24 um
 * of a 250 um Micromegas strip, 0.39 um of a 400 um GEM strip: rms 0.07 and 0.11 um against the
 * 27.5 and 47 um resolution). The track's inclination widens the cloud's variance by t2: below
 * PROF_T2_NONE of the variance ignored (a width change < 5e-5 relative: < 0.02 counts on any strip;
 * the beam's slopes of ~1e-4 give ~1e-7), up to PROF_T2_LIN of it (MM05/MM06 behind the dipoles:
 * ~1%) to first order through g (the second-order term, t2^2/2 d2f/dvar2, < 1e-3 of the strip's
 * fraction: < 0.2 counts), beyond that the erf table. */
#define PROF_PHASES 1024
#define PROF_T2_NONE 1e-4
#define PROF_T2_LIN 0.02
#define PROF_MAX_NJ 64
/* The window's strips whose mean charge q f is below APV_TRIM counts (a tenth of the noise) are
 * made as noise only (strips_from_profile): their chance to pass the zero suppression, Q(3 - qf/5),
 * is at most Q(2.9) = 1.9e-3 against Q(3) = 1.35e-3 for noise alone. The strips kept are tabulated
 * for charge classes q in [APV_TRIM_Q c, APV_TRIM_Q (c + 1)) (f >= APV_TRIM / (APV_TRIM_Q (c + 1))),
 * c < APV_TRIM_NQ; above (q > 3.7 q_mpv: not drawn) all strips of the window. */
#define APV_TRIM 0.5
#define APV_TRIM_Q 128.0
#define APV_TRIM_NQ 12
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
  /* the plane's geometry as plane_hits uses it (strip_planes_setup) */
  double cx, cy, ux, uy, z;      /* centre (x, y), u direction, z */
  double u0, inv_pitch;          /* u of strip 0, 1/pitch */
  int nwires;
  const uint32_t *addr;          /* per strip: its APV address (apv_addr), APV_NO_ADDR if none */
  uint32_t amin, amax;           /* the smallest and the largest of them */
  const struct strip_profile *prof; /* the charge fractions at normal incidence (NULL: erf only) */
} strip_plane;

/* The strips' charge fractions at normal incidence for a charge centre s0 = k0 + p/PROF_PHASES (k0 an
 * integer, p = 0..PROF_PHASES-1): f[p * nj + j] is the Gaussian cloud's integral over strip k0 + jmin + j
 * (libm erf) and g[p * nj + j] its derivative against the cloud's variance (strips^2: the inclination's
 * t2 adds to it), for the strips lo[p]..hi[p] (relative to k0) of plane_hits' +-4 sigma window. Shared
 * by the planes with the same cloud (strip_profile_of). */
typedef struct strip_profile {
  double cloud2;
  int jmin, nj;
  int8_t lo[PROF_PHASES], hi[PROF_PHASES];
  int8_t tlo[APV_TRIM_NQ][PROF_PHASES], thi[APV_TRIM_NQ][PROF_PHASES]; /* the strips with charge >= APV_TRIM */
  float *f, *g;
} strip_profile;
/* A strip hit: the APV address (source << 16 | chip << 8 | channel) and its two payload words
 * (docs/raw-format.md §5.3). */
typedef struct strip_rec {
  uint32_t addr, w0, w1;
} strip_rec;
/* Where write_apv's hits go: with the channel map in address order (apv_in_order) straight into the
 * payload words of the event's APV blocks, per chip a header (chip, event number, hit count) then the
 * hits' words, a new segment at each source; else into rec[] for sort_recs, then into the words. */
typedef struct apv_sink {
  strip_rec *rec;     /* NULL: words made directly */
  size_t n;           /* records (rec) */
  uint32_t *w;        /* 3 APV_MAX_HITS: the words */
  size_t k, hk;       /* the next word; the header of the open chip */
  uint32_t unit;      /* the open chip, source << 8 | chip (APV_NO_ADDR: none) */
  uint32_t head;      /* the chip header's constant bits: APV_HEADER and the event number */
  int nseg, bad;      /* segments (one per source block); a chip with more than 255 hits */
  uint32_t *seg_src;  /* APV_MAX_HITS + 1: each segment's source */
  size_t *seg_at;     /* and its first word (seg_at[nseg]: the end) */
} apv_sink;

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
  int nms;                 /* tracker planes in z order: multiple scattering */
  int ms_plane[MS_MAX_PLANES];
  double ms_z[MS_MAX_PLANES], ms_x0[MS_MAX_PLANES];
  double ms_sqrt[MS_MAX_PLANES], ms_log[MS_MAX_PLANES]; /* Highland's sqrt(x/X0) and 1 + 0.038 ln(x/X0) */
  double ms_dx[MS_MAX_PLANES], ms_dy[MS_MAX_PLANES]; /* this event's offsets at each plane, cm */
  double ms_sx, ms_sy;     /* and the total deflection, rad */
  double tail_a;           /* Phi^-1(4095/4096): where gauss_table's exact tails start */
  double moyal_q[4096];    /* plane_hits' charge APV_MPV (1 - 0.15 ln z^2) at the quantile z[i] (inner i) */
  strip_rec *rec;          /* APV_MAX_HITS: this event's strip hits, if the map is not in address order */
  apv_sink sink;           /* the event's APV words (apv_sink) */
  uint32_t *addr;          /* the strips' APV addresses, all planes */
  strip_profile *prof;     /* the distinct charge profiles, nprof */
  int nprof;
  int apv_in_order;        /* the planes' strips come in APV address order: no sort (strip_planes_setup) */
  na64_daq_equipment_header apv_eh; /* the APV equipment header but its source id */
  unsigned apv_tail_i;     /* the first quantile index with APV_NOISE z >= 3 APV_NOISE (the threshold) */
  uint32_t apv_tail_p[PROF_MAX_NJ + 1]; /* 2^16 (1 - (1 - p0)^n), p0 = (4096 - apv_tail_i)/4096 */
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
static double gauss_table(const na64_sim_digitizer *d, unsigned i, sim_word_stream *st)
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

void ms_event(na64_sim_digitizer *d, double p, sim_word_stream *st)
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

/* The APV address of a strip's DAQ key, source << 16 | chip << 8 | channel (the order of the APV
 * blocks: by source, then chip, then channel); APV_NO_ADDR for none or outside the APV addressing. */
static uint32_t apv_addr(uint64_t key)
{
  if (key == NA64_GEOM_NO_KEY) return APV_NO_ADDR;
  const uint32_t src = (uint32_t)(key >> 48) & 0xFFFFu, chip = (uint32_t)(key >> 16) & 0xFFFFu, ch = (uint32_t)key & 0xFFFFu;
  return chip > 63 || ch > 127 ? APV_NO_ADDR : src << 16 | chip << 8 | ch; /* na64_geom_key_unpack's fields */
}

/* The charge profile of a cloud of variance cloud2 (strips^2) at normal incidence: for every phase p
 * of the centre, the strips of plane_hits' window floor(s0 - 4 sigma) .. ceil(s0 + 4 sigma) and their
 * fractions 1/2 [erf((k + 1/2 - s0)/(sqrt2 sigma)) - erf((k - 1/2 - s0)/(sqrt2 sigma))]. 0: too wide a
 * cloud for the table (the erf path then). */
static int strip_profile_make(strip_profile *pr, double cloud2)
{
  const double sig = sqrt(cloud2), w = 4.0 * sig;
  pr->cloud2 = cloud2;
  pr->jmin = (int)floor(-w);
  pr->nj = (int)ceil(1.0 + w) - pr->jmin + 1;
  if (!(sig > 0.0) || pr->nj > PROF_MAX_NJ) return 0;
  pr->f = calloc((size_t)PROF_PHASES * (size_t)pr->nj, sizeof *pr->f);
  pr->g = calloc((size_t)PROF_PHASES * (size_t)pr->nj, sizeof *pr->g);
  if (!pr->f || !pr->g) return -1;
  for (int p = 0; p < PROF_PHASES; ++p) {
    const double ph = (double)p / PROF_PHASES;
    pr->lo[p] = (int8_t)floor(ph - w);
    pr->hi[p] = (int8_t)ceil(ph + w);
    for (int j = pr->lo[p]; j <= pr->hi[p]; ++j) {
      /* f = Phi(zb) - Phi(za), z = (edge - s0)/sigma; df/d(sigma^2) = (za phi(za) - zb phi(zb)) / (2 sigma^2) */
      const double za = (j - 0.5 - ph) / sig, zb = (j + 0.5 - ph) / sig, r = 1.0 / sqrt(2.0 * M_PI);
      const size_t at = (size_t)p * (size_t)pr->nj + (size_t)(j - pr->jmin);
      pr->f[at] = (float)(0.5 * (erf(zb * M_SQRT1_2) - erf(za * M_SQRT1_2)));
      pr->g[at] = (float)((za * r * exp(-0.5 * za * za) - zb * r * exp(-0.5 * zb * zb)) / (2.0 * cloud2));
    }
    for (int c = 0; c < APV_TRIM_NQ; ++c) { /* f is unimodal in j: the strips above a level are a run */
      const double fmin = APV_TRIM / (APV_TRIM_Q * (c + 1));
      int a = pr->lo[p], b = pr->hi[p];
      while (a <= b && pr->f[(size_t)p * (size_t)pr->nj + (size_t)(a - pr->jmin)] < fmin) ++a;
      while (b >= a && pr->f[(size_t)p * (size_t)pr->nj + (size_t)(b - pr->jmin)] < fmin) --b;
      pr->tlo[c][p] = (int8_t)a, pr->thi[c][p] = (int8_t)b;
    }
  }
  return 1;
}

/* The profile of plane sp: one already made for the same cloud, or a new one. */
static int strip_profile_of(na64_sim_digitizer *d, strip_plane *sp, na64_err *err)
{
  for (int i = 0; i < d->nprof; ++i)
    if (d->prof[i].cloud2 == sp->cloud2) {
      sp->prof = d->prof[i].f && d->prof[i].g ? &d->prof[i] : NULL;
      return NA64_OK;
    }
  strip_profile *pr = &d->prof[d->nprof++];
  int st = strip_profile_make(pr, sp->cloud2);
  if (st < 0) return na64_err_set(err, NA64_ENOMEM, "sim digitizer: out of memory");
  sp->prof = st ? pr : NULL;
  return NA64_OK;
}

/* The APV addresses of plane pl's strips into a; its smallest and largest into sp; whether they
 * increase with the strip number. */
static int strip_addresses(strip_plane *sp, const na64_geom_plane *pl, uint32_t *a)
{
  int up = 1;
  uint32_t last = 0;
  sp->amin = APV_NO_ADDR, sp->amax = 0;
  for (int k = 0; k < pl->nwires; ++k) {
    a[k] = apv_addr(pl->daq_key[k]);
    if (a[k] == APV_NO_ADDR) continue;
    if (sp->amin != APV_NO_ADDR && a[k] <= last) up = 0;
    last = a[k];
    sp->amin = a[k] < sp->amin ? a[k] : sp->amin;
    sp->amax = a[k] > sp->amax ? a[k] : sp->amax;
  }
  return up;
}

/* One strip plane: its DAQ address, geometry, response, strip addresses and profile. */
static int strip_plane_add(na64_sim_digitizer *d, int i, uint32_t *a, int *up, na64_err *err)
{
  const na64_geom_plane *pl = &d->sim->geom->planes[i];
  strip_plane p = {.plane = i, .ms = ms_index(d, i), .src = UINT32_MAX, .chip = UINT32_MAX, .channel = UINT32_MAX};
  for (int k = 0; k < pl->nwires; ++k) {
    if (pl->daq_key[k] == NA64_GEOM_NO_KEY) continue;
    strip_plane q = p;
    uint32_t port;
    na64_geom_key_unpack(pl->daq_key[k], &q.src, &port, &q.chip, &q.channel);
    if (cmp_strip_plane(&q, &p) < 0) p = q;
  }
  strip_response_setup(&p, pl);
  p.cx = pl->centre[0], p.cy = pl->centre[1], p.z = pl->centre[2];
  p.ux = pl->u_dir[0], p.uy = pl->u_dir[1];
  p.u0 = pl->wires[0].u;
  p.inv_pitch = 1.0 / pl->pitch;
  p.nwires = pl->nwires;
  p.addr = a;
  *up &= strip_addresses(&p, pl, a);
  NA64_CALL(strip_profile_of(d, &p, err));
  d->sp[d->nsp++] = p;
  return NA64_OK;
}

/* The strip planes (with strips and a pitch) by their smallest DAQ address (source, chip, channel):
 * the hits then come nearly in the order of the APV blocks; exactly in it (apv_in_order: no sort) if
 * every plane's addresses increase with the strip number and the planes' address ranges do not
 * overlap, as in the channel maps of sql/setups (strip s: chip first_chip + s / 128, channel s % 128). */
static int strip_planes_setup(na64_sim_digitizer *d, na64_err *err)
{
  const na64_geom *g = d->sim->geom;
  size_t nstrips = 0;
  for (int i = 0; i < g->nplanes; ++i) nstrips += (size_t)g->planes[i].nwires;
  d->sp = calloc((size_t)g->nplanes + 1, sizeof *d->sp);
  d->prof = calloc((size_t)g->nplanes + 1, sizeof *d->prof);
  d->addr = calloc(nstrips + 1, sizeof *d->addr);
  if (!d->sp || !d->prof || !d->addr) return na64_err_set(err, NA64_ENOMEM, "sim digitizer: out of memory");
  int up = 1;
  size_t off = 0;
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *pl = &g->planes[i];
    if (pl->kind != NA64_DET_MICROMEGAS && pl->kind != NA64_DET_GEM) continue;
    if (!(pl->pitch > 0.0) || pl->nwires < 1) continue; /* no strips to hit */
    NA64_CALL(strip_plane_add(d, i, d->addr + off, &up, err));
    off += (size_t)pl->nwires;
  }
  qsort(d->sp, (size_t)d->nsp, sizeof *d->sp, cmp_strip_plane);
  int any = 0;
  uint32_t top = 0; /* the largest address of the planes before */
  for (int i = 0; i < d->nsp; ++i) {
    if (d->sp[i].amin == APV_NO_ADDR) continue;
    if (any && d->sp[i].amin <= top) up = 0;
    any = 1;
    top = d->sp[i].amax > top ? d->sp[i].amax : top;
  }
  d->apv_in_order = up;
  d->apv_tail_i = 4096;
  while (d->apv_tail_i > 0 && APV_NOISE * d->nz.z[d->apv_tail_i - 1] >= 3.0 * APV_NOISE) --d->apv_tail_i;
  for (int n = 0; n <= PROF_MAX_NJ; ++n)
    d->apv_tail_p[n] = (uint32_t)lround(ldexp(1.0 - pow(1.0 - (4096 - d->apv_tail_i) / 4096.0, n), 16));
  d->apv_eh = na64_daq_apv_equipment(0, NA64_DAQ_APV_DEFAULT_PERIOD_NS);
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
  d->rec = calloc(APV_MAX_HITS, sizeof *d->rec);
  d->sink.w = calloc(3 * (size_t)APV_MAX_HITS, sizeof *d->sink.w);
  d->sink.seg_src = calloc(APV_MAX_HITS + 1, sizeof *d->sink.seg_src);
  d->sink.seg_at = calloc(APV_MAX_HITS + 1, sizeof *d->sink.seg_at);
  if (!d->rec || !d->sink.w || !d->sink.seg_src || !d->sink.seg_at) return na64_err_set(err, NA64_ENOMEM, "sim digitizer: out of memory");
  ms_setup(d);
  return strip_planes_setup(d, err);
}

int na64_sim_digitizer_new(const na64_sim *s, na64_sim_digitizer **out, na64_err *err)
{
  if (!s || !out) return na64_err_set(err, NA64_EINVAL, "na64_sim_digitizer_new: NULL argument");
  *out = NULL;
  const na64_geom *g = s->geom;
  na64_sim_digitizer *d = sim_calloc_aligned(sizeof *d); /* its noise library is 64-byte aligned */
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
  free(d->rec);
  free(d->sink.w);
  free(d->sink.seg_src);
  free(d->sink.seg_at);
  free(d->sp);
  free(d->addr);
  for (int i = 0; d->prof && i < d->nprof; ++i) {
    free(d->prof[i].f);
    free(d->prof[i].g);
  }
  free(d->prof);
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

void *sim_calloc_aligned(size_t size)
{
  size_t n = (size + 63) / 64 * 64; /* aligned_alloc: a multiple of the alignment (C17 7.22.3.1) */
  void *p = n >= size ? aligned_alloc(64, n) : NULL;
  if (p) memset(p, 0, n);
  return p;
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
#include "sim/simd_switch.h"
/* the AVX2 waveforms or the SSE2 ones (simd_switch.h); tests set the switch */
extern atomic_int sim_sadc_use_avx2;
atomic_int sim_sadc_use_avx2 = -1;
static int sadc_have_avx2(void) { return sim_simd_enabled(&sim_sadc_use_avx2, __builtin_cpu_supports("avx2")); }

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
 * exp per pulse: exp(2 - x) at the next sample is the previous one times exp(-period/tau). x grows
 * with the sample, so the samples before the pulse (x <= 0, all of them for a NaN t0) are the
 * leading ones: zeros first, then the pulse without the per-sample test (the same values). */
void sim_sadc_pulse_shape(double t0, double shape[WF_SAMPLES])
{
  const double r = exp(-NA64_DAQ_SADC_DEFAULT_PERIOD_NS / WF_TAU);
  int i = 0;
  for (; i < WF_SAMPLES && !((i * NA64_DAQ_SADC_DEFAULT_PERIOD_NS - t0) / WF_TAU > 0.0); ++i) shape[i] = 0.0;
  double e = 0.0;
  for (; i < WF_SAMPLES; ++i) {
    const double x = (i * NA64_DAQ_SADC_DEFAULT_PERIOD_NS - t0) / WF_TAU;
    e = e > 0.0 ? e * r : exp(2.0 - x); /* the first sample's exp, and again if e underflowed */
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
                              const float *shape, int avx2, sim_word_stream *ns, uint32_t *out)
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
                         const double *shape, sim_word_stream *ns, na64_daq_writer *w, na64_err *err)
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
  sim_word_stream ns = {na64_rng_u64(rng), 0};
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

static int cmp_rec(const void *a, const void *b)
{
  const uint32_t x = ((const strip_rec *)a)->addr, y = ((const strip_rec *)b)->addr;
  return (x > y) - (x < y);
}

/* The hits by APV address, for a channel map whose planes do not come in address order (apv_in_order
 * 0): an insertion sort (nearly sorted: the planes by their smallest address, the strips of a plane
 * in order); qsort if it turns out far from sorted. */
static void sort_recs(strip_rec *h, size_t n)
{
  size_t moves = 0;
  for (size_t i = 1; i < n; ++i) {
    const uint32_t ki = h[i].addr;
    if (h[i - 1].addr <= ki) continue;
    strip_rec t = h[i];
    size_t j = i;
    while (j > 0 && h[j - 1].addr > ki) {
      h[j] = h[j - 1];
      --j;
      ++moves;
    }
    h[j] = t;
    if (moves > 8 * n + 64) {
      qsort(h, n, sizeof *h, cmp_rec);
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

/* The charge centre (in strips from the first strip's centre) of a crossing at u with charge q, t2 the
 * inclination's variance (strips^2, strip_response_setup): the track plus the offsets of
 * strip_response_setup (primary-electron statistics: a Gaussian from bits 12-23 of wq; the delta
 * electron: azimuth from bits 24-31). */
static double strip_centre(const na64_sim_digitizer *d, const strip_plane *sp, double u, double t2, double q, uint64_t wq)
{
  double s0 = (u - sp->u0) * sp->inv_pitch + sqrt(sp->ion2 + t2 * sp->ion_n) * d->nz.z[(wq >> 12) & 4095u];
  double x = (q * (1.0 / APV_MPV) - 1.0) * 32.0; /* the delta table's index */
  if (x > 0.0) {
    int k = x < APV_DELTA_N ? (int)x : APV_DELTA_N - 1;
    double f = x - k, a = sp->delta[k] + f * (sp->delta[k + 1] - sp->delta[k]);
    s0 += a * d->cos_tab[(wq >> 24) & 255u];
  }
  return s0;
}

/* An APV amplitude: floor(a + 1/2) clipped to [0, 4095]: truncation, then the clip (|a| < 1e6 here) */
static inline uint32_t apv_amp(double a)
{
  int v = (int)(a + 0.5);
  v = v < 0 ? 0 : v;
  return (uint32_t)(v > 4095 ? 4095 : v);
}

/* The two payload words of a hit of channel ch with samples a0, a1, a2 (docs/raw-format.md §5.3, as
 * na64_daq_apv_encode writes them), the amplitudes as apv_amp makes them: truncated after + 1/2, then
 * clipped only if one of them is outside [0, 4095] (rare: a sample below zero, or a charge beyond
 * 4095 counts). */
static inline __attribute__((always_inline)) void apv_words(uint32_t ch, double a0, double a1, double a2, uint32_t *w0,
                                                            uint32_t *w1)
{
  uint32_t v0 = (uint32_t)(int)(a0 + 0.5), v1 = (uint32_t)(int)(a1 + 0.5), v2 = (uint32_t)(int)(a2 + 0.5);
  if ((v0 | v1 | v2) > 4095u) v0 = apv_amp(a0), v1 = apv_amp(a1), v2 = apv_amp(a2);
  *w0 = 1u << 30 | ch << 23 | v0;
  *w1 = v2 << 12 | v1;
}

/* The strips' noise: 12-bit indices into the quantile table from the words of the stream (key, k:
 * the caller's sim_word_stream, held here and written back), the middle samples five from a word,
 * the other two samples of the strips that pass two pairs from a word. */
typedef struct noise_bits {
  uint64_t key, k;
  uint64_t pair;
  int npair;
} noise_bits;

static inline __attribute__((always_inline)) uint64_t noise_word(noise_bits *nb)
{
  return sim_noise_word(nb->key, ++nb->k);
}

/* Close the open chip of o (its header's hit count) and open chip `unit` (a new segment if its source
 * is another); APV_NO_ADDR: close only. */
static void apv_sink_chip(apv_sink *o, uint32_t unit)
{
  if (o->unit != APV_NO_ADDR) {
    const size_t cnt = (o->k - o->hk - 1) / 2;
    o->bad |= cnt > 255;
    o->w[o->hk] = o->head | (o->unit & 63u) << 24 | (uint32_t)cnt;
  }
  if (unit == APV_NO_ADDR) return;
  if (o->unit == APV_NO_ADDR || unit >> 8 != o->unit >> 8) {
    o->seg_src[o->nseg] = unit >> 8;
    o->seg_at[o->nseg++] = o->k;
  }
  o->hk = o->k++;
  o->unit = unit;
}

/* A hit into the words (the chips in increasing address order). */
static inline __attribute__((always_inline)) void apv_sink_words(apv_sink *o, uint32_t addr, uint32_t w0, uint32_t w1)
{
  if (addr >> 8 != o->unit) apv_sink_chip(o, addr >> 8);
  o->w[o->k] = w0;
  o->w[o->k + 1] = w1;
  o->k += 2;
}

/* How many more hits o takes: APV_MAX_HITS records, or 3 APV_MAX_HITS words (at most 3 a hit). */
static inline size_t apv_sink_room(const apv_sink *o)
{
  return o->rec ? APV_MAX_HITS - o->n : (3 * (size_t)APV_MAX_HITS - o->k) / 3;
}

/* A hit into o: its words, or its record for the sort (n counts the records only). */
static inline __attribute__((always_inline)) void apv_sink_put(apv_sink *o, uint32_t addr, uint32_t w0, uint32_t w1)
{
  if (o->rec) o->rec[o->n++] = (strip_rec){addr, w0, w1};
  else apv_sink_words(o, addr, w0, w1);
}

/* The two other samples of a strip that passes (signal qf): 24 bits of the pair word. */
static inline __attribute__((always_inline)) void strip_pass(const double *zq, noise_bits *nb, uint32_t addr, double qf,
                                                             double a1, apv_sink *o)
{
  if (!nb->npair) {
    nb->pair = noise_word(nb);
    nb->npair = 2;
  }
  const double a0 = qf * 0.35 + APV_NOISE * zq[nb->pair & 4095u];
  const double a2 = qf * 0.75 + APV_NOISE * zq[(nb->pair >> 12) & 4095u];
  nb->pair >>= 24;
  --nb->npair;
  uint32_t w0, w1;
  apv_words(addr & 127u, a0, a1, a2, &w0, &w1);
  apv_sink_put(o, addr, w0, w1);
}

/* The ns strips of a crossing of charge q, strip k's fraction f[k] (+ t2 g[k] if lin) and APV address
 * addr[k]: each its middle sample (APV_NOISE noise), the zero suppression at 3 noise sigma, then for the
 * strips that pass the other two samples (shape 0.35, 1, 0.75) and their payload words into o. */
static inline __attribute__((always_inline)) void strips_write(const double *zq, const uint32_t *addrs, int ns,
                                                               const float *f, const float *g, int lin, double t2,
                                                               double q, noise_bits *nb, apv_sink *o)
{
  for (int k = 0; k < ns;) {
    uint64_t mid = noise_word(nb);
    const int e = ns - k < 5 ? ns : k + 5;
    for (; k < e; ++k, mid >>= 12) {
      const double qf = q * (lin ? (double)f[k] + t2 * (double)g[k] : (double)f[k]);
      const double a1 = qf + APV_NOISE * zq[mid & 4095u];
      if (a1 < 3.0 * APV_NOISE || addrs[k] == APV_NO_ADDR) continue; /* zero suppression (most strips) */
      strip_pass(zq, nb, addrs[k], qf, a1, o);
    }
  }
}

/* A noise-only strip of the window's tails (strips_from_profile) that passes the zero suppression: its
 * middle sample from the quantiles at or above the threshold (apv_tail_i: equiprobable, as in the
 * full draw) by 16 bits t, the other two samples noise (none without an APV address). The noise state
 * goes in and out by value: the strip loop's stays in registers. */
static __attribute__((noinline, cold)) noise_bits tail_hit(const na64_sim_digitizer *d, noise_bits nb, uint32_t addr,
                                                           unsigned t, apv_sink *o)
{
  if (addr == APV_NO_ADDR) return nb;
  const unsigned i = d->apv_tail_i + (unsigned)(((uint32_t)t * (4096u - d->apv_tail_i)) >> 16);
  strip_pass(d->nz.z, &nb, addr, 0.0, APV_NOISE * d->nz.z[i], o);
  return nb;
}

/* The strips of a crossing at charge centre s0 from the profile table (inclination t2 to first order if
 * lin). The window's strips whose charge is below APV_TRIM counts for this charge class (strip_profile
 * tlo, thi) are noise only: none, or one of them (probability 1 - (1 - p0)^n of the n, p0 the table's
 * fraction of quantiles at or above the threshold; two or more: (n p0)^2/2 per crossing, not made: < 2e-5
 * for a Micromegas window's n ~ 3.6 tail strips, up to 3.7e-3 at n = 64) passes with a middle sample drawn above the threshold (tail_hit): tail_u, 16 random bits,
 * below 2^16 that probability; then one word for which strip and its sample. */
static void strips_from_profile(const na64_sim_digitizer *d, const strip_plane *sp, double s0, double t2, int lin,
                                double q, unsigned tail_u, noise_bits *nb, apv_sink *o)
{
  const strip_profile *pr = sp->prof;
  /* n = floor(s0 PROF_PHASES + 1/2) through a positive offset (s0 > -1e6): k0 = n / PROF_PHASES, p = n mod it */
  const int64_t m = (int64_t)(s0 * PROF_PHASES + (0.5 + 2147483648.0));
  const int p = (int)(m & (PROF_PHASES - 1)), k0 = (int)(m / PROF_PHASES) - (int)(2147483648 / PROF_PHASES);
  const int cq = (int)(q * (1.0 / APV_TRIM_Q)), top = sp->nwires - 1;
  int lo_o = k0 + pr->lo[p], hi_o = k0 + pr->hi[p], lo = lo_o, hi = hi_o; /* the window; the strips with charge */
  if (cq < APV_TRIM_NQ) lo = k0 + pr->tlo[cq][p], hi = k0 + pr->thi[cq][p];
  lo_o = lo_o < 0 ? 0 : lo_o, lo = lo < lo_o ? lo_o : lo;
  hi_o = hi_o > top ? top : hi_o, hi = hi > hi_o ? hi_o : hi;
  if (hi_o < lo_o || (size_t)(hi_o - lo_o + 1) > apv_sink_room(o)) return; /* no strip of the plane; no room (4096 hits) */
  const int nl = (lo <= hi ? lo : hi_o + 1) - lo_o, nr = lo <= hi ? hi_o - hi : 0; /* noise-only strips left, right */
  int tail = -1;
  unsigned t = 0;
  if (tail_u < d->apv_tail_p[nl + nr]) { /* (none if nl + nr = 0: apv_tail_p[0] = 0) */
    const uint64_t w = noise_word(nb);
    {
      const int j = (int)(((w & 0xFFFFu) * (uint64_t)(nl + nr)) >> 16);
      tail = j < nl ? lo_o + j : hi + 1 + (j - nl);
      t = (unsigned)((w >> 16) & 0xFFFFu);
    }
  }
  if (tail >= 0 && tail < lo) *nb = tail_hit(d, *nb, sp->addr[tail], t, o);
  if (lo <= hi) {
    /* the entry of strip lo in the row of phase p (column j: strip k0 + jmin + j) */
    const size_t at = (size_t)p * (size_t)pr->nj + (size_t)(lo - k0 - pr->jmin);
    if (lin) strips_write(d->nz.z, sp->addr + lo, hi - lo + 1, pr->f + at, pr->g + at, 1, t2, q, nb, o);
    else strips_write(d->nz.z, sp->addr + lo, hi - lo + 1, pr->f + at, pr->g + at, 0, 0.0, q, nb, o);
  }
  if (tail > hi) *nb = tail_hit(d, *nb, sp->addr[tail], t, o);
}

/* The strips of a crossing at s0 whose inclination widens the cloud beyond the profile's reach: the
 * Gaussian of variance cloud2 + t2 integrated over each strip of the +-4 sigma window (erf table). */
static __attribute__((noinline, cold)) void strips_from_erf(const na64_sim_digitizer *d, const strip_plane *sp,
                                                            double s0, double t2, double q, noise_bits *nb, apv_sink *o)
{
  const double c = 1.0 / sqrt(2.0 * (sp->cloud2 + t2)), w = fmin(4.0 / (M_SQRT2 * c), 1e6); /* |s0| < 1e6: no int overflow */
  int lo = (int)floor(s0 - w), hi = (int)ceil(s0 + w);
  lo = lo < 0 ? 0 : lo;
  hi = hi > sp->nwires - 1 ? sp->nwires - 1 : hi;
  float f[PROF_MAX_NJ];
  for (int a = lo; a <= hi && apv_sink_room(o) > 0; a += PROF_MAX_NJ) { /* in chunks of PROF_MAX_NJ strips */
    int b = hi - a >= PROF_MAX_NJ ? a + PROF_MAX_NJ - 1 : hi;
    if ((size_t)(b - a + 1) > apv_sink_room(o)) b = a + (int)apv_sink_room(o) - 1;
    double e_lo = erf_fast(d, (a - 0.5 - s0) * c);
    for (int k = a; k <= b; ++k) {
      const double e_hi = erf_fast(d, (k + 0.5 - s0) * c);
      f[k - a] = (float)(0.5 * (e_hi - e_lo));
      e_lo = e_hi;
    }
    strips_write(d->nz.z, sp->addr + a, b - a + 1, f, NULL, 0, 0.0, q, nb, o);
  }
}

/* Strip hits of plane sp crossed at (x, y) with slopes (tx, ty); noise from the quantile table (as the
 * waveforms). */
static void plane_hits(const na64_sim_digitizer *d, const strip_plane *sp, double x, double y, double tx, double ty,
                       sim_word_stream *st, apv_sink *o)
{
  const double u = (x - sp->cx) * sp->ux + (y - sp->cy) * sp->uy;
  /* one word: the charge's Gaussian (gauss_table: exact tails) from its low 12 bits, the centroid's
   * offsets from bits 12-31 (strip_centre), the efficiency from bits 32-47 (16 bits: 0.95 becomes
   * 62260/65536 = 0.950012), whether a noise-only strip passes (strips_from_profile) from bits 48-63 */
  uint64_t wq = sim_noise_word(st->key, ++st->k);
  const unsigned iz = (unsigned)(wq & 4095u);
  double q;
  if (iz - 1u < 4094u) q = d->moyal_q[iz]; /* the table of the same expression (strip_path_setup) */
  else {
    double z = gauss_table(d, iz, st);
    q = APV_MPV * (1.0 + 0.15 * (-log(z * z))); /* Moyal around the MPV (|z| >= 3.1e-4) */
  }
  if (((wq >> 32) & 0xFFFFu) >= APV_EFF_16) return; /* = (bits 32-47) 2^-16 >= APV_EFF */
  const double tu = tx * sp->ux + ty * sp->uy, t2 = tu * tu * sp->gap2; /* the inclination's spread, strips^2 */
  const double s0 = strip_centre(d, sp, u, t2, q, wq);
  if (!(s0 > -1e6 && s0 < 1e6)) return; /* far outside the plane (or NaN): no strip */
  noise_bits nb = {st->key, st->k, 0, 0};
  if (sp->prof && t2 <= PROF_T2_LIN * sp->cloud2) {
    strips_from_profile(d, sp, s0, t2, t2 > PROF_T2_NONE * sp->cloud2, q, (unsigned)(wq >> 48), &nb, o);
    st->k = nb.k;
  } else {
    noise_bits ne = nb; /* its address goes out of line, nb's does not */
    strips_from_erf(d, sp, s0, t2, q, &ne, o);
    st->k = ne.k;
  }
}

/* The event's APV blocks: the words of each segment of o (one source) copied into the writer's event. */
static int apv_blocks_write(const na64_sim_digitizer *d, const apv_sink *o, na64_daq_writer *w, na64_err *err)
{
  if (o->bad) return na64_err_set(err, NA64_ERANGE, "APV: a chip with more than 255 hits");
  na64_daq_equipment_header eh = d->apv_eh;
  for (int i = 0; i < o->nseg; ++i) {
    const size_t nw = o->seg_at[i + 1] - o->seg_at[i];
    uint32_t *out;
    NA64_CALL(na64_daq_writer_reserve_equipment(w, o->seg_src[i], nw, &out, err));
    memcpy(out, o->w + o->seg_at[i], nw * sizeof *out);
    eh.id = o->seg_src[i];
    NA64_CALL(na64_daq_writer_commit_equipment(w, &eh, nw, err));
  }
  return NA64_OK;
}

int write_apv(na64_sim_digitizer *d, const na64_sim_event *ev, uint32_t event, double z_stop, sim_word_stream *st,
              na64_daq_writer *w, na64_err *err)
{
  apv_sink *o = &d->sink;
  o->rec = d->apv_in_order ? NULL : d->rec;
  o->n = o->k = o->hk = 0;
  o->unit = APV_NO_ADDR;
  o->head = 2u << 30 | (event & 0xFFFu) << 8; /* APV_HEADER, docs/raw-format.md §5.3 */
  o->nseg = o->bad = 0;
  for (int i = 0; i < d->nsp; ++i) {
    const strip_plane *sp = &d->sp[i];
    double x, y, tx, ty;
    if (sp->z > z_stop || !track_at(d->sim, &ev->truth, sp->z, &x, &y, &tx, &ty)) continue;
    if (sp->ms >= 0) {
      x += d->ms_dx[sp->ms];
      y += d->ms_dy[sp->ms];
    }
    plane_hits(d, sp, x, y, tx, ty, st, o);
  }
  if (o->rec) { /* a channel map out of address order: the hits sorted, then their words */
    sort_recs(o->rec, o->n);
    for (size_t i = 0; i < o->n; ++i) apv_sink_words(o, o->rec[i].addr, o->rec[i].w0, o->rec[i].w1);
  }
  apv_sink_chip(o, APV_NO_ADDR);
  o->seg_at[o->nseg] = o->k;
  return apv_blocks_write(d, o, w, err);
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
  sim_word_stream st = {na64_rng_u64(&rng), 0};
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
