/* DATE files as event builders write them: GDC super events of LDC sub-events, both equipmentSize
 * conventions (DATE event.h; ALICE AliRawReaderDate::GetEquipmentSize: eventVersion <= 0x00030001
 * counts the payload only, later versions the 28-byte header too), header extensions, the
 * truncated/error attributes (bits 94, 95), per-event recovery, and streamed input (FIFO, pipes of
 * zeros, zstd frames larger than the reader's window) with bounded memory.
 * Expected values come from the layout rules of event.h, not from our own output. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daq_gen.h"
#include "na64/cond.h"

#define SEED 20260707u
#define NEV 60

static uint32_t rd(const uint8_t *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static void wr(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* F1 on LDC 2, SADC on LDC 3, APV on LDC 1 (the grouping of sql/setups, by source id). */
static const na64_daq_ldc_entry MAP[] = {{GEN_F1_SOURCE, 2}, {GEN_SADC_SOURCE, 3}, {GEN_APV_SOURCE, 1}};

static void *super_run(size_t *n, int compress)
{
  na64_daq_writer_options o = {.ldc_map = MAP, .nldc_map = 3, .compress = compress, .frame_events = 7};
  void *b = gen_run_ex(SEED, NEV, &o, n);
  assert_non_null(b);
  return b;
}

typedef struct seen {
  uint32_t ids[4096];
  size_t n, nreg;
  na64_daq_region reg[64];
  na64_daq_reader_stats st;
} seen;

static void read_with(na64_daq_reader *r, seen *s)
{
  memset(s, 0, sizeof *s);
  na64_daq_event ev;
  na64_err err;
  int st;
  while ((st = na64_daq_reader_next_event(r, &ev, &err)) == NA64_OK) {
    assert_true(s->n < 4096);
    s->ids[s->n++] = ev.header.id[0];
  }
  assert_int_equal(st, NA64_EEOF);
  const na64_daq_region *g = na64_daq_reader_regions(r, &s->nreg);
  assert_true(s->nreg <= 64);
  if (s->nreg) memcpy(s->reg, g, s->nreg * sizeof *g);
  na64_daq_reader_get_stats(r, &s->st);
}

static void read_mem(const void *b, size_t n, seen *s)
{
  na64_daq_reader *r;
  na64_err err;
  assert_int_equal(na64_daq_reader_open_memory(b, n, "super", NULL, &r, &err), NA64_OK);
  read_with(r, s);
  na64_daq_reader_close(r);
}

/* Byte layout of a super event: GDC header with SUPER_EVENT (bit 4 of eventTypeAttribute[2]) and
 * eventLdcId = VOID_ID, then one sub-event per LDC in ascending LDC id, each a complete header and
 * its blocks, equipmentSize including the 28-byte header (version 3.14). */
