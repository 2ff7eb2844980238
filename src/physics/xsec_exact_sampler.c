/*
 * Drawing (x, theta_X) from the exact tree-level d sigma/(dx dcos theta) of xsec_exact.c
 * (issue 14; docs/physics.md "Exact tree level", sampler).
 *
 * The exact density is far too costly per event (one t integral is ~1e3 matrix elements), so it
 * is tabulated once per process on a grid and drawn from the table exactly:
 *   y = -ln(1 - x) nodes y_i (log-spaced in x below x = 0.3, where d sigma/dy ~ x, then steps of
 *   0.3 in y up to y = 8 (the exact spectrum of a light A' is nearly flat in y up to
 *   y ~ ln(m_X^2/m_e^2)), then steps <= 0.6 to y_max = ln(E0/m_l));
 *   per y node, s = ln(theta/theta_c(x)) nodes s_ij, NS of them uniform from -5.5 to
 *   min(5.5, ln(pi/theta_c)) (the density in s rises as theta^2 below theta_c and falls as
 *   theta^-2 above, so the cut tails are < 1e-4 of the integral);
 *   h_ij = d sigma/(dy ds) at the nodes, g_i = int ds h_ij (trapezoid, exponentially accurate for
 *   a smooth bell in s; its error is estimated by the rule on every second node).
 * The table defines the density h(y, s) = (1 - w) h_i(s) + w h_{i+1}(s), w = (y - y_i)/(y_{i+1} - y_i),
 * each h_i piecewise linear in s: its y marginal is the piecewise-linear interpolation of g_i, and
 * given y the s distribution is the mixture of h_i and h_{i+1} with weights (1 - w) g_i and
 * w g_{i+1}. Both are drawn by inverting their piecewise-quadratic cumulative functions (no
 * rejection), with an optional lower x limit per draw (the emitter energy of the simulation).
 * Tables are immutable once built and remembered per process (ES_MEMO most recent, keyed by every
 * input of na64_exact_process): a simulation that builds one sim per thread or per mass of a scan
 * builds each table once (branch simexact: 27 builds -> 12 in the default `na64 run`); the memo and
 * every caller hold a reference, na64_exact_sampler_free drops one.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "physics/internal.h"

#define ES_NS 17        /* theta nodes per x node (odd: the error estimate uses every second); step 0.69 */
#define ES_SLO (-5.5)   /* lower end in s = ln(theta/theta_c) (simexact: -6.9 -> -5.5, 25 -> 17 nodes at */
#define ES_SHI 5.5      /* the same step: the dropped tails are < 7e-5 of the integral for 1-500 MeV,
                           50-100 GeV, x = 0.46-0.99999, measured by a 281-node trapezoid) */
#define ES_XSMALL 0.3   /* below: x nodes log-spaced, */
#define ES_XFAC 1.35    /* a factor <= 1.35 apart (d sigma/dy ~ x there: linear interpolation to < 1%) */
#define ES_DY 0.3       /* y step above x = 0.3 (simexact: 0.2 -> 0.3; the table stays within 0.7% of
                           the adaptive d sigma/dx at x = 0.1-0.99, test_exact_sampler) */
#define ES_YFAR 8.0     /* beyond: steps <= 2 ES_DY to y_max */
#define ES_T_REL 1e-3   /* relative precision of each node's t integral (simexact: 1e-4 -> 1e-3, well
                           below the 1% the tables are tested to) */
#define ES_MEMO 24      /* tables remembered: 3 energies x 4 masses of `na64 run`, twice over */
#define ES_KEYLEN 320

struct na64_exact_sampler {
  na64_exact_process p;
  int nx;
  double *y, *g, *G;  /* nodes, d sigma/dy (pb), cumulative integral of the interpolant */
  double *s, *h, *H;  /* [nx * ES_NS]: s nodes, d sigma/(dy ds), cumulative in s */
  double rel_err;     /* estimated relative error of the tabulated total (quadrature in s) */
  int refs;           /* references (callers and the memo), under memo_lock */
};

static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char key[ES_KEYLEN];
  na64_exact_sampler *S;
} memo[ES_MEMO];
static int memo_next; /* the slot replaced next (round robin: the oldest) */

