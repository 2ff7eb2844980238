/* Option parsing for the subcommands: argv is walked by getopt_long (GNU order: options and
 * positional arguments may be mixed, "--" ends the options, --name=value and --name value, unique
 * prefixes); our option table adds the types, ranges and help. Errors are one line naming the
 * argument and its allowed range (exit 2). */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

/* long-option codes: OPT_BASE + index into the table, above every character getopt returns */
enum { OPT_BASE = 256 };

static void describe_range(char *buf, size_t n, const cli_opt *o)
{
  if (o->min > o->max) {
    buf[0] = '\0';
    return;
  }
  char lo[32], hi[32];
  na64_num_shortest(lo, sizeof lo, o->min);
  na64_num_shortest(hi, sizeof hi, o->max);
  snprintf(buf, n, " (allowed: %s%s, %s])", o->min_open ? "(" : "[", lo, hi);
}

static const char *placeholder(const cli_opt *o)
{
  return o->type == OPT_FLAG ? "" : o->type == OPT_CHOICE ? o->choices : o->type == OPT_STRING ? "TEXT" : "X";
}

void cli_print_help(FILE *out, const cli_cmd *c)
{
  fprintf(out, "usage: na64 %s%s%s [options]\n\n%s\n\noptions:\n", c->name, c->args ? " " : "",
          c->args ? c->args : "", c->synopsis);
  /* one column for "--name PLACEHOLDER" together, so that the help texts line up */
  int w = (int)strlen("-h, --help");
  char left[160];
  for (int i = 0; i < c->nopts; ++i) {
    int l = snprintf(left, sizeof left, "%s %s", c->opts[i].name, placeholder(&c->opts[i]));
    if (l > w && l <= 40) w = l;
  }
  for (int i = 0; i < c->nopts; ++i) {
    const cli_opt *o = &c->opts[i];
    char range[96];
    describe_range(range, sizeof range, o);
    snprintf(left, sizeof left, "%s %s", o->name, placeholder(o));
    /* a placeholder too long for the column puts the help on the next line */
    if ((int)strlen(left) > w) fprintf(out, "  %s\n  %-*s  ", left, w, "");
    else fprintf(out, "  %-*s  ", w, left);
    fprintf(out, "%s%s%s\n", o->help, o->type == OPT_CHOICE ? "" : range, o->required ? " [required]" : "");
  }
  fprintf(out, "  %-*s  this text\n", w, "-h, --help");
}

static int choice_index(const char *choices, const char *value)
{
  size_t vl = strlen(value);
  int idx = 0;
  for (const char *p = choices; *p;) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == vl && !strncmp(p, value, len)) return idx;
    ++idx;
    if (!bar) break;
    p = bar + 1;
  }
  return -1;
}

__attribute__((format(printf, 2, 3))) int cli_usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "na64 %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return CLI_EXIT_USAGE;
}

/* A number in C notation (the CLI never sets a locale, and na64_num_parse is locale-free anyway).
 * Overflow is an error; gradual underflow (denormals such as 4.9e-324) is a valid number, a value
 * that underflows to zero is reported as such. */
static int parse_number(const char *cmd, const cli_opt *o, const char *text, double *v, const char *range)
{
  char *end = NULL;
  errno = 0;
  *v = na64_num_parse(text, &end);
  if (end == text || *end != '\0' || isnan(*v))
    return cli_usage_error(cmd, "%s expects a number, got '%s'%s", o->name, text, range);
  if (isinf(*v) || (errno == ERANGE && fabs(*v) > 1.0))
    return cli_usage_error(cmd, "%s = %s is too large for a double (largest %.17g)%s", o->name, text, DBL_MAX, range);
  if (errno == ERANGE && *v == 0.0)
    return cli_usage_error(cmd, "%s = %s underflows to zero (smallest positive double %.17g)%s", o->name, text,
                           4.9406564584124654e-324, range);
  return CLI_EXIT_OK;
}

static int parse_value(const char *cmd, cli_opt *o, const char *text)
{
  char range[96];
  describe_range(range, sizeof range, o);
  switch (o->type) {
  case OPT_DOUBLE:
  case OPT_INT: {
    double v;
    int st = parse_number(cmd, o, text, &v, range);
    if (st) return st;
    if (o->type == OPT_INT && v != floor(v))
      return cli_usage_error(cmd, "%s expects an integer, got '%s'%s", o->name, text, range);
    if (o->min <= o->max && (v > o->max || v < o->min || (o->min_open && v == o->min)))
      return cli_usage_error(cmd, "%s = %s is out of range%s", o->name, text, range);
    if (o->type == OPT_INT && fabs(v) > 9.0e18)
      return cli_usage_error(cmd, "%s = %s is too large for an integer", o->name, text);
    if (o->type == OPT_DOUBLE) *(double *)o->dst = v;
    else *(long *)o->dst = (long)v;
    return CLI_EXIT_OK;
  }
  case OPT_STRING: *(const char **)o->dst = text; return CLI_EXIT_OK;
  case OPT_CHOICE: {
    int idx = choice_index(o->choices, text);
    if (idx < 0) return cli_usage_error(cmd, "%s = '%s' is not one of %s", o->name, text, o->choices);
    *(int *)o->dst = idx;
    return CLI_EXIT_OK;
  }
  case OPT_FLAG: *(int *)o->dst = 1; return CLI_EXIT_OK;
  }
  return CLI_EXIT_USAGE;
}

static struct option *long_options(const cli_opt *opts, int nopts)
{
  struct option *lo = calloc((size_t)nopts + 2, sizeof *lo);
  if (!lo) return NULL;
  for (int k = 0; k < nopts; ++k) {
    lo[k].name = opts[k].name + 2; /* the table spells "--name" */
    lo[k].has_arg = opts[k].type == OPT_FLAG ? no_argument : required_argument;
    lo[k].val = OPT_BASE + k;
  }
  lo[nopts].name = "help";
  lo[nopts].val = 'h';
  return lo;
}

