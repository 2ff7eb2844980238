/*
 * Muon beam (issue 14): the exact tree-level mu N -> mu N Z' cross section, the lepton-mass scaling
 * sigma_mu/sigma_e and the NA64mu limit against independent and published numbers
 * (docs/validation.md "Muon beam against published numbers").
 *
 * No published muon cross section, yield or limit point could be read (the stored copies of the
 * papers hold their abstracts only; docs/validation.md lists the searches), so the references are:
 *  - the Weizsaecker-Williams (WW) cross section with the lepton mass kept, written here from the
 *    published formula (Bjorken, Essig, Schuster, Toro PRD 80 (2009) 075018, App. A, eq. A12-type
 *    double-differential form with m_e -> m_l; the "phase-space WW" that Kirpichnikov, Sieber et al.,
 *    PRD 104 (2021) 076012 / arXiv:2107.13297 and Gninenko, Krasnikov, Matveev PRD 91 (2015) 095015
 *    use for the muon), independently of src/physics (its own integration and flux calls);
 *  - DMG4's exact-tree-level electron cross sections (tests/refdata/dmg4_sigma_total_Pb_eps1e-4.csv,
 *    Bondi et al. CPC 269 (2021) 108129) for the electron side of sigma_mu/sigma_e;
 *  - the published muon bremsstrahlung cross section (Kelner, Kokoulin, Petrukhin, Phys. Atom. Nucl.
 *    60 (1997) 576, as printed in the Geant4 Physics Reference Manual 10.7, "Muon bremsstrahlung"),
 *    the m_X -> 0 limit of mu N -> mu N Z' with g' = e;
 *  - the numbers of the NA64mu 2022 run quoted in the abstract of Andreev et al., PRL 132 (2024)
 *    211803 (tests/refdata/na64mu_PRL132_211803_run2022.csv).
 * Coupling convention: the Z' coupling g' with g' = e (eps = 1 for the vector A'), for which the
 * muon Z' and A' cross sections are equal (the same vertex); every sigma here is per Pb atom.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include "na64/ana.h"
#include "na64/physics.h"
#include "support/na64_test.h"

static const double Z_PB = 82.0, A_PB = 207.0;

/* ---------------- the WW reference, lepton mass m_l kept (BEST 2009 App. A) ----------------
 *   d sigma/(dx du) = 8 alpha^3 eps^2 E0^2 chi(x, U) sqrt(x^2 - m^2/E0^2)
 *       [ (1 - x + x^2/2)/U^2 + (1 - x)(m^2 + 2 m_l^2)(m^2 (1 - x) - U x + m_l^2 x^2)/U^4 ],
 *   U = E0^2 x theta^2 + m^2 (1 - x)/x + m_l^2 x,  u = theta^2/2,
 *   chi(x, U) = int dt (t - t_min)/t^2 G2(t) from t_min = (U/(2 E0 (1 - x)))^2 to t_max = m^2 + U,
 * G2 Tsai's elastic + quasi-elastic form factor (BEST eq. A18-A19), through the public flux
 * functions. Integrated over u (in ln U) and x (in y = -ln(1 - x)) by GSL QAG, x up to the
 * kinematic end 1 - x = m_l/E0 (the scattered lepton's energy is at least its mass), or with
 * `to_wall`, up to where t_min reaches t_max, 1 - x ~ m_l^2/(2 E0 m), as src/physics/xsec.c does. */
typedef struct {
  double E0, m, ml, x, Z, A;
} ww_point;

static double ww_chi(double tmin, double tmax, double Z, double A)
{
  if (!(tmax > tmin)) return 0.0;
  double inel = 0.0;
  na64_err err = {0};
  if (na64_chi(tmin, tmax, Z, A, NA64_FF_INELASTIC, &inel, &err) != NA64_OK) inel = 0.0;
  return na64_chi_elastic_closed(tmin, tmax, Z, A) + inel;
}

