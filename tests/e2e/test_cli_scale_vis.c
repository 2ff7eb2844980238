/* Scale-out of the visible job (issue 15; src/ana/vis_job.c, src/cli/vis_scale.c; docs/scaling.md):
 *  - `na64 run VISIBLE --part K/N --partial FILE` holds exactly the event ranges [S K / N, S (K + 1) / N)
 *    of every sample (read back through the library), and `na64 merge` of the parts, in any order and
 *    also in stages, writes the serial run's report byte for byte;
 *  - `na64 merge` refuses overlapping parts, a missing part, parts of another card (another seed),
 *    a visible part mixed with an invisible one, a damaged file and a different --eot, naming the files;
 *  - `mpirun -n 2` and `-n 3` of `na64 run` write the serial report byte for byte (built with MPI,
 *    not under ASan: see tests/e2e/test_cli_scale.c).
 * The claim tested is the exactness of the split, so the expected files are the serial run's and
 * the tolerance is zero. The small visible card of tests/support/vis_card.h, one mass without the
 * X17 (10 MeV: an island, so three efficiency samples): about a second of CPU per run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "na64/ana.h"
#include "support/na64_test.h"

/* exactness, not the background size: 20000 weighted events per background source (vis_card.h) */
#define NA64_TEST_VIS_BKG_EVENTS 20000
#include "support/vis_card.h"

static const char *const report_files[] = {"cutflow.csv", "efficiency.csv", "background.csv", "limit.csv",
                                           "validation.csv", "index.html", "limit.svg", "limit.png", "card.yaml"};

/* A command in the scratch directory; stdout and stderr in *out. */
static int sh(const char *args, char **out)
{
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "cd '%s' && %s 2>&1", na64_test_tmpdir, args);
  return na64_test_run(cmd, out);
}

static int na64(const char *args, char **out)
{
  char cmd[3072];
  snprintf(cmd, sizeof cmd, "'%s' %s", NA64_CLI_PATH, args);
  return sh(cmd, out);
}

static void na64_ok(const char *args)
{
  char *out = NULL;
  if (na64(args, &out)) fail_msg("na64 %s: %s", args, out);
  free(out);
}

/* na64 run CARD ARGS, CARD the card's absolute path (as the serial run of setup gives it) */
static void na64_card_ok(const char *args)
{
  char a[2048];
  snprintf(a, sizeof a, "run '%s/card.yaml' %s", na64_test_tmpdir, args);
  na64_ok(a);
}

/* na64 ARGS fails with exit status 1 and its message contains every string of `want` (NULL-ended). */
static void na64_refused(const char *args, const char *const *want)
{
  char *out = NULL;
  int rc = na64(args, &out);
  if (rc != 1) fail_msg("na64 %s: exit status %d, expected 1: %s", args, rc, out);
  for (int i = 0; want[i]; ++i)
    if (!strstr(out, want[i])) fail_msg("na64 %s: '%s' not in: %s", args, want[i], out);
  free(out);
}

static void assert_same_report(const char *a, const char *b)
{
  char cmd[2048], *out = NULL;
  for (size_t i = 0; i < sizeof report_files / sizeof report_files[0]; ++i) {
    snprintf(cmd, sizeof cmd, "cmp '%s/%s' '%s/%s'", a, report_files[i], b, report_files[i]);
    if (sh(cmd, &out)) fail_msg("%s differs between %s and %s: %s", report_files[i], a, b, out);
    free(out);
  }
}

