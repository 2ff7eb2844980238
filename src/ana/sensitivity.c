/* Sensitivity curves (include/na64/ana.h, docs/limits.md): the options of a search in the units of
 * the command line, the mass grid, one limit scan, and the curve's table. Shared by `na64 limits`
 * and the report of `na64 run` (sensitivity_report.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "na64/ana.h"
#include "na64/geom.h"
#include "na64/io.h"

void na64_sens_options_default(na64_sens_options *o)
{
  memset(o, 0, sizeof *o);
  o->mode = NA64_SENS_INVISIBLE;
  o->energy = 100.0;
  o->eot = NAN;
  o->efficiency = 1.0;
  o->cl = 0.90;
  o->method = NA64_XS_EXACT; /* both modes: the shipped grids (docs/physics.md 4d, 4e; visible: the tungsten x-shape) */
  o->statistic = NA64_LIMIT_CLS;
  o->ecal_max = NAN;
  /* visible-mode geometry: the 2017 setup of the conditions database (sql/setups/20_visible_2017.sql):
   * WCAL 39 x (3 mm W + 2 mm Sc) = 33.6 X0, its depth derived with the physical V2 (vis2018); decay region
   * 91 cm starting 13.5 cm behind the WCAL, derived from the vector and pseudoscalar X17 edges of PRL 120,
   * PRD 101 and PRD 104 together with the exact cross sections and the measured efficiency (issue 12;
   * docs/validation.md "visfit2: the joint geometry with the exact cross sections"; psjoint's ETL fit: 15.0
   * cm, 110 cm). Kept equal to the database rows: test_cli_limits compares --run 3000. */
  o->wcal_x0 = 33.6;
  o->decay_start = 13.5;
  o->decay_length = 91.0;
  o->ea_min = NAN;
  o->alpha_d = 0.1;
  o->mass_ratio = 3.0;
  o->beam = NA64_LEPTON_E;
  o->mediator = NA64_MED_VECTOR;
}

static const na64_geom_detector *find_kind(const na64_geom *g, int kind)
{
  for (int i = 0; i < g->ndetectors; ++i)
    if (g->detectors[i].kind == kind) return &g->detectors[i];
  return NULL;
}

/* the visible-mode geometry of g: WCAL depth (sum of its sections' X0) and the decay region */
static int visible_geometry(na64_sens_options *o, const na64_geom *g, int run, na64_err *err)
{
  const na64_geom_detector *w = find_kind(g, NA64_DET_WCAL), *dv = find_kind(g, NA64_DET_DECAY_VOLUME);
  if (!w || !dv || w->nsections < 1)
    return na64_err_set(err, NA64_ENOTFOUND, "run %d (setup %s) has no WCAL with sections or no decay volume", run,
                        g->setup);
  double depth = 0.0;
  for (int k = 0; k < w->nsections; ++k) depth += w->sections[k].depth_x0;
  double wcal_end = w->centre[2] + 0.5 * w->size[2], dv_start = dv->centre[2] - 0.5 * dv->size[2];
  o->wcal_x0 = depth;
  o->decay_start = dv_start - wcal_end;
  o->decay_length = dv->size[2];
  return NA64_OK;
}

int na64_sens_options_from_run(na64_sens_options *o, const char *db_path, int run, int keep_eot, int keep_mode,
                               char *summary, size_t summary_len, na64_err *err)
{
  na64_geom *g;
  NA64_CALL(na64_geom_load_path(db_path, run, &g, err));
  int st = NA64_OK;
  if (!keep_mode) o->mode = strcmp(g->mode, "visible") ? NA64_SENS_INVISIBLE : NA64_SENS_VISIBLE;
  o->energy = g->beam_energy;
  if (!keep_eot) {
    if (isfinite(g->eot) && g->eot > 0) o->eot = g->eot;
    else st = na64_err_set(err, NA64_ENOTFOUND, "run %d: no EOT recorded for setup %s; give --eot", run, g->setup);
  }
  if (st == NA64_OK && o->mode == NA64_SENS_VISIBLE) st = visible_geometry(o, g, run, err);
  if (st == NA64_OK && summary && summary_len) {
    int k = na64_num_format(summary, summary_len, "# run %d: setup %s (%s mode), %g GeV, EOT %.3g%s\n", run, g->setup,
                            o->mode == NA64_SENS_VISIBLE ? "visible" : "invisible", o->energy, o->eot,
                            keep_eot ? " (from --eot)" : "");
    if (o->mode == NA64_SENS_VISIBLE && k > 0 && (size_t)k < summary_len)
      na64_num_format(summary + k, summary_len - (size_t)k,
                      "# WCAL %.1f X0, decay region %.1f cm long starting %.1f cm behind the WCAL\n", o->wcal_x0,
                      o->decay_length, o->decay_start);
  }
  na64_geom_free(g);
  return st;
}

