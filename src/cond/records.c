/* Conditions records: IOV selection, row validation and the consistency checks of the records that
 * are valid together for one run. Table layouts are described once (the `tables` array below) and
 * read generically; every problem is reported with the table, row id, column and value. */
#include "core/c_locale.h"
#include "cond/cond_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { T_INT, T_REAL, T_TEXT, T_POINTS };
enum {
  F_NULL = 1u,   /* NULL allowed (int -> -1, real -> NaN, text -> "") */
  F_POS = 2u,    /* > 0 */
  F_NONNEG = 4u, /* >= 0 */
  F_NAME = 8u,   /* non-empty name that must fit its buffer */
  F_TRUNC = 16u  /* free text: truncated to its buffer */
};

typedef struct col {
  const char *name;
  int type;
  size_t off, size;
  unsigned flags;
} col;

typedef struct tab {
  const char *name;
  const char *key;   /* ORDER BY for the per-run query: records with equal key, highest id first */
  const char *label; /* column shown in messages next to the row id */
  const col *cols;
  int ncols;
  size_t recsize, arr_off, n_off;
  int (*check)(const void *rec, char *why, size_t n); /* extra row check; fills why on failure */
} tab;

#define C(rt, field, type, flags) {#field, type, offsetof(rt, field), sizeof(((rt *)0)->field), flags}
#define REC(field) offsetof(na64_cond_records, field)

static const col run_cols[] = {
    C(na64_cond_run_info, mode, T_TEXT, F_NAME), C(na64_cond_run_info, year, T_INT, F_NULL),
    C(na64_cond_run_info, beam_particle, T_TEXT, F_NAME), C(na64_cond_run_info, beam_energy, T_REAL, F_POS),
    C(na64_cond_run_info, eot, T_REAL, F_NULL | F_NONNEG), C(na64_cond_run_info, comment, T_TEXT, F_NULL | F_TRUNC)};
static const col mat_cols[] = {
    C(na64_cond_material, name, T_TEXT, F_NAME), C(na64_cond_material, density, T_REAL, F_POS),
    C(na64_cond_material, x0, T_REAL, F_POS), C(na64_cond_material, lambda_i, T_REAL, F_POS)};
static const col det_cols[] = {
    C(na64_cond_detector, name, T_TEXT, F_NAME),        C(na64_cond_detector, kind, T_TEXT, F_NAME),
    C(na64_cond_detector, x, T_REAL, 0),                C(na64_cond_detector, y, T_REAL, 0),
    C(na64_cond_detector, z, T_REAL, 0),                C(na64_cond_detector, size_x, T_REAL, F_POS),
    C(na64_cond_detector, size_y, T_REAL, F_POS),       C(na64_cond_detector, size_z, T_REAL, F_POS),
    C(na64_cond_detector, material, T_TEXT, F_NULL),    C(na64_cond_detector, comment, T_TEXT, F_NULL | F_TRUNC)};
static const col plane_cols[] = {
    C(na64_cond_plane, detector, T_TEXT, F_NAME), C(na64_cond_plane, name, T_TEXT, F_NAME),
    C(na64_cond_plane, x, T_REAL, 0),             C(na64_cond_plane, y, T_REAL, 0),
    C(na64_cond_plane, z, T_REAL, 0),             C(na64_cond_plane, angle_deg, T_REAL, 0),
    C(na64_cond_plane, pitch, T_REAL, F_POS),     C(na64_cond_plane, nchannels, T_INT, F_POS),
    C(na64_cond_plane, size_u, T_REAL, F_POS),    C(na64_cond_plane, size_v, T_REAL, F_POS)};
static const col layer_cols[] = {
    C(na64_cond_straw_layer, plane, T_TEXT, F_NAME),    C(na64_cond_straw_layer, layer, T_INT, F_NONNEG),
    C(na64_cond_straw_layer, nwires, T_INT, F_POS),     C(na64_cond_straw_layer, diameter, T_REAL, F_POS),
    C(na64_cond_straw_layer, pitch, T_REAL, F_POS),     C(na64_cond_straw_layer, stagger, T_REAL, 0),
    C(na64_cond_straw_layer, dz, T_REAL, 0)};
static const col wire_cols[] = {
    C(na64_cond_straw_wire, plane, T_TEXT, F_NAME), C(na64_cond_straw_wire, wire, T_INT, F_NONNEG),
    C(na64_cond_straw_wire, layer, T_INT, F_NONNEG), C(na64_cond_straw_wire, u, T_REAL, 0),
    C(na64_cond_straw_wire, dz, T_REAL, 0)};
static const col section_cols[] = {
    C(na64_cond_calo_section, detector, T_TEXT, F_NAME),
    C(na64_cond_calo_section, section, T_INT, F_NONNEG),
    C(na64_cond_calo_section, name, T_TEXT, F_NAME),
    C(na64_cond_calo_section, z_offset, T_REAL, F_NONNEG),
    C(na64_cond_calo_section, length, T_REAL, F_POS),
    C(na64_cond_calo_section, nlayers, T_INT, F_POS),
    C(na64_cond_calo_section, absorber, T_TEXT, F_NULL),
    C(na64_cond_calo_section, absorber_thickness, T_REAL, F_NONNEG),
    C(na64_cond_calo_section, active, T_TEXT, F_NAME),
    C(na64_cond_calo_section, active_thickness, T_REAL, F_POS)};
static const col cell_cols[] = {
    C(na64_cond_calo_cell, detector, T_TEXT, F_NAME), C(na64_cond_calo_cell, module, T_INT, F_NONNEG),
    C(na64_cond_calo_cell, ix, T_INT, F_NONNEG),      C(na64_cond_calo_cell, iy, T_INT, F_NONNEG),
    C(na64_cond_calo_cell, x, T_REAL, 0),             C(na64_cond_calo_cell, y, T_REAL, 0),
    C(na64_cond_calo_cell, z, T_REAL, 0),             C(na64_cond_calo_cell, size_x, T_REAL, F_POS),
    C(na64_cond_calo_cell, size_y, T_REAL, F_POS),    C(na64_cond_calo_cell, size_z, T_REAL, F_POS)};
static const col magnet_cols[] = {
    C(na64_cond_magnet, name, T_TEXT, F_NAME),       C(na64_cond_magnet, x, T_REAL, 0),
    C(na64_cond_magnet, y, T_REAL, 0),               C(na64_cond_magnet, z, T_REAL, 0),
    C(na64_cond_magnet, length, T_REAL, F_POS),      C(na64_cond_magnet, field_integral, T_REAL, 0),
    C(na64_cond_magnet, aperture_x, T_REAL, F_POS),  C(na64_cond_magnet, aperture_y, T_REAL, F_POS)};
