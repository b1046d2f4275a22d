/*
 * kavach-agent-oci: the small program kavach runs inside the containers it manages (runc, crun, runsc,
 * podman). It is linked statically so that it runs in any root filesystem, including a
 * busybox-only image, and it is bound read-only into the container at /.kavach/kavach-agent-oci.
 *
 * It never raises privileges: it runs with the container's uid, no capabilities, no_new_privs and
 * the container's seccomp filter, exactly like the commands it starts.
 *
 *   kavach-agent-oci init [NAME]
 *       The container's long-running first process. Reaps orphans; exits on SIGTERM or SIGINT.
 *       NAME (the container's name) is ignored; it makes a leaked init findable by name.
 *
 *   kavach-agent-oci exec -- PROGRAM ARGS...
 *       Runs one command and reports how it ended. Guarantees:
 *       - The command's environment is exactly the NUL-separated K=V list in the spec file
 *         /.kavach/run/<token>.env, which is read and unlinked before the command starts (so
 *         secrets never appear in any argv and live on tmpfs only for milliseconds). <token>
 *         arrives in KAVACH_AGENT_TOKEN; the run directory is not listable by the container's uid,
 *         so one exec cannot find another's files.
 *       - The agent is a child subreaper: every process the command starts stays in the agent's
 *         subtree, even after a double fork. When the command exits, or when the agent gets
 *         SIGTERM (a timeout or a stop), it kills that whole subtree with SIGKILL and reaps it.
 *       - Where Landlock ABI >= 6 is available, the command runs in a Landlock domain scoped for
 *         signals, so it cannot kill the agent (or any process outside its own tree) to escape
 *         that cleanup.
 *       - Standard input is the agent's own, or the file /.kavach/run/<token>.stdin when kavach
 *         sends it that way (opened and unlinked before the command starts).
 *       - Secret files listed in /.kavach/run/<token>.files (read and unlinked like the env) are
 *         written, before the command starts, into their directories, which must be tmpfs.
 *       - A seccomp filter in /.kavach/run/<token>.bpf (struct sock_filter[], compiled by kavach),
 *         if present, is read, unlinked and installed in the command's process just before exec;
 *         failing to install it stops the exec ("error seccomp ...").
 *       - The outcome goes to /.kavach/run/<token>.status, never to the command's stdout or
 *         stderr, as lines: "pid N" (the agent, as seen inside the container), "subreaper 1|0
 *         ERRNO", "scope 1|0 ABI ERRNO", then exactly one of "exit N", "signal N" or "error STEP ERRNO MESSAGE". The agent then
 *         exits with the command's status (128+N for a signal), so a runtime that only forwards
 *         the exit status still gets the conventional number.
 *
 *   kavach-agent-oci sweep
 *       Kills every orphan re-parented to init: what an exec left behind when its agent could not
 *       clean up (gVisor has no subreapers; an agent may die). Prints "swept N".
 *
 *   kavach-agent-oci probe
 *       Prints, one "key value" line each, what this process is subject to: ids, the
 *       security-relevant lines of /proc/self/status, network interfaces, whether / is read-only,
 *       the Landlock ABI, RLIMIT_NOFILE and RLIMIT_FSIZE, and the image's /etc/sy-agnos-release (hex).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <unistd.h>

#define RUN_DIR "/.kavach/run/"
#define MAX_SPEC (1024 * 1024)
#define EXIT_AGENT_FAILED 125

/* Landlock, defined here because Debian 12's headers predate signal scoping (ABI 6). */
#define LL_CREATE_RULESET 444
#define LL_RESTRICT_SELF 446
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

extern char **environ;

static int status_fd = -1;

/* One line, one write(2), O_APPEND: lines from the agent and its pre-exec child never mix.
 * Newlines in a message would forge extra lines, so they become spaces. */
