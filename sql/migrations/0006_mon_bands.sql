-- na64 conditions database, schema version 6: the expected bands of the online monitor's alarms
-- (docs/monitor.md, "Alarms"). Per tracker plane and run range, the band of its efficiency (fraction
-- of physics events with at least one hit in the plane) and of its hits per physics event, judged by
-- `na64 monitor` over its rolling window; a plane outside its band is shown in alarm. A record applies
-- like every calibration (IOV rule of docs/conditions.md: the highest id among those valid for the
-- run wins); the monitor's --alarms YAML file overrides it.
CREATE TABLE mon_bands (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  plane TEXT NOT NULL,                 -- planes.name
  efficiency_min REAL NOT NULL CHECK (efficiency_min >= 0 AND efficiency_min <= 1),
  efficiency_max REAL NOT NULL CHECK (efficiency_max >= efficiency_min AND efficiency_max <= 1),
  hits_min REAL NOT NULL CHECK (hits_min >= 0),       -- hits of the plane per physics event
  hits_max REAL NOT NULL CHECK (hits_max >= hits_min),
  comment TEXT
) STRICT;
CREATE UNIQUE INDEX mon_bands_key ON mon_bands (coalesce(setup, ''), plane, first_run);
CREATE INDEX mon_bands_iov ON mon_bands (plane, first_run);
