/* DATE reader: plain or zstd-framed input, in memory or read through a bounded window (files, pipes,
 * devices; zstd frames of any size); plain and super events; per-event recovery; a record of every bad
 * byte range. Format: docs/raw-format.md; zstd frame format: RFC 8878 §3.1.
 *
 * Files are read with read(2) into the window rather than memory-mapped: a mapped file that shrinks
 * while it is read (a DAQ file rotated or truncated by another process) kills the reader with SIGBUS,
 * and where page faults are expensive (virtual machines) filling a reused window is also 2-3 times
 * faster (docs/performance.md).
 *
 * The scanner works on a "segment" (the plain input, or the decompressed content of one zstd frame)
 * of which a window [wofs, wofs + wn) is in memory; weof says whether the window reaches the end of
 * the segment. When the scanner needs bytes beyond the window it returns NEED and the caller slides
 * the window (dropping bytes before keep_from()) and refills it from the file descriptor or the zstd
 * stream. Input in memory is one window holding the whole segment. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "daq/daq_internal.h"

#define DEFAULT_MAX_EVENT ((size_t)64 << 20)
#define DEFAULT_MAX_FRAME ((size_t)64 << 20)
#define DEFAULT_WINDOW ((size_t)1 << 20)
#define DEFAULT_MAX_REGIONS 10000
#define CIN_CHUNK ((size_t)1 << 17) /* compressed bytes read at a time from a streamed input */
/* RFC 8878 §3.1.2: skippable frames have magic 0x184D2A5? (little-endian). */
#define ZSTD_SKIPPABLE_MASK 0xFFFFFFF0u
#define ZSTD_SKIPPABLE_MAGIC 0x184D2A50u

enum { SEG_EVENT = 1, SEG_END = 0, SEG_NEED = 2 };

struct na64_daq_reader {
  char *name;
  na64_daq_reader_options opt;
  int compressed;
  int fd;              /* streamed input (else -1) */
  int seekable;        /* the streamed input is a regular file: seek with lseek */
  int silent;          /* after a seek: the bytes passed over are not reported */
  /* raw input window: the whole input when in memory, else a buffer refilled from fd */
  const uint8_t *in;   /* bytes of the input from file offset in_ofs */
  size_t in_n;
  uint64_t in_ofs;
  int in_eof;
  uint8_t *in_buf;     /* owned buffer when streaming */
  size_t in_cap;
  /* segment window (plain: the input window itself; compressed: decompressed frame bytes) */
  const uint8_t *w;
  size_t wn;
  uint64_t wofs;
  int weof;
  uint8_t *wbuf;       /* owned window of decompressed bytes */
  size_t wcap;
  size_t need;         /* bytes wanted from keep_from() at the last NEED */
  /* scan state in the segment */
  uint64_t pos;        /* next event position */
  int in_bad;          /* inside a bad region that started at bad_start */
  uint64_t bad_start, bad_claim, scan;
  int bad_reason;
  int bad_super;       /* the bad region starts with the header of a super event */
  int last_super;      /* the last event delivered was a super event */
  char bad_detail[160];
  uint64_t fofs;       /* NA64_DAQ_NO_FRAME, or file offset of the frame being decoded */
  /* compressed input */
  ZSTD_DCtx *dctx;
  uint64_t cpos;       /* file offset of the next compressed byte */
  int in_frame;        /* a data frame is being decoded into the window */
  int frame_done;      /* ... and has been decoded to its end */
  int cbad;            /* inside a stretch of bytes that are no frame, from cbad_start */
  uint64_t cbad_start;
  char cbad_detail[160];
  /* scratch for swapped or misaligned events */
  uint8_t *scratch;
  size_t scap;
  na64_daq_region *regions;
  size_t nreg, capreg;
  na64_daq_reader_stats st;
};

static void add_region(na64_daq_reader *r, uint64_t offset, uint64_t length, uint64_t frame_offset, int reason,
                       const char *detail)
{
  if (!length) return;
  na64_daq_region reg;
  reg.offset = offset;
  reg.length = length;
  reg.frame_offset = frame_offset;
  reg.reason = reason;
  snprintf(reg.detail, sizeof reg.detail, "%s", detail);
  r->st.regions++;
  r->st.bytes_skipped += length;
  na64_log(NA64_LOG_WARN, "%s: skipped %llu bytes at offset %llu%s: %s (%s)", r->name,
           (unsigned long long)length, (unsigned long long)offset,
           frame_offset == NA64_DAQ_NO_FRAME ? "" : " of a decompressed frame", na64_daq_reason_name(reason),
           detail);
  if (r->nreg < r->opt.max_regions) {
    if (r->nreg == r->capreg) {
      size_t nc = r->capreg ? 2 * r->capreg : 16;
      if (nc > r->opt.max_regions) nc = r->opt.max_regions;
      na64_daq_region *nr = realloc(r->regions, nc * sizeof *nr);
      if (nr) {
        r->regions = nr;
        r->capreg = nc;
      }
    }
    if (r->nreg < r->capreg) r->regions[r->nreg++] = reg;
  }
  if (r->opt.on_region) r->opt.on_region(&reg, r->opt.user);
}

