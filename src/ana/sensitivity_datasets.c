/* Combined data sets for `na64 limits --dataset SETUP:EOT [--dataset ...]` (issue 12): each data
 * set is a setup of the conditions database (beam energy, mode and for the visible mode the WCAL
 * depth and decay region) with its own number of electrons on target; the expected signals add
 * (na64_limit_scan_combined), as NA64 combined its 2017 (100 GeV) and 2018 (150 GeV) visible runs
 * in PRD 101 (2020) 071101. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/cond.h"

/* the first run of `setup` in the run_info table (NA64_ENOTFOUND listing the known setups) */
static int first_run_of_setup(const char *db_path, const char *setup, int *run, na64_err *err)
{
  char path[4096];
  if (!db_path) {
    if (na64_cond_default_path(path, sizeof path))
      return na64_err_set(err, NA64_ENOTFOUND, "no conditions database found (set %s)", NA64_COND_ENV);
    db_path = path;
  }
  na64_cond *db;
  NA64_CALL(na64_cond_open(db_path, NA64_COND_READONLY, &db, err));
  na64_cond_records *r;
  int st = na64_cond_fetch(db, NA64_COND_ALL_RUNS, &r, err);
  na64_cond_close(db);
  if (st != NA64_OK) return st;
  char known[512] = "";
  *run = -1;
  for (size_t i = 0; i < r->nruns && *run < 0; ++i) {
    const na64_cond_iov *iov = &r->runs[i].iov;
    if (!strcmp(iov->setup, setup)) *run = iov->first_run;
    else if (!strstr(known, iov->setup) && strlen(known) + strlen(iov->setup) + 3 < sizeof known) {
      if (known[0]) strcat(known, ", ");
      strcat(known, iov->setup);
    }
  }
  na64_cond_records_free(r);
  if (*run < 0)
    return na64_err_set(err, NA64_ENOTFOUND, "unknown setup '%s' (the database %s has: %s)", setup, db_path, known);
  return NA64_OK;
}

int na64_sens_dataset_parse(const char *spec, char *setup, size_t setup_len, double *eot, na64_err *err)
{
  const char *colon = spec ? strrchr(spec, ':') : NULL;
  if (!colon || colon == spec)
    return na64_err_set(err, NA64_EINVAL, "data set '%s' must be SETUP:EOT (a setup name or run number, then the "
                        "electrons on target)", spec ? spec : "(null)");
  size_t n = (size_t)(colon - spec);
  if (n >= setup_len) return na64_err_set(err, NA64_EINVAL, "data set '%s': setup name too long", spec);
  char *end;
  double v = na64_num_parse(colon + 1, &end);
  if (end == colon + 1 || *end || !isfinite(v) || !(v >= 1.0) || v > 1e16)
    return na64_err_set(err, NA64_EINVAL, "data set '%s': EOT '%s' must be a number in [1, 1e16]", spec, colon + 1);
  memcpy(setup, spec, n);
  setup[n] = '\0';
  *eot = v;
  return NA64_OK;
}

/* a run number when `setup` is all digits, else the setup's first run */
static int resolve_run(const char *db_path, const char *setup, int *run, na64_err *err)
{
  size_t n = strspn(setup, "0123456789");
  if (n > 0 && n == strlen(setup) && n < 10) {
    *run = atoi(setup);
    return NA64_OK;
  }
  return first_run_of_setup(db_path, setup, run, err);
}

int na64_sens_dataset_options(const na64_sens_options *base, const char *db_path, const char *spec, int keep_mode,
                              na64_sens_options *out, char *summary, size_t summary_len, na64_err *err)
{
  char setup[64];
  double eot;
  int run;
  NA64_CALL(na64_sens_dataset_parse(spec, setup, sizeof setup, &eot, err));
  NA64_CALL(resolve_run(db_path, setup, &run, err));
  *out = *base;
  out->eot = eot;
  int st = na64_sens_options_from_run(out, db_path, run, 1, keep_mode, summary, summary_len, err);
  if (st != NA64_OK) na64_err_prefix(err, "data set '%s'", spec);
  return st;
}

int na64_sens_curve_compute_combined(const na64_sens_options *o, int n, na64_sens_curve *c,
                                     void (*progress)(int, int, void *), void *user, na64_err *err)
{
  if (n < 1 || n > NA64_LIMIT_MAX_DATASETS)
    return na64_err_set(err, NA64_EINVAL, "%d data sets: give 1 to %d", n, NA64_LIMIT_MAX_DATASETS);
  if (c->n < 1 || !c->masses) return na64_err_set(err, NA64_EINVAL, "sensitivity curve without masses");
  na64_limit_config cfg[NA64_LIMIT_MAX_DATASETS];
  for (int i = 0; i < n; ++i) {
    int st = na64_sens_limit_config(&o[i], &cfg[i], err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "data set %d", i + 1);
      return st;
    }
  }
  free(c->pt);
  c->pt = calloc((size_t)c->n, sizeof *c->pt);
  if (!c->pt) return na64_err_set(err, NA64_ENOMEM, "out of memory");
  cfg[0].progress = progress;
  cfg[0].progress_user = user;
  return na64_limit_scan_combined(cfg, n, c->masses, c->n, c->pt, err);
}
