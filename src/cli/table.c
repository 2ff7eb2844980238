/* Result tables printed as aligned text, CSV (RFC 4180) or JSON (an array of objects). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct cli_table {
  int ncols, nrows, cap;
  char **names;
  char **cells; /* nrows * ncols strings, "" for missing */
  int *numeric; /* per cell: 1 if it came from a number (JSON prints it bare) */
};

static char *dupstr(const char *s)
{
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

cli_table *cli_table_new(int ncols, const char *const *names)
{
  cli_table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->ncols = ncols;
  t->names = calloc((size_t)ncols, sizeof *t->names);
  for (int i = 0; i < ncols; ++i) t->names[i] = dupstr(names[i]);
  return t;
}

void cli_table_free(cli_table *t)
{
  if (!t) return;
  for (int i = 0; i < t->ncols; ++i) free(t->names[i]);
  for (int i = 0; i < t->nrows * t->ncols; ++i) free(t->cells[i]);
  free(t->names);
  free(t->cells);
  free(t->numeric);
  free(t);
}

static void grow(cli_table *t)
{
  if (t->nrows < t->cap) return;
  t->cap = t->cap ? 2 * t->cap : 16;
  t->cells = realloc(t->cells, (size_t)t->cap * (size_t)t->ncols * sizeof *t->cells);
  t->numeric = realloc(t->numeric, (size_t)t->cap * (size_t)t->ncols * sizeof *t->numeric);
}

void cli_table_add_row(cli_table *t, const double *values)
{
  grow(t);
  for (int c = 0; c < t->ncols; ++c) {
    char buf[64] = "";
    if (isfinite(values[c])) na64_num_format(buf, sizeof buf, "%.10g", values[c]);
    else if (isinf(values[c])) na64_num_format(buf, sizeof buf, "%s", values[c] > 0 ? "inf" : "-inf");
    t->cells[t->nrows * t->ncols + c] = dupstr(buf);
    t->numeric[t->nrows * t->ncols + c] = isfinite(values[c]) ? 1 : 0; /* inf is text: JSON has no inf */
  }
  t->nrows++;
}

void cli_table_add_text_row(cli_table *t, const char *const *cells)
{
  grow(t);
  for (int c = 0; c < t->ncols; ++c) {
    const char *cell = cells[c] ? cells[c] : "";
    char *end = NULL;
    double v = na64_num_parse(cell, &end);
    t->cells[t->nrows * t->ncols + c] = dupstr(cell);
    /* a cell that is entirely a finite number is printed bare in JSON */
    t->numeric[t->nrows * t->ncols + c] = (cell[0] && end && *end == '\0' && isfinite(v)) ? 1 : 0;
  }
  t->nrows++;
}

/* Shorter human form of a number cell for the aligned table. */
static void pretty(char *out, size_t n, const char *cell, int numeric)
{
  if (!numeric) {
    na64_num_format(out, n, "%s", cell);
    return;
  }
  na64_num_format(out, n, "%.6g", na64_num_parse(cell, NULL));
}

static void print_csv_cell(FILE *out, const char *s)
{
  if (strpbrk(s, ",\"\n")) {
    fputc('"', out);
    for (; *s; ++s) {
      if (*s == '"') fputc('"', out);
      fputc(*s, out);
    }
    fputc('"', out);
  } else {
    fputs(s, out);
  }
}

static void print_json_string(FILE *out, const char *s)
{
  fputc('"', out);
  for (; *s; ++s) {
    if (*s == '"' || *s == '\\') fprintf(out, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) fprintf(out, "\\u%04x", *s);
    else fputc(*s, out);
  }
  fputc('"', out);
}

void cli_table_print(const cli_table *t, cli_format fmt, FILE *out)
{
  int nc = t->ncols;
  if (fmt == FMT_CSV) {
    for (int c = 0; c < nc; ++c) {
      if (c) fputc(',', out);
      print_csv_cell(out, t->names[c]);
    }
    fputc('\n', out);
    for (int r = 0; r < t->nrows; ++r) {
      for (int c = 0; c < nc; ++c) {
        if (c) fputc(',', out);
        print_csv_cell(out, t->cells[r * nc + c]);
      }
      fputc('\n', out);
    }
    return;
  }
  if (fmt == FMT_JSON) {
    fputs("[", out);
    for (int r = 0; r < t->nrows; ++r) {
      fputs(r ? ",\n {" : "\n {", out);
      for (int c = 0; c < nc; ++c) {
        if (c) fputs(", ", out);
        print_json_string(out, t->names[c]);
        fputs(": ", out);
        const char *cell = t->cells[r * nc + c];
        if (t->numeric[r * nc + c]) fputs(cell, out);
        else if (!cell[0]) fputs("null", out);
        else print_json_string(out, cell);
      }
      fputs("}", out);
    }
    fputs("\n]\n", out);
    return;
  }
  /* a single wide row reads better as "name  value" lines */
  if (t->nrows == 1 && nc > 6) {
    int w0 = 0;
    char buf1[256];
    for (int c = 0; c < nc; ++c) w0 = (int)strlen(t->names[c]) > w0 ? (int)strlen(t->names[c]) : w0;
    for (int c = 0; c < nc; ++c) {
      pretty(buf1, sizeof buf1, t->cells[c], t->numeric[c]);
      fprintf(out, "%-*s  %s\n", w0, t->names[c], buf1);
    }
    return;
  }
  /* aligned: width of each column is the widest of header and cells */
  int *w = calloc((size_t)nc, sizeof *w);
  char buf[256];
  for (int c = 0; c < nc; ++c) w[c] = (int)strlen(t->names[c]);
  for (int r = 0; r < t->nrows; ++r)
    for (int c = 0; c < nc; ++c) {
      pretty(buf, sizeof buf, t->cells[r * nc + c], t->numeric[r * nc + c]);
      int l = (int)strlen(buf);
      if (l > w[c]) w[c] = l;
    }
  for (int c = 0; c < nc; ++c) fprintf(out, "%s%*s", c ? "  " : "", w[c], t->names[c]);
  fputc('\n', out);
  for (int r = 0; r < t->nrows; ++r) {
    for (int c = 0; c < nc; ++c) {
      pretty(buf, sizeof buf, t->cells[r * nc + c], t->numeric[r * nc + c]);
      fprintf(out, "%s%*s", c ? "  " : "", w[c], buf);
    }
    fputc('\n', out);
  }
  free(w);
}
