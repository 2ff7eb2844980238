/*
 * `na64 select EVENTS.h5 [EVENTS.h5 ...] [--card CARD] [--format table|csv|json]`: the NA64
 * invisible-mode selection of events tables (of `na64 reco`, or events.h5 of a `na64 run` report;
 * several files, e.g. one per rank or batch job, add up): the cut flow, the signal efficiency and
 * the background in the box (docs/selection.md, "na64 select").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/par.h"
#include "na64/ana.h"
#include "na64/io.h"

static const char select_synopsis[] =
    "Apply the invisible-mode selection (the card's `selection:` section; default cuts without --card)\n"
    "to the HDF5 table 'events' of each EVENTS.h5 (of `na64 reco` or the events.h5 of a `na64 run`\n"
    "report; several files add up). Prints the cut flow (events and weighted events after each cut,\n"
    "all / signal (A' truth) / background), the signal efficiency and the background expected in the\n"
    "signal box for the quoted EOT (--eot, else the card's analysis.eot, else 2.84e11), with errors.\n"
    "Simulated files record the EOT they stand for (na64 sim --truth --all, or na64 run); for other\n"
    "files give it with --eot-simulated. JSON keys: cut_flow (list of {cut, events, weighted,\n"
    "weighted_error}), cut_flow_signal, cut_flow_background, efficiency {value, error, ...},\n"
    "background {value, error, per_eot, ...}.\n"
    "INDEX (EVENTS.index.yaml of na64 reco or na64 run in parts) stands for its part files. Under mpirun\n"
    "the ranks share the rows; the output is the serial one byte for byte (docs/scaling.md).";

/* The selection cuts and the quoted EOT of the card (NULL: defaults). */
static int load_card(const char *card, na64_select_config *sel, double *eot_quoted, na64_err *err)
{
  na64_select_config_default(sel);
  na64_job_config jc;
  na64_job_config_default(&jc);
  if (card) {
    na64_card *c = NULL;
    NA64_CALL(na64_card_load(card, &c, err));
    int st = na64_select_config_read(c, sel, err);
    if (st == NA64_OK) st = na64_job_config_read(c, &jc, err);
    na64_card_free(c);
    NA64_CALL(st);
  }
  if (!(*eot_quoted > 0)) *eot_quoted = jc.eot;
  return NA64_OK;
}

static void print_table(const na64_select_accum *a, const na64_select_result *r, double eot_q, int nfiles)
{
  const char *names[] = {"cut", "events", "weighted", "weighted_error", "signal_events", "signal_weighted",
                         "background_events", "background_weighted"};
  cli_table *t = cli_table_new(8, names);
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) {
    char c[7][40];
    const na64_cutflow *fl[3] = {&a->all, &a->signal, &a->background};
    snprintf(c[0], sizeof c[0], "%llu", (unsigned long long)fl[0]->events[i]);
    snprintf(c[1], sizeof c[1], "%.6g", na64_xsum_value(&fl[0]->weighted[i]));
    snprintf(c[2], sizeof c[2], "%.3g", sqrt(na64_xsum_value(&fl[0]->weighted2[i])));
    snprintf(c[3], sizeof c[3], "%llu", (unsigned long long)fl[1]->events[i]);
    snprintf(c[4], sizeof c[4], "%.6g", na64_xsum_value(&fl[1]->weighted[i]));
    snprintf(c[5], sizeof c[5], "%llu", (unsigned long long)fl[2]->events[i]);
    snprintf(c[6], sizeof c[6], "%.6g", na64_xsum_value(&fl[2]->weighted[i]));
    const char *cells[8] = {na64_cutflow_label(i), c[0], c[1], c[2], c[3], c[4], c[5], c[6]};
    cli_table_add_text_row(t, cells);
  }
  printf("selection of %d file(s), %.6g EOT simulated:\n", nfiles, r->eot);
  cli_table_print(t, FMT_TABLE, stdout);
  cli_table_free(t);
  printf("signal efficiency: %.4f +- %.4f (%llu of %llu A' events)\n", r->efficiency, r->efficiency_error,
         (unsigned long long)r->signal_pass, (unsigned long long)r->signal_events);
  printf("background in the box: %llu events of the sample; %.4g +- %.4g expected at %.4g EOT (90%% CL upper %.4g);\n"
         "  sideband extrapolation (%llu events): %.4g +- %.4g\n",
         (unsigned long long)r->background_pass, r->background_per_eot * eot_q, r->background_per_eot_error * eot_q, eot_q,
         r->background_per_eot_upper * eot_q, (unsigned long long)r->sideband_events, r->sideband_per_eot * eot_q,
         r->sideband_per_eot_error * eot_q);
}

