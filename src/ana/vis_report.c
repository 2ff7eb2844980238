/*
 * The report of `na64 run` on a visible card (docs/visible.md, "na64 run"): cut flows, the measured
 * efficiencies, the island as CSV and as a plot against the published band of PRL 120 (2018) 231802
 * (na64_published_get: data/published_visible_*.csv), the comparison at the card's masses, the
 * Table 2 backgrounds (background.csv and a table), an HTML page and the card. Numbers are printed in the C locale (na64_num_format).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/io.h"

typedef struct vis_out {
  na64_outfile *o;
  FILE *f;
} vis_out;

static int out_open(vis_out *v, const char *dir, const char *name, na64_err *err)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  NA64_CALL(na64_outfile_open(path, 0, &v->o, err));
  v->f = na64_outfile_stream(v->o);
  return NA64_OK;
}

/* printf in the C locale into the output */
#define PUT(v, ...)                                 \
  do {                                              \
    char put_buf_[512];                             \
    na64_num_format(put_buf_, sizeof put_buf_, __VA_ARGS__); \
    fputs(put_buf_, (v)->f);                        \
  } while (0)

/* log-log interpolation of a published edge at mass m (MeV); NaN outside it */
static double edge_at(const double *x, const double *y, int n, double m)
{
  for (int i = 1; i < n; ++i) {
    double a = fmin(x[i - 1], x[i]), b = fmax(x[i - 1], x[i]);
    if (m >= a && m <= b && a > 0 && b > a) {
      double f = log(m / x[i - 1]) / log(x[i] / x[i - 1]);
      return exp(log(y[i - 1]) + f * (log(y[i]) - log(y[i - 1])));
    }
  }
  return NAN;
}

static int published_band(na64_published_curve *c, na64_err *err)
{
  for (int i = 0; i < na64_published_count(); ++i) {
    NA64_CALL(na64_published_get(i, c, err));
    if (c->visible && c->n_upper > 0) return NA64_OK;
    na64_published_release(c);
  }
  return na64_err_set(err, NA64_ENOTFOUND, "no published visible-mode band in the embedded data");
}

static int write_cutflow(const na64_vis_job_result *r, const char *dir, na64_err *err)
{
  vis_out v;
  NA64_CALL(out_open(&v, dir, "cutflow.csv", err));
  fputs("cut,signal_events,signal_fraction,background_events\n", v.f);
  for (int i = 0; i <= NA64_VIS_NCUTS; ++i) {
    fputs(i ? na64_vis_cut_name(i - 1) : "all", v.f);
    double n0 = (double)r->signal.events[0];
    PUT(&v, ",%.0f,%.6g,%.0f\n", (double)r->signal.events[i], n0 > 0 ? r->signal.events[i] / n0 : NAN,
        (double)r->background.events[i]);
  }
  return na64_outfile_commit(v.o, err);
}

/* efficiency.csv (the vector A') or efficiency_pseudoscalar.csv (psjoint: the pseudoscalar a, the
 * same columns; written with the X17 among the masses) */
static int write_eff_table(const na64_vis_job_result *r, const char *dir, const char *name,
                           const double (*eps)[NA64_VIS_EFF_POINTS], const double (*eff)[NA64_VIS_EFF_POINTS],
                           const double (*eff_err)[NA64_VIS_EFF_POINTS], na64_err *err)
{
  vis_out v;
  NA64_CALL(out_open(&v, dir, name, err));
  fputs("mass_MeV,eps,efficiency,efficiency_error\n", v.f);
  for (int i = 0; i < r->nmass; ++i)
    for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k)
      if (isfinite(eff[i][k])) PUT(&v, "%.6g,%.6g,%.6g,%.3g\n", r->mass_MeV[i], eps[i][k], eff[i][k], eff_err[i][k]);
  return na64_outfile_commit(v.o, err);
}

/* visphys: efficiency_{scalar,axial}.csv (the columns of efficiency.csv and `source`: `measured`, its
 * own samples at 16.7 MeV, or the chirality partner whose table it is at the same decay length,
 * `pseudoscalar` or `vector`) and limit_{scalar,axial}.csv (as limit_pseudoscalar.csv) */
