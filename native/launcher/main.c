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
 *   6. With --seccomp, the filter is installed last, after every other step.
 *   7. When the command exits, everything else in the sandbox is killed; when the JVM dies, or
 *      this process is killed, the whole sandbox dies with it.
 *
 * Order (fixed): status channel; join cgroups; watch the JVM; read and unlink the run files;
 * clone init into new namespaces; map its uid/gid; [init:] become the sandbox uid; filesystem
 * view and pivot_root; loopback; hostname; nested-userns limit; rlimits; new session;
 * non-dumpable; drop capabilities and lock securebits; no_new_privs; Landlock; seccomp; fork
 * and exec the command; reap; exit with its status.
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
#include <sys/syscall.h>
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
    int fd = open(o->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, pid, (size_t)len) != len) {
      DIE("cgroup", "join %s", o->cgroup_procs[i]);
    }
    close(fd);
    report("cgroup %s", o->cgroup_procs[i]);
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
  join_cgroups(&l.opts);
  int parent = watch_parent(&l.opts);
  read_run_files(&l);
  if (geteuid() == 0 && setgroups(0, NULL) != 0) {
    /* A root JVM's supplementary groups (gid 0 among them) would survive into the user
     * namespace and keep granting group access to host files. */
    DIE("groups", "setgroups(0)");
  }
  open_host_trees(&l.opts, &l.trees);
  l.relay_socket = l.opts.relay_socket ? relay_open_socket(l.opts.relay_socket) : -1;

  /* Block what the supervisor forwards before init exists, so none is lost in between; init
   * inherits the mask and installs its own handlers. */
  sigset_t set;
  sigemptyset(&set);
  int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
    sigaddset(&set, forwarded[i]);
  }
  sigprocmask(SIG_BLOCK, &set, NULL);

  int sync[2];
  if (pipe2(sync, O_CLOEXEC) != 0) {
    DIE("supervisor", "pipe");
  }
  l.sync_read = sync[0];
  pid_t init = clone_init(init_main, &l, l.opts.share_net);
  close(sync[0]);
  map_ids(init, l.opts.uid, l.opts.gid);
  for (int i = 0; i < l.n_secrets; i++) {
    memset((void *)l.secrets[i].data, 0, l.secrets[i].len);
  }
  if (write(sync[1], "g", 1) != 1) {
    kill(init, SIGKILL);
    DIE("supervisor", "release init");
  }
  /* sync[1] stays open for init's lifetime: its EOF tells init the supervisor died. */
  supervise(init, parent);
}
