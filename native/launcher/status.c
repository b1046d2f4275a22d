/* The status channel (see log.h). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int fd = -1;
static const char *status_path;

int status_open(const char *path) {
  fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  status_path = path;
  return fd < 0 ? -1 : 0;
}

void status_abandon(void) {
  if (status_path == NULL) {
    return;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", status_path);
  char *slash = strrchr(dir, '/');
  if (slash == NULL) {
    return;
  }
  *slash = '\0';
  const char *base = strrchr(dir, '/');
  /* Only ever a run directory Java made for us; never some other directory a path points into. */
  if (base == NULL || strncmp(base + 1, "kavach-", 7) != 0) {
    return;
  }
  static const char *const files[] = {"status", "env", "secrets", "seccomp.bpf"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  rmdir(dir);
}

int status_fd(void) { return fd; }

/* Formats into a stack buffer and writes the line with one write(2), so it is appended
 * atomically. Newlines inside a message would forge extra lines; they become spaces. */
static void emit(const char *prefix, const char *fmt, va_list ap) {
  char line[1024];
  int n = snprintf(line, sizeof line, "%s", prefix);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2) {
    len = sizeof line - 2;
  }
  for (size_t i = 0; i < len; i++) {
    if (line[i] == '\n' || line[i] == '\r') {
      line[i] = ' ';
    }
  }
  line[len++] = '\n';
  if (fd >= 0) {
    ssize_t ignored = write(fd, line, len);
    (void)ignored;
  } else {
    /* No channel yet (bad options): stderr is all we have, and Java treats an empty status
     * file as a launcher failure, quoting this text. */
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
  }
}

void report(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit("", fmt, ap);
  va_end(ap);
}

void fail(const char *step, int err, const char *fmt, ...) {
  char prefix[128];
  snprintf(prefix, sizeof prefix, "error %s %d ", step, err);
  va_list ap;
  va_start(ap, fmt);
  char msg[768];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err != 0) {
    report("%s%s: %s", prefix, msg, strerror(err));
  } else {
    report("%s%s", prefix, msg);
  }
  _exit(EXIT_SETUP_FAILED);
}
