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
#include "na64/io.h"
#include "na64/reco.h"
#include "na64/sim.h"

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
  /* optional: the signal efficiency measured at eff_n A' masses (eff_mass in GeV, increasing;
   * eff_value in (0, 1]), as `na64 run` measures it per mass. When given (eff_n > 0) it replaces
   * `efficiency`: between the masses it is interpolated linearly in ln m, beyond them the nearest
   * measured value is used (na64_limit_efficiency_at). The arrays are not copied. */
  const double *eff_mass, *eff_value;
  int eff_n;
  /* optional (issue 12, `na64 limits --dataset`): an efficiency that depends on the coupling too, as
   * the visible mode measures it (eff(m, eps), na64_sens_eff_table). When set it replaces `efficiency`
   * and eff_*: the data set's signal is eot x eff_fn(eff_user, m, eps) x yield(m, eps). */
  double (*eff_fn)(const void *user, double m, double eps);
  const void *eff_user;
} na64_limit_config;
enum {
  NA64_LIMIT_CLS = 0, /* modified frequentist CLs with the nuisance priors of `stats` (as NA64) */
  NA64_LIMIT_FC = 1   /* upper end of the Feldman-Cousins interval, background b known (db, sig_rel unused) */
};

/* Defaults: invisible mode on the NA64 ECAL at 100 GeV, E_ECAL < 50 GeV, eff 1, CL 0.90, no background,
 * observed limit with n_obs = 0. */
NA64_API int na64_limit_config_default(na64_limit_config *cfg, na64_err *err);
NA64_API int na64_limit_config_check(const na64_limit_config *cfg, na64_err *err);
/* The efficiency the scan uses at mass m (GeV): the curve eff_mass/eff_value if given, else `efficiency`. */
NA64_API double na64_limit_efficiency_at(const na64_limit_config *cfg, double m);

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
/* Several data sets combined (NA64 PRD 101 (2020) 071101 combined its 2017 and 2018 runs): the
 * expected signal is the sum over the data sets of EOT_i eff_i Y_i(m, eps), each with its own beam
 * energy and geometry (cfgs[i].dump); the statistics (CL, background, observed count, expected) and
 * the progress callback are those of cfgs[0]. All data sets must be of one mode. The invisible
 * yield_eps1 is the combined signal at eps = 1 divided by cfgs[0].eot. */
enum { NA64_LIMIT_MAX_DATASETS = 16 };
NA64_API int na64_limit_scan_combined(const na64_limit_config *cfgs, int ncfg, const double *masses, int n,
                                      na64_limit_point *out, na64_err *err);
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
  int method;               /* na64_xsec_method (default NA64_XS_EXACT; na64_sens_method) */
  double ecal_max;          /* invisible: E_ECAL cut, GeV (NAN: E0/2) */
  double wcal_x0;           /* visible: WCAL depth in X0 (defaults: the 2017 setup's database rows, 33.6) */
  double decay_start;       /* visible: WCAL end to decay-region start, cm (13.5) */
  double decay_length;      /* visible: decay-region length, cm (91) */
  double ea_min;            /* visible: minimal A' energy, GeV (NAN: 0.3 E0) */
  double alpha_d;           /* y: alpha_D (0.1) */
  double mass_ratio;        /* y: m_A'/m_chi (3) */
  /* issue 14: the beam lepton (na64_lepton: 0 e, 1 mu) and, for the muon beam, the emitted boson
   * (na64_mediator). Muon beam: invisible mode, the exact cross section, 40 X0 of ECAL as the
   * target, ecal_max read as the largest scattered-muon energy (default E0/2: 80 GeV at 160 GeV,
   * as NA64mu), the limit in that boson's coupling (eps for the vector, g_Z' for the Z', g). */
  int beam;
  int mediator;
  /* optional: efficiency per mass (GeV), replacing `efficiency` (na64_limit_config eff_*) */
  const double *eff_mass, *eff_value;
  int eff_n;
  /* optional (issue 12): a measured efficiency table (struct na64_sens_eff_table, below), replacing
   * `efficiency` and eff_*: eff(m, eps) of the mediator in use (na64_sens_eff_table_at) */
  const struct na64_sens_eff_table *eff_table;
} na64_sens_options;

typedef struct na64_sens_curve {
  double *masses; /* GeV, [n] */
  int n;
  na64_limit_point *pt; /* [n] */
} na64_sens_curve;

NA64_API void na64_sens_options_default(na64_sens_options *o);
/* Remember the exact tree-level cross sections (physics.h na64_xsec_exact_cached) as files in
 * `dir` (created if missing; NULL: $NA64_CACHE_DIR, else $XDG_CACHE_HOME/na64, else
 * $HOME/.cache/na64), one file per value named by a hash of its key and holding the key, each
 * written through na64_outfile (atomic). A file whose key differs or that does not parse is
 * ignored and replaced. NA64_EIO if the directory cannot be made. */
NA64_API int na64_exact_store_disk(const char *dir, na64_err *err);
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
/* Accepted in na64_sens_options.method for callers written when the default depended on the mode:
 * resolves to the default, the exact tree level in both modes (the shipped windowed grids, docs/physics.md
 * 4d, 4e). */
#define NA64_SENS_METHOD_AUTO (-1)
/* The method the options resolve to (na64_xsec_method): o->method, NA64_XS_EXACT for
 * NA64_SENS_METHOD_AUTO. */
NA64_API int na64_sens_method(const na64_sens_options *o);
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
/* Combined data sets (`na64 limits --dataset SETUP:EOT ...`, src/ana/sensitivity_datasets.c).
 * Parse "SETUP:EOT[:SOURCE]" (SETUP a setup name of the conditions database or a run number; EOT in
 * [1, 1e16]; SOURCE, read by na64_sens_dataset_open, is not returned) -> NA64_EINVAL naming the text. */
NA64_API int na64_sens_dataset_parse(const char *spec, char *setup, size_t setup_len, double *eot, na64_err *err);
/* The options of one data set: `base` (statistics, method, efficiency) with the beam energy,
 * the mode (unless keep_mode: base->mode) and for the visible mode the geometry of the setup's
 * first run (or the run), and its EOT. summary as na64_sens_options_from_run. */
NA64_API int na64_sens_dataset_options(const na64_sens_options *base, const char *db_path, const char *spec,
                                       int keep_mode, na64_sens_options *out, char *summary, size_t summary_len, na64_err *err);
