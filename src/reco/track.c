/*
 * Tracking (docs/reco.md §3): APV strip hits of the Micromegas and GEM planes -> clusters, F1 hits
 * of the straw planes -> drift radii; a straight-line fit upstream and one downstream of the
 * dipoles with multiple scattering and straw left/right resolution (track_fit.c) -> momentum from
 * the deflection.
 *
 * Clusters: runs of adjacent strips of one plane; position = charge-weighted mean of the strip
 * centres (charge = the middle APV25 sample, the one at the peak), the plane's best cluster is the
 * one of largest charge. Resolution and material of each strip plane from the conditions database
 * (table strip_resolution, schema 7: the rms of the cluster centroid about the track and the plane's
 * X0, valid for the run; docs/reco.md §3); 0.3 x pitch and the X0_* estimates below for a plane
 * without a record.
 * Straw hits: radius and error from the run's r(t) (straw_hits.c), the local segment's side as the
 * first guess, the final side chosen by the fit.
 * Fit: na64_track_fit with the reference at the magnets (z_ref = entrance of the first magnet for
 * the upstream side, exit of the last for the downstream one; a beam dump behind the magnets, the
 * visible setups' WCAL, ends the downstream side: the planes behind it see its products, not the
 * beam electron, docs/visible.md "Momentum of every event"), scattering angles for the run's beam
 * momentum, then refitted with the measured momentum if that is more than 30% away from it.
 * Momentum: in the small-angle approximation a particle of charge q crossing a field integral
 * int B dl is deflected by delta = q 0.299792458 int B dl / p (p in GeV, B in T, l in m; PDG Review
 * "Passage of particles through matter"/"Kinematics": p_T kick = 0.3 B L), so for the beam
 * electrons (deflected towards +x by a positive field integral, na64/geom.h)
 *     p = 0.299792458 sum(B L) / (tx_down - tx_up).
 * A particle bent the other way gets a negative momentum; theta = atan(sqrt(tx_up^2 + ty_up^2)) at
 * the magnet entrance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/reco_internal.h"

#define C_KICK 0.299792458 /* GeV per (T m) */
#define STRIP_RES 0.3      /* cluster resolution / pitch, for a plane without a strip_resolution record */
#define P_REFIT 0.3        /* refit with the measured momentum's scattering if it is 30% off the beam's */
#define P_MIN_MS 1.0       /* GeV: lowest momentum used for the scattering angles */
/* Material of one tracking plane in radiation lengths, ESTIMATES of the order of the COMPASS/NA64
 * detectors (Micromegas ~0.3% X0 per station of two planes, triple GEM ~0.7% per station of two
 * projections, a straw layer of 6 mm tubes ~0.1%), for the straw planes and for the strip planes
 * without a strip_resolution record (whose x_x0 is used otherwise). */
#define X0_MICROMEGAS 0.0015
#define X0_GEM 0.0035
#define X0_STRAW 0.001
#define P_DEFAULT 100.0    /* GeV, when the geometry has no beam energy */

