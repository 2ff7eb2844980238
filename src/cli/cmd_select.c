/*
 * `na64 select EVENTS.h5 [EVENTS.h5 ...] [--card CARD] [--format table|csv|json]`: the NA64
 * invisible-mode selection of events tables (of `na64 reco`, or events.h5 of a `na64 run` report;
 * several files, e.g. one per rank or batch job, add up): the cut flow, the signal efficiency and
 * the background in the box (docs/selection.md, "na64 select").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "na64/ana.h"

static const char select_synopsis[] =
    "Apply the invisible-mode selection (the card's `selection:` section; default cuts without --card)\n"
    "to the HDF5 table 'events' of each EVENTS.h5 (of `na64 reco` or the events.h5 of a `na64 run`\n"
    "report; several files add up). Prints the cut flow (events and weighted events after each cut,\n"
    "all / signal (A' truth) / background), the signal efficiency and the background expected in the\n"
    "signal box for the quoted EOT (--eot, else the card's analysis.eot, else 2.84e11), with errors.\n"
    "Simulated files record the EOT they stand for (na64 sim --truth --all, or na64 run); for other\n"
    "files give it with --eot-simulated. JSON keys: cut_flow (list of {cut, events, weighted,\n"
    "weighted_error}), cut_flow_signal, cut_flow_background, efficiency {value, error, ...},\n"
    "background {value, error, per_eot, ...}.";

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

/* Every file into the accumulator; the EOT they stand for (the files' or eot_sim). */
static int fill_files(char **files, int n, const na64_select_config *sel, double eot_sim, na64_select_accum *a,
                      na64_select_files_info *info, na64_err *err)
{
  for (int i = 0; i < n; ++i) {
    int without = info->files_without_eot;
    NA64_CALL(na64_select_file_fill(files[i], sel, a, info, err));
    if (info->files_without_eot > without && !(eot_sim > 0))
      return na64_err_set(err, NA64_EINVAL,
                          "%s: the file does not record the EOT it stands for (data, or na64 sim --truth without --all): "
                          "give it with --eot-simulated N",
                          files[i]);
  }
  if (eot_sim > 0) info->eot = eot_sim;
  return NA64_OK;
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
  cli_cmd cmd = {.name = "select", .args = "EVENTS.h5...", .synopsis = select_synopsis, .opts = opts,
                 .nopts = CLI_NOPTS(opts), .pos_min = 1, .pos_max = 100000};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  na64_err err = {0, ""};
  na64_select_config sel;
  if (load_card(card, &sel, &eot, &err)) return cli_fail("select", &err);
  na64_select_accum *a = malloc(sizeof *a);
  if (!a) return CLI_EXIT_FAIL;
  na64_select_accum_init(a);
  na64_select_files_info info = {0};
  na64_select_result r;
  st = fill_files(cmd.pos, cmd.npos, &sel, eot_sim, a, &info, &err);
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
