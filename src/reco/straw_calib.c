/* Straw calibration: t0 per channel from the leading edge of the drift-time spectrum and r(t) per
 * plane by the integration method; method, choices and measured accuracy in docs/straw.md §2.
 *
 * t0. The drift-time spectrum of a uniformly illuminated straw is dN/dt = (N / R) dr/dt for
 * 0 < t < t_max on a flat background of noise hits, smeared by the time resolution. t0 (the time of
 * a hit at zero drift distance, docs/conditions.md) is found in three steps:
 *  - the plane's template: the spectra of its channels aligned on their coarse edges (5 % point of
 *    the background-subtracted cumulative), whose leading edge is fitted with a Gaussian-smeared
 *    step with a quadratic plateau on a flat background (the Gaussian-resolution form of the Fermi
 *    function fitted to MDT drift-time spectra, see edge_mu below): its zero, resolution and
 *    plateau shape;
 *  - every channel with at least min_hits: the maximum-likelihood shift of the normalised template
 *    without the channel's own hits (binned Poisson likelihood), with a likelihood-interval error;
 *    this is the robust low-statistics method (method "template");
 *  - channels with at least min_hits_fit: their own leading-edge fit with t0, amplitude and
 *    background free and the resolution and plateau shape of the template (method "fit").
 * Fits maximise the binned Poisson likelihood (Levenberg-Marquardt with Fisher scoring on the
 * deviance, S. Baker and R.D. Cousins, NIM 221 (1984) 437).
 *
 * r(t). Under uniform illumination in r the fraction of hits with drift time below t is r(t) / R, so
 * r(t) = R * integral_0^t (dN/dt') dt' / N: the integration method used for drift tubes since the
 * ATLAS MDT and COMPASS straw calibrations (docs/straw.md cites the sources). The spectra of all
 * calibrated channels of a plane are aligned on their t0, background-subtracted and integrated; the
 * table ends where r reaches R, extrapolated from the 98 % point with the drift velocity there. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"


typedef struct cal_plane {
  const na64_geom_plane *p;
  uint32_t *hist;          /* [nwires * nbins] */
  na64_straw_plane_calib res;
} cal_plane;

struct na64_straw_calib {
  const na64_geom *g;
  na64_straw_calib_options opt;
  double bw;               /* histogram bin width, ns */
  double lo;               /* lower edge of bin 0, ns */
  int nbins;
  int nplanes;
  cal_plane *planes;
  int *map;                /* [g->nplanes]: index in planes or -1 */
  uint64_t entries, rejected;
};

const char *na64_straw_t0_method_name(int method)
{
  switch (method) {
  case NA64_STRAW_T0_FIT: return "fit";
  case NA64_STRAW_T0_TEMPLATE: return "template";
  default: return "none";
  }
}

void na64_straw_calib_options_default(na64_straw_calib_options *o)
{
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->bin_ns = 4 * NA64_DAQ_F1_DEFAULT_BIN_NS;
  o->t_lo = -500;
  o->t_hi = 1500;
  o->min_hits_fit = 200;
  o->min_hits = 10;
  o->rt_step = 0;
}

void na64_straw_calib_free(na64_straw_calib *c)
{
  if (!c) return;
  for (int i = 0; i < c->nplanes; ++i) {
    free(c->planes[i].hist);
    free(c->planes[i].res.channels);
  }
  free(c->planes);
  free(c->map);
  free(c);
}

int na64_straw_calib_new(const na64_geom *g, const na64_straw_calib_options *opt, na64_straw_calib **out,
                         na64_err *err)
{
  if (!g || !out) return na64_err_set(err, NA64_EINVAL, "na64_straw_calib_new: NULL argument");
  *out = NULL;
  na64_straw_calib_options o;
  if (opt) o = *opt;
  else na64_straw_calib_options_default(&o);
  if (!(o.bin_ns > 0.01) || o.bin_ns > 50)
    return na64_err_set(err, NA64_EINVAL, "straw calibration: histogram bin %g ns is outside [0.01, 50]", o.bin_ns);
  if (!isfinite(o.t_lo) || !isfinite(o.t_hi) || !(o.t_hi - o.t_lo >= 20 * o.bin_ns) || o.t_hi - o.t_lo > 1e5)
    return na64_err_set(err, NA64_EINVAL, "straw calibration: time range [%g, %g] ns is not 20 bins to 100 us long",
                        o.t_lo, o.t_hi);
  if (o.min_hits < 3) o.min_hits = 3;
  if (o.min_hits_fit < o.min_hits) o.min_hits_fit = o.min_hits;
  if (!(o.rt_step >= 0) || o.rt_step > 100)
    return na64_err_set(err, NA64_EINVAL, "straw calibration: r(t) step %g ns is outside [0, 100]", o.rt_step);
  na64_straw_calib *c = calloc(1, sizeof *c);
  if (!c) return na64_err_set(err, NA64_ENOMEM, "straw calibration: out of memory");
  c->g = g;
  c->opt = o;
  c->bw = o.bin_ns;
  /* Bin edges half a TDC bin below multiples of the bin width, so that times that are multiples of
   * the TDC bin (all F1 times) never fall on an edge when bin_ns is a multiple of the TDC bin. */
  c->lo = floor(o.t_lo / c->bw) * c->bw - 0.5 * NA64_DAQ_F1_DEFAULT_BIN_NS;
  c->nbins = (int)ceil((o.t_hi - c->lo) / c->bw);
  size_t np = g->nplanes > 0 ? (size_t)g->nplanes : 1;
  c->map = malloc(np * sizeof *c->map);
  c->planes = calloc(np, sizeof *c->planes);
  if (!c->map || !c->planes) {
    na64_straw_calib_free(c);
    return na64_err_set(err, NA64_ENOMEM, "straw calibration: out of memory");
  }
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *p = &g->planes[i];
    c->map[i] = -1;
    if (p->kind != NA64_DET_STRAW || p->nwires <= 0) continue;
    cal_plane *cp = &c->planes[c->nplanes];
    cp->p = p;
    cp->hist = calloc((size_t)p->nwires * (size_t)c->nbins, sizeof *cp->hist);
    cp->res.channels = calloc((size_t)p->nwires, sizeof *cp->res.channels);
    c->nplanes++;
    if (!cp->hist || !cp->res.channels) {
      na64_straw_calib_free(c);
      return na64_err_set(err, NA64_ENOMEM, "straw calibration: out of memory for %d x %d bins", p->nwires, c->nbins);
    }
    cp->res.plane = i;
    snprintf(cp->res.name, sizeof cp->res.name, "%s", p->name);
    cp->res.nwires = p->nwires;
    cp->res.radius = p->diameter / 2;
    cp->res.status = NA64_ENOTFOUND;
    snprintf(cp->res.message, sizeof cp->res.message, "not computed");
    c->map[i] = c->nplanes - 1;
  }
  *out = c;
  return NA64_OK;
}

int na64_straw_calib_add(na64_straw_calib *c, const na64_straw_digit *d, size_t n, na64_err *err)
{
  if (!c || (!d && n)) return na64_err_set(err, NA64_EINVAL, "na64_straw_calib_add: NULL argument");
  const double lo = c->lo, inv = 1.0 / c->bw;
  const int nb = c->nbins, np = c->g->nplanes;
  uint64_t ok = 0;
  for (size_t i = 0; i < n; ++i) {
    int pl = d[i].plane;
    if (pl < 0 || pl >= np || c->map[pl] < 0) continue;
    cal_plane *cp = &c->planes[c->map[pl]];
    double x = (d[i].raw - lo) * inv;
    if (!(x >= 0 && x < nb) || d[i].wire < 0 || d[i].wire >= cp->p->nwires) continue;
    cp->hist[(size_t)d[i].wire * (size_t)nb + (size_t)x]++;
    ok++;
  }
  c->entries += ok;
  c->rejected += n - ok;
  return NA64_OK;
}

