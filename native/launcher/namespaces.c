/* Namespaces (see namespaces.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "namespaces.h"

#define STACK_SIZE (512 * 1024)

pid_t clone_init(int (*fn)(void *), void *arg, bool share_net) {
  int flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
              CLONE_NEWCGROUP | SIGCHLD;
  if (!share_net) {
    flags |= CLONE_NEWNET;
  }
  char *stack = malloc(STACK_SIZE);
  if (stack == NULL) {
    DIE("clone", "malloc stack");
  }
  pid_t pid = clone(fn, stack + STACK_SIZE, flags, arg);
  if (pid < 0) {
    DIE("namespaces", "clone(user|pid|mount|ipc|uts|cgroup%s)", share_net ? "" : "|net");
  }
  return pid;
}

static void write_file(const char *step, const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    DIE(step, "open %s", path);
  }
  size_t len = strlen(text);
  if (write(fd, text, len) != (ssize_t)len) {
    DIE(step, "write %s", path);
  }
  close(fd);
}

/* Writes the maps of a process ("self" or a pid). */
static void write_maps(const char *step, const char *proc, const char *uid_map,
                       const char *gid_map) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/uid_map", proc);
  write_file(step, path, uid_map);
  /* setgroups must be denied before an unprivileged writer may set gid_map, and we never want
   * the command to change its groups anyway. */
  snprintf(path, sizeof path, "/proc/%s/setgroups", proc);
  write_file(step, path, "deny");
  snprintf(path, sizeof path, "/proc/%s/gid_map", proc);
  write_file(step, path, gid_map);
}

void map_own_ids(uid_t uid, gid_t gid) {
  char u[64], g[64];
  snprintf(u, sizeof u, "%u %u 1\n", uid, uid);
  snprintf(g, sizeof g, "%u %u 1\n", gid, gid);
  write_maps("uidmap", "self", u, g);
}

int idmap_userns(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    DIE("idmap", "pipe");
  }
  pid_t pid = fork();
  if (pid < 0) {
    DIE("idmap", "fork");
  }
  if (pid == 0) {
    /* A placeholder process whose only job is to own the mapping namespace until the parent
     * has opened it. */
    char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    ssize_t ignored = write(ready[1], &c, 1);
    (void)ignored;
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  if (read(ready[0], &c, 1) != 1 || c != 'y') {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail("idmap", EPERM, "cannot create a user namespace for an idmapped mount");
  }
  close(ready[0]);
  char u[64], g[64], proc[16];
  snprintf(u, sizeof u, "%u %u 1\n", from_uid, to_uid);
  snprintf(g, sizeof g, "%u %u 1\n", from_gid, to_gid);
  snprintf(proc, sizeof proc, "%d", pid);
  write_maps("idmap", proc, u, g);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int err = errno;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  if (fd < 0) {
    fail("idmap", err, "open %s", path);
  }
  return fd;
}

void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    DIE("netns", "socket");
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    DIE("netns", "SIOCGIFFLAGS lo");
  }
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
    DIE("netns", "SIOCSIFFLAGS lo up");
  }
  close(s);
}

void set_hostname(const char *name) {
  if (sethostname(name, strlen(name)) != 0) {
    DIE("hostname", "sethostname %s", name);
  }
}

void forbid_nested_userns(void) {
  write_file("userns-limit", "/proc/sys/user/max_user_namespaces", "0\n");
}
