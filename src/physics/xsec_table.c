/*
 * Fast evaluation for the simulation: (1) the macroscopic A' production cross section of a material
 * tabulated once on a logarithmic energy grid and interpolated; (2) sampling of the A' energy
 * fraction x and angle theta by accept-reject (von Neumann) against a tabulated envelope, as DMG4
 * does (DarkMatter::SimulateEmission, Bondi et al. CPC 269 (2021) 108129), but with an envelope
 * that is piecewise constant in y = -ln(1 - x) so the forward peak at x -> 1 is resolved.
 */
#include <math.h>
#include <stdlib.h>

#include "physics/internal.h"

struct na64_xsec_table {
  int n;
  double lnEmin, inv_dln, m;
  double *sigma; /* 1/cm at eps = 1 */
};

int na64_xsec_table_new(na64_xsec_method method, const na64_material *mat, double m, double Emin, double Emax,
                        int npoints, na64_xsec_table **out, na64_err *err)
{
  if (!mat || !out) return na64_err_set(err, NA64_EINVAL, "xsec table: NULL argument");
  if (!(m > 0.0) || !(Emin > m) || !(Emax > Emin) || npoints < 2)
    return na64_err_set(err, NA64_EINVAL, "xsec table: need 0 < m < Emin < Emax and >= 2 points (m = %g, Emin = %g, Emax = %g, n = %d)",
                        m, Emin, Emax, npoints);
  na64_xsec_table *t = calloc(1, sizeof *t);
  if (!t) return na64_err_set(err, NA64_ENOMEM, "xsec table: out of memory");
  t->sigma = malloc((size_t)npoints * sizeof *t->sigma);
  if (!t->sigma) {
    free(t);
    return na64_err_set(err, NA64_ENOMEM, "xsec table: out of memory");
  }
  t->n = npoints;
  t->m = m;
  t->lnEmin = log(Emin);
  double dln = (log(Emax) - t->lnEmin) / (npoints - 1);
  t->inv_dln = 1.0 / dln;
  for (int i = 0; i < npoints; ++i) {
    double E = exp(t->lnEmin + i * dln);
    int st = na64_xsec_macroscopic_unchecked(method, mat, E, m, 1.0, &t->sigma[i], err);
    if (st != NA64_OK) {
      na64_xsec_table_free(t);
      na64_err_prefix(err, "xsec table at E = %g GeV", E);
      return st;
    }
  }
  *out = t;
  return NA64_OK;
}

double na64_xsec_table_eval(const na64_xsec_table *t, double E)
{
  double s = (log(E) - t->lnEmin) * t->inv_dln;
  if (!(s >= 0.0)) return 0.0;
  int i = (int)s;
  if (i >= t->n - 1) return t->sigma[t->n - 1];
  double f = s - i;
  return t->sigma[i] + f * (t->sigma[i + 1] - t->sigma[i]);
}

void na64_xsec_table_free(na64_xsec_table *t)
{
  if (!t) return;
  free(t->sigma);
  free(t);
}

/* ---------------- (x, theta) sampler ---------------- */

#define SAMPLER_BINS 512
#define SAMPLER_SUB 8
#define SAMPLER_SAFETY 1.10 /* DMG4 uses the same 10% margin over the tabulated maximum */

struct na64_aprime_sampler {
  double E0, m, y0, dy;
  double env[SAMPLER_BINS]; /* envelope height per bin (density in y) */
  double cdf[SAMPLER_BINS + 1];
  double alias_prob[SAMPLER_BINS]; /* Walker alias table over the bins (Walker, ACM TOMS 3 (1977) 253) */
  int alias_bin[SAMPLER_BINS];
  unsigned long tried, accepted, violations;
};

static double density_y(double y, double E0, double m)
{
  double omx = exp(-y);
  return na64_ww_shape_x(1.0 - omx, E0, m) * omx;
}

/* Vose's construction of the alias table from the bin weights env[b] * dy. */
static void build_alias(na64_aprime_sampler *s)
{
  double p[SAMPLER_BINS];
  int small[SAMPLER_BINS], large[SAMPLER_BINS], ns = 0, nl = 0;
  double total = s->cdf[SAMPLER_BINS];
  for (int b = 0; b < SAMPLER_BINS; ++b) {
    p[b] = s->env[b] * s->dy / total * SAMPLER_BINS;
    if (p[b] < 1.0) small[ns++] = b;
    else large[nl++] = b;
  }
  while (ns && nl) {
    int l = small[--ns], g = large[nl - 1];
    s->alias_prob[l] = p[l];
    s->alias_bin[l] = g;
    p[g] -= 1.0 - p[l];
    if (p[g] < 1.0) {
      --nl;
      small[ns++] = g;
    }
  }
  while (nl) {
    int g = large[--nl];
    s->alias_prob[g] = 1.0;
    s->alias_bin[g] = g;
  }
  while (ns) {
    int l = small[--ns];
    s->alias_prob[l] = 1.0;
    s->alias_bin[l] = l;
  }
}

