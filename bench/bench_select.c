/* Throughput of the event selection (`na64 select`, docs/selection.md) on one core: an HDF5 events
 * table (the one `na64 reco` and `na64 run` write, na64_reco_event_fields) read in chunks of the 17
 * columns the cuts need (src/io/h5read.c) and every row through the cuts, cut flows and sideband
 * (na64_select_file_fill, src/ana/select_file.c), as `na64 select` does.
 * Rows: `distinct` simulated 100 GeV events of the default run 2000 setup (every event digitised
 * whatever the trigger, as bench/bench_reco.c), reconstructed from their DATE data with
 * na64_reco_process, carrying the simulation's weight and A' truth, repeated to `rows` rows (the
 * selection does the same work for a repeated row; the distribution of the quantities is that of
 * the reconstruction). Times are process CPU time, best of 3: "file" is the whole
 * na64_select_file_fill (HDF5 reading, the file in the page cache after the first pass), "cuts" the
 * selection alone on the rows in memory (na64_select_accum_fill).
 * Usage: bench_select [rows] [distinct] [conditions.db]   (defaults 200000, 2000, the default database).
 * The table goes to $TMPDIR (default /tmp) and is removed at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "na64/ana.h"
#include "na64/daq.h"
#include "na64/io.h"
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
  fprintf(stderr, "bench_select: %s: %s\n", what, err->msg);
  exit(1);
}

/* `distinct` simulated events -> DATE in memory -> reconstructed rows with their truth. */
static na64_reco_event *make_rows(long distinct, const char *db)
{
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
  na64_reco_event *rows = calloc((size_t)distinct, sizeof *rows);
  double *weight = malloc((size_t)distinct * sizeof *weight);
  int *aprime = malloc((size_t)distinct * sizeof *aprime);
  if (!rows || !weight || !aprime) fprintf(stderr, "bench_select: out of memory\n"), exit(1);
  na64_sim_event ev;
  for (long i = 0; i < distinct; ++i) {
    if (na64_sim_event_generate(w, 1, (uint64_t)i, 1, &ev, &err) || na64_sim_digitize_write(d, &ev, 1, (uint32_t)i, wr, &err))
      die("simulate", &err);
    weight[i] = ev.truth.weight, aprime[i] = ev.truth.process == NA64_SIM_PROC_APRIME;
  }
  void *data = NULL;
  size_t size = 0;
  if (na64_daq_writer_close_memory(wr, &data, &size, &err)) die("close", &err);
  na64_geom *g = NULL;
  na64_reco *r = NULL;
  na64_daq_reader *rd = NULL;
  if (na64_geom_load_path(db, 2000, &g, &err) || na64_reco_new(g, &r, &err) ||
      na64_daq_reader_open_memory(data, size, "bench", NULL, &rd, &err))
    die("reco", &err);
  na64_daq_event e;
  long k = 0;
  while (k < distinct && na64_daq_reader_next_event(rd, &e, &err) == NA64_OK) {
    if (e.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    if (na64_reco_process(r, &e, &rows[k], &err)) die("process", &err);
    rows[k].weight = weight[k], rows[k].simulated = 1, rows[k].aprime = aprime[k];
    ++k;
  }
  if (k != distinct) fprintf(stderr, "bench_select: %ld of %ld events read back\n", k, distinct), exit(1);
  na64_daq_reader_close(rd);
  na64_reco_free(r);
  na64_geom_free(g);
  free(data);
  free(weight);
  free(aprime);
  na64_sim_digitizer_free(d);
  na64_sim_worker_free(w);
  na64_sim_free(s);
  return rows;
}

/* The events table of `rows` rows cycling through the distinct ones, with the untriggered-event
 * attributes (none: every row is a triggered event; eot = rows). */
static void write_table(const char *path, const na64_reco_event *distinct_rows, long distinct, long rows)
{
  na64_err err = {0, ""};
  int nf = 0;
  const na64_h5_field *f = na64_reco_event_fields(&nf);
  na64_h5table *t = NULL;
  if (na64_h5table_create(path, "events", sizeof(na64_reco_event), f, nf, &t, &err)) die("create", &err);
  for (long i = 0; i < rows;) {
    long n = rows - i < distinct - i % distinct ? rows - i : distinct - i % distinct;
    if (na64_h5table_append(t, distinct_rows + i % distinct, (size_t)n, &err)) die("append", &err);
    i += n;
  }
  na64_reco_untriggered u;
  na64_reco_untriggered_init(&u);
  u.eot = (double)rows;
  if (na64_reco_untriggered_write(t, &u, &err) || na64_h5table_close(t, &err)) die("close table", &err);
}

int main(int argc, char **argv)
{
  long rows = argc > 1 ? atol(argv[1]) : 200000, distinct = argc > 2 ? atol(argv[2]) : 2000;
  const char *db = argc > 3 ? argv[3] : NULL;
  if (rows < 1 || distinct < 1) return fprintf(stderr, "usage: bench_select [rows] [distinct] [conditions.db]\n"), 2;
  if (distinct > rows) distinct = rows;
  const char *tmp = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/bench_select_%ld.h5", tmp && tmp[0] ? tmp : "/tmp", (long)getpid());
  na64_reco_event *dr = make_rows(distinct, db);
  write_table(path, dr, distinct, rows);
  na64_select_config cfg;
  na64_select_config_default(&cfg);
  na64_select_accum *acc = malloc(sizeof *acc);
  if (!acc) return fprintf(stderr, "bench_select: out of memory\n"), 1;
  na64_err err = {0, ""};
  double best_file = 0.0, best_cuts = 0.0;
  uint64_t passed = 0;
  for (int rep = 0; rep < 3; ++rep) {
    na64_select_files_info info;
    memset(&info, 0, sizeof info);
    na64_select_accum_init(acc);
    double t0 = now();
    if (na64_select_file_fill(path, &cfg, acc, &info, &err)) die("select", &err);
    double rate = (double)info.rows / (now() - t0);
    if (rate > best_file) best_file = rate;
    passed = acc->all.events[NA64_CUTFLOW_ROWS - 1];
    na64_select_accum_init(acc);
    t0 = now();
    for (long i = 0; i < rows; ++i) na64_select_accum_fill(acc, &cfg, &dr[i % distinct], dr[i % distinct].aprime != 0);
    rate = (double)rows / (now() - t0);
    if (rate > best_cuts) best_cuts = rate;
    if (acc->all.events[NA64_CUTFLOW_ROWS - 1] != passed)
      return fprintf(stderr, "bench_select: file and memory disagree (%llu, %llu passed)\n",
                     (unsigned long long)passed, (unsigned long long)acc->all.events[NA64_CUTFLOW_ROWS - 1]), 1;
  }
  printf("events table: %ld rows (%ld distinct reconstructed events), %zu bytes per row in memory\n", rows, distinct,
         sizeof(na64_reco_event));
  printf("file (read + select): %.3g events/s per core\n", best_file);
  printf("cuts alone (rows in memory): %.3g events/s per core\n", best_cuts);
  printf("cut flow of the table (events after each step):");
  for (int i = 1; i < NA64_CUTFLOW_ROWS; ++i)
    printf(" %s %llu", na64_cutflow_label(i), (unsigned long long)acc->all.events[i]);
  printf("\n");
  remove(path);
  free(acc);
  free(dr);
  return 0;
}