static double ww_u_integrand(double v, void *vp)
{
  const ww_point *p = vp;
  double x = p->x, m2 = p->m * p->m, ml2 = p->ml * p->ml, E0 = p->E0, U = exp(v);
  double bracket = (1.0 - x + 0.5 * x * x) / (U * U) +
                   (1.0 - x) * (m2 + 2.0 * ml2) * (m2 * (1.0 - x) - U * x + ml2 * x * x) / (U * U * U * U);
  double tmin = pow(U / (2.0 * E0 * (1.0 - x)), 2), tmax = m2 + U;
  return bracket * ww_chi(tmin, tmax, p->Z, p->A) * U / (2.0 * E0 * E0 * x); /* du = U dv/(2 E0^2 x) */
}

static double ww_x_integrand(double y, void *vp)
{
  ww_point *p = vp;
  double omx = exp(-y), x = 1.0 - omx, m2 = p->m * p->m, ml2 = p->ml * p->ml, E0 = p->E0;
  double kin = x * x - m2 / (E0 * E0);
  if (!(kin > 0.0)) return 0.0;
  double U0 = m2 * omx / x + ml2 * x;
  double b = 4.0 * E0 * E0 * omx * omx, Umax = 0.5 * (b + sqrt(b * b + 4.0 * b * m2)); /* t_min = t_max */
  if (!(Umax > U0)) return 0.0;
  p->x = x;
  gsl_function F = {ww_u_integrand, p};
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
  double r = 0.0, e = 0.0;
  gsl_integration_qag(&F, log(U0), log(Umax), 0.0, 1e-6, 200, GSL_INTEG_GAUSS21, w, &r, &e);
  gsl_integration_workspace_free(w);
  return sqrt(kin) * r * omx;
}

/* sigma_WW in pb at eps = 1 on the nucleus (Z, A) */
static double ww_sigma_za(double E0, double m, double ml, int to_wall, double x_min, double Z, double A)
{
  ww_point p = {E0, m, ml, 0.0, Z, A};
  double ylo = -log(1.0 - fmax(m / E0, x_min));
  double yhi = to_wall ? log(2.0 * E0 * m / (ml * ml)) + 2.0 : -log(ml / E0);
  gsl_function F = {ww_x_integrand, &p};
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(500);
  double r = 0.0, e = 0.0;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  int st = gsl_integration_qag(&F, ylo, yhi, 0.0, 1e-5, 500, GSL_INTEG_GAUSS21, w, &r, &e);
  gsl_set_error_handler(old);
  gsl_integration_workspace_free(w);
  assert_true(st == GSL_SUCCESS || e < 1e-3 * fabs(r));
  double a3 = NA64_ALPHA_EM * NA64_ALPHA_EM * NA64_ALPHA_EM;
  return NA64_GEV2_PB * 8.0 * a3 * E0 * E0 * r;
}

static double ww_sigma_range(double E0, double m, double ml, int to_wall, double x_min)
{
  return ww_sigma_za(E0, m, ml, to_wall, x_min, Z_PB, A_PB);
}

static double ww_sigma(double E0, double m, double ml) { return ww_sigma_range(E0, m, ml, 0, 0.0); }

/* the exact total (Gauss rules at 0.3%), elastic + quasi-elastic form factor, at eps = 1 / g' = e */
static double exact_sigma_window(na64_lepton beam, double E0, double m, double x_min)
{
  na64_exact_process p;
  na64_exact_process_init(&p, beam, beam == NA64_LEPTON_MU ? NA64_MED_ZPRIME : NA64_MED_VECTOR, E0, m);
  p.coupling = beam == NA64_LEPTON_MU ? sqrt(4.0 * M_PI * NA64_ALPHA_EM) : 1.0;
  p.ff = NA64_FF_ALL;
  p.x_min = x_min;
  double s = 0.0, e = 0.0;
  na64_err err = {0};
  int st = na64_xsec_exact_quad(&p, 3e-3, &s, &e, &err);
  if (st) print_error("%s E0=%g m=%g: %s\n", na64_lepton_name(beam), E0, m, err.msg);
  assert_int_equal(st, NA64_OK);
  return s;
}