/* c->pt for n combined data sets o[0..n) (n <= NA64_LIMIT_MAX_DATASETS): signals add, the
 * statistics are those of o[0] (na64_limit_scan_combined). */
NA64_API int na64_sens_curve_compute_combined(const na64_sens_options *o, int n, na64_sens_curve *c,
                                              void (*progress)(int done, int total, void *user), void *user,
                                              na64_err *err);
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


/* ===================================================================================== */
/* ========= invisible-mode selection, cut flow, efficiency, background (src/ana/select*.c) === */
/* ===================================================================================== */
/* The NA64 invisible-mode selection (docs/selection.md lists every cut, its default and its
 * source) applied to reconstructed events (na64_reco_event of na64/reco.h), the cut flow with
 * exact weighted sums, the signal efficiency from simulated signal, the background in the signal
 * box from simulated background samples scaled to the EOT, and the sideband extrapolation. */

/* ---- exact, order-independent summation of doubles ----
 * A fixed-point "long accumulator" (U. Kulisch, Computer Arithmetic and Validity, de Gruyter 2008;
 * R.M. Neal, arXiv:1505.05571 "superaccumulator"): every addend with 2^-267 <= |x| < 2^319 (or 0)
 * is added EXACTLY to 32-bit limbs held in int64, so the sum is independent of the order of the
 * additions and of how partial sums are merged (threads); the result is rounded to double once,
 * at the end. Addends outside the range, NaN or inf make the sum NaN (flag `bad`). */
#define NA64_XSUM_LIMBS 20
typedef struct na64_xsum {
  int64_t limb[NA64_XSUM_LIMBS]; /* limb i holds multiples of 2^(32 i - 320) */
  uint32_t pending;              /* additions since the last carry propagation */
  int bad;                       /* a NaN, inf or out-of-range addend was seen */
} na64_xsum;
NA64_API void na64_xsum_init(na64_xsum *s);
NA64_API void na64_xsum_add(na64_xsum *s, double x);
/* s += t (t unchanged). */
NA64_API void na64_xsum_merge(na64_xsum *s, const na64_xsum *t);
/* The sum (rounded to double; NaN if bad). */
NA64_API double na64_xsum_value(const na64_xsum *s);

/* ---- the cuts ---- */
typedef enum na64_cut {
  NA64_CUT_MOMENTUM = 0,  /* p_min <= momentum <= p_max */
  NA64_CUT_ANGLE,         /* theta <= theta_max */
  NA64_CUT_SINGLE_TRACK,  /* exactly one track upstream and at most max_tracks_down downstream */
  NA64_CUT_SRD,           /* srd_min <= srd_energy <= srd_max, every module >= srd_module_min, |srd_time| <= srd_time_window */
  NA64_CUT_SHAPE,         /* ecal_shape_chi2 <= shape_chi2_max */
  NA64_CUT_PRESHOWER,     /* preshower_energy >= preshower_min */
  NA64_CUT_VETO,          /* veto_energy < veto_max */
  NA64_CUT_BOX,           /* signal box: ecal_energy < ecal_max and hcal_energy < hcal_max */
  NA64_NCUTS
} na64_cut;
/* "momentum", "angle", "single_track", "srd", "shower_shape", "preshower", "veto", "signal_box". */
NA64_API const char *na64_cut_name(int cut);

typedef struct na64_select_config {
  double p_min, p_max;        /* incoming momentum window, GeV */
  double theta_max;           /* rad */
  int max_tracks_down;        /* downstream track candidates allowed (>= 1) */
  double srd_min, srd_max;    /* SRD sum window, GeV */
  double srd_module_min;      /* every SRD module above it (each module saw SR), GeV */
  double srd_time_window;     /* |t_SRD| <= it, ns */
  double shape_chi2_max;      /* EM shower-shape chi2/ndf */
  double preshower_min;       /* GeV */
  double veto_max;            /* GeV */
  double ecal_max, hcal_max;  /* signal box, GeV */
  double hcal_sideband_max;   /* sideband E_HCAL in [hcal_max, hcal_sideband_max), GeV */
  int enabled[NA64_NCUTS];    /* 1: applied (all by default) */
} na64_select_config;
/* Defaults for the 100 GeV invisible setup (each value's source: docs/selection.md). */
NA64_API void na64_select_config_default(na64_select_config *c);
NA64_API int na64_select_config_check(const na64_select_config *c, na64_err *err);
/* Override the defaults in c with the `selection:` section of a run card (absent: unchanged).
 * Unknown keys, wrong types and values out of range fail with "file:line:col: reason". The other
 * sections of the card are not read here. */
NA64_API int na64_select_config_load(const char *path, na64_select_config *c, na64_err *err);
NA64_API int na64_select_config_parse(const char *text, size_t len, const char *name, na64_select_config *c,
                                      na64_err *err);
/* The section read from an already parsed card. */
NA64_API int na64_select_config_read(const na64_card *card, na64_select_config *c, na64_err *err);

/* Bit i set: the event passes cut i (disabled cuts always pass). A NaN quantity fails its cut. */
NA64_API unsigned na64_select_event(const na64_select_config *c, const na64_reco_event *ev);
/* 1 if every enabled cut passes. */
NA64_API int na64_select_pass(const na64_select_config *c, const na64_reco_event *ev);

/* The cut flow: events and weighted sums (exact, na64_xsum): row 0 "generated" (every simulated
 * beam particle, triggered or not; for data the same as row 1), row 1 "triggered" (the rows of the
 * events table), row i + 2 after cuts 0..i in the order of na64_cut. Accumulators of several
 * threads are merged exactly. */
#define NA64_CUTFLOW_ROWS (NA64_NCUTS + 2)
typedef struct na64_cutflow {
  uint64_t events[NA64_CUTFLOW_ROWS];
  na64_xsum weighted[NA64_CUTFLOW_ROWS];
  na64_xsum weighted2[NA64_CUTFLOW_ROWS]; /* sums of weight^2 (errors) */
} na64_cutflow;
NA64_API void na64_cutflow_init(na64_cutflow *f);
/* Fill with one row of the events table; returns 1 if it passed every cut. */
NA64_API int na64_cutflow_fill(na64_cutflow *f, const na64_select_config *c, const na64_reco_event *ev);
/* Count a simulated event that did not trigger (row 0 only). */
NA64_API void na64_cutflow_fill_untriggered(na64_cutflow *f, double weight);
NA64_API void na64_cutflow_merge(na64_cutflow *f, const na64_cutflow *g);
/* Label of row i ("generated", "triggered", then na64_cut_name(i - 2)). */
NA64_API const char *na64_cutflow_label(int i);
/* CSV: cut,events,weighted,weighted_error; JSON: {"cut_flow": [{cut, events, weighted, weighted_error}]}
 * (both through na64_outfile). */
