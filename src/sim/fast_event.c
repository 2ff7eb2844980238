/*
 * One event of the fast simulation: beam particle, transport, A' emission, ECAL, veto, HCAL, SRD
 * and the trigger (docs/simulation.md). The draws happen in a fixed order on the event's own stream
 * na64_rng_init(seed, event), so an event is the same in any thread and with full = 0 or 1.
 *
 * Hadronic response (PDG Review of Particle Physics, "Calorimetry", hadronic showers; D.E. Groom,
 * NIM A572 (2007) 633): the electromagnetic fraction of a hadron shower f_em = 1 - (E/E_0)^(m-1)
 * with E_0 = 1 GeV and m = 0.83; the visible energy of a calorimeter calibrated with electrons is
 * E [f_em + (1 - f_em)/(e/h)], with sampling fluctuations a_h sqrt(E). The longitudinal profile
 * after the interaction point is a gamma distribution in interaction lengths with its maximum at
 * t_max = 0.2 ln(E/GeV) + 0.7 and an exponential fall-off of length lambda_att = (E/GeV)^0.13
 * (PDG Calorimetry review, longitudinal containment of hadron showers).
 */
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <string.h>

#include "sim/fast_internal.h"

/* from fast_ecal.c */
int sim_ecal_em(const na64_sim *s, const double *E, const double *t0, int nsh, double x, double y, double dx,
                double dy, na64_rng *rng, int full, double cells[][NA64_SIM_MAX_ECAL], double dep[2], double vis[2],
                double *leak);

typedef struct beam_particle {
  int type;
  double q, m, p;      /* charge (e), mass and momentum (GeV) */
  double x0, y0, dx0, dy0; /* at z = 0 */
  int tail;
} beam_particle;

static void draw_beam(const na64_sim *s, na64_rng *rng, beam_particle *b)
{
  const na64_sim_config *c = &s->cfg;
  double u = na64_rng_uniform(rng);
  double cum[4] = {c->frac_pi, c->frac_pi + c->frac_k, c->frac_pi + c->frac_k + c->frac_p,
                   c->frac_pi + c->frac_k + c->frac_p + c->frac_mu};
  /* the H4 beam tuned for e- is a negative secondary beam: its hadrons are pi-, K- and
   * antiprotons (called "p" in cards), all of charge -1 */
  static const double mass[NA64_SIM_NPARTICLES] = {NA64_M_E, NA64_M_PI, 0.493677, NA64_M_PROTON, NA64_M_MU};
  b->type = u < cum[0] ? NA64_SIM_PI : u < cum[1] ? NA64_SIM_K : u < cum[2] ? NA64_SIM_P : u < cum[3] ? NA64_SIM_MU : NA64_SIM_E;
  b->q = -1.0;
  b->m = mass[b->type];
  b->p = c->beam_energy * (1.0 + c->momentum_spread * na64_rng_gauss(rng));
  b->x0 = c->spot_x * na64_rng_gauss(rng);
  b->y0 = c->spot_y * na64_rng_gauss(rng);
  b->dx0 = c->divergence_x * na64_rng_gauss(rng);
  b->dy0 = c->divergence_y * na64_rng_gauss(rng);
  double ut = na64_rng_uniform(rng), uy = na64_rng_uniform(rng);
  b->tail = b->type == NA64_SIM_E && ut < c->tail_fraction;
  if (b->tail) /* upstream bremsstrahlung: dN/dy ~ 1/y for the fractional loss y (soft-photon limit,
                  PDG eq. 34.29 at small y) */
    b->p *= 1.0 - c->tail_ymin * pow(c->tail_ymax / c->tail_ymin, uy);
}

/* Decays in flight before the ECAL front face (PDG 2024: c tau = 7.8045 m (pi), 3.7109 m (K),
 * 658.638 m (mu); BR(K -> mu nu) = 63.56%, BR(pi -> mu nu) = 99.988%). Simulated channels:
 * pi -> mu nu, K -> mu nu (two-body, isotropic in the rest frame) and mu -> e nu nu (Michel
 * spectrum dN/dx ~ x^2 (3 - 2x), x = 2 E_star / m_mu, isotropic: polarisation neglected); the other K
 * channels (36%) are not simulated: such a K is kept undecayed. The daughter leaves at the lab angle
 * p* sin(theta*)/p_d in a random azimuth and is transported from the decay point. Returns 1 and
 * fills the daughter's type, momentum, decay point and slopes if a simulated decay happened. */
