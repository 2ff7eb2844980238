/*
 * Rates per EOT in the invisible-mode signal box of the background sources of the NA64 report's
 * Table 1 (docs/simulation.md, "Table 1 backgrounds"). This file: the hadron, photo-nuclear,
 * dimuon, pile-up and nu nu routes and the estimate loop; the tail, decay and detector routes are
 * in fast_bkg_routes.c. Each source forces its process (the event
 * weight starts at the process probability per EOT), biases its rare step with exact weights, and
 * replaces the cuts that are pure detector probabilities by those probabilities (conditional Monte
 * Carlo): the veto inefficiency, the SRD tag of a particle without synchrotron radiation, the
 * Gaussian momentum measurement. The rate is the mean weight, its error the standard error.
 *
 * Literature inputs (each an ESTIMATE where no better number is published in our reference data):
 * - SRD tag of a beam hadron (issue 11, derived instead of fixed):
 *   1 - (1 - p_self)(1 - p_ko)(1 - p_acc)(1 - m) with p_self its own synchrotron radiation in the
 *   SRD window (simulated: (m_e/m_h)^4 of an electron's power, none in 2000 pions or kaons), p_ko
 *   the tag by its knock-on electrons in the material up to the end of the field, with the
 *   momentum window (fast_bkg_knockon.c, bkgcheck2), p_acc the accidental tag by an in-time
 *   companion inside the SRD's time cut (accidental_tag below; the hadron route leaves it to the
 *   pile-up route, which is that coincidence) and m the card's `decay.inefficiency`: the mis-tag
 *   by what the simulation does not have (SRD noise, upstream hadron interactions). Its built-in default 1e-3 is the NA64 report's "further ~1e3" hadron
 *   suppression; the invisible cards set 0 (docs/validation.md, issue 11). A muon: p_acc alone
 *   (no SR the SRD sees, no crossing of the SRD).
 * - Tracker dp/p = 1% at 100 GeV (NA64 report): Gaussian momentum measurement.
 * - Photo-nuclear cross section: sigma(gamma p) = 0.115 mb at E_gamma = 50-100 GeV (PDG Review,
 *   "Plots of cross sections", total gamma p cross section at sqrt(s) = 10-14 GeV), nuclear
 *   shadowing sigma(gamma A) = A^0.91 sigma(gamma p) (D.O. Caldwell et al., PRL 42 (1979) 553).
 * - Leading neutral hadron (n, K0_L): 0.3 per hadronic interaction with a flat Feynman-x spectrum
 *   (ESTIMATE after the flat leading-neutron x_F spectra of pp -> nX, W. Flauger and F. Moennig,
 *   Nucl. Phys. B109 (1976) 347, and of photoproduction).
 * - Muon pairs: sigma(gamma -> mu mu) = (m_e/m_mu)^2 sigma(gamma -> e e) with the complete-screening
 *   sigma(gamma -> e e) = 7/(9 X0) (PDG eq. 34.31; mass scaling of the Bethe-Heitler cross
 *   section, Tsai, Rev. Mod. Phys. 46 (1974) 815): an upper estimate (screening is incomplete for muons).
 * - Neutral survival through thickness L: exp(-L/lambda_I) (PDG nuclear interaction length),
 *   biased by stretching lambda by the card's factor B (exponential transform, exact weights).
 * - e- Z -> e- Z nu nubar: the nu nubar pair of mass M as an A' of coupling eps_eff^2(M) =
 *   N_nu G_F^2 M^4 / (24 pi^3 alpha) per unit M^2 (four-fermion contact interaction), with the
 *   thick-target A' yield C eps^2 m_e^2 / M^2, C = 10 (NA64 report), up to M^2 = 2 E0 / R_A (the
 *   nuclear form factor, R_A = 1.2 A^1/3 fm): an order-of-magnitude ESTIMATE.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fast_bkg_internal.h"

#define SIGMA_GP 0.115e-27 /* cm^2, gamma p total cross section at 50-100 GeV (PDG) */
#define F_LEAD 0.3         /* leading neutrals per hadronic interaction (ESTIMATE, see above) */
#define X_BIAS 20.0       /* importance sampling of the leading neutral's x in hadron reactions */
#define NK BKG_NK
#define NT BKG_NT
/* Leading K0_L among the leading neutrals (ESTIMATE) and its interaction length relative to the
 * nucleon's: that of pions, 20.42 cm / 16.77 cm in Fe (PDG Atomic and nuclear properties: pion and
 * nuclear interaction lengths; sigma(K N) < sigma(pi N), so an upper estimate of the K0_L's). */
