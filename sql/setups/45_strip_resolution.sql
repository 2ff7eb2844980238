-- Resolution and material of every Micromegas and GEM plane for the track fit (table strip_resolution,
-- schema 7; docs/reco.md §3, docs/validation.md "Micromegas/GEM resolution (mmres)"), one row per plane
-- record with the plane's own run range and setup.
--
-- sigma: the rms of the cluster centroid about the track that the strip response of the simulation
-- gives (src/sim/fast_digi.c strip_response_setup; docs/simulation.md "Strip response (mmres)"):
-- transverse diffusion D_T = 0.022 cm/sqrt(cm) in Ar/CO2 70/30, n_T = 95 electrons/cm (PDG RPP 2024
-- Table 35.5), Polya gain theta = 0.5, the delta electron of the Landau excess (Kanaya-Okayama range),
-- APV noise 5 counts against a most probable cluster charge of 400, zero suppression at 3 sigma;
-- computed by the model's Monte Carlo of tests/sim/test_strip_resolution.c (1e5 crossings), which
-- also checks the simulated clusters against it.
--   * Micromegas (250 um pitch, 5 mm drift gap, resistive spread 0.28 mm): 27.5 um. ESTIMATE: the NA64
--     Micromegas resolution (Banerjee et al., NIM A 881 (2018) 72) could not be read here.
--   * GEM (400 um pitch, COMPASS triple GEM: 3 mm drift, 6 mm transfer + induction): 47 um. The
--     COMPASS triple GEMs of the same pitch measured 46 +- 3 um for minimum-ionising particles
--     (B. Ketzer et al., "Triple GEM tracking detectors for COMPASS", IEEE TNS 49 (2002) 2403).
-- x_x0: the material the simulation scatters in (fast_digi.c MS_X0_MICROMEGAS, MS_X0_GEM; ESTIMATES):
-- 0.3% X0 per Micromegas plane, 0.4% per GEM plane.
INSERT INTO strip_resolution (first_run, last_run, setup, plane, sigma, x_x0, comment)
SELECT p.first_run, p.last_run, p.setup, p.name,
       CASE d.kind WHEN 'micromegas' THEN 0.00275 ELSE 0.0047 END,
       CASE d.kind WHEN 'micromegas' THEN 0.003 ELSE 0.004 END,
       CASE d.kind WHEN 'micromegas' THEN 'ESTIMATE: strip response model (diffusion, Polya, delta electrons, noise)'
            ELSE 'model; COMPASS triple GEM 46 +- 3 um (Ketzer et al., IEEE TNS 49 (2002) 2403)' END
FROM planes AS p JOIN detectors AS d ON d.name = p.detector AND d.setup IS p.setup AND d.first_run = p.first_run
WHERE d.kind IN ('micromegas', 'gem')
ORDER BY p.id;
