/* Option parsing for the subcommands: typed values, range checks, one-line errors (exit 2). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void describe_range(char *buf, size_t n, const cli_opt *o)
{
  if (o->min > o->max) {
    buf[0] = '\0';
    return;
  }
  snprintf(buf, n, " (allowed: %s%g, %g])", o->min_open ? "(" : "[", o->min, o->max);
}

void cli_print_help(FILE *out, const char *cmd, const char *synopsis, const cli_opt *opts, int nopts)
{
  fprintf(out, "usage: na64 %s [options]\n\n%s\n\noptions:\n", cmd, synopsis);
  for (int i = 0; i < nopts; ++i) {
    const cli_opt *o = &opts[i];
    char range[96];
    describe_range(range, sizeof range, o);
    const char *arg = o->type == OPT_FLAG ? "" : o->type == OPT_CHOICE ? o->choices : "X";
    fprintf(out, "  %s %-18s %s%s%s\n", o->name, arg, o->help, o->type == OPT_CHOICE ? "" : range,
            o->required ? " [required]" : "");
  }
  fprintf(out, "  --help               this text\n");
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

__attribute__((format(printf, 2, 3))) static int bad(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "na64 %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return CLI_EXIT_USAGE;
}

static int parse_value(const char *cmd, cli_opt *o, const char *text)
{
  char range[96];
  describe_range(range, sizeof range, o);
  switch (o->type) {
  case OPT_DOUBLE:
  case OPT_INT: {
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v))
      return bad(cmd, "%s expects a number, got '%s'%s", o->name, text, range);
    if (o->type == OPT_INT && v != floor(v))
      return bad(cmd, "%s expects an integer, got '%s'%s", o->name, text, range);
    if (o->min <= o->max && (v > o->max || v < o->min || (o->min_open && v == o->min)))
      return bad(cmd, "%s = %s is out of range%s", o->name, text, range);
    if (o->type == OPT_DOUBLE)
      *(double *)o->dst = v;
    else
      *(long *)o->dst = (long)v;
    return CLI_EXIT_OK;
  }
  case OPT_STRING: *(const char **)o->dst = text; return CLI_EXIT_OK;
  case OPT_CHOICE: {
    int idx = choice_index(o->choices, text);
    if (idx < 0) return bad(cmd, "%s = '%s' is not one of %s", o->name, text, o->choices);
    *(int *)o->dst = idx;
    return CLI_EXIT_OK;
  }
  case OPT_FLAG: *(int *)o->dst = 1; return CLI_EXIT_OK;
  }
  return CLI_EXIT_USAGE;
}

int cli_parse(const char *cmd, const char *synopsis, int argc, char **argv, cli_opt *opts, int nopts)
{
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      cli_print_help(stdout, cmd, synopsis, opts, nopts);
      return -1;
    }
    /* accept both "--name value" and "--name=value" */
    const char *eq = strchr(arg, '=');
    size_t namelen = eq ? (size_t)(eq - arg) : strlen(arg);
    cli_opt *o = NULL;
    for (int k = 0; k < nopts; ++k)
      if (strlen(opts[k].name) == namelen && !strncmp(opts[k].name, arg, namelen)) o = &opts[k];
    if (!o) return bad(cmd, "unknown argument '%s' (see 'na64 %s --help')", arg, cmd);
    o->seen = 1;
    if (o->type == OPT_FLAG) {
      if (eq) return bad(cmd, "%s takes no value", o->name);
      *(int *)o->dst = 1;
      continue;
    }
    const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (!value) return bad(cmd, "%s needs a value", o->name);
    int st = parse_value(cmd, o, value);
    if (st != CLI_EXIT_OK) return st;
  }
  for (int k = 0; k < nopts; ++k)
    if (opts[k].required && !opts[k].seen)
      return bad(cmd, "missing required argument %s (%s)", opts[k].name, opts[k].help);
  return CLI_EXIT_OK;
}

int cli_fail(const char *cmd, const na64_err *err)
{
  fprintf(stderr, "na64 %s: error: %s\n", cmd, err->msg[0] ? err->msg : na64_strerror(err->code));
  return CLI_EXIT_FAIL;
}
