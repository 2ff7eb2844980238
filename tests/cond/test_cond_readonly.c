/* Read-only use of the conditions database (issue 9, item 5): a read-write open must not leave the
 * file in WAL mode; read-only opens work on a read-only copy whatever its journal mode.
 *
 * Limits of this test: the tests run as root, for whom chmod 444/555 does not stop writes, and no
 * read-only mount is available. So the read-only copy is made as a user would (file 444 in a 555
 * directory), and the one thing read-only media forbid that breaks SQLite -- a usable WAL index
 * "-shm" -- is forced by putting a FIFO in its place (it cannot be mapped: the open of the old
 * code failed with "not a conditions database: disk I/O error", as on a read-only file system). The journal mode is read from the file
 * header itself (bytes 18-19: 1 = rollback journal, 2 = WAL; sqlite.org/fileformat2.html, 1.3),
 * not through our code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "na64/cond.h"
#include "support/na64_test.h"

#define DEFAULT_DB NA64_BINARY_DIR "/conditions.db"
#define tmpdir na64_test_tmpdir

/* The file-format read/write version bytes: 1 = legacy (rollback journal), 2 = WAL. */
static int header_mode(const char *path)
{
  unsigned char h[20];
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fread(h, 1, sizeof h, f), sizeof h);
  fclose(f);
  assert_int_equal(h[18], h[19]);
  return h[18];
}

static void test_rw_open_restores_journal_mode(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/rw.db", tmpdir);
  na64_test_copy_file(DEFAULT_DB, path);
  assert_int_equal(header_mode(path), 1); /* built as a single-file database */
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(path, NA64_COND_READWRITE, &db, &err) != NA64_OK) fail_msg("%s", err.msg);
  assert_int_equal(header_mode(path), 2); /* WAL while open, for concurrent readers */
  na64_cond_close(db);
  assert_int_equal(header_mode(path), 1);
  char wal[340];
  snprintf(wal, sizeof wal, "%s-wal", path);
  assert_int_equal(access(wal, F_OK), -1);
}

static void make_wal_copy(const char *dir, char *path, size_t n)
{
  char cmd[1200];
  snprintf(path, n, "%s/conditions.db", dir);
  assert_int_equal(mkdir(dir, 0755), 0);
  na64_test_copy_file(DEFAULT_DB, path);
  /* left in WAL mode by a foreign tool (sqlite3 shell), as an old na64 left it */
  snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'PRAGMA journal_mode=WAL;' >/dev/null", path);
  assert_int_equal(na64_test_run(cmd, NULL), 0);
  assert_int_equal(header_mode(path), 2);
}

static void read_one_run(const char *path)
{
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(path, NA64_COND_READONLY, &db, &err) != NA64_OK) fail_msg("read-only open: %s", err.msg);
  na64_cond_run_info ri;
  if (na64_cond_get_run_info(db, 1500, &ri, &err) != NA64_OK) fail_msg("%s", err.msg);
  assert_string_equal(ri.mode, "invisible");
  na64_cond_close(db);
}

static void test_readonly_copy_in_wal_mode(void **state)
{
  (void)state;
  char dir[300], path[340], shm[360];
  snprintf(dir, sizeof dir, "%s/ro", tmpdir);
  make_wal_copy(dir, path, sizeof path);
  assert_int_equal(chmod(path, 0444), 0);
  assert_int_equal(chmod(dir, 0555), 0);
  read_one_run(path);
  /* the WAL index is unusable (read-only media): the open falls back to immutable=1 */
  assert_int_equal(chmod(dir, 0755), 0);
  snprintf(shm, sizeof shm, "%s-shm", path);
  unlink(shm);
  assert_int_equal(mkfifo(shm, 0444), 0);
  assert_int_equal(chmod(dir, 0555), 0);
  read_one_run(path);
  /* the command too */
  char cmd[1200], *out = NULL;
  snprintf(cmd, sizeof cmd, "'%s' cond runs --db '%s' 2>&1", NA64_CLI_PATH, path);
  int rc = na64_test_run(cmd, &out);
  if (rc != 0) fail_msg("cond runs on a read-only WAL copy failed: %s", out);
  assert_non_null(strstr(out, "invisible"));
  free(out);
  /* a read-write open of the same file names what failed, not "not a conditions database" */
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  assert_int_not_equal(na64_cond_open(path, NA64_COND_READWRITE, &db, &err), NA64_OK);
  assert_null(strstr(err.msg, "not a conditions database"));
  assert_non_null(strstr(err.msg, path));
  assert_int_equal(chmod(dir, 0755), 0);
  unlink(shm);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rw_open_restores_journal_mode),
      cmocka_unit_test(test_readonly_copy_in_wal_mode),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
