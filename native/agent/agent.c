/*
 * kavach-agent: runs commands for the host inside a microVM or confidential guest.
 *
 * Guarantees (see docs/agent-protocol.md for the wire format):
 *  1. As PID 1 it mounts /proc, /sys, /dev, /tmp and, when the kernel command line names one
 *     (kavach.workspace=/dev/vdb), the workspace drive at /workspace; brings up loopback; reaps
 *     orphans; and never exits: a fatal error powers the guest off, so the host sees the VM end.
 *  2. It listens on AF_VSOCK port kavach.port (default 5005) or, for tests, on a Unix socket, and
 *     serves each connection in its own process (serve_session), at most MAX_SESSIONS at once.
 *  3. Each session runs exactly one command under the launcher's contract and kills the whole
 *     tree of that command before it reports.
 *  4. On SIGTERM it passes SIGTERM to every session (each kills its tree) and exits when they have;
 *     as a Unix-socket test server it does the same when its parent process goes away.
 *  5. In relay mode (on the host, for QEMU guests) it accepts Unix connections that speak
 *     Firecracker's vsock handshake ("CONNECT <port>\n" -> "OK <port>\n") and splices each to
 *     AF_VSOCK <cid>:<port>, so the Java side talks to every guest the same way.
 *
 * Usage:
 *   kavach-agent                         as PID 1 (or with --vsock PORT) inside a guest
 *   kavach-agent --unix PATH             serve on a Unix socket (tests)
 *   kavach-agent --relay PATH --cid N    host-side relay to a QEMU guest's vsock
 *   kavach-agent --selftest              as PID 1: run one command, print the frames, power off
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"
#include "session.h"

#define DEFAULT_PORT 5005
#define MAX_SESSIONS 64

static volatile sig_atomic_t terminating;
static pid_t watched_parent; /* --unix mode: exit when this parent is gone (0: not watched) */

static void on_term(int sig) {
  (void)sig;
  terminating = 1;
}

/* As PID 1 there is no one to exit to: say why on the console and power the guest off. */
static void die(const char *what) {
  fprintf(stderr, "kavach-agent: %s: %s\n", what, strerror(errno));
  if (getpid() == 1) {
    sync();
    reboot(RB_POWER_OFF);
  }
  exit(1);
}

/* Reads key=value (or a bare key, as "") from the kernel command line, or NULL. The kernel keeps
 * dotted words such as kavach.port for itself (module parameters), so they are read here rather
 * than from argv. */
static const char *cmdline_value(const char *key, char *buf, size_t size) {
  int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  char line[4096];
  ssize_t n = read(fd, line, sizeof line - 1);
  close(fd);
  if (n <= 0) return NULL;
  line[n] = 0;
  size_t klen = strlen(key);
  for (char *tok = strtok(line, " \n"); tok != NULL; tok = strtok(NULL, " \n")) {
    if (strncmp(tok, key, klen) == 0 && (tok[klen] == '=' || tok[klen] == 0)) {
      snprintf(buf, size, "%s", tok[klen] == '=' ? tok + klen + 1 : "");
      return buf;
    }
  }
  return NULL;
}

static void mount_one(const char *src, const char *dst, const char *type, unsigned long flags,
                      const char *data) {
  mkdir(dst, 0755); /* exists on a prepared root; created on an initramfs */
  int absent_ok = strcmp(type, "configfs") == 0; /* optional: only attestation needs it */
  if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY &&
      !(absent_ok && (errno == ENOENT || errno == ENODEV))) {
    fprintf(stderr, "kavach-agent: mount %s on %s: %s\n", type, dst, strerror(errno));
  }
}

static void loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP;
    ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  close(fd);
}

/* PID 1 duties before serving: the filesystems a command expects, and the workspace drive. */
static void init_guest(void) {
  mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  /* configfs-tsm (/sys/kernel/config/tsm/report) gives SEV-SNP and TDX attestation reports. */
  mount_one("configfs", "/sys/kernel/config", "configfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  char dev[256];
  if (cmdline_value("kavach.workspace", dev, sizeof dev) != NULL) {
    mount_one(dev, "/workspace", "ext4", MS_NOSUID | MS_NODEV, NULL);
  }
  if (sethostname("kavach", 6) < 0) fprintf(stderr, "kavach-agent: sethostname: %s\n", strerror(errno));
  loopback_up();
}

static int listen_unix(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket(AF_UNIX)");
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) {
    errno = ENAMETOOLONG;
    die(path);
  }
  strcpy(a.sun_path, path);
  unlink(path);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind(unix)");
  if (listen(fd, 64) < 0) die("listen");
  return fd;
}

