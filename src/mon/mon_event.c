/* The monitor's event display and alarms (both answered under m->lock by the HTTP side).
 * Event display: at each publication the filler keeps a copy of the physics event it has just filled
 * (the last MON_EVENTS of them); /event.json decodes one with the straw decoder and reconstruction of
 * src/reco (drift circles, left/right-resolved hit positions), fits a straight line to the resolved
 * hits upstream and downstream of the magnets, and gives the calorimeter cells' energies (SADC maximum
 * minus pedestal times the gain, as the histograms) and the Micromegas/GEM strip clusters (APV hits
 * through the channel map). The page draws the setup from the side (z, y)
 * and from above (z, x).
 * Alarms: per straw plane, over the rolling window, the efficiency (physics events with a hit in the
 * plane / physics events) and the hits per event against an expected band (docs/monitor.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mon/mon_internal.h"
#include "na64/cond.h"

/* Copy an event into k (its buffer grows as needed); 0 if too large or out of memory. */
static int event_copy(mon_event *k, const na64_daq_header *h, const void *data, size_t size, uint32_t nsub, int swapped,
                      uint64_t number)
{
  if (size > MON_EVENT_MAX || size % 4) return 0;
  if (k->cap < size) {
    uint32_t *d = realloc(k->data, size);
    if (!d) return 0;
    k->data = d;
    k->cap = size;
  }
  memcpy(k->data, data, size);
  k->size = size;
  k->header = *h;
  k->nsubevents = nsub;
  k->swapped = swapped;
  k->number = number;
  return 1;
}

void mon_event_stage(na64_mon *m, const na64_daq_event *ev)
{
  m->stage_fresh = event_copy(&m->stage, &ev->header, ev->data, ev->size, ev->nsubevents, ev->swapped, m->physics - 1);
}

void mon_event_keep(na64_mon *m)
{
  if (!m->stage_fresh) return;
  const mon_event *s = &m->stage;
  if (!event_copy(&m->kept[m->ev_head], &s->header, s->data, s->size, s->nsubevents, s->swapped, s->number)) return;
  m->ev_head = (m->ev_head + 1) % MON_EVENTS;
  if (m->ev_n < MON_EVENTS) m->ev_n++;
  m->stage_fresh = 0; /* kept once */
}

void mon_event_release(na64_mon *m)
{
  for (int i = 0; i < MON_EVENTS; ++i) free(m->kept[i].data);
  free(m->stage.data);
  na64_card_free(m->alarm_card);
  m->alarm_card = NULL;
}

static const mon_event *find_event(const na64_mon *m, long number)
{
  if (m->ev_n == 0) return NULL;
  if (number < 0) return &m->kept[(m->ev_head + MON_EVENTS - 1) % MON_EVENTS];
  for (int i = 0; i < m->ev_n; ++i)
    if ((long)m->kept[i].number == number) return &m->kept[i];
  return NULL;
}

/* The setup: detectors as boxes and magnets, global frame, cm. */
static void setup_json(FILE *f, const na64_geom *g)
{
  fputs("\"detectors\":[", f);
  for (int d = 0; d < g->ndetectors; ++d) {
    const na64_geom_detector *t = &g->detectors[d];
    fprintf(f, "%s{\"name\":\"%s\",\"kind\":%d,\"centre\":[%.4g,%.4g,%.4g],\"size\":[%.4g,%.4g,%.4g]}", d ? "," : "",
            t->name, t->kind, t->centre[0], t->centre[1], t->centre[2], t->size[0], t->size[1], t->size[2]);
  }
  fputs("],\"magnets\":[", f);
  for (int i = 0; i < g->nmagnets; ++i) {
    const na64_geom_magnet *mg = &g->magnets[i];
    fprintf(f,
            "%s{\"name\":\"%s\",\"centre\":[%.4g,%.4g,%.4g],\"length\":%.4g,\"aperture\":[%.4g,%.4g],"
            "\"field_integral\":%.6g}",
            i ? "," : "", mg->name, mg->centre[0], mg->centre[1], mg->centre[2], mg->length, mg->aperture[0],
            mg->aperture[1], mg->field_integral);
  }
  fputs("]", f);
}

