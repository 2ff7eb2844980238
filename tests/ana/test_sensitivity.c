/* The sensitivity library behind `na64 limits` and the report (na64_sens_*, ana.h), called
 * directly: mass grids, mode-dependent options, the scan and its table/CSV. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

static void test_masses(void **state)
{
  (void)state;
  double *m;
  int n;
  na64_err err = {0, ""};
  /* log spacing: 1, sqrt(1000) = 31.62..., 1000 MeV, returned in GeV */
  assert_int_equal(na64_sens_masses_parse("1:1000:3", NA64_SENS_INVISIBLE, &m, &n, &err), NA64_OK);
  assert_int_equal(n, 3);
  assert_rel(m[0], 1e-3, 1e-15);
  assert_rel(m[1], sqrt(1000.0) * 1e-3, 1e-14);
  assert_rel(m[2], 1.0, 1e-14);
  free(m);
  assert_int_equal(na64_sens_masses_parse("2.5,17", NA64_SENS_INVISIBLE, &m, &n, &err), NA64_OK);
  assert_int_equal(n, 2);
  assert_rel(m[1], 0.017, 1e-15);
  free(m);
  /* defaults: 60 points, visible from 1.1 MeV */
  assert_int_equal(na64_sens_masses_parse(NULL, NA64_SENS_VISIBLE, &m, &n, &err), NA64_OK);
  assert_int_equal(n, 60);
  assert_rel(m[0], 1.1e-3, 1e-15);
  assert_rel(m[59], 30e-3, 1e-14);
  free(m);
  static const char *const bad[] = {"1:inf:5", "inf", "nan", "10:1:5", "1:10:1", "1,abc", "", "-3", "1:10:5x", "0:10:5"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    m = NULL;
    int st = na64_sens_masses_parse(bad[i], NA64_SENS_INVISIBLE, &m, &n, &err);
    if (st != NA64_EINVAL) print_error("'%s' accepted\n", bad[i]);
    assert_int_equal(st, NA64_EINVAL);
    assert_null(m);
  }
}

static void test_options_check(void **state)
{
  (void)state;
  na64_sens_options o;
  na64_sens_options_default(&o);
  na64_err err = {0, ""};
  assert_int_equal(na64_sens_options_check(&o, NA64_SENS_GIVEN_EXPECTED | NA64_SENS_GIVEN_ECAL_MAX, &err), NA64_OK);
  assert_int_equal(na64_sens_options_check(&o, NA64_SENS_GIVEN_WCAL_X0, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "--wcal-x0"));
  assert_int_equal(na64_sens_options_check(&o, NA64_SENS_GIVEN_ALPHA_D, &err), NA64_EINVAL); /* without --y */
  o.y_output = 1;
  assert_int_equal(na64_sens_options_check(&o, NA64_SENS_GIVEN_ALPHA_D, &err), NA64_OK);
  o.mode = NA64_SENS_VISIBLE;
  o.y_output = 0;
  static const unsigned invisible_only[] = {NA64_SENS_GIVEN_EXPECTED, NA64_SENS_GIVEN_ANNIHILATION, NA64_SENS_GIVEN_Y,
                                            NA64_SENS_GIVEN_ECAL_MAX};
  for (size_t i = 0; i < 4; ++i) assert_int_equal(na64_sens_options_check(&o, invisible_only[i], &err), NA64_EINVAL);
  assert_int_equal(na64_sens_options_check(&o, NA64_SENS_GIVEN_DECAY_LENGTH, &err), NA64_OK);
  /* the Feldman-Cousins bounds are those of na64_stats_fc_interval */
  o.mode = NA64_SENS_INVISIBLE;
  o.statistic = NA64_LIMIT_FC;
  o.observed = NA64_FC_MAX_N + 1;
  assert_int_equal(na64_sens_options_check(&o, 0, &err), NA64_ERANGE);
  assert_non_null(strstr(err.msg, "--observed"));
  double lo, hi;
  assert_int_equal(na64_stats_fc_interval(NA64_FC_MAX_N + 1, 0, 0.9, &lo, &hi, &err), NA64_ERANGE);
  o.observed = NA64_FC_MAX_N;
  assert_int_equal(na64_sens_options_check(&o, 0, &err), NA64_OK);
}

