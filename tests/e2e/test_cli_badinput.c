/* Bad input on every `na64` subcommand (branch robust; docs/user-guide.md "Errors and bad input").
 *
 * 1. Impossible parameters: negative, zero, NaN, huge counts, energies, masses, EOT, threads, seeds;
 *    missing files, directories instead of files, files of the wrong kind. Each case must end with
 *    the exit status of the table (2: usage, found before any work; 1: a runtime or physics refusal),
 *    a message naming the option or file and the value, no sanitizer report, no signal.
 * 2. Full disk for the writers a user meets: `na64 sim --out/--truth`, `na64 reco --out`, the report
 *    directory of `na64 run` (every file of it), `na64 limits --plot/--hepdata` and `na64 cond export`,
 *    with RLIMIT_FSIZE (`ulimit -f`, SIGXFSZ ignored, so write(2) fails with EFBIG) and a private
 *    /dev/full node:
 *    non-zero exit, the message names the file, and the file written before stays byte-identical.
 * 3. Corrupt raw data through the chain: a truncated and a bit-flipped DATE file from `na64 sim` go
 *    through `na64 reco` and `na64 select`: the valid events are reconstructed and selected, the
 *    damaged region is reported with the file and its byte offset.
 *
 * The `na64` run is the build's own, the sanitized one in the ASan build: its reports fail the test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "support/na64_test.h"

/* Run `na64 ARGS` in the test directory, stdout and stderr together; rc = exit status (-1: signal). */
static int run(const char *args, char **out)
{
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "cd '%s' && timeout 300 '%s' %s 2>&1", na64_test_tmpdir, NA64_CLI_PATH, args);
  return na64_test_run(cmd, out);
}

/* The same under a shell prologue (ulimit, trap). */
static int run_sh(const char *prologue, const char *args, char **out)
{
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "cd '%s' && sh -c \"%s exec '%s' %s\" 2>&1", na64_test_tmpdir, prologue, NA64_CLI_PATH, args);
  return na64_test_run(cmd, out);
}

static void no_sanitizer_report(const char *args, int rc, const char *out)
{
  if (rc < 0 || rc == 23 || rc == 124 || strstr(out, "AddressSanitizer") || strstr(out, "LeakSanitizer") ||
      strstr(out, "runtime error:") || strstr(out, "core dumped"))
    fail_msg("na64 %s: crashed, hung or leaked (rc %d):\n%s", args, rc, out);
}

/* The inputs of the cases: a small simulated raw file with its truth, an events table, a directory. */
static int setup(void **state)
{
  if (na64_test_setup_tmpdir(state) != 0) return -1;
  char *out = NULL;
  char args[1024];
  snprintf(args, sizeof args, "sim '%s/configs/invisible_default.yaml' --events 1500 --out sim.dat --truth truth.h5 --all",
           NA64_SOURCE_DIR);
  int rc = run(args, &out);
  if (rc != 0) fprintf(stderr, "setup: na64 %s: %s\n", args, out);
  free(out);
  if (rc != 0) return -1;
  rc = run("reco sim.dat --truth truth.h5 --out ev.h5", &out);
  if (rc != 0) fprintf(stderr, "setup: na64 reco: %s\n", out);
  free(out);
  char d[512];
  snprintf(d, sizeof d, "%s/adir", na64_test_tmpdir);
  mkdir(d, 0755);
  na64_test_write_text(na64_test_tmpdir, "badmass.yaml", "setup: {run: 2000}\nanalysis: {masses_MeV: \"1,abc\"}\n");
  na64_test_write_text(na64_test_tmpdir, "badsel.yaml", "setup: {run: 2000}\nselection: {momentum_min: 97, momentum_max: 1}\n");
  na64_test_write_text(na64_test_tmpdir, "nan.yaml", "setup: {run: 2000}\nbeam: {energy: .nan}\n");
  return rc;
}

typedef struct bad_case {
  const char *args; /* %C: the configs directory */
  int rc;           /* expected exit status */
  const char *need[2];
} bad_case;

