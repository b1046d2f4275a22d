/*
 * kavach-launch: runs one untrusted command in a sandbox that Java (dev.kavach.backend.process)
 * specified, applies every restriction in a fixed order, and reports what it applied.
 *
 * Guarantees, when the status channel ends in "ready" (otherwise the command never started):
 *   1. The command runs as an unprivileged uid (never host uid 0), in new user, PID, mount,
 *      IPC, UTS and cgroup namespaces, and a new network namespace with only loopback unless
 *      --net host. It sees only processes of its own sandbox.
 *   2. It joined every --cgroup-procs cgroup before anything else happened, so every process
 *      it will ever create is accounted and limited there.
 *   3. Its filesystem is a read-only tmpfs root with read-only host system directories, a fresh
 *      /proc, a minimal /dev, a private /tmp, /workspace and the policy's paths; nothing else of
 *      the host (see mounts.c). Secret files live in memory only.
 *   4. It has no capabilities in any set (bounding and ambient included), locked securebits,
 *      no_new_privs, no core dumps, and cannot create user namespaces.
 *   5. With --landlock, Landlock confines writes to /workspace, /tmp and --rw paths, TCP to the
 *      --allow-port ports, and signals and abstract unix sockets to the sandbox.
 *   6. With --seccomp, the filter is installed last, after every other step, in the command
 *      itself right before execve (init, which reaps and reports, stays unfiltered).
 *   7. When the command exits, everything else in the sandbox is killed; when the JVM dies, or
 *      this process is killed, the whole sandbox dies with it.
 *
 * Order (fixed): status channel; join cgroups; watch the JVM; drop supplementary groups; clone
 * idmapped bind sources (root only); take the sandbox's uid; [--wait: read the command from
 * stdin]; read and unlink the run files; clone init into new namespaces; [init:] map its own uid/gid; filesystem view and pivot_root;
 * loopback; hostname; nested-userns limit; rlimits; new session; non-dumpable; drop
 * capabilities and lock securebits; no_new_privs; Landlock; fork; [command:] seccomp and exec;
 * reap; exit with its status.
 *
 * Root host: the command runs as a per-sandbox unprivileged host uid (Java picks it), mapped to
 * itself in a user namespace; the supervisor switches to that uid before clone, so nothing of
 * the sandbox keeps host root. The workspace and policy paths are cloned (open_tree) and, if
 * their owner is not that uid, idmapped so the owner's files act as the command's there and
 * only there. A user namespace rather than a bare setuid: mounts built inside it are locked
 * against the command, and max_user_namespaces=0 inside it stops nested ones even without
 * seccomp. Without root the same path runs with the JVM's own uid.
 *
 * Channels: non-secret options in argv (options.h). The environment, secret files and the BPF
 * program arrive as 0600 files in a 0700 run directory on tmpfs and are unlinked as soon as they
 * are read (runfiles.h). Facts and failures go to the status file (log.h), never to the
 * command's stdout or stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "log.h"
#include "mounts.h"
#include "namespaces.h"
#include "options.h"
#include "relay.h"
#include "runfiles.h"
#include "seccomp.h"

#define MAX_ENV_BYTES (4u << 20)
#define MAX_SECRET_BYTES (16u << 20)
#define MAX_FILTER_BYTES (4096u * 8)

/* The status file is named in argv; open it before parsing anything else, so that even an
 * option error reaches Java on the channel it reads. */
static void open_status_early(int argc, char **argv) {
  for (int i = 1; i + 1 < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--status") == 0) {
      if (status_open(argv[i + 1]) != 0) {
        fprintf(stderr, "kavach-launch: cannot open status file %s: %s\n", argv[i + 1],
                strerror(errno));
        exit(EXIT_SETUP_FAILED);
      }
      return;
    }
  }
}

static void join_cgroups(const struct options *o) {
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%d\n", getpid());
  for (int i = 0; i < o->n_cgroups; i++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int fd = open(o->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, pid, (size_t)len) != len) {
      DIE("cgroup", "join %s", o->cgroup_procs[i]);
    }
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* The microseconds a join took: moving a process between cgroups waits for an RCU grace
     * period now and then, the one part of a launch that depends on the machine's load. */
    report("cgroup %s %ld", o->cgroup_procs[i],
           (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
  }
}

/* A pidfd of the JVM, checked against --parent-pid so a JVM that died before we looked (we
 * would have been reparented) is noticed too. */
static int watch_parent(const struct options *o) {
  if (o->parent_pid == 0) {
    return -1;
  }
  int fd = (int)syscall(SYS_pidfd_open, o->parent_pid, 0);
  if (fd < 0 || getppid() != o->parent_pid) {
    fail("parent", fd < 0 ? errno : ESRCH, "parent %d is gone", o->parent_pid);
  }
  return fd;
}

/* From here on nothing needs root: the supervisor takes the sandbox's uid before creating
 * anything for it, so no process of the sandbox, the supervisor included, holds host root while
 * the command runs, and init, created with that uid, maps it in its own user namespace without
 * waiting for us. Without root the uid already is ours. */
static void become_sandbox_uid(const struct options *o) {
  if (geteuid() != 0) {
    if (geteuid() != o->uid || getegid() != o->gid) {
      fail("options", EPERM, "without root --uid/--gid must be ours (%u:%u)", geteuid(),
           getegid());
    }
    return;
  }
  if (setresgid(o->gid, o->gid, o->gid) != 0) {
    DIE("uid", "setresgid %u", o->gid);
  }
  if (setresuid(o->uid, o->uid, o->uid) != 0) {
    DIE("uid", "setresuid %u", o->uid);
  }
}

/* Reads exactly n bytes of stdin, never more: what follows is the command's input. */
static void read_exact(char *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = read(STDIN_FILENO, buf + done, n - done);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r == 0) {
      /* The JVM died (or gave the prepared launch up): nothing to run, nobody to report to. */
      status_abandon();
      _exit(0);
    }
    if (r < 0) {
      DIE("wait", "read the command from stdin");
    }
    done += (size_t)r;
  }
}

