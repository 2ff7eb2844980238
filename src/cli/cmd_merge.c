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

#include "cli/cli.h"
#include "cli/par.h"
#include "na64/ana.h"

static void rank0_progress(const char *stage, double frac, void *user)
{
  (void)user;
  fprintf(stderr, "na64 run: %s %.0f%% (%d ranks)\n", stage, 100 * frac, par_size());
}

/* Parse and merge n texts (names for messages); out must be released. */
static int merge_texts(char **texts, const size_t *lens, const char *const *names, int n, na64_job_partial *out,
                       na64_err *err)
{
  na64_job_partial *parts = calloc((size_t)n, sizeof *parts);
  if (!parts) return na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  int st = NA64_OK;
  for (int i = 0; i < n && st == NA64_OK; ++i) st = na64_job_partial_parse(texts[i], lens[i], names[i], &parts[i], err);
  if (st == NA64_OK) st = na64_job_partial_merge(parts, names, n, out, err);
  for (int i = 0; i < n; ++i) na64_job_partial_release(&parts[i]);
  free(parts);
  return st;
}

/* Rank 0: every rank's part merged into *merged (texts of the ranks freed). */
static int merge_ranks(char **texts, size_t *lens, na64_job_partial *merged, na64_err *err)
{
  int n = par_size();
  char (*names)[32] = calloc((size_t)n, sizeof *names);
  const char **np = calloc((size_t)n, sizeof *np);
  int st = names && np ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  for (int r = 0; r < n && st == NA64_OK; ++r) {
    snprintf(names[r], sizeof names[r], "rank %d", r);
    np[r] = names[r];
  }
  if (st == NA64_OK) st = merge_texts(texts, lens, np, n, merged, err);
  for (int r = 0; r < n; ++r) free(texts[r]);
  free(texts);
  free(lens);
  free(names);
  free(np);
  return st;
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
  char *text = NULL;
  size_t len = 0;
  if (st == NA64_OK) st = na64_job_partial_format(&p, &text, &len, err);
  na64_job_partial_release(&p);
  if (st != NA64_OK && rank != 0) cli_fail("run", err); /* rank 0 reports its own error to the caller */
  if (par_any(st != NA64_OK)) {
    free(text);
    if (st == NA64_OK) st = na64_err_set(err, NA64_EINVAL, "another rank failed (its message is above)");
    return st;
  }
  char **texts = NULL;
  size_t *lens = NULL;
  int gst = par_gather(text, len, &texts, &lens);
  free(text);
  if (rank != 0) return gst ? NA64_ENOMEM : NA64_OK;
  if (gst) return na64_err_set(err, NA64_ENOMEM, "gathering the ranks' results: out of memory");
  na64_job_partial merged = {0};
  st = merge_ranks(texts, lens, &merged, err);
  if (st == NA64_OK) st = na64_job_finish(&merged, eot, res, err);
  na64_job_partial_release(&merged);
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
  int st = na64_job_partial_run(card, k, n, &p, NULL, NULL, &err);
  if (st == NA64_OK) st = na64_job_partial_write(&p, out_path, &err);
  if (st == NA64_OK)
    printf("part %d/%d of %s: main-sample events %llu..%llu, signal-sample events %llu..%llu; written to %s\n", k, n,
           card ? card : "(defaults)", (unsigned long long)p.main_first,
           (unsigned long long)(p.main_first + p.main_count), (unsigned long long)p.signal_first,
           (unsigned long long)(p.signal_first + p.signal_count), out_path);
  na64_job_partial_release(&p);
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("run", &err);
}

static int merge_files(char **files, int n, na64_job_partial *out, na64_err *err)
{
  na64_job_partial *parts = calloc((size_t)n, sizeof *parts);
  if (!parts) return na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  int st = NA64_OK;
  for (int i = 0; i < n && st == NA64_OK; ++i) st = na64_job_partial_read(files[i], &parts[i], err);
  if (st == NA64_OK) st = na64_job_partial_merge(parts, (const char *const *)files, n, out, err);
  for (int i = 0; i < n; ++i) na64_job_partial_release(&parts[i]);
  free(parts);
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
  cli_cmd cmd = {.name = "merge", .args = "PART...",
                 .synopsis = "Merge the partial-result files of the parts of one `na64 run` (written by\n"
                             "`na64 run CARD --part K/N --partial FILE` in batch jobs) into the report of the whole job:\n"
                             "cutflow.csv, efficiency.csv, background.csv, limit.csv, ... identical byte for byte to a\n"
                             "serial run. Refuses parts of different versions, cards, setups or seeds, and parts whose\n"
                             "event ranges overlap or leave a gap, naming the files. With --partial, parts covering a\n"
                             "contiguous range are merged into one partial-result file (merging in stages).",
                 .opts = opts, .nopts = CLI_NOPTS(opts), .pos_min = 1, .pos_max = 1000000};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  na64_err err = {0};
  na64_job_partial merged = {0};
  st = merge_files(cmd.pos, cmd.npos, &merged, &err);
  if (st == NA64_OK && partial) {
    st = na64_job_partial_write(&merged, partial, &err);
    if (st == NA64_OK) printf("%d parts merged into %s\n", cmd.npos, partial);
  } else if (st == NA64_OK) {
    na64_job_result *res = calloc(1, sizeof *res);
    if (mkdir(report, 0775) != 0 && errno != EEXIST)
      st = na64_err_set(&err, NA64_EIO, "cannot create report directory '%s': %s", report, strerror(errno));
    if (st == NA64_OK) st = res ? na64_job_finish(&merged, eot, res, &err) : na64_err_set(&err, NA64_ENOMEM, "out of memory");
    if (st == NA64_OK) st = na64_job_write_report(res, merged.card_name[0] ? merged.card_name : NULL, report, &err);
    if (st == NA64_OK) {
      printf("%d parts merged (%llu events, %llu per signal mass): report written to %s/\n", cmd.npos,
             (unsigned long long)merged.events, (unsigned long long)merged.signal_events, report);
      cli_print_job_summary(res, merged.card_name[0] ? merged.card_name : NULL);
    }
    if (res) na64_job_result_release(res);
    free(res);
  }
  na64_job_partial_release(&merged);
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("merge", &err);
}
