/* Straw digitisation: tracks -> crossed straws (distance of closest approach to each wire) -> drift
 * times with t0, resolution, efficiency, noise and trigger jitter -> F1 TDC words in DATE events.
 * The model is described in include/na64/sim.h and docs/straw.md §1. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "na64/sim.h"
#include "core/rng_ziggurat.h" /* zig_x: the fast path of na64_rng_gauss_word, inlined (gauss_word) */
#include "sim/fast_internal.h"  /* sim_noise_word: the SplitMix64 words of the event's stream */

_Static_assert(offsetof(na64_daq_f1_hit, channel) == offsetof(na64_daq_f1_hit, port) + 2 &&
                   offsetof(na64_daq_f1_hit, flags) == offsetof(na64_daq_f1_hit, port) + 3,
               "emit copies port, chip, channel, flags as one 32-bit word");

#define DRIFT_BINS 1024 /* radius bins of the r(t) table's segment index (drift_index) */

typedef struct straw_plane {
  int index;                /* in g->planes */
  const na64_geom_plane *p;
  na64_straw_drift drift;
  double sigma_t;           /* ns */
  double half_length;       /* of the straws along the wire, cm */
  double *t0;               /* [nwires], ns */
  double *eff;              /* [nwires] */
  uint32_t *src;            /* [nwires] DAQ source id */
  uint32_t *f1id;           /* [nwires] the F1 hit's port, chip, channel, flags 0 as they lie in na64_daq_f1_hit */
  uint32_t *thr;            /* [nwires] read out if bits 8-31 of the crossing's word are below it (eff_threshold) */
  uint8_t *has_key;
  int *order;               /* [nwires] wires sorted by u, for the candidate search */
  double *usorted;          /* [nwires + 1] their u, and +inf */
  double (*psorted)[3];     /* [nwires] their positions (the candidate loop reads them in this order) */
  double dzmax;             /* largest |z(wire) - z(plane centre)|, cm */
  double cu;                /* centre_x u_x + centre_y u_y, cm */
  /* the candidate window's start (ubucket_index): ubucket[j] = the first sorted wire with
   * u >= ubase + j / ubinv - 1e-9 cm, j = 0..nub */
  double ubase, ubinv;
  int nub;
  int *ubucket;
  /* drift_time: the parametric model as t = x (tA + tB x), x = r rinv; the table's segment of each of
   * DRIFT_BINS bins of r (dinv = DRIFT_BINS / R): dseg[j] = i when the bin lies inside segment i,
   * 0 when a point of the table falls inside it (then the walk of na64_straw_drift_time) */
  double tA, tB, rinv;
  double dinv;
  double dslope[NA64_COND_MAX_RT_POINTS]; /* (t[i] - t[i-1]) / (r[i] - r[i-1]), 0 for a flat step */
  int orient; /* planes with the same u_dir and w_dir share it (the per-track forms of digitize) */
  uint8_t dseg[DRIFT_BINS + 1];
} straw_plane;

struct na64_straw_digitizer {
  const na64_geom *g;
  na64_straw_digi_options opt;
  int nplanes;
  straw_plane *planes;
  int norient; /* distinct (u_dir, w_dir) among the planes: straw_plane.orient in 0..norient-1 */
  int *map; /* [g->nplanes]: index in planes, or -1 */
  uint32_t *keyed; /* read-out channels: straw plane index << 16 | wire */
  size_t nkeyed;
  double noise_mean, noise_expm; /* Poisson mean of the noise hits per event and exp(-mean) */
  int one_source; /* every read-out channel on one DAQ source id (na64_straw_digi_write) */
  na64_daq_equipment_header eh1; /* then the F1 equipment header of that source */
};

void na64_straw_digi_options_default(na64_straw_digi_options *o)
{
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->sigma_t = 0;
  o->efficiency = 0.97;
  o->noise_per_channel = 0.002;
  o->window_lo = -100;
  o->window_hi = 300;
  o->trigger_jitter = 0.3;
  o->bin_ns = NA64_DAQ_F1_DEFAULT_BIN_NS;
  o->prop_velocity = 0;
  o->rt_from_conditions = 0;
}

void na64_straw_digi_event_init(na64_straw_digi_event *ev)
{
  if (ev) memset(ev, 0, sizeof *ev);
}

void na64_straw_digi_event_release(na64_straw_digi_event *ev)
{
  if (!ev) return;
  free(ev->hits);
  free(ev->truth);
  memset(ev, 0, sizeof *ev);
}

double na64_straw_line_distance(const double p[3], const double a[3], const double q[3], const double b[3],
                                double *s_track, double *s_line)
{
  /* Closest points p + s a and q + t b: minimise |w0 + s a - t b|^2 with w0 = p - q, i.e. the 2x2
   * normal equations (a.a) s - (a.b) t = -a.w0, (a.b) s - (b.b) t = -b.w0. */
  double w0[3] = {p[0] - q[0], p[1] - q[1], p[2] - q[2]};
  double aa = a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
  double bb = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
  double ab = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  double aw = a[0] * w0[0] + a[1] * w0[1] + a[2] * w0[2];
  double bw = b[0] * w0[0] + b[1] * w0[1] + b[2] * w0[2];
  double den = aa * bb - ab * ab, s, t;
  if (!(aa > 0) || !(bb > 0)) return NAN;
  if (den <= 1e-14 * aa * bb) { /* parallel lines */
    s = 0;
    t = bw / bb;
  } else {
    s = (ab * bw - bb * aw) / den;
    t = (aa * bw - ab * aw) / den;
  }
  if (s_track) *s_track = s;
  if (s_line) *s_line = t;
  double d[3];
  for (int i = 0; i < 3; ++i) d[i] = w0[i] + s * a[i] - t * b[i];
  return sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
}

/* drift_time's forms of the plane's model: the parametric coefficients, and for a table its
 * segments' slopes and the segment of each of DRIFT_BINS bins of r (0 where a point of the table
 * falls inside the bin). */