#define CARD "%C/invisible_default.yaml"
static const bad_case cases[] = {
    /* sim */
    {"sim " CARD " --events 0", 2, {"--events", "0"}},
    {"sim " CARD " --events -5", 2, {"--events", "-5"}},
    {"sim " CARD " --events nan", 2, {"--events", "nan"}},
    {"sim " CARD " --events 1e300", 2, {"--events", "1e300"}},
    {"sim " CARD " --events 1.5", 2, {"--events", "1.5"}},
    {"sim " CARD " --threads 0", 2, {"--threads", "0"}},
    {"sim " CARD " --threads 1000", 2, {"--threads", "1000"}},
    {"sim " CARD " --seed -1", 2, {"--seed", "-1"}},
    {"sim " CARD " --signal inf", 2, {"--signal", "inf"}},
    {"sim " CARD " --part 3/2 --out p.dat", 2, {"--part", "3/2"}},
    {"sim " CARD " --out adir", 2, {"--out", "adir"}},
    {"sim " CARD " --out /nonexistent/x.dat", 2, {"--out", "/nonexistent"}},
    {"sim " CARD " --truth adir/", 2, {"--truth", "adir/"}},
    {"sim /nonexistent.yaml", 1, {"/nonexistent.yaml", "No such file"}},
    {"sim adir", 1, {"adir", "directory"}},
    {"sim sim.dat", 1, {"sim.dat:1:1:", "YAML"}},
    {"sim nan.yaml", 1, {"nan.yaml:2:", "energy"}},
    /* run: every check before any work (nothing is written for a bad card) */
    {"run " CARD " --eot 0", 2, {"--eot", "0"}},
    {"run " CARD " --eot nan", 2, {"--eot", "nan"}},
    {"run " CARD " --eot 1e30", 2, {"--eot", "1e30"}},
    {"run " CARD " --eps -1", 2, {"--eps", "-1"}},
    {"run " CARD " --energy 5", 2, {"--energy", "5"}},
    {"run " CARD " --efficiency 0", 2, {"--efficiency", "0"}},
    {"run " CARD " --part 5/3 --partial x.na64part", 2, {"--part", "5/3"}},
    {"run " CARD " --scan foo", 2, {"--scan", "foo"}},
    {"run " CARD " --report-dir sim.dat", 2, {"--report-dir", "sim.dat"}},
    {"run /nonexistent.yaml --report-dir r1", 1, {"/nonexistent.yaml", "No such file"}},
    {"run adir --report-dir r1", 1, {"adir", "directory"}},
    {"run badmass.yaml --report-dir r1", 1, {"badmass.yaml", "masses_MeV '1,abc'"}},
    {"run badsel.yaml --report-dir r1", 1, {"badsel.yaml", "selection.momentum_max = 1"}},
    {"run nan.yaml --report-dir r1", 1, {"nan.yaml:2:", "energy"}},
    /* reco */
    {"reco sim.dat", 2, {"--out", "required"}},
    {"reco sim.dat --out x.h5 --events -1", 2, {"--events", "-1"}},
    {"reco sim.dat --out adir", 2, {"--out", "adir"}},
    {"reco /nonexistent.dat --out x.h5", 1, {"/nonexistent.dat", "No such file"}},
    {"reco adir --out x.h5", 1, {"adir", "directory"}},
    {"reco sim.dat --out x.h5 --truth /nonexistent.h5", 1, {"/nonexistent.h5", "truth"}},
    {"reco sim.dat --out x.h5 --db /nonexistent.db", 1, {"/nonexistent.db", "No such file"}},
    /* select */
    {"select /nonexistent.h5", 1, {"/nonexistent.h5", "No such file"}},
    {"select adir", 1, {"adir", "HDF5"}},
    {"select sim.dat", 1, {"sim.dat", "not an HDF5 file"}},
    {"select ev.h5 --eot 0", 2, {"--eot", "0"}},
    {"select ev.h5 --eot-simulated -1", 2, {"--eot-simulated", "-1"}},
    {"select ev.h5 --card /nonexistent.yaml", 1, {"/nonexistent.yaml", "No such file"}},
    {"select ev.h5 --card adir", 1, {"adir", "directory"}},
    {"select ev.h5 --card badsel.yaml", 1, {"badsel.yaml", "momentum_max"}},
    /* limits */
    {"limits --eot 0", 2, {"--eot", "0"}},
    {"limits --eot nan", 2, {"--eot", "nan"}},
    {"limits --eot 1e17", 2, {"--eot", "1e17"}},
    {"limits --eot 1e11 --efficiency 0", 2, {"--efficiency", "0"}},
    {"limits --eot 1e11 --energy -100", 2, {"--energy", "-100"}},
    {"limits --eot 1e11 --masses 0:10:5", 2, {"--masses", "0:10:5"}},
    {"limits --eot 1e11 --masses nan,2", 2, {"--masses", "nan,2"}},
    {"limits --eot 1e11 --masses 1:1000:1e9", 2, {"--masses", "1e9"}},
    {"limits --eot 1e11 --threads 0 --dataset invisible_2016_2018:1e10", 2, {"--threads", "0"}},
    {"limits --eot 1e11 --cl 1", 2, {"--cl", "1"}},
    {"limits --eot 1e11 --plot adir", 2, {"--plot", "adir"}},
    {"limits --eot 1e11 --hepdata /nonexistent/x.yaml", 2, {"--hepdata", "/nonexistent"}},
    {"limits --dataset invisible_2016_2018:-5", 1, {"invisible_2016_2018:-5", "EOT"}},
    {"limits --run 99999 --db /nonexistent.db", 1, {"/nonexistent.db", "No such file"}},
    /* xsec, width, material: physics refusals name the command-line values */
    {"xsec --mass 0 --eps 1e-4 --energy 100", 1, {"--mass 0 MeV", "must be positive"}},
    {"xsec --mass -1 --eps 1e-4 --energy 100", 1, {"--mass -1 MeV", "positive"}},
    {"xsec --mass 16.7 --eps 0 --energy 100", 1, {"--eps 0", "epsilon"}},
    {"xsec --mass 16.7 --eps 2 --energy 100", 1, {"--eps 2", "epsilon"}},
    {"xsec --mass 16.7 --eps 1e-4 --energy nan", 2, {"--energy", "nan"}},
    {"xsec --mass 16.7 --eps 1e-4 --energy 1e6", 1, {"--energy 1000000 GeV", "validity range"}},
    {"xsec --mass 1e9 --eps 1e-4 --energy 100", 1, {"--mass 1000000000 MeV", "no production"}},
    {"xsec --mass 16.7 --eps 1e-4 --energy 100 --target Unobtainium", 1, {"Unobtainium", "unknown material"}},
    {"xsec --mass 16.7 --eps 1e-4 --energy 100 --dsdx --points 1", 2, {"--points", "1"}},
    {"width --mass -1 --eps 1e-4", 1, {"--mass -1 MeV", "positive"}},
    {"width --mass 16.7 --eps nan", 2, {"--eps", "nan"}},
    {"width --mass 1e30 --eps 1e-4", 1, {"--mass 1e+30 MeV", "mass"}},
    {"width --mass 300 --eps 1e-4 --energy -5", 1, {"--energy -5", "-5 GeV"}},
    {"width --mass 300 --eps 1e-4 --dm dirac --mchi -1", 1, {"--mass 300 MeV", "m_chi = -1"}},
    {"material --name Unobtainium", 1, {"Unobtainium", "unknown material"}},
    /* cond */
    {"cond list --run -1", 2, {"--run", "-1"}},
    {"cond list --run nan", 2, {"--run", "nan"}},
    {"cond list --db /nonexistent.db", 1, {"/nonexistent.db", "No such file"}},
    {"cond list --db adir", 1, {"adir", "not a regular file"}},
    {"cond list --db sim.dat", 1, {"sim.dat", "not a conditions database"}},
    {"cond show NOPE", 1, {"NOPE", "no detector"}},
    {"cond import adir --db c.db", 1, {"adir", "directory"}},
    {"cond import /nonexistent.sql --db c.db", 1, {"/nonexistent.sql", "No such file"}},
    {"cond export /nonexistent/x.sql", 1, {"/nonexistent/", "No such file"}},
    /* monitor (fails before serving) */
    {"monitor /nonexistent.dat --exit-when-done", 1, {"/nonexistent.dat", "No such file"}},
    {"monitor adir --exit-when-done", 1, {"adir", "directory"}},
    {"monitor sim.dat --listen 999.1.1.1:80 --exit-when-done", 1, {"999.1.1.1", "IPv4"}},
    {"monitor sim.dat --listen 127.0.0.1:99999 --exit-when-done", 1, {"99999", "port"}},
    {"monitor sim.dat --rate -1 --exit-when-done", 2, {"--rate", "-1"}},
    {"monitor sim.dat --rolling 0 --exit-when-done", 2, {"--rolling", "0"}},
    {"monitor sim.dat --alarms /nonexistent.yaml --exit-when-done", 1, {"/nonexistent.yaml", "No such file"}},
    {"monitor sim.dat --web /nonexistent --exit-when-done", 2, {"--web", "/nonexistent"}},
    /* dump, merge, calib */
    {"dump /nonexistent.dat", 1, {"/nonexistent.dat", "No such file"}},
    {"dump adir", 1, {"adir", "directory"}},
    {"dump sim.dat --events -1", 2, {"--events", "-1"}},
    {"dump sim.dat --equipment 1e10", 2, {"--equipment", "1e10"}},
    {"merge /nonexistent.na64part", 1, {"/nonexistent.na64part", "No such file"}},
    {"merge adir", 1, {"adir", "directory"}},
    {"merge sim.dat", 1, {"sim.dat:1", "na64-job-partial"}},
    {"calib straw /nonexistent.dat --dry-run", 1, {"/nonexistent.dat", "No such file"}},
    {"calib straw adir --dry-run", 1, {"adir", "directory"}},
    {"calib straw sim.dat --run -5 --dry-run", 2, {"--run", "-5"}},
};

