/*
 * Preparing the fast simulation of one run: the geometry of the conditions database (na64/geom.h),
 * the calorimeter materials as sandwiches of the physics module (na64_material_sandwich, PDG
 * mixture rules), the synchrotron spectrum table and the A' emission tables.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fast_internal.h"

/* Minimum ionisation dE/dx, MeV cm^2/g (PDG "Atomic and nuclear properties of materials",
 * pdg.lbl.gov/AtomicNuclearProperties: Pb 1.122, W 1.145, Fe 1.451, Cu 1.403, Al 1.615,
 * polystyrene 2.052). */
static double mip_dedx(const char *name)
{
  static const struct {
    const char *name;
    double dedx;
  } t[] = {{"Pb", 1.122}, {"W", 1.145}, {"Fe", 1.451}, {"Cu", 1.403}, {"Al", 1.615}, {"Sc", 2.052}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; ++i)
    if (strcmp(t[i].name, name) == 0) return t[i].dedx;
  return NAN;
}

int sim_grid_cell(const sim_grid *g, double x, double y)
{
  double u = (x - g->x_lo) / g->px, v = (y - g->y_lo) / g->py;
  if (!(u >= 0.0 && v >= 0.0 && u < g->nx && v < g->ny)) return -1;
  return (int)v * g->nx + (int)u;
}

/* Grid of module m of detector d from its cells (cell (m, ix, iy) = first_cell + (m ny + iy) nx + ix). */
static int grid_from_cells(const na64_geom *g, const na64_geom_detector *d, int m, sim_grid *out, na64_err *err)
{
  if (d->nx < 1 || d->ny < 1 || m >= (d->nmodules > 0 ? d->nmodules : 1) ||
      d->first_cell + (m + 1) * d->nx * d->ny > g->ncells)
    return na64_err_set(err, NA64_EFORMAT, "detector %s: no regular cell grid for module %d", d->name, m);
  const na64_geom_cell *c0 = &g->cells[d->first_cell + m * d->nx * d->ny];
  out->nx = d->nx;
  out->ny = d->ny;
  out->px = c0->size[0];
  out->py = c0->size[1];
  out->x_lo = c0->centre[0] - 0.5 * c0->size[0];
  out->y_lo = c0->centre[1] - 0.5 * c0->size[1];
  out->z_front = c0->centre[2] - 0.5 * c0->size[2];
  out->length = c0->size[2];
  if (!(out->px > 0.0 && out->py > 0.0 && out->length > 0.0))
    return na64_err_set(err, NA64_EFORMAT, "detector %s: cell sizes must be positive", d->name);
  return NA64_OK;
}

static const na64_geom_detector *need_detector(const na64_geom *g, const char *name, na64_err *err)
{
  const na64_geom_detector *d = na64_geom_find_detector(g, name);
  if (!d) na64_err_set(err, NA64_ENOTFOUND, "run %d (setup %s) has no detector %s", g->run, g->setup, name);
  return d;
}

/* The sandwich material of section `sec` of d, its e/mip (Grindhammer-Peters: e-hat = 1/(1 + 0.007
 * (Z_passive - Z_active)), hep-ex/0001020 eq. 10) and the MIP energy loss per layer (GeV). */
static int section_material(const na64_geom *g, const na64_geom_detector *d, int sec, na64_material *mat,
                            double *ehat, double *mip_layer, na64_err *err)
{
  const na64_geom_section *s = &d->sections[sec];
  if (s->absorber < 0 || s->active < 0)
    return na64_err_set(err, NA64_EFORMAT, "detector %s section %s: needs absorber and active layers", d->name, s->name);
  na64_material abs, act;
  NA64_CALL(na64_material_get(g->materials[s->absorber].name, &abs, err));
  NA64_CALL(na64_material_get(g->materials[s->active].name, &act, err));
  const na64_material *layers[2] = {&abs, &act};
  double t[2] = {s->absorber_thickness, s->active_thickness};
  NA64_CALL(na64_material_sandwich(d->name, 2, layers, t, mat, err));
  *ehat = 1.0 / (1.0 + 0.007 * (abs.Z_eff - act.Z_eff));
  double da = mip_dedx(abs.name), dc = mip_dedx(act.name);
  if (!isfinite(da) || !isfinite(dc))
    return na64_err_set(err, NA64_ENOTFOUND, "detector %s: no MIP dE/dx for %s or %s", d->name, abs.name, act.name);
  *mip_layer = 1e-3 * (da * abs.density * t[0] + dc * act.density * t[1]);
  return NA64_OK;
}

