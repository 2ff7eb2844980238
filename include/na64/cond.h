/*
 * na64/cond.h — the conditions database: setup geometry, channel maps and calibrations, each record
 * with an interval of validity (IOV) in run numbers, stored in SQLite.
 *
 * Schema (sql/migrations/NNNN_*.sql, compiled into the library) is versioned with PRAGMA
 * user_version; opening a database read-write upgrades an older file in place, one migration per
 * transaction. The default database is built at build time from the SQL text of sql/setups/ (the
 * published NA64 setups with documented estimates) — see docs/conditions.md.
 *
 * IOV rule: a record applies to run R when first_run <= R <= last_run (last_run open =
 * NA64_COND_RUN_OPEN) and its setup is empty or equals the setup of R (table run_info). Where several
 * records with the same key apply, the one with the highest id (inserted last) wins, so a new
 * calibration with a narrower IOV overrides an older one for the runs it covers.
 *
 * Concurrency: the database is put in WAL mode when opened read-write, so any number of readers
 * (other handles, threads or processes) and one writer work at once; readers see a consistent
 * snapshot per call. A handle must not be used by two threads at the same time.
 *
 * Units: lengths cm, angles degrees in the records (radians in na64/geom.h), field integrals T*m,
 * energies GeV, times ns.
 */
#ifndef NA64_COND_H
#define NA64_COND_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "na64/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NA64_COND_RUN_OPEN INT_MAX  /* last_run of an open-ended IOV */
#define NA64_COND_ALL_RUNS (-1)     /* na64_cond_fetch: every record, no IOV selection */
#define NA64_COND_NAME_LEN 32       /* names (detector, plane, setup, material) are shorter */
#define NA64_COND_TEXT_LEN 128      /* comments are truncated to this in records */
#define NA64_COND_MAX_RT_POINTS 128 /* points of one r(t) table */
#define NA64_COND_ENV "NA64_CONDITIONS_DB" /* overrides the default database path */

/* Open flags. */
enum {
  NA64_COND_READONLY = 0,    /* read only; fails if the schema is older than the library's */
  NA64_COND_READWRITE = 1,   /* read-write, WAL mode, migrate an older schema in place */
  NA64_COND_CREATE = 2,      /* create the file if missing (implies READWRITE) */
  NA64_COND_NO_MIGRATE = 4   /* READWRITE without migrating (tools and tests of old files) */
};

typedef struct na64_cond na64_cond;

/* Latest schema version known to this library (the number of migrations). */
NA64_API int na64_cond_schema_version(void);

/* The default database: $NA64_CONDITIONS_DB if set and non-empty; otherwise
 * <libdir>/../share/na64/conditions.db relative to libna64 itself (installed tree, even relocated);
 * then the install data directory compiled in; then, for an uninstalled build only (a CMake build
 * tree, recognised by its CMakeCache.txt beside the library), the conditions.db built next to the
 * library. Writes the path into buf; NA64_ERANGE if it does not fit. */
NA64_API int na64_cond_default_path(char *buf, size_t len);

/* Open `path` (NULL: the default path). Errors name the path: missing file (without CREATE), not a
 * SQLite file, not an na64 conditions database, schema newer than the library, or older than the
 * library when read-only. */
NA64_API int na64_cond_open(const char *path, int flags, na64_cond **db, na64_err *err);
NA64_API void na64_cond_close(na64_cond *db);
NA64_API const char *na64_cond_path(const na64_cond *db);

/* PRAGMA user_version of the open file. */
NA64_API int na64_cond_user_version(na64_cond *db, int *version, na64_err *err);
/* Apply migrations up to `target` (<= na64_cond_schema_version(); 0 or less: the latest). */
NA64_API int na64_cond_migrate(na64_cond *db, int target, na64_err *err);

/* Run trusted SQL (several statements) in one transaction, without the import restrictions and
 * without validation. For tools and tests; errors name the line. */
NA64_API int na64_cond_exec(na64_cond *db, const char *sql, na64_err *err);

/* Import SQL text (as written by na64_cond_export, or by hand): plain INSERT ... VALUES statements
 * of literal rows only (numbers, 'text', X'blob', NULL; no WITH, SELECT, subquery or function, so
 * the work is bounded by the text's size), executed in one transaction, then the whole database is
 * validated. Anything wrong — syntax, a type that does not fit a STRICT column, a constraint, a
 * statement that is not such an INSERT, an INSERT OR REPLACE that would overwrite a record, a NUL
 * byte, a record that fails validation — rejects the WHOLE import with "name:line: reason" and
 * leaves the database unchanged. `name` names the text in messages (may be NULL). */
NA64_API int na64_cond_import(na64_cond *db, const char *text, size_t len, const char *name, na64_err *err);
NA64_API int na64_cond_import_file(na64_cond *db, const char *path, na64_err *err);

/* Export every record of every table as INSERT statements (ordered by table, then id), preceded
 * by a header naming the schema version. Importing the text into an empty database of the same
 * schema reproduces the records exactly (reals are written with 17 significant digits).
 * na64_cond_export_file writes through na64_outfile (na64/io.h): a regular file is replaced only by
 * a complete export, a symbolic link is followed, a FIFO or device is written through and never
 * replaced; write errors name the path and the system's reason. */
