/*
 * Electromagnetic cascade: differential track-length spectra of shower e-, e+ and photons.
 *
 * Physics (docs/cascade.md has the derivation and the references):
 *  - one-dimensional (longitudinal) cascade theory, B. Rossi and K. Greisen, Rev. Mod. Phys. 13
 *    (1941) 240; B. Rossi, "High-Energy Particles" (Prentice-Hall 1952), ch. 5: Approximation A
 *    (radiation processes only) and Approximation B (plus a constant ionization loss of E_c per X0);
 *  - bremsstrahlung and pair production with the complete-screening spectra of Y.S. Tsai,
 *    Rev. Mod. Phys. 46 (1974) 815, eqs. (3.83) and (3.84), written per radiation length X0 of
 *    Tsai's eq. (3.66) (PDG "Passage of particles through matter" eqs. 34.25-34.31):
 *        brems  phi(v) dv = dv/v [ (4/3 + a)(1 - v) + v^2 ],      v = k/E
 *        pair   psi(x) dx = dx   [ 1 - (4/3 + a) x (1 - x) ],     x = E_e/k
 *    with a = (1/9) sum n_i (Z_i^2 + Z_i) / sum n_i [Z_i^2 (L_rad - f(Z_i)) + Z_i L'_rad]
 *    (a = 0 gives the PDG forms 34.29/34.31).
 *
 * Numerics: the energy axis is u = ln(E0/E), cut into n equal cells from E0 down to E_min. The
 * particles in a cell are taken uniformly distributed in u (a multigroup discretisation); the
 * transfer rates between cells are then exact integrals of the kernels against hat functions,
 * which depend only on the cell distance (complete screening is scale invariant), so they are
 * computed once per solve. The singular soft-photon part of the bremsstrahlung kernel (~4/(3w))
 * cancels between loss and gain: only jumps that leave the cell are counted, with the exact
 * out-of-cell rate. Energy only flows downwards, so cell j depends on cells < j alone:
 *  - thick target: the depth-integrated equations are solved cell by cell (forward substitution);
 *  - finite depth: the same triangular system is integrated in depth with an exponential
 *    integrator (exact for forcing quadratic within a step) for each 2x2 (e+-, photon) cell block.
 * The multigroup error is first order in the cell width h; solving with h and h/2 and combining
 * (Richardson extrapolation) makes it second order. The beam electron starts at the cell edge
 * E0, which no cell average can represent: near E0 it is computed exactly by Laplace inversion
 * (section "the beam electron near E0"). The beam electron is followed separately (brems keeps
 * it an electron), so that e- = primary + (charged - primary)/2 and e+ = (charged - primary)/2.
 */
#include <complex.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_integration.h>

#include "na64/physics.h"

#define CASCADE_DEFAULT_CPE 50       /* cells per unit ln E, thick target (docs/cascade.md) */
#define CASCADE_DEFAULT_CPE_DEPTH 25 /* ... depth-resolved (cost ~ cells^2 x steps) */
#define CASCADE_DEFAULT_STEP 0.05   /* X0, first depth step; docs/cascade.md, convergence */
#define CASCADE_STEP_GROWTH 1.03
#define CASCADE_STEP_GROWTH_MAX 5.0
#define CASCADE_MAX_CELLS 20000
#define CASCADE_MAX_STORE 50000000L /* doubles in the depth-resolved store (400 MB) */
#define GL_ORDER 16

enum { KIND_CHARGED = 0, KIND_PRIMARY = 1, KIND_PHOTON = 2, NKIND = 3 };

struct na64_track_length {
  atomic_int refs;
  na64_cascade_options opts;
  char name[32];
  double X0, Ec, E0, Emin, depth; /* depth 0: thick target */
  double a, sigma0;               /* Tsai (1/9)-term coefficient; pair attenuation per X0 */
  int n;                          /* energy cells */
  double h;                       /* cell width in u = ln(E0/E) */
  double *fin;                    /* [kind][j]: track length (X0) in cell j over the whole depth */
  int m;                          /* depth steps (0: thick) */
  double *tk;                     /* depth grid t_0 = 0 < ... < t_m = depth, X0 */
  double *cum;                    /* [kind][k][j]: track length in cell j within depth tk[k] */
  double *count;                  /* [kind][k]: particles (E >= E_min) at depth tk[k] */
  int ktop;                       /* cells [0, ktop) hold the exact beam-electron values */
  int ltop;                       /* sub-intervals of the top region */
  double *xtop;                   /* their nodes in u, xtop[0] = 0 */
  double *top;                    /* [row][i]: beam-electron track length with u <= xtop[i] */
};

/* ------------------------------------------------------------------------------------------ */
/* options and material                                                                         */

void na64_cascade_options_default(na64_cascade_options *opts)
{
  if (!opts) return;
  opts->spectra = NA64_CASCADE_SPECTRA_TSAI;
  opts->ionization = NA64_CASCADE_ION_CONST;
  opts->cells_per_efold = 0;
  opts->depth_step = 0.0;
  opts->richardson = 1;
}

/* Z^2 (L_rad - f(Z)) + Z L'_rad: Tsai RMP 46 (1974) eq. (3.66) bracket, with L_rad, L'_rad of his
 * Table B.2 for Z <= 4 and the Thomas-Fermi forms ln(184.15 Z^-1/3), ln(1194 Z^-2/3) above (PDG
 * Table 34.2 and eq. 34.26), and the Coulomb correction f(Z) of PDG eq. 34.27 (Davies-Bethe-
 * Maximon). */
static double tsai_bracket(double Z)
{
  static const double Lrad_light[5] = {0.0, 5.31, 4.79, 4.74, 4.71};
  static const double Lprad_light[5] = {0.0, 6.144, 5.621, 5.805, 5.924};
  int iz = (int)lround(Z);
  double Lrad, Lprad;
  if (iz >= 1 && iz <= 4 && fabs(Z - iz) < 0.5) {
    Lrad = Lrad_light[iz];
    Lprad = Lprad_light[iz];
  } else {
    Lrad = log(184.15 * pow(Z, -1.0 / 3.0));
    Lprad = log(1194.0 * pow(Z, -2.0 / 3.0));
  }
  double az = NA64_ALPHA_EM * Z, a2 = az * az;
  double f = a2 * (1.0 / (1.0 + a2) + 0.20206 - 0.0369 * a2 + 0.0083 * a2 * a2 -
                   0.002 * a2 * a2 * a2);
  return Z * Z * (Lrad - f) + Z * Lprad;
}

