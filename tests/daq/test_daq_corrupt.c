/* Damaged DATE files: truncated events, wrong magic, size fields that lie, garbage between events,
 * bad equipment sizes, damaged or truncated zstd frames. For each, exactly which events come back and
 * exactly which byte ranges are reported, with which reason. Offsets are computed from the clean file. */
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "support/na64_test.h"
#include "daq/daq_gen.h"

#define SEED 77u
#define NEV 12u

typedef struct result {
  uint32_t ids[4096];
  size_t n;
  na64_daq_region reg[64];
  size_t nreg;
  size_t callbacks;
  na64_daq_reader_stats st;
  uint64_t sum; /* sizes of the delivered events */
} result;

static void on_region(const na64_daq_region *reg, void *user)
{
  (void)reg;
  ((result *)user)->callbacks++;
}

static void read_all_opt(const void *buf, size_t n, result *res, size_t max_regions)
{
  memset(res, 0, sizeof *res);
  na64_daq_reader_options o = {.on_region = on_region, .user = res, .max_regions = max_regions};
  na64_daq_reader *r;
  na64_err err;
  assert_int_equal(na64_daq_reader_open_memory(buf, n, "corrupt", &o, &r, &err), NA64_OK);
  na64_daq_event ev;
  int st;
  while ((st = na64_daq_reader_next_event(r, &ev, &err)) == NA64_OK) {
    assert_true(res->n < 4096);
    res->ids[res->n++] = ev.header.id[0];
    res->sum += ev.size;
    /* every delivered event iterates cleanly to its end, sub-event by sub-event */
    size_t sc = 0, send = na64_daq_event_is_super(&ev) ? ev.header.head_size : 0;
    na64_daq_subevent sub;
    while (na64_daq_event_next_subevent(&ev, &sc, &sub)) {
      size_t cur = 0, end = sub.header.head_size;
      na64_daq_equipment eq;
      while (na64_daq_subevent_next_equipment(&sub, &cur, &eq)) end = cur;
      assert_int_equal(end, sub.size);
      send = sc;
    }
    assert_int_equal(send, ev.size);
  }
  assert_int_equal(st, NA64_EEOF);
  const na64_daq_region *rg = na64_daq_reader_regions(r, &res->nreg);
  assert_true(res->nreg <= 64);
  if (res->nreg) memcpy(res->reg, rg, res->nreg * sizeof *rg);
  na64_daq_reader_get_stats(r, &res->st);
  na64_daq_reader_close(r);
  /* invariants: all input consumed; callbacks == regions; regions ordered and disjoint */
  assert_int_equal(res->st.bytes_read, n);
  assert_int_equal(res->callbacks, res->st.regions);
  for (size_t i = 1; i < res->nreg; ++i)
    if (res->reg[i].frame_offset == res->reg[i - 1].frame_offset)
      assert_true(res->reg[i].offset >= res->reg[i - 1].offset + res->reg[i - 1].length);
  if (!res->st.compressed) assert_int_equal(res->st.bytes_read - res->st.bytes_skipped, res->sum);
}

static void read_all(const void *buf, size_t n, result *res) { read_all_opt(buf, n, res, 0); }

/* The clean run and the offset and size of each event in it. */
static uint8_t *base;
static size_t nbase;
static uint64_t off[NEV], sz[NEV];

static int setup(void **state)
{
  (void)state;
  base = gen_run(SEED, NEV, NULL, &nbase);
  if (!base) return -1;
  na64_daq_reader *r;
  na64_err err;
  if (na64_daq_reader_open_memory(base, nbase, NULL, NULL, &r, &err)) return -1;
  na64_daq_event ev;
  for (uint32_t i = 0; i < NEV; ++i) {
    if (na64_daq_reader_next_event(r, &ev, &err)) return -1;
    off[i] = ev.offset;
    sz[i] = ev.size;
  }
  na64_daq_reader_close(r);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  free(base);
  return 0;
}

