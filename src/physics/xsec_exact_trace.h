/* The spin- and polarisation-summed squared matrix element of l N -> l N X in closed form (traces;
 * xsec_exact_trace.c, docs/physics.md "Exact tree level: the traces"), internal to the exact module. */
#ifndef NA64_PHYSICS_XSEC_EXACT_TRACE_H
#define NA64_PHYSICS_XSEC_EXACT_TRACE_H

#include "na64/physics.h"

/* The invariants of one phase-space point: d1 = (p+q)^2 - m^2, d2 = (p-k)^2 - m^2, s = d1 + d2 = 2 k.q
 * (formed from k and q, not as the sum), t = q^2, m2 = m_l^2, mX2 = m_X^2, and the products of the
 * nucleus current P (any gauge-equivalent P + lambda q) with itself, p, p' and k. */
typedef struct {
  double d1, d2, s, t, m2, mX2, PP, pP, ppP, kP;
} na64_exact_inv;

/* sum over lepton spins and X polarisations of |u-bar(p') Gamma u(p)|^2 (xsec_exact.c, amp2_sum) */
double na64_exact_trace_amp2(na64_mediator med, const na64_exact_inv *v);

/* The largest relative difference between the traces and the helicity amplitudes of xsec_exact.c at
 * n random phase-space points of process p (seeded, counter-based), and the number of points
 * compared; for tests. */
int na64_exact_amp2_compare(const na64_exact_process *p, int n, unsigned long seed, double *max_rel, int *compared,
                            na64_err *err);

#endif