/* The coefficient a of the (1/9) terms for a material (number densities n_i ~ w_i / A_i). */
static int material_a(const na64_material *mat, double *a, na64_err *err)
{
  double num = 0.0, den = 0.0;
  if (mat->ncomp >= 1 && mat->ncomp <= NA64_MAT_MAXCOMP) {
    for (int i = 0; i < mat->ncomp; ++i) {
      const na64_component *c = &mat->comp[i];
      if (c->Z < 1 || c->Z > 120 || !(c->A > 0.0) || !isfinite(c->A) || !(c->w >= 0.0) ||
          !isfinite(c->w))
        return na64_err_set(err, NA64_EINVAL,
                            "na64_track_length_new: material '%s' component %d has Z = %d, "
                            "A = %g, w = %g (need Z >= 1, A > 0, w >= 0)",
                            mat->name, i, c->Z, c->A, c->w);
      double n = c->w / c->A, Z = c->Z;
      num += n * (Z * Z + Z);
      den += n * tsai_bracket(Z);
    }
  } else if (mat->Z_eff >= 1.0 && isfinite(mat->Z_eff)) {
    num = mat->Z_eff * mat->Z_eff + mat->Z_eff;
    den = tsai_bracket(mat->Z_eff);
  } else {
    return na64_err_set(err, NA64_EINVAL,
                        "na64_track_length_new: material '%s' has no composition (ncomp = %d, "
                        "Z_eff = %g)",
                        mat->name, mat->ncomp, mat->Z_eff);
  }
  if (!(den > 0.0))
    return na64_err_set(err, NA64_EINVAL,
                        "na64_track_length_new: material '%s' has zero total mass fraction",
                        mat->name);
  *a = num / (9.0 * den);
  return NA64_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* kernels, per X0 (all in logarithmic energy variables)                                        */

typedef struct {
  int spectra;
  double a;
} kpar;

/* Electron after emitting a photon: w = -ln(1 - v) = ln(E/E'), density phi(v) dv/dw =
 * phi(v)(1 - v) = [(4/3 + a) e^-w + (1 - e^-w)^2] / (e^w - 1). Tsai-log kernel:
 * phi_T(v) = (4/3)/(-ln(1 - v)) gives (4/3) e^-w / w (the Gamma-process of Tsai's I_e). */
static double k_elec(double w, const kpar *p)
{
  double q = exp(-w);
  if (p->spectra == NA64_CASCADE_SPECTRA_TSAI_LOG) return (4.0 / 3.0) * q / w;
  double omq = -expm1(-w);
  return ((4.0 / 3.0 + p->a) * q + omq * omq) / expm1(w);
}

/* Tail integral int_s^inf k_elec(w) dw in closed form:
 * -(4/3 + a)[ln(1 - e^-s) + e^-s] + e^-s - e^-2s / 2; Tsai-log: (4/3) E1(s). */
static double kbar_elec(double s, const kpar *p)
{
  if (p->spectra == NA64_CASCADE_SPECTRA_TSAI_LOG) {
    /* E1(s) = -gamma - ln s - sum_{k>=1} (-s)^k / (k k!)  (Abramowitz-Stegun 5.1.11), s <= 1 */
    double sum = 0.0, term = 1.0;
    for (int k = 1; k < 60; ++k) {
      term *= -s / k;
      sum += term / k;
      if (fabs(term) < 1e-18) break;
    }
    return (4.0 / 3.0) * (-0.57721566490153286 - log(s) - sum);
  }
  double q = exp(-s);
  return -(4.0 / 3.0 + p->a) * (log(-expm1(-s)) + q) + q - 0.5 * q * q;
}

/* Photon: z = ln(E/k), density phi(v) v = (4/3 + a)(1 - v) + v^2 with v = e^-z. */
static double k_phot(double z, const kpar *p)
{
  double v = exp(-z);
  if (p->spectra == NA64_CASCADE_SPECTRA_TSAI_LOG) return (4.0 / 3.0) * v / (-log(-expm1(-z)));
  return (4.0 / 3.0 + p->a) * (-expm1(-z)) + v * v;
}

/* One lepton of a pair: z = ln(k/E_e), density psi(x) x with x = e^-z (per X0 of photon path). */
static double k_pair(double z, const kpar *p)
{
  double x = exp(-z);
  double aa = p->spectra == NA64_CASCADE_SPECTRA_TSAI ? p->a : 0.0;
  return x * (1.0 - (4.0 / 3.0 + aa) * x * (1.0 - x));
}

typedef double (*kernel_fn)(double, const kpar *);

/* int k(z) Lambda_m(z) dz, Lambda_m the hat function of half-width h centred on m h, z >= 0:
 * the rate (per X0) at which particles spread uniformly over a source cell land in the cell m
 * cells below. Gauss-Legendre on each half; for the electron kernel at m = 1 the integrand
 * z k(z)/h is analytic at z = 0. */
static double hat_integral(kernel_fn k, const kpar *p, int m, double h,
                           const gsl_integration_glfixed_table *gl)
{
  double s = 0.0, xi, wi;
  if (m >= 1) {
    double lo = (m - 1) * h;
    for (size_t i = 0; i < GL_ORDER; ++i) {
      gsl_integration_glfixed_point(lo, lo + h, i, &xi, &wi, gl);
      s += wi * k(xi, p) * (xi - lo) / h;
    }
  }
  double lo = m * h;
  for (size_t i = 0; i < GL_ORDER; ++i) {
    gsl_integration_glfixed_point(lo, lo + h, i, &xi, &wi, gl);
    s += wi * k(xi, p) * (lo + h - xi) / h;
  }
  return s;
}

/* Rate of leaving a cell by bremsstrahlung: (1/h) int_0^h du' int_{h-u'}^inf k(z) dz
 * = Kbar(h) + (1/h) int_0^h z k(z) dz (integration by parts). */
static double out_rate(const kpar *p, double h, const gsl_integration_glfixed_table *gl)
{
  double s = 0.0, xi, wi;
  for (size_t i = 0; i < GL_ORDER; ++i) {
    gsl_integration_glfixed_point(0.0, h, i, &xi, &wi, gl);
    s += wi * xi * k_elec(xi, p);
  }
  return kbar_elec(h, p) + s / h;
}

/* ------------------------------------------------------------------------------------------ */
/* exponential integrator for y' = M y + b(t), 2x2 and scalar                                   */

/* phi_k(z) = sum_n z^n / (n + k)!  (phi_0 = e^z, phi_1 = (e^z - 1)/z, ...), k = 0..4 */
static double phik(int k, double z)
{
  if (fabs(z) < 1.0) {
    double fact = 1.0;
    for (int i = 2; i <= k; ++i) fact *= i;
    double term = 1.0 / fact, sum = term;
    for (int n = 1; n < 30; ++n) {
      term *= z / (n + k);
      sum += term;
      if (fabs(term) < 1e-18 * fabs(sum)) break;
    }
    return sum;
  }
  double e = exp(z);
  switch (k) {
  case 0: return e;
  case 1: return expm1(z) / z;
  case 2: return (expm1(z) - z) / (z * z);
  case 3: return (expm1(z) - z - 0.5 * z * z) / (z * z * z);
  default: return (expm1(z) - z - 0.5 * z * z - z * z * z / 6.0) / (z * z * z * z);
  }
}

/* F = dt^k phi_k(M dt) for a 2x2 matrix with real eigenvalues (row-major out[4]), through the
 * divided-difference (Newton) form f(M) = f(mu2) I + [f(mu1) - f(mu2)]/(mu1 - mu2) (M - mu2 I). */
static void matfun(int k, const double M[4], double dt, double out[4])
{
  double tr = M[0] + M[3];
  double disc = sqrt((M[0] - M[3]) * (M[0] - M[3]) + 4.0 * M[1] * M[2]);
  double mu1 = 0.5 * (tr + disc), mu2 = 0.5 * (tr - disc);
  double sc = pow(dt, k);
  double f2 = sc * phik(k, mu2 * dt), dd;
  if (disc * dt > 1e-6) {
    dd = (sc * phik(k, mu1 * dt) - f2) / (mu1 - mu2);
  } else { /* (nearly) equal eigenvalues: the divided difference is the derivative */
    double eps = 1e-4 / dt;
    dd = sc * (phik(k, (mu2 + eps) * dt) - phik(k, (mu2 - eps) * dt)) / (2.0 * eps);
  }
  out[0] = f2 + dd * (M[0] - mu2);
  out[1] = dd * M[1];
  out[2] = dd * M[2];
  out[3] = f2 + dd * (M[3] - mu2);
}

/* One depth step [t, t + dt] for a cell: the forcing b is the parabola through its values at
 * t - dtm (b_m), t (b_0) and t + dt (b_p) (a straight line through b_0, b_p if dtm = 0), i.e.
 * b(s) = b_0 + b1 s + b2 s^2 with s = time since t. With int_0^dt e^{M(dt-s)} s^k ds
 * = k! dt^(k+1) phi_(k+1)(M dt) (Hochbruck and Ostermann, Acta Numerica 19 (2010) 209):
 *   y(t+dt)        = F0 y + F1 b_0 + F2 b1 + 2 F3 b2,       F_k = dt^k phi_k(M dt),
 *   int_t^{t+dt} y = F1 y + F2 b_0 + F3 b1 + 2 F4 b2.
 * b1, b2 are linear in (b_m, b_0, b_p); the products are folded into the matrices below. */
typedef struct {
  double Ay[4], Abm[4], Abo[4], Abn[4]; /* y(t+dt) = Ay y + Abm b_m + Abo b_0 + Abn b_p */
  double Iy[4], Ibm[4], Ibo[4], Ibn[4]; /* int y   = Iy y + Ibm b_m + Ibo b_0 + Ibn b_p */
  double ay, abm, abo, abn, iy, ibm, ibo, ibn; /* the same for the scalar primary chain */
} stepper;

/* b1 = c1m b_m + c10 b_0 + c1p b_p, b2 = c2m b_m + c20 b_0 + c2p b_p */
static void parabola_coeffs(double dt, double dtm, double c1[3], double c2[3])
{
  if (dtm <= 0.0) {
    c1[0] = 0.0, c1[1] = -1.0 / dt, c1[2] = 1.0 / dt;
    c2[0] = c2[1] = c2[2] = 0.0;
    return;
  }
  /* b2 = [(b_p - b_0)/dt + (b_m - b_0)/dtm] / (dt + dtm), b1 = (b_p - b_0)/dt - b2 dt */
  double w = 1.0 / (dt + dtm);
  c2[0] = w / dtm;
  c2[2] = w / dt;
  c2[1] = -(c2[0] + c2[2]);
  c1[0] = -c2[0] * dt;
  c1[1] = -1.0 / dt - c2[1] * dt;
  c1[2] = 1.0 / dt - c2[2] * dt;
}

static void stepper_init(stepper *s, const double M[4], double lam, double dt, double dtm)
{
  double F[5][4], c1[3], c2[3];
  for (int k = 0; k <= 4; ++k) matfun(k, M, dt, F[k]);
  parabola_coeffs(dt, dtm, c1, c2);
  for (int i = 0; i < 4; ++i) {
    s->Ay[i] = F[0][i];
    s->Abm[i] = F[2][i] * c1[0] + 2.0 * F[3][i] * c2[0];
    s->Abo[i] = F[1][i] + F[2][i] * c1[1] + 2.0 * F[3][i] * c2[1];
    s->Abn[i] = F[2][i] * c1[2] + 2.0 * F[3][i] * c2[2];
    s->Iy[i] = F[1][i];
    s->Ibm[i] = F[3][i] * c1[0] + 2.0 * F[4][i] * c2[0];
    s->Ibo[i] = F[2][i] + F[3][i] * c1[1] + 2.0 * F[4][i] * c2[1];
    s->Ibn[i] = F[3][i] * c1[2] + 2.0 * F[4][i] * c2[2];
  }
  double f[5];
  for (int k = 0; k <= 4; ++k) f[k] = pow(dt, k) * phik(k, -lam * dt);
  s->ay = f[0];
  s->abm = f[2] * c1[0] + 2.0 * f[3] * c2[0];
  s->abo = f[1] + f[2] * c1[1] + 2.0 * f[3] * c2[1];
  s->abn = f[2] * c1[2] + 2.0 * f[3] * c2[2];
  s->iy = f[1];
  s->ibm = f[3] * c1[0] + 2.0 * f[4] * c2[0];
  s->ibo = f[2] + f[3] * c1[1] + 2.0 * f[4] * c2[1];
  s->ibn = f[3] * c1[2] + 2.0 * f[4] * c2[2];
}

/* ------------------------------------------------------------------------------------------ */
/* the solver                                                                                   */

typedef struct {
  int n;
  double h, O, sigma0;
  double *tau, *rho, *pp, *d; /* tau[m] e->e (m >= 1), rho[m] e->gamma, pp[m] gamma->e (m >= 0) */
} system_t;

static void system_release(system_t *s)
{
  free(s->tau);
  free(s->rho);
  free(s->pp);
  free(s->d);
}

static int system_build(system_t *s, const kpar *p, int n, double h, double E0, double eps_ion,
                        na64_err *err)
{
  memset(s, 0, sizeof *s);
  s->n = n;
  s->h = h;
  s->tau = calloc((size_t)n, sizeof(double));
  s->rho = calloc((size_t)n, sizeof(double));
  s->pp = calloc((size_t)n, sizeof(double));
  s->d = calloc((size_t)n, sizeof(double));
  gsl_integration_glfixed_table *gl = gsl_integration_glfixed_table_alloc(GL_ORDER);
  if (!s->tau || !s->rho || !s->pp || !s->d || !gl) {
    if (gl) gsl_integration_glfixed_table_free(gl);
    system_release(s);
    return na64_err_set(err, NA64_ENOMEM, "na64_track_length_new: out of memory (%d cells)", n);
  }
  for (int m = 0; m < n; ++m) {
    s->tau[m] = m >= 1 ? hat_integral(k_elec, p, m, h, gl) : 0.0;
    s->rho[m] = hat_integral(k_phot, p, m, h, gl);
    s->pp[m] = hat_integral(k_pair, p, m, h, gl);
  }
  s->O = out_rate(p, h, gl);
  /* sigma_0 = int psi(x) dx = 7/9 - a/6 */
  s->sigma0 = 7.0 / 9.0 - (p->spectra == NA64_CASCADE_SPECTRA_TSAI ? p->a : 0.0) / 6.0;
  /* Ionization (Approximation B): continuous loss eps_ion GeV per X0. The drift rate out of a
   * cell is eps/(E_top - E_bottom): exact for a flat dT/dE across the cell, the shape of the
   * ionization-dominated regime (Rossi 1952, ch. 5, Approximation B). */
  for (int j = 0; j < n; ++j) {
    double Etop = E0 * exp(-j * h), Ebot = E0 * exp(-(j + 1) * h);
    s->d[j] = eps_ion > 0.0 ? eps_ion / (Etop - Ebot) : 0.0;
  }
  gsl_integration_glfixed_table_free(gl);
  return NA64_OK;
}

/* The emission of one cell (charged c, photons g, primary p) into the len-1 cells below it:
 * e+- gains tau c + 2 pp g, photon gains rho c, primary gains tau p. */
static void push3(int len, const double *restrict tau, const double *restrict rho,
                  const double *restrict pp, double c, double g, double p, double *restrict sc,
                  double *restrict sg, double *restrict sp)
{
  for (int mm = 1; mm < len; ++mm) {
    sc[mm] += tau[mm] * c + 2.0 * pp[mm] * g;
    sg[mm] += rho[mm] * c;
    sp[mm] += tau[mm] * p;
  }
}

/* Thick target: depth-integrated balance of each cell, top to bottom. out[kind][j] in X0.
 * The gains of cell j from the cells above are accumulated in "push" form (each finished cell
 * adds its emission to all cells below), which the compiler vectorises. */
static int solve_thick(const system_t *s, double *out, na64_err *err)
{
  int n = s->n;
  double *C = out + KIND_CHARGED * n, *P = out + KIND_PRIMARY * n, *G = out + KIND_PHOTON * n;
  double *sc = calloc(3 * (size_t)n, sizeof(double));
  if (!sc) return na64_err_set(err, NA64_ENOMEM, "na64_track_length_new: out of memory");
  double *sg = sc + n, *sp = sc + 2 * n;
  sc[0] = sp[0] = 1.0; /* the beam electron enters cell 0 */
  const double *tau = s->tau, *rho = s->rho, *pp = s->pp;
  for (int j = 0; j < n; ++j) {
    double lam = s->O + s->d[j];
    /* lam C = sc + 2 pp0 G ; sigma0 G = sg + rho0 C  (a 2x2 system for the cell) */
    double Cj = (sc[j] + 2.0 * pp[0] * sg[j] / s->sigma0) /
                (lam - 2.0 * pp[0] * rho[0] / s->sigma0);
    double Gj = (sg[j] + rho[0] * Cj) / s->sigma0;
    double Pj = sp[j] / lam;
    C[j] = Cj;
    G[j] = Gj;
    P[j] = Pj;
    if (j + 1 < n) {
      sc[j + 1] += s->d[j] * Cj; /* ionization drift into the next cell */
      sp[j + 1] += s->d[j] * Pj;
    }
    push3(n - j, tau, rho, pp, Cj, Gj, Pj, sc + j, sg + j, sp + j);
  }
  free(sc);
  return NA64_OK;
}

/* Finite depth: y_j = (charged, photon) numbers in cell j obey
 *   dc_j/dt = -(O + d_j) c_j + 2 pp0 g_j + [sum_{i<j} tau c_i + 2 pp g_i + d_{j-1} c_{j-1}]
 *   dg_j/dt = rho0 c_j - sigma0 g_j     + [sum_{i<j} rho c_i]
 * The bracket (forcing) is known once cells < j are advanced; it is taken linear within a step.
 * Depth grid tk[0..m] (tk[0] = 0). cum[kind][k][j] receives the track length in cell j within depth k dt, count[kind][k] the
 * number of particles at depth k dt. */
static int solve_depth(const system_t *s, int m, const double *tk, double *cum, double *count,
                       na64_err *err)
{
  int n = s->n;
  size_t nn = (size_t)n;
  stepper *st = malloc(nn * sizeof *st);
  double *work = calloc(15 * nn, sizeof(double));
  if (!st || !work) {
    free(st);
    free(work);
    return na64_err_set(err, NA64_ENOMEM, "na64_track_length_new: out of memory (%d cells)", n);
  }
  /* state; forcing at t - dtm (b_m), t (b_0), t + dt (b_p), each as (charged, photon, primary)
   * contiguous blocks of n; accumulated track lengths */
  double *c = work, *g = work + nn, *p = work + 2 * nn;
  double *bm = work + 3 * nn, *b0 = work + 6 * nn, *bp = work + 9 * nn;
  double *Cacc = work + 12 * nn, *Gacc = work + 13 * nn, *Pacc = work + 14 * nn;
  const double *tau = s->tau, *rho = s->rho, *pp = s->pp;
  double dt_init = -1.0, dtm_init = -1.0;
  int jlive = 0; /* cells above jlive hold (and receive) nothing any more: skipped */
  /* the beam electron enters at E0 (cell 0); the forcing at t = 0 is its emission below */
  c[0] = p[0] = 1.0;
  for (int j = 1; j < n; ++j) {
    b0[j] = b0[2 * nn + j] = tau[j] + (j == 1 ? s->d[0] : 0.0);
    b0[nn + j] = rho[j];
  }
  size_t stride = (size_t)(m + 1) * nn;
  count[KIND_CHARGED * (m + 1)] = 1.0;
  count[KIND_PRIMARY * (m + 1)] = 1.0;
  count[KIND_PHOTON * (m + 1)] = 0.0;
  for (int k = 0; k < m; ++k) {
    double dt = tk[k + 1] - tk[k], dtm = k > 0 ? tk[k] - tk[k - 1] : 0.0;
    if (dt != dt_init || dtm != dtm_init) { /* the steppers depend on the steps only */
      for (int j = 0; j < n; ++j) {
        double lam = s->O + s->d[j];
        double M[4] = {-lam, 2.0 * pp[0], rho[0], -s->sigma0};
        stepper_init(&st[j], M, lam, dt, dtm);
      }
      dt_init = dt;
      dtm_init = dtm;
    }
    while (jlive < n && fabs(c[jlive]) + fabs(g[jlive]) + fabs(p[jlive]) + fabs(b0[jlive]) +
                                fabs(b0[nn + jlive]) + fabs(b0[2 * nn + jlive]) < 1e-30)
      ++jlive;
    double nc = 0.0, np = 0.0, ng = 0.0;
    memset(bp, 0, 3 * nn * sizeof(double));
    double *fc = bp, *fg = bp + nn, *fp = bp + 2 * nn;
    for (int j = jlive; j < n; ++j) {
      const stepper *q = &st[j];
      double c0 = c[j], g0 = g[j], p0 = p[j];
      double mc = bm[j], mg = bm[nn + j], mp = bm[2 * nn + j];
      double oc = b0[j], og = b0[nn + j], op = b0[2 * nn + j];
      double nc_ = fc[j], ng_ = fg[j], np_ = fp[j];
      double cj = q->Ay[0] * c0 + q->Ay[1] * g0 + q->Abm[0] * mc + q->Abm[1] * mg +
                  q->Abo[0] * oc + q->Abo[1] * og + q->Abn[0] * nc_ + q->Abn[1] * ng_;
      double gj = q->Ay[2] * c0 + q->Ay[3] * g0 + q->Abm[2] * mc + q->Abm[3] * mg +
                  q->Abo[2] * oc + q->Abo[3] * og + q->Abn[2] * nc_ + q->Abn[3] * ng_;
      Cacc[j] += q->Iy[0] * c0 + q->Iy[1] * g0 + q->Ibm[0] * mc + q->Ibm[1] * mg +
                 q->Ibo[0] * oc + q->Ibo[1] * og + q->Ibn[0] * nc_ + q->Ibn[1] * ng_;
      Gacc[j] += q->Iy[2] * c0 + q->Iy[3] * g0 + q->Ibm[2] * mc + q->Ibm[3] * mg +
                 q->Ibo[2] * oc + q->Ibo[3] * og + q->Ibn[2] * nc_ + q->Ibn[3] * ng_;
      double pj = q->ay * p0 + q->abm * mp + q->abo * op + q->abn * np_;
      Pacc[j] += q->iy * p0 + q->ibm * mp + q->ibo * op + q->ibn * np_;
      c[j] = cj;
      g[j] = gj;
      p[j] = pj;
      nc += cj;
      ng += gj;
      np += pj;
      /* push this cell's emission at t + dt into the forcing of the cells below */
      if (j + 1 < n) {
        fc[j + 1] += s->d[j] * cj;
        fp[j + 1] += s->d[j] * pj;
      }
      push3(n - j, tau, rho, pp, cj, gj, pj, fc + j, fg + j, fp + j);
    }
    /* rotate the forcing levels: m <- 0 <- p */
    double *tmp = bm;
    bm = b0;
    b0 = bp;
    bp = tmp;
    memcpy(cum + KIND_CHARGED * stride + (size_t)(k + 1) * nn, Cacc, nn * sizeof(double));
    memcpy(cum + KIND_PRIMARY * stride + (size_t)(k + 1) * nn, Pacc, nn * sizeof(double));
    memcpy(cum + KIND_PHOTON * stride + (size_t)(k + 1) * nn, Gacc, nn * sizeof(double));
    count[KIND_CHARGED * (m + 1) + k + 1] = nc;
    count[KIND_PRIMARY * (m + 1) + k + 1] = np;
    count[KIND_PHOTON * (m + 1) + k + 1] = ng;
  }
  free(st);
  free(work);
  return NA64_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* the beam electron near E0, exactly                                                           */

/* The multigroup takes particles uniformly spread over a cell, but the beam electron starts at
 * the top edge u = 0 and its distribution is singular there (for Tsai's kernel exactly the Gamma
 * density u^(4t/3 - 1)/Gamma(4t/3)): the first cells would be off by O(1). There the beam
 * electron alone is a subordinator in u with Laplace exponent (Rossi's A(s) of ch. 5 of his
 * 1952 book, here for Tsai's spectrum)
 *   A(s) = int_0^1 [1 - (1-v)^s] phi(v) dv
 *        = (4/3 + a)[psi(s+1) + gamma_E - s/(s+1)] + 1/2 - 1/((s+1)(s+2)),
 * (Tsai-log kernel: (4/3) ln(1+s)), plus the ionization drift eps/E (held constant over the
 * inverted range), so that E[exp(-s u(t))] = exp(-t A(s)). The track length with u <= x within
 * the first T radiation lengths is the inverse Laplace transform (in u) of
 *   (1 - exp(-T A(s))) / (s A(s))       (thick target: 1/(s A(s))),
 * computed by the fixed-Talbot method (J. Abate and P.P. Valko, Int. J. Numer. Meth. Eng. 60
 * (2004) 979) at nodes x that resolve the singular top cell geometrically. These replace the
 * multigroup values of the beam electron in the cells with u < CASCADE_TOP_U. */

#define CASCADE_TOP_U 0.3   /* E > 0.74 E0: where the multigroup error of the beam electron > 0.1% */
#define CASCADE_TOP_OCT 30  /* geometric nodes h 2^-i, i = 1..30, inside the top cell */
#define TALBOT_M 24         /* ~12 significant digits in double precision (Abate-Valko sec. 4) */

static const double PI_ = 3.14159265358979323846;
static const double EULER_GAMMA = 0.57721566490153286061;

/* cot(w) without overflow for large |Im w|: i (e^{2iw} + 1)/(e^{2iw} - 1) with |e^{2iw}| <= 1 */
static double complex ccot_stable(double complex w)
{
  if (cimag(w) < 0.0) return conj(ccot_stable(conj(w)));
  double complex q = cexp(2.0 * I * w);
  return I * (q + 1.0) / (q - 1.0);
}

/* digamma of a complex argument: reflection psi(z) = psi(1-z) - pi cot(pi z) for Re z < 1/2,
 * recurrence psi(z) = psi(z+1) - 1/z up to |z| >= 10, then the asymptotic series
 * ln z - 1/(2z) - sum B_2k/(2k z^2k) (Abramowitz-Stegun 6.3.6, 6.3.5, 6.3.18); error < 1e-14. */
static double complex cpsi(double complex z)
{
  double complex acc = 0.0;
  if (creal(z) < 0.5) {
    acc = -PI_ * ccot_stable(PI_ * z);
    z = 1.0 - z;
  }
  while (cabs(z) < 10.0) {
    acc -= 1.0 / z;
    z += 1.0;
  }
  double complex z2 = 1.0 / (z * z);
  double complex ser =
      z2 * (1.0 / 12.0 -
            z2 * (1.0 / 120.0 -
                  z2 * (1.0 / 252.0 - z2 * (1.0 / 240.0 - z2 * (1.0 / 132.0 - z2 * 691.0 / 32760.0)))));
  return acc + clog(z) - 0.5 / z - ser;
}

static double complex laplace_exponent(double complex s, const kpar *kp, double drift)
{
  double complex A;
  if (kp->spectra == NA64_CASCADE_SPECTRA_TSAI_LOG) {
    A = (4.0 / 3.0) * clog(1.0 + s);
  } else {
    double c1 = 4.0 / 3.0 + kp->a;
    A = c1 * (cpsi(s + 1.0) + EULER_GAMMA - s / (s + 1.0)) + 0.5 - 1.0 / ((s + 1.0) * (s + 2.0));
  }
  return A + drift * s;
}

/* Build the node set and the cumulative track lengths tl->top[row][i] of the beam electron
 * (rows: depth points tk[0..m], or one row for a thick target), then overwrite the beam
 * electron's cell values in the top cells of fin/cum (and the charged sums accordingly). */
/* The nodes of the top cells: 0, h 2^-OCT .. h/2 (geometric, the beam electron's start), then the
 * cell boundaries j h with the midpoints between; bidx[j] is the node index of the boundary j h. */
static void top_nodes(double h, int K, double *x, int *bidx)
{
  int q = 0;
  x[q++] = 0.0;
  bidx[0] = 0;
  for (int i = CASCADE_TOP_OCT; i >= 1; --i) x[q++] = ldexp(h, -i);
  x[q] = h;
  bidx[1] = q++;
  for (int j = 1; j < K; ++j) {
    x[q++] = (j + 0.5) * h;
    x[q] = (j + 1) * h;
    bidx[j + 1] = q++;
  }
}

/* Talbot: f(x) ~ (r/M)[F(r) e^{rx}/2 + sum_k Re(e^{x s_k} F(s_k)(1 + i sigma_k))],
 * s_k = r theta_k (cot theta_k + i), theta_k = k pi/M, r = 2M/(5x).
 * The contour points s_k and weights w_k at x, the Laplace exponents A_k there and Ad_k = A_k + d s_k
 * with the ionization drift d. */
static void talbot_contour(double x, double drift, const kpar *kp, double complex *sk, double complex *wk,
                           double complex *Ak, double complex *Ad)
{
  double r = 2.0 * TALBOT_M / (5.0 * x);
  for (int k = 0; k < TALBOT_M; ++k) {
    if (k == 0) {
      sk[0] = r;
      wk[0] = 0.5 * exp(r * x) * r / TALBOT_M;
    } else {
      double th = k * PI_ / TALBOT_M, ct = cos(th) / sin(th);
      sk[k] = r * th * (ct + I);
      double sig = th + (th * ct - 1.0) * ct;
      wk[k] = cexp(x * sk[k]) * (1.0 + I * sig) * r / TALBOT_M;
    }
    Ak[k] = laplace_exponent(sk[k], kp, 0.0);
    Ad[k] = Ak[k] + drift * sk[k];
  }
}

/* The top values at node i (column i of top, one row per depth T_k, row 0 the thick target) from the
 * Talbot contour at x_i.
 * The ionization drift d enters the thick-target transform 1/(s (A + d s)) exactly; in the
 * depth-dependent one exp(-T d s) is a shift that the Talbot contour cannot carry (it grows
 * without bound for Re s -> -inf), so there the drift-free values are scaled by the ratio of
 * the thick-target values with and without drift: exact at T = 0 and T -> inf, and the drift
 * is a correction of relative size E_c/E0 anyway. */
static void top_column(const na64_track_length *tl, const double complex *sk, const double complex *wk,
                       const double complex *Ak, const double complex *Ad, double *top, int L, int i)
{
  int m = tl->m;
  double thick = 0.0, thick0 = 0.0;
  for (int k = 0; k < TALBOT_M; ++k) {
    thick += creal(wk[k] / (sk[k] * Ad[k]));
    thick0 += creal(wk[k] / (sk[k] * Ak[k]));
  }
  if (m == 0) {
    top[i] = thick;
    return;
  }
  double scale = thick0 > 0.0 ? thick / thick0 : 1.0;
  int done = 0;
  for (int row = 1; row <= m; ++row) {
    if (done) {
      top[(size_t)row * (L + 1) + i] = thick;
      continue;
    }
    double T = tl->tk[row], v = 0.0, left = 0.0;
    for (int k = 0; k < TALBOT_M; ++k) {
      double complex e = cexp(-T * Ak[k]);
      v += creal(wk[k] * (1.0 - e) / (sk[k] * Ak[k]));
      left += creal(wk[k] * e / sk[k]); /* P(u(T) <= x): still inside */
    }
    top[(size_t)row * (L + 1) + i] = v * scale;
    if (fabs(left) < 1e-11) done = 1; /* the beam electron has left [0, x]: thick value */
  }
}

/* Replace the beam electron in the K top cells of every row by the exact values (differences of
 * top at the cell boundaries); the final-depth row into tl->fin. */
static void replace_top_cells(na64_track_length *tl, const double *top, const int *bidx, int K, int L)
{
  int n = tl->n, m = tl->m;
  int rows = m > 0 ? m + 1 : 1;
  for (int row = 0; row < rows; ++row) {
    double *base = m > 0 ? tl->cum + (size_t)row * n : tl->fin;
    size_t ks = m > 0 ? (size_t)(m + 1) * n : (size_t)n;
    const double *T = top + (size_t)row * (L + 1);
    for (int j = 0; j < K; ++j) {
      double Pex = T[bidx[j + 1]] - T[bidx[j]];
      if (Pex < 0.0) Pex = 0.0;
      base[KIND_CHARGED * ks + j] += Pex - base[KIND_PRIMARY * ks + j];
      base[KIND_PRIMARY * ks + j] = Pex;
    }
  }
  if (m > 0)
    for (int kind = 0; kind < NKIND; ++kind)
      memcpy(tl->fin + (size_t)kind * n, tl->cum + ((size_t)kind * (m + 1) + m) * n,
             (size_t)n * sizeof(double));
}

static int compute_top(na64_track_length *tl, const kpar *kp, double eps_ion, na64_err *err)
{
  int n = tl->n, m = tl->m;
  double h = tl->h;
  int K = (int)ceil(CASCADE_TOP_U / h - 1e-9);
  if (K < 1) K = 1;
  if (K > n) K = n;
  int L = CASCADE_TOP_OCT + K + (K - 1); /* sub-intervals */
  int rows = m > 0 ? m + 1 : 1;
  double *x = malloc((size_t)(L + 1) * sizeof(double));
  double *top = calloc((size_t)rows * (L + 1), sizeof(double));
  int *bidx = malloc((size_t)(K + 1) * sizeof(int)); /* node index of the cell boundary j h */
  double complex *sk = malloc(TALBOT_M * sizeof(double complex));
  double complex *wk = malloc(TALBOT_M * sizeof(double complex));
  double complex *Ak = malloc(2 * TALBOT_M * sizeof(double complex));
  if (!x || !top || !bidx || !sk || !wk || !Ak) {
    free(x), free(top), free(bidx), free(sk), free(wk), free(Ak);
    return na64_err_set(err, NA64_ENOMEM, "na64_track_length_new: out of memory");
  }
  double complex *Ad = Ak + TALBOT_M;
  top_nodes(h, K, x, bidx);
  for (int i = 1; i <= L; ++i) {
    /* mean ionization drift du/dt = eps/E over [0, x]: (eps/E0)(e^x - 1)/x */
    double drift = eps_ion > 0.0 ? eps_ion / tl->E0 * expm1(x[i]) / x[i] : 0.0;
    talbot_contour(x[i], drift, kp, sk, wk, Ak, Ad);
    top_column(tl, sk, wk, Ak, Ad, top, L, i);
  }
  free(sk), free(wk), free(Ak);
  replace_top_cells(tl, top, bidx, K, L);
  free(bidx);
  tl->ktop = K;
  tl->ltop = L;
  tl->xtop = x;
  tl->top = top;
  return NA64_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* construction                                                                                 */

static int default_cpe(const na64_cascade_options *o, double depth_X0)
{
  if (o->cells_per_efold > 0) return o->cells_per_efold;
  return depth_X0 > 0.0 ? CASCADE_DEFAULT_CPE_DEPTH : CASCADE_DEFAULT_CPE;
}

static int check_inputs(const na64_material *mat, double E0, double E_min, double depth_X0,
                        const na64_cascade_options *o, na64_err *err)
{
  if (!mat)
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_new: material is NULL");
  if (!(mat->X0 > 0.0) || !isfinite(mat->X0))
    return na64_err_set(err, NA64_EINVAL,
                        "na64_track_length_new: material '%s' has X0 = %g cm (need > 0)",
                        mat->name, mat->X0);
  if (o->ionization == NA64_CASCADE_ION_CONST && (!(mat->E_c > 0.0) || !isfinite(mat->E_c)))
    return na64_err_set(err, NA64_EINVAL,
                        "na64_track_length_new: material '%s' has E_c = %g GeV (need > 0)",
                        mat->name, mat->E_c);
  if (!(E0 > 0.0) || !isfinite(E0))
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_new: E0 = %g GeV (need > 0)", E0);
  if (!(E_min > 0.0) || !(E_min < E0))
    return na64_err_set(err, NA64_ERANGE,
                        "na64_track_length_new: E_min = %g GeV outside (0, E0 = %g GeV)", E_min,
                        E0);
  if (!isfinite(depth_X0) || depth_X0 > 1e4)
    return na64_err_set(err, NA64_ERANGE,
                        "na64_track_length_new: depth = %g X0 (need finite, <= 1e4; <= 0 for a "
                        "thick target)",
                        depth_X0);
  if (o->spectra < NA64_CASCADE_SPECTRA_TSAI || o->spectra > NA64_CASCADE_SPECTRA_TSAI_LOG)
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_new: unknown spectra option %d",
                        o->spectra);
  if (o->ionization != NA64_CASCADE_ION_NONE && o->ionization != NA64_CASCADE_ION_CONST)
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_new: unknown ionization option %d",
                        o->ionization);
  if (o->cells_per_efold < 0 || o->cells_per_efold > 5000)
    return na64_err_set(err, NA64_ERANGE,
                        "na64_track_length_new: cells_per_efold = %d (need 0..5000)",
                        o->cells_per_efold);
  if (!(o->depth_step >= 0.0) || o->depth_step > 10.0)
    return na64_err_set(err, NA64_ERANGE,
                        "na64_track_length_new: depth_step = %g X0 (need 0..10)", o->depth_step);
  return NA64_OK;
}

/* The depth grid: steps start at `step` (resolving the first interactions of the beam electron,
 * rate ~ 7 per X0) and grow by 3% per step up to 5 step (the shower then evolves on the X0
 * scale); the last step ends exactly at the depth. */
static int make_tgrid(double depth, double step, int *m_out, double **tk_out, na64_err *err)
{
  int cap = 64, m = 0;
  double *tk = malloc((size_t)cap * sizeof(double));
  if (!tk) return na64_err_set(err, NA64_ENOMEM, "na64_track_length_new: out of memory");
  tk[0] = 0.0;
  double t = 0.0, dt = step, dtmax = CASCADE_STEP_GROWTH_MAX * step;
  while (t < depth) {
    double next = t + dt;
    if (next > depth || depth - next < 0.25 * dt) next = depth;
    if (m + 2 > cap) {
      cap *= 2;
      double *nt = realloc(tk, (size_t)cap * sizeof(double));
      if (!nt) {
        free(tk);
        return na64_err_set(err, NA64_ENOMEM, "na64_track_length_new: out of memory");
      }
      tk = nt;
    }
    tk[++m] = next;
    t = next;
    dt = fmin(dt * CASCADE_STEP_GROWTH, dtmax);
  }
  *m_out = m;
  *tk_out = tk;
  return NA64_OK;
}

/* One solve on n cells of width h (thick if m == 0, else on the depth grid tk). */
static int solve_grid(const kpar *kp, int n, double h, double E0, double eps_ion, int m,
                      const double *tk, double *fin, double *cum, double *count, na64_err *err)
{
  system_t sys;
  NA64_CALL(system_build(&sys, kp, n, h, E0, eps_ion, err));
  int rc = m == 0 ? solve_thick(&sys, fin, err) : solve_depth(&sys, m, tk, cum, count, err);
  system_release(&sys);
  return rc;
}

/* coarse[r][j] = 2 (fine[r][2j] + fine[r][2j+1]) - coarse[r][j], r < rows, clipped at 0 */
static void richardson(double *coarse, const double *fine, int rows, int n)
{
  for (size_t r = 0; r < (size_t)rows; ++r) {
    double *c = coarse + r * (size_t)n;
    const double *f = fine + r * 2 * (size_t)n;
    for (int j = 0; j < n; ++j) {
      double v = 2.0 * (f[2 * j] + f[2 * j + 1]) - c[j];
      c[j] = v > 0.0 ? v : 0.0;
    }
  }
}

/* The options given (or the defaults for NULL), checked with the inputs. */
static int options_checked(const na64_cascade_options *opts, const na64_material *mat, double E0, double E_min,
                           double depth_X0, na64_cascade_options *o, na64_err *err)
{
  if (opts)
    *o = *opts;
  else
    na64_cascade_options_default(o);
  return check_inputs(mat, E0, E_min, depth_X0, o, err);
}

/* The number of energy cells: nbins, or from cells_per_efold over ln(E0/E_min); refused when the
 * cells are too many or too coarse. */
static int energy_cells(const na64_cascade_options *o, double E0, double E_min, double depth_X0,
                        int nbins, int *n_out, double *h_out, na64_err *err)
{
  if (nbins < 0 || nbins > CASCADE_MAX_CELLS)
    return na64_err_set(err, NA64_ERANGE, "na64_track_length_new: nbins = %d (need 0..%d)",
                        nbins, CASCADE_MAX_CELLS);
  double U = log(E0 / E_min);
  int n = nbins;
  if (n == 0) {
    int cpe = default_cpe(o, depth_X0);
    double dn = ceil(U * cpe - 1e-9);
    n = dn < 4.0 ? 4 : dn > CASCADE_MAX_CELLS ? CASCADE_MAX_CELLS + 1 : (int)dn;
  }
  if (n > CASCADE_MAX_CELLS)
    return na64_err_set(err, NA64_ERANGE,
                        "na64_track_length_new: %d energy cells for E0/E_min = %g exceed %d",
                        n, E0 / E_min, CASCADE_MAX_CELLS);
  double h = U / n;
  if (h > 0.5)
    return na64_err_set(err, NA64_ERANGE,
                        "na64_track_length_new: cell width %g in ln E too coarse (nbins = %d for "
                        "E0/E_min = %g; need ln(E0/E_min)/nbins <= 0.5)",
                        h, n, E0 / E_min);
  *n_out = n;
  *h_out = h;
  return NA64_OK;
}

/* The depth grid of a thin target (m = 0, tk = NULL for a thick one), refused when the stored
 * depth profiles would exceed CASCADE_MAX_STORE. */
static int depth_grid(const na64_cascade_options *o, double depth_X0, int n, int *m_out, double **tk_out,
                      na64_err *err)
{
  *m_out = 0;
  *tk_out = NULL;
  if (!(depth_X0 > 0.0)) return NA64_OK;
  double step = o->depth_step > 0.0 ? o->depth_step : CASCADE_DEFAULT_STEP;
  int m = 0;
  double *tk = NULL;
  NA64_CALL(make_tgrid(depth_X0, step, &m, &tk, err));
  if ((double)(m + 1) * NKIND * (double)n * (o->richardson ? 3.0 : 1.0) > (double)CASCADE_MAX_STORE) {
    free(tk);
    return na64_err_set(err, NA64_ERANGE,
                        "na64_track_length_new: depth %g X0 in %d steps times %d cells needs "
                        "too much memory; use a larger depth_step or fewer cells",
                        depth_X0, m, n);
  }
  *m_out = m;
  *tk_out = tk;
  return NA64_OK;
}

/* The table and its arrays; it takes tk over (freed with the table, also on failure). */
static int track_length_alloc(const na64_material *mat, const na64_cascade_options *o, const kpar *kp, double E0,
                              double E_min, double depth_X0, int n, double h, int m, double *tk,
                              na64_track_length **out, na64_err *err)
{
  na64_track_length *tl = calloc(1, sizeof *tl);
  if (!tl) {
    free(tk);
    return na64_err_set(err, NA64_ENOMEM, "na64_track_length_new: out of memory");
  }
  atomic_init(&tl->refs, 1);
  tl->opts = *o;
  snprintf(tl->name, sizeof tl->name, "%s", mat->name);
  tl->X0 = mat->X0;
  tl->Ec = mat->E_c;
  tl->E0 = E0;
  tl->Emin = E_min;
  tl->depth = m > 0 ? depth_X0 : 0.0;
  tl->a = kp->a;
  tl->n = n;
  tl->h = h;
  tl->m = m;
  tl->tk = tk;
  tl->sigma0 = 7.0 / 9.0 - (o->spectra == NA64_CASCADE_SPECTRA_TSAI ? kp->a : 0.0) / 6.0;
  tl->fin = calloc((size_t)NKIND * (size_t)n, sizeof(double));
  if (m > 0) {
    tl->cum = calloc((size_t)NKIND * (size_t)(m + 1) * (size_t)n, sizeof(double));
    tl->count = calloc((size_t)NKIND * (size_t)(m + 1), sizeof(double));
  }
  if (!tl->fin || (m > 0 && (!tl->cum || !tl->count))) {
    na64_track_length_free(tl);
    return na64_err_set(err, NA64_ENOMEM, "na64_track_length_new: out of memory (%d cells, %d "
                        "depth steps)", n, m);
  }
  *out = tl;
  return NA64_OK;
}

/* Richardson extrapolation in the cell width: the multigroup error is first order in h
 * (docs/cascade.md), so 2 V(h/2) - V(h), summed over the two half cells, is second order. */
static int richardson_refine(na64_track_length *tl, const kpar *kp, double E0, double eps_ion, na64_err *err)
{
  const int n = tl->n, m = tl->m;
  size_t ncum = (size_t)NKIND * (size_t)(m + 1) * (size_t)n;
  double *fin2 = calloc((size_t)NKIND * 2 * (size_t)n, sizeof(double));
  double *cum2 = m > 0 ? calloc(2 * ncum, sizeof(double)) : NULL;
  double *count2 = m > 0 ? calloc((size_t)NKIND * (size_t)(m + 1), sizeof(double)) : NULL;
  int rc;
  if (!fin2 || (m > 0 && (!cum2 || !count2)))
    rc = na64_err_set(err, NA64_ENOMEM, "na64_track_length_new: out of memory (%d cells, %d "
                      "depth steps)", 2 * n, m);
  else
    rc = solve_grid(kp, 2 * n, 0.5 * tl->h, E0, eps_ion, m, tl->tk, fin2, cum2, count2, err);
  if (rc == NA64_OK) {
    richardson(tl->fin, fin2, NKIND, n);
    if (m > 0) {
      richardson(tl->cum, cum2, NKIND * (m + 1), n);
      for (size_t q = 0; q < (size_t)NKIND * (size_t)(m + 1); ++q) {
        double v = 2.0 * count2[q] - tl->count[q];
        tl->count[q] = v > 0.0 ? v : 0.0;
      }
    }
  }
  free(fin2);
  free(cum2);
  free(count2);
  return rc;
}

/* The spectra at the back of a thin target are the last depth step's cumulative ones. */
static void final_from_depth(na64_track_length *tl)
{
  const int n = tl->n, m = tl->m;
  for (int kind = 0; kind < NKIND; ++kind)
    memcpy(tl->fin + (size_t)kind * n, tl->cum + ((size_t)kind * (m + 1) + m) * n, (size_t)n * sizeof(double));
}

static int build(const na64_material *mat, double E0, double E_min, double depth_X0,
                 const na64_cascade_options *opts, int nbins, na64_track_length **out,
                 na64_err *err)
{
  na64_cascade_options o;
  NA64_CALL(options_checked(opts, mat, E0, E_min, depth_X0, &o, err));
  int n = 0, m = 0;
  double h = 0.0, *tk = NULL;
  NA64_CALL(energy_cells(&o, E0, E_min, depth_X0, nbins, &n, &h, err));
  kpar kp = {o.spectra, 0.0};
  if (o.spectra == NA64_CASCADE_SPECTRA_TSAI) NA64_CALL(material_a(mat, &kp.a, err));
  NA64_CALL(depth_grid(&o, depth_X0, n, &m, &tk, err));
  na64_track_length *tl = NULL;
  NA64_CALL(track_length_alloc(mat, &o, &kp, E0, E_min, depth_X0, n, h, m, tk, &tl, err));
  double eps_ion = o.ionization == NA64_CASCADE_ION_CONST ? mat->E_c : 0.0;
  int rc = solve_grid(&kp, n, h, E0, eps_ion, m, tk, tl->fin, tl->cum, tl->count, err);
  if (rc == NA64_OK && o.richardson) rc = richardson_refine(tl, &kp, E0, eps_ion, err);
  if (rc == NA64_OK && m > 0) final_from_depth(tl);
  if (rc == NA64_OK) rc = compute_top(tl, &kp, eps_ion, err);
  if (rc != NA64_OK) {
    na64_track_length_free(tl);
    return rc;
  }
  *out = tl;
  return NA64_OK;
}

int na64_track_length_new(const na64_material *mat, double E0, double E_min, double depth_X0,
                          int nbins, na64_track_length **out, na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_track_length_new: out is NULL");
  *out = NULL;
  return build(mat, E0, E_min, depth_X0, NULL, nbins, out, err);
}

int na64_track_length_new_opts(const na64_material *mat, double E0, double E_min, double depth_X0,
                               const na64_cascade_options *opts, na64_track_length **out,
                               na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_track_length_new_opts: out is NULL");
  *out = NULL;
  return build(mat, E0, E_min, depth_X0, opts, 0, out, err);
}

void na64_track_length_free(na64_track_length *tl)
{
  if (!tl) return;
  if (atomic_fetch_sub(&tl->refs, 1) != 1) return;
  free(tl->fin);
  free(tl->tk);
  free(tl->xtop);
  free(tl->top);
  free(tl->cum);
  free(tl->count);
  free(tl);
}


/* ------------------------------------------------------------------------------------------ */
/* evaluation                                                                                   */

enum { KIND_SECONDARY = 5 }; /* internal `which`: e+- other than the beam electron */

/* A linear combination w0 r0 + w1 r1 of two stored solutions (the final one, two depth rows for
 * an interpolation, or their difference for a depth increment), with the matching rows of the
 * exact beam-electron data t0, t1 (L+1 nodes). */
typedef struct {
  const na64_track_length *tl;
  const double *r0, *r1;
  const double *t0, *t1;
  double w0, w1;
  size_t ks; /* stride between kinds in r0/r1 */
} view_t;

static view_t view_final(const na64_track_length *tl)
{
  int m = tl->m;
  const double *t = tl->top + (size_t)(m > 0 ? m : 0) * (tl->ltop + 1);
  view_t v = {tl, tl->fin, tl->fin, t, t, 1.0, 0.0, (size_t)tl->n};
  return v;
}

static view_t view_rows(const na64_track_length *tl, int k, double w0, double w1)
{
  int n = tl->n, m = tl->m;
  size_t L1 = (size_t)tl->ltop + 1;
  view_t v = {tl, tl->cum + (size_t)k * n, tl->cum + (size_t)(k + 1) * n, tl->top + k * L1,
              tl->top + (k + 1) * L1, w0, w1, (size_t)(m + 1) * n};
  return v;
}

/* Value of `which` in cell j: e- = P + (C - P)/2, e+ = (C - P)/2 (the secondaries are created in
 * pairs and transported alike). */
static double cell_value(const view_t *v, int which, int j)
{
  size_t ks = v->ks;
  double C = v->w0 * v->r0[KIND_CHARGED * ks + j] + v->w1 * v->r1[KIND_CHARGED * ks + j];
  double P = v->w0 * v->r0[KIND_PRIMARY * ks + j] + v->w1 * v->r1[KIND_PRIMARY * ks + j];
  double sec = C - P > 0.0 ? C - P : 0.0;
  switch (which) {
  case NA64_TL_ELECTRON: return P + 0.5 * sec;
  case NA64_TL_POSITRON: return 0.5 * sec;
  case NA64_TL_CHARGED: return C;
  case NA64_TL_PHOTON:
    return v->w0 * v->r0[KIND_PHOTON * ks + j] + v->w1 * v->r1[KIND_PHOTON * ks + j];
  case KIND_SECONDARY: return sec;
  default: return P;
  }
}

static int which_ok(int which) { return which >= NA64_TL_ELECTRON && which <= NA64_TL_PRIMARY; }

/* Linear reconstruction inside cell j (conservative: the cell integral is kept): the track length
 * per unit u is [V_j + s (u/h - j - 1/2)]/h, s a minmod-limited slope (one-sided at the grid
 * ends), limited so that the profile stays non-negative. */
static double cell_slope(const view_t *v, int which, int j)
{
  int n = v->tl->n;
  double c = cell_value(v, which, j);
  double dl = j > 0 ? c - cell_value(v, which, j - 1) : NAN;
  double dr = j < n - 1 ? cell_value(v, which, j + 1) - c : NAN;
  double s;
  if (isnan(dl))
    s = isnan(dr) ? 0.0 : dr;
  else if (isnan(dr))
    s = dl;
  else if (dl * dr <= 0.0)
    s = 0.0;
  else
    s = fabs(dl) < fabs(dr) ? dl : dr;
  double lim = 2.0 * fabs(c);
  if (s > lim) s = lim;
  if (s < -lim) s = -lim;
  return s;
}

/* Weights of the beam electron and of the secondaries in `which` (top-cell treatment). */
static int split_weights(int which, double *wp, double *ws)
{
  switch (which) {
  case NA64_TL_ELECTRON: *wp = 1.0, *ws = 0.5; return 1;
  case NA64_TL_CHARGED: *wp = 1.0, *ws = 1.0; return 1;
  case NA64_TL_PRIMARY: *wp = 1.0, *ws = 0.0; return 1;
  default: *wp = 0.0, *ws = 1.0; return 0;
  }
}

/* Beam electron in the top region: density (per unit u) in sub-interval i, and its linear
 * reconstruction through the neighbouring densities (minmod-limited, non-negative). */
static double top_dens_i(const view_t *v, int i)
{
  const double *x = v->tl->xtop;
  double d = v->w0 * (v->t0[i + 1] - v->t0[i]) + v->w1 * (v->t1[i + 1] - v->t1[i]);
  return d / (x[i + 1] - x[i]);
}

static void top_recon(const view_t *v, int i, double *d, double *slope, double *xc)
{
  const na64_track_length *tl = v->tl;
  const double *x = tl->xtop;
  double di = top_dens_i(v, i), c = 0.5 * (x[i] + x[i + 1]);
  double sl = NAN, sr = NAN, s;
  if (i > 0) sl = (di - top_dens_i(v, i - 1)) / (c - 0.5 * (x[i - 1] + x[i]));
  if (i < tl->ltop - 1) sr = (top_dens_i(v, i + 1) - di) / (0.5 * (x[i + 1] + x[i + 2]) - c);
  if (isnan(sl) || isnan(sr) || sl * sr <= 0.0)
    s = 0.0;
  else
    s = fabs(sl) < fabs(sr) ? sl : sr;
  double lim = 2.0 * fabs(di) / (x[i + 1] - x[i]);
  if (s > lim) s = lim;
  if (s < -lim) s = -lim;
  *d = di;
  *slope = s;
  *xc = c;
}

/* beam-electron track length per unit u at u in the top region */
static double top_density(const view_t *v, double u)
{
  const na64_track_length *tl = v->tl;
  int lo = 0, hi = tl->ltop;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (tl->xtop[mid] <= u)
      lo = mid;
    else
      hi = mid;
  }
  double d, sl, xc;
  top_recon(v, lo, &d, &sl, &xc);
  d += sl * (u - xc);
  return d > 0.0 ? d : 0.0;
}

