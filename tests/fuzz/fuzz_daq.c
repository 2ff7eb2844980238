/* libFuzzer harness of the DATE reader and the payload decoders (src/daq).
 *
 * Whatever the input, the reader must not crash, must consume it all, and everything it delivers
 * must be a well-formed event: the writer accepts it again and a second reading of the re-written
 * events gives the same events with no bad region. The accounting must balance: for plain input,
 * bytes_read == size and bytes_read - bytes_skipped == the sum of the delivered event sizes.
 * The input is also decoded directly as F1, SADC and APV payload words, and read a second time as a
 * stream (through a pipe, with a 64-byte window): uncompressed input gives exactly the same events
 * and bad regions as the reading from memory; compressed input, with frames larger than a 256-byte
 * window streamed, must keep the same invariants.
 *
 * Built and run for a short time by the ctest test "fuzz/daq_reader" (tests/fuzz/run_fuzz.cmake);
 * seeds in tests/fuzz/corpus/daq (regenerate with the make_seeds target of tests/fuzz). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "na64/daq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz_daq: invariant failed at line %d: %s\n", __LINE__, #cond);             \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static void decode_all(const na64_daq_equipment *eq, long expected)
{
  size_t cap = eq->nwords ? eq->nwords : 1;
  na64_daq_f1_hit *fh = malloc(cap * sizeof *fh);
  na64_daq_sadc_waveform *sw = malloc(cap * sizeof *sw);
  na64_daq_apv_hit *ah = malloc(cap * sizeof *ah);
  CHECK(fh && sw && ah);
  size_t n;
  na64_err err;
  int st = na64_daq_f1_decode(eq, expected, fh, cap, &n, NULL, &err);
  CHECK(st == NA64_OK || st == NA64_EFORMAT);
  CHECK(n <= eq->nwords);
  for (size_t i = 0; i < n; ++i) CHECK(fh[i].port < 16 && fh[i].chip < 8 && fh[i].channel < 8);
  st = na64_daq_sadc_decode(eq, sw, cap, &n, NULL, &err);
  CHECK(st == NA64_OK || st == NA64_EFORMAT);
  for (size_t i = 0; i < n; ++i) CHECK(sw[i].nsamples <= NA64_DAQ_SADC_MAX_SAMPLES);
  st = na64_daq_apv_decode(eq, expected, ah, cap, &n, NULL, &err);
  CHECK(st == NA64_OK || st == NA64_EFORMAT);
  na64_daq_describer d;
  char line[256];
  na64_daq_describer_init(&d, &eq->header);
  for (size_t i = 0; i < eq->nwords; ++i) na64_daq_describe_word(&d, eq->words[i], line, sizeof line);
  free(fh);
  free(sw);
  free(ah);
}

/* Read the input again through a pipe (it fits in the pipe's 64 KiB buffer, so no second thread is
 * needed) with tiny windows. */
