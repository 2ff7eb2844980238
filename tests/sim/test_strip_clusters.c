/* The strip clusters of the simulated Micromegas and GEM planes (branch visstrip, docs/simulation.md
 * "Strip response (mmres)"): the size, charge and multiplicity of the clusters that the reconstruction
 * finds in the DATE output (APV decoding -> channel map -> na64_strip_cluster_find), against a Monte
 * Carlo of the strip model written independently of src/sim/fast_digi.c (the model of
 * tests/sim/test_strip_resolution.c: libm erf for every strip of the +-4 sigma window, Box-Muller
 * noise per strip, its own random numbers):
 *   - charge q = 400 (1 + 0.15 lambda), lambda = -ln z^2 (Moyal), |z| >= 3.06e-4;
 *   - centroid offsets of the primary electrons and of the delta electron, as in that test;
 *   - the cloud: a Gaussian of variance D_T^2 (L/2 + L_t) + s_R^2 over the strips floor(s0 - 4 sigma) ..
 *     ceil(s0 + 4 sigma), a strip's middle sample q f + 5 N(0, 1), kept at >= 15 counts (3 sigma);
 *   - a cluster: a run of adjacent kept strips; its charge the sum of the rounded middle samples.
 * Measured on the four planes of the 2017 visible card in front of the magnets (MM01X, MM01Y at normal
 * incidence, no material in front of MM01; GM01X, GM01Y), 1500 beam electrons: the mean size of the
 * largest cluster, the fractions of sizes 1..7, the mean and median charge of the largest cluster, the
 * fraction of crossings with more than one cluster, the fired strips per crossing.
 * Tolerances: statistical, for ~2800 crossings per kind: the mean size to 3% (its rms ~1 strip:
 * 0.02/3.6 = 0.6% standard error, 5 of them, plus the model's own 1e5-crossing error), the size
 * fractions to 4 binomial standard errors of the simulation plus 0.005, the mean charge to 2% (the
 * Moyal tail: rms ~140 counts, 0.6% standard error), the median charge to 3%; the fraction of split
 * crossings (a noise strip next to the cloud's tail: ~1%) to 4 binomial standard errors plus 0.003. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"
#include "support/vis_chain.h"
#include "support/strip_residual.h"
#include "support/strip_model.h"

enum { NSIZE = 8 }; /* sizes 1..7, and >= 8 in the last bin */

typedef struct stats {
  double n;              /* crossings with a cluster */
  double size[NSIZE + 1];
  double size_sum, q_sum, split, fired;
  double *q;             /* charges of the largest clusters, for the median */
  int nq, capq;
} stats;

static void stats_add(stats *s, int size, double q, int nclusters, int nfired)
{
  s->n += 1.0;
  s->size[size < NSIZE ? size : NSIZE] += 1.0;
  s->size_sum += size;
  s->q_sum += q;
  s->split += nclusters > 1;
  s->fired += nfired;
  if (s->nq == s->capq) {
    s->capq = s->capq ? 2 * s->capq : 4096;
    s->q = realloc(s->q, (size_t)s->capq * sizeof *s->q);
    assert_non_null(s->q);
  }
  s->q[s->nq++] = q;
}

static double median_of(stats *s)
{
  qsort(s->q, (size_t)s->nq, sizeof *s->q, cmp_double_asc);
  return s->q[s->nq / 2];
}

/* n crossings of model m (at efficiency 1) into s */
static void model_clusters(const model *m, int n, stats *s)
{
  for (int i = 0; i < n; ++i) {
    model_crossing c;
    model_cross(m, &c);
    int nfired = 0, ncl = 0, best_n = 0;
    double best = 0.0;
    for (int k = c.lo; k <= c.hi; ++k) nfired += c.fired[k - c.lo];
    for (int k = c.lo; k <= c.hi;) {
      if (!c.fired[k - c.lo]) {
        ++k;
        continue;
      }
      double sq = 0.0;
      int len = 0;
      for (; k <= c.hi && c.fired[k - c.lo]; ++k) sq += c.a[k - c.lo], ++len;
      ++ncl;
      if (sq > best) best = sq, best_n = len;
    }
    if (ncl) stats_add(s, best_n, best, ncl, nfired);
  }
}

/* The clusters of plane `plane` in a raw event: the largest one into s. */
static void sim_clusters(const na64_geom *g, const na64_daq_event *ev, int plane, stats *s)
{
  na64_strip_cluster cl[512];
  size_t nc = 0, nh = 0;
  plane_clusters(g, ev, plane, cl, &nc, &nh);
  size_t best = 0;
  for (size_t k = 1; k < nc; ++k)
    if (cl[k].q > cl[best].q) best = k;
  if (nc) stats_add(s, cl[best].n, cl[best].q, (int)nc, (int)nh);
}