#define F_K0L 0.2
#define LAM_K0L 1.218
/* All-neutral remainder of a beam hadron's interaction (pi- p -> pi0 n, eta n, ...: charge
 * exchange, tens of microbarn at 20-200 GeV, A.V. Barnes et al., PRL 37 (1976) 76, against the
 * ~21 mb inelastic pi p cross section, PDG): ESTIMATE 1e-3 per interaction. The remainder then
 * showers electromagnetically in the ECAL and leaves nothing to the HCAL. */
#define P_NEUTRAL_REST 1e-3
#define EM_DRAW 0.9 /* share of the sampled hadron events given to the all-neutral remainder */

static const char *const names[NA64_SIM_BKG_NSOURCES] = {"hadron", "tail", "decay", "detector",
                                                          "pileup", "photonuclear", "dimuon", "nunu"};
static const char *const rows[NA64_SIM_BKG_NSOURCES] = {
    "beam contamination: pi, p, mu reactions and punch-through (< 1e-13 - 1e-12)",
    "beam contamination: e- low-energy tail from bremsstrahlung (< 1e-12)",
    "beam contamination: pi, mu decays in flight (< 1e-12)",
    "detector: ECAL+HCAL resolution, hermeticity, holes, cracks (< 1e-13)",
    "pile-up of two or more particles (text of the report; counted in the beam row, < 1e-12)",
    "physical: hadron electroproduction, n punch-through (< 1e-13)",
    "physical: mu inefficiency (< 1e-13)",
    "physical: e- Z -> e- Z nu nu (< 1e-13)"};
static const double table1[NA64_SIM_BKG_NSOURCES] = {1e-12, 1e-12, 1e-12, 1e-13, 1e-12, 1e-13, 1e-13, 1e-13};

const char *na64_sim_bkg_name(int source)
{
  return source >= 0 && source < NA64_SIM_BKG_NSOURCES ? names[source] : NULL;
}

const char *na64_sim_bkg_table1_row(int source)
{
  return source >= 0 && source < NA64_SIM_BKG_NSOURCES ? rows[source] : NULL;
}

/* Probability that the measured momentum of a particle of momentum p lies in the window: the
 * Gaussian core dp/p (NA64 report) and, for a fraction tail_frac of the tracks, a Gaussian in the
 * curvature 10 times wider (the non-Gaussian tail, fast_bkg_routes.c). */
double bkg_p_momentum(double E0, double p, double tail_frac)
{
  double sg = DP_P * p, lo = E0 * (1.0 - P_WINDOW), hi = E0 * (1.0 + P_WINDOW);
  double core = 0.5 * (erfc((lo - p) / (M_SQRT2 * sg)) - erfc((hi - p) / (M_SQRT2 * sg)));
  if (!(tail_frac > 0.0)) return core;
  double sk = 10.0 * DP_P; /* measured curvature 1/p_m = (1 + d)/p: p_m in [lo, hi] <=> d in [p/hi - 1, p/lo - 1] */
  double tail = 0.5 * (erfc((p / hi - 1.0) / (M_SQRT2 * sk)) - erfc((p / lo - 1.0) / (M_SQRT2 * sk)));
  return (1.0 - tail_frac) * core + tail_frac * tail;
}

double bkg_srd_factor(double srd, int radiates)
{
  if (srd > SRD_MIN && srd < SRD_MAX) return 1.0;
  return radiates ? 0.0 : SRD_HADRON;
}

/* Visible fraction of a hadron shower of energy E (Groom f_em, e/h; as fast_event.c). */
static double had_vis(double E, double e_over_h)
{
  double fem = 1.0 - pow(fmax(E, 1.0), 0.83 - 1.0);
  return fem + (1.0 - fem) / e_over_h;
}

/* The box on a generated event's truth: 0 outside, else the detector probabilities. */
double bkg_box_truth(const na64_sim *s, const na64_sim_truth *t)
{
  if (!(t->ecal < BOX_ECAL && t->hcal < BOX_HCAL && t->ps > s->cfg.trigger_ps_min)) return 0.0;
  double w = bkg_p_momentum(s->cfg.beam_energy, t->energy, 0.0);
  if (t->true_veto > 0.0) w *= 1.0 - s->cfg.veto_efficiency;
  int radiates = t->particle == NA64_SIM_E || t->daughter == NA64_SIM_E;
  return w * bkg_srd_factor(t->srd, radiates);
}

/* A neutral hadron of energy En crossing `ecal_rem` interaction lengths of ECAL and then the HCAL,
 * with exponential-transform bias B: adds what it deposits to *ecal, *hcal and returns the weight.
 * A K0_L (fraction F_K0L) sees the depth in units of its longer interaction length. */
