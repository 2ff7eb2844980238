/* Outputs of sensitivity curves (include/na64/ana.h): plot, HEPData table, and the sensitivity
 * report of `na64 run` (expected limits for 1e9..1e13 EOT, the dark-matter y plot, the visible
 * island), written with the io module. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/io.h"

/* the published NA64 curves of a mode (na64_published_get) on a plot, for comparison */
static int plot_published(na64_plot *p, int mode, na64_err *err)
{
  static const int colour[] = {8, 6, 4, 4};
  for (int i = 0; i < na64_published_count(); ++i) {
    na64_published_curve c;
    NA64_CALL(na64_published_get(i, &c, err));
    int st = NA64_OK, col = colour[i % 4];
    if (c.visible != (mode == NA64_SENS_VISIBLE)) {
      /* another mode */
    } else if (!c.n_upper) {
      st = na64_plot_curve(p, c.label, c.mass_MeV, c.eps, c.n, col, 1, err);
    } else {
      /* the two edges close the published band: draw them as one dashed outline */
      int n = c.n + c.n_upper + 1;
      double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
      if (!x || !y) {
        st = na64_err_set(err, NA64_ENOMEM, "out of memory");
      } else {
        for (int k = 0; k < c.n; ++k) {
          x[k] = c.mass_MeV[k];
          y[k] = c.eps[k];
        }
        for (int k = 0; k < c.n_upper; ++k) {
          x[c.n + k] = c.mass_upper_MeV[c.n_upper - 1 - k];
          y[c.n + k] = c.eps_upper[c.n_upper - 1 - k];
        }
        x[n - 1] = c.mass_MeV[0];
        y[n - 1] = c.eps[0];
        st = na64_plot_curve(p, c.label, x, y, n, col, 1, err);
      }
      free(x);
      free(y);
    }
    na64_published_release(&c);
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
  if (split_pow10(eot, &mant, &ex)) na64_num_format(buf, n, "na64: 10#u%d#d EOT, %g GeV", ex, E0);
  else na64_num_format(buf, n, "na64: %.3g×10#u%d#d EOT, %g GeV", mant, ex, E0);
}

static int plot_invisible_curve(na64_plot *p, const na64_sens_options *o, const na64_sens_curve *c, const char *label,
                                double *x, double *y, double *y2, na64_err *err)
{
  if (o->expected) {
    for (int i = 0; i < c->n; ++i) {
      y[i] = c->pt[i].band[0];
      y2[i] = c->pt[i].band[4];
    }
    NA64_CALL(na64_plot_band(p, "expected ±2σ", x, y, y2, c->n, 7, err));
    for (int i = 0; i < c->n; ++i) {
      y[i] = c->pt[i].band[1];
      y2[i] = c->pt[i].band[3];
    }
    NA64_CALL(na64_plot_band(p, "expected ±1σ", x, y, y2, c->n, 3, err));
  }
  for (int i = 0; i < c->n; ++i) y[i] = c->pt[i].eps;
  return na64_plot_curve(p, label, x, y, c->n, 5, 0, err);
}

int na64_sens_curve_plot(const na64_sens_options *o, const na64_sens_curve *c, const char *path, na64_err *err)
{
  if (c->n < 1) return na64_err_set(err, NA64_EINVAL, "plot %s: empty curve", path);
  na64_plot *p;
  int vis = o->mode == NA64_SENS_VISIBLE;
  double xmin = c->masses[0] * 1e3, xmax = c->masses[c->n - 1] * 1e3;
  if (!(xmax > xmin)) xmax = xmin * 10;
  int mu = o->beam == NA64_LEPTON_MU; /* issue 14: the muon beam, limit on the boson's coupling */
  int ps = vis && o->mediator != NA64_MED_VECTOR; /* issue 12: the X17 scalar, pseudoscalar or axial, g = eps e */
  char vtitle[96];
  snprintf(vtitle, sizeof vtitle, "NA64 visible mode: %s X -> e+e-, g = #ge e (90%% CL)",
           na64_mediator_name((na64_mediator)o->mediator));
  NA64_CALL(na64_plot_new(o->mediator == NA64_MED_PSEUDOSCALAR && vis ? "NA64 visible mode: pseudoscalar a -> e+e-, g = #ge e (90% CL)"
                          : ps ? vtitle
                          : vis ? "NA64 visible mode: A' -> e+e- (90% CL)"
                              : (mu ? "NA64 muon beam, invisible mode (90% CL)" : "NA64 invisible mode (90% CL)"),
                          (mu || (!vis && o->mediator != NA64_MED_VECTOR)) ? "m#dX#u [MeV]" : "m#dA'#u [MeV]", (o->mediator == NA64_MED_VECTOR || ps) ? "#ge" : "g", 1, 1,
                          xmin, xmax, vis ? 1e-5 : 1e-6, 1e-1, &p, err));
  char label[128];
  eot_label(label, sizeof label, o->eot, o->energy);
  if (mu) { /* "EOT" -> "MOT" */
    char *e = strstr(label, "EOT");
    if (e) e[0] = 'M';
  }
  double *x = malloc((size_t)c->n * sizeof *x), *y = malloc((size_t)c->n * sizeof *y),
         *y2 = malloc((size_t)c->n * sizeof *y2);
  int st = NA64_OK;
  if (!x || !y || !y2) st = na64_err_set(err, NA64_ENOMEM, "out of memory");
  if (st == NA64_OK) {
    for (int i = 0; i < c->n; ++i) x[i] = c->masses[i] * 1e3;
    if (vis) {
      for (int i = 0; i < c->n; ++i) {
        y[i] = c->pt[i].eps_low;
        y2[i] = c->pt[i].eps_high;
      }
      st = na64_plot_band(p, label, x, y, y2, c->n, 5, err);
    } else {
      st = plot_invisible_curve(p, o, c, label, x, y, y2, err);
    }
  }
  /* the published curves are electron-beam A' limits: not drawn with a muon-beam curve */
  if (st == NA64_OK && !mu) st = plot_published(p, o->mode, err);
  if (st == NA64_OK) st = na64_plot_write(p, path, err);
  free(x);
  free(y);
  free(y2);
  na64_plot_free(p);
  return st;
}

int na64_sens_curve_write_hepdata(const na64_sens_options *o, const na64_sens_curve *c, const char *path,
                                  na64_err *err)
{
  double *m = malloc((size_t)c->n * sizeof *m), *a = malloc((size_t)c->n * sizeof *a),
         *b = malloc((size_t)c->n * sizeof *b);
  int st = NA64_OK;
  if (!m || !a || !b) st = na64_err_set(err, NA64_ENOMEM, "out of memory");
  for (int i = 0; st == NA64_OK && i < c->n; ++i) {
    m[i] = c->masses[i] * 1e3;
    a[i] = o->mode == NA64_SENS_VISIBLE ? c->pt[i].eps_low : c->pt[i].eps;
    b[i] = c->pt[i].eps_high;
  }
  char eot[32], energy[32], cl[32], eff[32];
  na64_num_format(eot, sizeof eot, "%.3g", o->eot);
  na64_num_format(energy, sizeof energy, "%g GeV", o->energy);
  na64_num_format(cl, sizeof cl, "%g%%", 100 * o->cl);
  na64_num_format(eff, sizeof eff, "%g", o->efficiency);
  if (o->eff_n > 0) snprintf(eff, sizeof eff, "per mass (efficiency.csv)");
  char reaction[64];
  int mu = o->beam == NA64_LEPTON_MU;
  if (mu) snprintf(reaction, sizeof reaction, "mu- N --> mu- N X (%s)", na64_mediator_name((na64_mediator)o->mediator));
  else if (o->mediator == NA64_MED_PSEUDOSCALAR && o->mode == NA64_SENS_VISIBLE)
    snprintf(reaction, sizeof reaction, "e- N --> e- N a (pseudoscalar, g = eps e)");
  else if (o->mediator != NA64_MED_VECTOR && o->mode == NA64_SENS_VISIBLE) /* visscal */
    snprintf(reaction, sizeof reaction, "e- N --> e- N X (%s, g = eps e)", na64_mediator_name((na64_mediator)o->mediator));
  else if (o->mediator != NA64_MED_VECTOR) /* issue 14: invisible, limit on g */
    snprintf(reaction, sizeof reaction, "e- N --> e- N X (%s)", na64_mediator_name((na64_mediator)o->mediator));
  else snprintf(reaction, sizeof reaction, "e- N --> e- N A'");
  na64_hepdata_qualifier q[] = {{"Reaction", reaction},
                                {"Mode", o->mode == NA64_SENS_VISIBLE ? (o->mediator == NA64_MED_PSEUDOSCALAR ? "visible, a --> e+ e-" : o->mediator != NA64_MED_VECTOR ? "visible, X --> e+ e-" : "visible, A' --> e+ e-") : "invisible"},
                                {"Beam energy", energy},
                                {mu ? "Muons on target" : "Electrons on target", eot},
                                {"CL", cl},
                                {"Signal efficiency", eff},
                                {"Limit", o->expected ? "expected (median)" : "observed"},
                                {"Statistic", o->statistic == NA64_LIMIT_FC ? "Feldman-Cousins" : "CLs"}};
  na64_hepdata_var indep = {"$m_{A'}$", "MeV", m};
  na64_hepdata_var dep[2] = {
      {o->mode == NA64_SENS_VISIBLE ? "$\\epsilon$ lower edge of the excluded region"
                                    : (o->mediator == NA64_MED_ZPRIME ? "$g_{Z'}$ upper limit"
                                                                      : (o->mediator == NA64_MED_VECTOR ? "$\\epsilon$ upper limit" : "$g$ upper limit")),
       "", a},
      {"$\\epsilon$ upper edge of the excluded region", "", b}};
  if (st == NA64_OK)
    st = na64_hepdata_write(path, &indep, dep, o->mode == NA64_SENS_VISIBLE ? 2 : 1, c->n, q,
                            (int)(sizeof q / sizeof q[0]), err);
  free(m);
  free(a);
  free(b);
  return st;
}

/* ---------------- the sensitivity report of `na64 run` ---------------- */

/* append to the caller's summary buffer (C-locale numbers) */
__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t n, const char *fmt, ...)
{
  if (!buf || !n) return;
  size_t used = strnlen(buf, n);
  if (used + 1 >= n) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap); /* only %s and pre-formatted numbers reach here */
  va_end(ap);
  snprintf(buf + used, n - used, "%s", line);
}

