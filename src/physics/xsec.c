/*
 * Production of an A' by an electron on a nucleus, e- Z -> e- Z A'.
 *
 * IWW total (improved Weizsaecker-Williams, as implemented in DMG4 DarkPhotons.cc for m > 1 MeV;
 * refdata/physics-formulas.md §4c; BEST PRD 80 (2009) 075018 eq. A16-type):
 *   sigma_IWW = (4/3) alpha^3 eps^2 chi beta ln(1/delta^2)/m^2,  beta = sqrt(1 - m^2/E0^2),
 *   delta = max(m_e/m, m/E0),  chi with t_min = (m^2/2E0)^2, t_max = m^2.
 * ETL (exact tree level, Gninenko, Kirpichnikov, Kirsanov, Krasnikov PLB 782 (2018) 406):
 *   sigma_ETL = sigma_IWW(elastic chi) / K(m, E0), K from the DMG4 table (data/dmg4_kfactor.csv);
 *   below 1 MeV the DMG4 ETL table (data/dmg4_etl_lowmass.csv) scaled by Z^2/82^2, blended
 *   logarithmically into IWW/K between 1 and 2 MeV (the two DMG4 estimates differ by 3% at 1 MeV).
 * WW double differential (DMG4 CrossSectionDSDXDU with its normalisation fixed so that the u-integral
 * reproduces the normalised IWW d sigma/dx of Andreas, Niebuhr, Ringwald PRD 86 (2012) 095019):
 *   d sigma/(dx du) = 8 alpha^3 eps^2 chi E0^2 sqrt(x^2 - m^2/E0^2)
 *       [ (1 - x + x^2/2)/U^2 + (1 - x)(m^2 + 2 m_e^2)(m^2 (1 - x) - U x + m_e^2 x^2)/U^4 ],
 *   U = E0^2 x theta^2 + m^2 (1 - x)/x + m_e^2 x,  u = theta^2/2.
 * WW total: the same with chi(x, theta) at t_min = (U/(2 E0 (1 - x)))^2, t_max = m^2 + U (BEST App. A).
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>

#include "physics/internal.h"

/* ---------------- tables: loaded once, validated ---------------- */

static na64_grid2 kfactor_table;
static na64_grid1 lowmass_table;
static na64_err table_err;
static int table_status = NA64_OK;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void load_tables(void)
{
  size_t len = 0;
  const char *text = na64_embedded_find("dmg4_kfactor.csv", &len);
  if (!text) {
    table_status = na64_err_set(&table_err, NA64_ENOTFOUND, "embedded table dmg4_kfactor.csv missing");
    return;
  }
  table_status = na64_grid2_parse(text, len, "dmg4_kfactor.csv", &kfactor_table, &table_err);
  if (table_status != NA64_OK) return;
  text = na64_embedded_find("dmg4_etl_lowmass.csv", &len);
  if (!text) {
    table_status = na64_err_set(&table_err, NA64_ENOTFOUND, "embedded table dmg4_etl_lowmass.csv missing");
    return;
  }
  table_status = na64_grid1_parse(text, len, "dmg4_etl_lowmass.csv", &lowmass_table, &table_err);
}

static int tables(na64_err *err)
{
  pthread_once(&table_once, load_tables);
  if (table_status != NA64_OK && err) *err = table_err;
  return table_status;
}

int na64_kfactor(double m, double E0, double *K, na64_err *err)
{
  NA64_CALL(tables(err));
  /* bilinear in (m, E0), clamped to the table (1 MeV - 1 GeV, 20 - 160 GeV) as DMG4 KfactorApproximate */
  *K = na64_grid2_eval(&kfactor_table, m * 1e3, E0);
  return NA64_OK;
}

/* Three-point Lagrange interpolation in the low-mass ETL table (extrapolates to 1 MeV from the
 * last three points, as DMG4 does), GeV^-2 at eps = 1 for Pb. */
static double lowmass_sigma_GeVm2(double m)
{
  const na64_grid1 *g = &lowmass_table;
  double x = m * 1e3;
  int k = 0;
  while (k + 3 < g->n && x > g->x[k + 1]) ++k;
  const double *a = &g->x[k], *f = &g->f[k];
  return f[0] * (x - a[1]) * (x - a[2]) / ((a[0] - a[1]) * (a[0] - a[2])) +
         f[1] * (x - a[0]) * (x - a[2]) / ((a[1] - a[0]) * (a[1] - a[2])) +
         f[2] * (x - a[0]) * (x - a[1]) / ((a[2] - a[0]) * (a[2] - a[1]));
}

