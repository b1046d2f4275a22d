/*
 * Pid 1 of the sandbox. It applies every restriction but seccomp to itself, in the documented
 * order, so that the command it forks inherits all of them; the command installs the seccomp
 * filter as its last step before execve. Then init reaps zombies, forwards termination
 * signals to the command's process group, and exits with the command's status the moment the
 * command ends (the kernel then kills whatever else is left in the PID namespace).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landlock.h"
#include "launch.h"
#include "log.h"
#include "mounts.h"
#include "namespaces.h"
#include "privileges.h"
#include "relay.h"
#include "seccomp.h"

extern char **environ;

static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define N_FORWARDED (sizeof FORWARDED / sizeof FORWARDED[0])

static volatile pid_t command_pgid;

static void forward(int sig) {
  if (command_pgid > 0) {
    kill(-command_pgid, sig);
  }
}

/* Dies with the supervisor: PDEATHSIG for later, and a poll of the lifeline for a supervisor
 * that died before PDEATHSIG was set. Init never changes its credentials (which would clear
 * PDEATHSIG). */
static void die_with_supervisor(int lifeline) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    DIE("pdeathsig", "prctl(PR_SET_PDEATHSIG)");
  }
  struct pollfd p = {lifeline, POLLIN, 0};
  if (poll(&p, 1, 0) != 0 && (p.revents & (POLLHUP | POLLERR))) {
    _exit(EXIT_SETUP_FAILED);
  }
}

static void map_sandbox_user(const struct options *o) {
  /* We arrive with the sandbox's host uid (the supervisor took it before clone) and every
   * capability of our new user namespace, in which no uid is mapped yet (getuid() reads as the
   * overflow uid until the map exists). */
  map_own_ids(o->uid, o->gid);
  if (getuid() != o->uid || getgid() != o->gid) {
    fail("uid", EPERM, "init runs as %u:%u, not %u:%u", getuid(), getgid(), o->uid, o->gid);
  }
  report("uid %u %u", o->uid, o->gid);
}

/* The command can read /proc/1/cmdline, which is init's copy of the launcher's argv: host paths
 * of the workspace, the run directory and the cgroups, the JVM's pid. Nothing of the view needs
 * them any more, so copy what the command still needs and blank the rest (init has its own copy
 * of the memory since clone did not share it). */
static void hide_launcher_arguments(struct launch *l) {
  int n = 0;
  while (l->opts.argv[n] != NULL) {
    n++;
  }
  char **argv = calloc((size_t)n + 1, sizeof *argv);
  if (argv == NULL) {
    DIE("exec", "calloc argv");
  }
  for (int i = 0; i < n; i++) {
    argv[i] = strdup(l->opts.argv[i]);
    if (argv[i] == NULL) {
      DIE("exec", "strdup argv");
    }
  }
  l->opts.argv = argv;
  if (l->opts.seccomp_name != NULL && (l->opts.seccomp_name = strdup(l->opts.seccomp_name)) == NULL) {
    DIE("exec", "strdup seccomp name");
  }
  static const char title[] = "kavach-init";
  size_t room = (size_t)(l->args_end - l->args_start);
  memset(l->args_start, 0, room);
  memcpy(l->args_start, title, room < sizeof title ? room - 1 : sizeof title - 1);
  /* A non-NUL last byte tells the kernel the title was rewritten (as setproctitle does), so
   * /proc/1/cmdline stops at the title's NUL instead of returning the blanked area. */
  if (room > sizeof title) {
    l->args_end[-1] = ' ';
  }
}

static void install_forwarding(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sigfillset(&sa.sa_mask);
  for (size_t i = 0; i < N_FORWARDED; i++) {
    if (sigaction(FORWARDED[i], &sa, NULL) != 0) {
      DIE("signals", "sigaction %d", FORWARDED[i]);
    }
  }
}

static void exec_command(struct launch *l) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (size_t i = 0; i < N_FORWARDED; i++) {
    sigaction(FORWARDED[i], &sa, NULL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Its own session: no controlling terminal to inject keystrokes into (TIOCSTI), and a
   * process group init can signal as a whole. */
  if (setsid() < 0) {
    DIE("exec", "setsid");
  }
  /* Nothing of ours survives execve but stdin, stdout and stderr; the status fd stays open
   * until then so an exec failure can still be reported. */
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    DIE("exec", "close_range");
  }
  environ = l->env;
  /* seccomp, last of all and in the command only: init stays unfiltered, so a user profile that
   * denies wait4, kill or write cannot break reaping, signal forwarding or reporting. Init is
   * non-dumpable and pid 1 of the namespace, so the filtered command cannot ptrace, open or kill
   * it. */
  if (l->filter.len > 0) {
    install_filter(l->filter, l->opts.seccomp_name ? l->opts.seccomp_name : "custom");
  }
  report("ready");
  execvp(l->opts.argv[0], l->opts.argv);
  DIE("exec", "execute %s", l->opts.argv[0]);
}

static void reap(pid_t command) {
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, __WALL);
    if (p < 0) {
      if (errno == EINTR) {
        continue;
      }
      DIE("init", "waitpid");
    }
    if (p != command) {
      continue; /* an orphan reparented to us */
    }
    if (WIFEXITED(st)) {
      report("exit %d", WEXITSTATUS(st));
      _exit(WEXITSTATUS(st));
    }
    if (WIFSIGNALED(st)) {
      report("signal %d", WTERMSIG(st));
      _exit(128 + WTERMSIG(st));
    }
  }
}

int init_main(void *arg) {
  struct launch *l = arg;
  struct options *o = &l->opts;
  die_with_supervisor(l->lifeline);

  /* 1. uid/gid */
  map_sandbox_user(o);
  report("namespaces user pid mount ipc uts cgroup%s", o->share_net ? "" : " net");

  /* 2. filesystem view */
  umask(022);
  build_root(o, &l->trees, l->secrets, l->n_secrets);
  if (chdir(o->cwd) != 0) {
    DIE("cwd", "chdir %s", o->cwd);
  }

  /* 3. network, hostname, nested user namespaces */
  if (!o->share_net) {
    loopback_up();
    report("net isolated");
  }
  set_hostname(o->hostname);
  forbid_nested_userns();
  report("userns-limit 0");

  /* 4. limits and privileges, each irreversible, in this order */
  apply_rlimits(o);
  if (setsid() < 0) {
    DIE("init", "setsid");
  }
  /* Not dumpable: the command, running as our uid, must not ptrace us or open /proc/1/fd. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    DIE("init", "prctl(PR_SET_DUMPABLE)");
  }
  drop_capabilities();
  set_no_new_privs();
  if (o->landlock) {
    apply_landlock(o, l->secrets, l->n_secrets);
  }
  install_forwarding();
  for (int i = 0; i < l->n_secrets; i++) {
    memset((void *)l->secrets[i].data, 0, l->secrets[i].len);
  }

  /* The egress relay runs under everything above but seccomp (see relay.c). */
  if (l->relay_socket >= 0) {
    relay_start(o->relay_port, l->relay_socket);
  }

  /* 5. the command, which installs the seccomp filter itself right before execve */
  hide_launcher_arguments(l);
  pid_t command = fork();
  if (command < 0) {
    DIE("exec", "fork");
  }
  if (command == 0) {
    exec_command(l);
  }
  command_pgid = command;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  reap(command);
  return 0;
}