static void drift_index(straw_plane *s)
{
  const na64_straw_drift *m = &s->drift;
  s->rinv = m->radius > 0 ? 1 / m->radius : 0;
  s->tA = m->t_max * m->alpha;
  s->tB = m->t_max * (1 - m->alpha);
  s->dinv = m->n >= 2 && m->radius > 0 ? DRIFT_BINS / m->radius : 0;
  memset(s->dseg, 0, sizeof s->dseg);
  if (!(s->dinv > 0)) return;
  s->dslope[0] = 0;
  for (int i = 1; i < m->n; ++i) {
    double dr = m->r[i] - m->r[i - 1];
    s->dslope[i] = dr > 0 ? (m->t[i] - m->t[i - 1]) / dr : 0;
  }
  for (int j = 0; j < DRIFT_BINS; ++j) {
    double lo = j / s->dinv, hi = (j + 1) / s->dinv;
    int i = 1; /* the first segment whose end lies above the bin's start */
    while (i < m->n - 1 && !(m->r[i] > lo)) ++i;
    /* every r in (lo, hi] then has segment i in na64_straw_drift_time (the first i with r <= r[i]) */
    if (m->r[i - 1] <= lo && hi <= m->r[i]) s->dseg[j] = (uint8_t)i;
  }
}

/* na64_straw_drift_time of the plane's model for 0 <= r < R (the digitiser's crossed straws), the
 * same function: the table's segment from the bin index (the interpolation with the segment's
 * slope, equal to the division's to rounding, 1e-15 relative) or the walk where a table point falls
 * inside the bin; the parametric model in Horner form. Checked against na64_straw_drift_time to
 * 1e-9 ns in test_fast_forms_match_reference. */
static inline double drift_time(const straw_plane *s, double r)
{
  if (s->dinv > 0) {
    const int j = (int)(r * s->dinv);
    const unsigned i = s->dseg[j < DRIFT_BINS ? j : DRIFT_BINS];
    if (i) return s->drift.t[i - 1] + s->dslope[i] * (r - s->drift.r[i - 1]);
    return na64_straw_drift_time(&s->drift, r);
  }
  const double x = r * s->rinv;
  return x * (s->tA + s->tB * x);
}

/* A track's forms for one plane orientation (wire direction b, measured direction u), made once per
 * track and orientation (digitize). With w0 = p - q (track point minus wire point) the closest
 * approach of na64_straw_line_distance is linear in w0: the signed distance sd = w0.N along the
 * common normal N = a x b / |a x b| (the distance of two skew lines, |w0.(a x b)| / |a x b|, e.g.
 * I.N. Bronshtein et al., Handbook of Mathematics, 5th ed., Springer 2007, ch. 3.5), and the
 * parameter of the wire's closest point t = w0.T, T = (aa b - ab a) / den, den = aa bb - ab^2 (the 2x2
 * normal equations of na64_straw_line_distance). Parallel lines (fast = 0): na64_straw_line_distance
 * wire by wire. The candidate window: theta_u the track angle to z in the (u, z) plane, the DCA to a
 * wire is at least |u_track(z_wire) - u_wire| cos(theta_u). Cached for the first ORIENT_CACHE
 * orientations. */
#define ORIENT_CACHE 8
typedef struct tf {
  double N[3], T[3];
  double Nu, bu;    /* N.u, b.u: the closest point in u (cross_plane) */
  double inv_cos_u; /* 1 / cos(theta_u) */
  double slope_u;   /* |du/dz| of the track */
  double pu, tu;    /* p_x u_x + p_y u_y, (a_x u_x + a_y u_y) / a_z: the track's u at z (candidates) */
  int fast, filter, done;
} tf;

