/*
 * The main job of `na64 run` (issue 11): simulation -> raw DATE event -> reconstruction ->
 * selection -> efficiency and background -> limit. Every triggered simulated event is digitised
 * into a DATE super event in memory exactly as `na64 sim --out` writes it, read back by the DATE
 * reader and reconstructed by src/reco (na64_reco_process), so the selection sees what it would
 * see on real data (DESIGN.md: the simulation talks to reconstruction only through the raw data);
 * the simulation's weight is carried along. na64_reco_event_from_sim_truth (src/ana/reco_from_sim.c)
 * remains for unit tests of the selection that need rows without the detector chain.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "ana_internal.h"

#define KEY(name, type, dst, lo, hi) {name, type, dst, 0, lo, hi, 0, NULL, 0, NULL}

void na64_job_config_default(na64_job_config *c)
{
  memset(c, 0, sizeof *c);
  c->eot = 2.84e11; /* 2016-2018 invisible data set, NA64 PRL 123 (2019) 121801 */
  c->events = 1000000;
  c->signal_events = 20000;
  c->seed = 1;
  c->threads = 2;
  snprintf(c->masses, sizeof c->masses, "1,16.7,100,500");
  c->background_events = 20000; /* per Table 1 route: 1.9 s of CPU for all eight at load 12 (docs/performance.md) */
}

int na64_job_config_read(const na64_card *card, na64_job_config *c, na64_err *err)
{
  const na64_card_node *sec = na64_card_get(card, NULL, "analysis");
  if (!sec) return NA64_OK;
  const na64_card_key keys[] = {
      KEY("eot", NA64_CARD_DOUBLE, &c->eot, 1, 1e20),
      KEY("events", NA64_CARD_INT, &c->events, 1, 1e12),
      KEY("signal_events", NA64_CARD_INT, &c->signal_events, 1, 1e12),
      KEY("seed", NA64_CARD_INT, &c->seed, 0, 9e15),
      KEY("threads", NA64_CARD_INT, &c->threads, 1, 64),
      {"masses_MeV", NA64_CARD_STRING, c->masses, sizeof c->masses, 1, 0, 0, NULL, 0, NULL},
      KEY("background_events", NA64_CARD_INT, &c->background_events, 0, 1e12),
  };
  return na64_card_read(card, sec, keys, (int)(sizeof keys / sizeof keys[0]), err);
}

/* ---- the event source ---- */

typedef struct sink_ctx {
  const na64_sim *sim;
  const na64_select_config *sel;
  na64_select_accum *acc;
  int signal_only; /* efficiency scan: only the A' events are accumulated */
  uint64_t seed;   /* the run seed: the digitiser's noise stream is keyed by it and the event */
  na64_sim_digitizer *digi;
  na64_geom *geom;
  na64_reco *reco;
  na64_h5table *events; /* the rows also go to this table (NULL: not written) */
  na64_reco_untriggered untriggered;
} sink_ctx;

/* One DATE event of ev in memory, as `na64 sim --out` writes it; *buf is malloc'd. */
static int digitise(sink_ctx *c, const na64_sim_event *ev, void **buf, size_t *len, na64_err *err)
{
  na64_daq_writer *w = NULL;
  NA64_CALL(na64_daq_writer_open_memory(NULL, &w, err));
  int st = na64_sim_digitize_write(c->digi, ev, c->seed, (uint32_t)ev->truth.event, w, err);
  if (st != NA64_OK) {
    na64_daq_writer_close(w, NULL);
    return st;
  }
  return na64_daq_writer_close_memory(w, buf, len, err);
}

/* The one place where rows of the events table are produced from simulated events: digitisation,
 * the DATE reader and the reconstruction, with the simulation's weight carried along. */
