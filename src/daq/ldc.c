/* The LDC grouping of the DAQ sources, from the channel-map records of the conditions database
 * (channel_map.ldc_id, schema version 4). DATE event builders group an event's equipment by the LDC
 * that read it; the writer needs source id -> LDC id to build the same super events. */
#include <stdlib.h>

#include "daq/daq_internal.h"
#include "na64/cond.h"

static int cmp_entry(const void *a, const void *b)
{
  const na64_daq_ldc_entry *x = a, *y = b;
  return (x->source_id > y->source_id) - (x->source_id < y->source_id);
}

int na64_daq_ldc_map_from_cond(const struct na64_cond_records *rec, na64_daq_ldc_entry **map, size_t *n,
                               na64_err *err)
{
  if (!rec || !map || !n) return na64_err_set(err, NA64_EINVAL, "na64_daq_ldc_map_from_cond: NULL argument");
  *map = NULL;
  *n = 0;
  na64_daq_ldc_entry *m = malloc((rec->nchannels ? rec->nchannels : 1) * sizeof *m);
  if (!m) return na64_err_set(err, NA64_ENOMEM, "no memory for an LDC map");
  size_t k = 0;
  for (size_t i = 0; i < rec->nchannels; ++i) {
    const na64_cond_channel *c = &rec->channels[i];
    if (c->ldc_id < 0 || c->src_id < 0) continue;
    m[k++] = (na64_daq_ldc_entry){(uint32_t)c->src_id, (uint32_t)c->ldc_id};
  }
  qsort(m, k, sizeof *m, cmp_entry);
  size_t u = 0;
  for (size_t i = 0; i < k; ++i) {
    if (u && m[u - 1].source_id == m[i].source_id) {
      if (m[u - 1].ldc_id != m[i].ldc_id) {
        int st = na64_err_set(err, NA64_EFORMAT, "channel map: DAQ source %u is read by LDC %u and by LDC %u",
                              (unsigned)m[i].source_id, (unsigned)m[u - 1].ldc_id, (unsigned)m[i].ldc_id);
        free(m);
        return st;
      }
      continue;
    }
    m[u++] = m[i];
  }
  *map = m;
  *n = u;
  return NA64_OK;
}
