/*
 * na64/reco.h — reconstruction: raw data to detector hits.
 *
 * Straw tubes (src/reco/straw_*.c, docs/straw.md):
 *   decoding     F1 hits (na64/daq.h) -> (plane, wire) through the channel map of the run's geometry
 *                -> drift time = time relative to the trigger - t0 of the wire, in ns;
 *   calibration  t0 per channel from the leading edge of the drift-time spectrum (edge fit, template
 *                fallback at low statistics) and r(t) per plane by the integration method, written
 *                to the conditions database as a new interval of validity;
 *   hits         drift radius and its error, left/right resolution in the staggered double layers,
 *                local segments;
 *   monitoring   per-plane hit maps, spectra, efficiencies and residuals as plain arrays.
 *
 * Everything here takes the run's geometry (na64/geom.h), which must outlive the objects built on
 * it. Objects are read-only after construction (decoder, reco) and may be shared by threads; the
 * per-event lists, the calibration accumulator and the monitor belong to one thread.
 * Units: cm, ns.
 */
#ifndef NA64_RECO_H
#define NA64_RECO_H

#include <stddef.h>
#include <stdint.h>

#include "na64/cond.h"
#include "na64/core.h"
#include "na64/daq.h"
#include "na64/geom.h"
#include "na64/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* =============================================================================================
 * Straw decoding
 * =========================================================================================== */

/* One straw TDC hit after the channel map. */
typedef struct na64_straw_digit {
  double time;    /* drift time: raw - t0 of the wire, ns */
  double raw;     /* hit time relative to the trigger, ns (the F1 time) */
  int32_t plane;  /* index in g->planes */
  int32_t wire;   /* wire in the plane */
} na64_straw_digit;

typedef struct na64_straw_decode_options {
  double window_lo;     /* drift times accepted, ns after t0 (default -30) */
  double window_hi;     /* upper end, ns after t0; NaN (default): end of the plane's r(t) + 50 ns, or
                           300 ns for a plane without r(t) */
  int no_window;        /* 1: keep every time (what the calibration needs); 0 (default) */
  unsigned reject_flags;/* F1 flags that reject a hit (default NA64_DAQ_F1_NO_HEADER | NA64_DAQ_F1_EVENT_MISMATCH |
                           NA64_DAQ_F1_CHIP_ERROR); trailing-edge hits are always skipped */
} na64_straw_decode_options;
NA64_API void na64_straw_decode_options_default(na64_straw_decode_options *o);

typedef struct na64_straw_decode_stats {
  uint64_t f1_hits;       /* F1 hits examined */
  uint64_t digits;        /* digits delivered */
  uint64_t trailing;      /* trailing-edge hits skipped */
  uint64_t flagged;       /* hits rejected by reject_flags */
  uint64_t unmapped;      /* channel not in the channel map of the run */
  uint64_t not_straw;     /* channel mapped to something that is not a straw wire */
  uint64_t out_of_window; /* drift time outside the window (noise, other bunches) */
  uint64_t nonfinite;     /* time not finite (never from the F1 decoder; hand-made hits) */
} na64_straw_decode_stats;

typedef struct na64_straw_decoder na64_straw_decoder;

/* A decoder for the straw planes of g (which must outlive it); opt may be NULL (defaults). */
NA64_API int na64_straw_decoder_new(const na64_geom *g, const na64_straw_decode_options *opt, na64_straw_decoder **out,
                           na64_err *err);
NA64_API void na64_straw_decoder_free(na64_straw_decoder *d);

/* Decode n F1 hits into at most cap digits (cap >= n always suffices; NA64_ERANGE if reached
 * first). stats (may be NULL) accumulates. Hits of unknown channels, or of channels that are not
 * straw wires, are counted and skipped; the call then returns NA64_EFORMAT with a message naming
 * the first such channel and how many there were (the digits are valid anyway). */
NA64_API int na64_straw_decode(const na64_straw_decoder *d, const na64_daq_f1_hit *hits, size_t n, na64_straw_digit *out,
                      size_t cap, size_t *nout, na64_straw_decode_stats *stats, na64_err *err);

/* Digits of one event, with the scratch list of F1 hits they came from. */
typedef struct na64_straw_digit_list {
  na64_straw_digit *digits;
  size_t n, cap;
  na64_daq_f1_hit_list f1;
} na64_straw_digit_list;
NA64_API void na64_straw_digit_list_init(na64_straw_digit_list *l);
NA64_API void na64_straw_digit_list_release(na64_straw_digit_list *l);

/* Decode every F1 block of an event (list is reset first). Returns NA64_OK, NA64_EFORMAT (bad F1
 * words or unknown channels: counted, skipped, the rest delivered) or NA64_ENOMEM. */
NA64_API int na64_straw_decode_event(const na64_straw_decoder *d, const na64_daq_event *ev, na64_straw_digit_list *list,
                            na64_straw_decode_stats *stats, na64_err *err);

/* =============================================================================================
 * Straw calibration: t0 per channel and r(t) per plane (method: docs/straw.md §2)
 * =========================================================================================== */