/* Every input of the table: the process and the table settings */
static void memo_key(const na64_exact_process *p, char *key, size_t len)
{
  snprintf(key, len, "beam %d med %d E0 %.17g m %.17g g %.17g Z %.17g A %.17g ff %d xmin %.17g ns %d trel %.17g", (int)p->beam,
           (int)p->mediator, p->E0, p->m, p->coupling, p->Z, p->A, p->ff, p->x_min, ES_NS, ES_T_REL);
}

/* The remembered table of key with one more reference, or NULL; under memo_lock */
static na64_exact_sampler *memo_find(const char *key)
{
  for (int i = 0; i < ES_MEMO; ++i)
    if (memo[i].S && !strcmp(memo[i].key, key)) {
      memo[i].S->refs++;
      return memo[i].S;
    }
  return NULL;
}

static void table_free(na64_exact_sampler *S);

/* The table to use for key: the one another thread remembered meanwhile (S is then freed), or S,
 * remembered with one reference for the memo (the table it displaces loses the memo's reference).
 * One lock for the look-up and the insertion, so a key is never remembered twice. */
static na64_exact_sampler *memo_share(const char *key, na64_exact_sampler *S)
{
  na64_exact_sampler *old = NULL;
  pthread_mutex_lock(&memo_lock);
  na64_exact_sampler *twin = memo_find(key);
  if (!twin) {
    int i = memo_next;
    memo_next = (memo_next + 1) % ES_MEMO;
    if (memo[i].S && --memo[i].S->refs == 0) old = memo[i].S;
    snprintf(memo[i].key, sizeof memo[i].key, "%s", key);
    memo[i].S = S;
    S->refs++;
  }
  pthread_mutex_unlock(&memo_lock);
  table_free(old);
  if (!twin) return S;
  table_free(S);
  return twin;
}

/* The integral of the piecewise-linear f over the nodes v[0..n-1], cumulative: F[0] = 0. */
static void cumulate(const double *v, const double *f, int n, double *F)
{
  F[0] = 0.0;
  for (int i = 1; i < n; ++i) F[i] = F[i - 1] + 0.5 * (f[i - 1] + f[i]) * (v[i] - v[i - 1]);
}

/* The integral of the piecewise-linear f from v[k] to v[k] + t */
static double partial(const double *v, const double *f, int k, double t)
{
  double a = (f[k + 1] - f[k]) / (v[k + 1] - v[k]);
  return f[k] * t + 0.5 * a * t * t;
}

/* The bin k with v[k] <= z < v[k+1] (clamped) */
static int bin_of(const double *v, int n, double z)
{
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (v[mid] <= z) lo = mid;
    else hi = mid;
  }
  return lo;
}

/* The z with int_{v0}^{z} f = c, f piecewise linear (inverse of cumulate/partial): the root of
 * f_k t + a t^2/2 = r in the stable form t = 2 r/(f_k + sqrt(f_k^2 + 2 a r)). */
static double invert(const double *v, const double *f, const double *F, int n, double c, int *kout)
{
  int k = bin_of(F, n, c);
  if (k > n - 2) k = n - 2;
  double r = c - F[k], a = (f[k + 1] - f[k]) / (v[k + 1] - v[k]);
  double disc = f[k] * f[k] + 2.0 * a * r, den = f[k] + sqrt(disc > 0.0 ? disc : 0.0);
  double t = den > 0.0 ? 2.0 * r / den : 0.0, h = v[k + 1] - v[k];
  if (!(t >= 0.0)) t = 0.0;
  if (t > h) t = h;
  if (kout) *kout = k;
  return v[k] + t;
}

/* The x nodes (as y = -ln(1 - x)) between x_lo and x_hi; returns their number (<= cap). */
static int x_nodes(double xlo, double xhi, double *y, int cap)
{
  int n = 0;
  double yhi = -log1p(-xhi);
  if (xlo < ES_XSMALL && xhi > ES_XSMALL) { /* steps of at most a factor ES_XFAC in x */
    int ns = (int)ceil(log(ES_XSMALL / xlo) / log(ES_XFAC));
    if (ns < 4) ns = 4;
    for (int i = 0; i < ns && n < cap; ++i) y[n++] = -log1p(-xlo * pow(ES_XSMALL / xlo, (double)i / ns));
    xlo = ES_XSMALL;
  }
  double ya = -log1p(-xlo), yb = fmin(yhi, ES_YFAR);
  int nu = (int)ceil((yb - ya) / ES_DY);
  if (nu < 4) nu = 4;
  for (int i = 0; i <= nu && n < cap; ++i) y[n++] = ya + (yb - ya) * i / nu;
  int nf = yhi > ES_YFAR ? (int)ceil((yhi - ES_YFAR) / (2.0 * ES_DY)) : 0;
  for (int i = 1; i <= nf && n < cap; ++i) y[n++] = ES_YFAR + (yhi - ES_YFAR) * i / nf;
  return n;
}

