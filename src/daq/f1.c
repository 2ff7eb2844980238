/* F1-TDC payload of the straw tubes: per (port, chip) a header word (trigger time, event number),
 * data words (channel, 16-bit hit time) and a trailer word (word count). Word layout in
 * docs/raw-format.md §5.1, modelled on the COMPASS ChipF1 words (port, chip, channel, 16-bit time;
 * chip = chip_chan >> 3, channel = chip_chan & 7) but with the full 16-bit trigger time in the header. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daq/daq_internal.h"

/* word kinds, bits 31..30 */
#define F1_DATA 1u
#define F1_HEADER 2u
#define F1_TRAILER 3u

_Static_assert(NA64_DAQ_F1_TRAILING == 1, "the decoder's fast path copies bit 19 into flags bit 0");

static inline uint32_t f1_key(uint32_t port, uint32_t chip) { return (port << 3) | chip; }

na64_daq_equipment_header na64_daq_f1_equipment(uint32_t source_id, double bin_ns)
{
  na64_daq_equipment_header eh;
  memset(&eh, 0, sizeof eh);
  eh.type = NA64_DAQ_EQ_F1;
  eh.id = source_id;
  eh.type_attribute[0] = NA64_DAQ_PAYLOAD_FORMAT;
  /* bin width in femtoseconds: 0.1289 ns -> 128900 fs, exact to 1e-6 relative */
  if (isfinite(bin_ns) && bin_ns > 0 && bin_ns < 4000.0) eh.type_attribute[1] = (uint32_t)lround(bin_ns * 1e6);
  eh.basic_element_size = 4;
  return eh;
}

double na64_daq_f1_bin_ns(const na64_daq_equipment_header *eh)
{
  if (!eh || !eh->type_attribute[1]) return NA64_DAQ_F1_DEFAULT_BIN_NS;
  return eh->type_attribute[1] * 1e-6;
}

/* The fields of a hit that the encoder reads, as one 64-bit value: bits 0-15 time, 16-31 trigger
 * time, 32-39 port, 40-47 chip, 48-55 channel, 56-63 flags (so they lie in na64_daq_f1_hit on a
 * little-endian machine, where the compiler reads them with one load). */
static inline uint64_t f1_fields(const na64_daq_f1_hit *h)
{
  return (uint64_t)h->time_units | (uint64_t)h->trigger_units << 16 | (uint64_t)h->port << 32 |
         (uint64_t)h->chip << 40 | (uint64_t)h->channel << 48 | (uint64_t)h->flags << 56;
}

/* The encoding of the common case in one pass over the hits: every hit with the first hit's trigger
 * time and no chip flags, at most F1_SLOTS hits per chip (an event's straw hits). The data words go
 * into per-(port, chip) slots as they come, then the chips are written in ascending order: header,
 * their slots, trailer. Returns 0 (*nwords untouched) as soon as a hit does not fit, and the
 * general path starts over. */
#define F1_SLOTS 8
/* (the copy of a chip's few slots as a plain loop: a memcpy call costs more than the words) */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) static int f1_encode_slots(const na64_daq_f1_hit *hits, size_t n, uint32_t event, uint32_t *out, size_t cap,
                           size_t *nwords)
{
  if (n == 0 || cap / 3 < n) return 0; /* at most 3 n words */
  const uint32_t trig0 = hits[0].trigger_units, ev = (event & 63u) << 16;
  const uint64_t ref = (uint64_t)trig0 << 16;
  /* port > 15, chip > 7, channel > 7; another trigger time; flags other than the trailing edge */
  const uint64_t bad = 0x00F8F8F000000000ull, odd = 0xFE000000FFFF0000ull;
  uint64_t used[2] = {0, 0};
  uint8_t cnt[128];
  uint32_t slot[128][F1_SLOTS];
  memset(cnt, 0, sizeof cnt);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t v = f1_fields(&hits[i]);
    if ((v & bad) | ((v ^ ref) & odd)) return 0;
    const uint32_t k = (uint32_t)(((v >> 29) & 0x78u) | ((v >> 40) & 7u)); /* port << 3 | chip */
    used[k >> 6] |= (uint64_t)1 << (k & 63u);
    if (cnt[k] == F1_SLOTS) return 0;
    /* channel bits 48-50 to 22-20, trailing edge bit 56 to 19, time bits 15-0 */
    slot[k][cnt[k]++] = (F1_DATA << 30) | k << 23 | (uint32_t)((v >> 28) & 0x700000u) | (uint32_t)((v >> 37) & 0x80000u) |
                        (uint32_t)(v & 0xFFFFu);
  }
  size_t nw = 0;
  for (int half = 0; half < 2; ++half)
    for (uint64_t m = used[half]; m; m &= m - 1) {
      const uint32_t k = (uint32_t)(64 * half + __builtin_ctzll(m)), c = cnt[k];
      out[nw] = (F1_HEADER << 30) | k << 23 | ev | trig0;
      for (uint32_t j = 0; j < c; ++j) out[nw + 1 + j] = slot[k][j];
      out[nw + 1 + c] = (F1_TRAILER << 30) | k << 23 | ev | c;
      nw += c + 2;
    }
  *nwords = nw;
  return 1;
}

