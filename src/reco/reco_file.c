/*
 * The file-level driver of the event reconstruction: raw DATE file -> HDF5 table `events`
 * (docs/reco.md §4). The geometry of each event's run comes from the conditions database; the
 * truth weights of simulated data from the `truth` table of `na64 sim --truth`.
 *
 * Truth matching: `na64 sim` writes the triggered events only, numbered 0, 1, ... in generation
 * order (eventId[0] = number in run, src/cli/cmd_sim.c), and its truth table holds the triggered
 * events (all events with --all, then the rows with triggered = 1 are taken) in the same order; so
 * raw event k is the k-th triggered truth row. Events beyond the truth table keep weight 1 and
 * simulated = 0 (counted in the summary).
 */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "na64/io.h" /* na64_part_range */
#include "reco/reco_internal.h"

#define BATCH 1024

void na64_reco_job_default(na64_reco_job *job)
{
  memset(job, 0, sizeof *job);
  job->max_events = -1;
}

typedef struct truth_row {
  int32_t triggered;
  int32_t process;
  double weight;
} truth_row;

/* A triggered row of the truth table: what its raw event's row carries. */
typedef struct truth_weight {
  double weight;
  int32_t aprime; /* process == NA64_SIM_PROC_APRIME (na64/sim.h; 1, not included here: reco sees no sim) */
} truth_weight;
enum { TRUTH_PROC_APRIME = 1 };

/* Weights and A' flags of the triggered rows of the truth table, in order; the untriggered rows
 * (a table of `na64 sim --truth --all`) counted in *u, with the EOT = all rows. */
static int read_truth(const char *path, truth_weight **w, size_t *n, na64_reco_untriggered *u, na64_err *err)
{
  *w = NULL;
  *n = 0;
  na64_reco_untriggered_init(u);
  H5E_auto2_t fn;
  void *cd;
  H5Eget_auto2(H5E_DEFAULT, &fn, &cd);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the library never prints */
  int st = NA64_OK;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = -1, s = -1, t = -1;
  if (f < 0) st = na64_err_set(err, NA64_EIO, "truth file %s: cannot open as HDF5", path);
  if (st == NA64_OK && (d = H5Dopen2(f, "truth", H5P_DEFAULT)) < 0)
    st = na64_err_set(err, NA64_EFORMAT, "truth file %s: no dataset 'truth' (written by na64 sim --truth?)", path);
  hssize_t rows = 0;
  if (st == NA64_OK) {
    s = H5Dget_space(d);
    rows = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    if (rows < 0) st = na64_err_set(err, NA64_EFORMAT, "truth file %s: unreadable dataspace", path);
  }
  truth_row *buf = NULL;
  if (st == NA64_OK && rows > 0) {
    buf = malloc((size_t)rows * sizeof *buf);
    *w = malloc((size_t)rows * sizeof **w);
    if (!buf || !*w) st = na64_err_set(err, NA64_ENOMEM, "truth file %s: out of memory for %lld rows", path, (long long)rows);
  }
  if (st == NA64_OK && rows > 0) { /* HDF5 converts the members by name */
    t = H5Tcreate(H5T_COMPOUND, sizeof(truth_row));
    H5Tinsert(t, "triggered", offsetof(truth_row, triggered), H5T_NATIVE_INT32);
    H5Tinsert(t, "process", offsetof(truth_row, process), H5T_NATIVE_INT32);
    H5Tinsert(t, "weight", offsetof(truth_row, weight), H5T_NATIVE_DOUBLE);
    if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
      st = na64_err_set(err, NA64_EFORMAT, "truth file %s: the table has no 'triggered', 'process' and 'weight' columns", path);
  }
  size_t untriggered = 0;
  for (hssize_t i = 0; st == NA64_OK && i < rows; ++i) {
    int aprime = buf[i].process == TRUTH_PROC_APRIME;
    if (buf[i].triggered) (*w)[(*n)++] = (truth_weight){buf[i].weight, aprime};
    else {
      na64_reco_untriggered_add(u, aprime, buf[i].weight);
      untriggered++;
    }
  }
  /* a table with untriggered rows holds every simulated event (--all): the EOT is known */
  if (st == NA64_OK && untriggered) u->eot = (double)rows;
  free(buf);
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  if (d >= 0) H5Dclose(d);
  if (f >= 0) H5Fclose(f);
  H5Eset_auto2(H5E_DEFAULT, fn, cd);
  if (st != NA64_OK) {
    free(*w);
    *w = NULL;
    *n = 0;
  }
  return st;
}

