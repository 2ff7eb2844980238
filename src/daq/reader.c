/* DATE reader: plain or zstd-framed files, resynchronisation on the event magic after damage, a record
 * of every bad byte range. Format: docs/raw-format.md; zstd frame format: RFC 8878 §3.1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "daq/daq_internal.h"

#define DEFAULT_MAX_EVENT ((size_t)64 << 20)
#define DEFAULT_MAX_FRAME ((size_t)1 << 30)
#define DEFAULT_MAX_REGIONS 10000
/* RFC 8878 §3.1.2: skippable frames have magic 0x184D2A5? (little-endian). */
#define ZSTD_SKIPPABLE_MASK 0xFFFFFFF0u
#define ZSTD_SKIPPABLE_MAGIC 0x184D2A50u

struct na64_daq_reader {
  char *name;
  const uint8_t *base; /* the whole input */
  size_t size;
  void *map;      /* mmap'd file (or NULL) */
  uint8_t *owned; /* file read into memory (or NULL) */
  int compressed;
  na64_daq_reader_options opt;
  size_t pos; /* plain: next byte to examine */
  /* compressed */
  ZSTD_DCtx *dctx;
  size_t cpos; /* next compressed byte */
  uint8_t *fbuf;
  size_t fcap, fsize, fpos;
  uint64_t fofs;
  int have_frame;
  /* the event right after the last delivered one, already checked (a one-entry cache) */
  const uint8_t *ahead_seg;
  size_t ahead_pos;
  uint32_t ahead_size;
  int ahead_sw;
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

static int deliver(na64_daq_reader *r, const uint8_t *p, uint32_t sz, int sw, uint64_t off, uint64_t fofs,
                   na64_daq_event *ev, na64_err *err)
{
  const uint8_t *d = p;
  if (sw || ((uintptr_t)p & 3u)) {
    if (ensure(&r->scratch, &r->scap, sz))
      return na64_err_set(err, NA64_ENOMEM, "%s: no memory for a %u-byte event", r->name, (unsigned)sz);
    if (sw) {
      /* DATE byte swapping is per 32-bit word, over header and payload alike */
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
  ev->frame_offset = fofs;
  ev->swapped = sw;
  r->st.events++;
  r->st.by_type[ev->header.type < NA64_DAQ_N_EVENT_TYPES ? ev->header.type : 0]++;
  if (sw) r->st.swapped_events++;
  return NA64_OK;
}

/* The next intact event of the segment seg[0..n) from *pos on; bad ranges before it are reported as
 * regions (offsets relative to the segment, which is the file or a decompressed frame).
 * Returns 1 with *ev filled, 0 at the end of the segment, or a negative status. */
static int segment_next(na64_daq_reader *r, const uint8_t *seg, size_t n, size_t *pos, uint64_t fofs,
                        na64_daq_event *ev, na64_err *err)
{
  char detail[160], d2[160];
  while (*pos < n) {
    size_t p = *pos;
    uint32_t sz, sz2;
    int sw, sw2;
    int reason;
    if (seg == r->ahead_seg && p == r->ahead_pos) { /* checked already, as the successor of the last event */
      reason = 0;
      sz = r->ahead_size;
      sw = r->ahead_sw;
    } else {
      reason = na64_daq_check_event_(seg + p, n - p, r->opt.max_event_size, &sz, &sw, detail, sizeof detail);
    }
    r->ahead_seg = NULL;
    if (reason == 0) {
      /* An event that was cut short still tiles if the cut is in its last block: it then swallows the
       * head of its successor. So if what follows is not an event, look for an intact event inside. */
      size_t e = p + sz;
      int next_ok = e >= n;
      if (!next_ok) {
        next_ok = na64_daq_check_event_(seg + e, n - e, r->opt.max_event_size, &sz2, &sw2, d2, sizeof d2) == 0;
        if (next_ok) {
          r->ahead_seg = seg;
          r->ahead_pos = e;
          r->ahead_size = sz2;
          r->ahead_sw = sw2;
          /* Checking an event jumps from equipment header to equipment header, each a likely cache
           * miss; start loading the event after the next one now, while this one is being used. */
          size_t e2 = e + sz2, lim = n - e2 < 4096 ? n - e2 : 4096;
          for (size_t k = 0; k < lim; k += 64) __builtin_prefetch(seg + e2 + k);
        }
      }
      size_t q = e;
      if (!next_ok) {
        for (q = p;;) {
          q = na64_daq_find_magic_(seg, e, q + 1);
          if (q >= e) break;
          if (na64_daq_check_event_(seg + q, n - q, r->opt.max_event_size, &sz2, &sw2, d2, sizeof d2) == 0) break;
        }
      }
      if (q < e) {
        snprintf(detail, sizeof detail, "eventSize %u, but an intact event starts %zu bytes in (event cut short)",
                 (unsigned)sz, q - p);
        add_region(r, p, q - p, fofs, NA64_DAQ_BAD_SIZE, detail);
        *pos = q;
        continue;
      }
      *pos = e;
      int st = deliver(r, seg + p, sz, sw, p, fofs, ev, err);
      return st == NA64_OK ? 1 : st;
    }
    /* Resynchronise: the next position holding the magic AND an intact event. */
    size_t q = p;
    for (;;) {
      q = na64_daq_find_magic_(seg, n, q + 1);
      if (q >= n) break;
      if (na64_daq_check_event_(seg + q, n - q, r->opt.max_event_size, &sz2, &sw2, d2, sizeof d2) == 0) break;
    }
    if (q > n) q = n;
    if ((reason == NA64_DAQ_TRUNCATED || reason == NA64_DAQ_BAD_EQUIPMENT) && sz > 0 && q < n &&
        q < p + (size_t)sz) {
      /* the claimed extent swallows an intact event: the size field is wrong or the event was cut */
      size_t l = strlen(detail);
      snprintf(detail + l, sizeof detail - l, "; an intact event starts %zu bytes in", q - p);
      reason = NA64_DAQ_BAD_SIZE;
    }
    add_region(r, p, q - p, fofs, reason, detail);
    *pos = q;
  }
  return 0;
}

static size_t find_frame_magic(const uint8_t *p, size_t n, size_t from)
{
  for (size_t q = from; q + 4 <= n; ++q) {
    if (p[q] == 0x28 && p[q + 1] == 0xB5 && p[q + 2] == 0x2F && p[q + 3] == 0xFD) return q;
    if ((p[q] & 0xF0) == 0x50 && p[q + 1] == 0x2A && p[q + 2] == 0x4D && p[q + 3] == 0x18) return q;
  }
  return n;
}

/* Try to decode the frame at compressed offset c. Returns 1 (data frame now in fbuf), 2 (skippable
 * frame), 0 (not decodable; detail says why) or a negative status. *consumed = its compressed size. */
static int try_frame(na64_daq_reader *r, size_t c, size_t *consumed, char *detail, size_t dlen, na64_err *err)
{
  const uint8_t *src = r->base + c;
  size_t avail = r->size - c;
  if (avail < 4) {
    snprintf(detail, dlen, "%zu trailing bytes, too few for a zstd frame", avail);
    return 0;
  }
  uint32_t m = daq_rd32(src);
  if ((m & ZSTD_SKIPPABLE_MASK) == ZSTD_SKIPPABLE_MAGIC) {
    if (avail < 8 || daq_rd32(src + 4) > avail - 8) {
      snprintf(detail, dlen, "skippable frame runs past the end of the file");
      return 0;
    }
    *consumed = 8 + (size_t)daq_rd32(src + 4);
    return 2;
  }
  if (m != ZSTD_MAGICNUMBER) {
    snprintf(detail, dlen, "no zstd frame magic (found 0x%08X)", (unsigned)m);
    return 0;
  }
  size_t fsz = ZSTD_findFrameCompressedSize(src, avail);
  if (ZSTD_isError(fsz)) {
    snprintf(detail, dlen, "zstd frame: %s", ZSTD_getErrorName(fsz));
    return 0;
  }
  unsigned long long content = ZSTD_getFrameContentSize(src, fsz);
  if (content == ZSTD_CONTENTSIZE_ERROR) {
    snprintf(detail, dlen, "zstd frame header unreadable");
    return 0;
  }
  if (content != ZSTD_CONTENTSIZE_UNKNOWN && content > r->opt.max_frame_size) {
    snprintf(detail, dlen, "zstd frame declares %llu bytes, more than the limit %zu", content,
             r->opt.max_frame_size);
    return 0;
  }
  /* One-shot decoding into a buffer of the declared size, unless the declaration is implausible
   * for the compressed size (then grow the buffer only as real output appears). */
  if (content != ZSTD_CONTENTSIZE_UNKNOWN && content <= 64ull * fsz + (1ull << 20)) {
    if (ensure(&r->fbuf, &r->fcap, (size_t)content + 1))
      return na64_err_set(err, NA64_ENOMEM, "%s: no memory for a %llu-byte frame", r->name, content);
    size_t got = ZSTD_decompressDCtx(r->dctx, r->fbuf, (size_t)content, src, fsz);
    if (ZSTD_isError(got) || got != content) {
      snprintf(detail, dlen, "zstd frame of %zu bytes: %s", fsz,
               ZSTD_isError(got) ? ZSTD_getErrorName(got) : "content size differs from its header");
      return 0;
    }
    r->fsize = got;
  } else {
    ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    ZSTD_inBuffer in = {src, fsz, 0};
    size_t outpos = 0;
    for (;;) {
      if (outpos == r->fcap) {
        if (r->fcap >= r->opt.max_frame_size) {
          snprintf(detail, dlen, "zstd frame decompresses to more than the limit %zu", r->opt.max_frame_size);
          return 0;
        }
        size_t want = r->fcap ? 2 * r->fcap : ((size_t)1 << 20);
        if (want > r->opt.max_frame_size) want = r->opt.max_frame_size;
        if (ensure(&r->fbuf, &r->fcap, want))
          return na64_err_set(err, NA64_ENOMEM, "%s: no memory to decompress a frame", r->name);
      }
      ZSTD_outBuffer out = {r->fbuf, r->fcap, outpos};
      size_t ret = ZSTD_decompressStream(r->dctx, &out, &in);
      outpos = out.pos;
      if (ZSTD_isError(ret)) {
        snprintf(detail, dlen, "zstd frame of %zu bytes: %s", fsz, ZSTD_getErrorName(ret));
        return 0;
      }
      if (ret == 0) break;
      if (in.pos == in.size && out.pos < out.size) {
        snprintf(detail, dlen, "zstd frame of %zu bytes ends early", fsz);
        return 0;
      }
    }
    r->fsize = outpos;
  }
  *consumed = fsz;
  return 1;
}

/* Load the next decodable frame; damaged stretches before it become one BAD_FRAME region each.
 * Returns 1 (frame loaded), 0 (end of file) or a negative status. report = 0 for seeking. */
static int next_frame(na64_daq_reader *r, int report, na64_err *err)
{
  size_t bad_start = SIZE_MAX;
  char detail[160], first[160] = "";
  while (r->cpos < r->size) {
    size_t c = r->cpos, consumed = 0;
    int res = try_frame(r, c, &consumed, detail, sizeof detail, err);
    if (res < 0) return res;
    if (res > 0) {
      if (bad_start != SIZE_MAX && report) {
        add_region(r, bad_start, c - bad_start, NA64_DAQ_NO_FRAME, NA64_DAQ_BAD_FRAME, first);
        r->st.bad_frames++;
      }
      bad_start = SIZE_MAX;
      r->cpos = c + consumed;
      r->st.bytes_read = r->cpos;
      if (res == 1) {
        r->ahead_seg = NULL;
        r->fofs = c;
        r->fpos = 0;
        r->have_frame = 1;
        r->st.frames++;
        r->st.bytes_decompressed += r->fsize;
        return 1;
      }
      continue;
    }
    if (bad_start == SIZE_MAX) {
      bad_start = c;
      memcpy(first, detail, sizeof first);
    }
    r->cpos = find_frame_magic(r->base, r->size, c + 1);
    if (r->cpos > r->size) r->cpos = r->size;
  }
  if (bad_start != SIZE_MAX && report) {
    add_region(r, bad_start, r->size - bad_start, NA64_DAQ_NO_FRAME, NA64_DAQ_BAD_FRAME, first);
    r->st.bad_frames++;
  }
  r->st.bytes_read = r->size;
  return 0;
}

int na64_daq_reader_next_event(na64_daq_reader *r, na64_daq_event *ev, na64_err *err)
{
  if (!r || !ev) return na64_err_set(err, NA64_EINVAL, "na64_daq_reader_next_event: NULL argument");
  if (!r->compressed) {
    int res = segment_next(r, r->base, r->size, &r->pos, NA64_DAQ_NO_FRAME, ev, err);
    r->st.bytes_read = r->pos;
    if (res < 0) return res;
    return res ? NA64_OK : NA64_EEOF;
  }
  for (;;) {
    if (r->have_frame) {
      int res = segment_next(r, r->fbuf, r->fsize, &r->fpos, r->fofs, ev, err);
      if (res < 0) return res;
      if (res == 1) return NA64_OK;
      r->have_frame = 0;
    }
    int res = next_frame(r, 1, err);
    if (res < 0) return res;
    if (res == 0) return NA64_EEOF;
  }
}

int na64_daq_reader_seek(na64_daq_reader *r, uint64_t offset, na64_err *err)
{
  if (!r) return na64_err_set(err, NA64_EINVAL, "na64_daq_reader_seek: NULL reader");
  size_t start = offset > r->size ? r->size : (size_t)offset;
  r->ahead_seg = NULL;
  if (!r->compressed) {
    char d[160];
    size_t q = start;
    for (;;) {
      q = na64_daq_find_magic_(r->base, r->size, q);
      if (q >= r->size) break;
      uint32_t sz;
      int sw;
      if (na64_daq_check_event_(r->base + q, r->size - q, r->opt.max_event_size, &sz, &sw, d, sizeof d) == 0)
        break;
      ++q;
    }
    r->pos = q < r->size ? q : r->size;
    r->st.bytes_read = r->pos;
    return r->pos < r->size ? NA64_OK : NA64_EEOF;
  }
  r->have_frame = 0;
  r->cpos = find_frame_magic(r->base, r->size, start);
  if (r->cpos > r->size) r->cpos = r->size;
  for (;;) {
    if (r->cpos >= r->size) {
      r->st.bytes_read = r->size;
      return NA64_EEOF;
    }
    size_t save = r->cpos;
    int res = next_frame(r, 0, err);
    if (res < 0) return res;
    if (res == 1) return NA64_OK;
    if (r->cpos <= save) r->cpos = save + 1;
  }
}

static int make_reader(const char *name, const na64_daq_reader_options *opt, na64_daq_reader **out,
                       na64_err *err)
{
  na64_daq_reader *r = calloc(1, sizeof *r);
  if (!r) return na64_err_set(err, NA64_ENOMEM, "no memory for a DATE reader");
  if (opt) r->opt = *opt;
  if (!r->opt.max_event_size) r->opt.max_event_size = DEFAULT_MAX_EVENT;
  if (!r->opt.max_frame_size) r->opt.max_frame_size = DEFAULT_MAX_FRAME;
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

static int start(na64_daq_reader *r, na64_err *err)
{
  if (r->size >= 4) {
    uint32_t m = daq_rd32(r->base);
    r->compressed = m == ZSTD_MAGICNUMBER || (m & ZSTD_SKIPPABLE_MASK) == ZSTD_SKIPPABLE_MAGIC;
  }
  r->st.compressed = r->compressed;
  if (r->compressed) {
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) return na64_err_set(err, NA64_ENOMEM, "%s: cannot create a zstd context", r->name);
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
  r->base = data;
  r->size = size;
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
  if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
      r->map = m;
      r->base = m;
      r->size = (size_t)sb.st_size;
      posix_madvise(m, r->size, POSIX_MADV_SEQUENTIAL);
    }
  }
  if (!r->map && !(S_ISREG(sb.st_mode) && sb.st_size == 0)) {
    /* not mappable (pipe, special file): read it whole */
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
      if (!buf) {
        close(fd);
        na64_daq_reader_close(r);
        return na64_err_set(err, NA64_ENOMEM, "no memory to read '%s'", path);
      }
      if (n == cap) {
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) free(buf);
        buf = nb;
        cap *= 2;
        continue;
      }
      ssize_t got = read(fd, buf + n, cap - n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        int e = errno;
        free(buf);
        close(fd);
        na64_daq_reader_close(r);
        return na64_err_set(err, NA64_EIO, "cannot read '%s': %s", path, strerror(e));
      }
      if (got == 0) break;
      n += (size_t)got;
    }
    r->owned = buf;
    r->base = buf;
    r->size = n;
  }
  close(fd);
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
  if (r->map) munmap(r->map, r->size);
  free(r->owned);
  ZSTD_freeDCtx(r->dctx);
  free(r->fbuf);
  free(r->scratch);
  free(r->regions);
  free(r->name);
  free(r);
}