static double neutral(const bkg *k, na64_rng *rng, double En, double ecal_rem, double *ecal, double *hcal)
{
  const na64_sim *s = k->s;
  double sc = na64_rng_uniform(rng) < F_K0L ? 1.0 / LAM_K0L : 1.0;
  double L = sc * (ecal_rem + k->lam_hcal), d = -k->B * log(na64_rng_uniform(rng));
  if (d >= L) return exp(-L + L / k->B); /* survives: exp(-L) / exp(-L/B) */
  double w = k->B * exp(-d + d / k->B), vis;
  d /= sc; /* back to nucleon interaction lengths for the shower */
  L /= sc;
  if (d < ecal_rem) {
    vis = En * sim_had_frac(En, 0.0, ecal_rem - d) * had_vis(En, s->cfg.ecal_e_over_h);
    *ecal += vis;
    double rest = En * sim_had_frac(En, ecal_rem - d, L - d);
    *hcal += rest * had_vis(En, s->cfg.hcal_e_over_h);
  } else {
    double dep = En * sim_had_frac(En, 0.0, L - d);
    vis = dep * had_vis(En, s->cfg.hcal_e_over_h);
    *hcal += fmax(0.0, vis + s->cfg.hcal_stochastic * sqrt(vis) * na64_rng_gauss(rng));
  }
  return w;
}

/* A hadron of momentum p interacting at depth z (cm) in the ECAL with a leading neutral of
 * fraction x: ECAL, pre-shower, HCAL (leak of the charged remainder) and veto MIPs. */
static double hadron_interaction(const bkg *k, na64_rng *rng, double p, double z, double x, int em, double *ecal,
                                 double *ps, double *hcal, int *nmip)
{
  const na64_sim *s = k->s;
  double L = s->ecal.length, zps = L * s->ecal_depth[0] / (s->ecal_depth[0] + s->ecal_depth[1]);
  double lam = s->ecal_lambda, Er = (1.0 - x) * p, vr = had_vis(Er, s->cfg.ecal_e_over_h);
  /* MIP part before z (per section, as fast_event.c) */
  double m0 = s->ecal_mip[0] * fmin(z, zps) / zps, m1 = z > zps ? s->ecal_mip[1] * (z - zps) / (L - zps) : 0.0;
  double d0 = z < zps ? Er * sim_had_frac(Er, 0.0, (zps - z) / lam) : 0.0;
  double dall = Er * sim_had_frac(Er, 0.0, (L - z) / lam);
  if (em) { /* all-neutral remainder: an EM shower from z, contained in the ~40 X0 */
    d0 = z < zps ? Er * bkg_em_frac_before(s, Er, (zps - z) / s->ecal_x0_cm) : 0.0;
    dall = Er;
    vr = 1.0;
  }
  *ps = m0 + d0 * vr;
  double e = m0 + m1 + dall * vr;
  *ecal = fmax(0.0, e + s->cfg.ecal_stochastic * sqrt(e) * na64_rng_gauss(rng));
  double leak = Er - dall;
  *hcal = leak * had_vis(Er, s->cfg.hcal_e_over_h);
  *nmip = leak > 1.0; /* charged leakage behind the ECAL: one MIP (as fast_event.c) */
  return neutral(k, rng, x * p, (L - z) / lam, ecal, hcal);
}

static double ev_hadron(const bkg *k, na64_rng *rng, int srd_tag)
{
  const na64_sim *s = k->s;
  const na64_sim_config *c = &s->cfg;
  double fh = c->frac_pi + c->frac_k + c->frac_p;
  double p = c->beam_energy * (1.0 + c->momentum_spread * na64_rng_gauss(rng));
  /* the hadron's own SRD tag (the accidental one is the pile-up route's): own SR of the lightest
   * hadron (an upper bound for K-, p), its knock-on electrons (fast_bkg_knockon.c) or the card's mis-tag */
  double tag = 1.0 - (1.0 - k->p_self[0]) * (1.0 - k->ko_sel[0]) * (1.0 - c->bkg_ineff[NA64_SIM_BKG_DECAY]);
  double w = fh * (srd_tag ? tag : 1.0) * bkg_p_momentum(c->beam_energy, p, 0.0);
  double lam = s->ecal_lambda, L = s->ecal.length, zps = L * s->ecal_depth[0] / (s->ecal_depth[0] + s->ecal_depth[1]);
  /* the remainder: all-neutral (EM, drawn with probability EM_DRAW) or hadronic */
  int em = na64_rng_uniform(rng) < EM_DRAW;
  double z, x, wx;
  if (em) {
    /* an EM remainder fires the pre-shower only if the interaction is in it (a MIP alone stays below
     * the threshold): z from the exponential truncated to the pre-shower, x > 1/2 (E_ECAL < 50 GeV)
     * uniform; weights = the truncated probability and 1/2 */
    double zmax = s->ecal_mip[0] < c->trigger_ps_min ? zps : L, pz = 1.0 - exp(-zmax / lam);
    z = -lam * log(1.0 - na64_rng_uniform(rng) * pz);
    x = 0.5 + 0.5 * na64_rng_uniform(rng);
    wx = 0.5;
    w *= pz * P_NEUTRAL_REST / EM_DRAW;
  } else {
    /* the leading neutral's fraction x (flat, F_LEAD per interaction) drawn from g(x) = a x^(a-1),
     * a = X_BIAS, with weight 1/g(x): only x near 1 leaves a charged remainder small enough not to
     * leak 1 GeV into the HCAL */
    z = -lam * log(na64_rng_uniform(rng));
    x = pow(na64_rng_uniform(rng), 1.0 / X_BIAS);
    wx = 1.0 / (X_BIAS * pow(x, X_BIAS - 1.0));
    w /= 1.0 - EM_DRAW;
    if (z >= L) { /* crosses the ECAL as a MIP: veto and every HCAL module see it */
      double h = 0.0;
      for (int m = 0; m < s->nhcal; ++m) h += sim_mip_draw(rng, s->hcal_mip, 0.1);
      return h < BOX_HCAL ? w * (1.0 - c->veto_efficiency) : 0.0;
    }
    w *= 1.0 - P_NEUTRAL_REST;
  }
  double ecal, ps, hcal;
  int nmip;
  w *= F_LEAD * wx * hadron_interaction(k, rng, p, z, x, em, &ecal, &ps, &hcal, &nmip);
  if (!(ecal < BOX_ECAL && hcal < BOX_HCAL && ps > c->trigger_ps_min)) return 0.0;
  return nmip ? w * (1.0 - c->veto_efficiency) : w;
}

