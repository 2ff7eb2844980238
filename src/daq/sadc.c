/* Sampling-ADC payload (calorimeters, SRD, veto, counters): per channel a header word (port, channel,
 * number of samples), an optional pedestal word (even and odd ADC pedestals, 1/8 count) and the 12-bit
 * samples two per word, the even sample (first ADC of the interleaved pair, as in the COMPASS/NA64
 * MSADC) in the low half. Word layout: docs/raw-format.md §5.2. */
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* the usual waveform's 16 sample words checked and copied in 4 loads */
#endif

#include "daq/daq_internal.h"

#define SADC_SAMPLES 0u
#define SADC_PEDESTALS 1u
#define SADC_HEADER 2u

na64_daq_equipment_header na64_daq_sadc_equipment(uint32_t source_id, double period_ns)
{
  na64_daq_equipment_header eh;
  memset(&eh, 0, sizeof eh);
  eh.type = NA64_DAQ_EQ_SADC;
  eh.id = source_id;
  eh.type_attribute[0] = NA64_DAQ_PAYLOAD_FORMAT;
  /* sampling period in picoseconds: 12.5 ns -> 12500 */
  if (isfinite(period_ns) && period_ns > 0 && period_ns < 4e6) eh.type_attribute[1] = (uint32_t)lround(period_ns * 1e3);
  eh.basic_element_size = 4;
  return eh;
}

double na64_daq_sadc_period_ns(const na64_daq_equipment_header *eh)
{
  if (!eh || !eh->type_attribute[1]) return NA64_DAQ_SADC_DEFAULT_PERIOD_NS;
  return eh->type_attribute[1] * 1e-3;
}

size_t na64_daq_sadc_encoded_words(const na64_daq_sadc_waveform *w, size_t n)
{
  size_t total = 0;
  for (size_t i = 0; w && i < n; ++i) total += 1 + (w[i].has_pedestals ? 1 : 0) + (w[i].nsamples + 1u) / 2;
  return total;
}

static int ped8(double p, uint32_t *out)
{
  double v = nearbyint(p * 8.0);
  if (!(v >= 0 && v <= 32767)) return -1;
  *out = (uint32_t)v;
  return 0;
}

int na64_daq_sadc_encode(const na64_daq_sadc_waveform *w, size_t n, uint32_t *out, size_t cap, size_t *nwords,
                         na64_err *err)
{
  if ((!w && n) || !out || !nwords) return na64_err_set(err, NA64_EINVAL, "na64_daq_sadc_encode: NULL argument");
  *nwords = 0;
  size_t need = na64_daq_sadc_encoded_words(w, n);
  if (need > cap) return na64_err_set(err, NA64_ERANGE, "SADC encode: %zu words needed, room for %zu", need, cap);
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    const na64_daq_sadc_waveform *f = &w[i];
    if (f->port > 15 || f->channel > 63 || f->nsamples > NA64_DAQ_SADC_MAX_SAMPLES)
      return na64_err_set(err, NA64_ERANGE, "SADC waveform %zu: port %u channel %u nsamples %u outside 0..15, 0..63, 0..255",
                          i, f->port, f->channel, f->nsamples);
    out[k++] = (SADC_HEADER << 30) | ((uint32_t)f->port << 26) | ((uint32_t)f->channel << 20) |
               ((uint32_t)f->nsamples << 12) | (f->has_pedestals ? 1u << 11 : 0);
    if (f->has_pedestals) {
      uint32_t pe, po;
      if (ped8(f->pedestal_even, &pe) || ped8(f->pedestal_odd, &po))
        return na64_err_set(err, NA64_ERANGE, "SADC waveform %zu: pedestals %g, %g outside [0, 4095.875]", i,
                            f->pedestal_even, f->pedestal_odd);
      out[k++] = (SADC_PEDESTALS << 30) | (po << 15) | pe;
    }
    uint32_t all = 0; /* the samples OR-ed together: one range check per waveform */
    unsigned s = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* on a little-endian host the word (hi << 16) | lo has the bytes of the pair lo, hi in memory:
     * the pairs are copied as they are, after checking the 12-bit range 4 samples at a time */
    unsigned pairs = f->nsamples / 2u;
    uint64_t any = 0;
    for (unsigned q = 0; q + 4 <= 2u * pairs; q += 4) {
      uint64_t v;
      memcpy(&v, f->samples + q, sizeof v);
      any |= v;
    }
    if ((pairs & 1u)) any |= (uint64_t)f->samples[2u * pairs - 2] | (uint64_t)f->samples[2u * pairs - 1];
    all = (any & 0xF000F000F000F000ull) ? 0x10000u : 0u;
    memcpy(out + k, f->samples, 4u * pairs);
    k += pairs;
    s = 2u * pairs;
#endif
    for (; s + 1 < f->nsamples; s += 2) {
      uint32_t lo = f->samples[s], hi = f->samples[s + 1];
      all |= lo | hi;
      out[k++] = (hi << 16) | lo;
    }
    if (s < f->nsamples) {
      all |= f->samples[s];
      out[k++] = f->samples[s];
    }
    if (all > 4095)
      for (s = 0; s < f->nsamples; s += 2)
        if (f->samples[s] > 4095 || (s + 1 < f->nsamples && f->samples[s + 1] > 4095))
          return na64_err_set(err, NA64_ERANGE, "SADC waveform %zu: sample %u or %u above 4095 (12 bits)", i, s, s + 1);
  }
  *nwords = k;
  return NA64_OK;
}

