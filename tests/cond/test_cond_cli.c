/* `na64 cond` end to end through the built command (NA64_CLI_PATH): output contents, CSV shapes,
 * exit codes (0 ok, 1 runtime error, 2 bad usage), the default database found without --db, and an
 * export -> build -> import -> export round trip through files. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/na64_test.h"

#define DEFAULT_DB NA64_BINARY_DIR "/conditions.db"

#define tmpdir na64_test_tmpdir

/* Run `na64 cond ARGS` (stderr merged into the output) with the default database given by the
 * environment variable; returns the exit status, *out must be freed. */
__attribute__((format(printf, 2, 3)))
static int cond(char **out, const char *fmt, ...)
{
  char args[2048], cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof cmd, "%s=%s '%s' cond %s 2>&1", "NA64_CONDITIONS_DB", DEFAULT_DB, NA64_CLI_PATH, args);
  return na64_test_run(cmd, out);
}

static int count_lines(const char *s)
{
  int n = 0;
  for (; *s; ++s) n += *s == '\n';
  return n;
}

static const char *line_starting(const char *text, const char *prefix)
{
  size_t n = strlen(prefix);
  for (const char *p = text; p && *p;) {
    if (!strncmp(p, prefix, n)) return p;
    p = strchr(p, '\n');
    if (p) ++p;
  }
  return NULL;
}

static void expect_in(const char *out, const char *needle)
{
  if (!strstr(out, needle)) fail_msg("output lacks '%s':\n%s", needle, out);
}

static void test_list(void **state)
{
  (void)state;
  char *out = NULL;
  assert_int_equal(cond(&out, "list --run 1500"), 0);
  expect_in(out, "setup invisible_2016_2018");
  expect_in(out, "100 GeV");
  expect_in(out, "ECAL");
  expect_in(out, "ST02");
  expect_in(out, "total field integral 7 T*m");
  assert_null(strstr(out, "WCAL"));
  free(out);

  assert_int_equal(cond(&out, "list --run 4250 --format csv"), 0);
  assert_non_null(line_starting(out, "detector,kind,x_cm,y_cm,z_cm,planes,channels,cells,sections\n"));
  const char *wcal = line_starting(out, "WCAL,wcal,");
  assert_non_null(wcal);
  const char *ecal = line_starting(out, "ECAL,ecal,");
  assert_non_null(ecal);
  /* ECAL row: ...,planes 0,channels 0,cells 36,sections 2 */
  assert_non_null(strstr(ecal, ",0,0,36,2\n"));
  const char *st03 = line_starting(out, "ST03,straw,");
  assert_non_null(st03);
  assert_non_null(strstr(st03, ",2,192,0,0\n")); /* two double layers of 96 2 mm straws */
  free(out);

  /* every detector record, without --run */
  assert_int_equal(cond(&out, "list --format csv"), 0);
  assert_non_null(line_starting(out, "S0,counter,*,1000,4309,"));
  assert_non_null(line_starting(out, "WCAL,wcal,visible_2018,4224,4309,"));
  free(out);
}

static void test_show(void **state)
{
  (void)state;
  char *out = NULL;
  assert_int_equal(cond(&out, "show ECAL --run 1500 --format csv"), 0);
  assert_int_equal(count_lines(out), 1 + 36);
  free(out);
  assert_int_equal(cond(&out, "show HCAL --run 4250 --format csv"), 0);
  assert_int_equal(count_lines(out), 1 + 36);
  free(out);
  assert_int_equal(cond(&out, "show ST01X --run 1500 --format csv"), 0);
  assert_int_equal(count_lines(out), 1 + 64);
  /* wire 8: layer 0, u = (8 - 15.5) * 0.6 - 0.15 = -4.65 cm, t0 40.5 ns, F1 source 400 port 0 chip 1 ch 0 */
  assert_non_null(line_starting(out, "8,0,-4.65,"));
  expect_in(out, ",40.5,400/0/1/0\n");
  free(out);
  assert_int_equal(cond(&out, "show ST02Y --run 1500 --format csv"), 0);
  assert_int_equal(count_lines(out), 1 + 96);
  free(out);
  assert_int_equal(cond(&out, "show ST01 --run 3000"), 0);
  expect_in(out, "ST01X");
  expect_in(out, "ST01Y");
  free(out);
  assert_int_equal(cond(&out, "show MBPL2 --run 3000 --format json"), 0);
  expect_in(out, "\"field_integral_Tm\": 3.5");
  free(out);
  assert_int_equal(cond(&out, "show WCAL"), 0); /* records of every setup */
  expect_in(out, "visible_2017");
  expect_in(out, "visible_2018");
  free(out);
  assert_int_equal(cond(&out, "show NOPE --run 1500"), 1);
  expect_in(out, "no detector, plane or magnet named 'NOPE'");
  free(out);
}