static int write_med(const na64_vis_job_result *r, const char *dir, int j, na64_err *err)
{
  static const char *const med[2] = {"scalar", "axial"}, *const partner[2] = {"pseudoscalar", "vector"};
  char name[64];
  vis_out v;
  snprintf(name, sizeof name, "efficiency_%s.csv", med[j]);
  NA64_CALL(out_open(&v, dir, name, err));
  fputs("mass_MeV,eps,efficiency,efficiency_error,source\n", v.f);
  for (int i = 0; i < r->nmass; ++i)
    for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k)
      if (isfinite(r->med_eff[j][i][k])) {
        PUT(&v, "%.6g,%.6g,%.6g,%.3g,", r->mass_MeV[i], r->med_eff_eps[j][i][k], r->med_eff[j][i][k],
            r->med_eff_err[j][i][k]);
        fprintf(v.f, "%s\n", r->med_own[j][i] ? "measured" : partner[j]);
      }
  NA64_CALL(na64_outfile_commit(v.o, err));
  snprintf(name, sizeof name, "limit_%s.csv", med[j]);
  NA64_CALL(out_open(&v, dir, name, err));
  fputs("mass_MeV,eps_low,eps_high,eps_low_eff1,eps_high_eff1\n", v.f);
  for (int i = 0; i < r->nmass; ++i)
    PUT(&v, "%.6g,%.6g,%.6g,%.6g,%.6g\n", r->mass_MeV[i], r->med_eps_low[j][i], r->med_eps_high[j][i],
        r->med_eps_low_ideal[j][i], r->med_eps_high_ideal[j][i]);
  return na64_outfile_commit(v.o, err);
}

static int write_efficiency(const na64_vis_job_result *r, const char *dir, na64_err *err)
{
  NA64_CALL(write_eff_table(r, dir, "efficiency.csv", (const double(*)[NA64_VIS_EFF_POINTS])r->eff_eps,
                            (const double(*)[NA64_VIS_EFF_POINTS])r->eff, (const double(*)[NA64_VIS_EFF_POINTS])r->eff_err,
                            err));
  if (!r->x17 || !r->ps_eff) return NA64_OK;
  NA64_CALL(write_eff_table(r, dir, "efficiency_pseudoscalar.csv", (const double(*)[NA64_VIS_EFF_POINTS])r->ps_eff_eps,
                            (const double(*)[NA64_VIS_EFF_POINTS])r->ps_eff,
                            (const double(*)[NA64_VIS_EFF_POINTS])r->ps_eff_err, err));
  /* limit_pseudoscalar.csv: its island per mass, measured and at efficiency 1 (empty: none) */
  vis_out v;
  NA64_CALL(out_open(&v, dir, "limit_pseudoscalar.csv", err));
  fputs("mass_MeV,eps_low,eps_high,eps_low_eff1,eps_high_eff1\n", v.f);
  for (int i = 0; i < r->nmass; ++i)
    PUT(&v, "%.6g,%.6g,%.6g,%.6g,%.6g\n", r->mass_MeV[i], r->ps_eps_low[i], r->ps_eps_high[i], r->ps_eps_low_ideal[i],
        r->ps_eps_high_ideal[i]);
  NA64_CALL(na64_outfile_commit(v.o, err));
  for (int j = 0; j < 2 && r->med_eff[j]; ++j) NA64_CALL(write_med(r, dir, j, err));
  return NA64_OK;
}

