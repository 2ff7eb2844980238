/* Numbers in text do not depend on the host's locale (issue 8 item 7): a program linking libna64
 * that switches to a German locale (decimal comma) still parses the embedded tables and writes
 * C-notation CSV. The de_DE locale is compiled into the test's scratch directory with localedef
 * and found through LOCPATH (glibc); without localedef or the de_DE source the test is skipped. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/core.h"
#include "na64/physics.h"
#include "support/na64_test.h"

/* glibc's newlocale keeps, for the life of the process, the search list it built from LOCPATH
 * (__argz_add_sep): LeakSanitizer reports it; it is not ours and not a per-call leak. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:__argz_add_sep\n"; }

static locale_t german(void)
{
  char dir[400], cmd[1200];
  snprintf(dir, sizeof dir, "%s/locale", na64_test_tmpdir);
  snprintf(cmd, sizeof cmd, "mkdir -p '%s' && localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1", dir, dir);
  if (system(cmd) != 0) return (locale_t)0;
  setenv("LOCPATH", dir, 1);
  return newlocale(LC_ALL_MASK, "de_DE.UTF-8", (locale_t)0);
}

static void test_german_locale(void **state)
{
  (void)state;
  /* reference values in the C locale first */
  na64_published_curve ref;
  na64_err err = {0, ""};
  assert_int_equal(na64_published_get(0, &ref, &err), NA64_OK);
  locale_t de = german();
  if (!de) {
    na64_published_release(&ref);
    print_message("no de_DE locale can be made here (localedef): skipped\n");
    skip();
  }
  locale_t old = uselocale(de);
  /* the locale is really active: plain printf writes a decimal comma */
  char probe[32];
  snprintf(probe, sizeof probe, "%.1f", 1.5);
  assert_string_equal(probe, "1,5");
  /* our parser and formatter do not follow it */
  char *end;
  assert_true(na64_num_parse("1.5e-3", &end) == 1.5e-3);
  assert_int_equal(*end, '\0');
  char buf[32];
  na64_num_format(buf, sizeof buf, "%.3f|%g", 2.25, 0.5);
  assert_string_equal(buf, "2.250|0.5");
  /* the embedded tables parse to the same numbers (grid.c) */
  na64_published_curve c;
  assert_int_equal(na64_published_get(0, &c, &err), NA64_OK);
  assert_int_equal(c.n, ref.n);
  for (int i = 0; i < c.n; ++i) {
    assert_true(c.mass_MeV[i] == ref.mass_MeV[i]);
    assert_true(c.eps[i] == ref.eps[i]);
  }
  na64_published_release(&c);
  /* a limit curve written as CSV uses the C notation */
  na64_sens_options o;
  na64_sens_options_default(&o);
  o.eot = 1e10;
  na64_sens_curve curve = {0};
  assert_int_equal(na64_sens_masses_parse("16.7,100.5", o.mode, &curve.masses, &curve.n, &err), NA64_OK);
  assert_true(curve.masses[1] == 0.1005);
  assert_int_equal(na64_sens_curve_compute(&o, &curve, NULL, NULL, &err), NA64_OK);
  char path[400];
  snprintf(path, sizeof path, "%s/de.csv", na64_test_tmpdir);
  assert_int_equal(na64_sens_curve_write_csv(&o, &curve, path, &err), NA64_OK);
  uselocale(old);
  na64_test_csv csv;
  na64_test_load_csv(path, &csv);
  assert_int_equal(csv.nrows, 2);
  assert_true(csv.v[0] == 16.7);
  assert_true(csv.v[2] == 100.5);
  assert_rel(csv.v[1], curve.pt[0].eps, 1e-9);
  na64_test_csv_free(&csv);
  na64_sens_curve_release(&curve);
  na64_published_release(&ref);
  freelocale(de);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_german_locale)};
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
