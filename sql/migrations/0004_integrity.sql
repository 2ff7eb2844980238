-- na64 conditions database, schema version 4: the uniqueness and references the schema implies,
-- enforced where SQLite can, and a content checksum per table (docs/conditions.md, "Integrity").
--
-- 1. The UNIQUE (setup, ..., first_run) constraints of version 1 do not hold for records valid for
--    every setup: SQLite treats NULLs as distinct in UNIQUE constraints (sqlite.org/lang_createtable.html,
--    "UNIQUE constraints"), so two identical records with setup NULL were accepted. The indexes below
--    key on coalesce(setup, '') instead. The channel map gets the key it lacked: one DAQ channel
--    (src_id, port, chip, channel) per setup and first run.
-- 2. run_info ranges of different setups must not overlap (a run belongs to one setup): triggers.
-- 3. record_checksums holds, per table, the row count and a 64-bit FNV-1a digest of its content,
--    written by the library after every change it makes (src/cond/integrity.c) and verified by
--    `na64 cond validate`, so that a flipped byte or an edit outside na64 is found.
-- A database that already violates 1 or 2 fails this migration with SQLite's message naming the
-- index or trigger; fix the records (or rebuild from SQL) and migrate again.

CREATE UNIQUE INDEX materials_key ON materials (coalesce(setup, ''), name, first_run);
CREATE UNIQUE INDEX detectors_key ON detectors (coalesce(setup, ''), name, first_run);
CREATE UNIQUE INDEX planes_key ON planes (coalesce(setup, ''), name, first_run);
CREATE UNIQUE INDEX straw_layers_key ON straw_layers (coalesce(setup, ''), plane, layer, first_run);
CREATE UNIQUE INDEX straw_wires_key ON straw_wires (coalesce(setup, ''), plane, wire, first_run);
CREATE UNIQUE INDEX calo_sections_key ON calo_sections (coalesce(setup, ''), detector, section, first_run);
CREATE UNIQUE INDEX calo_cells_key ON calo_cells (coalesce(setup, ''), detector, module, ix, iy, first_run);
CREATE UNIQUE INDEX magnets_key ON magnets (coalesce(setup, ''), name, first_run);
CREATE UNIQUE INDEX channel_map_key ON channel_map (coalesce(setup, ''), src_id, port, chip, channel, first_run);

-- 2147483647 = INT_MAX stands for an open-ended range (last_run NULL).
CREATE TRIGGER run_info_no_overlap_insert BEFORE INSERT ON run_info
WHEN EXISTS (SELECT 1 FROM run_info r
             WHERE r.setup <> NEW.setup
               AND r.first_run <= coalesce(NEW.last_run, 2147483647)
               AND NEW.first_run <= coalesce(r.last_run, 2147483647))
BEGIN
  SELECT RAISE(ABORT, 'run_info: the run range overlaps a range of another setup');
END;

CREATE TRIGGER run_info_no_overlap_update BEFORE UPDATE OF first_run, last_run, setup ON run_info
WHEN EXISTS (SELECT 1 FROM run_info r
             WHERE r.id <> NEW.id AND r.setup <> NEW.setup
               AND r.first_run <= coalesce(NEW.last_run, 2147483647)
               AND NEW.first_run <= coalesce(r.last_run, 2147483647))
BEGIN
  SELECT RAISE(ABORT, 'run_info: the run range overlaps a range of another setup');
END;

CREATE TABLE record_checksums (
  name TEXT PRIMARY KEY,               -- table name
  nrows INTEGER NOT NULL,
  digest TEXT NOT NULL                 -- 16 hex digits, FNV-1a 64 of the rows in rowid order
) STRICT;
