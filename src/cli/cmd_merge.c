/*
 * Scale-out of `na64 run` (issue 15; docs/scaling.md):
 *  - under mpirun/srun every rank runs its part of the job (na64_job_partial_run), rank 0 gathers
 *    the parts' exact accumulators, merges them and finishes the job (run_job_ranks);
 *  - `na64 run --part K/N --partial FILE` runs one part of a batch job array and writes its
 *    partial-result file (run_job_part);
 *  - `na64 merge PART...` merges the partial-result files of the parts into the report of the whole
 *    job, or into one partial-result file (--partial) for a merge in stages.
 * Every path goes through the same text form of the parts, so the merged result is bit for bit
 * the serial one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/par.h"
#include "na64/ana.h"
#include "na64/io.h"

static void rank0_progress(const char *stage, double frac, void *user)
{
  (void)user;
  fprintf(stderr, "na64 run: %s %.0f%% (%d ranks)\n", stage, 100 * frac, par_size());
}

static void release_parts(na64_job_partial *parts, int n)
{
  for (int i = 0; parts && i < n; ++i) na64_job_partial_release(&parts[i]);
  free(parts);
}

/* Parse and merge n texts (names for messages); out must be released. keep != NULL: the parsed
 * parts are left in *keep (release_parts), for the events index. */
static int merge_texts(char **texts, const size_t *lens, const char *const *names, int n, na64_job_partial *out,
                       na64_job_partial **keep, na64_err *err)
{
  na64_job_partial *parts = calloc((size_t)n, sizeof *parts);
  if (!parts) return na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  int st = NA64_OK;
  for (int i = 0; i < n && st == NA64_OK; ++i) st = na64_job_partial_parse(texts[i], lens[i], names[i], &parts[i], err);
  if (st == NA64_OK) st = na64_job_partial_merge(parts, names, n, out, err);
  if (keep && st == NA64_OK) *keep = parts;
  else release_parts(parts, n);
  return st;
}

/* Rank 0: every rank's part merged into *merged (texts of the ranks freed); keep as merge_texts. */
static int merge_ranks(char **texts, size_t *lens, na64_job_partial *merged, na64_job_partial **keep, na64_err *err)
{
  int n = par_size();
  const char **names = par_rank_names(n);
  int st = names ? merge_texts(texts, lens, names, n, merged, keep, err)
                 : na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  par_gather_free(texts, lens, n);
  free(names);
  return st;
}

/* ---- the events files of a job in parts (issue 11): one per part and an index, as `na64 reco` ---- */

/* Part i's place among the parts ordered by their main-sample ranges. */
static int part_place(const na64_job_partial *parts, int n, int i)
{
  int k = 0;
  for (int j = 0; j < n; ++j)
    k += parts[j].main_first < parts[i].main_first || (parts[j].main_first == parts[i].main_first && j < i);
  return k;
}

/* REPORT/events.index.yaml for the events files files[i] of parts[i] (any order; numbered by their
 * main-sample range): `na64 select REPORT/events.index.yaml` is then the serial `na64 select
 * REPORT/events.h5`. */
static int write_events_index(const char *report, const na64_job_partial *parts, char **files, int n, na64_err *err)
{
  na64_stream_index ix;
  memset(&ix, 0, sizeof ix);
  snprintf(ix.kind, sizeof ix.kind, "events");
  snprintf(ix.version, sizeof ix.version, "%s", parts[0].version);
  snprintf(ix.card, sizeof ix.card, "%s", parts[0].card_name);
  ix.card_hash = parts[0].card_hash;
  ix.run = parts[0].run;
  ix.seed = parts[0].seed;
  ix.events = parts[0].events;
  ix.nparts = ix.nheld = n;
  ix.parts = calloc((size_t)n, sizeof *ix.parts);
  if (!ix.parts) return na64_err_set(err, NA64_ENOMEM, "events index: out of memory");
  int st = NA64_OK;
  for (int i = 0; i < n && st == NA64_OK; ++i) {
    int k = part_place(parts, n, i);
    na64_stream_part *q = &ix.parts[k];
    q->part = k;
    snprintf(q->file, sizeof q->file, "%s", files[i]);
    q->first_event = parts[i].main_first;
    q->events = parts[i].main_count;
    st = na64_select_file_rows(files[i], &q->records, err);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/events.index.yaml", report);
  if (st == NA64_OK) st = na64_stream_index_write(&ix, path, err);
  free(ix.parts);
  return st;
}

/* The index of the ranks' events files REPORT/events_rank<K>.h5. */
static int events_index_of_ranks(const char *report, const na64_job_partial *parts, int n, na64_err *err)
{
  char **files = calloc((size_t)n, sizeof *files);
  int st = files ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "events index: out of memory");
  for (int r = 0; r < n && st == NA64_OK; ++r) {
    files[r] = malloc(4096);
    if (!files[r]) st = na64_err_set(err, NA64_ENOMEM, "events index: out of memory");
    else snprintf(files[r], 4096, "%s/events_rank%d.h5", report, r);
  }
  if (st == NA64_OK) st = write_events_index(report, parts, files, n, err);
  for (int r = 0; files && r < n; ++r) free(files[r]);
  free(files);
  return st;
}

