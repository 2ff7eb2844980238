/* The closed-form spin and polarisation sums of the exact tree-level matrix element
 * (src/physics/xsec_exact_trace.c: the Dirac traces) against the independent helicity amplitudes
 * of src/physics/xsec_exact.c (explicit spinors, amp2_sum) at random phase-space points of both
 * beams and all five mediators, masses 1 MeV - 1 GeV, 20-160 GeV, Pb and C. */
#include <math.h>
#include <stdio.h>

#include "na64/physics.h"
#include "physics/internal.h"
#include "physics/xsec_exact_trace.h"
#include "support/na64_test.h"

static void test_traces_equal_helicity_sums(void **state)
{
  (void)state;
  const na64_mediator meds[] = {NA64_MED_VECTOR, NA64_MED_ZPRIME, NA64_MED_SCALAR, NA64_MED_PSEUDOSCALAR, NA64_MED_AXIAL};
  const double masses[] = {0.001, 0.0167, 0.1, 1.0};
  const double energies[] = {20.0, 160.0};
  for (int beam = 0; beam < 2; ++beam)
    for (int im = 0; im < 5; ++im) {
      if (meds[im] == NA64_MED_ZPRIME && beam == 0) continue;
      for (int ia = 0; ia < 4; ++ia)
        for (int ie = 0; ie < 2; ++ie) {
          na64_exact_process p;
          na64_exact_process_init(&p, (na64_lepton)beam, meds[im], energies[ie], masses[ia]);
          if (ia % 2) p.Z = 6.0, p.A = 12.0;
          double worst = 0.0;
          int n = 0;
          na64_err err = {0};
          assert_int_equal(na64_exact_amp2_compare(&p, 400, 1000u + (unsigned long)(40 * beam + 8 * im + 2 * ia + ie), &worst, &n, &err), NA64_OK);
          printf("%s %s m = %g E0 = %g: %d points, largest relative difference %.2e\n", beam ? "mu" : "e",
                 na64_mediator_name(meds[im]), masses[ia], energies[ie], n, worst);
          assert_true(n > 200);
          assert_true(worst < 1e-8); /* the helicity sums themselves carry ~1e-9 of rounding (docs/physics.md) */
        }
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_traces_equal_helicity_sums)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
