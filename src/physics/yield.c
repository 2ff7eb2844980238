/*
 * A' signal yield per electron on target in a beam dump (refdata/physics-formulas.md §6):
 *
 *   N_A'/EOT = eps^2 sum_j n_j int dE T(E) sigma_j(E; E_A' in window) [x decay probability]
 *
 * T(E): differential track length of the shower e- and e+ (src/physics/cascade.c), n_j: atoms of
 * element j per cm^3, sigma_j at eps = 1 (ETL by default) restricted to A' energies E_A' = x E in the
 * accepted window with the x-distribution of the IWW/WW shape (xsec.c). This is the thick-target
 * formula of Bjorken et al. PRD 38 (1988) 3375 and of Andreas, Niebuhr, Ringwald PRD 86 (2012)
 * 095019 eq. (3.4), with the full shower instead of the primary only.
 *
 * Visible mode (Gninenko, PLB 713 (2012) 244; NA64 PRL 120 (2018) 231802): the A' produced at depth t
 * of a dump of thickness L must decay to e+e- between d1 = (L - t) X0 + s and d2 = d1 + l_dv:
 *   P = BR(ee) [exp(-d1/L_A') - exp(-d2/L_A')],  L_A' = (p/m) c tau,  c tau proportional to 1/eps^2.
 * Production is tabulated once per mass on (depth, A' energy) bins; each eps then costs one sum.
 *
 * Pseudoscalar X17 (visible mode, issue 12; NA64 PRD 104 (2021) L111102): a with L = -i g a e-bar gamma5 e,
 * g = eps e, so that eps plays the role of the A' mixing. The cross section is the exact tree-level one
 * (xsec_exact.c): the total at each energy node, and the x-shape d sigma/dx tabulated once at E0 for the
 * heaviest element of the dump (exact_shape below; since exactgrid3 from the windowed tungsten grid at
 * each emitter's energy where it covers, grid_shape); the decay length from the width
 * g^2 m beta/(8 pi) (decay.c) with BR(e+e-) = 1: a coupled to electrons only, a -> gamma gamma through
 * the electron loop neglected (alpha^2/(8 pi^2) (m/m_e)^2 ~ 1e-3 of the e+e- width at 16.7 MeV).
 *
 * Scalar and axial X17 (visible mode, visscal): the same as the pseudoscalar with L = -g S e-bar e and
 * L = -g X_mu e-bar gamma^mu gamma5 e, g = eps e; their tungsten windowed grids (exact_wgrid_e_{scalar,
 * axial}_Z74.csv) give the shape, their widths g^2 m beta^3/(8 pi) and g^2 m beta^3/(12 pi) the decay length.
 *
 * Vector A' with the exact method, visible mode (issues 12 and 14; docs/validation.md "The island's tip"):
 * the same exact x-shape as the pseudoscalar (na64_xsec_exact_dsdx of the vector, tabulated at E0 on
 * the heaviest element) with the exact totals of na64_xsec_macroscopic (the shipped grid), instead of
 * the IWW shape (Tsai RMP 46 (1974) 815; Bjorken et al. PRD 80 (2009) 075018, appendix) that the
 * ETL/IWW/WW methods use. The IWW shape keeps t_min at its x-independent value and so overstates
 * d sigma/dx for 1 - x < ~1e-2 (Liu, Morrissey, Yu PRD 95 (2017) 036010, arXiv:1609.06781; Gninenko,
 * Kirpichnikov, Kirsanov, Krasnikov PLB 782 (2018) 406, arXiv:1712.05706; the ratio on W is in
 * docs/validation.md).
 *
 * Resonant annihilation of shower positrons e+ e- -> A' (NA64 PRD 104 (2021) L091701, arXiv:2108.04195;
 * Marsicano et al. PRL 121 (2018) 041802): in the narrow-width approximation
 *   int sigma dE+ = 6 pi^2 Gamma_ee BR_f/(m m_e) = 2 pi^2 alpha eps^2 BR_f / m_e   at E+ = (m^2 - 2 m_e^2)/(2 m_e),
 * so N/EOT = n_e T_e+(E_res) 2 pi^2 alpha eps^2 / m_e with n_e = sum_j Z_j n_j (BR(invisible) = 1).
 */
#include <gsl/gsl_integration.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "physics/internal.h"

#define N_ENERGY_BINS 128 /* shower-energy bins, equal in ln E between the lowest useful energy and E0 */
#define N_ABINS 40        /* A' energy bins (visible mode) */
#define N_TBINS 40        /* depth bins (visible mode) */
#define N_SIGMA_NODES 17  /* energies at which sigma(E) is evaluated, equal in ln E */
#define N_PS_NODES 20     /* exact x-shape (pseudoscalar, visible exact vector): nodes equal in y = -ln(1 - x) */
#define PS_X_LOW 0.02     /* exact x-shape: below it taken as 0 (pseudoscalar x^3-like, < 1e-5 of sigma; vector
                             ~x: < 1e-3 of sigma, and those A' are below every visible threshold) */

