/* The windowed exact grids served by the library (src/physics/xsec_exact_wgrid.c): the elements of
 * the ECAL (Pb, and C, H of the scintillator) for the electron-beam vector and the muon-beam Z' and
 * vector (the latter from the Z' file). Shared by test_exact_wgrid.c and test_exact_wgrid_long.c. */
#ifndef NA64_TEST_EXACT_WGRID_CASES_H
#define NA64_TEST_EXACT_WGRID_CASES_H

#include "na64/physics.h"

static const struct {
  na64_lepton beam;
  na64_mediator med;
  int Z;
  double A;
} shipped[] = {{NA64_LEPTON_E, NA64_MED_VECTOR, 82, 207.2},  {NA64_LEPTON_E, NA64_MED_VECTOR, 6, 12.011},
               {NA64_LEPTON_E, NA64_MED_VECTOR, 1, 1.008},   {NA64_LEPTON_MU, NA64_MED_ZPRIME, 82, 207.2},
               {NA64_LEPTON_MU, NA64_MED_ZPRIME, 6, 12.011}, {NA64_LEPTON_MU, NA64_MED_ZPRIME, 1, 1.008},
               {NA64_LEPTON_MU, NA64_MED_VECTOR, 82, 207.2}, {NA64_LEPTON_MU, NA64_MED_VECTOR, 6, 12.011},
               {NA64_LEPTON_MU, NA64_MED_VECTOR, 1, 1.008}};
#define NSHIP ((int)(sizeof shipped / sizeof shipped[0]))

#endif
