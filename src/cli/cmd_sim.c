/* `na64 sim CARD`: the fast invisible-mode simulation (docs/simulation.md); on a visible card
 * (aprime.decay: ee) the visible-mode events (docs/visible.md, "na64 sim on a visible card"). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/par.h"
#include "na64/io.h"
#include "na64/sim.h"

static const char sim_synopsis[] =
    "Simulate N beam particles of the invisible-mode setup described by the run card CARD (YAML,\n"
    "see configs/ and docs/simulation.md): beam with admixture, tail, decays and pile-up, A' emission\n"
    "with biasing, ECAL/HCAL/veto/SRD, trigger.\n"
    "Energies in GeV, the A' mass in the card in MeV. Prints a summary; --out writes the triggered events\n"
    "as DATE raw data (calorimeter sampling-ADC waveforms, straw F1 and Micromegas/GEM APV hits);\n"
    "--truth writes the truth record of the triggered events (all events with --all) as an HDF5 table\n"
    "'truth'.\n"
    "Under mpirun/srun (or with --part K/N in a batch array) each rank simulates its range of the events\n"
    "(the same events as the serial run) into FILE.rank<K>.dat and TRUTH.rank<K>.h5, and an index\n"
    "FILE.index.yaml (FILE.rank<K>.index.yaml per batch part) lists the parts for na64 reco (docs/scaling.md).\n"
    "On a visible card (aprime: {decay: ee}, docs/visible.md) every event is recorded: a beam e- showering in\n"
    "the WCAL or, for the fraction --signal of the events, an A' -> e+e- decaying in the decay region at the\n"
    "card's (m, eps); --out writes them as DATE raw data (WCAL, V2, S4, ECAL, ... waveforms, Micromegas/GEM\n"
    "APV and straw F1 hits), --truth one row per event (table 'truth'); parts and ranks split the events\n"
    "as for an invisible card (the index lists the DATE parts only: the visible truth has no weights for\n"
    "na64 reco).";

typedef struct sink_ctx {
  na64_h5table *truth;
  na64_daq_writer *raw;
  na64_sim_digitizer *digi;
  uint64_t seed;
  uint32_t nraw;
} sink_ctx;

static int sink(const na64_sim_event *ev, void *user, na64_err *err)
{
  sink_ctx *c = user;
  if (c->truth) NA64_CALL(na64_h5table_append(c->truth, &ev->truth, 1, err));
  if (c->raw && ev->truth.triggered) /* the DAQ records triggered events only */
    NA64_CALL(na64_sim_digitize_write(c->digi, ev, c->seed, c->nraw++, c->raw, err));
  return NA64_OK;
}

static int open_raw(const char *path, const na64_sim *s, sink_ctx *c, na64_err *err)
{
  NA64_CALL(na64_sim_digitizer_new(s, &c->digi, err));
  NA64_CALL(na64_sim_raw_open(s, path, &c->raw, err));
  return na64_sim_write_run_mark(s, NA64_DAQ_START_OF_RUN, 0, c->raw, err);
}

static void progress(uint64_t done, uint64_t total, void *user)
{
  cli_progress_update(user, (double)done);
  (void)total;
}

static void print_summary(const na64_sim *s, const na64_sim_summary *m)
{
  printf("generated %llu, triggered %llu (weighted %.6g)\n", (unsigned long long)m->generated,
         (unsigned long long)m->triggered, m->triggered_weight);
  for (int p = 0; p < NA64_SIM_NPARTICLES; ++p)
    if (m->by_particle[p])
      printf("  %-4s generated %llu, triggered %llu\n", na64_sim_particle_name(p), (unsigned long long)m->by_particle[p],
             (unsigned long long)m->triggered_by_particle[p]);
  double pa = na64_sim_aprime_probability(s);
  if (pa > 0.0)
    printf("A' emissions %llu (true probability per EOT %.6g, bias %.6g)\n", (unsigned long long)m->aprime_emitted, pa,
           na64_sim_get_config(s)->aprime_bias);
}

/* The options of one `na64 sim` and the events of this process (all of them, or part k of n). */
typedef struct sim_job {
  const char *card, *truth, *out, *part;
  long nev, seed, threads;
  double signal;               /* visible cards: fraction of A' -> e+e- events */
  int all;
  int k, n, split;             /* part k of n; split: --part or more than one MPI rank */
  int index_truth;             /* list the truth parts in the index (invisible cards: na64 reco reads their weights) */
  uint64_t first, count;       /* beam particles of this part */
  char out_k[4096], truth_k[4096]; /* the part's files (FILE.rank<K>.dat) or the files as given */
} sim_job;

