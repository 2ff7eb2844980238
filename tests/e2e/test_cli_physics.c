/* End to end: the `na64` command's physics subcommands, formats and exit codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/na64_test.h"

static int run(const char *args, char **out)
{
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", NA64_CLI_PATH, args);
  return na64_test_run(cmd, out);
}

/* last comma-separated field of the second line */
static double last_csv_value(const char *out)
{
  const char *line2 = strchr(out, '\n');
  assert_non_null(line2);
  const char *comma = strrchr(line2 + 1, ',');
  assert_non_null(comma);
  return strtod(comma + 1, NULL);
}

/* `xsec --format csv`: a header and one row whose last column is sigma in pb; compared with the DMG4
 * reference at 20 MeV, 100 GeV (2620.75 pb, refdata) within 1%. */
static void test_xsec_csv(void **state)
{
  (void)state;
  char *out;
  assert_int_equal(run("xsec --target Pb --energy 100 --mass 20 --eps 1e-4 --method etl --format csv", &out), 0);
  assert_non_null(strstr(out, "sigma_pb"));
  assert_rel(last_csv_value(out), 2620.75, 0.01);
  free(out);
  assert_int_equal(run("xsec --target Pb --energy 100 --mass 16.7 --eps 1e-4 --method etl --format csv", &out), 0);
  assert_rel(last_csv_value(out), 3606, 0.01); /* refdata §4: ~3606 pb derived from (c)/K */
  free(out);
  assert_int_equal(run("xsec --target W --energy 100 --mass 16.7 --eps 1e-4 --dsdx --points 10 --format csv", &out), 0);
  int lines = 0;
  for (char *p = out; *p; ++p) lines += *p == '\n';
  assert_int_equal(lines, 11);
  free(out);
}

static void test_width_csv(void **state)
{
  (void)state;
  char *out;
  assert_int_equal(run("width --mass 16.7 --eps 1e-4 --energy 100 --format csv", &out), 0);
  assert_non_null(strstr(out, "width_GeV"));
  assert_non_null(strstr(out, "ctau_cm"));
  assert_non_null(strstr(out, "decay_length_cm"));
  assert_rel(last_csv_value(out), 290.9, 1e-3); /* refdata §2 */
  free(out);
  assert_int_equal(run("width --mass 300 --eps 1e-4 --dm scalar --alpha-d 0.5 --mchi 100 --format json", &out), 0);
  assert_non_null(strstr(out, "\"br_inv\": 0.99"));
  free(out);
}

static void test_exit_codes(void **state)
{
  (void)state;
  /* usage errors: exit 2 */
  assert_int_equal(run("width --mass abc --eps 1e-4", NULL), 2);
  assert_int_equal(run("width --eps 1e-4", NULL), 2);
  assert_int_equal(run("xsec --energy 100 --mass 10 --eps 1e-4 --method foo", NULL), 2);
  assert_int_equal(run("xsec --energy 100 --mass 10 --eps 1e-4 --dsdx --points 1", NULL), 2);
  assert_int_equal(run("frobnicate", NULL), 2);
  assert_int_equal(run("", NULL), 2);
  /* physics errors: exit 1 */
  assert_int_equal(run("width --mass 16.7 --eps 2", NULL), 1);
  assert_int_equal(run("width --mass -5 --eps 1e-4", NULL), 1);
  assert_int_equal(run("width --mass 16.7 --eps 0", NULL), 1);
  assert_int_equal(run("width --mass 0.5 --eps 1e-4", NULL), 1); /* below the e+e- threshold */
  assert_int_equal(run("xsec --target Xx --energy 100 --mass 10 --eps 1e-4", NULL), 1);
  assert_int_equal(run("xsec --energy 100 --mass 5000 --eps 1e-4", NULL), 1);
  /* help and version */
  char *out;
  assert_int_equal(run("xsec --help", &out), 0);
  assert_non_null(strstr(out, "MeV"));
  assert_non_null(strstr(out, "GeV"));
  free(out);
  assert_int_equal(run("--version", &out), 0);
  assert_non_null(strstr(out, "na64 "));
  free(out);
  assert_int_equal(run("--help", NULL), 0);
  /* the error message names the argument and the allowed range */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' xsec --energy 100 --mass 10 --eps 1e-4 --dsdx --points 1 2>&1", NA64_CLI_PATH);
  assert_int_equal(na64_test_run(cmd, &out), 2);
  assert_non_null(strstr(out, "--points"));
  assert_non_null(strstr(out, "100000"));
  free(out);
}

static int run_all(const char *args, char **out)
{
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", NA64_CLI_PATH, args);
  return na64_test_run(cmd, out);
}