static uint8_t *copy_base(void)
{
  uint8_t *b = malloc(nbase + 4096);
  memcpy(b, base, nbase);
  return b;
}

/* Insert len bytes of `fill` at position at; returns the new size. */
static size_t insert(uint8_t *b, size_t n, size_t at, size_t len, uint8_t fill)
{
  memmove(b + at + len, b + at, n - at);
  memset(b + at, fill, len);
  return n + len;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* ids 0..NEV-1 except the listed ones */
static void expect_ids_except(const result *res, int a, int b)
{
  size_t k = 0;
  for (uint32_t i = 0; i < NEV; ++i) {
    if ((int)i == a || (int)i == b) continue;
    assert_true(k < res->n);
    assert_int_equal(res->ids[k], i);
    ++k;
  }
  assert_int_equal(res->n, k);
}

static void expect_region(const result *res, size_t i, uint64_t offset, uint64_t length, int reason)
{
  assert_true(i < res->nreg);
  if (res->reg[i].offset != offset || res->reg[i].length != length || res->reg[i].reason != reason)
    fail_msg("region %zu: got offset %llu length %llu %s (%s); expected offset %llu length %llu %s", i,
             (unsigned long long)res->reg[i].offset, (unsigned long long)res->reg[i].length,
             na64_daq_reason_name(res->reg[i].reason), res->reg[i].detail, (unsigned long long)offset,
             (unsigned long long)length, na64_daq_reason_name(reason));
}

static result res;

static void test_clean(void **state)
{
  (void)state;
  read_all(base, nbase, &res);
  expect_ids_except(&res, -1, -1);
  assert_int_equal(res.nreg, 0);
}

static void test_garbage_between_events(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  size_t n = insert(b, nbase, off[3], 37, 0x77);
  read_all(b, n, &res);
  expect_ids_except(&res, -1, -1);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, off[3], 37, NA64_DAQ_BAD_MAGIC);
  assert_int_equal(res.st.bytes_skipped, 37);
  /* garbage at the very start, and 3 stray bytes at the end */
  memcpy(b, base, nbase);
  n = insert(b, nbase, 0, 5, 0x00);
  n = insert(b, n, n, 3, 0xAB);
  read_all(b, n, &res);
  expect_ids_except(&res, -1, -1);
  assert_int_equal(res.nreg, 2);
  expect_region(&res, 0, 0, 5, NA64_DAQ_BAD_MAGIC);
  expect_region(&res, 1, n - 3, 3, NA64_DAQ_BAD_MAGIC);
  free(b);
}

/* Garbage that itself contains the magic with a nonsense header: skipped as one region. */
static void test_garbage_with_fake_magic(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  size_t n = insert(b, nbase, off[6], 64, 0x5C);
  put32(b + off[6] + 16, 2000);          /* a fake eventSize */
  put32(b + off[6] + 20, NA64_DAQ_MAGIC); /* and the magic */
  read_all(b, n, &res);
  expect_ids_except(&res, -1, -1);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, off[6], 64, NA64_DAQ_BAD_MAGIC);
  free(b);
}

static void test_truncated_last_event(void **state)
{
  (void)state;
  size_t n = off[NEV - 1] + sz[NEV - 1] - 30;
  read_all(base, n, &res);
  expect_ids_except(&res, NEV - 1, -1);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, off[NEV - 1], sz[NEV - 1] - 30, NA64_DAQ_TRUNCATED);
  /* cut inside the header */
  n = off[NEV - 1] + 40;
  read_all(base, n, &res);
  expect_ids_except(&res, NEV - 1, -1);
  expect_region(&res, 0, off[NEV - 1], 40, NA64_DAQ_TRUNCATED);
}

/* An event that lost its last 20 bytes, followed by intact events. */
static void test_truncated_inner_event(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  size_t cut = off[5] + sz[5] - 20;
  memmove(b + cut, b + cut + 20, nbase - cut - 20);
  read_all(b, nbase - 20, &res);
  expect_ids_except(&res, 5, -1);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, off[5], sz[5] - 20, NA64_DAQ_BAD_SIZE);
  free(b);
}

