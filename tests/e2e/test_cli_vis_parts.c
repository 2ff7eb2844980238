/* `na64 sim` on a visible card split into parts (issue 12; docs/scaling.md, "Per-rank data files",
 * and docs/visible.md): `--part K/N` of a batch array and rank K of `mpirun -n N` simulate the
 * serial run's events of their range.
 * - The parts' truth rows concatenated are the serial table's, column by column byte for byte (h5py), with the
 *   attributes part = K/N and first_event; one part with 2 threads gives the same bytes.
 * - Every event of a visible run is recorded, so each part's DATE file holds its range: the index
 *   (PyYAML) lists both parts with records = events and no truth (na64 reco reads weights from
 *   invisible truth tables only); `na64 reco` of the two indexes writes rows that, concatenated in
 *   part order, are the serial `na64 reco`'s rows column for column (the documented merge: event
 *   numbers restored to the run's by the index, ECAL, momentum from the new Micromegas hits, ...).
 * - Under mpirun (when built with MPI; not under ASan, see test_cli_scale.c) rank K writes the same
 *   DATE bytes as --part K/2 (cmp) and rank 0 the index of both parts.
 * 300 events: the test checks exactness, not physics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/na64_test.h"

#define DB NA64_BINARY_DIR "/conditions.db"
#define PY "/usr/bin/python3"

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

#define SIM "sim card.yaml --events 300 --seed 4 --signal 0.5"

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
           "'%s' " SIM " --out s.dat --truth s.h5 && '%s' " SIM " --part 0/2 --out p.dat --truth p.h5 && "
           "'%s' " SIM " --part 1/2 --out p.dat --truth p.h5 && "
           "'%s' " SIM " --part 1/2 --threads 2 --out t.dat --truth t.h5",
           NA64_CLI_PATH, NA64_CLI_PATH, NA64_CLI_PATH, NA64_CLI_PATH);
  int rc = sh(cmd, &out);
  if (rc) fprintf(stderr, "%s\n", out);
  free(out);
  return rc ? -1 : 0;
}

static void test_truth_parts(void **state)
{
  (void)state;
  sh_ok("cmp p.rank1.dat t.rank1.dat");
  sh_ok(PY " -c \"import h5py, numpy as np; s = h5py.File('s.h5')['truth']; "
           "p = [h5py.File('p.rank%d.h5' % k)['truth'] for k in (0, 1)]; t = h5py.File('t.rank1.h5')['truth'][:]; "
           "u = np.concatenate([x[:] for x in p]); assert len(u) == 300; "
           "same = lambda a, b: all(a[c].tobytes() == b[c].tobytes() for c in a.dtype.names); "
           "assert same(s[:], u) and same(t, p[1][:]) and len(s.dtype.names) > 30; "
           "assert p[1].attrs['part'] in (b'1/2', '1/2') and int(p[1].attrs['first_event']) == 150\"");
}

static void test_reco_of_index(void **state)
{
  (void)state;
  char cmd[2048];
  sh_ok(PY " -c \"import yaml; d = [yaml.safe_load(open('p.rank%d.index.yaml' % k)) for k in (0, 1)]; "
           "p = [x['parts'][str(k)] for k, x in enumerate(d)]; "
           "assert [(q['first_event'], q['events'], q['records']) for q in p] == [(0, 150, 150), (150, 150, 150)], p; "
           "assert all(not q.get('truth') for q in p) and d[0]['run'] == 2800\"");
  snprintf(cmd, sizeof cmd, "'%s' reco s.dat --out rs.h5 && '%s' reco p.rank0.index.yaml p.rank1.index.yaml --out rp.h5",
           NA64_CLI_PATH, NA64_CLI_PATH);
  sh_ok(cmd);
  sh_ok(PY " -c \"import h5py, numpy as np; s = h5py.File('rs.h5')['events'][:]; "
           "u = np.concatenate([h5py.File('rp.rank%d.h5' % k)['events'][:] for k in (0, 1)]); "
           "assert len(s) == 300 and len(u) == 300; "
           "assert all(np.array_equal(s[c], u[c], equal_nan=True) for c in s.dtype.names), "
           "[c for c in s.dtype.names if not np.array_equal(s[c], u[c], equal_nan=True)]; "
           "assert np.isfinite(s['momentum']).sum() >= 100\"");
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
  snprintf(cmd, sizeof cmd, "'%s' -n 2 --oversubscribe '%s' " SIM " --out m.dat --truth m.h5 && cmp m.rank0.dat p.rank0.dat "
           "&& cmp m.rank1.dat p.rank1.dat", NA64_MPIEXEC, NA64_CLI_PATH);
  sh_ok(cmd);
  sh_ok(PY " -c \"import yaml; d = yaml.safe_load(open('m.index.yaml')); "
           "assert d['nparts'] == 2 and [d['parts'][str(k)]['records'] for k in (0, 1)] == [150, 150], d\"");
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
      cmocka_unit_test(test_truth_parts),
      cmocka_unit_test(test_reco_of_index),
      cmocka_unit_test(test_mpirun),
  };
  return cmocka_run_group_tests(tests, setup, na64_test_teardown_tmpdir);
}
