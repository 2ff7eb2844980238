/* Private helpers of the DATE module (src/daq): byte access and the structural check of one event. */
#ifndef NA64_DAQ_INTERNAL_H
#define NA64_DAQ_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "na64/daq.h"

static inline uint32_t daq_rd32(const uint8_t *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline uint32_t daq_bswap32(uint32_t v) { return __builtin_bswap32(v); }

static inline uint32_t daq_get32(const uint8_t *p, int swapped)
{
  uint32_t v = daq_rd32(p);
  return swapped ? daq_bswap32(v) : v;
}

/* Byte offsets of header fields (DATE event.h eventHeaderStruct, 20 32-bit words). */
enum { DAQ_OFF_SIZE = 0, DAQ_OFF_MAGIC = 4, DAQ_OFF_HEAD = 8, DAQ_OFF_VERSION = 12, DAQ_OFF_ATTR2 = 60,
       DAQ_OFF_LDC = 64 };

/* The outer header of the event at p[0..rem): magic (either byte order), 80 <= eventHeadSize <=
 * eventSize, both multiples of 4, eventSize <= max_size. Returns 0 or an na64_daq_reason (TRUNCATED
 * when fewer than 80 bytes remain), with *size = the claimed eventSize when readable (else 0). */
int na64_daq_check_outer_(const uint8_t *p, size_t rem, size_t max_size, uint32_t *size, int *swapped,
                          char *detail, size_t dlen);

/* The inside of an event of sz bytes whose outer header passed: no truncated/error attribute, LDC
 * sub-events (super events) and equipment blocks tiling their payloads exactly, equipmentSize read by
 * the convention of the version of each (sub-)event. Returns 0 or an na64_daq_reason; *nsub = the
 * number of LDC sub-events (0 for a plain event). */
int na64_daq_check_inner_(const uint8_t *p, uint32_t sz, int sw, uint32_t *nsub, char *detail, size_t dlen);

/* Outer and inner checks together, with eventSize <= rem. */
int na64_daq_check_event_(const uint8_t *p, size_t rem, size_t max_size, uint32_t *size, int *swapped,
                          char *detail, size_t dlen);

/* 1 if p[4..8) holds the event magic in either byte order (p must have 8 bytes). */
static inline int daq_has_magic(const uint8_t *p)
{
  uint32_t m = daq_rd32(p + 4);
  return m == NA64_DAQ_MAGIC || m == NA64_DAQ_MAGIC_SWAPPED;
}

/* Position of the first byte q >= from such that p[q+4..q+8) holds the event magic in either byte
 * order; n if none. */
size_t na64_daq_find_magic_(const uint8_t *p, size_t n, size_t from);

/* Layout violations met by a payload decoder: counted, the first one remembered for the message. */
typedef struct daq_errs {
  size_t n, first;
  uint32_t word;
  const char *why;
} daq_errs;

static inline void daq_note(daq_errs *e, size_t i, uint32_t w, const char *why)
{
  if (!e->n++) {
    e->first = i;
    e->word = w;
    e->why = why;
  }
}

/* Fill stats (may be NULL) and turn the violations into NA64_EFORMAT with a message. */
int na64_daq_decode_finish_(const char *what, const na64_daq_equipment *eq, const daq_errs *e, size_t items,
                            na64_daq_decode_stats *stats, na64_err *err);

#endif
