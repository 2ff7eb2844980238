/* Plots: a band covering every point (the heap overflow of issue 9 item 1, found by the ASan stage
 * of `make test`), complete files of each format, and the old plot kept when the disk fills up
 * (RLIMIT_FSIZE in a child, SIGXFSZ ignored). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "na64/io.h"
#include "support/na64_test.h"

#define tmpdir na64_test_tmpdir

static na64_plot *band_plot(void)
{
  /* a band whose both edges exist at every mass: one contiguous run of all n points */
  double x[3] = {2, 5, 10}, lo[3] = {1e-5, 2e-5, 3e-5}, hi[3] = {1e-4, 2e-4, 3e-4};
  na64_plot *p = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_plot_new("t", "m", "eps", 1, 1, 1, 20, 1e-6, 1e-3, &p, &err), NA64_OK);
  assert_int_equal(na64_plot_band(p, "excluded", x, lo, hi, 3, 1, &err), NA64_OK);
  assert_int_equal(na64_plot_curve(p, "curve", x, hi, 3, 2, 1, &err), NA64_OK);
  return p;
}

static size_t read_all(const char *path, unsigned char *buf, size_t cap)
{
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static void test_band_every_point(void **state)
{
  (void)state;
  na64_plot *p = band_plot();
  static const char *const ext[] = {"png", "pdf", "svg"};
  for (int i = 0; i < 3; ++i) {
    char path[320];
    snprintf(path, sizeof path, "%s/band.%s", tmpdir, ext[i]);
    na64_err err = {0, ""};
    if (na64_plot_write(p, path, &err) != NA64_OK) fail_msg("%s", err.msg);
    static unsigned char buf[1 << 20];
    size_t n = read_all(path, buf, sizeof buf);
    assert_true(n > 100);
    /* the formats' own signatures: PNG spec. 5.2, PDF "%PDF-", SVG an XML document */
    if (i == 0) assert_memory_equal(buf, "\x89PNG\r\n\x1a\n", 8);
    if (i == 1) assert_memory_equal(buf, "%PDF-", 5);
    if (i == 2) assert_non_null(strstr((char *)buf, "<svg"));
  }
  na64_plot_free(p);
}

static void test_full_disk_keeps_old_plot(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/keep.png", tmpdir);
  na64_plot *p = band_plot();
  na64_err err = {0, ""};
  if (na64_plot_write(p, path, &err) != NA64_OK) fail_msg("%s", err.msg);
  static unsigned char before[1 << 20], after[1 << 20];
  size_t nb = read_all(path, before, sizeof before);
  assert_true(nb > 4096); /* larger than the limit below */
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &rl);
    na64_err e2 = {0, ""};
    int st = na64_plot_write(p, path, &e2);
    /* exit 0 only for the expected failure naming the path */
    _exit(st == NA64_EIO && strstr(e2.msg, path) ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  size_t na = read_all(path, after, sizeof after);
  assert_int_equal(na, nb);
  assert_memory_equal(before, after, nb);
  na64_plot_free(p);
}

static void test_bad_paths(void **state)
{
  (void)state;
  na64_plot *p = band_plot();
  na64_err err = {0, ""};
  char path[320];
  snprintf(path, sizeof path, "%s/x.gif", tmpdir);
  assert_int_equal(na64_plot_write(p, path, &err), NA64_EINVAL);
  assert_int_equal(access(path, F_OK), -1);
  snprintf(path, sizeof path, "%s/missing/x.png", tmpdir);
  assert_int_equal(na64_plot_write(p, path, &err), NA64_EIO);
  assert_non_null(strstr(err.msg, path));
  na64_plot_free(p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_band_every_point),
      cmocka_unit_test(test_full_disk_keeps_old_plot),
      cmocka_unit_test(test_bad_paths),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
