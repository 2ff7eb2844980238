/* Check that a file written by na64_plot_write is a PNG image (header-only: the support sources are
 * linked into every test, including those without the plotting library). */
#ifndef NA64_TEST_PNG_CHECK_H
#define NA64_TEST_PNG_CHECK_H
#include <stdio.h>

/* The PNG signature, then the IHDR chunk (PNG spec, ISO/IEC 15948 section 11.2.2) with a width and
 * height of a real plot (at least 400 x 300 pixels). Fails the running cmocka test otherwise. */
static inline void na64_test_check_png(const char *path)
{
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  unsigned char h[24];
  assert_int_equal(fread(h, 1, 24, fp), 24);
  fclose(fp);
  assert_memory_equal(h, "\x89PNG\r\n\x1a\n", 8);
  assert_memory_equal(h + 12, "IHDR", 4);
  unsigned wd = (unsigned)h[16] << 24 | (unsigned)h[17] << 16 | (unsigned)h[18] << 8 | h[19];
  unsigned ht = (unsigned)h[20] << 24 | (unsigned)h[21] << 16 | (unsigned)h[22] << 8 | h[23];
  assert_true(wd >= 400 && ht >= 300);
}

#endif
