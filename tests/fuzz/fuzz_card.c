/* Deterministic mutation fuzzer of the run cards (configs/<card>.yaml): every card of the repository, the
 * invisible and the visible ones, is mutated (truncation at every line, deleted and duplicated lines,
 * byte and bit flips, values replaced by the wrong type, by huge, negative, zero, NaN/inf numbers,
 * by non-UTF-8 bytes, deep nesting, unknown keys, broken indentation) and each mutant goes through
 * the card parser and every configuration reader a job uses: the invisible simulation
 * (na64_sim_config_parse, with the physics options: physics.method, aprime.mediator), the visible one
 * (na64_vis_config_parse), the selections (both modes), the visible backgrounds, the job section of
 * `na64 run` (analysis:) and its masses list.
 *
 * Asserted: no crash and no leak (the test runs under ASan+UBSan with leak checking too), and each
 * reader either accepts the mutant or fails with a message that names the card and either the place
 * (card:line:column) or the key at fault (a key name of the card, as key or section.key).
 *
 * Usage: fuzz_card [MUTANTS_PER_CARD [FIRST_SEED]]  (default 400: a few seconds under ASan; the test
 * fuzz/card_mutants_long of `make validate` runs 20000). Exit status 0, or 1 with the failing mutants
 * printed (seed and mutation, enough to reproduce with the same arguments). Registered by
 * tests/fuzz/fuzz.cmake. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"
#include "na64/io.h"
#include "na64/sim.h"

#ifndef NA64_SOURCE_DIR
#define NA64_SOURCE_DIR "."
#endif

typedef struct buf {
  char *p;
  size_t n, cap;
} buf;

static void buf_put(buf *b, const char *s, size_t n)
{
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->n + n + 1) * 2;
    char *q = realloc(b->p, cap);
    if (!q) abort();
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void buf_puts(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

/* splitmix64 (Steele, Lea, Flood, OOPSLA 2014): the mutation stream of (card, mutant) */
static uint64_t mix(uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static size_t pick(uint64_t *s, size_t n) { return n ? (size_t)(mix(s) % n) : 0; }

typedef struct card_text {
  char path[1024], name[256];
  char *text;
  size_t len;
  size_t nlines;
  size_t *line_start; /* nlines + 1 offsets */
  char keys[256][48]; /* the key names of the card (for the message check) */
  int nkeys;
} card_text;

static void index_card(card_text *c)
{
  c->nlines = 0;
  for (size_t i = 0; i < c->len; ++i) c->nlines += c->text[i] == '\n';
  if (c->len && c->text[c->len - 1] != '\n') c->nlines++;
  c->line_start = malloc((c->nlines + 1) * sizeof *c->line_start);
  if (!c->line_start) abort();
  size_t k = 0;
  c->line_start[k++] = 0;
  for (size_t i = 0; i < c->len && k <= c->nlines; ++i)
    if (c->text[i] == '\n') c->line_start[k++] = i + 1;
  c->line_start[c->nlines] = c->len;
  /* key names: "  name:" at the start of a line, or "{name:" / ", name:" in flow maps */
  for (size_t i = 0; i < c->len; ++i) {
    if (c->text[i] != ':') continue;
    size_t j = i;
    while (j > 0 && (c->text[j - 1] == '_' || c->text[j - 1] == '-' || c->text[j - 1] == '+' ||
                     (c->text[j - 1] >= 'a' && c->text[j - 1] <= 'z') || (c->text[j - 1] >= 'A' && c->text[j - 1] <= 'Z') ||
                     (c->text[j - 1] >= '0' && c->text[j - 1] <= '9')))
      --j;
    size_t l = i - j;
    if (l < 1 || l >= sizeof c->keys[0] || c->nkeys >= 256) continue;
    char k2[48];
    memcpy(k2, c->text + j, l);
    k2[l] = '\0';
    int dup = 0;
    for (int q = 0; q < c->nkeys && !dup; ++q) dup = !strcmp(c->keys[q], k2);
    if (!dup) snprintf(c->keys[c->nkeys++], sizeof c->keys[0], "%s", k2);
  }
}

static int load_card(const char *path, const char *name, card_text *c)
{
  memset(c, 0, sizeof *c);
  snprintf(c->path, sizeof c->path, "%s", path);
  snprintf(c->name, sizeof c->name, "%s", name);
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  buf b = {0};
  char tmp[4096];
  size_t r;
  while ((r = fread(tmp, 1, sizeof tmp, f)) > 0) buf_put(&b, tmp, r);
  fclose(f);
  c->text = b.p;
  c->len = b.n;
  index_card(c);
  return 0;
}

/* The values a mutant puts in place of a scalar: wrong types, out-of-range and non-finite numbers,
 * YAML features the cards refuse, bytes that are not UTF-8. */
static const char *const BAD_VALUES[] = {
    "-1", "0", "-0", "1e308", "1e400", "-1e400", "1e-400", ".nan", "nan", ".inf", "-.inf", "inf", "NaN",
    "\"text\"", "'1.0'", "text", "[1, 2]", "{a: 1}", "[]", "{}", "", "~", "null", "0x10", "0o17", "1_000",
    "9223372036854775807", "-9223372036854775808", "99999999999999999999999", "1e19", "4294967297",
    "2147483648", "1,5", "1.0.0", "--1", "+", "-", ".", "e5", "1e", "true", "no", "&a 1", "*a", "!!binary 3q2+7w==",
    "!tag 1", "|\n  block", ">\n  folded", "\xff\xfe", "caf\xc3", "\xed\xa0\x80", "\"\\u0000\"", "\"a\\0b\"",
    "1 # comment", "? complex", "- item",
};
#define NBAD (sizeof BAD_VALUES / sizeof BAD_VALUES[0])

/* the line [a, b) of the card without its newline */
static void line_bounds(const card_text *c, size_t i, size_t *a, size_t *b)
{
  *a = c->line_start[i];
  *b = c->line_start[i + 1];
  if (*b > *a && c->text[*b - 1] == '\n') --*b;
}

static size_t indent_of(const card_text *c, size_t i)
{
  size_t a, b, k = 0;
  line_bounds(c, i, &a, &b);
  while (a + k < b && c->text[a + k] == ' ') ++k;
  return k;
}

/* Make mutant `m` of card c into out; describe it in what. */
static void mutate(const card_text *c, uint64_t seed, buf *out, char *what, size_t wl)
{
  uint64_t s = seed;
  out->n = 0;
  size_t L = c->nlines;
  int kind = (int)pick(&s, 13);
  size_t li = pick(&s, L);
  size_t a, b;
  line_bounds(c, li, &a, &b);
  switch (kind) {
  case 0: { /* truncation at a byte */
    size_t at = pick(&s, c->len);
    buf_put(out, c->text, at);
    snprintf(what, wl, "truncated at byte %zu", at);
    break;
  }
  case 1: { /* byte flips */
    buf_put(out, c->text, c->len);
    int nflip = 1 + (int)pick(&s, 4);
    for (int k = 0; k < nflip; ++k) out->p[pick(&s, c->len)] ^= (char)(1u << pick(&s, 8));
    snprintf(what, wl, "%d bit flips", nflip);
    break;
  }
  case 2: { /* random byte values */
    buf_put(out, c->text, c->len);
    size_t at = pick(&s, c->len);
    out->p[at] = (char)pick(&s, 256);
    snprintf(what, wl, "byte %zu set to 0x%02x", at, (unsigned char)out->p[at]);
    break;
  }
  case 3: /* line deleted */
    buf_put(out, c->text, c->line_start[li]);
    buf_put(out, c->text + c->line_start[li + 1], c->len - c->line_start[li + 1]);
    snprintf(what, wl, "line %zu deleted", li + 1);
    break;
  case 4: /* line duplicated (a duplicate key when it holds one) */
    buf_put(out, c->text, c->line_start[li + 1]);
    buf_put(out, c->text + a, b - a);
    buf_puts(out, "\n");
    buf_put(out, c->text + c->line_start[li + 1], c->len - c->line_start[li + 1]);
    snprintf(what, wl, "line %zu duplicated", li + 1);
    break;
  case 5: { /* unknown key with the indentation of the line */
    size_t ind = indent_of(c, li);
    buf_put(out, c->text, c->line_start[li]);
    for (size_t k = 0; k < ind; ++k) buf_puts(out, " ");
    buf_puts(out, pick(&s, 2) ? "no_such_key: 1\n" : "beam_energy: {x: [1, 2]}\n");
    buf_put(out, c->text + c->line_start[li], c->len - c->line_start[li]);
    snprintf(what, wl, "unknown key before line %zu", li + 1);
    break;
  }
  case 6:
  case 7:
  case 8: { /* the value of a "key: value" line replaced */
    const char *colon = memchr(c->text + a, ':', b - a);
    const char *bad = BAD_VALUES[pick(&s, NBAD)];
    char big[6000];
    if (kind == 8) { /* huge numbers and texts */
      int t = (int)pick(&s, 3);
      if (t == 0) {
        memset(big, '9', 5000);
        big[5000] = '\0';
      } else if (t == 1) {
        memset(big, 'x', 5000);
        big[5000] = '\0';
      } else {
        snprintf(big, sizeof big, "1e%d", (int)pick(&s, 700) - 350);
      }
      bad = big;
    }
    if (!colon) {
      buf_put(out, c->text, c->len);
      snprintf(what, wl, "unchanged (line %zu has no key)", li + 1);
      break;
    }
    size_t vpos = (size_t)(colon - c->text) + 1;
    buf_put(out, c->text, vpos);
    buf_puts(out, " ");
    buf_puts(out, bad);
    buf_puts(out, "\n");
    buf_put(out, c->text + c->line_start[li + 1], c->len - c->line_start[li + 1]);
    snprintf(what, wl, "value of line %zu replaced by '%.40s'", li + 1, bad);
    break;
  }
  case 9: { /* deep nesting in place of a value */
    const char *colon = memchr(c->text + a, ':', b - a);
    size_t depth = 1 + pick(&s, 80);
    size_t vpos = colon ? (size_t)(colon - c->text) + 1 : a;
    buf_put(out, c->text, vpos);
    int flow_map = (int)pick(&s, 2);
    for (size_t k = 0; k < depth; ++k) buf_puts(out, flow_map ? "{a: " : "[");
    buf_puts(out, "1");
    for (size_t k = 0; k < depth; ++k) buf_puts(out, flow_map ? "}" : "]");
    buf_puts(out, "\n");
    buf_put(out, c->text + c->line_start[li + 1], c->len - c->line_start[li + 1]);
    snprintf(what, wl, "nesting of depth %zu at line %zu", depth, li + 1);
    break;
  }
  case 10: { /* indentation broken */
    buf_put(out, c->text, c->line_start[li]);
    buf_puts(out, pick(&s, 2) ? "   " : "\t");
    buf_put(out, c->text + c->line_start[li], c->len - c->line_start[li]);
    snprintf(what, wl, "line %zu indented", li + 1);
    break;
  }
  case 11: { /* non-UTF-8 or NUL bytes inside a line */
    static const char *const junk[] = {"\xff", "\xc0\xaf", "\x80", "\xe2\x82", "\x00", "\xf4\x90\x80\x80"};
    size_t j = pick(&s, 6);
    size_t at = a + pick(&s, b - a + 1);
    buf_put(out, c->text, at);
    buf_put(out, junk[j], j == 4 ? 1 : strlen(junk[j]));
    buf_put(out, c->text + at, c->len - at);
    snprintf(what, wl, "junk bytes inserted at byte %zu", at);
    break;
  }
  default: { /* a section turned into a list item or a scalar */
    size_t ind = indent_of(c, li);
    buf_put(out, c->text, c->line_start[li] + ind);
    buf_puts(out, pick(&s, 2) ? "- " : "? ");
    buf_put(out, c->text + c->line_start[li] + ind, c->len - c->line_start[li] - ind);
    snprintf(what, wl, "line %zu made a sequence/complex entry", li + 1);
    break;
  }
  }
}

static int failures;

/* A message is clear when it names the card and either a position name:line:col, or a key of the card
 * (quoted or as section.key). */
static int message_ok(const char *msg, const char *name, const card_text *c)
{
  const char *p = strstr(msg, name);
  if (!p) return 0;
  int line, col;
  char tail;
  if (sscanf(p + strlen(name), ":%d:%d%c", &line, &col, &tail) == 3 && tail == ':' && line >= 1) return 1;
  for (int k = 0; k < c->nkeys; ++k) {
    size_t kl = strlen(c->keys[k]);
    if (kl < 2) continue;
    for (const char *q = strstr(msg, c->keys[k]); q; q = strstr(q + 1, c->keys[k])) {
      char before = q == msg ? ' ' : q[-1], after = q[kl];
      int wb = !(before == '_' || (before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z'));
      int wa = !(after == '_' || (after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z'));
      if (wb && wa) return 1;
    }
  }
  return 0;
}

static void check(int st, const na64_err *err, const char *reader, const char *name, const card_text *c,
                  const char *what, uint64_t seed)
{
  if (st == NA64_OK) return;
  if (getenv("NA64_FUZZ_CARD_VERBOSE")) fprintf(stderr, "%s: %s: %s\n", what, reader, err->msg);
  if (st == NA64_ENOMEM) return;
  if (!message_ok(err->msg, name, c)) {
    if (failures < 40)
      fprintf(stderr, "fuzz_card: %s: seed %llu (%s): %s: unclear message (status %d): %s\n", c->name,
              (unsigned long long)seed, what, reader, st, err->msg);
    failures++;
  }
}

static void run_mutant(const card_text *c, const char *text, size_t len, const char *what, uint64_t seed)
{
  char name[300];
  snprintf(name, sizeof name, "%s", c->name);
  na64_err err;
  na64_sim_config sc;
  na64_sim_config_default(&sc);
  na64_err_clear(&err);
  check(na64_sim_config_parse(text, len, name, &sc, &err), &err, "sim config", name, c, what, seed);
  na64_vis_config vc;
  na64_vis_config_default(&vc);
  na64_err_clear(&err);
  check(na64_vis_config_parse(text, len, name, &vc, &err), &err, "visible config", name, c, what, seed);
  na64_select_config sel;
  na64_select_config_default(&sel);
  na64_err_clear(&err);
  check(na64_select_config_parse(text, len, name, &sel, &err), &err, "selection", name, c, what, seed);

  na64_card *card = NULL;
  na64_err_clear(&err);
  int st = na64_card_parse(text, len, name, &card, &err);
  check(st, &err, "card parser", name, c, what, seed);
  if (st != NA64_OK) return;
  (void)na64_card_is_visible(card);
  na64_vis_select_config vs;
  na64_vis_select_config_default(&vs);
  na64_err_clear(&err);
  check(na64_vis_select_config_read(card, &vs, &err), &err, "visible selection", name, c, what, seed);
  na64_vis_bkg_config vb;
  na64_vis_bkg_config_default(&vb);
  na64_err_clear(&err);
  check(na64_vis_bkg_config_read(card, &vb, &err), &err, "visible backgrounds", name, c, what, seed);
  na64_job_config jc;
  na64_job_config_default(&jc);
  na64_err_clear(&err);
  st = na64_job_config_read(card, &jc, &err);
  check(st, &err, "job (analysis:)", name, c, what, seed);
  if (st == NA64_OK) {
    for (int mode = 0; mode < 2; ++mode) {
      double *m = NULL;
      int n = 0;
      na64_err_clear(&err);
      st = na64_sens_masses_parse(jc.masses, mode ? NA64_SENS_VISIBLE : NA64_SENS_INVISIBLE, &m, &n, &err);
      if (st != NA64_OK && !strstr(err.msg, "mass")) {
        if (failures < 40)
          fprintf(stderr, "fuzz_card: %s: seed %llu (%s): masses_MeV '%s': unclear message: %s\n", c->name,
                  (unsigned long long)seed, what, jc.masses, err.msg);
        failures++;
      }
      free(m);
    }
  }
  na64_card_free(card);
}

int main(int argc, char **argv)
{
  long per_card = argc > 1 ? atol(argv[1]) : 400;
  uint64_t first = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
  const char *dir = NA64_SOURCE_DIR "/configs";
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "fuzz_card: cannot open %s\n", dir);
    return 1;
  }
  card_text cards[32];
  int ncards = 0;
  struct dirent *e;
  while ((e = readdir(d)) && ncards < 32) {
    size_t l = strlen(e->d_name);
    if (l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0) continue;
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (load_card(path, e->d_name, &cards[ncards]) == 0) ncards++;
  }
  closedir(d);
  if (ncards < 2) {
    fprintf(stderr, "fuzz_card: found %d cards in %s\n", ncards, dir);
    return 1;
  }
  na64_log_set_hook(NULL, NULL);
  buf m = {0};
  char what[200];
  long total = 0;
  for (int ci = 0; ci < ncards; ++ci) {
    const card_text *c = &cards[ci];
    /* the card itself must be accepted by the reader of its mode */
    na64_err err;
    na64_card *card = NULL;
    if (na64_card_parse(c->text, c->len, c->name, &card, &err) != NA64_OK) {
      fprintf(stderr, "fuzz_card: %s does not parse: %s\n", c->name, err.msg);
      return 1;
    }
    int vis = na64_card_is_visible(card);
    na64_card_free(card);
    int st;
    if (vis) {
      na64_vis_config vc;
      na64_vis_config_default(&vc);
      st = na64_vis_config_parse(c->text, c->len, c->name, &vc, &err);
    } else {
      na64_sim_config sc;
      na64_sim_config_default(&sc);
      st = na64_sim_config_parse(c->text, c->len, c->name, &sc, &err);
    }
    if (st != NA64_OK) {
      fprintf(stderr, "fuzz_card: %s is refused by its own reader: %s\n", c->name, err.msg);
      return 1;
    }
    /* truncation at every line */
    for (size_t li = 0; li <= c->nlines; ++li) {
      snprintf(what, sizeof what, "truncated before line %zu", li + 1);
      run_mutant(c, c->text, c->line_start[li], what, 0);
      total++;
    }
    for (long k = 0; k < per_card; ++k) {
      uint64_t seed = (first + (uint64_t)k) * 1000003ull + (uint64_t)ci;
      mutate(c, seed, &m, what, sizeof what);
      run_mutant(c, m.p ? m.p : "", m.n, what, seed);
      total++;
    }
  }
  free(m.p);
  for (int ci = 0; ci < ncards; ++ci) {
    free(cards[ci].text);
    free(cards[ci].line_start);
  }
  printf("fuzz_card: %d cards, %ld mutants, %d failures\n", ncards, total, failures);
  return failures ? 1 : 0;
}
