/*
 * `na64 run [CARD]`: the main job (issue 11). With the run card (default
 * configs/invisible_default.yaml) it simulates, selects, measures the signal efficiency and the
 * background and computes the limit (na64_job_run, src/ana/job.c), then writes the report
 * (na64_job_write_report), the physics summary of the benchmark masses and the sensitivity report.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/par.h"
#include "na64/ana.h"
#include "na64/io.h"
#include "na64/physics.h"

static const double benchmark_masses_MeV[] = {1.0, 10.0, 16.7, 100.0};
enum { NBENCH = sizeof benchmark_masses_MeV / sizeof benchmark_masses_MeV[0] };

/* One row of the physics summary for A' mass m (GeV). */
static int summary_row(double m, double eps, double E0, const na64_material *ecal, double row[9], na64_err *err)
{
  na64_aprime a = {m, eps, NA64_DM_NONE, 0, 0, 0};
  na64_aprime_decay d;
  double L, s_pb, macro;
  /* below 2 m_e a minimal A' has no visible decay: it is stable (width 0, infinite length) */
  if (m > 2.0 * NA64_M_E) {
    NA64_CALL(na64_aprime_decay_compute(&a, &d, err));
    NA64_CALL(na64_aprime_decay_length(&a, E0, &L, err));
  } else {
    NA64_CALL(na64_aprime_check(&a, err));
    memset(&d, 0, sizeof d);
    d.ctau = L = INFINITY;
  }
  NA64_CALL(na64_xsec_total(NA64_XS_ETL, E0, m, eps, 82, 207.2, &s_pb, err));
  NA64_CALL(na64_xsec_macroscopic(NA64_XS_ETL, ecal, E0, m, eps, &macro, err));
  double row_v[9] = {m * 1e3, eps, d.width_total, d.br_ee, d.ctau, L, s_pb,
                     macro * ecal->X0, /* A' emissions by the primary per X0 of ECAL */
                     0};
  double K;
  NA64_CALL(na64_kfactor(m, E0, &K, err));
  row_v[8] = K;
  memcpy(row, row_v, sizeof row_v);
  return NA64_OK;
}

/* The selection job of the card and its report files; prints the key numbers. */
/* The selection, efficiencies, background and limit of a finished job on stdout (na64 run, na64 merge). */
void cli_print_job_summary(const na64_job_result *res, const char *card)
{
  const na64_select_result *r = &res->result;
  printf("\nselection (card %s, %.3g EOT simulated, quoted for %.3g EOT):\n", card ? card : "(defaults)", r->eot,
         res->eot_quoted);
  printf("  cut flow (all events):\n");
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i)
    printf("    %-14s %10llu  weighted %.6g\n", na64_cutflow_label(i), (unsigned long long)res->accum.all.events[i],
           na64_xsum_value(&res->accum.all.weighted[i]));
  for (int i = 0; i < res->nmass; ++i)
    printf("  signal efficiency at %g MeV: %.4f +- %.4f\n", res->mass_MeV[i], res->efficiency[i],
           res->efficiency_error[i]);
  printf("  background in the box: %llu events of the sample, %.3g +- %.3g per EOT (90%% CL upper %.3g);\n"
         "  sideband extrapolation (%llu events): %.3g +- %.3g per EOT\n",
         (unsigned long long)r->background_pass, r->background_per_eot, r->background_per_eot_error,
         r->background_per_eot_upper, (unsigned long long)r->sideband_events, r->sideband_per_eot,
         r->sideband_per_eot_error);
  printf("  limit: efficiency per mass (%.4f at the card's mass), background %.3g +- %.3g events (%s), 0 observed, %.3g EOT\n",
         res->limit_efficiency, res->limit_background, res->limit_background_error, res->limit_background_source,
         res->eot_quoted);
}

static int run_job(const char *card, double eot, const char *report)
{
  na64_err err = {0};
  na64_job_result *res = calloc(1, sizeof *res);
  if (!res) return CLI_EXIT_FAIL;
  int st = run_job_ranks_events(card, eot, report, res, &err); /* serial, or rank 0 of mpirun (issue 15) */
  if (st == NA64_OK) st = na64_job_write_report(res, card, report, &err);
  if (st == NA64_OK) cli_print_job_summary(res, card);
  na64_job_result_release(res);
  free(res);
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("run", &err);
}

static int make_dir(const char *path)
{
  if (mkdir(path, 0775) == 0 || errno == EEXIST) return 0;
  return -1;
}

