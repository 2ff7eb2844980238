/*
 * Output files that are complete or absent (include/na64/io.h, docs/outputs.md).
 *
 * The sequence is the one POSIX guarantees to be atomic for readers and durable after a crash:
 * write a temporary file in the target's directory (same file system, so rename(2) cannot copy),
 * fflush + fsync + close it checking each step, rename(2) it over the target ("If newpath already
 * exists, it will be atomically replaced", rename(2)), then fsync the directory so the new entry
 * itself is on disk (fsync(2), NOTES). A symbolic link is resolved first so that the link survives
 * and the file it names is replaced; FIFOs and devices are written in place because renaming a
 * regular file over them would destroy them (issue 9, item 3: /dev/full was replaced).
 */
#define _GNU_SOURCE /* fopencookie(3): a stream that remembers the errno of a failed write */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "na64/io.h"

struct na64_outfile {
  char *target; /* as given by the caller (messages) */
  char *dest;   /* the file replaced: target, or what a symbolic link points to */
  char *tmp;    /* temporary file; NULL when written straight through */
  FILE *fp;     /* NULL with NA64_OUTFILE_BY_NAME */
  int fd;       /* under fp */
  int werr;     /* errno of the first failed write(2): stdio keeps only an error flag */
  int flags;
};

/* The stream's write and close go through these so that the reason of a failure (ENOSPC, EFBIG,
 * EIO, EPIPE) reaches the message, not only ferror()'s flag. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t n)
{
  na64_outfile *f = cookie;
  size_t done = 0;
  while (done < n) {
    ssize_t k = write(f->fd, buf + done, n - done);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (!f->werr) f->werr = k < 0 ? errno : ENOSPC;
      /* what was written, never negative: fopencookie(3) -- glibc counts a -1 as a byte written
       * and then reads past the caller's buffer */
      return (ssize_t)done;
    }
    done += (size_t)k;
  }
  return (ssize_t)n;
}

static int cookie_close(void *cookie)
{
  na64_outfile *f = cookie;
  int fd = f->fd;
  f->fd = -1;
  return fd >= 0 ? close(fd) : 0;
}

static int open_stream(na64_outfile *f, int fd)
{
  cookie_io_functions_t io = {.read = NULL, .write = cookie_write, .seek = NULL, .close = cookie_close};
  f->fd = fd;
  f->fp = fopencookie(f, "w", io);
  return f->fp ? 0 : -1;
}

static atomic_uint tmp_counter;

static void outfile_free(na64_outfile *f)
{
  if (!f) return;
  free(f->target);
  free(f->dest);
  free(f->tmp);
  free(f);
}

static int fail(na64_outfile *f, const char *path, const char *what, int e, na64_err *err)
{
  int st = na64_err_set(err, NA64_EIO, "%s: %s: %s", path, what, strerror(e ? e : EIO));
  if (f) {
    if (f->fp) fclose(f->fp);
    f->fp = NULL;
    if (f->tmp) unlink(f->tmp);
    outfile_free(f);
  }
  return st;
}

/* Where the data must finally land: `path` itself, or the file a symbolic link points to. Fills
 * *st for an existing destination; *exists = 0 for a new file. */
static int resolve(const char *path, char **dest, struct stat *st, int *exists, na64_err *err)
{
  struct stat lst;
  *exists = 0;
  if (lstat(path, &lst) != 0) {
    if (errno != ENOENT) return fail(NULL, path, "cannot inspect", errno, err);
    *dest = strdup(path);
    return *dest ? NA64_OK : na64_err_set(err, NA64_ENOMEM, "%s: out of memory", path);
  }
  if (S_ISLNK(lst.st_mode)) {
    char *real = realpath(path, NULL);
    if (!real)
      return na64_err_set(err, NA64_EIO, "%s: symbolic link to a missing or unreachable file (%s): not written",
                          path, strerror(errno));
    if (stat(real, st) != 0) {
      int e = errno;
      free(real);
      return fail(NULL, path, "cannot inspect the link target", e, err);
    }
    *dest = real;
  } else {
    *st = lst;
    *dest = strdup(path);
    if (!*dest) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", path);
  }
  *exists = 1;
  if (S_ISDIR(st->st_mode)) {
    free(*dest);
    *dest = NULL;
    return na64_err_set(err, NA64_EIO, "%s: is a directory: not written", path);
  }
  return NA64_OK;
}