/* One table: the cut flow rows, then `efficiency` and `background` (events: A' events passing /
 * events in the box; weighted: the value; error). */
static void print_csv(const na64_select_accum *a, const na64_select_result *r, double eot_q)
{
  printf("row,events,weighted,error\n");
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i)
    printf("%s,%llu,%.17g,%.17g\n", na64_cutflow_label(i), (unsigned long long)a->all.events[i],
           na64_xsum_value(&a->all.weighted[i]), sqrt(na64_xsum_value(&a->all.weighted2[i])));
  printf("efficiency,%llu,%.17g,%.17g\n", (unsigned long long)r->signal_pass, r->efficiency, r->efficiency_error);
  printf("background,%llu,%.17g,%.17g\n", (unsigned long long)r->background_pass, r->background_per_eot * eot_q,
         r->background_per_eot_error * eot_q);
}

/* ---- the files of the arguments ---- */

static int is_index(const char *path)
{
  size_t n = strlen(path);
  return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) || (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

/* The events index files among the arguments joined as the parts of one run (of `na64 reco INDEX`,
 * `mpirun na64 reco RAW`, `na64 run` under mpirun or `na64 merge`): *ix. */
static int join_indexes(char **pos, int npos, na64_stream_index *ix, na64_err *err)
{
  int n = 0;
  for (int i = 0; i < npos; ++i) n += is_index(pos[i]);
  na64_stream_index *each = calloc((size_t)n, sizeof *each);
  const char **names = calloc((size_t)n, sizeof *names);
  int st = each && names ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "select: out of memory"), got = 0;
  for (int i = 0; i < npos && st == NA64_OK; ++i)
    if (is_index(pos[i])) {
      names[got] = pos[i];
      st = na64_stream_index_read(pos[i], &each[got], err);
      if (st == NA64_OK && strcmp(each[got].kind, "events") != 0)
        st = na64_err_set(err, NA64_EINVAL, "%s: an index of %s files, not of events files (na64 reco, na64 run)", pos[i],
                          each[got].kind);
      got++;
    }
  if (st == NA64_OK) st = na64_stream_index_join(each, names, n, ix, err);
  for (int i = 0; i < got; ++i) na64_stream_index_release(&each[i]);
  free(each);
  free(names);
  return st;
}

/* The events files to select, in order: the arguments, the index files replaced (at the place of
 * the first) by their parts in the order of the run. (*files)[i] malloc'ed. */
static int input_files(char **pos, int npos, char ***files, int *nfiles, na64_err *err)
{
  na64_stream_index ix;
  memset(&ix, 0, sizeof ix);
  int nix = 0;
  for (int i = 0; i < npos; ++i) nix += is_index(pos[i]);
  if (nix) NA64_CALL(join_indexes(pos, npos, &ix, err));
  size_t cap = (size_t)(npos > 0 ? npos : 1) + (size_t)(ix.nheld > 0 ? ix.nheld : 0);
  char **f = calloc(cap, sizeof *f);
  int n = 0, st = f ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "select: out of memory"), done = 0;
  for (int i = 0; i < npos && st == NA64_OK; ++i) {
    if (!is_index(pos[i])) f[n++] = strdup(pos[i]);
    else if (!done++)
      for (int k = 0; k < ix.nheld; ++k) f[n++] = strdup(ix.parts[k].file);
  }
  for (int i = 0; i < n && st == NA64_OK; ++i)
    if (!f[i]) st = na64_err_set(err, NA64_ENOMEM, "select: out of memory");
  na64_stream_index_release(&ix);
  *files = f;
  *nfiles = n;
  return st;
}

static void free_files(char **files, int n)
{
  for (int i = 0; files && i < n; ++i) free(files[i]);
  free(files);
}

/* ---- one rank's share (issue 15): rows [T r / N, T (r + 1) / N) of the files' rows concatenated
 * (T rows in all), and file i as a whole (its untriggered events and EOT) on rank i mod N ---- */

