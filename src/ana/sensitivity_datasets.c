/* Combined data sets for `na64 limits --dataset SETUP:EOT [--dataset ...]` (issue 12): each data
 * set is a setup of the conditions database (beam energy, mode and for the visible mode the WCAL
 * depth and decay region) with its own number of electrons on target; the expected signals add
 * (na64_limit_scan_combined), as NA64 combined its 2017 (100 GeV) and 2018 (150 GeV) visible runs
 * in PRD 101 (2020) 071101. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ana_internal.h"
#include "na64/ana.h"
#include "na64/cond.h"
#include "na64/geom.h"

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

/* "SETUP:EOT[:SOURCE]": the setup (before the first colon), the EOT, and the rest as SOURCE ("" if none) */
static int parse_spec(const char *spec, char *setup, size_t setup_len, double *eot, char *source, size_t source_len,
                      na64_err *err)
{
  const char *colon = spec ? strchr(spec, ':') : NULL;
  if (!colon || colon == spec)
    return na64_err_set(err, NA64_EINVAL, "data set '%s' must be SETUP:EOT[:RUNDIR] (a setup name or run number, the "
                        "electrons on target, optionally a `na64 run` report directory)", spec ? spec : "(null)");
  size_t n = (size_t)(colon - spec);
  if (n >= setup_len) return na64_err_set(err, NA64_EINVAL, "data set '%s': setup name too long", spec);
  const char *colon2 = strchr(colon + 1, ':');
  size_t elen = colon2 ? (size_t)(colon2 - colon - 1) : strlen(colon + 1);
  char etext[64];
  if (elen >= sizeof etext) elen = sizeof etext - 1;
  memcpy(etext, colon + 1, elen);
  etext[elen] = '\0';
  char *end;
  double v = na64_num_parse(etext, &end);
  if (end == etext || *end || !isfinite(v) || !(v >= 1.0) || v > 1e16)
    return na64_err_set(err, NA64_EINVAL, "data set '%s': EOT '%s' must be a number in [1, 1e16]", spec, etext);
  const char *src = colon2 ? colon2 + 1 : "";
  if (colon2 && !*src) return na64_err_set(err, NA64_EINVAL, "data set '%s': empty RUNDIR after the EOT", spec);
  if (source && strlen(src) >= source_len)
    return na64_err_set(err, NA64_EINVAL, "data set '%s': RUNDIR name too long", spec);
  memcpy(setup, spec, n);
  setup[n] = '\0';
  *eot = v;
  if (source) snprintf(source, source_len, "%s", src);
  return NA64_OK;
}

int na64_sens_dataset_parse(const char *spec, char *setup, size_t setup_len, double *eot, na64_err *err)
{
  return parse_spec(spec, setup, setup_len, eot, NULL, 0, err);
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

/* ==== measured efficiency tables (issue 12: `--dataset SETUP:EOT:RUNDIR`) ==== */

#define X17_MASS 0.0167 /* GeV, the X17 of the visible job's x17.csv (PRL 120 (2018) 231802) */

void na64_sens_eff_table_release(na64_sens_eff_table *t)
{
  if (!t) return;
  free(t->mass);
  free(t->eps);
  free(t->eff);
  free(t->ps_mass);
  free(t->ps_meps);
  free(t->ps_meff);
  for (int j = 0; j < 2; ++j) {
    free(t->med_mass[j]);
    free(t->med_meps[j]);
    free(t->med_meff[j]);
  }
  memset(t, 0, sizeof *t);
}

static void table_init(na64_sens_eff_table *t)
{
  memset(t, 0, sizeof *t);
  t->mediator = NA64_MED_VECTOR;
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) t->ps_eps[k] = t->ps_eff[k] = NAN;
}

/* a mass row more: NaN points */
static int table_grow(na64_sens_eff_table *t, double m, na64_err *err)
{
  int n = t->nmass + 1;
  double *mass = realloc(t->mass, (size_t)n * sizeof *mass);
  if (mass) t->mass = mass;
  double(*eps)[NA64_VIS_EFF_POINTS] = mass ? realloc(t->eps, (size_t)n * sizeof *eps) : NULL;
  if (eps) t->eps = eps;
  double(*eff)[NA64_VIS_EFF_POINTS] = eps ? realloc(t->eff, (size_t)n * sizeof *eff) : NULL;
  if (!eff) return na64_err_set(err, NA64_ENOMEM, "efficiency table: out of memory");
  t->eff = eff;
  t->mass[n - 1] = m;
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) t->eps[n - 1][k] = t->eff[n - 1][k] = NAN;
  t->nmass = n;
  return NA64_OK;
}

