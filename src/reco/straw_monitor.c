/* Straw monitoring quantities: per-plane hit maps, drift-time and radius spectra, pair residuals,
 * self-tagged layer efficiencies, and, with reference tracks, per-wire efficiencies, radius residuals
 * and the left/right check (docs/straw.md §4). Plain arrays for the online monitor; histograms use
 * the ROOT TH1 cell layout (underflow, bins, overflow) so they can be exported as they are. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"
#include "reco/straw_internal.h"

void na64_straw_hist_fill(na64_straw_hist *h, double x, double w)
{
  if (!h || !h->content || isnan(x)) return;
  int k;
  if (x < h->lo) k = 0;
  else if (x >= h->hi) k = h->nbins + 1;
  else {
    k = 1 + (int)((x - h->lo) / (h->hi - h->lo) * h->nbins);
    if (k > h->nbins) k = h->nbins;
  }
  h->content[k] += w;
  h->entries += 1;
}

static int hist_init(na64_straw_hist *h, int nbins, double lo, double hi)
{
  h->nbins = nbins;
  h->lo = lo;
  h->hi = hi;
  h->entries = 0;
  h->content = calloc((size_t)nbins + 2, sizeof *h->content);
  return h->content ? 0 : -1;
}

void na64_straw_monitor_free(na64_straw_monitor *m)
{
  if (!m) return;
  for (int i = 0; i < m->nplanes; ++i) {
    na64_straw_plane_monitor *p = &m->planes[i];
    free(p->hitmap);
    free(p->expected);
    free(p->found);
    free(p->time.content);
    free(p->radius.content);
    free(p->pair_residual.content);
    free(p->track_residual.content);
  }
  free(m->planes);
  free(m->index);
  free(m);
}

int na64_straw_monitor_new(const na64_straw_reco *r, na64_straw_monitor **out, na64_err *err)
{
  if (!r || !out) return na64_err_set(err, NA64_EINVAL, "na64_straw_monitor_new: NULL argument");
  *out = NULL;
  const na64_geom *g = r->g;
  na64_straw_monitor *m = calloc(1, sizeof *m);
  if (!m) return na64_err_set(err, NA64_ENOMEM, "straw monitor: out of memory");
  size_t np = g->nplanes > 0 ? (size_t)g->nplanes : 1;
  m->index = malloc(np * sizeof *m->index);
  m->planes = calloc(np, sizeof *m->planes);
  if (!m->index || !m->planes) {
    na64_straw_monitor_free(m);
    return na64_err_set(err, NA64_ENOMEM, "straw monitor: out of memory");
  }
  for (int i = 0; i < g->nplanes; ++i) {
    m->index[i] = -1;
    if (!r->planes[i].straw) continue;
    const na64_geom_plane *p = &g->planes[i];
    na64_straw_plane_monitor *q = &m->planes[m->nplanes++];
    q->plane = i;
    snprintf(q->name, sizeof q->name, "%s", p->name);
    q->nwires = p->nwires;
    double R = r->planes[i].radius;
    double tend = r->planes[i].rt_n ? r->planes[i].rt_t[r->planes[i].rt_n - 1] : 250;
    int nt = (int)ceil(tend + 80);
    if (nt > 2000) nt = 2000;
    q->hitmap = calloc((size_t)p->nwires, sizeof *q->hitmap);
    q->expected = calloc((size_t)p->nwires, sizeof *q->expected);
    q->found = calloc((size_t)p->nwires, sizeof *q->found);
    if (!q->hitmap || !q->expected || !q->found || hist_init(&q->time, nt, -30, -30 + nt) ||
        hist_init(&q->radius, 60, 0, 1.2 * R) || hist_init(&q->pair_residual, 100, -R, R) ||
        hist_init(&q->track_residual, 100, -R / 2, R / 2)) {
      na64_straw_monitor_free(m);
      return na64_err_set(err, NA64_ENOMEM, "straw monitor: out of memory");
    }
    m->index[i] = m->nplanes - 1;
  }
  *out = m;
  return NA64_OK;
}

void na64_straw_monitor_reset(na64_straw_monitor *m)
{
  if (!m) return;
  m->events = 0;
  for (int i = 0; i < m->nplanes; ++i) {
    na64_straw_plane_monitor *q = &m->planes[i];
    q->hits = q->events_with_hits = q->pairs = q->singles = q->ambiguous = q->lr_checked = q->lr_correct = 0;
    q->probe[0] = q->probe[1] = q->probe_found[0] = q->probe_found[1] = 0;
    memset(q->hitmap, 0, (size_t)q->nwires * sizeof *q->hitmap);
    memset(q->expected, 0, (size_t)q->nwires * sizeof *q->expected);
    memset(q->found, 0, (size_t)q->nwires * sizeof *q->found);
    na64_straw_hist *hs[4] = {&q->time, &q->radius, &q->pair_residual, &q->track_residual};
    for (int k = 0; k < 4; ++k) {
      memset(hs[k]->content, 0, ((size_t)hs[k]->nbins + 2) * sizeof *hs[k]->content);
      hs[k]->entries = 0;
    }
  }
}

void na64_straw_monitor_fill(na64_straw_monitor *m, const na64_straw_reco *r, const na64_straw_event *ev)
{
  if (!m || !r || !ev) return;
  m->events++;
  int last = -1;
  for (size_t i = 0; i < ev->nhits; ++i) {
    const na64_straw_hit *h = &ev->hits[i];
    if (h->plane < 0 || h->plane >= r->g->nplanes || m->index[h->plane] < 0) continue;
    na64_straw_plane_monitor *q = &m->planes[m->index[h->plane]];
    const straw_reco_plane *rp = &r->planes[h->plane];
    if (h->plane != last) q->events_with_hits++;
    last = h->plane;
    q->hits++;
    if (h->wire >= 0 && h->wire < q->nwires) q->hitmap[h->wire] += 1;
    na64_straw_hist_fill(&q->time, h->time, 1);
    na64_straw_hist_fill(&q->radius, h->r, 1);
    /* self-tagged efficiency of the other layer: a hit whose wire lies inside the coverage of the
     * other layer must have a partner there if that layer was efficient */
    if (h->layer == 0 || h->layer == 1) {
      int L = 1 - h->layer;
      if (h->u_wire >= rp->umin[L] && h->u_wire <= rp->umax[L]) {
        q->probe[L]++;
        if (h->partner >= 0) q->probe_found[L]++;
      }
    }
  }
  for (size_t s = 0; s < ev->nsegments; ++s) {
    const na64_straw_segment *g = &ev->segments[s];
    if (g->plane < 0 || g->plane >= r->g->nplanes || m->index[g->plane] < 0) continue;
    na64_straw_plane_monitor *q = &m->planes[m->index[g->plane]];
    if (!(g->flags & NA64_STRAW_SEG_PAIR)) {
      q->singles++;
      continue;
    }
    q->pairs++;
    if (g->flags & NA64_STRAW_SEG_AMBIGUOUS) q->ambiguous++;
    const na64_straw_hit *a = &ev->hits[g->hit[0]], *b = &ev->hits[g->hit[1]];
    double res = (b->u - a->u) - r->planes[g->plane].slope_exp * (b->pos[2] - a->pos[2]);
    na64_straw_hist_fill(&q->pair_residual, res, 1);
  }
}

