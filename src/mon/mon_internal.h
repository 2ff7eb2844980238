/* Private parts of the monitor (src/mon): the item registry shared by the filler and the HTTP side. */
#ifndef NA64_MON_INTERNAL_H
#define NA64_MON_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "na64/geom.h"
#include "na64/io.h"
#include "na64/mon.h"
#include "na64/reco.h"

#define MON_MAX_ITEMS 2048   /* bounds the memory: at most this many histograms */
#define MON_PATH_LEN 160

typedef struct mon_item {
  char path[MON_PATH_LEN];   /* "folder/name" */
  na64_hist *live;           /* filled by the filler thread only */
  na64_hist *snap;           /* the published copy, read by the HTTP side under m->lock */
} mon_item;

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

  pthread_mutex_t lock;      /* guards items[i].snap, nitems_pub and status */
  mon_item items[MON_MAX_ITEMS];
  int nitems;                /* items created by the filler (filler-owned count) */
  int nitems_pub;            /* items visible to the HTTP side */
  na64_mon_status status;    /* published status */
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
  int *straw_item;           /* [g->nplanes] item index of the plane's hit map (drift time follows), -1 */
  int *calo_item;            /* [g->ndetectors] item index of the amplitude map (energy follows), -1 */
  double *calo_sum;          /* [g->ndetectors] energy sum of the current event, GeV */
  int ecal, hcal;            /* detector indices or -1 */
  int it_types, it_rate, it_size, it_regions, it_ecal_hcal, it_nstraw;
  uint64_t events, regions;
  double t_first;            /* time of the first event, s */
};

/* Registry (mon.c): add an item, publish copies (try-lock: never blocks the filler). */
int mon_item_add(na64_mon *m, const char *folder, na64_hist *h, na64_err *err);
void mon_publish(na64_mon *m, int force);

/* Filler (mon_fill.c). */
void *mon_filler_main(void *arg);
void mon_fill_release(na64_mon *m);

/* HTTP (mon_http.c). */
int mon_http_start(na64_mon *m, na64_err *err);
void mon_http_stop(na64_mon *m);

#endif