/* track length of `which` per unit u at u (X0) */
static double density_at(const view_t *v, int which, double u)
{
  const na64_track_length *tl = v->tl;
  int j = (int)floor(u / tl->h);
  if (j < 0) j = 0;
  if (j > tl->n - 1) j = tl->n - 1;
  double wp, ws, top = 0.0;
  int w = which;
  if (j < tl->ktop && split_weights(which, &wp, &ws)) {
    top = wp * top_density(v, u);
    if (ws == 0.0) return top;
    w = KIND_SECONDARY;
  } else {
    ws = 1.0;
  }
  double c = cell_value(v, w, j), s = cell_slope(v, w, j);
  double f = (c + s * (u / tl->h - (j + 0.5))) / tl->h;
  return top + ws * (f > 0.0 ? f : 0.0);
}

double na64_track_length_eval(const na64_track_length *tl, int which, double E)
{
  if (!tl || !which_ok(which)) return NAN;
  if (!(E >= tl->Emin) || !(E <= tl->E0)) return 0.0;
  view_t v = view_final(tl);
  return tl->X0 * density_at(&v, which, log(tl->E0 / E)) / E;
}

double na64_track_length_electron(const na64_track_length *tl, double E)
{
  return na64_track_length_eval(tl, NA64_TL_ELECTRON, E);
}

