/* Visible-mode events per CPU second on one core through the detector response and the DATE
 * digitisation (issue 12 goal: >= 2e5 events/s/core), and through the reconstruction: the 2017 card
 * (configs/visible_2017.yaml) at 16.7 MeV, eps = 2e-4, signal events; usage
 * bench_vis_event [CONDITIONS_DB] [EVENTS] (default: the build's conditions.db, 20000). Each event goes
 * through the three stages in turn as the visible job does (src/ana/vis_job.c event_row: a memory
 * writer per event, read back and reconstructed; the first figures), then the response alone, and
 * response + digitisation without the reconstruction: into a memory writer per event (as event_row)
 * and into one DATE file writer (as `na64 sim` writes its raw file; /dev/null, so without a file
 * system's cost). The goal is that of the simulation job, so it is marked on the last line: `na64 sim`
 * runs this loop. The first section's response + digitisation is the share of the interleaved loop,
 * as `na64 run` sees it: the reconstruction in between evicts part of the simulation's working set and
 * adds 0.8-1 us per event (vistime, docs/performance.md). Until session 12 that line carried the goal
 * mark, while the docs' headline figure was the memory-writer loop (docs/performance.md "After
 * session 11", "After session 12" gives all three).
 *
 * Clocks (vistime, docs/performance.md): the process CPU clock is a system call here (~1.4 us of CPU
 * per call on the 2-vCPU VM, whose kernel flushes the TLB at each entry: PTI without PCID), so it is
 * read only around whole loops; the first section splits its loop's CPU time among the stages in
 * proportion to their time on the monotonic clock (vDSO, ~30 ns, no kernel entry; stage_shares).
 * Reading the CPU clock at every stage, as before, added ~1.4 us and a cold TLB to each stage. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "na64/reco.h"
#include "na64/sim.h"
#include "vis_chain.h"

static double cpu(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double wall(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const na64_err *e)
{
  fprintf(stderr, "bench_vis_event: %s\n", e->msg);
  return 1;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The stages' shares of the loop's CPU time from their monotonic-clock times t[3 i + stage]: summed
 * over the events that took less than 4 times the median event, so that an event in which the
 * process was descheduled (a time slice of ms on a loaded machine, against ~40 us an event) does not
 * hand the wait to one stage. */
static void stage_shares(const double *t, int n, double share[3])
{
  double *tot = malloc((size_t)n * sizeof *tot), s[3] = {0, 0, 0}, cut = 0;
  if (tot) {
    for (int i = 0; i < n; ++i) tot[i] = t[3 * i] + t[3 * i + 1] + t[3 * i + 2];
    qsort(tot, (size_t)n, sizeof *tot, cmp_double);
    cut = 4.0 * tot[n / 2];
    free(tot);
  }
  for (int i = 0; i < n; ++i)
    if (!tot || t[3 * i] + t[3 * i + 1] + t[3 * i + 2] < cut)
      for (int k = 0; k < 3; ++k) s[k] += t[3 * i + k];
  for (int k = 0; k < 3; ++k) share[k] = s[k] / (s[0] + s[1] + s[2]);
}

