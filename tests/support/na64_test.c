#include "support/na64_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void na64_test_assert_rel(double a, double b, double rel, const char *expr, const char *file, int line)
{
  double diff = fabs(a - b), tol = rel * fabs(b);
  if (!(diff <= tol)) {
    print_error("%s = %.10g, expected %.10g within %.3g%% (off by %.4g%%)\n", expr, a, b, 100 * rel,
                b != 0 ? 100 * diff / fabs(b) : INFINITY);
    _fail(file, line);
  }
}

void na64_test_load_csv(const char *path, na64_test_csv *csv)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    print_error("cannot open %s\n", path);
    fail();
  }
  char line[4096];
  memset(csv, 0, sizeof *csv);
  if (!fgets(line, sizeof line, f)) fail();
  line[strcspn(line, "\r\n")] = 0;
  for (char *tok = strtok(line, ","); tok && csv->ncols < 16; tok = strtok(NULL, ","))
    snprintf(csv->names[csv->ncols++], sizeof csv->names[0], "%s", tok);
  size_t cap = 1024;
  csv->v = malloc(cap * sizeof *csv->v);
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '\n' || line[0] == '#') continue;
    char *p = line;
    for (int c = 0; c < csv->ncols; ++c) {
      if ((size_t)(csv->nrows + 1) * (size_t)csv->ncols > cap) {
        cap *= 2;
        csv->v = realloc(csv->v, cap * sizeof *csv->v);
      }
      char *end;
      double x = strtod(p, &end);
      csv->v[csv->nrows * csv->ncols + c] = (end == p) ? NAN : x;
      p = strchr(end, ',');
      p = p ? p + 1 : end;
    }
    csv->nrows++;
  }
  fclose(f);
}

void na64_test_load_refdata(const char *name, na64_test_csv *csv)
{
  const char *dir = getenv("NA64_REFDATA");
  if (!dir) dir = NA64_REFDATA_DIR;
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  na64_test_load_csv(path, csv);
}

void na64_test_csv_free(na64_test_csv *csv)
{
  free(csv->v);
  csv->v = NULL;
}

int na64_test_csv_col(const na64_test_csv *csv, const char *name)
{
  for (int c = 0; c < csv->ncols; ++c)
    if (!strcmp(csv->names[c], name)) return c;
  print_error("no column %s\n", name);
  fail();
  return -1;
}

int na64_test_run(const char *cmdline, char **out)
{
  FILE *p = popen(cmdline, "r");
  if (!p) return -1;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t k;
  while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
    n += k;
    if (cap - n < 2) buf = realloc(buf, cap *= 2);
  }
  buf[n] = 0;
  int st = pclose(p);
  if (out) *out = buf;
  else free(buf);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Until na64_test_setup_tmpdir runs, a directory that does not exist: a test program that forgets the
 * group setup then fails at its first write, naming this path, instead of writing into the current
 * or root directory, which every concurrently running copy of it shares (the flaky
 * test_vis_job_threads of 2026-12-06). */
char na64_test_tmpdir[256] = "/nonexistent/na64_test_tmpdir_not_set_up";

int na64_test_setup_tmpdir(void **state)
{
  (void)state;
  snprintf(na64_test_tmpdir, sizeof na64_test_tmpdir, "/tmp/na64_test_XXXXXX");
  return mkdtemp(na64_test_tmpdir) ? 0 : -1;
}

int na64_test_teardown_tmpdir(void **state)
{
  (void)state;
  char cmd[320];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", na64_test_tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

char *na64_test_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *b = NULL;
  size_t cap = 0;
  FILE *m = open_memstream(&b, &cap);
  assert_non_null(m);
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, n, m);
  fclose(f);
  fclose(m); /* b is NUL-terminated, cap bytes before it */
  *len = cap;
  return b;
}

void na64_test_copy_file(const char *from, const char *to)
{
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  char buf[65536];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, k, out), k);
  fclose(in);
  fclose(out);
}

double na64_test_csv_loglog(const na64_test_csv *c, double m)
{
  for (int i = 0; i + 1 < c->nrows; ++i) {
    double m0 = c->v[2 * i], m1 = c->v[2 * i + 2];
    if (m >= m0 && m <= m1) {
      double t = log(m / m0) / log(m1 / m0);
      return exp(log(c->v[2 * i + 1]) * (1 - t) + log(c->v[2 * i + 3]) * t);
    }
  }
  return NAN;
}

void na64_test_write_text(const char *dir, const char *name, const char *text)
{
  char path[2100];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) fail_msg("cannot write %s", path);
  fputs(text, f);
  fclose(f);
}