static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  size_t len = n < 0 ? 0 : (size_t)n;
  if (len > sizeof line - 2) {
    len = sizeof line - 2;
  }
  for (size_t i = 0; i < len; i++) {
    if (line[i] == '\n' || line[i] == '\r') {
      line[i] = ' ';
    }
  }
  line[len++] = '\n';
  int fd = status_fd >= 0 ? status_fd : STDERR_FILENO;
  ssize_t ignored = write(fd, line, len);
  (void)ignored;
}

static void fail(const char *step, int err, const char *what) __attribute__((noreturn));
static void fail(const char *step, int err, const char *what) {
  report("error %s %d %s: %s", step, err, what, strerror(err));
  _exit(EXIT_AGENT_FAILED);
}

/* ---------------------------------------------------------------------------------------------
 * Subtree kill: SIGKILL every child, reap, repeat until none is left. Grandchildren of a killed
 * child are re-parented to us (we are a subreaper), so each round sees them as children.
 */

static int kill_children_of(pid_t parent, pid_t self) {
  DIR *d = opendir("/proc");
  if (d == NULL) {
    return 0;
  }
  int found = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self) {
      continue;
    }
    char path[64];
    char buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
      continue;
    }
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the
     * last ')'. */
    char *p = strrchr(buf, ')');
    char state;
    long ppid;
    if (p == NULL || sscanf(p + 1, " %c %ld", &state, &ppid) != 2) {
      continue;
    }
    if (ppid == parent) {
      kill((pid_t)pid, SIGKILL);
      found++;
    }
  }
  closedir(d);
  return found;
}

/* Kills every process whose parent is init (pid 1): orphans that left an exec's tree. init itself
 * never forks and execs' agents are children of the runtime (parent 0 inside the container), so
 * only escaped processes match. Used where the agent cannot be a subreaper (gVisor), after an
 * exec ends, and by "kavach-agent-oci sweep" when an exec's agent died without cleaning up. */
static int kill_orphans_of_init(void) {
  return kill_children_of(1, getpid());
}

/* Kills the whole subtree. Returns the wait status of main_child if it was reaped here. */
static int kill_subtree(pid_t main_child, int *main_status) {
  pid_t self = getpid();
  int reaped_main = 0;
  for (;;) {
    int st;
    /* Reap what is already dead; ECHILD means nothing is left, so the usual end of an exec
     * (no leftovers) costs one system call, not a walk of /proc. */
    pid_t p = waitpid(-1, &st, WNOHANG);
    if (p == 0) {
      if (main_child > 0) {
        kill(-main_child, SIGKILL); /* the command's process group: most of the tree at once */
        kill(main_child, SIGKILL);
      }
      kill_children_of(self, self);
      p = waitpid(-1, &st, 0);
    }
    if (p < 0) {
      if (errno == EINTR) {
        continue;
      }
      return reaped_main; /* ECHILD: nothing left */
    }
    if (p == main_child) {
      *main_status = st;
      reaped_main = 1;
      main_child = -1;
    }
  }
}

/* ---------------------------------------------------------------------------------------------
 * exec mode
 */

/* Reads and unlinks a spec file; NULL (with *len 0) when it is optional and absent. */
static char *read_spec(const char *path, size_t *len, int optional) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (optional && errno == ENOENT) {
      *len = 0;
      return NULL;
    }
    fail("spec", errno, path);
  }
  char *buf = malloc(MAX_SPEC + 1);
  if (buf == NULL) {
    fail("spec", ENOMEM, path);
  }
  size_t off = 0;
  for (;;) {
    ssize_t n = read(fd, buf + off, MAX_SPEC + 1 - off);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail("spec", errno, path);
    }
    if (n == 0) {
      break;
    }
    off += (size_t)n;
    if (off > MAX_SPEC) {
      fail("spec", EFBIG, path);
    }
  }
  close(fd);
  if (unlink(path) != 0) {
    fail("spec", errno, "unlink");
  }
  *len = off;
  return buf;
}

