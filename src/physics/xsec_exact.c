/*
 * Exact tree-level production l(p) N(P_i) -> l(p') N(P_f) X(k), l = e or mu, X = vector (A'),
 * L_mu - L_tau Z', scalar, pseudoscalar or axial vector (issue 14; docs/physics.md "Exact tree level").
 *
 * Matrix element: the two diagrams of X emission from the lepton line with one photon exchanged
 * with the nucleus (Bjorken, Essig, Schuster, Toro PRD 80 (2009) 075018, Fig. 10 and eq. A1;
 * Liu, Morrissey, Yu PRD 96 (2017) 036010, eq. 2.1; Gninenko, Kirpichnikov, Kirsanov, Krasnikov
 * PRD 98 (2018) 015007, eqs. 2-5), written as
 *   M = e g G(t)/t  u-bar(p') [ V S(p+q) Pslash + Pslash S(p-k) V ] u(p),
 *   S(l) = (lslash + m)/(l^2 - m^2),  q = P_i - P_f,  t = q^2 < 0,  P = P_i + P_f,
 * V = epsslash (vector), 1 (scalar), gamma5 (pseudoscalar), epsslash gamma5 (axial); the nucleus is the spin-0 current
 * e P^mu with |G|^2 = G2(-t) (Tsai's form factors, flux.c; the same treatment as BEST App. A and
 * the papers above). Instead of traces we evaluate the helicity amplitudes numerically with
 * explicit spinors in the chiral basis (Peskin & Schroeder eq. 3.50-3.53), summing
 * |M|^2 over lepton spins and the X polarisations. The longitudinal A' polarisation is used in
 * the gauge-shifted form eps_L - k/m = -(m/(E + |k|)) (1, -k_hat) (allowed because the lepton
 * current is conserved, k.J = 0): this avoids the (E/m)^2 cancellation of the literal eps_L.
 * The axial current is not conserved: with p' + k = p + q, the Dirac equation and
 * {gamma5, gamma^mu} = 0 the two diagrams with V = kslash gamma5 sum to k.J_A = -2 m M_P, where M_P
 * is the same chain with V = gamma5 (the partially conserved axial current; the Goldstone-
 * equivalence form of Kahn, Krnjaic, Mishra-Sharma, Tait JHEP 05 (2017) 002, Sec. 2), so
 * eps_L.J_A = (eps_L - k/m_X).J_A - (2 m/m_X) M_P: the gauge-shifted part plus the pseudoscalar
 * chain, both free of cancellations.
 *
 * Phase space in the lab (nucleus at rest), variables (E_k, cos theta_k, t, phi_q):
 *   d Phi_3 = |k| dE_k dcos theta_k (2 pi) dt dphi / (2 (2 pi)^5 8 M |V|),  V = p - k,
 * derived from the delta functions: |q| is fixed by t (recoil on shell), the angle between q and
 * V by the outgoing lepton on shell; phi is the azimuth of q about V (docs/physics.md).
 *   sigma = 1/(4 M |p|) int <|M|^2> d Phi_3.
 * Every small difference (E - |p|, 1 - cos theta, p.k - m-terms) is evaluated in a cancellation-
 * free form so that m_X down to 1 MeV at 200 GeV stays accurate in double precision.
 */
#include <complex.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_monte_vegas.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>

#include "physics/internal.h"

#define AMU_GEV 0.93149410242 /* CODATA 2018 atomic mass unit, GeV */

/* A four-vector with its light-cone components mi = E - z and pl = E + z kept separately, so
 * that the near-light-like vectors of the forward kinematics lose no digits. */
typedef struct {
  double e, x, y, z, mi, pl;
} lv;

typedef double complex spinor[4];

static lv lv_make(double e, double x, double y, double z, double mi, double pl)
{
  lv v = {e, x, y, z, mi, pl};
  return v;
}
static lv lv_add(lv a, lv b) { return lv_make(a.e + b.e, a.x + b.x, a.y + b.y, a.z + b.z, a.mi + b.mi, a.pl + b.pl); }
static lv lv_sub(lv a, lv b) { return lv_make(a.e - b.e, a.x - b.x, a.y - b.y, a.z - b.z, a.mi - b.mi, a.pl - b.pl); }