/* The Table 2 background table of the visible job (src/sim/vis_bkg.c) and the island's n_up. */
static void print_vis_backgrounds(const na64_vis_job_result *r)
{
  printf("  backgrounds (NA64 report Table 2): %-28s %10s %9s %12s %10s\n", "source", "per EOT", "error", "at the EOT",
         "Table 2");
  for (int i = 0; i < NA64_VIS_BKG_NSOURCES; ++i)
    printf("  %34s %-28s %10.3g %9.2g %12.3g %10.0e%s\n", "", na64_vis_bkg_table2_row(i), r->bkg[i].rate, r->bkg[i].error,
           r->bkg[i].rate * r->job.eot, na64_vis_bkg_table2(i), r->bkg_config.enabled[i] ? "" : " (off)");
  printf("  %34s %-28s %10.3g %9.2g %12.3g %10.0e\n", "", "total", r->bkg_total, r->bkg_total_error, r->bkg_events, 3e-13);
  printf("  island threshold: %.4g signal events (CLs 90%% CL at the background-only median count %d, b = %.3g +- %.2g)\n",
         r->n_up, r->bkg_median_n, r->bkg_events, r->bkg_events_error);
}

void cli_print_vis_summary(const na64_vis_job_result *res, const char *card, const char *report)
{
  printf("visible mode (card %s, run %ld, %g GeV, quoted for %.3g EOT)\n  cut flow: %-14s %8s %8s\n", card,
         res->sim.run, res->sim.beam_energy, res->job.eot, "cut", "signal", "beam e-");
  for (int i = 0; i <= NA64_VIS_NCUTS; ++i)
    printf("            %-14s %8llu %8llu\n", i ? na64_vis_cut_name(i - 1) : "all", (unsigned long long)res->signal.events[i],
           (unsigned long long)res->background.events[i]);
  for (int i = 0; i < res->nmass; ++i)
    printf("  %5g MeV: efficiency %.3f / %.3f / %.3f at eps %.3g / %.3g / %.3g; island %.3g < eps < %.3g\n",
           res->mass_MeV[i], res->eff[i][0], res->eff[i][1], res->eff[i][2], res->eff_eps[i][0], res->eff_eps[i][1],
           res->eff_eps[i][2], res->eps_low[i], res->eps_high[i]);
  print_vis_backgrounds(res);
  printf("report written to %s/: index.html, cutflow.csv, efficiency.csv, limit.csv, validation.csv, background.csv, "
         "limit.{png,svg}, card.yaml%s%s\n", report, res->x17 ? ", x17.csv" : "",
         res->x17 && res->ps_eff ? ", efficiency_pseudoscalar.csv, limit_pseudoscalar.csv" : "");
}

/* The visible job serially or on the ranks of mpirun (rank 0 writes the report), or one batch part. */
static int run_visible(const char *card, double eot, const char *report, const char *part, const char *partial)
{
  if (part || partial) return run_vis_part(card, eot, part ? part : "", partial);
  na64_err err = {0};
  if (par_rank() == 0 && make_dir(report) != 0) {
    fprintf(stderr, "na64 run: error: cannot create report directory '%s': %s\n", report, strerror(errno));
    err.code = NA64_EIO;
  }
  if (par_any(err.code != NA64_OK)) return CLI_EXIT_FAIL;
  na64_vis_job_result res;
  int st = run_vis_ranks(card, eot, &res, &err);
  if (st == NA64_OK && par_rank() == 0) st = na64_vis_job_write_report(&res, card, report, &err);
  if (st == NA64_OK && par_rank() == 0) cli_print_vis_summary(&res, card, report);
  na64_vis_job_result_release(&res);
  if (st != NA64_OK && par_rank() != 0) return CLI_EXIT_FAIL; /* its message is printed already */
  return st == NA64_OK ? CLI_EXIT_OK : cli_fail("run", &err);
}

/* The card's sections as the job reads them, before any work (a bad card used to be found after the
 * physics summary and the sensitivity report were written): status of the first error; *vis: a
 * visible-mode card. */
static int check_card(const char *card, int *vis_out, na64_err *err)
{
  na64_card *c = NULL;
  NA64_CALL(na64_card_load(card, &c, err));
  int vis = na64_card_is_visible(c), st;
  *vis_out = vis;
  na64_job_config jc;
  na64_job_config_default(&jc);
  if (vis) {
    na64_vis_config vc;
    na64_vis_config_default(&vc);
    na64_vis_select_config vs;
    na64_vis_select_config_default(&vs);
    na64_vis_bkg_config vb;
    na64_vis_bkg_config_default(&vb);
    st = na64_vis_config_load(card, &vc, err);
    if (st == NA64_OK) st = na64_vis_select_config_read(c, &vs, err);
    if (st == NA64_OK) st = na64_vis_bkg_config_read(c, &vb, err);
  } else {
    na64_sim_config sc;
    na64_sim_config_default(&sc);
    na64_select_config sel;
    na64_select_config_default(&sel);
    st = na64_sim_config_load(card, &sc, err);
    if (st == NA64_OK) st = na64_select_config_read(c, &sel, err);
  }
  if (st == NA64_OK) st = na64_job_config_read(c, &jc, err);
  if (st == NA64_OK) {
    double *m = NULL;
    int n = 0;
    st = na64_sens_masses_parse(jc.masses, vis ? NA64_SENS_VISIBLE : NA64_SENS_INVISIBLE, &m, &n, err);
    free(m);
    if (st) na64_err_prefix(err, "%s: analysis.masses_MeV '%s'", card, jc.masses);
  }
  if (st == NA64_EINVAL && !strstr(err->msg, card)) na64_err_prefix(err, "%s", card);
  na64_card_free(c);
  return st;
}

