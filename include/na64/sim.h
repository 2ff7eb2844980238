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

#ifdef __cplusplus
}
#endif
#endif /* NA64_SIM_H */