static int events_from_sim(sink_ctx *c, const na64_sim_event *ev, na64_reco_event *row, na64_err *err)
{
  void *buf = NULL;
  size_t len = 0;
  NA64_CALL(digitise(c, ev, &buf, &len, err));
  na64_daq_reader *r = NULL;
  na64_daq_event de;
  int st = na64_daq_reader_open_memory(buf, len, "simulated event", NULL, &r, err);
  if (st == NA64_OK) st = na64_daq_reader_next_event(r, &de, err);
  if (st == NA64_OK) st = na64_reco_process(c->reco, &de, row, err);
  if (st == NA64_OK) {
    row->weight = ev->truth.weight;
    row->simulated = 1;
    row->aprime = ev->truth.process == NA64_SIM_PROC_APRIME;
  }
  na64_daq_reader_close(r);
  free(buf);
  return st;
}

/* Every simulated event (keep_all 2): a triggered one becomes a row; an untriggered one enters row
 * `generated` of the cut flows with its truth weight (A' events 1/B; electrons without an A'
 * (1 - P)/(1 - B P); particles that cannot emit 1: src/sim/fast_aprime.c) and is recorded for the
 * events table's attributes. */
static int sink(const na64_sim_event *ev, void *user, na64_err *err)
{
  sink_ctx *c = user;
  int is_signal = ev->truth.process == NA64_SIM_PROC_APRIME;
  if (c->signal_only && !is_signal) return NA64_OK;
  if (!ev->truth.triggered) {
    na64_select_accum_fill_untriggered(c->acc, ev->truth.weight, is_signal);
    na64_reco_untriggered_add(&c->untriggered, is_signal, ev->truth.weight);
    return NA64_OK;
  }
  na64_reco_event row;
  NA64_CALL(events_from_sim(c, ev, &row, err));
  na64_select_accum_fill(c->acc, c->sel, &row, is_signal);
  return c->events ? na64_h5table_append(c->events, &row, 1, err) : NA64_OK;
}

/* The events table of a sample (rows added by the sink; attributes at the end). */
static int events_open(const char *path, uint64_t seed, na64_h5table **t, na64_err *err)
{
  *t = NULL;
  if (!path) return NA64_OK;
  int nf = 0;
  const na64_h5_field *f = na64_reco_event_fields(&nf);
  NA64_CALL(na64_h5table_create(path, "events", sizeof(na64_reco_event), f, nf, t, err));
  char buf[32];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)seed);
  int st = na64_h5table_attr(*t, "seed", buf, err);
  if (st == NA64_OK) st = na64_h5table_attr(*t, "na64_version", na64_version(), err);
  if (st != NA64_OK) {
    na64_h5table_abort(*t);
    *t = NULL;
  }
  return st;
}

/* The run number of the job's in-memory DATE stream from its start-of-run event, written as `na64
 * sim --out` writes it (na64_sim_write_run_mark) and read back by the DATE reader: the
 * reconstruction loads the geometry and calibrations of that run, as it does for real data (where
 * the run control writes the start-of-run record before the first physics event). */
static int run_from_sor(const na64_sim *sim, long *run, na64_err *err)
{
  na64_daq_writer *w = NULL;
  NA64_CALL(na64_daq_writer_open_memory(NULL, &w, err));
  int st = na64_sim_write_run_mark(sim, NA64_DAQ_START_OF_RUN, 0, w, err);
  if (st != NA64_OK) {
    na64_daq_writer_close(w, NULL);
    return st;
  }
  void *buf = NULL;
  size_t len = 0;
  NA64_CALL(na64_daq_writer_close_memory(w, &buf, &len, err));
  na64_daq_reader *r = NULL;
  na64_daq_event de;
  st = na64_daq_reader_open_memory(buf, len, "start of run", NULL, &r, err);
  if (st == NA64_OK) st = na64_daq_reader_next_event(r, &de, err);
  if (st == NA64_OK && de.header.type != NA64_DAQ_START_OF_RUN)
    st = na64_err_set(err, NA64_EFORMAT, "simulated stream: first event of type %u, not a start of run",
                      (unsigned)de.header.type);
  if (st == NA64_OK) *run = (long)de.header.run;
  na64_daq_reader_close(r);
  free(buf);
  return st;
}

