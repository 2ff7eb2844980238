/* APV25 payload (Micromegas, GEM): per chip a header word (chip, event number, hit count), then two
 * words per strip hit holding the channel and the three 12-bit time samples a0, a1, a2 that the
 * COMPASS/NA64 APV readout keeps per strip. Word layout: docs/raw-format.md §5.3. */
#include <math.h>
#include <string.h>

#include "daq/daq_internal.h"

#define APV_SECOND 0u
#define APV_FIRST 1u
#define APV_HEADER 2u

na64_daq_equipment_header na64_daq_apv_equipment(uint32_t source_id, double period_ns)
{
  na64_daq_equipment_header eh;
  memset(&eh, 0, sizeof eh);
  eh.type = NA64_DAQ_EQ_APV;
  eh.id = source_id;
  eh.type_attribute[0] = NA64_DAQ_PAYLOAD_FORMAT;
  if (isfinite(period_ns) && period_ns > 0 && period_ns < 4e6) eh.type_attribute[1] = (uint32_t)lround(period_ns * 1e3);
  eh.basic_element_size = 4;
  return eh;
}

static inline int apv_hit_in_range(const na64_daq_apv_hit *h, size_t i, na64_err *err)
{
  if (h->chip > 63 || h->channel > 127 || h->amp[0] > 4095 || h->amp[1] > 4095 || h->amp[2] > 4095)
    return na64_err_set(err, NA64_ERANGE, "APV hit %zu: chip %u channel %u amplitudes %u %u %u outside 0..63, 0..127, 0..4095",
                        i, h->chip, h->channel, h->amp[0], h->amp[1], h->amp[2]);
  return NA64_OK;
}

static void apv_hit_words(const na64_daq_apv_hit *h, uint32_t *out)
{
  out[0] = (APV_FIRST << 30) | ((uint32_t)h->channel << 23) | h->amp[0];
  out[1] = ((uint32_t)h->amp[2] << 12) | h->amp[1];
}

/* Hits already grouped by ascending chip (what the simulation writes): each chip's header then its
 * hits, the words the general path below writes for them. Returns 0 if the hits are not in that
 * order (the general path then rewrites `out`). With room for 3 words per hit (the most a chip block
 * takes) the words are written in the same pass that checks the order and the ranges. */
static int apv_encode_sorted(const na64_daq_apv_hit *hits, size_t n, uint32_t event, uint32_t *out, size_t cap,
                             size_t *nwords, int *st, na64_err *err)
{
  if (cap / 3 < n) { /* tight room: count the chips first */
    size_t chips = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i > 0 && hits[i].chip < hits[i - 1].chip) return 0;
      chips += i == 0 || hits[i].chip != hits[i - 1].chip;
    }
    if (chips + 2 * n > cap) {
      *st = na64_err_set(err, NA64_ERANGE, "APV encode: %zu words needed, room for %zu", chips + 2 * n, cap);
      return 1;
    }
  }
  const uint32_t head = (APV_HEADER << 30) | ((event & 0xFFFu) << 8);
  size_t k = 0;
  for (size_t a = 0; a < n;) {
    const uint8_t chip = hits[a].chip;
    if (a > 0 && chip < hits[a - 1].chip) return 0;
    size_t b = a, hk = k++;
    for (; b < n && hits[b].chip == chip; ++b, k += 2) {
      const na64_daq_apv_hit *h = &hits[b];
      if (chip > 63 || h->channel > 127 || (h->amp[0] | h->amp[1] | h->amp[2]) > 4095) {
        *st = apv_hit_in_range(h, b, err);
        return 1;
      }
      apv_hit_words(h, out + k);
    }
    if (b - a > 255) {
      *st = na64_err_set(err, NA64_ERANGE, "APV chip %u: more than 255 hits", chip);
      return 1;
    }
    out[hk] = head | ((uint32_t)chip << 24) | (uint32_t)(b - a);
    a = b;
  }
  *nwords = k;
  *st = NA64_OK;
  return 1;
}

int na64_daq_apv_encode(const na64_daq_apv_hit *hits, size_t n, uint32_t event, uint32_t *out, size_t cap,
                        size_t *nwords, na64_err *err)
{
  if ((!hits && n) || !out || !nwords) return na64_err_set(err, NA64_EINVAL, "na64_daq_apv_encode: NULL argument");
  *nwords = 0;
  int st = NA64_OK;
  if (apv_encode_sorted(hits, n, event, out, cap, nwords, &st, err)) {
    if (st != NA64_OK) *nwords = 0;
    return st;
  }
  uint32_t count[64] = {0};
  for (size_t i = 0; i < n; ++i) {
    const na64_daq_apv_hit *h = &hits[i];
    NA64_CALL(apv_hit_in_range(h, i, err));
    if (++count[h->chip] > 255)
      return na64_err_set(err, NA64_ERANGE, "APV chip %u: more than 255 hits", h->chip);
  }
  size_t start[64], total = 0;
  for (int c = 0; c < 64; ++c) {
    start[c] = total;
    if (count[c]) total += 1 + 2 * (size_t)count[c];
  }
  if (total > cap) return na64_err_set(err, NA64_ERANGE, "APV encode: %zu words needed, room for %zu", total, cap);
  for (uint32_t c = 0; c < 64; ++c) {
    if (!count[c]) continue;
    out[start[c]++] = (APV_HEADER << 30) | (c << 24) | ((event & 0xFFFu) << 8) | count[c];
  }
  for (size_t i = 0; i < n; ++i) {
    const na64_daq_apv_hit *h = &hits[i];
    apv_hit_words(h, out + start[h->chip]);
    start[h->chip] += 2;
  }
  *nwords = total;
  return NA64_OK;
}