static double dot3(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* One view's straight line u = a + b z through the resolved hits of the planes measuring mostly
 * that coordinate (view 0: x, 1: y), zlo <= z < zhi, weighted by 1/sigma_r^2: linear least squares,
 * normal equations (PDG Review of Particle Physics, "Statistics", linear least-squares fits, 2022
 * eq. 40.17). Needs hits in two different planes (the two layers of one double layer are too close
 * in z to fix a slope); 0 otherwise. */
/* The APV hits of the event mapped to strips of the Micromegas and GEM planes (channel map of the
 * run; the charge is the middle APV25 sample, the one at the peak, as in the tracking): a malloc'ed array of *n strips, NULL if none or out of memory. Damaged blocks give what
 * could be decoded. */
static na64_strip_hit *collect_strips(const na64_geom *g, const na64_daq_event *ev, size_t *n)
{
  na64_strip_hit *s = NULL;
  na64_daq_apv_hit *hits = NULL;
  size_t cap = 0, hcap = 0, cursor = 0;
  *n = 0;
  na64_daq_equipment eq;
  while (na64_daq_event_next_equipment(ev, &cursor, &eq)) {
    if (eq.header.type != NA64_DAQ_EQ_APV) continue;
    if (hcap < eq.nwords + 1) { /* at most one hit per word */
      na64_daq_apv_hit *h = realloc(hits, (eq.nwords + 1) * sizeof *h);
      if (!h) break;
      hits = h;
      hcap = eq.nwords + 1;
    }
    size_t got = 0;
    na64_err err;
    na64_daq_apv_decode(&eq, -1, hits, hcap, &got, NULL, &err);
    const na64_geom_chansrc *src = na64_geom_chan_source(g, eq.header.id);
    for (size_t k = 0; k < got; ++k) {
      const na64_geom_chan *c = na64_geom_chan_in_source(g, src, 0, hits[k].chip, hits[k].channel);
      if (!c || c->plane < 0 || c->plane >= g->nplanes || g->planes[c->plane].kind == NA64_DET_STRAW) continue;
      if (c->wire < 0 || c->wire >= g->planes[c->plane].nwires) continue;
      if (*n == cap) {
        na64_strip_hit *t = realloc(s, (cap ? 2 * cap : 64) * sizeof *t);
        if (!t) break;
        s = t;
        cap = cap ? 2 * cap : 64;
      }
      s[(*n)++] = (na64_strip_hit){c->plane, c->wire, (double)hits[k].amp[1]};
    }
  }
  free(hits);
  return s;
}

/* A strip cluster: a run of adjacent fired strips of one plane (na64_strip_cluster_find, the
 * tracking's clustering); u = charge-weighted mean of the strip centres as the measured coordinate in
 * the global frame (plane centre . u_dir + the local u), q the summed charge (ADC), n the strips;
 * best = the plane's cluster of
 * largest charge (the one the tracking uses). Drawn like the straws from above (planes measuring
 * mostly x, view 0) or from the side (view 1). */
typedef struct mon_cluster {
  int plane, view, n, best;
  double z, u, q;
} mon_cluster;

/* Mark the largest-charge cluster of each plane (a plane's clusters are consecutive). */
static void mark_best(mon_cluster *c, size_t nc)
{
  for (size_t i = 0; i < nc; ++i) {
    size_t j = i, best = i;
    while (j + 1 < nc && c[j + 1].plane == c[i].plane) ++j;
    for (size_t k = i; k <= j; ++k)
      if (c[k].q > c[best].q) best = k;
    c[best].best = 1;
    i = j;
  }
}

/* The clusters of one plane's hits h[0..n) (the clustering of the tracking, na64_strip_cluster_find)
 * appended to c (room for n more); those without charge are left out. */
static void plane_clusters(const na64_geom *g, const na64_strip_hit *h, size_t n, na64_strip_cluster *tmp,
                           mon_cluster *c, size_t *nc)
{
  const na64_geom_plane *pl = &g->planes[h[0].plane];
  size_t ncl = 0;
  na64_err err;
  if (na64_strip_cluster_find(pl, h, n, tmp, n, &ncl, &err) != NA64_OK) return; /* collect_strips checked the hits */
  for (size_t k = 0; k < ncl; ++k)
    if (tmp[k].q > 0)
      c[(*nc)++] = (mon_cluster){h[0].plane, fabs(pl->u_dir[0]) >= fabs(pl->u_dir[1]) ? 0 : 1, tmp[k].n, 0,
                                 pl->centre[2], dot3(pl->centre, pl->u_dir) + tmp[k].u, tmp[k].q};
}

/* The clusters of the event (malloc'ed, *nc of them; NULL if none). */
static mon_cluster *make_clusters(const na64_geom *g, const na64_daq_event *ev, size_t *nc)
{
  size_t ns = 0;
  na64_strip_hit *s = collect_strips(g, ev, &ns);
  mon_cluster *c = ns ? malloc(ns * sizeof *c) : NULL; /* at most one cluster per strip */
  na64_strip_cluster *tmp = ns ? malloc(ns * sizeof *tmp) : NULL;
  *nc = 0;
  if (!c || !tmp) {
    free(s);
    free(c);
    free(tmp);
    return NULL;
  }
  na64_strip_hits_sort(s, ns);
  for (size_t a = 0; a < ns;) {
    size_t b = a + 1;
    while (b < ns && s[b].plane == s[a].plane) ++b;
    plane_clusters(g, s + a, b - a, tmp, c, nc);
    a = b;
  }
  free(s);
  free(tmp);
  mark_best(c, *nc);
  return c;
}

static void strips_json(FILE *f, const na64_geom *g, const mon_cluster *c, size_t nc)
{
  fputs("\"strips\":[", f);
  for (size_t i = 0; i < nc; ++i) {
    const na64_geom_plane *pl = &g->planes[c[i].plane];
    fprintf(f, "%s{\"plane\":\"%s\",\"kind\":\"%s\",\"view\":%d,\"z\":%.5g,\"u\":%.5g,\"q\":%.5g,\"n\":%d,\"best\":%s}",
            i ? "," : "", pl->name, na64_geom_kind_name(pl->kind), c[i].view, c[i].z, c[i].u, c[i].q, c[i].n,
            c[i].best ? "true" : "false");
  }
  fputs("]", f);
}

typedef struct view_fit {
  double a, b, zmin, zmax;
  int n;
} view_fit;

/* The hits a line is fitted to: resolved straw hits and the best strip cluster of each plane. */
typedef struct fit_hits {
  const na64_straw_event *se;
  const mon_cluster *cl;
  size_t ncl;
} fit_hits;

typedef struct fit_sums {
  double s0, sz, szz, su, szu;
  int n, plane0, planes;
} fit_sums;

static void sums_add(fit_sums *a, view_fit *out, int plane, double z, double u, double w)
{
  a->s0 += w;
  a->sz += w * z;
  a->szz += w * z * z;
  a->su += w * u;
  a->szu += w * z * u;
  if (a->plane0 < 0) a->plane0 = plane, a->planes = 1;
  else if (plane != a->plane0) a->planes = 2;
  if (z < out->zmin) out->zmin = z;
  if (z > out->zmax) out->zmax = z;
  ++a->n;
}

/* Strip cluster resolution: 0.3 x pitch (~1.2 strips per cluster; ~70 um for a 250 um pitch), the
 * ESTIMATE of the tracking (src/reco/track.c, STRIP_RES). */
#define MON_STRIP_RES 0.3

static int fit_view(const na64_geom *g, const fit_hits *in, int view, double zlo, double zhi, view_fit *out)
{
  fit_sums a = {0, 0, 0, 0, 0, 0, -1, 0};
  out->zmin = 1e30;
  out->zmax = -1e30;
  for (size_t i = 0; i < in->se->nhits; ++i) {
    const na64_straw_hit *h = &in->se->hits[i];
    if (h->side == 0 || !isfinite(h->u) || !(h->sigma_r > 0)) continue;
    const na64_geom_plane *pl = &g->planes[h->plane];
    double c = pl->u_dir[view], z = h->pos[2];
    if (fabs(c) < 0.99 || z < zlo || z >= zhi) continue; /* only planes measuring this coordinate */
    sums_add(&a, out, h->plane, z, (dot3(pl->centre, pl->u_dir) + h->u) / c, 1.0 / (h->sigma_r * h->sigma_r));
  }
  for (size_t i = 0; i < in->ncl; ++i) {
    const mon_cluster *k = &in->cl[i];
    const na64_geom_plane *pl = &g->planes[k->plane];
    double c = pl->u_dir[view], sigma = MON_STRIP_RES * pl->pitch;
    if (!k->best || fabs(c) < 0.99 || k->z < zlo || k->z >= zhi || !(sigma > 0)) continue;
    sums_add(&a, out, k->plane, k->z, k->u / c, 1.0 / (sigma * sigma));
  }
  double det = a.s0 * a.szz - a.sz * a.sz;
  if (a.planes < 2 || a.n < 2 || !(fabs(det) > 1e-12 * a.s0 * a.szz)) return 0;
  out->b = (a.s0 * a.szu - a.sz * a.su) / det;
  out->a = (a.su - out->b * a.sz) / a.s0;
  out->n = a.n;
  return 1;
}

/* {"z":[z0,z1],"x":[x(z0),x(z1)] or null,"y":[...] or null,"hits":n} for the hits in [zlo, zhi);
 * nothing if neither view could be fitted. */
static int fit_line(FILE *f, const na64_geom *g, const fit_hits *in, double zlo, double zhi, int first)
{
  view_fit v[2];
  int ok[2] = {fit_view(g, in, 0, zlo, zhi, &v[0]), fit_view(g, in, 1, zlo, zhi, &v[1])};
  if (!ok[0] && !ok[1]) return 0;
  double z0 = 1e30, z1 = -1e30;
  int n = 0;
  for (int k = 0; k < 2; ++k)
    if (ok[k]) {
      z0 = fmin(z0, v[k].zmin);
      z1 = fmax(z1, v[k].zmax);
      n += v[k].n;
    }
  fprintf(f, "%s{\"z\":[%.5g,%.5g]", first ? "" : ",", z0, z1);
  for (int k = 0; k < 2; ++k) {
    if (ok[k]) fprintf(f, ",\"%c\":[%.5g,%.5g]", k ? 'y' : 'x', v[k].a + v[k].b * z0, v[k].a + v[k].b * z1);
    else fprintf(f, ",\"%c\":null", k ? 'y' : 'x');
  }
  fprintf(f, ",\"hits\":%d}", n);
  return 1;
}

/* Lines upstream of the first magnet and downstream of the last (the field bends the track between). */
static void tracks_json(FILE *f, const na64_geom *g, const fit_hits *in)
{
  double zm_lo = 1e30, zm_hi = -1e30;
  for (int i = 0; i < g->nmagnets; ++i) {
    double lo = g->magnets[i].centre[2] - 0.5 * g->magnets[i].length, hi = lo + g->magnets[i].length;
    if (lo < zm_lo) zm_lo = lo;
    if (hi > zm_hi) zm_hi = hi;
  }
  fputs("\"tracks\":[", f);
  if (g->nmagnets == 0) {
    fit_line(f, g, in, -1e30, 1e30, 1);
  } else {
    int any = fit_line(f, g, in, -1e30, zm_lo, 1);
    fit_line(f, g, in, zm_hi, 1e30, !any);
  }
  fputs("]", f);
}

static void straw_json(FILE *f, const na64_geom *g, const na64_straw_event *se)
{
  fputs("\"straw\":[", f);
  for (size_t i = 0; i < se->nhits; ++i) {
    const na64_straw_hit *h = &se->hits[i];
    const na64_geom_plane *pl = &g->planes[h->plane];
    /* view 0: from above (z, x) for planes measuring mostly x; 1: from the side (z, y) */
    int view = fabs(pl->u_dir[0]) >= fabs(pl->u_dir[1]) ? 0 : 1;
    double uc = dot3(pl->centre, pl->u_dir);
    fprintf(f, "%s{\"plane\":\"%s\",\"wire\":%d,\"view\":%d,\"z\":%.5g,\"u\":%.5g,\"r\":%.4g,\"t\":%.4g", i ? "," : "",
            pl->name, h->wire, view, h->pos[2], uc + h->u_wire, isfinite(h->r) ? h->r : 0.0, h->time);
    if (h->side != 0 && isfinite(h->u)) fprintf(f, ",\"hit\":%.5g", uc + h->u);
    fputs("}", f);
  }
  fputs("]", f);
}

static void cells_json(FILE *f, na64_mon *m, const na64_daq_event *ev)
{
  const na64_geom *g = m->geom;
  size_t cap = 64 * 16, n = 0;
  na64_daq_sadc_waveform *wf = malloc(cap * sizeof *wf);
  fputs("\"cells\":[", f);
  int first = 1;
  size_t cursor = 0;
  na64_daq_equipment eq;
  na64_err err;
  while (wf && na64_daq_event_next_equipment(ev, &cursor, &eq)) {
    if (eq.header.type != NA64_DAQ_EQ_SADC) continue;
    na64_daq_sadc_decode(&eq, wf, cap, &n, NULL, &err);
    for (size_t i = 0; i < n; ++i) {
      const mon_sadc_chan *c = mon_sadc_find(m, wf[i].source_id, wf[i].port, wf[i].channel);
      if (!c) continue;
      const na64_geom_cell *cell = &g->cells[c->cell];
      double e = mon_wf_amplitude(&wf[i], c->ped_even, c->ped_odd) * c->gain;
      if (!(e > 0)) continue;
      fprintf(f, "%s{\"det\":\"%s\",\"section\":%d,\"c\":[%.5g,%.5g,%.5g],\"s\":[%.4g,%.4g,%.4g],\"e\":%.5g}",
              first ? "" : ",", g->detectors[cell->detector].name, c->section, cell->centre[0], cell->centre[1],
              cell->centre[2], cell->size[0], cell->size[1], cell->size[2], e);
      first = 0;
    }
  }
  fputs("]", f);
  free(wf);
}

int mon_event_take(na64_mon *m, long number, mon_event *copy, uint64_t kept[MON_EVENTS], int *nkept)
{
  const mon_event *k = find_event(m, number);
  if (!k || !event_copy(copy, &k->header, k->data, k->size, k->nsubevents, k->swapped, k->number)) return 0;
  *nkept = m->ev_n;
  for (int i = 0; i < m->ev_n; ++i) kept[i] = m->kept[(m->ev_head + MON_EVENTS - m->ev_n + i) % MON_EVENTS].number;
  return 1;
}

/* Without the lock: the geometry, decoders and calibrations are set up by the filler before its first
 * publication (status.geometry, passed as `geometry` read under the lock) and only read afterwards, until na64_mon_stop. */
char *mon_event_json(na64_mon *m, const mon_event *k, const uint64_t *kept, int nkept, int geometry, size_t *len)
{
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  if (!f) return NULL;
  fprintf(f, "{\"number\":%llu,\"run\":%u,\"burst\":%u,\"in_burst\":%u,\"kept\":[",
          (unsigned long long)k->number, (unsigned)k->header.run, (unsigned)na64_daq_header_burst(&k->header),
          (unsigned)na64_daq_header_nb_in_burst(&k->header));
  for (int i = 0; i < nkept; ++i) fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)kept[i]);
  fputs("]", f);
  if (geometry && m->geom && m->straw && m->sreco) {
    na64_daq_event ev = {.header = k->header, .data = (const uint8_t *)k->data, .size = k->size,
                         .frame_offset = NA64_DAQ_NO_FRAME, .swapped = k->swapped, .nsubevents = k->nsubevents};
    na64_straw_digit_list dl;
    na64_straw_event se;
    na64_straw_digit_list_init(&dl);
    na64_straw_event_init(&se);
    na64_err err;
    na64_straw_decode_event(m->straw, &ev, &dl, NULL, &err); /* damaged words skipped, the rest shown */
    na64_straw_reco_event(m->sreco, dl.digits, dl.n, &se, &err);
    fputc(',', f);
    setup_json(f, m->geom);
    fputc(',', f);
    straw_json(f, m->geom, &se);
    size_t ncl = 0;
    mon_cluster *cl = make_clusters(m->geom, &ev, &ncl);
    fit_hits in = {&se, cl, ncl};
    fputc(',', f);
    tracks_json(f, m->geom, &in);
    fputc(',', f);
    strips_json(f, m->geom, cl, ncl);
    free(cl);
    fputc(',', f);
    cells_json(f, m, &ev);
    na64_straw_event_release(&se);
    na64_straw_digit_list_release(&dl);
  }
  fputs("}", f);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* ------------------------------------------------------------------------------------------------ */
