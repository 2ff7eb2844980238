-- na64 conditions database, schema version 1: run information and the setup geometry.
--
-- Applied in order by the library (src/cond/cond.c) when a database is opened read-write; the
-- version reached is kept in PRAGMA user_version. Never edit a released migration: add a new one.
--
-- Conventions (docs/conditions.md):
--   * lengths in cm, angles in degrees, field integrals in T*m, energies in GeV, times in ns;
--   * z along the undeflected beam (z = 0 at the first beam counter S0), x horizontal in the
--     bending plane of the dipoles, y up; positions are the centres of volumes, in the lab frame;
--   * every record carries an interval of validity (IOV): it applies to run R when
--     first_run <= R <= last_run (last_run NULL = open ended) and, if setup is not NULL, when the
--     run belongs to that setup (run_info below); where several records with the same key apply,
--     the one with the highest id (the most recently inserted) wins;
--   * the tables are STRICT so that a value of the wrong type is rejected when inserted.
-- Values (finite, positive sizes, monotonic tables, wire counts) are validated by the library
-- on load and on import, with messages naming the table, row id and value.

-- The runs: which setup was installed, the beam, and bookkeeping.
CREATE TABLE run_info (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT NOT NULL,                 -- setup name the geometry records refer to
  mode TEXT NOT NULL CHECK (mode IN ('invisible', 'visible')),
  year INTEGER,
  beam_particle TEXT NOT NULL,         -- 'e-', 'e+', 'mu-', 'pi-'
  beam_energy REAL NOT NULL,           -- nominal beam energy, GeV
  comment TEXT
) STRICT;

-- Materials referenced by detectors and calorimeter sections (PDG "Atomic and nuclear properties").
CREATE TABLE materials (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  name TEXT NOT NULL,
  density REAL NOT NULL,               -- g/cm^3
  x0 REAL NOT NULL,                    -- radiation length, cm
  lambda_i REAL NOT NULL,              -- nuclear interaction length, cm
  comment TEXT,
  UNIQUE (setup, name, first_run)
) STRICT;

-- Detectors: one row per detector (a tracker station, a calorimeter, a counter, the decay volume),
-- with the envelope box used by the simulation and the event display.
CREATE TABLE detectors (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  name TEXT NOT NULL,                  -- COMPASS-style: ST01, MM01, GM01, ECAL, HCAL, SRD, VETO, WCAL, S0
  kind TEXT NOT NULL CHECK (kind IN ('straw', 'micromegas', 'gem', 'ecal', 'hcal', 'srd', 'veto',
                                     'wcal', 'counter', 'decay_volume')),
  x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,             -- centre, cm
  size_x REAL NOT NULL, size_y REAL NOT NULL, size_z REAL NOT NULL, -- full sizes, cm
  material TEXT,                       -- bulk material (NULL: described by sections or empty)
  comment TEXT,
  UNIQUE (setup, name, first_run)
) STRICT;

-- Tracking planes: the measured coordinate u runs along (cos angle, sin angle, 0); the wires or
-- strips run along (-sin angle, cos angle, 0). X planes have angle 0, Y planes 90.
CREATE TABLE planes (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  detector TEXT NOT NULL,              -- detectors.name
  name TEXT NOT NULL,                  -- ST01X, MM01Y, GM02X ...
  x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,  -- centre, cm
  angle_deg REAL NOT NULL,             -- direction of the measured coordinate, degrees from +x
  pitch REAL NOT NULL,                 -- strip pitch, or wire spacing within a straw layer, cm
  nchannels INTEGER NOT NULL,          -- strips, or wires of the whole straw double layer
  size_u REAL NOT NULL, size_v REAL NOT NULL, -- active area across and along the wires, cm
  comment TEXT,
  UNIQUE (setup, name, first_run)
) STRICT;

-- Straw layers of a straw plane (a double layer = layers 0 and 1). Nominal wire k of layer L sits at
-- u = (k - (nwires - 1) / 2) * pitch + stagger; the actual wire positions are in straw_wires.
CREATE TABLE straw_layers (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  plane TEXT NOT NULL,                 -- planes.name
  layer INTEGER NOT NULL CHECK (layer >= 0),
  nwires INTEGER NOT NULL,
  diameter REAL NOT NULL,              -- straw inner diameter, cm (0.2 or 0.6)
  pitch REAL NOT NULL,                 -- wire spacing within the layer, cm
  stagger REAL NOT NULL,               -- shift of this layer along u, cm
  dz REAL NOT NULL,                    -- z of the layer relative to the plane centre, cm
  comment TEXT,
  UNIQUE (setup, plane, layer, first_run)
) STRICT;

-- Every straw wire: channel number in the plane, layer, local coordinate u and layer z offset.
-- Channel numbering: wires 0..n0-1 are layer 0 (upstream), n0..n0+n1-1 layer 1.
CREATE TABLE straw_wires (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  plane TEXT NOT NULL,
  wire INTEGER NOT NULL CHECK (wire >= 0),
  layer INTEGER NOT NULL CHECK (layer >= 0),
  u REAL NOT NULL,                     -- wire position across the wires, relative to the plane centre, cm
  dz REAL NOT NULL,                    -- z relative to the plane centre, cm
  UNIQUE (setup, plane, wire, first_run)
) STRICT;

-- Longitudinal readout sections of calorimeters and counters (ECAL0 = pre-shower, ECAL1 = main;
-- WCAL0..2; one section for HCAL modules, SRD modules, VETO paddles and counters). A section of
-- nlayers layers of absorber + active material starts at z_offset from the front of its cells.
CREATE TABLE calo_sections (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  detector TEXT NOT NULL,
  section INTEGER NOT NULL CHECK (section >= 0),
  name TEXT NOT NULL,                  -- readout name: ECAL0, ECAL1, WCAL2 ...
  z_offset REAL NOT NULL,              -- start of the section behind the cell front face, cm
  length REAL NOT NULL,                -- cm
  nlayers INTEGER NOT NULL,
  absorber TEXT,                       -- materials.name (NULL: homogeneous active medium)
  absorber_thickness REAL NOT NULL,    -- per layer, cm (0 when absorber is NULL)
  active TEXT NOT NULL,                -- materials.name
  active_thickness REAL NOT NULL,      -- per layer, cm
  comment TEXT,
  UNIQUE (setup, detector, section, first_run)
) STRICT;

-- Calorimeter cells (and counter paddles): module, column ix, row iy; centre and full sizes.
CREATE TABLE calo_cells (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  detector TEXT NOT NULL,
  module INTEGER NOT NULL CHECK (module >= 0),
  ix INTEGER NOT NULL CHECK (ix >= 0),
  iy INTEGER NOT NULL CHECK (iy >= 0),
  x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,
  size_x REAL NOT NULL, size_y REAL NOT NULL, size_z REAL NOT NULL,
  UNIQUE (setup, detector, module, ix, iy, first_run)
) STRICT;

-- Dipole magnets: a box of uniform field B_y = field_integral / length.
CREATE TABLE magnets (
  id INTEGER PRIMARY KEY,
  first_run INTEGER NOT NULL CHECK (first_run >= 0),
  last_run INTEGER CHECK (last_run IS NULL OR last_run >= first_run),
  setup TEXT,
  name TEXT NOT NULL,
  x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,  -- centre, cm
  length REAL NOT NULL,                -- effective field length along z, cm
  field_integral REAL NOT NULL,        -- integral of B_y dz, T*m (sign: B along +y)
  aperture_x REAL NOT NULL, aperture_y REAL NOT NULL, -- full gap sizes, cm
  comment TEXT,
  UNIQUE (setup, name, first_run)
) STRICT;
