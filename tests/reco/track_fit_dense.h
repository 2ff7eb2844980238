/* Test oracle of tests/reco/test_track_fit.c: the dense generalised least-squares track fit that
 * src/reco/track_fit.c implemented before the Kalman (information) filter, kept verbatim apart from
 * the names (git history: commit 41662fc, src/reco/track_fit.c). The measurement covariance
 *     V_ij = sigma_i^2 delta_ij + sum_k theta_k^2 (z_i - z_k)(z_j - z_k)(cs_i cs_j + sn_i sn_j)
 * (Frühwirth, Regler et al., "Data Analysis Techniques for High-Energy Physics", CUP 2000, §3.3 and
 * §4.3; Billoir, NIM 225 (1984) 352) is built in full and whitened with its Cholesky factor, O(n^3):
 * the filter must give the same estimate, covariance, chi2 and straw sides on the same input. */
#ifndef NA64_TEST_TRACK_FIT_DENSE_H
#define NA64_TEST_TRACK_FIT_DENSE_H

#include <math.h>
#include <string.h>

#include "na64/reco.h"

#define DENSE_MAX_PASSES 3
#define DENSE_SAME_LAYER_DZ 1e-3 /* cm: straw hits of one plane at the same z belong to one layer */

typedef struct dense_fit_work {
  int idx[NA64_TRACK_MAX_MEAS];      /* measurements in the fit */
  int k;
  double theta2[NA64_TRACK_MAX_MEAS]; /* scattering variance of each plane, rad^2 */
  double S[NA64_TRACK_MAX_MEAS][3];   /* dense_scattering_moments */
  double L[NA64_TRACK_MAX_MEAS][NA64_TRACK_MAX_MEAS];
  double Y[NA64_TRACK_MAX_MEAS][4], y[NA64_TRACK_MAX_MEAS];
} dense_fit_work;

static double dense_meas_value(const na64_track_meas *m) { return m->r < 0.0 ? m->u : m->u + m->side * m->r; }

static void dense_meas_h(const na64_track_meas *m, double z_ref, double h[4])
{
  double dz = m->z - z_ref;
  h[0] = m->cs, h[1] = m->cs * dz, h[2] = m->sn, h[3] = m->sn * dz;
}

/* theta_k^2 of every measurement's plane (Highland with the log of the total thickness). */
static void dense_scattering_variances(const na64_track_meas *m, int n, double momentum, double *theta2)
{
  double total = 0.0;
  for (int i = 0; i < n; ++i) total += m[i].x_x0 > 0.0 ? m[i].x_x0 : 0.0;
  double t0 = na64_highland_theta0(momentum, 1.0, total);
  for (int i = 0; i < n; ++i) theta2[i] = total > 0.0 && m[i].x_x0 > 0.0 ? t0 * t0 * m[i].x_x0 / total : 0.0;
}

/* Moments of the scattering seen by each measurement i: S0, S1, S2 = sum theta_k^2 (1, zk, zk^2) over
 * the scatterers k between z_ref and it (same side, strictly nearer z_ref), zk relative to z_ref. */
static void dense_scattering_moments(const na64_track_meas *m, int n, const double *theta2, double z_ref, double (*S)[3])
{
  for (int i = 0; i < n; ++i) {
    double zi = m[i].z - z_ref;
    S[i][0] = S[i][1] = S[i][2] = 0.0;
    for (int k = 0; k < n; ++k) {
      double zk = m[k].z - z_ref;
      if (!(theta2[k] > 0.0) || zk * zi < 0.0 || fabs(zk) >= fabs(zi) - 1e-9) continue;
      S[i][0] += theta2[k], S[i][1] += theta2[k] * zk, S[i][2] += theta2[k] * zk * zk;
    }
  }
}

/* Scattering covariance of measurements a and b: sum_k theta_k^2 (za - zk)(zb - zk) over the
 * scatterers nearer z_ref than both = za zb S0 - (za + zb) S1 + S2 of the nearer one. */
