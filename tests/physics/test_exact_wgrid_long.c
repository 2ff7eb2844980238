/* Interpolation error of the shipped windowed grids (issue 14; docs/physics.md 4e): at cell centres
 * (half-way between nodes in ln m, ln E0 and ln(1 - x_min), where a cubic interpolation errs most)
 * against the direct na64_xsec_exact_quad at 0.2%, over the region the setups use (energies of
 * 50-200 GeV; 1 - x_min from 4.6e-4 to 0.8) and every mass cell of a stride; prints the largest and the
 * rms relative difference per grid (quoted in docs/physics.md 4e). Fails above 1% (the precision the
 * issue asks of the exact computation). `make validate` only (~1 min per grid). */
#include <math.h>
#include <stdio.h>

#include "na64/physics.h"
#include "support/na64_test.h"

#include "physics/exact_wgrid_cases.h"

static void test_cell_centres(void **state)
{
  (void)state;
  const double *ms, *Es, *ws;
  int nm, nE, nw;
  na64_exact_grid_axes(&ms, &nm, &Es, &nE);
  na64_exact_wgrid_w_axis(&ws, &nw);
  double worst_all = 0.0;
  for (int k = 0; k < 6; ++k) { /* the muon vector is the Z' times a constant: not again */
    double worst = 0.0, sum2 = 0.0;
    int n = 0;
    for (int i = k % 2; i + 1 < nm; i += 2)
      for (int j = 0; j + 1 < nE; ++j) {
        if (Es[j] < 50.0) continue;
        for (int w = (i / 2) % 2; w + 1 < nw; w += 2) {
          na64_exact_process p;
          na64_exact_process_init(&p, shipped[k].beam, shipped[k].med, sqrt(Es[j] * Es[j + 1]), sqrt(ms[i] * ms[i + 1]));
          p.Z = shipped[k].Z;
          p.A = shipped[k].A;
          p.ff = NA64_FF_ALL;
          p.x_min = 1.0 - sqrt(ws[w] * ws[w + 1]);
          double g = 0.0, d = 0.0, e = 0.0;
          if (!na64_exact_wgrid_eval(&p, &g)) continue; /* outside (muon energies, closed windows) */
          na64_err err = {0};
          if (na64_xsec_exact_quad(&p, NA64_EXACT_GRID_PREC, &d, &e, &err) != NA64_OK || !(d > 0.0)) continue;
          double r = g / d - 1.0;
          if (fabs(r) > worst) worst = fabs(r);
          if (fabs(r) > 0.005)
            print_message("  %s %s Z %d m %.4g E %.4g w %.3g: %.4f%%\n", na64_lepton_name(p.beam), na64_mediator_name(p.mediator),
                          shipped[k].Z, p.m, p.E0, 1.0 - p.x_min, 100.0 * r);
          sum2 += r * r;
          ++n;
        }
      }
    print_message("%s %s Z %d: %d cell centres, largest %.3f%%, rms %.3f%%\n", na64_lepton_name(shipped[k].beam),
                  na64_mediator_name(shipped[k].med), shipped[k].Z, n, 100.0 * worst, n ? 100.0 * sqrt(sum2 / n) : 0.0);
    if (worst > worst_all) worst_all = worst;
  }
  assert_true(worst_all <= 0.01);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_cell_centres)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
