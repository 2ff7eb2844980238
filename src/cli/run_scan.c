/*
 * `na64 run CARD --scan SECTION.KEY=v1,v2,...` (issue 15; docs/scaling.md "Scans"): the job of the
 * card once per value of one card key (a cut of `selection:`, the seed, the mass ...). Variation i
 * runs whole on rank i mod N (every rank simulates its variations' events itself, with all the
 * card's threads); rank 0 gathers the variations' exact partial results (the text of
 * na64_job_partial_format, src/ana/job_part.c) and finishes and writes them in the order of the
 * values, so the reports do not depend on the number of ranks:
 *   REPORT/scan-<i>.yaml   the card of variation i (the card with KEY set to v_i)
 *   REPORT/scan-<i>/       its report, as `na64 run REPORT/scan-<i>.yaml` writes it
 *   REPORT/scan.csv        one row per variation: value, efficiency, background and limit inputs
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/par.h"
#include "na64/ana.h"
#include "na64/io.h"

enum { SCAN_MAX = 1000 };

typedef struct scan_spec {
  char section[64], key[64];
  int n;
  char *values[SCAN_MAX]; /* pointers into buf */
  char buf[8192];
} scan_spec;

/* "SECTION.KEY=v1,v2,...": 0, or -1 if malformed (no section, key or value; an empty value). */
static int parse_spec(const char *spec, scan_spec *s)
{
  const char *dot = strchr(spec, '.'), *eq = strchr(spec, '=');
  if (!dot || !eq || dot > eq || dot == spec || eq == dot + 1 || !eq[1]) return -1;
  if ((size_t)(dot - spec) >= sizeof s->section || (size_t)(eq - dot - 1) >= sizeof s->key ||
      strlen(eq + 1) >= sizeof s->buf)
    return -1;
  snprintf(s->section, sizeof s->section, "%.*s", (int)(dot - spec), spec);
  snprintf(s->key, sizeof s->key, "%.*s", (int)(eq - dot - 1), dot + 1);
  snprintf(s->buf, sizeof s->buf, "%s", eq + 1);
  s->n = 0;
  for (char *v = s->buf, *c; v; v = c ? c + 1 : NULL) {
    c = strchr(v, ',');
    if (c) *c = '\0';
    if (!*v || s->n == SCAN_MAX || strpbrk(v, "\n#:{}[]")) return -1;
    s->values[s->n++] = v;
  }
  return 0;
}

/* Appends n bytes to the growing string *b (length *len); -1 when out of memory. */
static int append(char **b, size_t *len, const char *s, size_t n)
{
  char *nb = realloc(*b, *len + n + 1);
  if (!nb) return -1;
  memcpy(nb + *len, s, n);
  *len += n;
  nb[*len] = '\0';
  *b = nb;
  return 0;
}

static size_t line_end(const char *t, size_t i)
{
  while (t[i] && t[i] != '\n') ++i;
  return t[i] ? i + 1 : i;
}

/* Line [i, e) is "NAME:" at indentation `indent` (spaces), then a space, a comment or the end. */
static int is_key_line(const char *t, size_t i, size_t e, int indent, const char *name)
{
  size_t n = strlen(name);
  for (int k = 0; k < indent; ++k)
    if (t[i + (size_t)k] != ' ') return 0;
  i += (size_t)indent;
  return i + n < e && t[i] != ' ' && strncmp(t + i, name, n) == 0 && t[i + n] == ':' &&
         (i + n + 1 == e || t[i + n + 1] == ' ' || t[i + n + 1] == '\n' || t[i + n + 1] == '#');
}

/* The card text with SECTION.KEY set to value: a block-style `SECTION:` mapping of the card has its
 * KEY line replaced (or a KEY line added at its start); a card without the section gets one at the
 * end. The result is read by the card parser, which refuses what this edit cannot express. */
