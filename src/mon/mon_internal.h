/* Private parts of the monitor (src/mon): the item registry shared by the filler and the HTTP side. */
#ifndef NA64_MON_INTERNAL_H
#define NA64_MON_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "na64/geom.h"
#include "na64/daq.h"
#include "na64/io.h"
#include "na64/mon.h"
#include "na64/reco.h"

#define MON_MAX_ITEMS 2048   /* bounds the memory: at most this many histograms */
#define MON_PATH_LEN 160
#define MON_MAX_CELLS (4 << 20) /* and at most this many cells in all histograms together */
#define MON_RING 6              /* rolling window: cumulative checkpoints every rolling_s / MON_RING */
#define MON_EVENTS 16           /* events kept for the event display (one per publication) */
#define MON_EVENT_MAX (1 << 20) /* larger events are not kept for the display, bytes */
#define MON_WINDOWS 4           /* cumulative, burst, last_burst, rolling */
#define MON_CACHE_BYTES (64 << 20) /* at most this many bytes of cached JSON answers */
#define MON_HTTP_NICE 10        /* the HTTP thread's nice value above the filler's (Linux: per thread) */

/* A histogram's JSON as last served, for one window: valid while version == m->version. Owned by the
 * HTTP thread (libmicrohttpd's one internal thread), never touched by the filler. */
typedef struct mon_json_cache {
  char *json;
  size_t len;
  uint64_t version;
} mon_json_cache;

typedef struct mon_item {
  char path[MON_PATH_LEN];   /* "folder/name" */
  na64_hist *live;           /* filled by the filler thread only */
  na64_hist *snap;           /* the published copy, read by the HTTP side under m->lock */
  /* windows (under m->lock): cumulative copies at the start of the current and of the previous burst,
   * and at the rolling checkpoints; a window is snap (or mark_burst) minus one of them */
  na64_hist *mark_burst, *mark_prev, *ring[MON_RING];
  mon_json_cache cache[MON_WINDOWS]; /* HTTP thread only */
} mon_item;

/* A raw event kept for the event display (a copy of the DATE event, native byte order). */
typedef struct mon_event {
  na64_daq_header header;
  uint32_t *data;            /* malloc'ed, 4-byte aligned */
  size_t size, cap;
  uint32_t nsubevents;
  int swapped;
  uint64_t number;           /* events read by the monitor before it (0-based) */
} mon_event;

/* Expected band of a straw plane's efficiency and hits per event (alarms). */
typedef struct mon_band {
  double eff_lo, eff_hi, rate_lo, rate_hi;
} mon_band;
enum { MON_BAND_DEFAULT, MON_BAND_CONDITIONS, MON_BAND_FILE };

/* A calorimeter readout channel: SADC (source, port, channel) -> detector cell and section. */
typedef struct mon_sadc_chan {
  uint32_t src, port, channel;
  int cell, section;
  double gain, ped_even, ped_odd;
} mon_sadc_chan;

struct na64_mon {
  na64_mon_options opt;
  char source[4096], token[256], listen[64], cond_path[4096];
  struct MHD_Daemon *httpd;
  char *page, *jsroot;       /* web_dir/index.html and jsroot.min.js, read at start (NULL: absent) */
  size_t page_len, jsroot_len;
  int port;
  pthread_t filler;
  int filler_started;
  atomic_int stop;
  atomic_int reset_requested;

  pthread_mutex_t lock;      /* guards items[i].snap, nitems_pub, status, version */
  uint64_t version;          /* + 1 whenever a snapshot or window mark changes (publication, reset) */
  atomic_ullong requests;    /* HTTP requests (counted without the lock) */
  size_t cache_bytes;        /* HTTP thread: bytes in all items' JSON caches */
  mon_item items[MON_MAX_ITEMS];
  int nitems;                /* items created by the filler (filler-owned count) */
  int nitems_pub;            /* items visible to the HTTP side */
  na64_mon_status status;    /* published status */
  int ring_head, ring_n;     /* next slot, filled slots of the rolling checkpoints */
  double ring_t[MON_RING];   /* monotonic time of each checkpoint, s */
  double rolling_s;          /* rolling window length, s */
  uint32_t burst_seen;       /* filler: burst of the last physics event */
  uint32_t burst_cur;        /* burst of the current burst mark */
  int burst_marks;           /* 0, 1 (current burst open), 2 (also a previous burst) */
  mon_event kept[MON_EVENTS];
  int ev_head, ev_n;
  mon_event stage;           /* filler: a copy of the last physics event (kept at the next publication) */
  int stage_fresh;
  na64_straw_reco *sreco;    /* straw reconstruction for the event display (const use, under m->lock) */
  mon_band band_default;     /* alarms: the band of every plane unless the config names it */
  na64_card *alarm_card;     /* the alarm configuration (NULL: defaults) */
  mon_band band_file;        /* the --alarms file's band of every plane (NaN: key absent) */
  mon_band *bands;           /* [g->nplanes] */
  int *band_src;             /* [g->nplanes] MON_BAND_* where the plane's band comes from (last override) */
  long alarm_min_events;     /* fewer events in the window: no alarm judged */
  long cells;                /* cells in all histograms */
  char error[NA64_ERR_MSG_LEN];