/* split a CSV line at commas into at most max fields (no quoting: the fields read come first) */
static int csv_split(char *line, char **f, int max)
{
  int n = 0;
  line[strcspn(line, "\r\n")] = '\0';
  for (char *p = line; n < max;) {
    f[n++] = p;
    char *c = strchr(p, ',');
    if (!c) break;
    *c = '\0';
    p = c + 1;
  }
  return n;
}

/* a number field of path:line (empty text: NaN when allow_empty) */
static int csv_num(const char *text, const char *path, int line, const char *what, int allow_empty, double *v,
                   na64_err *err)
{
  char *end;
  if (allow_empty && (!*text || !strcmp(text, "nan"))) {
    *v = NAN;
    return NA64_OK;
  }
  *v = na64_num_parse(text, &end);
  if (end == text || *end || (!allow_empty && !isfinite(*v)))
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: %s '%s' is not a number", path, line, what, text);
  return NA64_OK;
}

static FILE *open_in(const char *dir, const char *name, char *path, size_t len, int required, na64_err *err)
{
  snprintf(path, len, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f && required) na64_err_set(err, NA64_EIO, "%s: cannot read (%s); is %s a `na64 run` report directory?", path,
                                   strerror(errno), dir);
  return f;
}

/* one row of efficiency.csv: visible (mass_MeV,eps,efficiency,...) or invisible (mass_MeV,efficiency,...) */
static int eff_row(na64_sens_eff_table *t, char **f, int nf, const char *path, int line, na64_err *err)
{
  double m, eps = NAN, e;
  if (nf < (t->visible ? 3 : 2)) return na64_err_set(err, NA64_EFORMAT, "%s:%d: too few columns", path, line);
  NA64_CALL(csv_num(f[0], path, line, "mass_MeV", 0, &m, err));
  if (t->visible) NA64_CALL(csv_num(f[1], path, line, "eps", 0, &eps, err));
  NA64_CALL(csv_num(f[t->visible ? 2 : 1], path, line, "efficiency", 0, &e, err));
  if (!(m > 0.0) || !(e >= 0.0 && e <= 1.0) || (t->visible && !(eps > 0.0)))
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: mass %g MeV, efficiency %g%s: out of range", path, line, m, e,
                        t->visible ? " or eps <= 0" : "");
  m *= 1e-3;
  if (t->nmass == 0 || m > t->mass[t->nmass - 1]) NA64_CALL(table_grow(t, m, err));
  else if (m != t->mass[t->nmass - 1])
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: masses must increase (%g MeV)", path, line, m * 1e3);
  int i = t->nmass - 1, k = 0;
  while (k < NA64_VIS_EFF_POINTS && isfinite(t->eps[i][k])) ++k;
  if ((t->visible && k == NA64_VIS_EFF_POINTS) || (!t->visible && isfinite(t->eff[i][0])))
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: too many rows for %g MeV", path, line, m * 1e3);
  if (t->visible && k > 0 && !(eps > t->eps[i][k - 1]))
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: couplings must increase at %g MeV", path, line, m * 1e3);
  t->eps[i][t->visible ? k : 0] = eps;
  t->eff[i][t->visible ? k : 0] = e;
  return NA64_OK;
}

/* efficiency.csv, or (required 0: optional) efficiency_pseudoscalar.csv */
static int read_efficiency(const char *dir, const char *name, int required, na64_sens_eff_table *t, na64_err *err)
{
  char path[4200], line[1024];
  FILE *f = open_in(dir, name, path, sizeof path, required, err);
  if (!f) return required ? NA64_EIO : NA64_OK;
  int st = NA64_OK, ln = 1;
  if (!fgets(line, sizeof line, f)) line[0] = '\0';
  line[strcspn(line, "\r\n")] = '\0';
  if (!strncmp(line, "mass_MeV,eps,efficiency", 23)) t->visible = 1;
  else if (strncmp(line, "mass_MeV,efficiency", 19))
    st = na64_err_set(err, NA64_EFORMAT, "%s:1: header '%s' is neither the visible (mass_MeV,eps,efficiency,...) nor "
                      "the invisible (mass_MeV,efficiency,...) efficiency table", path, line);
  while (st == NA64_OK && fgets(line, sizeof line, f)) {
    char *fld[4];
    ++ln;
    if (line[0] == '\n' || line[0] == '\0') continue;
    st = eff_row(t, fld, csv_split(line, fld, 4), path, ln, err);
  }
  fclose(f);
  if (st == NA64_OK && required && t->nmass == 0) st = na64_err_set(err, NA64_EFORMAT, "%s: no measured efficiency", path);
  return st;
}

/* x17.csv (visible, optional): the pseudoscalar row's efficiencies at its efficiency-1 edges and
 * middle, or at the published range 2.1e-4 .. 3.2e-4 (PRD 104 (2021) L111102) when the setup alone
 * has no island (the couplings the visible job measured at, vis_job.c x17_setup) */
