/* `na64 monitor SOURCE`: the online monitor (src/mon, docs/monitor.md). Starts the HTTP server and
 * the filler, prints the URL, and runs until SIGINT/SIGTERM (or, with --exit-when-done, until the
 * source is exhausted and then prints the event count). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "na64/mon.h"

static const char *monitor_synopsis =
    "Online monitor of a DATE raw-data file: histograms per detector folder (straw hit maps and drift\n"
    "times, SADC amplitudes per calorimeter cell, calorimeter energy sums and ECAL vs HCAL, event types,\n"
    "rate and sizes, bad regions) served over HTTP with the ROOT THttpServer protocol (h.json,\n"
    "<folder>/<name>/root.json, status.json), readable by JSROOT. Binds to 127.0.0.1 unless --listen\n"
    "says otherwise. Read-only unless a token is given (--token or $NA64_MON_TOKEN); /Reset/cmd.json?token=T\n"
    "resets the histograms. Prints `listening on http://ADDR:PORT/` once the server is up.";

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int sig)
{
  (void)sig;
  g_stop = 1;
}

int cmd_monitor(int argc, char **argv)
{
  const char *listen = "127.0.0.1:8064", *token = NULL, *cond = NULL, *web = NULL;
  double rate = 0.0;
  int follow = 0, once = 0, next = 0;
  double rolling = 60.0;
  const char *alarms = NULL;
  cli_opt opts[] = {
      {"--listen", OPT_STRING, &listen, 1, 0, 0, NULL, 0, "ADDR:PORT to listen on, numeric IPv4 (port 0: any free port)", 0},
      {"--rate", OPT_DOUBLE, &rate, 0, 1e9, 0, NULL, 0, "replay rate in events/s (0: as fast as possible)", 0},
      {"--token", OPT_STRING, &token, 1, 0, 0, NULL, 0, "secret that enables the reset command (default: read-only)", 0},
      {"--follow", OPT_FLAG, &follow, 1, 0, 0, NULL, 0, "at the end of the file wait for it to grow (tail -f)", 0},
      {"--next-file", OPT_FLAG, &next, 1, 0, 0, NULL, 0, "with --follow: go on to the next file of the run (CDR cdrSSCCC-RRRRRR.dat: next chunk; else last number + 1)", 0},
      {"--rolling", OPT_DOUBLE, &rolling, 1, 86400, 0, NULL, 0, "length of the rolling window, s (default 60)", 0},
      {"--alarms", OPT_STRING, &alarms, 1, 0, 0, NULL, 0, "YAML file of the expected bands of the straw planes (overrides the conditions database)", 0},
      {"--conditions", OPT_STRING, &cond, 1, 0, 0, NULL, 0, "conditions database (default: the installed one)", 0},
      {"--web", OPT_STRING, &web, 1, 0, 0, NULL, 0,
       "directory of the page (index.html + jsroot.min.js; default: web/ beside the na64 executable)", 0},
      {"--exit-when-done", OPT_FLAG, &once, 1, 0, 0, NULL, 0, "exit once the source is read (not with --follow)", 0},
  };
  cli_cmd cmd = {.name = "monitor", .args = "SOURCE", .synopsis = monitor_synopsis, .opts = opts,
                 .nopts = CLI_NOPTS(opts), .pos_min = 1, .pos_max = 1};
  int st = cli_parse_args(&cmd, argc, argv);
  if (st) return st < 0 ? CLI_EXIT_OK : st;
  if (!token || !*token) token = getenv("NA64_MON_TOKEN");
  if (follow && once) return cli_usage_error("monitor", "--follow and --exit-when-done exclude each other");

  na64_mon_options o;
  na64_mon_options_default(&o);
  o.source = cmd.pos[0];
  o.listen = listen;
  o.rate_hz = rate;
  o.follow = follow;
  o.next_file = next;
  o.rolling_s = rolling;
  o.alarms = alarms;
  o.token = token && *token ? token : NULL;
  o.cond_path = cond;
  char webdir[4200] = "";
  if (!web) { /* the build copies the page to <build>/web beside the executable */
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
      exe[n] = '\0';
      char *slash = strrchr(exe, '/');
      if (slash) *slash = '\0';
      snprintf(webdir, sizeof webdir, "%s/web", exe);
      web = webdir;
    }
  }
  o.web_dir = web;
  if (cli_opt_seen(opts, CLI_NOPTS(opts), "--web")) { /* a page directory named by the user must hold the page */
    char page[4300];
    snprintf(page, sizeof page, "%s/index.html", web);
    struct stat wsb;
    if (stat(web, &wsb) != 0 || !S_ISDIR(wsb.st_mode))
      return cli_usage_error("monitor", "--web '%s' is not a directory", web);
    if (access(page, R_OK) != 0) return cli_usage_error("monitor", "--web '%s' has no readable index.html", web);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  na64_mon *m;
  na64_err err;
  na64_err_clear(&err);
  if (na64_mon_start(&o, &m, &err) != 0) return cli_fail("monitor", &err);
  if (strncmp(listen, "127.", 4) != 0)
    fprintf(stderr, "na64 monitor: warning: listening on %s, not loopback: anyone who reaches it can read%s\n", listen,
            o.token ? " (reset needs the token)" : "");
  char host[64];
  snprintf(host, sizeof host, "%s", listen);
  char *colon = strrchr(host, ':');
  if (colon) *colon = '\0';
  printf("listening on http://%s:%d/\n", host, na64_mon_port(m));
  fflush(stdout);
  na64_mon_status s;
  for (;;) {
    na64_mon_get_status(m, &s);
    if (g_stop || (once && s.finished)) break;
    struct timespec t = {0, 100000000};
    nanosleep(&t, NULL);
  }
  int rc = s.failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
  if (s.failed) fprintf(stderr, "na64 monitor: %s\n", na64_mon_error(m));
  printf("events: %llu\nbad regions: %llu\nrequests: %llu\n", (unsigned long long)s.events,
         (unsigned long long)s.regions, (unsigned long long)s.requests);
  na64_mon_stop(m);
  return rc;
}
