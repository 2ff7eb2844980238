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
MASSES = [2.0, 5.0, 10.0, 14.0, 16.7, 18.0, 20.0]
SIGMA = 0.05
EOT = 5.4e10


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
                          "--masses", ",".join("%g" % m for m in masses), "--format", "csv"],
                         check=True, capture_output=True, text=True).stdout
    rows = list(csv.DictReader(out.splitlines()))
    return [(float(r["eps_low"]) if r["eps_low"] else math.nan, float(r["eps_high"]) if r["eps_high"] else math.nan)
            for r in rows]


PUB = [(published("lower", m), published("upper", m)) for m in MASSES]


def chi2(p):
    depth, start, length = p
    if not (5 <= depth <= 100 and 0 <= start <= 1000 and 1 <= length <= 5000):
        return 1e9
    c = 0.0
    for (lo, hi), (plo, phi) in zip(band(depth, start, length, MASSES), PUB):
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


def hessian_errors(f, x, h):
    n = len(x)
    f0 = f(x)
    H = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            def at(di, dj):
                y = list(x)
                y[i] += di * h[i]
                y[j] += dj * h[j]
                return f(y)
            if i == j:
                H[i][i] = (at(1, 0) - 2 * f0 + at(-1, 0)) / h[i] ** 2
            else:
                H[i][j] = H[j][i] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[i] * h[j])
    # covariance = 2 H^-1 (chi2 = (x - x0)^T C^-1 (x - x0)), 3x3 inverse by cofactors
    a = H
    det = (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
           + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]))
    inv_diag = [(a[1][1] * a[2][2] - a[1][2] * a[2][1]) / det, (a[0][0] * a[2][2] - a[0][2] * a[2][0]) / det,
                (a[0][0] * a[1][1] - a[0][1] * a[1][0]) / det]
    return [math.sqrt(2 * v) if v > 0 else math.nan for v in inv_diag]


def closing_mass(p):
    ms = [20.0 + 0.1 * k for k in range(61)]
    last = math.nan
    for m, (lo, hi) in zip(ms, band(*p, ms)):
        if lo == lo and hi == hi:
            last = m
    return last


def main():
    x0 = [float(v) for v in sys.argv[1:4]] if len(sys.argv) >= 4 else [30.0, 7.5, 300.0]
    best, c = nelder_mead(chi2, x0, [8.0, 30.0, 150.0])
    ndf = 2 * len(MASSES) - 3
    errs = hessian_errors(chi2, best, [0.5, 2.0, 10.0])
    scale = max(1.0, math.sqrt(c / ndf))
    print("# fit of the PRL 120 band (5.4e10 EOT, 100 GeV), sigma = %.0f%% per edge point" % (100 * SIGMA))
    print("depth_X0 = %.2f +- %.2f" % (best[0], errs[0] * scale))
    print("decay_start_cm = %.1f +- %.1f" % (best[1], errs[1] * scale))
    print("decay_length_cm = %.0f +- %.0f" % (best[2], errs[2] * scale))
    print("chi2/ndf = %.2f / %d (errors scaled by %.2f)" % (c, ndf, scale))
    print("closing mass = %.1f MeV (published %.2f)" % (closing_mass(best), 20.849))
    print("mass_MeV,eps_low,pub_low,eps_high,pub_high")
    for m, (lo, hi), (plo, phi) in zip(MASSES, band(*best, MASSES), PUB):
        print("%g,%.4g,%.4g,%.4g,%.4g" % (m, lo, plo, hi, phi))


if __name__ == "__main__":
    main()