static void test_wrong_magic(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  b[off[4] + 5] ^= 0x10;
  read_all(b, nbase, &res);
  expect_ids_except(&res, 4, -1);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, off[4], sz[4], NA64_DAQ_BAD_MAGIC);
  /* two damaged events in a row make one region */
  b[off[5] + 4] = 0;
  read_all(b, nbase, &res);
  expect_ids_except(&res, 4, 5);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, off[4], sz[4] + sz[5], NA64_DAQ_BAD_MAGIC);
  free(b);
}

static void test_size_too_large(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  put32(b + off[6], get32(b + off[6]) + 64);
  read_all(b, nbase, &res);
  expect_ids_except(&res, 6, -1);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, off[6], sz[6], NA64_DAQ_BAD_SIZE);
  /* absurd size, beyond the reader's limit */
  memcpy(b, base, nbase);
  put32(b + off[3], 0x7FFFFFF0u);
  read_all(b, nbase, &res);
  expect_ids_except(&res, 3, -1);
  expect_region(&res, 0, off[3], sz[3], NA64_DAQ_BAD_SIZE);
  /* the last event claims more than the file holds */
  memcpy(b, base, nbase);
  put32(b + off[NEV - 1], (uint32_t)sz[NEV - 1] + 400);
  read_all(b, nbase, &res);
  expect_ids_except(&res, NEV - 1, -1);
  expect_region(&res, 0, off[NEV - 1], sz[NEV - 1], NA64_DAQ_TRUNCATED);
  free(b);
}

static void test_size_too_small(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  put32(b + off[7], get32(b + off[7]) - 8); /* cuts into its last equipment block */
  read_all(b, nbase, &res);
  expect_ids_except(&res, 7, -1);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, off[7], sz[7], NA64_DAQ_BAD_EQUIPMENT);
  free(b);
}

static void test_bad_equipment_size(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  put32(b + off[8] + 80, 0xFFFFFFF0u); /* equipmentSize of its first block */
  read_all(b, nbase, &res);
  expect_ids_except(&res, 8, -1);
  expect_region(&res, 0, off[8], sz[8], NA64_DAQ_BAD_EQUIPMENT);
  memcpy(b, base, nbase);
  put32(b + off[8] + 80, get32(b + off[8] + 80) + 2); /* not a multiple of 4 */
  read_all(b, nbase, &res);
  expect_ids_except(&res, 8, -1);
  expect_region(&res, 0, off[8], sz[8], NA64_DAQ_BAD_EQUIPMENT);
  free(b);
}

static void test_bad_header(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  put32(b + off[9] + 8, 40); /* eventHeadSize < 80 */
  read_all(b, nbase, &res);
  expect_ids_except(&res, 9, -1);
  expect_region(&res, 0, off[9], sz[9], NA64_DAQ_BAD_HEADER);
  memcpy(b, base, nbase);
  put32(b + off[2], (uint32_t)sz[2] + 2); /* eventSize not a multiple of 4 */
  read_all(b, nbase, &res);
  expect_ids_except(&res, 2, -1);
  expect_region(&res, 0, off[2], sz[2], NA64_DAQ_BAD_HEADER);
  free(b);
}

/* Several kinds of damage in one file: each reported, everything else delivered. */
static void test_combined(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  b[off[2] + 6] = 0;                                      /* event 2: wrong magic */
  put32(b + off[7], get32(b + off[7]) + 128);             /* event 7: size too large */
  size_t n = insert(b, nbase, off[5], 11, 0xEE);          /* 11 bytes before event 5 */
  n -= 50;                                                /* last event truncated by 50 bytes */
  read_all(b, n, &res);
  uint32_t want[] = {0, 1, 3, 4, 5, 6, 8, 9, 10};
  assert_int_equal(res.n, 9);
  assert_memory_equal(res.ids, want, sizeof want);
  assert_int_equal(res.nreg, 4);
  expect_region(&res, 0, off[2], sz[2], NA64_DAQ_BAD_MAGIC);
  expect_region(&res, 1, off[5], 11, NA64_DAQ_BAD_MAGIC);
  expect_region(&res, 2, off[7] + 11, sz[7], NA64_DAQ_BAD_SIZE);
  expect_region(&res, 3, off[11] + 11, sz[11] - 50, NA64_DAQ_TRUNCATED);
  assert_int_equal(res.st.bytes_skipped, sz[2] + 11 + sz[7] + sz[11] - 50);
  free(b);
}

