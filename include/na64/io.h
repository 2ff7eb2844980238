/*
 * na64/io.h — output files written safely (temporary file + rename), plots (PLplot: PNG, SVG, PDF)
 * and HEPData YAML tables. (HDF5 event files and histograms come with the reconstruction.)
 */
#ifndef NA64_IO_H
#define NA64_IO_H

#include <stdio.h>

#include "na64/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ============================ safe output files ============================ */

/* An output file that is either complete or not there: nothing is lost on failure (DESIGN.md,
 * docs/outputs.md). For a regular target (or a new file), data go to a temporary file in the same
 * directory (".NAME.XXXXXX.tmp", created exclusively with the target's permissions, or 0666 minus
 * the umask for a new file); na64_outfile_commit checks every write, flushes, fsyncs and closes it,
 * then renames it over the target (and fsyncs the directory), so a reader sees the old file or the
 * new one, never a partial one. Any failure removes the temporary file, leaves the old target
 * untouched and returns NA64_EIO with "PATH: what: strerror".
 * Non-regular targets are never replaced: a symbolic link is followed (the file it points to is
 * replaced, the link stays; a dangling link is refused); a FIFO, character device or socket is
 * written straight through (errors still reported; refused with NA64_OUTFILE_REGULAR); a directory
 * is refused. The object is freed by commit or abort, whatever the outcome.
 * Thread-safe for distinct objects; temporary names are unique per process and call. */
typedef struct na64_outfile na64_outfile;

enum {
  NA64_OUTFILE_NO_CLOBBER = 1, /* refuse (NA64_EINVAL) if the target exists; checked at open and,
                                  atomically, at commit (link(2) instead of rename) */
  NA64_OUTFILE_BY_NAME = 2,    /* no stream: a library that writes to a file name (PLplot, SQLite)
                                  writes to na64_outfile_path(); commit checks and renames it */
  NA64_OUTFILE_REGULAR = 4     /* refuse FIFOs and devices (files that must be seekable or renamed) */
};

/* Start writing `path` (flags: an OR of NA64_OUTFILE_*). Errors name the path and the reason. */
NA64_API int na64_outfile_open(const char *path, int flags, na64_outfile **out, na64_err *err);
/* The stream to write to (NULL with NA64_OUTFILE_BY_NAME). Do not fclose it. */
NA64_API FILE *na64_outfile_stream(na64_outfile *f);
/* The name the data go to: the temporary file, or the target itself when written straight through. */
NA64_API const char *na64_outfile_path(const na64_outfile *f);
/* The target as given to na64_outfile_open (for messages). */
NA64_API const char *na64_outfile_target(const na64_outfile *f);
/* 1 when the target is not a regular file and is written straight through (no temporary file). */
NA64_API int na64_outfile_is_direct(const na64_outfile *f);
/* Check, flush, fsync, close and rename over the target; frees f. On failure the old target is
 * intact, the temporary file removed, and err says "TARGET: <step>: <strerror>". */
NA64_API int na64_outfile_commit(na64_outfile *f, na64_err *err);
/* Discard: close and remove the temporary file (the target is untouched); frees f. NULL is a no-op. */
NA64_API void na64_outfile_abort(na64_outfile *f);

/* Whole-buffer convenience: write len bytes to `path` through an na64_outfile. */
NA64_API int na64_outfile_write_all(const char *path, int flags, const void *data, size_t len, na64_err *err);
/* Copy the file `from` to `to` through an na64_outfile (the old `to` stays intact on failure). */
NA64_API int na64_outfile_copy(const char *from, const char *to, int flags, na64_err *err);

/* ================================ plots ================================ */

/* A 2-D line plot with optional logarithmic axes, curves, filled bands and a legend, drawn with
 * PLplot (A. Irwin et al., plplot.org) through its cairo drivers. The file type follows the
 * extension: .png, .svg or .pdf. PLplot keeps global state: write plots from one thread at a time. */
typedef struct na64_plot na64_plot;

NA64_API int na64_plot_new(const char *title, const char *xlabel, const char *ylabel, int logx, int logy,
                  double xmin, double xmax, double ymin, double ymax, na64_plot **out, na64_err *err);
/* style: 0 solid, 1 dashed, 2 dotted; colour: index into a colour-blind-safe palette (Okabe-Ito).
 * Points with a NaN or non-positive value (on a log axis) split the curve into segments. */
