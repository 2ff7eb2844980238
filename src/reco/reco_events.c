/*
 * The simulated events that did not trigger, recorded as string attributes of the `events` table
 * (na64/reco.h, docs/reco.md §1): they have no row, yet the cut flow's `generated` row, the
 * efficiency (trigger included) and the background per EOT need them. Numbers are written with
 * %.17g, which reads back to the same double (IEEE 754-2008, 5.12.2: 17 significant digits
 * suffice for binary64), so the selection of the file sums exactly the weights `na64 run` sums.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/reco.h"

static const char *const class_name[2] = {"background", "signal"};

void na64_reco_untriggered_init(na64_reco_untriggered *u)
{
  memset(u, 0, sizeof *u);
  u->eot = NAN;
}

void na64_reco_untriggered_add(na64_reco_untriggered *u, int is_signal, double w)
{
  int c = is_signal != 0, k = 0;
  while (k < u->nw[c] && !(u->w[c][k] == w)) ++k;
  if (k == u->nw[c] && k < NA64_RECO_UNTRIG_WEIGHTS) u->w[c][u->nw[c]++] = w;
  if (k < u->nw[c]) u->count[c][k]++;
  else { /* too many distinct weights: only their sum is kept */
    u->extra_sum[c] += w;
    u->extra_n[c]++;
  }
}

uint64_t na64_reco_untriggered_events(const na64_reco_untriggered *u, int is_signal)
{
  int c = is_signal != 0;
  uint64_t n = u->extra_n[c];
  for (int k = 0; k < u->nw[c]; ++k) n += u->count[c][k];
  return n;
}

/* "W*N" appended to buf (comma-separated). */
static void put_item(char *buf, size_t len, double w, uint64_t n)
{
  char num[64];
  na64_num_format(num, sizeof num, "%.17g", w);
  size_t used = strlen(buf);
  snprintf(buf + used, len - used, "%s%s*%" PRIu64, used ? "," : "", num, n);
}

int na64_reco_untriggered_write(na64_h5table *t, const na64_reco_untriggered *u, na64_err *err)
{
  if (!t || !u) return na64_err_set(err, NA64_EINVAL, "na64_reco_untriggered_write: NULL argument");
  if (!isfinite(u->eot)) return NA64_OK; /* nothing known about untriggered events */
  char buf[(NA64_RECO_UNTRIG_WEIGHTS + 1) * 48] = "";
  na64_num_format(buf, sizeof buf, "%.17g", u->eot);
  NA64_CALL(na64_h5table_attr(t, "eot_simulated", buf, err));
  for (int c = 0; c < 2; ++c) {
    char name[64];
    buf[0] = '\0';
    for (int k = 0; k < u->nw[c]; ++k) put_item(buf, sizeof buf, u->w[c][k], u->count[c][k]);
    if (u->extra_n[c]) put_item(buf, sizeof buf, u->extra_sum[c] / (double)u->extra_n[c], u->extra_n[c]);
    snprintf(name, sizeof name, "untriggered_%s", class_name[c]);
    NA64_CALL(na64_h5table_attr(t, name, buf, err));
  }
  return NA64_OK;
}

/* Attribute `name` into buf; *found 0 if absent. */
static int get_text(const na64_h5reader *r, const char *name, char *buf, size_t len, int *found, na64_err *err)
{
  *found = 0;
  int st = na64_h5reader_attr(r, name, buf, len, err);
  if (st == NA64_ENOTFOUND) {
    if (err) na64_err_clear(err);
    return NA64_OK;
  }
  NA64_CALL(st);
  *found = 1;
  return NA64_OK;
}

/* A finite number >= 0 at *s, ending at one of `stops` (or the end). */
static int parse_number(const char **s, double *v, const char *stops)
{
  char *end = NULL;
  errno = 0;
  *v = na64_num_parse(*s, &end);
  if (end == *s || errno || !isfinite(*v) || *v < 0 || (*end && !strchr(stops, *end))) return -1;
  *s = end;
  return 0;
}

/* "W*N,W*N,..." (possibly empty) into class c. */
static int parse_list(const char *text, na64_reco_untriggered *u, int c)
{
  const char *s = text;
  while (*s) {
    double w, n;
    if (parse_number(&s, &w, "*") || *s != '*') return -1;
    ++s;
    if (parse_number(&s, &n, ",") || n != floor(n) || n > 1e18 || u->nw[c] == NA64_RECO_UNTRIG_WEIGHTS + 1) return -1;
    u->w[c][u->nw[c]] = w;
    u->count[c][u->nw[c]++] = (uint64_t)n;
    if (*s == ',') ++s;
  }
  return 0;
}

int na64_reco_untriggered_read(const na64_h5reader *r, na64_reco_untriggered *u, na64_err *err)
{
  if (!r || !u) return na64_err_set(err, NA64_EINVAL, "na64_reco_untriggered_read: NULL argument");
  na64_reco_untriggered_init(u);
  char buf[(NA64_RECO_UNTRIG_WEIGHTS + 1) * 48];
  int found = 0;
  NA64_CALL(get_text(r, "eot_simulated", buf, sizeof buf, &found, err));
  if (!found) return NA64_OK;
  const char *s = buf;
  double eot;
  /* 0: a later range of a file shared by MPI ranks (its first range has the file's EOT) */
  if (parse_number(&s, &eot, "") || !(eot >= 0) || !isfinite(eot))
    return na64_err_set(err, NA64_EFORMAT, "events table: attribute eot_simulated = '%s' is not a number >= 0", buf);
  u->eot = eot;
  for (int c = 0; c < 2; ++c) {
    char name[64];
    snprintf(name, sizeof name, "untriggered_%s", class_name[c]);
    NA64_CALL(get_text(r, name, buf, sizeof buf, &found, err));
    if (!found || parse_list(buf, u, c))
      return na64_err_set(err, NA64_EFORMAT,
                          "events table: eot_simulated is recorded but attribute %s = '%s' is not a list WEIGHT*COUNT,...",
                          name, found ? buf : "(missing)");
  }
  return NA64_OK;
}