double na64_track_length_positron(const na64_track_length *tl, double E)
{
  return na64_track_length_eval(tl, NA64_TL_POSITRON, E);
}

/* Depth interval k with tk[k] <= t <= tk[k+1] (t clamped to [0, depth]) and the weight of k+1. */
static int depth_index(const na64_track_length *tl, double t, double *w)
{
  int lo = 0, hi = tl->m;
  if (t <= 0.0) {
    *w = 0.0;
    return 0;
  }
  if (t >= tl->depth) {
    *w = 1.0;
    return tl->m - 1;
  }
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (tl->tk[mid] <= t)
      lo = mid;
    else
      hi = mid;
  }
  *w = (t - tl->tk[lo]) / (tl->tk[lo + 1] - tl->tk[lo]);
  return lo;
}

double na64_track_length_eval_depth(const na64_track_length *tl, int which, double E, double t_X0)
{
  if (!tl || !which_ok(which) || tl->m == 0 || isnan(t_X0)) return NAN;
  if (!(E >= tl->Emin) || !(E <= tl->E0)) return 0.0;
  double w;
  int k = depth_index(tl, t_X0, &w);
  view_t v = view_rows(tl, k, 1.0 - w, w);
  return tl->X0 * density_at(&v, which, log(tl->E0 / E)) / E;
}