static void test_super_layout(void **state)
{
  (void)state;
  size_t n;
  uint8_t *b = super_run(&n, 0);
  /* event 2 is a physics event (gen_event_make): walk it by hand */
  size_t off = 0;
  for (int i = 0; i < 2; ++i) off += rd(b + off);
  gen_event g;
  gen_event_make(&g, SEED, 2, NEV);
  assert_int_equal(g.h.type, NA64_DAQ_PHYSICS_EVENT);
  const uint8_t *e = b + off;
  uint32_t size = rd(e);
  assert_int_equal(rd(e + 4), NA64_DAQ_MAGIC);
  assert_int_equal(rd(e + 12), 0x0003000Eu);
  assert_true(rd(e + 60) & (1u << 4));
  assert_int_equal(rd(e + 64), 0xFFFFFFFFu);
  size_t p = rd(e + 8);
  uint32_t want_ldc[3] = {1, 2, 3}, want_src[3] = {GEN_APV_SOURCE, GEN_F1_SOURCE, GEN_SADC_SOURCE};
  for (int k = 0; k < 3; ++k) {
    const uint8_t *s = e + p;
    assert_int_equal(rd(s + 4), NA64_DAQ_MAGIC);
    assert_int_equal(rd(s + 64), want_ldc[k]);
    assert_int_equal(rd(s + 60) & (1u << 4), 0);
    assert_int_equal(rd(s + 24), 2); /* eventId copied */
    uint32_t ss = rd(s), eq = rd(s + 8);
    assert_int_equal(rd(s + eq + 8), want_src[k]);     /* equipmentId */
    assert_int_equal(rd(s + eq), ss - eq);             /* one block: equipmentSize = rest of sub-event */
    p += ss;
  }
  assert_int_equal(p, size);
  /* the reader walks the same structure */
  na64_daq_reader *r;
  na64_err err;
  assert_int_equal(na64_daq_reader_open_memory(b, n, "super", NULL, &r, &err), NA64_OK);
  na64_daq_event ev;
  for (int i = 0; i < 3; ++i) assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
  assert_int_equal(ev.nsubevents, 3);
  assert_true(na64_daq_event_is_super(&ev));
  size_t cur = 0, k = 0;
  na64_daq_equipment q;
  while (na64_daq_event_next_equipment(&ev, &cur, &q)) {
    assert_true(k < 3);
    assert_int_equal(q.ldc_id, want_ldc[k]);
    assert_int_equal(q.header.id, want_src[k]);
    assert_int_equal(q.subevent, k);
    ++k;
  }
  assert_int_equal(k, 3);
  {
    na64_daq_f1_hit_list l;
    na64_daq_f1_hit_list_init(&l);
    assert_int_equal(na64_daq_f1_decode_event(&ev, &l, NULL, &err), NA64_OK);
    assert_int_equal(l.n, g.nf1); /* the decoders see the blocks whatever the nesting */
    na64_daq_f1_hit_list_release(&l);
  }
  na64_daq_reader_close(r);
  seen s;
  read_mem(b, n, &s);
  assert_int_equal(s.n, NEV);
  assert_int_equal(s.nreg, 0);
  assert_int_equal(s.st.super_events, NEV);
  /* physics events: 3 LDCs; the others (no blocks): one empty sub-event per LDC of the map */
  assert_int_equal(s.st.ldc_subevents, 3 * NEV);
  free(b);
}

/* Version 3.1 and earlier: equipmentSize counts the payload only; the writer and reader follow the
 * version of each event, so one file can hold both conventions. */
static void test_payload_only_convention(void **state)
{
  (void)state;
  na64_daq_writer_options o = {.plain_events = 1};
  na64_daq_writer *w;
  na64_err err;
  assert_int_equal(na64_daq_writer_open_memory(&o, &w, &err), NA64_OK);
  uint32_t words[3] = {1, 2, 3};
  na64_daq_equipment_header eh = {.type = NA64_DAQ_EQ_RAW, .id = 9};
  for (int v = 0; v < 2; ++v) {
    na64_daq_header h = {.type = NA64_DAQ_PHYSICS_EVENT, .version = v ? 0x00030001u : 0x00030008u};
    h.id[0] = (uint32_t)v;
    assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), NA64_OK);
    assert_int_equal(na64_daq_writer_add_equipment(w, &eh, words, 3, &err), NA64_OK);
    assert_int_equal(na64_daq_writer_add_equipment(w, &eh, words, 1, &err), NA64_OK);
    assert_int_equal(na64_daq_writer_end_event(w, &err), NA64_OK);
  }
  void *buf;
  size_t n;
  assert_int_equal(na64_daq_writer_close_memory(w, &buf, &n, &err), NA64_OK);
  uint8_t *b = buf;
  assert_int_equal(n, 2 * (80 + 2 * 28 + 16));
  assert_int_equal(rd(b + 80), 28 + 12); /* 3.8: header included */
  assert_int_equal(rd(b + 152 + 80), 12); /* 3.1: payload only */
  seen s;
  read_mem(b, n, &s);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.nreg, 0);
  /* the same bytes relabelled as the other version no longer tile: exactly that event is bad */
  wr(b + 152 + 12, 0x00030002u);
  read_mem(b, n, &s);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.nreg, 1);
  assert_int_equal(s.reg[0].offset, 152);
  assert_int_equal(s.reg[0].length, 152);
  assert_int_equal(s.reg[0].reason, NA64_DAQ_BAD_EQUIPMENT);
  free(buf);
}

