package dev.kavach.testing;

import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.internal.exec.Exec;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Test-only backend that runs commands directly on the host through {@link Exec}, with no isolation
 * at all. It exists so that {@link BackendContract} is proven against real processes (exit codes,
 * timeouts, tree kill, capture) independently of any isolation backend. It is never registered with
 * {@link java.util.ServiceLoader}.
 */
public final class HostExecBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "host-exec";
  }

  @Override
  public String description() {
    return "test only: no isolation";
  }

  @Override
  public int baseScore() {
    return 0;
  }

  @Override
  public Availability probe() {
    return Availability.available("test only");
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(Capability.RUNS_COMMANDS, Capability.SECRET_ENV, Capability.SECRET_STDIN);
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    return new Backend() {
      private final Set<Exec.Running> running = ConcurrentHashMap.newKeySet();
      private volatile Path workspace;

      @Override
      public void start(Path ws) {
        workspace = ws;
      }

      @Override
      public ExecOutcome exec(ExecSpec spec) {
        Exec.Running r =
            Exec.start(
                Exec.command(spec.argv())
                    .env(spec.env())
                    .cwd(workspace)
                    .stdin(spec.stdin())
                    .timeout(spec.timeout())
                    .outputLimit(spec.outputLimit())
                    .build());
        running.add(r);
        Exec.Result res;
        try {
          res = r.await();
        } finally {
          running.remove(r);
        }
        // The JVM reports a signal death as 128+N and cannot tell it from exit(128+N); this
        // test backend assumes a signal, which the contract's own commands never contradict.
        OptionalInt sig =
            res.exitValue() > 128 && res.exitValue() < 160
                ? OptionalInt.of(res.exitValue() - 128)
                : OptionalInt.empty();
        return new ExecOutcome(
            res.exitValue(),
            sig,
            res.timedOut(),
            false,
            res.stdout().bytes(),
            res.stderr().bytes(),
            res.stdout().truncated(),
            res.stderr().truncated(),
            res.duration(),
            Enforcement.none("host-exec"),
            null);
      }

      @Override
      public void stop() {
        running.forEach(Exec.Running::kill);
      }

      @Override
      public void destroy() {
        stop();
      }
    };
  }
}
