#!/usr/bin/env python3
"""Read back the report of the selection job (na64_job_write_report) with python3's json, csv and
PyYAML (HEPData) and check its structure and invariants; exit 1 with a message on the first failure.
Usage: check_select_report.py DIR"""
import csv, json, math, os, struct, sys, zlib

import yaml


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


d = sys.argv[1]
sel = json.load(open(os.path.join(d, "selection.json")))
for key in ("cut_flow", "efficiency", "background"):
    if key not in sel:
        fail("selection.json lacks " + key)
flow = sel["cut_flow"]
names = [r["cut"] for r in flow]
if names[:2] != ["generated", "triggered"] or names[-1] != "signal_box" or len(names) != 10:
    fail("cut names %s" % names)
for a, b in zip(flow, flow[1:]):
    if b["events"] > a["events"] or b["weighted"] > a["weighted"] * (1 + 1e-12):
        fail("cut flow increases at %s" % b["cut"])
eff = sel["efficiency"]
if not (0 < eff["value"] <= 1 and eff["error"] >= 0):
    fail("efficiency %s" % eff)
bkg = sel["background"]
for k in ("value", "error", "per_eot", "per_eot_upper90", "eot_quoted"):
    if k not in bkg:
        fail("background lacks " + k)
# the weights of the simulated sample sum to its EOT (the biasing keeps sums unbiased):
# generated weighted = EOT within 1% (the binomial fluctuation of the number of A' emissions moves
# it by far less)
gen = flow[0]
if abs(gen["weighted"] - bkg["eot_simulated"]) > 0.01 * bkg["eot_simulated"]:
    fail("generated weights %g vs EOT %g" % (gen["weighted"], bkg["eot_simulated"]))

rows = list(csv.DictReader(open(os.path.join(d, "cutflow.csv"))))
if [r["cut"] for r in rows] != names or [int(r["events"]) for r in rows] != [r["events"] for r in flow]:
    fail("cutflow.csv differs from selection.json")
rows = list(csv.DictReader(open(os.path.join(d, "efficiency.csv"))))
if not rows or list(rows[0].keys()) != ["mass_MeV", "efficiency", "error"]:
    fail("efficiency.csv header %s" % (list(rows[0].keys()) if rows else None))
for r in rows:
    e = float(r["efficiency"])
    if not (0 < e <= 1):
        fail("efficiency %s at %s MeV" % (e, r["mass_MeV"]))
rows = list(csv.DictReader(open(os.path.join(d, "background.csv"))))
# the unbiased sample's box and sideband, one row per Table 1 route (src/ana/job_bkg.c), the limit's
sources = ["hadron", "tail", "decay", "detector", "pileup", "photonuclear", "dimuon", "nunu"]
methods = [r["method"] for r in rows]
if methods != ["simulated_box", "sideband_extrapolation"] + ["route:" + s for s in sources] + ["limit"]:
    fail("background.csv methods %s" % methods)
for r in rows[2:-1]:
    # each route: a positive rate with an error, or no event in the box and a positive 90% CL bound;
    # Table 1's level beside it
    v, e, b = float(r["per_eot"]), float(r["per_eot_error"]), float(r["bound90_per_eot"])
    # (or a process that cannot happen: pile-up without beam intensity)
    proc = float(r["process_per_eot"])
    if not ((v > 0 and e >= 0 and int(r["passed"]) > 0) or (v == 0 and (b > 0 or proc == 0) and int(r["passed"]) == 0)):
        fail("route %s: per_eot %s error %s bound %s passed %s" % (r["method"], v, e, b, r["passed"]))
    if not (0 < float(r["table1_per_eot"]) <= 1e-12) or not r["table1_row"]:
        fail("route %s: Table 1 columns %s, %s" % (r["method"], r["table1_per_eot"], r["table1_row"]))
    if abs(float(r["expected"]) - v * float(r["eot"])) > 1e-9 * abs(v * float(r["eot"])):
        fail("route %s: expected != per_eot x eot" % r["method"])
limit = rows[-1]
if limit["table1_row"] != "simulated_routes":
    fail("limit background source %s" % limit["table1_row"])
b_in = sum(float(r["expected"]) for r in rows if r["in_limit"] == "1")
if [r["in_limit"] for r in rows] != ["0", "0"] + ["1"] * len(sources) + ["0"]:
    fail("in_limit column %s" % [r["in_limit"] for r in rows])