/* limit.csv (the island) and validation.csv (with the efficiency-1 island and the published band) */
static int write_limits(const na64_vis_job_result *r, const na64_published_curve *pub, const char *dir, na64_err *err)
{
  vis_out v;
  NA64_CALL(out_open(&v, dir, "limit.csv", err));
  fputs("mass_MeV,eps_low,eps_high\n", v.f);
  for (int i = 0; i < r->nmass; ++i)
    if (isfinite(r->eps_low[i])) PUT(&v, "%.6g,%.6g,%.6g\n", r->mass_MeV[i], r->eps_low[i], r->eps_high[i]);
  NA64_CALL(na64_outfile_commit(v.o, err));
  NA64_CALL(out_open(&v, dir, "validation.csv", err));
  fputs("mass_MeV,eps_low,eps_high,eps_low_eff1,eps_high_eff1,published_low,published_high\n", v.f);
  for (int i = 0; i < r->nmass; ++i) {
    double m = r->mass_MeV[i];
    PUT(&v, "%.6g,%.6g,%.6g,%.6g,", m, r->eps_low[i], r->eps_high[i], r->eps_low_ideal[i]);
    PUT(&v, "%.6g,%.6g,%.6g\n", r->eps_high_ideal[i], edge_at(pub->mass_MeV, pub->eps, pub->n, m),
        edge_at(pub->mass_upper_MeV, pub->eps_upper, pub->n_upper, m));
  }
  return na64_outfile_commit(v.o, err);
}

/* x17.csv: the X17 island for the vector and the pseudoscalar coupling (issue 12) with the measured
 * efficiency (the vector's of the 16.7 MeV mass point, the pseudoscalar's own samples at its
 * efficiency-1 lower edge, middle and upper edge) and at efficiency 1, against the published ranges: PRL 120 (2018) 231802 (vector, 2017 data) or PRD 101 (2020) 071101
 * (vector, 2017 + 2018) and PRD 104 (2021) L111102 (pseudoscalar, 2017 + 2018); chosen by the beam
 * energy of the card (100 GeV: the 2017 setup; the pseudoscalar was published for 2017 + 2018 only);
 * visscal: the scalar and the axial (g = eps e) with their own samples, no published range (empty) */
static int write_x17(const na64_vis_job_result *r, const char *dir, na64_err *err)
{
  if (!r->x17) return NA64_OK; /* 16.7 MeV not among the card's masses */
  vis_out v;
  NA64_CALL(out_open(&v, dir, "x17.csv", err));
  int y2017 = r->sim.beam_energy < 125.0;
  const double pub[4][2] = {{y2017 ? 1.3e-4 : 1.2e-4, y2017 ? 4.2e-4 : 6.8e-4}, {2.1e-4, 3.2e-4}, {NAN, NAN}, {NAN, NAN}};
  static const char *const name[4] = {"vector", "pseudoscalar", "scalar", "axial"};
  fputs("coupling,mass_MeV,eps_low,eps_high,eps_low_eff1,eps_high_eff1,eff_low,eff_mid,eff_high,published_low,"
        "published_high\n", v.f);
  int i17 = -1;
  for (int i = 0; i < r->nmass; ++i)
    if (fabs(r->mass_MeV[i] - 16.7) < 1e-9) i17 = i;
  for (int k = 0; k < 4; ++k) {
    const double *e = k >= 2 ? r->x17_med_eff[k - 2] : k ? r->x17_eff : i17 >= 0 ? r->eff[i17] : r->x17_eff;
    PUT(&v, "%s,16.7,%.6g,%.6g,%.6g,%.6g,", name[k], r->x17_eps_low_eff[k], r->x17_eps_high_eff[k], r->x17_eps_low[k],
        r->x17_eps_high[k]);
    PUT(&v, "%.6g,%.6g,%.6g,%.6g,%.6g\n", e[0], e[1], e[2], pub[k][0], pub[k][1]);
  }
  return na64_outfile_commit(v.o, err);
}

