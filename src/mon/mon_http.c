/* The monitor's HTTP side (GNU libmicrohttpd, one internal polling thread): the ROOT THttpServer
 * protocol as JSROOT requests it (h.json for the hierarchy, <item>/root.json per object,
 * <command>/cmd.json for commands; root.cern/doc/master/classTHttpServer.html), and nothing else.
 * Every answer is built from the published snapshots: the small ones under the registry mutex, a
 * histogram from a copy taken under it and serialised after (and kept, per item and window, until the
 * next publication), the event display from a copy of the kept event. The filler only try-locks the
 * mutex, so a request never stalls the decoding, and a flood of requests does not starve the
 * publications. The HTTP thread runs niced below the filler. */
#define _GNU_SOURCE /* syscall(SYS_gettid) */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mon/mon_internal.h"

#define URL_MAX 300

/* Only our own names: [A-Za-z0-9_./-], no "..", no "//", starting with '/'. */
static int url_ok(const char *url)
{
  size_t n = strlen(url);
  if (n == 0 || n > URL_MAX || url[0] != '/') return 0;
  if (strstr(url, "..") || strstr(url, "//")) return 0;
  for (const char *p = url; *p; ++p)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '-' || *p == '.' || *p == '/'))
      return 0;
  return 1;
}

/* Queue a generated answer (never cached by the client: it changes at every publication). */
static enum MHD_Result queue_dynamic(struct MHD_Connection *c, unsigned code, const char *type, struct MHD_Response *r)
{
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  enum MHD_Result ret = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, char *body, size_t len)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(body);
    return MHD_NO;
  }
  return queue_dynamic(c, code, type, r);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
  char *b = strdup(text);
  return b ? reply(c, code, "text/plain", b, strlen(b)) : MHD_NO;
}