static int listen_vsock(unsigned port) {
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket(AF_VSOCK)");
  struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind(vsock)");
  if (listen(fd, 64) < 0) die("listen");
  return fd;
}

/* Host-side relay connection: Firecracker's handshake in, AF_VSOCK out, then bytes both ways. */
static void relay_one(int conn, unsigned cid) {
  char line[64];
  size_t n = 0;
  while (n < sizeof line - 1) {
    if (read_full(conn, line + n, 1, now_ms() + 10000) < 0) return;
    if (line[n++] == '\n') break;
  }
  line[n] = 0;
  unsigned port;
  if (sscanf(line, "CONNECT %u\n", &port) != 1) return; /* Firecracker also just closes */
  int vs = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
  if (vs < 0 || connect(vs, (struct sockaddr *)&a, sizeof a) < 0) {
    fprintf(stderr, "kavach-agent: relay connect vsock %u:%u: %s\n", cid, port, strerror(errno));
    return;
  }
  char ok[32];
  int len = snprintf(ok, sizeof ok, "OK %u\n", port);
  if (write_full(conn, ok, (size_t)len, now_ms() + 10000) < 0) return;
  int fds[2] = {conn, vs};
  int open_dir[2] = {1, 1};
  static char buf[MAX_CHUNK];
  while (open_dir[0] || open_dir[1]) {
    struct pollfd p[2] = {{.fd = fds[0], .events = open_dir[0] ? POLLIN : 0},
                          {.fd = fds[1], .events = open_dir[1] ? POLLIN : 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) return;
    for (int i = 0; i < 2; i++) {
      if (!open_dir[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(fds[i], buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        /* One side ended: end the other, so the agent sees the host disconnect and vice versa. */
        return;
      }
      if (write_full(fds[1 - i], buf, (size_t)r, now_ms() + 30000) < 0) return;
    }
  }
}

static pid_t sessions[MAX_SESSIONS];

static int live_sessions(void) {
  int live = 0;
  for (int i = 0; i < MAX_SESSIONS; i++) live += sessions[i] != 0;
  return live;
}

static void reap_sessions(void) {
  pid_t p;
  while ((p = waitpid(-1, NULL, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_SESSIONS; i++) {
      if (sessions[i] == p) sessions[i] = 0;
    }
  }
}

/* Accepts connections until SIGTERM; each is served by a forked process. */
static void serve(int listener, int relay, unsigned cid) {
  while (!terminating) {
    struct pollfd p = {.fd = listener, .events = POLLIN};
    int n = poll(&p, 1, 500);
    reap_sessions(); /* also reaps orphans re-parented to us as PID 1 */
    /* A test server whose JVM died would otherwise live on, with its commands: end like SIGTERM. */
    if (watched_parent != 0 && getppid() != watched_parent) terminating = 1;
    if (n <= 0) continue;
    int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) continue;
    int slot = -1;
    for (int i = 0; i < MAX_SESSIONS && slot < 0; i++) {
      if (sessions[i] == 0) slot = i;
    }
    if (slot < 0) {
      uint8_t busy[4 + 32];
      put_u32(busy, EAGAIN);
      memcpy(busy + 4, "accept: too many sessions", 25);
      if (!relay) frame_write(conn, T_ERROR, busy, 4 + 25, now_ms() + 1000);
      close(conn);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(listener);
      signal(SIGTERM, SIG_DFL);
      if (relay) {
        relay_one(conn, cid);
      } else {
        serve_session(conn);
      }
      _exit(0);
    }
    if (pid > 0) sessions[slot] = pid;
    close(conn);
  }
  for (int i = 0; i < MAX_SESSIONS; i++) {
    if (sessions[i] != 0) kill(sessions[i], SIGTERM);
  }
  while (live_sessions() > 0) {
    pid_t p = wait(NULL);
    if (p < 0 && errno == ECHILD) break;
    for (int i = 0; i < MAX_SESSIONS; i++) {
      if (sessions[i] == p) sessions[i] = 0;
    }
  }
}

/* PID 1 demonstration: one command through the real session code over a socketpair. */
static void selftest(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    serve_session(sv[1]);
    _exit(0);
  }
  close(sv[1]);
  static const char *argv[] = {"/bin/sh", "-c",
                               "echo pid=$$ ppid=$PPID; echo init=$(cat /proc/1/comm);"
                               " mount | grep -E ' on /(proc|sys|dev|tmp|workspace) '; uname -r",
                               NULL};
  static const char *env[] = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", NULL};
  uint8_t req[4096];
  uint32_t len = 16;
  put_u32(req, PROTOCOL_VERSION);
  put_u32(req + 4, 10000);
  put_u32(req + 8, 65536);
  put_u32(req + 12, 0);
  put_u32(req + len, 0); /* cwd: default */
  len += 4;
  const char **lists[2] = {argv, env};
  for (int l = 0; l < 2; l++) {
    uint32_t count = 0;
    while (lists[l][count] != NULL) count++;
    put_u32(req + len, count);
    len += 4;
    for (uint32_t i = 0; i < count; i++) {
      uint32_t n = (uint32_t)strlen(lists[l][i]);
      put_u32(req + len, n);
      memcpy(req + len + 4, lists[l][i], n);
      len += 4 + n;
    }
  }
  frame_write(sv[0], T_REQUEST, req, len, now_ms() + 5000);
  for (;;) {
    uint8_t h[FRAME_HEADER];
    static uint8_t payload[MAX_CHUNK + 1];
    if (read_full(sv[0], h, sizeof h, now_ms() + 20000) < 0) break;
    uint32_t n = get_u32(h + 1);
    if (n > MAX_CHUNK || read_full(sv[0], payload, n, now_ms() + 5000) < 0) break;
    payload[n] = 0;
    if (h[0] == T_EXIT) {
      printf("kavach-agent selftest: exit code=%u signal=%u\n", get_u32(payload), get_u32(payload + 4));
      break;
    }
    if (h[0] == T_ERROR) {
      printf("kavach-agent selftest: error step=%s errno=%u\n", (char *)payload + 4, get_u32(payload));
      break;
    }
    printf("kavach-agent selftest %s: %s", h[0] == T_STDOUT ? "stdout" : "stderr", (char *)payload);
  }
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
}

int main(int argc, char **argv) {
  const char *unix_path = NULL;
  const char *relay_path = NULL;
  unsigned port = 0, cid = 0;
  int want_selftest = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--unix") == 0 && i + 1 < argc) {
      unix_path = argv[++i];
    } else if (strcmp(argv[i], "--vsock") == 0 && i + 1 < argc) {
      port = (unsigned)strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--relay") == 0 && i + 1 < argc) {
      relay_path = argv[++i];
    } else if (strcmp(argv[i], "--cid") == 0 && i + 1 < argc) {
      cid = (unsigned)strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--selftest") == 0) {
      want_selftest = 1;
    } else if (strcmp(argv[i], "--version") == 0) {
      printf("kavach-agent %d\n", PROTOCOL_VERSION);
      return 0;
    } else if (getpid() != 1) {
      /* The kernel passes unknown command-line words to init; only complain elsewhere. */
      fprintf(stderr, "usage: kavach-agent [--unix PATH | --vsock PORT | --relay PATH --cid N]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_term};
  sigaction(SIGTERM, &sa, NULL);

  if (getpid() == 1) {
    guest_mode = 1;
    init_guest();
    char buf[64];
    if (want_selftest || cmdline_value("kavach.selftest", buf, sizeof buf) != NULL) selftest();
    if (port == 0 && cmdline_value("kavach.port", buf, sizeof buf) != NULL) {
      port = (unsigned)strtoul(buf, NULL, 10);
    }
  }
  if (relay_path != NULL) {
    if (cid < 3) {
      fprintf(stderr, "kavach-agent: --relay needs --cid N with N >= 3 (the guest's CID)\n");
      return 2;
    }
    serve(listen_unix(relay_path), 1, cid);
    unlink(relay_path);
    return 0;
  }
  if (unix_path != NULL) {
    watched_parent = getppid();
    serve(listen_unix(unix_path), 0, 0);
    unlink(unix_path);
    return 0;
  }
  if (getpid() != 1 && port == 0) {
    fprintf(stderr, "kavach-agent: outside a guest, give --unix PATH or --vsock PORT\n");
    return 2;
  }
  serve(listen_vsock(port == 0 ? DEFAULT_PORT : port), 0, 0);
  if (getpid() == 1) {
    sync();
    reboot(RB_POWER_OFF);
  }
  return 0;
}
