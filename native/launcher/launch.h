/* What the supervisor hands to init across clone(): everything is read before the namespaces
 * exist, so init never touches the run directory. */
#ifndef KAVACH_LAUNCH_H
#define KAVACH_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "mounts.h"
#include "options.h"
#include "runfiles.h"

struct launch {
  struct options opts;
  struct trees trees;
  char **env;                            /* the command's complete environment */
  struct secret secrets[MAX_SECRETS];
  int n_secrets;
  struct blob filter;                    /* seccomp program; len 0 when none */
  int lifeline;                          /* read end of a pipe the supervisor holds open: EOF
                                            (POLLHUP) means it died */
  int relay_socket;                      /* O_PATH fd of the egress proxy's socket, -1 if none */
  char *args_start;                      /* the launcher's argv strings, [start, end): init */
  char *args_end;                        /* blanks them so /proc/1/cmdline shows no host paths */
};

/* Pid 1 of the new namespaces: builds the sandbox, runs the command, reports its end. */
int init_main(void *arg);

/* The supervisor's loop in the host namespaces: forwards signals to init, dies with the JVM,
 * exits with init's status. */
void supervise(pid_t init, int parent_pidfd) __attribute__((noreturn));

/* --probe: prints what this host supports as key=value lines. */
int probe(void);

#endif