static int setup_ecal(na64_sim *s, na64_err *err)
{
  const na64_geom *g = s->geom;
  const na64_geom_detector *d = need_detector(g, "ECAL", err);
  if (!d) return err ? err->code : NA64_ENOTFOUND;
  if (d->nsections != 2 || d->nx * d->ny > NA64_SIM_MAX_ECAL)
    return na64_err_set(err, NA64_EFORMAT, "ECAL: expected 2 sections (pre-shower, main) and <= %d cells, got %d, %d",
                        NA64_SIM_MAX_ECAL, d->nsections, d->nx * d->ny);
  NA64_CALL(grid_from_cells(g, d, 0, &s->ecal, err));
  double mip_layer = 0.0;
  NA64_CALL(section_material(g, d, 1, &s->ecal_mat, &s->ecal_ehat, &mip_layer, err));
  for (int k = 0; k < 2; ++k) {
    s->ecal_depth[k] = d->sections[k].depth_x0;
    s->ecal_mip[k] = d->sections[k].nlayers * mip_layer / s->ecal_ehat; /* calibrated to electrons */
  }
  s->ecal_x0_cm = s->ecal_mat.X0;
  s->ecal_rm = s->ecal_mat.R_M;
  s->ecal_lambda = s->ecal_mat.lambda_I;
  /* F_S = X0_eff / (d_passive + d_active) (Grindhammer-Peters hep-ex/0001020 eq. 9) */
  s->ecal_fs = s->ecal_mat.X0 / (d->sections[1].absorber_thickness + d->sections[1].active_thickness);
  return NA64_OK;
}

static int setup_hcal_veto_srd(na64_sim *s, na64_err *err)
{
  const na64_geom *g = s->geom;
  const na64_geom_detector *h = need_detector(g, "HCAL", err), *v = h ? need_detector(g, "VETO", err) : NULL;
  const na64_geom_detector *r = v ? need_detector(g, "SRD", err) : NULL;
  if (!r) return err ? err->code : NA64_ENOTFOUND;
  s->nhcal = h->nmodules > 0 ? h->nmodules : 1;
  if (s->nhcal > NA64_SIM_MAX_HCAL || h->nx * h->ny > NA64_SIM_HCAL_CELLS || h->nsections < 1)
    return na64_err_set(err, NA64_EFORMAT, "HCAL: at most %d modules of %d cells", NA64_SIM_MAX_HCAL, NA64_SIM_HCAL_CELLS);
  for (int m = 0; m < s->nhcal; ++m) NA64_CALL(grid_from_cells(g, h, m, &s->hcal[m], err));
  na64_material hm;
  double mip_layer;
  NA64_CALL(section_material(g, h, 0, &hm, &s->hcal_ehat, &mip_layer, err));
  s->hcal_lambda = hm.lambda_I;
  s->hcal_mip = h->sections[0].nlayers * mip_layer / s->hcal_ehat;
  NA64_CALL(grid_from_cells(g, v, 0, &s->veto, err));
  if (v->nx * v->ny > NA64_SIM_MAX_VETO) return na64_err_set(err, NA64_EFORMAT, "VETO: more than %d paddles", NA64_SIM_MAX_VETO);
  double sc = mip_dedx("Sc");
  na64_material scm;
  NA64_CALL(na64_material_get("Sc", &scm, err));
  s->veto_mip = 1e-3 * sc * scm.density * s->veto.length;
  s->nsrd = r->nmodules > 0 ? r->nmodules : 1;
  if (s->nsrd > NA64_SIM_MAX_SRD) return na64_err_set(err, NA64_EFORMAT, "SRD: more than %d modules", NA64_SIM_MAX_SRD);
  for (int m = 0; m < s->nsrd; ++m) {
    sim_grid gm;
    NA64_CALL(grid_from_cells(g, r, m, &gm, err));
    s->srd_z[m] = gm.z_front;
    if (m == 0) {
      s->srd_x[0] = gm.x_lo;
      s->srd_x[1] = gm.x_lo + gm.nx * gm.px;
      s->srd_y[0] = gm.y_lo;
      s->srd_y[1] = gm.y_lo + gm.ny * gm.py;
    }
  }
  s->srd_pb = r->nsections > 0 ? r->sections[0].nlayers * r->sections[0].absorber_thickness : 0.0;
  return NA64_OK;
}

static int setup_beamline(na64_sim *s, na64_err *err)
{
  const na64_geom *g = s->geom;
  if (g->nmagnets < 1 || g->nmagnets > SIM_MAX_MAGNETS)
    return na64_err_set(err, NA64_EFORMAT, "run %d: %d magnets (the spectrometer needs 1-%d)", g->run, g->nmagnets,
                        SIM_MAX_MAGNETS);
  s->nmag = g->nmagnets;
  for (int i = 0; i < s->nmag; ++i) {
    const na64_geom_magnet *m = &g->magnets[i];
    s->mag[i].z_in = m->centre[2] - 0.5 * m->length;
    s->mag[i].z_out = m->centre[2] + 0.5 * m->length;
    s->mag[i].field = m->field;
  }
  const char *names[2] = {"S0", "S1"};
  for (int i = 0; i < 2; ++i) {
    const na64_geom_detector *d = na64_geom_find_detector(g, names[i]);
    if (!d) continue;
    s->z_counter[s->ncounters] = d->centre[2];
    s->counter_half[s->ncounters][0] = 0.5 * d->size[0];
    s->counter_half[s->ncounters][1] = 0.5 * d->size[1];
    s->ncounters++;
  }
  return NA64_OK;
}

