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
NA64_API int na64_stats_poisson_upper(int n_obs, double b, double cl, double *s_up, na64_err *err);
/* Either method. */
NA64_API int na64_stats_poisson_upper_method(na64_poisson_method method, int n_obs, double b, double cl,
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
NA64_API void na64_cls_config_default(na64_cls_config *cfg);
/* Validate a configuration (finite, non-negative, cl in (0,1), known prior, log-normal needs
 * b > 0 when db > 0, rel_tol in [1e-13, 1e-3]); message names the offending field. */
NA64_API int na64_cls_config_check(const na64_cls_config *cfg, na64_err *err);

/* CLs, CL_{s+b} and CL_b for signal mean s >= 0 (any output pointer may be NULL). CL_{s+b} and
 * CL_b may underflow to 0 for n_obs far below b; CLs is computed from scaled integrals and stays
 * accurate. CL_b underflowing even after scaling -> NA64_ERANGE. */
NA64_API int na64_stats_cls(const na64_cls_config *cfg, int n_obs, double s, double *cls, double *clsb,
                   double *clb, na64_err *err);
/* Observed upper limit s_up on the signal mean (events) for n_obs observed events. */
NA64_API int na64_stats_cls_limit(const na64_cls_config *cfg, int n_obs, double *s_up, na64_err *err);

/* Probabilities of the -2, -1, 0, +1, +2 sigma quantiles: Phi(-2), Phi(-1), 1/2, Phi(1), Phi(2). */
NA64_API extern const double na64_stats_band_prob[5];
/* Smallest n with F_b(n) >= p, where F_b is the background-only distribution of n (Poisson
 * with mean b, averaged over the background prior when db > 0). p in (0, 1). */
NA64_API int na64_stats_bkg_quantile(const na64_cls_config *cfg, double p, int *n, na64_err *err);
/* Expected limits: bands[i] = s_up(n_i), n_i = na64_stats_bkg_quantile(na64_stats_band_prob[i]),
 * i.e. -2 sigma, -1 sigma, median, +1 sigma, +2 sigma. n_at (may be NULL) receives the n_i.
 * Because n is discrete, neighbouring bands can coincide (for b = 0 all equal s_up(0)). */
NA64_API int na64_stats_cls_expected(const na64_cls_config *cfg, double bands[5], na64_err *err);
NA64_API int na64_stats_cls_expected_n(const na64_cls_config *cfg, double bands[5], int n_at[5],
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
/* Largest n_obs and b the construction accepts (NA64_ERANGE beyond). */
#define NA64_FC_MAX_N 10000
#define NA64_FC_MAX_B 1000.0
NA64_API int na64_stats_fc_interval(int n_obs, double b, double cl, double *lo, double *hi, na64_err *err);
NA64_API int na64_stats_fc_interval_ex(int n_obs, double b, double cl, int flags, double *lo, double *hi,
                              na64_err *err);

/* ---- from events to a physics parameter ----
 * For N_sig = k * mu with k > 0 (yield per unit of mu, already including luminosity and
 * efficiency) the limit on mu is mu_up = s_up / k. Exact for the methods above because the signal
 * uncertainty is relative (CLs depends on s = k mu only). k <= 0, NaN or inf -> NA64_EINVAL. */
NA64_API int na64_stats_scale_limit(double s_up, double k, double *mu_up, na64_err *err);

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
  na64_beamdump dump;         /* setup and signal definition */
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
NA64_API int na64_limit_config_default(na64_limit_config *cfg, na64_err *err);
NA64_API int na64_limit_config_check(const na64_limit_config *cfg, na64_err *err);

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
NA64_API int na64_limit_scan(const na64_limit_config *cfg, const double *masses, int n, na64_limit_point *out,
                    na64_err *err);
/* Dark-matter interpretation: y = eps^2 alpha_D (m_chi/m_A')^4 at m_A' = ratio * m_chi. */
NA64_API double na64_limit_y(double eps, double alpha_D, double ratio);


/* ===================================================================================== */
/* ============ sensitivity: limit curves and the report (src/ana/sensitivity*.c) ======= */
/* ===================================================================================== */
/* What `na64 limits` and the report of `na64 run` compute, as a library: the options of a search
 * (CLI units: masses in MeV, energies in GeV, lengths in cm), one limit scan over a mass grid, the
 * curve's table (the documented CSV layout), plot and HEPData table, and the full report. */

enum { NA64_SENS_INVISIBLE = 0, NA64_SENS_VISIBLE = 1 };

typedef struct na64_sens_options {
  int mode;                 /* NA64_SENS_INVISIBLE or NA64_SENS_VISIBLE */
  double energy;            /* beam energy E0, GeV (default 100) */
  double eot;               /* electrons on target (default NAN: must be given) */
  double efficiency;        /* signal efficiency in (0, 1] (default 1) */
  double background, background_error; /* expected background events and its 1-sigma error (0) */
  double signal_syst;       /* relative signal systematic (0) */
  double cl;                /* confidence level (0.90) */
  int observed;             /* observed events (0) */
  int expected;             /* invisible: median expected limit with +-1, +-2 sigma bands */
  int annihilation;         /* invisible: add resonant e+e- -> A' of shower positrons */
  int y_output;             /* invisible: the table is y versus m_chi instead of eps versus m_A' */
  int statistic;            /* NA64_LIMIT_CLS (default) or NA64_LIMIT_FC */
  int method;               /* na64_xsec_method (default NA64_XS_ETL) */
  double ecal_max;          /* invisible: E_ECAL cut, GeV (NAN: E0/2) */
  double wcal_x0;           /* visible: WCAL depth in X0 (30) */
  double decay_start;       /* visible: WCAL end to decay-region start, cm (7.5) */
  double decay_length;      /* visible: decay-region length, cm (300) */
  double ea_min;            /* visible: minimal A' energy, GeV (NAN: 0.3 E0) */
  double alpha_d;           /* y: alpha_D (0.1) */
  double mass_ratio;        /* y: m_A'/m_chi (3) */
} na64_sens_options;

typedef struct na64_sens_curve {
  double *masses; /* GeV, [n] */
  int n;
  na64_limit_point *pt; /* [n] */
} na64_sens_curve;

NA64_API void na64_sens_options_default(na64_sens_options *o);
/* The setup of `run` from the conditions database (db_path NULL: the default): beam energy, the
 * mode (unless keep_mode), EOT (unless keep_eot) and for the visible mode the WCAL depth in X0 (sum
 * of its sections) and the decay region relative to the WCAL. summary (may be NULL) receives a
 * one- or two-line description ("# run 2100: setup ... ") for the caller to print. */
NA64_API int na64_sens_options_from_run(na64_sens_options *o, const char *db_path, int run, int keep_eot, int keep_mode,
                               char *summary, size_t summary_len, na64_err *err);
/* The problems of options that do nothing in their mode (e.g. --y in visible mode): 0 if none,
 * else NA64_EINVAL with a message naming the option (`given` flags which fields the user set:
 * NA64_SENS_GIVEN_* bits). */
enum {
  NA64_SENS_GIVEN_EXPECTED = 1 << 0, NA64_SENS_GIVEN_ANNIHILATION = 1 << 1, NA64_SENS_GIVEN_Y = 1 << 2,
  NA64_SENS_GIVEN_ECAL_MAX = 1 << 3, NA64_SENS_GIVEN_ALPHA_D = 1 << 4, NA64_SENS_GIVEN_MASS_RATIO = 1 << 5,
  NA64_SENS_GIVEN_WCAL_X0 = 1 << 6, NA64_SENS_GIVEN_DECAY_START = 1 << 7, NA64_SENS_GIVEN_DECAY_LENGTH = 1 << 8,
  NA64_SENS_GIVEN_EA_MIN = 1 << 9, NA64_SENS_GIVEN_BACKGROUND_ERROR = 1 << 10, NA64_SENS_GIVEN_SIGNAL_SYST = 1 << 11
};
NA64_API int na64_sens_options_check(const na64_sens_options *o, unsigned given, na64_err *err);
/* Masses (GeV, malloc'ed) from "MIN:MAX:N" (log-spaced, MeV, finite, 0 < MIN < MAX, 2 <= N <= 1e5)
 * or a comma list of positive finite MeV values; spec NULL: the mode's default grid (invisible
 * 1:1000:60, visible 1.1:30:60). Bad text -> NA64_EINVAL naming it. */
NA64_API int na64_sens_masses_parse(const char *spec, int mode, double **masses, int *n, na64_err *err);
/* The limit-scan configuration of the options (checked). */
NA64_API int na64_sens_limit_config(const na64_sens_options *o, na64_limit_config *cfg, na64_err *err);
/* c->pt for c->masses (c->masses, c->n set by the caller); progress may be NULL. */
NA64_API int na64_sens_curve_compute(const na64_sens_options *o, na64_sens_curve *c, void (*progress)(int done, int total, void *user),
                            void *user, na64_err *err);
NA64_API void na64_sens_curve_release(na64_sens_curve *c);
/* The curve's table in the documented layout (docs/user-guide.md): the column names (static,
 * returns their number, at most NA64_SENS_MAX_COLUMNS) and row i (NaN: no value). */
enum { NA64_SENS_MAX_COLUMNS = 6 };
NA64_API int na64_sens_curve_columns(const na64_sens_options *o, const char *const **names);
NA64_API void na64_sens_curve_row(const na64_sens_options *o, const na64_sens_curve *c, int i, double *row);
/* The table as CSV (C-locale numbers, %.10g, empty cell for NaN). */
NA64_API int na64_sens_curve_write_csv(const na64_sens_options *o, const na64_sens_curve *c, const char *path, na64_err *err);
/* The curve on a plot (FILE.png, .svg or .pdf) with the published NA64 curves of its mode. */
NA64_API int na64_sens_curve_plot(const na64_sens_options *o, const na64_sens_curve *c, const char *path, na64_err *err);
/* The curve as a HEPData YAML table. */
NA64_API int na64_sens_curve_write_hepdata(const na64_sens_options *o, const na64_sens_curve *c, const char *path,
                                  na64_err *err);
/* The sensitivity report of `na64 run` in directory dir (which must exist): invisible-mode curves
 * for 1e9..1e13 EOT at 100 and 30 GeV with the published NA64 curves, the dark-matter y plot, the
 * visible-mode island; PNG/PDF/SVG, CSV and HEPData YAML. summary (may be NULL) receives a few
 * lines of key numbers for the caller to print. */
NA64_API int na64_sens_report_write(const na64_sens_options *base, const char *dir, char *summary, size_t summary_len,
                           na64_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NA64_ANA_H */
