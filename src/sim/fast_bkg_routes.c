/*
 * Routes into the invisible-mode signal box of three Table 1 sources (docs/simulation.md, "Table 1
 * backgrounds"): the low-energy electron tail mis-measured as a beam electron, decays in flight to
 * an electron between the magnets and the ECAL, and the ECAL channel that gives no signal. Each
 * event forces its process and carries the exact probability per EOT as its weight.
 *
 * Inputs (PDG = Review of Particle Physics 2024):
 * - Bremsstrahlung, complete screening (PDG eq. 34.29): dN/dy = (t/X0) (4/3 - 4/3 y + y^2) / y per
 *   radiated fraction y. Only radiation inside the dipoles' field can put the event in the box: an
 *   electron that radiates upstream of the magnets is bent 38 cm off the ECAL (twice the 21 mrad of
 *   7 T m at 100 GeV over 18 m), one that radiates downstream brings its photon to the ECAL (E0 in
 *   total). Material inside the field: t = 0.3% X0 (ESTIMATE: two tracker planes' worth, 0.15% X0
 *   each, as the tracking validation in docs/validation.md, for windows and residual gas).
 * - Non-Gaussian momentum tail: a fraction f (card `backgrounds.tail.inefficiency`, default 1e-3,
 *   ESTIMATE: delta rays and hard scatters displacing a cluster) of the tracks is measured with a
 *   curvature resolution 10 times the core's (dp/p = 1%, NA64 report).
 * - Decays (PDG): c tau(pi) = 7.8045 m, c tau(K) = 3.7109 m, c tau(mu) = 658.64 m;
 *   BR(pi -> e nu) = 1.230e-4, BR(K -> e nu) = 1.582e-5, BR(K -> pi0 e nu) = 5.07%,
 *   BR(mu -> e nu nu) = 1; the Michel spectrum (unpolarised) 2 x^2 (3 - 2x) in the muon rest frame;
 *   K_e3 from its V-A Dalitz density (bkg_ke3_draw), pi0 -> gamma gamma isotropic.
 * - SRD tag of the decaying parent (it decays after the magnets: its own synchrotron radiation is
 *   what the SRD sees): pi-, K-: derived (fast_bkg.c, issue 11): their own SR in the SRD window
 *   (simulated), their knock-on electrons' SR (fast_bkg_knockon.c), the accidental tag by an
 *   in-time companion and the card's `decay.inefficiency`
 *   for what is not simulated; mu-: the accidental tag alone (fast_bkg.c, accidental_tag), the
 *   muon's own SR being (m_e/m_mu)^4 = 5.5e-10 of an electron's.
 * - The calorimeters see every e-m product: its shower in the ECAL cells (the selection's shape
 *   cut, fast_bkg_shape.c), and in the HCAL what misses the ECAL or leaks out of its sides
 *   (hcal_from_em): the HCAL's 60 x 60 cm face covers the ECAL, so a photon that misses the ECAL
 *   fires the HCAL.
 * - Longitudinal profile of the electron's shower for the pre-shower energy: the gamma profile of
 *   PDG eq. 34.35 with b = 0.5 and t_max = ln(E/E_c) - 0.5 (PDG eq. 34.36, electron-induced).
 */
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <string.h>

#include "sim/fast_bkg_internal.h"

#define T_MAGNET 0.003 /* X0 crossed inside the dipoles' field (ESTIMATE, see above) */
#define Y_MIN 0.3      /* radiated fractions sampled: below, the electron alone carries > 70 GeV (> 50 in the
                          * ECAL unless it hits within ~1 cm of the matrix edge, leaking > 20 GeV sideways
                          * into the HCAL) */
#define Y_MAX 0.99

/* The decays (PDG): pi- -> e nu, K- -> e nu, K- -> pi0 e nu (K_e3), mu- -> e nu nu: parent masses
 * (GeV), c tau (cm), BR */
enum { PIE2 = 0, KE2, KE3, MUON, NDECAY };
static const double mass[NDECAY] = {0.13957039, 0.493677, 0.493677, NA64_M_MU};
static const double ctau[NDECAY] = {780.45, 371.09, 371.09, 65863.8};
static const double br[NDECAY] = {1.230e-4, 1.582e-5, 0.0507, 1.0};

