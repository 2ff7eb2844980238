/*
 * `na64 limits`: expected or observed 90% CL exclusion limits in the (m_A', eps) plane, as CSV /
 * table / JSON, a plot (PLplot) and a HEPData table. Also the dark-matter interpretation y(m_chi).
 * The computation and the outputs live in the library (ana.h: na64_sens_*); this file parses and
 * prints.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "na64/ana.h"

static const char *limits_synopsis =
    "90% CL exclusion limits on the A' mixing epsilon versus m_A' for a number of electrons on target.\n"
    "Invisible mode: missing energy in the ECAL (A' energy above E0 - E_ECAL,max), CSV columns\n"
    "mass_MeV,epsilon (upper limit). Visible mode: A' -> e+e- behind the WCAL, CSV columns\n"
    "mass_MeV,eps_low,eps_high (the excluded band; empty where nothing is excluded). With --y: the\n"
    "dark-matter variable y = eps^2 alpha_D (m_chi/m_A')^4 versus m_chi at m_A' = ratio * m_chi.\n"
    "Masses in MeV, energies in GeV, lengths in cm. Statistics: CLs (Read 2002) with the background\n"
    "b +- db and a relative signal systematic; b = 0 and n = 0 give 2.30 events. Options marked\n"
    "'invisible:' or 'visible:' are usage errors in the other mode. --dataset SETUP:EOT[:SOURCE] (repeatable)\n"
    "combines data sets: each with its measured signal efficiency (SOURCE: a `na64 run` report directory, or\n"
    "measured on the fly, --eff-events) and its background; the combined CLs counts the summed signal against\n"
    "the summed background (errors in quadrature) and the summed observed counts (docs/cli.md).";

static void report_progress(int done, int total, void *user)
{
  (void)total;
  cli_progress_update(user, done);
}

/* which mode-dependent options the user gave (na64_sens_options_check) */
static unsigned given_bits(const cli_opt *opts, int nopts)
{
  static const struct {
    const char *name;
    unsigned bit;
  } map[] = {{"--expected", NA64_SENS_GIVEN_EXPECTED},     {"--annihilation", NA64_SENS_GIVEN_ANNIHILATION},
             {"--y", NA64_SENS_GIVEN_Y},                   {"--ecal-max", NA64_SENS_GIVEN_ECAL_MAX},
             {"--alpha-d", NA64_SENS_GIVEN_ALPHA_D},       {"--mass-ratio", NA64_SENS_GIVEN_MASS_RATIO},
             {"--wcal-x0", NA64_SENS_GIVEN_WCAL_X0},       {"--decay-start", NA64_SENS_GIVEN_DECAY_START},
             {"--decay-length", NA64_SENS_GIVEN_DECAY_LENGTH}, {"--ea-min", NA64_SENS_GIVEN_EA_MIN},
             {"--background-error", NA64_SENS_GIVEN_BACKGROUND_ERROR},
             {"--signal-syst", NA64_SENS_GIVEN_SIGNAL_SYST}};
  unsigned bits = 0;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; ++i)
    if (cli_opt_seen(opts, nopts, map[i].name)) bits |= map[i].bit;
  return bits;
}

static void print_curve(const na64_sens_options *o, const na64_sens_curve *c, cli_format fmt)
{
  const char *const *names;
  int nc = na64_sens_curve_columns(o, &names);
  cli_table *t = cli_table_new(nc, names);
  for (int i = 0; i < c->n; ++i) {
    double row[NA64_SENS_MAX_COLUMNS];
    na64_sens_curve_row(o, c, i, row);
    cli_table_add_row(t, row);
  }
  cli_table_print(t, fmt, stdout);
  cli_table_free(t);
}

/* Everything the command line can check before the scan: mode-dependent options, output paths. */
static int check_before_scan(const na64_sens_options *o, unsigned given, const char *plot, const char *hepdata)
{
  na64_err err = {0, ""};
  if (na64_sens_options_check(o, given, &err)) return cli_usage_error("limits", "%s", err.msg);
  static const char *const plot_ext[] = {".png", ".svg", ".pdf", NULL};
  static const char *const yaml_ext[] = {".yaml", ".yml", NULL};
  if (plot && cli_check_output("limits", "--plot", plot, plot_ext)) return CLI_EXIT_USAGE;
  if (hepdata && cli_check_output("limits", "--hepdata", hepdata, yaml_ext)) return CLI_EXIT_USAGE;
  return CLI_EXIT_OK;
}