/* Create ".BASE.PID.N.tmp" beside dest exclusively (O_EXCL: never reuse someone else's file). */
static int make_temp(na64_outfile *f, const struct stat *st, int exists, int *fd_out, na64_err *err)
{
  const char *slash = strrchr(f->dest, '/');
  size_t dirlen = slash ? (size_t)(slash - f->dest) + 1 : 0;
  const char *base = slash ? slash + 1 : f->dest;
  size_t cap = strlen(f->dest) + 64;
  f->tmp = malloc(cap);
  if (!f->tmp) return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", f->target);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    unsigned n = atomic_fetch_add(&tmp_counter, 1u);
    snprintf(f->tmp, cap, "%.*s.%s.%ld.%u.tmp", (int)dirlen, f->dest, base, (long)getpid(), n);
    int fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      int e = errno;
      free(f->tmp);
      f->tmp = NULL;
      char what[64 + PATH_MAX];
      snprintf(what, sizeof what, "cannot create a temporary file in '%.*s'", (int)(dirlen ? dirlen : 1),
               dirlen ? f->dest : ".");
      return na64_err_set(err, NA64_EIO, "%s: %s: %s", f->target, what, strerror(e));
    }
    /* keep the permissions of the file being replaced (a new file gets 0666 minus the umask) */
    if (exists) (void)fchmod(fd, st->st_mode & 07777);
    *fd_out = fd;
    return NA64_OK;
  }
  free(f->tmp);
  f->tmp = NULL;
  return na64_err_set(err, NA64_EIO, "%s: cannot create a unique temporary file", f->target);
}

int na64_outfile_open(const char *path, int flags, na64_outfile **out, na64_err *err)
{
  if (!out) return na64_err_set(err, NA64_EINVAL, "na64_outfile_open: NULL output");
  *out = NULL;
  if (!path || !*path) return na64_err_set(err, NA64_EINVAL, "output file: empty path");
  na64_outfile *f = calloc(1, sizeof *f);
  if (f) f->fd = -1;
  if (!f || !(f->target = strdup(path))) {
    free(f);
    return na64_err_set(err, NA64_ENOMEM, "%s: out of memory", path);
  }
  f->flags = flags;
  struct stat st;
  int exists = 0;
  int s = resolve(path, &f->dest, &st, &exists, err);
  if (s == NA64_OK && exists && (flags & NA64_OUTFILE_NO_CLOBBER))
    s = na64_err_set(err, NA64_EINVAL, "%s: exists: not replaced", path);
  if (s == NA64_OK && exists && !S_ISREG(st.st_mode) && (flags & NA64_OUTFILE_REGULAR))
    s = na64_err_set(err, NA64_EINVAL, "%s: not a regular file (FIFO, device or socket): refused", path);
  if (s != NA64_OK) {
    outfile_free(f);
    return s;
  }
  if (exists && !S_ISREG(st.st_mode)) {
    /* FIFO, device, socket: written in place, never replaced */
    if (!(flags & NA64_OUTFILE_BY_NAME)) {
      int fd = open(f->dest, O_WRONLY | O_CLOEXEC);
      if (fd < 0) return fail(f, path, "cannot open", errno, err);
      if (open_stream(f, fd) != 0) {
        int e = errno;
        close(fd);
        return fail(f, path, "cannot open a stream", e, err);
      }
    }
    *out = f;
    return NA64_OK;
  }
  int fd = -1;
  s = make_temp(f, &st, exists, &fd, err);
  if (s != NA64_OK) {
    outfile_free(f);
    return s;
  }
  if (flags & NA64_OUTFILE_BY_NAME) {
    close(fd); /* the empty file reserves the name; the caller's library reopens it */
  } else if (open_stream(f, fd) != 0) {
    int e = errno;
    close(fd);
    return fail(f, path, "cannot open a stream", e, err);
  }
  *out = f;
  return NA64_OK;
}

FILE *na64_outfile_stream(na64_outfile *f) { return f ? f->fp : NULL; }
const char *na64_outfile_path(const na64_outfile *f) { return f ? (f->tmp ? f->tmp : f->dest) : NULL; }
const char *na64_outfile_target(const na64_outfile *f) { return f ? f->target : NULL; }
int na64_outfile_is_direct(const na64_outfile *f) { return f && !f->tmp; }

