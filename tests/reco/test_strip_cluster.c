/* na64_strip_cluster_find / na64_strip_hits_sort (na64/reco.h, docs/reco.md §3): the strip
 * clustering shared by the tracking and the monitor's event display.
 * Plane: 256 strips of 250 um pitch (the NA64 Micromegas, Banerjee et al. PRD 97 (2018) 072002),
 * strip centres u_i = (i - 127.5) x pitch. Expected values are worked out by hand from the
 * definition (centroid = sum(q_i u_i) / sum(q_i)); tolerance 1e-12 cm, a few ulps of ~3 cm: the
 * only difference allowed is the rounding of the two sums. */
#include <math.h>
#include <string.h>

#include "na64/core.h"
#include "na64/reco.h"
#include "support/na64_test.h"

#define NSTRIP 256
#define PITCH 0.025
#define TOL 1e-12

static na64_geom_wire wires[NSTRIP];

static na64_geom_plane make_plane(void)
{
  na64_geom_plane pl;
  memset(&pl, 0, sizeof pl);
  strcpy(pl.name, "MM01X");
  pl.kind = NA64_DET_MICROMEGAS;
  pl.pitch = PITCH;
  pl.nwires = NSTRIP;
  for (int i = 0; i < NSTRIP; ++i) wires[i].u = (i - 127.5) * PITCH;
  pl.wires = wires;
  return pl;
}

/* Strips 10 and 11 with 300 and 100 ADC: centroid u10 + 100/400 pitch = -2.9375 + 0.00625 cm. */
static void test_two_strip_centroid(void **state)
{
  (void)state;
  na64_geom_plane pl = make_plane();
  na64_strip_hit h[] = {{3, 10, 300.0}, {3, 11, 100.0}};
  na64_strip_cluster c[2];
  size_t n = 99;
  na64_err err;
  assert_int_equal(na64_strip_cluster_find(&pl, h, 2, c, 2, &n, &err), NA64_OK);
  assert_int_equal(n, 1);
  assert_true(fabs(c[0].u - (-2.93125)) < TOL);
  assert_true(fabs(c[0].q - 400.0) < TOL);
  assert_int_equal(c[0].first, 10);
  assert_int_equal(c[0].n, 2);
}

/* Strips 10, 11 | 13 (12 missing) | 20: three clusters in wire order; a strip listed twice stays in
 * its run; a negative charge counts 0 (strip 13: -50 -> centroid u13 itself = -2.8625). */
static void test_gaps_split(void **state)
{
  (void)state;
  na64_geom_plane pl = make_plane();
  na64_strip_hit h[] = {{0, 10, 100.0}, {0, 11, 100.0}, {0, 13, 80.0}, {0, 14, -50.0}, {0, 20, 10.0}, {0, 20, 30.0}};
  na64_strip_cluster c[6];
  size_t n = 0;
  na64_err err;
  assert_int_equal(na64_strip_cluster_find(&pl, h, 6, c, 6, &n, &err), NA64_OK);
  assert_int_equal(n, 3);
  assert_true(fabs(c[0].u - (10.5 - 127.5) * PITCH) < TOL); /* equal charges: the midpoint */
  assert_int_equal(c[0].n, 2);
  assert_true(fabs(c[1].u - (-2.8625)) < TOL);
  assert_true(fabs(c[1].q - 80.0) < TOL);
  assert_int_equal(c[1].first, 13);
  assert_int_equal(c[1].n, 2);
  assert_true(fabs(c[2].u - (20 - 127.5) * PITCH) < TOL);
  assert_true(fabs(c[2].q - 40.0) < TOL);
  assert_int_equal(c[2].n, 2);
}

/* No hits: no cluster (and no pointer needed); a run with no positive charge: q 0, u NaN. */
static void test_empty_plane(void **state)
{
  (void)state;
  na64_geom_plane pl = make_plane();
  size_t n = 7;
  na64_err err;
  assert_int_equal(na64_strip_cluster_find(&pl, NULL, 0, NULL, 0, &n, &err), NA64_OK);
  assert_int_equal(n, 0);
  na64_strip_hit h[] = {{0, 5, 0.0}, {0, 6, -3.0}};
  na64_strip_cluster c[2];
  assert_int_equal(na64_strip_cluster_find(&pl, h, 2, c, 2, &n, &err), NA64_OK);
  assert_int_equal(n, 1);
  assert_true(c[0].q == 0.0 && isnan(c[0].u));
}

/* Bad input: an error naming the plane and the hit, never a crash. */
static void test_bad_input(void **state)
{
  (void)state;
  na64_geom_plane pl = make_plane();
  na64_strip_cluster c[4];
  size_t n = 0;
  na64_err err;
  na64_strip_hit unsorted[] = {{0, 12, 1.0}, {0, 11, 1.0}};
  assert_int_equal(na64_strip_cluster_find(&pl, unsorted, 2, c, 4, &n, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "MM01X"));
  assert_non_null(strstr(err.msg, "not sorted"));
  na64_strip_hit outside[] = {{0, 12, 1.0}, {0, NSTRIP, 1.0}};
  assert_int_equal(na64_strip_cluster_find(&pl, outside, 2, c, 4, &n, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "256"));
  na64_strip_hit mixed[] = {{0, 12, 1.0}, {1, 13, 1.0}};
  assert_int_equal(na64_strip_cluster_find(&pl, mixed, 2, c, 4, &n, &err), NA64_EINVAL);
  na64_strip_hit three[] = {{0, 1, 1.0}, {0, 3, 1.0}, {0, 5, 1.0}};
  assert_int_equal(na64_strip_cluster_find(&pl, three, 3, c, 2, &n, &err), NA64_ERANGE);
  assert_int_equal(na64_strip_cluster_find(NULL, three, 3, c, 4, &n, &err), NA64_EINVAL);
}

/* Sorting: by plane, then wire; hits of equal (plane, wire) keep their order; a long reversed list
 * (the qsort fallback) sorts too. */
static void test_sort(void **state)
{
  (void)state;
  na64_strip_hit h[] = {{2, 5, 1.0}, {1, 7, 2.0}, {2, 3, 3.0}, {1, 7, 4.0}, {0, 9, 5.0}};
  na64_strip_hits_sort(h, 5);
  const int plane[] = {0, 1, 1, 2, 2}, wire[] = {9, 7, 7, 3, 5};
  const double q[] = {5.0, 2.0, 4.0, 3.0, 1.0};
  for (int i = 0; i < 5; ++i) {
    assert_int_equal(h[i].plane, plane[i]);
    assert_int_equal(h[i].wire, wire[i]);
    assert_true(h[i].q == q[i]);
  }
  enum { NLONG = 500 };
  static na64_strip_hit r[NLONG];
  for (int i = 0; i < NLONG; ++i) r[i] = (na64_strip_hit){i % 3, NLONG - i, 0.0};
  na64_strip_hits_sort(r, NLONG);
  for (int i = 1; i < NLONG; ++i)
    assert_true(r[i - 1].plane < r[i].plane || (r[i - 1].plane == r[i].plane && r[i - 1].wire <= r[i].wire));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_two_strip_centroid), cmocka_unit_test(test_gaps_split), cmocka_unit_test(test_empty_plane),
    cmocka_unit_test(test_bad_input), cmocka_unit_test(test_sort),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