static const col chan_cols[] = {
    C(na64_cond_channel, src_id, T_INT, F_NONNEG),  C(na64_cond_channel, port, T_INT, F_NONNEG),
    C(na64_cond_channel, chip, T_INT, F_NONNEG),    C(na64_cond_channel, channel, T_INT, F_NONNEG),
    C(na64_cond_channel, detector, T_TEXT, F_NAME), C(na64_cond_channel, plane, T_TEXT, F_NULL),
    C(na64_cond_channel, wire, T_INT, F_NULL),      C(na64_cond_channel, module, T_INT, F_NULL),
    C(na64_cond_channel, ix, T_INT, F_NULL),        C(na64_cond_channel, iy, T_INT, F_NULL),
    C(na64_cond_channel, section, T_INT, F_NULL),
    C(na64_cond_channel, ldc_id, T_INT, F_NULL | F_NONNEG)};
static const col t0_cols[] = {C(na64_cond_straw_t0, plane, T_TEXT, F_NAME),
                              C(na64_cond_straw_t0, wire, T_INT, F_NONNEG), C(na64_cond_straw_t0, t0, T_REAL, 0)};
static const col rt_cols[] = {{"points", T_POINTS, offsetof(na64_cond_straw_rt, npoints), 0, 0},
                              C(na64_cond_straw_rt, plane, T_TEXT, F_NAME),
                              C(na64_cond_straw_rt, sigma_r, T_REAL, F_POS)};
static const col calib_cols[] = {
    C(na64_cond_calo_calib, detector, T_TEXT, F_NAME), C(na64_cond_calo_calib, module, T_INT, F_NONNEG),
    C(na64_cond_calo_calib, ix, T_INT, F_NONNEG),      C(na64_cond_calo_calib, iy, T_INT, F_NONNEG),
    C(na64_cond_calo_calib, section, T_INT, F_NONNEG), C(na64_cond_calo_calib, gain, T_REAL, F_POS),
    C(na64_cond_calo_calib, ped_even, T_REAL, 0),      C(na64_cond_calo_calib, ped_odd, T_REAL, 0)};

static const col band_cols[] = {
    C(na64_cond_mon_band, plane, T_TEXT, F_NAME),          C(na64_cond_mon_band, efficiency_min, T_REAL, F_NONNEG),
    C(na64_cond_mon_band, efficiency_max, T_REAL, F_NONNEG), C(na64_cond_mon_band, hits_min, T_REAL, F_NONNEG),
    C(na64_cond_mon_band, hits_max, T_REAL, F_NONNEG)};
static const col sres_cols[] = {C(na64_cond_strip_resolution, plane, T_TEXT, F_NAME),
                                C(na64_cond_strip_resolution, sigma, T_REAL, F_POS),
                                C(na64_cond_strip_resolution, x_x0, T_REAL, F_NONNEG)};

/* Largest DAQ coordinates accepted by the in-memory channel map (dense per-source tables). */
#define MAX_PORT 255
#define MAX_CHIP 255
#define MAX_CHANNEL 4095

static int check_layer(const void *rec, char *why, size_t n)
{
  const na64_cond_straw_layer *l = rec;
  if (l->pitch < l->diameter * (1 - 1e-9)) {
    snprintf(why, n, "pitch = %g cm is smaller than the straw diameter %g cm: straws would overlap", l->pitch,
             l->diameter);
    return 1;
  }
  return 0;
}

static int check_section(const void *rec, char *why, size_t n)
{
  const na64_cond_calo_section *s = rec;
  if (!s->absorber[0] && s->absorber_thickness != 0) {
    snprintf(why, n, "absorber_thickness = %g cm without an absorber material", s->absorber_thickness);
    return 1;
  }
  if (s->absorber[0] && !(s->absorber_thickness > 0)) {
    snprintf(why, n, "absorber_thickness = %g cm is not positive (absorber %s)", s->absorber_thickness, s->absorber);
    return 1;
  }
  double stack = s->nlayers * (s->absorber_thickness + s->active_thickness);
  if (stack > s->length * (1 + 1e-9) + 1e-9) {
    snprintf(why, n, "%d layers of %g cm = %g cm exceed the section length = %g cm", s->nlayers,
             s->absorber_thickness + s->active_thickness, stack, s->length);
    return 1;
  }
  return 0;
}

static int check_channel(const void *rec, char *why, size_t n)
{
  const na64_cond_channel *c = rec;
  if (c->port > MAX_PORT || c->chip > MAX_CHIP || c->channel > MAX_CHANNEL || c->src_id > 65535) {
    snprintf(why, n, "(src_id %d, port %d, chip %d, channel %d) outside the supported range (65535, %d, %d, %d)",
             c->src_id, c->port, c->chip, c->channel, MAX_PORT, MAX_CHIP, MAX_CHANNEL);
    return 1;
  }
  if (c->plane[0] ? c->wire < 0 : (c->module < 0 || c->ix < 0 || c->iy < 0 || c->section < 0)) {
    snprintf(why, n, "target needs either (plane, wire >= 0) or (module, ix, iy, section >= 0)");
    return 1;
  }
  return 0;
}

static int check_rt(const void *rec, char *why, size_t n)
{
  const na64_cond_straw_rt *rt = rec;
  na64_err e;
  if (na64_cond__check_rt(rt->t, rt->r, rt->npoints, &e) != NA64_OK) {
    snprintf(why, n, "points: %.300s", e.msg);
    return 1;
  }
  return 0;
}

/* A band must be a band: min <= max, efficiencies within [0, 1] (the schema checks it too, for files
 * written by other means). */
static int check_band(const void *rec, char *why, size_t n)
{
  const na64_cond_mon_band *b = rec;
  if (!(b->efficiency_min <= b->efficiency_max) || b->efficiency_max > 1) {
    snprintf(why, n, "efficiency band [%g, %g] is not within [0, 1] in increasing order", b->efficiency_min,
             b->efficiency_max);
    return 1;
  }
  if (!(b->hits_min <= b->hits_max)) {
    snprintf(why, n, "hits per event band [%g, %g] is not in increasing order", b->hits_min, b->hits_max);
    return 1;
  }
  return 0;
}

static int check_run(const void *rec, char *why, size_t n)
{
  const na64_cond_run_info *r = rec;
  if (strcmp(r->mode, "invisible") && strcmp(r->mode, "visible")) {
    snprintf(why, n, "mode = '%s' is neither 'invisible' nor 'visible'", r->mode);
    return 1;
  }
  return 0;
}

