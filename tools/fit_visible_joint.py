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
Usage: tools/fit_visible_joint.py R17 R18 s17,s18,L [s17,s18,L ...]      chi2 at the given geometries
       tools/fit_visible_joint.py --fit R17 R18 s17,s18,L                the minimum from there (visfit2)
       tools/fit_visible_joint.py --iterate N s17,s18,L                  N times: `na64 run` of both shipped
           cards on the conditions database with that geometry, then --fit with their report directories
--fit: Nelder-Mead simplex (tools/fit_visible_geometry.py), the errors and the correlation from the
chi2 curvature (covariance 2 H^-1, H by central differences), scaled by sqrt(chi2/ndf) when chi2/ndf > 1;
ndf = 6 edges - the free parameters. s18 >= 3.0 cm (V2's back face) is a bound of the fit: at it, s18 is
fixed there (ndf = 4) and the curvature is that of (s17, L).
--iterate stops early when every parameter moved by less than its error (docs/validation.md "visfit2"),
then prints the 2017 A' band (measured efficiency) over the digitised PRL 120 Fig. 4 curve.
--wcal-layers N (before --iterate): the WCAL of both setups N layers (0.5 cm, 0.862 X0 each) deeper
(N < 0: shallower) in the middle section, V2 right behind it as in the rows: the effective depth as a
4th parameter, profiled (one --iterate per depth).
Environment: NA64 (default build/na64), NA64_DB (default build/conditions.db).
"""
import math, os, shutil, sqlite3, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# the same simplex, curvature and digitised PRL 120 band as the band fit
from fit_visible_geometry import hessian_covariance, nelder_mead, published  # noqa: E402

NA64 = os.environ.get('NA64', 'build/na64')
DB0 = os.environ.get('NA64_DB', 'build/conditions.db')
WCAL_END0 = 1509.75 + 0.5 * 19.5  # sql/setups/20_visible_2017.sql and 30_visible_2018.sql: WCAL centre + half length
WCAL_LAYERS = [0]  # --wcal-layers: layers added to the WCAL's middle section (both setups)
PUB = {'v17': (1.3e-4, 4.2e-4), 'vc': (1.2e-4, 6.8e-4), 'pc': (2.1e-4, 3.2e-4)}
SIG = {k: (0.05e-4 / v[0], 0.05e-4 / v[1]) for k, v in PUB.items()}
TMP = tempfile.mkdtemp(prefix='na64_joint_')


def deepen(c, setup, n):
    """n more 0.5 cm layers (3 mm W + 2 mm Sc) in the WCAL's middle section; its front face, the catcher
    behind it and V2 right behind the WCAL move with the end"""
    d = 0.5 * n
    c.execute("UPDATE calo_sections SET nlayers = nlayers + ?, length = length + ? WHERE setup = ? AND detector = 'WCAL' "
              "AND section = 1", (n, d, setup))
    c.execute("UPDATE calo_sections SET z_offset = z_offset + ? WHERE setup = ? AND detector = 'WCAL' AND section = 2",
              (d, setup))
    c.execute("UPDATE detectors SET z = z + ?, size_z = size_z + ? WHERE setup = ? AND name = 'WCAL'", (0.5 * d, d, setup))
    c.execute("UPDATE calo_cells SET z = z + ?, size_z = size_z + ? WHERE setup = ? AND detector = 'WCAL'",
              (0.5 * d, d, setup))
    c.execute("UPDATE detectors SET z = z + ? WHERE setup = ? AND name = 'V2'", (d, setup))


def make_db(s17, s18, length):
    n = WCAL_LAYERS[0]
    path = os.path.join(TMP, f'db_{s17:.2f}_{s18:.2f}_{length:.1f}_{n}.db')
    wcal_end = WCAL_END0 + 0.5 * n
    if not os.path.exists(path):
        shutil.copy(DB0, path)
        c = sqlite3.connect(path)
        for setup, s in (('visible_2017', s17), ('visible_2018', s18)):
            if n:
                deepen(c, setup, n)
            c.execute("UPDATE detectors SET z = ?, size_z = ? WHERE setup = ? AND name = 'DV'",
                      (wcal_end + s + 0.5 * length, length, setup))
            # S4 stays right behind the region (centre 0.8 cm behind its end, as in the SQL rows)
            c.execute("UPDATE detectors SET z = ? WHERE setup = ? AND name = 'S4'", (wcal_end + s + length + 0.8, setup))
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


S18_MIN = 3.0  # cm: V2 (1 cm) right behind the WCAL; the 2018 region cannot start in front of its back face
STEPS, H = [2.0, 1.0, 20.0], [0.5, 0.3, 5.0]  # simplex steps and curvature steps of (s17, s18, L), cm


def fit(r17, r18, x0):
    """the least-squares geometry (s17, s18, L) with the efficiency tables of r17, r18 held fixed"""
    def chi2(p):
        if p[0] < 0 or p[1] < S18_MIN or p[2] < 10:
            return 1e9
        return sum(evaluate(r17, r18, *p)[1].values())
    best, c = nelder_mead(chi2, x0, STEPS)
    at_bound = best[1] - S18_MIN < H[1]
    free = [0, 2] if at_bound else [0, 1, 2]  # at the bound s18 is fixed there and the others' curvature taken
    sub = lambda q: chi2([q[free.index(i)] if i in free else best[i] for i in range(3)])  # noqa: E731
    cov = hessian_covariance(sub, [best[i] for i in free], [H[i] for i in free])
    ndf = 6 - len(free)
    scale = max(1.0, math.sqrt(c / ndf))
    err, corr = {}, {}
    if cov:
        for a, i in enumerate(free):
            err[i] = math.sqrt(cov[a][a]) * scale if cov[a][a] > 0 else math.nan
            for b, j in enumerate(free):
                corr[(i, j)] = cov[a][b] / math.sqrt(cov[a][a] * cov[b][b]) if cov[a][a] > 0 and cov[b][b] > 0 else math.nan
    return best, c, ndf, scale, err, corr, at_bound


def print_fit(r17, r18, best, c, ndf, scale, err, corr, at_bound):
    names = ('s17', 's18', 'L')
    res, chi, _ = evaluate(r17, r18, *best)
    for i, n in enumerate(names):
        e = err.get(i)
        print(f'{n} = {best[i]:.2f} ' + (f'+- {e:.2f} cm' if e is not None else 'cm (at its bound)'))
    print(f'chi2/ndf = {c:.2f} / {ndf} (errors from delta chi2 = 1, scaled by {scale:.2f})')
    print('correlation: ' + ' '.join(f'{names[i]}-{names[j]} {v:+.2f}' for (i, j), v in corr.items() if i < j))
    print(f'edges: v17 {res["v17"]} vc {res["vc"]} pc {res["pc"]} | ' + ' '.join(f'{k} {v:.1f}' for k, v in chi.items()),
          flush=True)


def run_cards(geo, tag):
    """`na64 run` of both shipped cards on a database with geometry geo; returns the report directories"""
    db = make_db(*geo)
    env = dict(os.environ, NA64_CONDITIONS_DB=db)
    dirs = []
    for card in ('configs/visible_2017.yaml', 'configs/visible_2018.yaml'):
        d = os.path.join(TMP, f'{tag}_{os.path.basename(card)[:-5]}')
        subprocess.run([NA64, 'run', card, '--report-dir', d], env=env, capture_output=True, check=True)
        dirs.append(d)
    return dirs


def band_2017(r17, geo):
    """the 2017 A' band with the efficiency of r17 over the digitised PRL 120 Fig. 4 curve (not fitted)"""
    masses = (2.0, 5.0, 10.0, 14.0, 16.7)
    cmd = [NA64, 'limits', '--mode', 'visible', '--masses', ','.join(map(str, masses)), '--format', 'csv', '--db',
           make_db(*geo), '--dataset', f'visible_2017:5.4e10:{r17}']
    rows = [l.split(',') for l in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
            if l and l[0].isdigit()]
    print('# 2017 band / digitised PRL 120 (lower, upper): ' + ' '.join(
        f'{m:g} MeV {float(r[1]) / published("lower", m):.2f} {float(r[2]) / published("upper", m):.2f}'
        for m, r in zip(masses, rows) if r[1]), flush=True)


def iterate(n, geo):
    r17 = None
    for it in range(n):
        r17, r18 = run_cards(geo, f'it{it}')
        print(f'# iteration {it + 1}: efficiency measured at s17 {geo[0]:.2f}, s18 {geo[1]:.2f}, L {geo[2]:.1f} cm')
        out = fit(r17, r18, geo)
        print_fit(r17, r18, *out)
        best, err = out[0], out[4]
        within = [abs(best[i] - geo[i]) < err.get(i, math.inf) for i in range(3)]
        geo = best
        if all(within):
            print(f'# converged after {it + 1} iterations: every parameter moved by less than its error')
            break
    if r17:
        band_2017(r17, geo)
    return geo


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == '--wcal-layers':
        WCAL_LAYERS[0] = int(sys.argv[2])
        del sys.argv[1:3]
    if len(sys.argv) >= 3 and sys.argv[1] == '--iterate':
        iterate(int(sys.argv[2]), [float(x) for x in sys.argv[3].split(',')])
        shutil.rmtree(TMP, ignore_errors=True)
        return
    if len(sys.argv) == 5 and sys.argv[1] == '--fit':
        print_fit(sys.argv[2], sys.argv[3], *fit(sys.argv[2], sys.argv[3], [float(x) for x in sys.argv[4].split(',')]))
        shutil.rmtree(TMP, ignore_errors=True)
        return
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