/* the three stages in turn; the loop's CPU time split among them by stage_shares */
static int three_stages(chain *c, int n, na64_err *err)
{
  double *t = malloc((size_t)n * 3 * sizeof *t);
  if (!t) return 1;
  size_t bytes = 0;
  double c0 = cpu();
  for (int i = 0; i < n; ++i) {
    na64_vis_sim_event ev;
    void *buf = NULL;
    size_t len = 0;
    double t0 = wall();
    if (na64_vis_sim_event_generate(c->s, 1, (uint64_t)i, 1, &ev, err)) return 1;
    double t1 = wall();
    if (digitize_alone(c, &ev, i, &buf, &len, err)) return 1;
    double t2 = wall();
    na64_vis_reco_event re;
    int st = reconstruct(c, buf, len, &re, err);
    free(buf);
    if (st) return 1;
    t[3 * i + 2] = wall() - t2;
    t[3 * i] = t1 - t0;
    t[3 * i + 1] = t2 - t1;
    bytes += len;
  }
  double total = cpu() - c0, share[3];
  stage_shares(t, n, share);
  free(t);
  double t_gen = total * share[0], t_digi = total * share[1], t_reco = total * share[2];
  printf("visible events (2017 card, 16.7 MeV, eps 2e-4, signal), %d events, CPU time per core:\n", n);
  printf("  response           %.3g events/s (%.2f us/event)\n", n / t_gen, 1e6 * t_gen / n);
  printf("  digitisation (DATE) %.3g events/s (%.2f us/event), %.0f bytes/event\n", n / t_digi, 1e6 * t_digi / n,
         (double)bytes / n);
  printf("  response + digitisation %.3g events/s/core (with the reconstruction's cache pressure)\n",
         n / (t_gen + t_digi));
  printf("  reconstruction     %.3g events/s (%.2f us/event)\n", n / t_reco, 1e6 * t_reco / n);
  printf("  all three          %.3g events/s (%.2f us/event)\n", n / total, 1e6 * total / n);
  return 0;
}

/* response + digitisation into a memory writer per event (file == NULL) or into one file writer */
static int response_digitise(chain *c, int n, const char *file, double *t, na64_err *err)
{
  na64_daq_writer *w = NULL;
  if (file && na64_daq_writer_open(file, NULL, &w, err)) return 1;
  double t0 = cpu();
  for (int i = 0; i < n; ++i) {
    na64_vis_sim_event ev;
    if (na64_vis_sim_event_generate(c->s, 1, (uint64_t)i, 1, &ev, err)) return 1;
    if (file) {
      if (na64_vis_digitize_write(c->d, &ev, 1, (uint32_t)i, w, err)) return 1;
      continue;
    }
    void *buf = NULL;
    size_t len = 0;
    if (digitize_alone(c, &ev, i, &buf, &len, err)) return 1;
    free(buf);
  }
  if (file && na64_daq_writer_close(w, err)) return 1;
  *t = cpu() - t0;
  return 0;
}

int main(int argc, char **argv)
{
  const char *db = argc > 1 ? argv[1] : "conditions.db";
  int n = argc > 2 ? atoi(argv[2]) : 20000;
  na64_err err = {0, ""};
  na64_vis_config cfg;
  na64_vis_config_default(&cfg);
  snprintf(cfg.conditions, sizeof cfg.conditions, "%s", db);
  chain c;
  if (chain_new(&cfg, &c, &err)) return fail(&err);
  if (three_stages(&c, n, &err)) return fail(&err);
  /* the same stages without the reconstruction in between (its tables and the events' DATE buffers
   * no longer evict the shower table and the noise library from the caches) */
  na64_vis_sim_event ev;
  double t0 = cpu(), t_r, t_mem, t_file;
  for (int i = 0; i < n; ++i)
    if (na64_vis_sim_event_generate(c.s, 1, (uint64_t)i, 1, &ev, &err)) return fail(&err);
  t_r = cpu() - t0;
  if (response_digitise(&c, n, NULL, &t_mem, &err) || response_digitise(&c, n, "/dev/null", &t_file, &err))
    return fail(&err);
  printf("without the reconstruction in between:\n");
  printf("  response alone     %.3g events/s (%.2f us/event)\n", n / t_r, 1e6 * t_r / n);
  printf("  response + digitisation %.3g events/s/core (%.2f us/event; a memory writer per event)\n", n / t_mem,
         1e6 * t_mem / n);
  printf("  response + digitisation %.3g events/s/core (%.2f us/event; one DATE file writer, /dev/null: as na64 sim; goal "
         "2e5)\n",
         n / t_file,
         1e6 * t_file / n);
  chain_free(&c);
  return 0;
}
