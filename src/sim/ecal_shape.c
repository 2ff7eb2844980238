/*
 * Lateral integration of the Grindhammer-Peters radial profile (hep-ex/0001020 eq. 13:
 * f(r) = p 2 r Rc^2/(r^2 + Rc^2)^2 + (1 - p) 2 r Rt^2/(r^2 + Rt^2)^2) over rectangular cells.
 *
 * Each component is, in the transverse plane, the normalised density R^2 / (pi (r^2 + R^2)^2). Its
 * integral over the quadrant [0, x] x [0, y] has the closed form (integrate in y, then in x)
 *   G(x, y) = [x/a atan(y/a) + y/b atan(x/b)] / (2 pi),  a = sqrt(x^2 + R^2), b = sqrt(y^2 + R^2),
 * and depends on x/R and y/R only: G(x, y; R) = G1(x/R, y/R). A cell [x1, x2] x [y1, y2] holds
 * G(x2, y2) - G(x1, y2) - G(x2, y1) + G(x1, y1) of the component. The density is not separable in
 * x and y, so G1 is tabulated in two dimensions: G1 is odd in each argument (the quadrants of a
 * centred density), so only u, v >= 0 are stored, on the map s = u/(u + C) of [0, inf) onto [0, 1)
 * (node s = 1 holds the limit u -> inf, G1(inf, v) = v/(4 sqrt(v^2 + 1))). In s the tail of G1
 * (1/4 - G1 ~ 1/(4 u^2) ~ (1 - s)^2/4) is smooth, so bilinear interpolation on a uniform grid is
 * accurate everywhere, from cells of 0.01 R to cells of 100 R.
 *
 * Accuracy (tests/sim/test_ecal_shape.c, 10^5 random cells of the 6 x 6 ECAL of 3.82 cm cells,
 * R log-uniform in 0.05-10 cm, axis anywhere within 2 cm of the matrix): with N = 128 nodes per axis
 * and C = 1 the largest error of a cell fraction is 5.4e-5 of the component's energy and the sum of
 * the absolute errors over the 36 cells of one slice at most 1.2e-4 (N = 64: 2.5e-4 and 5.6e-4;
 * N = 256: 1.5e-5). The tolerance is 1e-4 per cell: 10x below the sampling fluctuation of a cell
 * that holds 1e-3 of a 1 GeV shower (0.1 sqrt(E_cell) = 3e-3 GeV against 1e-4 GeV), and the
 * cells' sum is exact (the mixed differences telescope). The table is 129 x 129 doubles (130 kB;
 * doubles save the float-to-double conversions of the 8 loads per corner). The closed form cost
 * ~120k instructions per shower (98 atan per slice), the table ~34k (3.3k per slice).
 *
 * The corner grids of sim_lateral_corners_add read the table as quads (branch latsimd): for every
 * node (i, j) < N the four values a bilinear corner needs, T[j][i], T[j][i + 1], T[j + 1][i],
 * T[j + 1][i + 1], stored together in 32 bytes (lat_quad, 128 x 128 x 4 doubles = 512 kB, filled
 * from lat_tab once). The same doubles as lat_tab, so the corners are unchanged to the bit; a corner
 * component is then one aligned 32-byte load within one cache line instead of two 16-byte loads
 * from two table rows 1 kB apart (two lines). On the visible bench it cut the response time by ~4%
 * (docs/performance.md, latsimd).
 */
#include "sim/ecal_shape.h"
#include "sim/simd_switch.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
/* The corner loop on AVX where the CPU has it (GCC/Clang on x86-64: a function compiled for AVX,
 * chosen at run time, as src/reco/calo.c does): two corners per 256-bit operation, the same
 * multiplications and additions in the same order lane by lane as the SSE2 loop (no FMA), so the
 * corners are the same to the bit on either path (branch visresp). */
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__)
#define LAT_AVX 1
#include <immintrin.h>
#else
#define LAT_AVX 0
#endif

