package dev.kavach.internal.guest;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Test-only backend: the exec path of the VM backends ({@link GuestExec} over {@link AgentClient}
 * and the vsock handshake) against kavach-agent running on the host. It isolates nothing; it proves
 * the agent and the protocol against {@link dev.kavach.testing.BackendContract}.
 */
final class AgentUnixBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "agent-unix";
  }

  @Override
  public String description() {
    return "test only: kavach-agent on a host Unix socket, no isolation";
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
      private @Nullable AgentHarness harness;
      private @Nullable AgentClient client;
      private @Nullable Path workspace;

      @Override
      public void start(Path ws) {
        try {
          harness = AgentHarness.start(sandboxId);
        } catch (IOException e) {
          throw new KavachException(Reason.LAUNCH_FAILED, "agent: " + e, e);
        }
        client = harness.client();
        workspace = ws;
      }

      @Override
      public ExecOutcome exec(ExecSpec spec) {
        AgentClient c = client;
        Path ws = workspace;
        if (c == null || ws == null) {
          throw new KavachException(Reason.INVALID_STATE, "not started");
        }
        return GuestExec.run(c, spec, ws.toString(), Enforcement.none("agent-unix"), new byte[0]);
      }

      @Override
      public void stop() {
        AgentClient c = client;
        if (c != null) {
          c.killAll();
        }
      }

      @Override
      public void destroy() {
        AgentHarness h = harness;
        harness = null;
        if (h != null) {
          try {
            h.close();
          } catch (IOException e) {
            throw new KavachException(Reason.IO, "agent cleanup: " + e, e);
          }
        }
      }
    };
  }
}
