/*
 * The report files of the main job (na64_job_write_report): the cut flow, the selection summary,
 * the efficiency scan, the background table, the limit (CSV, plot, HEPData), the E_ECAL-E_HCAL plane
 * and the missing-energy spectrum (PNG), a copy of the run card, and one self-contained
 * index.html with the plot embedded (base64 data URI, RFC 2397 / RFC 4648), so that the page opens
 * in any browser without the other files.
 */
#include <locale.h>
#include <math.h>
#include <plplot/plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/c_locale.h"
#include "na64/ana.h"

static void path_in(char *buf, size_t n, const char *dir, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

static void put(FILE *f, int prec, double x)
{
  char b[64];
  if (!isfinite(x)) {
    fputs("", f);
    return;
  }
  na64_num_format(b, sizeof b, "%.*g", prec, x);
  fputs(b, f);
}

static int write_efficiency_csv(const na64_job_result *r, const char *path, na64_err *err)
{
  na64_outfile *o = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &o, err));
  FILE *f = na64_outfile_stream(o);
  fputs("mass_MeV,efficiency,error\n", f);
  for (int i = 0; i < r->nmass; ++i) {
    put(f, 10, r->mass_MeV[i]);
    fputc(',', f);
    put(f, 10, r->efficiency[i]);
    fputc(',', f);
    put(f, 10, r->efficiency_error[i]);
    fputc('\n', f);
  }
  return na64_outfile_commit(o, err);
}

/* One row of background.csv: method, events in its sample, per EOT with error, at the quoted EOT,
 * then the Table 1 columns (empty for the unbiased main sample's methods). */
static void bkg_csv_row(FILE *f, const char *method, double events, double v, double e, double q, const char *row,
                        double t1, double passed, double bound, double process, int in_limit)
{
  fprintf(f, "%s,", method);
  put(f, 12, events);
  const double x[] = {v, e, v * q, e * q, q};
  for (int i = 0; i < 5; ++i) {
    fputc(',', f);
    put(f, 12, x[i]);
  }
  fprintf(f, ",\"%s\",", row ? row : "");
  put(f, 12, t1);
  fputc(',', f);
  put(f, 12, passed);
  fputc(',', f);
  put(f, 12, bound);
  fputc(',', f);
  put(f, 12, process);
  fprintf(f, ",%d\n", in_limit);
}

/* background.csv: the unbiased main sample's box and sideband, one row per Table 1 route
 * (`route:<source>`, src/ana/job_bkg.c) beside Table 1's level with P(process) per EOT, and the
 * limit's background (`limit`, its source in the table1_row column): the rows with in_limit = 1
 * sum to it. */
static int write_background_csv(const na64_job_result *r, const char *path, na64_err *err)
{
  const na64_select_result *s = &r->result;
  double q = r->eot_quoted, nan = NAN;
  const char *src = r->limit_background_source ? r->limit_background_source : "none";
  na64_outfile *o = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &o, err));
  FILE *f = na64_outfile_stream(o);
  fputs("method,events_in_sample,per_eot,per_eot_error,expected,expected_error,eot,table1_row,table1_per_eot,passed,"
        "bound90_per_eot,process_per_eot,in_limit\n", f);
  bkg_csv_row(f, "simulated_box", (double)s->background_pass, s->background_per_eot, s->background_per_eot_error, q,
              NULL, nan, (double)s->background_pass, s->background_per_eot_upper, nan, strcmp(src, "simulated_box") == 0);
  bkg_csv_row(f, "sideband_extrapolation", (double)s->sideband_events, s->sideband_per_eot, s->sideband_per_eot_error,
              q, NULL, nan, nan, nan, nan, strcmp(src, "sideband_extrapolation") == 0);
  for (int i = 0; i < r->bkg_n; ++i) {
    const na64_sim_bkg_result *b = &r->bkg[i];
    char m[64];
    snprintf(m, sizeof m, "route:%s", na64_sim_bkg_name(b->source));
    bkg_csv_row(f, m, (double)b->events, b->rate, b->error, q, na64_sim_bkg_table1_row(b->source), b->table1,
                (double)b->passed, b->bound90, b->process_prob, strcmp(src, "simulated_routes") == 0);
  }
  bkg_csv_row(f, "limit", nan, q > 0 ? r->limit_background / q : nan, q > 0 ? r->limit_background_error / q : nan, q,
              src, nan, nan, nan, nan, 0);
  return na64_outfile_commit(o, err);
}