#define LAT_W (LAT_TAB_N + 1)

static double lat_tab[LAT_W * LAT_W];
/* the quads: node (i, j) at lat_quad[j LAT_QROW + 4 i] (row r0 at + 0, + 1; row r1 = r0 + 1 at + 2, + 3) */
#define LAT_QROW (4 * LAT_TAB_N)
#define LAT_Q_R1 2
static _Alignas(64) double lat_quad[LAT_TAB_N * LAT_QROW];
static pthread_once_t lat_once = PTHREAD_ONCE_INIT;

double sim_lateral_quadrant_exact(double u, double v)
{
  double a = sqrt(u * u + 1.0), b = sqrt(v * v + 1.0);
  return (u / a * atan(v / a) + v / b * atan(u / b)) * (0.5 / M_PI);
}

/* G1 at the table's mapped coordinates s, t in [0, 1] (1: the argument at infinity). */
static double quadrant_mapped(double s, double t)
{
  if (s >= 1.0 && t >= 1.0) return 0.25;
  if (s >= 1.0 || t >= 1.0) {
    double w = s >= 1.0 ? t : s, v = LAT_TAB_C * w / (1.0 - w);
    return 0.25 * v / sqrt(v * v + 1.0);
  }
  return sim_lateral_quadrant_exact(LAT_TAB_C * s / (1.0 - s), LAT_TAB_C * t / (1.0 - t));
}

static atomic_int lat_ready; /* 1 once lat_tab is filled */

static void lat_fill(void)
{
  for (int j = 0; j < LAT_W; ++j)
    for (int i = 0; i < LAT_W; ++i)
      lat_tab[j * LAT_W + i] = quadrant_mapped((double)i / LAT_TAB_N, (double)j / LAT_TAB_N);
  for (int j = 0; j < LAT_TAB_N; ++j)
    for (int i = 0; i < LAT_TAB_N; ++i) {
      double *q = lat_quad + j * LAT_QROW + 4 * i;
      const double *t = lat_tab + j * LAT_W + i;
      q[0] = t[0];
      q[1] = t[1];
      q[LAT_Q_R1] = t[LAT_W];
      q[LAT_Q_R1 + 1] = t[LAT_W + 1];
    }
  atomic_store_explicit(&lat_ready, 1, memory_order_release);
}

/* the table, filled once (pthread_once costs ~80 instructions a call even when done: an acquire
 * load first; branch visresp) */
static inline void lat_init(void)
{
  if (!atomic_load_explicit(&lat_ready, memory_order_acquire)) pthread_once(&lat_once, lat_fill);
}

/* One coordinate on the table: node index and the signed weights of the nodes idx and idx + 1
 * (the sign of the coordinate and the scale `k` folded in). */
typedef struct lat_node {
  int idx;
  double w0, w1;
} lat_node;

static lat_node lat_locate(double x, double inv_r, double k)
{
  double u = fabs(x) * inv_r, s = u / (u + LAT_TAB_C) * LAT_TAB_N;
  /* compared before the conversion: a NaN coordinate must not reach (int) (undefined); it keeps
   * w = NaN, so the cells come out NaN as from the closed form */
  int i = s < LAT_TAB_N - 1 ? (int)s : LAT_TAB_N - 1;
  double w = s - i, sg = x < 0.0 ? -k : k;
  lat_node n = {i, sg * (1.0 - w), sg * w};
  return n;
}

/* Bilinear value of the table at the nodes nx (column) and ny (row). */
static inline double lat_bilinear(lat_node nx, lat_node ny)
{
  const double *r = lat_tab + ny.idx * LAT_W + nx.idx;
  return ny.w0 * (nx.w0 * r[0] + nx.w1 * r[1]) + ny.w1 * (nx.w0 * r[LAT_W] + nx.w1 * r[LAT_W + 1]);
}

double sim_lateral_quadrant(double u, double v)
{
  lat_init();
  return lat_bilinear(lat_locate(u, 1.0, 1.0), lat_locate(v, 1.0, 1.0));
}

