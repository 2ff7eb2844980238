/*
 * Statistics of a single-bin counting experiment: Poisson upper limits (classical and Bayesian
 * flat prior) and the modified frequentist CLs method with integrated nuisance parameters.
 * Feldman-Cousins intervals are in stats_fc.c. Formulas and references: docs/statistics.md.
 *
 * Everything is exact up to quadrature/root-finding tolerances: sums of Poisson terms are
 * regularized incomplete gamma functions, the nuisance parameters are integrated with GSL's
 * adaptive Gauss-Kronrod quadrature, and limits are found with GSL's Brent solver. No Monte Carlo.
 */
#include "na64/ana.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_gamma.h>

/* GSL aborts on errors by default; every GSL status is checked here and turned into an NA64_E*
 * code, so the handler is switched off once per process (the library must never abort). */
static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;
static void gsl_off(void) { gsl_set_error_handler_off(); }
static void gsl_quiet(void) { pthread_once(&gsl_once, gsl_off); }

/* Largest background / observed count accepted: beyond this the problem is not a small-signal
 * counting experiment and the asymptotic formulae (Cowan et al., EPJC 71 (2011) 1554) apply. */
#define STATS_MAX_B 1e6
#define STATS_MAX_N 10000000

/* Probabilities of the Gaussian -2..+2 sigma quantiles, Phi(k) for k = -2..2. */
const double na64_stats_band_prob[5] = {0.022750131948179207, 0.15865525393145707, 0.5,
                                        0.8413447460685429, 0.9772498680518208};

/* ------------------------------------------------------------------------------------------ */
/* input checks                                                                                */

static int check_cl(double cl, const char *where, na64_err *err)
{
  if (!(cl > 0.0 && cl < 1.0)) /* also rejects NaN */
    return na64_err_set(err, NA64_EINVAL, "%s: confidence level cl = %g outside (0, 1)", where, cl);
  return NA64_OK;
}

