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
 * yield of A' with E_A' >= NA64_VIS_EA_MIN_FRAC E0 decaying in the decay region (physics/yield.c; the
 * dump of the simulation, na64_vis_sim_beamdump; below every energy the selection accepts, so that
 * Y x eff does not depend on the threshold) and eff interpolated linearly in ln eps between the three
 * measured points (held constant outside them): the efficiency includes the decay position
 * through the simulated decays.
 *
 * The mass scan is the vector A' whatever the card's aprime.mediator (which sets the card's own
 * signal sample). X17 (16.7 MeV among the masses): the vector island with the efficiency of that
 * mass point, and the pseudoscalar a measured event by event in three more samples (the sampler
 * drawing a from its exact cross section, physics/yield.c) at its own efficiency-1 edges and middle;
 * then (visscal) the scalar and the axial X17 (g = eps e) in three samples each at 16.7 MeV, after every
 * other sample so that those keep their seeds (the other report files keep their bytes). At the other
 * masses (visphys) the scalar and the axial take their chirality partner's measured efficiency at the
 * same decay length (med_table), no events of their own; their islands at every mass (med_finish).
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
 *
 * Parts (issue 15; docs/scaling.md): the couplings of the efficiency samples follow from the card
 * and the EOT alone (setup: the island at efficiency 1 with the backgrounds' n_up), so the job is a
 * fixed list of samples; part k of n runs the same event ranges [S k / n, S (k + 1) / n) of each
 * (na64_vis_job_part_run) and the integer cut flows of the parts add up to the serial ones
 * (na64_vis_partial_merge, src/ana/job_part.c); na64_vis_job_finish then computes the efficiencies
 * and islands once. The serial job is the one part of one: every path computes the same numbers.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/io.h"
#include "ana_internal.h"

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

/* ---- the reconstructions of a job, one per thread, kept from sample to sample ----
 * A visible reconstruction depends on the setup's geometry only (src/reco/vis_reco.c: the detector
 * indices, the SADC pulse shape, the calorimeters' lateral tables), and its state is rebuilt at every
 * event, so one made for the first sample serves every sample of the job (all of the card's run): the
 * same cut flows, without a reconstruction set-up per sample and thread (reco_calo_setup's lateral
 * tables, ~2.4e8 instructions each, 80 of them in the 2017 card's job; visphys, docs/performance.md).
 * The pool owns a simulation of the card's configuration for the geometry the reconstructions point to. */
#define VIS_MAX_THREADS 64

typedef struct reco_pool {
  na64_vis_sim *geom_owner;
  na64_vis_reco *reco[VIS_MAX_THREADS];
} reco_pool;

static void pool_free(reco_pool *p)
{
  for (int t = 0; t < VIS_MAX_THREADS; ++t) na64_vis_reco_free(p->reco[t]);
  na64_vis_sim_free(p->geom_owner);
  memset(p, 0, sizeof *p);
}

/* the reconstruction of thread t (made on first use; NULL pool: the caller makes its own) */
static int pool_reco(reco_pool *p, const na64_vis_config *cfg, int t, na64_vis_reco **r, na64_err *err)
{
  *r = NULL;
  if (!p) return NA64_OK;
  if (!p->geom_owner) NA64_CALL(na64_vis_sim_new(cfg, &p->geom_owner, err));
  if (!p->reco[t]) NA64_CALL(na64_vis_reco_new(na64_vis_sim_geom(p->geom_owner), &p->reco[t], err));
  *r = p->reco[t];
  return NA64_OK;
}

/* events first .. first + n - 1 of one kind through the chain into a cut flow (reco: the pool's, or
 * NULL: its own) */
static int run_sample(const na64_vis_config *cfg, const na64_vis_select_config *sel, uint64_t seed, uint64_t first,
                      uint64_t n, int signal, na64_vis_reco *reco, na64_vis_cutflow *flow, na64_err *err)
{
  vis_chain c;
  memset(flow, 0, sizeof *flow);
  if (n == 0) return NA64_OK;
  if (!reco) NA64_CALL(chain_new(cfg, &c, err));
  else {
    memset(&c, 0, sizeof c);
    int st = na64_vis_sim_new(cfg, &c.sim, err);
    if (st == NA64_OK) st = na64_vis_digitizer_new(c.sim, &c.digi, err);
    if (st != NA64_OK) {
      chain_free(&c);
      return st;
    }
    c.reco = reco;
  }
  int st = NA64_OK;
  for (uint64_t i = first; i < first + n && st == NA64_OK; ++i) {
    na64_vis_reco_event row;
    st = event_row(&c, seed, i, signal, &row, err);
    if (st == NA64_OK) na64_vis_cutflow_fill(flow, sel, &row);
  }
  if (reco) c.reco = NULL; /* the pool's */
  chain_free(&c);
  return st;
}

/* ---- threads: one contiguous range of event numbers per thread ---- */
typedef struct sample_part {
  na64_vis_sim *sim; /* shared, only read */
  na64_vis_reco *reco; /* the pool's for this thread, or NULL: made and freed here */
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
  vis_chain c = {p->sim, NULL, p->reco};
  memset(&p->flow, 0, sizeof p->flow);
  p->status = na64_vis_digitizer_new(p->sim, &c.digi, &p->err);
  if (p->status == NA64_OK && !c.reco) p->status = na64_vis_reco_new(na64_vis_sim_geom(p->sim), &c.reco, &p->err);
  for (uint64_t i = p->first; i < p->first + p->n && p->status == NA64_OK; ++i) {
    na64_vis_reco_event row;
    p->status = event_row(&c, p->seed, i, p->signal, &row, &p->err);
    if (p->status == NA64_OK) na64_vis_cutflow_fill(&p->flow, p->sel, &row);
  }
  if (!p->reco) na64_vis_reco_free(c.reco);
  na64_vis_digitizer_free(c.digi);
  return NULL;
}

/* run_sample with `threads` threads (<= 1: the calling thread only); the same cut flow for any number */
static int run_sample_threads(const na64_vis_config *cfg, const na64_vis_select_config *sel, uint64_t seed,
                              uint64_t first, uint64_t n, int signal, int threads, reco_pool *pool,
                              na64_vis_cutflow *flow, na64_err *err)
{
  na64_vis_reco *r0 = NULL;
  if (n > 0) NA64_CALL(pool_reco(pool, cfg, 0, &r0, err));
  if (threads <= 1 || n < 2) return run_sample(cfg, sel, seed, first, n, signal, r0, flow, err);
  int nt = threads > VIS_MAX_THREADS ? VIS_MAX_THREADS : threads;
  if ((uint64_t)nt > n) nt = (int)n;
  memset(flow, 0, sizeof *flow);
  sample_part parts[VIS_MAX_THREADS];
  na64_vis_reco *rt[VIS_MAX_THREADS] = {0};
  for (int t = 0; t < nt; ++t) NA64_CALL(pool_reco(pool, cfg, t, &rt[t], err));
  na64_vis_sim *sim = NULL;
  NA64_CALL(na64_vis_sim_new(cfg, &sim, err));
  pthread_t tid[VIS_MAX_THREADS];
  int started[VIS_MAX_THREADS] = {0};
  uint64_t per = (n + (uint64_t)nt - 1) / (uint64_t)nt;
  for (int t = 0; t < nt; ++t) {
    uint64_t a = (uint64_t)t * per, b = a + per > n ? n : a + per;
    parts[t] = (sample_part){sim, rt[t], sel, seed, first + a, b > a ? b - a : 0, signal, {{0}}, NA64_OK, {0, ""}};
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

int ana_vis_eff_measure(const na64_vis_config *sim, const na64_vis_select_config *sel, double m, int mediator,
                        const double eps[NA64_VIS_EFF_POINTS], uint64_t seed, uint64_t events, int threads,
                        double eff[NA64_VIS_EFF_POINTS], double err[NA64_VIS_EFF_POINTS], na64_err *e)
{
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) {
    eff[k] = err[k] = NAN;
    if (!(eps[k] > 0.0) || !isfinite(eps[k]) || events == 0) continue;
    na64_vis_config cfg = *sim;
    cfg.aprime_mass = m;
    cfg.aprime_eps = eps[k];
    cfg.mediator = mediator;
    na64_vis_cutflow flow;
    NA64_CALL(run_sample_threads(&cfg, sel, seed + (uint64_t)k, 0, events, 1, threads, NULL, &flow, e));
    double n = (double)events, p = (double)flow.events[NA64_VIS_NCUTS] / n;
    eff[k] = p;
    err[k] = sqrt(p * (1.0 - p) / n); /* binomial, as measured_island */
  }
  return NA64_OK;
}

static int read_backgrounds(const na64_card *card, na64_vis_job_result *res, na64_err *err);

/* The configurations of the card's bytes (path: its name in messages). */
static int load(const char *text, size_t len, const char *path, na64_vis_job_result *res, na64_err *err)
{
  na64_vis_config_default(&res->sim);
  na64_vis_select_config_default(&res->select);
  na64_job_config_default(&res->job);
  res->job.events = 20000;
  res->job.signal_events = 5000;
  snprintf(res->job.masses, sizeof res->job.masses, "2,10,16.7,20");
  NA64_CALL(na64_vis_config_parse(text, len, path, &res->sim, err));
  na64_card *card = NULL;
  NA64_CALL(na64_card_parse(text, len, path, &card, err));
  int st = na64_vis_select_config_read(card, &res->select, err);
  if (st == NA64_OK) st = na64_job_config_read(card, &res->job, err);
  if (st == NA64_OK) st = read_backgrounds(card, res, err);
  na64_card_free(card);
  if (st == NA64_EINVAL) na64_err_prefix(err, "%s", path);
  res->select.beam_energy = res->sim.beam_energy;
  res->select.momentum_spread = res->sim.momentum_spread;
  res->select.wcal_stochastic = res->sim.wcal_stochastic;
  res->select.ecal_stochastic = res->sim.ecal_stochastic;
  return st;
}

/* efficiency at eps by linear interpolation in ln eps between the measured points, constant outside */
double ana_vis_eff_interp(const double *e_eps, const double *e, double eps)
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
  return eot * na64_yield_per_eot(y, eps) * (e ? ana_vis_eff_interp(e_eps, e, eps) : 1.0);
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

typedef double eff_row[NA64_VIS_EFF_POINTS];

/* One coupling's arrays over the n masses: the efficiency samples and the islands with the measured
 * efficiency and at efficiency 1 (calloc'ed; the caller's result frees them) */
static int alloc_island(int n, eff_row **eff_eps, eff_row **eff, eff_row **eff_err, double **lo, double **hi,
                        double **lo1, double **hi1, na64_err *err)
{
  *eff_eps = calloc((size_t)n, sizeof **eff_eps);
  *eff = calloc((size_t)n, sizeof **eff);
  *eff_err = calloc((size_t)n, sizeof **eff_err);
  *lo = calloc((size_t)n, sizeof(double));
  *hi = calloc((size_t)n, sizeof(double));
  *lo1 = calloc((size_t)n, sizeof(double));
  *hi1 = calloc((size_t)n, sizeof(double));
  if (!*eff_eps || !*eff || !*eff_err || !*lo || !*hi || !*lo1 || !*hi1)
    return na64_err_set(err, NA64_ENOMEM, "visible job: out of memory");
  return NA64_OK;
}

static int alloc_result(na64_vis_job_result *res, int n, na64_err *err)
{
  res->nmass = n;
  return alloc_island(n, &res->eff_eps, &res->eff, &res->eff_err, &res->eps_low, &res->eps_high, &res->eps_low_ideal,
                      &res->eps_high_ideal, err);
}

/* the pseudoscalar's arrays over the n masses (psjoint) */
static int alloc_ps(na64_vis_job_result *res, int n, na64_err *err)
{
  return alloc_island(n, &res->ps_eff_eps, &res->ps_eff, &res->ps_eff_err, &res->ps_eps_low, &res->ps_eps_high,
                      &res->ps_eps_low_ideal, &res->ps_eps_high_ideal, err);
}

/* the scalar's (j = 0) and the axial's (j = 1) arrays over the n masses (visphys) */
static int alloc_med(na64_vis_job_result *res, int j, int n, na64_err *err)
{
  res->med_own[j] = calloc((size_t)n, sizeof(int));
  if (!res->med_own[j]) return na64_err_set(err, NA64_ENOMEM, "visible job: out of memory");
  return alloc_island(n, &res->med_eff_eps[j], &res->med_eff[j], &res->med_eff_err[j], &res->med_eps_low[j],
                      &res->med_eps_high[j], &res->med_eps_low_ideal[j], &res->med_eps_high_ideal[j], err);
}

/* The couplings where the expected signal at efficiency 1 is at least half its maximum over eps (NaN
 * without signal): the efficiency samples of a mass whose island this setup alone does not reach,
 * for the combinations of data sets (`na64 limits --dataset`), whose island lies around the maximum. */
static void half_max(const na64_yield *y, double eot, double *lo, double *hi)
{
  double nmax = 0.0;
  for (int i = 0; i <= EPS_GRID; ++i) nmax = fmax(nmax, expected(y, eot, NULL, NULL, pow(10.0, -7.0 + 7.0 * i / EPS_GRID)));
  *lo = *hi = NAN;
  if (nmax > 0.0) island(y, eot, NULL, NULL, 0.5 * nmax, lo, hi);
}

/* Setup at mass index i: the island at efficiency 1 and the couplings of its efficiency samples, its
 * lower edge, middle and upper edge (NaN: no island, no sample) */
/* The island at efficiency 1 of the dump at mass m (GeV) and the couplings of its efficiency
 * samples (lower edge, middle, upper edge; NaN: no island, no sample) */
static int ideal_island(const na64_vis_job_result *res, const na64_beamdump *dump, double m, int halfmax, double *lo1,
                        double *hi1, double *pts, double *eff, double *eff_err, na64_err *err)
{
  na64_yield *y = NULL;
  NA64_CALL(na64_yield_new(dump, m, &y, err));
  island(y, res->job.eot, NULL, NULL, res->n_up, lo1, hi1);
  double a = *lo1, b = *hi1;
  if (halfmax && !(isfinite(a) && isfinite(b))) half_max(y, res->job.eot, &a, &b); /* no island: half maximum */
  na64_yield_free(y);
  const int have = isfinite(a) && isfinite(b);
  const double p[NA64_VIS_EFF_POINTS] = {a, sqrt(a * b), b};
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) {
    pts[k] = have ? p[k] : NAN;
    eff[k] = eff_err[k] = NAN;
  }
  return NA64_OK;
}

static int mass_setup(na64_vis_job_result *res, int i, const na64_beamdump *dump, na64_err *err)
{
  res->eps_low[i] = res->eps_high[i] = NAN;
  return ideal_island(res, dump, res->mass_MeV[i] * 1e-3, 0, &res->eps_low_ideal[i], &res->eps_high_ideal[i],
                      res->eff_eps[i], res->eff[i], res->eff_err[i], err);
}

/* The efficiencies at mass index i from the complete cut flows of its samples, and its island */
/* The efficiencies of three samples at the couplings eff_eps from their complete cut flows, and the
 * island of the dump at mass m with them (left NaN without an efficiency-1 island) */
static int measured_island(const na64_vis_job_result *res, const na64_beamdump *dump, double m,
                           const na64_vis_sample_part *smp, const double *eff_eps, double *eff, double *eff_err,
                           double *lo, double *hi, na64_err *err)
{
  if (!isfinite(eff_eps[0])) return NA64_OK; /* no island at efficiency 1 (nor published range): nothing measured */
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) {
    double n = (double)smp[k].size, e = (double)smp[k].flow.events[NA64_VIS_NCUTS] / n;
    eff[k] = e;
    eff_err[k] = sqrt(e * (1.0 - e) / n); /* binomial */
  }
  na64_yield *y = NULL;
  NA64_CALL(na64_yield_new(dump, m, &y, err));
  island(y, res->job.eot, eff_eps, eff, res->n_up, lo, hi);
  na64_yield_free(y);
  return NA64_OK;
}