#define TAB(name, key, label, cols, rt, field, check)                                                      \
  {name, key, label, cols, (int)(sizeof cols / sizeof cols[0]), sizeof(rt), REC(field), REC(n##field), check}

static const tab tables[] = {
    TAB("run_info", NULL, "setup", run_cols, na64_cond_run_info, runs, check_run),
    TAB("materials", "name", "name", mat_cols, na64_cond_material, materials, NULL),
    TAB("detectors", "name", "name", det_cols, na64_cond_detector, detectors, NULL),
    TAB("planes", "name", "name", plane_cols, na64_cond_plane, planes, NULL),
    TAB("straw_layers", "plane, layer", "plane", layer_cols, na64_cond_straw_layer, straw_layers, check_layer),
    TAB("straw_wires", "plane, wire", "plane", wire_cols, na64_cond_straw_wire, straw_wires, NULL),
    TAB("calo_sections", "detector, section", "name", section_cols, na64_cond_calo_section, calo_sections,
        check_section),
    TAB("calo_cells", "detector, module, ix, iy", "detector", cell_cols, na64_cond_calo_cell, calo_cells, NULL),
    TAB("magnets", "name", "name", magnet_cols, na64_cond_magnet, magnets, NULL),
    TAB("channel_map", "src_id, port, chip, channel", "detector", chan_cols, na64_cond_channel, channels,
        check_channel),
    TAB("straw_t0", "plane, wire", "plane", t0_cols, na64_cond_straw_t0, straw_t0, NULL),
    TAB("straw_rt", "plane", "plane", rt_cols, na64_cond_straw_rt, straw_rt, check_rt),
    TAB("calo_calib", "detector, module, ix, iy, section", "detector", calib_cols, na64_cond_calo_calib,
        calo_calib, NULL),
    TAB("mon_bands", "plane", "plane", band_cols, na64_cond_mon_band, mon_bands, check_band),
    TAB("strip_resolution", "plane", "plane", sres_cols, na64_cond_strip_resolution, strip_res, NULL),
};
#define NTABLES ((int)(sizeof tables / sizeof tables[0]))

/* ---- r(t) point lists ---- */

static int parse_points(const char *text, double *t, double *r, int max, int *n, na64_err *err)
{
  const char *p = text;
  *n = 0;
#define WS() while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ++p
#define EXPECT(ch, what)                                                                                      \
  do {                                                                                                        \
    WS();                                                                                                     \
    if (*p != (ch))                                                                                           \
      return na64_err_set(err, NA64_EFORMAT, "expected %s at character %ld of '%.40s%s'", what,          \
                          (long)(p - text), text, strlen(text) > 40 ? "..." : "");                           \
    ++p;                                                                                                      \
  } while (0)
  EXPECT('[', "'[' (a list of [t, r] pairs)");
  WS();
  if (*p == ']') {
    ++p;
  } else {
    for (;;) {
      if (*n >= max)
        return na64_err_set(err, NA64_ERANGE, "more than %d points (the supported maximum)", max);
      EXPECT('[', "'[' starting a [t, r] pair");
      for (int k = 0; k < 2; ++k) {
        WS();
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p)
          return na64_err_set(err, NA64_EFORMAT, "expected a number at character %ld of '%.40s%s'",
                              (long)(p - text), text, strlen(text) > 40 ? "..." : "");
        if (!isfinite(v))
          return na64_err_set(err, NA64_EFORMAT, "non-finite %s = %g in point %d", k ? "r" : "t", v, *n);
        (k ? r : t)[*n] = v;
        p = end;
        if (k == 0) EXPECT(',', "',' between t and r");
      }
      EXPECT(']', "']' closing a [t, r] pair");
      ++*n;
      WS();
      if (*p == ',') {
        ++p;
        continue;
      }
      EXPECT(']', "',' or ']' after a pair");
      break;
    }
  }
  WS();
  if (*p)
    return na64_err_set(err, NA64_EFORMAT, "unexpected text at character %ld of '%.40s'", (long)(p - text), text);
  return NA64_OK;
#undef WS
#undef EXPECT
}

int na64_cond__parse_points(const char *text, double *t, double *r, int max, int *n, na64_err *err)
{
  locale_t loc = na64_c_locale_enter(); /* strtod reads "0.25" whatever the program's locale */
  int st = parse_points(text, t, r, max, n, err);
  na64_c_locale_leave(loc);
  return st;
}

int na64_cond__check_rt(const double *t, const double *r, int n, na64_err *err)
{
  if (n < 2) return na64_err_set(err, NA64_EFORMAT, "%d point(s): an r(t) table needs at least 2", n);
  for (int i = 0; i < n; ++i) {
    if (!isfinite(t[i]) || !isfinite(r[i]))
      return na64_err_set(err, NA64_EFORMAT, "point %d (t = %g ns, r = %g cm) is not finite", i, t[i], r[i]);
    if (r[i] < 0) return na64_err_set(err, NA64_EFORMAT, "point %d: r = %g cm is negative", i, r[i]);
    if (i && !(t[i] > t[i - 1]))
      return na64_err_set(err, NA64_EFORMAT, "t is not strictly increasing: t[%d] = %g ns after t[%d] = %g ns", i,
                          t[i], i - 1, t[i - 1]);
    if (i && r[i] < r[i - 1])
      return na64_err_set(err, NA64_EFORMAT, "r decreases: r[%d] = %g cm after r[%d] = %g cm", i, r[i], i - 1,
                          r[i - 1]);
  }
  return NA64_OK;
}

/* ---- generic reading ---- */

static void set_bad(na64_cond_bad_row *bad, const char *table, int64_t id)
{
  if (bad) {
    bad->table = table;
    bad->id = id;
  }
}

static int row_error(na64_err *err, na64_cond_bad_row *bad, const tab *t, int64_t id, const char *label,
                     const char *detail)
{
  set_bad(bad, t->name, id);
  return na64_err_set(err, NA64_EFORMAT, "%s row id %lld%s%s%s: %s", t->name, (long long)id, label[0] ? " (" : "",
                      label, label[0] ? ")" : "", detail);
}

/* The label of a row for messages: the value of the table's label column, read first. */
static void row_label(sqlite3_stmt *st, const tab *t, char *label, size_t n)
{
  label[0] = '\0';
  for (int i = 0; i < t->ncols; ++i)
    if (!strcmp(t->cols[i].name, t->label) && sqlite3_column_type(st, 4 + i) == SQLITE_TEXT)
      snprintf(label, n, "%s", (const char *)sqlite3_column_text(st, 4 + i));
}

/* The interval of validity and the setup (columns 1..3) into iov; non-zero with the reason in why. */
static int read_iov(sqlite3_stmt *st, na64_cond_iov *iov, char *why, size_t n)
{
  sqlite3_int64 fr = sqlite3_column_int64(st, 1);
  int open = sqlite3_column_type(st, 2) == SQLITE_NULL;
  sqlite3_int64 lr = open ? (sqlite3_int64)NA64_COND_RUN_OPEN : sqlite3_column_int64(st, 2);
  if (fr < 0 || fr >= NA64_COND_RUN_OPEN || lr < fr || lr > NA64_COND_RUN_OPEN) {
    snprintf(why, n, "interval of validity first_run = %lld, last_run = %lld is not a run range", (long long)fr,
             (long long)lr);
    return 1;
  }
  iov->first_run = (int)fr;
  iov->last_run = (int)lr;
  iov->setup[0] = '\0';
  if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
    const char *s = (const char *)sqlite3_column_text(st, 3);
    if (strlen(s) >= sizeof iov->setup) {
      snprintf(why, n, "setup = '%.60s' is longer than %zu characters", s, sizeof iov->setup - 1);
      return 1;
    }
    snprintf(iov->setup, sizeof iov->setup, "%s", s);
  }
  return 0;
}

