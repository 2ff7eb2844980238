/* The visible-mode selection and job (src/ana/vis_select.c, vis_job.c, vis_report.c; issue 12):
 * each cut at its published threshold on hand-made rows, the card's selection section, and the job on
 * a small sample: cut flows, beam electrons rejected, the efficiency-1 island against the
 * independent limit scan of `na64 limits --mode visible`, and the report read back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "support/na64_test.h"
#include "support/png_check.h"

#define DB NA64_BINARY_DIR "/conditions.db"

/* A signal-like row at 100 GeV: 5 GeV in the WCAL, 95 in the ECAL, two MIPs in S4 (2 x 2.175 MeV). */
static na64_vis_reco_event good_row(void)
{
  na64_vis_reco_event e;
  memset(&e, 0, sizeof e);
  e.wcal_energy = 5.0;
  e.ecal_energy = 95.0;
  e.preshower_energy = 2.0;
  e.ecal_shape_chi2 = 1.0;
  e.s4_energy = 2.0 * 2.175e-3;
  e.v2_energy = 0.0;
  e.vertex.z = NAN;
  return e;
}

static void test_cuts(void **state)
{
  (void)state;
  na64_vis_select_config c;
  na64_vis_select_config_default(&c);
  const unsigned all = (1u << NA64_VIS_NCUTS) - 1u;
  na64_vis_reco_event e = good_row();
  assert_int_equal(na64_vis_select_event(&c, &e), all);
  /* E_WCAL <= 0.1 E0 (NA64 report): 10.5 GeV fails the wall cut (and the ECAL one if the sum holds) */
  e.wcal_energy = 10.5, e.ecal_energy = 89.5;
  unsigned b = na64_vis_select_event(&c, &e);
  assert_false(b & (1u << NA64_VIS_CUT_WCAL));
  assert_false(b & (1u << NA64_VIS_CUT_ECAL));
  assert_true(b & (1u << NA64_VIS_CUT_ENERGY_SUM));
  /* E_WCAL + E_ECAL = E0: sigma = sqrt(0.18^2 5 + 0.1^2 80 + 1^2) = 1.44 GeV; 85 GeV is 10 sigma off */
  e = good_row();
  e.ecal_energy = 80.0;
  assert_false(na64_vis_select_event(&c, &e) & (1u << NA64_VIS_CUT_ENERGY_SUM));
  /* no energy in V2: one MIP fails, a quarter passes */
  e = good_row();
  e.v2_energy = 2.175e-3;
  assert_false(na64_vis_select_event(&c, &e) & (1u << NA64_VIS_CUT_V2));
  e.v2_energy = 0.25 * 2.175e-3;
  assert_true(na64_vis_select_event(&c, &e) & (1u << NA64_VIS_CUT_V2));
  /* S4: two MIPs; one or four fail */
  e = good_row();
  e.s4_energy = 2.175e-3;
  assert_false(na64_vis_select_event(&c, &e) & (1u << NA64_VIS_CUT_S4));
  e.s4_energy = 4.0 * 2.175e-3;
  assert_false(na64_vis_select_event(&c, &e) & (1u << NA64_VIS_CUT_S4));
  /* NaN fails; a disabled cut passes */
  e = good_row();
  e.ecal_shape_chi2 = NAN;
  assert_false(na64_vis_select_event(&c, &e) & (1u << NA64_VIS_CUT_SHAPE));
  c.enabled[NA64_VIS_CUT_SHAPE] = 0;
  assert_int_equal(na64_vis_select_event(&c, &e), all);
  /* two tracks when required */
  c.min_tracks = 2;
  e = good_row();
  assert_false(na64_vis_select_event(&c, &e) & (1u << NA64_VIS_CUT_TRACKS));
  e.vertex.resolved = 1;
  assert_true(na64_vis_select_event(&c, &e) & (1u << NA64_VIS_CUT_TRACKS));
  /* the cut flow is sequential */
  na64_vis_select_config_default(&c);
  na64_vis_cutflow f;
  memset(&f, 0, sizeof f);
  e = good_row();
  assert_int_equal(na64_vis_cutflow_fill(&f, &c, &e), 1);
  e.v2_energy = 1.0;
  assert_int_equal(na64_vis_cutflow_fill(&f, &c, &e), 0);
  assert_int_equal(f.events[0], 2);
  assert_int_equal(f.events[NA64_VIS_CUT_V2], 2);
  assert_int_equal(f.events[NA64_VIS_CUT_V2 + 1], 1);
  assert_int_equal(f.events[NA64_VIS_NCUTS], 1);
}