static void expand(const char *in, char *out, size_t n)
{
  size_t k = 0;
  for (const char *p = in; *p && k + 1 < n; ++p) {
    if (p[0] == '%' && p[1] == 'C') {
      k += (size_t)snprintf(out + k, n - k, "%s/configs", NA64_SOURCE_DIR);
      ++p;
    } else {
      out[k++] = *p;
    }
  }
  out[k < n ? k : n - 1] = '\0';
}

static void test_impossible_parameters(void **state)
{
  (void)state;
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    char args[2048], *out = NULL;
    expand(cases[i].args, args, sizeof args);
    int rc = run(args, &out);
    no_sanitizer_report(args, rc, out);
    int ok = rc == cases[i].rc;
    for (int k = 0; k < 2 && ok; ++k) ok = !cases[i].need[k] || strstr(out, cases[i].need[k]) != NULL;
    if (!ok) {
      print_message("na64 %s: expected exit %d naming '%s' and '%s', got %d:\n%s\n", args, cases[i].rc,
                    cases[i].need[0], cases[i].need[1] ? cases[i].need[1] : "", rc, out);
      bad++;
    }
    free(out);
  }
  /* nothing was written by a run refused before its work */
  char r1[512];
  snprintf(r1, sizeof r1, "%s/r1", na64_test_tmpdir);
  struct stat sb;
  if (stat(r1, &sb) == 0) {
    print_message("a refused `na64 run` created its report directory %s\n", r1);
    bad++;
  }
  assert_int_equal(bad, 0);
}