/* A NULL in column c: its "missing" value (-1, NaN, empty) where the column allows NULL. */
static int read_null(const col *c, char *dst, char *why, size_t n)
{
  if (c->flags & F_NULL) switch (c->type) {
    case T_INT: *(int *)dst = -1; return 0;
    case T_REAL: *(double *)dst = NAN; return 0;
    case T_TEXT: dst[0] = '\0'; return 0;
    default: break; /* r(t) points are never optional */
    }
  snprintf(why, n, "%s is NULL", c->name);
  return 1;
}

static int read_int(sqlite3_stmt *st, const col *c, int k, int type, char *dst, char *why, size_t n)
{
  if (type != SQLITE_INTEGER) {
    snprintf(why, n, "%s = '%.40s' is not an integer", c->name, (const char *)sqlite3_column_text(st, k));
    return 1;
  }
  sqlite3_int64 v = sqlite3_column_int64(st, k);
  if (v > INT_MAX || v < INT_MIN || ((c->flags & F_POS) && v <= 0) || ((c->flags & F_NONNEG) && v < 0)) {
    snprintf(why, n, "%s = %lld is %s", c->name, (long long)v,
             (v > INT_MAX || v < INT_MIN) ? "out of range" : (c->flags & F_POS) ? "not positive" : "negative");
    return 1;
  }
  *(int *)dst = (int)v;
  return 0;
}

static int read_real(sqlite3_stmt *st, const col *c, int k, int type, char *dst, char *why, size_t n)
{
  if (type != SQLITE_FLOAT && type != SQLITE_INTEGER) {
    snprintf(why, n, "%s = '%.40s' is not a number", c->name, (const char *)sqlite3_column_text(st, k));
    return 1;
  }
  double v = sqlite3_column_double(st, k);
  if (!isfinite(v) || ((c->flags & F_POS) && !(v > 0)) || ((c->flags & F_NONNEG) && v < 0)) {
    snprintf(why, n, "%s = %g is %s", c->name, v,
             !isfinite(v) ? "not finite" : (c->flags & F_POS) ? "not positive" : "negative");
    return 1;
  }
  *(double *)dst = v;
  return 0;
}

static int read_text(sqlite3_stmt *st, const col *c, int k, char *dst, char *why, size_t n)
{
  const char *s = (const char *)sqlite3_column_text(st, k);
  size_t len = (size_t)sqlite3_column_bytes(st, k);
  if (len >= c->size && !(c->flags & F_TRUNC)) {
    snprintf(why, n, "%s = '%.60s%s' is longer than %zu characters", c->name, s, len > 60 ? "..." : "", c->size - 1);
    return 1;
  }
  if ((c->flags & F_NAME) && len == 0) {
    snprintf(why, n, "%s is empty", c->name);
    return 1;
  }
  if (len >= c->size) len = c->size - 1;
  memcpy(dst, s, len);
  dst[len] = '\0';
  return 0;
}

static int read_points(sqlite3_stmt *st, const col *c, int k, void *rec, char *why, size_t n)
{
  na64_cond_straw_rt *rt = rec;
  na64_err e;
  const char *s = (const char *)sqlite3_column_text(st, k);
  if (na64_cond__parse_points(s ? s : "", rt->t, rt->r, NA64_COND_MAX_RT_POINTS, &rt->npoints, &e) != NA64_OK) {
    snprintf(why, n, "%s: %.400s", c->name, e.msg);
    return 1;
  }
  return 0;
}

/* Column c (result column k) of the row into the record; non-zero with the reason in why. */
static int read_column(sqlite3_stmt *st, const col *c, int k, void *rec, char *why, size_t n)
{
  char *dst = (char *)rec + c->off;
  int type = sqlite3_column_type(st, k);
  if (type == SQLITE_NULL) return read_null(c, dst, why, n);
  switch (c->type) {
  case T_INT: return read_int(st, c, k, type, dst, why, n);
  case T_REAL: return read_real(st, c, k, type, dst, why, n);
  case T_TEXT: return read_text(st, c, k, dst, why, n);
  case T_POINTS: return read_points(st, c, k, rec, why, n);
  default: return 0;
  }
}

static int read_row(sqlite3_stmt *st, const tab *t, void *rec, na64_cond_bad_row *bad, na64_err *err)
{
  na64_cond_iov *iov = rec;
  char why[NA64_ERR_MSG_LEN + 100];
  iov->id = sqlite3_column_int64(st, 0);
  char label[NA64_COND_NAME_LEN];
  row_label(st, t, label, sizeof label);
  if (read_iov(st, iov, why, sizeof why)) return row_error(err, bad, t, iov->id, label, why);
  for (int i = 0; i < t->ncols; ++i)
    if (read_column(st, &t->cols[i], 4 + i, rec, why, sizeof why)) return row_error(err, bad, t, iov->id, label, why);
  if (t->check && t->check(rec, why, sizeof why)) return row_error(err, bad, t, iov->id, label, why);
  return NA64_OK;
}

static int append(na64_cond_records *r, const tab *t, size_t *cap, void **slot)
{
  void **arr = (void **)((char *)r + t->arr_off);
  size_t *n = (size_t *)((char *)r + t->n_off);
  if (*n == *cap) {
    size_t nc = *cap ? 2 * *cap : 16;
    void *na = realloc(*arr, nc * t->recsize);
    if (!na) return NA64_ENOMEM;
    *arr = na;
    *cap = nc;
  }
  *slot = (char *)*arr + *n * t->recsize;
  memset(*slot, 0, t->recsize);
  ++*n;
  return NA64_OK;
}

/* Key of the current row (the key columns' text joined), for dropping the superseded records. */
static void row_key(sqlite3_stmt *st, const tab *t, char *key, size_t n)
{
  key[0] = '\0';
  size_t used = 0;
  for (int i = 0; i < t->ncols; ++i) {
    const char *name = t->cols[i].name;
    size_t len = strlen(name);
    const char *k = strstr(t->key, name);
    /* exact column name inside the comma-separated key list */
    while (k && !((k == t->key || k[-1] == ' ' || k[-1] == ',') && (k[len] == '\0' || k[len] == ',')))
      k = strstr(k + 1, name);
    if (!k) continue;
    const char *v = (const char *)sqlite3_column_text(st, 4 + i);
    int w = snprintf(key + used, n - used, "%s\x1f", v ? v : "\x1e");
    if (w < 0 || (size_t)w >= n - used) return;
    used += (size_t)w;
  }
}

