/* The straw calibration of a raw-data file into the conditions database (include/na64/reco.h,
 * docs/straw.md §2): the pipeline behind `na64 calib straw`, in the library so that it is tested
 * directly. Steps: 1. scan the file for its runs; 2. the conditions of the reference run; 3. decode
 * and histogram; 4. compute; 5. check and write the interval of validity. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"

void na64_straw_calib_job_default(na64_straw_calib_job *job)
{
  memset(job, 0, sizeof *job);
  job->run = job->first_run = job->last_run = -1;
  job->max_events = -1;
  job->min_hits = 10;
  job->min_hits_fit = 200;
}

void na64_straw_calib_report_release(na64_straw_calib_report *rep)
{
  if (!rep) return;
  na64_straw_calib_free(rep->cal);
  na64_geom_free(rep->geom);
  rep->cal = NULL;
  rep->geom = NULL;
}

/* ---- 1. the runs of the file ---- */

typedef struct run_count {
  uint32_t run;
  uint64_t physics;
  int sor; /* a start-of-run record of this run is in the file */
  int accepted;
} run_count;

typedef struct file_scan {
  run_count *runs;
  size_t nruns, cap;
  uint64_t physics;
  int any_sor;
  double bin_ns;
} file_scan;

static run_count *find_run(file_scan *s, uint32_t run)
{
  for (size_t i = 0; i < s->nruns; ++i)
    if (s->runs[i].run == run) return &s->runs[i];
  if (s->nruns == s->cap) {
    size_t nc = s->cap ? 2 * s->cap : 16;
    run_count *r = realloc(s->runs, nc * sizeof *r);
    if (!r) return NULL;
    s->runs = r;
    s->cap = nc;
  }
  run_count *r = &s->runs[s->nruns++];
  memset(r, 0, sizeof *r);
  r->run = run;
  return r;
}

static double f1_bin_of(const na64_daq_event *ev)
{
  size_t cur = 0;
  na64_daq_equipment eq;
  while (na64_daq_event_next_equipment(ev, &cur, &eq))
    if (eq.header.type == NA64_DAQ_EQ_F1) return na64_daq_f1_bin_ns(&eq.header);
  return 0.0;
}

static int scan_file(const char *path, long run, file_scan *s, na64_err *err)
{
  memset(s, 0, sizeof *s);
  na64_daq_reader *r = NULL;
  NA64_CALL(na64_daq_reader_open(path, NULL, &r, err));
  na64_daq_event ev;
  int st;
  while ((st = na64_daq_reader_next_event(r, &ev, err)) == NA64_OK) {
    uint32_t type = ev.header.type;
    if (type != NA64_DAQ_PHYSICS_EVENT && type != NA64_DAQ_START_OF_RUN) continue;
    if (ev.header.run > INT_MAX - 1 || (run >= 0 && ev.header.run != (uint32_t)run)) continue;
    run_count *rc = find_run(s, ev.header.run);
    if (!rc) {
      na64_daq_reader_close(r);
      return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", path);
    }
    if (type == NA64_DAQ_START_OF_RUN) {
      rc->sor = s->any_sor = 1;
      continue;
    }
    rc->physics++;
    s->physics++;
    if (s->bin_ns == 0) s->bin_ns = f1_bin_of(&ev);
  }
  na64_daq_reader_close(r);
  return st == NA64_ENOMEM ? st : NA64_OK;
}

/* The runs of the file: those with a start-of-run record, else those with >= 1% of the physics
 * events (a bit flip in a header makes a run of one event). The reference run is the first
 * start-of-run run, else the one with most events. Returns the number of accepted physics events. */
static uint64_t choose_runs(file_scan *s, int *ref_run)
{
  uint64_t accepted = 0, best = 0;
  *ref_run = -1;
  for (size_t i = 0; i < s->nruns; ++i) {
    run_count *r = &s->runs[i];
    r->accepted = s->any_sor ? r->sor : r->physics * 100 >= s->physics;
    if (!r->accepted || !r->physics) continue;
    accepted += r->physics;
    if (s->any_sor ? *ref_run < 0 : r->physics > best) {
      *ref_run = (int)r->run;
      best = r->physics;
    }
  }
  return accepted;
}

static int run_accepted(const file_scan *s, uint32_t run)
{
  for (size_t i = 0; i < s->nruns; ++i)
    if (s->runs[i].run == run) return s->runs[i].accepted;
  return 0;
}

