#!/usr/bin/python3
"""Derive the unpublished visible-mode geometry of the 2017 (100 GeV) setup from the published band.

NA64 PRL 120 (2018) 231802 (arXiv:1803.07748), Fig. 4: the 90% CL excluded band for 5.4e10 EOT at
100 GeV, digitised in tests/refdata/limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_{lower,upper}.csv.
The band's edges fix three numbers our track-length model needs and the paper does not give:
  * the effective WCAL depth D (X0): where the A' is produced and how far it must fly,
  * the distance s (cm) from the WCAL end to the start of the decay region,
  * the decay-region length L (cm).
The upper edge (short-lived A') is set by D and s (survival exp(-(D X0 + s) / gamma c tau)), the
lower edge at small masses by L (decay probability ~ L / gamma c tau), its rise with the mass by D + s.

Fit: minimise chi2 = sum over masses of (ln eps_ours - ln eps_published)^2 / sigma^2 for both edges,
sigma = 0.05 (5%: the digitisation error of a log-scale figure, tests/refdata/README.md), with a
Nelder-Mead simplex; the uncertainties come from the numerical Hessian of chi2 (delta chi2 = 1),
scaled by sqrt(chi2/ndf) when the model does not describe the band within sigma.
Runs `na64 limits --mode visible` (path in $NA64, default build/na64). Writes a summary on stdout.

The signal model of the fit is the efficiency `na64 run` measures on the visible card (2026-12-06
refit, docs/validation.md "Refit with the measured efficiency"): the selection accepts an A' of
energy E with a probability that is a step, eff(E) = EFF for E >= EA_MIN and ~0 below (measured
event by event from the A' truth: 0.84 above 0.50 E0, < 0.012 below 0.50 E0 at 2-20 MeV; the
step is where the WCAL's leak into V2 reaches half a MIP), so the island is
`na64 limits --ea-min EA_MIN --efficiency EFF`. By construction the fitted geometry reproduces the
published edges at the fit masses (FIT_MASSES); the masses of the comparison in docs/validation.md
(CHECK_MASSES: 2, 10, 16.7, 20 MeV) and the closing mass are NOT used in the fit, so the check
there is a test of the model. Usage:
    tools/fit_visible_geometry.py [--ea-min GEV] [--efficiency E] [--depth X0 | --free-depth] [--max-end CM] [s0 L0]
Default: the measured 50 GeV, 0.84, the WCAL depth fixed at the 30.1 X0 of the conditions database
(D and s are degenerate: the band fixes the flight distance D X0 + s), start point s0 = 33 cm, L0 = 88 cm,
and the decay region ending before the straw stations (s + L <= 330.5 cm; 1e9 for an unlimited fit).
"""
import bisect
import csv
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NA64 = os.environ.get("NA64", os.path.join(ROOT, "build", "na64"))
REF = os.path.join(ROOT, "tests", "refdata", "limit_visible_NA64_PRL120_231802_2018_5p4e10EOT_%s.csv")
FIT_MASSES = [3.0, 5.0, 7.0, 12.0, 14.0, 18.0]
CHECK_MASSES = [2.0, 10.0, 16.7, 20.0]
SIGMA = 0.05
EOT = 5.4e10
# max_end: s + L <= 330.5 cm, the decay region and S4 (1 cm, 0.8 cm behind it) must end before the first
# straw station ST01 (front at 1849.5 cm; the WCAL ends at 1517.5 cm: sql/setups/20_visible_2017.sql)
OPTS = {"ea_min": 50.0, "efficiency": 0.84, "depth": 30.1, "free_depth": False, "max_end": 330.5}


def published(side, m):
    with open(REF % side) as f:
        rows = [(float(r["mass_MeV"]), float(r["epsilon"])) for r in csv.DictReader(f)]
    xs = [x for x, _ in rows]
    i = min(max(bisect.bisect(xs, m), 1), len(rows) - 1)
    (x0, y0), (x1, y1) = rows[i - 1], rows[i]
    t = (math.log(m) - math.log(x0)) / (math.log(x1) - math.log(x0))
    return math.exp(math.log(y0) + t * (math.log(y1) - math.log(y0)))