  /* filler-owned state */
  na64_geom *geom;
  na64_straw_decoder *straw;
  na64_straw_digit_list digits;
  mon_sadc_chan *sadc;
  size_t nsadc;
  uint32_t *sadc_src;        /* [nsadc_src] distinct SADC source ids */
  int32_t *sadc_index;       /* [nsadc_src * 1024]: index in sadc of (port * 64 + channel), or -1 */
  int nsadc_src;
  int *straw_item;           /* [g->nplanes] item index of the plane's hit map (drift time, hits per event follow), -1 */
  int *plane_hits;           /* [g->nplanes] hits of the plane in the current event */
  int *calo_item;            /* [g->ndetectors] item index of the amplitude map (energy follows), -1 */
  double *calo_sum;          /* [g->ndetectors] energy sum of the current event, GeV */
  int ecal, hcal;            /* detector indices or -1 */
  int it_types, it_rate, it_size, it_regions, it_ecal_hcal, it_nstraw;
  int nraw;                  /* raw source folders (F1/srcN, SADC/srcN) created */
  uint64_t events, regions;
  uint64_t physics; /* physics events read: the event display numbers events by it (SOR/EOR not counted) */
  double t_first;            /* time of the first event, s */
};

/* Registry (mon.c): add an item, publish copies (try-lock: never blocks the filler). */
int mon_item_add(na64_mon *m, const char *folder, na64_hist *h, na64_err *err);
int mon_publish(na64_mon *m, int force); /* 1 if published, 0 if the lock was busy */
/* Publish (waiting for the lock) and start a new burst window: the marks move on. */
void mon_publish_burst(na64_mon *m, uint32_t burst);
/* Reset every histogram and window (lock held; live histograms only when the filler is not running
 * or is the caller). */
void mon_reset_locked(na64_mon *m, int live);
/* A window of item i (lock held): "" or NULL cumulative, "burst", "last_burst", "rolling"; a new
 * histogram to free, or NULL with *bad = 1 for an unknown window name. */
na64_hist *mon_window(na64_mon *m, int i, const char *window, int *bad);
/* 0 cumulative ("" or NULL), 1 burst, 2 last_burst, 3 rolling; -1 for any other name. */
int mon_window_index(const char *window);
/* Monotonic time, s. */
double mon_now(void);

/* Filler (mon_fill.c). */
void *mon_filler_main(void *arg);
/* The next file of a run: the last number in the file name + 1, same width; 0 if none. */
int mon_next_file_name(const char *path, char *out, size_t outlen);
void mon_fill_release(na64_mon *m);

/* Calorimeter readout (mon_fill.c, read-only after setup). */
const mon_sadc_chan *mon_sadc_find(const na64_mon *m, uint32_t src, uint32_t port, uint32_t ch);
double mon_wf_amplitude(const na64_daq_sadc_waveform *w, double ped_even, double ped_odd);

/* Event display and alarms (mon_event.c; lock held). */
/* Copy kept event `number` (-1: the last) and the list of kept numbers into *copy (lock held); 0 if
 * not kept. The copy is then drawn without the lock (mon_event_json). */
int mon_event_take(na64_mon *m, long number, mon_event *copy, uint64_t kept[MON_EVENTS], int *nkept);
char *mon_event_json(na64_mon *m, const mon_event *k, const uint64_t *kept, int nkept, int geometry, size_t *len);
char *mon_alarms_json(na64_mon *m, size_t *len);
int mon_alarms_load(na64_mon *m, const char *path, na64_err *err);
int mon_alarms_setup(na64_mon *m, int run, na64_err *err);
void mon_event_stage(na64_mon *m, const na64_daq_event *ev); /* filler, every physics event */
void mon_event_keep(na64_mon *m);
void mon_event_release(na64_mon *m);

/* HTTP (mon_http.c). */
int mon_http_start(na64_mon *m, na64_err *err);
void mon_http_stop(na64_mon *m);

#endif
