/*
 * Efficiency, background and the sideband extrapolation of a selected sample, and their files
 * (docs/selection.md). Sums are exact (na64_xsum), so the results do not depend on the order of
 * the events or on the number of threads.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/ana.h"

void na64_select_accum_init(na64_select_accum *a)
{
  memset(a, 0, sizeof *a);
  na64_cutflow_init(&a->all);
  na64_cutflow_init(&a->signal);
  na64_cutflow_init(&a->background);
  na64_xsum_init(&a->sideband_w);
  na64_xsum_init(&a->sideband_we);
  na64_xsum_init(&a->sideband_w2);
}

/* Every cut but the box passes and the event lies in the HCAL sideband of the box's ECAL range. */
static int in_sideband(const na64_select_config *c, const na64_reco_event *e, unsigned bits)
{
  unsigned others = ((1u << NA64_NCUTS) - 1) & ~(1u << NA64_CUT_BOX);
  return (bits & others) == others && e->ecal_energy < c->ecal_max && e->hcal_energy >= c->hcal_max &&
         e->hcal_energy < c->hcal_sideband_max;
}

/* Bin of x in [0, max) with nbins bins, the overflow in the last and negative values (noise around
 * zero) in the first; -1 for NaN. */
static int bin_of(double x, double max, int nbins)
{
  if (isnan(x)) return -1;
  if (x < 0.0) return 0;
  int b = (int)(x / max * nbins);
  return b < nbins ? b : nbins - 1;
}

/* The plane and the missing energy of an event that passes every cut but the box. */
static void fill_plane(na64_select_accum *a, const na64_select_config *c, const na64_reco_event *e, unsigned bits)
{
  unsigned others = ((1u << NA64_NCUTS) - 1) & ~(1u << NA64_CUT_BOX);
  if ((bits & others) != others) return;
  int bx = bin_of(e->ecal_energy, NA64_PLANE_ECAL_MAX, NA64_PLANE_NX), by = bin_of(e->hcal_energy, NA64_PLANE_HCAL_MAX, NA64_PLANE_NY);
  if (bx >= 0 && by >= 0) a->plane[by][bx]++;
  int bm = bin_of(e->momentum - e->ecal_energy, NA64_EMISS_MAX, NA64_EMISS_NBINS);
  if (bm >= 0 && e->hcal_energy < c->hcal_max) a->emiss[bm]++;
}

void na64_select_accum_fill(na64_select_accum *a, const na64_select_config *c, const na64_reco_event *e, int is_signal)
{
  na64_cutflow_fill(&a->all, c, e);
  na64_cutflow_fill(is_signal ? &a->signal : &a->background, c, e);
  unsigned bits = na64_select_event(c, e);
  fill_plane(a, c, e, bits);
  if (!is_signal && in_sideband(c, e, bits)) {
    a->sideband_n++;
    na64_xsum_add(&a->sideband_w, e->weight);
    na64_xsum_add(&a->sideband_we, e->weight * (e->hcal_energy - c->hcal_max));
    na64_xsum_add(&a->sideband_w2, e->weight * e->weight);
  }
}

void na64_select_accum_fill_untriggered(na64_select_accum *a, double w, int is_signal)
{
  na64_cutflow_fill_untriggered(&a->all, w);
  na64_cutflow_fill_untriggered(is_signal ? &a->signal : &a->background, w);
}

void na64_select_accum_merge(na64_select_accum *a, const na64_select_accum *b)
{
  na64_cutflow_merge(&a->all, &b->all);
  na64_cutflow_merge(&a->signal, &b->signal);
  na64_cutflow_merge(&a->background, &b->background);
  a->sideband_n += b->sideband_n;
  na64_xsum_merge(&a->sideband_w, &b->sideband_w);
  na64_xsum_merge(&a->sideband_we, &b->sideband_we);
  na64_xsum_merge(&a->sideband_w2, &b->sideband_w2);
  for (int i = 0; i < NA64_PLANE_NY; ++i)
    for (int j = 0; j < NA64_PLANE_NX; ++j) a->plane[i][j] += b->plane[i][j];
  for (int i = 0; i < NA64_EMISS_NBINS; ++i) a->emiss[i] += b->emiss[i];
}

/* Mean of an exponential of scale lambda truncated to [0, L): lambda - L / (e^{L/lambda} - 1). */
static double trunc_exp_mean(double lambda, double L) { return lambda - L / expm1(L / lambda); }

/* Maximum-likelihood scale of a truncated exponential with sample mean m on [0, L): the mean is
 * monotonic in lambda, from 0 to L/2 (flat), so bisection in log(lambda) finds it. m >= L/2: no
 * falling shape, INFINITY. */
static double trunc_exp_fit(double m, double L)
{
  if (!(m > 0) || m >= 0.5 * L) return m > 0 ? INFINITY : NAN;
  double lo = 1e-6 * L, hi = 1e6 * L;
  for (int it = 0; it < 200; ++it) {
    double mid = sqrt(lo * hi);
    if (trunc_exp_mean(mid, L) < m) lo = mid;
    else hi = mid;
  }
  return sqrt(lo * hi);
}

