#!/usr/bin/python3
"""The visible decay regions from the vector AND pseudoscalar X17 edges together (issue 12, psjoint;
docs/validation.md "Pseudoscalar and vector together (psjoint)").

chi2 = sum (ln eps_model / eps_published)^2 / sigma^2 over the published 16.7 MeV edges:
  PRL 120 (2018) 231802, 2017 alone, vector:          1.3e-4 / 4.2e-4
  PRD 101 (2020) 071101, 2017 + 2018, vector:         1.2e-4 / 6.8e-4
  PRD 104 (2021) L111102, 2017 + 2018, pseudoscalar:  2.1e-4 / 3.2e-4
sigma = half a unit of the last quoted digit over the value (the rounding). Model: `na64 limits
--mode visible --dataset visible_2017:5.4e10:R17 [--dataset visible_2018:3e10:R18]` with the
efficiency tables of two `na64 run` report directories held fixed, on a copy of the conditions
database whose DV rows are moved (s17, s18: WCAL end to decay-region start, cm; L: length, both
setups). A geometry where the pseudoscalar has no island at the real EOT has chi2 = inf (the EOT
factor k at which it would appear, 1.1 or 1.25, is printed). The efficiency depends on the region
too: measure it again (`na64 run`) at the optimum and repeat (docs/validation.md).
Usage: tools/fit_visible_joint.py R17 R18 s17,s18,L [s17,s18,L ...]
Environment: NA64 (default build/na64), NA64_DB (default build/conditions.db).
"""
import math, os, shutil, sqlite3, subprocess, sys, tempfile

NA64 = os.environ.get('NA64', 'build/na64')
DB0 = os.environ.get('NA64_DB', 'build/conditions.db')
WCAL_END = 1509.75 + 0.5 * 19.5  # sql/setups/20_visible_2017.sql and 30_visible_2018.sql: WCAL centre + half length
PUB = {'v17': (1.3e-4, 4.2e-4), 'vc': (1.2e-4, 6.8e-4), 'pc': (2.1e-4, 3.2e-4)}
SIG = {k: (0.05e-4 / v[0], 0.05e-4 / v[1]) for k, v in PUB.items()}
TMP = tempfile.mkdtemp(prefix='na64_joint_')


def make_db(s17, s18, length):
    path = os.path.join(TMP, f'db_{s17:.2f}_{s18:.2f}_{length:.1f}.db')
    if not os.path.exists(path):
        shutil.copy(DB0, path)
        c = sqlite3.connect(path)
        for setup, s in (('visible_2017', s17), ('visible_2018', s18)):
            c.execute("UPDATE detectors SET z = ?, size_z = ? WHERE setup = ? AND name = 'DV'",
                      (WCAL_END + s + 0.5 * length, length, setup))
        c.commit()
        c.close()
    return path


def island(db, med, sets, k=1.0):
    cmd = [NA64, 'limits', '--mode', 'visible', '--masses', '16.7', '--format', 'csv', '--mediator', med, '--db', db]
    for (name, eot, src) in sets:
        cmd += ['--dataset', f'{name}:{eot * k:.6g}:{src}']
    out = subprocess.run(cmd, capture_output=True, text=True, errors='replace', check=True).stdout
    row = [l for l in out.splitlines() if l and l[0].isdigit()][0].split(',')
    return (float(row[1]) if row[1] else None, float(row[2]) if row[2] else None)


def evaluate(r17, r18, s17, s18, length):
    db = make_db(s17, s18, length)
    s_17 = [('visible_2017', 5.4e10, r17)]
    s_c = s_17 + [('visible_2018', 3e10, r18)]
    res = {'v17': island(db, 'vector', s_17), 'vc': island(db, 'vector', s_c)}
    for kps in (1.0, 1.1, 1.25):
        res['pc'] = island(db, 'pseudoscalar', s_c, kps)
        if res['pc'][0]:
            break
    chi = {}
    for key, (lo, hi) in res.items():
        if lo is None or (key == 'pc' and kps != 1.0):
            chi[key] = math.inf
            continue
        chi[key] = (math.log(lo / PUB[key][0]) / SIG[key][0]) ** 2 + (math.log(hi / PUB[key][1]) / SIG[key][1]) ** 2
    return res, chi, kps


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    for p in sys.argv[3:]:
        s17, s18, length = (float(x) for x in p.split(','))
        res, chi, kps = evaluate(sys.argv[1], sys.argv[2], s17, s18, length)
        print(f's17 {s17:5.1f} s18 {s18:4.1f} L {length:5.1f} | v17 {res["v17"]} vc {res["vc"]} pc(k={kps}) {res["pc"]} | '
              + ' '.join(f'{k} {v:.1f}' for k, v in chi.items()) + f' | chi2 {sum(chi.values()):.1f}', flush=True)
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == '__main__':
    main()
