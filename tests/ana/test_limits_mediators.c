/* Issue 14: the electron beam's invisible mode with the scalar, pseudoscalar and axial mediators
 * (docs/physics.md "4f"; docs/validation.md "Invisible mode with every mediator").
 *
 * The yield is sum_j n_j int dE T(E) sigma_j^X(E; E_X > E0 - E_cut) with the shower track length
 * T(E) (yield.c). Its ratio to the vector's is therefore a T(E) sigma^V-weighted mean of the
 * cross-section ratio r(E) = sum_j n_j sigma_j^X / sum_j n_j sigma_j^V over the emitting energies
 * E in (E0 - E_cut, E0]; it must lie between the extreme values of r(E) there. r(E) is computed here
 * independently of the yield (na64_xsec_exact_quad over the ECAL's elements, not the shipped grids
 * that the yield reads). The limit on the coupling then scales as sqrt(Y_V / Y_X). */
#include <math.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

#define E0 100.0
#define ECUT 50.0

/* sum_j n_j sigma_j(E; E_X > E0 - E_cut) in 1/cm at coupling 1 by the Gauss rules (0.3%) */
static double macro_quad(const na64_material *mat, na64_mediator med, double E, double m)
{
  double sum = 0.0;
  for (int j = 0; j < mat->ncomp; ++j) {
    na64_exact_process p;
    na64_exact_process_init(&p, NA64_LEPTON_E, med, E, m);
    p.Z = mat->comp[j].Z;
    p.A = mat->comp[j].A;
    p.ff = NA64_FF_ALL;
    p.x_min = (E0 - ECUT) / E; /* E_X above E0 - E_cut (the ECAL sees E0 - E_X) */
    double s = 0.0, e = 0.0;
    na64_err err = {0, ""};
    assert_int_equal(na64_xsec_exact_quad(&p, 0.003, &s, &e, &err), NA64_OK);
    sum += na64_material_atom_density(mat, j) * s * 1e-36;
  }
  return sum;
}

static void scan(na64_mediator med, const double *masses, int n, na64_limit_point *pt)
{
  na64_sens_options o;
  na64_sens_options_default(&o);
  o.eot = 2.84e11;
  o.energy = E0;
  o.ecal_max = ECUT;
  o.method = NA64_XS_EXACT;
  o.mediator = med;
  na64_limit_config cfg;
  na64_err err = {0, ""};
  assert_int_equal(na64_sens_limit_config(&o, &cfg, &err), NA64_OK);
  assert_int_equal(na64_limit_scan(&cfg, masses, n, pt, &err), NA64_OK);
}

static void test_yield_ratio(void **state)
{
  (void)state;
  const double masses[] = {0.005, 0.05, 0.3};
  const double Es[] = {E0, 90.0, 75.0, 60.0, 52.0};
  enum { NM = 3, NE = 5 };
  const na64_mediator meds[] = {NA64_MED_SCALAR, NA64_MED_PSEUDOSCALAR, NA64_MED_AXIAL};
  na64_material ecal;
  na64_err err = {0, ""};
  assert_int_equal(na64_material_get("ECAL", &ecal, &err), NA64_OK);
  na64_limit_point pv[NM], px[NM];
  scan(NA64_MED_VECTOR, masses, NM, pv);
  for (int k = 0; k < 3; ++k) {
    scan(meds[k], masses, NM, px);
    for (int i = 0; i < NM; ++i) {
      double rY = px[i].yield_eps1 / pv[i].yield_eps1, rlo = INFINITY, rhi = 0.0, r0 = 0.0;
      for (int e = 0; e < NE; ++e) {
        double r = macro_quad(&ecal, meds[k], Es[e], masses[i]) / macro_quad(&ecal, NA64_MED_VECTOR, Es[e], masses[i]);
        if (e == 0) r0 = r;
        rlo = fmin(rlo, r);
        rhi = fmax(rhi, r);
      }
      print_message("%-12s m = %5.0f MeV: Y_X/Y_V = %.4f, r(E0) = %.4f, r(E) in [%.4f, %.4f] over %g-%g GeV\n",
                    na64_mediator_name(meds[k]), masses[i] * 1e3, rY, r0, rlo, rhi, Es[NE - 1], E0);
      /* the weighted mean lies within the range of r(E) on the nodes; 2% for the grids' accuracy (0.53%
       * each, docs/physics.md 4e), the 0.3% of the quadrature here, and r(E) between the nodes */
      assert_true(rY > rlo * 0.98 && rY < rhi * 1.02);
      /* the limit on g: sqrt(s_up / (EOT Y)), the same s_up as the vector's eps */
      assert_rel(px[i].s_up, pv[i].s_up, 1e-12);
      assert_rel(px[i].eps, pv[i].eps * sqrt(pv[i].yield_eps1 / px[i].yield_eps1), 1e-9);
    }
  }
}

/* m_X >> m_e (docs/physics.md "Exact tree level" checks): the axial vector emits as the vector of the same
 * coupling g = eps e (Liu, Morrissey, Yu PRD 96 (2017) 036010: the axial current's extra longitudinal term is
 * O(m_e/m_X)); so at 300 MeV the axial limit on g is e times the vector's limit on eps, 2% as the
 * cross-section check there */
static void test_axial_vector(void **state)
{
  (void)state;
  const double m = 0.3;
  na64_limit_point pv, pa;
  scan(NA64_MED_VECTOR, &m, 1, &pv);
  scan(NA64_MED_AXIAL, &m, 1, &pa);
  assert_rel(pa.eps, pv.eps * sqrt(4.0 * M_PI * NA64_ALPHA_EM), 0.02);
}

/* the configurations the yield refuses (the CLI's messages are tested in tests/e2e) */
static void test_refused(void **state)
{
  (void)state;
  na64_sens_options o;
  na64_sens_options_default(&o);
  o.eot = 1e10;
  o.mediator = NA64_MED_SCALAR;
  o.method = NA64_XS_ETL;
  na64_limit_config cfg;
  na64_err err = {0, ""};
  assert_int_equal(na64_sens_limit_config(&o, &cfg, &err), NA64_EINVAL); /* ETL is the vector's */
  assert_non_null(strstr(err.msg, "exact"));
  o.method = NA64_XS_EXACT;
  assert_int_equal(na64_sens_limit_config(&o, &cfg, &err), NA64_OK);
  na64_yield *y = NULL;
  cfg.dump.annihilation = 1;
  assert_int_equal(na64_yield_new(&cfg.dump, 0.01, &y, &err), NA64_EINVAL);
  cfg.dump.annihilation = 0;
  cfg.dump.mediator = NA64_MED_ZPRIME;
  assert_int_equal(na64_yield_new(&cfg.dump, 0.01, &y, &err), NA64_EPHYS);
  cfg.dump.mediator = NA64_MED_SCALAR;
  assert_int_equal(na64_yield_new(&cfg.dump, 0.01, &y, &err), NA64_OK);
  na64_yield_free(y);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_yield_ratio),
      cmocka_unit_test(test_axial_vector),
      cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
