/* placeholder while the physics module is written in this session */
#include "cli/cli.h"
int cmd_run(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int cmd_width(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int cmd_xsec(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int cmd_material(int argc, char **argv) { (void)argc; (void)argv; return 1; }
