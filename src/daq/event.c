/* DATE events: type names, the structural checks shared by reader and writer, iteration over LDC
 * sub-events and equipment blocks. Header layouts and attributes: DATE v3.14 event.h
 * (eventHeaderStruct, equipmentHeaderStruct, ATTR_SUPER_EVENT = 68, ATTR_EVENT_DATA_TRUNCATED = 94,
 * ATTR_EVENT_ERROR = 95); equipmentSize convention by eventVersion: ALICE AliRawReaderDate.cxx
 * GetEquipmentSize (version <= 0x00030001: payload only). See docs/raw-format.md §1-3. */
#include <stddef.h>
#include <stdio.h>

#include "daq/daq_internal.h"

_Static_assert(sizeof(na64_daq_header) == NA64_DAQ_HEADER_SIZE, "the event header is 80 bytes");
_Static_assert(sizeof(na64_daq_equipment_header) == NA64_DAQ_EQUIPMENT_HEADER_SIZE,
               "the equipment header is 28 bytes");

const char *na64_daq_event_type_name(uint32_t type)
{
  switch (type) {
  case NA64_DAQ_START_OF_RUN: return "start_of_run";
  case NA64_DAQ_END_OF_RUN: return "end_of_run";
  case NA64_DAQ_START_OF_RUN_FILES: return "start_of_run_files";
  case NA64_DAQ_END_OF_RUN_FILES: return "end_of_run_files";
  case NA64_DAQ_START_OF_BURST: return "start_of_burst";
  case NA64_DAQ_END_OF_BURST: return "end_of_burst";
  case NA64_DAQ_PHYSICS_EVENT: return "physics";
  case NA64_DAQ_CALIBRATION_EVENT: return "calibration";
  case NA64_DAQ_EVENT_FORMAT_ERROR: return "format_error";
  case NA64_DAQ_START_OF_DATA: return "start_of_data";
  case NA64_DAQ_END_OF_DATA: return "end_of_data";
  case NA64_DAQ_SYSTEM_SOFTWARE_TRIGGER_EVENT: return "system_software_trigger";
  case NA64_DAQ_DETECTOR_SOFTWARE_TRIGGER_EVENT: return "detector_software_trigger";
  case NA64_DAQ_SYNC_EVENT: return "sync";
  default: return "unknown";
  }
}

const char *na64_daq_reason_name(int reason)
{
  switch (reason) {
  case NA64_DAQ_BAD_MAGIC: return "bad_magic";
  case NA64_DAQ_BAD_HEADER: return "bad_header";
  case NA64_DAQ_BAD_SIZE: return "bad_size";
  case NA64_DAQ_TRUNCATED: return "truncated";
  case NA64_DAQ_BAD_EQUIPMENT: return "bad_equipment";
  case NA64_DAQ_BAD_FRAME: return "bad_frame";
  case NA64_DAQ_BAD_SUBEVENT: return "bad_subevent";
  case NA64_DAQ_FLAGGED: return "flagged";
  default: return "unknown";
  }
}

const char *na64_daq_equipment_type_name(uint32_t type)
{
  switch (type) {
  case NA64_DAQ_EQ_F1: return "F1";
  case NA64_DAQ_EQ_SADC: return "SADC";
  case NA64_DAQ_EQ_APV: return "APV";
  default: return "raw";
  }
}

int na64_daq_check_outer_(const uint8_t *p, size_t rem, size_t max_size, uint32_t *size, int *swapped,
                          char *detail, size_t dlen)
{
  *size = 0;
  *swapped = 0;
  if (rem < 8) {
    snprintf(detail, dlen, "%zu trailing bytes, too few for an event", rem);
    return NA64_DAQ_BAD_MAGIC;
  }
  uint32_t magic = daq_rd32(p + DAQ_OFF_MAGIC);
  int sw;
  if (magic == NA64_DAQ_MAGIC) sw = 0;
  else if (magic == NA64_DAQ_MAGIC_SWAPPED) sw = 1;
  else {
    snprintf(detail, dlen, "eventMagic 0x%08X, expected 0x%08X", (unsigned)magic, NA64_DAQ_MAGIC);
    return NA64_DAQ_BAD_MAGIC;
  }
  *swapped = sw;
  uint32_t sz = daq_get32(p, sw);
  *size = sz;
  if (rem < NA64_DAQ_HEADER_SIZE) {
    snprintf(detail, dlen, "only %zu bytes left for an 80-byte event header", rem);
    return NA64_DAQ_TRUNCATED;
  }
  uint32_t head = daq_get32(p + DAQ_OFF_HEAD, sw);
  if (head < NA64_DAQ_HEADER_SIZE || head % 4 != 0 || head > sz) {
    snprintf(detail, dlen, "eventHeadSize %u (must be >= 80, a multiple of 4 and <= eventSize %u)",
             (unsigned)head, (unsigned)sz);
    return NA64_DAQ_BAD_HEADER;
  }
  if (sz % 4 != 0) {
    snprintf(detail, dlen, "eventSize %u is not a multiple of 4", (unsigned)sz);
    return NA64_DAQ_BAD_HEADER;
  }
  if (sz > max_size) {
    snprintf(detail, dlen, "eventSize %u exceeds the limit %zu", (unsigned)sz, max_size);
    return NA64_DAQ_BAD_SIZE;
  }
  return 0;
}