/* ---- full disk ---- */

/* Write `marker` into name, run args under prologue; the run must fail naming `expect` and leave
 * the file byte-identical. */
static void full_disk_case(const char *prologue, const char *args, const char *name, const char *expect)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", na64_test_tmpdir, name);
  static const char marker[] = "the previous complete file\n";
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(marker, f);
  fclose(f);
  char *out = NULL;
  int rc = run_sh(prologue, args, &out);
  no_sanitizer_report(args, rc, out);
  size_t len = 0;
  char *now = na64_test_read_file(path, &len);
  int ok = rc != 0 && strstr(out, expect) && now && len == strlen(marker) && !memcmp(now, marker, len);
  if (!ok)
    fail_msg("na64 %s (%s): expected a failure naming '%s' and %s unchanged; rc %d, %s:\n%s", args, prologue, expect, name,
             rc, now && len == strlen(marker) && !memcmp(now, marker, len) ? "file unchanged" : "FILE CHANGED", out);
  free(now);
  free(out);
}

#define NOSPACE "trap '' XFSZ; ulimit -f 64;" /* 64 blocks of 512 bytes: 32 KiB per file */

static void test_full_disk(void **state)
{
  (void)state;
  char args[2048];
  snprintf(args, sizeof args, "sim '%s/configs/invisible_default.yaml' --events 1500 --out full.dat", NA64_SOURCE_DIR);
  full_disk_case(NOSPACE, args, "full.dat", "full.dat");
  snprintf(args, sizeof args, "sim '%s/configs/invisible_default.yaml' --events 1500 --truth full.h5 --all", NA64_SOURCE_DIR);
  full_disk_case(NOSPACE, args, "full.h5", "full.h5");
  /* the events table of the small sample is ~8 KiB: 2 KiB of file size */
  full_disk_case("trap '' XFSZ; ulimit -f 4;", "reco sim.dat --truth truth.h5 --out fullev.h5", "fullev.h5", "fullev.h5");
  /* without --truth the first HDF5 file of the process is the failing one: its half-closed file made
   * libhdf5's exit handler crash (SIGSEGV after the error message) */
  full_disk_case("trap '' XFSZ; ulimit -f 4;", "reco sim.dat --out fullev.h5", "fullev.h5", "fullev.h5");
  full_disk_case(NOSPACE, "limits --eot 1e11 --masses 1:100:20 --plot full.png", "full.png", "full.png");
  full_disk_case("trap '' XFSZ; ulimit -f 4;", "limits --eot 1e11 --masses 1:100:100 --hepdata full.yaml", "full.yaml",
                 "full.yaml");
  full_disk_case("trap '' XFSZ; ulimit -f 8;", "cond export full.sql", "full.sql", "full.sql");
  /* the results on stdout are an output too: a full device behind it is an error (was exit 0) */
  char *o2 = NULL;
  int rc2 = run_sh("", "width --mass 16.7 --eps 1e-4 >/dev/full", &o2);
  no_sanitizer_report("width > /dev/full", rc2, o2);
  if (rc2 != 1 || !strstr(o2, "standard output")) fail_msg("na64 width > /dev/full: rc %d:\n%s", rc2, o2);
  free(o2);
  /* the same for the top-level --help and --version (review, session 10: they were unchecked) */
  static const char *const top[] = {"--help >/dev/full", "--version >/dev/full"};
  for (size_t k = 0; k < sizeof top / sizeof *top; ++k) {
    char *o3 = NULL;
    int rc3 = run_sh("", top[k], &o3);
    no_sanitizer_report(top[k], rc3, o3);
    if (rc3 != 1 || !strstr(o3, "standard output")) fail_msg("na64 %s: rc %d:\n%s", top[k], rc3, o3);
    free(o3);
  }
  /* a full device: a private node of /dev/full (char 1,7) named like a raw file, so that a regression
   * can only replace the test's own node (needs CAP_MKNOD; skipped without): written through, the
   * error names it, the node stays a device */
  char node[512];
  snprintf(node, sizeof node, "%s/devfull.dat", na64_test_tmpdir);
  if (mknod(node, S_IFCHR | 0666, makedev(1, 7)) == 0) {
    char *out = NULL;
    snprintf(args, sizeof args, "sim '%s/configs/invisible_default.yaml' --events 300 --out devfull.dat", NA64_SOURCE_DIR);
    int rc = run(args, &out);
    no_sanitizer_report(args, rc, out);
    struct stat sb;
    if (rc == 0 || !strstr(out, "devfull.dat") || lstat(node, &sb) != 0 || !S_ISCHR(sb.st_mode))
      fail_msg("na64 %s: expected a failure naming devfull.dat, the node kept; rc %d:\n%s", args, rc, out);
    free(out);
  }
}