/* Photon of energy above E0/2 drawn from the track-length table: energy and depth (X0). */
static void draw_photon(const bkg *k, na64_rng *rng, double *kE, double *t)
{
  double u = na64_rng_uniform(rng) * k->ptab[NK * NT];
  int lo = 0, hi = NK * NT;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (k->ptab[mid] <= u) lo = mid; else hi = mid;
  }
  *kE = k->k_lo + k->dk * (lo / NT + na64_rng_uniform(rng));
  *t = (lo % NT) + na64_rng_uniform(rng);
}

double bkg_electron_srd(const na64_sim *s, na64_rng *rng, double p)
{
  double emitted = 0.0, esrd = 0.0, srd[NA64_SIM_MAX_SRD] = {0};
  na64_sim_synchrotron(s, NA64_M_E, -1.0, p, 0.0, 0.0, rng, &emitted, &esrd, srd);
  return esrd;
}

static double ev_photonuclear(const bkg *k, na64_rng *rng)
{
  const na64_sim *s = k->s;
  const na64_sim_config *c = &s->cfg;
  double kE, t;
  draw_photon(k, rng, &kE, &t);
  double p = c->beam_energy, x = na64_rng_uniform(rng), z = fmin(t * s->ecal_x0_cm, s->ecal.length);
  double w = k->Ptot * k->sig_gA * F_LEAD;
  double Er = (1.0 - x) * kE, lam = s->ecal_lambda, L = s->ecal.length;
  double dall = Er * sim_had_frac(Er, 0.0, (L - z) / lam);
  double e = (p - kE) + dall * had_vis(Er, c->ecal_e_over_h), hcal = (Er - dall) * had_vis(Er, c->hcal_e_over_h);
  double ecal = fmax(0.0, e + c->ecal_stochastic * sqrt(e) * na64_rng_gauss(rng));
  w *= neutral(k, rng, x * kE, (L - z) / lam, &ecal, &hcal);
  if (!(ecal < BOX_ECAL && hcal < BOX_HCAL)) return 0.0;
  if (Er - dall > 1.0) w *= 1.0 - c->veto_efficiency;
  return w * bkg_srd_factor(bkg_electron_srd(s, rng, p), 1);
}

static double ev_dimuon(const bkg *k, na64_rng *rng)
{
  const na64_sim *s = k->s;
  const na64_sim_config *c = &s->cfg;
  double kE, t;
  draw_photon(k, rng, &kE, &t);
  double w = k->Ptot * k->sig_mumu * (1.0 - c->veto_efficiency) * (1.0 - c->veto_efficiency);
  double frac = fmin(t * s->ecal_x0_cm / s->ecal.length, 1.0);
  double e = c->beam_energy - kE + 2.0 * (1.0 - frac) * (s->ecal_mip[0] + s->ecal_mip[1]);
  double ecal = fmax(0.0, e + c->ecal_stochastic * sqrt(e) * na64_rng_gauss(rng));
  /* both muons cross every HCAL module together (2 MIPs = 3.2 GeV > 1 GeV in each): the event is
   * in the box only if every module misses them, each with the card's MIP inefficiency */
  w *= pow(k->ineff, s->nhcal);
  if (!(ecal < BOX_ECAL)) return 0.0;
  return w * bkg_srd_factor(bkg_electron_srd(s, rng, c->beam_energy), 1);
}