/* Must be called with m->lock held. The folders in order of first appearance, each with its items. */
static char *hierarchy_json(na64_mon *m, size_t *len)
{
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  if (!f) return NULL;
  fputs("{\"_name\":\"na64\",\"_kind\":\"ROOT.Session\",\"_title\":\"na64 online monitor\",\"_childs\":[", f);
  int nfold = 0;
  for (int i = 0; i < m->nitems_pub; ++i) {
    const char *pi = m->items[i].path, *si = strchr(pi, '/');
    size_t fl = (size_t)(si - pi);
    int seen = 0;
    for (int j = 0; j < i && !seen; ++j)
      seen = strncmp(m->items[j].path, pi, fl + 1) == 0;
    if (seen) continue;
    fprintf(f, "%s{\"_name\":\"%.*s\",\"_kind\":\"ROOT.TFolder\",\"_childs\":[", nfold++ ? "," : "", (int)fl, pi);
    int nch = 0;
    for (int j = i; j < m->nitems_pub; ++j) {
      if (strncmp(m->items[j].path, pi, fl + 1) != 0) continue;
      const na64_hist *h = m->items[j].snap;
      fprintf(f, "%s{\"_name\":\"%s\",\"_kind\":\"ROOT.%s\",\"_title\":\"%s\"}", nch++ ? "," : "", na64_hist_name(h),
              na64_hist_dim(h) == 2 ? "TH2D" : "TH1D", na64_hist_name(h));
    }
    fputs("]}", f);
  }
  if (m->opt.token)
    fprintf(f, "%s{\"_name\":\"Reset\",\"_kind\":\"Command\",\"_title\":\"reset every histogram (token)\"}",
            nfold ? "," : "");
  fputs("]}", f);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static char *status_json(na64_mon *m, size_t *len)
{
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  if (!f) return NULL;
  const na64_mon_status *s = &m->status;
  fprintf(f,
          "{\"events\":%llu,\"bytes\":%llu,\"regions\":%llu,\"published\":%llu,\"requests\":%llu,\"geometry\":%s,"
          "\"finished\":%s,\"failed\":%s,\"items\":%d,\"bursts\":%llu,\"burst\":%u,\"files\":%llu,"
          "\"rolling_s\":%g,\"read_only\":%s,\"filler_cpu_s\":%.6g}",
          (unsigned long long)s->events, (unsigned long long)s->bytes, (unsigned long long)s->regions,
          (unsigned long long)s->published, (unsigned long long)atomic_load(&m->requests), s->geometry ? "true" : "false",
          s->finished ? "true" : "false", s->failed ? "true" : "false", m->nitems_pub, (unsigned long long)s->bursts,
          (unsigned)s->burst, (unsigned long long)s->files, m->rolling_s, m->opt.token ? "false" : "true", s->filler_cpu_s);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* A plain page listing the items (at / when the JSROOT page is not installed; always at /list.html). */
static char *index_html(na64_mon *m, size_t *len)
{
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  if (!f) return NULL;
  fputs("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>na64 monitor</title></head><body>"
        "<h1>na64 online monitor</h1><p><a href=\"h.json\">h.json</a> <a href=\"status.json\">status.json</a></p><ul>",
        f);
  for (int i = 0; i < m->nitems_pub; ++i)
    fprintf(f, "<li><a href=\"%s/root.json\">%s</a></li>", m->items[i].path, m->items[i].path);
  fputs("</ul></body></html>", f);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* Constant-time comparison so that the token cannot be guessed byte by byte from response times. */
static int token_ok(const na64_mon *m, const char *given)
{
  if (!m->opt.token || !given) return 0;
  size_t a = strlen(m->token), b = strlen(given);
  unsigned diff = (unsigned)(a ^ b);
  for (size_t i = 0; i < a; ++i) diff |= (unsigned char)m->token[i] ^ (unsigned char)(i < b ? given[i] : 0);
  return diff == 0;
}

static enum MHD_Result handle_reset(na64_mon *m, struct MHD_Connection *c)
{
  if (!m->opt.token) return reply_text(c, MHD_HTTP_FORBIDDEN, "read-only monitor (started without --token)\n");
  const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
  if (!t) t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-NA64-Token");
  if (!token_ok(m, t)) return reply_text(c, MHD_HTTP_FORBIDDEN, "wrong or missing token\n");
  pthread_mutex_lock(&m->lock);
  if (m->status.finished) { /* the filler has exited: nobody else touches the histograms */
    mon_reset_locked(m, 1);
  } else {
    atomic_store(&m->reset_requested, 1); /* the filler resets its histograms and republishes */
  }
  pthread_mutex_unlock(&m->lock);
  char *b = strdup("true");
  return b ? reply(c, MHD_HTTP_OK, "application/json", b, 4) : MHD_NO;
}

/* An event number from ?n= (digits only), -1 for the last event, -2 if malformed. */
static long event_arg(const char *n)
{
  if (!n || !*n) return -1;
  if (strlen(n) > 15 || strspn(n, "0123456789") != strlen(n)) return -2;
  return strtol(n, NULL, 10);
}

/* The histogram answer of item i over a window: the cached JSON when nothing was published since it
 * was built, else a copy of the window taken under the lock and serialised without it (the filler
 * try-locks for its publications: the lock is held for a copy, never for a serialisation). The
 * answer's bytes are copied by libmicrohttpd (*copy = 1) when they come from the cache. */
static char *histogram_json(na64_mon *m, int i, int w, const char *window, size_t *len, unsigned *code, int *copy)
{
  mon_json_cache *c = &m->items[i].cache[w]; /* HTTP thread only */
  int bad = 0;
  pthread_mutex_lock(&m->lock);
  uint64_t version = m->version;
  na64_hist *h = c->json && c->version == version ? NULL : mon_window(m, i, window, &bad);
  pthread_mutex_unlock(&m->lock);
  if (c->json && c->version == version) {
    *len = c->len;
    *copy = 1;
    return c->json;
  }
  char *json = NULL;
  na64_err err;
  if (!h || na64_hist_to_json(h, &json, len, &err) != 0) {
    na64_hist_free(h);
    *code = MHD_HTTP_INTERNAL_SERVER_ERROR;
    return NULL;
  }
  na64_hist_free(h);
  if (m->cache_bytes - c->len + *len > MON_CACHE_BYTES) return json; /* cache full: served, not kept */
  m->cache_bytes = m->cache_bytes - c->len + *len;
  free(c->json);
  c->json = json;
  c->len = *len;
  c->version = version;
  *copy = 1;
  return json;
}

/* The event display: the kept event copied under the lock, decoded and drawn without it. */
static char *event_answer(na64_mon *m, struct MHD_Connection *c, size_t *len, unsigned *code)
{
  long n = event_arg(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "n"));
  if (n == -2) {
    *code = MHD_HTTP_BAD_REQUEST;
    return NULL;
  }
  mon_event ev = {0};
  uint64_t kept[MON_EVENTS];
  int nkept = 0;
  pthread_mutex_lock(&m->lock);
  int found = mon_event_take(m, n, &ev, kept, &nkept);
  int geometry = m->status.geometry;
  pthread_mutex_unlock(&m->lock);
  char *b = found ? mon_event_json(m, &ev, kept, nkept, geometry, len) : NULL;
  free(ev.data);
  if (!b) *code = found ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_NOT_FOUND;
  return b;
}

/* Index of the item named by url "/<folder>/<name>/root.json" (lock held), -1 if none. */
static int item_of_url(na64_mon *m, const char *url)
{
  size_t n = strlen(url);
  static const char suffix[] = "/root.json";
  if (n <= sizeof suffix || strcmp(url + n - (sizeof suffix - 1), suffix) != 0) return -1;
  size_t il = n - (sizeof suffix - 1) - 1;
  for (int i = 0; i < m->nitems_pub; ++i)
    if (strlen(m->items[i].path) == il && !strncmp(m->items[i].path, url + 1, il)) return i;
  return -1;
}

/* The body for a GET of `url`, or NULL with *code set; *copy = 1 if the body is not ours to free. */
static char *route(na64_mon *m, struct MHD_Connection *c, const char *url, size_t *len, const char **type,
                   unsigned *code, int *copy)
{
  *type = "application/json";
  *code = MHD_HTTP_OK;
  *copy = 0;
  if (!strcmp(url, "/event.json")) return event_answer(m, c, len, code);
  char *b = NULL;
  int item = -1;
  pthread_mutex_lock(&m->lock); /* the small answers are built under the lock */
  if (!strcmp(url, "/h.json")) {
    b = hierarchy_json(m, len);
  } else if (!strcmp(url, "/status.json")) {
    b = status_json(m, len);
  } else if (!strcmp(url, "/alarms.json")) {
    b = mon_alarms_json(m, len);
  } else if (!strcmp(url, "/list.html") || ((!strcmp(url, "/") || !strcmp(url, "/index.html")) && !m->page)) {
    *type = "text/html; charset=utf-8";
    b = index_html(m, len);
  } else {
    item = item_of_url(m, url); /* items are only ever added: the index stays valid */
  }
  pthread_mutex_unlock(&m->lock);
  if (b) return b;
  if (item < 0) {
    *code = MHD_HTTP_NOT_FOUND;
    return NULL;
  }
  const char *window = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "window");
  int w = mon_window_index(window);
  if (w < 0) {
    *code = MHD_HTTP_BAD_REQUEST;
    return NULL;
  }
  return histogram_json(m, item, w, window, len, code, copy);
}

/* A cached answer: libmicrohttpd copies the bytes (the cache may be rebuilt before they are sent). */
static enum MHD_Result reply_copy(struct MHD_Connection *c, const char *type, const char *body, size_t len)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  return r ? queue_dynamic(c, MHD_HTTP_OK, type, r) : MHD_NO;
}

