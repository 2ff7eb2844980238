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
 * the papers above). |M|^2 summed over the lepton spins and the X polarisations is taken from
 * its Dirac traces in closed form (xsec_exact_trace.c, amp2_closed; branch exact1ms2), evaluated
 * with the nucleus current shifted by a multiple of q so that no large light-cone product is left
 * to cancel. The helicity amplitudes with explicit spinors in the chiral basis (Peskin & Schroeder
 * eq. 3.50-3.53; amp2_sum), which computed it until then, are kept as the independent check of
 * the traces (na64_exact_amp2_compare). In them the longitudinal A' polarisation is used in
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
#include "physics/xsec_exact_trace.h"

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

/* a b and conj(a) b written out: the C99 operator adds an infinity/NaN recovery branch (Annex G)
 * to every product, which doubled the cost of the amplitudes; nothing here is infinite. */
static inline double complex cmul(double complex a, double complex b)
{
  double ar = creal(a), ai = cimag(a), br = creal(b), bi = cimag(b);
  return CMPLX(ar * br - ai * bi, ar * bi + ai * br);
}
static inline double complex cjmul(double complex a, double complex b)
{
  double ar = creal(a), ai = cimag(a), br = creal(b), bi = cimag(b);
  return CMPLX(ar * br + ai * bi, ar * bi - ai * br);
}

/* out = (a-slash) in, chiral basis: a-slash = [[0, a.sigma], [a.sigmabar, 0]] (Peskin eq. 3.40) */
static void slash(const lv *a, const spinor in, spinor out)
{
  double complex tm = CMPLX(a->x, -a->y), tp = CMPLX(a->x, a->y);
  out[0] = a->mi * in[2] - cmul(tm, in[3]);
  out[1] = -cmul(tp, in[2]) + a->pl * in[3];
  out[2] = a->pl * in[0] + cmul(tm, in[1]);
  out[3] = cmul(tp, in[0]) + a->mi * in[1];
}

/* out = (lslash + m) in / d */
static void propagate(const lv *l, double m, double d, const spinor in, spinor out)
{
  spinor t;
  slash(l, in, t);
  double r = 1.0 / d;
  for (int i = 0; i < 4; ++i) out[i] = (t[i] + m * in[i]) * r;
}

/* Helicity spinors u_h(p) = (sqrt(E - h|p|) chi_h, sqrt(E + h|p|) chi_h) (Peskin eq. 3.53), with
 * E - |p| = m^2/(E + |p|) and the half-angles from cancellation-free forms; both helicities at once
 * (u[0]: h = -1, u[1]: h = +1), sharing |p|, the half-angles and the two square roots of E -+ |p|. */
static void helicity_spinors(const lv *p, double m, spinor u[2])
{
  double pt2 = p->x * p->x + p->y * p->y, pabs = sqrt(pt2 + p->z * p->z);
  double pmz = p->z >= 0.0 ? pt2 / (pabs + p->z) : pabs - p->z; /* |p| - z */
  double ppz = p->z >= 0.0 ? pabs + p->z : pt2 / (pabs - p->z); /* |p| + z */
  double c = pabs > 0.0 ? sqrt(ppz / (2.0 * pabs)) : 1.0, s = pabs > 0.0 ? sqrt(pmz / (2.0 * pabs)) : 0.0;
  double pt = sqrt(pt2);
  double complex ph = pt > 0.0 ? (p->x + I * p->y) / pt : 1.0;
  double complex chi[2][2] = {{-conj(ph) * s, c}, {c, ph * s}}; /* chi_-, chi_+ */
  double emp = m * m / (p->e + pabs), epp = p->e + pabs;
  double sm = sqrt(emp), sp = sqrt(epp);
  for (int h = 0; h < 2; ++h) {
    double lo = h ? sm : sp, hi = h ? sp : sm;
    u[h][0] = lo * chi[h][0];
    u[h][1] = lo * chi[h][1];
    u[h][2] = hi * chi[h][0];
    u[h][3] = hi * chi[h][1];
  }
}

/* One event of the phase space, everything the amplitude needs. */
typedef struct {
  lv p, pp, k, l1, l2, P; /* beam, outgoing lepton, X, p + q, p - k, P_i + P_f */
  double d1, d2;          /* l1^2 - m^2, l2^2 - m^2 */
  double m, mX;
  double kabs, cth, sth; /* |k| and the direction of k */
  const spinor *ub;      /* the beam spinors u_-(p), u_+(p) (fixed per process: proc_make) */
} kin;

/* The bilinears of two 4-spinors a, b split into chiral halves a = (a_L, a_R) (Peskin eq. 3.36):
 * n^mu = a_L^dagger sigma^mu b_L and r^mu = a_R^dagger sigma^mu b_R with sigma^mu = (1, sigma_i)
 * (four products each), and s_LR = a_L^dagger b_R, s_RL = a_R^dagger b_L, accumulated. */
typedef struct {
  double complex n[4], r[4], lr, rl;
} bilin;

static inline void bilin_add_scalar(const spinor a, const spinor b, bilin *acc)
{
  acc->lr += cjmul(a[0], b[2]) + cjmul(a[1], b[3]);
  acc->rl += cjmul(a[2], b[0]) + cjmul(a[3], b[1]);
}