double bkg_em_frac_before(const na64_sim *s, double E, double t)
{
  if (t <= 0.0 || E <= 0.0) return 0.0;
  const double b = 0.5;
  double tmax = fmax(log(E / s->ecal_mat.E_c) - 0.5, 0.0), a = b * tmax + 1.0;
  return gsl_sf_gamma_inc_P(a, b * t);
}

/* Fraction of an EM shower whose axis hits the ECAL face at (x, y) contained in the matrix
 * laterally: the one-dimensional marginals of the radial density R^2/(pi (r^2 + R^2)^2)
 * (Grindhammer-Peters core term, hep-ex/0001020 eq. 13) with R = one Moliere radius (ESTIMATE: a
 * single term), integrated over the face in x and in y. */
double bkg_ecal_contained(const na64_sim *s, double x, double y)
{
  const sim_grid *g = &s->ecal;
  double R = s->ecal_rm, u[2] = {g->x_lo - x, g->x_lo + g->nx * g->px - x}, v[2] = {g->y_lo - y, g->y_lo + g->ny * g->py - y};
  double fx = 0.5 * (u[1] / hypot(u[1], R) - u[0] / hypot(u[0], R));
  double fy = 0.5 * (v[1] / hypot(v[1], R) - v[0] / hypot(v[0], R));
  return fx * fy;
}

/* Upper estimate of the ECAL energy of e-m particles (lateral containment of each axis): a cheap
 * pre-selection. Events above E_PRESEL cannot fall below the 50 GeV box (the ECAL resolution at 50
 * GeV is 0.7 GeV: 7 sigma) and skip the cell-level showers. */
#define E_PRESEL 55.0
static double contained_sum(const na64_sim *s, int n, const bkg_em *p)
{
  double e = 0.0;
  for (int i = 0; i < n; ++i) e += p[i].E * bkg_ecal_contained(s, p[i].x, p[i].y);
  return e;
}

/* Energy the e-m particles bring to the HCAL past the ECAL (transverse hermeticity): a particle
 * whose axis misses the ECAL matrix showers in the first HCAL module if its axis crosses that
 * module's face (the HCAL, 60 x 60 cm, covers the 23 x 23 cm ECAL with margins); the lateral
 * leakage of a shower in the ECAL leaves through its sides, and a share F_SIDE of it reaches the
 * HCAL face 1 m downstream (ESTIMATE: the leakage is soft, wide-angle shower particles; those
 * within ~0.2 rad of the axis reach the face). E-m energy is seen at the HCAL's e-m scale with its
 * stochastic term. */
#define F_SIDE 0.5
static double hcal_from_em(const na64_sim *s, na64_rng *rng, int n, const bkg_em *p)
{
  if (s->nhcal < 1) return 0.0;
  const sim_grid *h = &s->hcal[0];
  double e = 0.0, dz = h->z_front - s->ecal.z_front;
  for (int i = 0; i < n; ++i) {
    double xh = p[i].x + p[i].dx * dz, yh = p[i].y + p[i].dy * dz;
    if (xh < h->x_lo || xh > h->x_lo + h->nx * h->px || yh < h->y_lo || yh > h->y_lo + h->ny * h->py) continue;
    double lost = p[i].E * (1.0 - bkg_ecal_contained(s, p[i].x, p[i].y));
    e += sim_grid_cell(&s->ecal, p[i].x, p[i].y) >= 0 ? F_SIDE * lost : lost;
  }
  return e > 0.0 ? fmax(0.0, e + s->cfg.hcal_stochastic * sqrt(e) * na64_rng_gauss(rng)) : 0.0;
}

/* The calorimeter part of the box for e-m particles at the ECAL face: E_HCAL < 1 GeV (above),
 * then their showers in the ECAL cells: E_ECAL < 50 GeV, pre-shower above the trigger threshold
 * and the selection's shower-shape cut. */