/* "1e9", "5.4e10": compact EOT for file names */
static void eot_tag(char *buf, size_t n, double eot)
{
  double mant;
  int ex;
  if (split_pow10(eot, &mant, &ex)) na64_num_format(buf, n, "1e%d", ex);
  else na64_num_format(buf, n, "%.3ge%d", mant, ex);
}

static int write_curve_files(const na64_sens_options *o, const na64_sens_curve *c, const char *dir, const char *stem,
                             na64_err *err)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.csv", dir, stem);
  NA64_CALL(na64_sens_curve_write_csv(o, c, path, err));
  snprintf(path, sizeof path, "%s/%s.yaml", dir, stem);
  return na64_sens_curve_write_hepdata(o, c, path, err);
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
static int rescale_invisible(const na64_sens_curve *from, double eot, na64_sens_curve *to, na64_err *err)
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

static int nearest(const na64_sens_curve *c, double m)
{
  int best = 0;
  for (int i = 0; i < c->n; ++i)
    if (fabs(c->masses[i] - m) < fabs(c->masses[best] - m)) best = i;
  return best;
}

/* one curve per EOT: a scan at the first, rescaled for the others; CSV and HEPData of each */
static int invisible_curves(na64_sens_options *o, double E0, na64_sens_curve c[N_REPORT_EOT], const char *dir,
                            na64_err *err)
{
  int st = NA64_OK;
  for (int k = 0; k < N_REPORT_EOT && st == NA64_OK; ++k) {
    o->eot = report_eot[k];
    st = na64_sens_masses_parse("1:1000:60", NA64_SENS_INVISIBLE, &c[k].masses, &c[k].n, err);
    if (st == NA64_OK && k == 0) st = na64_sens_curve_compute(o, &c[k], NULL, NULL, err);
    if (st == NA64_OK && k > 0) st = rescale_invisible(&c[0], report_eot[k], &c[k], err);
    char stem[128], tag[32];
    eot_tag(tag, sizeof tag, report_eot[k]);
    na64_num_format(stem, sizeof stem, "invisible_%gGeV_%sEOT", E0, tag);
    if (st == NA64_OK) st = write_curve_files(o, &c[k], dir, stem, err);
  }
  return st;
}