/* Damage in a byte-swapped file is handled the same way. */
static void test_swapped_damaged(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  for (size_t i = 0; i < nbase; i += 4) put32(b + i, __builtin_bswap32(get32(b + i)));
  b[off[4] + 4] ^= 1;
  size_t n = insert(b, nbase, off[9], 6, 0x11);
  read_all(b, n, &res);
  expect_ids_except(&res, 4, -1);
  assert_int_equal(res.st.swapped_events, NEV - 1);
  assert_int_equal(res.nreg, 2);
  expect_region(&res, 0, off[4], sz[4], NA64_DAQ_BAD_MAGIC);
  expect_region(&res, 1, off[9], 6, NA64_DAQ_BAD_MAGIC);
  free(b);
}

static void test_pure_garbage(void **state)
{
  (void)state;
  uint8_t junk[5000];
  na64_rng r;
  na64_rng_init(&r, 5, 0);
  for (size_t i = 0; i < sizeof junk; ++i) junk[i] = (uint8_t)na64_rng_u64(&r);
  junk[0] = 0x13; /* not a zstd magic either */
  read_all(junk, sizeof junk, &res);
  assert_int_equal(res.n, 0);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, 0, sizeof junk, NA64_DAQ_BAD_MAGIC);
  read_all(junk, 0, &res);
  assert_int_equal(res.nreg, 0);
}

/* Every region is counted even when the list is capped. */
static void test_region_cap(void **state)
{
  (void)state;
  uint8_t *b = copy_base();
  size_t n = nbase;
  for (int i = NEV - 1; i >= 1; --i) n = insert(b, n, off[i], 3, 0x01);
  read_all_opt(b, n, &res, 4);
  expect_ids_except(&res, -1, -1);
  assert_int_equal(res.st.regions, NEV - 1);
  assert_int_equal(res.nreg, 4);
  assert_int_equal(res.callbacks, NEV - 1);
  free(b);
}

/* ---- compressed files ---- */

static uint8_t *zbuf;
static size_t nz;
static uint64_t fo[NEV];

static void make_zstd(void)
{
  na64_daq_writer_options o = {.compress = 1, .frame_events = 4};
  zbuf = gen_run(SEED, NEV, &o, &nz);
  assert_non_null(zbuf);
  na64_daq_reader *r;
  na64_err err;
  assert_int_equal(na64_daq_reader_open_memory(zbuf, nz, NULL, NULL, &r, &err), NA64_OK);
  na64_daq_event ev;
  for (uint32_t i = 0; i < NEV; ++i) {
    assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
    fo[i] = ev.frame_offset;
  }
  na64_daq_reader_close(r);
  assert_int_equal(fo[0], 0);
  assert_true(fo[4] > 0 && fo[8] > fo[4]);
}