NA64_API int na64_cutflow_write_csv(const na64_cutflow *f, const char *path, na64_err *err);
NA64_API int na64_cutflow_write_json(const na64_cutflow *f, const char *path, na64_err *err);

/* ---- efficiency and background ---- */
typedef struct na64_select_result {
  double eot;                  /* simulated EOT the sample stands for */
  /* signal (events with an A' emitted): efficiency = sum w (passed) / sum w (all), binomial error
   * of weighted events (T. Ullrich, Z. Xu, physics/0701199, eq. for weighted samples) */
  double signal_weight, signal_pass_weight;
  double efficiency, efficiency_error;
  uint64_t signal_events, signal_pass;
  /* background (events without an A'): sum of weights in the box per EOT, with its Poisson error;
   * with no event in the box the 90% CL upper bound 2.303 / EOT (weight 1) is reported */
  uint64_t background_pass;
  double background_weight, background_weight_error; /* events in the box, sample units */
  double background_per_eot, background_per_eot_error;
  double background_per_eot_upper;   /* 90% CL upper bound per EOT */
  /* sideband: events passing every cut but the box, E_ECAL < ecal_max, hcal_max <= E_HCAL <
   * hcal_sideband_max; exponential fitted to their E_HCAL (maximum likelihood, truncated) and
   * extrapolated into E_HCAL < hcal_max (docs/selection.md) */
  uint64_t sideband_events;
  double sideband_weight;
  double sideband_slope;             /* GeV, fitted exponential scale (NaN: < 2 events) */
  double sideband_extrapolated, sideband_extrapolated_error; /* events in the box, sample units */
  double sideband_per_eot, sideband_per_eot_error;
} na64_select_result;

/* Accumulates the cut flows (all, signal, background) and the sideband of a sample. */
/* The E_ECAL versus E_HCAL plane and the missing-energy spectrum of the events passing every cut
 * but the signal box (event counts, not weights: what NA64 shows for its data; the last bin of
 * each axis takes the overflow, the first the negative values of the noise). E_miss = momentum - E_ECAL, filled for E_HCAL below the box's. */
#define NA64_PLANE_NX 60          /* E_ECAL, 2 GeV bins */
#define NA64_PLANE_NY 50          /* E_HCAL, 1 GeV bins */
#define NA64_PLANE_ECAL_MAX 120.0 /* GeV */
#define NA64_PLANE_HCAL_MAX 50.0  /* GeV */
#define NA64_EMISS_NBINS 60       /* E_miss, 2 GeV bins from 0 */
#define NA64_EMISS_MAX 120.0      /* GeV */
typedef struct na64_select_accum {
  na64_cutflow all, signal, background;
  uint64_t sideband_n;
  na64_xsum sideband_w, sideband_we, sideband_w2; /* sum w, sum w E_HCAL, sum w^2 */
  uint64_t plane[NA64_PLANE_NY][NA64_PLANE_NX];   /* [E_HCAL bin][E_ECAL bin] */
  uint64_t emiss[NA64_EMISS_NBINS];
} na64_select_accum;
NA64_API void na64_select_accum_init(na64_select_accum *a);
/* is_signal: the event carries an A' (simulation truth). */
NA64_API void na64_select_accum_fill(na64_select_accum *a, const na64_select_config *c, const na64_reco_event *ev,
                                     int is_signal);
NA64_API void na64_select_accum_fill_untriggered(na64_select_accum *a, double weight, int is_signal);
NA64_API void na64_select_accum_merge(na64_select_accum *a, const na64_select_accum *b);
/* Efficiency, background and sideband of an accumulated sample of `eot` electrons on target. */
NA64_API int na64_select_result_compute(const na64_select_config *c, const na64_select_accum *a, double eot,
                                        na64_select_result *r, na64_err *err);
/* JSON {"cut_flow": [...], "efficiency": {value, error}, "background": {value, error, ...}} and
 * CSVs through na64_outfile. */
NA64_API int na64_select_write_json(const na64_select_accum *a, const na64_select_result *r, double eot_quoted,
                                    const char *path, na64_err *err);
/* The same JSON on a stream (`na64 select --format json`). */
NA64_API void na64_select_print_json(const na64_select_accum *a, const na64_select_result *r, double eot_quoted, FILE *f);
NA64_API int na64_select_write_background_csv(const na64_select_result *r, double eot_quoted, const char *path,
                                              na64_err *err);


/* ---- the selection of events files (src/ana/select_file.c; `na64 select`, docs/selection.md) ----
 * The `events` table of `na64 reco` or of the `na64 run` report, read in chunks: each row fills
 * the accumulator as in `na64 run` (is_signal = the `aprime` column), and the untriggered
 * simulated events recorded with the table (na64_reco_untriggered) enter the `generated` row with
 * their weights, so that the same events give the same cut flow bit for bit. */
typedef struct na64_select_files_info {
  int nfiles;
  uint64_t rows;             /* rows read (triggered events) */
  uint64_t signal_rows;      /* of which with aprime = 1 */
  uint64_t simulated_rows;   /* of which with simulated = 1 */
  uint64_t untriggered;      /* untriggered events from the attributes */
  int files_without_eot;     /* files that do not record the EOT they stand for (data; truth without --all) */
  double eot;                /* sum of the files' eot_simulated (0 before the first file) */
} na64_select_files_info;
/* Add the events of `path` to a (initialised by the caller) and to info (zeroed by the caller).
 * Errors name the file and, for a missing or mistyped column, the column. */
NA64_API int na64_select_file_fill(const char *path, const na64_select_config *c, na64_select_accum *a,
                                   na64_select_files_info *info, na64_err *err);
/* A share of the files for one MPI rank (issue 15, `mpirun na64 select`): the rows of the events
 * table of path, checking its columns; and rows [first, first + count) of it (clipped at its end)
 * into a and info, with `whole` = 1 also what belongs to the file as a whole (its untriggered
 * events, its EOT, nfiles): the shares of every row, each file once whole, give na64_select_file_fill's
 * sums exactly (na64_xsum; the EOT is a sum of doubles: add the files' in file order). */