/* The nodes of the column edges ex[0..nx] (weights 1) and row edges ey[0..ny] (weights kc, kt) for
 * the core (radius Rc: cx, cy) and tail (Rt: tx, ty) components. */
static void locate_edges(int nx, int ny, const double *ex, const double *ey, double Rc, double Rt, double kc, double kt,
                         lat_node *cx, lat_node *tx, lat_node *cy, lat_node *ty)
{
  double ic = 1.0 / Rc, it = 1.0 / Rt;
  for (int i = 0; i <= nx; ++i) {
    cx[i] = lat_locate(ex[i], ic, 1.0);
    tx[i] = lat_locate(ex[i], it, 1.0);
  }
  for (int j = 0; j <= ny; ++j) {
    cy[j] = lat_locate(ey[j], ic, kc);
    ty[j] = lat_locate(ey[j], it, kt);
  }
}

/* The mixture p G(x, y; Rc) + (1 - p) G(x, y; Rt) at the grid corners, g[j (nx + 1) + i] for
 * (ex[i], ey[j]): both components in one pass over the corners (the weights p, 1 - p folded into
 * the row weights). */
static void mixture_corners(int nx, int ny, const double *ex, const double *ey, double p, double Rc, double Rt,
                            double *g)
{
  lat_node cx[LAT_MAX_EDGES], tx[LAT_MAX_EDGES], cy[LAT_MAX_EDGES], ty[LAT_MAX_EDGES];
  locate_edges(nx, ny, ex, ey, Rc, Rt, p, 1.0 - p, cx, tx, cy, ty);
  for (int j = 0; j <= ny; ++j) {
    /* the two table rows of each component for this corner row, weights hoisted out of the loop */
    const double *c0 = lat_tab + cy[j].idx * LAT_W, *c1 = c0 + LAT_W, *t0 = lat_tab + ty[j].idx * LAT_W, *t1 = t0 + LAT_W;
    const double cw0 = cy[j].w0, cw1 = cy[j].w1, tw0 = ty[j].w0, tw1 = ty[j].w1;
    double *gr = g + j * (nx + 1);
    for (int i = 0; i <= nx; ++i) {
      const int a = cx[i].idx, b = tx[i].idx;
      double vc0 = cx[i].w0 * c0[a] + cx[i].w1 * c0[a + 1], vc1 = cx[i].w0 * c1[a] + cx[i].w1 * c1[a + 1];
      double vt0 = tx[i].w0 * t0[b] + tx[i].w1 * t0[b + 1], vt1 = tx[i].w0 * t1[b] + tx[i].w1 * t1[b + 1];
      gr[i] = cw0 * vc0 + cw1 * vc1 + tw0 * vt0 + tw1 * vt1;
    }
  }
}

double sim_lateral_cells(int nx, int ny, const double *ex, const double *ey, double p, double Rc, double Rt,
                         double *frac)
{
  const int w = nx + 1;
  if (nx < 1 || ny < 1 || w > LAT_MAX_EDGES || ny + 1 > LAT_MAX_EDGES || w * (ny + 1) > LAT_MAX_CORNERS) return -1.0;
  lat_init();
  double g[LAT_MAX_CORNERS];
  mixture_corners(nx, ny, ex, ey, p, Rc, Rt, g);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const double *a = g + j * w + i;
      frac[j * nx + i] = a[w + 1] - a[1] - a[w] + a[0];
    }
  /* the mixed differences telescope: the whole grid's share from its four corners */
  return g[ny * w + nx] - g[ny * w] - g[nx] + g[0];
}

#if defined(__SSE2__)
/* lat_locate of x for both components at once: lanes (core, tail) with inv = (1/Rc, 1/Rt) and the
 * weights k = (kc, kt); the node indices go to idx[0], idx[1], the weights of nodes idx and idx + 1
 * to *w0, *w1. The same operations as lat_locate, lane by lane (the min before the conversion keeps
 * a NaN coordinate on the last node, with NaN weights). */
