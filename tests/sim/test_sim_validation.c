/* Validation of the fast simulation against published numbers and independent formulas:
 *  - ECAL energy resolution versus energy against NA64's dE/E ~ 10%/sqrt(E) (the NA64 report);
 *  - longitudinal profile: mean depth of the maximum against the Grindhammer-Peters paper's linear
 *    formula (hep-ex/0001020: T_hom = ln y - 0.858, sampling shifts t1/F_S + t2 (1 - e-hat)), and
 *    the PDG rule t_max = ln(E/E_c) - 0.5 for electrons (PDG "Passage of particles through matter",
 *    eq. 34.36) within the size of the sampling shift;
 *  - lateral containment of the 6 x 6 matrix against the PDG rule of thumb (~99% within 3.5 R_M);
 *  - the A' emission spectrum of simulated events against the physics module's yield (same
 *    integral, same shape, within statistics). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/physics.h"
#include "na64/io.h"
#include "na64/sim.h"
#include "support/na64_test.h"
#include "support/png_check.h"

#define DB NA64_BINARY_DIR "/conditions.db"

static na64_sim *make_sim(const char *extra, na64_sim_config *cfg)
{
  char text[2048];
  snprintf(text, sizeof text, "setup: {run: 2000, conditions: \"%s\"}\n%s", DB, extra ? extra : "");
  na64_sim_config c;
  na64_sim_config_default(&c);
  na64_err err = {0, ""};
  if (na64_sim_config_parse(text, strlen(text), "validation.yaml", &c, &err)) fail_msg("card: %s", err.msg);
  na64_sim *s = NULL;
  if (na64_sim_new(&c, &s, &err)) fail_msg("sim: %s", err.msg);
  if (cfg) *cfg = c;
  return s;
}

static void test_ecal_resolution(void **state)
{
  (void)state;
  na64_sim *s = make_sim(NULL, NULL);
  double c[3];
  na64_sim_ecal_centre(s, c);
  const double E[] = {5, 10, 20, 50, 100};
  const int NE = 5, N = 1500;
  double X[5], Y[5];
  for (int k = 0; k < NE; ++k) {
    double sum = 0, sum2 = 0;
    for (int i = 0; i < N; ++i) {
      na64_rng rng;
      na64_rng_init(&rng, 77 + (uint64_t)k, (uint64_t)i);
      double cells[NA64_SIM_ECAL_SECTIONS][NA64_SIM_MAX_ECAL] = {{0}}, dep[2] = {0, 0}, vis[2];
      /* impact spread over the central cell, as a beam spot does */
      double x = c[0] + 1.9 * (2 * na64_rng_uniform(&rng) - 1), y = c[1] + 1.9 * (2 * na64_rng_uniform(&rng) - 1);
      na64_sim_ecal_electron(s, E[k], x, y, 0.0, 0.0, &rng, cells, dep, vis);
      double v = vis[0] + vis[1];
      sum += v;
      sum2 += v * v;
    }
    double mean = sum / N, sigma = sqrt(sum2 / N - mean * mean);
    assert_true(mean > 0.97 * E[k] && mean < 1.0 * E[k]); /* ~1% lateral and longitudinal leakage */
    X[k] = 1.0 / E[k];
    Y[k] = (sigma / mean) * (sigma / mean);
  }
  /* least squares of (sigma/E)^2 = a^2 / E + b^2 */
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int k = 0; k < NE; ++k) {
    sx += X[k];
    sy += Y[k];
    sxx += X[k] * X[k];
    sxy += X[k] * Y[k];
  }
  double a2 = (NE * sxy - sx * sy) / (NE * sxx - sx * sx), b2 = (sy - a2 * sx) / NE;
  printf("ECAL resolution: a = %.4f / sqrt(E), b = %.4f\n", sqrt(fmax(a2, 0)), sqrt(fmax(b2, 0)));
  /* published 10%/sqrt(E) (the NA64 report; recalled with low confidence in refdata): within 10% */
  assert_true(a2 > 0 && fabs(sqrt(a2) - 0.10) < 0.010);
  assert_true(b2 < 0.01 * 0.01); /* constant term below 1% (leakage fluctuations) */
  na64_sim_free(s);
}

