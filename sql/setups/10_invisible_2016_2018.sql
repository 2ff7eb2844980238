-- Invisible-mode setup of 2016-2018 at 100 GeV (setup 'invisible_2016_2018', runs 1000-4223 as
-- listed in run_info; the records carry the IOV 1000-4223 and the setup name, so they do not apply
-- to the visible-mode runs 2800-3199 inside that interval).
--
-- Published (refdata section 4): ECAL = 6 x 6 Pb/Sc shashlik modules of 38.2 mm, ~40 X0 with the
-- first ~4 X0 read out separately (pre-shower); HCAL = 4 modules of 3 x 3 cells, Fe/Sc, ~7.5
-- lambda_I each; SRD with 3 modules (2016 design); VETO with 6 readout channels (2018 data); two
-- dipoles of ~7 T*m in total (05_beamline.sql).
-- ESTIMATES (docs/conditions.md, "Geometry estimates"):
--   * Transverse placement: everything behind the magnets sits on the trajectory of a 100 GeV
--     electron, x = theta * (z - 775 cm) with theta = 0.29979 * 7 T*m / 100 GeV = 0.0209855 rad and
--     the pivot at the centre of the two dipoles (z = 775 cm); y = 0.
--   * z positions: downstream trackers MM03 1500, ST01 1550, MM04 1600, ST02 1650, GM02 1700 cm; SRD
--     at 1800 cm, ECAL front face at 1900 cm, VETO at 1950 cm, HCAL modules from 2000 cm every 150 cm.
--     The published papers give no distances (refdata: "NOT found"); these put the ECAL ~11 m behind
--     the centre of the magnets, where the 100 GeV electron is ~24 cm off the undeflected line and
--     the synchrotron-radiation photons can be intercepted beside it.
--   * Straw stations: ST01 of 6 mm straws (2 x 32 = 64 channels per double layer), ST02 of 2 mm
--     straws (2 x 48 = 96 channels), 20 x 20 cm2 frames, X and Y double layers 2 cm apart; straws
--     close-packed: layer pitch = diameter, layers shifted by half a diameter (stagger -d/4 and +d/4)
--     and d * sqrt(3) / 2 apart in z. The 96 channels of 2 mm straws cover the central 9.7 cm.
--   * ECAL layers: 150 x (1.5 mm Pb + 1.5 mm Sc) = 45 cm and 40.6 X0; pre-shower = first 15 layers
--     (4.1 X0). This structure is chosen to reproduce the published 40 X0 and ~4 X0.
--   * HCAL module: 48 x (25 mm Fe + 4 mm Sc) = 139.2 cm = 7.4 lambda_I; cells 20 x 20 cm2.
--   * SRD: 3 modules of 8 x (1 mm Pb + 1 mm Sc), 16 x 16 cm2, centred 11 cm on the undeflected side
--     of the electron trajectory so that it intercepts the synchrotron-radiation fan only.
--   * VETO: 6 scintillator paddles 24 x 16 x 4 cm (2 columns x 3 rows), one channel each.

WITH geo(theta, pivot) AS (VALUES (0.0209855, 775.0)),
  d(name, kind, dx, z, sx, sy, sz, material, comment) AS (VALUES
    ('MM03', 'micromegas',   0.0, 1500.5,  8.0,   8.0,    1.0, 'ArCO2', 'ESTIMATE: position'),
    ('ST01', 'straw',        0.0, 1551.0, 20.0,  20.0,    3.0, 'ArCO2', 'ESTIMATE: position; 6 mm straws'),
    ('MM04', 'micromegas',   0.0, 1600.5,  8.0,   8.0,    1.0, 'ArCO2', 'ESTIMATE: position'),
    ('ST02', 'straw',        0.0, 1651.0, 20.0,  20.0,    3.0, 'ArCO2', 'ESTIMATE: position; 2 mm straws'),
    ('GM02', 'gem',          0.0, 1700.5, 10.24, 10.24,   1.0, 'ArCO2', 'ESTIMATE: position'),
    ('SRD',  'srd',        -11.0, 1802.8, 16.0,  16.0,    5.6, NULL,    'ESTIMATE: position and layers; 3 modules (2016 design, published)'),
    ('ECAL', 'ecal',         0.0, 1922.5, 22.92, 22.92,  45.0, NULL,    '6 x 6 cells of 3.82 cm (published); z ESTIMATE'),
    ('VETO', 'veto',         0.0, 1952.0, 48.0,  48.0,    4.0, 'Sc',    '6 channels (published 2018); sizes ESTIMATE'),
    ('HCAL', 'hcal',         0.0, 2294.6, 60.0,  60.0,  589.2, NULL,    '4 modules of 3 x 3 cells (published); sizes ESTIMATE'))