int na64_daq_f1_encode(const na64_daq_f1_hit *hits, size_t n, uint32_t event, uint32_t *out, size_t cap,
                       size_t *nwords, na64_err *err)
{
  if ((!hits && n) || !out || !nwords) return na64_err_set(err, NA64_EINVAL, "na64_daq_f1_encode: NULL argument");
  *nwords = 0;
  if (f1_encode_slots(hits, n, event, out, cap, nwords)) return NA64_OK;
  /* Only the (port, chip) keys that have hits are touched: a bit per key marks them (an event has a
   * few chips of 128), and the blocks are laid out by walking the set bits in ascending key order. */
  uint64_t used[2] = {0, 0};
  uint32_t count[128], trig[128], flags[128];
  for (size_t i = 0; i < n; ++i) {
    const na64_daq_f1_hit *h = &hits[i];
    if (h->port > 15 || h->chip > 7 || h->channel > 7)
      return na64_err_set(err, NA64_ERANGE, "F1 hit %zu: port %u chip %u channel %u outside 0..15, 0..7, 0..7", i,
                          h->port, h->chip, h->channel);
    uint32_t k = f1_key(h->port, h->chip);
    const uint64_t bit = (uint64_t)1 << (k & 63u);
    if (!(used[k >> 6] & bit)) {
      used[k >> 6] |= bit;
      count[k] = 0;
      flags[k] = 0;
      trig[k] = h->trigger_units;
    } else if (trig[k] != h->trigger_units)
      return na64_err_set(err, NA64_EINVAL, "F1 hit %zu: trigger time %u differs from %u of port %u chip %u", i,
                          h->trigger_units, trig[k], h->port, h->chip);
    if (count[k] == 0xFFFF)
      return na64_err_set(err, NA64_ERANGE, "F1 port %u chip %u: more than 65535 hits", h->port, h->chip);
    count[k]++;
    flags[k] |= h->flags;
  }
  /* chip blocks in ascending (port, chip): header, data words, trailer */
  size_t start[128], total = 0;
  for (int half = 0; half < 2; ++half)
    for (uint64_t m = used[half]; m; m &= m - 1) {
      uint32_t k = (uint32_t)(64 * half + __builtin_ctzll(m));
      start[k] = total;
      total += count[k] + 2;
    }
  if (total > cap) return na64_err_set(err, NA64_ERANGE, "F1 encode: %zu words needed, room for %zu", total, cap);
  uint32_t ev = event & 63u;
  for (int half = 0; half < 2; ++half)
    for (uint64_t m = used[half]; m; m &= m - 1) {
      uint32_t k = (uint32_t)(64 * half + __builtin_ctzll(m));
      uint32_t pc = k << 23; /* port and chip, bits 29..23 */
      out[start[k]] = (F1_HEADER << 30) | pc | ((flags[k] & NA64_DAQ_F1_TBO) ? 1u << 22 : 0) | (ev << 16) | trig[k];
      out[start[k] + count[k] + 1] =
          (F1_TRAILER << 30) | pc | ((flags[k] & NA64_DAQ_F1_CHIP_ERROR) ? 1u << 22 : 0) | (ev << 16) | count[k];
      start[k]++; /* now the next data slot */
    }
  for (size_t i = 0; i < n; ++i) {
    const na64_daq_f1_hit *h = &hits[i];
    uint32_t k = f1_key(h->port, h->chip);
    out[start[k]++] = (F1_DATA << 30) | (k << 23) | ((uint32_t)h->channel << 20) |
                      ((h->flags & NA64_DAQ_F1_TRAILING) ? 1u << 19 : 0) | h->time_units;
  }
  *nwords = total;
  return NA64_OK;
}