static void track_forms(const double a[3], const double P[3], const na64_geom_plane *p, tf *f)
{
  const double *b = p->w_dir, *u = p->u_dir;
  const double Du = a[0] * u[0] + a[1] * u[1] + a[2] * u[2];
  const double cos_u = fabs(a[2]) / sqrt(Du * Du + a[2] * a[2]);
  f->filter = fabs(a[2]) > 1e-9 && cos_u > 1e-6;
  f->inv_cos_u = f->filter ? 1 / cos_u : 0;
  f->slope_u = f->filter ? fabs(Du / a[2]) : 0;
  f->pu = P[0] * u[0] + P[1] * u[1];
  f->tu = f->filter ? (a[0] * u[0] + a[1] * u[1]) / a[2] : 0;
  const double aa = a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
  const double bb = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
  const double ab = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const double den = aa * bb - ab * ab;
  f->fast = aa > 0 && bb > 0 && den > 1e-14 * aa * bb;
  f->done = 1;
  if (!f->fast) return;
  const double n[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
  const double nn = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  for (int i = 0; i < 3; ++i) {
    f->N[i] = n[i] / nn;
    f->T[i] = (aa * b[i] - ab * a[i]) / den;
  }
  f->Nu = f->N[0] * u[0] + f->N[1] * u[1] + f->N[2] * u[2];
  f->bu = b[0] * u[0] + b[1] * u[1] + b[2] * u[2];
}


/* The candidate window's bucket table of a plane (ubucket_start): nub buckets over the wires' u range,
 * each with the first sorted wire at or above its lower edge less 1e-9 cm (more than the rounding of
 * the edge and of the bucket's index: every wire before it lies below any u of the bucket). */
static void ubucket_index(straw_plane *s)
{
  const int n = s->p->nwires;
  const double span = s->usorted[n - 1] - s->usorted[0];
  s->ubase = s->usorted[0];
  s->ubinv = span > 0 && isfinite(span) ? s->nub / span : 0;
  int k = 0;
  for (int j = 0; j <= s->nub; ++j) {
    const double edge = s->ubinv > 0 ? s->ubase + j / s->ubinv : s->ubase;
    while (k < n && s->usorted[k] < edge - 1e-9) ++k;
    s->ubucket[j] = k;
  }
}

/* A plane's wires sorted by u (the candidate window: order, usorted with its sentinel, psorted,
 * dzmax, the bucket table, centre.u) and its orientation index among the digitiser's planes. */
static void plane_order(na64_straw_digitizer *d, straw_plane *s)
{
  const na64_geom_plane *p = s->p;
  /* wires by u (insertion sort: a few hundred, nearly sorted already) */
  for (int w = 0; w < p->nwires; ++w) {
    int k = w;
    while (k > 0 && p->wires[s->order[k - 1]].u > p->wires[w].u) {
      s->order[k] = s->order[k - 1];
      k--;
    }
    s->order[k] = w;
    double dz = fabs(p->wires[w].pos[2] - p->centre[2]);
    if (dz > s->dzmax) s->dzmax = dz;
  }
  for (int w = 0; w < p->nwires; ++w) {
    s->usorted[w] = p->wires[s->order[w]].u;
    memcpy(s->psorted[w], p->wires[s->order[w]].pos, sizeof s->psorted[w]);
  }
  s->usorted[p->nwires] = INFINITY;
  ubucket_index(s);
  s->cu = p->centre[0] * p->u_dir[0] + p->centre[1] * p->u_dir[1];
  s->orient = -1;
  for (int k = 0; k < d->nplanes - 1 && s->orient < 0; ++k)
    if (!memcmp(d->planes[k].p->u_dir, p->u_dir, sizeof p->u_dir) && !memcmp(d->planes[k].p->w_dir, p->w_dir, sizeof p->w_dir))
      s->orient = d->planes[k].orient;
  if (s->orient < 0) s->orient = d->norient++; /* a new orientation */
}

void na64_straw_digitizer_free(na64_straw_digitizer *d)
{
  if (!d) return;
  for (int i = 0; i < d->nplanes; ++i) {
    straw_plane *s = &d->planes[i];
    free(s->t0);
    free(s->eff);
    free(s->src);
    free(s->f1id);
    free(s->thr);
    free(s->has_key);
    free(s->order);
    free(s->usorted);
    free(s->psorted);
    free(s->ubucket);
  }
  free(d->planes);
  free(d->map);
  free(d->keyed);
  free(d);
}

/* The efficiency's test on the 24-bit integer x of a crossing's word: read out if (x + 0.5) 2^-24 < eff,
 * i.e. x < eff 2^24 - 0.5, i.e. x < ceil(eff 2^24 - 0.5) (exact: eff 2^24 - 0.5 is a double without
 * rounding); 2^24 for eff = 1 (always), 0 for eff = 0 (never). */
static uint32_t eff_threshold(double eff) { return (uint32_t)ceil(eff * 0x1.0p24 - 0.5); }

static int check_options(const na64_straw_digi_options *o, na64_err *err)
{
  if (!isfinite(o->sigma_t))
    return na64_err_set(err, NA64_EINVAL, "straw digitisation: sigma_t = %g ns is not finite", o->sigma_t);
  if (!(o->efficiency >= 0 && o->efficiency <= 1))
    return na64_err_set(err, NA64_EINVAL, "straw digitisation: efficiency = %g is outside [0, 1]", o->efficiency);
  if (!(o->noise_per_channel >= 0) || o->noise_per_channel > 100)
    return na64_err_set(err, NA64_EINVAL, "straw digitisation: noise_per_channel = %g is outside [0, 100]",
                        o->noise_per_channel);
  if (!isfinite(o->window_lo) || !isfinite(o->window_hi) || !(o->window_hi > o->window_lo))
    return na64_err_set(err, NA64_EINVAL, "straw digitisation: readout window [%g, %g] ns is empty or not finite",
                        o->window_lo, o->window_hi);
  if (!(o->bin_ns > 0) || o->bin_ns >= 4000)
    return na64_err_set(err, NA64_EINVAL, "straw digitisation: TDC bin %g ns is outside (0, 4000)", o->bin_ns);
  /* the F1 time difference is taken modulo 2^16 bins into [-32768, 32767] (docs/raw-format.md §5.1) */
  if (fabs(o->window_lo) / o->bin_ns >= 32767 || fabs(o->window_hi) / o->bin_ns >= 32767)
    return na64_err_set(err, NA64_ERANGE,
                        "straw digitisation: readout window [%g, %g] ns exceeds the F1 range of +-32767 bins of %g ns",
                        o->window_lo, o->window_hi, o->bin_ns);
  if (!(o->trigger_jitter >= 0) || !isfinite(o->trigger_jitter))
    return na64_err_set(err, NA64_EINVAL, "straw digitisation: trigger jitter %g ns is negative", o->trigger_jitter);
  if (!(o->prop_velocity >= 0) || !isfinite(o->prop_velocity))
    return na64_err_set(err, NA64_EINVAL, "straw digitisation: propagation velocity %g cm/ns is negative",
                        o->prop_velocity);
  return NA64_OK;
}

/* The read-out channels (the noise's), the noise's Poisson mean, and whether they share one DAQ source
 * (its F1 equipment header made here for na64_straw_digi_write). */
static int keyed_channels(na64_straw_digitizer *d, const na64_straw_digi_options *o)
{
  size_t nk = 0;
  for (int ip = 0; ip < d->nplanes; ++ip)
    for (int w = 0; w < d->planes[ip].p->nwires; ++w) nk += d->planes[ip].has_key[w];
  d->keyed = malloc((nk ? nk : 1) * sizeof *d->keyed);
  if (!d->keyed) return NA64_ENOMEM;
  for (int ip = 0; ip < d->nplanes; ++ip)
    for (int w = 0; w < d->planes[ip].p->nwires; ++w)
      if (d->planes[ip].has_key[w]) d->keyed[d->nkeyed++] = (uint32_t)ip << 16 | (uint32_t)w;
  d->noise_mean = o->noise_per_channel * (double)d->nkeyed;
  d->noise_expm = exp(-d->noise_mean);
  d->one_source = 1;
  for (size_t k = 1; k < d->nkeyed; ++k) {
    const straw_plane *a = &d->planes[d->keyed[0] >> 16], *b = &d->planes[d->keyed[k] >> 16];
    d->one_source = d->one_source && a->src[d->keyed[0] & 0xFFFFu] == b->src[d->keyed[k] & 0xFFFFu];
  }
  if (d->nkeyed) d->eh1 = na64_daq_f1_equipment(d->planes[d->keyed[0] >> 16].src[d->keyed[0] & 0xFFFFu], o->bin_ns);
  return NA64_OK;
}

/* The plane's drift-time resolution: the option's, else from the database's sigma_r, the radius
 * resolution averaged over a uniform illumination in r (docs/straw.md §3): sigma_t = sigma_r / <dr/dt>_r
 * with <dr/dt>_r = sum (dr_k^2 / dt_k) / R; else 2 ns (6 mm tubes) or 1.2 ns (2 mm). */
static double plane_sigma_t(const straw_plane *s, const na64_geom_plane *p, const na64_straw_digi_options *o)
{
  if (o->sigma_t > 0) return o->sigma_t;
  if (!(o->rt_from_conditions && p->rt_n >= 2)) return p->diameter >= 0.4 ? 2.0 : 1.2;
  double vbar = 0;
  for (int k = 1; k < s->drift.n; ++k) {
    double dr = s->drift.r[k] - s->drift.r[k - 1];
    vbar += dr * dr / (s->drift.t[k] - s->drift.t[k - 1]);
  }
  vbar /= s->drift.radius;
  return p->sigma_r > 0 ? p->sigma_r / vbar : 2.0;
}

int na64_straw_digitizer_new(const na64_geom *g, const na64_straw_digi_options *opt, na64_straw_digitizer **out,
                             na64_err *err)
{
  if (!g || !out) return na64_err_set(err, NA64_EINVAL, "na64_straw_digitizer_new: NULL argument");
  *out = NULL;
  na64_straw_digi_options o;
  if (opt) o = *opt;
  else na64_straw_digi_options_default(&o);
  NA64_CALL(check_options(&o, err));
  na64_straw_digitizer *d = calloc(1, sizeof *d);
  if (!d) return na64_err_set(err, NA64_ENOMEM, "straw digitisation: out of memory");
  d->g = g;
  d->opt = o;
  d->map = malloc((g->nplanes ? (size_t)g->nplanes : 1) * sizeof *d->map);
  d->planes = calloc(g->nplanes ? (size_t)g->nplanes : 1, sizeof *d->planes);
  if (!d->map || !d->planes) {
    na64_straw_digitizer_free(d);
    return na64_err_set(err, NA64_ENOMEM, "straw digitisation: out of memory");
  }
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *p = &g->planes[i];
    d->map[i] = -1;
    if (p->kind != NA64_DET_STRAW || p->nwires <= 0) continue;
    if (p->nwires > 65536) { /* keyed_channels packs (plane, wire) as plane << 16 | wire */
      na64_straw_digitizer_free(d);
      return na64_err_set(err, NA64_ERANGE, "straw digitisation: plane %s has %d wires (at most 65536)", p->name,
                          p->nwires);
    }
    straw_plane *s = &d->planes[d->nplanes];
    s->index = i;
    s->p = p;
    s->half_length = p->size_v / 2;
    int st;
    na64_err e2;
    if (o.rt_from_conditions && p->rt_n >= 2) st = na64_straw_drift_from_table(p->rt_t, p->rt_r, p->rt_n, &s->drift, &e2);
    else st = na64_straw_drift_default(p->diameter, &s->drift, &e2);
    if (st != NA64_OK) {
      na64_straw_digitizer_free(d);
      if (err) *err = e2;
      na64_err_prefix(err, "straw plane %s", p->name);
      return st;
    }
    s->sigma_t = plane_sigma_t(s, p, &o);
    drift_index(s);
    size_t n = (size_t)p->nwires;
    s->t0 = malloc(n * sizeof *s->t0);
    s->eff = malloc(n * sizeof *s->eff);
    s->src = malloc(n * sizeof *s->src);
    s->f1id = malloc(n * sizeof *s->f1id);
    s->thr = malloc(n * sizeof *s->thr);
    s->has_key = malloc(n);
    s->order = malloc(n * sizeof *s->order);
    s->usorted = malloc((n + 1) * sizeof *s->usorted); /* + the sentinel +inf (candidates) */
    s->psorted = malloc(n * sizeof *s->psorted);
    s->nub = 2 * p->nwires; /* buckets of about half the wire spacing */
    s->ubucket = malloc(((size_t)s->nub + 1) * sizeof *s->ubucket);
    d->nplanes++;
    if (!s->t0 || !s->eff || !s->src || !s->f1id || !s->thr || !s->has_key || !s->order || !s->usorted ||
        !s->psorted || !s->ubucket) {
      na64_straw_digitizer_free(d);
      return na64_err_set(err, NA64_ENOMEM, "straw digitisation: out of memory");
    }
    for (int w = 0; w < p->nwires; ++w) {
      s->t0[w] = p->t0 ? p->t0[w] : 0;
      s->eff[w] = o.efficiency;
      s->has_key[w] = 0;
      s->thr[w] = 0;
      s->f1id[w] = 0;
      if (!p->daq_key || p->daq_key[w] == NA64_GEOM_NO_KEY) continue;
      uint32_t src, port, chip, chan;
      na64_geom_key_unpack(p->daq_key[w], &src, &port, &chip, &chan);
      if (port > 15 || chip > 7 || chan > 7) {
        na64_straw_digitizer_free(d);
        return na64_err_set(err, NA64_EFORMAT,
                            "straw plane %s wire %d: DAQ channel source %u port %u chip %u channel %u does not fit the "
                            "F1 addressing (port <= 15, chip <= 7, channel <= 7)",
                            p->name, w, src, port, chip, chan);
      }
      s->src[w] = src;
      const na64_daq_f1_hit id = {.port = (uint8_t)port, .chip = (uint8_t)chip, .channel = (uint8_t)chan, .flags = 0};
      memcpy(&s->f1id[w], &id.port, sizeof s->f1id[w]);
      s->has_key[w] = 1;
      s->thr[w] = eff_threshold(o.efficiency);
    }
    plane_order(d, s);
    d->map[i] = d->nplanes - 1;
  }
  if (keyed_channels(d, &o) != NA64_OK) {
    na64_straw_digitizer_free(d);
    return na64_err_set(err, NA64_ENOMEM, "straw digitisation: out of memory");
  }
  *out = d;
  return NA64_OK;
}