/* Alarms. The bands (docs/monitor.md): a YAML file (--alarms) with
 *   min_events: 200           # fewer physics events in the window: not judged
 *   efficiency: [lo, hi]      -> efficiency_min / efficiency_max
 *   hits_per_event_min / hits_per_event_max
 *   planes: { ST01X: { efficiency_min: ..., ... }, ... }   per-plane overrides
 * Defaults: efficiency in [0.8, 1], hits per event in [0.5, 8]: a beam electron crosses every plane
 * and fires one straw per layer, two per double layer, with a few more for delta rays and
 * neighbours (docs/monitor.md). */

static void band_keys(na64_card_key k[4], mon_band *b)
{
  na64_card_key t[4] = {
      {"efficiency_min", NA64_CARD_DOUBLE, &b->eff_lo, 0, 0, 1, 0, NULL, 0, NULL},
      {"efficiency_max", NA64_CARD_DOUBLE, &b->eff_hi, 0, 0, 1, 0, NULL, 0, NULL},
      {"hits_per_event_min", NA64_CARD_DOUBLE, &b->rate_lo, 0, 0, 1e6, 0, NULL, 0, NULL},
      {"hits_per_event_max", NA64_CARD_DOUBLE, &b->rate_hi, 0, 0, 1e6, 0, NULL, 0, NULL},
  };
  memcpy(k, t, sizeof t);
}