NA64_API int na64_plot_curve(na64_plot *p, const char *label, const double *x, const double *y, int n,
                    int colour, int style, na64_err *err);
/* A filled region between ylo(x) and yhi(x) (translucent), outlined; NaN gaps split it. */
NA64_API int na64_plot_band(na64_plot *p, const char *label, const double *x, const double *ylo,
                   const double *yhi, int n, int colour, na64_err *err);
/* A free text line under the legend (e.g. "90% CL, 100 GeV"). */
NA64_API int na64_plot_note(na64_plot *p, const char *text, na64_err *err);
NA64_API int na64_plot_write(const na64_plot *p, const char *path, na64_err *err);
NA64_API void na64_plot_free(na64_plot *p);

/* ================================ HEPData ================================ */

/* One table in the HEPData submission format (hepdata.net, "Submission format: YAML data file"):
 * independent_variables / dependent_variables, each with a header {name, units} and values; the
 * dependent variables carry qualifiers (e.g. CL, beam energy). NaN values are written as '-'. */
typedef struct na64_hepdata_var {
  const char *name;
  const char *units;
  const double *values; /* n values */
} na64_hepdata_var;

typedef struct na64_hepdata_qualifier {
  const char *name;
  const char *value;
} na64_hepdata_qualifier;

NA64_API int na64_hepdata_write(const char *path, const na64_hepdata_var *indep, const na64_hepdata_var *dep,
                       int ndep, int n, const na64_hepdata_qualifier *qual, int nqual, na64_err *err);


/* ================================ run cards (YAML) — owner: sim ================================ */

/* A run card is a YAML document (YAML 1.1 through libyaml, pyyaml.org/wiki/LibYAML) of nested
 * mappings with scalar values. It is parsed into a read-only tree whose every node remembers its
 * file, line and column (1-based), then read against a schema (na64_card_key tables), so that every
 * error names file:line:column and the reason, and a key the schema does not know is an error,
 * never ignored. Numbers are parsed independently of the locale. */
typedef struct na64_card na64_card;
typedef struct na64_card_node na64_card_node;

/* Parse a card from a file, or from memory (`name` is used in messages). Errors: NA64_EIO (file),
 * NA64_EFORMAT (YAML syntax, anchors/aliases, a top level that is not a mapping, duplicate keys). */
NA64_API int na64_card_load(const char *path, na64_card **out, na64_err *err);
NA64_API int na64_card_parse(const char *text, size_t len, const char *name, na64_card **out, na64_err *err);
NA64_API void na64_card_free(na64_card *card);
/* The top-level mapping. */
NA64_API const na64_card_node *na64_card_root(const na64_card *card);

/* Schema entry: one key of a mapping. dst points to double, long, int (bool), char[dst_len]
 * (string) or, for NA64_CARD_MAP, is unused (the sub-schema `sub` with `nsub` entries is read).
 * Numbers must lie in [min, max] (min > max: no range). seen (may be NULL) is set to 1 when the
 * key is present. */
/* NA64_CARD_SECTION: a mapping read by another module's reader (e.g. `selection:`, read by src/ana
 * through na64_card_get); accepted here when it is a mapping, its contents not looked at. */
typedef enum { NA64_CARD_DOUBLE = 0, NA64_CARD_INT, NA64_CARD_BOOL, NA64_CARD_STRING, NA64_CARD_MAP,
               NA64_CARD_SECTION } na64_card_type;
typedef struct na64_card_key {
  const char *name;
  na64_card_type type;
  void *dst;
  size_t dst_len;
  double min, max;
  int required;
  const struct na64_card_key *sub;
  int nsub;
  int *seen;
} na64_card_key;

/* Read mapping `map` (NULL: the root) of `card` against `keys`: fills the destinations, fails with
 * NA64_EFORMAT "file:line:col: reason" on an unknown key, a wrong type, a value out of range or a
 * missing required key (then the position is that of the mapping). */
NA64_API int na64_card_read(const na64_card *card, const na64_card_node *map, const na64_card_key *keys, int nkeys,
                            na64_err *err);
