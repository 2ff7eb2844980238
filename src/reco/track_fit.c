/*
 * Track fit of one side of the magnets with multiple scattering and straw left/right resolution
 * (na64/reco.h na64_track_fit, docs/reco.md §3).
 *
 * Model. A straight line with parameters p = (x0, tx, y0, ty) at z_ref; a plane at z measuring
 * u = x cs + y sn sees h.p with h = (cs, cs dz, sn, sn dz), dz = z - z_ref.
 * Multiple scattering. Every plane k is a thin scatterer deflecting the track by independent
 * Gaussian angles w_k of RMS theta_k in x and in y (projected angle). Seen from z_ref (the magnet
 * side, where the slope that measures the momentum is wanted), a scatterer at z_k changes the line
 * of every plane i beyond it (|z_i - z_ref| > |z_k - z_ref|, same side) by G_k w_k with
 * G_k = (-z_k, 1) in (x0, tx) and in (y0, ty), z_k relative to z_ref: the measurements are
 *     m_i = h_i.(p + sum_{k nearer z_ref than i} G_k w_k) + e_i,   e_i ~ N(0, sigma_i^2),
 * whose covariance is that of the "global correlated fit" (Frühwirth, Regler et al., "Data Analysis
 * Techniques for High-Energy Physics", 2nd ed., CUP 2000, §3.3 and §4.3; Billoir, NIM 225 (1984) 352)
 *     V_ij = sigma_i^2 delta_ij + sum_k theta_k^2 (z_i - z_k)(z_j - z_k)(cs_i cs_j + sn_i sn_j).
 * The estimate is the generalised least-squares one, p = (H^T V^-1 H)^-1 H^T V^-1 m, with
 * chi2 = (m - H p)^T V^-1 (m - H p) and n - 4 degrees of freedom.
 *
 * Solution: a Kalman filter with the scattering as process noise (Frühwirth, NIM A262 (1987) 444;
 * the recursive form of Billoir's fit), run from the outermost plane towards z_ref so that its
 * final state is the wanted one and no smoother is needed (the straw left/right test only needs the
 * prediction at each plane from p, and its covariance). It runs in information form (Frühwirth
 * 1987 §3, the "weighted means" formulation; Frühwirth, Regler et al. §3.3): the state is kept as
 * the quadratic form  chi2(q) = q^T J q - 2 b^T q + c  of the line q seen by the planes processed so
 * far, expressed at z_ref (so propagation is the identity), which starts from J = 0 (no prior:
 * the filter is then exactly the least-squares estimator, not an approximation with a large
 * starting covariance). A measurement adds J += h h^T / sigma^2, b += h m / sigma^2,
 * c += m^2 / sigma^2. Passing the scatterer k (q_outer = q_inner + G w, w ~ N(0, theta^2 1))
 * minimises over w (the Gaussian marginal, Woodbury's identity):
 *     M = G^T J G + 1/theta^2,  K = J G M^-1,
 *     J -= K G^T J,  b -= K G^T b,  c -= (G^T b)^T M^-1 (G^T b).
 * Measurements on both sides of z_ref scatter independently: one filter per side, the two forms added;
 * scatterers at one z are merged (their variances add). Then p = J^-1 b, cov = J^-1, and
 * chi2 = c - b^T p. That last difference loses the digits of sum m^2/sigma^2 (~1e6 for cm positions
 * and 100 um errors), so in the general (stereo) form a second sweep replays the same gains on the
 * residuals m - H p: it gives chi2 without cancellation and a correction to p (one step of
 * iterative refinement). Layouts of x and y planes only (NA64's) keep J block diagonal: two
 * 2-parameter filters with scalar M, summing the residuals about a reference line from the start
 * (through the outermost hits of each view, or the previous pass's fit), which makes the second
 * sweep unnecessary. Cost O(n) per fit (the dense Cholesky it replaces was O(n^3); both are the
 * same estimator: tests/reco/test_track_fit.c compares them with the old code,
 * tests/reco/track_fit_dense.h).
 *
 * Scattering angle: Highland's formula (PDG RPP 2024, "Passage of particles through matter",
 * Eq. 34.15) theta0 = 13.6 MeV / (beta c p) z sqrt(x/X0) [1 + 0.038 ln(x z^2 / (X0 beta^2))];
 * the PDG advises applying the logarithm to the total thickness, so each plane gets
 * theta_k^2 = theta0(X_total)^2 x_k / X_total (beta = 1: electrons and muons of >= 1 GeV). Every
 * measurement, used in the fit or not, is a scatterer (straw hits of one layer each count).
 * Straw left/right. A straw hit is wire u_w +- drift radius r. The first fit uses the clusters and
 * the straw hits with a side guess (e.g. the local segment's, docs/straw.md §3); then every straw hit
 * takes the side nearest the prediction h.p, is kept if within `road` standard deviations
 * (sigma_r, the prediction error h^T C h and its own scattering variance), one hit per layer, and
 * the fit is redone, until no side changes (3 passes at most).
 */
