/* Straw hits: drift radius and its error from the plane's r(t) (conditions database) and the time
 * resolution, and the left/right resolution in the staggered double layers by local segments
 * (docs/straw.md §3).
 *
 * Radius error. A time error sigma_t becomes sigma_r = sigma_t |dr/dt| (first-order propagation
 * through r(t)); the database keeps for each plane sigma_r averaged over a uniform illumination in r,
 * so sigma_t = sigma_r / <dr/dt>_r with <dr/dt>_r = (1/R) int (dr/dt) dr = (1/R) sum dr_k^2 / dt_k
 * over the table's segments (the same convention is used when writing it, src/reco/straw_calib.c).
 *
 * Left/right. The two layers of a double layer are staggered by half a straw, so a track crosses
 * one straw of each layer, on opposite sides of the two wires when it passes between them. For two
 * hits in neighbouring straws of the two layers, each of the four sign combinations p_i = u_i +/- r_i
 * is fitted with a straight segment u(z) = u0 + s (z - z_c) with a Gaussian constraint of the slope
 * around the expected one (the beam direction), one degree of freedom:
 *     chi2 = sum_i (p_i - u0 - s dz_i)^2 / sigma_i^2 + (s - s_exp)^2 / sigma_s^2,
 * and the smallest chi2 wins. Pairs are formed greedily by increasing chi2. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"
#include "reco/straw_internal.h"

void na64_straw_reco_options_default(na64_straw_reco_options *o)
{
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->sigma_t = 0;
  o->sigma_r_min = 0.001;
  o->slope_x = 0;
  o->slope_y = 0;
  o->sigma_slope = 0.01;
  o->chi2_max = 25;
}

void na64_straw_event_init(na64_straw_event *ev)
{
  if (ev) memset(ev, 0, sizeof *ev);
}

void na64_straw_event_release(na64_straw_event *ev)
{
  if (!ev) return;
  free(ev->hits);
  free(ev->segments);
  free(ev->scratch);
  memset(ev, 0, sizeof *ev);
}

void na64_straw_reco_free(na64_straw_reco *r)
{
  if (!r) return;
  if (r->planes)
    for (int i = 0; i < r->g->nplanes; ++i) free(r->planes[i].slope);
  free(r->planes);
  free(r);
}

int na64_straw_reco_new(const na64_geom *g, const na64_straw_reco_options *opt, na64_straw_reco **out, na64_err *err)
{
  if (!g || !out) return na64_err_set(err, NA64_EINVAL, "na64_straw_reco_new: NULL argument");
  *out = NULL;
  na64_straw_reco_options o;
  if (opt) o = *opt;
  else na64_straw_reco_options_default(&o);
  if (!isfinite(o.sigma_t) || !(o.sigma_r_min >= 0) || !isfinite(o.sigma_r_min) || !isfinite(o.slope_x) ||
      !isfinite(o.slope_y) || !(o.sigma_slope > 0) || !isfinite(o.sigma_slope) || !(o.chi2_max > 0))
    return na64_err_set(err, NA64_EINVAL,
                        "straw reconstruction: bad options (sigma_t %g ns, sigma_r_min %g cm, slopes %g %g, sigma_slope "
                        "%g, chi2_max %g)",
                        o.sigma_t, o.sigma_r_min, o.slope_x, o.slope_y, o.sigma_slope, o.chi2_max);
  na64_straw_reco *r = calloc(1, sizeof *r);
  if (!r) return na64_err_set(err, NA64_ENOMEM, "straw reconstruction: out of memory");
  r->g = g;
  r->opt = o;
  r->planes = calloc(g->nplanes > 0 ? (size_t)g->nplanes : 1, sizeof *r->planes);
  if (!r->planes) {
    na64_straw_reco_free(r);
    return na64_err_set(err, NA64_ENOMEM, "straw reconstruction: out of memory");
  }
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *p = &g->planes[i];
    straw_reco_plane *q = &r->planes[i];
    if (p->kind != NA64_DET_STRAW || p->nwires <= 0) continue;
    q->straw = 1;
    q->radius = p->diameter / 2;
    q->slope_exp = o.slope_x * p->u_dir[0] + o.slope_y * p->u_dir[1];
    q->rt_n = p->rt_n >= 2 ? p->rt_n : 0;
    q->rt_t = p->rt_t;
    q->rt_r = p->rt_r;
    double vbar = 0;
    if (q->rt_n) {
      q->slope = malloc((size_t)(q->rt_n - 1) * sizeof *q->slope);
      if (!q->slope) {
        na64_straw_reco_free(r);
        return na64_err_set(err, NA64_ENOMEM, "straw reconstruction: out of memory");
      }
      for (int k = 1; k < q->rt_n; ++k) {
        double dr = p->rt_r[k] - p->rt_r[k - 1];
        q->slope[k - 1] = dr / (p->rt_t[k] - p->rt_t[k - 1]);
        vbar += dr * q->slope[k - 1];
      }
      if (p->rt_r[q->rt_n - 1] > 0) vbar /= p->rt_r[q->rt_n - 1];
    }
    if (o.sigma_t > 0) q->sigma_t = o.sigma_t;
    else if (vbar > 0 && p->sigma_r > 0) q->sigma_t = p->sigma_r / vbar;
    else q->sigma_t = 2.0;
    /* layer coverage (for pairing and the monitor) */
    q->umin[0] = q->umin[1] = INFINITY;
    q->umax[0] = q->umax[1] = -INFINITY;
    for (int w = 0; w < p->nwires; ++w) {
      int L = p->wires[w].layer;
      if (L < 0 || L > 1) continue;
      if (p->wires[w].u < q->umin[L]) q->umin[L] = p->wires[w].u;
      if (p->wires[w].u > q->umax[L]) q->umax[L] = p->wires[w].u;
    }
  }
  *out = r;
  return NA64_OK;
}

