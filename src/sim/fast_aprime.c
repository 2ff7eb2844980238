/*
 * A' emission in the ECAL with biasing and exact weights.
 *
 * The expected number of A' with E_A' >= E_min emitted per electron on target is (the thick-target
 * formula of the physics module, src/physics/yield.c; Bjorken et al. PRD 38 (1988) 3375):
 *   P = eps^2 sum_j n_j int dt int dE T(E, t) sigma_j(E) F(E_min/E),
 * T(E, t) the differential track length of the shower e+- at depth t (na64_track_length_binned of
 * the ECAL sandwich, depth-resolved over the ECAL depth), sigma the ETL cross section at eps = 1
 * (na64_xsec_macroscopic) and F(x_min) the fraction of the x = E_A'/E distribution above x_min
 * (integral of na64_xsec_dsdx in y = -ln(1 - x), as the yield does).
 * P ~ 1e-13..1e-9: with a bias factor B an event emits with probability B P (at most one emission
 * per event, as DMG4 does; B P must stay below 1). Emitting events carry the weight P/(B P) = 1/B,
 * the others (1 - P)/(1 - B P): the weighted sums are unbiased for every observable.
 * The emitter energy and depth are drawn from the table T sigma F (bins of 1% in E, 24 in depth),
 * E_A' = x E and theta from the (x, theta) sampler of the physics module (na64_aprime_sample, WW
 * double-differential) at the bin's energy.
 * With `physics: {method: exact}` (the default since branch simexact) the cross section and the (x, theta) spectrum are the exact
 * tree-level ones (physics module, xsec_exact*.c): samplers of the exact d sigma/dx dcos for the
 * ECAL's main element at AP_NSE emitter energies E_k (log-spaced over the table range), and
 *   sigma(E; x >= x_m) = R(E) [(1 - w) I_k(x_m) + w I_{k+1}(x_m)],  w = ln(E/E_k)/ln(E_{k+1}/E_k),
 * I_k(x_m) the sampler's tabulated cross section above x_m at E_k (the x spectrum of the exact
 * calculation depends on E only through m/E and m_e/E: linear interpolation in ln E between nodes
 * 1.4 apart), R the material factor sum_j n_j sigma_j / (n_0 sigma_0) of the exact totals. An
 * emission draws (x, theta) from node k or k+1 with the weights of the two terms, x >= x_m.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fast_internal.h"

typedef struct {
  double E, m, Z, A;
} dsdx_par;

static double dsdx_y(double y, void *p)
{
  const dsdx_par *q = p;
  double omx = exp(-y), v = 0.0;
  if (na64_xsec_dsdx(NA64_XS_IWW, 1.0 - omx, q->E, q->m, 1.0, q->Z, q->A, &v, NULL) != NA64_OK) return 0.0;
  return v * omx;
}

/* int_{x0}^{1} dsigma/dx dx in y = -ln(1 - x), cut where the forward peak has died away (as the
 * yield and the sampler do). */
static double dsdx_integral(const dsdx_par *p, double x0, gsl_integration_workspace *w)
{
  double xlo = fmax(x0, p->m / p->E * (1.0 + 1e-9));
  double ylo = -log1p(-xlo), yhi = log(2.0 * p->E * p->m / (NA64_M_E * NA64_M_E)) + 4.0;
  if (!(yhi > ylo)) return 0.0;
  gsl_function F = {dsdx_y, (void *)p};
  double r = 0.0, e = 0.0;
  gsl_integration_qag(&F, ylo, yhi, 0.0, 1e-7, 200, GSL_INTEG_GAUSS31, w, &r, &e);
  return r;
}

/* ---- method exact ---- */

/* Scalar, pseudoscalar, axial (issue 14; docs/physics.md 4f): R = sum_j n_j sigma_j / (n_0 sigma_0) with
 * the window x >= x_min of the sampler (the shipped windowed grids of Pb, C, H where they cover, else
 * computed to 1% and remembered), times 4 pi alpha: the card's epsilon is the coupling g = eps e of
 * docs/physics.md 4b, the samplers are at g = 1. */