/* Box/sideband ratio of exp(-E/lambda): integral over [0, h1) / integral over [h1, h2). */
static double box_ratio(double lambda, double h1, double h2)
{
  if (isinf(lambda)) return h1 / (h2 - h1);
  return -expm1(-h1 / lambda) / (exp(-h1 / lambda) - exp(-h2 / lambda));
}

static void sideband_compute(const na64_select_config *c, const na64_select_accum *a, na64_select_result *r)
{
  double W = na64_xsum_value(&a->sideband_w), W2 = na64_xsum_value(&a->sideband_w2);
  r->sideband_events = a->sideband_n;
  r->sideband_weight = W;
  r->sideband_slope = r->sideband_extrapolated = r->sideband_extrapolated_error = NAN;
  if (a->sideband_n < 2 || !(W > 0)) return;
  double L = c->hcal_sideband_max - c->hcal_max;
  double lambda = trunc_exp_fit(na64_xsum_value(&a->sideband_we) / W, L);
  double neff = W * W / W2; /* effective number of events (Kish) */
  double R = box_ratio(lambda, c->hcal_max, c->hcal_sideband_max);
  r->sideband_slope = lambda;
  r->sideband_extrapolated = W * R;
  /* statistical error: Poisson of the sideband weight and the scale's MLE error lambda / sqrt(n_eff)
   * (exponential, asymptotic) propagated through R by a central difference */
  double dR = 0.0;
  if (isfinite(lambda)) {
    double dl = lambda / sqrt(neff);
    double lo = fmax(1e-3 * lambda, lambda - dl);
    dR = 0.5 * fabs(box_ratio(lambda + dl, c->hcal_max, c->hcal_sideband_max) -
                    box_ratio(lo, c->hcal_max, c->hcal_sideband_max));
  }
  r->sideband_extrapolated_error = sqrt(W2 * R * R + W * W * dR * dR);
}

int na64_select_result_compute(const na64_select_config *c, const na64_select_accum *a, double eot,
                               na64_select_result *r, na64_err *err)
{
  if (!(eot > 0) || !isfinite(eot)) return na64_err_set(err, NA64_EINVAL, "selection result: EOT = %g must be > 0", eot);
  memset(r, 0, sizeof *r);
  r->eot = eot;
  const na64_cutflow *s = &a->signal, *b = &a->background;
  r->signal_events = s->events[0];
  r->signal_pass = s->events[NA64_CUTFLOW_ROWS - 1];
  double W = na64_xsum_value(&s->weighted[0]), Wp = na64_xsum_value(&s->weighted[NA64_CUTFLOW_ROWS - 1]);
  double W2 = na64_xsum_value(&s->weighted2[0]), Wp2 = na64_xsum_value(&s->weighted2[NA64_CUTFLOW_ROWS - 1]);
  r->signal_weight = W;
  r->signal_pass_weight = Wp;
  r->efficiency = r->efficiency_error = NAN;
  if (W > 0) {
    double eff = Wp / W;
    /* variance of a ratio of weighted binomial sums: passed and failed events independent */
    double var = (Wp2 * (1 - eff) * (1 - eff) + (W2 - Wp2) * eff * eff) / (W * W);
    r->efficiency = eff;
    r->efficiency_error = sqrt(fmax(var, 0.0));
  }
  r->background_pass = b->events[NA64_CUTFLOW_ROWS - 1];
  r->background_weight = na64_xsum_value(&b->weighted[NA64_CUTFLOW_ROWS - 1]);
  r->background_weight_error = sqrt(na64_xsum_value(&b->weighted2[NA64_CUTFLOW_ROWS - 1]));
  r->background_per_eot = r->background_weight / eot;
  r->background_per_eot_error = r->background_weight_error / eot;
  /* 90% CL Poisson upper bound on the count (2.303 for none; PDG statistics review), per EOT */
  double up = 0.0;
  NA64_CALL(na64_stats_poisson_upper((int)fmin((double)r->background_pass, 1e6), 0.0, 0.90, &up, err));
  /* mean weight of the events in the box times the Poisson bound on their number */
  double wmean = r->background_pass ? r->background_weight / (double)r->background_pass : 1.0;
  r->background_per_eot_upper = wmean * up / eot;
  sideband_compute(c, a, r);
  r->sideband_per_eot = r->sideband_extrapolated / eot;
  r->sideband_per_eot_error = r->sideband_extrapolated_error / eot;
  return NA64_OK;
}

/* ---- files ---- */

/* A number as JSON (null for NaN/inf) or CSV (empty), in the C locale. */
static void put_num(FILE *f, double x, int json)
{
  char buf[64];
  if (!isfinite(x)) {
    fputs(json ? "null" : "", f);
    return;
  }
  na64_num_format(buf, sizeof buf, "%.12g", x);
  fputs(buf, f);
}

