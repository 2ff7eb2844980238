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

/* Check that the bytes p[0..rem) begin with one structurally intact DATE event: magic (either byte
 * order), 80 <= eventHeadSize <= eventSize, sizes multiples of 4, eventSize <= min(rem, max_size),
 * and equipment blocks tiling the payload exactly. Returns 0 if intact, else an na64_daq_reason, with
 * *size = the claimed eventSize when the header could be read (0 otherwise) and a description in
 * detail. *swapped tells the byte order found. */
int na64_daq_check_event_(const uint8_t *p, size_t rem, size_t max_size, uint32_t *size, int *swapped,
                          char *detail, size_t dlen);

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
