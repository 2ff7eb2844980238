/* The waveform noise of the fast simulation's SADC digitisation, read back from the DATE data as a
 * user would (reader, SADC decoder, conditions pedestals): events without any energy, so every
 * channel is pedestal + noise (the noise library of src/sim/fast_digi.c: blocks of 16 samples with
 * Hadamard sign patterns, docs/simulation.md "Raw data"). The model
 * (docs/simulation.md, "Raw data"): sample = floor(ped + 1/2 + n), n ~ N(0, 1 count), independent
 * samples. Expected from the model alone, not from our output:
 *  - mean of sample - ped: 0 (the rounding of a Gaussian of sigma 1 is unbiased to ~1e-8:
 *    the Fourier terms of floor go as exp(-2 pi^2 sigma^2));
 *  - variance 1 + 1/12 (Sheppard's correction of the rounding, exact to the same order);
 *  - autocorrelation 0 at lags 1 to 16 (1-15: inside a library block of 16 and across two; 16: the
 *    same lane of the two blocks), and 0 between sample i of consecutive channels of an event;
 *  - |sample - ped| <= 5: the quantile table spans N(0, 1) over (i + 1/2)/4096, |z| < 3.49;
 *  - the tails: the number of samples with |sample - ped| >= 2.5, whose probability for pedestal p is
 *    Phi(-(ceil(p + 5/2) - p - 1/2)) + Phi(floor(p - 5/2) + 1/2 - p) (the rounding moves the boundaries
 *    to 2..3 sigma), summed over the samples: within 5 sqrt(expected) (Poisson) plus 3% of it: the
 *    12-bit quantile table gives each boundary's tail probability to 1/4096 (0.5/4096 at the worst
 *    boundary 2.5 against 0.0124: 2%; computed from the table with Python's statistics.NormalDist).
 * Tolerances otherwise: 5 standard errors of each estimator for the ~1.1e6 samples. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "na64/geom.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define NEV 300
#define NEV_EOR 6

/* The default setup on the run-2000 conditions of the build's database (no card needed). */
static na64_sim *make_sim(void)
{
  na64_sim_config c;
  na64_sim_config_default(&c);
  c.run = 2000;
  snprintf(c.conditions, sizeof c.conditions, "%s", DB);
  na64_err err = {0, ""};
  na64_sim *s = NULL;
  if (na64_sim_new(&c, &s, &err)) fail_msg("sim: %s", err.msg);
  return s;
}

#define NLAG 16
typedef struct moments {
  double n, s1, s2, lag[NLAG], tail, tail_expected;
  double cross, ncross; /* sample i of a waveform times sample i of the event's previous one */
  int maxdev;
} moments;

/* P(|floor(p + 1/2 + z) - p| >= 5/2) for z ~ N(0, 1) (header) */
static double tail_probability(double p)
{
  double hi = ceil(p + 2.5) - p - 0.5, lo = floor(p - 2.5) + 0.5 - p;
  return 0.5 * erfc(hi / M_SQRT2) + 0.5 * erfc(-lo / M_SQRT2);
}

/* One decoded waveform against the conditions' pedestals of its cell. */
static void add_waveform(moments *m, const na64_daq_sadc_waveform *w, double pe, double po, double *prev, int *nprev)
{
  m->tail_expected += 0.5 * w->nsamples * (tail_probability(pe) + tail_probability(po));
  double d[64];
  for (int i = 0; i < w->nsamples; ++i) {
    d[i] = w->samples[i] - ((i & 1) ? po : pe);
    m->n += 1.0;
    m->s1 += d[i];
    m->s2 += d[i] * d[i];
    m->tail += fabs(d[i]) >= 2.5; /* integer counts minus the pedestal: the values >= 3 counts away */
    if (fabs(d[i]) > m->maxdev) m->maxdev = (int)ceil(fabs(d[i]));
  }
  for (int l = 0; l < NLAG; ++l)
    for (int i = l + 1; i < w->nsamples; ++i) m->lag[l] += d[i] * d[i - l - 1];
  if (*nprev == w->nsamples)
    for (int i = 0; i < w->nsamples; ++i) {
      m->cross += d[i] * prev[i];
      m->ncross += 1.0;
    }
  memcpy(prev, d, (size_t)w->nsamples * sizeof *d);
  *nprev = w->nsamples;
}

