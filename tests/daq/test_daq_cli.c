/* `na64 dump`: summary counts against the generated truth, damaged files (exit 0, regions on stderr),
 * unreadable files (exit 1 naming the file), bad usage (exit 2), --events and --equipment filters. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "na64/daq.h"
#include "support/na64_test.h"
#include "daq/daq_gen.h"

#define SEED 31u
#define NEV 60u

static void write_file(const char *path, const void *buf, size_t n)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, n, f), n);
  fclose(f);
}

/* Value of "key: value" in the output, or -1. */
static long long value_of(const char *out, const char *key)
{
  char pat[128];
  snprintf(pat, sizeof pat, "\n%s: ", key);
  const char *p = strstr(out, pat);
  if (!p && !strncmp(out, pat + 1, strlen(pat + 1))) p = out - 1;
  if (!p) return -1;
  return atoll(p + strlen(pat));
}

static size_t count_lines_starting(const char *out, const char *prefix)
{
  size_t n = 0, l = strlen(prefix);
  for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (!strncmp(p, prefix, l)) ++n;
  return n;
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *b = calloc(1, 1 << 16);
  size_t n = fread(b, 1, (1 << 16) - 1, f);
  b[n] = 0;
  fclose(f);
  return b;
}

static void test_summary(void **state)
{
  (void)state;
  char path[1200], cmd[4000];
  size_t n;
  for (int z = 0; z < 2; ++z) {
    na64_daq_writer_options o = {.compress = z, .frame_events = 16};
    void *buf = gen_run(SEED, NEV, &o, &n);
    gen_tmp_path(path, sizeof path, z ? "cli-summary.dat.zst" : "cli-summary.dat");
    write_file(path, buf, n);
    free(buf);
    /* truth from the generator */
    long long f1 = 0, sadc = 0, apv = 0;
    gen_event *g = malloc(sizeof *g);
    for (uint32_t i = 0; i < NEV; ++i) {
      gen_event_make(g, SEED, i, NEV);
      f1 += (long long)g->nf1;
      sadc += (long long)g->nsadc;
      apv += (long long)g->napv;
    }
    free(g);
    snprintf(cmd, sizeof cmd, "'%s' dump --summary '%s'", NA64_CLI_PATH, path);
    char *out;
    assert_int_equal(na64_test_run(cmd, &out), 0);
    assert_int_equal(value_of(out, "compressed"), z);
    assert_int_equal(value_of(out, "events"), NEV);
    assert_int_equal(value_of(out, "physics"), NEV - 8);
    assert_int_equal(value_of(out, "start_of_run"), 1);
    assert_int_equal(value_of(out, "end_of_run"), 1);
    assert_int_equal(value_of(out, "start_of_burst"), 6);
    assert_int_equal(value_of(out, "end_of_burst"), 0);
    assert_int_equal(value_of(out, "f1_hits"), f1);
    assert_int_equal(value_of(out, "sadc_waveforms"), sadc);
    assert_int_equal(value_of(out, "apv_hits"), apv);
    assert_int_equal(value_of(out, "decode_errors"), 0);
    assert_int_equal(value_of(out, "bad_regions"), 0);
    assert_int_equal(value_of(out, "bytes_read"), (long long)n);
    assert_int_equal(value_of(out, "bytes_skipped"), 0);
    free(out);
  }
}

static void test_damaged(void **state)
{
  (void)state;
  char path[1200], errpath[1200], cmd[4000];
  size_t n;
  uint8_t *buf = gen_run(SEED, NEV, NULL, &n);
  buf = realloc(buf, n + 100);
  /* 37 bytes of garbage at the start, the last event cut by 10 bytes */
  memmove(buf + 37, buf, n);
  memset(buf, 0x33, 37);
  n = n + 37 - 10;
  gen_tmp_path(path, sizeof path, "cli-damaged.dat");
  gen_tmp_path(errpath, sizeof errpath, "cli-damaged.err");
  write_file(path, buf, n);
  free(buf);
  snprintf(cmd, sizeof cmd, "'%s' dump --summary '%s' 2>'%s'", NA64_CLI_PATH, path, errpath);
  char *out;
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_int_equal(value_of(out, "events"), NEV - 1);
  assert_int_equal(value_of(out, "end_of_run"), 0); /* the last event (end of run) was cut */
  assert_int_equal(value_of(out, "bad_regions"), 2);
  assert_int_equal(value_of(out, "bytes_read"), (long long)n);
  free(out);
  char *err = slurp(errpath);
  assert_non_null(err);
  assert_non_null(strstr(err, "bad region at offset 0, 37 bytes skipped: bad_magic"));
  assert_non_null(strstr(err, "truncated"));
  assert_non_null(strstr(err, path));
  assert_int_equal(count_lines_starting(err, "na64 dump: "), 2);
  free(err);
}