static int read_x17(const char *dir, na64_sens_eff_table *t, na64_err *err)
{
  char path[4200], line[1024];
  FILE *f = open_in(dir, "x17.csv", path, sizeof path, 0, err);
  if (!f) return NA64_OK;
  int st = NA64_OK, ln = 0;
  while (st == NA64_OK && fgets(line, sizeof line, f)) {
    char *fld[11];
    ++ln;
    if (strncmp(line, "pseudoscalar,", 13)) continue;
    if (csv_split(line, fld, 11) < 9) {
      st = na64_err_set(err, NA64_EFORMAT, "%s:%d: too few columns", path, ln);
      break;
    }
    double lo, hi, e[NA64_VIS_EFF_POINTS];
    st = csv_num(fld[4], path, ln, "eps_low_eff1", 1, &lo, err);
    if (st == NA64_OK) st = csv_num(fld[5], path, ln, "eps_high_eff1", 1, &hi, err);
    for (int k = 0; k < NA64_VIS_EFF_POINTS && st == NA64_OK; ++k) st = csv_num(fld[6 + k], path, ln, "eff", 1, &e[k], err);
    if (st != NA64_OK) break;
    if (!isfinite(lo) || !isfinite(hi)) lo = 2.1e-4, hi = 3.2e-4;
    const double p[NA64_VIS_EFF_POINTS] = {lo, sqrt(lo * hi), hi};
    for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) {
      t->ps_eps[k] = p[k];
      t->ps_eff[k] = e[k];
      if (isfinite(e[k])) t->has_ps = 1;
    }
  }
  fclose(f);
  return st;
}

/* efficiency_pseudoscalar.csv (visible, optional; psjoint): the pseudoscalar at every mass of the
 * card, the rows of efficiency.csv; it replaces the X17 row of x17.csv */
static int read_ps_masses(const char *dir, na64_sens_eff_table *t, na64_err *err)
{
  na64_sens_eff_table p;
  table_init(&p);
  int st = read_efficiency(dir, "efficiency_pseudoscalar.csv", 0, &p, err);
  if (st == NA64_OK && p.nmass > 0 && !p.visible)
    st = na64_err_set(err, NA64_EFORMAT, "%s/efficiency_pseudoscalar.csv: not the visible table", dir);
  if (st == NA64_OK && p.nmass > 0) {
    t->ps_nmass = p.nmass;
    t->ps_mass = p.mass, t->ps_meps = p.eps, t->ps_meff = p.eff;
    p.mass = NULL, p.eps = NULL, p.eff = NULL;
    t->has_ps = 1;
  }
  na64_sens_eff_table_release(&p);
  return st;
}

/* efficiency_scalar.csv and efficiency_axial.csv (visible, optional; visphys): the scalar and the axial at
 * every mass of the card, the columns of efficiency.csv (and `source`, not read) */
static int read_med_masses(const char *dir, na64_sens_eff_table *t, na64_err *err)
{
  static const char *const file[2] = {"efficiency_scalar.csv", "efficiency_axial.csv"};
  for (int j = 0; j < 2; ++j) {
    na64_sens_eff_table p;
    table_init(&p);
    int st = read_efficiency(dir, file[j], 0, &p, err);
    if (st == NA64_OK && p.nmass > 0 && !p.visible)
      st = na64_err_set(err, NA64_EFORMAT, "%s/%s: not the visible table", dir, file[j]);
    if (st == NA64_OK && p.nmass > 0) {
      t->med_nmass[j] = p.nmass;
      t->med_mass[j] = p.mass, t->med_meps[j] = p.eps, t->med_meff[j] = p.eff;
      p.mass = NULL, p.eps = NULL, p.eff = NULL;
    }
    na64_sens_eff_table_release(&p);
    if (st != NA64_OK) return st;
  }
  return NA64_OK;
}

/* background.csv: visible "total" row (rate_per_eot, error_per_eot: columns 5, 6), invisible "limit"
 * row (per_eot, per_eot_error: columns 3, 4) */
static int read_background(const char *dir, na64_sens_eff_table *t, na64_err *err)
{
  char path[4200], line[2048];
  FILE *f = open_in(dir, "background.csv", path, sizeof path, 0, err);
  if (!f) return NA64_OK;
  const char *row = t->visible ? "total," : "limit,";
  int st = NA64_OK, ln = 0, col = t->visible ? 4 : 2;
  while (st == NA64_OK && fgets(line, sizeof line, f)) {
    char *fld[8];
    ++ln;
    if (strncmp(line, row, strlen(row))) continue;
    if (csv_split(line, fld, 8) < col + 2) {
      st = na64_err_set(err, NA64_EFORMAT, "%s:%d: too few columns", path, ln);
      break;
    }
    st = csv_num(fld[col], path, ln, "background per EOT", 1, &t->bkg_per_eot, err);
    if (st == NA64_OK) st = csv_num(fld[col + 1], path, ln, "its error", 1, &t->bkg_error_per_eot, err);
    if (st == NA64_OK && isfinite(t->bkg_per_eot)) {
      if (!isfinite(t->bkg_error_per_eot)) t->bkg_error_per_eot = 0.0;
      t->has_background = 1;
    }
  }
  fclose(f);
  return st;
}

