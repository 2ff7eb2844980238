/* The monitor's lifecycle and its item registry: the filler owns the live histograms; publication
 * copies them into snapshots under a mutex that the filler only try-locks, so a slow HTTP client
 * can delay a publication but never the decoding (docs/monitor.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mon/mon_internal.h"

void na64_mon_options_default(na64_mon_options *o)
{
  memset(o, 0, sizeof *o);
  o->listen = "127.0.0.1:8064";
  o->publish_s = 0.2;
  o->max_connections = 32;
}

int mon_item_add(na64_mon *m, const char *folder, na64_hist *h, na64_err *err)
{
  if (!h) return NA64_EINVAL;
  if (m->nitems >= MON_MAX_ITEMS) {
    na64_hist_free(h);
    return na64_err_set(err, NA64_ERANGE, "monitor: more than %d histograms", MON_MAX_ITEMS);
  }
  mon_item *it = &m->items[m->nitems];
  int n = snprintf(it->path, sizeof it->path, "%s/%s", folder, na64_hist_name(h));
  if (n < 0 || (size_t)n >= sizeof it->path) {
    na64_hist_free(h);
    return na64_err_set(err, NA64_EINVAL, "monitor: item path %s/%s too long", folder, na64_hist_name(h));
  }
  int st = na64_hist_clone(h, &it->snap, err);
  if (st) {
    na64_hist_free(h);
    return st;
  }
  it->live = h;
  return m->nitems++;
}

void mon_publish(na64_mon *m, int force)
{
  if (force) {
    pthread_mutex_lock(&m->lock);
  } else if (pthread_mutex_trylock(&m->lock) != 0) {
    return; /* the HTTP side is reading: publish next time */
  }
  na64_err err;
  for (int i = 0; i < m->nitems; ++i) na64_hist_copy(m->items[i].snap, m->items[i].live, &err);
  m->nitems_pub = m->nitems;
  m->status.events = m->events;
  m->status.regions = m->regions;
  m->status.geometry = m->geom != NULL;
  m->status.published++;
  pthread_mutex_unlock(&m->lock);
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
  int st = parse_options(m, o, err);
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
}

const char *na64_mon_error(const na64_mon *m) { return m ? m->error : ""; }

void na64_mon_stop(na64_mon *m)
{
  if (!m) return;
  atomic_store(&m->stop, 1);
  if (m->filler_started) pthread_join(m->filler, NULL);
  mon_http_stop(m);
  mon_fill_release(m);
  for (int i = 0; i < m->nitems; ++i) {
    na64_hist_free(m->items[i].live);
    na64_hist_free(m->items[i].snap);
  }
  pthread_mutex_destroy(&m->lock);
  free(m);
}