/* e- Z -> e- Z nu nubar: analytic (see the header comment); fraction of the A'-like spectrum
 * x (1 + x^2/(3(1-x))) (NA64 report) above x = 1/2, integrated up to 1 - m_e/E0. */
static double nunu_rate(const na64_sim *s)
{
  const double GF = 1.1663788e-5, alpha = 1.0 / 137.035999, C = 10.0, Nnu = 3.0;
  double A = 207.2, R = 1.2 * cbrt(A) / 0.1973269804; /* GeV^-1 */
  double E0 = s->cfg.beam_energy, M2max = 2.0 * E0 / R;
  double n = C * NA64_M_E * NA64_M_E * Nnu * GF * GF / (24.0 * M_PI * M_PI * M_PI * alpha) * M2max;
  double xmax = 1.0 - NA64_M_E / E0, num = 0.0, den = 0.0;
  for (int i = 0; i < 20000; ++i) {
    double x = (i + 0.5) / 20000.0 * xmax, f = x * (1.0 + x * x / (3.0 * (1.0 - x)));
    den += f;
    if (x > 1.0 - BOX_ECAL / E0) num += f;
  }
  return n * num / den;
}

static int photon_table(bkg *k, na64_err *err)
{
  const na64_sim *s = k->s;
  double E0 = s->cfg.beam_energy;
  k->k_lo = E0 - BOX_ECAL;
  k->dk = (E0 - k->k_lo) / NK;
  na64_track_length *tl = NULL;
  NA64_CALL(na64_track_length_new(&s->ecal_mat, E0, 0.5 * k->k_lo, (double)NT, 0, &tl, err));
  double x0 = s->ecal_mat.X0; /* cm of one X0 of the homogenised sandwich */
  k->ptab[0] = 0.0;
  for (int i = 0; i < NK; ++i) {
    double kE = k->k_lo + (i + 0.5) * k->dk;
    for (int j = 0; j < NT; ++j) {
      double d = na64_track_length_eval_depth(tl, NA64_TL_PHOTON, kE, j + 1.0) -
                 na64_track_length_eval_depth(tl, NA64_TL_PHOTON, kE, (double)j);
      k->ptab[i * NT + j + 1] = k->ptab[i * NT + j] + fmax(d, 0.0) * k->dk;
    }
  }
  na64_track_length_free(tl);
  k->Ptot = k->ptab[NK * NT]; /* cm of photon path above E0 - 50 GeV */
  double sg = 0.0;
  for (int i = 0; i < s->ecal_mat.ncomp; ++i)
    sg += na64_material_atom_density(&s->ecal_mat, i) * SIGMA_GP * pow(s->ecal_mat.comp[i].A, 0.91);
  k->sig_gA = sg;
  k->sig_mumu = 7.0 / (9.0 * x0) * pow(NA64_M_E / NA64_M_MU, 2);
  return NA64_OK;
}

/* A copy of the simulation with the beam forced to one kind (tail e- or nominal e-); *w0 receives
 * the probability per EOT of that kind. */
static int forced_sim(const na64_sim *s, int source, na64_sim **out, double *w0, na64_err *err)
{
  na64_sim_config c = s->cfg;
  c.aprime_enabled = 0;
  c.intensity = 0.0;
  double fa = c.frac_pi + c.frac_k + c.frac_p + c.frac_mu;
  c.frac_pi = c.frac_k = c.frac_p = c.frac_mu = 0.0;
  c.tail_fraction = source == NA64_SIM_BKG_DETECTOR ? 0.0 : 1.0;
  *w0 = source == NA64_SIM_BKG_DETECTOR ? 1.0 - fa - s->cfg.tail_fraction : s->cfg.tail_fraction;
  return na64_sim_new(&c, out, err);
}

/* The SRD tag of a particle without synchrotron radiation of its own that does not cross the SRD
 * (a beam muon: it passes beside the SRD, and its own SR is (m_e/m_mu)^4 = 5.5e-10 of an
 * electron's power with a critical energy (m_e/m_mu)^3 = 1.1e-7 of an electron's, ~1 eV against
 * the 1 MeV threshold): an in-time companion (lam = in-time particles per event x P(tail e-)) from
 * the forced tail generator whose SR falls in the SRD window while it leaves less than 1 GeV in
 * the ECAL and in the HCAL and nothing in the veto (the companion of the pile-up route). The
 * share of companions that do is counted over BKG_NACC events. */