/* out = (a-slash) in, chiral basis: a-slash = [[0, a.sigma], [a.sigmabar, 0]] (Peskin eq. 3.40) */
static void slash(const lv *a, const spinor in, spinor out)
{
  double complex tm = a->x - I * a->y, tp = a->x + I * a->y;
  out[0] = a->mi * in[2] - tm * in[3];
  out[1] = -tp * in[2] + a->pl * in[3];
  out[2] = a->pl * in[0] + tm * in[1];
  out[3] = tp * in[0] + a->mi * in[1];
}

/* out = (lslash + m) in / d */
static void propagate(const lv *l, double m, double d, const spinor in, spinor out)
{
  spinor t;
  slash(l, in, t);
  for (int i = 0; i < 4; ++i) out[i] = (t[i] + m * in[i]) / d;
}

/* u-bar(a) b = a^dagger gamma0 b */
static double complex ubar_dot(const spinor a, const spinor b)
{
  return conj(a[0]) * b[2] + conj(a[1]) * b[3] + conj(a[2]) * b[0] + conj(a[3]) * b[1];
}

/* Helicity spinor u_h(p) = (sqrt(E - h|p|) chi_h, sqrt(E + h|p|) chi_h) (Peskin eq. 3.53), with
 * E - |p| = m^2/(E + |p|) and the half-angles from cancellation-free forms. */
static void helicity_spinor(const lv *p, double m, int h, spinor u)
{
  double pt2 = p->x * p->x + p->y * p->y, pabs = sqrt(pt2 + p->z * p->z);
  double pmz = p->z >= 0.0 ? pt2 / (pabs + p->z) : pabs - p->z; /* |p| - z */
  double ppz = p->z >= 0.0 ? pabs + p->z : pt2 / (pabs - p->z); /* |p| + z */
  double c = pabs > 0.0 ? sqrt(ppz / (2.0 * pabs)) : 1.0, s = pabs > 0.0 ? sqrt(pmz / (2.0 * pabs)) : 0.0;
  double pt = sqrt(pt2);
  double complex ph = pt > 0.0 ? (p->x + I * p->y) / pt : 1.0;
  double complex chi0, chi1;
  if (h > 0) {
    chi0 = c;
    chi1 = ph * s;
  } else {
    chi0 = -conj(ph) * s;
    chi1 = c;
  }
  double emp = m * m / (p->e + pabs), epp = p->e + pabs;
  double lo = sqrt(h > 0 ? emp : epp), hi = sqrt(h > 0 ? epp : emp);
  u[0] = lo * chi0;
  u[1] = lo * chi1;
  u[2] = hi * chi0;
  u[3] = hi * chi1;
}

static void gamma5(const spinor in, spinor out)
{
  /* gamma5 = diag(-1, -1, 1, 1) in the chiral basis */
  out[0] = -in[0];
  out[1] = -in[1];
  out[2] = in[2];
  out[3] = in[3];
}

/* The vertex of X applied to a spinor: eps-slash (vector), 1 (scalar), gamma5 (pseudoscalar),
 * eps-slash gamma5 (axial). */
static void vertex(na64_mediator med, const lv *eps, const spinor in, spinor out)
{
  spinor t;
  switch (med) {
  case NA64_MED_AXIAL:
    gamma5(in, t);
    slash(eps, t, out);
    return;
  case NA64_MED_VECTOR:
  case NA64_MED_ZPRIME: slash(eps, in, out); return;
  case NA64_MED_SCALAR:
    for (int i = 0; i < 4; ++i) out[i] = in[i];
    return;
  case NA64_MED_PSEUDOSCALAR: gamma5(in, out); return;
  }
}

/* One event of the phase space, everything the amplitude needs. */
typedef struct {
  lv p, pp, k, l1, l2, P; /* beam, outgoing lepton, X, p + q, p - k, P_i + P_f */
  double d1, d2;          /* l1^2 - m^2, l2^2 - m^2 */
  double m, mX;
  double kabs, cth, sth; /* |k| and the direction of k */
} kin;

/* V S(p+q) Pslash u + Pslash S(p-k) V u: the two diagrams applied to u, for vertex med/eps */
static void chain_apply(const kin *K, na64_mediator med, const lv *eps, const spinor u, spinor chain)
{
  spinor a, b, c;
  /* X emitted after the photon exchange: V S(p+q) Pslash u */
  slash(&K->P, u, a);
  propagate(&K->l1, K->m, K->d1, a, b);
  vertex(med, eps, b, c);
  /* X emitted before: Pslash S(p-k) V u */
  vertex(med, eps, u, a);
  propagate(&K->l2, K->m, K->d2, a, b);
  slash(&K->P, b, chain);
  for (int i = 0; i < 4; ++i) chain[i] += c[i];
}