static double exact_sigma(na64_lepton beam, double E0, double m) { return exact_sigma_window(beam, E0, m, 0.0); }

/* The masses of the comparison: DMG4's table has them at 160 GeV. */
static const double masses_MeV[] = {1, 4, 10, 30, 100, 300, 1000};
enum { NM = sizeof masses_MeV / sizeof masses_MeV[0] };
static const double E_MU = 160.0; /* the NA64mu beam (refdata/na64mu_PRL132_211803_run2022.csv) */

static struct {
  int done;
  double mu_exact[NM], mu_ww[NM], e_exact[NM], e_dmg4[NM];
} tab;

static void fill_table(void)
{
  if (tab.done) return;
  na64_test_csv dmg4;
  na64_test_load_refdata("dmg4_sigma_total_Pb_eps1e-4.csv", &dmg4);
  for (int i = 0; i < NM; ++i) {
    double m = masses_MeV[i] * 1e-3;
    tab.mu_exact[i] = exact_sigma(NA64_LEPTON_MU, E_MU, m);
    tab.mu_ww[i] = ww_sigma(E_MU, m, NA64_M_MU);
    tab.e_exact[i] = exact_sigma(NA64_LEPTON_E, E_MU, m);
    tab.e_dmg4[i] = NAN;
    for (int r = 0; r < dmg4.nrows; ++r) {
      const double *row = dmg4.v + (size_t)r * (size_t)dmg4.ncols;
      if (row[0] == E_MU && fabs(row[1] - masses_MeV[i]) < 1e-9) tab.e_dmg4[i] = row[2] * 1e8; /* eps 1e-4 -> 1 */
    }
    assert_false(isnan(tab.e_dmg4[i]));
  }
  na64_test_csv_free(&dmg4);
  tab.done = 1;
  print_message("| m_X (MeV) | mu exact (pb) | mu WW (pb) | exact/WW | e exact (pb) | e DMG4 ETL (pb) | "
                "mu/e exact | mu/e reference (WW_mu/DMG4_e) | ratio |\n");
  for (int i = 0; i < NM; ++i) {
    double r_ours = tab.mu_exact[i] / tab.e_exact[i], r_ref = tab.mu_ww[i] / tab.e_dmg4[i];
    print_message("| %g | %.4e | %.4e | %.4f | %.4e | %.4e | %.4e | %.4e | %.4f |\n", masses_MeV[i], tab.mu_exact[i],
                  tab.mu_ww[i], tab.mu_exact[i] / tab.mu_ww[i], tab.e_exact[i], tab.e_dmg4[i], r_ours, r_ref,
                  r_ours / r_ref);
  }
}

/* The WW reference reproduces the library's electron WW (the same published formula, integrated
 * here independently: different variables, adaptive flux instead of the library's fixed 32-point
 * inelastic rule), over the library's x range: tolerance 0.3% (both integrals are converged to
 * 1e-5; measured 0.03%). This checks the transcription of the formula before it is used for the
 * muon. The library's range runs past the kinematic end x = 1 - m_e/E0 (to 1 - x = m_e^2/(2 E0 m)):
 * that adds 0.8% at 100 MeV, 160 GeV (printed; docs/validation.md). */
static void test_ww_reference_electron(void **state)
{
  (void)state;
  const double pts[][2] = {{100.0, 0.0167}, {160.0, 0.1}};
  for (int i = 0; i < 2; ++i) {
    double lib = 0.0;
    na64_err err = {0};
    assert_int_equal(na64_xsec_total(NA64_XS_WW, pts[i][0], pts[i][1], 1.0, Z_PB, A_PB, &lib, &err), NA64_OK);
    double ours = ww_sigma_range(pts[i][0], pts[i][1], NA64_M_E, 1, 0.0);
    double kin = ww_sigma(pts[i][0], pts[i][1], NA64_M_E);
    print_message("e- WW %g GeV %g MeV: test %.5e library %.5e ratio %.5f; to x = 1 - m_e/E0: %.5e (%.4f)\n",
                  pts[i][0], pts[i][1] * 1e3, ours, lib, ours / lib, kin, kin / lib);
    assert_rel(ours, lib, 3e-3);
  }
}