#define BKG_NACC 8000
#define BKG_NSELF 2000
/* The own synchrotron radiation of a beam pi- and K- (mass m, the beam momentum) in the SRD window,
 * counted over BKG_NSELF particles each (the simulation's SR through the dipoles,
 * na64_sim_synchrotron): the power is (m_e/m)^4 of an electron's, so none is expected. */
static void self_tag(bkg *k, uint64_t seed)
{
  const double m[2] = {0.13957039, 0.493677}; /* PDG pi-, K- masses, GeV */
  const na64_sim *s = k->s;
  for (int j = 0; j < 2; ++j) {
    na64_rng rng;
    na64_rng_init(&rng, seed ^ 0x94D049BB133111EBull, (uint64_t)j);
    int n = 0;
    for (int i = 0; i < BKG_NSELF; ++i) {
      double emitted = 0.0, esrd = 0.0, srd[NA64_SIM_MAX_SRD] = {0};
      na64_sim_synchrotron(s, m[j], -1.0, s->cfg.beam_energy, 0.0, 0.0, &rng, &emitted, &esrd, srd);
      n += esrd > SRD_MIN && esrd < SRD_MAX;
    }
    k->p_self[j] = n / (double)BKG_NSELF;
  }
}

static int accidental_tag(bkg *k, na64_sim_worker *wk, na64_sim_event *ev, double lam, uint64_t seed, na64_err *err)
{
  k->p_acc = 0.0;
  if (!(lam > 0.0)) return NA64_OK;
  int n = 0;
  for (uint64_t i = 0; i < BKG_NACC; ++i) {
    NA64_CALL(na64_sim_event_generate(wk, seed ^ 0x9E3779B97F4A7C15ull, i, 1, ev, err));
    const na64_sim_truth *t = &ev->truth;
    n += t->srd > SRD_MIN && t->srd < SRD_MAX && t->ecal < 1.0 && t->hcal < 1.0 && !(t->true_veto > 0.0);
  }
  k->p_acc = lam * n / (double)BKG_NACC;
  return NA64_OK;
}

/* One source's sampling state: the route's tables, the forced generator of the routes that need
 * generated events, and the stream key. Event i of seed `seed` always draws from the same stream,
 * so any range of events gives the weights of the same events of the whole sample. */
typedef struct bkg_run {
  const na64_sim *s;
  bkg *k;
  na64_sim *g;
  na64_sim_worker *wk;
  na64_sim_event *ev;
  double w0, lam_pu, lam_srd;
  uint64_t key, seed;
  int source;
} bkg_run;

static void run_close(bkg_run *r)
{
  free(r->ev);
  if (r->k) bkg_shape_free(r->k->shape);
  na64_sim_worker_free(r->wk);
  na64_sim_free(r->g);
  free(r->k);
  memset(r, 0, sizeof *r);
}

static int run_open(const na64_sim *s, int source, uint64_t seed, bkg_run *r, na64_err *err)
{
  memset(r, 0, sizeof *r);
  r->s = s;
  r->source = source;
  r->seed = seed;
  r->w0 = 1.0;
  r->key = 0x5BD1E995A5A5A5A5ull * (uint64_t)(source + 1);
  if (source == NA64_SIM_BKG_NUNU) return NA64_OK; /* analytic */
  bkg *k = r->k = calloc(1, sizeof *k);
  if (!k) return na64_err_set(err, NA64_ENOMEM, "na64_sim_bkg_estimate: out of memory");
  k->s = s;
  k->B = s->cfg.bkg_bias[source] >= 1.0 ? s->cfg.bkg_bias[source] : 1.0;
  k->ineff = s->cfg.bkg_ineff[source];
  for (int m = 0; m < s->nhcal; ++m) k->lam_hcal += s->hcal[m].length / s->hcal_lambda;
  int st = NA64_OK;
  if (source == NA64_SIM_BKG_PHOTONUCLEAR || source == NA64_SIM_BKG_DIMUON) st = photon_table(k, err);
  if (!st && (source == NA64_SIM_BKG_TAIL || source == NA64_SIM_BKG_DECAY || source == NA64_SIM_BKG_DETECTOR))
    st = bkg_shape_new(s, &k->shape, err);
  if (!st && (source == NA64_SIM_BKG_DETECTOR || source == NA64_SIM_BKG_PILEUP || source == NA64_SIM_BKG_DECAY)) {
    st = forced_sim(s, source == NA64_SIM_BKG_DETECTOR ? source : NA64_SIM_BKG_TAIL, &r->g, &r->w0, err);
    if (!st) st = na64_sim_worker_new(r->g, &r->wk, err);
  }
  /* pile-up: in-time particles per event (as fast_event.c), the companion a forced tail e-; one
   * that tags the SRD must fall inside the SRD's time cut too (issue 11): lam_srd = rate x that
   * window for the accidental tag, x the shorter of both windows for the pile-up route's
   * companion, which must add its energies and tag */
  double rate = s->cfg.intensity / s->cfg.spill_length * 1e-9; /* particles per ns */
  r->lam_pu = rate * fmin(s->cfg.pileup_window, SRD_TIME_WINDOW);
  r->lam_srd = rate * SRD_TIME_WINDOW;
  if (!st && !(r->ev = malloc(sizeof *r->ev))) st = na64_err_set(err, NA64_ENOMEM, "na64_sim_bkg_estimate: out of memory");
  if (!st && (source == NA64_SIM_BKG_DECAY || source == NA64_SIM_BKG_HADRON)) {
    self_tag(k, seed ^ r->key);
    bkg_knockon_tag(k, seed); /* the same for both routes */
  }
  if (!st && source == NA64_SIM_BKG_DECAY) st = accidental_tag(k, r->wk, r->ev, r->lam_srd * r->w0, seed ^ r->key, err);
  if (!st && source == NA64_SIM_BKG_DECAY) /* a decaying pi-, K-: own SR, accidental, card mis-tag */
    for (int j = 0; j < 2; ++j)
      k->tag_had[j] = 1.0 - (1.0 - k->p_self[j]) * (1.0 - k->ko_sel[j]) * (1.0 - k->p_acc) * (1.0 - k->ineff);
  if (st) run_close(r);
  return st;
}