/* one chiral half: v^mu += x^dagger sigma^mu y for 2-spinors x, y */
static inline void bilin_half(const double complex *x, const double complex *y, double complex *v)
{
  double complex p00 = cjmul(x[0], y[0]), p01 = cjmul(x[0], y[1]), p10 = cjmul(x[1], y[0]), p11 = cjmul(x[1], y[1]);
  v[0] += p00 + p11;
  v[1] += p01 + p10;
  v[2] += CMPLX(cimag(p01) - cimag(p10), creal(p10) - creal(p01)); /* -i p01 + i p10 */
  v[3] += p00 - p11;
}

static inline void bilin_add_vector(const spinor a, const spinor b, bilin *acc)
{
  bilin_half(a, b, acc->n);
  bilin_half(a + 2, b + 2, acc->r);
}

/* The same with b = u_h(p), the beam spinor: the beam runs along +z, so (helicity_spinors with
 * p_T = 0) u_- = (0, s+, 0, s-) and u_+ = (s-, 0, s+, 0) with s+- = sqrt(E +- |p|), real and half
 * zero. The products with the zero components are left out and the others are complex times real:
 * the sums are bitwise those of bilin_add_vector/bilin_add_scalar (x 0 adds a signed zero) at
 * ~40% of the cost. bl, br: the nonzero component of the left and right half. */
static inline void bilin_half_beam(const double complex *x, int h, double b, double complex *v)
{
  if (h == 0) { /* y = (0, b): p00 = p10 = 0 */
    double complex p01 = CMPLX(creal(x[0]) * b, -cimag(x[0]) * b), p11 = CMPLX(creal(x[1]) * b, -cimag(x[1]) * b);
    v[0] += p11;
    v[1] += p01;
    v[2] += CMPLX(cimag(p01), -creal(p01));
    v[3] -= p11;
  } else { /* y = (b, 0): p01 = p11 = 0 */
    double complex p00 = CMPLX(creal(x[0]) * b, -cimag(x[0]) * b), p10 = CMPLX(creal(x[1]) * b, -cimag(x[1]) * b);
    v[0] += p00;
    v[1] += p10;
    v[2] += CMPLX(-cimag(p10), creal(p10));
    v[3] += p00;
  }
}

static inline void bilin_add_beam(const spinor a, int h, double bl, double br, int vec, int scal, bilin *acc)
{
  if (vec) {
    bilin_half_beam(a, h, bl, acc->n);
    bilin_half_beam(a + 2, h, br, acc->r);
  }
  if (scal) { /* s_LR = a_L^+ b_R, s_RL = a_R^+ b_L with one nonzero component each */
    int i = h == 0 ? 1 : 0;
    acc->lr += CMPLX(creal(a[i]) * br, -cimag(a[i]) * br);
    acc->rl += CMPLX(creal(a[i + 2]) * bl, -cimag(a[i + 2]) * bl);
  }
}

/* out = (a-slash) u_h(p) for the beam spinor (bilin_half_beam): complex times real, no zero terms;
 * bitwise slash(a, u_h) */
static void slash_beam(const lv *a, int h, double sp, double sm, spinor out)
{
  double complex tm = CMPLX(a->x, -a->y), tp = CMPLX(a->x, a->y);
  if (h == 0) { /* (0, s+, 0, s-) */
    out[0] = -(tm * sm);
    out[1] = a->pl * sm;
    out[2] = tm * sp;
    out[3] = a->mi * sp;
  } else { /* (s-, 0, s+, 0) */
    out[0] = a->mi * sp;
    out[1] = -(tp * sp);
    out[2] = a->pl * sm;
    out[3] = tp * sm;
  }
}

/* sum over lepton spins and X polarisations of |u-bar' Gamma u|^2, Gamma = V S(p+q) Pslash +
 * Pslash S(p-k) V. With b1 = S(p+q) Pslash u and w = (l2slash + m) Pslash u'/d2 (the Dirac
 * conjugate of u-bar' Pslash S(p-k): gamma0 M^dagger gamma0 reverses the product of slashed real
 * vectors), u-bar' Gamma u = u-bar' V b1 + w-bar V u, and for every vertex these are read off the
 * chiral bilinears: with gamma0 gamma^mu = diag(sigmabar^mu, sigma^mu) and
 * gamma5 = diag(-1, 1) (Peskin eqs. 3.40, 3.72)
 *   eps-slash:        eps_0 (n^0 + r^0) + eps_i (n^i - r^i)
 *   eps-slash gamma5: -(eps_0 n^0 + eps_i n^i) + (eps_0 r^0 - eps_i r^i)
 *   1:                s_LR + s_RL;     gamma5: s_LR - s_RL   (bilin_add_vector, bilin_add_scalar).
 * The spinor chains are formed once per helicity (4 slashes each) instead of once per
 * polarisation; the spin sums agree with those of the former per-polarisation chains within
 * 1.5e-9 relative (rounding) at 166 thousand random phase-space points, all mediators and beams. */
