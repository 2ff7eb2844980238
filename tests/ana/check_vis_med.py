#!/usr/bin/env python3
"""Read back the scalar's and the axial's tables of a visible `na64 run` report (visphys, issue 12;
docs/visible.md "Scalar and axial X17 at every mass") with python3's csv and check them against the
physics, computed here independently of the library; exit 1 with a message on the first failure.
Usage: check_vis_med.py REPORT_DIR NA64_CLI

- efficiency_{scalar,axial}.csv: at 16.7 MeV the X's own samples (`measured`, the x17.csv row's
  efficiencies); at the other masses the partner's rows (efficiency_pseudoscalar.csv, efficiency.csv)
  with the same efficiencies and the coupling of the same decay length, eps_X / eps_partner =
  sqrt(Gamma_partner / Gamma_X) at equal g = eps e, from the widths (docs/physics.md 2; g^2 m/(8 pi) beta
  (pseudoscalar), g^2 m/(8 pi) beta^3 (scalar), g^2 m/(12 pi) (1 + 2 r) beta (vector), g^2 m/(12 pi)
  beta^3 (axial), r = m_e^2/m^2, beta^2 = 1 - 4 r): 1/beta and sqrt(1 + 2 r)/beta, within 2e-5
  (the files' six significant digits).
- limit_{scalar,axial}.csv against limit_pseudoscalar.csv and limit.csv (validation.csv): at 10 and
  16.7 MeV (m >> m_e) chirality partners, every edge within 3% (production and width differ by
  O(m_e^2/m^2) = 0.3% at 10 MeV; the exact windowed grids are good to ~0.5% per value, and an edge
  moves as a power 1/4 or 1/2 of them, docs/visible.md "Scalar and axial X17"); at 2 MeV (r = 0.065)
  the upper edge, where the X must outlive the WCAL (N ~ exp(-L Gamma m / E), the edge at fixed
  eps^2 Gamma), scales as sqrt(Gamma_partner/Gamma_X) = 1.163 (scalar) and 1.237 (axial), within 5%
  (the production ratio enters logarithmically there).
- `na64 limits --dataset SETUP:EOT:RUNDIR --mediator scalar|axial` reads the tables back and gives
  the report's measured islands within 1e-4 (the same island on the same tables); without
  efficiency_axial.csv (a directory written before visphys) it refuses, naming the file.
"""
import csv, math, os, subprocess, sys

M_E = 0.51099895  # MeV (PDG)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def rows(d, name):
    with open(os.path.join(d, name), newline="") as f:
        return list(csv.DictReader(f))


def num(x):
    return float(x)  # "nan" reads as NaN


def eps_factor(med, m):
    r = (M_E / m) ** 2
    beta = math.sqrt(1 - 4 * r)
    return 1 / beta if med == "scalar" else math.sqrt(1 + 2 * r) / beta


def close(a, b, tol):
    return abs(a - b) <= tol * abs(b)