/* The sample words of the usual waveform (32 samples, as the simulation writes them): the copy of
 * this many words gets a constant size, which the compiler inlines instead of calling memcpy. */
#define SADC_USUAL_WORDS 16u

/* The OR of n words, two at a time through 64-bit loads in two independent chains (the per-word
 * loop cost ~4 instructions a word, ~30% of the decoding). */
static inline uint32_t or_words(const uint32_t *w, size_t n)
{
  uint64_t a = 0, b = 0;
  size_t q = 0;
  for (; q + 4 <= n; q += 4) {
    uint64_t x, y;
    memcpy(&x, w + q, sizeof x);
    memcpy(&y, w + q + 2, sizeof y);
    a |= x, b |= y;
  }
  a |= b;
  uint32_t any = (uint32_t)a | (uint32_t)(a >> 32);
  for (; q < n; ++q) any |= w[q];
  return any;
}

/* A whole waveform after its header word at w[i]: the pedestal word the header announces and the
 * sample words, when they are all there and clean (kind 00, reserved bits 0, the unused upper half
 * of an odd-length waveform 0), as a healthy module and the simulation write them. Fills *cur and
 * returns the words consumed after the header; 0 leaves them to the word-by-word path, which notes
 * what is wrong. The result is the one of that path for the same words. */
static size_t clean_waveform(const uint32_t *w, size_t nw, size_t i, unsigned want, int want_ped, na64_daq_sadc_waveform *cur)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  size_t s = i + 1 + (want_ped ? 1u : 0u), k = (want + 1u) / 2u;
  if (s > nw || k > nw - s) return 0;
  if (want_ped && (w[i + 1] >> 30) != SADC_PEDESTALS) return 0;
#if defined(__SSE2__)
  if (want == 2 * SADC_USUAL_WORDS) { /* the usual waveform: 4 loads, one test, 4 stores */
    const __m128i *src = (const __m128i *)(const void *)(w + s);
    __m128i v0 = _mm_loadu_si128(src), v1 = _mm_loadu_si128(src + 1), v2 = _mm_loadu_si128(src + 2),
            v3 = _mm_loadu_si128(src + 3);
    __m128i bad = _mm_and_si128(_mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3)), _mm_set1_epi32((int)0xF000F000u));
    if (_mm_movemask_epi8(_mm_cmpeq_epi32(bad, _mm_setzero_si128())) != 0xFFFF) return 0;
    __m128i *dst = (__m128i *)(void *)cur->samples;
    _mm_storeu_si128(dst, v0), _mm_storeu_si128(dst + 1, v1), _mm_storeu_si128(dst + 2, v2), _mm_storeu_si128(dst + 3, v3);
  } else
