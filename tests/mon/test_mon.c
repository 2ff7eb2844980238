/* The online monitor (src/mon) end to end on 127.0.0.1 with an ephemeral port: a DATE file written
 * here with the daq writer (known numbers of events, F1 hits and SADC waveforms) is served; h.json
 * and root.json are fetched over raw sockets and parsed by python3's json module; entries are
 * compared with the numbers written. Safety: path traversal, other methods, bad tokens, garbage,
 * half requests and clients that disconnect leave the server answering. Following a growing file
 * (tail -f), with an event appended in two halves. And, with the geometry of the conditions
 * database, a `na64 sim` file: the calorimeter energy sums count the physics events that
 * `na64 dump --summary` counts. All loops are bounded. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "na64/cond.h"
#include "na64/daq.h"
#include "na64/mon.h"
#include "support/na64_test.h"

#define tmpdir na64_test_tmpdir
#define NEV 300
#define F1_SRC 700u
#define SADC_SRC 800u

static void sleep_ms(int ms)
{
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static int connect_local(int port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

/* Send raw bytes, read the answer until the server closes (HTTP/1.0); returns the status code (0 if
 * none) and the body (malloc'ed) in *body. At most 16 MiB are read. */
static int http_raw(int port, const char *req, size_t reqlen, char **body)
{
  int fd = connect_local(port);
  assert_int_equal(send(fd, req, reqlen, MSG_NOSIGNAL), (ssize_t)reqlen);
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  assert_non_null(buf);
  for (;;) {
    if (n == cap) {
      assert_true(cap < (16u << 20));
      cap *= 2;
      buf = realloc(buf, cap + 1);
      assert_non_null(buf);
    }
    ssize_t k = recv(fd, buf + n, cap - n, 0);
    if (k <= 0) break;
    n += (size_t)k;
  }
  close(fd);
  buf[n] = '\0';
  int code = 0;
  sscanf(buf, "HTTP/1.%*d %d", &code);
  char *sep = strstr(buf, "\r\n\r\n");
  if (body) *body = strdup(sep ? sep + 4 : "");
  free(buf);
  return code;
}

static int http_get(int port, const char *path, char **body)
{
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  return http_raw(port, req, (size_t)n, body);
}

/* python3 json: run `expr` (with d = the parsed body) and return its printed value (malloc'ed). */
static char *py_eval(const char *body, const char *expr)
{
  char path[320], cmd[4096];
  snprintf(path, sizeof path, "%s/body.json", tmpdir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(body, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "python3 -c \"import json; d = json.load(open('%s')); print(%s)\" 2>&1", path, expr);
  char *out = NULL;
  int st = na64_test_run(cmd, &out);
  if (st != 0) fail_msg("python3 failed on %s: %s", expr, out);
  char *nl = strchr(out, '\n');
  if (nl) *nl = '\0';
  return out;
}

static void expect_py(const char *body, const char *expr, const char *expected)
{
  char *v = py_eval(body, expr);
  if (strcmp(v, expected) != 0) fail_msg("%s = %s, expected %s", expr, v, expected);
  free(v);
}

/* Event i: 3 F1 hits on channels (port 0, chip i%8, channel 0..2) and 2 SADC waveforms (port 1,
 * channels 0 and 1) with a pulse of height 100 + i%50 over a flat 200-count pedestal. */
static void write_event(na64_daq_writer *w, int i)
{
  na64_err err;
  na64_daq_header h;
  memset(&h, 0, sizeof h);
  h.type = NA64_DAQ_PHYSICS_EVENT;
  h.run = 999999; /* no setup covers it: the monitor shows raw folders */
  h.id[0] = (uint32_t)i + 1;
  h.id[1] = NA64_DAQ_ID1(i / 100, i % 100); /* bursts of 100 events */
  h.time_sec = 1530000000u + (uint32_t)(i / 100);
  assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), 0);
  na64_daq_f1_hit hits[3];
  memset(hits, 0, sizeof hits);
  for (int k = 0; k < 3; ++k) {
    hits[k].port = 0;
    hits[k].chip = (uint8_t)(i % 8);
    hits[k].channel = (uint8_t)k;
    hits[k].time_units = (uint16_t)(1000 + 10 * k);
    hits[k].trigger_units = 900;
  }
  uint32_t words[64];
  size_t nw = 0;
  assert_int_equal(na64_daq_f1_encode(hits, 3, (uint32_t)i + 1, words, 64, &nw, &err), 0);
  na64_daq_equipment_header eh = na64_daq_f1_equipment(F1_SRC, 0.1);
  assert_int_equal(na64_daq_writer_add_equipment(w, &eh, words, nw, &err), 0);
  static na64_daq_sadc_waveform wf[2];
  memset(wf, 0, sizeof wf);
  for (int k = 0; k < 2; ++k) {
    wf[k].source_id = SADC_SRC;
    wf[k].port = 1;
    wf[k].channel = (uint8_t)k;
    wf[k].nsamples = 32;
    for (int s = 0; s < 32; ++s) wf[k].samples[s] = (uint16_t)(200 + (s == 10 ? 100 + i % 50 : 0));
  }
  uint32_t sw[256];
  assert_int_equal(na64_daq_sadc_encode(wf, 2, sw, 256, &nw, &err), 0);
  eh = na64_daq_sadc_equipment(SADC_SRC, NA64_DAQ_SADC_DEFAULT_PERIOD_NS);
  assert_int_equal(na64_daq_writer_add_equipment(w, &eh, sw, nw, &err), 0);
  assert_int_equal(na64_daq_writer_end_event(w, &err), 0);
}