enum {
  NA64_STRAW_T0_NONE = 0,     /* too few hits: no t0 (the previous calibration stays valid) */
  NA64_STRAW_T0_FIT = 1,      /* fit of the channel's leading edge (resolution and plateau shape of the plane) */
  NA64_STRAW_T0_TEMPLATE = 2  /* low statistics or failed fit: maximum-likelihood shift of the plane's
                                 aligned spectrum */
};
NA64_API const char *na64_straw_t0_method_name(int method); /* "none", "fit", "template" */

typedef struct na64_straw_calib_options {
  double bin_ns;         /* histogram bin (default 4 F1 bins of NA64_DAQ_F1_DEFAULT_BIN_NS; set it to a
                            multiple of the data's TDC bin to avoid aliasing) */
  double t_lo, t_hi;     /* raw times considered, ns relative to the trigger (default -500, 1500) */
  size_t min_hits_fit;   /* channels with at least this many hits get their own fit (default 200) */
  size_t min_hits;       /* channels with fewer hits get no t0 (default 10) */
  double rt_step;        /* spacing of the r(t) points, ns; 0 (default): automatic (<= 100 points) */
} na64_straw_calib_options;
NA64_API void na64_straw_calib_options_default(na64_straw_calib_options *o);

typedef struct na64_straw_channel_calib {
  uint64_t nhits;      /* hits in [t_lo, t_hi) */
  double t0;           /* ns relative to the trigger; NaN if not calibrated */
  double t0_err;       /* statistical error, ns */
  double width;        /* Gaussian sigma of the leading edge used in its fit, ns (NaN without a fit) */
  double background;   /* flat background, hits per ns */
  int method;          /* NA64_STRAW_T0_* */
} na64_straw_channel_calib;

typedef struct na64_straw_plane_calib {
  int plane;                       /* index in g->planes */
  char name[NA64_GEOM_NAME_LEN];
  int nwires;
  double radius;                   /* straw radius, cm */
  uint64_t nhits;                  /* hits of the plane in [t_lo, t_hi) */
  int ncalibrated, nfit, ntemplate;
  double t0_mean, t0_rms, t0_min, t0_max; /* over calibrated channels, ns */
  double sigma_t;                  /* time resolution: sigma of the leading edge of the aligned spectrum, ns */
  double t_max;                    /* drift time where r(t) reaches the radius, ns */
  double signal;                   /* background-subtracted hits in the aligned spectrum */
  double background;               /* background hits per ns per channel (mean) */
  int rt_n;                        /* points of r(t); 0 if the plane could not be calibrated */
  double rt_t[NA64_COND_MAX_RT_POINTS], rt_r[NA64_COND_MAX_RT_POINTS];
  double sigma_r;                  /* mean radius resolution over a uniform illumination, cm */
  int status;                      /* NA64_OK, or why the plane was not calibrated */
  char message[192];               /* "" or the reason */
  na64_straw_channel_calib *channels; /* [nwires] */
} na64_straw_plane_calib;

typedef struct na64_straw_calib na64_straw_calib;

NA64_API int na64_straw_calib_new(const na64_geom *g, const na64_straw_calib_options *opt, na64_straw_calib **out,
                         na64_err *err);
NA64_API void na64_straw_calib_free(na64_straw_calib *c);
/* Accumulate digits (their raw times; use a decoder with no_window). Digits of planes that are not
 * straw planes, wires out of range or non-finite times are counted as rejected. */
NA64_API int na64_straw_calib_add(na64_straw_calib *c, const na64_straw_digit *d, size_t n, na64_err *err);
NA64_API uint64_t na64_straw_calib_entries(const na64_straw_calib *c);   /* hits accepted */
NA64_API uint64_t na64_straw_calib_rejected(const na64_straw_calib *c);  /* digits rejected */
/* Compute t0 and r(t) for every straw plane. Planes without enough hits get status NA64_ENOTFOUND
 * and a message; the call returns NA64_OK if at least one plane was calibrated, else NA64_ENOTFOUND
 * with a message naming why (no hits at all, or too few per plane). */
NA64_API int na64_straw_calib_compute(na64_straw_calib *c, na64_err *err);
NA64_API int na64_straw_calib_nplanes(const na64_straw_calib *c);
NA64_API const na64_straw_plane_calib *na64_straw_calib_plane(const na64_straw_calib *c, int i); /* i < nplanes */
/* Write the calibrated planes to the database as new records valid for runs first_run..last_run
 * (last_run may be NA64_COND_RUN_OPEN): t0 of every calibrated channel and the plane's r(t) with
 * sigma_r. Every plane's arguments are checked before anything is written; each plane is then one
 * transaction of na64_cond_insert_straw_calib. *nt0 and *nrt (may be NULL) count the records
 * written. */
NA64_API int na64_straw_calib_write(const na64_straw_calib *c, na64_cond *db, int first_run, int last_run, const char *comment,
                           int *nt0, int *nrt, na64_err *err);
/* Every check na64_straw_calib_write makes before writing (the planes' tables, and an interval of
 * validity that stays inside the runs of the calibration's setup), writing nothing: a dry run. */
