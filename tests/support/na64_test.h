/* Shared helpers for the cmocka tests: relative comparisons, reference-data CSV loading,
 * running the `na64` command and capturing its output. */
#ifndef NA64_TEST_H
#define NA64_TEST_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Assert |a - b| <= rel * |b| with a readable message. */
#define assert_rel(a, b, rel) na64_test_assert_rel((a), (b), (rel), #a, __FILE__, __LINE__)
void na64_test_assert_rel(double a, double b, double rel, const char *expr, const char *file, int line);

/* A numeric CSV file with a header line: ncols columns, nrows rows, values row-major. */
typedef struct {
  int ncols, nrows;
  char names[16][48];
  double *v;
} na64_test_csv;
/* Load refdata file `name` from NA64_REFDATA_DIR (or $NA64_REFDATA); fails the test if absent. */
void na64_test_load_refdata(const char *name, na64_test_csv *csv);
void na64_test_load_csv(const char *path, na64_test_csv *csv);
void na64_test_csv_free(na64_test_csv *csv);
/* Log-log interpolation at m of a two-column curve (x, y) sorted in x; NAN outside its range. */
double na64_test_csv_loglog(const na64_test_csv *c, double m);
int na64_test_csv_col(const na64_test_csv *csv, const char *name);

/* A scratch directory for one test program: na64_test_tmpdir is filled by the cmocka group setup
 * na64_test_setup_tmpdir (name /tmp/na64_test_XXXXXX) and removed with its contents by
 * na64_test_teardown_tmpdir. */
extern char na64_test_tmpdir[256];
int na64_test_setup_tmpdir(void **state);
int na64_test_teardown_tmpdir(void **state);

/* Write `text` to file `name` of directory `dir` (fails the test on error). */
void na64_test_write_text(const char *dir, const char *name, const char *text);

/* The whole file `path`, NUL-terminated (*len: its size; free it), or NULL if it cannot be opened. */
char *na64_test_read_file(const char *path, size_t *len);

/* Copy a file byte for byte (fails the test on error). */
void na64_test_copy_file(const char *from, const char *to);

/* Run a shell command line; capture stdout (malloc'd, NUL-terminated) and return the exit status. */
int na64_test_run(const char *cmdline, char **out);

#endif