static inline void lat_locate2(double x, __m128d inv, __m128d k, int idx[2], __m128d *w0, __m128d *w1)
{
  const __m128d one = _mm_set1_pd(1.0), n = _mm_set1_pd(LAT_TAB_N), last = _mm_set1_pd(LAT_TAB_N - 1);
  __m128d u = _mm_mul_pd(_mm_set1_pd(fabs(x)), inv);
  __m128d sv = _mm_mul_pd(_mm_div_pd(u, _mm_add_pd(u, _mm_set1_pd(LAT_TAB_C))), n);
  __m128i i = _mm_cvttpd_epi32(_mm_min_pd(sv, last)); /* min(s, N - 1): N - 1 for NaN */
  __m128d w = _mm_sub_pd(sv, _mm_cvtepi32_pd(i));
  __m128d sg = x < 0.0 ? _mm_sub_pd(_mm_setzero_pd(), k) : k;
  *w0 = _mm_mul_pd(sg, _mm_sub_pd(one, w));
  *w1 = _mm_mul_pd(sg, w);
  idx[0] = _mm_cvtsi128_si32(i);
  idx[1] = _mm_cvtsi128_si32(_mm_shuffle_epi32(i, 1));
}
#endif

#if defined(__SSE2__)
/* a row of corners: the quad-table rows of each component (core c0, tail t0: the table rows r0 at
 * quad offset 0, r0 + 1 at LAT_Q_R1) and their weights (the component's energy and the row
 * coordinate's sign folded in) */
typedef struct lat_row {
  const double *c0, *t0;
  double cw0, cw1, tw0, tw1;
} lat_row;

/* corners i0..i1 of one row: (node a, node a + 1) of both table rows, weighted by the rows' and then
 * the columns' weights (ix: quad offsets 4 a, 4 b of the columns' nodes) */
static inline void corner_row_sse2(int i0, int i1, const int (*ix)[2], const __m128d *wxc, const __m128d *wxt,
                                   const lat_row *r, double *gr)
{
  const double *c0 = r->c0, *c1 = c0 + LAT_Q_R1, *t0 = r->t0, *t1 = t0 + LAT_Q_R1;
  const __m128d cw0 = _mm_set1_pd(r->cw0), cw1 = _mm_set1_pd(r->cw1), tw0 = _mm_set1_pd(r->tw0),
                tw1 = _mm_set1_pd(r->tw1);
  for (int i = i0; i <= i1; ++i) {
    const int a = ix[i][0], b = ix[i][1];
    __m128d vc = _mm_add_pd(_mm_mul_pd(_mm_loadu_pd(c0 + a), cw0), _mm_mul_pd(_mm_loadu_pd(c1 + a), cw1));
    __m128d vt = _mm_add_pd(_mm_mul_pd(_mm_loadu_pd(t0 + b), tw0), _mm_mul_pd(_mm_loadu_pd(t1 + b), tw1));
    __m128d v = _mm_add_pd(_mm_mul_pd(vc, wxc[i]), _mm_mul_pd(vt, wxt[i]));
    gr[i] += _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v)));
  }
}
#endif

#if LAT_AVX
/* the AVX corner loop or the SSE2 one (simd_switch.h); tests set the switch */
extern atomic_int sim_lateral_use_avx;
atomic_int sim_lateral_use_avx = -1;
static int lat_have_avx(void) { return sim_simd_enabled(&sim_lateral_use_avx, __builtin_cpu_supports("avx")); }

/* The corner rows two corners at a time: a corner component's quad (r0 a, r0 a + 1, r1 a, r1 a + 1)
 * in one load, times (w0, w0, w1, w1) of the row; the two corners' products regrouped as (r0 terms of
 * corner i, of corner i + 1) + (r1 terms ...), so the lanes are (corner i node a, node a + 1, corner
 * i + 1 node a', a' + 1) and each lane computes what corner_row_sse2 computes, in the same order
 * (r0 w0 + r1 w1); an odd last corner goes through corner_row_sse2. */
