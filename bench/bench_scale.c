/*
 * Strong scaling of the main job (issue 15, docs/scaling.md): the same job (a fixed card) run as
 * 1 part and as 2 parts in 2 concurrent processes (what `mpirun -n 2 na64 run` does, minus the
 * gather of a few kB), then the exact merge. Prints wall time, the CPU time of the parts, the
 * per-core rate (beam particles simulated, digitised, reconstructed and selected per CPU second,
 * signal samples included) and the time of the merge. The machine is shared: the CPU times are the
 * stable figure, the wall times show the speed-up only when the cores are free.
 *
 * Then the same for the data files of `na64 sim --out` and `na64 reco` written per part (what
 * `mpirun -n 2 na64 sim|reco` does, docs/scaling.md "Per-rank data files"): SIM_EVENTS beam
 * particles simulated and written as DATE by 1 part and by 2 concurrent parts, then reconstructed
 * per file; CPU time, per-core rates and bytes written. Last, the 1 part's raw file reconstructed by
 * 1 and by 2 ranks sharing it by event ranges (`mpirun -n 2 na64 reco RAW`, na64_reco_job_range:
 * each rank's first pass over the file included). Every figure gives the CPU time of each rank
 * (process) besides the total and the wall time.
 *
 * usage: bench_scale [EVENTS [SIM_EVENTS [conditions.db]]] (default 200000 main-sample events,
 *        EVENTS / 10 per signal mass, 2 masses; 200000 beam particles for the data files; the default
 *        conditions database)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "na64/ana.h"
#include "na64/io.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include <sys/stat.h>

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

/* Part k of n of the job of the card; written to dir/part<k>. */
static int job_part(const char *card, const char *dir, int k, int n, na64_err *err)
{
  na64_job_partial p;
  char path[512];
  snprintf(path, sizeof path, "%s/part%d", dir, k);
  int st = na64_job_partial_run(card, k, n, &p, NULL, NULL, err);
  if (st == NA64_OK) st = na64_job_partial_write(&p, path, err);
  na64_job_partial_release(&p);
  return st;
}

typedef struct sim_sink {
  na64_sim_digitizer *digi;
  na64_daq_writer *raw;
  uint64_t seed;
  uint32_t n;
} sim_sink;

static int write_triggered(const na64_sim_event *ev, void *user, na64_err *err)
{
  sim_sink *c = user;
  return ev->truth.triggered ? na64_sim_digitize_write(c->digi, ev, c->seed, c->n++, c->raw, err) : NA64_OK;
}

/* Part k of n of `na64 sim CARD --events nev --seed 3 --out dir/raw<n>.rank<k>.dat` (src/cli/cmd_sim.c). */
static int sim_part(const char *card, const char *dir, int k, int n, long nev, na64_err *err)
{
  na64_sim_config cfg;
  na64_sim_config_default(&cfg);
  na64_sim *s = NULL;
  sim_sink c = {NULL, NULL, 3, 0};
  char path[512];
  snprintf(path, sizeof path, "%s/raw%d.rank%d.dat", dir, n, k);
  NA64_CALL(na64_sim_config_load(card, &cfg, err));
  NA64_CALL(na64_sim_new(&cfg, &s, err));
  int st = na64_sim_digitizer_new(s, &c.digi, err);
  if (st == NA64_OK) st = na64_sim_raw_open(s, path, &c.raw, err);
  na64_sim_run_opts o = {3, 0, 1, 0, write_triggered, &c, NULL, NULL, 0};
  na64_part_range((uint64_t)nev, k, n, &o.first_event, &o.nevents);
  na64_sim_summary sum;
  if (st == NA64_OK) st = na64_sim_run(s, &o, &sum, err);
  if (c.raw) {
    na64_err e2 = {0, ""};
    int st2 = na64_daq_writer_close(c.raw, &e2);
    if (st == NA64_OK && st2) *err = e2, st = st2;
  }
  na64_sim_digitizer_free(c.digi);
  na64_sim_free(s);
  return st;
}

/* Rank k of n reconstructs: shared = 0, its own file (`na64 reco dir/raw<n>.rank<k>.dat --out
 * dir/ev<n>.rank<k>.h5`); shared = 1, its range of the physics events of one raw file (`mpirun -n n
 * na64 reco dir/raw1.rank0.dat`: its first pass over the file, then its events) into
 * dir/evr<n>.rank<k>.h5. */