/* Flush, check, fsync (sync) and close the stream; errno of the first failing step in *e. */
static const char *close_stream(na64_outfile *f, int sync, int *e)
{
  errno = 0;
  int bad = fflush(f->fp) != 0 || ferror(f->fp);
  const char *what = NULL;
  if (bad) {
    *e = f->werr ? f->werr : errno;
    what = "write error";
  } else if (sync && fsync(f->fd) != 0) {
    *e = errno;
    what = "fsync failed";
  }
  errno = 0;
  if (fclose(f->fp) != 0 && !what) {
    *e = errno;
    what = "close failed";
  }
  f->fp = NULL;
  return what;
}

static const char *sync_by_name(const char *tmp, int *e)
{
  int fd = open(tmp, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *e = errno;
    return "written file missing";
  }
  if (fsync(fd) != 0) {
    *e = errno;
    close(fd);
    return "fsync failed";
  }
  close(fd);
  return NULL;
}

static void sync_dir(const char *dest)
{
  const char *slash = strrchr(dest, '/');
  char dir[PATH_MAX];
  if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - dest) + (slash == dest), dest);
  else snprintf(dir, sizeof dir, ".");
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)fsync(fd); /* best effort: some file systems refuse fsync on directories */
  close(fd);
}

int na64_outfile_commit(na64_outfile *f, na64_err *err)
{
  if (!f) return na64_err_set(err, NA64_EINVAL, "na64_outfile_commit: NULL file");
  int e = 0;
  const char *what = NULL;
  if (f->fp) {
    what = close_stream(f, f->tmp != NULL, &e);
  } else if (f->tmp) {
    what = sync_by_name(f->tmp, &e);
  }
  if (what) return fail(f, f->target, what, e, err);
  if (!f->tmp) { /* written straight through */
    outfile_free(f);
    return NA64_OK;
  }
  if (f->flags & NA64_OUTFILE_NO_CLOBBER) {
    /* link(2) fails with EEXIST if the target appeared meanwhile: no check-then-rename race */
    if (link(f->tmp, f->dest) != 0) {
      e = errno;
      if (e == EEXIST) {
        unlink(f->tmp);
        int st = na64_err_set(err, NA64_EINVAL, "%s: exists: not replaced", f->target);
        outfile_free(f);
        return st;
      }
      return fail(f, f->target, "cannot create", e, err);
    }
    unlink(f->tmp);
  } else if (rename(f->tmp, f->dest) != 0) {
    return fail(f, f->target, "cannot rename the temporary file over it", errno, err);
  }
  sync_dir(f->dest);
  outfile_free(f);
  return NA64_OK;
}

void na64_outfile_abort(na64_outfile *f)
{
  if (!f) return;
  if (f->fp) fclose(f->fp);
  if (f->tmp) unlink(f->tmp);
  outfile_free(f);
}

int na64_outfile_write_all(const char *path, int flags, const void *data, size_t len, na64_err *err)
{
  if (!data && len) return na64_err_set(err, NA64_EINVAL, "%s: NULL data", path ? path : "output");
  na64_outfile *f = NULL;
  NA64_CALL(na64_outfile_open(path, flags & ~NA64_OUTFILE_BY_NAME, &f, err));
  if (len) fwrite(data, 1, len, na64_outfile_stream(f)); /* errors are sticky: checked by commit */
  return na64_outfile_commit(f, err);
}

int na64_outfile_copy(const char *from, const char *to, int flags, na64_err *err)
{
  FILE *in = fopen(from, "rb");
  if (!in) return na64_err_set(err, NA64_EIO, "%s: cannot open: %s", from, strerror(errno));
  na64_outfile *o = NULL;
  int st = na64_outfile_open(to, flags & ~NA64_OUTFILE_BY_NAME, &o, err);
  char buf[65536];
  size_t got;
  while (st == NA64_OK && (got = fread(buf, 1, sizeof buf, in)) > 0)
    fwrite(buf, 1, got, na64_outfile_stream(o)); /* errors are sticky: checked by commit */
  if (st == NA64_OK && ferror(in)) st = na64_err_set(err, NA64_EIO, "%s: read error", from);
  fclose(in);
  if (st == NA64_OK) return na64_outfile_commit(o, err);
  na64_outfile_abort(o);
  return st;
}