/* The selection section of the card: keys, apply, errors with file:line:col. */
static void test_card_section(void **state)
{
  (void)state;
  na64_vis_select_config c;
  na64_vis_select_config_default(&c);
  const char *text = "selection:\n  wcal_fraction_max: 0.2\n  apply: {v2: false}\n";
  na64_card *card = NULL;
  assert_int_equal(na64_card_parse(text, strlen(text), "c.yaml", &card, NULL), NA64_OK);
  assert_int_equal(na64_vis_select_config_read(card, &c, NULL), NA64_OK);
  assert_rel(c.wcal_fraction_max, 0.2, 1e-15);
  assert_int_equal(c.enabled[NA64_VIS_CUT_V2], 0);
  na64_card_free(card);
  const char *bad = "selection:\n  wcal_fraction_max: 0.2\n  s4_mips: 2\n";
  assert_int_equal(na64_card_parse(bad, strlen(bad), "b.yaml", &card, NULL), NA64_OK);
  na64_err err = {0, ""};
  assert_int_equal(na64_vis_select_config_read(card, &c, &err), NA64_EFORMAT);
  assert_non_null(strstr(err.msg, "b.yaml:3:"));
  na64_card_free(card);
}

static void write_card(char *path, size_t n)
{
  snprintf(path, n, "%s/vis.yaml", na64_test_tmpdir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "setup:\n  run: 2800\n  conditions: \"%s\"\nbeam:\n  energy: 100.0\n"
             "aprime:\n  mass_MeV: 10\n  epsilon: 3.0e-4\n  decay: ee\n"
             "analysis:\n  eot: 5.4e10\n  events: 300\n  signal_events: 400\n  seed: 2\n  masses_MeV: \"10\"\n"
             /* 20000 weighted events per Table 2 source (default 200000: two thirds of the job's CPU);
              * nothing below depends on the background's size (b ~ 2e-3 events either way) */
             "backgrounds:\n  events: 20000\n", DB);
  fclose(f);
}

/* The job on a small sample. Beam electrons leave E0 in the WCAL and none passes (E_WCAL <= 0.1 E0);
 * the cut flows never increase; the efficiency lies in (0.005, 0.9): the A' must carry >= 0.9 E0
 * (E_WCAL <= 0.1 E0) of the >= 0.1 E0 it is drawn with (at the lower edge the decaying A' are soft:
 * 1/E_A' of the decay probability), and S4 loses the Landau tail above 3 MIPs;
 * the island at efficiency 1 agrees with `na64 limits --mode visible` (na64_sens_curve_compute, its
 * own CLs root search) with E_A' >= NA64_VIS_EA_MIN_FRAC E0 on the same geometry within 1% (the bisection's and the
 * root finder's tolerances); the measured island lies inside it. The report files are read back. */