__attribute__((target("avx"))) static void corners_avx(int nx, int ny, const int (*ix)[2], const __m128d *wxc,
                                                       const __m128d *wxt, const lat_row *rows, double *g)
{
  for (int j = 0; j <= ny; ++j) {
    const lat_row *r = &rows[j];
    const double *c0 = r->c0, *t0 = r->t0;
    const __m256d cw = _mm256_set_pd(r->cw1, r->cw1, r->cw0, r->cw0), tw = _mm256_set_pd(r->tw1, r->tw1, r->tw0, r->tw0);
    double *gr = g + j * (nx + 1);
    int i = 0;
    for (; i + 1 <= nx; i += 2) {
      const int a0 = ix[i][0], b0 = ix[i][1], a1 = ix[i + 1][0], b1 = ix[i + 1][1];
      __m256d qc0 = _mm256_mul_pd(_mm256_load_pd(c0 + a0), cw), qc1 = _mm256_mul_pd(_mm256_load_pd(c0 + a1), cw);
      __m256d qt0 = _mm256_mul_pd(_mm256_load_pd(t0 + b0), tw), qt1 = _mm256_mul_pd(_mm256_load_pd(t0 + b1), tw);
      __m256d vc = _mm256_add_pd(_mm256_permute2f128_pd(qc0, qc1, 0x20), _mm256_permute2f128_pd(qc0, qc1, 0x31));
      __m256d vt = _mm256_add_pd(_mm256_permute2f128_pd(qt0, qt1, 0x20), _mm256_permute2f128_pd(qt0, qt1, 0x31));
      __m256d v = _mm256_add_pd(_mm256_mul_pd(vc, _mm256_loadu_pd((const double *)&wxc[i])),
                                _mm256_mul_pd(vt, _mm256_loadu_pd((const double *)&wxt[i])));
      __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
      __m128d sum = _mm_add_pd(_mm_unpacklo_pd(lo, hi), _mm_unpackhi_pd(lo, hi)); /* (v0 + v1, v2 + v3) */
      _mm_storeu_pd(gr + i, _mm_add_pd(_mm_loadu_pd(gr + i), sum));
    }
    if (i <= nx) corner_row_sse2(i, nx, ix, wxc, wxt, r, gr);
  }
}
#endif

