/*
 * The event loop of the fast simulation. Events are generated in blocks; within a block each
 * thread takes a contiguous range of event numbers with its own worker, and the kept events are
 * handed to the sink from the calling thread in event order. Every event draws from its own
 * stream na64_rng_init(seed, event) (Philox, na64/core.h), so the output does not depend on the
 * number of threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fast_internal.h"

#define BLOCK 4096u
#define MAX_THREADS 64

typedef struct job {
  na64_sim_worker *w;
  uint64_t seed, first, n;
  int keep_all;
  na64_sim_event *out; /* kept events, at most n */
  size_t nout;
  uint64_t gen_by_particle[NA64_SIM_NPARTICLES];
  uint64_t aprime;
  int status;
  na64_err err;
} job;

static void *run_job(void *arg)
{
  job *j = arg;
  na64_sim_event ev;
  j->nout = 0;
  for (uint64_t e = j->first; e < j->first + j->n; ++e) {
    j->status = na64_sim_event_generate(j->w, j->seed, e, j->keep_all == 1, &ev, &j->err); /* 2: truth only */
    if (j->status) return NULL;
    j->gen_by_particle[ev.truth.particle]++;
    if (ev.truth.process == NA64_SIM_PROC_APRIME) j->aprime++;
    if (j->keep_all || ev.truth.triggered) j->out[j->nout++] = ev;
  }
  return NULL;
}

static int run_blocks(const na64_sim_run_opts *o, job *jobs, int nt, na64_sim_summary *sum, na64_err *err)
{
  for (uint64_t first = 0; first < o->nevents; first += BLOCK) {
    uint64_t n = o->nevents - first < BLOCK ? o->nevents - first : BLOCK, per = (n + (uint64_t)nt - 1) / (uint64_t)nt;
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 0; t < nt; ++t) {
      uint64_t a = first + (uint64_t)t * per, b = a + per;
      if (a > first + n) a = first + n;
      if (b > first + n) b = first + n;
      jobs[t].first = o->first_event + a;
      jobs[t].n = b - a;
      jobs[t].status = NA64_OK;
      if (t > 0) started[t] = pthread_create(&tid[t], NULL, run_job, &jobs[t]) == 0;
      if (t > 0 && !started[t]) run_job(&jobs[t]); /* no thread available: run it here */
    }
    run_job(&jobs[0]);
    for (int t = 1; t < nt; ++t)
      if (started[t]) pthread_join(tid[t], NULL);
    for (int t = 0; t < nt; ++t) {
      job *j = &jobs[t];
      if (j->status) {
        *err = j->err;
        return j->status;
      }
      for (size_t i = 0; i < j->nout; ++i) {
        const na64_sim_event *ev = &j->out[i];
        if (ev->truth.triggered) {
          sum->triggered++;
          sum->triggered_by_particle[ev->truth.particle]++;
          sum->triggered_weight += ev->truth.weight;
        }
        if (o->sink) NA64_CALL(o->sink(ev, o->sink_user, err));
      }
      for (int p = 0; p < NA64_SIM_NPARTICLES; ++p) {
        sum->by_particle[p] += j->gen_by_particle[p];
        j->gen_by_particle[p] = 0;
      }
      sum->aprime_emitted += j->aprime;
      j->aprime = 0;
    }
    sum->generated += n;
    if (o->progress) o->progress(first + n, o->nevents, o->progress_user);
  }
  return NA64_OK;
}

int na64_sim_run(const na64_sim *s, const na64_sim_run_opts *o, na64_sim_summary *sum, na64_err *err)
{
  if (!s || !o || !sum) return na64_err_set(err, NA64_EINVAL, "na64_sim_run: NULL argument");
  memset(sum, 0, sizeof *sum);
  int nt = o->threads < 1 ? 1 : o->threads;
  if (nt > MAX_THREADS) return na64_err_set(err, NA64_EINVAL, "na64_sim_run: %d threads (at most %d)", nt, MAX_THREADS);
  job *jobs = calloc((size_t)nt, sizeof *jobs);
  if (!jobs) return na64_err_set(err, NA64_ENOMEM, "sim run: out of memory");
  int st = NA64_OK;
  uint64_t per = (BLOCK + (uint64_t)nt - 1) / (uint64_t)nt;
  for (int t = 0; t < nt && st == NA64_OK; ++t) {
    jobs[t].seed = o->seed;
    jobs[t].keep_all = o->keep_all;
    jobs[t].out = malloc(per * sizeof *jobs[t].out);
    if (!jobs[t].out) st = na64_err_set(err, NA64_ENOMEM, "sim run: out of memory for %llu events", (unsigned long long)per);
    if (st == NA64_OK) st = na64_sim_worker_new(s, &jobs[t].w, err);
  }
  if (st == NA64_OK) st = run_blocks(o, jobs, nt, sum, err);
  for (int t = 0; t < nt; ++t) {
    free(jobs[t].out);
    na64_sim_worker_free(jobs[t].w);
  }
  free(jobs);
  return st;
}
