/*
 * The selection's e-m shower-shape criterion inside the Table 1 background routes (fast_bkg_routes.c):
 * NA64 compares the energy fractions of the ECAL cells with those expected for an electron shower
 * (PRD 97 (2018) 072002, criterion (iii): "the lateral and longitudinal shape of the shower in the
 * ECAL is consistent with an electromagnetic one"). Our reconstruction computes that comparison as
 * `ecal_shape_chi2` (src/reco/calo.c) and the selection cuts on it (src/ana/select.c,
 * `shape_chi2_max`, default 9): the chi2 per degree of freedom of the 3 x 3 cells around the
 * hottest one against E_ECAL x the expected fraction of a shower centred at (x, y), minimised over
 * (x, y), with the variance (0.1^2 mu + 0.03^2 mu^2 + 0.02^2) GeV^2 of a cell expecting mu GeV
 * (calo.c: sampling term 10%/sqrt(E), 3% shape systematics, 0.02 GeV noise). This file computes the
 * same quantity from the cells the simulation deposits (calo.c is not linked into the simulation,
 * and it works on decoded waveforms):
 * - the expected cell fraction against the offset (dx, dy) of the cell centre from the shower axis
 *   is tabulated from the simulation's own Grindhammer-Peters showers at the beam energy (the
 *   profile calo.c builds from the same equations, hep-ex/0001020), averaged over the longitudinal
 *   fluctuations of BKG_SHAPE_NAVG showers per placement; one shower at (u, v) from a cell centre
 *   fills the 25 offsets (i px - u, j py - v), so placements on a grid of px/20 x py/20 over one
 *   cell give the table on that grid;
 * - the minimisation is a pattern search over the centre in steps of 0.3, 0.1 and 0.033 cm.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reco/shower_shape_model.h" /* the constants and variance of calo.c */
#include "sim/fast_bkg_internal.h"

#define SH_DIV 20      /* table steps per cell */
#define SH_NT (2 * SH_DIV + 1) /* offsets 0 .. 2 cells, as calo.c's table */
#define BKG_SHAPE_NAVG 2

struct bkg_shape {
  double hx, hy;              /* table steps, cm */
  double f[SH_NT][SH_NT];     /* expected fraction of a cell at offset (i hx, j hy) */
  double wsum[SH_NT][SH_NT];  /* placements averaged into each entry */
};

int bkg_shape_new(const na64_sim *s, bkg_shape **out, na64_err *err)
{
  const sim_grid *g = &s->ecal;
  if (g->nx < 5 || g->ny < 5)
    return na64_err_set(err, NA64_EFORMAT, "background shape table: ECAL matrix %d x %d, needs at least 5 x 5", g->nx,
                        g->ny);
  bkg_shape *t = calloc(1, sizeof *t);
  if (!t) return na64_err_set(err, NA64_ENOMEM, "background shape table: out of memory");
  t->hx = g->px / SH_DIV;
  t->hy = g->py / SH_DIV;
  /* the reference cell (2, 2) has two neighbours on each side */
  double xc = g->x_lo + 2.5 * g->px, yc = g->y_lo + 2.5 * g->py, E = s->cfg.beam_energy;
  na64_rng rng;
  na64_rng_init(&rng, 0x5eed5a9e0ull, 0);
  const size_t csize = sizeof(double[NA64_SIM_ECAL_SECTIONS][NA64_SIM_MAX_ECAL]);
  double (*c)[NA64_SIM_MAX_ECAL] = malloc(csize);
  if (!c) {
    free(t);
    return na64_err_set(err, NA64_ENOMEM, "background shape table: out of memory");
  }
  for (int a = 0; a < SH_DIV; ++a)
    for (int b = 0; b < SH_DIV; ++b)
      for (int r = 0; r < BKG_SHAPE_NAVG; ++r) {
        double dep[NA64_SIM_ECAL_SECTIONS] = {0, 0};
        memset(c, 0, csize);
        na64_sim_em_shower(s, E, 0.0, xc + a * t->hx, yc + b * t->hy, 0.0, 0.0, &rng, c, dep, NULL, NULL);
        for (int i = -2; i <= 2; ++i)
          for (int j = -2; j <= 2; ++j) {
            int oi = abs(i * SH_DIV - a), oj = abs(j * SH_DIV - b); /* offset of cell (2+i, 2+j) in steps */
            if (oi >= SH_NT || oj >= SH_NT) continue;
            int id = (2 + j) * g->nx + 2 + i;
            t->f[oi][oj] += (c[0][id] + c[1][id]) / E;
            t->wsum[oi][oj] += 1.0;
          }
      }
  free(c);
  for (int i = 0; i < SH_NT; ++i)
    for (int j = 0; j < SH_NT; ++j)
      if (t->wsum[i][j] > 0.0) t->f[i][j] /= t->wsum[i][j];
  *out = t;
  return NA64_OK;
}

void bkg_shape_free(bkg_shape *t)
{
  free(t);
}