/* Simulate events first .. first + n - 1 of cfg and accumulate their rows into acc. */
static int run_sample(const na64_sim_config *cfg, const na64_select_config *sel, uint64_t seed, uint64_t first,
                      uint64_t n, int threads, int signal_only, const char *events_path, na64_select_accum *acc,
                      na64_err *err)
{
  na64_sim *sim = NULL;
  NA64_CALL(na64_sim_new(cfg, &sim, err));
  sink_ctx ctx = {.sim = sim, .sel = sel, .acc = acc, .signal_only = signal_only, .seed = seed};
  na64_reco_untriggered_init(&ctx.untriggered);
  int st = events_open(events_path, seed, &ctx.events, err);
  if (st == NA64_OK) st = na64_sim_digitizer_new(sim, &ctx.digi, err);
  long run = -1;
  if (st == NA64_OK) st = run_from_sor(sim, &run, err);
  if (st == NA64_OK) st = na64_geom_load_path(cfg->conditions[0] ? cfg->conditions : NULL, (int)run, &ctx.geom, err);
  if (st == NA64_OK) st = na64_reco_new(ctx.geom, &ctx.reco, err);
  na64_sim_run_opts o = {seed, n, threads, 2, sink, &ctx, NULL, NULL, first}; /* untriggered: truth only */
  na64_sim_summary sum;
  if (st == NA64_OK) st = na64_sim_run(sim, &o, &sum, err);
  ctx.untriggered.eot = (double)n;
  if (ctx.events) {
    if (st == NA64_OK) st = na64_reco_untriggered_write(ctx.events, &ctx.untriggered, err);
    if (st == NA64_OK) st = na64_h5table_close(ctx.events, err);
    else na64_h5table_abort(ctx.events);
  }
  na64_reco_free(ctx.reco);
  na64_geom_free(ctx.geom);
  na64_sim_digitizer_free(ctx.digi);
  na64_sim_free(sim);
  return st;
}

/* Signal sample at mass m (GeV), events first .. first + n - 1 of the scan: the card with that mass
 * and a bias that makes about 30% of the events emit an A' (B P = 0.3 < 0.5, the simulation's
 * limit). */
static int signal_sample_at(const na64_sim_config *base, const na64_select_config *sel, const na64_job_config *jc,
                            double m, uint64_t first, uint64_t n, na64_select_accum *acc, na64_err *err)
{
  na64_sim_config cfg = *base;
  cfg.aprime_enabled = 1;
  cfg.aprime_mass = m;
  cfg.aprime_bias = 1.0;
  na64_sim *probe = NULL;
  NA64_CALL(na64_sim_new(&cfg, &probe, err));
  double P = na64_sim_aprime_probability(probe);
  na64_sim_free(probe);
  if (!(P > 0)) return na64_err_set(err, NA64_EPHYS, "efficiency at %g MeV: no A' emission in the simulation", m * 1e3);
  cfg.aprime_bias = 0.3 / P;
  na64_select_accum_init(acc);
  int st = run_sample(&cfg, sel, (uint64_t)jc->seed + 1000003u, first, n, (int)jc->threads, 1, NULL, acc, err);
  if (st) na64_err_prefix(err, "efficiency at %g MeV: ", m * 1e3);
  return st;
}

int ana_job_eff_measure(const na64_sim_config *sc, const na64_select_config *sel, double m, uint64_t seed,
                        uint64_t events, int threads, double *eff, double *eff_err, na64_err *err)
{
  na64_job_config jc;
  na64_job_config_default(&jc);
  jc.seed = (long)seed;
  jc.threads = threads;
  jc.signal_events = (long)events;
  na64_select_accum acc;
  NA64_CALL(signal_sample_at(sc, sel, &jc, m, 0, events, &acc, err));
  na64_select_result r;
  NA64_CALL(na64_select_result_compute(sel, &acc, (double)events, &r, err));
  *eff = r.efficiency;
  *eff_err = r.efficiency_error;
  return NA64_OK;
}