#include <math.h>
#include <string.h>

#include "na64/reco.h"

#define HIGHLAND_E0 0.0136 /* GeV, PDG RPP 2024 Eq. 34.15 */
#define HIGHLAND_LOG 0.038
#define MAX_PASSES 3
#define SAME_LAYER_DZ 1e-3 /* cm: straw hits of one plane at the same z belong to one layer */
#define Z_TIE 1e-9         /* cm: a scatterer acts on the planes more than this further from z_ref */

double na64_highland_theta0(double p, double beta, double x_x0)
{
  if (!(p > 0.0) || !(beta > 0.0) || !(x_x0 > 0.0)) return 0.0;
  return HIGHLAND_E0 / (beta * p) * sqrt(x_x0) * (1.0 + HIGHLAND_LOG * log(x_x0 / (beta * beta)));
}

/* The quadratic form chi2(q) = q^T J q - 2 b^T q + c of the line q at z_ref (J kept symmetric). */
typedef struct info_form {
  double J[4][4], b[4], c;
} info_form;

/* One step of a filter sweep: a measurement to add or a scatterer to pass (with its gain, kept from
 * the first sweep for the residual sweep). Scatterers at one z are merged (their angles add in
 * quadrature: independent Gaussian kicks of the same G). */
typedef struct fit_step {
  int i;            /* measurement index (of the scatterer: one of those at its z) */
  int scatter;      /* 1: pass a scatterer; 0: add measurement i */
  double zk, theta2; /* scatterer: z - z_ref, summed variance */
  double K[4][2];   /* J G M^-1 */
  double Mi[3];     /* M^-1: (0,0), (0,1), (1,1) */
} fit_step;

enum { MEAS_X = 1, MEAS_Y = 2, MEAS_XY = 4, MEAS_STRAW = 8 };

typedef struct fit_work {
  int order[2][NA64_TRACK_MAX_MEAS]; /* per side of z_ref (-, +): the measurements by |z - z_ref|, outermost first */
  int norder[2];
  double theta2[NA64_TRACK_MAX_MEAS]; /* scattering variance of each plane, rad^2 */
  double var_ms[NA64_TRACK_MAX_MEAS]; /* scattering variance of each measured u, cm^2 */
  /* Per measurement, computed once per na64_track_fit call (the same operations the passes repeated):
   * z - z_ref and its absolute value; for the x/y form the view (1: y), the two non-zero terms of h
   * and the weight 1/sigma^2. */
  double dz[NA64_TRACK_MAX_MEAS], az[NA64_TRACK_MAX_MEAS];
  double h0[NA64_TRACK_MAX_MEAS], h1[NA64_TRACK_MAX_MEAS], wt[NA64_TRACK_MAX_MEAS];
  int view[NA64_TRACK_MAX_MEAS];
  uint8_t kind[NA64_TRACK_MAX_MEAS]; /* MEAS_X | MEAS_Y | MEAS_XY | MEAS_STRAW, as fit_used counts them */
  fit_step step[4 * NA64_TRACK_MAX_MEAS];
  int nstep, side_start;               /* steps; first step of the + side */
} fit_work;

static double meas_value(const na64_track_meas *m) { return m->r < 0.0 ? m->u : m->u + m->side * m->r; }

