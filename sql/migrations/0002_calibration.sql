-- na64 conditions database, schema version 2: channel maps and calibrations.
-- Same IOV rules as version 1 (see 0001_geometry.sql). These tables are append-only in practice: a
-- new calibration is a new row with its own IOV, which overrides older rows for the runs it covers.

-- DAQ channel -> detector element. (src_id, port, chip, channel) follows the payload codecs of
-- include/na64/daq.h: F1 TDC (straws) port 0..15, chip 0..7, channel 0..7; sampling ADC port
-- 0..15, chip 0, channel 0..63; APV port 0, chip 0..63, channel 0..127.
-- The target is either a tracker element (plane, wire) or a calorimeter readout
-- (detector, module, ix, iy, section).
CREATE TABLE channel_map (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  src_id INTEGER NOT NULL CHECK (src_id BETWEEN 0 AND 65535),
  port INTEGER NOT NULL CHECK (port >= 0),
  chip INTEGER NOT NULL CHECK (chip >= 0),
  channel INTEGER NOT NULL CHECK (channel >= 0),
  detector TEXT NOT NULL,
  plane TEXT,
  wire INTEGER,
  module INTEGER,
  ix INTEGER,
  iy INTEGER,
  section INTEGER,
  comment TEXT,
  CHECK ((plane IS NOT NULL AND wire IS NOT NULL AND module IS NULL AND ix IS NULL AND iy IS NULL
          AND section IS NULL)
      OR (plane IS NULL AND wire IS NULL AND module IS NOT NULL AND ix IS NOT NULL
          AND iy IS NOT NULL AND section IS NOT NULL))
) STRICT;

-- Straw t0: the time (ns, relative to the trigger) of a hit at zero drift distance on that wire.
CREATE TABLE straw_t0 (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  plane TEXT NOT NULL,
  wire INTEGER NOT NULL CHECK (wire >= 0),
  t0 REAL NOT NULL,                    -- ns
  comment TEXT
) STRICT;

-- Straw r(t) relation of a plane: points '[[t0, r0], [t1, r1], ...]' with t the drift time (ns,
-- after t0 subtraction), strictly increasing, and r the drift radius (cm), non-decreasing, from 0
-- up to at most the straw radius. sigma_r is the radius resolution (cm) used for hit errors.
CREATE TABLE straw_rt (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  plane TEXT NOT NULL,
  points TEXT NOT NULL,
  sigma_r REAL NOT NULL,               -- cm
  comment TEXT
) STRICT;

-- Calorimeter readout calibration: energy = gain * (amplitude - pedestal), with separate pedestals
-- of the even and odd samples of the interleaved sampling ADC.
CREATE TABLE calo_calib (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  detector TEXT NOT NULL,
  module INTEGER NOT NULL CHECK (module >= 0),
  ix INTEGER NOT NULL CHECK (ix >= 0),
  iy INTEGER NOT NULL CHECK (iy >= 0),
  section INTEGER NOT NULL CHECK (section >= 0),
  gain REAL NOT NULL,                  -- GeV per ADC count (peak amplitude above pedestal)
  ped_even REAL NOT NULL,              -- ADC counts
  ped_odd REAL NOT NULL,               -- ADC counts
  comment TEXT
) STRICT;
