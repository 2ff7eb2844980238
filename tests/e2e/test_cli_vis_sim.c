/* `na64 sim` on a visible card (issue 12; docs/visible.md "na64 sim on a visible card"): every event
 * of the run goes to the DATE file and the truth table.
 * - --threads 1 and 2 give the same DATE file, byte for byte (cmp), and the same truth rows (h5py).
 * - --part K/N and mpirun ranks: the serial run's events (test_truth_parts and below).
 * - The truth, read with h5py: one row per event, the --signal fraction of A' -> e+e- events; each
 *   A' carries >= 0.1 E0 (the sampler's range, NA64_VIS_EA_MIN_FRAC), decays inside the 2017 decay
 *   region (15.0 cm behind the WCAL's back face at z = 1519.5 cm, 110 cm long:
 *   sql/setups/20_visible_2017.sql), its e+ and e- share its energy exactly, and the WCAL holds the
 *   rest of the beam energy (tolerance 1% of E0: the shower's leak behind the WCAL); a beam e- leaves
 *   >= 99% of E0 in the 33.6 X0 WCAL and nothing in S4.
 * - `na64 reco` reads the DATE file like real data: one row per event, and its ECAL energy is the
 *   simulated deposit within 5% on average (the calibration inverts the pulse model; the events'
 *   spread is the sampling and noise of the ECAL, ~1%).
 * - The visible reconstruction (na64_vis_reco_process) on the file's events finds the WCAL energy of
 *   the truth (sum of the sections' visible energies) within 3 sigma of the ADC noise plus 1%
 *   (the pulse fit's bias on saturated channels is the excluded case) and the two MIPs of a pair in S4.
 * 200 events: the test checks the chain, not statistics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/daq.h"
#include "na64/io.h"
#include "na64/reco.h"
#include "na64/sim.h"
#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define PY "/usr/bin/python3"
#define NEV 200
#define NEVS "200"

static int sh(const char *args, char **out)
{
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "cd '%s' && %s 2>&1", na64_test_tmpdir, args);
  return na64_test_run(cmd, out);
}

static void sh_ok(const char *args)
{
  char *out = NULL;
  if (sh(args, &out)) fail_msg("%s: %s", args, out);
  free(out);
}

static int setup(void **state)
{
  if (na64_test_setup_tmpdir(state)) return -1;
  char path[512];
  snprintf(path, sizeof path, "%s/card.yaml", na64_test_tmpdir);
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fprintf(f, "setup:\n  run: 2800\n  conditions: \"%s\"\nbeam:\n  energy: 100.0\n"
             "aprime:\n  mass_MeV: 16.7\n  epsilon: 2.0e-4\n  decay: ee\n", DB);
  fclose(f);
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd,
           "'%s' sim card.yaml --events %d --seed 3 --signal 0.5 --threads 1 --out raw1.dat --truth truth1.h5 && "
           "'%s' sim card.yaml --events %d --seed 3 --signal 0.5 --threads 2 --out raw2.dat --truth truth2.h5 && "
           "'%s' sim card.yaml --events %d --seed 3 --signal 0.5 --part 0/2 --out p.dat --truth p.h5 && "
           "'%s' sim card.yaml --events %d --seed 3 --signal 0.5 --part 1/2 --out p.dat --truth p.h5 && "
           "'%s' sim card.yaml --events %d --seed 3 --signal 0.5 --part 1/2 --threads 2 --out t.dat --truth t.h5",
           NA64_CLI_PATH, NEV, NA64_CLI_PATH, NEV, NA64_CLI_PATH, NEV, NA64_CLI_PATH, NEV, NA64_CLI_PATH, NEV);
  int rc = sh(cmd, &out);
  if (rc) fprintf(stderr, "%s\n", out);
  free(out);
  return rc;
}

static void test_threads_identical(void **state)
{
  (void)state;
  /* the DATE files byte for byte; the truth rows byte for byte (h5py: the HDF5 files themselves
   * carry their creation times) */
  sh_ok("cmp raw1.dat raw2.dat && " PY " -c \"import h5py\n"
        "a, b = (h5py.File(f, 'r')['truth'] for f in ('truth1.h5', 'truth2.h5'))\n"
        "assert a.dtype == b.dtype and a[()].tobytes() == b[()].tobytes()\n"
        "assert dict(a.attrs) == dict(b.attrs)\"");
}