/* Equipment blocks must tile [from, to) of the (sub-)event exactly: this is what catches size fields
 * that lie. incl: equipmentSize counts the 28-byte header (eventVersion >= 3.2). */
static int tile_equipment(const uint8_t *p, size_t from, size_t to, int sw, int incl, int sub, char *detail,
                          size_t dlen)
{
  char where[40] = ""; /* formatted only for an error: this runs for every event read */
  size_t off = from;
  for (int k = 0; off < to; ++k) {
    size_t left = to - off;
    if (left < NA64_DAQ_EQUIPMENT_HEADER_SIZE) {
      if (sub >= 0) snprintf(where, sizeof where, "LDC sub-event %d, ", sub);
      snprintf(detail, dlen, "%sequipment %d at +%zu: %zu bytes left, less than its 28-byte header", where, k, off,
               left);
      return NA64_DAQ_BAD_EQUIPMENT;
    }
    uint32_t esz = daq_get32(p + off, sw);
    size_t total = incl ? esz : (size_t)esz + NA64_DAQ_EQUIPMENT_HEADER_SIZE;
    if (esz % 4 != 0 || total < NA64_DAQ_EQUIPMENT_HEADER_SIZE || total > left) {
      if (sub >= 0) snprintf(where, sizeof where, "LDC sub-event %d, ", sub);
      snprintf(detail, dlen, "%sequipment %d at +%zu: equipmentSize %u (%s, %zu bytes left)", where, k, off,
               (unsigned)esz, incl ? "header included" : "payload only", left);
      return NA64_DAQ_BAD_EQUIPMENT;
    }
    off += total;
  }
  return 0;
}

static int flagged(uint32_t attr2, const char *what, char *detail, size_t dlen)
{
  if (!(attr2 & (NA64_DAQ_ATTR_DATA_TRUNCATED | NA64_DAQ_ATTR_EVENT_ERROR))) return 0;
  snprintf(detail, dlen, "%s carries the %s attribute", what,
           attr2 & NA64_DAQ_ATTR_DATA_TRUNCATED ? "truncated-payload (94)" : "event-error (95)");
  return NA64_DAQ_FLAGGED;
}

int na64_daq_check_inner_(const uint8_t *p, uint32_t sz, int sw, uint32_t *nsub, char *detail, size_t dlen)
{
  *nsub = 0;
  uint32_t head = daq_get32(p + DAQ_OFF_HEAD, sw), attr2 = daq_get32(p + DAQ_OFF_ATTR2, sw);
  int reason = flagged(attr2, "the event", detail, dlen);
  if (reason) return reason;
  if (!(attr2 & NA64_DAQ_ATTR_SUPER_EVENT))
    return tile_equipment(p, head, sz, sw, na64_daq_version_sizes_include_header(daq_get32(p + DAQ_OFF_VERSION, sw)),
                          -1, detail, dlen);
  /* A super event: the GDC's header, then complete LDC sub-events (DATE event.h ATTR_SUPER_EVENT). */
  size_t off = head;
  uint32_t k = 0;
  for (; off < sz; ++k) {
    const uint8_t *q = p + off;
    size_t left = sz - off;
    if (left < NA64_DAQ_HEADER_SIZE || daq_rd32(q + DAQ_OFF_MAGIC) != daq_rd32(p + DAQ_OFF_MAGIC)) {
      snprintf(detail, dlen, "LDC sub-event %u at +%zu: %s", (unsigned)k, off,
               left < NA64_DAQ_HEADER_SIZE ? "fewer than 80 bytes left" : "no event magic");
      return NA64_DAQ_BAD_SUBEVENT;
    }
    uint32_t ssz = daq_get32(q, sw), shead = daq_get32(q + DAQ_OFF_HEAD, sw), sattr = daq_get32(q + DAQ_OFF_ATTR2, sw);
    if (ssz % 4 != 0 || shead < NA64_DAQ_HEADER_SIZE || shead % 4 != 0 || shead > ssz || ssz > left) {
      snprintf(detail, dlen, "LDC sub-event %u at +%zu: eventSize %u, eventHeadSize %u (%zu bytes left)",
               (unsigned)k, off, (unsigned)ssz, (unsigned)shead, left);
      return NA64_DAQ_BAD_SUBEVENT;
    }
    if (sattr & (NA64_DAQ_ATTR_DATA_TRUNCATED | NA64_DAQ_ATTR_EVENT_ERROR | NA64_DAQ_ATTR_SUPER_EVENT)) {
      char what[64]; /* formatted only when needed: this loop runs for every sub-event read */
      snprintf(what, sizeof what, "LDC sub-event %u (LDC %u)", (unsigned)k, (unsigned)daq_get32(q + DAQ_OFF_LDC, sw));
      if ((reason = flagged(sattr, what, detail, dlen))) return reason;
      snprintf(detail, dlen, "%s at +%zu is itself a super event", what, off);
      return NA64_DAQ_BAD_SUBEVENT;
    }
    int incl = na64_daq_version_sizes_include_header(daq_get32(q + DAQ_OFF_VERSION, sw));
    if ((reason = tile_equipment(q, shead, ssz, sw, incl, (int)k, detail, dlen))) return reason;
    off += ssz;
  }
  *nsub = k;
  return 0;
}