/* Flag the hits [from, n) of a chip block that was not closed properly. */
static void flag_hits(na64_daq_f1_hit *hits, size_t from, size_t n, uint8_t f)
{
  for (size_t j = from; j < n; ++j) hits[j].flags |= f;
}

/* The data words right after a chip header, in a loop with a single branch: a data word (kind 01)
 * of this port and chip with reserved bits 18..16 zero matches in one compare. Returns how many
 * it decoded into hits[n..] (at most cap - n); the caller's switch takes any other word. */
static inline size_t chip_data_run(const uint32_t *w, size_t nw, size_t i, uint32_t key, uint32_t trig, uint8_t chip_flags,
                                   uint32_t src, double bin, na64_daq_f1_hit *hits, size_t n, size_t cap)
{
  const uint32_t expect = (F1_DATA << 30) | (key << 23);
  const uint16_t tr = (uint16_t)trig;
  const uint8_t port = (uint8_t)(key >> 3), chip = (uint8_t)(key & 7u);
  size_t j = i + 1, lim = nw - j < cap - n ? nw : j + (cap - n);
  na64_daq_f1_hit *h = lim > j ? hits + n : NULL; /* hits may be NULL when cap == 0 */
  for (; j < lim && (w[j] & 0xFF870000u) == expect; ++j, ++h) {
    uint32_t y = w[j];
    uint16_t t = (uint16_t)y;
    int32_t rel = (int16_t)(uint16_t)(t - tr);
    h->time_ns = rel * bin;
    h->source_id = src;
    h->rel_units = rel;
    h->time_units = t;
    h->trigger_units = tr;
    h->port = port;
    h->chip = chip;
    h->channel = (uint8_t)((y >> 20) & 7u);
    h->flags = (uint8_t)(chip_flags | ((y >> 19) & 1u));
  }
  return j - (i + 1);
}