/* The weight of event i of the source's sample (0 outside the box). */
static int run_event(bkg_run *r, uint64_t i, double *w, na64_err *err)
{
  const bkg *k = r->k;
  uint64_t sk = r->seed ^ r->key;
  int st = NA64_OK;
  na64_rng rng;
  *w = 0.0;
  if (r->source == NA64_SIM_BKG_NUNU) {
    *w = nunu_rate(r->s);
    return NA64_OK;
  }
  na64_rng_init(&rng, sk, i);
  switch (r->source) {
  case NA64_SIM_BKG_HADRON: *w = ev_hadron(k, &rng, 1); break;
  case NA64_SIM_BKG_TAIL: *w = bkg_ev_tail(k, &rng); break;
  case NA64_SIM_BKG_DECAY: {
    /* behind the last dipole (pi, K, mu), plus a muon decaying inside the field (issue 10) drawn
     * from its own stream: the sum of two unbiased estimates per event */
    na64_rng rm;
    na64_rng_init(&rm, sk ^ 0x2545F4914F6CDD1Dull, i);
    *w = bkg_ev_decay(k, &rng) + bkg_ev_mu_field(k, &rm);
    break;
  }
  case NA64_SIM_BKG_PHOTONUCLEAR: *w = ev_photonuclear(k, &rng); break;
  case NA64_SIM_BKG_DIMUON: *w = ev_dimuon(k, &rng); break;
  case NA64_SIM_BKG_PILEUP: {
    /* a hadron in the box (no SRD tag of its own) plus an in-time tail electron whose energies
     * add and whose synchrotron radiation tags the event */
    double wh = ev_hadron(k, &rng, 0);
    /* the companion's stream differs from this event's own (seed ^ key, i) */
    if (wh > 0.0 && !(st = na64_sim_event_generate(r->wk, sk ^ 0xC2B2AE3D27D4EB4Full, i, 1, r->ev, err))) {
      const na64_sim_truth *t = &r->ev->truth;
      int ok = t->ecal < BOX_ECAL && t->hcal < BOX_HCAL && t->srd > SRD_MIN && t->srd < SRD_MAX;
      *w = ok ? wh * r->lam_pu * r->w0 * (t->true_veto > 0.0 ? 1.0 - k->s->cfg.veto_efficiency : 1.0) : 0.0;
    }
    break;
  }
  default: /* detector: a nominal electron with its cells */
    if (!(st = na64_sim_event_generate(r->wk, sk, i, 1, r->ev, err))) *w = bkg_ev_detector(k, r->ev, r->w0);
  }
  return st;
}

/* Probability per EOT of the source's forced process (the largest weight an event can have). */
static double run_process_prob(const na64_sim *s, const bkg_run *r)
{
  const bkg *k = r->k;
  switch (r->source) {
  case NA64_SIM_BKG_NUNU: return nunu_rate(s);
  case NA64_SIM_BKG_PHOTONUCLEAR: return k->Ptot * k->sig_gA;
  case NA64_SIM_BKG_DIMUON: return k->Ptot * k->sig_mumu;
  case NA64_SIM_BKG_HADRON: return s->cfg.frac_pi + s->cfg.frac_k + s->cfg.frac_p;
  case NA64_SIM_BKG_PILEUP: return r->lam_pu;
  case NA64_SIM_BKG_TAIL:
  case NA64_SIM_BKG_DECAY: return bkg_route_prob(k, r->source);
  default: return r->w0;
  }
}