static void meas_h(const na64_track_meas *m, double z_ref, double h[4])
{
  double dz = m->z - z_ref;
  h[0] = m->cs, h[1] = m->cs * dz, h[2] = m->sn, h[3] = m->sn * dz;
}

/* The per-measurement terms of fit_work (dz, az; view, h0, h1, wt as the x/y sweep uses them; the
 * kind fit_used counts; theta_k^2 of the plane: Highland with the log of the total thickness `total`,
 * t02 = theta0(total)^2, scat: momentum and material both positive), and the first use of every
 * measurement: clusters, and the straw hits with a side guess (a non-finite radius has none). */
static void measurement_terms(na64_track_meas *m, int n, double z_ref, int scat, double t02, double total, fit_work *w)
{
  for (int i = 0; i < n; ++i) {
    w->theta2[i] = scat && m[i].x_x0 > 0.0 ? t02 * m[i].x_x0 / total : 0.0;
    int v = m[i].cs == 0.0;
    double dz = m[i].z - z_ref, h0 = v ? m[i].sn : m[i].cs;
    w->dz[i] = dz, w->az[i] = fabs(dz);
    w->view[i] = v, w->h0[i] = h0, w->h1[i] = h0 * dz, w->wt[i] = 1.0 / (m[i].sigma * m[i].sigma);
    w->kind[i] = (uint8_t)((fabs(m[i].cs) > 0.1 ? MEAS_X : 0) | (fabs(m[i].sn) > 0.1 ? MEAS_Y : 0) |
                           (m[i].cs == 0.0 || m[i].sn == 0.0 ? MEAS_XY : 0) | (m[i].r >= 0.0 ? MEAS_STRAW : 0));
    if (m[i].r >= 0.0 && !isfinite(m[i].r)) m[i].side = 0;
    m[i].used = m[i].r < 0.0 || m[i].side != 0;
    if (m[i].side) m[i].side = m[i].side > 0 ? 1 : -1;
  }
}

/* The measurements of each side of z_ref (z - z_ref < 0, >= 0; one at z_ref scatters both sides, as
 * in V above), outermost first: sorted by z by insertion (they come nearly in z order), the + side
 * then reversed. */
static void sort_sides(const na64_track_meas *m, int n, fit_work *w)
{
  w->norder[0] = w->norder[1] = 0;
  for (int i = 0; i < n; ++i) { /* one pass for both lists: each gets its measurements in index order */
    double dz = w->dz[i], zi = m[i].z;
    for (int s = 0; s < 2; ++s) {
      if (s ? dz < 0.0 : dz > 0.0) continue;
      int *o = w->order[s], t = w->norder[s]++;
      while (t > 0 && m[o[t - 1]].z > zi) o[t] = o[t - 1], --t;
      o[t] = i;
    }
  }
  for (int a = 0, b = w->norder[1] - 1; a < b; ++a, --b) {
    int x = w->order[1][a];
    w->order[1][a] = w->order[1][b], w->order[1][b] = x;
  }
}

/* Scattering variance of each measured coordinate, sum_k theta_k^2 (z_i - z_k)^2 (cs^2 + sn^2) over the
 * scatterers of its side nearer z_ref, from running sums of theta^2 (1, z, z^2) (innermost first). */
static void scattering_of_planes(const na64_track_meas *m, fit_work *w)
{
  for (int s = 1; s >= 0; --s) { /* the + side last: a measurement at z_ref belongs to it */
    const int *o = w->order[s];
    double s0 = 0.0, s1 = 0.0, s2 = 0.0;
    for (int t = w->norder[s] - 1, q = t; t >= 0; --t) {
      int i = o[t];
      double zi = w->dz[i], azi = w->az[i] - Z_TIE;
      for (; q >= 0 && w->az[o[q]] < azi; --q) {
        double zk = w->dz[o[q]], th2 = w->theta2[o[q]];
        s0 += th2, s1 += th2 * zk, s2 += th2 * zk * zk;
      }
      w->var_ms[i] = (zi * zi * s0 - 2.0 * zi * s1 + s2) * (m[i].cs * m[i].cs + m[i].sn * m[i].sn);
    }
  }
}