/* Photon-number spectrum of synchrotron radiation per unit u = E/E_c: dN/du ~ G(u) = int_u^inf
 * K_{5/3}(xi) dxi (Jackson, Classical Electrodynamics, 3rd ed., eq. 14.91 divided by the photon
 * energy; Wiedemann, Particle Accelerator Physics, ch. 24). Its CDF is tabulated on u in
 * [1e-10, 40] (log grid): below, G ~ 2.15 u^(-2/3) holds 6e-4 of the photons (with no energy to
 * speak of); above, less than 1e-17. */
static double k53(double u, void *p)
{
  (void)p;
  return gsl_sf_bessel_Knu(5.0 / 3.0, u);
}

static int setup_sr_table(na64_sim *s, na64_err *err)
{
  const int N = SR_TABLE - 1;
  const double ulo = 1e-10, uhi = 40.0;
  double *G = malloc((size_t)(N + 1) * sizeof *G);
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
  if (!w || !G) {
    free(G);
    if (w) gsl_integration_workspace_free(w);
    return na64_err_set(err, NA64_ENOMEM, "SR table: out of memory");
  }
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  gsl_function F = {k53, NULL};
  for (int i = N; i >= 0; --i) { /* G(u) = int_u^uhi K53, accumulated downwards */
    s->sr_u[i] = ulo * pow(uhi / ulo, (double)i / N);
    double r = 0.0, e = 0.0;
    if (i < N) gsl_integration_qag(&F, s->sr_u[i], s->sr_u[i + 1], 0.0, 1e-10, 200, GSL_INTEG_GAUSS31, w, &r, &e);
    G[i] = (i < N ? G[i + 1] : 0.0) + r;
  }
  gsl_set_error_handler(old);
  gsl_integration_workspace_free(w);
  /* CDF of the density G(u): trapezoid in ln u (the intervals are equal in ln u) of u G(u) */
  s->sr_cdf[0] = 0.0;
  for (int i = 1; i <= N; ++i)
    s->sr_cdf[i] = s->sr_cdf[i - 1] + 0.5 * (G[i] * s->sr_u[i] + G[i - 1] * s->sr_u[i - 1]) * log(s->sr_u[i] / s->sr_u[i - 1]);
  for (int i = 1; i <= N; ++i) s->sr_cdf[i] /= s->sr_cdf[N];
  free(G);
  return NA64_OK;
}

int na64_sim_new(const na64_sim_config *cfg, na64_sim **out, na64_err *err)
{
  return sim_new_for_mode(cfg, 0, out, err);
}

int sim_new_for_mode(const na64_sim_config *cfg, int allow_visible, na64_sim **out, na64_err *err)
{
  if (!cfg || !out) return na64_err_set(err, NA64_EINVAL, "na64_sim_new: NULL argument");
  *out = NULL;
  NA64_CALL(na64_sim_config_check(cfg, err));
  na64_sim *s = calloc(1, sizeof *s);
  if (!s) return na64_err_set(err, NA64_ENOMEM, "sim: out of memory");
  s->cfg = *cfg;
  int st = na64_geom_load_path(cfg->conditions[0] ? cfg->conditions : NULL, (int)cfg->run, &s->geom, err);
  if (st == NA64_OK && strcmp(s->geom->mode, "invisible") != 0 && !(allow_visible && !strcmp(s->geom->mode, "visible")))
    st = na64_err_set(err, NA64_EINVAL, "run %ld is a %s-mode run: the fast simulation covers the invisible mode",
                      cfg->run, s->geom->mode);
  if (st == NA64_OK) st = setup_beamline(s, err);
  if (st == NA64_OK) st = setup_ecal(s, err);
  if (st == NA64_OK) st = setup_hcal_veto_srd(s, err);
  if (st == NA64_OK) st = setup_sr_table(s, err);
  if (st == NA64_OK && cfg->aprime_enabled) st = sim_aprime_setup(s, err);
  if (st != NA64_OK) {
    na64_err_prefix(err, "sim setup: ");
    na64_sim_free(s);
    return st;
  }
  *out = s;
  return NA64_OK;
}

void na64_sim_free(na64_sim *s)
{
  if (!s) return;
  sim_aprime_release(s);
  na64_geom_free(s->geom);
  free(s);
}

const na64_sim_config *na64_sim_get_config(const na64_sim *s) { return &s->cfg; }

double na64_sim_aprime_probability(const na64_sim *s) { return s->ap_on ? s->ap_ptrue : 0.0; }

void na64_sim_ecal_layout(const na64_sim *s, int *nx, int *ny, double *cell, double depth_x0[2])
{
  if (nx) *nx = s->ecal.nx;
  if (ny) *ny = s->ecal.ny;
  if (cell) *cell = s->ecal.px;
  if (depth_x0) {
    depth_x0[0] = s->ecal_depth[0];
    depth_x0[1] = s->ecal_depth[1];
  }
}

const char *na64_sim_particle_name(int p)
{
  static const char *const names[] = {"e-", "pi-", "K-", "p", "mu-"};
  return p >= 0 && p < NA64_SIM_NPARTICLES ? names[p] : "unknown";
}