static int fetch_table(na64_cond *c, const tab *t, int run, const char *setup, na64_cond_records *r,
                       na64_cond_bad_row *bad, na64_err *err)
{
  char sql[1024];
  int len = snprintf(sql, sizeof sql, "SELECT id, first_run, last_run, setup");
  for (int i = 0; i < t->ncols; ++i) len += snprintf(sql + len, sizeof sql - (size_t)len, ", %s", t->cols[i].name);
  len += snprintf(sql + len, sizeof sql - (size_t)len, " FROM %s", t->name);
  if (run == NA64_COND_ALL_RUNS)
    snprintf(sql + len, sizeof sql - (size_t)len, " ORDER BY id");
  else if (!t->key)
    snprintf(sql + len, sizeof sql - (size_t)len,
             " WHERE first_run <= ?1 AND (last_run IS NULL OR last_run >= ?1) ORDER BY id DESC LIMIT 1");
  else
    snprintf(sql + len, sizeof sql - (size_t)len,
             " WHERE (setup IS NULL OR setup = ?2) AND first_run <= ?1 AND (last_run IS NULL OR last_run >= ?1)"
             " ORDER BY %s, id DESC",
             t->key);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return na64_cond__sqlerr(c, err, t->name);
  if (run != NA64_COND_ALL_RUNS) {
    sqlite3_bind_int(st, 1, run);
    if (t->key) sqlite3_bind_text(st, 2, setup, -1, SQLITE_TRANSIENT);
  }
  size_t cap = 0;
  char key[256], prev[256] = "";
  int have_prev = 0, rc, status = NA64_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (run != NA64_COND_ALL_RUNS && t->key) {
      row_key(st, t, key, sizeof key);
      if (have_prev && !strcmp(key, prev)) continue; /* superseded by a record with a higher id */
      memcpy(prev, key, sizeof prev);
      have_prev = 1;
    }
    void *rec = NULL;
    if (append(r, t, &cap, &rec) != NA64_OK) {
      status = na64_err_set(err, NA64_ENOMEM, "conditions: out of memory reading %s", t->name);
      break;
    }
    status = read_row(st, t, rec, bad, err);
    if (status != NA64_OK) break;
  }
  if (status == NA64_OK && rc != SQLITE_DONE) status = na64_cond__sqlerr(c, err, t->name);
  sqlite3_finalize(st);
  return status;
}

void na64_cond_records_free(na64_cond_records *r)
{
  if (!r) return;
  for (int i = 0; i < NTABLES; ++i) free(*(void **)((char *)r + tables[i].arr_off));
  free(r);
}

/* ---- consistency of the records valid for one run ---- */

static int is_tracker(const char *kind) { return !strcmp(kind, "straw") || !strcmp(kind, "micromegas") || !strcmp(kind, "gem"); }
static int is_calo(const char *kind)
{
  return !strcmp(kind, "ecal") || !strcmp(kind, "hcal") || !strcmp(kind, "srd") || !strcmp(kind, "veto") ||
         !strcmp(kind, "wcal") || !strcmp(kind, "counter");
}

static const na64_cond_detector *find_det(const na64_cond_records *r, const char *name)
{
  for (size_t i = 0; i < r->ndetectors; ++i)
    if (!strcmp(r->detectors[i].name, name)) return &r->detectors[i];
  return NULL;
}
static const na64_cond_plane *find_plane(const na64_cond_records *r, const char *name)
{
  for (size_t i = 0; i < r->nplanes; ++i)
    if (!strcmp(r->planes[i].name, name)) return &r->planes[i];
  return NULL;
}
static int has_material(const na64_cond_records *r, const char *name)
{
  for (size_t i = 0; i < r->nmaterials; ++i)
    if (!strcmp(r->materials[i].name, name)) return 1;
  return 0;
}

/* Cell grid of a calorimeter: modules x ny x nx, and its number of sections. */
typedef struct grid {
  int nmod, nx, ny, ncells, nsec;
} grid;

static grid grid_of(const na64_cond_records *r, const char *det)
{
  grid g = {0, 0, 0, 0, 0};
  for (size_t i = 0; i < r->ncalo_cells; ++i) {
    const na64_cond_calo_cell *c = &r->calo_cells[i];
    if (strcmp(c->detector, det)) continue;
    if (c->module + 1 > g.nmod) g.nmod = c->module + 1;
    if (c->ix + 1 > g.nx) g.nx = c->ix + 1;
    if (c->iy + 1 > g.ny) g.ny = c->iy + 1;
    g.ncells++;
  }
  for (size_t i = 0; i < r->ncalo_sections; ++i)
    if (!strcmp(r->calo_sections[i].detector, det)) g.nsec++;
  return g;
}

#define BAD(table, id, ...)                                                                               \
  do {                                                                                                    \
    set_bad(bad, table, id);                                                                              \
    return na64_err_set(err, NA64_EFORMAT, __VA_ARGS__);                                                  \
  } while (0)

static int check_straw_plane(const na64_cond_records *r, const na64_cond_plane *p, na64_cond_bad_row *bad,
                             na64_err *err)
{
  int nl = 0, sum = 0;
  for (size_t i = 0; i < r->nstraw_layers; ++i) {
    const na64_cond_straw_layer *l = &r->straw_layers[i];
    if (strcmp(l->plane, p->name)) continue;
    nl++;
    sum += l->nwires;
  }
  if (!nl) BAD("planes", p->iov.id, "planes row id %lld (%s): straw plane without straw_layers", (long long)p->iov.id, p->name);
  if (sum != p->nchannels)
    BAD("planes", p->iov.id, "planes row id %lld (%s): nchannels = %d but its straw_layers hold %d wires",
        (long long)p->iov.id, p->name, p->nchannels, sum);
  int nw = 0;
  for (size_t i = 0; i < r->nstraw_wires; ++i) {
    const na64_cond_straw_wire *w = &r->straw_wires[i];
    if (strcmp(w->plane, p->name)) continue;
    nw++;
    if (w->wire >= p->nchannels)
      BAD("straw_wires", w->iov.id, "straw_wires row id %lld (%s): wire = %d is not below nchannels = %d",
          (long long)w->iov.id, w->plane, w->wire, p->nchannels);
    const na64_cond_straw_layer *lay = NULL;
    for (size_t k = 0; k < r->nstraw_layers; ++k)
      if (!strcmp(r->straw_layers[k].plane, p->name) && r->straw_layers[k].layer == w->layer) lay = &r->straw_layers[k];
    if (!lay)
      BAD("straw_wires", w->iov.id, "straw_wires row id %lld (%s): layer = %d has no straw_layers record",
          (long long)w->iov.id, w->plane, w->layer);
    if (fabs(w->u) + lay->diameter / 2 > p->size_u / 2 + 1e-6)
      BAD("straw_wires", w->iov.id, "straw_wires row id %lld (%s): wire %d at u = %g cm lies outside the plane (size_u = %g cm)",
          (long long)w->iov.id, w->plane, w->wire, w->u, p->size_u);
    /* no two straws of a layer may overlap */
    for (size_t k = i + 1; k < r->nstraw_wires; ++k) {
      const na64_cond_straw_wire *o = &r->straw_wires[k];
      if (strcmp(o->plane, p->name)) break; /* sorted by plane */
      if (o->layer == w->layer && fabs(o->u - w->u) < lay->diameter * (1 - 1e-6))
        BAD("straw_wires", o->iov.id,
            "straw_wires row id %lld (%s): wire %d at u = %g cm overlaps wire %d at u = %g cm (diameter %g cm)",
            (long long)o->iov.id, o->plane, o->wire, o->u, w->wire, w->u, lay->diameter);
    }
  }
  if (nw != p->nchannels)
    BAD("planes", p->iov.id, "planes row id %lld (%s): nchannels = %d but %d straw_wires are valid for the run",
        (long long)p->iov.id, p->name, p->nchannels, nw);
  return NA64_OK;
}