/* Expected fraction of a cell offset by (dx, dy) from the shower axis: bilinear in the table,
 * 0 beyond two cells (as calo.c). */
double bkg_shape_fraction(const bkg_shape *t, double dx, double dy)
{
  double u = fabs(dx) / t->hx, v = fabs(dy) / t->hy;
  int i = (int)u, j = (int)v;
  if (i >= SH_NT - 1 || j >= SH_NT - 1) return 0.0;
  double fu = u - i, fv = v - j;
  return (1 - fu) * (1 - fv) * t->f[i][j] + fu * (1 - fv) * t->f[i + 1][j] + (1 - fu) * fv * t->f[i][j + 1] +
         fu * fv * t->f[i + 1][j + 1];
}

typedef struct shape_cells {
  int n;
  double x[9], y[9], e[9];
} shape_cells;

static double cells_chi2(const bkg_shape *t, const shape_cells *c, double E, double x, double y)
{
  double chi2 = 0.0;
  for (int k = 0; k < c->n; ++k) {
    double mu = E * bkg_shape_fraction(t, c->x[k] - x, c->y[k] - y);
    chi2 += (c->e[k] - mu) * (c->e[k] - mu) / shape_cell_variance(mu);
  }
  return chi2;
}

/* Pattern search from (x, y): the best of the 8 neighbours at distance `step` while one improves
 * (at most 6 moves per step), then the step divided by 3. */
static double chi2_min(const bkg_shape *t, const shape_cells *c, double E, double x, double y)
{
  double best = cells_chi2(t, c, E, x, y);
  for (double step = 0.3; step > 0.03; step /= 3.0)
    for (int moves = 0; moves < 6; ++moves) {
      double bx = x, by = y;
      for (int i = -1; i <= 1; ++i)
        for (int j = -1; j <= 1; ++j) {
          if (!i && !j) continue;
          double c2 = cells_chi2(t, c, E, x + i * step, y + j * step);
          if (c2 < best) best = c2, bx = x + i * step, by = y + j * step;
        }
      if (bx == x && by == y) break;
      x = bx, y = by;
    }
  return best;
}

double bkg_shape_chi2(const na64_sim *s, const bkg_shape *t, const double cells[][NA64_SIM_MAX_ECAL])
{
  const sim_grid *g = &s->ecal;
  int nc = g->nx * g->ny, hot = -1;
  double E = 0.0, e[NA64_SIM_MAX_ECAL];
  for (int i = 0; i < nc; ++i) {
    e[i] = cells[0][i] + cells[1][i];
    E += e[i];
    if (hot < 0 || e[i] > e[hot]) hot = i;
  }
  if (!(E > 0.0)) return NAN;
  double sw = 0.0, sx = 0.0, sy = 0.0;
  for (int i = 0; i < nc; ++i) {
    double w = e[i] > 0.0 ? SHAPE_LOG_W0 + log(e[i] / E) : 0.0;
    if (w <= 0.0) continue;
    sw += w;
    sx += w * (g->x_lo + (i % g->nx + 0.5) * g->px);
    sy += w * (g->y_lo + (i / g->nx + 0.5) * g->py);
  }
  if (!(sw > 0.0)) return NAN;
  shape_cells c = {0, {0}, {0}, {0}};
  int hx = hot % g->nx, hy = hot / g->nx;
  for (int iy = hy - 1; iy <= hy + 1; ++iy)
    for (int ix = hx - 1; ix <= hx + 1; ++ix) {
      if (ix < 0 || ix >= g->nx || iy < 0 || iy >= g->ny) continue;
      c.x[c.n] = g->x_lo + (ix + 0.5) * g->px;
      c.y[c.n] = g->y_lo + (iy + 0.5) * g->py;
      c.e[c.n++] = e[iy * g->nx + ix];
    }
  if (c.n <= 2) return NAN;
  return chi2_min(t, &c, E, sx / sw, sy / sw) / (c.n - 2);
}

int bkg_shape_pass(const na64_sim *s, const bkg_shape *t, const double cells[][NA64_SIM_MAX_ECAL])
{
  return bkg_shape_chi2(s, t, cells) <= BKG_SHAPE_CHI2_MAX; /* NaN (no shower) fails, as in the selection */
}

/* EM showers of the particles (energy, impact and slopes at the ECAL face) in one ECAL: cells with
 * the sampling fluctuations of the sum (sim_ecal_smear), calibrated section energies in vis. */
void bkg_ecal_showers(const na64_sim *s, na64_rng *rng, int n, const bkg_em *p, double cells[][NA64_SIM_MAX_ECAL],
                      double vis[2])
{
  double dep[2] = {0.0, 0.0};
  memset(cells, 0, NA64_SIM_ECAL_SECTIONS * sizeof cells[0]);
  for (int i = 0; i < n; ++i)
    if (p[i].E > 0.0) na64_sim_em_shower(s, p[i].E, 0.0, p[i].x, p[i].y, p[i].dx, p[i].dy, rng, cells, dep, NULL, NULL);
  sim_ecal_smear(s, rng, cells, dep, vis, 1);
}