NA64_API int na64_cond_export(na64_cond *db, FILE *out, na64_err *err);
NA64_API int na64_cond_export_file(na64_cond *db, const char *path, na64_err *err);

/* Check every record (finite numbers, positive sizes, monotonic r(t), names) and, for each run range
 * of run_info and each IOV boundary inside it, the consistency of the records valid together (wire
 * lists matching channel counts, channel-map targets that exist, complete cell grids, referenced
 * materials). Errors name the table, row id and value. */
NA64_API int na64_cond_validate(na64_cond *db, na64_err *err);

/* Build a fresh database at `out_path` from SQL files imported in order (migrations first), validate
 * it, compact it and switch it to a single-file journal so it can be installed read-only. The file
 * is written under a temporary name beside it and renamed at the end: a failed build leaves the old
 * file (or none). An existing out_path is refused (NA64_EINVAL, "exists") unless flags has
 * NA64_COND_BUILD_FORCE; a FIFO or device is always refused. */
enum { NA64_COND_BUILD_FORCE = 1 };
NA64_API int na64_cond_build(const char *out_path, const char *const *sql_files, int nfiles, int flags, na64_err *err);

/* ---------------------------------------------------------------------------------------------
 * Records. Every record starts with its IOV; text columns are NUL-terminated ("" for NULL).
 * ------------------------------------------------------------------------------------------- */

typedef struct na64_cond_iov {
  int64_t id;                     /* row id: higher = inserted later = wins */
  int first_run, last_run;        /* last_run == NA64_COND_RUN_OPEN when open-ended */
  char setup[NA64_COND_NAME_LEN]; /* "" = every setup (run_info: the setup of the runs) */
} na64_cond_iov;

typedef struct na64_cond_run_info {
  na64_cond_iov iov;
  char mode[16];          /* "invisible" or "visible" */
  int year;               /* 0 if unknown */
  char beam_particle[16]; /* "e-" */
  double beam_energy;     /* GeV */
  double eot;             /* electrons on target in the range; NaN if unknown */
  char comment[NA64_COND_TEXT_LEN];
} na64_cond_run_info;

typedef struct na64_cond_material {
  na64_cond_iov iov;
  char name[NA64_COND_NAME_LEN];
  double density;  /* g/cm^3 */
  double x0;       /* cm */
  double lambda_i; /* cm */
} na64_cond_material;

typedef struct na64_cond_detector {
  na64_cond_iov iov;
  char name[NA64_COND_NAME_LEN];
  char kind[16]; /* straw micromegas gem ecal hcal srd veto wcal counter decay_volume */
  double x, y, z;
  double size_x, size_y, size_z;
  char material[NA64_COND_NAME_LEN];
  char comment[NA64_COND_TEXT_LEN];
} na64_cond_detector;

typedef struct na64_cond_plane {
  na64_cond_iov iov;
  char detector[NA64_COND_NAME_LEN];
  char name[NA64_COND_NAME_LEN];
  double x, y, z;
  double angle_deg;
  double pitch;
  int nchannels;
  double size_u, size_v;
} na64_cond_plane;

typedef struct na64_cond_straw_layer {
  na64_cond_iov iov;
  char plane[NA64_COND_NAME_LEN];
  int layer, nwires;
  double diameter, pitch, stagger, dz;
} na64_cond_straw_layer;

typedef struct na64_cond_straw_wire {
  na64_cond_iov iov;
  char plane[NA64_COND_NAME_LEN];
  int wire, layer;
  double u, dz;
} na64_cond_straw_wire;

typedef struct na64_cond_calo_section {
  na64_cond_iov iov;
  char detector[NA64_COND_NAME_LEN];
  int section;
  char name[NA64_COND_NAME_LEN];
  double z_offset, length;
  int nlayers;
  char absorber[NA64_COND_NAME_LEN]; /* "" = homogeneous */
  double absorber_thickness;
  char active[NA64_COND_NAME_LEN];
  double active_thickness;
} na64_cond_calo_section;

typedef struct na64_cond_calo_cell {
  na64_cond_iov iov;
  char detector[NA64_COND_NAME_LEN];
  int module, ix, iy;
  double x, y, z;
  double size_x, size_y, size_z;
} na64_cond_calo_cell;

typedef struct na64_cond_magnet {
  na64_cond_iov iov;
  char name[NA64_COND_NAME_LEN];
  double x, y, z;
  double length;          /* cm */
  double field_integral;  /* T*m, B along +y */
  double aperture_x, aperture_y;
} na64_cond_magnet;

/* A channel-map record: tracker target when plane[0] != '\0' (wire), else calorimeter target
 * (module, ix, iy, section); the unused integers are -1. */
typedef struct na64_cond_channel {
  na64_cond_iov iov;
  int src_id, port, chip, channel;
  char detector[NA64_COND_NAME_LEN];
  char plane[NA64_COND_NAME_LEN];
  int wire;
  int module, ix, iy, section;
  int ldc_id; /* the DATE LDC that reads src_id (schema 4; -1 if not recorded) */
} na64_cond_channel;