static int mass_finish(na64_vis_job_result *res, int i, const na64_beamdump *dump, const na64_vis_sample_part *smp,
                       na64_err *err)
{
  return measured_island(res, dump, res->mass_MeV[i] * 1e-3, smp, res->eff_eps[i], res->eff[i], res->eff_err[i],
                         &res->eps_low[i], &res->eps_high[i], err);
}

/* The card's `backgrounds:` section (src/sim/vis_bkg.c) in the box of its selection (res->select read). */
static int read_backgrounds(const na64_card *card, na64_vis_job_result *res, na64_err *err)
{
  na64_vis_bkg_config *bc = &res->bkg_config;
  na64_vis_bkg_config_default(bc);
  NA64_CALL(na64_vis_bkg_config_read(card, bc, err));
  na64_vis_select_box_to_bkg(&res->select, bc);
  return NA64_OK;
}

/* The Table 2 backgrounds (src/sim/vis_bkg.c) of res->bkg_config, their total per EOT and at the
 * quoted EOT, and n_up: the CLs upper limit (statistics section, b +- db as a truncated Gaussian
 * prior) at the background-only median count, the island's threshold. */
static int run_backgrounds(na64_vis_job_result *res, na64_err *err)
{
  const na64_vis_bkg_config *bc = &res->bkg_config;
  int st = NA64_OK;
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

/* The X17 at 16.7 MeV for both couplings the ATOMKI anomaly allows (issue 12): the vector (the A'
 * of the dump) and the pseudoscalar a (exact cross section, its own lifetime; physics/yield.c).
 * Set-up: both islands at efficiency 1 and the couplings of the pseudoscalar's efficiency samples. */
#define X17_MASS 0.0167
static int x17_mass_index(const na64_vis_job_result *res)
{
  for (int i = 0; i < res->nmass; ++i)
    if (fabs(res->mass_MeV[i] - X17_MASS * 1e3) < 1e-9) return i;
  return -1;
}

/* visscal: the X17 scalar and axial, three samples each at 16.7 MeV after the pseudoscalar's blocks */
static const na64_mediator x17_extra_med[2] = {NA64_MED_SCALAR, NA64_MED_AXIAL};

/* The pseudoscalar's samples come after the vector's, three per mass, the X17 first (its seeds are
 * those of the X17-only job before psjoint, so x17.csv keeps its bytes), then the other masses in the
 * card's order: mass index of pseudoscalar block j. */
static int ps_mass_of(const na64_vis_job_result *res, int j)
{
  int i17 = x17_mass_index(res);
  return j == 0 ? i17 : j - 1 < i17 ? j - 1 : j;
}

/* Set-up of the pseudoscalar at every mass (psjoint; with the X17 among the masses): its island at
 * efficiency 1 and the couplings of its efficiency samples (no island of this setup alone: at 16.7
 * MeV the published range 2.1e-4 < eps < 3.2e-4, PRD 104 (2021) L111102, 2017 + 2018; at the other
 * masses the half maximum of the expected signal), and the X17 rows. */
static int x17_setup(na64_vis_job_result *res, const na64_beamdump *dump, na64_err *err)
{
  for (int c = 0; c < 4; ++c)
    res->x17_eps_low[c] = res->x17_eps_high[c] = res->x17_eps_low_eff[c] = res->x17_eps_high_eff[c] = NAN;
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) {
    res->x17_eff_eps[k] = res->x17_eff[k] = res->x17_eff_err[k] = NAN;
    for (int j = 0; j < 2; ++j) res->x17_med_eff_eps[j][k] = res->x17_med_eff[j][k] = res->x17_med_eff_err[j][k] = NAN;
  }
  int i17 = x17_mass_index(res);
  res->x17 = i17 >= 0;
  if (!res->x17) return NA64_OK;
  NA64_CALL(alloc_ps(res, res->nmass, err));
  na64_beamdump d = *dump;
  d.mediator = NA64_MED_PSEUDOSCALAR;
  for (int i = 0; i < res->nmass; ++i) {
    res->ps_eps_low[i] = res->ps_eps_high[i] = NAN;
    int st = ideal_island(res, &d, res->mass_MeV[i] * 1e-3, i != i17, &res->ps_eps_low_ideal[i],
                          &res->ps_eps_high_ideal[i], res->ps_eff_eps[i], res->ps_eff[i], res->ps_eff_err[i], err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "pseudoscalar at %g MeV", res->mass_MeV[i]);
      return st;
    }
  }
  if (!isfinite(res->ps_eff_eps[i17][0])) { /* no X17 island of this setup alone: the published range */
    const double pub[NA64_VIS_EFF_POINTS] = {2.1e-4, sqrt(2.1e-4 * 3.2e-4), 3.2e-4};
    for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) res->ps_eff_eps[i17][k] = pub[k];
  }
  res->x17_eps_low[0] = res->eps_low_ideal[i17];
  res->x17_eps_high[0] = res->eps_high_ideal[i17];
  res->x17_eps_low[1] = res->ps_eps_low_ideal[i17];
  res->x17_eps_high[1] = res->ps_eps_high_ideal[i17];
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) res->x17_eff_eps[k] = res->ps_eff_eps[i17][k];
  for (int j = 0; j < 2; ++j) { /* visscal: scalar, axial; without an island of their own, the half maximum */
    d.mediator = x17_extra_med[j];
    int st = ideal_island(res, &d, X17_MASS, 1, &res->x17_eps_low[2 + j], &res->x17_eps_high[2 + j],
                          res->x17_med_eff_eps[j], res->x17_med_eff[j], res->x17_med_eff_err[j], err);
    if (st == NA64_OK) st = alloc_med(res, j, res->nmass, err);
    for (int i = 0; i < res->nmass && st == NA64_OK; ++i) { /* visphys: their efficiency-1 islands at every mass */
      res->med_eps_low[j][i] = res->med_eps_high[j][i] = NAN;
      st = ideal_island(res, &d, res->mass_MeV[i] * 1e-3, 0, &res->med_eps_low_ideal[j][i],
                        &res->med_eps_high_ideal[j][i], res->med_eff_eps[j][i], res->med_eff[j][i],
                        res->med_eff_err[j][i], err);
      for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) res->med_eff_eps[j][i][k] = NAN; /* set at the finish */
    }
    if (st != NA64_OK) {
      na64_err_prefix(err, "%s X17", na64_mediator_name(x17_extra_med[j]));
      return st;
    }
  }
  return NA64_OK;
}