int na64_sens_method(const na64_sens_options *o)
{
  /* NA64_SENS_METHOD_AUTO (callers' options from before exactgrid3) resolves to the default, exact in
   * both modes since the visible x-shape comes from the windowed tungsten grids (docs/physics.md 4e) */
  return o->method == NA64_SENS_METHOD_AUTO ? NA64_XS_EXACT : o->method;
}

int na64_sens_options_check(const na64_sens_options *o, unsigned given, na64_err *err)
{
  static const struct {
    unsigned bit;
    const char *name;
    int invisible_only; /* 1: invisible mode only; 0: visible mode only */
  } by_mode[] = {
      {NA64_SENS_GIVEN_EXPECTED, "--expected", 1},     {NA64_SENS_GIVEN_ANNIHILATION, "--annihilation", 1},
      {NA64_SENS_GIVEN_Y, "--y", 1},                   {NA64_SENS_GIVEN_ECAL_MAX, "--ecal-max", 1},
      {NA64_SENS_GIVEN_ALPHA_D, "--alpha-d", 1},       {NA64_SENS_GIVEN_MASS_RATIO, "--mass-ratio", 1},
      {NA64_SENS_GIVEN_WCAL_X0, "--wcal-x0", 0},       {NA64_SENS_GIVEN_DECAY_START, "--decay-start", 0},
      {NA64_SENS_GIVEN_DECAY_LENGTH, "--decay-length", 0}, {NA64_SENS_GIVEN_EA_MIN, "--ea-min", 0},
  };
  int vis = o->mode == NA64_SENS_VISIBLE;
  for (size_t i = 0; i < sizeof by_mode / sizeof by_mode[0]; ++i)
    if ((given & by_mode[i].bit) && by_mode[i].invisible_only == vis)
      return na64_err_set(err, NA64_EINVAL, "%s applies to the %s mode only, not to the %s mode", by_mode[i].name,
                          vis ? "invisible" : "visible", vis ? "visible" : "invisible");
  if ((given & (NA64_SENS_GIVEN_ALPHA_D | NA64_SENS_GIVEN_MASS_RATIO)) && !o->y_output)
    return na64_err_set(err, NA64_EINVAL, "%s applies with --y only",
                        (given & NA64_SENS_GIVEN_ALPHA_D) ? "--alpha-d" : "--mass-ratio");
  if (o->statistic == NA64_LIMIT_FC && (given & (NA64_SENS_GIVEN_BACKGROUND_ERROR | NA64_SENS_GIVEN_SIGNAL_SYST)))
    return na64_err_set(err, NA64_EINVAL, "%s is not used by the Feldman-Cousins statistic (background known exactly)",
                        (given & NA64_SENS_GIVEN_BACKGROUND_ERROR) ? "--background-error" : "--signal-syst");
  if (o->statistic == NA64_LIMIT_FC && o->observed > NA64_FC_MAX_N)
    return na64_err_set(err, NA64_ERANGE, "--observed %d is above %d, the largest count of the Feldman-Cousins construction",
                        o->observed, NA64_FC_MAX_N);
  if (o->statistic == NA64_LIMIT_FC && o->background > NA64_FC_MAX_B)
    return na64_err_set(err, NA64_ERANGE, "--background %.17g is above %g, the largest of the Feldman-Cousins construction",
                        o->background, NA64_FC_MAX_B);
  return NA64_OK;
}

static int parse_grid(const char *spec, double **masses, int *n, na64_err *err)
{
  char *end;
  double lo = na64_num_parse(spec, &end);
  if (*end != ':') return 1; /* not a grid */
  double hi = na64_num_parse(end + 1, &end);
  if (*end != ':') return 1;
  const char *ntext = end + 1;
  long cnt = strtol(ntext, &end, 10);
  if (end == ntext || *end) return 1;
  if (!isfinite(lo) || !isfinite(hi) || !(lo > 0) || !(hi > lo) || cnt < 2 || cnt > 100000)
    return na64_err_set(err, NA64_EINVAL, "--masses '%s': need finite 0 < MIN < MAX and 2 <= N <= 100000", spec);
  *masses = malloc((size_t)cnt * sizeof **masses);
  if (!*masses) return na64_err_set(err, NA64_ENOMEM, "--masses: out of memory");
  for (long i = 0; i < cnt; ++i) (*masses)[i] = 1e-3 * lo * pow(hi / lo, (double)i / (double)(cnt - 1));
  *n = (int)cnt;
  return NA64_OK;
}

