/* Conditions database: opening, schema migrations, the default path, transaction helpers.
 * SQLite C interface: https://sqlite.org/c3ref/intro.html; WAL: https://sqlite.org/wal.html. */
#define _GNU_SOURCE /* dladdr(3) */
#include "cond/cond_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int na64_cond_schema_version(void)
{
  int v = 0;
  for (const na64_cond_migration *m = na64_cond__migrations; m->sql; ++m) v = m->version;
  return v;
}

/* The compiled-in migrations must be numbered 1, 2, 3, ... without gaps (a gap would make an old
 * file skip a step). Checked at every open, it is a handful of integer comparisons. */
static int check_migrations(na64_err *err)
{
  int expect = 1;
  for (const na64_cond_migration *m = na64_cond__migrations; m->sql; ++m, ++expect)
    if (m->version != expect)
      return na64_err_set(err, NA64_EDB, "conditions: migration %s has version %d, expected %d",
                          m->name, m->version, expect);
  return NA64_OK;
}

static int file_exists(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int put_path(char *buf, size_t len, const char *s)
{
  size_t n = strlen(s);
  if (n + 1 > len) return NA64_ERANGE;
  memcpy(buf, s, n + 1);
  return NA64_OK;
}

/* The directory holding the code of this library (the shared object, or the executable it is
 * linked into statically), from dladdr(3) on one of its functions; "" if unknown. */
static void library_dir(char *dir, size_t n)
{
  Dl_info info;
  dir[0] = '\0';
  if (!dladdr((void *)na64_cond_default_path, &info) || !info.dli_fname || !info.dli_fname[0]) return;
  char *real = realpath(info.dli_fname, NULL);
  const char *name = real ? real : info.dli_fname;
  const char *slash = strrchr(name, '/');
  if (slash) snprintf(dir, n, "%.*s", (int)(slash - name), name);
  free(real);
}

/* Order (docs/conditions.md, "Which database"): $NA64_CONDITIONS_DB; <libdir>/../share/na64/ (an
 * installed tree, even relocated); the install data directory compiled in; and, only for an
 * uninstalled build -- the library sits in a CMake build tree, recognised by its CMakeCache.txt --
 * the conditions.db built next to it. No build-tree path is compiled into the library (issue 8,
 * item 6): an installed library never looks into the build tree it came from. */
int na64_cond_default_path(char *buf, size_t len)
{
  if (!buf || !len) return NA64_EINVAL;
  const char *env = getenv(NA64_COND_ENV);
  if (env && *env) return put_path(buf, len, env);
  char dir[4096], cand[4200];
  library_dir(dir, sizeof dir);
  if (dir[0]) {
    snprintf(cand, sizeof cand, "%s/../share/na64/conditions.db", dir);
    if (file_exists(cand)) return put_path(buf, len, cand);
  }
#ifdef NA64_COND_INSTALL_DB
  if (file_exists(NA64_COND_INSTALL_DB)) return put_path(buf, len, NA64_COND_INSTALL_DB);
#endif
  if (dir[0]) {
    snprintf(cand, sizeof cand, "%s/CMakeCache.txt", dir);
    if (file_exists(cand)) {
      snprintf(cand, sizeof cand, "%s/conditions.db", dir);
      if (file_exists(cand)) return put_path(buf, len, cand);
    }
  }
#ifdef NA64_COND_INSTALL_DB
  return put_path(buf, len, NA64_COND_INSTALL_DB); /* absent: the open error names where it was sought */
#else
  return put_path(buf, len, "conditions.db");
#endif
}

int na64_cond__sqlerr(na64_cond *c, na64_err *err, const char *what)
{
  return na64_err_set(err, NA64_EDB, "%s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
}

int na64_cond__exec(na64_cond *c, const char *sql, na64_err *err)
{
  if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) return na64_cond__sqlerr(c, err, sql);
  return NA64_OK;
}

int na64_cond__begin(na64_cond *c, int immediate, na64_err *err)
{
  return na64_cond__exec(c, immediate ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

int na64_cond__commit(na64_cond *c, na64_err *err)
{
  if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    int st = na64_cond__sqlerr(c, err, "COMMIT");
    na64_cond__rollback(c);
    return st;
  }
  return NA64_OK;
}

void na64_cond__rollback(na64_cond *c)
{
  if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static int pragma_int(na64_cond *c, const char *pragma, int *value, na64_err *err)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, pragma, -1, &st, NULL) != SQLITE_OK) return na64_cond__sqlerr(c, err, pragma);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    int s = na64_cond__sqlerr(c, err, pragma);
    sqlite3_finalize(st);
    return s;
  }
  *value = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return NA64_OK;
}

