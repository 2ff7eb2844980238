/* The limit scan: consistency of the invisible limit with the yield and the statistics, scaling
 * laws, the visible island and its edges, bad configurations. */
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

/* At eps_up the signal EOT * eff * Y(m, eps_up), with the yield from the physics module, must be
 * the Poisson 2.303 events (ln 10, n = 0, b = 0, 90% CL); eps scales as (EOT eff)^-1/2 */
static void test_invisible_consistency(void **state)
{
  (void)state;
  na64_limit_config cfg;
  assert_int_equal(na64_limit_config_default(&cfg, NULL), NA64_OK);
  cfg.eot = 1e11;
  cfg.efficiency = 0.5;
  double m[3] = {0.001, 0.0167, 0.5};
  na64_limit_point a[3], b[3];
  assert_int_equal(na64_limit_scan(&cfg, m, 3, a, NULL), NA64_OK);
  for (int i = 0; i < 3; ++i) {
    assert_rel(a[i].s_up, -log(0.1), 1e-6);
    na64_yield *y = NULL;
    assert_int_equal(na64_yield_new(&cfg.dump, m[i], &y, NULL), NA64_OK);
    assert_rel(cfg.eot * cfg.efficiency * na64_yield_per_eot(y, a[i].eps), log(10.0), 1e-6);
    na64_yield_free(y);
    assert_true(isnan(a[i].eps_low) && isnan(a[i].eps_high));
  }
  cfg.eot = 4e11;
  assert_int_equal(na64_limit_scan(&cfg, m, 3, b, NULL), NA64_OK);
  for (int i = 0; i < 3; ++i) assert_rel(b[i].eps, 0.5 * a[i].eps, 1e-9);
  assert_true(a[0].eps < a[1].eps && a[1].eps < a[2].eps);
}

/* An efficiency measured per mass (as `na64 run` measures it): at a measured mass the limit is the
 * one with that constant efficiency (eps ~ eff^-1/2 exactly); in between the efficiency is
 * interpolated linearly in ln m, beyond the ends it is the nearest value; a bad curve is refused
 * naming the value. */
static void test_efficiency_curve(void **state)
{
  (void)state;
  na64_limit_config cfg;
  assert_int_equal(na64_limit_config_default(&cfg, NULL), NA64_OK);
  cfg.eot = 1e11;
  const double em[3] = {0.001, 0.01, 0.1}, ev[3] = {0.8, 0.6, 0.4};
  cfg.eff_mass = em;
  cfg.eff_value = ev;
  cfg.eff_n = 3;
  assert_rel(na64_limit_efficiency_at(&cfg, 0.0005), 0.8, 1e-15);
  assert_rel(na64_limit_efficiency_at(&cfg, 0.01), 0.6, 1e-15);
  assert_rel(na64_limit_efficiency_at(&cfg, sqrt(0.01 * 0.1)), 0.5, 1e-12); /* geometric midpoint */
  assert_rel(na64_limit_efficiency_at(&cfg, 1.0), 0.4, 1e-15);
  double m[2] = {0.01, sqrt(0.01 * 0.1)};
  na64_limit_point a[2], b[2];
  assert_int_equal(na64_limit_scan(&cfg, m, 2, a, NULL), NA64_OK);
  na64_limit_config flat = cfg;
  flat.eff_n = 0;
  flat.efficiency = 1.0;
  assert_int_equal(na64_limit_scan(&flat, m, 2, b, NULL), NA64_OK);
  assert_rel(a[0].eps, b[0].eps / sqrt(0.6), 1e-9);
  assert_rel(a[1].eps, b[1].eps / sqrt(0.5), 1e-9);
  const double bad_v[3] = {0.8, 0.0, 0.4}, bad_m[3] = {0.001, 0.1, 0.01};
  na64_err err = {0};
  cfg.eff_value = bad_v;
  assert_int_equal(na64_limit_scan(&cfg, m, 2, a, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "efficiency = 0 at 10 MeV"));
  cfg.eff_value = ev;
  cfg.eff_mass = bad_m;
  assert_int_equal(na64_limit_scan(&cfg, m, 2, a, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "increasing"));
}

/* an expected background with an uncertainty and n_obs = 1 weaken the limit; the expected bands are
 * ordered */
static void test_background_and_bands(void **state)
{
  (void)state;
  na64_limit_config cfg;
  na64_limit_config_default(&cfg, NULL);
  cfg.eot = 1e11;
  double m = 0.0167;
  na64_limit_point p0, p1, pe;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p0, NULL), NA64_OK);
  cfg.stats.b = 0.5;
  cfg.stats.db = 0.2;
  cfg.n_obs = 1;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p1, NULL), NA64_OK);
  assert_true(p1.eps > p0.eps);
  cfg.stats.b = 3.0;
  cfg.expected = 1;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &pe, NULL), NA64_OK);
  for (int i = 0; i < 4; ++i) assert_true(pe.band[i] <= pe.band[i + 1]);
  assert_rel(pe.eps, pe.band[2], 1e-12);
}

