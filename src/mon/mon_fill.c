/* The monitor's filler thread: DATE events -> histograms per detector folder.
 * With the geometry of the run (conditions database): straw hit maps and drift times per plane
 * (the straw decoder of src/reco), SADC amplitudes per calorimeter cell (maximum sample minus the
 * even/odd pedestal of its ADC, the na64sw convention of docs/raw-format.md), energy sums per
 * calorimeter from those maxima times the cell gains (GeV per ADC count, conditions database), and
 * the ECAL versus HCAL plane. Without a geometry: raw channel maps per F1 and SADC source.
 * Always: event types, event rate (events per second since the first event), event sizes and the
 * bad regions of the file by reason. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mon/mon_internal.h"
#include "na64/cond.h"
#include "na64/daq.h"

#define RAW_MAX_SOURCES 256
#define AMP_MAX 4096.0   /* 12-bit SADC */
#define E_MAX_GEV 150.0  /* up to 1.5 x the 100 GeV beam */

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sleep_s(double s)
{
  if (s <= 0) return;
  struct timespec t = {(time_t)s, (long)((s - floor(s)) * 1e9)};
  nanosleep(&t, NULL);
}

static int add1(na64_mon *m, const char *folder, const char *name, const char *title, int n, double lo, double hi,
                const char *xt, na64_err *err)
{
  na64_hist *h;
  int st = na64_hist_new_1d(name, title, n, lo, hi, &h, err);
  if (st) return st;
  na64_hist_set_axis_titles(h, xt, "", err);
  return mon_item_add(m, folder, h, err);
}

static int add2(na64_mon *m, const char *folder, const char *name, const char *title, int nx, double xlo, double xhi,
                int ny, double ylo, double yhi, const char *xt, const char *yt, na64_err *err)
{
  na64_hist *h;
  int st = na64_hist_new_2d(name, title, nx, xlo, xhi, ny, ylo, yhi, &h, err);
  if (st) return st;
  na64_hist_set_axis_titles(h, xt, yt, err);
  return mon_item_add(m, folder, h, err);
}

static int add_daq_items(na64_mon *m, na64_err *err)
{
  if ((m->it_types = add1(m, "DAQ", "event_types", "DATE event types", 16, 0, 16, "eventType", err)) < 0 ||
      (m->it_rate = add1(m, "DAQ", "event_rate", "events per second", 3600, 0, 3600, "time since first event [s]",
                         err)) < 0 ||
      (m->it_size = add1(m, "DAQ", "event_size", "event size", 128, 0, 65536, "bytes", err)) < 0 ||
      (m->it_regions = add1(m, "DAQ", "bad_regions", "bad regions by reason", 9, 0, 9, "na64_daq_reason", err)) < 0)
    return NA64_ENOMEM;
  return 0;
}

/* Dense (port, channel) tables per SADC source: a waveform finds its cell with two reads. */
static int build_sadc_index(na64_mon *m, na64_err *err)
{
  m->sadc_src = malloc((m->nsadc + 1) * sizeof *m->sadc_src);
  if (!m->sadc_src) return na64_err_set(err, NA64_ENOMEM, "monitor: out of memory for the SADC map");
  for (size_t i = 0; i < m->nsadc; ++i) {
    int k = 0;
    while (k < m->nsadc_src && m->sadc_src[k] != m->sadc[i].src) ++k;
    if (k == m->nsadc_src) m->sadc_src[m->nsadc_src++] = m->sadc[i].src;
  }
  m->sadc_index = malloc(((size_t)m->nsadc_src * 1024 + 1) * sizeof *m->sadc_index);
  if (!m->sadc_index) return na64_err_set(err, NA64_ENOMEM, "monitor: out of memory for the SADC map");
  for (size_t i = 0; i < (size_t)m->nsadc_src * 1024; ++i) m->sadc_index[i] = -1;
  for (size_t i = 0; i < m->nsadc; ++i) {
    int k = 0;
    while (m->sadc_src[k] != m->sadc[i].src) ++k;
    m->sadc_index[(size_t)k * 1024 + m->sadc[i].port * 64 + m->sadc[i].channel] = (int32_t)i;
  }
  return 0;
}

