/* Straw digitisation: tracks -> crossed straws (distance of closest approach to each wire) -> drift
 * times with t0, resolution, efficiency, noise and trigger jitter -> F1 TDC words in DATE events.
 * The model is described in include/na64/sim.h and docs/straw.md §1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/sim.h"

#define DRIFT_BINS 64 /* radius bins of the r(t) table's segment index (drift_index) */

typedef struct straw_plane {
  int index;                /* in g->planes */
  const na64_geom_plane *p;
  na64_straw_drift drift;
  double sigma_t;           /* ns */
  double half_length;       /* of the straws along the wire, cm */
  double *t0;               /* [nwires], ns */
  double *eff;              /* [nwires] */
  uint32_t *src;            /* [nwires] DAQ source id */
  uint8_t *port, *chip, *chan, *has_key;
  int *order;               /* [nwires] wires sorted by u, for the candidate search */
  double *usorted;          /* [nwires] their u */
  double dzmax;             /* largest |z(wire) - z(plane centre)|, cm */
  /* drift_time's start: dseg[j] = the first table segment i >= 1 with r[i] >= j / dinv (drift_index) */
  double dinv;
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

/* The segment index of the plane's r(t) table (drift_time): DRIFT_BINS bins of its radius. */
static void drift_index(straw_plane *s)
{
  const na64_straw_drift *m = &s->drift;
  s->dinv = m->n >= 2 && m->radius > 0 ? DRIFT_BINS / m->radius : 0;
  for (int j = 0; j <= DRIFT_BINS; ++j) {
    int i = 1;
    while (s->dinv > 0 && i < m->n - 1 && m->r[i] < j / s->dinv) ++i;
    s->dseg[j] = (uint8_t)(i < 255 ? i : 255);
  }
}

/* na64_straw_drift_time of the plane's model, the same value: the table's segment found from the
 * index instead of a walk from the first point (the first i >= 1 with r <= r[i], as there). */
static double drift_time(const straw_plane *s, double r)
{
  const na64_straw_drift *m = &s->drift;
  if (!(s->dinv > 0) || isnan(r)) return na64_straw_drift_time(m, r);
  if (r < 0) r = 0;
  if (r > m->radius) r = m->radius;
  if (r <= m->r[0]) return m->t[0];
  int j = (int)(r * s->dinv), i = s->dseg[j < DRIFT_BINS ? j : DRIFT_BINS];
  while (i > 1 && r <= m->r[i - 1]) --i;
  while (i < m->n && !(r <= m->r[i])) ++i;
  if (i >= m->n) return m->t[m->n - 1];
  double dr = m->r[i] - m->r[i - 1];
  return dr > 0 ? m->t[i - 1] + (m->t[i] - m->t[i - 1]) * (r - m->r[i - 1]) / dr : m->t[i - 1];
}

/* A track (unit direction a) and the wires of a plane (direction b): the closest-approach parameters
 * of na64_straw_line_distance are linear in w0 = p - q, s = w0.S, t = w0.T, with S = (ab b - bb a)/den
 * and T = (aa b - ab a)/den of the plane's common b; set once per track and plane (parallel: 0, the
 * caller then uses na64_straw_line_distance). */
typedef struct line_pair {
  double S[3], T[3];
} line_pair;

/* A track's forms for one plane orientation (digitize): Du, cos_u of the candidate filter, the
 * line pair; cached for the first ORIENT_CACHE orientations. */
#define ORIENT_CACHE 8
typedef struct tf {
  double Du, cos_u;
  line_pair lp;
  int fast, done;
} tf;

static int line_pair_set(const double a[3], const double b[3], line_pair *lp)
{
  double aa = a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
  double bb = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
  double ab = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  double den = aa * bb - ab * ab;
  if (!(aa > 0) || !(bb > 0) || den <= 1e-14 * aa * bb) return 0;
  for (int i = 0; i < 3; ++i) {
    lp->S[i] = (ab * b[i] - bb * a[i]) / den;
    lp->T[i] = (aa * b[i] - ab * a[i]) / den;
  }
  return 1;
}

void na64_straw_digitizer_free(na64_straw_digitizer *d)
{
  if (!d) return;
  for (int i = 0; i < d->nplanes; ++i) {
    straw_plane *s = &d->planes[i];
    free(s->t0);
    free(s->eff);
    free(s->src);
    free(s->port);
    free(s->chip);
    free(s->chan);
    free(s->has_key);
    free(s->order);
    free(s->usorted);
  }
  free(d->planes);
  free(d->map);
  free(d->keyed);
  free(d);
}

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
    if (o.rt_from_conditions && p->rt_n >= 2) {
      /* sigma_r of the database is the radius resolution averaged over a uniform illumination in r
       * (docs/straw.md §3): sigma_t = sigma_r / <dr/dt>_r with <dr/dt>_r = sum (dr_k^2 / dt_k) / R */
      double vbar = 0;
      for (int k = 1; k < s->drift.n; ++k) {
        double dr = s->drift.r[k] - s->drift.r[k - 1];
        vbar += dr * dr / (s->drift.t[k] - s->drift.t[k - 1]);
      }
      vbar /= s->drift.radius;
      s->sigma_t = o.sigma_t > 0 ? o.sigma_t : (p->sigma_r > 0 ? p->sigma_r / vbar : 2.0);
    } else {
      s->sigma_t = o.sigma_t > 0 ? o.sigma_t : (p->diameter >= 0.4 ? 2.0 : 1.2);
    }
    drift_index(s);
    size_t n = (size_t)p->nwires;
    s->t0 = malloc(n * sizeof *s->t0);
    s->eff = malloc(n * sizeof *s->eff);
    s->src = malloc(n * sizeof *s->src);
    s->port = malloc(n);
    s->chip = malloc(n);
    s->chan = malloc(n);
    s->has_key = malloc(n);
    s->order = malloc(n * sizeof *s->order);
    s->usorted = malloc(n * sizeof *s->usorted);
    d->nplanes++;
    if (!s->t0 || !s->eff || !s->src || !s->port || !s->chip || !s->chan || !s->has_key || !s->order || !s->usorted) {
      na64_straw_digitizer_free(d);
      return na64_err_set(err, NA64_ENOMEM, "straw digitisation: out of memory");
    }
    for (int w = 0; w < p->nwires; ++w) {
      s->t0[w] = p->t0 ? p->t0[w] : 0;
      s->eff[w] = o.efficiency;
      s->has_key[w] = 0;
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
      s->port[w] = (uint8_t)port;
      s->chip[w] = (uint8_t)chip;
      s->chan[w] = (uint8_t)chan;
      s->has_key[w] = 1;
    }
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
    for (int w = 0; w < p->nwires; ++w) s->usorted[w] = p->wires[s->order[w]].u;
    s->orient = -1;
    for (int k = 0; k < d->nplanes - 1 && s->orient < 0; ++k)
      if (!memcmp(d->planes[k].p->u_dir, p->u_dir, sizeof p->u_dir) && !memcmp(d->planes[k].p->w_dir, p->w_dir, sizeof p->w_dir))
        s->orient = d->planes[k].orient;
    if (s->orient < 0) s->orient = d->norient++; /* a new orientation */
    d->map[i] = d->nplanes - 1;
  }
  /* the read-out channels, for the noise */
  size_t nk = 0;
  for (int ip = 0; ip < d->nplanes; ++ip)
    for (int w = 0; w < d->planes[ip].p->nwires; ++w) nk += d->planes[ip].has_key[w];
  d->keyed = malloc((nk ? nk : 1) * sizeof *d->keyed);
  if (!d->keyed) {
    na64_straw_digitizer_free(d);
    return na64_err_set(err, NA64_ENOMEM, "straw digitisation: out of memory");
  }
  for (int ip = 0; ip < d->nplanes; ++ip)
    for (int w = 0; w < d->planes[ip].p->nwires; ++w)
      if (d->planes[ip].has_key[w]) d->keyed[d->nkeyed++] = (uint32_t)ip << 16 | (uint32_t)w;
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
    if (wire < 0 || w == wire) s->eff[w] = eff;
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