/* ---------------- IWW and ETL totals ---------------- */

double na64_xsec_iww_unchecked(double E0, double m, double eps, double Z, double A, int ff)
{
  if (!(E0 > m)) return 0.0;
  double chi = na64_chi_iww(E0, m, Z, A, ff);
  double beta = sqrt(1.0 - m * m / (E0 * E0));
  double delta = fmax(NA64_M_E / m, m / E0);
  double a3 = NA64_ALPHA_EM * NA64_ALPHA_EM * NA64_ALPHA_EM;
  double sigma = NA64_GEV2_PB * 4.0 / 3.0 * a3 * eps * eps * chi * beta * log(1.0 / (delta * delta)) / (m * m);
  return sigma > 0.0 ? sigma : 0.0;
}

static double etl_unchecked(double E0, double m, double eps, double Z, double A)
{
  const double m1 = 1e-3, m2 = 2e-3;
  if (!(E0 > m)) return 0.0;
  if (m <= m1) return lowmass_sigma_GeVm2(m) * (Z * Z / (82.0 * 82.0)) * NA64_GEV2_PB * eps * eps;
  double K = na64_grid2_eval(&kfactor_table, m * 1e3, E0);
  double sigma = na64_xsec_iww_unchecked(E0, m, eps, Z, A, NA64_FF_ELASTIC) / K;
  if (m < m2) {
    double at1 = lowmass_sigma_GeVm2(m1) * (Z * Z / (82.0 * 82.0)) * NA64_GEV2_PB * eps * eps;
    double iww1 = na64_xsec_iww_unchecked(E0, m1, eps, Z, A, NA64_FF_ELASTIC) /
                  na64_grid2_eval(&kfactor_table, m1 * 1e3, E0);
    double w = log(m2 / m) / log(m2 / m1);
    sigma *= 1.0 + w * (at1 / iww1 - 1.0);
  }
  return sigma;
}

/* ---------------- WW differential shapes ---------------- */

static gsl_integration_glfixed_table *glfixed_table = NULL;
static void glfixed_init(void) { glfixed_table = gsl_integration_glfixed_table_alloc(32); }

double na64_ww_shape(double x, double u, double E0, double m)
{
  double me2 = NA64_M_E * NA64_M_E, m2 = m * m;
  double kin = x * x - m2 / (E0 * E0);
  if (!(kin > 0.0) || !(x < 1.0)) return 0.0;
  double U = 2.0 * E0 * E0 * u * x + m2 * (1.0 - x) / x + me2 * x;
  double U2 = U * U;
  double bracket = (1.0 - x + 0.5 * x * x) / U2 +
                   (1.0 - x) * (m2 + 2.0 * me2) * (m2 * (1.0 - x) - U * x + me2 * x * x) / (U2 * U2);
  return sqrt(kin) * bracket;
}

double na64_ww_shape_x(double x, double E0, double m)
{
  double me2 = NA64_M_E * NA64_M_E, m2 = m * m;
  double kin = x * x - m2 / (E0 * E0);
  if (!(kin > 0.0) || !(x < 1.0)) return 0.0;
  double U0 = m2 * (1.0 - x) / x + me2 * x;
  /* int_0^inf du of U^-2, U^-3, U^-4 with U = U0 + 2 E0^2 x u */
  double k = 1.0 / (2.0 * E0 * E0 * x);
  double i2 = k / U0, i3 = k / (2.0 * U0 * U0), i4 = k / (3.0 * U0 * U0 * U0);
  double c = (1.0 - x) * (m2 + 2.0 * me2);
  return sqrt(kin) * ((1.0 - x + 0.5 * x * x) * i2 + c * ((m2 * (1.0 - x) + me2 * x * x) * i4 - x * i3));
}

static double ww_norm(double eps, double E0)
{
  double a3 = NA64_ALPHA_EM * NA64_ALPHA_EM * NA64_ALPHA_EM;
  return NA64_GEV2_PB * 8.0 * a3 * eps * eps * E0 * E0;
}

/* The inelastic part of chi (~1/Z of the elastic one) by a fixed 32-point Gauss-Legendre rule in
 * ln t: 1e-6 relative accuracy on it is more than enough inside the 2-D WW integral, where the
 * adaptive rule of na64_chi would dominate the cost (checked against na64_chi in tests/physics). */
