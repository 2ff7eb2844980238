/*
 * Runs written in parts (issue 15, docs/scaling.md "Per-rank data files"): the names of the part
 * files and the index that lists them. The index is YAML (read back with the card parser,
 * src/io/card.c, so a damaged index is refused with file:line:column), e.g.
 *
 *   format: na64-stream-index
 *   format_version: 1
 *   kind: raw
 *   version: "0.1.0"
 *   card: "card.yaml"
 *   card_hash: "9f3c...16 hex digits"
 *   run: 2000
 *   seed: 5
 *   events: 3000
 *   nparts: 2
 *   parts:
 *     "0": {file: "raw.rank0.dat", truth: "truth.rank0.h5", first_event: 0, events: 1500, records: 11}
 *     "1": {...}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/io.h"

#define FORMAT_TAG "na64-stream-index"
#define FORMAT_VERSION 1

/* FNV-1a 64 (draft-eastlake-fnv-21, section 2): offset basis 0xcbf29ce484222325, prime 2^40 + 2^8 + 0xb3. */
static uint64_t fnv1a64_update(uint64_t h, const unsigned char *s, size_t n)
{
  for (size_t i = 0; i < n; ++i) {
    h ^= s[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

uint64_t na64_fnv1a64(const void *data, size_t n)
{
  return fnv1a64_update(UINT64_C(0xcbf29ce484222325), data, n);
}

int na64_fnv1a64_file(const char *path, uint64_t *hash, na64_err *err)
{
  FILE *f = fopen(path, "rb");
  if (!f) return na64_err_set(err, NA64_EIO, "%s: cannot open: %s", path, strerror(errno));
  unsigned char buf[65536];
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) h = fnv1a64_update(h, buf, got);
  int bad = ferror(f);
  fclose(f);
  if (bad) return na64_err_set(err, NA64_EIO, "%s: read error", path);
  *hash = h;
  return NA64_OK;
}

void na64_part_range(uint64_t total, int k, int n, uint64_t *first, uint64_t *count)
{
  unsigned __int128 a = (unsigned __int128)total * (unsigned)k / (unsigned)n; /* no overflow for any total, n */
  unsigned __int128 b = (unsigned __int128)total * (unsigned)(k + 1) / (unsigned)n;
  *first = (uint64_t)a;
  *count = (uint64_t)(b - a);
}

void na64_stream_index_release(na64_stream_index *ix)
{
  if (!ix) return;
  free(ix->parts);
  ix->parts = NULL;
  ix->nheld = 0;
}

/* Length of the stem of path: without ".zst" and then without the last extension of the file name. */
static size_t stem_length(const char *path)
{
  size_t n = strlen(path);
  if (n > 4 && strcmp(path + n - 4, ".zst") == 0) n -= 4;
  const char *slash = strrchr(path, '/');
  size_t base = slash ? (size_t)(slash - path) + 1 : 0;
  for (size_t i = n; i > base + 1; --i)
    if (path[i - 1] == '.') return i - 1;
  return n;
}

int na64_stream_path(const char *path, int part, const char *ext, char *out, size_t n, na64_err *err)
{
  size_t stem = stem_length(path);
  int w = ext ? snprintf(out, n, "%.*s%s", (int)stem, path, ext)
              : snprintf(out, n, "%.*s.rank%d%s", (int)stem, path, part, path + stem);
  if (w < 0 || (size_t)w >= n) return na64_err_set(err, NA64_EINVAL, "%s: path too long for its part files", path);
  return NA64_OK;
}

/* A YAML double-quoted scalar (YAML 1.1 section 5.7 escapes for '"' and '\\'; control characters as \\xHH). */
static void put_quoted(FILE *f, const char *s)
{
  fputc('"', f);
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\x%02x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static const char *base_name(const char *path)
{
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static void put_part(FILE *f, const na64_stream_part *p)
{
  fprintf(f, "  \"%d\": {file: ", p->part);
  put_quoted(f, base_name(p->file));
  fputs(", truth: ", f);
  put_quoted(f, base_name(p->truth));
  fprintf(f, ", first_event: %llu, events: %llu, records: %llu}\n", (unsigned long long)p->first_event,
          (unsigned long long)p->events, (unsigned long long)p->records);
}

int na64_stream_index_write(const na64_stream_index *ix, const char *path, na64_err *err)
{
  na64_outfile *o = NULL;
  NA64_CALL(na64_outfile_open(path, 0, &o, err));
  FILE *f = na64_outfile_stream(o);
  fprintf(f, "# parts of one na64 run and their event ranges (docs/scaling.md)\nformat: %s\nformat_version: %d\n",
          FORMAT_TAG, FORMAT_VERSION);
  fprintf(f, "kind: %s\nversion: ", ix->kind);
  put_quoted(f, ix->version);
  fputs("\ncard: ", f);
  put_quoted(f, ix->card);
  fprintf(f, "\ncard_hash: \"%016llx\"\nrun: %ld\nseed: %llu\nevents: %llu\nnparts: %d\nparts:\n",
          (unsigned long long)ix->card_hash, ix->run, (unsigned long long)ix->seed, (unsigned long long)ix->events,
          ix->nparts);
  for (int i = 0; i < ix->nheld; ++i) put_part(f, &ix->parts[i]);
  return na64_outfile_commit(o, err);
}

/* The part file `name` (relative to the index's folder) as a path usable from here. */
static int resolve(const char *index_path, const char *name, char *out, size_t n, na64_err *err)
{
  if (!name[0] || name[0] == '/') {
    snprintf(out, n, "%s", name);
    return NA64_OK;
  }
  const char *slash = strrchr(index_path, '/');
  int dir = slash ? (int)(slash - index_path) + 1 : 0;
  int w = snprintf(out, n, "%.*s%s", dir, index_path, name);
  if (w < 0 || (size_t)w >= n) return na64_err_set(err, NA64_EINVAL, "%s: path of part file '%s' too long", index_path, name);
  return NA64_OK;
}

static int read_part(const na64_card *c, const na64_card_node *map, const char *path, int k, na64_stream_part *p,
                     na64_err *err)
{
  char file[1024] = "", truth[1024] = "";
  double first = 0, events = 0, records = 0;
  const na64_card_key keys[] = {
      {"file", NA64_CARD_STRING, file, sizeof file, 0, 0, 1, NULL, 0, NULL},
      {"truth", NA64_CARD_STRING, truth, sizeof truth, 0, 0, 1, NULL, 0, NULL},
      {"first_event", NA64_CARD_DOUBLE, &first, 0, 0, 9e15, 1, NULL, 0, NULL},
      {"events", NA64_CARD_DOUBLE, &events, 0, 0, 9e15, 1, NULL, 0, NULL},
      {"records", NA64_CARD_DOUBLE, &records, 0, 0, 9e15, 1, NULL, 0, NULL},
  };
  NA64_CALL(na64_card_read(c, map, keys, (int)(sizeof keys / sizeof keys[0]), err));
  if (first != (double)(uint64_t)first || events != (double)(uint64_t)events || records != (double)(uint64_t)records)
    return na64_err_set(err, NA64_EFORMAT, "%s: part %d: event counts must be whole numbers", path, k);
  p->part = k;
  p->first_event = (uint64_t)first;
  p->events = (uint64_t)events;
  p->records = (uint64_t)records;
  p->first_record = 0;
  NA64_CALL(resolve(path, file, p->file, sizeof p->file, err));
  return resolve(path, truth, p->truth, sizeof p->truth, err);
}

/* The keys of the top level; the parts are read by read_parts. */
static int read_header(const na64_card *c, const char *path, na64_stream_index *ix, na64_err *err)
{
  char format[64] = "", hash[32] = "";
  long fv = 0;
  double seed = 0, events = 0;
  long nparts = 0;
  const na64_card_key keys[] = {
      {"format", NA64_CARD_STRING, format, sizeof format, 0, 0, 1, NULL, 0, NULL},
      {"format_version", NA64_CARD_INT, &fv, 0, 1, FORMAT_VERSION, 1, NULL, 0, NULL},
      {"kind", NA64_CARD_STRING, ix->kind, sizeof ix->kind, 0, 0, 1, NULL, 0, NULL},
      {"version", NA64_CARD_STRING, ix->version, sizeof ix->version, 0, 0, 1, NULL, 0, NULL},
      {"card", NA64_CARD_STRING, ix->card, sizeof ix->card, 0, 0, 1, NULL, 0, NULL},
      {"card_hash", NA64_CARD_STRING, hash, sizeof hash, 0, 0, 1, NULL, 0, NULL},
      {"run", NA64_CARD_INT, &ix->run, 0, 0, 2147483647.0, 1, NULL, 0, NULL},
      {"seed", NA64_CARD_DOUBLE, &seed, 0, 0, 9e18, 1, NULL, 0, NULL},
      {"events", NA64_CARD_DOUBLE, &events, 0, 0, 9e15, 1, NULL, 0, NULL},
      {"nparts", NA64_CARD_INT, &nparts, 0, 1, 1000000, 1, NULL, 0, NULL},
      {"parts", NA64_CARD_SECTION, NULL, 0, 0, 0, 1, NULL, 0, NULL},
  };
  NA64_CALL(na64_card_read(c, NULL, keys, (int)(sizeof keys / sizeof keys[0]), err));
  if (strcmp(format, FORMAT_TAG) != 0)
    return na64_err_set(err, NA64_EFORMAT, "%s: not an na64 stream index (format '%s', expected '%s')", path, format,
                        FORMAT_TAG);
  char *end = NULL;
  ix->card_hash = strtoull(hash, &end, 16);
  if (strlen(hash) != 16 || *end) return na64_err_set(err, NA64_EFORMAT, "%s: card_hash '%s' is not 16 hex digits", path, hash);
  if (strcmp(ix->kind, "raw") != 0 && strcmp(ix->kind, "events") != 0)
    return na64_err_set(err, NA64_EFORMAT, "%s: kind '%s' is neither raw nor events", path, ix->kind);
  ix->seed = (uint64_t)seed; /* seeds above 2^53 are not exact as doubles: they are refused by na64 sim's --seed too */
  ix->events = (uint64_t)events;
  ix->nparts = (int)nparts;
  return NA64_OK;
}

static int read_parts(const na64_card *c, const char *path, na64_stream_index *ix, na64_err *err)
{
  const na64_card_node *parts = na64_card_get(c, NULL, "parts");
  ix->parts = calloc((size_t)ix->nparts, sizeof *ix->parts);
  if (!ix->parts) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", path);
  for (int k = 0; k < ix->nparts; ++k) {
    char key[16];
    snprintf(key, sizeof key, "%d", k);
    const na64_card_node *m = na64_card_get(c, parts, key);
    if (!m) continue; /* an index of some parts only (na64 sim --part K/N writes its own) */
    NA64_CALL(read_part(c, m, path, k, &ix->parts[ix->nheld], err));
    ix->nheld++;
  }
  if (ix->nheld == 0) return na64_err_set(err, NA64_EFORMAT, "%s: no part \"0\"..\"%d\" listed under parts", path, ix->nparts - 1);
  return NA64_OK;
}

int na64_stream_index_read(const char *path, na64_stream_index *ix, na64_err *err)
{
  memset(ix, 0, sizeof *ix);
  na64_card *c = NULL;
  NA64_CALL(na64_card_load(path, &c, err));
  int st = read_header(c, path, ix, err);
  if (st == NA64_OK) st = read_parts(c, path, ix, err);
  na64_card_free(c);
  if (st != NA64_OK) na64_stream_index_release(ix);
  return st;
}

/* The run of index b is that of index a (names for the message). */
static int same_run(const na64_stream_index *a, const char *na, const na64_stream_index *b, const char *nb, na64_err *err)
{
  const char *what = strcmp(a->kind, b->kind) ? "kinds (raw/events)"
                     : strcmp(a->version, b->version) ? "na64 versions"
                     : a->card_hash != b->card_hash ? "cards (card_hash)"
                     : a->run != b->run ? "runs"
                     : a->seed != b->seed ? "seeds"
                     : a->events != b->events ? "event counts"
                     : a->nparts != b->nparts ? "splits (nparts)"
                                              : NULL;
  if (what) return na64_err_set(err, NA64_EINVAL, "%s and %s: different %s: not parts of one run", na, nb, what);
  return NA64_OK;
}

typedef struct held {
  na64_stream_part p;
  int from; /* index of its file */
} held;

static int by_first_event(const void *a, const void *b)
{
  const held *x = a, *y = b;
  if (x->p.first_event != y->p.first_event) return x->p.first_event < y->p.first_event ? -1 : 1;
  if (x->p.events != y->p.events) return x->p.events < y->p.events ? -1 : 1; /* empty parts first */
  return (x->p.part > y->p.part) - (x->p.part < y->p.part);
}

/* Sorted parts must tile [0, events) exactly, each part once. */
static int check_tiling(const held *h, int n, uint64_t events, const char *const *names, na64_err *err)
{
  uint64_t next = 0;
  for (int i = 0; i < n; ++i) {
    if (h[i].p.first_event < next)
      return na64_err_set(err, NA64_EINVAL, "%s (part %d) and %s (part %d): overlapping event ranges (from %llu)",
                          names[h[i - 1].from], h[i - 1].p.part, names[h[i].from], h[i].p.part,
                          (unsigned long long)h[i].p.first_event);
    if (h[i].p.first_event > next)
      return na64_err_set(err, NA64_EINVAL, "%s (part %d): events %llu..%llu are in no part (a part is missing)",
                          names[h[i].from], h[i].p.part, (unsigned long long)next,
                          (unsigned long long)h[i].p.first_event - 1);
    next = h[i].p.first_event + h[i].p.events;
  }
  if (next != events)
    return na64_err_set(err, NA64_EINVAL, "%s: events %llu..%llu of the run are in no part (a part is missing)",
                        names[h[n - 1].from], (unsigned long long)next, (unsigned long long)events - 1);
  return NA64_OK;
}

/* Parts 0 .. nparts - 1 each exactly once (empty parts, of more parts than events, pass the tiling
 * check whatever their number). */
static int check_each_part_once(const held *h, int n, int nparts, const char *const *names, na64_err *err)
{
  int *seen = calloc((size_t)nparts, sizeof *seen), st = NA64_OK;
  if (!seen) return na64_err_set(err, NA64_ENOMEM, "joining indexes: out of memory");
  for (int i = 0; i < n && st == NA64_OK; ++i) {
    int k = h[i].p.part;
    if (k < 0 || k >= nparts || seen[k]++)
      st = na64_err_set(err, NA64_EINVAL, "%s: part %d of %d listed twice or out of range", names[h[i].from], k, nparts);
  }
  for (int k = 0; k < nparts && st == NA64_OK; ++k)
    if (!seen[k]) st = na64_err_set(err, NA64_EINVAL, "%s: part %d of %d is missing", names[0], k, nparts);
  free(seen);
  return st;
}

int na64_stream_index_join(const na64_stream_index *ix, const char *const *names, int n, na64_stream_index *out,
                           na64_err *err)
{
  memset(out, 0, sizeof *out);
  if (n < 1) return na64_err_set(err, NA64_EINVAL, "na64_stream_index_join: no index");
  int total = 0;
  for (int i = 0; i < n; ++i) {
    NA64_CALL(same_run(&ix[0], names[0], &ix[i], names[i], err));
    total += ix[i].nheld;
  }
  held *h = calloc((size_t)total, sizeof *h);
  if (!h) return na64_err_set(err, NA64_ENOMEM, "joining indexes: out of memory");
  int m = 0;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < ix[i].nheld; ++k) h[m++] = (held){ix[i].parts[k], i};
  qsort(h, (size_t)m, sizeof *h, by_first_event);
  int st = check_tiling(h, m, ix[0].events, names, err);
  if (st == NA64_OK) st = check_each_part_once(h, m, ix[0].nparts, names, err);
  if (st == NA64_OK) {
    *out = ix[0];
    out->nheld = m;
    out->parts = calloc((size_t)m, sizeof *out->parts);
    if (!out->parts) st = na64_err_set(err, NA64_ENOMEM, "joining indexes: out of memory");
  }
  uint64_t rec = 0;
  for (int i = 0; st == NA64_OK && i < m; ++i) {
    out->parts[i] = h[i].p;
    out->parts[i].first_record = rec;
    rec += h[i].p.records;
  }
  free(h);
  return st;
}