static int ensure(uint8_t **buf, size_t *cap, size_t need)
{
  if (need <= *cap) return 0;
  size_t nc = *cap ? *cap : 4096;
  while (nc < need) nc = nc > SIZE_MAX / 2 ? need : 2 * nc;
  uint8_t *nb = realloc(*buf, nc);
  if (!nb) return -1;
  *buf = nb;
  *cap = nc;
  return 0;
}

static void note_buffers(na64_daq_reader *r)
{
  uint64_t used = (uint64_t)r->wcap + (r->fd >= 0 ? r->in_cap : 0);
  if (used > r->st.buffer_peak) r->st.buffer_peak = used;
}

/* ---------------------------------------------------------------------------------------------
 * Scanning a segment window
 * ------------------------------------------------------------------------------------------- */

static inline uint64_t wend(const na64_daq_reader *r) { return r->wofs + r->wn; }
static inline const uint8_t *at(const na64_daq_reader *r, uint64_t off) { return r->w + (off - r->wofs); }
static inline uint64_t avail(const na64_daq_reader *r, uint64_t off) { return wend(r) - off; }

/* Oldest segment byte the scanner still needs. */
static uint64_t keep_from(const na64_daq_reader *r) { return r->in_bad ? r->scan : r->pos; }

static int need_more(na64_daq_reader *r, uint64_t upto)
{
  uint64_t k = keep_from(r);
  r->need = (size_t)(upto > k ? upto - k : 0);
  return SEG_NEED;
}

/* Is there an event magic at the end of the event [q, q + sz)? 1 yes (or the segment ends exactly
 * there), 0 no, -1 need more data. */
static int end_ok(const na64_daq_reader *r, uint64_t q, uint32_t sz)
{
  uint64_t e = q + sz;
  if (e == wend(r) && r->weof) return 1;
  if (e + 8 > wend(r)) return r->weof ? 0 : -1; /* (at the end: fewer than 8 trailing bytes) */
  return daq_has_magic(at(r, e));
}

/* A resynchronisation candidate at q (magic there): 1 if its outer header is sane (sizes possible,
 * the event fits, and the data ends or another magic follows right after it) or, failing the last
 * condition, if the event is intact inside; 0 if not, -1 need more data. */
static int outer_sane(na64_daq_reader *r, uint64_t q, uint64_t *want)
{
  char d[160];
  uint32_t sz;
  int sw;
  uint64_t a = avail(r, q);
  int reason = na64_daq_check_outer_(at(r, q), (size_t)a, r->opt.max_event_size, &sz, &sw, d, sizeof d);
  if (reason == NA64_DAQ_TRUNCATED) { /* fewer than 80 bytes */
    *want = q + NA64_DAQ_HEADER_SIZE + 8;
    return r->weof ? 0 : -1;
  }
  if (reason) return 0;
  if (sz > a) {
    *want = q + sz + 8;
    return r->weof ? 0 : -1;
  }
  int e = end_ok(r, q, sz);
  if (e < 0) *want = q + sz + 8;
  if (e) return e;
  /* no magic right after it (garbage follows?): still an event if its inside is intact */
  uint32_t nsub;
  return na64_daq_check_inner_(at(r, q), sz, sw, &nsub, d, sizeof d) == 0;
}

static int deliver(na64_daq_reader *r, const uint8_t *p, uint32_t sz, int sw, uint32_t nsub, uint64_t off,
                   na64_daq_event *ev, na64_err *err)
{
  const uint8_t *d = p;
  if (sw || ((uintptr_t)p & 3u)) {
    if (ensure(&r->scratch, &r->scap, sz))
      return na64_err_set(err, NA64_ENOMEM, "%s: no memory for a %u-byte event", r->name, (unsigned)sz);
    if (sw) {
      /* DATE byte swapping is per 32-bit word, over headers and payload alike */
      for (size_t i = 0; i < sz; i += 4) {
        uint32_t v = daq_bswap32(daq_rd32(p + i));
        memcpy(r->scratch + i, &v, 4);
      }
    } else {
      memcpy(r->scratch, p, sz);
    }
    d = r->scratch;
  }
  memcpy(&ev->header, d, sizeof ev->header);
  ev->data = d;
  ev->size = sz;
  ev->offset = off;
  ev->frame_offset = r->fofs;
  ev->swapped = sw;
  ev->nsubevents = nsub;
  r->st.events++;
  r->st.by_type[ev->header.type < NA64_DAQ_N_EVENT_TYPES ? ev->header.type : 0]++;
  if (sw) r->st.swapped_events++;
  r->last_super = (ev->header.type_attribute[2] & NA64_DAQ_ATTR_SUPER_EVENT) != 0;
  if (r->last_super) {
    r->st.super_events++;
    r->st.ldc_subevents += nsub;
  }
  return NA64_OK;
}