NA64_API int na64_select_file_rows(const char *path, uint64_t *rows, na64_err *err);
NA64_API int na64_select_file_fill_rows(const char *path, const na64_select_config *c, uint64_t first, uint64_t count,
                                        int whole, na64_select_accum *a, na64_select_files_info *info, na64_err *err);
/* The exact text form of an accumulator (integer counts and na64_xsum limbs, the form of the job
 * partial files, src/ana/job_part.c): *text malloc'ed; parsed back bit for bit (errors name `name`). */
NA64_API int na64_select_accum_format(const na64_select_accum *a, char **text, size_t *len, na64_err *err);
NA64_API int na64_select_accum_parse(const char *text, size_t len, const char *name, na64_select_accum *a, na64_err *err);
/* One rank's share of `mpirun na64 select` (src/cli/cmd_select.c; docs/scaling.md): its accumulator
 * and row counts, and for each file it holds whole (its index in the command's list of files) the EOT
 * the file records and whether it records one; rank 0 adds the accumulators exactly and the files'
 * EOT in file order, so the sum of doubles is the serial one. Text form: the accumulator's, then
 * "info", one "file" line per whole file (EOT as %a, exact) and "end" (src/ana/job_part.c). */
typedef struct na64_select_share {
  na64_select_accum a;
  na64_select_files_info info; /* nfiles, rows, signal_rows, simulated_rows, untriggered (eot: per file below) */
  int nwhole;
  int *whole_idx, *whole_has;  /* [nwhole] (malloc'ed by the parser; the caller's own when formatting) */
  double *whole_eot;
} na64_select_share;
NA64_API int na64_select_share_format(const na64_select_share *s, char **text, size_t *len, na64_err *err);
/* Parse a share of a selection of nfiles files (file indices checked); errors name `name` and the
 * line. Release s (its whole_* arrays) in any case. */
NA64_API int na64_select_share_parse(const char *text, size_t len, const char *name, int nfiles, na64_select_share *s,
                                     na64_err *err);
NA64_API void na64_select_share_release(na64_select_share *s);

/* ---- the stand-in for reconstruction (src/ana/reco_from_sim.c) ----
 * STAND-IN, to be replaced by the real reconstruction (src/reco: raw DATE -> na64_reco_event) when
 * it lands: fills a row of the events table from the simulation's truth of a TRIGGERED event
 * (ev->has_cells = 1): momentum = beam particle energy at the ECAL (no spectrometer resolution),
 * theta from the slopes at the first counter, one track up- and downstream per beam particle (plus
 * one per pile-up particle), SRD/ECAL/pre-shower/HCAL/veto = the detector-level (calibrated)
 * energies of the simulation, SRD time 0 (in time), shower centre = truth impact point,
 * ecal_shape_chi2 from the cell energies (docs/selection.md), weight = truth weight. */
NA64_API int na64_reco_event_from_sim_truth(const na64_sim *sim, const na64_sim_event *ev, na64_reco_event *out,
                                            na64_err *err);
/* The stand-in's shower-shape statistic: fraction of the ECAL energy outside the 3 x 3 cells
 * around the most energetic cell (NaN without energy). */
NA64_API double na64_reco_ecal_outer_fraction(const na64_sim *sim, const na64_sim_event *ev);


/* ---- the main job of `na64 run` (src/ana/job*.c; docs/selection.md) ----
 * simulation of the card -> rows of the events table (today through the stand-in
 * na64_reco_event_from_sim_truth) -> selection and cut flow -> signal efficiency per A' mass and
 * background -> limit (na64_sens_*) -> report files. */
typedef struct na64_job_config {
  double eot;            /* EOT the background and the limit are quoted for (default 2.84e11, PRL 123 (2019) 121801) */
  long events;           /* beam particles of the main sample (signal + background) (default 1000000) */
  long signal_events;    /* beam particles per mass of the efficiency scan (default 20000) */
  long seed;             /* run seed (default 1) */
  long threads;          /* simulation threads; results do not depend on it (default 2) */
  char masses[256];      /* efficiency scan, MeV, comma list (default "1,16.7,100,500") */
  /* Table 1 background routes in the job (issue 11; src/sim/fast_bkg.c): events per source
   * (default 20000; 0 = no routes: the background of the limit is then the simulated box) */
  long background_events;
} na64_job_config;
NA64_API void na64_job_config_default(na64_job_config *c);
/* The `analysis:` section of a run card (keys: eot, events, signal_events, seed, threads, masses_MeV). */
NA64_API int na64_job_config_read(const na64_card *card, na64_job_config *c, na64_err *err);

typedef struct na64_job_result {
  na64_select_config select;
  na64_select_accum accum;          /* main sample */
  na64_select_result result;        /* main sample: efficiency at the card's mass, background */
  int nmass;
  double *mass_MeV, *efficiency, *efficiency_error; /* [nmass] efficiency scan */
  double eot_quoted;
  double limit_background, limit_background_error; /* events at eot_quoted used in the limit */
  const char *limit_background_source; /* "simulated_routes", "simulated_box", "sideband_extrapolation" or "none" */
  double limit_efficiency;          /* the scan's efficiency nearest the card's mass */
  double *limit_eff_mass, *limit_eff_value; /* [nmass] the limit's efficiency curve (GeV, increasing) */
  na64_sens_options limit_options;
  na64_sens_curve limit;
  /* the Table 1 background routes (issue 11): per-source rate per EOT in the signal box with its
   * error (bound90 when no event of a source reached the box), their sum and its error */
  int bkg_n;                                      /* NA64_SIM_BKG_NSOURCES, or 0 without routes */
  na64_sim_bkg_result bkg[NA64_SIM_BKG_NSOURCES];
  double bkg_total, bkg_total_error;              /* per EOT */
} na64_job_result;
/* Run the job of card `card_path` (NULL: built-in defaults); eot_override > 0 replaces the
 * card's EOT. Writes nothing; progress may be NULL. */
NA64_API int na64_job_run(const char *card_path, double eot_override, na64_job_result *res,
                          void (*progress)(const char *stage, double frac, void *user), void *user, na64_err *err);
NA64_API void na64_job_result_release(na64_job_result *res);
/* ---- parts of the job: MPI ranks and batch jobs (src/ana/job.c, job_part.c; docs/scaling.md) ----
 * Part k of n simulates the events [E k / n, E (k + 1) / n) of the main sample and of every mass's
 * signal sample (E their sizes in the card); every event draws from its own stream (seed, event),
 * so the union of the parts' events is exactly the serial job's events. The part's results are
 * its exact accumulators (integer counts, na64_xsum sums): merged in any order they are bit for bit
 * those of the serial job, and na64_job_finish turns them into the same result. */