/* Room for one more hit and truth record. */
static int grow(na64_straw_digi_event *o, na64_err *err)
{
  if (o->nhits == o->hits_cap) {
    size_t nc = o->hits_cap ? 2 * o->hits_cap : 256;
    na64_daq_f1_hit *h = realloc(o->hits, nc * sizeof *h);
    if (!h) return na64_err_set(err, NA64_ENOMEM, "straw digitisation: no memory for %zu hits", nc);
    o->hits = h;
    o->hits_cap = nc;
  }
  if (o->ntruth == o->truth_cap) {
    size_t nc = o->truth_cap ? 2 * o->truth_cap : 256;
    na64_straw_truth *t = realloc(o->truth, nc * sizeof *t);
    if (!t) return na64_err_set(err, NA64_ENOMEM, "straw digitisation: no memory for %zu truth records", nc);
    o->truth = t;
    o->truth_cap = nc;
  }
  return NA64_OK;
}

/* Quantise a time relative to the trigger and append the F1 hit if it is inside the readout window.
 * The counter phase `phase` (in bins, [0, 1)) is the fraction of a bin by which the trigger
 * arrived after the counter's last tick: hit units = trigger units + floor(phase + t / bin). */
static int32_t emit(const na64_straw_digitizer *d, const straw_plane *s, int w, double t, double phase,
                    na64_straw_digi_event *o)
{
  if (!(t >= d->opt.window_lo && t < d->opt.window_hi)) return -1;
  const double x = phase + t / d->opt.bin_ns; /* |x| < 32767 + 1 (check_options) */
  long rel = (long)x;
  rel -= x < (double)rel; /* floor */
  na64_daq_f1_hit *h = &o->hits[o->nhits];
  memset(h, 0, sizeof *h);
  h->source_id = s->src[w];
  h->port = s->port[w];
  h->chip = s->chip[w];
  h->channel = s->chan[w];
  h->trigger_units = o->trigger_units;
  h->time_units = (uint16_t)((uint32_t)o->trigger_units + (uint32_t)rel); /* modulo 2^16 */
  h->rel_units = (int32_t)rel;
  h->time_ns = (double)rel * d->opt.bin_ns;
  return (int32_t)o->nhits++;
}

