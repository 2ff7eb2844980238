/*
 * na64/ana.h — analysis: statistics of counting experiments (this section) and, later, the
 * limit scan in the (m_A', epsilon) plane.
 *
 * All statistics functions work in numbers of EVENTS: they return the upper limit s_up on the
 * expected signal count. A physics parameter mu whose signal yield is proportional to it,
 * N_sig = k * mu (e.g. mu = eps^2), is limited by mu_up = s_up / k (na64_stats_scale_limit); the
 * scan over masses belongs to the limit-scan section, not here.
 *
 * Methods, formulas and references: docs/statistics.md. Every result is computed by exact
 * summation, special functions and adaptive quadrature (GSL), never by toy Monte Carlo, so the
 * numbers are deterministic to the stated tolerance.
 */
#ifndef NA64_ANA_H
#define NA64_ANA_H

#include "na64/core.h"
#include "na64/physics.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===================================================================================== */
/* ======================= statistics (src/ana/stats*.c) =============================== */
/* ===================================================================================== */

/* ---- Poisson upper limits with a known background b -------------------------------------------
 * (PDG Review of Particle Physics, "Statistics", G. Cowan: Poisson upper limits, classical and
 * Bayesian; R.L. Workman et al., PTEP 2022 083C01 and later editions) 
 *
 * n_obs >= 0 observed events, b >= 0 expected background (finite), cl in (0, 1), e.g. 0.90.
 * Bad input -> NA64_EINVAL with a message naming the argument and its value. */

typedef enum na64_poisson_method {
  /* Bayesian with a flat prior for s >= 0: solve
   *   1 - cl = P(n <= n_obs | s_up + b) / P(n <= n_obs | b)
   * (PDG review, Bayesian limits for Poisson data; O. Helene, NIM 212 (1983) 319). Equal to CLs
   * with the number of events as test statistic. Always > 0; equals the classical limit for
   * b = 0. */
  NA64_POISSON_BAYES = 0,
  /* Classical (Neyman) one-sided limit: s_up = 1/2 F^-1_chi2(cl; 2(n_obs + 1)) - b
   * (PDG review, classical limits for Poisson data with background). Can be negative (an
   * "unphysical" result) when n_obs << b: it is returned as is, the caller decides. */
  NA64_POISSON_CLASSICAL = 1
} na64_poisson_method;

/* Bayesian flat-prior (= CLs without systematics) upper limit: 2.303 for n_obs = 0 at 90% CL. */
int na64_stats_poisson_upper(int n_obs, double b, double cl, double *s_up, na64_err *err);
/* Either method. */
int na64_stats_poisson_upper_method(na64_poisson_method method, int n_obs, double b, double cl,
                                    double *s_up, na64_err *err);

/* ---- modified frequentist CLs for a single-bin counting experiment --------------------------
 * (A.L. Read, J. Phys. G 28 (2002) 2693; T. Junk, NIM A 434 (1999) 435)
 *
 * Test statistic: the number of events n (equivalent to the likelihood ratio for one bin).
 *   CL_{s+b}(s) = P(n <= n_obs | s, b),   CL_b = P(n <= n_obs | b),   CLs = CL_{s+b} / CL_b,
 * and s_up solves CLs(s_up) = 1 - cl. The background b +- db and a relative uncertainty of the
 * signal yield are nuisance parameters integrated over their priors (hybrid Bayesian-frequentist,
 * Cousins & Highland, NIM A 320 (1992) 331) by adaptive quadrature. */

typedef enum na64_prior {
  NA64_PRIOR_GAUSS = 0,    /* Gaussian with the given mean and sigma, truncated to values >= 0 */
  NA64_PRIOR_LOGNORMAL = 1 /* log-normal with the given mean and standard deviation (mean > 0) */
} na64_prior;

typedef struct na64_cls_config {
  double cl;        /* confidence level in (0, 1); default 0.90 */
  double b;         /* expected background events, >= 0 */
  double db;        /* absolute 1-sigma uncertainty of b, >= 0 (0: b exactly known) */
  double sig_rel;   /* relative 1-sigma uncertainty of the signal yield, >= 0 (0: none) */
  na64_prior b_prior;   /* shape of the background prior (used when db > 0) */
  na64_prior sig_prior; /* shape of the signal-scale prior, mean 1 (used when sig_rel > 0) */
  double rel_tol;   /* relative accuracy of the nuisance integrals and of s_up; default 1e-9 */
} na64_cls_config;

/* Defaults: cl = 0.90, b = db = sig_rel = 0, truncated Gaussian priors, rel_tol = 1e-9. */
void na64_cls_config_init(na64_cls_config *cfg);
/* Validate a configuration (finite, non-negative, cl in (0,1), known prior, log-normal needs
 * b > 0 when db > 0, rel_tol in [1e-13, 1e-3]); message names the offending field. */
int na64_cls_config_check(const na64_cls_config *cfg, na64_err *err);

/* CLs, CL_{s+b} and CL_b for signal mean s >= 0 (any output pointer may be NULL). CL_{s+b} and
 * CL_b may underflow to 0 for n_obs far below b; CLs is computed from scaled integrals and stays
 * accurate. CL_b underflowing even after scaling -> NA64_ERANGE. */
int na64_stats_cls(const na64_cls_config *cfg, int n_obs, double s, double *cls, double *clsb,
                   double *clb, na64_err *err);
/* Observed upper limit s_up on the signal mean (events) for n_obs observed events. */
int na64_stats_cls_limit(const na64_cls_config *cfg, int n_obs, double *s_up, na64_err *err);