NA64_API int na64_straw_calib_check_write(const na64_straw_calib *c, na64_cond *db, int first_run, int last_run, na64_err *err);

/* ---- the whole calibration of a raw-data file (`na64 calib straw`, docs/straw.md §2) ----
 * Scan the file for its runs; take the geometry and channel map of the reference run (the run of
 * the file's start-of-run record, else the run with most physics events); decode every physics
 * event of the file's runs and histogram its straw times; compute t0 and r(t); check and (unless
 * dry_run) write the records for the interval of validity. The runs of the file are those with a
 * start-of-run record (files without one: those holding at least 1% of the physics events);
 * physics events carrying any other run number (a corrupted header) are skipped and counted as
 * stray. Every run of the file must have a run_info record of the same setup. */
typedef struct na64_straw_calib_job {
  const char *path;         /* DATE raw-data file, plain or zstd */
  const char *db_path;      /* conditions database; NULL: $NA64_CONDITIONS_DB or the default */
  long run;                 /* >= 0: only the events of this run (records valid for it); < 0: all */
  long first_run, last_run; /* interval of validity; < 0: the first/last run of the events used */
  int open_ended;           /* valid from the first run on with no last run (last_run must be < 0) */
  int dry_run;              /* every check of the real run, nothing written (database opened read-only) */
  long max_events;          /* use at most this many physics events; < 0: all */
  size_t min_hits, min_hits_fit; /* as in na64_straw_calib_options */
  const char *comment;      /* stored with the records; NULL: "na64 calib straw FILE (N events)" */
  na64_daq_region_fn on_region; /* bad regions of the file as they are found (may be NULL) */
  void *region_user;
  void (*progress)(uint64_t done, uint64_t total, void *user); /* may be NULL; the library never prints */
  void *progress_user;
} na64_straw_calib_job;
/* Defaults: every run, IOV from the events, min_hits 10, min_hits_fit 200, all events, write. */
NA64_API void na64_straw_calib_job_default(na64_straw_calib_job *job);

typedef struct na64_straw_calib_report {
  na64_straw_calib *cal;       /* the per-plane and per-channel results (NULL if decoding never began) */
  na64_geom *geom;             /* the geometry of the reference run (cal refers to it) */
  uint64_t events;             /* physics events used */
  uint64_t stray_events;       /* physics events skipped for a run number that is not a run of the file */
  uint32_t first_stray_run;    /* the run number of the first of them */
  uint64_t bad_events;         /* events with undecodable or unmapped F1 data (their good hits are used) */
  char first_bad[NA64_ERR_MSG_LEN]; /* why the first of them was bad */
  na64_straw_decode_stats decode;
  uint64_t bad_regions;        /* damaged regions of the file skipped by the reader */
  int ref_run;                 /* the run whose geometry and channel map were used */
  int first, last;             /* first and last run of the events used */
  char setup[NA64_COND_NAME_LEN];
  double bin_ns;               /* F1 TDC bin of the data, ns (0: not seen, default assumed) */
  int iov_first, iov_last;     /* interval of validity (iov_last NA64_COND_RUN_OPEN if open-ended) */
  int nt0, nrt;                /* records written (also after a failed write: what had been written) */
  int written;                 /* 1 if the records were written */
  char db_path[1024];          /* the database used */
} na64_straw_calib_report;

/* Run the job. On failure *rep still holds what was done (e.g. the plane tables when no plane could
 * be calibrated or the interval of validity is refused); release it in every case. */
NA64_API int na64_straw_calib_run(const na64_straw_calib_job *job, na64_straw_calib_report *rep, na64_err *err);
NA64_API void na64_straw_calib_report_release(na64_straw_calib_report *rep);

/* =============================================================================================
 * Straw hits: drift radius, left/right resolution, local segments (docs/straw.md §3)
 * =========================================================================================== */

enum {
  NA64_STRAW_HIT_EARLY = 1u << 0, /* drift time before the r(t) table starts: r = 0 */
  NA64_STRAW_HIT_LATE = 1u << 1,  /* after its end: r = the last radius */
  NA64_STRAW_HIT_MULTI = 1u << 2, /* the wire had more digits; the earliest is used */
  NA64_STRAW_HIT_NO_RT = 1u << 3  /* plane without r(t): r = NaN */
};

typedef struct na64_straw_hit {
  double time;      /* drift time, ns */
  double r;         /* drift radius, cm */
  double sigma_r;   /* its error: sigma_t |dr/dt|, at least sigma_r_min, cm */
  double u_wire;    /* wire position across the wires, relative to the plane centre, cm */
  double pos[3];    /* wire centre, global frame, cm (the wire runs along g->planes[plane].w_dir) */
  double u;         /* chosen position u_wire + side * r, NaN while unresolved */
  int32_t plane;    /* index in g->planes */
  int32_t wire;
  int32_t layer;
  int32_t digit;    /* index of the digit it came from */
  int32_t partner;  /* index of the hit of the other layer it is paired with, -1 */
  int32_t segment;  /* index of its segment */
  int8_t side;      /* +1 / -1 / 0 (unresolved) */
  uint8_t flags;    /* NA64_STRAW_HIT_* */
} na64_straw_hit;