INSERT INTO detectors (first_run, last_run, setup, name, kind, x, y, z, size_x, size_y, size_z, material, comment)
SELECT 1000, 4223, 'invisible_2016_2018', d.name, d.kind, round(geo.theta * (d.z - geo.pivot), 2) + d.dx, 0.0,
       d.z, d.sx, d.sy, d.sz, d.material, d.comment
FROM d, geo;

WITH geo(theta, pivot) AS (VALUES (0.0209855, 775.0)),
  p(detector, name, z, angle, pitch, n, su, sv) AS (VALUES
    ('MM03', 'MM03X', 1500.0,  0.0, 0.025, 320,  8.0,   8.0),
    ('MM03', 'MM03Y', 1501.0, 90.0, 0.025, 320,  8.0,   8.0),
    ('ST01', 'ST01X', 1550.0,  0.0, 0.6,    64, 20.0,  20.0),
    ('ST01', 'ST01Y', 1552.0, 90.0, 0.6,    64, 20.0,  20.0),
    ('MM04', 'MM04X', 1600.0,  0.0, 0.025, 320,  8.0,   8.0),
    ('MM04', 'MM04Y', 1601.0, 90.0, 0.025, 320,  8.0,   8.0),
    ('ST02', 'ST02X', 1650.0,  0.0, 0.2,    96, 20.0,  20.0),
    ('ST02', 'ST02Y', 1652.0, 90.0, 0.2,    96, 20.0,  20.0),
    ('GM02', 'GM02X', 1700.0,  0.0, 0.04,  256, 10.24, 10.24),
    ('GM02', 'GM02Y', 1701.0, 90.0, 0.04,  256, 10.24, 10.24))
INSERT INTO planes (first_run, last_run, setup, detector, name, x, y, z, angle_deg, pitch, nchannels, size_u, size_v, comment)
SELECT 1000, 4223, 'invisible_2016_2018', p.detector, p.name, round(geo.theta * (p.z - geo.pivot), 2), 0.0, p.z,
       p.angle, p.pitch, p.n, p.su, p.sv, 'ESTIMATE: position'
FROM p, geo;

-- Straw double layers: close-packed straws, layer 1 shifted by half a straw and d*sqrt(3)/2 behind layer 0.
INSERT INTO straw_layers (first_run, last_run, setup, plane, layer, nwires, diameter, pitch, stagger, dz, comment) VALUES
  (1000, 4223, 'invisible_2016_2018', 'ST01X', 0, 32, 0.6, 0.6, -0.15, -0.26,   '6 mm straws'),
  (1000, 4223, 'invisible_2016_2018', 'ST01X', 1, 32, 0.6, 0.6,  0.15,  0.26,   '6 mm straws'),
  (1000, 4223, 'invisible_2016_2018', 'ST01Y', 0, 32, 0.6, 0.6, -0.15, -0.26,   '6 mm straws'),
  (1000, 4223, 'invisible_2016_2018', 'ST01Y', 1, 32, 0.6, 0.6,  0.15,  0.26,   '6 mm straws'),
  (1000, 4223, 'invisible_2016_2018', 'ST02X', 0, 48, 0.2, 0.2, -0.05, -0.0866, '2 mm straws'),
  (1000, 4223, 'invisible_2016_2018', 'ST02X', 1, 48, 0.2, 0.2,  0.05,  0.0866, '2 mm straws'),
  (1000, 4223, 'invisible_2016_2018', 'ST02Y', 0, 48, 0.2, 0.2, -0.05, -0.0866, '2 mm straws'),
  (1000, 4223, 'invisible_2016_2018', 'ST02Y', 1, 48, 0.2, 0.2,  0.05,  0.0866, '2 mm straws');

-- Every wire at its nominal position: wire = layer * nwires + k, u = (k - (nwires - 1) / 2) * pitch + stagger.
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 63)
INSERT INTO straw_wires (first_run, last_run, setup, plane, wire, layer, u, dz)
SELECT l.first_run, l.last_run, l.setup, l.plane, l.layer * l.nwires + k.n, l.layer,
       (k.n - (l.nwires - 1) / 2.0) * l.pitch + l.stagger, l.dz
FROM straw_layers AS l JOIN k ON k.n < l.nwires
WHERE l.setup = 'invisible_2016_2018'
ORDER BY l.plane, l.layer, k.n;