double na64_track_length_profile(const na64_track_length *tl, int which, double t_X0)
{
  if (!tl || !which_ok(which) || tl->m == 0 || isnan(t_X0)) return NAN;
  int m = tl->m;
  double w;
  int k = depth_index(tl, t_X0, &w);
  double c[NKIND];
  for (int kind = 0; kind < NKIND; ++kind)
    c[kind] = (1.0 - w) * tl->count[kind * (m + 1) + k] + w * tl->count[kind * (m + 1) + k + 1];
  view_t v = {tl, c, c, NULL, NULL, 1.0, 0.0, 1};
  return cell_value(&v, which, 0);
}

typedef double (*fold_fn)(double E, void *u);
typedef struct {
  double (*f2)(double, double, void *);
  double t;
  void *u;
} depth_ctx;

static const double GL2 = 0.57735026918962576451; /* 2-point Gauss-Legendre nodes +-1/sqrt(3) */

/* int over [ulo, uhi] of the track length per unit u times F(E0 e^-u): two Gauss-Legendre points
 * per cell (exact for the linear reconstruction times a linear F) and per top sub-interval. */
static double fold_view(const view_t *v, int which, fold_fn f, void *u, double ulo, double uhi)
{
  const na64_track_length *tl = v->tl;
  int n = tl->n;
  double h = tl->h, sum = 0.0;
  int jlo = (int)floor(ulo / h), jhi = (int)floor(uhi / h);
  if (jlo < 0) jlo = 0;
  if (jhi > n - 1) jhi = n - 1;
  double wp, ws;
  int has_p = split_weights(which, &wp, &ws);
  for (int j = jlo; j <= jhi; ++j) {
    double a = j * h, b = (j + 1) * h;
    if (a < ulo) a = ulo;
    if (b > uhi) b = uhi;
    if (!(b > a)) continue;
    int w = which;
    double scale = 1.0;
    if (j < tl->ktop && has_p) {
      if (ws == 0.0) continue;
      w = KIND_SECONDARY;
      scale = ws;
    }
    double c = cell_value(v, w, j), s = cell_slope(v, w, j);
    double mid = 0.5 * (a + b), half = 0.5 * (b - a);
    for (int q = -1; q <= 1; q += 2) {
      double uu = mid + q * GL2 * half;
      double dens = (c + s * (uu / h - (j + 0.5))) / h;
      if (dens <= 0.0) continue;
      double fv = f ? f(tl->E0 * exp(-uu), u) : 1.0;
      sum += scale * half * dens * fv;
    }
  }
  if (has_p) { /* the beam electron in the top cells, on its own nodes */
    for (int i = 0; i < tl->ltop; ++i) {
      double a = tl->xtop[i], b = tl->xtop[i + 1];
      if (a < ulo) a = ulo;
      if (b > uhi) b = uhi;
      if (!(b > a)) continue;
      double d, sl, xc;
      top_recon(v, i, &d, &sl, &xc);
      double mid = 0.5 * (a + b), half = 0.5 * (b - a);
      for (int q = -1; q <= 1; q += 2) {
        double uu = mid + q * GL2 * half;
        double dens = d + sl * (uu - xc);
        if (dens <= 0.0) continue;
        double fv = f ? f(tl->E0 * exp(-uu), u) : 1.0;
        sum += wp * half * dens * fv;
      }
    }
  }
  return sum;
}

