/*
 * na64/sim.h — the simulation: generators and detector response.
 *
 * This header grows section by section as the detector models are added. Each section is
 * self-contained; the simulation talks to reconstruction only through the raw data (DATE files of
 * na64/daq.h) plus truth records, exactly as the experiment does (DESIGN.md).
 *
 * Units: cm, ns, GeV; directions need not be normalised. Randomness only through na64_rng.
 */
#ifndef NA64_SIM_H
#define NA64_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "na64/core.h"
#include "na64/daq.h"
#include "na64/geom.h"
#include "na64/io.h"
#include "na64/physics.h"

#ifdef __cplusplus
extern "C" {
#endif

/* =============================================================================================
 * Straw digitisation (src/sim/straw_*.c; model and choices in docs/straw.md)
 *
 * A straight track (point + direction in the global frame of na64/geom.h) crosses the straw
 * planes of the run's geometry. For every straw the distance of closest approach (DCA) of the
 * track to the wire is computed; a straw whose DCA is below its inner radius fires with its
 * efficiency. The hit time relative to the trigger is
 *
 *     t = t0(channel) + t_track + t_drift(DCA) [+ propagation along the wire] + N(0, sigma_t) - jitter
 *
 * where t_drift is the r(t) relation of the gas (parametrised below, or the table of the
 * conditions database), sigma_t the Gaussian time resolution and jitter the trigger time jitter
 * common to the event. Noise hits are added uniformly in the F1 readout window. The time is then
 * quantised by the F1 TDC: the free-running 16-bit counter has a random phase with respect to the
 * trigger, the chip header carries the trigger time and the data word floor(T_hit / bin) mod 2^16
 * (docs/raw-format.md §5.1), so the decoded time (hit - trigger) * bin is unbiased with a
 * quantisation spread of bin / sqrt(6).
 * =========================================================================================== */

/* r(t) relation of the straw gas. Parametric model (the default for Ar/CO2 70/30, an estimate
 * documented in docs/straw.md):
 *     t(r) = t_max * (alpha * x + (1 - alpha) * x^2),   x = r / radius,
 * the quadratic term being the drift at a velocity proportional to the field E ~ 1/r far from the
 * wire ("cool" CO2-rich gas: v = mu E gives t ~ r^2), the linear one the saturated velocity near
 * the wire. When n >= 2 the table (t[i], r[i]) is used instead (linear interpolation, inverted for
 * t(r)), e.g. the r(t) of the conditions database. */
typedef struct na64_straw_drift {
  double radius;   /* inner straw radius R, cm */
  double t_max;    /* drift time at r = R, ns */
  double alpha;    /* weight of the linear term, 0 < alpha <= 1 */
  int n;           /* points of the table model; 0 for the parametric model */
  double t[NA64_COND_MAX_RT_POINTS]; /* ns, strictly increasing */
  double r[NA64_COND_MAX_RT_POINTS]; /* cm, non-decreasing, r[n-1] = radius */
} na64_straw_drift;

/* The default model for straws of `diameter` cm (Ar/CO2 70/30): 6 mm straws t_max = 110 ns,
 * alpha = 0.35; 2 mm straws t_max = 38 ns, alpha = 0.55; other diameters interpolated in the
 * diameter (t_max, alpha linear in d between 2 and 6 mm, t_max ~ d^2 scaled outside). NA64_EINVAL if
 * diameter is not a positive finite number. */
NA64_API int na64_straw_drift_default(double diameter, na64_straw_drift *m, na64_err *err);
/* Table model from an r(t) table (the conditions database's: t in ns after t0, r in cm). Checks:
 * n >= 2, finite, t strictly increasing, r non-decreasing from >= 0, r[n-1] > 0. */
NA64_API int na64_straw_drift_from_table(const double *t, const double *r, int n, na64_straw_drift *m, na64_err *err);
/* Drift time (ns) for a distance r (cm), r clamped to [0, radius]. */
NA64_API double na64_straw_drift_time(const na64_straw_drift *m, double r);
/* Inverse: distance (cm) for a drift time t (ns), clamped to [0, radius]. */
NA64_API double na64_straw_drift_radius(const na64_straw_drift *m, double t);
/* Drift velocity dr/dt (cm/ns) at distance r. */
NA64_API double na64_straw_drift_velocity(const na64_straw_drift *m, double r);

/* A straight track: point and direction (global frame, cm), and its time (ns) relative to the
 * triggering particle (0 in time; pile-up tracks have their own times). */
typedef struct na64_straw_track {
  double point[3];
  double dir[3];
  double time;
} na64_straw_track;

typedef struct na64_straw_digi_options {
  double sigma_t;          /* Gaussian time resolution, ns; <= 0: per diameter (2.0 ns >= 4 mm, 1.2 ns below) */
  double efficiency;       /* probability that a crossed straw gives a hit, [0, 1] (0.97) */
  double noise_per_channel;/* mean noise hits per channel per event in the readout window (0.002) */
  double window_lo;        /* F1 readout window relative to the trigger, ns (-100) */
  double window_hi;        /* (300); hits outside are not read out */
  double trigger_jitter;   /* Gaussian sigma of the trigger time, common to an event, ns (0.3) */
  double bin_ns;           /* F1 TDC bin, ns (NA64_DAQ_F1_DEFAULT_BIN_NS) */
  double prop_velocity;    /* signal speed along the wire, cm/ns, read out at the +w end; 0: ignored (0) */
  int rt_from_conditions;  /* 1: drift model = the plane's r(t) table of the geometry, where present (0) */
} na64_straw_digi_options;

/* Fill the defaults given in the comments above. */
NA64_API void na64_straw_digi_options_default(na64_straw_digi_options *o);

/* Truth of one crossed straw or noise hit. */
typedef struct na64_straw_truth {
  int32_t plane;       /* index in g->planes */
  int32_t wire;
  int32_t track;       /* index of the track in the call, -1 for a noise hit */
  int32_t hit;         /* index of its F1 hit in the output, -1 if lost (inefficiency, outside the window) */
  double doca;         /* distance of closest approach to the wire, cm (NaN for noise) */
  double u_track;      /* position of the track along the plane's u axis at its closest approach to
                          the wire, minus the wire's u: the signed drift distance in u, cm (its sign
                          is the side: > 0 means the track passed at larger u) */
  double drift_time;   /* t_drift(DCA) of the gas model, ns (NaN for noise) */
  double time;         /* hit time relative to the trigger before quantisation, ns */
} na64_straw_truth;

/* Output of one event: F1 hits (ready for the F1 encoder) and the truth. */
typedef struct na64_straw_digi_event {
  na64_daq_f1_hit *hits;
  size_t nhits, hits_cap;
  na64_straw_truth *truth;
  size_t ntruth, truth_cap;
  uint16_t trigger_units;  /* the F1 trigger time of the event, TDC bins */
  double jitter;           /* trigger jitter drawn for the event, ns */
} na64_straw_digi_event;
NA64_API void na64_straw_digi_event_init(na64_straw_digi_event *ev);
NA64_API void na64_straw_digi_event_release(na64_straw_digi_event *ev);

typedef struct na64_straw_digitizer na64_straw_digitizer;

/* A digitiser for the straw planes of a loaded geometry (which must outlive it). Per channel t0 is
 * initialised from the geometry's calibration (g->planes[i].t0), the drift model from the plane's
 * diameter (or its r(t) table with rt_from_conditions). opt may be NULL (defaults). Fails with
 * NA64_EINVAL on bad options and NA64_EFORMAT if a straw wire's DAQ channel does not fit the F1
 * addressing (port <= 15, chip <= 7, channel <= 7). Wires without a DAQ channel never fire. */
NA64_API int na64_straw_digitizer_new(const na64_geom *g, const na64_straw_digi_options *opt, na64_straw_digitizer **out,
                             na64_err *err);
NA64_API void na64_straw_digitizer_free(na64_straw_digitizer *d);

/* Per-channel truth settings (plane = index in g->planes; wire -1 = every wire of the plane). */
NA64_API int na64_straw_digitizer_set_t0(na64_straw_digitizer *d, int plane, int wire, double t0_ns, na64_err *err);
NA64_API int na64_straw_digitizer_set_efficiency(na64_straw_digitizer *d, int plane, int wire, double eff, na64_err *err);
/* Drift model and time resolution (ns, > 0) of a plane; m->radius must equal the plane's straw radius. */
NA64_API int na64_straw_digitizer_set_drift(na64_straw_digitizer *d, int plane, const na64_straw_drift *m, double sigma_t,
                                   na64_err *err);
/* Read back the truth settings; NULL / NaN for planes that are not straw planes. */
NA64_API const na64_straw_drift *na64_straw_digitizer_drift(const na64_straw_digitizer *d, int plane);
NA64_API double na64_straw_digitizer_sigma_t(const na64_straw_digitizer *d, int plane);
NA64_API double na64_straw_digitizer_t0(const na64_straw_digitizer *d, int plane, int wire);
NA64_API const na64_straw_digi_options *na64_straw_digitizer_options(const na64_straw_digitizer *d);

/* Digitise one event: the tracks (n may be 0: noise only), drawing from rng. `out` is reset and
 * filled (hits grouped by nothing in particular; every hit of the event shares trigger_units). The
 * digitiser is only read, so one digitiser may serve several threads with their own rng and out. */
NA64_API int na64_straw_digitize(const na64_straw_digitizer *d, const na64_straw_track *tracks, size_t n, na64_rng *rng,
                        na64_straw_digi_event *out, na64_err *err);

/* Append the event's hits to the DATE event being built by w (between na64_daq_writer_begin_event
 * and _end_event): one F1 equipment block per DAQ source id, in ascending source id, with the
 * digitiser's TDC bin; nb_in_burst is the event's number in burst (its low 6 bits go into the chip
 * headers). */
NA64_API int na64_straw_digi_write(const na64_straw_digitizer *d, const na64_straw_digi_event *ev, uint32_t nb_in_burst,
                          na64_daq_writer *w, na64_err *err);

/* Distance of closest approach between the track line (p, a) and the line (q, b); *s_track and
 * *s_line (may be NULL) receive the parameters of the two closest points along a and b in units of
 * the given (not necessarily unit) vectors; for parallel lines s_track = 0. */
NA64_API double na64_straw_line_distance(const double p[3], const double a[3], const double q[3], const double b[3],
                                double *s_track, double *s_line);


/* =============================================================================================
 * Fast invisible-mode simulation (src/sim/fast_*.c; the model, every parameter with its meaning
 * and source, and what is not yet simulated: docs/simulation.md)
 *
 * One beam particle per event (H4: e- with momentum spread, spot and divergence; pi-, K-, p, mu-
 * admixture; low-energy e- tail) is transported through the two dipoles of the conditions
 * database to the ECAL. Electrons radiate synchrotron photons in the dipoles (seen by the SRD) and
 * shower in the ECAL (Grindhammer-Peters parametrisation, NIM A290 (1990) 469, hep-ex/0001020);
 * with a bias factor an A' is emitted by one shower e+- (at most one emission per event, weights
 * exact) and leaves invisibly. Hadrons interact or cross as MIPs; muons are MIPs everywhere. The
 * trigger (beam counters, ECAL below threshold, pre-shower above threshold) decides which events
 * are kept. Units GeV, cm, ns; every event has its own RNG stream na64_rng_init(seed, event).
 * =========================================================================================== */

typedef enum na64_sim_particle {
  NA64_SIM_E = 0, /* e- */
  NA64_SIM_PI,    /* pi- */
  NA64_SIM_K,     /* K- */
  NA64_SIM_P,     /* p */
  NA64_SIM_MU,    /* mu- */
  NA64_SIM_NPARTICLES
} na64_sim_particle;
/* "e-", "pi-", "K-", "p", "mu-"; "unknown" outside the enum. */
NA64_API const char *na64_sim_particle_name(int particle);

typedef enum na64_sim_process {
  NA64_SIM_PROC_NONE = 0,     /* no special process: EM shower, MIP, or a hadron crossing */
  NA64_SIM_PROC_APRIME = 1,   /* an A' was emitted in the ECAL (biased, weight 1/bias) */
  NA64_SIM_PROC_HADRONIC = 2, /* the hadron interacted in the ECAL */
  NA64_SIM_PROC_MISSED = 3,   /* the particle missed the ECAL face (low energy, large angle) */
  NA64_SIM_PROC_DECAY = 4     /* the beam particle decayed in flight before the ECAL (pi, K -> mu nu; mu -> e nu nu) */
} na64_sim_process;

/* The background sources of the NA64 report's Table 1 (invisible mode), each a process of the card
 * (section `backgrounds`, key = na64_sim_bkg_name) that can be switched on and biased, and whose
 * rate per EOT in the signal box na64_sim_bkg_estimate computes (src/sim/fast_bkg.c). */
typedef enum na64_sim_bkg_source {
  NA64_SIM_BKG_HADRON = 0,   /* "hadron": pi-, K-, pbar of the beam: reactions in the ECAL with a leading neutral, punch-through */
  NA64_SIM_BKG_TAIL,         /* "tail": low-energy e- from bremsstrahlung (in the dipoles' field) mis-measured as E0 */
  NA64_SIM_BKG_DECAY,        /* "decay": pi/K -> e nu, mu -> e nu nu between the magnets and the ECAL */
  NA64_SIM_BKG_DETECTOR,     /* "detector": ECAL resolution tail and an ECAL channel without signal */
  NA64_SIM_BKG_PILEUP,       /* "pileup": a hadron with an in-time tail electron whose SR fakes the SRD tag */
  NA64_SIM_BKG_PHOTONUCLEAR, /* "photonuclear": gamma A -> leading neutral hadron (n, K0_L) escaping ECAL and HCAL */
  NA64_SIM_BKG_DIMUON,       /* "dimuon": gamma -> mu+ mu- in the ECAL with both muons unseen (muon inefficiency) */
  NA64_SIM_BKG_NUNU,         /* "nunu": e- Z -> e- Z nu nubar */
  NA64_SIM_BKG_NSOURCES
} na64_sim_bkg_source;

/* Everything a run card sets (the cards under configs/; keys in docs/simulation.md). */
typedef struct na64_sim_config {
  long run;                   /* setup: run number in the conditions database */
  char conditions[512];       /* setup: conditions database path; "" = the default database */
  /* beam (H4) */
  double beam_energy;         /* nominal energy E0, GeV */
  double momentum_spread;     /* sigma_p / p */
  double spot_x, spot_y;      /* Gaussian spot sigma at z = 0, cm */
  double divergence_x, divergence_y; /* Gaussian angular sigma, rad */
  double frac_pi, frac_k, frac_p, frac_mu; /* admixture per beam particle */
  double tail_fraction;       /* fraction of e- with an upstream bremsstrahlung energy loss */
  double tail_ymin;           /* smallest fractional energy loss y of the tail, dN/dy ~ 1/y on [ymin, ymax] */
  double tail_ymax;
  double intensity;           /* beam particles per spill; 0: no pile-up */
  double spill_length;        /* s */
  double pileup_window;       /* ns: other beam particles within it add to the event (in-time pile-up) */
  /* A' */
  int aprime_enabled;
  double aprime_bias;         /* bias factor B: emission probability per event = B x true probability */
  double aprime_mass;         /* GeV (the card says mass_MeV) */
  double aprime_eps;          /* kinetic mixing */
  double aprime_min_energy;   /* only A' with E_A' above it are emitted (the signal region), GeV */
  char aprime_decay[16];      /* "invisible" (only this is simulated) */
  /* detector response */
  double ecal_stochastic;     /* ECAL sampling term a in sigma/E = a / sqrt(E/GeV) */
  double ecal_noise;          /* electronic noise per ECAL cell, GeV (Gaussian sigma) */
  double hcal_stochastic;     /* HCAL hadronic sampling term */
  double hcal_e_over_h;       /* e/h of the Fe/Sc HCAL */
  double ecal_e_over_h;       /* e/h of the Pb/Sc ECAL for hadron showers */
  double srd_stochastic;      /* SRD sampling term */
  double veto_efficiency;     /* probability that a MIP crossing the veto is seen */
  /* trigger */
  double trigger_ecal_max;    /* ECAL total energy below this, GeV */
  double trigger_ps_min;      /* pre-shower energy above this, GeV */
  /* Table 1 backgrounds (card section `backgrounds`, one map {enabled, bias} per source) */
  int bkg_enabled[NA64_SIM_BKG_NSOURCES];
  double bkg_bias[NA64_SIM_BKG_NSOURCES]; /* bias factor of the source's rare step (>= 1; docs/simulation.md) */
  /* key `inefficiency`: the detector probability of the source's route (tail: fraction of tracks in
   * the non-Gaussian momentum tail; detector: ECAL channel dropout per event; dimuon: HCAL module
   * MIP inefficiency); unused by the other sources */
  double bkg_ineff[NA64_SIM_BKG_NSOURCES];
  /* `backgrounds.detector.crack`: width (cm) of the dead gap between adjacent ECAL cells added to the
   * conditions DB's geometry (there the cells are contiguous: pitch = cell size); default 0 */
  double bkg_crack;
  /* physics (card section `physics`, key `method`: etl | exact): the A' emission cross section and
   * (x, theta) spectrum, NA64_XS_ETL (default; DMG4's normalisation, WW shape) or NA64_XS_EXACT
   * (the exact tree-level tables and sampler of the physics module; docs/simulation.md) */
  int xsec_method;
  /* `aprime.mediator` (issue 14): the emitted boson, na64_mediator: NA64_MED_VECTOR (default), or
   * NA64_MED_SCALAR, _PSEUDOSCALAR, _AXIAL with physics method exact only; their coupling to the
   * electron is g = eps e with eps the card's `epsilon` (docs/physics.md 4b, 4f) */
  int aprime_mediator;
} na64_sim_config;

/* The built-in defaults (the 2016-2018 invisible setup at 100 GeV, run 2000; docs/simulation.md). */
NA64_API void na64_sim_config_default(na64_sim_config *cfg);
/* Defaults overridden by a run card: setup, beam, processes, aprime, detector, trigger sections. */
NA64_API int na64_sim_config_load(const char *path, na64_sim_config *cfg, na64_err *err);
/* The same from text in memory (name used in error messages). */
NA64_API int na64_sim_config_parse(const char *text, size_t len, const char *name, na64_sim_config *cfg,
                                   na64_err *err);
/* Consistency checks (ranges, admixture fractions summing below 1, decay mode). */
NA64_API int na64_sim_config_check(const na64_sim_config *cfg, na64_err *err);

#define NA64_SIM_MAX_ECAL 64   /* cells per ECAL section */
#define NA64_SIM_ECAL_SECTIONS 2
#define NA64_SIM_MAX_HCAL 4    /* modules */
#define NA64_SIM_HCAL_CELLS 9
#define NA64_SIM_MAX_VETO 8
#define NA64_SIM_MAX_SRD 4

/* Truth of one event: the row of the HDF5 truth table (na64_h5truth_*). */
typedef struct na64_sim_truth {
  uint64_t event;
  int32_t particle;         /* na64_sim_particle */
  int32_t process;          /* na64_sim_process */
  int32_t triggered;        /* 1 if the trigger fired */
  int32_t daughter;         /* charged daughter reaching the ECAL after a decay in flight, -1 if none */
  int32_t pileup;           /* other beam particles in time with this one (their energies are included) */
  int32_t reserved;         /* 0 */
  double weight;            /* event weight (A' biasing; 1 without it) */
  double energy;            /* beam particle energy at the ECAL, GeV */
  double x0, y0;            /* beam particle at z = 0 (the first counter), cm */
  double dxdz0, dydz0;      /* and its slopes there */
  double x, y;              /* impact on the ECAL front face, cm (global frame) */
  double dxdz, dydz;        /* slopes of the particle behind the dipoles */
  double decay_z;           /* decay point of the beam particle, cm (NaN if none) */
  double daughter_energy;   /* energy of the charged daughter, GeV (NaN if none) */
  double emit_depth;        /* A' emission depth in the ECAL, X0 (NaN if none) */
  double emit_energy;       /* energy of the emitting e+-, GeV (NaN if none) */
  double aprime_energy;     /* E_A', GeV (0 if none) */
  double aprime_theta;      /* emission angle, rad (NaN if none) */
  double true_ecal, true_ps; /* energy deposited in the ECAL and its pre-shower, GeV */
  double true_hcal, true_veto, true_srd;
  double ecal, ps, hcal, veto, srd; /* detector (visible, calibrated) energies, GeV */
  double srd_photons;       /* synchrotron photons emitted in the dipoles */
} na64_sim_truth;

/* The columns of the truth table (na64_h5table_create(path, "truth", sizeof(na64_sim_truth), ...)):
 * every member of na64_sim_truth but `reserved`, under its C name. */
NA64_API const na64_h5_field *na64_sim_truth_fields(int *nfields);

/* One simulated event: truth and per-cell detector energies (GeV, calibrated). */
typedef struct na64_sim_event {
  na64_sim_truth truth;
  int has_cells;            /* 0: cells not filled (event rejected by the fast trigger decision) */
  double ecal[NA64_SIM_ECAL_SECTIONS][NA64_SIM_MAX_ECAL]; /* [section][iy * nx + ix] */
  double hcal[NA64_SIM_MAX_HCAL][NA64_SIM_HCAL_CELLS];
  double veto[NA64_SIM_MAX_VETO];
  double srd[NA64_SIM_MAX_SRD];
} na64_sim_event;

/* The prepared simulation: geometry of the run, materials, A' emission tables. Read-only after
 * creation: one na64_sim serves any number of threads, each with its own na64_sim_worker. */
typedef struct na64_sim na64_sim;
NA64_API int na64_sim_new(const na64_sim_config *cfg, na64_sim **out, na64_err *err);
NA64_API void na64_sim_free(na64_sim *sim);
NA64_API const na64_sim_config *na64_sim_get_config(const na64_sim *sim);
/* A' emission probability per EOT with E_A' above aprime_min_energy at the card's epsilon (the
 * unbiased truth the weights refer to); 0 without A'. */
NA64_API double na64_sim_aprime_probability(const na64_sim *sim);
/* ECAL geometry as simulated: cells per row and column, cell size (cm), section depths (X0). */
NA64_API void na64_sim_ecal_layout(const na64_sim *sim, int *nx, int *ny, double *cell, double depth_x0[2]);

/* Per-thread state (the A' samplers keep counters and are not shared). */
typedef struct na64_sim_worker na64_sim_worker;
NA64_API int na64_sim_worker_new(const na64_sim *sim, na64_sim_worker **out, na64_err *err);
NA64_API void na64_sim_worker_free(na64_sim_worker *w);

/* Generate event `event` of the run seeded `seed` (its stream: na64_rng_init(seed, event); the
 * pile-up particles, Poisson with mean intensity / spill_length x pileup_window, have their own
 * streams (seed ^ 0xD1B54A32D192ED03, 8 event + j), so switching pile-up on does not change the
 * primary particle's draws).
 * full = 1: cells, SRD and all energies for every event; 0: events that the fast trigger decision
 * rejects have only the truth fields that decided (has_cells = 0). */
NA64_API int na64_sim_event_generate(na64_sim_worker *w, uint64_t seed, uint64_t event, int full, na64_sim_event *ev,
                                     na64_err *err);

/* Lower-level pieces, public for validation. */
/* Electromagnetic shower of energy E (GeV) starting at depth t0 (X0) on the axis through (x, y)
 * with slopes (dxdz, dydz): adds the deposited energy to cells[section][cell] (may be NULL) and
 * to dep[section] (true deposit); returns the energy leaking out of the ECAL: back and sides with
 * cells, the back only without (then dep assumes full lateral containment).
 * The longitudinal profile parameters drawn are returned in *tmax and *alpha (may be NULL). */
NA64_API double na64_sim_em_shower(const na64_sim *sim, double E, double t0, double x, double y, double dxdz,
                                   double dydz, na64_rng *rng, double cells[][NA64_SIM_MAX_ECAL],
                                   double dep[NA64_SIM_ECAL_SECTIONS], double *tmax, double *alpha);
/* The complete ECAL response to an electron (or photon) of energy E entering at (x, y) with slopes:
 * shower, lateral integration over the cells, sampling fluctuations and noise. cells and dep must
 * be zeroed by the caller; vis receives the calibrated section energies. Returns the energy
 * leaking out of the back (GeV). */
NA64_API double na64_sim_ecal_electron(const na64_sim *sim, double E, double x, double y, double dxdz, double dydz,
                                       na64_rng *rng, double cells[][NA64_SIM_MAX_ECAL],
                                       double dep[NA64_SIM_ECAL_SECTIONS], double vis[NA64_SIM_ECAL_SECTIONS]);
/* Centre of the ECAL matrix front face (global x, y, z), cm. */
NA64_API void na64_sim_ecal_centre(const na64_sim *sim, double centre[3]);

/* Synchrotron radiation of a particle of mass m, charge q (units of e) and momentum p (GeV)
 * crossing the dipoles from x0 at z = 0 with slope dxdz: returns the number of photons, adds their total
 * energy to *e_emitted and the energy reaching the SRD and absorbed in it to *e_srd (GeV). */
NA64_API int na64_sim_synchrotron(const na64_sim *sim, double m, double q, double p, double x0, double dxdz,
                                  na64_rng *rng, double *e_emitted, double *e_srd, double srd[NA64_SIM_MAX_SRD]);
/* Critical energy (GeV) of synchrotron radiation of a particle of Lorentz factor gamma in a field B
 * (T) for momentum p (GeV) and charge |q| (e): E_c = (3/2) hbar c gamma^3 / rho (Jackson eq. 14.85). */
NA64_API double na64_sim_sr_critical_energy(double gamma, double p, double B, double q);

/* Digitisation of triggered events into DATE raw data (src/sim/fast_digi.c; docs/simulation.md):
 * every calorimeter, SRD, veto and beam-counter readout with a DAQ channel and a calibration in the
 * conditions database becomes a sampling-ADC waveform (pedestals and noise, a pulse whose maximum
 * above pedestal is E / gain counts, 12-bit saturation); the beam track crosses the straw planes
 * through the straw digitiser above and the Micromegas/GEM planes as APV strip hits. The noise and
 * the tracker responses draw from the stream (seed + 0x9E3779B97F4A7C15, event), independent of
 * the event's own stream. */
typedef struct na64_sim_digitizer na64_sim_digitizer;
NA64_API int na64_sim_digitizer_new(const na64_sim *sim, na64_sim_digitizer **out, na64_err *err);
NA64_API void na64_sim_digitizer_free(na64_sim_digitizer *d);
/* Open a DATE raw-data file for the digitised events (".zst": zstd frames) that writes GDC super
 * events grouped by the LDC ids of the run's channel map in the conditions database, as the DATE
 * event builder does (docs/raw-format.md). Close it with na64_daq_writer_close. */
NA64_API int na64_sim_raw_open(const na64_sim *sim, const char *path, na64_daq_writer **out, na64_err *err);
/* Append the event as one DATE physics event (run = the card's run, number in run nb_in_run). */
NA64_API int na64_sim_digitize_write(na64_sim_digitizer *d, const na64_sim_event *ev, uint64_t seed, uint32_t nb_in_run,
                                     na64_daq_writer *w, na64_err *err);

/* Highland's width (rad) of the projected multiple-scattering angle of a singly charged particle of
 * momentum p (GeV, beta = 1) through x/X0 of material (PDG eq. 34.16); 0 for p or x <= 0. The
 * digitiser scatters the track after every tracker plane (docs/simulation.md, "Raw data"). */
NA64_API double na64_sim_highland(double p, double x_over_x0);

/* Write the start-of-run (type NA64_DAQ_START_OF_RUN, before the first physics event) or
 * end-of-run (NA64_DAQ_END_OF_RUN, after the last; nb_in_run = physics events written) event of
 * the card's run, as the DATE run control does; no equipment. */
NA64_API int na64_sim_write_run_mark(const na64_sim *sim, uint32_t type, uint32_t nb_in_run, na64_daq_writer *w,
                                     na64_err *err);

/* The event loop: events first_event .. first_event + nevents - 1 with `threads` threads (<= 0: 1). Every event uses its own
 * stream, so the events passed to `sink` (in event order, from the calling thread) are identical
 * for any number of threads. keep_all = 0 passes triggered events only; 1 every event, each with its
 * detector response; 2 every event, the untriggered ones with their truth only (has_cells 0: the
 * fast trigger decision's cost, not the full response's). */
typedef int (*na64_sim_sink)(const na64_sim_event *ev, void *user, na64_err *err);
typedef void (*na64_sim_progress)(uint64_t done, uint64_t total, void *user);
typedef struct na64_sim_summary {
  uint64_t generated, triggered;
  uint64_t by_particle[NA64_SIM_NPARTICLES];       /* generated per beam particle */
  uint64_t triggered_by_particle[NA64_SIM_NPARTICLES];
  uint64_t aprime_emitted;                          /* events with an A' (all, before the trigger) */
  double triggered_weight;                          /* sum of the weights of triggered events */
} na64_sim_summary;
typedef struct na64_sim_run_opts {
  uint64_t seed;
  uint64_t nevents;
  int threads;
  int keep_all;
  na64_sim_sink sink;          /* may be NULL (summary only) */
  void *sink_user;
  na64_sim_progress progress;  /* may be NULL; called from the calling thread */
  void *progress_user;
  uint64_t first_event;        /* number of the first event: events first_event .. first_event + nevents - 1
                                  (a part of a larger run: MPI rank or batch job, docs/scaling.md) */
} na64_sim_run_opts;
NA64_API int na64_sim_run(const na64_sim *sim, const na64_sim_run_opts *opts, na64_sim_summary *summary,
                          na64_err *err);

/* Background estimates in the signal box (src/sim/fast_bkg.c; docs/simulation.md "Table 1
 * backgrounds"): E_ECAL < 50 GeV, E_HCAL < 1 GeV, no veto, pre-shower above the trigger threshold,
 * SRD energy in its window, momentum within 97-103 GeV (dp/p = 1%). Each source forces its process
 * (weight = its probability per EOT), biases the rare step by the card's factor with exact
 * weights, and replaces the cuts that are pure detector probabilities (veto inefficiency, SRD
 * tag of a particle without synchrotron radiation, Gaussian momentum measurement) by those
 * probabilities (conditional Monte Carlo), so the estimate has a finite variance. */
typedef struct na64_sim_bkg_result {
  int source;
  uint64_t events;       /* events simulated */
  uint64_t passed;       /* events with a non-zero weight in the box */
  double rate, error;    /* per EOT in the signal box, and its statistical error (1 sigma) */
  double process_prob;   /* probability per EOT of the forced process (the weight scale) */
  double table1;         /* the level of the NA64 report's Table 1 for this source (upper bound) */
  double bound90;        /* no event in the box: 90% CL upper bound 2.3 x (largest possible weight) / N; else 0 */
  double srd_accidental; /* decay: SRD tag probability of a muon (an in-time companion's SR; 0 without pile-up) */
  /* decay, hadron: the SRD tag of a beam pi- [0] and K- [1] by their knock-on electrons (issue 11,
   * docs/simulation.md "Knock-on electrons"): per g/cm2 of material upstream of the dipoles and for
   * the geometry's upstream material (srd_upstream_gcm2) without the momentum cut, and the one
   * applied (all material up to the field's end, with the momentum window) */
  double srd_knockon_per_gcm2[2], srd_knockon[2], srd_knockon_applied[2];
  double srd_upstream_gcm2;
} na64_sim_bkg_result;
/* "hadron", "tail", ...; NULL outside the enum. */
NA64_API const char *na64_sim_bkg_name(int source);
/* One line of Table 1 the source belongs to (its text in the NA64 report). */
NA64_API const char *na64_sim_bkg_table1_row(int source);
/* Estimate the rate of one source with `events` events of seed `seed` (event i uses the stream
 * (seed ^ source key, i): results are reproducible). */
NA64_API int na64_sim_bkg_estimate(const na64_sim *sim, int source, uint64_t events, uint64_t seed,
                                   na64_sim_bkg_result *out, na64_err *err);
/* The weights of events first .. first + count - 1 of one source's sample of seed `seed` (the
 * events of na64_sim_bkg_estimate with that seed): w[i] is event first + i's weight per EOT in the
 * box (0 outside). Any split of a sample into ranges gives the same weights, so parts of a job
 * (threads, MPI ranks, batch jobs) can each compute a range and sum exactly (issue 11). nunu is
 * analytic: every weight is its rate. *process_prob (may be NULL) receives P(process) per EOT,
 * *srd_accidental (may be NULL) the decay route's accidental SRD tag of a muon. */
NA64_API int na64_sim_bkg_weights(const na64_sim *sim, int source, uint64_t seed, uint64_t first, uint64_t count,
                                  double *w, double *process_prob, double *srd_accidental, na64_err *err);
/* The same weights handed one by one to fn(w, user), in event order, after ONE set-up of the route
 * (its shape table, forced generator and SRD tags): for a caller that sums a long range without
 * holding its weights (the job of `na64 run`, src/ana/job_bkg.c). */
typedef void (*na64_sim_bkg_weight_fn)(double w, void *user);
NA64_API int na64_sim_bkg_weights_visit(const na64_sim *sim, int source, uint64_t seed, uint64_t first, uint64_t count,
                                        na64_sim_bkg_weight_fn fn, void *user, na64_err *err);
/* Fill rate, error, events, passed and bound90 of out (source and process_prob set by the caller)
 * from the sums of the weights and of their squares over `events` events. */
NA64_API void na64_sim_bkg_result_from_sums(na64_sim_bkg_result *out, uint64_t events, uint64_t passed, double sum,
                                            double sum2);
/* Share of an e-m shower whose axis enters the ECAL at (x, y) (cm, global) lost in dead gaps of
 * width w (cm) along every boundary between cells (the detector route's crack model,
 * src/sim/fast_bkg_routes.c); -1 if (x, y) lies inside a gap. *moliere (may be NULL) receives the
 * radius R of the lateral profile used. */
NA64_API double na64_sim_bkg_crack_loss(const na64_sim *sim, double x, double y, double w, double *moliere);
/* The level of the NA64 report's Table 1 for the source (per EOT, an upper bound); NaN outside. */
NA64_API double na64_sim_bkg_table1(int source);
/* One K- -> pi0 e- nu (K_e3) decay in the kaon rest frame, as the decay route draws it: the V-A
 * Dalitz density with the linear vector form factor (lambda_+ = 0.0297, PDG): electron and pion
 * energies (GeV) and the cosine of the e-pi angle. */
NA64_API void na64_sim_bkg_ke3_draw(na64_rng *rng, double *e_energy, double *pi_energy, double *cos_epi);
/* ============ visible mode: the A' -> e+e- signal event by event (src/sim/vis_signal.c) ============ */

/* The straw stations behind the decay region (lengths in cm). */
typedef struct na64_vis_acceptance {
  double tracker_distance; /* decay-region end to the first straw station */
  double tracker_length;   /* first to last straw station */
  double half_aperture;    /* half the chambers' side (10: 20 x 20 cm2) */
  double min_separation;   /* two tracks resolved at the first station when this far apart */
  int require_separation;  /* 1: the acceptance requires two resolved tracks (E0 <= 30 GeV runs) */
} na64_vis_acceptance;
/* The 2017 setup of the conditions database: 211.3, 100, 10, 1.2 cm, separation not required. */
NA64_API void na64_vis_acceptance_default(na64_vis_acceptance *a);

/* A' (mass m, energy E, GeV) -> e+e- along z with the electron at cos theta* = cos_star, azimuth
 * phi in the A' rest frame: lab energies E[0] (e-), E[1] (e+), momenta p[s][3] (GeV), opening angle
 * (rad). NA64_EINVAL unless 2 m_e < m < E and |cos_star| <= 1. */
typedef struct na64_vis_pair {
  double E[2], p[2][3], opening;
} na64_vis_pair;
NA64_API int na64_vis_pair_decay(double m, double E, double cos_star, double phi, na64_vis_pair *out, na64_err *err);

/* One signal event: A' energy (GeV), decay position behind the decay-region start (cm), opening
 * angle (rad), e-/e+ energies, the tracks' distance at the first station (cm), both inside the
 * aperture at the last one. */
typedef struct na64_vis_event {
  double energy, z_decay, opening, e_energy[2], separation;
  int in_aperture;
  double depth_x0;  /* production depth in the WCAL, X0 */
  double p[2][3];   /* e-, e+ momenta (GeV), z along the A' */
} na64_vis_event;

/* nevents signal events at (m GeV, eps) for the visible dump d, sampled from the signal
 * distribution of the yield tables (event i uses the RNG stream (seed, i): the result does not
 * depend on the order or the number of threads). yield_per_eot = na64_yield_per_eot (before the
 * acceptance); acceptance = fraction inside the aperture (and resolved if required); means over
 * the decays in the region. nevents = 0 in the result if no A' decays in the region. */
typedef struct na64_vis_signal_eff {
  double yield_per_eot, acceptance, separated, mean_decay_z, mean_opening, mean_energy;
  int nevents;
} na64_vis_signal_eff;
NA64_API int na64_vis_signal_efficiency(const na64_beamdump *d, double m, double eps, const na64_vis_acceptance *acc,
                                        uint64_t seed, int nevents, na64_vis_signal_eff *out, na64_err *err);

/* The sampler behind na64_vis_signal_efficiency, for the event-by-event simulation: the signal
 * distribution at (m GeV, eps) of the dump d. _yield: N/EOT of A' decaying in the region (0: no event
 * can be drawn; then _event must not be called). _wcal_depth: the dump's depth in X0 (and X0 in cm).
 * _event draws one event from rng (the acceptance fields use acc). */
typedef struct na64_vis_sampler na64_vis_sampler;
NA64_API int na64_vis_sampler_new(const na64_beamdump *d, double m, double eps, na64_vis_sampler **out, na64_err *err);
NA64_API void na64_vis_sampler_free(na64_vis_sampler *s);
NA64_API double na64_vis_sampler_yield(const na64_vis_sampler *s);
NA64_API double na64_vis_sampler_wcal_depth(const na64_vis_sampler *s, double *x0_cm);
NA64_API void na64_vis_sampler_event(const na64_vis_sampler *s, const na64_vis_acceptance *acc, na64_rng *rng,
                                     na64_vis_event *ev);

/* ====== visible mode event by event: run card, detector response, DATE digitisation ======
 * (src/sim/vis_config.c, vis_event.c, vis_digi.c; model, every parameter and its source:
 * docs/visible.md). A visible card (configs/visible_*.yaml) names a visible-mode run of the
 * conditions database and `aprime: {decay: ee}`. One event is either a signal event (an A' from the
 * WCAL shower decaying to e+e- in the decay region, drawn by na64_vis_sampler) or an ordinary beam
 * electron showering in the WCAL; the response covers the WCAL sections, the veto V2 behind the
 * WCAL, the decay counter S4, the straw stations (the existing straw digitiser), the ECAL (the
 * existing shower code of the fast simulation) and VETO/HCAL (noise only). */

typedef struct na64_vis_config {
  long run;                   /* setup: a visible-mode run of the conditions database */
  char conditions[512];       /* setup: database path; "" = the default database */
  double beam_energy;         /* GeV */
  double momentum_spread, spot_x, spot_y, divergence_x, divergence_y;
  double aprime_mass;         /* GeV (the card says mass_MeV) */
  double aprime_eps;
  char aprime_decay[16];      /* "ee" */
  double wcal_stochastic;     /* WCAL sigma/E = a / sqrt(E/GeV) */
  double ecal_stochastic, ecal_noise;
  double counter_mip_width;   /* relative width of the MIP signal of the 1 cm counters V2, S4 */
  int mediator;               /* the X of the signal (aprime.mediator): NA64_MED_VECTOR (the A', default)
                                 or NA64_MED_PSEUDOSCALAR (the X17 a, g = eps e; docs/visible.md) */
  int xsec_method;            /* physics.method: the vector A' spectrum of the signal, NA64_XS_ETL (default: DMG4's
                                 total with the IWW x-shape) or NA64_XS_EXACT (exact tree-level total and x-shape;
                                 physics/yield.c); the pseudoscalar is always exact */
} na64_vis_config;
NA64_API void na64_vis_config_default(na64_vis_config *c);
/* Read a visible card (sections setup, beam, aprime, detector; selection and analysis are read by
 * src/ana). Errors name file:line:column; a card whose aprime.decay is not "ee" is refused. */
NA64_API int na64_vis_config_parse(const char *text, size_t len, const char *name, na64_vis_config *c, na64_err *err);
NA64_API int na64_vis_config_load(const char *path, na64_vis_config *c, na64_err *err);
/* 1 if the parsed card is a visible-mode card (aprime.decay: ee), else 0. */
NA64_API int na64_card_is_visible(const na64_card *card);

#define NA64_VIS_WCAL_SECTIONS 3
/* The signal sampler draws X with E_X >= NA64_VIS_EA_MIN_FRAC E0: below every energy the visible
 * selection accepts (E_ECAL >= 25 GeV of the cards: 0.25 E0 at 100 GeV, 0.167 E0 at 150 GeV, minus
 * 5 sigma of the ECAL resolution), so the measured efficiency covers every accepted X; use the same
 * threshold as `na64 limits --mode visible --ea-min` (docs/visible.md "Signal threshold"). */
#define NA64_VIS_EA_MIN_FRAC 0.1
/* One visible-mode event: truth and detector energies (GeV, calibrated, before digitisation). */
typedef struct na64_vis_sim_event {
  uint64_t event;
  int32_t signal;             /* 1: A' -> e+e- decaying in the decay region; 0: a beam e- showering in the WCAL */
  int32_t n_s4;               /* charged particles crossing S4 */
  double weight;              /* 1 (signal events are drawn from the signal distribution itself) */
  double beam_energy;         /* GeV (the incoming momentum: the card's energy with its spread) */
  double beam_x0, beam_y0;    /* the beam particle at z = 0 (the first counter), cm: the card's spot */
  double beam_dxdz0, beam_dydz0; /* and its slopes there: the card's divergence */
  double beam_x, beam_y;      /* at the WCAL front face after the dipoles, cm (global frame) */
  double beam_dxdz, beam_dydz; /* slopes behind the dipoles (the A' line of a signal event) */
  double aprime_energy;       /* GeV (0 without A') */
  double depth_x0;            /* A' production depth in the WCAL, X0 (NaN without A') */
  double decay[3];            /* decay point, global cm (NaN without A') */
  double opening;             /* e+e- opening angle, rad */
  double e_energy[2];         /* e-, e+ energies, GeV */
  double slope[2][2];         /* e-, e+ dx/dz, dy/dz (global frame) */
  double true_wcal;           /* energy deposited in the WCAL, GeV */
  double wcal[NA64_VIS_WCAL_SECTIONS]; /* visible per section */
  double v2, s4;              /* counters, visible GeV */
  double true_ecal;
  double ecal[NA64_SIM_ECAL_SECTIONS][NA64_SIM_MAX_ECAL];
  double veto[NA64_SIM_MAX_VETO];
} na64_vis_sim_event;

/* The prepared visible simulation (geometry of the card's run, the A' sampler at the card's mass and
 * epsilon, the ECAL response). Read-only after creation: one object serves any number of threads. */
typedef struct na64_vis_sim na64_vis_sim;
NA64_API int na64_vis_sim_new(const na64_vis_config *cfg, na64_vis_sim **out, na64_err *err);
NA64_API void na64_vis_sim_free(na64_vis_sim *s);
NA64_API const na64_vis_config *na64_vis_sim_config(const na64_vis_sim *s);
NA64_API const na64_geom *na64_vis_sim_geom(const na64_vis_sim *s);
/* A' -> e+e- decays in the decay region per EOT at the card's (m, eps) (0 if none). */
NA64_API double na64_vis_sim_signal_yield(const na64_vis_sim *s);
/* The track-length dump of the setup (WCAL depth, decay region, A' energies >= NA64_VIS_EA_MIN_FRAC E0,
 * the card's mediator) that the signal is drawn from: na64_yield_new on it gives the signal yield at
 * any (m, eps). */
NA64_API void na64_vis_sim_beamdump(const na64_vis_sim *s, na64_beamdump *d);
/* Event `event` of the run seeded `seed` (stream na64_rng_init(seed, event)); signal = 1 draws an A'
 * event (NA64_EPHYS if the card's (m, eps) has no decay in the region), 0 a beam electron. */
NA64_API int na64_vis_sim_event_generate(const na64_vis_sim *s, uint64_t seed, uint64_t event, int signal,
                                         na64_vis_sim_event *ev, na64_err *err);

/* Digitisation into DATE physics events with the channels of the run's channel map: SADC waveforms
 * of the WCAL sections, V2, S4, ECAL, VETO, HCAL and SRD (the pulse model of na64_sim_digitize_write),
 * APV strip hits of the Micromegas and GEM planes (the beam line before the dipoles; behind the WCAL
 * the A' line of a signal event), F1 hits of both tracks in the straw planes. Noise and tracker responses draw from the stream
 * (seed + 0x9E3779B97F4A7C15, event). One digitiser per thread. */
typedef struct na64_vis_digitizer na64_vis_digitizer;
NA64_API int na64_vis_digitizer_new(const na64_vis_sim *s, na64_vis_digitizer **out, na64_err *err);
NA64_API void na64_vis_digitizer_free(na64_vis_digitizer *d);
NA64_API int na64_vis_digitize_write(na64_vis_digitizer *d, const na64_vis_sim_event *ev, uint64_t seed, uint32_t nb_in_run,
                                     na64_daq_writer *w, na64_err *err);
/* A DATE file for the run's events, super events grouped by the LDCs of the channel map. */
NA64_API int na64_vis_raw_open(const na64_vis_sim *s, const char *path, na64_daq_writer **out, na64_err *err);
/* The start- or end-of-run event (NA64_DAQ_START_OF_RUN / NA64_DAQ_END_OF_RUN) of the card's run,
 * nb_in_run its event number (the physics events written before an end of run). */
NA64_API int na64_vis_write_run_mark(const na64_vis_sim *s, uint32_t type, uint32_t nb_in_run, na64_daq_writer *w,
                                     na64_err *err);
/* The HDF5 columns of the truth record (rows: na64_vis_sim_event; src/sim/vis_truth.c): event,
 * signal, n_s4, weight, beam_energy, beam_x0/y0/dxdz0/dydz0, beam_x/y/dxdz/dydz, aprime_energy, depth_x0, decay_x/y/z, opening,
 * e_minus/e_plus _energy/_dxdz/_dydz, true_wcal, wcal0..2, v2, s4, true_ecal. */
NA64_API const na64_h5_field *na64_vis_truth_fields(int *nfields);

/* ====== visible mode: the backgrounds of the NA64 report's Table 2 (src/sim/vis_bkg*.c) ======
 * (docs/visible.md "Backgrounds (Table 2)"; docs/validation.md). Each source is a route into the
 * visible signal box (E_WCAL <= wcal_fraction_max E0, E_ECAL >= ecal_fraction_min E0, E_WCAL +
 * E_ECAL = E0 within energy_sum_sigmas of the resolution, V2 silent, two MIPs in S4, e-m showers)
 * that forces its process (the weight starts at the process probability per EOT), biases its rare
 * step with exact weights (bias 1 = plain sampling) and replaces pure detector probabilities (V2
 * inefficiency, conversion in thin material, a charged hadron faking an e-m shower) by those
 * probabilities. The rate is the mean weight, its error the standard error of the mean. */
typedef enum na64_vis_bkg_source {
  NA64_VIS_BKG_PUNCH = 0,  /* "punch_through": the beam e- or its leading bremsstrahlung photon through the WCAL */
  NA64_VIS_BKG_HADRON,     /* "hadron": a beam hadron interacting in the WCAL, leading K0_S / Lambda / K0_L decaying before S4 */
  NA64_VIS_BKG_MUON,       /* "muon": a beam muon's hard bremsstrahlung in the WCAL, or its decay mu -> e nu nu before S4 */
  NA64_VIS_BKG_ACCIDENTAL, /* "accidental": two beam particles in the readout window */
  NA64_VIS_BKG_NSOURCES
} na64_vis_bkg_source;

typedef struct na64_vis_bkg_config {
  int enabled[NA64_VIS_BKG_NSOURCES];
  double bias[NA64_VIS_BKG_NSOURCES]; /* >= 1: strength of each source's importance sampling (1: none) */
  long events;                 /* weighted events per source (analysis of `na64 run`) */
  double hadron_fraction;      /* hadrons per beam e- (pi/e <= 1e-2, NA64 report) */
  double muon_fraction;        /* muons per beam e- (ESTIMATE) */
  double srd_hadron;           /* SRD tag probability of a particle without synchrotron radiation (NA64 report: 1e-3) */
  double veto_inefficiency;    /* V2 missing a charged particle or a pair (ESTIMATE) */
  double material_x0;          /* material between V2 and S4 in X0 (air, windows; ESTIMATE) */
  double k0s_per_interaction;  /* leading-particle K0_S per hadron interaction, x_F > 0 (spectrum below) */
  double k0l_per_interaction;  /* leading-particle K0_L (= K0_S) */
  double lambda_per_interaction; /* leading Lambda (ESTIMATE) */
  double hadron_em_fake;       /* a charged hadron's ECAL shower passing the e-m cuts with its full energy (ESTIMATE) */
  double intensity, spill_length, window; /* accidentals: particles per spill, s, ns */
  double low_energy_fraction;  /* accidentals: beam e- below wcal_fraction_max E0 (ESTIMATE) */
  double halo_fraction;        /* accidentals: beam particles missing the WCAL but inside V2, S4, ECAL (ESTIMATE) */
  /* the signal box: the visible selection's cuts (na64_vis_job copies them from `selection:`) */
  double wcal_fraction_max, ecal_fraction_min, energy_sum_sigmas, v2_max_mips, s4_min_mips, s4_max_mips;
  /* the hadron route's physics (issue 12): the leading neutral's spectrum dN/dx_F = N (n+1) (1 - x)^n
   * (quark counting: n = 1 for pi -> K0, n = 3 for pi -> Lambda), and the WCAL shower's start: the
   * beam hadron must interact within the first wcal_start_x0 X0 (NA64 report: "both showers start
   * within the first few X0") */
  double xf_power_kaon, xf_power_lambda, wcal_start_x0;
  /* the K0's central-production component (k0spec, issue 12): k0s_central K0_S (and as many K0_L)
   * per hadron interaction over -1 < x_F < 1, dN/dx_F = k0s_central (m+1)/2 (1 - |x|)^m with
   * m = xf_power_central, added to the leading component above (src/sim/vis_bkg.c cites both) */
  double k0s_central, xf_power_central;
  /* the selection's e-m lateral shape cut (ecal_shape_chi2 <= shape_chi2_max) on the ECAL showers of
   * the hadron route's decay products; INFINITY: not applied */
  double shape_chi2_max;
} na64_vis_bkg_config;
/* Every source enabled, the defaults of docs/visible.md (each ESTIMATE named there). */
NA64_API void na64_vis_bkg_config_default(na64_vis_bkg_config *c);
/* The `backgrounds:` section of a visible card over c (absent: unchanged): keys
 * punch_through/hadron/muon/accidental: {enabled, bias} and the inputs above; errors name
 * file:line:col and the key (src/sim/vis_config.c). */
NA64_API int na64_vis_bkg_config_read(const na64_card *card, na64_vis_bkg_config *c, na64_err *err);
/* Validation of a filled configuration: the offending key in the message. */
NA64_API int na64_vis_bkg_config_check(const na64_vis_bkg_config *c, na64_err *err);

typedef struct na64_vis_bkg_result {
  int source;
  uint64_t events, passed; /* weighted events, of which in the box */
  double rate, error;      /* per EOT in the signal box and its statistical error (1 sigma) */
  double process_prob;     /* probability per EOT of the forced process */
  double table2;           /* the NA64 report's Table 2 level of the source (upper bound per EOT) */
  double bound90;          /* no event in the box: 90% CL bound 2.3 process_prob / events; else 0 */
} na64_vis_bkg_result;
/* "punch_through", "hadron", "muon", "accidental"; NULL outside the enum. */
NA64_API const char *na64_vis_bkg_name(int source);
/* The Table 2 row (text of the NA64 report) and its level per EOT; NULL / NaN outside the enum. */
NA64_API const char *na64_vis_bkg_table2_row(int source);
NA64_API double na64_vis_bkg_table2(int source);
/* The hadron route's x_F spectrum dN/dx_F of a neutral per hadron interaction at -1 < x < 1 (kind 0
 * K0_S, 1 K0_L, 2 Lambda; component 0 leading, 1 central; 0 for x, kind or component outside
 * these), src/sim/vis_bkg.c header. */
NA64_API double na64_vis_bkg_xf_density(const na64_vis_bkg_config *c, int kind, int component, double x);
/* The rate of one source in the setup of s with c->events events of seed `seed` (event i: stream
 * (seed ^ source key, i), reproducible). A disabled source gives rate 0 with events 0. */
NA64_API int na64_vis_bkg_estimate(const na64_vis_sim *s, const na64_vis_bkg_config *c, int source, uint64_t seed,
                                   na64_vis_bkg_result *out, na64_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NA64_SIM_H */
