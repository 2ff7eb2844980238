-- na64 conditions database, schema version 3: electrons-on-target bookkeeping per run range and
-- indexes for the per-run look-ups (the IOV queries filter on setup and first_run, then sort by key).

ALTER TABLE run_info ADD COLUMN eot REAL;   -- electrons on target collected in the range (NULL: unknown)

CREATE INDEX run_info_iov ON run_info (first_run, last_run);
CREATE INDEX channel_map_iov ON channel_map (setup, first_run);
CREATE INDEX straw_wires_iov ON straw_wires (setup, plane, first_run);
CREATE INDEX straw_t0_iov ON straw_t0 (plane, first_run);
CREATE INDEX calo_calib_iov ON calo_calib (detector, first_run);
