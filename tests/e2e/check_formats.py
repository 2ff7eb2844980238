#!/usr/bin/env python3
"""The machine-readable outputs of `na64` read with the standard tools (issue 8): --format json with
python's json module, --format csv with its csv module; values checked, not substrings.
Usage: check_formats.py NA64. Exit 0 if every check holds; an AssertionError names the first failure."""
import csv
import io
import json
import math
import subprocess
import sys

NA64 = sys.argv[1]


def run(*args):
    p = subprocess.run([NA64, *args], capture_output=True, text=True, check=False)
    assert p.returncode == 0, f"na64 {' '.join(args)}: exit {p.returncode}: {p.stderr}"
    return p.stdout


def rel(a, b, tol, what):
    assert abs(a - b) <= tol * abs(b), f"{what}: {a!r} vs {b!r} (tolerance {tol})"


# --- width: JSON numbers are numbers, and they obey the published formulas ---
rows = json.loads(run("width", "--mass", "16.7", "--eps", "1e-4", "--energy", "100", "--format", "json"))
assert isinstance(rows, list) and len(rows) == 1
w = rows[0]
for k in ("mass_MeV", "eps", "width_ee_GeV", "width_GeV", "br_ee", "tau_ns", "ctau_cm", "decay_length_cm"):
    assert isinstance(w[k], (int, float)) and not isinstance(w[k], bool), f"{k} is not a JSON number: {w[k]!r}"
assert w["dm"] == "none"
# Gamma(A' -> e+e-) = alpha eps^2 m / 3 (1 + 2 r) sqrt(1 - 4 r), r = (m_e/m)^2
# (Bjorken et al., PRD 80 (2009) 075018, eq. 2; refdata physics-formulas.md); alpha = 1/137.036,
# m_e = 0.51099895 MeV (PDG 2022)
m, eps, me = 16.7e-3, 1e-4, 0.51099895e-3
r = (me / m) ** 2
gee = eps**2 * m / (3 * 137.035999) * (1 + 2 * r) * math.sqrt(1 - 4 * r)
rel(w["width_ee_GeV"], gee, 2e-4, "width_ee")
rel(w["width_GeV"], w["width_ee_GeV"] + w["width_mumu_GeV"] + w["width_had_GeV"] + w["width_inv_GeV"], 1e-9, "total")
rel(w["br_ee"] + w["br_mumu"] + w["br_had"] + w["br_inv"], 1.0, 1e-9, "sum of branching ratios")
# tau = hbar / Gamma (hbar = 6.582119569e-25 GeV s), c tau, lab length = (p/m) c tau (PDG constants)
rel(w["tau_ns"], 6.582119569e-16 / w["width_GeV"], 1e-6, "tau")
rel(w["ctau_cm"], 29.9792458 * w["tau_ns"], 1e-6, "c tau")
rel(w["decay_length_cm"], math.sqrt(100.0**2 - m**2) / m * w["ctau_cm"], 1e-6, "decay length")

# --- the same width in CSV, read with csv: the same numbers ---
c = list(csv.DictReader(io.StringIO(run("width", "--mass", "16.7", "--eps", "1e-4", "--format", "csv"))))
assert len(c) == 1
for k in ("width_ee_GeV", "tau_ns", "decay_length_cm"):
    rel(float(c[0][k]), w[k], 1e-9, f"csv {k}")

# --- limits: JSON and CSV of the same scan agree value by value; the documented columns ---
args = ("limits", "--eot", "1e11", "--masses", "1:1000:4")
j = json.loads(run(*args, "--format", "json"))
c = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv"))))
assert len(j) == len(c) == 4
assert list(c[0].keys()) == ["mass_MeV", "epsilon"]
for a, b, mass in zip(j, c, (1.0, 10.0, 100.0, 1000.0)):
    rel(a["mass_MeV"], mass, 1e-9, "mass grid (log-spaced 1..1000)")
    rel(float(b["mass_MeV"]), a["mass_MeV"], 1e-9, "csv mass")
    rel(float(b["epsilon"]), a["epsilon"], 1e-9, "csv epsilon")
    assert 1e-7 < a["epsilon"] < 1, f"epsilon {a['epsilon']} outside the physical range"
# eps ~ EOT^-1/2 (the signal is EOT Y(m) eps^2 and s_up does not depend on EOT)
j4 = json.loads(run("limits", "--eot", "1e13", "--masses", "1:1000:4", "--format", "json"))
for a, b in zip(j, j4):
    rel(b["epsilon"], 0.1 * a["epsilon"], 1e-6, "EOT scaling")

# --- visible mode: empty cells where nothing is excluded; JSON null there ---
args = ("limits", "--mode", "visible", "--eot", "5.4e10", "--masses", "0.9,10")
c = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv"))))
j = json.loads(run(*args, "--format", "json"))
assert list(c[0].keys()) == ["mass_MeV", "eps_low", "eps_high"]
assert c[0]["eps_low"] == "" and c[0]["eps_high"] == "", "0.9 MeV is below the e+e- threshold: nothing excluded"
assert j[0]["eps_low"] is None and j[0]["eps_high"] is None
lo, hi = float(c[1]["eps_low"]), float(c[1]["eps_high"])
assert 0 < lo < hi < 1, (lo, hi)
rel(j[1]["eps_low"], lo, 1e-9, "json eps_low")

# --- material table: every built-in material, numbers positive ---
j = json.loads(run("material", "--format", "json"))
names = [row["name"] for row in j]
assert "Pb" in names and "ECAL" in names
pb = j[names.index("Pb")]
rel(pb["X0_cm"], 0.5612, 2e-3, "X0 of lead (PDG: 6.37 g/cm^2 / 11.35 g/cm^3)")
print("check_formats: all checks passed")