const na64_geom *na64_straw_reco_geom(const na64_straw_reco *r) { return r ? r->g : NULL; }

double na64_straw_reco_sigma_t(const na64_straw_reco *r, int plane)
{
  if (!r || plane < 0 || plane >= r->g->nplanes || !r->planes[plane].straw) return NAN;
  return r->planes[plane].sigma_t;
}

int na64_straw_reco_radius(const na64_straw_reco *r, int plane, double t, double *radius, double *sigma)
{
  if (!r || !radius || plane < 0 || plane >= r->g->nplanes || !r->planes[plane].straw) return -1;
  const straw_reco_plane *q = &r->planes[plane];
  int flags = 0;
  if (!q->rt_n || isnan(t)) {
    *radius = NAN;
    if (sigma) *sigma = NAN;
    return NA64_STRAW_HIT_NO_RT;
  }
  const int n = q->rt_n;
  double rr, slope;
  if (t <= q->rt_t[0]) {
    rr = q->rt_r[0];
    slope = q->slope[0];
    if (t < q->rt_t[0]) flags |= NA64_STRAW_HIT_EARLY;
  } else if (t >= q->rt_t[n - 1]) {
    rr = q->rt_r[n - 1];
    slope = q->slope[n - 2];
    if (t > q->rt_t[n - 1]) flags |= NA64_STRAW_HIT_LATE;
  } else {
    int lo = 0, hi = n - 1; /* rt_t[lo] <= t < rt_t[hi] */
    while (hi - lo > 1) {
      int mid = (lo + hi) / 2;
      if (q->rt_t[mid] <= t) lo = mid;
      else hi = mid;
    }
    slope = q->slope[lo];
    rr = q->rt_r[lo] + slope * (t - q->rt_t[lo]);
  }
  *radius = rr;
  if (sigma) {
    double s = q->sigma_t * fabs(slope);
    *sigma = s > r->opt.sigma_r_min ? s : r->opt.sigma_r_min;
  }
  return flags;
}

/* ---------------------------------------------------------------------------------------------
 * Event reconstruction
 * ------------------------------------------------------------------------------------------- */

typedef struct sort_key {
  int32_t plane, layer, wire, digit;
  double time;
} sort_key;
_Static_assert(sizeof(sort_key) <= 64, "sort_small swaps through a 64-byte buffer");