/* File i into the share, its rows [first, first + count) and, if whole, the file itself. */
static int fill_file(const char *file, const na64_select_config *sel, uint64_t first, uint64_t count, int whole,
                     na64_select_share *s, double *eot, int *has_eot, na64_err *err)
{
  na64_select_files_info fi = {0};
  NA64_CALL(na64_select_file_fill_rows(file, sel, first, count, whole, &s->a, &fi, err));
  s->info.nfiles += fi.nfiles;
  s->info.rows += fi.rows;
  s->info.signal_rows += fi.signal_rows;
  s->info.simulated_rows += fi.simulated_rows;
  s->info.untriggered += fi.untriggered;
  *eot = fi.eot;
  *has_eot = whole && fi.files_without_eot == 0;
  return NA64_OK;
}

/* This rank's share of the files, as text for the gather. */
static int select_share(char **files, int n, const na64_select_config *sel, char **text, size_t *len, na64_err *err)
{
  int rank = par_rank(), nr = par_size();
  uint64_t *rows = calloc((size_t)n, sizeof *rows), total = 0;
  int *widx = calloc((size_t)n, sizeof *widx), *whas = calloc((size_t)n, sizeof *whas), nwhole = 0;
  double *weot = calloc((size_t)n, sizeof *weot);
  na64_select_share *s = malloc(sizeof *s);
  int st = rows && widx && whas && weot && s ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "select: out of memory");
  for (int i = 0; i < n && st == NA64_OK; ++i) {
    st = na64_select_file_rows(files[i], &rows[i], err);
    total += rows[i];
  }
  if (st == NA64_OK) {
    na64_select_accum_init(&s->a);
    memset(&s->info, 0, sizeof s->info);
  }
  uint64_t first = 0, count = 0, at = 0;
  na64_part_range(total, rank, nr, &first, &count);
  for (int i = 0; i < n && st == NA64_OK; at += rows[i], ++i) {
    uint64_t lo = first > at ? first : at, hi = first + count < at + rows[i] ? first + count : at + rows[i];
    int whole = i % nr == rank;
    if (hi <= lo && !whole) continue;
    st = fill_file(files[i], sel, lo - at, hi > lo ? hi - lo : 0, whole, s, &weot[nwhole], &whas[nwhole], err);
    if (whole) widx[nwhole++] = i;
  }
  if (st == NA64_OK) {
    s->nwhole = nwhole;
    s->whole_idx = widx;
    s->whole_has = whas;
    s->whole_eot = weot;
    st = na64_select_share_format(s, text, len, err); /* the arrays stay ours: freed below */
  }
  free(rows);
  free(widx);
  free(whas);
  free(weot);
  free(s);
  return st;
}

/* Rank 0: the ranks' shares added (exact sums) and the files' EOT added in file order. */
static int reduce_shares(char **texts, const size_t *lens, int nr, char **files, int n, double eot_sim,
                         na64_select_accum *a, na64_select_files_info *info, na64_err *err)
{
  double *eot = calloc((size_t)n, sizeof *eot);
  int *has = calloc((size_t)n, sizeof *has);
  na64_select_share *part = malloc(sizeof *part);
  int st = eot && has && part ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "select: out of memory");
  na64_select_accum_init(a);
  memset(info, 0, sizeof *info);
  for (int r = 0; r < nr && st == NA64_OK; ++r) {
    char name[32];
    snprintf(name, sizeof name, "share of rank %d", r);
    st = na64_select_share_parse(texts[r], lens[r], name, n, part, err);
    if (st == NA64_OK) {
      na64_select_accum_merge(a, &part->a);
      info->nfiles += part->info.nfiles;
      info->rows += part->info.rows;
      info->signal_rows += part->info.signal_rows;
      info->simulated_rows += part->info.simulated_rows;
      info->untriggered += part->info.untriggered;
      for (int k = 0; k < part->nwhole; ++k) {
        eot[part->whole_idx[k]] = part->whole_eot[k];
        has[part->whole_idx[k]] = part->whole_has[k];
      }
    }
    na64_select_share_release(part);
  }
  for (int i = 0; i < n && st == NA64_OK; ++i) { /* in file order, as the serial selection */
    if (has[i]) info->eot += eot[i];
    else if (!(eot_sim > 0))
      st = na64_err_set(err, NA64_EINVAL,
                        "%s: the file does not record the EOT it stands for (data, or na64 sim --truth without --all): "
                        "give it with --eot-simulated N",
                        files[i]);
    else info->files_without_eot++;
  }
  if (eot_sim > 0) info->eot = eot_sim;
  free(part);
  free(eot);
  free(has);
  return st;
}