/* sum over lepton spins and X polarisations of |u-bar' Gamma u|^2 */
static double amp2_sum(const kin *K, na64_mediator med)
{
  spinor u[2], up[2];
  for (int h = 0; h < 2; ++h) {
    helicity_spinor(&K->p, K->m, h ? 1 : -1, u[h]);
    helicity_spinor(&K->pp, K->m, h ? 1 : -1, up[h]);
  }
  lv pol[3];
  int npol = 1;
  if (med == NA64_MED_VECTOR || med == NA64_MED_ZPRIME || med == NA64_MED_AXIAL) {
    /* transverse: (0, e1), (0, e2) with e1, e2 orthogonal to k = |k| (sin th, 0, cos th) */
    pol[0] = lv_make(0.0, K->cth, 0.0, -K->sth, K->sth, -K->sth);
    pol[1] = lv_make(0.0, 0.0, 1.0, 0.0, 0.0, 0.0);
    /* longitudinal, gauge shifted: -(m/(E + |k|)) (1, -k_hat) */
    double f = -K->mX / (K->k.e + K->kabs);
    pol[2] = lv_make(f, -f * K->sth, 0.0, -f * K->cth, f * (1.0 + K->cth), f * (1.0 - K->cth));
    npol = 3;
  } else {
    pol[0] = lv_make(0, 0, 0, 0, 0, 0);
  }
  double sum = 0.0;
  for (int h = 0; h < 2; ++h)
    for (int ip = 0; ip < npol; ++ip) {
      spinor chain;
      chain_apply(K, med, &pol[ip], u[h], chain);
      if (med == NA64_MED_AXIAL && ip == 2) { /* eps_L.J_A = shifted part - (2 m/m_X) M_P (header) */
        spinor cp;
        chain_apply(K, NA64_MED_PSEUDOSCALAR, &pol[ip], u[h], cp);
        double f = 2.0 * K->m / K->mX;
        for (int i = 0; i < 4; ++i) chain[i] -= f * cp[i];
      }
      for (int hp = 0; hp < 2; ++hp) {
        double complex amp = ubar_dot(up[hp], chain);
        sum += creal(amp) * creal(amp) + cimag(amp) * cimag(amp);
      }
    }
  return sum;
}

/* ---------------- kinematics ---------------- */

typedef struct {
  double E0, p0, m, mX, M, Z, A, g2; /* g2: the X coupling squared */
  double a2, d;                      /* Tsai's screening a^2 and nuclear-size d (flux.c) */
  int ff;
  na64_mediator med;
  double x_min; /* lowest x counted by the total */
} proc;

/* The (E_k, theta) part: k, V = p - k and the t range. Returns 0 if closed. */
typedef struct {
  lv k, V;
  double kabs, cth, sth, Vabs, D, a, c2, Tmin, Tmax;
} outer;

static int outer_make(const proc *P, double Ek, double theta, outer *o)
{
  double mX = P->mX, m = P->m, E0 = P->E0, p0 = P->p0;
  if (!(Ek > mX) || !(Ek < E0)) return 0;
  double kabs = sqrt((Ek - mX) * (Ek + mX));
  double cth = cos(theta), sth = sin(theta), hs = sin(0.5 * theta);
  double omc = 2.0 * hs * hs;                            /* 1 - cos theta */
  double ekmk = mX * mX / (Ek + kabs);                   /* E_k - |k| */
  double kmi = ekmk + kabs * omc, kpl = Ek + kabs * cth; /* E_k -+ k_z */
  o->k = lv_make(Ek, kabs * sth, 0.0, kabs * cth, kmi, kpl);
  double pmi = m * m / (E0 + p0);
  lv p = lv_make(E0, 0.0, 0.0, p0, pmi, E0 + p0);
  o->V = lv_sub(p, o->k);
  /* V_z = p0 - |k| cos theta = (p0 - |k|) + |k|(1 - cos theta), p0 - |k| without cancellation */
  double p0mk = ((E0 - Ek) * (E0 + Ek) - m * m + mX * mX) / (p0 + kabs);
  o->V.z = p0mk + kabs * omc;
  double Vabs2 = o->V.x * o->V.x + o->V.z * o->V.z;
  /* D = 2 p.k - mX^2, p.k = (E0 E_k - p0 |k|) + p0 |k| (1 - cos theta) */
  double pk = (E0 * E0 * mX * mX + m * m * kabs * kabs) / (E0 * Ek + p0 * kabs) + p0 * kabs * omc;
  double D = 2.0 * pk - mX * mX;
  double a = o->V.e / (2.0 * P->M) + 0.5;
  /* allowed T = -t: f(T) = c2 T^2 + c1 T + c0 >= 0 (docs/physics.md) */
  double c2 = Vabs2 / (4.0 * P->M * P->M) - a * a, c1 = Vabs2 - a * D, c0 = -0.25 * D * D;
  double disc = c1 * c1 - 4.0 * c2 * c0;
  if (!(D > 0.0) || !(c2 < 0.0) || !(c1 > 0.0) || !(disc > 0.0)) return 0;
  double qq = -0.5 * (c1 + sqrt(disc));
  o->Tmin = c0 / qq;
  o->Tmax = qq / c2;
  /* the squared on-shell condition also admits E' < 0: keep E' = V0 - T/(2M) >= m */
  o->Tmax = fmin(o->Tmax, 2.0 * P->M * (o->V.e - m));
  if (!(o->Tmax > o->Tmin)) return 0;
  o->kabs = kabs;
  o->cth = cth;
  o->sth = sth;
  o->Vabs = sqrt(Vabs2);
  o->D = D;
  o->a = a;
  o->c2 = c2;
  return 1;
}

