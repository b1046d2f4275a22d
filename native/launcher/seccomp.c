/* Installing the seccomp filter (see seccomp.h). The filter is compiled in Java; the launcher
 * only checks its shape and hands it to the kernel, which validates the program itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "seccomp.h"

void check_filter(struct blob program) {
  if (program.len == 0 || program.len % sizeof(struct sock_filter) != 0 ||
      program.len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    fail("seccomp", EINVAL, "filter of %zu bytes is not 1..%d instructions of 8 bytes",
         program.len, BPF_MAXINSNS);
  }
}

void install_filter(struct blob program, const char *name) {
  struct sock_fprog prog = {
      .len = (unsigned short)(program.len / sizeof(struct sock_filter)),
      .filter = (struct sock_filter *)program.data,
  };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    DIE("seccomp", "install filter %s (%u instructions)", name, prog.len);
  }
  report("seccomp %s %u", name, prog.len);
}