typedef struct decay {
  int type;
  double p, z, x, y, sx, sy;
} decay;

static int decay_in_flight(const na64_sim *s, na64_rng *rng, const beam_particle *b, decay *d)
{
  static const double ctau[NA64_SIM_NPARTICLES] = {0.0, 780.45, 371.09, 0.0, 65863.8}; /* cm */
  if (!(ctau[b->type] > 0.0)) return 0;
  double u = na64_rng_uniform(rng), uc = na64_rng_uniform(rng), uphi = na64_rng_uniform(rng), ub = na64_rng_uniform(rng);
  double E = sqrt(b->p * b->p + b->m * b->m), gb = b->p / b->m, z = -gb * ctau[b->type] * log(u);
  if (z >= s->ecal.z_front) return 0;
  if (b->type == NA64_SIM_K && ub >= 0.6356) return 0; /* channels not simulated */
  double md = b->type == NA64_SIM_MU ? NA64_M_E : NA64_M_MU, Es, ps;
  if (b->type == NA64_SIM_MU) { /* Michel spectrum by accept-reject (maximum 1 at x = 1) */
    double x;
    do {
      x = na64_rng_uniform(rng);
    } while (na64_rng_uniform(rng) > x * x * (3.0 - 2.0 * x));
    Es = fmax(0.5 * x * b->m, md);
    ps = sqrt(Es * Es - md * md);
  } else { /* two-body: E_star = (M^2 + m^2)/(2M) */
    Es = (b->m * b->m + md * md) / (2.0 * b->m);
    ps = (b->m * b->m - md * md) / (2.0 * b->m);
  }
  double ct = 2.0 * uc - 1.0, st = sqrt(fmax(0.0, 1.0 - ct * ct)), g = E / b->m, beta = b->p / E;
  double Ed = g * (Es + beta * ps * ct), pd = sqrt(fmax(Ed * Ed - md * md, 1e-12)), th = ps * st / pd;
  d->type = b->type == NA64_SIM_MU ? NA64_SIM_E : NA64_SIM_MU;
  d->p = pd;
  d->z = z;
  double xz, sxz;
  sim_transport(s, b->q, b->p, b->x0, b->dx0, z, &xz, &sxz);
  d->x = xz;
  d->y = b->y0 + b->dy0 * z;
  d->sx = sxz + th * cos(2.0 * M_PI * uphi);
  d->sy = b->dy0 + th * sin(2.0 * M_PI * uphi);
  return 1;
}

static int counters_fire(const na64_sim *s, const beam_particle *b)
{
  for (int i = 0; i < s->ncounters; ++i) {
    double x = b->x0 + b->dx0 * s->z_counter[i], y = b->y0 + b->dy0 * s->z_counter[i];
    if (fabs(x) > s->counter_half[i][0] || fabs(y) > s->counter_half[i][1]) return 0;
  }
  return 1;
}

/* Moyal approximation of the Landau distribution (J.E. Moyal, Phil. Mag. 46 (1955) 263): lambda =
 * -ln(z^2), z standard normal; the MIP energy is scaled so that its mean is kept, with a relative
 * width w (ESTIMATE 0.1 for the thick sandwiches here). */
double sim_mip_draw(na64_rng *rng, double mean, double w)
{
  double z = na64_rng_gauss(rng);
  double lam = -log(z * z + 1e-300);
  return fmax(0.0, mean * (1.0 + w * (lam - 1.2704))); /* <lambda> = gamma_E + ln 2 */
}

/* Hadron-shower fractions between depths a < b (interaction lengths after the interaction). */
double sim_had_frac(double E, double a, double b)
{
  double lnE = log(fmax(E, 1.0)), tmax = 0.2 * lnE + 0.7, latt = pow(fmax(E, 1.0), 0.13);
  double alpha = 1.0 + tmax / latt; /* gamma profile with mode tmax and exponential tail latt */
  double pa = a > 0.0 ? gsl_sf_gamma_inc_P(alpha, a / latt) : 0.0;
  double pb = isinf(b) ? 1.0 : gsl_sf_gamma_inc_P(alpha, b / latt);
  return pb - pa;
}