static int calo_box(const bkg *k, na64_rng *rng, int n, const bkg_em *p)
{
  const na64_sim *s = k->s;
  double e = contained_sum(s, n, p);
  if (!(e > 0.0 && e < E_PRESEL)) return 0;
  if (!(hcal_from_em(s, rng, n, p) < BOX_HCAL)) return 0;
  double cells[NA64_SIM_ECAL_SECTIONS][NA64_SIM_MAX_ECAL], vis[2];
  bkg_ecal_showers(s, rng, n, p, cells, vis);
  if (!(vis[0] + vis[1] < BOX_ECAL && vis[0] > s->cfg.trigger_ps_min)) return 0;
  return bkg_shape_pass(s, k->shape, cells);
}

/* The dipoles' total field length (cm) and the position z of the point at field length u from the
 * entrance of the first (the magnets' fields placed end to end, field-free gaps skipped). */
static double field_length(const na64_sim *s)
{
  double Lf = 0.0;
  for (int i = 0; i < s->nmag; ++i) Lf += s->mag[i].z_out - s->mag[i].z_in;
  return Lf;
}

static double field_z(const na64_sim *s, double u)
{
  double z = s->mag[0].z_in;
  for (int i = 0; i < s->nmag; ++i) {
    double l = s->mag[i].z_out - s->mag[i].z_in;
    z = s->mag[i].z_in + fmin(u, l);
    if (u <= l) break;
    u -= l;
  }
  return z;
}

/* A 100 GeV electron radiating a fraction y at depth z inside the dipoles' field: the electron
 * bends more from z on, the photon goes straight; the ECAL sees the showers of both (cells, shape
 * cut), the spectrometer measures the total bend (upstream slope 0, downstream slope of the
 * electron: p_m = E0 x bend(E0) / bend). */
double bkg_ev_tail(const bkg *k, na64_rng *rng)
{
  const na64_sim *s = k->s;
  const na64_sim_config *c = &s->cfg;
  if (s->nmag == 0) return 0.0;
  double E0 = c->beam_energy, zE = s->ecal.z_front, Lf = field_length(s);
  /* depth: uniform over the field length; y: uniform in [Y_MIN, Y_MAX] */
  double z = field_z(s, Lf * na64_rng_uniform(rng));
  double y = Y_MIN + (Y_MAX - Y_MIN) * na64_rng_uniform(rng);
  double w = T_MAGNET * (4.0 / 3.0 - 4.0 / 3.0 * y + y * y) / y * (Y_MAX - Y_MIN); /* PDG eq. 34.29 */
  double x, dx, xe, dxe, xn, dxn;
  sim_transport(s, -1.0, E0, 0.0, 0.0, z, &x, &dx);
  sim_transport_from(s, -1.0, (1.0 - y) * E0, z, x, dx, zE, &xe, &dxe);
  sim_transport(s, -1.0, E0, 0.0, 0.0, zE, &xn, &dxn);
  if (dxe == 0.0) return 0.0;
  double Ee = (1.0 - y) * E0, pm = E0 * dxn / dxe; /* measured momentum */
  w *= bkg_p_momentum(E0, pm, k->ineff);
  if (!(w > 0.0)) return 0.0;
  const bkg_em p[2] = {{Ee, xe, 0.0, dxe, 0.0}, {y * E0, x + dx * (zE - z), 0.0, dx, 0.0}};
  if (!calo_box(k, rng, 2, p)) return 0.0;
  /* SR: the electron radiated in the field before z at E0 and after it at Ee: the SRD sees at least
   * that of Ee (drawn at Ee: a lower bound on the tag probability, the window is 1-500 MeV) */
  return w * bkg_srd_factor(bkg_electron_srd(s, rng, Ee), 1);
}

/* Electron energy and angle of a decay in flight of a parent of mass m, momentum p: two-body
 * (pi, K -> e nu) or the Michel spectrum (mu -> e nu nu). */