/* Gamma_partner / Gamma_X at the same coupling g = eps e (the ratio does not depend on it): the
 * squared factor that takes the partner's coupling to X's coupling of the same decay length */
static double partner_width_ratio(na64_mediator x, na64_mediator partner, double m)
{
  return na64_width_mediator_ll(partner, m, 1.0, NA64_M_E) / na64_width_mediator_ll(x, m, 1.0, NA64_M_E);
}

/* visphys: the efficiency table of the scalar (j = 0) or axial (j = 1) at mass index i. At 16.7 MeV its
 * own samples (visscal); elsewhere its chirality partner's measured table (scalar: the pseudoscalar's,
 * axial: the vector's) at the same decay length: the selection sees E_X and the decay point, the
 * production spectra of the partners differ by O(m_e^2/m^2) only (docs/visible.md "Scalar and axial
 * X17"), and the decay length at a given E_X is ~ 1/Gamma ~ 1/eps^2, so eff_X(eps) =
 * eff_partner(eps sqrt(Gamma_X/Gamma_partner)), the partner's point eps_P taken to eps_P
 * sqrt(Gamma_P/Gamma_X). Checked by measuring both: tests/ana/test_vis_chirality_long.c (2, 10, 16.7
 * MeV, within 1.3 binomial sigma of 10000 events; the same-eps reading is 8-12 sigma off at 2 MeV). */