static straw_plane *find_plane(const na64_straw_digitizer *d, int plane, na64_err *err)
{
  if (!d || plane < 0 || plane >= d->g->nplanes || d->map[plane] < 0) {
    na64_err_set(err, NA64_ERANGE, "straw digitisation: plane index %d is not a straw plane of the geometry", plane);
    return NULL;
  }
  return &d->planes[d->map[plane]];
}

int na64_straw_digitizer_set_t0(na64_straw_digitizer *d, int plane, int wire, double t0_ns, na64_err *err)
{
  straw_plane *s = find_plane(d, plane, err);
  if (!s) return NA64_ERANGE;
  if (!isfinite(t0_ns)) return na64_err_set(err, NA64_EINVAL, "straw digitisation: t0 = %g ns is not finite", t0_ns);
  if (wire < -1 || wire >= s->p->nwires)
    return na64_err_set(err, NA64_ERANGE, "straw digitisation: wire %d outside -1..%d of %s", wire, s->p->nwires - 1,
                        s->p->name);
  for (int w = 0; w < s->p->nwires; ++w)
    if (wire < 0 || w == wire) s->t0[w] = t0_ns;
  return NA64_OK;
}

int na64_straw_digitizer_set_efficiency(na64_straw_digitizer *d, int plane, int wire, double eff, na64_err *err)
{
  straw_plane *s = find_plane(d, plane, err);
  if (!s) return NA64_ERANGE;
  if (!(eff >= 0 && eff <= 1)) return na64_err_set(err, NA64_EINVAL, "straw digitisation: efficiency %g outside [0, 1]", eff);
  if (wire < -1 || wire >= s->p->nwires)
    return na64_err_set(err, NA64_ERANGE, "straw digitisation: wire %d outside -1..%d of %s", wire, s->p->nwires - 1,
                        s->p->name);
  for (int w = 0; w < s->p->nwires; ++w)
    if (wire < 0 || w == wire) {
      s->eff[w] = eff;
      s->thr[w] = s->has_key[w] ? eff_threshold(eff) : 0;
    }
  return NA64_OK;
}