/* Events [first, last) as bytes in memory. */
static void make_events(int first, int last, void **data, size_t *size)
{
  na64_daq_writer_options o;
  memset(&o, 0, sizeof o);
  o.plain_events = 1;
  na64_daq_writer *w;
  na64_err err;
  assert_int_equal(na64_daq_writer_open_memory(&o, &w, &err), 0);
  for (int i = first; i < last; ++i) write_event(w, i);
  assert_int_equal(na64_daq_writer_close_memory(w, data, size, &err), 0);
}

static void append_bytes(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "ab");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static na64_mon *start(const char *path, const char *token, int follow)
{
  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = path;
  o.listen = "127.0.0.1:0";
  o.token = token;
  o.follow = follow;
  o.publish_s = 0.05;
  na64_mon *m = NULL;
  na64_err err;
  na64_err_clear(&err);
  if (na64_mon_start(&o, &m, &err) != 0) fail_msg("na64_mon_start: %s", err.msg);
  assert_true(na64_mon_port(m) > 0);
  return m;
}

/* Wait (at most 20 s) until the monitor has published `events` events (or finished if events < 0). */
static void wait_events(na64_mon *m, long events)
{
  na64_mon_status s;
  for (int k = 0; k < 400; ++k) {
    na64_mon_get_status(m, &s);
    if (events < 0 ? s.finished : (long)s.events >= events) return;
    sleep_ms(50);
  }
  fail_msg("monitor did not reach %ld events (at %llu)", events, (unsigned long long)s.events);
}

static void write_file(const char *path, int n)
{
  void *data;
  size_t size;
  make_events(0, n, &data, &size);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, size, f), size);
  fclose(f);
  free(data);
}

static void test_serves_histograms(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/gen.dat", tmpdir);
  write_file(path, NEV);
  na64_mon *m = start(path, NULL, 0);
  wait_events(m, -1);
  int port = na64_mon_port(m);
  char *body = NULL;
  assert_int_equal(http_get(port, "/h.json", &body), 200);
  expect_py(body, "d['_kind'], sorted(f['_name'] for f in d['_childs'])", "ROOT.Session ['DAQ', 'F1', 'SADC']");
  expect_py(body, "[c['_name'] + ':' + c['_kind'] for f in d['_childs'] if f['_name'] == 'F1' for c in f['_childs']]",
            "['src700:ROOT.TH1D']");
  free(body);
  /* event types: every event is a physics event (type 7, bin 8 in ROOT's layout with underflow 0) */
  assert_int_equal(http_get(port, "/DAQ/event_types/root.json", &body), 200);
  expect_py(body, "d['_typename'], d['fEntries'], d['fArray'][8], sum(d['fArray'])", "TH1D 300 300 300");
  free(body);
  /* F1: 3 hits per event on channels chip*8 + 0..2 of port 0 */
  assert_int_equal(http_get(port, "/F1/src700/root.json", &body), 200);
  expect_py(body, "d['fEntries'], d['fArray'][1] + d['fArray'][2] + d['fArray'][3], d['fArray'][9]", "900 114 38");
  free(body);
  /* SADC: 2 waveforms per event at channels 64 and 65, amplitude 100 + i % 50 in ADC bins of 64 */
  assert_int_equal(http_get(port, "/SADC/src800/root.json", &body), 200);
  expect_py(body,
            "d['_typename'], d['fEntries'], d['fXaxis']['fNbins'], d['fYaxis']['fNbins'], "
            "d['fArray'][65 + 1026 * 2] + d['fArray'][66 + 1026 * 2], round(d['fTsumwy'] / d['fTsumw'], 6)",
            "TH2D 600 1024 64 336 124.5");
  free(body);
  assert_int_equal(http_get(port, "/status.json", &body), 200);
  expect_py(body, "d['events'], d['regions'], d['finished'], d['geometry']", "300 0 True False");
  free(body);
  /* the status of the library counts the requests answered (include/na64/mon.h), as status.json does
   * and `na64 monitor` prints at the end: the five above (it said 0 before 2026-12-07) */
  na64_mon_status st;
  na64_mon_get_status(m, &st);
  assert_int_equal(st.requests, 5);
  na64_mon_stop(m);
}