/* Super events built in place (blocks in ascending LDC order, as the simulation writes them) and
 * the writer closed inside an unfinished event: the complete events before it are kept, exactly the
 * unfinished one is dropped, and close says so (NA64_EINVAL). Also with the blocks out of LDC order
 * (the staging path) for the event before the unfinished one. */
static void test_close_inside_in_place_event(void **state)
{
  (void)state;
  for (int order = 0; order < 2; ++order) {
    na64_daq_writer_options o = {.ldc_map = MAP, .nldc_map = 3};
    na64_daq_writer *w;
    na64_err err;
    assert_int_equal(na64_daq_writer_open_memory(&o, &w, &err), NA64_OK);
    uint32_t words[4] = {1, 2, 3, 4};
    /* LDC 1, 2, 3 in that order (in place); reversed for the second event when order = 1 */
    na64_daq_equipment_header e1 = {.type = NA64_DAQ_EQ_RAW, .id = GEN_APV_SOURCE},
                              e2 = {.type = NA64_DAQ_EQ_RAW, .id = GEN_F1_SOURCE},
                              e3 = {.type = NA64_DAQ_EQ_RAW, .id = GEN_SADC_SOURCE};
    for (uint32_t ev = 0; ev < 3; ++ev) {
      na64_daq_header h = {.type = NA64_DAQ_PHYSICS_EVENT};
      h.id[0] = ev;
      assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), NA64_OK);
      const na64_daq_equipment_header *seq[3] = {&e1, &e2, &e3};
      if (order && ev == 1) {
        seq[0] = &e3;
        seq[2] = &e1;
      }
      for (int k = 0; k < 3; ++k) assert_int_equal(na64_daq_writer_add_equipment(w, seq[k], words, 4, &err), NA64_OK);
      if (ev < 2) assert_int_equal(na64_daq_writer_end_event(w, &err), NA64_OK);
    }
    void *buf = NULL;
    size_t n = 0;
    assert_int_equal(na64_daq_writer_close_memory(w, &buf, &n, &err), NA64_EINVAL);
    assert_non_null(strstr(err.msg, "unfinished event"));
    assert_non_null(buf);
    seen s;
    read_mem(buf, n, &s);
    assert_int_equal(s.n, 2); /* events 0 and 1, nothing of event 2 */
    assert_int_equal(s.ids[0], 0);
    assert_int_equal(s.ids[1], 1);
    assert_int_equal(s.nreg, 0);
    assert_int_equal(s.st.super_events, 2);
    free(buf);
  }
}

/* Header extensions: eventHeadSize > 80 in the GDC header and in a sub-event; the blocks start after. */
static void test_header_extension(void **state)
{
  (void)state;
  uint32_t ev[64] = {0};
  /* GDC header of 88 bytes, one sub-event with a 84-byte header and one 3.14 block of 2 words */
  uint32_t sub = 22, blk = sub + 21;
  ev[2] = 88;
  ev[3] = NA64_DAQ_VERSION;
  ev[4] = NA64_DAQ_PHYSICS_EVENT;
  ev[15] = NA64_DAQ_ATTR_SUPER_EVENT;
  ev[16] = NA64_DAQ_VOID_ID;
  ev[20] = ev[21] = 0xEEEEEEEEu; /* extension words */
  ev[sub + 1] = NA64_DAQ_MAGIC;
  ev[sub + 2] = 84;
  ev[sub + 3] = NA64_DAQ_VERSION;
  ev[sub + 4] = NA64_DAQ_PHYSICS_EVENT;
  ev[sub + 16] = 5;
  ev[sub + 20] = 0xDDDDDDDDu;
  ev[blk] = 28 + 8;
  ev[blk + 2] = 77;
  ev[blk + 6] = 4;
  ev[blk + 7] = 0x11;
  ev[blk + 8] = 0x22;
  uint32_t total = (blk + 9) * 4;
  ev[sub] = total - sub * 4;
  ev[0] = total;
  ev[1] = NA64_DAQ_MAGIC;
  seen s;
  read_mem(ev, total, &s);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.nreg, 0);
  na64_daq_reader *r;
  na64_err err;
  assert_int_equal(na64_daq_reader_open_memory(ev, total, NULL, NULL, &r, &err), NA64_OK);
  na64_daq_event e;
  assert_int_equal(na64_daq_reader_next_event(r, &e, &err), NA64_OK);
  size_t cur = 0;
  na64_daq_equipment q;
  assert_int_equal(na64_daq_event_next_equipment(&e, &cur, &q), 1);
  assert_int_equal(q.header.id, 77);
  assert_int_equal(q.ldc_id, 5);
  assert_int_equal(q.nwords, 2);
  assert_int_equal(q.words[1], 0x22);
  assert_int_equal(na64_daq_event_next_equipment(&e, &cur, &q), 0);
  na64_daq_reader_close(r);
}

