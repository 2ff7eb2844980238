-- Visible-mode setup of 2018 at 150 GeV (setup 'visible_2018', runs 4224-4309): the layout of
-- 2017 (20_visible_2017.sql) optimised for larger couplings (shorter-lived A'): a shorter WCAL and a
-- higher beam energy (PRD 101 071101(R)).
--
-- Published (refdata): runs 4224-4309 and the 150 GeV beam (NA64 analysis code); SRD with 2
-- modules in the 2018 visible run; WCAL with 3 readout sections; ECAL, HCAL as before. [REPO-code]
-- (a public copy of NA64's p348reco-based analysis program, read with the find_string tool on
-- 2026-12-06, no text copied): in the 2018 visible runs 4224-4309 (and in the second part of 2017,
-- runs 3466-3560) the WCAL catcher is also used as a veto; its MC response is at the MeV (MIP) level.
-- ESTIMATES (docs/conditions.md, "Geometry estimates"):
--   * Transverse placement on the 150 GeV electron trajectory, x = theta * (z - 775 cm) with
--     theta = 0.29979 * 7 T*m / 150 GeV = 0.0139903 rad (same magnets as in 2017).
--   * V2 10 x 10 x 1 cm, 2.5 cm behind the WCAL (centre).
--   * Trackers, ECAL, VETO and HCAL at the 2017 positions; SRD (2 modules) at 1400 cm.
-- DERIVED (vis2018, 2026-12-06; docs/validation.md "The 2018 setup with the physical V2"): the WCAL
-- depth D and the decay-region start s are not published; with V2 seeing the charged particles of the
-- leak (src/sim/vis_v2.c) they follow from the PRD 101 (2020) 071101 combined band's two edges at the
-- X17 mass (1.2e-4 < eps < 6.8e-4, 2017 + 2018, 8.4e10 EOT), the 2017 part fixed by PRL 120:
--   * D from the lower edge: the 2018 data alone must exclude down to eps18 with eps_c^-4 = eps17^-4 +
--     eps18^-4 (the signal ~ eps^4 at the lower edge), eps_c = 1.2e-4, eps17 = 1.3e-4 (abstracts):
--     eps18 = 1.66e-4. `na64 run configs/visible_2018.yaml` gives 2.33e-4 at 30.1 X0, 1.51e-4 at
--     33.6 X0, 1.20e-4 at 37.0 X0 (V2 vetoes more of the signal for a shorter WCAL): D = 33.6 X0, 39
--     layers of 3 mm W + 2 mm Sc (19.5 cm), +1.5 / -2.6 X0 from the abstracts' rounding (eps_c 1.15-1.25e-4);
--     with our 2017 job's edge (1.23e-4) instead of 1.3e-4, D = 30.8 X0. The same depth as 2017's.
--     WCAL0 = layers 1-7, WCAL1 = 8-35, WCAL2 (catcher) = 36-39; front face at z = 1500 cm.
--   * s from the upper edge: 6.8e-4 needs a flight distance D X0 + s ~ 22 cm; s is bounded below by V2
--     (its back face 3.0 cm behind the WCAL), and s = 3.0 cm gives 6.81e-4: the decay region starts
--     right behind V2 (the 2018 setup "optimised for larger eps", PRD 101). Uncertainty +-1.5 cm (5%
--     on the upper edge ~ 3.4% per cm).
--   * L = 295 cm: the 2017 derived length (20_visible_2017.sql); D and L are degenerate through eff x L
--     at the lower edge, so L is kept.
--   psjoint (2026-12-07; 20_visible_2017.sql, docs/validation.md "Pseudoscalar and vector together
--   (psjoint)"): the joint fit of the vector and pseudoscalar X17 edges keeps s = 3.0 cm (at its bound)
--   and L = 110 +- 20 cm for both setups (before: 295 cm). Decay region 1522.5-1632.5 cm; S4 at
--   1633.3 cm (right behind it, as before).
--   visfit2 (2026-12-07; 20_visible_2017.sql, docs/validation.md "visfit2: the joint geometry with the
--   exact cross sections"): the joint fit redone with the exact cross sections and the efficiency
--   measured at the fitted geometry (iterated): s = 3.0 cm still at its bound (the PRD 101 upper edge
--   and the pseudoscalar want ~2.7 cm, chi2 +27 at 3.6 cm in a scan at s17 = 13.3, L = 87 cm), L = 91 +- 19 cm
--   for both setups. Decay region 1522.5-1613.5 cm; S4 at 1614.3 cm.
--   Before (estimates): 25 layers, 21.5 X0, s = 35.4 cm: V2 vetoed 80% of the signal and the
--   punch-through row was 1.9e-11 per EOT.

WITH geo(theta, pivot) AS (VALUES (0.0139903, 775.0)),
  d(name, kind, dx, z, sx, sy, sz, material, comment) AS (VALUES
    ('SRD',  'srd',        -11.0, 1401.8,  16.0,  16.0,    3.6, NULL,    'ESTIMATE: position; 2 modules (published)'),
    ('WCAL', 'wcal',         0.0, 1509.75,  6.0,   6.0,   19.5, NULL,    '3 sections (published); depth DERIVED (vis2018), sizes ESTIMATE'),
    ('V2',   'counter',      0.0, 1522.0,  10.0,  10.0,    1.0, 'Sc',    'ESTIMATE: veto behind WCAL'),
    ('DV',   'decay_volume', 0.0, 1568.0,  20.0,  20.0,   91.0, NULL,    'start DERIVED (vis2018: PRD 101 upper edge; visfit2: at its bound); length DERIVED (visfit2, with 2017)'),
    ('S4',   'counter',      0.0, 1614.3,  10.0,  10.0,    1.0, 'Sc',    'ESTIMATE: decay counter behind the DV'),
    ('ST01', 'straw',        0.0, 1851.0,  20.0,  20.0,    3.0, 'ArCO2', 'ESTIMATE: position; 6 mm straws'),
    ('MM03', 'micromegas',   0.0, 1875.5,   8.0,   8.0,    1.0, 'ArCO2', 'ESTIMATE: position'),
    ('ST02', 'straw',        0.0, 1901.0,  20.0,  20.0,    3.0, 'ArCO2', 'ESTIMATE: position; 6 mm straws'),
    ('MM04', 'micromegas',   0.0, 1925.5,   8.0,   8.0,    1.0, 'ArCO2', 'ESTIMATE: position'),
    ('ST03', 'straw',        0.0, 1951.0,  20.0,  20.0,    3.0, 'ArCO2', 'ESTIMATE: position; 2 mm straws'),
    ('ECAL', 'ecal',         0.0, 2022.5,  22.92, 22.92,  45.0, NULL,    '6 x 6 cells of 3.82 cm (published); z ESTIMATE'),
    ('VETO', 'veto',         0.0, 2052.0,  48.0,  48.0,    4.0, 'Sc',    'sizes ESTIMATE'),
    ('HCAL', 'hcal',         0.0, 2394.6,  60.0,  60.0,  589.2, NULL,    '4 modules of 3 x 3 cells (published); sizes ESTIMATE'))
INSERT INTO detectors (first_run, last_run, setup, name, kind, x, y, z, size_x, size_y, size_z, material, comment)
SELECT 4224, 4309, 'visible_2018', d.name, d.kind, round(geo.theta * (d.z - geo.pivot), 2) + d.dx, 0.0,
       d.z, d.sx, d.sy, d.sz, d.material, d.comment
FROM d, geo;

WITH geo(theta, pivot) AS (VALUES (0.0139903, 775.0)),
  p(detector, name, z, angle, pitch, n, su, sv) AS (VALUES
    ('ST01', 'ST01X', 1850.0,  0.0, 0.6,    64, 20.0, 20.0),
    ('ST01', 'ST01Y', 1852.0, 90.0, 0.6,    64, 20.0, 20.0),
    ('MM03', 'MM03X', 1875.0,  0.0, 0.025, 320,  8.0,  8.0),
    ('MM03', 'MM03Y', 1876.0, 90.0, 0.025, 320,  8.0,  8.0),
    ('ST02', 'ST02X', 1900.0,  0.0, 0.6,    64, 20.0, 20.0),
    ('ST02', 'ST02Y', 1902.0, 90.0, 0.6,    64, 20.0, 20.0),
    ('MM04', 'MM04X', 1925.0,  0.0, 0.025, 320,  8.0,  8.0),
    ('MM04', 'MM04Y', 1926.0, 90.0, 0.025, 320,  8.0,  8.0),
    ('ST03', 'ST03X', 1950.0,  0.0, 0.2,    96, 20.0, 20.0),
    ('ST03', 'ST03Y', 1952.0, 90.0, 0.2,    96, 20.0, 20.0))
INSERT INTO planes (first_run, last_run, setup, detector, name, x, y, z, angle_deg, pitch, nchannels, size_u, size_v, comment)
SELECT 4224, 4309, 'visible_2018', p.detector, p.name, round(geo.theta * (p.z - geo.pivot), 2), 0.0, p.z,
       p.angle, p.pitch, p.n, p.su, p.sv, 'ESTIMATE: position'
FROM p, geo;

INSERT INTO straw_layers (first_run, last_run, setup, plane, layer, nwires, diameter, pitch, stagger, dz, comment) VALUES
  (4224, 4309, 'visible_2018', 'ST01X', 0, 32, 0.6, 0.6, -0.15, -0.26,   '6 mm straws'),
  (4224, 4309, 'visible_2018', 'ST01X', 1, 32, 0.6, 0.6,  0.15,  0.26,   '6 mm straws'),
  (4224, 4309, 'visible_2018', 'ST01Y', 0, 32, 0.6, 0.6, -0.15, -0.26,   '6 mm straws'),
  (4224, 4309, 'visible_2018', 'ST01Y', 1, 32, 0.6, 0.6,  0.15,  0.26,   '6 mm straws'),
  (4224, 4309, 'visible_2018', 'ST02X', 0, 32, 0.6, 0.6, -0.15, -0.26,   '6 mm straws'),
  (4224, 4309, 'visible_2018', 'ST02X', 1, 32, 0.6, 0.6,  0.15,  0.26,   '6 mm straws'),
  (4224, 4309, 'visible_2018', 'ST02Y', 0, 32, 0.6, 0.6, -0.15, -0.26,   '6 mm straws'),
  (4224, 4309, 'visible_2018', 'ST02Y', 1, 32, 0.6, 0.6,  0.15,  0.26,   '6 mm straws'),
  (4224, 4309, 'visible_2018', 'ST03X', 0, 48, 0.2, 0.2, -0.05, -0.0866, '2 mm straws'),
  (4224, 4309, 'visible_2018', 'ST03X', 1, 48, 0.2, 0.2,  0.05,  0.0866, '2 mm straws'),
  (4224, 4309, 'visible_2018', 'ST03Y', 0, 48, 0.2, 0.2, -0.05, -0.0866, '2 mm straws'),
  (4224, 4309, 'visible_2018', 'ST03Y', 1, 48, 0.2, 0.2,  0.05,  0.0866, '2 mm straws');

WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 63)
INSERT INTO straw_wires (first_run, last_run, setup, plane, wire, layer, u, dz)
SELECT l.first_run, l.last_run, l.setup, l.plane, l.layer * l.nwires + k.n, l.layer,
       (k.n - (l.nwires - 1) / 2.0) * l.pitch + l.stagger, l.dz
FROM straw_layers AS l JOIN k ON k.n < l.nwires
WHERE l.setup = 'visible_2018'
ORDER BY l.plane, l.layer, k.n;

INSERT INTO calo_sections (first_run, last_run, setup, detector, section, name, z_offset, length, nlayers,
                           absorber, absorber_thickness, active, active_thickness, comment) VALUES
  (4224, 4309, 'visible_2018', 'SRD',  0, 'SRD',   0.0,   1.6,   8, 'Pb', 0.1,  'Sc', 0.1,  'ESTIMATE: per module'),
  (4224, 4309, 'visible_2018', 'WCAL', 0, 'WCAL0', 0.0,   3.5,   7, 'W',  0.3,  'Sc', 0.2,  'ESTIMATE: layers 1-7'),
  (4224, 4309, 'visible_2018', 'WCAL', 1, 'WCAL1', 3.5,  14.0,  28, 'W',  0.3,  'Sc', 0.2,  'ESTIMATE: layers 8-35 (depth DERIVED, vis2018)'),
  (4224, 4309, 'visible_2018', 'WCAL', 2, 'WCAL2', 17.5,  2.0,   4, 'W',  0.3,  'Sc', 0.2,  'catcher (published); layers 36-39 ESTIMATE'),
  (4224, 4309, 'visible_2018', 'V2',   0, 'V2',    0.0,   1.0,   1, NULL, 0.0,  'Sc', 1.0,  'ESTIMATE'),
  (4224, 4309, 'visible_2018', 'S4',   0, 'S4',    0.0,   1.0,   1, NULL, 0.0,  'Sc', 1.0,  'ESTIMATE'),
  (4224, 4309, 'visible_2018', 'ECAL', 0, 'ECAL0', 0.0,   4.5,  15, 'Pb', 0.15, 'Sc', 0.15, 'pre-shower ~4 X0 (published); layers ESTIMATE'),
  (4224, 4309, 'visible_2018', 'ECAL', 1, 'ECAL1', 4.5,  40.5, 135, 'Pb', 0.15, 'Sc', 0.15, 'total ~40 X0 (published); layers ESTIMATE'),
  (4224, 4309, 'visible_2018', 'VETO', 0, 'VETO',  0.0,   4.0,   1, NULL, 0.0,  'Sc', 4.0,  'ESTIMATE: thickness'),
  (4224, 4309, 'visible_2018', 'HCAL', 0, 'HCAL',  0.0, 139.2,  48, 'Fe', 2.5,  'Sc', 0.4,  '~7.5 lambda_I per module (published); layers ESTIMATE');

WITH RECURSIVE geo(theta, pivot) AS (VALUES (0.0139903, 775.0)),
  k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 35)
INSERT INTO calo_cells (first_run, last_run, setup, detector, module, ix, iy, x, y, z, size_x, size_y, size_z)
SELECT 4224, 4309, 'visible_2018', 'SRD', k.n, 0, 0, round(geo.theta * (1401.8 - geo.pivot), 2) - 11.0, 0.0,
       1400.8 + 2.0 * k.n, 16.0, 16.0, 1.6 FROM k, geo WHERE k.n < 2
UNION ALL
SELECT 4224, 4309, 'visible_2018', 'WCAL', 0, 0, 0, round(geo.theta * (1509.75 - geo.pivot), 2), 0.0,
       1509.75, 6.0, 6.0, 19.5 FROM geo
UNION ALL
SELECT 4224, 4309, 'visible_2018', 'V2', 0, 0, 0, round(geo.theta * (1522.0 - geo.pivot), 2), 0.0,
       1522.0, 10.0, 10.0, 1.0 FROM geo
UNION ALL
SELECT 4224, 4309, 'visible_2018', 'S4', 0, 0, 0, round(geo.theta * (1633.3 - geo.pivot), 2), 0.0,
       1633.3, 10.0, 10.0, 1.0 FROM geo
UNION ALL
SELECT 4224, 4309, 'visible_2018', 'ECAL', 0, k.n % 6, k.n / 6,
       round(geo.theta * (2022.5 - geo.pivot), 2) + (k.n % 6 - 2.5) * 3.82, (k.n / 6 - 2.5) * 3.82,
       2022.5, 3.82, 3.82, 45.0 FROM k, geo
UNION ALL
SELECT 4224, 4309, 'visible_2018', 'VETO', 0, k.n % 2, k.n / 2,
       round(geo.theta * (2052.0 - geo.pivot), 2) + (k.n % 2 - 0.5) * 24.0, (k.n / 2 - 1) * 16.0,
       2052.0, 24.0, 16.0, 4.0 FROM k, geo WHERE k.n < 6
UNION ALL
SELECT 4224, 4309, 'visible_2018', 'HCAL', k.n / 9, k.n % 3, (k.n % 9) / 3,
       round(geo.theta * (2169.6 + 150.0 * (k.n / 9) - geo.pivot), 2) + (k.n % 3 - 1) * 20.0, ((k.n % 9) / 3 - 1) * 20.0,
       2169.6 + 150.0 * (k.n / 9), 20.0, 20.0, 139.2 FROM k, geo;

-- ldc_id (schema 4): the DATE LDC that reads the source. ESTIMATE, this project's grouping of one LDC
-- per crate group (docs/raw-format.md §3): LDC 1 the APV trackers (sources 5xx), LDC 2 the straw F1
-- TDCs (4xx), LDC 3 the sampling ADCs of calorimeters and counters (6xx).
-- Channel maps as in 2017 (conventions of 10_invisible_2016_2018.sql): straws on F1 source 400, downstream
-- Micromegas on APV source 501, ECAL 600, HCAL 601, SRD / VETO / WCAL / counters on 602
-- (port 0: V2 channel 2 and S4 channel 3 next to S0 and S1; port 1 SRD; port 2 VETO; port 3 WCAL
-- with channel = section).
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 95),
  cabling(plane, detector, first_port) AS (VALUES
    ('ST01X', 'ST01', 0), ('ST01Y', 'ST01', 1), ('ST02X', 'ST02', 2), ('ST02Y', 'ST02', 3),
    ('ST03X', 'ST03', 4), ('ST03Y', 'ST03', 6))
INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, plane, wire, ldc_id)
SELECT 4224, 4309, 'visible_2018', 400, c.first_port + k.n / 64, (k.n % 64) / 8, k.n % 8, c.detector, c.plane, k.n, 2
FROM cabling AS c JOIN planes AS p ON p.name = c.plane AND p.setup = 'visible_2018'
JOIN k ON k.n < p.nchannels
ORDER BY c.plane, k.n;

WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 319),
  cabling(src_id, plane, detector, first_chip) AS (VALUES
    (501, 'MM03X', 'MM03', 0), (501, 'MM03Y', 'MM03', 3), (501, 'MM04X', 'MM04', 6), (501, 'MM04Y', 'MM04', 9))
INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, plane, wire, ldc_id)
SELECT 4224, 4309, 'visible_2018', c.src_id, 0, c.first_chip + k.n / 128, k.n % 128, c.detector, c.plane, k.n, 1
FROM cabling AS c JOIN planes AS p ON p.name = c.plane AND p.setup = 'visible_2018'
JOIN k ON k.n < p.nchannels
ORDER BY c.src_id, c.plane, k.n;

INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, module, ix, iy, section, ldc_id)
SELECT c.first_run, c.last_run, c.setup,
       CASE c.detector WHEN 'ECAL' THEN 600 WHEN 'HCAL' THEN 601 ELSE 602 END,
       CASE c.detector WHEN 'ECAL' THEN s.section WHEN 'HCAL' THEN c.module WHEN 'SRD' THEN 1
                       WHEN 'VETO' THEN 2 WHEN 'WCAL' THEN 3 ELSE 0 END,
       0,
       CASE c.detector WHEN 'ECAL' THEN c.iy * 6 + c.ix WHEN 'HCAL' THEN c.iy * 3 + c.ix
                       WHEN 'SRD' THEN c.module WHEN 'VETO' THEN c.iy * 2 + c.ix WHEN 'WCAL' THEN s.section
                       WHEN 'V2' THEN 2 ELSE 3 END,
       c.detector, c.module, c.ix, c.iy, s.section, 3
