/*
 * Run cards: YAML (libyaml's event parser, pyyaml.org/wiki/LibYAML) into a small tree whose nodes
 * keep their position, then read against a schema (na64/io.h). The convention is that of NA64's
 * own pipelines, which configure their jobs in YAML (DESIGN.md); errors give file:line:column and
 * unknown keys are errors.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "na64/io.h"

typedef enum { NODE_SCALAR, NODE_MAP, NODE_SEQ } node_kind;

struct na64_card_node {
  node_kind kind;
  int line, col;
  char *value;            /* scalar text */
  int quoted;             /* scalar written in quotes: a string, never a number */
  char **keys;            /* map: n keys */
  int *key_line, *key_col;
  na64_card_node **child; /* map values or sequence items */
  int n, cap;
};

struct na64_card {
  char name[256];
  na64_card_node *root;
};

static void node_free(na64_card_node *n)
{
  if (!n) return;
  for (int i = 0; i < n->n; ++i) {
    node_free(n->child[i]);
    if (n->keys) free(n->keys[i]);
  }
  free(n->child);
  free(n->keys);
  free(n->key_line);
  free(n->key_col);
  free(n->value);
  free(n);
}

void na64_card_free(na64_card *card)
{
  if (!card) return;
  node_free(card->root);
  free(card);
}

const na64_card_node *na64_card_root(const na64_card *card) { return card ? card->root : NULL; }

static na64_card_node *node_new(node_kind kind, const yaml_mark_t *m)
{
  na64_card_node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->line = (int)m->line + 1; /* libyaml marks are 0-based */
  n->col = (int)m->column + 1;
  return n;
}

static int node_push(na64_card_node *parent, na64_card_node *child, char *key, const yaml_mark_t *km)
{
  if (parent->n == parent->cap) {
    int cap = parent->cap ? 2 * parent->cap : 8;
    na64_card_node **c = realloc(parent->child, (size_t)cap * sizeof *c);
    if (!c) return -1;
    parent->child = c;
    if (parent->kind == NODE_MAP) {
      char **k = realloc(parent->keys, (size_t)cap * sizeof *k);
      if (!k) return -1;
      parent->keys = k;
      int *kl = realloc(parent->key_line, (size_t)cap * sizeof *kl);
      if (!kl) return -1;
      parent->key_line = kl;
      int *kc = realloc(parent->key_col, (size_t)cap * sizeof *kc);
      if (!kc) return -1;
      parent->key_col = kc;
    }
    parent->cap = cap;
  }
  if (parent->kind == NODE_MAP) {
    parent->keys[parent->n] = key;
    parent->key_line[parent->n] = (int)km->line + 1;
    parent->key_col[parent->n] = (int)km->column + 1;
  }
  parent->child[parent->n++] = child;
  return 0;
}

typedef struct builder {
  yaml_parser_t parser;
  const char *name;
  na64_err *err;
} builder;

static int fail_at(builder *b, const yaml_mark_t *m, const char *what)
{
  return na64_err_set(b->err, NA64_EFORMAT, "%s:%d:%d: %s", b->name, (int)m->line + 1, (int)m->column + 1, what);
}

static int next_event(builder *b, yaml_event_t *ev)
{
  if (yaml_parser_parse(&b->parser, ev)) return NA64_OK;
  const yaml_parser_t *p = &b->parser;
  return na64_err_set(b->err, NA64_EFORMAT, "%s:%d:%d: YAML syntax error: %s%s%s", b->name,
                      (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                      p->problem ? p->problem : "malformed document", p->context ? " " : "",
                      p->context ? p->context : "");
}

/* Build the node that starts with event `ev` (consumed by the caller afterwards). */
static int build_node(builder *b, yaml_event_t *ev, int depth, na64_card_node **out);

static int build_collection(builder *b, na64_card_node *n, int depth)
{
  for (;;) {
    yaml_event_t ev;
    NA64_CALL(next_event(b, &ev));
    if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      return NA64_OK;
    }
    char *key = NULL;
    yaml_mark_t km = ev.start_mark;
    if (n->kind == NODE_MAP) {
      if (ev.type != YAML_SCALAR_EVENT) {
        int st = fail_at(b, &ev.start_mark, "mapping keys must be plain names");
        yaml_event_delete(&ev);
        return st;
      }
      key = strdup((const char *)ev.data.scalar.value);
      yaml_event_delete(&ev);
      if (!key) return na64_err_set(b->err, NA64_ENOMEM, "%s: out of memory", b->name);
      for (int i = 0; i < n->n; ++i)
        if (strcmp(n->keys[i], key) == 0) {
          char msg[320];
          snprintf(msg, sizeof msg, "duplicate key '%.200s' (first at line %d)", key, n->key_line[i]);
          free(key);
          return fail_at(b, &km, msg);
        }
      int st = next_event(b, &ev);
      if (st) {
        free(key);
        return st;
      }
    }
    na64_card_node *c = NULL;
    int st = build_node(b, &ev, depth + 1, &c);
    yaml_event_delete(&ev);
    if (st == NA64_OK && node_push(n, c, key, &km) != 0) {
      node_free(c);
      st = na64_err_set(b->err, NA64_ENOMEM, "%s: out of memory", b->name);
    }
    if (st) {
      free(key);
      return st;
    }
  }
}