int sim_lateral_corners_add(int nx, int ny, const double *ex, const double *ey, double wc, double Rc, double wt,
                            double Rt, double *g)
{
  const int w = nx + 1;
  if (nx < 1 || ny < 1 || w > LAT_MAX_EDGES || ny + 1 > LAT_MAX_EDGES || w * (ny + 1) > LAT_MAX_CORNERS) return -1;
  lat_init();
#if defined(__SSE2__)
  /* per column edge: the (node, node + 1) weights of each component; per row edge: the row weights */
  const __m128d inv = _mm_set_pd(1.0 / Rt, 1.0 / Rc);
  __m128d wxc[LAT_MAX_EDGES], wxt[LAT_MAX_EDGES];
  int ix[LAT_MAX_EDGES][2];
  for (int i = 0; i <= nx; ++i) {
    __m128d w0, w1;
    lat_locate2(ex[i], inv, _mm_set1_pd(1.0), ix[i], &w0, &w1);
    ix[i][0] *= 4; /* quad offsets */
    ix[i][1] *= 4;
    wxc[i] = _mm_unpacklo_pd(w0, w1);
    wxt[i] = _mm_unpackhi_pd(w0, w1);
  }
  const __m128d k = _mm_set_pd(wt, wc);
  lat_row rows[LAT_MAX_EDGES];
  for (int j = 0; j <= ny; ++j) {
    int iy[2];
    __m128d w0, w1;
    lat_locate2(ey[j], inv, k, iy, &w0, &w1);
    rows[j].c0 = lat_quad + iy[0] * LAT_QROW;
    rows[j].t0 = lat_quad + iy[1] * LAT_QROW;
    rows[j].cw0 = _mm_cvtsd_f64(w0);
    rows[j].cw1 = _mm_cvtsd_f64(w1);
    rows[j].tw0 = _mm_cvtsd_f64(_mm_unpackhi_pd(w0, w0));
    rows[j].tw1 = _mm_cvtsd_f64(_mm_unpackhi_pd(w1, w1));
  }
#if LAT_AVX
  if (lat_have_avx()) {
    corners_avx(nx, ny, (const int(*)[2])ix, wxc, wxt, rows, g);
    return 0;
  }
#endif
  for (int j = 0; j <= ny; ++j) corner_row_sse2(0, nx, ix, wxc, wxt, &rows[j], g + j * w);
#else
  lat_node cx[LAT_MAX_EDGES], tx[LAT_MAX_EDGES], cy[LAT_MAX_EDGES], ty[LAT_MAX_EDGES];
  locate_edges(nx, ny, ex, ey, Rc, Rt, wc, wt, cx, tx, cy, ty);
  for (int j = 0; j <= ny; ++j) {
    const double *c0 = lat_tab + cy[j].idx * LAT_W, *c1 = c0 + LAT_W, *t0 = lat_tab + ty[j].idx * LAT_W, *t1 = t0 + LAT_W;
    const double cw0 = cy[j].w0, cw1 = cy[j].w1, tw0 = ty[j].w0, tw1 = ty[j].w1;
    double *gr = g + j * w;
    for (int i = 0; i <= nx; ++i) {
      const int a = cx[i].idx, b = tx[i].idx;
      double vc0 = cw0 * c0[a] + cw1 * c1[a], vc1 = cw0 * c0[a + 1] + cw1 * c1[a + 1];
      double vt0 = tw0 * t0[b] + tw1 * t1[b], vt1 = tw0 * t0[b + 1] + tw1 * t1[b + 1];
      gr[i] += (cx[i].w0 * vc0 + tx[i].w0 * vt0) + (cx[i].w1 * vc1 + tx[i].w1 * vt1);
    }
  }
#endif
  return 0;
}

/* P(a, x) by the power series of A&S 6.5.29, gamma*(a, x) = e^-x sum_n x^n / Gamma(a + n + 1), i.e.
 * P = x^a e^-x / Gamma(a) sum_n x^n / (a (a + 1) ... (a + n)), for x < a + 1 (terms fall at least as
 * fast as x/(a + n)); else 1 - Q with Q from Legendre's continued fraction (A&S 6.5.31),
 * Q = x^a e^-x / Gamma(a) / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / (x + 5 - a - ...))),
 * evaluated forwards by the modified Lentz method (W. J. Lentz, Appl. Opt. 15 (1976) 668). GSL's
 * gsl_sf_gamma_inc_P does the same with error estimates and ln Gamma(a) at every call (~1.4k
 * instructions); the showers call it ~11 times with one a. */
#define GP_EPS 1e-15
double sim_gamma_p(double a, double x, double lg) { return sim_gamma_p_pre(a, x, lg, NULL); }

/* The same, with *pre = x^a e^-x / Gamma(a) (0 for x <= 0): then P(a + 1, x) = P(a, x) - pre / a
 * (A&S 6.5.21), which gives the mean depth of a slice of the profile without further functions. */
double sim_gamma_p_pre(double a, double x, double lg, double *pre_out)
{
  if (pre_out) *pre_out = 0.0;
  if (!(x > 0.0)) return 0.0;
  double pre = exp(a * log(x) - x - lg);
  if (pre_out) *pre_out = pre;
  if (x < a + 1.0) return fmin(pre * sim_gamma_series(a, x, GP_EPS), 1.0);
  return fmax(1.0 - pre * sim_gamma_cfrac(a, x, GP_EPS), 0.0);
}
