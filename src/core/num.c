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

#include "core/c_locale.h"
#include "na64/core.h"

static locale_t c_locale = (locale_t)0;
static pthread_once_t c_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

locale_t na64_c_locale_enter(void)
{
  pthread_once(&c_once, make_c_locale);
  return c_locale ? uselocale(c_locale) : (locale_t)0;
}

void na64_c_locale_leave(locale_t old)
{
  if (old) uselocale(old);
}

double na64_num_parse(const char *s, char **end)
{
  locale_t old = na64_c_locale_enter();
  double v = strtod(s, end);
  int e = errno;
  na64_c_locale_leave(old);
  errno = e;
  return v;
}

int na64_num_format(char *buf, size_t n, const char *fmt, ...)
{
  locale_t old = na64_c_locale_enter();
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  na64_c_locale_leave(old);
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