/* card.yaml: the setup's run and the beam energy the efficiency was measured with */
static int read_card(const char *dir, na64_sens_eff_table *t, na64_err *err)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/card.yaml", dir);
  if (t->visible) {
    na64_vis_config c;
    na64_vis_config_default(&c);
    NA64_CALL(na64_vis_config_load(path, &c, err));
    t->run = c.run;
    t->beam_energy = c.beam_energy;
    return NA64_OK;
  }
  na64_sim_config c;
  na64_sim_config_default(&c);
  NA64_CALL(na64_sim_config_load(path, &c, err));
  t->run = c.run;
  t->beam_energy = c.beam_energy;
  return NA64_OK;
}

int na64_sens_eff_table_read(const char *dir, na64_sens_eff_table *t, na64_err *err)
{
  table_init(t);
  if (!dir || !*dir) return na64_err_set(err, NA64_EINVAL, "efficiency table: no directory");
  snprintf(t->source, sizeof t->source, "%s", dir);
  NA64_CALL(read_efficiency(dir, "efficiency.csv", 1, t, err));
  if (t->visible) NA64_CALL(read_x17(dir, t, err));
  if (t->visible) NA64_CALL(read_ps_masses(dir, t, err));
  if (t->visible) NA64_CALL(read_med_masses(dir, t, err));
  NA64_CALL(read_background(dir, t, err));
  return read_card(dir, t, err);
}

/* eff at row i (visible: in ln eps as the visible job; NaN: nothing measured at this mass) */
static double row_eff(int visible, const double *eps_i, const double *eff_i, double eps)
{
  if (!visible) return eff_i[0];
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k)
    if (isfinite(eff_i[k])) return ana_vis_eff_interp(eps_i, eff_i, eps);
  return NAN;
}

/* eff(m, eps) of n measured masses: the measured masses around m, linear in ln m between them, the
 * nearest beyond (na64_limit_efficiency_at) */
static double masses_eff(int visible, int n, const double *mass, const double (*e_eps)[NA64_VIS_EFF_POINTS],
                         const double (*e_eff)[NA64_VIS_EFF_POINTS], double m, double eps)
{
  int below = -1, above = -1;
  double eb = NAN, ea = NAN;
  for (int i = 0; i < n; ++i) {
    double e = row_eff(visible, e_eps[i], e_eff[i], eps);
    if (!isfinite(e)) continue;
    if (mass[i] <= m) below = i, eb = e;
    else if (above < 0) above = i, ea = e;
  }
  if (below < 0 && above < 0) return 0.0;
  if (below < 0) return ea;
  if (above < 0 || mass[below] == m) return eb;
  double f = log(m / mass[below]) / log(mass[above] / mass[below]);
  return eb + f * (ea - eb);
}

double na64_sens_eff_table_at(const na64_sens_eff_table *t, int mediator, double m, double eps)
{
  if (!t) return 0.0;
  if (t->visible && (mediator == NA64_MED_SCALAR || mediator == NA64_MED_AXIAL) && mediator != t->mediator) {
    int j = mediator == NA64_MED_AXIAL; /* visphys: efficiency_{scalar,axial}.csv */
    if (t->med_nmass[j] == 0) return 0.0;
    return masses_eff(1, t->med_nmass[j], t->med_mass[j], (const double(*)[NA64_VIS_EFF_POINTS])t->med_meps[j],
                      (const double(*)[NA64_VIS_EFF_POINTS])t->med_meff[j], m, eps);
  }
  if (t->visible && mediator != t->mediator) {
    if (mediator != NA64_MED_PSEUDOSCALAR || !t->has_ps) return 0.0;
    if (t->ps_nmass > 0) /* psjoint: measured at every mass of the card */
      return masses_eff(1, t->ps_nmass, t->ps_mass, (const double(*)[NA64_VIS_EFF_POINTS])t->ps_meps,
                        (const double(*)[NA64_VIS_EFF_POINTS])t->ps_meff, m, eps);
    return ana_vis_eff_interp(t->ps_eps, t->ps_eff, eps); /* x17.csv: the 16.7 MeV efficiency at every mass */
  }
  return masses_eff(t->visible, t->nmass, t->mass, (const double(*)[NA64_VIS_EFF_POINTS])t->eps,
                    (const double(*)[NA64_VIS_EFF_POINTS])t->eff, m, eps);
}

