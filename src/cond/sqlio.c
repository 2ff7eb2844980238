/* Conditions database as SQL text: import (restricted, transactional, validated), trusted script
 * execution, export, and the build of the default database from sql/setups/.
 *
 * Statements are compiled one at a time with sqlite3_prepare_v2, whose tail pointer gives the start
 * of the next statement (sqlite.org/c3ref/prepare.html); the line of each statement is counted from
 * the start of the text, and sqlite3_error_offset (SQLite >= 3.38) pins a syntax error inside it.
 * Imports are restricted with an authorizer (sqlite.org/c3ref/set_authorizer.html) to INSERT, and
 * the text of every imported statement must be a plain INSERT ... VALUES of literal rows
 * (literal_insert below): no WITH, SELECT, subquery or function, so an import's work is bounded by
 * its size (issue 9, item 9: a recursive CTE grew the WAL to 2.5 GB in 30 s). The SQL of the
 * default database (sql/setups/, reviewed in the repository) is built with SELECTs allowed. */
#include "core/c_locale.h"
#include "cond/cond_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "na64/io.h"

/* ---- script runner ---- */

typedef struct span {
  char table[NA64_COND_NAME_LEN];
  int64_t lo, hi; /* row ids inserted by the statement */
  int line;
} span;

enum { SCRIPT_TRUSTED = 0, SCRIPT_INSERT = 1, SCRIPT_LITERAL = 2 };

typedef struct script {
  const char *name;
  int restricted;        /* SCRIPT_*: anything / INSERT statements / INSERT of literal rows */
  int denied_action;     /* authorizer code of a refused operation */
  char denied_what[96];
  char insert_table[NA64_COND_NAME_LEN];
  span *spans;           /* per INSERT statement, to give the line of a row failing validation */
  size_t nspans, cap;
} script;

static const char *action_name(int action)
{
  switch (action) {
  case SQLITE_UPDATE: return "UPDATE";
  case SQLITE_DELETE: return "DELETE";
  case SQLITE_PRAGMA: return "PRAGMA";
  case SQLITE_ATTACH: return "ATTACH";
  case SQLITE_DETACH: return "DETACH";
  case SQLITE_TRANSACTION: return "BEGIN/COMMIT/ROLLBACK";
  case SQLITE_SAVEPOINT: return "SAVEPOINT";
  case SQLITE_CREATE_TABLE:
  case SQLITE_CREATE_TEMP_TABLE: return "CREATE TABLE";
  case SQLITE_CREATE_INDEX:
  case SQLITE_CREATE_TEMP_INDEX: return "CREATE INDEX";
  case SQLITE_CREATE_VIEW:
  case SQLITE_CREATE_TEMP_VIEW: return "CREATE VIEW";
  case SQLITE_CREATE_TRIGGER:
  case SQLITE_CREATE_TEMP_TRIGGER: return "CREATE TRIGGER";
  case SQLITE_DROP_TABLE:
  case SQLITE_DROP_TEMP_TABLE: return "DROP TABLE";
  case SQLITE_DROP_INDEX:
  case SQLITE_DROP_TEMP_INDEX: return "DROP INDEX";
  case SQLITE_DROP_VIEW:
  case SQLITE_DROP_TEMP_VIEW: return "DROP VIEW";
  case SQLITE_DROP_TRIGGER:
  case SQLITE_DROP_TEMP_TRIGGER: return "DROP TRIGGER";
  case SQLITE_ALTER_TABLE: return "ALTER TABLE";
  case SQLITE_REINDEX: return "REINDEX";
  case SQLITE_ANALYZE: return "ANALYZE";
  case SQLITE_CREATE_VTABLE: return "CREATE VIRTUAL TABLE";
  case SQLITE_DROP_VTABLE: return "DROP VIRTUAL TABLE";
  default: return "this statement";
  }
}