static void decay_electron(na64_rng *rng, double m, double p, int michel, double *Ee, double *theta)
{
  double Es, ps;
  if (michel) { /* accept-reject on 2 x^2 (3 - 2x) / 2, maximum 1 at x = 1 */
    double x;
    do {
      x = na64_rng_uniform(rng);
    } while (na64_rng_uniform(rng) > x * x * (3.0 - 2.0 * x));
    Es = fmax(0.5 * x * m, NA64_M_E);
    ps = sqrt(Es * Es - NA64_M_E * NA64_M_E);
  } else {
    Es = (m * m + NA64_M_E * NA64_M_E) / (2.0 * m);
    ps = (m * m - NA64_M_E * NA64_M_E) / (2.0 * m);
  }
  double E = sqrt(p * p + m * m), g = E / m, beta = p / E, ct = 2.0 * na64_rng_uniform(rng) - 1.0;
  double st = sqrt(fmax(0.0, 1.0 - ct * ct));
  *Ee = g * (Es + beta * ps * ct);
  *theta = ps * st / sqrt(fmax(*Ee * *Ee - NA64_M_E * NA64_M_E, 1e-12));
}

/* K_e3 (PDG: K- -> pi0 e- nu, BR 5.07%) in the kaon rest frame: the V-A Dalitz density with the
 * vector form factor only (the scalar one enters with m_e^2, negligible), massless e and nu
 * (PDG Review "Form factors for radiative pion and kaon decays" / K_l3 section, rho(E_pi, E_l) ~
 * f+^2(t) A with A = m_K (2 E_e E_nu - m_K E'_pi), E'_pi = E_pi^max - E_pi) and the linear form
 * factor f+(t) = 1 + lambda_+ t / m_pi+^2, lambda_+ = 0.0297 (PDG K+- e3 average), t = (p_K - p_pi)^2.
 * Accept-reject on the rectangle E_e in [0, (m_K^2 - m_pi^2) / 2 m_K], E_pi in [m_pi, E_pi^max];
 * returns E_e, E_pi and the cosine of the e-pi angle (momentum balance with the neutrino). */
#define M_KPM 0.493677
#define M_PI0 0.1349768
#define M_PIPM 0.13957039
#define LAMBDA_PLUS 0.0297
void bkg_ke3_draw(na64_rng *rng, double *Ee, double *Epi, double *cos_epi)
{
  const double mk = M_KPM, mp = M_PI0, emax = (mk * mk - mp * mp) / (2.0 * mk), pimax = (mk * mk + mp * mp) / (2.0 * mk);
  /* bound of f+^2 A: 2 m_K E_e E_nu <= m_K (m_K - m_pi)^2 / 2, f+ at t_max = (m_K - m_pi)^2 */
  const double fmx = 1.0 + LAMBDA_PLUS * (mk - mp) * (mk - mp) / (M_PIPM * M_PIPM);
  const double bound = fmx * fmx * mk * (mk - mp) * (mk - mp) / 2.0;
  for (;;) {
    double e = emax * na64_rng_uniform(rng), ep = mp + (pimax - mp) * na64_rng_uniform(rng), en = mk - e - ep;
    double pp = sqrt(fmax(ep * ep - mp * mp, 0.0));
    if (en < 0.0 || pp > e + en || pp < fabs(e - en)) continue; /* outside the Dalitz plot */
    double t = mk * mk + mp * mp - 2.0 * mk * ep, f = 1.0 + LAMBDA_PLUS * t / (M_PIPM * M_PIPM);
    double rho = f * f * mk * (2.0 * e * en - mk * (pimax - ep));
    if (na64_rng_uniform(rng) * bound > rho) continue;
    *Ee = e;
    *Epi = ep;
    *cos_epi = e > 0.0 && pp > 0.0 ? fmax(-1.0, fmin(1.0, (en * en - e * e - pp * pp) / (2.0 * e * pp))) : 1.0;
    return;
  }
}

void na64_sim_bkg_ke3_draw(na64_rng *rng, double *e_energy, double *pi_energy, double *cos_epi)
{
  bkg_ke3_draw(rng, e_energy, pi_energy, cos_epi);
}

