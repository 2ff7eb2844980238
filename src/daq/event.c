/* DATE events: type names, the structural check shared by reader and writer, equipment iteration.
 * Header layouts: DATE v3.14 event.h (eventHeaderStruct, equipmentHeaderStruct); see
 * docs/raw-format.md §1-2. */
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

int na64_daq_check_event_(const uint8_t *p, size_t rem, size_t max_size, uint32_t *size, int *swapped,
                          char *detail, size_t dlen)
{
  *size = 0;
  *swapped = 0;
  if (rem < 8) {
    snprintf(detail, dlen, "%zu trailing bytes, too few for an event", rem);
    return NA64_DAQ_BAD_MAGIC;
  }
  uint32_t magic = daq_rd32(p + 4);
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
  uint32_t head = daq_get32(p + 8, sw);
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
  if (sz > rem) {
    snprintf(detail, dlen, "eventSize %u but only %zu bytes left", (unsigned)sz, rem);
    return NA64_DAQ_TRUNCATED;
  }
  /* The equipment blocks must tile [head, sz) exactly: this is what catches size fields that lie. */
  size_t off = head;
  int k = 0;
  while (off < sz) {
    if (sz - off < NA64_DAQ_EQUIPMENT_HEADER_SIZE) {
      snprintf(detail, dlen, "equipment %d at +%zu: %zu bytes left, less than its 28-byte header", k, off,
               (size_t)(sz - off));
      return NA64_DAQ_BAD_EQUIPMENT;
    }
    uint32_t esz = daq_get32(p + off, sw);
    if (esz % 4 != 0 || esz > sz - off - NA64_DAQ_EQUIPMENT_HEADER_SIZE) {
      snprintf(detail, dlen, "equipment %d at +%zu: equipmentSize %u (%zu bytes left in the event)", k,
               off, (unsigned)esz, (size_t)(sz - off - NA64_DAQ_EQUIPMENT_HEADER_SIZE));
      return NA64_DAQ_BAD_EQUIPMENT;
    }
    off += NA64_DAQ_EQUIPMENT_HEADER_SIZE + esz;
    ++k;
  }
  return 0;
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

int na64_daq_event_next_equipment(const na64_daq_event *ev, size_t *cursor, na64_daq_equipment *eq)
{
  if (!ev || !ev->data || !cursor || !eq) return 0;
  size_t off = *cursor ? *cursor : ev->header.head_size;
  if (off < NA64_DAQ_HEADER_SIZE) off = NA64_DAQ_HEADER_SIZE;
  if (off >= ev->size || ev->size - off < NA64_DAQ_EQUIPMENT_HEADER_SIZE) return 0;
  memcpy(&eq->header, ev->data + off, sizeof eq->header);
  size_t esz = eq->header.size;
  if (esz % 4 != 0 || esz > ev->size - off - NA64_DAQ_EQUIPMENT_HEADER_SIZE) return 0;
  eq->words = (const uint32_t *)(const void *)(ev->data + off + NA64_DAQ_EQUIPMENT_HEADER_SIZE);
  eq->nwords = esz / 4;
  *cursor = off + NA64_DAQ_EQUIPMENT_HEADER_SIZE + esz;
  return 1;
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
