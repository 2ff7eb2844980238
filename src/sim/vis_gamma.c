/*
 * ln Gamma and the upper regularised incomplete gamma function for the longitudinal profiles of the
 * visible response (vis_event.c: the WCAL sections' table; vis_v2.c: the shower tail behind the
 * WCAL), cheaper than gsl_sf_lngamma and sim_gamma_p (src/sim/ecal_shape.c) where the caller already
 * has the prefactor x^a e^-x / Gamma(a) (branch vissmear).
 */
#include <gsl/gsl_sf_gamma.h>
#include <math.h>

#include "sim/ecal_shape.h"
#include "sim/vis_resp.h"

/* ln Gamma(a) for a > 0: Stirling's series at z = a + n >= 8 (Abramowitz & Stegun 6.1.40),
 *   ln Gamma(z) = (z - 1/2) ln z - z + ln(2 pi)/2 + 1/(12 z) - 1/(360 z^3) + 1/(1260 z^5) - 1/(1680 z^7),
 * with an error below the first omitted term B_10 / (90 z^9) = 1/(1188 z^9) <= 6.3e-12 at z = 8
 * (A&S 6.1.42: for real z > 0 the remainder is smaller than the first neglected term), and the
 * recurrence ln Gamma(a) = ln Gamma(a + n) - ln(a (a + 1) ... (a + n - 1)) (A&S 6.1.15). Two
 * logarithms (~160 instructions) instead of gsl_sf_lngamma's ~265; tests/sim/test_vis_gamma: within
 * 1e-11 + 4e-15 |ln Gamma| of gsl over 0.05-200. */
double vis_lngamma(double a)
{
  double z = a, prod = 1.0;
  while (z < 8.0) {
    prod *= z;
    z += 1.0;
  }
  const double iz = 1.0 / z, iz2 = iz * iz;
  const double ser = iz * (1.0 / 12.0 - iz2 * (1.0 / 360.0 - iz2 * (1.0 / 1260.0 - iz2 * (1.0 / 1680.0))));
  return (z - 0.5) * log(z) - z + 0.91893853320467274178 + ser - log(prod); /* ln(2 pi)/2 */
}

#define VG_EPS 1e-10

/* Q(a, x) = Gamma(a, x) / Gamma(a) for a > 0, x > 0, given pre = x^a e^-x / Gamma(a): for x >= a + 1
 * Legendre's continued fraction Q = pre (1/(x + 1 - a -) 1 (1 - a)/(x + 3 - a -) 2 (2 - a)/(x + 5 - a -) ...)
 * (A&S 6.5.31) by the modified Lentz method (Numerical Recipes 2nd ed., sec. 6.2 and 5.2), below it
 * 1 - P with the series P = pre sum_n x^n / (a (a + 1) ... (a + n)) (A&S 6.5.29); both to a relative
 * 1e-10 (sim_gamma_p: 1e-15; the caller, V2, uses Q as a Poisson mean). The same
 * algorithms as sim_gamma_p, without its exp and log for pre. */
double vis_gamma_q_pre(double a, double x, double pre)
{
  if (!(x > 0.0)) return 1.0;
  if (x < a + 1.0) return fmax(1.0 - pre * sim_gamma_series(a, x, VG_EPS), 0.0);
  return fmin(pre * sim_gamma_cfrac(a, x, VG_EPS), 1.0);
}

/* The table of P(a, x_k): a = VG_A0 + j VG_H, j < VG_TAB_N, interpolated by the 4-point Lagrange cubic
 * (as fast_ecal.c's gamma_edges; error <= h^4 max|d4P/da4| 3/128 for the inner interval,
 * tests/sim/test_vis_gamma: <= 2.2e-10 against sim_gamma_p for the WCAL faces of both visible setups),
 * instead of an incomplete gamma function per x_k and a ln Gamma per call (~1.7k instructions per
 * event for the 3 WCAL sections; branch vissmear). a from 1.25 (the mean profile's smallest, E <
 * e^1 E_c) to 9.23 (E = 2e6 E_c: 16 TeV in the W/Sc mix). */
#define VG_H (1.0 / 64.0)
#define VG_A0 (1.25 - VG_H) /* the stencil of a = 1.25 inside */
_Static_assert(VG_A0 + (VG_TAB_N - 3) * VG_H > 9.2, "the table reaches a = 9.2");

void vis_gamma_table_fill(vis_gamma_table *t, const double *x, int nx)
{
  t->nx = nx < VG_TAB_X ? nx : VG_TAB_X;
  for (int j = 0; j < VG_TAB_N; ++j) {
    double a = VG_A0 + j * VG_H, lg = gsl_sf_lngamma(a);
    for (int k = 0; k < t->nx; ++k) t->v[j][k] = sim_gamma_p(a, x[k], lg);
  }
}

int vis_gamma_table_p(const vis_gamma_table *t, double a, double *P)
{
  double u = (a - VG_A0) / VG_H;
  if (!(u >= 1.0 && u < VG_TAB_N - 2)) return 0; /* NaN too */
  int j = (int)u;
  double s = u - j, sm = s - 1.0, sp = s + 1.0, s2 = s - 2.0;
  double w0 = -s * sm * s2 / 6.0, w1 = sp * sm * s2 / 2.0, w2 = -sp * s * s2 / 2.0, w3 = sp * s * sm / 6.0;
  const double *r0 = t->v[j - 1], *r1 = t->v[j], *r2 = t->v[j + 1], *r3 = t->v[j + 2];
  for (int k = 0; k < t->nx; ++k) P[k] = w0 * r0[k] + w1 * r1[k] + w2 * r2[k] + w3 * r3[k];
  return 1;
}
