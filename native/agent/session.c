/*
 * One exec request, from request frame to exit frame. The contract is the process launcher's:
 *  - argv runs as given (argv[0] is looked up on the request's own PATH), with exactly the
 *    request's environment, in the request's working directory, stdin from stdin frames or
 *    /dev/null;
 *  - the command is the leader of a new session and process group; this process is a child
 *    subreaper, so every descendant, even one that left the group, stays findable;
 *  - when the command exits, times out, is killed by a K frame, or the host disconnects, the
 *    whole tree is killed with SIGKILL before the exit frame is sent;
 *  - each output stream is forwarded up to the request's limit, then drained and discarded
 *    (the writer never sees EPIPE), and the exit frame says which stream was truncated;
 *  - a failure before the command runs (bad request, chdir, execve) is an error frame
 *    {errno, step}, never an exit status, so it cannot be confused with the command's own.
 * Buffers are bounded: one request (MAX_REQUEST), one stdin chunk, one output chunk.
 */
#define _GNU_SOURCE
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"

#define REQUEST_WAIT_MS 30000  /* the host sends its request right after connecting */
#define WRITE_STALL_MS 30000   /* a host that reads nothing for this long is gone */
#define KILL_WAIT_MS 5000      /* tree kill: how long to wait for the last process to die */
#define AGENT_VERSION "kavach-agent 1"

int guest_mode;

struct request {
  uint32_t timeout_ms; /* 0: none */
  uint32_t output_limit;
  uint32_t flags;
  char *cwd;    /* "" for the agent's default */
  char **argv;  /* NULL-terminated */
  char **env;   /* NULL-terminated */
  uint8_t *bpf; /* seccomp filter for the command, NULL for none */
  uint32_t bpf_len;
};

static void send_error(int conn, int err, const char *step) {
  uint8_t buf[256];
  size_t n = strlen(step);
  if (n > sizeof buf - 4) n = sizeof buf - 4;
  put_u32(buf, (uint32_t)err);
  memcpy(buf + 4, step, n);
  frame_write(conn, T_ERROR, buf, (uint32_t)(4 + n), now_ms() + WRITE_STALL_MS);
}

/* Parses "len|bytes" at *pos into a new NUL-terminated string; NUL inside is refused. */
static char *take_string(const uint8_t *p, uint32_t len, uint32_t *pos) {
  if (len - *pos < 4) return NULL;
  uint32_t n = get_u32(p + *pos);
  *pos += 4;
  if (n > len - *pos || memchr(p + *pos, 0, n) != NULL) return NULL;
  char *s = malloc((size_t)n + 1);
  if (s == NULL) return NULL;
  memcpy(s, p + *pos, n);
  s[n] = 0;
  *pos += n;
  return s;
}

static char **take_strings(const uint8_t *p, uint32_t len, uint32_t *pos, int need_one) {
  if (len - *pos < 4) return NULL;
  uint32_t count = get_u32(p + *pos);
  *pos += 4;
  if (count > MAX_STRINGS || (need_one && count == 0)) return NULL;
  char **v = calloc((size_t)count + 1, sizeof *v);
  if (v == NULL) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    v[i] = take_string(p, len, pos);
    if (v[i] == NULL) return NULL; /* the session process exits soon; nothing to free */
  }
  return v;
}

static int parse_request(const uint8_t *p, uint32_t len, struct request *r) {
  uint32_t pos = 16;
  if (len < 16 || get_u32(p) != PROTOCOL_VERSION) return -1;
  r->timeout_ms = get_u32(p + 4);
  r->output_limit = get_u32(p + 8);
  r->flags = get_u32(p + 12);
  r->cwd = take_string(p, len, &pos);
  if (r->cwd == NULL) return -1;
  r->argv = take_strings(p, len, &pos, 1);
  if (r->argv == NULL) return -1;
  r->env = take_strings(p, len, &pos, 0);
  if (r->env == NULL) return -1;
  r->bpf = NULL;
  r->bpf_len = 0;
  if (pos != len) {
    /* Optional trailing field: a classic BPF program, 8 bytes per instruction, at most the
     * kernel's BPF_MAXINSNS (4096). */
    if (len - pos < 4) return -1;
    uint32_t n = get_u32(p + pos);
    pos += 4;
    if (n != len - pos || n == 0 || n % 8 != 0 || n / 8 > 4096) return -1;
    r->bpf = malloc(n);
    if (r->bpf == NULL) return -1;
    memcpy(r->bpf, p + pos, n);
    r->bpf_len = n;
    pos += n;
  }
  for (char **e = r->env; *e != NULL; e++) {
    if (strchr(*e, '=') == NULL || **e == '=') return -1;
  }
  return 0;
}