/* The message for what getopt_long refused ('?' or ':'), argv[optind - 1] being the culprit. */
static int refused(const cli_cmd *c, int code, int argc, char **argv)
{
  const char *arg = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";
  int k = optopt - OPT_BASE;
  if (code == ':' && k >= 0 && k < c->nopts) return cli_usage_error(c->name, "%s needs a value", c->opts[k].name);
  if (k >= 0 && k < c->nopts) return cli_usage_error(c->name, "%s takes no value", c->opts[k].name);
  if (optopt > 0 && optopt < OPT_BASE)
    return cli_usage_error(c->name, "unknown option '-%c' (see 'na64 %s --help')", optopt, c->name);
  return cli_usage_error(c->name, "unknown or ambiguous option '%s' (see 'na64 %s --help')", arg, c->name);
}

int cli_parse_args(cli_cmd *c, int argc, char **argv)
{
  c->pos = NULL;
  c->npos = 0;
  for (int k = 0; k < c->nopts; ++k) c->opts[k].seen = 0;
  struct option *lo = long_options(c->opts, c->nopts);
  if (!lo) return cli_usage_error(c->name, "out of memory");
  int st = CLI_EXIT_OK, code;
  opterr = 0;
  optind = 0; /* glibc: full re-initialisation, scanning from argv[1] */
  while (st == CLI_EXIT_OK && (code = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
    if (code == 'h') {
      cli_print_help(stdout, c);
      st = -1;
    } else if (code == '?' || code == ':') {
      st = refused(c, code, argc, argv);
    } else {
      cli_opt *o = &c->opts[code - OPT_BASE];
      o->seen = 1;
      st = parse_value(c->name, o, o->type == OPT_FLAG ? "" : optarg);
    }
  }
  free(lo);
  if (st != CLI_EXIT_OK) return st;
  c->pos = argv + optind;
  c->npos = argc - optind;
  for (int k = 0; k < c->nopts; ++k)
    if (c->opts[k].required && !c->opts[k].seen)
      return cli_usage_error(c->name, "missing required argument %s (%s)", c->opts[k].name, c->opts[k].help);
  if (c->npos < c->pos_min)
    return cli_usage_error(c->name, "missing %s (see 'na64 %s --help')", c->args ? c->args : "argument", c->name);
  if (c->npos > c->pos_max) {
    if (c->pos_max == 0) return cli_usage_error(c->name, "unexpected argument '%s' (see 'na64 %s --help')", c->pos[0], c->name);
    return cli_usage_error(c->name, "unexpected argument '%s': %s expected (see 'na64 %s --help')", c->pos[c->pos_max],
                           c->args ? c->args : "fewer arguments", c->name);
  }
  for (int i = 0; c->pos_input && i < c->npos; ++i) /* every input file before any work */
    if ((st = cli_check_input(c->name, c->pos_input, c->pos[i])) != CLI_EXIT_OK) return st;
  return CLI_EXIT_OK;
}

int cli_parse(const char *cmd, const char *synopsis, int argc, char **argv, cli_opt *opts, int nopts)
{
  cli_cmd c = {.name = cmd, .synopsis = synopsis, .opts = opts, .nopts = nopts};
  return cli_parse_args(&c, argc, argv);
}

cli_opt *cli_opt_find(cli_opt *opts, int nopts, const char *name)
{
  for (int k = 0; k < nopts; ++k)
    if (!strcmp(opts[k].name, name)) return &opts[k];
  return NULL;
}

int cli_opt_seen(const cli_opt *opts, int nopts, const char *name)
{
  for (int k = 0; k < nopts; ++k)
    if (!strcmp(opts[k].name, name)) return opts[k].seen;
  return 0;
}

int cli_fail(const char *cmd, const na64_err *err)
{
  fprintf(stderr, "na64 %s: error: %s\n", cmd, err->msg[0] ? err->msg : na64_strerror(err->code));
  return CLI_EXIT_FAIL;
}

int cli_check_output(const char *cmd, const char *opt, const char *path, const char *const *exts)
{
  if (!path[0]) return cli_usage_error(cmd, "%s: empty file name", opt);
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path, *dot = strrchr(base, '.');
  int known = 0;
  for (const char *const *e = exts; *e && !known; ++e) known = dot && !strcasecmp(dot, *e);
  if (!known) {
    char list[128] = "";
    for (const char *const *e = exts; *e; ++e)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", e == exts ? "" : ", ", *e);
    return cli_usage_error(cmd, "%s '%s': unknown file type (use %s)", opt, path, list);
  }
  char dir[4096];
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == path) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  struct stat sb;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return cli_usage_error(cmd, "%s '%s': directory '%s' does not exist", opt, path, dir);
  if (access(dir, W_OK) != 0) return cli_usage_error(cmd, "%s '%s': directory '%s' is not writable", opt, path, dir);
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return cli_usage_error(cmd, "%s '%s' is a directory", opt, path);
  return CLI_EXIT_OK;
}

int cli_check_input(const char *cmd, const char *what, const char *path)
{
  struct stat sb;
  const char *why = NULL;
  if (!path[0]) why = "empty file name";
  else if (stat(path, &sb) != 0) why = strerror(errno);
  else if (S_ISDIR(sb.st_mode)) why = "is a directory";
  else if (access(path, R_OK) != 0) why = strerror(errno);
  if (!why) return CLI_EXIT_OK;
  fprintf(stderr, "na64 %s: error: %s '%s': %s\n", cmd, what, path, why);
  return CLI_EXIT_FAIL;
}
