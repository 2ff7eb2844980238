/*
 * Scale-out of `na64 run` on a visible card (issue 15; docs/scaling.md, "The visible job"): the
 * counterpart of cmd_merge.c's invisible paths for the visible job (src/ana/vis_job.c):
 *  - under mpirun/srun every rank runs its event ranges of every sample (na64_vis_job_part_run),
 *    rank 0 gathers the parts' integer cut flows in their text form, merges them and finishes the
 *    job (run_vis_ranks);
 *  - `na64 run VISIBLE-CARD --part K/N --partial FILE` writes one part's partial-result file
 *    (run_vis_part);
 *  - `na64 merge` of visible partial-result files gives the report of the whole job (merge_vis).
 * Every path goes through the text form, so the report is the serial run's byte for byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/par.h"
#include "na64/ana.h"

static void release_vis_parts(na64_vis_partial *parts, int n)
{
  for (int i = 0; parts && i < n; ++i) na64_vis_partial_release(&parts[i]);
  free(parts);
}

/* Rank 0: the ranks' texts (freed here) parsed and merged into *merged. */
static int merge_rank_texts(char **texts, size_t *lens, int n, na64_vis_partial *merged, na64_err *err)
{
  na64_vis_partial *parts = calloc((size_t)n, sizeof *parts);
  const char **names = par_rank_names(n);
  int st = parts && names ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  for (int r = 0; r < n && st == NA64_OK; ++r) st = na64_vis_partial_parse(texts[r], lens[r], names[r], &parts[r], err);
  if (st == NA64_OK) st = na64_vis_partial_merge(parts, names, n, merged, err);
  release_vis_parts(parts, n);
  par_gather_free(texts, lens, n);
  free(names);
  return st;
}

static void vis_rank_progress(const char *stage, double frac, void *user)
{
  (void)user;
  if (par_size() > 1) fprintf(stderr, "na64 run: %s (%.0f%%, %d ranks)\n", stage, 100.0 * frac, par_size());
  else fprintf(stderr, "na64 run: %s (%.0f%%)\n", stage, 100.0 * frac);
}

int run_vis_ranks(const char *card, double eot, na64_vis_job_result *res, na64_err *err)
{
  int rank = par_rank();
  na64_vis_partial p;
  int st = na64_vis_job_part_run(card, eot, rank, par_size(), &p, res, rank == 0 ? vis_rank_progress : NULL, NULL, err);
  char *text = NULL, **texts = NULL;
  size_t len = 0, *lens = NULL;
  if (st == NA64_OK) st = na64_vis_partial_format(&p, &text, &len, err);
  na64_vis_partial_release(&p);
  st = gather_rank_texts(st, text, len, &texts, &lens, err);
  if (st != NA64_OK || rank != 0) return st;
  na64_vis_partial merged;
  memset(&merged, 0, sizeof merged);
  st = merge_rank_texts(texts, lens, par_size(), &merged, err);
  if (st == NA64_OK) st = na64_vis_job_finish(&merged, res, err);
  na64_vis_partial_release(&merged);
  return st;
}

int run_vis_part(const char *card, double eot, const char *spec, const char *out_path)
{
  int k = 0, n = 1;
  if (par_parse_part(spec, &k, &n))
    return cli_usage_error("run", "--part %s: expected K/N with 0 <= K < N (e.g. 3/100 for the 4th of 100 jobs)", spec);
  if (!out_path) return cli_usage_error("run", "--part needs --partial FILE (the part's result for na64 merge)");
  na64_err err = {0};
  na64_vis_partial p;
  na64_vis_job_result setup;
  int st = na64_vis_job_part_run(card, eot, k, n, &p, &setup, NULL, NULL, &err);
  if (st == NA64_OK) st = na64_vis_partial_write(&p, out_path, &err);
  if (st == NA64_OK)
    printf("part %d/%d of visible card %s: beam-electron events %llu..%llu, signal-sample events %llu..%llu of each "
           "of %d samples; written to %s\n",
           k, n, card, (unsigned long long)p.sample[0].first, (unsigned long long)(p.sample[0].first + p.sample[0].count),
           (unsigned long long)p.sample[1].first, (unsigned long long)(p.sample[1].first + p.sample[1].count),
           p.nsample - 1, out_path);
  na64_vis_partial_release(&p);
  na64_vis_job_result_release(&setup);
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("run", &err);
}

/* The visible partial-result files merged into *out. */
static int merge_vis_files(char **files, int n, na64_vis_partial *out, na64_err *err)
{
  na64_vis_partial *parts = calloc((size_t)n, sizeof *parts);
  if (!parts) return na64_err_set(err, NA64_ENOMEM, "merge: out of memory");
  int st = NA64_OK;
  for (int i = 0; i < n && st == NA64_OK; ++i) st = na64_vis_partial_read(files[i], &parts[i], err);
  if (st == NA64_OK) st = na64_vis_partial_merge(parts, (const char *const *)files, n, out, err);
  release_vis_parts(parts, n);
  return st;
}

/* The merged job's report in dir (its card: the path the parts were run with, as for the invisible job). */
static int vis_report(const na64_vis_partial *merged, double eot, const char *dir, na64_err *err)
{
  if (eot > 0 && eot != merged->eot)
    return na64_err_set(err, NA64_EINVAL, "--eot %g: the visible parts were run for %g EOT, which sets the couplings of "
                        "their efficiency samples (give --eot to `na64 run --part` instead)", eot, merged->eot);
  if (mkdir(dir, 0775) != 0 && errno != EEXIST)
    return na64_err_set(err, NA64_EIO, "cannot create report directory '%s': %s", dir, strerror(errno));
  na64_vis_job_result res;
  int st = na64_vis_job_setup(merged, &res, err);
  if (st == NA64_OK) st = na64_vis_job_finish(merged, &res, err);
  if (st == NA64_OK) st = na64_vis_job_write_report(&res, merged->card_name, dir, err);
  if (st == NA64_OK) cli_print_vis_summary(&res, merged->card_name, dir);
  na64_vis_job_result_release(&res);
  return st;
}

int merge_vis(char **files, int n, const char *report, double eot, const char *partial)
{
  na64_err err = {0};
  na64_vis_partial merged;
  memset(&merged, 0, sizeof merged);
  int st = merge_vis_files(files, n, &merged, &err);
  if (st == NA64_OK && partial) {
    st = na64_vis_partial_write(&merged, partial, &err);
    if (st == NA64_OK) printf("%d visible parts merged into %s\n", n, partial);
  } else if (st == NA64_OK) {
    st = vis_report(&merged, eot, report, &err);
    if (st == NA64_OK)
      printf("%d visible parts merged (%llu beam electrons, %llu events per signal sample): report written to %s/\n", n,
             (unsigned long long)merged.sample[0].size, (unsigned long long)merged.sample[1].size, report);
  }
  na64_vis_partial_release(&merged);
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("merge", &err);
}

int merge_kind(char **files, int n, int *visible)
{
  *visible = na64_partial_file_is_visible(files[0]);
  for (int i = 1; i < n; ++i)
    if (na64_partial_file_is_visible(files[i]) != *visible) {
      na64_err err = {0};
      na64_err_set(&err, NA64_EINVAL, "%s is %s part and %s %s part: they belong to different jobs", files[0],
                   *visible ? "a visible-mode" : "an invisible-mode", files[i], *visible ? "an invisible-mode" : "a visible-mode");
      return cli_fail("merge", &err);
    }
  return CLI_EXIT_OK;
}
