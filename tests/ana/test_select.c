/* The invisible-mode selection: every cut can fail (hand-built rows), the cut flow is sequential,
 * a NaN quantity fails its cut, a disabled cut passes; the exact sums are independent of order and
 * of how partial sums are merged (threads); the card's selection: section and its errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

/* A 100 GeV electron that converts most of its energy into an A': passes every default cut. */
static na64_reco_event good_row(void)
{
  na64_reco_event e;
  memset(&e, 0, sizeof e);
  e.run = 2000;
  e.momentum = 100.0;
  e.theta = 1e-4;
  e.ntracks_up = e.ntracks_down = 1;
  e.srd_energy = 0.05;
  for (int m = 0; m < NA64_RECO_SRD_MODULES; ++m) e.srd_module[m] = 0.05 / NA64_RECO_SRD_MODULES;
  e.srd_time = 0.5;
  e.ecal_energy = 30.0;
  e.preshower_energy = 2.0;
  e.ecal_shape_chi2 = 1.0;
  e.hcal_energy = 0.2;
  e.veto_energy = 0.0;
  e.weight = 1.0;
  return e;
}

/* One change per cut that makes exactly that cut fail (the defaults: docs/selection.md). */
static void spoil(na64_reco_event *e, int cut)
{
  switch (cut) {
  case NA64_CUT_MOMENTUM: e->momentum = 90.0; break;       /* outside 97..103 GeV */
  case NA64_CUT_ANGLE: e->theta = 5e-3; break;             /* > 1 mrad */
  case NA64_CUT_SINGLE_TRACK: e->ntracks_up = 2; break;     /* two incoming tracks */
  case NA64_CUT_SRD: e->srd_energy = 0.0; break;            /* a hadron: no synchrotron radiation */
  case NA64_CUT_SHAPE: e->ecal_shape_chi2 = 50.0; break;    /* hadron-like shower */
  case NA64_CUT_PRESHOWER: e->preshower_energy = 0.05; break; /* a MIP in the pre-shower */
  case NA64_CUT_VETO: e->veto_energy = 0.01; break;         /* a MIP in the veto */
  case NA64_CUT_BOX: e->hcal_energy = 5.0; break;           /* energy in the HCAL */
  default: fail();
  }
}

static void test_each_cut_can_fail(void **state)
{
  (void)state;
  na64_select_config c;
  na64_select_config_default(&c);
  assert_int_equal(na64_select_config_check(&c, NULL), NA64_OK);
  na64_reco_event g = good_row();
  const unsigned all = (1u << NA64_NCUTS) - 1;
  assert_int_equal(na64_select_event(&c, &g), all);
  for (int k = 0; k < NA64_NCUTS; ++k) {
    na64_reco_event e = good_row();
    spoil(&e, k);
    assert_int_equal(na64_select_event(&c, &e), all & ~(1u << k));
    assert_false(na64_select_pass(&c, &e));
    na64_cutflow f;
    na64_cutflow_init(&f);
    assert_int_equal(na64_cutflow_fill(&f, &c, &e), 0);
    /* sequential: the row before cut k holds the event, the row of cut k and later do not */
    for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) assert_int_equal(f.events[i], i < k + 2 ? 1u : 0u);
    /* disabling the failing cut lets the event through */
    na64_select_config d = c;
    d.enabled[k] = 0;
    assert_true(na64_select_pass(&d, &e));
  }
}

static void test_nan_fails(void **state)
{
  (void)state;
  na64_select_config c;
  na64_select_config_default(&c);
  na64_reco_event e = good_row();
  e.momentum = NAN; /* no momentum fit */
  assert_false(na64_select_event(&c, &e) & (1u << NA64_CUT_MOMENTUM));
  e = good_row();
  e.ecal_shape_chi2 = NAN;
  assert_false(na64_select_event(&c, &e) & (1u << NA64_CUT_SHAPE));
  e = good_row();
  e.hcal_energy = NAN;
  assert_false(na64_select_event(&c, &e) & (1u << NA64_CUT_BOX));
}

/* Box edges: E_ECAL < 50 and E_HCAL < 1 GeV are strict (PRL 123 (2019) 121801). */
static void test_box_edges(void **state)
{
  (void)state;
  na64_select_config c;
  na64_select_config_default(&c);
  na64_reco_event e = good_row();
  e.ecal_energy = 50.0;
  assert_false(na64_select_pass(&c, &e));
  e.ecal_energy = 49.999;
  assert_true(na64_select_pass(&c, &e));
  e.hcal_energy = 1.0;
  assert_false(na64_select_pass(&c, &e));
}

