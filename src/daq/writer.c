/* DATE writer: events built in a buffer and written plain, or as independent zstd frames (each frame
 * holds whole events, carries its content size and an XXH64 checksum, RFC 8878 §3.1.1), so that a
 * reader can start at any frame and lose at most one frame to damage. docs/raw-format.md §4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "daq/daq_internal.h"

#define PLAIN_FLUSH_BYTES ((size_t)1 << 20)
#define DEFAULT_FRAME_BYTES ((size_t)1 << 20)

struct na64_daq_writer {
  FILE *f;
  char *path;
  int memory;
  uint8_t *mem;
  size_t mlen, mcap;
  na64_daq_writer_options opt;
  ZSTD_CCtx *cctx;
  uint8_t *buf; /* pending uncompressed bytes: the current frame, or plain bytes not yet written */
  size_t blen, bcap;
  size_t frame_events;
  size_t ev_start;
  int in_event;
  uint8_t *zbuf;
  size_t zcap;
  uint64_t bytes, events, frames;
  int failed; /* a write failed: later calls fail too */
};

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
  if (need <= *cap) return 0;
  size_t nc = *cap ? *cap : 1 << 16;
  while (nc < need) nc *= 2;
  uint8_t *nb = realloc(*buf, nc);
  if (!nb) return -1;
  *buf = nb;
  *cap = nc;
  return 0;
}

static const char *wname(const na64_daq_writer *w) { return w->memory ? "<memory>" : w->path; }

static int emit(na64_daq_writer *w, const void *data, size_t n, na64_err *err)
{
  if (!n) return NA64_OK;
  if (w->memory) {
    if (grow(&w->mem, &w->mcap, w->mlen + n)) {
      w->failed = 1;
      return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory for %zu more bytes", n);
    }
    memcpy(w->mem + w->mlen, data, n);
    w->mlen += n;
  } else if (fwrite(data, 1, n, w->f) != n) {
    w->failed = 1;
    return na64_err_set(err, NA64_EIO, "cannot write '%s' at byte %llu: %s", w->path,
                        (unsigned long long)w->bytes, strerror(errno));
  }
  w->bytes += n;
  return NA64_OK;
}

/* Write out the pending bytes: as one zstd frame, or plainly. */
static int drain(na64_daq_writer *w, na64_err *err)
{
  if (!w->blen) return NA64_OK;
  if (w->opt.compress) {
    size_t bound = ZSTD_compressBound(w->blen);
    if (grow(&w->zbuf, &w->zcap, bound)) {
      w->failed = 1;
      return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory for a %zu-byte frame", bound);
    }
    size_t z = ZSTD_compress2(w->cctx, w->zbuf, w->zcap, w->buf, w->blen);
    if (ZSTD_isError(z)) {
      w->failed = 1;
      return na64_err_set(err, NA64_EIO, "%s: zstd compression failed: %s", wname(w), ZSTD_getErrorName(z));
    }
    NA64_CALL(emit(w, w->zbuf, z, err));
    w->frames++;
  } else {
    NA64_CALL(emit(w, w->buf, w->blen, err));
  }
  w->blen = 0;
  w->frame_events = 0;
  return NA64_OK;
}

static int make_writer(const na64_daq_writer_options *opt, na64_daq_writer **out, na64_err *err)
{
  na64_daq_writer *w = calloc(1, sizeof *w);
  if (!w) return na64_err_set(err, NA64_ENOMEM, "no memory for a DATE writer");
  if (opt) w->opt = *opt;
  if (!w->opt.frame_bytes) w->opt.frame_bytes = DEFAULT_FRAME_BYTES;
  if (!w->opt.level) w->opt.level = 3;
  if (w->opt.compress) {
    if (w->opt.level < ZSTD_minCLevel() || w->opt.level > ZSTD_maxCLevel()) {
      int lvl = w->opt.level;
      free(w);
      return na64_err_set(err, NA64_EINVAL, "DATE writer: zstd level %d outside [%d, %d]", lvl,
                          ZSTD_minCLevel(), ZSTD_maxCLevel());
    }
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) {
      free(w);
      return na64_err_set(err, NA64_ENOMEM, "cannot create a zstd context");
    }
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->opt.level);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
  }
  *out = w;
  return NA64_OK;
}