/* ==== data sets: setup, efficiency source, background ==== */

/* The NA64 report's expected background levels per EOT at 100 GeV, upper bounds used as the
 * background of a data set without a run directory: Table 2 (visible mode) total <= 3e-13 ("weak
 * energy dependence"), Table 1 (invisible mode) total < 1e-12 (refdata/na64-report-facts.md). */
#define TABLE2_TOTAL_PER_EOT 3e-13
#define TABLE1_TOTAL_PER_EOT 1e-12

void na64_sens_dataset_release(na64_sens_dataset *ds)
{
  if (!ds) return;
  na64_sens_eff_table_release(&ds->eff);
}

/* the setup name of `run` */
static int setup_of_run(const char *db_path, long run, char *setup, size_t len, na64_err *err)
{
  na64_geom *g;
  NA64_CALL(na64_geom_load_path(db_path, (int)run, &g, err));
  snprintf(setup, len, "%s", g->setup);
  na64_geom_free(g);
  return NA64_OK;
}

/* The card `card` that measured (run, energy) must be of the data set's setup and beam energy. */
static int check_setup(const na64_sens_dataset *ds, const char *db_path, const char *card, long run, double energy,
                       na64_err *err)
{
  char want[64], got[64];
  NA64_CALL(setup_of_run(db_path, ds->run, want, sizeof want, err));
  NA64_CALL(setup_of_run(db_path, run, got, sizeof got, err));
  if (strcmp(want, got))
    return na64_err_set(err, NA64_EINVAL, "%s: run %ld is of setup %s, the data set's is %s", card, run, got, want);
  if (fabs(energy - ds->o.energy) > 1e-6 * ds->o.energy)
    return na64_err_set(err, NA64_EINVAL, "%s: beam energy %g GeV, the setup %s has %g GeV", card, energy, want,
                        ds->o.energy);
  return NA64_OK;
}

/* the efficiency table of run directory dir, checked against the data set: mode, setup, beam energy */
static int open_rundir(na64_sens_dataset *ds, const char *db_path, const char *dir, na64_err *err)
{
  na64_sens_eff_table *t = &ds->eff;
  NA64_CALL(na64_sens_eff_table_read(dir, t, err));
  int vis = ds->o.mode == NA64_SENS_VISIBLE;
  if (t->visible != vis)
    return na64_err_set(err, NA64_EINVAL, "%s/efficiency.csv is the %s mode's table, the setup %s is used in the %s mode",
                        dir, t->visible ? "visible" : "invisible", ds->setup, vis ? "visible" : "invisible");
  char card[1100];
  snprintf(card, sizeof card, "%s/card.yaml", dir);
  return check_setup(ds, db_path, card, t->run, t->beam_energy, err);
}

/* a run card for the measurement on the fly: its run must be of the data set's setup, its energy the setup's */
static int open_card(na64_sens_dataset *ds, const char *db_path, const char *path, na64_err *err)
{
  long run;
  double energy;
  if (ds->o.mode == NA64_SENS_VISIBLE) {
    na64_vis_config c;
    na64_vis_config_default(&c);
    NA64_CALL(na64_vis_config_load(path, &c, err));
    run = c.run, energy = c.beam_energy;
  } else {
    na64_sim_config c;
    na64_sim_config_default(&c);
    NA64_CALL(na64_sim_config_load(path, &c, err));
    run = c.run, energy = c.beam_energy;
  }
  NA64_CALL(check_setup(ds, db_path, path, run, energy, err));
  snprintf(ds->card, sizeof ds->card, "%s", path);
  return NA64_OK;
}

static int open_source(na64_sens_dataset *ds, const char *db_path, const char *source, na64_err *err)
{
  struct stat sb;
  if (stat(source, &sb) != 0)
    return na64_err_set(err, NA64_EIO, "%s: %s (a `na64 run` report directory or a visible run card)", source,
                        strerror(errno));
  return S_ISDIR(sb.st_mode) ? open_rundir(ds, db_path, source, err) : open_card(ds, db_path, source, err);
}

/* a trailing ":observed=N" field of the source (or the whole source "observed=N"): the data set's
 * observed count N (default 0) */
static int strip_observed(const char *spec, char *source, int *observed, na64_err *err)
{
  *observed = 0;
  char *field = strrchr(source, ':');
  field = field ? field + 1 : source;
  if (strncmp(field, "observed=", 9)) return NA64_OK;
  char *end;
  long n = strtol(field + 9, &end, 10);
  if (end == field + 9 || *end || n < 0 || n > 1000000)
    return na64_err_set(err, NA64_EINVAL, "data set '%s': '%s' must be observed=N with 0 <= N <= 1e6", spec, field);
  *observed = (int)n;
  if (field > source) --field; /* the colon too */
  *field = '\0';
  return NA64_OK;
}

