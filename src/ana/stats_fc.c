/*
 * Feldman-Cousins unified confidence intervals for a Poisson signal mean mu with a known
 * background b: G.J. Feldman and R.D. Cousins, Phys. Rev. D 57 (1998) 3873,
 * section on Poisson processes with background.
 *
 * For each mu the acceptance region is built by adding n in decreasing order of the likelihood
 * ratio (their ordering principle)
 *     R(n) = P(n | mu + b) / P(n | mu_best + b),   mu_best = max(0, n - b),
 * until the summed probability reaches cl. Hence n0 belongs to the region of mu exactly when
 *     sum_{n : R(n) > R(n0)} P(n | mu + b) < cl,
 * which is what fc_member() evaluates (exact sums, no grid in n). The confidence interval is the
 * set of mu whose region contains n0; its end points are located by a scan in mu followed by
 * bisection on the membership indicator, to 1e-6 absolute.
 */
#include "na64/ana.h"

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>

#define FC_MAX_B NA64_FC_MAX_B
#define FC_MAX_N NA64_FC_MAX_N
#define FC_TOL 1e-7 /* bisection end point, absolute in mu */

/* ln P(n | lam) */
static double fc_logp(int n, double lam, double loglam)
{
  if (lam <= 0) return n == 0 ? 0.0 : -INFINITY;
  return n * loglam - lam - gsl_sf_lnfact((unsigned)n);
}

/* ln R(n) = ln P(n | lam) - ln P(n | m), m = mu_best + b = max(n, b). */
static double fc_logr(int n, double lam, double loglam, double b)
{
  double m = n > b ? (double)n : b;
  if (m <= 0) return n == 0 ? -lam : -INFINITY; /* b = 0, n = 0: P(0|0) = 1 */
  double t = n > 0 ? n * (loglam - log(m)) : 0.0;
  return t - lam + m;
}

/* 1 if n0 is in the acceptance region of mu (background b, confidence cl).
 * R(n) is unimodal in n with its maximum at floor(mu + b) or the next integer (for n < b,
 * ln R = n ln((mu+b)/b) - mu rises with n; for n >= b, ln R = n ln((mu+b)/n) - (mu+b) + n peaks at
 * n = mu + b), so {n : R(n) > R(n0)} is a run of integers around the mode: walk outwards from the
 * mode, summing Poisson probabilities by their recurrence, until R drops to R(n0) or below. */
static int fc_member(int n0, double mu, double b, double cl)
{
  double lam = mu + b;
  if (lam <= 0) return n0 == 0; /* P(n | 0) is a delta at n = 0 */
  double loglam = log(lam);
  double r0 = fc_logr(n0, lam, loglam, b);
  double fm = floor(lam);
  if (fm > 2e9) fm = 2e9;
  int m = (int)fm;
  double pm = exp(fc_logp(m, lam, loglam));
  double sum = 0.0;
  /* downwards from the mode, n = m, m-1, ... */
  double p = pm;
  for (int n = m; n >= 0; --n) {
    if (n != n0) {
      if (!(fc_logr(n, lam, loglam, b) > r0)) break;
      sum += p;
      if (sum >= cl) return 0;
    } else {
      break; /* R(n0) is not > R(n0): the run ends here */
    }
    p *= n / lam;
  }
  /* upwards, n = m+1, m+2, ... */
  p = pm * lam / (m + 1.0);
  for (int n = m + 1;; ++n) {
    if (n == n0 || !(fc_logr(n, lam, loglam, b) > r0)) break;
    sum += p;
    if (sum >= cl) return 0;
    p *= lam / (n + 1.0);
  }
  return sum < cl;
}

#ifdef NA64_FC_SELFTEST
/* Reference: the plain definition, summing over all n (used to validate fc_member offline). */
static int fc_member_bruteforce(int n0, double mu, double b, double cl)
{
  double lam = mu + b;
  if (lam <= 0) return n0 == 0;
  double loglam = log(lam);
  double r0 = fc_logr(n0, lam, loglam, b);
  int nmax = (int)(lam + 12.0 * sqrt(lam) + 40.0);
  double sum = 0.0;
  for (int n = 0; n <= nmax; ++n)
    if (n != n0 && fc_logr(n, lam, loglam, b) > r0) sum += exp(fc_logp(n, lam, loglam));
  return sum < cl;
}
#endif

