/* Interpolation error of the shipped windowed grids (issue 14; docs/physics.md 4e): at cell centres
 * (half-way between nodes in ln m, ln E0 and the window variable: ln(1 - x_min), for the muon logit s,
 * where a cubic interpolation errs most) against the direct na64_xsec_exact_quad at 0.2%, over the
 * covered windows, every mass cell of a stride and two bands of energy: 50-200 GeV (the 100 and
 * 150 GeV beams) and 10-50 GeV (the 30 GeV scan of the sensitivity report and the low-energy
 * shower; measured since exactgrid3); prints the largest and the rms relative difference per grid
 * and band (quoted in docs/physics.md 4e). Fails above 1% (the precision the issue asks of the exact
 * computation). Then the visible yield (tungsten WCAL, 100 GeV, E_A' > 25 GeV) with the x-shape from
 * the tungsten grid against the same yield computed (shape from na64_xsec_exact_dsdx, totals by
 * quadrature: atomic weights shifted by 1e-5 so that no grid covers them), 1%.
 * `make validate` only (~1 min per grid). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "na64/physics.h"
#include "support/na64_test.h"

#include "physics/exact_wgrid_cases.h"

static void band(int k, double Elo, double Ehi, double *worst_all)
{
  const double *ms, *Es, *ws;
  int nm, nE, nw;
  na64_exact_grid_axes(&ms, &nm, &Es, &nE);
  na64_exact_wgrid_axis(shipped[k].beam, shipped[k].med, shipped[k].Z, &ws, &nw, NULL);
  int last = case_last_cell(k);
  double worst = 0.0, sum2 = 0.0;
  int n = 0;
  for (int i = k % 2; i + 1 < nm; i += 2)
    for (int j = 0; j + 1 < nE; ++j) {
      if (Es[j] < Elo || Es[j + 1] > Ehi * 1.0001) continue;
      for (int w = case_first_cell(k) + (i / 2) % 2; w <= last; w += 2) {
        na64_exact_process p;
        double E = sqrt(Es[j] * Es[j + 1]);
        na64_exact_process_init(&p, shipped[k].beam, shipped[k].med, E, sqrt(ms[i] * ms[i + 1]));
        p.Z = shipped[k].Z;
        p.A = shipped[k].A;
        p.ff = NA64_FF_ALL;
        p.x_min = case_x_min(k, case_mid(k, ws[w], ws[w + 1]), E);
        double g = 0.0, d = 0.0, e = 0.0;
        if (!na64_exact_wgrid_eval(&p, &g)) continue; /* outside (muon energies, closed windows) */
        na64_err err = {0};
        if (na64_xsec_exact_quad(&p, NA64_EXACT_GRID_PREC, &d, &e, &err) != NA64_OK || !(d > 0.0)) continue;
        double r = g / d - 1.0;
        if (fabs(r) > worst) worst = fabs(r);
        if (fabs(r) > 0.005)
          print_message("  %s %s Z %d m %.4g E %.4g 1 - x_min %.3g: %.4f%%\n", na64_lepton_name(p.beam),
                        na64_mediator_name(p.mediator), shipped[k].Z, p.m, p.E0, 1.0 - p.x_min, 100.0 * r);
        sum2 += r * r;
        ++n;
      }
    }
  print_message("%s %s Z %d, E0 %g-%g GeV: %d cell centres, largest %.3f%%, rms %.3f%%\n", na64_lepton_name(shipped[k].beam),
                na64_mediator_name(shipped[k].med), shipped[k].Z, Elo, Ehi, n, 100.0 * worst, n ? 100.0 * sqrt(sum2 / n) : 0.0);
  if (worst > *worst_all) *worst_all = worst;
}

static void test_cell_centres(void **state)
{
  (void)state;
  double worst_all = 0.0;
  for (int k = 0; k < NSHIP; ++k) {
    if (shipped[k].beam == NA64_LEPTON_MU && shipped[k].med == NA64_MED_VECTOR) continue; /* the Z' times a constant */
    band(k, 50.0, 200.0, &worst_all);
    if (shipped[k].beam == NA64_LEPTON_E) band(k, 10.0, 50.0, &worst_all);
  }
  assert_true(worst_all <= 0.01);
}

static void test_visible_yield(void **state)
{
  (void)state;
  static const double masses[] = {0.002, 0.0167, 0.05};
  static const na64_mediator meds[] = {NA64_MED_VECTOR, NA64_MED_PSEUDOSCALAR, NA64_MED_SCALAR, NA64_MED_AXIAL}; /* + visscal */
  for (int med = 0; med < 4; ++med)
    for (size_t i = 0; i < sizeof masses / sizeof masses[0]; ++i) {
      na64_err err = {0};
      na64_material wcal;
      assert_int_equal(na64_material_get("WCAL", &wcal, &err), NA64_OK);
      na64_beamdump d;
      na64_beamdump_init_visible(&d, &wcal, 100.0, 30.0, 25.0, 100.0, 300.0);
      d.method = NA64_XS_EXACT;
      d.mediator = meds[med];
      na64_yield *y1 = NULL, *y2 = NULL;
      assert_int_equal(na64_yield_new(&d, masses[i], &y1, &err), NA64_OK);
      for (int j = 0; j < d.target.ncomp; ++j) d.target.comp[j].A *= 1.0 + 1e-5;
      assert_int_equal(na64_yield_new(&d, masses[i], &y2, &err), NA64_OK);
      double a = na64_yield_production(y1), b = na64_yield_production(y2);
      print_message("visible %s %.4g GeV, production per EOT at eps = 1: grid %.6g, computed %.6g, ratio %.5f\n",
                    na64_mediator_name((na64_mediator)d.mediator), masses[i], a, b, a / b);
      assert_true(a > 0.0 && fabs(a / b - 1.0) <= 0.01);
      static const double eps[] = {1e-4, 3e-4, 1e-3};
      for (int e = 0; e < 3; ++e) {
        double ya = na64_yield_per_eot(y1, eps[e]), yb = na64_yield_per_eot(y2, eps[e]);
        print_message("  eps %.0e: yield per EOT grid %.6g, computed %.6g, ratio %.5f\n", eps[e], ya, yb, yb > 0 ? ya / yb : 0.0);
        if (yb > 1e-30) assert_true(fabs(ya / yb - 1.0) <= 0.01);
      }
      na64_yield_free(y1);
      na64_yield_free(y2);
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_visible_yield), cmocka_unit_test(test_cell_centres)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
