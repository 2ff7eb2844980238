/*
 * Tracking with the Micromegas and GEM planes (docs/reco.md §3): APV strip hits -> clusters ->
 * straight-line fits upstream and downstream of the dipoles -> momentum from the deflection.
 *
 * Clusters: runs of adjacent strips of one plane; position = charge-weighted mean of the strip
 * centres (charge = the middle APV25 sample, the one at the peak), the plane's best cluster is the
 * one of largest charge. Resolution 0.3 x pitch (the simulation's charge sharing over a Gaussian of
 * 1.2 strips gives ~70 um for a 250 um pitch, src/sim/fast_digi.c; an ESTIMATE for real data).
 * Fit: x = a + b (z - z_ref), y = c + d (z - z_ref), each plane measuring u = (x - x_c) cos(phi) +
 * (y - y_c) sin(phi): a linear least-squares fit of (a, b, c, d) by the normal equations; at least
 * two planes measuring each of x and y are needed on each side.
 * Momentum: in the small-angle approximation a particle of charge q crossing a field integral
 * int B dl is deflected by delta = q 0.299792458 int B dl / p (p in GeV, B in T, l in m; PDG Review
 * "Passage of particles through matter"/"Kinematics": p_T kick = 0.3 B L), so for the beam
 * electrons (deflected towards +x by a positive field integral, na64/geom.h)
 *     p = 0.299792458 sum(B L) / (b_down - b_up).
 * A particle bent the other way gets a negative momentum. No multiple scattering in the fit (the
 * simulation has none either); theta = atan(sqrt(b_up^2 + d_up^2)).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/reco_internal.h"

#define C_KICK 0.299792458 /* GeV per (T m) */
#define STRIP_RES 0.3      /* cluster resolution / pitch */

int reco_track_setup(na64_reco *r, na64_err *err)
{
  const na64_geom *g = r->g;
  r->bl = na64_geom_field_integral(g);
  r->z_mag_in = HUGE_VAL, r->z_mag_out = -HUGE_VAL;
  for (int i = 0; i < g->nmagnets; ++i) {
    const na64_geom_magnet *m = &g->magnets[i];
    r->z_mag_in = fmin(r->z_mag_in, m->centre[2] - 0.5 * m->length);
    r->z_mag_out = fmax(r->z_mag_out, m->centre[2] + 0.5 * m->length);
  }
  r->plane_slot = malloc(((size_t)g->nplanes + 1) * sizeof *r->plane_slot);
  r->rp = calloc((size_t)g->nplanes + 1, sizeof *r->rp);
  r->clusters = calloc((size_t)g->nplanes + 1, sizeof *r->clusters);
  if (!r->plane_slot || !r->rp || !r->clusters) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory");
  for (int i = 0; i < g->nplanes; ++i) {
    const na64_geom_plane *p = &g->planes[i];
    r->plane_slot[i] = -1;
    if (p->kind != NA64_DET_MICROMEGAS && p->kind != NA64_DET_GEM) continue;
    reco_plane *q = &r->rp[r->nrp];
    q->index = i;
    q->side = p->centre[2] < r->z_mag_in ? 0 : p->centre[2] > r->z_mag_out ? 1 : -1;
    q->sigma = STRIP_RES * (p->pitch > 0.0 ? p->pitch : 0.04);
    r->plane_slot[i] = r->nrp++;
  }
  return NA64_OK;
}

static int cmp_strip(const void *a, const void *b)
{
  const reco_strip *x = a, *y = b;
  if (x->plane != y->plane) return x->plane < y->plane ? -1 : 1;
  return x->wire < y->wire ? -1 : x->wire > y->wire;
}