#endif
  {
    if (or_words(w + s, k) & 0xF000F000u) return 0;
    if ((want & 1u) && (w[s + k - 1] & 0x0FFF0000u)) return 0;
    size_t full = k - (want & 1u);
    memcpy(cur->samples, w + s, 4 * full);
    if (want & 1u) cur->samples[2 * full] = (uint16_t)(w[s + k - 1] & 0xFFFu);
  }
  if (want_ped) {
    uint32_t x = w[i + 1];
    cur->has_pedestals = 1;
    cur->pedestal_even = (x & 0x7FFFu) / 8.0;
    cur->pedestal_odd = ((x >> 15) & 0x7FFFu) / 8.0;
  }
  cur->nsamples = (uint16_t)want;
  return s + k - i - 1;
#else
  (void)w, (void)nw, (void)i, (void)want, (void)want_ped, (void)cur;
  return 0;
#endif
}

/* The run of sample words of the waveform cur from word i: its length first, then two samples per
 * word with the reserved bits OR-ed together and looked at once (rescanned only if set). Returns
 * the index of the run's last word; *left counts the sample words still expected. */
static inline size_t sample_words(const uint32_t *w, size_t nw, size_t i, unsigned want, unsigned *left_io,
                                  na64_daq_sadc_waveform *cur, daq_errs *e)
{
  unsigned left = *left_io;
  unsigned ns = cur->nsamples;
  uint16_t *smp = cur->samples;
  size_t j = i, end = i + (left < nw - i ? left : nw - i);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  {
    /* the usual case: every word still expected is a clean sample word (kind 00, reserved bits
     * 0), checked by one OR over them; a word (hi << 16) | lo then has in memory the bytes
     * of the sample pair lo, hi, and the run is copied as it is */
    size_t run = end - i;
    uint32_t any = or_words(w + i, run);
    if (!(any & 0xF000F000u) && (run < left || !(want & 1u) || !(w[end - 1] & 0x0FFF0000u))) {
      int odd_last = run == left && (want & 1u);
      size_t full = odd_last ? run - 1 : run;
      if (full == SADC_USUAL_WORDS) memcpy(smp + ns, w + i, 4 * SADC_USUAL_WORDS); /* inlined: fixed size */
      else memcpy(smp + ns, w + i, 4 * full);
      ns += 2u * (unsigned)full;
      if (odd_last) smp[ns++] = (uint16_t)(w[end - 1] & 0xFFFu);
      *left_io = left - (unsigned)run;
      cur->nsamples = (uint16_t)ns;
      return end - 1;
    }
  }
#endif
  while (j < end && (w[j] >> 30) == SADC_SAMPLES) ++j;
  size_t run = j - i;
  int odd_last = run == left && (want & 1u); /* the run ends with the upper half unused */
  size_t full = odd_last ? run - 1 : run;
  uint32_t bits = 0;
  for (size_t q = 0; q < full; ++q) {
    uint32_t y = w[i + q];
    bits |= y;
    smp[ns + 2 * q] = (uint16_t)(y & 0xFFFu);
    smp[ns + 2 * q + 1] = (uint16_t)((y >> 16) & 0xFFFu);
  }
  ns += 2u * (unsigned)full;
  if (odd_last) {
    uint32_t y = w[i + full];
    bits |= y & 0x3000F000u;
    smp[ns++] = (uint16_t)(y & 0xFFFu);
    if (y & 0x0FFF0000u) bits |= 1u << 31; /* flag: noted below */
  }
  if (bits & (0x3000F000u | 1u << 31))
    for (size_t q = 0; q < run; ++q) {
      uint32_t y = w[i + q];
      if (y & 0x3000F000u) daq_note(e, i + q, y, "reserved bits 29..28 or 15..12 of a sample word not zero");
      if (odd_last && q == full && (y & 0x0FFF0000u))
        daq_note(e, i + q, y, "unused upper sample of an odd-length waveform not zero");
    }
  *left_io = left - (unsigned)run;
  cur->nsamples = (uint16_t)ns;
  return j - 1;
}