static int cmp_key(const void *a, const void *b)
{
  const sort_key *x = a, *y = b;
  if (x->plane != y->plane) return x->plane < y->plane ? -1 : 1;
  if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
  if (x->wire != y->wire) return x->wire < y->wire ? -1 : 1;
  if (x->time != y->time) return x->time < y->time ? -1 : 1;
  return (x->digit > y->digit) - (x->digit < y->digit);
}

/* Insertion sort for the few elements of one event (glibc's qsort allocates a buffer per call);
 * qsort beyond 32. */
static void sort_small(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
  if (n > 32) {
    qsort(base, n, size, cmp);
    return;
  }
  unsigned char *a = base, tmp[64];
  for (size_t i = 1; i < n; ++i) {
    memcpy(tmp, a + i * size, size);
    size_t j = i;
    while (j > 0 && cmp(a + (j - 1) * size, tmp) > 0) {
      memcpy(a + j * size, a + (j - 1) * size, size);
      j--;
    }
    memcpy(a + j * size, tmp, size);
  }
}

typedef struct pair_cand {
  int32_t a, b;      /* hit indices, layer 0 and layer 1 */
  int8_t sa, sb;     /* chosen signs */
  double chi2, chi2_next, u0, slope, sigma_u;
} pair_cand;
_Static_assert(sizeof(pair_cand) <= 64, "sort_small swaps through a 64-byte buffer");

static int cmp_cand(const void *a, const void *b)
{
  const pair_cand *x = a, *y = b;
  if (x->chi2 != y->chi2) return x->chi2 < y->chi2 ? -1 : 1;
  if (x->a != y->a) return x->a < y->a ? -1 : 1;
  return (x->b > y->b) - (x->b < y->b);
}

/* Fit u(z) = u0 + s dz through two points with errors and the slope constraint; returns chi2. */
static double fit_segment(const double p[2], const double dz[2], const double sig[2], double s_exp, double sig_s,
                          double *u0, double *s, double *sigma_u)
{
  double w0 = 1 / (sig[0] * sig[0]), w1 = 1 / (sig[1] * sig[1]), ws = 1 / (sig_s * sig_s);
  double a = w0 + w1, b = w0 * dz[0] + w1 * dz[1], c = w0 * dz[0] * dz[0] + w1 * dz[1] * dz[1] + ws;
  double y0 = w0 * p[0] + w1 * p[1], y1 = w0 * p[0] * dz[0] + w1 * p[1] * dz[1] + ws * s_exp;
  double det = a * c - b * b;
  *u0 = (c * y0 - b * y1) / det;
  *s = (a * y1 - b * y0) / det;
  *sigma_u = sqrt(c / det);
  double r0 = p[0] - *u0 - *s * dz[0], r1 = p[1] - *u0 - *s * dz[1], rs = *s - s_exp;
  return r0 * r0 * w0 + r1 * r1 * w1 + rs * rs * ws;
}

static int grow_hits(na64_straw_event *ev, size_t need, na64_err *err)
{
  if (ev->hits_cap >= need) return NA64_OK;
  size_t nc = ev->hits_cap ? ev->hits_cap : 64;
  while (nc < need) nc *= 2;
  na64_straw_hit *h = realloc(ev->hits, nc * sizeof *h);
  if (!h) return na64_err_set(err, NA64_ENOMEM, "straw reconstruction: no memory for %zu hits", nc);
  ev->hits = h;
  ev->hits_cap = nc;
  return NA64_OK;
}

static int push_segment(na64_straw_event *ev, const na64_straw_segment *s, na64_err *err)
{
  if (ev->nsegments == ev->segments_cap) {
    size_t nc = ev->segments_cap ? 2 * ev->segments_cap : 64;
    na64_straw_segment *n = realloc(ev->segments, nc * sizeof *n);
    if (!n) return na64_err_set(err, NA64_ENOMEM, "straw reconstruction: no memory for %zu segments", nc);
    ev->segments = n;
    ev->segments_cap = nc;
  }
  ev->segments[ev->nsegments++] = *s;
  return NA64_OK;
}

