/* Integrity of a conditions database beyond the per-record checks of records.c (issue 9, item 8):
 *  - SQLite's own structural check (PRAGMA integrity_check, sqlite.org/pragma.html#pragma_integrity_check);
 *  - the uniqueness and references the schema implies, also for files built before schema 4
 *    enforced them (sql/migrations/0004_integrity.sql);
 *  - a content checksum per table: row count and FNV-1a 64 digest of every value in rowid order
 *    (Fowler, Noll, Vo; IETF draft-eastlake-fnv, FNV-1a with the 64-bit offset basis and prime),
 *    stored in record_checksums after every change the library makes, verified by validate. A byte
 *    flipped inside a record, or an edit made with another tool, changes the digest. */
#include "cond/cond_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define CHECKSUM_TABLE "record_checksums"

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= FNV_PRIME;
  }
  return h;
}

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = (unsigned char)(v >> (8 * i)); /* little-endian: same on every host */
  return fnv(h, b, 8);
}

static int has_checksum_table(na64_cond *c)
{
  sqlite3_stmt *st = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '" CHECKSUM_TABLE "'", -1,
                         &st, NULL) == SQLITE_OK)
    found = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return found;
}

/* Digest and row count of one table: every column of every row, with its type. */
static int table_digest(na64_cond *c, const char *table, uint64_t *digest, int64_t *nrows, na64_err *err)
{
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY rowid", table);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return na64_cond__sqlerr(c, err, sql);
  uint64_t h = fnv(FNV_OFFSET, table, strlen(table) + 1);
  int64_t n = 0;
  int ncol = sqlite3_column_count(st), rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    ++n;
    for (int i = 0; i < ncol; ++i) {
      unsigned char type = (unsigned char)sqlite3_column_type(st, i);
      h = fnv(h, &type, 1);
      switch (type) {
      case SQLITE_INTEGER: h = fnv_u64(h, (uint64_t)sqlite3_column_int64(st, i)); break;
      case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        h = fnv_u64(h, bits);
        break;
      }
      case SQLITE_NULL: break;
      default: { /* text and blob: length, then the bytes */
        const void *b = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
        int len = sqlite3_column_bytes(st, i);
        h = fnv_u64(h, (uint64_t)len);
        if (len > 0) h = fnv(h, b, (size_t)len);
      }
      }
    }
  }
  int status = rc == SQLITE_DONE ? NA64_OK : na64_cond__sqlerr(c, err, sql);
  sqlite3_finalize(st);
  *digest = h;
  *nrows = n;
  return status;
}

/* The record tables (every user table but record_checksums), in creation order. */
static int list_tables(na64_cond *c, char ***names, int *n, na64_err *err)
{
  sqlite3_stmt *st = NULL;
  *names = NULL;
  *n = 0;
  if (sqlite3_prepare_v2(c->db,
                         "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '" CHECKSUM_TABLE
                         "' ORDER BY rowid",
                         -1, &st, NULL) != SQLITE_OK)
    return na64_cond__sqlerr(c, err, "listing tables");
  int cap = 0, rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      char **nn = realloc(*names, (size_t)cap * sizeof *nn);
      if (!nn) break;
      *names = nn;
    }
    (*names)[*n] = strdup((const char *)sqlite3_column_text(st, 0));
    if (!(*names)[*n]) break;
    ++*n;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    for (int i = 0; i < *n; ++i) free((*names)[i]);
    free(*names);
    *names = NULL;
    *n = 0;
    return rc == SQLITE_ROW ? na64_err_set(err, NA64_ENOMEM, "out of memory") : na64_cond__sqlerr(c, err, "listing tables");
  }
  return NA64_OK;
}

static void free_names(char **names, int n)
{
  for (int i = 0; i < n; ++i) free(names[i]);
  free(names);
}