static void med_table(na64_vis_job_result *res, int j, int i, int i17)
{
  double *eps = res->med_eff_eps[j][i], *eff = res->med_eff[j][i], *err = res->med_eff_err[j][i];
  res->med_own[j][i] = i == i17;
  if (i == i17) {
    for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) {
      eps[k] = res->x17_med_eff_eps[j][k];
      eff[k] = res->x17_med_eff[j][k];
      err[k] = res->x17_med_eff_err[j][k];
    }
    return;
  }
  const double *pe = j ? res->eff_eps[i] : res->ps_eff_eps[i], *pf = j ? res->eff[i] : res->ps_eff[i],
               *pr = j ? res->eff_err[i] : res->ps_eff_err[i];
  double f = sqrt(partner_width_ratio(x17_extra_med[j], j ? NA64_MED_VECTOR : NA64_MED_PSEUDOSCALAR,
                                      res->mass_MeV[i] * 1e-3));
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) {
    int have = isfinite(pf[k]) && isfinite(pe[k]);
    eps[k] = have ? pe[k] * f : NAN;
    eff[k] = have ? pf[k] : NAN;
    err[k] = have ? pr[k] : NAN;
  }
}

/* visphys: the scalar's and the axial's tables and islands at every mass, after the vector's and the
 * pseudoscalar's (their partners') efficiencies are known */
