/* The selection job on a small simulated sample: signal efficiency in a plausible range, physics
 * invariants of the cut flow, and the report files read back with python3 (json, csv, PyYAML). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"

static const char card_text[] =
    "setup:\n  run: 2000\n"
    "processes:\n  aprime:\n    enabled: true\n    bias: 1.0e8\n    min_energy: 50.0\n"
    "aprime:\n  mass_MeV: 16.7\n  epsilon: 1.0e-4\n"
    "analysis:\n  eot: 2.84e11\n  events: 50000\n  signal_events: 4000\n  seed: 3\n  threads: 2\n"
    "  masses_MeV: \"16.7,100\"\n  background_events: 1000\n";

static void write_card(char *path, size_t n)
{
  snprintf(path, n, "%s/card.yaml", na64_test_tmpdir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(card_text, f);
  fclose(f);
}

/* The job of card_text (2 threads) run by the first test, kept for the thread comparison of the
 * second (the same card: one expensive job instead of two; NULL if the first test failed before). */
static na64_job_result *job2 = NULL;

/* Efficiency: the A' carries E_A' > 50 GeV (the card's min_energy), so the ECAL sees < 50 GeV up to
 * its resolution; what the stand-in loses are SRD fluctuations below 1 MeV, broad showers and
 * pile-up tracks. NA64 quotes 0.5-0.7 including tracking and DAQ losses that the stand-in does not
 * have (refdata: na64-published-numbers.md section 3), so the efficiency must lie in [0.5, 1). */
static void test_job_efficiency_and_report(void **state)
{
  (void)state;
  char card[512];
  write_card(card, sizeof card);
  na64_job_result *res = calloc(1, sizeof *res);
  assert_non_null(res);
  na64_err err = {0};
  int st = na64_job_run(card, 0, res, NULL, NULL, &err);
  if (st) fail_msg("%s", err.msg);
  assert_int_equal(res->nmass, 2);
  for (int i = 0; i < res->nmass; ++i) {
    assert_true(res->efficiency[i] >= 0.5 && res->efficiency[i] < 1.0);
    assert_true(res->efficiency_error[i] > 0 && res->efficiency_error[i] < 0.05);
  }
  /* cut flow never increases; the sample's weights sum to its EOT within 1%: the A' weights 1/B and
   * the others (1 - P)/(1 - B P) are unbiased (src/sim/fast_aprime.c) */
  const na64_cutflow *f = &res->accum.all;
  for (int i = 1; i < NA64_CUTFLOW_ROWS; ++i) assert_true(f->events[i] <= f->events[i - 1]);
  assert_rel(na64_xsum_value(&f->weighted[0]), 5e4, 0.01);
  assert_int_equal(f->events[0], 50000);
  /* background: no hadron passes the SRD in 5e4 EOT; the bound is the Poisson 2.303 / EOT */
  assert_rel(res->result.background_per_eot_upper, 2.302585 / 5e4, 1e-4);
  assert_true(res->limit.n > 10);
  /* the measured background of the limit (issue 11): the Table 1 routes, each a positive rate with
   * its error or (no event in the box) a positive 90% CL bound, summing to the limit's b; the decay
   * route reaches the box (K_e3 near the ECAL, docs/validation.md: 7.5e-12 per EOT +- 12% with 2e4
   * events), and the routes that cannot (tail: HCAL coverage, detector: shape cut) give bounds */
  assert_int_equal(res->bkg_n, NA64_SIM_BKG_NSOURCES);
  assert_string_equal(res->limit_background_source, "simulated_routes");
  double sum = 0.0, var = 0.0;
  for (int i = 0; i < res->bkg_n; ++i) {
    const na64_sim_bkg_result *b = &res->bkg[i];
    assert_int_equal(b->source, i);
    assert_true(b->events == 1000 || i == NA64_SIM_BKG_NUNU);
    /* (pile-up needs in-time particles: the card has no beam intensity, so P(process) = 0) */
    assert_true((b->rate > 0 && b->passed > 0) ||
                (b->rate == 0 && b->passed == 0 && (b->bound90 > 0 || b->process_prob == 0)));
    assert_true(b->rate <= b->process_prob); /* every weight is at most P(process) */
    sum += b->rate;
    var += b->error * b->error;
  }
  assert_true(res->bkg[NA64_SIM_BKG_DECAY].passed > 0);
  /* the job's routes are the estimator's events (seed + 2000003): the same rates up to the order of
   * the additions (exact sums in the job, sequential ones in na64_sim_bkg_estimate) */
  na64_sim_config sc;
  na64_sim_config_default(&sc);
  assert_int_equal(na64_sim_config_parse(card_text, strlen(card_text), "card", &sc, &err), NA64_OK);
  sc.aprime_enabled = 0;
  na64_sim *sim = NULL;
  assert_int_equal(na64_sim_new(&sc, &sim, &err), NA64_OK);
  for (int i = 0; i < NA64_SIM_BKG_NSOURCES; ++i) {
    na64_sim_bkg_result e;
    assert_int_equal(na64_sim_bkg_estimate(sim, i, 1000, 3 + 2000003u, &e, &err), NA64_OK);
    assert_rel(res->bkg[i].rate + 1e-300, e.rate + 1e-300, 1e-12);
    assert_true(res->bkg[i].passed == e.passed || i == NA64_SIM_BKG_NUNU);
    assert_rel(res->bkg[i].bound90 + 1e-300, e.bound90 + 1e-300, 1e-12);
  }
  na64_sim_free(sim);
  assert_true(res->bkg[NA64_SIM_BKG_TAIL].passed == 0 && res->bkg[NA64_SIM_BKG_DETECTOR].passed == 0);
  assert_rel(res->bkg_total, sum, 1e-12);
  assert_rel(res->limit_background, sum * 2.84e11, 1e-12);
  assert_rel(res->limit_background_error, sqrt(var) * 2.84e11, 1e-12);
  /* the ECAL-HCAL plane holds exactly the events passing every cut before the box (the last cut;
   * overflow in the last bins), the missing-energy spectrum those of them below the box's E_HCAL */
  uint64_t nplane = 0, nemiss = 0;
  for (int i = 0; i < NA64_PLANE_NY; ++i)
    for (int j = 0; j < NA64_PLANE_NX; ++j) nplane += res->accum.plane[i][j];
  for (int i = 0; i < NA64_EMISS_NBINS; ++i) nemiss += res->accum.emiss[i];
  assert_true(nplane > 0);
  assert_int_equal(nplane, f->events[NA64_CUTFLOW_ROWS - 2]);
  assert_true(nemiss >= f->events[NA64_CUTFLOW_ROWS - 1] && nemiss <= nplane);
  st = na64_job_write_report(res, card, na64_test_tmpdir, &err);
  if (st) fail_msg("%s", err.msg);
  char cmd[1024], *out = NULL;
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/ana/check_select_report.py' '%s' 2>&1", NA64_SOURCE_DIR,
           na64_test_tmpdir);
  int rc = na64_test_run(cmd, &out);
  if (rc != 0 || !strstr(out, "OK")) fail_msg("report check: %s", out ? out : "(no output)");
  free(out);
  job2 = res;
}