static void test_job(void **state)
{
  (void)state;
  char card[512];
  write_card(card, sizeof card);
  na64_vis_job_result res;
  na64_err err = {0, ""};
  if (na64_vis_job_run(card, 0, &res, NULL, NULL, &err)) fail_msg("%s", err.msg);
  assert_int_equal(res.background.events[0], 300);
  assert_int_equal(res.background.events[NA64_VIS_NCUTS], 0);
  assert_rel(res.background_upper_per_eot, 2.303 / 300, 1e-12);
  for (int i = 1; i <= NA64_VIS_NCUTS; ++i) {
    assert_true(res.signal.events[i] <= res.signal.events[i - 1]);
    assert_true(res.background.events[i] <= res.background.events[i - 1]);
  }
  assert_int_equal(res.nmass, 1);
  for (int k = 0; k < NA64_VIS_EFF_POINTS; ++k) assert_true(res.eff[0][k] > 0.005 && res.eff[0][k] < 0.9);
  na64_sens_options o;
  na64_sens_options_default(&o);
  assert_int_equal(na64_sens_options_from_run(&o, DB, 2800, 0, 0, NULL, 0, NULL), NA64_OK);
  o.eot = 5.4e10;
  o.ea_min = NA64_VIS_EA_MIN_FRAC * 100.0;
  double m = 0.010;
  na64_sens_curve cv = {&m, 1, NULL};
  if (na64_sens_curve_compute(&o, &cv, NULL, NULL, &err)) fail_msg("%s", err.msg);
  printf("# 10 MeV: eff-1 island %.4g - %.4g (limit scan %.4g - %.4g), measured %.4g - %.4g\n", res.eps_low_ideal[0],
         res.eps_high_ideal[0], cv.pt[0].eps_low, cv.pt[0].eps_high, res.eps_low[0], res.eps_high[0]);
  assert_rel(res.eps_low_ideal[0], cv.pt[0].eps_low, 0.01);
  assert_rel(res.eps_high_ideal[0], cv.pt[0].eps_high, 0.01);
  assert_true(res.eps_low[0] > res.eps_low_ideal[0] && res.eps_high[0] < res.eps_high_ideal[0]);
  free(cv.pt);
  if (na64_vis_job_write_report(&res, card, na64_test_tmpdir, &err)) fail_msg("%s", err.msg);
  char path[1024];
  snprintf(path, sizeof path, "%s/limit.csv", na64_test_tmpdir);
  na64_test_csv csv;
  na64_test_load_csv(path, &csv);
  assert_int_equal(csv.nrows, 1);
  assert_rel(csv.v[na64_test_csv_col(&csv, "eps_low")], res.eps_low[0], 1e-5);
  assert_rel(csv.v[na64_test_csv_col(&csv, "eps_high")], res.eps_high[0], 1e-5);
  na64_test_csv_free(&csv);
  /* the cut flow with Python's csv module: rows in the order of the cuts, counts as written */
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd,
           "python3 -c \"import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); "
           "print(len(r), r[0]['cut'], r[0]['background_events'], r[-1]['cut'], r[-1]['signal_events'])\" %s/cutflow.csv",
           na64_test_tmpdir);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  char expect[256];
  snprintf(expect, sizeof expect, "%d all 300 tracks %llu\n", NA64_VIS_NCUTS + 1,
           (unsigned long long)res.signal.events[NA64_VIS_NCUTS]);
  assert_string_equal(out, expect);
  free(out);
  snprintf(path, sizeof path, "%s/limit.png", na64_test_tmpdir);
  na64_test_check_png(path);
  na64_vis_job_result_release(&res);
}

/* `na64 run` dispatches a visible card to the visible job and writes the report. */
static void test_cli(void **state)
{
  (void)state;
  char card[512], cmd[2048];
  write_card(card, sizeof card);
  snprintf(cmd, sizeof cmd, "%s run %s --report-dir %s/rep 2>/dev/null", NA64_CLI_PATH, card, na64_test_tmpdir);
  char *out = NULL;
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_non_null(strstr(out, "island"));
  free(out);
  /* the page with Python's HTML parser: the island image and the cut-flow table with a row per cut */
  snprintf(cmd, sizeof cmd,
           "python3 -c \"import sys, html.parser as h\n"
           "class P(h.HTMLParser):\n"
           "  img=[]; rows=0\n"
           "  def handle_starttag(s, t, a):\n"
           "    if t == 'img': s.img.append(dict(a)['src'])\n"
           "    if t == 'tr': s.rows += 1\n"
           "p=P(); p.feed(open(sys.argv[1]).read()); print(p.img[0], p.rows)\" %s/rep/index.html",
           na64_test_tmpdir);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  char expect[64];
  /* cut-flow header + all + 8 cuts, efficiency header + 3 points, background header + sources + total */
  snprintf(expect, sizeof expect, "limit.svg %d\n",
           1 + 1 + NA64_VIS_NCUTS + 1 + NA64_VIS_EFF_POINTS + 1 + NA64_VIS_BKG_NSOURCES + 1);
  assert_string_equal(out, expect);
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cuts),
      cmocka_unit_test(test_card_section),
      cmocka_unit_test(test_job),
      cmocka_unit_test(test_cli),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
