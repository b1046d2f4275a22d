/* Parsing of kavach-launch's argv (see options.h for the meaning of each flag). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"

enum {
  OPT_PROBE = 256, OPT_STATUS, OPT_PARENT, OPT_CGROUP, OPT_ENV, OPT_SECRETS, OPT_SECCOMP,
  OPT_SECCOMP_NAME, OPT_UID, OPT_GID, OPT_NET, OPT_HOSTNAME, OPT_WORKSPACE, OPT_SYSTEM, OPT_RO,
  OPT_RW, OPT_TMP_SIZE, OPT_NOFILE, OPT_FSIZE, OPT_LANDLOCK, OPT_PORT, OPT_CWD, OPT_RELAY, OPT_WAIT, OPT_ROOTFS,
};

static const struct option long_options[] = {
    {"probe", no_argument, 0, OPT_PROBE},
    {"status", required_argument, 0, OPT_STATUS},
    {"parent-pid", required_argument, 0, OPT_PARENT},
    {"cgroup-procs", required_argument, 0, OPT_CGROUP},
    {"env-file", required_argument, 0, OPT_ENV},
    {"secrets-file", required_argument, 0, OPT_SECRETS},
    {"seccomp", required_argument, 0, OPT_SECCOMP},
    {"seccomp-name", required_argument, 0, OPT_SECCOMP_NAME},
    {"uid", required_argument, 0, OPT_UID},
    {"gid", required_argument, 0, OPT_GID},
    {"net", required_argument, 0, OPT_NET},
    {"hostname", required_argument, 0, OPT_HOSTNAME},
    {"workspace", required_argument, 0, OPT_WORKSPACE},
    {"system", required_argument, 0, OPT_SYSTEM},
    {"ro", required_argument, 0, OPT_RO},
    {"rw", required_argument, 0, OPT_RW},
    {"tmp-size", required_argument, 0, OPT_TMP_SIZE},
    {"nofile", required_argument, 0, OPT_NOFILE},
    {"fsize", required_argument, 0, OPT_FSIZE},
    {"landlock", no_argument, 0, OPT_LANDLOCK},
    {"allow-port", required_argument, 0, OPT_PORT},
    {"cwd", required_argument, 0, OPT_CWD},
    {"wait", no_argument, 0, OPT_WAIT},
    {"rootfs", required_argument, 0, OPT_ROOTFS},
    {"egress-relay", required_argument, 0, OPT_RELAY},
    {0, 0, 0, 0},
};

static uint64_t number(const char *flag, const char *s, uint64_t max) {
  char *end;
  errno = 0;
  uintmax_t v = strtoumax(s, &end, 10);
  if (errno != 0 || *s == '\0' || *end != '\0' || v > max) {
    fail("options", 0, "%s: not a number up to %" PRIu64 ": %s", flag, max, s);
  }
  return (uint64_t)v;
}

static void absolute(const char *flag, const char *path) {
  if (path[0] != '/' || strstr(path, "/../") != NULL || strstr(path, "/./") != NULL) {
    fail("options", 0, "%s: path must be absolute and normalized: %s", flag, path);
  }
}

static void add_bind(struct options *o, const char *flag, const char *path, enum bind_kind kind) {
  absolute(flag, path);
  if (strcmp(path, "/") == 0) {
    /* The view is built from named directories; binding the host's root would bring back
     * everything the view hides (/home, /root, /run, ...). */
    fail("options", 0, "%s: / cannot be bound", flag);
  }
  if (o->n_binds == MAX_PATHS) {
    fail("options", 0, "%s: more than %d paths", flag, MAX_PATHS);
  }
  o->binds[o->n_binds].path = path;
  o->binds[o->n_binds].kind = kind;
  o->n_binds++;
}

/* The names the view builds itself; a root filesystem's own entries of that name are left out. */
static bool reserved(const char *name) {
  static const char *const names[] = {".", "..", "proc", "dev", "tmp", "workspace"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(name, names[i]) == 0) {
      return true;
    }
  }
  return false;
}

/* --rootfs: each entry of the directory becomes a read-only entry of the view's root. */
static void add_rootfs(struct options *o) {
  for (int i = 0; i < o->n_binds; i++) {
    if (o->binds[i].kind == BIND_SYSTEM) {
      fail("options", 0, "--rootfs replaces --system; give one or the other");
    }
  }
  DIR *d = opendir(o->rootfs);
  if (d == NULL) {
    DIE("rootfs", "open %s", o->rootfs);
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (reserved(e->d_name)) {
      continue;
    }
    if (o->n_binds == MAX_PATHS) {
      fail("rootfs", 0, "%s has more than %d entries", o->rootfs, MAX_PATHS);
    }
    size_t n = strlen(e->d_name);
    char *path = malloc(n + 2);
    char *source = malloc(strlen(o->rootfs) + n + 2);
    if (path == NULL || source == NULL) {
      DIE("rootfs", "malloc");
    }
    sprintf(path, "/%s", e->d_name);
    sprintf(source, "%s/%s", o->rootfs, e->d_name);
    o->binds[o->n_binds].path = path;
    o->binds[o->n_binds].source = source;
    o->binds[o->n_binds].kind = BIND_SYSTEM;
    o->n_binds++;
  }
  closedir(d);
}

