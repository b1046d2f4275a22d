/*
 * The filesystem view, built by init inside its own user and mount namespaces:
 *
 *   /                tmpfs, read-only once built (nothing of the host is writable through it)
 *   /usr /etc ...    --system: read-only, nosuid, nodev recursive binds of host directories;
 *                    host symlinks such as /bin -> usr/bin are recreated as symlinks (with
 *                    --rootfs DIR: DIR's entries instead, the same way)
 *   /proc            a fresh proc of the new PID namespace (only sandbox processes)
 *   /dev             tmpfs with null zero full random urandom tty bound from the host, and
 *                    fd, stdin, stdout, stderr symlinks; read-only
 *   /tmp             tmpfs of --tmp-size, mode 1777
 *   /workspace       the sandbox's workspace, read-write, nosuid, nodev
 *   --ro / --rw      policy paths at the same path, read-only or read-write, nosuid, nodev
 *   secret files     written into the root tmpfs (memory, never the host's disk)
 *
 * Everything else of the host (/home, /root, /run, /srv, /mnt, /sys, /var, the JVM's files)
 * does not exist in the view. Mount propagation is private, so nothing leaks back to the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "mounts.h"
#include "namespaces.h"

/* Where the new root is assembled: host /tmp, inside our private mount namespace. Every
 * source is opened (or was cloned by the supervisor) before this is covered. */
#define STAGE "/tmp"

static const char *const DEVICES[] = {"null", "zero", "full", "random", "urandom", "tty"};
#define N_DEVICES (sizeof DEVICES / sizeof DEVICES[0])

static int n_mounts;

static int mount_setattr_(int dfd, const char *path, unsigned flags, struct mount_attr *attr) {
  return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof *attr);
}

static void set_attr(const char *step, const char *path, uint64_t set, bool recursive) {
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = set;
  if (mount_setattr_(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr) != 0) {
    DIE(step, "mount_setattr %s", path);
  }
}

static void staged(char *buf, const char *path) {
  if (snprintf(buf, PATH_MAX, "%s%s", STAGE, path) >= PATH_MAX) {
    fail("mounts", ENAMETOOLONG, "%s", path);
  }
}

/* Creates every missing directory of path (an absolute sandbox path) inside the stage and, if
 * leaf is 'd' or 'f', the last component as a directory or an empty file. Never follows a
 * symlink, so a component can never lead out of the stage. */
static void make_path(const char *step, const char *path, char leaf) {
  int dir = open(STAGE, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    DIE(step, "open stage");
  }
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", path);
  char *save = NULL;
  char *part = strtok_r(copy, "/", &save);
  while (part != NULL) {
    char *next = strtok_r(NULL, "/", &save);
    bool last = next == NULL;
    if (last && leaf == 'f') {
      int fd = openat(dir, part, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0) {
        DIE(step, "create mount point %s", path);
      }
      close(fd);
    } else if (!last || leaf == 'd') {
      if (mkdirat(dir, part, 0755) != 0 && errno != EEXIST) {
        DIE(step, "mkdir %s (in %s)", part, path);
      }
      int sub = openat(dir, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        DIE(step, "open %s (in %s); a symlink or a file is in the way", part, path);
      }
      close(dir);
      dir = sub;
    }
    part = next;
  }
  close(dir);
}

static void bind_fd(const char *step, int fd, const char *target) {
  char src[64];
  snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
  if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) != 0) {
    DIE(step, "bind onto %s", target);
  }
  n_mounts++;
}

static void attach_tree(const char *step, int tree, const char *target) {
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    DIE(step, "move_mount onto %s", target);
  }
  close(tree);
  n_mounts++;
}

static void mount_tmpfs(const char *step, const char *target, unsigned long flags,
                        const char *mode, uint64_t size) {
  char data[96];
  snprintf(data, sizeof data, "mode=%s,size=%llu", mode, (unsigned long long)size);
  if (mount("tmpfs", target, "tmpfs", flags, data) != 0) {
    DIE(step, "mount tmpfs on %s", target);
  }
  n_mounts++;
}

/* --- supervisor side ------------------------------------------------------------------- */

static int clone_tree(const char *step, const char *path, uid_t uid, gid_t gid, bool rdonly) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path,
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) {
    DIE(step, "open_tree %s", path);
  }
  struct stat st;
  if (fstat(tree, &st) != 0) {
    DIE(step, "stat %s", path);
  }
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (rdonly ? MOUNT_ATTR_RDONLY : 0);
  if (st.st_uid != uid || st.st_gid != gid) {
    /* The owner of the source becomes the command's uid inside this tree only. */
    attr.attr_set |= MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)idmap_userns(st.st_uid, st.st_gid, uid, gid);
  }
  if (mount_setattr_(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) != 0) {
    DIE(step, "idmap %s (owner %u:%u as %u:%u); the filesystem may not support idmapped mounts",
        path, st.st_uid, st.st_gid, uid, gid);
  }
  if (attr.attr_set & MOUNT_ATTR_IDMAP) {
    close((int)attr.userns_fd);
  }
  return tree;
}

