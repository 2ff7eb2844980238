/*
 * `na64 run`: the main job on the built-in default setup (invisible mode, 100 GeV e- on the Pb/Sc
 * ECAL). It prints a physics summary and writes it to the report directory; later stages (limits,
 * simulation, reconstruction) add their sections here.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
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

static int make_dir(const char *path)
{
  if (mkdir(path, 0775) == 0 || errno == EEXIST) return 0;
  return -1;
}

int cmd_run(int argc, char **argv)
{
  const char *report = "report";
  double eps = 1e-4, energy = 100.0, efficiency = 1.0;
  int fmt = FMT_TABLE;
  cli_opt opts[] = {
      {"--report-dir", OPT_STRING, &report, 1.0, 0.0, 0, NULL, 0, "directory for the report files (default report)", 0},
      {"--eps", OPT_DOUBLE, &eps, 1.0, 0.0, 0, NULL, 0, "epsilon for the summary (default 1e-4)", 0},
      {"--energy", OPT_DOUBLE, &energy, 1.0, 0.0, 0, NULL, 0, "beam energy, GeV (default 100)", 0},
      {"--efficiency", OPT_DOUBLE, &efficiency, 0, 1, 1, NULL, 0, "signal efficiency of the sensitivity report (default 1)", 0},
      {"--format", OPT_CHOICE, &fmt, 1.0, 0.0, 0, CLI_FORMAT_CHOICES, 0, "output format (default table)", 0},
  };
  int st = cli_parse("run", "Run the main job on the default setup (invisible mode, e- beam on the Pb/Sc ECAL):\n"
                     "physics summary for the benchmark masses 1, 10, 16.7, 100 MeV (summary.csv, summary.txt)\n"
                     "and the sensitivity report: expected 90% CL limits for 1e9..1e13 EOT at 100 and 30 GeV,\n"
                     "the dark-matter y plot and the visible-mode island, as plots, CSV and HEPData YAML.",
                     argc, argv, opts, (int)(sizeof opts / sizeof opts[0]));
  if (st) return st < 0 ? CLI_EXIT_OK : st;
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
  printf("\nsensitivity (expected 90%% CL limits, no background, efficiency %g):\n", efficiency);
  na64_sens_options so;
  na64_sens_options_default(&so);
  so.efficiency = efficiency;
  char summary[2048];
  if (na64_sens_report_write(&so, report, summary, sizeof summary, &err)) return cli_fail("run", &err);
  fputs(summary, stdout);
  printf("\nreport written to %s/: summary.csv, summary.txt; invisible_100GeV.{png,pdf,svg}, invisible_30GeV.*,\n"
         "dark_matter_y_100GeV.*, visible_100GeV.*; one CSV and one HEPData YAML per curve\n", report);
  return CLI_EXIT_OK;
}