/* Table cells "rate</td><td>error<mid>rate x EOT" of a background row. */
static void html_rate(FILE *f, double v, double e, double q, const char *mid)
{
  put(f, 3, v);
  fputs("</td><td>", f);
  put(f, 3, e);
  fputs(mid, f);
  put(f, 3, v * q);
}

/* The Table 1 routes in index.html (what background.csv holds). */
static void html_routes(FILE *f, const na64_job_result *r)
{
  if (r->bkg_n == 0) return;
  fputs("<h3>Table 1 background routes (biased, exact weights)</h3>\n<table><tr><th>source</th><th>Table 1 row</th>"
        "<th>Table 1 level per EOT</th><th>events</th><th>in box</th><th>per EOT</th><th>error</th>"
        "<th>90% CL bound (none in box)</th><th>at the quoted EOT</th></tr>\n", f);
  for (int i = 0; i < r->bkg_n; ++i) {
    const na64_sim_bkg_result *b = &r->bkg[i];
    fprintf(f, "<tr><td>%s</td><td style=\"text-align:left\">", na64_sim_bkg_name(b->source));
    for (const char *c = na64_sim_bkg_table1_row(b->source); c && *c; ++c) {
      if (*c == '<') fputs("&lt;", f);
      else fputc(*c, f);
    }
    fputs("</td><td>", f);
    const double v[] = {b->table1, (double)b->events, (double)b->passed, b->rate, b->error, b->bound90,
                        b->rate * r->eot_quoted};
    for (int k = 0; k < 7; ++k) {
      if (k) fputs("</td><td>", f);
      put(f, k == 1 || k == 2 ? 12 : 3, v[k]);
    }
    fputs("</td></tr>\n", f);
  }
  fputs("<tr><td>sum</td><td></td><td>&lt; 1e-12</td><td></td><td></td><td>", f);
  html_rate(f, r->bkg_total, r->bkg_total_error, r->eot_quoted, "</td><td></td><td>");
  fputs("</td></tr>\n</table>\n", f);
}

/* base64 (RFC 4648) of a file into an html stream. */
static int embed_file(FILE *out, const char *path)
{
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  FILE *in = fopen(path, "rb");
  if (!in) return -1;
  unsigned char b[3];
  size_t n;
  while ((n = fread(b, 1, 3, in)) > 0) {
    unsigned v = (unsigned)b[0] << 16 | (n > 1 ? (unsigned)b[1] << 8 : 0u) | (n > 2 ? b[2] : 0u);
    fputc(tab[v >> 18 & 63], out);
    fputc(tab[v >> 12 & 63], out);
    fputc(n > 1 ? tab[v >> 6 & 63] : '=', out);
    fputc(n > 2 ? tab[v & 63] : '=', out);
  }
  int bad = ferror(in);
  fclose(in);
  return bad ? -1 : 0;
}