static int invisible_plots(const na64_sens_options *o, double E0, const na64_sens_curve c[N_REPORT_EOT],
                           const char *dir, na64_err *err)
{
  na64_plot *p = NULL, *py = NULL;
  char title[160];
  na64_num_format(title, sizeof title, "NA64 invisible mode, %g GeV e#u-#d, 90%% CL expected (eff = %g)", E0,
                  o->efficiency);
  int st = na64_plot_new(title, "m#dA'#u [MeV]", "#ge", 1, 1, 1, 1000, 1e-7, 1e-1, &p, err);
  if (st == NA64_OK && E0 == 100.0) {
    na64_num_format(title, sizeof title, "Dark matter, %g GeV: #ga#dD#u = %g, m#dA'#u = %g m#d#gx#u", E0, o->alpha_d,
                    o->mass_ratio);
    st = na64_plot_new(title, "m#d#gx#u [MeV]", "y = #ge#u2#d#ga#dD#u (m#d#gx#u/m#dA'#u)#u4#d", 1, 1,
                       1.0 / o->mass_ratio, 1000.0 / o->mass_ratio, 1e-17, 1e-5, &py, err);
  }
  for (int k = 0; k < N_REPORT_EOT && st == NA64_OK; ++k) {
    double x[1000], y[1000], xc[1000], yy[1000];
    int n = c[k].n < 1000 ? c[k].n : 1000;
    for (int i = 0; i < n; ++i) {
      x[i] = c[k].masses[i] * 1e3;
      y[i] = c[k].pt[i].eps;
      xc[i] = x[i] / o->mass_ratio;
      yy[i] = na64_limit_y(y[i], o->alpha_d, o->mass_ratio);
    }
    char label[64];
    snprintf(label, sizeof label, "10#u%d#d EOT", (int)lround(log10(report_eot[k])));
    st = na64_plot_curve(p, label, x, y, n, 1 + k, 0, err);
    if (st == NA64_OK && py) st = na64_plot_curve(py, label, xc, yy, n, 1 + k, 0, err);
  }
  if (st == NA64_OK && E0 == 100.0) st = plot_published(p, NA64_SENS_INVISIBLE, err);
  char stem[64];
  na64_num_format(stem, sizeof stem, "invisible_%gGeV", E0);
  if (st == NA64_OK) st = write_plot_formats(p, dir, stem, err);
  if (st == NA64_OK && py) st = write_plot_formats(py, dir, "dark_matter_y_100GeV", err);
  na64_plot_free(p);
  na64_plot_free(py);
  return st;
}