static double straw_radius(const na64_cond_records *r, const char *plane)
{
  double d = 0;
  for (size_t i = 0; i < r->nstraw_layers; ++i)
    if (!strcmp(r->straw_layers[i].plane, plane) && r->straw_layers[i].diameter > d) d = r->straw_layers[i].diameter;
  return d / 2;
}

/* Every detector: its material known, a tracker with planes, a calorimeter with a full grid of cells and its sections. */
static int check_detectors(const na64_cond_records *r, na64_cond_bad_row *bad, na64_err *err)
{
  for (size_t i = 0; i < r->ndetectors; ++i) {
    const na64_cond_detector *d = &r->detectors[i];
    if (d->material[0] && !has_material(r, d->material))
      BAD("detectors", d->iov.id, "detectors row id %lld (%s): material '%s' is not in materials", (long long)d->iov.id,
          d->name, d->material);
    if (is_tracker(d->kind)) {
      int np = 0;
      for (size_t k = 0; k < r->nplanes; ++k) np += !strcmp(r->planes[k].detector, d->name);
      if (!np)
        BAD("detectors", d->iov.id, "detectors row id %lld (%s): %s detector without planes", (long long)d->iov.id,
            d->name, d->kind);
    }
    if (is_calo(d->kind)) {
      grid g = grid_of(r, d->name);
      if (!g.ncells)
        BAD("detectors", d->iov.id, "detectors row id %lld (%s): %s detector without calo_cells", (long long)d->iov.id,
            d->name, d->kind);
      if (!g.nsec)
        BAD("detectors", d->iov.id, "detectors row id %lld (%s): %s detector without calo_sections",
            (long long)d->iov.id, d->name, d->kind);
      if (g.ncells != g.nmod * g.nx * g.ny)
        BAD("detectors", d->iov.id,
            "detectors row id %lld (%s): %d calo_cells do not fill the grid of %d module(s) x %d x %d cells",
            (long long)d->iov.id, d->name, g.ncells, g.nmod, g.nx, g.ny);
    }
  }
  return NA64_OK;
}

/* Every plane: on a tracker valid for the run; straw planes in full (check_straw_plane), strip planes within size_u. */
static int check_planes(const na64_cond_records *r, na64_cond_bad_row *bad, na64_err *err)
{
  for (size_t i = 0; i < r->nplanes; ++i) {
    const na64_cond_plane *p = &r->planes[i];
    const na64_cond_detector *d = find_det(r, p->detector);
    if (!d || !is_tracker(d->kind))
      BAD("planes", p->iov.id, "planes row id %lld (%s): detector '%s' is %s", (long long)p->iov.id, p->name,
          p->detector, d ? "not a tracker" : "not valid for the run");
    if (!strcmp(d->kind, "straw")) {
      NA64_CALL(check_straw_plane(r, p, bad, err));
    } else if (p->nchannels * p->pitch > p->size_u * (1 + 1e-9))
      BAD("planes", p->iov.id, "planes row id %lld (%s): %d strips of pitch %g cm exceed size_u = %g cm",
          (long long)p->iov.id, p->name, p->nchannels, p->pitch, p->size_u);
  }
  return NA64_OK;
}

/* Straw layers and wires: on straw planes valid for the run. */
static int check_straw_refs(const na64_cond_records *r, na64_cond_bad_row *bad, na64_err *err)
{
  for (size_t i = 0; i < r->nstraw_layers; ++i) {
    const na64_cond_straw_layer *l = &r->straw_layers[i];
    const na64_cond_plane *p = find_plane(r, l->plane);
    if (!p || strcmp(find_det(r, p->detector)->kind, "straw"))
      BAD("straw_layers", l->iov.id, "straw_layers row id %lld: plane '%s' is %s", (long long)l->iov.id, l->plane,
          p ? "not a straw plane" : "not valid for the run");
  }
  for (size_t i = 0; i < r->nstraw_wires; ++i) {
    const na64_cond_straw_wire *w = &r->straw_wires[i];
    const na64_cond_plane *p = find_plane(r, w->plane);
    if (!p || strcmp(find_det(r, p->detector)->kind, "straw"))
      BAD("straw_wires", w->iov.id, "straw_wires row id %lld: plane '%s' is %s", (long long)w->iov.id, w->plane,
          p ? "not a straw plane" : "not valid for the run");
  }
  return NA64_OK;
}

/* Calorimeter sections and cells: on calorimeters valid for the run, sections within the grid, materials known. */
static int check_calo_refs(const na64_cond_records *r, na64_cond_bad_row *bad, na64_err *err)
{
  for (size_t i = 0; i < r->ncalo_sections; ++i) {
    const na64_cond_calo_section *s = &r->calo_sections[i];
    const na64_cond_detector *d = find_det(r, s->detector);
    if (!d || !is_calo(d->kind))
      BAD("calo_sections", s->iov.id, "calo_sections row id %lld (%s): detector '%s' is %s", (long long)s->iov.id,
          s->name, s->detector, d ? "not a calorimeter or counter" : "not valid for the run");
    grid g = grid_of(r, s->detector);
    if (s->section >= g.nsec)
      BAD("calo_sections", s->iov.id, "calo_sections row id %lld (%s): section = %d but %s has %d sections (numbered from 0)",
          (long long)s->iov.id, s->name, s->section, s->detector, g.nsec);
    if (s->absorber[0] && !has_material(r, s->absorber))
      BAD("calo_sections", s->iov.id, "calo_sections row id %lld (%s): absorber '%s' is not in materials",
          (long long)s->iov.id, s->name, s->absorber);
    if (!has_material(r, s->active))
      BAD("calo_sections", s->iov.id, "calo_sections row id %lld (%s): active material '%s' is not in materials",
          (long long)s->iov.id, s->name, s->active);
  }
  for (size_t i = 0; i < r->ncalo_cells; ++i) {
    const na64_cond_calo_cell *c = &r->calo_cells[i];
    const na64_cond_detector *d = find_det(r, c->detector);
    if (!d || !is_calo(d->kind))
      BAD("calo_cells", c->iov.id, "calo_cells row id %lld: detector '%s' is %s", (long long)c->iov.id, c->detector,
          d ? "not a calorimeter or counter" : "not valid for the run");
  }
  return NA64_OK;
}

