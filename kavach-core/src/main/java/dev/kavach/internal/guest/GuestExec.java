package dev.kavach.internal.guest;

import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;

/** The exec step every agent-based backend shares: one request, one {@link ExecOutcome}. */
public final class GuestExec {
  private GuestExec() {}

  /**
   * Runs the spec through the agent.
   *
   * @param cwd working directory in the guest ({@code /workspace} in a VM)
   * @param enforcement what the backend applied around the guest (VM memory, vCPUs, no NIC, ...)
   *     and, when {@code seccompBpf} is not empty, the filter the agent installs
   * @param seccompBpf the compiled filter for the command, empty for none
   */
  public static ExecOutcome run(
      AgentClient client, ExecSpec spec, String cwd, Enforcement enforcement, byte[] seccompBpf) {
    AgentClient.Result r = client.run(spec, cwd, seccompBpf);
    return new ExecOutcome(
        r.exitCode(),
        r.signal(),
        r.timedOut(),
        false,
        r.stdout(),
        r.stderr(),
        r.stdoutTruncated(),
        r.stderrTruncated(),
        r.duration(),
        enforcement,
        null);
  }
}