enum {
  NA64_STRAW_SEG_PAIR = 1u << 0,     /* two hits, one in each layer of the double layer */
  NA64_STRAW_SEG_AMBIGUOUS = 1u << 1 /* the second-best left/right combination is within chi2 + 1 */
};

/* A track segment through one double layer. */
typedef struct na64_straw_segment {
  int32_t plane;
  int32_t hit[2];   /* hit in layer 0 and in layer 1 (-1 if absent) */
  double u;         /* position at the plane's centre z, relative to the plane centre, cm (NaN unresolved) */
  double slope;     /* du/dz of the segment */
  double sigma_u;   /* error of u, cm */
  double chi2;      /* of the chosen left/right combination (1 degree of freedom) */
  double chi2_next; /* of the second best combination (NaN for single hits) */
  uint32_t flags;   /* NA64_STRAW_SEG_* */
} na64_straw_segment;

typedef struct na64_straw_reco_options {
  double sigma_t;      /* time resolution, ns; <= 0 (default): from each plane's sigma_r (docs) */
  double sigma_r_min;  /* floor of the radius error, cm (default 0.001) */
  double slope_x;      /* expected track slopes dx/dz, dy/dz (default 0, 0) */
  double slope_y;
  double sigma_slope;  /* spread of the local slopes around them (default 0.01) */
  double chi2_max;     /* pairs of a worse chi2 are not formed (default 25) */
} na64_straw_reco_options;
NA64_API void na64_straw_reco_options_default(na64_straw_reco_options *o);

typedef struct na64_straw_event {
  na64_straw_hit *hits;
  size_t nhits, hits_cap;
  na64_straw_segment *segments;
  size_t nsegments, segments_cap;
  void *scratch;       /* internal */
  size_t scratch_cap;
} na64_straw_event;
NA64_API void na64_straw_event_init(na64_straw_event *ev);
NA64_API void na64_straw_event_release(na64_straw_event *ev);

typedef struct na64_straw_reco na64_straw_reco;

NA64_API int na64_straw_reco_new(const na64_geom *g, const na64_straw_reco_options *opt, na64_straw_reco **out,
                        na64_err *err);
NA64_API void na64_straw_reco_free(na64_straw_reco *r);
NA64_API const na64_geom *na64_straw_reco_geom(const na64_straw_reco *r);
/* Time resolution used for a plane (ns), NaN if not a straw plane. */
NA64_API double na64_straw_reco_sigma_t(const na64_straw_reco *r, int plane);
/* Radius (cm) and its error for drift time t (ns) in plane `plane`; returns the NA64_STRAW_HIT_*
 * flags (EARLY, LATE, NO_RT), or -1 if plane is not a straw plane. sigma may be NULL. */
NA64_API int na64_straw_reco_radius(const na64_straw_reco *r, int plane, double t, double *radius, double *sigma);
/* Hits and segments of one event from its digits (ev is reset). Digits of other planes are ignored;
 * hits come out ordered by plane, layer, wire. */
NA64_API int na64_straw_reco_event(const na64_straw_reco *r, const na64_straw_digit *d, size_t n, na64_straw_event *ev,
                          na64_err *err);

/* =============================================================================================
 * Straw monitoring quantities (plain arrays for the online monitor)
 * =========================================================================================== */

/* A fixed-bin 1-D histogram in the ROOT TH1 layout: content[0] underflow, content[1..nbins] the
 * bins, content[nbins + 1] overflow. */
typedef struct na64_straw_hist {
  int nbins;
  double lo, hi;
  double *content;  /* nbins + 2 cells */
  double entries;
} na64_straw_hist;
NA64_API void na64_straw_hist_fill(na64_straw_hist *h, double x, double w);

typedef struct na64_straw_plane_monitor {
  int plane;                       /* index in g->planes */
  char name[NA64_GEOM_NAME_LEN];
  int nwires;
  uint64_t hits;                   /* hits filled */
  uint64_t events_with_hits;
  double *hitmap;                  /* [nwires] hits per wire */
  double *expected, *found;        /* [nwires] straws crossed by reference tracks / of those with a hit */
  uint64_t probe[2], probe_found[2]; /* self-tagged efficiency of layer L: hits of the other layer
                                        inside L's coverage, and those paired with a hit of L */
  uint64_t pairs, singles, ambiguous;
  uint64_t lr_checked, lr_correct; /* left/right of paired hits compared with reference tracks */
  na64_straw_hist time;            /* drift time, ns */
  na64_straw_hist radius;          /* drift radius, cm */
  na64_straw_hist pair_residual;   /* u(layer 1) - u(layer 0) - expected slope * dz, cm */
  na64_straw_hist track_residual;  /* r(hit) - DCA(reference track), cm */
} na64_straw_plane_monitor;