int na64_straw_digitizer_set_drift(na64_straw_digitizer *d, int plane, const na64_straw_drift *m, double sigma_t,
                                   na64_err *err)
{
  straw_plane *s = find_plane(d, plane, err);
  if (!s) return NA64_ERANGE;
  if (!m) return na64_err_set(err, NA64_EINVAL, "straw digitisation: NULL drift model");
  if (!(sigma_t > 0) || !isfinite(sigma_t))
    return na64_err_set(err, NA64_EINVAL, "straw digitisation: sigma_t = %g ns is not positive", sigma_t);
  if (!(m->t_max > 0) || !isfinite(m->t_max) || !(m->alpha > 0 && m->alpha <= 1) ||
      fabs(m->radius - s->p->diameter / 2) > 1e-6)
    return na64_err_set(err, NA64_EINVAL,
                        "straw digitisation: drift model (radius %g cm, t_max %g ns, alpha %g) does not fit plane %s "
                        "(radius %g cm)",
                        m->radius, m->t_max, m->alpha, s->p->name, s->p->diameter / 2);
  s->drift = *m;
  drift_index(s);
  s->sigma_t = sigma_t;
  return NA64_OK;
}

const na64_straw_drift *na64_straw_digitizer_drift(const na64_straw_digitizer *d, int plane)
{
  straw_plane *s = find_plane(d, plane, NULL);
  return s ? &s->drift : NULL;
}

double na64_straw_digitizer_sigma_t(const na64_straw_digitizer *d, int plane)
{
  straw_plane *s = find_plane(d, plane, NULL);
  return s ? s->sigma_t : NAN;
}

double na64_straw_digitizer_t0(const na64_straw_digitizer *d, int plane, int wire)
{
  straw_plane *s = find_plane(d, plane, NULL);
  return s && wire >= 0 && wire < s->p->nwires ? s->t0[wire] : NAN;
}

const na64_straw_digi_options *na64_straw_digitizer_options(const na64_straw_digitizer *d)
{
  return d ? &d->opt : NULL;
}

/* Room for `more` hits and truth records. */
static int grow(na64_straw_digi_event *o, size_t more, na64_err *err)
{
  if (o->nhits + more > o->hits_cap) {
    size_t nc = o->hits_cap ? 2 * o->hits_cap : 256;
    while (nc < o->nhits + more) nc *= 2;
    na64_daq_f1_hit *h = realloc(o->hits, nc * sizeof *h);
    if (!h) return na64_err_set(err, NA64_ENOMEM, "straw digitisation: no memory for %zu hits", nc);
    o->hits = h;
    o->hits_cap = nc;
  }
  if (o->ntruth + more > o->truth_cap) {
    size_t nc = o->truth_cap ? 2 * o->truth_cap : 256;
    while (nc < o->ntruth + more) nc *= 2;
    na64_straw_truth *t = realloc(o->truth, nc * sizeof *t);
    if (!t) return na64_err_set(err, NA64_ENOMEM, "straw digitisation: no memory for %zu truth records", nc);
    o->truth = t;
    o->truth_cap = nc;
  }
  return NA64_OK;
}

/* The event's constants and output cursors of digitize, held in locals of the hot loop (the
 * compiler keeps them in registers: no reloads through the output's pointers). */
typedef struct ev_ctx {
  sim_word_stream ws;
  double phase;             /* F1 counter phase, bins, (0, 1) */
  double lo, hi, bin;       /* readout window and TDC bin, ns */
  double shift;             /* t_track - jitter, ns */
  double inv_v;             /* 1 / prop_velocity, 0 when off */
  uint16_t trig;            /* F1 trigger time */
  int32_t track;
  na64_straw_truth *truth; /* the next record */
  na64_daq_f1_hit *hits;    /* the next hit */
  size_t ntruth, nhits;     /* their indices */
  size_t truth_cap, hits_cap;
} ev_ctx;

