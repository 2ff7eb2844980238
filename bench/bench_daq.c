/* DATE raw data throughput on one core: writing (encode + write) and reading + decoding, of plain
 * events, of GDC super events (3 LDC sub-events: APV, F1, SADC, as the conditions database groups the
 * sources) and of zstd-compressed super events, on straw-dominated physics events (~200 F1 hits in ~40
 * TDC chips, 4 SADC waveforms of 32 samples, 20 APV strips; ~1.7 kB per event). MB/s (and GB/s) are of
 * uncompressed DATE bytes (1 MB = 1e6 B) per second of process CPU time.
 * Usage: bench_daq [events] [scratch dir]   (defaults: 100000 events, /tmp). Best of 3 repetitions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "na64/core.h"
#include "na64/daq.h"

#define POOL 512 /* distinct events, reused cyclically */

typedef struct pool_event {
  na64_daq_f1_hit f1[200];
  na64_daq_sadc_waveform sadc[4];
  na64_daq_apv_hit apv[20];
} pool_event;

/* CPU time of this process (user + system): the throughput of one core even when other jobs share
 * the machine; wall-clock figures on a busy machine would measure the neighbours. */
static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void make_pool(pool_event *p)
{
  na64_rng r;
  for (int e = 0; e < POOL; ++e) {
    na64_rng_init(&r, 2018, (uint64_t)e);
    uint16_t trig = (uint16_t)na64_rng_u64(&r);
    int chips[40];
    for (int c = 0; c < 40; ++c) chips[c] = (int)(na64_rng_u64(&r) % 128);
    for (int k = 0; k < 200; ++k) {
      na64_daq_f1_hit *h = &p[e].f1[k];
      memset(h, 0, sizeof *h);
      int key = chips[na64_rng_u64(&r) % 40];
      h->port = (uint8_t)(key >> 3);
      h->chip = (uint8_t)(key & 7);
      h->channel = (uint8_t)(na64_rng_u64(&r) % 8);
      h->trigger_units = trig;
      h->time_units = (uint16_t)(trig + 200 + na64_rng_u64(&r) % 1200); /* drift times up to ~150 ns */
    }
    for (int k = 0; k < 4; ++k) {
      na64_daq_sadc_waveform *w = &p[e].sadc[k];
      memset(w, 0, sizeof *w);
      w->port = (uint8_t)k;
      w->channel = (uint8_t)(na64_rng_u64(&r) % 64);
      w->nsamples = 32;
      w->has_pedestals = 1;
      w->pedestal_even = 200;
      w->pedestal_odd = 190;
      for (int s = 0; s < 32; ++s) w->samples[s] = (uint16_t)((s % 2 ? 190 : 200) + (s >= 10 && s < 16 ? 1800 : 0));
    }
    for (int k = 0; k < 20; ++k) {
      na64_daq_apv_hit *a = &p[e].apv[k];
      memset(a, 0, sizeof *a);
      a->chip = (uint8_t)(na64_rng_u64(&r) % 8);
      a->channel = (uint8_t)(na64_rng_u64(&r) % 128);
      for (int s = 0; s < 3; ++s) a->amp[s] = (uint16_t)(na64_rng_u64(&r) % 4096);
    }
  }
}

static uint32_t words[4096];