/* ---- exact sums ---- */

static uint64_t lcg(uint64_t *s) { return *s = *s * 6364136223846793005ULL + 1442695040888963407ULL; }

static double draw_weight(uint64_t *s)
{
  /* weights spanning 1e-10..1e3 like biased A' and unbiased background events, both signs */
  double u = (double)(lcg(s) >> 11) / 9007199254740992.0;
  double w = pow(10.0, -10.0 + 13.0 * u);
  return (lcg(s) >> 63) ? -w : w;
}

static void test_xsum_exact(void **state)
{
  (void)state;
  na64_xsum s;
  na64_xsum_init(&s);
  /* 2^60 + 1 - 2^60 = 1: a plain double sum gives 0 */
  na64_xsum_add(&s, ldexp(1.0, 60));
  na64_xsum_add(&s, 1.0);
  na64_xsum_add(&s, -ldexp(1.0, 60));
  assert_true(na64_xsum_value(&s) == 1.0);
  /* x and -x for many x cancel exactly, whatever is around them */
  na64_xsum_init(&s);
  uint64_t seed = 7;
  double xs[1000];
  for (int i = 0; i < 1000; ++i) na64_xsum_add(&s, xs[i] = draw_weight(&seed));
  na64_xsum_add(&s, 3.5);
  for (int i = 999; i >= 0; --i) na64_xsum_add(&s, -xs[i]);
  assert_true(na64_xsum_value(&s) == 3.5);
  /* ten times 0.1: exact value 10 x 0.1000000000000000055511151231257827 rounds to 1.0 */
  na64_xsum_init(&s);
  for (int i = 0; i < 10; ++i) na64_xsum_add(&s, 0.1);
  assert_true(na64_xsum_value(&s) == 1.0);
  /* NaN and out-of-range addends poison the sum */
  na64_xsum_add(&s, NAN);
  assert_true(isnan(na64_xsum_value(&s)));
}

static void test_xsum_order_and_threads(void **state)
{
  (void)state;
  enum { N = 200000 };
  double *w = malloc(N * sizeof *w);
  assert_non_null(w);
  uint64_t seed = 12345;
  for (int i = 0; i < N; ++i) w[i] = draw_weight(&seed);
  na64_xsum ref;
  na64_xsum_init(&ref);
  for (int i = 0; i < N; ++i) na64_xsum_add(&ref, w[i]);
  double v = na64_xsum_value(&ref);
  /* reversed and shuffled orders: bit-identical */
  na64_xsum s;
  na64_xsum_init(&s);
  for (int i = N - 1; i >= 0; --i) na64_xsum_add(&s, w[i]);
  assert_memory_equal(&v, &(double){na64_xsum_value(&s)}, sizeof v);
  for (int i = N - 1; i > 0; --i) {
    int j = (int)(lcg(&seed) % (uint64_t)(i + 1));
    double t = w[i];
    w[i] = w[j];
    w[j] = t;
  }
  /* partial sums of 1..8 "threads" (interleaved chunks) merged: bit-identical */
  for (int nt = 1; nt <= 8; ++nt) {
    na64_xsum part[8], tot;
    for (int t = 0; t < nt; ++t) na64_xsum_init(&part[t]);
    for (int i = 0; i < N; ++i) na64_xsum_add(&part[(i / 1000) % nt], w[i]);
    na64_xsum_init(&tot);
    for (int t = nt - 1; t >= 0; --t) na64_xsum_merge(&tot, &part[t]);
    double x = na64_xsum_value(&tot);
    assert_memory_equal(&v, &x, sizeof v);
  }
  /* and it is the correctly rounded sum to double accuracy: compare with a long double Kahan sum */
  long double k = 0.0L, comp = 0.0L;
  for (int i = 0; i < N; ++i) {
    long double y = (long double)w[i] - comp, t = k + y;
    comp = (t - k) - y;
    k = t;
  }
  assert_true(fabs(v - (double)k) <= 1e-12 * fabs(v));
  free(w);
}