/* The configurations of a card's text (NULL: the built-in defaults); name is the card's path. */
static int load_configs(const char *text, size_t len, const char *name, na64_sim_config *sc, na64_select_config *sel,
                        na64_job_config *jc, na64_err *err)
{
  na64_sim_config_default(sc);
  na64_select_config_default(sel);
  na64_job_config_default(jc);
  if (!text) return NA64_OK;
  NA64_CALL(na64_sim_config_parse(text, len, name, sc, err));
  na64_card *card = NULL;
  NA64_CALL(na64_card_parse(text, len, name, &card, err));
  int st = na64_select_config_read(card, sel, err);
  if (st == NA64_OK) st = na64_job_config_read(card, jc, err);
  if (st == NA64_EINVAL) na64_err_prefix(err, "%s: ", name);
  na64_card_free(card);
  return st;
}

/* The background of the limit: the sum of the Table 1 routes (src/ana/job_bkg.c) when the card
 * runs them (analysis.background_events > 0); else the simulated box if it holds events, else the
 * sideband extrapolation, else none (the unbiased sample is blind below 2.3 / EOT_sim:
 * docs/selection.md). */
static void choose_background(na64_job_result *res)
{
  const na64_select_result *r = &res->result;
  double q = res->eot_quoted;
  if (res->bkg_n > 0) {
    res->limit_background = res->bkg_total * q;
    res->limit_background_error = res->bkg_total_error * q;
    res->limit_background_source = "simulated_routes";
  } else if (r->background_pass > 0) {
    res->limit_background = r->background_per_eot * q;
    res->limit_background_error = r->background_per_eot_error * q;
    res->limit_background_source = "simulated_box";
  } else if (isfinite(r->sideband_per_eot) && r->sideband_per_eot > 0) {
    res->limit_background = r->sideband_per_eot * q;
    res->limit_background_error = r->sideband_per_eot_error * q;
    res->limit_background_source = "sideband_extrapolation";
  } else {
    res->limit_background = res->limit_background_error = 0.0;
    res->limit_background_source = "none";
  }
}

/* The measured efficiency per mass as the limit's efficiency curve (GeV, increasing masses): the
 * signal efficiency depends on m_A' through the A' energy and angle spectra (docs/selection.md), so
 * each mass of the limit uses its own, interpolated in ln m between the scan's masses. */
static int efficiency_curve(const na64_job_result *res, double **mass, double **value, na64_err *err)
{
  *mass = malloc((size_t)res->nmass * sizeof **mass);
  *value = malloc((size_t)res->nmass * sizeof **value);
  if (!*mass || !*value) return na64_err_set(err, NA64_ENOMEM, "efficiency curve: out of memory");
  int n = 0;
  for (int i = 0; i < res->nmass; ++i) { /* insertion by mass: the card may list the masses in any order */
    int j = n++;
    for (; j > 0 && (*mass)[j - 1] > res->mass_MeV[i] * 1e-3; --j) {
      (*mass)[j] = (*mass)[j - 1];
      (*value)[j] = (*value)[j - 1];
    }
    (*mass)[j] = res->mass_MeV[i] * 1e-3;
    (*value)[j] = res->efficiency[i];
  }
  for (int i = 1; i < n; ++i)
    if (!((*mass)[i] > (*mass)[i - 1]))
      return na64_err_set(err, NA64_EINVAL, "efficiency scan: mass %g MeV listed twice", (*mass)[i] * 1e3);
  return NA64_OK;
}

static int compute_limit(na64_job_result *res, const na64_sim_config *sc, na64_err *err)
{
  na64_sens_options *o = &res->limit_options;
  na64_sens_options_default(o);
  o->energy = sc->beam_energy;
  o->eot = res->eot_quoted;
  o->efficiency = res->limit_efficiency;
  int st = efficiency_curve(res, &res->limit_eff_mass, &res->limit_eff_value, err);
  o->eff_mass = res->limit_eff_mass;
  o->eff_value = res->limit_eff_value;
  o->eff_n = res->nmass;
  o->background = res->limit_background;
  o->background_error = res->limit_background_error;
  o->ecal_max = res->select.ecal_max;
  o->observed = 0; /* NA64 observed no event in the box (PRL 123 (2019) 121801) */
  o->mediator = sc->aprime_mediator; /* issue 14: the card's boson, the limit on its coupling g (exact only) */
  if (o->mediator != NA64_MED_VECTOR) o->method = NA64_XS_EXACT;
  if (st == NA64_OK) st = na64_sens_masses_parse(NULL, NA64_SENS_INVISIBLE, &res->limit.masses, &res->limit.n, err);
  if (st == NA64_OK) st = na64_sens_curve_compute(o, &res->limit, NULL, NULL, err);
  return st;
}

