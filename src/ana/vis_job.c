/*
 * The job of `na64 run` on a visible card (issue 12; docs/visible.md, "na64 run"): every event is
 * simulated (src/sim/vis_event.c), digitised into a DATE event in memory (vis_digi.c), read back by
 * the DATE reader and reconstructed (src/reco/vis_reco.c), then selected (vis_select.c) - the same
 * path as real raw data (DESIGN.md).
 *
 * Samples: beam electrons (analysis.events: the cut flow of ordinary events and a 90% CL bound on
 * their leakage into the signal region, 2.303 / events per EOT when none passes); the signal at the
 * card's (m, eps) (analysis.signal_events: the signal cut flow); and for each mass of
 * analysis.masses_MeV the efficiency at three couplings (the lower edge, the middle and the upper
 * edge of the island at efficiency 1). The island: N(eps) = EOT x Y(m, eps) x eff(m, eps) >= 2.303
 * (90% CL, 0 events observed, no background: PRL 120 231802 observed none), with Y the track-length
 * yield of A' with E_A' >= 0.5 E0 decaying in the decay region (physics/yield.c; the dump of the
 * simulation, na64_vis_sim_beamdump) and eff interpolated linearly in ln eps between the three
 * measured points (held constant outside them): the efficiency includes the decay position
 * through the simulated decays.
 *
 * Backgrounds (run_backgrounds): the Table 2 sources of src/sim/vis_bkg.c in the box of the card's
 * selection, per EOT and at the quoted EOT; their total b +- db replaces the background-free 2.303
 * by the CLs 90% upper limit at the background-only median count (0 while b < ln 2).
 *
 * Threads (analysis.threads): a sample's events are split into contiguous ranges, one per thread,
 * each with its own digitiser and reconstruction on the shared (read-only) simulation; every event
 * draws from its own streams (seed, event number) and the cut flows are integer counts added after
 * the join, so the results and the report do not depend on the number of threads
 * (tests/ana/test_vis_job_threads.c compares the report files byte by byte).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"

#define N_UP 2.303        /* Poisson 90% CL upper limit for 0 observed events (PDG statistics review) */
#define EPS_GRID 600      /* log grid of the island's edges, 1e-7 .. 1 */
#define SIGNAL_SEED 1000003u

typedef struct vis_chain {
  na64_vis_sim *sim;
  na64_vis_digitizer *digi;
  na64_vis_reco *reco;
} vis_chain;

static void chain_free(vis_chain *c)
{
  na64_vis_reco_free(c->reco);
  na64_vis_digitizer_free(c->digi);
  na64_vis_sim_free(c->sim);
}

static int chain_new(const na64_vis_config *cfg, vis_chain *c, na64_err *err)
{
  memset(c, 0, sizeof *c);
  int st = na64_vis_sim_new(cfg, &c->sim, err);
  if (st == NA64_OK) st = na64_vis_digitizer_new(c->sim, &c->digi, err);
  if (st == NA64_OK) st = na64_vis_reco_new(na64_vis_sim_geom(c->sim), &c->reco, err);
  if (st != NA64_OK) chain_free(c);
  return st;
}

/* one event through simulation, DATE, reader and reconstruction */
static int event_row(vis_chain *c, uint64_t seed, uint64_t i, int signal, na64_vis_reco_event *row, na64_err *err)
{
  na64_vis_sim_event ev;
  NA64_CALL(na64_vis_sim_event_generate(c->sim, seed, i, signal, &ev, err));
  na64_daq_writer *w = NULL;
  void *buf = NULL;
  size_t len = 0;
  NA64_CALL(na64_daq_writer_open_memory(NULL, &w, err));
  int st = na64_vis_digitize_write(c->digi, &ev, seed, (uint32_t)i, w, err);
  if (st != NA64_OK) {
    na64_daq_writer_close(w, NULL);
    return st;
  }
  NA64_CALL(na64_daq_writer_close_memory(w, &buf, &len, err));
  na64_daq_reader *r = NULL;
  na64_daq_event de;
  st = na64_daq_reader_open_memory(buf, len, "simulated event", NULL, &r, err);
  if (st == NA64_OK) st = na64_daq_reader_next_event(r, &de, err);
  if (st == NA64_OK) st = na64_vis_reco_process(c->reco, &de, row, err);
  na64_daq_reader_close(r);
  free(buf);
  return st;
}

