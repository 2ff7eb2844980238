/*
 * The report files of the main job (na64_job_write_report): the cut flow, the selection summary,
 * the efficiency scan, the background table, the limit (CSV, plot, HEPData) and one self-contained
 * index.html with the plot embedded (base64 data URI, RFC 2397 / RFC 4648), so that the page opens
 * in any browser without the other files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  put(f, 3, s->background_per_eot);
  fputs("</td><td>", f);
  put(f, 3, s->background_per_eot_error);
  fputs("</td><td>", f);
  put(f, 3, s->background_per_eot * r->eot_quoted);
  fputs("</td></tr>\n", f);
  fprintf(f, "<tr><td>sideband extrapolation</td><td>%llu</td><td>", (unsigned long long)s->sideband_events);
  put(f, 3, s->sideband_per_eot);
  fputs("</td><td>", f);
  put(f, 3, s->sideband_per_eot_error);
  fputs("</td><td>", f);
  put(f, 3, s->sideband_per_eot * r->eot_quoted);
  fputs("</td></tr>\n</table>\n<p>90% CL upper bound per EOT from the simulated sample: ", f);
  put(f, 3, s->background_per_eot_upper);
  fputs(" (NA64 report, Table 1: total &lt; 1e-12 per EOT).</p>\n", f);
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
  fputs(" EOT; efficiency used ", f);
  put(f, 4, r->limit_efficiency);
  fprintf(f, ", background %s ", r->limit_background_source);
  put(f, 3, r->limit_background);
  fputs(" &plusmn; ", f);
  put(f, 3, r->limit_background_error);
  fputs(" events. Rows of the events table: STAND-IN from the simulation truth until the reconstruction lands.</p>\n"
        "<h2>90% CL exclusion</h2>\n<img alt=\"limit\" src=\"data:image/png;base64,", f);
  int bad = embed_file(f, png);
  fputs("\">\n<h2>Cut flow</h2>\n", f);
  html_cutflow(f, "all events", &r->accum.all);
  html_cutflow(f, "signal (A' emitted)", &r->accum.signal);
  html_cutflow(f, "background (no A')", &r->accum.background);
  html_tables(f, r);
  fputs("<p>Files: cutflow.csv, selection.json, efficiency.csv, background.csv, limit.csv, limit_hepdata.yaml, "
        "limit.svg; the physics summary and sensitivity curves of summary.csv and invisible_*.</p>\n</body></html>\n", f);
  if (bad) {
    na64_outfile_abort(o);
    return na64_err_set(err, NA64_EIO, "%s: cannot read the plot to embed", png);
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
  NA64_CALL(na64_select_write_background_csv(&r->result, r->eot_quoted, p, err));
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
  return write_index(r, card, dir, err);
}