static void test_safety(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/safe.dat", tmpdir);
  write_file(path, 50);
  na64_mon *m = start(path, "s3cret", 0);
  wait_events(m, -1);
  int port = na64_mon_port(m);
  static const char *const bad[] = {"/../etc/passwd", "/DAQ/../../etc/passwd/root.json", "/%2e%2e/%2e%2e/etc/passwd",
                                    "/DAQ//event_types/root.json", "/DAQ/event_types/root.json%00.txt"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) assert_int_equal(http_get(port, bad[i], NULL), 400);
  assert_int_equal(http_get(port, "/etc/passwd", NULL), 404);
  assert_int_equal(http_get(port, "/DAQ/root.json", NULL), 404);
  assert_int_equal(http_get(port, "/DAQ/event_types/root.json.bak", NULL), 404);
  /* malformed queries (branch robust): bad event numbers and windows are 400, unknown histograms 404,
   * an over-long path 400 */
  static const char *const badq[] = {"/event.json?n=-1", "/event.json?n=99999999999999999999", "/event.json?n=%00",
                                     "/event.json?n=1e3", "/DAQ/event_types/root.json?window=%ff",
                                     "/DAQ/event_types/root.json?window=burst%00"};
  for (size_t i = 0; i < sizeof badq / sizeof badq[0]; ++i) assert_int_equal(http_get(port, badq[i], NULL), 400);
  assert_int_equal(http_get(port, "/DAQ/no_such_histogram/root.json", NULL), 404);
  assert_int_equal(http_get(port, "/NoFolder/event_types/root.json?window=rolling", NULL), 404);
  char longurl[400];
  memset(longurl, 'a', sizeof longurl - 1);
  longurl[0] = '/';
  longurl[sizeof longurl - 1] = '\0';
  assert_int_equal(http_get(port, longurl, NULL), 400);
  int dup = http_get(port, "/DAQ/event_types/root.json?window=burst&window=rolling&n=&&=", NULL);
  assert_true(dup == 200 || dup == 400);
  const char *post = "POST /Reset/cmd.json?token=s3cret HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc";
  assert_int_equal(http_raw(port, post, strlen(post), NULL), 405);
  assert_int_equal(http_get(port, "/Reset/cmd.json", NULL), 403);
  assert_int_equal(http_get(port, "/Reset/cmd.json?token=s3cre", NULL), 403);
  assert_int_equal(http_get(port, "/Reset/cmd.json?token=s3cret0", NULL), 403);
  /* garbage and a request line without version: answered with an error or closed, never a crash */
  const char garbage[] = "\x01\x02\xff garbage\r\n\r\n";
  http_raw(port, garbage, sizeof garbage - 1, NULL);
  char huge[70000];
  memset(huge, 'A', sizeof huge);
  memcpy(huge, "GET /", 5);
  memcpy(huge + sizeof huge - 4, "\r\n\r\n", 4);
  int code = http_raw(port, huge, sizeof huge, NULL);
  assert_true(code == 0 || code >= 400);
  /* clients that connect and leave, or leave mid-request */
  for (int i = 0; i < 50; ++i) {
    int fd = connect_local(port);
    if (i % 2) send(fd, "GET /h.js", 9, MSG_NOSIGNAL);
    close(fd);
  }
  char *body = NULL;
  assert_int_equal(http_get(port, "/DAQ/event_types/root.json", &body), 200);
  expect_py(body, "d['fEntries']", "50");
  free(body);
  /* the token resets */
  assert_int_equal(http_get(port, "/Reset/cmd.json?token=s3cret", NULL), 200);
  assert_int_equal(http_get(port, "/DAQ/event_types/root.json", &body), 200);
  expect_py(body, "d['fEntries'], sum(d['fArray'])", "0 0");
  free(body);
  na64_mon_stop(m);
  /* read-only server: no token, no reset */
  m = start(path, NULL, 0);
  wait_events(m, -1);
  assert_int_equal(http_get(na64_mon_port(m), "/Reset/cmd.json?token=", NULL), 403);
  na64_mon_stop(m);
}

/* Bounds: a file whose every event comes from another F1 source (300 of them) gets at most 256 raw
 * source folders (docs/monitor.md, "Safety") and is read to the end; with 4 connections allowed, 8
 * idle clients holding connections do not get a fifth answered, and once they leave the server
 * answers again. The reset token may come in the X-NA64-Token header. */
