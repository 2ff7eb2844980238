/* `na64 reco RAW --out EVENTS.h5`: raw DATE data to the HDF5 table `events` (docs/reco.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/par.h"
#include "na64/daq.h"
#include "na64/io.h"
#include "na64/reco.h"

static const char reco_synopsis[] =
    "Reconstruct the physics events of the DATE raw-data file RAW (plain or .zst) with the geometry,\n"
    "channel maps and calibrations of each event's run from the conditions database: calorimeter\n"
    "energies (ECAL, pre-shower, HCAL per module, veto, SRD per module and time), shower centre and\n"
    "shape, and the incoming track (momentum from the deflection in the dipoles, angle, chi2/ndf).\n"
    "Writes one row per event to the HDF5 table 'events' of --out (every column: docs/reco.md).\n"
    "--truth: the truth table of `na64 sim --truth` of the same run; its weights are carried along.\n"
    "INDEX...: the index files of a simulation written in parts (mpirun or --part K/N of na64 sim):\n"
    "each part to OUT.rank<K>.h5 with the events numbered as in the whole run, and OUT.index.yaml;\n"
    "under mpirun the ranks share the parts (docs/scaling.md).\n"
    "One RAW under mpirun -n N: rank K reconstructs its range of the file's physics events (a first\n"
    "pass indexes them) into OUT.rank<K>.h5, and OUT.index.yaml lists them; their rows in rank order\n"
    "are the serial output's.\n"
    "Damaged raw data (truncated, corrupted): every valid event is reconstructed and written; the file,\n"
    "the byte offset of the first damaged region (or the first event that does not decode) are named\n"
    "on stderr and the exit status is 1.";

static void progress(uint64_t done, uint64_t total, void *user)
{
  (void)total;
  cli_progress_update(user, (double)done);
}

/* The events-file index of the parts reconstructed (rows[i] rows of part i of the raw index). */
static int write_events_index(const na64_stream_index *raw, const char *out, const uint64_t *rows, na64_err *err)
{
  na64_stream_index ix = *raw;
  snprintf(ix.kind, sizeof ix.kind, "events");
  ix.parts = calloc((size_t)raw->nheld, sizeof *ix.parts);
  if (!ix.parts) return na64_err_set(err, NA64_ENOMEM, "reco index: out of memory");
  int st = NA64_OK;
  for (int i = 0; i < raw->nheld && st == NA64_OK; ++i) {
    ix.parts[i] = raw->parts[i];
    ix.parts[i].truth[0] = '\0';
    ix.parts[i].records = rows[i];
    st = na64_stream_path(out, raw->parts[i].part, NULL, ix.parts[i].file, sizeof ix.parts[i].file, err);
  }
  char path[4096];
  if (st == NA64_OK) st = na64_stream_path(out, 0, ".index.yaml", path, sizeof path, err);
  if (st == NA64_OK) st = na64_stream_index_write(&ix, path, err);
  if (st == NA64_OK) printf("index of the %d events files: %s\n", ix.nheld, path);
  free(ix.parts);
  return st;
}

/* The raw index joined from the index files of na64 sim's parts. */
static int read_indexes(char **paths, int n, na64_stream_index *raw, na64_err *err)
{
  na64_stream_index *ix = calloc((size_t)n, sizeof *ix);
  if (!ix) return na64_err_set(err, NA64_ENOMEM, "reco: out of memory");
  int st = NA64_OK, got = 0;
  for (; got < n && st == NA64_OK; ++got) st = na64_stream_index_read(paths[got], &ix[got], err);
  if (st == NA64_OK) st = na64_stream_index_join(ix, (const char *const *)paths, n, raw, err);
  if (st == NA64_OK && strcmp(raw->kind, "raw") != 0)
    st = na64_err_set(err, NA64_EINVAL, "%s: an index of %s files, not of raw data (na64 sim)", paths[0], raw->kind);
  for (int i = 0; i < got; ++i) na64_stream_index_release(&ix[i]);
  free(ix);
  return st;
}

/* Damaged input (bad regions, payload decode errors): stderr names the file, the first damaged byte
 * offset or event, and where the valid events went; returns 1 (the command then exits 1), else 0. */