int gather_rank_texts(int st, char *text, size_t len, char ***texts, size_t **lens, na64_err *err)
{
  *texts = NULL;
  *lens = NULL;
  if (st != NA64_OK && par_rank() != 0) cli_fail("run", err); /* rank 0 reports its own error to the caller */
  if (par_any(st != NA64_OK)) {
    free(text);
    if (st == NA64_OK) st = na64_err_set(err, NA64_EINVAL, "another rank failed (its message is above)");
    return st;
  }
  int gst = par_gather(text, len, texts, lens);
  free(text);
  if (par_rank() != 0) return gst ? NA64_ENOMEM : NA64_OK;
  if (gst) return na64_err_set(err, NA64_ENOMEM, "gathering the ranks' results: out of memory");
  return NA64_OK;
}

int run_job_ranks(const char *card, double eot, na64_job_result *res, na64_err *err)
{
  return run_job_ranks_events(card, eot, NULL, res, err);
}

int run_job_ranks_events(const char *card, double eot, const char *report_dir, na64_job_result *res, na64_err *err)
{
  na64_job_partial p = {0};
  int rank = par_rank();
  char events[4096];
  if (report_dir && par_size() == 1) snprintf(events, sizeof events, "%s/events.h5", report_dir);
  else if (report_dir) snprintf(events, sizeof events, "%s/events_rank%d.h5", report_dir, rank);
  int st = na64_job_partial_run_events(card, rank, par_size(), report_dir ? events : NULL, &p,
                                       rank == 0 ? rank0_progress : NULL, NULL, err);
  char *text = NULL, **texts = NULL;
  size_t len = 0, *lens = NULL;
  if (st == NA64_OK) st = na64_job_partial_format(&p, &text, &len, err);
  na64_job_partial_release(&p);
  st = gather_rank_texts(st, text, len, &texts, &lens, err);
  if (st != NA64_OK || rank != 0) return st;
  na64_job_partial merged = {0}, *parts = NULL;
  int n = par_size();
  st = merge_ranks(texts, lens, &merged, report_dir && n > 1 ? &parts : NULL, err);
  if (st == NA64_OK) st = na64_job_finish(&merged, eot, res, err);
  if (st == NA64_OK && parts) st = events_index_of_ranks(report_dir, parts, n, err);
  release_parts(parts, n);
  na64_job_partial_release(&merged);
  return st;
}

/* The events file of a batch part beside its partial-result file: parts/p3.na64part -> parts/p3.events.h5. */
static int part_events_path(const char *partial, char *out, size_t n, na64_err *err)
{
  return na64_stream_path(partial, 0, ".events.h5", out, n, err);
}

/* The merge into a report: the parts' events files (beside their partial-result files, written by
 * `na64 run --part`) copied into REPORT/events_rank<K>.h5 with REPORT/events.index.yaml, K the
 * part's place in the main sample. Parts without one (staged merges: the merged partial file has
 * none) leave the report without events files, with a note. */
static int collect_part_events(const char *report, char **partials, const na64_job_partial *parts, int n, na64_err *err)
{
  char **src = calloc((size_t)n, sizeof *src), **dst = calloc((size_t)n, sizeof *dst);
  int st = src && dst ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "merge: out of memory"), missing = -1;
  for (int i = 0; i < n && st == NA64_OK; ++i) {
    src[i] = malloc(4096);
    dst[i] = malloc(4096);
    if (!src[i] || !dst[i]) st = na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
    else st = part_events_path(partials[i], src[i], 4096, err);
    if (st == NA64_OK && missing < 0 && access(src[i], R_OK) != 0) missing = i;
    if (st == NA64_OK) snprintf(dst[i], 4096, "%s/events_rank%d.h5", report, part_place(parts, n, i));
  }
  if (st == NA64_OK && missing >= 0)
    fprintf(stderr, "na64 merge: no events file %s beside %s: the report has no events tables\n", src[missing],
            partials[missing]);
  for (int i = 0; i < n && st == NA64_OK && missing < 0; ++i) st = na64_outfile_copy(src[i], dst[i], NA64_OUTFILE_REGULAR, err);
  if (st == NA64_OK && missing < 0) st = write_events_index(report, parts, dst, n, err);
  if (st == NA64_OK && missing < 0) printf("events tables of the %d parts: %s/events.index.yaml\n", n, report);
  for (int i = 0; i < n; ++i) {
    if (src) free(src[i]);
    if (dst) free(dst[i]);
  }
  free(src);
  free(dst);
  return st;
}