static void html_cutflow(FILE *f, const char *title, const na64_cutflow *fl)
{
  fprintf(f, "<h3>%s</h3>\n<table><tr><th>cut</th><th>events</th><th>weighted</th><th>error</th></tr>\n", title);
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) {
    fprintf(f, "<tr><td>%s</td><td>%llu</td><td>", na64_cutflow_label(i), (unsigned long long)fl->events[i]);
    put(f, 6, na64_xsum_value(&fl->weighted[i]));
    fputs("</td><td>", f);
    put(f, 3, sqrt(na64_xsum_value(&fl->weighted2[i])));
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

static void html_tables(FILE *f, const na64_job_result *r)
{
  const na64_select_result *s = &r->result;
  fputs("<h2>Signal efficiency</h2>\n<table><tr><th>m_A' [MeV]</th><th>efficiency</th><th>error</th></tr>\n", f);
  for (int i = 0; i < r->nmass; ++i) {
    fputs("<tr><td>", f);
    put(f, 6, r->mass_MeV[i]);
    fputs("</td><td>", f);
    put(f, 4, r->efficiency[i]);
    fputs("</td><td>", f);
    put(f, 4, r->efficiency_error[i]);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n<h2>Background in the signal box</h2>\n<table><tr><th>method</th><th>events in sample</th>"
        "<th>per EOT</th><th>error</th><th>at the quoted EOT</th></tr>\n", f);
  fprintf(f, "<tr><td>simulated box</td><td>%llu</td><td>", (unsigned long long)s->background_pass);
  html_rate(f, s->background_per_eot, s->background_per_eot_error, r->eot_quoted, "</td><td>");
  fputs("</td></tr>\n", f);
  fprintf(f, "<tr><td>sideband extrapolation</td><td>%llu</td><td>", (unsigned long long)s->sideband_events);
  html_rate(f, s->sideband_per_eot, s->sideband_per_eot_error, r->eot_quoted, "</td><td>");
  fputs("</td></tr>\n</table>\n<p>90% CL upper bound per EOT from the simulated sample: ", f);
  put(f, 3, s->background_per_eot_upper);
  fputs(" (NA64 report, Table 1: total &lt; 1e-12 per EOT).</p>\n", f);
  html_routes(f, r);
}

/* The E_ECAL versus E_HCAL plane (events passing every cut but the box) as a PNG 2-D histogram drawn
 * with PLplot (plplot.org, cairo PNG driver): a filled box per non-empty bin, the colour on a log
 * scale of its count, and the outline of the signal box. */
static void render_plane(const na64_select_accum *a, const na64_select_config *c, const char *file)
{
  uint64_t max = 0;
  for (int i = 0; i < NA64_PLANE_NY; ++i)
    for (int j = 0; j < NA64_PLANE_NX; ++j) max = a->plane[i][j] > max ? a->plane[i][j] : max;
  plsstrm(0); /* the stream of src/io/plot.c: ended with plend1, the drivers stay loaded */
  plsdev("pngcairo");
  plsfnam(file);
  plsetopt("geometry", "800x600");
  plscolbg(255, 255, 255);
  plscol0(1, 0, 0, 0);
  plscol0(2, 213, 94, 0); /* Okabe-Ito vermilion: the box */
  plinit();
  plcol0(1);
  plenv(0.0, NA64_PLANE_ECAL_MAX, 0.0, NA64_PLANE_HCAL_MAX, 0, 0);
  pllab("E#dECAL#u [GeV]", "E#dHCAL#u [GeV]", "events passing every cut but the signal box");
  const double dx = NA64_PLANE_ECAL_MAX / NA64_PLANE_NX, dy = NA64_PLANE_HCAL_MAX / NA64_PLANE_NY;
  for (int i = 0; i < NA64_PLANE_NY; ++i)
    for (int j = 0; j < NA64_PLANE_NX; ++j) {
      if (!a->plane[i][j]) continue;
      double x[4] = {j * dx, (j + 1) * dx, (j + 1) * dx, j * dx}, y[4] = {i * dy, i * dy, (i + 1) * dy, (i + 1) * dy};
      plcol1(max > 1 ? 0.15 + 0.85 * log((double)a->plane[i][j]) / log((double)max) : 1.0);
      plfill(4, x, y);
    }
  double bx[5] = {0.0, c->ecal_max, c->ecal_max, 0.0, 0.0}, by[5] = {0.0, 0.0, c->hcal_max, c->hcal_max, 0.0};
  plcol0(2);
  plwidth(2.0);
  plline(5, bx, by);
  plcol0(1);
  plmtex("t", 1.0, 0.98, 1.0, "box: signal region");
  plend1();
}

static int write_plane_png(const na64_job_result *r, const char *path, na64_err *err)
{
  na64_outfile *out = NULL;
  NA64_CALL(na64_outfile_open(path, NA64_OUTFILE_BY_NAME, &out, err));
  locale_t old = na64_c_locale_enter(); /* "0.5" axis labels in any locale */
  render_plane(&r->accum, &r->select, na64_outfile_path(out));
  na64_c_locale_leave(old);
  return na64_outfile_commit(out, err);
}

/* The missing-energy spectrum (events passing every cut but the box, E_HCAL below the box's) as a
 * step curve on a log axis. */
static int write_emiss_png(const na64_job_result *r, const char *path, na64_err *err)
{
  enum { NP = 2 * NA64_EMISS_NBINS };
  double x[NP], y[NP], ymax = 1.0;
  const double w = NA64_EMISS_MAX / NA64_EMISS_NBINS;
  for (int i = 0; i < NA64_EMISS_NBINS; ++i) {
    double v = (double)r->accum.emiss[i];
    x[2 * i] = i * w, x[2 * i + 1] = (i + 1) * w;
    y[2 * i] = y[2 * i + 1] = v > 0.0 ? v : NAN; /* empty bins: gaps on the log axis */
    ymax = v > ymax ? v : ymax;
  }
  na64_plot *p = NULL;
  NA64_CALL(na64_plot_new("Missing energy", "E_miss = p - E_ECAL [GeV]", "events / 2 GeV", 0, 1, 0.0, NA64_EMISS_MAX, 0.5,
                          2.0 * ymax, &p, err));
  int st = na64_plot_curve(p, "every cut but the box, E_HCAL below the box", x, y, NP, 0, 0, err);
  if (st == NA64_OK) st = na64_plot_write(p, path, err);
  na64_plot_free(p);
  return st;
}

/* The plane and the missing-energy spectrum as histograms of the type the monitor serves
 * (na64_hist, src/io; issue 13): one fill per counted event at its bin's centre, so the entries are
 * the events (the accumulator's first and last bins hold its under- and overflow). The exact integer
 * accumulators stay what ranks and batch parts merge; these are their image for the readers. */
static int plane_hist(const na64_select_accum *a, na64_hist **out, na64_err *err)
{
  NA64_CALL(na64_hist_new_2d("ecal_hcal", "E_{ECAL} vs E_{HCAL}, every cut but the box", NA64_PLANE_NX, 0.0,
                             NA64_PLANE_ECAL_MAX, NA64_PLANE_NY, 0.0, NA64_PLANE_HCAL_MAX, out, err));
  const double wx = NA64_PLANE_ECAL_MAX / NA64_PLANE_NX, wy = NA64_PLANE_HCAL_MAX / NA64_PLANE_NY;
  for (int i = 0; i < NA64_PLANE_NY; ++i)
    for (int j = 0; j < NA64_PLANE_NX; ++j)
      for (uint64_t k = 0; k < a->plane[i][j]; ++k) na64_hist_fill2(*out, (j + 0.5) * wx, (i + 0.5) * wy, 1.0);
  return na64_hist_set_axis_titles(*out, "E_{ECAL} [GeV]", "E_{HCAL} [GeV]", err);
}

static int emiss_hist(const na64_select_accum *a, na64_hist **out, na64_err *err)
{
  NA64_CALL(na64_hist_new_1d("missing_energy", "E_{miss} = p - E_{ECAL}, every cut but the box", NA64_EMISS_NBINS, 0.0,
                             NA64_EMISS_MAX, out, err));
  const double w = NA64_EMISS_MAX / NA64_EMISS_NBINS;
  for (int i = 0; i < NA64_EMISS_NBINS; ++i)
    for (uint64_t k = 0; k < a->emiss[i]; ++k) na64_hist_fill(*out, (i + 0.5) * w, 1.0);
  return na64_hist_set_axis_titles(*out, "E_{miss} [GeV]", "events / 2 GeV", err);
}

/* DIR/STEM.json (ROOT's TBufferJSON form: JSROOT draws it) and DIR/STEM.csv, each through na64_outfile. */
static int write_hist_files(const na64_hist *h, const char *dir, const char *stem, na64_err *err)
{
  char path[4096], *json = NULL;
  size_t len = 0;
  NA64_CALL(na64_hist_to_json(h, &json, &len, err));
  snprintf(path, sizeof path, "%s/%s.json", dir, stem);
  int st = na64_outfile_write_all(path, 0, json, len, err);
  free(json);
  if (st != NA64_OK) return st;
  snprintf(path, sizeof path, "%s/%s.csv", dir, stem);
  na64_outfile *o = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &o, err));
  st = na64_hist_write_csv(h, na64_outfile_stream(o), err);
  if (st != NA64_OK) {
    na64_outfile_abort(o);
    return st;
  }
  return na64_outfile_commit(o, err);
}