/* The report directory and the card before any work: nothing is written for a bad card (a CLI
 * exit status; card NULL: the built-in defaults). A missing, unreadable or directory CARD is
 * named by na64_card_load in check_card, as for every command that reads a card; *vis: a visible card. */
static int check_inputs(const char *card, const char *report, int *vis)
{
  *vis = 0;
  struct stat rsb;
  if (stat(report, &rsb) == 0 && !S_ISDIR(rsb.st_mode))
    return cli_usage_error("run", "--report-dir '%s' exists and is not a directory", report);
  if (card) {
    na64_err cerr = {0};
    if (check_card(card, vis, &cerr) != NA64_OK) return cli_fail("run", &cerr);
  }
  return CLI_EXIT_OK;
}

/* The physics summary of the benchmark masses (width, lifetime, cross section, emissions per X0) on
 * stdout in format fmt and as REPORT/summary.csv and summary.txt (the report directory made here). */
static int physics_summary(double eps, double energy, int fmt, const char *report)
{
  na64_err err = {0};
  na64_material ecal;
  if (na64_material_get("ECAL", &ecal, &err)) return cli_fail("run", &err);
  const char *names[] = {"mass_MeV", "eps", "width_GeV", "br_ee", "ctau_cm", "decay_length_cm",
                         "sigma_etl_Pb_pb", "emissions_per_X0_ECAL", "K_iww_over_etl"};
  cli_table *t = cli_table_new(9, names);
  for (int i = 0; i < NBENCH; ++i) {
    double row[9];
    if (summary_row(benchmark_masses_MeV[i] * 1e-3, eps, energy, &ecal, row, &err)) {
      cli_table_free(t);
      return cli_fail("run", &err);
    }
    cli_table_add_row(t, row);
  }
  printf("na64 %s — physics summary: %g GeV e- beam, eps = %g, ETL cross sections, ECAL = %s "
         "(X0 = %.3f cm)\n\n", na64_version(), energy, eps, ecal.name, ecal.X0);
  cli_table_print(t, (cli_format)fmt, stdout);
  if (make_dir(report) != 0) {
    cli_table_free(t);
    fprintf(stderr, "na64 run: error: cannot create report directory '%s': %s\n", report, strerror(errno));
    return CLI_EXIT_FAIL;
  }
  char path[4096];
  const cli_format file_fmts[2] = {FMT_CSV, FMT_TABLE};
  const char *file_names[2] = {"summary.csv", "summary.txt"};
  for (int k = 0; k < 2; ++k) {
    snprintf(path, sizeof path, "%s/%s", report, file_names[k]);
    /* replaced only when complete: a full disk keeps the previous report's file */
    na64_outfile *out = NULL;
    if (na64_outfile_open(path, 0, &out, &err) == NA64_OK) {
      cli_table_print(t, file_fmts[k], na64_outfile_stream(out));
      na64_outfile_commit(out, &err);
    }
    if (err.code != NA64_OK) {
      cli_table_free(t);
      return cli_fail("run", &err);
    }
  }
  cli_table_free(t);
  return CLI_EXIT_OK;
}