static int fold_limits(const na64_track_length *tl, int which, double Elo, double Ehi,
                       double *ulo, double *uhi, double *result, na64_err *err)
{
  if (!tl || !result)
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_fold: NULL argument");
  *result = 0.0;
  if (!which_ok(which))
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_fold: unknown spectrum %d", which);
  if (isnan(Elo) || isnan(Ehi))
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_fold: energy limit is NaN");
  if (Elo < tl->Emin) Elo = tl->Emin;
  if (Ehi > tl->E0) Ehi = tl->E0;
  *ulo = Ehi > 0.0 ? log(tl->E0 / Ehi) : INFINITY;
  *uhi = log(tl->E0 / Elo);
  return NA64_OK;
}

int na64_track_length_fold(const na64_track_length *tl, double (*f)(double E, void *u), void *u,
                           double Elo, double Ehi, int which, double *result, na64_err *err)
{
  double ulo = 0.0, uhi = 0.0; /* set by fold_limits; initialised for -O3 maybe-uninitialized */
  NA64_CALL(fold_limits(tl, which, Elo, Ehi, &ulo, &uhi, result, err));
  if (!(uhi > ulo)) return NA64_OK;
  view_t v = view_final(tl);
  double r = tl->X0 * fold_view(&v, which, f, u, ulo, uhi);
  if (!isfinite(r))
    return na64_err_set(err, NA64_ENUMERIC,
                        "na64_track_length_fold: result %g not finite (f returned inf/NaN)", r);
  *result = r;
  return NA64_OK;
}

