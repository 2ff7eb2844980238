/* Browser test of the monitor page (issue 13): a monitor (in this process, so the sanitized library in
 * the ASan build) replays a small simulated file; headless Chromium driven by playwright-core
 * (tests/mon/browser_check.js) opens the page, waits for the dashboard histograms and the event
 * display to be drawn, compares the entries of ECAL/energy read through the JSON with the physics
 * events of `na64 dump --summary` (one energy sum per physics event: exact), and saves a screenshot as
 * <build>/mon_browser.png. Skipped when Chromium, node, playwright-core or the built page is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "na64/mon.h"
#include "support/na64_test.h"

static void test_page_in_chromium(void **state)
{
  (void)state;
  const char *chromium = getenv("NA64_CHROMIUM") ? getenv("NA64_CHROMIUM") : "/usr/bin/chromium";
  if (access(chromium, X_OK) != 0 || access(NA64_SOURCE_DIR "/web/node_modules/playwright-core/package.json", R_OK) != 0 ||
      access(NA64_BINARY_DIR "/web/index.html", R_OK) != 0 || na64_test_run("node --version >/dev/null 2>&1", NULL) != 0) {
    fprintf(stderr, "skipped: needs %s, node, web/node_modules/playwright-core and build/web\n", chromium);
    skip();
  }
  char dat[512], cmd[2048];
  snprintf(dat, sizeof dat, "%s/mon_browser_%d.dat", NA64_BINARY_DIR, (int)getpid());
  snprintf(cmd, sizeof cmd, "'%s' sim '%s/configs/invisible_default.yaml' --events 3000 --out '%s' >/dev/null 2>&1",
           NA64_CLI_PATH, NA64_SOURCE_DIR, dat);
  assert_int_equal(na64_test_run(cmd, NULL), 0);
  snprintf(cmd, sizeof cmd, "'%s' dump --summary '%s' | sed -n 's/^physics: *//p'", NA64_CLI_PATH, dat);
  char *out = NULL;
  assert_int_equal(na64_test_run(cmd, &out), 0);
  long nphys = strtol(out, NULL, 10);
  free(out);
  assert_true(nphys > 0);

  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = dat;
  o.listen = "127.0.0.1:0";
  o.cond_path = NA64_BINARY_DIR "/conditions.db";
  o.web_dir = NA64_BINARY_DIR "/web";
  na64_mon *m = NULL;
  na64_err err;
  if (na64_mon_start(&o, &m, &err) != 0) fail_msg("na64_mon_start: %s", err.msg);
  snprintf(cmd, sizeof cmd, "node '%s/tests/mon/browser_check.js' '%s/web' %d '%s/mon_browser.png' %ld", NA64_SOURCE_DIR,
           NA64_SOURCE_DIR, na64_mon_port(m), NA64_BINARY_DIR, nphys);
  int rc = na64_test_run(cmd, &out);
  fprintf(stderr, "%s", out ? out : "");
  free(out);
  na64_mon_stop(m);
  unlink(dat);
  assert_int_equal(rc, 0);
  assert_int_equal(access(NA64_BINARY_DIR "/mon_browser.png", R_OK), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_page_in_chromium)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