static int report_damage(const char *raw, const char *out, const na64_reco_summary *sum)
{
  if (!sum->bad_regions && !sum->decode_errors) return 0;
  if (sum->bad_regions && sum->first_bad_frame == NA64_DAQ_NO_FRAME)
    fprintf(stderr, "na64 reco: error: %s: %llu damaged regions skipped, the first at byte offset %llu (%s)\n", raw,
            (unsigned long long)sum->bad_regions, (unsigned long long)sum->first_bad_offset, sum->first_bad_detail);
  else if (sum->bad_regions)
    fprintf(stderr,
            "na64 reco: error: %s: %llu damaged regions skipped, the first at offset %llu of the zstd frame at byte "
            "offset %llu (%s)\n",
            raw, (unsigned long long)sum->bad_regions, (unsigned long long)sum->first_bad_offset,
            (unsigned long long)sum->first_bad_frame, sum->first_bad_detail);
  if (sum->decode_errors)
    fprintf(stderr, "na64 reco: error: %s: %llu events with payload decode errors, the first event %lld\n", raw,
            (unsigned long long)sum->decode_errors, (long long)sum->first_decode_error_event);
  fprintf(stderr, "na64 reco: the %llu valid events are in %s (exit status 1: damaged input)\n",
          (unsigned long long)sum->events, out);
  return 1;
}

/* Reconstruct part p of the run into OUT.rank<K>.h5 (events numbered as in the whole run). */
static int reco_part(const na64_reco_job *base, const na64_stream_part *p, const char *out, uint64_t *rows, int *damaged,
                     na64_err *err)
{
  if (!p->file[0]) return na64_err_set(err, NA64_EINVAL, "part %d: na64 sim wrote no raw file (no --out)", p->part);
  char path[4096];
  NA64_CALL(na64_stream_path(out, p->part, NULL, path, sizeof path, err));
  na64_reco_job job = *base;
  job.raw_path = p->file;
  job.truth_path = p->truth[0] ? p->truth : NULL;
  job.out_path = path;
  job.event_offset = p->first_record;
  na64_reco_summary sum;
  NA64_CALL(na64_reco_file(&job, &sum, err));
  if (sum.events != p->records)
    return na64_err_set(err, NA64_EFORMAT, "%s: %llu physics events, the index says %llu", p->file,
                        (unsigned long long)sum.events, (unsigned long long)p->records);
  *rows = sum.events;
  printf("part %d: %llu events (numbers %llu..) -> %s\n", p->part, (unsigned long long)sum.events,
         (unsigned long long)p->first_record, path);
  *damaged |= report_damage(p->file, path, &sum);
  return NA64_OK;
}

/* Rank r of n reconstructs the parts i = r, r + n, ...; rank 0 gathers the row counts and writes the
 * index. The files do not depend on the number of ranks. Returns a CLI exit status (collective). */