/* Visible energy of the part `E` of a hadron shower of total energy `Etot` (f_em is a property of
 * the whole shower). */
static double had_visible(const na64_sim *s, na64_rng *rng, double E, double Etot, double e_over_h)
{
  if (!(E > 0.0)) return 0.0;
  double fem = 1.0 - pow(fmax(Etot, 1.0), 0.83 - 1.0);
  double v = E * (fem + (1.0 - fem) / e_over_h);
  return fmax(0.0, v + s->cfg.hcal_stochastic * sqrt(v) * na64_rng_gauss(rng));
}

/* The particle's line behind the ECAL: x(z) = x + sx (z - z0). */
typedef struct line {
  double x, y, sx, sy, z0;
} line;

static int line_cell(const sim_grid *g, const line *l)
{
  double zc = g->z_front + 0.5 * g->length;
  return sim_grid_cell(g, l->x + l->sx * (zc - l->z0), l->y + l->sy * (zc - l->z0));
}

static void add_hcal(na64_sim_event *ev, int m, int cell, double dep, double vis)
{
  ev->truth.true_hcal += dep;
  if (cell < 0) return; /* outside the module: lost */
  ev->hcal[m][cell] += vis;
  ev->truth.hcal += vis;
}

/* HCAL modules for a hadron shower of energy E already developed over t_sh interaction lengths
 * (E = 0: none), or for a crossing particle (mip = 1) that interacts with probability from the
 * HCAL interaction length if can_interact. Electromagnetic leakage of an e- shower: em = 1. */
static void hcal_response(const na64_sim *s, na64_rng *rng, const line *l, double E, double t_sh, int mip,
                          int can_interact, double p, int em, na64_sim_event *ev)
{
  double zint = can_interact ? -log(na64_rng_uniform(rng)) : INFINITY; /* interaction lengths into the HCAL */
  double acc = 0.0;
  for (int m = 0; m < s->nhcal; ++m) {
    const sim_grid *g = &s->hcal[m];
    int cell = line_cell(g, l);
    double len = g->length / s->hcal_lambda, dep = 0.0, vis = 0.0;
    if (em && E > 0.0) { /* EM leakage is absorbed in the first module */
      dep = E;
      vis = fmax(0.0, E + s->cfg.hcal_stochastic * sqrt(E) * na64_rng_gauss(rng));
      E = 0.0;
    } else if (E > 0.0) {
      dep = E * sim_had_frac(E, t_sh, t_sh + len);
      vis = had_visible(s, rng, dep, E, s->cfg.hcal_e_over_h);
      t_sh += len;
    } else if (mip) {
      double f = zint < acc + len ? (zint - acc) / len : 1.0;
      dep = f * s->hcal_mip * s->hcal_ehat;
      vis = f * sim_mip_draw(rng, s->hcal_mip, 0.1);
      if (f < 1.0) { /* interaction in this module: the shower starts here */
        mip = 0;
        E = p;
        t_sh = acc + len - zint;
        double d2 = E * sim_had_frac(E, 0.0, t_sh);
        dep += d2;
        vis += had_visible(s, rng, d2, E, s->cfg.hcal_e_over_h);
      }
    }
    add_hcal(ev, m, cell, dep, vis);
    acc += len;
  }
}

static void veto_response(const na64_sim *s, na64_rng *rng, const line *l, int nmip, na64_sim_event *ev)
{
  int cell = line_cell(&s->veto, l);
  for (int i = 0; i < nmip; ++i) {
    double e = sim_mip_draw(rng, s->veto_mip, 0.1);
    int seen = na64_rng_uniform(rng) < s->cfg.veto_efficiency;
    ev->truth.true_veto += e;
    if (cell < 0 || !seen) continue;
    ev->veto[cell] += e;
    ev->truth.veto += e;
  }
}