struct na64_yield {
  double m, E0;
  int visible, nt, na;
  double *W;        /* W[k * na + a]: A' produced per EOT at eps = 1, depth bin k, A' energy bin a */
  double *tmid;     /* depth-bin centres, X0 */
  double *ea;       /* A' energy-bin centres, GeV */
  double *ell1;     /* lab decay length at eps = 1 for each A' energy bin, cm */
  double br_ee;     /* visible branching ratio e+e- */
  double X0, L_X0, d_start, d_len;
  double resonant;  /* annihilation yield per EOT at eps = 1 */
};

/* Exact x-shape (the pseudoscalar; the vector A' with the exact method in the visible mode):
 * ln(d sigma/dx) of the exact calculation on nodes equal in y = -ln(1 - x),
 * interpolated linearly in y (extrapolated beyond the last node up to the kinematic end
 * x = 1 - m_e/E0). Taken as a function of x alone at every shower energy: the exact d sigma/dx
 * depends on E through m/E and m_e/E (< 1e-3 at E >= 30 GeV) and through the logarithm of the
 * screening (a few %: docs/visible.md "Pseudoscalar X17"). */
typedef struct ps_shape {
  double y0, dy, ymax;
  double lnf[N_PS_NODES];
} ps_shape;

static double ps_shape_eval(const ps_shape *ps, double y)
{
  if (y < ps->y0 || y > ps->ymax) return 0.0;
  double u = (y - ps->y0) / ps->dy;
  int k = (int)u;
  if (k > N_PS_NODES - 2) k = N_PS_NODES - 2;
  /* between nodes ln f is interpolated linearly in ln y: d sigma/dx ~ x^n at small x, where y ~ x, so
   * this is exact there, and it is linear in y where y >> dy. Linear in y, the first interval (y from
   * 0.02 to 0.6) lost most of the low-x cross section and the normalised shape put 3% too much above
   * x = 0.98 for the vector, 0.9% for the pseudoscalar (against na64_xsec_exact_quad with x_min;
   * island, 2026-12-06). Beyond the last node: linear in y. */
  double yk = ps->y0 + k * ps->dy;
  double w = u > N_PS_NODES - 1 ? u - k : log(y / yk) / log1p(ps->dy / yk);
  return exp(ps->lnf[k] + w * (ps->lnf[k + 1] - ps->lnf[k]));
}

/* the element j of the dump with the largest n_j Z_j^2 (the coherent production goes as Z^2) */
static int heaviest_component(const na64_material *mat)
{
  int best = 0;
  double wmax = -1.0;
  for (int j = 0; j < mat->ncomp; ++j) {
    double w = na64_material_atom_density(mat, j) * mat->comp[j].Z * mat->comp[j].Z;
    if (w > wmax) {
      wmax = w;
      best = j;
    }
  }
  return best;
}

/* The shapes computed so far, keyed by (Z, A, E0, m): the visible job builds the same pseudoscalar
 * yield once per efficiency sample (na64_vis_sim_new), and the 20 adaptive d sigma/dx of a shape
 * cost ~4 s of CPU. Thread-safe (one mutex), the last PS_CACHE shapes kept. */
#define PS_CACHE 8
static pthread_mutex_t ps_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  int used, mediator;
  double Z, A, E0, m;
  ps_shape ps;
} ps_cache[PS_CACHE];
static int ps_cache_next;

static int exact_shape_compute(const na64_exact_process *proto, ps_shape *ps, na64_err *err);

static int exact_shape(const na64_material *mat, int mediator, double E0, double m, ps_shape *ps, na64_err *err)
{
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_E, (na64_mediator)mediator, E0, m);
  int j = heaviest_component(mat);
  p.Z = mat->comp[j].Z;
  p.A = mat->comp[j].A;
  int found = 0;
  pthread_mutex_lock(&ps_cache_lock);
  for (int k = 0; k < PS_CACHE && !found; ++k)
    if (ps_cache[k].used && ps_cache[k].mediator == mediator && ps_cache[k].Z == p.Z && ps_cache[k].A == p.A && ps_cache[k].E0 == E0 && ps_cache[k].m == m) {
      *ps = ps_cache[k].ps;
      found = 1;
    }
  pthread_mutex_unlock(&ps_cache_lock);
  if (found) return NA64_OK;
  NA64_CALL(exact_shape_compute(&p, ps, err));
  pthread_mutex_lock(&ps_cache_lock);
  int k = ps_cache_next;
  ps_cache_next = (ps_cache_next + 1) % PS_CACHE;
  ps_cache[k].used = 1;
  ps_cache[k].mediator = mediator;
  ps_cache[k].Z = p.Z;
  ps_cache[k].A = p.A;
  ps_cache[k].E0 = E0;
  ps_cache[k].m = m;
  ps_cache[k].ps = *ps;
  pthread_mutex_unlock(&ps_cache_lock);
  return NA64_OK;
}

