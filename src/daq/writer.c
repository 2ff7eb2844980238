/* DATE writer: events built in a buffer and written uncompressed, or as independent zstd frames (each
 * frame holds whole events, carries its content size and an XXH64 checksum, RFC 8878 §3.1.1), so that
 * a reader can start at any frame and lose at most one frame to damage. Events are GDC super events of
 * LDC sub-events, as DATE event builders write them (event.h ATTR_SUPER_EVENT), or plain events on
 * request; equipmentSize follows the convention of the event version (header included from 3.2 on).
 * docs/raw-format.md §2-4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "daq/daq_internal.h"
#include "na64/io.h"

#define PLAIN_FLUSH_BYTES ((size_t)1 << 20)
#define DEFAULT_FRAME_BYTES ((size_t)1 << 20)

struct na64_daq_writer {
  FILE *f;          /* the stream of `out` (file writers) */
  na64_outfile *out; /* safe output file: renamed over the target only when closed complete */
  char *path;
  int memory;
  uint8_t *mem;
  size_t mlen, mcap;
  na64_daq_writer_options opt;
  ZSTD_CCtx *cctx;
  uint8_t *buf; /* pending uncompressed bytes: the current frame, or plain bytes not yet written */
  size_t blen, bcap;
  size_t frame_events;
  int in_event;
  /* the event being built: its header, and its blocks. While the blocks come in ascending LDC order
   * (the usual case: the simulation adds them by source id) they go straight into buf behind room
   * for the GDC and sub-event headers (`direct`); the first block of a lower LDC moves them to the
   * stage, where end_event groups them by LDC as before. Both give the same bytes. */
  na64_daq_header hdr;
  int direct;
  size_t ev_start;  /* direct: offset in buf of the event's header */
  size_t sub_start; /* direct, super events: offset of the open sub-event's header, or 0 if none */
  uint32_t sub_ldc; /* direct: the open sub-event's LDC */
  uint8_t *stage;
  size_t slen, scap;
  struct staged { uint32_t ldc; size_t off, len; } *blocks;
  size_t nblocks, capblocks;
  int reserved;                /* reserve_equipment: a block awaits its commit */
  uint32_t res_src, res_ldc;   /* its source and LDC, */
  size_t res_off, res_max;     /* its offset in buf (direct) or stage, and the words reserved */
  na64_daq_ldc_entry *ldc_map; /* sorted by source id */
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
  } else if (w->memory && !w->mlen) { /* the pending bytes become the memory stream: no copy */
    free(w->mem);
    w->mem = w->buf;
    w->mcap = w->bcap;
    w->mlen = w->blen;
    w->bytes += w->blen;
    w->buf = NULL;
    w->bcap = 0;
  } else {
    NA64_CALL(emit(w, w->buf, w->blen, err));
  }
  w->blen = 0;
  w->frame_events = 0;
  return NA64_OK;
}

static int cmp_ldc_entry(const void *a, const void *b)
{
  const na64_daq_ldc_entry *x = a, *y = b;
  return (x->source_id > y->source_id) - (x->source_id < y->source_id);
}

static uint32_t ldc_of(const na64_daq_writer *w, uint32_t source)
{
  size_t lo = 0, hi = w->opt.nldc_map;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (w->ldc_map[mid].source_id < source) lo = mid + 1;
    else hi = mid;
  }
  return lo < w->opt.nldc_map && w->ldc_map[lo].source_id == source ? w->ldc_map[lo].ldc_id : w->opt.default_ldc;
}