typedef struct file_state {
  const na64_reco_job *job;
  na64_geom *geom;
  na64_reco *reco;
  int run;
  truth_weight *truth;
  size_t ntruth;
  na64_reco_untriggered untriggered;
  na64_reco_event rows[BATCH];
  size_t nrows;
  na64_h5table *out;
} file_state;

/* Geometry and reconstruction for the run of the event (reloaded when the run changes). */
static int ensure_run(file_state *s, int run, na64_err *err)
{
  if (s->reco && s->run == run) return NA64_OK;
  na64_reco_free(s->reco);
  na64_geom_free(s->geom);
  s->reco = NULL;
  s->geom = NULL;
  NA64_CALL(na64_geom_load_path(s->job->db_path, run, &s->geom, err));
  s->run = run;
  return na64_reco_new(s->geom, &s->reco, err);
}

static int flush_rows(file_state *s, na64_err *err)
{
  int st = s->nrows ? na64_h5table_append(s->out, s->rows, s->nrows, err) : NA64_OK;
  s->nrows = 0;
  return st;
}

static int one_event(file_state *s, const na64_daq_event *ev, na64_reco_summary *sum, na64_err *err)
{
  NA64_CALL(ensure_run(s, (int)ev->header.run, err));
  na64_reco_event *e = &s->rows[s->nrows];
  NA64_CALL(na64_reco_process(s->reco, ev, e, err));
  if (s->truth && e->event < s->ntruth) {
    e->weight = s->truth[e->event].weight;
    e->aprime = s->truth[e->event].aprime;
    e->simulated = 1;
    sum->truth_matched++;
  }
  e->event += s->job->event_offset; /* a part of a run: its number in the whole run */
  sum->events++;
  sum->no_track += (e->flags & NA64_RECO_NO_TRACK) != 0;
  sum->decode_errors += (e->flags & NA64_RECO_DECODE_ERROR) != 0;
  if ((e->flags & NA64_RECO_DECODE_ERROR) && sum->first_decode_error_event < 0)
    sum->first_decode_error_event = (int64_t)e->event;
  sum->saturated += (e->flags & NA64_RECO_SATURATED) != 0;
  if (sum->first_run < 0 || e->run < sum->first_run) sum->first_run = e->run;
  if (e->run > sum->last_run) sum->last_run = e->run;
  if (++s->nrows == BATCH) NA64_CALL(flush_rows(s, err));
  return NA64_OK;
}

/* The end-of-run check of a whole file read to its end (na64_reco_summary.warning). */
static void check_end_of_run(const char *path, int sor, int64_t eor, uint64_t physics, na64_reco_summary *sum)
{
  if (eor < 0 && sor)
    snprintf(sum->warning, sizeof sum->warning,
             "%s: no end-of-run event: the file is truncated (%llu physics events read, all reconstructed)", path,
             (unsigned long long)physics);
  else if (eor >= 0 && (uint64_t)eor != physics)
    snprintf(sum->warning, sizeof sum->warning,
             "%s: the end-of-run event counts %lld physics events but %llu were read (%s; all read were reconstructed)",
             path, (long long)eor, (unsigned long long)physics,
             (uint64_t)eor > physics ? "events lost: damaged or cut file" : "more events than the run wrote");
}