/* The same for layouts of x and y planes only (cs or sn zero for every measurement, as NA64's):
 * J stays block diagonal, (x0, tx) and (y0, ty) filtered apart with scalar M (four times fewer
 * operations); one sweep per fit (no residual sweep), so the gains are not kept. */
typedef struct info_xy {
  double J[2][3]; /* per view: J00, J01, J11 */
  double b[2][2], c;
} info_xy;

static void pass_scatterer_xy(info_xy *f, const fit_step *st)
{
  double zk = st->zk, it2 = 1.0 / st->theta2;
  for (int v = 0; v < 2; ++v) {
    double *J = f->J[v], *b = f->b[v];
    double J0 = J[0], J1 = J[1], J2 = J[2];
    double u0 = J1 - zk * J0, u1 = J2 - zk * J1; /* J g, g = (-zk, 1) */
    double mi = 1.0 / (u1 - zk * u0 + it2), k0 = u0 * mi, k1 = u1 * mi;
    J[0] = J0 - k0 * u0, J[1] = J1 - k0 * u1, J[2] = J2 - k1 * u1;
    double b0 = b[0], b1 = b[1], g = b1 - zk * b0;
    b[0] = b0 - k0 * g, b[1] = b1 - k1 * g;
    f->c -= mi * g * g;
  }
}

/* Add measurement i, minus h.p of the reference line p (or NULL), to the x/y form f. */
static void add_meas_xy(const na64_track_meas *m, const fit_work *w, int i, const double *p, info_xy *f)
{
  int v = w->view[i];
  double h0 = w->h0[i], h1 = w->h1[i], wt = w->wt[i], y = meas_value(&m[i]);
  if (p) y -= h0 * p[2 * v] + h1 * p[2 * v + 1];
  f->J[v][0] += h0 * h0 * wt, f->J[v][1] += h0 * h1 * wt, f->J[v][2] += h1 * h1 * wt;
  f->b[v][0] += h0 * y * wt, f->b[v][1] += h1 * y * wt;
  f->c += y * y * wt;
}

/* The steps of the filter of one side for the measurements marked used: each used measurement in
 * turn, outermost first, and before it every scatterer between it and the previous one (a scatterer
 * level with the previous measurement, or before any, acts on no measurement of the fit and is left
 * out; those nearer z_ref than the last measurement still act on all of them).
 * With f (the x/y form), the steps are not stored but run at once into f, relative to the reference
 * line p: the same scatterers (merged the same way) and measurements in the same order. */
static void plan_side(const na64_track_meas *m, double z_ref, int s, fit_work *w, const double *p, info_xy *f)
{
  fit_step pend; /* x/y form: the scatterer waiting for those at its z */
  pend.zk = pend.theta2 = 0.0;
  int npend = 0;
  if (f) memset(f, 0, sizeof *f);
  const int *o = w->order[s];
  int no = w->norder[s], q = 0, any = 0;
  double last = HUGE_VAL;
  for (int t = 0; t <= no; ++t) {
    int i = t < no ? o[t] : -1;
    if (i >= 0 && (!m[i].used || (s == 0 && m[i].z == z_ref))) continue;
    double a = i >= 0 ? w->az[i] : -HUGE_VAL, a_tie = a - Z_TIE;
    for (; q < no && w->az[o[q]] >= a_tie; ++q) {
      double zk = w->dz[o[q]], th2 = w->theta2[o[q]];
      if (!any || !(th2 > 0.0) || !(fabs(zk) < last - Z_TIE)) continue;
      if (f) {
        if (npend && pend.zk == zk) {
          pend.theta2 += th2;
          continue;
        }
        if (npend) pass_scatterer_xy(f, &pend);
        pend.zk = zk, pend.theta2 = th2, npend = 1;
        continue;
      }
      fit_step *prev = w->nstep > 0 ? &w->step[w->nstep - 1] : NULL;
      if (prev && prev->scatter && prev->zk == zk) {
        prev->theta2 += th2;
        continue;
      }
      fit_step *st = &w->step[w->nstep++]; /* (the gains are written by the first sweep) */
      st->i = o[q], st->scatter = 1, st->zk = zk, st->theta2 = th2;
    }
    if (npend) pass_scatterer_xy(f, &pend), npend = 0;
    if (i < 0) break;
    if (f) add_meas_xy(m, w, i, p, f);
    else w->step[w->nstep].i = i, w->step[w->nstep++].scatter = 0;
    last = a, any = 1;
  }
}