static int make_writer(const na64_daq_writer_options *opt, na64_daq_writer **out, na64_err *err)
{
  na64_daq_writer *w = calloc(1, sizeof *w);
  if (!w) return na64_err_set(err, NA64_ENOMEM, "no memory for a DATE writer");
  if (opt) w->opt = *opt;
  if (!w->opt.frame_bytes) w->opt.frame_bytes = DEFAULT_FRAME_BYTES;
  if (w->opt.nldc_map) {
    if (!w->opt.ldc_map) {
      free(w);
      return na64_err_set(err, NA64_EINVAL, "DATE writer: nldc_map %zu but no ldc_map", opt->nldc_map);
    }
    w->ldc_map = malloc(w->opt.nldc_map * sizeof *w->ldc_map);
    if (!w->ldc_map) {
      free(w);
      return na64_err_set(err, NA64_ENOMEM, "no memory for a DATE writer");
    }
    memcpy(w->ldc_map, w->opt.ldc_map, w->opt.nldc_map * sizeof *w->ldc_map);
    qsort(w->ldc_map, w->opt.nldc_map, sizeof *w->ldc_map, cmp_ldc_entry);
  }
  w->opt.ldc_map = NULL; /* the caller's array need not outlive open */
  if (!w->opt.level) w->opt.level = 3;
  if (w->opt.compress) {
    if (w->opt.level < ZSTD_minCLevel() || w->opt.level > ZSTD_maxCLevel()) {
      int lvl = w->opt.level;
      free(w->ldc_map);
      free(w);
      return na64_err_set(err, NA64_EINVAL, "DATE writer: zstd level %d outside [%d, %d]", lvl,
                          ZSTD_minCLevel(), ZSTD_maxCLevel());
    }
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) {
      free(w->ldc_map);
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
    free(w->ldc_map);
    free(w);
    return na64_err_set(err, NA64_ENOMEM, "no memory for a DATE writer");
  }
  memcpy(w->path, path, nl);
  /* DESIGN.md: written beside the target and renamed over it only when closed complete, so a
   * failed or interrupted run leaves the old file (a FIFO or device is written straight through). */
  int st = na64_outfile_open(path, 0, &w->out, err);
  if (st != NA64_OK) {
    free(w->path);
    ZSTD_freeCCtx(w->cctx);
    free(w->ldc_map);
    free(w);
    return st;
  }
  w->f = na64_outfile_stream(w->out);
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
  w->hdr = *h;
  w->hdr.magic = NA64_DAQ_MAGIC;
  w->hdr.head_size = NA64_DAQ_HEADER_SIZE;
  if (!w->hdr.version) w->hdr.version = NA64_DAQ_VERSION;
  if (grow(&w->buf, &w->bcap, w->blen + NA64_DAQ_HEADER_SIZE)) return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory");
  w->slen = 0;
  w->nblocks = 0;
  w->direct = 1;
  w->ev_start = w->blen;
  w->blen += NA64_DAQ_HEADER_SIZE; /* the event's (GDC) header, written by end_event */
  w->sub_start = 0;
  w->reserved = 0;
  w->in_event = 1;
  return NA64_OK;
}

/* The header of LDC sub-event `ldc` of the event being built (the event header without the super
 * attribute); its size is set when the sub-event is complete. */
static na64_daq_header sub_header(const na64_daq_writer *w, uint32_t ldc)
{
  na64_daq_header sh = w->hdr;
  sh.type_attribute[2] &= ~NA64_DAQ_ATTR_SUPER_EVENT;
  sh.ldc_id = ldc;
  return sh;
}

/* direct: set the size of the open sub-event, if any */
static void close_sub(na64_daq_writer *w)
{
  if (!w->sub_start) return;
  uint32_t ssz = (uint32_t)(w->blen - w->sub_start);
  memcpy(w->buf + w->sub_start, &ssz, 4);
  w->sub_start = 0;
}

/* direct -> staged: the blocks written into buf so far move to the stage (in their order), and buf
 * drops the event again. Called when a block's LDC is below the open sub-event's. */
static int to_stage(na64_daq_writer *w, na64_err *err)
{
  if (grow(&w->stage, &w->scap, w->slen)) return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory");
  size_t off = 0;
  for (size_t i = 0; i < w->nblocks; ++i) {
    memcpy(w->stage + off, w->buf + w->blocks[i].off, w->blocks[i].len);
    w->blocks[i].off = off;
    off += w->blocks[i].len;
  }
  w->blen = w->ev_start;
  w->direct = 0;
  w->sub_start = 0;
  return NA64_OK;
}