double na64_chi_inelastic_fast(double tmin, double tmax, double Z)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, glfixed_init);
  const gsl_integration_glfixed_table *table = glfixed_table;
  double a = log(tmin), b = log(tmax), sum = 0.0;
  for (size_t i = 0; i < 32; ++i) {
    double s, w;
    gsl_integration_glfixed_point(a, b, i, &s, &w, table);
    double t = exp(s);
    sum += w * (t - tmin) / t * na64_g2_inelastic(t, Z);
  }
  return sum;
}

/* chi at the WW limits for a given (x, U) */
static double chi_ww(double x, double U, double E0, double m, double Z, double A)
{
  double tmin = pow(U / (2.0 * E0 * (1.0 - x)), 2), tmax = m * m + U;
  if (!(tmax > tmin)) return 0.0;
  return na64_chi_elastic_closed(tmin, tmax, Z, A) + na64_chi_inelastic_fast(tmin, tmax, Z);
}

typedef struct {
  double x, E0, m, Z, A;
} ww_params;

/* integrand over v = ln U at fixed x: dw = U dv, w = U - U0 = 2 E0^2 x u, du = dw/(2 E0^2 x) */
static double ww_inner(double v, void *p)
{
  const ww_params *q = p;
  double U = exp(v);
  double x = q->x, m = q->m, E0 = q->E0, me2 = NA64_M_E * NA64_M_E;
  double U0 = m * m * (1.0 - x) / x + me2 * x;
  double u = (U - U0) / (2.0 * E0 * E0 * x);
  if (u < 0.0) u = 0.0;
  return na64_ww_shape(x, u, E0, m) * chi_ww(x, U, E0, m, q->Z, q->A) * U / (2.0 * E0 * E0 * x);
}

/* d sigma_WW/dx / ww_norm */
static double ww_dsdx_reduced(double x, double E0, double m, double Z, double A)
{
  double me2 = NA64_M_E * NA64_M_E;
  double U0 = m * m * (1.0 - x) / x + me2 * x;
  double omx = 1.0 - x;
  /* largest U with t_min < t_max: U^2 = 4 E0^2 (1-x)^2 (m^2 + U) */
  double b = 4.0 * E0 * E0 * omx * omx;
  double Umax = 0.5 * (b + sqrt(b * b + 4.0 * b * m * m));
  if (!(Umax > U0)) return 0.0;
  ww_params p = {x, E0, m, Z, A};
  gsl_function F = {ww_inner, &p};
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
  double r = 0.0, e = 0.0;
  gsl_integration_qag(&F, log(U0), log(Umax), 0.0, 1e-5, 200, GSL_INTEG_GAUSS21, w, &r, &e);
  gsl_integration_workspace_free(w);
  return r;
}

typedef struct {
  double E0, m, Z, A;
  int mode; /* 0: WW (chi(x,theta)), 1: IWW shape with chi = 1 */
} x_params;

/* integrand over y = -ln(1 - x): dx = (1 - x) dy */
static double x_integrand(double y, void *p)
{
  const x_params *q = p;
  double omx = exp(-y), x = 1.0 - omx;
  double f = q->mode == 0 ? ww_dsdx_reduced(x, q->E0, q->m, q->Z, q->A) : na64_ww_shape_x(x, q->E0, q->m);
  return f * omx;
}

static int integrate_x(const x_params *p, double *result, na64_err *err)
{
  double ylo = -log(1.0 - p->m / p->E0);
  /* beyond 1 - x < m_e^2/(2 E0 m) the WW t_min exceeds t_max; the IWW shape is negligible there too */
  double yhi = log(2.0 * p->E0 * p->m / (NA64_M_E * NA64_M_E)) + 2.0;
  gsl_function F = {x_integrand, (void *)p};
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(500);
  double r, e;
  na64_gsl_quiet();
  int st = gsl_integration_qag(&F, ylo, yhi, 0.0, 1e-5, 500, GSL_INTEG_GAUSS21, w, &r, &e);
  gsl_integration_workspace_free(w);
  if (st != GSL_SUCCESS && !(e < 1e-3 * fabs(r)))
    return na64_err_set(err, NA64_ENUMERIC, "x integration failed (%s) at m = %g GeV, E0 = %g GeV", gsl_strerror(st),
                        p->m, p->E0);
  *result = r;
  return NA64_OK;
}

