/* Landlock: filesystem, TCP port and scope rules for the view init built. */
#ifndef KAVACH_LANDLOCK_H
#define KAVACH_LANDLOCK_H

#include "options.h"
#include "runfiles.h"

/* Highest Landlock ABI this launcher knows the rights of. */
#define LANDLOCK_ABI_KNOWN 7

/* The kernel's Landlock ABI, or -1 with errno set (ENOSYS, EOPNOTSUPP when disabled). */
int landlock_abi(void);

/* Restricts init (and so the command) to the visible tree: read and execute on the read-only
 * parts, everything on /workspace, /tmp and --rw paths, reads of secret files; TCP bind and
 * connect only on --allow-port ports (ABI >= 4); no signals or abstract unix connects to
 * anything outside the sandbox (ABI >= 6). Runs after pivot_root. */
void apply_landlock(const struct options *o, const struct secret *secrets, int n_secrets);

#endif