static void test_runs_and_errors(void **state)
{
  (void)state;
  char *out = NULL;
  assert_int_equal(cond(&out, "runs --format csv"), 0);
  assert_non_null(line_starting(out, "4224,4309,visible_2018,visible,2018,e-,150,3e+10\n"));
  assert_non_null(line_starting(out, "1000,2399,invisible_2016_2018,invisible,2016,e-,100,4.3e+10\n"));
  free(out);
  assert_int_equal(cond(&out, "list --run 99999"), 1);
  expect_in(out, "no run_info record covers run 99999");
  free(out);
  assert_int_equal(cond(&out, "list --run abc"), 2);
  expect_in(out, "--run");
  free(out);
  assert_int_equal(cond(&out, "list --run -5"), 2);
  free(out);
  assert_int_equal(cond(&out, "frobnicate"), 2);
  free(out);
  assert_int_equal(cond(&out, "show"), 2);
  expect_in(out, "missing NAME");
  free(out);
  assert_int_equal(cond(&out, "list --db /nonexistent/x.db"), 1);
  expect_in(out, "/nonexistent/x.db");
  free(out);
  assert_int_equal(cond(&out, "--help"), 0);
  expect_in(out, "export");
  free(out);
  assert_int_equal(cond(&out, "show --help"), 0);
  expect_in(out, "cm");
  free(out);
  assert_int_equal(cond(&out, "validate"), 0);
  expect_in(out, "valid");
  free(out);
}

/* Without --db and without the environment variable: the conditions.db next to the program. */
static void test_default_database(void **state)
{
  (void)state;
  char cmd[1024], *out = NULL;
  snprintf(cmd, sizeof cmd, "env -u NA64_CONDITIONS_DB '%s' cond list --run 4224 2>&1", NA64_CLI_PATH);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  expect_in(out, "visible_2018");
  expect_in(out, "150 GeV");
  free(out);
}

static void test_export_import_files(void **state)
{
  (void)state;
  char a[320], b[320], db[320], bad[320], *out = NULL;
  snprintf(a, sizeof a, "%s/a.sql", tmpdir);
  snprintf(b, sizeof b, "%s/b.sql", tmpdir);
  snprintf(db, sizeof db, "%s/new.db", tmpdir);
  snprintf(bad, sizeof bad, "%s/bad.sql", tmpdir);
  assert_int_equal(cond(&out, "export '%s'", a), 0);
  free(out);
  assert_int_equal(cond(&out, "build --out '%s'", db), 0); /* empty database, current schema */
  free(out);
  assert_int_equal(cond(&out, "import --db '%s' '%s'", db, a), 0);
  free(out);
  assert_int_equal(cond(&out, "export --db '%s' '%s'", db, b), 0);
  free(out);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
  assert_int_equal(system(cmd), 0);
  /* a bad file: exit 1, file and line named, database unchanged */
  FILE *f = fopen(bad, "w");
  fputs("INSERT INTO materials (first_run, name, density, x0, lambda_i) VALUES (0, 'Cu', 8.96, 1.436, 15.32);\n"
        "INSERT INTO materials (first_run, name, density, x0, lambda_i) VALUES (0, 'Ag', 10.5, 0.8543);\n",
        f);
  fclose(f);
  assert_int_equal(cond(&out, "import --db '%s' '%s'", db, bad), 1);
  expect_in(out, "bad.sql:2:");
  expect_in(out, "4 values for 5 columns");
  free(out);
  assert_int_equal(cond(&out, "export --db '%s' '%s'", db, b), 0);
  free(out);
  assert_int_equal(system(cmd), 0);
  /* the stdout export equals the file export */
  char c[320];
  snprintf(c, sizeof c, "%s/c.sql", tmpdir);
  snprintf(cmd, sizeof cmd, "NA64_CONDITIONS_DB='%s' '%s' cond export > '%s' && cmp -s '%s' '%s'", DEFAULT_DB,
           NA64_CLI_PATH, c, a, c);
  assert_int_equal(system(cmd), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_list),
      cmocka_unit_test(test_show),
      cmocka_unit_test(test_runs_and_errors),
      cmocka_unit_test(test_default_database),
      cmocka_unit_test(test_export_import_files),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
