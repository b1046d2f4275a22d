#define _GNU_SOURCE
#include "frame.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events; -1 with ETIMEDOUT once deadline_ms has passed. */
static int wait_ready(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    int64_t left = deadline_ms - now_ms();
    if (left <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n > 0) return 0;
  }
}

int read_full(int fd, void *buf, size_t len, int64_t deadline_ms) {
  uint8_t *p = buf;
  while (len > 0) {
    if (wait_ready(fd, POLLIN, deadline_ms) < 0) return -1;
    ssize_t n = read(fd, p, len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return -1;
    if (n == 0) {
      errno = 0;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int write_full(int fd, const void *buf, size_t len, int64_t deadline_ms) {
  const uint8_t *p = buf;
  while (len > 0) {
    if (wait_ready(fd, POLLOUT, deadline_ms) < 0) return -1;
    /* MSG_NOSIGNAL: a vanished peer is an error to handle, not a SIGPIPE. Pipes get write(). */
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK) n = write(fd, p, len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int frame_write(int fd, uint8_t type, const void *payload, uint32_t len, int64_t deadline_ms) {
  uint8_t header[FRAME_HEADER];
  header[0] = type;
  put_u32(header + 1, len);
  if (write_full(fd, header, sizeof header, deadline_ms) < 0) return -1;
  return len == 0 ? 0 : write_full(fd, payload, len, deadline_ms);
}