static int loop(file_state *s, na64_daq_reader *rd, na64_reco_summary *sum, na64_err *err)
{
  struct stat sb;
  uint64_t total = stat(s->job->raw_path, &sb) == 0 ? (uint64_t)sb.st_size : 0, n = 0;
  na64_daq_event ev;
  int st = s->job->start_offset ? na64_daq_reader_seek(rd, s->job->start_offset, err) : NA64_OK;
  if (st == NA64_EEOF) { /* a range beyond the end: no event */
    if (err) na64_err_clear(err);
    return flush_rows(s, err);
  }
  NA64_CALL(st);
  uint64_t skip = s->job->skip_events;
  /* the end-of-run check applies to a whole file (no range of the MPI split, no seek) */
  int whole = !s->job->start_offset && !s->job->skip_events && !s->job->file_events, sor = 0, stopped = 0;
  sum->eor_events = -1;
  while ((st = na64_daq_reader_next_event(rd, &ev, err)) == NA64_OK) {
    if (ev.header.type == NA64_DAQ_START_OF_RUN) sor = 1;
    if (ev.header.type == NA64_DAQ_END_OF_RUN) sum->eor_events = ev.header.id[0];
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    sum->file_physics++;
    if (skip > 0) { /* before the range (the earlier events of its zstd frame) */
      skip--;
      continue;
    }
    if (s->job->max_events >= 0 && sum->events >= (uint64_t)s->job->max_events) {
      stopped = 1;
      break;
    }
    NA64_CALL(one_event(s, &ev, sum, err));
    if (s->job->progress && (++n & 1023u) == 0) {
      na64_daq_reader_stats rs;
      na64_daq_reader_get_stats(rd, &rs);
      s->job->progress(rs.bytes_read, total, s->job->progress_user);
    }
  }
  if (st != NA64_OK && st != NA64_EEOF) return st;
  if (err) na64_err_clear(err);
  na64_daq_reader_stats rs;
  na64_daq_reader_get_stats(rd, &rs);
  sum->bad_regions = rs.regions;
  size_t nreg = 0;
  const na64_daq_region *reg = na64_daq_reader_regions(rd, &nreg);
  if (reg && nreg > 0) { /* the first one, for the message that names the damage */
    sum->first_bad_offset = reg[0].offset;
    sum->first_bad_frame = reg[0].frame_offset;
    snprintf(sum->first_bad_detail, sizeof sum->first_bad_detail, "%s%s%s", na64_daq_reason_name(reg[0].reason),
             reg[0].detail[0] ? ": " : "", reg[0].detail);
  }
  if (whole && !stopped) check_end_of_run(s->job->raw_path, sor, sum->eor_events, sum->file_physics, sum);
  if (s->job->progress) s->job->progress(total, total, s->job->progress_user);
  return flush_rows(s, err);
}

int na64_reco_file(const na64_reco_job *job, na64_reco_summary *sum, na64_err *err)
{
  if (!job || !job->raw_path || !job->out_path || !sum) return na64_err_set(err, NA64_EINVAL, "na64_reco_file: NULL argument");
  memset(sum, 0, sizeof *sum);
  sum->first_run = sum->last_run = -1;
  sum->eor_events = -1;
  sum->first_decode_error_event = -1;
  file_state *s = calloc(1, sizeof *s);
  if (!s) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory");
  s->job = job;
  s->run = -1;
  na64_reco_untriggered_init(&s->untriggered);
  int st = job->truth_path ? read_truth(job->truth_path, &s->truth, &s->ntruth, &s->untriggered, err) : NA64_OK;
  sum->truth_rows = s->ntruth;
  if (job->truth_path && st == NA64_OK && !s->truth) s->truth = malloc(sizeof *s->truth); /* empty table */
  na64_daq_reader *rd = NULL;
  if (st == NA64_OK) st = na64_daq_reader_open(job->raw_path, NULL, &rd, err);
  int nf = 0;
  const na64_h5_field *f = na64_reco_event_fields(&nf);
  if (st == NA64_OK) st = na64_h5table_create(job->out_path, "events", sizeof(na64_reco_event), f, nf, &s->out, err);
  if (st == NA64_OK) st = na64_h5table_attr(s->out, "raw_file", job->raw_path, err);
  if (st == NA64_OK && job->truth_path) st = na64_h5table_attr(s->out, "truth_file", job->truth_path, err);
  if (st == NA64_OK) st = na64_h5table_attr(s->out, "na64_version", na64_version(), err);
  if (st == NA64_OK) st = loop(s, rd, sum, err);
  /* the untriggered events belong to the table only when it holds every triggered event (a range of
   * the file: to the first range, when the whole file does) */
  int whole = job->file_events ? job->file_events == s->ntruth && sum->truth_matched == sum->events
                               : sum->truth_matched == s->ntruth && sum->events == s->ntruth;
  if (whole && job->file_events && !job->first_range && isfinite(s->untriggered.eot)) {
    /* a later range of the file: no untriggered events and 0 EOT of its own (the first range has
     * the file's), so that the ranges' tables add up to the whole file's */
    na64_reco_untriggered_init(&s->untriggered);
    s->untriggered.eot = 0.0;
  }
  if (st == NA64_OK && whole)
    st = na64_reco_untriggered_write(s->out, &s->untriggered, err);
  if (s->out) {
    if (st == NA64_OK) st = na64_h5table_close(s->out, err);
    else na64_h5table_abort(s->out);
  }
  if (rd) na64_daq_reader_close(rd);
  na64_reco_free(s->reco);
  na64_geom_free(s->geom);
  free(s->truth);
  free(s);
  return st;
}

