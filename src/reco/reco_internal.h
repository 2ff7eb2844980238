/*
 * Internals of the event reconstruction (src/reco/reco.c, calo.c, track.c): the na64_reco object
 * and the per-step functions. Not installed.
 */
#ifndef NA64_RECO_INTERNAL_H
#define NA64_RECO_INTERNAL_H

#include "na64/reco.h"

/* Sampling-ADC pulse model of the fast simulation (src/sim/fast_digi.c, docs/simulation.md):
 * A (x/2)^2 exp(2 - x), x = (t - t_start)/tau, maximum A at x = 2, tau = 15 ns; an in-time pulse
 * starts 80 ns into the readout window. Reconstruction inverts exactly this model. */
#define RECO_TAU 15.0
#define RECO_T_INTIME 80.0
#define RECO_T_WINDOW 30.0     /* in-time window: pulse start within +-30 ns of RECO_T_INTIME */
#define RECO_T_STEP 0.25       /* template grid, ns */
#define RECO_NT 241             /* 2 x RECO_T_WINDOW / RECO_T_STEP + 1 */
#define RECO_NS_TAB 32         /* samples tabulated (the simulation writes 32 of 12.5 ns) */
#define RECO_ADC_MAX 4095
#define RECO_FRONT 4           /* front samples for a pedestal without calibration */

/* The start-time score on AVX where the CPU has it (GCC/Clang on x86-64: functions compiled for
 * AVX, chosen at run time; the sums are the same to the bit, calo.c row_dot). */
#if defined(__x86_64__) && defined(__GNUC__)
#define RECO_AVX 1
#else
#define RECO_AVX 0
#endif

enum { RK_NONE = 0, RK_ECAL, RK_HCAL, RK_SRD, RK_VETO, RK_COUNTER };

typedef struct reco_plane {
  int index;        /* in g->planes */
  int side;         /* 0 upstream of the magnets, 1 downstream, -1 in between or behind a beam dump (not used) */
  double sigma;     /* cluster resolution, cm (strip planes) */
  double x_x0;      /* material, radiation lengths */
} reco_plane;

typedef struct reco_side_fit {
  na64_track_meas m[NA64_TRACK_MAX_MEAS];
  int n;
  int ntracks;      /* most clusters in any strip plane of the side */
  na64_track_line line;
} reco_side_fit;

typedef struct reco_cluster {
  double u, q;      /* best cluster (largest charge) of the plane: position (cm, plane frame), charge */
  int n;            /* clusters in the plane */
} reco_cluster;

/* What the calorimeter passes need of one SADC channel, built once per geometry (reco_calo_setup)
 * in the layout of g->chanmap.entries: the cell and section, the calibration, and where its energy
 * goes. */
enum { RS_PS = 0, RS_MAIN, RS_HCAL, RS_SRD = RS_HCAL + NA64_RECO_HCAL_MODULES, RS_VETO = RS_SRD + NA64_RECO_SRD_MODULES,
       RS_N };
typedef struct reco_chan {
  const na64_geom_cell *cell; /* NULL: unmapped channel (or cell/section out of range) */
  double pe, po, gain;        /* calibration of the section (valid if calib) */
  int sec;
  int calib;                  /* cell->has_calib[sec] */
  int srd;                    /* the cell's detector is an SRD */
  int sum;                    /* RS_* accumulator of its energy, or -1 */
  long ecal;                  /* index in r->ecal_cell, or -1 */
} reco_chan;

/* The strip read out by an APV channel-map entry, or plane -1 (unmapped, not a strip plane of the
 * tracking, or a wire outside the plane). */
typedef struct reco_strip_chan {
  int32_t plane, wire;
} reco_strip_chan;

typedef struct reco_wfinfo {
  const reco_chan *ch;        /* NULL: unmapped channel */
  int saturated;
  double pe, po;              /* even and odd pedestals (pass 1, reused by pass 2) */
} reco_wfinfo;

struct na64_reco {
  const na64_geom *g;
  int ecal_det, hcal_det, srd_det, veto_det;
  double ecal_cx, ecal_cy;          /* ECAL centre (global), the origin of ecal_x, ecal_y */
  double *frac;                     /* [frac_w^2]: expected fraction of the shower energy in an ECAL cell whose
                                       centre is (i, j) x frac_step away from the shower centre */
  int frac_n, frac_w;               /* the table's size and its row stride (frac_n + 2: zero padding) */
  double frac_step, frac_inv, cell_x, cell_y; /* frac_inv = 1/frac_step */
  double bl;                        /* sum of the field integrals, T m */
  double z_mag_in, z_mag_out;
  double tab[RECO_NT][RECO_NS_TAB]; /* pulse shape for start times on the grid, period 12.5 ns */
  double tab_ss[RECO_NT];           /* sum of the squares of each row (the score of an unsaturated pulse) */
  int avx, avx2;                    /* 1: the CPU has AVX, AVX2 (RECO_AVX builds; tests may clear them) */
  double p_nominal;                 /* beam momentum of the run: the scattering angles of the first fit, GeV */
  int nrp;
  reco_plane *rp;                   /* tracking planes: strips and straws */
  na64_straw_decoder *straw_dec;    /* NULL without straw planes */
  na64_straw_reco *straw_reco;
  int *plane_slot;                  /* [g->nplanes]: index in rp or -1 */
  reco_chan *chan;                  /* [g->chanmap.nentries]: the calorimeter channels */
  reco_strip_chan *strip_of;        /* [g->chanmap.nentries]: the strips (track.c) */
  /* per-event scratch */
  na64_daq_equipment *eq;           /* the event's equipment blocks, walked once per event (reco.c) */
  size_t neq, eq_cap;
  na64_daq_sadc_waveform *wf;
  size_t wf_cap;
  reco_wfinfo *wfi;                 /* [wf_cap]: channel of each waveform */
  size_t wfi_cap;
  na64_daq_apv_hit *apv;
  size_t apv_cap;
  na64_strip_hit *strips;
  size_t strips_cap;
  na64_strip_hit *strips2;          /* the strips sorted by plane (swapped with strips) */
  size_t strips2_cap;
  size_t *slot_at;                  /* [nrp + 1]: counting sort of the strips by plane slot */
  na64_strip_cluster *cl;           /* clusters of one plane (scratch) */
  size_t cl_cap;
  reco_cluster *clusters;           /* [nrp] */
  na64_straw_digit_list digits;
  na64_straw_event sev;
  reco_side_fit fit[2];             /* upstream, downstream */
  double *ecal_cell;                /* [ncells of ECAL]: both sections summed, GeV */
  char msg[NA64_ERR_MSG_LEN];
};

int reco_calo_setup(na64_reco *r, na64_err *err);
/* The per-event steps read the event's equipment blocks from r->eq (listed by na64_reco_process). */
int reco_calo_event(na64_reco *r, na64_reco_event *out, na64_err *err);
int reco_track_setup(na64_reco *r, na64_err *err);
int reco_track_event(na64_reco *r, const na64_daq_event *ev, na64_reco_event *out, na64_err *err);
/* na64_strip_cluster_find without its checks of the hits (of plane pl, on its strips, in wire order),
 * for hits that hold them by construction (track.c: mapped strips, grouped by plane and sorted). */
int reco_strip_clusters(const na64_geom_plane *pl, const na64_strip_hit *h, size_t n, na64_strip_cluster *out, size_t cap,
                        size_t *nout, na64_err *err);
/* Grow *buf to at least n elements of size sz. */
int reco_reserve(void **buf, size_t *cap, size_t n, size_t sz, na64_err *err);

#endif