/* One background route's sums over a range of its events: events with a non-zero weight, the
 * weights and their squares (exact: any split of the sample sums to the same bits). */
typedef struct na64_job_bkg_accum {
  uint64_t passed;
  na64_xsum sum, sum2;
} na64_job_bkg_accum;
typedef struct na64_job_partial {
  char version[32];            /* na64_version() of the program that produced it */
  char card_name[512];         /* the card's path as given ("" = built-in defaults) */
  char *card_text;             /* the card's bytes (malloc'ed; NULL = built-in defaults) */
  size_t card_len;
  uint64_t card_hash;          /* FNV-1a 64 of the card's bytes (0 for the built-in defaults) */
  long run;                    /* setup: run number in the conditions database */
  uint64_t seed, events, signal_events;   /* the card's seed and sample sizes (the whole job) */
  uint64_t main_first, main_count;        /* events of the main sample held here */
  uint64_t signal_first, signal_count;    /* events of each mass's signal sample held here */
  int nmass;
  na64_select_accum main;
  na64_select_accum *signal;   /* [nmass] (malloc'ed) */
  /* Table 1 background routes (issue 11): events bkg_first .. bkg_first + bkg_count - 1 of each
   * source's sample of bkg_events (seed + 2000003); exact sums of the weights (src/ana/job_bkg.c) */
  uint64_t bkg_events, bkg_first, bkg_count;
  na64_job_bkg_accum bkg[NA64_SIM_BKG_NSOURCES];
} na64_job_partial;
/* Run part `part` (0-based) of `nparts` of the job of card_path (NULL: built-in defaults). On
 * failure p may hold memory: release it in any case. */
NA64_API int na64_job_partial_run(const char *card_path, int part, int nparts, na64_job_partial *p,
                                  void (*progress)(const char *stage, double frac, void *user), void *user,
                                  na64_err *err);
/* The same, and the rows of the part's main sample written to the HDF5 table `events` of
 * events_path (NULL: none; written atomically), with its untriggered events and EOT as attributes
 * (na64_reco_untriggered): `na64 select events_path` then gives the part's main-sample cut flow. */
NA64_API int na64_job_partial_run_events(const char *card_path, int part, int nparts, const char *events_path,
                                         na64_job_partial *p, void (*progress)(const char *stage, double frac, void *user),
                                         void *user, na64_err *err);
NA64_API void na64_job_partial_release(na64_job_partial *p);
/* Read the card (NULL: defaults) into p: its name, bytes and hash. */
NA64_API int na64_job_partial_set_card(na64_job_partial *p, const char *card_path, na64_err *err);
/* The text form (the partial-result file, docs/scaling.md): *text malloc'ed, *len bytes. */
NA64_API int na64_job_partial_format(const na64_job_partial *p, char **text, size_t *len, na64_err *err);
/* Parse the text form; errors name `name` and the line. p must be released. */
NA64_API int na64_job_partial_parse(const char *text, size_t len, const char *name, na64_job_partial *p,
                                    na64_err *err);
NA64_API int na64_job_partial_write(const na64_job_partial *p, const char *path, na64_err *err);
NA64_API int na64_job_partial_read(const char *path, na64_job_partial *p, na64_err *err);
/* Merge n partials (names[i] names parts[i] in errors) into out: refuses parts of different versions,
 * cards, setups, seeds or sample sizes, and parts whose event ranges overlap or leave a gap, naming
 * the files. out must be released. */
NA64_API int na64_job_partial_merge(const na64_job_partial *parts, const char *const *names, int n,
                                    na64_job_partial *out, na64_err *err);
/* The Table 1 background routes of a job part (src/ana/job_bkg.c, issue 11): events first ..
 * first + count - 1 of every source's sample of seed `seed` + 2000003 into acc (exact sums; the
 * sources shared among `threads` threads; results do not depend on it). */
NA64_API int na64_job_bkg_accumulate(const na64_sim_config *sc, uint64_t seed, uint64_t first, uint64_t count,
                                     int threads, na64_job_bkg_accum acc[NA64_SIM_BKG_NSOURCES], na64_err *err);
/* Rates per EOT of the complete samples (`events` per source) into res->bkg, their sum and error
 * into res->bkg_total(_error); events 0: res->bkg_n = 0 (no routes). */
NA64_API int na64_job_bkg_finish(const na64_sim_config *sc, uint64_t seed, uint64_t events,
                                 const na64_job_bkg_accum acc[NA64_SIM_BKG_NSOURCES], na64_job_result *res,
                                 na64_err *err);
/* The result of complete partials (every event of every sample): efficiency, background, limit. */
NA64_API int na64_job_finish(const na64_job_partial *p, double eot_override, na64_job_result *res, na64_err *err);

/* The report files of a job in directory dir (must exist): cutflow.csv, selection.json,
 * efficiency.csv (mass_MeV,efficiency,error), background.csv, limit.csv (mass_MeV,epsilon),
 * limit.{png,svg}, limit_hepdata.yaml, index.html (self-contained, the plot embedded). */
NA64_API int na64_job_write_report(const na64_job_result *res, const char *card_path, const char *dir, na64_err *err);

/* =============================================================================================
 * Visible mode (issue 12; src/ana/vis_select.c, vis_job.c; docs/visible.md): the selection of
 * A' -> e+e- events behind the WCAL with its cut flow, the efficiency versus (m_A', epsilon) from
 * simulated DATE events, and the island of `na64 run` on a visible card.
 * =========================================================================================== */
typedef enum na64_vis_cut {
  NA64_VIS_CUT_ENERGY_SUM = 0, /* "energy_sum": |E_WCAL + E_ECAL - E0| within energy_sum_sigmas */
  NA64_VIS_CUT_WCAL,           /* "wcal_fraction": E_WCAL <= wcal_fraction_max E0 */
  NA64_VIS_CUT_ECAL,           /* "ecal_fraction": E_ECAL >= ecal_fraction_min E0 */
  NA64_VIS_CUT_V2,             /* "v2": no energy in V2 (below v2_max_mips MIPs) */
  NA64_VIS_CUT_S4,             /* "s4": the decay counter sees two MIPs */
  NA64_VIS_CUT_PRESHOWER,      /* "preshower": the pair starts showering in the pre-shower */
  NA64_VIS_CUT_SHAPE,          /* "shower_shape": e-m lateral shape */
  NA64_VIS_CUT_TRACKS,         /* "tracks": two resolved tracks when min_tracks = 2 */
  NA64_VIS_NCUTS
} na64_vis_cut;
NA64_API const char *na64_vis_cut_name(int cut);