static void report(const char *what, stats *sim, stats *mod)
{
  double ms = median_of(sim), mm = median_of(mod);
  print_message("%s: %.0f crossings; largest cluster: size %.3f (model %.3f), charge mean %.1f (%.1f) median %.1f (%.1f); "
                "split %.4f (%.4f); fired strips %.3f (%.3f)\n",
                what, sim->n, sim->size_sum / sim->n, mod->size_sum / mod->n, sim->q_sum / sim->n, mod->q_sum / mod->n, ms, mm,
                sim->split / sim->n, mod->split / mod->n, sim->fired / sim->n, mod->fired / mod->n);
  print_message("  sizes 1..7, >=8: sim");
  for (int k = 1; k <= NSIZE; ++k) print_message(" %.4f", sim->size[k] / sim->n);
  print_message("\n                    model");
  for (int k = 1; k <= NSIZE; ++k) print_message(" %.4f", mod->size[k] / mod->n);
  print_message("\n");
  assert_true(fabs(sim->size_sum / sim->n / (mod->size_sum / mod->n) - 1.0) < 0.03);
  for (int k = 1; k <= NSIZE; ++k) {
    double p = sim->size[k] / sim->n, pm = mod->size[k] / mod->n;
    assert_true(fabs(p - pm) < 4.0 * sqrt(pm * (1.0 - pm) / sim->n) + 0.005);
  }
  assert_true(fabs(sim->q_sum / sim->n / (mod->q_sum / mod->n) - 1.0) < 0.02);
  assert_true(fabs(ms / mm - 1.0) < 0.03);
  double ps = mod->split / mod->n;
  assert_true(fabs(sim->split / sim->n - ps) < 4.0 * sqrt(ps * (1.0 - ps) / sim->n) + 0.003);
  free(sim->q);
  free(mod->q);
}

static void test_strip_clusters(void **state)
{
  (void)state;
  enum { N = 1500 };
  na64_vis_config cfg;
  vis_load_card("visible_2017.yaml", &cfg);
  na64_vis_sim *s = NULL;
  na64_vis_digitizer *d = NULL;
  na64_vis_reco *r = NULL;
  vis_chain_open(&cfg, &s, &d, &r);
  const na64_geom *g = na64_vis_sim_geom(s);
  const int pl[4] = {plane_index_of(g, "MM01X"), plane_index_of(g, "MM01Y"), plane_index_of(g, "GM01X"),
                     plane_index_of(g, "GM01Y")};
  na64_vis_sim_event *truth = calloc(N, sizeof *truth);
  assert_non_null(truth);
  void *buf = NULL;
  na64_daq_reader *rd = NULL;
  vis_beam_events(s, d, 97, N, truth, &buf, &rd);
  stats smm = {0}, sgem = {0}, mmm = {0}, mgem = {0};
  na64_daq_event de;
  for (int k = 0; k < N && na64_daq_reader_next_event(rd, &de, NULL) == NA64_OK; ++k)
    for (int i = 0; i < 4; ++i) sim_clusters(g, &de, pl[i], i < 2 ? &smm : &sgem);
  na64_daq_reader_close(rd);
  free(buf);
  free(truth);
  vis_chain_close(s, d, r);
  assert_true(smm.n > 2 * N * 0.9 && sgem.n > 2 * N * 0.9); /* efficiency 0.95 */
  sm_state = 4242;
  const model mm = {0.025, 0.5, 0.0, 0.028, 1.06}, gem = {0.04, 0.3, 0.6, 0.0, 0.62};
  model_clusters(&mm, 100000, &mmm);
  model_clusters(&gem, 100000, &mgem);
  report("Micromegas (MM01X, MM01Y)", &smm, &mmm);
  report("GEM (GM01X, GM01Y)", &sgem, &mgem);
}

/* The APV payload that the digitiser writes straight into the event (fast_digi.c apv_sink) is the
 * payload na64_daq_apv_encode makes of the same hits: every APV block of 300 signal and beam events
 * decoded and encoded again, word for word; every block's chips in increasing order, its hits in
 * increasing channel order within a chip (the order of the strips), no empty block. */
static void test_apv_words_as_encoder(void **state)
{
  (void)state;
  enum { N = 300 };
  na64_vis_config cfg;
  vis_load_card("visible_2017.yaml", &cfg);
  na64_vis_sim *s = NULL;
  na64_vis_digitizer *d = NULL;
  na64_vis_reco *r = NULL;
  vis_chain_open(&cfg, &s, &d, &r);
  na64_vis_sim_event *truth = calloc(N, sizeof *truth);
  assert_non_null(truth);
  void *buf = NULL;
  size_t len = 0;
  vis_chain_simulate(s, d, 5, N, 3, truth, &buf, &len);
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(buf, len, "vis", NULL, &rd, NULL), NA64_OK);
  static na64_daq_apv_hit apv[4096];
  static uint32_t words[3 * 4096];
  na64_daq_event de;
  size_t blocks = 0, hits = 0;
  for (int k = 0; k < N && na64_daq_reader_next_event(rd, &de, NULL) == NA64_OK; ++k) {
    size_t cur = 0;
    na64_daq_equipment eq;
    while (na64_daq_event_next_equipment(&de, &cur, &eq)) {
      if (eq.header.type != NA64_DAQ_EQ_APV) continue;
      size_t got = 0, nw = 0;
      assert_int_equal(na64_daq_apv_decode(&eq, k & 0xFFF, apv, 4096, &got, NULL, NULL), NA64_OK);
      assert_true(got > 0);
      for (size_t i = 1; i < got; ++i)
        assert_true(apv[i].chip > apv[i - 1].chip || (apv[i].chip == apv[i - 1].chip && apv[i].channel > apv[i - 1].channel));
      assert_int_equal(na64_daq_apv_encode(apv, got, (uint32_t)k, words, 3 * 4096, &nw, NULL), NA64_OK);
      assert_int_equal(nw, eq.nwords);
      assert_memory_equal(words, eq.words, nw * sizeof *words);
      ++blocks, hits += got;
    }
  }
  print_message("%zu APV blocks, %zu hits: the encoder's words\n", blocks, hits);
  assert_true(blocks > N);
  na64_daq_reader_close(rd);
  free(buf);
  free(truth);
  vis_chain_close(s, d, r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_strip_clusters), cmocka_unit_test(test_apv_words_as_encoder)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