FROM calo_cells AS c JOIN calo_sections AS s ON s.detector = c.detector AND s.setup = c.setup
WHERE c.setup = 'visible_2018'
ORDER BY c.detector, s.section, c.module, c.iy, c.ix;

-- Nominal calibrations: as in 10_invisible_2016_2018.sql; WCAL sections 0.045 GeV per count (150 GeV).
INSERT INTO straw_t0 (first_run, last_run, setup, plane, wire, t0, comment)
SELECT w.first_run, w.last_run, w.setup, w.plane, w.wire, 40.0 + 0.5 * ((w.wire / 8) % 4), 'ESTIMATE: nominal'
FROM straw_wires AS w WHERE w.setup = 'visible_2018' ORDER BY w.plane, w.wire;

INSERT INTO straw_rt (first_run, last_run, setup, plane, points, sigma_r, comment)
SELECT p.first_run, p.last_run, p.setup, p.name,
       CASE WHEN p.pitch > 0.4
         THEN '[[0.00,0.000],[4.51,0.030],[11.11,0.060],[18.81,0.090],[27.35,0.120],[36.55,0.150],[46.33,0.180],[56.61,0.210],[67.34,0.240],[78.48,0.270],[90.00,0.300]]'
         ELSE '[[0.00,0.000],[1.50,0.010],[3.70,0.020],[6.27,0.030],[9.12,0.040],[12.18,0.050],[15.44,0.060],[18.87,0.070],[22.45,0.080],[26.16,0.090],[30.00,0.100]]'
       END,
       CASE WHEN p.pitch > 0.4 THEN 0.02 ELSE 0.01 END, 'ESTIMATE: nominal'