static int parse_list(const char *spec, double **masses, int *n, na64_err *err)
{
  int cap = 16, k = 0;
  double *m = malloc((size_t)cap * sizeof *m);
  if (!m) return na64_err_set(err, NA64_ENOMEM, "--masses: out of memory");
  for (const char *p = spec; *p;) {
    char *end;
    double v = na64_num_parse(p, &end);
    if (end == p || !(v > 0) || !isfinite(v) || (*end && *end != ',')) {
      free(m);
      return na64_err_set(err, NA64_EINVAL,
                          "--masses '%s': expected MIN:MAX:N or a comma list of positive finite MeV values", spec);
    }
    if (k == cap) {
      double *m2 = realloc(m, (size_t)(cap *= 2) * sizeof *m);
      if (!m2) {
        free(m);
        return na64_err_set(err, NA64_ENOMEM, "--masses: out of memory");
      }
      m = m2;
    }
    m[k++] = v * 1e-3;
    p = *end ? end + 1 : end;
  }
  if (k == 0) {
    free(m);
    return na64_err_set(err, NA64_EINVAL, "--masses: empty list");
  }
  *masses = m;
  *n = k;
  return NA64_OK;
}

int na64_sens_masses_parse(const char *spec, int mode, double **masses, int *n, na64_err *err)
{
  *masses = NULL;
  *n = 0;
  if (!spec) spec = mode == NA64_SENS_VISIBLE ? "1.1:30:60" : "1:1000:60";
  int st = parse_grid(spec, masses, n, err);
  return st == 1 ? parse_list(spec, masses, n, err) : st;
}

/* the measured efficiency of a data set (na64_sens_options eff_table) for the limit scan's eff_fn */
static double table_eff_vector(const void *t, double m, double eps)
{
  return na64_sens_eff_table_at(t, NA64_MED_VECTOR, m, eps);
}
static double table_eff_pseudoscalar(const void *t, double m, double eps)
{
  return na64_sens_eff_table_at(t, NA64_MED_PSEUDOSCALAR, m, eps);
}
static double table_eff_scalar(const void *t, double m, double eps)
{
  return na64_sens_eff_table_at(t, NA64_MED_SCALAR, m, eps);
}
static double table_eff_axial(const void *t, double m, double eps)
{
  return na64_sens_eff_table_at(t, NA64_MED_AXIAL, m, eps);
}

int na64_sens_limit_config(const na64_sens_options *o, na64_limit_config *cfg, na64_err *err)
{
  NA64_CALL(na64_limit_config_default(cfg, err));
  double E0 = o->energy;
  if (o->mode == NA64_SENS_INVISIBLE) {
    na64_material ecal;
    NA64_CALL(na64_material_get("ECAL", &ecal, err));
    double emax = isnan(o->ecal_max) ? 0.5 * E0 : o->ecal_max;
    if (!(emax < E0))
      return na64_err_set(err, NA64_EINVAL, "--ecal-max %g GeV must be below the beam energy %g GeV", emax, E0);
    na64_beamdump_init_invisible(&cfg->dump, &ecal, E0, emax);
    cfg->dump.annihilation = o->annihilation;
    if (o->beam == NA64_LEPTON_MU) { /* NA64mu: the muon crosses the ~40 X0 ECAL (active target) */
      cfg->dump.depth_X0 = 40.0;
      cfg->dump.lepton = NA64_LEPTON_MU;
      cfg->dump.mediator = o->mediator;
    }
  } else if (o->beam == NA64_LEPTON_MU) {
    return na64_err_set(err, NA64_EINVAL, "the muon beam has the invisible mode only");
  } else {
    na64_material wcal;
    NA64_CALL(na64_material_get("WCAL", &wcal, err));
    na64_beamdump_init_visible(&cfg->dump, &wcal, E0, o->wcal_x0, isnan(o->ea_min) ? 0.3 * E0 : o->ea_min,
                               o->decay_start, o->decay_length);
    if (!(cfg->dump.ea_min < E0))
      return na64_err_set(err, NA64_EINVAL, "--ea-min %g GeV must be below E0", cfg->dump.ea_min);
  }
  cfg->dump.method = (na64_xsec_method)na64_sens_method(o);
  cfg->dump.mediator = o->mediator;
  cfg->eot = o->eot;
  cfg->efficiency = o->efficiency;
  cfg->eff_mass = o->eff_mass;
  cfg->eff_value = o->eff_value;
  cfg->eff_n = o->eff_n;
  if (o->eff_table) {
    cfg->eff_fn = o->mediator == NA64_MED_PSEUDOSCALAR ? table_eff_pseudoscalar
                  : o->mediator == NA64_MED_SCALAR     ? table_eff_scalar
                  : o->mediator == NA64_MED_AXIAL      ? table_eff_axial
                                                       : table_eff_vector;
    cfg->eff_user = o->eff_table;
  }
  cfg->stats.cl = o->cl;
  cfg->stats.b = o->background;
  cfg->stats.db = o->background_error;
  cfg->stats.sig_rel = o->signal_syst;
  cfg->n_obs = o->observed;
  cfg->expected = o->expected;
  cfg->statistic = o->statistic == NA64_LIMIT_FC ? NA64_LIMIT_FC : NA64_LIMIT_CLS;
  return na64_limit_config_check(cfg, err);
}

