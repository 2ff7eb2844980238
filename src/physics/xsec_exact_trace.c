/*
 * The squared matrix element of l(p) N(P_i) -> l(p') N(P_f) X(k) summed over the lepton spins and
 * the X polarisations, in closed form: the Dirac traces of the two-diagram amplitude of xsec_exact.c
 * (header there; Bjorken, Essig, Schuster, Toro PRD 80 (2009) 075018 eq. A1; Liu, Morrissey, Yu
 * PRD 96 (2017) 036010 eq. 2.1; Gninenko, Kirpichnikov, Kirsanov, Krasnikov PRD 98 (2018) 015007
 * eqs. 2-5):
 *   sum |u-bar(p') Gamma u(p)|^2 = sigma_V Tr[(p'slash + m) Gamma (pslash + m) Gamma-bar],
 *   Gamma = V (l1slash + m) Pslash/d1 + Pslash (l2slash + m) V/d2,  l1 = p + q, l2 = p - k,
 * with the X polarisation sum -g_{mu nu} for the vector and the Z' (the current is conserved,
 * k.J = 0), none for the scalar (V = 1) and the pseudoscalar (V = gamma5), and for the axial vector
 * (V = epsslash gamma5) -g_{mu nu} + k_mu k_nu/m_X^2, whose second term is (2 m/m_X)^2 times the
 * pseudoscalar sum (k.J_A = -2 m M_P, the partially conserved axial current: xsec_exact.c header;
 * Kahn, Krnjaic, Mishra-Sharma, Tait JHEP 05 (2017) 002).
 * The traces were taken with the standard rules (Peskin & Schroeder eqs. 5.5-5.10, A.27-A.30:
 * Tr of an odd number of gammas vanishes, Tr(a b) = 4 a.b, the recursion
 * Tr(a1 ... an) = sum_k (-1)^k a1.ak Tr(...), gamma^mu a gamma_mu = -2 a, gamma^mu a b gamma_mu =
 * 4 a.b, gamma^mu a b c gamma_mu = -2 c b a, gamma5 anticommuting) by a short symbolic program
 * (tools/exact_traces.py), then written in the invariants d1, d2, s = d1 + d2 = 2 k.q, t and the
 * products of P with P, p, p', k with p.k = (m_X^2 - d2)/2, p'.k = (d1 - m_X^2)/2,
 * p.p' = (2 m^2 - m_X^2 + d1 + d2 - t)/2 (momentum conservation p + q = p' + k). Each sum is
 * invariant under P -> P + lambda q (the lepton tensor is conserved in q; checked symbolically by
 * the same program), which xsec_exact.c uses to take a P without the large light-cone component
 * (the gauge-invariance cancellation of the two diagrams then does not occur in floating point).
 * They agree with the helicity amplitudes of xsec_exact.c (amp2_sum) at random phase-space points
 * of both beams and all five mediators (tests/physics/test_xsec_exact_trace.c).
 */
#include "physics/xsec_exact_trace.h"

/* The numerators N with sum = N/(d1^2 d2^2): the coefficients printed by tools/exact_traces.py,
 * grouped with a = d1 d2, q2 = d1^2 + d2^2 and s for d1 + d2 (the script checks the grouped forms
 * symbolically) as N = c_PP PP + pP (c_pp pP + c_pp' ppP + c_pk kP) + ppP (c_p'p' ppP + c_p'k kP)
 * + c_kk kP^2 (docs/physics.md, "The traces in closed form"). */

/* vector and Z': polarisation sum -g; w = 2 m^2 + m_X^2 */
static double num_vector(const na64_exact_inv *v)
{
  double d1 = v->d1, d2 = v->d2, s = v->s, t = v->t, m2 = v->m2, mX2 = v->mX2;
  double a = d1 * d2, q2 = d1 * d1 + d2 * d2, w = 2.0 * m2 + mX2, h = 2.0 * m2 - mX2 - t;
  double cPP = 4.0 * (q2 * (a - w * t) + 2.0 * a * t * (t - s - 2.0 * m2 + mX2));
  double cpp = 16.0 * a * (d1 - mX2), cqq = 16.0 * a * (d2 - mX2);
  double cpq = -16.0 * (a * s + w * q2 + 4.0 * m2 * a - 2.0 * a * t);
  double cpk = -16.0 * d2 * (d1 * (d1 + h) + w * d2), cqk = 16.0 * d1 * (w * d1 + d2 * (d2 + h));
  double pP = v->pP, ppP = v->ppP, kP = v->kP;
  return cPP * v->PP + pP * (cpp * pP + cpq * ppP + cpk * kP) + ppP * (cqq * ppP + cqk * kP) + 32.0 * m2 * a * kP * kP;
}

/* the -g part of the axial vector (its k k/m_X^2 part is the pseudoscalar's); w = 6 m^2 - m_X^2 */
static double num_axialg(const na64_exact_inv *v)
{
  double d1 = v->d1, d2 = v->d2, s = v->s, t = v->t, m2 = v->m2, mX2 = v->mX2;
  double a = d1 * d2, q2 = d1 * d1 + d2 * d2, w = 6.0 * m2 - mX2, h = 2.0 * m2 - mX2 - t;
  double cPP = 4.0 * (q2 * (a + w * t) + 2.0 * a * t * (t - s - 2.0 * m2 + mX2));
  double cpp = 16.0 * a * (d1 + 4.0 * m2 - mX2), cqq = 16.0 * a * (d2 + 4.0 * m2 - mX2);
  double cpq = 16.0 * (w * q2 - a * s + 4.0 * m2 * a + 2.0 * a * t);
  double cpk = 16.0 * d2 * (w * d2 - d1 * (d1 + h)), cqk = -16.0 * d1 * (w * d1 - d2 * (d2 + h));
  double pP = v->pP, ppP = v->ppP, kP = v->kP;
  return cPP * v->PP + pP * (cpp * pP + cpq * ppP + cpk * kP) + ppP * (cqq * ppP + cqk * kP) - 32.0 * m2 * a * kP * kP;
}

/* scalar (u = 4 m^2 - m_X^2) and pseudoscalar (u = -m_X^2): the same form */
static double num_scalar_like(const na64_exact_inv *v, double u)
{
  double d1 = v->d1, d2 = v->d2, s = v->s, t = v->t, a = d1 * d2;
  double pP = v->pP, ppP = v->ppP, kP = v->kP;
  return s * s * (2.0 * (a + u * t) * v->PP + 8.0 * u * pP * ppP) + 8.0 * s * kP * (d2 * (d1 + u) * pP - d1 * (d2 + u) * ppP) +
         8.0 * a * (t - s - u) * kP * kP;
}

double na64_exact_trace_amp2(na64_mediator med, const na64_exact_inv *v)
{
  double r = 1.0 / (v->d1 * v->d1 * v->d2 * v->d2);
  switch (med) {
  case NA64_MED_VECTOR:
  case NA64_MED_ZPRIME: return num_vector(v) * r;
  case NA64_MED_SCALAR: return num_scalar_like(v, 4.0 * v->m2 - v->mX2) * r;
  case NA64_MED_PSEUDOSCALAR: return num_scalar_like(v, -v->mX2) * r;
  case NA64_MED_AXIAL: return (num_axialg(v) + 4.0 * v->m2 / v->mX2 * num_scalar_like(v, -v->mX2)) * r;
  }
  return 0.0;
}