/* Every file that `list` names (", "-separated, "limit.{png,svg}" for two) exists in dir; returns how many. */
static int assert_files_exist(const char *dir, const char *list)
{
  char buf[1024], path[1024];
  snprintf(buf, sizeof buf, "%s", list);
  int n = 0;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ') ++tok;
    char *brace = strchr(tok, '{');
    if (brace) { /* "limit.{png" then "svg}": two names on the stem */
      char *rest = strtok_r(NULL, ",", &save);
      assert_non_null(rest);
      *strchr(rest, '}') = 0;
      *brace = 0;
      snprintf(path, sizeof path, "%s/%s/%s%s", na64_test_tmpdir, dir, tok, brace + 1);
      if (access(path, F_OK) != 0) fail_msg("named but not written: %s", path);
      snprintf(path, sizeof path, "%s/%s/%s%s", na64_test_tmpdir, dir, tok, rest);
      n += 1;
    } else
      snprintf(path, sizeof path, "%s/%s/%s", na64_test_tmpdir, dir, tok);
    if (access(path, F_OK) != 0) fail_msg("named but not written: %s", path);
    n += 1;
  }
  return n;
}

static int setup(void **state)
{
  if (na64_test_setup_tmpdir(state)) return -1;
  char card[512], dir[512];
  snprintf(card, sizeof card, "%s/card.yaml", na64_test_tmpdir);
  snprintf(dir, sizeof dir, "%s/serial", na64_test_tmpdir);
  run_report(card, 2, "10", dir); /* the card's path as the parts below give it: index.html names it */
  return 0;
}

/* Part K of 2 holds exactly its ranges of every sample, and its cut flows count them. */
static void check_part(const char *name, int k)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", na64_test_tmpdir, name);
  na64_vis_partial p;
  na64_err err = {0, ""};
  if (na64_vis_partial_read(path, &p, &err)) fail_msg("%s", err.msg);
  assert_int_equal(p.nsample, 2 + NA64_VIS_EFF_POINTS); /* one mass */
  const uint64_t size[2] = {301, 203};                   /* the card's events and signal_events */
  for (int s = 0; s < p.nsample; ++s) {
    uint64_t want = size[s > 0];
    assert_int_equal(p.sample[s].size, want);
    assert_int_equal(p.sample[s].first, k ? want / 2 : 0);
    assert_int_equal(p.sample[s].count, k ? want - want / 2 : want / 2);
    assert_int_equal(p.sample[s].flow.events[0], p.sample[s].count);
  }
  assert_true(p.sample[2].eps > 0 && p.sample[2].eps < p.sample[3].eps && p.sample[3].eps < p.sample[4].eps);
  na64_vis_partial_release(&p);
}

static void test_parts_merge(void **state)
{
  (void)state;
  na64_card_ok("--part 0/2 --partial p0.part");
  na64_card_ok("--part 1/2 --partial p1.part");
  check_part("p0.part", 0);
  check_part("p1.part", 1);
  char *out = NULL;
  if (na64("merge p1.part p0.part --report-dir merged", &out)) fail_msg("na64 merge: %s", out);
  assert_same_report("serial", "merged");
  /* the files the command and index.html name are the files written (a card without 16.7 MeV: no
   * x17.csv, which index.html named before 2026-12-07) */
  const char *line = strstr(out, "report written to ");
  assert_non_null(line);
  line = strstr(line, "/: ");
  assert_non_null(line);
  char list[1024];
  snprintf(list, sizeof list, "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
  assert_int_equal(assert_files_exist("merged", list), 9);
  free(out);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "sed -n 's/.*<p>Files: \\(.*\\)\\.<\\/p>.*/\\1/p' merged/index.html");
  assert_int_equal(sh(cmd, &out), 0);
  out[strcspn(out, "\n")] = 0;
  assert_int_equal(assert_files_exist("merged", out), 8);
  assert_null(strstr(out, "x17"));
  free(out);
  /* in stages: the two parts into one partial-result file, merged alone */
  na64_ok("merge p0.part p1.part --partial all.part");
  na64_ok("merge all.part --report-dir staged");
  assert_same_report("serial", "staged");
}

