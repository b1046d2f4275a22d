/*
 * The supervisor: the launcher process the JVM started, left in the host's namespaces. It
 * forwards termination signals to init, kills init when the JVM dies, and exits with init's
 * status.
 *
 * Why a pidfd on the JVM rather than PR_SET_PDEATHSIG: the parent-death signal fires when the
 * *thread* that forked us exits, and a JVM may start a process from a thread that ends long
 * before the process does. A pidfd of the JVM process becomes readable only when the whole JVM
 * is gone. (Init, whose parent is this single-threaded supervisor, does use PDEATHSIG.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "log.h"

static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void exit_like(pid_t init) {
  int st;
  while (waitpid(init, &st, 0) < 0) {
    if (errno != EINTR) {
      DIE("supervisor", "waitpid init");
    }
  }
  if (WIFEXITED(st)) {
    _exit(WEXITSTATUS(st));
  }
  /* Init never dies by a signal on its own: someone killed it (timeout, JVM gone). */
  report("init-killed %d", WTERMSIG(st));
  _exit(128 + WTERMSIG(st));
}

void supervise(pid_t init, int parent_pidfd) {
  int init_pidfd = (int)syscall(SYS_pidfd_open, init, 0);
  if (init_pidfd < 0) {
    kill(init, SIGKILL);
    DIE("supervisor", "pidfd_open init");
  }
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++) {
    sigaddset(&set, FORWARDED[i]);
  }
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) {
    kill(init, SIGKILL);
    DIE("supervisor", "signalfd");
  }
  struct pollfd fds[3] = {
      {init_pidfd, POLLIN, 0},
      {sfd, POLLIN, 0},
      {parent_pidfd, POLLIN, 0},
  };
  nfds_t n = parent_pidfd >= 0 ? 3 : 2;
  for (;;) {
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      kill(init, SIGKILL);
      DIE("supervisor", "poll");
    }
    if (fds[0].revents) {
      exit_like(init);
    }
    if (fds[1].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si) {
        kill(init, (int)si.ssi_signo);
      }
    }
    if (n == 3 && fds[2].revents) {
      /* The JVM is gone: nobody will read the result, and nothing may outlive it. */
      kill(init, SIGKILL);
      int st;
      while (waitpid(init, &st, 0) < 0 && errno == EINTR) {
      }
      status_abandon();
      _exit(EXIT_SETUP_FAILED);
    }
  }
}
