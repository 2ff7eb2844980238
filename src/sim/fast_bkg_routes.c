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
 *   BR(pi -> e nu) = 1.230e-4, BR(K -> e nu) = 1.582e-5, BR(mu -> e nu nu) = 1; the Michel spectrum
 *   (unpolarised) 2 x^2 (3 - 2x) in the muon rest frame.
 * - Longitudinal profile of the electron's shower for the pre-shower energy: the gamma profile of
 *   PDG eq. 34.35 with b = 0.5 and t_max = ln(E/E_c) - 0.5 (PDG eq. 34.36, electron-induced).
 */
#include <gsl/gsl_sf_gamma.h>
#include <math.h>

#include "sim/fast_bkg_internal.h"

#define T_MAGNET 0.003 /* X0 crossed inside the dipoles' field (ESTIMATE, see above) */
#define Y_MIN 0.3      /* radiated fractions sampled: below, the electron alone carries > 70 GeV (> 50 in the
                          * ECAL unless it hits within ~1 cm of the matrix edge, which the shape condition rejects) */
#define Y_MAX 0.99

/* pi-, K-, mu- (PDG): masses (GeV), c tau (cm), BR to an electron */
static const double mass[3] = {0.13957039, 0.493677, NA64_M_MU};
static const double ctau[3] = {780.45, 371.09, 65863.8};
static const double br[3] = {1.230e-4, 1.582e-5, 1.0};

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

/* The selection's lateral shower-shape condition (NA64 report: "ECAL lateral shape consistent with
 * a signal shower"), as its simplest proxy: every shower axis carrying a visible share of the
 * energy hits the cell the nominal beam hits (ESTIMATE; NA64's cut compares the cell energies
 * with an electron's). */
int bkg_central_cell(const na64_sim *s, double x, double y)
{
  double xn, dxn;
  sim_transport(s, -1.0, s->cfg.beam_energy, 0.0, 0.0, s->ecal.z_front, &xn, &dxn);
  int c = sim_grid_cell(&s->ecal, x, y);
  return c >= 0 && c == sim_grid_cell(&s->ecal, xn, 0.0);
}

/* A 100 GeV electron radiating a fraction y at depth z inside the dipoles' field: the electron
 * bends more from z on, the photon goes straight; the ECAL sees what of each lands on it (lateral
 * containment), the spectrometer measures the total bend (upstream slope 0, downstream slope of
 * the electron: p_m = E0 x bend(E0) / bend). */