int na64_daq_check_event_(const uint8_t *p, size_t rem, size_t max_size, uint32_t *size, int *swapped,
                          char *detail, size_t dlen)
{
  int reason = na64_daq_check_outer_(p, rem, max_size, size, swapped, detail, dlen);
  if (reason) return reason;
  if (*size > rem) {
    snprintf(detail, dlen, "eventSize %u but only %zu bytes left", (unsigned)*size, rem);
    return NA64_DAQ_TRUNCATED;
  }
  uint32_t nsub;
  return na64_daq_check_inner_(p, *size, *swapped, &nsub, detail, dlen);
}

size_t na64_daq_find_magic_(const uint8_t *p, size_t n, size_t from)
{
  /* the magic bytes on disk are FE 5A 1E DA (little-endian writer) or DA 1E 5A FE (swapped) */
  if (n < 8) return n;
  for (size_t q = from; q + 8 <= n; ++q) {
    const uint8_t *m = p + q + 4;
    if (m[0] == 0xFE) {
      if (m[1] == 0x5A && m[2] == 0x1E && m[3] == 0xDA) return q;
    } else if (m[0] == 0xDA) {
      if (m[1] == 0x1E && m[2] == 0x5A && m[3] == 0xFE) return q;
    }
  }
  return n;
}

/* The LDC sub-event (or plain event) at byte off of an event's data, bounds-checked. */
static int read_sub(const uint8_t *data, size_t size, size_t off, uint32_t index, na64_daq_subevent *sub)
{
  if (off >= size || size - off < NA64_DAQ_HEADER_SIZE) return 0;
  memcpy(&sub->header, data + off, sizeof sub->header);
  size_t ssz = sub->header.size;
  if (ssz < NA64_DAQ_HEADER_SIZE || ssz > size - off || sub->header.head_size < NA64_DAQ_HEADER_SIZE ||
      sub->header.head_size > ssz)
    return 0;
  sub->data = data + off;
  sub->size = ssz;
  sub->offset = off;
  sub->index = index;
  return 1;
}

int na64_daq_event_next_subevent(const na64_daq_event *ev, size_t *cursor, na64_daq_subevent *sub)
{
  if (!ev || !ev->data || !cursor || !sub || ev->size < NA64_DAQ_HEADER_SIZE) return 0;
  if (!na64_daq_event_is_super(ev)) { /* a plain event is its own single "sub-event" */
    if (*cursor) return 0;
    if (!read_sub(ev->data, ev->size, 0, 0, sub)) return 0;
    sub->size = ev->size;
    *cursor = ev->size;
    return 1;
  }
  /* *cursor is the event offset just past the last sub-event returned; walk from the start to find
   * the next one and its index (events have a handful of LDCs, so this costs nothing) */
  size_t off = ev->header.head_size;
  uint32_t k = 0;
  while (off < ev->size) {
    na64_daq_subevent s;
    if (!read_sub(ev->data, ev->size, off, k, &s)) return 0;
    if (off >= *cursor) {
      *sub = s;
      *cursor = off + s.size;
      return 1;
    }
    off += s.size;
    ++k;
  }
  return 0;
}