static int build_node(builder *b, yaml_event_t *ev, int depth, na64_card_node **out)
{
  if (depth > 32) return fail_at(b, &ev->start_mark, "nesting deeper than 32 levels");
  na64_card_node *n = NULL;
  switch (ev->type) {
  case YAML_SCALAR_EVENT:
    n = node_new(NODE_SCALAR, &ev->start_mark);
    if (n) {
      n->value = strdup((const char *)ev->data.scalar.value);
      n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                  ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
      if (!n->value) {
        free(n);
        n = NULL;
      }
    }
    break;
  case YAML_MAPPING_START_EVENT:
  case YAML_SEQUENCE_START_EVENT:
    n = node_new(ev->type == YAML_MAPPING_START_EVENT ? NODE_MAP : NODE_SEQ, &ev->start_mark);
    if (n) {
      int st = build_collection(b, n, depth);
      if (st) {
        node_free(n);
        return st;
      }
    }
    break;
  case YAML_ALIAS_EVENT:
    return fail_at(b, &ev->start_mark, "aliases (*name) are not allowed in run cards");
  default:
    return fail_at(b, &ev->start_mark, "unexpected YAML element");
  }
  if (!n) return na64_err_set(b->err, NA64_ENOMEM, "%s: out of memory", b->name);
  *out = n;
  return NA64_OK;
}

/* stream start, document start, the root node, document end, stream end (one document only) */
static int build_document(builder *b, na64_card_node **root)
{
  yaml_event_t ev;
  NA64_CALL(next_event(b, &ev));
  yaml_event_delete(&ev); /* STREAM_START */
  NA64_CALL(next_event(b, &ev));
  if (ev.type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(&ev);
    return na64_err_set(b->err, NA64_EFORMAT, "%s:1:1: the card is empty", b->name);
  }
  yaml_event_delete(&ev); /* DOCUMENT_START */
  NA64_CALL(next_event(b, &ev));
  if (ev.type != YAML_MAPPING_START_EVENT) {
    int st = fail_at(b, &ev.start_mark, "the top level of a run card must be a mapping (key: value)");
    yaml_event_delete(&ev);
    return st;
  }
  int st = build_node(b, &ev, 0, root);
  yaml_event_delete(&ev);
  if (st) return st;
  NA64_CALL(next_event(b, &ev));
  yaml_event_delete(&ev); /* DOCUMENT_END */
  NA64_CALL(next_event(b, &ev));
  if (ev.type != YAML_STREAM_END_EVENT) {
    st = fail_at(b, &ev.start_mark, "a run card holds one YAML document only");
    yaml_event_delete(&ev);
    return st;
  }
  yaml_event_delete(&ev);
  return NA64_OK;
}

int na64_card_parse(const char *text, size_t len, const char *name, na64_card **out, na64_err *err)
{
  if (!text || !out) return na64_err_set(err, NA64_EINVAL, "na64_card_parse: NULL argument");
  *out = NULL;
  na64_card *c = calloc(1, sizeof *c);
  if (!c) return na64_err_set(err, NA64_ENOMEM, "card: out of memory");
  snprintf(c->name, sizeof c->name, "%s", name ? name : "<card>");
  builder b = {.name = c->name, .err = err};
  if (!yaml_parser_initialize(&b.parser)) {
    free(c);
    return na64_err_set(err, NA64_ENOMEM, "card: cannot initialise the YAML parser");
  }
  yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
  int st = build_document(&b, &c->root);
  yaml_parser_delete(&b.parser);
  if (st) {
    na64_card_free(c);
    return st;
  }
  *out = c;
  return NA64_OK;
}

