/*
 * Private state shared by the Table 1 background estimates (src/sim/fast_bkg.c, the event routes
 * into the signal box, and src/sim/fast_bkg_routes.c, the tail, decay and detector routes). Not installed.
 */
#ifndef NA64_SIM_FAST_BKG_INTERNAL_H
#define NA64_SIM_FAST_BKG_INTERNAL_H

#include "sim/fast_internal.h"

#define BOX_ECAL 50.0   /* GeV, signal box (PRL 123 121801) */
#define BOX_HCAL 1.0    /* GeV */
#define SRD_MIN 0.001   /* GeV, SRD window of configs/invisible_default.yaml (selection) */
#define SRD_MAX 0.5
#define SRD_HADRON 1e-3 /* SRD tag probability without synchrotron radiation (NA64 report) */
/* Full width (ns) of the SRD's time cut: |t_SRD| <= 5 ns of the selection's default
 * `srd_time_window` (src/ana/select.c, ESTIMATE there: a few SADC samples). An in-time companion
 * tags the SRD only inside it (issue 11: the accidental tag of a particle without SR). */
#define SRD_TIME_WINDOW 10.0
#define P_WINDOW 0.03   /* momentum within E0 (1 +- 0.03) */
#define DP_P 0.01       /* tracker dp/p (NA64 report) */
#define BKG_NK 16       /* photon table: energy bins above E0 - 50 GeV */
#define BKG_NT 24       /* photon table: depth bins of 1 X0 */

/* The selection's shower-shape cut (src/ana/select.c default `shape_chi2_max`) and the table of
 * expected cell fractions (fast_bkg_shape.c). */
#define BKG_SHAPE_CHI2_MAX 9.0
typedef struct bkg_shape bkg_shape;
/* An e-m particle at the ECAL face: energy (GeV), impact (cm, global) and slopes. */
typedef struct bkg_em {
  double E, x, y, dx, dy;
} bkg_em;

typedef struct bkg {
  const na64_sim *s;
  double B;                                  /* bias of the rare step */
  double ptab[BKG_NK * BKG_NT + 1], Ptot;    /* photon track length above E0 - 50 GeV (cm), CDF over cells */
  double k_lo, dk;
  double sig_gA, sig_mumu;                   /* macroscopic cross sections of the ECAL, 1/cm */
  double lam_hcal;                           /* HCAL depth, interaction lengths */
  double ineff;                              /* the card's `inefficiency` of the source */
  bkg_shape *shape;                          /* tail, decay, detector: the shower-shape table */
  double p_acc;                              /* decay: accidental SRD tag of a particle without SR */
  double p_self[2];                          /* decay, hadron: own SR of a beam pi-, K- in the SRD window */
  double tag_had[2];                         /* decay: SRD tag of a decaying pi-, K- (derived, fast_bkg.c) */
  /* decay, hadron: knock-on electrons of a beam pi-, K- (fast_bkg_knockon.c) */
  double ko_upstream;                        /* g/cm2 of material upstream of the first dipole */
  double ko_per_gcm2[2];                     /* SRD tag per g/cm2 of that material, no momentum cut */
  double ko_all[2];                          /* the same x the material */
  double ko_sel[2];                          /* applied: all elements, with the momentum window */
} bkg;

/* fast_bkg.c */
double bkg_p_momentum(double E0, double p, double tail_frac);
double bkg_srd_factor(double srd, int radiates);
double bkg_box_truth(const na64_sim *s, const na64_sim_truth *t);
double bkg_electron_srd(const na64_sim *s, na64_rng *rng, double p);
/* fast_bkg_routes.c */
double bkg_em_frac_before(const na64_sim *s, double E, double t);
double bkg_ecal_contained(const na64_sim *s, double x, double y);
double bkg_ev_tail(const bkg *k, na64_rng *rng);
double bkg_ev_decay(const bkg *k, na64_rng *rng);
double bkg_ev_mu_field(const bkg *k, na64_rng *rng);
double bkg_ev_detector(const bkg *k, const na64_sim_event *ev, double w0);
double bkg_crack_loss(const na64_sim *s, double x, double y, double w);
double bkg_route_prob(const bkg *k, int source);
void bkg_ke3_draw(na64_rng *rng, double *Ee, double *Epi, double *cos_epi);
/* fast_beam.c: the synchrotron radiation of the trajectory downstream of z_from */
int sim_synchrotron_from(const na64_sim *s, double m, double q, double p, double z_from, double x0, double dxdz,
                         na64_rng *rng, double *e_emitted, double *e_srd, double srd[NA64_SIM_MAX_SRD]);
/* fast_bkg_knockon.c: fills k->ko_* */
void bkg_knockon_tag(bkg *k, uint64_t seed);
/* fast_bkg_shape.c */
int bkg_shape_new(const na64_sim *s, bkg_shape **out, na64_err *err);
void bkg_shape_free(bkg_shape *t);
double bkg_shape_fraction(const bkg_shape *t, double dx, double dy);
double bkg_shape_chi2(const na64_sim *s, const bkg_shape *t, const double cells[][NA64_SIM_MAX_ECAL]);
int bkg_shape_pass(const na64_sim *s, const bkg_shape *t, const double cells[][NA64_SIM_MAX_ECAL]);
void bkg_ecal_showers(const na64_sim *s, na64_rng *rng, int n, const bkg_em *p, double cells[][NA64_SIM_MAX_ECAL],
                      double vis[2]);

#endif
