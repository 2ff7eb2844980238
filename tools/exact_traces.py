#!/usr/bin/env python3
"""Dirac traces of the exact tree-level l N -> l N X matrix element (src/physics/xsec_exact_trace.c).

sum over lepton spins and X polarisations of |u-bar(p') Gamma u(p)|^2 with
Gamma = V (l1slash + m) Pslash/d1 + Pslash (l2slash + m) V/d2, l1 = p + q = p' + k, l2 = p - k,
V = gamma^alpha (vector, polarisation sum -g), 1 (scalar), gamma5 (pseudoscalar),
gamma^alpha gamma5 (axial: the -g part; xsec_exact_trace.c adds the k k/m_X^2 part).
Rules: Peskin & Schroeder eqs. 5.5-5.10 and A.27-A.30 (trace recursion, contraction identities in
four dimensions, gamma5 anticommuting). Dot products in the invariants d1, d2, t and P.P, p.P,
p'.P, k.P (momentum conservation p + q = p' + k, all external lines on shell).
Prints the numerators N (sum = N/(d1^2 d2^2)) as C, after checking symbolically that every sum is
unchanged by P -> P + lambda q (the lepton tensor is conserved in q) and that the grouped forms
coded in src/physics/xsec_exact_trace.c (GROUPED below) equal them. Needs sympy (~10-30 s).
Usage: python3 tools/exact_traces.py > numerators.c
"""
import functools
import re
import sys

import sympy as sp

m, mX, t, d1, d2, pP, kP, ppP, PP, s = sp.symbols('m mX t d1 d2 pP kP ppP PP s')
m2, mX2 = sp.symbols('m2 mX2')
# vectors as combinations of the basis p, pp (= p'), k, P
vecs = {'p': {'p': 1}, 'pp': {'pp': 1}, 'k': {'k': 1}, 'P': {'P': 1}, 'l1': {'pp': 1, 'k': 1}, 'l2': {'p': 1, 'k': -1}}
bd = {('p', 'p'): m**2, ('pp', 'pp'): m**2, ('k', 'k'): mX**2, ('P', 'P'): PP,
      ('p', 'k'): (mX**2 - d2) / 2, ('pp', 'k'): (d1 - mX**2) / 2, ('p', 'pp'): (2 * m**2 - mX**2 + d1 + d2 - t) / 2,
      ('p', 'P'): pP, ('k', 'P'): kP, ('pp', 'P'): ppP}


def bdot(a, b):
    return bd[(a, b)] if (a, b) in bd else bd[(b, a)]


@functools.lru_cache(None)
def dot(a, b):
    return sp.expand(sum(ca * cb * bdot(x, y) for x, ca in vecs[a].items() for y, cb in vecs[b].items()))


@functools.lru_cache(None)
def trace(sl):
    """Tr of a product of slashed vectors: Tr(a1 ... an) = sum_k (-1)^k a1.ak Tr(a2 .. ^ak .. an)"""
    n = len(sl)
    if n == 0:
        return sp.Integer(4)
    if n % 2:
        return sp.Integer(0)
    r = 0
    for k in range(1, n):
        r += (-1)**(k + 1) * dot(sl[0], sl[k]) * trace(sl[1:k] + sl[k + 1:])
    return sp.expand(r)


def expand(factors):
    """factors: vector names, 'A' (gamma^alpha, contracted with the other 'A'), 'g5', or ('+m', v) = vslash + m"""
    terms = [(sp.Integer(1), ())]
    for f in factors:
        opts = [(1, (f[1],)), (m, ())] if isinstance(f, tuple) else [(1, (f,))]
        terms = [(c * c2, sl + s2) for c, sl in terms for c2, s2 in opts]
    return terms


def move_g5(sl):
    """every gamma5 moved to the right end (a sign per gamma passed); gamma5^2 = 1"""
    sign, out, cnt = 1, [], 0
    for i, e in enumerate(sl):
        if e == 'g5':
            if sum(1 for f in sl[i + 1:] if f != 'g5') % 2:
                sign = -sign
            cnt += 1
        else:
            out.append(e)
    if cnt % 2:
        raise ValueError('a single gamma5 is left (not in these sums)')
    return sign, tuple(out)


def contract(sl):
    """gamma^alpha X gamma_alpha for X of 0-3 slashed vectors (cyclically, around the shorter side)"""
    idx = [i for i, e in enumerate(sl) if e == 'A']
    if not idx:
        return [(1, sl)]
    i, j = idx
    X, pre, post = sl[i + 1:j], sl[:i], sl[j + 1:]
    if len(X) > 3:
        X, pre, post = sl[j + 1:] + sl[:i], (), sl[i + 1:j]
    n = len(X)
    if n == 0:
        return [(4, pre + post)]
    if n == 1:
        return [(-2, pre + X + post)]
    if n == 2:
        return [(4 * dot(X[0], X[1]), pre + post)]
    if n == 3:
        return [(-2, pre + X[::-1] + post)]
    raise ValueError(n)


def tr_full(factors):
    tot = 0
    for c, sl in expand(factors):
        sg, s2 = move_g5(sl)
        for c3, s3 in contract(s2):
            tot += c * sg * c3 * trace(s3)
    return sp.expand(tot)


