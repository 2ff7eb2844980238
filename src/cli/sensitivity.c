/* The sensitivity computation and its outputs, shared by `na64 limits` and the report of `na64 run`. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/sensitivity.h"
#include "na64/geom.h"
#include "na64/io.h"

/* The physics module keeps the published curves only to draw them (grid parser of the embedded data). */
#include "physics/internal.h"

void sens_options_default(sens_options *o)
{
  memset(o, 0, sizeof *o);
  o->mode = SENS_INVISIBLE;
  o->energy = 100.0;
  o->eot = NAN;
  o->efficiency = 1.0;
  o->cl = 0.90;
  o->method = NA64_XS_ETL;
  o->format = FMT_TABLE;
  o->ecal_max = NAN;
  /* visible-mode geometry: the 2017 estimates of the conditions database (sql/setups/20_visible_2017.sql):
   * WCAL 35 x (3 mm W + 2 mm Sc) = 30 X0; decay volume 300 cm starting 7.5 cm behind the WCAL */
  o->wcal_x0 = 30.0;
  o->decay_start = 7.5;
  o->decay_length = 300.0;
  o->ea_min = NAN;
  o->alpha_d = 0.1;
  o->mass_ratio = 3.0;
}

static const na64_geom_detector *find_kind(const na64_geom *g, int kind)
{
  for (int i = 0; i < g->ndetectors; ++i)
    if (g->detectors[i].kind == kind) return &g->detectors[i];
  return NULL;
}

int sens_apply_run(sens_options *o, int eot_given, int mode_given, FILE *log, na64_err *err)
{
  na64_geom *g;
  NA64_CALL(na64_geom_load_path(o->db, (int)o->run, &g, err));
  int st = NA64_OK;
  if (!mode_given) o->mode = strcmp(g->mode, "visible") ? SENS_INVISIBLE : SENS_VISIBLE;
  o->energy = g->beam_energy;
  if (!eot_given) {
    if (isfinite(g->eot) && g->eot > 0) o->eot = g->eot;
    else st = na64_err_set(err, NA64_ENOTFOUND, "run %ld: no EOT recorded for setup %s; give --eot", o->run, g->setup);
  }
  if (st == NA64_OK && o->mode == SENS_VISIBLE) {
    const na64_geom_detector *w = find_kind(g, NA64_DET_WCAL), *dv = find_kind(g, NA64_DET_DECAY_VOLUME);
    if (!w || !dv || w->nsections < 1) {
      st = na64_err_set(err, NA64_ENOTFOUND, "run %ld (setup %s) has no WCAL with sections or no decay volume", o->run,
                        g->setup);
    } else {
      double depth = 0.0;
      for (int k = 0; k < w->nsections; ++k) depth += w->sections[k].depth_x0;
      double wcal_end = w->centre[2] + 0.5 * w->size[2], dv_start = dv->centre[2] - 0.5 * dv->size[2];
      o->wcal_x0 = depth;
      o->decay_start = dv_start - wcal_end;
      o->decay_length = dv->size[2];
    }
  }
  if (st == NA64_OK && log)
    fprintf(log, "# run %ld: setup %s (%s mode), %g GeV, EOT %.3g%s\n", o->run, g->setup,
            o->mode == SENS_VISIBLE ? "visible" : "invisible", o->energy, o->eot, eot_given ? " (from --eot)" : "");
  if (st == NA64_OK && log && o->mode == SENS_VISIBLE)
    fprintf(log, "# WCAL %.1f X0, decay region %.1f cm long starting %.1f cm behind the WCAL\n", o->wcal_x0,
            o->decay_length, o->decay_start);
  na64_geom_free(g);
  return st;
}

