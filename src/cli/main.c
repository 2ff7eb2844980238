/* `na64`: the command-line front end. Dispatches to the subcommands listed in commands.def. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "na64/io.h"

typedef struct {
  const char *name;
  int (*fn)(int, char **);
  const char *summary;
} command;

static const command commands[] = {
#define NA64_CLI_COMMAND(name, fn, summary) {name, fn, summary},
#include "cli/commands.def"
#undef NA64_CLI_COMMAND
};
static const int ncommands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *out)
{
  fprintf(out,
          "na64 %s — the NA64 dark-photon experiment as software\n\n"
          "usage: na64 <command> [options]      na64 <command> --help\n\n"
          "commands:\n",
          na64_version());
  for (int i = 0; i < ncommands; ++i) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nUnits on the command line: masses in MeV, beam energies in GeV, lengths in cm.\n"
               "Exit status: 0 success, 1 physics or runtime error, 2 bad usage.\n");
}

/* The results printed on stdout are an output too: a full disk or a closed pipe behind it is an
 * error, never a silent exit 0 (`na64 width ... > /dev/full`, `na64 --help > /dev/full`). */
static int stdout_checked(const char *what, int rc)
{
  errno = 0;
  if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CLI_EXIT_OK) {
    fprintf(stderr, "na64 %s: error: writing the standard output: %s\n", what, errno ? strerror(errno) : "write error");
    rc = CLI_EXIT_FAIL;
  }
  return rc;
}

int main(int argc, char **argv)
{
  na64_h5table_exit_handler_disable(); /* every table is closed explicitly (include/na64/io.h) */
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return stdout_checked(argv[1], CLI_EXIT_OK);
  }
  if (!strcmp(argv[1], "--version")) {
    printf("na64 %s\n", na64_version());
    return stdout_checked(argv[1], CLI_EXIT_OK);
  }
  for (int i = 0; i < ncommands; ++i)
    if (!strcmp(argv[1], commands[i].name)) return stdout_checked(argv[1], commands[i].fn(argc - 1, argv + 1));
  fprintf(stderr, "na64: unknown command '%s' (try 'na64 --help')\n", argv[1]);
  return CLI_EXIT_USAGE;
}