int na64_sens_curve_compute(const na64_sens_options *o, na64_sens_curve *c, void (*progress)(int, int, void *),
                            void *user, na64_err *err)
{
  na64_limit_config cfg;
  free(c->pt);
  c->pt = NULL;
  NA64_CALL(na64_sens_limit_config(o, &cfg, err));
  if (c->n < 1 || !c->masses) return na64_err_set(err, NA64_EINVAL, "sensitivity curve without masses");
  c->pt = calloc((size_t)c->n, sizeof *c->pt);
  if (!c->pt) return na64_err_set(err, NA64_ENOMEM, "out of memory");
  /* one scan for all masses: the upper limit on the signal count (a CLs root search with nuisance
   * integrals, up to ~40 ms) is computed once, not per mass */
  cfg.progress = progress;
  cfg.progress_user = user;
  return na64_limit_scan(&cfg, c->masses, c->n, c->pt, err);
}

void na64_sens_curve_release(na64_sens_curve *c)
{
  if (!c) return;
  free(c->masses);
  free(c->pt);
  c->masses = NULL;
  c->pt = NULL;
  c->n = 0;
}

int na64_sens_curve_columns(const na64_sens_options *o, const char *const **names)
{
  static const char *const vis[] = {"mass_MeV", "eps_low", "eps_high"};
  static const char *const y[] = {"m_chi_MeV", "y"};
  static const char *const expected[] = {"mass_MeV",        "epsilon",        "eps_minus2sigma",
                                         "eps_minus1sigma", "eps_plus1sigma", "eps_plus2sigma"};
  static const char *const plain[] = {"mass_MeV", "epsilon"};
  /* the coupling of the chosen boson (issue 14): g_Zprime for L_mu - L_tau, g for the others */
  static const char *const zp[] = {"mass_MeV", "g_Zprime", "minus2sigma", "minus1sigma", "plus1sigma", "plus2sigma"};
  static const char *const gg[] = {"mass_MeV", "g", "minus2sigma", "minus1sigma", "plus1sigma", "plus2sigma"};
  if (o->mode != NA64_SENS_VISIBLE && !o->y_output && o->mediator != NA64_MED_VECTOR) {
    *names = o->mediator == NA64_MED_ZPRIME ? zp : gg;
    return o->expected ? 6 : 2;
  }
  if (o->mode == NA64_SENS_VISIBLE) {
    *names = vis;
    return 3;
  }
  if (o->y_output) {
    *names = y;
    return 2;
  }
  if (o->expected) {
    *names = expected;
    return 6;
  }
  *names = plain;
  return 2;
}

void na64_sens_curve_row(const na64_sens_options *o, const na64_sens_curve *c, int i, double *row)
{
  const na64_limit_point *p = &c->pt[i];
  double m = c->masses[i] * 1e3;
  if (o->mode == NA64_SENS_VISIBLE) {
    row[0] = m;
    row[1] = p->eps_low;
    row[2] = p->eps_high;
  } else if (o->y_output) {
    row[0] = m / o->mass_ratio;
    row[1] = na64_limit_y(p->eps, o->alpha_d, o->mass_ratio);
  } else if (o->expected) {
    const double *b = p->band;
    double r[6] = {m, p->eps, b[0], b[1], b[3], b[4]};
    memcpy(row, r, sizeof r);
  } else {
    row[0] = m;
    row[1] = p->eps;
  }
}

