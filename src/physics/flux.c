/*
 * Effective photon flux chi(t_min, t_max) = int dt (t - t_min)/t^2 G2(t) with Tsai's atomic+nuclear
 * form factors (Tsai, Rev. Mod. Phys. 46 (1974) 815; Kim & Tsai PRD 8 (1973) 3109; as written in
 * Bjorken, Essig, Schuster, Toro (BEST), PRD 80 (2009) 075018, App. A, eqs. A18-A19):
 *   G2_el(t)   = Z^2 [a^2 t/(1 + a^2 t)]^2 [1/(1 + t/d)]^2,      a = 111 Z^-1/3/m_e, d = 0.164 A^-2/3 GeV^2
 *   G2_inel(t) = Z [a'^2 t/(1 + a'^2 t)]^2 [(1 + t (mu_p^2 - 1)/(4 m_p^2))/(1 + t/0.71 GeV^2)^4]^2,
 *                a' = 773 Z^-2/3/m_e.
 * The proton form-factor bracket is squared as in BEST and DMG4's chi() (refdata/physics-formulas.md §3).
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <math.h>

#include "physics/internal.h"

static double screening_a(double Z) { return 111.0 * pow(Z, -1.0 / 3.0) / NA64_M_E; }
static double screening_ap(double Z) { return 773.0 * pow(Z, -2.0 / 3.0) / NA64_M_E; }
static double nuclear_d(double A) { return 0.164 * pow(A, -2.0 / 3.0); }

double na64_g2_elastic(double t, double Z, double A)
{
  double a2t = pow(screening_a(Z), 2) * t;
  double atomic = a2t / (1.0 + a2t), nuclear = 1.0 / (1.0 + t / nuclear_d(A));
  return Z * Z * atomic * atomic * nuclear * nuclear;
}

double na64_g2_inelastic(double t, double Z)
{
  double ap2t = pow(screening_ap(Z), 2) * t;
  double atomic = ap2t / (1.0 + ap2t);
  double proton = (1.0 + t * (NA64_MU_PROTON * NA64_MU_PROTON - 1.0) / (4.0 * NA64_M_PROTON * NA64_M_PROTON)) /
                  pow(1.0 + t / 0.71, 4);
  return Z * atomic * atomic * proton * proton;
}

/* Closed form of the elastic integral (as implemented in DMG4 DarkPhotons.cc; refdata §3),
 * with t_a = 1/a^2 and t_d = d. Checked against the quadrature in tests/physics. */
double na64_chi_elastic_closed(double tmin, double tmax, double Z, double A)
{
  double ta = 1.0 / pow(screening_a(Z), 2), td = nuclear_d(A);
  double first = (ta - td) * (ta + td + 2.0 * tmax) * (tmax - tmin) / ((ta + tmax) * (td + tmax));
  double logs = log(ta + tmax) - log(td + tmax) - log(ta + tmin) + log(td + tmin);
  return Z * Z * (-(td * td * (first + (ta + td + 2.0 * tmin) * logs)) / pow(ta - td, 3));
}

typedef struct {
  double tmin, Z, A;
  int which;
} chi_params;

/* integrand in s = ln t: (t - tmin)/t * G2(t) */
static double chi_integrand(double s, void *p)
{
  const chi_params *c = p;
  double t = exp(s), g2 = 0.0;
  if (c->which & NA64_FF_ELASTIC) g2 += na64_g2_elastic(t, c->Z, c->A);
  if (c->which & NA64_FF_INELASTIC) g2 += na64_g2_inelastic(t, c->Z);
  return (t - c->tmin) / t * g2;
}

int na64_chi(double tmin, double tmax, double Z, double A, int which, double *chi, na64_err *err)
{
  if (!(tmin > 0.0) || !(tmax > tmin) || !isfinite(tmax))
    return na64_err_set(err, NA64_EINVAL, "chi: need 0 < t_min < t_max, got t_min = %g, t_max = %g GeV^2", tmin, tmax);
  if (!(Z >= 1.0) || !(A >= 1.0))
    return na64_err_set(err, NA64_EINVAL, "chi: invalid nucleus Z = %g, A = %g", Z, A);
  chi_params p = {tmin, Z, A, which};
  gsl_function F = {chi_integrand, &p};
  /* breakpoints at the screening and nuclear-size scales keep the adaptive rule efficient */
  double pts[5];
  int np = 0;
  pts[np++] = log(tmin);
  double scales[3] = {1.0 / pow(screening_a(Z), 2), 1.0 / pow(screening_ap(Z), 2), nuclear_d(A)};
  for (int i = 0; i < 3; ++i)
    if (scales[i] > tmin && scales[i] < tmax) pts[np++] = log(scales[i]);
  pts[np++] = log(tmax);
  /* sort the interior points */
  for (int i = 1; i < np - 1; ++i)
    for (int j = i + 1; j < np - 1; ++j)
      if (pts[j] < pts[i]) {
        double s = pts[i];
        pts[i] = pts[j];
        pts[j] = s;
      }
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(512);
  if (!w) return na64_err_set(err, NA64_ENOMEM, "chi: out of memory");
  na64_gsl_quiet();
  double result, abserr;
  int st = gsl_integration_qagp(&F, pts, (size_t)np, 0.0, 1e-9, 512, w, &result, &abserr);
  gsl_integration_workspace_free(w);
  if (st != GSL_SUCCESS && !(abserr < 1e-6 * fabs(result)))
    return na64_err_set(err, NA64_ENUMERIC, "chi: quadrature failed (%s) for t in [%g, %g]", gsl_strerror(st), tmin, tmax);
  *chi = result;
  return NA64_OK;
}

double na64_chi_iww(double E0, double m, double Z, double A, int ff)
{
  double tmin = pow(m * m / (2.0 * E0), 2), tmax = m * m;
  double chi = 0.0;
  if (ff == NA64_FF_ELASTIC) return na64_chi_elastic_closed(tmin, tmax, Z, A);
  if (na64_chi(tmin, tmax, Z, A, ff, &chi, NULL) != NA64_OK) return NAN;
  return chi;
}