void parse_options(int argc, char **argv, struct options *o) {
  memset(o, 0, sizeof *o);
  o->uid = (uid_t)-1;
  o->gid = (gid_t)-1;
  o->hostname = "kavach";
  o->tmp_size = 256u << 20;
  o->nofile = 4096;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
    switch (c) {
      case OPT_PROBE: o->probe = true; break;
      case OPT_STATUS: o->status = optarg; break;
      case OPT_PARENT: o->parent_pid = (pid_t)number("--parent-pid", optarg, INT32_MAX); break;
      case OPT_CGROUP:
        absolute("--cgroup-procs", optarg);
        if (o->n_cgroups == MAX_CGROUPS) {
          fail("options", 0, "--cgroup-procs: more than %d", MAX_CGROUPS);
        }
        o->cgroup_procs[o->n_cgroups++] = optarg;
        break;
      case OPT_ENV: o->env_file = optarg; break;
      case OPT_SECRETS: o->secrets_file = optarg; break;
      case OPT_SECCOMP: o->seccomp_file = optarg; break;
      case OPT_SECCOMP_NAME: o->seccomp_name = optarg; break;
      case OPT_UID: o->uid = (uid_t)number("--uid", optarg, UINT32_MAX - 1); break;
      case OPT_GID: o->gid = (gid_t)number("--gid", optarg, UINT32_MAX - 1); break;
      case OPT_NET:
        if (strcmp(optarg, "none") == 0) {
          o->share_net = false;
        } else if (strcmp(optarg, "host") == 0) {
          o->share_net = true;
        } else {
          fail("options", 0, "--net: none or host, not %s", optarg);
        }
        break;
      case OPT_HOSTNAME: o->hostname = optarg; break;
      case OPT_WORKSPACE: absolute("--workspace", optarg); o->workspace = optarg; break;
      case OPT_SYSTEM: add_bind(o, "--system", optarg, BIND_SYSTEM); break;
      case OPT_RO: add_bind(o, "--ro", optarg, BIND_RO); break;
      case OPT_RW: add_bind(o, "--rw", optarg, BIND_RW); break;
      case OPT_TMP_SIZE: o->tmp_size = number("--tmp-size", optarg, UINT64_MAX >> 1); break;
      case OPT_NOFILE: o->nofile = number("--nofile", optarg, 1u << 30); break;
      case OPT_FSIZE: o->fsize = number("--fsize", optarg, UINT64_MAX >> 1); break;
      case OPT_LANDLOCK: o->landlock = true; break;
      case OPT_PORT:
        if (o->n_ports == MAX_PORTS) {
          fail("options", 0, "--allow-port: more than %d", MAX_PORTS);
        }
        o->ports[o->n_ports++] = (int)number("--allow-port", optarg, 65535);
        break;
      case OPT_CWD: absolute("--cwd", optarg); o->cwd = optarg; break;
      case OPT_WAIT: o->wait = true; break;
      case OPT_ROOTFS: absolute("--rootfs", optarg); o->rootfs = optarg; break;
      case OPT_RELAY: {
        char *colon = strchr(optarg, ':');
        if (colon == NULL) {
          fail("options", 0, "--egress-relay: PORT:SOCKET, not %s", optarg);
        }
        *colon = '\0';
        o->relay_port = (int)number("--egress-relay", optarg, 65535);
        absolute("--egress-relay", colon + 1);
        o->relay_socket = colon + 1;
        if (o->relay_port == 0) {
          fail("options", 0, "--egress-relay: port 0");
        }
        break;
      }
      default:
        fail("options", 0, "unknown option %s", argv[optind - 1]);
    }
  }
  if (o->probe) {
    return;
  }
  if (o->status == NULL) {
    fail("options", 0, "--status is required");
  }
  if (o->uid == (uid_t)-1 || o->gid == (gid_t)-1) {
    fail("options", 0, "--uid and --gid are required");
  }
  if (o->relay_socket != NULL && o->share_net) {
    /* A relay next to the host's network would be a way around the proxy, not the way out. */
    fail("options", 0, "--egress-relay needs --net none");
  }
  if (o->uid == 0 || o->gid == 0) {
    /* The command must never hold host root, even without capabilities: uid 0 owns most of
     * the host's files. */
    fail("options", 0, "--uid and --gid must not be 0");
  }
  if (optind >= argc && !o->wait) {
    fail("options", 0, "no command after --");
  }
  if (optind < argc && o->wait) {
    fail("options", 0, "--wait takes the command from stdin, not after --");
  }
  if (o->rootfs != NULL) {
    add_rootfs(o);
  }
  if (o->cwd == NULL) {
    o->cwd = o->workspace != NULL ? "/workspace" : "/";
  }
  o->argv = argv + optind;
}
