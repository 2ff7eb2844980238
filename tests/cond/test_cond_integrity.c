/* Integrity of the conditions database (issue 9, item 8): the uniqueness and references the schema
 * implies (enforced on insert where SQLite can, found by validate otherwise), SQLite's integrity
 * check, and the per-table content checksums that find an edit made outside na64 or a flipped byte.
 *
 * The bit-flip experiment: NA64_BITFLIP_COPIES copies of the default database (150 by default, as in
 * the issue; fewer under the sanitizers, see Makefile), each with one random bit of one random
 * byte flipped (Philox stream, fixed seed). Every copy must fail to open, fail validation, or hold
 * exactly the records of the original (its export is compared byte for byte): a flip that changes
 * no record cannot be seen by any check of the content, and is harmless. Such copies are counted and
 * reported, with how many of them have the flip in the unallocated gap of a b-tree page (between
 * the cell pointer array and the cell content area, sqlite.org/fileformat2.html 1.6); the others are
 * flips that leave the decoded record unchanged (e.g. a continuation bit that turns a 1-byte serial
 * type varint into a 2-byte one at the end of a record header, whose last columns then read NULL
 * as before). Finding those too would need per-page checksums (SQLite's cksumvfs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "na64/cond.h"
#include "support/na64_test.h"

#define DEFAULT_DB NA64_BINARY_DIR "/conditions.db"
#define tmpdir na64_test_tmpdir

static void expect_msg(const na64_err *err, const char *needle)
{
  if (!strstr(err->msg, needle)) fail_msg("message '%s' does not contain '%s'", err->msg, needle);
}

static na64_cond *open_copy(const char *name, char *path, size_t n)
{
  snprintf(path, n, "%s/%s", tmpdir, name);
  na64_test_copy_file(DEFAULT_DB, path);
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(path, NA64_COND_READWRITE, &db, &err) != NA64_OK) fail_msg("%s", err.msg);
  return db;
}

static void test_default_database_valid(void **state)
{
  (void)state;
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(DEFAULT_DB, NA64_COND_READONLY, &db, &err) != NA64_OK) fail_msg("%s", err.msg);
  if (na64_cond_validate(db, &err) != NA64_OK) fail_msg("%s", err.msg);
  na64_cond_close(db);
}

#define CHANNEL "INSERT INTO channel_map (first_run, last_run, setup, src_id, port, chip, channel, detector, plane, wire) "

static void test_schema_enforces_keys(void **state)
{
  (void)state;
  char path[320];
  na64_cond *db = open_copy("keys.db", path, sizeof path);
  na64_err err = {0, ""};
  /* the same DAQ channel twice for the same setup and first run */
  const char *dup = CHANNEL "VALUES (1000, 4223, NULL, 900, 0, 0, 0, 'ST01', 'ST01X', 1);\n" CHANNEL
                            "VALUES (1000, 4223, NULL, 900, 0, 0, 0, 'ST01', 'ST01X', 2);\n";
  assert_int_equal(na64_cond_import(db, dup, strlen(dup), "dup.sql", &err), NA64_EFORMAT);
  expect_msg(&err, "dup.sql:2");
  expect_msg(&err, "UNIQUE");
  /* identical materials valid for every setup (setup NULL escaped the UNIQUE constraint) */
  const char *mat = "INSERT INTO materials (first_run, setup, name, density, x0, lambda_i) VALUES (0, NULL, 'Xx', 1, 1, 1);\n"
                    "INSERT INTO materials (first_run, setup, name, density, x0, lambda_i) VALUES (0, NULL, 'Xx', 1, 1, 1);\n";
  assert_int_equal(na64_cond_import(db, mat, strlen(mat), "mat.sql", &err), NA64_EFORMAT);
  expect_msg(&err, "mat.sql:2");
  /* a run range of another setup overlapping an existing one */
  const char *ov = "INSERT INTO run_info (first_run, last_run, setup, mode, beam_particle, beam_energy) "
                   "VALUES (2000, 2100, 'visible_2017', 'visible', 'e-', 100.0);\n";
  assert_int_equal(na64_cond_import(db, ov, strlen(ov), "overlap.sql", &err), NA64_EFORMAT);
  expect_msg(&err, "overlaps a range of another setup");
  if (na64_cond_validate(db, &err) != NA64_OK) fail_msg("unchanged database: %s", err.msg);
  na64_cond_close(db);
}

