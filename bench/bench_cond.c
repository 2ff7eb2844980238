/* Conditions database throughput: geometry load per run, channel-map look-ups per second (the
 * decoder's per-hit cost), export and import (with validation) of the whole default database.
 * Uses the default database (conditions.db next to this program, or $NA64_CONDITIONS_DB).
 * Figures go to docs/conditions.md; nothing here is a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "na64/cond.h"
#include "na64/core.h"
#include "na64/geom.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int die(const na64_err *err)
{
  fprintf(stderr, "bench_cond: %s\n", err->msg);
  return 1;
}

/* Geometry load, one call per run (the mean of 20). */
static int bench_geom_load(na64_cond *db)
{
  na64_err err = {0, ""};
  const int runs[3] = {1500, 3000, 4250};
  for (int k = 0; k < 3; ++k) {
    const int reps = 20;
    na64_geom *g = NULL;
    double t0 = now();
    for (int i = 0; i < reps; ++i) {
      if (na64_geom_load(db, runs[k], &g, &err) != NA64_OK) return die(&err);
      if (i < reps - 1) na64_geom_free(g);
    }
    double dt = (now() - t0) / reps;
    printf("geom_load run %d (%s): %.2f ms  [%d planes, %d cells, %zu channel-map records]\n", runs[k], g->setup,
           1e3 * dt, g->nplanes, g->ncells, g->chanmap.nmapped);
    na64_geom_free(g);
  }
  return 0;
}

/* n keys drawn uniformly from pool[0..np) into keys (unpacked). */
static void draw_keys(const uint64_t *pool, size_t np, na64_rng *rng, uint32_t (*keys)[4], size_t n)
{
  for (size_t i = 0; i < n; ++i) {
    uint64_t key = pool[na64_rng_u64(rng) % np];
    na64_geom_key_unpack(key, &keys[i][0], &keys[i][1], &keys[i][2], &keys[i][3]);
  }
}

/* The time of one full look-up (na64_geom_chan_lookup), s, over `passes` passes of the n keys. */
static double time_lookup(const na64_geom *g, uint32_t (*keys)[4], size_t n, int passes, long long *sum)
{
  long long acc = 0;
  double t0 = now();
  for (int p = 0; p < passes; ++p)
    for (size_t i = 0; i < n; ++i) {
      const na64_geom_chan *e = na64_geom_chan_lookup(g, keys[i][0], keys[i][1], keys[i][2], keys[i][3]);
      acc += e ? e->plane * 4096 + e->wire : -1;
    }
  double dt = now() - t0;
  *sum = acc;
  return dt / ((double)n * passes);
}

/* The same within one source table found beforehand (na64_geom_chan_in_source), the decoder's pattern. */
static double time_in_source(const na64_geom *g, const na64_geom_chansrc *src, uint32_t (*keys)[4], size_t n,
                             int passes, long long *sum)
{
  long long acc = 0;
  double t0 = now();
  for (int p = 0; p < passes; ++p)
    for (size_t i = 0; i < n; ++i) {
      const na64_geom_chan *e = na64_geom_chan_in_source(g, src, keys[i][1], keys[i][2], keys[i][3]);
      acc += e ? e->plane * 4096 + e->wire : -1;
    }
  double dt = now() - t0;
  *sum = acc;
  return dt / ((double)n * passes);
}

/* Channel-map look-ups: 2^16 keys drawn uniformly from the mapped channels of run 1500, 640 passes. */
static int bench_lookups(na64_cond *db)
{
  na64_err err = {0, ""};
  na64_geom *g = NULL;
  if (na64_geom_load(db, 1500, &g, &err) != NA64_OK) return die(&err);
  size_t nkeys = 0;
  for (int i = 0; i < g->nplanes; ++i) nkeys += (size_t)g->planes[i].nwires;
  uint64_t *pool = malloc(nkeys * sizeof *pool);
  size_t np = 0;
  for (int i = 0; i < g->nplanes; ++i)
    for (int w = 0; w < g->planes[i].nwires; ++w) pool[np++] = g->planes[i].daq_key[w];
  const size_t n = (size_t)1 << 16; /* keys stay in cache: the map is what is timed */
  uint32_t(*keys)[4] = malloc(n * sizeof *keys);
  na64_rng rng;
  na64_rng_init(&rng, 2024, 1);
  draw_keys(pool, np, &rng, keys, n);
  long long sum = 0;
  const int passes = 640;
  double per = time_lookup(g, keys, n, passes, &sum);
  printf("chan_lookup: %.2f ns per look-up, %.0f M look-ups/s (= %.2f GB/s of 4-byte TDC words)  [checksum %lld]\n",
         1e9 * per, 1e-6 / per, 4e-9 / per, sum);
  /* decoder pattern: the source table is found once per equipment block, then one look-up per hit;
   * here the straw source 400 (F1 TDC) with random mapped wires */
  const na64_geom_chansrc *src = na64_geom_chan_source(g, 400);
  size_t ns = 0;
  for (size_t i = 0; i < np; ++i)
    if ((pool[i] >> 48) == 400) pool[ns++] = pool[i];
  draw_keys(pool, ns, &rng, keys, n);
  per = time_in_source(g, src, keys, n, passes, &sum);
  printf("chan_in_source (one source per block): %.2f ns per hit, %.0f M/s (= %.2f GB/s of 4-byte TDC words)  "
         "[checksum %lld]\n",
         1e9 * per, 1e-6 / per, 4e-9 / per, sum);
  free(keys);
  free(pool);
  na64_geom_free(g);
  return 0;
}

/* Export of the whole database, import into a new one (with validation), validation alone. */
static int bench_export_import(na64_cond *db)
{
  na64_err err = {0, ""};
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  double t0 = now();
  if (na64_cond_export(db, f, &err) != NA64_OK) return die(&err);
  fclose(f);
  double dt = now() - t0;
  printf("export: %.1f MB in %.3f s = %.1f MB/s\n", len / 1e6, dt, len / 1e6 / dt);
  char tmp[] = "/tmp/na64_bench_cond_XXXXXX";
  if (!mkdtemp(tmp)) return 1;
  char dbpath[128];
  snprintf(dbpath, sizeof dbpath, "%s/import.db", tmp);
  na64_cond *dst = NULL;
  if (na64_cond_open(dbpath, NA64_COND_CREATE, &dst, &err) != NA64_OK) return die(&err);
  t0 = now();
  if (na64_cond_import(dst, text, len, "export", &err) != NA64_OK) return die(&err);
  dt = now() - t0;
  printf("import (one transaction, then validation of every run range): %.1f MB in %.3f s = %.1f MB/s\n", len / 1e6,
         dt, len / 1e6 / dt);
  t0 = now();
  if (na64_cond_validate(dst, &err) != NA64_OK) return die(&err);
  printf("validate: %.3f s\n", now() - t0);
  na64_cond_close(dst);
  char rm[256];
  snprintf(rm, sizeof rm, "rm -rf '%s'", tmp);
  if (system(rm) != 0) return 1;
  free(text);
  return 0;
}

int main(void)
{
  na64_err err = {0, ""};
  char path[4096];
  na64_cond_default_path(path, sizeof path);
  na64_cond *db = NULL;
  if (na64_cond_open(path, NA64_COND_READONLY, &db, &err) != NA64_OK) return die(&err);
  printf("database: %s (schema %d)\n", path, na64_cond_schema_version());
  int rc = bench_geom_load(db);
  if (!rc) rc = bench_lookups(db);
  if (!rc) rc = bench_export_import(db);
  na64_cond_close(db);
  return rc;
}