int na64_daq_subevent_next_equipment(const na64_daq_subevent *sub, size_t *cursor, na64_daq_equipment *eq)
{
  if (!sub || !sub->data || !cursor || !eq) return 0;
  size_t off = *cursor > sub->header.head_size ? *cursor : sub->header.head_size;
  if (off >= sub->size || sub->size - off < NA64_DAQ_EQUIPMENT_HEADER_SIZE) return 0;
  memcpy(&eq->header, sub->data + off, sizeof eq->header);
  size_t esz = eq->header.size, left = sub->size - off;
  size_t total = na64_daq_version_sizes_include_header(sub->header.version) ? esz
                                                                            : esz + NA64_DAQ_EQUIPMENT_HEADER_SIZE;
  if (esz % 4 != 0 || total < NA64_DAQ_EQUIPMENT_HEADER_SIZE || total > left) return 0;
  eq->words = (const uint32_t *)(const void *)(sub->data + off + NA64_DAQ_EQUIPMENT_HEADER_SIZE);
  eq->nwords = (total - NA64_DAQ_EQUIPMENT_HEADER_SIZE) / 4;
  eq->ldc_id = sub->header.ldc_id;
  eq->subevent = sub->index;
  eq->offset = sub->offset + off;
  *cursor = off + total;
  return 1;
}

/* The bounds of the sub-event at byte off, with read_sub's checks, from its two size fields only. */
static int sub_extent(const uint8_t *data, size_t size, size_t off, size_t *ssz)
{
  if (off >= size || size - off < NA64_DAQ_HEADER_SIZE) return 0;
  na64_daq_header h;
  memcpy(&h.size, data + off + offsetof(na64_daq_header, size), sizeof h.size);
  memcpy(&h.head_size, data + off + offsetof(na64_daq_header, head_size), sizeof h.head_size);
  if (h.size < NA64_DAQ_HEADER_SIZE || h.size > size - off || h.head_size < NA64_DAQ_HEADER_SIZE || h.head_size > h.size)
    return 0;
  *ssz = h.size;
  return 1;
}

/* The next block of sub-event sub at or after event offset *cursor; 0 past its last block, -1 if a
 * block overruns the sub-event. */
static int next_in_sub(const na64_daq_subevent *sub, size_t *cursor, na64_daq_equipment *eq)
{
  size_t in = *cursor > sub->offset ? *cursor - sub->offset : 0;
  if (na64_daq_subevent_next_equipment(sub, &in, eq)) {
    *cursor = sub->offset + in;
    return 1;
  }
  if ((in > sub->header.head_size ? in : sub->header.head_size) < sub->size) return -1; /* a block overruns */
  *cursor = sub->offset + sub->size;
  return 0;
}

int na64_daq_event_next_equipment(const na64_daq_event *ev, size_t *cursor, na64_daq_equipment *eq)
{
  if (!ev || !ev->data || !cursor || !eq) return 0;
  /* *cursor is the event offset just past the last block returned (0 at the start): find the
   * sub-event holding that position and continue inside it, then in the following ones */
  na64_daq_subevent sub;
  if (!na64_daq_event_is_super(ev) || ev->size < NA64_DAQ_HEADER_SIZE) {
    size_t sc = 0;
    if (!na64_daq_event_next_subevent(ev, &sc, &sub) || *cursor >= sub.offset + sub.size) return 0;
    return next_in_sub(&sub, cursor, eq) > 0;
  }
  /* a super event: the sub-events before the cursor are skipped by their size fields alone (this
   * runs once per block, and the full header copy of each sub-event dominated it) */
  size_t off = ev->header.head_size, ssz = 0;
  for (uint32_t k = 0; off < ev->size; off += ssz, ++k) {
    if (!sub_extent(ev->data, ev->size, off, &ssz)) return 0;
    if (*cursor >= off + ssz) continue;
    if (!read_sub(ev->data, ev->size, off, k, &sub)) return 0;
    int got = next_in_sub(&sub, cursor, eq);
    if (got) return got > 0;
  }
  return 0;
}

int na64_daq_decode_finish_(const char *what, const na64_daq_equipment *eq, const daq_errs *e, size_t items,
                            na64_daq_decode_stats *stats, na64_err *err)
{
  if (stats) {
    stats->words += eq->nwords;
    stats->items += items;
    if (e->n && !stats->errors) {
      stats->first_error = e->first;
      stats->first_word = e->word;
    }
    stats->errors += e->n;
  }
  if (!e->n) return NA64_OK;
  return na64_err_set(err, NA64_EFORMAT, "%s block of source %u: %zu layout error%s, first at word %zu (0x%08X): %s",
                      what, (unsigned)eq->header.id, e->n, e->n == 1 ? "" : "s", e->first, (unsigned)e->word,
                      e->why);
}