/* The part's truth table (rows of `size` bytes, columns f) with the attributes of both kinds of card:
 * card, seed and, for a part, its split and first event. */
static int create_truth(const sim_job *j, const na64_h5_field *f, int n, size_t size, na64_h5table **t, na64_err *err)
{
  NA64_CALL(na64_h5table_create(j->truth_k, "truth", size, f, n, t, err));
  char buf[64];
  snprintf(buf, sizeof buf, "%ld", j->seed);
  NA64_CALL(na64_h5table_attr(*t, "card", j->card, err));
  NA64_CALL(na64_h5table_attr(*t, "seed", buf, err));
  if (j->split) { /* the part's beam particles: rows are events first_event.. of the run */
    snprintf(buf, sizeof buf, "%d/%d", j->k, j->n);
    NA64_CALL(na64_h5table_attr(*t, "part", buf, err));
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)j->first);
    NA64_CALL(na64_h5table_attr(*t, "first_event", buf, err));
  }
  return NA64_OK;
}

static int open_truth(const sim_job *j, sink_ctx *ctx, na64_err *err)
{
  int n = 0;
  const na64_h5_field *f = na64_sim_truth_fields(&n);
  NA64_CALL(create_truth(j, f, n, sizeof(na64_sim_truth), &ctx->truth, err));
  return na64_h5table_attr(ctx->truth, "na64_version", na64_version(), err);
}

/* Close the outputs: on success commit them (end-of-run event, rename), otherwise drop them. */
static int close_outputs(const na64_sim *s, sink_ctx *ctx, int st, na64_err *err)
{
  if (ctx->truth) {
    if (st == NA64_OK) st = na64_h5table_close(ctx->truth, err);
    else na64_h5table_abort(ctx->truth);
  }
  if (ctx->raw) {
    if (st == NA64_OK) st = na64_sim_write_run_mark(s, NA64_DAQ_END_OF_RUN, ctx->nraw, ctx->raw, err);
    na64_err e2 = {0, ""};
    int st2 = na64_daq_writer_close(ctx->raw, &e2);
    if (st == NA64_OK && st2 != NA64_OK) {
      st = st2;
      *err = e2;
    }
  }
  return st;
}

/* Simulate the job's events into its files; *sum for them. */
static int simulate(const sim_job *j, const na64_sim *s, na64_sim_summary *sum, na64_err *err)
{
  sink_ctx ctx = {NULL, NULL, NULL, (uint64_t)j->seed, 0};
  int st = j->out ? open_raw(j->out_k, s, &ctx, err) : NA64_OK;
  if (st == NA64_OK && j->truth) st = open_truth(j, &ctx, err);
  cli_progress pr;
  cli_progress_start(&pr, "sim", (double)j->count);
  na64_sim_run_opts o = {(uint64_t)j->seed, j->count, (int)j->threads, j->all, sink, &ctx, progress, &pr, j->first};
  if (st == NA64_OK) st = na64_sim_run(s, &o, sum, err);
  cli_progress_finish(&pr, (double)j->count);
  st = close_outputs(s, &ctx, st, err);
  na64_sim_digitizer_free(ctx.digi);
  return st;
}

/* The index of the run's parts (src/io/stream_index.c): records[k] triggered events of part k,
 * for parts k0 .. k0 + nheld - 1. */