/* The SADC channel table from the cells' DAQ keys (only calibrated readouts). */
static int build_sadc_table(na64_mon *m, na64_err *err)
{
  const na64_geom *g = m->geom;
  m->sadc = calloc((size_t)g->ncells * NA64_GEOM_MAX_SECTIONS + 1, sizeof *m->sadc);
  if (!m->sadc) return na64_err_set(err, NA64_ENOMEM, "monitor: out of memory for the SADC map");
  for (int c = 0; c < g->ncells; ++c)
    for (int k = 0; k < NA64_GEOM_MAX_SECTIONS; ++k) {
      const na64_geom_cell *cell = &g->cells[c];
      if (cell->daq_key[k] == NA64_GEOM_NO_KEY || !cell->has_calib[k]) continue;
      mon_sadc_chan *s = &m->sadc[m->nsadc++];
      uint32_t chip;
      na64_geom_key_unpack(cell->daq_key[k], &s->src, &s->port, &chip, &s->channel);
      s->cell = c;
      s->section = k;
      s->gain = cell->gain[k];
      s->ped_even = cell->ped_even[k];
      s->ped_odd = cell->ped_odd[k];
      if (s->port > 15 || s->channel > 63) m->nsadc--; /* outside the SADC addressing */
    }
  return build_sadc_index(m, err);
}

static int add_detector_items(na64_mon *m, na64_err *err)
{
  const na64_geom *g = m->geom;
  m->straw_item = malloc((size_t)(g->nplanes + 1) * sizeof *m->straw_item);
  m->calo_item = malloc((size_t)(g->ndetectors + 1) * sizeof *m->calo_item);
  m->calo_sum = calloc((size_t)g->ndetectors + 1, sizeof *m->calo_sum);
  m->plane_hits = calloc((size_t)g->nplanes + 1, sizeof *m->plane_hits);
  if (!m->straw_item || !m->calo_item || !m->calo_sum || !m->plane_hits) return na64_err_set(err, NA64_ENOMEM, "monitor: out of memory");
  char folder[80];
  for (int p = 0; p < g->nplanes; ++p) {
    const na64_geom_plane *pl = &g->planes[p];
    m->straw_item[p] = -1;
    if (pl->kind != NA64_DET_STRAW || pl->nwires <= 0) continue;
    snprintf(folder, sizeof folder, "%s", pl->name);
    int a = add1(m, folder, "hitmap", "hits per wire", pl->nwires, 0, pl->nwires, "wire", err);
    int b = add1(m, folder, "drift_time", "drift time", 200, -50, 350, "t - t0 [ns]", err);
    int c = add1(m, folder, "nhits", "hits per physics event (efficiency = 1 - bin 0 / entries)", 32, 0, 32, "hits",
                 err);
    if (a < 0 || b < 0 || c < 0) return NA64_ENOMEM;
    m->straw_item[p] = a; /* drift time is a + 1, hits per event a + 2 */
  }
  for (int d = 0; d < g->ndetectors; ++d) {
    const na64_geom_detector *det = &g->detectors[d];
    m->calo_item[d] = -1;
    if (det->ncells <= 0) continue;
    int a = add2(m, det->name, "amplitude", "SADC amplitude per cell", det->ncells, 0, det->ncells, 128, 0, AMP_MAX,
                 "cell", "max sample - pedestal [ADC]", err);
    int b = add1(m, det->name, "energy", "energy sum (SADC maxima x gains)", 150, 0, E_MAX_GEV, "E [GeV]", err);
    if (a < 0 || b < 0) return NA64_ENOMEM;
    m->calo_item[d] = a;
    if (!strcmp(det->name, "ECAL")) m->ecal = d;
    if (!strcmp(det->name, "HCAL")) m->hcal = d;
  }
  if (m->ecal >= 0 && m->hcal >= 0) {
    m->it_ecal_hcal = add2(m, "CALO", "ecal_vs_hcal", "ECAL vs HCAL energy", 150, 0, E_MAX_GEV, 150, 0, E_MAX_GEV,
                           "E_ECAL [GeV]", "E_HCAL [GeV]", err);
    if (m->it_ecal_hcal < 0) return NA64_ENOMEM;
  } else {
    m->it_ecal_hcal = -1;
  }
  return 0;
}