/* Bisection of the membership indicator between a (member == ma) and c (member != ma). */
static double fc_bisect(int n0, double b, double cl, double a, double c, int ma)
{
  while (fabs(c - a) > FC_TOL) {
    double m = 0.5 * (a + c);
    if (fc_member(n0, m, b, cl) == ma)
      a = m;
    else
      c = m;
  }
  return 0.5 * (a + c);
}

/* Scan step in mu. The accepted set of a given (n0, b) is one interval or, just after the jumps
 * discussed at fc_upper_sup, an interval plus a second piece above it whose width grows from 0
 * (checked offline for cl in {0.68, 0.9, 0.95, 0.99}: never more than two pieces for n0 <= 30,
 * b <= 20; the second piece always above the first for n0 <= 25, b <= 15). A piece narrower than the step can be missed, so the
 * raw upper end is resolved to within this step of b-distance from a jump. */
static double fc_step(int n0, double b) { return 0.002 * (1.0 + 0.1 * sqrt(n0 + b)); }

/* A mu above which n0 is rejected: beyond the point where P(n <= n0 | mu + b) < (1 - cl)/100
 * nearly all probability sits at n > n0 with larger R; the margin covers the case n0 < b, where
 * R(n0) is measured against mu_best = 0. Verified by the caller (member(top) must be false). */
static double fc_mu_top(int n0, double b, double cl)
{
  double x = gsl_cdf_gamma_Qinv(0.01 * (1.0 - cl), n0 + 1.0, 1.0);
  double t = x - b;
  if (!(t > 0)) t = 0;
  return t + 5.0 + 2.0 * sqrt(n0 + 1.0);
}

/* Largest accepted mu in [a, c], scanning down from c with step h then bisecting; -1 if none.
 * c must be rejected (the caller guarantees it or raises c). */
static double fc_top_in(int n0, double b, double cl, double a, double c, double h)
{
  while (fc_member(n0, c, b, cl)) c += 1.0 + c; /* keep the scan honest */
  for (double mu = c - h;; mu -= h) {
    double m = mu < a ? a : mu;
    if (fc_member(n0, m, b, cl)) return fc_bisect(n0, b, cl, m, m + h < c ? m + h : c, 1);
    if (m <= a) return -1.0;
  }
}

/* Raw upper end: the largest accepted mu (0 when n0 is accepted nowhere). */
static double fc_upper_raw(int n0, double b, double cl)
{
  double t = fc_top_in(n0, b, cl, 0.0, fc_mu_top(n0, b, cl), fc_step(n0, b));
  return t < 0 ? 0.0 : t;
}

/* A mu below which n0 is rejected (mirror of fc_mu_top): where P(n >= n0 | mu + b) <
 * (1 - cl)/100 nearly all probability sits at n < n0 with larger R. Same safety margin; the
 * caller checks that n0 is rejected there and falls back to 0 otherwise. */
static double fc_mu_bottom(int n0, double b, double cl)
{
  if (n0 == 0) return 0.0;
  double x = gsl_cdf_gamma_Pinv(0.01 * (1.0 - cl), (double)n0, 1.0);
  double t = x - b - 5.0 - 2.0 * sqrt(n0 + 1.0);
  return t > 0 ? t : 0.0;
}

/* Raw lower end: smallest accepted mu (0 when mu = 0 accepts n0). */
static double fc_lower_raw(int n0, double b, double cl, double hi)
{
  if (fc_member(n0, 0.0, b, cl)) return 0.0;
  double start = fc_mu_bottom(n0, b, cl);
  if (start >= hi || fc_member(n0, start, b, cl)) start = 0.0;
  double h = fc_step(n0, b);
  for (double mu = start + h; mu <= hi + h; mu += h)
    if (fc_member(n0, mu, b, cl)) return fc_bisect(n0, b, cl, mu, mu - h, 1);
  return hi;
}

/* sup_{b' >= b} of the raw upper end (NA64_FC_B_MONOTONE).
 * As b grows the raw upper end falls smoothly, then jumps up where a second accepted piece
 * appears above the first (at a single point, then widening). FC discuss this discreteness
 * effect in the Poisson section; their tables are non-increasing in b and agree with this supremum (see
 * tests/ana/test_stats.c). Found numerically (offline scan of the accepted set on a 0.002 grid
 * in mu, n0 <= 30, b <= 20 in steps of 0.05, cl = 0.68, 0.9, 0.95, 0.99): never more than two
 * pieces, jumps spaced by 0.8-2 in b and at most 0.42 high (FC_JMAX = 1 leaves a factor 2.4),
 * successive jump tops decreasing.
 * So the scan in b' on a grid of FC_BSTEP stops once a jump has been seen and FC_BWIN covered, or
 * once raw(b') + FC_JMAX cannot exceed the best value any more. Each upward step is refined by
 * bisection in b' for the right-hand limit of the jump (the top of the new piece where it
 * appears), looking for that piece near its known top with a fine mu step: resolution ~1e-4. */