int na64_aprime_sampler_new(double E0, double m, double Z, double A, double xmin, na64_aprime_sampler **out,
                            na64_err *err)
{
  (void)Z; /* with the IWW flux chi is constant in (x, theta): the shape does not depend on the nucleus */
  (void)A;
  if (!out) return na64_err_set(err, NA64_EINVAL, "sampler: NULL argument");
  if (!(m > 0.0) || !(E0 > m) || !isfinite(E0))
    return na64_err_set(err, NA64_EPHYS, "sampler: need 0 < m < E0 (m = %g GeV, E0 = %g GeV)", m, E0);
  if (!(xmin < 1.0)) return na64_err_set(err, NA64_EINVAL, "sampler: x_min = %g must be < 1", xmin);
  na64_aprime_sampler *s = calloc(1, sizeof *s);
  if (!s) return na64_err_set(err, NA64_ENOMEM, "sampler: out of memory");
  s->E0 = E0;
  s->m = m;
  double x0 = fmax(xmin, m / E0 * (1.0 + 1e-9));
  s->y0 = -log(1.0 - x0);
  double y1 = log(2.0 * E0 * m / (NA64_M_E * NA64_M_E)) + 4.0; /* well past the forward peak */
  if (y1 < s->y0 + 1.0) y1 = s->y0 + 1.0;
  s->dy = (y1 - s->y0) / SAMPLER_BINS;
  s->cdf[0] = 0.0;
  for (int b = 0; b < SAMPLER_BINS; ++b) {
    double mx = 0.0;
    for (int k = 0; k <= SAMPLER_SUB; ++k) mx = fmax(mx, density_y(s->y0 + (b + (double)k / SAMPLER_SUB) * s->dy, E0, m));
    s->env[b] = SAMPLER_SAFETY * mx;
    s->cdf[b + 1] = s->cdf[b] + s->env[b] * s->dy;
  }
  if (!(s->cdf[SAMPLER_BINS] > 0.0)) {
    free(s);
    return na64_err_set(err, NA64_EPHYS, "sampler: no phase space above x_min = %g", xmin);
  }
  build_alias(s);
  *out = s;
  return NA64_OK;
}

void na64_aprime_sample(na64_aprime_sampler *s, na64_rng *rng, double *x_out, double *theta_out)
{
  const double E0 = s->E0, m = s->m, m2 = m * m, me2 = NA64_M_E * NA64_M_E;
  double x;
  for (;;) { /* x from its marginal (the closed-form u-integral of the WW shape) */
    double r = na64_rng_uniform(rng) * SAMPLER_BINS;
    int b = (int)r;
    if (r - b >= s->alias_prob[b]) b = s->alias_bin[b];
    double y = s->y0 + (b + na64_rng_uniform(rng)) * s->dy;
    double f = density_y(y, E0, m);
    s->tried++;
    if (f > s->env[b]) s->violations++; /* envelope too low: counted, reported by the diagnostics */
    if (na64_rng_uniform(rng) * s->env[b] < f) {
      x = -expm1(-y);
      break;
    }
  }
  s->accepted++;
  /* theta | x: density in U = E0^2 x theta^2 + U0 is the WW bracket, bounded by (1 - x + x^2/2)/U^2
   * because its second term is never positive; sample U ~ 1/U^2 on [U0, inf) and accept. */
  double U0 = m2 * (1.0 - x) / x + me2 * x, a = 1.0 - x + 0.5 * x * x;
  double c = (1.0 - x) * (m2 + 2.0 * me2);
  for (;;) {
    double U = U0 / na64_rng_uniform(rng);
    double theta2 = (U - U0) / (E0 * E0 * x);
    if (theta2 > M_PI * M_PI) continue;
    double ratio = 1.0 + c * (m2 * (1.0 - x) - U * x + me2 * x * x) / (U * U * a);
    if (na64_rng_uniform(rng) < ratio) {
      *x_out = x;
      *theta_out = sqrt(theta2);
      return;
    }
  }
}

double na64_aprime_sampler_efficiency(const na64_aprime_sampler *s)
{
  return s->tried ? (double)s->accepted / (double)s->tried : 0.0;
}

unsigned long na64_aprime_sampler_violations(const na64_aprime_sampler *s) { return s->violations; }

void na64_aprime_sampler_free(na64_aprime_sampler *s) { free(s); }
