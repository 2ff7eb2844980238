/* The C locale for this thread only, around code that prints or parses numbers (library-internal,
 * not exported). POSIX.1-2008 newlocale/uselocale: the host program's setlocale() is never touched,
 * so "%.17g" writes 1.5 and strtod reads "0.25" even under a German LC_NUMERIC. One C locale object
 * is created once per process (pthread_once) and shared by every thread. */
#ifndef NA64_CORE_C_LOCALE_H
#define NA64_CORE_C_LOCALE_H

#include <locale.h>

/* Switch this thread to the C locale; returns the previous locale to hand to na64_c_locale_leave,
 * or 0 if no C locale could be created (then the global locale stays: at worst the old behaviour,
 * never a crash). */
locale_t na64_c_locale_enter(void);
/* Switch this thread back to the locale na64_c_locale_enter returned (nothing for 0). */
void na64_c_locale_leave(locale_t old);

#endif
