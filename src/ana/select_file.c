/*
 * The selection of events files (`na64 select`, docs/selection.md): the `events` table read in
 * chunks with the HDF5 table reader (src/io/h5read.c), only the columns the selection needs, each
 * row filling the accumulator exactly as `na64 run` fills it in memory (src/ana/job.c), and the
 * untriggered simulated events recorded with the table (na64_reco_untriggered, src/reco) entering
 * the `generated` row one by one with their weights, so the exact sums (na64_xsum) are the same.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "na64/ana.h"

#define CHUNK 4096 /* rows per read: the writer's chunk size (src/io/h5table.c) */

/* The columns the cuts, the sideband and the signal/background split read. */
static const char *const needed[] = {
    "momentum", "theta", "ntracks_up", "ntracks_down", "srd_energy", "srd_module_0", "srd_module_1", "srd_module_2",
    "srd_time", "ecal_energy", "preshower_energy", "ecal_shape_chi2", "hcal_energy", "veto_energy", "weight",
    "simulated", "aprime",
};
enum { NNEEDED = sizeof needed / sizeof needed[0] };
_Static_assert(NA64_RECO_SRD_MODULES == 3, "update `needed`");

/* Their descriptions (name, offset, type) from the table's own column list (na64_reco_event_fields). */
static int needed_fields(na64_h5_field out[NNEEDED], na64_err *err)
{
  int nall = 0;
  const na64_h5_field *all = na64_reco_event_fields(&nall);
  for (int i = 0; i < NNEEDED; ++i) {
    int k = 0;
    while (k < nall && strcmp(all[k].name, needed[i]) != 0) ++k;
    if (k == nall) return na64_err_set(err, NA64_EINVAL, "selection: column '%s' is not a member of na64_reco_event", needed[i]);
    out[i] = all[k];
  }
  return NA64_OK;
}

/* The untriggered events of the table's attributes into row `generated`, one by one with their
 * weights, so the exact sums equal those of `na64 run`. */
static void fill_untriggered(na64_select_accum *a, const na64_reco_untriggered *u)
{
  for (int c = 0; c < 2; ++c)
    for (int k = 0; k < u->nw[c]; ++k)
      for (uint64_t i = 0; i < u->count[c][k]; ++i) na64_select_accum_fill_untriggered(a, u->w[c][k], c);
}

/* At most `count` rows from the reader's position. */
static int read_rows(na64_h5reader *rd, uint64_t count, const na64_select_config *c, na64_select_accum *a,
                     na64_select_files_info *info, na64_err *err)
{
  na64_reco_event *rows = malloc(CHUNK * sizeof *rows);
  if (!rows) return na64_err_set(err, NA64_ENOMEM, "selection: out of memory");
  size_t n = 0;
  int st = NA64_OK;
  while (count > 0 && (st = na64_h5reader_read(rd, rows, count < CHUNK ? (size_t)count : CHUNK, &n, err)) == NA64_OK &&
         n > 0) {
    for (size_t i = 0; i < n; ++i) {
      na64_select_accum_fill(a, c, &rows[i], rows[i].aprime != 0);
      info->rows++;
      info->signal_rows += rows[i].aprime != 0;
      info->simulated_rows += rows[i].simulated != 0;
    }
    count -= n;
  }
  free(rows);
  return st;
}

/* The reader of the columns the selection needs. */
static int open_events(const char *path, na64_h5reader **rd, na64_err *err)
{
  na64_h5_field f[NNEEDED];
  NA64_CALL(needed_fields(f, err));
  return na64_h5reader_open(path, "events", sizeof(na64_reco_event), f, NNEEDED, rd, err);
}

int na64_select_file_rows(const char *path, uint64_t *rows, na64_err *err)
{
  if (!path || !rows) return na64_err_set(err, NA64_EINVAL, "na64_select_file_rows: NULL argument");
  na64_h5reader *rd = NULL;
  NA64_CALL(open_events(path, &rd, err));
  *rows = na64_h5reader_nrows(rd);
  na64_h5reader_close(rd);
  return NA64_OK;
}

int na64_select_file_fill_rows(const char *path, const na64_select_config *c, uint64_t first, uint64_t count, int whole,
                               na64_select_accum *a, na64_select_files_info *info, na64_err *err)
{
  if (!path || !c || !a || !info) return na64_err_set(err, NA64_EINVAL, "na64_select_file_fill_rows: NULL argument");
  na64_h5reader *rd = NULL;
  NA64_CALL(open_events(path, &rd, err));
  na64_reco_untriggered u;
  na64_reco_untriggered_init(&u);
  int st = whole ? na64_reco_untriggered_read(rd, &u, err) : NA64_OK;
  if (st == NA64_EFORMAT) na64_err_prefix(err, "%s: ", path);
  uint64_t n = na64_h5reader_nrows(rd);
  if (first > n) first = n;
  if (count > n - first) count = n - first;
  if (st == NA64_OK && count > 0) st = na64_h5reader_seek(rd, first, err);
  if (st == NA64_OK) st = read_rows(rd, count, c, a, info, err);
  na64_h5reader_close(rd);
  if (st != NA64_OK || !whole) return st;
  fill_untriggered(a, &u);
  info->nfiles++;
  info->untriggered += na64_reco_untriggered_events(&u, 0) + na64_reco_untriggered_events(&u, 1);
  if (isfinite(u.eot)) info->eot += u.eot;
  else info->files_without_eot++;
  return NA64_OK;
}

int na64_select_file_fill(const char *path, const na64_select_config *c, na64_select_accum *a,
                          na64_select_files_info *info, na64_err *err)
{
  return na64_select_file_fill_rows(path, c, 0, UINT64_MAX, 1, a, info, err);
}
