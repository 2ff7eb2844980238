/* Status codes, error records and the log hook (see include/na64/core.h). */
#include "na64/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifndef NA64_VERSION_STRING
#define NA64_VERSION_STRING "unknown"
#endif

int na64_err_set(na64_err *err, int code, const char *fmt, ...)
{
  if (!err) return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

void na64_err_prefix(na64_err *err, const char *fmt, ...)
{
  if (!err) return;
  char head[NA64_ERR_MSG_LEN], old[NA64_ERR_MSG_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  /* truncation of an over-long chain is acceptable: the innermost cause stays at the end */
  size_t hl = strlen(head);
  /* callers may spell the separator themselves ("name: "): one ": " only, never "name: : cause" */
  while (hl > 0 && (head[hl - 1] == ' ' || head[hl - 1] == ':')) --hl;
  /* the context is there already (a file named by the inner error and again by its caller) */
  if (hl > 0 && strncmp(err->msg, head, hl) == 0 && (err->msg[hl] == ':' || err->msg[hl] == '\0')) return;
  if (hl > sizeof err->msg - 3) hl = sizeof err->msg - 3;
  memcpy(err->msg, head, hl);
  memcpy(err->msg + hl, ": ", 2);
  size_t room = sizeof err->msg - hl - 2;
  size_t ol = strnlen(old, room - 1);
  memcpy(err->msg + hl + 2, old, ol);
  err->msg[hl + 2 + ol] = '\0';
}

void na64_err_clear(na64_err *err)
{
  if (!err) return;
  err->code = NA64_OK;
  err->msg[0] = '\0';
}

const char *na64_strerror(int code)
{
  switch (code) {
  case NA64_OK: return "success";
  case NA64_EINVAL: return "invalid argument";
  case NA64_ERANGE: return "outside the validity range";
  case NA64_EPHYS: return "physically impossible parameters";
  case NA64_ENOMEM: return "out of memory";
  case NA64_EIO: return "input/output error";
  case NA64_EFORMAT: return "malformed data";
  case NA64_ENOTFOUND: return "not found";
  case NA64_ENUMERIC: return "numerical method failed";
  case NA64_EDB: return "database error";
  case NA64_EEOF: return "end of data";
  default: return "unknown error";
  }
}

static na64_log_fn log_hook = NULL;
static void *log_user = NULL;

void na64_log_set_hook(na64_log_fn fn, void *user)
{
  log_hook = fn;
  log_user = user;
}

void na64_log(int level, const char *fmt, ...)
{
  if (!log_hook) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_hook(level, msg, log_user);
}

const char *na64_version(void) { return NA64_VERSION_STRING; }