static int med_finish(na64_vis_job_result *res, const na64_beamdump *dump, int i17, na64_err *err)
{
  na64_beamdump d = *dump;
  for (int j = 0; j < 2; ++j) {
    d.mediator = x17_extra_med[j];
    for (int i = 0; i < res->nmass; ++i) {
      med_table(res, j, i, i17);
      res->med_eps_low[j][i] = res->med_eps_high[j][i] = NAN;
      if (!isfinite(res->med_eff_eps[j][i][0])) continue; /* nothing measured at this mass */
      na64_yield *y = NULL;
      int st = na64_yield_new(&d, res->mass_MeV[i] * 1e-3, &y, err);
      if (st != NA64_OK) {
        na64_err_prefix(err, "%s at %g MeV", na64_mediator_name(x17_extra_med[j]), res->mass_MeV[i]);
        return st;
      }
      island(y, res->job.eot, res->med_eff_eps[j][i], res->med_eff[j][i], res->n_up, &res->med_eps_low[j][i],
             &res->med_eps_high[j][i]);
      na64_yield_free(y);
    }
  }
  return NA64_OK;
}

/* Finish: the pseudoscalar at every mass with its own samples smp (the blocks after the mass scan, in
 * ps_mass_of order); the X17 rows: the vector with the efficiency of the 16.7 MeV mass point, the
 * pseudoscalar's 16.7 MeV row */