double bkg_ev_tail(const bkg *k, na64_rng *rng)
{
  const na64_sim *s = k->s;
  const na64_sim_config *c = &s->cfg;
  if (s->nmag == 0) return 0.0;
  double E0 = c->beam_energy, zE = s->ecal.z_front, Lf = 0.0;
  for (int i = 0; i < s->nmag; ++i) Lf += s->mag[i].z_out - s->mag[i].z_in;
  /* depth: uniform over the field length; y: uniform in [Y_MIN, Y_MAX] */
  double u = Lf * na64_rng_uniform(rng), z = s->mag[0].z_in;
  for (int i = 0; i < s->nmag; ++i) {
    double l = s->mag[i].z_out - s->mag[i].z_in;
    z = s->mag[i].z_in + fmin(u, l);
    if (u <= l) break;
    u -= l;
  }
  double y = Y_MIN + (Y_MAX - Y_MIN) * na64_rng_uniform(rng);
  double w = T_MAGNET * (4.0 / 3.0 - 4.0 / 3.0 * y + y * y) / y * (Y_MAX - Y_MIN); /* PDG eq. 34.29 */
  double x, dx, xe, dxe, xn, dxn;
  sim_transport(s, -1.0, E0, 0.0, 0.0, z, &x, &dx);
  sim_transport_from(s, -1.0, (1.0 - y) * E0, z, x, dx, zE, &xe, &dxe);
  sim_transport(s, -1.0, E0, 0.0, 0.0, zE, &xn, &dxn);
  double xg = x + dx * (zE - z), Ee = (1.0 - y) * E0;
  double ce = bkg_ecal_contained(s, xe, 0.0), cg = bkg_ecal_contained(s, xg, 0.0);
  double e = Ee * ce + y * E0 * cg;
  double ecal = fmax(0.0, e + c->ecal_stochastic * sqrt(e) * na64_rng_gauss(rng));
  double ps = Ee * ce * bkg_em_frac_before(s, Ee, s->ecal_depth[0]) + y * E0 * cg * bkg_em_frac_before(s, y * E0, s->ecal_depth[0]);
  /* one shower: each of the two carrying > 5% of the ECAL energy must hit the central cell */
  int shape = (Ee * ce <= 0.05 * e || bkg_central_cell(s, xe, 0.0)) && (y * E0 * cg <= 0.05 * e || bkg_central_cell(s, xg, 0.0));
  if (!(ecal < BOX_ECAL && ps > c->trigger_ps_min && shape) || dxe == 0.0) return 0.0;
  double pm = E0 * dxn / dxe; /* measured momentum */
  /* SR: the electron radiated in the field before z at E0 and after it at Ee: the SRD sees at least
   * that of Ee (drawn at Ee: a lower bound on the tag probability, the window is 1-500 MeV) */
  return w * bkg_p_momentum(E0, pm, k->ineff) * bkg_srd_factor(bkg_electron_srd(s, rng, Ee), 1);
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

/* pi-, K- or mu- of the beam (one drawn uniformly, weight 3 x its admixture) decaying to an
 * electron between the last magnet and the ECAL (position uniform, weight = exact decay density
 * x length x BR); the parent's momentum is measured, it has no synchrotron radiation (SRD tag 1e-3). */
double bkg_ev_decay(const bkg *k, na64_rng *rng)
{
  const na64_sim *s = k->s;
  const na64_sim_config *c = &s->cfg;
  const double frac[3] = {c->frac_pi, c->frac_k, c->frac_mu};
  int i = (int)(3.0 * na64_rng_uniform(rng));
  if (i > 2) i = 2;
  double p = c->beam_energy * (1.0 + c->momentum_spread * na64_rng_gauss(rng));
  double za = s->nmag > 0 ? s->mag[s->nmag - 1].z_out : 0.0, zb = s->ecal.z_front, L = zb - za;
  double lam = p / mass[i] * ctau[i], z = za + L * na64_rng_uniform(rng);
  double w = 3.0 * frac[i] * br[i] * L / lam * exp(-z / lam);
  double Ee, th, phi = 2.0 * M_PI * na64_rng_uniform(rng);
  decay_electron(rng, mass[i], p, i == 2, &Ee, &th);
  double x, dx;
  sim_transport(s, -1.0, p, 0.0, 0.0, z, &x, &dx);
  double xe = x + (dx + th * cos(phi)) * (zb - z), ye = th * sin(phi) * (zb - z);
  double e = Ee * bkg_ecal_contained(s, xe, ye);
  if (!(w > 0.0 && e > 0.0)) return 0.0;
  double ecal = fmax(0.0, e + c->ecal_stochastic * sqrt(e) * na64_rng_gauss(rng));
  double ps = e * bkg_em_frac_before(s, Ee, s->ecal_depth[0]);
  if (!(ecal < BOX_ECAL && ps > c->trigger_ps_min && bkg_central_cell(s, xe, ye))) return 0.0;
  return w * bkg_p_momentum(c->beam_energy, p, 0.0) * SRD_HADRON;
}

/* A nominal electron event (cells filled) in which one ECAL channel gives no signal, each with the
 * card's probability per event (conditional Monte Carlo over the channels); w0 = P(nominal e-). */
double bkg_ev_detector(const bkg *k, const na64_sim_event *ev, double w0)
{
  const na64_sim *s = k->s;
  double w = bkg_box_truth(s, &ev->truth); /* the resolution tail itself (Gaussian: ~0) */
  int ncell = s->ecal.nx * s->ecal.ny;
  for (int sec = 0; sec < NA64_SIM_ECAL_SECTIONS && ev->has_cells; ++sec)
    for (int i = 0; i < ncell; ++i) {
      double ch = ev->ecal[sec][i];
      if (ch <= 0.0) continue;
      na64_sim_truth t = ev->truth;
      t.ecal -= ch;
      if (sec == 0) t.ps -= ch;
      w += k->ineff * bkg_box_truth(s, &t);
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
  const double frac[3] = {c->frac_pi, c->frac_k, c->frac_mu};
  double za = s->nmag > 0 ? s->mag[s->nmag - 1].z_out : 0.0, zb = s->ecal.z_front, p = 0.0;
  for (int i = 0; i < 3; ++i) {
    double lam = c->beam_energy / mass[i] * ctau[i];
    p += frac[i] * br[i] * (exp(-za / lam) - exp(-zb / lam));
  }
  return p;
}