static void test_bounds(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/sources.dat", tmpdir);
  na64_daq_writer *w;
  na64_err err;
  assert_int_equal(na64_daq_writer_open(path, NULL, &w, &err), 0);
  for (int i = 0; i < 300; ++i) {
    na64_daq_header h;
    memset(&h, 0, sizeof h);
    h.type = NA64_DAQ_PHYSICS_EVENT;
    h.run = 999999;
    h.id[0] = (uint32_t)i + 1;
    assert_int_equal(na64_daq_writer_begin_event(w, &h, &err), 0);
    na64_daq_f1_hit hit;
    memset(&hit, 0, sizeof hit);
    hit.time_units = 1000;
    hit.trigger_units = 900;
    uint32_t words[16];
    size_t nw = 0;
    assert_int_equal(na64_daq_f1_encode(&hit, 1, (uint32_t)i + 1, words, 16, &nw, &err), 0);
    na64_daq_equipment_header eh = na64_daq_f1_equipment(1000u + (uint32_t)i, 0.1);
    assert_int_equal(na64_daq_writer_add_equipment(w, &eh, words, nw, &err), 0);
    assert_int_equal(na64_daq_writer_end_event(w, &err), 0);
  }
  assert_int_equal(na64_daq_writer_close(w, &err), 0);
  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = path;
  o.listen = "127.0.0.1:0";
  o.max_connections = 4;
  o.token = "t0ken";
  na64_mon *m;
  if (na64_mon_start(&o, &m, &err) != 0) fail_msg("%s", err.msg);
  wait_events(m, -1);
  int port = na64_mon_port(m);
  char *body = NULL;
  assert_int_equal(http_get(port, "/h.json", &body), 200);
  expect_py(body, "[len(f['_childs']) for f in d['_childs'] if f['_name'] == 'F1']", "[256]");
  free(body);
  assert_int_equal(http_get(port, "/status.json", &body), 200);
  expect_py(body, "d['events'], d['failed']", "300 False");
  free(body);
  int held[8];
  for (int i = 0; i < 8; ++i) {
    held[i] = connect_local(port);
    send(held[i], "GET /h.js", 9, MSG_NOSIGNAL); /* and never finish the request */
  }
  sleep_ms(200);
  int fd = connect_local(port); /* a fifth client: closed or left waiting (1 s here), never answered */
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const char *get = "GET /status.json HTTP/1.0\r\n\r\n";
  send(fd, get, strlen(get), MSG_NOSIGNAL);
  char buf[64] = "";
  ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
  assert_true(got <= 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0);
  close(fd);
  for (int i = 0; i < 8; ++i) close(held[i]);
  int code = 0, tries = 0;
  for (; tries < 20 && code != 200; ++tries) {
    sleep_ms(300);
    code = http_get(port, "/status.json", NULL);
  }
  print_message("answered after %d tries\n", tries);
  assert_int_equal(code, 200);
  const char *hdr = "GET /Reset/cmd.json HTTP/1.0\r\nX-NA64-Token: t0ken\r\n\r\n";
  assert_int_equal(http_raw(port, hdr, strlen(hdr), NULL), 200);
  hdr = "GET /Reset/cmd.json HTTP/1.0\r\nX-NA64-Token: t0ke\r\n\r\n";
  assert_int_equal(http_raw(port, hdr, strlen(hdr), NULL), 403);
  assert_int_equal(http_get(port, "/DAQ/event_types/root.json", &body), 200);
  expect_py(body, "d['fEntries']", "0");
  free(body);
  na64_mon_stop(m);
}

/* tail -f: 100 events, then 40 appended, the first of them in two halves with a pause between; a
 * histogram served before the growth is served anew after it (the JSON cache follows publications). */
static void test_follow(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/grow.dat", tmpdir);
  write_file(path, 100);
  na64_mon *m = start(path, NULL, 1);
  wait_events(m, 100);
  char *body = NULL; /* served (and kept in the JSON cache) before the file grows */
  assert_int_equal(http_get(na64_mon_port(m), "/DAQ/event_types/root.json", &body), 200);
  expect_py(body, "int(d['fEntries'])", "100");
  free(body);
  void *data;
  size_t size;
  make_events(100, 140, &data, &size);
  append_bytes(path, data, 40);
  sleep_ms(400);
  append_bytes(path, (char *)data + 40, size - 40);
  free(data);
  wait_events(m, 140);
  sleep_ms(200);
  na64_mon_status s;
  na64_mon_get_status(m, &s);
  assert_int_equal(s.events, 140);
  assert_int_equal(s.regions, 0);
  assert_int_equal(s.finished, 0);
  /* the next publications replace the kept JSON: the same item now counts every event */
  assert_int_equal(http_get(na64_mon_port(m), "/DAQ/event_types/root.json", &body), 200);
  expect_py(body, "int(d['fEntries'])", "140");
  free(body);
  na64_mon_stop(m);
}