static int x17_finish(na64_vis_job_result *res, const na64_beamdump *dump, const na64_vis_sample_part *smp, na64_err *err)
{
  int i17 = x17_mass_index(res);
  if (i17 < 0) return NA64_OK;
  na64_beamdump d = *dump;
  d.mediator = NA64_MED_PSEUDOSCALAR;
  for (int j = 0; j < res->nmass; ++j) {
    int i = ps_mass_of(res, j);
    int st = measured_island(res, &d, res->mass_MeV[i] * 1e-3, &smp[NA64_VIS_EFF_POINTS * j], res->ps_eff_eps[i],
                             res->ps_eff[i], res->ps_eff_err[i], &res->ps_eps_low[i], &res->ps_eps_high[i], err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "pseudoscalar efficiency at %g MeV", res->mass_MeV[i]);
      return st;
    }
  }
  res->x17_eps_low_eff[0] = res->eps_low[i17];
  res->x17_eps_high_eff[0] = res->eps_high[i17];
  res->x17_eps_low_eff[1] = res->ps_eps_low[i17];
  res->x17_eps_high_eff[1] = res->ps_eps_high[i17];
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) {
    res->x17_eff[k] = res->ps_eff[i17][k];
    res->x17_eff_err[k] = res->ps_eff_err[i17][k];
  }
  const na64_vis_sample_part *extra = &smp[NA64_VIS_EFF_POINTS * res->nmass];
  for (int j = 0; j < 2; ++j) {
    d.mediator = x17_extra_med[j];
    int st = measured_island(res, &d, X17_MASS, &extra[NA64_VIS_EFF_POINTS * j], res->x17_med_eff_eps[j],
                             res->x17_med_eff[j], res->x17_med_eff_err[j], &res->x17_eps_low_eff[2 + j],
                             &res->x17_eps_high_eff[2 + j], err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "%s X17 efficiency", na64_mediator_name(x17_extra_med[j]));
      return st;
    }
  }
  return med_finish(res, dump, i17, err);
}

/* The beam dump of the card's setup for the vector A' of the mass scan (the yield's target:
 * na64_vis_sim_beamdump) */
static int beamdump(const na64_vis_job_result *res, na64_beamdump *dump, na64_err *err)
{
  na64_vis_config cfg = res->sim;
  cfg.mediator = NA64_MED_VECTOR;
  na64_vis_sim *s = NULL;
  NA64_CALL(na64_vis_sim_new(&cfg, &s, err));
  na64_vis_sim_beamdump(s, dump);
  na64_vis_sim_free(s);
  return NA64_OK;
}

/* The job of the card's bytes at EOT eot (0: the card's): configuration, backgrounds, masses and the
 * couplings of the efficiency samples; no event. */
static int setup(const char *text, size_t len, const char *name, double eot, na64_vis_job_result *res, na64_err *err)
{
  memset(res, 0, sizeof *res);
  NA64_CALL(load(text, len, name, res, err));
  if (eot > 0) res->job.eot = eot;
  res->n_up = N_UP;
  NA64_CALL(run_backgrounds(res, err));
  double *m = NULL;
  int n = 0;
  NA64_CALL(na64_sens_masses_parse(res->job.masses, NA64_SENS_VISIBLE, &m, &n, err));
  res->mass_MeV = m;
  for (int i = 0; i < n; ++i) m[i] *= 1e3;
  NA64_CALL(alloc_result(res, n, err));
  na64_beamdump dump;
  NA64_CALL(beamdump(res, &dump, err));
  for (int i = 0; i < n; ++i) {
    int st = mass_setup(res, i, &dump, err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "island at %g MeV", res->mass_MeV[i]);
      return st;
    }
  }
  int st = x17_setup(res, &dump, err);
  if (st != NA64_OK) na64_err_prefix(err, "pseudoscalar X17 island");
  return st;
}

