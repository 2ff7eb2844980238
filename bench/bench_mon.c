/* Online monitor throughput: histogram fills per second (na64_hist_fill, 1-D and 2-D, unit weight),
 * and events per second that the monitor reads, decodes (straw digits through the channel map, every
 * SADC waveform's maximum against its pedestals) and fills, on simulated invisible-mode events
 * (`na64 sim configs/invisible_default.yaml`, replicated to `events` events), with the geometry of the
 * default conditions database. Events/s per second of process CPU time (the filler is the only busy
 * thread; the HTTP thread is idle) and per second of wall time.
 * Load test: the same replay while a client thread on loopback requests h.json, a histogram and the
 * status in a loop (HTTP/1.0, one connection per request) for the whole replay: requests/s served and
 * the events/s compared with the replay without load (goal: < 10 % drop).
 * Delay: a followed file gets one event appended at a time; the time until the monitor's published
 * status counts it (the histograms are published together with the status) is the event-to-histogram
 * delay (goal < 1 s), median and maximum of 20; without requests and under a flood of them.
 * Usage: bench_mon [events] [scratch dir]   (defaults: 50000 events, /tmp); run from the build dir
 * (it calls ./na64 and reads ./conditions.db). */
#include <arpa/inet.h>
#include <libgen.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
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

typedef struct load {
  int port;
  double rate;          /* requests/s asked for; 0: as fast as they are answered */
  atomic_int stop;
  long requests, failures;
} load;

static int get_once(int port, const char *path)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char req[256], buf[65536];
  int ok = -1;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
    if (send(fd, req, (size_t)n, 0) == n) {
      ssize_t r, total = 0;
      while ((r = recv(fd, buf, sizeof buf, 0)) > 0) total += r;
      ok = total > 12 && !strncmp(buf, "HTTP/1.", 7) ? 0 : -1;
    }
  }
  close(fd);
  return ok;
}

static void *load_main(void *arg)
{
  load *l = arg;
  /* what a dashboard refresh asks for: the hierarchy, status, alarms, a 1-D and a 2-D histogram (the
   * ECAL amplitudes: cells x 128 amplitude bins), a rolling window and the event display */
  static const char *paths[] = {"/h.json", "/ECAL/energy/root.json", "/status.json",
                                "/ST01X/hitmap/root.json?window=rolling", "/ECAL/amplitude/root.json",
                                "/alarms.json", "/event.json"};
  const long npaths = (long)(sizeof paths / sizeof paths[0]);
  double t0 = wall_s();
  for (long k = 0; !atomic_load(&l->stop); ++k) {
    if (get_once(l->port, paths[k % npaths]) == 0) l->requests++;
    else l->failures++;
    double ahead = l->rate > 0 ? t0 + (double)(k + 1) / l->rate - wall_s() : 0;
    if (ahead > 0) {
      struct timespec t = {0, (long)(ahead * 1e9)};
      nanosleep(&t, NULL);
    }
  }
  return NULL;
}

/* Replay `path` once; events/s of wall time; with_load: a client thread requests meanwhile. */
static double replay(const char *path, const char *db, double with_load, double *req_per_s, unsigned long long *events,
                     double *per_cpu)
{
  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = path;
  o.listen = "127.0.0.1:0";
  o.cond_path = db;
  na64_mon *m;
  na64_err err;
  if (na64_mon_start(&o, &m, &err)) {
    fprintf(stderr, "bench_mon: %s\n", err.msg);
    exit(1);
  }
  load l = {.port = na64_mon_port(m), .rate = with_load > 0 ? with_load : 0};
  pthread_t th;
  double w0 = wall_s();
  if (with_load != 0) pthread_create(&th, NULL, load_main, &l);
  na64_mon_status s;
  do {
    struct timespec t = {0, 2000000};
    nanosleep(&t, NULL);
    na64_mon_get_status(m, &s);
  } while (!s.finished);
  double wl = wall_s() - w0;
  if (with_load != 0) {
    atomic_store(&l.stop, 1);
    pthread_join(th, NULL);
    *req_per_s = (double)l.requests / wl;
    if (l.failures) printf("load: %ld failed requests\n", l.failures);
  }
  *events = s.events;
  *per_cpu = (double)s.events / s.filler_cpu_s;
  na64_mon_stop(m);
  return (double)s.events / wl;
}