static int reco_part(const char *db, const char *dir, int k, int n, int shared, na64_err *err)
{
  char raw[512], out[512];
  if (shared) snprintf(raw, sizeof raw, "%s/raw1.rank0.dat", dir);
  else snprintf(raw, sizeof raw, "%s/raw%d.rank%d.dat", dir, n, k);
  snprintf(out, sizeof out, "%s/ev%s%d.rank%d.h5", dir, shared ? "r" : "", n, k);
  na64_reco_job job;
  na64_reco_job_default(&job);
  job.raw_path = raw;
  job.out_path = out;
  job.db_path = db;
  uint64_t first, count, total;
  int run;
  if (shared) NA64_CALL(na64_reco_job_range(&job, k, n, &first, &count, &total, &run, err));
  na64_reco_summary sum;
  return na64_reco_file(&job, &sum, err);
}

typedef struct what {
  int kind; /* 0 job part, 1 sim part, 2 reco part, 3 reco range of one file */
  const char *card, *db;
  long nev;
} what;

static double cpu_of(const struct rusage *u)
{
  return (double)u->ru_utime.tv_sec + 1e-6 * (double)u->ru_utime.tv_usec + (double)u->ru_stime.tv_sec +
         1e-6 * (double)u->ru_stime.tv_usec;
}

/* Run parts 0..n-1 in n child processes at once; the CPU time of each (rank_cpu[k], may be NULL). */
static int run_kind(const what *w, const char *dir, int n, double *wall, double *cpu, double *rank_cpu)
{
  double c0 = children_cpu(), t0 = now();
  pid_t pids[2] = {0, 0};
  for (int k = 0; k < n; ++k) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      na64_err err = {0};
      int st = w->kind == 0   ? job_part(w->card, dir, k, n, &err)
               : w->kind == 1 ? sim_part(w->card, dir, k, n, w->nev, &err)
                              : reco_part(w->db, dir, k, n, w->kind == 3, &err);
      if (st) fprintf(stderr, "bench_scale: part %d/%d: %s\n", k, n, err.msg);
      _exit(st ? 1 : 0);
    }
    if (k < 2) pids[k] = pid;
  }
  int bad = 0;
  for (int k = 0; k < n; ++k) {
    int status = 0;
    struct rusage u;
    pid_t pid = wait4(-1, &status, 0, &u);
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) bad = 1;
    for (int j = 0; rank_cpu && j < n && j < 2; ++j)
      if (pids[j] == pid) rank_cpu[j] = cpu_of(&u);
  }
  *wall = now() - t0;
  *cpu = children_cpu() - c0;
  return bad ? -1 : 0;
}

static int run_parts(const char *card, const char *dir, int n, double *wall, double *cpu, double *rank_cpu)
{
  what w = {0, card, NULL, 0};
  return run_kind(&w, dir, n, wall, cpu, rank_cpu);
}

/* Size of dir/<stem><n>.rank<k>.<ext>. */
static double file_size(const char *dir, const char *stem, const char *ext, int n, int k)
{
  char path[600];
  snprintf(path, sizeof path, "%s/%s%d.rank%d.%s", dir, stem, n, k, ext);
  struct stat sb;
  return stat(path, &sb) == 0 ? (double)sb.st_size : 0.0;
}

/* The data files: sim then reco, as 1 part and as 2 concurrent parts; then the 1 part's raw file
 * reconstructed by 1 and by 2 ranks sharing it by event ranges. */
