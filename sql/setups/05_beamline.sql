-- The upstream beam line shared by the three setups: beam counters, upstream trackers and the two
-- MBPL dipoles. setup = NULL makes these records valid for every setup within runs 1000-4309.
--
-- Published: two successive dipoles with a total field integral of ~7 T*m (refdata section 4);
-- Micromegas and GEM trackers upstream of the magnets measure the incoming electron.
-- ESTIMATES (docs/conditions.md, "Geometry estimates"):
--   * z = 0 at the beam counter S0; S1 at 150 cm; Micromegas MM01 at 100 cm and MM02 at 250 cm, GEM
--     GM01 at 400 cm: a lever arm of ~3 m in front of the magnets, as in the published layout
--     sketches; X and Y planes of a chamber 1 cm apart.
--   * Micromegas: 8 x 8 cm2, 320 strips of 250 um pitch (read without multiplexing here).
--   * GEM: 10.24 x 10.24 cm2, 256 strips of 400 um pitch (COMPASS GEM strip pitch).
--   * MBPL dipoles: 200 cm long each, centres at z = 650 and 900 cm, 3.5 T*m each (half of the
--     published 7 T*m), gap 40 cm (x) by 8 cm (y). The field along +y bends electrons towards +x.
--   * Counters: scintillator, S0 4 x 4 x 0.5 cm, S1 4 x 4 x 0.3 cm.

INSERT INTO detectors (first_run, last_run, setup, name, kind, x, y, z, size_x, size_y, size_z, material, comment) VALUES
  (1000, 4309, NULL, 'S0',   'counter',    0.0, 0.0,   0.0,  4.0,   4.0,  0.5, 'Sc', 'ESTIMATE: beam counter, defines z = 0'),
  (1000, 4309, NULL, 'MM01', 'micromegas', 0.0, 0.0, 100.5,  8.0,   8.0,  1.0, 'ArCO2', 'ESTIMATE: position and size'),
  (1000, 4309, NULL, 'S1',   'counter',    0.0, 0.0, 150.0,  4.0,   4.0,  0.3, 'Sc', 'ESTIMATE: beam counter'),
  (1000, 4309, NULL, 'MM02', 'micromegas', 0.0, 0.0, 250.5,  8.0,   8.0,  1.0, 'ArCO2', 'ESTIMATE: position and size'),
  (1000, 4309, NULL, 'GM01', 'gem',        0.0, 0.0, 400.5, 10.24, 10.24, 1.0, 'ArCO2', 'ESTIMATE: position and size');

INSERT INTO planes (first_run, last_run, setup, detector, name, x, y, z, angle_deg, pitch, nchannels, size_u, size_v, comment) VALUES
  (1000, 4309, NULL, 'MM01', 'MM01X', 0.0, 0.0, 100.0,  0.0, 0.025, 320,  8.0,   8.0,  'ESTIMATE'),
  (1000, 4309, NULL, 'MM01', 'MM01Y', 0.0, 0.0, 101.0, 90.0, 0.025, 320,  8.0,   8.0,  'ESTIMATE'),
  (1000, 4309, NULL, 'MM02', 'MM02X', 0.0, 0.0, 250.0,  0.0, 0.025, 320,  8.0,   8.0,  'ESTIMATE'),
  (1000, 4309, NULL, 'MM02', 'MM02Y', 0.0, 0.0, 251.0, 90.0, 0.025, 320,  8.0,   8.0,  'ESTIMATE'),
  (1000, 4309, NULL, 'GM01', 'GM01X', 0.0, 0.0, 400.0,  0.0, 0.04,  256, 10.24, 10.24, 'ESTIMATE'),
  (1000, 4309, NULL, 'GM01', 'GM01Y', 0.0, 0.0, 401.0, 90.0, 0.04,  256, 10.24, 10.24, 'ESTIMATE');

