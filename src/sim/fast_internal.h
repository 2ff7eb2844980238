/*
 * Private state of the fast invisible-mode simulation (src/sim/fast_*.c). Not installed.
 */
#ifndef NA64_SIM_FAST_INTERNAL_H
#define NA64_SIM_FAST_INTERNAL_H

#include <math.h>

#include "na64/physics.h"
#include "na64/sim.h"

#define SIM_MAX_MAGNETS 4
/* The sampling-ADC waveforms of both digitisers (fast_digi.c, vis_digi.c): 32 samples of
 * NA64_DAQ_SADC_DEFAULT_PERIOD_NS, pulse A (x/2)^2 exp(2 - x) with x = (t - t0)/WF_TAU, N(0, WF_NOISE)
 * noise per sample, t0 = WF_START +- WF_JITTER. */
#define WF_SAMPLES 32
#define WF_NOISE 1.0  /* counts per sample */
#define WF_TAU 15.0   /* ns */
#define WF_START 80.0 /* ns after the window start */
#define WF_JITTER 1.0 /* ns */
#define DIGI_SEED_KEY 0x9E3779B97F4A7C15ull /* the digitisation's RNG stream: na64_rng_init(seed + key, event) */
#define SR_TABLE 4001  /* synchrotron spectrum: CDF nodes in u = E/E_c */
#define AP_NE 64       /* A' emission table: emitter-energy bins */
#define AP_NT 24       /* A' emission table: depth bins */
#define AP_NSE 3       /* A' emission, method exact: sampler energies (fast_aprime.c) */

/* A regular grid of cells in a transverse plane (a calorimeter module, the veto). */
typedef struct sim_grid {
  double x_lo, y_lo, px, py; /* lower-left corner and cell pitch, cm */
  int nx, ny;
  double z_front, length;    /* cm */
} sim_grid;

typedef struct sim_magnet {
  double z_in, z_out; /* cm */
  double field;       /* B_y, T */
} sim_magnet;

struct na64_sim {
  na64_sim_config cfg;
  na64_geom *geom;
  int nmag;
  sim_magnet mag[SIM_MAX_MAGNETS];
  double z_counter[2], counter_half[2][2]; /* beam counters S0, S1: z and half sizes (x, y) */
  int ncounters;
  /* ECAL */
  sim_grid ecal;
  na64_material ecal_mat;    /* the sandwich of the geometry's layers (na64_material_sandwich) */
  double ecal_depth[2];      /* X0 of the pre-shower and main sections */
  double ecal_x0_cm;         /* length of one X0 along the ECAL, cm */
  double ecal_rm;            /* Moliere radius, cm */
  double ecal_fs, ecal_ehat; /* Grindhammer-Peters sampling frequency F_S and e/mip */
  double ecal_lambda;        /* nuclear interaction length, cm */
  double ecal_mip[2];        /* visible energy of a MIP crossing each section, GeV */
  /* veto */
  sim_grid veto;
  double veto_mip;           /* energy of a MIP crossing a paddle, GeV */
  /* HCAL */
  int nhcal;
  sim_grid hcal[NA64_SIM_MAX_HCAL];
  double hcal_lambda, hcal_ehat, hcal_mip;
  /* SRD */
  int nsrd;
  double srd_z[NA64_SIM_MAX_SRD];
  double srd_x[2], srd_y[2]; /* transverse extent, cm */
  double srd_pb;             /* lead per module, cm */
  double sr_u[SR_TABLE], sr_cdf[SR_TABLE]; /* CDF (normalised) of E/E_c of the photon-number spectrum */
  /* A' */
  int ap_on;
  double ap_ptrue;           /* emission probability per EOT (E_A' >= min), at the card's eps */
  double ap_pemit;           /* biased emission probability per electron */
  double ap_Eedge[AP_NE + 1], ap_tedge[AP_NT + 1];
  double ap_cdf[AP_NE * AP_NT + 1];
  /* A' with physics method exact: samplers of the exact (x, theta) at AP_NSE emitter energies
   * (log-spaced), shared read-only by the workers, and the material factor sum_j n_j sigma_j /
   * (n_0 sigma_0) at each (fast_aprime.c) */
  na64_exact_sampler *ap_exact[AP_NSE];
  double ap_exact_E[AP_NSE], ap_exact_R[AP_NSE];
};

struct na64_sim_worker {
  const na64_sim *sim;
  na64_aprime_sampler *samp[AP_NE];
};

/* One sampling-ADC channel of a digitiser (fast_digi.c, vis_digi.c): its DAQ address, calibration
 * and what the fast waveform loop precomputes from them (sim_sadc_channel_prepare). */