static void test_zstd_damaged_frame(void **state)
{
  (void)state;
  make_zstd();
  uint8_t *b = malloc(nz + 100);
  memcpy(b, zbuf, nz);
  b[(fo[4] + fo[8]) / 2] ^= 0x40; /* inside frame 1 (events 4..7); its checksum catches it */
  read_all(b, nz, &res);
  uint32_t want[] = {0, 1, 2, 3, 8, 9, 10, 11};
  assert_int_equal(res.n, 8);
  assert_memory_equal(res.ids, want, sizeof want);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, fo[4], fo[8] - fo[4], NA64_DAQ_BAD_FRAME);
  assert_true(res.reg[0].frame_offset == NA64_DAQ_NO_FRAME);
  assert_int_equal(res.st.frames, 2);
  assert_int_equal(res.st.bad_frames, 1);

  /* the frame magic itself damaged */
  memcpy(b, zbuf, nz);
  b[fo[8]] = 0;
  read_all(b, nz, &res);
  assert_int_equal(res.n, 8);
  expect_region(&res, 0, fo[8], nz - fo[8], NA64_DAQ_BAD_FRAME);

  /* garbage between frames */
  memcpy(b, zbuf, nz);
  size_t n = insert(b, nz, fo[4], 50, 0x99);
  read_all(b, n, &res);
  expect_ids_except(&res, -1, -1);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, fo[4], 50, NA64_DAQ_BAD_FRAME);
  free(b);
  free(zbuf);
}

static void test_zstd_truncated(void **state)
{
  (void)state;
  make_zstd();
  read_all(zbuf, fo[8] + 10, &res);
  uint32_t want[] = {0, 1, 2, 3, 4, 5, 6, 7};
  assert_int_equal(res.n, 8);
  assert_memory_equal(res.ids, want, sizeof want);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, fo[8], 10, NA64_DAQ_BAD_FRAME);
  free(zbuf);
}

/* A zstd frame built by hand (RFC 8878 §3.1.1: raw blocks, no content size, no checksum) around a
 * plain stream with garbage in it: the event-level region is reported relative to the frame. */
static void test_hand_made_frame_with_garbage(void **state)
{
  (void)state;
  uint8_t *plain = copy_base();
  size_t np = insert(plain, nbase, off[3], 13, 0x42);
  assert_true(np < 128 * 1024);
  uint8_t *f = malloc(np + 64);
  size_t k = 0;
  put32(f, 0xFD2FB528u);
  k = 4;
  f[k++] = 0x00;      /* Frame_Header_Descriptor: no FCS, not single segment, no checksum, no dict */
  f[k++] = 7u << 3;   /* Window_Descriptor: exponent 7 -> 2^17 = 128 KiB window */
  /* blocks of at most 128 KiB, here 4000 bytes each */
  for (size_t done = 0; done < np;) {
    size_t bs = np - done < 4000 ? np - done : 4000;
    uint32_t last = done + bs == np;
    uint32_t bh = last | (0u << 1) | ((uint32_t)bs << 3); /* raw block */
    f[k++] = (uint8_t)bh;
    f[k++] = (uint8_t)(bh >> 8);
    f[k++] = (uint8_t)(bh >> 16);
    memcpy(f + k, plain + done, bs);
    k += bs;
    done += bs;
  }
  read_all(f, k, &res);
  expect_ids_except(&res, -1, -1);
  assert_int_equal(res.nreg, 1);
  expect_region(&res, 0, off[3], 13, NA64_DAQ_BAD_MAGIC);
  assert_int_equal(res.reg[0].frame_offset, 0);
  assert_int_equal(res.st.bytes_decompressed, np);
  assert_int_equal(res.st.frames, 1);
  free(f);
  free(plain);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clean),
      cmocka_unit_test(test_garbage_between_events),
      cmocka_unit_test(test_garbage_with_fake_magic),
      cmocka_unit_test(test_truncated_last_event),
      cmocka_unit_test(test_truncated_inner_event),
      cmocka_unit_test(test_wrong_magic),
      cmocka_unit_test(test_size_too_large),
      cmocka_unit_test(test_size_too_small),
      cmocka_unit_test(test_bad_equipment_size),
      cmocka_unit_test(test_bad_header),
      cmocka_unit_test(test_combined),
      cmocka_unit_test(test_swapped_damaged),
      cmocka_unit_test(test_pure_garbage),
      cmocka_unit_test(test_region_cap),
      cmocka_unit_test(test_zstd_damaged_frame),
      cmocka_unit_test(test_zstd_truncated),
      cmocka_unit_test(test_hand_made_frame_with_garbage),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