static int write_index(const sim_job *j, long run, int k0, int nheld, const uint64_t *records, na64_err *err)
{
  na64_stream_index ix;
  memset(&ix, 0, sizeof ix);
  snprintf(ix.kind, sizeof ix.kind, "raw");
  snprintf(ix.version, sizeof ix.version, "%s", na64_version());
  snprintf(ix.card, sizeof ix.card, "%s", j->card);
  NA64_CALL(na64_fnv1a64_file(j->card, &ix.card_hash, err));
  ix.run = run;
  ix.seed = (uint64_t)j->seed;
  ix.events = (uint64_t)j->nev;
  ix.nparts = j->n;
  ix.nheld = nheld;
  ix.parts = calloc((size_t)nheld, sizeof *ix.parts);
  if (!ix.parts) return na64_err_set(err, NA64_ENOMEM, "sim index: out of memory");
  int st = NA64_OK;
  for (int i = 0; i < nheld && st == NA64_OK; ++i) {
    na64_stream_part *p = &ix.parts[i];
    p->part = k0 + i;
    na64_part_range((uint64_t)j->nev, p->part, j->n, &p->first_event, &p->events);
    p->records = records[i];
    if (j->out) st = na64_stream_path(j->out, p->part, NULL, p->file, sizeof p->file, err);
    if (st == NA64_OK && j->truth && j->index_truth)
      st = na64_stream_path(j->truth, p->part, NULL, p->truth, sizeof p->truth, err);
  }
  char path[4096], ext[64];
  if (j->part) snprintf(ext, sizeof ext, ".rank%d.index.yaml", j->k); /* a job-array part: its own entry */
  else snprintf(ext, sizeof ext, ".index.yaml");
  if (st == NA64_OK) st = na64_stream_path(j->out ? j->out : j->truth, 0, ext, path, sizeof path, err);
  if (st == NA64_OK) st = na64_stream_index_write(&ix, path, err);
  if (st == NA64_OK) printf("index of the %d parts: %s\n", j->n, path);
  free(ix.parts);
  return st;
}

/* Under MPI: every rank's triggered count to rank 0, which writes the index of all parts (collective). */
static int index_ranks(const sim_job *j, long run, uint64_t triggered, na64_err *err)
{
  char text[32], **texts = NULL;
  size_t *lens = NULL;
  int len = snprintf(text, sizeof text, "%llu", (unsigned long long)triggered);
  if (par_gather(text, (size_t)len, &texts, &lens)) return na64_err_set(err, NA64_ENOMEM, "sim: gathering the ranks' counts");
  if (!texts) return NA64_OK; /* rank > 0 */
  uint64_t *rec = calloc((size_t)j->n, sizeof *rec);
  for (int r = 0; r < j->n; ++r) {
    if (rec) rec[r] = strtoull(texts[r], NULL, 10);
    free(texts[r]);
  }
  free(texts);
  free(lens);
  int st = rec ? write_index(j, run, 0, j->n, rec, err) : na64_err_set(err, NA64_ENOMEM, "sim index: out of memory");
  free(rec);
  return st;
}

/* This process's part: all events, --part K/N or MPI rank K of N; its files FILE.rank<K>.*. */
static int plan_part(sim_job *j)
{
  j->k = 0;
  j->n = 1;
  if (j->part) {
    if (par_size() > 1) return cli_usage_error("sim", "--part is for batch jobs: under mpirun the ranks are the parts");
    if (par_parse_part(j->part, &j->k, &j->n))
      return cli_usage_error("sim", "--part %s: expected K/N with 0 <= K < N (e.g. 3/100 for the 4th of 100 jobs)", j->part);
  } else {
    j->k = par_rank();
    j->n = par_size();
  }
  j->split = j->part || j->n > 1;
  na64_part_range((uint64_t)j->nev, j->k, j->n, &j->first, &j->count);
  na64_err err = {0, ""};
  snprintf(j->out_k, sizeof j->out_k, "%s", j->out ? j->out : "");
  snprintf(j->truth_k, sizeof j->truth_k, "%s", j->truth ? j->truth : "");
  if (j->split && ((j->out && na64_stream_path(j->out, j->k, NULL, j->out_k, sizeof j->out_k, &err)) ||
                   (j->truth && na64_stream_path(j->truth, j->k, NULL, j->truth_k, sizeof j->truth_k, &err))))
    return cli_fail("sim", &err);
  return CLI_EXIT_OK;
}

/* After this process's part (status st): under MPI every rank learns whether one failed (then
 * CLI_EXIT_FAIL; each failing rank names its error); a split run prints its range and writes the
 * index of the parts (records: the events its DATE file holds). Returns a CLI exit code. */
static int finish_part(const sim_job *j, long run, uint64_t records, int st, na64_err *err)
{
  int mpi = !j->part && j->n > 1;
  if (mpi && st != NA64_OK) cli_fail("sim", err); /* every rank names its own error */
  if (mpi && par_any(st != NA64_OK)) {
    if (st == NA64_OK) fprintf(stderr, "na64 sim: rank %d: stopped, another rank failed (its message is above)\n", j->k);
    return CLI_EXIT_FAIL;
  }
  if (st == NA64_OK && j->split) {
    printf("part %d/%d: events %llu..%llu of %ld\n", j->k, j->n, (unsigned long long)j->first,
           (unsigned long long)(j->first + j->count), j->nev);
    if (j->out || j->truth) /* a job-array part indexes itself; under mpirun rank 0 indexes all */
      st = j->part ? write_index(j, run, j->k, 1, &records, err) : index_ranks(j, run, records, err);
  }
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("sim", err);
}