/* Offsets of the events of a buffer (it must be clean). */
static size_t offsets(const uint8_t *b, size_t n, size_t *off)
{
  size_t k = 0;
  for (size_t p = 0; p < n; p += rd(b + p)) off[k++] = p;
  return k;
}

/* Per-event recovery in super events: a lying sub-event size, a lying equipment size and the
 * truncated/error attributes each cost exactly their event (outer header sane, magic right after). */
static void test_super_damage(void **state)
{
  (void)state;
  size_t n;
  uint8_t *b = super_run(&n, 0);
  size_t off[NEV];
  assert_int_equal(offsets(b, n, off), NEV);
  /* event 3: first sub-event claims 4 more bytes; event 5: an equipmentSize lies; event 7: a sub-event
   * has ATTR_EVENT_DATA_TRUNCATED; event 12: the GDC header has ATTR_EVENT_ERROR */
  uint8_t *e = b + off[3];
  wr(e + 80, rd(e) + 4); /* more than the super event holds */
  e = b + off[5];
  wr(e + 80 + 80, rd(e + 80 + 80) + 8);
  e = b + off[7];
  wr(e + 80 + rd(e + 80) + 60, rd(e + 80 + rd(e + 80) + 60) | (1u << 30));
  e = b + off[12];
  wr(e + 60, rd(e + 60) | (1u << 31));
  seen s;
  read_mem(b, n, &s);
  assert_int_equal(s.n, NEV - 4);
  assert_int_equal(s.nreg, 4);
  const int bad[4] = {3, 5, 7, 12};
  const int why[4] = {NA64_DAQ_BAD_SUBEVENT, NA64_DAQ_BAD_EQUIPMENT, NA64_DAQ_FLAGGED, NA64_DAQ_FLAGGED};
  for (int i = 0; i < 4; ++i) {
    assert_int_equal(s.reg[i].offset, off[bad[i]]);
    assert_int_equal(s.reg[i].length, rd(b + off[bad[i]]));
    if (s.reg[i].reason != why[i]) fail_msg("region %d: %s (%s)", i, na64_daq_reason_name(s.reg[i].reason), s.reg[i].detail);
  }
  for (size_t k = 0, i = 0; i < NEV; ++i) {
    if (i == 3 || i == 5 || i == 7 || i == 12) continue;
    assert_int_equal(s.ids[k++], i);
  }
  free(b);
}