static double dense_ms_cov(const na64_track_meas *m, const dense_fit_work *w, double z_ref, int a, int b)
{
  double za = m[a].z - z_ref, zb = m[b].z - z_ref;
  if (za * zb <= 0.0) return 0.0;
  const double *s = w->S[fabs(za) <= fabs(zb) ? a : b];
  return (za * zb * s[0] - (za + zb) * s[1] + s[2]) * (m[a].cs * m[b].cs + m[a].sn * m[b].sn);
}

/* In-place Cholesky factor of the k x k matrix L (lower triangle); 0 if not positive definite. */
static int dense_cholesky(double L[][NA64_TRACK_MAX_MEAS], int k)
{
  for (int j = 0; j < k; ++j) {
    double d = L[j][j];
    for (int c = 0; c < j; ++c) d -= L[j][c] * L[j][c];
    if (!(d > 0.0)) return 0;
    L[j][j] = sqrt(d);
    for (int i = j + 1; i < k; ++i) {
      double s = L[i][j];
      for (int c = 0; c < j; ++c) s -= L[i][c] * L[j][c];
      L[i][j] = s / L[j][j];
    }
  }
  return 1;
}

/* Inverse of the symmetric positive-definite 4x4 matrix A (Gauss-Jordan with pivoting); 0 if singular. */
static int dense_invert4(const double A[4][4], double inv[4][4])
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

/* The generalised least-squares fit of the measurements marked used. */
static int dense_fit_used(const na64_track_meas *m, int n, double z_ref, dense_fit_work *w, na64_track_line *out, na64_err *err)
{
  int nx = 0, ny = 0, nstraw = 0;
  w->k = 0;
  for (int i = 0; i < n; ++i) {
    if (!m[i].used) continue;
    w->idx[w->k++] = i;
    nx += fabs(m[i].cs) > 0.1;
    ny += fabs(m[i].sn) > 0.1;
    nstraw += m[i].r >= 0.0;
  }
  if (nx < 2 || ny < 2)
    return na64_err_set(err, NA64_ENOTFOUND, "track fit: %d x- and %d y-measuring hits (2 of each needed)", nx, ny);
  int k = w->k;
  for (int a = 0; a < k; ++a) {
    const na64_track_meas *ma = &m[w->idx[a]];
    for (int b = 0; b <= a; ++b) w->L[a][b] = dense_ms_cov(m, w, z_ref, w->idx[a], w->idx[b]);
    w->L[a][a] += ma->sigma * ma->sigma;
  }
  if (!dense_cholesky(w->L, k)) return na64_err_set(err, NA64_ENOTFOUND, "track fit: measurement covariance not positive (a zero resolution?)");
  for (int a = 0; a < k; ++a) { /* forward substitution: Y = L^-1 H, y = L^-1 m */
    const na64_track_meas *ma = &m[w->idx[a]];
    double h[4];
    dense_meas_h(ma, z_ref, h);
    double v = dense_meas_value(ma);
    for (int b = 0; b < a; ++b) {
      for (int c = 0; c < 4; ++c) h[c] -= w->L[a][b] * w->Y[b][c];
      v -= w->L[a][b] * w->y[b];
    }
    for (int c = 0; c < 4; ++c) w->Y[a][c] = h[c] / w->L[a][a];
    w->y[a] = v / w->L[a][a];
  }
  double A[4][4] = {{0}}, bv[4] = {0};
  for (int a = 0; a < k; ++a)
    for (int c = 0; c < 4; ++c) {
      bv[c] += w->Y[a][c] * w->y[a];
      for (int d = 0; d < 4; ++d) A[c][d] += w->Y[a][c] * w->Y[a][d];
    }
  if (!dense_invert4(A, out->cov))
    return na64_err_set(err, NA64_ENOTFOUND, "track fit: singular system (%d hits; planes at one z or parallel strips?)", k);
  for (int c = 0; c < 4; ++c) {
    out->p[c] = 0.0;
    for (int d = 0; d < 4; ++d) out->p[c] += out->cov[c][d] * bv[d];
  }
  out->chi2 = 0.0;
  for (int a = 0; a < k; ++a) {
    double r = w->y[a];
    for (int c = 0; c < 4; ++c) r -= w->Y[a][c] * out->p[c];
    out->chi2 += r * r;
  }
  out->z_ref = z_ref, out->nused = k, out->nstraw = nstraw, out->ndf = k - 4;
  return NA64_OK;
}

