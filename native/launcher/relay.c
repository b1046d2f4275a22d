/*
 * The egress relay (--egress-relay PORT:SOCKET).
 *
 * When the policy names hosts, the command's network namespace has nothing but loopback, and the
 * egress proxy in the JVM decides every destination. The relay joins the two: a child of init
 * that listens on 127.0.0.1:PORT inside the namespace (HTTP_PROXY points there) and copies each
 * connection, byte for byte in both directions, to the proxy's Unix socket on the host. It makes
 * no decision of its own and cannot reach anything but the proxy.
 *
 * How it reaches the socket: the supervisor, still in the host's namespaces and with the JVM's
 * uid, opens the socket file O_PATH before clone; init inherits the descriptor and the relay
 * connects through /proc/self/fd/N. So the socket never appears in the command's view, and the
 * proxy's private 0700 directory need not be searchable by the sandbox's uid (connect() checks
 * write permission on the socket inode only, which the proxy makes 0666).
 *
 * When it starts: after capabilities are dropped, no_new_privs is set and Landlock is applied
 * (it runs with the command's uid and restrictions, and is not dumpable, so the command cannot
 * ptrace it or take its descriptors), but before seccomp, whose profiles are written for the
 * command and need not allow listen/accept. It dies with init: when the command ends, init
 * exits and the kernel kills everything left in the PID namespace, the relay included.
 *
 * Bounds: at most MAX_PAIRS connections at once (further ones are closed at accept), one
 * BUF_SIZE buffer per direction, allocated while the connection lives. One process, poll(2).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "relay.h"

#define MAX_PAIRS 256
#define BUF_SIZE (64 * 1024)
#define LISTEN_FD 3
#define PROXY_FD 4

/* One direction of a connection: bytes read from `from` and not yet written to `to`. */
struct flow {
  int from, to;
  char *buf;
  size_t off, len;
  bool eof; /* `from` ended; `to` was (or will be, once drained) shut down for writing */
};

struct pair {
  bool used;
  struct flow up, down; /* client -> proxy, proxy -> client */
};

static struct pair pairs[MAX_PAIRS];

int relay_open_socket(const char *path) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    DIE("egress-relay", "open %s", path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    DIE("egress-relay", "stat %s", path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    fail("egress-relay", ENOTSOCK, "%s is not a socket", path);
  }
  return fd;
}

static int listen_loopback(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    DIE("egress-relay", "socket");
  }
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
    DIE("egress-relay", "bind 127.0.0.1:%d", port);
  }
  if (listen(s, 128) != 0) {
    DIE("egress-relay", "listen 127.0.0.1:%d", port);
  }
  return s;
}

static void set_nonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) {
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  }
}

/* A new connection to the proxy, through the inherited O_PATH descriptor. */
static int connect_proxy(void) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return -1;
  }
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d", PROXY_FD);
  if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
    close(s);
    return -1;
  }
  set_nonblocking(s);
  return s;
}

static void close_pair(struct pair *p) {
  close(p->up.from);
  close(p->up.to);
  free(p->up.buf);
  free(p->down.buf);
  memset(p, 0, sizeof *p);
}

static void accept_one(void) {
  int c = accept4(LISTEN_FD, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0) {
    return;
  }
  struct pair *p = NULL;
  for (int i = 0; i < MAX_PAIRS && p == NULL; i++) {
    if (!pairs[i].used) {
      p = &pairs[i];
    }
  }
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int u = p == NULL ? -1 : connect_proxy();
  char *b1 = u < 0 ? NULL : malloc(BUF_SIZE);
  char *b2 = b1 == NULL ? NULL : malloc(BUF_SIZE);
  if (b2 == NULL) {
    /* Full, proxy gone, or out of memory: the client sees the connection close. */
    free(b1);
    if (u >= 0) {
      close(u);
    }
    close(c);
    return;
  }
  p->used = true;
  p->up = (struct flow){.from = c, .to = u, .buf = b1};
  p->down = (struct flow){.from = u, .to = c, .buf = b2};
}

/* Moves what it can without blocking; returns false when the connection must be torn down. */
static bool pump(struct flow *f) {
  if (f->len == 0 && !f->eof) {
    ssize_t n = recv(f->from, f->buf, BUF_SIZE, 0);
    if (n == 0) {
      f->eof = true;
      shutdown(f->to, SHUT_WR);
      return true;
    }
    if (n < 0) {
      return errno == EAGAIN || errno == EINTR;
    }
    f->off = 0;
    f->len = (size_t)n;
  }
  while (f->len > 0) {
    ssize_t n = send(f->to, f->buf + f->off, f->len, MSG_NOSIGNAL);
    if (n < 0) {
      return errno == EAGAIN || errno == EINTR;
    }
    f->off += (size_t)n;
    f->len -= (size_t)n;
  }
  return true;
}

static short wants(const struct flow *f, int fd) {
  short ev = 0;
  if (f->from == fd && f->len == 0 && !f->eof) {
    ev |= POLLIN;
  }
  if (f->to == fd && f->len > 0) {
    ev |= POLLOUT;
  }
  return ev;
}

static void relay_loop(void) {
  static struct pollfd fds[1 + 2 * MAX_PAIRS];
  static int owner[1 + 2 * MAX_PAIRS];
  for (;;) {
    nfds_t n = 0;
    fds[n++] = (struct pollfd){LISTEN_FD, POLLIN, 0};
    for (int i = 0; i < MAX_PAIRS; i++) {
      struct pair *p = &pairs[i];
      if (!p->used) {
        continue;
      }
      int ends[2] = {p->up.from, p->down.from};
      for (int k = 0; k < 2; k++) {
        short ev = wants(&p->up, ends[k]) | wants(&p->down, ends[k]);
        /* Always polled, so a reset on an idle end is noticed. */
        owner[n] = i;
        fds[n++] = (struct pollfd){ends[k], ev, 0};
      }
    }
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      _exit(1);
    }
    if (fds[0].revents & POLLIN) {
      accept_one();
    }
    for (nfds_t j = 1; j < n; j++) {
      struct pair *p = &pairs[owner[j]];
      if (fds[j].revents == 0 || !p->used) {
        continue;
      }
      bool ok = pump(&p->up) && pump(&p->down);
      if (!ok || (fds[j].revents & POLLERR) ||
          (p->up.eof && p->down.eof && p->up.len == 0 && p->down.len == 0)) {
        close_pair(p);
      }
    }
  }
}

void relay_start(int port, int socket_fd) {
  int listener = listen_loopback(port);
  pid_t pid = fork();
  if (pid < 0) {
    DIE("egress-relay", "fork");
  }
  if (pid == 0) {
    /* Keep the two sockets at fixed numbers and nothing else: the command's stdio pipes and
     * the status channel must not be held open (or written) by the relay. */
    int l2 = fcntl(listener, F_DUPFD_CLOEXEC, PROXY_FD + 1);
    int s2 = fcntl(socket_fd, F_DUPFD_CLOEXEC, PROXY_FD + 1);
    if (l2 < 0 || s2 < 0 || dup2(l2, LISTEN_FD) < 0 || dup2(s2, PROXY_FD) < 0) {
      _exit(1);
    }
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0) {
      _exit(1);
    }
    if (syscall(SYS_close_range, PROXY_FD + 1, ~0U, 0) != 0) {
      _exit(1);
    }
    set_nonblocking(LISTEN_FD);
    relay_loop();
  }
  close(listener);
  close(socket_fd);
  report("egress-relay %d", port);
}