/* One x node: the s grid, h = d sigma/(dy ds) on it, its integral g and the trapezoid error
 * estimate (difference to the rule on every second node). */
static int fill_node(na64_exact_sampler *S, int i, double *err_abs, na64_err *err)
{
  double x = -expm1(-S->y[i]), *s = S->s + i * ES_NS, *h = S->h + i * ES_NS;
  double tc = na64_exact_theta_c(&S->p, x), shi = fmin(ES_SHI, log(M_PI / tc));
  if (!(shi > ES_SLO + 1.0)) shi = ES_SLO + 1.0;
  for (int j = 0; j < ES_NS; ++j) {
    s[j] = ES_SLO + (shi - ES_SLO) * j / (ES_NS - 1);
    double v = 0.0;
    int st = x > 0.0 && x < 1.0 ? na64_exact_dsdx_dlntheta(&S->p, x, tc * exp(s[j]), ES_T_REL, &v, err) : NA64_OK;
    if (st) return st;
    h[j] = v * (1.0 - x); /* dx = (1 - x) dy */
  }
  cumulate(s, h, ES_NS, S->H + i * ES_NS);
  S->g[i] = S->H[i * ES_NS + ES_NS - 1];
  double coarse = 0.0; /* ES_NS is odd: every second node spans the same range */
  for (int j = 2; j < ES_NS; j += 2) coarse += 0.5 * (h[j - 2] + h[j]) * (s[j] - s[j - 2]);
  *err_abs = fabs(S->g[i] - coarse) / 3.0;
  return NA64_OK;
}

int na64_exact_sampler_new(const na64_exact_process *p, na64_exact_sampler **out, na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "exact sampler: NULL argument");
  *out = NULL;
  NA64_CALL(na64_exact_process_check(p, err));
  double ml = p->beam == NA64_LEPTON_MU ? NA64_M_MU : NA64_M_E;
  double xlo = fmax(p->m / p->E0, p->x_min), xhi = 1.0 - ml / p->E0;
  if (!(xhi > xlo)) return na64_err_set(err, NA64_EPHYS, "exact sampler: no phase space above x = %g (E0 = %g GeV, m = %g GeV)", xlo, p->E0, p->m);
  char key[ES_KEYLEN];
  memo_key(p, key, sizeof key);
  pthread_mutex_lock(&memo_lock);
  *out = memo_find(key);
  pthread_mutex_unlock(&memo_lock);
  if (*out) return NA64_OK;
  na64_exact_sampler *S = calloc(1, sizeof *S);
  enum { CAP = 200 }; /* x_nodes: <= 66 below x = 0.3 (x_lo >= 1e-9), 41 to y = 8, <= 3 per unit of y after */
  if (S) {
    S->y = malloc(sizeof(double) * CAP);
    S->g = malloc(sizeof(double) * CAP);
    S->G = malloc(sizeof(double) * CAP);
    S->s = malloc(sizeof(double) * CAP * ES_NS);
    S->h = malloc(sizeof(double) * CAP * ES_NS);
    S->H = malloc(sizeof(double) * CAP * ES_NS);
  }
  if (!S || !S->y || !S->g || !S->G || !S->s || !S->h || !S->H) {
    table_free(S);
    return na64_err_set(err, NA64_ENOMEM, "exact sampler: out of memory");
  }
  S->p = *p;
  S->nx = x_nodes(xlo, xhi, S->y, CAP);
  double eabs = 0.0;
  for (int i = 0; i < S->nx; ++i) {
    double e = 0.0;
    int st = fill_node(S, i, &e, err);
    if (st) {
      na64_err_prefix(err, "exact sampler (%s beam, %s, E0 = %g GeV, m = %g GeV)", na64_lepton_name(p->beam),
                      na64_mediator_name(p->mediator), p->E0, p->m);
      table_free(S);
      return st;
    }
    eabs += e * (i > 0 && i < S->nx - 1 ? 0.5 * (S->y[i + 1] - S->y[i - 1]) : 0.0);
  }
  cumulate(S->y, S->g, S->nx, S->G);
  double total = S->G[S->nx - 1];
  if (!(total > 0.0) || !isfinite(total)) {
    table_free(S);
    return na64_err_set(err, NA64_EPHYS, "exact sampler: the tabulated cross section is %g pb (E0 = %g GeV, m = %g GeV)", total,
                        p->E0, p->m);
  }
  S->rel_err = eabs / total;
  S->refs = 1;
  *out = memo_share(key, S); /* another thread may have built the same table meanwhile: use one */
  return NA64_OK;
}