/* Room for one equipment block of at most max_words payload words in the event being built (the
 * block's LDC sub-event opened first when direct, as add_equipment always did); *words points behind
 * the 28 header bytes, which commit_equipment writes. add_equipment is reserve + copy + commit. */
int na64_daq_writer_reserve_equipment(na64_daq_writer *w, uint32_t source_id, size_t max_words, uint32_t **words,
                                      na64_err *err)
{
  NA64_CALL(usable(w, err));
  if (!words) return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_reserve_equipment: NULL argument");
  *words = NULL;
  if (!w->in_event) return na64_err_set(err, NA64_EINVAL, "%s: equipment outside an event", wname(w));
  /* one reservation at a time: a second one would leave the first one's sub-event header (opened
   * below when direct) behind as an empty LDC sub-event that add_equipment never writes */
  if (w->reserved)
    return na64_err_set(err, NA64_EINVAL, "%s: equipment %u reserved while the block of source %u awaits its commit",
                        wname(w), (unsigned)source_id, (unsigned)w->res_src);
  /* room for the GDC header and one sub-event header per block at most */
  size_t overhead = NA64_DAQ_HEADER_SIZE * (w->nblocks + 3);
  if (max_words > (UINT32_MAX - w->slen - overhead - NA64_DAQ_EQUIPMENT_HEADER_SIZE) / 4)
    return na64_err_set(err, NA64_ERANGE, "%s: equipment %u of %zu words makes the event exceed 4 GiB",
                        wname(w), (unsigned)source_id, max_words);
  size_t add = NA64_DAQ_EQUIPMENT_HEADER_SIZE + 4 * max_words;
  if (w->nblocks == w->capblocks) {
    size_t nc = w->capblocks ? 2 * w->capblocks : 16;
    struct staged *nb = realloc(w->blocks, nc * sizeof *nb);
    if (!nb) return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory");
    w->blocks = nb;
    w->capblocks = nc;
  }
  const uint32_t ldc = ldc_of(w, source_id);
  if (w->direct && !w->opt.plain_events && w->sub_start && ldc < w->sub_ldc) NA64_CALL(to_stage(w, err));
  size_t off;
  if (w->direct) {
    if (grow(&w->buf, &w->bcap, w->blen + NA64_DAQ_HEADER_SIZE + add))
      return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory");
    if (!w->opt.plain_events && (!w->sub_start || ldc != w->sub_ldc)) { /* a new LDC sub-event */
      close_sub(w);
      na64_daq_header sh = sub_header(w, ldc);
      w->sub_start = w->blen;
      w->sub_ldc = ldc;
      memcpy(w->buf + w->blen, &sh, sizeof sh);
      w->blen += sizeof sh;
    }
    off = w->blen;
    *words = (uint32_t *)(void *)(w->buf + off + NA64_DAQ_EQUIPMENT_HEADER_SIZE); /* offsets are multiples of 4 */
  } else {
    if (grow(&w->stage, &w->scap, w->slen + add)) return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory");
    off = w->slen;
    *words = (uint32_t *)(void *)(w->stage + off + NA64_DAQ_EQUIPMENT_HEADER_SIZE);
  }
  w->res_src = source_id;
  w->res_ldc = ldc;
  w->res_off = off;
  w->res_max = max_words;
  w->reserved = 1;
  return NA64_OK;
}

