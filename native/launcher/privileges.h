/* Resource limits and the irreversible loss of privilege before the command starts. */
#ifndef KAVACH_PRIVILEGES_H
#define KAVACH_PRIVILEGES_H

#include "options.h"

/* Sets RLIMIT_NOFILE, RLIMIT_CORE=0 and RLIMIT_FSIZE (when given). */
void apply_rlimits(const struct options *o);

/* Empties the bounding, ambient, inheritable, permitted and effective sets, locks the
 * securebits so nothing can bring a capability back, and verifies the result. */
void drop_capabilities(void);

/* Sets no_new_privs: execve can no longer grant privileges (setuid bits, file capabilities),
 * and it is the precondition for unprivileged Landlock and seccomp. */
void set_no_new_privs(void);

#endif
