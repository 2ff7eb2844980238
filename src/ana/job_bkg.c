/*
 * The measured background of `na64 run` (issue 11): the Table 1 background routes of the fast
 * simulation (src/sim/fast_bkg*.c: each source forces its process, biases its rare step with
 * exact weights and replaces pure detector probabilities by those probabilities) run inside the
 * job, because the unbiased main sample can never reach the signal box at the 1e-12 per EOT level
 * of the NA64 report's Table 1 (1e6 EOT give a 90% CL bound of 2.3e-6 per EOT).
 *
 * Each part of the job (threads, `--part K/N`, MPI ranks) computes the weights of its range of
 * every source's sample (na64_sim_bkg_weights: event i of a source always draws from the same
 * stream) and adds them to exact sums (na64_xsum), so the merged sums, hence the rates, errors and
 * the limit, are bit for bit those of the serial job whatever the split. The rate of a source is
 * the mean weight, its error the standard error of the mean; a source with no event in the box
 * carries the 90% CL bound 2.3 P(process) / N (every weight is at most P(process)).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"

#define BKG_SEED_OFFSET 2000003u /* the routes' seed: the card's seed + this (main: seed, signal: seed + 1000003) */
#define BKG_MAX_THREADS 64

/* |w| below 2^-267 would poison an exact sum (na64_xsum: out of range -> NaN); such a weight (and
 * its square) is below 1e-80 per EOT, 60 orders under the Table 1 levels: it is counted as 0. */
static void add_weight(na64_job_bkg_accum *a, double w)
{
  if (!(w > 0.0)) return;
  a->passed++;
  if (w < 1e-80) return;
  na64_xsum_add(&a->sum, w);
  na64_xsum_add(&a->sum2, w * w < 1e-80 ? 0.0 : w * w);
}

static void add_weight_cb(double w, void *a) { add_weight(a, w); }

/* One set-up of the route per call (the knock-on and accidental SRD tags, the shape table and the
 * forced generator cost ~1e9 instructions; they were built again for every 4096-event chunk). */
static int accumulate_source(const na64_sim *s, int source, uint64_t seed, uint64_t first, uint64_t count,
                             na64_job_bkg_accum *a, na64_err *err)
{
  int st = na64_sim_bkg_weights_visit(s, source, seed, first, count, add_weight_cb, a, err);
  if (st) na64_err_prefix(err, "background route %s: ", na64_sim_bkg_name(source));
  return st;
}

typedef struct bkg_task {
  const na64_sim *s;
  uint64_t seed, first, count;
  int t, nthreads, st;
  na64_job_bkg_accum *acc;
  na64_err err;
} bkg_task;

/* Thread t computes sources t, t + T, ...: each source's sums belong to one thread. */
static void *bkg_thread(void *arg)
{
  bkg_task *k = arg;
  for (int i = k->t; i < NA64_SIM_BKG_NSOURCES && k->st == NA64_OK; i += k->nthreads)
    k->st = accumulate_source(k->s, i, k->seed, k->first, k->count, &k->acc[i], &k->err);
  return NULL;
}

int na64_job_bkg_accumulate(const na64_sim_config *sc, uint64_t seed, uint64_t first, uint64_t count, int threads,
                            na64_job_bkg_accum acc[NA64_SIM_BKG_NSOURCES], na64_err *err)
{
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES; ++i) {
    memset(&acc[i], 0, sizeof acc[i]);
    na64_xsum_init(&acc[i].sum);
    na64_xsum_init(&acc[i].sum2);
  }
  if (count == 0) return NA64_OK;
  na64_sim_config c = *sc;
  c.aprime_enabled = 0; /* the routes are backgrounds: no A' emission */
  na64_sim *s = NULL;
  NA64_CALL(na64_sim_new(&c, &s, err));
  int nt = threads < 1 ? 1 : threads > NA64_SIM_BKG_NSOURCES ? NA64_SIM_BKG_NSOURCES : threads;
  bkg_task task[BKG_MAX_THREADS];
  pthread_t tid[BKG_MAX_THREADS];
  int started[BKG_MAX_THREADS] = {0};
  for (int t = 0; t < nt; ++t) {
    task[t] = (bkg_task){s, seed + BKG_SEED_OFFSET, first, count, t, nt, NA64_OK, acc, {0}};
    if (t > 0) started[t] = pthread_create(&tid[t], NULL, bkg_thread, &task[t]) == 0;
  }
  bkg_thread(&task[0]);
  for (int t = 1; t < nt; ++t) {
    if (started[t]) pthread_join(tid[t], NULL);
    else bkg_thread(&task[t]); /* no thread: the calling thread does its share */
  }
  int st = NA64_OK;
  for (int t = 0; t < nt && st == NA64_OK; ++t)
    if (task[t].st != NA64_OK) {
      st = task[t].st;
      if (err) *err = task[t].err;
    }
  na64_sim_free(s);
  return st;
}

int na64_job_bkg_finish(const na64_sim_config *sc, uint64_t seed, uint64_t events,
                        const na64_job_bkg_accum acc[NA64_SIM_BKG_NSOURCES], na64_job_result *res, na64_err *err)
{
  res->bkg_n = 0;
  res->bkg_total = res->bkg_total_error = 0.0;
  if (events == 0) return NA64_OK;
  na64_sim_config c = *sc;
  c.aprime_enabled = 0;
  na64_sim *s = NULL;
  NA64_CALL(na64_sim_new(&c, &s, err));
  int st = NA64_OK;
  double var = 0.0;
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES && st == NA64_OK; ++i) {
    na64_sim_bkg_result *r = &res->bkg[i];
    memset(r, 0, sizeof *r);
    r->source = i;
    r->table1 = na64_sim_bkg_table1(i);
    /* P(process) and the muon's accidental tag: the route's set-up without events */
    st = na64_sim_bkg_weights(s, i, seed + BKG_SEED_OFFSET, 0, 0, NULL, &r->process_prob, &r->srd_accidental, err);
    if (st) break;
    double sum = na64_xsum_value(&acc[i].sum), sum2 = na64_xsum_value(&acc[i].sum2);
    if (!isfinite(sum) || !isfinite(sum2))
      st = na64_err_set(err, NA64_EPHYS, "background route %s: weights outside the exact sum's range", na64_sim_bkg_name(i));
    else na64_sim_bkg_result_from_sums(r, events, acc[i].passed, sum, sum2);
    res->bkg_total += r->rate;
    var += r->error * r->error;
  }
  na64_sim_free(s);
  if (st) return st;
  res->bkg_n = NA64_SIM_BKG_NSOURCES;
  res->bkg_total_error = sqrt(var);
  return NA64_OK;
}