/* n events of one kind through the chain into a cut flow */
static int run_sample(const na64_vis_config *cfg, const na64_vis_select_config *sel, uint64_t seed, long n, int signal,
                      na64_vis_cutflow *flow, na64_err *err)
{
  vis_chain c;
  memset(flow, 0, sizeof *flow);
  NA64_CALL(chain_new(cfg, &c, err));
  int st = NA64_OK;
  for (long i = 0; i < n && st == NA64_OK; ++i) {
    na64_vis_reco_event row;
    st = event_row(&c, seed, (uint64_t)i, signal, &row, err);
    if (st == NA64_OK) na64_vis_cutflow_fill(flow, sel, &row);
  }
  chain_free(&c);
  return st;
}

/* ---- threads: one contiguous range of event numbers per thread ---- */
#define VIS_MAX_THREADS 64

typedef struct sample_part {
  na64_vis_sim *sim; /* shared, only read */
  const na64_vis_select_config *sel;
  uint64_t seed, first, n;
  int signal;
  na64_vis_cutflow flow;
  int status;
  na64_err err;
} sample_part;

static void *sample_part_run(void *arg)
{
  sample_part *p = arg;
  vis_chain c = {p->sim, NULL, NULL};
  memset(&p->flow, 0, sizeof p->flow);
  p->status = na64_vis_digitizer_new(p->sim, &c.digi, &p->err);
  if (p->status == NA64_OK) p->status = na64_vis_reco_new(na64_vis_sim_geom(p->sim), &c.reco, &p->err);
  for (uint64_t i = p->first; i < p->first + p->n && p->status == NA64_OK; ++i) {
    na64_vis_reco_event row;
    p->status = event_row(&c, p->seed, i, p->signal, &row, &p->err);
    if (p->status == NA64_OK) na64_vis_cutflow_fill(&p->flow, p->sel, &row);
  }
  na64_vis_reco_free(c.reco);
  na64_vis_digitizer_free(c.digi);
  return NULL;
}

/* run_sample with `threads` threads (<= 1: the calling thread only); the same cut flow for any number */
static int run_sample_threads(const na64_vis_config *cfg, const na64_vis_select_config *sel, uint64_t seed, long n,
                              int signal, int threads, na64_vis_cutflow *flow, na64_err *err)
{
  if (threads <= 1 || n < 2) return run_sample(cfg, sel, seed, n, signal, flow, err);
  int nt = threads > VIS_MAX_THREADS ? VIS_MAX_THREADS : threads;
  if (nt > n) nt = (int)n;
  memset(flow, 0, sizeof *flow);
  na64_vis_sim *sim = NULL;
  NA64_CALL(na64_vis_sim_new(cfg, &sim, err));
  sample_part parts[VIS_MAX_THREADS];
  pthread_t tid[VIS_MAX_THREADS];
  int started[VIS_MAX_THREADS] = {0};
  uint64_t per = ((uint64_t)n + (uint64_t)nt - 1) / (uint64_t)nt;
  for (int t = 0; t < nt; ++t) {
    uint64_t a = (uint64_t)t * per, b = a + per > (uint64_t)n ? (uint64_t)n : a + per;
    parts[t] = (sample_part){sim, sel, seed, a, b > a ? b - a : 0, signal, {{0}}, NA64_OK, {0, ""}};
    if (t > 0) started[t] = pthread_create(&tid[t], NULL, sample_part_run, &parts[t]) == 0;
    if (t > 0 && !started[t]) sample_part_run(&parts[t]); /* no thread available: run it here */
  }
  sample_part_run(&parts[0]);
  for (int t = 1; t < nt; ++t)
    if (started[t]) pthread_join(tid[t], NULL);
  int st = NA64_OK;
  for (int t = 0; t < nt; ++t) {
    if (parts[t].status != NA64_OK && st == NA64_OK) { /* the first failing range in event order */
      st = parts[t].status;
      if (err) *err = parts[t].err;
    }
    for (int k = 0; k <= NA64_VIS_NCUTS; ++k) flow->events[k] += parts[t].flow.events[k];
  }
  na64_vis_sim_free(sim);
  return st;
}

