package dev.kavach.backend.process.seccomp;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.util.Locale;

/**
 * An architecture a filter can be compiled for. Both are little-endian, so a compiled program and
 * the {@code seccomp_data} it reads have the same layout on either.
 */
public enum Arch {
  /** x86-64, {@code AUDIT_ARCH_X86_64}. Its kernel also accepts x32 and i386 system calls. */
  X86_64("x86_64", 0xC000003E, "SCMP_ARCH_X86_64", true),
  /** ARM64, {@code AUDIT_ARCH_AARCH64}. */
  AARCH64("aarch64", 0xC00000B7, "SCMP_ARCH_AARCH64", false);

  /** {@code __X32_SYSCALL_BIT}: an x32 system call number has this bit set. */
  public static final int X32_SYSCALL_BIT = 0x40000000;

  private final String id;
  private final int auditArch;
  private final String ociName;
  private final boolean hasX32;

  Arch(String id, int auditArch, String ociName, boolean hasX32) {
    this.id = id;
    this.auditArch = auditArch;
    this.ociName = ociName;
    this.hasX32 = hasX32;
  }

  /**
   * The architecture of the running JVM.
   *
   * @throws KavachException with {@link Reason#BACKEND_UNAVAILABLE} on any other architecture:
   *     without a syscall table for it no filter can be compiled
   */
  public static Arch host() {
    return fromOsArch(System.getProperty("os.arch", ""));
  }

  /** The architecture for a value of the {@code os.arch} property. */
  static Arch fromOsArch(String osArch) {
    return switch (osArch.toLowerCase(Locale.ROOT)) {
      case "amd64", "x86_64" -> X86_64;
      case "aarch64", "arm64" -> AARCH64;
      default ->
          throw new KavachException(
              Reason.BACKEND_UNAVAILABLE,
              "seccomp: no system call table for architecture \""
                  + osArch
                  + "\" (have x86_64, aarch64)");
    };
  }

  /** The name used in tables and messages, {@code x86_64} or {@code aarch64}. */
  public String id() {
    return id;
  }

  /** The {@code AUDIT_ARCH_*} value the kernel puts in {@code seccomp_data.arch}. */
  public int auditArch() {
    return auditArch;
  }

  /** The OCI runtime-spec name ({@code SCMP_ARCH_*}). */
  public String ociName() {
    return ociName;
  }

  /**
   * Whether this kernel also accepts x32 system calls, which arrive with the native {@code arch}
   * value and {@link #X32_SYSCALL_BIT} set in the number.
   */
  public boolean hasX32() {
    return hasX32;
  }

  /** The system call table of this architecture. */
  public SyscallTable syscalls() {
    return SyscallTable.of(this);
  }
}
