/*
 * Beam particles and their path through the dipoles; synchrotron radiation and the SRD.
 *
 * Transport: straight lines outside the dipoles; inside, the small-angle arc
 * x'' = -q 0.299792458 B / p (1/m for B in T, p in GeV/c, q in units of e), so that a positive
 * field integral bends electrons (q = -1) towards +x (the frame of na64/geom.h).
 *
 * Synchrotron radiation (J.D. Jackson, Classical Electrodynamics, 3rd ed., sec. 14.6; the PDG
 * review "Accelerator physics of colliders", synchrotron-radiation formulas): a particle of Lorentz
 * factor gamma on a circle of radius rho emits photons with the critical energy
 *   E_c = (3/2) hbar c gamma^3 / rho                                        (Jackson eq. 14.85),
 * N = 5 alpha q^2 gamma / (2 sqrt 3) photons per radian of bend, with the number spectrum
 *   dN/du ~ int_u^inf K_{5/3}(xi) dxi,  u = E/E_c  (Jackson eq. 14.91 divided by E),
 * whose mean is 8/(15 sqrt 3) E_c. Photons leave tangentially; those reaching the SRD face convert
 * in its lead with the attenuation coefficient of NIST XCOM and deposit their energy in the module
 * where they interact.
 */
#include <math.h>
#include <string.h>

#include "sim/fast_bkg_internal.h" /* sim_synchrotron_from; includes sim/fast_internal.h */

#define C_BEND 0.299792458e-2 /* 1/cm per (T / (GeV/c)) */

void sim_transport(const na64_sim *s, double q, double p, double x0, double dx0, double z, double *x, double *dx)
{
  sim_transport_from(s, q, p, 0.0, x0, dx0, z, x, dx);
}

void sim_transport_from(const na64_sim *s, double q, double p, double z_from, double x0, double dx0, double z, double *x,
                        double *dx)
{
  double zc = z_from, xc = x0, sc = dx0;
  for (int i = 0; i < s->nmag && zc < z; ++i) {
    const sim_magnet *m = &s->mag[i];
    double za = fmin(fmax(m->z_in, zc), z);
    xc += sc * (za - zc);
    zc = za;
    double zb = fmin(m->z_out, z);
    if (zb > zc) {
      double k = -q * C_BEND * m->field / p, L = zb - zc;
      xc += sc * L + 0.5 * k * L * L;
      sc += k * L;
      zc = zb;
    }
  }
  xc += sc * (z - zc);
  *x = xc;
  *dx = sc;
}

double na64_sim_sr_critical_energy(double gamma, double p, double B, double q)
{
  double rho = p / (fabs(q) * C_BEND * fabs(B)); /* cm */
  return 1.5 * NA64_HBARC * gamma * gamma * gamma / rho;
}

/* Total mass attenuation of photons in lead, cm^2/g: NIST XCOM (Berger et al., NIST Standard
 * Reference Database 8), 0.1-20 MeV; above, interpolated in ln E to the pair-production limit
 * 7/(9 X0) (PDG eq. 34.32, X0 = 6.37 g/cm^2) reached at 10 GeV; below 0.1 MeV the photon is
 * absorbed in the first layer anyway. */
static double mu_lead(double E_gev)
{
  static const double e[] = {0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
                             10.0, 15.0, 20.0, 10000.0};
  static const double mu[] = {5.549, 2.014, 0.9985, 0.4031, 0.2323, 0.1614, 0.1248, 0.0887, 0.07102, 0.05222,
                              0.04606, 0.04234, 0.04197, 0.04272, 0.04391, 0.04675, 0.04972, 0.05658, 0.06206,
                              7.0 / (9.0 * 6.37)};
  const int n = (int)(sizeof e / sizeof e[0]);
  double E = E_gev * 1e3;
  if (E <= e[0]) return mu[0];
  if (E >= e[n - 1]) return mu[n - 1];
  int i = 0;
  while (e[i + 1] < E) ++i;
  double f = log(E / e[i]) / log(e[i + 1] / e[i]);
  return exp(log(mu[i]) + f * (log(mu[i + 1]) - log(mu[i])));
}

/* u = E/E_c from the tabulated CDF: binary search, then linear in ln u within the interval. */
static double sr_draw_u(const na64_sim *s, na64_rng *rng)
{
  double r = na64_rng_uniform(rng);
  int lo = 0, hi = SR_TABLE - 1;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (s->sr_cdf[mid] <= r) lo = mid;
    else hi = mid;
  }
  double d = s->sr_cdf[hi] - s->sr_cdf[lo], f = d > 0.0 ? (r - s->sr_cdf[lo]) / d : 0.0;
  return s->sr_u[lo] * pow(s->sr_u[hi] / s->sr_u[lo], f);
}

/* The synchrotron radiation of the part of the trajectory downstream of z_from (the particle at
 * x0 with slope dxdz there): the photon count of each magnet's field length behind z_from
 * (Poisson, mean 5 alpha gamma / (2 sqrt 3) x bend angle), as na64_sim_synchrotron. */
int sim_synchrotron_from(const na64_sim *s, double m, double q, double p, double z_from, double x0, double dxdz,
                         na64_rng *rng, double *e_emitted, double *e_srd, double srd[NA64_SIM_MAX_SRD])
{
  const double gamma = sqrt(p * p + m * m) / m, rho_pb = 11.35;
  int nph = 0;
  for (int i = 0; i < s->nmag; ++i) {
    const sim_magnet *mg = &s->mag[i];
    if (mg->field == 0.0 || q == 0.0) continue;
    double z_in = fmax(mg->z_in, z_from);
    if (!(mg->z_out > z_in)) continue; /* this magnet lies upstream of z_from */
    double L = mg->z_out - z_in, rho = p / (fabs(q) * C_BEND * fabs(mg->field));
    double mean = 5.0 * NA64_ALPHA_EM * q * q * gamma / (2.0 * sqrt(3.0)) * (L / rho);
    double Ec = na64_sim_sr_critical_energy(gamma, p, mg->field, q);
    unsigned long n = na64_rng_poisson(rng, mean);
    double xin, sin_;
    sim_transport_from(s, q, p, z_from, x0, dxdz, z_in, &xin, &sin_);
    double k = -q * C_BEND * mg->field / p;
    for (unsigned long j = 0; j < n; ++j) {
      double l = L * na64_rng_uniform(rng), E = Ec * sr_draw_u(s, rng);
      double xe = xin + sin_ * l + 0.5 * k * l * l, se = sin_ + k * l, ze = z_in + l;
      *e_emitted += E;
      ++nph;
      double xs = xe + se * (s->srd_z[0] - ze); /* tangent to the SRD face */
      double ur = na64_rng_uniform(rng);
      if (s->nsrd < 1 || xs < s->srd_x[0] || xs > s->srd_x[1]) continue;
      double depth = -log(ur) / (mu_lead(E) * rho_pb); /* cm of lead before the interaction */
      int mod = s->srd_pb > 0.0 ? (int)(depth / s->srd_pb) : s->nsrd;
      if (mod < s->nsrd) {
        srd[mod] += E;
        *e_srd += E;
      }
    }
  }
  return nph;
}

int na64_sim_synchrotron(const na64_sim *s, double m, double q, double p, double x0, double dxdz, na64_rng *rng,
                         double *e_emitted, double *e_srd, double srd[NA64_SIM_MAX_SRD])
{
  return sim_synchrotron_from(s, m, q, p, 0.0, x0, dxdz, rng, e_emitted, e_srd, srd);
}