/* The LDC map from the conditions database records: one LDC per source, conflicts refused. */
static void test_ldc_map_from_cond(void **state)
{
  (void)state;
  na64_cond_channel ch[4];
  memset(ch, 0, sizeof ch);
  ch[0].src_id = 600, ch[0].ldc_id = 3;
  ch[1].src_id = 400, ch[1].ldc_id = 2;
  ch[2].src_id = 600, ch[2].ldc_id = 3;
  ch[3].src_id = 500, ch[3].ldc_id = -1; /* not recorded: skipped */
  na64_cond_records rec;
  memset(&rec, 0, sizeof rec);
  rec.channels = ch;
  rec.nchannels = 4;
  na64_daq_ldc_entry *m;
  size_t nm;
  na64_err err;
  assert_int_equal(na64_daq_ldc_map_from_cond(&rec, &m, &nm, &err), NA64_OK);
  assert_int_equal(nm, 2);
  assert_int_equal(m[0].source_id, 400);
  assert_int_equal(m[0].ldc_id, 2);
  assert_int_equal(m[1].source_id, 600);
  assert_int_equal(m[1].ldc_id, 3);
  free(m);
  ch[2].ldc_id = 4;
  assert_int_equal(na64_daq_ldc_map_from_cond(&rec, &m, &nm, &err), NA64_EFORMAT);
}

/* The default conditions database (built from sql/setups) groups the sources of every setup as
 * sql/setups says: APV trackers on LDC 1, straw F1 on LDC 2, sampling ADCs on LDC 3. */
static void test_ldc_map_of_default_db(void **state)
{
  (void)state;
  static const int runs[3] = {1500, 2900, 4250}; /* invisible 2016, visible 2017, visible 2018 */
  for (int k = 0; k < 3; ++k) {
    na64_cond *db;
    na64_err err;
    if (na64_cond_open(NA64_BINARY_DIR "/conditions.db", NA64_COND_READONLY, &db, &err)) fail_msg("%s", err.msg);
    na64_cond_records *rec;
    if (na64_cond_fetch(db, runs[k], &rec, &err)) fail_msg("%s", err.msg);
    na64_daq_ldc_entry *m;
    size_t nm;
    assert_int_equal(na64_daq_ldc_map_from_cond(rec, &m, &nm, &err), NA64_OK);
    assert_true(nm >= 5);
    for (size_t i = 0; i < nm; ++i) {
      uint32_t src = m[i].source_id, want = src / 100 == 5 ? 1 : src / 100 == 4 ? 2 : src / 100 == 6 ? 3 : 0;
      if (m[i].ldc_id != want) fail_msg("run %d: source %u on LDC %u, expected %u", runs[k], src, m[i].ldc_id, want);
    }
    assert_int_equal(m[0].source_id, 400);
    free(m);
    na64_cond_records_free(rec);
    na64_cond_close(db);
  }
}

/* ---- streamed input ---- */

/* Files are read through the window too: seeking (for workers sharing a file) uses lseek. */
static void test_file_seek(void **state)
{
  (void)state;
  for (int z = 0; z < 2; ++z) {
    size_t n;
    uint8_t *b = super_run(&n, z);
    char path[1200];
    gen_tmp_path(path, sizeof path, z ? "seek.dat.zst" : "seek.dat");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
    na64_daq_reader_options o = {.stream_window = 1024, .max_event_size = 8192, .max_frame_size = 4096};
    na64_daq_reader *r;
    na64_err err;
    na64_daq_event ev;
    uint64_t off[NEV];
    assert_int_equal(na64_daq_reader_open(path, &o, &r, &err), NA64_OK);
    for (uint32_t i = 0; i < NEV; ++i) {
      assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
      assert_int_equal(ev.header.id[0], i);
      off[i] = z ? ev.frame_offset : ev.offset;
    }
    assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_EEOF);
    /* plain: the first event at or after the offset; zstd (7 events per frame): the first frame */
    assert_int_equal(na64_daq_reader_seek(r, off[20] + 1, &err), NA64_OK);
    assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
    if (ev.header.id[0] != 21) fail_msg("z=%d: event %u after the seek", z, ev.header.id[0]);
    assert_int_equal(na64_daq_reader_seek(r, 0, &err), NA64_OK);
    assert_int_equal(na64_daq_reader_next_event(r, &ev, &err), NA64_OK);
    assert_int_equal(ev.header.id[0], 0);
    assert_int_equal(na64_daq_reader_seek(r, n, &err), NA64_EEOF);
    na64_daq_reader_stats st;
    na64_daq_reader_get_stats(r, &st);
    assert_int_equal(st.regions, 0);
    assert_int_equal(st.streamed, 1);
    na64_daq_reader_close(r);
    remove(path);
    free(b);
  }
}