int reco_track_setup(na64_reco *r, na64_err *err)
{
  const na64_geom *g = r->g;
  int nstraw = 0;
  r->bl = na64_geom_field_integral(g);
  r->z_mag_in = HUGE_VAL, r->z_mag_out = -HUGE_VAL;
  for (int i = 0; i < g->nmagnets; ++i) {
    const na64_geom_magnet *m = &g->magnets[i];
    r->z_mag_in = fmin(r->z_mag_in, m->centre[2] - 0.5 * m->length);
    r->z_mag_out = fmax(r->z_mag_out, m->centre[2] + 0.5 * m->length);
  }
  double z_dump = HUGE_VAL; /* front face of the first beam dump (WCAL) behind the magnets */
  for (int i = 0; i < g->ndetectors; ++i) {
    const na64_geom_detector *d = &g->detectors[i];
    double z = d->centre[2] - 0.5 * d->size[2];
    if (d->kind == NA64_DET_WCAL && z > r->z_mag_out) z_dump = fmin(z_dump, z);
  }
  r->plane_slot = malloc(((size_t)g->nplanes + 1) * sizeof *r->plane_slot);
  r->rp = calloc((size_t)g->nplanes + 1, sizeof *r->rp);
  r->clusters = calloc((size_t)g->nplanes + 1, sizeof *r->clusters);
  r->slot_at = calloc((size_t)g->nplanes + 2, sizeof *r->slot_at);
  if (!r->plane_slot || !r->rp || !r->clusters || !r->slot_at) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory");
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *p = &g->planes[i];
    r->plane_slot[i] = -1;
    if (p->kind != NA64_DET_MICROMEGAS && p->kind != NA64_DET_GEM && p->kind != NA64_DET_STRAW) continue;
    reco_plane *q = &r->rp[r->nrp];
    q->index = i;
    q->side = p->centre[2] < r->z_mag_in ? 0 : p->centre[2] > r->z_mag_out && p->centre[2] < z_dump ? 1 : -1;
    int measured = p->kind != NA64_DET_STRAW && p->has_response; /* a strip_resolution record */
    q->sigma = measured ? p->sigma_u : STRIP_RES * (p->pitch > 0.0 ? p->pitch : 0.04);
    q->x_x0 = measured ? p->x_x0 : p->kind == NA64_DET_STRAW ? X0_STRAW : p->kind == NA64_DET_GEM ? X0_GEM : X0_MICROMEGAS;
    nstraw += p->kind == NA64_DET_STRAW;
    r->plane_slot[i] = r->nrp++;
  }
  r->p_nominal = g->beam_energy > 0.0 ? g->beam_energy : P_DEFAULT;
  /* the strip of every channel-map entry: collect_strips' checks done once */
  r->strip_of = malloc((g->chanmap.nentries + 1) * sizeof *r->strip_of);
  if (!r->strip_of) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory");
  for (size_t k = 0; k < g->chanmap.nentries; ++k) {
    const na64_geom_chan *c = &g->chanmap.entries[k];
    int ok = (c->plane >= 0 || c->cell >= 0) && c->plane >= 0 && c->plane < g->nplanes && r->plane_slot[c->plane] >= 0 &&
             g->planes[c->plane].kind != NA64_DET_STRAW && c->wire >= 0 && c->wire < g->planes[c->plane].nwires;
    r->strip_of[k] = ok ? (reco_strip_chan){c->plane, c->wire} : (reco_strip_chan){-1, -1};
  }
  na64_straw_digit_list_init(&r->digits);
  na64_straw_event_init(&r->sev);
  if (nstraw) {
    NA64_CALL(na64_straw_decoder_new(g, NULL, &r->straw_dec, err));
    NA64_CALL(na64_straw_reco_new(g, NULL, &r->straw_reco, err));
  }
  return NA64_OK;
}

/* APV hits of the event (r->eq) -> mapped strips (r->strips); *bad if a block could not be decoded. */
static int collect_strips(na64_reco *r, size_t *ns, int *bad, na64_err *err)
{
  size_t n = 0;
  const na64_geom *g = r->g;
  for (size_t q = 0; q < r->neq; ++q) {
    const na64_daq_equipment *eq = &r->eq[q];
    if (eq->header.type != NA64_DAQ_EQ_APV) continue;
    size_t got = 0;
    NA64_CALL(reco_reserve((void **)&r->apv, &r->apv_cap, eq->nwords + 1, sizeof *r->apv, err));
    na64_err e2; /* set by the callee on failure: only the empty message, not the whole buffer, cleared */
    e2.code = 0, e2.msg[0] = '\0';
    if (na64_daq_apv_decode(eq, -1, r->apv, r->apv_cap, &got, NULL, &e2) != NA64_OK) *bad = 1;
    NA64_CALL(reco_reserve((void **)&r->strips, &r->strips_cap, n + got, sizeof *r->strips, err));
    const na64_geom_chansrc *src = na64_geom_chan_source(g, eq->header.id);
    if (!src || src->nport == 0) continue; /* port 0 of the source: its table starts at src->offset */
    const reco_strip_chan *tab = r->strip_of + src->offset;
    const uint32_t nchip = src->nchip, nchan = src->nchan;
    for (size_t k = 0; k < got; ++k) {
      const na64_daq_apv_hit *h = &r->apv[k];
      if (h->chip >= nchip || h->channel >= nchan) continue;
      const reco_strip_chan *c = &tab[(size_t)h->chip * nchan + h->channel];
      if (c->plane < 0) continue;
      r->strips[n++] = (na64_strip_hit){c->plane, c->wire, (double)h->amp[1]};
    }
  }
  *ns = n;
  return NA64_OK;
}