/* Is the event header at q (magic checked) that of a super event? */
static int is_super_at(const na64_daq_reader *r, uint64_t q)
{
  if (avail(r, q) < 64) return 0;
  int sw = daq_rd32(at(r, q) + DAQ_OFF_MAGIC) == NA64_DAQ_MAGIC_SWAPPED;
  return (daq_get32(at(r, q) + DAQ_OFF_ATTR2, sw) & NA64_DAQ_ATTR_SUPER_EVENT) != 0;
}

/* The bad region starting at p may still begin with a readable event header (only its magic or its
 * size damaged): if eventHeadSize looks right in one byte order, take its SUPER_EVENT attribute and
 * eventSize from there. Otherwise assume the kind of the last event delivered, over the whole region. */
static void guess_bad_super(na64_daq_reader *r, uint64_t p, uint64_t *claim)
{
  r->bad_super = r->last_super;
  if (avail(r, p) < NA64_DAQ_HEADER_SIZE) return;
  const uint8_t *h = at(r, p);
  for (int sw = 0; sw < 2; ++sw) {
    uint32_t head = daq_get32(h + DAQ_OFF_HEAD, sw), sz = daq_get32(h + DAQ_OFF_SIZE, sw);
    if (head < NA64_DAQ_HEADER_SIZE || head > 4096 || head % 4 || sz < head || sz > r->opt.max_event_size) continue;
    r->bad_super = (daq_get32(h + DAQ_OFF_ATTR2, sw) & NA64_DAQ_ATTR_SUPER_EVENT) != 0;
    if (!*claim) *claim = sz;
    return;
  }
}

static void open_bad(na64_daq_reader *r, uint64_t p, uint64_t claim, int reason, const char *detail)
{
  guess_bad_super(r, p, &claim);
  r->in_bad = 1;
  r->bad_start = p;
  r->bad_claim = claim;
  r->bad_reason = reason;
  snprintf(r->bad_detail, sizeof r->bad_detail, "%s", detail);
  r->scan = p + 1;
}

static void close_bad(na64_daq_reader *r, uint64_t q)
{
  int reason = r->bad_reason;
  if ((reason == NA64_DAQ_TRUNCATED || reason == NA64_DAQ_BAD_EQUIPMENT || reason == NA64_DAQ_BAD_SUBEVENT ||
       reason == NA64_DAQ_FLAGGED) &&
      r->bad_claim > 0 && q < wend(r) && q < r->bad_start + r->bad_claim) {
    /* the claimed extent swallows the next event: the size field is wrong or the event was cut */
    size_t l = strlen(r->bad_detail);
    snprintf(r->bad_detail + l, sizeof r->bad_detail - l, "; an event starts %llu bytes in",
             (unsigned long long)(q - r->bad_start));
    reason = NA64_DAQ_BAD_SIZE;
  }
  if (!r->silent) add_region(r, r->bad_start, q - r->bad_start, r->fofs, reason, r->bad_detail);
  r->silent = 0;
  r->in_bad = 0;
  r->pos = q;
}

/* Inside a bad region: look for the next magic with a sane outer header. */
static int resync(na64_daq_reader *r)
{
  for (;;) {
    uint64_t end = wend(r);
    size_t qi = r->scan < end ? na64_daq_find_magic_(r->w, r->wn, (size_t)(r->scan - r->wofs)) : r->wn;
    if (qi >= r->wn) {
      if (r->weof) {
        close_bad(r, end);
        return SEG_END;
      }
      r->scan = end > r->scan + 7 ? end - 7 : r->scan; /* a magic may straddle the window's end */
      return need_more(r, end + 8);
    }
    uint64_t q = r->wofs + qi, want = 0;
    r->scan = q;
    int s = outer_sane(r, q, &want);
    if (s < 0) return need_more(r, want);
    /* inside the claimed extent of a damaged super event, the complete events found are its own LDC
     * sub-events: only another super event starts a new event there */
    if (s > 0 && r->bad_super && (!r->bad_claim || q < r->bad_start + r->bad_claim) && !is_super_at(r, q)) s = 0;
    if (s > 0) {
      close_bad(r, q);
      return SEG_EVENT;
    }
    r->scan = q + 1;
  }
}

/* An intact event starting inside (p, p + sz)? Returns its position, 0 if none, or sets *need. */
static uint64_t intact_inside(na64_daq_reader *r, uint64_t p, uint32_t sz, uint64_t *want)
{
  char d[160];
  *want = 0;
  for (uint64_t q = p + 1;;) {
    size_t qi = na64_daq_find_magic_(r->w, (size_t)(p + sz - r->wofs), (size_t)(q - r->wofs));
    if (r->wofs + qi >= p + sz) return 0;
    q = r->wofs + qi;
    uint32_t s2, nsub;
    int sw2;
    int reason = na64_daq_check_outer_(at(r, q), (size_t)avail(r, q), r->opt.max_event_size, &s2, &sw2, d, sizeof d);
    if (!r->weof && (reason == NA64_DAQ_TRUNCATED || (!reason && s2 > avail(r, q)))) {
      *want = q + (reason ? NA64_DAQ_HEADER_SIZE : s2) + 8;
      return 0;
    }
    if (!reason && s2 <= avail(r, q) && (!is_super_at(r, p) || is_super_at(r, q)) && /* not a sub-event */
        na64_daq_check_inner_(at(r, q), s2, sw2, &nsub, d, sizeof d) == 0)
      return q;
    ++q;
  }
}