static void check_db_bands(const char *dat, long run);

/* With the geometry: a simulated file; one energy-sum entry per physics event of `na64 dump`. */
static void test_simulated_run(void **state)
{
  (void)state;
  char dat[320], cmd[1400];
  snprintf(dat, sizeof dat, "%s/sim.dat", tmpdir);
  snprintf(cmd, sizeof cmd, "'%s' sim '%s/configs/invisible_default.yaml' --events 3000 --out '%s' >/dev/null 2>&1",
           NA64_CLI_PATH, NA64_SOURCE_DIR, dat);
  assert_int_equal(na64_test_run(cmd, NULL), 0);
  snprintf(cmd, sizeof cmd, "'%s' dump --summary '%s' | sed -n 's/^physics: *//p'", NA64_CLI_PATH, dat);
  char *out = NULL;
  assert_int_equal(na64_test_run(cmd, &out), 0);
  long nphys = strtol(out, NULL, 10);
  free(out);
  assert_true(nphys > 0);
  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = dat;
  o.listen = "127.0.0.1:0";
  o.cond_path = NA64_BINARY_DIR "/conditions.db";
  na64_mon *m;
  na64_err err;
  if (na64_mon_start(&o, &m, &err) != 0) fail_msg("%s", err.msg);
  wait_events(m, -1);
  char *body = NULL, want[64];
  int port = na64_mon_port(m);
  assert_int_equal(http_get(port, "/status.json", &body), 200);
  expect_py(body, "d['geometry'], d['failed']", "True False");
  free(body);
  snprintf(want, sizeof want, "%ld", nphys);
  assert_int_equal(http_get(port, "/ECAL/energy/root.json", &body), 200);
  expect_py(body, "int(d['fEntries'])", want);
  free(body);
  assert_int_equal(http_get(port, "/CALO/ecal_vs_hcal/root.json", &body), 200);
  expect_py(body, "int(d['fEntries'])", want);
  free(body);
  assert_int_equal(http_get(port, "/event.json", &body), 200);
  char *runs = py_eval(body, "d['run']");
  long run = strtol(runs, NULL, 10);
  free(runs);
  free(body);
  /* event display: the last physics event, with straw circles, a fitted line and calorimeter cells */
  snprintf(want, sizeof want, "%ld True True True True", nphys - 1);
  assert_int_equal(http_get(port, "/event.json", &body), 200);
  expect_py(body,
            "d['number'], d['number'] in d['kept'], len(d['straw']) >= 4, len(d['cells']) > 0, "
            "all(t['hits'] >= 2 and t['z'][0] < t['z'][1] for t in d['tracks'])",
            want);
  free(body);
  /* the line fitted downstream of the magnets points at the ECAL shower: extrapolated to the ECAL's
   * energy-weighted depth it meets the energy-weighted centroid of the ECAL cells within one cell
   * (3.82 cm): the centroid of 3.82 cm cells locates the shower axis to a fraction of a cell, the
   * straw line (~0.2 mm hits over a 1 m lever arm, extrapolated 3 m) to a few mm; at least one view
   * must have been fitted (hits in two planes) */
  assert_int_equal(http_get(port, "/event.json", &body), 200);
  expect_py(body,
            "(lambda t, c, E: (lambda z: (t['x'] or t['y']) is not None and all(abs(v[0] + (v[1] - v[0]) / (t['z'][1] - t['z'][0]) * (z - t['z'][0])"
            " - sum(k['e'] * k['c'][i] for k in c) / E) < 3.82 for i, v in ((0, t['x']), (1, t['y'])) if v))"
            "(sum(k['e'] * k['c'][2] for k in c) / E))(d['tracks'][-1], [k for k in d['cells'] if k['det'] == 'ECAL'],"
            " sum(k['e'] for k in d['cells'] if k['det'] == 'ECAL'))",
            "True");
  free(body);
  /* Micromegas/GEM strip clusters: every cluster on a strip plane; the bend between the straight lines
   * through the best (largest charge) cluster of the planes measuring x upstream and downstream of the
   * magnets gives the momentum p = 0.2998 BL / theta (GeV, T m, rad; PDG RPP 2024, "Kinematics"
   * / sec. 34.11 on momentum measurement: p cos(lambda) = 0.3 B R), which must be the 100 GeV beam of
   * configs/invisible_default.yaml within 5 %: the 1 % beam spread, ~70 um clusters over 1.5-3 m lever
   * arms (0.3 % on theta) and multiple scattering (< 0.1 %) stay well inside. */
  assert_int_equal(http_get(port, "/event.json", &body), 200);
  expect_py(body,
            "(lambda c, lo, hi: (lambda a, b: all(s['kind'] in ('micromegas', 'gem') and s['n'] >= 1 for s in d['strips'])"
            " and len(a) >= 2 and len(b) >= 2 and abs(0.299792458 * sum(g['field_integral'] for g in d['magnets'])"
            " / abs((b[-1]['u'] - b[0]['u']) / (b[-1]['z'] - b[0]['z']) - (a[-1]['u'] - a[0]['u']) / (a[-1]['z'] - a[0]['z']))"
            " / 100.0 - 1) < 0.05)([s for s in c if s['z'] < lo], [s for s in c if s['z'] > hi]))"
            "(sorted({s['plane']: s for s in sorted(d['strips'], key=lambda s: s['q']) if s['view'] == 0}.values(),"
            " key=lambda s: s['z']), min(g['centre'][2] - g['length'] / 2 for g in d['magnets']),"
            " max(g['centre'][2] + g['length'] / 2 for g in d['magnets']))",
            "True");
  /* the lines fitted to the straws and the best cluster per plane: one upstream of the magnets (strip
   * planes only there), one downstream; the bend between their x slopes gives the same 100 GeV within
   * 5 % (same reasoning as above) */
  expect_py(body,
            "(lambda u, w: abs(0.299792458 * sum(g['field_integral'] for g in d['magnets']) / abs((w['x'][1] - w['x'][0])"
            " / (w['z'][1] - w['z'][0]) - (u['x'][1] - u['x'][0]) / (u['z'][1] - u['z'][0])) / 100.0 - 1) < 0.05)"
            "(d['tracks'][0], d['tracks'][-1]), len(d['tracks'])",
            "True 2");
  free(body);
  /* alarms with the default bands: too few events to judge (200 needed) */
  assert_int_equal(http_get(port, "/alarms.json", &body), 200);
  expect_py(body, "len(d['planes']) > 0, d['alarms'], any(p['judged'] for p in d['planes'])", "True 0 False");
  free(body);
  na64_mon_stop(m);
  /* a band that ST01X's hits per event (>= 1 for every triggered electron) must leave: one alarm */
  char yaml[400];
  snprintf(yaml, sizeof yaml, "%s/alarms.yaml", tmpdir);
  FILE *f = fopen(yaml, "w");
  assert_non_null(f);
  fputs("min_events: 1\nplanes:\n  ST01X:\n    hits_per_event_max: 0.5\n", f);
  fclose(f);
  o.alarms = yaml;
  if (na64_mon_start(&o, &m, &err) != 0) fail_msg("%s", err.msg);
  wait_events(m, -1);
  assert_int_equal(http_get(na64_mon_port(m), "/alarms.json", &body), 200);
  expect_py(body, "d['alarms'], [p['plane'] for p in d['planes'] if p['alarm']], d['planes'][0]['why']",
            "1 ['ST01X'] hits per event");
  free(body);
  na64_mon_stop(m);
  /* an unknown key is refused at start, with file:line:column */
  f = fopen(yaml, "w");
  assert_non_null(f);
  fputs("min_events: 1\nefficiency_mni: 0.5\n", f);
  fclose(f);
  assert_int_not_equal(na64_mon_start(&o, &m, &err), 0);
  assert_non_null(strstr(err.msg, "alarms.yaml:2:1"));
  check_db_bands(dat, run);
}