static int bench_files(const char *dir, const char *card, long nev, const char *db)
{
  double w[2][3] = {{0}}, c[2][3] = {{0}}, rc[2][3][2] = {{{0}}}, bytes[2] = {0}, h5[2] = {0};
  int st = 0;
  for (int n = 1; n <= 2 && st == 0; ++n) {
    what sim = {1, card, db, nev}, reco = {2, card, db, nev};
    st = run_kind(&sim, dir, n, &w[n - 1][0], &c[n - 1][0], rc[n - 1][0]);
    if (st == 0) st = run_kind(&reco, dir, n, &w[n - 1][1], &c[n - 1][1], rc[n - 1][1]);
    for (int k = 0; k < n; ++k) {
      bytes[n - 1] += file_size(dir, "raw", "dat", n, k);
      h5[n - 1] += file_size(dir, "ev", "h5", n, k);
    }
  }
  for (int n = 1; n <= 2 && st == 0; ++n) {
    what range = {3, card, db, nev};
    st = run_kind(&range, dir, n, &w[n - 1][2], &c[n - 1][2], rc[n - 1][2]);
  }
  if (st) return st;
  char per[3][2][64]; /* "a" or "a + b" s of CPU per rank */
  for (int n = 1; n <= 2; ++n)
    for (int j = 0; j < 3; ++j)
      if (n == 1) snprintf(per[j][0], sizeof per[j][0], "%.2f", rc[0][j][0]);
      else snprintf(per[j][1], sizeof per[j][1], "%.2f + %.2f", rc[1][j][0], rc[1][j][1]);
  printf("data files: na64 sim --out of %ld beam particles, then na64 reco of the files (1 thread per part)\n", nev);
  for (int n = 1; n <= 2; ++n)
    printf("  %d part%s: sim wall %6.2f s, CPU %6.2f s (%8.0f beam particles per CPU s), DATE %.1f MB;"
           " reco wall %6.2f s, CPU %6.2f s (%.1f MB DATE per CPU s), HDF5 %.2f MB\n"
           "           CPU per rank: sim %s s, reco %s s\n",
           n, n > 1 ? "s" : " ", w[n - 1][0], c[n - 1][0], nev / c[n - 1][0], bytes[n - 1] / 1e6, w[n - 1][1],
           c[n - 1][1], bytes[n - 1] / 1e6 / c[n - 1][1], h5[n - 1] / 1e6, per[0][n - 1], per[1][n - 1]);
  printf("  DATE bytes of the 2 parts' files = the 1 part's: %s\n", bytes[0] == bytes[1] ? "yes" : "NO");
  printf("one raw file (%.1f MB) shared by event ranges (mpirun na64 reco RAW; each rank's first pass included):\n",
         bytes[0] / 1e6);
  for (int n = 1; n <= 2; ++n)
    printf("  %d rank%s: wall %6.2f s, CPU %6.2f s in total, per rank %s s\n", n, n > 1 ? "s" : " ", w[n - 1][2],
           c[n - 1][2], per[2][n - 1]);
  return 0;
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
  long sim_events = argc > 2 ? atol(argv[2]) : 200000;
  const char *db = argc > 3 ? argv[3] : NULL;
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
  double wall1 = 0, cpu1 = 0, wall2 = 0, cpu2 = 0, mwall = 0, wall0 = 0, cpu0 = 0, rank2[2] = {0, 0};
  na64_job_result *r1 = calloc(1, sizeof *r1), *r2 = calloc(1, sizeof *r2);
  int st = run_parts(tiny, dir, 1, &wall0, &cpu0, NULL); /* the start-up of one part: 22 events */
  if (st == 0) st = run_parts(card, dir, 1, &wall1, &cpu1, NULL);
  double mwall1 = 0;
  if (st == 0) st = merge_parts(dir, 1, &mwall1, r1);
  if (st == 0) st = run_parts(card, dir, 2, &wall2, &cpu2, rank2);
  if (st == 0) st = merge_parts(dir, 2, &mwall, r2);
  if (st == 0) {
    int same = r1->efficiency[0] == r2->efficiency[0] && r1->limit.n == r2->limit.n &&
               !memcmp(r1->limit.pt, r2->limit.pt, (size_t)r1->limit.n * sizeof *r1->limit.pt);
    printf("  start-up of one part (set-up of 3 simulations, geometry, reconstruction): CPU %.2f s\n", cpu0);
    printf("  1 part : wall %7.2f s, CPU %7.2f s, %8.0f events per CPU second (%.0f without start-up)\n", wall1, cpu1,
           simulated / cpu1, simulated / (cpu1 - cpu0));
    printf("  2 parts: wall %7.2f s, CPU %7.2f s (per rank %.2f + %.2f s), %8.0f events per CPU second;"
           " speed-up %.2f, efficiency %.0f%%\n",
           wall2, cpu2, rank2[0], rank2[1], simulated / cpu2, wall1 / wall2, 100 * wall1 / wall2 / 2);
    printf("  merge of 2 parts + finish (efficiency, background, limit): %.3f s; result identical to 1 part: %s\n",
           mwall, same ? "yes" : "NO");
    if (!same) st = 1;
  }
  if (st == 0 && sim_events > 0) st = bench_files(dir, card, sim_events, db);
  na64_job_result_release(r1);
  na64_job_result_release(r2);
  free(r1);
  free(r2);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "bench_scale: could not remove %s\n", dir);
  return st ? 1 : 0;
}
