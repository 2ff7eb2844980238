/* Online monitor throughput: histogram fills per second (na64_hist_fill, 1-D and 2-D, unit weight),
 * and events per second that the monitor reads, decodes (straw digits through the channel map, every
 * SADC waveform's maximum against its pedestals) and fills, on simulated invisible-mode events
 * (`na64 sim configs/invisible_default.yaml`, replicated to `events` events), with the geometry of the
 * default conditions database. Events/s per second of process CPU time (the filler is the only busy
 * thread; the HTTP thread is idle) and per second of wall time.
 * Usage: bench_mon [events] [scratch dir]   (defaults: 50000 events, /tmp); run from the build dir
 * (it calls ./na64 and reads ./conditions.db). */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "na64/daq.h"
#include "na64/io.h"
#include "na64/mon.h"

static double cpu_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bench_fills(void)
{
  na64_hist *h1, *h2;
  na64_err err;
  if (na64_hist_new_1d("h1", "", 200, -50, 350, &h1, &err) || na64_hist_new_2d("h2", "", 150, 0, 150, 150, 0, 150, &h2, &err)) {
    fprintf(stderr, "bench_mon: %s\n", err.msg);
    exit(1);
  }
  const long n = 20000000;
  double best1 = 1e30, best2 = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    double t = cpu_s();
    for (long i = 0; i < n; ++i) na64_hist_fill(h1, (double)(i % 4096) * 0.1 - 20.0, 1.0);
    double d = cpu_s() - t;
    if (d < best1) best1 = d;
    t = cpu_s();
    for (long i = 0; i < n; ++i) na64_hist_fill2(h2, (double)(i % 1600) * 0.1, (double)(i % 1510) * 0.1, 1.0);
    d = cpu_s() - t;
    if (d < best2) best2 = d;
  }
  printf("hist fills 1-D (200 bins): %.3g fills/s\n", (double)n / best1);
  printf("hist fills 2-D (150x150):  %.3g fills/s (entries %.0f)\n", (double)n / best2, na64_hist_entries(h2));
  na64_hist_free(h1);
  na64_hist_free(h2);
}

/* Simulate a small run and replicate its events to `want` events in `out`; returns the count. */
static long make_file(const char *bindir, const char *srcdir, const char *dir, long want, char *out, size_t outlen)
{
  char sim[1024], cmd[16384];
  snprintf(sim, sizeof sim, "%s/bench_mon_sim.dat", dir);
  snprintf(cmd, sizeof cmd, "'%s/na64' sim '%s/configs/invisible_default.yaml' --events 20000 --out '%s' >/dev/null", bindir,
           srcdir, sim);
  if (system(cmd) != 0) return -1;
  snprintf(out, outlen, "%s/bench_mon.dat", dir);
  na64_err err;
  na64_daq_reader *r;
  na64_daq_writer *w;
  if (na64_daq_reader_open(sim, NULL, &r, &err) || na64_daq_writer_open(out, NULL, &w, &err)) return -1;
  /* keep the events in memory, then write them cyclically */
  size_t cap = 0, n = 0;
  void **ev = NULL;
  size_t *sz = NULL;
  na64_daq_event e;
  while (na64_daq_reader_next_event(r, &e, &err) == 0) {
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      ev = realloc(ev, cap * sizeof *ev);
      sz = realloc(sz, cap * sizeof *sz);
    }
    ev[n] = malloc(e.size);
    memcpy(ev[n], e.data, e.size);
    sz[n++] = e.size;
  }
  na64_daq_reader_close(r);
  long k = 0;
  for (; n > 0 && k < want; ++k)
    if (na64_daq_writer_write_event(w, ev[k % (long)n], sz[k % (long)n], &err)) break;
  na64_daq_writer_close(w, &err);
  for (size_t i = 0; i < n; ++i) free(ev[i]);
  free(ev);
  free(sz);
  remove(sim);
  return n ? k : -1;
}

int main(int argc, char **argv)
{
  long want = argc > 1 ? atol(argv[1]) : 50000;
  const char *dir = argc > 2 ? argv[2] : "/tmp";
  char self[4096], bindir[4096], path[1200], db[4200];
  snprintf(self, sizeof self, "%s", argv[0]);
  snprintf(bindir, sizeof bindir, "%s", dirname(self));
  bench_fills();
  char srcdir[4200]; /* the build directory sits in the source tree (make build) */
  snprintf(srcdir, sizeof srcdir, "%s/..", bindir);
  long n = make_file(bindir, srcdir, dir, want, path, sizeof path);
  if (n <= 0) {
    fprintf(stderr, "bench_mon: cannot make the event file\n");
    return 1;
  }
  snprintf(db, sizeof db, "%s/conditions.db", bindir);
  double best_cpu = 1e30, best_wall = 1e30;
  unsigned long long events = 0;
  for (int rep = 0; rep < 3; ++rep) {
    na64_mon_options o;
    na64_mon_options_default(&o);
    o.source = path;
    o.listen = "127.0.0.1:0";
    o.cond_path = db;
    na64_mon *m;
    na64_err err;
    double c0 = cpu_s(), w0 = wall_s();
    if (na64_mon_start(&o, &m, &err)) {
      fprintf(stderr, "bench_mon: %s\n", err.msg);
      return 1;
    }
    na64_mon_status s;
    do {
      struct timespec t = {0, 2000000};
      nanosleep(&t, NULL);
      na64_mon_get_status(m, &s);
    } while (!s.finished);
    double c = cpu_s() - c0, wl = wall_s() - w0;
    events = s.events;
    na64_mon_stop(m);
    if (c < best_cpu) best_cpu = c;
    if (wl < best_wall) best_wall = wl;
  }
  printf("monitor: %llu simulated events read, decoded and filled: %.3g events/s per CPU second, %.3g events/s wall\n",
         events, (double)events / best_cpu, (double)events / best_wall);
  remove(path);
  return 0;
}