/* the data set's background: its run directory's, else the report's level (Table 2 or 1) */
static void dataset_background(na64_sens_dataset *ds)
{
  const na64_sens_eff_table *t = &ds->eff;
  if (t->has_background) {
    ds->background = t->bkg_per_eot * ds->eot;
    ds->background_error = t->bkg_error_per_eot * ds->eot;
    ds->background_source = "run directory";
  } else {
    int vis = ds->o.mode == NA64_SENS_VISIBLE;
    ds->background = (vis ? TABLE2_TOTAL_PER_EOT : TABLE1_TOTAL_PER_EOT) * ds->eot;
    ds->background_error = 0.0;
    ds->background_source = vis ? "Table 2 level" : "Table 1 level";
  }
}

int na64_sens_dataset_open(const na64_sens_options *base, const char *db_path, const char *spec, int keep_mode,
                           na64_sens_dataset *ds, char *summary, size_t summary_len, na64_err *err)
{
  memset(ds, 0, sizeof *ds);
  table_init(&ds->eff);
  char source[1024];
  snprintf(ds->spec, sizeof ds->spec, "%s", spec ? spec : "");
  if (db_path && strlen(db_path) >= sizeof ds->conditions)
    return na64_err_set(err, NA64_EINVAL, "conditions database path too long: %.80s...", db_path);
  snprintf(ds->conditions, sizeof ds->conditions, "%s", db_path ? db_path : "");
  int st = parse_spec(spec, ds->setup, sizeof ds->setup, &ds->eot, source, sizeof source, err);
  if (st == NA64_OK) st = strip_observed(spec, source, &ds->observed, err);
  if (st == NA64_OK) st = resolve_run(db_path, ds->setup, &ds->run, err);
  if (st == NA64_OK) {
    ds->o = *base;
    ds->o.eot = ds->eot;
    ds->o.eff_table = NULL;
    st = na64_sens_options_from_run(&ds->o, db_path, ds->run, 1, keep_mode, summary, summary_len, err);
  }
  if (st == NA64_OK && source[0]) st = open_source(ds, db_path, source, err);
  if (st != NA64_OK) {
    na64_err_prefix(err, "data set '%s'", spec ? spec : "(null)");
    return st;
  }
  dataset_background(ds);
  if (summary && summary_len) {
    size_t k = strlen(summary);
    if (k < summary_len)
      na64_num_format(summary + k, summary_len - k, "#   background %.3g +- %.2g events (%s)%s%s\n", ds->background,
                      ds->background_error, ds->background_source, ds->eff.nmass ? "; efficiency from " : "",
                      ds->eff.nmass ? ds->eff.source : "");
  }
  return NA64_OK;
}

/* ==== the combination ==== */

/* The visible job's configuration of a data set for the measurement on the fly: its card, else the
 * simulation defaults with the setup's run and beam energy, and the selection defaults with the
 * energy cut of the visible cards, E_ECAL >= 25 GeV and E_WCAL <= E0 - 25 GeV ([RECALLED] PRL 120
 * (2018) 231802, PRD 101 (2020) 071101; configs/visible_2017.yaml, visible_2018.yaml). */
static int measure_config(const na64_sens_dataset *ds, na64_vis_config *sim, na64_vis_select_config *sel, na64_err *err)
{
  na64_vis_config_default(sim);
  na64_vis_select_config_default(sel);
  if (ds->card[0]) {
    NA64_CALL(na64_vis_config_load(ds->card, sim, err));
    na64_card *card = NULL;
    NA64_CALL(na64_card_load(ds->card, &card, err));
    int st = na64_vis_select_config_read(card, sel, err);
    na64_card_free(card);
    if (st != NA64_OK) return st;
  } else {
    sim->run = ds->run;
    sim->beam_energy = ds->o.energy;
    memcpy(sim->conditions, ds->conditions, sizeof sim->conditions);
    sel->ecal_fraction_min = 25.0 / ds->o.energy;
    sel->wcal_fraction_max = 1.0 - sel->ecal_fraction_min;
  }
  sel->beam_energy = sim->beam_energy;
  sel->momentum_spread = sim->momentum_spread;
  sel->wcal_stochastic = sim->wcal_stochastic;
  sel->ecal_stochastic = sim->ecal_stochastic;
  return NA64_OK;
}

/* Data set i's efficiency measured at the couplings of the combined efficiency-1 island c1 (its
 * lower edge, middle, upper edge per mass; none where it has no island). */
