/* The windowed exact grids served by the library (src/physics/xsec_exact_wgrid.c): the elements of
 * the ECAL (Pb, and C, H of the scintillator) for the electron-beam vector, scalar, pseudoscalar and
 * axial and the muon-beam Z' and vector (the latter from the Z' file); tungsten (the WCAL) for the
 * electron-beam vector and pseudoscalar (exactgrid3), scalar and axial (visscal: cases 20, 21). Shared by test_exact_wgrid.c and test_exact_wgrid_long.c. */
#ifndef NA64_TEST_EXACT_WGRID_CASES_H
#define NA64_TEST_EXACT_WGRID_CASES_H

#include <math.h>

#include "na64/physics.h"

static const struct {
  na64_lepton beam;
  na64_mediator med;
  int Z;
  double A;
} shipped[] = {{NA64_LEPTON_E, NA64_MED_VECTOR, 82, 207.2},        {NA64_LEPTON_E, NA64_MED_VECTOR, 6, 12.011},
               {NA64_LEPTON_E, NA64_MED_VECTOR, 1, 1.008},         {NA64_LEPTON_MU, NA64_MED_ZPRIME, 82, 207.2},
               {NA64_LEPTON_MU, NA64_MED_ZPRIME, 6, 12.011},       {NA64_LEPTON_MU, NA64_MED_ZPRIME, 1, 1.008},
               {NA64_LEPTON_MU, NA64_MED_VECTOR, 82, 207.2},       {NA64_LEPTON_MU, NA64_MED_VECTOR, 6, 12.011},
               {NA64_LEPTON_MU, NA64_MED_VECTOR, 1, 1.008},        {NA64_LEPTON_E, NA64_MED_VECTOR, 74, 183.84},
               {NA64_LEPTON_E, NA64_MED_PSEUDOSCALAR, 74, 183.84}, {NA64_LEPTON_E, NA64_MED_SCALAR, 82, 207.2},
               {NA64_LEPTON_E, NA64_MED_SCALAR, 6, 12.011},        {NA64_LEPTON_E, NA64_MED_SCALAR, 1, 1.008},
               {NA64_LEPTON_E, NA64_MED_PSEUDOSCALAR, 82, 207.2},  {NA64_LEPTON_E, NA64_MED_PSEUDOSCALAR, 6, 12.011},
               {NA64_LEPTON_E, NA64_MED_PSEUDOSCALAR, 1, 1.008},   {NA64_LEPTON_E, NA64_MED_AXIAL, 82, 207.2},
               {NA64_LEPTON_E, NA64_MED_AXIAL, 6, 12.011},         {NA64_LEPTON_E, NA64_MED_AXIAL, 1, 1.008},
               {NA64_LEPTON_E, NA64_MED_SCALAR, 74, 183.84},       {NA64_LEPTON_E, NA64_MED_AXIAL, 74, 183.84}};
#define NSHIP ((int)(sizeof shipped / sizeof shipped[0]))

/* the process of case k at (m, E0, x_min), as the grids hold it (elastic + quasi-elastic) */
static inline na64_exact_process case_proc(int k, double m, double E0, double x_min)
{
  na64_exact_process p;
  na64_exact_process_init(&p, shipped[k].beam, shipped[k].med, E0, m);
  p.Z = shipped[k].Z;
  p.A = shipped[k].A;
  p.ff = NA64_FF_ALL;
  p.x_min = x_min;
  return p;
}

#ifdef NA64_TEST_H
/* the direct quadrature of p to prec (fails the test on an error) */
static inline double case_direct(const na64_exact_process *p, double prec)
{
  double s = 0.0, e = 0.0;
  na64_err err = {0};
  int st = na64_xsec_exact_quad(p, prec, &s, &e, &err);
  if (st) print_error("%s\n", err.msg);
  assert_int_equal(st, NA64_OK);
  return s;
}
#endif

/* the w axis of case k (na64_exact_wgrid_axis) and the x_min of a column value v at E0: w = 1 - x_min,
 * or for the muon s = (1 - m_mu/E0 - x_min)/(1 - m_mu/E0) */
static inline double case_x_min(int k, double v, double E0)
{
  if (v >= 1.0) return 0.0;
  return shipped[k].beam == NA64_LEPTON_MU ? (1.0 - v) * (1.0 - NA64_M_MU / E0) : 1.0 - v;
}

/* half-way between two column values in the interpolation variable (ln w; logit s for the muon) */
static inline double case_mid(int k, double a, double b)
{
  if (shipped[k].beam != NA64_LEPTON_MU) return sqrt(a * b);
  double t = 0.5 * (log(a / (1.0 - a)) + log(b / (1.0 - b)));
  return 1.0 / (1.0 + exp(-t));
}

/* the first covered column of case k (the muon: s >= 1.39e-3, xsec_exact_wgrid.c) */
static inline int case_first_cell(int k) { return shipped[k].beam == NA64_LEPTON_MU ? 4 : 0; }

/* the last column i of case k whose cell [i, i + 1] of partial windows is covered (ln w: up to the
 * last partial node but one, which only shapes the stencil; logit s: every partial node) */
static inline int case_last_cell(int k)
{
  int nw;
  na64_exact_wgrid_axis(shipped[k].beam, shipped[k].med, shipped[k].Z, NULL, &nw, NULL);
  return shipped[k].beam == NA64_LEPTON_MU ? nw - 3 : nw - 4;
}

#endif