static void test_truth_h5py(void **state)
{
  (void)state;
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           PY " -c \"import h5py, numpy as np\n"
           "d = h5py.File('truth1.h5', 'r')['truth']\n"
           "a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in d.attrs.items()}\n"
           "assert a['mode'] == 'visible' and a['seed'] == '3', a\n"
           "t = d[()]\n"
           "assert len(t) == %d and (t['event'] == np.arange(%d)).all()\n"
           "s = t['signal'] == 1\n"
           "assert s.sum() == %d, s.sum()\n"
           "E = t['beam_energy']\n"
           "assert (t['aprime_energy'][s] >= 0.1 * E[s]).all()\n"
           "z = t['decay_z'][s]\n"
           "assert (z >= 1519.5 + 13.5 - 1e-6).all() and (z <= 1519.5 + 13.5 + 91.0 + 1e-6).all(), (z.min(), z.max())\n"
           "assert np.allclose(t['e_minus_energy'][s] + t['e_plus_energy'][s], t['aprime_energy'][s], rtol=1e-12)\n"
           "assert (abs(t['true_wcal'] + t['aprime_energy'] - E) <= 0.01 * E).all()\n"
           "assert (t['true_wcal'][~s] >= 0.99 * E[~s]).all() and (t['n_s4'][~s] == 0).all()\n"
           "assert (t['aprime_energy'][~s] == 0).all() and np.isnan(t['depth_x0'][~s]).all()\n"
           "print('ok')\"",
           NEV, NEV, NEV / 2);
  sh_ok(cmd);
}

static void test_reco_reads(void **state)
{
  (void)state;
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "'%s' reco raw1.dat --out ev.h5 --db '%s' && " PY " -c \"import h5py, numpy as np\n"
           "e = h5py.File('ev.h5', 'r')['events'][()]\n"
           "t = h5py.File('truth1.h5', 'r')['truth'][()]\n"
           "assert len(e) == %d and (e['event'] == t['event']).all()\n"
           "m = t['true_ecal'] > 10\n"
           "r = e['ecal_energy'][m] / t['true_ecal'][m]\n"
           "assert m.sum() >= %d and abs(r.mean() - 1) < 0.05, (m.sum(), r.mean())\n"
           "print('ok')\"",
           NA64_CLI_PATH, DB, NEV, NEV / 4);
  sh_ok(cmd);
}