int na64_daq_sadc_decode(const na64_daq_equipment *eq, na64_daq_sadc_waveform *out, size_t cap, size_t *n,
                         na64_daq_decode_stats *stats, na64_err *err)
{
  if (!eq || (!out && cap) || !n) return na64_err_set(err, NA64_EINVAL, "na64_daq_sadc_decode: NULL argument");
  const uint32_t *w = eq->words;
  const size_t nw = eq->nwords;
  daq_errs e = {0, 0, 0, NULL};
  size_t m = 0;
  na64_daq_sadc_waveform *cur = NULL;
  unsigned want = 0, left = 0; /* samples announced by the header; sample words still expected */
  int want_ped = 0;
  for (size_t i = 0; i < nw; ++i) {
    uint32_t x = w[i];
    switch (x >> 30) {
    case SADC_HEADER:
      if (cur && (left || want_ped)) {
        daq_note(&e, i, x, "channel header before the previous waveform was complete");
        cur->flags |= NA64_DAQ_SADC_TRUNCATED;
      }
      if (m == cap) {
        na64_daq_decode_finish_("SADC", eq, &e, m, stats, NULL);
        *n = m;
        return na64_err_set(err, NA64_ERANGE, "SADC block of source %u: more than %zu waveforms",
                            (unsigned)eq->header.id, cap);
      }
      cur = &out[m++];
      cur->source_id = eq->header.id;
      cur->port = (uint8_t)((x >> 26) & 15u);
      cur->channel = (uint8_t)((x >> 20) & 63u);
      cur->nsamples = 0;
      cur->flags = 0;
      cur->has_pedestals = 0;
      cur->pedestal_even = cur->pedestal_odd = 0;
      want = (x >> 12) & 0xFFu;
      left = (want + 1) / 2;
      want_ped = (x >> 11) & 1u;
      if (x & 0x7FFu) {
        daq_note(&e, i, x, "reserved bits 10..0 of a channel header not zero");
        cur->flags |= NA64_DAQ_SADC_BAD_RESERVED;
      } else {
        size_t used = clean_waveform(w, nw, i, want, want_ped, cur);
        if (used || (!want && !want_ped)) left = 0, want_ped = 0, i += used;
      }
      break;
    case SADC_PEDESTALS:
      if (!cur || !want_ped) {
        daq_note(&e, i, x, "pedestal word not right after a channel header announcing it");
        break;
      }
      cur->has_pedestals = 1;
      cur->pedestal_even = (x & 0x7FFFu) / 8.0;
      cur->pedestal_odd = ((x >> 15) & 0x7FFFu) / 8.0;
      want_ped = 0;
      break;
    case SADC_SAMPLES:
      if (!cur || !left) {
        daq_note(&e, i, x, "sample word outside a waveform");
        break;
      }
      if (want_ped) {
        daq_note(&e, i, x, "pedestal word announced but missing");
        want_ped = 0;
      }
      i = sample_words(w, nw, i, want, &left, cur, &e);
      break;
    default:
      daq_note(&e, i, x, "word kind 11 is not used in SADC blocks");
      break;
    }
  }
  if (cur && (left || want_ped)) {
    daq_note(&e, nw - 1, w[nw - 1], "block ends inside a waveform");
    cur->flags |= NA64_DAQ_SADC_TRUNCATED;
  }
  *n = m;
  return na64_daq_decode_finish_("SADC", eq, &e, m, stats, err);
}

int na64_daq_sadc_pedestals_from_front(const na64_daq_sadc_waveform *w, int nfront, double *even, double *odd, na64_err *err)
{
  if (!w || !even || !odd) return na64_err_set(err, NA64_EINVAL, "na64_daq_sadc_pedestals_from_front: NULL argument");
  if (nfront < 2 || nfront > w->nsamples)
    return na64_err_set(err, NA64_EINVAL, "SADC source %u port %u channel %u: %d front samples asked, %u present (need 2..nsamples)",
                        (unsigned)w->source_id, w->port, w->channel, nfront, w->nsamples);
  double se = 0, so = 0;
  int ne = 0, no = 0;
  for (int i = 0; i < nfront; ++i) {
    if (i % 2 == 0) {
      se += w->samples[i];
      ++ne;
    } else {
      so += w->samples[i];
      ++no;
    }
  }
  *even = se / ne;
  *odd = so / no;
  return NA64_OK;
}