/* visible island: at its edges N(eps) = s_up; inside above; it closes at large mass; nothing below
 * the e+e- threshold */
static void test_visible_island(void **state)
{
  (void)state;
  na64_limit_config cfg;
  na64_limit_config_default(&cfg, NULL);
  na64_material wcal;
  na64_material_get("WCAL", &wcal, NULL);
  /* the conditions-database estimates of the 2017 setup (sql/setups/20_visible_2017.sql) */
  na64_beamdump_init_visible(&cfg.dump, &wcal, 100, 30, 30, 7.5, 300);
  cfg.eot = 5e10;
  double m = 0.01;
  na64_limit_point p;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p, NULL), NA64_OK);
  assert_true(p.eps_low > 1e-5 && p.eps_high > p.eps_low && p.eps_high < 1e-2);
  na64_yield *y;
  assert_int_equal(na64_yield_new(&cfg.dump, m, &y, NULL), NA64_OK);
  double k = cfg.eot * cfg.efficiency;
  assert_rel(k * na64_yield_per_eot(y, p.eps_low), p.s_up, 1e-6);
  assert_rel(k * na64_yield_per_eot(y, p.eps_high), p.s_up, 1e-6);
  assert_true(k * na64_yield_per_eot(y, sqrt(p.eps_low * p.eps_high)) > p.s_up);
  na64_yield_free(y);
  double heavy = 0.2, light = 0.0009;
  assert_int_equal(na64_limit_scan(&cfg, &heavy, 1, &p, NULL), NA64_OK);
  assert_true(isnan(p.eps_low) && isnan(p.eps_high));
  assert_int_equal(na64_limit_scan(&cfg, &light, 1, &p, NULL), NA64_OK);
  assert_true(isnan(p.eps_low));
  /* more EOT: a wider island */
  na64_limit_point q;
  cfg.eot = 5e12;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &q, NULL), NA64_OK);
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p, NULL), NA64_OK);
  cfg.eot = 5e10;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p, NULL), NA64_OK);
  assert_true(q.eps_low < p.eps_low && q.eps_high > p.eps_high);
}

/* Feldman-Cousins: with n = 0 and b = 0 the upper end is 2.44 (FC PRD 57 (1998) 3873, Table IV),
 * so eps scales by sqrt(2.44/2.303) from the CLs limit; with b = 3 it is 1.08 (same table) */
static void test_feldman_cousins(void **state)
{
  (void)state;
  na64_limit_config cfg;
  na64_limit_config_default(&cfg, NULL);
  cfg.eot = 1e11;
  double m = 0.0167;
  na64_limit_point cls, fc;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &cls, NULL), NA64_OK);
  cfg.statistic = NA64_LIMIT_FC;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &fc, NULL), NA64_OK);
  assert_rel(fc.s_up, 2.44, 0.003);
  assert_rel(fc.eps, cls.eps * sqrt(fc.s_up / cls.s_up), 1e-9);
  cfg.stats.b = 3.0;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &fc, NULL), NA64_OK);
  assert_rel(fc.s_up, 1.08, 0.005);
}

static void test_bad_config(void **state)
{
  (void)state;
  na64_limit_config cfg;
  na64_limit_config_default(&cfg, NULL);
  double m = 0.01;
  na64_limit_point p;
  na64_err err = {0};
  cfg.eot = -1;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "-1"));
  cfg.eot = 1e10;
  cfg.efficiency = 1.5;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p, &err), NA64_EINVAL);
  cfg.efficiency = 1;
  cfg.stats.b = -2;
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &p, &err), NA64_EINVAL);
  cfg.stats.b = 0;
  double neg = -0.01;
  assert_true(na64_limit_scan(&cfg, &neg, 1, &p, &err) != NA64_OK);
  assert_non_null(strstr(err.msg, "MeV"));
}

static void test_y_variable(void **state)
{
  (void)state;
  assert_rel(na64_limit_y(1e-4, 0.1, 3.0), 1e-8 * 0.1 / 81.0, 1e-12);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_invisible_consistency), cmocka_unit_test(test_efficiency_curve),
      cmocka_unit_test(test_background_and_bands),
      cmocka_unit_test(test_visible_island),         cmocka_unit_test(test_bad_config),
      cmocka_unit_test(test_y_variable),            cmocka_unit_test(test_feldman_cousins),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
