/* Switch GSL's abort-on-error handler off once per process: every GSL status is checked by the
 * caller and turned into an NA64_E* code with a message instead. */
#include <gsl/gsl_errno.h>
#include <pthread.h>

#include "physics/internal.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void switch_off(void) { gsl_set_error_handler_off(); }
void na64_gsl_quiet(void) { pthread_once(&once, switch_off); }
