/* Installing the seccomp filter Java compiled. */
#ifndef KAVACH_SECCOMP_H
#define KAVACH_SECCOMP_H

#include "runfiles.h"

/* Checks that the blob is a plausible struct sock_filter[] (8 bytes per instruction, 1..4096
 * instructions). Done early, in the supervisor, so a bad file fails before any namespace. */
void check_filter(struct blob program);

/* Installs the filter on the calling thread. Must be the last restriction: every step before it
 * may need syscalls the filter denies. Needs no_new_privs. */
void install_filter(struct blob program, const char *name);

#endif
