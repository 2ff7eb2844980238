/* New calibration records with their interval of validity (used by `na64 calib straw` and the
 * calorimeter calibrations). Arguments are checked before anything is written; the insert and the
 * validation of the resulting database share one IMMEDIATE transaction, so a calibration that does
 * not fit the geometry of its runs (unknown plane, wire beyond the plane) is never committed. */
#include "core/c_locale.h"
#include "cond/cond_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int check_iov(const na64_cond *c, int first_run, int last_run, na64_err *err)
{
  if (!c) return na64_err_set(err, NA64_EINVAL, "conditions: NULL handle");
  if (c->readonly) return na64_err_set(err, NA64_EINVAL, "%s: opened read-only, cannot insert", c->path);
  if (first_run < 0 || first_run >= NA64_COND_RUN_OPEN || last_run < first_run)
    return na64_err_set(err, NA64_ERANGE, "interval of validity first_run = %d, last_run = %d is not a run range",
                        first_run, last_run);
  return NA64_OK;
}

static void bind_iov(sqlite3_stmt *st, int first_run, int last_run)
{
  sqlite3_bind_int(st, 1, first_run);
  if (last_run == NA64_COND_RUN_OPEN)
    sqlite3_bind_null(st, 2);
  else
    sqlite3_bind_int(st, 2, last_run);
}

static int step_reset(na64_cond *c, sqlite3_stmt *st, const char *what, na64_err *err)
{
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? NA64_OK : na64_cond__sqlerr(c, err, what);
}

/* Validate the runs the new rows apply to and commit, or roll everything back. Runs outside
 * first..last see no new record, so their consistency cannot have changed. */
static int finish(na64_cond *c, int first_run, int last_run, int st, na64_err *err)
{
  if (st == NA64_OK) st = na64_cond__validate_runs(c, first_run, last_run, NULL, err);
  if (st == NA64_OK) st = na64_cond__checksum_update(c, err);
  if (st != NA64_OK) {
    na64_cond__rollback(c);
    return st;
  }
  return na64_cond__commit(c, err);
}