/* Form factor G2 at T = -t: Tsai's elastic term as na64_g2_elastic (flux.c) with its constants
 * a^2 and d precomputed (it is the innermost call), the inelastic one from flux.c. */
static double g2_of(const proc *P, double T)
{
  double g = 0.0;
  if (P->ff & NA64_FF_ELASTIC) {
    double a2t = P->a2 * T, atomic = a2t / (1.0 + a2t), nuclear = 1.0 / (1.0 + T / P->d);
    g += P->Z * P->Z * atomic * atomic * nuclear * nuclear;
  }
  if (P->ff & NA64_FF_INELASTIC) g += na64_g2_inelastic(T, P->Z);
  return g;
}

/* d sigma/(dE_k dcos theta dT dphi) in GeV^-2 GeV^-1 GeV^-2 */
static double density(const proc *P, const outer *o, double T, double phi)
{
  if (!(T > o->Tmin) || !(T < o->Tmax)) return 0.0;
  double M = P->M, m = P->m;
  double q0 = -T / (2.0 * M);
  double qpar = -(o->a * T + 0.5 * o->D) / o->Vabs;
  double qperp2 = -o->c2 * (T - o->Tmin) * (o->Tmax - T) / (o->Vabs * o->Vabs);
  double qperp = sqrt(qperp2 > 0.0 ? qperp2 : 0.0);
  double vx = o->V.x / o->Vabs, vz = o->V.z / o->Vabs; /* V_hat; e1 = (vz, 0, -vx), e2 = y */
  double qx = qpar * vx + qperp * cos(phi) * vz, qy = qperp * sin(phi), qz = qpar * vz - qperp * cos(phi) * vx;
  lv q = lv_make(q0, qx, qy, qz, q0 - qz, q0 + qz);
  kin K;
  double E0 = P->E0, p0 = P->p0;
  K.p = lv_make(E0, 0.0, 0.0, p0, m * m / (E0 + p0), E0 + p0);
  K.k = o->k;
  K.l1 = lv_add(K.p, q);
  K.l2 = o->V;
  K.pp = lv_add(o->V, q);
  K.P = lv_make(2.0 * M - q0, -qx, -qy, -qz, 2.0 * M - q0 + qz, 2.0 * M - q0 - qz);
  K.d1 = 2.0 * (E0 * q0 - p0 * qz) - T; /* (p+q)^2 - m^2 = 2 p.q + t */
  K.d2 = -o->D;                         /* (p-k)^2 - m^2 */
  K.m = m;
  K.mX = P->mX;
  K.kabs = o->kabs;
  K.cth = o->cth;
  K.sth = o->sth;
  double e2 = 4.0 * M_PI * NA64_ALPHA_EM;
  /* <|M|^2> = (1/2) e^2 g^2 G2/t^2 sum|A|^2 (initial spin average; e^2 at the lepton-photon and
   * photon-nucleus vertices, G2 carrying Z^2 and the form factors) */
  double msq = 0.5 * e2 * e2 * P->g2 * g2_of(P, T) / (T * T) * amp2_sum(&K, P->med);
  /* flux 1/(4 M p0), phase space |k| (2 pi) / (2 (2 pi)^5 8 M |V|) per dE_k dcos dT dphi */
  double ps = o->kabs * 2.0 * M_PI / (2.0 * pow(2.0 * M_PI, 5) * 8.0 * M * o->Vabs);
  return msq * ps / (4.0 * M * p0);
}