/* Pair the hits [first, end) of one plane (sorted by layer, wire) and make the segments. */
static int pair_plane(const na64_straw_reco *r, const straw_reco_plane *q, const na64_geom_plane *p, na64_straw_event *ev,
                      size_t first, size_t end, pair_cand **cand, size_t *cand_cap, na64_err *err)
{
  size_t n0 = 0;
  while (first + n0 < end && ev->hits[first + n0].layer == 0) n0++;
  size_t b1 = first + n0;
  size_t ncand = 0;
  const double zc = p->centre[2];
  for (size_t a = first; a < b1; ++a) {
    const na64_straw_hit *ha = &ev->hits[a];
    if (isnan(ha->r)) continue;
    for (size_t b = b1; b < end; ++b) {
      const na64_straw_hit *hb = &ev->hits[b];
      if (hb->layer != 1 || isnan(hb->r)) continue;
      double dzab = hb->pos[2] - ha->pos[2];
      /* neighbouring straws: the wires of the two layers within one pitch along the expected track */
      if (fabs(hb->u_wire - ha->u_wire - q->slope_exp * dzab) >= p->pitch) continue;
      if (ncand == *cand_cap) {
        size_t nc = *cand_cap ? 2 * *cand_cap : 64;
        pair_cand *c = realloc(*cand, nc * sizeof *c);
        if (!c) return na64_err_set(err, NA64_ENOMEM, "straw reconstruction: out of memory");
        *cand = c;
        *cand_cap = nc;
      }
      pair_cand *c = &(*cand)[ncand];
      c->a = (int32_t)a;
      c->b = (int32_t)b;
      c->chi2 = c->chi2_next = INFINITY;
      double dz[2] = {ha->pos[2] - zc, hb->pos[2] - zc}, sig[2] = {ha->sigma_r, hb->sigma_r};
      for (int sa = -1; sa <= 1; sa += 2)
        for (int sb = -1; sb <= 1; sb += 2) {
          double pp[2] = {ha->u_wire + sa * ha->r, hb->u_wire + sb * hb->r}, u0, s, su;
          double chi2 = fit_segment(pp, dz, sig, q->slope_exp, r->opt.sigma_slope, &u0, &s, &su);
          if (chi2 < c->chi2) {
            c->chi2_next = c->chi2;
            c->chi2 = chi2;
            c->sa = (int8_t)sa;
            c->sb = (int8_t)sb;
            c->u0 = u0;
            c->slope = s;
            c->sigma_u = su;
          } else if (chi2 < c->chi2_next) {
            c->chi2_next = chi2;
          }
        }
      if (c->chi2 <= r->opt.chi2_max) ncand++;
    }
  }
  if (ncand > 1) sort_small(*cand, ncand, sizeof **cand, cmp_cand);
  for (size_t k = 0; k < ncand; ++k) {
    const pair_cand *c = &(*cand)[k];
    na64_straw_hit *ha = &ev->hits[c->a], *hb = &ev->hits[c->b];
    if (ha->partner >= 0 || hb->partner >= 0) continue;
    na64_straw_segment s;
    memset(&s, 0, sizeof s);
    s.plane = ha->plane;
    s.hit[0] = c->a;
    s.hit[1] = c->b;
    s.u = c->u0;
    s.slope = c->slope;
    s.sigma_u = c->sigma_u;
    s.chi2 = c->chi2;
    s.chi2_next = c->chi2_next;
    s.flags = NA64_STRAW_SEG_PAIR | (c->chi2_next - c->chi2 < 1 ? NA64_STRAW_SEG_AMBIGUOUS : 0);
    ha->partner = c->b;
    hb->partner = c->a;
    ha->side = c->sa;
    hb->side = c->sb;
    ha->u = ha->u_wire + ha->side * ha->r;
    hb->u = hb->u_wire + hb->side * hb->r;
    ha->segment = hb->segment = (int32_t)ev->nsegments;
    NA64_CALL(push_segment(ev, &s, err));
  }
  /* the remaining hits are single-hit segments, left/right unresolved */
  for (size_t i = first; i < end; ++i) {
    na64_straw_hit *h = &ev->hits[i];
    if (h->partner >= 0) continue;
    na64_straw_segment s;
    memset(&s, 0, sizeof s);
    s.plane = h->plane;
    s.hit[0] = h->layer == 0 ? (int32_t)i : -1;
    s.hit[1] = h->layer == 0 ? -1 : (int32_t)i;
    s.u = NAN;
    s.slope = q->slope_exp;
    s.sigma_u = h->sigma_r;
    s.chi2 = 0;
    s.chi2_next = NAN;
    s.flags = 0;
    h->segment = (int32_t)ev->nsegments;
    NA64_CALL(push_segment(ev, &s, err));
  }
  return NA64_OK;
}