INSERT INTO calo_sections (first_run, last_run, setup, detector, section, name, z_offset, length, nlayers,
                           absorber, absorber_thickness, active, active_thickness, comment) VALUES
  (1000, 4309, NULL, 'S0', 0, 'S0', 0.0, 0.5, 1, NULL, 0.0, 'Sc', 0.5, 'ESTIMATE'),
  (1000, 4309, NULL, 'S1', 0, 'S1', 0.0, 0.3, 1, NULL, 0.0, 'Sc', 0.3, 'ESTIMATE');

INSERT INTO calo_cells (first_run, last_run, setup, detector, module, ix, iy, x, y, z, size_x, size_y, size_z) VALUES
  (1000, 4309, NULL, 'S0', 0, 0, 0, 0.0, 0.0,   0.0, 4.0, 4.0, 0.5),
  (1000, 4309, NULL, 'S1', 0, 0, 0, 0.0, 0.0, 150.0, 4.0, 4.0, 0.3);

INSERT INTO magnets (first_run, last_run, setup, name, x, y, z, length, field_integral, aperture_x, aperture_y, comment) VALUES
  (1000, 4309, NULL, 'MBPL1', 0.0, 0.0, 650.0, 200.0, 3.5, 40.0, 8.0, 'ESTIMATE: position, length, gap; half of the published ~7 T*m'),
  (1000, 4309, NULL, 'MBPL2', 0.0, 0.0, 900.0, 200.0, 3.5, 40.0, 8.0, 'ESTIMATE: position, length, gap; half of the published ~7 T*m');

-- ldc_id (schema 4): the DATE LDC that reads the source. ESTIMATE, this project's grouping of one LDC
-- per crate group (docs/raw-format.md §3): LDC 1 the APV trackers (sources 5xx), LDC 2 the straw F1
-- TDCs (4xx), LDC 3 the sampling ADCs of calorimeters and counters (6xx).
-- Channel map, APV (Micromegas, GEM): source 500 for the upstream Micromegas, 510 for GM01.
-- Strip s of a plane is APV chip (first_chip + s / 128), channel s % 128 (ESTIMATE: source ids and
-- the cabling order are this project's convention, see docs/conditions.md).
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 319),
  cabling(src_id, plane, detector, first_chip) AS (VALUES
    (500, 'MM01X', 'MM01', 0), (500, 'MM01Y', 'MM01', 3), (500, 'MM02X', 'MM02', 6), (500, 'MM02Y', 'MM02', 9),
    (510, 'GM01X', 'GM01', 0), (510, 'GM01Y', 'GM01', 2))
INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, plane, wire, ldc_id)
SELECT 1000, 4309, NULL, c.src_id, 0, c.first_chip + k.n / 128, k.n % 128, c.detector, c.plane, k.n, 1
FROM cabling AS c JOIN planes AS p ON p.name = c.plane AND p.setup IS NULL AND p.first_run = 1000
JOIN k ON k.n < p.nchannels
ORDER BY c.src_id, c.plane, k.n;

-- Channel map, sampling ADC: the counters are on source 602, port 0 (S0 channel 0, S1 channel 1).
INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, module, ix, iy, section, ldc_id) VALUES
  (1000, 4309, NULL, 602, 0, 0, 0, 'S0', 0, 0, 0, 0, 3),
  (1000, 4309, NULL, 602, 0, 0, 1, 'S1', 0, 0, 0, 0, 3);

-- Nominal counter calibration (ESTIMATE: a MIP in 0.3-0.5 cm of scintillator, ~0.6-1 MeV, at ~100
-- ADC counts; pedestals of an MSADC around 150 counts).
INSERT INTO calo_calib (first_run, last_run, setup, detector, module, ix, iy, section, gain, ped_even, ped_odd, comment) VALUES
  (1000, 4309, NULL, 'S0', 0, 0, 0, 0, 1.0e-5, 150.0, 151.0, 'ESTIMATE: nominal'),
  (1000, 4309, NULL, 'S1', 0, 0, 0, 0, 0.6e-5, 150.0, 151.0, 'ESTIMATE: nominal');
