/* `na64 select` (issue 11) through the command: on the events of `na64 sim --all | na64 reco` and on
 * the events.h5 of a `na64 run` report of the same card, it gives the cut flow, efficiency and
 * background of `na64 run` exactly; the report's events table read with h5py; the physics
 * invariants of the issue on a small sample (injected A' signal recovered within statistics, cut
 * flow never increasing, efficiency in (0,1], weights summing to the simulated EOT): all checked by
 * tests/e2e/check_select.py with json and h5py. Bad input: missing file, missing table, missing
 * column are refused with the file and the column named. 20000 beam particles (about 100 A'), 2000
 * per mass for the efficiency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/na64_test.h"

static const char card_text[] =
    "setup:\n  run: 2000\n"
    "processes:\n  aprime:\n    enabled: true\n    bias: 1.0e8\n    min_energy: 50.0\n"
    "aprime:\n  mass_MeV: 16.7\n  epsilon: 1.0e-4\n"
    "analysis:\n  eot: 2.84e11\n  events: 20000\n  signal_events: 2000\n  seed: 1\n  threads: 2\n"
    "  masses_MeV: \"16.7\"\n";

/* `na64 ARGS` in the scratch directory; stdout into *out (stderr too when err2out). */
static int na64(const char *args, int err2out, char **out)
{
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s%s", na64_test_tmpdir, NA64_CLI_PATH, args, err2out ? " 2>&1" : "");
  return na64_test_run(cmd, out);
}

static void write_file(const char *name, const char *text)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", na64_test_tmpdir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void run_ok(const char *args, const char *save_as)
{
  char *out = NULL;
  int st = na64(args, save_as == NULL, &out);
  if (st != 0) fail_msg("na64 %s: exit %d\n%s", args, st, out ? out : "");
  if (save_as) write_file(save_as, out);
  free(out);
}

static int setup(void **state)
{
  if (na64_test_setup_tmpdir(state)) return -1;
  write_file("card.yaml", card_text);
  return 0;
}

static void test_select_matches_run(void **state)
{
  (void)state;
  run_ok("run card.yaml --report-dir rep", NULL);
  run_ok("sim card.yaml --events 20000 --seed 1 --all --truth truth.h5 --out raw.dat", "sim.log");
  run_ok("reco raw.dat --truth truth.h5 --out events.h5", NULL);
  run_ok("select events.h5 --card card.yaml --format json", "select_reco.json");
  run_ok("select rep/events.h5 --card card.yaml --format json", "select_report.json");
  run_ok("select rep/events.h5 rep/events.h5 --card card.yaml --format json", "select_two.json");
  run_ok("select rep/events.h5 --card card.yaml --format csv", "select.csv");
  char cmd[1024], *out = NULL;
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/e2e/check_select.py' '%s' 2>&1", NA64_SOURCE_DIR, na64_test_tmpdir);
  int st = na64_test_run(cmd, &out);
  printf("%s", out ? out : "");
  if (st != 0) fail_msg("check_select.py: %s", out ? out : "");
  free(out);
}

/* stderr of a failing `na64 ARGS` contains every one of the NULL-terminated words. */
static void fails_naming(const char *args, const char *const *words)
{
  char *out = NULL;
  int st = na64(args, 1, &out);
  if (st == 0) fail_msg("na64 %s succeeded", args);
  for (int i = 0; words[i]; ++i)
    if (!strstr(out, words[i])) fail_msg("na64 %s: message does not name '%s': %s", args, words[i], out);
  free(out);
}

static void test_select_bad_input(void **state)
{
  (void)state;
  fails_naming("select missing.h5", (const char *const[]){"missing.h5", "No such file", NULL});
  write_file("text.h5", "not HDF5\n");
  fails_naming("select text.h5", (const char *const[]){"text.h5", "not an HDF5 file", NULL});
  /* the truth table of na64 sim is HDF5 but has no table 'events' */
  fails_naming("select truth.h5", (const char *const[]){"truth.h5", "no table 'events'", NULL});
  /* a table 'events' without the column 'aprime' (and another column of the wrong type) */
  char cmd[1024], *out = NULL;
  snprintf(cmd, sizeof cmd,
           "cd '%s' && /usr/bin/python3 -c \"import h5py, numpy as np; e = h5py.File('events.h5')['events'][:]; "
           "names = [n for n in e.dtype.names if n != 'aprime']; h5py.File('noaprime.h5', 'w')['events'] = e[names]; "
           "t = np.zeros(3, dtype=[(n, 'i4' if n == 'weight' else e.dtype[n]) for n in e.dtype.names]); "
           "h5py.File('intweight.h5', 'w')['events'] = t\"",
           na64_test_tmpdir);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  free(out);
  fails_naming("select noaprime.h5", (const char *const[]){"noaprime.h5", "no column 'aprime'", NULL});
  fails_naming("select intweight.h5", (const char *const[]){"intweight.h5", "column 'weight'", "integer, expected float", NULL});
  /* data (no EOT recorded) needs --eot-simulated */
  fails_naming("select noaprime.h5 rep/events.h5 --format json",
               (const char *const[]){"noaprime.h5", NULL}); /* the column error comes first */
  fails_naming("select rep/events.h5 --card nosuch.yaml", (const char *const[]){"nosuch.yaml", NULL});
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_select_matches_run),
      cmocka_unit_test(test_select_bad_input),
  };
  return cmocka_run_group_tests(tests, setup, na64_test_teardown_tmpdir);
}