int mon_alarms_load(na64_mon *m, const char *path, na64_err *err)
{
  m->band_default = (mon_band){0.8, 1.0, 0.5, 8.0};
  m->band_file = (mon_band){NAN, NAN, NAN, NAN};
  m->alarm_min_events = 200;
  if (!path || !*path) return 0;
  int st = na64_card_load(path, &m->alarm_card, err);
  if (st) return st;
  na64_card_key keys[6];
  band_keys(keys, &m->band_file); /* keys absent from the file stay NaN: not overridden */
  keys[4] = (na64_card_key){"min_events", NA64_CARD_INT, &m->alarm_min_events, 0, 1, 1e9, 0, NULL, 0, NULL};
  keys[5] = (na64_card_key){"planes", NA64_CARD_SECTION, NULL, 0, 0, 0, 0, NULL, 0, NULL};
  return na64_card_read(m->alarm_card, NULL, keys, 6, err);
}

/* Every field of `over` that is not NaN replaces the one of *b; 1 if any did. */
static int band_override(mon_band *b, const mon_band *over)
{
  const double *o = &over->eff_lo;
  double *d = &b->eff_lo;
  int any = 0;
  for (int k = 0; k < 4; ++k)
    if (!isnan(o[k])) d[k] = o[k], any = 1;
  return any;
}

