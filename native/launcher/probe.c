/*
 * --probe: what this host lets the launcher do, as key=value lines on stdout, each tried for
 * real rather than inferred from versions: Landlock's ABI, creating the full set of
 * namespaces, seccomp filter mode, idmapped mounts (root only), pidfds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landlock.h"
#include "launch.h"

static int child_ok(void *arg) {
  (void)arg;
  return 0;
}

static void try_namespaces(void) {
  int flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
              CLONE_NEWCGROUP | CLONE_NEWNET | SIGCHLD;
  static char stack[64 * 1024];
  pid_t pid = clone(child_ok, stack + sizeof stack, flags, NULL);
  if (pid < 0) {
    printf("namespaces=0\nnamespaces_reason=clone(user|pid|mount|ipc|uts|cgroup|net): %s\n",
           strerror(errno));
    return;
  }
  int st;
  waitpid(pid, &st, 0);
  printf("namespaces=%d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void try_seccomp(void) {
  long mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  if (mode < 0) {
    printf("seccomp=0\nseccomp_reason=%s\n", strerror(errno));
    return;
  }
  unsigned action = SECCOMP_RET_ERRNO;
  long ok = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
  unsigned kill = SECCOMP_RET_KILL_PROCESS;
  long kill_ok = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &kill);
  printf("seccomp=%d\n", ok == 0 && kill_ok == 0);
  if (ok != 0 || kill_ok != 0) {
    printf("seccomp_reason=SECCOMP_GET_ACTION_AVAIL: %s\n", strerror(errno));
  }
  printf("seccomp_own_mode=%ld\n", mode);
}

int probe(void) {
  struct utsname u;
  uname(&u);
  printf("launcher=1\narch=%s\nkernel=%s\neuid=%u\n", u.machine, u.release, geteuid());
  int abi = landlock_abi();
  if (abi < 0) {
    printf("landlock_abi=0\nlandlock_reason=%s\n",
           errno == EOPNOTSUPP ? "Landlock is disabled at boot"
           : errno == ENOSYS   ? "the kernel has no Landlock"
                               : strerror(errno));
  } else {
    printf("landlock_abi=%d\n", abi);
  }
  try_namespaces();
  try_seccomp();
  int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  printf("pidfd=%d\n", pidfd >= 0);
  fflush(stdout);
  return 0;
}