void na64_straw_monitor_fill_track(na64_straw_monitor *m, const na64_straw_reco *r, const na64_straw_event *ev,
                                   const double point[3], const double dir[3], double fiducial)
{
  if (!m || !r || !ev || !point || !dir || !(fiducial > 0) || fiducial > 1) return;
  const na64_geom *g = r->g;
  for (int k = 0; k < m->nplanes; ++k) {
    na64_straw_plane_monitor *q = &m->planes[k];
    const na64_geom_plane *p = &g->planes[q->plane];
    const double R = r->planes[q->plane].radius;
    for (int w = 0; w < p->nwires; ++w) {
      double t, s;
      double dca = straw_line_dca(point, dir, p->wires[w].pos, p->w_dir, &t, &s);
      if (!(dca < fiducial * R) || fabs(t) > p->size_v / 2) continue;
      q->expected[w] += 1;
      const na64_straw_hit *h = NULL;
      for (size_t i = 0; i < ev->nhits; ++i)
        if (ev->hits[i].plane == q->plane && ev->hits[i].wire == w) {
          h = &ev->hits[i];
          break;
        }
      if (!h) continue;
      q->found[w] += 1;
      na64_straw_hist_fill(&q->track_residual, h->r - dca, 1);
      if (h->side) {
        /* side of the track: its u at the closest approach relative to the wire's */
        double u = 0;
        for (int a = 0; a < 3; ++a) u += (point[a] + s * dir[a] - p->wires[w].pos[a]) * p->u_dir[a];
        q->lr_checked++;
        if ((u > 0) == (h->side > 0)) q->lr_correct++;
      }
    }
  }
}

double na64_straw_monitor_wire_efficiency(const na64_straw_plane_monitor *p, int wire)
{
  if (!p || wire < 0 || wire >= p->nwires || !(p->expected[wire] > 0)) return NAN;
  return p->found[wire] / p->expected[wire];
}

double na64_straw_monitor_layer_efficiency(const na64_straw_plane_monitor *p, int layer)
{
  if (!p || layer < 0 || layer > 1 || !p->probe[layer]) return NAN;
  return (double)p->probe_found[layer] / (double)p->probe[layer];
}