static const char *env_path(char **env) {
  for (char **e = env; *e != NULL; e++) {
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  }
  return "/usr/local/bin:/usr/bin:/bin";
}

/* execve, looking argv[0] up on the command's PATH (not the agent's), like execvpe. */
static void exec_command(struct request *r) {
  const char *file = r->argv[0];
  if (strchr(file, '/') != NULL) {
    execve(file, r->argv, r->env);
    return;
  }
  int saved = ENOENT;
  const char *path = env_path(r->env);
  char candidate[4096];
  while (*path != 0) {
    const char *end = strchr(path, ':');
    size_t dirlen = end == NULL ? strlen(path) : (size_t)(end - path);
    if (dirlen > 0 && dirlen + strlen(file) + 2 <= sizeof candidate) {
      memcpy(candidate, path, dirlen);
      candidate[dirlen] = '/';
      strcpy(candidate + dirlen + 1, file);
      execve(candidate, r->argv, r->env);
      if (errno == EACCES) saved = EACCES; /* keep looking; report EACCES if nothing runs */
      else if (errno != ENOENT && errno != ENOTDIR) return;
    }
    if (end == NULL) break;
    path = end + 1;
  }
  errno = saved;
}

/* In the forked child: becomes the command. Reports a failing step on status_fd. */
static void become_command(struct request *r, int in_fd, int out_fd, int err_fd, int status_fd) {
  const char *step = "setsid";
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL); /* SIGPIPE was ignored by the agent */
  if (setsid() < 0) goto fail;
  step = "dup2";
  if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) goto fail;
  step = "chdir";
  const char *cwd = r->cwd[0] != 0 ? r->cwd : (access("/workspace", X_OK) == 0 ? "/workspace" : "/");
  if (chdir(cwd) < 0) goto fail;
  if (r->bpf != NULL) {
    /* Last step before execve, as in the launcher: the filter binds the command, not the agent.
     * no_new_privs first, which the kernel requires of a process without CAP_SYS_ADMIN and which
     * keeps a setuid program from shedding the filter's intent. */
    step = "no_new_privs";
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) goto fail;
    step = "seccomp";
    struct sock_fprog prog = {.len = (unsigned short)(r->bpf_len / 8),
                              .filter = (struct sock_filter *)r->bpf};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) goto fail;
  }
  step = "execve";
  exec_command(r);
fail:;
  uint8_t buf[64];
  put_u32(buf, (uint32_t)errno);
  size_t n = strlen(step);
  memcpy(buf + 4, step, n);
  ssize_t ignored = write(status_fd, buf, 4 + n);
  (void)ignored;
  _exit(127);
}

/* Every process below this one, found through /proc (children of a child subreaper included). */
static int kill_descendants(pid_t self) {
  enum { MAX = 8192 };
  static pid_t pids[MAX], ppids[MAX];
  int n = 0, killed = 0;
  DIR *d = opendir("/proc");
  if (d == NULL) return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < MAX) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) continue;
    buf[len] = 0;
    char *close_paren = strrchr(buf, ')'); /* the name may contain spaces and parentheses */
    int ppid;
    if (close_paren == NULL || sscanf(close_paren + 1, " %*c %d", &ppid) != 1) continue;
    pids[n] = atoi(e->d_name);
    ppids[n] = ppid;
    n++;
  }
  closedir(d);
  /* Mark descendants by repeated passes; trees are shallow and n is bounded. */
  static char mark[MAX];
  memset(mark, 0, sizeof mark);
  for (int changed = 1; changed;) {
    changed = 0;
    for (int i = 0; i < n; i++) {
      if (mark[i]) continue;
      int parent_marked = ppids[i] == self;
      for (int j = 0; j < n && !parent_marked; j++) parent_marked = mark[j] && pids[j] == ppids[i];
      if (parent_marked) {
        mark[i] = 1;
        changed = 1;
      }
    }
  }
  for (int i = 0; i < n; i++) {
    if (mark[i] && kill(pids[i], SIGKILL) == 0) killed++;
  }
  return killed;
}

