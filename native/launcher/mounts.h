/* The command's filesystem view. */
#ifndef KAVACH_MOUNTS_H
#define KAVACH_MOUNTS_H

#include "options.h"
#include "runfiles.h"

/* Detached mount trees the supervisor prepared on the host side: an idmapped clone of a bind
 * source, so that a command running as an unprivileged uid acts as the source's owner inside
 * it and files it creates belong to that owner on the host. -1 means "bind by path" (when the
 * supervisor is not root, the command's uid already owns what it may bind). */
struct trees {
  int workspace;
  int binds[MAX_PATHS];
};

/* Supervisor side: opens and idmaps the workspace and --ro/--rw sources when running as root
 * for a non-root uid. */
void open_host_trees(const struct options *o, struct trees *t);

/* Init side: builds the new root on a tmpfs and pivots into it. Reports "root ..." facts. */
void build_root(const struct options *o, const struct trees *t, const struct secret *secrets,
                int n_secrets);

#endif