/* `na64 run`'s report directory: with every file of an earlier report in place, a full disk (at
 * two sizes, so that different writers hit it) fails the run naming the file, and every file of
 * the report is either the earlier one, byte for byte, or complete: byte-identical to the same run
 * without a limit (the job is deterministic). */
static void test_full_disk_report(void **state)
{
  (void)state;
  static const char *const files[] = {"summary.csv", "summary.txt", "cutflow.csv", "selection.json", "efficiency.csv",
                                      "background.csv", "limit.csv", "limit.png", "limit.svg", "limit_hepdata.yaml",
                                      "index.html", "card.yaml", "invisible_100GeV.png", "invisible_100GeV.pdf",
                                      "ecal_hcal.png", "missing_energy.png"};
  enum { NF = sizeof files / sizeof files[0] };
  char dir[512], path[640], ref[640];
  /* a tiny copy of the default card: the run reaches its writers in seconds */
  char card[640];
  snprintf(card, sizeof card, "%s/small.yaml", na64_test_tmpdir);
  char src[512];
  snprintf(src, sizeof src, "%s/configs/invisible_default.yaml", NA64_SOURCE_DIR);
  size_t len = 0;
  char *text = na64_test_read_file(src, &len);
  assert_non_null(text);
  FILE *f = fopen(card, "w");
  assert_non_null(f);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (strstr(line, "  events: 1000000")) line = "  events: 2000";
    else if (strstr(line, "  signal_events:")) line = "  signal_events: 200";
    else if (strstr(line, "  masses_MeV:")) line = "  masses_MeV: \"16.7\"";
    fprintf(f, "%s\n", line);
  }
  fprintf(f, "  background_events: 100\n");
  fclose(f);
  free(text);
  char *out = NULL;
  int rc = run("run small.yaml --report-dir ref", &out);
  no_sanitizer_report("run small.yaml --report-dir ref", rc, out);
  if (rc != 0) fail_msg("na64 run small.yaml: rc %d:\n%s", rc, out);
  free(out);
  /* 1 block: the physics summary's second file fails; 64 blocks: a plot of the sensitivity report */
  static const char *const limits[] = {"1", "64"};
  for (int l = 0; l < 2; ++l) {
    snprintf(dir, sizeof dir, "%s/rep%d", na64_test_tmpdir, l);
    mkdir(dir, 0755);
    for (int i = 0; i < NF; ++i) {
      snprintf(path, sizeof path, "%s/%s", dir, files[i]);
      f = fopen(path, "wb");
      assert_non_null(f);
      fprintf(f, "previous %s\n", files[i]);
      fclose(f);
    }
    char pro[128], args[256];
    snprintf(pro, sizeof pro, "trap '' XFSZ; ulimit -f %s;", limits[l]);
    snprintf(args, sizeof args, "run small.yaml --report-dir rep%d", l);
    rc = run_sh(pro, args, &out);
    no_sanitizer_report(args, rc, out);
    char dname[32];
    snprintf(dname, sizeof dname, "rep%d/", l);
    if (rc == 0 || !strstr(out, dname))
      fail_msg("na64 %s under '%s': expected a failure naming the file; rc %d:\n%s", args, pro, rc, out);
    free(out);
    for (int i = 0; i < NF; ++i) {
      char want[128];
      snprintf(want, sizeof want, "previous %s\n", files[i]);
      snprintf(path, sizeof path, "%s/%s", dir, files[i]);
      snprintf(ref, sizeof ref, "%s/ref/%s", na64_test_tmpdir, files[i]);
      size_t nl = 0, rl = 0;
      char *now = na64_test_read_file(path, &nl), *full = na64_test_read_file(ref, &rl);
      int old = now && nl == strlen(want) && !memcmp(now, want, nl);
      int complete = now && full && nl == rl && !memcmp(now, full, nl);
      /* a PDF carries its creation date (/CreationDate): complete is the same size, ending in %%EOF */
      size_t fl = strlen(files[i]);
      if (!complete && now && full && fl > 4 && !strcmp(files[i] + fl - 4, ".pdf"))
        complete = nl == rl && nl > 6 && !memcmp(now + nl - 6, "%%EOF\n", 6);
      if (!old && !complete)
        fail_msg("%s: neither the earlier file nor a complete one after a full disk (%s): %zu bytes, complete %zu", path,
                 pro, nl, rl);
      free(now);
      free(full);
    }
  }
}