static int exact_shape_compute(const na64_exact_process *proto, ps_shape *ps, na64_err *err)
{
  na64_exact_process p = *proto;
  const double E0 = p.E0, m = p.m;
  p.ff = NA64_FF_ALL; /* as the totals of exact_macroscopic */
  ps->ymax = log(E0 / NA64_M_E);
  ps->y0 = -log1p(-fmax(PS_X_LOW, 2.0 * m / E0));
  ps->dy = (ps->ymax - 1.0 - ps->y0) / (N_PS_NODES - 1); /* the last node at 1 - x = e m_e/E0 */
  for (int k = 0; k < N_PS_NODES; ++k) {
    double x = -expm1(-(ps->y0 + k * ps->dy)), f = 0.0;
    NA64_CALL(na64_xsec_exact_dsdx(&p, x, &f, NULL, err));
    ps->lnf[k] = f > 0.0 ? log(f) : -700.0;
  }
  return NA64_OK;
}

/* The exact x-shape from the shipped windowed grid of the heaviest element (xsec_exact_wgrid.c;
 * docs/physics.md 4e: tungsten has a w = 1 - x_min axis 4 per decade from 1e-4 for this), at the
 * emitter's own energy E: the fraction of sigma(E) in the A' energy bin [ea0, ea1] is
 *   [S(ea0/E) - S(ea1/E)] / S(0),   S(x_min) = sigma(x > x_min)   (differences of windows),
 * S = 0 beyond the kinematic end x = 1 - m_e/E; between it and the first covered window (1 - x =
 * 1e-4, or 3 m_e/E below 15 GeV) S is taken linear in 1 - x. That part holds up to 7.5% (vector) and
 * 9% (pseudoscalar) of sigma at 100 MeV (less at lower masses), but its split only matters for a bin
 * edge within 1e-4 E of the emitter's energy: a few of the 128 x 40 (emitter, bin) pairs.
 * grid_shape returns 1 and fills shape[i * na + a] (nE emitter energies
 * Ec, na bins from ea_min of width da) if the grid covers every window, 0 otherwise (the caller
 * computes the shape from na64_xsec_exact_dsdx as before). */
static int grid_window(na64_exact_process *p, double E, double x_min, double *S)
{
  /* the first node of the grid's w axis, or 3 m_e/E where its coverage starts above it */
  const double w_first = na64_exact_wgrid_first_w(p->mediator, (int)lround(p->Z), E) * (1.0 + 1e-9);
  double w_end = NA64_M_E / E, w = 1.0 - x_min;
  p->E0 = E;
  if (!(w > w_end)) {
    *S = 0.0;
    return 1;
  }
  if (w >= w_first) {
    p->x_min = x_min <= p->m / E ? 0.0 : x_min;
    return na64_exact_wgrid_eval(p, S);
  }
  double S1 = 0.0;
  p->x_min = 1.0 - w_first;
  if (!na64_exact_wgrid_eval(p, &S1)) return 0;
  *S = w_first > w_end ? S1 * (w - w_end) / (w_first - w_end) : 0.0;
  return 1;
}

static int grid_shape(const na64_material *mat, int mediator, double m, int nE, const double *Ec, double ea_min,
                      double da, int na, double *shape)
{
  na64_exact_process p;
  int j = heaviest_component(mat);
  na64_exact_process_init(&p, NA64_LEPTON_E, (na64_mediator)mediator, Ec[nE - 1], m);
  p.Z = mat->comp[j].Z;
  p.A = mat->comp[j].A;
  p.ff = NA64_FF_ALL;
  for (int i = 0; i < nE; ++i) {
    double tot = 0.0, lo = 0.0, hi = 0.0;
    if (!(Ec[i] > m + NA64_M_E)) {
      for (int a = 0; a < na; ++a) shape[i * na + a] = 0.0;
      continue;
    }
    if (!grid_window(&p, Ec[i], 0.0, &tot) || !(tot > 0.0)) return 0;
    if (!grid_window(&p, Ec[i], ea_min / Ec[i], &lo)) return 0;
    for (int a = 0; a < na; ++a) {
      double x1 = (ea_min + (a + 1) * da) / Ec[i];
      if (!grid_window(&p, Ec[i], fmin(x1, 1.0), &hi)) return 0;
      shape[i * na + a] = fmax(lo - hi, 0.0) / tot;
      lo = hi;
    }
  }
  return 1;
}

/* int of the x-distribution over [x0, x1] (in y = -ln(1 - x), the forward peak resolved) */
typedef struct {
  double E, m;
  const ps_shape *ps; /* NULL: the IWW/WW shape of the A' */
} shape_params;