/* mu- Pb -> mu- Pb Z' at 160 GeV: exact against WW with the muon mass. For the muon the WW
 * approximation holds far better than for the electron (for e- it overestimates by 14-42% at
 * 10 MeV-1 GeV, the x -> 1 region where its t_min expansion fails, Liu, Morrissey, Yu PRD 96 (2017)
 * 036010 Sec. IV): the muon mass keeps U >= m_mu^2 x, so the region near x -> 1 where the WW t_min
 * expansion fails carries no weight. Tolerance 3% for m_X >= 4 MeV (the two integrals are good to
 * 0.3%; measured 0.990-1.021); at m_X = 1 MeV, 100 times below m_mu, where the WW is used outside
 * its derivation (m_X >> m_l), 7% (measured +5.1%). */
static void test_muon_exact_vs_ww(void **state)
{
  (void)state;
  fill_table();
  for (int i = 0; i < NM; ++i) assert_rel(tab.mu_exact[i], tab.mu_ww[i], masses_MeV[i] < 2.0 ? 0.07 : 0.03);
}

/* The signal window of NA64mu: a scattered muon below 80 GeV at 160 GeV, E_Z' > E0/2 (x > 0.5),
 * the cross section the yield integrates (physics.md 4c). Exact against WW over the same window;
 * tolerance 3% as for the totals (the window drops only the soft end, x < 0.5, where the two agree
 * as well; measured within 1%). It holds 17% of the total at 10 MeV (d sigma/dx ~ 1/x above
 * x = m_X/m_mu: a light Z' takes little of the muon's energy), 62% at 100 MeV, 95% at 1 GeV. */
static void test_muon_window_vs_ww(void **state)
{
  (void)state;
  const double mw[] = {0.01, 0.1, 1.0};
  for (int i = 0; i < 3; ++i) {
    double ex = exact_sigma_window(NA64_LEPTON_MU, E_MU, mw[i], 0.5);
    double ww = ww_sigma_range(E_MU, mw[i], NA64_M_MU, 0, 0.5);
    double tot = ww_sigma(E_MU, mw[i], NA64_M_MU);
    print_message("mu Z' %g MeV, x > 0.5: exact %.4e WW %.4e ratio %.4f (WW: %.3f of the total)\n", mw[i] * 1e3, ex,
                  ww, ex / ww, ww / tot);
    assert_rel(ex, ww, 0.03);
  }
}

/* The photon limit: a Z' (coupling g' = e) much lighter than the muon is radiated like a photon
 * (the longitudinal mode decouples from the conserved current as m_X -> 0), so the exact d sigma/dx
 * at m_X = 0.3 MeV must reproduce the published muon bremsstrahlung cross section on the nucleus
 * (Kelner, Kokoulin, Petrukhin 1997, Geant4 Physics Reference Manual 10.7, per atom):
 *   d sigma/dv = (16/3) alpha^3 Z^2 Phi_n (1 - v + 3 v^2/4)/(m_mu^2 v),
 *   Phi_n = ln[ B Z^-1/3 (m_mu + delta (D_n' sqrt(e) - 2)) / (D_n' (m_e + delta sqrt(e) B Z^-1/3)) ],
 *   delta = m_mu^2 v/(2 E0 (1 - v)), D_n = 1.54 A^0.27, D_n' = D_n^(1 - 1/Z), B = 183
 * ((m_e r_e/m_mu)^2 = alpha^2/m_mu^2). Its atomic-electron term Z Phi_e is left out: our exact
 * calculation has the nucleus only (elastic form factor here). Tolerance 4%: the two use different
 * screening and nuclear-size models (Tsai's form factors against KKP's B and D_n), which matter
 * most at large v where t_min grows (measured 0.970-1.000, lowest at v = 0.9); a mass effect
 * m_X^2 (1 - v)/(m_mu^2 v^2) stays below 1e-4 at v >= 0.1. */