/* The geometry of the run of the first event; without it the monitor still runs with raw folders. */
static int setup_geometry(na64_mon *m, int run, na64_err *err)
{
  na64_err gerr;
  if (na64_geom_load_path(m->opt.cond_path, run, &m->geom, &gerr) != 0) {
    na64_log(NA64_LOG_WARN, "monitor: no geometry for run %d (%s): raw channel folders only", run, gerr.msg);
    m->geom = NULL;
    return 0;
  }
  int st = na64_straw_decoder_new(m->geom, NULL, &m->straw, err);
  if (st == 0) st = build_sadc_table(m, err);
  if (st == 0) st = add_detector_items(m, err);
  if (st == 0) st = na64_straw_reco_new(m->geom, NULL, &m->sreco, err);
  if (st == 0) st = mon_alarms_setup(m, run, err);
  return st;
}

const mon_sadc_chan *mon_sadc_find(const na64_mon *m, uint32_t src, uint32_t port, uint32_t ch)
{
  if (port > 15 || ch > 63) return NULL;
  for (int k = 0; k < m->nsadc_src; ++k) /* a handful of SADC sources */
    if (m->sadc_src[k] == src) {
      int32_t i = m->sadc_index[(size_t)k * 1024 + port * 64 + ch];
      return i < 0 ? NULL : &m->sadc[i];
    }
  return NULL;
}

double mon_wf_amplitude(const na64_daq_sadc_waveform *w, double ped_even, double ped_odd)
{
  if (w->has_pedestals) {
    ped_even = w->pedestal_even;
    ped_odd = w->pedestal_odd;
  }
  double best = 0.0;
  for (int i = 0; i < w->nsamples; ++i) {
    double a = (double)w->samples[i] - ((i % 2) ? ped_odd : ped_even);
    if (a > best) best = a;
  }
  return best;
}

/* Item index of a raw folder for source `src` of kind "F1" / "SADC", created on first sight. */
static int raw_item(na64_mon *m, int sadc, uint32_t src, na64_err *err)
{
  char name[48];
  snprintf(name, sizeof name, "src%u", (unsigned)src);
  const char *folder = sadc ? "SADC" : "F1";
  char path[MON_PATH_LEN];
  snprintf(path, sizeof path, "%s/%s", folder, name);
  for (int i = 0; i < m->nitems; ++i)
    if (!strcmp(m->items[i].path, path)) return i;
  if (m->nraw >= RAW_MAX_SOURCES) return -1; /* bounded: the sources beyond are not shown */
  int it = sadc ? add2(m, folder, name, "SADC amplitude per channel", 1024, 0, 1024, 64, 0, AMP_MAX, "port*64+channel",
                       "ADC", err)
                : add1(m, folder, name, "F1 hits per channel", 1024, 0, 1024, "port*64+chip*8+channel", err);
  if (it >= 0) m->nraw++;
  return it;
}

static void fill_sadc_block(na64_mon *m, const na64_daq_equipment *eq, na64_daq_sadc_waveform *wf, size_t cap)
{
  size_t n = 0;
  na64_err err;
  na64_daq_sadc_decode(eq, wf, cap, &n, NULL, &err);
  for (size_t i = 0; i < n; ++i) {
    if (!m->geom) {
      /* no calibration: pedestals from the first 8 samples (the na64sw "by front" method) */
      double pe = 0.0, po = 0.0;
      if (na64_daq_sadc_pedestals_from_front(&wf[i], wf[i].nsamples < 8 ? wf[i].nsamples : 8, &pe, &po, &err) != 0)
        pe = po = 0.0;
      int it = raw_item(m, 1, wf[i].source_id, &err);
      if (it >= 0) na64_hist_fill2(m->items[it].live, wf[i].port * 64.0 + wf[i].channel + 0.5, mon_wf_amplitude(&wf[i], pe, po), 1);
      continue;
    }
    const mon_sadc_chan *c = mon_sadc_find(m, wf[i].source_id, wf[i].port, wf[i].channel);
    if (!c) continue;
    const na64_geom_cell *cell = &m->geom->cells[c->cell];
    const na64_geom_detector *det = &m->geom->detectors[cell->detector];
    double amp = mon_wf_amplitude(&wf[i], c->ped_even, c->ped_odd);
    int it = m->calo_item[cell->detector];
    if (it >= 0) na64_hist_fill2(m->items[it].live, c->cell - det->first_cell + 0.5, amp, 1.0);
    m->calo_sum[cell->detector] += amp * c->gain;
  }
}