/* ---- visible cards (issue 12): na64_vis_sim events, DATE and truth ------------------------------
 * Event i of the run is a signal event when floor((i + 1) f) > floor(i f) (a fraction f of the
 * events, spread evenly, the same for any split). The events are generated by worker threads in
 * blocks (each from its own stream (seed, i)) and digitised and written in event order by the main
 * thread, so the files are the same, byte for byte, for any --threads. */
#define VIS_BLOCK 256
#define VIS_MAX_THREADS 64

static int vis_is_signal(uint64_t i, double f) { return floor((double)(i + 1) * f) > floor((double)i * f); }

typedef struct vis_worker {
  const na64_vis_sim *sim;
  uint64_t seed, first, n; /* events first .. first + n - 1 of the run */
  double signal;
  na64_vis_sim_event *ev;  /* ev[0 .. n) */
  int st;
  na64_err err;
} vis_worker;

static void *vis_generate(void *arg)
{
  vis_worker *w = arg;
  for (uint64_t i = 0; i < w->n && w->st == NA64_OK; ++i)
    w->st = na64_vis_sim_event_generate(w->sim, w->seed, w->first + i, vis_is_signal(w->first + i, w->signal), &w->ev[i],
                                        &w->err);
  return NULL;
}

/* Events first .. first + n - 1 into ev[], split over nt threads (contiguous ranges). */
static int vis_generate_block(const sim_job *j, const na64_vis_sim *s, uint64_t first, uint64_t n, na64_vis_sim_event *ev,
                              na64_err *err)
{
  int nt = (int)(j->threads < VIS_MAX_THREADS ? j->threads : VIS_MAX_THREADS);
  if ((uint64_t)nt > n) nt = (int)n;
  vis_worker w[VIS_MAX_THREADS];
  pthread_t tid[VIS_MAX_THREADS];
  int started[VIS_MAX_THREADS] = {0};
  for (int t = 0; t < nt; ++t) {
    uint64_t a = n * (uint64_t)t / (uint64_t)nt, b = n * (uint64_t)(t + 1) / (uint64_t)nt;
    w[t] = (vis_worker){s, (uint64_t)j->seed, first + a, b - a, j->signal, ev + a, NA64_OK, {0, ""}};
    if (t > 0) started[t] = pthread_create(&tid[t], NULL, vis_generate, &w[t]) == 0;
    if (t > 0 && !started[t]) vis_generate(&w[t]); /* no thread: the same events here */
  }
  vis_generate(&w[0]);
  for (int t = 1; t < nt; ++t)
    if (started[t]) pthread_join(tid[t], NULL);
  for (int t = 0; t < nt; ++t)
    if (w[t].st != NA64_OK) {
      *err = w[t].err;
      return w[t].st;
    }
  return NA64_OK;
}

typedef struct vis_outputs {
  na64_h5table *truth;
  na64_daq_writer *raw;
  na64_vis_digitizer *digi;
} vis_outputs;

static int vis_open(const sim_job *j, const na64_vis_sim *s, vis_outputs *o, na64_err *err)
{
  if (j->out) {
    NA64_CALL(na64_vis_digitizer_new(s, &o->digi, err));
    NA64_CALL(na64_vis_raw_open(s, j->out_k, &o->raw, err));
    NA64_CALL(na64_vis_write_run_mark(s, NA64_DAQ_START_OF_RUN, 0, o->raw, err));
  }
  if (j->truth) {
    int n = 0;
    const na64_h5_field *f = na64_vis_truth_fields(&n);
    NA64_CALL(create_truth(j, f, n, sizeof(na64_vis_sim_event), &o->truth, err));
    char buf[64];
    NA64_CALL(na64_h5table_attr(o->truth, "mode", "visible", err));
    snprintf(buf, sizeof buf, "%.17g", j->signal);
    NA64_CALL(na64_h5table_attr(o->truth, "signal_fraction", buf, err));
    NA64_CALL(na64_h5table_attr(o->truth, "na64_version", na64_version(), err));
  }
  return NA64_OK;
}