int na64_daq_writer_commit_equipment(na64_daq_writer *w, const na64_daq_equipment_header *eh, size_t nwords,
                                     na64_err *err)
{
  NA64_CALL(usable(w, err));
  if (!eh) return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_commit_equipment: NULL argument");
  if (!w->in_event || !w->reserved)
    return na64_err_set(err, NA64_EINVAL, "%s: commit_equipment without reserve_equipment", wname(w));
  if (nwords > w->res_max)
    return na64_err_set(err, NA64_ERANGE, "%s: equipment %u: %zu words committed, %zu reserved", wname(w),
                        (unsigned)eh->id, nwords, w->res_max);
  if (eh->id != w->res_src)
    return na64_err_set(err, NA64_EINVAL, "%s: equipment %u committed into the room reserved for source %u",
                        wname(w), (unsigned)eh->id, (unsigned)w->res_src);
  w->reserved = 0;
  size_t add = NA64_DAQ_EQUIPMENT_HEADER_SIZE + 4 * nwords;
  na64_daq_equipment_header e = *eh;
  /* DATE >= 3.2 counts the header in equipmentSize; 3.0-3.1 the payload only (AliRawReaderDate) */
  e.size = (uint32_t)(na64_daq_version_sizes_include_header(w->hdr.version) ? add : 4 * nwords);
  if (!e.basic_element_size) e.basic_element_size = 4;
  memcpy((w->direct ? w->buf : w->stage) + w->res_off, &e, sizeof e);
  if (w->direct) w->blen += add;
  w->blocks[w->nblocks++] = (struct staged){w->res_ldc, w->res_off, add};
  w->slen += add;
  return NA64_OK;
}

int na64_daq_writer_add_equipment(na64_daq_writer *w, const na64_daq_equipment_header *eh,
                                  const uint32_t *words, size_t nwords, na64_err *err)
{
  NA64_CALL(usable(w, err));
  if (!eh || (!words && nwords)) return na64_err_set(err, NA64_EINVAL, "na64_daq_writer_add_equipment: NULL argument");
  uint32_t *dst;
  NA64_CALL(na64_daq_writer_reserve_equipment(w, eh->id, nwords, &dst, err));
  if (nwords) memcpy(dst, words, 4 * nwords);
  return na64_daq_writer_commit_equipment(w, eh, nwords, err);
}

static void put_header(na64_daq_writer *w, const na64_daq_header *h)
{
  memcpy(w->buf + w->blen, h, sizeof *h);
  w->blen += sizeof *h;
}

/* The smallest LDC id above `last` (any, if first) among the staged blocks; an event without blocks
 * (start/end of burst, ...) gets one empty sub-event per LDC of the map, or of default_ldc. */
static int next_ldc(const na64_daq_writer *w, int first, uint32_t last, uint32_t *next)
{
  int found = 0;
  size_t n = w->nblocks ? w->nblocks : w->opt.nldc_map ? w->opt.nldc_map : 1;
  for (size_t i = 0; i < n; ++i) {
    uint32_t l = w->nblocks ? w->blocks[i].ldc : w->opt.nldc_map ? w->ldc_map[i].ldc_id : w->opt.default_ldc;
    if ((first || l > last) && (!found || l < *next)) {
      *next = l;
      found = 1;
    }
  }
  return found;
}

/* Assemble the staged event into w->buf: plain, or GDC header + one LDC sub-event per LDC id. */
static int assemble(na64_daq_writer *w, na64_err *err)
{
  size_t total = NA64_DAQ_HEADER_SIZE + w->slen +
                 (w->opt.plain_events ? 0 : NA64_DAQ_HEADER_SIZE * (w->nblocks + w->opt.nldc_map + 1));
  if (total > UINT32_MAX) return na64_err_set(err, NA64_ERANGE, "%s: event exceeds 4 GiB", wname(w));
  if (grow(&w->buf, &w->bcap, w->blen + total)) return na64_err_set(err, NA64_ENOMEM, "DATE writer: no memory");
  size_t start = w->blen;
  na64_daq_header h = w->hdr;
  if (w->opt.plain_events) {
    h.type_attribute[2] &= ~NA64_DAQ_ATTR_SUPER_EVENT;
    put_header(w, &h);
    if (w->slen) memcpy(w->buf + w->blen, w->stage, w->slen);
    w->blen += w->slen;
  } else {
    h.type_attribute[2] |= NA64_DAQ_ATTR_SUPER_EVENT;
    h.ldc_id = NA64_DAQ_VOID_ID; /* the GDC's header of a super event belongs to no LDC */
    put_header(w, &h);
    /* LDC ids in ascending order; blocks of one LDC in the order they were added */
    uint32_t last = 0, next = 0;
    int first = 1;
    while (next_ldc(w, first, last, &next)) {
      size_t sub = w->blen;
      na64_daq_header sh = sub_header(w, next);
      put_header(w, &sh);
      for (size_t i = 0; i < w->nblocks; ++i)
        if (w->blocks[i].ldc == next) {
          memcpy(w->buf + w->blen, w->stage + w->blocks[i].off, w->blocks[i].len);
          w->blen += w->blocks[i].len;
        }
      uint32_t ssz = (uint32_t)(w->blen - sub);
      memcpy(w->buf + sub, &ssz, 4);
      last = next;
      first = 0;
      if (next == UINT32_MAX) break;
    }
  }
  uint32_t size = (uint32_t)(w->blen - start);
  memcpy(w->buf + start, &size, 4);
  return NA64_OK;
}