/* Invisible mode at one beam energy: one curve per EOT (as the NA64 proposal's figures 5 and 6),
 * the published curves for comparison, and the dark-matter y plot at 100 GeV. */
static int report_invisible(const na64_sens_options *base, double E0, const char *dir, char *sum, size_t sn,
                            na64_err *err)
{
  na64_sens_curve c[N_REPORT_EOT];
  memset(c, 0, sizeof c);
  na64_sens_options o = *base;
  o.mode = NA64_SENS_INVISIBLE;
  o.energy = E0;
  int st = invisible_curves(&o, E0, c, dir, err);
  if (st == NA64_OK) st = invisible_plots(&o, E0, c, dir, err);
  if (st == NA64_OK) {
    char num[64];
    na64_num_format(num, sizeof num, "%5.0f", E0);
    say(sum, sn, "  invisible, %s GeV: eps at 16.7 MeV for 1e9..1e13 EOT:", num);
    for (int k = 0; k < N_REPORT_EOT; ++k) {
      na64_num_format(num, sizeof num, "%.2e", c[k].pt[nearest(&c[k], 0.0167)].eps);
      say(sum, sn, " %s", num);
    }
    say(sum, sn, "\n");
  }
  for (int k = 0; k < N_REPORT_EOT; ++k) na64_sens_curve_release(&c[k]);
  return st;
}

static int report_visible(const na64_sens_options *base, const char *dir, char *sum, size_t sn, na64_err *err)
{
  static const double vis_eot[] = {5.4e10, 1e12};
  na64_sens_curve c[2];
  memset(c, 0, sizeof c);
  na64_sens_options o = *base;
  o.mode = NA64_SENS_VISIBLE;
  o.energy = 100.0;
  int st = NA64_OK;
  for (int k = 0; k < 2 && st == NA64_OK; ++k) {
    o.eot = vis_eot[k];
    st = na64_sens_masses_parse("1.1:30:60", NA64_SENS_VISIBLE, &c[k].masses, &c[k].n, err);
    if (st == NA64_OK) st = na64_sens_curve_compute(&o, &c[k], NULL, NULL, err);
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
    int n = c[k].n < 1000 ? c[k].n : 1000;
    for (int i = 0; i < n; ++i) {
      x[i] = c[k].masses[i] * 1e3;
      lo[i] = c[k].pt[i].eps_low;
      hi[i] = c[k].pt[i].eps_high;
    }
    char label[64];
    eot_label(label, sizeof label, vis_eot[k], 100.0);
    st = na64_plot_band(p, label, x, lo, hi, n, k ? 2 : 5, err);
  }
  if (st == NA64_OK) st = plot_published(p, NA64_SENS_VISIBLE, err);
  if (st == NA64_OK) st = write_plot_formats(p, dir, "visible_100GeV", err);
  if (st == NA64_OK) {
    int best = nearest(&c[0], 0.0167);
    char num[96];
    na64_num_format(num, sizeof num, "%.1f MeV: %.2e < eps < %.2e", c[0].masses[best] * 1e3, c[0].pt[best].eps_low,
                    c[0].pt[best].eps_high);
    say(sum, sn, "  visible,   100 GeV, 5.4e10 EOT: excluded at %s\n", num);
  }
  na64_plot_free(p);
  for (int k = 0; k < 2; ++k) na64_sens_curve_release(&c[k]);
  return st;
}

int na64_sens_report_write(const na64_sens_options *base, const char *dir, char *summary, size_t summary_len,
                           na64_err *err)
{
  if (summary && summary_len) summary[0] = '\0';
  NA64_CALL(report_invisible(base, 100.0, dir, summary, summary_len, err));
  NA64_CALL(report_invisible(base, 30.0, dir, summary, summary_len, err));
  return report_visible(base, dir, summary, summary_len, err);
}
