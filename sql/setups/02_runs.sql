-- Run ranges, setups and beams.
--
-- Published (../shared/refdata/na64-published-numbers.md):
--   * visible 2018: runs 4224-4309 at 150 GeV (NA64 analysis code, NominalBeamEnergy = 150);
--   * EOT: invisible 2016 4.3e10 (PRD 97 072002); invisible 2016-2018 total 2.84e11 (PRL 123 121801);
--     visible 2017 5.4e10 (PRL 120 231802); visible 2017 + 2018 8.4e10 (PRD 101 071101), hence
--     visible 2018 = 8.4e10 - 5.4e10 = 3.0e10.
-- ESTIMATES (documented in docs/conditions.md):
--   * the run ranges other than 4224-4309: NA64 run numbers grow by a few hundred to a thousand per
--     year; 2016 is taken as 1000-2399, the 2017 invisible period as 2400-2799 followed by the 2017
--     visible period 2800-3199, and the 2018 invisible period as 3200-4223, just before the visible
--     runs. Runs outside these ranges have no setup.
--   * the split of the 2017+2018 invisible EOT (2.84e11 - 4.3e10 = 2.41e11) between the two years is
--     not published here: it is split in proportion to the number of runs (400 : 1024), which keeps
--     the published total exact.
INSERT INTO run_info (first_run, last_run, setup, mode, year, beam_particle, beam_energy, eot, comment) VALUES
  (1000, 2399, 'invisible_2016_2018', 'invisible', 2016, 'e-', 100.0, 4.3e10,
   'ESTIMATE run range; EOT published (PRD 97 072002)'),
  (2400, 2799, 'invisible_2016_2018', 'invisible', 2017, 'e-', 100.0, 6.77e10,
   'ESTIMATE run range; EOT ESTIMATE: 2.41e11 * 400/1424'),
  (2800, 3199, 'visible_2017', 'visible', 2017, 'e-', 100.0, 5.4e10,
   'ESTIMATE run range; EOT published (PRL 120 231802)'),
  (3200, 4223, 'invisible_2016_2018', 'invisible', 2018, 'e-', 100.0, 1.733e11,
   'ESTIMATE run range; EOT ESTIMATE: 2.41e11 * 1024/1424'),
  (4224, 4309, 'visible_2018', 'visible', 2018, 'e-', 150.0, 3.0e10,
   'run range and 150 GeV from the NA64 analysis code; EOT = 8.4e10 - 5.4e10 (PRD 101 071101)');