typedef struct sim_sadc_channel {
  uint32_t src, port, channel;
  double gain, ped_even, ped_odd;     /* GeV per count of pulse maximum; pedestals in counts */
  double ped_word_even, ped_word_odd; /* the pedestals as the payload carries them (1/8 count) */
  int unclipped;   /* pedestal +- the largest noise stays inside the ADC range: no clipping without signal */
  double headroom; /* nor with a pulse of at most this amplitude (counts) */
  double quiet_max; /* amplitudes <= this: pedestal + noise, no clipping (0 if unclipped, else NaN) */
  double pulse_max; /* amplitudes <= this (and > quiet_max): a pulse, no clipping (headroom or NaN) */
  uint32_t header_word, pedestal_word; /* its first two payload words (docs/raw-format.md §5.2), adjacent */
  int pedestals_ok;                    /* the pedestals fit the 15-bit fields of the pedestal word */
  float ped_half[4]; /* ped_even + 1/2, ped_odd + 1/2, ped_even + 1/2, ped_odd + 1/2: the samples' lanes */
  int group;         /* at the first channel of a source (sim_sadc_channels_group): its channels, */
  int group_ok;      /* and whether all their pedestals fit (pedestals_ok); 0 elsewhere */
} sim_sadc_channel;
/* Mark the source groups of the n channels ch (sorted by source id) for sim_sadc_write_event. */
void sim_sadc_channels_group(sim_sadc_channel *ch, int n);
/* The waveform noise: N(0, 1) at the quantiles (i + 1/2)/4096, and the pedestal-run noise library
 * built from them (sim_sadc_noise_library, docs/simulation.md "Raw data"): SADC_LIB_BLOCKS blocks of
 * SADC_LIB_LEN consecutive samples, each lane a permutation of the quantiles shuffled with the run's
 * seed. A waveform is WF_SAMPLES / SADC_LIB_LEN blocks, each chosen (12 bits) and given a sign
 * pattern (5 bits) by one 64-bit word of a counter-based stream keyed by one draw of the event's
 * Philox stream. A block is stored in the lane order of sim_sadc_lane (samples 0-3, 8-11, 4-7,
 * 12-15: what the 128-bit-lane packs of SSE2 and AVX2 put back in order). */
#define SADC_LIB_BLOCKS 4096
#define SADC_LIB_LEN 16
typedef struct sim_sadc_noise {
  double z[4096];
  double zmax; /* largest |z| WF_NOISE */
  /* WF_NOISE z, shuffled; lib[i][sim_sadc_lane(j)]: sample j. A block (64 bytes) on one cache line:
   * 16-byte alignment put most blocks across two, twice the lines a waveform reads from the 256 kB
   * library (cachegrind; vistime, docs/performance.md). Holders of a sim_sadc_noise are allocated
   * with sim_calloc_aligned. */
  _Alignas(64) float lib[SADC_LIB_BLOCKS][SADC_LIB_LEN];
  uint64_t lib_seed;
  int lib_ready;
} sim_sadc_noise;
void sim_sadc_noise_init(sim_sadc_noise *nz);
/* calloc for a type of extended alignment (a struct holding a sim_sadc_noise): `size` zeroed bytes
 * at a multiple of 64 (free() releases them), or NULL */
void *sim_calloc_aligned(size_t size);
/* Where sample j (0..15) of a library block is stored: j with samples 4-7 and 8-11 swapped (an
 * involution: also the sample stored at j). */
static inline int sim_sadc_lane(int j) { return (j & 12) == 4 || (j & 12) == 8 ? j ^ 12 : j; }
/* (Re)build the noise library of nz for the run seed `seed` (nothing to do if it is already that
 * seed's): both digitisers call it before an event's waveforms. */
void sim_sadc_noise_library(sim_sadc_noise *nz, uint64_t seed);
/* The noise words of an event's waveforms and strips: word k of the counter-based stream keyed by
 * one Philox draw of the event is the SplitMix64 output function of key + k gamma (G. Steele, D. Lea,
 * C. Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014; the finaliser constants
 * are D. Stafford's "Mix13" variant used there; it passes BigCrush). 15 instructions a word
 * against 50 for a Philox word of na64_rng_u64 (callgrind, docs/performance.md "rvsim"). The event's Philox stream keeps the key, so the
 * noise remains a function of (seed, event) whatever the thread. */
