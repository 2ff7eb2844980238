/* Private header of the conditions module (src/cond): the handle, the compiled-in migrations and
 * helpers shared by its source files. Not for other modules (they use na64/cond.h). */
#ifndef NA64_COND_INTERNAL_H
#define NA64_COND_INTERNAL_H

#include <sqlite3.h>

#include "na64/cond.h"

struct na64_cond {
  sqlite3 *db;
  char *path;
  int readonly;
  int immutable;            /* read-only media: opened with immutable=1 (no locks, no -shm) */
  char journal_mode[16];    /* journal mode found at a read-write open, restored at close */
};

/* One schema migration (generated from sql/migrations/ by sql/embed_migrations.cmake). */
typedef struct na64_cond_migration {
  int version;
  const char *name;
  const char *sql;
} na64_cond_migration;
extern const na64_cond_migration na64_cond__migrations[]; /* terminated by {0, NULL, NULL} */

/* 'NA64' in PRAGMA application_id marks our files (sqlite.org/fileformat.html, offset 68). */
#define NA64_COND_APPLICATION_ID 0x4E413634

/* Set err from the connection's last error: "<what>: <sqlite message>" with code NA64_EDB. */
int na64_cond__sqlerr(na64_cond *c, na64_err *err, const char *what);
/* Run one or more statements without results (no restrictions); errors via na64_cond__sqlerr. */
int na64_cond__exec(na64_cond *c, const char *sql, na64_err *err);
/* BEGIN (deferred read snapshot, or IMMEDIATE for writes), COMMIT, ROLLBACK (never fails). */
int na64_cond__begin(na64_cond *c, int immediate, na64_err *err);
int na64_cond__commit(na64_cond *c, na64_err *err);
void na64_cond__rollback(na64_cond *c);

/* A row that failed validation: its table and id (table NULL when the problem is not one row). */
typedef struct na64_cond_bad_row {
  const char *table;
  int64_t id;
} na64_cond_bad_row;

/* na64_cond_fetch without its own transaction (the caller holds one); bad may be NULL. */
int na64_cond__fetch(na64_cond *c, int run, na64_cond_records **out, na64_cond_bad_row *bad,
                     na64_err *err);
/* na64_cond_validate inside the caller's transaction: every record, and the records valid together
 * at each IOV boundary of every run range. */
int na64_cond__validate(na64_cond *c, na64_cond_bad_row *bad, na64_err *err);
/* The same restricted to runs first..last (every record is still checked on its own). */
int na64_cond__validate_runs(na64_cond *c, int first, int last, na64_cond_bad_row *bad, na64_err *err);

/* Recompute the content checksum of every table into record_checksums (schema >= 4; a no-op
 * before). Called inside every write transaction of the library, before its commit. */
int na64_cond__checksum_update(na64_cond *c, na64_err *err);
/* PRAGMA integrity_check, the uniqueness and reference rules of the schema, and the stored content
 * checksums (src/cond/integrity.c); inside the caller's read transaction. */
int na64_cond__integrity(na64_cond *c, na64_err *err);

/* Numbers in the database's text (export, r(t) point lists) are written and read in the C locale
 * whatever the program's locale (a German LC_NUMERIC would write "1,5"): core/c_locale.h. */

/* Parse an r(t) point list "[[t, r], ...]" into t[], r[] (at most max points). On failure returns
 * NA64_EFORMAT with a message naming the character offset and what was expected. */
int na64_cond__parse_points(const char *text, double *t, double *r, int max, int *n, na64_err *err);
/* Check an r(t) table: >= 2 points, finite, t strictly increasing, r >= 0 and non-decreasing. */
int na64_cond__check_rt(const double *t, const double *r, int n, na64_err *err);

#endif