static void test_refusals(void **state)
{
  (void)state;
  na64_card_ok("--part 0/3 --partial t0.part");
  na64_refused("merge p0.part p1.part p0.part --report-dir bad", (const char *const[]){"p0.part", "overlap", NULL});
  na64_refused("merge p0.part t0.part p1.part --report-dir bad",
               (const char *const[]){"p0.part", "t0.part", "overlap", NULL});
  na64_refused("merge p1.part --report-dir bad", (const char *const[]){"missing", NULL});
  /* another seed is another card */
  char *out = NULL;
  assert_int_equal(sh("sed 's/seed: 7/seed: 8/' card.yaml > seed8.yaml", &out), 0);
  free(out);
  na64_ok("run seed8.yaml --part 1/2 --partial s1.part");
  na64_refused("merge p0.part s1.part --report-dir bad",
               (const char *const[]){"p0.part", "s1.part", "different run cards", NULL});
  /* the EOT sets the couplings of the efficiency samples: fixed when the parts run */
  na64_refused("merge p0.part p1.part --eot 1e11 --report-dir bad", (const char *const[]){"--eot", NULL});
  na64_card_ok("--eot 1e11 --part 1/2 --partial e1.part");
  na64_refused("merge p0.part e1.part --report-dir bad", (const char *const[]){"p0.part", "e1.part", "EOT", NULL});
  /* an invisible part with a visible one, in either order */
  static const char inv[] = "setup:\n  run: 2000\naprime:\n  mass_MeV: 16.7\n  epsilon: 1.0e-4\n"
                            "analysis:\n  eot: 2.84e11\n  events: 300\n  signal_events: 40\n  seed: 9\n  threads: 1\n"
                            "  masses_MeV: \"16.7\"\n";
  char path[512];
  snprintf(path, sizeof path, "%s/inv.yaml", na64_test_tmpdir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(inv, f);
  fclose(f);
  na64_ok("run inv.yaml --part 0/2 --partial i0.part");
  na64_refused("merge p0.part i0.part --report-dir bad",
               (const char *const[]){"p0.part", "i0.part", "visible-mode", "invisible-mode", NULL});
  na64_refused("merge i0.part p1.part --report-dir bad",
               (const char *const[]){"i0.part", "p1.part", "visible-mode", "invisible-mode", NULL});
  /* a truncated part: its name and line, no crash */
  assert_int_equal(sh("head -c 420 p1.part > cut.part", &out), 0);
  free(out);
  na64_refused("merge p0.part cut.part --report-dir bad", (const char *const[]){"cut.part:", NULL});
  /* --part for a visible card still wants its file */
  assert_int_equal(na64("run seed8.yaml --part 0/2", &out), 2);
  free(out);
}

/* mpirun -n 2 and -n 3 (as root where CI runs as root: Open MPI asks for the two variables). */
static void test_mpirun(void **state)
{
  (void)state;
#if defined(__SANITIZE_ADDRESS__)
  skip(); /* Open MPI's run-time leaks at exit (tests/e2e/test_cli_scale.c); the parts are tested above */
#elif defined(NA64_MPIEXEC)
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  for (int n = 2; n <= 3; ++n) {
    char cmd[2048], dir[32], *out = NULL;
    snprintf(dir, sizeof dir, "mpi%d", n);
    snprintf(cmd, sizeof cmd, "'%s' -n %d --oversubscribe '%s' run '%s/card.yaml' --report-dir %s", NA64_MPIEXEC, n,
             NA64_CLI_PATH, na64_test_tmpdir, dir);
    if (sh(cmd, &out)) fail_msg("mpirun -n %d: %s", n, out);
    char want[32];
    snprintf(want, sizeof want, "%d ranks)", n);
    assert_non_null(strstr(out, want));
    free(out);
    assert_same_report("serial", dir);
  }
#else
  skip(); /* built without MPI: the serial path and the parts are tested above */
#endif
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parts_merge),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_mpirun),
  };
  return cmocka_run_group_tests(tests, setup, na64_test_teardown_tmpdir);
}
