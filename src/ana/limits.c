/*
 * Expected and observed exclusion limits in the (m_A', eps) plane (docs/limits.md).
 *
 * N_sig(m, eps) = EOT * eff * Y(m, eps), Y from na64_yield (physics), compared with the upper limit
 * s_up on the number of signal events (CLs or Poisson, stats.c). For the invisible mode Y is
 * proportional to eps^2. For the visible mode N(eps) rises as eps^4 (long-lived A', decay
 * probability ~ eps^2) and falls exponentially once the A' decays inside the dump; the excluded
 * region is {eps : N(eps) >= s_up}, an interval whose edges are bracketed on a logarithmic grid and
 * refined with Brent's method (GSL) in ln eps.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <string.h>

#include "na64/ana.h"

int na64_limit_config_default(na64_limit_config *cfg, na64_err *err)
{
  memset(cfg, 0, sizeof *cfg);
  na64_material ecal;
  NA64_CALL(na64_material_get("ECAL", &ecal, err));
  na64_beamdump_init_invisible(&cfg->dump, &ecal, 100.0, 50.0);
  cfg->eot = 1e10;
  cfg->efficiency = 1.0;
  na64_cls_config_default(&cfg->stats);
  cfg->n_obs = 0;
  cfg->expected = 0;
  cfg->eps_min = 1e-7;
  cfg->eps_max = 1e-1;
  return NA64_OK;
}

/* The measured efficiency curve, if any: masses positive and increasing, values in (0, 1]. */
static int efficiency_curve_check(const na64_limit_config *cfg, na64_err *err)
{
  if (cfg->eff_n <= 0) return NA64_OK;
  if (!cfg->eff_mass || !cfg->eff_value) return na64_err_set(err, NA64_EINVAL, "efficiency curve: NULL arrays");
  for (int i = 0; i < cfg->eff_n; ++i) {
    double m = cfg->eff_mass[i], e = cfg->eff_value[i];
    if (!(m > 0.0) || !isfinite(m) || (i > 0 && !(m > cfg->eff_mass[i - 1])))
      return na64_err_set(err, NA64_EINVAL, "efficiency curve: mass %g GeV (point %d) must be positive and increasing", m,
                          i + 1);
    if (!isfinite(e) || !(e > 0.0) || e > 1.0)
      return na64_err_set(err, NA64_EINVAL, "signal efficiency = %g at %g MeV must be in (0, 1]", e, m * 1e3);
  }
  return NA64_OK;
}

double na64_limit_efficiency_at(const na64_limit_config *cfg, double m)
{
  if (cfg->eff_n <= 0) return cfg->efficiency;
  const double *x = cfg->eff_mass, *y = cfg->eff_value;
  int n = cfg->eff_n;
  if (!(m > x[0])) return y[0];
  if (m >= x[n - 1]) return y[n - 1];
  int i = 1;
  while (x[i] < m) ++i;
  double t = log(m / x[i - 1]) / log(x[i] / x[i - 1]); /* linear in ln m between measured masses */
  return y[i - 1] + t * (y[i] - y[i - 1]);
}

int na64_limit_config_check(const na64_limit_config *cfg, na64_err *err)
{
  if (!cfg) return na64_err_set(err, NA64_EINVAL, "limit config: NULL");
  if (!isfinite(cfg->eot) || !(cfg->eot > 0.0))
    return na64_err_set(err, NA64_EINVAL, "electrons on target = %g must be positive", cfg->eot);
  if (!isfinite(cfg->efficiency) || !(cfg->efficiency > 0.0) || cfg->efficiency > 1.0)
    return na64_err_set(err, NA64_EINVAL, "signal efficiency = %g must be in (0, 1]", cfg->efficiency);
  NA64_CALL(efficiency_curve_check(cfg, err));
  if (cfg->n_obs < 0) return na64_err_set(err, NA64_EINVAL, "observed events = %d must be >= 0", cfg->n_obs);
  if (cfg->statistic != NA64_LIMIT_CLS && cfg->statistic != NA64_LIMIT_FC)
    return na64_err_set(err, NA64_EINVAL, "unknown limit statistic %d", cfg->statistic);
  if (!(cfg->eps_min > 0.0) || !(cfg->eps_max > cfg->eps_min) || cfg->eps_max > 1.0)
    return na64_err_set(err, NA64_EINVAL, "eps search range [%g, %g] must satisfy 0 < min < max <= 1", cfg->eps_min,
                        cfg->eps_max);
  NA64_CALL(na64_cls_config_check(&cfg->stats, err));
  return na64_beamdump_check(&cfg->dump, err);
}