typedef struct na64_vis_select_config {
  double energy_sum_sigmas, wcal_fraction_max, ecal_fraction_min, v2_max_mips, s4_min_mips, s4_max_mips;
  double preshower_min, shape_chi2_max;
  long min_tracks;           /* 0: no track requirement; 2: two resolved tracks */
  /* from the simulation part of the card (not selection keys): E0 and the resolutions of the sum */
  double beam_energy, momentum_spread, wcal_stochastic, ecal_stochastic;
  int enabled[NA64_VIS_NCUTS];
} na64_vis_select_config;
NA64_API void na64_vis_select_config_default(na64_vis_select_config *c);
/* The `selection:` section of a visible card over c (absent: unchanged); errors name file:line:col. */
NA64_API int na64_vis_select_config_read(const na64_card *card, na64_vis_select_config *c, na64_err *err);
/* Bit i set: the event passes cut i (disabled cuts pass; a NaN quantity fails). */
NA64_API unsigned na64_vis_select_event(const na64_vis_select_config *c, const na64_vis_reco_event *ev);
/* The signal box of the selection c as the Table 2 background routes apply it (src/sim/vis_bkg.c):
 * each enabled cut's window copied into bc, a disabled cut opened; `na64 run` and bench_vis_bkg. */
NA64_API void na64_vis_select_box_to_bkg(const na64_vis_select_config *c, na64_vis_bkg_config *bc);

/* Sequential cut flow: row 0 all events, row i + 1 after cuts 0..i. */
typedef struct na64_vis_cutflow {
  uint64_t events[NA64_VIS_NCUTS + 1];
} na64_vis_cutflow;
/* Returns 1 if the event passed every cut. */
NA64_API int na64_vis_cutflow_fill(na64_vis_cutflow *f, const na64_vis_select_config *c, const na64_vis_reco_event *ev);

/* The job of `na64 run` on a visible card. */
#define NA64_VIS_EFF_POINTS 3
typedef struct na64_vis_job_result {
  na64_vis_config sim;
  na64_vis_select_config select;
  na64_job_config job;
  double n_up;                     /* signal events excluded at 90% CL with 0 observed, no background: 2.303 */
  na64_vis_cutflow signal;         /* the signal sample at the card's (m, eps) */
  na64_vis_cutflow background;     /* beam electrons (analysis.events) */
  double background_upper_per_eot; /* 90% CL upper bound from the beam-electron sample (none passes) */
  int nmass;
  double *mass_MeV;                /* analysis.masses_MeV */
  double (*eff_eps)[NA64_VIS_EFF_POINTS], (*eff)[NA64_VIS_EFF_POINTS], (*eff_err)[NA64_VIS_EFF_POINTS];
  double *eps_low, *eps_high;      /* the island with the measured efficiency (NaN: none at this mass) */
  double *eps_low_ideal, *eps_high_ideal; /* the same at efficiency 1 (E_A' >= NA64_VIS_EA_MIN_FRAC E0) */
  /* the Table 2 backgrounds (src/sim/vis_bkg.c; the card's `backgrounds:`, the box of `selection:`) */
  na64_vis_bkg_config bkg_config;
  na64_vis_bkg_result bkg[NA64_VIS_BKG_NSOURCES];
  double bkg_total, bkg_total_error;   /* per EOT, the enabled sources */
  double bkg_events, bkg_events_error; /* at the quoted EOT: the limit's b +- db */
  int bkg_median_n;                    /* the background-only median of the observed count */
  /* issue 12: the X17 (16.7 MeV) island at efficiency 1 for both couplings, [0] vector (eps e J_em),
   * [1] pseudoscalar (g = eps e to electrons; physics/yield.c); NaN: nothing excluded. Computed
   * (x17 = 1) when analysis.masses_MeV contains 16.7 (the cost is its samples' events: the pseudoscalar
   * yield takes 0.02 s CPU from the tungsten grid since exactgrid3, 0.8 s without it; docs/performance.md) */
  /* visscal: [2] scalar and [3] axial (g = eps e to electrons) as well */
  int x17;
  double x17_eps_low[4], x17_eps_high[4];
  /* the same with the measured efficiency: [0] the vector with the efficiency of the 16.7 MeV mass
   * point, [1] the pseudoscalar with its own samples (the sampler drawing a: aprime.mediator),
   * at the lower edge, middle and upper edge of its efficiency-1 island (x17_eff_eps); [2] scalar
   * and [3] axial with theirs (x17_med_*[0] and [1]: at the edges and middle of their efficiency-1
   * island, or of the couplings where the expected signal is half its maximum when there is none) */
  double x17_eps_low_eff[4], x17_eps_high_eff[4];
  double x17_eff_eps[NA64_VIS_EFF_POINTS], x17_eff[NA64_VIS_EFF_POINTS], x17_eff_err[NA64_VIS_EFF_POINTS];
  double x17_med_eff_eps[2][NA64_VIS_EFF_POINTS], x17_med_eff[2][NA64_VIS_EFF_POINTS],
      x17_med_eff_err[2][NA64_VIS_EFF_POINTS];
  /* psjoint: the pseudoscalar a at every mass of analysis.masses_MeV (with the X17, x17 = 1; NULL
   * otherwise), as the vector's arrays above: its efficiency at three couplings per mass (the lower
   * edge, middle and upper edge of its efficiency-1 island; without one, PRD 104's 2.1e-4 .. 3.2e-4
   * at 16.7 MeV and the half-maximum couplings of the expected signal at the other masses) and its
   * islands; the X17 fields above are the 16.7 MeV row of these */
  double (*ps_eff_eps)[NA64_VIS_EFF_POINTS], (*ps_eff)[NA64_VIS_EFF_POINTS], (*ps_eff_err)[NA64_VIS_EFF_POINTS];
  double *ps_eps_low, *ps_eps_high, *ps_eps_low_ideal, *ps_eps_high_ideal;
  /* visphys: the scalar ([0]) and the axial ([1]) at every mass (with the X17; NULL otherwise), as the
   * pseudoscalar's arrays. Their efficiency at 16.7 MeV is their own samples (x17_med_*); at the other
   * masses the chirality partner's measured table (scalar: the pseudoscalar's, axial: the vector's) at
   * the same decay length, eps_X = eps_partner sqrt(Gamma_partner/Gamma_X) (tests/ana/
   * test_vis_chirality_long.c: equal within the binomial errors at 2, 10, 16.7 MeV); med_own[j][i]
   * says which (1: own samples, 0: the partner's). */
  double (*med_eff_eps[2])[NA64_VIS_EFF_POINTS], (*med_eff[2])[NA64_VIS_EFF_POINTS],
      (*med_eff_err[2])[NA64_VIS_EFF_POINTS];
  double *med_eps_low[2], *med_eps_high[2], *med_eps_low_ideal[2], *med_eps_high_ideal[2];
  int *med_own[2];
} na64_vis_job_result;
/* Run the visible job of the card (its EOT, or eot_override > 0). progress may be NULL. The island
 * uses n_up = the CLs 90% upper limit at the background-only median count for b +- db of the Table 2
 * sources (0 observed with b = 0: 2.303). */
