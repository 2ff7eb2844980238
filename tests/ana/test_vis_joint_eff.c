/* The selection efficiency of the pseudoscalar X17 against the vector's at the same (m, eps, E_X)
 * (issue 12, branch psjoint; docs/validation.md "Pseudoscalar and vector together (psjoint)").
 *
 * The selection sees the e+e- pair of a decay in the decay region and the WCAL's energy E0 - E_X: once
 * the X's energy E_X and the decay point are given, nothing in it depends on the X's spin but the
 * pair's angular distribution in the X frame, and at 100-150 GeV the pair opens ~2 m/E_X ~ 0.3 mrad
 * (docs/visible.md), one cluster in the ECAL and no track requirement (min_tracks 0). So the
 * efficiency in bins of x = E_X/E0 must be the same for both couplings (within the binomial errors
 * and a 0.04 allowance for the decay position, whose distribution in the region differs: the
 * pseudoscalar lives 1.5x shorter, PRD 104 (2021) L111102; docs/visible.md "Pseudoscalar X17"); the
 * difference of the measured efficiencies at one eps is then the spectrum of the decaying X alone,
 * which is harder for the pseudoscalar (exact d sigma/dx, tests/sim/test_vis_signal.c). Both cards,
 * the X17 mass, eps = 2.6e-4 (the middle of PRD 104's 2.1e-4 - 3.2e-4), every event through the DATE
 * digitisation and the reconstruction as in `na64 run` (src/ana/vis_job.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/io.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"
#include "support/vis_chain.h"

#define NBIN 5
static const double xedge[NBIN + 1] = {0.1, 0.3, 0.5, 0.7, 0.9, 1.0001};

typedef struct bins {
  int n[NBIN], pass[NBIN], all, all_pass;
  double xsum;
} bins;

/* n signal events of the card at (m, eps) with mediator med through simulation, DATE, reconstruction
 * and the card's selection, binned in the true x = E_X / E0 of the card */
static void measure(const char *card, int med, double m, double eps, int n, bins *b)
{
  na64_vis_config c;
  vis_load_card(card, &c);
  c.aprime_mass = m;
  c.aprime_eps = eps;
  c.mediator = med;
  char path[1024];
  snprintf(path, sizeof path, "%s/configs/%s", NA64_SOURCE_DIR, card);
  na64_card *cd = NULL;
  na64_err err = {0, ""};
  if (na64_card_load(path, &cd, &err)) fail_msg("%s", err.msg);
  na64_vis_select_config sel;
  na64_vis_select_config_default(&sel);
  if (na64_vis_select_config_read(cd, &sel, &err)) fail_msg("%s", err.msg);
  na64_card_free(cd);
  sel.beam_energy = c.beam_energy; /* as the job (src/ana/vis_job.c load) */
  sel.momentum_spread = c.momentum_spread;
  sel.wcal_stochastic = c.wcal_stochastic;
  sel.ecal_stochastic = c.ecal_stochastic;
  na64_vis_sim *s = NULL;
  na64_vis_digitizer *d = NULL;
  na64_vis_reco *r = NULL;
  vis_chain_open(&c, &s, &d, &r);
  na64_vis_sim_event *truth = calloc((size_t)n + 1, sizeof *truth);
  assert_non_null(truth);
  void *buf = NULL;
  size_t len = 0;
  vis_chain_simulate(s, d, 77, n + 1, n + 2, truth, &buf, &len); /* event 0 a beam electron, 1..n signal */
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(buf, len, "joint", NULL, &rd, NULL), NA64_OK);
  memset(b, 0, sizeof *b);
  for (int i = 0; i <= n; ++i) {
    na64_daq_event de;
    assert_int_equal(na64_daq_reader_next_event(rd, &de, NULL), NA64_OK);
    na64_vis_reco_event re;
    if (na64_vis_reco_process(r, &de, &re, &err)) fail_msg("%s", err.msg);
    if (i == 0) continue;
    na64_vis_cutflow f;
    memset(&f, 0, sizeof f);
    int ok = na64_vis_cutflow_fill(&f, &sel, &re);
    double x = truth[i].aprime_energy / c.beam_energy;
    b->all++;
    b->all_pass += ok;
    b->xsum += x;
    for (int k = 0; k < NBIN; ++k)
      if (x >= xedge[k] && x < xedge[k + 1]) b->n[k]++, b->pass[k] += ok;
  }
  na64_daq_reader_close(rd);
  free(buf);
  free(truth);
  vis_chain_close(s, d, r);
}

static void compare(const char *card)
{
  const double m = 0.0167, eps = 2.6e-4;
  const int n = 2500;
  bins v, p;
  measure(card, NA64_MED_VECTOR, m, eps, n, &v);
  measure(card, NA64_MED_PSEUDOSCALAR, m, eps, n, &p);
  printf("# %s, 16.7 MeV, eps 2.6e-4: efficiency vector %.3f pseudoscalar %.3f; mean x of the decaying X "
         "vector %.3f pseudoscalar %.3f\n", card, (double)v.all_pass / v.all, (double)p.all_pass / p.all,
         v.xsum / v.all, p.xsum / p.all);
  printf("# x bin      n_V  eff_V  n_P  eff_P  (P - V)/sigma\n");
  int compared = 0;
  for (int k = 0; k < NBIN; ++k) {
    double ev = v.n[k] ? (double)v.pass[k] / v.n[k] : NAN, ep = p.n[k] ? (double)p.pass[k] / p.n[k] : NAN;
    double sg = (v.n[k] && p.n[k]) ? sqrt(ev * (1 - ev) / v.n[k] + ep * (1 - ep) / p.n[k]) : NAN;
    printf("# %.1f-%.1f  %5d %.3f %5d %.3f  %+.1f\n", xedge[k], fmin(xedge[k + 1], 1.0), v.n[k], ev, p.n[k], ep,
           sg > 0 ? (ep - ev) / sg : 0.0);
    if (v.n[k] < 100 || p.n[k] < 100) continue;
    compared++;
    assert_true(fabs(ep - ev) < 4.0 * sg + 0.04);
  }
  assert_true(compared >= 2);
  /* the decaying pseudoscalar carries more of E0 (harder exact spectrum, shorter life) */
  assert_true(p.xsum / p.all > v.xsum / v.all);
}

static void test_same_ex_2017(void **state)
{
  (void)state;
  compare("visible_2017.yaml");
}

static void test_same_ex_2018(void **state)
{
  (void)state;
  compare("visible_2018.yaml");
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_same_ex_2017), cmocka_unit_test(test_same_ex_2018)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