/* Sample s of the job (na64_vis_partial: [0] beam electrons, [1] the signal at the card's point,
 * [2 + 3 i + k] mass i (vector A'), coupling k; with the X17, [2 + 3 nmass + 3 j + k] the pseudoscalar
 * at mass ps_mass_of(j), coupling k, the X17 first, then [2 + 6 nmass + 3 j + k] the scalar (j = 0) and
 * axial (j = 1) X17): its seed, size, coupling and configuration. */
static void sample_spec(const na64_vis_job_result *res, int s, na64_vis_sample_part *q, na64_vis_config *cfg)
{
  memset(q, 0, sizeof *q);
  *cfg = res->sim;
  q->seed = (uint64_t)res->job.seed + (s ? SIGNAL_SEED * (uint64_t)s : 0); /* s >= 2: SIGNAL_SEED (2 + 3 i + k) */
  q->size = (uint64_t)(s ? res->job.signal_events : res->job.events);
  if (s == 1) q->eps = res->sim.aprime_eps;
  if (s >= 2) {
    int i = (s - 2) / NA64_VIS_EFF_POINTS, k = (s - 2) % NA64_VIS_EFF_POINTS, ps = i >= res->nmass;
    int extra = i >= 2 * res->nmass ? 1 + (i - 2 * res->nmass) : 0; /* 1 scalar, 2 axial X17 */
    if (ps && !extra) i = ps_mass_of(res, i - res->nmass);
    double eps = extra ? res->x17_med_eff_eps[extra - 1][k] : ps ? res->ps_eff_eps[i][k] : res->eff_eps[i][k];
    q->size = isfinite(eps) ? q->size : 0;
    q->eps = isfinite(eps) ? eps : 0.0;
    cfg->aprime_mass = extra ? X17_MASS : res->mass_MeV[i] * 1e-3;
    cfg->aprime_eps = q->eps;
    cfg->mediator = extra ? x17_extra_med[extra - 1] : ps ? NA64_MED_PSEUDOSCALAR : NA64_MED_VECTOR;
  }
}

static int nsamples(const na64_vis_job_result *res)
{
  return 2 + NA64_VIS_EFF_POINTS * (res->nmass + (res->x17 ? res->nmass + 2 : 0));
}

static const char *stage_of(const na64_vis_job_result *res, int s)
{
  return s == 0 ? "beam electrons" : s == 1 ? "signal at the card's (m, eps)"
         : s >= 2 + 2 * NA64_VIS_EFF_POINTS * res->nmass ? "scalar and axial X17 efficiency"
         : s >= 2 + NA64_VIS_EFF_POINTS * res->nmass ? "pseudoscalar efficiency" : "efficiency and island";
}

/* The events of part `part` of `nparts` of every sample of the set-up job into p->sample. */
static int run_part(const na64_vis_job_result *res, int part, int nparts, na64_vis_partial *p,
                    void (*progress)(const char *stage, double frac, void *user), void *user, na64_err *err)
{
  p->nsample = nsamples(res);
  p->sample = calloc((size_t)p->nsample, sizeof *p->sample);
  if (!p->sample) return na64_err_set(err, NA64_ENOMEM, "visible job: out of memory");
  reco_pool pool;
  memset(&pool, 0, sizeof pool);
  int st = NA64_OK;
  for (int s = 0; s < p->nsample && st == NA64_OK; ++s) {
    na64_vis_sample_part *q = &p->sample[s];
    na64_vis_config cfg;
    sample_spec(res, s, q, &cfg);
    na64_part_range(q->size, part, nparts, &q->first, &q->count);
    if (progress) progress(stage_of(res, s), s < 2 ? 0.0 : (double)(s - 2) / (p->nsample - 2), user);
    st = run_sample_threads(&cfg, &res->select, q->seed, q->first, q->count, s > 0, (int)res->job.threads, &pool,
                            &q->flow, err);
    if (st != NA64_OK && s >= 2)
      na64_err_prefix(err, "%s efficiency at %g MeV", na64_mediator_name((na64_mediator)cfg.mediator),
                      cfg.aprime_mass * 1e3);
  }
  pool_free(&pool);
  return st;
}