def band(depth, start, length, masses):
    out = subprocess.run([NA64, "limits", "--mode", "visible", "--eot", str(EOT), "--wcal-x0", "%.6g" % depth,
                          "--decay-start", "%.6g" % start, "--decay-length", "%.6g" % length,
                          "--ea-min", "%.6g" % OPTS["ea_min"], "--efficiency", "%.6g" % OPTS["efficiency"],
                          "--masses", ",".join("%g" % m for m in masses), "--format", "csv"],
                         check=True, capture_output=True, text=True).stdout
    rows = list(csv.DictReader(out.splitlines()))
    return [(float(r["eps_low"]) if r["eps_low"] else math.nan, float(r["eps_high"]) if r["eps_high"] else math.nan)
            for r in rows]


PUB = [(published("lower", m), published("upper", m)) for m in FIT_MASSES]


def geometry(p):
    """(depth, start, length) of the fit parameters p: (s, L), or (D, s, L) with --free-depth"""
    return tuple(p) if OPTS["free_depth"] else (OPTS["depth"], p[0], p[1])


def chi2(p):
    depth, start, length = geometry(p)
    if not (5 <= depth <= 100 and 0 <= start <= 1000 and 1 <= length <= 5000 and start + length <= OPTS["max_end"]):
        return 1e9
    c = 0.0
    for (lo, hi), (plo, phi) in zip(band(depth, start, length, FIT_MASSES), PUB):
        for a, b in ((lo, plo), (hi, phi)):
            c += ((math.log(a / b)) / SIGMA) ** 2 if a == a else 400.0  # an edge missing: 20 sigma
    return c