static int load(const char *path, na64_vis_job_result *res, na64_err *err)
{
  na64_vis_config_default(&res->sim);
  na64_vis_select_config_default(&res->select);
  na64_job_config_default(&res->job);
  res->job.events = 20000;
  res->job.signal_events = 5000;
  snprintf(res->job.masses, sizeof res->job.masses, "2,10,16.7,20");
  NA64_CALL(na64_vis_config_load(path, &res->sim, err));
  na64_card *card = NULL;
  NA64_CALL(na64_card_load(path, &card, err));
  int st = na64_vis_select_config_read(card, &res->select, err);
  if (st == NA64_OK) st = na64_job_config_read(card, &res->job, err);
  na64_card_free(card);
  if (st == NA64_EINVAL) na64_err_prefix(err, "%s: ", path);
  res->select.beam_energy = res->sim.beam_energy;
  res->select.momentum_spread = res->sim.momentum_spread;
  res->select.wcal_stochastic = res->sim.wcal_stochastic;
  res->select.ecal_stochastic = res->sim.ecal_stochastic;
  return st;
}

/* efficiency at eps by linear interpolation in ln eps between the measured points, constant outside */
static double eff_at(const double *e_eps, const double *e, double eps)
{
  int n = 0, idx[NA64_VIS_EFF_POINTS];
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k)
    if (isfinite(e[k]) && e_eps[k] > 0.0) idx[n++] = k;
  if (n == 0) return 0.0;
  if (eps <= e_eps[idx[0]]) return e[idx[0]];
  for (int j = 1; j < n; ++j) {
    int a = idx[j - 1], b = idx[j];
    if (eps <= e_eps[b]) {
      double f = log(eps / e_eps[a]) / log(e_eps[b] / e_eps[a]);
      return e[a] + f * (e[b] - e[a]);
    }
  }
  return e[idx[n - 1]];
}

static double expected(const na64_yield *y, double eot, const double *e_eps, const double *e, double eps)
{
  return eot * na64_yield_per_eot(y, eps) * (e ? eff_at(e_eps, e, eps) : 1.0);
}

/* the excluded range [lo, hi] of N(eps) >= n_up on the log grid, edges refined by bisection in ln eps */
static void island(const na64_yield *y, double eot, const double *e_eps, const double *e, double n_up, double *lo, double *hi)
{
  *lo = *hi = NAN;
  double prev_eps = 0.0;
  int prev_in = 0;
  for (int i = 0; i <= EPS_GRID; ++i) {
    double eps = pow(10.0, -7.0 + 7.0 * i / EPS_GRID);
    int in = expected(y, eot, e_eps, e, eps) >= n_up;
    if (i > 0 && in != prev_in) {
      double a = prev_eps, b = eps; /* N - n_up changes sign between a and b */
      for (int it = 0; it < 40; ++it) {
        double m = sqrt(a * b);
        if ((expected(y, eot, e_eps, e, m) >= n_up) == prev_in) a = m;
        else b = m;
      }
      double edge = sqrt(a * b);
      if (in && isnan(*lo)) *lo = edge;
      if (!in) *hi = edge;
    }
    prev_eps = eps;
    prev_in = in;
  }
}

static int alloc_result(na64_vis_job_result *res, int n, na64_err *err)
{
  res->nmass = n;
  res->eff_eps = calloc((size_t)n, sizeof *res->eff_eps);
  res->eff = calloc((size_t)n, sizeof *res->eff);
  res->eff_err = calloc((size_t)n, sizeof *res->eff_err);
  res->eps_low = calloc((size_t)n, sizeof(double));
  res->eps_high = calloc((size_t)n, sizeof(double));
  res->eps_low_ideal = calloc((size_t)n, sizeof(double));
  res->eps_high_ideal = calloc((size_t)n, sizeof(double));
  if (!res->eff_eps || !res->eff || !res->eff_err || !res->eps_low || !res->eps_high || !res->eps_low_ideal ||
      !res->eps_high_ideal)
    return na64_err_set(err, NA64_ENOMEM, "visible job: out of memory");
  return NA64_OK;
}