int na64_cond_user_version(na64_cond *c, int *version, na64_err *err)
{
  if (!c || !version) return na64_err_set(err, NA64_EINVAL, "na64_cond_user_version: NULL argument");
  return pragma_int(c, "PRAGMA user_version", version, err);
}

int na64_cond_migrate(na64_cond *c, int target, na64_err *err)
{
  if (!c) return na64_err_set(err, NA64_EINVAL, "na64_cond_migrate: NULL handle");
  NA64_CALL(check_migrations(err));
  int latest = na64_cond_schema_version();
  if (target <= 0) target = latest;
  if (target > latest)
    return na64_err_set(err, NA64_EINVAL, "%s: cannot migrate to schema %d: this library knows up to %d",
                        c->path, target, latest);
  if (c->readonly)
    return na64_err_set(err, NA64_EINVAL, "%s: opened read-only, cannot migrate", c->path);
  for (;;) {
    /* One migration per IMMEDIATE transaction; the version is re-read inside it so that two
     * processes upgrading the same file at once apply each step exactly once. */
    NA64_CALL(na64_cond__begin(c, 1, err));
    int uv = 0;
    int st = pragma_int(c, "PRAGMA user_version", &uv, err);
    if (st != NA64_OK || uv >= target) {
      if (st != NA64_OK) {
        na64_cond__rollback(c);
        return st;
      }
      return na64_cond__commit(c, err);
    }
    const na64_cond_migration *m = &na64_cond__migrations[uv];
    char *msg = NULL;
    if (sqlite3_exec(c->db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
      na64_err_set(err, NA64_EDB, "%s: migration %s (schema %d -> %d) failed: %s", c->path, m->name, uv,
                   m->version, msg ? msg : sqlite3_errmsg(c->db));
      sqlite3_free(msg);
      na64_cond__rollback(c);
      return NA64_EDB;
    }
    char pragma[96];
    st = NA64_OK;
    if (uv == 0) {
      snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d", NA64_COND_APPLICATION_ID);
      st = na64_cond__exec(c, pragma, err);
    }
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
    if (st == NA64_OK) st = na64_cond__exec(c, pragma, err);
    if (st == NA64_OK) st = na64_cond__checksum_update(c, err); /* a migration may change rows */
    if (st != NA64_OK) {
      na64_cond__rollback(c);
      return st;
    }
    NA64_CALL(na64_cond__commit(c, err));
    na64_log(NA64_LOG_INFO, "%s: migrated to schema %d (%s)", c->path, m->version, m->name);
  }
}

/* A read-write open switches the file to WAL for its concurrency; the journal mode the file had is
 * put back when the handle closes, so that a file installed or copied later is not left in WAL
 * mode, which read-only media cannot open without its -shm file (issue 9, item 5). Best effort:
 * while another connection has the file open SQLite keeps WAL (sqlite.org/pragma.html#pragma_journal_mode),
 * and the last read-write handle to close restores it. */
static void restore_journal_mode(na64_cond *c)
{
  if (c->readonly || !c->journal_mode[0] || !sqlite3_stricmp(c->journal_mode, "wal")) return;
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA journal_mode = %s", c->journal_mode);
  sqlite3_busy_timeout(c->db, 0); /* another connection open: leave WAL at once rather than wait */
  sqlite3_exec(c->db, sql, NULL, NULL, NULL);
}

/* "file:" URI of a path for sqlite3_open_v2 (sqlite.org/uri.html): '%', '?' and '#' escaped. */
static char *file_uri(const char *path, const char *query)
{
  size_t n = strlen(path), cap = 3 * n + strlen(query) + 16, k = 0;
  char *u = malloc(cap);
  if (!u) return NULL;
  k += (size_t)snprintf(u, cap, "file:");
  for (size_t i = 0; i < n; ++i) {
    unsigned char ch = (unsigned char)path[i];
    if (ch == '%' || ch == '?' || ch == '#') k += (size_t)snprintf(u + k, cap - k, "%%%02X", ch);
    else u[k++] = (char)ch;
  }
  snprintf(u + k, cap - k, "?%s", query);
  return u;
}

static int sql_open(na64_cond *c, const char *name, int oflags)
{
  if (c->db) sqlite3_close(c->db);
  c->db = NULL;
  int rc = sqlite3_open_v2(name, &c->db, oflags, NULL);
  if (c->db) {
    sqlite3_extended_result_codes(c->db, 1);
    /* Readers and the writer wait for each other's short locks instead of failing at once. */
    sqlite3_busy_timeout(c->db, 10000);
  }
  return rc;
}

/* The first read of the file: the header pragmas. A failure names what failed: not an SQLite file
 * (NA64_EFORMAT, "not a conditions database"), or the read itself (NA64_EIO, with SQLite's reason:
 * permissions, read-only media, I/O error). */
static int read_header(na64_cond *c, int *appid, int *uv, int *ntables, na64_err *err)
{
  na64_err tmp = {0, ""};
  if (pragma_int(c, "PRAGMA application_id", appid, &tmp) == NA64_OK &&
      pragma_int(c, "PRAGMA user_version", uv, &tmp) == NA64_OK &&
      pragma_int(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", ntables, &tmp) == NA64_OK)
    return NA64_OK;
  int rc = sqlite3_extended_errcode(c->db);
  if ((rc & 0xff) == SQLITE_NOTADB)
    return na64_err_set(err, NA64_EFORMAT, "%s: not a conditions database: not an SQLite file (%s)", c->path,
                        sqlite3_errmsg(c->db));
  const char *hint = "";
  if (rc == SQLITE_IOERR_SHMOPEN || rc == SQLITE_IOERR_SHMSIZE || rc == SQLITE_IOERR_SHMMAP || rc == SQLITE_READONLY_CANTINIT ||
      rc == SQLITE_READONLY_DIRECTORY || rc == SQLITE_CANTOPEN)
    hint = ": the WAL index (-shm) or journal beside it cannot be created or used (read-only directory or media?)";
  return na64_err_set(err, NA64_EIO, "%s: cannot read the conditions database%s: %s (SQLite code %d)%s", c->path,
                      c->readonly ? " (opened read-only)" : "", sqlite3_errmsg(c->db), rc, hint);
}

/* Read-only: SQLITE_OPEN_READONLY writes nothing to the file. A WAL-mode file still needs its -shm
 * index, which cannot be created on read-only media (sqlite.org/wal.html, "Read-Only Databases");
 * then the file is reopened with immutable=1 (sqlite.org/uri.html): no locks, no -shm, no
 * journal, which is right for a file nobody can write. */
static int connect_ro(na64_cond *c, na64_err *err)
{
  int rc = sql_open(c, c->path, SQLITE_OPEN_READONLY);
  int probe = 0;
  if (rc == SQLITE_OK && pragma_int(c, "PRAGMA schema_version", &probe, NULL) == NA64_OK) return NA64_OK;
  int why = c->db ? sqlite3_extended_errcode(c->db) : rc;
  if ((why & 0xff) == SQLITE_NOTADB) return NA64_OK; /* read_header names it */
  char *uri = file_uri(c->path, "mode=ro&immutable=1");
  if (!uri) return na64_err_set(err, NA64_ENOMEM, "conditions: out of memory");
  rc = sql_open(c, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
  free(uri);
  if (rc == SQLITE_OK && pragma_int(c, "PRAGMA schema_version", &probe, NULL) == NA64_OK) {
    c->immutable = 1;
    na64_log(NA64_LOG_INFO, "%s: read-only media (SQLite code %d): opened immutable", c->path, why);
    return NA64_OK;
  }
  if (rc != SQLITE_OK)
    return na64_err_set(err, NA64_EIO, "%s: cannot open conditions database read-only: %s", c->path,
                        c->db ? sqlite3_errmsg(c->db) : "out of memory");
  return NA64_OK; /* the read error is named by read_header */
}

static int connect_rw(na64_cond *c, int create, na64_err *err)
{
  int rc = sql_open(c, c->path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0));
  if (rc != SQLITE_OK)
    return na64_err_set(err, NA64_EIO, "%s: cannot open conditions database for writing: %s", c->path,
                        c->db ? sqlite3_errmsg(c->db) : "out of memory");
  /* SQLite silently opens a write-protected file read-only (sqlite3_open_v2): say so now rather
   * than "attempt to write a readonly database" at the first write */
  if (sqlite3_db_readonly(c->db, "main") == 1)
    return na64_err_set(err, NA64_EIO, "%s: cannot open conditions database for writing: %s", c->path,
                        access(c->path, W_OK) != 0 ? strerror(errno) : "the file or its directory is read-only");
  return NA64_OK;
}

static void handle_free(na64_cond *c)
{
  if (!c) return;
  if (c->db) {
    restore_journal_mode(c);
    sqlite3_close(c->db);
  }
  free(c->path);
  free(c);
}

int na64_cond_open(const char *path, int flags, na64_cond **out, na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_cond_open: NULL output");
  *out = NULL;
  NA64_CALL(check_migrations(err));
  char def[4096];
  if (!path) {
    if (na64_cond_default_path(def, sizeof def) != NA64_OK)
      return na64_err_set(err, NA64_ERANGE, "conditions: default database path too long");
    path = def;
  }
  int create = (flags & NA64_COND_CREATE) != 0;
  int rw = create || (flags & (NA64_COND_READWRITE | NA64_COND_NO_MIGRATE)) != 0;
  if (!create && !file_exists(path))
    return na64_err_set(err, NA64_EIO, "%s: cannot open conditions database: %s", path,
                        access(path, F_OK) == 0 ? "not a regular file" : strerror(ENOENT));

  na64_cond *c = calloc(1, sizeof *c);
  if (!c) return na64_err_set(err, NA64_ENOMEM, "conditions: out of memory");
  c->path = strdup(path);
  c->readonly = !rw;
  if (!c->path) {
    handle_free(c);
    return na64_err_set(err, NA64_ENOMEM, "conditions: out of memory");
  }
  int appid = 0, uv = 0, ntables = 0;
  int st = rw ? connect_rw(c, create, err) : connect_ro(c, err);
  if (st == NA64_OK) st = read_header(c, &appid, &uv, &ntables, err);
  if (st != NA64_OK) {
    handle_free(c);
    return st;
  }
  int latest = na64_cond_schema_version();
  const char *why = NULL;
  char buf[256];
  if (appid != 0 && appid != NA64_COND_APPLICATION_ID) {
    snprintf(buf, sizeof buf, "application_id 0x%08x is not that of an na64 conditions database (0x%08x)",
             (unsigned)appid, (unsigned)NA64_COND_APPLICATION_ID);
    why = buf;
  } else if (appid == 0 && (uv != 0 || ntables != 0)) {
    snprintf(buf, sizeof buf, "SQLite file with %d table(s) but no na64 application_id: not a conditions database",
             ntables);
    why = buf;
  } else if (uv > latest) {
    snprintf(buf, sizeof buf, "schema version %d is newer than this library's (%d): use a newer na64", uv, latest);
    why = buf;
  } else if (!rw && uv < latest) {
    snprintf(buf, sizeof buf,
             "schema version %d is older than this library's (%d): open it read-write once to upgrade it in "
             "place (`na64 cond migrate --db` on this file)",
             uv, latest);
    why = buf;
  }
  if (why) {
    st = na64_err_set(err, NA64_EFORMAT, "%s: %s", path, why);
    handle_free(c);
    return st;
  }
  if (rw) {
    /* WAL: readers never block the writer and see a consistent snapshot (sqlite.org/wal.html);
     * synchronous=NORMAL is durable against application crashes in WAL mode. The mode the file
     * had is remembered and restored at close (restore_journal_mode). */
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      snprintf(c->journal_mode, sizeof c->journal_mode, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW)
      st = na64_cond__sqlerr(c, err, "PRAGMA journal_mode = WAL");
    else if (sqlite3_stricmp((const char *)sqlite3_column_text(s, 0), "wal") != 0)
      st = na64_err_set(err, NA64_EDB, "%s: cannot switch to WAL mode (journal mode stays '%s')", path,
                        (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (st == NA64_OK) st = na64_cond__exec(c, "PRAGMA synchronous = NORMAL", err);
    if (st == NA64_OK && !(flags & NA64_COND_NO_MIGRATE)) st = na64_cond_migrate(c, latest, err);
    if (st != NA64_OK) {
      handle_free(c);
      return st;
    }
  }
  *out = c;
  return NA64_OK;
}

void na64_cond_close(na64_cond *c) { handle_free(c); }

const char *na64_cond_path(const na64_cond *c) { return c ? c->path : NULL; }