/* The values of every --dataset (repeatable: cli_parse keeps only the last), up to "--". */
static int collect_datasets(int argc, char **argv, const char **specs, int max)
{
  int n = 0;
  for (int i = 1; i < argc && strcmp(argv[i], "--"); ++i) {
    const char *v = NULL;
    if (!strcmp(argv[i], "--dataset") && i + 1 < argc) v = argv[++i];
    else if (!strncmp(argv[i], "--dataset=", 10)) v = argv[i] + 10;
    if (v && n < max) specs[n] = v;
    if (v) ++n;
  }
  return n;
}

/* ds[0..n) from the --dataset specs on top of the command line's options *base (released by the caller) */
static int open_datasets(const na64_sens_options *base, const char *db, const char *const *specs, int n, int keep_mode,
                         na64_sens_dataset *ds)
{
  for (int i = 0; i < n; ++i) {
    char summary[1024];
    na64_err err = {0, ""};
    if (na64_sens_dataset_open(base, db, specs[i], keep_mode, &ds[i], summary, sizeof summary, &err)) {
      for (int j = 0; j <= i; ++j) na64_sens_dataset_release(&ds[j]);
      return cli_fail("limits", &err);
    }
    fputs(summary, stderr);
  }
  return CLI_EXIT_OK;
}

/* what the combination used: the efficiency of each data set and the combined statistics */
static void print_combination(const na64_sens_options *o, unsigned bkg_given, const na64_sens_dataset *ds, int n)
{
  for (int i = 0; i < n; ++i)
    fprintf(stderr, "# data set %s: efficiency %s\n", ds[i].spec,
            ds[i].eff.nmass > 0 || ds[i].eff.has_ps ? ds[i].eff.source : "given (--efficiency, default 1)");
  na64_sens_options c = *o;
  na64_sens_datasets_statistics(o, bkg_given, ds, n, &c);
  char line[256];
  na64_num_format(line, sizeof line, "# combined: background %.3g +- %.2g events%s, %d observed%s\n", c.background,
                  c.background_error, (bkg_given & 3) ? " (--background / --background-error)" : " (sum of the data sets)",
                  c.observed, (bkg_given & 4) ? " (--observed)" : " (sum of the data sets)");
  fputs(line, stderr);
}

/* the command line's values the scan needs after the options are read */
typedef struct limits_args {
  const cli_opt *opts;
  int nopts;
  const char *masses, *plot, *hepdata;
  int fmt, ndata;
  na64_sens_dataset *dsets;
  unsigned bkg_given;
  na64_sens_measure how;
} limits_args;

/* the checks that depend on the setup, the scan and the outputs */
static int limits_scan(na64_sens_options *o, const limits_args *a)
{
  na64_err err = {0, ""};
  int st;
  if (o->beam == NA64_LEPTON_MU) {
    if (cli_opt_seen(a->opts, a->nopts, "--method") && na64_sens_method(o) != NA64_XS_EXACT)
      return cli_usage_error("limits", "--beam mu uses the exact cross sections only (--method exact)");
    if (o->mode != NA64_SENS_INVISIBLE) return cli_usage_error("limits", "--beam mu has the invisible mode only");
    if (o->annihilation || o->y_output)
      return cli_usage_error("limits", "--annihilation and --y apply to the electron beam only");
    if (!cli_opt_seen(a->opts, a->nopts, "--energy")) o->energy = 160.0;
    o->method = NA64_XS_EXACT;
  } else if (o->mediator == NA64_MED_ZPRIME) {
    return cli_usage_error("limits", "--mediator zprime needs --beam mu: the L_mu - L_tau Z' has no tree-level "
                           "coupling to electrons");
  } else if (o->mediator != NA64_MED_VECTOR && o->mode == NA64_SENS_VISIBLE) {
    /* the X17 scalar, pseudoscalar or axial, g = eps e: exact cross sections whatever --method (visscal) */
  } else if (o->mediator != NA64_MED_VECTOR) { /* issue 14: the electron beam's invisible mode, any mediator */
    if (cli_opt_seen(a->opts, a->nopts, "--method") && na64_sens_method(o) != NA64_XS_EXACT)
      return cli_usage_error("limits", "--mediator %s uses the exact cross sections only (--method exact; ETL, WW "
                             "and IWW are the vector A')", na64_mediator_name((na64_mediator)o->mediator));
    if (o->annihilation || o->y_output)
      return cli_usage_error("limits", "--annihilation and --y apply to the vector A' only");
    if (a->ndata > 0)
      return cli_usage_error("limits", "--dataset measures the efficiency of the vector A': use --efficiency with "
                             "--mediator %s", na64_mediator_name((na64_mediator)o->mediator));
    o->method = NA64_XS_EXACT;
  }
  /* without a usable cache directory the values are only computed again next time */
  if (na64_sens_method(o) == NA64_XS_EXACT && na64_exact_store_disk(NULL, &err))
    fprintf(stderr, "na64 limits: warning: %s (exact cross sections not remembered)\n", err.msg);
  if (!(o->eot > 0)) return cli_usage_error("limits", "missing required argument --eot (electrons on target), or give --run");
  st = check_before_scan(o, given_bits(a->opts, a->nopts), a->plot, a->hepdata);
  if (st) return st;
  na64_sens_curve c = {0};
  if (na64_sens_masses_parse(a->masses, o->mode, &c.masses, &c.n, &err))
    return cli_usage_error("limits", "%s", err.msg);
  cli_progress prog;
  cli_progress_start(&prog, "masses", c.n);
  if (a->ndata > 0) {
    for (int i = 0; i < a->ndata; ++i) { /* what the checks above set for every data set */
      a->dsets[i].o.method = o->method;
      if (o->beam == NA64_LEPTON_MU && !cli_opt_seen(a->opts, a->nopts, "--energy")) a->dsets[i].o.energy = o->energy;
    }
    st = na64_sens_curve_compute_datasets(o, a->bkg_given, a->dsets, a->ndata, &a->how, &c, report_progress, &prog, &err);
    if (st == NA64_OK) print_combination(o, a->bkg_given, a->dsets, a->ndata);
  } else {
    st = na64_sens_curve_compute(o, &c, report_progress, &prog, &err);
  }
  cli_progress_finish(&prog, c.n);
  int rc = CLI_EXIT_OK;
  if (st != NA64_OK) {
    rc = cli_fail("limits", &err);
  } else {
    print_curve(o, &c, (cli_format)a->fmt);
    if (a->plot && na64_sens_curve_plot(o, &c, a->plot, &err)) rc = cli_fail("limits", &err);
    if (a->hepdata && na64_sens_curve_write_hepdata(o, &c, a->hepdata, &err)) rc = cli_fail("limits", &err);
  }
  na64_sens_curve_release(&c);
  return rc;
}