static int run_command(int argc, char **argv)
{
  const char *report = "report", *part = NULL, *partial = NULL, *scan = NULL;
  double eps = 1e-4, energy = 100.0, efficiency = 1.0;
  int fmt = FMT_TABLE;
  double eot = 0.0;
  cli_opt opts[] = {
      {"--eot", OPT_DOUBLE, &eot, 1.0, 1e20, 0, NULL, 0, "quote background and limit for N EOT (default: the card's analysis.eot)", 0},
      {"--report-dir", OPT_STRING, &report, 1.0, 0.0, 0, NULL, 0, "directory for the report files (default report)", 0},
      {"--eps", OPT_DOUBLE, &eps, 0.0, 1.0, 1, NULL, 0, "epsilon for the summary (default 1e-4)", 0},
      {"--energy", OPT_DOUBLE, &energy, 10.0, 200.0, 0, NULL, 0, "beam energy, GeV (default 100)", 0},
      {"--efficiency", OPT_DOUBLE, &efficiency, 0, 1, 1, NULL, 0, "signal efficiency of the sensitivity report (default 1)", 0},
      {"--format", OPT_CHOICE, &fmt, 1.0, 0.0, 0, CLI_FORMAT_CHOICES, 0, "output format (default table)", 0},
      {"--part", OPT_STRING, &part, 1.0, 0.0, 0, NULL, 0, "run only part K/N of the job (batch arrays; K = 0..N-1; also visible cards) ...", 0},
      {"--partial", OPT_STRING, &partial, 1.0, 0.0, 0, NULL, 0, "... and write its partial result to FILE for `na64 merge` (its events table: FILE stem + .events.h5)", 0},
      {"--scan", OPT_STRING, &scan, 1.0, 0.0, 0, NULL, 0,
       "SECTION.KEY=v1,v2,...: the job once per value (REPORT/scan.csv, REPORT/scan-<i>/; ranks share them)", 0},
  };
  cli_cmd cmd = {.name = "run", .args = "[CARD]",
                 .synopsis = "The main job: simulate the run card CARD (default configs/invisible_default.yaml), select\n"
                             "(cut flow), measure the signal efficiency per A' mass and the background, and compute the\n"
                             "90% CL limit for the card's EOT (or --eot N); report: index.html, cutflow.csv, selection.json,\n"
                             "efficiency.csv, background.csv, limit.{csv,png,svg}, limit_hepdata.yaml, ecal_hcal.png,\n"
                             "missing_energy.png, card.yaml, events.h5 (the main sample's events table;\n"
                             "events_rank<K>.h5 per MPI rank, listed by events.index.yaml). Also the physics\n"
                             "summary for the benchmark masses 1, 10, 16.7, 100 MeV (summary.csv, summary.txt) and the\n"
                             "sensitivity report: expected 90% CL limits for 1e9..1e13 EOT at 100 and 30 GeV, the\n"
                             "dark-matter y plot and the visible-mode island, as plots, CSV and HEPData YAML.\n"
                             "Under mpirun/srun the ranks share the events (docs/scaling.md); the report is the same.",
                 .opts = opts, .nopts = CLI_NOPTS(opts), .pos_min = 0, .pos_max = 1};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  const char *card = cmd.npos > 0 ? cmd.pos[0] : "configs/invisible_default.yaml";
  if (cmd.npos == 0 && access(card, R_OK) != 0) {
    card = NULL; /* run outside the source tree (installed): the built-in defaults of sim.h and ana.h */
    fprintf(stderr, "na64 run: no configs/invisible_default.yaml here: using the built-in defaults\n");
  }
  int visible = 0;
  if ((st = check_inputs(card, report, &visible)) != CLI_EXIT_OK) return st;
  if (visible) {
    if (scan) return cli_usage_error("run", "--scan is not available for visible-mode cards yet");
    return run_visible(card, eot, report, part, partial);
  }
  if (scan && (part || partial)) return cli_usage_error("run", "--scan runs whole jobs: not with --part/--partial");
  if (scan) return run_scan(card, scan, eot, report);
  if (part || partial) return run_job_part(card, part ? part : "", partial);
  na64_err err = {0};
  if (par_rank() != 0) { /* MPI rank > 0: its part of the job (and its events file); rank 0 writes the rest */
    if (make_dir(report) != 0) fprintf(stderr, "na64 run: error: cannot create report directory '%s': %s\n", report, strerror(errno));
    return run_job_ranks_events(card, eot, report, NULL, &err) == NA64_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
  }
  if ((st = physics_summary(eps, energy, fmt, report)) != CLI_EXIT_OK) return st;
  printf("\nsensitivity (expected 90%% CL limits, no background, efficiency %g):\n", efficiency);
  na64_sens_options so;
  na64_sens_options_default(&so);
  so.efficiency = efficiency;
  char summary[2048];
  if (na64_sens_report_write(&so, report, summary, sizeof summary, &err)) return cli_fail("run", &err);
  fputs(summary, stdout);
  st = run_job(card, eot, report);
  if (st != CLI_EXIT_OK) return st;
  printf("\nreport written to %s/: index.html, cutflow.csv, selection.json, efficiency.csv, background.csv,\n"
         "limit.{csv,png,svg}, limit_hepdata.yaml, ecal_hcal.{png,csv,json}, missing_energy.{png,csv,json},\n"
         "card.yaml, events.h5;\n"
         "summary.csv, summary.txt; invisible_100GeV.{png,pdf,svg}, invisible_30GeV.*,\n"
         "dark_matter_y_100GeV.*, visible_100GeV.*; one CSV and one HEPData YAML per curve\n", report);
  return CLI_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
  par_init(); /* MPI when launched by mpirun or srun (src/cli/par.c) */
  int st = run_command(argc, argv);
  par_finalize();
  return st;
}