/* Commit the outputs on success (end of run, rename), drop them otherwise; frees everything. */
static int vis_close(const na64_vis_sim *s, vis_outputs *o, uint64_t nev, int st, na64_err *err)
{
  if (o->truth) {
    if (st == NA64_OK) st = na64_h5table_close(o->truth, err);
    else na64_h5table_abort(o->truth);
  }
  if (o->raw) {
    if (st == NA64_OK) st = na64_vis_write_run_mark(s, NA64_DAQ_END_OF_RUN, (uint32_t)nev, o->raw, err);
    na64_err e2 = {0, ""};
    int st2 = na64_daq_writer_close(o->raw, &e2);
    if (st == NA64_OK && st2 != NA64_OK) {
      st = st2;
      *err = e2;
    }
  }
  na64_vis_digitizer_free(o->digi);
  return st;
}

typedef struct vis_summary {
  uint64_t events, signal, s4_two;
  double wcal_sum, ecal_sum;
} vis_summary;

/* One block, in event order: the summary, the truth rows, the DATE events (numbered in the part's
 * file from 0, as the invisible parts: the run-wide number is first_event + it, docs/scaling.md). */
static int vis_write_block(const sim_job *j, vis_outputs *o, const na64_vis_sim_event *ev, uint64_t n, vis_summary *m,
                           na64_err *err)
{
  for (uint64_t i = 0; i < n; ++i) {
    m->events++;
    m->signal += ev[i].signal != 0;
    m->s4_two += ev[i].n_s4 == 2;
    m->wcal_sum += ev[i].true_wcal;
    m->ecal_sum += ev[i].true_ecal;
    if (o->raw)
      NA64_CALL(na64_vis_digitize_write(o->digi, &ev[i], (uint64_t)j->seed, (uint32_t)(ev[i].event - j->first), o->raw, err));
  }
  if (o->truth) NA64_CALL(na64_h5table_append(o->truth, ev, (size_t)n, err));
  return NA64_OK;
}

static int vis_simulate(const sim_job *j, const na64_vis_sim *s, vis_summary *m, na64_err *err)
{
  vis_outputs o = {NULL, NULL, NULL};
  na64_vis_sim_event *ev = malloc(VIS_BLOCK * sizeof *ev);
  int st = ev ? vis_open(j, s, &o, err) : na64_err_set(err, NA64_ENOMEM, "sim: out of memory");
  cli_progress pr;
  cli_progress_start(&pr, "sim", (double)j->count);
  for (uint64_t done = 0; st == NA64_OK && done < j->count; done += VIS_BLOCK) {
    uint64_t n = j->count - done < VIS_BLOCK ? j->count - done : VIS_BLOCK;
    st = vis_generate_block(j, s, j->first + done, n, ev, err);
    if (st == NA64_OK) st = vis_write_block(j, &o, ev, n, m, err);
    cli_progress_update(&pr, (double)(done + n));
  }
  cli_progress_finish(&pr, (double)j->count);
  free(ev);
  return vis_close(s, &o, j->count, st, err);
}

static int run_visible(sim_job *j)
{
  j->index_truth = 0; /* na64 reco reads weights from invisible truth tables only */
  if (j->all) return cli_usage_error("sim", "--all: a visible run records every event (there is no trigger to pass)");
  int rc = plan_part(j);
  if (rc) return rc;
  na64_err err = {0, ""};
  na64_vis_config cfg;
  na64_vis_config_default(&cfg);
  na64_vis_sim *s = NULL;
  int st = na64_vis_config_load(j->card, &cfg, &err);
  if (st == NA64_OK) st = na64_vis_sim_new(&cfg, &s, &err);
  if (st == NA64_OK && j->signal > 0.0 && !(na64_vis_sim_signal_yield(s) > 0.0))
    st = na64_err_set(&err, NA64_EPHYS, "%s: --signal %g, but no A' of m = %g MeV, eps = %g decays in the decay region",
                      j->card, j->signal, cfg.aprime_mass * 1e3, cfg.aprime_eps);
  vis_summary m = {0, 0, 0, 0.0, 0.0};
  if (st == NA64_OK) st = vis_simulate(j, s, &m, &err);
  rc = finish_part(j, cfg.run, m.events, st, &err);
  if (rc == CLI_EXIT_OK && m.events > 0) {
    printf("visible run %ld: events %llu, A' -> e+e- signal %llu, two charged particles in S4 %llu\n", cfg.run,
           (unsigned long long)m.events, (unsigned long long)m.signal, (unsigned long long)m.s4_two);
    printf("  mean true energy: WCAL %.4g GeV, ECAL %.4g GeV\n", m.wcal_sum / (double)m.events, m.ecal_sum / (double)m.events);
    printf("  A' -> e+e- in the decay region per EOT %.6g (m = %g MeV, eps = %g)\n", na64_vis_sim_signal_yield(s),
           cfg.aprime_mass * 1e3, cfg.aprime_eps);
  }
  na64_vis_sim_free(s);
  return rc;
}