int na64_daq_f1_decode(const na64_daq_equipment *eq, long expected_event, na64_daq_f1_hit *hits, size_t cap,
                       size_t *nhits, na64_daq_decode_stats *stats, na64_err *err)
{
  if (!eq || (!hits && cap) || !nhits) return na64_err_set(err, NA64_EINVAL, "na64_daq_f1_decode: NULL argument");
  const uint32_t *w = eq->words;
  const size_t nw = eq->nwords;
  const double bin = na64_daq_f1_bin_ns(&eq->header);
  const uint32_t src = eq->header.id;
  daq_errs e = {0, 0, 0, NULL};
  size_t n = 0, chip_first = 0;
  int in_chip = 0;
  uint32_t key = 0, trig = 0, ev = 0, cnt = 0;
  uint8_t chip_flags = 0;
  for (size_t i = 0; i < nw; ++i) {
    uint32_t x = w[i];
    switch (x >> 30) {
    case F1_DATA: {
      uint8_t f = chip_flags;
      uint32_t t0 = trig;
      if (!in_chip || ((x >> 23) & 0x7Fu) != key) {
        daq_note(&e, i, x, "data word outside the header/trailer of its chip");
        f = NA64_DAQ_F1_NO_HEADER;
        t0 = 0;
      } else {
        cnt++;
      }
      if ((x >> 16) & 7u) daq_note(&e, i, x, "reserved bits 18..16 of a data word not zero");
      if (n == cap) {
        na64_daq_decode_finish_("F1", eq, &e, n, stats, NULL);
        *nhits = n;
        return na64_err_set(err, NA64_ERANGE, "F1 block of source %u: more than %zu hits", (unsigned)src, cap);
      }
      na64_daq_f1_hit *h = &hits[n++];
      uint16_t t = (uint16_t)(x & 0xFFFFu);
      int32_t rel = (int16_t)(uint16_t)(t - (uint16_t)t0); /* modulo 2^16, F1 counter wraps */
      h->source_id = src;
      h->port = (uint8_t)((x >> 26) & 15u);
      h->chip = (uint8_t)((x >> 23) & 7u);
      h->channel = (uint8_t)((x >> 20) & 7u);
      h->flags = (uint8_t)(f | ((x >> 19) & 1u ? NA64_DAQ_F1_TRAILING : 0));
      h->time_units = t;
      h->trigger_units = (uint16_t)t0;
      h->rel_units = (f & NA64_DAQ_F1_NO_HEADER) ? t : rel;
      h->time_ns = h->rel_units * bin;
      break;
    }
    case F1_HEADER:
      if (in_chip) {
        daq_note(&e, i, x, "chip header before the trailer of the previous chip");
        flag_hits(hits, chip_first, n, NA64_DAQ_F1_BAD_TRAILER);
      }
      in_chip = 1;
      key = (x >> 23) & 0x7Fu;
      trig = x & 0xFFFFu;
      ev = (x >> 16) & 63u;
      cnt = 0;
      chip_first = n;
      chip_flags = (uint8_t)(((x >> 22) & 1u) ? NA64_DAQ_F1_TBO : 0);
      if (expected_event >= 0 && ev != ((unsigned long)expected_event & 63u)) chip_flags |= NA64_DAQ_F1_EVENT_MISMATCH;
      {
        size_t run = chip_data_run(w, nw, i, key, trig, chip_flags, src, bin, hits, n, cap);
        cnt += (uint32_t)run;
        n += run;
        i += run;
      }
      break;
    case F1_TRAILER:
      if (!in_chip || ((x >> 23) & 0x7Fu) != key) {
        daq_note(&e, i, x, "trailer without the header of its chip");
        break;
      }
      in_chip = 0;
      if ((x & 0xFFFFu) != cnt || ((x >> 16) & 63u) != ev) {
        daq_note(&e, i, x, "trailer word count or event number differs from its chip's");
        flag_hits(hits, chip_first, n, NA64_DAQ_F1_BAD_TRAILER);
      }
      if ((x >> 22) & 1u) flag_hits(hits, chip_first, n, NA64_DAQ_F1_CHIP_ERROR);
      break;
    default:
      if (x != 0) daq_note(&e, i, x, "word kind 00 that is not the filler 0x00000000");
      break;
    }
  }
  if (in_chip) {
    daq_note(&e, nw ? nw - 1 : 0, nw ? w[nw - 1] : 0, "block ends inside a chip (no trailer)");
    flag_hits(hits, chip_first, n, NA64_DAQ_F1_BAD_TRAILER);
  }
  *nhits = n;
  return na64_daq_decode_finish_("F1", eq, &e, n, stats, err);
}

void na64_daq_f1_hit_list_init(na64_daq_f1_hit_list *l)
{
  if (l) memset(l, 0, sizeof *l);
}

void na64_daq_f1_hit_list_release(na64_daq_f1_hit_list *l)
{
  if (!l) return;
  free(l->hits);
  memset(l, 0, sizeof *l);
}

int na64_daq_f1_decode_event(const na64_daq_event *ev, na64_daq_f1_hit_list *list, na64_daq_decode_stats *stats,
                             na64_err *err)
{
  if (!ev || !list) return na64_err_set(err, NA64_EINVAL, "na64_daq_f1_decode_event: NULL argument");
  size_t cur = 0;
  na64_daq_equipment eq;
  int status = NA64_OK;
  long expected = (long)na64_daq_header_nb_in_burst(&ev->header);
  while (na64_daq_event_next_equipment(ev, &cur, &eq)) {
    if (eq.header.type != NA64_DAQ_EQ_F1) continue;
    if (list->cap - list->n < eq.nwords) {
      size_t nc = list->cap ? list->cap : 256;
      while (nc - list->n < eq.nwords) nc *= 2;
      na64_daq_f1_hit *nh = realloc(list->hits, nc * sizeof *nh);
      if (!nh) return na64_err_set(err, NA64_ENOMEM, "no memory for %zu F1 hits", nc);
      list->hits = nh;
      list->cap = nc;
    }
    size_t got = 0;
    na64_err e2;
    int st = na64_daq_f1_decode(&eq, expected, list->hits + list->n, list->cap - list->n, &got, stats, &e2);
    list->n += got;
    if (st != NA64_OK && status == NA64_OK) {
      status = st;
      if (err) *err = e2;
    }
  }
  return status;
}