static double shape_y(double y, void *p)
{
  const shape_params *q = p;
  double omx = exp(-y);
  if (q->ps) return ps_shape_eval(q->ps, y) * omx;
  return na64_ww_shape_x(1.0 - omx, q->E, q->m) * omx;
}

static double shape_integral(double E, double m, double x0, double x1, const ps_shape *ps, gsl_integration_workspace *w)
{
  double xlo = fmax(x0, m / E), xhi = fmin(x1, 1.0);
  if (!(xhi > xlo)) return 0.0;
  double ylo = -log1p(-xlo);
  double ycap = log(2.0 * E * m / (NA64_M_E * NA64_M_E)) + 4.0; /* beyond it the shape is negligible */
  if (ps) ycap = ps->ymax;
  double yhi = xhi >= 1.0 ? ycap : fmin(-log1p(-xhi), ycap);
  if (!(yhi > ylo)) return 0.0;
  shape_params p = {E, m, ps};
  gsl_function F = {shape_y, &p};
  double r = 0.0, e = 0.0;
  gsl_integration_qag(&F, ylo, yhi, 0.0, 1e-7, 200, GSL_INTEG_GAUSS31, w, &r, &e);
  return r;
}

int na64_beamdump_check(const na64_beamdump *d, na64_err *err)
{
  if (!d) return na64_err_set(err, NA64_EINVAL, "dump: NULL");
  if (!isfinite(d->E0) || !(d->E0 > 0.0)) return na64_err_set(err, NA64_EPHYS, "beam energy %g GeV must be positive", d->E0);
  if (!(d->target.X0 > 0.0) || d->target.ncomp < 1)
    return na64_err_set(err, NA64_EINVAL, "dump material '%s' has no radiation length or composition", d->target.name);
  if (!(d->ea_min >= 0.0) || !(d->ea_max > d->ea_min) || d->ea_max > d->E0 * (1 + 1e-12))
    return na64_err_set(err, NA64_EINVAL, "A' energy window [%g, %g] GeV must lie within (0, E0 = %g]", d->ea_min,
                        d->ea_max, d->E0);
  if (d->lepton != NA64_LEPTON_E && d->lepton != NA64_LEPTON_MU)
    return na64_err_set(err, NA64_EINVAL, "dump: unknown beam lepton %d", d->lepton);
  if (d->mediator < NA64_MED_VECTOR || d->mediator > NA64_MED_AXIAL)
    return na64_err_set(err, NA64_EINVAL, "dump: unknown mediator %d", d->mediator);
  if (d->lepton == NA64_LEPTON_MU && (d->visible || d->annihilation || !(d->depth_X0 > 0.0)))
    return na64_err_set(err, NA64_EINVAL, "muon beam: invisible mode only, no annihilation, and a target of finite "
                        "thickness (got %g X0)", d->depth_X0);
  if (d->lepton == NA64_LEPTON_E && d->mediator == NA64_MED_ZPRIME)
    return na64_err_set(err, NA64_EPHYS, "the L_mu - L_tau Z' is not produced by electrons at tree level: use the muon beam");
  /* electron beam: the vector A' with every method; the visible scalar, pseudoscalar and axial X17 (exact
   * always, visscal); in the invisible mode the scalar, pseudoscalar and axial from their exact cross
   * sections only (ETL and WW are the vector's) */
  if (d->lepton == NA64_LEPTON_E && d->mediator != NA64_MED_VECTOR && !d->visible && d->method != NA64_XS_EXACT)
    return na64_err_set(err, NA64_EINVAL, "electron beam, invisible mode: the %s has the exact cross section only "
                        "(method exact; ETL, WW and IWW are the vector A')", na64_mediator_name((na64_mediator)d->mediator));
  if (d->lepton == NA64_LEPTON_E && d->mediator != NA64_MED_VECTOR && d->annihilation)
    return na64_err_set(err, NA64_EINVAL, "resonant annihilation e+e- -> X is computed for the vector A' only");
  if (d->visible) {
    if (!(d->depth_X0 > 0.0)) return na64_err_set(err, NA64_EINVAL, "visible mode needs a dump of finite thickness (got %g X0)", d->depth_X0);
    if (!(d->decay_start_cm >= 0.0) || !(d->decay_length_cm > 0.0))
      return na64_err_set(err, NA64_EINVAL, "visible mode: decay region start %g cm, length %g cm must be >= 0, > 0",
                          d->decay_start_cm, d->decay_length_cm);
  }
  return NA64_OK;
}

void na64_beamdump_init_invisible(na64_beamdump *d, const na64_material *ecal, double E0, double ecal_max)
{
  memset(d, 0, sizeof *d);
  d->target = *ecal;
  d->E0 = E0;
  d->depth_X0 = 0.0; /* the ECAL contains the whole shower (~40 X0) */
  d->ea_min = E0 - ecal_max;
  d->ea_max = E0;
  d->method = NA64_XS_ETL;
}