int na64_cond__checksum_update(na64_cond *c, na64_err *err)
{
  if (!has_checksum_table(c)) return NA64_OK; /* schema < 4: the migration creates it */
  char **names = NULL;
  int n = 0;
  NA64_CALL(list_tables(c, &names, &n, err));
  int st = na64_cond__exec(c, "DELETE FROM " CHECKSUM_TABLE, err);
  sqlite3_stmt *ins = NULL;
  if (st == NA64_OK &&
      sqlite3_prepare_v2(c->db, "INSERT INTO " CHECKSUM_TABLE " (name, nrows, digest) VALUES (?1, ?2, ?3)", -1, &ins,
                         NULL) != SQLITE_OK)
    st = na64_cond__sqlerr(c, err, "preparing the checksum update");
  for (int i = 0; i < n && st == NA64_OK; ++i) {
    uint64_t d = 0;
    int64_t rows = 0;
    st = table_digest(c, names[i], &d, &rows, err);
    if (st != NA64_OK) break;
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, d);
    sqlite3_bind_text(ins, 1, names[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 2, rows);
    sqlite3_bind_text(ins, 3, hex, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(ins) != SQLITE_DONE) st = na64_cond__sqlerr(c, err, "updating record_checksums");
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  free_names(names, n);
  return st;
}

static int verify_checksums(na64_cond *c, na64_err *err)
{
  if (!has_checksum_table(c))
    return na64_err_set(err, NA64_EFORMAT, "%s: no record_checksums table (schema older than 4)", c->path);
  char **names = NULL;
  int n = 0;
  NA64_CALL(list_tables(c, &names, &n, err));
  sqlite3_stmt *q = NULL;
  int st = NA64_OK;
  if (sqlite3_prepare_v2(c->db, "SELECT nrows, digest FROM " CHECKSUM_TABLE " WHERE name = ?1", -1, &q, NULL) != SQLITE_OK)
    st = na64_cond__sqlerr(c, err, "reading record_checksums");
  for (int i = 0; i < n && st == NA64_OK; ++i) {
    uint64_t d = 0;
    int64_t rows = 0;
    st = table_digest(c, names[i], &d, &rows, err);
    if (st != NA64_OK) break;
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, d);
    sqlite3_bind_text(q, 1, names[i], -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW)
      st = na64_err_set(err, NA64_EFORMAT, "%s: table %s has no content checksum (changed outside na64?)", c->path,
                        names[i]);
    else if (sqlite3_column_int64(q, 0) != rows || strcmp((const char *)sqlite3_column_text(q, 1), hex) != 0)
      st = na64_err_set(err, NA64_EFORMAT,
                        "%s: table %s: content checksum mismatch (stored %lld rows, digest %s; found %lld rows, digest "
                        "%s): the records were changed outside na64 or the file is damaged",
                        c->path, names[i], (long long)sqlite3_column_int64(q, 0),
                        (const char *)sqlite3_column_text(q, 1), (long long)rows, hex);
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);
  /* a checksum row for a table that no longer exists means tables were dropped or renamed */
  int extra = 0;
  if (st == NA64_OK) {
    sqlite3_stmt *e = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT name FROM " CHECKSUM_TABLE " WHERE name NOT IN (SELECT name FROM sqlite_master WHERE "
                           "type = 'table')",
                           -1, &e, NULL) == SQLITE_OK &&
        sqlite3_step(e) == SQLITE_ROW) {
      extra = 1;
      st = na64_err_set(err, NA64_EFORMAT, "%s: record_checksums names table %s, which does not exist", c->path,
                        (const char *)sqlite3_column_text(e, 0));
    }
    sqlite3_finalize(e);
  }
  (void)extra;
  free_names(names, n);
  return st;
}

static int integrity_check(na64_cond *c, na64_err *err)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, "PRAGMA integrity_check(5)", -1, &st, NULL) != SQLITE_OK)
    return na64_err_set(err, NA64_EFORMAT, "%s: PRAGMA integrity_check: %s", c->path, sqlite3_errmsg(c->db));
  char msg[400] = "";
  int rc, rows = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    if (rows++ == 0 && t && !strcmp(t, "ok")) continue;
    size_t l = strlen(msg);
    snprintf(msg + l, sizeof msg - l, "%s%s", l ? "; " : "", t ? t : "?");
  }
  if (rc != SQLITE_DONE)
    snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s%s", msg[0] ? "; " : "", sqlite3_errmsg(c->db));
  sqlite3_finalize(st);
  if (msg[0]) return na64_err_set(err, NA64_EFORMAT, "%s: damaged file (PRAGMA integrity_check): %s", c->path, msg);
  return NA64_OK;
}