int na64_straw_digitize(const na64_straw_digitizer *d, const na64_straw_track *tracks, size_t n, na64_rng *rng,
                        na64_straw_digi_event *out, na64_err *err)
{
  if (!d || (!tracks && n) || !rng || !out) return na64_err_set(err, NA64_EINVAL, "na64_straw_digitize: NULL argument");
  out->nhits = out->ntruth = 0;
  out->trigger_units = (uint16_t)(na64_rng_u64(rng) & 0xFFFFu);
  double phase = na64_rng_uniform(rng);
  out->jitter = d->opt.trigger_jitter > 0 ? d->opt.trigger_jitter * na64_rng_gauss(rng) : 0;
  for (size_t k = 0; k < n; ++k) {
    const na64_straw_track *tr = &tracks[k];
    double dn = sqrt(tr->dir[0] * tr->dir[0] + tr->dir[1] * tr->dir[1] + tr->dir[2] * tr->dir[2]);
    int finite = isfinite(tr->time) && isfinite(dn);
    for (int a = 0; a < 3; ++a) finite = finite && isfinite(tr->point[a]);
    if (!finite || !(dn > 0))
      return na64_err_set(err, NA64_EINVAL,
                          "straw digitisation: track %zu has a non-finite point/time or a zero direction (%g, %g, %g)", k,
                          tr->dir[0], tr->dir[1], tr->dir[2]);
    double D[3] = {tr->dir[0] / dn, tr->dir[1] / dn, tr->dir[2] / dn};
    tf oc[ORIENT_CACHE], oc_tmp;
    for (int i = 0; i < ORIENT_CACHE; ++i) oc[i].done = 0;
    for (int ip = 0; ip < d->nplanes; ++ip) {
      const straw_plane *s = &d->planes[ip];
      const na64_geom_plane *p = s->p;
      const double R = s->drift.radius;
      /* Pre-filter: in the plane z = z_wire the track is at u_t(z); the DCA is at least
       * |u_t - u_wire| * cos(theta_u), theta_u the track angle to z in the (u, z) plane. */
      /* the track's forms for the plane's orientation, made once per track and orientation */
      const int o = s->orient < ORIENT_CACHE ? s->orient : -1;
      if (o < 0 || !oc[o].done) {
        tf *f = o >= 0 ? &oc[o] : &oc_tmp;
        f->Du = D[0] * p->u_dir[0] + D[1] * p->u_dir[1] + D[2] * p->u_dir[2];
        f->cos_u = fabs(D[2]) / sqrt(f->Du * f->Du + D[2] * D[2]);
        f->fast = line_pair_set(D, p->w_dir, &f->lp);
        f->done = 1;
      }
      const tf *f = o >= 0 ? &oc[o] : &oc_tmp;
      const double Du = f->Du, cos_u = f->cos_u;
      int filter = fabs(D[2]) > 1e-9 && cos_u > 1e-6;
      /* candidates: wires within R / cos_u + |du/dz| dzmax of the track's u at the plane centre (the
       * exact test below then applies wire by wire) */
      int k0 = 0, k1 = p->nwires;
      if (filter) {
        double sc = (p->centre[2] - tr->point[2]) / D[2];
        double uc = (tr->point[0] + sc * D[0] - p->centre[0]) * p->u_dir[0] +
                    (tr->point[1] + sc * D[1] - p->centre[1]) * p->u_dir[1];
        double reach = R / cos_u + fabs(Du / D[2]) * s->dzmax + 1e-6;
        int lo = 0, hi = p->nwires; /* first wire with u >= uc - reach */
        while (lo < hi) {
          int mid = (lo + hi) / 2;
          if (s->usorted[mid] < uc - reach) lo = mid + 1;
          else hi = mid;
        }
        k0 = lo;
        k1 = lo;
        while (k1 < p->nwires && s->usorted[k1] <= uc + reach) k1++;
      }
      const line_pair lp = f->lp;
      const int fast = f->fast;
      for (int kk = k0; kk < k1; ++kk) {
        const int w = s->order[kk];
        const na64_geom_wire *wi = &p->wires[w];
        if (filter) {
          double sz = (wi->pos[2] - tr->point[2]) / D[2];
          double ut = (tr->point[0] + sz * D[0] - wi->pos[0]) * p->u_dir[0] +
                      (tr->point[1] + sz * D[1] - wi->pos[1]) * p->u_dir[1];
          if (fabs(ut) * cos_u >= R) continue;
        }
        double st, sw, dca, c[3]; /* c: the track's closest point from the wire's point */
        if (fast) { /* na64_straw_line_distance with the plane's S and T */
          const double w0[3] = {tr->point[0] - wi->pos[0], tr->point[1] - wi->pos[1], tr->point[2] - wi->pos[2]};
          st = w0[0] * lp.S[0] + w0[1] * lp.S[1] + w0[2] * lp.S[2];
          sw = w0[0] * lp.T[0] + w0[1] * lp.T[1] + w0[2] * lp.T[2];
          for (int a = 0; a < 3; ++a) c[a] = tr->point[a] + st * D[a] - wi->pos[a];
          const double e[3] = {c[0] - sw * p->w_dir[0], c[1] - sw * p->w_dir[1], c[2] - sw * p->w_dir[2]};
          dca = sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
        } else {
          dca = na64_straw_line_distance(tr->point, D, wi->pos, p->w_dir, &st, &sw);
          for (int a = 0; a < 3; ++a) c[a] = tr->point[a] + st * D[a] - wi->pos[a];
        }
        if (!(dca < R) || fabs(sw) > s->half_length) continue;
        NA64_CALL(grow(out, err));
        na64_straw_truth *t = &out->truth[out->ntruth++];
        t->plane = s->index;
        t->wire = w;
        t->track = (int32_t)k;
        t->doca = dca;
        t->u_track = c[0] * p->u_dir[0] + c[1] * p->u_dir[1] + c[2] * p->u_dir[2];
        t->drift_time = drift_time(s, dca);
        /* one stream word per hit: the time resolution's N(0, 1) by the ziggurat from its bits 0-7 and
         * 32-63 (na64_rng_gauss_word), the efficiency's uniform from bits 8-31 (24 bits, step 6e-8) */
        uint64_t word = na64_rng_u64(rng);
        double time = s->t0[w] + tr->time + t->drift_time + s->sigma_t * na64_rng_gauss_word(rng, word) - out->jitter;
        if (d->opt.prop_velocity > 0) time += (s->half_length - sw) / d->opt.prop_velocity;
        t->time = time;
        t->hit = -1;
        if (!s->has_key[w]) continue;
        if (s->eff[w] < 1 && ((double)((word >> 8) & 0xFFFFFFu) + 0.5) * 0x1.0p-24 >= s->eff[w]) continue;
        t->hit = emit(d, s, w, time, phase, out);
      }
    }
  }
  /* noise: independent Poisson numbers of hits per channel, uniform in the readout window. Drawn as
   * one Poisson total over the read-out channels, each hit on a uniformly chosen channel: the same
   * distribution (a Poisson total split multinomially gives independent Poisson counts) at the cost
   * of the hits rather than of the channels. */
  if (d->opt.noise_per_channel > 0 && d->nkeyed) {
    double span = d->opt.window_hi - d->opt.window_lo;
    unsigned long k = na64_rng_poisson(rng, d->opt.noise_per_channel * (double)d->nkeyed);
    for (unsigned long j = 0; j < k; ++j) {
      uint32_t c = d->keyed[na64_rng_u64(rng) % d->nkeyed];
      const straw_plane *s = &d->planes[c >> 16];
      int w = (int)(c & 0xFFFFu);
      NA64_CALL(grow(out, err));
      na64_straw_truth *t = &out->truth[out->ntruth++];
      t->plane = s->index;
      t->wire = w;
      t->track = -1;
      t->doca = NAN;
      t->u_track = NAN;
      t->drift_time = NAN;
      t->time = d->opt.window_lo + span * na64_rng_uniform(rng);
      t->hit = emit(d, s, w, t->time, phase, out);
    }
  }
  return NA64_OK;
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
  size_t same = 1;
  while (same < ev->nhits && ev->hits[same].source_id == ev->hits[0].source_id) ++same;
  if (same == ev->nhits) { /* one source (the setups' straws are all on one): the hits as they are */
    size_t nw = 0;
    uint32_t *out; /* encoded in place in the writer's event */
    NA64_CALL(na64_daq_writer_reserve_equipment(w, ev->hits[0].source_id, NA64_DAQ_F1_MAX_WORDS(ev->nhits), &out, err));
    NA64_CALL(na64_daq_f1_encode(ev->hits, ev->nhits, nb_in_burst, out, NA64_DAQ_F1_MAX_WORDS(ev->nhits), &nw, err));
    na64_daq_equipment_header eh = na64_daq_f1_equipment(ev->hits[0].source_id, d->opt.bin_ns);
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
