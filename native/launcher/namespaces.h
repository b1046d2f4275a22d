/* Namespaces: creating init in new ones, its uid/gid mapping, loopback and hostname. */
#ifndef KAVACH_NAMESPACES_H
#define KAVACH_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

/* Clones fn(arg) as pid 1 of new user, PID, mount, IPC, UTS and cgroup namespaces, and a new
 * network namespace unless share_net. Returns the child's pid in our namespace. */
pid_t clone_init(int (*fn)(void *), void *arg, bool share_net);

/* Maps the caller's own uid and gid in its new user namespace (one id each, the same number
 * inside and outside) and denies setgroups. Needs no privilege: an unprivileged process may map
 * exactly its own ids. */
void map_own_ids(uid_t uid, gid_t gid);

/* Creates a user namespace mapping host ids (from_uid, from_gid) to (to_uid, to_gid), for an
 * idmapped mount, and returns an fd to it. Called by a root supervisor only. */
int idmap_userns(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid);

/* Brings up "lo" in the (new) network namespace. */
void loopback_up(void);

/* Sets the UTS hostname. */
void set_hostname(const char *name);

/* Caps nested user namespaces at zero inside ours, so the command cannot create one even
 * without a seccomp filter (user namespaces are the door to most kernel attack surface). */
void forbid_nested_userns(void);

#endif
