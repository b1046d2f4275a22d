package dev.kavach.backend;

import java.nio.file.Path;

/**
 * One sandbox's instance of a backend. {@link dev.kavach.Sandbox} drives it through the lifecycle
 * and serialises transitions; {@link #exec} may be called concurrently while running.
 */
public interface Backend {

  /**
   * Allocates host resources (cgroups, containers, run directories).
   *
   * @param workspace host directory that the command sees, read-write, at {@code /workspace}
   * @throws dev.kavach.KavachException if a requested control cannot be set up
   */
  void start(Path workspace);

  /**
   * Runs one command to completion, timeout or kill. A non-zero exit, a signal or a timeout is an
   * outcome, not an exception.
   *
   * @throws dev.kavach.KavachException if the sandbox could not be set up for this command; the
   *     command did not run
   */
  ExecOutcome exec(ExecSpec spec);

  /** Freezes every process of the sandbox (only with {@link Capability#PAUSE}). */
  default void pause() {
    throw new UnsupportedOperationException("pause");
  }

  /** Thaws every process of the sandbox (only with {@link Capability#PAUSE}). */
  default void resume() {
    throw new UnsupportedOperationException("resume");
  }

  /** Kills every process of the sandbox; running execs return as killed. Idempotent. */
  void stop();

  /** Releases everything allocated by {@link #start}. Idempotent; safe in any state. */
  void destroy();

  /** Whether the backend can still run commands. */
  default Health health() {
    return new Health(true, "ok");
  }
}