/* Probabilities of the -2, -1, 0, +1, +2 sigma quantiles: Phi(-2), Phi(-1), 1/2, Phi(1), Phi(2). */
extern const double na64_stats_band_prob[5];
/* Smallest n with F_b(n) >= p, where F_b is the background-only distribution of n (Poisson
 * with mean b, averaged over the background prior when db > 0). p in (0, 1). */
int na64_stats_bkg_quantile(const na64_cls_config *cfg, double p, int *n, na64_err *err);
/* Expected limits: bands[i] = s_up(n_i), n_i = na64_stats_bkg_quantile(na64_stats_band_prob[i]),
 * i.e. -2 sigma, -1 sigma, median, +1 sigma, +2 sigma. n_at (may be NULL) receives the n_i.
 * Because n is discrete, neighbouring bands can coincide (for b = 0 all equal s_up(0)). */
int na64_stats_cls_expected(const na64_cls_config *cfg, double bands[5], na64_err *err);
int na64_stats_cls_expected_n(const na64_cls_config *cfg, double bands[5], int n_at[5],
                              na64_err *err);

/* ---- Feldman-Cousins unified intervals (PRD 57 (1998) 3873), Poisson with known background ----
 * Likelihood-ratio ordering R(n) = P(n | mu + b) / P(n | mu_best + b), mu_best = max(0, n - b);
 * [lo, hi] is the hull of the mu >= 0 whose acceptance region contains n_obs. Endpoints are
 * located to 1e-6 (absolute). */
enum {
  NA64_FC_RAW = 0,         /* the construction exactly as defined, for the given b */
  NA64_FC_B_MONOTONE = 1   /* hi replaced by sup_{b' >= b} hi(b'), the smallest correction that
                            * makes the upper end non-increasing in b, as in the tables of the paper
                            * (Poisson section); the default of na64_stats_fc_interval */
};
int na64_stats_fc_interval(int n_obs, double b, double cl, double *lo, double *hi, na64_err *err);
int na64_stats_fc_interval_ex(int n_obs, double b, double cl, int flags, double *lo, double *hi,
                              na64_err *err);

/* ---- from events to a physics parameter ----
 * For N_sig = k * mu with k > 0 (yield per unit of mu, already including luminosity and
 * efficiency) the limit on mu is mu_up = s_up / k. Exact for the methods above because the signal
 * uncertainty is relative (CLs depends on s = k mu only). k <= 0, NaN or inf -> NA64_EINVAL. */
int na64_stats_scale_limit(double s_up, double k, double *mu_up, na64_err *err);

/* ===================================================================================== */
/* ==================== end of statistics section ====================================== */
/* ===================================================================================== */

/* ===================================================================================== */
/* ======================= limit scan in (m_A', eps) (src/ana/limits.c) ================= */
/* ===================================================================================== */
/* The expected or observed 90% CL exclusion for a number of electrons on target (docs/limits.md):
 * N_sig(m, eps) = EOT * efficiency * yield(m, eps) (na64_yield in physics.h), compared with the
 * upper limit s_up on the signal count from the statistics section. Invisible mode: N_sig is
 * proportional to eps^2, so eps_up = sqrt(s_up / (EOT eff Y(m, 1))). Visible mode: the excluded
 * eps form an island, bounded below (too few A') and above (the A' decays inside the dump); both
 * edges are found with a GSL root finder in ln eps after bracketing on a grid. */


typedef struct na64_limit_config {
  na64_dump dump;         /* setup and signal definition */
  double eot;             /* electrons on target, > 0 */
  double efficiency;      /* signal efficiency in (0, 1] */
  na64_cls_config stats;  /* CL, background +- error, signal systematic */
  int n_obs;              /* observed events (observed limit) */
  int expected;           /* 1: median expected limit (and bands) instead of the observed one */
  double eps_min, eps_max;/* visible-mode search range; defaults 1e-7 and 1e-1 */
  int statistic;          /* NA64_LIMIT_CLS (default) or NA64_LIMIT_FC */
  /* optional: called after each mass with (done, total, user); the library itself never prints */
  void (*progress)(int done, int total, void *user);
  void *progress_user;
} na64_limit_config;
enum {
  NA64_LIMIT_CLS = 0, /* modified frequentist CLs with the nuisance priors of `stats` (as NA64) */
  NA64_LIMIT_FC = 1   /* upper end of the Feldman-Cousins interval, background b known (db, sig_rel unused) */
};

/* Defaults: invisible mode on the NA64 ECAL at 100 GeV, E_ECAL < 50 GeV, eff 1, CL 0.90, no background,
 * observed limit with n_obs = 0. */
int na64_limit_config_init(na64_limit_config *cfg, na64_err *err);
int na64_limit_config_check(const na64_limit_config *cfg, na64_err *err);

typedef struct na64_limit_point {
  double mass;           /* GeV */
  double s_up;           /* upper limit on the signal count used */
  double eps;            /* invisible: eps upper limit, NAN if no eps <= 1 is excluded; visible: NAN */
  double eps_low, eps_high; /* visible: excluded band (NAN where nothing is excluded); invisible: NAN */
  double band[5];        /* invisible, expected: eps at the -2, -1, 0, +1, +2 sigma quantiles (else, or
                            when above 1, NAN) */
  double yield_eps1;     /* invisible: signal per EOT at eps = 1 (after efficiency) */
} na64_limit_point;

/* One limit per mass (masses in GeV). Independent masses: thread-safe and deterministic. */
int na64_limit_scan(const na64_limit_config *cfg, const double *masses, int n, na64_limit_point *out,
                    na64_err *err);
/* Dark-matter interpretation: y = eps^2 alpha_D (m_chi/m_A')^4 at m_A' = ratio * m_chi. */
double na64_limit_y(double eps, double alpha_D, double ratio);

#ifdef __cplusplus
}
#endif
#endif /* NA64_ANA_H */
