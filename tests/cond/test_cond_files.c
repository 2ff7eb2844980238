/* Files the conditions module writes (issue 9, items 3 and 4): `cond export FILE` never replaces a
 * symbolic link, FIFO or device and reports write errors; a full disk (RLIMIT_FSIZE in a child)
 * keeps the old export; `cond build --out EXISTING` refuses without --force and keeps the old
 * database. Device cases use a private node of /dev/full (char 1,7) in the test directory, so a
 * regression can only replace the test's own node. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "na64/cond.h"
#include "support/na64_test.h"

#define DEFAULT_DB NA64_BINARY_DIR "/conditions.db"
#define tmpdir na64_test_tmpdir

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmpdir, name); }

static int cli(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli(char **out, const char *fmt, ...)
{
  char args[2048], cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof cmd, "NA64_CONDITIONS_DB='%s' '%s' cond %s 2>&1", DEFAULT_DB, NA64_CLI_PATH, args);
  return na64_test_run(cmd, out);
}

static void expect_in(const char *out, const char *needle)
{
  if (!strstr(out, needle)) fail_msg("output lacks '%s':\n%s", needle, out);
}

static long file_size(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void put(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static void test_export_to_device(void **state)
{
  (void)state;
  char full[320];
  path_of(full, sizeof full, "full");
  if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) != 0) skip(); /* needs CAP_MKNOD */
  int probe = open(full, O_WRONLY); /* a nodev mount refuses device nodes */
  if (probe < 0) {
    unlink(full);
    skip();
  }
  close(probe);
  char *out = NULL;
  assert_int_equal(cli(&out, "export '%s'", full), 1);
  expect_in(out, full);
  expect_in(out, strerror(ENOSPC));
  free(out);
  struct stat st;
  assert_int_equal(lstat(full, &st), 0);
  assert_true(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 7);
  /* build never writes a database into a device */
  assert_int_equal(cli(&out, "build --force --out '%s'", full), 1);
  expect_in(out, "not a regular file");
  free(out);
  assert_int_equal(lstat(full, &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  unlink(full);
}

static void test_export_to_fifo_and_link(void **state)
{
  (void)state;
  char fifo[320], real[320], link_[320];
  path_of(fifo, sizeof fifo, "pipe");
  path_of(real, sizeof real, "real.sql");
  path_of(link_, sizeof link_, "link.sql");
  assert_int_equal(mkfifo(fifo, 0600), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) { /* reader: exit 0 if it received an export header */
    int fd = open(fifo, O_RDONLY);
    char buf[4096];
    ssize_t n, total = 0;
    int header = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
      if (total == 0 && n > 20 && !memcmp(buf, "-- na64 conditions", 18)) header = 1;
      total += n;
    }
    _exit(header && total > 10000 ? 0 : 1);
  }
  char *out = NULL;
  assert_int_equal(cli(&out, "export '%s'", fifo), 0);
  free(out);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  struct stat st;
  assert_int_equal(lstat(fifo, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));

  put(real, "old\n");
  assert_int_equal(symlink("real.sql", link_), 0);
  assert_int_equal(cli(&out, "export '%s'", link_), 0);
  free(out);
  assert_int_equal(lstat(link_, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_true(file_size(real) > 10000);
}

/* The disk fills up during an export: the previous export is kept byte for byte. */
static void test_export_full_disk_keeps_old(void **state)
{
  (void)state;
  char path[320];
  path_of(path, sizeof path, "old.sql");
  put(path, "-- the previous export\n");
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(DEFAULT_DB, NA64_COND_READONLY, &db, &err) != NA64_OK) fail_msg("%s", err.msg);
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {8192, 8192};
    setrlimit(RLIMIT_FSIZE, &rl);
    na64_err e2 = {0, ""};
    int st = na64_cond_export_file(db, path, &e2);
    char msg[700];
    int n = snprintf(msg, sizeof msg, "%d|%s", st, e2.msg);
    _exit(write(fds[1], msg, (size_t)n) == n ? 0 : 2);
  }
  close(fds[1]);
  char msg[700] = "";
  ssize_t n = read(fds[0], msg, sizeof msg - 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  na64_cond_close(db);
  assert_true(n > 0);
  msg[n] = '\0';
  assert_int_equal(atoi(msg), NA64_EIO);
  if (!strstr(msg, path) || !strstr(msg, strerror(EFBIG))) fail_msg("message '%s' lacks the path or the reason", msg);
  char *text = NULL;
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char buf[128] = "";
  assert_non_null(fgets(buf, sizeof buf, f));
  fclose(f);
  free(text);
  assert_string_equal(buf, "-- the previous export\n");
}

static void test_build_refuses_existing(void **state)
{
  (void)state;
  char db[320], sql[320];
  path_of(db, sizeof db, "existing.db");
  path_of(sql, sizeof sql, "existing.sql");
  na64_test_copy_file(DEFAULT_DB, db);
  long before = file_size(db);
  assert_true(before > 100000);
  char *out = NULL;
  assert_int_equal(cli(&out, "build --out '%s'", db), 1);
  expect_in(out, db);
  expect_in(out, "exists");
  expect_in(out, "--force");
  free(out);
  assert_int_equal(file_size(db), before);
  /* the old database still opens with its runs */
  assert_int_equal(cli(&out, "runs --db '%s'", db), 0);
  expect_in(out, "invisible");
  free(out);
  /* a build that fails (bad SQL) with --force keeps the old file too */
  put(sql, "INSERT INTO no_such_table VALUES (1);\n");
  assert_int_equal(cli(&out, "build --force --out '%s' '%s'", db, sql), 1);
  free(out);
  assert_int_equal(file_size(db), before);
  /* --force replaces it */
  assert_int_equal(cli(&out, "build --force --out '%s'", db), 0);
  free(out);
  assert_true(file_size(db) < before);
  /* the library refuses the same way */
  na64_err err = {0, ""};
  assert_int_equal(na64_cond_build(db, NULL, 0, 0, &err), NA64_EINVAL);
  expect_in(err.msg, "exists");
  assert_int_equal(na64_cond_build(db, NULL, 0, NA64_COND_BUILD_FORCE, &err), NA64_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_export_to_device),
      cmocka_unit_test(test_export_to_fifo_and_link),
      cmocka_unit_test(test_export_full_disk_keeps_old),
      cmocka_unit_test(test_build_refuses_existing),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