int na64_daq_writer_open(const char *path, const na64_daq_writer_options *opt, na64_daq_writer **out,
                         na64_err *err)
{
  if (!path || !out) return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_open: NULL argument");
  *out = NULL;
  na64_daq_writer *w = NULL;
  NA64_CALL(make_writer(opt, &w, err));
  size_t nl = strlen(path) + 1;
  w->path = malloc(nl);
  if (!w->path) {
    ZSTD_freeCCtx(w->cctx);
    free(w);
    return na64_err_set(err, NA64_ENOMEM, "no memory for a DATE writer");
  }
  memcpy(w->path, path, nl);
  w->f = fopen(path, "wb");
  if (!w->f) {
    int e = errno;
    free(w->path);
    ZSTD_freeCCtx(w->cctx);
    free(w);
    return na64_err_set(err, NA64_EIO, "cannot create '%s': %s", path, strerror(e));
  }
  *out = w;
  return NA64_OK;
}

int na64_daq_writer_open_memory(const na64_daq_writer_options *opt, na64_daq_writer **out, na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_open_memory: NULL argument");
  *out = NULL;
  na64_daq_writer *w = NULL;
  NA64_CALL(make_writer(opt, &w, err));
  w->memory = 1;
  *out = w;
  return NA64_OK;
}

static int usable(na64_daq_writer *w, na64_err *err)
{
  if (!w) return na64_err_set(err, NA64_EINVAL, "DATE writer: NULL writer");
  if (w->failed) return na64_err_set(err, NA64_EIO, "%s: an earlier write failed", wname(w));
  return NA64_OK;
}

int na64_daq_writer_begin_event(na64_daq_writer *w, const na64_daq_header *h, na64_err *err)
{
  NA64_CALL(usable(w, err));
  if (!h) return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_begin_event: NULL header");
  if (w->in_event) return na64_err_set(err, NA64_EINVAL, "%s: begin_event inside an unfinished event", wname(w));
  if (grow(&w->buf, &w->bcap, w->blen + NA64_DAQ_HEADER_SIZE))
    return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory");
  na64_daq_header hh = *h;
  hh.size = NA64_DAQ_HEADER_SIZE;
  hh.magic = NA64_DAQ_MAGIC;
  hh.head_size = NA64_DAQ_HEADER_SIZE;
  if (!hh.version) hh.version = NA64_DAQ_VERSION;
  w->ev_start = w->blen;
  memcpy(w->buf + w->blen, &hh, sizeof hh);
  w->blen += sizeof hh;
  w->in_event = 1;
  return NA64_OK;
}

int na64_daq_writer_add_equipment(na64_daq_writer *w, const na64_daq_equipment_header *eh,
                                  const uint32_t *words, size_t nwords, na64_err *err)
{
  NA64_CALL(usable(w, err));
  if (!eh || (!words && nwords)) return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_add_equipment: NULL argument");
  if (!w->in_event) return na64_err_set(err, NA64_EINVAL, "%s: add_equipment outside an event", wname(w));
  size_t evlen = w->blen - w->ev_start;
  if (nwords > (UINT32_MAX - evlen - NA64_DAQ_EQUIPMENT_HEADER_SIZE) / 4)
    return na64_err_set(err, NA64_ERANGE, "%s: equipment %u of %zu words makes the event exceed 4 GiB",
                        wname(w), (unsigned)eh->id, nwords);
  size_t add = NA64_DAQ_EQUIPMENT_HEADER_SIZE + 4 * nwords;
  if (grow(&w->buf, &w->bcap, w->blen + add)) return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory");
  na64_daq_equipment_header e = *eh;
  e.size = (uint32_t)(4 * nwords);
  if (!e.basic_element_size) e.basic_element_size = 4;
  memcpy(w->buf + w->blen, &e, sizeof e);
  if (nwords) memcpy(w->buf + w->blen + sizeof e, words, 4 * nwords);
  w->blen += add;
  return NA64_OK;
}

static int event_done(na64_daq_writer *w, na64_err *err)
{
  w->events++;
  w->frame_events++;
  if (w->opt.compress) {
    if (w->blen >= w->opt.frame_bytes || (w->opt.frame_events && w->frame_events >= w->opt.frame_events))
      return drain(w, err);
  } else if (w->blen >= PLAIN_FLUSH_BYTES) {
    return drain(w, err);
  }
  return NA64_OK;
}

