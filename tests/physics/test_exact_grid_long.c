/* The interpolation error of the shipped exact grids (docs/physics.md 4d), measured at every
 * cell centre in (ln m, ln E) for four elements of the setups (Pb, Fe, C, H) against the direct
 * na64_xsec_exact_quad total to 0.2%: the largest deviation must stay within 1%, the precision the
 * issue asks of the exact computation. ~1500 direct totals: `make validate` only (*_long). */
#include <math.h>
#include <stdio.h>

#include "na64/physics.h"
#include "support/na64_test.h"

static void test_cell_centres(void **state)
{
  (void)state;
  const struct {
    int Z;
    double A;
  } el[] = {{82, 207.2}, {26, 55.845}, {6, 12.011}, {1, 1.008}};
  const double *ms, *Es;
  int nm, nE;
  na64_exact_grid_axes(&ms, &nm, &Es, &nE);
  double worst_all = 0.0;
  for (size_t k = 0; k < sizeof el / sizeof el[0]; ++k) {
    double worst = 0.0, sum2 = 0.0, wm = 0.0, wE = 0.0;
    int n = 0;
    for (int i = 0; i + 1 < nm; ++i)
      for (int j = 0; j + 1 < nE; ++j) {
        double m = sqrt(ms[i] * ms[i + 1]), E = sqrt(Es[j] * Es[j + 1]), g = 0.0, d = 0.0, e = 0.0;
        assert_int_equal(na64_exact_grid_eval(el[k].Z, el[k].A, m, E, &g), 1);
        na64_exact_process p;
        na64_exact_process_init(&p, NA64_LEPTON_E, NA64_MED_VECTOR, E, m);
        p.Z = el[k].Z;
        p.A = el[k].A;
        p.ff = NA64_FF_ALL;
        na64_err err = {0};
        assert_int_equal(na64_xsec_exact_quad(&p, NA64_EXACT_GRID_PREC, &d, &e, &err), NA64_OK);
        double r = g / d - 1.0;
        sum2 += r * r;
        ++n;
        if (fabs(r) > worst) {
          worst = fabs(r);
          wm = m;
          wE = E;
        }
      }
    print_message("Z %2d: %d cell centres, rms %.4f%%, largest %.4f%% at m %.4g GeV, E %.4g GeV\n", el[k].Z, n,
                  100.0 * sqrt(sum2 / n), 100.0 * worst, wm, wE);
    worst_all = fmax(worst_all, worst);
  }
  assert_true(worst_all <= 0.01);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_cell_centres)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