/* b = 0, n = 0 at 90% CL: s_up = ln 10 = 2.3026 events (PDG review, Poisson upper limits), and the
 * invisible eps limit scales as EOT^-1/2 because N_sig = EOT Y(m) eps^2. */
static void test_curve(void **state)
{
  (void)state;
  na64_sens_options o;
  na64_sens_options_default(&o);
  na64_err err = {0, ""};
  na64_sens_curve a = {0}, b = {0};
  o.eot = 1e10;
  assert_int_equal(na64_sens_masses_parse("10,100", o.mode, &a.masses, &a.n, &err), NA64_OK);
  assert_int_equal(na64_sens_curve_compute(&o, &a, NULL, NULL, &err), NA64_OK);
  o.eot = 1e12;
  assert_int_equal(na64_sens_masses_parse("10,100", o.mode, &b.masses, &b.n, &err), NA64_OK);
  assert_int_equal(na64_sens_curve_compute(&o, &b, NULL, NULL, &err), NA64_OK);
  for (int i = 0; i < 2; ++i) {
    assert_rel(a.pt[i].s_up, log(10.0), 1e-6);
    assert_rel(b.pt[i].eps, 0.1 * a.pt[i].eps, 1e-9);
  }
  /* the table: documented column names, rows in MeV */
  const char *const *names;
  assert_int_equal(na64_sens_curve_columns(&o, &names), 2);
  assert_string_equal(names[0], "mass_MeV");
  assert_string_equal(names[1], "epsilon");
  double row[NA64_SENS_MAX_COLUMNS];
  na64_sens_curve_row(&o, &b, 1, row);
  assert_rel(row[0], 100.0, 1e-15);
  assert_true(row[1] == b.pt[1].eps);
  o.y_output = 1;
  assert_int_equal(na64_sens_curve_columns(&o, &names), 2);
  assert_string_equal(names[0], "m_chi_MeV");
  na64_sens_curve_row(&o, &b, 1, row);
  /* y = eps^2 alpha_D (m_chi/m_A')^4 = eps^2 0.1 / 81 at the default ratio 3 */
  assert_rel(row[0], 100.0 / 3.0, 1e-14);
  assert_rel(row[1], b.pt[1].eps * b.pt[1].eps * 0.1 / 81.0, 1e-12);
  o.y_output = 0;
  /* CSV read back */
  char path[400];
  snprintf(path, sizeof path, "%s/curve.csv", na64_test_tmpdir);
  assert_int_equal(na64_sens_curve_write_csv(&o, &b, path, &err), NA64_OK);
  na64_test_csv csv;
  na64_test_load_csv(path, &csv);
  assert_int_equal(csv.ncols, 2);
  assert_int_equal(csv.nrows, 2);
  assert_rel(csv.v[3], b.pt[1].eps, 1e-9);
  na64_test_csv_free(&csv);
  /* an unwritable path is an I/O error naming it */
  assert_int_equal(na64_sens_curve_write_csv(&o, &b, "/nonexistent/dir/x.csv", &err), NA64_EIO);
  assert_non_null(strstr(err.msg, "/nonexistent/dir/x.csv"));
  na64_sens_curve_release(&a);
  na64_sens_curve_release(&b);
}

static void test_published(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  int nvis = 0;
  for (int i = 0; i < na64_published_count(); ++i) {
    na64_published_curve c;
    assert_int_equal(na64_published_get(i, &c, &err), NA64_OK);
    assert_true(c.n > 3);
    assert_non_null(strstr(c.label, "NA64"));
    nvis += c.visible;
    if (c.visible) assert_true(c.n_upper > 3);
    /* the limits of NA64 lie between 1e-6 and 1e-2 in eps for masses of 1 MeV to 1 GeV */
    for (int k = 0; k < c.n; ++k) {
      assert_true(c.mass_MeV[k] > 0.5 && c.mass_MeV[k] < 1100);
      assert_true(c.eps[k] > 1e-7 && c.eps[k] < 1e-1);
    }
    na64_published_release(&c);
  }
  assert_int_equal(nvis, 1);
  na64_published_curve c;
  assert_int_equal(na64_published_get(na64_published_count(), &c, &err), NA64_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_masses),
      cmocka_unit_test(test_options_check),
      cmocka_unit_test(test_curve),
      cmocka_unit_test(test_published),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
