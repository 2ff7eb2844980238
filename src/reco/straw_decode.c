/* Straw decoding: F1 hits -> (plane, wire) through the channel map of the run
 * (na64_geom_chan_lookup: two array reads) -> drift time = F1 time relative to the trigger minus the
 * wire's t0 from the conditions database (docs/straw.md §2, docs/conditions.md for t0). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"

/* One F1 channel resolved: wire, t0 and window, so that a hit costs one table read. */
typedef struct chan_entry {
  double t0, lo, hi;     /* ns */
  int32_t plane;         /* >= 0: straw wire; -1: not in the channel map; -2: mapped, not a straw wire */
  int32_t wire;
} chan_entry;

#define F1_CHANNELS 1024 /* 16 ports x 8 chips x 8 channels per source (docs/raw-format.md §5.1) */

struct na64_straw_decoder {
  const na64_geom *g;
  na64_straw_decode_options opt;
  uint8_t *is_straw;     /* [g->nplanes] */
  const double **t0;     /* [g->nplanes]: the geometry's t0 per wire */
  double *lo, *hi;       /* [g->nplanes]: drift-time window */
  chan_entry *lut;       /* [g->chanmap.nsrc * F1_CHANNELS], indexed (slot - 1, port, chip, channel) */
};

void na64_straw_decode_options_default(na64_straw_decode_options *o)
{
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->window_lo = -30;
  o->window_hi = NAN;
  o->no_window = 0;
  o->reject_flags = NA64_DAQ_F1_NO_HEADER | NA64_DAQ_F1_EVENT_MISMATCH | NA64_DAQ_F1_CHIP_ERROR;
}

void na64_straw_decoder_free(na64_straw_decoder *d)
{
  if (!d) return;
  free(d->is_straw);
  free(d->t0);
  free(d->lo);
  free(d->hi);
  free(d->lut);
  free(d);
}

int na64_straw_decoder_new(const na64_geom *g, const na64_straw_decode_options *opt, na64_straw_decoder **out,
                           na64_err *err)
{
  if (!g || !out) return na64_err_set(err, NA64_EINVAL, "na64_straw_decoder_new: NULL argument");
  *out = NULL;
  na64_straw_decode_options o;
  if (opt) o = *opt;
  else na64_straw_decode_options_default(&o);
  if (!o.no_window && (!isfinite(o.window_lo) || (!isnan(o.window_hi) && !(o.window_hi > o.window_lo))))
    return na64_err_set(err, NA64_EINVAL, "straw decoder: drift-time window [%g, %g] ns is empty or not finite",
                        o.window_lo, o.window_hi);
  na64_straw_decoder *d = calloc(1, sizeof *d);
  size_t np = g->nplanes > 0 ? (size_t)g->nplanes : 1;
  if (d) {
    d->is_straw = calloc(np, 1);
    d->t0 = calloc(np, sizeof *d->t0);
    d->lo = calloc(np, sizeof *d->lo);
    d->hi = calloc(np, sizeof *d->hi);
  }
  if (!d || !d->is_straw || !d->t0 || !d->lo || !d->hi) {
    na64_straw_decoder_free(d);
    return na64_err_set(err, NA64_ENOMEM, "straw decoder: out of memory");
  }
  d->g = g;
  d->opt = o;
  int nstraw = 0;
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *p = &g->planes[i];
    if (p->kind != NA64_DET_STRAW || !p->t0) continue;
    d->is_straw[i] = 1;
    d->t0[i] = p->t0;
    d->lo[i] = o.window_lo;
    if (!isnan(o.window_hi)) d->hi[i] = o.window_hi;
    else d->hi[i] = p->rt_n >= 2 ? p->rt_t[p->rt_n - 1] + 50.0 : 300.0;
    nstraw++;
  }
  if (!nstraw) na64_log(NA64_LOG_WARN, "straw decoder: the geometry of run %d has no straw plane", g->run);
  /* every F1 channel of every DAQ source of the channel map, resolved once */
  int nsrc = g->chanmap.nsrc > 0 ? g->chanmap.nsrc : 0;
  d->lut = malloc((nsrc ? (size_t)nsrc : 1) * F1_CHANNELS * sizeof *d->lut);
  if (!d->lut) {
    na64_straw_decoder_free(d);
    return na64_err_set(err, NA64_ENOMEM, "straw decoder: out of memory");
  }
  for (int k = 0; k < nsrc; ++k)
    for (uint32_t c = 0; c < F1_CHANNELS; ++c) {
      chan_entry *e = &d->lut[(size_t)k * F1_CHANNELS + c];
      const na64_geom_chan *m = na64_geom_chan_lookup(g, g->chanmap.src[k].src_id, c >> 6, (c >> 3) & 7u, c & 7u);
      e->t0 = e->lo = e->hi = 0;
      e->plane = -1;
      e->wire = -1;
      if (!m) continue;
      if (m->plane < 0 || !d->is_straw[m->plane] || m->wire < 0 || m->wire >= g->planes[m->plane].nwires) {
        e->plane = -2;
        e->wire = m->plane;
        continue;
      }
      e->plane = m->plane;
      e->wire = m->wire;
      e->t0 = d->t0[m->plane][m->wire];
      e->lo = o.no_window ? -INFINITY : d->lo[m->plane];
      e->hi = o.no_window ? INFINITY : d->hi[m->plane];
    }
  *out = d;
  return NA64_OK;
}

