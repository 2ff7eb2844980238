/* Safe output files (na64_outfile_*): complete or absent, the old file intact on every failure,
 * links followed, FIFOs and devices never replaced. Full disks are simulated with RLIMIT_FSIZE in a
 * child process (SIGXFSZ ignored, so write(2) fails with EFBIG, setrlimit(2)) and with /dev/full
 * (every write fails with ENOSPC, null(4)). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "na64/io.h"
#include "support/na64_test.h"

#define tmpdir na64_test_tmpdir

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmpdir, name); }

static void put(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* No temporary file may be left in the test directory. */
static void assert_no_temp(void)
{
  DIR *d = opendir(tmpdir);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp")) fail_msg("temporary file left behind: %s", e->d_name);
  closedir(d);
}

static void expect_msg(const na64_err *err, const char *needle)
{
  if (!strstr(err->msg, needle)) fail_msg("message '%s' does not contain '%s'", err->msg, needle);
}

static void test_new_and_replace(void **state)
{
  (void)state;
  char p[320];
  path_of(p, sizeof p, "a.txt");
  na64_err err = {0, ""};
  assert_int_equal(na64_outfile_write_all(p, 0, "first\n", 6, &err), NA64_OK);
  assert_string_equal(slurp(p), "first\n");
  assert_int_equal(chmod(p, 0640), 0);
  na64_outfile *f = NULL;
  assert_int_equal(na64_outfile_open(p, 0, &f, &err), NA64_OK);
  assert_int_equal(na64_outfile_is_direct(f), 0);
  assert_string_not_equal(na64_outfile_path(f), p);
  fputs("second\n", na64_outfile_stream(f));
  assert_string_equal(slurp(p), "first\n"); /* not visible before commit */
  assert_int_equal(na64_outfile_commit(f, &err), NA64_OK);
  assert_string_equal(slurp(p), "second\n");
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0640); /* permissions of the replaced file kept */
  assert_no_temp();
}

static void test_abort_keeps_old(void **state)
{
  (void)state;
  char p[320];
  path_of(p, sizeof p, "b.txt");
  put(p, "old\n");
  na64_outfile *f = NULL;
  na64_err err = {0, ""};
  assert_int_equal(na64_outfile_open(p, 0, &f, &err), NA64_OK);
  fputs("half", na64_outfile_stream(f));
  na64_outfile_abort(f);
  assert_string_equal(slurp(p), "old\n");
  assert_no_temp();
  na64_outfile_abort(NULL);
}

/* A full disk: the file size limit makes write(2) fail with EFBIG part way through. */
static void test_size_limit_keeps_old(void **state)
{
  (void)state;
  char p[320];
  path_of(p, sizeof p, "c.txt");
  put(p, "precious old content\n");
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &rl);
    na64_err err = {0, ""};
    static char big[1 << 20];
    memset(big, 'x', sizeof big);
    int st = na64_outfile_write_all(p, 0, big, sizeof big, &err);
    char msg[600];
    int n = snprintf(msg, sizeof msg, "%d|%s", st, err.msg);
    if (write(fds[1], msg, (size_t)n) != n) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  char msg[600] = "";
  ssize_t n = read(fds[0], msg, sizeof msg - 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_true(n > 0);
  msg[n] = '\0';
  assert_int_equal(atoi(msg), NA64_EIO);
  if (!strstr(msg, p) || !strstr(msg, strerror(EFBIG))) fail_msg("message '%s' lacks the path or '%s'", msg, strerror(EFBIG));
  assert_string_equal(slurp(p), "precious old content\n");
  assert_no_temp();
}

/* A full device: a private node of /dev/full (char 1,7, null(4)) in the test directory, so that a
 * regression replaces only the test's own node, never the system's. Written straight through, the
 * error reported, the node never replaced. */
static void test_dev_full(void **state)
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
  struct stat before, after;
  assert_int_equal(stat(full, &before), 0);
  na64_err err = {0, ""};
  static char buf[1 << 16];
  memset(buf, 'y', sizeof buf);
  assert_int_equal(na64_outfile_write_all(full, 0, buf, sizeof buf, &err), NA64_EIO);
  expect_msg(&err, full);
  expect_msg(&err, strerror(ENOSPC));
  assert_int_equal(stat(full, &after), 0);
  assert_true(S_ISCHR(after.st_mode));
  assert_true(after.st_rdev == before.st_rdev && after.st_ino == before.st_ino);
  /* refused outright when the caller needs a regular file */
  na64_outfile *f = NULL;
  assert_int_equal(na64_outfile_open(full, NA64_OUTFILE_REGULAR, &f, &err), NA64_EINVAL);
  expect_msg(&err, "not a regular file");
  assert_null(f);
  unlink(full);
}