/* ---- corrupt raw data through the chain ---- */

static long count_rows(const char *out, const char *key)
{
  const char *p = strstr(out, key);
  return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static void test_corrupt_chain(void **state)
{
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/sim.dat", na64_test_tmpdir);
  size_t len = 0;
  char *raw = na64_test_read_file(path, &len);
  assert_non_null(raw);
  assert_true(len > 4096);
  /* the events of the intact file */
  char *out = NULL;
  int rc = run("dump sim.dat --summary", &out);
  assert_int_equal(rc, 0);
  long nphys = count_rows(out, "physics events: ");
  free(out);
  /* truncated in the middle of an event (at 2/3 of the file, not on a 4-byte boundary) */
  snprintf(path, sizeof path, "%s/trunc.dat", na64_test_tmpdir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fwrite(raw, 1, len * 2 / 3 + 1, f);
  fclose(f);
  /* bit flips in the headers of a few events: the magic word of the 5th 80-byte header-sized block
   * after the first quarter (whatever it is, the reader resynchronises) and single bits elsewhere */
  char *flip = malloc(len);
  assert_non_null(flip);
  memcpy(flip, raw, len);
  for (size_t k = 1; k <= 7; ++k) flip[len * k / 8] ^= (char)(1u << (k % 8));
  snprintf(path, sizeof path, "%s/flip.dat", na64_test_tmpdir);
  f = fopen(path, "wb");
  assert_non_null(f);
  fwrite(flip, 1, len, f);
  fclose(f);
  free(flip);
  free(raw);
  static const char *const bad[] = {"trunc.dat", "flip.dat"};
  for (int b = 0; b < 2; ++b) {
    char args[1024];
    snprintf(args, sizeof args, "reco %s --out %s.h5", bad[b], bad[b]);
    rc = run(args, &out);
    no_sanitizer_report(args, rc, out);
    /* the valid events are reconstructed: the file is written; the damaged region is named with
     * the file and its byte offset; the exit status says the input was damaged */
    snprintf(path, sizeof path, "%s/%s.h5", na64_test_tmpdir, bad[b]);
    struct stat sb;
    if (stat(path, &sb) != 0 || !strstr(out, bad[b]) || !strstr(out, "offset") || rc == 0)
      fail_msg("na64 %s: expected the events table written, the damage named with file and offset, exit != 0; rc %d:\n%s",
               args, rc, out);
    long rows = count_rows(out, "events: ");
    free(out);
    snprintf(args, sizeof args, "select %s.h5 --eot-simulated 1500 --format csv", bad[b]);
    rc = run(args, &out);
    no_sanitizer_report(args, rc, out);
    if (rc != 0) fail_msg("na64 %s: the events of a damaged file must select; rc %d:\n%s", args, rc, out);
    free(out);
    (void)rows;
    (void)nphys;
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_impossible_parameters),
      cmocka_unit_test(test_full_disk),
      cmocka_unit_test(test_full_disk_report),
      cmocka_unit_test(test_corrupt_chain),
  };
  return cmocka_run_group_tests(tests, setup, na64_test_teardown_tmpdir);
}