static void test_longitudinal(void **state)
{
  (void)state;
  na64_sim *s = make_sim(NULL, NULL);
  na64_material ecal, pb, sc;
  na64_err err = {0, ""};
  assert_int_equal(na64_material_get("ECAL", &ecal, &err), NA64_OK); /* 1.5 mm Pb / 1.5 mm Sc */
  assert_int_equal(na64_material_get("Pb", &pb, &err), NA64_OK);
  assert_int_equal(na64_material_get("Sc", &sc, &err), NA64_OK);
  double fs = ecal.X0 / 0.3, ehat = 1.0 / (1.0 + 0.007 * (pb.Z_eff - sc.Z_eff)); /* hep-ex/0001020 eqs. 9, 10 */
  const double E[] = {10, 100};
  for (int k = 0; k < 2; ++k) {
    double y = E[k] / ecal.E_c, Tsum = 0, tsum = 0;
    const int N = 20000;
    for (int i = 0; i < N; ++i) {
      na64_rng rng;
      na64_rng_init(&rng, 11, (uint64_t)(k * N + i));
      double dep[2] = {0, 0}, T, alpha;
      na64_sim_em_shower(s, E[k], 0.0, 0, 0, 0, 0, &rng, NULL, dep, &T, &alpha);
      Tsum += T;
      tsum += T * alpha / (alpha - 1.0); /* centre of gravity alpha/beta */
    }
    double T_gp = log(y) - 0.858 - 0.55 / fs - 0.69 * (1.0 - ehat);
    double T_pdg = log(y) - 0.5;
    printf("E = %g GeV: <T> = %.3f X0, GP linear formula %.3f, PDG %.3f; <t> = %.3f X0\n", E[k], Tsum / N, T_gp, T_pdg,
           tsum / N);
    assert_rel(Tsum / N, T_gp, 0.03);
    assert_true(fabs(Tsum / N - T_pdg) < 1.0); /* the sampling shift here is ~0.4 X0 */
    assert_true(tsum / N > Tsum / N + 1.0 && tsum / N < Tsum / N + 4.0);
  }
  na64_sim_free(s);
}

static void test_lateral(void **state)
{
  (void)state;
  na64_sim *s = make_sim(NULL, NULL);
  double c[3];
  na64_sim_ecal_centre(s, c);
  double cont = 0, central = 0;
  const int N = 300;
  for (int i = 0; i < N; ++i) {
    na64_rng rng;
    na64_rng_init(&rng, 3, (uint64_t)i);
    double cells[NA64_SIM_ECAL_SECTIONS][NA64_SIM_MAX_ECAL] = {{0}}, dep[2] = {0, 0}, vis[2];
    double leak = na64_sim_ecal_electron(s, 100.0, c[0] + 1.91, c[1] + 1.91, 0, 0, &rng, cells, dep, vis);
    cont += (dep[0] + dep[1]) / (100.0 - leak);
    central += (cells[0][3 * 6 + 3] + cells[1][3 * 6 + 3]) / (vis[0] + vis[1]);
  }
  cont /= N;
  central /= N;
  printf("lateral containment of the 6 x 6 matrix %.4f, central cell %.3f\n", cont, central);
  /* the matrix reaches ~3.5 R_M from its centre: ~99% (PDG "Passage of particles", EM showers) */
  assert_true(cont > 0.97 && cont < 0.999);
  /* the hit cell (3.82 cm) lies between the circles of 0.70 R_M and 0.99 R_M (R_M = 2.74 cm of the
   * sandwich): the PDG's "90% within R_M" bounds it from above */
  assert_true(central > 0.75 && central < 0.92);
  na64_sim_free(s);
}

/* docs/validation.md figure (build/sim_aprime_spectrum.png): dN/dE_A' per EOT of the simulated
 * emissions (band: +- 1 sigma of the emission count) and of the physics module's yield, 10 GeV bins. */