void na64_beamdump_init_visible(na64_beamdump *d, const na64_material *wcal, double E0, double depth_X0, double ea_min,
                            double decay_start_cm, double decay_length_cm)
{
  memset(d, 0, sizeof *d);
  d->target = *wcal;
  d->E0 = E0;
  d->depth_X0 = depth_X0;
  d->ea_min = ea_min;
  d->ea_max = E0;
  d->visible = 1;
  d->decay_start_cm = decay_start_cm;
  d->decay_length_cm = decay_length_cm;
  d->method = NA64_XS_ETL;
}

/* sum_j n_j sigma_j(E; x >= x_min) in 1/cm at coupling 1, exact tree level (xsec_exact.c,
 * elastic + quasi-elastic form factor as the DMG4 ETL): from the shipped windowed grid of the
 * element where it covers (m, E, x_min) (xsec_exact_wgrid.c, docs/physics.md 4e; measured within 0.53%),
 * otherwise computed to 1% and remembered by na64_xsec_exact_cached. */
#define YIELD_EXACT_PREC 0.01
static int exact_macroscopic(const na64_material *mat, int lepton, int mediator, double E, double m, double x_min,
                             double *inv_cm, na64_err *err)
{
  double ml = lepton == NA64_LEPTON_MU ? NA64_M_MU : NA64_M_E, sum = 0.0;
  *inv_cm = 0.0;
  if (!(x_min < 1.0 - ml / E) || !(E > m + ml)) return NA64_OK; /* window closed */
  for (int j = 0; j < mat->ncomp; ++j) {
    na64_exact_process p;
    na64_exact_process_init(&p, (na64_lepton)lepton, (na64_mediator)mediator, E, m);
    p.Z = mat->comp[j].Z;
    p.A = mat->comp[j].A;
    p.x_min = fmax(x_min, 0.0);
    p.ff = NA64_FF_ALL; /* elastic + quasi-elastic, as the ETL values of the K table (docs/physics.md 4b) */
    double s = 0.0;
    int st = na64_exact_wgrid_eval(&p, &s) ? NA64_OK : na64_xsec_exact_cached(&p, YIELD_EXACT_PREC, &s, NULL, err);
    if (st) {
      na64_err_prefix(err, "material %s", mat->name);
      return st;
    }
    sum += na64_material_atom_density(mat, j) * s * 1e-36; /* pb -> cm^2 */
  }
  *inv_cm = sum;
  return NA64_OK;
}

/* Muon beam (NA64mu; Gninenko, Krasnikov, Matveev PRD 91 (2015) 095015; Kirpichnikov et al. PRD 104
 * (2021) 076012): a muon does not shower, so the yield per muon on target is the thin-target
 * formula along its path, N/MOT = BR_inv sum_j n_j int_0^L dl sigma_j(E(l); E_X > E(l) - E'_max),
 * with the mean energy E(l) of dE/dl = a + b E: a = E_c/X0 (ionisation; per X0 it is the electron
 * critical energy of the Rossi definition, a muon being as minimum-ionising), b = 3 (m_e/m_mu)^2/X0
 * (bremsstrahlung scaled by the mass squared from the electron's 1/X0, plus pair production and
 * photonuclear loss taken as twice it; an estimate: in 40 X0 of lead the muon loses ~1 GeV of 160,
 * and the yield changes by < 0.5% if it is ignored). The depth integral by 4-point Gauss-Legendre
 * (sigma varies slowly with E). */
static int muon_yield(const na64_beamdump *d, double m, double *per_mot, na64_err *err)
{
  static const double gx[4] = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526};
  static const double gw[4] = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538};
  const na64_material *mat = &d->target;
  double L = d->depth_X0 * mat->X0, eout_max = d->E0 - d->ea_min;
  double a = mat->E_c / mat->X0, b = 3.0 * pow(NA64_M_E / NA64_M_MU, 2) / mat->X0;
  double sum = 0.0;
  for (int k = 0; k < 4; ++k) {
    double l = 0.5 * L * (1.0 + gx[k]);
    double E = (d->E0 + a / b) * exp(-b * l) - a / b;
    double sg = 0.0;
    NA64_CALL(exact_macroscopic(mat, NA64_LEPTON_MU, d->mediator, E, m, (E - eout_max) / E, &sg, err));
    sum += 0.5 * L * gw[k] * sg;
  }
  *per_mot = na64_mediator_br_invisible((na64_mediator)d->mediator, m) * sum;
  return NA64_OK;
}

/* Node k of the exact invisible cross section: E - ea_min equal in ln from 1e-3 (E0 - ea_min) to
 * E0 - ea_min (see build_tables). */
static double exact_window_node(double ea_min, double E0, int k)
{
  return ea_min + (E0 - ea_min) * pow(1e-3, 1.0 - (double)k / (N_SIGMA_NODES - 1));
}