/* r->strips in (plane, wire) order, as na64_strip_hits_sort orders them: a stable counting sort by
 * the plane's slot (slots are in plane order), then each plane's hits by wire with
 * na64_strip_hits_sort (few per plane, nearly in order). */
static int sort_strips(na64_reco *r, size_t ns, na64_err *err)
{
  NA64_CALL(reco_reserve((void **)&r->strips2, &r->strips2_cap, ns, sizeof *r->strips2, err));
  size_t *at = r->slot_at; /* [nrp + 1] */
  memset(at, 0, ((size_t)r->nrp + 1) * sizeof *at);
  for (size_t k = 0; k < ns; ++k) at[r->plane_slot[r->strips[k].plane] + 1]++;
  for (int i = 0; i < r->nrp; ++i) at[i + 1] += at[i];
  for (size_t k = 0; k < ns; ++k) r->strips2[at[r->plane_slot[r->strips[k].plane]]++] = r->strips[k];
  /* at[i] is now the end of slot i's hits */
  for (int i = 0, a = 0; i < r->nrp; a = (int)at[i++])
    if (at[i] - (size_t)a > 1) na64_strip_hits_sort(r->strips2 + a, at[i] - (size_t)a);
  na64_strip_hit *t = r->strips;
  size_t c = r->strips_cap;
  r->strips = r->strips2, r->strips_cap = r->strips2_cap;
  r->strips2 = t, r->strips2_cap = c;
  return NA64_OK;
}

/* Clusters of adjacent strips of each plane (na64_strip_cluster_find); the best (largest charge) per
 * plane and their number into r->clusters. */
static int make_clusters(na64_reco *r, size_t ns, na64_err *err)
{
  for (int i = 0; i < r->nrp; ++i) r->clusters[i] = (reco_cluster){NAN, 0.0, 0};
  NA64_CALL(sort_strips(r, ns, err));
  NA64_CALL(reco_reserve((void **)&r->cl, &r->cl_cap, ns, sizeof *r->cl, err));
  for (size_t a = 0; a < ns;) {
    size_t b = a + 1, ncl = 0;
    while (b < ns && r->strips[b].plane == r->strips[a].plane) ++b;
    NA64_CALL(reco_strip_clusters(&r->g->planes[r->strips[a].plane], r->strips + a, b - a, r->cl, r->cl_cap, &ncl, err));
    reco_cluster *c = &r->clusters[r->plane_slot[r->strips[a].plane]];
    for (size_t k = 0; k < ncl; ++k) {
      c->n++;
      if (r->cl[k].q > c->q) c->q = r->cl[k].q, c->u = r->cl[k].u;
    }
    a = b;
  }
  return NA64_OK;
}

/* Measurements of one side into m: the best cluster of every strip plane, every straw hit with a
 * radius. The planes without a cluster (their geometry indices, at most NA64_TRACK_MAX_MEAS) go to
 * missing[0..*nmissing). */