/* Lorentz boost of the four-vector v = (E, p) by the velocity b (|b| < 1). */
static void boost(const double b[3], double v[4])
{
  double b2 = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
  if (!(b2 > 0.0)) return;
  double g = 1.0 / sqrt(1.0 - b2), bp = b[0] * v[1] + b[1] * v[2] + b[2] * v[3], c = (g - 1.0) * bp / b2 + g * v[0];
  for (int i = 0; i < 3; ++i) v[i + 1] += c * b[i];
  v[0] = g * (v[0] + bp);
}

static void random_dir(na64_rng *rng, double n[3])
{
  double ct = 2.0 * na64_rng_uniform(rng) - 1.0, st = sqrt(fmax(0.0, 1.0 - ct * ct)), ph = 2.0 * M_PI * na64_rng_uniform(rng);
  n[0] = st * cos(ph);
  n[1] = st * sin(ph);
  n[2] = ct;
}

/* The e-m products of a K_e3 decay of a kaon of momentum p along z: the electron and the two
 * photons of pi0 -> gamma gamma (isotropic in the pi0 frame), as lab four-vectors. */
static void ke3_products(na64_rng *rng, double p, double v[3][4])
{
  double Ee, Ep, cep, ne[3], a[3], b[3];
  bkg_ke3_draw(rng, &Ee, &Ep, &cep);
  random_dir(rng, ne);
  /* a, b: orthonormal to ne; the pion at angle acos(cep) from the electron, azimuth uniform */
  double h[3] = {fabs(ne[0]) < 0.9 ? 1.0 : 0.0, fabs(ne[0]) < 0.9 ? 0.0 : 1.0, 0.0};
  a[0] = h[1] * ne[2] - h[2] * ne[1], a[1] = h[2] * ne[0] - h[0] * ne[2], a[2] = h[0] * ne[1] - h[1] * ne[0];
  double na = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
  for (int i = 0; i < 3; ++i) a[i] /= na;
  b[0] = ne[1] * a[2] - ne[2] * a[1], b[1] = ne[2] * a[0] - ne[0] * a[2], b[2] = ne[0] * a[1] - ne[1] * a[0];
  double ps = sqrt(fmax(Ep * Ep - M_PI0 * M_PI0, 0.0)), sp = sqrt(fmax(0.0, 1.0 - cep * cep));
  double psi = 2.0 * M_PI * na64_rng_uniform(rng), bpi[3], g[3];
  for (int i = 0; i < 3; ++i) {
    double npi = cep * ne[i] + sp * (cos(psi) * a[i] + sin(psi) * b[i]);
    v[0][i + 1] = Ee * ne[i];
    bpi[i] = ps * npi / Ep;
  }
  v[0][0] = Ee;
  random_dir(rng, g);
  for (int j = 0; j < 2; ++j) {
    double sg = j ? -1.0 : 1.0;
    v[1 + j][0] = 0.5 * M_PI0;
    for (int i = 0; i < 3; ++i) v[1 + j][i + 1] = sg * 0.5 * M_PI0 * g[i];
    boost(bpi, v[1 + j]);
  }
  double E = sqrt(p * p + M_KPM * M_KPM), bk[3] = {0.0, 0.0, p / E};
  for (int j = 0; j < 3; ++j) boost(bk, v[j]);
}

/* pi-, K- (two species: e nu and K_e3) or mu- of the beam (one drawn uniformly, weight 4 x its
 * admixture) decaying to an electron between the last magnet and the ECAL (position uniform,
 * weight = exact decay density x length x BR); the e-m products shower in the ECAL (cells, shape
 * cut); the parent's momentum is measured: the SRD tag is the hadron's derived tag (k->tag_had: own
 * SR, knock-ons, accidental, card `decay.inefficiency`) or, for a muon, the accidental tag (k->p_acc). */