/* ---------------- integration ---------------- */

#define NPHI 24
#define NPHI_SAMPLER 12 /* the sampler's tables (1e-4 is enough there; test_exact_sampler checks them) */
static gsl_integration_glfixed_table *phi_table, *phi_table_sampler;
static void phi_table_init(void)
{
  phi_table = gsl_integration_glfixed_table_alloc(NPHI);
  phi_table_sampler = gsl_integration_glfixed_table_alloc(NPHI_SAMPLER);
}
#include <pthread.h>
static pthread_once_t phi_once = PTHREAD_ONCE_INIT;

/* int_0^{2 pi} dphi by Gauss-Legendre on [0, pi] (the density is even in phi: the X lies in
 * the xz plane, reflection y -> -y) */
static double phi_integral(const proc *P, const outer *o, double T, const gsl_integration_glfixed_table *tab)
{
  double s = 0.0;
  for (size_t i = 0; i < tab->n; ++i) {
    double x, w;
    gsl_integration_glfixed_point(0.0, M_PI, i, &x, &w, tab);
    s += w * density(P, o, T, x);
  }
  return 2.0 * s;
}

typedef struct {
  const proc *P;
  const outer *o;
  const gsl_integration_glfixed_table *phi;
} t_params;

static double t_integrand(double lnT, void *v)
{
  const t_params *tp = v;
  double T = exp(lnT);
  return T * phi_integral(tp->P, tp->o, T, tp->phi);
}

#define T_REL 1e-6 /* relative precision of the t integral for the public differential cross sections */

/* int dT dphi at fixed (E_k, theta): adaptive in ln T with breakpoints at the screening and
 * nuclear-size scales of the form factor */
static int t_integral(const proc *P, const outer *o, double rel, double *res, double *abserr)
{
  /* a looser t precision (the sampler tables) takes the shorter phi rule as well */
  t_params tp = {P, o, rel > T_REL ? phi_table_sampler : phi_table};
  gsl_function F = {t_integrand, &tp};
  double a = 111.0 * pow(P->Z, -1.0 / 3.0) / NA64_M_E, d = 0.164 * pow(P->A, -2.0 / 3.0);
  double scales[4] = {1.0 / (a * a), d, 0.71, 4.0 * o->Tmin};
  double lo = log(o->Tmin), hi = log(o->Tmax);
  double pts[8];
  int np = 0;
  pts[np++] = lo;
  for (int i = 0; i < 4; ++i)
    if (log(scales[i]) > lo && log(scales[i]) < hi) pts[np++] = log(scales[i]);
  pts[np++] = hi;
  for (int i = 1; i < np - 1; ++i)
    for (int j = i + 1; j < np - 1; ++j)
      if (pts[j] < pts[i]) {
        double s = pts[i];
        pts[i] = pts[j];
        pts[j] = s;
      }
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
  if (!w) return NA64_ENOMEM;
  int st = gsl_integration_qagp(&F, pts, (size_t)np, 0.0, rel, 200, w, res, abserr);
  gsl_integration_workspace_free(w);
  if (st != GSL_SUCCESS && !(*abserr < fmax(1e-3, 10.0 * rel) * fabs(*res))) return NA64_ENUMERIC;
  return NA64_OK;
}

static int proc_make(const na64_exact_process *p, proc *P, na64_err *err)
{
  NA64_CALL(na64_exact_process_check(p, err));
  P->m = p->beam == NA64_LEPTON_MU ? NA64_M_MU : NA64_M_E;
  P->E0 = p->E0;
  P->p0 = sqrt((p->E0 - P->m) * (p->E0 + P->m));
  P->mX = p->m;
  P->M = p->A * AMU_GEV;
  P->Z = p->Z;
  P->A = p->A;
  P->ff = p->ff;
  P->med = p->mediator;
  P->x_min = p->x_min;
  P->a2 = pow(111.0 * pow(p->Z, -1.0 / 3.0) / NA64_M_E, 2);
  P->d = 0.164 * pow(p->A, -2.0 / 3.0);
  double g = p->mediator == NA64_MED_VECTOR ? p->coupling * sqrt(4.0 * M_PI * NA64_ALPHA_EM) : p->coupling;
  P->g2 = g * g;
  pthread_once(&phi_once, phi_table_init);
  na64_gsl_quiet();
  return NA64_OK;
}