int na64_straw_decode(const na64_straw_decoder *d, const na64_daq_f1_hit *hits, size_t n, na64_straw_digit *out,
                      size_t cap, size_t *nout, na64_straw_decode_stats *stats, na64_err *err)
{
  if (!d || (!hits && n) || (!out && cap) || !nout) return na64_err_set(err, NA64_EINVAL, "na64_straw_decode: NULL argument");
  const na64_geom *g = d->g;
  const unsigned reject = d->opt.reject_flags & ~(unsigned)NA64_DAQ_F1_TRAILING;
  uint64_t trailing = 0, flagged = 0, unmapped = 0, not_straw = 0, outside = 0, nonfinite = 0;
  const na64_daq_f1_hit *first_bad = NULL;
  int first_bad_plane = -1;
  size_t m = 0;
  int status = NA64_OK;
  const uint16_t *slot = g->chanmap.slot;
  for (size_t i = 0; i < n; ++i) {
    const na64_daq_f1_hit *h = &hits[i];
    if (h->flags & (NA64_DAQ_F1_TRAILING | reject)) {
      if (h->flags & NA64_DAQ_F1_TRAILING) trailing++;
      else flagged++;
      continue;
    }
    const unsigned sl = (slot && h->source_id <= 0xFFFFu) ? slot[h->source_id] : 0;
    const chan_entry *e =
        sl && h->port < 16 && h->chip < 8 && h->channel < 8
            ? &d->lut[(size_t)(sl - 1) * F1_CHANNELS + ((unsigned)h->port << 6 | (unsigned)h->chip << 3 | h->channel)]
            : NULL;
    if (!e || e->plane < 0) {
      if (!first_bad) {
        first_bad = h;
        first_bad_plane = e && e->plane == -2 ? (e->wire >= 0 ? e->wire : -2) : -1;
      }
      if (e && e->plane == -2) not_straw++;
      else unmapped++;
      continue;
    }
    const double raw = h->time_ns;
    const double t = raw - e->t0;
    if (!(t >= e->lo && t <= e->hi)) {
      if (isnan(t)) nonfinite++;
      else if (!isfinite(t)) nonfinite++;
      else outside++;
      continue;
    }
    if (m == cap) {
      status = na64_err_set(err, NA64_ERANGE, "straw decoder: more than %zu digits (room for %zu)", m, cap);
      break;
    }
    na64_straw_digit *o = &out[m++];
    o->time = t;
    o->raw = raw;
    o->plane = e->plane;
    o->wire = e->wire;
  }
  *nout = m;
  if (stats) {
    stats->f1_hits += n;
    stats->digits += m;
    stats->trailing += trailing;
    stats->flagged += flagged;
    stats->unmapped += unmapped;
    stats->not_straw += not_straw;
    stats->out_of_window += outside;
    stats->nonfinite += nonfinite;
  }
  if (status == NA64_OK && first_bad) {
    if (first_bad_plane == -1)
      status = na64_err_set(err, NA64_EFORMAT,
                            "F1 source %u port %u chip %u channel %u is not in the channel map of run %d (%llu hits of "
                            "unmapped and %llu of non-straw channels skipped)",
                            (unsigned)first_bad->source_id, first_bad->port, first_bad->chip, first_bad->channel, g->run,
                            (unsigned long long)unmapped, (unsigned long long)not_straw);
    else
      status = na64_err_set(err, NA64_EFORMAT,
                            "F1 source %u port %u chip %u channel %u maps to %s, not a straw wire, in run %d (%llu hits "
                            "of unmapped and %llu of non-straw channels skipped)",
                            (unsigned)first_bad->source_id, first_bad->port, first_bad->chip, first_bad->channel,
                            first_bad_plane >= 0 ? g->planes[first_bad_plane].name : "a calorimeter cell", g->run,
                            (unsigned long long)unmapped, (unsigned long long)not_straw);
  }
  return status;
}

void na64_straw_digit_list_init(na64_straw_digit_list *l)
{
  if (!l) return;
  memset(l, 0, sizeof *l);
  na64_daq_f1_hit_list_init(&l->f1);
}

void na64_straw_digit_list_release(na64_straw_digit_list *l)
{
  if (!l) return;
  free(l->digits);
  na64_daq_f1_hit_list_release(&l->f1);
  memset(l, 0, sizeof *l);
}

int na64_straw_decode_event(const na64_straw_decoder *d, const na64_daq_event *ev, na64_straw_digit_list *list,
                            na64_straw_decode_stats *stats, na64_err *err)
{
  if (!d || !ev || !list) return na64_err_set(err, NA64_EINVAL, "na64_straw_decode_event: NULL argument");
  list->n = 0;
  list->f1.n = 0;
  na64_err e1;
  int st1 = na64_daq_f1_decode_event(ev, &list->f1, NULL, &e1);
  if (st1 == NA64_ENOMEM) {
    if (err) *err = e1;
    return st1;
  }
  if (list->cap < list->f1.n) {
    size_t nc = list->cap ? list->cap : 256;
    while (nc < list->f1.n) nc *= 2;
    na64_straw_digit *nd = realloc(list->digits, nc * sizeof *nd);
    if (!nd) return na64_err_set(err, NA64_ENOMEM, "straw decoder: no memory for %zu digits", nc);
    list->digits = nd;
    list->cap = nc;
  }
  int st2 = na64_straw_decode(d, list->f1.hits, list->f1.n, list->digits, list->cap, &list->n, stats, err);
  if (st1 != NA64_OK) {
    /* the F1 problem came first in the data; keep its message */
    if (err) *err = e1;
    na64_err_prefix(err, "event %u of run %u", (unsigned)ev->header.id[0], (unsigned)ev->header.run);
    return st1;
  }
  if (st2 != NA64_OK) na64_err_prefix(err, "event %u of run %u", (unsigned)ev->header.id[0], (unsigned)ev->header.run);
  return st2;
}