static void test_muon_brem_limit(void **state)
{
  (void)state;
  const double E0 = E_MU, Z = Z_PB, A = A_PB, mu = NA64_M_MU, a3 = pow(NA64_ALPHA_EM, 3);
  const double v[] = {0.1, 0.3, 0.6, 0.9};
  na64_exact_process p;
  na64_exact_process_init(&p, NA64_LEPTON_MU, NA64_MED_ZPRIME, E0, 3e-4);
  p.coupling = sqrt(4.0 * M_PI * NA64_ALPHA_EM);
  p.ff = NA64_FF_ELASTIC;
  p.Z = Z;
  p.A = A;
  for (int i = 0; i < 4; ++i) {
    double ex = 0.0, e = 0.0;
    na64_err err = {0};
    assert_int_equal(na64_xsec_exact_dsdx(&p, v[i], &ex, &e, &err), NA64_OK);
    double delta = mu * mu * v[i] / (2.0 * E0 * (1.0 - v[i]));
    double Dn = 1.54 * pow(A, 0.27), Dnp = pow(Dn, 1.0 - 1.0 / Z), B = 183.0, sqrte = exp(0.5);
    double phin = log(B * pow(Z, -1.0 / 3.0) * (mu + delta * (Dnp * sqrte - 2.0)) /
                      (Dnp * (NA64_M_E + delta * sqrte * B * pow(Z, -1.0 / 3.0))));
    double kkp = NA64_GEV2_PB * 16.0 / 3.0 * a3 * Z * Z * phin * (1.0 - v[i] + 0.75 * v[i] * v[i]) / (mu * mu * v[i]);
    print_message("mu brem limit (Z' 0.3 MeV, 160 GeV, Pb) v = %.1f: exact %.4e pb, KKP nucleus %.4e pb, ratio %.4f\n",
                  v[i], ex, kkp, ex / kkp);
    assert_rel(ex, kkp, 0.04);
  }
}

/* sigma_mu/sigma_e: ours (both exact) against the reference WW_mu / DMG4 ETL_e. Tolerance: the
 * muon side 3% (7% at 1 MeV, above) and the electron side 3% (our exact e- against DMG4's ETL
 * table, tests/physics/test_xsec_exact.c), added linearly: 6% (10% at 1 MeV). */
static void test_lepton_mass_ratio(void **state)
{
  (void)state;
  fill_table();
  for (int i = 0; i < NM; ++i) {
    double r_ours = tab.mu_exact[i] / tab.e_exact[i], r_ref = tab.mu_ww[i] / tab.e_dmg4[i];
    assert_rel(r_ours, r_ref, masses_MeV[i] < 2.0 ? 0.10 : 0.06);
  }
}

/* The lepton-mass scaling in the two regimes the papers describe (Gninenko, Krasnikov, Matveev PRD
 * 91 (2015) 095015; Chen, Pospelov, Zhong PRD 95 (2017) 115005; Kirpichnikov et al. PRD 104 (2021)
 * 076012): the radiated boson's propagator scale is U = m_X^2 (1 - x)/x + m_l^2 x (BEST eq. A4).
 *  - m_X << m_l: the lepton mass dominates U, the cross section stops growing as m_X falls and
 *    saturates at ~ 4 alpha^3 chi [ln(m_l/m_X) - 5/6]/m_l^2 (the IWW x-integral of
 *    (1 - x + x^2/3)/(m_l^2 x) from x = m_X/m_l; leading log), while the electron's still grows as
 *    ln(m_X^2/m_e^2)/(3 m_X^2). So sigma(1 MeV)/sigma(4 MeV) is ~ the log ratio for the muon
 *    (1.57; tolerance 15%: chi changes by ~10% between the two masses, and the constant 5/6 is
 *    the leading-log one), while for the electron it keeps the 1/m_X^2 growth damped only by its
 *    logarithm (16 x 1.34/4.12 = 5.2 at leading log, where m_X = 1 MeV is barely above 2 m_e):
 *    required at least 3 times the muon's.
 *  - m_X >> m_mu: both leptons see U ~ m_X^2 (1 - x)/x and the ratio tends to the ratio of the
 *    logarithms ln(1/delta_l^2), delta_l = max(m_l/m_X, m_X/E0) (DMG4's IWW total, refdata
 *    physics-formulas.md 4c): 0.443 at 1 GeV; tolerance 20% (the chi of the two leptons and the
 *    non-logarithmic terms, O(1/ln) = 20% of a log of ~5). */
