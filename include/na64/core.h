/*
 * na64/core.h — status codes, error messages, logging hook, counter-based random streams.
 *
 * Every library function that can fail returns an int status: NA64_OK (0) or a negative NA64_E*
 * code, and fills an na64_err with the cause and the place (function, offending value, file and
 * line of an input file). The library never exits, never aborts on bad input and never prints to
 * stdout; diagnostics go through a settable log hook (silent by default).
 *
 * Randomness is explicit: a function that draws takes an na64_rng *. Streams are Philox4x64-10
 * (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC11, Random123) keyed by
 * (run seed, stream id), e.g. the event number, so results do not depend on thread or rank count.
 */
#ifndef NA64_CORE_H
#define NA64_CORE_H

#include <stddef.h>
#include <stdint.h>

/* NA64_API marks the public API: libna64 is built with hidden visibility, so only declarations
 * carrying this marker are exported (as zstd's ZSTDLIB_API and SQLite's SQLITE_API do). */
#if defined(NA64_STATIC_DEFINE)
#define NA64_API
#elif defined(__GNUC__) || defined(__clang__)
#define NA64_API __attribute__((visibility("default")))
#else
#define NA64_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ---- */
enum {
  NA64_OK = 0,
  NA64_EINVAL = -1,    /* invalid argument (NULL, NaN, unknown name, malformed text) */
  NA64_ERANGE = -2,    /* value outside the validity range of a model or table */
  NA64_EPHYS = -3,     /* physically impossible (mass below threshold, eps > 1, E < m) */
  NA64_ENOMEM = -4,    /* allocation failed */
  NA64_EIO = -5,       /* file cannot be opened, read or written */
  NA64_EFORMAT = -6,   /* input data malformed (bad table, corrupt record) */
  NA64_ENOTFOUND = -7, /* no such item (material, detector, run) */
  NA64_ENUMERIC = -8,  /* a numerical method did not converge */
  NA64_EDB = -9,       /* database error */
  NA64_EEOF = -10      /* end of data (not an error for readers that loop) */
};

#define NA64_ERR_MSG_LEN 512

/* An error record: the first failing place writes code and message; callers may prefix context. */
typedef struct na64_err {
  int code;
  char msg[NA64_ERR_MSG_LEN];
} na64_err;

/* Set err (may be NULL) to code and a printf-style message; returns code for `return na64_err_set(...)`. */
NA64_API int na64_err_set(na64_err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Prefix an existing message with context ("while loading ECAL: ..."). Returns nothing, so that
 * the caller returns its own status (`na64_err_prefix(err, ...); return st;`): with err == NULL
 * there is no record to take a status from, and the status must not depend on it. */
NA64_API void na64_err_prefix(na64_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
NA64_API void na64_err_clear(na64_err *err);
NA64_API const char *na64_strerror(int code);

/* Propagate a failing status, CLASS-style: NA64_CALL(f(x, err)); */
#define NA64_CALL(expr)                                                                            \
  do {                                                                                             \
    int na64_call_status_ = (expr);                                                                \
    if (na64_call_status_ != NA64_OK) return na64_call_status_;                                    \
  } while (0)

/* ---- logging hook (default: silent) ---- */
enum { NA64_LOG_DEBUG = 0, NA64_LOG_INFO = 1, NA64_LOG_WARN = 2, NA64_LOG_ERROR = 3 };
typedef void (*na64_log_fn)(int level, const char *msg, void *user);
NA64_API void na64_log_set_hook(na64_log_fn fn, void *user);
NA64_API void na64_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

NA64_API const char *na64_version(void);

/* ---- numbers in text, independent of the host's locale ----
 * A program that links libna64 may set any locale (a German LC_NUMERIC writes 1,5); data files,
 * CSV, JSON, YAML and SQL always use the C notation (1.5). These two run strtod / vsnprintf under
 * the "C" locale of the calling thread only (POSIX uselocale), so they are thread-safe. */
/* strtod in the C locale: same contract as strtod (errno = ERANGE on overflow/underflow). */
NA64_API double na64_num_parse(const char *s, char **end);
/* v as the shortest C-locale %g text that reads back exactly as v (1.0000001, not
 * 1.0000001000000001; 0.9999), small integers in full (100000): for messages that must show why a
 * value is refused. Returns what snprintf returns. */
NA64_API int na64_num_shortest(char *buf, size_t n, double v);
/* snprintf in the C locale: same contract as snprintf. */
NA64_API int na64_num_format(char *buf, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- random streams ---- */
typedef struct na64_rng {
  uint64_t key[2];   /* (seed, stream) */
  uint64_t ctr[4];   /* block counter */
  uint64_t buf[4];   /* current output block */
  int used;          /* words of buf already consumed */
  int have_gauss;    /* cached second Box-Muller deviate */
  double gauss;
} na64_rng;

/* Stream `stream` (e.g. event number) of the run seeded with `seed`. Same (seed, stream) => same draws. */
NA64_API void na64_rng_init(na64_rng *rng, uint64_t seed, uint64_t stream);
NA64_API uint64_t na64_rng_u64(na64_rng *rng);
NA64_API double na64_rng_uniform(na64_rng *rng);      /* in (0, 1), never 0 or 1 */
NA64_API double na64_rng_gauss(na64_rng *rng);        /* standard normal */
NA64_API double na64_rng_exponential(na64_rng *rng);  /* mean 1 */
/* Standard normal by the ziggurat (exact; ~1 stream word per draw against ~1.3 words, a log and a
 * sqrt per pair for na64_rng_gauss): a different sequence from na64_rng_gauss. _word takes its first
 * word w from the caller (bits 0-7 and 32-63 are used; bits 8-31 are left for a uniform of the
 * caller's own) and draws further words from rng only when the ziggurat rejects (~1.2%). */
NA64_API double na64_rng_gauss_zig(na64_rng *rng);
NA64_API double na64_rng_gauss_word(na64_rng *rng, uint64_t w);
/* z[k] = na64_rng_gauss_word(rng, w[k]) for k < n, in that order (the same values and draws), in one
 * call: for callers that make many deviates from words of their own (a counter stream). */
NA64_API void na64_rng_gauss_words(na64_rng *rng, const uint64_t *w, double *z, int n);
NA64_API unsigned long na64_rng_poisson(na64_rng *rng, double mean);

#ifdef __cplusplus
}
#endif
#endif /* NA64_CORE_H */
