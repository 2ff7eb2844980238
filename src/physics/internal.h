/* Private declarations shared by the src/physics sources (not installed). */
#ifndef NA64_PHYSICS_INTERNAL_H
#define NA64_PHYSICS_INTERNAL_H

#include "na64/physics.h"

/* A rectangular grid f(x_i, y_j) read from "x,y,f" CSV rows (any row order), validated:
 * every value finite, f > 0, x and y strictly increasing after sorting, every (x, y) present once. */
typedef struct {
  int nx, ny;
  double *x, *y, *f; /* f[i * ny + j] */
} na64_grid2;

/* Parse CSV text (lines starting with '#' are comments; the first other line is the header).
 * `what` names the table in error messages ("dmg4_kfactor.csv"). */
int na64_grid2_parse(const char *text, size_t len, const char *what, na64_grid2 *g, na64_err *err);
void na64_grid2_release(na64_grid2 *g);
/* Bilinear interpolation, clamped to the grid edges. */
double na64_grid2_eval(const na64_grid2 *g, double x, double y);

/* 1-D table "x,f" with the same validation. */
typedef struct {
  int n;
  double *x, *f;
} na64_grid1;
int na64_grid1_parse(const char *text, size_t len, const char *what, na64_grid1 *g, na64_err *err);
void na64_grid1_release(na64_grid1 *g);

/* GSL's default error handler aborts the process; the library must never abort, so the first GSL
 * user switches it off once for the process (thread-safe; documented in docs/user-guide.md). */
void na64_gsl_quiet(void);

/* Cross sections without the validity-range checks (used by tables built over a wider energy span). */
double na64_xsec_iww_unchecked(double E0, double m, double eps, double Z, double A, int ff);
int na64_xsec_total_unchecked(na64_xsec_method method, double E0, double m, double eps, double Z,
                              double A, double *sigma_pb, na64_err *err);
/* sum_j n_j sigma_j of a material (1/cm) without the validity-range checks */
int na64_xsec_macroscopic_unchecked(na64_xsec_method method, const na64_material *mat, double E0, double m,
                                    double eps, double *inv_cm, na64_err *err);
/* chi with the IWW limits t_min = (m^2/2E0)^2, t_max = m^2 */
double na64_chi_iww(double E0, double m, double Z, double A, int ff);

/* inelastic chi by a fixed 32-point rule (used inside the WW integrals) */
double na64_chi_inelastic_fast(double tmin, double tmax, double Z);

/* The A' double-differential WW shape: d sigma/(dx du) up to the constant 8 alpha^3 eps^2 chi E0^2,
 * u = theta^2/2 (DMG4 DarkPhotons.cc CrossSectionDSDXDU). */
double na64_ww_shape(double x, double u, double E0, double m);
/* Its u-integral in closed form (the x marginal), same normalisation. */
double na64_ww_shape_x(double x, double E0, double m);

#endif