static void test_lepton_mass_scaling(void **state)
{
  (void)state;
  fill_table();
  const int i1 = 0, i4 = 1, i1000 = NM - 1;
  double mmu_MeV = NA64_M_MU * 1e3;
  double ll_mu = (log(mmu_MeV / 1.0) - 5.0 / 6.0) / (log(mmu_MeV / 4.0) - 5.0 / 6.0);
  double r_mu = tab.mu_exact[i1] / tab.mu_exact[i4], r_e = tab.e_exact[i1] / tab.e_exact[i4];
  print_message("sigma(1 MeV)/sigma(4 MeV): mu %.3f (leading log %.3f), e %.2f\n", r_mu, ll_mu, r_e);
  assert_rel(r_mu, ll_mu, 0.15);
  assert_true(r_e > 3.0 * r_mu);
  double m = 1.0, E0 = E_MU;
  double dmu = fmax(NA64_M_MU / m, m / E0), de = fmax(NA64_M_E / m, m / E0);
  double ll = log(1.0 / (dmu * dmu)) / log(1.0 / (de * de));
  double r = tab.mu_exact[i1000] / tab.e_exact[i1000];
  print_message("sigma_mu/sigma_e at 1 GeV: %.3f, log ratio %.3f\n", r, ll);
  assert_rel(r, ll, 0.20);
}

/* ---------------- NA64mu 2022: 1.98e10 MOT at 160 GeV, p_mu' < 80 GeV, 0 events ---------------- */

/* g for which the one-loop vector contribution equals Delta a_mu (Leveille NPB 137 (1978) 63;
 * Pospelov PRD 80 (2009) 095002 eq. 4 with alpha eps^2 -> g^2/(4 pi)):
 *   Delta a_mu = (g^2/(8 pi^2)) int_0^1 dz 2 m_mu^2 z (1 - z)^2/(m_mu^2 (1 - z)^2 + m^2 z). */
static double amu_integrand(double z, void *vp)
{
  double m = *(const double *)vp, mm2 = NA64_M_MU * NA64_M_MU;
  return 2.0 * mm2 * z * (1.0 - z) * (1.0 - z) / (mm2 * (1.0 - z) * (1.0 - z) + m * m * z);
}

static double g_for_amu(double m, double damu)
{
  gsl_function F = {amu_integrand, &m};
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(100);
  double I = 0.0, e = 0.0;
  gsl_integration_qag(&F, 0.0, 1.0, 0.0, 1e-9, 100, GSL_INTEG_GAUSS21, w, &I, &e);
  gsl_integration_workspace_free(w);
  return sqrt(damu * 8.0 * M_PI * M_PI / I);
}

/* The abstract's statement that the 2022 data exclude part of the (g-2)_mu band needs our limit at
 * efficiency 1 (the most favourable) below the band's upper edge (Delta a_mu + 2 sigma) somewhere
 * below 200 MeV; with the efficiency unknown to us this is the one point-free check available.
 * Also the limit must scale as MOT^-1/2 (g ~ (MOT eff)^-1/2 with no background, physics.md 4c). */
