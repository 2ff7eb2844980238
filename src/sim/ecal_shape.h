/*
 * Lateral integration of the Grindhammer-Peters radial profile over the cells of a calorimeter
 * (src/sim/ecal_shape.c): the closed-form quadrant integral and the tabulated one the showers use;
 * and the regularised incomplete gamma function of the longitudinal profile.
 * Internal to libna64 (hidden); depends on libm and pthreads only, so its test compiles it directly.
 */
#ifndef NA64_SIM_ECAL_SHAPE_H
#define NA64_SIM_ECAL_SHAPE_H
#include <math.h>

/* Nodes per axis of the table of the unit-radius quadrant integral (and its argument scale): see
 * ecal_shape.c for the accuracy they give. */
#define LAT_TAB_N 128
#define LAT_TAB_C 1.0
/* Largest number of cell edges per axis and of cell corners that sim_lateral_cells accepts: any grid
 * of at most 64 cells (NA64_SIM_MAX_ECAL; (nx + 1)(ny + 1) <= 130 for nx ny <= 64). */
#define LAT_MAX_EDGES 65
#define LAT_MAX_CORNERS 160

/* Quadrant integral of the normalised 2-D density 1 / (pi (r^2 + 1)^2), r^2 = x^2 + y^2, over
 * [0, u] x [0, v] (signed: odd in u and in v), in closed form (libm atan). */
double sim_lateral_quadrant_exact(double u, double v);
/* The same from the table (bilinear interpolation); the table is built on the first call of any
 * sim_lateral_* function (thread-safe). */
double sim_lateral_quadrant(double u, double v);

/* Fractions of a two-component profile p f(r; Rc) + (1 - p) f(r; Rt) (f the normalised 2-D density
 * R^2 / (pi (r^2 + R^2)^2)) in the cells of a grid with edges ex[0..nx] and ey[0..ny] (cm, relative to
 * the shower axis, increasing): frac[j nx + i] for the cell [ex[i], ex[i+1]] x [ey[j], ey[j+1]].
 * Returns the fraction inside the whole grid (the sum of frac, up to rounding). nx + 1, ny + 1 <=
 * LAT_MAX_EDGES and (nx + 1)(ny + 1) <= LAT_MAX_CORNERS (else nothing is filled and -1 returned). */
double sim_lateral_cells(int nx, int ny, const double *ex, const double *ey, double p, double Rc, double Rt,
                         double *frac);

/* The corner form of the same integral, for callers that add many profiles on one grid (the visible
 * pair's showers, src/sim/fast_ecal.c sim_em_corners_add): g[j (nx + 1) + i] += wc G(ex[i], ey[j]; Rc) +
 * wt G(ex[i], ey[j]; Rt), G the quadrant integral. A cell's energy is then the mixed difference
 * g[j+1][i+1] - g[j+1][i] - g[j][i+1] + g[j][i] of the summed grid (wc, wt: energies of the
 * components), once per event instead of once per profile. The same table and interpolation as
 * sim_lateral_cells (SSE2: the two nodes of a row in one operation), so the cells agree with it to
 * rounding. Returns 0, or -1 (nothing added) for a grid beyond the limits of sim_lateral_cells. */
int sim_lateral_corners_add(int nx, int ny, const double *ex, const double *ey, double wc, double Rc, double wt,
                            double Rt, double *g);

/* Regularised lower incomplete gamma function P(a, x) = gamma(a, x) / Gamma(a), a > 0, x >= 0 (0 for
 * x <= 0), with lg = ln Gamma(a) supplied by the caller (one value per shower), to ~1e-14. */
double sim_gamma_p(double a, double x, double lg);
/* sim_gamma_p and, in *pre, x^a e^-x / Gamma(a) (for P(a + 1, x) = P(a, x) - pre / a) */
double sim_gamma_p_pre(double a, double x, double lg, double *pre);


/* The two expansions of the regularised incomplete gamma functions, for a > 0, x > 0, to a relative
 * eps per step (sim_gamma_p: 1e-15; vis_gamma_q_pre: 1e-10):
 * the series sum_n x^n / (a (a + 1) ... (a + n)) with P = pre * it (A&S 6.5.29), for x < a + 1, and
 * Legendre's continued fraction 1/(x + 1 - a -) 1 (1 - a)/(x + 3 - a -) 2 (2 - a)/(x + 5 - a -) ...
 * with Q = pre * it (A&S 6.5.31) by the modified Lentz method (Numerical Recipes 2nd ed., sec. 6.2 and
 * 5.2), for x >= a + 1; pre = x^a e^-x / Gamma(a). */
#define SIM_GAMMA_TINY 1e-300
#define SIM_GAMMA_MAXIT 1000
static inline double sim_gamma_series(double a, double x, double eps)
{
  double ap = a, term = 1.0 / a, sum = term;
  for (int n = 0; n < SIM_GAMMA_MAXIT && term > sum * eps; ++n) {
    ap += 1.0;
    term *= x / ap;
    sum += term;
  }
  return sum;
}
static inline double sim_gamma_cfrac(double a, double x, double eps)
{
  double b = x + 1.0 - a, c = 1.0 / SIM_GAMMA_TINY, d = 1.0 / b, h = d;
  for (int i = 1; i < SIM_GAMMA_MAXIT; ++i) {
    double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (fabs(d) < SIM_GAMMA_TINY) d = SIM_GAMMA_TINY;
    c = b + an / c;
    if (fabs(c) < SIM_GAMMA_TINY) c = SIM_GAMMA_TINY;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < eps) break;
  }
  return h;
}

#endif