/* 1 if the card is a visible card (aprime.decay: ee); a card that does not load is left to the
 * invisible reader, whose message names the problem. */
static int card_is_visible(const char *path)
{
  na64_card *card = NULL;
  na64_err err = {0, ""};
  if (na64_card_load(path, &card, &err) != NA64_OK) return 0;
  int v = na64_card_is_visible(card);
  na64_card_free(card);
  return v;
}

static int run(sim_job *j)
{
  if (card_is_visible(j->card)) return run_visible(j);
  if (j->signal > 0.0) return cli_usage_error("sim", "--signal is for visible cards (aprime: {decay: ee})");
  int st = plan_part(j);
  if (st) return st;
  na64_err err = {0};
  na64_sim_config cfg;
  na64_sim_config_default(&cfg);
  na64_sim *s = NULL;
  st = na64_sim_config_load(j->card, &cfg, &err);
  if (st == NA64_OK) st = na64_sim_new(&cfg, &s, &err);
  na64_sim_summary sum;
  memset(&sum, 0, sizeof sum);
  if (st == NA64_OK) st = simulate(j, s, &sum, &err);
  int rc = finish_part(j, cfg.run, sum.triggered, st, &err);
  if (rc == CLI_EXIT_OK) print_summary(s, &sum);
  na64_sim_free(s);
  return rc;
}

int cmd_sim(int argc, char **argv)
{
  long nev = 1000, seed = 1, threads = 1;
  double signal = 0.0;
  int all = 0;
  const char *truth = NULL, *out = NULL, *part = NULL;
  cli_opt opts[] = {
      {"--out", OPT_STRING, &out, 1, 0, 0, NULL, 0, "write the triggered events as DATE raw data (.zst: zstd frames)", 0},
      {"--events", OPT_INT, &nev, 1, 1e15, 0, NULL, 0, "number of beam particles (EOT) to simulate (default 1000)", 0},
      {"--seed", OPT_INT, &seed, 0, 9e18, 0, NULL, 0, "run seed: event i uses the random stream (seed, i) (default 1)", 0},
      {"--threads", OPT_INT, &threads, 1, 64, 0, NULL, 0, "worker threads; results do not depend on it (default 1)", 0},
      {"--truth", OPT_STRING, &truth, 1, 0, 0, NULL, 0, "write the truth record to this HDF5 file", 0},
      {"--all", OPT_FLAG, &all, 1, 0, 0, NULL, 0, "keep every event in the truth record, not only triggered ones", 0},
      {"--part", OPT_STRING, &part, 1, 0, 0, NULL, 0,
       "simulate part K/N of the events only (batch arrays): files FILE.rank<K>.* and their index", 0},
      {"--signal", OPT_DOUBLE, &signal, 0, 1, 0, NULL, 0,
       "visible cards: fraction of the events that are A' -> e+e- decays at the card's (m, eps) (default 0)", 0},
  };
  cli_cmd cmd = {.name = "sim", .args = "CARD", .synopsis = sim_synopsis, .opts = opts, .nopts = CLI_NOPTS(opts),
                 .pos_min = 1, .pos_max = 1};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  static const char *const raw_exts[] = {".dat", ".raw", ".zst", NULL};
  static const char *const h5_exts[] = {".h5", ".hdf5", NULL};
  if (out && (st = cli_check_output("sim", "--out", out, raw_exts))) return st;
  if (truth && (st = cli_check_output("sim", "--truth", truth, h5_exts))) return st;
  sim_job job = {.card = cmd.pos[0], .truth = truth, .out = out, .part = part, .nev = nev, .seed = seed,
                 .threads = threads, .signal = signal, .all = all, .index_truth = 1};
  par_init(); /* MPI when launched by mpirun or srun: the ranks are the parts (src/cli/par.c) */
  st = run(&job);
  par_finalize();
  return st;
}