/* Production table W[k][a]: A' per EOT at eps = 1 in depth bin k and A' energy bin a. The shower
 * track length comes binned in (energy, depth) from the cascade (na64_track_length_binned), which
 * keeps the beam electron's integrable spike at E0 that point values on a grid would miss; the
 * cross section and the x-distribution are evaluated at the centre of each narrow (0.5% in ln E)
 * energy bin. */
static int build_tables(na64_yield *y, const na64_beamdump *d, const na64_track_length *tl, double Elo, na64_err *err)
{
  const double m = y->m, Ehi = d->E0;
  const int nE = N_ENERGY_BINS;
  y->na = d->visible ? N_ABINS : 1;
  y->nt = d->visible ? N_TBINS : 1;
  double Eedge[N_ENERGY_BINS + 1], Ec[N_ENERGY_BINS], tedge[N_TBINS + 1];
  for (int i = 0; i <= nE; ++i) Eedge[i] = Elo * pow(Ehi / Elo, (double)i / nE);
  for (int i = 0; i < nE; ++i) Ec[i] = sqrt(Eedge[i] * Eedge[i + 1]);
  if (d->visible) /* depth bins growing geometrically: the high-energy part of the shower is early */
    for (int k = 0; k <= y->nt; ++k) tedge[k] = d->depth_X0 * expm1(3.0 * k / y->nt) / expm1(3.0);
  y->W = calloc((size_t)(y->na * y->nt), sizeof *y->W);
  y->tmid = calloc((size_t)y->nt, sizeof *y->tmid);
  y->ea = calloc((size_t)y->na, sizeof *y->ea);
  y->ell1 = calloc((size_t)y->na, sizeof *y->ell1);
  double *TL = malloc((size_t)(nE * y->nt) * sizeof *TL);
  double *frac = malloc((size_t)(nE * y->na) * sizeof *frac);
  gsl_integration_workspace *ws = gsl_integration_workspace_alloc(200);
  int st = NA64_OK;
  if (!y->W || !y->tmid || !y->ea || !y->ell1 || !TL || !frac || !ws) st = na64_err_set(err, NA64_ENOMEM, "yield: out of memory");
  if (st == NA64_OK)
    st = na64_track_length_binned(tl, NA64_TL_CHARGED, nE, Eedge, d->visible ? y->nt : 0, d->visible ? tedge : NULL,
                                  TL, err);
  const double da = (d->ea_max - d->ea_min) / y->na;
  /* sigma(E) is smooth: evaluate it on N_SIGMA_NODES energies and interpolate linearly in
   * (ln E, ln sigma) (< 0.1% error; the WW total is a 2-D integral and too costly per bin) */
  double lnE_node[N_SIGMA_NODES], lnS_node[N_SIGMA_NODES];
  /* exact, invisible: the nodes hold the cross section with E_A' > ea_min itself (no IWW shape).
   * That cross section vanishes at E = ea_min and rises as a power of (E - ea_min) above it, so its
   * nodes are equal in ln(E - ea_min) and it is interpolated in (ln(E - ea_min), ln sigma). Nodes
   * equal in ln E put one node at the threshold (sigma = 0) and lost the emitters between it and the
   * next node, ~2% of the yield (seen against the exact sampler, tests/sim/test_sim_exact.c). */
  const int exact_window = d->method == NA64_XS_EXACT && !d->visible;
  /* scalar, pseudoscalar, axial (visible): exact totals and the exact x-shape, whatever d->method says; vector
   * (visible) with the exact method: the exact x-shape with the totals of the method below.
   * Invisible: no shape, the windowed totals of the chosen mediator (vector, scalar, pseudoscalar,
   * axial; issue 14) at coupling 1 (eps = 1 for the vector, g = 1 for the others, docs/physics.md 4b) */
  ps_shape ps_store = {0}, *ps = NULL;
  double *gshape = NULL; /* the exact shape from the windowed grid where it covers (grid_shape) */
  const int vis_exact_med = d->visible && d->mediator != NA64_MED_VECTOR; /* exact whatever d->method says */
  if (st == NA64_OK && d->visible && (vis_exact_med || d->method == NA64_XS_EXACT)) {
    gshape = malloc((size_t)(nE * y->na) * sizeof *gshape);
    if (!gshape) st = na64_err_set(err, NA64_ENOMEM, "yield: out of memory");
    else if (!grid_shape(&d->target, d->mediator, m, nE, Ec, d->ea_min, (d->ea_max - d->ea_min) / y->na, y->na, gshape)) {
      free(gshape);
      gshape = NULL;
    }
    if (st == NA64_OK && !gshape) st = exact_shape(&d->target, d->mediator, Ehi, m, &ps_store, err);
    ps = &ps_store;
  }
  for (int k = 0; st == NA64_OK && k < N_SIGMA_NODES; ++k) {
    double E = exact_window ? exact_window_node(d->ea_min, Ehi, k) : Elo * pow(Ehi / Elo, (double)k / (N_SIGMA_NODES - 1));
    lnE_node[k] = exact_window ? log(E - d->ea_min) : log(E);
    double sg = 0.0; /* eps = 1; 0 where the method gives nothing (below threshold) */
    if (exact_window) st = exact_macroscopic(&d->target, NA64_LEPTON_E, d->mediator, E, m, d->ea_min / E, &sg, err);
    else if (ps && vis_exact_med) {
      st = exact_macroscopic(&d->target, NA64_LEPTON_E, d->mediator, E, m, 0.0, &sg, err);
      sg *= 4.0 * M_PI * NA64_ALPHA_EM; /* at g = 1 -> at eps = 1, g = eps e */
    } else na64_xsec_macroscopic_unchecked(d->method, &d->target, E, m, 1.0, &sg, NULL);
    lnS_node[k] = sg > 0.0 ? log(sg) : -INFINITY;
  }
  for (int i = 0; st == NA64_OK && i < nE; ++i) {
    /* cross section per cm at eps = 1 times the fraction of A' in each accepted energy bin */
    double norm = gshape ? 1.0 : shape_integral(Ec[i], m, 0.0, 1.0, ps, ws);
    if (exact_window && !(Ec[i] > d->ea_min)) {
      frac[i] = 0.0; /* no A' above ea_min from an emitter below it */
      continue;
    }
    double v = exact_window ? log(Ec[i] - d->ea_min) : log(Ec[i]);
    double u = (v - lnE_node[0]) / (lnE_node[1] - lnE_node[0]);
    int k = (int)u;
    if (k > N_SIGMA_NODES - 2) k = N_SIGMA_NODES - 2;
    double f = u - k, lns = lnS_node[k] + f * (lnS_node[k + 1] - lnS_node[k]);
    double sig = (norm > 0.0 && isfinite(lns)) ? exp(lns) / norm : 0.0;
    if (exact_window) {
      frac[i] = isfinite(lns) ? exp(lns) : 0.0;
      continue;
    }
    for (int a = 0; a < y->na; ++a) {
      double ea0 = d->ea_min + a * da, ea1 = ea0 + da;
      double part = gshape ? gshape[i * y->na + a] : shape_integral(Ec[i], m, ea0 / Ec[i], ea1 / Ec[i], ps, ws);
      frac[i * y->na + a] = sig > 0.0 ? sig * part : 0.0;
    }
  }
  for (int k = 0; st == NA64_OK && k < y->nt; ++k) {
    y->tmid[k] = d->visible ? 0.5 * (tedge[k] + tedge[k + 1]) : 0.0;
    for (int i = 0; i < nE; ++i)
      for (int a = 0; a < y->na; ++a) y->W[k * y->na + a] += TL[k * nE + i] * frac[i * y->na + a];
  }
  for (int a = 0; a < y->na; ++a) y->ea[a] = d->ea_min + (a + 0.5) * da;
  free(TL);
  free(frac);
  free(gshape);
  if (ws) gsl_integration_workspace_free(ws);
  return st;
}

