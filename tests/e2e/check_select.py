#!/usr/bin/python3
"""Checks of `na64 select` and the events table of `na64 run` (tests/e2e/test_cli_select.c), read
with the tools users read them with: json for the JSON, h5py for the HDF5 events table.

usage: check_select.py DIR
DIR holds: rep/ (a `na64 run` report of card.yaml), sim.log (`na64 sim card.yaml --all` of the same
events, its summary), select_reco.json (`na64 select` of `na64 reco` of that simulation),
select_report.json (`na64 select rep/events.h5`), select_two.json (`na64 select` of the same file
twice: several files add up), select.csv (`--format csv`).
Exits non-zero with a message on the first failed check."""
import csv
import json
import math
import re
import sys

import h5py
import numpy as np


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def flow(doc, key="cut_flow"):
    return [(r["cut"], r["events"], r["weighted"]) for r in doc[key]]


def main(d):
    run = json.load(open(d + "/rep/selection.json"))
    reco = json.load(open(d + "/select_reco.json"))
    rep = json.load(open(d + "/select_report.json"))
    # 1. the selection of the events file is the in-memory selection of `na64 run`, bit for bit
    #    (same events: same card, seed, event numbers; the exact sums print the same 12 digits)
    for key in ("cut_flow", "cut_flow_signal", "cut_flow_background", "efficiency", "background"):
        check(reco[key] == run[key], "%s of na64 select (sim -> reco) differs from na64 run: %s vs %s" % (key, reco[key], run[key]))
        check(rep[key] == run[key], "%s of na64 select (report events.h5) differs from na64 run" % key)
    for r in reco["cut_flow"]:
        check(set(r) >= {"cut", "events", "weighted"}, "cut_flow row keys: %s" % sorted(r))
    check({"value", "error"} <= set(reco["efficiency"]) and {"value", "error"} <= set(reco["background"]),
          "efficiency/background keys")

    # 2. the events table of the report, with h5py
    ev = h5py.File(d + "/rep/events.h5", "r")["events"]
    names = ev.dtype.names
    for col in ("run", "event", "momentum", "theta", "srd_energy", "ecal_energy", "preshower_energy", "hcal_energy",
                "veto_energy", "weight", "aprime", "simulated"):
        check(col in names, "column %s missing from events.h5 (%s)" % (col, names))
    rows = ev[:]
    trig = dict((c, (n, w)) for c, n, w in flow(run))["triggered"]
    check(len(rows) == trig[0], "events.h5 has %d rows, the cut flow %d triggered events" % (len(rows), trig[0]))
    # weights: the sum of the rows' weights is the cut flow's triggered weighted sum (12 digits printed)
    check(abs(rows["weight"].sum() - trig[1]) <= 1e-9 * trig[1], "sum of weights %r vs %r" % (rows["weight"].sum(), trig[1]))
    check(np.all(rows["simulated"] == 1), "simulated rows")
    sig_trig = dict((c, n) for c, n, w in flow(run, "cut_flow_signal"))["triggered"]
    check(int(rows["aprime"].sum()) == sig_trig, "aprime rows %d vs signal triggered %d" % (rows["aprime"].sum(), sig_trig))
    check(np.all(rows["weight"][rows["aprime"] == 1] < 1e-6), "A' rows carry the bias weight 1/B")
    attrs = ev.attrs
    check(float(attrs["eot_simulated"]) == run["background"]["eot_simulated"], "eot_simulated attribute")

    # 3. physics invariants
    for key in ("cut_flow", "cut_flow_signal", "cut_flow_background"):
        f = flow(run, key)
        for (c0, n0, w0), (c1, n1, w1) in zip(f, f[1:]):
            check(n1 <= n0 and w1 <= w0 * (1 + 1e-12), "%s increases from %s to %s" % (key, c0, c1))
    eff, deff = run["efficiency"]["value"], run["efficiency"]["error"]
    check(0 < eff <= 1, "efficiency %r not in (0, 1]" % eff)
    sim = open(d + "/sim.log").read()
    m = re.search(r"A' emissions (\d+) \(true probability per EOT ([0-9.eE+-]+), bias ([0-9.eE+-]+)\)", sim)
    check(m, "no A' line in sim.log")
    n_inj, P, B = int(m.group(1)), float(m.group(2)), float(m.group(3))
    eot = run["background"]["eot_simulated"]
    gen = dict((c, (n, w)) for c, n, w in flow(run))["generated"]
    check(gen[0] == eot, "generated %d vs EOT %g" % (gen[0], eot))
    # every beam particle has expected weight 1 (A' biasing: B P x 1/B + (1 - B P)(1 - P)/(1 - B P) = 1), so
    # the weights sum to the EOT; variance per event (1 - P)^2/(1 - B P) + P/B - 1 ~ B P: 5 sigma
    sd = math.sqrt(eot * B * P)
    check(abs(gen[1] - eot) < 5 * sd, "weights sum to %r, EOT %g (5 sigma = %.3g)" % (gen[1], eot, 5 * sd))
    # injected signal: A' events mixed into the sample (n_inj of them, expected B P EOT) are recovered
    # by the selection with the efficiency measured on the independent signal sample (efficiency.csv
    # at the card's mass): n_pass / eff_scan = n_inj within the binomial and efficiency errors (4 sigma)
    check(abs(n_inj - B * P * eot) < 4 * math.sqrt(B * P * eot), "injected %d vs expected %.1f" % (n_inj, B * P * eot))
    sig = dict((c, (n, w)) for c, n, w in flow(run, "cut_flow_signal"))
    check(sig["generated"][0] == n_inj, "signal generated %d vs injected %d" % (sig["generated"][0], n_inj))
    scan = list(csv.DictReader(open(d + "/rep/efficiency.csv")))
    e_scan, de_scan = float(scan[0]["efficiency"]), float(scan[0]["error"])
    n_pass = sig["signal_box"][0]
    recovered = n_pass / e_scan
    sigma = math.sqrt(n_inj * e_scan * (1 - e_scan)) / e_scan + n_inj * de_scan / e_scan
    check(abs(recovered - n_inj) < 4 * sigma, "recovered %.1f A' events of %d injected (4 sigma = %.1f)" % (recovered, n_inj, 4 * sigma))
    # the same in weights: the selected signal weight / efficiency is the A' yield P x EOT
    w_rec = sig["signal_box"][1] / e_scan
    check(abs(w_rec - P * eot) < 4 * (sigma / B + P * eot * de_scan / e_scan) + 4 * math.sqrt(P * eot / B),
          "recovered weighted signal %.4g vs P x EOT %.4g" % (w_rec, P * eot))

    # 4. two files add up: the same file twice is twice the counts
    two = json.load(open(d + "/select_two.json"))
    for (c, n, w), (c2, n2, w2) in zip(flow(run), flow(two)):
        check(n2 == 2 * n and abs(w2 - 2 * w) <= 1e-11 * abs(w) + 1e-300, "two files: %s %d -> %d" % (c, n, n2))
    # 5. CSV: one table, the cut flow then efficiency and background
    rows_csv = list(csv.DictReader(open(d + "/select.csv")))
    check([r["row"] for r in rows_csv][:2] == ["generated", "triggered"] and rows_csv[-2]["row"] == "efficiency"
          and rows_csv[-1]["row"] == "background", "CSV rows: %s" % [r["row"] for r in rows_csv])
    check(abs(float(rows_csv[-2]["weighted"]) - eff) <= 1e-11, "CSV efficiency")
    print("ok: %d rows, efficiency %.4f +- %.4f, %d of %d injected A' passed (scan efficiency %.4f): recovered %.1f" %
          (len(rows), eff, deff, n_pass, n_inj, e_scan, recovered))


if __name__ == "__main__":
    main(sys.argv[1])