int run_job_part(const char *card, const char *spec, const char *out_path)
{
  int k = 0, n = 1;
  if (par_parse_part(spec, &k, &n))
    return cli_usage_error("run", "--part %s: expected K/N with 0 <= K < N (e.g. 3/100 for the 4th of 100 jobs)", spec);
  if (!out_path) return cli_usage_error("run", "--part needs --partial FILE (the part's result for na64 merge)");
  na64_err err = {0};
  na64_job_partial p = {0};
  char events[4096];
  int st = part_events_path(out_path, events, sizeof events, &err);
  if (st == NA64_OK) st = na64_job_partial_run_events(card, k, n, events, &p, NULL, NULL, &err);
  if (st == NA64_OK) st = na64_job_partial_write(&p, out_path, &err);
  if (st == NA64_OK)
    printf("part %d/%d of %s: main-sample events %llu..%llu, signal-sample events %llu..%llu; written to %s\n"
           "  the part's main-sample events table: %s\n",
           k, n, card ? card : "(defaults)", (unsigned long long)p.main_first,
           (unsigned long long)(p.main_first + p.main_count), (unsigned long long)p.signal_first,
           (unsigned long long)(p.signal_first + p.signal_count), out_path, events);
  na64_job_partial_release(&p);
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("run", &err);
}

/* Read and merge the partial-result files; *keep: the parts read (release_parts). */
static int merge_files(char **files, int n, na64_job_partial *out, na64_job_partial **keep, na64_err *err)
{
  na64_job_partial *parts = calloc((size_t)n, sizeof *parts);
  if (!parts) return na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  int st = NA64_OK;
  for (int i = 0; i < n && st == NA64_OK; ++i) st = na64_job_partial_read(files[i], &parts[i], err);
  if (st == NA64_OK) st = na64_job_partial_merge(parts, (const char *const *)files, n, out, err);
  if (st == NA64_OK) *keep = parts;
  else release_parts(parts, n);
  return st;
}

int cmd_merge(int argc, char **argv)
{
  const char *report = "report", *partial = NULL;
  double eot = 0.0;
  cli_opt opts[] = {
      {"--report-dir", OPT_STRING, &report, 1.0, 0.0, 0, NULL, 0, "directory for the report files (default report)", 0},
      {"--eot", OPT_DOUBLE, &eot, 1.0, 1e20, 0, NULL, 0, "quote background and limit for N EOT (default: the card's analysis.eot)", 0},
      {"--partial", OPT_STRING, &partial, 1.0, 0.0, 0, NULL, 0, "write the merged parts as one partial-result FILE instead of the report", 0},
  };
  cli_cmd cmd = {.name = "merge", .args = "PART...", .pos_input = "PART",
                 .synopsis = "Merge the partial-result files of the parts of one `na64 run` (written by\n"
                             "`na64 run CARD --part K/N --partial FILE` in batch jobs) into the report of the whole job:\n"
                             "cutflow.csv, efficiency.csv, background.csv, limit.csv, ... identical byte for byte to a\n"
                             "serial run. Refuses parts of different versions, cards, setups or seeds, and parts whose\n"
                             "event ranges overlap or leave a gap, naming the files. With --partial, parts covering a\n"
                             "contiguous range are merged into one partial-result file (merging in stages).\n"
                             "The events tables of the parts (PART's stem + .events.h5, written by `na64 run --part`) are\n"
                             "copied into the report as events_rank<K>.h5 with events.index.yaml (`na64 select\n"
                             "REPORT/events.index.yaml` gives the serial selection).\n"
                             "Parts of a visible-mode card (`na64 run VISIBLE --part K/N`) merge the same way into the\n"
                             "visible report; visible and invisible parts are never merged together.",
                 .opts = opts, .nopts = CLI_NOPTS(opts), .pos_min = 1, .pos_max = 1000000};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  int visible = 0;
  st = merge_kind(cmd.pos, cmd.npos, &visible); /* visible and invisible parts are never merged together */
  if (st != CLI_EXIT_OK) return st;
  if (visible) return merge_vis(cmd.pos, cmd.npos, report, eot, partial);
  na64_err err = {0};
  na64_job_partial merged = {0}, *parts = NULL;
  st = merge_files(cmd.pos, cmd.npos, &merged, &parts, &err);
  if (st == NA64_OK && partial) {
    st = na64_job_partial_write(&merged, partial, &err);
    if (st == NA64_OK) printf("%d parts merged into %s\n", cmd.npos, partial);
  } else if (st == NA64_OK) {
    na64_job_result *res = calloc(1, sizeof *res);
    if (mkdir(report, 0775) != 0 && errno != EEXIST)
      st = na64_err_set(&err, NA64_EIO, "cannot create report directory '%s': %s", report, strerror(errno));
    if (st == NA64_OK) st = res ? na64_job_finish(&merged, eot, res, &err) : na64_err_set(&err, NA64_ENOMEM, "out of memory");
    if (st == NA64_OK) st = na64_job_write_report(res, merged.card_name[0] ? merged.card_name : NULL, report, &err);
    if (st == NA64_OK) st = collect_part_events(report, cmd.pos, parts, cmd.npos, &err);
    if (st == NA64_OK) {
      printf("%d parts merged (%llu events, %llu per signal mass): report written to %s/\n", cmd.npos,
             (unsigned long long)merged.events, (unsigned long long)merged.signal_events, report);
      cli_print_job_summary(res, merged.card_name[0] ? merged.card_name : NULL);
    }
    if (res) na64_job_result_release(res);
    free(res);
  }
  na64_job_partial_release(&merged);
  release_parts(parts, cmd.npos);
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("merge", &err);
}