static int authorizer(void *user, int action, const char *a1, const char *a2, const char *a3, const char *a4)
{
  (void)a2;
  (void)a3;
  (void)a4;
  script *s = user;
  switch (action) {
  case SQLITE_INSERT:
  case SQLITE_UPDATE:
  case SQLITE_DELETE:
    /* Writes to the schema table are the first step of DDL (e.g. DROP TABLE checks DELETE on
     * sqlite_master before SQLITE_DROP_TABLE): let them through so that the DDL code itself is
     * refused and named; SQLite never lets a user statement modify sqlite_master directly. */
    if (a1 && (!strcmp(a1, "sqlite_master") || !strcmp(a1, "sqlite_temp_master") || !strcmp(a1, "sqlite_schema")))
      return SQLITE_OK;
    if (action != SQLITE_INSERT || (a1 && !strncmp(a1, "sqlite_", 7))) break;
    if (a1) snprintf(s->insert_table, sizeof s->insert_table, "%s", a1);
    return SQLITE_OK;
  case SQLITE_READ:
  case SQLITE_SELECT:
  case SQLITE_FUNCTION:
  case SQLITE_RECURSIVE: return SQLITE_OK;
  default: break;
  }
  if (!s->denied_action) {
    s->denied_action = action;
    snprintf(s->denied_what, sizeof s->denied_what, "%s%s%s", action_name(action), a1 ? " " : "", a1 ? a1 : "");
  }
  return SQLITE_DENY;
}

static int line_of(const char *text, const char *p)
{
  int line = 1;
  for (const char *q = text; q < p; ++q)
    if (*q == '\n') ++line;
  return line;
}

/* Line numbers while walking forward through the text: counts only the bytes not yet counted, so a
 * script of N statements costs O(length), not O(N * length). */
typedef struct line_counter {
  const char *pos;
  int line;
} line_counter;

static int line_at(line_counter *lc, const char *p)
{
  if (p < lc->pos) return lc->line - (line_of(p, lc->pos) - 1);
  for (; lc->pos < p; ++lc->pos)
    if (*lc->pos == '\n') ++lc->line;
  return lc->line;
}

/* Skip blanks and SQL comments ("-- ..." to end of line, and C-style comments). */
static const char *skip_blank(const char *p, const char *end)
{
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')) ++p;
    if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
      while (p < end && *p != '\n') ++p;
      continue;
    }
    if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
      const char *q = p + 2;
      while (end - q >= 2 && !(q[0] == '*' && q[1] == '/')) ++q;
      p = end - q >= 2 ? q + 2 : end;
      continue;
    }
    return p;
  }
}

/* ---- plain INSERT ... VALUES of literal rows ----
 * Grammar accepted (SQLite's lexical rules, sqlite.org/lang_insert.html, lang_expr.html#literal):
 *   (INSERT [OR ABORT|FAIL|IGNORE|REPLACE|ROLLBACK] | REPLACE) INTO name[.name] [(col, ...)]
 *   VALUES row [, row]... [;]        row = ( literal [, literal]... )
 *   literal = [+|-] number | 'string' | X'hex' | NULL | TRUE | FALSE
 * with blanks and comments anywhere between tokens. */
typedef struct lexer {
  const char *p, *end;
} lexer;

static void lx_blank(lexer *l) { l->p = skip_blank(l->p, l->end); }

static int lx_word(lexer *l, const char *kw)
{
  lx_blank(l);
  size_t n = strlen(kw);
  if ((size_t)(l->end - l->p) < n || strncasecmp(l->p, kw, n)) return 0;
  const char *q = l->p + n;
  if (q < l->end && (isalnum((unsigned char)*q) || *q == '_' || *q == '$')) return 0;
  l->p = q;
  return 1;
}

static int lx_char(lexer *l, char ch)
{
  lx_blank(l);
  if (l->p < l->end && *l->p == ch) {
    ++l->p;
    return 1;
  }
  return 0;
}

/* A quoted token: 'string', "identifier", `identifier` (doubled quote = the quote itself), [identifier]. */
static int lx_quoted(lexer *l, char open, char close)
{
  if (l->p >= l->end || *l->p != open) return 0;
  for (const char *q = l->p + 1; q < l->end; ++q)
    if (*q == close) {
      if (close != ']' && q + 1 < l->end && q[1] == close) {
        ++q;
        continue;
      }
      l->p = q + 1;
      return 1;
    }
  return 0;
}