/* scalar, pseudoscalar, axial (visible): BR(e+e-) = 1 (coupled to electrons only; the decays to two
 * photons through the electron loop neglected, ~1e-3 of the e+e- width at 16.7 MeV) and the lab decay
 * length at eps = 1 (g = e) from the e+e- width of the mediator (decay.c na64_width_mediator_ll:
 * g^2 m beta^3/(8 pi), g^2 m beta/(8 pi), g^2 m beta^3/(12 pi)) */
static int mediator_decay(na64_yield *y, int mediator)
{
  double m = y->m, g = sqrt(4.0 * M_PI * NA64_ALPHA_EM);
  double ctau = NA64_HBARC / na64_width_mediator_ll((na64_mediator)mediator, m, g, NA64_M_E);
  y->br_ee = 1.0;
  for (int k = 0; k < y->na; ++k) y->ell1[k] = sqrt(y->ea[k] * y->ea[k] - m * m) / m * ctau;
  return NA64_OK;
}

int na64_yield_new(const na64_beamdump *d, double m, na64_yield **out, na64_err *err)
{
  NA64_CALL(na64_beamdump_check(d, err));
  if (!isfinite(m) || !(m > 0.0)) return na64_err_set(err, NA64_EPHYS, "A' mass %g MeV must be positive", m * 1e3);
  if (m > 1.0 * (1 + 1e-9) || m < 1e-6)
    return na64_err_set(err, NA64_ERANGE, "A' mass %g MeV is outside the validity range of the cross sections (0.001-1000 MeV)",
                        m * 1e3);
  if (!(m < d->ea_max)) return na64_err_set(err, NA64_EPHYS, "A' mass %g GeV above the accepted A' energies", m);
  na64_yield *y = calloc(1, sizeof *y);
  if (!y) return na64_err_set(err, NA64_ENOMEM, "yield: out of memory");
  y->m = m;
  y->E0 = d->E0;
  y->visible = d->visible;
  y->X0 = d->target.X0;
  y->L_X0 = d->depth_X0;
  y->d_start = d->decay_start_cm;
  y->d_len = d->decay_length_cm;
  if (d->lepton == NA64_LEPTON_MU) {
    y->na = y->nt = 1;
    y->W = calloc(1, sizeof *y->W);
    y->tmid = calloc(1, sizeof *y->tmid);
    y->ea = calloc(1, sizeof *y->ea);
    y->ell1 = calloc(1, sizeof *y->ell1);
    int st = (y->W && y->tmid && y->ea && y->ell1) ? muon_yield(d, m, y->W, err)
                                                   : na64_err_set(err, NA64_ENOMEM, "yield: out of memory");
    if (st != NA64_OK) {
      na64_yield_free(y);
      return st;
    }
    *out = y;
    return NA64_OK;
  }
  na64_track_length *tl = NULL;
  double Emin = fmax(d->ea_min, m * 1.000001);
  if (Emin >= d->E0) Emin = 0.5 * (m + d->E0);
  int st = na64_track_length_get(&d->target, d->E0, Emin, d->visible ? d->depth_X0 : 0.0, NULL, &tl, err);
  if (st == NA64_OK) st = build_tables(y, d, tl, Emin, err);
  if (st == NA64_OK && d->annihilation && !d->visible) {
    double Eres = (m * m - 2.0 * NA64_M_E * NA64_M_E) / (2.0 * NA64_M_E); /* positron energy on resonance */
    if (Eres >= d->ea_min && Eres <= d->ea_max && Eres >= Emin && Eres <= d->E0) {
      double n_e = 0.0;
      for (int j = 0; j < d->target.ncomp; ++j) n_e += d->target.comp[j].Z * na64_material_atom_density(&d->target, j);
      double sigma_dE = 2.0 * M_PI * M_PI * NA64_ALPHA_EM / NA64_M_E * NA64_GEV2_PB * 1e-36; /* cm^2 GeV */
      y->resonant = n_e * na64_track_length_eval(tl, NA64_TL_POSITRON, Eres) * sigma_dE;
    }
  }
  if (st == NA64_OK && d->visible && m <= 2.0 * NA64_M_E) {
    y->br_ee = 0.0; /* below the e+e- threshold a minimal A' cannot decay visibly: no signal */
    for (int k = 0; k < y->na; ++k) y->ell1[k] = INFINITY;
  } else if (st == NA64_OK && d->visible && d->mediator != NA64_MED_VECTOR) {
    st = mediator_decay(y, d->mediator);
  } else if (st == NA64_OK && d->visible) {
    na64_aprime a = {m, 1.0, NA64_DM_NONE, 0, 0, 0};
    na64_aprime_decay dec;
    st = na64_aprime_decay_compute(&a, &dec, err);
    if (st == NA64_OK) {
      y->br_ee = dec.br_ee;
      for (int k = 0; k < y->na; ++k) y->ell1[k] = sqrt(y->ea[k] * y->ea[k] - m * m) / m * dec.ctau;
    }
  }
  na64_track_length_free(tl);
  if (st != NA64_OK) {
    na64_yield_free(y);
    return st;
  }
  *out = y;
  return NA64_OK;
}