static int event_done(na64_daq_writer *w, na64_err *err)
{
  w->events++;
  w->frame_events++;
  if (w->opt.compress) {
    if (w->blen >= w->opt.frame_bytes || (w->opt.frame_events && w->frame_events >= w->opt.frame_events))
      return drain(w, err);
  } else if (!w->memory && w->blen >= PLAIN_FLUSH_BYTES) { /* a plain memory stream is buf itself (drain) */
    return drain(w, err);
  }
  return NA64_OK;
}

int na64_daq_writer_end_event(na64_daq_writer *w, na64_err *err)
{
  NA64_CALL(usable(w, err));
  if (!w->in_event) return na64_err_set(err, NA64_EINVAL, "%s: end_event without begin_event", wname(w));
  w->in_event = 0;
  if (w->reserved) { /* the event is incomplete (and may hold the reservation's empty sub-event): dropped */
    w->reserved = 0;
    w->blen = w->ev_start;
    return na64_err_set(err, NA64_EINVAL, "%s: end_event while the block of source %u awaits its commit (event dropped)",
                        wname(w), (unsigned)w->res_src);
  }
  if (w->direct && w->nblocks) {
    if (w->blen - w->ev_start > UINT32_MAX) {
      w->blen = w->ev_start;
      return na64_err_set(err, NA64_ERANGE, "%s: event exceeds 4 GiB", wname(w));
    }
    close_sub(w);
    na64_daq_header h = w->hdr;
    if (w->opt.plain_events) h.type_attribute[2] &= ~NA64_DAQ_ATTR_SUPER_EVENT;
    else {
      h.type_attribute[2] |= NA64_DAQ_ATTR_SUPER_EVENT;
      h.ldc_id = NA64_DAQ_VOID_ID; /* the GDC's header of a super event belongs to no LDC */
    }
    h.size = (uint32_t)(w->blen - w->ev_start);
    memcpy(w->buf + w->ev_start, &h, sizeof h);
    return event_done(w, err);
  }
  w->blen = w->ev_start; /* staged, or no blocks (empty sub-events per LDC): assembled here */
  NA64_CALL(assemble(w, err));
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
  free(w->stage);
  free(w->blocks);
  free(w->ldc_map);
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
    w->in_event = 0;
    w->blen = w->ev_start;
  }
  if (!w->failed) { /* the events before an unfinished one are still written */
    int fs = na64_daq_writer_flush(w, st == NA64_OK ? err : NULL);
    if (st == NA64_OK) st = fs;
  }
  if (w->out) {
    /* a write failed: keep the old file; otherwise commit (check, fsync, close, rename) */
    if (w->failed) na64_outfile_abort(w->out);
    else {
      int cs = na64_outfile_commit(w->out, st == NA64_OK ? err : NULL);
      if (st == NA64_OK) st = cs;
    }
  }
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
    w->in_event = 0;
    w->blen = w->ev_start;
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