static void test_noise_only_waveforms(void **state)
{
  (void)state;
  na64_sim *s = make_sim();
  na64_err err = {0, ""};
  na64_sim_digitizer *d = NULL;
  na64_daq_writer *w = NULL;
  assert_int_equal(na64_sim_digitizer_new(s, &d, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_open_memory(NULL, &w, &err), NA64_OK);
  static na64_sim_event ev;
  for (uint32_t i = 0; i < NEV; ++i) { /* no energy anywhere, not triggered (no counter pulses) */
    memset(&ev, 0, sizeof ev);
    ev.truth.event = i;
    ev.truth.energy = 100.0;
    assert_int_equal(na64_sim_digitize_write(d, &ev, 7, i, w, &err), NA64_OK);
  }
  void *data = NULL;
  size_t size = 0;
  assert_int_equal(na64_daq_writer_close_memory(w, &data, &size, &err), NA64_OK);
  na64_geom *g = NULL;
  assert_int_equal(na64_geom_load_path(DB, 2000, &g, &err), NA64_OK);
  na64_daq_reader *rd = NULL;
  assert_int_equal(na64_daq_reader_open_memory(data, size, "noise", NULL, &rd, &err), NA64_OK);
  static na64_daq_sadc_waveform wf[256];
  moments m = {0};
  na64_daq_event de;
  int nev = 0, nwf = 0;
  while (na64_daq_reader_next_event(rd, &de, &err) == NA64_OK) {
    size_t cur = 0;
    double prev[64];
    int nprev = 0;
    na64_daq_equipment eq;
    while (na64_daq_event_next_equipment(&de, &cur, &eq)) {
      if (eq.header.type != NA64_DAQ_EQ_SADC) continue;
      size_t n = 0;
      assert_int_equal(na64_daq_sadc_decode(&eq, wf, 256, &n, NULL, &err), NA64_OK);
      for (size_t k = 0; k < n; ++k) {
        const na64_geom_chan *ch = na64_geom_chan_lookup(g, eq.header.id, wf[k].port, 0, wf[k].channel);
        assert_non_null(ch);
        const na64_geom_cell *c = &g->cells[ch->cell];
        assert_true(c->has_calib[ch->section]);
        assert_int_equal(wf[k].nsamples, 32);
        add_waveform(&m, &wf[k], c->ped_even[ch->section], c->ped_odd[ch->section], prev, &nprev);
        ++nwf;
      }
    }
    ++nev;
  }
  assert_int_equal(nev, NEV);
  double mean = m.s1 / m.n, var = m.s2 / m.n - mean * mean, v0 = 1.0 + 1.0 / 12.0;
  double se_mean = sqrt(v0 / m.n), se_var = sqrt(2.0 * v0 * v0 / m.n); /* Gaussian-like 4th moment */
  printf("%d waveforms, %.0f samples: mean %.5f (se %.5f), variance %.5f (expected %.5f, se %.5f), "
         "|d| >= 2.5: %.0f (expected %.1f), max |d| %d\nautocorrelation at lags 1-16:",
         nwf, m.n, mean, se_mean, var, v0, se_var, m.tail, m.tail_expected, m.maxdev);
  for (int l = 0; l < NLAG; ++l) printf(" %.5f", m.lag[l] / (m.n - (l + 1.0) * nwf) / var);
  printf("; consecutive channels %.5f (%.0f pairs)\n", m.cross / m.ncross / var, m.ncross);
  assert_true(nwf > 100 * NEV); /* the 119 calorimeter, SRD, veto and counter channels of run 2000 */
  assert_true(fabs(mean) < 5.0 * se_mean);
  assert_true(fabs(var - v0) < 5.0 * se_var);
  for (int l = 0; l < NLAG; ++l) {
    double np = m.n - (l + 1.0) * nwf, r = m.lag[l] / np / var;
    if (!(fabs(r) < 5.0 / sqrt(np))) fail_msg("autocorrelation at lag %d: %g", l + 1, r);
  }
  double rc = m.cross / m.ncross / var;
  if (!(m.ncross > 0.9 * m.n && fabs(rc) < 5.0 / sqrt(m.ncross))) fail_msg("consecutive channels: correlation %g", rc);
  assert_true(m.maxdev <= 5);
  assert_true(fabs(m.tail - m.tail_expected) < 5.0 * sqrt(m.tail_expected) + 0.03 * m.tail_expected);
  na64_daq_reader_close(rd);
  na64_geom_free(g);
  free(data);
  na64_sim_digitizer_free(d);
  na64_sim_free(s);
}

/* The end-of-run check of `na64 reco` (src/reco/reco_file.c) on the digitiser's DATE files: a file
 * with its start-of-run event, NEV_EOR physics events and the end-of-run event counting them reads
 * without warning; the same file cut before its end-of-run event, cut inside its last physics
 * event, or with an end-of-run event counting more events than the file holds, reconstructs every
 * complete physics event and warns, naming the file and the counts. Expected numbers come from the
 * construction of the files (how many events were written and where they were cut), not from the
 * reconstruction. */
/* SOR, NEV_EOR triggered events, then EOR with count eor (no EOR if eor < 0), in memory; *last_start:
 * the byte offset where the last physics event starts (as the reader finds it). */
static void *make_file(na64_sim *s, long eor, size_t *size, size_t *last_start)
{
  na64_err err = {0, ""};
  na64_sim_digitizer *d = NULL;
  na64_daq_writer *w = NULL;
  na64_sim_worker *wk = NULL;
  assert_int_equal(na64_sim_digitizer_new(s, &d, &err), NA64_OK);
  assert_int_equal(na64_sim_worker_new(s, &wk, &err), NA64_OK);
  assert_int_equal(na64_daq_writer_open_memory(NULL, &w, &err), NA64_OK);
  assert_int_equal(na64_sim_write_run_mark(s, NA64_DAQ_START_OF_RUN, 0, w, &err), NA64_OK);
  na64_sim_event ev;
  uint32_t n = 0;
  for (uint64_t i = 0; n < NEV_EOR; ++i) {
    assert_int_equal(na64_sim_event_generate(wk, 9, i, 0, &ev, &err), NA64_OK);
    if (!ev.truth.triggered) continue;
    assert_int_equal(na64_sim_digitize_write(d, &ev, 9, n++, w, &err), NA64_OK);
  }
  if (eor >= 0) assert_int_equal(na64_sim_write_run_mark(s, NA64_DAQ_END_OF_RUN, (uint32_t)eor, w, &err), NA64_OK);
  void *buf = NULL;
  assert_int_equal(na64_daq_writer_close_memory(w, &buf, size, &err), NA64_OK);
  na64_daq_reader *r = NULL; /* where the last physics event starts */
  assert_int_equal(na64_daq_reader_open_memory(buf, *size, "eor", NULL, &r, &err), NA64_OK);
  na64_daq_event e;
  while (na64_daq_reader_next_event(r, &e, &err) == NA64_OK)
    if (e.header.type == NA64_DAQ_PHYSICS_EVENT) *last_start = (size_t)e.offset;
  na64_daq_reader_close(r);
  na64_sim_worker_free(wk);
  na64_sim_digitizer_free(d);
  return buf;
}

/* Write the first n bytes of buf as file `name` and reconstruct it. */
static na64_reco_summary reco_of(const char *name, const void *buf, size_t n, char *path, size_t cap)
{
  snprintf(path, cap, "%s/%s", na64_test_tmpdir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, n, f), n);
  fclose(f);
  char out[512];
  snprintf(out, sizeof out, "%s/%s.h5", na64_test_tmpdir, name);
  na64_reco_job job;
  na64_reco_job_default(&job);
  job.raw_path = path;
  job.out_path = out;
  job.db_path = DB;
  na64_reco_summary sum;
  na64_err err = {0, ""};
  if (na64_reco_file(&job, &sum, &err)) fail_msg("reco %s: %s", name, err.msg);
  printf("%s: %llu events, EOR %lld, warning: %s\n", name, (unsigned long long)sum.events, (long long)sum.eor_events,
         sum.warning[0] ? sum.warning : "(none)");
  return sum;
}