double bkg_ev_decay(const bkg *k, na64_rng *rng)
{
  const na64_sim *s = k->s;
  const na64_sim_config *c = &s->cfg;
  const double frac[NDECAY] = {c->frac_pi, c->frac_k, c->frac_k, c->frac_mu};
  int i = (int)(NDECAY * na64_rng_uniform(rng));
  if (i > NDECAY - 1) i = NDECAY - 1;
  double p = c->beam_energy * (1.0 + c->momentum_spread * na64_rng_gauss(rng));
  double za = s->nmag > 0 ? s->mag[s->nmag - 1].z_out : 0.0, zb = s->ecal.z_front, L = zb - za;
  double lam = p / mass[i] * ctau[i], z = za + L * na64_rng_uniform(rng);
  double w = NDECAY * frac[i] * br[i] * L / lam * exp(-z / lam);
  if (!(w > 0.0)) return 0.0;
  double x, dx;
  sim_transport(s, -1.0, p, 0.0, 0.0, z, &x, &dx);
  bkg_em em[3];
  int n = 0;
  if (i == KE3) {
    double v[3][4];
    ke3_products(rng, p, v);
    for (int j = 0; j < 3; ++j) {
      if (!(v[j][3] > 0.0)) continue; /* going backwards: never reaches the ECAL */
      double tx = v[j][1] / v[j][3], ty = v[j][2] / v[j][3];
      em[n++] = (bkg_em){v[j][0], x + (dx + tx) * (zb - z), ty * (zb - z), dx + tx, ty};
    }
  } else {
    double Ee, th, phi = 2.0 * M_PI * na64_rng_uniform(rng);
    decay_electron(rng, mass[i], p, i == MUON, &Ee, &th);
    double tx = th * cos(phi), ty = th * sin(phi);
    em[n++] = (bkg_em){Ee, x + (dx + tx) * (zb - z), ty * (zb - z), dx + tx, ty};
  }
  if (!calo_box(k, rng, n, em)) return 0.0;
  return w * bkg_p_momentum(c->beam_energy, p, 0.0) * (i == MUON ? k->p_acc : k->tag_had[i == PIE2 ? 0 : 1]);
}

/* mu- -> e- nu nubar inside the dipoles' field (issue 10): the upstream tracker measures the muon,
 * the electron takes over at the decay point z with its Michel energy (PDG: unpolarised spectrum
 * 2 x^2 (3 - 2x); c tau(mu) = 658.64 m) and bends more from there on, so the spectrometer measures
 * p_m = E0 bend(E0) / bend, too low unless the decay happens in the last few per cent of the field
 * (an electron of E_e <= E0/2 bends at least twice as much behind z). The electron's synchrotron
 * radiation behind z (sim_synchrotron_from) tags the SRD, else the muon's accidental tag (k->p_acc).
 * Sampling: the field length f behind z (fraction of the total) from g(f) = MU_P_NEAR / MU_F_NEAR
 * on [0, MU_F_NEAR) plus (1 - MU_P_NEAR) on [0, 1] (defensive importance sampling: exact weights
 * 1/g over the whole field); the momentum window with the tracker's Gaussian core and its
 * non-Gaussian tail (the fraction `backgrounds.tail.inefficiency`, as the tail route). Decays in
 * the field-free gap between the dipoles or upstream of them leave the whole last dipole to the
 * electron (>= 50% too much bend: 50 core and 5 tail standard deviations off the window) and are
 * not sampled; decays behind the last dipole are the decay route's. */
