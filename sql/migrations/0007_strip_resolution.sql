-- na64 conditions database, schema version 7: the response of the Micromegas and GEM planes that the
-- track fit needs (docs/reco.md §3, docs/conditions.md): per strip plane and run range, the spatial
-- resolution of its cluster centroid and its material in radiation lengths. A record applies like
-- every calibration (IOV rule of docs/conditions.md: the highest id among those valid for the run
-- wins); a plane without a record keeps the fit's defaults (0.3 x pitch; 0.15% X0 per Micromegas,
-- 0.35% per GEM plane). Each row says in `comment` where its numbers come from.
CREATE TABLE strip_resolution (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  plane TEXT NOT NULL,                 -- planes.name of a Micromegas or GEM plane
  sigma REAL NOT NULL CHECK (sigma > 0),   -- rms of the cluster centroid about the track, cm
  x_x0 REAL NOT NULL CHECK (x_x0 >= 0),    -- material of the plane, radiation lengths
  comment TEXT
) STRICT;
CREATE UNIQUE INDEX strip_resolution_key ON strip_resolution (coalesce(setup, ''), plane, first_run);
CREATE INDEX strip_resolution_iov ON strip_resolution (plane, first_run);