#define FC_BSTEP 0.01
#define FC_BWIN 2.0
#define FC_JMAX 1.0
#define FC_BMAXWIN 25.0
static double fc_upper_sup(int n0, double b, double cl, double raw_at_b)
{
  double best = raw_at_b;
  double prev_b = b, prev = raw_at_b;
  const double margin = FC_JMAX;
  int seen_jump = 0;
  for (int k = 1; k * FC_BSTEP <= FC_BMAXWIN; ++k) {
    double bk = b + k * FC_BSTEP;
    if (seen_jump && k * FC_BSTEP > FC_BWIN) break;
    if (prev + FC_JMAX < best) break;
    double h = fc_step(n0, bk);
    double v = fc_top_in(n0, bk, cl, 0.0, (best > prev ? best : prev) + margin, 2.5 * h);
    if (v < 0) v = 0;
    if (v > prev + 1e-5) { /* above the 1e-7 noise of the end points: a jump before bk */
      /* The coarse scan misses the new piece while it is narrower than its step, so the jump
       * may lie a few grid steps before prev_b: move the left end back until the fine search
       * finds no piece there. The new piece at b'' < rb has its top in [rv, rv + 2 (rb - b'')]
       * (|d top / d b| < 1). */
      double rb = bk, rv = v, lb = prev_b;
      for (;;) {
        double t = fc_top_in(n0, lb, cl, rv - 1e-3, rv + 2.0 * (rb - lb) + 1e-3, 5e-5);
        if (t < 0) break;     /* lb is before the jump */
        rb = lb;
        rv = t;
        if (lb <= b) break;   /* the piece exists already at b: its top at b is the value */
        lb = lb - FC_BSTEP > b ? lb - FC_BSTEP : b;
      }
      while (rb - lb > 1e-7) {
        double mb = 0.5 * (lb + rb);
        double t = fc_top_in(n0, mb, cl, rv - 1e-3, rv + 2.0 * (rb - mb) + 1e-3, 5e-5);
        if (t > 0) {
          rb = mb;
          rv = t;
        } else {
          lb = mb;
        }
      }
      if (rv > best) best = rv;
      seen_jump = 1;
    }
    if (v > best) best = v;
    prev_b = bk;
    prev = v;
  }
  return best;
}

int na64_stats_fc_interval_ex(int n_obs, double b, double cl, int flags, double *lo, double *hi,
                              na64_err *err)
{
  static const char *where = "na64_stats_fc_interval";
  if (!lo || !hi) return na64_err_set(err, NA64_EINVAL, "%s: NULL output pointer", where);
  if (!(cl > 0.0 && cl < 1.0))
    return na64_err_set(err, NA64_EINVAL, "%s: confidence level cl = %g outside (0, 1)", where, cl);
  if (n_obs < 0)
    return na64_err_set(err, NA64_EINVAL, "%s: observed events n_obs = %d is negative", where,
                        n_obs);
  if (n_obs > FC_MAX_N)
    return na64_err_set(err, NA64_ERANGE, "%s: n_obs = %d above %d", where, n_obs, FC_MAX_N);
  if (!isfinite(b) || b < 0)
    return na64_err_set(err, NA64_EINVAL, "%s: background b = %g must be finite and >= 0", where,
                        b);
  if (b > FC_MAX_B)
    return na64_err_set(err, NA64_ERANGE, "%s: background b = %g above %g", where, b, FC_MAX_B);
  if (flags & ~NA64_FC_B_MONOTONE)
    return na64_err_set(err, NA64_EINVAL, "%s: unknown flags 0x%x", where, (unsigned)flags);

  double up = fc_upper_raw(n_obs, b, cl);
  double low = fc_lower_raw(n_obs, b, cl, up);
  if (flags & NA64_FC_B_MONOTONE) up = fc_upper_sup(n_obs, b, cl, up);
  *lo = low;
  *hi = up;
  return NA64_OK;
}

int na64_stats_fc_interval(int n_obs, double b, double cl, double *lo, double *hi, na64_err *err)
{
  return na64_stats_fc_interval_ex(n_obs, b, cl, NA64_FC_B_MONOTONE, lo, hi, err);
}