static void test_errors_and_usage(void **state)
{
  (void)state;
  char cmd[4000];
  char *out;
  snprintf(cmd, sizeof cmd, "'%s' dump /nonexistent/run-77.dat 2>&1", NA64_CLI_PATH);
  assert_int_equal(na64_test_run(cmd, &out), 1);
  assert_non_null(strstr(out, "/nonexistent/run-77.dat"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' dump 2>&1", NA64_CLI_PATH);
  assert_int_equal(na64_test_run(cmd, &out), 2);
  assert_non_null(strstr(out, "FILE"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' dump x.dat --events -1 2>&1", NA64_CLI_PATH);
  assert_int_equal(na64_test_run(cmd, &out), 2);
  assert_non_null(strstr(out, "--events"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' dump a.dat b.dat 2>&1", NA64_CLI_PATH);
  assert_int_equal(na64_test_run(cmd, &out), 2);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' dump --help", NA64_CLI_PATH);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_non_null(strstr(out, "--summary"));
  free(out);
}

static void test_listing(void **state)
{
  (void)state;
  char path[1200], cmd[4000];
  size_t n;
  void *buf = gen_run(SEED, NEV, NULL, &n);
  gen_tmp_path(path, sizeof path, "cli-list.dat");
  write_file(path, buf, n);
  free(buf);
  char *out;
  snprintf(cmd, sizeof cmd, "'%s' dump '%s' --events 4", NA64_CLI_PATH, path);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_int_equal(count_lines_starting(out, "event "), 4);
  assert_non_null(strstr(out, "event 0: start_of_run (type 1), run 4242"));
  assert_non_null(strstr(out, "event 1: start_of_burst (type 5)"));
  assert_non_null(strstr(out, "equipment F1 (type 1), source id 612"));
  assert_non_null(strstr(out, "F1 header"));
  assert_non_null(strstr(out, "F1 data"));
  assert_non_null(strstr(out, " ns"));
  assert_non_null(strstr(out, "SADC samples"));
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' dump '%s' --events 4 --equipment %u", NA64_CLI_PATH, path, GEN_SADC_SOURCE);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_non_null(strstr(out, "equipment SADC"));
  assert_null(strstr(out, "equipment F1"));
  assert_null(strstr(out, "equipment APV"));
  free(out);
  /* the filter applies to the summary counts too: one SADC block per physics event, no F1/APV hits */
  snprintf(cmd, sizeof cmd, "'%s' dump --summary '%s' --equipment %u", NA64_CLI_PATH, path, GEN_SADC_SOURCE);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_int_equal(value_of(out, "equipment_blocks"), NEV - 8);
  assert_int_equal(value_of(out, "f1_hits"), 0);
  assert_int_equal(value_of(out, "apv_hits"), 0);
  assert_true(value_of(out, "sadc_waveforms") >= NEV - 8);
  assert_int_equal(value_of(out, "events"), NEV);
  free(out);
}

/* Super events: the LDC level in the listing, super_events and ldc_subevents in the summary. */
static void test_super_events(void **state)
{
  (void)state;
  char path[1200], cmd[4000];
  size_t n;
  static const na64_daq_ldc_entry map[] = {{GEN_F1_SOURCE, 2}, {GEN_SADC_SOURCE, 3}, {GEN_APV_SOURCE, 1}};
  na64_daq_writer_options o = {.ldc_map = map, .nldc_map = 3};
  void *buf = gen_run_ex(SEED, NEV, &o, &n);
  gen_tmp_path(path, sizeof path, "cli-super.dat");
  write_file(path, buf, n);
  free(buf);
  char *out;
  snprintf(cmd, sizeof cmd, "'%s' dump '%s' --events 3 --no-words", NA64_CLI_PATH, path);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_non_null(strstr(out, "super event of GDC 1 with 3 LDC sub-events"));
  assert_int_equal(count_lines_starting(out, "  LDC 1: sub-event 0 at +80"), 3);
  assert_int_equal(count_lines_starting(out, "  LDC 2: sub-event 1"), 3);
  assert_int_equal(count_lines_starting(out, "  LDC 3: sub-event 2"), 3);
  assert_int_equal(count_lines_starting(out, "  equipment F1 (type 1), source id 612"), 1); /* event 2 only */
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' dump --summary '%s'", NA64_CLI_PATH, path);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_int_equal(value_of(out, "events"), NEV);
  assert_int_equal(value_of(out, "super_events"), NEV);
  assert_int_equal(value_of(out, "ldc_subevents"), 3 * NEV);
  assert_int_equal(value_of(out, "equipment_blocks"), 3 * (NEV - 8));
  assert_int_equal(value_of(out, "bad_regions"), 0);
  free(out);
}

/* Issue 9 item 6: a pipe is streamed, never read whole. 256 MiB of zeros through `na64 dump --summary`
 * is one bad region, and the peak memory of the command stays far below the data (it read the whole
 * input into memory before: 10.8 GB for /dev/zero). */
static void test_pipe_of_zeros(void **state)
{
  (void)state;
  char cmd[4000];
  char *out;
  snprintf(cmd, sizeof cmd, "head -c 268435456 /dev/zero | '%s' dump --summary /dev/stdin 2>&1", NA64_CLI_PATH);
  assert_int_equal(na64_test_run(cmd, &out), 0);
  assert_int_equal(value_of(out, "events"), 0);
  assert_int_equal(value_of(out, "bad_regions"), 1);
  assert_int_equal(value_of(out, "bytes_skipped"), 268435456LL);
  assert_non_null(strstr(out, "bad region at offset 0, 268435456 bytes skipped: bad_magic"));
  free(out);
  struct rusage ru;
  assert_int_equal(getrusage(RUSAGE_CHILDREN, &ru), 0);
  /* ru_maxrss in KiB: the largest child (sanitizer builds carry their shadow memory; still < 128 MiB) */
  if (ru.ru_maxrss > 128 * 1024) fail_msg("peak RSS of a child %ld KiB for 256 MiB of piped zeros", ru.ru_maxrss);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_summary),
      cmocka_unit_test(test_damaged),
      cmocka_unit_test(test_errors_and_usage),
      cmocka_unit_test(test_listing),
      cmocka_unit_test(test_super_events),
      cmocka_unit_test(test_pipe_of_zeros),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