/* Straw hits: side nearest the prediction, kept within the road, one per layer. 1 if anything changed. */
static int dense_assign_straws(na64_track_meas *m, int n, const dense_fit_work *w, const na64_track_line *f, double road)
{
  double pull[NA64_TRACK_MAX_MEAS];
  int8_t side[NA64_TRACK_MAX_MEAS];
  for (int i = 0; i < n; ++i) {
    pull[i] = HUGE_VAL, side[i] = 0;
    if (m[i].r < 0.0 || !isfinite(m[i].r)) continue;
    double h[4], pred = 0.0, var = m[i].sigma * m[i].sigma + dense_ms_cov(m, w, f->z_ref, i, i);
    dense_meas_h(&m[i], f->z_ref, h);
    for (int c = 0; c < 4; ++c) {
      pred += h[c] * f->p[c];
      for (int d = 0; d < 4; ++d) var += h[c] * f->cov[c][d] * h[d];
    }
    side[i] = pred >= m[i].u ? 1 : -1;
    pull[i] = fabs(m[i].u + side[i] * m[i].r - pred) / sqrt(var);
  }
  for (int i = 0; i < n; ++i) /* one hit per layer: the best pull */
    for (int j = 0; j < n && pull[i] <= road; ++j)
      if (j != i && m[j].plane == m[i].plane && fabs(m[j].z - m[i].z) < DENSE_SAME_LAYER_DZ && pull[j] <= road &&
          (pull[j] < pull[i] || (pull[j] == pull[i] && j < i)))
        pull[i] = HUGE_VAL;
  int changed = 0;
  for (int i = 0; i < n; ++i) {
    if (m[i].r < 0.0) continue;
    int8_t s = pull[i] <= road ? side[i] : 0;
    changed |= s != (m[i].used ? m[i].side : 0);
    m[i].side = s, m[i].used = s != 0;
  }
  return changed;
}

static int dense_track_fit(na64_track_meas *m, int n, double z_ref, double momentum, double road, na64_track_line *out,
                   na64_err *err)
{
  if (!out || (n > 0 && !m)) return na64_err_set(err, NA64_EINVAL, "dense_track_fit: NULL argument");
  if (n < 0 || n > NA64_TRACK_MAX_MEAS)
    return na64_err_set(err, NA64_EINVAL, "dense_track_fit: %d measurements (0..%d)", n, NA64_TRACK_MAX_MEAS);
  for (int i = 0; i < n; ++i)
    if (!isfinite(m[i].z) || !isfinite(m[i].u) || !(m[i].sigma > 0.0) || !(m[i].x_x0 >= 0.0))
      return na64_err_set(err, NA64_EINVAL, "dense_track_fit: measurement %d (plane %d): z %g, u %g, sigma %g, x/X0 %g",
                          i, (int)m[i].plane, m[i].z, m[i].u, m[i].sigma, m[i].x_x0);
  memset(out, 0, sizeof *out);
  if (!(road > 0.0)) road = 5.0;
  dense_fit_work w;
  if (momentum > 0.0) dense_scattering_variances(m, n, momentum, w.theta2);
  else memset(w.theta2, 0, sizeof w.theta2);
  dense_scattering_moments(m, n, w.theta2, z_ref, w.S);
  for (int i = 0; i < n; ++i) {
    if (m[i].r >= 0.0 && !isfinite(m[i].r)) m[i].side = 0;
    m[i].used = m[i].r < 0.0 || m[i].side != 0;
    if (m[i].side) m[i].side = m[i].side > 0 ? 1 : -1;
  }
  NA64_CALL(dense_fit_used(m, n, z_ref, &w, out, err));
  for (int pass = 0; pass < DENSE_MAX_PASSES && dense_assign_straws(m, n, &w, out, road); ++pass)
    NA64_CALL(dense_fit_used(m, n, z_ref, &w, out, err));
  return NA64_OK;
}

#endif