static int side_measurements(na64_reco *r, int side, na64_track_meas *m, int *ntracks, int *nplanes, int *missing,
                             int *nmissing)
{
  int n = 0;
  *ntracks = 0, *nplanes = 0, *nmissing = 0;
  for (int i = 0; i < r->nrp; ++i) {
    if (r->rp[i].side != side) continue;
    const na64_geom_plane *pl = &r->g->planes[r->rp[i].index];
    ++*nplanes;
    if (pl->kind == NA64_DET_STRAW) continue;
    const reco_cluster *c = &r->clusters[i];
    if (c->n > *ntracks) *ntracks = c->n;
    if (!(c->q > 0.0)) {
      if (*nmissing < NA64_TRACK_MAX_MEAS) missing[(*nmissing)++] = r->rp[i].index;
      continue;
    }
    if (n == NA64_TRACK_MAX_MEAS) break;
    double cs = pl->u_dir[0], sn = pl->u_dir[1];
    m[n++] = (na64_track_meas){pl->centre[2], cs, sn, c->u + pl->centre[0] * cs + pl->centre[1] * sn, -1.0,
                               r->rp[i].sigma, r->rp[i].x_x0, r->rp[i].index, 0, 0};
  }
  for (size_t k = 0; k < r->sev.nhits && n < NA64_TRACK_MAX_MEAS; ++k) {
    const na64_straw_hit *h = &r->sev.hits[k];
    int slot = r->plane_slot[h->plane];
    if (slot < 0 || r->rp[slot].side != side || !isfinite(h->r) || !(h->sigma_r > 0.0)) continue;
    const na64_geom_plane *pl = &r->g->planes[h->plane];
    double cs = pl->u_dir[0], sn = pl->u_dir[1];
    m[n++] = (na64_track_meas){h->pos[2], cs, sn, h->pos[0] * cs + h->pos[1] * sn, h->r, h->sigma_r, r->rp[slot].x_x0,
                               h->plane, h->side, 0};
  }
  return n;
}

/* The names of the planes missing[0..n) as "A, B, C" (or "none") into buf (truncated to len). */
static const char *plane_list(const na64_geom *g, const int *missing, int n, char *buf, size_t len)
{
  size_t ml = 0;
  buf[0] = '\0';
  for (int k = 0; k < n && ml < len; ++k)
    ml += (size_t)snprintf(buf + ml, len - ml, "%s%s", k ? ", " : "", g->planes[missing[k]].name);
  return n ? buf : "none";
}

/* Fit one side (reference plane at the magnets); on failure the reason, naming the planes, goes to msg
 * (the plane list is written only then: most events have a plane without a cluster). */
static int fit_side(na64_reco *r, int side, double p_ms, reco_side_fit *f, char *msg, size_t len)
{
  char missing[256];
  int nplanes = 0, miss[NA64_TRACK_MAX_MEAS], nmiss = 0;
  f->n = side_measurements(r, side, f->m, &f->ntracks, &nplanes, miss, &nmiss);
  const char *where = side ? "downstream" : "upstream";
  if (nplanes == 0) return snprintf(msg, len, "%s fit: no tracking plane %s of the magnets", where, where), 0;
  na64_err e; /* set by na64_track_fit on failure */
  e.code = 0, e.msg[0] = '\0';
  double z_ref = side ? r->z_mag_out : r->z_mag_in;
  if (na64_track_fit(f->m, f->n, z_ref, p_ms, 0.0, &f->line, &e) != NA64_OK)
    return snprintf(msg, len, "%s %s; no cluster in %s", where, e.msg, plane_list(r->g, miss, nmiss, missing, sizeof missing)), 0;
  return 1;
}

/* The F1 hits of the event's blocks (r->eq, listed once per event) and their straw digits into
 * r->digits: na64_straw_decode_event without its own walk of the sub-events (the same blocks in the
 * same order, the same decoding and status: the first F1 problem, else the digits' one). */
static int straw_digits(na64_reco *r, const na64_daq_event *ev, na64_err *err)
{
  na64_straw_digit_list *l = &r->digits;
  l->n = 0, l->f1.n = 0;
  int st1 = NA64_OK;
  long expected = (long)na64_daq_header_nb_in_burst(&ev->header);
  for (size_t q = 0; q < r->neq; ++q) {
    const na64_daq_equipment *eq = &r->eq[q];
    if (eq->header.type != NA64_DAQ_EQ_F1) continue;
    NA64_CALL(reco_reserve((void **)&l->f1.hits, &l->f1.cap, l->f1.n + eq->nwords, sizeof *l->f1.hits, err));
    size_t got = 0;
    na64_err e2; /* set by the callee on failure: only the empty message, not the whole buffer, cleared */
    e2.code = 0, e2.msg[0] = '\0';
    int st = na64_daq_f1_decode(eq, expected, l->f1.hits + l->f1.n, l->f1.cap - l->f1.n, &got, NULL, &e2);
    l->f1.n += got;
    if (st != NA64_OK && st1 == NA64_OK) st1 = st;
  }
  NA64_CALL(reco_reserve((void **)&l->digits, &l->cap, l->f1.n, sizeof *l->digits, err));
  na64_err e2; /* set by the callee on failure: only the empty message, not the whole buffer, cleared */
  e2.code = 0, e2.msg[0] = '\0';
  int st2 = na64_straw_decode(r->straw_dec, l->f1.hits, l->f1.n, l->digits, l->cap, &l->n, NULL, &e2);
  if (st2 == NA64_ENOMEM) return na64_err_set(err, st2, "%s", e2.msg);
  return st1 != NA64_OK ? st1 : st2;
}