/* Write the given parts into the write end of a FIFO/pipe from a child process. */
static pid_t feed(const char *fifo, int wfd, const void *a, size_t na, size_t zeros, const void *b, size_t nb)
{
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = fifo ? open(fifo, O_WRONLY) : wfd;
    if (fd < 0) _exit(2);
    static uint8_t z[65536];
    const uint8_t *pa = a;
    size_t done = 0;
    while (done < na) {
      ssize_t k = write(fd, pa + done, na - done);
      if (k <= 0) _exit(3);
      done += (size_t)k;
    }
    while (zeros) {
      size_t c = zeros < sizeof z ? zeros : sizeof z;
      ssize_t k = write(fd, z, c);
      if (k <= 0) _exit(3);
      zeros -= (size_t)k;
    }
    const uint8_t *pb = b;
    done = 0;
    while (done < nb) {
      ssize_t k = write(fd, pb + done, nb - done);
      if (k <= 0) _exit(3);
      done += (size_t)k;
    }
    close(fd);
    _exit(0);
  }
  return pid;
}

static void wait_ok(pid_t pid)
{
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A FIFO carrying a damaged super-event run: the same events and regions as the reading from memory, with
 * a window far smaller than the data. */
static void test_fifo(void **state)
{
  (void)state;
  size_t n;
  uint8_t *b = super_run(&n, 0);
  size_t off[NEV];
  assert_int_equal(offsets(b, n, off), NEV);
  wr(b + off[10] + 4, 0x12345678u); /* wrong magic */
  uint8_t *e = b + off[20];
  wr(e + 80 + 80, rd(e + 80 + 80) + 4); /* lying equipment size */
  seen mem, fif;
  read_mem(b, n - 50, &mem); /* truncated last event too */
  char path[1200];
  gen_tmp_path(path, sizeof path, "super.fifo");
  unlink(path);
  assert_int_equal(mkfifo(path, 0600), 0);
  pid_t pid = feed(path, -1, b, n - 50, 0, NULL, 0);
  na64_daq_reader_options o = {.stream_window = 4096, .max_event_size = 8192};
  na64_daq_reader *r;
  na64_err err;
  assert_int_equal(na64_daq_reader_open(path, &o, &r, &err), NA64_OK);
  read_with(r, &fif);
  na64_daq_reader_close(r);
  wait_ok(pid);
  unlink(path);
  assert_int_equal(fif.st.streamed, 1);
  assert_int_equal(fif.n, NEV - 3);
  assert_int_equal(fif.n, mem.n);
  assert_memory_equal(fif.ids, mem.ids, mem.n * sizeof mem.ids[0]);
  assert_int_equal(fif.nreg, 3);
  assert_int_equal(fif.nreg, mem.nreg);
  for (size_t i = 0; i < mem.nreg; ++i) {
    assert_int_equal(fif.reg[i].offset, mem.reg[i].offset);
    assert_int_equal(fif.reg[i].length, mem.reg[i].length);
    assert_int_equal(fif.reg[i].reason, mem.reg[i].reason);
  }
  assert_int_equal(fif.reg[0].offset, off[10]);
  assert_int_equal(fif.reg[1].offset, off[20]);
  assert_int_equal(fif.reg[1].length, rd(b + off[20]));
  assert_int_equal(fif.reg[2].offset, off[NEV - 1]);
  assert_int_equal(fif.st.bytes_read, n - 50);
  /* memory bound: window + two events, whatever the length of the stream (here 8x the window) */
  assert_true(n > 8 * 4096);
  assert_true(fif.st.buffer_peak <= 4 * 8192 + 2 * 4096);
  free(b);
}

/* A pipe of 8 MiB of zeros (as `na64 dump /dev/zero` reads) followed by a run: one bad region of
 * exactly the zeros, then every event, in a bounded buffer. */
static void test_pipe_of_zeros(void **state)
{
  (void)state;
  size_t n;
  uint8_t *b = super_run(&n, 0);
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  const size_t zeros = (size_t)8 << 20;
  pid_t pid = feed(NULL, fds[1], NULL, 0, zeros, b, n);
  close(fds[1]);
  char path[64];
  snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
  na64_daq_reader_options o = {.stream_window = 65536, .max_event_size = 16384};
  na64_daq_reader *r;
  na64_err err;
  assert_int_equal(na64_daq_reader_open(path, &o, &r, &err), NA64_OK);
  seen s;
  read_with(r, &s);
  na64_daq_reader_close(r);
  close(fds[0]);
  wait_ok(pid);
  assert_int_equal(s.n, NEV);
  assert_int_equal(s.nreg, 1);
  assert_int_equal(s.reg[0].offset, 0);
  assert_int_equal(s.reg[0].length, zeros);
  assert_int_equal(s.reg[0].reason, NA64_DAQ_BAD_MAGIC);
  assert_int_equal(s.st.bytes_read, zeros + n);
  assert_true(s.st.buffer_peak <= 2 * 65536 + 4 * 16384);
  free(b);
}

/* One zstd frame decompressing to far more than the reader's window: streamed, every event delivered,
 * memory bounded by the window (the 1 GiB case of issue 9, scaled down through max_frame_size). */
static void test_zstd_frame_larger_than_window(void **state)
{
  (void)state;
  na64_daq_writer_options o = {.ldc_map = MAP, .nldc_map = 3, .compress = 1, .frame_bytes = (size_t)1 << 30};
  size_t nz, np;
  void *z = gen_run_ex(SEED, NEV, &o, &nz);
  o.compress = 0;
  void *plain = gen_run_ex(SEED, NEV, &o, &np);
  assert_non_null(z);
  assert_non_null(plain);
  assert_int_equal(rd(z), 0xFD2FB528u); /* one zstd frame (RFC 8878 magic) */
  assert_true(np > 8 * 4096);
  for (int via_fifo = 0; via_fifo < 2; ++via_fifo) {
    na64_daq_reader_options ro = {.max_frame_size = 4096, .max_event_size = 8192, .stream_window = 4096};
    na64_daq_reader *r;
    na64_err err;
    seen s;
    char path[1200];
    pid_t pid = 0;
    if (via_fifo) {
      gen_tmp_path(path, sizeof path, "frame.fifo");
      unlink(path);
      assert_int_equal(mkfifo(path, 0600), 0);
      pid = feed(path, -1, z, nz, 0, NULL, 0);
      assert_int_equal(na64_daq_reader_open(path, &ro, &r, &err), NA64_OK);
    } else {
      assert_int_equal(na64_daq_reader_open_memory(z, nz, "z", &ro, &r, &err), NA64_OK);
    }
    read_with(r, &s);
    na64_daq_reader_close(r);
    if (via_fifo) {
      wait_ok(pid);
      unlink(path);
    }
    assert_int_equal(s.n, NEV);
    assert_int_equal(s.nreg, 0);
    assert_int_equal(s.st.frames, 1);
    assert_int_equal(s.st.bytes_decompressed, np);
    assert_int_equal(s.st.bytes_read, nz);
    if (s.st.buffer_peak > 4 * 8192 + 2 * 4096 + (via_fifo ? 2 * 131072 : 0))
      fail_msg("buffer peak %llu", (unsigned long long)s.st.buffer_peak);
  }
  free(z);
  free(plain);
}

int main(void)
{
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_super_layout),
      cmocka_unit_test(test_payload_only_convention),
      cmocka_unit_test(test_close_inside_in_place_event),
      cmocka_unit_test(test_header_extension),
      cmocka_unit_test(test_super_damage),
      cmocka_unit_test(test_ldc_map_from_cond),
      cmocka_unit_test(test_ldc_map_of_default_db),
      cmocka_unit_test(test_file_seek),
      cmocka_unit_test(test_fifo),
      cmocka_unit_test(test_pipe_of_zeros),
      cmocka_unit_test(test_zstd_frame_larger_than_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