/* Pass the scatterer of step st (first sweep: computes and keeps the gain). */
static void pass_scatterer(info_form *f, fit_step *st, int first)
{
  double(*J)[4] = f->J, zk = st->zk, theta2 = st->theta2;
  if (first) {
    double u[4], v[4]; /* J G, columns x and y: J (-zk, 1, 0, 0)^T, J (0, 0, -zk, 1)^T */
    for (int r = 0; r < 4; ++r) u[r] = J[r][1] - zk * J[r][0], v[r] = J[r][3] - zk * J[r][2];
    double m00 = u[1] - zk * u[0] + 1.0 / theta2, m01 = v[1] - zk * v[0], m11 = v[3] - zk * v[2] + 1.0 / theta2;
    double det = m00 * m11 - m01 * m01;
    st->Mi[0] = m11 / det, st->Mi[1] = -m01 / det, st->Mi[2] = m00 / det;
    for (int r = 0; r < 4; ++r) {
      st->K[r][0] = st->Mi[0] * u[r] + st->Mi[1] * v[r];
      st->K[r][1] = st->Mi[1] * u[r] + st->Mi[2] * v[r];
    }
    for (int r = 0; r < 4; ++r)
      for (int c = r; c < 4; ++c) J[r][c] = J[c][r] = J[r][c] - (st->K[r][0] * u[c] + st->K[r][1] * v[c]);
  }
  double g0 = f->b[1] - zk * f->b[0], g1 = f->b[3] - zk * f->b[2];
  for (int r = 0; r < 4; ++r) f->b[r] -= st->K[r][0] * g0 + st->K[r][1] * g1;
  f->c -= st->Mi[0] * g0 * g0 + 2.0 * st->Mi[1] * g0 * g1 + st->Mi[2] * g1 * g1;
}

/* One sweep over the steps from..to into f: the first (J, b, gains) with the measurements, or the
 * residual sweep (b, c) with the measurements minus h.p. */
static void sweep(const na64_track_meas *m, double z_ref, fit_work *w, int from, int to, const double *p, info_form *f)
{
  memset(f, 0, sizeof *f);
  for (int t = from; t < to; ++t) {
    fit_step *st = &w->step[t];
    const na64_track_meas *mi = &m[st->i];
    if (st->scatter) {
      pass_scatterer(f, st, p == NULL);
      continue;
    }
    double h[4], wt = 1.0 / (mi->sigma * mi->sigma), v = meas_value(mi);
    meas_h(mi, z_ref, h);
    if (p) v -= h[0] * p[0] + h[1] * p[1] + h[2] * p[2] + h[3] * p[3];
    for (int r = 0; r < 4; ++r) {
      f->b[r] += h[r] * v * wt;
      if (!p)
        for (int c = r; c < 4; ++c) f->J[r][c] = f->J[c][r] = f->J[r][c] + h[r] * h[c] * wt;
    }
    f->c += v * v * wt;
  }
}

/* Inverse of the symmetric positive-definite 4x4 matrix A (Gauss-Jordan with pivoting); 0 if singular. */
static int invert4(const double A[4][4], double inv[4][4])
{
  double M[4][8];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 8; ++j) M[i][j] = j < 4 ? A[i][j] : (j - 4 == i);
  double scale = 0.0;
  for (int i = 0; i < 4; ++i) scale = fmax(scale, fabs(A[i][i]));
  for (int c = 0; c < 4; ++c) {
    int piv = c;
    for (int r = c + 1; r < 4; ++r)
      if (fabs(M[r][c]) > fabs(M[piv][c])) piv = r;
    if (!(fabs(M[piv][c]) > 1e-12 * scale)) return 0;
    for (int j = 0; j < 8; ++j) {
      double t = M[c][j];
      M[c][j] = M[piv][j], M[piv][j] = t;
    }
    double d = M[c][c];
    for (int j = 0; j < 8; ++j) M[c][j] /= d;
    for (int r = 0; r < 4; ++r) {
      if (r == c || M[r][c] == 0.0) continue;
      double f = M[r][c];
      for (int j = 0; j < 8; ++j) M[r][j] -= f * M[c][j];
    }
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) inv[i][j] = M[i][4 + j];
  return 1;
}

