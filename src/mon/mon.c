/* The monitor's lifecycle and its item registry: the filler owns the live histograms; publication
 * copies them into snapshots under a mutex that the filler only try-locks, so a slow HTTP client
 * can delay a publication but never the decoding (docs/monitor.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mon/mon_internal.h"

void na64_mon_options_default(na64_mon_options *o)
{
  memset(o, 0, sizeof *o);
  o->listen = "127.0.0.1:8064";
  o->publish_s = 0.2;
  o->max_connections = 32;
  o->rolling_s = 60.0;
}

double mon_now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void item_free(mon_item *it)
{
  na64_hist_free(it->live);
  na64_hist_free(it->snap);
  na64_hist_free(it->mark_burst);
  na64_hist_free(it->mark_prev);
  for (int k = 0; k < MON_RING; ++k) na64_hist_free(it->ring[k]);
  for (int k = 0; k < MON_WINDOWS; ++k) free(it->cache[k].json);
  memset(it, 0, sizeof *it);
}

/* The published copy and the window marks of a new item: empty clones (an item created late had no
 * fills before, so its earlier marks are empty). */
static int item_clones(mon_item *it, na64_hist *h, na64_err *err)
{
  int st = na64_hist_clone(h, &it->snap, err);
  if (st == 0) st = na64_hist_clone(h, &it->mark_burst, err);
  if (st == 0) st = na64_hist_clone(h, &it->mark_prev, err);
  for (int k = 0; k < MON_RING && st == 0; ++k) st = na64_hist_clone(h, &it->ring[k], err);
  return st;
}

int mon_item_add(na64_mon *m, const char *folder, na64_hist *h, na64_err *err)
{
  if (!h) return NA64_EINVAL;
  if (m->nitems >= MON_MAX_ITEMS) {
    na64_hist_free(h);
    return na64_err_set(err, NA64_ERANGE, "monitor: more than %d histograms", MON_MAX_ITEMS);
  }
  if (m->cells + na64_hist_ncells(h) > MON_MAX_CELLS) {
    na64_hist_free(h);
    return na64_err_set(err, NA64_ERANGE, "monitor: histogram %s/%s would exceed %d cells in all", folder,
                        na64_hist_name(h), MON_MAX_CELLS);
  }
  mon_item *it = &m->items[m->nitems];
  int n = snprintf(it->path, sizeof it->path, "%s/%s", folder, na64_hist_name(h));
  if (n < 0 || (size_t)n >= sizeof it->path) {
    na64_hist_free(h);
    return na64_err_set(err, NA64_EINVAL, "monitor: item path %s/%s too long", folder, na64_hist_name(h));
  }
  it->live = h;
  int st = item_clones(it, h, err);
  if (st) {
    item_free(it);
    return st;
  }
  m->cells += na64_hist_ncells(h);
  return m->nitems++;
}

/* A rolling checkpoint every rolling_s / MON_RING seconds: the window spans (1 - 1/MON_RING) to 1
 * times rolling_s, or everything since the start while shorter. */
static void checkpoint_locked(na64_mon *m)
{
  double now = mon_now();
  int last = (m->ring_head + MON_RING - 1) % MON_RING;
  if (m->ring_n > 0 && now - m->ring_t[last] < m->rolling_s / MON_RING) return;
  na64_err err;
  for (int i = 0; i < m->nitems; ++i) na64_hist_copy(m->items[i].ring[m->ring_head], m->items[i].snap, &err);
  m->ring_t[m->ring_head] = now;
  m->ring_head = (m->ring_head + 1) % MON_RING;
  if (m->ring_n < MON_RING) m->ring_n++;
}

static void publish_locked(na64_mon *m)
{
  na64_err err;
  for (int i = 0; i < m->nitems; ++i) na64_hist_copy(m->items[i].snap, m->items[i].live, &err);
  m->nitems_pub = m->nitems;
  m->status.events = m->events;
  m->status.regions = m->regions;
  m->status.geometry = m->geom != NULL;
  m->status.published++;
  m->version++;
  struct timespec cpu;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) /* publications run on the filler thread */
    m->status.filler_cpu_s = (double)cpu.tv_sec + 1e-9 * (double)cpu.tv_nsec;
  checkpoint_locked(m);
  mon_event_keep(m);
}

int mon_publish(na64_mon *m, int force)
{
  if (force) {
    pthread_mutex_lock(&m->lock);
  } else if (pthread_mutex_trylock(&m->lock) != 0) {
    return 0; /* the HTTP side is taking a copy: publish next time */
  }
  publish_locked(m);
  pthread_mutex_unlock(&m->lock);
  return 1;
}

void mon_publish_burst(na64_mon *m, uint32_t burst)
{
  pthread_mutex_lock(&m->lock); /* once per burst: the wait is at most one answer being built */
  publish_locked(m);
  na64_err err;
  for (int i = 0; i < m->nitems; ++i) {
    na64_hist *t = m->items[i].mark_prev; /* prev <- burst <- snap */
    m->items[i].mark_prev = m->items[i].mark_burst;
    m->items[i].mark_burst = t;
    na64_hist_copy(t, m->items[i].snap, &err);
  }
  if (m->burst_marks < 2) m->burst_marks++;
  m->burst_cur = burst;
  m->status.bursts++;
  m->version++;
  m->status.burst = burst;
  pthread_mutex_unlock(&m->lock);
}

void mon_reset_locked(na64_mon *m, int live)
{
  for (int i = 0; i < m->nitems; ++i) {
    mon_item *it = &m->items[i];
    if (live) na64_hist_reset(it->live);
    na64_hist_reset(it->snap);
    na64_hist_reset(it->mark_burst);
    na64_hist_reset(it->mark_prev);
    for (int k = 0; k < MON_RING; ++k) na64_hist_reset(it->ring[k]);
  }
  m->ring_n = 1; /* the empty state now is the first checkpoint */
  m->ring_head = 1 % MON_RING;
  m->ring_t[0] = mon_now();
  m->burst_marks = m->burst_marks ? 1 : 0;
  m->version++;
}