NA64_API int na64_vis_job_run(const char *card_path, double eot_override, na64_vis_job_result *res,
                              void (*progress)(const char *stage, double frac, void *user), void *user, na64_err *err);
NA64_API void na64_vis_job_result_release(na64_vis_job_result *res);
/* Report in dir: cutflow.csv, efficiency.csv, limit.csv (mass_MeV,eps_low,eps_high), limit.png and
 * limit.svg (the island against the published PRL 120 band), background.csv (the Table 2 sources
 * per EOT and at the EOT beside Table 2), x17.csv (coupling,mass_MeV,eps_low,eps_high,eps_low_eff1,
 * eps_high_eff1,eff_low,eff_mid,eff_high,published_low,published_high: vector, pseudoscalar, scalar and axial X17,
 * with the measured efficiency and at efficiency 1), index.html, card.yaml. */
NA64_API int na64_vis_job_write_report(const na64_vis_job_result *res, const char *card_path, const char *dir,
                                       na64_err *err);
/* 1 if the card file is a visible-mode card (aprime.decay: ee); 0 otherwise or unreadable. */
NA64_API int na64_vis_card_file_is_visible(const char *card_path);

/* ---- parts of the visible job: MPI ranks and batch jobs (issue 15; src/ana/vis_job.c, job_part.c;
 * docs/scaling.md) ----
 * The visible job's event samples are the beam electrons, the signal at the card's (m, eps) and, per
 * mass, the efficiency samples at the three couplings of the island at efficiency 1. Those couplings
 * follow from the card and the EOT alone (the yield and the Table 2 backgrounds' n_up, no event), so
 * every part knows every sample. Part k of n runs the events [S k / n, S (k + 1) / n) of each sample
 * (S its size, na64_part_range); every event draws from its own streams (seed, event), and a part's
 * result is its integer cut flows: merged in any order they are the serial job's, and
 * na64_vis_job_finish turns them into the same result. */
typedef struct na64_vis_sample_part {
  uint64_t seed, size;   /* the sample's seed and its events in the whole job (0: not run, no island) */
  uint64_t first, count; /* the events held here */
  double eps;            /* the sample's coupling (0 for the beam electrons and samples not run) */
  na64_vis_cutflow flow;
} na64_vis_sample_part;
typedef struct na64_vis_partial {
  char version[32];      /* na64_version() of the program that produced it */
  char card_name[512];   /* the card's path as given */
  char *card_text;       /* the card's bytes (malloc'ed) */
  size_t card_len;
  uint64_t card_hash;    /* FNV-1a 64 of the card's bytes */
  long run;              /* setup */
  double eot;            /* the quoted EOT: it sets the couplings of the efficiency samples */
  int nsample;           /* 2 + NA64_VIS_EFF_POINTS x masses */
  na64_vis_sample_part *sample; /* [0] beam electrons, [1] signal at the card's point, [2 + 3 i + k] mass i, coupling k */
} na64_vis_partial;
/* Part `part` (0-based) of `nparts` of the visible job of card_path (eot_override > 0: that EOT)
 * into p; *setup receives the job's configuration, backgrounds and couplings (no event counts) for
 * na64_vis_job_finish. Release p and setup in any case. */
NA64_API int na64_vis_job_part_run(const char *card_path, double eot_override, int part, int nparts, na64_vis_partial *p,
                                   na64_vis_job_result *setup, void (*progress)(const char *stage, double frac, void *user),
                                   void *user, na64_err *err);
/* The setup of the job a partial belongs to, from the card bytes and EOT it carries (na64 merge). */
NA64_API int na64_vis_job_setup(const na64_vis_partial *p, na64_vis_job_result *setup, na64_err *err);
/* The result of complete partials (every event of every sample) over the setup of the same job:
 * cut flows, efficiencies, islands, X17. Refuses partials that do not match the setup's samples. */
NA64_API int na64_vis_job_finish(const na64_vis_partial *all, na64_vis_job_result *setup, na64_err *err);
NA64_API void na64_vis_partial_release(na64_vis_partial *p);
/* The card (its name, bytes and hash) into p. */
NA64_API int na64_vis_partial_set_card(na64_vis_partial *p, const char *card_path, na64_err *err);
/* The text form (docs/scaling.md, "na64-vis-partial"); *text malloc'ed. */
NA64_API int na64_vis_partial_format(const na64_vis_partial *p, char **text, size_t *len, na64_err *err);
/* Parse the text form; errors name `name` and the line. p must be released. */
NA64_API int na64_vis_partial_parse(const char *text, size_t len, const char *name, na64_vis_partial *p, na64_err *err);
NA64_API int na64_vis_partial_write(const na64_vis_partial *p, const char *path, na64_err *err);
NA64_API int na64_vis_partial_read(const char *path, na64_vis_partial *p, na64_err *err);
/* Merge n partials (names[i] names parts[i] in errors) into out: refuses parts of different versions,
 * cards, setups, EOT or samples (seeds, sizes, couplings), and parts whose event ranges overlap or
 * leave a gap, naming the files. out must be released. */
NA64_API int na64_vis_partial_merge(const na64_vis_partial *parts, const char *const *names, int n,
                                    na64_vis_partial *out, na64_err *err);
/* 1 if the file begins as a visible job's partial result ("na64-vis-partial"), 0 otherwise (also
 * when unreadable: the reader then says why). */
NA64_API int na64_partial_file_is_visible(const char *path);