/* Splits NUL-separated K=V entries into a NULL-terminated array (pointers into buf). */
static char **parse_env(char *buf, size_t len) {
  size_t count = 0;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] == '\0') {
      count++;
    }
  }
  char **env = calloc(count + 2, sizeof(char *));
  if (env == NULL) {
    fail("spec", ENOMEM, "env");
  }
  size_t k = 0;
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] == '\0') {
      if (i > start) {
        env[k++] = buf + start;
      }
      start = i + 1;
    }
  }
  if (start < len) { /* a last entry without its NUL */
    buf[len] = '\0';
    env[k++] = buf + start;
  }
  env[k] = NULL;
  return env;
}

/* Secret files for the command, from the spec "<octal mode> <length> <path>\n<bytes>" per file.
 * Each is written under a temporary name in its directory and renamed over its path: a concurrent
 * exec's command never sees a partial file, and a symlink a command left at the path is replaced,
 * never followed. The file must land on a tmpfs (kavach mounts one at the directory, or it is the
 * container's /tmp), so a secret never reaches a disk. The spec's bytes are wiped as they go. */
static void write_secret_files(char *spec, size_t len) {
  size_t off = 0;
  int n = 0;
  while (off < len) {
    char *nl = memchr(spec + off, '\n', len - off);
    if (nl == NULL) {
      fail("secrets", EINVAL, "secret files spec: header without newline");
    }
    *nl = '\0';
    char *header = spec + off;
    char *end;
    errno = 0;
    unsigned long mode = strtoul(header, &end, 8);
    if (errno != 0 || end == header || *end != ' ' || mode > 0777) {
      fail("secrets", EINVAL, "secret files spec: bad mode");
    }
    char *size_field = end + 1;
    unsigned long long size = strtoull(size_field, &end, 10);
    if (errno != 0 || end == size_field || *end != ' ') {
      fail("secrets", EINVAL, "secret files spec: bad length");
    }
    const char *path = end + 1;
    const char *slash = strrchr(path, '/');
    size_t data = (size_t)(nl - spec) + 1;
    if (path[0] != '/' || slash == path || size > len - data) {
      fail("secrets", EINVAL, "secret files spec: bad path or length");
    }
    char tmp[4096];
    /* The pid, not the exec's token: the directory is readable by every command of the sandbox,
     * and the token names this exec's status file. */
    if (snprintf(tmp, sizeof tmp, "%.*s/.kavach-%d-%d", (int)(slash - path), path, (int)getpid(),
                 n) >= (int)sizeof tmp) {
      fail("secrets", ENAMETOOLONG, path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      fail("secrets", errno, path);
    }
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0 || fs.f_type != TMPFS_MAGIC) {
      unlink(tmp);
      fail("secrets", EXDEV, "secret file would not be on memory-backed storage");
    }
    size_t done = 0;
    while (done < size) {
      ssize_t w = write(fd, spec + data + done, (size_t)size - done);
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        int err = w < 0 ? errno : EIO;
        unlink(tmp);
        fail("secrets", err, path);
      }
      done += (size_t)w;
    }
    memset(spec + data, 0, (size_t)size);
    if (fchmod(fd, (mode_t)mode) != 0 || close(fd) != 0) {
      int err = errno;
      unlink(tmp);
      fail("secrets", err, path);
    }
    if (rename(tmp, path) != 0) {
      int err = errno;
      unlink(tmp);
      fail("secrets", err, path);
    }
    off = data + (size_t)size;
    n++;
  }
  report("secret-files %d", n);
}

static int token_ok(const char *t) {
  size_t n = strlen(t);
  if (n < 16 || n > 64) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    char c = t[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return 0;
    }
  }
  return 1;
}

/* Puts the command in a Landlock domain that may not signal processes outside it. Best effort:
 * the outcome is reported, and Java decides what it means. Landlock needs no_new_privs, which
 * the runtime has already set. */
