/*
 * Landlock, with the ABI negotiated at run time. The constants are defined here rather than
 * taken from <linux/landlock.h>, because the build host's headers may predate the kernel that
 * runs the sandbox (Debian 12's stop at ABI 2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"
#include "log.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

/* Filesystem rights, with the ABI that introduced them. */
#define FS_EXECUTE (1ull << 0)     /* 1 */
#define FS_WRITE_FILE (1ull << 1)  /* 1 */
#define FS_READ_FILE (1ull << 2)   /* 1 */
#define FS_READ_DIR (1ull << 3)    /* 1 */
#define FS_REMOVE_DIR (1ull << 4)  /* 1 */
#define FS_REMOVE_FILE (1ull << 5) /* 1 */
#define FS_MAKE_CHAR (1ull << 6)   /* 1 */
#define FS_MAKE_DIR (1ull << 7)    /* 1 */
#define FS_MAKE_REG (1ull << 8)    /* 1 */
#define FS_MAKE_SOCK (1ull << 9)   /* 1 */
#define FS_MAKE_FIFO (1ull << 10)  /* 1 */
#define FS_MAKE_BLOCK (1ull << 11) /* 1 */
#define FS_MAKE_SYM (1ull << 12)   /* 1 */
#define FS_REFER (1ull << 13)      /* 2 */
#define FS_TRUNCATE (1ull << 14)   /* 3 */
#define FS_IOCTL_DEV (1ull << 15)  /* 5 */

/* TCP rights (ABI 4) and scopes (ABI 6). */
#define NET_BIND_TCP (1ull << 0)
#define NET_CONNECT_TCP (1ull << 1)
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ull << 0)
#define SCOPE_SIGNAL (1ull << 1)

/* Rights that make sense on a file (the kernel rejects directory rights on one). */
#define FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)
#define READ_EXEC (FS_EXECUTE | FS_READ_FILE | FS_READ_DIR)

struct ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

struct net_port_attr {
  uint64_t allowed_access;
  uint64_t port;
};

int landlock_abi(void) {
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  return abi < 0 ? -1 : (int)abi;
}

static uint64_t fs_rights(int abi) {
  uint64_t r = (FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */
  if (abi >= 2) {
    r |= FS_REFER;
  }
  if (abi >= 3) {
    r |= FS_TRUNCATE;
  }
  if (abi >= 5) {
    r |= FS_IOCTL_DEV;
  }
  return r;
}

static int rules;

static void add_path(int ruleset, const char *path, uint64_t access, uint64_t handled,
                     bool required) {
  int fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (!required && errno == ENOENT) {
      return;
    }
    DIE("landlock", "open %s", path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    DIE("landlock", "stat %s", path);
  }
  if (S_ISLNK(st.st_mode)) {
    close(fd); /* A recreated system symlink: its target has a rule of its own. */
    return;
  }
  struct path_beneath_attr attr = {access & handled, fd};
  if (!S_ISDIR(st.st_mode)) {
    attr.allowed_access &= FILE_RIGHTS;
  }
  if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &attr, 0) != 0) {
    DIE("landlock", "add rule for %s", path);
  }
  close(fd);
  rules++;
}

void apply_landlock(const struct options *o, const struct secret *secrets, int n_secrets) {
  int abi = landlock_abi();
  if (abi < 0) {
    DIE("landlock", "Landlock is not available");
  }
  if (abi > LANDLOCK_ABI_KNOWN) {
    abi = LANDLOCK_ABI_KNOWN; /* Newer rights exist that we cannot name: leave them unhandled. */
  }
  bool ports = o->n_ports > 0;
  if (ports && abi < 4) {
    fail("landlock-net", EOPNOTSUPP, "TCP port rules need Landlock ABI 4, the kernel has %d",
         abi);
  }
  uint64_t all = fs_rights(abi);
  struct ruleset_attr attr = {all, 0, 0};
  if (ports) {
    attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
  }
  if (abi >= 6) {
    attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
  }
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (ruleset < 0) {
    DIE("landlock", "create ruleset (ABI %d)", abi);
  }
  rules = 0;
  add_path(ruleset, "/", FS_READ_DIR, all, true);
  for (int i = 0; i < o->n_binds; i++) {
    const struct bind *b = &o->binds[i];
    add_path(ruleset, b->path, b->kind == BIND_RW ? all : READ_EXEC, all,
             b->kind != BIND_SYSTEM);
  }
  add_path(ruleset, "/proc", FS_READ_FILE | FS_READ_DIR, all, true);
  add_path(ruleset, "/dev", FS_READ_FILE | FS_READ_DIR | FS_WRITE_FILE, all, true);
  add_path(ruleset, "/tmp", all, all, true);
  if (o->workspace != NULL) {
    add_path(ruleset, "/workspace", all, all, true);
  }
  for (int i = 0; i < n_secrets; i++) {
    add_path(ruleset, secrets[i].path, FS_READ_FILE, all, true);
  }
  for (int i = 0; i < o->n_ports; i++) {
    struct net_port_attr port = {NET_BIND_TCP | NET_CONNECT_TCP, (uint64_t)o->ports[i]};
    if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &port, 0) != 0) {
      DIE("landlock-net", "add rule for TCP port %d", o->ports[i]);
    }
    rules++;
  }
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
    DIE("landlock", "restrict_self");
  }
  close(ruleset);
  report("landlock %d %d", abi, rules);
  if (ports) {
    report("landlock-net %d", o->n_ports);
  }
  if (abi >= 6) {
    report("landlock-scope signal abstract-unix");
  }
}