static void test_symlink_followed(void **state)
{
  (void)state;
  char real[320], link_[320], dangling[320];
  path_of(real, sizeof real, "real.txt");
  path_of(link_, sizeof link_, "link.txt");
  path_of(dangling, sizeof dangling, "dangling.txt");
  put(real, "old\n");
  assert_int_equal(symlink("real.txt", link_), 0);
  na64_err err = {0, ""};
  assert_int_equal(na64_outfile_write_all(link_, 0, "new\n", 4, &err), NA64_OK);
  struct stat st;
  assert_int_equal(lstat(link_, &st), 0);
  assert_true(S_ISLNK(st.st_mode)); /* the link stays a link */
  assert_string_equal(slurp(real), "new\n");
  assert_int_equal(symlink("nowhere/missing.txt", dangling), 0);
  assert_int_equal(na64_outfile_write_all(dangling, 0, "x", 1, &err), NA64_EIO);
  expect_msg(&err, dangling);
  assert_int_equal(lstat(dangling, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_no_temp();
}

static void test_fifo_written_through(void **state)
{
  (void)state;
  char p[320];
  path_of(p, sizeof p, "fifo");
  assert_int_equal(mkfifo(p, 0600), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) { /* reader: exit status = bytes read (mod 256) */
    int fd = open(p, O_RDONLY);
    char buf[256];
    ssize_t n, total = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) total += n;
    _exit((int)(total & 0xff));
  }
  na64_err err = {0, ""};
  assert_int_equal(na64_outfile_write_all(p, 0, "0123456789", 10, &err), NA64_OK);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 10);
  struct stat st;
  assert_int_equal(lstat(p, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  assert_no_temp();
}

static void test_no_clobber(void **state)
{
  (void)state;
  char p[320], q[320];
  path_of(p, sizeof p, "nc.txt");
  path_of(q, sizeof q, "nc2.txt");
  put(p, "keep\n");
  na64_err err = {0, ""};
  na64_outfile *f = NULL;
  assert_int_equal(na64_outfile_open(p, NA64_OUTFILE_NO_CLOBBER, &f, &err), NA64_EINVAL);
  expect_msg(&err, p);
  expect_msg(&err, "exists");
  /* the target appears between open and commit: still not replaced */
  assert_int_equal(na64_outfile_open(q, NA64_OUTFILE_NO_CLOBBER, &f, &err), NA64_OK);
  fputs("mine\n", na64_outfile_stream(f));
  put(q, "theirs\n");
  assert_int_equal(na64_outfile_commit(f, &err), NA64_EINVAL);
  assert_string_equal(slurp(q), "theirs\n");
  unlink(q);
  assert_int_equal(na64_outfile_write_all(q, NA64_OUTFILE_NO_CLOBBER, "mine\n", 5, &err), NA64_OK);
  assert_string_equal(slurp(q), "mine\n");
  assert_no_temp();
}

static void test_by_name(void **state)
{
  (void)state;
  char p[320];
  path_of(p, sizeof p, "byname.bin");
  put(p, "old\n");
  na64_err err = {0, ""};
  na64_outfile *f = NULL;
  assert_int_equal(na64_outfile_open(p, NA64_OUTFILE_BY_NAME, &f, &err), NA64_OK);
  assert_null(na64_outfile_stream(f));
  put(na64_outfile_path(f), "written by name\n");
  assert_int_equal(na64_outfile_commit(f, &err), NA64_OK);
  assert_string_equal(slurp(p), "written by name\n");
  /* the writer removed its file: an error, the old file kept */
  assert_int_equal(na64_outfile_open(p, NA64_OUTFILE_BY_NAME, &f, &err), NA64_OK);
  unlink(na64_outfile_path(f));
  assert_int_equal(na64_outfile_commit(f, &err), NA64_EIO);
  expect_msg(&err, p);
  assert_string_equal(slurp(p), "written by name\n");
  assert_no_temp();
}

static void test_bad_targets(void **state)
{
  (void)state;
  na64_err err = {0, ""};
  na64_outfile *f = NULL;
  assert_int_equal(na64_outfile_open(tmpdir, 0, &f, &err), NA64_EIO);
  expect_msg(&err, "directory");
  char p[320];
  path_of(p, sizeof p, "missing-dir/x.txt");
  assert_int_equal(na64_outfile_open(p, 0, &f, &err), NA64_EIO);
  expect_msg(&err, p);
  expect_msg(&err, strerror(ENOENT));
  assert_int_equal(na64_outfile_open("", 0, &f, &err), NA64_EINVAL);
  assert_int_equal(na64_outfile_open(NULL, 0, &f, &err), NA64_EINVAL);
}

/* na64_outfile_copy: the bytes of a file larger than its 64 kB block, and a missing source names
 * itself and leaves the old target. */
static void test_copy(void **state)
{
  (void)state;
  char src[320], dst[320], none[320];
  path_of(src, sizeof src, "copy_src.txt");
  path_of(dst, sizeof dst, "copy_dst.txt");
  path_of(none, sizeof none, "copy_missing.txt");
  FILE *f = fopen(src, "w");
  assert_non_null(f);
  for (int i = 0; i < 9000; ++i) fprintf(f, "%06d\n", i); /* 63000 bytes */
  assert_int_equal(fclose(f), 0);
  na64_err err = {0, ""};
  assert_int_equal(na64_outfile_copy(src, dst, 0, &err), NA64_OK);
  char *copy = strdup(slurp(dst));
  assert_non_null(copy);
  assert_string_equal(copy, slurp(src));
  assert_int_equal(strlen(copy), 63000);
  free(copy);
  put(dst, "old\n");
  assert_int_equal(na64_outfile_copy(none, dst, 0, &err), NA64_EIO);
  expect_msg(&err, "copy_missing.txt");
  assert_string_equal(slurp(dst), "old\n");
  assert_no_temp();
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_and_replace), cmocka_unit_test(test_abort_keeps_old),
      cmocka_unit_test(test_size_limit_keeps_old), cmocka_unit_test(test_dev_full),
      cmocka_unit_test(test_symlink_followed), cmocka_unit_test(test_fifo_written_through),
      cmocka_unit_test(test_no_clobber), cmocka_unit_test(test_by_name), cmocka_unit_test(test_bad_targets),
      cmocka_unit_test(test_copy),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