/* N(0, 1) of a stream word by the ziggurat of na64_rng_gauss_word, its fast path (98.8% of the
 * words) inlined from the same tables: the same value for every word, the rare wedge and tail
 * draws by na64_rng_gauss_word itself (from the caller's Philox stream, as before). */
static inline double gauss_word(na64_rng *rng, uint64_t w)
{
  const unsigned i = (unsigned)(w & 0xFFu);
  const double x = ((double)(w >> 33) + 0.5) * 0x1.0p-31 * zig_x[i];
  if (__builtin_expect(x < zig_x[i + 1], 1)) return (w >> 32) & 1u ? -x : x;
  return na64_rng_gauss_word(rng, w);
}

/* Quantise a time relative to the trigger and append the F1 hit if it is inside the readout window.
 * The counter phase (in bins, [0, 1)) is the fraction of a bin by which the trigger arrived after
 * the counter's last tick: hit units = trigger units + floor(phase + t / bin). */
static inline __attribute__((always_inline)) int32_t emit(const straw_plane *s, int w, double t, ev_ctx *c)
{
  if (!(t >= c->lo && t < c->hi)) return -1;
  const double x = c->phase + t / c->bin; /* |x| < 32767 + 1 (check_options) */
  long rel = (long)x;
  rel -= x < (double)rel; /* floor */
  na64_daq_f1_hit *h = c->hits++;
  h->time_ns = (double)rel * c->bin;
  h->source_id = s->src[w];
  h->rel_units = (int32_t)rel;
  h->time_units = (uint16_t)((uint32_t)c->trig + (uint32_t)rel); /* modulo 2^16 */
  h->trigger_units = c->trig;
  memcpy(&h->port, &s->f1id[w], sizeof s->f1id[w]); /* port, chip, channel, flags */
  return (int32_t)c->nhits++;
}

/* A crossed straw (dca < R within the straw's length): its truth record and, read out, its F1 hit.
 * One stream word per crossing: the time resolution's N(0, 1) by the ziggurat from its bits 0-7 and
 * 32-63 (na64_rng_gauss_word), the efficiency's uniform from bits 8-31 (24 bits, step 6e-8). */
static inline __attribute__((always_inline)) void crossing(const straw_plane *s, int w, double dca, double u_track,
                                                          double sw, ev_ctx *c, na64_rng *rng)
{
  const double td = drift_time(s, dca);
  const uint64_t word = sim_stream_word(&c->ws);
  double time = s->t0[w] + td + s->sigma_t * gauss_word(rng, word) + c->shift;
  if (c->inv_v > 0) time += (s->half_length - sw) * c->inv_v;
  int32_t hit = -1;
  if (((word >> 8) & 0xFFFFFFu) < s->thr[w]) hit = emit(s, w, time, c);
  na64_straw_truth *t = c->truth++;
  c->ntruth++;
  t->plane = s->index;
  t->wire = w;
  t->track = c->track;
  t->hit = hit;
  t->doca = dca;
  t->u_track = u_track;
  t->drift_time = td;
  t->time = time;
}

/* The start of the candidate window: a sorted wire index at or before the first wire with u >= v
 * (the caller walks on from it), from the plane's bucket table. */
static inline int ubucket_start(const straw_plane *s, double v)
{
  const double x = (v - s->ubase) * s->ubinv;
  if (!(x > 0)) return 0;
  return s->ubucket[x < s->nub ? (int)x : s->nub];
}

/* The wires of plane s whose DCA to the track may be below R: sorted indices [*k0, *k1). */
static inline void candidates(const straw_plane *s, const double P[3], const tf *f, int *k0, int *k1)
{
  const na64_geom_plane *p = s->p;
  const int n = p->nwires;
  if (!f->filter) {
    *k0 = 0;
    *k1 = n;
    return;
  }
  /* the track's u at the plane centre; wires within R / cos_u + |du/dz| dzmax of it */
  const double uc = f->pu - s->cu + (p->centre[2] - P[2]) * f->tu;
  const double reach = s->drift.radius * f->inv_cos_u + f->slope_u * s->dzmax + 1e-6;
  const double ulo = uc - reach, uhi = uc + reach < DBL_MAX ? uc + reach : DBL_MAX; /* below the sentinel */
  int lo = ubucket_start(s, ulo);
  while (s->usorted[lo] < ulo) ++lo; /* the sentinel usorted[n] = +inf ends both walks */
  int hi = lo;
  while (s->usorted[hi] <= uhi) ++hi;
  *k0 = lo;
  *k1 = hi;
}

/* Room for `more` records and hits after c's cursors (the output grown, the cursors moved). */
static int room(ev_ctx *c, na64_straw_digi_event *out, size_t more, na64_err *err)
{
  out->ntruth = c->ntruth;
  out->nhits = c->nhits;
  NA64_CALL(grow(out, more, err));
  c->truth = out->truth + c->ntruth;
  c->truth_cap = out->truth_cap;
  c->hits = out->hits + c->nhits;
  c->hits_cap = out->hits_cap;
  return NA64_OK;
}

/* One track through one plane: the candidates' exact closest approach and the crossings. The
 * output's room for every candidate is made first (c's cursors then need no checks). */