/* Files from before schema 4 may hold what the schema now refuses: validate finds each. The rules
 * are broken with trusted SQL (which keeps the checksums up to date) after removing the guards. */
static void test_validate_finds_broken_rules(void **state)
{
  (void)state;
  static const struct {
    const char *sql, *needle;
  } cases[] = {
      {"DROP INDEX channel_map_key;\n" CHANNEL "VALUES (1000, 4223, NULL, 901, 0, 0, 0, 'ST01', 'ST01X', 1);\n" CHANNEL
       "VALUES (1000, 4223, NULL, 901, 0, 0, 0, 'ST01', 'ST01X', 1);\n",
       "channel_map: two records with the same key"},
      {"INSERT INTO run_info (first_run, last_run, setup, mode, beam_particle, beam_energy) "
       "VALUES (9000, 9100, 'nowhere', 'visible', 'e-', 100.0);\n",
       "unknown setup"},
      {"DROP TRIGGER run_info_no_overlap_insert;\n"
       "INSERT INTO run_info (first_run, last_run, setup, mode, beam_particle, beam_energy) "
       "VALUES (2000, 2100, 'visible_2017', 'visible', 'e-', 100.0);\n",
       "run ranges of different setups overlap"},
      {"INSERT INTO magnets (first_run, setup, name, x, y, z, length, field_integral, aperture_x, aperture_y) "
       "VALUES (0, 'visible_2099', 'MBX', 0, 0, 0, 1, 1, 1, 1);\n",
       "magnets: setup 'visible_2099' is not the setup of any run_info range"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    char path[320], name[32];
    snprintf(name, sizeof name, "rule%zu.db", i);
    na64_cond *db = open_copy(name, path, sizeof path);
    na64_err err = {0, ""};
    if (na64_cond_exec(db, cases[i].sql, &err) != NA64_OK) fail_msg("case %zu: %s", i, err.msg);
    assert_int_equal(na64_cond_validate(db, &err), NA64_EFORMAT);
    expect_msg(&err, cases[i].needle);
    na64_cond_close(db);
  }
}

/* An edit made with another tool (the sqlite3 shell) is found by the checksum of its table. */
static void test_checksum_finds_outside_edit(void **state)
{
  (void)state;
  char path[320];
  na64_cond *db = open_copy("edit.db", path, sizeof path);
  na64_cond_close(db);
  char cmd[800];
  snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"UPDATE magnets SET field_integral = field_integral * 1.0001 WHERE id = "
           "(SELECT min(id) FROM magnets);\"", path);
  assert_int_equal(na64_test_run(cmd, NULL), 0);
  na64_err err = {0, ""};
  assert_int_equal(na64_cond_open(path, NA64_COND_READONLY, &db, &err), NA64_OK);
  assert_int_equal(na64_cond_validate(db, &err), NA64_EFORMAT);
  expect_msg(&err, "table magnets: content checksum mismatch");
  na64_cond_close(db);
}

static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

/* 1 if byte `off` lies in the unallocated gap of its b-tree page (fileformat2.html, 1.6: page
 * header of 8 or 12 bytes -- after the 100-byte file header on page 1 --, then 2 bytes per cell
 * pointer, then the gap up to the start of the cell content area). */