/* /alarms.json of a monitor that has replayed `dat` with conditions `db` and alarm file `yaml`. */
static char *alarms_of(const char *dat, const char *db, const char *yaml)
{
  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = dat;
  o.listen = "127.0.0.1:0";
  o.cond_path = db;
  o.alarms = yaml;
  na64_mon *m;
  na64_err err;
  if (na64_mon_start(&o, &m, &err) != 0) fail_msg("%s", err.msg);
  wait_events(m, -1);
  char *body = NULL;
  assert_int_equal(http_get(na64_mon_port(m), "/alarms.json", &body), 200);
  na64_mon_stop(m);
  return body;
}

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Alarm bands from the conditions database (table mon_bands), valid for the run like every
 * calibration, with the --alarms file as an override. The simulated straw planes have ~2 hits per
 * physics event (one straw per layer of a double layer) and efficiency 1. */
static void check_db_bands(const char *dat, long run)
{
  char yaml[320], db[320], sql[1024], want[256];
  snprintf(yaml, sizeof yaml, "%s/judge.yaml", tmpdir);
  write_text(yaml, "min_events: 1\n");
  /* the default database: the bands of sql/setups/40_mon_bands.sql (efficiency [0.9, 1], hits [1, 4]) */
  char *body = alarms_of(dat, NA64_BINARY_DIR "/conditions.db", yaml);
  expect_py(body,
            "d['alarms'], sorted(set((p['band_from'], tuple(p['efficiency_band']), tuple(p['hits_per_event_band'])) "
            "for p in d['planes'])), len(d['planes'])",
            "0 [('conditions', (0.9, 1), (1, 4))] 4");
  free(body);
  /* a record for ST01X valid for this run only, one for ST01Y valid from the next run on: only the
   * first applies, and ST01X's ~2 hits per event leave its band [2.5, 4] */
  snprintf(db, sizeof db, "%s/bands.db", tmpdir);
  na64_test_copy_file(NA64_BINARY_DIR "/conditions.db", db);
  na64_cond *c;
  na64_err err;
  if (na64_cond_open(db, NA64_COND_READWRITE, &c, &err) != 0) fail_msg("%s", err.msg);
  snprintf(sql, sizeof sql,
           "INSERT INTO mon_bands (first_run, last_run, setup, plane, efficiency_min, efficiency_max, hits_min, hits_max, "
           "comment) VALUES (%ld, %ld, NULL, 'ST01X', 0.9, 1.0, 2.5, 4.0, 'test'), (%ld, NULL, NULL, 'ST01Y', 0.9, 1.0, "
           "2.5, 4.0, 'later runs');\n",
           run, run, run + 1);
  if (na64_cond_import(c, sql, strlen(sql), "bands.sql", &err) != 0) fail_msg("%s", err.msg);
  /* a band that is not one is refused by the import, naming the table */
  const char *bad = "INSERT INTO mon_bands (first_run, last_run, setup, plane, efficiency_min, efficiency_max, hits_min, "
                    "hits_max) VALUES (0, NULL, NULL, 'ST02X', 0.9, 1.5, 1, 4);\n";
  assert_int_not_equal(na64_cond_import(c, bad, strlen(bad), "bad.sql", &err), 0);
  if (!strstr(err.msg, "bad.sql:1") || !strstr(err.msg, "efficiency_max")) fail_msg("bad band: %s", err.msg);
  na64_cond_close(c);
  body = alarms_of(dat, db, yaml);
  snprintf(want, sizeof want, "(1, ['ST01X'], [2.5, 4], 'conditions', [1, 4])");
  expect_py(body,
            "(lambda p: (d['alarms'], [q['plane'] for q in d['planes'] if q['alarm']], p['ST01X']['hits_per_event_band'], "
            "p['ST01X']['band_from'], p['ST01Y']['hits_per_event_band']))({q['plane']: q for q in d['planes']})",
            want);
  free(body);
  /* the alarm file overrides the database: its lower edge, the database's upper one */
  write_text(yaml, "min_events: 1\nplanes:\n  ST01X: {hits_per_event_min: 0.5}\n");
  body = alarms_of(dat, db, yaml);
  expect_py(body, "d['alarms'], [(q['hits_per_event_band'], q['band_from']) for q in d['planes'] if q['plane'] == 'ST01X']",
            "0 [([0.5, 4], 'alarms file')]");
  free(body);
}

