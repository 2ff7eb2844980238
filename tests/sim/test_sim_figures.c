/* Figures of docs/validation.md: the SRD spectra of e- and pi- (sim_srd.png) and the ECAL versus HCAL energy plane of 100 GeV e-, pi- and mu- of the
 * fast simulation, drawn with na64_plot (PLplot) as a PNG in the build directory
 * (sim_ecal_hcal.png; copied to docs/figures/). The PNG is checked by its signature and IHDR size,
 * and the populations by the physics they must show: an e- leaves ~all its energy in the ECAL
 * (10%/sqrt(E), leakage ~1%), a mu- is a MIP (PDG minimum dE/dx: 0.5 GeV in the ECAL, ~1.6 GeV per
 * HCAL module), a pi- interacts in the 1.6 lambda_I ECAL in 1 - exp(-1.6) = 80% of the cases and
 * puts most of its energy in the HCAL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/io.h"
#include "na64/sim.h"
#include "support/na64_test.h"
#include "support/png_check.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define NEV 3000

static void scatter(na64_plot *p, const char *label, const double *x, const double *y, int n, int colour)
{
  /* each point a short segment, separated by NaN (na64_plot_curve splits there) */
  double *px = malloc(3 * (size_t)n * sizeof *px), *py = malloc(3 * (size_t)n * sizeof *py);
  assert_non_null(px);
  assert_non_null(py);
  for (int i = 0; i < n; ++i) {
    px[3 * i] = x[i];
    px[3 * i + 1] = x[i] + 0.6;
    px[3 * i + 2] = NAN;
    py[3 * i] = py[3 * i + 1] = y[i];
    py[3 * i + 2] = NAN;
  }
  na64_err err = {0, ""};
  assert_int_equal(na64_plot_curve(p, label, px, py, 3 * n, colour, 0, &err), NA64_OK);
  free(px);
  free(py);
}

/* SRD energy spectra (sum of the three modules) of e- and pi-: a histogram of 10 MeV bins per
 * particle; the e- mean must lie in 20-150 MeV (155 MeV radiated, Jackson; part absorbed), the pi-
 * (gamma 716) radiates (m_e/m_pi)^4 less energy: its entries are all in the first bin. */
static void srd_figure(double srd[3][NEV], const int n[3])
{
  enum { NB = 30 };
  double x[NB], h[2][NB] = {{0}}, mean = 0.0;
  for (int b = 0; b < NB; ++b) x[b] = 10.0 * b + 5.0;
  for (int p = 0; p < 2; ++p)
    for (int i = 0; i < n[p]; ++i) {
      int b = (int)(srd[p][i] * 1e3 / 10.0);
      h[p][b < 0 ? 0 : b >= NB ? NB - 1 : b] += 1.0 / n[p];
      if (p == 0) mean += srd[p][i] * 1e3 / n[p];
    }
  print_message("SRD: e- mean %.1f MeV, pi- fraction in the first bin %.3f\n", mean, h[1][0]);
  assert_true(mean > 20.0 && mean < 150.0);
  assert_true(h[1][0] > 0.999);
  na64_plot *pl = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_plot_new("Fast simulation: SRD energy, 100 GeV", "E#dSRD#u [MeV]", "fraction per 10 MeV", 0, 1,
                                 0.0, 300.0, 1e-4, 1.5, &pl, &err),
                   NA64_OK);
  assert_int_equal(na64_plot_curve(pl, "e#u-#d", x, h[0], NB, 0, 0, &err), NA64_OK);
  assert_int_equal(na64_plot_curve(pl, "#gp#u-#d", x, h[1], NB, 1, 1, &err), NA64_OK);
  assert_int_equal(na64_plot_note(pl, "#gp#u-#d: all entries below 10 MeV (no synchrotron radiation)", &err), NA64_OK);
  const char *path = NA64_BINARY_DIR "/sim_srd.png";
  remove(path);
  assert_int_equal(na64_plot_write(pl, path, &err), NA64_OK);
  na64_plot_free(pl);
  na64_test_check_png(path);
}