/* One query per rule; the first row found is the error, with the row id and values. */
typedef struct rule {
  const char *sql;  /* returns id, then text columns describing the offence */
  const char *what; /* the rule broken; the row's description follows */
} rule;

#define DUP(table, key, label)                                                                                     \
  {"SELECT max(id), '" label " ' || " key " FROM " table " GROUP BY coalesce(setup, ''), " key                    \
   ", first_run HAVING count(*) > 1 LIMIT 1",                                                                       \
   table ": two records with the same key and first run"}

static const rule rules[] = {
    {"SELECT id, setup FROM run_info r WHERE NOT EXISTS (SELECT 1 FROM detectors d WHERE d.setup = r.setup) LIMIT 1",
     "run_info: a setup without detector records (unknown setup)"},
    {"SELECT b.id, a.setup || ' runs ' || a.first_run || '-' || coalesce(a.last_run, 'open') || ' and ' || b.setup || "
     "' runs ' || b.first_run || '-' || coalesce(b.last_run, 'open') FROM run_info a JOIN run_info b ON a.id < b.id "
     "AND a.setup <> b.setup AND a.first_run <= coalesce(b.last_run, 2147483647) AND b.first_run <= "
     "coalesce(a.last_run, 2147483647) LIMIT 1",
     "run_info: run ranges of different setups overlap"},
    DUP("materials", "name", "name"),
    DUP("detectors", "name", "name"),
    DUP("planes", "name", "name"),
    DUP("straw_layers", "plane || ' layer ' || layer", "plane"),
    DUP("straw_wires", "plane || ' wire ' || wire", "plane"),
    DUP("calo_sections", "detector || ' section ' || section", "detector"),
    DUP("calo_cells", "detector || ' ' || module || '/' || ix || '/' || iy", "cell"),
    DUP("magnets", "name", "name"),
    DUP("channel_map", "src_id || '/' || port || '/' || chip || '/' || channel", "DAQ channel"),
};

/* Records of a setup that no run belongs to (a misspelt setup is otherwise silently unused). */
static const char *const setup_tables[] = {"materials", "detectors", "planes", "straw_layers", "straw_wires",
                                           "calo_sections", "calo_cells", "magnets", "channel_map", "straw_t0",
                                           "straw_rt", "calo_calib", "mon_bands", "strip_resolution"};

static int check_rules(na64_cond *c, na64_err *err)
{
  int nrules = (int)(sizeof rules / sizeof rules[0]), ntab = (int)(sizeof setup_tables / sizeof setup_tables[0]);
  for (int i = 0; i < nrules + ntab; ++i) {
    char sql[512];
    const char *q = i < nrules ? rules[i].sql : sql;
    if (i >= nrules)
      snprintf(sql, sizeof sql,
               "SELECT id, setup FROM %s WHERE setup IS NOT NULL AND setup NOT IN (SELECT setup FROM run_info) LIMIT 1",
               setup_tables[i - nrules]);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, q, -1, &st, NULL) != SQLITE_OK) {
      /* the grouping key concatenation is not valid SQL for the macro's form: report, do not skip */
      int s = na64_cond__sqlerr(c, err, q);
      sqlite3_finalize(st);
      return s;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      char desc[256];
      const char *t = (const char *)sqlite3_column_text(st, 1);
      snprintf(desc, sizeof desc, "%s", t ? t : "NULL");
      long long id = sqlite3_column_int64(st, 0);
      sqlite3_finalize(st);
      char what[400];
      if (i < nrules) snprintf(what, sizeof what, "%s: %s", rules[i].what, desc);
      else snprintf(what, sizeof what, "%s: setup '%s' is not the setup of any run_info range", setup_tables[i - nrules], desc);
      return na64_err_set(err, NA64_EFORMAT, "%s: %s (row id %lld)", c->path, what, id);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return na64_cond__sqlerr(c, err, q);
  }
  return NA64_OK;
}

int na64_cond__integrity(na64_cond *c, na64_err *err)
{
  NA64_CALL(integrity_check(c, err));
  NA64_CALL(check_rules(c, err));
  return verify_checksums(c, err);
}
