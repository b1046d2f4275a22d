package dev.kavach.backend;

/**
 * What a backend can do. A policy that needs a capability the backend lacks fails at {@code
 * Sandbox.create}, naming the capability, unless the policy is best-effort.
 */
public enum Capability {
  /** Actually runs the command (every backend except noop). */
  RUNS_COMMANDS,
  /** Cuts the command off from every network but its own loopback. */
  NETWORK_ISOLATION,
  /** Restricts TCP connect and bind to allowed ports. */
  NETWORK_PORT_RULES,
  /** Restricts network destinations by host name (egress proxy). */
  NETWORK_HOST_RULES,
  /** Enforces filesystem rules (paths and access). */
  FILESYSTEM_RULES,
  /** Makes the root filesystem read-only. */
  READ_ONLY_ROOT,
  /** Installs a seccomp filter. */
  SECCOMP,
  /** Enforces a memory limit. */
  MEMORY_LIMIT,
  /** Enforces a CPU quota. */
  CPU_LIMIT,
  /** Enforces a process limit. */
  PIDS_LIMIT,
  /** Limits the size of files the command writes ({@code RLIMIT_FSIZE}). */
  FILE_SIZE_LIMIT,
  /** Freezes and thaws every process of the sandbox. */
  PAUSE,
  /** Injects secrets as environment variables. */
  SECRET_ENV,
  /** Injects secrets as files that never touch the host's persistent disk. */
  SECRET_FILE,
  /** Injects secrets on standard input. */
  SECRET_STDIN,
  /** Reports CPU time and peak memory per exec. */
  RESOURCE_USAGE
}
