/* Visible-mode events per CPU second on one core through the detector response and the DATE
 * digitisation (issue 12 goal: >= 2e5 events/s/core), and through the reconstruction: the 2017 card
 * (configs/visible_2017.yaml) at 16.7 MeV, eps = 2e-4, signal events; usage
 * bench_vis_event [CONDITIONS_DB] [EVENTS] (default: the build's conditions.db, 20000). Each event goes
 * through the three stages in turn (the first figures), then the response alone and response +
 * digitisation into one memory stream are timed again without the reconstruction in between. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "na64/reco.h"
#include "na64/sim.h"

static double cpu(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const na64_err *e)
{
  fprintf(stderr, "bench_vis_event: %s\n", e->msg);
  return 1;
}

int main(int argc, char **argv)
{
  const char *db = argc > 1 ? argv[1] : "conditions.db";
  int n = argc > 2 ? atoi(argv[2]) : 20000;
  na64_err err = {0, ""};
  na64_vis_config c;
  na64_vis_config_default(&c);
  snprintf(c.conditions, sizeof c.conditions, "%s", db);
  na64_vis_sim *s = NULL;
  na64_vis_digitizer *d = NULL;
  na64_vis_reco *r = NULL;
  if (na64_vis_sim_new(&c, &s, &err) || na64_vis_digitizer_new(s, &d, &err) ||
      na64_vis_reco_new(na64_vis_sim_geom(s), &r, &err))
    return fail(&err);
  double t_gen = 0, t_digi = 0, t_reco = 0;
  size_t bytes = 0;
  for (int i = 0; i < n; ++i) {
    na64_vis_sim_event ev;
    double t0 = cpu();
    if (na64_vis_sim_event_generate(s, 1, (uint64_t)i, 1, &ev, &err)) return fail(&err);
    double t1 = cpu();
    na64_daq_writer *w = NULL;
    void *buf = NULL;
    size_t len = 0;
    if (na64_daq_writer_open_memory(NULL, &w, &err) || na64_vis_digitize_write(d, &ev, 1, (uint32_t)i, w, &err) ||
        na64_daq_writer_close_memory(w, &buf, &len, &err))
      return fail(&err);
    double t2 = cpu();
    na64_daq_reader *rd = NULL;
    na64_daq_event de;
    na64_vis_reco_event re;
    if (na64_daq_reader_open_memory(buf, len, "bench", NULL, &rd, &err) || na64_daq_reader_next_event(rd, &de, &err) ||
        na64_vis_reco_process(r, &de, &re, &err))
      return fail(&err);
    na64_daq_reader_close(rd);
    free(buf);
    t_reco += cpu() - t2;
    t_gen += t1 - t0;
    t_digi += t2 - t1;
    bytes += len;
  }
  printf("visible events (2017 card, 16.7 MeV, eps 2e-4, signal), %d events, CPU time per core:\n", n);
  printf("  response           %.3g events/s (%.2f us/event)\n", n / t_gen, 1e6 * t_gen / n);
  printf("  digitisation (DATE) %.3g events/s (%.2f us/event), %.0f bytes/event\n", n / t_digi, 1e6 * t_digi / n,
         (double)bytes / n);
  printf("  response + digitisation %.3g events/s/core (goal 2e5)\n", n / (t_gen + t_digi));
  printf("  reconstruction     %.3g events/s (%.2f us/event)\n", n / t_reco, 1e6 * t_reco / n);
  /* the same stages without the reconstruction in between (its tables and the events' DATE buffers
   * no longer evict the shower table and the noise library from the caches): response alone, then
   * response + digitisation, as a simulation job runs them */
  double t_r = 0, t_rd = 0;
  na64_vis_sim_event ev;
  double t0 = cpu();
  for (int i = 0; i < n; ++i)
    if (na64_vis_sim_event_generate(s, 1, (uint64_t)i, 1, &ev, &err)) return fail(&err);
  t_r = cpu() - t0;
  na64_daq_writer *w = NULL;
  t0 = cpu();
  for (int i = 0; i < n; ++i) {
    if (i % 1000 == 0 && na64_daq_writer_open_memory(NULL, &w, &err)) return fail(&err);
    if (na64_vis_sim_event_generate(s, 1, (uint64_t)i, 1, &ev, &err) ||
        na64_vis_digitize_write(d, &ev, 1, (uint32_t)i, w, &err))
      return fail(&err);
    if (i % 1000 == 999 || i == n - 1) { /* a stream of <= 1000 events (~10 MB) at a time */
      void *buf = NULL;
      size_t len = 0;
      if (na64_daq_writer_close_memory(w, &buf, &len, &err)) return fail(&err);
      free(buf);
    }
  }
  t_rd = cpu() - t0;
  printf("without the reconstruction in between:\n");
  printf("  response alone     %.3g events/s (%.2f us/event)\n", n / t_r, 1e6 * t_r / n);
  printf("  response + digitisation %.3g events/s/core (%.2f us/event; DATE streams of 1000 events in memory)\n", n / t_rd,
         1e6 * t_rd / n);
  na64_vis_reco_free(r);
  na64_vis_digitizer_free(d);
  na64_vis_sim_free(s);
  return 0;
}