static void flow_rows_json(FILE *f, const na64_cutflow *fl)
{
  fputs("[", f);
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) {
    fprintf(f, "%s\n    {\"cut\": \"%s\", \"events\": %llu, \"weighted\": ", i ? "," : "", na64_cutflow_label(i),
            (unsigned long long)fl->events[i]);
    put_num(f, na64_xsum_value(&fl->weighted[i]), 1);
    fputs(", \"weighted_error\": ", f);
    put_num(f, sqrt(na64_xsum_value(&fl->weighted2[i])), 1);
    fputs("}", f);
  }
  fputs("\n  ]", f);
}

int na64_cutflow_write_csv(const na64_cutflow *fl, const char *path, na64_err *err)
{
  na64_outfile *o = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &o, err));
  FILE *f = na64_outfile_stream(o);
  fputs("cut,events,weighted,weighted_error\n", f);
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) {
    fprintf(f, "%s,%llu,", na64_cutflow_label(i), (unsigned long long)fl->events[i]);
    put_num(f, na64_xsum_value(&fl->weighted[i]), 0);
    fputc(',', f);
    put_num(f, sqrt(na64_xsum_value(&fl->weighted2[i])), 0);
    fputc('\n', f);
  }
  return na64_outfile_commit(o, err);
}

int na64_cutflow_write_json(const na64_cutflow *fl, const char *path, na64_err *err)
{
  na64_outfile *o = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &o, err));
  FILE *f = na64_outfile_stream(o);
  fputs("{\n  \"cut_flow\": ", f);
  flow_rows_json(f, fl);
  fputs("\n}\n", f);
  return na64_outfile_commit(o, err);
}

static void json_pair(FILE *f, const char *key, double v, const char *sep)
{
  fprintf(f, "\"%s\": ", key);
  put_num(f, v, 1);
  fputs(sep, f);
}

int na64_select_write_json(const na64_select_accum *a, const na64_select_result *r, double eot_q, const char *path,
                           na64_err *err)
{
  na64_outfile *o = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &o, err));
  na64_select_print_json(a, r, eot_q, na64_outfile_stream(o));
  return na64_outfile_commit(o, err);
}

void na64_select_print_json(const na64_select_accum *a, const na64_select_result *r, double eot_q, FILE *f)
{
  fputs("{\n  \"cut_flow\": ", f);
  flow_rows_json(f, &a->all);
  fputs(",\n  \"cut_flow_signal\": ", f);
  flow_rows_json(f, &a->signal);
  fputs(",\n  \"cut_flow_background\": ", f);
  flow_rows_json(f, &a->background);
  fputs(",\n  \"efficiency\": {", f);
  json_pair(f, "value", r->efficiency, ", ");
  json_pair(f, "error", r->efficiency_error, ", ");
  fprintf(f, "\"signal_events\": %llu, \"signal_passed\": %llu},\n", (unsigned long long)r->signal_events,
          (unsigned long long)r->signal_pass);
  fputs("  \"background\": {", f);
  json_pair(f, "eot_simulated", r->eot, ", ");
  json_pair(f, "eot_quoted", eot_q, ", ");
  fprintf(f, "\"events_in_box\": %llu, ", (unsigned long long)r->background_pass);
  json_pair(f, "per_eot", r->background_per_eot, ", ");
  json_pair(f, "per_eot_error", r->background_per_eot_error, ", ");
  json_pair(f, "per_eot_upper90", r->background_per_eot_upper, ", ");
  json_pair(f, "value", r->background_per_eot * eot_q, ", ");
  json_pair(f, "error", r->background_per_eot_error * eot_q, ", ");
  fprintf(f, "\"sideband_events\": %llu, ", (unsigned long long)r->sideband_events);
  json_pair(f, "sideband_slope_GeV", r->sideband_slope, ", ");
  json_pair(f, "sideband_value", r->sideband_per_eot * eot_q, ", ");
  json_pair(f, "sideband_error", r->sideband_per_eot_error * eot_q, "");
  fputs("}\n}\n", f);
}

int na64_select_write_background_csv(const na64_select_result *r, double eot_q, const char *path, na64_err *err)
{
  na64_outfile *o = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &o, err));
  FILE *f = na64_outfile_stream(o);
  fputs("method,events_in_sample,per_eot,per_eot_error,expected,expected_error,eot\n", f);
  const char *names[2] = {"simulated_box", "sideband_extrapolation"};
  double n[2] = {(double)r->background_pass, (double)r->sideband_events};
  double v[2] = {r->background_per_eot, r->sideband_per_eot}, e[2] = {r->background_per_eot_error, r->sideband_per_eot_error};
  for (int k = 0; k < 2; ++k) {
    fprintf(f, "%s,%.0f,", names[k], n[k]);
    put_num(f, v[k], 0);
    fputc(',', f);
    put_num(f, e[k], 0);
    fputc(',', f);
    put_num(f, v[k] * eot_q, 0);
    fputc(',', f);
    put_num(f, e[k] * eot_q, 0);
    fputc(',', f);
    put_num(f, eot_q, 0);
    fputc('\n', f);
  }
  return na64_outfile_commit(o, err);
}