/* The next intact event of the segment from r->pos on; bad ranges met on the way become regions.
 * Returns SEG_EVENT with *ev filled, SEG_END, SEG_NEED (r->need set) or a negative status. */
static int segment_next(na64_daq_reader *r, na64_daq_event *ev, na64_err *err)
{
  char detail[160];
  for (;;) {
    if (r->in_bad) {
      int s = resync(r);
      if (s != SEG_EVENT) return s;
    }
    uint64_t p = r->pos, a = avail(r, p);
    if (!a && r->weof) return SEG_END;
    uint32_t sz, nsub;
    int sw;
    int reason = na64_daq_check_outer_(at(r, p), (size_t)a, r->opt.max_event_size, &sz, &sw, detail, sizeof detail);
    if ((reason == NA64_DAQ_TRUNCATED || (reason == NA64_DAQ_BAD_MAGIC && a < 8)) && !r->weof)
      return need_more(r, p + NA64_DAQ_HEADER_SIZE + 8);
    if (!reason && sz > a) {
      if (!r->weof) return need_more(r, p + sz + 8);
      snprintf(detail, sizeof detail, "eventSize %u but only %llu bytes left", (unsigned)sz, (unsigned long long)a);
      reason = NA64_DAQ_TRUNCATED;
    }
    if (reason) { /* the outer header is damaged: scan byte by byte for the next magic */
      open_bad(r, p, sz, reason, detail);
      continue;
    }
    int e = end_ok(r, p, sz);
    if (e < 0) return need_more(r, p + sz + 8);
    if (e && p + sz + 8 <= wend(r)) {
      /* Checking an event jumps from header to header, each a likely cache miss: start loading the
       * event after the next one now, while this one is checked and used. */
      const uint8_t *nx = at(r, p + sz);
      uint64_t e2 = p + sz + daq_get32(nx, daq_rd32(nx + DAQ_OFF_MAGIC) == NA64_DAQ_MAGIC_SWAPPED);
      if (e2 < wend(r)) {
        uint64_t lim = wend(r) - e2 < 4096 ? wend(r) - e2 : 4096;
        for (uint64_t k = 0; k < lim; k += 64) __builtin_prefetch(at(r, e2 + k));
      }
    }
    reason = na64_daq_check_inner_(at(r, p), sz, sw, &nsub, detail, sizeof detail);
    if (reason) {
      if (e) { /* outer header sane: exactly this event is bad, the next one starts right after it */
        add_region(r, p, sz, r->fofs, reason, detail);
        r->pos = p + sz;
      } else {
        open_bad(r, p, sz, reason, detail);
      }
      continue;
    }
    if (!e) {
      /* An event cut short still tiles if the cut is in its last block: it then swallows the head of
       * its successor. So if no magic follows it, look for an intact event inside. */
      uint64_t want;
      uint64_t q = intact_inside(r, p, sz, &want);
      if (want) return need_more(r, want);
      if (q) {
        snprintf(detail, sizeof detail, "eventSize %u, but an intact event starts %llu bytes in (event cut short)",
                 (unsigned)sz, (unsigned long long)(q - p));
        add_region(r, p, q - p, r->fofs, NA64_DAQ_BAD_SIZE, detail);
        r->pos = q;
        continue;
      }
    }
    r->pos = p + sz;
    int st = deliver(r, at(r, p), sz, sw, nsub, p, ev, err);
    return st == NA64_OK ? SEG_EVENT : st;
  }
}

/* ---------------------------------------------------------------------------------------------
 * Streamed input: the raw input window
 * ------------------------------------------------------------------------------------------- */

/* Make the input window hold at least `need` bytes from file offset `from` (fewer at the end of the
 * input), dropping the bytes before `from`. Returns NA64_OK or an error. */
