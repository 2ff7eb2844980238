/*
 * na64/geom.h — the setup valid for one run, in memory: detectors, tracking planes with every
 * wire/strip in global coordinates, calorimeter cells and their readout sections, magnets,
 * materials, the beam, the calibrations valid for the run, and the DAQ channel map.
 *
 * Loaded in one call from the conditions database (na64/cond.h), validated there, then read-only:
 * a loaded na64_geom may be shared by any number of threads.
 *
 * Frame: z along the undeflected beam (z = 0 at the first beam counter), x horizontal in the
 * bending plane (a positive field integral bends electrons towards +x), y up. Units: cm, radians,
 * GeV, ns, tesla and T*m for fields.
 *
 * Channel map: na64_geom_chan_lookup turns a decoded (source id, port, chip, channel) into its
 * plane and wire, or calorimeter cell and section, with a few array reads (dense tables per DAQ
 * source built at load time), so it can run on every hit of a GB/s decoder.
 */
#ifndef NA64_GEOM_H
#define NA64_GEOM_H

#include <stddef.h>
#include <stdint.h>

#include "na64/cond.h"
#include "na64/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NA64_GEOM_NAME_LEN NA64_COND_NAME_LEN
#define NA64_GEOM_MAX_SECTIONS 4
#define NA64_GEOM_NO_KEY UINT64_MAX /* a wire or readout without a DAQ channel */

typedef enum na64_det_kind {
  NA64_DET_STRAW = 0,
  NA64_DET_MICROMEGAS,
  NA64_DET_GEM,
  NA64_DET_ECAL,
  NA64_DET_HCAL,
  NA64_DET_SRD,
  NA64_DET_VETO,
  NA64_DET_WCAL,
  NA64_DET_COUNTER,
  NA64_DET_DECAY_VOLUME,
  NA64_DET_NKINDS
} na64_det_kind;
/* "straw", "micromegas", ... as stored in the database; "unknown" outside the enum. */
NA64_API const char *na64_geom_kind_name(int kind);

typedef struct na64_geom_material {
  char name[NA64_GEOM_NAME_LEN];
  double density;  /* g/cm^3 */
  double x0;       /* radiation length, cm */
  double lambda_i; /* nuclear interaction length, cm */
} na64_geom_material;

/* Longitudinal readout section of a calorimeter (ECAL0 = pre-shower, ECAL1 = main, ...). */
typedef struct na64_geom_section {
  char name[NA64_GEOM_NAME_LEN];
  double z_offset, length; /* from the front face of the cells, cm */
  int nlayers;
  int absorber, active;    /* indices in g->materials; absorber -1 for a homogeneous section */
  double absorber_thickness, active_thickness; /* per layer, cm */
  double depth_x0;         /* nlayers * (t_abs / X0_abs + t_act / X0_act): radiation lengths */
  double depth_lambda;     /* the same in nuclear interaction lengths */
} na64_geom_section;

typedef struct na64_geom_detector {
  char name[NA64_GEOM_NAME_LEN];
  int kind;                /* na64_det_kind */
  double centre[3], size[3];
  int material;            /* index in g->materials, -1 if none */
  int nplanes;             /* planes whose `detector` is this one */
  int first_cell, ncells;  /* cells g->cells[first_cell .. first_cell + ncells) */
  int nmodules, nx, ny;    /* cell grid: cell (m, ix, iy) = first_cell + (m * ny + iy) * nx + ix */
  int nsections;
  na64_geom_section sections[NA64_GEOM_MAX_SECTIONS];
  int64_t id;              /* conditions record id */
} na64_geom_detector;

/* One straw wire or strip. */
typedef struct na64_geom_wire {
  double u;        /* across the wires, relative to the plane centre, cm */
  double pos[3];   /* global position of the wire (strip) centre, cm */
  int layer;       /* straw layer (0 upstream); 0 for strips */
} na64_geom_wire;

