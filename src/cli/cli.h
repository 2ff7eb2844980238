/*
 * Private header of the `na64` command: option parsing, result tables, exit codes.
 * The command line is the only place that parses argv and prints (DESIGN.md).
 */
#ifndef NA64_CLI_H
#define NA64_CLI_H

#include <stdio.h>

#include "na64/core.h"

/* Exit codes: 0 success; 1 physics or runtime error (bad physics parameters, unreadable file);
 * 2 bad usage (unknown option, value not a number or outside its allowed range). */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

typedef enum { OPT_DOUBLE, OPT_INT, OPT_STRING, OPT_FLAG, OPT_CHOICE } cli_opt_type;

typedef struct cli_opt {
  const char *name;        /* "--mass" */
  cli_opt_type type;
  void *dst;               /* double*, long*, const char**, int* (flag/choice index) */
  double min, max;         /* allowed closed range for numbers (min > max: no check) */
  int min_open;            /* 1: the lower bound is excluded (e.g. eps > 0) */
  const char *choices;     /* OPT_CHOICE: "a|b|c"; dst is int* index */
  int required;
  const char *help;        /* one line, with units */
  int seen;
} cli_opt;

/* A command (or subcommand) line: options from the table, and pos_min..pos_max positional
 * arguments (`args` names them in the usage line and in messages, e.g. "FILE"). */
typedef struct cli_cmd {
  const char *name;     /* "dump", "calib straw" */
  const char *args;     /* positional arguments for the usage line, NULL if none */
  const char *synopsis;
  cli_opt *opts;
  int nopts;
  int pos_min, pos_max;
  const char *pos_input; /* non-NULL: every positional argument is an input file, checked by
                          * cli_check_input (named so in its message: "CARD", "PART") after parsing */
  char **pos;           /* out: the positional arguments, in order (pointers into argv) */
  int npos;
} cli_cmd;

/* Walk argv[1..argc) with getopt_long (options and positional arguments in any order, "--" ends
 * the options, -h/--help prints the help). Returns CLI_EXIT_OK, CLI_EXIT_USAGE (one line on
 * stderr naming the argument and its allowed range), CLI_EXIT_FAIL (c->pos_input set and a
 * positional input file missing or unreadable: cli_check_input), or -1 if the help was printed (exit 0).
 * getopt_long may permute argv. */
int cli_parse_args(cli_cmd *c, int argc, char **argv);
/* The same for a command without positional arguments. */
int cli_parse(const char *cmd, const char *synopsis, int argc, char **argv, cli_opt *opts, int nopts);
void cli_print_help(FILE *out, const cli_cmd *c);
/* Look-up by name ("--mode"): the option, or whether it was given on the command line. */
cli_opt *cli_opt_find(cli_opt *opts, int nopts, const char *name);
int cli_opt_seen(const cli_opt *opts, int nopts, const char *name);
/* "na64 CMD: message" on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An output file named by option `opt`: not empty, one of the extensions exts (NULL-terminated,
 * ".png"), in an existing writable directory, not a directory itself. Checked before any work. */
int cli_check_output(const char *cmd, const char *opt, const char *path, const char *const *exts);
/* An input file named by `what` (an option "--card", or "CARD"): exists, is not a directory and is
 * readable. Else one line "na64 CMD: error: WHAT 'path': reason" and CLI_EXIT_FAIL (as the library's
 * errors for a missing input), before any work. */
int cli_check_input(const char *cmd, const char *what, const char *path);
/* Number of elements of an option table. */
#define CLI_NOPTS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- result tables: aligned text (default), CSV or JSON ---- */
typedef enum { FMT_TABLE = 0, FMT_CSV = 1, FMT_JSON = 2 } cli_format;
#define CLI_FORMAT_CHOICES "table|csv|json"

typedef struct cli_table cli_table;
cli_table *cli_table_new(int ncols, const char *const *names);
void cli_table_free(cli_table *t);
/* Append a row: numbers are printed with %.6g (table) or %.10g (csv/json); NaN prints empty/null. */
void cli_table_add_row(cli_table *t, const double *values);
/* Rows with string cells: `cells` has ncols strings (NULL = empty). */
void cli_table_add_text_row(cli_table *t, const char *const *cells);
void cli_table_print(const cli_table *t, cli_format fmt, FILE *out);

/* Report a library error for command `cmd` and return the matching exit code. */
int cli_fail(const char *cmd, const na64_err *err);

/* ---- progress on a terminal, silent otherwise ---- */
typedef struct cli_progress {
  const char *what;
  double total, start, last;
  int tty;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *what, double total);
void cli_progress_update(cli_progress *p, double done);
void cli_progress_finish(cli_progress *p, double done);

/* Commands: each takes the argv after the command name (argv[0] is the command). */
#define NA64_CLI_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "cli/commands.def"
#undef NA64_CLI_COMMAND

/* The selection, efficiencies, background and limit of a finished job (src/cli/cmd_run.c). */
struct na64_job_result;
void cli_print_job_summary(const struct na64_job_result *res, const char *card);
/* The same for the visible job (src/cli/cmd_run.c), its report written in `report`. */
struct na64_vis_job_result;
void cli_print_vis_summary(const struct na64_vis_job_result *res, const char *card, const char *report);

#endif