int na64_straw_reco_event(const na64_straw_reco *r, const na64_straw_digit *d, size_t n, na64_straw_event *ev,
                          na64_err *err)
{
  if (!r || (!d && n) || !ev) return na64_err_set(err, NA64_EINVAL, "na64_straw_reco_event: NULL argument");
  ev->nhits = ev->nsegments = 0;
  const na64_geom *g = r->g;
  /* keys of the usable digits */
  if (ev->scratch_cap < n * sizeof(sort_key)) {
    size_t nc = n * sizeof(sort_key) + 1024;
    void *s = realloc(ev->scratch, nc);
    if (!s) return na64_err_set(err, NA64_ENOMEM, "straw reconstruction: out of memory for %zu digits", n);
    ev->scratch = s;
    ev->scratch_cap = nc;
  }
  sort_key *keys = ev->scratch;
  size_t nk = 0;
  for (size_t i = 0; i < n; ++i) {
    int pl = d[i].plane;
    if (pl < 0 || pl >= g->nplanes || !r->planes[pl].straw || d[i].wire < 0 || d[i].wire >= g->planes[pl].nwires ||
        !isfinite(d[i].time))
      continue;
    keys[nk].plane = pl;
    keys[nk].wire = d[i].wire;
    keys[nk].layer = g->planes[pl].wires[d[i].wire].layer;
    keys[nk].digit = (int32_t)i;
    keys[nk].time = d[i].time;
    nk++;
  }
  if (nk > 1) sort_small(keys, nk, sizeof *keys, cmp_key);
  NA64_CALL(grow_hits(ev, nk, err));
  for (size_t k = 0; k < nk; ++k) {
    if (k && keys[k].plane == keys[k - 1].plane && keys[k].wire == keys[k - 1].wire) {
      ev->hits[ev->nhits - 1].flags |= NA64_STRAW_HIT_MULTI;
      continue;
    }
    const na64_geom_plane *p = &g->planes[keys[k].plane];
    const na64_geom_wire *wi = &p->wires[keys[k].wire];
    na64_straw_hit *h = &ev->hits[ev->nhits++];
    h->time = keys[k].time;
    int f = na64_straw_reco_radius(r, keys[k].plane, h->time, &h->r, &h->sigma_r);
    h->flags = (uint8_t)(f > 0 ? f : 0);
    h->u_wire = wi->u;
    memcpy(h->pos, wi->pos, sizeof h->pos);
    h->u = NAN;
    h->plane = keys[k].plane;
    h->wire = keys[k].wire;
    h->layer = keys[k].layer;
    h->digit = keys[k].digit;
    h->partner = -1;
    h->segment = -1;
    h->side = 0;
  }
  /* pairs and segments plane by plane; the candidates in the scratch buffer (the keys are done
   * with), kept for the next event */
  pair_cand *cand = ev->scratch;
  size_t cand_cap = ev->scratch_cap / sizeof *cand;
  int st = NA64_OK;
  for (size_t b = 0; b < ev->nhits && st == NA64_OK;) {
    size_t e = b;
    while (e < ev->nhits && ev->hits[e].plane == ev->hits[b].plane) e++;
    int pl = ev->hits[b].plane;
    st = pair_plane(r, &r->planes[pl], &g->planes[pl], ev, b, e, &cand, &cand_cap, err);
    b = e;
  }
  ev->scratch = cand, ev->scratch_cap = cand_cap * sizeof *cand;
  return st;
}