void open_host_trees(const struct options *o, struct trees *t) {
  t->workspace = -1;
  for (int i = 0; i < MAX_PATHS; i++) {
    t->binds[i] = -1;
  }
  if (geteuid() != 0) {
    return; /* Unprivileged: the command's uid is ours and owns what we may bind. */
  }
  if (o->workspace != NULL) {
    t->workspace = clone_tree("workspace", o->workspace, o->uid, o->gid, false);
  }
  for (int i = 0; i < o->n_binds; i++) {
    if (o->binds[i].kind != BIND_SYSTEM) {
      t->binds[i] = clone_tree("bind", o->binds[i].path, o->uid, o->gid,
                               o->binds[i].kind == BIND_RO);
    }
  }
}

/* --- init side ------------------------------------------------------------------------- */

/* A bind source opened before the stage covers /tmp. */
struct source {
  int fd;              /* O_PATH fd, or -1 */
  bool is_dir;
  char link[PATH_MAX]; /* for a --system symlink: its target */
  bool skip;           /* a --system path the host lacks */
};

static void open_source(const char *step, const char *path, bool system, struct source *s) {
  memset(s, 0, sizeof *s);
  s->fd = -1;
  struct stat st;
  if (system) {
    if (lstat(path, &st) != 0) {
      if (errno == ENOENT) {
        s->skip = true;
        return;
      }
      DIE(step, "lstat %s", path);
    }
    if (S_ISLNK(st.st_mode)) {
      ssize_t n = readlink(path, s->link, sizeof s->link - 1);
      if (n < 0) {
        DIE(step, "readlink %s", path);
      }
      s->link[n] = '\0';
      return;
    }
  }
  s->fd = open(path, O_PATH | O_CLOEXEC);
  if (s->fd < 0) {
    DIE(step, "open %s", path);
  }
  if (fstat(s->fd, &st) != 0) {
    DIE(step, "stat %s", path);
  }
  s->is_dir = S_ISDIR(st.st_mode);
}

static bool under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int depth(const char *path) {
  int d = 0;
  for (const char *p = path; *p; p++) {
    d += *p == '/';
  }
  return d;
}

static void mount_bind(const struct options *o, const struct trees *t, struct source *src,
                       int i) {
  const struct bind *b = &o->binds[i];
  char target[PATH_MAX];
  staged(target, b->path);
  if (t->binds[i] >= 0) {
    struct stat st;
    if (fstat(t->binds[i], &st) != 0) {
      DIE("bind", "stat %s", b->path);
    }
    make_path("bind", b->path, S_ISDIR(st.st_mode) ? 'd' : 'f');
    attach_tree("bind", t->binds[i], target);
    return;
  }
  make_path("bind", b->path, src[i].is_dir ? 'd' : 'f');
  bind_fd("bind", src[i].fd, target);
  set_attr("bind", target,
           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (b->kind == BIND_RW ? 0 : MOUNT_ATTR_RDONLY),
           true);
  close(src[i].fd);
}

static void build_dev(void) {
  char dev[PATH_MAX];
  staged(dev, "/dev");
  make_path("dev", "/dev", 'd');
  struct source s[N_DEVICES];
  /* The device sources must be opened before /dev is covered... */
  for (size_t i = 0; i < N_DEVICES; i++) {
    char host[32];
    snprintf(host, sizeof host, "/dev/%s", DEVICES[i]);
    open_source("dev", host, false, &s[i]);
  }
  mount_tmpfs("dev", dev, MS_NOSUID | MS_NOEXEC, "0755", 64 * 1024);
  for (size_t i = 0; i < N_DEVICES; i++) {
    char path[32], target[PATH_MAX];
    snprintf(path, sizeof path, "/dev/%s", DEVICES[i]);
    make_path("dev", path, 'f');
    staged(target, path);
    bind_fd("dev", s[i].fd, target);
    close(s[i].fd);
  }
  static const char *const links[][2] = {{"fd", "/proc/self/fd"},
                                         {"stdin", "/proc/self/fd/0"},
                                         {"stdout", "/proc/self/fd/1"},
                                         {"stderr", "/proc/self/fd/2"}};
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    char name[32], path[PATH_MAX];
    snprintf(name, sizeof name, "/dev/%s", links[i][0]);
    staged(path, name);
    if (symlink(links[i][1], path) != 0) {
      DIE("dev", "symlink %s", path);
    }
  }
  /* Devices stay usable on a read-only mount; the tmpfs itself becomes immutable. */
  set_attr("dev", dev, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, true);
}