int na64_sens_curve_write_csv(const na64_sens_options *o, const na64_sens_curve *c, const char *path, na64_err *err)
{
  /* written beside the target and renamed over it only when complete (DESIGN.md, docs/outputs.md) */
  na64_outfile *out = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &out, err));
  FILE *f = na64_outfile_stream(out);
  const char *const *names;
  int nc = na64_sens_curve_columns(o, &names);
  for (int k = 0; k < nc; ++k) fprintf(f, "%s%s", k ? "," : "", names[k]);
  fputc('\n', f);
  for (int i = 0; i < c->n; ++i) {
    double row[NA64_SENS_MAX_COLUMNS];
    na64_sens_curve_row(o, c, i, row);
    for (int k = 0; k < nc; ++k) {
      char cell[64] = "";
      if (isfinite(row[k])) na64_num_format(cell, sizeof cell, "%.10g", row[k]);
      fprintf(f, "%s%s", k ? "," : "", cell);
    }
    fputc('\n', f);
  }
  return na64_outfile_commit(out, err);
}

/* ---- the on-disk store of exact cross sections (na64_exact_store_disk) ---- */

static char exact_store_dir[4096];

static void exact_file(const char *key, char *path, size_t len)
{
  unsigned long long h = 1469598103934665603ULL; /* FNV-1a 64 of the key */
  for (const char *c = key; *c; ++c) h = (h ^ (unsigned char)*c) * 1099511628211ULL;
  snprintf(path, len, "%s/exact-%016llx.txt", exact_store_dir, h);
}

/* file: line 1 the key, line 2 "sigma_pb abserr_pb" */
static int exact_load(void *user, const char *key, double *pb, double *abserr)
{
  (void)user;
  char path[4200], line[1024];
  exact_file(key, path, sizeof path);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int ok = fgets(line, sizeof line, f) && !strncmp(line, key, strlen(key)) && line[strlen(key)] == '\n' &&
           fscanf(f, "%lg %lg", pb, abserr) == 2;
  fclose(f);
  return ok;
}

static void exact_save(void *user, const char *key, double pb, double abserr)
{
  (void)user;
  char path[4200];
  exact_file(key, path, sizeof path);
  na64_outfile *out = NULL;
  if (na64_outfile_open(path, 0, &out, NULL) != NA64_OK) return;
  fprintf(na64_outfile_stream(out), "%s\n%.17g %.17g\n", key, pb, abserr);
  na64_outfile_commit(out, NULL); /* a failed write only loses the shortcut */
}

/* mkdir -p: every missing component of dir */
static int make_dirs(const char *dir, na64_err *err)
{
  char p[4096];
  snprintf(p, sizeof p, "%s", dir);
  for (char *c = p + 1;; ++c) {
    if (*c != '/' && *c) continue;
    char save = *c;
    *c = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
      return na64_err_set(err, NA64_EIO, "%s: cannot create the cache directory: %s", p, strerror(errno));
    *c = save;
    if (!save) break;
  }
  struct stat sb;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return na64_err_set(err, NA64_EIO, "%s: not a directory (cache directory)", dir);
  return NA64_OK;
}

int na64_exact_store_disk(const char *dir, na64_err *err)
{
  char buf[4096];
  const char *env = getenv("NA64_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (!dir && env && *env) dir = env;
  if (!dir && xdg && *xdg) dir = (snprintf(buf, sizeof buf, "%s/na64", xdg), buf);
  if (!dir && home && *home) dir = (snprintf(buf, sizeof buf, "%s/.cache/na64", home), buf);
  if (!dir) return na64_err_set(err, NA64_EINVAL, "no cache directory: set NA64_CACHE_DIR or HOME");
  if (strlen(dir) >= sizeof exact_store_dir - 64)
    return na64_err_set(err, NA64_EINVAL, "cache directory name too long: %.80s...", dir);
  NA64_CALL(make_dirs(dir, err));
  snprintf(exact_store_dir, sizeof exact_store_dir, "%s", dir);
  na64_exact_store s = {exact_load, exact_save, NULL};
  na64_exact_store_set(&s);
  return NA64_OK;
}
