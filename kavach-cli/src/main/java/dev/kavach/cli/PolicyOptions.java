package dev.kavach.cli;

import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** How a command chooses its policy: a preset or a file, then overrides. */
final class PolicyOptions {
  @ArgGroup(exclusive = true)
  @Nullable Source source;

  static final class Source {
    @Option(
        names = {"-p", "--policy"},
        paramLabel = "PRESET",
        description = "Policy preset: minimal, basic or strict (default: basic).")
    @Nullable String preset;

    @Option(
        names = "--policy-file",
        paramLabel = "FILE",
        description = "Policy as JSON (snake_case fields, as `kavach policy show` prints).")
    @Nullable Path file;
  }

  @Option(
      names = "--no-network",
      description = "Isolate the network (only loopback), whatever the policy says.")
  boolean noNetwork;

  @Option(
      names = "--best-effort",
      description = "Run with only the controls the host can apply; the score counts only those.")
  boolean bestEffort;

  SandboxPolicy resolve() {
    SandboxPolicy p;
    if (source != null && source.file != null) {
      p = SandboxPolicy.load(source.file);
    } else if (source != null && source.preset != null) {
      p = SandboxPolicy.preset(source.preset);
    } else {
      p = SandboxPolicy.basic();
    }
    if (noNetwork || bestEffort) {
      SandboxPolicy.Builder b = p.toBuilder();
      if (noNetwork) {
        b.network(NetworkPolicy.disabled());
      }
      if (bestEffort) {
        b.bestEffort(true);
      }
      p = b.build();
    }
    return p;
  }
}