typedef struct na64_straw_monitor {
  uint64_t events;
  int nplanes;                     /* straw planes */
  na64_straw_plane_monitor *planes;
  int *index;                      /* [g->nplanes]: index in planes, or -1 */
} na64_straw_monitor;

NA64_API int na64_straw_monitor_new(const na64_straw_reco *r, na64_straw_monitor **out, na64_err *err);
NA64_API void na64_straw_monitor_free(na64_straw_monitor *m);
NA64_API void na64_straw_monitor_reset(na64_straw_monitor *m);
/* Fill the hit maps, spectra, pair residuals and self-tagged efficiencies with one event. */
NA64_API void na64_straw_monitor_fill(na64_straw_monitor *m, const na64_straw_reco *r, const na64_straw_event *ev);
/* Fill the efficiency per wire, radius residuals and the left/right check with a reference track
 * (e.g. from the other trackers): every straw whose wire passes within `fiducial` x radius of the
 * track (0 < fiducial <= 1, e.g. 0.9 to avoid the walls) is expected to fire. */
NA64_API void na64_straw_monitor_fill_track(na64_straw_monitor *m, const na64_straw_reco *r, const na64_straw_event *ev,
                                   const double point[3], const double dir[3], double fiducial);
/* found / expected and probe_found / probe, NaN when nothing was expected. */
NA64_API double na64_straw_monitor_wire_efficiency(const na64_straw_plane_monitor *p, int wire);
NA64_API double na64_straw_monitor_layer_efficiency(const na64_straw_plane_monitor *p, int layer);


/* ---------------------------------------------------------------------------------------------
 * The reconstructed event: one row of the HDF5 table `events` (issue 11; every column documented
 * in docs/reco.md). The contract between reconstruction (src/reco, which fills it from raw DATE
 * events) and the selection (src/ana, which reads it). GeV, cm, ns, rad. A quantity that could not
 * be reconstructed is NaN (never a made-up number); counts are >= 0.
 * ------------------------------------------------------------------------------------------- */
#define NA64_RECO_HCAL_MODULES 4
#define NA64_RECO_SRD_MODULES 3
typedef struct na64_reco_event {
  int32_t run;                /* run number of the event header */
  int32_t spill;              /* burst (spill) number */
  uint64_t event;             /* event number in the run */
  double momentum;            /* incoming momentum from the deflection in the dipoles, GeV (NaN: no fit) */
  double theta;               /* incoming angle to the beam axis, rad */
  double track_chi2ndf;       /* chi2/ndf of the momentum fit */
  int32_t ntracks_up;         /* track candidates upstream of the magnets */
  int32_t ntracks_down;       /* ... and downstream */
  double srd_energy;          /* sum of the SRD modules, GeV */
  double srd_module[NA64_RECO_SRD_MODULES];
  double srd_time;            /* time of the largest SRD pulse relative to the trigger, ns */
  double ecal_energy;         /* ECAL total (pre-shower + main), GeV */
  double preshower_energy;    /* ECAL pre-shower section, GeV */
  double ecal_x, ecal_y;      /* shower centre (energy-weighted, log weights), cm in the ECAL frame */
  double ecal_shape_chi2;     /* chi2/ndf of the cell energies against the expected EM lateral profile */
  double hcal_energy;         /* HCAL total, GeV */
  double hcal_module[NA64_RECO_HCAL_MODULES];
  double veto_energy;         /* veto, GeV */
  double weight;              /* 1 for data; the simulation's event weight (truth) for simulated data */
  int32_t simulated;          /* 1 if the event came from na64 sim (truth available) */
  int32_t flags;              /* NA64_RECO_* quality flags */
  int32_t aprime;             /* truth of simulated data: 1 if the event emitted an A' (signal), else 0 */
} na64_reco_event;

enum {
  NA64_RECO_DECODE_ERROR = 1,   /* an equipment block of the event could not be decoded */
  NA64_RECO_NO_TRACK = 2,       /* no momentum fit */
  NA64_RECO_SATURATED = 4       /* a calorimeter waveform saturated */
};


/* ---------------------------------------------------------------------------------------------
 * Event reconstruction: raw DATE events -> na64_reco_event (src/reco/reco*.c, calo.c, track.c;
 * algorithms, sources and measured resolutions in docs/reco.md)
 * ------------------------------------------------------------------------------------------- */

/* The columns of the `events` table (na64_h5table_create(path, "events", sizeof(na64_reco_event),
 * ...)): every member under its C name, arrays as name_0, name_1, ... */
NA64_API const na64_h5_field *na64_reco_event_fields(int *nfields);

/* The reconstruction of one run: channel maps, gains and pedestals, tracker planes and magnets of
 * the geometry g (which must outlive it), plus per-event scratch: one na64_reco per thread. */
typedef struct na64_reco na64_reco;
NA64_API int na64_reco_new(const na64_geom *g, na64_reco **out, na64_err *err);
NA64_API void na64_reco_free(na64_reco *r);
NA64_API const na64_geom *na64_reco_geom(const na64_reco *r);