/* The page built from npm jsroot (build/web, when jsroot was installed): served with JSROOT from the
 * monitor itself; the plain list stays at /list.html. */
static void test_page(void **state)
{
  (void)state;
  FILE *probe = fopen(NA64_BINARY_DIR "/web/jsroot.min.js", "rb");
  if (!probe) {
    print_message("build/web not built (jsroot not installed): skipped\n");
    skip();
  }
  fclose(probe);
  char path[320];
  snprintf(path, sizeof path, "%s/page.dat", tmpdir);
  write_file(path, 10);
  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = path;
  o.listen = "127.0.0.1:0";
  o.web_dir = NA64_BINARY_DIR "/web";
  na64_mon *m;
  na64_err err;
  if (na64_mon_start(&o, &m, &err) != 0) fail_msg("%s", err.msg);
  wait_events(m, -1);
  int port = na64_mon_port(m);
  char *body = NULL;
  assert_int_equal(http_get(port, "/", &body), 200);
  assert_non_null(strstr(body, "<script src=\"jsroot.min.js\"></script>"));
  free(body);
  assert_int_equal(http_get(port, "/jsroot.min.js", &body), 200);
  assert_int_equal(strncmp(body, "// https://root.cern/js/", 24), 0);
  free(body);
  assert_int_equal(http_get(port, "/list.html", &body), 200);
  assert_non_null(strstr(body, "DAQ/event_types/root.json"));
  free(body);
  assert_int_equal(http_get(port, "/jsroot.js", NULL), 404);
  na64_mon_stop(m);
}

/* Windows: 300 events in bursts of 100 -> the current burst and the last complete one hold 100 event
 * types each, the rolling window (60 s, all of it) 300; a reset (token) empties every window. */