static double depth_adapter(double E, void *vu)
{
  depth_ctx *c = vu;
  return c->f2(E, c->t, c->u);
}

int na64_track_length_fold_depth(const na64_track_length *tl,
                                 double (*f)(double E, double t_X0, void *u), void *u, double Elo,
                                 double Ehi, int which, double *result, na64_err *err)
{
  double ulo = 0.0, uhi = 0.0; /* set by fold_limits; initialised for -O3 maybe-uninitialized */
  NA64_CALL(fold_limits(tl, which, Elo, Ehi, &ulo, &uhi, result, err));
  if (!f) return na64_err_set(err, NA64_EINVAL, "na64_track_length_fold_depth: f is NULL");
  if (tl->m == 0)
    return na64_err_set(err, NA64_EINVAL,
                        "na64_track_length_fold_depth: object for '%s' is a thick-target solve "
                        "(depth_X0 <= 0) without depth information",
                        tl->name);
  if (!(uhi > ulo)) return NA64_OK;
  double sum = 0.0;
  depth_ctx ctx = {f, 0.0, u};
  for (int k = 0; k < tl->m; ++k) {
    view_t v = view_rows(tl, k, -1.0, 1.0); /* the track length added in [t_k, t_k+1] */
    ctx.t = 0.5 * (tl->tk[k] + tl->tk[k + 1]);
    sum += fold_view(&v, which, depth_adapter, &ctx, ulo, uhi);
  }
  double r = tl->X0 * sum;
  if (!isfinite(r))
    return na64_err_set(err, NA64_ENUMERIC,
                        "na64_track_length_fold_depth: result %g not finite (f returned inf/NaN)",
                        r);
  *result = r;
  return NA64_OK;
}

