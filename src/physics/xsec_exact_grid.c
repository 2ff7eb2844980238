/*
 * Shipped grids of the exact tree-level total (issue 14): sigma(e- Z -> e- Z A') of xsec_exact.c
 * (na64_xsec_exact_quad: electron beam, vector mediator, elastic + quasi-elastic form factor,
 * all x) at coupling 1, per element, on nodes log-spaced in mass (8 per decade, 1 MeV - 1 GeV)
 * and energy (16 over 10 - 200 GeV). The files data/exact_grid_e_vector_Z<Z>.csv are generated
 * by this code (`na64 xsec --method exact --grid DIR`, cmd_physics.c) and compiled into the
 * library (cmake/embed_data.cmake); their header names the command, version, date and A.
 * Interpolation: ln sigma by 4 x 4-point Lagrange (bicubic) in (ln m, ln E), the stencil kept
 * inside the grid; measured error at off-node points in docs/physics.md section 4d.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "physics/internal.h"

#define GRID_NM 25
#define GRID_NE 16
#define GRID_ZMAX 100

static double axis_m[GRID_NM], axis_E[GRID_NE];
static pthread_once_t axes_once = PTHREAD_ONCE_INIT;

static void axes_init(void)
{
  for (int i = 0; i < GRID_NM; ++i) axis_m[i] = 1e-3 * pow(10.0, i / 8.0);
  for (int j = 0; j < GRID_NE; ++j) axis_E[j] = 10.0 * pow(20.0, j / (GRID_NE - 1.0));
  axis_m[GRID_NM - 1] = 1.0;
  axis_E[GRID_NE - 1] = 200.0;
}

void na64_exact_grid_axes(const double **mass, int *nm, const double **energy, int *nE)
{
  pthread_once(&axes_once, axes_init);
  if (mass) *mass = axis_m;
  if (nm) *nm = GRID_NM;
  if (energy) *energy = axis_E;
  if (nE) *nE = GRID_NE;
}

/* NA64_EXACT_NO_GRIDS set and non-empty: the shipped grids (this file and xsec_exact_wgrid.c) are
 * not used, every exact value is computed (validation; docs/physics.md 4e) */
int na64_exact_grids_disabled(void)
{
  const char *v = getenv("NA64_EXACT_NO_GRIDS");
  return v && *v;
}

void na64_exact_grid_name(int Z, char *buf, size_t len) { snprintf(buf, len, "exact_grid_e_vector_Z%d.csv", Z); }

/* ---------------- loading (once per element, on first use) ---------------- */

typedef struct {
  int state; /* 0: not tried, 1: loaded, -1: absent or invalid */
  double A;
  na64_grid2 g; /* x = ln m, y = ln E, f = ln sigma_pb */
} element_grid;

static element_grid grids[GRID_ZMAX + 1];
static pthread_mutex_t grid_lock = PTHREAD_MUTEX_INITIALIZER;

static void load(int Z, element_grid *eg)
{
  char name[64];
  na64_exact_grid_name(Z, name, sizeof name);
  size_t len = 0;
  const char *text = na64_embedded_find(name, &len);
  eg->state = -1;
  if (!text || na64_exact_grids_disabled()) return;
  const char *a = strstr(text, "# A = ");
  na64_err err;
  if (!a || na64_grid2_parse(text, len, name, &eg->g, &err) != NA64_OK) return;
  eg->A = atof(a + 6);
  for (int i = 0; i < eg->g.nx; ++i) eg->g.x[i] = log(eg->g.x[i]);
  for (int j = 0; j < eg->g.ny; ++j) eg->g.y[j] = log(eg->g.y[j]);
  for (int k = 0; k < eg->g.nx * eg->g.ny; ++k) eg->g.f[k] = log(eg->g.f[k]);
  eg->state = eg->g.nx >= 4 && eg->g.ny >= 4 ? 1 : -1;
}

/* 4-point Lagrange weights at v on nodes x[k..k+3], k chosen so that v lies in the middle
 * interval when possible (the stencil stays inside the grid at its edges); also the windowed
 * grids' (xsec_exact_wgrid.c) */
int na64_lagrange4(const double *x, int n, double v, double w[4])
{
  int i = 0;
  while (i + 2 < n && v > x[i + 1]) ++i; /* x[i] <= v <= x[i+1] */
  int k = i - 1;
  if (k < 0) k = 0;
  if (k > n - 4) k = n - 4;
  for (int a = 0; a < 4; ++a) {
    w[a] = 1.0;
    for (int b = 0; b < 4; ++b)
      if (b != a) w[a] *= (v - x[k + b]) / (x[k + a] - x[k + b]);
  }
  return k;
}

int na64_exact_grid_eval(double Z, double A, double m, double E0, double *pb)
{
  int iz = (int)lround(Z);
  if (!(fabs(Z - iz) < 1e-9) || iz < 1 || iz > GRID_ZMAX || !(m > 0.0) || !(E0 > 0.0)) return 0;
  pthread_mutex_lock(&grid_lock);
  element_grid *eg = &grids[iz];
  if (eg->state == 0) load(iz, eg);
  int ok = eg->state == 1;
  pthread_mutex_unlock(&grid_lock);
  if (!ok || !(fabs(A - eg->A) <= 1e-6 * A)) return 0;
  const na64_grid2 *g = &eg->g;
  double lm = log(m), lE = log(E0), tol = 1e-9;
  if (lm < g->x[0] - tol || lm > g->x[g->nx - 1] + tol || lE < g->y[0] - tol || lE > g->y[g->ny - 1] + tol) return 0;
  double wm[4], wE[4], s = 0.0;
  int km = na64_lagrange4(g->x, g->nx, lm, wm), kE = na64_lagrange4(g->y, g->ny, lE, wE);
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) s += wm[a] * wE[b] * g->f[(km + a) * g->ny + kE + b];
  *pb = exp(s);
  return 1;
}