/* ---- a range of one file's physics events (issue 15: `mpirun na64 reco RAW`) ---- */

/* The first pass: per physics event of the file, where a reader must seek to reach it (a plain
 * file: the event's offset; compressed: its zstd frame's), and the run of the first. Super events
 * are delivered whole by the reader, so a range of delivered events never splits one. */
static int index_raw(const char *path, uint64_t **offs, uint64_t *n, int *run, na64_err *err)
{
  *offs = NULL;
  *n = 0;
  *run = 0;
  na64_daq_reader *rd = NULL;
  NA64_CALL(na64_daq_reader_open(path, NULL, &rd, err));
  size_t cap = 4096;
  uint64_t *o = malloc(cap * sizeof *o);
  int st = o ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "%s: out of memory for the event index", path);
  na64_daq_event ev;
  while (st == NA64_OK && (st = na64_daq_reader_next_event(rd, &ev, err)) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    if (*n == cap) {
      uint64_t *g = realloc(o, 2 * cap * sizeof *o);
      if (!g) {
        st = na64_err_set(err, NA64_ENOMEM, "%s: out of memory for the event index", path);
        break;
      }
      o = g;
      cap *= 2;
    }
    if (*n == 0) *run = (int)ev.header.run;
    o[(*n)++] = ev.frame_offset == NA64_DAQ_NO_FRAME ? ev.offset : ev.frame_offset;
  }
  if (st == NA64_EEOF) {
    st = NA64_OK;
    if (err) na64_err_clear(err);
  }
  na64_daq_reader_close(rd);
  if (st == NA64_OK) *offs = o;
  else free(o);
  return st;
}

int na64_reco_job_range(na64_reco_job *job, int k, int n, uint64_t *first, uint64_t *count, uint64_t *total, int *run,
                        na64_err *err)
{
  if (!job || !job->raw_path || !first || !count || !total || !run || n < 1 || k < 0 || k >= n)
    return na64_err_set(err, NA64_EINVAL, "na64_reco_job_range: bad argument");
  uint64_t *offs = NULL, nev = 0;
  NA64_CALL(index_raw(job->raw_path, &offs, &nev, run, err));
  na64_part_range(nev, k, n, first, count);
  *total = nev;
  job->file_events = nev;
  job->first_range = *first == 0;
  job->max_events = (long)*count;
  job->start_offset = 0;
  job->skip_events = 0;
  if (*count > 0 && *first > 0) {
    job->start_offset = offs[*first];
    for (uint64_t j = *first; j > 0 && offs[j - 1] == offs[*first]; --j) job->skip_events++; /* earlier events of its frame */
  }
  free(offs);
  return NA64_OK;
}