static void fill_f1_raw(na64_mon *m, const na64_daq_equipment *eq)
{
  na64_daq_f1_hit hits[512];
  size_t n = 0;
  na64_err err;
  na64_daq_f1_decode(eq, -1, hits, sizeof hits / sizeof hits[0], &n, NULL, &err);
  int it = raw_item(m, 0, eq->header.id, &err);
  if (it < 0) return;
  for (size_t i = 0; i < n; ++i)
    na64_hist_fill(m->items[it].live, hits[i].port * 64.0 + hits[i].chip * 8.0 + hits[i].channel + 0.5, 1.0);
}

static void fill_straws(na64_mon *m, const na64_daq_event *ev)
{
  na64_err err;
  na64_straw_decode_event(m->straw, ev, &m->digits, NULL, &err); /* damaged words are skipped, rest delivered */
  for (size_t i = 0; i < m->digits.n; ++i) {
    const na64_straw_digit *d = &m->digits.digits[i];
    if (d->plane < 0 || d->plane >= m->geom->nplanes) continue;
    int it = m->straw_item[d->plane];
    if (it < 0) continue;
    na64_hist_fill(m->items[it].live, d->wire + 0.5, 1.0);
    na64_hist_fill(m->items[it + 1].live, d->time, 1.0);
    m->plane_hits[d->plane]++;
  }
  for (int p = 0; p < m->geom->nplanes; ++p) {
    if (m->straw_item[p] >= 0) na64_hist_fill(m->items[m->straw_item[p] + 2].live, m->plane_hits[p] + 0.5, 1.0);
    m->plane_hits[p] = 0;
  }
}

static void fill_event(na64_mon *m, const na64_daq_event *ev, na64_daq_sadc_waveform *wf, size_t cap)
{
  double t = ev->header.time_sec + 1e-6 * ev->header.time_usec;
  if (m->events == 0) m->t_first = t;
  na64_hist_fill(m->items[m->it_types].live, ev->header.type + 0.5, 1.0);
  na64_hist_fill(m->items[m->it_rate].live, t - m->t_first, 1.0);
  na64_hist_fill(m->items[m->it_size].live, (double)ev->size, 1.0);
  m->events++;
  if (ev->header.type != NA64_DAQ_PHYSICS_EVENT) return;
  m->physics++;
  if (m->geom) {
    memset(m->calo_sum, 0, (size_t)m->geom->ndetectors * sizeof *m->calo_sum);
    fill_straws(m, ev);
  }
  size_t cursor = 0;
  na64_daq_equipment eq;
  while (na64_daq_event_next_equipment(ev, &cursor, &eq)) {
    if (eq.header.type == NA64_DAQ_EQ_SADC) fill_sadc_block(m, &eq, wf, cap);
    else if (eq.header.type == NA64_DAQ_EQ_F1 && !m->geom) fill_f1_raw(m, &eq);
  }
  if (!m->geom) return;
  for (int d = 0; d < m->geom->ndetectors; ++d)
    if (m->calo_item[d] >= 0) na64_hist_fill(m->items[m->calo_item[d] + 1].live, m->calo_sum[d], 1.0);
  if (m->it_ecal_hcal >= 0)
    na64_hist_fill2(m->items[m->it_ecal_hcal].live, m->calo_sum[m->ecal], m->calo_sum[m->hcal], 1.0);
}

static void on_region(const na64_daq_region *g, void *user)
{
  na64_mon *m = user;
  /* a followed file ends in the middle of the event being written: not damage, read again later */
  if (m->opt.follow && g->reason == NA64_DAQ_TRUNCATED) return;
  m->regions++;
  if (m->nitems > m->it_regions) na64_hist_fill(m->items[m->it_regions].live, g->reason + 0.5, 1.0);
}

static void handle_reset(na64_mon *m)
{
  if (!atomic_exchange(&m->reset_requested, 0)) return;
  pthread_mutex_lock(&m->lock);
  mon_reset_locked(m, 1);
  pthread_mutex_unlock(&m->lock);
  mon_publish(m, 1);
}