static inline __attribute__((always_inline)) int cross_plane(const straw_plane *s, const double P[3], const double D[3], const tf *f, ev_ctx *c,
                       na64_rng *rng, na64_straw_digi_event *out, na64_err *err)
{
  const na64_geom_plane *p = s->p;
  int k0, k1;
  candidates(s, P, f, &k0, &k1);
  if (k1 <= k0) return NA64_OK;
  if (c->nhits + (size_t)(k1 - k0) > c->hits_cap || c->ntruth + (size_t)(k1 - k0) > c->truth_cap)
    NA64_CALL(room(c, out, (size_t)(k1 - k0), err));
  const double R = s->drift.radius, L = s->half_length;
  if (f->fast) {
    const double N0 = f->N[0], N1 = f->N[1], N2 = f->N[2], T0 = f->T[0], T1 = f->T[1], T2 = f->T[2];
    for (int kk = k0; kk < k1; ++kk) {
      const double *q = s->psorted[kk];
      const double w0[3] = {P[0] - q[0], P[1] - q[1], P[2] - q[2]};
      const double sd = w0[0] * N0 + w0[1] * N1 + w0[2] * N2;
      const double dca = fabs(sd);
      if (!(dca < R)) continue;
      const double sw = w0[0] * T0 + w0[1] * T1 + w0[2] * T2;
      if (fabs(sw) > L) continue;
      /* the track's closest point from the wire's point is sw b + sd N (the wire's closest point plus
       * the common perpendicular), in u: */
      crossing(s, s->order[kk], dca, sw * f->bu + sd * f->Nu, sw, c, rng);
    }
    return NA64_OK;
  }
  for (int kk = k0; kk < k1; ++kk) { /* parallel to the wires: the reference function */
    const int w = s->order[kk];
    const na64_geom_wire *wi = &p->wires[w];
    double st, sw, cp[3];
    const double dca = na64_straw_line_distance(P, D, wi->pos, p->w_dir, &st, &sw);
    if (!(dca < R) || fabs(sw) > L) continue;
    for (int a = 0; a < 3; ++a) cp[a] = P[a] + st * D[a] - wi->pos[a];
    crossing(s, w, dca, cp[0] * p->u_dir[0] + cp[1] * p->u_dir[1] + cp[2] * p->u_dir[2], sw, c, rng);
  }
  return NA64_OK;
}

/* Poisson number of noise hits (mean d->noise_mean): Knuth's multiplication method (TAOCP vol. 2,
 * 3.4.1 F, exact) on the event's words below a mean of 30, na64_rng_poisson above. */
static unsigned long noise_count(const na64_straw_digitizer *d, sim_word_stream *ws, na64_rng *rng)
{
  if (!(d->noise_mean < 30)) return na64_rng_poisson(rng, d->noise_mean);
  return sim_stream_poisson(ws, d->noise_expm);
}

/* Noise: independent Poisson numbers of hits per channel, uniform in the readout window. Drawn as
 * one Poisson total over the read-out channels, each hit on a uniformly chosen channel: the same
 * distribution (a Poisson total split multinomially gives independent Poisson counts) at the cost
 * of the hits rather than of the channels. */
static int add_noise(const na64_straw_digitizer *d, ev_ctx *c, na64_rng *rng, na64_straw_digi_event *out, na64_err *err)
{
  const double span = d->opt.window_hi - d->opt.window_lo;
  const unsigned long k = noise_count(d, &c->ws, rng);
  for (unsigned long j = 0; j < k; ++j) {
    const uint32_t ch = d->keyed[sim_stream_word(&c->ws) % d->nkeyed];
    const straw_plane *s = &d->planes[ch >> 16];
    const int w = (int)(ch & 0xFFFFu);
    if (c->nhits == c->hits_cap || c->ntruth == c->truth_cap) NA64_CALL(room(c, out, 1, err));
    na64_straw_truth *t = c->truth++;
    c->ntruth++;
    t->plane = s->index;
    t->wire = w;
    t->track = -1;
    t->doca = NAN;
    t->u_track = NAN;
    t->drift_time = NAN;
    t->time = d->opt.window_lo + span * sim_word_uniform(sim_stream_word(&c->ws));
    t->hit = emit(s, w, t->time, c);
  }
  return NA64_OK;
}

/* A track's unit direction, or NA64_EINVAL for a non-finite track or a zero direction. */
static int track_direction(const na64_straw_track *tr, size_t k, double D[3], na64_err *err)
{
  const double dn = sqrt(tr->dir[0] * tr->dir[0] + tr->dir[1] * tr->dir[1] + tr->dir[2] * tr->dir[2]);
  int finite = isfinite(tr->time) && isfinite(dn);
  for (int a = 0; a < 3; ++a) finite = finite && isfinite(tr->point[a]);
  if (!finite || !(dn > 0))
    return na64_err_set(err, NA64_EINVAL,
                        "straw digitisation: track %zu has a non-finite point/time or a zero direction (%g, %g, %g)", k,
                        tr->dir[0], tr->dir[1], tr->dir[2]);
  for (int a = 0; a < 3; ++a) D[a] = tr->dir[a] / dn;
  return NA64_OK;
}

/* The tracks through the planes: a function of the event's stream words from c. */
static int cross_tracks(const na64_straw_digitizer *d, const na64_straw_track *tracks, size_t n, ev_ctx *c,
                        na64_rng *rng, na64_straw_digi_event *out, na64_err *err)
{
  const double jitter = out->jitter;
  for (size_t k = 0; k < n; ++k) {
    const na64_straw_track *tr = &tracks[k];
    double D[3];
    NA64_CALL(track_direction(tr, k, D, err));
    c->track = (int32_t)k;
    c->shift = tr->time - jitter;
    tf oc[ORIENT_CACHE], oc_tmp;
    for (int i = 0; i < ORIENT_CACHE; ++i) oc[i].done = 0;
    for (int ip = 0; ip < d->nplanes; ++ip) {
      const straw_plane *s = &d->planes[ip];
      /* the track's forms for the plane's orientation, made once per track and orientation */
      tf *f = s->orient < ORIENT_CACHE ? &oc[s->orient] : &oc_tmp;
      if (f == &oc_tmp || !f->done) track_forms(D, tr->point, s->p, f);
      NA64_CALL(cross_plane(s, tr->point, D, f, c, rng, out, err));
    }
  }
  return NA64_OK;
}