/* Both sides in the x/y form, relative to the reference line p, into the 4x4 information J, b and c. */
static void sweeps_xy(const na64_track_meas *m, double z_ref, fit_work *w, const double *p, double J[4][4], double b[4],
                      double *c)
{
  info_xy lo, hi;
  plan_side(m, z_ref, 0, w, p, &lo);
  plan_side(m, z_ref, 1, w, p, &hi);
  memset(J, 0, 16 * sizeof(double));
  for (int v = 0; v < 2; ++v) {
    J[2 * v][2 * v] = lo.J[v][0] + hi.J[v][0];
    J[2 * v][2 * v + 1] = J[2 * v + 1][2 * v] = lo.J[v][1] + hi.J[v][1];
    J[2 * v + 1][2 * v + 1] = lo.J[v][2] + hi.J[v][2];
    b[2 * v] = lo.b[v][0] + hi.b[v][0], b[2 * v + 1] = lo.b[v][1] + hi.b[v][1];
  }
  *c = lo.c + hi.c;
}

/* Both sides in the general form. */
static void sweeps_4(const na64_track_meas *m, double z_ref, fit_work *w, const double *p, double J[4][4], double b[4],
                     double *c)
{
  info_form lo, hi;
  sweep(m, z_ref, w, 0, w->side_start, p, &lo);
  sweep(m, z_ref, w, w->side_start, w->nstep, p, &hi);
  for (int r = 0; r < 4; ++r) {
    b[r] = lo.b[r] + hi.b[r];
    for (int k = 0; k < 4; ++k) J[r][k] = lo.J[r][k] + hi.J[r][k];
  }
  *c = lo.c + hi.c;
}

/* invert4 for a block-diagonal J (x and y views apart): the two 2 x 2 blocks in closed form, singular
 * under invert4's criterion (a pivot of partial pivoting below 1e-12 of the largest diagonal term). */
static int invert_xy(const double A[4][4], double inv[4][4])
{
  double scale = 0.0;
  for (int i = 0; i < 4; ++i) scale = fmax(scale, fabs(A[i][i]));
  memset(inv, 0, 16 * sizeof(double));
  for (int v = 0; v < 4; v += 2) {
    double a = A[v][v], b = A[v][v + 1], d = A[v + 1][v + 1], det = a * d - b * b, piv = fmax(fabs(a), fabs(b));
    if (!(piv > 1e-12 * scale) || !(fabs(det) / piv > 1e-12 * scale)) return 0;
    inv[v][v] = d / det, inv[v][v + 1] = inv[v + 1][v] = -b / det, inv[v + 1][v + 1] = a / det;
  }
  return 1;
}

/* A reference line for the x/y form: per view, through the used measurements of smallest and largest
 * z (a constant if they share z). The filter then sums residuals of the order of the scattering and
 * the errors, not of the positions, so chi2 = c - b.dp keeps its digits without a second sweep. */
static void reference_xy(const na64_track_meas *m, int n, double z_ref, double p0[4])
{
  int lo[2] = {-1, -1}, hi[2] = {-1, -1};
  for (int i = 0; i < n; ++i) {
    if (!m[i].used) continue;
    int v = m[i].cs == 0.0;
    if (lo[v] < 0 || m[i].z < m[lo[v]].z) lo[v] = i;
    if (hi[v] < 0 || m[i].z > m[hi[v]].z) hi[v] = i;
  }
  for (int v = 0; v < 2; ++v) {
    p0[2 * v] = p0[2 * v + 1] = 0.0;
    if (lo[v] < 0) continue;
    const na64_track_meas *a = &m[lo[v]], *b = &m[hi[v]];
    double ua = meas_value(a) / (v ? a->sn : a->cs), ub = meas_value(b) / (v ? b->sn : b->cs);
    p0[2 * v + 1] = b->z > a->z ? (ub - ua) / (b->z - a->z) : 0.0;
    p0[2 * v] = ua - p0[2 * v + 1] * (a->z - z_ref);
  }
}