static int exact_material_factor(const na64_material *mat, const na64_exact_process *p0, double *R, na64_err *err)
{
  double all = 0.0, main = 0.0;
  for (int j = 0; j < mat->ncomp; ++j) {
    na64_exact_process p = *p0;
    p.Z = mat->comp[j].Z;
    p.A = mat->comp[j].A;
    double sj = 0.0;
    if (!na64_exact_wgrid_eval(&p, &sj)) NA64_CALL(na64_xsec_exact_cached(&p, 0.01, &sj, NULL, err));
    sj *= na64_material_atom_density(mat, j);
    all += sj;
    if (j == 0) main = sj;
  }
  *R = 4.0 * M_PI * NA64_ALPHA_EM * (main > 0.0 ? all / main : 1.0);
  return NA64_OK;
}

/* The sampler energies E_k, log-spaced over [Elo, E0], each sampler with x >= E_min/(1.1 E_{k+1})
 * (the lowest x its emitters need; 1.1 for the beam's momentum spread at the top node). */
static int exact_setup(na64_sim *s, double Elo, na64_err *err)
{
  const na64_sim_config *c = &s->cfg;
  const na64_material *mat = &s->ecal_mat;
  for (int k = 0; k < AP_NSE; ++k) s->ap_exact_E[k] = Elo * pow(c->beam_energy / Elo, (double)k / (AP_NSE - 1));
  for (int k = 0; k < AP_NSE; ++k) {
    double E = s->ap_exact_E[k], Eup = 1.1 * s->ap_exact_E[k + 1 < AP_NSE ? k + 1 : k];
    na64_exact_process p;
    na64_exact_process_init(&p, NA64_LEPTON_E, (na64_mediator)c->aprime_mediator, E, c->aprime_mass);
    p.Z = mat->comp[0].Z;
    p.A = mat->comp[0].A;
    p.ff = NA64_FF_ALL; /* elastic + quasi-elastic, as the physics module's exact method (xsec.c) */
    p.x_min = c->aprime_min_energy / Eup;
    NA64_CALL(na64_exact_sampler_new(&p, &s->ap_exact[k], err));
    if (c->aprime_mediator != NA64_MED_VECTOR) {
      NA64_CALL(exact_material_factor(mat, &p, &s->ap_exact_R[k], err));
      continue;
    }
    double all = 0.0, main = 0.0;
    NA64_CALL(na64_xsec_macroscopic(NA64_XS_EXACT, mat, E, c->aprime_mass, 1.0, &all, err));
    NA64_CALL(na64_xsec_total(NA64_XS_EXACT, E, c->aprime_mass, 1.0, p.Z, p.A, &main, err));
    main *= na64_material_atom_density(mat, 0) * 1e-36; /* pb -> 1/cm */
    s->ap_exact_R[k] = main > 0.0 ? all / main : 1.0;
  }
  return NA64_OK;
}

void sim_aprime_release(na64_sim *s)
{
  for (int k = 0; k < AP_NSE; ++k) {
    na64_exact_sampler_free(s->ap_exact[k]);
    s->ap_exact[k] = NULL;
  }
}

/* The bracketing sampler nodes of energy E and the weights of their terms at x >= xm (header). */
static void exact_terms(const na64_sim *s, double E, double xm, int *k, double *a, double *b)
{
  double u = log(E / s->ap_exact_E[0]) / log(s->ap_exact_E[1] / s->ap_exact_E[0]);
  int kk = u < 0.0 ? 0 : (int)u;
  if (kk > AP_NSE - 2) kk = AP_NSE - 2;
  double w = fmin(fmax(u - kk, 0.0), 1.0);
  *k = kk;
  *a = (1.0 - w) * s->ap_exact_R[kk] * na64_exact_sampler_integral(s->ap_exact[kk], xm, NULL);
  *b = w * s->ap_exact_R[kk + 1] * na64_exact_sampler_integral(s->ap_exact[kk + 1], xm, NULL);
}

