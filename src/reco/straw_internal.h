/* Private to src/reco: the straw reconstruction object shared by the hit reconstruction and the
 * monitoring quantities. */
#ifndef NA64_RECO_STRAW_INTERNAL_H
#define NA64_RECO_STRAW_INTERNAL_H

#include <math.h>

#include "na64/reco.h"

typedef struct straw_reco_plane {
  int straw;               /* 1 for a straw plane */
  double radius;           /* cm */
  double sigma_t;          /* ns */
  double slope_exp;        /* expected du/dz */
  int rt_n;                /* 0: no r(t) */
  const double *rt_t, *rt_r; /* the geometry's table */
  double *slope;           /* [rt_n - 1] dr/dt of each segment, cm/ns */
  double umin[2], umax[2]; /* wire coverage of layers 0 and 1 (u of the outermost wires), cm */
} straw_reco_plane;

struct na64_straw_reco {
  const na64_geom *g;
  na64_straw_reco_options opt;
  straw_reco_plane *planes; /* [g->nplanes] */
};

/* Distance of closest approach of the line p + s a to the line q + t b (b a unit vector); *t_line
 * receives t. NaN for a zero a. (Standard two-line closest approach; the same geometry as
 * na64_straw_line_distance of the simulation, which reconstruction does not depend on.) */
static inline double straw_line_dca(const double p[3], const double a[3], const double q[3], const double b[3],
                                    double *t_line, double *s_track)
{
  double w0[3] = {p[0] - q[0], p[1] - q[1], p[2] - q[2]};
  double aa = a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
  double ab = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  double aw = a[0] * w0[0] + a[1] * w0[1] + a[2] * w0[2];
  double bw = b[0] * w0[0] + b[1] * w0[1] + b[2] * w0[2];
  double den = aa - ab * ab, s, t;
  if (!(aa > 0)) return NAN;
  if (den <= 1e-14 * aa) {
    s = 0;
    t = bw;
  } else {
    s = (ab * bw - aw) / den;
    t = (aa * bw - ab * aw) / den;
  }
  if (t_line) *t_line = t;
  if (s_track) *s_track = s;
  double d0 = w0[0] + s * a[0] - t * b[0], d1 = w0[1] + s * a[1] - t * b[1], d2 = w0[2] + s * a[2] - t * b[2];
  return sqrt(d0 * d0 + d1 * d1 + d2 * d2);
}

#endif