static void streamed_check(const uint8_t *data, size_t size, const na64_daq_reader_stats *ms,
                           const na64_daq_region *mreg, size_t nmreg, const uint64_t *evofs, const uint64_t *evsz,
                           size_t nkeep, uint64_t nev)
{
  if (size > 60000) return;
  int fds[2];
  if (pipe(fds) != 0) return;
  size_t done = 0;
  while (done < size) {
    ssize_t k = write(fds[1], data + done, size - done);
    CHECK(k > 0);
    done += (size_t)k;
  }
  close(fds[1]);
  char path[64];
  snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
  na64_daq_reader_options o = {.max_event_size = 1 << 20, .max_frame_size = 256, .stream_window = 64};
  na64_daq_reader *r;
  na64_err err;
  CHECK(na64_daq_reader_open(path, &o, &r, &err) == NA64_OK);
  na64_daq_event ev;
  uint64_t n = 0, sum = 0;
  int st;
  while ((st = na64_daq_reader_next_event(r, &ev, &err)) == NA64_OK) {
    CHECK(ev.size == ev.header.size && ev.size >= 80 && ev.size % 4 == 0);
    CHECK(((uintptr_t)ev.data & 3u) == 0);
    if (!ms->compressed && n < nkeep) CHECK(ev.offset == evofs[n] && ev.size == evsz[n]);
    sum += ev.size;
    n++;
  }
  CHECK(st == NA64_EEOF);
  na64_daq_reader_stats s;
  na64_daq_reader_get_stats(r, &s);
  CHECK(s.streamed == 1);
  CHECK(s.bytes_read == size);
  CHECK(s.compressed == ms->compressed);
  if (!s.compressed) {
    CHECK(n == nev);
    CHECK(s.bytes_read - s.bytes_skipped == sum);
    size_t nreg;
    const na64_daq_region *reg = na64_daq_reader_regions(r, &nreg);
    CHECK(nreg == nmreg);
    for (size_t i = 0; i < nreg; ++i)
      CHECK(reg[i].offset == mreg[i].offset && reg[i].length == mreg[i].length && reg[i].reason == mreg[i].reason);
  }
  na64_daq_reader_close(r);
  close(fds[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* 1. the input as payload words of every type */
  if (size >= 4) {
    size_t nw = size / 4;
    uint32_t *words = malloc(nw * 4);
    CHECK(words);
    memcpy(words, data, nw * 4);
    na64_daq_equipment eq;
    memset(&eq, 0, sizeof eq);
    eq.words = words;
    eq.nwords = nw;
    for (uint32_t t = 0; t < 4; ++t) {
      eq.header.type = t;
      eq.header.type_attribute[1] = data[0];
      decode_all(&eq, data[1]);
    }
    free(words);
  }

  /* 2. the input as a DATE file, plain or compressed */
  na64_daq_reader_options o = {.max_event_size = 1 << 20, .max_frame_size = 8 << 20};
  na64_daq_reader *r;
  na64_err err;
  CHECK(na64_daq_reader_open_memory(data, size, "fuzz", &o, &r, &err) == NA64_OK);
  na64_daq_writer *w;
  CHECK(na64_daq_writer_open_memory(NULL, &w, &err) == NA64_OK);
  na64_daq_event ev;
  uint64_t sum = 0, nev = 0;
  int st;
  enum { KEEP = 512 };
  static uint64_t evofs[KEEP], evsz[KEEP];
  while ((st = na64_daq_reader_next_event(r, &ev, &err)) == NA64_OK) {
    if (nev < KEEP) {
      evofs[nev] = ev.offset;
      evsz[nev] = ev.size;
    }
    CHECK(ev.size == ev.header.size && ev.size >= 80 && ev.size % 4 == 0);
    CHECK(ev.header.magic == NA64_DAQ_MAGIC);
    CHECK(((uintptr_t)ev.data & 3u) == 0);
    /* every block reached through the LDC sub-events, which tile the event exactly */
    size_t sc = 0, send = na64_daq_event_is_super(&ev) ? ev.header.head_size : 0;
    na64_daq_subevent sub;
    while (na64_daq_event_next_subevent(&ev, &sc, &sub)) {
      size_t cur = 0, end = sub.header.head_size;
      na64_daq_equipment eq;
      while (na64_daq_subevent_next_equipment(&sub, &cur, &eq)) {
        decode_all(&eq, (long)na64_daq_header_nb_in_burst(&ev.header));
        end = cur;
      }
      CHECK(end == sub.size);
      send = sc;
    }
    CHECK(send == ev.size);
    CHECK(ev.nsubevents == (na64_daq_event_is_super(&ev) ? ev.nsubevents : 0));
    size_t cur = 0, nb = 0, nb2 = 0;
    na64_daq_equipment eq;
    while (na64_daq_event_next_equipment(&ev, &cur, &eq)) nb++;
    sc = 0;
    while (na64_daq_event_next_subevent(&ev, &sc, &sub))
      for (cur = 0; na64_daq_subevent_next_equipment(&sub, &cur, &eq);) nb2++;
    CHECK(nb == nb2);
    CHECK(na64_daq_writer_write_event(w, ev.data, ev.size, &err) == NA64_OK);
    sum += ev.size;
    nev++;
  }
  CHECK(st == NA64_EEOF);
  na64_daq_reader_stats s;
  na64_daq_reader_get_stats(r, &s);
  CHECK(s.events == nev);
  CHECK(s.bytes_read == size);
  if (!s.compressed) CHECK(s.bytes_read - s.bytes_skipped == sum);
  else CHECK(sum <= s.bytes_decompressed);
  size_t nreg;
  const na64_daq_region *reg0 = na64_daq_reader_regions(r, &nreg);
  CHECK(nreg == s.regions);
  streamed_check(data, size, &s, reg0, nreg, evofs, evsz, nev < KEEP ? nev : KEEP, nev);
  na64_daq_reader_close(r);

  /* 3. the delivered events, re-written, read back identically and cleanly */
  void *buf;
  size_t n;
  CHECK(na64_daq_writer_close_memory(w, &buf, &n, &err) == NA64_OK);
  CHECK(n == sum);
  CHECK(na64_daq_reader_open_memory(buf, n, "rewritten", &o, &r, &err) == NA64_OK);
  uint64_t again = 0;
  while (na64_daq_reader_next_event(r, &ev, &err) == NA64_OK) again++;
  na64_daq_reader_get_stats(r, &s);
  CHECK(!s.compressed); /* eventSize <= 1 MiB never looks like a zstd magic */
  CHECK(again == nev);
  CHECK(s.regions == 0);
  na64_daq_reader_close(r);
  free(buf);
  return 0;
}
