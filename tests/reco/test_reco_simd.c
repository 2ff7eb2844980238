/* The vector forms of the calorimeter reconstruction (src/reco/calo.c: the start-time score on AVX,
 * the amplitude sums on AVX2, chosen at set-up from the CPU) against the portable forms: the same
 * simulated raw events reconstructed twice, once with the flags the CPU allows and once with them
 * cleared, must give every output of na64_reco_event to the bit (the vector forms do the same IEEE
 * operations in the same order, or exact integer sums, docs/reco.md §6). Tolerance: none. On a CPU
 * without AVX both passes take the portable forms and the test only checks the sample. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "reco/reco_internal.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define NEV 300

/* NEV simulated events of the default run 2000 card (beam admixture and all), every one digitised,
 * as DATE data in memory. */
static void *simulate(size_t *size)
{
  char text[512];
  snprintf(text, sizeof text, "setup: {run: 2000, conditions: \"%s\"}\n", DB);
  na64_sim_config c;
  na64_sim_config_default(&c);
  na64_err err = {0, ""};
  if (na64_sim_config_parse(text, strlen(text), "test.yaml", &c, &err)) fail_msg("card: %s", err.msg);
  na64_sim *s = NULL;
  na64_sim_worker *w = NULL;
  na64_sim_digitizer *d = NULL;
  na64_daq_writer *wr = NULL;
  if (na64_sim_new(&c, &s, &err) || na64_sim_worker_new(s, &w, &err) || na64_sim_digitizer_new(s, &d, &err) ||
      na64_daq_writer_open_memory(NULL, &wr, &err))
    fail_msg("setup: %s", err.msg);
  na64_sim_event ev;
  for (size_t i = 0; i < NEV; ++i)
    if (na64_sim_event_generate(w, 11, i, 1, &ev, &err) || na64_sim_digitize_write(d, &ev, 11, (uint32_t)i, wr, &err))
      fail_msg("simulate: %s", err.msg);
  void *data = NULL;
  assert_int_equal(na64_daq_writer_close_memory(wr, &data, size, &err), NA64_OK);
  na64_sim_digitizer_free(d);
  na64_sim_worker_free(w);
  na64_sim_free(s);
  return data;
}

static void test_vector_forms_bit_identical(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  size_t size = 0;
  void *data = simulate(&size);
  na64_geom *g = NULL;
  na64_reco *fast = NULL, *portable = NULL;
  if (na64_geom_load_path(DB, 2000, &g, &err) || na64_reco_new(g, &fast, &err) || na64_reco_new(g, &portable, &err))
    fail_msg("reco: %s", err.msg);
  portable->avx = portable->avx2 = 0;
  if (!fast->avx) print_message("no AVX on this CPU: both passes portable\n");
  int nf = 0;
  const na64_h5_field *f = na64_reco_event_fields(&nf);
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(data, size, "sim", NULL, &rd, &err), NA64_OK);
  na64_daq_event ev;
  size_t n = 0, timed = 0, srd_timed = 0;
  while (na64_daq_reader_next_event(rd, &ev, &err) == NA64_OK) {
    if (ev.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    na64_reco_event a, b;
    assert_int_equal(na64_reco_process(fast, &ev, &a, &err), NA64_OK);
    assert_int_equal(na64_reco_process(portable, &ev, &b, &err), NA64_OK);
    for (int k = 0; k < nf; ++k) {
      size_t len = f[k].type == NA64_H5_I32 ? 4 : 8;
      if (memcmp((const char *)&a + f[k].offset, (const char *)&b + f[k].offset, len))
        fail_msg("event %zu: %s differs between the vector and the portable forms", n, f[k].name);
    }
    assert_string_equal(na64_reco_last_message(fast), na64_reco_last_message(portable));
    timed += a.ecal_energy > 10.0;       /* an ECAL pulse far above the 10-sigma threshold: a time fit */
    srd_timed += isfinite(a.srd_time); /* the SRD time fit ran */
    ++n;
  }
  assert_int_equal(n, NEV);
  /* the sample exercises both fits (the default beam: ~100 GeV electrons in the ECAL, SRD light) */
  assert_true(timed > NEV / 2);
  assert_true(srd_timed > NEV / 2);
  na64_daq_reader_close(rd);
  free(data);
  na64_reco_free(fast);
  na64_reco_free(portable);
  na64_geom_free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vector_forms_bit_identical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