int na64_vis_job_part_run(const char *card_path, double eot_override, int part, int nparts, na64_vis_partial *p,
                          na64_vis_job_result *res, void (*progress)(const char *stage, double frac, void *user),
                          void *user, na64_err *err)
{
  if (p) memset(p, 0, sizeof *p);
  if (res) memset(res, 0, sizeof *res);
  if (!card_path || !p || !res || nparts < 1 || part < 0 || part >= nparts)
    return na64_err_set(err, NA64_EINVAL, "na64_vis_job_part_run: bad argument (part %d of %d)", part, nparts);
  NA64_CALL(na64_vis_partial_set_card(p, card_path, err));
  if (progress) progress("Table 2 backgrounds", 0.0, user);
  NA64_CALL(setup(p->card_text, p->card_len, card_path, eot_override, res, err));
  p->run = res->sim.run;
  p->eot = res->job.eot;
  return run_part(res, part, nparts, p, progress, user, err);
}

int na64_vis_job_setup(const na64_vis_partial *p, na64_vis_job_result *res, na64_err *err)
{
  if (!p || !res || !p->card_text) return na64_err_set(err, NA64_EINVAL, "na64_vis_job_setup: no card");
  const char *name = p->card_name[0] ? p->card_name : "(card)";
  NA64_CALL(setup(p->card_text, p->card_len, name, p->eot, res, err));
  if (res->sim.run != p->run)
    return na64_err_set(err, NA64_EINVAL, "%s: run %ld, its partial results run %ld", name, res->sim.run, p->run);
  return NA64_OK;
}

/* The partial holds every event of exactly the set-up job's samples. */
static int check_complete(const na64_vis_partial *all, const na64_vis_job_result *res, na64_err *err)
{
  if (all->nsample != nsamples(res))
    return na64_err_set(err, NA64_EINVAL, "visible job: %d samples in the partial results, the card has %d",
                        all->nsample, nsamples(res));
  for (int s = 0; s < all->nsample; ++s) {
    na64_vis_sample_part want;
    na64_vis_config cfg;
    sample_spec(res, s, &want, &cfg);
    const na64_vis_sample_part *q = &all->sample[s];
    if (q->seed != want.seed || q->size != want.size || memcmp(&q->eps, &want.eps, sizeof q->eps) != 0)
      return na64_err_set(err, NA64_EINVAL, "visible job: sample %d of the partial results (seed %llu, %llu events, "
                          "eps %.17g) is not the card's (seed %llu, %llu events, eps %.17g)", s,
                          (unsigned long long)q->seed, (unsigned long long)q->size, q->eps,
                          (unsigned long long)want.seed, (unsigned long long)want.size, want.eps);
    if (q->first != 0 || q->count != q->size || q->flow.events[0] != q->size)
      return na64_err_set(err, NA64_EINVAL, "visible job: the parts hold events %llu..%llu of the %llu of sample %d "
                          "(seed %llu): parts are missing", (unsigned long long)q->first,
                          (unsigned long long)(q->first + q->count) - (q->count > 0), (unsigned long long)q->size, s,
                          (unsigned long long)q->seed);
  }
  return NA64_OK;
}

int na64_vis_job_finish(const na64_vis_partial *all, na64_vis_job_result *res, na64_err *err)
{
  if (!all || !res) return na64_err_set(err, NA64_EINVAL, "na64_vis_job_finish: NULL argument");
  NA64_CALL(check_complete(all, res, err));
  res->background = all->sample[0].flow;
  res->signal = all->sample[1].flow;
  uint64_t passed = res->background.events[NA64_VIS_NCUTS];
  res->background_upper_per_eot = (passed ? (double)passed + N_UP : N_UP) / (double)res->job.events;
  na64_beamdump dump;
  NA64_CALL(beamdump(res, &dump, err));
  for (int i = 0; i < res->nmass; ++i) {
    int st = mass_finish(res, i, &dump, &all->sample[2 + NA64_VIS_EFF_POINTS * i], err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "efficiency at %g MeV", res->mass_MeV[i]);
      return st;
    }
  }
  return x17_finish(res, &dump, &all->sample[2 + NA64_VIS_EFF_POINTS * res->nmass], err);
}

int na64_vis_job_run(const char *card_path, double eot_override, na64_vis_job_result *res,
                     void (*progress)(const char *stage, double frac, void *user), void *user, na64_err *err)
{
  if (!card_path || !res) return na64_err_set(err, NA64_EINVAL, "na64_vis_job_run: NULL argument");
  na64_vis_partial p;
  int st = na64_vis_job_part_run(card_path, eot_override, 0, 1, &p, res, progress, user, err);
  if (progress && st == NA64_OK) progress("islands: vector and the X17 mediators", 1.0, user);
  if (st == NA64_OK) st = na64_vis_job_finish(&p, res, err);
  na64_vis_partial_release(&p);
  return st;
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
  free(res->ps_eff_eps);
  free(res->ps_eff);
  free(res->ps_eff_err);
  free(res->ps_eps_low);
  free(res->ps_eps_high);
  free(res->ps_eps_low_ideal);
  free(res->ps_eps_high_ideal);
  for (int j = 0; j < 2; ++j) {
    free(res->med_eff_eps[j]);
    free(res->med_eff[j]);
    free(res->med_eff_err[j]);
    free(res->med_eps_low[j]);
    free(res->med_eps_high[j]);
    free(res->med_eps_low_ideal[j]);
    free(res->med_eps_high_ideal[j]);
    free(res->med_own[j]);
  }
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
