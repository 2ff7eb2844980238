/*
 * Two tracks and their vertex in the straw stations behind the visible-mode decay volume (issue 12;
 * docs/visible.md, "Vertex"). Input: the straw hits and local segments of one event
 * (na64_straw_reco_event, docs/straw.md §3). Output: up to two straight tracks per projection and
 * the point where they cross.
 *
 * Candidates: every straw hit gives its two mirror positions u_wire +- r at its layer's z (the
 * left/right ambiguity, docs/straw.md). Each projection (x planes at 0 deg, y planes at 90 deg) is
 * searched separately by a road search: a seed line through one candidate of a front layer and one
 * of a back layer collects the nearest candidate of every layer within 5 standard deviations, is
 * fitted (weighted least squares u = a + b (z - z_ref)), collects again around the fit and is
 * refitted; a track needs min_hits layers and chi2/ndf <= chi2_max. The first track is the best
 * (most hits, then lowest chi2); the second the best line through hits the first does not use (in
 * either mirror position), at least min_own of them: a straw crossed by both tracks records only
 * the nearer one, so a shared hit measures neither well, and the mirror positions of the first
 * track's hits would make crossing ghost lines. Two lines make a pair only if they diverge
 * downstream (the decay is upstream of the stations). A pair 2
 * mrad apart (m_A' = 50 MeV, E_A' = 50 GeV, NA64 report) is 4-6 mm apart at the stations, about one
 * 6 mm straw: the efficiency and resolution versus opening angle are measured in
 * tests/reco/test_vis_vertex.c (docs/visible.md, "Vertex").
 *
 * Vertex: in a projection with two tracks, the lines cross at t = z - z_ref = -(a2 - a1)/(b2 - b1);
 * its variance is var(du(t))/(db)^2 with du(t) = da + t db (linear error propagation; the tracks
 * are independent, so the covariances of (a, b) of the two fits add). The two projections are
 * combined with inverse-variance weights.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"

#define VTX_MAX_LAYERS 16 /* straw layers per projection */
#define VTX_MAX_CAND 16   /* mirror positions per layer kept */
#define VTX_ROAD 5.0      /* a hit joins a line within this many standard deviations */

typedef struct cand {
  double u, sigma;
  int hit; /* index in the event's hits: the two mirror positions of a hit share it */
} cand;

typedef struct proj {
  int nl;
  double z[VTX_MAX_LAYERS];
  int nc[VTX_MAX_LAYERS];
  cand c[VTX_MAX_LAYERS][VTX_MAX_CAND];
} proj;

typedef struct line {
  int n;                    /* layers used */
  int pick[VTX_MAX_LAYERS]; /* candidate per layer, -1 none */
  double a, b, caa, cab, cbb, chi2;
} line;

void na64_vertex_options_default(na64_vertex_options *o)
{
  o->chi2_max = 4.0;  /* chi2 per degree of freedom of a track */
  o->min_hits = 4;    /* of the 6 layers of the three stations of a projection */
  o->min_own = 3;     /* hits of the second track not used by the first */
}

/* the layer slot of (plane, layer) in its projection, created in z order on first use */
static int layer_slot(proj *p, double z)
{
  for (int k = 0; k < p->nl; ++k)
    if (fabs(p->z[k] - z) < 1e-6) return k;
  if (p->nl >= VTX_MAX_LAYERS) return -1;
  int k = p->nl++;
  while (k > 0 && p->z[k - 1] > z) { /* insertion in z order */
    p->z[k] = p->z[k - 1];
    p->nc[k] = p->nc[k - 1];
    memcpy(p->c[k], p->c[k - 1], sizeof p->c[k]);
    --k;
  }
  p->z[k] = z;
  p->nc[k] = 0;
  return k;
}