struct stream {
  int fd; /* -1 once closed */
  uint8_t type;
  uint64_t sent;
  int truncated;
};

/* Everything one exec tracks between poll turns. */
struct session {
  int conn;
  pid_t child;
  int exited;
  int wstatus;
  int tree_killed;
  int peer_ok;
  int timed_out;
  int killed;
  int stdin_fd;
  uint8_t inbuf[FRAME_HEADER + MAX_CHUNK]; /* at most one frame from the host at a time */
  uint32_t inlen;
  uint8_t pending[MAX_CHUNK]; /* stdin bytes not yet taken by the command */
  uint32_t pending_off;
  uint32_t pending_len;
  int close_stdin_after;
  struct stream streams[2];
};

/* Reaps whatever has exited below us, keeping the command's own status. */
static void reap(struct session *s) {
  int st;
  pid_t w;
  while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
    if (w == s->child) {
      s->exited = 1;
      s->wstatus = st;
    }
  }
}

/* Kills the command's process group and every other descendant, then reaps them all. */
static void kill_tree(struct session *s) {
  pid_t self = getpid();
  s->tree_killed = 1;
  kill(-s->child, SIGKILL);
  kill(s->child, SIGKILL);
  int64_t deadline = now_ms() + KILL_WAIT_MS;
  for (;;) {
    kill_descendants(self);
    reap(s);
    errno = 0;
    if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD) return; /* nothing left below us */
    if (now_ms() > deadline) return;
    usleep(2000);
  }
}

/* Forwards what one pipe has; past the limit it drains and discards. */
static void pump(struct session *s, struct stream *st, uint32_t limit) {
  static uint8_t buf[MAX_CHUNK];
  ssize_t n = read(st->fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    close(st->fd);
    st->fd = -1;
    return;
  }
  uint64_t room = st->sent < limit ? limit - st->sent : 0;
  uint32_t forward = (uint64_t)n < room ? (uint32_t)n : (uint32_t)room;
  if (forward < (uint64_t)n) st->truncated = 1;
  if (forward > 0 && s->peer_ok) {
    st->sent += forward;
    if (frame_write(s->conn, st->type, buf, forward, now_ms() + WRITE_STALL_MS) < 0) {
      s->peer_ok = 0; /* the host is gone or stalled: it cannot want this command any more */
    }
  }
}

/* Consumes buffered host frames until a stdin chunk is pending or no whole frame is left. */
static void take_frames(struct session *s) {
  while (s->pending_len == 0 && s->inlen >= FRAME_HEADER && s->peer_ok) {
    uint8_t type = s->inbuf[0];
    uint32_t len = get_u32(s->inbuf + 1);
    int known = type == T_STDIN || type == T_STDIN_CLOSE || type == T_KILL;
    if (!known || len > MAX_CHUNK || (type != T_STDIN && len != 0)) {
      s->peer_ok = 0; /* a protocol violation ends the exec like a disconnect */
      return;
    }
    if (s->inlen < FRAME_HEADER + len) return;
    if (type == T_STDIN && s->stdin_fd >= 0) {
      memcpy(s->pending, s->inbuf + FRAME_HEADER, len);
      s->pending_off = 0;
      s->pending_len = len;
    } else if (type == T_STDIN_CLOSE) {
      s->close_stdin_after = 1;
    } else if (type == T_KILL) {
      s->killed = 1;
    }
    memmove(s->inbuf, s->inbuf + FRAME_HEADER + len, s->inlen - FRAME_HEADER - len);
    s->inlen -= FRAME_HEADER + len;
  }
}

static void read_host(struct session *s) {
  ssize_t n = read(s->conn, s->inbuf + s->inlen, sizeof s->inbuf - s->inlen);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    s->peer_ok = 0; /* disconnected: the command must not outlive the host's interest */
    return;
  }
  s->inlen += (uint32_t)n;
  take_frames(s);
}