/* CERN CDR names of the NA64 DAQ: cdrSSCCC-RRRRRR.dat, SS the stream (event builder), CCC the chunk
 * number of the run, RRRRRR the run number: e.g. cdr01001-002901.dat is chunk 1 of run 2901 and
 * cdr01003-002899.dat chunk 3 of run 2899 (the NA64 file catalogue's parse_cdr_filename test, castlib3
 * by R. Dusaev; the raw files of /eos/experiment/na64/data/raw/2018/ are so named, e.g.
 * cdr01001-003661.dat). The next file of the run is the next chunk of the same stream: the last three
 * digits of the first group plus one (cdr01009-002901.dat -> cdr01010-002901.dat); 0 after chunk 999.
 * Returns 1 if `base` is such a name (*next set), -1 if it is one without a next chunk, 0 otherwise. */
static int cdr_next(const char *base, char *next, size_t len)
{
  if (strncmp(base, "cdr", 3) != 0 || strspn(base + 3, "0123456789") != 5 || base[8] != '-' ||
      strspn(base + 9, "0123456789") == 0)
    return 0;
  int chunk = (base[5] - '0') * 100 + (base[6] - '0') * 10 + (base[7] - '0');
  if (chunk >= 999) return -1;
  int n = snprintf(next, len, "cdr%.2s%03d%s", base + 3, chunk + 1, base + 8);
  return n > 0 && (size_t)n < len ? 1 : -1;
}

/* The next file of a run: CERN CDR names by their chunk (above); any other name by its last group of
 * digits in the file name (not the directory) plus one, same width ("run1234-0007.dat" ->
 * "run1234-0008.dat"); 0 if the name has no digits. */
int mon_next_file_name(const char *path, char *out, size_t outlen)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char cdr[256];
  int c = cdr_next(base, cdr, sizeof cdr);
  if (c < 0) return 0;
  if (c > 0) {
    int n = snprintf(out, outlen, "%.*s%s", (int)(base - path), path, cdr);
    return n > 0 && (size_t)n < outlen;
  }
  const char *end = NULL;
  for (const char *p = base; *p; ++p)
    if (*p >= '0' && *p <= '9') end = p + 1;
  if (!end) return 0;
  const char *beg = end;
  while (beg > base && beg[-1] >= '0' && beg[-1] <= '9') --beg;
  size_t width = (size_t)(end - beg);
  if (width > 18) return 0;
  unsigned long long v = strtoull(beg, NULL, 10) + 1;
  int n = snprintf(out, outlen, "%.*s%0*llu%s", (int)(beg - path), path, (int)width, v, end);
  return n > 0 && (size_t)n < outlen;
}

/* With next_file: the writer has moved on when the next file of the run exists. */
static int next_file_exists(const na64_mon *m, char *next, size_t len)
{
  struct stat sb;
  return m->opt.next_file && mon_next_file_name(m->source, next, len) && stat(next, &sb) == 0;
}

/* Wait for the file to grow past `offset` (tail -f); 1 if it did, 2 if it did not but the next file
 * of the run appeared (this one is complete), 0 if stopped. */
static int wait_growth(na64_mon *m, uint64_t offset)
{
  char next[sizeof m->source];
  while (!atomic_load(&m->stop)) {
    struct stat sb;
    if (stat(m->source, &sb) == 0 && (uint64_t)sb.st_size > offset) return 1;
    if (next_file_exists(m, next, sizeof next)) {
      if (stat(m->source, &sb) == 0 && (uint64_t)sb.st_size > offset) return 1; /* last bytes first */
      return 2;
    }
    handle_reset(m); /* a reset asked for while waiting takes effect now */
    mon_publish(m, 0);
    sleep_s(0.1);
  }
  return 0;
}

static int open_at(na64_mon *m, uint64_t offset, na64_daq_reader **r, na64_err *err)
{
  na64_daq_reader_options ro = {0};
  ro.on_region = on_region;
  ro.user = m;
  int st = na64_daq_reader_open(m->source, &ro, r, err);
  if (st == 0 && offset > 0) {
    st = na64_daq_reader_seek(*r, offset, err);
    if (st == NA64_EEOF) st = 0;
  }
  return st;
}

