/* The visible pair's sparse cell fluctuations (src/sim/fast_ecal.c sim_ecal_smear_sparse, branch
 * vissmear) against the model they approximate: each cell i of a section of energy E fluctuates by
 * N(0, a^2 E_i) and the section's sum by N(0, a^2 E) (a = 10%/sqrt(GeV), the card's sampling term).
 * Cells below SMEAR_CUT E (3e-4 E) get no deviate of their own; the section sum keeps its exact fluctuation.
 * Pair-like cell patterns: two showers of 10-40 GeV through the pair's corner integration
 * (sim_em_corners_add) at random points of the central 2 x 2 cells, 3 mm - 2 cm apart; each pattern
 * smeared NREP times on independent streams. Checked:
 * - the section sums: the same vis as the exact conditional Gaussian (sim_ecal_smear, the same two
 *   section deviates) and sum of the cells = vis to 1e-12 (the fluctuation of the sum is exact);
 * - per cell with a deviate: mean E_i within 5 sigma of the sample mean, variance a^2 E_i within
 *   5 sigma of the sample variance (sqrt(2/n)) plus the skipped fraction E_skip/E the code states
 *   (the drawn cells' variance is a^2 E_i (1 - E_i E_skip / E^2));
 * - the skipped cells' variance summed, against the model's sum a^2 sum E_i: below 0.5% of the
 *   section's a^2 E (fast_ecal.c states <= 0.32% for the 2017 signal);
 * - the variance of the section's sum: a^2 E within 5 sigma. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/sim.h"
#include "sim/ecal_shape.c" /* hidden in libna64, as the next */
#include "sim/fast_ecal.c" /* sim_ecal_smear_sparse and the corner integration are hidden in libna64 */
#include "support/na64_test.h"
#include "support/sim_card.h"

#define NPAT 6
#define NREP 20000

static void pattern(const na64_sim *s, int p, double cells[2][NA64_SIM_MAX_ECAL], double dep[2])
{
  na64_rng r;
  na64_rng_init(&r, 77, (uint64_t)p);
  double g[NA64_SIM_ECAL_SECTIONS][SIM_ECAL_CORNERS];
  memset(g, 0, sizeof g);
  double c[3];
  na64_sim_ecal_centre(s, c);
  double x = c[0] + (na64_rng_uniform(&r) - 0.5) * 2.0 * s->ecal.px, y = c[1] + (na64_rng_uniform(&r) - 0.5) * 2.0 * s->ecal.py;
  double d = 0.3 + 1.7 * na64_rng_uniform(&r), phi = 2.0 * M_PI * na64_rng_uniform(&r);
  double E1 = 10.0 + 30.0 * na64_rng_uniform(&r), E2 = 10.0 + 30.0 * na64_rng_uniform(&r);
  sim_em_corners_add(s, E1, x, y, 0.0, 0.0, &r, g);
  sim_em_corners_add(s, E2, x + d * cos(phi), y + d * sin(phi), 0.0, 0.0, &r, g);
  sim_em_corner_cells(s, (const double(*)[SIM_ECAL_CORNERS])g, cells, dep);
}

static void test_sparse_against_model(void **state)
{
  (void)state;
  na64_sim *s = na64_test_sim_new("", "smear.yaml");
  const int nc = s->ecal.nx * s->ecal.ny;
  const double a = s->cfg.ecal_stochastic;
  assert_true(nc > 9 && a > 0.0 && !(s->cfg.ecal_noise > 0.0));
  static double sum1[2][NA64_SIM_MAX_ECAL], sum2[2][NA64_SIM_MAX_ECAL];
  for (int p = 0; p < NPAT; ++p) {
    double c0[2][NA64_SIM_MAX_ECAL], dep[2];
    pattern(s, p, c0, dep);
    memset(sum1, 0, sizeof sum1);
    memset(sum2, 0, sizeof sum2);
    double st1[2] = {0, 0}, st2[2] = {0, 0};
    for (int rep = 0; rep < NREP; ++rep) {
      double c[2][NA64_SIM_MAX_ECAL], e[2][NA64_SIM_MAX_ECAL], v[2], ve[2];
      memcpy(c, c0, sizeof c);
      memcpy(e, c0, sizeof e);
      na64_rng r1, r2;
      na64_rng_init(&r1, 5, (uint64_t)(p * NREP + rep));
      r2 = r1;
      sim_ecal_smear_sparse(s, &r1, c, dep, v);
      sim_ecal_smear(s, &r2, e, dep, ve, 1);
      for (int k = 0; k < 2; ++k) {
        assert_true(v[k] == ve[k]);
        double t = 0.0;
        for (int i = 0; i < nc; ++i) {
          double dlt = c[k][i] - c0[k][i];
          t += c[k][i];
          sum1[k][i] += dlt;
          sum2[k][i] += dlt * dlt;
        }
        assert_true(fabs(t - v[k]) < 1e-12 * dep[k] + 1e-12);
        st1[k] += t - dep[k];
        st2[k] += (t - dep[k]) * (t - dep[k]);
      }
    }
    for (int k = 0; k < 2; ++k) {
      const double E = dep[k], lo = SMEAR_CUT * E;
      double skip = 0.0, skipvar = 0.0;
      int drawn = 0;
      for (int i = 0; i < nc; ++i)
        if (!(c0[k][i] > lo)) skip += c0[k][i];
      for (int i = 0; i < nc; ++i) {
        double Ei = c0[k][i], model = a * a * Ei, mean = sum1[k][i] / NREP, var = sum2[k][i] / NREP - mean * mean;
        if (!(Ei > lo)) {
          skipvar += model - var;
          continue;
        }
        ++drawn;
        assert_true(fabs(mean) < 5.0 * sqrt(model / NREP));
        assert_true(fabs(var / model - 1.0) < 5.0 * sqrt(2.0 / NREP) + skip / E);
      }
      double m = st1[k] / NREP, vs = st2[k] / NREP - m * m;
      print_message("pattern %d section %d: E %.2f GeV, %d cells drawn, skipped energy %.2e E, skipped variance %.2e "
                    "of a^2 E, var(sum)/(a^2 E) = %.4f\n",
                    p, k, E, drawn, skip / E, skipvar / (a * a * E), vs / (a * a * E));
      assert_true(skipvar / (a * a * E) < 0.005);
      assert_true(fabs(vs / (a * a * E) - 1.0) < 5.0 * sqrt(2.0 / NREP));
    }
  }
  na64_sim_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sparse_against_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