static double amp2_sum(const kin *K, na64_mediator med)
{
  spinor up[2], b1[2], w[2];
  /* s+ = sqrt(E + |p|) and s- = sqrt(E - |p|) of the beam spinors (slash_beam) */
  double sp = creal(K->ub[0][1]), sm = creal(K->ub[0][3]);
  helicity_spinors(&K->pp, K->m, up);
  for (int h = 0; h < 2; ++h) {
    spinor t;
    slash_beam(&K->P, h, sp, sm, t);
    propagate(&K->l1, K->m, K->d1, t, b1[h]);
    slash(&K->P, up[h], t);
    propagate(&K->l2, K->m, K->d2, t, w[h]);
  }
  int vec = med == NA64_MED_VECTOR || med == NA64_MED_ZPRIME || med == NA64_MED_AXIAL;
  /* the polarisations (header): transverse e1 = (0, cos th, 0, -sin th), e2 = (0, 0, 1, 0) and the
   * gauge-shifted longitudinal f (1, -sin th, 0, -cos th), f = -m_X/(E_k + |k|); their zero
   * components are left out of the contractions below */
  double ct = K->cth, st = K->sth, f = vec ? -K->mX / (K->k.e + K->kabs) : 0.0;
  double sum = 0.0, fa = med == NA64_MED_AXIAL ? 2.0 * K->m / K->mX : 0.0;
  for (int h = 0; h < 2; ++h)
    for (int hp = 0; hp < 2; ++hp) {
      bilin B = {{0}, {0}, 0, 0};
      int scal = !vec || med == NA64_MED_AXIAL; /* axial: the pseudoscalar chain of the longitudinal part (header) */
      if (vec) bilin_add_vector(up[hp], b1[h], &B);
      if (scal) bilin_add_scalar(up[hp], b1[h], &B);
      /* u_- = (0, s+, 0, s-): left half s+, right half s-; u_+ = (s-, 0, s+, 0) */
      bilin_add_beam(w[hp], h, h ? sm : sp, h ? sp : sm, vec, scal, &B);
      if (!vec) {
        double complex a = med == NA64_MED_SCALAR ? B.lr + B.rl : B.lr - B.rl;
        sum += creal(a) * creal(a) + cimag(a) * cimag(a);
        continue;
      }
      /* the current c^mu the polarisations contract with (the table above, eps_mu c^mu with the
       * metric in the eps components' signs): vector c^0 = n^0 + r^0, c^i = n^i - r^i; axial
       * c^0 = r^0 - n^0, c^i = -(n^i + r^i). Then for e1, e2 and the longitudinal f (1, -sin th, 0,
       * -cos th): cos th c^1 - sin th c^3, c^2, f (c^0 - sin th c^1 - cos th c^3) */
      double complex c0, c1, c2, c3;
      if (med == NA64_MED_AXIAL) {
        c0 = B.r[0] - B.n[0], c1 = -(B.n[1] + B.r[1]), c2 = -(B.n[2] + B.r[2]), c3 = -(B.n[3] + B.r[3]);
      } else {
        c0 = B.n[0] + B.r[0], c1 = B.n[1] - B.r[1], c2 = B.n[2] - B.r[2], c3 = B.n[3] - B.r[3];
      }
      double complex a[3] = {ct * c1 - st * c3, c2, f * (c0 - st * c1 - ct * c3)};
      if (med == NA64_MED_AXIAL) a[2] -= fa * (B.lr - B.rl);
      for (int ip = 0; ip < 3; ++ip) sum += creal(a[ip]) * creal(a[ip]) + cimag(a[ip]) * cimag(a[ip]);
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
  spinor ub[2]; /* the beam spinors u_h(p), h = -, + */
  double pmi;   /* p^- = E0 - p0 = m^2/(E0 + p0) */
  int helicity; /* 1: the helicity amplitudes (amp2_sum) instead of the traces (amp2_closed); for the checks */
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

/* The azimuth-independent part of the kinematics at (E_k, theta, T): q = q0 + qpar V_hat +
 * qperp (cos phi e1 + sin phi e2) with e1 = (vz, 0, -vx), e2 = y (V_hat = (vx, 0, vz)) */
typedef struct {
  double T, q0, qpar, qperp, vx, vz;
} tkin;

static void tkin_make(const proc *P, const outer *o, double T, tkin *tk)
{
  tk->T = T;
  tk->q0 = -T / (2.0 * P->M);
  tk->qpar = -(o->a * T + 0.5 * o->D) / o->Vabs;
  double qperp2 = -o->c2 * (T - o->Tmin) * (o->Tmax - T) / (o->Vabs * o->Vabs);
  tk->qperp = sqrt(qperp2 > 0.0 ? qperp2 : 0.0);
  tk->vx = o->V.x / o->Vabs;
  tk->vz = o->V.z / o->Vabs;
}

/* <|M|^2>/(e^4 g^2 G2/t^2 / 2) at the azimuth cos phi = cphi, sin phi = sphi from the traces
 * (xsec_exact_trace.c). The nucleus current P = P_i + P_f enters through P.P, P.p, P.p' and P.k
 * only, and the sum is unchanged by P -> P + lambda q (the lepton tensor is conserved); with
 * lambda = -P^-/q^- (light-cone components a^-+ = a^0 -+ a^z) the shifted current has no minus
 * component, so every product P.a = P^+ a^-/2 - P_T.a_T is formed from the small components a^-
 * and a_T of the forward vectors p, p', k: the cancellation between the two diagrams at small q
 * (relative size q^2/m_X^2 against the P^- a^+ terms of order M E0) is not left to floating point.
 * d1 = (p+q)^2 - m^2 = 2 p.q + t. */
static double amp2_closed(const proc *P, const outer *o, const tkin *tk, double cphi, double sphi)
{
  double M = P->M, m2 = P->m * P->m, T = tk->T;
  double qx = tk->qpar * tk->vx + tk->qperp * cphi * tk->vz, qy = tk->qperp * sphi;
  double qz = tk->qpar * tk->vz - tk->qperp * cphi * tk->vx;
  double qmi = tk->q0 - qz, qpl = tk->q0 + qz;
  double Pmi = 2.0 * M - tk->q0 + qz, Ppl0 = 2.0 * M - tk->q0 - qz; /* P = (2M - q0, -q) */
  double r = Pmi / qmi;                                           /* P^-/q^- */
  double Ppl = Ppl0 - r * qpl, Px = -(1.0 + r) * qx, Py = -(1.0 + r) * qy; /* P - (P^-/q^-) q */
  /* p' = V + q, its minus component from the mass shell (no cancellation) */
  double ppx = o->V.x + qx, ppy = qy, pppl = o->V.pl + qpl;
  double ppmi = (m2 + ppx * ppx + ppy * ppy) / pppl;
  const lv *k = &o->k;
  na64_exact_inv v;
  v.d1 = 2.0 * (P->E0 * tk->q0 - P->p0 * qz) - T;
  v.d2 = -o->D;
  v.s = k->pl * qmi + k->mi * qpl - 2.0 * k->x * qx; /* 2 k.q (k_y = 0) */
  v.t = -T;
  v.m2 = m2;
  v.mX2 = P->mX * P->mX;
  v.PP = -(Px * Px + Py * Py);
  v.pP = 0.5 * Ppl * P->pmi; /* p_T = 0 */
  v.kP = 0.5 * Ppl * k->mi - Px * k->x;
  v.ppP = 0.5 * Ppl * ppmi - Px * ppx - Py * ppy;
  return na64_exact_trace_amp2(P->med, &v);
}

/* the same from the helicity amplitudes (amp2_sum), for the checks */
static double amp2_helicity(const proc *P, const outer *o, const tkin *tk, double cphi, double sphi)
{
  double M = P->M, m = P->m, T = tk->T, q0 = tk->q0;
  double qx = tk->qpar * tk->vx + tk->qperp * cphi * tk->vz, qy = tk->qperp * sphi;
  double qz = tk->qpar * tk->vz - tk->qperp * cphi * tk->vx;
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
  K.ub = (const spinor *)P->ub;
  return amp2_sum(&K, P->med);
}

/* d sigma/(dE_k dcos theta dT dphi) per unit <|M|^2>/(e^4 g^2 G2/t^2 / 2): the initial spin
 * average, e^2 at the lepton-photon and photon-nucleus vertices (G2 carrying Z^2 and the form
 * factors), the flux 1/(4 M p0) and the phase space |k| (2 pi)/(2 (2 pi)^5 8 M |V|) per
 * dE_k dcos dT dphi; in GeV^-2 GeV^-1 GeV^-2 */
static double density_factor(const proc *P, const outer *o)
{
  double e2 = 4.0 * M_PI * NA64_ALPHA_EM, M = P->M;
  double ps = o->kabs * 2.0 * M_PI / (2.0 * pow(2.0 * M_PI, 5) * 8.0 * M * o->Vabs);
  return 0.5 * e2 * e2 * P->g2 * ps / (4.0 * M * P->p0);
}

/* d sigma/(dE_k dcos theta dT dphi) in GeV^-2 GeV^-1 GeV^-2 without the photon-nucleus factor
 * G2(T)/T^2 (density() multiplies it in), at the azimuth with cos phi = cphi, sin phi = sphi */
static double density_lepton(const proc *P, const outer *o, double T, double cphi, double sphi)
{
  if (!(T > o->Tmin) || !(T < o->Tmax)) return 0.0;
  tkin tk;
  tkin_make(P, o, T, &tk);
  double a2 = P->helicity ? amp2_helicity(P, o, &tk, cphi, sphi) : amp2_closed(P, o, &tk, cphi, sphi);
  return density_factor(P, o) * a2;
}

/* d sigma/(dE_k dcos theta dT dphi) in GeV^-2 GeV^-1 GeV^-2 */
static double density(const proc *P, const outer *o, double T, double phi)
{
  if (!(T > o->Tmin) || !(T < o->Tmax)) return 0.0;
  return g2_of(P, T) / (T * T) * density_lepton(P, o, T, cos(phi), sin(phi));
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
  lv pb = lv_make(P->E0, 0.0, 0.0, P->p0, P->m * P->m / (P->E0 + P->p0), P->E0 + P->p0);
  helicity_spinors(&pb, P->m, P->ub);
  P->pmi = P->m * P->m / (P->E0 + P->p0);
  P->helicity = 0;
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

/* ---- total by nested Gauss-Legendre rules (issue 14: the deterministic default) ----
 * sigma = int dx int dcos theta int dT int dphi, each by fixed Gauss-Legendre rules on panels whose
 * variables follow the shape of the integrand, so that a few nodes per panel suffice. The scales
 * are those of the propagators, U = m_X^2 (1-x)/x + m_l^2 x and Utilde = E0^2 x theta^2 + U
 * (BEST eq. A4), and of the form factor (Tsai RMP 46 (1974) 815, eq. 3.38):
 *  x: s^2-mapped from the threshold x_lo = m_X/E0 (|k| opens as a square root) to
 *     x_c = min(m_X/m_l, 1/2) (d sigma/dx ~ x^2/(m_X^2 + m_l^2 x^2) below x_c), ln x from x_c to
 *     1/2, y = -ln(1 - x) from 1/2 (breakpoint at x_s = 1 - m_l^2/m_X^2 where U changes from its
 *     m_X to its m_l term, and where the form factor starts to cut at large x) to
 *     1 - x = 2 m_l/E0, s^2-mapped to the end 1 - x = m_l/E0 (the lepton momentum closes);
 *  theta: u = (theta/theta_s)^2, theta_s^2 = U/(x E0^2), v = u/(1 + u): d sigma/du ~ (1 + u)^-2
 *     (times logarithms from t_min), so d sigma/dv is smooth for u < 1 and smooth in ln(1 - v)
 *     beyond (panels of 3 and 5 units, then one to theta = pi, which holds < 1e-3 of sigma);
 *  T = -t: linear T below the screening scale 1/a^2 (the integrand ~ (T - T_min) a^4/(1 + a^2 T)^2,
 *     the lepton factor (T - T_min)/T^2 times G2), ln T from 1/a^2 to the nuclear scale d (flat:
 *     the 1/T of the photon flux; and to 0.71 GeV^2 with the inelastic term), 1/T above (the
 *     falling form factor: the integrand in 1/T is ~ linear);
 *  phi: the azimuth of q about V enters the amplitude only through the propagator
 *     d1 = (p+q)^2 - m^2 = A + B cos phi (A > |B|: d1 = m_X^2 + 2 p'.k > 0) and polynomially through
 *     q elsewhere; tan(phi/2) = r tan(psi/2), r = sqrt((A + B)/(A - B)), gives
 *     dphi = (A + B cos phi) dpsi/sqrt(A^2 - B^2) (Gradshteyn-Ryzhik 2.553.3), which takes out one
 *     power of the collinear peak; what remains is smooth in psi, and a short Gauss rule on [0, pi]
 *     (the density is even in phi) converges: 4 nodes give 1e-4, 6 nodes 1e-6 (docs/physics.md).
 *     With the traces (xsec_exact_trace.c) the integrand is, in exact arithmetic, a polynomial of
 *     degree 4 in cos phi over d1^2, but its coefficients from the unshifted current cancel
 *     catastrophically, and the shift -(P^-/q^-) q that avoids this depends on phi; so the rule
 *     stays (docs/physics.md, "The traces in closed form").
 * Long panels in a logarithmic variable are cut into pieces of at most 3 (x) or 5 (T) units. The
 * error estimate is the difference between two successive sets of rule orders (docs/physics.md). */

typedef struct {
  double v, w; /* the node (in the original variable) and its weight times the Jacobian */
} qnode;

/* The order of the tail panels, which hold a small part of sigma in a variable where the integrand
 * is nearly linear (the s^2-mapped closing of the lepton phase space at x -> 1 - m_l/E0, theta from
 * u = e^8 to pi, T above the nuclear size in 1/T): one below the level's order, so that the orders
 * still rise from level to level and the difference of two levels sees these panels too (branch
 * exact1ms: 15% fewer amplitudes over 34 test points, docs/physics.md). */
static int q_tail_order(int n) { return n > 1 ? n - 1 : 1; }

enum { Q_LIN, Q_LOG, Q_Y, Q_INV, Q_SQLO, Q_SQHI };
#define Q_MAXN 40     /* the largest order of a rule */
#define Q_MAXNODES 640 /* nodes per dimension: at most 16 panels of Q_MAXN */
#define Q_SPAN_X 3.0 /* the longest panel in y = -ln(1 - x) or ln x */
#define Q_SPAN_T 5.0 /* the longest panel in ln T (the flat stretch between 1/a^2 and d) */

static gsl_integration_glfixed_table *gl_tab[Q_MAXN + 1];
/* the phi rules of q_phi: weight, cos and sin of psi/2 for the nodes psi of the n-point rule on [0, pi] */
static double phi_w[Q_MAXN + 1][Q_MAXN], phi_c[Q_MAXN + 1][Q_MAXN], phi_s[Q_MAXN + 1][Q_MAXN];
static pthread_once_t gl_once = PTHREAD_ONCE_INIT;
static void gl_init(void)
{
  for (int n = 1; n <= Q_MAXN; ++n) {
    gl_tab[n] = gsl_integration_glfixed_table_alloc((size_t)n);
    for (int i = 0; gl_tab[n] && i < n; ++i) {
      double psi;
      gsl_integration_glfixed_point(0.0, M_PI, (size_t)i, &psi, &phi_w[n][i], gl_tab[n]);
      phi_c[n][i] = cos(0.5 * psi);
      phi_s[n][i] = sin(0.5 * psi);
    }
  }
}

/* The rule of order n on [a, b] (a < b) in the variable of kind `kind`, appended to out[*cnt]; a
 * logarithmic panel longer than `span` is cut into equal pieces. Q_SQLO/Q_SQHI: v = a + (b - a) s^2
 * or b - (b - a) s^2, s in [0, 1], for an integrand that opens or closes as a square root there
 * (a two-body threshold: |k| at x -> m_X/E0, the lepton momentum at x -> 1 - m_l/E0). */
static void q_panel(int kind, double a, double b, int n, double span, qnode *out, int *cnt)
{
  if (!(b > a) || n < 1 || n > Q_MAXN) return;
  double sa, sb; /* the panel in the mapped variable s */
  switch (kind) {
  case Q_LOG: sa = log(a), sb = log(b); break;
  case Q_Y: sa = -log1p(-a), sb = -log1p(-b); break;
  case Q_INV: sa = 1.0 / b, sb = 1.0 / a; break;
  case Q_SQLO:
  case Q_SQHI: sa = 0.0, sb = 1.0; break;
  default: sa = a, sb = b; break;
  }
  int k = kind == Q_LOG || kind == Q_Y ? (int)ceil((sb - sa) / span) : 1;
  if (k < 1) k = 1;
  for (int j = 0; j < k; ++j) {
    double lo = sa + (sb - sa) * j / k, hi = sa + (sb - sa) * (j + 1) / k;
    /* in y = -ln(1 - x) the pieces after the first hold a few per cent of sigma (beyond the
     * breakpoints d sigma/dy falls ~ e^-y: the lepton-mass term of U, then the t_min cut): one
     * order less (q_tail_order; 8% fewer amplitudes, the largest true error at 34 points 0.41%) */
    int nj = kind == Q_Y && j > 0 ? q_tail_order(n) : n;
    const gsl_integration_glfixed_table *tab = gl_tab[nj];
    for (int i = 0; i < nj && *cnt < Q_MAXNODES; ++i) {
      double s, w, v, dv;
      gsl_integration_glfixed_point(lo, hi, (size_t)i, &s, &w, tab);
      switch (kind) {
      case Q_LOG: v = exp(s), dv = v; break;
      case Q_Y: v = -expm1(-s), dv = exp(-s); break;
      case Q_INV: v = 1.0 / s, dv = v * v; break;
      case Q_SQLO: v = a + (b - a) * s * s, dv = 2.0 * (b - a) * s; break;
      case Q_SQHI: v = b - (b - a) * s * s, dv = 2.0 * (b - a) * s; break;
      default: v = s, dv = 1.0; break;
      }
      out[*cnt].v = v;
      out[(*cnt)++].w = w * dv;
    }
  }
}

/* The x nodes (weights for dx) between x_lo and x_hi (header of this section); the last panel,
 * 1 - x from 2 m_l/E0 to m_l/E0, takes the square-root closing of the lepton phase space. */
static int q_x_nodes(const proc *P, int n, qnode *out)
{
  double xlo = fmax(P->mX / P->E0, P->x_min), xhi = 1.0 - P->m / P->E0;
  double xc = P->mX / P->m, xs = 1.0 - P->m * P->m / (P->mX * P->mX);
  double b[6] = {xlo, fmin(xc, 0.5), 0.5, fmax(xs, 0.5), 1.0 - 2.0 * P->m / P->E0, xhi};
  const int kind[5] = {Q_SQLO, Q_LOG, Q_Y, Q_Y, Q_SQHI};
  for (int i = 4; i >= 1; --i) b[i] = fmin(b[i], b[i + 1]); /* monotonic, inside [x_lo, x_hi] */
  for (int i = 1; i <= 5; ++i) b[i] = fmax(b[i], b[i - 1]);
  int cnt = 0;
  for (int i = 0; i < 5; ++i) q_panel(kind[i], b[i], b[i + 1], i == 4 ? q_tail_order(n) : n, Q_SPAN_X, out, &cnt);
  return cnt;
}

/* The theta nodes at fixed x (weights for dcos theta): v = u/(1 + u), u = (theta/theta_c)^2, linear
 * in w = 1 - v on [1/2, 1] (theta < theta_c) and in ln w from w = 1/2 down to w(pi) (the tail
 * d sigma/du ~ ln(u)/u^2 grows a logarithm at v -> 1: in ln w it is smooth). */
static int q_theta_nodes(const proc *P, double x, int n, qnode *out)
{
  /* the angular scale: Utilde = E0^2 x theta^2 + U doubles at theta^2 = U/(x E0^2) (BEST eq. A4),
   * i.e. theta_c sqrt(x) (theta_c itself is the scale of d sigma/dx dtheta at x ~ 1) */
  double tc = theta_c(P, x) * sqrt(x), umax = pow(M_PI / tc, 2);
  double wmin = 1.0 / (1.0 + umax); /* 1 - v at theta = pi */
  int cnt = 0;
  /* panels of 3 and 5 units in ln w, then one to theta = pi: d sigma/du ~ 1/u^2 leaves ~1/u of
   * sigma beyond u, 3e-4 beyond u = e^8, where a rough rule costs nothing in the total */
  double w1 = fmax(wmin, 0.5 * exp(-3.0)), w2 = fmax(wmin, 0.5 * exp(-8.0));
  q_panel(Q_LIN, 0.5, 1.0, n, 1.0, out, &cnt);
  q_panel(Q_LOG, w1, 0.5, n, 3.0, out, &cnt);
  q_panel(Q_LOG, w2, w1, n, 5.0, out, &cnt);
  q_panel(Q_LOG, wmin, w2, q_tail_order(n), 1e9, out, &cnt);
  int k = 0;
  for (int i = 0; i < cnt; ++i) {
    double w = out[i].v, v = 1.0 - w, th = tc * sqrt(v / w);
    if (!(th < M_PI)) continue;
    /* dtheta/dv = theta_c/(2 sqrt(v (1 - v)^3)), dcos = sin theta dtheta, |dv| = |dw| */
    out[k].v = th;
    out[k++].w = out[i].w * sin(th) * tc / (2.0 * sqrt(v * w * w * w));
  }
  return k;
}

/* The T nodes at fixed (x, theta) (weights for dT): linear below 1/a^2, ln T to d (and 0.71 with
 * the inelastic term), 1/T above. */
static int q_t_nodes(const proc *P, const outer *o, int n, qnode *out)
{
  double ta = 1.0 / P->a2, td = P->d, lo = o->Tmin, hi = o->Tmax;
  double b[5] = {lo, ta, td, (P->ff & NA64_FF_INELASTIC) ? fmax(0.71, td) : td, hi};
  /* with the inelastic term, ln T from d to 0.71 (the elastic d^2/T^2 and the rising proton term
   * share that range; in 1/T the proton factor (1 + T/0.71)^-8 would be a wall at its end) */
  const int kind[4] = {Q_LIN, Q_LOG, (P->ff & NA64_FF_INELASTIC) ? Q_LOG : Q_INV, Q_INV};
  int cnt = 0;
  for (int i = 0; i < 4; ++i)
    q_panel(kind[i], fmax(b[i], lo), fmin(b[i + 1], hi), kind[i] == Q_INV ? q_tail_order(n) : n, Q_SPAN_T, out, &cnt);
  return cnt;
}

/* int_0^{2 pi} dphi density at (x, theta, T) by the mapped rule of order n (header of this section);
 * the azimuth-independent kinematics (tkin) and the factors (density_factor, G2/T^2) once */
static double q_phi(const proc *P, const outer *o, double T, int n)
{
  if (!(T > o->Tmin) || !(T < o->Tmax)) return 0.0;
  tkin tk;
  tkin_make(P, o, T, &tk);
  double A = 2.0 * (P->E0 * tk.q0 - P->p0 * tk.qpar * tk.vz) - T;
  double B = 2.0 * P->p0 * tk.qperp * tk.vx;
  double r = (A - B > 0.0 && A + B > 0.0) ? sqrt((A + B) / (A - B)) : 1.0;
  if (!isfinite(r) || r <= 0.0) r = 1.0;
  double s = 0.0;
  for (int i = 0; i < n; ++i) {
    /* phi = 2 atan2(r sn, c): cos phi and sin phi from the half angle, no trigonometric call */
    double c = phi_c[n][i], sn = r * phi_s[n][i], den = c * c + sn * sn;
    double cphi = (c * c - sn * sn) / den, sphi = 2.0 * sn * c / den;
    double a2 = P->helicity ? amp2_helicity(P, o, &tk, cphi, sphi) : amp2_closed(P, o, &tk, cphi, sphi);
    s += phi_w[n][i] * (r / den) * a2;
  }
  return 2.0 * density_factor(P, o) * g2_of(P, T) / (T * T) * s;
}

typedef struct {
  int nx, nth, nt, nphi;
} q_orders;

/* sigma in GeV^-2 by the rules of orders q */
static double q_sigma(const proc *P, q_orders q)
{
  qnode *xs = malloc(sizeof(qnode) * 3 * Q_MAXNODES), *ths = xs + Q_MAXNODES, *ts = ths + Q_MAXNODES;
  if (!xs) return NAN;
  double sum = 0.0;
  int nx = q_x_nodes(P, q.nx, xs);
  for (int i = 0; i < nx; ++i) {
    double x = xs[i].v, sx = 0.0;
    int nth = q_theta_nodes(P, x, q.nth, ths);
    for (int j = 0; j < nth; ++j) {
      outer o;
      if (!outer_make(P, x * P->E0, ths[j].v, &o)) continue;
      double st = 0.0;
      int nt = q_t_nodes(P, &o, q.nt, ts);
      for (int k = 0; k < nt; ++k) st += ts[k].w * q_phi(P, &o, ts[k].v, q.nphi);
      sx += ths[j].w * st;
    }
    sum += xs[i].w * P->E0 * sx; /* dE_k = E0 dx */
  }
  free(xs);
  return sum;
}

/* The ladder of rule orders (x, theta, T, phi per panel): each level raises the order of x, theta
 * and T (phi is converged to 1e-4 at 4 nodes), so the difference of two successive levels sees the
 * error of every dimension; the orders grow slowly because the rules converge fast. Levels 0 and 1
 * were (3, 4, 2, 4) and (4, 5, 3, 4) until branch exact1ms: against orders (20, 20, 12, 10) at 34
 * points the present ladder (with the tail orders of q_tail_order) returns values within 0.41% at
 * 1% (0.39% before), its estimate covers the true error at 33 of 34 points (30 before) and it
 * costs 32% fewer amplitudes in the median of the 12 bench points (docs/physics.md, "Exact
 * integration: the ladder and the tail orders"). */
#define Q_LEVELS 8
static const q_orders q_ladder[Q_LEVELS] = {{3, 3, 2, 4}, {4, 4, 3, 4}, {5, 5, 4, 4}, {6, 6, 4, 4},
                                            {8, 8, 5, 6}, {10, 10, 6, 6}, {12, 12, 8, 8}, {16, 16, 10, 8}};
static q_orders q_level(int L) { return q_ladder[L]; }

int na64_exact_quad_orders(const na64_exact_process *p, int nx, int nth, int nt, int nphi, double *pb, na64_err *err)
{
  proc P;
  NA64_CALL(proc_make(p, &P, err));
  pthread_once(&gl_once, gl_init);
  if (nx < 1 || nx > Q_MAXN || nth < 1 || nth > Q_MAXN || nt < 1 || nt > Q_MAXN || nphi < 1 || nphi > Q_MAXN)
    return na64_err_set(err, NA64_EINVAL, "exact sigma: rule orders outside 1..%d", Q_MAXN);
  q_orders q = {nx, nth, nt, nphi};
  *pb = NA64_GEV2_PB * q_sigma(&P, q);
  return NA64_OK;
}

int na64_xsec_exact_quad(const na64_exact_process *p, double rel_prec, double *pb, double *abserr, na64_err *err)
{
  proc P;
  NA64_CALL(proc_make(p, &P, err));
  if (!(rel_prec >= 0.0) || !isfinite(rel_prec)) return na64_err_set(err, NA64_EINVAL, "relative precision %g", rel_prec);
  if (rel_prec == 0.0) rel_prec = 0.01;
  pthread_once(&gl_once, gl_init);
  *pb = 0.0;
  if (abserr) *abserr = 0.0;
  if (!(1.0 - P.m / P.E0 > fmax(P.mX / P.E0, P.x_min))) return NA64_OK; /* the window is closed */
  double prev = q_sigma(&P, q_level(0)), cur = prev, e = INFINITY;
  for (int L = 1; L < Q_LEVELS; ++L) {
    cur = q_sigma(&P, q_level(L));
    e = fabs(cur - prev);
    if (!isfinite(cur)) break;
    if (e <= rel_prec * fabs(cur)) break;
    prev = cur;
  }
  if (!isfinite(cur) || !(e <= rel_prec * fabs(cur)))
    return na64_err_set(err, NA64_ENUMERIC, "exact sigma: the Gauss rules did not reach %g relative precision (%g +- %g pb) at m = %g GeV, E0 = %g GeV",
                        rel_prec, NA64_GEV2_PB * cur, NA64_GEV2_PB * e, P.mX, P.E0);
  *pb = NA64_GEV2_PB * cur;
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

/* ---- the traces against the helicity amplitudes (tests/physics/test_xsec_exact_trace.c) ---- */

int na64_exact_amp2_compare(const na64_exact_process *p, int n, unsigned long seed, double *max_rel, int *compared,
                            na64_err *err)
{
  proc P;
  NA64_CALL(proc_make(p, &P, err));
  na64_rng rng;
  na64_rng_init(&rng, seed, 14);
  double xlo = P.mX / P.E0, xhi = 1.0 - P.m / P.E0, worst = 0.0;
  int cnt = 0;
  for (int i = 0; i < n; ++i) {
    /* x log-uniform in 1 - x and in x, theta log-uniform around the angular scale, T log-uniform
     * over its range, phi uniform: the regions where the rules put their nodes */
    double u = na64_rng_uniform(&rng);
    double x = na64_rng_uniform(&rng) < 0.5 ? xlo * pow(0.5 / xlo, u) : 1.0 - (1.0 - xhi) * pow(0.5 / (1.0 - xhi), u);
    if (!(x > xlo && x < xhi)) continue;
    double th = theta_c(&P, x) * exp(-4.0 + 10.0 * na64_rng_uniform(&rng));
    outer o;
    if (!(th < M_PI) || !outer_make(&P, x * P.E0, th, &o)) continue;
    double T = o.Tmin * pow(o.Tmax / o.Tmin, na64_rng_uniform(&rng)), phi = M_PI * na64_rng_uniform(&rng);
    P.helicity = 1;
    double h = density_lepton(&P, &o, T, cos(phi), sin(phi));
    P.helicity = 0;
    double c = density_lepton(&P, &o, T, cos(phi), sin(phi));
    if (!(h > 0.0)) continue;
    double rel = fabs(c / h - 1.0);
    if (!isnan(worst) && !(rel <= worst)) worst = rel; /* a NaN stays */
    ++cnt;
  }
  *max_rel = worst;
  *compared = cnt;
  return NA64_OK;
}