static int run_filler(na64_mon *m, na64_err *err)
{
  int st = add_daq_items(m, err);
  if (st) return st;
  size_t cap = 64 * 16; /* every (port, channel) of a SADC block */
  na64_daq_sadc_waveform *wf = malloc(cap * sizeof *wf);
  if (!wf) return na64_err_set(err, NA64_ENOMEM, "monitor: out of memory for waveforms");
  na64_straw_digit_list_init(&m->digits);
  na64_daq_reader *r = NULL;
  uint64_t resume = 0; /* end of the last event read: where a followed file continues */
  st = open_at(m, 0, &r, err);
  double t0 = now_s(), last_pub = t0;
  while (st == 0 && !atomic_load(&m->stop)) {
    na64_daq_event ev;
    int rs = na64_daq_reader_next_event(r, &ev, err);
    if (rs == NA64_EEOF) {
      if (!m->opt.follow) break;
      /* wait for bytes beyond those the reader saw (a half-written event is not re-read until it grows) */
      na64_daq_reader_stats rs_end;
      na64_daq_reader_get_stats(r, &rs_end);
      uint64_t seen = rs_end.bytes_read > resume ? rs_end.bytes_read : resume;
      na64_daq_reader_close(r);
      r = NULL;
      int w = wait_growth(m, seen);
      if (w == 0) break;
      if (w == 2) { /* on to the next file of the run */
        char next[sizeof m->source];
        mon_next_file_name(m->source, next, sizeof next);
        snprintf(m->source, sizeof m->source, "%s", next);
        resume = 0;
        pthread_mutex_lock(&m->lock);
        m->status.files++;
        pthread_mutex_unlock(&m->lock);
      }
      st = open_at(m, resume, &r, err);
      continue;
    }
    if (rs) {
      st = rs;
      break;
    }
    if (ev.frame_offset == NA64_DAQ_NO_FRAME) resume = ev.offset + ev.size;
    if (!m->geom && !m->straw_item && m->events == 0) {
      st = setup_geometry(m, (int)ev.header.run, err);
      if (st) break;
    }
    if (ev.header.type == NA64_DAQ_PHYSICS_EVENT) {
      uint32_t b = na64_daq_header_burst(&ev.header);
      if (m->events > 0 && b != m->burst_seen) mon_publish_burst(m, b); /* before the new burst's first event */
      m->burst_seen = b;
    }
    fill_event(m, &ev, wf, cap);
    if (ev.header.type == NA64_DAQ_PHYSICS_EVENT) mon_event_stage(m, &ev);
    handle_reset(m);
    if (m->opt.rate_hz > 0) sleep_s(t0 + (double)m->events / m->opt.rate_hz - now_s());
    if ((m->events & 63) == 0 || m->opt.rate_hz > 0) {
      double t = now_s();
      if (t - last_pub >= m->opt.publish_s && mon_publish(m, 0)) last_pub = t; /* busy: retry in 64 events */
    }
  }
  if (r) {
    na64_daq_reader_stats s;
    na64_daq_reader_get_stats(r, &s);
    pthread_mutex_lock(&m->lock);
    m->status.bytes = s.bytes_read;
    pthread_mutex_unlock(&m->lock);
    na64_daq_reader_close(r);
  }
  free(wf);
  return st;
}

void *mon_filler_main(void *arg)
{
  na64_mon *m = arg;
  na64_err err;
  na64_err_clear(&err);
  pthread_mutex_lock(&m->lock);
  m->status.files = 1;
  pthread_mutex_unlock(&m->lock);
  int st = run_filler(m, &err);
  pthread_mutex_lock(&m->lock);
  if (st) {
    snprintf(m->error, sizeof m->error, "%s", err.msg);
    m->status.failed = 1;
  }
  pthread_mutex_unlock(&m->lock);
  mon_publish(m, 1);
  pthread_mutex_lock(&m->lock);
  m->status.finished = 1;
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

void mon_fill_release(na64_mon *m)
{
  na64_straw_digit_list_release(&m->digits);
  na64_straw_decoder_free(m->straw);
  na64_straw_reco_free(m->sreco); /* refers to the geometry: freed before it */
  na64_geom_free(m->geom);
  free(m->sadc);
  free(m->sadc_src);
  free(m->sadc_index);
  free(m->straw_item);
  free(m->calo_item);
  free(m->calo_sum);
  free(m->plane_hits);
  free(m->bands);
  free(m->band_src);
  m->band_src = NULL;
  m->sreco = NULL;
  m->straw = NULL;
  m->geom = NULL;
}