typedef struct na64_cond_straw_t0 {
  na64_cond_iov iov;
  char plane[NA64_COND_NAME_LEN];
  int wire;
  double t0; /* ns */
} na64_cond_straw_t0;

typedef struct na64_cond_straw_rt {
  na64_cond_iov iov;
  char plane[NA64_COND_NAME_LEN];
  int npoints;
  double t[NA64_COND_MAX_RT_POINTS]; /* drift time, ns, strictly increasing */
  double r[NA64_COND_MAX_RT_POINTS]; /* drift radius, cm, non-decreasing, >= 0 */
  double sigma_r;                    /* cm */
} na64_cond_straw_rt;

typedef struct na64_cond_calo_calib {
  na64_cond_iov iov;
  char detector[NA64_COND_NAME_LEN];
  int module, ix, iy, section;
  double gain;              /* GeV per ADC count */
  double ped_even, ped_odd; /* ADC counts */
} na64_cond_calo_calib;

/* Expected band of a tracker plane for the online monitor's alarms (schema 6, docs/monitor.md). */
typedef struct na64_cond_mon_band {
  na64_cond_iov iov;
  char plane[NA64_COND_NAME_LEN];
  double efficiency_min, efficiency_max; /* fraction of physics events with a hit in the plane */
  double hits_min, hits_max;             /* hits of the plane per physics event */
} na64_cond_mon_band;

/* Response of a Micromegas or GEM plane for the track fit (schema 7, docs/reco.md §3). */
typedef struct na64_cond_strip_resolution {
  na64_cond_iov iov;
  char plane[NA64_COND_NAME_LEN];
  double sigma; /* rms of the cluster centroid about the track, cm */
  double x_x0;  /* material of the plane, radiation lengths */
} na64_cond_strip_resolution;

/* Every record valid for one run (or all records with NA64_COND_ALL_RUNS), each table sorted by its
 * key (ordered by id for ALL_RUNS). */
typedef struct na64_cond_records {
  int run;                  /* NA64_COND_ALL_RUNS or the run */
  na64_cond_run_info *runs; size_t nruns; /* one record for a run */
  na64_cond_material *materials; size_t nmaterials;
  na64_cond_detector *detectors; size_t ndetectors;
  na64_cond_plane *planes; size_t nplanes;
  na64_cond_straw_layer *straw_layers; size_t nstraw_layers;
  na64_cond_straw_wire *straw_wires; size_t nstraw_wires;
  na64_cond_calo_section *calo_sections; size_t ncalo_sections;
  na64_cond_calo_cell *calo_cells; size_t ncalo_cells;
  na64_cond_magnet *magnets; size_t nmagnets;
  na64_cond_channel *channels; size_t nchannels;
  na64_cond_straw_t0 *straw_t0; size_t nstraw_t0;
  na64_cond_straw_rt *straw_rt; size_t nstraw_rt;
  na64_cond_calo_calib *calo_calib; size_t ncalo_calib;
  na64_cond_mon_band *mon_bands; size_t nmon_bands;
  na64_cond_strip_resolution *strip_res; size_t nstrip_res;
} na64_cond_records;

/* Fetch (one read transaction) and validate the records valid for `run`, or every record for
 * NA64_COND_ALL_RUNS (row checks only). NA64_ENOTFOUND if no run_info record covers the run. */
NA64_API int na64_cond_fetch(na64_cond *db, int run, na64_cond_records **out, na64_err *err);
NA64_API void na64_cond_records_free(na64_cond_records *r);

/* The run_info record valid for `run` (NA64_ENOTFOUND, with the known ranges, if none). */
NA64_API int na64_cond_get_run_info(na64_cond *db, int run, na64_cond_run_info *info, na64_err *err);

/* ---------------------------------------------------------------------------------------------
 * New calibrations (one transaction each; the arguments are validated first, nothing is written
 * if they are bad). last_run may be NA64_COND_RUN_OPEN. The records are valid for every setup.
 * ------------------------------------------------------------------------------------------- */

/* Straw calibration of one plane: t0[w] (ns) for wires w = 0..nwires-1 (NaN entries are skipped;
 * t0 may be NULL), and the r(t) table (npoints >= 2 points, t strictly increasing in ns, r
 * non-decreasing in cm; npoints = 0: no r(t) record) with its radius resolution sigma_r (cm). */
NA64_API int na64_cond_insert_straw_calib(na64_cond *db, int first_run, int last_run, const char *plane,
                                 int nwires, const double *t0, int npoints, const double *t,
                                 const double *r, double sigma_r, const char *comment, na64_err *err);

/* Calorimeter calibrations: n records (their iov field is ignored). */
NA64_API int na64_cond_insert_calo_calib(na64_cond *db, int first_run, int last_run, size_t n,
                                const na64_cond_calo_calib *rows, const char *comment, na64_err *err);

#ifdef __cplusplus
}
#endif
#endif /* NA64_COND_H */