int na64_card_load(const char *path, na64_card **out, na64_err *err)
{
  if (!path || !out) return na64_err_set(err, NA64_EINVAL, "na64_card_load: NULL argument");
  *out = NULL;
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
    return na64_err_set(err, NA64_EIO, "%s: is a directory, not a run card", path);
  FILE *f = fopen(path, "rb");
  if (!f) return na64_err_set(err, NA64_EIO, "%s: cannot open run card: %s", path, strerror(errno));
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      if (cap > ((size_t)16 << 20)) break; /* a run card is a few kB; refuse absurd sizes */
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  int bad = ferror(f), rerr = errno;
  fclose(f);
  if (!buf) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", path);
  if (bad || n == cap) {
    free(buf);
    return na64_err_set(err, NA64_EIO, "%s: cannot read the run card: %s", path,
                        bad ? strerror(rerr) : "larger than 16 MB");
  }
  int st = na64_card_parse(buf, n, path, out, err);
  free(buf);
  return st;
}

/* ---- schema reading ---- */

/* err = code, "file:line:col: message" (card NULL: the message alone, line < 0: "file: message"). */
static int vat(const na64_card *card, int line, int col, na64_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));
static int vat(const na64_card *card, int line, int col, na64_err *err, int code, const char *fmt, va_list ap)
{
  char msg[400];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (!card) return na64_err_set(err, code, "%s", msg);
  if (line < 0) return na64_err_set(err, code, "%s: %s", card->name, msg);
  return na64_err_set(err, code, "%s:%d:%d: %s", card->name, line, col, msg);
}

static int at(const na64_card *card, int line, int col, na64_err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int at(const na64_card *card, int line, int col, na64_err *err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int st = vat(card, line, col, err, NA64_EFORMAT, fmt, ap);
  va_end(ap);
  return st;
}

/* Locale-independent decimal number: strtod would follow LC_NUMERIC, so the text is checked to be
 * a plain C-locale number first and a ',' decimal separator can never be accepted. */
static int parse_number(const char *s, double *v)
{
  const char *p = s;
  if (*p == '+' || *p == '-') ++p;
  if (strcasecmp(p, ".inf") == 0 || strcasecmp(p, "inf") == 0 || strcasecmp(p, ".nan") == 0) return -1;
  int digits = 0;
  for (const char *q = s; *q; ++q) {
    if (*q >= '0' && *q <= '9') digits = 1;
    else if (!strchr("+-.eE", *q)) return -1;
  }
  if (!digits) return -1;
  /* The characters allowed above are the same in every locale except the decimal point; replace
   * '.' by the current locale's separator before strtod. */
  char buf[128];
  size_t n = strlen(s);
  if (n >= sizeof buf) return -1;
  const struct lconv *lc = localeconv();
  char dp = (lc && lc->decimal_point && lc->decimal_point[0]) ? lc->decimal_point[0] : '.';
  for (size_t i = 0; i <= n; ++i) buf[i] = s[i] == '.' ? dp : s[i];
  char *end = NULL;
  errno = 0;
  double x = strtod(buf, &end);
  if (end == buf || *end != '\0' || errno == ERANGE || !isfinite(x)) return -1;
  *v = x;
  return 0;
}

static int read_scalar(const na64_card *card, const na64_card_node *v, const na64_card_key *k, na64_err *err)
{
  if (v->kind != NODE_SCALAR)
    return at(card, v->line, v->col, err, "key '%s' needs a single value, not a %s", k->name,
              v->kind == NODE_MAP ? "mapping" : "list");
  const char *s = v->value;
  switch (k->type) {
  case NA64_CARD_STRING:
    if (strlen(s) >= k->dst_len) return at(card, v->line, v->col, err, "value of '%s' is too long: '%s'", k->name, s);
    memcpy(k->dst, s, strlen(s) + 1);
    return NA64_OK;
  case NA64_CARD_BOOL:
    if (!v->quoted && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))) *(int *)k->dst = 1;
    else if (!v->quoted && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))) *(int *)k->dst = 0;
    else return at(card, v->line, v->col, err, "key '%s' needs true or false, not '%s'", k->name, s);
    return NA64_OK;
  case NA64_CARD_DOUBLE:
  case NA64_CARD_INT: {
    double x = 0;
    if (v->quoted || parse_number(s, &x) != 0)
      return at(card, v->line, v->col, err, "key '%s' needs a finite number, not '%s'", k->name, s);
    if (k->type == NA64_CARD_INT && (x != floor(x) || fabs(x) > (double)LONG_MAX / 2))
      return at(card, v->line, v->col, err, "key '%s' needs an integer, not '%s'", k->name, s);
    if (k->min <= k->max && (x < k->min || x > k->max)) {
      return at(card, v->line, v->col, err, "value %s of '%s' is outside its allowed range [%g, %g]", s, k->name,
                k->min, k->max);
    }
    if (k->type == NA64_CARD_INT) *(long *)k->dst = (long)x;
    else *(double *)k->dst = x;
    return NA64_OK;
  }
  default:
    return at(card, v->line, v->col, err, "key '%s' needs a mapping, not '%s'", k->name, s);
  }
}