/* ---- measured efficiencies of combined data sets (issue 12; src/ana/sensitivity_datasets.c,
 * `na64 limits --dataset SETUP:EOT[:SOURCE]`, docs/cli.md) ----
 * The signal efficiency of one data set as `na64 run` measures it: in the visible mode at
 * NA64_VIS_EFF_POINTS couplings per mass (efficiency.csv: mass_MeV,eps,efficiency,efficiency_error)
 * and for the pseudoscalar X17 at 16.7 MeV (x17.csv); in the invisible mode per mass (efficiency.csv:
 * mass_MeV,efficiency,error). eff(m, eps) is interpolated in ln eps at each measured mass as the
 * visible job does (constant outside the measured couplings), then linearly in ln m between the
 * measured masses (the nearest one beyond them), as na64_limit_efficiency_at. */
typedef struct na64_sens_eff_table {
  int visible;                 /* 1: eff(m, eps); 0: eff(m) (eff[i][0], eps NaN) */
  int mediator;                /* the mediator of the rows (a run directory's: NA64_MED_VECTOR) */
  int nmass;
  double *mass;                /* GeV, increasing [nmass] */
  double (*eps)[NA64_VIS_EFF_POINTS], (*eff)[NA64_VIS_EFF_POINTS]; /* [nmass]; NaN: not measured */
  int has_ps;                  /* visible: the pseudoscalar X17 measured (at 16.7 MeV, used at every mass) */
  double ps_eps[NA64_VIS_EFF_POINTS], ps_eff[NA64_VIS_EFF_POINTS];
  /* psjoint: the pseudoscalar at every mass of the card (efficiency_pseudoscalar.csv, as efficiency.csv);
   * when present it replaces the X17 row above */
  int ps_nmass;
  double *ps_mass;
  double (*ps_meps)[NA64_VIS_EFF_POINTS], (*ps_meff)[NA64_VIS_EFF_POINTS];
  /* visphys: the scalar ([0]) and the axial ([1]) at every mass of the card (efficiency_scalar.csv,
   * efficiency_axial.csv, as efficiency.csv; med_nmass 0: none) */
  int med_nmass[2];
  double *med_mass[2];
  double (*med_meps[2])[NA64_VIS_EFF_POINTS], (*med_meff[2])[NA64_VIS_EFF_POINTS];
  int has_background;          /* the run directory's background per EOT (background.csv) */
  double bkg_per_eot, bkg_error_per_eot;
  long run;                    /* the setup (run) and beam energy (GeV) it was measured with */
  double beam_energy;
  char source[1024];           /* the run directory, or how it was measured */
} na64_sens_eff_table;
/* Read the report directory `dir` of `na64 run` (efficiency.csv, x17.csv if present, background.csv,
 * card.yaml for the setup and beam energy). Missing or malformed files -> NA64_EIO / NA64_EFORMAT
 * naming the file (and line). Release t in any case. */
NA64_API int na64_sens_eff_table_read(const char *dir, na64_sens_eff_table *t, na64_err *err);
/* eff(m, eps) of the table for the mediator (vector, pseudoscalar; scalar and axial from a run directory
 * with efficiency_scalar.csv / efficiency_axial.csv, visphys): 0 where nothing was measured, and 0 for a
 * mediator the table does not hold (check the mediator before, as `na64 limits --dataset` does). */
NA64_API double na64_sens_eff_table_at(const na64_sens_eff_table *t, int mediator, double m, double eps);
NA64_API void na64_sens_eff_table_release(na64_sens_eff_table *t);

/* One data set of a combination: its setup, EOT, options, measured efficiency and background. */
typedef struct na64_sens_dataset {
  char spec[1200];             /* as given */
  char setup[64];
  int run;                     /* the run whose geometry it uses (the setup's first) */
  double eot;
  na64_sens_options o;         /* the data set's options (its eff_table is set when computing) */
  na64_sens_eff_table eff;     /* measured efficiency (nmass 0: none) */
  char card[1024];             /* a run card for the measurement on the fly ("": the setup's defaults) */
  char conditions[512];        /* the conditions database given ("": the default) */
  double background, background_error; /* expected background events at its EOT */
  const char *background_source; /* "run directory", "Table 2 level" or "Table 1 level" */
  int observed;                /* its observed events (":observed=N" at the end of the spec; default 0) */
} na64_sens_dataset;
/* Parse "SETUP:EOT[:SOURCE][:observed=N]" (SOURCE: a `na64 run` report directory, or a run card for
 * the measurement on the fly; N the data set's observed events, default 0); spec's setup -> its options from the conditions database (as
 * na64_sens_dataset_options), the run directory's table checked against the setup (its run's setup
 * and beam energy) and mode, and its background. Release ds in any case. */
NA64_API int na64_sens_dataset_open(const na64_sens_options *base, const char *db_path, const char *spec, int keep_mode,
                                    na64_sens_dataset *ds, char *summary, size_t summary_len, na64_err *err);
NA64_API void na64_sens_dataset_release(na64_sens_dataset *ds);
/* How the efficiency of a visible data set without a run directory is measured on the fly: events
 * per (mass, coupling) (0: no measurement, efficiency `base` as before), seed, threads. */
typedef struct na64_sens_measure {
  uint64_t events, seed;
  int threads;
} na64_sens_measure;
/* The combined limit of n data sets (1 <= n <= NA64_LIMIT_MAX_DATASETS) on c->masses: measures the
 * missing visible efficiencies on the fly (at the lower edge, middle and upper edge of the combined
 * island at efficiency 1, per mass), then scans with eff(m, eps) per data set. The statistics are
 * those of `stats` (CL, statistic, expected), except the background and the observed count: unless
 * bkg_given (bit 0: --background, bit 1: --background-error, bit 2: --observed) the background is the
 * sum of the data sets' backgrounds, its error their errors added in quadrature, the observed count
 * the sum of theirs (one counting experiment over the union of the data sets). */
/* The combined statistics of the data sets (as na64_sens_curve_compute_datasets) into o0's CL,
 * statistic, expected, systematic, background, its error and observed count. */
NA64_API void na64_sens_datasets_statistics(const na64_sens_options *stats, unsigned bkg_given,
                                            const na64_sens_dataset *ds, int n, na64_sens_options *o0);
NA64_API int na64_sens_curve_compute_datasets(const na64_sens_options *stats, unsigned bkg_given, na64_sens_dataset *ds,
                                              int n, const na64_sens_measure *how, na64_sens_curve *c,
                                              void (*progress)(int done, int total, void *user), void *user,
                                              na64_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NA64_ANA_H */