int na64_daq_apv_decode(const na64_daq_equipment *eq, long expected_event, na64_daq_apv_hit *hits, size_t cap,
                        size_t *nhits, na64_daq_decode_stats *stats, na64_err *err)
{
  if (!eq || (!hits && cap) || !nhits) return na64_err_set(err, NA64_EINVAL, "na64_daq_apv_decode: NULL argument");
  const uint32_t *w = eq->words;
  const size_t nw = eq->nwords;
  daq_errs e = {0, 0, 0, NULL};
  size_t n = 0;
  int in_chip = 0, pending = 0; /* pending: the last hit still waits for its second word */
  uint32_t chip = 0, event = 0, left = 0;
  uint16_t chip_flags = 0;
  for (size_t i = 0; i < nw; ++i) {
    uint32_t x = w[i];
    switch (x >> 30) {
    case APV_HEADER:
      if (pending) hits[n - 1].flags |= NA64_DAQ_APV_INCOMPLETE;
      if (pending || left) daq_note(&e, i, x, "chip header before the previous chip's hits were complete");
      pending = 0;
      in_chip = 1;
      chip = (x >> 24) & 63u;
      event = (x >> 8) & 0xFFFu;
      left = x & 0xFFu;
      chip_flags = (expected_event >= 0 && event != ((unsigned long)expected_event & 0xFFFu)) ? NA64_DAQ_APV_EVENT_MISMATCH : 0;
      if ((x >> 20) & 15u) daq_note(&e, i, x, "reserved bits 23..20 of a chip header not zero");
      break;
    case APV_FIRST:
      /* fast path: a clean hit of the open chip with its second word right after it */
      if (in_chip && !pending && left && n < cap && i + 1 < nw && !(x & 0x007FF000u) && !(w[i + 1] & 0xFF000000u)) {
        uint32_t y = w[i + 1];
        hits[n++] = (na64_daq_apv_hit){.source_id = eq->header.id,
                                   .chip = (uint8_t)chip,
                                   .channel = (uint8_t)((x >> 23) & 127u),
                                   .flags = chip_flags,
                                   .amp = {(uint16_t)(x & 0xFFFu), (uint16_t)(y & 0xFFFu), (uint16_t)((y >> 12) & 0xFFFu)},
                                   .event = (uint16_t)event};
        left--;
        ++i;
        break;
      }
      if (!in_chip) {
        daq_note(&e, i, x, "hit word before any chip header");
        break;
      }
      if (pending) {
        hits[n - 1].flags |= NA64_DAQ_APV_INCOMPLETE;
        daq_note(&e, i, x, "hit without its second word");
      }
      if (left) left--;
      else daq_note(&e, i, x, "more hits than the chip header announced");
      if ((x >> 12) & 0x7FFu) daq_note(&e, i, x, "reserved bits 22..12 of a hit word not zero");
      if (n == cap) {
        na64_daq_decode_finish_("APV", eq, &e, n, stats, NULL);
        *nhits = n;
        return na64_err_set(err, NA64_ERANGE, "APV block of source %u: more than %zu hits", (unsigned)eq->header.id, cap);
      }
      {
        na64_daq_apv_hit *h = &hits[n++];
        h->source_id = eq->header.id;
        h->chip = (uint8_t)chip;
        h->channel = (uint8_t)((x >> 23) & 127u);
        h->flags = chip_flags;
        h->amp[0] = (uint16_t)(x & 0xFFFu);
        h->amp[1] = h->amp[2] = 0;
        h->event = (uint16_t)event;
      }
      pending = 1;
      break;
    case APV_SECOND:
      if (!pending) {
        daq_note(&e, i, x, "second hit word without a first");
        break;
      }
      if (x & 0x3F000000u) daq_note(&e, i, x, "reserved bits 29..24 of a second hit word not zero");
      hits[n - 1].amp[1] = (uint16_t)(x & 0xFFFu);
      hits[n - 1].amp[2] = (uint16_t)((x >> 12) & 0xFFFu);
      pending = 0;
      break;
    default:
      daq_note(&e, i, x, "word kind 11 is not used in APV blocks");
      break;
    }
  }
  if (pending) {
    hits[n - 1].flags |= NA64_DAQ_APV_INCOMPLETE;
    daq_note(&e, nw - 1, w[nw - 1], "block ends inside a hit");
  }
  if (left) daq_note(&e, nw ? nw - 1 : 0, nw ? w[nw - 1] : 0, "chip has fewer hits than its header announced");
  *nhits = n;
  return na64_daq_decode_finish_("APV", eq, &e, n, stats, err);
}