/* The least-squares fit of the measurements marked used: the filters of both sides, then (general
 * form) the residual sweep, or (x/y form) one sweep relative to a reference line, the previous
 * fit's if prev. */
static int fit_used(const na64_track_meas *m, int n, double z_ref, fit_work *w, int prev, na64_track_line *out,
                    na64_err *err)
{
  int nx = 0, ny = 0, nstraw = 0, k = 0, xy = 1;
  for (int i = 0; i < n; ++i) {
    if (!m[i].used) continue;
    int kd = w->kind[i];
    ++k;
    nx += (kd & MEAS_X) != 0, ny += (kd & MEAS_Y) != 0, nstraw += (kd & MEAS_STRAW) != 0;
    xy &= (kd & MEAS_XY) != 0;
  }
  if (nx < 2 || ny < 2)
    return na64_err_set(err, NA64_ENOTFOUND, "track fit: %d x- and %d y-measuring hits (2 of each needed)", nx, ny);
  double J[4][4], b[4], c, p0[4] = {0.0, 0.0, 0.0, 0.0};
  if (xy) {
    if (prev) memcpy(p0, out->p, sizeof p0);
    else reference_xy(m, n, z_ref, p0);
    sweeps_xy(m, z_ref, w, p0, J, b, &out->chi2);
  } else {
    w->nstep = 0;
    plan_side(m, z_ref, 0, w, NULL, NULL);
    w->side_start = w->nstep;
    plan_side(m, z_ref, 1, w, NULL, NULL);
    sweeps_4(m, z_ref, w, NULL, J, b, &c);
  }
  if (!(xy ? invert_xy(J, out->cov) : invert4(J, out->cov)))
    return na64_err_set(err, NA64_ENOTFOUND, "track fit: singular system (%d hits; planes at one z or parallel strips?)", k);
  if (xy)
    memcpy(out->p, p0, sizeof p0);
  else { /* the estimate, then the residual sweep: chi2 without cancellation, and the refinement of p */
    for (int r = 0; r < 4; ++r) {
      out->p[r] = 0.0;
      for (int q = 0; q < 4; ++q) out->p[r] += out->cov[r][q] * b[q];
    }
    sweeps_4(m, z_ref, w, out->p, J, b, &out->chi2);
  }
  double dp[4];
  for (int r = 0; r < 4; ++r) {
    dp[r] = 0.0;
    for (int q = 0; q < 4; ++q) dp[r] += out->cov[r][q] * b[q];
    out->chi2 -= b[r] * dp[r];
  }
  for (int r = 0; r < 4; ++r) out->p[r] += dp[r];
  if (out->chi2 < 0.0) out->chi2 = 0.0;
  out->z_ref = z_ref, out->nused = k, out->nstraw = nstraw, out->ndf = k - 4;
  return NA64_OK;
}

