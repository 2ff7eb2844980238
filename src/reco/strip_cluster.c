/*
 * Strip clusters of a Micromegas/GEM plane (docs/reco.md §3; contract in na64/reco.h): runs of
 * adjacent fired strips, position = charge-weighted mean of the strip centres (the centre-of-gravity
 * estimator of strip detectors, e.g. the COMPASS Micromegas/GEM reconstruction; the charge of a
 * strip is its APV25 peak sample). Used by the tracking (track.c) and by the monitor's event display
 * (src/mon/mon_event.c).
 */
#include <math.h>
#include <stdlib.h>

#include "na64/reco.h"
#include "reco/reco_internal.h"

static int cmp_strip_hit(const void *a, const void *b)
{
  const na64_strip_hit *x = a, *y = b;
  if (x->plane != y->plane) return x->plane < y->plane ? -1 : 1;
  return x->wire < y->wire ? -1 : x->wire > y->wire;
}

/* An insertion sort, linear for the hits as the APV blocks list them (already nearly in order);
 * qsort for a long unordered list. */
void na64_strip_hits_sort(na64_strip_hit *h, size_t n)
{
  size_t moves = 0;
  for (size_t i = 1; i < n; ++i) {
    na64_strip_hit t = h[i];
    size_t j = i;
    while (j > 0 && cmp_strip_hit(&h[j - 1], &t) > 0) {
      h[j] = h[j - 1];
      --j;
      ++moves;
    }
    h[j] = t;
    if (moves > 8 * n + 64) { /* far from sorted: finish with qsort */
      qsort(h, n, sizeof *h, cmp_strip_hit);
      return;
    }
  }
}

/* The hits must be of one plane, on its strips, in wire order. */
static int check_hits(const na64_geom_plane *pl, const na64_strip_hit *h, size_t n, na64_err *err)
{
  for (size_t k = 0; k < n; ++k) {
    if (h[k].plane != h[0].plane)
      return na64_err_set(err, NA64_EINVAL, "strip clusters of %s: hit %zu is of plane %d, not %d", pl->name, k,
                          (int)h[k].plane, (int)h[0].plane);
    if (h[k].wire < 0 || h[k].wire >= pl->nwires)
      return na64_err_set(err, NA64_EINVAL, "strip clusters of %s: hit %zu on strip %d, outside 0..%d", pl->name, k,
                          (int)h[k].wire, pl->nwires - 1);
    if (k > 0 && h[k].wire < h[k - 1].wire)
      return na64_err_set(err, NA64_EINVAL, "strip clusters of %s: hit %zu (strip %d) after strip %d: not sorted",
                          pl->name, k, (int)h[k].wire, (int)h[k - 1].wire);
  }
  return NA64_OK;
}

int na64_strip_cluster_find(const na64_geom_plane *pl, const na64_strip_hit *h, size_t n, na64_strip_cluster *out,
                            size_t cap, size_t *nout, na64_err *err)
{
  if (!nout || !pl || (n && (!h || !out))) return na64_err_set(err, NA64_EINVAL, "strip clusters: NULL argument");
  *nout = 0;
  NA64_CALL(check_hits(pl, h, n, err));
  return reco_strip_clusters(pl, h, n, out, cap, nout, err);
}

int reco_strip_clusters(const na64_geom_plane *pl, const na64_strip_hit *h, size_t n, na64_strip_cluster *out, size_t cap,
                        size_t *nout, na64_err *err)
{
  *nout = 0;
  for (size_t a = 0; a < n;) {
    size_t b = a + 1;
    while (b < n && h[b].wire <= h[b - 1].wire + 1) ++b;
    if (*nout == cap)
      return na64_err_set(err, NA64_ERANGE, "strip clusters of %s: more than %zu clusters", pl->name, cap);
    double q = 0.0, qu = 0.0; /* centroid u = sum(q_i u_i) / sum(q_i), q_i >= 0 (na64/reco.h) */
    for (size_t k = a; k < b; ++k) {
      double w = h[k].q > 0.0 ? h[k].q : 0.0; /* fmax(q, 0) (NaN -> 0) without the libm call */
      q += w;
      qu += w * pl->wires[h[k].wire].u;
    }
    out[(*nout)++] = (na64_strip_cluster){q > 0.0 ? qu / q : NAN, q, h[a].wire, (int32_t)(b - a)};
    a = b;
  }
  return NA64_OK;
}
