/* Private to the command line: the sensitivity computation shared by `na64 limits` and `na64 run`. */
#ifndef NA64_CLI_SENSITIVITY_H
#define NA64_CLI_SENSITIVITY_H

#include <stdio.h>

#include "na64/ana.h"

enum { SENS_INVISIBLE = 0, SENS_VISIBLE = 1 };

typedef struct sens_options {
  int mode;
  double energy, eot, efficiency, background, background_error, signal_syst, cl;
  long observed;
  int expected, annihilation, method, y_output, format, statistic;
  const char *masses, *plot, *hepdata, *db;
  long run;          /* > 0: take mode, beam energy, EOT and the visible geometry from the conditions DB */
  double ecal_max, wcal_x0, decay_start, decay_length, ea_min, alpha_d, mass_ratio;
} sens_options;

typedef struct sens_curve {
  double *masses; /* GeV */
  int n;
  na64_limit_point *pt;
} sens_curve;

void sens_options_default(sens_options *o);
/* With o->run > 0: the setup of that run from the conditions database (o->db, NULL = default): mode,
 * beam energy, EOT (unless eot_given), and for the visible mode the WCAL depth in X0 (sum of its
 * sections) and the decay region (the detector of kind decay volume) relative to the WCAL. */
int sens_apply_run(sens_options *o, int eot_given, int mode_given, FILE *log, na64_err *err);
/* masses from o->masses ("MIN:MAX:N" log-spaced or a comma list, MeV) or the mode's default grid */
int sens_parse_masses(const sens_options *o, double **masses, int *n, na64_err *err);
int sens_config(const sens_options *o, na64_limit_config *cfg, na64_err *err);
/* compute c->pt for c->masses (progress on a terminal when show_progress) */
int sens_compute(const sens_options *o, sens_curve *c, int show_progress, na64_err *err);
void sens_print(const sens_options *o, const sens_curve *c, FILE *out);
int sens_print_csv_file(const sens_options *o, const sens_curve *c, const char *path, na64_err *err);
int sens_plot_single(const sens_options *o, const sens_curve *c, const char *path, na64_err *err);
int sens_write_hepdata(const sens_options *o, const sens_curve *c, const char *path, na64_err *err);
/* draw the published NA64 curves (data/published_*.csv) of a mode on a plot */
int sens_plot_published(void *plot, int mode, na64_err *err);
void sens_curve_release(sens_curve *c);
/* The sensitivity report of `na64 run`: invisible-mode curves for 1e9..1e13 EOT at 100 and 30 GeV with
 * the published NA64 curves, the dark-matter y plot, the visible-mode island; PNG/PDF/SVG, CSV and
 * HEPData YAML in dir. A short summary goes to log. */
int sens_report(const sens_options *base, const char *dir, FILE *log, na64_err *err);

#endif