d, cli = sys.argv[1], sys.argv[2]
partner = {"scalar": "efficiency_pseudoscalar.csv", "axial": "efficiency.csv"}
plimit = {"scalar": "limit_pseudoscalar.csv", "axial": "validation.csv"}
x17 = {r["coupling"]: r for r in rows(d, "x17.csv")}
for med in ("scalar", "axial"):
    mine, theirs = rows(d, "efficiency_%s.csv" % med), rows(d, partner[med])
    if len(mine) != len(theirs) or not mine:
        fail("%s: %d rows, its partner %d" % (med, len(mine), len(theirs)))
    masses = sorted({num(r["mass_MeV"]) for r in mine})
    for r, p in zip(mine, theirs):
        m = num(r["mass_MeV"])
        if m != num(p["mass_MeV"]):
            fail("%s: mass %g against the partner's %s" % (med, m, p["mass_MeV"]))
        if abs(m - 16.7) < 1e-9:
            if r["source"] != "measured":
                fail("%s at 16.7 MeV: source %s, not its own samples" % (med, r["source"]))
            continue
        want = "pseudoscalar" if med == "scalar" else "vector"
        if r["source"] != want:
            fail("%s at %g MeV: source %s, want %s" % (med, m, r["source"], want))
        if r["efficiency"] != p["efficiency"] or r["efficiency_error"] != p["efficiency_error"]:
            fail("%s at %g MeV: efficiency %s, the partner's %s" % (med, m, r["efficiency"], p["efficiency"]))
        f = num(r["eps"]) / num(p["eps"])
        if not close(f, eps_factor(med, m), 2e-5):
            fail("%s at %g MeV: eps ratio %.7g, sqrt(Gamma_partner/Gamma_X) %.7g" % (med, m, f, eps_factor(med, m)))
    own = [num(r["efficiency"]) for r in mine if abs(num(r["mass_MeV"]) - 16.7) < 1e-9]
    if own != [num(x17[med][k]) for k in ("eff_low", "eff_mid", "eff_high")]:
        fail("%s at 16.7 MeV: efficiencies %s, x17.csv %s" % (med, own, x17[med]))
    lim = {num(r["mass_MeV"]): r for r in rows(d, "limit_%s.csv" % med)}
    plim = {num(r["mass_MeV"]): r for r in rows(d, plimit[med])}
    for m in masses:
        a, b = lim[m], plim[m]
        if m >= 10:
            for k in ("eps_low_eff1", "eps_high_eff1") + (() if m == 16.7 and med == "scalar" else ("eps_low", "eps_high")):
                if math.isnan(num(a[k])) and math.isnan(num(b[k])):
                    continue
                if not close(num(a[k]), num(b[k]), 0.03):
                    fail("%s at %g MeV: %s %s, its partner's %s (3%%)" % (med, m, k, a[k], b[k]))
        if m < 3:
            for k in ("eps_high_eff1", "eps_high"):
                ratio = num(a[k]) / num(b[k])
                if not close(ratio, eps_factor(med, m), 0.05):
                    fail("%s at %g MeV: %s ratio %.4g, sqrt(Gamma_partner/Gamma_X) %.4g (5%%)"
                         % (med, m, k, ratio, eps_factor(med, m)))
    # the run directory read back by `na64 limits --dataset`
    out = subprocess.run([cli, "limits", "--mode", "visible", "--mediator", med, "--dataset",
                          "visible_2017:5.4e10:" + d, "--masses", ",".join("%g" % m for m in masses if m != 16.7)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        fail("na64 limits --mediator %s: %s" % (med, out.stderr.strip()))
    got = [l.split() for l in out.stdout.splitlines() if l and not l.startswith("#") and not l.startswith("mass")]
    if not got:
        fail("na64 limits --mediator %s printed no rows" % med)
    for g in got:
        m = float(g[0])
        if len(g) == 1 and math.isnan(num(lim[m]["eps_low"])):
            continue  # nothing excluded (empty columns), as the report
        if len(g) != 3:
            fail("na64 limits --mediator %s: row %s" % (med, g))
        lo, hi = float(g[1]), float(g[2])
        if not (close(lo, num(lim[m]["eps_low"]), 1e-4) and close(hi, num(lim[m]["eps_high"]), 1e-4)):
            fail("%s at %g MeV: na64 limits %g - %g, limit_%s.csv %s - %s" % (med, m, lo, hi, med,
                                                                          lim[m]["eps_low"], lim[m]["eps_high"]))
# a run directory without the axial's table (written before visphys) is refused, naming the file
import shutil, tempfile
old = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(d)))
for f in os.listdir(d):
    if f != "efficiency_axial.csv":
        shutil.copy(os.path.join(d, f), old)
out = subprocess.run([cli, "limits", "--mode", "visible", "--mediator", "axial", "--dataset",
                      "visible_2017:5.4e10:" + old, "--masses", "10"], capture_output=True, text=True)
shutil.rmtree(old)
if out.returncode == 0 or "efficiency_axial.csv" not in out.stderr:
    fail("na64 limits --mediator axial without efficiency_axial.csv: exit %d, %s" % (out.returncode, out.stderr.strip()))
print("ok")