/* Hadron (may interact in the ECAL) or muon (never interacts) entering the ECAL. */
static void hadron_or_muon(const na64_sim *s, na64_rng *rng, const beam_particle *b, const line *l, int full,
                           na64_sim_event *ev)
{
  const int muon = b->type == NA64_SIM_MU;
  const double L = s->ecal.length;
  double zint = muon ? INFINITY : -log(na64_rng_uniform(rng)) * s->ecal_lambda; /* cm */
  int cell = sim_grid_cell(&s->ecal, l->x, l->y);
  double dep[2] = {0, 0}, vis[2] = {0, 0}, E_after = 0.0, t_sh = 0.0;
  double zsec[3] = {0.0, L * s->ecal_depth[0] / (s->ecal_depth[0] + s->ecal_depth[1]), L};
  for (int k = 0; k < 2; ++k) { /* MIP part up to the interaction point */
    double a = zsec[k], bnd = fmin(zsec[k + 1], zint);
    if (bnd <= a) continue;
    double f = (bnd - a) / (zsec[k + 1] - a);
    dep[k] += f * s->ecal_mip[k] * s->ecal_ehat;
    vis[k] += f * sim_mip_draw(rng, s->ecal_mip[k], 0.1);
  }
  if (zint < L) { /* hadronic interaction in the ECAL */
    ev->truth.process = NA64_SIM_PROC_HADRONIC;
    for (int k = 0; k < 2; ++k) {
      double a = fmax(zsec[k], zint), bnd = zsec[k + 1];
      if (bnd <= a) continue;
      double d = b->p * sim_had_frac(b->p, (a - zint) / s->ecal_lambda, (bnd - zint) / s->ecal_lambda);
      dep[k] += d;
      vis[k] += had_visible(s, rng, d, b->p, s->cfg.ecal_e_over_h);
    }
    t_sh = (L - zint) / s->ecal_lambda;
    E_after = b->p;
  }
  ev->truth.true_ps = dep[0];
  ev->truth.true_ecal = dep[0] + dep[1];
  ev->truth.ps = vis[0];
  ev->truth.ecal = vis[0] + vis[1];
  if (cell >= 0 && full) {
    ev->ecal[0][cell] = vis[0];
    ev->ecal[1][cell] = vis[1];
  }
  /* charged particles behind the ECAL: the muon or surviving hadron, or the shower leaking more
   * than 1 GeV behind it (ESTIMATE: one MIP) */
  double leak = E_after > 0.0 ? E_after * sim_had_frac(E_after, t_sh, INFINITY) : 0.0;
  int nmip = (E_after == 0.0 || leak > 1.0) ? 1 : 0;
  veto_response(s, rng, l, nmip, ev);
  hcal_response(s, rng, l, E_after, t_sh, E_after == 0.0, !muon && E_after == 0.0, b->p, 0, ev);
}

/* Electron: optional A' emission, EM shower(s), EM leakage into the HCAL. Returns 1, or 0 / -1 if
 * the fast trigger decision rejected the event for its pre-shower / ECAL energy (cells not filled;
 * the truth energies are those of the decision). */
static int electron(na64_sim_worker *w, na64_rng *rng, const beam_particle *b, const line *l, int full,
                    na64_sim_event *ev)
{
  const na64_sim *s = w->sim;
  double E = b->p, Es[2] = {E, 0}, t0[2] = {0, 0};
  int nsh = 1;
  if (s->ap_on && !b->tail) {
    if (na64_rng_uniform(rng) < s->ap_pemit) {
      double Eem, t, ea, th;
      sim_aprime_draw(w, rng, E, &Eem, &t, &ea, &th);
      ev->truth.process = NA64_SIM_PROC_APRIME;
      ev->truth.weight = 1.0 / s->cfg.aprime_bias;
      ev->truth.emit_depth = t;
      ev->truth.emit_energy = Eem;
      ev->truth.aprime_energy = ea;
      ev->truth.aprime_theta = th;
      /* the shower of the other particles (E - E_em) from the front, and the emitter's recoil
       * (E_em - E_A') from the emission depth: two parametrised showers */
      Es[0] = E - Eem;
      Es[1] = Eem - ea;
      t0[1] = t;
      nsh = 2;
      if (!(Es[0] > 1e-3)) {
        Es[0] = Es[1];
        t0[0] = t;
        nsh = 1;
      }
    } else {
      ev->truth.weight = (1.0 - s->ap_ptrue) / (1.0 - s->ap_pemit);
    }
  }
  double dep[2] = {0, 0}, vis[2] = {0, 0}, leak = 0.0;
  int kept = sim_ecal_em(s, Es, t0, nsh, l->x, l->y, l->sx, l->sy, rng, full, ev->ecal, dep, vis, &leak);
  ev->truth.true_ps = dep[0];
  ev->truth.true_ecal = dep[0] + dep[1];
  ev->truth.ps = vis[0];
  ev->truth.ecal = vis[0] + vis[1];
  if (kept < 1) return kept;
  /* longitudinal leakage only reaches the HCAL; lateral leakage is lost (docs/simulation.md) */
  hcal_response(s, rng, l, leak, 0.0, 0, 0, b->p, 1, ev);
  return 1;
}

