/* Locale independence (issue 8, item 7): a program that links libna64 and sets a locale whose
 * decimal point is a comma (as de_DE does) still gets files in the C number format -- HEPData YAML,
 * the conditions export -- and the library still reads its r(t) point lists.
 *
 * The test compiles a minimal locale with only LC_NUMERIC (decimal_point ",") with localedef(1)
 * into its temporary directory and selects it through LOCPATH (glibc, locale(7)), so it needs no
 * locale installed on the machine; it is skipped if localedef is missing. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/cond.h"
#include "na64/io.h"
#include "support/na64_test.h"

#define DEFAULT_DB NA64_BINARY_DIR "/conditions.db"
#define tmpdir na64_test_tmpdir

static int comma_locale_on(void)
{
  char src[320], cmd[1200];
  snprintf(src, sizeof src, "%s/comma.src", tmpdir);
  FILE *f = fopen(src, "w");
  if (!f) return 0;
  fputs("LC_NUMERIC\ndecimal_point \",\"\nthousands_sep \".\"\ngrouping 3;3\nEND LC_NUMERIC\n", f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "localedef -c -i '%s' -f ANSI_X3.4-1968 '%s/xx_XX' >/dev/null 2>&1", src, tmpdir);
  if (na64_test_run(cmd, NULL) > 1) return 0; /* 1: warnings only (missing categories) */
  setenv("LOCPATH", tmpdir, 1);
  if (!setlocale(LC_ALL, "xx_XX")) return 0;
  char buf[16];
  snprintf(buf, sizeof buf, "%.1f", 1.5);
  return !strcmp(buf, "1,5");
}

static void c_locale(void) { setlocale(LC_ALL, "C"); }

static char *export_text(na64_cond *db)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  na64_err err = {0, ""};
  if (na64_cond_export(db, f, &err) != NA64_OK) fail_msg("%s", err.msg);
  fclose(f);
  return buf;
}

static void test_files_in_c_format(void **state)
{
  (void)state;
  /* reference outputs in the C locale */
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(DEFAULT_DB, NA64_COND_READONLY, &db, &err) != NA64_OK) fail_msg("%s", err.msg);
  char *exp_c = export_text(db);
  double m[2] = {1.5, 16.7}, eps[2] = {2.5e-5, 0.125};
  na64_hepdata_var x = {"m", "MeV", m}, y = {"eps", "", eps};
  char yaml_c[320], yaml_l[320];
  snprintf(yaml_c, sizeof yaml_c, "%s/c.yaml", tmpdir);
  snprintf(yaml_l, sizeof yaml_l, "%s/l.yaml", tmpdir);
  assert_int_equal(na64_hepdata_write(yaml_c, &x, &y, 1, 2, NULL, 0, &err), NA64_OK);

  if (!comma_locale_on()) {
    na64_cond_close(db);
    free(exp_c);
    c_locale();
    skip();
  }
  char *exp_l = export_text(db);
  assert_int_equal(na64_hepdata_write(yaml_l, &x, &y, 1, 2, NULL, 0, &err), NA64_OK);
  c_locale();
  na64_cond_close(db);
  assert_true(strlen(exp_c) > 100000);
  if (strcmp(exp_c, exp_l) != 0) fail_msg("the export differs under a comma-decimal locale");
  free(exp_c);
  free(exp_l);
  char cmd[800], *a = NULL, *b = NULL;
  snprintf(cmd, sizeof cmd, "cat '%s'", yaml_c);
  assert_int_equal(na64_test_run(cmd, &a), 0);
  snprintf(cmd, sizeof cmd, "cat '%s'", yaml_l);
  assert_int_equal(na64_test_run(cmd, &b), 0);
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "value: 1.5}"));
  free(a);
  free(b);
}

/* An r(t) table stored and read back under the comma locale keeps its values exactly. */
static void test_rt_roundtrip(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/rt.db", tmpdir);
  na64_test_copy_file(DEFAULT_DB, path);
  if (!comma_locale_on()) {
    c_locale();
    skip();
  }
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(path, NA64_COND_READWRITE, &db, &err) != NA64_OK) fail_msg("%s", err.msg);
  double t[3] = {0.5, 20.25, 60.125}, r[3] = {0.0, 0.1, 0.275};
  if (na64_cond_insert_straw_calib(db, 1000, 4223, "ST01X", 0, NULL, 3, t, r, 0.0125, "comma", &err) != NA64_OK)
    fail_msg("%s", err.msg);
  na64_cond_records *rec = NULL;
  if (na64_cond_fetch(db, 1500, &rec, &err) != NA64_OK) fail_msg("%s", err.msg);
  c_locale();
  int found = 0;
  for (size_t i = 0; i < rec->nstraw_rt; ++i)
    if (!strcmp(rec->straw_rt[i].plane, "ST01X")) {
      found = 1;
      assert_int_equal(rec->straw_rt[i].npoints, 3);
      for (int k = 0; k < 3; ++k) {
        assert_true(rec->straw_rt[i].t[k] == t[k]);
        assert_true(rec->straw_rt[i].r[k] == r[k]);
      }
    }
  assert_true(found);
  na64_cond_records_free(rec);
  na64_cond_close(db);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_files_in_c_format),
      cmocka_unit_test(test_rt_roundtrip),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