static void test_windows(void **state)
{
  (void)state;
  char path[320];
  snprintf(path, sizeof path, "%s/win.dat", tmpdir);
  write_file(path, NEV);
  na64_mon *m = start(path, "s3cret", 0);
  wait_events(m, -1);
  int port = na64_mon_port(m);
  char *body = NULL;
  const char *win[][2] = {{"", "300"}, {"?window=burst", "100"}, {"?window=last_burst", "100"}, {"?window=rolling", "300"}};
  for (int k = 0; k < 4; ++k) {
    char url[128];
    snprintf(url, sizeof url, "/DAQ/event_types/root.json%s", win[k][0]);
    assert_int_equal(http_get(port, url, &body), 200);
    expect_py(body, "int(d['fEntries']), int(d['fArray'][8]), int(d['fTsumw'])",
              k == 0 || k == 3 ? "300 300 300" : "100 100 100");
    free(body);
  }
  assert_int_equal(http_get(port, "/status.json", &body), 200);
  expect_py(body, "d['bursts'], d['burst'], d['read_only']", "2 2 False");
  free(body);
  assert_int_equal(http_get(port, "/DAQ/event_types/root.json?window=yesterday", NULL), 400);
  assert_int_equal(http_get(port, "/Reset/cmd.json?token=s3cre", NULL), 403);
  assert_int_equal(http_get(port, "/Reset/cmd.json?token=s3cret", NULL), 200);
  for (int k = 0; k < 4; ++k) {
    char url[128];
    snprintf(url, sizeof url, "/F1/src700/root.json%s", win[k][0]);
    assert_int_equal(http_get(port, url, &body), 200);
    expect_py(body, "int(d['fEntries']), int(sum(d['fArray']))", "0 0");
    free(body);
  }
  /* raw folders: no geometry, so no event display content and no planes to judge */
  assert_int_equal(http_get(port, "/event.json", &body), 200);
  expect_py(body, "d['number'], d['burst'], 'straw' in d", "299 2 False");
  free(body);
  assert_int_equal(http_get(port, "/event.json?n=12x", NULL), 400);
  assert_int_equal(http_get(port, "/event.json?n=5", NULL), 404); /* not kept */
  assert_int_equal(http_get(port, "/alarms.json", &body), 200);
  expect_py(body, "d['planes'], d['alarms']", "[] 0");
  free(body);
  na64_mon_stop(m);
}

/* --next-file: the first file is followed, then the next file of the run appears: the monitor reads
 * the rest of the first (appended just before) and goes on to the second. Names: the generic rule
 * (run_0001.dat -> run_0002.dat) and the CERN CDR names of the NA64 DAQ, where the chunk number comes
 * before the run number (cdr01009-002901.dat -> cdr01010-002901.dat, not ...-002902.dat), with a
 * decoy file of the next run that must not be followed. */
static void follow_next(const char *first, const char *second, const char *decoy)
{
  char p1[320], p2[320], p3[320];
  snprintf(p1, sizeof p1, "%s/%s", tmpdir, first);
  snprintf(p2, sizeof p2, "%s/%s", tmpdir, second);
  snprintf(p3, sizeof p3, "%s/%s", tmpdir, decoy);
  write_file(p1, 100);
  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = p1;
  o.listen = "127.0.0.1:0";
  o.follow = 1;
  o.next_file = 1;
  o.publish_s = 0.05;
  na64_mon *m = NULL;
  na64_err err;
  if (na64_mon_start(&o, &m, &err) != 0) fail_msg("%s", err.msg);
  wait_events(m, 100);
  void *data;
  size_t size;
  make_events(0, 30, &data, &size);
  append_bytes(p3, data, size); /* another run's file: ignored */
  free(data);
  make_events(100, 120, &data, &size);
  append_bytes(p1, data, size);
  free(data);
  make_events(120, 170, &data, &size);
  append_bytes(p2, data, size);
  free(data);
  wait_events(m, 170);
  sleep_ms(300);
  na64_mon_status s;
  na64_mon_get_status(m, &s);
  assert_int_equal(s.events, 170);
  assert_int_equal(s.files, 2);
  assert_int_equal(s.regions, 0);
  na64_mon_stop(m);
}

static void test_next_file(void **state)
{
  (void)state;
  follow_next("run_0001.dat", "run_0002.dat", "run_0001.dat.bak");
  follow_next("cdr01009-002901.dat", "cdr01010-002901.dat", "cdr01009-002902.dat");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_serves_histograms),
      cmocka_unit_test(test_safety),
      cmocka_unit_test(test_follow),
      cmocka_unit_test(test_simulated_run),
      cmocka_unit_test(test_page),
      cmocka_unit_test(test_windows),
      cmocka_unit_test(test_next_file),
      cmocka_unit_test(test_bounds),
  };
  return cmocka_run_group_tests(tests, na64_test_setup_tmpdir, na64_test_teardown_tmpdir);
}