int na64_cond_insert_straw_calib(na64_cond *c, int first_run, int last_run, const char *plane, int nwires,
                                 const double *t0, int npoints, const double *t, const double *r, double sigma_r,
                                 const char *comment, na64_err *err)
{
  NA64_CALL(check_iov(c, first_run, last_run, err));
  if (!plane || !plane[0] || strlen(plane) >= NA64_COND_NAME_LEN)
    return na64_err_set(err, NA64_EINVAL, "straw calibration: plane name '%s' is empty or too long", plane ? plane : "");
  if (nwires < 0 || (nwires > 0 && !t0))
    return na64_err_set(err, NA64_EINVAL, "straw calibration %s: nwires = %d without t0 values", plane, nwires);
  for (int w = 0; w < nwires; ++w)
    if (isinf(t0[w])) return na64_err_set(err, NA64_EINVAL, "straw calibration %s: t0[%d] = %g is not finite", plane, w, t0[w]);
  if (npoints) {
    if (npoints > NA64_COND_MAX_RT_POINTS || !t || !r)
      return na64_err_set(err, NA64_EINVAL, "straw calibration %s: r(t) with %d points (at most %d, t and r needed)",
                          plane, npoints, NA64_COND_MAX_RT_POINTS);
    NA64_CALL(na64_cond__check_rt(t, r, npoints, err));
    if (!(sigma_r > 0) || !isfinite(sigma_r))
      return na64_err_set(err, NA64_EINVAL, "straw calibration %s: sigma_r = %g cm is not positive", plane, sigma_r);
  }
  NA64_CALL(na64_cond__begin(c, 1, err));
  int st = NA64_OK;
  sqlite3_stmt *ins = NULL;
  if (nwires) {
    if (sqlite3_prepare_v2(c->db,
                           "INSERT INTO straw_t0 (first_run, last_run, setup, plane, wire, t0, comment) "
                           "VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6)",
                           -1, &ins, NULL) != SQLITE_OK)
      st = na64_cond__sqlerr(c, err, "preparing straw_t0 insert");
    for (int w = 0; w < nwires && st == NA64_OK; ++w) {
      if (isnan(t0[w])) continue;
      bind_iov(ins, first_run, last_run);
      sqlite3_bind_text(ins, 3, plane, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int(ins, 4, w);
      sqlite3_bind_double(ins, 5, t0[w]);
      if (comment) sqlite3_bind_text(ins, 6, comment, -1, SQLITE_TRANSIENT);
      else sqlite3_bind_null(ins, 6);
      st = step_reset(c, ins, "inserting straw_t0", err);
    }
    sqlite3_finalize(ins);
    ins = NULL;
  }
  if (st == NA64_OK && npoints) {
    /* the point list in the documented text form, 17 significant digits so it reads back exactly */
    size_t cap = (size_t)npoints * 52 + 4, used = 0;
    char *pts = malloc(cap);
    if (!pts) st = na64_err_set(err, NA64_ENOMEM, "out of memory");
    locale_t loc = na64_c_locale_enter(); /* the stored text is in the C locale, as it is parsed */
    for (int i = 0; st == NA64_OK && i < npoints; ++i)
      used += (size_t)snprintf(pts + used, cap - used, "%s[%.17g,%.17g]", i ? "," : "[", t[i], r[i]);
    na64_c_locale_leave(loc);
    if (st == NA64_OK) {
      snprintf(pts + used, cap - used, "]");
      if (sqlite3_prepare_v2(c->db,
                             "INSERT INTO straw_rt (first_run, last_run, setup, plane, points, sigma_r, comment) "
                             "VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6)",
                             -1, &ins, NULL) != SQLITE_OK)
        st = na64_cond__sqlerr(c, err, "preparing straw_rt insert");
      else {
        bind_iov(ins, first_run, last_run);
        sqlite3_bind_text(ins, 3, plane, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 4, pts, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(ins, 5, sigma_r);
        if (comment) sqlite3_bind_text(ins, 6, comment, -1, SQLITE_TRANSIENT);
        else sqlite3_bind_null(ins, 6);
        st = step_reset(c, ins, "inserting straw_rt", err);
      }
      sqlite3_finalize(ins);
    }
    free(pts);
  }
  if (st != NA64_OK) na64_err_prefix(err, "straw calibration %s runs %d-%d", plane, first_run, last_run);
  return finish(c, first_run, last_run, st, err);
}

int na64_cond_insert_calo_calib(na64_cond *c, int first_run, int last_run, size_t n, const na64_cond_calo_calib *rows,
                                const char *comment, na64_err *err)
{
  NA64_CALL(check_iov(c, first_run, last_run, err));
  if (n && !rows) return na64_err_set(err, NA64_EINVAL, "calorimeter calibration: NULL rows");
  for (size_t i = 0; i < n; ++i) {
    const na64_cond_calo_calib *k = &rows[i];
    if (!k->detector[0] || memchr(k->detector, 0, sizeof k->detector) == NULL)
      return na64_err_set(err, NA64_EINVAL, "calorimeter calibration row %zu: bad detector name", i);
    if (k->module < 0 || k->ix < 0 || k->iy < 0 || k->section < 0)
      return na64_err_set(err, NA64_EINVAL, "calorimeter calibration row %zu (%s): negative module/ix/iy/section", i,
                          k->detector);
    if (!(k->gain > 0) || !isfinite(k->gain) || !isfinite(k->ped_even) || !isfinite(k->ped_odd))
      return na64_err_set(err, NA64_EINVAL,
                          "calorimeter calibration row %zu (%s): gain = %g must be positive and finite, pedestals %g, %g "
                          "finite",
                          i, k->detector, k->gain, k->ped_even, k->ped_odd);
  }
  NA64_CALL(na64_cond__begin(c, 1, err));
  int st = NA64_OK;
  sqlite3_stmt *ins = NULL;
  if (sqlite3_prepare_v2(c->db,
                         "INSERT INTO calo_calib (first_run, last_run, setup, detector, module, ix, iy, section, gain, "
                         "ped_even, ped_odd, comment) VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                         -1, &ins, NULL) != SQLITE_OK)
    st = na64_cond__sqlerr(c, err, "preparing calo_calib insert");
  for (size_t i = 0; i < n && st == NA64_OK; ++i) {
    const na64_cond_calo_calib *k = &rows[i];
    bind_iov(ins, first_run, last_run);
    sqlite3_bind_text(ins, 3, k->detector, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(ins, 4, k->module);
    sqlite3_bind_int(ins, 5, k->ix);
    sqlite3_bind_int(ins, 6, k->iy);
    sqlite3_bind_int(ins, 7, k->section);
    sqlite3_bind_double(ins, 8, k->gain);
    sqlite3_bind_double(ins, 9, k->ped_even);
    sqlite3_bind_double(ins, 10, k->ped_odd);
    if (comment) sqlite3_bind_text(ins, 11, comment, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(ins, 11);
    st = step_reset(c, ins, "inserting calo_calib", err);
  }
  sqlite3_finalize(ins);
  return finish(c, first_run, last_run, st, err);
}