double na64_limit_y(double eps, double alpha_D, double ratio) { return eps * eps * alpha_D * pow(1.0 / ratio, 4); }

/* The expected signal of one or several data sets (combined as NA64 combined its runs, PRD 101
 * (2020) 071101: the counts of the setups add, N(eps) = sum_i EOT_i eff_i Y_i(m, eps)). */
typedef struct {
  na64_yield **y; /* [n] */
  const double *scale; /* [n] EOT * efficiency at this mass (EOT alone with an eff_fn) */
  int n;
  double s_up;
  const na64_limit_config *cfgs; /* [n]: their eff_fn, if any */
  double mass;
} edge_params;

static double signal_count(const edge_params *q, double eps)
{
  double n = 0.0;
  for (int i = 0; i < q->n; ++i) {
    const na64_limit_config *c = &q->cfgs[i];
    double e = c->eff_fn ? c->eff_fn(c->eff_user, q->mass, eps) : 1.0;
    n += q->scale[i] * e * na64_yield_per_eot(q->y[i], eps);
  }
  return n;
}

/* ln N(eps) - ln s_up as a function of ln eps */
static double edge_fn(double lneps, void *p)
{
  const edge_params *q = p;
  return log(fmax(signal_count(q, exp(lneps)), 1e-300)) - log(q->s_up);
}

static int refine_edge(edge_params *p, double lo, double hi, double *root, na64_err *err)
{
  gsl_function F = {edge_fn, p};
  gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
  if (!s) return na64_err_set(err, NA64_ENOMEM, "limit scan: out of memory");
  gsl_root_fsolver_set(s, &F, lo, hi);
  int status = GSL_CONTINUE;
  for (int it = 0; it < 200 && status == GSL_CONTINUE; ++it) {
    gsl_root_fsolver_iterate(s);
    status = gsl_root_test_interval(gsl_root_fsolver_x_lower(s), gsl_root_fsolver_x_upper(s), 1e-10, 0.0);
  }
  *root = exp(gsl_root_fsolver_root(s));
  gsl_root_fsolver_free(s);
  if (status != GSL_SUCCESS) return na64_err_set(err, NA64_ENUMERIC, "limit scan: edge search did not converge");
  return NA64_OK;
}

#define VIS_GRID 160

static int visible_band(const na64_limit_config *cfg, edge_params p, double *lo, double *hi, na64_err *err)
{
  double a = log(cfg->eps_min), b = log(cfg->eps_max), f[VIS_GRID], x[VIS_GRID];
  int imax = 0;
  for (int i = 0; i < VIS_GRID; ++i) {
    x[i] = a + (b - a) * i / (VIS_GRID - 1);
    f[i] = edge_fn(x[i], &p);
    if (f[i] > f[imax]) imax = i;
  }
  *lo = *hi = NAN;
  if (!(f[imax] >= 0.0)) return NA64_OK; /* nothing excluded */
  int i = imax;
  while (i > 0 && f[i - 1] >= 0.0) --i;
  if (i == 0) *lo = cfg->eps_min; /* excluded down to the search edge */
  else NA64_CALL(refine_edge(&p, x[i - 1], x[i], lo, err));
  int j = imax;
  while (j < VIS_GRID - 1 && f[j + 1] >= 0.0) ++j;
  if (j == VIS_GRID - 1) *hi = cfg->eps_max;
  else NA64_CALL(refine_edge(&p, x[j], x[j + 1], hi, err));
  return NA64_OK;
}

/* Feldman-Cousins upper end for n observed events (the lower end is irrelevant for an exclusion) */
static int fc_upper(const na64_limit_config *cfg, int n, double *s_up, na64_err *err)
{
  double lo;
  return na64_stats_fc_interval(n, cfg->stats.b, cfg->stats.cl, &lo, s_up, err);
}

static int upper_limit_events(const na64_limit_config *cfg, double *s_up, double bands[5], na64_err *err)
{
  for (int i = 0; i < 5; ++i) bands[i] = NAN;
  if (cfg->statistic == NA64_LIMIT_FC) {
    if (!cfg->expected) return fc_upper(cfg, cfg->n_obs, s_up, err);
    /* expected: the FC upper end at the background-only quantiles of n */
    for (int i = 0; i < 5; ++i) {
      int n;
      NA64_CALL(na64_stats_bkg_quantile(&cfg->stats, na64_stats_band_prob[i], &n, err));
      NA64_CALL(fc_upper(cfg, n, &bands[i], err));
    }
    *s_up = bands[2];
    return NA64_OK;
  }
  if (cfg->expected) {
    NA64_CALL(na64_stats_cls_expected(&cfg->stats, bands, err));
    *s_up = bands[2];
    return NA64_OK;
  }
  return na64_stats_cls_limit(&cfg->stats, cfg->n_obs, s_up, err);
}