#define MU_F_NEAR 0.1
#define MU_P_NEAR 0.8
double bkg_ev_mu_field(const bkg *k, na64_rng *rng)
{
  const na64_sim *s = k->s;
  const na64_sim_config *c = &s->cfg;
  if (s->nmag == 0 || !(c->frac_mu > 0.0)) return 0.0;
  double E0 = c->beam_energy, zE = s->ecal.z_front, Lf = field_length(s);
  double f = na64_rng_uniform(rng) < MU_P_NEAR ? MU_F_NEAR * na64_rng_uniform(rng) : na64_rng_uniform(rng);
  double g = (f < MU_F_NEAR ? MU_P_NEAR / MU_F_NEAR : 0.0) + (1.0 - MU_P_NEAR);
  double z = field_z(s, (1.0 - f) * Lf);
  double p = E0 * (1.0 + c->momentum_spread * na64_rng_gauss(rng)), lam = p / mass[MUON] * ctau[MUON];
  double w = c->frac_mu * Lf / lam * exp(-z / lam) / g; /* decay density x field length / g */
  double Ee, th, phi = 2.0 * M_PI * na64_rng_uniform(rng);
  decay_electron(rng, mass[MUON], p, 1, &Ee, &th);
  double tx = th * cos(phi), ty = th * sin(phi), x, dx, xe, dxe, xn, dxn;
  sim_transport(s, -1.0, p, 0.0, 0.0, z, &x, &dx);
  sim_transport_from(s, -1.0, Ee, z, x, dx + tx, zE, &xe, &dxe);
  sim_transport(s, -1.0, E0, 0.0, 0.0, zE, &xn, &dxn);
  if (dxe == 0.0) return 0.0;
  w *= bkg_p_momentum(E0, E0 * dxn / dxe, c->bkg_ineff[NA64_SIM_BKG_TAIL]);
  if (!(w > 0.0)) return 0.0;
  const bkg_em em = {Ee, xe, ty * (zE - z), dxe, ty};
  if (!calo_box(k, rng, 1, &em)) return 0.0;
  double emitted = 0.0, esrd = 0.0, srd[NA64_SIM_MAX_SRD] = {0};
  sim_synchrotron_from(s, NA64_M_E, -1.0, Ee, z, x, dx + tx, rng, &emitted, &esrd, srd);
  return w * (esrd > SRD_MIN && esrd < SRD_MAX ? 1.0 : k->p_acc);
}

/* Probability per EOT that a beam muon decays inside the dipoles' field (the muon-in-field part of
 * the decay route's forced process). */
static double mu_field_prob(const na64_sim *s)
{
  const na64_sim_config *c = &s->cfg;
  double lam = c->beam_energy / mass[MUON] * ctau[MUON];
  return s->nmag > 0 ? c->frac_mu * field_length(s) / lam : 0.0;
}

/* Cracks between ECAL cells (issue 10, Table 1 "hermeticity, holes, cracks"): a dead gap of width
 * w (card `backgrounds.detector.crack`; 0 in the conditions DB, whose cells are contiguous) along
 * every boundary between two cells. A shower whose axis enters the matrix at distance d from a
 * boundary loses the energy its lateral profile puts into the gap: with the one-dimensional
 * marginal of the radial density R^2/(pi (r^2 + R^2)^2) (as bkg_ecal_contained: Grindhammer-Peters
 * core term, hep-ex/0001020 eq. 13, R = one Moliere radius, ESTIMATE: a single term), whose
 * cumulative is M(u) = (1 + u / sqrt(u^2 + R^2)) / 2, the share M(d + w/2) - M(d - w/2) per
 * boundary. The x and y boundaries lose independently (1 - (1 - fx)(1 - fy)). A shower centred on
 * a gap loses (w/2) / sqrt((w/2)^2 + R^2): half its energy only for w >= 2 R / sqrt(3). An electron
 * entering inside the gap (|d| < w/2) with the beam's divergence stays in it over the ECAL's length
 * (1e-4 rad x 45 cm = 45 um) and showers behind the ECAL: in the HCAL, whose face covers the ECAL,
 * so it is never in the box. Returns the lost fraction, or -1 for an electron inside a gap. */
static double crack_loss_1d(double lo, double pitch, int n, double u, double w, double R)
{
  double f = 0.0;
  for (int b = 1; b < n; ++b) { /* the n - 1 inner boundaries */
    double d = u - (lo + b * pitch);
    if (fabs(d) < 0.5 * w) return -1.0;
    double a = d + 0.5 * w, c = d - 0.5 * w;
    f += 0.5 * (a / hypot(a, R) - c / hypot(c, R));
  }
  return fmin(f, 1.0);
}

double bkg_crack_loss(const na64_sim *s, double x, double y, double w)
{
  const sim_grid *g = &s->ecal;
  if (!(w > 0.0)) return 0.0;
  double fx = crack_loss_1d(g->x_lo, g->px, g->nx, x, w, s->ecal_rm);
  double fy = crack_loss_1d(g->y_lo, g->py, g->ny, y, w, s->ecal_rm);
  if (fx < 0.0 || fy < 0.0) return -1.0;
  return 1.0 - (1.0 - fx) * (1.0 - fy);
}