static void assert_mentions(const char *text, const char *what)
{
  if (!strstr(text, what)) fail_msg("warning \"%s\" does not mention \"%s\"", text, what);
}

static void test_end_of_run(void **state)
{
  (void)state;
  na64_sim *s = make_sim();
  size_t size = 0, last = 0, size_eor = 0, last_eor = 0;
  void *full = make_file(s, NEV_EOR, &size_eor, &last_eor);
  char path[512];
  /* complete: no warning */
  na64_reco_summary m = reco_of("complete.dat", full, size_eor, path, sizeof path);
  assert_int_equal(m.events, NEV_EOR);
  assert_int_equal(m.eor_events, NEV_EOR);
  assert_string_equal(m.warning, "");
  /* the same without its end-of-run event (the bytes before it): truncated */
  void *noeor = make_file(s, -1, &size, &last);
  assert_true(size < size_eor);
  m = reco_of("no_eor.dat", full, size, path, sizeof path);
  assert_int_equal(m.events, NEV_EOR);
  assert_int_equal(m.eor_events, -1);
  assert_mentions(m.warning, path);
  assert_mentions(m.warning, "no end-of-run event");
  assert_mentions(m.warning, "6 physics events read");
  /* cut inside the last physics event: the NEV_EOR - 1 complete events, truncated */
  m = reco_of("cut.dat", full, last + (size - last) / 2, path, sizeof path);
  assert_int_equal(m.events, NEV_EOR - 1);
  assert_mentions(m.warning, path);
  assert_mentions(m.warning, "no end-of-run event");
  assert_mentions(m.warning, "5 physics events read");
  /* an end-of-run event counting two more events than the file holds */
  void *more = make_file(s, NEV_EOR + 2, &size, &last);
  m = reco_of("lost.dat", more, size, path, sizeof path);
  assert_int_equal(m.events, NEV_EOR);
  assert_int_equal(m.eor_events, NEV_EOR + 2);
  assert_mentions(m.warning, path);
  assert_mentions(m.warning, "counts 8 physics events but 6 were read");
  free(full);
  free(noeor);
  free(more);
  na64_sim_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_noise_only_waveforms), cmocka_unit_test(test_end_of_run)};
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