/* An eps limit inside the physical domain (0, 1], else NAN ("not excluded"). */
static double physical_eps(double eps) { return eps > 0.0 && eps <= 1.0 ? eps : NAN; }

/* the yields of every data set at mass m (y[i] NULL on failure, all freed by the caller) */
static int yields_at(const na64_limit_config *cfgs, int ncfg, double m, na64_yield **y, na64_err *err)
{
  for (int i = 0; i < ncfg; ++i) {
    int st = na64_yield_new(&cfgs[i].dump, m, &y[i], err);
    if (st != NA64_OK) {
      if (ncfg > 1) na64_err_prefix(err, "data set %d", i + 1);
      na64_err_prefix(err, "m_A' = %g MeV", m * 1e3);
      return st;
    }
  }
  return NA64_OK;
}

/* the limit at one mass from the data sets' yields y[] */
static int limit_point(const na64_limit_config *cfg, edge_params p, const double bands[5], na64_limit_point *pt,
                       na64_err *err)
{
  if (!cfg->dump.visible) {
    double k1 = signal_count(&p, 1.0);
    pt->yield_eps1 = k1 / cfg->eot;
    /* eps is a mixing strength, at most 1: a "limit" above 1 excludes nothing physical (issue 9,
     * item 10: --eot 1 gave eps = 3.3), so it is reported as not excluded (NAN) */
    if (k1 > 0.0) {
      pt->eps = physical_eps(sqrt(p.s_up / k1));
      if (cfg->expected)
        for (int i = 0; i < 5; ++i) pt->band[i] = physical_eps(sqrt(bands[i] / k1));
    }
    return NA64_OK;
  }
  pt->yield_eps1 = NAN;
  int st = visible_band(cfg, p, &pt->eps_low, &pt->eps_high, err);
  if (st != NA64_OK) na64_err_prefix(err, "m_A' = %g MeV", pt->mass * 1e3);
  return st;
}

int na64_limit_scan(const na64_limit_config *cfg, const double *masses, int n, na64_limit_point *out, na64_err *err)
{
  return na64_limit_scan_combined(cfg, 1, masses, n, out, err);
}

int na64_limit_scan_combined(const na64_limit_config *cfgs, int ncfg, const double *masses, int n,
                             na64_limit_point *out, na64_err *err)
{
  if (!cfgs || ncfg < 1 || ncfg > NA64_LIMIT_MAX_DATASETS)
    return na64_err_set(err, NA64_EINVAL, "limit scan: %d data sets, need 1 to %d", ncfg, NA64_LIMIT_MAX_DATASETS);
  const na64_limit_config *cfg = &cfgs[0];
  double scale[NA64_LIMIT_MAX_DATASETS];
  for (int i = 0; i < ncfg; ++i) {
    int st = na64_limit_config_check(&cfgs[i], err);
    if (st == NA64_OK && cfgs[i].dump.visible != cfg->dump.visible)
      st = na64_err_set(err, NA64_EINVAL, "data sets of different modes (visible and invisible) cannot be combined");
    if (st != NA64_OK) {
      if (ncfg > 1) na64_err_prefix(err, "data set %d", i + 1);
      return st;
    }
  }
  /* the statistics (CL, background, observed count) are those of the combined analysis: cfgs[0] */
  double s_up, bands[5];
  NA64_CALL(upper_limit_events(cfg, &s_up, bands, err));
  for (int k = 0; k < n; ++k) {
    na64_limit_point *pt = &out[k];
    pt->mass = masses[k];
    pt->s_up = s_up;
    pt->eps = pt->eps_low = pt->eps_high = NAN;
    for (int i = 0; i < 5; ++i) pt->band[i] = NAN;
    for (int i = 0; i < ncfg; ++i)
      scale[i] = cfgs[i].eot * (cfgs[i].eff_fn ? 1.0 : na64_limit_efficiency_at(&cfgs[i], masses[k]));
    na64_yield *y[NA64_LIMIT_MAX_DATASETS] = {0};
    int st = yields_at(cfgs, ncfg, masses[k], y, err);
    if (st == NA64_OK) {
      edge_params p = {y, scale, ncfg, s_up, cfgs, masses[k]};
      st = limit_point(cfg, p, bands, pt, err);
    }
    for (int i = 0; i < ncfg; ++i) na64_yield_free(y[i]);
    if (st != NA64_OK) return st;
    if (cfg->progress) cfg->progress(k + 1, n, cfg->progress_user);
  }
  return NA64_OK;
}