static int check_nb(int n_obs, double b, const char *where, na64_err *err)
{
  if (n_obs < 0)
    return na64_err_set(err, NA64_EINVAL, "%s: observed events n_obs = %d is negative", where,
                        n_obs);
  if (n_obs > STATS_MAX_N)
    return na64_err_set(err, NA64_ERANGE, "%s: n_obs = %d above %d (use asymptotic formulae)",
                        where, n_obs, STATS_MAX_N);
  if (!isfinite(b) || b < 0.0)
    return na64_err_set(err, NA64_EINVAL, "%s: background b = %g must be finite and >= 0", where,
                        b);
  if (b > STATS_MAX_B)
    return na64_err_set(err, NA64_ERANGE, "%s: background b = %g above %g (use asymptotic "
                        "formulae)", where, b, STATS_MAX_B);
  return NA64_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* log of the Poisson CDF                                                                      */

/* Poisson probability P(N | mu), log form. (For mu ~ 1e6 the three terms cancel to ~10 from
 * ~1e7, so the result carries an absolute error ~1e-9: the accuracy limit at such counts.) */
static double log_pois_pmf(int N, double mu)
{
  if (mu <= 0.0) return N == 0 ? 0.0 : -INFINITY;
  return N * log(mu) - mu - gsl_sf_lnfact((unsigned)N);
}

/* ln P(n <= N | mu) by summing the Poisson terms outwards from the largest one (k0 = floor(mu),
 * or N if mu > N) with the ratio recurrences P(k-1)/P(k) = k/mu, P(k+1)/P(k) = mu/(k+1); all
 * terms are positive, the sum stops when a term falls below 1e-17 of it (~9 sqrt(mu) terms on
 * each side). Relative accuracy ~1e-13 plus the error of ln P(k0 | mu) above. */
static double log_pois_cdf_sum(int N, double mu)
{
  int k0 = mu < N ? (int)floor(mu) : N;
  double sum = 1.0, t = 1.0;
  for (int k = k0; k > 0; --k) {
    t *= k / mu;
    sum += t;
    if (t < 1e-17 * sum) break;
  }
  t = 1.0;
  for (int k = k0 + 1; k <= N; ++k) {
    t *= mu / k;
    sum += t;
    if (t < 1e-17 * sum) break;
  }
  return log_pois_pmf(k0, mu) + log(sum);
}

/* ln P(n <= N | mu) = ln Q(N+1, mu) (regularized upper incomplete gamma; Abramowitz & Stegun
 * 6.5.13 / 26.4.21). GSL's gsl_sf_gamma_inc_Q for N < 1000, where it agrees with the direct sum
 * to 3e-12. Above that GSL 2.7 loses accuracy near mu = N +- sqrt(N) (measured: 1e-10 relative
 * at N = 1e4, 1e-3 at N = 4e5, values above 1 at N ~ 1e6), so large N, and any N where Q
 * underflows a double, use the direct sum. */
#define GSL_GAMMA_INC_MAX_N 1000
static double log_pois_cdf(int N, double mu)
{
  if (mu <= 0.0) return 0.0;
  if (N < GSL_GAMMA_INC_MAX_N) {
    gsl_sf_result r;
    int st = gsl_sf_gamma_inc_Q_e((double)N + 1.0, mu, &r);
    if (st == GSL_SUCCESS && r.val > 1e-290) return log(r.val);
  }
  return log_pois_cdf_sum(N, mu);
}

/* Solve ln Q(N+1, x) = target for x > 0 (target < 0) starting from x0: Newton steps in log form,
 * d/dx ln Q(N+1, x) = -P(N | x) / Q(N+1, x). Used to polish GSL's gamma quantiles, whose
 * documented accuracy is below what the tests ask for, and to handle underflowing targets. */
static int solve_log_cdf(int N, double target, double x0, double *x, na64_err *err)
{
  double xi = x0 > 0 ? x0 : (N + 1.0);
  double prev_step = INFINITY;
  for (int it = 0; it < 200; ++it) {
    double lq = log_pois_cdf(N, xi);
    double f = lq - target;
    double dlog = -exp(log_pois_pmf(N, xi) - lq); /* d lnQ / dx < 0 */
    double step = f / dlog;
    double xn = xi - step;
    if (xn <= 0) xn = 0.5 * xi; /* stay in the domain; Q is convex in log near 0 */
    double d = fabs(xn - xi);
    /* converged to rounding, or (large N, where ln Q carries ~1e-10 absolute noise) the steps
     * stopped shrinking at the noise floor */
    if (f == 0 || d <= 4 * DBL_EPSILON * xi + 1e-300 ||
        (it >= 6 && d >= 0.5 * prev_step && fabs(f) < 1e-8)) {
      *x = xn;
      return NA64_OK;
    }
    prev_step = d;
    xi = xn;
  }
  return na64_err_set(err, NA64_ENUMERIC, "Poisson quantile: Newton iteration for N = %d, "
                      "ln P = %g did not converge (last x = %.17g)", N, target, xi);
}

/* ------------------------------------------------------------------------------------------ */
/* Poisson upper limits                                                                        */

int na64_stats_poisson_upper_method(na64_poisson_method method, int n_obs, double b, double cl,
                                    double *s_up, na64_err *err)
{
  static const char *where = "na64_stats_poisson_upper";
  gsl_quiet();
  if (!s_up) return na64_err_set(err, NA64_EINVAL, "%s: s_up is NULL", where);
  NA64_CALL(check_cl(cl, where, err));
  NA64_CALL(check_nb(n_obs, b, where, err));
  const double alpha = 1.0 - cl;
  double target, x0;
  switch (method) {
  case NA64_POISSON_CLASSICAL:
    /* Neyman: P(n <= n_obs | s + b) = 1 - cl, i.e. s + b = 1/2 F^-1_chi2(cl; 2(n_obs+1)),
     * the gamma(n_obs+1, 1) quantile. */
    target = log(alpha);
    x0 = gsl_cdf_gamma_Qinv(alpha, n_obs + 1.0, 1.0);
    break;
  case NA64_POISSON_BAYES:
    /* Flat prior in s >= 0: the posterior tail gives
     * P(n <= n_obs | s + b) = (1 - cl) P(n <= n_obs | b)  (Helene's formula). */
    target = log(alpha) + log_pois_cdf(n_obs, b);
    x0 = exp(target) > 1e-290 ? gsl_cdf_gamma_Qinv(exp(target), n_obs + 1.0, 1.0) : 0.0;
    if (!(x0 > b)) x0 = b - log(alpha) + 1.0; /* underflow or GSL failure: start to the right */
    break;
  default:
    return na64_err_set(err, NA64_EINVAL, "%s: unknown method %d", where, (int)method);
  }
  double x = 0;
  NA64_CALL(solve_log_cdf(n_obs, target, x0, &x, err));
  *s_up = x - b;
  if (method == NA64_POISSON_BAYES && !(*s_up > 0)) {
    /* x - b lost all digits (b huge compared with s): fall back to the CLs root finder, which
     * works in s directly. */
    na64_cls_config cfg;
    na64_cls_config_default(&cfg);
    cfg.cl = cl;
    cfg.b = b;
    return na64_stats_cls_limit(&cfg, n_obs, s_up, err);
  }
  return NA64_OK;
}

int na64_stats_poisson_upper(int n_obs, double b, double cl, double *s_up, na64_err *err)
{
  return na64_stats_poisson_upper_method(NA64_POISSON_BAYES, n_obs, b, cl, s_up, err);
}

int na64_stats_scale_limit(double s_up, double k, double *mu_up, na64_err *err)
{
  if (!mu_up) return na64_err_set(err, NA64_EINVAL, "na64_stats_scale_limit: mu_up is NULL");
  if (!isfinite(s_up) || s_up < 0)
    return na64_err_set(err, NA64_EINVAL, "na64_stats_scale_limit: s_up = %g must be finite and "
                        ">= 0", s_up);
  if (!isfinite(k) || !(k > 0))
    return na64_err_set(err, NA64_EINVAL, "na64_stats_scale_limit: yield per unit parameter "
                        "k = %g must be finite and > 0", k);
  *mu_up = s_up / k;
  return NA64_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* CLs with nuisance parameters                                                                */

void na64_cls_config_default(na64_cls_config *cfg)
{
  if (!cfg) return;
  cfg->cl = 0.90;
  cfg->b = 0.0;
  cfg->db = 0.0;
  cfg->sig_rel = 0.0;
  cfg->b_prior = NA64_PRIOR_GAUSS;
  cfg->sig_prior = NA64_PRIOR_GAUSS;
  cfg->rel_tol = 1e-9;
}

int na64_cls_config_check(const na64_cls_config *cfg, na64_err *err)
{
  static const char *where = "CLs configuration";
  if (!cfg) return na64_err_set(err, NA64_EINVAL, "%s: NULL", where);
  NA64_CALL(check_cl(cfg->cl, where, err));
  NA64_CALL(check_nb(0, cfg->b, where, err));
  if (!isfinite(cfg->db) || cfg->db < 0)
    return na64_err_set(err, NA64_EINVAL, "%s: background uncertainty db = %g must be finite and "
                        ">= 0", where, cfg->db);
  if (!isfinite(cfg->sig_rel) || cfg->sig_rel < 0)
    return na64_err_set(err, NA64_EINVAL, "%s: relative signal uncertainty sig_rel = %g must be "
                        "finite and >= 0", where, cfg->sig_rel);
  if (cfg->db > STATS_MAX_B)
    return na64_err_set(err, NA64_ERANGE, "%s: background uncertainty db = %g above %g", where,
                        cfg->db, STATS_MAX_B);
  if (cfg->sig_rel > 100)
    return na64_err_set(err, NA64_ERANGE, "%s: relative signal uncertainty sig_rel = %g above 100",
                        where, cfg->sig_rel);
  if (cfg->b_prior != NA64_PRIOR_GAUSS && cfg->b_prior != NA64_PRIOR_LOGNORMAL)
    return na64_err_set(err, NA64_EINVAL, "%s: unknown background prior %d", where,
                        (int)cfg->b_prior);
  if (cfg->sig_prior != NA64_PRIOR_GAUSS && cfg->sig_prior != NA64_PRIOR_LOGNORMAL)
    return na64_err_set(err, NA64_EINVAL, "%s: unknown signal prior %d", where,
                        (int)cfg->sig_prior);
  if (cfg->b_prior == NA64_PRIOR_LOGNORMAL && cfg->db > 0 && !(cfg->b > 0))
    return na64_err_set(err, NA64_EINVAL, "%s: a log-normal background prior needs b > 0 "
                        "(b = %g, db = %g)", where, cfg->b, cfg->db);
  if (!(cfg->rel_tol >= 1e-13 && cfg->rel_tol <= 1e-3))
    return na64_err_set(err, NA64_EINVAL, "%s: rel_tol = %g outside [1e-13, 1e-3]", where,
                        cfg->rel_tol);
  return NA64_OK;
}

/* A prior for a positive nuisance parameter with mean m and standard deviation sd, written as a
 * map x(t) from a standard-normal variable t on [t_lo, t_hi] with weight phi(t)/Z:
 *  - truncated Gaussian: x = m + sd t, t >= -m/sd (x >= 0), Z = P(t in [t_lo, t_hi]);
 *  - log-normal with E[x] = m, sd[x] = sd: x = m exp(s t - s^2/2), s^2 = ln(1 + (sd/m)^2).
 * |t| <= PRIOR_NSIG: the neglected tail mass is 2 Q(10) = 1.5e-23, far below any tolerance. */
#define PRIOR_NSIG 10.0

typedef struct prior_map {
  int active;        /* 0: delta function at m */
  na64_prior kind;
  double m, sd, s;   /* mean, sd, log-normal sigma */
  double t_lo, t_hi, norm;
} prior_map;

static void prior_setup(prior_map *p, na64_prior kind, double m, double sd)
{
  p->active = sd > 0;
  p->kind = kind;
  p->m = m;
  p->sd = sd;
  p->s = 0;
  p->t_lo = -PRIOR_NSIG;
  p->t_hi = PRIOR_NSIG;
  if (!p->active) return;
  if (kind == NA64_PRIOR_GAUSS) {
    if (-m / sd > p->t_lo) p->t_lo = -m / sd; /* truncation at x = 0 */
  } else {
    p->s = sqrt(log1p((sd / m) * (sd / m)));
  }
  p->norm = gsl_cdf_ugaussian_Q(p->t_lo) - gsl_cdf_ugaussian_Q(p->t_hi);
}

static double prior_x(const prior_map *p, double t)
{
  if (p->kind == NA64_PRIOR_GAUSS) return p->m + p->sd * t;
  return p->m * exp(p->s * t - 0.5 * p->s * p->s);
}

static double prior_w(const prior_map *p, double t)
{
  return exp(-0.5 * t * t) / (sqrt(2 * M_PI) * p->norm);
}

/* Inverse map: the t at which the parameter equals x (may lie outside [t_lo, t_hi]). */
static double prior_t_of(const prior_map *p, double x)
{
  if (p->kind == NA64_PRIOR_GAUSS) return (x - p->m) / p->sd;
  if (!(x > 0)) return -INFINITY;
  return (log(x / p->m) + 0.5 * p->s * p->s) / p->s;
}

/* Smallest value of the parameter inside the integration domain. */
static double prior_xmin(const prior_map *p) { return p->active ? prior_x(p, p->t_lo) : p->m; }

typedef struct cls_ctx {
  int N;               /* n_obs */
  double s;            /* signal mean */
  double ref;          /* ln Q at the smallest mean: integrands are exp(lnQ - ref) <= 1 */
  prior_map pb, ps;    /* background, signal scale (mean 1) */
  double tol;
  gsl_integration_workspace *w_out, *w_in;
  double kappa;        /* current signal scale in the inner integral */
  int gsl_status;      /* first hard GSL failure */
} cls_ctx;

#define QAG_LIMIT 200

static double scaled_cdf(const cls_ctx *c, double mean)
{
  return exp(log_pois_cdf(c->N, mean) - c->ref);
}

/* integrand over the background variable t (inner) */
static double f_bkg(double t, void *par)
{
  cls_ctx *c = par;
  return prior_w(&c->pb, t) * scaled_cdf(c, c->kappa * c->s + prior_x(&c->pb, t));
}

/* Means at which P(n <= N | mean) changes: it falls from ~1 to ~0 across
 * N + 1 +- a few sqrt(N + 1). When a prior is much wider than this (db >> b, sig_rel >> 1) the
 * integrand lives on a small part of the domain; handing these points to the integrator as
 * break points keeps it from missing that part. */
#define NBREAK 5
static int poisson_breaks(int N, double mu[NBREAK])
{
  static const double c[NBREAK] = {-3.0, 0.0, 3.0, 10.0, 30.0};
  double r = sqrt(N + 1.0);
  int k = 0;
  for (int i = 0; i < NBREAK; ++i) {
    double m = N + 1.0 + c[i] * r;
    if (m > 0) mu[k++] = m;
  }
  return k;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Integrate F over [a, b] with GSL's adaptive Gauss-Kronrod rule, splitting at the interior
 * points brk[0..nb-1] (any order; points outside or within 1e-9 of others are dropped). */
static int qag_split(cls_ctx *c, gsl_function *F, double a, double b, const double *brk, int nb,
                     gsl_integration_workspace *w, double *res)
{
  double pts[NBREAK + 2];
  int np = 0;
  pts[np++] = a;
  double in[NBREAK];
  int ni = 0;
  for (int i = 0; i < nb && ni < NBREAK; ++i)
    if (brk[i] > a + 1e-9 && brk[i] < b - 1e-9) in[ni++] = brk[i];
  qsort(in, (size_t)ni, sizeof in[0], cmp_double);
  for (int i = 0; i < ni; ++i)
    if (in[i] > pts[np - 1] + 1e-9) pts[np++] = in[i];
  pts[np++] = b;
  double abserr;
  int st = np == 2 ? gsl_integration_qag(F, a, b, 0.0, c->tol, QAG_LIMIT, GSL_INTEG_GAUSS21, w,
                                         res, &abserr)
                   : gsl_integration_qagp(F, pts, (size_t)np, 0.0, c->tol, QAG_LIMIT, w, res,
                                          &abserr);
  /* GSL_EROUND / GSL_EMAXITER: the requested accuracy is below the noise of the integrand (for
   * n_obs or b >~ 1e5, gsl_sf_gamma_inc_Q uses a uniform asymptotic expansion good to ~1e-10).
   * The result is still GSL's best estimate: accept it when the error estimate is within
   * max(100 rel_tol, 1e-6) of it, which moves a limit by at most that fraction. */
  if (st == GSL_EROUND || st == GSL_EMAXITER) {
    double acc = fmax(100 * c->tol, 1e-6);
    if (abserr <= acc * fabs(*res) + 1e-300) {
      if (abserr > c->tol * fabs(*res))
        na64_log(NA64_LOG_DEBUG, "CLs: nuisance integral (n_obs = %d) reached relative accuracy "
                 "%.2g only", c->N, abserr / fabs(*res));
      st = GSL_SUCCESS;
    }
  }
  if (st != GSL_SUCCESS && c->gsl_status == GSL_SUCCESS) c->gsl_status = st;
  return st;
}

/* E_b[ scaled P(n <= N | kappa s + b') ] over the background prior */
static double bkg_average(cls_ctx *c, gsl_integration_workspace *w)
{
  if (!c->pb.active) return scaled_cdf(c, c->kappa * c->s + c->pb.m);
  gsl_function F = {f_bkg, c};
  double mu[NBREAK], brk[NBREAK];
  int nb = poisson_breaks(c->N, mu);
  for (int i = 0; i < nb; ++i) brk[i] = prior_t_of(&c->pb, mu[i] - c->kappa * c->s);
  double r = 0;
  qag_split(c, &F, c->pb.t_lo, c->pb.t_hi, brk, nb, w, &r);
  return r;
}

/* integrand over the signal-scale variable t (outer) */
static double f_sig(double t, void *par)
{
  cls_ctx *c = par;
  c->kappa = prior_x(&c->ps, t);
  return prior_w(&c->ps, t) * bkg_average(c, c->w_in);
}

/* Scaled CL_{s+b}: E_{kappa, b}[P(n <= N | kappa s + b')] exp(-ref). */
static double clsb_scaled(cls_ctx *c)
{
  if (!c->ps.active || c->s == 0.0) {
    c->kappa = 1.0;
    return bkg_average(c, c->w_out);
  }
  gsl_function F = {f_sig, c};
  /* break points where kappa s + b (b at its mean) crosses the Poisson transition */
  double mu[NBREAK], brk[NBREAK];
  int nb = poisson_breaks(c->N, mu);
  for (int i = 0; i < nb; ++i) brk[i] = prior_t_of(&c->ps, (mu[i] - c->pb.m) / c->s);
  double r = 0;
  qag_split(c, &F, c->ps.t_lo, c->ps.t_hi, brk, nb, c->w_out, &r);
  return r;
}

static int ctx_init(cls_ctx *c, const na64_cls_config *cfg, int n_obs, na64_err *err)
{
  gsl_quiet();
  NA64_CALL(na64_cls_config_check(cfg, err));
  NA64_CALL(check_nb(n_obs, cfg->b, "CLs", err));
  c->N = n_obs;
  c->s = 0;
  c->kappa = 1;
  c->tol = cfg->rel_tol;
  c->gsl_status = GSL_SUCCESS;
  prior_setup(&c->pb, cfg->b_prior, cfg->b, cfg->db);
  prior_setup(&c->ps, cfg->sig_prior, 1.0, cfg->sig_rel);
  /* A Gaussian that loses more than 1% below 0 has its mean pushed up by the truncation (by
   * sd phi(m/sd)/Phi(m/sd)); say so, since it changes the limit in a way users may not expect. */
  const prior_map *pm[2] = {&c->pb, &c->ps};
  static const char *pname[2] = {"background", "signal-scale"};
  for (int i = 0; i < 2; ++i)
    if (pm[i]->active && pm[i]->kind == NA64_PRIOR_GAUSS && pm[i]->norm < 0.99)
      na64_log(NA64_LOG_WARN, "CLs: the truncated Gaussian %s prior (mean %g, sigma %g) loses "
               "%.1f%% of its mass below 0 and its mean moves up; a log-normal prior keeps it",
               pname[i], pm[i]->m, pm[i]->sd, 100 * (1 - pm[i]->norm));
  c->ref = log_pois_cdf(n_obs, prior_xmin(&c->pb));
  c->w_out = gsl_integration_workspace_alloc(QAG_LIMIT);
  c->w_in = gsl_integration_workspace_alloc(QAG_LIMIT);
  if (!c->w_out || !c->w_in) {
    gsl_integration_workspace_free(c->w_out);
    gsl_integration_workspace_free(c->w_in);
    return na64_err_set(err, NA64_ENOMEM, "CLs: cannot allocate integration workspaces");
  }
  return NA64_OK;
}

static void ctx_free(cls_ctx *c)
{
  gsl_integration_workspace_free(c->w_out);
  gsl_integration_workspace_free(c->w_in);
}

static int ctx_gsl_check(const cls_ctx *c, double s, na64_err *err)
{
  if (c->gsl_status != GSL_SUCCESS)
    return na64_err_set(err, NA64_ENUMERIC, "CLs: nuisance integral for n_obs = %d, s = %g failed "
                        "(%s)", c->N, s, gsl_strerror(c->gsl_status));
  return NA64_OK;
}

/* scaled CL_b (s = 0), computed once per context */
static int ctx_clb(cls_ctx *c, double *clb_scaled, na64_err *err)
{
  c->s = 0;
  *clb_scaled = clsb_scaled(c);
  NA64_CALL(ctx_gsl_check(c, 0, err));
  if (!(*clb_scaled > 1e-300))
    return na64_err_set(err, NA64_ERANGE, "CLs: CL_b underflows for n_obs = %d with background "
                        "%g +- %g (observation incompatible with the background model)", c->N,
                        c->pb.m, c->pb.sd);
  return NA64_OK;
}

int na64_stats_cls(const na64_cls_config *cfg, int n_obs, double s, double *cls, double *clsb,
                   double *clb, na64_err *err)
{
  if (!isfinite(s) || s < 0)
    return na64_err_set(err, NA64_EINVAL, "na64_stats_cls: signal mean s = %g must be finite and "
                        ">= 0", s);
  cls_ctx c;
  NA64_CALL(ctx_init(&c, cfg, n_obs, err));
  double b_sc, sb_sc;
  int st = ctx_clb(&c, &b_sc, err);
  if (st == NA64_OK) {
    c.s = s;
    sb_sc = s == 0 ? b_sc : clsb_scaled(&c);
    st = ctx_gsl_check(&c, s, err);
  }
  if (st == NA64_OK) {
    if (cls) *cls = s == 0 ? 1.0 : sb_sc / b_sc;
    if (clsb) *clsb = sb_sc * exp(c.ref);
    if (clb) *clb = b_sc * exp(c.ref);
  }
  ctx_free(&c);
  return st;
}

typedef struct root_par {
  cls_ctx *c;
  double log_clb, log_alpha;
} root_par;

/* ln CLs(s) - ln(1 - cl): decreasing in s, ~ linear for large s (CLs ~ e^-s for n_obs = 0). */
static double f_root(double s, void *par)
{
  root_par *r = par;
  r->c->s = s;
  double v = clsb_scaled(r->c);
  if (r->c->gsl_status != GSL_SUCCESS) return GSL_NAN;
  if (!(v > 0)) return -1e300; /* underflow: far above the limit */
  return log(v) - r->log_clb - r->log_alpha;
}

int na64_stats_cls_limit(const na64_cls_config *cfg, int n_obs, double *s_up, na64_err *err)
{
  if (!s_up) return na64_err_set(err, NA64_EINVAL, "na64_stats_cls_limit: s_up is NULL");
  cls_ctx c;
  NA64_CALL(ctx_init(&c, cfg, n_obs, err));
  double b_sc;
  int st = ctx_clb(&c, &b_sc, err);
  if (st != NA64_OK) {
    ctx_free(&c);
    return st;
  }
  root_par rp = {&c, log(b_sc), log(1.0 - cfg->cl)};
  gsl_function F = {f_root, &rp};

  /* Bracket: f(0) = -ln(1-cl) > 0. Start at the background-free limit (an upper bound without
   * signal uncertainty, since the limit decreases with b) widened for the signal uncertainty, and
   * double until f < 0. */
  double lo = 0.0, hi = gsl_cdf_gamma_Pinv(cfg->cl, n_obs + 1.0, 1.0) * (1.0 + 3.0 * cfg->sig_rel);
  if (!(hi > 0) || !isfinite(hi)) hi = n_obs + 10.0;
  double fhi = f_root(hi, &rp);
  int k = 0;
  while (fhi > 0 && k < 80) {
    lo = hi;
    hi *= 2.0;
    fhi = f_root(hi, &rp);
    ++k;
  }
  if (isnan(fhi) || c.gsl_status != GSL_SUCCESS) {
    st = ctx_gsl_check(&c, hi, err);
    if (st == NA64_OK)
      st = na64_err_set(err, NA64_ENUMERIC, "CLs limit: CLs(%g) is not a number", hi);
    ctx_free(&c);
    return st;
  }
  if (fhi > 0) {
    ctx_free(&c);
    return na64_err_set(err, NA64_ENUMERIC, "CLs limit: no upper bracket up to s = %g (n_obs = %d, "
                        "sig_rel = %g)", hi, n_obs, cfg->sig_rel);
  }
  if (fhi == 0) {
    *s_up = hi;
    ctx_free(&c);
    return NA64_OK;
  }

  gsl_root_fsolver *solver = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
  if (!solver) {
    ctx_free(&c);
    return na64_err_set(err, NA64_ENOMEM, "CLs limit: cannot allocate the root solver");
  }
  gsl_root_fsolver_set(solver, &F, lo, hi);
  /* The root is wanted to rel_tol; f itself is accurate to ~rel_tol, so ask for a bracket a
   * little tighter than that. */
  double root = 0.5 * (lo + hi);
  st = NA64_ENUMERIC;
  for (int it = 0; it < 200; ++it) {
    int gs = gsl_root_fsolver_iterate(solver);
    if (gs != GSL_SUCCESS || c.gsl_status != GSL_SUCCESS) break;
    root = gsl_root_fsolver_root(solver);
    double a = gsl_root_fsolver_x_lower(solver), bb = gsl_root_fsolver_x_upper(solver);
    if (gsl_root_test_interval(a, bb, 1e-300, 0.1 * cfg->rel_tol) == GSL_SUCCESS) {
      st = NA64_OK;
      break;
    }
  }
  gsl_root_fsolver_free(solver);
  if (st != NA64_OK) {
    int s2 = ctx_gsl_check(&c, root, err);
    ctx_free(&c);
    if (s2 != NA64_OK) return s2;
    return na64_err_set(err, NA64_ENUMERIC, "CLs limit: Brent solver did not converge for n_obs = "
                        "%d (last s = %g)", n_obs, root);
  }
  ctx_free(&c);
  *s_up = root;
  return NA64_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* expected limits                                                                             */

/* F_b(n) = P(n' <= n | background only), averaged over the background prior. */
static int bkg_cdf(const na64_cls_config *cfg, int n, double *F, na64_err *err)
{
  if (cfg->db == 0) {
    *F = exp(log_pois_cdf(n, cfg->b));
    return NA64_OK;
  }
  double clb;
  NA64_CALL(na64_stats_cls(cfg, n, 0.0, NULL, NULL, &clb, err));
  *F = clb;
  return NA64_OK;
}

int na64_stats_bkg_quantile(const na64_cls_config *cfg, double p, int *n, na64_err *err)
{
  gsl_quiet();
  if (!n) return na64_err_set(err, NA64_EINVAL, "na64_stats_bkg_quantile: n is NULL");
  NA64_CALL(na64_cls_config_check(cfg, err));
  if (!(p > 0 && p < 1))
    return na64_err_set(err, NA64_EINVAL, "na64_stats_bkg_quantile: probability p = %g outside "
                        "(0, 1)", p);
  /* F_b is non-decreasing in n: bracket the quantile around the normal approximation (mean b,
   * variance b + db^2) by doubling steps, then bisect on integers. O(log n) evaluations, also for
   * very wide (log-normal) background priors. */
  double guess = cfg->b + gsl_cdf_ugaussian_Pinv(p) * sqrt(cfg->b + cfg->db * cfg->db);
  long k = guess > 0 ? (long)floor(fmin(guess, (double)STATS_MAX_N)) : 0;
  double F;
  NA64_CALL(bkg_cdf(cfg, (int)k, &F, err));
  long lo, hi; /* F(lo) < p <= F(hi); lo = -1 stands for "below 0" */
  if (F >= p) {
    hi = k;
    long step = 1;
    lo = k - step;
    for (;;) {
      if (lo < 0) {
        lo = -1;
        break;
      }
      double Fl;
      NA64_CALL(bkg_cdf(cfg, (int)lo, &Fl, err));
      if (Fl < p) break;
      hi = lo;
      step *= 2;
      lo = hi - step;
    }
  } else {
    lo = k;
    long step = 1;
    for (;;) {
      hi = lo + step;
      if (hi > STATS_MAX_N)
        return na64_err_set(err, NA64_ERANGE, "na64_stats_bkg_quantile: quantile p = %g lies "
                            "above n = %d (b = %g, db = %g)", p, STATS_MAX_N, cfg->b, cfg->db);
      double Fh;
      NA64_CALL(bkg_cdf(cfg, (int)hi, &Fh, err));
      if (Fh >= p) break;
      lo = hi;
      step *= 2;
    }
  }
  while (hi - lo > 1) {
    long mid = lo + (hi - lo) / 2;
    double Fm;
    NA64_CALL(bkg_cdf(cfg, (int)mid, &Fm, err));
    if (Fm >= p)
      hi = mid;
    else
      lo = mid;
  }
  k = hi;
  *n = (int)k;
  return NA64_OK;
}

int na64_stats_cls_expected_n(const na64_cls_config *cfg, double bands[5], int n_at[5],
                              na64_err *err)
{
  if (!bands) return na64_err_set(err, NA64_EINVAL, "na64_stats_cls_expected: bands is NULL");
  int nq[5];
  for (int i = 0; i < 5; ++i)
    NA64_CALL(na64_stats_bkg_quantile(cfg, na64_stats_band_prob[i], &nq[i], err));
  /* quantiles are non-decreasing in p: compute each distinct n once */
  for (int i = 0; i < 5; ++i) {
    if (i > 0 && nq[i] == nq[i - 1]) {
      bands[i] = bands[i - 1];
    } else {
      int st = na64_stats_cls_limit(cfg, nq[i], &bands[i], err);
      if (st != NA64_OK) {
        na64_err_prefix(err, "expected limit at n = %d", nq[i]);
        return st;
      }
    }
    if (n_at) n_at[i] = nq[i];
  }
  return NA64_OK;
}

int na64_stats_cls_expected(const na64_cls_config *cfg, double bands[5], na64_err *err)
{
  return na64_stats_cls_expected_n(cfg, bands, NULL, err);
}