static int write_run(na64_daq_writer *w, const pool_event *p, long n)
{
  na64_err err;
  na64_daq_header h;
  memset(&h, 0, sizeof h);
  h.type = NA64_DAQ_PHYSICS_EVENT;
  h.run = 3000;
  na64_daq_equipment_header ef = na64_daq_f1_equipment(612, NA64_DAQ_F1_DEFAULT_BIN_NS);
  na64_daq_equipment_header es = na64_daq_sadc_equipment(700, 12.5);
  na64_daq_equipment_header ea = na64_daq_apv_equipment(800, 25.0);
  for (long i = 0; i < n; ++i) {
    const pool_event *e = &p[i % POOL];
    h.id[0] = (uint32_t)i;
    h.id[1] = NA64_DAQ_ID1(i / 100000, i % 100000);
    size_t nw;
    if (na64_daq_writer_begin_event(w, &h, &err)) goto fail;
    if (na64_daq_f1_encode(e->f1, 200, (uint32_t)i, words, 4096, &nw, &err)) goto fail;
    if (na64_daq_writer_add_equipment(w, &ef, words, nw, &err)) goto fail;
    if (na64_daq_sadc_encode(e->sadc, 4, words, 4096, &nw, &err)) goto fail;
    if (na64_daq_writer_add_equipment(w, &es, words, nw, &err)) goto fail;
    if (na64_daq_apv_encode(e->apv, 20, (uint32_t)i, words, 4096, &nw, &err)) goto fail;
    if (na64_daq_writer_add_equipment(w, &ea, words, nw, &err)) goto fail;
    if (na64_daq_writer_end_event(w, &err)) goto fail;
  }
  return 0;
fail:
  fprintf(stderr, "bench_daq: %s\n", err.msg);
  return 1;
}

static na64_daq_f1_hit fh[4096];
static na64_daq_sadc_waveform sw[64];
static na64_daq_apv_hit ah[4096];