static int input_fill(na64_daq_reader *r, uint64_t from, size_t need, na64_err *err)
{
  if (r->fd < 0) return NA64_OK; /* the whole input is in memory */
  if (from > r->in_ofs + r->in_n) from = r->in_ofs + r->in_n;
  if (from < r->in_ofs) from = r->in_ofs;
  size_t drop = (size_t)(from - r->in_ofs);
  if (drop) {
    memmove(r->in_buf, r->in_buf + drop, r->in_n - drop);
    r->in_n -= drop;
    r->in_ofs = from;
  }
  size_t cap = need > r->opt.stream_window ? need : r->opt.stream_window;
  if (ensure(&r->in_buf, &r->in_cap, cap))
    return na64_err_set(err, NA64_ENOMEM, "%s: no memory for a %zu-byte input window", r->name, cap);
  r->in = r->in_buf;
  note_buffers(r);
  while (!r->in_eof && r->in_n < need) {
    ssize_t got = read(r->fd, r->in_buf + r->in_n, r->in_cap - r->in_n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return na64_err_set(err, NA64_EIO, "cannot read '%s': %s", r->name, strerror(errno));
    if (got == 0) r->in_eof = 1;
    r->in_n += (size_t)got;
  }
  return NA64_OK;
}

/* Plain input: refill the segment window (the input window) after SEG_NEED. */
static int plain_refill(na64_daq_reader *r, na64_err *err)
{
  uint64_t k = keep_from(r);
  size_t have = (size_t)(wend(r) - k), need = r->need > have ? r->need : have + 1; /* NEED: more than we have */
  NA64_CALL(input_fill(r, k, need, err));
  r->w = r->in;
  r->wn = r->in_n;
  r->wofs = r->in_ofs;
  r->weof = r->in_eof;
  return NA64_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Compressed input: frames decoded into the segment window
 * ------------------------------------------------------------------------------------------- */

static inline uint64_t cavail(const na64_daq_reader *r) { return r->in_ofs + r->in_n - r->cpos; }
static inline const uint8_t *cat(const na64_daq_reader *r) { return r->in + (r->cpos - r->in_ofs); }

static void close_cbad(na64_daq_reader *r, uint64_t upto)
{
  if (!r->cbad) return;
  r->cbad = 0;
  if (upto <= r->cbad_start) return;
  add_region(r, r->cbad_start, upto - r->cbad_start, NA64_DAQ_NO_FRAME, NA64_DAQ_BAD_FRAME, r->cbad_detail);
  r->st.bad_frames++;
}

static void open_cbad(na64_daq_reader *r, uint64_t at_ofs, const char *detail)
{
  if (r->cbad) return;
  r->cbad = 1;
  r->cbad_start = at_ofs;
  snprintf(r->cbad_detail, sizeof r->cbad_detail, "%s", detail);
}

/* Skip compressed bytes up to the next frame magic (zstd or skippable) after cpos. */
static int skip_to_frame_magic(na64_daq_reader *r, na64_err *err)
{
  r->cpos++;
  for (;;) {
    NA64_CALL(input_fill(r, r->cpos, 4, err));
    if (r->cpos < r->in_ofs) r->cpos = r->in_ofs; /* bytes already passed in a stream */
    const uint8_t *p = cat(r);
    size_t n = (size_t)cavail(r);
    for (size_t q = 0; q + 4 <= n; ++q) {
      if ((p[q] == 0x28 && p[q + 1] == 0xB5 && p[q + 2] == 0x2F && p[q + 3] == 0xFD) ||
          ((p[q] & 0xF0) == 0x50 && p[q + 1] == 0x2A && p[q + 2] == 0x4D && p[q + 3] == 0x18)) {
        r->cpos += q;
        return NA64_OK;
      }
    }
    if (r->in_eof) {
      r->cpos += n;
      return NA64_OK;
    }
    r->cpos += n > 3 ? n - 3 : 0;
    if (r->fd >= 0) NA64_CALL(input_fill(r, r->cpos, (size_t)cavail(r) + 4, err));
  }
}

/* Start the next data frame at cpos (skipping skippable frames; bytes that are no frame become one
 * BAD_FRAME region each stretch). Returns 1 (frame started), 0 (end of input) or a negative status. */
static int frame_begin(na64_daq_reader *r, na64_err *err)
{
  char detail[160];
  for (;;) {
    NA64_CALL(input_fill(r, r->cpos, 8, err));
    r->st.bytes_read = r->cpos;
    uint64_t n = cavail(r);
    if (n == 0) {
      close_cbad(r, r->cpos);
      return 0;
    }
    if (n < 4) {
      snprintf(detail, sizeof detail, "%llu trailing bytes, too few for a zstd frame", (unsigned long long)n);
      open_cbad(r, r->cpos, detail);
      r->cpos += n;
      continue;
    }
    uint32_t m = daq_rd32(cat(r));
    if ((m & ZSTD_SKIPPABLE_MASK) == ZSTD_SKIPPABLE_MAGIC) {
      uint64_t len = n >= 8 ? daq_rd32(cat(r) + 4) : 0;
      uint64_t start = r->cpos;
      /* skip 8 + len bytes, reading through them when streamed */
      uint64_t target = start + 8 + len;
      while (n >= 8 && r->in_ofs + r->in_n < target && !r->in_eof) {
        r->cpos = r->in_ofs + r->in_n;
        NA64_CALL(input_fill(r, r->cpos, 1, err));
      }
      if (n < 8 || r->in_ofs + r->in_n < target) {
        r->cpos = start;
        open_cbad(r, start, "skippable frame runs past the end of the file");
        NA64_CALL(skip_to_frame_magic(r, err));
        continue;
      }
      close_cbad(r, start);
      r->cpos = target;
      continue;
    }
    if (m != ZSTD_MAGICNUMBER) {
      snprintf(detail, sizeof detail, "no zstd frame magic (found 0x%08X)", (unsigned)m);
      open_cbad(r, r->cpos, detail);
      NA64_CALL(skip_to_frame_magic(r, err));
      continue;
    }
    close_cbad(r, r->cpos);
    ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    r->in_frame = 1;
    r->frame_done = 0;
    r->fofs = r->cpos;
    r->w = r->wbuf;
    r->wn = 0;
    r->wofs = 0;
    r->weof = 0;
    r->pos = 0;
    r->in_bad = 0;
    r->need = 0;
    return 1;
  }
}

/* The frame that started at r->fofs cannot be decoded: one BAD_FRAME region from its start to the
 * next frame magic; events delivered from its first part stay delivered. */
static int frame_fail(na64_daq_reader *r, const char *why, na64_err *err)
{
  char detail[160];
  snprintf(detail, sizeof detail, "zstd frame: %s after %llu decompressed bytes", why,
           (unsigned long long)(r->wofs + r->wn));
  r->in_frame = 0;
  uint64_t start = r->fofs;
  r->fofs = NA64_DAQ_NO_FRAME;
  /* rescan from the byte after the frame's magic, or from the oldest compressed byte still held */
  uint64_t from = start + 1 > r->in_ofs ? start + 1 : r->in_ofs;
  r->cpos = from - 1;
  open_cbad(r, start, detail);
  return skip_to_frame_magic(r, err);
}

/* Decompress more of the current frame into the window: drop the bytes before keep_from(), grow the
 * window to hold r->need bytes, then fill it up to its end or the end of the frame. */
static int frame_fill(na64_daq_reader *r, na64_err *err)
{
  uint64_t k = keep_from(r);
  if (k > wend(r)) k = wend(r);
  size_t drop = (size_t)(k - r->wofs);
  if (drop) {
    memmove(r->wbuf, r->wbuf + drop, r->wn - drop);
    r->wn -= drop;
    r->wofs = k;
  }
  size_t first = r->opt.max_frame_size < ((size_t)1 << 16) ? r->opt.max_frame_size : ((size_t)1 << 16);
  size_t want = r->need + 64 > first ? r->need + 64 : first;
  if (ensure(&r->wbuf, &r->wcap, want))
    return na64_err_set(err, NA64_ENOMEM, "%s: no memory for a %zu-byte frame window", r->name, want);
  r->w = r->wbuf;
  note_buffers(r);
  size_t before = r->wn;
  for (;;) {
    if (r->wn == r->wcap) {
      /* frames up to max_frame_size are decoded whole (checksum verified) before any event of them is
       * delivered; beyond that the window stops growing and the frame is streamed */
      if (r->wcap >= r->opt.max_frame_size) break;
      size_t nc = r->wcap > r->opt.max_frame_size / 2 ? r->opt.max_frame_size : 2 * r->wcap;
      if (ensure(&r->wbuf, &r->wcap, nc))
        return na64_err_set(err, NA64_ENOMEM, "%s: no memory for a %zu-byte frame window", r->name, nc);
      r->w = r->wbuf;
      note_buffers(r);
    }
    if (cavail(r) == 0) {
      NA64_CALL(input_fill(r, r->cpos, CIN_CHUNK, err));
      if (cavail(r) == 0) return frame_fail(r, "ends early (truncated file)", err);
    }
    ZSTD_inBuffer zin = {cat(r), (size_t)cavail(r), 0};
    ZSTD_outBuffer zout = {r->wbuf, r->wcap, r->wn};
    size_t ret = ZSTD_decompressStream(r->dctx, &zout, &zin);
    r->cpos += zin.pos;
    r->wn = zout.pos;
    if (ZSTD_isError(ret)) return frame_fail(r, ZSTD_getErrorName(ret), err);
    if (ret == 0) {
      r->frame_done = 1;
      r->weof = 1;
      r->st.frames++;
      break;
    }
  }
  r->st.bytes_decompressed += r->wn - before;
  r->st.bytes_read = r->cpos;
  return NA64_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Public reading API
 * ------------------------------------------------------------------------------------------- */

int na64_daq_reader_next_event(na64_daq_reader *r, na64_daq_event *ev, na64_err *err)
{
  if (!r || !ev) return na64_err_set(err, NA64_EINVAL, "na64_daq_reader_next_event: NULL argument");
  if (!r->compressed) {
    for (;;) {
      int res = segment_next(r, ev, err);
      r->st.bytes_read = r->in_bad ? r->bad_start : r->pos;
      if (res < 0) return res;
      if (res == SEG_EVENT) return NA64_OK;
      if (res == SEG_END) return NA64_EEOF;
      NA64_CALL(plain_refill(r, err));
    }
  }
  for (;;) {
    if (r->in_frame) {
      int res = segment_next(r, ev, err);
      if (res < 0) return res;
      if (res == SEG_EVENT) return NA64_OK;
      if (res == SEG_END) {
        r->in_frame = 0;
        r->fofs = NA64_DAQ_NO_FRAME;
        continue;
      }
      NA64_CALL(frame_fill(r, err));
      continue;
    }
    int res = frame_begin(r, err);
    if (res < 0) return res;
    if (res == 0) return NA64_EEOF;
    NA64_CALL(frame_fill(r, err));
  }
}

/* Does the input start with a super event? Then, after a seek, the complete-looking events inside
 * super events are their LDC sub-events, and only super events are taken as the next event. */
static int starts_with_super(const na64_daq_reader *r)
{
  uint8_t h[64];
  if (r->fd >= 0) {
    if (pread(r->fd, h, sizeof h, 0) != (ssize_t)sizeof h) return 0;
  } else {
    if (r->in_n < sizeof h) return 0;
    memcpy(h, r->in, sizeof h);
  }
  if (!daq_has_magic(h)) return 0;
  int sw = daq_rd32(h + DAQ_OFF_MAGIC) == NA64_DAQ_MAGIC_SWAPPED;
  return (daq_get32(h + DAQ_OFF_ATTR2, sw) & NA64_DAQ_ATTR_SUPER_EVENT) != 0;
}

/* Seek in a file read through the window: restart the window at the offset (one byte before it for
 * compressed files, where the search for a frame magic starts after cpos), then look for the first
 * event (or frame) without reporting the bytes passed over. */
static int seek_fd(na64_daq_reader *r, uint64_t offset, na64_err *err)
{
  if (!r->seekable) return na64_err_set(err, NA64_EINVAL, "%s: cannot seek in a pipe or device", r->name);
  uint64_t start = offset, back = r->compressed && offset > 0 ? 1 : 0;
  if (lseek(r->fd, (off_t)(start - back), SEEK_SET) < 0)
    return na64_err_set(err, NA64_EIO, "cannot seek in '%s': %s", r->name, strerror(errno));
  r->in_ofs = start - back;
  r->in_n = 0;
  r->in_eof = 0;
  r->in_bad = 0;
  r->cbad = 0;
  if (r->compressed) {
    r->in_frame = 0;
    r->fofs = NA64_DAQ_NO_FRAME;
    r->cpos = start - back;
    NA64_CALL(input_fill(r, r->cpos, 8, err));
    if (back || cavail(r) < 4 || (daq_rd32(cat(r)) != ZSTD_MAGICNUMBER &&
                                  (daq_rd32(cat(r)) & ZSTD_SKIPPABLE_MASK) != ZSTD_SKIPPABLE_MAGIC))
      NA64_CALL(skip_to_frame_magic(r, err));
    NA64_CALL(input_fill(r, r->cpos, 4, err));
    r->st.bytes_read = r->cpos;
    return cavail(r) ? NA64_OK : NA64_EEOF;
  }
  r->w = r->in;
  r->wn = 0;
  r->wofs = start;
  r->weof = 0;
  r->pos = start;
  r->in_bad = 1; /* a silent bad region from the offset to the first event */
  r->silent = 1;
  r->bad_start = r->scan = start;
  r->bad_claim = 0;
  r->bad_super = starts_with_super(r);
  for (;;) {
    int s = resync(r);
    if (s == SEG_EVENT) break;
    if (s == SEG_END) break;
    NA64_CALL(plain_refill(r, err));
  }
  r->silent = 0;
  r->st.bytes_read = r->pos;
  return r->pos < wend(r) || !r->weof ? NA64_OK : NA64_EEOF;
}

int na64_daq_reader_seek(na64_daq_reader *r, uint64_t offset, na64_err *err)
{
  if (!r) return na64_err_set(err, NA64_EINVAL, "na64_daq_reader_seek: NULL reader");
  if (r->fd >= 0) return seek_fd(r, offset, err);
  size_t size = r->in_n;
  size_t start = offset > size ? size : (size_t)offset;
  r->in_bad = 0;
  r->cbad = 0;
  if (!r->compressed) {
    uint64_t q = start;
    int super = starts_with_super(r);
    for (;;) {
      q = na64_daq_find_magic_(r->in, size, (size_t)q);
      if (q >= size) break;
      uint64_t want;
      if (outer_sane(r, q, &want) > 0 && (!super || is_super_at(r, q))) break;
      ++q;
    }
    r->pos = q < size ? q : size;
    r->st.bytes_read = r->pos;
    return r->pos < size ? NA64_OK : NA64_EEOF;
  }
  /* compressed: the first frame at or after the offset that decodes (bad frames are not reported) */
  r->in_frame = 0;
  r->fofs = NA64_DAQ_NO_FRAME;
  r->cpos = start;
  if (start > 0) {
    r->cpos = start - 1;
    NA64_CALL(skip_to_frame_magic(r, err));
  } else if (size >= 4 && daq_rd32(r->in) != ZSTD_MAGICNUMBER &&
             (daq_rd32(r->in) & ZSTD_SKIPPABLE_MASK) != ZSTD_SKIPPABLE_MAGIC) {
    NA64_CALL(skip_to_frame_magic(r, err));
  }
  r->st.bytes_read = r->cpos;
  return r->cpos < size ? NA64_OK : NA64_EEOF;
}

static int make_reader(const char *name, const na64_daq_reader_options *opt, na64_daq_reader **out,
                       na64_err *err)
{
  na64_daq_reader *r = calloc(1, sizeof *r);
  if (!r) return na64_err_set(err, NA64_ENOMEM, "no memory for a DATE reader");
  r->fd = -1;
  r->fofs = NA64_DAQ_NO_FRAME;
  if (opt) r->opt = *opt;
  if (!r->opt.max_event_size) r->opt.max_event_size = DEFAULT_MAX_EVENT;
  if (!r->opt.max_frame_size) r->opt.max_frame_size = DEFAULT_MAX_FRAME;
  if (!r->opt.stream_window) r->opt.stream_window = DEFAULT_WINDOW;
  if (!r->opt.max_regions) r->opt.max_regions = DEFAULT_MAX_REGIONS;
  size_t nl = strlen(name ? name : "<memory>") + 1;
  r->name = malloc(nl);
  if (!r->name) {
    free(r);
    return na64_err_set(err, NA64_ENOMEM, "no memory for a DATE reader");
  }
  memcpy(r->name, name ? name : "<memory>", nl);
  *out = r;
  return NA64_OK;
}

/* Detect compression from the first bytes and set up the first window. */
static int start(na64_daq_reader *r, na64_err *err)
{
  NA64_CALL(input_fill(r, 0, 4, err));
  if (r->in_n >= 4) {
    uint32_t m = daq_rd32(r->in);
    r->compressed = m == ZSTD_MAGICNUMBER || (m & ZSTD_SKIPPABLE_MASK) == ZSTD_SKIPPABLE_MAGIC;
  }
  r->st.compressed = r->compressed;
  r->st.streamed = r->fd >= 0;
  if (r->compressed) {
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) return na64_err_set(err, NA64_ENOMEM, "%s: cannot create a zstd context", r->name);
  } else {
    r->w = r->in;
    r->wn = r->in_n;
    r->wofs = 0;
    r->weof = r->in_eof;
  }
  return NA64_OK;
}

int na64_daq_reader_open_memory(const void *data, size_t size, const char *name,
                                const na64_daq_reader_options *opt, na64_daq_reader **out, na64_err *err)
{
  if (!out || (!data && size)) return na64_err_set(err, NA64_EINVAL, "na64_daq_reader_open_memory: NULL argument");
  *out = NULL;
  na64_daq_reader *r;
  NA64_CALL(make_reader(name, opt, &r, err));
  r->in = data ? data : (const uint8_t *)"";
  r->in_n = size;
  r->in_eof = 1;
  int st = start(r, err);
  if (st != NA64_OK) {
    na64_daq_reader_close(r);
    return st;
  }
  *out = r;
  return NA64_OK;
}

int na64_daq_reader_open(const char *path, const na64_daq_reader_options *opt, na64_daq_reader **out,
                         na64_err *err)
{
  if (!path || !out) return na64_err_set(err, NA64_EINVAL, "na64_daq_reader_open: NULL argument");
  *out = NULL;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return na64_err_set(err, NA64_EIO, "cannot open '%s': %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return na64_err_set(err, NA64_EIO, "cannot stat '%s': %s", path, strerror(e));
  }
  if (S_ISDIR(sb.st_mode)) {
    close(fd);
    return na64_err_set(err, NA64_EIO, "cannot read '%s': it is a directory", path);
  }
  na64_daq_reader *r;
  int st = make_reader(path, opt, &r, err);
  if (st != NA64_OK) {
    close(fd);
    return st;
  }
  r->in = (const uint8_t *)"";
  r->fd = fd; /* file, pipe, FIFO, device: read through a bounded window */
  r->seekable = S_ISREG(sb.st_mode);
  if (r->seekable) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  st = start(r, err);
  if (st != NA64_OK) {
    na64_daq_reader_close(r);
    return st;
  }
  *out = r;
  return NA64_OK;
}

const na64_daq_region *na64_daq_reader_regions(const na64_daq_reader *r, size_t *n)
{
  if (n) *n = r ? r->nreg : 0;
  return r ? r->regions : NULL;
}

void na64_daq_reader_get_stats(const na64_daq_reader *r, na64_daq_reader_stats *stats)
{
  if (r && stats) *stats = r->st;
}

const char *na64_daq_reader_name(const na64_daq_reader *r) { return r ? r->name : ""; }

void na64_daq_reader_close(na64_daq_reader *r)
{
  if (!r) return;
  if (r->fd >= 0) close(r->fd);
  free(r->in_buf);
  ZSTD_freeDCtx(r->dctx);
  free(r->wbuf);
  free(r->scratch);
  free(r->regions);
  free(r->name);
  free(r);
}
