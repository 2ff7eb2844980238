/* The visible-mode reconstruction (src/reco/vis_reco.c, issue 12) on simulated DATE events of the
 * 2017 card: simulation -> digitisation -> DATE reader -> na64_vis_reco_process. The energies come
 * back within the noise of the waveforms (1 ADC count per sample; each assertion states its
 * tolerance), the vertex of the pair at the simulated decay point within its stated error. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"

static void test_chain(void **state)
{
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/configs/visible_2017.yaml", NA64_SOURCE_DIR);
  na64_vis_config c;
  na64_vis_config_default(&c);
  na64_err err = {0, ""};
  if (na64_vis_config_load(path, &c, &err)) fail_msg("%s", err.msg);
  snprintf(c.conditions, sizeof c.conditions, "%s", DB);
  /* the proposal's case for the straws: at 30 GeV a 50 MeV A' opens >= 2 m / E = 3.3 mrad (at 100 GeV
   * and 16.7 MeV the pair opens ~0.3 mrad and is one track, docs/visible.md); eps 3e-5 puts the
   * decays (gamma c tau ~ 1 m) into the decay volume */
  c.beam_energy = 30.0;
  c.aprime_mass = 0.050;
  c.aprime_eps = 3e-5;
  na64_vis_sim *s = NULL;
  na64_vis_digitizer *d = NULL;
  na64_vis_reco *r = NULL;
  if (na64_vis_sim_new(&c, &s, &err)) fail_msg("%s", err.msg);
  assert_int_equal(na64_vis_digitizer_new(s, &d, NULL), NA64_OK);
  if (na64_vis_reco_new(na64_vis_sim_geom(s), &r, &err)) fail_msg("%s", err.msg);
  const int n = 300;
  int resolved = 0, inside = 0;
  for (int i = 0; i < n; ++i) {
    int signal = i % 3 != 0;
    na64_vis_sim_event ev;
    assert_int_equal(na64_vis_sim_event_generate(s, 21, (uint64_t)i, signal, &ev, NULL), NA64_OK);
    na64_daq_writer *w = NULL;
    void *buf = NULL;
    size_t len = 0;
    assert_int_equal(na64_daq_writer_open_memory(NULL, &w, NULL), NA64_OK);
    assert_int_equal(na64_vis_digitize_write(d, &ev, 21, (uint32_t)i, w, NULL), NA64_OK);
    assert_int_equal(na64_daq_writer_close_memory(w, &buf, &len, NULL), NA64_OK);
    na64_daq_reader *rd = NULL;
    na64_daq_event de;
    assert_int_equal(na64_daq_reader_open_memory(buf, len, "vis", NULL, &rd, NULL), NA64_OK);
    assert_int_equal(na64_daq_reader_next_event(rd, &de, NULL), NA64_OK);
    na64_vis_reco_event re;
    assert_int_equal(na64_vis_reco_process(r, &de, &re, &err), NA64_OK);
    na64_daq_reader_close(rd);
    free(buf);
    assert_int_equal(re.flags & NA64_RECO_DECODE_ERROR, 0);
    double wt = ev.wcal[0] + ev.wcal[1] + ev.wcal[2];
    /* WCAL: three sections of gain 0.03 GeV/count, template amplitude noise 0.57 count each (0.03 GeV
     * summed); the fixed in-time template loses 0.09% of the amplitude at 1 ns of trigger jitter and
     * 0.7% at 3 ns (3 sigma): within 0.15 GeV + 1% */
    assert_true(fabs(re.wcal_energy - wt) < 0.15 + 0.01 * wt);
    /* ECAL: the reconstruction's template fit of 72 cells, noise ~0.02 GeV each for gain 0.03: within
     * 1 GeV + 1% of the simulated cells' sum */
    double et = 0.0;
    for (int k = 0; k < NA64_SIM_ECAL_SECTIONS; ++k)
      for (int j = 0; j < NA64_SIM_MAX_ECAL; ++j) et += ev.ecal[k][j];
    assert_true(fabs(re.ecal_energy - et) < 1.0 + 0.01 * et);
    /* S4: gain 2e-5 GeV per count (conditions DB): a MIP of 2.2 MeV is 110 counts, the noise ~1.3
     * counts: within 0.1 MeV */
    assert_true(fabs(re.s4_energy - ev.s4) < 1e-4);
    assert_true(fabs(re.v2_energy - ev.v2) < 1e-4);
    if (signal && re.vertex.resolved && isfinite(re.vertex.z)) {
      ++resolved;
      inside += fabs(re.vertex.z - ev.decay[2]) < 4.0 * re.vertex.sigma_z;
    }
    if (!signal) assert_false(re.vertex.resolved);
  }
  printf("# %d of %d signal events resolved, %d with the vertex within 4 sigma_z\n", resolved, 2 * n / 3, inside);
  /* at >= 3.3 mrad the pair is resolved in ~90% of the signal events (tests/reco/test_vis_vertex.c:
   * >= 99% from 2 mrad for a symmetric pair; asymmetric decays of the same mass open wider), the vertex
   * within 4 sigma_z of the truth in >= 90% of them (Gaussian: 99.99%; ghost lines from hits the two
   * tracks share in the 6 mm straws make a few outliers). The resolved share measured in 2000 signal
   * events (n = 3000, visfit2, 2026-12-07): 89.4% with the decay region of psjoint (1534.5-1644.5 cm),
   * 88.3% with visfit2's (1533.0-1624.0 cm, S4 20 cm nearer the WCAL); the 200 here gave 184 and 178, so
   * the bound is 81%, 3 binomial sigma (3 x 2.3%) below the measured share: another random stream
   * fails it in ~0.1% of cases, a broken pair finding (a share near 0, or the ~50% of one merged
   * track) always. */
  assert_true(resolved >= 0.81 * (2 * n / 3));
  assert_true(inside >= 0.9 * resolved);
  na64_vis_reco_free(r);
  na64_vis_digitizer_free(d);
  na64_vis_sim_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
