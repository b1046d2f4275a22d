package dev.kavach.internal.container;

import java.util.List;
import java.util.Set;

/**
 * One container runtime's commands for one sandbox's container, as {@link ContainerBackend} needs
 * them. Implementations run the runtime's CLI; they hold no policy logic (that is in {@link
 * ContainerPlan} and {@link Confirmation}).
 */
public interface ContainerDriver {

  /** The runtime's name for reports: {@code runc}, {@code crun}, {@code runsc}, {@code podman}. */
  String runtime();

  /**
   * Creates and starts the container, whose first process is {@code kavach-agent-oci init}.
   *
   * @return the host pid of the process whose cgroups hold the container (its first process, or
   *     gVisor's sandbox process)
   * @throws dev.kavach.KavachException with the runtime's own error when it fails; whatever was
   *     created is removed again
   */
  long create(ContainerLayout layout);

  /**
   * The command line that runs {@code args} (normally {@code kavach-agent-oci exec -- argv}) inside
   * the running container as the plan's uid, with {@code KAVACH_AGENT_TOKEN=token} as its only
   * environment variable. It may write files under {@link ContainerLayout#exec()} named after the
   * token; the backend deletes them.
   */
  List<String> execCommand(ContainerLayout layout, String token, List<String> args);

  /**
   * Checks what the probe saw inside the started container against what the driver expects of its
   * image (sy-agnos: the tier the score was based on). The default expects nothing.
   *
   * @throws dev.kavach.KavachException with {@code ENFORCEMENT_FAILED} on a mismatch
   */
  default void verify(InsideFacts facts) {}

  /**
   * Whether the agent must install the plan's seccomp filter itself, because the runtime applies
   * {@code linux.seccomp} to the container's first process only (runsc 2022: its exec'd processes
   * run unfiltered).
   */
  default boolean agentInstallsSeccomp() {
    return false;
  }

  /**
   * Whether an exec's standard input must reach the agent as a file in the run directory rather
   * than through the runtime's exec (whose stdin handling may lose the command's output).
   */
  default boolean stdinThroughFile() {
    return false;
  }

  /** Sends SIGTERM to the agent of one exec, known by its pid inside the container. Best effort. */
  void signalAgent(int insidePid);

  /** Freezes every process of the container. */
  void pause();

  /** Thaws every process of the container. */
  void resume();

  /** Kills every process of the container (the container stays, stopped, until {@link #delete}). */
  void killAll();

  /** Whether the container's first process is still running. */
  boolean running();

  /**
   * Deletes the container and whatever the runtime left behind for it (state, cgroup directories).
   * Idempotent; safe when {@link #create} failed or never ran.
   */
  void delete();

  /** The namespaces the container's processes run in, as observed on the host. */
  Set<String> namespaces();

  /** Facts about the runtime for the enforcement report (version, platform, workarounds). */
  List<String> notes();
}