/* the visible reconstruction of the DATE events against the truth rows (read with the io reader) */
static void test_vis_reco(void **state)
{
  (void)state;
  char path[1024];
  na64_err err = {0, ""};
  snprintf(path, sizeof path, "%s/truth1.h5", na64_test_tmpdir);
  int nf = 0;
  const na64_h5_field *f = na64_vis_truth_fields(&nf);
  na64_h5reader *hr = NULL;
  if (na64_h5reader_open(path, "truth", sizeof(na64_vis_sim_event), f, nf, &hr, &err)) fail_msg("%s", err.msg);
  assert_int_equal(na64_h5reader_nrows(hr), NEV);
  na64_vis_sim_event *t = calloc(NEV, sizeof *t);
  size_t n = 0;
  assert_int_equal(na64_h5reader_read(hr, t, NEV, &n, &err), NA64_OK);
  assert_int_equal(n, NEV);
  na64_h5reader_close(hr);

  snprintf(path, sizeof path, "%s/card.yaml", na64_test_tmpdir);
  na64_vis_config cfg;
  na64_vis_config_default(&cfg);
  na64_vis_sim *s = NULL;
  na64_vis_reco *reco = NULL;
  if (na64_vis_config_load(path, &cfg, &err) || na64_vis_sim_new(&cfg, &s, &err) ||
      na64_vis_reco_new(na64_vis_sim_geom(s), &reco, &err))
    fail_msg("%s", err.msg);
  snprintf(path, sizeof path, "%s/raw1.dat", na64_test_tmpdir);
  na64_daq_reader *r = NULL;
  if (na64_daq_reader_open(path, NULL, &r, &err)) fail_msg("%s", err.msg);
  na64_daq_event de;
  int nphys = 0, s4_pairs = 0, nsig = 0, checked = 0;
  while (na64_daq_reader_next_event(r, &de, &err) == NA64_OK) {
    if (de.header.type != NA64_DAQ_PHYSICS_EVENT) continue;
    assert_true(nphys < NEV);
    const na64_vis_sim_event *tv = &t[nphys++];
    na64_vis_reco_event row;
    if (na64_vis_reco_process(reco, &de, &row, &err)) fail_msg("%s", err.msg);
    double w = tv->wcal[0] + tv->wcal[1] + tv->wcal[2];
    if (!(row.flags & NA64_RECO_SATURATED)) { /* 3 sigma of the sections' noise (~0.03 GeV a count) + 1% */
      ++checked;
      if (!(fabs(row.wcal_energy - w) <= 0.3 + 0.01 * w))
        fail_msg("event %llu: WCAL %.4g GeV reconstructed, %.4g simulated", (unsigned long long)tv->event, row.wcal_energy, w);
    }
    if (tv->signal) {
      ++nsig;
      s4_pairs += tv->n_s4 == 2 && row.s4_energy > tv->s4 * 0.5 && row.s4_energy < tv->s4 * 1.5;
    }
  }
  na64_daq_reader_close(r);
  assert_int_equal(nphys, NEV);
  assert_int_equal(nsig, NEV / 2);
  assert_true(checked >= NEV / 2);
  assert_true(s4_pairs >= nsig * 9 / 10);
  print_message("vis reco: %d events, WCAL checked on %d, S4 pairs %d of %d\n", nphys, checked, s4_pairs, nsig);
  na64_vis_reco_free(reco);
  na64_vis_sim_free(s);
  free(t);
}