const char *na64_mediator_name(na64_mediator med)
{
  switch (med) {
  case NA64_MED_VECTOR: return "vector";
  case NA64_MED_ZPRIME: return "zprime";
  case NA64_MED_SCALAR: return "scalar";
  case NA64_MED_PSEUDOSCALAR: return "pseudoscalar";
  case NA64_MED_AXIAL: return "axial";
  }
  return "?";
}

const char *na64_lepton_name(na64_lepton lepton) { return lepton == NA64_LEPTON_MU ? "mu" : "e"; }

void na64_exact_process_init(na64_exact_process *p, na64_lepton beam, na64_mediator med, double E0, double m)
{
  p->beam = beam;
  p->mediator = med;
  p->E0 = E0;
  p->m = m;
  p->coupling = 1.0;
  p->Z = 82.0;
  p->A = 207.0;
  p->ff = NA64_FF_ELASTIC;
  p->x_min = 0.0;
}

int na64_exact_process_check(const na64_exact_process *p, na64_err *err)
{
  if (!p) return na64_err_set(err, NA64_EINVAL, "exact cross section: NULL process");
  if (p->beam != NA64_LEPTON_E && p->beam != NA64_LEPTON_MU)
    return na64_err_set(err, NA64_EINVAL, "exact cross section: unknown beam lepton %d", (int)p->beam);
  if ((int)p->mediator < 0 || p->mediator > NA64_MED_AXIAL)
    return na64_err_set(err, NA64_EINVAL, "exact cross section: unknown mediator %d", (int)p->mediator);
  if (p->mediator == NA64_MED_ZPRIME && p->beam != NA64_LEPTON_MU)
    return na64_err_set(err, NA64_EPHYS, "the L_mu - L_tau Z' does not couple to electrons at tree level: use --beam mu");
  double ml = p->beam == NA64_LEPTON_MU ? NA64_M_MU : NA64_M_E;
  if (!isfinite(p->m) || !(p->m > 0.0)) return na64_err_set(err, NA64_EPHYS, "X mass %g GeV must be positive", p->m);
  if (!isfinite(p->E0) || !(p->E0 > p->m + ml))
    return na64_err_set(err, NA64_EPHYS, "beam energy %g GeV is below threshold m_X + m_l = %g GeV", p->E0, p->m + ml);
  if (!isfinite(p->coupling) || !(p->coupling > 0.0))
    return na64_err_set(err, NA64_EPHYS, "coupling %g must be positive", p->coupling);
  if (!(p->Z >= 1.0 && p->Z <= 100.0) || !(p->A >= p->Z))
    return na64_err_set(err, NA64_EINVAL, "invalid target nucleus Z = %g, A = %g", p->Z, p->A);
  if (!(p->x_min >= 0.0) || !(p->x_min < 1.0))
    return na64_err_set(err, NA64_EINVAL, "exact cross section: x_min = %g is outside [0, 1)", p->x_min);
  if (p->ff < NA64_FF_ELASTIC || p->ff > NA64_FF_ALL)
    return na64_err_set(err, NA64_EINVAL, "form-factor selection %d is not NA64_FF_ELASTIC/INELASTIC/ALL", p->ff);
  return NA64_OK;
}

int na64_xsec_exact_dsdxdcos(const na64_exact_process *p, double x, double cos_theta, double *pb, double *abserr,
                             na64_err *err)
{
  proc P;
  NA64_CALL(proc_make(p, &P, err));
  if (!isfinite(x) || !(x > 0.0) || !(x < 1.0)) return na64_err_set(err, NA64_EINVAL, "x = %g is outside (0, 1)", x);
  if (!isfinite(cos_theta) || cos_theta < -1.0 || cos_theta > 1.0)
    return na64_err_set(err, NA64_EINVAL, "cos theta = %g is outside [-1, 1]", cos_theta);
  outer o;
  double r = 0.0, e = 0.0;
  if (outer_make(&P, x * P.E0, acos(cos_theta), &o)) {
    int st = t_integral(&P, &o, T_REL, &r, &e);
    if (st) return na64_err_set(err, st, "exact d sigma/dx dcos: t integration failed at x = %g, cos = %.17g", x, cos_theta);
  }
  /* dE_k = E0 dx */
  *pb = NA64_GEV2_PB * P.E0 * r;
  if (abserr) *abserr = NA64_GEV2_PB * P.E0 * e;
  return NA64_OK;
}