# Gamma_1, Gamma_2 and their Dirac conjugates (gamma0 Gamma^dagger gamma0: the order reversed;
# bar(gamma5) = -gamma5, bar(gamma^a gamma5) = gamma^a gamma5), and the overall sign
# (-g of the polarisation sum; -1 from the two barred gamma5 of the pseudoscalar)
VERTICES = {
    'vector': ([['A', ('+m', 'l1'), 'P'], ['P', ('+m', 'l2'), 'A']], [['P', ('+m', 'l1'), 'A'], ['A', ('+m', 'l2'), 'P']], -1),
    'scalar': ([[('+m', 'l1'), 'P'], ['P', ('+m', 'l2')]], [['P', ('+m', 'l1')], [('+m', 'l2'), 'P']], 1),
    'pseudo': ([['g5', ('+m', 'l1'), 'P'], ['P', ('+m', 'l2'), 'g5']], [['P', ('+m', 'l1'), 'g5'], ['g5', ('+m', 'l2'), 'P']], -1),
    'axialg': ([['A', 'g5', ('+m', 'l1'), 'P'], ['P', ('+m', 'l2'), 'A', 'g5']],
               [['P', ('+m', 'l1'), 'A', 'g5'], ['A', 'g5', ('+m', 'l2'), 'P']], -1),
}


def numerator(med):
    G, Gb, sgn = VERTICES[med]
    den = [d1, d2]
    tot = 0
    for i in range(2):
        for j in range(2):
            tot += tr_full([('+m', 'pp')] + G[i] + [('+m', 'p')] + Gb[j]) / (den[i] * den[j])
    return sp.expand(sp.simplify(sp.expand(sp.together(sgn * tot) * d1**2 * d2**2)))


def gauge_check(num):
    lam = sp.Symbol('lam')
    pq = dot('p', 'pp') + dot('p', 'k') - dot('p', 'p')
    kq = dot('k', 'pp') + dot('k', 'k') - dot('k', 'p')
    ppq = dot('pp', 'pp') + dot('pp', 'k') - dot('pp', 'p')
    qq = sp.expand(ppq + kq - pq)
    assert sp.simplify(qq - t) == 0
    sh = num.subs({pP: pP + lam * pq, kP: kP + lam * kq, ppP: ppP + lam * ppq, PP: PP + 2 * lam * (ppP + kP - pP) + lam**2 * qq},
                  simultaneous=True)
    return sp.simplify(sp.expand(sh - num)) == 0


def grouped(med):
    """the forms of src/physics/xsec_exact_trace.c (s = d1 + d2)"""
    sv = d1 + d2
    a, q2 = d1 * d2, d1**2 + d2**2
    if med in ('vector', 'axialg'):
        h = 2 * m**2 - mX**2 - t
        if med == 'vector':
            w = 2 * m**2 + mX**2
            c = dict(PP=4 * (q2 * (a - w * t) + 2 * a * t * (t - sv - 2 * m**2 + mX**2)), pp=16 * a * (d1 - mX**2),
                     qq=16 * a * (d2 - mX**2), pq=-16 * (a * sv + w * q2 + 4 * m**2 * a - 2 * a * t),
                     pk=-16 * d2 * (d1 * (d1 + h) + w * d2), qk=16 * d1 * (w * d1 + d2 * (d2 + h)), kk=32 * m**2 * a)
        else:
            w = 6 * m**2 - mX**2
            c = dict(PP=4 * (q2 * (a + w * t) + 2 * a * t * (t - sv - 2 * m**2 + mX**2)), pp=16 * a * (d1 + 4 * m**2 - mX**2),
                     qq=16 * a * (d2 + 4 * m**2 - mX**2), pq=16 * (w * q2 - a * sv + 4 * m**2 * a + 2 * a * t),
                     pk=16 * d2 * (w * d2 - d1 * (d1 + h)), qk=-16 * d1 * (w * d1 - d2 * (d2 + h)), kk=-32 * m**2 * a)
        return (c['PP'] * PP + pP * (c['pp'] * pP + c['pq'] * ppP + c['pk'] * kP) + ppP * (c['qq'] * ppP + c['qk'] * kP)
                + c['kk'] * kP**2)
    u = 4 * m**2 - mX**2 if med == 'scalar' else -mX**2
    return (sv**2 * (2 * (a + u * t) * PP + 8 * u * pP * ppP) + 8 * sv * kP * (d2 * (d1 + u) * pP - d1 * (d2 + u) * ppP)
            + 8 * a * (t - sv - u) * kP**2)


def ccode(e):
    e = sp.factor(e).subs(d1 + d2, s)
    c = sp.ccode(e)
    c = re.sub(r'pow\((\w+), 2\)', r'\1 * \1', c)
    c = re.sub(r'pow\((\w+), 3\)', r'\1 * \1 * \1', c)
    return re.sub(r'pow\(([^()]+), 2\)', r'(\1) * (\1)', c)


def main():
    for med in VERTICES:
        num = numerator(med)
        if not gauge_check(num):
            sys.exit(f'{med}: not invariant under P -> P + lambda q')
        if sp.expand(grouped(med) - num) != 0:
            sys.exit(f'{med}: the grouped form of xsec_exact_trace.c differs from the traces')
        e = sp.expand(num.subs({m: sp.sqrt(m2), mX: sp.sqrt(mX2)}))
        lines = []
        for mon, c in sp.Poly(e, PP, pP, ppP, kP).terms():
            name = ' * '.join(v if k == 1 else f'{v} * {v}' for v, k in zip(['PP', 'pP', 'ppP', 'kP'], mon) if k)
            lines.append(f'({ccode(c)}) * {name}')
        print(f'/* {med} (invariant under P -> P + lambda q and equal to the grouped form: checked) */')
        print(f'static double num_{med}(const na64_exact_inv *v)\n{{\n  return ' + '\n         + '.join(lines) + ';\n}')


if __name__ == '__main__':
    main()