/* load_rate: requests/s of the client; -1: as fast as answered. */
static void bench_load(const char *path, const char *db, double load_rate)
{
  double best0 = 0, best1 = 0, cpu0 = 0, cpu1 = 0, rps = 0, r, c;
  unsigned long long ev = 0;
  for (int rep = 0; rep < 5; ++rep) { /* alternate so both see the same machine load */
    double a = replay(path, db, 0, &r, &ev, &c);
    if (c > cpu0) cpu0 = c;
    if (a > best0) best0 = a;
    double b = replay(path, db, load_rate, &r, &ev, &c);
    if (c > cpu1) cpu1 = c;
    if (b > best1) {
      best1 = b;
      rps = r;
    }
  }
  printf("load test at %s requests/s:\n", load_rate > 0 ? "a bounded rate of" : "as many");
  printf("load test, filler thread: %.3g events/s per CPU second without requests, %.3g while serving (drop %.1f %%)\n",
         cpu0, cpu1, 100.0 * (1.0 - cpu1 / cpu0));
  printf("load test, wall: %.3g events/s without requests, %.3g events/s while serving %.3g requests/s (drop %.1f %%)\n",
         best0, best1, rps, 100.0 * (1.0 - best1 / best0));
}

static int cmp_d(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Event-to-histogram delay in follow mode: append one event, wait until it is published; with_load:
 * while a client requests as fast as it is answered. */
static void bench_delay(const char *src, const char *dir, const char *db, int with_load)
{
  char path[1200];
  snprintf(path, sizeof path, "%s/bench_mon_follow.dat", dir);
  na64_err err;
  na64_daq_reader *r;
  if (na64_daq_reader_open(src, NULL, &r, &err)) return;
  FILE *f = fopen(path, "wb");
  if (!f) return;
  na64_daq_event e;
  if (na64_daq_reader_next_event(r, &e, &err) != 0) return; /* one plain event, appended 21 times */
  fwrite(e.data, 1, e.size, f);
  fflush(f);
  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = path;
  o.listen = "127.0.0.1:0";
  o.cond_path = db;
  o.follow = 1;
  na64_mon *m;
  if (na64_mon_start(&o, &m, &err)) return;
  na64_mon_status s;
  double d[20];
  int n = 0;
  load l = {.port = na64_mon_port(m), .rate = 0};
  pthread_t th;
  if (with_load) pthread_create(&th, NULL, load_main, &l);
  for (unsigned long long want = 1; want <= 21; ++want) {
    double t0 = wall_s();
    if (want > 1) {
      fwrite(e.data, 1, e.size, f);
      fflush(f);
    }
    do {
      struct timespec t = {0, 1000000};
      nanosleep(&t, NULL);
      na64_mon_get_status(m, &s);
    } while (s.events < want && wall_s() - t0 < 10);
    if (want > 1) d[n++] = wall_s() - t0;
  }
  if (with_load) {
    atomic_store(&l.stop, 1);
    pthread_join(th, NULL);
  }
  na64_mon_stop(m);
  fclose(f);
  na64_daq_reader_close(r);
  remove(path);
  qsort(d, (size_t)n, sizeof d[0], cmp_d);
  printf("delay event written -> in the histograms (follow, publication every 0.2 s%s): median %.3f s, max %.3f s "
         "(%d events)\n",
         with_load ? ", requests as fast as answered" : "", d[n / 2], d[n - 1], n);
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
  bench_load(path, db, 200.0); /* e.g. 50 pages open, each ~8 requests per 2 s refresh */
  bench_load(path, db, -1.0);
  bench_delay(path, dir, db, 0);
  bench_delay(path, dir, db, 1);
  remove(path);
  return 0;
}