double na64_yield_production(const na64_yield *y)
{
  double s = 0.0;
  for (int i = 0; i < y->na * y->nt; ++i) s += y->W[i];
  return s;
}

double na64_yield_resonant(const na64_yield *y) { return y->resonant; }

double na64_yield_per_eot(const na64_yield *y, double eps)
{
  double e2 = eps * eps;
  if (!y->visible) return e2 * (na64_yield_production(y) + y->resonant);
  if (!(y->br_ee > 0.0)) return 0.0;
  double sum = 0.0;
  for (int k = 0; k < y->nt; ++k) {
    double d1 = (y->L_X0 - y->tmid[k]) * y->X0 + y->d_start, d2 = d1 + y->d_len;
    for (int a = 0; a < y->na; ++a) {
      double ell = y->ell1[a] / e2; /* c tau is proportional to 1/eps^2 */
      double p = exp(-d1 / ell) - exp(-d2 / ell);
      sum += y->W[k * y->na + a] * p;
    }
  }
  return e2 * y->br_ee * sum;
}

void na64_yield_free(na64_yield *y)
{
  if (!y) return;
  free(y->W);
  free(y->tmid);
  free(y->ea);
  free(y->ell1);
  free(y);
}

int na64_yield_visible_table(const na64_yield *y, na64_yield_table *t, na64_err *err)
{
  if (!y || !t || !y->visible) return na64_err_set(err, NA64_EINVAL, "yield table: not a visible-mode yield");
  *t = (na64_yield_table){y->nt, y->na, y->W, y->tmid, y->ea, y->ell1, y->X0, y->L_X0, y->d_start, y->d_len, y->br_ee};
  return NA64_OK;
}