/* ---- 2. every accepted run must belong to the setup of the reference run ---- */

static int check_setups(na64_cond *db, const char *path, const file_scan *s, int ref, const na64_cond_run_info *ri0,
                        na64_err *err)
{
  for (size_t i = 0; i < s->nruns; ++i) {
    if (!s->runs[i].accepted || !s->runs[i].physics) continue;
    na64_cond_run_info ri;
    NA64_CALL(na64_cond_get_run_info(db, (int)s->runs[i].run, &ri, err));
    if (strcmp(ri.iov.setup, ri0->iov.setup))
      return na64_err_set(err, NA64_EINVAL,
                          "%s holds runs of two setups: run %d (%s) and run %u (%s); calibrate them separately with --run",
                          path, ref, ri0->iov.setup, (unsigned)s->runs[i].run, ri.iov.setup);
  }
  return NA64_OK;
}

/* ---- 3. decode every used physics event and histogram its straw times ---- */

typedef struct decode_ctx {
  const na64_straw_calib_job *job;
  na64_straw_calib_report *rep;
  uint64_t regions;
} decode_ctx;

static void on_region(const na64_daq_region *g, void *user)
{
  decode_ctx *c = user;
  c->rep->bad_regions++;
  if (c->job->on_region) c->job->on_region(g, c->job->region_user);
}

static int decode_file(const na64_straw_calib_job *job, const file_scan *s, uint64_t total, na64_straw_decoder *dec,
                       na64_straw_calib_report *rep, na64_err *err)
{
  decode_ctx ctx = {job, rep, 0};
  na64_daq_reader_options ro = {.on_region = on_region, .user = &ctx};
  na64_daq_reader *rd = NULL;
  NA64_CALL(na64_daq_reader_open(job->path, &ro, &rd, err));
  na64_straw_digit_list list;
  na64_straw_digit_list_init(&list);
  na64_daq_event ev;
  int st = NA64_OK; /* the loop may not run (rep->events >= total) */
  rep->first = INT_MAX;
  rep->last = -1;
  while (rep->events < total && (st = na64_daq_reader_next_event(rd, &ev, err)) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    if (job->run >= 0 && ev.header.run != (uint32_t)job->run) continue;
    if (ev.header.run > INT_MAX - 1 || !run_accepted(s, ev.header.run)) {
      if (!rep->stray_events++) rep->first_stray_run = ev.header.run;
      continue;
    }
    na64_err e2 = {0, ""};
    int ds = na64_straw_decode_event(dec, &ev, &list, &rep->decode, &e2);
    if (ds == NA64_ENOMEM) {
      st = na64_err_set(err, NA64_ENOMEM, "%s", e2.msg);
      break;
    }
    if (ds != NA64_OK && !rep->bad_events++) snprintf(rep->first_bad, sizeof rep->first_bad, "%s", e2.msg);
    na64_straw_calib_add(rep->cal, list.digits, list.n, err);
    int rn = (int)ev.header.run;
    if (rn < rep->first) rep->first = rn;
    if (rn > rep->last) rep->last = rn;
    if (++rep->events % 4096 == 0 && job->progress) job->progress(rep->events, total, job->progress_user);
  }
  if (job->progress) job->progress(rep->events, total, job->progress_user);
  na64_straw_digit_list_release(&list);
  na64_daq_reader_close(rd);
  return st == NA64_ENOMEM ? st : NA64_OK;
}

/* ---- 5. the interval of validity ---- */

static int choose_iov(const na64_straw_calib_job *job, na64_straw_calib_report *rep, na64_err *err)
{
  int f = job->first_run >= 0 ? (int)job->first_run : (job->run >= 0 ? (int)job->run : rep->first);
  int l = job->open_ended ? NA64_COND_RUN_OPEN
                          : job->last_run >= 0 ? (int)job->last_run : (job->run >= 0 ? (int)job->run : rep->last);
  rep->iov_first = f;
  rep->iov_last = l;
  if (l < f)
    return na64_err_set(err, NA64_ERANGE, "interval of validity %d-%d is empty (give --first-run and --last-run)", f, l);
  return NA64_OK;
}