typedef struct na64_geom_plane {
  char name[NA64_GEOM_NAME_LEN];
  int detector;            /* index in g->detectors */
  int kind;                /* of the detector: straw, micromegas or gem */
  double centre[3];
  double angle;            /* direction of the measured coordinate u from +x, radians */
  double u_dir[3];         /* (cos angle, sin angle, 0) */
  double w_dir[3];         /* along the wires: (-sin angle, cos angle, 0) */
  double pitch;            /* strip pitch or wire spacing in a straw layer, cm */
  double size_u, size_v;   /* active area, cm */
  double diameter;         /* straw diameter (cm); 0 for strip planes */
  int nwires;
  na64_geom_wire *wires;
  uint64_t *daq_key;       /* per wire: packed DAQ channel (na64_geom_key_*) or NA64_GEOM_NO_KEY */
  /* calibration valid for the run (straws) */
  double *t0;              /* per wire, ns (0 where none is recorded) */
  int nt0;                 /* wires with a t0 record */
  int rt_n;                /* points of the r(t) table; 0: none */
  double *rt_t, *rt_r;     /* drift time (ns) -> radius (cm) */
  double sigma_r;          /* radius resolution, cm (0 if no r(t) record) */
  /* response of a strip plane for the track fit (table strip_resolution, schema 7) */
  int has_response;        /* 1 if a strip_resolution record is valid for the run */
  double sigma_u;          /* cluster centroid resolution, cm (0 if none) */
  double x_x0;             /* material, radiation lengths (0 if none) */
  int64_t id;
} na64_geom_plane;

typedef struct na64_geom_cell {
  int detector;            /* index in g->detectors */
  int module, ix, iy;
  double centre[3], size[3];
  /* per readout section: calibration valid for the run and the DAQ channel */
  int has_calib[NA64_GEOM_MAX_SECTIONS];
  double gain[NA64_GEOM_MAX_SECTIONS];     /* GeV per ADC count */
  double ped_even[NA64_GEOM_MAX_SECTIONS]; /* ADC counts */
  double ped_odd[NA64_GEOM_MAX_SECTIONS];
  uint64_t daq_key[NA64_GEOM_MAX_SECTIONS];
  int64_t id;
} na64_geom_cell;

typedef struct na64_geom_magnet {
  char name[NA64_GEOM_NAME_LEN];
  double centre[3];
  double length;           /* cm */
  double field_integral;   /* T*m, B along +y */
  double field;            /* B_y = field_integral / length, T */
  double aperture[2];      /* full gap in x and y, cm */
} na64_geom_magnet;

/* Channel-map entry: plane >= 0 for a tracker wire, cell >= 0 for a calorimeter readout. */
typedef struct na64_geom_chan {
  int32_t plane, wire;
  int32_t cell, section;
} na64_geom_chan;

typedef struct na64_geom_chansrc {
  uint32_t src_id;
  uint32_t nport, nchip, nchan; /* dense table dimensions (max + 1 of the mapped values) */
  size_t offset;                /* first entry in chanmap.entries */
} na64_geom_chansrc;

typedef struct na64_geom_chanmap {
  uint16_t *slot;          /* [65536]: 0 = unknown source, else 1 + index in src */
  na64_geom_chansrc *src;
  int nsrc;
  na64_geom_chan *entries; /* unmapped entries have plane = cell = -1 */
  size_t nentries;
  size_t nmapped;          /* channel-map records loaded */
} na64_geom_chanmap;

typedef struct na64_geom {
  int run;
  char setup[NA64_GEOM_NAME_LEN];
  char mode[16];           /* "invisible" or "visible" */
  int year;
  char beam_particle[16];
  double beam_energy;      /* GeV */
  double eot;              /* electrons on target of the run range (NaN if unknown) */
  int first_run, last_run; /* run range of the run_info record */
  int ndetectors;
  na64_geom_detector *detectors; /* sorted by z */
  int nplanes;
  na64_geom_plane *planes;       /* sorted by z */
  int ncells;
  na64_geom_cell *cells;         /* grouped by detector, then module, iy, ix */
  int nmagnets;
  na64_geom_magnet *magnets;     /* sorted by z */
  int nmaterials;
  na64_geom_material *materials;
  na64_geom_chanmap chanmap;
} na64_geom;

/* Load everything valid for `run` (one read transaction). Errors: NA64_ENOTFOUND if no setup covers
 * the run; NA64_EFORMAT naming the table, row id and value of a record that fails validation. */
NA64_API int na64_geom_load(na64_cond *db, int run, na64_geom **out, na64_err *err);
/* The same from a database path (NULL: the default database), opened read-only for the call. */
NA64_API int na64_geom_load_path(const char *path, int run, na64_geom **out, na64_err *err);
NA64_API void na64_geom_free(na64_geom *g);