/* Options that contradict --dataset (a data set brings its own setup) or need it. */
static int check_dataset_options(const cli_opt *opts, int nopts, int ndata, long eff_events)
{
  if (ndata > NA64_LIMIT_MAX_DATASETS)
    return cli_usage_error("limits", "%d --dataset options: at most %d", ndata, NA64_LIMIT_MAX_DATASETS);
  static const char *const per_setup[] = {"--run", "--eot", "--energy", "--wcal-x0", "--decay-start", "--decay-length"};
  for (size_t i = 0; ndata > 0 && i < sizeof per_setup / sizeof per_setup[0]; ++i)
    if (cli_opt_seen(opts, nopts, per_setup[i]))
      return cli_usage_error("limits", "--dataset takes the beam energy, EOT and geometry from the setup: do not "
                             "combine it with %s", per_setup[i]);
  static const char *const with_dataset[] = {"--eff-events", "--seed", "--threads"};
  for (size_t i = 0; ndata == 0 && i < sizeof with_dataset / sizeof with_dataset[0]; ++i)
    if (cli_opt_seen(opts, nopts, with_dataset[i]))
      return cli_usage_error("limits", "%s applies with --dataset only", with_dataset[i]);
  if (ndata > 0 && eff_events > 0 && cli_opt_seen(opts, nopts, "--ea-min"))
    return cli_usage_error("limits", "--ea-min with --dataset needs --eff-events 0: a measured efficiency is relative "
                           "to the simulated A' above 0.1 E0");
  return 0;
}

/* The setup of the limits: the data sets' (the first one's setup with the command line's statistics),
 * a run's of the conditions database, or the options as given. */
static int limits_setup(na64_sens_options *o, const cli_opt *opts, int nopts, const char *db, long run,
                        const char **specs, int ndata, na64_sens_dataset *dsets)
{
  na64_err err = {0, ""};
  if (ndata > 0) {
    int st = open_datasets(o, db, specs, ndata, cli_opt_seen(opts, nopts, "--mode"), dsets);
    if (st) return st;
    *o = dsets[0].o;
  } else if (run > 0) {
    char summary[512];
    if (na64_sens_options_from_run(o, db, (int)run, cli_opt_seen(opts, nopts, "--eot"),
                                   cli_opt_seen(opts, nopts, "--mode"), summary, sizeof summary, &err))
      return cli_fail("limits", &err);
    fputs(summary, stderr);
  } else if (db) {
    return cli_usage_error("limits", "--db applies with --run or --dataset only");
  }
  return CLI_EXIT_OK;
}