int na64_daq_writer_end_event(na64_daq_writer *w, na64_err *err)
{
  NA64_CALL(usable(w, err));
  if (!w->in_event) return na64_err_set(err, NA64_EINVAL, "%s: end_event without begin_event", wname(w));
  uint32_t size = (uint32_t)(w->blen - w->ev_start);
  memcpy(w->buf + w->ev_start, &size, 4);
  w->in_event = 0;
  return event_done(w, err);
}

int na64_daq_writer_write_event(na64_daq_writer *w, const void *event, size_t size, na64_err *err)
{
  NA64_CALL(usable(w, err));
  if (!event) return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_write_event: NULL event");
  if (w->in_event) return na64_err_set(err, NA64_EINVAL, "%s: write_event inside an unfinished event", wname(w));
  uint32_t sz;
  int sw;
  char detail[160];
  int reason = na64_daq_check_event_(event, size, UINT32_MAX, &sz, &sw, detail, sizeof detail);
  if (reason) return na64_err_set(err, NA64_EFORMAT, "%s: event rejected: %s (%s)", wname(w),
                                  na64_daq_reason_name(reason), detail);
  if (sw) return na64_err_set(err, NA64_EFORMAT, "%s: event rejected: byte-swapped (write native order)", wname(w));
  if (sz != size)
    return na64_err_set(err, NA64_EFORMAT, "%s: event rejected: eventSize %u but %zu bytes given", wname(w),
                        (unsigned)sz, size);
  if (grow(&w->buf, &w->bcap, w->blen + size)) return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory");
  memcpy(w->buf + w->blen, event, size);
  w->blen += size;
  return event_done(w, err);
}

int na64_daq_writer_flush(na64_daq_writer *w, na64_err *err)
{
  NA64_CALL(usable(w, err));
  if (w->in_event) return na64_err_set(err, NA64_EINVAL, "%s: flush inside an unfinished event", wname(w));
  NA64_CALL(drain(w, err));
  if (w->f && fflush(w->f) != 0) {
    w->failed = 1;
    return na64_err_set(err, NA64_EIO, "cannot write '%s': %s", w->path, strerror(errno));
  }
  return NA64_OK;
}

uint64_t na64_daq_writer_bytes(const na64_daq_writer *w) { return w ? w->bytes : 0; }
uint64_t na64_daq_writer_events(const na64_daq_writer *w) { return w ? w->events : 0; }
uint64_t na64_daq_writer_frames(const na64_daq_writer *w) { return w ? w->frames : 0; }

static void destroy(na64_daq_writer *w)
{
  ZSTD_freeCCtx(w->cctx);
  free(w->buf);
  free(w->zbuf);
  free(w->mem);
  free(w->path);
  free(w);
}

int na64_daq_writer_close(na64_daq_writer *w, na64_err *err)
{
  if (!w) return NA64_OK;
  int st = NA64_OK;
  if (w->in_event) {
    st = na64_err_set(err, NA64_EINVAL, "%s: closed inside an unfinished event (dropped)", wname(w));
    w->blen = w->ev_start;
    w->in_event = 0;
  }
  if (!w->failed) { /* the events before an unfinished one are still written */
    int fs = na64_daq_writer_flush(w, st == NA64_OK ? err : NULL);
    if (st == NA64_OK) st = fs;
  }
  if (w->f && fclose(w->f) != 0 && st == NA64_OK)
    st = na64_err_set(err, NA64_EIO, "cannot close '%s': %s", w->path, strerror(errno));
  destroy(w);
  return st;
}

int na64_daq_writer_close_memory(na64_daq_writer *w, void **data, size_t *size, na64_err *err)
{
  if (!w || !data || !size) return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_close_memory: NULL argument");
  *data = NULL;
  *size = 0;
  if (!w->memory) {
    na64_daq_writer_close(w, NULL);
    return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_close_memory on a file writer");
  }
  int st = NA64_OK;
  if (w->in_event) {
    st = na64_err_set(err, NA64_EINVAL, "<memory>: closed inside an unfinished event (dropped)");
    w->blen = w->ev_start;
    w->in_event = 0;
  }
  if (!w->failed) {
    int fs = na64_daq_writer_flush(w, st == NA64_OK ? err : NULL);
    if (st == NA64_OK) st = fs;
  }
  if (!w->failed) {
    *data = w->mem;
    *size = w->mlen;
    w->mem = NULL;
  }
  destroy(w);
  return st;
}