/* projection 0: planes measuring x (angle 0), 1: y (90 deg); every hit gives both mirror positions */
static void collect(const na64_geom *g, const na64_straw_event *ev, proj pr[2])
{
  memset(pr, 0, 2 * sizeof *pr);
  for (size_t h = 0; h < ev->nhits; ++h) {
    const na64_straw_hit *ht = &ev->hits[h];
    if (ht->plane < 0 || ht->plane >= g->nplanes || !isfinite(ht->r) || !(ht->sigma_r > 0.0)) continue;
    const na64_geom_plane *pl = &g->planes[ht->plane];
    int q = fabs(pl->u_dir[0]) > 0.999 ? 0 : fabs(pl->u_dir[1]) > 0.999 ? 1 : -1;
    if (q < 0) continue;
    proj *p = &pr[q];
    int k = layer_slot(p, ht->pos[2]);
    if (k < 0 || p->nc[k] + 2 > VTX_MAX_CAND) continue;
    double sign = pl->u_dir[q] > 0 ? 1.0 : -1.0, u = sign * ht->pos[q]; /* global coordinate of the wire */
    for (int m = -1; m <= 1; m += 2) {
      cand c = {u + m * sign * ht->r, ht->sigma_r, (int)h};
      p->c[k][p->nc[k]++] = c;
    }
  }
}

static int fit_line(const proj *p, const int *pick, double zref, line *l)
{
  double S = 0, Sz = 0, Szz = 0, Su = 0, Szu = 0;
  int n = 0;
  for (int k = 0; k < p->nl; ++k) {
    if (pick[k] < 0) continue;
    const cand *c = &p->c[k][pick[k]];
    double w = 1.0 / (c->sigma * c->sigma), t = p->z[k] - zref;
    S += w, Sz += w * t, Szz += w * t * t, Su += w * c->u, Szu += w * t * c->u;
    ++n;
  }
  double D = S * Szz - Sz * Sz;
  if (n < 2 || !(D > 0.0)) return 0;
  l->n = n;
  memcpy(l->pick, pick, sizeof l->pick);
  l->a = (Szz * Su - Sz * Szu) / D;
  l->b = (S * Szu - Sz * Su) / D;
  l->caa = Szz / D, l->cab = -Sz / D, l->cbb = S / D;
  l->chi2 = 0.0;
  for (int k = 0; k < p->nl; ++k) {
    if (pick[k] < 0) continue;
    const cand *c = &p->c[k][pick[k]];
    double r = (c->u - l->a - l->b * (p->z[k] - zref)) / c->sigma;
    l->chi2 += r * r;
  }
  return 1;
}

/* 1 if hit h is used by line x (in either mirror position) */
static int uses_hit(const proj *p, const line *x, int k, int h)
{
  return x && x->pick[k] >= 0 && p->c[k][x->pick[k]].hit == h;
}

/* in every layer the candidate nearest to the line u = a + b (z - zref), within the road, among the
 * hits that `first` (may be NULL) does not use */
static void pick_nearest(const proj *p, double a, double b, double zref, const line *first, int *pick)
{
  for (int k = 0; k < p->nl; ++k) {
    pick[k] = -1;
    double best = VTX_ROAD;
    for (int i = 0; i < p->nc[k]; ++i) {
      if (uses_hit(p, first, k, p->c[k][i].hit)) continue;
      double d = fabs(p->c[k][i].u - a - b * (p->z[k] - zref)) / p->c[k][i].sigma;
      if (d < best) best = d, pick[k] = i;
    }
  }
}

/* Road search: a seed line through one candidate of a front layer (the first two) and one of a back
 * layer (the last two), the nearest candidates of every layer within the road, a fit, a second
 * pick around the fit and the final fit. The best line has the most hits, then the lowest chi2;
 * with `first`, only hits that it does not use, at least min_own of them. */