double na64_sim_bkg_crack_loss(const na64_sim *s, double x, double y, double w, double *moliere)
{
  if (moliere) *moliere = s->ecal_rm;
  return bkg_crack_loss(s, x, y, w);
}

/* The nominal electron of ev in the box: as generated, or (crack > 0) as the cracks leave it: the
 * event's ECAL energies scaled by (1 - loss) (the lost energy stays in dead material), the cells
 * likewise, so the shape cut sees the same fractions; the box probabilities (bkg_box_truth). */
static double nominal_term(const bkg *k, const na64_sim_event *ev)
{
  const na64_sim *s = k->s;
  na64_sim_truth t = ev->truth;
  if (s->cfg.bkg_crack > 0.0) {
    double loss = bkg_crack_loss(s, t.x, t.y, s->cfg.bkg_crack);
    if (loss < 0.0) return 0.0; /* inside a gap: showers in the HCAL */
    t.ecal *= 1.0 - loss;
    t.ps *= 1.0 - loss;
  }
  double w = bkg_box_truth(s, &t); /* without cracks: the resolution tail itself (Gaussian: ~0) */
  return w > 0.0 && bkg_shape_pass(s, k->shape, ev->ecal) ? w : 0.0;
}

/* A nominal electron event (cells filled) in which one ECAL channel gives no signal, each with the
 * card's probability per event (conditional Monte Carlo over the channels); w0 = P(nominal e-).
 * The event must also pass the shower-shape cut with the channel missing (the cells the
 * selection sees). The dropout is computed without cracks (both rare: their overlap is
 * negligible). */
double bkg_ev_detector(const bkg *k, const na64_sim_event *ev, double w0)
{
  const na64_sim *s = k->s;
  double w = nominal_term(k, ev);
  int ncell = s->ecal.nx * s->ecal.ny;
  for (int sec = 0; sec < NA64_SIM_ECAL_SECTIONS && ev->has_cells; ++sec)
    for (int i = 0; i < ncell; ++i) {
      double ch = ev->ecal[sec][i];
      if (ch <= 0.0) continue;
      na64_sim_truth t = ev->truth;
      t.ecal -= ch;
      if (sec == 0) t.ps -= ch;
      double wb = bkg_box_truth(s, &t);
      if (!(wb > 0.0)) continue;
      double cells[NA64_SIM_ECAL_SECTIONS][NA64_SIM_MAX_ECAL];
      memcpy(cells, ev->ecal, sizeof cells);
      cells[sec][i] = 0.0;
      if (bkg_shape_pass(s, k->shape, cells)) w += k->ineff * wb;
    }
  return w0 * w;
}

/* Probability per EOT of the forced process of the tail (y > 1/2) and decay routes. */
double bkg_route_prob(const bkg *k, int source)
{
  const na64_sim *s = k->s;
  const na64_sim_config *c = &s->cfg;
  if (source == NA64_SIM_BKG_TAIL) {
    /* integral of (4/3 - 4/3 y + y^2)/y over [Y_MIN, Y_MAX] */
    return T_MAGNET * (4.0 / 3.0 * log(Y_MAX / Y_MIN) - 4.0 / 3.0 * (Y_MAX - Y_MIN) + 0.5 * (Y_MAX * Y_MAX - Y_MIN * Y_MIN));
  }
  const double frac[NDECAY] = {c->frac_pi, c->frac_k, c->frac_k, c->frac_mu};
  double za = s->nmag > 0 ? s->mag[s->nmag - 1].z_out : 0.0, zb = s->ecal.z_front, p = 0.0;
  for (int i = 0; i < NDECAY; ++i) {
    double lam = c->beam_energy / mass[i] * ctau[i];
    p += frac[i] * br[i] * (exp(-za / lam) - exp(-zb / lam));
  }
  return p + mu_field_prob(s);
}