/* Straw digits of the event -> hits with drift radii and local left/right guesses (r->sev). */
static int straw_hits(na64_reco *r, const na64_daq_event *ev, int *bad, na64_err *err)
{
  r->sev.nhits = 0;
  if (!r->straw_dec) return NA64_OK;
  int st = straw_digits(r, ev, err);
  if (st == NA64_ENOMEM) return st;
  if (st != NA64_OK) *bad = 1;
  na64_err e2; /* set by the callee on failure: only the empty message, not the whole buffer, cleared */
  e2.code = 0, e2.msg[0] = '\0';
  st = na64_straw_reco_event(r->straw_reco, r->digits.digits, r->digits.n, &r->sev, &e2);
  if (st == NA64_ENOMEM) return na64_err_set(err, st, "%s", e2.msg);
  if (st != NA64_OK) *bad = 1, r->sev.nhits = 0;
  return NA64_OK;
}

/* Both sides at the scattering of momentum p_ms; 1 if both fitted. */
static int fit_both(na64_reco *r, double p_ms)
{
  r->msg[0] = '\0';
  return fit_side(r, 0, p_ms, &r->fit[0], r->msg, sizeof r->msg) && fit_side(r, 1, p_ms, &r->fit[1], r->msg, sizeof r->msg);
}

int reco_track_event(na64_reco *r, const na64_daq_event *ev, na64_reco_event *out, na64_err *err)
{
  size_t ns = 0;
  int bad = 0;
  NA64_CALL(collect_strips(r, &ns, &bad, err));
  NA64_CALL(straw_hits(r, ev, &bad, err));
  if (bad) out->flags |= NA64_RECO_DECODE_ERROR;
  NA64_CALL(make_clusters(r, ns, err));
  out->momentum = out->track_chi2ndf = out->theta = NAN;
  int ok = fit_both(r, r->p_nominal);
  const na64_track_line *up = &r->fit[0].line, *down = &r->fit[1].line;
  if (ok && !(r->bl != 0.0)) ok = 0, snprintf(r->msg, sizeof r->msg, "momentum: no field integral in the geometry of run %d", r->g->run);
  double delta = ok ? down->p[1] - up->p[1] : 0.0;
  if (ok && delta == 0.0) ok = 0, snprintf(r->msg, sizeof r->msg, "momentum: no deflection between the upstream and downstream fits");
  if (ok && fabs(fabs(C_KICK * r->bl / delta) - r->p_nominal) > P_REFIT * r->p_nominal) { /* scattering of the measured momentum */
    ok = fit_both(r, fmax(fabs(C_KICK * r->bl / delta), P_MIN_MS));
    delta = ok ? down->p[1] - up->p[1] : 0.0;
    if (ok && delta == 0.0) ok = 0, snprintf(r->msg, sizeof r->msg, "momentum: no deflection between the upstream and downstream fits");
  }
  out->ntracks_up = up->nused > 0 ? r->fit[0].ntracks : 0;
  out->ntracks_down = ok ? r->fit[1].ntracks : 0;
  if (up->nused > 0) out->theta = atan(sqrt(up->p[1] * up->p[1] + up->p[3] * up->p[3]));
  if (ok) {
    out->momentum = C_KICK * r->bl / delta;
    int ndf = up->ndf + down->ndf;
    out->track_chi2ndf = ndf > 0 ? (up->chi2 + down->chi2) / ndf : NAN;
  }
  if (!isfinite(out->momentum)) {
    out->flags |= NA64_RECO_NO_TRACK;
    na64_log(NA64_LOG_DEBUG, "reco: run %u event %u: %s", (unsigned)ev->header.run, (unsigned)ev->header.id[0], r->msg);
  }
  return NA64_OK;
}