static void scope_signals(void) {
  long abi = syscall(LL_CREATE_RULESET, NULL, 0, LL_CREATE_RULESET_VERSION);
  if (abi < 6) {
    report("scope 0 %ld %d", abi, abi < 0 ? errno : 0);
    return;
  }
  struct ll_ruleset_attr attr = {0, 0, LL_SCOPE_SIGNAL};
  long fd = syscall(LL_CREATE_RULESET, &attr, sizeof attr, 0);
  if (fd < 0) {
    report("scope 0 %ld %d", abi, errno);
    return;
  }
  if (syscall(LL_RESTRICT_SELF, (int)fd, 0) != 0) {
    report("scope 0 %ld %d", abi, errno);
    close((int)fd);
    return;
  }
  close((int)fd);
  report("scope 1 %ld 0", abi);
}

static int run_exec(char **argv) {
  const char *token = getenv("KAVACH_AGENT_TOKEN");
  if (token == NULL || !token_ok(token)) {
    report("error token %d KAVACH_AGENT_TOKEN is missing or malformed", EINVAL);
    return EXIT_AGENT_FAILED;
  }
  /* Not dumpable: /proc/<agent>/environ and fd/ become root-owned, so a command of another exec
   * (same uid) cannot read our token or reach our status fd. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  char path[128];
  snprintf(path, sizeof path, RUN_DIR "%s.status", token);
  status_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (status_fd < 0) {
    fail("status", errno, path);
  }
  report("pid %d", (int)getpid());
  /* gVisor (at least the 2022 runsc) has no subreapers; then an orphan that left the command's
   * tree is re-parented to init, and is swept from there when the exec ends. */
  int subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
  if (subreaper) {
    report("subreaper 1 0");
  } else {
    report("subreaper 0 %d", errno);
  }
  snprintf(path, sizeof path, RUN_DIR "%s.env", token);
  size_t len;
  char *spec = read_spec(path, &len, 0);
  char **env = parse_env(spec, len);
  snprintf(path, sizeof path, RUN_DIR "%s.files", token);
  size_t files_len;
  char *files = read_spec(path, &files_len, 1);
  if (files != NULL) {
    write_secret_files(files, files_len);
    free(files);
  }
  /* A seccomp filter for the command, compiled by kavach from the same profile data as the OCI
   * export: for runtimes that install linux.seccomp on the container's first process only (the
   * 2022 runsc does so; its exec'd processes would run without it). */
  snprintf(path, sizeof path, RUN_DIR "%s.bpf", token);
  size_t bpf_len;
  char *bpf = read_spec(path, &bpf_len, 1);
  /* Standard input as a file, for runtimes whose exec loses output when it forwards stdin. */
  snprintf(path, sizeof path, RUN_DIR "%s.stdin", token);
  int stdin_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (stdin_fd < 0 && errno != ENOENT) {
    fail("stdin", errno, path);
  }
  if (stdin_fd >= 0 && unlink(path) != 0) {
    fail("stdin", errno, "unlink");
  }
  if (bpf != NULL && (bpf_len == 0 || bpf_len % sizeof(struct sock_filter) != 0 ||
                      bpf_len / sizeof(struct sock_filter) > BPF_MAXINSNS)) {
    report("error seccomp %d filter of %zu bytes is not whole instructions", EINVAL, bpf_len);
    return EXIT_AGENT_FAILED;
  }

  sigset_t mask;
  sigset_t old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &mask, &old) != 0) {
    fail("signals", errno, "sigprocmask");
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    fail("pipe", errno, "pipe2");
  }
  /* vfork: no copy of the agent's address space, which matters under gVisor's ptrace platform,
   * where a fork costs milliseconds. The child only makes system calls, writes to its own stack
   * and fd table (not shared), and ends in execve or _exit. The environment is switched before,
   * since the child shares this process's memory; the agent does not read it again. */
  environ = env; /* execvp searches the command's own PATH */
  pid_t child = vfork();
  if (child < 0) {
    fail("fork", errno, "vfork");
  }
  if (child == 0) {
    close(pipefd[0]);
    if (stdin_fd >= 0 && dup2(stdin_fd, STDIN_FILENO) < 0) {
      report("error stdin %d dup2", errno);
      _exit(EXIT_AGENT_FAILED);
    }
    setpgid(0, 0);
    scope_signals();
    if (bpf != NULL) {
      /* Last, after Landlock: a strict profile may refuse the Landlock calls themselves. */
      struct sock_fprog prog = {(unsigned short)(bpf_len / sizeof(struct sock_filter)),
                                (struct sock_filter *)(void *)bpf};
      if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        int err = errno;
        report("error seccomp %d cannot install the filter: %s", err, strerror(err));
        _exit(EXIT_AGENT_FAILED);
      }
      report("seccomp 1 %u", prog.len);
    }
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(argv[0], argv);
    int err = errno;
    ssize_t ignored = write(pipefd[1], &err, sizeof err);
    (void)ignored;
    _exit(err == ENOENT ? 127 : 126);
  }
  close(pipefd[1]);
  if (stdin_fd >= 0) {
    close(stdin_fd);
  }
  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(pipefd[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  close(pipefd[0]);
  if (got == (ssize_t)sizeof exec_errno) {
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    report("error exec %d cannot execute %s: %s", exec_errno, argv[0], strerror(exec_errno));
    return exec_errno == ENOENT ? 127 : 126;
  }

  int main_status = 0;
  int have_main = 0;
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&mask, &info);
    if (sig < 0) {
      continue;
    }
    if (sig == SIGCHLD) {
      int st;
      pid_t p;
      while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        if (p == child) {
          main_status = st;
          have_main = 1;
        }
      }
      if (!have_main) {
        continue;
      }
      /* The command is done: whatever it left running goes with it, as on the process
       * backend, where the command's PID namespace ends with it. */
      kill_subtree(-1, &main_status);
      break;
    }
    /* SIGTERM, SIGINT, SIGHUP: kavach stops this exec (timeout, stop). */
    report("killed %d", sig);
    if (kill_subtree(child, &main_status)) {
      have_main = 1;
    }
    break;
  }
  if (!subreaper) {
    kill_orphans_of_init();
  }
  if (WIFSIGNALED(main_status)) {
    report("signal %d", WTERMSIG(main_status));
    return 128 + WTERMSIG(main_status);
  }
  report("exit %d", WEXITSTATUS(main_status));
  return WEXITSTATUS(main_status);
}