/* Every file into the accumulator on rank 0, the rows shared among the ranks (one rank: all). The
 * result does not depend on the number of ranks. Collective; rank 0 returns the status, the others
 * print their own errors and return NA64_OK or NA64_EINVAL. */
static int fill_files(char **files, int n, const na64_select_config *sel, double eot_sim, na64_select_accum *a,
                      na64_select_files_info *info, na64_err *err)
{
  char *text = NULL;
  size_t len = 0;
  int st = select_share(files, n, sel, &text, &len, err);
  if (st != NA64_OK && par_rank() != 0) cli_fail("select", err);
  if (par_any(st != NA64_OK)) {
    free(text);
    return st != NA64_OK ? st : na64_err_set(err, NA64_EINVAL, "another rank failed (its message is above)");
  }
  char **texts = NULL;
  size_t *lens = NULL;
  int gst = par_gather(text, len, &texts, &lens);
  free(text);
  if (par_rank() != 0) return NA64_OK;
  if (gst || !texts) return na64_err_set(err, NA64_ENOMEM, "gathering the ranks' selections: out of memory");
  st = reduce_shares(texts, lens, par_size(), files, n, eot_sim, a, info, err);
  par_gather_free(texts, lens, par_size());
  return st;
}

int cmd_select(int argc, char **argv)
{
  const char *card = NULL;
  int fmt = FMT_TABLE;
  double eot = 0.0, eot_sim = 0.0;
  cli_opt opts[] = {
      {"--card", OPT_STRING, &card, 1, 0, 0, NULL, 0, "run card: its selection: cuts and analysis.eot (default: built-in cuts)", 0},
      {"--format", OPT_CHOICE, &fmt, 1, 0, 0, CLI_FORMAT_CHOICES, 0, "output format (default table)", 0},
      {"--eot", OPT_DOUBLE, &eot, 1, 1e20, 0, NULL, 0, "quote the background for N EOT (default: the card's analysis.eot)", 0},
      {"--eot-simulated", OPT_DOUBLE, &eot_sim, 1, 1e20, 0, NULL, 0,
       "EOT all the files together stand for (replaces what they record)", 0},
  };
  cli_cmd cmd = {.name = "select", .args = "EVENTS.h5... | INDEX...", .synopsis = select_synopsis, .opts = opts,
                 .nopts = CLI_NOPTS(opts), .pos_min = 1, .pos_max = 100000};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  na64_err err = {0, ""};
  na64_select_config sel;
  if (load_card(card, &sel, &eot, &err)) return cli_fail("select", &err);
  char **files = NULL;
  int nfiles = 0;
  if (input_files(cmd.pos, cmd.npos, &files, &nfiles, &err)) {
    free_files(files, nfiles);
    return cli_fail("select", &err);
  }
  na64_select_accum *a = malloc(sizeof *a);
  if (!a) {
    free_files(files, nfiles);
    return CLI_EXIT_FAIL;
  }
  na64_select_accum_init(a);
  na64_select_files_info info = {0};
  na64_select_result r;
  par_init(); /* under mpirun/srun the ranks share the rows (docs/scaling.md) */
  st = fill_files(files, nfiles, &sel, eot_sim, a, &info, &err);
  int rank = par_rank();
  par_finalize();
  free_files(files, nfiles);
  if (rank != 0) {
    free(a);
    return st == NA64_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
  }
  if (st == NA64_OK) st = na64_select_result_compute(&sel, a, info.eot, &r, &err);
  if (st == NA64_OK) {
    if (info.simulated_rows < info.rows && fmt == FMT_TABLE)
      fprintf(stderr, "na64 select: %llu of %llu rows carry no truth (data, or reco without --truth): weight 1, background\n",
              (unsigned long long)(info.rows - info.simulated_rows), (unsigned long long)info.rows);
    if (fmt == FMT_JSON) na64_select_print_json(a, &r, eot, stdout);
    else if (fmt == FMT_CSV) print_csv(a, &r, eot);
    else print_table(a, &r, eot, info.nfiles);
  }
  free(a);
  if (st != NA64_OK) return cli_fail("select", &err);
  return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