INSERT INTO calo_sections (first_run, last_run, setup, detector, section, name, z_offset, length, nlayers,
                           absorber, absorber_thickness, active, active_thickness, comment) VALUES
  (1000, 4223, 'invisible_2016_2018', 'SRD',  0, 'SRD',   0.0,   1.6,   8, 'Pb', 0.1,  'Sc', 0.1,  'ESTIMATE: per module'),
  (1000, 4223, 'invisible_2016_2018', 'ECAL', 0, 'ECAL0', 0.0,   4.5,  15, 'Pb', 0.15, 'Sc', 0.15, 'pre-shower ~4 X0 (published); layers ESTIMATE'),
  (1000, 4223, 'invisible_2016_2018', 'ECAL', 1, 'ECAL1', 4.5,  40.5, 135, 'Pb', 0.15, 'Sc', 0.15, 'main section, total ~40 X0 (published); layers ESTIMATE'),
  (1000, 4223, 'invisible_2016_2018', 'VETO', 0, 'VETO',  0.0,   4.0,   1, NULL, 0.0,  'Sc', 4.0,  'ESTIMATE: thickness'),
  (1000, 4223, 'invisible_2016_2018', 'HCAL', 0, 'HCAL',  0.0, 139.2,  48, 'Fe', 2.5,  'Sc', 0.4,  '~7.5 lambda_I per module (published); layers ESTIMATE');

-- Cells. SRD: one cell per module, modules 2 cm apart. ECAL: 6 x 6 cells of 3.82 cm around the
-- ECAL axis. VETO: 2 x 3 paddles. HCAL: modules 150 cm apart, each on the electron trajectory.
WITH RECURSIVE geo(theta, pivot) AS (VALUES (0.0209855, 775.0)),
  k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 35)
INSERT INTO calo_cells (first_run, last_run, setup, detector, module, ix, iy, x, y, z, size_x, size_y, size_z)
SELECT 1000, 4223, 'invisible_2016_2018', 'SRD', k.n, 0, 0, round(geo.theta * (1802.8 - geo.pivot), 2) - 11.0, 0.0,
       1800.8 + 2.0 * k.n, 16.0, 16.0, 1.6 FROM k, geo WHERE k.n < 3
UNION ALL
SELECT 1000, 4223, 'invisible_2016_2018', 'ECAL', 0, k.n % 6, k.n / 6,
       round(geo.theta * (1922.5 - geo.pivot), 2) + (k.n % 6 - 2.5) * 3.82, (k.n / 6 - 2.5) * 3.82,
       1922.5, 3.82, 3.82, 45.0 FROM k, geo
UNION ALL
SELECT 1000, 4223, 'invisible_2016_2018', 'VETO', 0, k.n % 2, k.n / 2,
       round(geo.theta * (1952.0 - geo.pivot), 2) + (k.n % 2 - 0.5) * 24.0, (k.n / 2 - 1) * 16.0,
       1952.0, 24.0, 16.0, 4.0 FROM k, geo WHERE k.n < 6
UNION ALL
SELECT 1000, 4223, 'invisible_2016_2018', 'HCAL', k.n / 9, k.n % 3, (k.n % 9) / 3,
       round(geo.theta * (2069.6 + 150.0 * (k.n / 9) - geo.pivot), 2) + (k.n % 3 - 1) * 20.0, ((k.n % 9) / 3 - 1) * 20.0,
       2069.6 + 150.0 * (k.n / 9), 20.0, 20.0, 139.2 FROM k, geo;

-- ldc_id (schema 4): the DATE LDC that reads the source. ESTIMATE, this project's grouping of one LDC
-- per crate group (docs/raw-format.md §3): LDC 1 the APV trackers (sources 5xx), LDC 2 the straw F1
-- TDCs (4xx), LDC 3 the sampling ADCs of calorimeters and counters (6xx).
-- Channel map, F1 TDC (straws) on source 400: wire w of a plane is port (first_port + w / 64),
-- chip (w % 64) / 8, channel w % 8 (8 chips of 8 channels per port). ESTIMATE: cabling convention.
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 95),
  cabling(plane, detector, first_port) AS (VALUES
    ('ST01X', 'ST01', 0), ('ST01Y', 'ST01', 1), ('ST02X', 'ST02', 2), ('ST02Y', 'ST02', 4))
INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, plane, wire, ldc_id)
SELECT 1000, 4223, 'invisible_2016_2018', 400, c.first_port + k.n / 64, (k.n % 64) / 8, k.n % 8,
       c.detector, c.plane, k.n, 2
FROM cabling AS c JOIN planes AS p ON p.name = c.plane AND p.setup = 'invisible_2016_2018'
JOIN k ON k.n < p.nchannels
ORDER BY c.plane, k.n;

-- Channel map, APV (downstream Micromegas on source 501, GM02 on 511), as in 05_beamline.sql.
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 319),
  cabling(src_id, plane, detector, first_chip) AS (VALUES
    (501, 'MM03X', 'MM03', 0), (501, 'MM03Y', 'MM03', 3), (501, 'MM04X', 'MM04', 6), (501, 'MM04Y', 'MM04', 9),
    (511, 'GM02X', 'GM02', 0), (511, 'GM02Y', 'GM02', 2))
INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, plane, wire, ldc_id)
SELECT 1000, 4223, 'invisible_2016_2018', c.src_id, 0, c.first_chip + k.n / 128, k.n % 128, c.detector, c.plane, k.n, 1
FROM cabling AS c JOIN planes AS p ON p.name = c.plane AND p.setup = 'invisible_2016_2018'
JOIN k ON k.n < p.nchannels
ORDER BY c.src_id, c.plane, k.n;

-- Channel map, sampling ADC: ECAL on source 600 (port = section, channel = iy * 6 + ix), HCAL on
-- 601 (port = module, channel = iy * 3 + ix), SRD on 602 port 1 (channel = module), VETO on 602
-- port 2 (channel = iy * 2 + ix). ESTIMATE: cabling convention.
INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, module, ix, iy, section, ldc_id)
SELECT c.first_run, c.last_run, c.setup,
       CASE c.detector WHEN 'ECAL' THEN 600 WHEN 'HCAL' THEN 601 ELSE 602 END,
       CASE c.detector WHEN 'ECAL' THEN s.section WHEN 'HCAL' THEN c.module WHEN 'SRD' THEN 1 ELSE 2 END,
       0,
       CASE c.detector WHEN 'ECAL' THEN c.iy * 6 + c.ix WHEN 'HCAL' THEN c.iy * 3 + c.ix
                       WHEN 'SRD' THEN c.module ELSE c.iy * 2 + c.ix END,
       c.detector, c.module, c.ix, c.iy, s.section, 3
FROM calo_cells AS c JOIN calo_sections AS s ON s.detector = c.detector AND s.setup = c.setup
WHERE c.setup = 'invisible_2016_2018'
ORDER BY c.detector, s.section, c.module, c.iy, c.ix;

-- Nominal calibrations (ESTIMATES, to be replaced by `na64 calib straw` and calorimeter calibrations):
-- straw t0 = 40 ns cable delay + 0.5 ns per chip (4 chip groups); r(t) from t(r) = T (r/R)^1.3 with
-- T = 90 ns for 6 mm and 30 ns for 2 mm straws (Ar/CO2 70/30, slower drift far from the wire);
-- resolution 200 um (6 mm) and 100 um (2 mm).
INSERT INTO straw_t0 (first_run, last_run, setup, plane, wire, t0, comment)
SELECT w.first_run, w.last_run, w.setup, w.plane, w.wire, 40.0 + 0.5 * ((w.wire / 8) % 4), 'ESTIMATE: nominal'
FROM straw_wires AS w WHERE w.setup = 'invisible_2016_2018' ORDER BY w.plane, w.wire;

INSERT INTO straw_rt (first_run, last_run, setup, plane, points, sigma_r, comment)
SELECT p.first_run, p.last_run, p.setup, p.name,
       CASE WHEN p.pitch > 0.4
         THEN '[[0.00,0.000],[4.51,0.030],[11.11,0.060],[18.81,0.090],[27.35,0.120],[36.55,0.150],[46.33,0.180],[56.61,0.210],[67.34,0.240],[78.48,0.270],[90.00,0.300]]'
         ELSE '[[0.00,0.000],[1.50,0.010],[3.70,0.020],[6.27,0.030],[9.12,0.040],[12.18,0.050],[15.44,0.060],[18.87,0.070],[22.45,0.080],[26.16,0.090],[30.00,0.100]]'
       END,
       CASE WHEN p.pitch > 0.4 THEN 0.02 ELSE 0.01 END, 'ESTIMATE: nominal'
FROM planes AS p JOIN detectors AS d ON d.name = p.detector AND d.setup = p.setup
WHERE p.setup = 'invisible_2016_2018' AND d.kind = 'straw' ORDER BY p.name;

-- Calorimeter gains in GeV per ADC count (ESTIMATE: ~4000-count range covering the expected
-- deposits: pre-shower 8 GeV, ECAL main section 120 GeV, HCAL module 200 GeV, SRD 0.4 GeV,
-- VETO paddle 0.08 GeV) and MSADC pedestals around 150 counts.
INSERT INTO calo_calib (first_run, last_run, setup, detector, module, ix, iy, section, gain, ped_even, ped_odd, comment)
SELECT c.first_run, c.last_run, c.setup, c.detector, c.module, c.ix, c.iy, s.section,
       CASE c.detector WHEN 'ECAL' THEN (CASE s.section WHEN 0 THEN 0.002 ELSE 0.03 END)
                       WHEN 'HCAL' THEN 0.05 WHEN 'SRD' THEN 1.0e-4 ELSE 2.0e-5 END,
       150.0, 151.0, 'ESTIMATE: nominal'
FROM calo_cells AS c JOIN calo_sections AS s ON s.detector = c.detector AND s.setup = c.setup
WHERE c.setup = 'invisible_2016_2018'
ORDER BY c.detector, s.section, c.module, c.iy, c.ix;