/* sum_j n_j sigma_j(E; E_A' >= E_min) in 1/cm at eps = 1 */
static double exact_sigma_above(const na64_sim *s, double E)
{
  int k;
  double a, b;
  exact_terms(s, E, s->cfg.aprime_min_energy / E, &k, &a, &b);
  return (a + b) * na64_material_atom_density(&s->ecal_mat, 0) * 1e-36;
}

static int build_table(na64_sim *s, const na64_track_length *tl, double Elo, na64_err *err)
{
  const na64_sim_config *c = &s->cfg;
  const double E0 = c->beam_energy, m = c->aprime_mass;
  for (int i = 0; i <= AP_NE; ++i) s->ap_Eedge[i] = Elo * pow(E0 / Elo, (double)i / AP_NE);
  double depth = s->ecal_depth[0] + s->ecal_depth[1];
  for (int k = 0; k <= AP_NT; ++k) s->ap_tedge[k] = depth * (double)k / AP_NT;
  double *TL = malloc(sizeof(double) * AP_NE * AP_NT);
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
  int st = (!TL || !w) ? na64_err_set(err, NA64_ENOMEM, "A' table: out of memory") : NA64_OK;
  if (st == NA64_OK) st = na64_track_length_binned(tl, NA64_TL_CHARGED, AP_NE, s->ap_Eedge, AP_NT, s->ap_tedge, TL, err);
  double sf[AP_NE];
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  for (int i = 0; st == NA64_OK && i < AP_NE; ++i) {
    double E = sqrt(s->ap_Eedge[i] * s->ap_Eedge[i + 1]), sig = 0.0;
    if (c->xsec_method == NA64_XS_EXACT) {
      sf[i] = exact_sigma_above(s, E);
      continue;
    }
    st = na64_xsec_macroscopic(NA64_XS_ETL, &s->ecal_mat, E, m, 1.0, &sig, err);
    dsdx_par p = {E, m, s->ecal_mat.comp[0].Z, s->ecal_mat.comp[0].A};
    double all = dsdx_integral(&p, 0.0, w), above = dsdx_integral(&p, c->aprime_min_energy / E, w);
    sf[i] = (st == NA64_OK && all > 0.0) ? sig * above / all : 0.0;
  }
  gsl_set_error_handler(old);
  double sum = 0.0;
  s->ap_cdf[0] = 0.0;
  for (int k = 0; st == NA64_OK && k < AP_NT; ++k)
    for (int i = 0; i < AP_NE; ++i) {
      sum += TL[k * AP_NE + i] * sf[i];
      s->ap_cdf[k * AP_NE + i + 1] = sum;
    }
  free(TL);
  if (w) gsl_integration_workspace_free(w);
  if (st) return st;
  if (!(sum > 0.0)) return na64_err_set(err, NA64_EPHYS, "A' of %g MeV: no emission above %g GeV", m * 1e3, c->aprime_min_energy);
  s->ap_ptrue = c->aprime_eps * c->aprime_eps * sum;
  return NA64_OK;
}

int sim_aprime_setup(na64_sim *s, na64_err *err)
{
  const na64_sim_config *c = &s->cfg;
  /* the ETL cross section is tabulated for E >= 10 GeV: emitters below are not simulated */
  double Elo = fmax(fmax(c->aprime_min_energy, 10.0), c->aprime_mass * 1.000001);
  double depth = s->ecal_depth[0] + s->ecal_depth[1];
  na64_track_length *tl = NULL;
  if (c->xsec_method == NA64_XS_EXACT) NA64_CALL(exact_setup(s, Elo, err));
  NA64_CALL(na64_track_length_get(&s->ecal_mat, c->beam_energy, Elo, depth, NULL, &tl, err));
  int st = build_table(s, tl, Elo, err);
  na64_track_length_free(tl);
  if (st) return st;
  s->ap_pemit = c->aprime_bias * s->ap_ptrue;
  if (!(s->ap_pemit < 0.5))
    return na64_err_set(err, NA64_EINVAL,
                        "A' bias %g too large: the emission probability per event would be %g (true %g per EOT); keep it below 0.5",
                        c->aprime_bias, s->ap_pemit, s->ap_ptrue);
  s->ap_on = 1;
  return NA64_OK;
}