/* Reconstruct one physics event into *out (fully overwritten; weight 1, simulated 0). Returns
 * NA64_OK also when a quantity could not be reconstructed (NaN and a flag; the reason of a failed
 * track fit goes to the log hook at NA64_LOG_DEBUG and to na64_reco_last_message). Fails only on a
 * NULL argument or when out of memory. */
NA64_API int na64_reco_process(na64_reco *r, const na64_daq_event *ev, na64_reco_event *out, na64_err *err);
/* Why the last event's track fit failed ("" if it did not): names the plane(s) and the reason. */
NA64_API const char *na64_reco_last_message(const na64_reco *r);

/* ---------------------------------------------------------------------------------------------
 * Strip clusters of one Micromegas/GEM plane (src/reco/strip_cluster.c, docs/reco.md §3), the one
 * clustering of the tracking (na64_reco_process) and of the monitor's event display.
 * A cluster is a run of fired strips with no missing strip between neighbours (wire <= previous
 * wire + 1; a strip listed twice stays in the run); its position is the charge-weighted mean of the
 * strip centres u = sum(q_i u_i) / sum(q_i), q_i = max(charge, 0), u_i = pl->wires[wire].u.
 * ------------------------------------------------------------------------------------------- */
typedef struct na64_strip_hit {
  int32_t plane;     /* index in g->planes */
  int32_t wire;      /* strip in the plane, 0..nwires-1 */
  double q;          /* charge (the APV25 sample at the peak, the middle one), ADC */
} na64_strip_hit;

typedef struct na64_strip_cluster {
  double u;          /* centroid, cm, in the plane frame (as pl->wires[].u); NaN if q == 0 */
  double q;          /* summed charge of the strips (negative charges count 0), >= 0 */
  int32_t first;     /* first (lowest) strip of the run */
  int32_t n;         /* hits in the run (its size in strips when no strip is listed twice) */
} na64_strip_cluster;

/* Sort hits by plane, then by wire (stable; linear for hits nearly in order, as the APV blocks
 * list them). */
NA64_API void na64_strip_hits_sort(na64_strip_hit *h, size_t n);
/* The clusters of the n hits h of the one plane pl (all with the same plane index, wires in
 * [0, pl->nwires) in non-decreasing order, as na64_strip_hits_sort leaves a plane's run) into out,
 * in increasing wire order, *nout of them (0 for n == 0). cap >= n always suffices. Returns NA64_OK;
 * NA64_EINVAL (message naming the hit) for a NULL argument, a hit of another plane, a wire out of
 * range or out of order; NA64_ERANGE if more than cap clusters. */
NA64_API int na64_strip_cluster_find(const na64_geom_plane *pl, const na64_strip_hit *h, size_t n,
                                     na64_strip_cluster *out, size_t cap, size_t *nout, na64_err *err);

/* ---------------------------------------------------------------------------------------------
 * Track fit of one side of the magnets (src/reco/track_fit.c, docs/reco.md §3): a straight line
 * x = x0 + tx (z - z_ref), y = y0 + ty (z - z_ref) fitted to strip clusters and straw hits by a
 * global (generalised) least-squares fit whose covariance includes the multiple scattering in the
 * planes (Highland), scattering accumulating away from z_ref (the magnet side). Straw hits are
 * ambiguous (wire +- drift radius): the fit chooses the side nearest its prediction and refits.
 * ------------------------------------------------------------------------------------------- */
#define NA64_TRACK_MAX_MEAS 64
typedef struct na64_track_meas {
  double z;          /* cm */
  double cs, sn;     /* the measured coordinate is u = x cs + y sn (global frame) */
  double u;          /* cluster: measured u (global); straw: u of the wire (global), cm */
  double r;          /* straw: drift radius, cm; < 0 for a strip cluster */
  double sigma;      /* resolution of u (cluster) or of r (straw), cm */
  double x_x0;       /* material of the plane, radiation lengths (scatterer at z), >= 0 */
  int32_t plane;     /* index in g->planes (messages) */
  int8_t side;       /* straws: in, +1/-1 a first guess or 0; out, the side chosen (0: not used) */
  int8_t used;       /* out: 1 if in the final fit */
} na64_track_meas;

typedef struct na64_track_line {
  double z_ref;
  double p[4];       /* x0, tx, y0, ty at z_ref (cm, rad) */
  double cov[4][4];  /* their covariance */
  double chi2;
  int ndf;           /* measurements used - 4 */
  int nused, nstraw; /* measurements used, of which straw hits */
} na64_track_line;

/* Fit n measurements (n <= NA64_TRACK_MAX_MEAS). momentum (GeV) sets the scattering angles; <= 0:
 * no multiple scattering. road: straw hits further than road standard deviations from the
 * prediction are left out (<= 0: 5). Returns NA64_OK, or NA64_ENOTFOUND with a message naming why
 * (too few x- or y-measuring planes, singular system), NA64_EINVAL on bad arguments. */
NA64_API int na64_track_fit(na64_track_meas *m, int n, double z_ref, double momentum, double road, na64_track_line *out,
                            na64_err *err);