static void feed_stdin(struct session *s) {
  ssize_t n = write(s->stdin_fd, s->pending + s->pending_off, s->pending_len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n < 0) {
    /* The command closed its stdin (EPIPE): that is its right; the rest is dropped. */
    close(s->stdin_fd);
    s->stdin_fd = -1;
    s->pending_len = 0;
  } else {
    s->pending_off += (uint32_t)n;
    s->pending_len -= (uint32_t)n;
  }
  if (s->pending_len == 0) take_frames(s);
}

static void send_exit(struct session *s) {
  uint8_t x[12];
  int code = 0, sig = 0;
  if (WIFEXITED(s->wstatus)) {
    code = WEXITSTATUS(s->wstatus);
  } else if (WIFSIGNALED(s->wstatus)) {
    sig = WTERMSIG(s->wstatus);
    code = 128 + sig;
  }
  put_u32(x, (uint32_t)code);
  put_u32(x + 4, (uint32_t)sig);
  x[8] = (uint8_t)s->timed_out;
  x[9] = (uint8_t)s->killed;
  x[10] = (uint8_t)s->streams[0].truncated;
  x[11] = (uint8_t)s->streams[1].truncated;
  frame_write(s->conn, T_EXIT, x, sizeof x, now_ms() + WRITE_STALL_MS);
}

/* Reads the request frame; answers a ping. Returns 0 with *req filled, or -1 when done. */
static int read_request(int conn, struct request *req) {
  uint8_t header[FRAME_HEADER];
  if (read_full(conn, header, sizeof header, now_ms() + REQUEST_WAIT_MS) < 0) return -1;
  uint32_t len = get_u32(header + 1);
  if (header[0] == T_PING && len == 0) {
    frame_write(conn, T_PING, AGENT_VERSION, sizeof AGENT_VERSION - 1, now_ms() + WRITE_STALL_MS);
    return -1;
  }
  if (header[0] != T_REQUEST || len > MAX_REQUEST) {
    send_error(conn, EPROTO, "request: the first frame must be Q (at most 1 MiB) or P");
    return -1;
  }
  uint8_t *payload = malloc(len == 0 ? 1 : len);
  if (payload == NULL) {
    send_error(conn, ENOMEM, "request");
    return -1;
  }
  if (read_full(conn, payload, len, now_ms() + REQUEST_WAIT_MS) < 0) return -1;
  if (parse_request(payload, len, req) < 0) {
    send_error(conn, EINVAL, "request: malformed (version, strings, NUL byte, env entry without =)");
    return -1;
  }
  free(payload);
  return 0;
}