/* The partial's accumulators: the main sample and nmass signal samples. */
static int partial_alloc(na64_job_partial *p, int nmass, na64_err *err)
{
  p->nmass = nmass;
  p->signal = calloc((size_t)p->nmass, sizeof *p->signal);
  if (!p->signal) return na64_err_set(err, NA64_ENOMEM, "job partial: out of memory");
  na64_select_accum_init(&p->main);
  for (int i = 0; i < p->nmass; ++i) na64_select_accum_init(&p->signal[i]);
  return NA64_OK;
}

int na64_job_partial_run(const char *card_path, int part, int nparts, na64_job_partial *p,
                         void (*progress)(const char *stage, double frac, void *user), void *user, na64_err *err)
{
  return na64_job_partial_run_events(card_path, part, nparts, NULL, p, progress, user, err);
}

int na64_job_partial_run_events(const char *card_path, int part, int nparts, const char *events_path,
                                na64_job_partial *p, void (*progress)(const char *stage, double frac, void *user),
                                void *user, na64_err *err)
{
  if (!p) return na64_err_set(err, NA64_EINVAL, "na64_job_partial_run: NULL partial");
  memset(p, 0, sizeof *p);
  if (nparts < 1 || part < 0 || part >= nparts)
    return na64_err_set(err, NA64_EINVAL, "job part %d/%d: the part must lie in 0..N-1 with N >= 1", part, nparts);
  NA64_CALL(na64_job_partial_set_card(p, card_path, err));
  na64_sim_config sc;
  na64_select_config sel;
  na64_job_config jc;
  NA64_CALL(load_configs(p->card_text, p->card_len, card_path, &sc, &sel, &jc, err));
  p->run = sc.run;
  p->seed = (uint64_t)jc.seed;
  p->events = (uint64_t)jc.events;
  p->signal_events = (uint64_t)jc.signal_events;
  na64_part_range(p->events, part, nparts, &p->main_first, &p->main_count);
  na64_part_range(p->signal_events, part, nparts, &p->signal_first, &p->signal_count);
  p->bkg_events = (uint64_t)jc.background_events;
  na64_part_range(p->bkg_events, part, nparts, &p->bkg_first, &p->bkg_count);
  double *m = NULL;
  int n = 0;
  NA64_CALL(na64_sens_masses_parse(jc.masses, NA64_SENS_INVISIBLE, &m, &n, err));
  int st = partial_alloc(p, n, err);
  if (st == NA64_OK && progress) progress("simulation + selection", 0.0, user);
  if (st == NA64_OK)
    st = run_sample(&sc, &sel, p->seed, p->main_first, p->main_count, (int)jc.threads, 0, events_path, &p->main, err);
  for (int i = 0; i < n && st == NA64_OK; ++i) {
    if (progress) progress("efficiency", (double)i / n, user);
    st = signal_sample_at(&sc, &sel, &jc, m[i], p->signal_first, p->signal_count, &p->signal[i], err);
  }
  free(m);
  if (st == NA64_OK && progress) progress("Table 1 background routes", 0.0, user);
  if (st == NA64_OK)
    st = na64_job_bkg_accumulate(&sc, p->seed, p->bkg_first, p->bkg_count, (int)jc.threads, p->bkg, err);
  return st;
}

/* The efficiency per mass of the scan from the partial's signal accumulators. */
static int efficiency_scan(na64_job_result *res, const na64_job_partial *p, const na64_job_config *jc, na64_err *err)
{
  double *m = NULL;
  int n = 0;
  NA64_CALL(na64_sens_masses_parse(jc->masses, NA64_SENS_INVISIBLE, &m, &n, err));
  res->nmass = n;
  res->mass_MeV = m;
  res->efficiency = calloc((size_t)n, sizeof(double));
  res->efficiency_error = calloc((size_t)n, sizeof(double));
  if (!res->efficiency || !res->efficiency_error) return na64_err_set(err, NA64_ENOMEM, "efficiency scan: out of memory");
  if (n != p->nmass)
    return na64_err_set(err, NA64_EINVAL, "job partial: %d masses in the results, %d in the card", p->nmass, n);
  for (int i = 0; i < n; ++i) {
    m[i] *= 1e3;
    na64_select_result r;
    NA64_CALL(na64_select_result_compute(&res->select, &p->signal[i], (double)jc->signal_events, &r, err));
    res->efficiency[i] = r.efficiency;
    res->efficiency_error[i] = r.efficiency_error;
  }
  return NA64_OK;
}