/* The same sample with 1 and 2 simulation threads: identical cut flows, bit for bit. */
static void test_job_thread_independent(void **state)
{
  (void)state;
  char card[512], card1[512];
  write_card(card, sizeof card);
  snprintf(card1, sizeof card1, "%s/card1.yaml", na64_test_tmpdir);
  FILE *fp = fopen(card1, "w");
  assert_non_null(fp);
  char *t = strdup(card_text);
  char *p = strstr(t, "threads: 2");
  p[9] = '1';
  fputs(t, fp);
  fclose(fp);
  free(t);
  na64_job_result *a = job2, *b = calloc(1, sizeof *b);
  job2 = NULL;
  na64_err err = {0};
  if (!a) { /* the first test did not get there: run the 2-thread job here */
    a = calloc(1, sizeof *a);
    assert_int_equal(na64_job_run(card, 0, a, NULL, NULL, &err), NA64_OK);
  }
  assert_int_equal(na64_job_run(card1, 0, b, NULL, NULL, &err), NA64_OK);
  for (int i = 0; i < NA64_CUTFLOW_ROWS; ++i) {
    assert_int_equal(a->accum.all.events[i], b->accum.all.events[i]);
    double x = na64_xsum_value(&a->accum.all.weighted[i]), y = na64_xsum_value(&b->accum.all.weighted[i]);
    assert_memory_equal(&x, &y, sizeof x);
  }
  assert_memory_equal(a->efficiency, b->efficiency, (size_t)a->nmass * sizeof(double));
  /* the Table 1 routes: the same doubles whatever the threads */
  assert_int_equal(a->bkg_n, b->bkg_n);
  assert_memory_equal(a->bkg, b->bkg, sizeof a->bkg);
  assert_memory_equal(&a->limit_background, &b->limit_background, sizeof a->limit_background);
  na64_job_result_release(a);
  na64_job_result_release(b);
  free(a);
  free(b);
}

/* A card error in the analysis: section names its place. */
static void test_job_card_error(void **state)
{
  (void)state;
  char card[512];
  snprintf(card, sizeof card, "%s/bad.yaml", na64_test_tmpdir);
  FILE *f = fopen(card, "w");
  assert_non_null(f);
  fputs("setup:\n  run: 2000\nanalysis:\n  eot: 1e11\n  evnts: 10\n", f);
  fclose(f);
  na64_job_result *res = calloc(1, sizeof *res);
  na64_err err = {0};
  assert_int_equal(na64_job_run(card, 0, res, NULL, NULL, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "bad.yaml:5:3:"));
  assert_non_null(strstr(err.msg, "unknown key 'evnts'"));
  na64_job_result_release(res);
  free(res);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_job_efficiency_and_report),
      cmocka_unit_test(test_job_thread_independent),
      cmocka_unit_test(test_job_card_error),
  };
  int rc = cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
  if (job2) { /* the thread test did not take it */
    na64_job_result_release(job2);
    free(job2);
  }
  return rc;
}
