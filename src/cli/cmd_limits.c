/*
 * `na64 limits`: expected or observed 90% CL exclusion limits in the (m_A', eps) plane, as CSV /
 * table / JSON, a plot (PLplot) and a HEPData table. Also the dark-matter interpretation y(m_chi).
 * The physics and statistics live in the library (physics: yield; ana: limit scan, CLs).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/sensitivity.h"
#include "na64/ana.h"
#include "na64/io.h"

static const char *limits_synopsis =
    "90% CL exclusion limits on the A' mixing epsilon versus m_A' for a number of electrons on target.\n"
    "Invisible mode: missing energy in the ECAL (A' energy above E0 - E_ECAL,max), CSV columns\n"
    "mass_MeV,epsilon (upper limit). Visible mode: A' -> e+e- behind the WCAL, CSV columns\n"
    "mass_MeV,eps_low,eps_high (the excluded band; empty where nothing is excluded). With --y: the\n"
    "dark-matter variable y = eps^2 alpha_D (m_chi/m_A')^4 versus m_chi at m_A' = ratio * m_chi.\n"
    "Masses in MeV, energies in GeV, lengths in cm. Statistics: CLs (Read 2002) with the background\n"
    "b +- db and a relative signal systematic; b = 0 and n = 0 give 2.30 events.";

int cmd_limits(int argc, char **argv)
{
  sens_options o;
  sens_options_default(&o);
  cli_opt opts[] = {
      {"--mode", OPT_CHOICE, &o.mode, 1, 0, 0, "invisible|visible", 0, "search mode (default invisible)", 0},
      {"--energy", OPT_DOUBLE, &o.energy, 10, 200, 0, NULL, 0, "beam energy E0, GeV (default 100)", 0},
      {"--eot", OPT_DOUBLE, &o.eot, 1, 1e16, 0, NULL, 0, "electrons on target (required unless --run gives it)", 0},
      {"--run", OPT_INT, &o.run, 1, 1e9, 0, NULL, 0,
       "take mode, beam energy, EOT and the visible geometry of this run from the conditions database", 0},
      {"--db", OPT_STRING, &o.db, 1, 0, 0, NULL, 0, "conditions database for --run (default: $NA64_CONDITIONS_DB or the built one)", 0},
      {"--efficiency", OPT_DOUBLE, &o.efficiency, 0, 1, 1, NULL, 0, "signal efficiency (default 1)", 0},
      {"--background", OPT_DOUBLE, &o.background, 0, 1e6, 0, NULL, 0, "expected background events (default 0)", 0},
      {"--background-error", OPT_DOUBLE, &o.background_error, 0, 1e6, 0, NULL, 0,
       "1-sigma error of the background (default 0)", 0},
      {"--signal-syst", OPT_DOUBLE, &o.signal_syst, 0, 1, 0, NULL, 0, "relative signal systematic (default 0)", 0},
      {"--cl", OPT_DOUBLE, &o.cl, 0.5, 0.9999, 0, NULL, 0, "confidence level (default 0.90)", 0},
      {"--observed", OPT_INT, &o.observed, 0, 1e6, 0, NULL, 0, "observed events (default 0)", 0},
      {"--stat", OPT_CHOICE, &o.statistic, 1, 0, 0, "cls|fc", 0,
       "statistic: CLs with nuisance priors (default) or Feldman-Cousins upper end", 0},
      {"--expected", OPT_FLAG, &o.expected, 1, 0, 0, NULL, 0, "median expected limit with +-1, +-2 sigma bands", 0},
      {"--masses", OPT_STRING, &o.masses, 1, 0, 0, NULL, 0,
       "MIN:MAX:N (log-spaced) or m1,m2,... in MeV (default 1:1000:60, visible 1.1:30:60)", 0},
      {"--ecal-max", OPT_DOUBLE, &o.ecal_max, 0, 1e3, 1, NULL, 0, "invisible: E_ECAL cut, GeV (default E0/2)", 0},
      {"--annihilation", OPT_FLAG, &o.annihilation, 1, 0, 0, NULL, 0,
       "invisible: add resonant e+e- -> A' of shower positrons", 0},
      {"--method", OPT_CHOICE, &o.method, 1, 0, 0, "ww|iww|etl", 0, "cross section (default etl)", 0},
      {"--wcal-x0", OPT_DOUBLE, &o.wcal_x0, 1, 200, 0, NULL, 0, "visible: WCAL depth in X0 (default 30)", 0},
      {"--decay-start", OPT_DOUBLE, &o.decay_start, 0, 1e5, 0, NULL, 0,
       "visible: WCAL end to decay-region start, cm (default 7.5)", 0},
      {"--decay-length", OPT_DOUBLE, &o.decay_length, 0, 1e5, 1, NULL, 0, "visible: decay-region length, cm (default 300)", 0},
      {"--ea-min", OPT_DOUBLE, &o.ea_min, 0, 1e3, 0, NULL, 0, "visible: minimal A' energy, GeV (default 0.3 E0)", 0},
      {"--y", OPT_FLAG, &o.y_output, 1, 0, 0, NULL, 0, "invisible: print y versus m_chi instead of epsilon", 0},
      {"--alpha-d", OPT_DOUBLE, &o.alpha_d, 0, 1, 1, NULL, 0, "with --y: alpha_D (default 0.1)", 0},
      {"--mass-ratio", OPT_DOUBLE, &o.mass_ratio, 2, 100, 0, NULL, 0, "with --y: m_A'/m_chi (default 3)", 0},
      {"--format", OPT_CHOICE, &o.format, 1, 0, 0, CLI_FORMAT_CHOICES, 0, "output format (default table)", 0},
      {"--plot", OPT_STRING, &o.plot, 1, 0, 0, NULL, 0, "also draw the limit: FILE.png, .svg or .pdf", 0},
      {"--hepdata", OPT_STRING, &o.hepdata, 1, 0, 0, NULL, 0, "also write a HEPData YAML table", 0},
  };
  int st = cli_parse("limits", limits_synopsis, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]));
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  sens_curve c;
  na64_err err = {0};
  /* opts[] indices: 0 --mode, 2 --eot */
  if (o.run > 0 && sens_apply_run(&o, opts[2].seen, opts[0].seen, stderr, &err)) return cli_fail("limits", &err);
  if (!(o.eot > 0)) {
    fprintf(stderr, "na64 limits: missing required argument --eot (electrons on target), or give --run\n");
    return CLI_EXIT_USAGE;
  }
  if (sens_parse_masses(&o, &c.masses, &c.n, &err)) {
    fprintf(stderr, "na64 limits: %s\n", err.msg);
    return CLI_EXIT_USAGE;
  }
  if (sens_compute(&o, &c, 1, &err)) {
    sens_curve_release(&c); /* masses and the points of a failed scan */
    return cli_fail("limits", &err);
  }
  sens_print(&o, &c, stdout);
  int rc = CLI_EXIT_OK;
  if (o.plot && sens_plot_single(&o, &c, o.plot, &err)) rc = cli_fail("limits", &err);
  if (o.hepdata && sens_write_hepdata(&o, &c, o.hepdata, &err)) rc = cli_fail("limits", &err);
  sens_curve_release(&c);
  return rc;
}