static int reco_index(const na64_reco_job *base, char **paths, int npaths, const char *out)
{
  na64_err err = {0, ""};
  na64_stream_index raw;
  memset(&raw, 0, sizeof raw);
  int st = read_indexes(paths, npaths, &raw, &err);
  int rank = par_rank(), nr = par_size();
  uint64_t *rows = calloc((size_t)(raw.nheld > 0 ? raw.nheld : 1), sizeof *rows);
  if (st == NA64_OK && !rows) st = na64_err_set(&err, NA64_ENOMEM, "reco: out of memory");
  char *text = calloc((size_t)(raw.nheld > 0 ? raw.nheld : 1), 48);
  size_t len = 0;
  int damaged = 0;
  for (int i = rank; st == NA64_OK && text && i < raw.nheld; i += nr) {
    st = reco_part(base, &raw.parts[i], out, &rows[i], &damaged, &err);
    len += (size_t)sprintf(text + len, "%d %llu\n", i, (unsigned long long)rows[i]);
  }
  if (st != NA64_OK) cli_fail("reco", &err);
  int failed = par_any(st != NA64_OK || !text);
  char **texts = NULL;
  size_t *lens = NULL;
  if (!failed && par_gather(text, len, &texts, &lens)) failed = 1;
  for (int r = 0; texts && r < nr; ++r) { /* rank 0: every rank's "part rows" lines */
    char *q = texts[r], *end;
    for (long i; (i = strtol(q, &end, 10)), end != q; q = end) {
      unsigned long long v = strtoull(end, &end, 10);
      if (i >= 0 && i < raw.nheld) rows[i] = v;
    }
    free(texts[r]);
  }
  if (texts && write_events_index(&raw, out, rows, &err) != NA64_OK) failed = cli_fail("reco", &err);
  if (par_any(damaged)) failed = 1; /* every index written; the damage is named on stderr */
  free(texts);
  free(lens);
  free(text);
  free(rows);
  na64_stream_index_release(&raw);
  return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* ---- one raw file shared by the ranks by event ranges (issue 15) ---- */

/* Rank 0: every rank's count (collective; others get nothing). 0 on success. */
static int gather_counts(uint64_t mine, uint64_t *all)
{
  char text[32], **texts = NULL;
  size_t *lens = NULL;
  int len = snprintf(text, sizeof text, "%llu", (unsigned long long)mine);
  if (par_gather(text, (size_t)len, &texts, &lens)) return -1;
  for (int r = 0; texts && r < par_size(); ++r) {
    all[r] = strtoull(texts[r], NULL, 10);
    free(texts[r]);
  }
  free(texts);
  free(lens);
  return 0;
}

/* OUT.index.yaml of the ranks' ranges of the raw file (kind events; the events counted are the
 * file's physics events). */
static int write_range_index(const char *raw, const char *out, int run, uint64_t nev, const uint64_t *rows, na64_err *err)
{
  int nr = par_size();
  na64_stream_index ix;
  memset(&ix, 0, sizeof ix);
  snprintf(ix.kind, sizeof ix.kind, "events");
  snprintf(ix.version, sizeof ix.version, "%s", na64_version());
  snprintf(ix.card, sizeof ix.card, "%s", raw); /* no card: the raw file it comes from */
  ix.run = run;
  ix.events = nev;
  ix.nparts = ix.nheld = nr;
  ix.parts = calloc((size_t)nr, sizeof *ix.parts);
  if (!ix.parts) return na64_err_set(err, NA64_ENOMEM, "reco index: out of memory");
  int st = NA64_OK;
  for (int r = 0; r < nr && st == NA64_OK; ++r) {
    ix.parts[r].part = r;
    na64_part_range(nev, r, nr, &ix.parts[r].first_event, &ix.parts[r].events);
    ix.parts[r].records = rows[r];
    st = na64_stream_path(out, r, NULL, ix.parts[r].file, sizeof ix.parts[r].file, err);
  }
  char path[4096];
  if (st == NA64_OK) st = na64_stream_path(out, 0, ".index.yaml", path, sizeof path, err);
  if (st == NA64_OK) st = na64_stream_index_write(&ix, path, err);
  if (st == NA64_OK) printf("index of the %d events files: %s\n", nr, path);
  free(ix.parts);
  return st;
}

/* Rank r of N reconstructs physics events [P r / N, P (r + 1) / N) of the raw file (P in all,
 * counted by a first pass of every rank) into OUT.rank<r>.h5; rank 0 writes OUT.index.yaml. Their
 * rows in rank order are the serial `na64 reco` rows. Returns a CLI exit status (collective). */
static int reco_ranges(const na64_reco_job *base, const char *out)
{
  na64_err err = {0, ""};
  int rank = par_rank(), nr = par_size();
  uint64_t nev = 0, first = 0, count = 0, *rows = calloc((size_t)nr, sizeof *rows);
  int run = 0;
  char path[4096];
  na64_reco_job job = *base;
  int st = rows ? na64_reco_job_range(&job, rank, nr, &first, &count, &nev, &run, &err)
                : na64_err_set(&err, NA64_ENOMEM, "reco: out of memory");
  if (st == NA64_OK) st = na64_stream_path(out, rank, NULL, path, sizeof path, &err);
  na64_reco_summary sum = {0};
  if (st == NA64_OK) {
    job.out_path = path;
    st = na64_reco_file(&job, &sum, &err);
  }
  if (st == NA64_OK && sum.events != count)
    st = na64_err_set(&err, NA64_EFORMAT, "%s: %llu physics events in events %llu.., the first pass counted %llu", base->raw_path,
                      (unsigned long long)sum.events, (unsigned long long)first, (unsigned long long)count);
  int damaged = 0;
  if (st == NA64_OK) {
    printf("rank %d: physics events %llu..%llu of %llu -> %s\n", rank, (unsigned long long)first,
           (unsigned long long)(first + count), (unsigned long long)nev, path);
    damaged = report_damage(base->raw_path, path, &sum);
  } else cli_fail("reco", &err);
  int failed = par_any(st != NA64_OK);
  if (!failed && gather_counts(sum.events, rows)) failed = 1;
  if (!failed && rank == 0 && write_range_index(base->raw_path, out, run, nev, rows, &err) != NA64_OK)
    failed = cli_fail("reco", &err);
  if (par_any(damaged)) failed = 1; /* the index is written; the damage is named on stderr */
  free(rows);
  return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int is_index(const char *path)
{
  size_t n = strlen(path);
  return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) || (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

int cmd_reco(int argc, char **argv)
{
  const char *out = NULL, *truth = NULL, *db = NULL;
  long max_events = -1;
  cli_opt opts[] = {
      {"--out", OPT_STRING, &out, 1, 0, 0, NULL, 0, "the HDF5 file of the events table (required)", 0},
      {"--truth", OPT_STRING, &truth, 1, 0, 0, NULL, 0, "truth HDF5 file of na64 sim: carry the event weights", 0},
      {"--db", OPT_STRING, &db, 1, 0, 0, NULL, 0, "conditions database (default: $NA64_CONDITIONS_DB or the installed one)", 0},
      {"--events", OPT_INT, &max_events, 0, 1e15, 0, NULL, 0, "reconstruct at most this many physics events", 0},
  };
  cli_cmd cmd = {.name = "reco", .args = "RAW | INDEX...", .synopsis = reco_synopsis, .opts = opts, .nopts = CLI_NOPTS(opts),
                 .pos_min = 1, .pos_max = 1000000};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  if (!out) {
    fprintf(stderr, "na64 reco: --out EVENTS.h5 is required\n");
    return CLI_EXIT_USAGE;
  }
  static const char *const h5_exts[] = {".h5", ".hdf5", NULL};
  if ((st = cli_check_output("reco", "--out", out, h5_exts))) return st;
  na64_reco_job job;
  na64_reco_job_default(&job);
  job.db_path = db;
  if (is_index(cmd.pos[0])) { /* the parts of na64 sim: one events file per part, shared by the ranks */
    if (truth || max_events >= 0)
      return cli_usage_error("reco", "with an index the truth files are the parts' own; --truth and --events do not apply");
    par_init();
    st = reco_index(&job, cmd.pos, cmd.npos, out);
    par_finalize();
    return st;
  }
  if (cmd.npos > 1)
    return cli_usage_error("reco", "one RAW file, or the index files of na64 sim's parts (FILE.index.yaml)");
  par_init();
  if (par_size() > 1) { /* under mpirun: the ranks share the file by event ranges */
    if (max_events >= 0) st = cli_usage_error("reco", "--events does not apply when the ranks share the file");
    else {
      job.raw_path = cmd.pos[0];
      job.truth_path = truth;
      st = reco_ranges(&job, out);
    }
    par_finalize();
    return st;
  }
  par_finalize();
  job.raw_path = cmd.pos[0];
  job.out_path = out;
  job.truth_path = truth;
  job.max_events = max_events;
  struct stat sb;
  cli_progress pr;
  cli_progress_start(&pr, "reco", stat(job.raw_path, &sb) == 0 ? (double)sb.st_size : 0.0);
  job.progress = progress;
  job.progress_user = &pr;
  na64_reco_summary sum;
  na64_err err = {0, ""};
  st = na64_reco_file(&job, &sum, &err);
  cli_progress_finish(&pr, stat(job.raw_path, &sb) == 0 ? (double)sb.st_size : 0.0);
  if (st != NA64_OK) return cli_fail("reco", &err);
  printf("events %llu (runs %d-%d), without momentum fit %llu, decode errors %llu, saturated %llu\n",
         (unsigned long long)sum.events, sum.first_run, sum.last_run, (unsigned long long)sum.no_track,
         (unsigned long long)sum.decode_errors, (unsigned long long)sum.saturated);
  if (truth)
    printf("truth: %llu triggered rows, %llu events matched\n", (unsigned long long)sum.truth_rows,
           (unsigned long long)sum.truth_matched);
  if (sum.bad_regions) printf("damaged regions skipped: %llu\n", (unsigned long long)sum.bad_regions);
  if (sum.warning[0]) fprintf(stderr, "na64 reco: warning: %s\n", sum.warning);
  printf("written %s\n", out);
  /* damaged input: the valid events are in the output, the exit status says the input was damaged */
  if (report_damage(job.raw_path, out, &sum)) return CLI_EXIT_FAIL;
  return CLI_EXIT_OK;
}