void serve_session(int conn) {
  static struct session s; /* large buffers; one session per process */
  struct request req;
  if (read_request(conn, &req) < 0) return;

  /* Learn of every descendant's death here rather than at PID 1. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  int in[2] = {-1, -1}, out[2], err[2], status[2];
  int want_stdin = (req.flags & REQ_FLAG_STDIN) != 0;
  int ok = sfd >= 0 && pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0 &&
           pipe2(status, O_CLOEXEC) == 0;
  if (ok && want_stdin) ok = pipe2(in, O_CLOEXEC) == 0;
  if (ok && !want_stdin) ok = (in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;
  if (!ok) {
    send_error(conn, errno, "pipe");
    return;
  }
  int64_t started = now_ms();
  s.conn = conn;
  s.peer_ok = 1;
  s.child = fork();
  if (s.child < 0) {
    send_error(conn, errno, "fork");
    return;
  }
  if (s.child == 0) become_command(&req, in[0], out[1], err[1], status[1]);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(status[1]);

  /* The status pipe closes on a successful execve; otherwise it carries {errno, step}. */
  uint8_t failure[64];
  ssize_t flen;
  do flen = read(status[0], failure, sizeof failure - 1);
  while (flen < 0 && errno == EINTR);
  close(status[0]);
  if (flen >= 4) {
    failure[flen] = 0;
    kill_tree(&s);
    send_error(conn, (int)get_u32(failure), (const char *)failure + 4);
    return;
  }

  s.stdin_fd = want_stdin ? in[1] : -1;
  if (s.stdin_fd >= 0) fcntl(s.stdin_fd, F_SETFL, O_NONBLOCK);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(err[0], F_SETFL, O_NONBLOCK);
  fcntl(conn, F_SETFL, fcntl(conn, F_GETFL) | O_NONBLOCK);
  s.streams[0] = (struct stream){out[0], T_STDOUT, 0, 0};
  s.streams[1] = (struct stream){err[0], T_STDERR, 0, 0};
  int64_t deadline = req.timeout_ms > 0 ? started + req.timeout_ms : INT64_MAX;
  int64_t drain_deadline = INT64_MAX;

  while (!s.exited || s.streams[0].fd >= 0 || s.streams[1].fd >= 0) {
    if (!s.exited && now_ms() >= deadline) s.timed_out = 1;
    if (!s.tree_killed && (s.exited || s.timed_out || s.killed || !s.peer_ok)) {
      /* Done, timed out, killed or abandoned: nothing the command started may outlive it. */
      kill_tree(&s);
    }
    if (s.exited && drain_deadline == INT64_MAX) drain_deadline = now_ms() + KILL_WAIT_MS;
    if (now_ms() > drain_deadline) break; /* a pipe held open by a process we could not kill */
    if (s.close_stdin_after && s.pending_len == 0 && s.stdin_fd >= 0) {
      close(s.stdin_fd);
      s.stdin_fd = -1;
    }

    struct pollfd p[5];
    int np = 0, i_conn = -1, i_in = -1, i_out = -1, i_err = -1;
    p[np++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    if (s.peer_ok) {
      /* Read the next frame only once the last stdin chunk is taken: bounded memory. */
      i_conn = np;
      p[np++] = (struct pollfd){.fd = conn, .events = s.pending_len == 0 ? POLLIN | POLLRDHUP : POLLRDHUP};
    }
    if (s.stdin_fd >= 0 && s.pending_len > 0) {
      i_in = np;
      p[np++] = (struct pollfd){.fd = s.stdin_fd, .events = POLLOUT};
    }
    if (s.streams[0].fd >= 0) {
      i_out = np;
      p[np++] = (struct pollfd){.fd = s.streams[0].fd, .events = POLLIN};
    }
    if (s.streams[1].fd >= 0) {
      i_err = np;
      p[np++] = (struct pollfd){.fd = s.streams[1].fd, .events = POLLIN};
    }
    int64_t wait = s.tree_killed ? 100 : deadline - now_ms();
    if (wait > 1000) wait = 1000;
    if (wait < 0) wait = 0;
    if (poll(p, (nfds_t)np, (int)wait) < 0 && errno != EINTR) break;

    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM) s.killed = 1; /* the agent is shutting down */
      }
      reap(&s);
    }
    if (i_conn >= 0 && (p[i_conn].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))) {
      if (s.pending_len == 0) {
        read_host(&s);
      } else {
        s.peer_ok = 0; /* hung up while we still held its stdin */
      }
    }
    if (i_in >= 0 && (p[i_in].revents & (POLLOUT | POLLERR | POLLHUP))) feed_stdin(&s);
    if (i_out >= 0 && (p[i_out].revents & (POLLIN | POLLHUP | POLLERR))) {
      pump(&s, &s.streams[0], req.output_limit);
    }
    if (i_err >= 0 && (p[i_err].revents & (POLLIN | POLLHUP | POLLERR))) {
      pump(&s, &s.streams[1], req.output_limit);
    }
  }
  if (s.stdin_fd >= 0) close(s.stdin_fd);
  if (!s.peer_ok) return;
  if (guest_mode) sync(); /* the workspace image is read by the host after the exit frame */
  send_exit(&s);
  /* Closing with unread host bytes (stdin the command never took) would reset the connection
   * and could cost the host the exit frame: end our side and drain until the host closes. */
  shutdown(conn, SHUT_WR);
  static uint8_t sink[MAX_CHUNK];
  int64_t linger = now_ms() + 2000;
  while (now_ms() < linger) {
    struct pollfd p = {.fd = conn, .events = POLLIN};
    if (poll(&p, 1, 100) > 0 && read(conn, sink, sizeof sink) <= 0) break;
  }
}