static void aprime_figure(const double yb[5], const double sb[5], int N, double bias)
{
  double x[5], y[5], lo[5], hi[5];
  for (int b = 0; b < 5; ++b) {
    double r = sb[b] / N / 10.0, e = sqrt(sb[b] * bias) / bias / N / 10.0; /* per GeV */
    x[b] = 55.0 + 10.0 * b;
    y[b] = yb[b] / 10.0;
    lo[b] = r - e;
    hi[b] = r + e;
  }
  na64_plot *p = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_plot_new("A' (16.7 MeV, #ge = 10#u-4#d) emitted per EOT, 100 GeV e#u-#d", "E#dA'#u [GeV]",
                                 "dN/dE#dA'#u [1/GeV per EOT]", 0, 1, 50.0, 100.0, 1e-13, 1e-11, &p, &err),
                   NA64_OK);
  assert_int_equal(na64_plot_band(p, "fast simulation (+-1#gs)", x, lo, hi, 5, 1, &err), NA64_OK);
  assert_int_equal(na64_plot_curve(p, "physics module yield", x, y, 5, 0, 0, &err), NA64_OK);
  const char *path = NA64_BINARY_DIR "/sim_aprime_spectrum.png";
  remove(path);
  assert_int_equal(na64_plot_write(p, path, &err), NA64_OK);
  na64_plot_free(p);
  na64_test_check_png(path);
}

static void test_aprime_vs_yield(void **state)
{
  (void)state;
  na64_sim_config cfg;
  na64_sim *s = make_sim("beam:\n  momentum_spread: 0\n  admixture: {pi-: 0, K-: 0, p: 0, mu-: 0}\n  tail: {fraction: 0}\n"
                         "processes:\n  aprime: {enabled: true, bias: 2.0e9, min_energy: 50}\n"
                         "aprime: {mass_MeV: 16.7, epsilon: 1.0e-4}\n",
                         &cfg);
  na64_err err = {0, ""};
  na64_material ecal;
  assert_int_equal(na64_material_get("ECAL", &ecal, &err), NA64_OK);
  enum { NB = 5 };
  double yb[NB], total = 0.0;
  for (int b = 0; b < NB; ++b) { /* the physics module's yield in A' energy bins of 10 GeV */
    na64_beamdump d;
    na64_beamdump_init_invisible(&d, &ecal, 100.0, 50.0);
    d.ea_min = 50.0 + 10.0 * b;
    d.ea_max = d.ea_min + 10.0;
    na64_yield *y = NULL;
    assert_int_equal(na64_yield_new(&d, cfg.aprime_mass, &y, &err), NA64_OK);
    yb[b] = na64_yield_production(y) * cfg.aprime_eps * cfg.aprime_eps;
    total += yb[b];
    na64_yield_free(y);
  }
  na64_sim_worker *w = NULL;
  assert_int_equal(na64_sim_worker_new(s, &w, &err), NA64_OK);
  const int N = 60000;
  double sb[NB] = {0}, wsum = 0.0;
  long nem = 0;
  for (int i = 0; i < N; ++i) {
    na64_sim_event ev;
    assert_int_equal(na64_sim_event_generate(w, 21, (uint64_t)i, 0, &ev, &err), NA64_OK);
    if (ev.truth.process != NA64_SIM_PROC_APRIME) continue;
    ++nem;
    int b = (int)((ev.truth.aprime_energy - 50.0) / 10.0);
    if (b >= NB) b = NB - 1;
    assert_true(b >= 0);
    sb[b] += ev.truth.weight;
    wsum += ev.truth.weight;
  }
  double rate = wsum / N, rel = 1.0 / sqrt((double)nem);
  printf("A' per EOT with E_A' > 50 GeV: simulated %.4e +- %.1e (%ld emissions), yield %.4e, sim table %.4e\n", rate,
         rate * rel, nem, total, na64_sim_aprime_probability(s));
  assert_true(nem > 3000);
  assert_rel(rate, total, 3.0 * rel + 0.02); /* statistics plus 2% for the two tabulations */
  double chi2 = 0.0;
  for (int b = 0; b < NB; ++b) {
    double expect = yb[b] * N * cfg.aprime_bias, got = sb[b] * cfg.aprime_bias; /* counts */
    double sig2 = expect + (0.02 * expect) * (0.02 * expect);
    chi2 += (got - expect) * (got - expect) / sig2;
    printf("  E_A' %2.0f-%3.0f GeV: simulated %.0f, expected %.1f\n", 50.0 + 10 * b, 60.0 + 10 * b, got, expect);
  }
  assert_true(chi2 < 20.5); /* 5 bins: P(chi2 > 20.5) = 0.001 */
  aprime_figure(yb, sb, N, cfg.aprime_bias);
  na64_sim_worker_free(w);
  na64_sim_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ecal_resolution),
      cmocka_unit_test(test_longitudinal),
      cmocka_unit_test(test_lateral),
      cmocka_unit_test(test_aprime_vs_yield),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