/* The exact tree-level total (xsec_exact.c) for an electron and a vector with the elastic +
 * quasi-elastic form factor, as the ETL values behind DMG4's K table (docs/physics.md 4b: within
 * 2.1% of them): from the shipped grid of the element where it covers (m, E0) (xsec_exact_grid.c,
 * docs/physics.md 4d: <= 1% from the direct value), otherwise computed and remembered
 * (na64_xsec_exact_cached). 1% precision (na64_xsec_exact_quad; 0.01-0.4% in practice). */
#define EXACT_PREC 0.01
static int exact_unchecked(double E0, double m, double eps, double Z, double A, double *sigma, na64_err *err)
{
  double g = 0.0;
  if (na64_exact_grid_eval(Z, A, m, E0, &g)) {
    *sigma = g * eps * eps;
    return NA64_OK;
  }
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, E0, m);
  p.Z = Z;
  p.A = A;
  p.ff = NA64_FF_ALL;
  double s = 0.0;
  if (E0 > m + NA64_M_E) NA64_CALL(na64_xsec_exact_cached(&p, EXACT_PREC, &s, NULL, err));
  *sigma = s * eps * eps;
  return NA64_OK;
}

/* ---------------- public API ---------------- */

const char *na64_xsec_method_name(na64_xsec_method method)
{
  switch (method) {
  case NA64_XS_WW: return "ww";
  case NA64_XS_IWW: return "iww";
  case NA64_XS_ETL: return "etl";
  case NA64_XS_EXACT: return "exact";
  }
  return "?";
}

static int check_common(double E0, double m, double eps, double Z, double A, na64_err *err)
{
  if (!isfinite(m) || !(m > 0.0)) return na64_err_set(err, NA64_EPHYS, "A' mass %g MeV must be positive", m * 1e3);
  if (!isfinite(eps) || !(eps > 0.0) || eps > 1.0) {
    char e[32];
    na64_num_shortest(e, sizeof e, eps);
    return na64_err_set(err, NA64_EPHYS, "epsilon = %s is outside (0, 1]", e);
  }
  if (!isfinite(E0) || !(E0 > 0.0)) return na64_err_set(err, NA64_EPHYS, "beam energy %g GeV must be positive", E0);
  if (!(Z >= 1.0 && Z <= 100.0) || !(A >= Z))
    return na64_err_set(err, NA64_EINVAL, "invalid target nucleus Z = %g, A = %g", Z, A);
  if (!(E0 > m))
    return na64_err_set(err, NA64_EPHYS, "beam energy %g GeV is below the A' mass %g GeV: no production", E0, m);
  return NA64_OK;
}

static int check_validity(double E0, double m, na64_err *err)
{
  if (m < 1e-3 * (1 - 1e-9) || m > 1.0 * (1 + 1e-9))
    return na64_err_set(err, NA64_ERANGE, "A' mass %g MeV is outside the validity range 1-1000 MeV", m * 1e3);
  if (E0 < 10.0 * (1 - 1e-9) || E0 > 200.0 * (1 + 1e-9))
    return na64_err_set(err, NA64_ERANGE, "beam energy %g GeV is outside the validity range 10-200 GeV", E0);
  return NA64_OK;
}

int na64_xsec_total_unchecked(na64_xsec_method method, double E0, double m, double eps, double Z, double A,
                              double *sigma, na64_err *err)
{
  NA64_CALL(tables(err));
  switch (method) {
  case NA64_XS_IWW: *sigma = na64_xsec_iww_unchecked(E0, m, eps, Z, A, NA64_FF_ALL); return NA64_OK;
  case NA64_XS_ETL: *sigma = etl_unchecked(E0, m, eps, Z, A); return NA64_OK;
  case NA64_XS_EXACT: return exact_unchecked(E0, m, eps, Z, A, sigma, err);
  case NA64_XS_WW: {
    x_params p = {E0, m, Z, A, 0};
    double r;
    NA64_CALL(integrate_x(&p, &r, err));
    *sigma = ww_norm(eps, E0) * r;
    return NA64_OK;
  }
  }
  return na64_err_set(err, NA64_EINVAL, "unknown cross-section method %d", (int)method);
}

