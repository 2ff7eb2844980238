/*
 * HEPData YAML tables (hepdata.net submission format, "data file": independent_variables and
 * dependent_variables, each a header {name, units} with a list of {value: ...}; qualifiers on the
 * dependent variables). Numbers are written with "%.6g" in the C locale; NaN becomes '-', HEPData's
 * marker for a missing value.
 */
#include <math.h>
#include <stdio.h>

#include "na64/io.h"

static void write_header(FILE *f, const na64_hepdata_var *v)
{
  fprintf(f, "- header: {name: '%s', units: '%s'}\n", v->name ? v->name : "", v->units ? v->units : "");
}

static void write_values(FILE *f, const double *values, int n)
{
  fprintf(f, "  values:\n");
  for (int i = 0; i < n; ++i) {
    if (isfinite(values[i])) fprintf(f, "  - {value: %.6g}\n", values[i]);
    else fprintf(f, "  - {value: '-'}\n");
  }
}

int na64_hepdata_write(const char *path, const na64_hepdata_var *indep, const na64_hepdata_var *dep, int ndep, int n,
                       const na64_hepdata_qualifier *qual, int nqual, na64_err *err)
{
  if (!path || !indep || !dep || ndep < 1 || n < 0) return na64_err_set(err, NA64_EINVAL, "hepdata: invalid arguments");
  FILE *f = fopen(path, "w");
  if (!f) return na64_err_set(err, NA64_EIO, "hepdata: cannot write '%s'", path);
  fprintf(f, "independent_variables:\n");
  write_header(f, indep);
  write_values(f, indep->values, n);
  fprintf(f, "dependent_variables:\n");
  for (int d = 0; d < ndep; ++d) {
    write_header(f, &dep[d]);
    if (nqual > 0) {
      fprintf(f, "  qualifiers:\n");
      for (int q = 0; q < nqual; ++q) fprintf(f, "  - {name: '%s', value: '%s'}\n", qual[q].name, qual[q].value);
    }
    write_values(f, dep[d].values, n);
  }
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) return na64_err_set(err, NA64_EIO, "hepdata: error writing '%s'", path);
  return NA64_OK;
}
