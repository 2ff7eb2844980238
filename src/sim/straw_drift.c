/* r(t) relation of the straw gas for the digitisation: a two-term parametrisation of Ar/CO2 70/30
 * or a table (e.g. the conditions database's r(t)). Model and its justification: docs/straw.md §1.
 *
 * Parametric model, x = r / R:   t(r) = T (alpha x + (1 - alpha) x^2).
 * In a cylindrical counter the field is E(r) = V / (r ln(b/a)) (e.g. Blum, Riegler, Rolandi,
 * "Particle Detection with Drift Chambers", 2nd ed., Springer 2008, eq. 4.6). In a "cool" gas such as
 * Ar/CO2 70/30 the drift velocity is nearly proportional to the field over most of the straw,
 * v = mu E ~ 1/r, so dt = dr / v ~ r dr and t ~ r^2 (the quadratic term); close to the wire the
 * velocity saturates, which the linear term represents. The inverse is the positive root of the
 * quadratic. */
#include <math.h>
#include <string.h>

#include "na64/sim.h"

/* Anchor values of the default model (ESTIMATES, docs/straw.md): maximal drift times of ~110 ns in
 * 6 mm and ~38 ns in 2 mm straws of Ar/CO2 70/30 at typical gains; a larger linear fraction in the
 * thinner straw where the field is high everywhere. */
#define D_SMALL 0.2
#define D_LARGE 0.6
#define TMAX_SMALL 38.0
#define TMAX_LARGE 110.0
#define ALPHA_SMALL 0.55
#define ALPHA_LARGE 0.35

int na64_straw_drift_default(double diameter, na64_straw_drift *m, na64_err *err)
{
  if (!m) return na64_err_set(err, NA64_EINVAL, "na64_straw_drift_default: NULL model");
  if (!(diameter > 0) || !isfinite(diameter))
    return na64_err_set(err, NA64_EINVAL, "straw drift model: diameter %g cm is not a positive number", diameter);
  memset(m, 0, sizeof *m);
  m->radius = diameter / 2;
  if (diameter <= D_SMALL) {
    m->t_max = TMAX_SMALL * (diameter / D_SMALL) * (diameter / D_SMALL); /* t ~ r^2 at v = mu E */
    m->alpha = ALPHA_SMALL;
  } else if (diameter >= D_LARGE) {
    m->t_max = TMAX_LARGE * (diameter / D_LARGE) * (diameter / D_LARGE);
    m->alpha = ALPHA_LARGE;
  } else {
    double f = (diameter - D_SMALL) / (D_LARGE - D_SMALL);
    m->t_max = TMAX_SMALL + f * (TMAX_LARGE - TMAX_SMALL);
    m->alpha = ALPHA_SMALL + f * (ALPHA_LARGE - ALPHA_SMALL);
  }
  return NA64_OK;
}

int na64_straw_drift_from_table(const double *t, const double *r, int n, na64_straw_drift *m, na64_err *err)
{
  if (!m || !t || !r) return na64_err_set(err, NA64_EINVAL, "na64_straw_drift_from_table: NULL argument");
  if (n < 2 || n > NA64_COND_MAX_RT_POINTS)
    return na64_err_set(err, NA64_EINVAL, "straw r(t) table: %d points (2..%d needed)", n, NA64_COND_MAX_RT_POINTS);
  for (int i = 0; i < n; ++i) {
    if (!isfinite(t[i]) || !isfinite(r[i]))
      return na64_err_set(err, NA64_EINVAL, "straw r(t) table: point %d (%g ns, %g cm) is not finite", i, t[i], r[i]);
    if (i && !(t[i] > t[i - 1]))
      return na64_err_set(err, NA64_EINVAL, "straw r(t) table: t[%d] = %g ns after t[%d] = %g ns is not increasing", i,
                          t[i], i - 1, t[i - 1]);
    if ((i && r[i] < r[i - 1]) || r[i] < 0)
      return na64_err_set(err, NA64_EINVAL, "straw r(t) table: r[%d] = %g cm is negative or decreasing", i, r[i]);
  }
  if (!(r[n - 1] > 0)) return na64_err_set(err, NA64_EINVAL, "straw r(t) table: last radius %g cm is not positive", r[n - 1]);
  memset(m, 0, sizeof *m);
  m->n = n;
  memcpy(m->t, t, (size_t)n * sizeof *t);
  memcpy(m->r, r, (size_t)n * sizeof *r);
  m->radius = r[n - 1];
  m->t_max = t[n - 1];
  m->alpha = 1;
  return NA64_OK;
}

double na64_straw_drift_time(const na64_straw_drift *m, double r)
{
  if (!m || isnan(r)) return NAN;
  if (r < 0) r = 0;
  if (r > m->radius) r = m->radius;
  if (m->n >= 2) {
    /* first segment whose r range contains r (flat segments: the earliest time) */
    if (r <= m->r[0]) return m->t[0];
    for (int i = 1; i < m->n; ++i)
      if (r <= m->r[i]) {
        double dr = m->r[i] - m->r[i - 1];
        return dr > 0 ? m->t[i - 1] + (m->t[i] - m->t[i - 1]) * (r - m->r[i - 1]) / dr : m->t[i - 1];
      }
    return m->t[m->n - 1];
  }
  double x = r / m->radius;
  return m->t_max * (m->alpha * x + (1 - m->alpha) * x * x);
}

double na64_straw_drift_radius(const na64_straw_drift *m, double t)
{
  if (!m || isnan(t)) return NAN;
  if (m->n >= 2) {
    if (t <= m->t[0]) return m->r[0];
    for (int i = 1; i < m->n; ++i)
      if (t <= m->t[i]) return m->r[i - 1] + (m->r[i] - m->r[i - 1]) * (t - m->t[i - 1]) / (m->t[i] - m->t[i - 1]);
    return m->r[m->n - 1];
  }
  if (t <= 0) return 0;
  if (t >= m->t_max) return m->radius;
  double a = m->alpha, b = 1 - a, tau = t / m->t_max, x;
  if (b < 1e-12) x = tau;
  else x = 2 * tau / (a + sqrt(a * a + 4 * b * tau)); /* root of b x^2 + a x - tau = 0, cancellation-free */
  return x * m->radius;
}

double na64_straw_drift_velocity(const na64_straw_drift *m, double r)
{
  if (!m || isnan(r)) return NAN;
  if (r < 0) r = 0;
  if (r > m->radius) r = m->radius;
  if (m->n >= 2) {
    for (int i = 1; i < m->n; ++i)
      if (r <= m->r[i] || i == m->n - 1) {
        double dt = m->t[i] - m->t[i - 1];
        if (m->r[i] > m->r[i - 1] || i == m->n - 1) return (m->r[i] - m->r[i - 1]) / dt;
      }
    return 0;
  }
  double x = r / m->radius;
  return m->radius / (m->t_max * (m->alpha + 2 * (1 - m->alpha) * x));
}