def nelder_mead(f, x0, steps, iters=120):
    pts = [list(x0)] + [[x0[j] + (steps[j] if j == i else 0) for j in range(len(x0))] for i in range(len(x0))]
    vals = [f(p) for p in pts]
    for _ in range(iters):
        order = sorted(range(len(pts)), key=lambda k: vals[k])
        pts, vals = [pts[k] for k in order], [vals[k] for k in order]
        if vals[-1] - vals[0] < 1e-3:
            break
        n = len(x0)
        c = [sum(p[j] for p in pts[:-1]) / n for j in range(n)]
        refl = [c[j] + (c[j] - pts[-1][j]) for j in range(n)]
        fr = f(refl)
        if fr < vals[0]:
            exp_ = [c[j] + 2 * (c[j] - pts[-1][j]) for j in range(n)]
            fe = f(exp_)
            pts[-1], vals[-1] = (exp_, fe) if fe < fr else (refl, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = refl, fr
        else:
            con = [c[j] + 0.5 * (pts[-1][j] - c[j]) for j in range(n)]
            fc = f(con)
            if fc < vals[-1]:
                pts[-1], vals[-1] = con, fc
            else:
                for k in range(1, len(pts)):
                    pts[k] = [pts[0][j] + 0.5 * (pts[k][j] - pts[0][j]) for j in range(n)]
                    vals[k] = f(pts[k])
    k = min(range(len(pts)), key=lambda i: vals[i])
    return pts[k], vals[k]


def hessian_covariance(f, x, h):
    """the covariance 2 H^-1 of the fit (chi2 = (x - x0)^T C^-1 (x - x0) near the minimum, so delta chi2 = 1 at
    one sigma), H the Hessian of chi2 by central differences with steps h; None when H is singular"""
    n = len(x)
    f0 = f(x)

    def at(i, j, di, dj):
        y = list(x)
        y[i] += di * h[i]
        y[j] += dj * h[j]
        return f(y)
    H = [[0.0] * n for _ in range(n)]
    for i in range(n):
        H[i][i] = (at(i, i, 1, 0) - 2 * f0 + at(i, i, -1, 0)) / h[i] ** 2
        for j in range(i + 1, n):
            H[i][j] = H[j][i] = (at(i, j, 1, 1) - at(i, j, 1, -1) - at(i, j, -1, 1) + at(i, j, -1, -1)) / (4 * h[i] * h[j])
    # inverse by Gauss-Jordan elimination with partial pivoting
    a = [row[:] + [1.0 if i == j else 0.0 for j in range(n)] for i, row in enumerate(H)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(a[r][c]))
        a[c], a[piv] = a[piv], a[c]
        if a[c][c] == 0 or a[c][c] != a[c][c]:
            return None
        d = a[c][c]
        a[c] = [v / d for v in a[c]]
        for r in range(n):
            if r != c:
                fac = a[r][c]
                a[r] = [vr - fac * vc for vr, vc in zip(a[r], a[c])]
    return [[2 * a[i][n + j] for j in range(n)] for i in range(n)]


def hessian_errors(f, x, h):
    """sqrt of the diagonal of the covariance 2 H^-1 (hessian_covariance)"""
    cov = hessian_covariance(f, x, h)
    if cov is None:
        return [math.nan] * len(x)
    return [math.sqrt(cov[i][i]) if cov[i][i] > 0 else math.nan for i in range(len(x))]


def closing_mass(geo):
    ms = [18.0 + 0.1 * k for k in range(81)]
    last = math.nan
    for m, (lo, hi) in zip(ms, band(*geo, ms)):
        if lo == lo and hi == hi:
            last = m
    return last


def parse_args(argv):
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--ea-min", "--efficiency", "--depth", "--max-end"):
            OPTS[a[2:].replace("-", "_")] = float(argv[i + 1])
            i += 2
        elif a == "--free-depth":
            OPTS["free_depth"] = True
            i += 1
        else:
            rest.append(float(a))
            i += 1
    return rest


def main():
    rest = parse_args(sys.argv[1:])
    if OPTS["free_depth"]:
        x0, steps, h = (rest if len(rest) == 3 else [OPTS["depth"], 33.0, 88.0]), [8.0, 30.0, 150.0], [0.5, 2.0, 10.0]
    else:
        x0, steps, h = (rest if len(rest) == 2 else [33.0, 88.0]), [30.0, 150.0], [2.0, 10.0]
    best, c = nelder_mead(chi2, x0, steps)
    ndf = 2 * len(FIT_MASSES) - len(x0)
    errs = hessian_errors(chi2, best, h)
    scale = max(1.0, math.sqrt(c / ndf))
    geo = geometry(best)
    names = (["depth_X0"] if OPTS["free_depth"] else []) + ["decay_start_cm", "decay_length_cm"]
    print("# fit of the PRL 120 band (5.4e10 EOT, 100 GeV), sigma = %.0f%% per edge point, masses %s" %
          (100 * SIGMA, ",".join("%g" % m for m in FIT_MASSES)))
    print("# signal: E_A' >= %g GeV, efficiency %g; WCAL depth %s" %
          (OPTS["ea_min"], OPTS["efficiency"], "fitted" if OPTS["free_depth"] else "%g X0 (fixed)" % OPTS["depth"]))
    for name, v, e in zip(names, best, errs):
        print("%s = %.2f +- %.2f" % (name, v, e * scale))
    print("chi2/ndf = %.2f / %d (errors scaled by %.2f)" % (c, ndf, scale))
    print("closing mass = %.1f MeV (published %.2f; not fitted)" % (closing_mass(geo), 20.849))
    print("mass_MeV,used_in_fit,eps_low,pub_low,ratio_low,eps_high,pub_high,ratio_high")
    masses = sorted(set(FIT_MASSES + CHECK_MASSES))
    for m, (lo, hi) in zip(masses, band(*geo, masses)):
        plo, phi = published("lower", m), published("upper", m)
        print("%g,%s,%.4g,%.4g,%.3f,%.4g,%.4g,%.3f" % (m, "yes" if m in FIT_MASSES else "no", lo, plo, lo / plo, hi, phi,
                                                       hi / phi))


if __name__ == "__main__":
    main()