if not (b_in > 0 and abs(b_in - float(limit["expected"])) <= 1e-9 * b_in):
    fail("the routes in the limit sum to %g, the limit's background is %s" % (b_in, limit["expected"]))
rows = list(csv.DictReader(open(os.path.join(d, "limit.csv"))))
if list(rows[0].keys())[:2] != ["mass_MeV", "epsilon"]:
    fail("limit.csv header")
eps = [float(r["epsilon"]) for r in rows if r["epsilon"]]
if not eps or not all(1e-7 < e < 1 for e in eps):
    fail("limit epsilons %s" % eps[:5])
hep = yaml.safe_load(open(os.path.join(d, "limit_hepdata.yaml")))
if "independent_variables" not in hep or "dependent_variables" not in hep:
    fail("HEPData keys %s" % list(hep.keys()))
if len(hep["independent_variables"][0]["values"]) != len(rows):
    fail("HEPData rows %d vs limit.csv %d" % (len(hep["independent_variables"][0]["values"]), len(rows)))


def png_size(path):
    """Width and height of a PNG after checking every chunk's CRC and inflating the image data
    (PNG spec, ISO/IEC 15948: signature, chunks of length, type, data, CRC-32)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG")
    pos, idat, w, h, bpp = 8, b"", 0, 0, 0
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(typ + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            fail("%s: bad CRC in %s" % (path, typ))
        if typ == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            bpp = {2: 3, 6: 4, 0: 1, 4: 2}.get(colour, 1) * depth // 8
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    if len(zlib.decompress(idat)) != h * (1 + w * bpp):
        fail(path + ": image data does not match its size")
    return w, h


for name in ("ecal_hcal.png", "missing_energy.png"):
    w, h = png_size(os.path.join(d, name))
    if w < 200 or h < 150:
        fail("%s: %dx%d" % (name, w, h))
# The plane and E_miss as ROOT TBufferJSON histograms (what JSROOT reads) and CSV: their entries
# are the events passing every cut but the box (the cut flow's row before signal_box), and the E_miss
# spectrum holds the plane's first E_HCAL row (E_HCAL below the box's 1 GeV, noise included).
plane = json.load(open(os.path.join(d, "ecal_hcal.json")))
emiss = json.load(open(os.path.join(d, "missing_energy.json")))
if plane.get("_typename") != "TH2D" or emiss.get("_typename") != "TH1D":
    fail("histogram types %s, %s" % (plane.get("_typename"), emiss.get("_typename")))
nx, ny = plane["fXaxis"]["fNbins"], plane["fYaxis"]["fNbins"]
if len(plane["fArray"]) != (nx + 2) * (ny + 2) or len(emiss["fArray"]) != emiss["fXaxis"]["fNbins"] + 2:
    fail("fArray sizes %d, %d" % (len(plane["fArray"]), len(emiss["fArray"])))
before_box = flow[-2]["events"]
if plane["fEntries"] != before_box or sum(plane["fArray"]) != before_box:
    fail("plane entries %s / sum %s vs %d events before the box" % (plane["fEntries"], sum(plane["fArray"]), before_box))
with open(os.path.join(d, "ecal_hcal.csv")) as f:
    cells = list(csv.DictReader(f))
first_row = sum(float(c["content"]) for c in cells if c["iy"] == "1")
if emiss["fEntries"] != first_row or first_row <= 0:
    fail("E_miss entries %s vs the plane's first E_HCAL row %s" % (emiss["fEntries"], first_row))
with open(os.path.join(d, "missing_energy.csv")) as f:
    if sum(float(r["content"]) for r in csv.DictReader(f)) != emiss["fEntries"]:
        fail("missing_energy.csv does not hold the JSON's entries")
card = yaml.safe_load(open(os.path.join(d, "card.yaml")))
if not isinstance(card, dict):
    fail("card.yaml is not the run card: %r" % card)
html = open(os.path.join(d, "index.html")).read()
if html.count("data:image/png;base64,") != 3:
    fail("index.html embeds %d plots, not 3 (limit, ECAL-HCAL plane, missing energy)" % html.count("data:image/png;base64,"))
if "data:image/png;base64," not in html or "</html>" not in html:
    fail("index.html does not embed the plot")
print("OK")