/* The channel map: every target (a wire of a plane, a cell of a calorimeter) exists for the run. */
static int check_channels(const na64_cond_records *r, na64_cond_bad_row *bad, na64_err *err)
{
  for (size_t i = 0; i < r->nchannels; ++i) {
    const na64_cond_channel *ch = &r->channels[i];
    if (ch->plane[0]) {
      const na64_cond_plane *p = find_plane(r, ch->plane);
      if (!p || strcmp(p->detector, ch->detector) || ch->wire >= p->nchannels)
        BAD("channel_map", ch->iov.id, "channel_map row id %lld: target %s/%s wire %d %s", (long long)ch->iov.id,
            ch->detector, ch->plane, ch->wire,
            !p ? "names a plane not valid for the run"
               : strcmp(p->detector, ch->detector) ? "names a plane of another detector"
                                                   : "is not below the plane's nchannels");
    } else {
      const na64_cond_detector *d = find_det(r, ch->detector);
      grid g = d ? grid_of(r, ch->detector) : (grid){0, 0, 0, 0, 0};
      if (!d || !is_calo(d->kind) || ch->module >= g.nmod || ch->ix >= g.nx || ch->iy >= g.ny || ch->section >= g.nsec)
        BAD("channel_map", ch->iov.id,
            "channel_map row id %lld: target %s module %d cell (%d, %d) section %d does not exist for the run",
            (long long)ch->iov.id, ch->detector, ch->module, ch->ix, ch->iy, ch->section);
    }
  }
  return NA64_OK;
}

/* Calibrations (straw t0 and r(t), calorimeter cells) and monitor bands: on channels that exist for the run. */
static int check_calibs(const na64_cond_records *r, na64_cond_bad_row *bad, na64_err *err)
{
  for (size_t i = 0; i < r->nstraw_t0; ++i) {
    const na64_cond_straw_t0 *t = &r->straw_t0[i];
    const na64_cond_plane *p = find_plane(r, t->plane);
    if (!p || t->wire >= p->nchannels || strcmp(find_det(r, p->detector)->kind, "straw"))
      BAD("straw_t0", t->iov.id, "straw_t0 row id %lld: plane '%s' wire %d %s", (long long)t->iov.id, t->plane, t->wire,
          !p ? "is not a plane valid for the run" : t->wire >= p->nchannels ? "does not exist" : "is not a straw");
  }
  for (size_t i = 0; i < r->nstraw_rt; ++i) {
    const na64_cond_straw_rt *rt = &r->straw_rt[i];
    const na64_cond_plane *p = find_plane(r, rt->plane);
    if (!p || strcmp(find_det(r, p->detector)->kind, "straw"))
      BAD("straw_rt", rt->iov.id, "straw_rt row id %lld: plane '%s' is %s", (long long)rt->iov.id, rt->plane,
          p ? "not a straw plane" : "not valid for the run");
    double R = straw_radius(r, rt->plane);
    if (rt->r[rt->npoints - 1] > R * (1 + 1e-6))
      BAD("straw_rt", rt->iov.id, "straw_rt row id %lld (%s): r = %g cm exceeds the straw radius %g cm",
          (long long)rt->iov.id, rt->plane, rt->r[rt->npoints - 1], R);
  }
  for (size_t i = 0; i < r->ncalo_calib; ++i) {
    const na64_cond_calo_calib *c = &r->calo_calib[i];
    const na64_cond_detector *d = find_det(r, c->detector);
    grid g = d ? grid_of(r, c->detector) : (grid){0, 0, 0, 0, 0};
    if (!d || c->module >= g.nmod || c->ix >= g.nx || c->iy >= g.ny || c->section >= g.nsec)
      BAD("calo_calib", c->iov.id, "calo_calib row id %lld: %s module %d cell (%d, %d) section %d does not exist for the run",
          (long long)c->iov.id, c->detector, c->module, c->ix, c->iy, c->section);
  }
  for (size_t i = 0; i < r->nmon_bands; ++i) {
    const na64_cond_mon_band *b = &r->mon_bands[i];
    if (!find_plane(r, b->plane))
      BAD("mon_bands", b->iov.id, "mon_bands row id %lld: plane '%s' is not a plane valid for the run",
          (long long)b->iov.id, b->plane);
  }
  for (size_t i = 0; i < r->nstrip_res; ++i) { /* a strip plane's response: the plane must be a strip plane */
    const na64_cond_strip_resolution *s = &r->strip_res[i];
    const na64_cond_plane *p = find_plane(r, s->plane);
    const na64_cond_detector *d = p ? find_det(r, p->detector) : NULL;
    if (!p || (d && strcmp(d->kind, "micromegas") && strcmp(d->kind, "gem")))
      BAD("strip_resolution", s->iov.id, "strip_resolution row id %lld: '%s' is not a Micromegas or GEM plane valid for the run",
          (long long)s->iov.id, s->plane);
  }
  return NA64_OK;
}

/* The records of one run against each other (cross references, grids, sizes); the first failure. */
static int cross_check(const na64_cond_records *r, na64_cond_bad_row *bad, na64_err *err)
{
  NA64_CALL(check_detectors(r, bad, err));
  NA64_CALL(check_planes(r, bad, err));
  NA64_CALL(check_straw_refs(r, bad, err));
  NA64_CALL(check_calo_refs(r, bad, err));
  NA64_CALL(check_channels(r, bad, err));
  NA64_CALL(check_calibs(r, bad, err));
  return NA64_OK;
}

/* ---- fetch and validate ---- */

static int known_ranges(na64_cond *c, char *buf, size_t n)
{
  sqlite3_stmt *st = NULL;
  buf[0] = '\0';
  if (sqlite3_prepare_v2(c->db, "SELECT first_run, last_run, setup FROM run_info ORDER BY first_run", -1, &st, NULL) !=
      SQLITE_OK)
    return 0;
  size_t used = 0;
  int k = 0;
  while (sqlite3_step(st) == SQLITE_ROW && used + 64 < n) {
    int w;
    if (sqlite3_column_type(st, 1) == SQLITE_NULL)
      w = snprintf(buf + used, n - used, "%s%d- (%s)", k ? ", " : "", sqlite3_column_int(st, 0),
                   (const char *)sqlite3_column_text(st, 2));
    else
      w = snprintf(buf + used, n - used, "%s%d-%d (%s)", k ? ", " : "", sqlite3_column_int(st, 0),
                   sqlite3_column_int(st, 1), (const char *)sqlite3_column_text(st, 2));
    if (w > 0) used += (size_t)w;
    ++k;
  }
  sqlite3_finalize(st);
  return k;
}