int na64_track_length_binned(const na64_track_length *tl, int which, int nE,
                             const double *E_edges, int nt, const double *t_edges, double *out,
                             na64_err *err)
{
  if (!tl || !E_edges || !out || (nt > 0 && !t_edges))
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_binned: NULL argument");
  if (!which_ok(which))
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_binned: unknown spectrum %d", which);
  if (nE < 1 || nt < 0)
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_binned: nE = %d, nt = %d (need "
                        "nE >= 1, nt >= 0)", nE, nt);
  for (int i = 0; i < nE; ++i)
    if (!(E_edges[i + 1] > E_edges[i]) || !(E_edges[i] >= 0.0))
      return na64_err_set(err, NA64_EINVAL,
                          "na64_track_length_binned: energy edges not increasing at index %d "
                          "(%g, %g GeV)", i, E_edges[i], E_edges[i + 1]);
  for (int i = 0; i < nt; ++i)
    if (!(t_edges[i + 1] > t_edges[i]) || !(t_edges[i] >= 0.0))
      return na64_err_set(err, NA64_EINVAL,
                          "na64_track_length_binned: depth edges not increasing at index %d "
                          "(%g, %g X0)", i, t_edges[i], t_edges[i + 1]);
  if (nt > 0 && tl->m == 0)
    return na64_err_set(err, NA64_EINVAL,
                        "na64_track_length_binned: depth bins requested from a thick-target solve "
                        "of '%s' (depth_X0 <= 0)", tl->name);
  int rows = nt > 0 ? nt + 1 : 1;
  for (int r = 0; r < rows; ++r) {
    view_t v;
    if (nt == 0) {
      v = view_final(tl);
    } else {
      double w;
      int k = depth_index(tl, t_edges[r], &w);
      v = view_rows(tl, k, 1.0 - w, w);
    }
    for (int i = 0; i < nE; ++i) {
      double lo = fmax(E_edges[i], tl->Emin), hi = fmin(E_edges[i + 1], tl->E0), val = 0.0;
      if (hi > lo) val = tl->X0 * fold_view(&v, which, NULL, NULL, log(tl->E0 / hi), log(tl->E0 / lo));
      if (nt == 0) {
        out[i] = val;
      } else {
        if (r < nt) out[(size_t)r * nE + i] = -val; /* the lower edge, subtracted */
        if (r > 0) out[(size_t)(r - 1) * nE + i] += val;
      }
    }
  }
  return NA64_OK;
}

static double f_energy(double E, void *u)
{
  (void)u;
  return E;
}

int na64_track_length_nodes(const na64_track_length *tl, int which, double Elo, double Ehi,
                            double t_from, double t_to, int n, double *E, double *w, na64_err *err)
{
  if (!tl || !E || !w) return na64_err_set(err, NA64_EINVAL, "na64_track_length_nodes: NULL argument");
  if (!which_ok(which))
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_nodes: unknown spectrum %d", which);
  if (n < 1 || n > 100000)
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_nodes: n = %d nodes (need 1..100000)", n);
  if (isnan(Elo) || isnan(Ehi) || isnan(t_from) || isnan(t_to))
    return na64_err_set(err, NA64_EINVAL, "na64_track_length_nodes: NaN argument");
  int whole = t_to < 0.0;
  if (!whole && (tl->m == 0 || !(t_to >= t_from) || t_from < 0.0))
    return na64_err_set(err, NA64_EINVAL,
                        "na64_track_length_nodes: depth range [%g, %g] X0 %s", t_from, t_to,
                        tl->m == 0 ? "requested from a thick-target solve (pass t_to < 0)"
                                   : "invalid (need 0 <= t_from <= t_to)");
  for (int i = 0; i < n; ++i) E[i] = w[i] = 0.0;
  double lo = fmax(Elo, tl->Emin), hi = fmin(Ehi, tl->E0);
  if (!(hi > lo)) return NA64_OK;
  double ulo = log(tl->E0 / hi), uhi = log(tl->E0 / lo);
  view_t va, vb;
  if (whole) {
    va = vb = view_final(tl); /* va unused */
  } else {
    double wa, wb;
    int ka = depth_index(tl, t_from, &wa), kb = depth_index(tl, t_to, &wb);
    va = view_rows(tl, ka, 1.0 - wa, wa);
    vb = view_rows(tl, kb, 1.0 - wb, wb);
  }
  for (int i = 0; i < n; ++i) {
    /* equal panels in u; the node is the panel's track-length-weighted mean energy */
    double a = ulo + (uhi - ulo) * i / n, b = ulo + (uhi - ulo) * (i + 1) / n;
    double mass = fold_view(&vb, which, NULL, NULL, a, b);
    double mom = fold_view(&vb, which, f_energy, NULL, a, b);
    if (!whole) {
      mass -= fold_view(&va, which, NULL, NULL, a, b);
      mom -= fold_view(&va, which, f_energy, NULL, a, b);
    }
    double Ea = tl->E0 * exp(-b), Eb = tl->E0 * exp(-a);
    double Ec = mass > 0.0 ? mom / mass : 0.5 * (Ea + Eb);
    if (!(Ec >= Ea)) Ec = Ea; /* rounding */
    if (!(Ec <= Eb)) Ec = Eb;
    E[i] = Ec;
    w[i] = mass > 0.0 ? tl->X0 * mass : 0.0;
  }
  return NA64_OK;
}

double na64_track_length_x0(const na64_track_length *tl) { return tl ? tl->X0 : NAN; }
double na64_track_length_e0(const na64_track_length *tl) { return tl ? tl->E0 : NAN; }
double na64_track_length_emin(const na64_track_length *tl) { return tl ? tl->Emin : NAN; }
double na64_track_length_depth(const na64_track_length *tl) { return tl ? tl->depth : NAN; }
int na64_track_length_ncells(const na64_track_length *tl) { return tl ? tl->n : 0; }

/* ------------------------------------------------------------------------------------------ */
/* cache                                                                                        */

/* Everything the solution depends on. The material enters through X0 (the length unit), E_c
 * (ionization) and a (its composition); the name is kept so that two materials that happen to
 * share these numbers still get their own entry in diagnostics. */
typedef struct {
  char name[32];
  double X0, Ec, a, E0, Emin, depth, step;
  int spectra, ionization, cpe;
} cache_key;

#define CACHE_SIZE 32
static struct {
  cache_key key;
  na64_track_length *tl;
  unsigned long last_use;
} cache[CACHE_SIZE];
static unsigned long cache_clock;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int key_equal(const cache_key *x, const cache_key *y)
{
  return strcmp(x->name, y->name) == 0 && x->X0 == y->X0 && x->Ec == y->Ec && x->a == y->a &&
         x->E0 == y->E0 && x->Emin == y->Emin && x->depth == y->depth && x->step == y->step &&
         x->spectra == y->spectra && x->ionization == y->ionization && x->cpe == y->cpe;
}

int na64_track_length_get(const na64_material *mat, double E0, double E_min, double depth_X0,
                          const na64_cascade_options *opts, na64_track_length **out, na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_track_length_get: out is NULL");
  *out = NULL;
  na64_cascade_options o;
  NA64_CALL(options_checked(opts, mat, E0, E_min, depth_X0, &o, err));
  cache_key key;
  memset(&key, 0, sizeof key);
  snprintf(key.name, sizeof key.name, "%s", mat->name);
  key.X0 = mat->X0;
  key.Ec = o.ionization == NA64_CASCADE_ION_CONST ? mat->E_c : 0.0;
  if (o.spectra == NA64_CASCADE_SPECTRA_TSAI) NA64_CALL(material_a(mat, &key.a, err));
  key.E0 = E0;
  key.Emin = E_min;
  key.depth = depth_X0 > 0.0 ? depth_X0 : 0.0;
  key.step = key.depth > 0.0 ? (o.depth_step > 0.0 ? o.depth_step : CASCADE_DEFAULT_STEP) : 0.0;
  key.spectra = o.spectra;
  key.ionization = o.ionization;
  key.cpe = default_cpe(&o, depth_X0);

  /* The solve runs under the lock: it takes milliseconds, and concurrent callers asking for the
   * same spectrum then wait for one solve instead of duplicating it. */
  pthread_mutex_lock(&cache_lock);
  int slot = -1, oldest = 0;
  for (int i = 0; i < CACHE_SIZE; ++i) {
    if (cache[i].tl && key_equal(&cache[i].key, &key)) {
      slot = i;
      break;
    }
    if (!cache[i].tl || (cache[oldest].tl && cache[i].last_use < cache[oldest].last_use))
      oldest = i;
  }
  int rc = NA64_OK;
  if (slot < 0) {
    na64_track_length *tl = NULL;
    rc = build(mat, E0, E_min, depth_X0, &o, 0, &tl, err);
    if (rc == NA64_OK) {
      slot = oldest;
      na64_track_length_free(cache[slot].tl); /* drops the cache's reference only */
      cache[slot].key = key;
      cache[slot].tl = tl;
      na64_log(NA64_LOG_DEBUG, "cascade cache: solved %s E0 = %g GeV E_min = %g GeV depth = %g X0",
               key.name, E0, E_min, key.depth);
    }
  }
  if (rc == NA64_OK) {
    cache[slot].last_use = ++cache_clock;
    atomic_fetch_add(&cache[slot].tl->refs, 1);
    *out = cache[slot].tl;
  }
  pthread_mutex_unlock(&cache_lock);
  return rc;
}

void na64_track_length_cache_clear(void)
{
  pthread_mutex_lock(&cache_lock);
  for (int i = 0; i < CACHE_SIZE; ++i) {
    na64_track_length_free(cache[i].tl);
    cache[i].tl = NULL;
  }
  pthread_mutex_unlock(&cache_lock);
}