/* int_{x >= xmin} d sigma of the table, pb */
static double integral_above(const na64_exact_sampler *S, double xmin)
{
  int n = S->nx;
  double ymin = xmin > 0.0 ? -log1p(-xmin) : S->y[0];
  if (ymin <= S->y[0]) return S->G[n - 1];
  if (ymin >= S->y[n - 1]) return 0.0;
  int k = bin_of(S->y, n, ymin);
  return S->G[n - 1] - S->G[k] - partial(S->y, S->g, k, ymin - S->y[k]);
}

double na64_exact_sampler_integral(const na64_exact_sampler *S, double xmin, double *rel_err)
{
  if (rel_err) *rel_err = S->rel_err;
  return integral_above(S, xmin);
}

double na64_exact_sampler_dsdx(const na64_exact_sampler *S, double x)
{
  if (!(x > 0.0) || !(x < 1.0)) return 0.0;
  double y = -log1p(-x);
  if (y < S->y[0] || y > S->y[S->nx - 1]) return 0.0;
  int k = bin_of(S->y, S->nx, y);
  if (k > S->nx - 2) k = S->nx - 2;
  double w = (y - S->y[k]) / (S->y[k + 1] - S->y[k]);
  return ((1.0 - w) * S->g[k] + w * S->g[k + 1]) / (1.0 - x);
}

int na64_exact_sample(const na64_exact_sampler *S, na64_rng *rng, double xmin, double *x, double *theta)
{
  int n = S->nx;
  double total = S->G[n - 1], above = integral_above(S, xmin);
  if (!(above > 0.0)) return NA64_EPHYS;
  /* y from the piecewise-linear marginal restricted to y >= y(xmin) */
  double c = total - above + na64_rng_uniform(rng) * above;
  int k = 0;
  double y = invert(S->y, S->g, S->G, n, c, &k);
  double w = (y - S->y[k]) / (S->y[k + 1] - S->y[k]);
  /* the theta node: node k with weight (1 - w) g_k, node k+1 with w g_{k+1} */
  double pk = (1.0 - w) * S->g[k], pk1 = w * S->g[k + 1];
  int node = na64_rng_uniform(rng) * (pk + pk1) < pk ? k : k + 1;
  const double *s = S->s + node * ES_NS, *h = S->h + node * ES_NS, *H = S->H + node * ES_NS;
  double sv = invert(s, h, H, ES_NS, na64_rng_uniform(rng) * H[ES_NS - 1], NULL);
  double xv = -expm1(-y);
  if (xmin > 0.0 && xv < xmin) xv = xmin; /* rounding at the edge */
  *x = xv;
  *theta = fmin(na64_exact_theta_c(&S->p, xv) * exp(sv), M_PI);
  return NA64_OK;
}

void na64_exact_sampler_free(na64_exact_sampler *S)
{
  if (!S) return;
  pthread_mutex_lock(&memo_lock);
  int last = S->refs <= 1; /* refs 0: a table that failed while being built (never shared) */
  if (!last) S->refs--;
  pthread_mutex_unlock(&memo_lock);
  if (last) table_free(S);
}

static void table_free(na64_exact_sampler *S)
{
  if (!S) return;
  free(S->y);
  free(S->g);
  free(S->G);
  free(S->s);
  free(S->h);
  free(S->H);
  free(S);
}