int mon_window_index(const char *window)
{
  if (!window || !*window) return 0;
  static const char *names[] = {"burst", "last_burst", "rolling"};
  for (int k = 0; k < 3; ++k)
    if (!strcmp(window, names[k])) return k + 1;
  return -1;
}

na64_hist *mon_window(na64_mon *m, int i, const char *window, int *bad)
{
  *bad = 0;
  const mon_item *it = &m->items[i];
  const na64_hist *from = it->snap, *minus = NULL;
  if (!window || !*window) {
  } else if (!strcmp(window, "burst")) {
    minus = it->mark_burst; /* before the first burst change: everything so far */
    if (m->burst_marks == 0) minus = NULL;
  } else if (!strcmp(window, "last_burst")) {
    from = it->mark_burst;
    minus = it->mark_prev;
    if (m->burst_marks < 2) minus = from; /* no complete burst yet: empty */
  } else if (!strcmp(window, "rolling")) {
    minus = it->ring[m->ring_n < MON_RING ? 0 : m->ring_head];
  } else {
    *bad = 1;
    return NULL;
  }
  na64_hist *h = NULL;
  na64_err err;
  if (na64_hist_clone(from, &h, &err) != 0) return NULL;
  na64_hist_copy(h, from, &err);
  if (minus) na64_hist_subtract(h, minus, &err);
  return h;
}

static int parse_options(na64_mon *m, const na64_mon_options *o, na64_err *err)
{
  m->opt = *o;
  if (!o->source || !*o->source) return na64_err_set(err, NA64_EINVAL, "monitor: no source file");
  if (snprintf(m->source, sizeof m->source, "%s", o->source) >= (int)sizeof m->source)
    return na64_err_set(err, NA64_EINVAL, "monitor: source path too long");
  if (snprintf(m->listen, sizeof m->listen, "%s", o->listen ? o->listen : "127.0.0.1:8064") >= (int)sizeof m->listen)
    return na64_err_set(err, NA64_EINVAL, "monitor: listen address '%s' too long", o->listen);
  if (o->token && snprintf(m->token, sizeof m->token, "%s", o->token) >= (int)sizeof m->token)
    return na64_err_set(err, NA64_EINVAL, "monitor: token longer than %zu characters", sizeof m->token - 1);
  if (o->cond_path) snprintf(m->cond_path, sizeof m->cond_path, "%s", o->cond_path);
  if (!(o->rate_hz >= 0.0) || o->rate_hz > 1e9)
    return na64_err_set(err, NA64_EINVAL, "monitor: rate %g Hz not in [0, 1e9]", o->rate_hz);
  if (!(m->opt.publish_s > 0.0)) m->opt.publish_s = 0.2;
  if (!(o->rolling_s >= 0.0) || o->rolling_s > 86400.0)
    return na64_err_set(err, NA64_EINVAL, "monitor: rolling window %g s not in [0, 86400]", o->rolling_s);
  m->rolling_s = o->rolling_s > 0.0 ? o->rolling_s : 60.0;
  m->opt.alarms = NULL; /* loaded below, not kept */
  if (m->opt.max_connections == 0) m->opt.max_connections = 32;
  m->opt.source = m->source;
  m->opt.listen = m->listen;
  m->opt.token = m->token[0] ? m->token : NULL;
  m->opt.cond_path = m->cond_path[0] ? m->cond_path : NULL;
  return 0;
}

int na64_mon_start(const na64_mon_options *o, na64_mon **out, na64_err *err)
{
  if (!o || !out) return na64_err_set(err, NA64_EINVAL, "na64_mon_start: NULL argument");
  *out = NULL;
  na64_mon *m = calloc(1, sizeof *m);
  if (!m) return na64_err_set(err, NA64_ENOMEM, "monitor: out of memory");
  pthread_mutex_init(&m->lock, NULL);
  m->ecal = m->hcal = -1;
  m->ring_n = 1; /* the empty histograms at the start are the first rolling checkpoint */
  m->ring_head = 1 % MON_RING;
  m->ring_t[0] = mon_now();
  int st = parse_options(m, o, err);
  if (st == 0) st = mon_alarms_load(m, o->alarms, err);
  if (st == 0) st = mon_http_start(m, err);
  if (st == 0) {
    if (pthread_create(&m->filler, NULL, mon_filler_main, m) != 0)
      st = na64_err_set(err, NA64_ENOMEM, "monitor: cannot start the filler thread");
    else
      m->filler_started = 1;
  }
  if (st) {
    na64_mon_stop(m);
    return st;
  }
  *out = m;
  return 0;
}

int na64_mon_port(const na64_mon *m) { return m ? m->port : -1; }

void na64_mon_get_status(na64_mon *m, na64_mon_status *s)
{
  pthread_mutex_lock(&m->lock);
  *s = m->status;
  pthread_mutex_unlock(&m->lock);
  s->requests = atomic_load(&m->requests); /* counted by the HTTP side without the lock (mon_http.c) */
}

const char *na64_mon_error(const na64_mon *m) { return m ? m->error : ""; }

void na64_mon_stop(na64_mon *m)
{
  if (!m) return;
  atomic_store(&m->stop, 1);
  if (m->filler_started) pthread_join(m->filler, NULL);
  mon_http_stop(m);
  mon_fill_release(m);
  for (int i = 0; i < m->nitems; ++i) item_free(&m->items[i]);
  mon_event_release(m);
  pthread_mutex_destroy(&m->lock);
  free(m);
}