static int lx_ident(lexer *l)
{
  lx_blank(l);
  if (lx_quoted(l, '"', '"') || lx_quoted(l, '`', '`') || lx_quoted(l, '[', ']')) return 1;
  const char *q = l->p;
  if (q >= l->end || !(isalpha((unsigned char)*q) || *q == '_')) return 0;
  while (q < l->end && (isalnum((unsigned char)*q) || *q == '_' || *q == '$')) ++q;
  l->p = q;
  return 1;
}

static int lx_number(lexer *l)
{
  const char *q = l->p;
  if (l->end - q > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
    q += 2;
    const char *d = q;
    while (q < l->end && isxdigit((unsigned char)*q)) ++q;
    if (q == d) return 0;
  } else {
    int digits = 0;
    while (q < l->end && isdigit((unsigned char)*q)) ++q, ++digits;
    if (q < l->end && *q == '.') ++q;
    while (q < l->end && isdigit((unsigned char)*q)) ++q, ++digits;
    if (!digits) return 0;
    if (q < l->end && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q < l->end && (*q == '+' || *q == '-')) ++q;
      const char *d = q;
      while (q < l->end && isdigit((unsigned char)*q)) ++q;
      if (q == d) return 0;
    }
  }
  if (q < l->end && (isalnum((unsigned char)*q) || *q == '_')) return 0;
  l->p = q;
  return 1;
}

static int lx_literal(lexer *l)
{
  lx_blank(l);
  if (lx_word(l, "NULL") || lx_word(l, "TRUE") || lx_word(l, "FALSE")) return 1;
  if (l->p < l->end && (*l->p == 'x' || *l->p == 'X') && l->p + 1 < l->end && l->p[1] == '\'') {
    ++l->p;
    return lx_quoted(l, '\'', '\'');
  }
  if (lx_quoted(l, '\'', '\'')) return 1;
  while (l->p < l->end && (*l->p == '+' || *l->p == '-')) {
    ++l->p;
    lx_blank(l);
  }
  return lx_number(l);
}

/* 1 if text[0..len) is one plain INSERT ... VALUES statement of literal rows. */
static int literal_insert(const char *text, size_t len)
{
  lexer l = {text, text + len};
  if (lx_word(&l, "INSERT")) {
    if (lx_word(&l, "OR") && !(lx_word(&l, "ABORT") || lx_word(&l, "FAIL") || lx_word(&l, "IGNORE") ||
                               lx_word(&l, "REPLACE") || lx_word(&l, "ROLLBACK")))
      return 0;
  } else if (!lx_word(&l, "REPLACE")) {
    return 0;
  }
  if (!lx_word(&l, "INTO") || !lx_ident(&l)) return 0;
  if (lx_char(&l, '.') && !lx_ident(&l)) return 0;
  if (lx_char(&l, '(')) {
    do
      if (!lx_ident(&l)) return 0;
    while (lx_char(&l, ','));
    if (!lx_char(&l, ')')) return 0;
  }
  if (!lx_word(&l, "VALUES")) return 0;
  do {
    if (!lx_char(&l, '(')) return 0;
    do
      if (!lx_literal(&l)) return 0;
    while (lx_char(&l, ','));
    if (!lx_char(&l, ')')) return 0;
  } while (lx_char(&l, ','));
  lx_char(&l, ';');
  lx_blank(&l);
  return l.p == l.end;
}

static int add_span(script *s, const char *table, int64_t lo, int64_t hi, int line)
{
  if (s->nspans == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    span *n = realloc(s->spans, cap * sizeof *n);
    if (!n) return NA64_ENOMEM;
    s->spans = n;
    s->cap = cap;
  }
  span *sp = &s->spans[s->nspans++];
  snprintf(sp->table, sizeof sp->table, "%s", table);
  sp->lo = lo;
  sp->hi = hi;
  sp->line = line;
  return NA64_OK;
}