/* Issue 9 item 11 and issue 8 item 5: the parser's messages and help. */
static void test_parser(void **state)
{
  (void)state;
  char *out;
  /* dark-sector parameters without --dm do nothing: usage error naming the option */
  assert_int_equal(run_all("width --mass 16.7 --eps 1e-4 --alpha-d 0.5", &out), 2);
  assert_non_null(strstr(out, "--alpha-d"));
  free(out);
  assert_int_equal(run_all("width --mass 16.7 --eps 1e-4 --dm scalar --delta 0.2", &out), 2);
  assert_non_null(strstr(out, "--delta"));
  free(out);
  /* a value just above 1 is printed with enough digits to see why it is refused */
  assert_int_equal(run_all("width --mass 16.7 --eps 1.0000001", &out), 1);
  assert_non_null(strstr(out, "epsilon = 1.0000001 is outside"));
  /* and the message starts with the values as typed (docs/user-guide.md "Errors and bad input") */
  assert_non_null(strstr(out, "--mass 16.7 MeV, --eps 1.0000001, --energy 100 GeV:"));
  free(out);
  assert_int_equal(run_all("xsec --target Pb --energy 100.25 --mass 0.123456789 --eps 1.5", &out), 1);
  assert_non_null(strstr(out, "--mass 0.123456789 MeV, --eps 1.5, --energy 100.25 GeV:"));
  free(out);
  /* a denormal is a number (the library then judges it), not "expects a number" */
  assert_int_equal(run_all("xsec --energy 100 --mass 16.7 --eps 4.9e-324", &out), 0);
  assert_null(strstr(out, "expects a number"));
  free(out);
  /* underflow to zero and overflow: clear range messages, exit 2 */
  assert_int_equal(run_all("width --mass 16.7 --eps 1e-400", &out), 2);
  assert_non_null(strstr(out, "underflows"));
  free(out);
  assert_int_equal(run_all("width --mass 1e400 --eps 1e-4", &out), 2);
  assert_non_null(strstr(out, "too large"));
  free(out);
  /* unknown option, missing value, value on a flag */
  assert_int_equal(run_all("width --mass 16.7 --eps 1e-4 --bogus", &out), 2);
  assert_non_null(strstr(out, "--bogus"));
  free(out);
  assert_int_equal(run_all("width --mass 16.7 --eps", &out), 2);
  assert_non_null(strstr(out, "--eps needs a value"));
  free(out);
  assert_int_equal(run_all("xsec --energy 100 --mass 16.7 --eps 1e-4 --dsdx=yes", &out), 2);
  assert_non_null(strstr(out, "--dsdx takes no value"));
  free(out);
  /* --name=value and options in any order */
  assert_int_equal(run("width --format=csv --eps=1e-4 --mass 16.7", NULL), 0);
  /* -h prints the help of a command with a positional argument (it is not a file name) */
  assert_int_equal(run_all("dump -h", &out), 0);
  assert_non_null(strstr(out, "usage: na64 dump FILE"));
  /* help columns: every help text starts in the same column */
  int col = -1, lines = 0;
  for (char *line = strstr(out, "\n  --"); line; line = strstr(line + 1, "\n  --")) {
    char *p = line + 3;
    while (*p && *p != ' ' && *p != '\n') ++p;             /* --name */
    if (p[0] == ' ' && p[1] != ' ')                         /* one space: a placeholder follows */
      for (++p; *p && *p != ' ' && *p != '\n'; ++p) {
      }
    char *gap = p;
    while (*p == ' ') ++p;
    assert_true(p - gap >= 2); /* at least two spaces before the help text */
    int c = (int)(p - line);
    if (col < 0) col = c;
    assert_int_equal(c, col);
    ++lines;
  }
  assert_true(lines >= 4);
  free(out);
  assert_int_equal(run("dump", NULL), 2);
  assert_int_equal(run("dump a.dat b.dat", NULL), 2);
}

/* `na64 run` without a card: the main job of configs/invisible_default.yaml (the README's `make run`),
 * the physics summary and the sensitivity report. Under ASan the same card with 50 times fewer
 * events (20000 beam particles, 2000 per mass, 2000 per Table 1 route): every step of the job runs,
 * which is what the sanitizers check; the full sample is this test's in the normal build. */
static void test_run_report(void **state)
{
  (void)state;
  char *out;
  char args[1024];
#if defined(__SANITIZE_ADDRESS__)
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "sed -e 's/^  events: 1000000 /  events: 20000 /' -e 's/^  signal_events: 20000 /  signal_events: 2000 /' "
           "'%s/configs/invisible_default.yaml' > '%s/test-report-small.yaml' && "
           "echo '  background_events: 2000' >> '%s/test-report-small.yaml' && "
           "grep -q '^  events: 20000 ' '%s/test-report-small.yaml'",
           NA64_SOURCE_DIR, NA64_BINARY_DIR, NA64_BINARY_DIR, NA64_BINARY_DIR);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  free(out);
  snprintf(args, sizeof args, "run '%s/test-report-small.yaml' --report-dir '%s/test-report'", NA64_BINARY_DIR,
           NA64_BINARY_DIR);
#else
  snprintf(args, sizeof args, "run --report-dir '%s/test-report'", NA64_BINARY_DIR);
#endif
  assert_int_equal(run(args, &out), 0);
  assert_non_null(strstr(out, "16.7"));
  free(out);
  char path[1024];
  snprintf(path, sizeof path, "%s/test-report/summary.csv", NA64_BINARY_DIR);
  na64_test_csv csv;
  na64_test_load_csv(path, &csv);
  assert_int_equal(csv.nrows, 4);
  int c = na64_test_csv_col(&csv, "decay_length_cm");
  assert_rel(csv.v[2 * csv.ncols + c], 290.9, 1e-3);
  na64_test_csv_free(&csv);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_xsec_csv), cmocka_unit_test(test_width_csv),
      cmocka_unit_test(test_exit_codes), cmocka_unit_test(test_parser), cmocka_unit_test(test_run_report),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