/* the island (lower edge out, upper edge back) against the published band */
static int write_plot(const na64_vis_job_result *r, const na64_published_curve *pub, const char *dir, na64_err *err)
{
  na64_plot *p = NULL;
  char title[256];
  na64_num_format(title, sizeof title, "Visible mode: %.3g EOT at %g GeV (90%% CL)", r->job.eot, r->sim.beam_energy);
  NA64_CALL(na64_plot_new(title, "m_A' (MeV)", "epsilon", 1, 1, 1.0, 30.0, 1e-5, 1e-2, &p, err));
  int n = 0, st = NA64_OK;
  double *x = malloc(sizeof(double) * (size_t)(2 * r->nmass + 1)), *y = malloc(sizeof(double) * (size_t)(2 * r->nmass + 1));
  if (!x || !y) st = na64_err_set(err, NA64_ENOMEM, "visible report: out of memory");
  for (int i = 0; st == NA64_OK && i < r->nmass; ++i)
    if (isfinite(r->eps_low[i])) x[n] = r->mass_MeV[i], y[n++] = r->eps_low[i];
  for (int i = r->nmass - 1; st == NA64_OK && i >= 0; --i)
    if (isfinite(r->eps_high[i])) x[n] = r->mass_MeV[i], y[n++] = r->eps_high[i];
  if (st == NA64_OK && n > 0) x[n] = x[0], y[n++] = y[0];
  if (st == NA64_OK && n > 1) st = na64_plot_curve(p, "na64 run: measured efficiency", x, y, n, 1, 0, err);
  if (st == NA64_OK) st = na64_plot_curve(p, pub->label, pub->mass_MeV, pub->eps, pub->n, 8, 1, err);
  if (st == NA64_OK) st = na64_plot_curve(p, "", pub->mass_upper_MeV, pub->eps_upper, pub->n_upper, 8, 1, err);
  char note[128];
  na64_num_format(note, sizeof note, "island: EOT x yield x efficiency >= %.3g", r->n_up);
  if (st == NA64_OK) st = na64_plot_note(p, note, err);
  char path[4096];
  const char *ext[2] = {"limit.png", "limit.svg"};
  for (int k = 0; k < 2 && st == NA64_OK; ++k) {
    snprintf(path, sizeof path, "%s/%s", dir, ext[k]);
    st = na64_plot_write(p, path, err);
  }
  free(x);
  free(y);
  na64_plot_free(p);
  return st;
}

/* background.csv: the Table 2 sources per EOT and at the quoted EOT, beside the report's levels */
static int write_backgrounds(const na64_vis_job_result *r, const char *dir, na64_err *err)
{
  vis_out v;
  NA64_CALL(out_open(&v, dir, "background.csv", err));
  fputs("source,enabled,events,in_box,rate_per_eot,error_per_eot,bound90_per_eot,events_at_eot,error_at_eot,"
        "table2_per_eot,table2_at_eot\n", v.f);
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i) {
    const na64_vis_bkg_result *b = &r->bkg[i];
    fprintf(v.f, "%s,%d,", na64_vis_bkg_name(i), r->bkg_config.enabled[i]);
    PUT(&v, "%.0f,%.0f,%.6g,%.3g,%.3g,", (double)b->events, (double)b->passed, b->rate, b->error, b->bound90);
    PUT(&v, "%.6g,%.3g,%.3g,%.3g\n", b->rate * r->job.eot, b->error * r->job.eot, na64_vis_bkg_table2(i),
        na64_vis_bkg_table2(i) * r->job.eot);
  }
  PUT(&v, "total,1,,,%.6g,%.3g,0,%.6g,%.3g,%.3g,%.3g\n", r->bkg_total, r->bkg_total_error, r->bkg_events,
      r->bkg_events_error, 3e-13, 3e-13 * r->job.eot); /* Table 2 total <= 3e-13 */
  return na64_outfile_commit(v.o, err);
}

/* the background table of index.html */
static void html_backgrounds(const na64_vis_job_result *r, vis_out *v)
{
  PUT(v, "<h2>Backgrounds (NA64 report, Table 2)</h2>\n<table><tr><th>source</th><th>per EOT</th><th>events at %.3g EOT</th>"
         "<th>Table 2 per EOT</th><th>Table 2 at the EOT</th></tr>\n", r->job.eot);
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i) {
    const na64_vis_bkg_result *b = &r->bkg[i];
    fprintf(v->f, "<tr><td>%s%s</td>", na64_vis_bkg_table2_row(i), r->bkg_config.enabled[i] ? "" : " (off)");
    PUT(v, "<td>%.3g &plusmn; %.2g</td><td>%.3g &plusmn; %.2g</td><td>&le; %.0e</td><td>&le; %.3g</td></tr>\n", b->rate,
        b->error, b->rate * r->job.eot, b->error * r->job.eot, na64_vis_bkg_table2(i), na64_vis_bkg_table2(i) * r->job.eot);
  }
  PUT(v, "<tr><th>total</th><td>%.3g &plusmn; %.2g</td><td>%.3g &plusmn; %.2g</td><td>&le; 3e-13</td><td>&le; %.3g</td></tr>\n"
         "</table>\n<p>The island uses the CLs 90%% upper limit %.4g events at the background-only median count %d "
         "(b = %.3g &plusmn; %.2g).</p>\n", r->bkg_total, r->bkg_total_error, r->bkg_events, r->bkg_events_error,
      3e-13 * r->job.eot, r->n_up, r->bkg_median_n, r->bkg_events, r->bkg_events_error);
}

