/* A figure to design the next visible-mode run (issue 12): the 90% CL excluded region for 5.4e10
 * EOT at 100 GeV versus the WCAL depth D (X0) and the decay-region length L (cm), with the decay
 * region starting 33.2 cm behind the WCAL (the 2017 geometry derived from the PRL 120 band). The
 * proposal asks for the target to be as short as possible (refdata na64-report-facts.md: "the
 * excluded region depends on the wall length L'"). Writes visible_design.csv (D, L, closing mass,
 * X17 band) and visible_design.png (bands for a few designs) into the directory argv[1] (default
 * the current one); prints the table. Usage: bench_visible_design [DIR]. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/io.h"

#define NM 48

static int design_config(na64_limit_config *cfg, double depth, double length, na64_err *err)
{
  NA64_CALL(na64_limit_config_default(cfg, err));
  na64_material wcal;
  NA64_CALL(na64_material_get("WCAL", &wcal, err));
  na64_beamdump_init_visible(&cfg->dump, &wcal, 100.0, depth, 30.0, 33.2, length);
  cfg->eot = 5.4e10;
  return NA64_OK;
}

/* the band on the mass grid m (GeV) and the largest excluded mass (MeV, NAN if none) */
static int design_band(double depth, double length, const double *m, na64_limit_point *pt, double *close,
                       na64_err *err)
{
  na64_limit_config cfg;
  NA64_CALL(design_config(&cfg, depth, length, err));
  NA64_CALL(na64_limit_scan(&cfg, m, NM, pt, err));
  *close = NAN;
  for (int i = 0; i < NM; ++i)
    if (!isnan(pt[i].eps_low)) *close = m[i] * 1e3;
  return NA64_OK;
}

static int write_plot(const char *dir, const double *m, na64_err *err)
{
  static const struct {
    double depth, length;
  } shown[] = {{30, 88}, {15, 88}, {30, 300}, {15, 300}, {30, 1000}};
  na64_plot *p;
  NA64_CALL(na64_plot_new("Visible mode, 100 GeV, 5.4e10 EOT: WCAL depth D, decay length L",
                          "m#dA'#u [MeV]", "#ge", 1, 1, 1.0, 30.0, 1e-5, 3e-2, &p, err));
  double x[NM], lo[NM], hi[NM];
  int st = NA64_OK;
  for (size_t k = 0; k < sizeof shown / sizeof shown[0] && st == NA64_OK; ++k) {
    na64_limit_point pt[NM];
    double close;
    st = design_band(shown[k].depth, shown[k].length, m, pt, &close, err);
    for (int i = 0; i < NM && st == NA64_OK; ++i) {
      x[i] = m[i] * 1e3;
      lo[i] = pt[i].eps_low;
      hi[i] = pt[i].eps_high;
    }
    char label[64];
    snprintf(label, sizeof label, "D = %g X0, L = %g cm", shown[k].depth, shown[k].length);
    if (st == NA64_OK) st = na64_plot_band(p, label, x, lo, hi, NM, (int)k, err);
  }
  if (st == NA64_OK) st = na64_plot_note(p, "decay region from 33.2 cm behind the WCAL; eff 1; E_A' > 30 GeV", err);
  char path[4096];
  snprintf(path, sizeof path, "%s/visible_design.png", dir);
  if (st == NA64_OK) st = na64_plot_write(p, path, err);
  na64_plot_free(p);
  return st;
}

static int write_table(const char *dir, const double *m, na64_err *err)
{
  static const double depths[] = {10, 15, 20, 30, 40}, lengths[] = {30, 88, 300, 1000};
  char csv[8192];
  size_t n = (size_t)snprintf(csv, sizeof csv, "wcal_x0,decay_length_cm,closing_mass_MeV,x17_eps_low,x17_eps_high\n");
  printf("%8s %8s %10s %12s %12s\n", "D [X0]", "L [cm]", "m_max", "X17 low", "X17 high");
  for (size_t a = 0; a < sizeof depths / sizeof depths[0]; ++a)
    for (size_t b = 0; b < sizeof lengths / sizeof lengths[0]; ++b) {
      na64_limit_point pt[NM], x17;
      double close, g = 0.0167;
      NA64_CALL(design_band(depths[a], lengths[b], m, pt, &close, err));
      na64_limit_config cfg;
      NA64_CALL(design_config(&cfg, depths[a], lengths[b], err));
      NA64_CALL(na64_limit_scan(&cfg, &g, 1, &x17, err));
      printf("%8g %8g %10.1f %12.3g %12.3g\n", depths[a], lengths[b], close, x17.eps_low, x17.eps_high);
      if (n < sizeof csv)
        n += (size_t)snprintf(csv + n, sizeof csv - n, "%g,%g,%.4g,%.4g,%.4g\n", depths[a], lengths[b], close,
                              x17.eps_low, x17.eps_high);
    }
  char path[4096];
  snprintf(path, sizeof path, "%s/visible_design.csv", dir);
  return na64_outfile_write_all(path, 0, csv, strlen(csv), err);
}

int main(int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : ".";
  double m[NM];
  for (int i = 0; i < NM; ++i) m[i] = 1.1e-3 * pow(60.0 / 1.1, i / (NM - 1.0));
  na64_err err = {0, ""};
  if (write_table(dir, m, &err) || write_plot(dir, m, &err)) {
    fprintf(stderr, "bench_visible_design: %s\n", err.msg);
    return 1;
  }
  printf("wrote %s/visible_design.csv and %s/visible_design.png\n", dir, dir);
  return 0;
}