static int write_records(const na64_straw_calib_job *job, na64_cond *db, na64_straw_calib_report *rep, na64_err *err)
{
  NA64_CALL(na64_straw_calib_check_write(rep->cal, db, rep->iov_first, rep->iov_last, err));
  if (job->dry_run) return NA64_OK;
  char autocomment[NA64_COND_TEXT_LEN];
  const char *comment = job->comment;
  if (!comment) {
    const char *base = strrchr(job->path, '/');
    snprintf(autocomment, sizeof autocomment, "na64 calib straw %.80s (%llu events)", base ? base + 1 : job->path,
             (unsigned long long)rep->events);
    comment = autocomment;
  }
  NA64_CALL(na64_straw_calib_write(rep->cal, db, rep->iov_first, rep->iov_last, comment, &rep->nt0, &rep->nrt, err));
  rep->written = 1;
  return NA64_OK;
}

static int check_job(const na64_straw_calib_job *job, na64_err *err)
{
  if (!job || !job->path) return na64_err_set(err, NA64_EINVAL, "na64_straw_calib_run: NULL job or file");
  if (job->open_ended && job->last_run >= 0)
    return na64_err_set(err, NA64_EINVAL, "open-ended interval of validity with a last run %ld", job->last_run);
  if (job->first_run >= 0 && job->last_run >= 0 && job->last_run < job->first_run)
    return na64_err_set(err, NA64_EINVAL, "last run %ld is before first run %ld", job->last_run, job->first_run);
  return NA64_OK;
}

/* Steps 2-5 on an open database. */
static int calibrate(const na64_straw_calib_job *job, na64_cond *db, const file_scan *fs, uint64_t total,
                     na64_straw_calib_report *rep, na64_err *err)
{
  na64_cond_run_info ri0;
  NA64_CALL(na64_cond_get_run_info(db, rep->ref_run, &ri0, err));
  snprintf(rep->setup, sizeof rep->setup, "%s", ri0.iov.setup);
  NA64_CALL(check_setups(db, job->path, fs, rep->ref_run, &ri0, err));
  NA64_CALL(na64_geom_load(db, rep->ref_run, &rep->geom, err));
  const na64_geom *g = rep->geom;
  na64_straw_decode_options dopt;
  na64_straw_decode_options_default(&dopt);
  dopt.no_window = 1;
  na64_straw_calib_options copt;
  na64_straw_calib_options_default(&copt);
  if (fs->bin_ns > 0) copt.bin_ns = 4 * fs->bin_ns; /* a multiple of the TDC bin: no aliasing */
  copt.min_hits = job->min_hits;
  copt.min_hits_fit = job->min_hits_fit;
  na64_straw_decoder *dec = NULL;
  int st = na64_straw_decoder_new(g, &dopt, &dec, err);
  if (st == NA64_OK) st = na64_straw_calib_new(g, &copt, &rep->cal, err);
  if (st == NA64_OK) st = decode_file(job, fs, total, dec, rep, err);
  na64_straw_decoder_free(dec);
  if (st == NA64_OK) st = na64_straw_calib_compute(rep->cal, err);
  if (st == NA64_OK) st = choose_iov(job, rep, err);
  if (st == NA64_OK) st = write_records(job, db, rep, err);
  return st;
}

int na64_straw_calib_run(const na64_straw_calib_job *job, na64_straw_calib_report *rep, na64_err *err)
{
  memset(rep, 0, sizeof *rep);
  rep->ref_run = -1;
  NA64_CALL(check_job(job, err));
  file_scan fs;
  NA64_CALL(scan_file(job->path, job->run, &fs, err));
  rep->bin_ns = fs.bin_ns;
  uint64_t total = choose_runs(&fs, &rep->ref_run);
  if (job->max_events >= 0 && total > (uint64_t)job->max_events) total = (uint64_t)job->max_events;
  if (!total || rep->ref_run < 0) {
    free(fs.runs);
    if (job->run >= 0) return na64_err_set(err, NA64_ENOTFOUND, "%s: no physics event of run %ld", job->path, job->run);
    return na64_err_set(err, NA64_ENOTFOUND, "%s: no physics event", job->path);
  }
  na64_cond *db = NULL;
  int st = na64_cond_open(job->db_path, job->dry_run ? NA64_COND_READONLY : NA64_COND_READWRITE, &db, err);
  if (st == NA64_OK) {
    snprintf(rep->db_path, sizeof rep->db_path, "%s", na64_cond_path(db));
    st = calibrate(job, db, &fs, total, rep, err);
  }
  na64_cond_close(db);
  free(fs.runs);
  return st;
}