/* The characteristic X angle at fixed x: theta_c = sqrt(U)/E_k with U = mX^2 (1-x)/x + m^2 x
 * (the scale of the propagators; BEST eq. A4). Used only to place the integration variables. */
static double theta_c(const proc *P, double x)
{
  double U = P->mX * P->mX * (1.0 - x) / x + P->m * P->m * x;
  return sqrt(U) / (x * P->E0);
}

typedef struct {
  const proc *P;
  double x;
  int status;
} th_params;

/* integrand in s = ln theta: dcos theta = sin theta theta ds */
static double th_integrand(double s, void *v)
{
  th_params *tp = v;
  double th = exp(s);
  if (th > M_PI) return 0.0;
  outer o;
  if (!outer_make(tp->P, tp->x * tp->P->E0, th, &o)) return 0.0;
  double r, e;
  int st = t_integral(tp->P, &o, T_REL, &r, &e);
  if (st) tp->status = st;
  return sin(th) * th * r;
}

int na64_xsec_exact_dsdx(const na64_exact_process *p, double x, double *pb, double *abserr, na64_err *err)
{
  proc P;
  NA64_CALL(proc_make(p, &P, err));
  if (!isfinite(x) || !(x > 0.0) || !(x < 1.0)) return na64_err_set(err, NA64_EINVAL, "x = %g is outside (0, 1)", x);
  th_params tp = {&P, x, NA64_OK};
  gsl_function F = {th_integrand, &tp};
  double tc = theta_c(&P, x);
  /* below 1e-4 theta_c the measure theta dtheta leaves < 1e-8 of the integral */
  double pts[4] = {log(tc) - 9.2, log(tc), log(fmin(30.0 * tc, 1.0)), log(M_PI)};
  size_t np = 4;
  if (!(pts[2] > pts[1] && pts[2] < pts[3])) {
    pts[2] = pts[3];
    np = 3;
  }
  if (!(pts[1] < pts[np - 1])) {
    pts[1] = pts[np - 1];
    np = 2;
  }
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
  if (!w) return na64_err_set(err, NA64_ENOMEM, "exact d sigma/dx: out of memory");
  double r = 0.0, e = 0.0;
  int st = gsl_integration_qagp(&F, pts, np, 0.0, 1e-4, 200, w, &r, &e);
  gsl_integration_workspace_free(w);
  if (tp.status) return na64_err_set(err, tp.status, "exact d sigma/dx: t integration failed at x = %g", x);
  if (st != GSL_SUCCESS && !(e < 1e-2 * fabs(r)))
    return na64_err_set(err, NA64_ENUMERIC, "exact d sigma/dx: theta integration failed (%s) at x = %g", gsl_strerror(st), x);
  *pb = NA64_GEV2_PB * P.E0 * r;
  if (abserr) *abserr = NA64_GEV2_PB * P.E0 * e;
  return NA64_OK;
}

/* ---- total: VEGAS over the unit cube (u1..u4) -> (x, theta, T, phi) ----
 * 1 - x = (1 - x_lo) r^u1, r = (1 - x_hi)/(1 - x_lo), x_lo = max(mX/E0, x_min), x_hi = 1 - m_l/E0
 * (the outgoing lepton keeps at least its mass); ln theta uniform in [ln(1e-4 theta_c(x)), ln pi];
 * ln T uniform in [ln T_min, ln T_max]; phi uniform in [0, pi] (times 2 by symmetry). */
static double vegas_integrand(double *u, size_t dim, void *v)
{
  (void)dim;
  const proc *P = v;
  double xlo = fmax(P->mX / P->E0, P->x_min), xhi = 1.0 - P->m / P->E0;
  if (!(xhi > xlo)) return 0.0;
  double L1 = log((1.0 - xlo) / (1.0 - xhi));
  double omx = (1.0 - xlo) * exp(-L1 * u[0]), x = 1.0 - omx;
  double tlo = log(1e-4 * theta_c(P, x)), thi = log(M_PI);
  if (!(thi > tlo)) return 0.0;
  double th = exp(tlo + (thi - tlo) * u[1]);
  outer o;
  if (!outer_make(P, x * P->E0, th, &o)) return 0.0;
  double L3 = log(o.Tmax / o.Tmin), T = o.Tmin * exp(L3 * u[2]);
  double phi = M_PI * u[3];
  double jac = P->E0 * omx * L1 * sin(th) * th * (thi - tlo) * T * L3 * 2.0 * M_PI;
  return jac * density(P, &o, T, phi);
}