/* --wait: the command arrives on stdin once Java has an exec for this prepared launch. */
static char **read_command(void) {
  char line[16];
  size_t n = 0;
  while (n < sizeof line - 1) {
    read_exact(line + n, 1);
    if (line[n] == '\n') {
      break;
    }
    n++;
  }
  line[n] = '\0';
  char *end;
  unsigned long len = strtoul(line, &end, 10);
  if (n == 0 || *end != '\0' || len == 0 || len > (1u << 20)) {
    fail("wait", EINVAL, "bad command header");
  }
  char *buf = malloc(len);
  if (buf == NULL) {
    DIE("wait", "malloc");
  }
  read_exact(buf, len);
  if (buf[len - 1] != '\0') {
    fail("wait", EINVAL, "command is not NUL-terminated");
  }
  size_t argc = 0;
  for (size_t i = 0; i < len; i++) {
    argc += buf[i] == '\0';
  }
  char **argv = calloc(argc + 1, sizeof *argv);
  if (argv == NULL) {
    DIE("wait", "calloc");
  }
  size_t k = 0;
  for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
    argv[k++] = buf + i;
  }
  if (argv[0][0] == '\0') {
    fail("wait", EINVAL, "empty command");
  }
  report("go");
  return argv;
}

static void read_run_files(struct launch *l) {
  const struct options *o = &l->opts;
  static char *empty_env[] = {NULL};
  l->env = empty_env;
  if (o->env_file != NULL) {
    l->env = parse_env(read_and_unlink("env", o->env_file, MAX_ENV_BYTES));
  }
  if (o->secrets_file != NULL) {
    struct blob b = read_and_unlink("secrets", o->secrets_file, MAX_SECRET_BYTES);
    l->n_secrets = parse_secrets(b, l->secrets, MAX_SECRETS);
  }
  if (o->seccomp_file != NULL) {
    l->filter = read_and_unlink("seccomp", o->seccomp_file, MAX_FILTER_BYTES);
    check_filter(l->filter);
  }
}

int main(int argc, char **argv) {
  static struct launch l;
  open_status_early(argc, argv);
  parse_options(argc, argv, &l.opts);
  if (l.opts.probe) {
    return probe();
  }
  if (status_fd() < 0 && status_open(l.opts.status) != 0) {
    /* --status=FILE, which the early scan does not look for. */
    fprintf(stderr, "kavach-launch: cannot open status file %s: %s\n", l.opts.status,
            strerror(errno));
    return EXIT_SETUP_FAILED;
  }
  report("launcher 1 %d", getpid());
  l.args_start = argv[0];
  l.args_end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
  join_cgroups(&l.opts);
  int parent = watch_parent(&l.opts);
  if (geteuid() == 0 && setgroups(0, NULL) != 0) {
    /* A root JVM's supplementary groups (gid 0 among them) would survive into the user
     * namespace and keep granting group access to host files. */
    DIE("groups", "setgroups(0)");
  }
  open_host_trees(&l.opts, &l.trees);
  l.relay_socket = l.opts.relay_socket ? relay_open_socket(l.opts.relay_socket) : -1;
  become_sandbox_uid(&l.opts);
  if (l.opts.wait) {
    /* A prepared launch waits here, already in its cgroups and without root. */
    l.opts.argv = read_command();
  }
  /* Java gave the run directory and its files to the sandbox's uid. */
  read_run_files(&l);

  /* Block what the supervisor forwards before init exists, so none is lost in between; init
   * inherits the mask and installs its own handlers. */
  sigset_t set;
  sigemptyset(&set);
  int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
    sigaddset(&set, forwarded[i]);
  }
  sigprocmask(SIG_BLOCK, &set, NULL);

  int lifeline[2];
  if (pipe2(lifeline, O_CLOEXEC) != 0) {
    DIE("supervisor", "pipe");
  }
  l.lifeline = lifeline[0];
  /* Changing uid made us non-dumpable, which would leave init, our copy, unable to open its own
   * /proc/self/uid_map. Init is dumpable only until it has mapped its ids and built its view;
   * it turns that off itself before the command exists. */
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) {
    DIE("supervisor", "prctl(PR_SET_DUMPABLE, 1)");
  }
  pid_t init = clone_init(init_main, &l, l.opts.share_net);
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    kill(init, SIGKILL);
    DIE("supervisor", "prctl(PR_SET_DUMPABLE, 0)");
  }
  close(lifeline[0]);
  for (int i = 0; i < l.n_secrets; i++) {
    memset((void *)l.secrets[i].data, 0, l.secrets[i].len);
  }
  /* lifeline[1] stays open for init's lifetime: its EOF tells init the supervisor died. */
  supervise(init, parent);
}