/* visphys: the islands of the four X at every mass (measured efficiency; "-": none) */
static void html_med_islands(const na64_vis_job_result *r, vis_out *v)
{
  fputs("<h2>The four X at every mass (g = eps e; measured efficiency)</h2>\n<table><tr><th>m (MeV)</th><th>vector</th>"
        "<th>pseudoscalar</th><th>scalar</th><th>axial</th></tr>\n", v->f);
  for (int i = 0; i < r->nmass; ++i) {
    const double lo[4] = {r->eps_low[i], r->ps_eps_low[i], r->med_eps_low[0][i], r->med_eps_low[1][i]};
    const double hi[4] = {r->eps_high[i], r->ps_eps_high[i], r->med_eps_high[0][i], r->med_eps_high[1][i]};
    PUT(v, "<tr><td>%g</td>", r->mass_MeV[i]);
    for (int c = 0; c < 4; ++c)
      if (isfinite(lo[c])) PUT(v, "<td>%.3g &ndash; %.3g</td>", lo[c], hi[c]);
      else fputs("<td>&ndash;</td>", v->f);
    fputs("</tr>\n", v->f);
  }
  fputs("</table>\n<p>The scalar's and the axial's efficiency is their own at 16.7 MeV and elsewhere their chirality "
        "partner's (pseudoscalar, vector) at the same decay length (docs/visible.md).</p>\n", v->f);
}

static int copy_card(const char *card, const char *dir, na64_err *err)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/card.yaml", dir);
  return na64_outfile_copy(card, path, 0, err);
}