static inline uint64_t sim_noise_word(uint64_t key, uint64_t k)
{
  uint64_t z = key + k * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* A stream of sim_noise_word words: word k + 1 of key next, k advanced (the event's noise of the
 * digitisers, the straws' hits, V2's counts). */
typedef struct sim_word_stream {
  uint64_t key, k;
} sim_word_stream;
static inline uint64_t sim_stream_word(sim_word_stream *s) { return sim_noise_word(s->key, ++s->k); }
/* 53 bits of a word, shifted by half a step: strictly inside (0, 1), as na64_rng_uniform */
static inline double sim_word_uniform(uint64_t w) { return ((double)(w >> 11) + 0.5) * 0x1.0p-53; }
/* the stream's j-th next word (j >= 1) without taking it */
static inline uint64_t sim_stream_peek(const sim_word_stream *s, uint64_t j) { return sim_noise_word(s->key, s->k + j); }
/* Poisson of mean mu < 30 given expm = e^-mu: Knuth's multiplication method (TAOCP vol. 2, 3.4.1 F;
 * exact, as na64_rng_poisson below 30) on the stream's uniforms; _from: given its first uniform p,
 * already taken from the stream (vis_v2.c looks at it before computing e^-mu). */
static inline unsigned long sim_stream_poisson_from(sim_word_stream *s, double p, double expm)
{
  unsigned long k = 0;
  while (p > expm) {
    p *= sim_word_uniform(sim_stream_word(s));
    ++k;
  }
  return k;
}
static inline unsigned long sim_stream_poisson(sim_word_stream *s, double expm)
{
  return sim_stream_poisson_from(s, sim_word_uniform(sim_stream_word(s)), expm);
}

/* max(x, c) and min(x, c) for a constant c that is a number: fmax's and fmin's value for every x,
 * NaN included (fmax(NaN, c) = c, C17 F.10.9.2: the comparison's false branch), without libm's call,
 * which GCC 12 keeps at -O2 (shower_draw's 10: 1006 -> 936 instructions per shower, docs/performance.md
 * "radvec"). */
static inline double sim_max_c(double x, double c) { return x > c ? x : c; }
static inline double sim_min_c(double x, double c) { return x < c ? x : c; }

/* The fluctuations of a Grindhammer-Peters profile (hep-ex/0001020, sampling calorimeters, the GFlash
 * defaults): the widths of ln T and ln alpha, sigma = 1/(s1 + s2 ln y) (eqs. 7, 12; the fits hold for
 * ln y >~ 3, below which the width is capped at 0.5 as GFlash does, keeping low-energy showers short
 * and compact), and their correlation rho = r1 + r2 ln y as the weights c1 = sqrt((1 + rho)/2),
 * c2 = sqrt((1 - rho)/2) of two N(0, 1) z1, z2: ln T ~ sT (c1 z1 + c2 z2), ln alpha ~ sa (c1 z1 - c2 z2).
 * The ECAL showers (fast_ecal.c) and V2's WCAL profile (vis_v2.c). */
typedef struct sim_gp_spread {
  double sT, sa, c1, c2;
} sim_gp_spread;
static inline sim_gp_spread sim_gp_spread_at(double lny)
{
  const double rho = 0.784 - 0.023 * lny; /* r1, r2 */
  sim_gp_spread w = {sim_min_c(1.0 / sim_max_c(-2.5 + 1.25 * lny, 2.0), 0.5),   /* s1, s2 */
                     sim_min_c(1.0 / sim_max_c(-0.82 + 0.79 * lny, 2.0), 0.5),  /* s3, s4 */
                     sqrt(0.5 * (1.0 + rho)), sqrt(0.5 * (1.0 - rho))};
  return w;
}
void sim_sadc_channel_prepare(sim_sadc_channel *c, const sim_sadc_noise *nz);
/* The event's SADC equipment blocks, one per source id, of the n channels ch (sorted by source id)
 * with pulses of maximum amp[i] counts (<= 0: none) of the event's shape: pedestals, noise blocks of
 * the library chosen by one word of ns per channel, rounding, 12-bit clipping, encoded as na64_daq_sadc_encode would encode
 * them (the same words) but without the intermediate waveform records, made in place in the
 * writer's event (na64_daq_writer_reserve_equipment). */
int sim_sadc_write_event(const sim_sadc_noise *nz, const sim_sadc_channel *ch, const double *amp, int n,
                         const double *shape, sim_word_stream *ns, na64_daq_writer *w, na64_err *err);
int sim_sadc_channel_cmp(const sim_sadc_channel *x, const sim_sadc_channel *y); /* by source, port, channel */

/* fast_setup.c */
/* na64_sim_new; allow_visible = 1 also accepts a visible-mode run, whose ECAL, HCAL and VETO the
 * visible-mode response (src/sim/vis_event.c) uses through the same shower code (issue 12) */
/* A start- or end-of-run event of run `run` (DATE event.h START_OF_RUN/END_OF_RUN), for both
 * simulations' public run-mark writers; `who` names the caller in errors. */
int sim_write_run_mark(const char *who, long run, uint32_t type, uint32_t nb_in_run, na64_daq_writer *w,
                       na64_err *err);
int sim_new_for_mode(const na64_sim_config *cfg, int allow_visible, na64_sim **out, na64_err *err);
/* The unit pulse sampled at the SADC clock for a pulse starting at t0 (ns): maximum 1 at t0 + 2 WF_TAU. */
void sim_sadc_pulse_shape(double t0, double shape[WF_SAMPLES]);
int sim_grid_cell(const sim_grid *g, double x, double y); /* iy * nx + ix, or -1 outside */
/* fast_beam.c: position and slope of the particle at z after the dipoles (charge q, momentum p) */
void sim_transport(const na64_sim *s, double q, double p, double x0, double dx0, double z, double *x, double *dx);
/* the same from (z_from, x0, dx0) */
void sim_transport_from(const na64_sim *s, double q, double p, double z_from, double x0, double dx0, double z, double *x,
                        double *dx);
/* fast_ecal.c: sampling and noise on the section and cell energies of an EM/hadron deposit */
void sim_ecal_smear(const na64_sim *s, na64_rng *rng, double cells[][NA64_SIM_MAX_ECAL], const double dep[2],
                    double vis[2], int with_cells);
/* fast_ecal.c, for the visible pair (vis_event.c): one electron shower of energy E entering the ECAL
 * face at (x, y) with slopes (dxdz, dydz), the same draws as na64_sim_em_shower but 6 coarser slices
 * with the radial parameters at their mean depths (fast_ecal.c SLICES_COARSE), added to
 * the corner grids g[section] (sim_lateral_corners_add, (nx + 1)(ny + 1) corners of the ECAL's cell
 * edges) instead of to cells; sim_em_corner_cells then makes the cell and section energies of all the
 * showers added (the mixed differences of the grids, once per event). */
#define SIM_ECAL_CORNERS 160 /* = LAT_MAX_CORNERS of src/sim/ecal_shape.h */
void sim_em_corners_add(const na64_sim *s, double E, double x, double y, double dxdz, double dydz, na64_rng *rng,
                        double g[NA64_SIM_ECAL_SECTIONS][SIM_ECAL_CORNERS]);
void sim_em_corner_cells(const na64_sim *s, const double g[NA64_SIM_ECAL_SECTIONS][SIM_ECAL_CORNERS],
                         double cells[][NA64_SIM_MAX_ECAL], double dep[NA64_SIM_ECAL_SECTIONS]);
/* fast_event.c: Moyal-distributed MIP energy of mean `mean` and relative width w; fraction of a hadron
 * shower of energy E deposited between depths a < b (interaction lengths after the interaction) */
double sim_mip_draw(na64_rng *rng, double mean, double w);
double sim_had_frac(double E, double a, double b);
/* fast_digi.c, shared with the visible digitiser (vis_digi.c): ms_event draws the event's multiple
 * scattering in the tracker planes for momentum p (both draw from the SplitMix64 stream st); write_apv writes the APV blocks of the Micromegas
 * and GEM planes crossed by the track of ev->truth (x0, y0, dxdz0, dydz0 before the dipoles; x, y,
 * dxdz, dydz at the ECAL face behind them), `event` the number the chips carry; the planes behind
 * z_stop see no track and draw nothing (the visible beam electron ends in the WCAL; HUGE_VAL: none). */
void ms_event(na64_sim_digitizer *d, double p, sim_word_stream *st);
int write_apv(na64_sim_digitizer *d, const na64_sim_event *ev, uint32_t event, double z_stop, sim_word_stream *st,
              na64_daq_writer *w, na64_err *err);
/* A digitiser of the run's fast simulation with its strip (APV) path only, for ms_event and write_apv:
 * no SADC readouts, no straw digitiser, no noise library; its quantile table is a copy of nz->z (the
 * table sim_sadc_noise_init makes), so the strips are those of na64_sim_digitizer_new's digitiser. */
int sim_strip_digitizer_new(const na64_sim *s, const sim_sadc_noise *nz, na64_sim_digitizer **out, na64_err *err);
/* vis_event.c: the fast simulation of the visible run (its dipoles, ECAL, digitiser set-up) */
const na64_sim *sim_vis_fast(const na64_vis_sim *s);
/* fast_aprime.c */
int sim_aprime_setup(na64_sim *s, na64_err *err);
void sim_aprime_release(na64_sim *s);
void sim_aprime_draw(na64_sim_worker *w, na64_rng *rng, double E, double *E_em, double *t, double *ea, double *theta);

#endif