static int measure_dataset(na64_sens_dataset *ds, int i, const na64_sens_curve *c1, const na64_sens_measure *how,
                           na64_err *err)
{
  na64_vis_config sim;
  na64_vis_select_config sel;
  NA64_CALL(measure_config(ds, &sim, &sel, err));
  na64_sens_eff_table *t = &ds->eff;
  na64_sens_eff_table_release(t);
  table_init(t);
  t->visible = 1;
  t->mediator = ds->o.mediator;
  t->run = sim.run;
  t->beam_energy = sim.beam_energy;
  na64_num_format(t->source, sizeof t->source, "measured on the fly: %llu events per (mass, eps), seed %llu",
                  (unsigned long long)how->events, (unsigned long long)how->seed);
  for (int k = 0; k < c1->n; ++k) {
    double lo = c1->pt[k].eps_low, hi = c1->pt[k].eps_high;
    NA64_CALL(table_grow(t, c1->masses[k], err));
    if (!isfinite(lo) || !isfinite(hi)) continue;
    const double eps[NA64_VIS_EFF_POINTS] = {lo, sqrt(lo * hi), hi};
    /* one seed block per (data set, mass, coupling), as the visible job's samples (SIGNAL_SEED) */
    uint64_t seed = how->seed + 1000003u * (uint64_t)(1 + NA64_VIS_EFF_POINTS * (k + c1->n * i));
    double e_err[NA64_VIS_EFF_POINTS];
    int st = ana_vis_eff_measure(&sim, &sel, c1->masses[k], ds->o.mediator, eps, seed, how->events, how->threads,
                                 t->eff[k], e_err, err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "data set '%s': efficiency at %g MeV", ds->spec, c1->masses[k] * 1e3);
      return st;
    }
    for (int j = 0; j < NA64_VIS_EFF_POINTS; ++j) t->eps[k][j] = eps[j];
  }
  return NA64_OK;
}

/* The invisible job's configuration of a data set: its card, else the defaults with the setup's run
 * and beam energy. */
static int measure_config_invisible(const na64_sens_dataset *ds, na64_sim_config *sc, na64_select_config *sel,
                                    na64_err *err)
{
  na64_sim_config_default(sc);
  na64_select_config_default(sel);
  if (!ds->card[0]) {
    sc->run = ds->run;
    sc->beam_energy = ds->o.energy;
    memcpy(sc->conditions, ds->conditions, sizeof sc->conditions);
    return NA64_OK;
  }
  NA64_CALL(na64_sim_config_load(ds->card, sc, err));
  na64_card *card = NULL;
  NA64_CALL(na64_card_load(ds->card, &card, err));
  int st = na64_select_config_read(card, sel, err);
  na64_card_free(card);
  return st;
}

/* Invisible data set i's efficiency per mass of the curve, as the invisible job's scan. */
static int measure_dataset_invisible(na64_sens_dataset *ds, int i, const na64_sens_curve *c,
                                     const na64_sens_measure *how, na64_err *err)
{
  na64_sim_config sc;
  na64_select_config sel;
  NA64_CALL(measure_config_invisible(ds, &sc, &sel, err));
  na64_sens_eff_table *t = &ds->eff;
  na64_sens_eff_table_release(t);
  table_init(t);
  t->run = sc.run;
  t->beam_energy = sc.beam_energy;
  na64_num_format(t->source, sizeof t->source, "measured on the fly: %llu events per mass, seed %llu",
                  (unsigned long long)how->events, (unsigned long long)how->seed);
  for (int k = 0; k < c->n; ++k) {
    NA64_CALL(table_grow(t, c->masses[k], err));
    uint64_t seed = how->seed + 1000003u * (uint64_t)(1 + k + c->n * i);
    double e_err;
    int st = ana_job_eff_measure(&sc, &sel, c->masses[k], seed, how->events, how->threads, &t->eff[k][0], &e_err, err);
    if (st != NA64_OK) {
      na64_err_prefix(err, "data set '%s': efficiency at %g MeV", ds->spec, c->masses[k] * 1e3);
      return st;
    }
  }
  return NA64_OK;
}

/* the data set's options for the scan: its measured efficiency, if any, with the yield's threshold
 * the efficiency is relative to (the sampler's E_A' >= NA64_VIS_EA_MIN_FRAC E0) */
static na64_sens_options scan_options(const na64_sens_dataset *ds)
{
  na64_sens_options o = ds->o;
  const na64_sens_eff_table *t = &ds->eff;
  o.eff_table = t->nmass > 0 || t->has_ps ? t : NULL;
  if (o.eff_table && o.mode == NA64_SENS_VISIBLE) o.ea_min = NA64_VIS_EA_MIN_FRAC * o.energy;
  return o;
}

/* The combined statistics in o[0]: those of `stats`, the background the sum of the data sets'
 * (unless given), its error their errors in quadrature (independent estimates). */