static int write_report_hists(const na64_job_result *r, const char *dir, na64_err *err)
{
  na64_hist *plane = NULL, *emiss = NULL;
  int st = plane_hist(&r->accum, &plane, err);
  if (st == NA64_OK) st = write_hist_files(plane, dir, "ecal_hcal", err);
  if (st == NA64_OK) st = emiss_hist(&r->accum, &emiss, err);
  if (st == NA64_OK) st = write_hist_files(emiss, dir, "missing_energy", err);
  na64_hist_free(plane);
  na64_hist_free(emiss);
  return st;
}

/* The run card as used (or a note that the built-in defaults were). */
static int copy_card(const char *card, const char *path, na64_err *err)
{
  if (!card) {
    static const char note[] = "# na64 run: no card given, the built-in defaults were used\n";
    return na64_outfile_write_all(path, 0, note, sizeof note - 1, err);
  }
  return na64_outfile_copy(card, path, 0, err);
}

static int write_index(const na64_job_result *r, const char *card, const char *dir, na64_err *err)
{
  char path[4096], png[4096];
  path_in(path, sizeof path, dir, "index.html");
  path_in(png, sizeof png, dir, "limit.png");
  na64_outfile *o = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &o, err));
  FILE *f = na64_outfile_stream(o);
  fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>na64 run</title>\n"
             "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:2px 8px;text-align:right}</style></head><body>\n"
             "<h1>na64 run: invisible-mode selection and limit</h1>\n<p>na64 %s, card %s. Quoted for ",
          na64_version(), card ? card : "(built-in defaults)");
  put(f, 3, r->eot_quoted);
  fputs(" EOT; efficiency per mass (the table below, interpolated in ln m; ", f);
  put(f, 4, r->limit_efficiency);
  fputs(" at the card's mass)", f);
  fprintf(f, ", background %s ", r->limit_background_source);
  put(f, 3, r->limit_background);
  fputs(" &plusmn; ", f);
  put(f, 3, r->limit_background_error);
  fputs(" events. The run card used: card.yaml.</p>\n"
        "<h2>90% CL exclusion</h2>\n<img alt=\"limit\" src=\"data:image/png;base64,", f);
  int bad = embed_file(f, png);
  fputs("\">\n<h2>E<sub>ECAL</sub> versus E<sub>HCAL</sub></h2>\n<img alt=\"ECAL-HCAL plane\" src=\"data:image/png;base64,", f);
  path_in(png, sizeof png, dir, "ecal_hcal.png");
  bad |= embed_file(f, png);
  fputs("\">\n<h2>Missing energy</h2>\n<img alt=\"missing energy\" src=\"data:image/png;base64,", f);
  path_in(png, sizeof png, dir, "missing_energy.png");
  bad |= embed_file(f, png);
  fputs("\">\n<h2>Cut flow</h2>\n", f);
  html_cutflow(f, "all events", &r->accum.all);
  html_cutflow(f, "signal (A' emitted)", &r->accum.signal);
  html_cutflow(f, "background (no A')", &r->accum.background);
  html_tables(f, r);
  fputs("<p>Files: cutflow.csv, selection.json, efficiency.csv, background.csv, limit.csv, limit_hepdata.yaml, "
        "limit.svg, ecal_hcal.png, missing_energy.png, card.yaml; the physics summary and sensitivity curves of summary.csv and invisible_*.</p>\n</body></html>\n", f);
  if (bad) {
    na64_outfile_abort(o);
    return na64_err_set(err, NA64_EIO, "%s: cannot read a plot to embed", dir);
  }
  return na64_outfile_commit(o, err);
}