/* Read every event; decode = 1: decode every block. Returns the checksum; *bytes = uncompressed bytes. */
static double read_run(na64_daq_reader *r, int decode, double *bytes, long *nhits)
{
  na64_daq_event ev;
  na64_err err;
  double sum = 0, b = 0;
  long hits = 0;
  while (na64_daq_reader_next_event(r, &ev, &err) == NA64_OK) {
    b += (double)ev.size;
    if (!decode) {
      sum += ev.header.id[0];
      continue;
    }
    size_t cur = 0, n;
    na64_daq_equipment eq;
    long expected = (long)na64_daq_header_nb_in_burst(&ev.header);
    while (na64_daq_event_next_equipment(&ev, &cur, &eq)) {
      switch (eq.header.type) {
      case NA64_DAQ_EQ_F1:
        na64_daq_f1_decode(&eq, expected, fh, 4096, &n, NULL, NULL);
        sum += n ? fh[n - 1].time_ns : 0; /* touch the output, but time the decoder, not a consumer */
        hits += (long)n;
        break;
      case NA64_DAQ_EQ_SADC:
        na64_daq_sadc_decode(&eq, sw, 64, &n, NULL, NULL);
        sum += n ? sw[n - 1].samples[12] : 0;
        break;
      case NA64_DAQ_EQ_APV:
        na64_daq_apv_decode(&eq, expected, ah, 4096, &n, NULL, NULL);
        sum += n ? ah[n - 1].amp[2] : 0;
        hits += (long)n;
        break;
      default: break;
      }
    }
  }
  *bytes = b;
  *nhits = hits;
  return sum;
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 100000;
  const char *dir = argc > 2 ? argv[2] : "/tmp";
  if (n <= 0) n = 100000;
  pool_event *pool = malloc(POOL * sizeof *pool);
  if (!pool) return 1;
  make_pool(pool);
  enum { PLAIN, SUPER, SUPER_ZSTD, NMODES };
  static const char *mode_name[NMODES] = {"plain", "super", "super+zstd"};
  /* the LDC grouping of sql/setups: APV trackers LDC 1, straw F1 LDC 2, sampling ADCs LDC 3 */
  static const na64_daq_ldc_entry ldcs[3] = {{612, 2}, {700, 3}, {800, 1}};
  char path[NMODES][1024];
  for (int z = 0; z < NMODES; ++z)
    snprintf(path[z], sizeof path[z], "%s/bench_daq_%d_%d.dat%s", dir, (int)getpid(), z, z == SUPER_ZSTD ? ".zst" : "");
  na64_err err;
  printf("DATE raw data, %ld straw-dominated events (200 F1 hits, 4 SADC x 32 samples, 20 APV strips)\n", n);
  printf("MB/s of uncompressed DATE bytes per second of CPU time (user + system), one core, best of 3\n\n");
  double raw_bytes = 0;
  for (int z = 0; z < NMODES; ++z) {
    double best_w = 1e99, best_wm = 1e99;
    uint64_t file_bytes = 0;
    for (int rep = 0; rep < 3; ++rep) {
      na64_daq_writer_options o = {.compress = z == SUPER_ZSTD, .plain_events = z == PLAIN, .ldc_map = ldcs, .nldc_map = 3};
      na64_daq_writer *w;
      /* to memory: encoding + event building (+ compression) */
      if (na64_daq_writer_open_memory(&o, &w, &err)) return 1;
      double t0 = now();
      if (write_run(w, pool, n)) return 1;
      void *buf;
      size_t sz;
      if (na64_daq_writer_close_memory(w, &buf, &sz, &err)) return 1;
      double t = now() - t0;
      if (t < best_wm) best_wm = t;
      free(buf);
      /* to a file */
      if (na64_daq_writer_open(path[z], &o, &w, &err)) {
        fprintf(stderr, "bench_daq: %s\n", err.msg);
        return 1;
      }
      t0 = now();
      if (write_run(w, pool, n)) return 1;
      file_bytes = na64_daq_writer_bytes(w);
      if (na64_daq_writer_close(w, &err)) return 1;
      t = now() - t0;
      if (t < best_w) best_w = t;
    }
    if (z != SUPER_ZSTD) raw_bytes = (double)file_bytes;
    printf("%-10s file %8.1f MB (%.0f B/event uncompressed)\n", mode_name[z], file_bytes / 1e6, raw_bytes / n);
    if (z == SUPER_ZSTD) printf("       compression ratio %.2f\n", raw_bytes / (double)file_bytes);
    printf("  write (encode + build) to memory : %8.0f MB/s  %8.3g events/s\n", raw_bytes / best_wm / 1e6, n / best_wm);
    printf("  write (encode + build) to a file : %8.0f MB/s\n", raw_bytes / best_w / 1e6);
    double best_r = 1e99, best_rd = 1e99, best_md = 1e99, chk = 0;
    long hits = 0;
    void *mem = NULL;
    if (z != SUPER_ZSTD) { /* the file read into memory once: the best of 3 passes is the warm one */
      FILE *f = fopen(path[z], "rb");
      mem = malloc(file_bytes);
      if (!f || !mem || fread(mem, 1, file_bytes, f) != file_bytes) return 1;
      fclose(f);
    }
    for (int rep = 0; rep < 3; ++rep) {
      double bytes;
      na64_daq_reader *r;
      if (na64_daq_reader_open(path[z], NULL, &r, &err)) return 1;
      double t0 = now();
      chk += read_run(r, 0, &bytes, &hits);
      double t = now() - t0;
      na64_daq_reader_close(r);
      if (t < best_r) best_r = t;
      if (na64_daq_reader_open(path[z], NULL, &r, &err)) return 1;
      t0 = now();
      chk += read_run(r, 1, &bytes, &hits);
      t = now() - t0;
      na64_daq_reader_close(r);
      if (t < best_rd) best_rd = t;
      if (z != SUPER_ZSTD) {
        /* the whole file already in memory: the reader and decoders alone, without page faults */
        if (na64_daq_reader_open_memory(mem, file_bytes, NULL, NULL, &r, &err)) return 1;
        t0 = now();
        chk += read_run(r, 1, &bytes, &hits);
        t = now() - t0;
        na64_daq_reader_close(r);
        if (t < best_md) best_md = t;
      }
    }
    printf("  read (events only, from the file): %8.0f MB/s\n", raw_bytes / best_r / 1e6);
    printf("  read + decode all blocks (file)  : %8.0f MB/s  %8.3g hits/s  %5.2f GB/s/core\n", raw_bytes / best_rd / 1e6,
           hits / best_rd, raw_bytes / best_rd / 1e9);
    if (z != SUPER_ZSTD)
      printf("  read + decode, file in memory    : %8.0f MB/s  %5.2f GB/s/core\n", raw_bytes / best_md / 1e6,
             raw_bytes / best_md / 1e9);
    free(mem);
    if (chk == 0.123) printf("(checksum)\n");
    printf("\n");
    remove(path[z]);
  }
  free(pool);
  return 0;
}
