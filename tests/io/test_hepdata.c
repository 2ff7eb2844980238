/* HEPData YAML: the files are read back with an independent YAML parser (PyYAML, Debian
 * python3-yaml), the submission keys checked, and the values compared one by one with what was
 * written and, end to end, with the CSV of the same curve (read with python3's csv module). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "na64/io.h"
#include "support/na64_test.h"

#define tmpdir na64_test_tmpdir

/* Load `yaml` with PyYAML and print: the names of the headers, then "v <value>" per value of every
 * variable (independent first), '-' kept as text; also checks the submission keys. */
static const char *const loader =
    "import sys, yaml\n"
    "d = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))\n"
    "assert set(d) == {'independent_variables', 'dependent_variables'}, d.keys()\n"
    "for v in d['independent_variables'] + d['dependent_variables']:\n"
    "    assert 'header' in v and 'values' in v, v.keys()\n"
    "    print('name', v['header']['name'].encode('unicode_escape').decode())\n"
    "    for q in v.get('qualifiers', []): print('qual', q['name'], '=', q['value'])\n"
    "    for x in v['values']: print('v', x['value'])\n";

static char *load_with_pyyaml(const char *yaml_path)
{
  char script[320], cmd[800];
  snprintf(script, sizeof script, "%s/load.py", tmpdir);
  FILE *f = fopen(script, "w");
  assert_non_null(f);
  fputs(loader, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", script, yaml_path);
  char *out = NULL;
  int rc = na64_test_run(cmd, &out);
  if (rc != 0) fail_msg("PyYAML could not load %s (rc %d): %s", yaml_path, rc, out ? out : "");
  return out;
}

static void test_awkward_strings_and_values(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/t.yaml", tmpdir);
  /* quotes, colons, '#', a backslash, braces and a non-ASCII character: each broke hand-written YAML */
  double m[4] = {1.5, 20, 1e-3, 123456.789};
  double eps[4] = {1.2345678901e-5, NAN, 3e-300, 0.5};
  na64_hepdata_var x = {"$m_{A'}$ [it's: #1]", "MeV", m};
  na64_hepdata_var y[1] = {{"$\\epsilon$ {upper}, \"limit\"", "", eps}};
  na64_hepdata_qualifier q[2] = {{"Reaction", "e- N --> e- N A'"}, {"CL", "90%"}};
  na64_err err = {0, ""};
  if (na64_hepdata_write(path, &x, y, 1, 4, q, 2, &err) != NA64_OK) fail_msg("%s", err.msg);
  char *out = load_with_pyyaml(path);
  assert_non_null(strstr(out, "name $m_{A'}$ [it's: #1]"));
  assert_non_null(strstr(out, "name $\\\\epsilon$ {upper}, \"limit\""));
  assert_non_null(strstr(out, "qual Reaction = e- N --> e- N A'"));
  assert_non_null(strstr(out, "qual CL = 90%"));
  /* values in order: 4 masses then 4 epsilons, NaN written as HEPData's '-' */
  double expect[8] = {m[0], m[1], m[2], m[3], eps[0], NAN, eps[2], eps[3]};
  const char *p = out;
  for (int i = 0; i < 8; ++i) {
    p = strstr(p, "\nv ");
    assert_non_null(p);
    p += 3;
    if (isnan(expect[i])) {
      assert_true(p[0] == '-' && p[1] == '\n');
      continue;
    }
    char *end = NULL;
    double v = strtod(p, &end);
    assert_true(end != p);
    assert_rel(v, expect[i], 1e-9); /* "%.10g": ten significant digits */
  }
  free(out);
}

static void test_failure_keeps_old(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/missing-dir/t.yaml", tmpdir);
  double m[1] = {1};
  na64_hepdata_var x = {"m", "MeV", m}, y = {"eps", "", m};
  na64_err err = {0, ""};
  assert_int_equal(na64_hepdata_write(path, &x, &y, 1, 1, NULL, 0, &err), NA64_EIO);
  assert_non_null(strstr(err.msg, path));
  /* a private /dev/full node (char 1,7): a regression can only replace the test's own node */
  char full[320];
  snprintf(full, sizeof full, "%s/full", tmpdir);
  if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) != 0) return;
  int probe = open(full, O_WRONLY); /* a nodev mount refuses device nodes: nothing to test then */
  if (probe < 0) {
    unlink(full);
    return;
  }
  close(probe);
  assert_int_equal(na64_hepdata_write(full, &x, &y, 1, 1, NULL, 0, &err), NA64_EIO);
  assert_non_null(strstr(err.msg, strerror(ENOSPC)));
  struct stat st;
  assert_int_equal(stat(full, &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  unlink(full);
}

/* End to end: `na64 limits --format csv --hepdata F` -- every HEPData value equals the CSV's. */
static void test_cli_hepdata_matches_csv(void **state)
{
  (void)state;
  static const char *const cases[] = {
      "--mode visible --eot 5.4e10 --masses 2,5,10,30",
      "--eot 2.84e11 --masses 1,10,100,1000",
  };
  for (int k = 0; k < 2; ++k) {
    char yaml_path[320], csv_path[320], script[320], cmd[2000];
    snprintf(yaml_path, sizeof yaml_path, "%s/cli%d.yaml", tmpdir, k);
    snprintf(csv_path, sizeof csv_path, "%s/cli%d.csv", tmpdir, k);
    snprintf(cmd, sizeof cmd, "'%s' limits %s --format csv --hepdata '%s' > '%s'", NA64_CLI_PATH, cases[k], yaml_path,
             csv_path);
    assert_int_equal(na64_test_run(cmd, NULL), 0);
    snprintf(script, sizeof script, "%s/cmp.py", tmpdir);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    /* CSV columns after the mass are the dependent variables in order; 10 significant digits both */
    fputs("import sys, csv, yaml\n"
          "d = yaml.safe_load(open(sys.argv[1]))\n"
          "rows = list(csv.reader(open(sys.argv[2])))\n"
          "head, rows = rows[0], rows[1:]\n"
          "cols = [d['independent_variables'][0]] + d['dependent_variables']\n"
          "assert len(cols) == len(head), (len(cols), head)\n"
          "n = 0\n"
          "for j, var in enumerate(cols):\n"
          "    vals = [x['value'] for x in var['values']]\n"
          "    assert len(vals) == len(rows)\n"
          "    for r, v in zip(rows, vals):\n"
          "        c = r[j]\n"
          "        if v == '-' or c in ('', 'nan', 'NaN'):\n"
          "            assert v == '-' and c in ('', 'nan', 'NaN', '-'), (v, c)\n"
          "        else:\n"
          "            assert abs(float(v) - float(c)) <= 1e-9 * abs(float(c)), (v, c)\n"
          "        n += 1\n"
          "print(n)\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s'", script, yaml_path, csv_path);
    char *out = NULL;
    int rc = na64_test_run(cmd, &out);
    if (rc != 0) fail_msg("HEPData and CSV differ for '%s': %s", cases[k], out ? out : "");
    assert_true(atoi(out) >= 8); /* at least 4 masses x 2 columns compared */
    free(out);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_awkward_strings_and_values),
      cmocka_unit_test(test_failure_keeps_old),
      cmocka_unit_test(test_cli_hepdata_matches_csv),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