/* VEGAS calls per round for a relative precision: one round after the warm-up gives an
 * independent estimate (GSL discards earlier rounds' averages), and with the mappings above
 * 4000 calls give ~0.4% at every mass and energy we tried (docs/performance.md); the error falls
 * as 1/sqrt(calls), so the count grows as (0.01/rel_prec)^2, with a safety factor 2. */
static size_t vegas_round_calls(double rel_prec)
{
  double n = 4000.0 * pow(0.01 / rel_prec, 2);
  return (size_t)fmin(fmax(n, 2000.0), 4e6);
}

int na64_xsec_exact_total(const na64_exact_process *p, double rel_prec, unsigned long seed, double *pb,
                          double *abserr, na64_err *err)
{
  proc P;
  NA64_CALL(proc_make(p, &P, err));
  if (!(rel_prec >= 0.0) || !isfinite(rel_prec)) return na64_err_set(err, NA64_EINVAL, "relative precision %g", rel_prec);
  if (rel_prec == 0.0) rel_prec = 0.01;
  if (!(1.0 - P.m / P.E0 > fmax(P.mX / P.E0, P.x_min))) { /* the window is closed */
    *pb = 0.0;
    if (abserr) *abserr = 0.0;
    return NA64_OK;
  }
  double xl[4] = {0, 0, 0, 0}, xu[4] = {1, 1, 1, 1};
  gsl_monte_function G = {vegas_integrand, 4, &P};
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_monte_vegas_state *s = gsl_monte_vegas_alloc(4);
  if (!r || !s) {
    gsl_rng_free(r);
    gsl_monte_vegas_free(s);
    return na64_err_set(err, NA64_ENOMEM, "exact sigma: out of memory");
  }
  gsl_rng_set(r, seed);
  double res = 0.0, e = 0.0;
  /* warm-up to adapt the grid, then rounds until one meets the requested precision with a
   * consistent chi^2 (at most 40 rounds) */
  size_t round = vegas_round_calls(rel_prec), warm = round / 2 < 20000 ? round / 2 : 20000;
  gsl_monte_vegas_integrate(&G, xl, xu, 4, warm, r, s, &res, &e);
  int rounds = 0, ok = 0;
  for (; rounds < 40; ++rounds) {
    gsl_monte_vegas_integrate(&G, xl, xu, 4, round, r, s, &res, &e);
    double chisq = gsl_monte_vegas_chisq(s);
    /* each call is 5 VEGAS iterations (GSL default), so chi^2/dof is meaningful from the first */
    if (e <= rel_prec * fabs(res) && chisq < 3.0) {
      ok = 1;
      break;
    }
  }
  gsl_monte_vegas_free(s);
  gsl_rng_free(r);
  if (!ok || !isfinite(res))
    return na64_err_set(err, NA64_ENUMERIC, "exact sigma: VEGAS did not reach %g relative precision (%g +- %g) at m = %g GeV, E0 = %g GeV",
                        rel_prec, res, e, P.mX, P.E0);
  *pb = NA64_GEV2_PB * res;
  if (abserr) *abserr = NA64_GEV2_PB * e;
  return NA64_OK;
}

/* ---- for the (x, theta) sampler (xsec_exact_sampler.c) ---- */

double na64_exact_theta_c(const na64_exact_process *p, double x)
{
  double m = p->beam == NA64_LEPTON_MU ? NA64_M_MU : NA64_M_E;
  double U = p->m * p->m * (1.0 - x) / x + m * m * x;
  return sqrt(U) / (x * p->E0);
}

int na64_exact_dsdx_dlntheta(const na64_exact_process *p, double x, double theta, double rel, double *pb, na64_err *err)
{
  proc P;
  NA64_CALL(proc_make(p, &P, err));
  outer o;
  double r = 0.0, e = 0.0;
  *pb = 0.0;
  if (!(theta > 0.0) || theta > M_PI || !outer_make(&P, x * P.E0, theta, &o)) return NA64_OK;
  int st = t_integral(&P, &o, rel, &r, &e);
  if (st) return na64_err_set(err, st, "exact d sigma/dx dln theta: t integration failed at x = %.17g, theta = %.17g", x, theta);
  /* dE_k = E0 dx, dcos theta = sin theta theta dln theta */
  *pb = NA64_GEV2_PB * P.E0 * sin(theta) * theta * r;
  return NA64_OK;
}