/* APV hits of the event -> mapped strips (r->strips); *bad if a block could not be decoded. */
static int collect_strips(na64_reco *r, const na64_daq_event *ev, size_t *ns, int *bad, na64_err *err)
{
  size_t cur = 0, n = 0;
  na64_daq_equipment eq;
  const na64_geom *g = r->g;
  while (na64_daq_event_next_equipment(ev, &cur, &eq)) {
    if (eq.header.type != NA64_DAQ_EQ_APV) continue;
    size_t got = 0;
    NA64_CALL(reco_reserve((void **)&r->apv, &r->apv_cap, eq.nwords + 1, sizeof *r->apv, err));
    na64_err e2 = {0, ""};
    if (na64_daq_apv_decode(&eq, -1, r->apv, r->apv_cap, &got, NULL, &e2) != NA64_OK) *bad = 1;
    NA64_CALL(reco_reserve((void **)&r->strips, &r->strips_cap, n + got, sizeof *r->strips, err));
    const na64_geom_chansrc *src = na64_geom_chan_source(g, eq.header.id);
    for (size_t k = 0; k < got; ++k) {
      const na64_daq_apv_hit *h = &r->apv[k];
      const na64_geom_chan *c = na64_geom_chan_in_source(g, src, 0, h->chip, h->channel);
      if (!c || c->plane < 0 || c->plane >= g->nplanes || r->plane_slot[c->plane] < 0) continue;
      if (c->wire < 0 || c->wire >= g->planes[c->plane].nwires) continue;
      r->strips[n++] = (reco_strip){c->plane, c->wire, (double)h->amp[1]};
    }
  }
  *ns = n;
  return NA64_OK;
}

/* Clusters of adjacent strips; the best (largest charge) per plane into r->clusters. */
static void make_clusters(na64_reco *r, size_t ns)
{
  for (int i = 0; i < r->nrp; ++i) r->clusters[i] = (reco_cluster){NAN, 0.0, 0};
  if (ns > 1) qsort(r->strips, ns, sizeof *r->strips, cmp_strip);
  for (size_t a = 0; a < ns;) {
    size_t b = a + 1;
    while (b < ns && r->strips[b].plane == r->strips[a].plane && r->strips[b].wire <= r->strips[b - 1].wire + 1) ++b;
    const na64_geom_plane *pl = &r->g->planes[r->strips[a].plane];
    double q = 0.0, qu = 0.0;
    for (size_t k = a; k < b; ++k) {
      double w = fmax(r->strips[k].q, 0.0);
      q += w;
      qu += w * pl->wires[r->strips[k].wire].u;
    }
    reco_cluster *c = &r->clusters[r->plane_slot[r->strips[a].plane]];
    c->n++;
    if (q > c->q) c->q = q, c->u = qu / q;
    a = b;
  }
}

typedef struct line_fit {
  double a, b, c, d; /* x = a + b (z - zref), y = c + d (z - zref) */
  double chi2;
  int n;             /* measurements */
  int ntracks;       /* most clusters in any plane of the side */
} line_fit;

/* Solve the 4x4 system M p = v by Gaussian elimination with partial pivoting; 0 if singular. */
static int solve4(double M[4][4], double v[4], double p[4])
{
  for (int c = 0; c < 4; ++c) {
    int piv = c;
    for (int r = c + 1; r < 4; ++r)
      if (fabs(M[r][c]) > fabs(M[piv][c])) piv = r;
    if (!(fabs(M[piv][c]) > 1e-300)) return 0;
    for (int k = 0; k < 4; ++k) {
      double t = M[c][k];
      M[c][k] = M[piv][k];
      M[piv][k] = t;
    }
    double t = v[c];
    v[c] = v[piv];
    v[piv] = t;
    for (int r = c + 1; r < 4; ++r) {
      double f = M[r][c] / M[c][c];
      for (int k = c; k < 4; ++k) M[r][k] -= f * M[c][k];
      v[r] -= f * v[c];
    }
  }
  for (int c = 3; c >= 0; --c) {
    double s = v[c];
    for (int k = c + 1; k < 4; ++k) s -= M[c][k] * p[k];
    p[c] = s / M[c][c];
  }
  return 1;
}