int na64_job_finish(const na64_job_partial *p, double eot_override, na64_job_result *res, na64_err *err)
{
  if (!p || !res) return na64_err_set(err, NA64_EINVAL, "na64_job_finish: NULL argument");
  memset(res, 0, sizeof *res);
  if (p->main_first != 0 || p->main_count != p->events || p->signal_first != 0 || p->signal_count != p->signal_events ||
      p->bkg_first != 0 || p->bkg_count != p->bkg_events)
    return na64_err_set(err, NA64_EINVAL,
                        "job results cover events %llu..%llu of %llu (signal %llu..%llu of %llu): merge every part first",
                        (unsigned long long)p->main_first, (unsigned long long)(p->main_first + p->main_count),
                        (unsigned long long)p->events, (unsigned long long)p->signal_first,
                        (unsigned long long)(p->signal_first + p->signal_count), (unsigned long long)p->signal_events);
  na64_sim_config sc;
  na64_job_config jc;
  const char *name = p->card_name[0] ? p->card_name : "(card)";
  NA64_CALL(load_configs(p->card_text, p->card_len, name, &sc, &res->select, &jc, err));
  res->eot_quoted = eot_override > 0 ? eot_override : jc.eot;
  res->accum = p->main;
  NA64_CALL(na64_select_result_compute(&res->select, &res->accum, (double)jc.events, &res->result, err));
  NA64_CALL(efficiency_scan(res, p, &jc, err));
  /* the limit's efficiency: the scan's value nearest to the card's A' mass (the main sample has
   * few A' events when its bias is small) */
  int best = 0;
  for (int i = 1; i < res->nmass; ++i)
    if (fabs(log(res->mass_MeV[i] / (sc.aprime_mass * 1e3))) < fabs(log(res->mass_MeV[best] / (sc.aprime_mass * 1e3))))
      best = i;
  res->limit_efficiency = res->efficiency[best];
  if (!(res->limit_efficiency > 0))
    return na64_err_set(err, NA64_EPHYS, "signal efficiency at %g MeV is %g: no limit", res->mass_MeV[best],
                        res->limit_efficiency);
  NA64_CALL(na64_job_bkg_finish(&sc, p->seed, p->bkg_events, p->bkg, res, err));
  choose_background(res);
  return compute_limit(res, &sc, err);
}

int na64_job_run(const char *card_path, double eot_override, na64_job_result *res,
                 void (*progress)(const char *stage, double frac, void *user), void *user, na64_err *err)
{
  if (!res) return na64_err_set(err, NA64_EINVAL, "na64_job_run: NULL result");
  memset(res, 0, sizeof *res);
  na64_job_partial p = {0};
  int st = na64_job_partial_run(card_path, 0, 1, &p, progress, user, err);
  if (st == NA64_OK && progress) progress("limit", 0.0, user);
  if (st == NA64_OK) st = na64_job_finish(&p, eot_override, res, err);
  na64_job_partial_release(&p);
  return st;
}

void na64_job_result_release(na64_job_result *res)
{
  if (!res) return;
  free(res->mass_MeV);
  free(res->efficiency);
  free(res->efficiency_error);
  free(res->limit_eff_mass);
  free(res->limit_eff_value);
  res->limit_eff_mass = res->limit_eff_value = NULL;
  res->limit_options.eff_mass = res->limit_options.eff_value = NULL;
  res->limit_options.eff_n = 0;
  na64_sens_curve_release(&res->limit);
  res->mass_MeV = res->efficiency = res->efficiency_error = NULL;
}
