/* Resource limits, capabilities, securebits and no_new_privs (see privileges.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privileges.h"

static void limit(const char *name, int resource, rlim_t value) {
  struct rlimit cur;
  if (getrlimit(resource, &cur) != 0) {
    DIE("rlimits", "getrlimit %s", name);
  }
  /* Never try to raise a hard limit (hosts without CAP_SYS_RESOURCE refuse): clamp to it. */
  if (cur.rlim_max != RLIM_INFINITY && value > cur.rlim_max) {
    value = cur.rlim_max;
  }
  struct rlimit want = {value, value};
  if (setrlimit(resource, &want) != 0) {
    DIE("rlimits", "setrlimit %s %llu", name, (unsigned long long)value);
  }
  report("rlimit %s %llu", name, (unsigned long long)value);
}

void apply_rlimits(const struct options *o) {
  limit("nofile", RLIMIT_NOFILE, (rlim_t)o->nofile);
  limit("core", RLIMIT_CORE, 0);
  if (o->fsize > 0) {
    limit("fsize", RLIMIT_FSIZE, (rlim_t)o->fsize);
  }
}

void drop_capabilities(void) {
  int last = -1;
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
      break; /* EINVAL: past the kernel's last capability */
    }
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      DIE("capabilities", "drop capability %d from the bounding set", cap);
    }
    last = cap;
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    DIE("capabilities", "clear the ambient set");
  }
  /* Lock every securebit that could give capabilities back: no root magic for uid 0, no
   * fix-ups on setuid, no keeping capabilities across setuid, no ambient raise. */
  unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                       SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                       SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) {
    DIE("securebits", "lock securebits");
  }
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &header, data) != 0) {
    DIE("capabilities", "capset to empty");
  }
  /* Verify rather than trust: read everything back. */
  if (syscall(SYS_capget, &header, data) != 0) {
    DIE("capabilities", "capget");
  }
  for (int i = 0; i < 2; i++) {
    if (data[i].effective | data[i].permitted | data[i].inheritable) {
      fail("capabilities", 0, "capability sets not empty after capset");
    }
  }
  for (int cap = 0; cap <= last; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0) {
      fail("capabilities", 0, "capability %d still in the bounding set", cap);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) != 0) {
      fail("capabilities", 0, "capability %d still in the ambient set", cap);
    }
  }
  report("capabilities dropped %d", last + 1);
  report("securebits 0x%lx", (unsigned long)prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
}

void set_no_new_privs(void) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    DIE("no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS)");
  }
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
    fail("no_new_privs", 0, "no_new_privs did not stick");
  }
  report("no_new_privs 1");
}