/* ---------------------------------------------------------------------------------------------
 * init mode
 */

static int run_init(void) {
  /* The runtime hands init the stdio of the command that created the container; holding those
   * pipes would keep that command's reader waiting for end-of-file for the container's life. */
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(null);
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  for (;;) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    int sig = sigwaitinfo(&mask, NULL);
    if (sig == SIGTERM || sig == SIGINT) {
      return 0;
    }
  }
}

/* ---------------------------------------------------------------------------------------------
 * probe mode
 */

static void print_status_lines(void) {
  static const char *keys[] = {"NoNewPrivs:", "Seccomp:", "Seccomp_filters:", "CapInh:", "CapPrm:",
                               "CapEff:",     "CapBnd:",  "CapAmb:"};
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL) {
    printf("status-error %d\n", errno);
    return;
  }
  char line[512];
  while (fgets(line, sizeof line, f) != NULL) {
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      size_t k = strlen(keys[i]);
      if (strncmp(line, keys[i], k) == 0) {
        char *v = line + k;
        v += strspn(v, " \t");
        v[strcspn(v, "\n")] = '\0';
        printf("%.*s %s\n", (int)(k - 1), keys[i], v);
      }
    }
  }
  fclose(f);
}

static void print_interfaces(void) {
  FILE *f = fopen("/proc/net/dev", "re");
  if (f == NULL) {
    printf("netdev-error %d\n", errno);
    return;
  }
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (n++ < 2) {
      continue; /* two header lines */
    }
    char *colon = strchr(line, ':');
    if (colon == NULL) {
      continue;
    }
    *colon = '\0';
    char *name = line + strspn(line, " ");
    printf("netif %s\n", name);
  }
  fclose(f);
}