static int card_with(const char *text, const scan_spec *s, const char *value, char **out, na64_err *err)
{
  size_t len = 0, i = 0, sec = (size_t)-1;
  char *b = NULL, line[256];
  while (text[i] && sec == (size_t)-1) {
    size_t e = line_end(text, i);
    if (is_key_line(text, i, e, 0, s->section)) sec = e; /* first line after "SECTION:" */
    else i = e;
  }
  int w = snprintf(line, sizeof line, "  %s: %s\n", s->key, value);
  if (w < 0 || (size_t)w >= sizeof line) return na64_err_set(err, NA64_EINVAL, "--scan: value '%s' too long", value);
  if (sec == (size_t)-1) { /* no such section: add it */
    int ok = !append(&b, &len, text, strlen(text)) && (len == 0 || b[len - 1] == '\n' || !append(&b, &len, "\n", 1));
    ok = ok && !append(&b, &len, s->section, strlen(s->section)) && !append(&b, &len, ":\n", 2) &&
         !append(&b, &len, line, (size_t)w);
    *out = b;
    return ok ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "--scan: out of memory");
  }
  size_t k = sec, cut = sec, resume = sec; /* replace [cut, resume) by the KEY line */
  while (text[k] && (text[k] == ' ' || text[k] == '\n' || text[k] == '#')) {
    size_t e = line_end(text, k);
    if (is_key_line(text, k, e, 2, s->key)) {
      cut = k;
      resume = e;
      break;
    }
    k = e;
  }
  int ok = !append(&b, &len, text, cut) && !append(&b, &len, line, (size_t)w) &&
           !append(&b, &len, text + resume, strlen(text + resume));
  *out = b;
  return ok ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "--scan: out of memory");
}