int na64_xsec_total(na64_xsec_method method, double E0, double m, double eps, double Z, double A, double *sigma_pb,
                    na64_err *err)
{
  NA64_CALL(check_common(E0, m, eps, Z, A, err));
  if (method != NA64_XS_EXACT) NA64_CALL(check_validity(E0, m, err));
  return na64_xsec_total_unchecked(method, E0, m, eps, Z, A, sigma_pb, err);
}

int na64_xsec_dsdx(na64_xsec_method method, double x, double E0, double m, double eps, double Z, double A,
                   double *dsdx, na64_err *err)
{
  NA64_CALL(check_common(E0, m, eps, Z, A, err));
  if (method != NA64_XS_EXACT) NA64_CALL(check_validity(E0, m, err));
  NA64_CALL(tables(err));
  if (!isfinite(x) || x <= 0.0 || x >= 1.0) return na64_err_set(err, NA64_EINVAL, "x = %g is outside (0, 1)", x);
  if (method == NA64_XS_WW) {
    *dsdx = ww_norm(eps, E0) * ww_dsdx_reduced(x, E0, m, Z, A);
    return NA64_OK;
  }
  int ff = method == NA64_XS_IWW ? NA64_FF_ALL : NA64_FF_ELASTIC;
  double chi = na64_chi_iww(E0, m, Z, A, ff);
  double shape = ww_norm(eps, E0) * chi * na64_ww_shape_x(x, E0, m);
  if (method == NA64_XS_IWW) {
    *dsdx = shape;
    return NA64_OK;
  }
  /* ETL, exact: the IWW shape normalised to the ETL (exact) total */
  x_params p = {E0, m, Z, A, 1};
  double integral, total = 0.0;
  NA64_CALL(integrate_x(&p, &integral, err));
  if (method == NA64_XS_EXACT) NA64_CALL(exact_unchecked(E0, m, eps, Z, A, &total, err));
  else total = etl_unchecked(E0, m, eps, Z, A);
  *dsdx = shape / (ww_norm(eps, E0) * chi * integral) * total;
  return NA64_OK;
}

int na64_xsec_dsdxdtheta(double x, double theta, double E0, double m, double eps, double Z, double A, double *res,
                         na64_err *err)
{
  NA64_CALL(check_common(E0, m, eps, Z, A, err));
  NA64_CALL(check_validity(E0, m, err));
  if (!isfinite(x) || x <= 0.0 || x >= 1.0) return na64_err_set(err, NA64_EINVAL, "x = %g is outside (0, 1)", x);
  if (!isfinite(theta) || theta < 0.0 || theta > M_PI)
    return na64_err_set(err, NA64_EINVAL, "theta = %g rad is outside [0, pi]", theta);
  double u = 0.5 * theta * theta;
  double U = E0 * E0 * x * theta * theta + m * m * (1.0 - x) / x + NA64_M_E * NA64_M_E * x;
  /* d sigma/(dx dtheta) = theta d sigma/(dx du) in the small-angle limit */
  *res = ww_norm(eps, E0) * chi_ww(x, U, E0, m, Z, A) * na64_ww_shape(x, u, E0, m) * theta;
  return NA64_OK;
}

int na64_xsec_macroscopic_unchecked(na64_xsec_method method, const na64_material *mat, double E0, double m,
                                    double eps, double *inv_cm, na64_err *err)
{
  double sum = 0.0;
  for (int i = 0; i < mat->ncomp; ++i) {
    double s = 0.0;
    int st = na64_xsec_total_unchecked(method, E0, m, eps, mat->comp[i].Z, mat->comp[i].A, &s, err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "material %s", mat->name);
      return st;
    }
    sum += na64_material_atom_density(mat, i) * s * 1e-36; /* pb -> cm^2 */
  }
  *inv_cm = sum;
  return NA64_OK;
}

int na64_xsec_macroscopic(na64_xsec_method method, const na64_material *mat, double E0, double m, double eps,
                          double *inv_cm, na64_err *err)
{
  if (!mat) return na64_err_set(err, NA64_EINVAL, "macroscopic cross section: NULL material");
  for (int i = 0; i < mat->ncomp; ++i) {
    int st = check_common(E0, m, eps, mat->comp[i].Z, mat->comp[i].A, err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "material %s", mat->name);
      return st;
    }
  }
  if (method != NA64_XS_EXACT) NA64_CALL(check_validity(E0, m, err));
  return na64_xsec_macroscopic_unchecked(method, mat, E0, m, eps, inv_cm, err);
}