int na64_card_read(const na64_card *card, const na64_card_node *map, const na64_card_key *keys, int nkeys,
                   na64_err *err)
{
  if (!card || (!keys && nkeys > 0)) return na64_err_set(err, NA64_EINVAL, "na64_card_read: NULL argument");
  if (!map) map = card->root;
  if (map->kind != NODE_MAP)
    return at(card, map->line, map->col, err, "expected a mapping (key: value)");
  for (int i = 0; i < map->n; ++i) {
    const na64_card_key *k = NULL;
    for (int j = 0; j < nkeys && !k; ++j)
      if (strcmp(keys[j].name, map->keys[i]) == 0) k = &keys[j];
    if (!k) {
      char known[300] = "";
      for (int j = 0; j < nkeys; ++j) {
        size_t l = strlen(known);
        snprintf(known + l, sizeof known - l, "%s%s", j ? ", " : "", keys[j].name);
      }
      return at(card, map->key_line[i], map->key_col[i], err, "unknown key '%s' (known here: %s)", map->keys[i], known);
    }
    const na64_card_node *v = map->child[i];
    if (k->type == NA64_CARD_MAP || k->type == NA64_CARD_SECTION) {
      if (v->kind != NODE_MAP) return at(card, v->line, v->col, err, "key '%s' needs a mapping of settings", k->name);
      if (k->type == NA64_CARD_MAP) NA64_CALL(na64_card_read(card, v, k->sub, k->nsub, err));
    } else {
      NA64_CALL(read_scalar(card, v, k, err));
    }
    if (k->seen) *k->seen = 1;
  }
  for (int j = 0; j < nkeys; ++j) {
    if (!keys[j].required) continue;
    int found = 0;
    for (int i = 0; i < map->n && !found; ++i) found = strcmp(keys[j].name, map->keys[i]) == 0;
    if (!found) return at(card, map->line, map->col, err, "missing required key '%s'", keys[j].name);
  }
  return NA64_OK;
}

const na64_card_node *na64_card_get(const na64_card *card, const na64_card_node *map, const char *key)
{
  if (!card || !key) return NULL;
  if (!map) map = card->root;
  if (!map || map->kind != NODE_MAP) return NULL;
  for (int i = 0; i < map->n; ++i)
    if (strcmp(map->keys[i], key) == 0) return map->child[i];
  return NULL;
}

int na64_card_error(const na64_card *card, const na64_card_node *map, const char *key, na64_err *err, int code,
                    const char *fmt, ...)
{
  const na64_card_node *n = card && !map ? card->root : map;
  if (n && n->kind != NODE_MAP) n = NULL;
  const na64_card_node *v = n ? na64_card_get(card, n, key) : NULL; /* absent: the mapping's position */
  if (v) n = v;
  va_list ap;
  va_start(ap, fmt);
  int st = vat(card, n ? n->line : -1, n ? n->col : 0, err, code, fmt, ap);
  va_end(ap);
  return st;
}