/* Row counts of every user table, to detect rows that an INSERT OR REPLACE silently removed. */
static int count_rows(na64_cond *c, int64_t *total, na64_err *err)
{
  sqlite3_stmt *tabs = NULL;
  *total = 0;
  if (sqlite3_prepare_v2(c->db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                         -1, &tabs, NULL) != SQLITE_OK)
    return na64_cond__sqlerr(c, err, "listing tables");
  int st = NA64_OK;
  while (st == NA64_OK && sqlite3_step(tabs) == SQLITE_ROW) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", (const char *)sqlite3_column_text(tabs, 0));
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
      st = na64_cond__sqlerr(c, err, sql);
    else
      *total += sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  }
  sqlite3_finalize(tabs);
  return st;
}

/* Run every statement of text[0..len) inside the caller's transaction; text[len] must be '\0'. */
static int run_statements(na64_cond *c, script *s, const char *text, size_t len, int64_t *inserted, na64_err *err)
{
  const char *name = s->name ? s->name : "<sql>";
  const char *end = text + len;
  const char *p = text;
  line_counter lc = {text, 1};
  *inserted = 0;
  if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) p += 3;
  for (;;) {
    const char *start = skip_blank(p, end);
    if (start >= end) return NA64_OK;
    s->denied_action = 0;
    s->insert_table[0] = '\0';
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int line = line_at(&lc, start);
    /* text is NUL-terminated at end: passing the length including the terminator lets SQLite
     * parse in place (a length without it makes SQLite copy the whole rest of the text for every
     * statement, quadratic in the script size) */
    int rc = sqlite3_prepare_v2(c->db, start, (int)(end - start) + 1, &st, &tail);
    if (rc != SQLITE_OK) {
      if (s->denied_action)
        return na64_err_set(err, NA64_EFORMAT,
                            "%s:%d: %s is not allowed in an import: only INSERT statements are (conditions are "
                            "append-only; add a record with a new interval of validity instead)",
                            name, line, s->denied_what);
#if SQLITE_VERSION_NUMBER >= 3038000
      int off = sqlite3_error_offset(c->db);
      if (off >= 0 && off < end - start) line = line_at(&lc, start + off);
#endif
      return na64_err_set(err, NA64_EFORMAT, "%s:%d: %s", name, line, sqlite3_errmsg(c->db));
    }
    if (!st) return NA64_OK; /* only comments left */
    if (s->restricted && sqlite3_stmt_readonly(st)) {
      sqlite3_finalize(st);
      return na64_err_set(err, NA64_EFORMAT, "%s:%d: statement does not insert anything (only INSERT is allowed)",
                          name, line);
    }
    if (s->restricted == SCRIPT_LITERAL && !literal_insert(start, (size_t)(tail - start))) {
      sqlite3_finalize(st);
      return na64_err_set(err, NA64_EFORMAT,
                          "%s:%d: only plain INSERT ... VALUES statements of literal rows (numbers, 'text', X'blob', "
                          "NULL) are allowed in an import: no WITH, SELECT, subquery or function",
                          name, line);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      na64_err_set(err, NA64_EFORMAT, "%s:%d: %s", name, line, sqlite3_errmsg(c->db));
      sqlite3_finalize(st);
      return NA64_EFORMAT;
    }
    sqlite3_finalize(st);
    if (s->insert_table[0]) {
      int64_t n = sqlite3_changes64(c->db);
      int64_t last = sqlite3_last_insert_rowid(c->db);
      *inserted += n;
      if (n > 0 && add_span(s, s->insert_table, last - n + 1, last, line) != NA64_OK)
        return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", name);
    }
    p = tail;
  }
}

/* The schema version an export header declares ("-- schema_version: N"), or 0. */
static int declared_schema(const char *text, size_t len)
{
  static const char tag[] = "-- schema_version:";
  size_t scan = len < 4096 ? len : 4096;
  for (size_t i = 0; i + sizeof tag - 1 < scan; ++i)
    if ((i == 0 || text[i - 1] == '\n') && !strncmp(text + i, tag, sizeof tag - 1))
      return atoi(text + i + sizeof tag - 1);
  return 0;
}