static int write_index(const na64_vis_job_result *r, const char *card, const char *dir, na64_err *err)
{
  vis_out v;
  NA64_CALL(out_open(&v, dir, "index.html", err));
  fprintf(v.f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>na64 run (visible mode)</title>\n"
               "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
               "td,th{border:1px solid #999;padding:2px 8px;text-align:right}</style></head><body>\n"
               "<h1>na64 run: visible-mode selection and island</h1>\n<p>na64 %s, card %s (run %ld). ",
          na64_version(), card, r->sim.run);
  PUT(&v, "Quoted for %.3g EOT at %g GeV; signal at m = %g MeV, eps = %.3g.</p>\n", r->job.eot, r->sim.beam_energy,
      r->sim.aprime_mass * 1e3, r->sim.aprime_eps);
  fputs("<h2>90% CL island</h2>\n<img alt=\"island\" src=\"limit.svg\">\n<h2>Cut flow</h2>\n<table><tr><th>cut</th>"
        "<th>signal</th><th>fraction</th><th>beam e-</th></tr>\n", v.f);
  for (int i = 0; i <= NA64_VIS_NCUTS; ++i) {
    fprintf(v.f, "<tr><td>%s</td>", i ? na64_vis_cut_name(i - 1) : "all");
    PUT(&v, "<td>%.0f</td><td>%.4f</td><td>%.0f</td></tr>\n", (double)r->signal.events[i],
        r->signal.events[0] ? (double)r->signal.events[i] / (double)r->signal.events[0] : NAN, (double)r->background.events[i]);
  }
  fputs("</table>\n<h2>Efficiency and island</h2>\n<table><tr><th>m (MeV)</th><th>eps</th><th>efficiency</th></tr>\n", v.f);
  for (int i = 0; i < r->nmass; ++i)
    for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k)
      if (isfinite(r->eff[i][k])) PUT(&v, "<tr><td>%g</td><td>%.3g</td><td>%.4f &plusmn; %.4f</td></tr>\n", r->mass_MeV[i], r->eff_eps[i][k], r->eff[i][k], r->eff_err[i][k]);
  PUT(&v, "</table>\n<p>Beam electrons passing: %.0f of %.0f (90%% CL upper bound %.3g per EOT).</p>\n",
      (double)r->background.events[NA64_VIS_NCUTS], (double)r->background.events[0], r->background_upper_per_eot);
  html_backgrounds(r, &v);
  if (r->x17) {
    PUT(&v, "<h2>X17 (16.7 MeV)</h2>\n<p>With the measured efficiency: vector %.3g &lt; eps &lt; %.3g; pseudoscalar "
      "(g = eps e, its efficiency measured event by event) %.3g &lt; eps &lt; %.3g. ", r->x17_eps_low_eff[0],
      r->x17_eps_high_eff[0], r->x17_eps_low_eff[1], r->x17_eps_high_eff[1]);
    PUT(&v, "At efficiency 1: vector %.3g &lt; eps &lt; %.3g; pseudoscalar %.3g &lt; eps &lt; %.3g (x17.csv).</p>\n",
      r->x17_eps_low[0], r->x17_eps_high[0], r->x17_eps_low[1], r->x17_eps_high[1]);
    PUT(&v, "<p>Scalar and axial X17 (g = eps e, no published NA64 range): with the measured efficiency scalar %.3g "
      "&lt; eps &lt; %.3g, axial %.3g &lt; eps &lt; %.3g; at efficiency 1 scalar %.3g &lt; eps &lt; %.3g, axial %.3g "
      "&lt; eps &lt; %.3g.</p>\n", r->x17_eps_low_eff[2], r->x17_eps_high_eff[2], r->x17_eps_low_eff[3],
      r->x17_eps_high_eff[3], r->x17_eps_low[2], r->x17_eps_high[2], r->x17_eps_low[3], r->x17_eps_high[3]);
  }
  if (r->x17 && r->med_eff[0]) html_med_islands(r, &v);
  /* the files this report holds: x17.csv and the pseudoscalar's tables only with 16.7 MeV among the masses */
  fputs("<p>Files: cutflow.csv, efficiency.csv, limit.csv, validation.csv, background.csv, ", v.f);
  fputs(r->x17 ? "x17.csv, limit.png, limit.svg, card.yaml" : "limit.png, limit.svg, card.yaml", v.f);
  fputs(r->x17 && r->ps_eff ? "; the pseudoscalar at every mass: efficiency_pseudoscalar.csv, limit_pseudoscalar.csv"
                            : "",
        v.f);
  fputs(r->x17 && r->med_eff[0] ? "; the scalar and axial at every mass: efficiency_scalar.csv, limit_scalar.csv, "
                                  "efficiency_axial.csv, limit_axial.csv.</p>\n"
                                : ".</p>\n",
        v.f);
  fputs("</body></html>\n", v.f);
  return na64_outfile_commit(v.o, err);
}

int na64_vis_job_write_report(const na64_vis_job_result *r, const char *card, const char *dir, na64_err *err)
{
  if (!r || !card || !dir) return na64_err_set(err, NA64_EINVAL, "na64_vis_job_write_report: NULL argument");
  na64_published_curve pub;
  NA64_CALL(published_band(&pub, err));
  int st = write_cutflow(r, dir, err);
  if (st == NA64_OK) st = write_efficiency(r, dir, err);
  if (st == NA64_OK) st = write_limits(r, &pub, dir, err);
  if (st == NA64_OK) st = write_plot(r, &pub, dir, err);
  if (st == NA64_OK) st = write_backgrounds(r, dir, err);
  if (st == NA64_OK) st = write_x17(r, dir, err);
  if (st == NA64_OK) st = copy_card(card, dir, err);
  if (st == NA64_OK) st = write_index(r, card, dir, err);
  na64_published_release(&pub);
  return st;
}