uint64_t na64_straw_calib_entries(const na64_straw_calib *c) { return c ? c->entries : 0; }
uint64_t na64_straw_calib_rejected(const na64_straw_calib *c) { return c ? c->rejected : 0; }
int na64_straw_calib_nplanes(const na64_straw_calib *c) { return c ? c->nplanes : 0; }

const na64_straw_plane_calib *na64_straw_calib_plane(const na64_straw_calib *c, int i)
{
  return c && i >= 0 && i < c->nplanes ? &c->planes[i].res : NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Small dense linear algebra (5 x 5)
 * ------------------------------------------------------------------------------------------- */

#define NPAR 6

/* Solve a x = b (n x n, row-major, destroyed) by Gaussian elimination with partial pivoting. */
static int solve(double *a, double *b, int n)
{
  for (int k = 0; k < n; ++k) {
    int piv = k;
    for (int i = k + 1; i < n; ++i)
      if (fabs(a[i * n + k]) > fabs(a[piv * n + k])) piv = i;
    if (!(fabs(a[piv * n + k]) > 1e-300)) return -1;
    if (piv != k) {
      for (int j = 0; j < n; ++j) {
        double t = a[k * n + j];
        a[k * n + j] = a[piv * n + j];
        a[piv * n + j] = t;
      }
      double t = b[k];
      b[k] = b[piv];
      b[piv] = t;
    }
    for (int i = k + 1; i < n; ++i) {
      double f = a[i * n + k] / a[k * n + k];
      for (int j = k; j < n; ++j) a[i * n + j] -= f * a[k * n + j];
      b[i] -= f * b[k];
    }
  }
  for (int k = n - 1; k >= 0; --k) {
    double s = b[k];
    for (int j = k + 1; j < n; ++j) s -= a[k * n + j] * b[j];
    b[k] = s / a[k * n + k];
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Leading-edge fit (binned Poisson likelihood)
 *
 * Model: a step at t0 whose density continues as A (1 + s tau + q tau^2) (tau = t - t0; the drift
 * spectrum N/R dr/dt falls steeply after the edge in a cool gas), convolved with a Gaussian time
 * resolution sigma, on a flat background B. With the moments of the truncated Gaussian,
 *     int_0^inf u^k N(u; tau, sigma) du = Phi(z), tau Phi + sigma phi, (tau^2 + sigma^2) Phi + tau sigma phi
 * (z = tau / sigma, Phi and phi the standard normal cdf and density), the expectation is exactly
 *     mu(t) = B + A [Phi(z) (1 + s tau + q (tau^2 + sigma^2)) + sigma phi(z) (s + q tau)].
 * It is the Gaussian-resolution form of the Fermi edge used for MDT t0 fits; t0 is then the time at
 * zero drift distance without a shape bias from the falling plateau, and sigma the time resolution.
 * ------------------------------------------------------------------------------------------- */

#define COARSE_MIN 20   /* hits for a channel's own coarse edge */
#define SPREAD_MAX 40.0 /* ns: largest t0 difference to the plane's coarse edge searched for */

typedef struct edge_fit {
  double p[NPAR];  /* t0, sigma, A, B, s, q (A, B per ns) */
  double t0_err;
  int ok;
} edge_fit;

enum { P_T0 = 0, P_SIG, P_A, P_B, P_S, P_Q };

/* Expected counts in a bin of width bw centred at t, and the derivatives. */
static double edge_mu(const double *p, double t, double bw, double *J)
{
  const double tau = t - p[P_T0], sg = p[P_SIG], z = tau / sg, s = p[P_S], q = p[P_Q];
  const double Phi = 0.5 * erfc(-z * 0.70710678118654752), phi = 0.39894228040143268 * exp(-0.5 * z * z);
  const double P = 1 + s * tau + q * (tau * tau + sg * sg), Q = s + q * tau;
  const double G = Phi * P + sg * phi * Q;
  if (J) {
    J[P_T0] = -bw * p[P_A] * (Phi * (s + 2 * q * tau) + phi * (1 / sg + 2 * q * sg));
    J[P_SIG] = bw * p[P_A] * (-(z * phi / sg) * P + 2 * q * sg * Phi + phi * Q * (1 + z * z));
    J[P_A] = bw * G;
    J[P_B] = bw;
    J[P_S] = bw * p[P_A] * (Phi * tau + sg * phi);
    J[P_Q] = bw * p[P_A] * (Phi * (tau * tau + sg * sg) + sg * phi * tau);
  }
  return bw * (p[P_B] + p[P_A] * G);
}

static double deviance(const double *p, const double *t, const double *n, int m, double bw)
{
  double d = 0;
  for (int i = 0; i < m; ++i) {
    double mu = edge_mu(p, t[i], bw, NULL);
    if (!(mu > 0)) return INFINITY;
    d += mu - n[i];
    if (n[i] > 0) d += n[i] * log(n[i] / mu);
  }
  return 2 * d;
}

static void clamp_params(double *p, double tlo, double thi)
{
  if (p[P_T0] < tlo) p[P_T0] = tlo;
  if (p[P_T0] > thi) p[P_T0] = thi;
  if (p[P_SIG] < 0.05) p[P_SIG] = 0.05;
  if (p[P_SIG] > 20) p[P_SIG] = 20;
  if (p[P_A] < 1e-9) p[P_A] = 1e-9;
  if (p[P_B] < 1e-9) p[P_B] = 1e-9;
}

/* Fisher information of the free parameters at p (fixed ones decoupled with a unit diagonal). */
static void fisher(const double *p, const double *t, const double *n, int m, double bw, const int *fixed, double *H,
                   double *g)
{
  double J[NPAR];
  memset(H, 0, NPAR * NPAR * sizeof *H);
  if (g) memset(g, 0, NPAR * sizeof *g);
  for (int i = 0; i < m; ++i) {
    double mu = edge_mu(p, t[i], bw, J);
    if (!(mu > 0)) mu = 1e-12;
    double r = (n[i] - mu) / mu;
    for (int a = 0; a < NPAR; ++a) {
      if (fixed[a]) continue;
      if (g) g[a] += J[a] * r;
      for (int b = 0; b <= a; ++b)
        if (!fixed[b]) H[a * NPAR + b] += J[a] * J[b] / mu;
    }
  }
  for (int a = 0; a < NPAR; ++a) {
    if (fixed[a]) H[a * NPAR + a] = 1;
    for (int b = a + 1; b < NPAR; ++b) H[a * NPAR + b] = H[b * NPAR + a];
  }
}

/* Levenberg-Marquardt with Fisher scoring on the Poisson deviance (the binned likelihood of Baker &
 * Cousins). t: bin centres, n: counts (non-integer for templates). The fit range is [t[0], t[m-1]].
 * fixed[k] = 1 keeps parameter k at its start value. */
static void fit_edge(const double *t, const double *n, int m, double bw, const double *start, const int *fixed,
                     edge_fit *f)
{
  f->ok = 0;
  f->t0_err = NAN;
  memcpy(f->p, start, sizeof f->p);
  if (m < 8) return;
  double tlo = t[0], thi = t[m - 1];
  clamp_params(f->p, tlo, thi);
  double D = deviance(f->p, t, n, m, bw), lambda = 1e-3;
  if (!isfinite(D)) return;
  int converged = 0;
  for (int it = 0; it < 200 && !converged; ++it) {
    double H[NPAR * NPAR], g[NPAR];
    fisher(f->p, t, n, m, bw, fixed, H, g);
    int improved = 0;
    for (int tries = 0; tries < 12 && !improved; ++tries) {
      double A[NPAR * NPAR], step[NPAR], q[NPAR];
      memcpy(A, H, sizeof A);
      for (int a = 0; a < NPAR; ++a) A[a * NPAR + a] += lambda * (H[a * NPAR + a] + 1e-12);
      memcpy(step, g, sizeof step);
      if (solve(A, step, NPAR) != 0) {
        lambda *= 10;
        continue;
      }
      for (int a = 0; a < NPAR; ++a) q[a] = fixed[a] ? f->p[a] : f->p[a] + step[a];
      clamp_params(q, tlo, thi);
      double Dq = deviance(q, t, n, m, bw);
      if (Dq <= D) {
        double dt0 = fabs(q[P_T0] - f->p[P_T0]);
        converged = dt0 < 1e-4 && D - Dq < 1e-7 * (1 + D);
        memcpy(f->p, q, sizeof q);
        D = Dq;
        lambda = lambda > 1e-9 ? lambda * 0.3 : lambda;
        improved = 1;
      } else {
        lambda *= 10;
      }
    }
    if (!improved) converged = 1; /* no step lowers the deviance: at the minimum within precision */
  }
  /* error of t0 from the inverse Fisher matrix at the minimum: var(t0) = (H^-1)_00 */
  double H[NPAR * NPAR], e[NPAR] = {1, 0, 0, 0, 0, 0};
  fisher(f->p, t, n, m, bw, fixed, H, NULL);
  if (solve(H, e, NPAR) == 0 && e[0] > 0) f->t0_err = sqrt(e[0]);
  f->ok = converged && isfinite(f->t0_err);
}

/* ---------------------------------------------------------------------------------------------
 * Per-plane computation
 * ------------------------------------------------------------------------------------------- */

/* Working state of one plane. */
typedef struct plane_work {
  int nb, jf, jl;      /* bins; occupied range [jf, jl] of the plane sum */
  double bw, lo;
  double *bg;          /* [nwires] background per bin */
  double *t5;          /* [nwires] coarse edge (5 % point of the signal), ns; NaN if unusable */
  int *own;            /* [nwires] 1 if t5 comes from the channel's own hits, 0 if from the plane's */
  double *align;       /* [nwires] the alignment of the channel in the current template, NaN if not in it */
  int *jj;             /* scratch, nb: bins with hits */
  double *nn;          /* scratch, nb: their counts */
  double tmax_est;     /* rough drift length, ns */
  double *buf_t, *buf_n; /* scratch, nb each */
} plane_work;

static double bin_centre(const plane_work *w, int j) { return w->lo + (j + 0.5) * w->bw; }

/* Time at which the cumulative of (h - bg) over [jf, jl] reaches fraction q of its total; NaN if the
 * total is not positive. The spectrum is either counts (hu) or a plane sum of doubles (hd). */
static double cumulative_at(const plane_work *w, const uint32_t *hu, const double *hd, double bg, double q)
{
  double tot = 0;
  for (int j = w->jf; j <= w->jl; ++j) tot += (hu ? hu[j] : hd[j]) - bg;
  if (!(tot > 0)) return NAN;
  double c = 0, target = q * tot;
  for (int j = w->jf; j <= w->jl; ++j) {
    double v = (hu ? hu[j] : hd[j]) - bg;
    if (c + v >= target && v > 0) return w->lo + (j + (target - c) / v) * w->bw;
    c += v;
  }
  return bin_centre(w, w->jl);
}

static double cumulative_point(const plane_work *w, const uint32_t *h, double bg, double q)
{
  return cumulative_at(w, h, NULL, bg, q);
}

static double cumulative_point_d(const plane_work *w, const double *h, double bg, double q)
{
  return cumulative_at(w, NULL, h, bg, q);
}

/* Aligned, background-subtracted spectrum on the grid tau_m = (m - m0) * bw, accumulated with
 * linear (cloud-in-cell) weights so that sub-bin t0 differences are preserved on average. */
typedef struct aligned {
  int n, m0;      /* cells; cell m is at tau = (m - m0) * bw */
  double bw;
  double *v;
} aligned;

static void align_add(aligned *a, const plane_work *w, const uint32_t *h, double bg, double t0, double weight)
{
  for (int j = w->jf; j <= w->jl; ++j) {
    double c = weight * (h[j] - bg);
    if (c == 0) continue;
    double x = (bin_centre(w, j) - t0) / a->bw + a->m0;
    double fl = floor(x);
    int m = (int)fl;
    double f = x - fl;
    if (m >= 0 && m < a->n) a->v[m] += (1 - f) * c;
    if (m + 1 >= 0 && m + 1 < a->n) a->v[m + 1] += f * c;
  }
}

/* Linear interpolation of an aligned spectrum at tau (ns), 0 outside. */
static double aligned_at(const aligned *a, double tau)
{
  double x = tau / a->bw + a->m0;
  double fl = floor(x);
  int m = (int)fl;
  double f = x - fl;
  double v0 = (m >= 0 && m < a->n) ? a->v[m] : 0, v1 = (m + 1 >= 0 && m + 1 < a->n) ? a->v[m + 1] : 0;
  return (1 - f) * v0 + f * v1;
}

/* Leading-edge fit of one histogram (counts h) around the edge estimate te: t0, amplitude and
 * background free, resolution and plateau shape fixed to `shape` (the plane template's fit), over the
 * same range relative to the edge as the template's fit: 25 ns before it (background) to `after`
 * ns after it. */
static void fit_channel(plane_work *w, const uint32_t *h, double bg, double te, const double *shape, double after,
                        edge_fit *f)
{
  double a = te - 25, b = te + after;
  int m = 0;
  double plateau = 0;
  int nplat = 0;
  for (int j = w->jf; j <= w->jl; ++j) {
    double t = bin_centre(w, j);
    if (t < a || t > b) continue;
    w->buf_t[m] = t;
    w->buf_n[m] = h[j];
    m++;
    if (t > te) {
      plateau += h[j] - bg;
      nplat++;
    }
  }
  double start[NPAR] = {te, shape[P_SIG], nplat ? plateau / nplat / w->bw : 1.0, bg / w->bw + 1e-6, shape[P_S],
                        shape[P_Q]};
  if (start[P_A] <= 0) start[P_A] = 1.0 / w->bw;
  int fixed[NPAR] = {0, 1, 0, 0, 1, 1};
  fit_edge(w->buf_t, w->buf_n, m, w->bw, start, fixed, f);
  /* reject fits that ran to the range limits or have implausible errors */
  if (f->ok && (f->p[P_T0] < a + 3 || f->p[P_T0] > b - 1 || f->t0_err > 1.5 || !(f->p[P_A] > 0))) f->ok = 0;
}

/* Binned Poisson log-likelihood of a channel for the template shifted by d on a flat background b
 * per bin, up to terms independent of d: sum over the bins with hits of n_j log(mu_j). The other
 * term, -sum mu_j, does not depend on d: the bins searched cover the template at every shift, and a
 * piecewise-linear template sampled at its own cell spacing keeps its sum under any shift. */
static double shift_loglik(const plane_work *w, const int *jj, const double *nn, int m, double b, double scale,
                           const aligned *tpl, double d)
{
  /* the histogram bins and the template cells have the same width, so the interpolation weight is
   * the same for every bin and the cell index advances with the bin index */
  double x0 = (bin_centre(w, jj[0]) - d) / tpl->bw + tpl->m0, fl = floor(x0), f = x0 - fl;
  const int base = (int)fl - jj[0], n = tpl->n;
  const double *v = tpl->v;
  double L = 0;
  for (int k = 0; k < m; ++k) {
    int c = base + jj[k];
    double a = (c >= 0 && c < n) ? v[c] : 0, a1 = (c + 1 >= 0 && c + 1 < n) ? v[c + 1] : 0;
    double t = (1 - f) * a + f * a1;
    L += nn[k] * log(b + (t > 0 ? scale * t : 0));
  }
  return L;
}

/* Maximum-likelihood shift of the template tpl (normalised to unit sum, tau = 0 at its t0, cells of
 * the histogram's width) for a channel with counts h and background bg per bin, searched in
 * [centre - half, centre + half] in steps of `step`, refined by a parabola through the best point
 * and its neighbours. With `final`, a fine scan (0.02 ns) refines it and *err_out receives half the
 * width of the interval where log L is within 1/2 of its maximum (a likelihood interval, honest at
 * low counts where log L is not parabolic); otherwise *err_out is NaN. jj, nn: scratch of nb. */
static double template_shift(const plane_work *w, const uint32_t *h, double bg, const aligned *tpl, double centre,
                             double half, double step0, int final, int *jj, double *nn, double *err_out)
{
  double tot = 0;
  for (int j = w->jf; j <= w->jl; ++j) tot += h[j];
  double nocc = w->jl - w->jf + 1;
  double b = bg > 0.5 / nocc ? bg : 0.5 / nocc; /* a floor keeps log(mu) finite for stray hits */
  double S = tot - bg * nocc;
  if (S < 1) S = 1;
  double scale = S; /* template cells have the histogram's bin width (shift_loglik relies on it) */
  double tau_lo = -tpl->m0 * tpl->bw, tau_hi = (tpl->n - 1 - tpl->m0) * tpl->bw;
  int jlo = (int)floor((centre - half + tau_lo - w->lo) / w->bw) - 1, jhi = (int)ceil((centre + half + tau_hi - w->lo) / w->bw) + 1;
  if (jlo < w->jf) jlo = w->jf;
  if (jhi > w->jl) jhi = w->jl;
  *err_out = NAN;
  int m = 0;
  for (int j = jlo; j <= jhi; ++j)
    if (h[j]) {
      jj[m] = j;
      nn[m++] = h[j];
    }
  if (!m) return NAN;
  /* coarse scan, then a scan at a quarter of its step around the best point */
  double shift = centre;
  for (int stage = 0; stage < 2; ++stage) {
    double st = stage ? step0 / 4 : step0, c0 = stage ? shift : centre, hw = stage ? 1.5 * step0 : half;
    int ns = (int)floor(2 * hw / st + 1e-9) + 1, kbest = -2;
    double best = -INFINITY, best_d = c0, lm = -INFINITY, lp = -INFINITY, prev = -INFINITY;
    for (int k = 0; k < ns; ++k) {
      double d = c0 - hw + k * st, L = shift_loglik(w, jj, nn, m, b, scale, tpl, d);
      if (L > best) {
        best = L;
        best_d = d;
        kbest = k;
        lm = prev;
        lp = -INFINITY;
      } else if (k == kbest + 1) {
        lp = L;
      }
      prev = L;
    }
    shift = best_d;
    if (isfinite(lm) && isfinite(lp) && lm - 2 * best + lp < 0) shift += 0.5 * st * (lm - lp) / (lm - 2 * best + lp);
  }
  if (!final) return shift;
  /* fine scan over +-0.4 ns around the refined maximum */
  enum { NF = 41 };
  const double step = 0.02;
  double ll[NF], d0 = shift - (NF / 2) * step, best = -INFINITY;
  int kb = NF / 2;
  for (int k = 0; k < NF; ++k) {
    ll[k] = shift_loglik(w, jj, nn, m, b, scale, tpl, d0 + k * step);
    if (ll[k] > best) {
      best = ll[k];
      kb = k;
    }
  }
  shift = d0 + kb * step;
  if (kb > 0 && kb < NF - 1) {
    double y0 = ll[kb - 1], y1 = ll[kb], y2 = ll[kb + 1], den = y0 - 2 * y1 + y2;
    if (den < 0) shift += 0.5 * step * (y0 - y2) / den;
  }
  /* the likelihood interval, searched to +-4 ns in 0.1 ns steps (linear interpolation between) */
  double dl[2] = {4, 4};
  for (int side = 0; side < 2; ++side) {
    double prev_d = 0, prev_l = best;
    for (double dd = 0.1; dd <= 4.0 + 1e-9; dd += 0.1) {
      double l = shift_loglik(w, jj, nn, m, b, scale, tpl, shift + (side ? dd : -dd));
      if (l < best - 0.5) {
        dl[side] = prev_d + (dd - prev_d) * (prev_l - (best - 0.5)) / (prev_l - l);
        break;
      }
      prev_d = dd;
      prev_l = l;
    }
  }
  *err_out = 0.5 * (dl[0] + dl[1]);
  return shift;
}

/* Leading-edge fit of a template with every shape parameter free, first over 8 % of the drift
 * length after the edge, then over 6 sigma (5 to 16 ns): long enough for the plateau terms not to
 * trade off against t0 (statistical error ~0.1 ns at 1e5 hits), short enough for the quadratic to
 * follow the falling drift spectrum (model bias <~ 0.1 ns, docs/straw.md). Fills shape (shape[P_T0]
 * = the offset of the template's zero) and *after; returns 1 on success. */
static int template_edge(const aligned *tpl, plane_work *w, double tmax_est, double *shape, double *after)
{
  double range = 0.08 * tmax_est;
  edge_fit f;
  f.ok = 0;
  for (int iter = 0; iter < 2; ++iter) {
    if (range < 5) range = 5;
    if (range > (iter ? 16 : 12)) range = iter ? 16 : 12;
    int m = 0;
    double peak = 0;
    for (int k = 0; k < tpl->n; ++k) {
      double tau = (k - tpl->m0) * tpl->bw;
      if (tau < -25 || tau > range || m >= w->nb) continue;
      w->buf_t[m] = tau;
      w->buf_n[m] = tpl->v[k] > 0 ? tpl->v[k] : 0;
      if (tau > 0 && w->buf_n[m] > peak) peak = w->buf_n[m];
      m++;
    }
    double start[NPAR] = {0, 1.5, peak > 0 ? peak / tpl->bw : 1, 1e-6, 0, 0};
    int fixed[NPAR] = {0};
    fit_edge(w->buf_t, w->buf_n, m, tpl->bw, start, fixed, &f);
    if (!f.ok || fabs(f.p[P_T0]) > 10 || !(f.p[P_SIG] > 0.1 && f.p[P_SIG] < 10)) return 0;
    *after = range;
    range = 6 * f.p[P_SIG];
  }
  memcpy(shape, f.p, sizeof f.p);
  return 1;
}

/* The normalised template for the likelihood shifts from an aligned sum: moved so that tau = 0 is
 * the edge fit's t0 (offset off), zero before -15 ns (background only) and where negative,
 * normalised to unit sum, and smoothed against the statistical noise that the likelihood would
 * otherwise fit: one cell each side at the edges, +-2 ns on the slowly varying plateau between
 * them (tau in [3 sigma, tmax - 3 sigma]). out has the size of sum. Returns 0, or -1 if empty. */
static int make_template(const aligned *sum, double off, double sg, double tmax, double *tmp, aligned *out)
{
  const int n = sum->n;
  for (int k = 0; k < n; ++k) {
    double tau = (k - sum->m0) * sum->bw;
    double v = aligned_at(sum, tau + off);
    tmp[k] = (v > 0 && tau >= -15) ? v : 0;
  }
  double tot = 0;
  for (int k = 0; k < n; ++k) {
    double tau = (k - sum->m0) * sum->bw, acc = 0;
    int hw = (tau > 3 * sg && tau < tmax - 3 * sg) ? (int)lround(2.0 / sum->bw) : 1, cnt = 0;
    for (int q = k - hw; q <= k + hw; ++q)
      if (q >= 0 && q < n) {
        acc += tmp[q];
        cnt++;
      }
    out->v[k] = acc / cnt;
    tot += out->v[k];
  }
  if (!(tot > 0)) return -1;
  for (int k = 0; k < n; ++k) out->v[k] /= tot;
  return 0;
}

__attribute__((format(printf, 3, 4))) static void plane_fail(na64_straw_plane_calib *r, int status, const char *fmt,
                                                             ...)
{
  r->status = status;
  r->rt_n = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
}

/* The state of one plane's calibration, shared by the numbered steps of compute_plane. A step
 * returns NA64_OK to go on, STEP_STOP when the plane cannot be calibrated (the reason is in the
 * plane's status and message; the other planes go on), or a negative status (out of memory). */
enum { STEP_STOP = 1 };

typedef struct plane_ctx {
  const na64_straw_calib *c;
  cal_plane *cp;
  na64_straw_plane_calib *r;
  const na64_geom_plane *p;
  int nw, nb;
  double R;            /* straw radius, cm */
  plane_work w;
  double *sum;         /* [nb] plane sum */
  double *smooth;      /* [nb] plane sum smoothed over 4 ns */
  int *use;            /* [nw] channel calibrated: in the r(t) spectrum */
  aligned tpl, al;     /* the template (step 5) and the coarse/fine aligned spectrum (steps 3, 8) */
  double bg_sum, bg_chan, plane_t5;
  int nown;            /* channels with their own coarse edge */
  double shape[NPAR], after;
  int have_shape;      /* the template's leading edge was fitted */
} plane_ctx;

static const uint32_t *chan_hist(const plane_ctx *x, int wi) { return x->cp->hist + (size_t)wi * x->nb; }

static int ctx_nomem(plane_ctx *x, na64_err *err)
{
  return na64_err_set(err, NA64_ENOMEM, "straw calibration %s: out of memory", x->p->name);
}

/* reset the plane's results and count its hits */
static void reset_results(plane_ctx *x)
{
  na64_straw_plane_calib *r = x->r;
  r->nhits = 0;
  r->ncalibrated = r->nfit = r->ntemplate = 0;
  r->t0_mean = r->t0_rms = r->t0_min = r->t0_max = NAN;
  r->sigma_t = r->t_max = r->signal = r->background = r->sigma_r = NAN;
  r->rt_n = 0;
  r->status = NA64_OK;
  r->message[0] = '\0';
  for (int wi = 0; wi < x->nw; ++wi) {
    na64_straw_channel_calib *ch = &r->channels[wi];
    memset(ch, 0, sizeof *ch);
    ch->t0 = ch->t0_err = ch->width = NAN;
    const uint32_t *h = chan_hist(x, wi);
    for (int j = 0; j < x->nb; ++j) ch->nhits += h[j];
    r->nhits += ch->nhits;
  }
}

static int ctx_alloc(plane_ctx *x, const na64_straw_calib *c, cal_plane *cp, na64_err *err)
{
  memset(x, 0, sizeof *x);
  x->c = c;
  x->cp = cp;
  x->r = &cp->res;
  x->p = cp->p;
  x->nw = cp->p->nwires;
  x->nb = c->nbins;
  x->R = cp->p->diameter / 2;
  x->w.nb = x->nb;
  x->w.bw = c->bw;
  x->w.lo = c->lo;
  x->tpl = (aligned){0, 0, c->bw, NULL};
  x->al = (aligned){0, 0, c->bw, NULL};
  const size_t nw = (size_t)x->nw, nb = (size_t)x->nb;
  x->sum = calloc(nb, sizeof *x->sum);
  x->smooth = malloc(nb * sizeof *x->smooth);
  x->use = calloc(nw, sizeof *x->use);
  x->w.bg = calloc(nw, sizeof *x->w.bg);
  x->w.t5 = malloc(nw * sizeof *x->w.t5);
  x->w.own = calloc(nw, sizeof *x->w.own);
  x->w.align = malloc(nw * sizeof *x->w.align);
  x->w.jj = malloc(nb * sizeof *x->w.jj);
  x->w.nn = malloc(nb * sizeof *x->w.nn);
  x->w.buf_t = malloc(nb * sizeof *x->w.buf_t);
  x->w.buf_n = malloc(nb * sizeof *x->w.buf_n);
  if (!x->sum || !x->smooth || !x->use || !x->w.bg || !x->w.t5 || !x->w.own || !x->w.align || !x->w.jj || !x->w.nn ||
      !x->w.buf_t || !x->w.buf_n)
    return ctx_nomem(x, err);
  return NA64_OK;
}

static void ctx_free(plane_ctx *x)
{
  free(x->sum);
  free(x->smooth);
  free(x->use);
  free(x->w.bg);
  free(x->w.t5);
  free(x->w.own);
  free(x->w.align);
  free(x->w.jj);
  free(x->w.nn);
  free(x->w.buf_t);
  free(x->w.buf_n);
  free(x->tpl.v);
  free(x->al.v);
}

/* 1. plane sum, its occupied range (the F1 readout window) and the flat background: the mean of
 *    the sum outside its drift spectrum, i.e. more than 20 ns before the point where the sum
 *    (smoothed over 4 ns) first rises to 10 % of its peak and 20 ns after it has fallen below 5 %
 *    of it (the background is 0 if that leaves less than 10 ns) */
static int step1_plane_background(plane_ctx *x)
{
  plane_work *w = &x->w;
  double *sum = x->sum, *smooth = x->smooth;
  for (int wi = 0; wi < x->nw; ++wi) {
    const uint32_t *h = chan_hist(x, wi);
    for (int j = 0; j < x->nb; ++j) sum[j] += h[j];
  }
  w->jf = 0;
  while (w->jf < x->nb && sum[w->jf] == 0) w->jf++;
  w->jl = x->nb - 1;
  while (w->jl > w->jf && sum[w->jl] == 0) w->jl--;
  x->bg_sum = 0;
  int half = (int)lround(2.0 / w->bw), jp = w->jf;
  if (half < 1) half = 1;
  double peak = -1;
  for (int j = w->jf; j <= w->jl; ++j) {
    double s = 0;
    for (int q = j - half; q <= j + half; ++q)
      if (q >= w->jf && q <= w->jl) s += sum[q];
    smooth[j] = s;
    if (s > peak) {
      peak = s;
      jp = j;
    }
  }
  int jlead = jp, jtrail = jp, margin = (int)lround(20.0 / w->bw);
  while (jlead > w->jf && smooth[jlead] >= 0.1 * peak) jlead--;
  while (jtrail < w->jl && smooth[jtrail] >= 0.05 * peak) jtrail++;
  double n_out = 0;
  int len = 0;
  for (int j = w->jf; j <= w->jl; ++j)
    if (j < jlead - margin || j > jtrail + margin) {
      n_out += sum[j];
      len++;
    }
  if (len * w->bw >= 10) x->bg_sum = n_out / len;
  int nactive = 0;
  for (int wi = 0; wi < x->nw; ++wi)
    if (x->r->channels[wi].nhits) nactive++;
  x->bg_chan = x->bg_sum / nactive;
  return NA64_OK;
}

/* 2. coarse edge of each channel: the 5 % point of its background-subtracted cumulative when it
 *    has COARSE_MIN hits and that point is near the plane's; otherwise the plane's 5 % point (the
 *    channel is then searched over a wider range below) */
static int step2_coarse_edges(plane_ctx *x)
{
  plane_work *w = &x->w;
  x->plane_t5 = cumulative_point_d(w, x->sum, x->bg_sum, 0.05);
  if (isnan(x->plane_t5)) {
    plane_fail(x->r, NA64_ENOTFOUND, "%s: no signal above the background (%llu hits)", x->p->name,
               (unsigned long long)x->r->nhits);
    return STEP_STOP;
  }
  x->nown = 0;
  for (int wi = 0; wi < x->nw; ++wi) {
    w->t5[wi] = NAN;
    w->bg[wi] = x->bg_chan;
    if (x->r->channels[wi].nhits < x->c->opt.min_hits) continue;
    w->t5[wi] = x->plane_t5;
    if (x->r->channels[wi].nhits < COARSE_MIN) continue;
    double t5 = cumulative_point(w, chan_hist(x, wi), x->bg_chan, 0.05);
    if (isfinite(t5) && fabs(t5 - x->plane_t5) < SPREAD_MAX) {
      w->t5[wi] = t5;
      w->own[wi] = 1;
      x->nown++;
    }
  }
  return NA64_OK;
}

/* 3. rough drift length from the coarse-aligned plane spectrum: 98 % point - 5 % point */
static int step3_drift_length(plane_ctx *x, na64_err *err)
{
  plane_work *w = &x->w;
  aligned *al = &x->al;
  double tspan = (w->jl - w->jf + 1) * w->bw;
  al->n = (int)(2 * tspan / w->bw) + 4;
  al->m0 = al->n / 2;
  al->v = calloc((size_t)al->n, sizeof *al->v);
  if (!al->v) return ctx_nomem(x, err);
  int ncoarse = 0;
  for (int wi = 0; wi < x->nw; ++wi)
    if (!isnan(w->t5[wi]) && (w->own[wi] || !x->nown)) {
      align_add(al, w, chan_hist(x, wi), w->bg[wi], w->t5[wi], 1);
      ncoarse++;
    }
  if (!ncoarse) {
    plane_fail(x->r, NA64_ENOTFOUND, "%s: no channel has %zu hits above background (too few hits)", x->p->name,
               x->c->opt.min_hits);
    return STEP_STOP;
  }
  double tot = 0;
  for (int k = al->m0 - (int)(30 / w->bw); k < al->n; ++k)
    if (k >= 0) tot += al->v[k];
  double cum = 0, t98 = NAN;
  for (int k = al->m0 - (int)(30 / w->bw); k < al->n && tot > 0; ++k) {
    if (k < 0) continue;
    cum += al->v[k];
    if (cum >= 0.98 * tot) {
      t98 = (k - al->m0) * w->bw;
      break;
    }
  }
  w->tmax_est = isfinite(t98) && t98 > 2 ? t98 : 50;
  /* a drift spectrum is shorter than the readout window; hits spread over the whole window are
   * noise (or the window is too short to see the spectrum's edges) */
  if (w->tmax_est > 0.8 * tspan) {
    plane_fail(x->r, NA64_ENOTFOUND,
               "%s: the hits fill the %.0f ns readout window: no drift-time spectrum above the noise", x->p->name,
               tspan);
    return STEP_STOP;
  }
  return NA64_OK;
}

/* 4. each channel's own flat background from the parts of the window outside its drift spectrum
 *    (around its coarse edge) */
static int step4_channel_background(plane_ctx *x)
{
  plane_work *w = &x->w;
  for (int wi = 0; wi < x->nw; ++wi) {
    if (isnan(w->t5[wi])) continue;
    const uint32_t *h = chan_hist(x, wi);
    double n_out = 0, len = 0;
    for (int j = w->jf; j <= w->jl; ++j) {
      double t = bin_centre(w, j);
      if (t < w->t5[wi] - 20 || t > w->t5[wi] + w->tmax_est + 30) {
        n_out += h[j];
        len += 1;
      }
    }
    if (len * w->bw >= 10) w->bg[wi] = n_out / len;
  }
  return NA64_OK;
}

/* 5b. channel wi's t0 as the maximum-likelihood shift of the normalised template without the
 *     channel's own hits (leave-one-out); one, norm and tmp are scratch of the template's size */
static void template_t0(plane_ctx *x, int wi, aligned *one, aligned *norm, double *tmp)
{
  plane_work *w = &x->w;
  na64_straw_channel_calib *ch = &x->r->channels[wi];
  const uint32_t *h = chan_hist(x, wi);
  double off = x->have_shape ? x->shape[P_T0] : 0, sg = x->have_shape ? x->shape[P_SIG] : 2.0;
  if (!isnan(w->align[wi])) { /* leave the channel out of its own template */
    memcpy(one->v, x->tpl.v, (size_t)x->tpl.n * sizeof *one->v);
    align_add(one, w, h, w->bg[wi], w->align[wi], -1);
    if (make_template(one, off, sg, w->tmax_est, tmp, norm) != 0) return;
  } else if (make_template(&x->tpl, off, sg, w->tmax_est, tmp, norm) != 0) {
    return;
  }
  /* the whole plausible range around the plane's edge: a channel's own coarse edge can be pulled
   * away by a few noise hits at low statistics */
  double e, sh = template_shift(w, h, w->bg[wi], norm, x->plane_t5, SPREAD_MAX, 1.0, 1, w->jj, w->nn, &e);
  if (!isfinite(sh)) return;
  ch->t0 = sh;
  ch->t0_err = e;
  ch->method = NA64_STRAW_T0_TEMPLATE;
}

/* 5. the plane's template: the aligned spectrum of its channels on their own coarse edges (or all
 *    on the plane's, when none has enough hits), its leading edge fitted (zero = t0, resolution,
 *    plateau shape; the sum holds the whole plane's statistics), then every channel's t0 as the
 *    maximum-likelihood shift of the normalised template without that channel's own hits
 *    (leave-one-out). One pass only: realigning the template on the shifts found and repeating
 *    sharpens it at low statistics (each channel's few hits get aligned on the template's edge,
 *    noise included), which understates the errors and biases the plane's zero and resolution;
 *    measured in tests/reco/test_straw_calib.c, a second pass gained nothing at high statistics. */
static int step5_template_shifts(plane_ctx *x, na64_err *err)
{
  plane_work *w = &x->w;
  aligned *tpl = &x->tpl;
  tpl->n = (int)((w->tmax_est + 70) / w->bw) + 2;
  tpl->m0 = (int)(35 / w->bw);
  tpl->v = calloc((size_t)tpl->n, sizeof *tpl->v);
  aligned one = *tpl, norm = *tpl;
  one.v = calloc((size_t)tpl->n, sizeof *one.v);
  norm.v = calloc((size_t)tpl->n, sizeof *norm.v);
  double *tmp = malloc((size_t)tpl->n * sizeof *tmp);
  int st = NA64_OK;
  if (!tpl->v || !one.v || !norm.v || !tmp) st = ctx_nomem(x, err);
  if (st == NA64_OK) {
    double init[NPAR] = {0, NAN, 0, 0, 0, 0};
    memcpy(x->shape, init, sizeof init);
    x->after = 5;
    for (int wi = 0; wi < x->nw; ++wi) {
      w->align[wi] = (w->own[wi] || !x->nown) ? w->t5[wi] : NAN;
      if (!isnan(w->align[wi])) align_add(tpl, w, chan_hist(x, wi), w->bg[wi], w->align[wi], 1);
    }
    x->have_shape = template_edge(tpl, w, w->tmax_est, x->shape, &x->after);
    for (int wi = 0; wi < x->nw; ++wi)
      if (!isnan(w->t5[wi])) template_t0(x, wi, &one, &norm, tmp);
  }
  free(one.v);
  free(norm.v);
  free(tmp);
  return st;
}

/* 6. leading-edge fits of the channels with enough hits: t0, amplitude and background free, the
 *    resolution and plateau shape those of the plane's template (gas and electronics are common
 *    to the plane; left free they are the least constrained parameters and scatter t0) */
static int step6_edge_fits(plane_ctx *x)
{
  na64_straw_plane_calib *r = x->r;
  if (x->have_shape)
    for (int wi = 0; wi < x->nw; ++wi) {
      na64_straw_channel_calib *ch = &r->channels[wi];
      if (ch->method == NA64_STRAW_T0_NONE || ch->nhits < x->c->opt.min_hits_fit) continue;
      edge_fit f;
      fit_channel(&x->w, chan_hist(x, wi), x->w.bg[wi], ch->t0, x->shape, x->after, &f);
      if (!f.ok) continue;
      ch->t0 = f.p[P_T0];
      ch->t0_err = f.t0_err;
      ch->width = f.p[P_SIG];
      ch->method = NA64_STRAW_T0_FIT;
    }
  if (!x->have_shape)
    snprintf(r->message, sizeof r->message,
             "resolution not measured (no edge fit of the plane's spectrum): sigma_r assumes sigma_t = 2 ns");
  return NA64_OK;
}

/* 7. summary of t0 */
static int step7_t0_summary(plane_ctx *x)
{
  na64_straw_plane_calib *r = x->r;
  double s1 = 0, s2 = 0, mn = INFINITY, mx = -INFINITY, bgs = 0;
  for (int wi = 0; wi < x->nw; ++wi) {
    na64_straw_channel_calib *ch = &r->channels[wi];
    ch->background = x->w.bg[wi] / x->w.bw;
    if (ch->method == NA64_STRAW_T0_NONE) {
      ch->t0 = ch->t0_err = NAN;
      continue;
    }
    x->use[wi] = 1;
    r->ncalibrated++;
    if (ch->method == NA64_STRAW_T0_FIT) r->nfit++;
    else r->ntemplate++;
    s1 += ch->t0;
    s2 += ch->t0 * ch->t0;
    bgs += ch->background;
    if (ch->t0 < mn) mn = ch->t0;
    if (ch->t0 > mx) mx = ch->t0;
  }
  if (!r->ncalibrated) {
    plane_fail(r, NA64_ENOTFOUND, "%s: no channel could be calibrated (%llu hits in the plane)", x->p->name,
               (unsigned long long)r->nhits);
    return STEP_STOP;
  }
  r->t0_mean = s1 / r->ncalibrated;
  double var = s2 / r->ncalibrated - r->t0_mean * r->t0_mean;
  r->t0_rms = var > 0 ? sqrt(var) : 0;
  r->t0_min = mn;
  r->t0_max = mx;
  r->background = bgs / r->ncalibrated;
  r->sigma_t = x->have_shape ? x->shape[P_SIG] : NAN;
  return NA64_OK;
}

/* The cumulative C(tau) of the fine-aligned spectrum at the cell edges of [tau_a, tau_b]: edge_t,
 * edge_c (ncell + 1 values each, malloc'ed). */
typedef struct rt_cumul {
  int ncell;
  double *edge_t, *edge_c;
  double total, sig;
} rt_cumul;

/* C(tau) by linear interpolation between cell edges */
static double cumul_at(const rt_cumul *cu, double bw, double tau)
{
  double x = (tau - cu->edge_t[0]) / bw;
  int i = (int)floor(x);
  if (i < 0) i = 0;
  if (i >= cu->ncell) i = cu->ncell - 1;
  return cu->edge_c[i] + (cu->edge_c[i + 1] - cu->edge_c[i]) * (x - i);
}

/* 8a. the aligned, background-subtracted spectrum of the calibrated channels on their t0 and its
 *     cumulative; the drift spectrum must stand out of the background: 50 hits and 5 standard
 *     deviations of the background counts under it (flat noise alone has no edge and fails here) */
static int step8a_cumulative(plane_ctx *x, rt_cumul *cu, na64_err *err)
{
  plane_work *w = &x->w;
  aligned *al = &x->al;
  na64_straw_plane_calib *r = x->r;
  memset(al->v, 0, (size_t)al->n * sizeof *al->v);
  for (int wi = 0; wi < x->nw; ++wi)
    if (x->use[wi]) align_add(al, w, chan_hist(x, wi), w->bg[wi], r->channels[wi].t0, 1);
  cu->sig = isfinite(r->sigma_t) ? r->sigma_t : 2.0;
  double tau_a = -(5 * cu->sig + 5), tau_b = w->tmax_est + 5 * cu->sig + 20;
  /* cumulative at the cell upper edges tau = (m - m0 + 1/2) bw */
  int ma = (int)floor(tau_a / w->bw) + al->m0, mb = (int)ceil(tau_b / w->bw) + al->m0;
  if (ma < 0) ma = 0;
  if (mb > al->n - 1) mb = al->n - 1;
  double total = 0;
  for (int m = ma; m <= mb; ++m) total += al->v[m];
  r->signal = cu->total = total;
  double bg_under = 0;
  for (int wi = 0; wi < x->nw; ++wi)
    if (x->use[wi]) bg_under += w->bg[wi] * (tau_b - tau_a) / w->bw;
  if (!(total >= 50)) {
    plane_fail(r, NA64_ENOTFOUND, "%s: %.0f signal hits, too few for r(t) (at least 50)", x->p->name, total);
    return STEP_STOP;
  }
  if (!(total >= 5 * sqrt(bg_under + total))) {
    plane_fail(r, NA64_ENOTFOUND, "%s: %.0f signal hits over a background of %.0f: no drift-time spectrum above the noise",
               x->p->name, total, bg_under);
    return STEP_STOP;
  }
  cu->ncell = mb - ma + 1;
  cu->edge_t = malloc((size_t)(cu->ncell + 1) * sizeof *cu->edge_t);
  cu->edge_c = malloc((size_t)(cu->ncell + 1) * sizeof *cu->edge_c);
  if (!cu->edge_t || !cu->edge_c) return ctx_nomem(x, err);
  cu->edge_t[0] = (ma - al->m0 - 0.5) * w->bw;
  cu->edge_c[0] = 0;
  for (int k = 0; k < cu->ncell; ++k) {
    cu->edge_t[k + 1] = (ma + k - al->m0 + 0.5) * w->bw;
    cu->edge_c[k + 1] = cu->edge_c[k] + al->v[ma + k];
  }
  return NA64_OK;
}

/* 8b. The end of the drift spectrum: the cumulative at 98 % of the total (r = 0.98 R, where the
 *     resolution does not yet round the trailing edge), then the last 2 % of the radius at the drift
 *     velocity measured just before it (linear extrapolation of r(t) to R): t_max. */
static int step8b_spectrum_end(plane_ctx *x, const rt_cumul *cu, double *t98_out, double *t_end_out)
{
  const double bw = x->w.bw, total = cu->total;
  double t98 = NAN;
  for (int k = 1; k <= cu->ncell; ++k)
    if (cu->edge_c[k] >= 0.98 * total) {
      double d = cu->edge_c[k] - cu->edge_c[k - 1];
      t98 = d > 0 ? cu->edge_t[k - 1] + (0.98 * total - cu->edge_c[k - 1]) / d * bw : cu->edge_t[k];
      break;
    }
  if (!(t98 > 2 * bw)) {
    plane_fail(x->r, NA64_ENUMERIC, "%s: the aligned drift spectrum ends at %g ns, before it starts", x->p->name, t98);
    return STEP_STOP;
  }
  double dlt = 4 * cu->sig > 3 ? 4 * cu->sig : 3;
  if (dlt > 0.25 * t98) dlt = 0.25 * t98;
  double c_lo = cumul_at(cu, bw, t98 - dlt);
  double v_end = x->R * (0.98 * total - c_lo) / (total * dlt);
  double t_end = v_end > 0 ? t98 + 0.02 * x->R / v_end : t98 + dlt;
  if (t_end > t98 + 5 * dlt) t_end = t98 + 5 * dlt;
  *t98_out = t98;
  *t_end_out = t_end;
  return NA64_OK;
}

/* 8c. r(t) = R C(t) / C_total at steps of rt_step (default t98/100, at least a bin, at most the
 *     table size), then (t98, 0.98 R) and (t_max, R); and the mean radius resolution over a uniform
 *     illumination, sigma_t <dr/dt>_r */
static void step8c_rt_points(plane_ctx *x, const rt_cumul *cu, double t98, double t_end)
{
  na64_straw_plane_calib *r = x->r;
  const double bw = x->w.bw, R = x->R;
  double step = x->c->opt.rt_step > 0 ? x->c->opt.rt_step : t98 / 100;
  if (step < bw) step = bw;
  if (t98 / step + 3 > NA64_COND_MAX_RT_POINTS) step = t98 / (NA64_COND_MAX_RT_POINTS - 3);
  int K = (int)ceil(t98 / step); /* points 0 .. K-1 at k*step < t98, then t98 and t_end */
  while (K > 1 && (K - 1) * step > t98 - 0.3 * step) K--;
  int kk = 0;
  for (int k = 0; k < K; ++k) {
    double tau = k * step;
    double rr = k == 0 ? 0 : R * cumul_at(cu, bw, tau) / cu->total; /* zero drift time is zero radius (t0) */
    if (rr < 0) rr = 0;
    if (rr > R) rr = R;
    if (kk && rr < r->rt_r[kk - 1]) rr = r->rt_r[kk - 1];
    r->rt_t[kk] = tau;
    r->rt_r[kk] = rr;
    kk++;
  }
  r->rt_t[kk] = t98;
  r->rt_r[kk] = 0.98 * R > r->rt_r[kk - 1] ? 0.98 * R : r->rt_r[kk - 1];
  kk++;
  r->rt_t[kk] = t_end;
  r->rt_r[kk] = R;
  kk++;
  r->rt_n = kk;
  r->t_max = t_end;
  double vbar = 0;
  for (int k = 1; k < r->rt_n; ++k) {
    double dr = r->rt_r[k] - r->rt_r[k - 1];
    vbar += dr * dr / (r->rt_t[k] - r->rt_t[k - 1]);
  }
  vbar /= R;
  r->sigma_r = cu->sig * vbar;
  if (!(r->sigma_r > 0)) r->sigma_r = 0.1 * R;
}

/* 8. r(t) by integration of the aligned, background-subtracted spectrum of the plane */
static int step8_rt(plane_ctx *x, na64_err *err)
{
  rt_cumul cu = {0, NULL, NULL, 0, 0};
  double t98, t_end;
  int st = step8a_cumulative(x, &cu, err);
  if (st == NA64_OK) st = step8b_spectrum_end(x, &cu, &t98, &t_end);
  if (st == NA64_OK) step8c_rt_points(x, &cu, t98, t_end);
  free(cu.edge_t);
  free(cu.edge_c);
  return st;
}

/* The calibration of one plane, steps 1-8 (docs/straw.md §2). A plane that cannot be calibrated
 * gets a status and a message and NA64_OK is returned; only running out of memory fails. */
static int compute_plane(const na64_straw_calib *c, cal_plane *cp, na64_err *err)
{
  plane_ctx x;
  int st = ctx_alloc(&x, c, cp, err);
  if (st == NA64_OK) {
    reset_results(&x);
    if (!x.r->nhits) {
      plane_fail(x.r, NA64_ENOTFOUND, "%s: no hits in the time range (empty spectrum)", x.p->name);
      st = STEP_STOP;
    }
  }
  if (st == NA64_OK) st = step1_plane_background(&x);
  if (st == NA64_OK) st = step2_coarse_edges(&x);
  if (st == NA64_OK) st = step3_drift_length(&x, err);
  if (st == NA64_OK) st = step4_channel_background(&x);
  if (st == NA64_OK) st = step5_template_shifts(&x, err);
  if (st == NA64_OK) st = step6_edge_fits(&x);
  if (st == NA64_OK) st = step7_t0_summary(&x);
  if (st == NA64_OK) st = step8_rt(&x, err);
  if (st == NA64_OK) x.r->status = NA64_OK;
  ctx_free(&x);
  if (st == STEP_STOP) return NA64_OK;
  if (st != NA64_OK) {
    cp->res.status = st;
    size_t k = err ? strnlen(err->msg, sizeof cp->res.message - 1) : 0;
    if (k) memcpy(cp->res.message, err->msg, k);
    cp->res.message[k] = '\0';
  }
  return st;
}

int na64_straw_calib_compute(na64_straw_calib *c, na64_err *err)
{
  if (!c) return na64_err_set(err, NA64_EINVAL, "na64_straw_calib_compute: NULL calibration");
  if (!c->nplanes)
    return na64_err_set(err, NA64_ENOTFOUND, "straw calibration: the geometry of run %d has no straw plane", c->g->run);
  int good = 0;
  for (int i = 0; i < c->nplanes; ++i) {
    NA64_CALL(compute_plane(c, &c->planes[i], err));
    if (c->planes[i].res.status == NA64_OK) good++;
  }
  if (!good) {
    if (!c->entries)
      return na64_err_set(err, NA64_ENOTFOUND,
                          "straw calibration: no straw hits between %g and %g ns (%llu digits rejected)", c->opt.t_lo,
                          c->opt.t_hi, (unsigned long long)c->rejected);
    return na64_err_set(err, NA64_ENOTFOUND, "straw calibration: no plane could be calibrated (%s)",
                        c->planes[0].res.message);
  }
  return NA64_OK;
}

int na64_straw_calib_check_write(const na64_straw_calib *c, na64_cond *db, int first_run, int last_run, na64_err *err)
{
  if (!c || !db) return na64_err_set(err, NA64_EINVAL, "na64_straw_calib_check_write: NULL argument");
  if (first_run < 0 || last_run < first_run)
    return na64_err_set(err, NA64_ERANGE, "straw calibration: runs %d-%d are not a run range", first_run, last_run);
  /* check every plane first, so that a bad plane writes nothing */
  int nwrite = 0;
  for (int i = 0; i < c->nplanes; ++i) {
    const na64_straw_plane_calib *r = &c->planes[i].res;
    if (r->status != NA64_OK) continue;
    if (r->rt_n < 2 || r->rt_n > NA64_COND_MAX_RT_POINTS || !(r->sigma_r > 0) || !isfinite(r->sigma_r))
      return na64_err_set(err, NA64_EINVAL, "straw calibration %s: r(t) with %d points, sigma_r %g cm", r->name, r->rt_n,
                          r->sigma_r);
    for (int k = 0; k < r->rt_n; ++k)
      if (!isfinite(r->rt_t[k]) || !isfinite(r->rt_r[k]) || r->rt_r[k] < 0 || r->rt_r[k] > r->radius * (1 + 1e-12) ||
          (k && (!(r->rt_t[k] > r->rt_t[k - 1]) || r->rt_r[k] < r->rt_r[k - 1])))
        return na64_err_set(err, NA64_EINVAL, "straw calibration %s: r(t) point %d (%g ns, %g cm) is not valid", r->name,
                            k, r->rt_t[k], r->rt_r[k]);
    for (int wi = 0; wi < r->nwires; ++wi)
      if (isinf(r->channels[wi].t0))
        return na64_err_set(err, NA64_EINVAL, "straw calibration %s: t0 of wire %d is infinite", r->name, wi);
    nwrite++;
  }
  if (!nwrite) return na64_err_set(err, NA64_ENOTFOUND, "straw calibration: no calibrated plane to write");
  /* The records are written for every setup (na64_cond_insert_straw_calib): refuse an interval of
   * validity that reaches runs of another setup, whose planes may differ, before writing anything. */
  {
    na64_cond_records *all = NULL;
    NA64_CALL(na64_cond_fetch(db, NA64_COND_ALL_RUNS, &all, err));
    int bad = -1;
    for (size_t i = 0; i < all->nruns && bad < 0; ++i) {
      const na64_cond_iov *v = &all->runs[i].iov;
      if (v->last_run >= first_run && v->first_run <= last_run && strcmp(v->setup, c->g->setup)) bad = (int)i;
    }
    if (bad >= 0) {
      const na64_cond_iov *v = &all->runs[bad].iov;
      na64_err_set(err, NA64_ERANGE,
                   "straw calibration of setup %s: runs %d-%d reach runs %d-%d of setup %s; give an interval of "
                   "validity inside the setup's runs",
                   c->g->setup, first_run, last_run, v->first_run, v->last_run, v->setup);
      na64_cond_records_free(all);
      return NA64_ERANGE;
    }
    na64_cond_records_free(all);
  }
  return NA64_OK;
}

int na64_straw_calib_write(const na64_straw_calib *c, na64_cond *db, int first_run, int last_run, const char *comment,
                           int *nt0, int *nrt, na64_err *err)
{
  if (nt0) *nt0 = 0;
  if (nrt) *nrt = 0;
  NA64_CALL(na64_straw_calib_check_write(c, db, first_run, last_run, err));
  for (int i = 0; i < c->nplanes; ++i) {
    const na64_straw_plane_calib *r = &c->planes[i].res;
    if (r->status != NA64_OK) continue;
    double *t0 = malloc((size_t)r->nwires * sizeof *t0);
    if (!t0) return na64_err_set(err, NA64_ENOMEM, "straw calibration: out of memory");
    int n0 = 0;
    for (int wi = 0; wi < r->nwires; ++wi) {
      t0[wi] = r->channels[wi].method != NA64_STRAW_T0_NONE ? r->channels[wi].t0 : NAN;
      if (!isnan(t0[wi])) n0++;
    }
    int st = na64_cond_insert_straw_calib(db, first_run, last_run, r->name, r->nwires, t0, r->rt_n, r->rt_t, r->rt_r,
                                          r->sigma_r, comment, err);
    free(t0);
    if (st != NA64_OK) return st;
    if (nt0) *nt0 += n0;
    if (nrt) *nrt += 1;
  }
  return NA64_OK;
}