FROM planes AS p JOIN detectors AS d ON d.name = p.detector AND d.setup = p.setup
WHERE p.setup = 'visible_2018' AND d.kind = 'straw' ORDER BY p.name;

INSERT INTO calo_calib (first_run, last_run, setup, detector, module, ix, iy, section, gain, ped_even, ped_odd, comment)
SELECT c.first_run, c.last_run, c.setup, c.detector, c.module, c.ix, c.iy, s.section,
       CASE c.detector WHEN 'ECAL' THEN (CASE s.section WHEN 0 THEN 0.002 ELSE 0.03 END)
                       WHEN 'HCAL' THEN 0.05 WHEN 'WCAL' THEN 0.045 WHEN 'SRD' THEN 1.0e-4 ELSE 2.0e-5 END,
       150.0, 151.0, 'ESTIMATE: nominal'
FROM calo_cells AS c JOIN calo_sections AS s ON s.detector = c.detector AND s.setup = c.setup
WHERE c.setup = 'visible_2018'
ORDER BY c.detector, s.section, c.module, c.iy, c.ix;

-- Downstream spectrometer stations MM05, MM06 (task vistrk, issue 12; docs/visible.md "Momentum of every
-- event"): in NA64's visible-mode setups the magnetic spectrometer is the invisible mode's (PRL 120
-- 231802 Fig. 1, PRD 101 071101 Fig. 1 [RECALLED: layout sketches, no distances]): trackers upstream
-- and downstream of the two dipoles measure the incoming electron, dp/p ~ 1% (refdata
-- na64-report-facts.md, "Invisible-mode setup": two upstream Micromegas T1, T2 and two downstream
-- stations T3, T4; na64-published-numbers.md §4 [RECALLED (M) for the 1%]). The downstream pair of
-- the invisible setup (MM03 1500, MM04 1600 cm, 10_invisible_2016_2018.sql) sits where this setup
-- has its SRD and WCAL, and the names MM03/MM04 are those behind the decay volume here, so:
-- ESTIMATES (positions are not published, refdata "distances ... NOT found"): two Micromegas of the
-- beam line's kind (8 x 8 cm2, 320 strips of 250 um, X and Y planes 1 cm apart) between the magnet
-- exit (1000 cm) and the SRD (1400 cm): MM05 at 1100 cm, MM06 at 1350 cm, a 250 cm lever arm (the
-- invisible pair has 100 cm plus the straws and GM02 over 200 cm), on the 150 GeV trajectory.
-- APV source 502 (this project's convention), chips as on source 501; LDC 1.
WITH geo(theta, pivot) AS (VALUES (0.0139903, 775.0)),
  d(name, z) AS (VALUES ('MM05', 1100.5), ('MM06', 1350.5))
INSERT INTO detectors (first_run, last_run, setup, name, kind, x, y, z, size_x, size_y, size_z, material, comment)
SELECT 4224, 4309, 'visible_2018', d.name, 'micromegas', round(geo.theta * (d.z - geo.pivot), 2), 0.0, d.z,
       8.0, 8.0, 1.0, 'ArCO2', 'ESTIMATE: position; downstream spectrometer station (task vistrk)'
FROM d, geo;

WITH geo(theta, pivot) AS (VALUES (0.0139903, 775.0)),
  p(detector, name, z, angle) AS (VALUES
    ('MM05', 'MM05X', 1100.0, 0.0), ('MM05', 'MM05Y', 1101.0, 90.0),
    ('MM06', 'MM06X', 1350.0, 0.0), ('MM06', 'MM06Y', 1351.0, 90.0))
INSERT INTO planes (first_run, last_run, setup, detector, name, x, y, z, angle_deg, pitch, nchannels, size_u, size_v, comment)
SELECT 4224, 4309, 'visible_2018', p.detector, p.name, round(geo.theta * (p.z - geo.pivot), 2), 0.0, p.z,
       p.angle, 0.025, 320, 8.0, 8.0, 'ESTIMATE: position'
FROM p, geo;

WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 319),
  cabling(src_id, plane, detector, first_chip) AS (VALUES
    (502, 'MM05X', 'MM05', 0), (502, 'MM05Y', 'MM05', 3), (502, 'MM06X', 'MM06', 6), (502, 'MM06Y', 'MM06', 9))
INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, plane, wire, ldc_id)
SELECT 4224, 4309, 'visible_2018', c.src_id, 0, c.first_chip + k.n / 128, k.n % 128, c.detector, c.plane, k.n, 1
FROM cabling AS c JOIN planes AS p ON p.name = c.plane AND p.setup = 'visible_2018'
JOIN k ON k.n < p.nchannels
ORDER BY c.src_id, c.plane, k.n;