static int slurp(const char *path, char **text, na64_err *err)
{
  FILE *f = fopen(path, "rb");
  if (!f) return na64_err_set(err, NA64_EIO, "%s: cannot open: %s", path, strerror(errno));
  char *b = NULL, chunk[65536];
  size_t len = 0, got;
  int st = NA64_OK;
  while (st == NA64_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (append(&b, &len, chunk, got)) st = na64_err_set(err, NA64_ENOMEM, "%s: out of memory", path);
  if (st == NA64_OK && ferror(f)) st = na64_err_set(err, NA64_EIO, "%s: read error", path);
  fclose(f);
  if (st == NA64_OK && !b) b = calloc(1, 1);
  *text = b;
  return st;
}

/* REPORT/scan-<i>.yaml: the card of variation i (written by every rank that needs it: same bytes). */
static int write_variation_card(const char *card_text, const scan_spec *s, int i, const char *report, char *path,
                                size_t n, na64_err *err)
{
  char *text = NULL;
  int st = card_with(card_text, s, s->values[i], &text, err);
  snprintf(path, n, "%s/scan-%d.yaml", report, i);
  na64_outfile *o = NULL;
  if (st == NA64_OK) st = na64_outfile_open(path, 0, &o, err);
  if (st == NA64_OK) {
    fputs(text, na64_outfile_stream(o));
    st = na64_outfile_commit(o, err);
  }
  free(text);
  return st;
}

/* This rank's variations (i = rank, rank + N, ...), each as "variation <i> <len>\n<partial text>". */
static int run_variations(const char *card_text, const scan_spec *s, const char *report, char **blocks, size_t *len,
                          na64_err *err)
{
  int st = NA64_OK;
  for (int i = par_rank(); i < s->n && st == NA64_OK; i += par_size()) {
    char path[4096], head[64];
    st = write_variation_card(card_text, s, i, report, path, sizeof path, err);
    na64_job_partial p = {0};
    if (st == NA64_OK) st = na64_job_partial_run(path, 0, 1, &p, NULL, NULL, err);
    char *text = NULL;
    size_t tl = 0;
    if (st == NA64_OK) st = na64_job_partial_format(&p, &text, &tl, err);
    na64_job_partial_release(&p);
    int hl = snprintf(head, sizeof head, "variation %d %zu\n", i, tl);
    if (st == NA64_OK && (append(blocks, len, head, (size_t)hl) || append(blocks, len, text, tl)))
      st = na64_err_set(err, NA64_ENOMEM, "--scan: out of memory");
    if (st != NA64_OK) na64_err_prefix(err, "--scan %s.%s=%s", s->section, s->key, s->values[i]);
    free(text);
  }
  return st;
}

/* Rank 0: the partial text of every variation, found in the ranks' blocks (texts[i] points into them). */
static int index_blocks(char **bufs, const size_t *lens, int nranks, const scan_spec *s, const char **texts,
                        size_t *tlens, na64_err *err)
{
  for (int r = 0; r < nranks; ++r)
    for (size_t o = 0; o < lens[r];) {
      int i = -1, used = 0;
      size_t tl = 0;
      if (sscanf(bufs[r] + o, "variation %d %zu\n%n", &i, &tl, &used) != 2 || used == 0 || i < 0 || i >= s->n ||
          o + (size_t)used + tl > lens[r])
        return na64_err_set(err, NA64_EFORMAT, "--scan: malformed result from rank %d", r);
      texts[i] = bufs[r] + o + used;
      tlens[i] = tl;
      o += (size_t)used + tl;
    }
  for (int i = 0; i < s->n; ++i)
    if (!texts[i]) return na64_err_set(err, NA64_EFORMAT, "--scan: no result for variation %d", i);
  return NA64_OK;
}

/* Rank 0: finish variation i from its partial text, write its report and its row of scan.csv. */
static int finish_variation(const char *card_text, const char *text, size_t len, const scan_spec *s, int i,
                            const char *report, double eot, FILE *csv, na64_err *err)
{
  char name[64], dir[4096], card[4096];
  snprintf(name, sizeof name, "variation %d", i);
  snprintf(dir, sizeof dir, "%s/scan-%d", report, i);
  /* the variation's card here too (the rank that ran it may have another file system) */
  NA64_CALL(write_variation_card(card_text, s, i, report, card, sizeof card, err));
  if (mkdir(dir, 0775) != 0 && errno != EEXIST)
    return na64_err_set(err, NA64_EIO, "cannot create report directory '%s': %s", dir, strerror(errno));
  na64_job_partial p = {0};
  na64_job_result *res = calloc(1, sizeof *res);
  int st = res ? na64_job_partial_parse(text, len, name, &p, err) : na64_err_set(err, NA64_ENOMEM, "out of memory");
  if (st == NA64_OK) st = na64_job_finish(&p, eot, res, err);
  if (st == NA64_OK) st = na64_job_write_report(res, card, dir, err);
  if (st == NA64_OK)
    fprintf(csv, "%d,%s.%s,%s,%.17g,%.17g,%.17g,%.17g,%s,scan-%d\n", i, s->section, s->key, s->values[i],
            res->result.eot, res->limit_efficiency, res->limit_background, res->limit_background_error,
            res->limit_background_source, i);
  if (res) na64_job_result_release(res);
  free(res);
  na64_job_partial_release(&p);
  return st;
}

static int write_scan(const char *card_text, char **bufs, const size_t *lens, const scan_spec *s, const char *report, double eot, na64_err *err)
{
  const char **texts = calloc((size_t)s->n, sizeof *texts);
  size_t *tlens = calloc((size_t)s->n, sizeof *tlens);
  int st = texts && tlens ? index_blocks(bufs, lens, par_size(), s, texts, tlens, err)
                          : na64_err_set(err, NA64_ENOMEM, "--scan: out of memory");
  char path[4096];
  snprintf(path, sizeof path, "%s/scan.csv", report);
  na64_outfile *o = NULL;
  if (st == NA64_OK) st = na64_outfile_open(path, 0, &o, err);
  if (st == NA64_OK) {
    FILE *csv = na64_outfile_stream(o);
    fputs("variation,key,value,eot_simulated,efficiency,background_events,background_error,background_source,report\n",
          csv);
    for (int i = 0; i < s->n && st == NA64_OK; ++i) st = finish_variation(card_text, texts[i], tlens[i], s, i, report, eot, csv, err);
    if (st == NA64_OK) st = na64_outfile_commit(o, err);
    else na64_outfile_abort(o);
  }
  if (st == NA64_OK) printf("scan of %s.%s over %d values (%d ranks): %s, reports in %s/scan-<i>/\n", s->section,
                            s->key, s->n, par_size(), path, report);
  free(texts);
  free(tlens);
  return st;
}

int run_scan(const char *card, const char *spec, double eot, const char *report)
{
  static scan_spec s;
  if (!card) return cli_usage_error("run", "--scan needs a run card to vary");
  if (parse_spec(spec, &s))
    return cli_usage_error("run", "--scan %s: expected SECTION.KEY=v1,v2,... (e.g. selection.ecal_max=40,50,60; "
                                  "at most %d plain values)", spec, SCAN_MAX);
  na64_err err = {0, ""};
  char *card_text = NULL, *blocks = NULL, **bufs = NULL;
  size_t len = 0, *lens = NULL;
  int st = slurp(card, &card_text, &err);
  if (st == NA64_OK && mkdir(report, 0775) != 0 && errno != EEXIST)
    st = na64_err_set(&err, NA64_EIO, "cannot create report directory '%s': %s", report, strerror(errno));
  if (st == NA64_OK) st = run_variations(card_text, &s, report, &blocks, &len, &err);
  if (st != NA64_OK) cli_fail("run", &err);
  int failed = par_any(st != NA64_OK);
  if (!failed && par_gather(blocks ? blocks : "", len, &bufs, &lens)) failed = 1;
  if (!failed && bufs && (st = write_scan(card_text, bufs, lens, &s, report, eot, &err)) != NA64_OK) failed = cli_fail("run", &err);
  for (int r = 0; bufs && r < par_size(); ++r) free(bufs[r]);
  free(bufs);
  free(lens);
  free(blocks);
  free(card_text);
  return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