/* The value of `key` in mapping `map` (NULL: the root), or NULL if absent or map is not a mapping. */
NA64_API const na64_card_node *na64_card_get(const na64_card *card, const na64_card_node *map, const char *key);
/* A check across keys failed (e.g. a lower cut above the upper one): set err to `code` and
 * "file:line:col: message", the position being that of `key` in mapping `map` (NULL: the root), or
 * of the mapping when the key is absent (the value came from the defaults), or "file: message" when
 * the card has no such mapping. Returns code. */
NA64_API int na64_card_error(const na64_card *card, const na64_card_node *map, const char *key, na64_err *err, int code,
                             const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;


/* ================================ HDF5 tables — owner: sim ================================ */

/* A table of fixed-size rows (a C struct) written as a one-dimensional HDF5 dataset of a compound
 * type (HDF5 1.10, hdfgroup.org), readable with h5py/pandas as a structured array. The file is
 * written to a temporary file beside the target and renamed over it by na64_h5table_close only
 * when complete (DESIGN.md); a target that exists and is not a regular file is refused. */
typedef enum { NA64_H5_I32 = 0, NA64_H5_U64, NA64_H5_F64 } na64_h5_type;
typedef struct na64_h5_field {
  const char *name;
  size_t offset;  /* offsetof(row struct, member) */
  na64_h5_type type;
} na64_h5_field;
typedef struct na64_h5table na64_h5table;

/* Switch off libhdf5's exit-time handler, which closes whatever is still open. After a write that
 * failed for good (full disk, RLIMIT_FSIZE) libhdf5 1.10 leaves the file half-closed and that
 * handler crashes on it at exit (SIGSEGV in H5F__close_cb), after the error was reported and the old
 * file kept. A process-wide choice, so the program makes it, first thing and before any HDF5 call
 * (H5dont_atexit's rule): `na64` does; a program that embeds libna64 and closes every HDF5 object it
 * opens may do the same. */
NA64_API void na64_h5table_exit_handler_disable(void);

/* Create `path` with the dataset `dataset` (e.g. "truth") of rows of row_size bytes. */
NA64_API int na64_h5table_create(const char *path, const char *dataset, size_t row_size, const na64_h5_field *fields,
                                 int nfields, na64_h5table **out, na64_err *err);
/* A string attribute of the dataset (run card, seed, version ...). */
NA64_API int na64_h5table_attr(na64_h5table *t, const char *name, const char *value, na64_err *err);
NA64_API int na64_h5table_append(na64_h5table *t, const void *rows, size_t n, na64_err *err);
/* Flush, close, sync and rename over the target; frees t (also on failure, removing the temporary). */
NA64_API int na64_h5table_close(na64_h5table *t, na64_err *err);
/* Drop an unfinished table: the temporary file is removed, the target untouched. NULL allowed. */
NA64_API void na64_h5table_abort(na64_h5table *t);

/* Reading such a table (src/io/h5read.c): the columns a program needs, described by the same
 * na64_h5_field list as for writing (offsets into the caller's row struct), are looked up BY NAME
 * in the file and their kind checked (integer for I32/U64, float for F64; HDF5 converts widths and
 * byte order); columns of the file that are not asked for are ignored, members of the row not
 * asked for read as 0. Errors name the file and what is wrong: NA64_EIO "PATH: cannot open: ..."
 * (missing, unreadable), NA64_EFORMAT "PATH: not an HDF5 file", "PATH: no table 'events' in the
 * file", "PATH: table 'events' has no column 'weight'", "PATH: column 'weight' of table 'events'
 * is integer, expected float". */
typedef struct na64_h5reader na64_h5reader;
NA64_API int na64_h5reader_open(const char *path, const char *dataset, size_t row_size, const na64_h5_field *fields,
                                int nfields, na64_h5reader **out, na64_err *err);
NA64_API uint64_t na64_h5reader_nrows(const na64_h5reader *r);
/* The next at most max rows into rows[] (row_size bytes each); *n rows read, 0 at the end. */
NA64_API int na64_h5reader_read(na64_h5reader *r, void *rows, size_t max, size_t *n, na64_err *err);
/* A string attribute of the table (as na64_h5table_attr writes them) into buf[len];
 * NA64_ENOTFOUND (with a message) when the table has no such attribute. */
NA64_API int na64_h5reader_attr(const na64_h5reader *r, const char *name, char *buf, size_t len, na64_err *err);
NA64_API void na64_h5reader_close(na64_h5reader *r); /* NULL allowed */
/* Continue reading at row `row` (0-based; nrows: at the end): a rank's share of a table (issue 15,
 * `mpirun na64 select`). NA64_EINVAL beyond the table. */
NA64_API int na64_h5reader_seek(na64_h5reader *r, uint64_t row, na64_err *err);

/* ================================ histograms — owner: mon ================================ */

/* A fixed-binning 1-D or 2-D histogram with the semantics of ROOT's TH1D/TH2D (root.cern,
 * TH1.h/TH2.h): content in ROOT's cell layout (1-D: cell 0 underflow, 1..nx the bins, nx + 1
 * overflow; 2-D: cell = ix + (nx + 2) * iy, ix in 0..nx+1, iy in 0..ny+1), sum of weights and of
 * squared weights per cell, and the global statistics fEntries, fTsumw, fTsumw2, fTsumwx, fTsumwx2
 * (2-D also fTsumwy, fTsumwy2, fTsumwxy), which, as in ROOT by default, take only fills inside the
 * axis ranges; fEntries counts every fill. A bin is [lo, hi) of its edges; x < xmin underflows,
 * x >= xmax (and NaN, as TAxis::FindBin does) overflows.
 * Exported as the JSON that ROOT's TBufferJSON writes for TH1D/TH2D (read by JSROOT), and as CSV.
 * Not thread-safe: one writer at a time (the monitor copies under its own lock). */
typedef struct na64_hist na64_hist;

/* nx (and ny) in 1..1e6, xmin < xmax finite; name: [A-Za-z0-9_.-]+ (it becomes a URL item). */
NA64_API int na64_hist_new_1d(const char *name, const char *title, int nx, double xmin, double xmax, na64_hist **out,
                              na64_err *err);
NA64_API int na64_hist_new_2d(const char *name, const char *title, int nx, double xmin, double xmax, int ny, double ymin,
                              double ymax, na64_hist **out, na64_err *err);
NA64_API void na64_hist_free(na64_hist *h);
/* Fill with weight w (a 2-D histogram takes y = 0 through na64_hist_fill). Non-finite w ignored. */
NA64_API void na64_hist_fill(na64_hist *h, double x, double w);
NA64_API void na64_hist_fill2(na64_hist *h, double x, double y, double w);
/* Add src into dst (same dimension and binning, else NA64_EINVAL): cells, sums and entries. */
NA64_API int na64_hist_merge(na64_hist *dst, const na64_hist *src, na64_err *err);
/* Subtract src from dst (same binning, else NA64_EINVAL): with src an earlier copy of the same filled
 * histogram, dst becomes the fills made in between (the monitor's per-burst and rolling windows). */
NA64_API int na64_hist_subtract(na64_hist *dst, const na64_hist *src, na64_err *err);
/* Make dst an exact copy of src's contents (same dimension and binning, else NA64_EINVAL). */
NA64_API int na64_hist_copy(na64_hist *dst, const na64_hist *src, na64_err *err);
NA64_API int na64_hist_clone(const na64_hist *src, na64_hist **out, na64_err *err);
NA64_API void na64_hist_reset(na64_hist *h);
NA64_API int na64_hist_set_axis_titles(na64_hist *h, const char *xtitle, const char *ytitle, na64_err *err);

NA64_API int na64_hist_dim(const na64_hist *h);            /* 1 or 2 */
NA64_API const char *na64_hist_name(const na64_hist *h);
NA64_API int na64_hist_nbins(const na64_hist *h, int axis); /* axis 0: x, 1: y (1 for a 1-D histogram) */
NA64_API int na64_hist_ncells(const na64_hist *h);          /* (nx + 2) (ny + 2), or nx + 2 */
NA64_API double na64_hist_cell(const na64_hist *h, int cell);       /* sum of weights in a cell */
NA64_API double na64_hist_cell_sumw2(const na64_hist *h, int cell); /* sum of squared weights */
NA64_API double na64_hist_entries(const na64_hist *h);
/* The statistics in the order of TH1::GetStats: sumw, sumw2, sumwx, sumwx2 (2-D: + sumwy, sumwy2, sumwxy). */
NA64_API void na64_hist_stats(const na64_hist *h, double stats[7]);

/* The TBufferJSON form of a TH1D/TH2D, as a malloc'ed NUL-terminated string (free() it). */
NA64_API int na64_hist_to_json(const na64_hist *h, char **json, size_t *len, na64_err *err);
/* CSV with a header: 1-D "bin,x_low,x_high,content,error" ; 2-D "ix,iy,x_low,x_high,y_low,y_high,content,error";
 * under/overflow rows included (bin 0 and nx + 1, with infinite edges written as -inf/inf). */
NA64_API int na64_hist_write_csv(const na64_hist *h, FILE *out, na64_err *err);


/* ============================ per-part data files and their index — owner: scale ============================ */

/* FNV-1a, 64 bits (G. Fowler, L.C. Noll, K.-P. Vo; IETF draft-eastlake-fnv-21, section 2): a
 * fingerprint (not a cryptographic hash) telling cards apart; na64_fnv1a64_file hashes a file's bytes. */
NA64_API uint64_t na64_fnv1a64(const void *data, size_t n);
NA64_API int na64_fnv1a64_file(const char *path, uint64_t *hash, na64_err *err);

/* A run written in parts (issue 15, docs/scaling.md): `na64 sim --part K/N` or MPI rank K of N writes
 * the events of beam particles [first_event, first_event + events) to its own files (FILE.rank<K>.dat,
 * TRUTH.rank<K>.h5), as event builders write several streams; `na64 reco` of the parts writes one
 * events file per part. An index (YAML, src/io/stream_index.c) lists the parts, their event ranges
 * and record counts, with the card hash, seed and version of the run. The records of a part are
 * numbered from 0 in its file; their number in the whole run is first_record + that number. */
typedef struct na64_stream_part {
  int part;                    /* K of N */
  char file[1024];             /* data file of the part ("" if none), as resolved when read */
  char truth[1024];            /* truth HDF5 file of the part ("" if none) */
  uint64_t first_event, events;/* beam particles of the part */
  uint64_t records;            /* records in the file: triggered events (raw) or rows (events) */
  uint64_t first_record;       /* records of the parts before it (filled by na64_stream_index_join) */
} na64_stream_part;
typedef struct na64_stream_index {
  char kind[16];               /* "raw" (na64 sim) or "events" (na64 reco) */
  char version[32];            /* na64 version that wrote the parts */
  char card[1024];             /* card path as given */
  uint64_t card_hash;          /* na64_fnv1a64 of the card's bytes */
  long run;                    /* setup (run number) */
  uint64_t seed, events;       /* of the whole run */
  int nparts;                  /* N: parts of the whole run */
  int nheld;                   /* parts listed here (N in a complete index) */
  na64_stream_part *parts;     /* malloc'ed, nheld */
} na64_stream_index;
NA64_API void na64_stream_index_release(na64_stream_index *ix);
/* Events [*first, *first + *count) of part k of n (0 <= k < n) of total events: [total k / n,
 * total (k + 1) / n), so every event is in exactly one part and the parts differ by at most one. */
NA64_API void na64_part_range(uint64_t total, int k, int n, uint64_t *first, uint64_t *count);
/* path with ".rank<K>" before its extension (x.dat -> x.rank3.dat, x.dat.zst -> x.rank3.dat.zst);
 * ext != NULL replaces the extension (x.dat, ".index.yaml" -> x.index.yaml). */
NA64_API int na64_stream_path(const char *path, int part, const char *ext, char *out, size_t n, na64_err *err);
/* Write the index (atomic, na64_outfile); part files are recorded relative to the index's folder. */
NA64_API int na64_stream_index_write(const na64_stream_index *ix, const char *path, na64_err *err);
/* Read an index; part paths are resolved against the index's folder. */
NA64_API int na64_stream_index_read(const char *path, na64_stream_index *ix, na64_err *err);
/* Join the parts of n indexes (the names for messages) into one complete index sorted by event:
 * refuses different kinds, versions, cards, runs, seeds, sizes or splits, overlapping ranges and
 * gaps, naming the files; fills first_record. */
NA64_API int na64_stream_index_join(const na64_stream_index *ix, const char *const *names, int n,
                                    na64_stream_index *out, na64_err *err);

#ifdef __cplusplus
}
#endif
#endif
