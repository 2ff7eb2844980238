/* Core: error records and the counter-based random streams. */
#include <string.h>

#include "na64/ana.h"
#include "na64/core.h"
#include "na64/physics.h"
#include "support/na64_test.h"

static void test_error_record(void **state)
{
  (void)state;
  na64_err err;
  na64_err_clear(&err);
  assert_int_equal(na64_err_set(&err, NA64_EPHYS, "mass %g below threshold", 0.5), NA64_EPHYS);
  na64_err_prefix(&err, "width");
  assert_string_equal(err.msg, "width: mass 0.5 below threshold");
  assert_int_equal(na64_err_set(NULL, NA64_EINVAL, "x"), NA64_EINVAL); /* NULL err is allowed */
  /* every status has its own text; an unknown code says so */
  for (int a = NA64_EEOF; a <= NA64_OK; ++a)
    for (int b = NA64_EEOF; b < a; ++b) assert_string_not_equal(na64_strerror(a), na64_strerror(b));
  assert_string_equal(na64_strerror(-999), "unknown error");
}

/* A caller without an error record gets the same status as one with it (issue 8 item 4: the
 * prefixing of context used to return -1 for a NULL record): an A' mass above the cross sections'
 * validity (1 GeV) in a material goes through the "material %s" prefix. */
static void test_status_without_record(void **state)
{
  (void)state;
  na64_material pb;
  assert_int_equal(na64_material_get("Pb", &pb, NULL), NA64_OK);
  na64_err err = {0, ""};
  double v;
  int with = na64_xsec_macroscopic(NA64_XS_ETL, &pb, 100.0, 5.0, 1e-4, &v, &err);
  int without = na64_xsec_macroscopic(NA64_XS_ETL, &pb, 100.0, 5.0, 1e-4, &v, NULL);
  assert_true(with < 0);
  assert_int_equal(without, with);
  with = na64_xsec_macroscopic(NA64_XS_ETL, &pb, 100.0, 0.01, 2.0, &v, &err); /* eps > 1 */
  assert_int_equal(with, NA64_EPHYS);
  assert_int_equal(na64_xsec_macroscopic(NA64_XS_ETL, &pb, 100.0, 0.01, 2.0, &v, NULL), with);
  na64_limit_config cfg;
  assert_int_equal(na64_limit_config_default(&cfg, NULL), NA64_OK);
  cfg.eot = 1e10;
  double m = 5.0;
  na64_limit_point pt;
  with = na64_limit_scan(&cfg, &m, 1, &pt, &err);
  assert_true(with < 0);
  assert_int_equal(na64_limit_scan(&cfg, &m, 1, &pt, NULL), with);
  /* and the prefix itself keeps the record's code */
  na64_err_set(&err, NA64_ERANGE, "inner");
  na64_err_prefix(&err, "outer");
  assert_int_equal(err.code, NA64_ERANGE);
  na64_err_prefix(NULL, "nothing to prefix"); /* allowed */
}

/* The shortest exact text of a double: reads back as the same value, no more digits than needed. */
static void test_num_shortest(void **state)
{
  (void)state;
  static const struct {
    double v;
    const char *text;
  } cases[] = {{1.0000001, "1.0000001"}, {0.9999, "0.9999"}, {100000, "100000"}, {1e16, "1e+16"},
               {4.9406564584124654e-324, "5e-324"}, {-2.5e-7, "-2.5e-07"}, {0.1, "0.1"}};
  char buf[64];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    na64_num_shortest(buf, sizeof buf, cases[i].v);
    assert_string_equal(buf, cases[i].text);
  }
  /* 1 + 2^-52 needs all 17 digits, and they read back exactly */
  double v = 1.0 + 0x1p-52;
  na64_num_shortest(buf, sizeof buf, v);
  assert_true(na64_num_parse(buf, NULL) == v);
  assert_string_equal(buf, "1.0000000000000002");
}

/* Same (seed, stream) gives the same sequence; different streams differ. */
static void test_rng_reproducible(void **state)
{
  (void)state;
  na64_rng a, b, c;
  na64_rng_init(&a, 42, 7);
  na64_rng_init(&b, 42, 7);
  na64_rng_init(&c, 42, 8);
  int same_c = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = na64_rng_u64(&a), y = na64_rng_u64(&b), z = na64_rng_u64(&c);
    assert_true(x == y);
    same_c += (x == z);
  }
  assert_true(same_c < 2);
}

/* Moments of uniform, Gaussian, exponential and Poisson deviates against their exact values.
 * With N = 1e6 the statistical error of a mean is ~1e-3 sigma units: tolerances are 5 sigma. */
static void test_rng_moments(void **state)
{
  (void)state;
  na64_rng r;
  na64_rng_init(&r, 1, 0);
  const int n = 1000000;
  double su = 0, su2 = 0, sg = 0, sg2 = 0, se = 0, sp = 0, sp2 = 0, sp_big = 0;
  double umin = 1, umax = 0;
  for (int i = 0; i < n; ++i) {
    double u = na64_rng_uniform(&r);
    umin = u < umin ? u : umin;
    umax = u > umax ? u : umax;
    su += u;
    su2 += u * u;
    double g = na64_rng_gauss(&r);
    sg += g;
    sg2 += g * g;
    se += na64_rng_exponential(&r);
    double k = (double)na64_rng_poisson(&r, 3.5);
    sp += k;
    sp2 += k * k;
    sp_big += (double)na64_rng_poisson(&r, 120.0);
  }
  assert_true(umin > 0.0 && umax < 1.0);
  assert_true(fabs(su / n - 0.5) < 5 * sqrt(1.0 / 12 / n));
  assert_true(fabs(su2 / n - 1.0 / 3) < 5 * 0.3 / sqrt(n));
  assert_true(fabs(sg / n) < 5 / sqrt(n));
  assert_true(fabs(sg2 / n - 1.0) < 5 * sqrt(2.0 / n));
  assert_true(fabs(se / n - 1.0) < 5 / sqrt(n));
  assert_true(fabs(sp / n - 3.5) < 5 * sqrt(3.5 / n));
  assert_true(fabs(sp2 / n - sp * sp / n / n - 3.5) < 0.05);
  assert_true(fabs(sp_big / n - 120.0) < 5 * sqrt(120.0 / n));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_record), cmocka_unit_test(test_status_without_record), cmocka_unit_test(test_num_shortest),
      cmocka_unit_test(test_rng_reproducible),
      cmocka_unit_test(test_rng_moments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
