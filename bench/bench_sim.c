/* Fast-simulation throughput on one core: electrons on target per second through the trigger
 * decision (the settings of configs/invisible_default.yaml: 100 GeV e- with hadron admixture and tail, A' emission biased to
 * 5e-3 per event), and events per second with everything computed for every event (cells, SRD,
 * HCAL), through na64_sim_run with 1 thread; then triggered events digitised (waveforms, straw
 * hits) and written as DATE data in memory. Times are process CPU time, best of 3.
 * Usage: bench_sim [EOT] [full and digitised events]   (defaults 2000000, 50000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "na64/daq.h"
#include "na64/sim.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const na64_err *err)
{
  fprintf(stderr, "bench_sim: %s: %s\n", what, err->msg);
  exit(1);
}

static double best_rate(const na64_sim *s, uint64_t n, int keep_all, na64_sim_summary *sum)
{
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    na64_err err = {0, ""};
    na64_sim_run_opts o = {(uint64_t)rep + 1, n, 1, keep_all, NULL, NULL, NULL, NULL, 0};
    double t0 = now();
    if (na64_sim_run(s, &o, sum, &err)) die("run", &err);
    double r = (double)n / (now() - t0);
    if (r > best) best = r;
  }
  return best;
}

typedef struct raw {
  na64_sim_digitizer *d;
  na64_daq_writer *w;
  uint32_t n;
} raw;

static int raw_sink(const na64_sim_event *ev, void *user, na64_err *err)
{
  raw *r = user;
  return na64_sim_digitize_write(r->d, ev, 1, r->n++, r->w, err);
}

/* Digitisation and writing alone: the triggered events are generated first (not timed). */
static double digi_rate(const na64_sim *s, uint64_t n)
{
  na64_err err = {0, ""};
  raw r = {0};
  /* written to /dev/null: the writer's own cost without a growing memory buffer or a disk */
  if (na64_sim_digitizer_new(s, &r.d, &err) || na64_daq_writer_open("/dev/null", NULL, &r.w, &err)) die("digitizer", &err);
  na64_sim_event *ev = malloc(sizeof *ev * 2000);
  na64_sim_worker *wk = NULL;
  if (!ev || na64_sim_worker_new(s, &wk, &err)) die("worker", &err);
  size_t k = 0;
  for (uint64_t i = 0; k < 2000 && i < 100000000; ++i) {
    if (na64_sim_event_generate(wk, 5, i, 0, &ev[k], &err)) die("event", &err);
    if (ev[k].truth.triggered) ++k;
  }
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    double t0 = now();
    for (uint64_t i = 0; i < n; ++i)
      if (raw_sink(&ev[i % k], &r, &err)) die("write", &err);
    double rate = (double)n / (now() - t0);
    if (rate > best) best = rate;
  }
  double size = (double)na64_daq_writer_bytes(r.w);
  if (na64_daq_writer_close(r.w, &err)) die("close", &err);
  printf("digitised + written: %.3g triggered events/s per core (%.0f bytes per event)\n", best, size / (3.0 * n));
  free(ev);
  na64_sim_worker_free(wk);
  na64_sim_digitizer_free(r.d);
  return best;
}

int main(int argc, char **argv)
{
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000, nfull = argc > 2 ? strtoull(argv[2], NULL, 10) : 50000;
  na64_sim_config c;
  na64_sim_config_default(&c);
  na64_err err = {0, ""};
  c.aprime_enabled = 1; /* as configs/invisible_default.yaml */
  c.aprime_bias = 1e8;
  c.intensity = 5e6; /* in-time pile-up: 5e6 per 4.8 s spill in 40 ns, 4% of the events */
  na64_sim *s = NULL;
  double t0 = now();
  if (na64_sim_new(&c, &s, &err)) die("setup", &err);
  double setup = now() - t0;
  na64_sim_summary sum;
  double r_trig = best_rate(s, n, 0, &sum);
  printf("setup (geometry, SR table, A' tables): %.3f s\n", setup);
  printf("through the trigger decision: %.3g EOT/s per core (%llu EOT, %llu triggered, %llu A')\n", r_trig,
         (unsigned long long)n, (unsigned long long)sum.triggered, (unsigned long long)sum.aprime_emitted);
  double r_full = best_rate(s, nfull, 1, &sum);
  printf("everything for every event (cells, SRD, HCAL): %.3g events/s per core\n", r_full);
  digi_rate(s, nfull);
  na64_sim_free(s);
  c.aprime_enabled = 0; /* the beam alone: what a background study runs */
  if (na64_sim_new(&c, &s, &err)) die("setup", &err);
  r_trig = best_rate(s, n, 0, &sum);
  printf("through the trigger decision without A' emission: %.3g EOT/s per core (%llu triggered)\n", r_trig,
         (unsigned long long)sum.triggered);
  na64_sim_free(s);
  return 0;
}