/* efficiency and island at mass index i */
static int mass_point(na64_vis_job_result *res, int i, const na64_beamdump *dump, double eot, na64_err *err)
{
  double m = res->mass_MeV[i] * 1e-3;
  na64_yield *y = NULL;
  NA64_CALL(na64_yield_new(dump, m, &y, err));
  double lo1, hi1;
  island(y, eot, NULL, NULL, res->n_up, &lo1, &hi1);
  res->eps_low_ideal[i] = lo1;
  res->eps_high_ideal[i] = hi1;
  res->eps_low[i] = res->eps_high[i] = NAN;
  int st = NA64_OK;
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) res->eff_eps[i][k] = res->eff[i][k] = res->eff_err[i][k] = NAN;
  if (isfinite(lo1) && isfinite(hi1)) {
    const double pts[NA64_VIS_EFF_POINTS] = {lo1, sqrt(lo1 * hi1), hi1};
    long n = res->job.signal_events;
    for (int k = 0; k < NA64_VIS_EFF_POINTS && st == NA64_OK; ++k) {
      na64_vis_config cfg = res->sim;
      cfg.aprime_mass = m;
      cfg.aprime_eps = pts[k];
      na64_vis_cutflow f;
      uint64_t seed = (uint64_t)res->job.seed + SIGNAL_SEED * (uint64_t)(2 + NA64_VIS_EFF_POINTS * i + k);
      st = run_sample_threads(&cfg, &res->select, seed, n, 1, (int)res->job.threads, &f, err);
      if (st != NA64_OK) break;
      double e = (double)f.events[NA64_VIS_NCUTS] / (double)n;
      res->eff_eps[i][k] = pts[k];
      res->eff[i][k] = e;
      res->eff_err[i][k] = sqrt(e * (1.0 - e) / (double)n); /* binomial */
    }
    if (st == NA64_OK) island(y, eot, res->eff_eps[i], res->eff[i], res->n_up, &res->eps_low[i], &res->eps_high[i]);
  }
  na64_yield_free(y);
  if (st != NA64_OK) na64_err_prefix(err, "efficiency at %g MeV: ", res->mass_MeV[i]);
  return st;
}

/* The Table 2 backgrounds (src/sim/vis_bkg.c) in the box of the card's selection, their total
 * per EOT and at the quoted EOT, and n_up: the CLs upper limit (statistics section, b +- db as a
 * truncated Gaussian prior) at the background-only median count, the island's threshold. */
static int run_backgrounds(const char *path, na64_vis_job_result *res, na64_err *err)
{
  na64_vis_bkg_config *bc = &res->bkg_config;
  na64_vis_bkg_config_default(bc);
  na64_card *card = NULL;
  NA64_CALL(na64_card_load(path, &card, err));
  int st = na64_vis_bkg_config_read(card, bc, err);
  na64_card_free(card);
  if (st != NA64_OK) {
    if (st == NA64_EINVAL) na64_err_prefix(err, "%s: ", path); /* the card reader's own errors carry file:line */
    return st;
  }
  const na64_vis_select_config *sel = &res->select;
  bc->wcal_fraction_max = sel->enabled[NA64_VIS_CUT_WCAL] ? sel->wcal_fraction_max : 1.0;
  bc->ecal_fraction_min = sel->enabled[NA64_VIS_CUT_ECAL] ? sel->ecal_fraction_min : 1e-3;
  bc->energy_sum_sigmas = sel->enabled[NA64_VIS_CUT_ENERGY_SUM] ? sel->energy_sum_sigmas : 1e9;
  bc->v2_max_mips = sel->enabled[NA64_VIS_CUT_V2] ? sel->v2_max_mips : 1e9;
  bc->s4_min_mips = sel->enabled[NA64_VIS_CUT_S4] ? sel->s4_min_mips : 0.0;
  bc->s4_max_mips = sel->enabled[NA64_VIS_CUT_S4] ? sel->s4_max_mips : 1e9;
  na64_vis_sim *s = NULL;
  NA64_CALL(na64_vis_sim_new(&res->sim, &s, err));
  double var = 0.0;
  res->bkg_total = 0.0;
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES && st == NA64_OK; ++i) {
    st = na64_vis_bkg_estimate(s, bc, i, (uint64_t)res->job.seed, &res->bkg[i], err);
    res->bkg_total += res->bkg[i].rate;
    var += res->bkg[i].error * res->bkg[i].error;
  }
  na64_vis_sim_free(s);
  if (st != NA64_OK) return st;
  res->bkg_total_error = sqrt(var);
  res->bkg_events = res->bkg_total * res->job.eot;
  res->bkg_events_error = res->bkg_total_error * res->job.eot;
  na64_cls_config cls;
  na64_cls_config_default(&cls);
  cls.b = res->bkg_events;
  cls.db = res->bkg_events_error;
  NA64_CALL(na64_stats_bkg_quantile(&cls, 0.5, &res->bkg_median_n, err));
  return na64_stats_cls_limit(&cls, res->bkg_median_n, &res->n_up, err);
}