int na64_cond__fetch(na64_cond *c, int run, na64_cond_records **out, na64_cond_bad_row *bad, na64_err *err)
{
  *out = NULL;
  if (run < 0 && run != NA64_COND_ALL_RUNS)
    return na64_err_set(err, NA64_EINVAL, "conditions: run = %d is negative", run);
  na64_cond_records *r = calloc(1, sizeof *r);
  if (!r) return na64_err_set(err, NA64_ENOMEM, "conditions: out of memory");
  r->run = run;
  int st = fetch_table(c, &tables[0], run, NULL, r, bad, err);
  if (st == NA64_OK && run != NA64_COND_ALL_RUNS && r->nruns == 0) {
    char ranges[600];
    int k = known_ranges(c, ranges, sizeof ranges);
    st = na64_err_set(err, NA64_ENOTFOUND, "%s: no run_info record covers run %d (%s%s)", c->path, run,
                      k ? "known runs: " : "the run_info table is empty", ranges);
  }
  const char *setup = r->nruns ? r->runs[0].iov.setup : "";
  for (int i = 1; i < NTABLES && st == NA64_OK; ++i) st = fetch_table(c, &tables[i], run, setup, r, bad, err);
  if (st == NA64_OK && run != NA64_COND_ALL_RUNS) {
    st = cross_check(r, bad, err);
    if (st != NA64_OK) na64_err_prefix(err, "run %d (setup %s)", run, setup);
  }
  if (st != NA64_OK) {
    na64_cond_records_free(r);
    return st;
  }
  *out = r;
  return NA64_OK;
}

int na64_cond_fetch(na64_cond *c, int run, na64_cond_records **out, na64_err *err)
{
  if (!c || !out) return na64_err_set(err, NA64_EINVAL, "na64_cond_fetch: NULL argument");
  *out = NULL;
  NA64_CALL(na64_cond__begin(c, 0, err)); /* one snapshot: a concurrent writer is seen whole or not at all */
  int st = na64_cond__fetch(c, run, out, NULL, err);
  na64_cond__rollback(c);
  return st;
}

int na64_cond_get_run_info(na64_cond *c, int run, na64_cond_run_info *info, na64_err *err)
{
  if (!c || !info) return na64_err_set(err, NA64_EINVAL, "na64_cond_get_run_info: NULL argument");
  if (run < 0) return na64_err_set(err, NA64_EINVAL, "conditions: run = %d is negative", run);
  na64_cond_records *r = calloc(1, sizeof *r);
  if (!r) return na64_err_set(err, NA64_ENOMEM, "conditions: out of memory");
  int st = fetch_table(c, &tables[0], run, NULL, r, NULL, err);
  if (st == NA64_OK && !r->nruns) {
    char ranges[600];
    int k = known_ranges(c, ranges, sizeof ranges);
    st = na64_err_set(err, NA64_ENOTFOUND, "%s: no run_info record covers run %d (%s%s)", c->path, run,
                      k ? "known runs: " : "the run_info table is empty", ranges);
  }
  if (st == NA64_OK) *info = r->runs[0];
  na64_cond_records_free(r);
  return st;
}

/* Every run where the set of valid records can change inside [first, last]: its start and each
 * first_run / last_run + 1 of any record that falls inside. Checking these covers every run. */
static int boundaries(na64_cond *c, int first, int last, int **runs, int *n, na64_err *err)
{
  char sql[4096];
  int len = snprintf(sql, sizeof sql, "SELECT DISTINCT v FROM (");
  for (int i = 0; i < NTABLES; ++i)
    len += snprintf(sql + len, sizeof sql - (size_t)len,
                    "%sSELECT first_run AS v FROM %s UNION SELECT last_run + 1 FROM %s WHERE last_run IS NOT NULL",
                    i ? " UNION " : "", tables[i].name, tables[i].name);
  snprintf(sql + len, sizeof sql - (size_t)len, ") WHERE v > ?1 AND v <= ?2 ORDER BY v");
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return na64_cond__sqlerr(c, err, "IOV boundaries");
  sqlite3_bind_int(st, 1, first);
  sqlite3_bind_int(st, 2, last);
  size_t cap = 8;
  *n = 0;
  *runs = malloc(cap * sizeof **runs);
  if (!*runs) {
    sqlite3_finalize(st);
    return na64_err_set(err, NA64_ENOMEM, "out of memory");
  }
  (*runs)[(*n)++] = first;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if ((size_t)*n == cap) {
      int *nr = realloc(*runs, (cap *= 2) * sizeof *nr);
      if (!nr) {
        sqlite3_finalize(st);
        return na64_err_set(err, NA64_ENOMEM, "out of memory");
      }
      *runs = nr;
    }
    (*runs)[(*n)++] = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? NA64_OK : na64_cond__sqlerr(c, err, "IOV boundaries");
}

int na64_cond__validate_runs(na64_cond *c, int first, int last, na64_cond_bad_row *bad, na64_err *err)
{
  na64_cond_records *all = NULL;
  NA64_CALL(na64_cond__fetch(c, NA64_COND_ALL_RUNS, &all, bad, err));
  int st = NA64_OK;
  for (size_t i = 0; i < all->nruns && st == NA64_OK; ++i) {
    int lo = all->runs[i].iov.first_run, hi = all->runs[i].iov.last_run;
    if (hi < first || lo > last) continue; /* run range outside the runs to check */
    if (lo < first) lo = first;
    if (hi > last) hi = last;
    int *runs = NULL, n = 0;
    st = boundaries(c, lo, hi, &runs, &n, err);
    for (int k = 0; k < n && st == NA64_OK; ++k) {
      na64_cond_records *r = NULL;
      st = na64_cond__fetch(c, runs[k], &r, bad, err);
      na64_cond_records_free(r);
    }
    free(runs);
  }
  na64_cond_records_free(all);
  return st;
}

int na64_cond__validate(na64_cond *c, na64_cond_bad_row *bad, na64_err *err)
{
  return na64_cond__validate_runs(c, 0, NA64_COND_RUN_OPEN, bad, err);
}

int na64_cond_validate(na64_cond *c, na64_err *err)
{
  if (!c) return na64_err_set(err, NA64_EINVAL, "na64_cond_validate: NULL handle");
  NA64_CALL(na64_cond__begin(c, 0, err));
  int st = na64_cond__validate(c, NULL, err);
  if (st == NA64_OK) st = na64_cond__integrity(c, err);
  na64_cond__rollback(c);
  return st;
}
