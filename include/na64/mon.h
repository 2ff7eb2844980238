/*
 * na64/mon.h — the online monitor: a filler thread decodes a DATE raw-data file (followed as it
 * grows, like tail -f, or replayed at a given rate) into histograms per detector folder, and an HTTP
 * server (GNU libmicrohttpd) serves them with the ROOT THttpServer protocol, so JSROOT reads them:
 *   GET /h.json                  the hierarchy of folders and histograms
 *   GET /<folder>/<name>/root.json  one histogram as TBufferJSON writes a TH1D/TH2D
 *   GET /status.json             events read, bytes, bad regions, whether the source is finished
 *   GET /<item>/root.json?window=burst|last_burst|rolling  the same over a window
 *   GET /event.json[?n=N]        the last (or a kept) event for the event display
 *   GET /alarms.json             straw planes whose efficiency or hits per event leave their band
 *   GET /Reset/cmd.json?token=T  reset every histogram (only when started with a token)
 *   GET /, /index.html, /jsroot.min.js  the page (JSROOT dashboard) if web_dir holds it
 * The server binds to loopback unless told otherwise, serves only its own items (anything else: 404;
 * a path with "..", "//" or characters outside [A-Za-z0-9_./-]: 400), is read-only without a token,
 * bounds its connections and memory, and never blocks the filler: the filler publishes copies of its
 * histograms under a mutex it only try-locks (docs/monitor.md).
 */
#ifndef NA64_MON_H
#define NA64_MON_H

#include <stdint.h>

#include "na64/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct na64_mon_options {
  const char *source;      /* DATE file (plain or zstd); required */
  const char *listen;      /* "ADDR:PORT", numeric IPv4; default "127.0.0.1:8064"; port 0: ephemeral */
  double rate_hz;          /* replay rate in events/s; 0: as fast as possible */
  int follow;              /* 1: at the end of the file wait for it to grow (tail -f) until stopped */
  const char *token;       /* NULL or "": read-only server; else required by /Reset/cmd.json */
  const char *cond_path;   /* conditions database for the geometry (NULL: the default database) */
  double publish_s;        /* interval between publications of the histograms (default 0.2 s) */
  unsigned max_connections; /* simultaneous HTTP connections (default 32) */
  const char *web_dir;     /* directory with index.html and jsroot.min.js (the page, built from npm
                              jsroot); NULL or incomplete: a plain list of the items is served at / */
  double rolling_s;        /* length of the rolling window, s (default 60) */
  const char *alarms;      /* YAML file of the expected bands of the straw planes, overriding those of the
                              conditions database (NULL: the database's, else built-in defaults) */
  int next_file;           /* with follow: go on to the next file of the run (CERN CDR cdrSSCCC-RRRRRR.dat:
                              the next chunk; other names: the last number in the name + 1) */
} na64_mon_options;

typedef struct na64_mon_status {
  uint64_t events;         /* events decoded and filled */
  uint64_t bytes;          /* file bytes consumed */
  uint64_t regions;        /* bad regions of the file */
  uint64_t published;      /* publications of the histograms to the HTTP side */
  uint64_t requests;       /* HTTP requests answered */
  int geometry;            /* 1 if the geometry of the run was loaded (detector folders), else raw folders */
  int finished;            /* 1 once the source is exhausted (not following) or failed */
  int failed;              /* 1 if the filler stopped on an error (message in na64_mon_error) */
  uint64_t bursts;         /* burst changes seen */
  uint32_t burst;          /* the current burst number */
  uint64_t files;          /* files of the run read (1 + the next files followed) */
  double filler_cpu_s;     /* CPU time of the filler thread at the last publication, s */
} na64_mon_status;

typedef struct na64_mon na64_mon;

NA64_API void na64_mon_options_default(na64_mon_options *o);
/* Open the source, start the HTTP server and the filler thread. */
NA64_API int na64_mon_start(const na64_mon_options *o, na64_mon **out, na64_err *err);
/* The TCP port the server listens on (useful with port 0). */
NA64_API int na64_mon_port(const na64_mon *m);
NA64_API void na64_mon_get_status(na64_mon *m, na64_mon_status *s);
/* The filler's error message ("" if none). */
NA64_API const char *na64_mon_error(const na64_mon *m);
/* Stop the filler and the server, free everything. NULL is a no-op. */
NA64_API void na64_mon_stop(na64_mon *m);

#ifdef __cplusplus
}
#endif
#endif