static int run_script(na64_cond *c, const char *text, size_t len, const char *name, int restricted, na64_err *err)
{
  if (!c || (!text && len)) return na64_err_set(err, NA64_EINVAL, "conditions: NULL argument");
  const char *nm = name ? name : "<sql>";
  if (c->readonly) return na64_err_set(err, NA64_EINVAL, "%s: database opened read-only, cannot import %s", c->path, nm);
  if (len > (size_t)INT32_MAX) return na64_err_set(err, NA64_ERANGE, "%s: SQL text too large (%zu bytes)", nm, len);
  const char *nul = len ? memchr(text, 0, len) : NULL;
  if (nul)
    return na64_err_set(err, NA64_EFORMAT, "%s:%d: NUL byte at offset %zu: not SQL text", nm, line_of(text, nul),
                        (size_t)(nul - text));
  int declared = declared_schema(text, len);
  if (declared > na64_cond_schema_version())
    return na64_err_set(err, NA64_EFORMAT, "%s: exported from schema version %d, newer than this library's (%d)", nm,
                        declared, na64_cond_schema_version());

  char *copy = malloc(len + 1); /* NUL-terminated for the parser */
  if (!copy) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", nm);
  if (len) memcpy(copy, text, len);
  copy[len] = '\0';
  text = copy;
  script s = {.name = nm, .restricted = restricted};
  int64_t before = 0, after = 0, inserted = 0;
  int st = na64_cond__begin(c, 1, err);
  if (st != NA64_OK) {
    free(copy);
    return st;
  }
  if (restricted) sqlite3_set_authorizer(c->db, authorizer, &s);
  st = restricted ? count_rows(c, &before, err) : NA64_OK;
  if (st == NA64_OK) st = run_statements(c, &s, text, len, &inserted, err);
  if (restricted) sqlite3_set_authorizer(c->db, NULL, NULL);
  if (st == NA64_OK && restricted) st = count_rows(c, &after, err);
  if (st == NA64_OK && restricted && after - before != inserted)
    st = na64_err_set(err, NA64_EFORMAT,
                      "%s: %lld existing record(s) would be replaced (INSERT OR REPLACE / REPLACE): conditions are "
                      "append-only",
                      nm, (long long)(inserted - (after - before)));
  if (st == NA64_OK && restricted) {
    na64_cond_bad_row bad = {NULL, 0};
    st = na64_cond__validate(c, &bad, err);
    if (st != NA64_OK && bad.table) {
      /* name the line of the statement that inserted the row, if it was this import */
      for (size_t i = 0; i < s.nspans; ++i)
        if (!strcmp(s.spans[i].table, bad.table) && bad.id >= s.spans[i].lo && bad.id <= s.spans[i].hi) {
          na64_err_prefix(err, "%s:%d", nm, s.spans[i].line);
          break;
        }
    }
    if (st != NA64_OK && !strstr(err ? err->msg : "", nm)) na64_err_prefix(err, "%s: rejected", nm);
  }
  free(s.spans);
  free(copy);
  if (st == NA64_OK) st = na64_cond__checksum_update(c, err);
  if (st != NA64_OK) {
    na64_cond__rollback(c);
    return st;
  }
  st = na64_cond__commit(c, err);
  if (st == NA64_OK) na64_log(NA64_LOG_INFO, "%s: imported %lld record(s) from %s", c->path, (long long)inserted, nm);
  return st;
}

int na64_cond_import(na64_cond *c, const char *text, size_t len, const char *name, na64_err *err)
{
  return run_script(c, text, len, name, SCRIPT_LITERAL, err);
}

int na64_cond_exec(na64_cond *c, const char *sql, na64_err *err)
{
  if (!sql) return na64_err_set(err, NA64_EINVAL, "na64_cond_exec: NULL SQL");
  return run_script(c, sql, strlen(sql), "<exec>", SCRIPT_TRUSTED, err);
}

