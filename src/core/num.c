/* Locale-independent number parsing and printing (include/na64/core.h). POSIX.1-2008 newlocale /
 * uselocale switch only the calling thread to the "C" locale, and back, around strtod / vsnprintf;
 * the host program's setlocale() is never touched. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "na64/core.h"

static locale_t c_locale = (locale_t)0;
static pthread_once_t c_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* The thread's C locale, or 0 if it cannot be created (then the global locale is used: at worst the
 * old behaviour, never a crash). */
static locale_t enter_c(void)
{
  pthread_once(&c_once, make_c_locale);
  return c_locale ? uselocale(c_locale) : (locale_t)0;
}

static void leave_c(locale_t old)
{
  if (old) uselocale(old);
}

double na64_num_parse(const char *s, char **end)
{
  locale_t old = enter_c();
  double v = strtod(s, end);
  int e = errno;
  leave_c(old);
  errno = e;
  return v;
}

int na64_num_format(char *buf, size_t n, const char *fmt, ...)
{
  locale_t old = enter_c();
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  leave_c(old);
  return r;
}

int na64_num_shortest(char *buf, size_t n, double v)
{
  if (isfinite(v) && v == floor(v) && fabs(v) < 1e7) return na64_num_format(buf, n, "%.0f", v);
  int r = 0;
  for (int prec = 1; prec <= 17; ++prec) {
    r = na64_num_format(buf, n, "%.*g", prec, v);
    if (!isfinite(v) || na64_num_parse(buf, NULL) == v) break;
  }
  return r;
}
