/* Parts of a run and their index (src/io/stream_index.c, docs/scaling.md "Per-rank data files"):
 * FNV-1a against the published test vectors, the split rule, the part file names, the index
 * written and read back (odd characters in paths), joining with empty parts, and damaged indexes
 * refused with the file and the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "na64/io.h"
#include "support/na64_test.h"

/* FNV-1a 64 test vectors of draft-eastlake-fnv-21 (appendix C / the FNV test suite): "", "a", "foobar". */
static void test_fnv(void **state)
{
  (void)state;
  assert_true(na64_fnv1a64("", 0) == UINT64_C(0xcbf29ce484222325));
  assert_true(na64_fnv1a64("a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
  assert_true(na64_fnv1a64("foobar", 6) == UINT64_C(0x85944171f73967e8));
  char path[512];
  snprintf(path, sizeof path, "%s/foobar.txt", na64_test_tmpdir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("foobar", f);
  fclose(f);
  uint64_t h = 0;
  na64_err err = {0, ""};
  assert_int_equal(na64_fnv1a64_file(path, &h, &err), NA64_OK);
  assert_true(h == UINT64_C(0x85944171f73967e8));
  snprintf(path, sizeof path, "%s/absent.txt", na64_test_tmpdir);
  assert_int_equal(na64_fnv1a64_file(path, &h, &err), NA64_EIO);
  assert_non_null(strstr(err.msg, "absent.txt"));
}

/* Every event in exactly one part, sizes within one, no overflow at 1e15 events x 1e6 parts. */
static void test_part_range(void **state)
{
  (void)state;
  const uint64_t totals[] = {0, 1, 7, 3000, UINT64_C(1000000000000000)};
  const int ns[] = {1, 2, 3, 7, 1000000};
  for (size_t t = 0; t < sizeof totals / sizeof totals[0]; ++t)
    for (size_t j = 0; j < sizeof ns / sizeof ns[0]; ++j) {
      uint64_t next = 0, lo = UINT64_MAX, hi = 0;
      for (int k = 0; k < ns[j]; ++k) {
        uint64_t first, count;
        na64_part_range(totals[t], k, ns[j], &first, &count);
        assert_true(first == next);
        next = first + count;
        lo = count < lo ? count : lo;
        hi = count > hi ? count : hi;
      }
      assert_true(next == totals[t]);
      assert_true(hi - lo <= 1);
    }
}

static void test_paths(void **state)
{
  (void)state;
  char out[64];
  na64_err err = {0, ""};
  assert_int_equal(na64_stream_path("raw.dat", 3, NULL, out, sizeof out, &err), NA64_OK);
  assert_string_equal(out, "raw.rank3.dat");
  assert_int_equal(na64_stream_path("d.v1/raw.dat.zst", 0, NULL, out, sizeof out, &err), NA64_OK);
  assert_string_equal(out, "d.v1/raw.rank0.dat.zst");
  assert_int_equal(na64_stream_path("d.v1/raw", 12, NULL, out, sizeof out, &err), NA64_OK);
  assert_string_equal(out, "d.v1/raw.rank12"); /* no extension: the folder's dot is not one */
  assert_int_equal(na64_stream_path("d/.hidden.h5", 1, NULL, out, sizeof out, &err), NA64_OK);
  assert_string_equal(out, "d/.hidden.rank1.h5");
  assert_int_equal(na64_stream_path("ev.h5", 0, ".index.yaml", out, sizeof out, &err), NA64_OK);
  assert_string_equal(out, "ev.index.yaml");
  assert_int_equal(na64_stream_path("a-very-long-name-that-does-not-fit-in-the-buffer-given.dat", 1, NULL, out,
                                    sizeof out, &err),
                   NA64_EINVAL);
}

static void make_index(na64_stream_index *ix, int nparts, uint64_t events, na64_stream_part *parts)
{
  memset(ix, 0, sizeof *ix);
  snprintf(ix->kind, sizeof ix->kind, "raw");
  snprintf(ix->version, sizeof ix->version, "%s", na64_version());
  snprintf(ix->card, sizeof ix->card, "cards/odd \"name\" \\ here.yaml");
  ix->card_hash = UINT64_C(0x0123456789abcdef);
  ix->run = 2000;
  ix->seed = 5;
  ix->events = events;
  ix->nparts = nparts;
  ix->nheld = nparts;
  ix->parts = parts;
  for (int k = 0; k < nparts; ++k) {
    parts[k].part = k;
    na64_part_range(events, k, nparts, &parts[k].first_event, &parts[k].events);
    snprintf(parts[k].file, sizeof parts[k].file, "/elsewhere/raw.rank%d.dat", k);
    parts[k].truth[0] = '\0';
    parts[k].records = (uint64_t)(10 * k + 1);
  }
}

/* Written, read back from another folder (files resolved against the index's), joined from
 * per-part indexes in any order with empty parts (1 event, 3 parts). */
static void test_roundtrip_join(void **state)
{
  (void)state;
  na64_stream_part parts[3];
  na64_stream_index ix, back[3], joined;
  make_index(&ix, 3, 1, parts);
  na64_err err = {0, ""};
  char path[512];
  const char *names[3];
  char name_buf[3][512];
  for (int k = 2; k >= 0; --k) { /* one index per part, as job-array parts write them */
    na64_stream_index one = ix;
    one.nheld = 1;
    one.parts = &parts[k];
    snprintf(name_buf[k], sizeof name_buf[k], "%s/raw.rank%d.index.yaml", na64_test_tmpdir, k);
    assert_int_equal(na64_stream_index_write(&one, name_buf[k], &err), NA64_OK);
    names[2 - k] = name_buf[k];
    assert_int_equal(na64_stream_index_read(name_buf[k], &back[2 - k], &err), NA64_OK);
  }
  assert_string_equal(back[0].card, ix.card);
  assert_true(back[0].card_hash == ix.card_hash && back[0].seed == 5 && back[0].events == 1 && back[0].run == 2000);
  snprintf(path, sizeof path, "%s/raw.rank2.dat", na64_test_tmpdir);
  assert_string_equal(back[0].parts[0].file, path); /* the basename, next to the index */
  assert_string_equal(back[0].parts[0].truth, "");
  assert_int_equal(na64_stream_index_join(back, names, 3, &joined, &err), NA64_OK);
  assert_int_equal(joined.nheld, 3);
  uint64_t rec = 0;
  for (int k = 0; k < 3; ++k) { /* sorted by event; empty parts 0 and 1 before part 2 (event 0) */
    assert_int_equal(joined.parts[k].part, k);
    assert_true(joined.parts[k].first_record == rec);
    rec += joined.parts[k].records;
  }
  na64_stream_index_release(&joined);
  /* the same part twice instead of part 1: 3 parts listed, but part 1 missing */
  const char *dup_names[3] = {names[0], names[2], names[2]};
  na64_stream_index dup[3] = {back[0], back[2], back[2]};
  assert_int_not_equal(na64_stream_index_join(dup, dup_names, 3, &joined, &err), NA64_OK);
  assert_non_null(strstr(err.msg, "part 0 of 3 listed twice"));
  na64_stream_index_release(&joined);
  for (int k = 0; k < 3; ++k) na64_stream_index_release(&back[k]);
}

static int write_text(const char *name, const char *text, char *path, size_t n)
{
  snprintf(path, n, "%s/%s", na64_test_tmpdir, name);
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

/* Damaged indexes: refused with the file and the reason, never a crash. */
static void test_damaged(void **state)
{
  (void)state;
  static const struct {
    const char *text, *msg;
  } cases[] = {
      {"format: other\n", "bad.yaml"},
      {"format: na64-stream-index\nformat_version: 1\nkind: raw\nversion: \"x\"\ncard: c\ncard_hash: \"12\"\n"
       "run: 1\nseed: 1\nevents: 10\nnparts: 1\nparts:\n  \"0\": {file: a, truth: \"\", first_event: 0, events: 10, records: 1}\n",
       "card_hash '12' is not 16 hex digits"},
      {"format: na64-stream-index\nformat_version: 1\nkind: raw\nversion: \"x\"\ncard: c\ncard_hash: \"0123456789abcdef\"\n"
       "run: 1\nseed: 1\nevents: 10\nnparts: 1\nparts:\n  \"0\": {file: a, truth: \"\", first_event: 0.5, events: 10, records: 1}\n",
       "whole numbers"},
      {"format: na64-stream-index\nformat_version: 1\nkind: raw\nversion: \"x\"\ncard: c\ncard_hash: \"0123456789abcdef\"\n"
       "run: 1\nseed: 1\nevents: 10\nnparts: 2\nparts:\n  \"5\": {file: a, truth: \"\", first_event: 0, events: 10, records: 1}\n",
       "no part"},
      {"format: na64-stream-index\n[", "bad.yaml"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    char path[512];
    assert_int_equal(write_text("bad.yaml", cases[i].text, path, sizeof path), 0);
    na64_stream_index ix;
    na64_err err = {0, ""};
    assert_int_not_equal(na64_stream_index_read(path, &ix, &err), NA64_OK);
    if (!strstr(err.msg, cases[i].msg)) fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fnv),          cmocka_unit_test(test_part_range), cmocka_unit_test(test_paths),
      cmocka_unit_test(test_roundtrip_join), cmocka_unit_test(test_damaged),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