static int in_page_gap(const unsigned char *db, long size, long off)
{
  unsigned page_size = be16(db + 16) == 1 ? 65536 : be16(db + 16);
  long base = off / page_size * page_size;
  long hdr = base + (base == 0 ? 100 : 0);
  if (hdr + 8 > size) return 0;
  unsigned type = db[hdr];
  if (type != 2 && type != 5 && type != 10 && type != 13) return 0;
  unsigned ncells = be16(db + hdr + 3), content = be16(db + hdr + 5);
  long gap_start = hdr + (type == 2 || type == 5 ? 12 : 8) + 2L * ncells;
  long gap_end = base + (content ? content : 65536);
  return off >= gap_start && off < gap_end;
}

static char *export_of(na64_cond *db)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  na64_err err = {0, ""};
  int st = na64_cond_export(db, f, &err);
  fclose(f);
  if (st != NA64_OK) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* 0: the copy fails to open or to validate; 1: it validates with the original's records; 2: it
 * validates with different records (a corruption that went unseen). */
static int flipped_copy_outcome(const char *path, const char *original_export)
{
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(path, NA64_COND_READONLY, &db, &err) != NA64_OK) return 0;
  int outcome = 0;
  if (na64_cond_validate(db, &err) == NA64_OK) {
    char *e = export_of(db);
    outcome = e && !strcmp(e, original_export) ? 1 : 2;
    free(e);
  }
  na64_cond_close(db);
  return outcome;
}

static void test_bit_flips(void **state)
{
  (void)state;
  const char *env = getenv("NA64_BITFLIP_COPIES");
  int copies = env && atoi(env) > 0 ? atoi(env) : 150;
  FILE *f = fopen(DEFAULT_DB, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *orig = malloc((size_t)size), *copy = malloc((size_t)size);
  assert_non_null(orig);
  assert_non_null(copy);
  assert_int_equal(fread(orig, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  char path[320];
  snprintf(path, sizeof path, "%s/flip.db", tmpdir);
  na64_cond *db = NULL;
  na64_err err = {0, ""};
  if (na64_cond_open(DEFAULT_DB, NA64_COND_READONLY, &db, &err) != NA64_OK) fail_msg("%s", err.msg);
  char *original = export_of(db);
  na64_cond_close(db);
  assert_non_null(original);
  int same = 0, in_gap = 0, changed = 0, first_bad = -1;
  long bad_offset = -1;
  for (int k = 0; k < copies; ++k) {
    na64_rng rng;
    na64_rng_init(&rng, 0x5AFE, (uint64_t)k);
    long off = (long)(na64_rng_u64(&rng) % (uint64_t)size);
    int bit = (int)(na64_rng_u64(&rng) % 8);
    memcpy(copy, orig, (size_t)size);
    copy[off] ^= (unsigned char)(1u << bit);
    FILE *o = fopen(path, "wb");
    assert_non_null(o);
    assert_int_equal(fwrite(copy, 1, (size_t)size, o), (size_t)size);
    fclose(o);
    int outcome = flipped_copy_outcome(path, original);
    if (outcome == 1) {
      ++same;
      in_gap += in_page_gap(orig, size, off);
    } else if (outcome == 2 && changed++ == 0) {
      first_bad = k;
      bad_offset = off;
    }
    unlink(path);
  }
  print_message("bit flips: %d copies with one flipped bit: %d detected (open or validate failed), %d validated with "
                "records identical to the original (%d of them flipped in the unused gap of a page), %d validated "
                "with changed records\n",
                copies, copies - same - changed, same, in_gap, changed);
  free(orig);
  free(copy);
  free(original);
  if (changed)
    fail_msg("%d of %d copies with changed records validated (first: copy %d, byte offset %ld of %ld)", changed, copies,
             first_bad, bad_offset, size);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_database_valid), cmocka_unit_test(test_schema_enforces_keys),
      cmocka_unit_test(test_validate_finds_broken_rules), cmocka_unit_test(test_checksum_finds_outside_edit),
      cmocka_unit_test(test_bit_flips),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