/* The bands of the conditions database valid for the run (table mon_bands): NA64_OK with none when the
 * database has no record for the run's planes; an unreadable database is an error (the geometry was
 * read from it a moment before). */
static int bands_from_conditions(na64_mon *m, int run, na64_err *err)
{
  na64_cond *db = NULL;
  na64_cond_records *r = NULL;
  int st = na64_cond_open(m->opt.cond_path, NA64_COND_READONLY, &db, err);
  if (st == 0) st = na64_cond_fetch(db, run, &r, err);
  for (size_t i = 0; st == 0 && i < r->nmon_bands; ++i) {
    const na64_cond_mon_band *b = &r->mon_bands[i];
    int p = na64_geom_plane_index(m->geom, b->plane);
    if (p < 0) continue;
    m->bands[p] = (mon_band){b->efficiency_min, b->efficiency_max, b->hits_min, b->hits_max};
    m->band_src[p] = MON_BAND_CONDITIONS;
  }
  na64_cond_records_free(r);
  na64_cond_close(db);
  return st;
}

/* Bands per plane, lowest precedence first: the built-in default, the conditions database's record
 * for the plane and run, the --alarms file's band of every plane, its band for the plane. */
int mon_alarms_setup(na64_mon *m, int run, na64_err *err)
{
  const na64_geom *g = m->geom;
  m->bands = malloc(((size_t)g->nplanes + 1) * sizeof *m->bands);
  m->band_src = malloc(((size_t)g->nplanes + 1) * sizeof *m->band_src);
  if (!m->bands || !m->band_src) return na64_err_set(err, NA64_ENOMEM, "monitor: out of memory for the alarm bands");
  for (int p = 0; p < g->nplanes; ++p) {
    m->bands[p] = m->band_default;
    m->band_src[p] = MON_BAND_DEFAULT;
  }
  int st = bands_from_conditions(m, run, err);
  if (st) return st;
  const na64_card_node *planes = m->alarm_card ? na64_card_get(m->alarm_card, NULL, "planes") : NULL;
  for (int p = 0; p < g->nplanes; ++p) {
    if (band_override(&m->bands[p], &m->band_file)) m->band_src[p] = MON_BAND_FILE;
    const na64_card_node *pn = planes ? na64_card_get(m->alarm_card, planes, g->planes[p].name) : NULL;
    if (!pn) continue;
    mon_band over = {NAN, NAN, NAN, NAN};
    na64_card_key keys[4];
    band_keys(keys, &over);
    st = na64_card_read(m->alarm_card, pn, keys, 4, err);
    if (st) return st;
    if (band_override(&m->bands[p], &over)) m->band_src[p] = MON_BAND_FILE;
  }
  return 0;
}