/* The HTTP thread runs at a lower priority than the filler (nice + MON_HTTP_NICE): on a busy machine
 * the scheduler gives the decoding the CPU first and a flood of requests waits instead. Linux keeps
 * the nice value per thread (setpriority(2), NOTES); elsewhere this lowers the whole process, which
 * changes nothing between its threads. Done once, on the first request, from the thread itself. */
static void lower_priority(void)
{
  static _Thread_local int done;
  if (done) return;
  done = 1;
#ifdef __linux__
  pid_t tid = (pid_t)syscall(SYS_gettid);
  errno = 0;
  int nice_now = getpriority(PRIO_PROCESS, (id_t)tid);
  if (errno == 0 && nice_now + MON_HTTP_NICE <= 19) setpriority(PRIO_PROCESS, (id_t)tid, nice_now + MON_HTTP_NICE);
#endif
}

/* The page files, served from memory (read once at start, constant until stop). */
static enum MHD_Result reply_static(struct MHD_Connection *c, const char *type, char *data, size_t len)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
  (void)version;
  (void)upload;
  (void)upload_size;
  (void)con_cls;
  na64_mon *m = cls;
  lower_priority();
  atomic_fetch_add(&m->requests, 1);
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
    return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
  if (!url_ok(url)) return reply_text(c, MHD_HTTP_BAD_REQUEST, "bad path\n");
  if (!strcmp(url, "/Reset/cmd.json")) return handle_reset(m, c);
  if (m->page && (!strcmp(url, "/") || !strcmp(url, "/index.html")))
    return reply_static(c, "text/html; charset=utf-8", m->page, m->page_len);
  if (m->jsroot && !strcmp(url, "/jsroot.min.js"))
    return reply_static(c, "application/javascript", m->jsroot, m->jsroot_len);
  size_t len = 0;
  const char *type;
  unsigned code;
  int copy = 0;
  char *body = route(m, c, url, &len, &type, &code, &copy);
  if (body && copy) return reply_copy(c, type, body, len);
  if (!body)
    return reply_text(c, code,
                      code == MHD_HTTP_NOT_FOUND     ? "no such item\n"
                      : code == MHD_HTTP_BAD_REQUEST ? "bad argument\n"
                                                     : "internal error\n");
  return reply(c, code, type, body, len);
}