int cmd_limits(int argc, char **argv)
{
  na64_sens_options o;
  na64_sens_options_default(&o);
  long observed = 0, run = 0, eff_events = 1000, seed = 1, threads = 2;
  int fmt = FMT_TABLE;
  const char *masses = NULL, *plot = NULL, *hepdata = NULL, *db = NULL, *dataset = NULL;
  const char *specs[NA64_LIMIT_MAX_DATASETS];
  int ndata = collect_datasets(argc, argv, specs, NA64_LIMIT_MAX_DATASETS);
  cli_opt opts[] = {
      {"--mode", OPT_CHOICE, &o.mode, 1, 0, 0, "invisible|visible", 0, "search mode (default invisible)", 0},
      {"--energy", OPT_DOUBLE, &o.energy, 10, 200, 0, NULL, 0, "beam energy E0, GeV (default 100)", 0},
      {"--eot", OPT_DOUBLE, &o.eot, 1, 1e16, 0, NULL, 0, "electrons on target (required unless --run gives it)", 0},
      {"--run", OPT_INT, &run, 1, 1e9, 0, NULL, 0,
       "take mode, beam energy, EOT and the visible geometry of this run from the conditions database", 0},
      {"--dataset", OPT_STRING, &dataset, 1, 0, 0, NULL, 0,
       "SETUP:EOT[:SOURCE][:observed=N], repeatable: combine data sets (setup name or run number of the conditions database, "
       "its electrons on target); signals add, each with its beam energy, geometry, measured efficiency and "
       "background. SOURCE: a `na64 run` report directory of that setup (efficiency.csv, x17.csv, "
       "background.csv, card.yaml), or a run card of that setup to measure with; without it the efficiency is "
       "measured on the fly (--eff-events) and the background is the NA64 report's Table 2 (visible, 3e-13/EOT) "
       "or Table 1 (invisible, 1e-12/EOT) level times the EOT. observed=N: its observed events (default 0); "
       "backgrounds and observed counts add unless --background, --background-error, --observed are given", 0},
      {"--eff-events", OPT_INT, &eff_events, 0, 1e7, 0, NULL, 0,
       "with --dataset: signal events per point of the efficiency measured on the fly (visible: per (mass, eps); "
       "invisible: per mass; default 1000; 0: no measurement, efficiency --efficiency, visible above 0.3 E0)", 0},
      {"--seed", OPT_INT, &seed, 0, 1e15, 0, NULL, 0, "with --dataset: seed of the measurement on the fly (default 1)", 0},
      {"--threads", OPT_INT, &threads, 1, 64, 0, NULL, 0,
       "with --dataset: threads of the measurement on the fly (default 2; the result does not depend on it)", 0},
      {"--db", OPT_STRING, &db, 1, 0, 0, NULL, 0,
       "conditions database for --run or --dataset (default: $NA64_CONDITIONS_DB or the built one)", 0},
      {"--efficiency", OPT_DOUBLE, &o.efficiency, 0, 1, 1, NULL, 0, "signal efficiency (default 1)", 0},
      {"--background", OPT_DOUBLE, &o.background, 0, 1e6, 0, NULL, 0,
       "expected background events (default 0; at most 1000 with --stat fc)", 0},
      {"--background-error", OPT_DOUBLE, &o.background_error, 0, 1e6, 0, NULL, 0,
       "cls: 1-sigma error of the background (default 0)", 0},
      {"--signal-syst", OPT_DOUBLE, &o.signal_syst, 0, 1, 0, NULL, 0, "cls: relative signal systematic (default 0)", 0},
      {"--cl", OPT_DOUBLE, &o.cl, 0.5, 0.9999, 0, NULL, 0, "confidence level (default 0.90)", 0},
      {"--observed", OPT_INT, &observed, 0, 1e6, 0, NULL, 0,
       "observed events (default 0; at most 10000 with --stat fc)", 0},
      {"--stat", OPT_CHOICE, &o.statistic, 1, 0, 0, "cls|fc", 0,
       "statistic: CLs with nuisance priors (default) or Feldman-Cousins upper end", 0},
      {"--expected", OPT_FLAG, &o.expected, 1, 0, 0, NULL, 0, "invisible: median expected limit with +-1, +-2 sigma bands", 0},
      {"--masses", OPT_STRING, &masses, 1, 0, 0, NULL, 0,
       "MIN:MAX:N (log-spaced) or m1,m2,... in MeV (default 1:1000:60, visible 1.1:30:60)", 0},
      {"--ecal-max", OPT_DOUBLE, &o.ecal_max, 0, 1e3, 1, NULL, 0, "invisible: E_ECAL cut, GeV (default E0/2)", 0},
      {"--annihilation", OPT_FLAG, &o.annihilation, 1, 0, 0, NULL, 0,
       "invisible: add resonant e+e- -> A' of shower positrons", 0},
      {"--method", OPT_CHOICE, &o.method, 1, 0, 0, "ww|iww|etl|exact", 0,
       "cross section (default: exact, the tree-level matrix element from the shipped grids, else "
       "computed and remembered; in the visible mode also the exact x-shape, from the tungsten grids; "
       "exact values are remembered "
       "in the cache directory "
       "$NA64_CACHE_DIR or ~/.cache/na64)", 0},
      {"--beam", OPT_CHOICE, &o.beam, 1, 0, 0, "e|mu", 0,
       "beam lepton (default e); mu: NA64mu invisible mode, 160 GeV by default, scattered muon below --ecal-max "
       "(default E0/2), exact cross sections in 40 X0 of ECAL", 0},
      {"--mediator", OPT_CHOICE, &o.mediator, 1, 0, 0, "vector|zprime|scalar|pseudoscalar|axial", 0,
       "the emitted boson (default vector); the limit is on its coupling (g_Zprime for zprime, g for scalar, "
       "pseudoscalar, axial; exact cross sections). Electron beam, invisible: vector, scalar, pseudoscalar or axial "
       "(decaying invisibly, branching 1); with --beam mu also zprime. "
       "Visible mode: vector (A', X17), scalar, pseudoscalar or axial (the X17 with coupling g = eps e to electrons, "
       "decaying to e+e-; the limit is on eps; exact tree-level cross sections)", 0},
      {"--wcal-x0", OPT_DOUBLE, &o.wcal_x0, 1, 200, 0, NULL, 0, "visible: WCAL depth in X0 (default 33.6)", 0},
      {"--decay-start", OPT_DOUBLE, &o.decay_start, 0, 1e5, 0, NULL, 0,
       "visible: WCAL end to decay-region start, cm (default 13.5)", 0},
      {"--decay-length", OPT_DOUBLE, &o.decay_length, 0, 1e5, 1, NULL, 0, "visible: decay-region length, cm (default 91)", 0},
      {"--ea-min", OPT_DOUBLE, &o.ea_min, 0, 1e3, 0, NULL, 0, "visible: minimal A' energy, GeV (default 0.3 E0)", 0},
      {"--y", OPT_FLAG, &o.y_output, 1, 0, 0, NULL, 0, "invisible: print y versus m_chi instead of epsilon", 0},
      {"--alpha-d", OPT_DOUBLE, &o.alpha_d, 0, 1, 1, NULL, 0, "invisible, with --y: alpha_D (default 0.1)", 0},
      {"--mass-ratio", OPT_DOUBLE, &o.mass_ratio, 2, 100, 0, NULL, 0, "invisible, with --y: m_A'/m_chi (default 3)", 0},
      {"--format", OPT_CHOICE, &fmt, 1, 0, 0, CLI_FORMAT_CHOICES, 0, "output format (default table)", 0},
      {"--plot", OPT_STRING, &plot, 1, 0, 0, NULL, 0, "also draw the limit: FILE.png, .svg or .pdf", 0},
      {"--hepdata", OPT_STRING, &hepdata, 1, 0, 0, NULL, 0, "also write a HEPData YAML table: FILE.yaml", 0},
  };
  const int nopts = CLI_NOPTS(opts);
  int st = cli_parse("limits", limits_synopsis, argc, argv, opts, nopts);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  o.observed = (int)observed;
  st = check_dataset_options(opts, nopts, ndata, eff_events);
  if (st) return st;
  unsigned bkg_given = (cli_opt_seen(opts, nopts, "--background") ? 1u : 0u) |
                       (cli_opt_seen(opts, nopts, "--background-error") ? 2u : 0u) |
                       (cli_opt_seen(opts, nopts, "--observed") ? 4u : 0u);
  na64_sens_dataset dsets[NA64_LIMIT_MAX_DATASETS];
  if ((st = limits_setup(&o, opts, nopts, db, run, specs, ndata, dsets)) != CLI_EXIT_OK) return st;
  limits_args a = {opts, nopts, masses, plot, hepdata, fmt, ndata, dsets, bkg_given,
                   {(uint64_t)eff_events, (uint64_t)seed, (int)threads}};
  int rc = limits_scan(&o, &a);
  for (int i = 0; i < ndata; ++i) na64_sens_dataset_release(&dsets[i]);
  return rc;
}