/* The X17 at 16.7 MeV for both couplings the ATOMKI anomaly allows (issue 12), efficiency 1: the
 * vector (the A' of the dump) and the pseudoscalar a (exact cross section, its own lifetime;
 * physics/yield.c). The measured efficiency is the vector's and is not applied to either. */
#define X17_MASS 0.0167
static int x17_couplings(na64_vis_job_result *res, const na64_beamdump *dump, na64_err *err)
{
  res->x17_eps_low[0] = res->x17_eps_low[1] = res->x17_eps_high[0] = res->x17_eps_high[1] = NAN;
  for (int i = 0; i < res->nmass; ++i)
    if (fabs(res->mass_MeV[i] - X17_MASS * 1e3) < 1e-9) res->x17 = 1;
  for (int k = 0; res->x17 && k < 2; ++k) {
    na64_beamdump d = *dump;
    d.mediator = k ? NA64_MED_PSEUDOSCALAR : NA64_MED_VECTOR;
    na64_yield *y = NULL;
    NA64_CALL(na64_yield_new(&d, X17_MASS, &y, err));
    island(y, res->job.eot, NULL, NULL, res->n_up, &res->x17_eps_low[k], &res->x17_eps_high[k]);
    na64_yield_free(y);
  }
  return NA64_OK;
}

int na64_vis_job_run(const char *card_path, double eot_override, na64_vis_job_result *res,
                     void (*progress)(const char *stage, double frac, void *user), void *user, na64_err *err)
{
  if (!card_path || !res) return na64_err_set(err, NA64_EINVAL, "na64_vis_job_run: NULL argument");
  memset(res, 0, sizeof *res);
  NA64_CALL(load(card_path, res, err));
  if (eot_override > 0) res->job.eot = eot_override;
  res->n_up = N_UP;
  if (progress) progress("Table 2 backgrounds", 0.0, user);
  NA64_CALL(run_backgrounds(card_path, res, err));
  double *m = NULL;
  int n = 0;
  NA64_CALL(na64_sens_masses_parse(res->job.masses, NA64_SENS_VISIBLE, &m, &n, err));
  res->mass_MeV = m;
  for (int i = 0; i < n; ++i) m[i] *= 1e3;
  NA64_CALL(alloc_result(res, n, err));
  if (progress) progress("beam electrons", 0.0, user);
  NA64_CALL(run_sample_threads(&res->sim, &res->select, (uint64_t)res->job.seed, res->job.events, 0,
                               (int)res->job.threads, &res->background, err));
  uint64_t passed = res->background.events[NA64_VIS_NCUTS];
  res->background_upper_per_eot = (passed ? (double)passed + N_UP : N_UP) / (double)res->job.events;
  if (progress) progress("signal at the card's (m, eps)", 0.0, user);
  NA64_CALL(run_sample_threads(&res->sim, &res->select, (uint64_t)res->job.seed + SIGNAL_SEED, res->job.signal_events,
                               1, (int)res->job.threads, &res->signal, err));
  vis_chain c;
  NA64_CALL(chain_new(&res->sim, &c, err));
  na64_beamdump dump;
  na64_vis_sim_beamdump(c.sim, &dump);
  chain_free(&c);
  for (int i = 0; i < n; ++i) {
    if (progress) progress("efficiency and island", (double)i / n, user);
    NA64_CALL(mass_point(res, i, &dump, res->job.eot, err));
  }
  if (progress) progress("X17: vector and pseudoscalar", 1.0, user);
  return x17_couplings(res, &dump, err);
}

void na64_vis_job_result_release(na64_vis_job_result *res)
{
  if (!res) return;
  free(res->mass_MeV);
  free(res->eff_eps);
  free(res->eff);
  free(res->eff_err);
  free(res->eps_low);
  free(res->eps_high);
  free(res->eps_low_ideal);
  free(res->eps_high_ideal);
  memset(res, 0, sizeof *res);
}

int na64_vis_card_file_is_visible(const char *card_path)
{
  na64_card *card = NULL;
  if (!card_path || na64_card_load(card_path, &card, NULL) != NA64_OK) return 0;
  int v = na64_card_is_visible(card);
  na64_card_free(card);
  return v;
}
