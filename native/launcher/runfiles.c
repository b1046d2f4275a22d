/* Reading the run directory's spec files (see runfiles.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "runfiles.h"

struct blob read_and_unlink(const char *step, const char *path, size_t max) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    DIE(step, "open %s", path);
  }
  /* Unlink first: whatever happens next, the file does not outlive this process. */
  if (unlink(path) != 0) {
    DIE(step, "unlink %s", path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    DIE(step, "stat %s", path);
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
    fail(step, 0, "%s must be a regular file of ours with mode 0600", path);
  }
  if ((size_t)st.st_size > max) {
    fail(step, 0, "%s is larger than %zu bytes", path, max);
  }
  struct blob b = {malloc((size_t)st.st_size + 1), 0};
  if (b.data == NULL) {
    DIE(step, "malloc");
  }
  while (b.len < (size_t)st.st_size) {
    ssize_t n = read(fd, b.data + b.len, (size_t)st.st_size - b.len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      DIE(step, "read %s", path);
    }
    b.len += (size_t)n;
  }
  b.data[b.len] = '\0';
  close(fd);
  return b;
}

char **parse_env(struct blob b) {
  size_t count = 0;
  for (size_t i = 0; i < b.len; i++) {
    if (b.data[i] == '\0') {
      count++;
    }
  }
  char **env = calloc(count + 1, sizeof *env);
  if (env == NULL) {
    DIE("env", "calloc");
  }
  size_t k = 0;
  for (size_t i = 0; i < b.len;) {
    char *entry = b.data + i;
    size_t n = strlen(entry);
    if (n > 0 && k < count) {
      if (strchr(entry, '=') == NULL || entry[0] == '=') {
        fail("env", 0, "env entry %zu is not NAME=VALUE", k);
      }
      env[k++] = entry;
    }
    i += n + 1;
  }
  env[k] = NULL;
  return env;
}

int parse_secrets(struct blob b, struct secret *out, int max) {
  int count = 0;
  size_t i = 0;
  while (i < b.len) {
    char *nl = memchr(b.data + i, '\n', b.len - i);
    if (nl == NULL) {
      fail("secrets", 0, "secret record %d has no header line", count);
    }
    *nl = '\0';
    char *header = b.data + i;
    char *end;
    unsigned long mode = strtoul(header, &end, 8);
    if (*end != ' ' || mode > 0777) {
      fail("secrets", 0, "secret record %d: bad mode", count);
    }
    unsigned long len = strtoul(end + 1, &end, 10);
    if (*end != ' ' || end[1] != '/') {
      fail("secrets", 0, "secret record %d: bad length or path", count);
    }
    const char *path = end + 1;
    size_t data_at = (size_t)(nl - b.data) + 1;
    if (len > b.len - data_at) {
      fail("secrets", 0, "secret record %d is truncated", count);
    }
    if (count == max) {
      fail("secrets", 0, "more than %d secret files", max);
    }
    if (strstr(path, "/../") != NULL || strstr(path, "/./") != NULL || strcmp(path, "/") == 0) {
      fail("secrets", 0, "secret path must be normalized: %s", path);
    }
    out[count].path = path;
    out[count].mode = (mode_t)mode;
    out[count].data = b.data + data_at;
    out[count].len = len;
    count++;
    i = data_at + len;
  }
  return count;
}