static void write_secrets(const struct options *o, const struct secret *secrets, int n) {
  for (int i = 0; i < n; i++) {
    const char *p = secrets[i].path;
    /* Only the memory-backed parts of the view may hold a secret: writing under a bind would
     * put it on the host. */
    bool refused = under(p, "/workspace") || under(p, "/proc") || under(p, "/dev");
    for (int j = 0; j < o->n_binds && !refused; j++) {
      refused = under(p, o->binds[j].path);
    }
    if (refused) {
      fail("secrets", EROFS, "secret file %s would not be on memory-backed storage", p);
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", p);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    if (dir[0] != '\0') {
      make_path("secrets", dir, 'd');
    }
    char target[PATH_MAX];
    staged(target, p);
    int fd = open(target, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      DIE("secrets", "create %s", p);
    }
    size_t done = 0;
    while (done < secrets[i].len) {
      ssize_t w = write(fd, secrets[i].data + done, secrets[i].len - done);
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        DIE("secrets", "write %s", p);
      }
      done += (size_t)w;
    }
    if (fchmod(fd, secrets[i].mode) != 0) {
      DIE("secrets", "chmod %s", p);
    }
    close(fd);
  }
  if (n > 0) {
    report("secret-files %d", n);
  }
}

void build_root(const struct options *o, const struct trees *t, const struct secret *secrets,
                int n_secrets) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    DIE("mounts", "make / private");
  }
  /* Open every path-based source while the host's tree is still in view. */
  static struct source src[MAX_PATHS];
  for (int i = 0; i < o->n_binds; i++) {
    if (t->binds[i] < 0) {
      const char *from = o->binds[i].source ? o->binds[i].source : o->binds[i].path;
      open_source("bind", from, o->binds[i].kind == BIND_SYSTEM, &src[i]);
    }
  }
  struct source ws = {.fd = -1};
  if (o->workspace != NULL && t->workspace < 0) {
    open_source("workspace", o->workspace, false, &ws);
    if (!ws.is_dir) {
      fail("workspace", ENOTDIR, "%s", o->workspace);
    }
  }

  uint64_t secret_bytes = 0;
  for (int i = 0; i < n_secrets; i++) {
    secret_bytes += secrets[i].len + 4096;
  }
  mount_tmpfs("root", STAGE, MS_NOSUID | MS_NODEV, "0755", (1u << 20) + secret_bytes);

  for (int i = 0; i < o->n_binds; i++) {
    const struct bind *b = &o->binds[i];
    if (b->kind != BIND_SYSTEM || src[i].skip) {
      continue;
    }
    if (src[i].link[0] != '\0') {
      char target[PATH_MAX];
      staged(target, b->path);
      if (symlink(src[i].link, target) != 0 && errno != EEXIST) {
        DIE("system", "symlink %s -> %s", b->path, src[i].link);
      }
      continue;
    }
    make_path("system", b->path, src[i].is_dir ? 'd' : 'f');
    char target[PATH_MAX];
    staged(target, b->path);
    bind_fd("system", src[i].fd, target);
    set_attr("system", target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true);
    close(src[i].fd);
  }

  char path[PATH_MAX];
  make_path("proc", "/proc", 'd');
  staged(path, "/proc");
  if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
    DIE("proc", "mount proc");
  }
  n_mounts++;

  build_dev();

  make_path("tmp", "/tmp", 'd');
  staged(path, "/tmp");
  mount_tmpfs("tmp", path, MS_NOSUID | MS_NODEV, "1777", o->tmp_size);

  if (o->workspace != NULL) {
    make_path("workspace", "/workspace", 'd');
    staged(path, "/workspace");
    if (t->workspace >= 0) {
      attach_tree("workspace", t->workspace, path);
    } else {
      bind_fd("workspace", ws.fd, path);
      set_attr("workspace", path, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true);
      close(ws.fd);
    }
  }

  /* Policy binds, parents before children, so a nested rule lands on top of its parent. */
  for (int d = 1; d < PATH_MAX / 2; d++) {
    bool any = false;
    for (int i = 0; i < o->n_binds; i++) {
      int di = depth(o->binds[i].path);
      any |= di >= d;
      if (o->binds[i].kind != BIND_SYSTEM && di == d) {
        mount_bind(o, t, src, i);
      }
    }
    if (!any) {
      break;
    }
  }

  write_secrets(o, secrets, n_secrets);

  /* The root tmpfs itself becomes read-only; /tmp and /workspace are their own mounts. */
  set_attr("root", STAGE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, false);

  if (chdir(STAGE) != 0) {
    DIE("pivot", "chdir stage");
  }
  if (syscall(SYS_pivot_root, ".", ".") != 0) {
    DIE("pivot", "pivot_root");
  }
  /* The old root is now stacked on "/": detach it, and the host is gone from view. */
  if (umount2(".", MNT_DETACH) != 0) {
    DIE("pivot", "detach old root");
  }
  if (chdir("/") != 0) {
    DIE("pivot", "chdir /");
  }
  report("mounts %d", n_mounts);
  report("root ro");
}
