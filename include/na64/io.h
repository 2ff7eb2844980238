/*
 * na64/io.h — output formats: plots (PLplot: PNG, SVG, PDF) and HEPData YAML tables.
 * (HDF5 event files and histograms come with the reconstruction.)
 */
#ifndef NA64_IO_H
#define NA64_IO_H

#include "na64/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================ plots ================================ */

/* A 2-D line plot with optional logarithmic axes, curves, filled bands and a legend, drawn with
 * PLplot (A. Irwin et al., plplot.org) through its cairo drivers. The file type follows the
 * extension: .png, .svg or .pdf. PLplot keeps global state: write plots from one thread at a time. */
typedef struct na64_plot na64_plot;

NA64_API int na64_plot_new(const char *title, const char *xlabel, const char *ylabel, int logx, int logy,
                  double xmin, double xmax, double ymin, double ymax, na64_plot **out, na64_err *err);
/* style: 0 solid, 1 dashed, 2 dotted; colour: index into a colour-blind-safe palette (Okabe-Ito).
 * Points with a NaN or non-positive value (on a log axis) split the curve into segments. */
NA64_API int na64_plot_curve(na64_plot *p, const char *label, const double *x, const double *y, int n,
                    int colour, int style, na64_err *err);
/* A filled region between ylo(x) and yhi(x) (translucent), outlined; NaN gaps split it. */
NA64_API int na64_plot_band(na64_plot *p, const char *label, const double *x, const double *ylo,
                   const double *yhi, int n, int colour, na64_err *err);
/* A free text line under the legend (e.g. "90% CL, 100 GeV"). */
NA64_API int na64_plot_note(na64_plot *p, const char *text, na64_err *err);
NA64_API int na64_plot_write(const na64_plot *p, const char *path, na64_err *err);
NA64_API void na64_plot_free(na64_plot *p);

/* ================================ HEPData ================================ */

/* One table in the HEPData submission format (hepdata.net, "Submission format: YAML data file"):
 * independent_variables / dependent_variables, each with a header {name, units} and values; the
 * dependent variables carry qualifiers (e.g. CL, beam energy). NaN values are written as '-'. */
typedef struct na64_hepdata_var {
  const char *name;
  const char *units;
  const double *values; /* n values */
} na64_hepdata_var;

typedef struct na64_hepdata_qualifier {
  const char *name;
  const char *value;
} na64_hepdata_qualifier;

NA64_API int na64_hepdata_write(const char *path, const na64_hepdata_var *indep, const na64_hepdata_var *dep,
                       int ndep, int n, const na64_hepdata_qualifier *qual, int nqual, na64_err *err);

#ifdef __cplusplus
}
#endif
#endif