NA64_API const na64_geom_detector *na64_geom_find_detector(const na64_geom *g, const char *name);
NA64_API const na64_geom_plane *na64_geom_find_plane(const na64_geom *g, const char *name);
NA64_API int na64_geom_plane_index(const na64_geom *g, const char *name); /* -1 if absent */
NA64_API const na64_geom_magnet *na64_geom_find_magnet(const na64_geom *g, const char *name);
NA64_API const na64_geom_material *na64_geom_find_material(const na64_geom *g, const char *name);
/* Cell (module, ix, iy) of a calorimeter or counter (module 0 for single-module detectors). */
NA64_API const na64_geom_cell *na64_geom_find_cell(const na64_geom *g, const char *detector, int module, int ix, int iy);
/* The cell of `detector` (any module) whose transverse extent contains (x, y); NULL if none. */
NA64_API const na64_geom_cell *na64_geom_cell_at(const na64_geom *g, const char *detector, double x, double y);

/* Global position of wire `wire` of plane p (its centre) and the unit vector along it.
 * NA64_ERANGE if wire is outside 0..nwires-1. dir may be NULL. */
NA64_API int na64_geom_wire_position(const na64_geom_plane *p, int wire, double pos[3], double dir[3]);
/* Drift radius (cm) for drift time t (ns, after t0 subtraction) by linear interpolation of the
 * plane's r(t) table, clamped to its first and last points; NaN if the plane has no r(t). */
NA64_API double na64_geom_drift_radius(const na64_geom_plane *p, double t);
/* Sum of the magnets' field integrals, T*m. */
NA64_API double na64_geom_field_integral(const na64_geom *g);

/* Packed DAQ channel: src_id (16 bits) | port (16) | chip (16) | channel (16). */
static inline uint64_t na64_geom_key(uint32_t src_id, uint32_t port, uint32_t chip, uint32_t channel)
{
  return ((uint64_t)(src_id & 0xFFFFu) << 48) | ((uint64_t)(port & 0xFFFFu) << 32) |
         ((uint64_t)(chip & 0xFFFFu) << 16) | (uint64_t)(channel & 0xFFFFu);
}
static inline void na64_geom_key_unpack(uint64_t key, uint32_t *src_id, uint32_t *port, uint32_t *chip,
                                        uint32_t *channel)
{
  *src_id = (uint32_t)(key >> 48) & 0xFFFFu;
  *port = (uint32_t)(key >> 32) & 0xFFFFu;
  *chip = (uint32_t)(key >> 16) & 0xFFFFu;
  *channel = (uint32_t)key & 0xFFFFu;
}

/* The channel table of one DAQ source (equipment id), or NULL if the source is not in the map.
 * A decoder looks it up once per equipment block, then calls na64_geom_chan_in_source per hit. */
static inline const na64_geom_chansrc *na64_geom_chan_source(const na64_geom *g, uint32_t src_id)
{
  const na64_geom_chanmap *m = &g->chanmap;
  if (src_id > 0xFFFFu || !m->slot) return NULL;
  unsigned s = m->slot[src_id];
  return s ? &m->src[s - 1] : NULL;
}

/* The element read out by (port, chip, channel) of source b (may be NULL), or NULL if unmapped. */
static inline const na64_geom_chan *na64_geom_chan_in_source(const na64_geom *g, const na64_geom_chansrc *b,
                                                             uint32_t port, uint32_t chip, uint32_t channel)
{
  if (!b || port >= b->nport || chip >= b->nchip || channel >= b->nchan) return NULL;
  const na64_geom_chan *e = &g->chanmap.entries[b->offset + ((size_t)port * b->nchip + chip) * b->nchan + channel];
  return (e->plane >= 0 || e->cell >= 0) ? e : NULL;
}

/* The element read out by a DAQ channel, or NULL if the channel is not in the map. */
static inline const na64_geom_chan *na64_geom_chan_lookup(const na64_geom *g, uint32_t src_id, uint32_t port,
                                                          uint32_t chip, uint32_t channel)
{
  return na64_geom_chan_in_source(g, na64_geom_chan_source(g, src_id), port, chip, channel);
}

#ifdef __cplusplus
}
#endif
#endif /* NA64_GEOM_H */