/* Straw hits: side nearest the prediction, kept within the road, one per layer. 1 if anything changed. */
static int assign_straws(na64_track_meas *m, int n, const fit_work *w, const na64_track_line *f, double road)
{
  double pull[NA64_TRACK_MAX_MEAS];
  int8_t side[NA64_TRACK_MAX_MEAS];
  for (int i = 0; i < n; ++i) {
    pull[i] = HUGE_VAL, side[i] = 0;
    if (m[i].r < 0.0 || !isfinite(m[i].r)) continue;
    double h[4], pred = 0.0, var = m[i].sigma * m[i].sigma + w->var_ms[i];
    int c0 = m[i].cs == 0.0 ? 2 : 0, c1 = m[i].sn == 0.0 ? 2 : 4; /* the terms of h that are not zero */
    if (c1 - c0 == 2) { /* an x or a y plane: the loops below written out, h from fit_work (same values, same order) */
      const double h0 = w->h0[i], h1 = w->h1[i], *C0 = f->cov[c0], *C1 = f->cov[c0 + 1];
      pred += h0 * f->p[c0];
      pred += h1 * f->p[c0 + 1];
      var += h0 * C0[c0] * h0;
      var += h0 * C0[c0 + 1] * h1;
      var += h1 * C1[c0] * h0;
      var += h1 * C1[c0 + 1] * h1;
    } else {
      meas_h(&m[i], f->z_ref, h);
      for (int c = c0; c < c1; ++c) {
        pred += h[c] * f->p[c];
        for (int d = c0; d < c1; ++d) var += h[c] * f->cov[c][d] * h[d];
      }
    }
    side[i] = pred >= m[i].u ? 1 : -1;
    pull[i] = fabs(m[i].u + side[i] * m[i].r - pred) / sqrt(var);
  }
  /* One hit per layer: the best pull. Only the hits within the road compete, and only with those
   * less than SAME_LAYER_DZ away in z: the candidates in z order (the sides' lists), scanned from
   * each hit's position, the hits taken in index order as a full scan would. */
  int zc[NA64_TRACK_MAX_MEAS], pos[NA64_TRACK_MAX_MEAS], nc = 0;
  for (int t = 0; t < w->norder[0]; ++t) {
    int i = w->order[0][t];
    if (pull[i] <= road && m[i].z != f->z_ref) pos[i] = nc, zc[nc++] = i;
  }
  for (int t = w->norder[1] - 1; t >= 0; --t) {
    int i = w->order[1][t];
    if (pull[i] <= road) pos[i] = nc, zc[nc++] = i;
  }
  for (int i = 0; i < n; ++i) {
    if (!(pull[i] <= road)) continue;
    for (int dir = -1; dir <= 1 && pull[i] <= road; dir += 2)
      for (int b = pos[i] + dir; b >= 0 && b < nc && fabs(m[zc[b]].z - m[i].z) < SAME_LAYER_DZ && pull[i] <= road; b += dir) {
        int j = zc[b];
        if (m[j].plane == m[i].plane && pull[j] <= road && (pull[j] < pull[i] || (pull[j] == pull[i] && j < i)))
          pull[i] = HUGE_VAL;
      }
  }
  int changed = 0;
  for (int i = 0; i < n; ++i) {
    if (m[i].r < 0.0) continue;
    int8_t s = pull[i] <= road ? side[i] : 0;
    changed |= s != (m[i].used ? m[i].side : 0);
    m[i].side = s, m[i].used = s != 0;
  }
  return changed;
}

int na64_track_fit(na64_track_meas *m, int n, double z_ref, double momentum, double road, na64_track_line *out,
                   na64_err *err)
{
  if (!out || (n > 0 && !m)) return na64_err_set(err, NA64_EINVAL, "na64_track_fit: NULL argument");
  if (n < 0 || n > NA64_TRACK_MAX_MEAS)
    return na64_err_set(err, NA64_EINVAL, "na64_track_fit: %d measurements (0..%d)", n, NA64_TRACK_MAX_MEAS);
  if (!isfinite(z_ref)) return na64_err_set(err, NA64_EINVAL, "na64_track_fit: reference z %g", z_ref);
  double total = 0.0; /* radiation lengths of all the planes */
  for (int i = 0; i < n; ++i) {
    if (!isfinite(m[i].z) || !isfinite(m[i].u) || !(m[i].sigma > 0.0) || !(m[i].x_x0 >= 0.0))
      return na64_err_set(err, NA64_EINVAL, "na64_track_fit: measurement %d (plane %d): z %g, u %g, sigma %g, x/X0 %g",
                          i, (int)m[i].plane, m[i].z, m[i].u, m[i].sigma, m[i].x_x0);
    total += m[i].x_x0 > 0.0 ? m[i].x_x0 : 0.0;
  }
  memset(out, 0, sizeof *out);
  if (!(road > 0.0)) road = 5.0;
  fit_work w;
  double t0 = momentum > 0.0 ? na64_highland_theta0(momentum, 1.0, total) : 0.0;
  measurement_terms(m, n, z_ref, momentum > 0.0 && total > 0.0, t0 * t0, total, &w);
  sort_sides(m, n, &w);
  scattering_of_planes(m, &w);
  NA64_CALL(fit_used(m, n, z_ref, &w, 0, out, err));
  for (int pass = 0; pass < MAX_PASSES && assign_straws(m, n, &w, out, road); ++pass)
    NA64_CALL(fit_used(m, n, z_ref, &w, 1, out, err));
  return NA64_OK;
}
