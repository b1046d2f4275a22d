package dev.kavach.backend.noop;

import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The noop backend: <b>it does not run the command</b>. Every exec returns exit code 0 with empty
 * output and an empty enforcement report, so its score is 0. It exists for dry runs and tests of
 * code around a sandbox, as in the Rust crate; {@code kavach backends} says so.
 */
public final class NoopBackendProvider implements BackendProvider {

  /** Creates the provider (for {@link java.util.ServiceLoader}). */
  public NoopBackendProvider() {}

  @Override
  public String name() {
    return "noop";
  }

  @Override
  public String description() {
    return "runs nothing: every exec returns exit 0 with empty output (dry runs, tests)";
  }

  @Override
  public int baseScore() {
    return 0;
  }

  @Override
  public Availability probe() {
    return Availability.available("always available; does not run commands");
  }

  @Override
  public Set<Capability> capabilities() {
    // Pausing a sandbox with no processes is vacuous but well defined, so the lifecycle is full.
    return EnumSet.of(Capability.PAUSE);
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    return new NoopBackend();
  }

  private static final class NoopBackend implements Backend {
    @Override
    public void start(Path workspace) {}

    @Override
    public ExecOutcome exec(ExecSpec spec) {
      return new ExecOutcome(
          0,
          OptionalInt.empty(),
          false,
          false,
          new byte[0],
          new byte[0],
          false,
          false,
          Duration.ZERO,
          Enforcement.none("noop"),
          null);
    }

    @Override
    public void pause() {}

    @Override
    public void resume() {}

    @Override
    public void stop() {}

    @Override
    public void destroy() {}
  }
}
