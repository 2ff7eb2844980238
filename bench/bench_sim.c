/* Fast-simulation throughput on one core: electrons on target per second through the trigger
 * decision (the settings of configs/invisible_default.yaml: 100 GeV e- with hadron admixture and tail, A' emission biased to
 * 5e-3 per event), and events per second with everything computed for every event (cells, SRD,
 * HCAL), through na64_sim_run with 1 thread. Times are process CPU time, best of 3.
 * Usage: bench_sim [EOT] [full events]   (defaults 2000000, 100000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    na64_sim_run_opts o = {(uint64_t)rep + 1, n, 1, keep_all, NULL, NULL, NULL, NULL};
    double t0 = now();
    if (na64_sim_run(s, &o, sum, &err)) die("run", &err);
    double r = (double)n / (now() - t0);
    if (r > best) best = r;
  }
  return best;
}

int main(int argc, char **argv)
{
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000, nfull = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
  na64_sim_config c;
  na64_sim_config_default(&c);
  na64_err err = {0, ""};
  c.aprime_enabled = 1; /* as configs/invisible_default.yaml */
  c.aprime_bias = 1e8;
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
  na64_sim_free(s);
  return 0;
}