static void trigger(const na64_sim *s, const beam_particle *b, na64_sim_event *ev)
{
  ev->truth.triggered = counters_fire(s, b) && ev->truth.ecal < s->cfg.trigger_ecal_max &&
                        ev->truth.ps > s->cfg.trigger_ps_min;
}

/* One beam particle into ev (zeroed by the caller): beam, decays, detectors, SRD. aprime = 0 for
 * pile-up particles. Returns 1 with everything filled, or 0 / -1 when the fast decision (full = 0)
 * rejected it for its pre-shower / ECAL energy. *bp receives the beam particle (for the counters). */
static int one_particle(na64_sim_worker *w, na64_rng *rng, int full, int aprime, na64_sim_event *ev, beam_particle *bp)
{
  const na64_sim *s = w->sim;
  na64_sim_truth *t = &ev->truth;
  t->weight = 1.0;
  t->emit_depth = t->emit_energy = t->aprime_theta = NAN;
  beam_particle b;
  draw_beam(s, rng, &b);
  if (!aprime) b.tail = 1; /* no A' emission */
  *bp = b;
  t->particle = b.type;
  t->energy = b.p;
  t->x0 = b.x0;
  t->y0 = b.y0;
  t->dxdz0 = b.dx0;
  t->dydz0 = b.dy0;
  double xe, sx, ye = b.y0 + b.dy0 * s->ecal.z_front, sy = b.dy0;
  decay dk;
  int decayed = b.type != NA64_SIM_E && decay_in_flight(s, rng, &b, &dk);
  t->daughter = -1;
  t->decay_z = t->daughter_energy = NAN;
  if (decayed) { /* from here on the daughter is the particle the detectors see (no A' emission) */
    t->process = NA64_SIM_PROC_DECAY;
    t->daughter = dk.type;
    t->daughter_energy = dk.p;
    t->decay_z = dk.z;
    b.type = dk.type;
    b.m = dk.type == NA64_SIM_E ? NA64_M_E : NA64_M_MU;
    b.p = dk.p;
    b.tail = 1;
    sim_transport_from(s, b.q, b.p, dk.z, dk.x, dk.sx, s->ecal.z_front, &xe, &sx);
    ye = dk.y + dk.sy * (s->ecal.z_front - dk.z);
    sy = dk.sy;
  } else {
    sim_transport(s, b.q, b.p, b.x0, b.dx0, s->ecal.z_front, &xe, &sx);
  }
  t->x = xe;
  t->y = ye;
  t->dxdz = sx;
  t->dydz = sy;
  line l = {xe, ye, sx, sy, s->ecal.z_front};
  int in_ecal = sim_grid_cell(&s->ecal, xe, ye) >= 0, kept = 1;
  if (!in_ecal) {
    if (!decayed) t->process = NA64_SIM_PROC_MISSED;
    veto_response(s, rng, &l, b.type == NA64_SIM_E ? 0 : 1, ev);
    hcal_response(s, rng, &l, b.type == NA64_SIM_E ? b.p : 0.0, 0.0, b.type != NA64_SIM_E,
                  b.type != NA64_SIM_E && b.type != NA64_SIM_MU, b.p, b.type == NA64_SIM_E, ev);
  } else if (b.type == NA64_SIM_E) {
    kept = electron(w, rng, &b, &l, full, ev);
  } else {
    hadron_or_muon(s, rng, &b, &l, 1, ev);
  }
  if (kept < 1) return kept;
  /* synchrotron radiation: after the trigger-relevant draws (it does not enter the trigger) */
  double emitted = 0.0, esrd = 0.0, srd[NA64_SIM_MAX_SRD] = {0};
  t->srd_photons = na64_sim_synchrotron(s, b.m, b.q, b.p, b.x0, b.dx0, rng, &emitted, &esrd, srd);
  t->true_srd = esrd;
  for (int m = 0; m < s->nsrd; ++m) {
    double v = srd[m] > 0.0 ? fmax(0.0, srd[m] + s->cfg.srd_stochastic * sqrt(srd[m]) * na64_rng_gauss(rng)) : 0.0;
    ev->srd[m] = v;
    t->srd += v;
  }
  return 1;
}