void na64_sens_datasets_statistics(const na64_sens_options *stats, unsigned bkg_given, const na64_sens_dataset *ds,
                                   int n, na64_sens_options *o0)
{
  double b = 0.0, v = 0.0;
  int nobs = 0;
  for (int i = 0; i < n; ++i) {
    b += ds[i].background;
    v += ds[i].background_error * ds[i].background_error;
    nobs += ds[i].observed;
  }
  o0->cl = stats->cl;
  o0->statistic = stats->statistic;
  o0->expected = stats->expected;
  o0->observed = (bkg_given & 4) ? stats->observed : nobs;
  o0->signal_syst = stats->signal_syst;
  o0->background = (bkg_given & 1) ? stats->background : b;
  o0->background_error = (bkg_given & 2) ? stats->background_error : sqrt(v);
}

int na64_sens_curve_compute_datasets(const na64_sens_options *stats, unsigned bkg_given, na64_sens_dataset *ds, int n,
                                     const na64_sens_measure *how, na64_sens_curve *c,
                                     void (*progress)(int, int, void *), void *user, na64_err *err)
{
  if (!stats || !ds || n < 1 || n > NA64_LIMIT_MAX_DATASETS)
    return na64_err_set(err, NA64_EINVAL, "%d data sets: give 1 to %d", n, NA64_LIMIT_MAX_DATASETS);
  na64_sens_options o[NA64_LIMIT_MAX_DATASETS];
  int missing = 0;
  for (int i = 0; i < n; ++i) {
    const na64_sens_eff_table *t = &ds[i].eff;
    /* visscal, visphys: a run directory of a card with the X17 holds the scalar's and axial's tables
     * (efficiency_{scalar,axial}.csv); one written before visphys has them only at 16.7 MeV (x17.csv):
     * measure them on the fly (checked first: the message names the mediator, not the pseudoscalar's x17.csv) */
    int med = ds[i].o.mediator, has_med = (med == NA64_MED_SCALAR && t->med_nmass[0] > 0) ||
                                          (med == NA64_MED_AXIAL && t->med_nmass[1] > 0);
    if (t->visible && t->nmass > 0 && med != t->mediator && med != NA64_MED_PSEUDOSCALAR && !has_med)
      return na64_err_set(err, NA64_EINVAL, "data set '%s': %s has no efficiency table of the %s at every mass "
                          "(efficiency_%s.csv, written by `na64 run` with 16.7 among the masses): give "
                          "SETUP:EOT (measured on the fly) instead", ds[i].spec, t->source,
                          na64_mediator_name((na64_mediator)ds[i].o.mediator),
                          na64_mediator_name((na64_mediator)ds[i].o.mediator));
    if (t->visible && t->nmass > 0 && med == NA64_MED_PSEUDOSCALAR && !t->has_ps)
      return na64_err_set(err, NA64_EINVAL, "data set '%s': %s has no x17.csv, the pseudoscalar's efficiency (its card's "
                          "masses_MeV without 16.7)", ds[i].spec, t->source);
    o[i] = scan_options(&ds[i]);
    missing |= !o[i].eff_table && how && how->events > 0;
  }
  na64_sens_datasets_statistics(stats, bkg_given, ds, n, &o[0]);
  for (int i = 0; missing && i < n; ++i)
    if (ds[i].o.mode == NA64_SENS_INVISIBLE && !o[i].eff_table) {
      NA64_CALL(measure_dataset_invisible(&ds[i], i, c, how, err));
      o[i] = scan_options(&ds[i]);
      if (i == 0) na64_sens_datasets_statistics(stats, bkg_given, ds, n, &o[0]);
    }
  if (missing && ds[0].o.mode == NA64_SENS_VISIBLE) {
    /* the couplings to measure at: the combined island at efficiency 1 above the sampler's threshold */
    na64_sens_options o1[NA64_LIMIT_MAX_DATASETS];
    for (int i = 0; i < n; ++i) {
      o1[i] = o[i];
      o1[i].eff_table = NULL;
      o1[i].efficiency = 1.0;
      o1[i].eff_n = 0;
      o1[i].ea_min = NA64_VIS_EA_MIN_FRAC * o1[i].energy;
    }
    na64_sens_curve c1 = {c->masses, c->n, NULL};
    int st = na64_sens_curve_compute_combined(o1, n, &c1, NULL, NULL, err);
    for (int i = 0; st == NA64_OK && i < n; ++i)
      if (ds[i].o.mode == NA64_SENS_VISIBLE && !o[i].eff_table) {
        st = measure_dataset(&ds[i], i, &c1, how, err);
        o[i] = scan_options(&ds[i]);
        if (i == 0) na64_sens_datasets_statistics(stats, bkg_given, ds, n, &o[0]);
      }
    free(c1.pt);
    if (st != NA64_OK) return st;
  }
  return na64_sens_curve_compute_combined(o, n, c, progress, user, err);
}