static void print_release(void) {
  int fd = open("/etc/sy-agnos-release", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("release-missing %d\n", errno);
    return;
  }
  unsigned char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  printf("release ");
  for (ssize_t i = 0; i < n; i++) {
    printf("%02x", buf[i]);
  }
  printf("\n");
}

/* Whether the root mount is read-only: statvfs's ST_RDONLY, or the per-mount options of the
 * topmost "/" line of /proc/self/mountinfo (gVisor's statfs does not set ST_RDONLY). */
static int root_read_only(void) {
  struct statvfs vfs;
  if (statvfs("/", &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
    return 1;
  }
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL) {
    return 0;
  }
  char line[4096];
  int ro = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    /* id parent major:minor root mountpoint options ... */
    char mountpoint[1024];
    char options[1024];
    if (sscanf(line, "%*s %*s %*s %*s %1023s %1023s", mountpoint, options) != 2) {
      continue;
    }
    if (strcmp(mountpoint, "/") != 0) {
      continue;
    }
    ro = 0;
    for (char *tok = strtok(options, ","); tok != NULL; tok = strtok(NULL, ",")) {
      if (strcmp(tok, "ro") == 0) {
        ro = 1;
      }
    }
  }
  fclose(f);
  return ro;
}

static int run_probe(void) {
  printf("uid %d %d\n", (int)getuid(), (int)geteuid());
  printf("gid %d %d\n", (int)getgid(), (int)getegid());
  print_status_lines();
  /* gVisor's /proc/self/status has no NoNewPrivs line; its prctl answers for its own kernel. */
  printf("nnp-prctl %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  printf("seccomp-prctl %d\n", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  print_interfaces();
  printf("root-readonly %d\n", root_read_only());
  /* Namespaces seen from inside: our init is pid 1 only in a pid namespace of our own, and the
   * host name is ours only in a uts namespace (gVisor's, whose namespaces the host cannot see). */
  char comm[64] = "";
  int cfd = open("/proc/1/comm", O_RDONLY | O_CLOEXEC);
  if (cfd >= 0) {
    ssize_t n = read(cfd, comm, sizeof comm - 1);
    close(cfd);
    comm[n > 0 ? n : 0] = '\0';
    comm[strcspn(comm, "\n")] = '\0';
  }
  printf("init %s\n", comm[0] ? comm : "-");
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') {
    printf("hostname %s\n", host);
  }
  long abi = syscall(LL_CREATE_RULESET, NULL, 0, LL_CREATE_RULESET_VERSION);
  printf("landlock-abi %ld\n", abi < 0 ? 0 : abi);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    printf("nofile %llu %llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  }
  if (getrlimit(RLIMIT_FSIZE, &rl) == 0) {
    printf("fsize %llu %llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  }
  print_release();
  return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "init") == 0) {
    return run_init();
  }
  if (argc >= 2 && strcmp(argv[1], "probe") == 0) {
    return run_probe();
  }
  if (argc >= 2 && strcmp(argv[1], "sweep") == 0) {
    printf("swept %d\n", kill_orphans_of_init());
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "exec") == 0 && strcmp(argv[2], "--") == 0) {
    return run_exec(argv + 3);
  }
  fprintf(stderr, "usage: kavach-agent-oci init [NAME] | probe | sweep | exec -- PROGRAM ARGS...\n");
  return 2;
}