/* Efficiency and hits per event of a plane from its `nhits` histogram over the window:
 * efficiency = 1 - (events with 0 hits) / events; hits per event = sum w x / sum w with x the bin
 * centre minus 0.5 (bins are 0, 1, 2, ... hits; overflow counted at 32). */
static void plane_figures(const na64_hist *h, double *events, double *eff, double *rate)
{
  int nb = na64_hist_nbins(h, 0);
  double n = 0, sum = 0;
  for (int c = 1; c <= nb + 1; ++c) {
    double w = na64_hist_cell(h, c);
    n += w;
    sum += w * (c - 1);
  }
  *events = n;
  *eff = n > 0 ? 1.0 - na64_hist_cell(h, 1) / n : NAN;
  *rate = n > 0 ? sum / n : NAN;
}

static const char *band_source_name(int src)
{
  return src == MON_BAND_CONDITIONS ? "conditions" : src == MON_BAND_FILE ? "alarms file" : "default";
}

char *mon_alarms_json(na64_mon *m, size_t *len)
{
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  if (!f) return NULL;
  fprintf(f, "{\"window_s\":%g,\"min_events\":%ld,\"planes\":[", m->rolling_s, m->alarm_min_events);
  int first = 1, nalarm = 0;
  const na64_geom *g = m->status.geometry ? m->geom : NULL; /* set up by the filler before it published */
  for (int p = 0; g && m->bands && p < g->nplanes; ++p) {
    int it = m->straw_item[p];
    if (it < 0 || it + 2 >= m->nitems_pub) continue;
    int bad;
    na64_hist *w = mon_window(m, it + 2, "rolling", &bad);
    if (!w) continue;
    double n, eff, rate;
    plane_figures(w, &n, &eff, &rate);
    na64_hist_free(w);
    const mon_band *b = &m->bands[p];
    int judged = n >= (double)m->alarm_min_events;
    int eff_bad = judged && (eff < b->eff_lo || eff > b->eff_hi);
    int rate_bad = judged && (rate < b->rate_lo || rate > b->rate_hi);
    nalarm += eff_bad || rate_bad;
    fprintf(f,
            "%s{\"plane\":\"%s\",\"events\":%.0f,\"efficiency\":%.4f,\"hits_per_event\":%.4f,"
            "\"efficiency_band\":[%g,%g],\"hits_per_event_band\":[%g,%g],\"band_from\":\"%s\",\"judged\":%s,"
            "\"alarm\":%s,\"why\":\"%s%s\"}",
            first ? "" : ",", g->planes[p].name, n, isfinite(eff) ? eff : -1.0, isfinite(rate) ? rate : -1.0, b->eff_lo,
            b->eff_hi, b->rate_lo, b->rate_hi, band_source_name(m->band_src[p]), judged ? "true" : "false", eff_bad || rate_bad ? "true" : "false",
            eff_bad ? "efficiency " : "", rate_bad ? "hits per event" : "");
    first = 0;
  }
  fprintf(f, "],\"alarms\":%d}", nalarm);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}