/* refusals: a bad --part and --all on a visible card, --signal on an invisible one */
static void test_refusals(void **state)
{
  (void)state;
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "'%s' sim card.yaml --events 10 --part 2/2 --out p.dat", NA64_CLI_PATH);
  assert_int_not_equal(sh(cmd, &out), 0);
  assert_non_null(strstr(out, "--part 2/2"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' sim card.yaml --events 10 --all --truth a.h5", NA64_CLI_PATH);
  assert_int_not_equal(sh(cmd, &out), 0);
  assert_non_null(strstr(out, "--all"));
  free(out);
  snprintf(cmd, sizeof cmd, "printf 'setup: {run: 2000, conditions: \"%s\"}\\n' > inv.yaml && '%s' sim inv.yaml --events 10 --signal 0.5",
           DB, NA64_CLI_PATH);
  assert_int_not_equal(sh(cmd, &out), 0);
  assert_non_null(strstr(out, "--signal"));
  free(out);
}

/* --part K/N and MPI ranks (docs/scaling.md, "na64 sim on a visible card: parts and ranks"): the
 * parts' truth rows concatenated are the serial table's, column by column byte for byte (h5py), with
 * the attributes part = K/N and first_event, and a part with 2 threads gives the same bytes; every
 * event of a visible run is recorded, so the index (PyYAML) lists both parts with records = events
 * and no truth (na64 reco reads weights from invisible truth tables only); `na64 reco` of the two
 * indexes writes rows that, concatenated in part order, are the serial `na64 reco`'s rows column
 * for column (event numbers restored to the run's by the index, ECAL, momentum from the Micromegas
 * hits, ...); under mpirun (when built with MPI; not under ASan, see test_cli_scale.c) rank K writes
 * the --part K/2 DATE bytes and truth rows, and rank 0 the index of both parts. */
static void test_truth_parts(void **state)
{
  (void)state;
  sh_ok("cmp p.rank1.dat t.rank1.dat");
  sh_ok(PY " -c \"import h5py, numpy as np; s = h5py.File('truth1.h5')['truth']; "
           "p = [h5py.File('p.rank%d.h5' % k)['truth'] for k in (0, 1)]; t = h5py.File('t.rank1.h5')['truth'][:]; "
           "u = np.concatenate([x[:] for x in p]); assert len(u) == " NEVS "; "
           "same = lambda a, b: all(a[c].tobytes() == b[c].tobytes() for c in a.dtype.names); "
           "assert same(s[:], u) and same(t, p[1][:]) and len(s.dtype.names) > 30; "
           "assert p[1].attrs['part'] in (b'1/2', '1/2') and int(p[1].attrs['first_event']) == 100\"");
}

static void test_reco_of_index(void **state)
{
  (void)state;
  char cmd[2048];
  sh_ok(PY " -c \"import yaml; d = [yaml.safe_load(open('p.rank%d.index.yaml' % k)) for k in (0, 1)]; "
           "p = [x['parts'][str(k)] for k, x in enumerate(d)]; "
           "assert [(q['first_event'], q['events'], q['records']) for q in p] == [(0, 100, 100), (100, 100, 100)], p; "
           "assert all(not q.get('truth') for q in p) and d[0]['run'] == 2800\"");
  snprintf(cmd, sizeof cmd, "'%s' reco raw1.dat --out rs.h5 && '%s' reco p.rank0.index.yaml p.rank1.index.yaml --out rp.h5",
           NA64_CLI_PATH, NA64_CLI_PATH);
  sh_ok(cmd);
  sh_ok(PY " -c \"import h5py, numpy as np; s = h5py.File('rs.h5')['events'][:]; "
           "u = np.concatenate([h5py.File('rp.rank%d.h5' % k)['events'][:] for k in (0, 1)]); "
           "assert len(s) == " NEVS " and len(u) == " NEVS "; "
           "assert all(np.array_equal(s[c], u[c], equal_nan=True) for c in s.dtype.names), "
           "[c for c in s.dtype.names if not np.array_equal(s[c], u[c], equal_nan=True)]; "
           "assert np.isfinite(s['momentum']).sum() >= 60\"");
}

static void test_mpirun(void **state)
{
  (void)state;
#if defined(__SANITIZE_ADDRESS__)
  skip(); /* Open MPI's run-time leaks at exit (test_cli_scale.c); the parts are checked above */
#elif defined(NA64_MPIEXEC)
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "'%s' -n 2 --oversubscribe '%s' sim card.yaml --events %d --seed 3 --signal 0.5 --out m.dat --truth m.h5 && "
           "cmp m.rank0.dat p.rank0.dat && cmp m.rank1.dat p.rank1.dat",
           NA64_MPIEXEC, NA64_CLI_PATH, NEV);
  sh_ok(cmd);
  sh_ok(PY " -c \"import yaml; d = yaml.safe_load(open('m.index.yaml')); "
           "assert d['nparts'] == 2 and [d['parts'][str(k)]['records'] for k in (0, 1)] == [100, 100], d\"");
  sh_ok(PY " -c \"import h5py; f = lambda n: h5py.File(n)['truth'][:]; "
           "assert all(f('m.rank%d.h5' % k)[c].tobytes() == f('p.rank%d.h5' % k)[c].tobytes() "
           "for k in (0, 1) for c in f('p.rank0.h5').dtype.names)\"");
#else
  skip(); /* built without MPI */
#endif
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threads_identical),
      cmocka_unit_test(test_truth_h5py),
      cmocka_unit_test(test_reco_reads),
      cmocka_unit_test(test_vis_reco),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_truth_parts),
      cmocka_unit_test(test_reco_of_index),
      cmocka_unit_test(test_mpirun),
  };
  return cmocka_run_group_tests(tests, setup, na64_test_teardown_tmpdir);
}