/* The cut flow of hand-built rows filled in two orders and in two halves merged: identical. */
static void test_cutflow_order(void **state)
{
  (void)state;
  na64_select_config c;
  na64_select_config_default(&c);
  enum { N = 4000 };
  na64_reco_event *rows = malloc(N * sizeof *rows);
  assert_non_null(rows);
  uint64_t seed = 99;
  for (int i = 0; i < N; ++i) {
    rows[i] = good_row();
    int k = (int)(lcg(&seed) % (NA64_NCUTS + 3));
    if (k < NA64_NCUTS) spoil(&rows[i], k);
    rows[i].weight = fabs(draw_weight(&seed));
  }
  na64_cutflow a, b, h1, h2;
  na64_cutflow_init(&a);
  na64_cutflow_init(&b);
  na64_cutflow_init(&h1);
  na64_cutflow_init(&h2);
  for (int i = 0; i < N; ++i) na64_cutflow_fill(&a, &c, &rows[i]);
  for (int i = N - 1; i >= 0; --i) na64_cutflow_fill(&b, &c, &rows[i]);
  for (int i = 0; i < N; ++i) na64_cutflow_fill(i % 2 ? &h1 : &h2, &c, &rows[i]);
  na64_cutflow_merge(&h2, &h1);
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) {
    assert_int_equal(a.events[i], b.events[i]);
    assert_int_equal(a.events[i], h2.events[i]);
    double x = na64_xsum_value(&a.weighted[i]), y = na64_xsum_value(&b.weighted[i]), z = na64_xsum_value(&h2.weighted[i]);
    assert_memory_equal(&x, &y, sizeof x);
    assert_memory_equal(&x, &z, sizeof x);
    if (i > 0) assert_true(a.events[i] <= a.events[i - 1]); /* never increasing */
  }
  free(rows);
}

/* ---- the card ---- */

static void test_card_section(void **state)
{
  (void)state;
  const char *text = "setup:\n  run: 2000\nselection:\n  momentum_min: 95.0\n  momentum_max: 105\n"
                     "  hcal_max: 2.0\n  apply:\n    shower_shape: false\n";
  na64_select_config c;
  na64_select_config_default(&c);
  na64_err err = {0};
  assert_int_equal(na64_select_config_parse(text, strlen(text), "card.yaml", &c, &err), NA64_OK);
  assert_true(c.p_min == 95.0 && c.p_max == 105.0 && c.hcal_max == 2.0);
  assert_int_equal(c.enabled[NA64_CUT_SHAPE], 0);
  assert_int_equal(c.enabled[NA64_CUT_SRD], 1);
  assert_true(c.ecal_max == 50.0); /* untouched default */
  /* the simulation's reader accepts the section without reading it */
  na64_sim_config sc;
  na64_sim_config_default(&sc);
  assert_int_equal(na64_sim_config_parse(text, strlen(text), "card.yaml", &sc, &err), NA64_OK);
}

static void expect_card_error(const char *text, const char *where, const char *what)
{
  na64_select_config c;
  na64_select_config_default(&c);
  na64_err err = {0};
  assert_int_equal(na64_select_config_parse(text, strlen(text), "card.yaml", &c, &err), NA64_EFORMAT);
  if (!strstr(err.msg, where) || !strstr(err.msg, what)) fail_msg("message '%s' lacks '%s' / '%s'", err.msg, where, what);
}

static void test_card_errors(void **state)
{
  (void)state;
  /* unknown key: its line and column */
  expect_card_error("selection:\n  momentum_min: 95\n  ecal_mx: 40\n", "card.yaml:3:3:", "unknown key 'ecal_mx'");
  /* a word where a number is needed: the value's position */
  expect_card_error("selection:\n  hcal_max: one\n", "card.yaml:2:13:", "needs a finite number");
  /* out of range */
  expect_card_error("selection:\n  theta_max: 5\n", "card.yaml:2:14:", "outside its allowed range");
  /* unknown cut name in apply */
  expect_card_error("selection:\n  apply:\n    srd: true\n    tracker: false\n", "card.yaml:4:5:", "unknown key 'tracker'");
  /* inconsistent window: NA64_EINVAL naming the field */
  na64_select_config c;
  na64_select_config_default(&c);
  na64_err err = {0};
  const char *t = "selection:\n  momentum_min: 105\n  momentum_max: 95\n";
  assert_int_equal(na64_select_config_parse(t, strlen(t), "card.yaml", &c, &err), NA64_EINVAL);
  assert_non_null(strstr(err.msg, "selection.momentum_max")); /* the card key (branch robust) */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_cut_can_fail), cmocka_unit_test(test_nan_fails),
      cmocka_unit_test(test_box_edges),         cmocka_unit_test(test_xsum_exact),
      cmocka_unit_test(test_xsum_order_and_threads), cmocka_unit_test(test_cutflow_order),
      cmocka_unit_test(test_card_section),      cmocka_unit_test(test_card_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