/* Highland's projected multiple-scattering angle (rad) of a unit-charge particle of momentum p
 * (GeV) and velocity beta through x_x0 radiation lengths (PDG RPP 2024, Eq. 34.15). */
NA64_API double na64_highland_theta0(double p, double beta, double x_x0);

/* The simulated events that did not trigger have no row; the table records them in string
 * attributes (src/reco/reco_events.c, docs/reco.md §1) so that the selection of the file alone
 * (`na64 select`) gives the same cut flow, efficiency and background as `na64 run`:
 * `eot_simulated` (beam particles simulated, triggered or not) and, per class c = signal (an A'
 * emitted) / background, `untriggered_c`: a comma list "WEIGHT*COUNT,..." of the distinct
 * weights and how many events carry each (the fast simulation has a few: 1/B for A' events,
 * (1 - P)/(1 - B P) for electrons without, 1 for hadrons). Numbers are written with %.17g (they
 * read back bit for bit); beyond NA64_RECO_UNTRIG_WEIGHTS distinct weights the rest are merged
 * into one item with their mean weight (sums then exact to rounding only). */
#define NA64_RECO_UNTRIG_WEIGHTS 16
typedef struct na64_reco_untriggered {
  double eot;           /* beam particles simulated; NaN: not recorded (data, or truth without --all) */
  int nw[2];            /* distinct weights of [0] background, [1] signal */
  double w[2][NA64_RECO_UNTRIG_WEIGHTS + 1]; /* (read back: the merged item is the last) */
  uint64_t count[2][NA64_RECO_UNTRIG_WEIGHTS + 1];
  double extra_sum[2];  /* weights beyond the distinct ones: their sum and number */
  uint64_t extra_n[2];
} na64_reco_untriggered;
/* Start empty (eot NaN, no events). */
NA64_API void na64_reco_untriggered_init(na64_reco_untriggered *u);
/* Count one untriggered event of class is_signal with weight w. */
NA64_API void na64_reco_untriggered_add(na64_reco_untriggered *u, int is_signal, double w);
/* Untriggered events of class is_signal. */
NA64_API uint64_t na64_reco_untriggered_events(const na64_reco_untriggered *u, int is_signal);
NA64_API int na64_reco_untriggered_write(na64_h5table *t, const na64_reco_untriggered *u, na64_err *err);
/* Read them back; a table without them (data) gives eot NaN and no events (NA64_OK). Malformed
 * attributes: NA64_EFORMAT naming the attribute and its text. */
NA64_API int na64_reco_untriggered_read(const na64_h5reader *r, na64_reco_untriggered *u, na64_err *err);

/* The whole file: raw DATE file -> HDF5 table `events` (written atomically through na64_h5table).
 * Physics events only; the geometry is loaded from the conditions database for the run of each
 * event (reloaded when the run changes). With truth_path (the `truth` table of `na64 sim --truth`
 * of the same run), raw event k of the run (its number in run, eventId[0]) is the k-th triggered
 * row of the truth table (na64 sim numbers the raw events it writes 0, 1, ... in generation
 * order); its weight is carried and simulated = 1. */
typedef struct na64_reco_job {
  const char *raw_path;     /* DATE file, plain or zstd */
  const char *out_path;     /* HDF5 output */
  const char *truth_path;   /* may be NULL */
  const char *db_path;      /* conditions database; NULL: the default */
  long max_events;          /* < 0: all */
  void (*progress)(uint64_t bytes_done, uint64_t bytes_total, void *user); /* may be NULL */
  void *progress_user;
  uint64_t event_offset;    /* added to the events' numbers after truth matching: the number in the
                               whole run of the first event of a part file (docs/scaling.md) */
  /* A range of the physics events of one file (issue 15, `mpirun na64 reco RAW`: each rank its own
   * range; all zero: the whole file). The reader seeks to start_offset (a plain file: the offset of
   * the range's first event; compressed: of its zstd frame), passes over skip_events physics
   * events, then reconstructs max_events of them. file_events > 0 is the number of physics events
   * of the whole file: the untriggered events of the truth table then go with the range that starts
   * the file (first_range = 1), when the file holds every triggered event; the other ranges record
   * 0 EOT and no untriggered event, so the ranges add up to the file. */
  uint64_t start_offset;
  uint64_t skip_events;
  uint64_t file_events;
  int first_range;          /* with file_events: 1 for the range that starts the file */
} na64_reco_job;
NA64_API void na64_reco_job_default(na64_reco_job *job);
/* Range k of n (0 <= k < n) of the physics events of job->raw_path: a first pass over the file
 * indexes its physics events (P in all: *total; run of the first: *run), then job's range fields
 * and max_events are set for events [*first, *first + *count) = [P k / n, P (k + 1) / n). */
NA64_API int na64_reco_job_range(na64_reco_job *job, int k, int n, uint64_t *first, uint64_t *count, uint64_t *total,
                                 int *run, na64_err *err);