int sens_parse_masses(const sens_options *o, double **masses, int *n, na64_err *err)
{
  const char *spec = o->masses ? o->masses : (o->mode == SENS_VISIBLE ? "1.1:30:60" : "1:1000:60");
  double lo, hi;
  int cnt;
  char tail;
  if (sscanf(spec, "%lf:%lf:%d%c", &lo, &hi, &cnt, &tail) == 3) {
    if (!(lo > 0) || !(hi > lo) || cnt < 2 || cnt > 100000)
      return na64_err_set(err, NA64_EINVAL, "--masses '%s': need 0 < MIN < MAX and 2 <= N <= 100000", spec);
    *masses = malloc((size_t)cnt * sizeof **masses);
    for (int i = 0; i < cnt; ++i) (*masses)[i] = 1e-3 * lo * pow(hi / lo, (double)i / (cnt - 1));
    *n = cnt;
    return NA64_OK;
  }
  /* comma-separated list */
  int cap = 16, k = 0;
  double *m = malloc((size_t)cap * sizeof *m);
  const char *p = spec;
  while (*p) {
    char *end;
    double v = strtod(p, &end);
    if (end == p || !(v > 0) || !isfinite(v) || (*end && *end != ',')) {
      free(m);
      return na64_err_set(err, NA64_EINVAL, "--masses '%s': expected MIN:MAX:N or a comma list of positive MeV values",
                          spec);
    }
    if (k == cap) m = realloc(m, (size_t)(cap *= 2) * sizeof *m);
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

int sens_config(const sens_options *o, na64_limit_config *cfg, na64_err *err)
{
  NA64_CALL(na64_limit_config_init(cfg, err));
  double E0 = o->energy;
  if (o->mode == SENS_INVISIBLE) {
    na64_material ecal;
    NA64_CALL(na64_material_get("ECAL", &ecal, err));
    double emax = isnan(o->ecal_max) ? 0.5 * E0 : o->ecal_max;
    if (!(emax < E0)) return na64_err_set(err, NA64_EINVAL, "--ecal-max %g GeV must be below the beam energy %g GeV", emax, E0);
    na64_dump_init_invisible(&cfg->dump, &ecal, E0, emax);
    cfg->dump.annihilation = o->annihilation;
  } else {
    na64_material wcal;
    NA64_CALL(na64_material_get("WCAL", &wcal, err));
    na64_dump_init_visible(&cfg->dump, &wcal, E0, o->wcal_x0, isnan(o->ea_min) ? 0.3 * E0 : o->ea_min,
                           o->decay_start, o->decay_length);
    if (!(cfg->dump.ea_min < E0)) return na64_err_set(err, NA64_EINVAL, "--ea-min %g GeV must be below E0", cfg->dump.ea_min);
  }
  cfg->dump.method = (na64_xsec_method)o->method;
  cfg->eot = o->eot;
  cfg->efficiency = o->efficiency;
  cfg->stats.cl = o->cl;
  cfg->stats.b = o->background;
  cfg->stats.db = o->background_error;
  cfg->stats.sig_rel = o->signal_syst;
  cfg->n_obs = (int)o->observed;
  cfg->expected = o->expected;
  cfg->statistic = o->statistic == 1 ? NA64_LIMIT_FC : NA64_LIMIT_CLS;
  return na64_limit_config_check(cfg, err);
}

static void report_progress(int done, int total, void *user)
{
  (void)total;
  cli_progress_update(user, done);
}

int sens_compute(const sens_options *o, sens_curve *c, int show_progress, na64_err *err)
{
  na64_limit_config cfg;
  c->pt = NULL;
  NA64_CALL(sens_config(o, &cfg, err));
  c->pt = calloc((size_t)c->n, sizeof *c->pt);
  if (!c->pt) return na64_err_set(err, NA64_ENOMEM, "out of memory");
  /* one scan for all masses: the upper limit on the signal count (a CLs root search with nuisance
   * integrals, up to ~40 ms) is computed once, not per mass */
  cli_progress prog;
  if (show_progress) {
    cli_progress_start(&prog, "masses", c->n);
    cfg.progress = report_progress;
    cfg.progress_user = &prog;
  }
  NA64_CALL(na64_limit_scan(&cfg, c->masses, c->n, c->pt, err));
  if (show_progress) cli_progress_finish(&prog, c->n);
  return NA64_OK;
}

void sens_curve_release(sens_curve *c)
{
  free(c->masses);
  free(c->pt);
  c->masses = NULL;
  c->pt = NULL;
}

/* the table of a curve in the documented CSV layout */
static cli_table *curve_table(const sens_options *o, const sens_curve *c)
{
  cli_table *t;
  if (o->mode == SENS_VISIBLE) {
    const char *names[] = {"mass_MeV", "eps_low", "eps_high"};
    t = cli_table_new(3, names);
    for (int i = 0; i < c->n; ++i) {
      double row[3] = {c->masses[i] * 1e3, c->pt[i].eps_low, c->pt[i].eps_high};
      cli_table_add_row(t, row);
    }
  } else if (o->y_output) {
    const char *names[] = {"m_chi_MeV", "y"};
    t = cli_table_new(2, names);
    for (int i = 0; i < c->n; ++i) {
      double row[2] = {c->masses[i] * 1e3 / o->mass_ratio, na64_limit_y(c->pt[i].eps, o->alpha_d, o->mass_ratio)};
      cli_table_add_row(t, row);
    }
  } else if (o->expected) {
    const char *names[] = {"mass_MeV", "epsilon", "eps_minus2sigma", "eps_minus1sigma", "eps_plus1sigma",
                           "eps_plus2sigma"};
    t = cli_table_new(6, names);
    for (int i = 0; i < c->n; ++i) {
      const double *b = c->pt[i].band;
      double row[6] = {c->masses[i] * 1e3, c->pt[i].eps, b[0], b[1], b[3], b[4]};
      cli_table_add_row(t, row);
    }
  } else {
    const char *names[] = {"mass_MeV", "epsilon"};
    t = cli_table_new(2, names);
    for (int i = 0; i < c->n; ++i) {
      double row[2] = {c->masses[i] * 1e3, c->pt[i].eps};
      cli_table_add_row(t, row);
    }
  }
  return t;
}

void sens_print(const sens_options *o, const sens_curve *c, FILE *out)
{
  cli_table *t = curve_table(o, c);
  cli_table_print(t, (cli_format)o->format, out);
  cli_table_free(t);
}

int sens_print_csv_file(const sens_options *o, const sens_curve *c, const char *path, na64_err *err)
{
  FILE *f = fopen(path, "w");
  if (!f) return na64_err_set(err, NA64_EIO, "cannot write '%s': %s", path, strerror(errno));
  cli_table *t = curve_table(o, c);
  cli_table_print(t, FMT_CSV, f);
  cli_table_free(t);
  if (fclose(f) != 0) return na64_err_set(err, NA64_EIO, "error writing '%s'", path);
  return NA64_OK;
}

/* published curves, embedded from data/ (drawn for comparison, never used in a calculation) */
static const struct {
  int mode;
  const char *file, *file_upper, *label;
  int colour;
} published[] = {
    {SENS_INVISIBLE, "published_invisible_PRL118_2017_2p75e9.csv", NULL, "NA64 PRL 118 (2017), 2.75e9 EOT", 8},
    {SENS_INVISIBLE, "published_invisible_PRD97_2018_4p3e10.csv", NULL, "NA64 PRD 97 (2018), 4.3e10 EOT", 6},
    {SENS_INVISIBLE, "published_invisible_PRL123_2019_2p84e11.csv", NULL, "NA64 PRL 123 (2019), 2.84e11 EOT", 4},
    {SENS_VISIBLE, "published_visible_PRL120_2018_5p4e10_lower.csv", "published_visible_PRL120_2018_5p4e10_upper.csv",
     "NA64 PRL 120 (2018), 5.4e10 EOT", 4},
};

static int load_published(const char *name, na64_grid1 *g, na64_err *err)
{
  size_t len;
  const char *text = na64_embedded_find(name, &len);
  if (!text) return na64_err_set(err, NA64_ENOTFOUND, "embedded table %s missing", name);
  return na64_grid1_parse(text, len, name, g, err);
}

int sens_plot_published(void *plot, int mode, na64_err *err)
{
  na64_plot *p = plot;
  for (size_t i = 0; i < sizeof published / sizeof published[0]; ++i) {
    if (published[i].mode != mode) continue;
    na64_grid1 lo, hi;
    NA64_CALL(load_published(published[i].file, &lo, err));
    int st;
    if (!published[i].file_upper) {
      st = na64_plot_curve(p, published[i].label, lo.x, lo.f, lo.n, published[i].colour, 1, err);
    } else {
      st = load_published(published[i].file_upper, &hi, err);
      if (st == NA64_OK && hi.n == lo.n) {
        /* the two edges close the published band: draw them as one dashed outline */
        int n = 2 * lo.n + 1;
        double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
        for (int k = 0; k < lo.n; ++k) {
          x[k] = lo.x[k];
          y[k] = lo.f[k];
          x[lo.n + k] = hi.x[hi.n - 1 - k];
          y[lo.n + k] = hi.f[hi.n - 1 - k];
        }
        x[n - 1] = lo.x[0];
        y[n - 1] = lo.f[0];
        st = na64_plot_curve(p, published[i].label, x, y, n, published[i].colour, 1, err);
        free(x);
        free(y);
      }
      if (st == NA64_OK) na64_grid1_release(&hi);
    }
    na64_grid1_release(&lo);
    NA64_CALL(st);
  }
  return NA64_OK;
}

/* eot = mant x 10^ex; returns 1 when the mantissa is 1 (a plain power of ten) */
static int split_pow10(double eot, double *mant, int *ex)
{
  *ex = (int)floor(log10(eot));
  *mant = eot / pow(10, *ex);
  return fabs(*mant - 1.0) < 1e-9;
}

/* plot legend: "na64: 5.4×10^10 EOT, 100 GeV" in PLplot's superscript escapes */
static void eot_label(char *buf, size_t n, double eot, double E0)
{
  double mant;
  int ex;
  if (split_pow10(eot, &mant, &ex)) snprintf(buf, n, "na64: 10#u%d#d EOT, %g GeV", ex, E0);
  else snprintf(buf, n, "na64: %.3g×10#u%d#d EOT, %g GeV", mant, ex, E0);
}

int sens_plot_single(const sens_options *o, const sens_curve *c, const char *path, na64_err *err)
{
  na64_plot *p;
  int vis = o->mode == SENS_VISIBLE;
  double xmin = c->masses[0] * 1e3, xmax = c->masses[c->n - 1] * 1e3;
  if (!(xmax > xmin)) xmax = xmin * 10;
  NA64_CALL(na64_plot_new(vis ? "NA64 visible mode: A' -> e+e- (90% CL)" : "NA64 invisible mode (90% CL)",
                          "m#dA'#u [MeV]", "#ge", 1, 1, xmin, xmax, vis ? 1e-5 : 1e-6, vis ? 1e-1 : 1e-1, &p, err));
  char label[128];
  eot_label(label, sizeof label, o->eot, o->energy);
  double *x = malloc((size_t)c->n * sizeof *x), *y = malloc((size_t)c->n * sizeof *y),
         *y2 = malloc((size_t)c->n * sizeof *y2);
  for (int i = 0; i < c->n; ++i) x[i] = c->masses[i] * 1e3;
  int st;
  if (vis) {
    for (int i = 0; i < c->n; ++i) {
      y[i] = c->pt[i].eps_low;
      y2[i] = c->pt[i].eps_high;
    }
    st = na64_plot_band(p, label, x, y, y2, c->n, 5, err);
  } else {
    if (o->expected) {
      for (int i = 0; i < c->n; ++i) {
        y[i] = c->pt[i].band[0];
        y2[i] = c->pt[i].band[4];
      }
      na64_plot_band(p, "expected ±2σ", x, y, y2, c->n, 7, err);
      for (int i = 0; i < c->n; ++i) {
        y[i] = c->pt[i].band[1];
        y2[i] = c->pt[i].band[3];
      }
      na64_plot_band(p, "expected ±1σ", x, y, y2, c->n, 3, err);
    }
    for (int i = 0; i < c->n; ++i) y[i] = c->pt[i].eps;
    st = na64_plot_curve(p, label, x, y, c->n, 5, 0, err);
  }
  if (st == NA64_OK) st = sens_plot_published(p, o->mode, err);
  if (st == NA64_OK) st = na64_plot_write(p, path, err);
  free(x);
  free(y);
  free(y2);
  na64_plot_free(p);
  return st;
}

int sens_write_hepdata(const sens_options *o, const sens_curve *c, const char *path, na64_err *err)
{
  double *m = malloc((size_t)c->n * sizeof *m), *a = malloc((size_t)c->n * sizeof *a),
         *b = malloc((size_t)c->n * sizeof *b);
  for (int i = 0; i < c->n; ++i) {
    m[i] = c->masses[i] * 1e3;
    a[i] = o->mode == SENS_VISIBLE ? c->pt[i].eps_low : c->pt[i].eps;
    b[i] = c->pt[i].eps_high;
  }
  char eot[32], energy[32], cl[32], eff[32];
  snprintf(eot, sizeof eot, "%.3g", o->eot);
  snprintf(energy, sizeof energy, "%g GeV", o->energy);
  snprintf(cl, sizeof cl, "%g%%", 100 * o->cl);
  snprintf(eff, sizeof eff, "%g", o->efficiency);
  na64_hepdata_qualifier q[] = {{"Reaction", "e- N --> e- N A'"},
                                {"Mode", o->mode == SENS_VISIBLE ? "visible, A' --> e+ e-" : "invisible"},
                                {"Beam energy", energy},
                                {"Electrons on target", eot},
                                {"CL", cl},
                                {"Signal efficiency", eff},
                                {"Limit", o->expected ? "expected (median)" : "observed"},
                                {"Statistic", o->statistic == 1 ? "Feldman-Cousins" : "CLs"}};
  na64_hepdata_var indep = {"$m_{A'}$", "MeV", m};
  na64_hepdata_var dep[2] = {{o->mode == SENS_VISIBLE ? "$\\epsilon$ lower edge of the excluded region" : "$\\epsilon$ upper limit", "", a},
                             {"$\\epsilon$ upper edge of the excluded region", "", b}};
  int st = na64_hepdata_write(path, &indep, dep, o->mode == SENS_VISIBLE ? 2 : 1, c->n, q, (int)(sizeof q / sizeof q[0]), err);
  free(m);
  free(a);
  free(b);
  return st;
}

/* ---------------- the sensitivity report of `na64 run` ---------------- */

/* "1e9", "5.4e10": compact EOT for file names */
static void eot_tag(char *buf, size_t n, double eot)
{
  double mant;
  int ex;
  if (split_pow10(eot, &mant, &ex)) snprintf(buf, n, "1e%d", ex);
  else snprintf(buf, n, "%.3ge%d", mant, ex);
}

static int write_curve_files(const sens_options *o, const sens_curve *c, const char *dir, const char *stem,
                             na64_err *err)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.csv", dir, stem);
  NA64_CALL(sens_print_csv_file(o, c, path, err));
  snprintf(path, sizeof path, "%s/%s.yaml", dir, stem);
  return sens_write_hepdata(o, c, path, err);
}

static int write_plot_formats(const na64_plot *p, const char *dir, const char *stem, na64_err *err)
{
  static const char *ext[] = {"png", "pdf", "svg"};
  char path[4096];
  for (int i = 0; i < 3; ++i) {
    snprintf(path, sizeof path, "%s/%s.%s", dir, stem, ext[i]);
    NA64_CALL(na64_plot_write(p, path, err));
  }
  return NA64_OK;
}

static const double report_eot[] = {1e9, 1e10, 1e11, 1e12, 1e13};
enum { N_REPORT_EOT = sizeof report_eot / sizeof report_eot[0] };

/* The invisible signal is EOT x yield_eps1 x eps^2 with a yield that does not depend on EOT, and s_up
 * does not either: the curve for another EOT follows from the points of one scan without new yields. */
static int rescale_invisible(const sens_curve *from, double eot, sens_curve *to, na64_err *err)
{
  to->pt = malloc((size_t)from->n * sizeof *to->pt);
  if (!to->pt) return na64_err_set(err, NA64_ENOMEM, "out of memory");
  for (int i = 0; i < from->n; ++i) {
    to->pt[i] = from->pt[i];
    double k1 = eot * from->pt[i].yield_eps1;
    to->pt[i].eps = k1 > 0.0 ? sqrt(from->pt[i].s_up / k1) : NAN;
  }
  return NA64_OK;
}

/* Invisible mode at one beam energy: one curve per EOT (as the NA64 proposal's figures 5 and 6),
 * the published curves for comparison, and the dark-matter y plot at 100 GeV. */
static int report_invisible(const sens_options *base, double E0, const char *dir, FILE *log, na64_err *err)
{
  sens_curve c[N_REPORT_EOT];
  memset(c, 0, sizeof c);
  sens_options o = *base;
  o.mode = SENS_INVISIBLE;
  o.energy = E0;
  o.masses = "1:1000:60";
  int st = NA64_OK;
  for (int k = 0; k < N_REPORT_EOT && st == NA64_OK; ++k) {
    o.eot = report_eot[k];
    st = sens_parse_masses(&o, &c[k].masses, &c[k].n, err);
    if (st == NA64_OK && k == 0) st = sens_compute(&o, &c[k], 0, err);
    if (st == NA64_OK && k > 0) st = rescale_invisible(&c[0], report_eot[k], &c[k], err);
    char stem[128], tag[32];
    eot_tag(tag, sizeof tag, report_eot[k]);
    snprintf(stem, sizeof stem, "invisible_%gGeV_%sEOT", E0, tag);
    if (st == NA64_OK) st = write_curve_files(&o, &c[k], dir, stem, err);
  }
  na64_plot *p = NULL, *py = NULL;
  char title[128];
  snprintf(title, sizeof title, "NA64 invisible mode, %g GeV e#u-#d, 90%% CL expected (eff = %g)", E0, o.efficiency);
  if (st == NA64_OK) st = na64_plot_new(title, "m#dA'#u [MeV]", "#ge", 1, 1, 1, 1000, 1e-7, 1e-1, &p, err);
  if (st == NA64_OK && E0 == 100.0) {
    snprintf(title, sizeof title, "Dark matter, %g GeV: #ga#dD#u = %g, m#dA'#u = %g m#d#gx#u", E0, o.alpha_d, o.mass_ratio);
    st = na64_plot_new(title, "m#d#gx#u [MeV]", "y = #ge#u2#d#ga#dD#u (m#d#gx#u/m#dA'#u)#u4#d", 1, 1,
                       1.0 / o.mass_ratio, 1000.0 / o.mass_ratio, 1e-17, 1e-5, &py, err);
  }
  for (int k = 0; k < N_REPORT_EOT && st == NA64_OK; ++k) {
    double x[1000], y[1000], xc[1000], yy[1000];
    for (int i = 0; i < c[k].n && i < 1000; ++i) {
      x[i] = c[k].masses[i] * 1e3;
      y[i] = c[k].pt[i].eps;
      xc[i] = x[i] / o.mass_ratio;
      yy[i] = na64_limit_y(y[i], o.alpha_d, o.mass_ratio);
    }
    char label[64];
    snprintf(label, sizeof label, "10#u%d#d EOT", (int)lround(log10(report_eot[k])));
    st = na64_plot_curve(p, label, x, y, c[k].n, 1 + k, 0, err);
    if (st == NA64_OK && py) st = na64_plot_curve(py, label, xc, yy, c[k].n, 1 + k, 0, err);
  }
  if (st == NA64_OK && E0 == 100.0) st = sens_plot_published(p, SENS_INVISIBLE, err);
  char stem[64];
  snprintf(stem, sizeof stem, "invisible_%gGeV", E0);
  if (st == NA64_OK) st = write_plot_formats(p, dir, stem, err);
  if (st == NA64_OK && py) st = write_plot_formats(py, dir, "dark_matter_y_100GeV", err);
  if (st == NA64_OK) {
    fprintf(log, "  invisible, %5.0f GeV: eps at 16.7 MeV for 1e9..1e13 EOT:", E0);
    for (int k = 0; k < N_REPORT_EOT; ++k) {
      int best = 0;
      for (int i = 0; i < c[k].n; ++i)
        if (fabs(c[k].masses[i] - 0.0167) < fabs(c[k].masses[best] - 0.0167)) best = i;
      fprintf(log, " %.2e", c[k].pt[best].eps);
    }
    fprintf(log, "\n");
  }
  na64_plot_free(p);
  na64_plot_free(py);
  for (int k = 0; k < N_REPORT_EOT; ++k) sens_curve_release(&c[k]);
  return st;
}

static int report_visible(const sens_options *base, const char *dir, FILE *log, na64_err *err)
{
  static const double vis_eot[] = {5.4e10, 1e12};
  sens_curve c[2];
  memset(c, 0, sizeof c);
  sens_options o = *base;
  o.mode = SENS_VISIBLE;
  o.energy = 100.0;
  o.masses = "1.1:30:60";
  int st = NA64_OK;
  for (int k = 0; k < 2 && st == NA64_OK; ++k) {
    o.eot = vis_eot[k];
    st = sens_parse_masses(&o, &c[k].masses, &c[k].n, err);
    if (st == NA64_OK) st = sens_compute(&o, &c[k], 0, err);
    char stem[128], tag[32];
    eot_tag(tag, sizeof tag, vis_eot[k]);
    snprintf(stem, sizeof stem, "visible_100GeV_%sEOT", tag);
    if (st == NA64_OK) st = write_curve_files(&o, &c[k], dir, stem, err);
  }
  na64_plot *p = NULL;
  if (st == NA64_OK)
    st = na64_plot_new("NA64 visible mode, A' → e#u+#de#u-#d, 100 GeV, 90% CL expected", "m#dA'#u [MeV]", "#ge",
                       1, 1, 1, 30, 1e-5, 1e-1, &p, err);
  for (int k = 1; k >= 0 && st == NA64_OK; --k) {
    double x[1000], lo[1000], hi[1000];
    for (int i = 0; i < c[k].n && i < 1000; ++i) {
      x[i] = c[k].masses[i] * 1e3;
      lo[i] = c[k].pt[i].eps_low;
      hi[i] = c[k].pt[i].eps_high;
    }
    char label[64];
    eot_label(label, sizeof label, vis_eot[k], 100.0);
    st = na64_plot_band(p, label, x, lo, hi, c[k].n, k ? 2 : 5, err);
  }
  if (st == NA64_OK) st = sens_plot_published(p, SENS_VISIBLE, err);
  if (st == NA64_OK) st = write_plot_formats(p, dir, "visible_100GeV", err);
  if (st == NA64_OK) {
    int best = 0;
    for (int i = 0; i < c[0].n; ++i)
      if (fabs(c[0].masses[i] - 0.0167) < fabs(c[0].masses[best] - 0.0167)) best = i;
    fprintf(log, "  visible,   100 GeV, 5.4e10 EOT: excluded at %.1f MeV: %.2e < eps < %.2e\n", c[0].masses[best] * 1e3,
            c[0].pt[best].eps_low, c[0].pt[best].eps_high);
  }
  na64_plot_free(p);
  for (int k = 0; k < 2; ++k) sens_curve_release(&c[k]);
  return st;
}

int sens_report(const sens_options *base, const char *dir, FILE *log, na64_err *err)
{
  NA64_CALL(report_invisible(base, 100.0, dir, log, err));
  NA64_CALL(report_invisible(base, 30.0, dir, log, err));
  return report_visible(base, dir, log, err);
}