/* No percent-decoding: our names need none, and a decoded "%00" or "%2e%2e" would let a URL that
 * is not one of ours look like one (libmicrohttpd hands the handler a NUL-terminated string). A '%'
 * left in place fails url_ok. Tokens therefore travel as they are (docs/monitor.md). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
  (void)cls;
  (void)c;
  return strlen(s);
}

static int parse_listen(const char *s, struct sockaddr_in *sa, na64_err *err)
{
  char host[64];
  const char *colon = strrchr(s, ':');
  if (!colon || (size_t)(colon - s) >= sizeof host)
    return na64_err_set(err, NA64_EINVAL, "monitor: listen address '%s' is not ADDR:PORT", s);
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1 || port < 0 || port > 65535)
    return na64_err_set(err, NA64_EINVAL, "monitor: port '%s' not in 0..65535", colon + 1);
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
    return na64_err_set(err, NA64_EINVAL, "monitor: '%s' is not a numeric IPv4 address", host);
  return 0;
}

/* Read dir/name whole (at most 32 MiB); NULL if absent or unreadable. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n > 0 && n <= (32L << 20) && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n))) {
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  if (buf) *len = (size_t)n;
  return buf;
}

static void load_page(na64_mon *m)
{
  if (!m->opt.web_dir || !*m->opt.web_dir) return;
  m->page = slurp(m->opt.web_dir, "index.html", &m->page_len);
  m->jsroot = slurp(m->opt.web_dir, "jsroot.min.js", &m->jsroot_len);
  if (!m->page || !m->jsroot) { /* the page is useless without JSROOT: the plain list instead */
    free(m->page);
    free(m->jsroot);
    m->page = m->jsroot = NULL;
  }
  m->opt.web_dir = NULL; /* the caller's string is not kept */
}

int mon_http_start(na64_mon *m, na64_err *err)
{
  load_page(m);
  struct sockaddr_in sa;
  int st = parse_listen(m->listen, &sa, err);
  if (st) return st;
  m->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, on_request, m,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)m->opt.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_UNESCAPE_CALLBACK,
                              no_unescape, NULL, MHD_OPTION_END);
  if (!m->httpd) return na64_err_set(err, NA64_EIO, "monitor: cannot listen on %s (in use or not allowed)", m->listen);
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(m->httpd, MHD_DAEMON_INFO_BIND_PORT);
  m->port = di ? (int)di->port : (int)ntohs(sa.sin_port);
  return 0;
}

void mon_http_stop(na64_mon *m)
{
  if (m->httpd) MHD_stop_daemon(m->httpd);
  m->httpd = NULL;
  free(m->page);
  free(m->jsroot);
  m->page = m->jsroot = NULL;
}