typedef struct na64_reco_summary {
  uint64_t events;          /* physics events reconstructed (rows written) */
  uint64_t no_track;        /* of which without a momentum fit */
  uint64_t decode_errors;   /* with NA64_RECO_DECODE_ERROR */
  uint64_t saturated;       /* with NA64_RECO_SATURATED */
  uint64_t truth_rows;      /* triggered rows of the truth table */
  uint64_t truth_matched;   /* events that got their truth weight */
  uint64_t bad_regions;     /* damaged regions of the raw file skipped */
  int first_run, last_run;
  /* End-of-run check of a whole file (not of a range of it): na64 sim and the DATE run control
   * write an end-of-run event whose number in run is the count of physics events before it. A file
   * with a start-of-run event but no end-of-run event (truncated), or whose end-of-run count differs
   * from the physics events read, gets a warning naming the file and both counts (every valid event
   * is still reconstructed). eor_events: the count the last end-of-run event carries, -1 if none. */
  int64_t eor_events;
  uint64_t file_physics;    /* physics events read in the file (before --events stops the loop) */
  char warning[512];        /* empty: nothing to report */
  /* Damaged input (bad_regions > 0): the first damaged region's byte offset in the file (or in the
   * decompressed frame at first_bad_frame, NA64_DAQ_NO_FRAME for plain files) and its reason. The
   * first event with NA64_RECO_DECODE_ERROR: its number in the run, -1 if none. */
  uint64_t first_bad_offset, first_bad_frame;
  char first_bad_detail[200];
  int64_t first_decode_error_event;
} na64_reco_summary;
NA64_API int na64_reco_file(const na64_reco_job *job, na64_reco_summary *sum, na64_err *err);

/* ---------------------------------------------------------------------------------------------
 * Visible mode: two tracks and their vertex in the straw stations behind the decay volume
 * (src/reco/vertex.c, docs/visible.md "Vertex"; issue 12). Projections q = 0 (x planes) and 1 (y
 * planes) are searched separately from the event's straw hits (both mirror positions); a track is the line
 * u = a + b (z - z_ref[q]) (global u, cm). The vertex is where the two tracks of a projection cross,
 * the projections combined with inverse-variance weights.
 * ------------------------------------------------------------------------------------------- */
typedef struct na64_vertex_options {
  double chi2_max;   /* a track's chi2 per degree of freedom at most this (4) */
  int min_hits;      /* straw layers a track needs (4, of the 6 of three stations; >= 3) */
  int min_own;       /* hits the second track needs, none of them used by the first (3; >= 1) */
} na64_vertex_options;
NA64_API void na64_vertex_options_default(na64_vertex_options *o);

typedef struct na64_vertex {
  int ntracks[2];         /* tracks found per projection: 0, 1 or 2 */
  int resolved;           /* two tracks in at least one projection */
  double z_ref[2];        /* reference z of each projection's lines (its first plane), cm */
  double track[2][2][2];  /* [projection][track]: a (cm at z_ref), b (slope) */
  double z, sigma_z;      /* vertex z and its error, cm (NaN unless resolved) */
  double x, y;            /* the tracks' midpoint at z (a single track's position in a projection with one) */
  double opening;         /* angle between the two tracks from the resolved projections, rad (NaN unless resolved) */
} na64_vertex;

/* Find the tracks and the vertex of one event's straw hits (ev from na64_straw_reco_event on g's
 * planes). opt may be NULL (defaults). Fails only on NULL arguments or bad options. */
NA64_API int na64_vertex_find(const na64_geom *g, const na64_straw_event *ev, const na64_vertex_options *opt,
                              na64_vertex *out, na64_err *err);

/* Visible-mode event (src/reco/vis_reco.c): the calorimeters of na64_reco_process plus the WCAL
 * sections, the counters V2 (veto behind the WCAL) and S4 (decay counter), and the vertex. */
#define NA64_VIS_RECO_WCAL_SECTIONS 3
typedef struct na64_vis_reco_event {
  int32_t run;
  uint64_t event;
  double wcal_energy, wcal_section[NA64_VIS_RECO_WCAL_SECTIONS]; /* GeV */
  double v2_energy, s4_energy;       /* GeV */
  double ecal_energy, preshower_energy, ecal_shape_chi2, hcal_energy, veto_energy;
  na64_vertex vertex;
  double weight;
  int32_t flags;                     /* NA64_RECO_DECODE_ERROR, NA64_RECO_SATURATED, NA64_RECO_NO_TRACK */
  /* the incoming electron from na64_reco_process's fit of the APV hits (docs/visible.md, "Incoming
   * momentum"): momentum from the deflection in the dipoles (NaN without a downstream line: nothing
   * but a signal event's pair crosses the trackers behind the WCAL), angle at the magnet entrance */
  double momentum, theta, track_chi2ndf;
} na64_vis_reco_event;
typedef struct na64_vis_reco na64_vis_reco;
NA64_API int na64_vis_reco_new(const na64_geom *g, na64_vis_reco **out, na64_err *err);
NA64_API void na64_vis_reco_free(na64_vis_reco *r);
NA64_API int na64_vis_reco_process(na64_vis_reco *r, const na64_daq_event *ev, na64_vis_reco_event *out, na64_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NA64_RECO_H */