#define PILEUP_KEY 0xD1B54A32D192ED03ull
#define MAX_PILEUP 7

/* Add a pile-up particle's energies to the event. */
static void add_pileup(na64_sim_event *ev, const na64_sim_event *p)
{
  for (int k = 0; k < NA64_SIM_ECAL_SECTIONS; ++k)
    for (int i = 0; i < NA64_SIM_MAX_ECAL; ++i) ev->ecal[k][i] += p->ecal[k][i];
  for (int m = 0; m < NA64_SIM_MAX_HCAL; ++m)
    for (int i = 0; i < NA64_SIM_HCAL_CELLS; ++i) ev->hcal[m][i] += p->hcal[m][i];
  for (int i = 0; i < NA64_SIM_MAX_VETO; ++i) ev->veto[i] += p->veto[i];
  for (int i = 0; i < NA64_SIM_MAX_SRD; ++i) ev->srd[i] += p->srd[i];
  na64_sim_truth *t = &ev->truth;
  const na64_sim_truth *q = &p->truth;
  t->true_ecal += q->true_ecal;
  t->true_ps += q->true_ps;
  t->true_hcal += q->true_hcal;
  t->true_veto += q->true_veto;
  t->true_srd += q->true_srd;
  t->ecal += q->ecal;
  t->ps += q->ps;
  t->hcal += q->hcal;
  t->veto += q->veto;
  t->srd += q->srd;
}

int na64_sim_event_generate(na64_sim_worker *w, uint64_t seed, uint64_t event, int full, na64_sim_event *ev,
                            na64_err *err)
{
  if (!w || !ev) return na64_err_set(err, NA64_EINVAL, "na64_sim_event_generate: NULL argument");
  const na64_sim *s = w->sim;
  const na64_sim_config *c = &s->cfg;
  int npile = 0;
  if (c->intensity > 0.0 && c->pileup_window > 0.0) { /* Poisson count from its own stream, by inversion */
    na64_rng pr;
    na64_rng_init(&pr, seed ^ PILEUP_KEY, event * 8);
    double lam = c->intensity / c->spill_length * c->pileup_window * 1e-9, u = na64_rng_uniform(&pr);
    double pk = exp(-lam), F = pk;
    while (u > F && npile < MAX_PILEUP) {
      ++npile;
      pk *= lam / npile;
      F += pk;
    }
  }
  na64_rng rng;
  na64_rng_init(&rng, seed, event);
  memset(ev, 0, sizeof *ev);
  ev->truth.event = event;
  ev->truth.pileup = npile;
  beam_particle b;
  int kept = one_particle(w, &rng, full, 1, ev, &b);
  /* rejected on its pre-shower but other particles come in time: redo the event in full */
  if (kept == 0 && npile > 0) return na64_sim_event_generate(w, seed, event, 1, ev, err);
  if (kept == 1) {
    for (int j = 0; j < npile; ++j) {
      na64_sim_event p;
      na64_rng pr;
      na64_rng_init(&pr, seed ^ PILEUP_KEY, event * 8 + 1 + (uint64_t)j);
      memset(&p, 0, sizeof p);
      beam_particle pb;
      one_particle(w, &pr, 1, 0, &p, &pb);
      add_pileup(ev, &p);
    }
  }
  ev->has_cells = kept == 1;
  trigger(s, &b, ev);
  return NA64_OK;
}
