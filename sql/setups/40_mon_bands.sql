-- Expected bands of the online monitor's alarms per straw plane (table mon_bands, schema 6;
-- docs/monitor.md "Alarms"). A beam electron crosses both layers of a straw double layer and fires
-- one straw in each: ~2 hits per physics event (1.96-2.03 in `na64 sim configs/invisible_default.yaml`,
-- 20000 EOT). A dead layer halves that (1: the lower edge); more than 4 means showers or noise. The
-- plane efficiency (at least one of the two layers fires) is ~1 for straws of >= 95 % single-layer
-- efficiency; below 0.9 a chamber is failing. ESTIMATE: shift-crew choices, not published numbers.
INSERT INTO mon_bands (first_run, last_run, setup, plane, efficiency_min, efficiency_max, hits_min, hits_max, comment) VALUES
  (1000, 4223, 'invisible_2016_2018', 'ST01X', 0.9, 1.0, 1.0, 4.0, 'ESTIMATE: 2 hits per electron in a double layer'),
  (1000, 4223, 'invisible_2016_2018', 'ST01Y', 0.9, 1.0, 1.0, 4.0, 'ESTIMATE: 2 hits per electron in a double layer'),
  (1000, 4223, 'invisible_2016_2018', 'ST02X', 0.9, 1.0, 1.0, 4.0, 'ESTIMATE: 2 hits per electron in a double layer'),
  (1000, 4223, 'invisible_2016_2018', 'ST02Y', 0.9, 1.0, 1.0, 4.0, 'ESTIMATE: 2 hits per electron in a double layer');
