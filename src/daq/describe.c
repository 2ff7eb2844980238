/* Human-readable description of payload words, one line per word, for `na64 dump`. The layouts are
 * those of f1.c, sadc.c and apv.c (docs/raw-format.md §5). */
#include <stdio.h>
#include <string.h>

#include "daq/daq_internal.h"

void na64_daq_describer_init(na64_daq_describer *d, const na64_daq_equipment_header *eh)
{
  memset(d, 0, sizeof *d);
  d->type = eh ? eh->type : NA64_DAQ_EQ_RAW;
  if (d->type == NA64_DAQ_EQ_F1) d->unit_ns = na64_daq_f1_bin_ns(eh);
  else if (d->type == NA64_DAQ_EQ_SADC) d->unit_ns = na64_daq_sadc_period_ns(eh);
}

static void f1_word(na64_daq_describer *d, uint32_t x, char *buf, size_t len)
{
  unsigned port = (x >> 26) & 15u, chip = (x >> 23) & 7u;
  switch (x >> 30) {
  case 2:
    d->in_chip = 1;
    d->port = (int)port;
    d->chip = (int)chip;
    d->trigger = x & 0xFFFFu;
    snprintf(buf, len, "F1 header  port %2u chip %u event %2u trigger %5u%s", port, chip, (x >> 16) & 63u,
             x & 0xFFFFu, (x >> 22) & 1u ? " TRIGGER-BUFFER-OVERFLOW" : "");
    break;
  case 1: {
    unsigned t = x & 0xFFFFu;
    int ok = d->in_chip && (int)port == d->port && (int)chip == d->chip;
    if (ok) {
      int rel = (int16_t)(uint16_t)(t - d->trigger);
      snprintf(buf, len, "F1 data    port %2u chip %u ch %u time %5u (%+6d bins from trigger = %+9.3f ns)%s", port, chip,
               (x >> 20) & 7u, t, rel, rel * d->unit_ns, (x >> 19) & 1u ? " trailing" : "");
    } else {
      snprintf(buf, len, "F1 data    port %2u chip %u ch %u time %5u (NO CHIP HEADER)%s", port, chip, (x >> 20) & 7u,
               t, (x >> 19) & 1u ? " trailing" : "");
    }
    break;
  }
  case 3:
    snprintf(buf, len, "F1 trailer port %2u chip %u event %2u words %u%s", port, chip, (x >> 16) & 63u, x & 0xFFFFu,
             (x >> 22) & 1u ? " ERROR" : "");
    d->in_chip = 0;
    break;
  default: snprintf(buf, len, x ? "F1 INVALID word (kind 00, not filler)" : "F1 filler"); break;
  }
}

static void sadc_word(na64_daq_describer *d, uint32_t x, char *buf, size_t len)
{
  switch (x >> 30) {
  case 2: {
    unsigned ns = (x >> 12) & 0xFFu;
    d->pending = (int)(ns + 1) / 2;
    d->sample = 0;
    d->ped = (x >> 11) & 1u;
    snprintf(buf, len, "SADC channel header port %2u channel %2u samples %u%s (%.3g ns per sample)", (x >> 26) & 15u,
             (x >> 20) & 63u, ns, d->ped ? " +pedestals" : "", d->unit_ns);
    break;
  }
  case 1:
    d->ped = 0;
    snprintf(buf, len, "SADC pedestals even %.3f odd %.3f", (x & 0x7FFFu) / 8.0, ((x >> 15) & 0x7FFFu) / 8.0);
    break;
  case 0:
    if (d->pending > 0) {
      snprintf(buf, len, "SADC samples %3d,%3d: %4u %4u", d->sample, d->sample + 1, x & 0xFFFu, (x >> 16) & 0xFFFu);
      d->sample += 2;
      d->pending--;
    } else {
      snprintf(buf, len, "SADC samples %4u %4u (OUTSIDE A WAVEFORM)", x & 0xFFFu, (x >> 16) & 0xFFFu);
    }
    break;
  default: snprintf(buf, len, "SADC INVALID word (kind 11)"); break;
  }
}

static void apv_word(na64_daq_describer *d, uint32_t x, char *buf, size_t len)
{
  switch (x >> 30) {
  case 2:
    snprintf(buf, len, "APV chip header chip %2u event %4u hits %u", (x >> 24) & 63u, (x >> 8) & 0xFFFu, x & 0xFFu);
    d->pending = 0;
    break;
  case 1:
    snprintf(buf, len, "APV hit   channel %3u a0 %4u", (x >> 23) & 127u, x & 0xFFFu);
    d->pending = 1;
    break;
  case 0:
    snprintf(buf, len, "APV hit   a1 %4u a2 %4u%s", x & 0xFFFu, (x >> 12) & 0xFFFu,
             d->pending ? "" : " (NO FIRST WORD)");
    d->pending = 0;
    break;
  default: snprintf(buf, len, "APV INVALID word (kind 11)"); break;
  }
}

void na64_daq_describe_word(na64_daq_describer *d, uint32_t word, char *buf, size_t len)
{
  if (!buf || !len) return;
  if (!d) {
    snprintf(buf, len, "raw");
    return;
  }
  switch (d->type) {
  case NA64_DAQ_EQ_F1: f1_word(d, word, buf, len); break;
  case NA64_DAQ_EQ_SADC: sadc_word(d, word, buf, len); break;
  case NA64_DAQ_EQ_APV: apv_word(d, word, buf, len); break;
  default: snprintf(buf, len, "raw %u", (unsigned)word); break;
  }
}
