/*
 * Strong scaling of the main job (issue 15, docs/scaling.md): the same job (a fixed card) run as
 * 1 part and as 2 parts in 2 concurrent processes (what `mpirun -n 2 na64 run` does, minus the
 * gather of a few kB), then the exact merge. Prints wall time, the CPU time of the parts, the
 * per-core rate (beam particles simulated, digitised, reconstructed and selected per CPU second,
 * signal samples included) and the time of the merge. The machine is shared: the CPU times are the
 * stable figure, the wall times show the speed-up only when the cores are free.
 *
 * usage: bench_scale [EVENTS] (default 200000 main-sample events, EVENTS / 10 per signal mass, 2 masses)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "na64/ana.h"

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double children_cpu(void)
{
  struct rusage u;
  getrusage(RUSAGE_CHILDREN, &u);
  return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec +
         1e-6 * (double)u.ru_stime.tv_usec;
}

/* Run parts 0..n-1 of the card in n child processes at once; part k written to dir/part<k>. */
static int run_parts(const char *card, const char *dir, int n, double *wall, double *cpu)
{
  double c0 = children_cpu(), t0 = now();
  for (int k = 0; k < n; ++k) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      na64_err err = {0};
      na64_job_partial p;
      char path[512];
      snprintf(path, sizeof path, "%s/part%d", dir, k);
      int st = na64_job_partial_run(card, k, n, &p, NULL, NULL, &err);
      if (st == NA64_OK) st = na64_job_partial_write(&p, path, &err);
      if (st) fprintf(stderr, "bench_scale: part %d/%d: %s\n", k, n, err.msg);
      na64_job_partial_release(&p);
      _exit(st ? 1 : 0);
    }
  }
  int bad = 0;
  for (int k = 0; k < n; ++k) {
    int status = 0;
    if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) bad = 1;
  }
  *wall = now() - t0;
  *cpu = children_cpu() - c0;
  return bad ? -1 : 0;
}

/* Read and merge the n parts; the merge's wall time. */
static int merge_parts(const char *dir, int n, double *wall, na64_job_result *res)
{
  double t0 = now();
  na64_job_partial parts[2], merged;
  memset(parts, 0, sizeof parts);
  memset(&merged, 0, sizeof merged);
  char paths[2][512];
  const char *names[2];
  na64_err err = {0};
  int st = NA64_OK;
  for (int k = 0; k < n && st == NA64_OK; ++k) {
    snprintf(paths[k], sizeof paths[k], "%s/part%d", dir, k);
    names[k] = paths[k];
    st = na64_job_partial_read(paths[k], &parts[k], &err);
  }
  if (st == NA64_OK) st = na64_job_partial_merge(parts, names, n, &merged, &err);
  if (st == NA64_OK) st = na64_job_finish(&merged, 0, res, &err);
  *wall = now() - t0;
  if (st) fprintf(stderr, "bench_scale: merge: %s\n", err.msg);
  na64_job_partial_release(&merged);
  for (int k = 0; k < n; ++k) na64_job_partial_release(&parts[k]);
  return st;
}

/* The bench's card with `events` main-sample events and events / 10 per signal mass. */
static int write_card(const char *path, long events)
{
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fprintf(f,
          "setup:\n  run: 2000\nprocesses:\n  aprime:\n    enabled: true\n    bias: 1.0e8\n    min_energy: 50.0\n"
          "aprime:\n  mass_MeV: 16.7\n  epsilon: 1.0e-4\nanalysis:\n  eot: 2.84e11\n  events: %ld\n"
          "  signal_events: %ld\n  seed: 11\n  threads: 1\n  masses_MeV: \"16.7,100\"\n",
          events, events / 10);
  return fclose(f);
}

int main(int argc, char **argv)
{
  long events = argc > 1 ? atol(argv[1]) : 200000;
  if (events < 20) events = 200000;
  long signal = events / 10;
  char dir[] = "/tmp/na64_bench_scale_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char card[512], tiny[512];
  snprintf(card, sizeof card, "%s/card.yaml", dir);
  snprintf(tiny, sizeof tiny, "%s/tiny.yaml", dir);
  if (write_card(card, events) || write_card(tiny, 20)) return 1;
  long simulated = events + 2 * signal;
  printf("bench_scale: job of %ld main-sample + 2 x %ld signal events (1 thread per part)\n", events, signal);
  double wall1 = 0, cpu1 = 0, wall2 = 0, cpu2 = 0, mwall = 0, wall0 = 0, cpu0 = 0;
  na64_job_result *r1 = calloc(1, sizeof *r1), *r2 = calloc(1, sizeof *r2);
  int st = run_parts(tiny, dir, 1, &wall0, &cpu0); /* the start-up of one part: 22 events */
  if (st == 0) st = run_parts(card, dir, 1, &wall1, &cpu1);
  double mwall1 = 0;
  if (st == 0) st = merge_parts(dir, 1, &mwall1, r1);
  if (st == 0) st = run_parts(card, dir, 2, &wall2, &cpu2);
  if (st == 0) st = merge_parts(dir, 2, &mwall, r2);
  if (st == 0) {
    int same = r1->efficiency[0] == r2->efficiency[0] && r1->limit.n == r2->limit.n &&
               !memcmp(r1->limit.pt, r2->limit.pt, (size_t)r1->limit.n * sizeof *r1->limit.pt);
    printf("  start-up of one part (set-up of 3 simulations, geometry, reconstruction): CPU %.2f s\n", cpu0);
    printf("  1 part : wall %7.2f s, CPU %7.2f s, %8.0f events per CPU second (%.0f without start-up)\n", wall1, cpu1,
           simulated / cpu1, simulated / (cpu1 - cpu0));
    printf("  2 parts: wall %7.2f s, CPU %7.2f s, %8.0f events per CPU second; speed-up %.2f, efficiency %.0f%%\n",
           wall2, cpu2, simulated / cpu2, wall1 / wall2, 100 * wall1 / wall2 / 2);
    printf("  merge of 2 parts + finish (efficiency, background, limit): %.3f s; result identical to 1 part: %s\n",
           mwall, same ? "yes" : "NO");
    if (!same) st = 1;
  }
  na64_job_result_release(r1);
  na64_job_result_release(r2);
  free(r1);
  free(r2);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "bench_scale: could not remove %s\n", dir);
  return st ? 1 : 0;
}