static int search(const proj *p, double zref, const na64_vertex_options *o, const line *first, line *best)
{
  int have = 0;
  for (int la = 0; la < 2 && la < p->nl; ++la)
    for (int lb = p->nl - 1; lb >= p->nl - 2 && lb > la; --lb)
      for (int i = 0; i < p->nc[la]; ++i)
        for (int j = 0; j < p->nc[lb]; ++j) {
          const cand *ca = &p->c[la][i], *cb = &p->c[lb][j];
          if (uses_hit(p, first, la, ca->hit) || uses_hit(p, first, lb, cb->hit)) continue;
          double b = (cb->u - ca->u) / (p->z[lb] - p->z[la]), a = ca->u - b * (p->z[la] - zref);
          int pick[VTX_MAX_LAYERS];
          line l;
          pick_nearest(p, a, b, zref, first, pick);
          if (!fit_line(p, pick, zref, &l)) continue;
          pick_nearest(p, l.a, l.b, zref, first, pick);
          if (!fit_line(p, pick, zref, &l) || l.n < (first ? o->min_own : o->min_hits) || l.n < 3 ||
              l.chi2 > o->chi2_max * (l.n - 2))
            continue;
          if (!have || l.n > best->n || (l.n == best->n && l.chi2 < best->chi2)) *best = l, have = 1;
        }
  return have;
}

int na64_vertex_find(const na64_geom *g, const na64_straw_event *ev, const na64_vertex_options *opt, na64_vertex *out,
                     na64_err *err)
{
  if (!g || !ev || !out) return na64_err_set(err, NA64_EINVAL, "na64_vertex_find: NULL argument");
  na64_vertex_options o;
  if (opt) o = *opt;
  else na64_vertex_options_default(&o);
  if (!(o.chi2_max > 0.0) || o.min_hits < 3 || o.min_own < 1)
    return na64_err_set(err, NA64_EINVAL, "vertex: chi2_max %g must be > 0, min_hits %d >= 3, min_own %d >= 1", o.chi2_max,
                        o.min_hits, o.min_own);
  memset(out, 0, sizeof *out);
  out->z = out->sigma_z = out->x = out->y = NAN;
  proj pr[2];
  collect(g, ev, pr);
  double zsum = 0.0, wsum = 0.0, dth2 = 0.0, mid[2] = {NAN, NAN};
  line L[2][2];
  for (int q = 0; q < 2; ++q) {
    const proj *p = &pr[q];
    if (p->nl < 2) continue;
    double zref = p->z[0];
    out->z_ref[q] = zref;
    if (!search(p, zref, &o, NULL, &L[q][0])) continue;
    out->ntracks[q] = 1;
    out->track[q][0][0] = L[q][0].a, out->track[q][0][1] = L[q][0].b;
    if (!search(p, zref, &o, &L[q][0], &L[q][1])) continue;
    double da = L[q][1].a - L[q][0].a, db = L[q][1].b - L[q][0].b;
    /* tracks from a decay upstream diverge downstream: lines that cross behind the first plane
     * (da db < 0) are not a pair from the decay volume */
    if (da * db < 0.0) continue;
    out->ntracks[q] = 2;
    out->track[q][1][0] = L[q][1].a, out->track[q][1][1] = L[q][1].b;
    dth2 += db * db;
    if (db == 0.0) continue;
    double t = -da / db;
    double var = (L[q][0].caa + L[q][1].caa) + 2.0 * t * (L[q][0].cab + L[q][1].cab) + t * t * (L[q][0].cbb + L[q][1].cbb);
    double vz = var / (db * db);
    if (!(vz > 0.0) || !isfinite(vz)) continue;
    zsum += (zref + t) / vz;
    wsum += 1.0 / vz;
  }
  out->resolved = out->ntracks[0] == 2 || out->ntracks[1] == 2;
  out->opening = out->resolved ? sqrt(dth2) : NAN;
  if (wsum > 0.0) {
    out->z = zsum / wsum;
    out->sigma_z = 1.0 / sqrt(wsum);
    for (int q = 0; q < 2; ++q) {
      if (out->ntracks[q] < 1) continue;
      double t = out->z - out->z_ref[q];
      mid[q] = out->ntracks[q] == 2 ? 0.5 * (L[q][0].a + L[q][1].a + (L[q][0].b + L[q][1].b) * t) : L[q][0].a + L[q][0].b * t;
    }
    out->x = mid[0];
    out->y = mid[1];
  }
  return NA64_OK;
}