/* Fit one side; on failure the reason (naming the planes) goes to msg. */
static int fit_side(na64_reco *r, int side, line_fit *f, char *msg, size_t len)
{
  double M[4][4] = {{0}}, v[4] = {0}, p[4] = {0};
  int nx = 0, ny = 0, nplanes = 0;
  char missing[256] = "";
  size_t ml = 0;
  f->n = 0;
  f->ntracks = 0;
  for (int i = 0; i < r->nrp; ++i) {
    if (r->rp[i].side != side) continue;
    const na64_geom_plane *pl = &r->g->planes[r->rp[i].index];
    const reco_cluster *c = &r->clusters[i];
    ++nplanes;
    if (c->n > f->ntracks) f->ntracks = c->n;
    if (!(c->q > 0.0)) {
      if (ml < sizeof missing) ml += (size_t)snprintf(missing + ml, sizeof missing - ml, "%s%s", ml ? ", " : "", pl->name);
      continue;
    }
    double cs = pl->u_dir[0], sn = pl->u_dir[1], dz = pl->centre[2], w = 1.0 / (r->rp[i].sigma * r->rp[i].sigma);
    double h[4] = {cs, cs * dz, sn, sn * dz}, m = c->u + pl->centre[0] * cs + pl->centre[1] * sn;
    for (int a = 0; a < 4; ++a) {
      v[a] += w * h[a] * m;
      for (int b = 0; b < 4; ++b) M[a][b] += w * h[a] * h[b];
    }
    nx += fabs(cs) > 0.1;
    ny += fabs(sn) > 0.1;
    f->n++;
  }
  const char *where = side ? "downstream" : "upstream";
  if (nplanes == 0) return snprintf(msg, len, "%s fit: no Micromegas/GEM plane %s of the magnets", where, where), 0;
  if (nx < 2 || ny < 2)
    return snprintf(msg, len, "%s fit: %d x- and %d y-measuring planes with a cluster (2 each needed); no cluster in %s",
                    where, nx, ny, missing[0] ? missing : "none"), 0;
  if (!solve4(M, v, p)) return snprintf(msg, len, "%s fit: singular (planes at the same z?)", where), 0;
  f->a = p[0], f->b = p[1], f->c = p[2], f->d = p[3];
  f->chi2 = 0.0;
  for (int i = 0; i < r->nrp; ++i) { /* residuals */
    if (r->rp[i].side != side || !(r->clusters[i].q > 0.0)) continue;
    const na64_geom_plane *pl = &r->g->planes[r->rp[i].index];
    double z = pl->centre[2], x = f->a + f->b * z, y = f->c + f->d * z;
    double u = (x - pl->centre[0]) * pl->u_dir[0] + (y - pl->centre[1]) * pl->u_dir[1], d = (u - r->clusters[i].u) / r->rp[i].sigma;
    f->chi2 += d * d;
  }
  return 1;
}

int reco_track_event(na64_reco *r, const na64_daq_event *ev, na64_reco_event *out, na64_err *err)
{
  size_t ns = 0;
  int bad = 0;
  NA64_CALL(collect_strips(r, ev, &ns, &bad, err));
  if (bad) out->flags |= NA64_RECO_DECODE_ERROR;
  make_clusters(r, ns);
  line_fit up, down;
  r->msg[0] = '\0';
  int ok_up = fit_side(r, 0, &up, r->msg, sizeof r->msg);
  int ok_down = ok_up ? fit_side(r, 1, &down, r->msg, sizeof r->msg) : 0;
  out->ntracks_up = ok_up ? up.ntracks : 0;
  out->ntracks_down = ok_down ? down.ntracks : 0;
  out->theta = ok_up ? atan(sqrt(up.b * up.b + up.d * up.d)) : NAN;
  out->momentum = out->track_chi2ndf = NAN;
  if (ok_up && ok_down && !(r->bl != 0.0))
    ok_down = 0, snprintf(r->msg, sizeof r->msg, "momentum: no field integral in the geometry of run %d", r->g->run);
  if (ok_up && ok_down) {
    double delta = down.b - up.b;
    if (delta != 0.0) out->momentum = C_KICK * r->bl / delta;
    else snprintf(r->msg, sizeof r->msg, "momentum: no deflection between the upstream and downstream fits");
    int ndf = up.n + down.n - 8;
    out->track_chi2ndf = ndf > 0 ? (up.chi2 + down.chi2) / ndf : NAN;
  }
  if (!isfinite(out->momentum)) {
    out->flags |= NA64_RECO_NO_TRACK;
    na64_log(NA64_LOG_DEBUG, "reco: run %u event %u: %s", (unsigned)ev->header.run, (unsigned)ev->header.id[0], r->msg);
  }
  return NA64_OK;
}
