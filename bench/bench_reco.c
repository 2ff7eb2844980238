/* Event reconstruction throughput on one core: simulated 100 GeV electron events (the default run
 * 2000 setup, every event digitised whatever the trigger) written as DATE data in memory, then
 * read back and reconstructed with na64_reco_process (decoding of 119 SADC waveforms and ~57 APV
 * strip hits, template fits, shower centre and shape, two line fits). Times are process CPU time,
 * best of 3; "read + reco" includes the DATE reader, "reco" alone reuses the events already read.
 * Usage: bench_reco [events] [conditions.db]   (defaults 5000, the default database). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "na64/daq.h"
#include "na64/reco.h"
#include "na64/sim.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const na64_err *err)
{
  fprintf(stderr, "bench_reco: %s: %s\n", what, err->msg);
  exit(1);
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 5000;
  const char *db = argc > 2 ? argv[2] : NULL; /* NULL: the default database, as na64 finds it */
  na64_err err = {0, ""};
  na64_sim_config cfg;
  na64_sim_config_default(&cfg);
  if (db) snprintf(cfg.conditions, sizeof cfg.conditions, "%s", db);
  na64_sim *s = NULL;
  na64_sim_worker *w = NULL;
  na64_sim_digitizer *d = NULL;
  na64_daq_writer *wr = NULL;
  if (na64_sim_new(&cfg, &s, &err) || na64_sim_worker_new(s, &w, &err) || na64_sim_digitizer_new(s, &d, &err) ||
      na64_daq_writer_open_memory(NULL, &wr, &err))
    die("setup", &err);
  na64_sim_event ev;
  for (long i = 0; i < n; ++i)
    if (na64_sim_event_generate(w, 1, (uint64_t)i, 1, &ev, &err) || na64_sim_digitize_write(d, &ev, 1, (uint32_t)i, wr, &err))
      die("simulate", &err);
  void *data = NULL;
  size_t size = 0;
  if (na64_daq_writer_close_memory(wr, &data, &size, &err)) die("close", &err);
  na64_geom *g = NULL;
  na64_reco *r = NULL;
  double t0 = now();
  if (na64_geom_load_path(db, 2000, &g, &err) || na64_reco_new(g, &r, &err)) die("reco", &err);
  double tsetup = now() - t0, best = 0.0, sum = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    na64_daq_reader *rd = NULL;
    if (na64_daq_reader_open_memory(data, size, "bench", NULL, &rd, &err)) die("reader", &err);
    na64_daq_event e;
    na64_reco_event out;
    long k = 0;
    t0 = now();
    while (na64_daq_reader_next_event(rd, &e, &err) == NA64_OK) {
      if (e.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
      if (na64_reco_process(r, &e, &out, &err)) die("process", &err);
      sum += out.ecal_energy;
      ++k;
    }
    double rate = (double)k / (now() - t0);
    if (rate > best) best = rate;
    na64_daq_reader_close(rd);
  }
  printf("setup (geometry of run 2000 + reco tables): %.3g s\n", tsetup);
  printf("read + reconstructed: %.3g events/s per core (%.0f bytes per event; checksum %.6g)\n", best,
         (double)size / (double)n, sum);
  na64_reco_free(r);
  na64_geom_free(g);
  free(data);
  na64_sim_digitizer_free(d);
  na64_sim_worker_free(w);
  na64_sim_free(s);
  return 0;
}