static int read_file(const char *path, char **text, size_t *len, na64_err *err)
{
  FILE *f = fopen(path, "rb");
  if (!f) return na64_err_set(err, NA64_EIO, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
    }
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (k == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", path);
  if (bad) {
    free(buf);
    return na64_err_set(err, NA64_EIO, "%s: read error", path);
  }
  *text = buf;
  *len = n;
  return NA64_OK;
}

static int import_file(na64_cond *c, const char *path, int level, na64_err *err)
{
  if (!c || !path) return na64_err_set(err, NA64_EINVAL, "na64_cond_import_file: NULL argument");
  char *text = NULL;
  size_t len = 0;
  NA64_CALL(read_file(path, &text, &len, err));
  int st = run_script(c, text, len, path, level, err);
  free(text);
  return st;
}

int na64_cond_import_file(na64_cond *c, const char *path, na64_err *err)
{
  return import_file(c, path, SCRIPT_LITERAL, err);
}

/* ---- export ---- */

static void put_quoted(FILE *out, const unsigned char *s, int n)
{
  fputc('\'', out);
  for (int i = 0; i < n; ++i) {
    if (s[i] == '\'') fputc('\'', out);
    fputc(s[i], out);
  }
  fputc('\'', out);
}

static void put_real(FILE *out, double v)
{
  if (isinf(v)) {
    fputs(v > 0 ? "9e999" : "-9e999", out); /* SQLite reads 9e999 as +Inf */
    return;
  }
  char buf[40];
  snprintf(buf, sizeof buf, "%.17g", v); /* 17 digits: the double is recovered exactly */
  /* keep reals recognisable as reals in the text ("100.0", not "100") */
  if (!strpbrk(buf, ".eEn")) strcat(buf, ".0");
  fputs(buf, out);
}

static int export_table(na64_cond *c, FILE *out, const char *table, na64_err *err)
{
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY rowid", table);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return na64_cond__sqlerr(c, err, sql);
  int ncol = sqlite3_column_count(st);
  int rc;
  fprintf(out, "\n-- table %s\n", table);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    fprintf(out, "INSERT INTO %s (", table);
    for (int i = 0; i < ncol; ++i) fprintf(out, "%s%s", i ? ", " : "", sqlite3_column_name(st, i));
    fputs(") VALUES (", out);
    for (int i = 0; i < ncol; ++i) {
      if (i) fputs(", ", out);
      switch (sqlite3_column_type(st, i)) {
      case SQLITE_NULL: fputs("NULL", out); break;
      case SQLITE_INTEGER: fprintf(out, "%lld", (long long)sqlite3_column_int64(st, i)); break;
      case SQLITE_FLOAT: put_real(out, sqlite3_column_double(st, i)); break;
      case SQLITE_TEXT: put_quoted(out, sqlite3_column_text(st, i), sqlite3_column_bytes(st, i)); break;
      default: {
        const unsigned char *b = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        fputs("X'", out);
        for (int k = 0; k < n; ++k) fprintf(out, "%02X", b[k]);
        fputc('\'', out);
      }
      }
    }
    fputs(");\n", out);
  }
  int status = rc == SQLITE_DONE ? NA64_OK : na64_cond__sqlerr(c, err, sql);
  sqlite3_finalize(st);
  return status;
}

static int export_all(na64_cond *c, FILE *out, na64_err *err);

int na64_cond_export(na64_cond *c, FILE *out, na64_err *err)
{
  if (!c || !out) return na64_err_set(err, NA64_EINVAL, "na64_cond_export: NULL argument");
  locale_t loc = na64_c_locale_enter(); /* "%.17g" writes 1.5, never 1,5 */
  int st = export_all(c, out, err);
  na64_c_locale_leave(loc);
  return st;
}

static int export_all(na64_cond *c, FILE *out, na64_err *err)
{
  int uv = 0;
  NA64_CALL(na64_cond__begin(c, 0, err)); /* one read snapshot for all tables */
  int st = na64_cond_user_version(c, &uv, err);
  if (st == NA64_OK) {
    fprintf(out,
            "-- na64 conditions database export\n"
            "-- schema_version: %d\n"
            "-- Records as INSERT statements, table by table in id order. Load into an empty database\n"
            "-- of the same schema with `na64 cond import FILE.sql` (docs/conditions.md).\n",
            uv);
    sqlite3_stmt *tabs = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                           "AND name <> 'record_checksums' ORDER BY rowid", /* recomputed on import */
                           -1, &tabs, NULL) != SQLITE_OK)
      st = na64_cond__sqlerr(c, err, "listing tables");
    while (st == NA64_OK && sqlite3_step(tabs) == SQLITE_ROW)
      st = export_table(c, out, (const char *)sqlite3_column_text(tabs, 0), err);
    sqlite3_finalize(tabs);
  }
  na64_cond__rollback(c); /* end the read transaction */
  if (st == NA64_OK && ferror(out)) st = na64_err_set(err, NA64_EIO, "%s: write error during export", c->path);
  return st;
}