static int check_source(const na64_sim *s, int source, const char *fn, na64_err *err)
{
  if (!s) return na64_err_set(err, NA64_EINVAL, "%s: NULL simulation", fn);
  if (source < 0 || source >= NA64_SIM_BKG_NSOURCES)
    return na64_err_set(err, NA64_EINVAL, "%s: source %d outside 0..%d", fn, source, NA64_SIM_BKG_NSOURCES - 1);
  return NA64_OK;
}

double na64_sim_bkg_table1(int source)
{
  return source >= 0 && source < NA64_SIM_BKG_NSOURCES ? table1[source] : NAN;
}

int na64_sim_bkg_weights(const na64_sim *s, int source, uint64_t seed, uint64_t first, uint64_t count, double *w,
                         double *process_prob, double *srd_accidental, na64_err *err)
{
  NA64_CALL(check_source(s, source, "na64_sim_bkg_weights", err));
  if (count > 0 && !w) return na64_err_set(err, NA64_EINVAL, "na64_sim_bkg_weights: NULL weights");
  bkg_run r;
  NA64_CALL(run_open(s, source, seed, &r, err));
  int st = NA64_OK;
  for (uint64_t i = 0; !st && i < count; ++i) st = run_event(&r, first + i, &w[i], err);
  if (process_prob) *process_prob = run_process_prob(s, &r);
  if (srd_accidental) *srd_accidental = r.k ? r.k->p_acc : 0.0;
  run_close(&r);
  return st;
}

int na64_sim_bkg_weights_visit(const na64_sim *s, int source, uint64_t seed, uint64_t first, uint64_t count,
                               na64_sim_bkg_weight_fn fn, void *user, na64_err *err)
{
  NA64_CALL(check_source(s, source, "na64_sim_bkg_weights_visit", err));
  if (!fn) return na64_err_set(err, NA64_EINVAL, "na64_sim_bkg_weights_visit: NULL function");
  bkg_run r;
  NA64_CALL(run_open(s, source, seed, &r, err));
  int st = NA64_OK;
  for (uint64_t i = 0; !st && i < count; ++i) {
    double w = 0.0;
    st = run_event(&r, first + i, &w, err);
    if (!st) fn(w, user);
  }
  run_close(&r);
  return st;
}

int na64_sim_bkg_estimate(const na64_sim *s, int source, uint64_t events, uint64_t seed, na64_sim_bkg_result *out,
                          na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_sim_bkg_estimate: NULL argument");
  NA64_CALL(check_source(s, source, "na64_sim_bkg_estimate", err));
  memset(out, 0, sizeof *out);
  out->source = source;
  out->table1 = table1[source];
  if (source == NA64_SIM_BKG_NUNU) { /* analytic: every such event is in the box */
    out->rate = out->process_prob = nunu_rate(s);
    return NA64_OK;
  }
  if (events == 0) return na64_err_set(err, NA64_EINVAL, "na64_sim_bkg_estimate: 0 events");
  bkg_run r;
  NA64_CALL(run_open(s, source, seed, &r, err));
  double sum = 0.0, sum2 = 0.0;
  int st = NA64_OK;
  for (uint64_t i = 0; !st && i < events; ++i) {
    double w = 0.0;
    st = run_event(&r, i, &w, err);
    sum += w;
    sum2 += w * w;
    out->passed += w > 0.0;
  }
  if (!st) {
    out->events = events;
    out->srd_accidental = r.k->p_acc;
    out->srd_upstream_gcm2 = r.k->ko_upstream;
    for (int j = 0; j < 2; ++j) {
      out->srd_knockon_per_gcm2[j] = r.k->ko_per_gcm2[j];
      out->srd_knockon[j] = r.k->ko_all[j];
      out->srd_knockon_applied[j] = r.k->ko_sel[j];
    }
    out->process_prob = run_process_prob(s, &r);
    na64_sim_bkg_result_from_sums(out, events, out->passed, sum, sum2);
  }
  run_close(&r);
  return st;
}

void na64_sim_bkg_result_from_sums(na64_sim_bkg_result *out, uint64_t events, uint64_t passed, double sum, double sum2)
{
  double n = (double)events, mean = events ? sum / n : 0.0;
  out->events = events;
  out->passed = passed;
  out->rate = mean;
  out->error = events ? sqrt(fmax(0.0, sum2 / n - mean * mean) / n) : 0.0;
  /* no event in the box: the 90% CL bound 2.3 / N_eff with every weight at most P(process) */
  out->bound90 = passed == 0 && events ? 2.3 * out->process_prob / n : 0.0;
  if (out->source == NA64_SIM_BKG_NUNU) out->bound90 = 0.0; /* analytic: no sampling */
}
