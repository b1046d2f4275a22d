package dev.kavach.backend.process.seccomp;

import java.util.Locale;
import java.util.Objects;

/**
 * What a filter does with a system call: one of the kernel's {@code SECCOMP_RET_*} actions. {@code
 * SECCOMP_RET_TRACE} and {@code SECCOMP_RET_USER_NOTIF} are left out on purpose: the launcher runs
 * no tracer and no notification listener, so they would only fail at run time.
 *
 * @param kind the action
 * @param errno the error number for {@link Kind#ERRNO} (1 to 4095), otherwise 0
 */
public record SeccompAction(Kind kind, int errno) {

  /** The kinds of action, with their {@code SECCOMP_RET_*} values. */
  public enum Kind {
    /** Run the system call. */
    ALLOW(0x7fff0000, "SCMP_ACT_ALLOW"),
    /** Fail the system call with an errno, without running it. */
    ERRNO(0x00050000, "SCMP_ACT_ERRNO"),
    /** Run the system call and log it to the audit log. */
    LOG(0x7ffc0000, "SCMP_ACT_LOG"),
    /** Send SIGSYS, which the process may catch. */
    TRAP(0x00030000, "SCMP_ACT_TRAP"),
    /** Kill the calling thread with SIGSYS. */
    KILL_THREAD(0x00000000, "SCMP_ACT_KILL_THREAD"),
    /** Kill the whole process with SIGSYS. */
    KILL_PROCESS(0x80000000, "SCMP_ACT_KILL_PROCESS");

    private final int ret;
    private final String ociName;

    Kind(int ret, String ociName) {
      this.ret = ret;
      this.ociName = ociName;
    }

    /** The name used in profile files. */
    public String jsonName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Validates the errno. */
  public SeccompAction {
    Objects.requireNonNull(kind, "kind");
    if (kind == Kind.ERRNO) {
      // errno 0 would make a refused call look like a success; above MAX_ERRNO the kernel clamps.
      if (errno < 1 || errno > KernelConstants.MAX_ERRNO) {
        throw new IllegalArgumentException(
            "errno (" + errno + ") must be between 1 and " + KernelConstants.MAX_ERRNO);
      }
    } else if (errno != 0) {
      throw new IllegalArgumentException(kind.jsonName() + " takes no errno (got " + errno + ")");
    }
  }

  /** Run the system call. */
  public static SeccompAction allow() {
    return new SeccompAction(Kind.ALLOW, 0);
  }

  /** Fail with this errno. */
  public static SeccompAction errno(int errno) {
    return new SeccompAction(Kind.ERRNO, errno);
  }

  /** Fail with the errno of this name, such as {@code "EPERM"}. */
  public static SeccompAction errno(String name) {
    return errno(
        KernelConstants.errno(name)
            .orElseThrow(() -> new IllegalArgumentException("unknown errno name " + name)));
  }

  /** Kill the process. */
  public static SeccompAction killProcess() {
    return new SeccompAction(Kind.KILL_PROCESS, 0);
  }

  /** Run and log. */
  public static SeccompAction log() {
    return new SeccompAction(Kind.LOG, 0);
  }

  /** The value a filter returns for this action ({@code SECCOMP_RET_ACTION_FULL | data}). */
  public int ret() {
    return kind.ret | errno;
  }

  /** The action a filter's return value stands for. */
  public static SeccompAction fromRet(int ret) {
    int action = ret & 0xffff0000;
    for (Kind k : Kind.values()) {
      if (k.ret == action) {
        return k == Kind.ERRNO
            ? errno(Math.min(ret & 0xffff, KernelConstants.MAX_ERRNO))
            : new SeccompAction(k, 0);
      }
    }
    throw new IllegalArgumentException(String.format("unsupported seccomp return 0x%08x", ret));
  }

  /** The OCI runtime-spec action name ({@code SCMP_ACT_*}). */
  public String ociName() {
    return kind.ociName;
  }

  /** Whether the system call runs. */
  public boolean runs() {
    return kind == Kind.ALLOW || kind == Kind.LOG;
  }

  /** {@code allow}, {@code errno(EPERM)}, {@code kill_process}. */
  @Override
  public String toString() {
    if (kind != Kind.ERRNO) {
      return kind.jsonName();
    }
    String name = KernelConstants.errnoName(errno);
    return "errno(" + (name == null ? Integer.toString(errno) : name) + ")";
  }
}