/* Through na64_outfile: a regular file is replaced only by a complete export (temporary file,
 * fsync, rename); a symbolic link keeps pointing to the new file; a FIFO or device (a pipe to a
 * compressor, /dev/stdout) is written straight through and never replaced (issue 9, item 3). */
int na64_cond_export_file(na64_cond *c, const char *path, na64_err *err)
{
  if (!c || !path) return na64_err_set(err, NA64_EINVAL, "na64_cond_export_file: NULL argument");
  na64_outfile *out = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &out, err));
  int st = na64_cond_export(c, na64_outfile_stream(out), err);
  if (st != NA64_OK && st != NA64_EIO) { /* a database error: keep the old file */
    na64_outfile_abort(out);
    return st;
  }
  /* a write error (EIO from the export's ferror check) is named with its errno by commit */
  int cst = na64_outfile_commit(out, err);
  return cst != NA64_OK ? cst : st;
}

/* ---- build ---- */

static void remove_db_files(const char *path)
{
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  size_t n = strlen(path) + 16;
  char *buf = malloc(n);
  if (!buf) return;
  for (int i = 0; i < 4; ++i) {
    snprintf(buf, n, "%s%s", path, suffix[i]);
    remove(buf);
  }
  free(buf);
}

/* The database is built under a temporary name beside out_path (na64_outfile, BY_NAME: SQLite
 * opens files by name) and renamed only when complete: a failed build leaves the old file, and an
 * existing file is replaced only with NA64_COND_BUILD_FORCE (issue 9, item 4: a build over a full
 * database silently dropped every run). Without FORCE the final step is link(2), which fails if the
 * target appeared meanwhile. */
int na64_cond_build(const char *out_path, const char *const *files, int nfiles, int flags, na64_err *err)
{
  if (!out_path || (nfiles > 0 && !files) || nfiles < 0)
    return na64_err_set(err, NA64_EINVAL, "na64_cond_build: bad arguments");
  na64_outfile *out = NULL;
  int oflags = NA64_OUTFILE_BY_NAME | NA64_OUTFILE_REGULAR | ((flags & NA64_COND_BUILD_FORCE) ? 0 : NA64_OUTFILE_NO_CLOBBER);
  int st = na64_outfile_open(out_path, oflags, &out, err);
  if (st != NA64_OK) {
    if (st == NA64_EINVAL && !(flags & NA64_COND_BUILD_FORCE) && strstr(err ? err->msg : "", "exists"))
      na64_err_set(err, NA64_EINVAL, "%s: exists: not overwritten (replace it with --force, "
                   "NA64_COND_BUILD_FORCE)", out_path);
    return st;
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s", na64_outfile_path(out));
  na64_cond *c = NULL;
  st = na64_cond_open(tmp, NA64_COND_CREATE, &c, err);
  /* the build's SQL is the reviewed text of the repository: INSERT ... SELECT allowed */
  for (int i = 0; i < nfiles && st == NA64_OK; ++i) st = import_file(c, files[i], SCRIPT_INSERT, err);
  if (st == NA64_OK) st = na64_cond_validate(c, err);
  /* A single self-contained file (no -wal/-shm) that can be installed read-only, compacted so the
   * same SQL gives the same bytes. */
  if (st == NA64_OK) st = na64_cond__exec(c, "PRAGMA journal_mode = DELETE", err);
  if (st == NA64_OK) st = na64_cond__exec(c, "VACUUM", err);
  na64_cond_close(c);
  if (st == NA64_OK) {
    st = na64_outfile_commit(out, err);
  } else {
    na64_outfile_abort(out);
  }
  if (st != NA64_OK) remove_db_files(tmp);
  return st;
}
