/* Command-line options of kavach-launch. Only non-secret values travel in argv; the
 * environment, secrets and the seccomp program arrive as files in a private run directory. */
#ifndef KAVACH_OPTIONS_H
#define KAVACH_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_PATHS 128
#define MAX_PORTS 64
#define MAX_CGROUPS 16

enum bind_kind {
  BIND_SYSTEM, /* --system: host system directory, read-only; a symlink is recreated as one */
  BIND_RO,     /* --ro: policy path, read-only, must exist */
  BIND_RW,     /* --rw: policy path, read-write, must exist */
};

struct bind {
  const char *path;   /* the path inside the sandbox (and on the host, unless source is set) */
  const char *source; /* the host path when it differs (entries of --rootfs), else NULL */
  enum bind_kind kind;
};

struct options {
  bool probe;                     /* --probe: print host support and exit */
  const char *status;             /* --status FILE: the status channel (required) */
  pid_t parent_pid;               /* --parent-pid PID: die when this process dies */
  const char *cgroup_procs[MAX_CGROUPS]; /* --cgroup-procs FILE: joined before anything else */
  int n_cgroups;
  const char *env_file;           /* --env-file FILE: NUL-separated K=V, unlinked after reading */
  const char *secrets_file;       /* --secrets-file FILE: secret records, unlinked after reading */
  const char *seccomp_file;       /* --seccomp FILE: struct sock_filter[], unlinked after reading */
  const char *seccomp_name;       /* --seccomp-name NAME: profile name echoed in the report */
  uid_t uid;                      /* --uid N: host uid of the command */
  gid_t gid;                      /* --gid N: host gid of the command */
  bool share_net;                 /* --net host (default --net none: new netns, loopback only) */
  const char *hostname;           /* --hostname NAME (default "kavach") */
  const char *workspace;          /* --workspace DIR: bound read-write at /workspace */
  struct bind binds[MAX_PATHS];   /* --system, --ro, --rw, in order */
  const char *rootfs;             /* --rootfs DIR: DIR's entries instead of the host's --system
                                     directories, read-only, each at /<entry> */
  int n_binds;
  uint64_t tmp_size;              /* --tmp-size BYTES: size of the /tmp tmpfs */
  uint64_t nofile;                /* --nofile N: RLIMIT_NOFILE (soft and hard) */
  uint64_t fsize;                 /* --fsize BYTES: RLIMIT_FSIZE, 0 for unchanged */
  bool landlock;                  /* --landlock: apply Landlock; failure is fatal */
  int ports[MAX_PORTS];           /* --allow-port N: Landlock TCP bind+connect rule */
  int n_ports;
  const char *cwd;                /* --cwd DIR (default /workspace, or / without one) */
  bool wait;                      /* --wait: prepare (cgroups, parent watch), then read the
                                     command from stdin: "<length>\n" and that many bytes of
                                     NUL-terminated argv; the rest of stdin is the command's */
  int relay_port;                 /* --egress-relay PORT:SOCKET: relay 127.0.0.1:PORT in the */
  const char *relay_socket;       /*   sandbox to the egress proxy's Unix SOCKET (relay.c) */
  char **argv;                    /* the command, after "--" */
};

/* Parses argv; on a bad option reports "error options ..." and exits. */
void parse_options(int argc, char **argv, struct options *o);

#endif