static void test_ecal_hcal_plane(void **state)
{
  (void)state;
  const char *card = "beam:\n  admixture: {pi-: 0.34, K-: 0, p: 0, mu-: 0.33}\n  tail: {fraction: 0}\n";
  char text[1024];
  snprintf(text, sizeof text, "setup: {run: 2000, conditions: \"%s\"}\n%s", DB, card);
  na64_sim_config c;
  na64_sim_config_default(&c);
  na64_err err = {0, ""};
  assert_int_equal(na64_sim_config_parse(text, strlen(text), "plane.yaml", &c, &err), NA64_OK);
  na64_sim *s = NULL;
  na64_sim_worker *w = NULL;
  assert_int_equal(na64_sim_new(&c, &s, &err), NA64_OK);
  assert_int_equal(na64_sim_worker_new(s, &w, &err), NA64_OK);
  static double ex[3][NEV], hy[3][NEV], srd[3][NEV];
  int n[3] = {0, 0, 0}, ninter = 0;
  double sume[3] = {0}, sumh[3] = {0};
  na64_sim_event ev;
  for (uint64_t i = 0; i < NEV; ++i) {
    assert_int_equal(na64_sim_event_generate(w, 21, i, 1, &ev, &err), NA64_OK);
    int p = ev.truth.particle == NA64_SIM_E ? 0 : ev.truth.particle == NA64_SIM_PI ? 1 : 2;
    if (ev.truth.process == NA64_SIM_PROC_DECAY || ev.truth.process == NA64_SIM_PROC_MISSED) continue;
    ex[p][n[p]] = ev.truth.ecal;
    hy[p][n[p]] = ev.truth.hcal;
    srd[p][n[p]] = ev.truth.srd;
    sume[p] += ev.truth.ecal;
    sumh[p] += ev.truth.hcal;
    ninter += p == 1 && ev.truth.process == NA64_SIM_PROC_HADRONIC;
    ++n[p];
  }
  for (int p = 0; p < 3; ++p) assert_true(n[p] > 500);
  print_message("means ECAL/HCAL: e- %.1f/%.2f, pi- %.1f/%.1f (%.0f%% interact in the ECAL), mu- %.2f/%.1f GeV\n",
                sume[0] / n[0], sumh[0] / n[0], sume[1] / n[1], sumh[1] / n[1], 100.0 * ninter / n[1],
                sume[2] / n[2], sumh[2] / n[2]);
  assert_true(sume[0] / n[0] > 95.0 && sumh[0] / n[0] < 1.0);
  assert_true(fabs(sume[2] / n[2] - 0.5) < 0.15 && sumh[2] / n[2] > 4.0 && sumh[2] / n[2] < 9.0);
  double f = (double)ninter / n[1];
  assert_true(fabs(f - (1.0 - exp(-1.6))) < 0.06); /* ECAL of ~1.6 lambda_I (docs/simulation.md) */
  assert_true(sumh[1] / n[1] > 50.0);
  na64_plot *pl = NULL;
  assert_int_equal(na64_plot_new("Fast simulation, 100 GeV beam: ECAL vs HCAL", "E#dECAL#u [GeV]", "E#dHCAL#u [GeV]", 0,
                                 0, 0.0, 115.0, 0.0, 115.0, &pl, &err),
                   NA64_OK);
  scatter(pl, "e#u-#d", ex[0], hy[0], n[0], 0);
  scatter(pl, "#gp#u-#d", ex[1], hy[1], n[1], 1);
  scatter(pl, "#gm#u-#d", ex[2], hy[2], n[2], 2);
  assert_int_equal(na64_plot_note(pl, "signal box: E#dECAL#u < 50 GeV, E#dHCAL#u < 1 GeV", &err), NA64_OK);
  const char *path = NA64_BINARY_DIR "/sim_ecal_hcal.png";
  remove(path);
  assert_int_equal(na64_plot_write(pl, path, &err), NA64_OK);
  na64_plot_free(pl);
  na64_test_check_png(path);
  srd_figure(srd, n);
  na64_sim_worker_free(w);
  na64_sim_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ecal_hcal_plane),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