static void test_na64mu_limit_band(void **state)
{
  (void)state;
  na64_test_csv run;
  na64_test_load_refdata("na64mu_PRL132_211803_run2022.csv", &run);
  double mot = run.v[na64_test_csv_col(&run, "MOT")];
  double pbeam = run.v[na64_test_csv_col(&run, "p_beam_GeV")];
  double pmax = run.v[na64_test_csv_col(&run, "p_signal_max_GeV")];
  int nobs = (int)run.v[na64_test_csv_col(&run, "n_obs")];
  double damu = run.v[na64_test_csv_col(&run, "delta_a_mu")];
  double damu_err = run.v[na64_test_csv_col(&run, "delta_a_mu_err")];
  na64_test_csv_free(&run);

  na64_err err = {0};
  na64_limit_config cfg;
  assert_int_equal(na64_limit_config_default(&cfg, &err), NA64_OK);
  na64_material ecal;
  assert_int_equal(na64_material_get("ECAL", &ecal, &err), NA64_OK);
  na64_beamdump_init_invisible(&cfg.dump, &ecal, pbeam, pmax);
  cfg.dump.depth_X0 = 40.0;
  cfg.dump.lepton = NA64_LEPTON_MU;
  cfg.dump.mediator = NA64_MED_ZPRIME;
  cfg.dump.method = NA64_XS_EXACT;
  cfg.eot = mot;
  cfg.efficiency = 1.0;
  cfg.n_obs = nobs;
  const double m[] = {0.01, 0.03, 0.1};
  na64_limit_point pt[3], pt4[3];
  assert_int_equal(na64_limit_scan(&cfg, m, 3, pt, &err), NA64_OK);
  cfg.eot = 4.0 * mot;
  assert_int_equal(na64_limit_scan(&cfg, m, 3, pt4, &err), NA64_OK);
  /* The yield behind the limit against the WW reference for a thin-target view of the 40 X0 ECAL:
   * Y(g = 1) = BR_inv L sum_j n_j sigma_WW,j(E0; x > 1 - p_max/E0)/(4 pi alpha) (sigma_WW at g = e;
   * BR_inv = 1 below 2 m_mu). Tolerance 4%: WW against exact 3% (test_muon_window_vs_ww) and the
   * muon's energy loss in the ECAL (~1 GeV of 160, neglected here) < 1% (physics.md 4c). */
  double L = cfg.dump.depth_X0 * ecal.X0;
  int below = 0;
  for (int i = 0; i < 3; ++i) {
    double y_ww = 0.0;
    for (int j = 0; j < ecal.ncomp; ++j) {
      const na64_component *c = &ecal.comp[j];
      double n = ecal.density * c->w * NA64_AVOGADRO / c->A; /* atoms/cm^3 */
      y_ww += n * ww_sigma_za(pbeam, m[i], NA64_M_MU, 0, 1.0 - pmax / pbeam, (double)c->Z, c->A) * 1e-36;
    }
    y_ww *= L / (4.0 * M_PI * NA64_ALPHA_EM);
    print_message("NA64mu yield per MOT at g = 1, m_Z' %g MeV: %.4e (limit scan), %.4e (WW thin target), ratio %.4f\n",
                  m[i] * 1e3, pt[i].yield_eps1, y_ww, pt[i].yield_eps1 / y_ww);
    assert_rel(pt[i].yield_eps1, y_ww, 0.04);
    double g_hi = g_for_amu(m[i], damu + 2.0 * damu_err), g_lo = g_for_amu(m[i], damu - 2.0 * damu_err);
    print_message("NA64mu %.3g MOT, m_Z' %g MeV: g_Z' < %.3e (eff 1); (g-2) band %.2e-%.2e\n", mot, m[i] * 1e3,
                  pt[i].eps, g_lo, g_hi);
    if (pt[i].eps < g_hi) below = 1;
    assert_rel(pt4[i].eps, 0.5 * pt[i].eps, 1e-6);
  }
  assert_true(below);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ww_reference_electron), cmocka_unit_test(test_muon_exact_vs_ww),
      cmocka_unit_test(test_muon_window_vs_ww),     cmocka_unit_test(test_muon_brem_limit),
      cmocka_unit_test(test_lepton_mass_ratio),     cmocka_unit_test(test_lepton_mass_scaling),
      cmocka_unit_test(test_na64mu_limit_band),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