int na64_sim_worker_new(const na64_sim *s, na64_sim_worker **out, na64_err *err)
{
  if (!s || !out) return na64_err_set(err, NA64_EINVAL, "na64_sim_worker_new: NULL argument");
  *out = NULL;
  na64_sim_worker *w = calloc(1, sizeof *w);
  if (!w) return na64_err_set(err, NA64_ENOMEM, "sim worker: out of memory");
  w->sim = s;
  for (int i = 0; s->ap_on && !s->ap_exact[0] && i < AP_NE; ++i) { /* WW samplers (method etl) */
    double E = sqrt(s->ap_Eedge[i] * s->ap_Eedge[i + 1]);
    double xmin = s->cfg.aprime_min_energy / s->ap_Eedge[i + 1];
    int st = na64_aprime_sampler_new(E, s->cfg.aprime_mass, s->ecal_mat.comp[0].Z, s->ecal_mat.comp[0].A, xmin,
                                     &w->samp[i], err);
    if (st) {
      na64_sim_worker_free(w);
      return st;
    }
  }
  *out = w;
  return NA64_OK;
}

void na64_sim_worker_free(na64_sim_worker *w)
{
  if (!w) return;
  for (int i = 0; i < AP_NE; ++i) na64_aprime_sampler_free(w->samp[i]);
  free(w);
}

/* One emission for a beam electron of energy E (the table is for E0; energies scale with E/E0). */
void sim_aprime_draw(na64_sim_worker *w, na64_rng *rng, double E, double *E_em, double *t, double *ea, double *theta)
{
  const na64_sim *s = w->sim;
  const int n = AP_NE * AP_NT;
  double u = na64_rng_uniform(rng) * s->ap_cdf[n];
  int lo = 0, hi = n; /* first bin b with cdf[b + 1] > u */
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (s->ap_cdf[mid + 1] > u) hi = mid;
    else lo = mid + 1;
  }
  if (lo >= n) lo = n - 1;
  int k = lo / AP_NE, i = lo % AP_NE;
  double Ee = s->ap_Eedge[i] * pow(s->ap_Eedge[i + 1] / s->ap_Eedge[i], na64_rng_uniform(rng));
  *t = s->ap_tedge[k] + (s->ap_tedge[k + 1] - s->ap_tedge[k]) * na64_rng_uniform(rng);
  double x = 0.0, th = 0.0, scale = E / s->cfg.beam_energy, emin = s->cfg.aprime_min_energy;
  if (s->ap_exact[0]) { /* method exact: x >= E_min/E_emitter from the bracketing samplers */
    double Eem = Ee * scale, xm = emin / Eem, a, b;
    int kn;
    exact_terms(s, Eem, xm, &kn, &a, &b);
    int node = na64_rng_uniform(rng) * (a + b) < a ? kn : kn + 1;
    int ok = xm < 1.0 && na64_exact_sample(s->ap_exact[node], rng, xm, &x, &th) == NA64_OK;
    *E_em = fmax(Eem, emin);
    *ea = ok ? fmin(x * Eem, *E_em) : emin;
    *theta = ok ? th : 0.0;
    return;
  }
  /* the sampler's x_min is for the bin's upper edge; E_A' >= E_min is required at the beam
   * particle's own energy (rarely impossible in the lowest bin: then E_A' = E_min) */
  int ok = 0;
  for (int tries = 0; tries < 200 && !ok; ++tries) {
    na64_aprime_sample(w->samp[i], rng, &x, &th);
    ok = x * Ee * scale >= emin;
  }
  *E_em = fmax(Ee * scale, emin);
  *ea = ok ? fmin(x * Ee * scale, *E_em) : emin;
  *theta = th;
}
