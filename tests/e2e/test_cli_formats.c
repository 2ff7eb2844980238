/* The JSON and CSV outputs of `na64`, read with python3's json and csv modules and checked value by
 * value (tests/e2e/check_formats.py; python3 is in tools/debian-packages.txt). */
#include <stdio.h>
#include <stdlib.h>

#include "support/na64_test.h"

static void test_formats_with_python(void **state)
{
  (void)state;
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "python3 '%s/tests/e2e/check_formats.py' '%s' 2>&1", NA64_SOURCE_DIR, NA64_CLI_PATH);
  int rc = na64_test_run(cmd, &out);
  print_message("%s", out ? out : "");
  free(out);
  assert_int_equal(rc, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_formats_with_python)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