int na64_job_write_report(const na64_job_result *r, const char *card, const char *dir, na64_err *err)
{
  char p[4096];
  path_in(p, sizeof p, dir, "cutflow.csv");
  NA64_CALL(na64_cutflow_write_csv(&r->accum.all, p, err));
  path_in(p, sizeof p, dir, "selection.json");
  NA64_CALL(na64_select_write_json(&r->accum, &r->result, r->eot_quoted, p, err));
  path_in(p, sizeof p, dir, "background.csv");
  NA64_CALL(write_background_csv(r, p, err));
  path_in(p, sizeof p, dir, "efficiency.csv");
  NA64_CALL(write_efficiency_csv(r, p, err));
  path_in(p, sizeof p, dir, "limit.csv");
  NA64_CALL(na64_sens_curve_write_csv(&r->limit_options, &r->limit, p, err));
  path_in(p, sizeof p, dir, "limit_hepdata.yaml");
  NA64_CALL(na64_sens_curve_write_hepdata(&r->limit_options, &r->limit, p, err));
  path_in(p, sizeof p, dir, "limit.svg");
  NA64_CALL(na64_sens_curve_plot(&r->limit_options, &r->limit, p, err));
  path_in(p, sizeof p, dir, "limit.png");
  NA64_CALL(na64_sens_curve_plot(&r->limit_options, &r->limit, p, err));
  path_in(p, sizeof p, dir, "ecal_hcal.png");
  NA64_CALL(write_plane_png(r, p, err));
  path_in(p, sizeof p, dir, "missing_energy.png");
  NA64_CALL(write_emiss_png(r, p, err));
  NA64_CALL(write_report_hists(r, dir, err));
  path_in(p, sizeof p, dir, "card.yaml");
  NA64_CALL(copy_card(card, p, err));
  return write_index(r, card, dir, err);
}