int na64_straw_digitize(const na64_straw_digitizer *d, const na64_straw_track *tracks, size_t n, na64_rng *rng,
                        na64_straw_digi_event *out, na64_err *err)
{
  if (!d || (!tracks && n) || !rng || !out) return na64_err_set(err, NA64_EINVAL, "na64_straw_digitize: NULL argument");
  out->nhits = out->ntruth = 0;
  if (!out->hits || !out->truth) NA64_CALL(grow(out, 1, err)); /* the cursors below point into arrays */
  ev_ctx c;
  memset(&c, 0, sizeof c);
  /* the event's words: a sim_word_stream (fast_internal.h: SplitMix64, G. Steele, D. Lea, C. Flood,
   * OOPSLA 2014) keyed by one draw of the caller's Philox stream, 15 instructions a word against 50
   * for a Philox word (docs/performance.md "rvsim"); a function of (seed, event) */
  c.ws.key = na64_rng_u64(rng);
  c.ws.k = UINT64_MAX; /* the first word is word 0 (k + 1 wraps), as the straws' stream has been since visstraw */
  /* the F1 trigger time (bits 0-15) and the counter phase (bits 16-63, 48 bits) from one word */
  const uint64_t w0 = sim_stream_word(&c.ws);
  out->trigger_units = (uint16_t)(w0 & 0xFFFFu);
  c.phase = ((double)(w0 >> 16) + 0.5) * 0x1.0p-48;
  out->jitter = d->opt.trigger_jitter > 0 ? d->opt.trigger_jitter * gauss_word(rng, sim_stream_word(&c.ws)) : 0;
  c.lo = d->opt.window_lo;
  c.hi = d->opt.window_hi;
  c.bin = d->opt.bin_ns;
  c.inv_v = d->opt.prop_velocity > 0 ? 1 / d->opt.prop_velocity : 0;
  c.trig = out->trigger_units;
  c.truth = out->truth;
  c.truth_cap = out->truth_cap;
  c.hits = out->hits;
  c.hits_cap = out->hits_cap;
  int st = cross_tracks(d, tracks, n, &c, rng, out, err);
  if (st == NA64_OK && d->noise_mean > 0 && d->nkeyed) st = add_noise(d, &c, rng, out, err);
  out->ntruth = c.ntruth;
  out->nhits = c.nhits;
  return st;
}

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

int na64_straw_digi_write(const na64_straw_digitizer *d, const na64_straw_digi_event *ev, uint32_t nb_in_burst,
                          na64_daq_writer *w, na64_err *err)
{
  if (!d || !ev || !w) return na64_err_set(err, NA64_EINVAL, "na64_straw_digi_write: NULL argument");
  if (!ev->nhits) return NA64_OK;
  /* every hit's source is looked at: the event may hold hits of other sources than the digitiser's
   * (merged or edited events; one compare a hit) */
  size_t same = 1;
  while (same < ev->nhits && ev->hits[same].source_id == ev->hits[0].source_id) ++same;
  if (same == ev->nhits) { /* one source (the setups' straws are all on one): the hits as they are */
    size_t nw = 0;
    uint32_t *out; /* encoded in place in the writer's event */
    NA64_CALL(na64_daq_writer_reserve_equipment(w, ev->hits[0].source_id, NA64_DAQ_F1_MAX_WORDS(ev->nhits), &out, err));
    NA64_CALL(na64_daq_f1_encode(ev->hits, ev->nhits, nb_in_burst, out, NA64_DAQ_F1_MAX_WORDS(ev->nhits), &nw, err));
    na64_daq_equipment_header eh = d->one_source && ev->hits[0].source_id == d->eh1.id
                                       ? d->eh1
                                       : na64_daq_f1_equipment(ev->hits[0].source_id, d->opt.bin_ns);
    return na64_daq_writer_commit_equipment(w, &eh, nw, err);
  }
  /* distinct source ids, ascending; the buffers on the stack for the usual few dozen hits (a beam
   * track crosses ~12 straws: three mallocs and frees were ~5% of an event's digitisation) */
  enum { SMALL = 64 };
  uint32_t srcs_s[SMALL];
  na64_daq_f1_hit sel_s[SMALL];
  const int small = ev->nhits <= SMALL;
  uint32_t *srcs = small ? srcs_s : malloc(ev->nhits * sizeof *srcs);
  na64_daq_f1_hit *sel = small ? sel_s : malloc(ev->nhits * sizeof *sel);
  int st = NA64_OK;
  if (!srcs || !sel) st = na64_err_set(err, NA64_ENOMEM, "straw digitisation: out of memory");
  size_t nsrc = 0;
  if (st == NA64_OK) {
    for (size_t i = 0; i < ev->nhits; ++i) srcs[i] = ev->hits[i].source_id;
    if (small) /* insertion sort: glibc's qsort (merge sort with its own buffer) costs more for a few */
      for (size_t i = 1; i < ev->nhits; ++i) {
        uint32_t t = srcs[i];
        size_t j = i;
        for (; j > 0 && srcs[j - 1] > t; --j) srcs[j] = srcs[j - 1];
        srcs[j] = t;
      }
    else qsort(srcs, ev->nhits, sizeof *srcs, cmp_u32);
    for (size_t i = 0; i < ev->nhits; ++i)
      if (!nsrc || srcs[nsrc - 1] != srcs[i]) srcs[nsrc++] = srcs[i];
  }
  for (size_t k = 0; k < nsrc && st == NA64_OK; ++k) {
    size_t m = 0;
    for (size_t i = 0; i < ev->nhits; ++i)
      if (ev->hits[i].source_id == srcs[k]) sel[m++] = ev->hits[i];
    size_t nw = 0;
    uint32_t *out; /* encoded in place in the writer's event */
    st = na64_daq_writer_reserve_equipment(w, srcs[k], NA64_DAQ_F1_MAX_WORDS(m), &out, err);
    if (st == NA64_OK) st = na64_daq_f1_encode(sel, m, nb_in_burst, out, NA64_DAQ_F1_MAX_WORDS(m), &nw, err);
    if (st != NA64_OK) break;
    na64_daq_equipment_header eh = na64_daq_f1_equipment(srcs[k], d->opt.bin_ns);
    st = na64_daq_writer_commit_equipment(w, &eh, nw, err);
  }
  if (!small) {
    free(srcs);
    free(sel);
  }
  return st;
}
