package dev.kavach.cli;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
      names = "--allow-host",
      paramLabel = "HOST[:PORT]",
      description = {
        "Allow this destination through the egress proxy (repeatable): api.github.com,",
        "*.pypi.org (subdomains, not pypi.org itself), optionally :PORT. Enables the network,",
        "but only through the proxy; everything else is refused with a reason."
      })
  List<String> allowHosts = new ArrayList<>();

  @Option(
      names = "--allow-port",
      paramLabel = "PORT",
      description = "Allow only these destination ports (repeatable).")
  List<Integer> allowPorts = new ArrayList<>();

  @Option(
      names = "--deny-host",
      paramLabel = "HOST[:PORT]",
      description =
          "Refuse this destination even when allowed (repeatable; wins over --allow-host).")
  List<String> denyHosts = new ArrayList<>();

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
    boolean netFlags = !allowHosts.isEmpty() || !allowPorts.isEmpty() || !denyHosts.isEmpty();
    if (noNetwork && netFlags) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "--no-network conflicts with --allow-host, --allow-port, --deny-host");
    }
    if (noNetwork || bestEffort || netFlags) {
      SandboxPolicy.Builder b = p.toBuilder();
      if (noNetwork) {
        b.network(NetworkPolicy.disabled());
      }
      if (netFlags) {
        // The flags add to what the policy lists, and turn the network on (through the proxy
        // as soon as any host is named).
        NetworkPolicy base = p.network();
        List<String> hosts = new ArrayList<>(base.allowedHosts());
        allowHosts.forEach(h -> hosts.add(h.toLowerCase(java.util.Locale.ROOT)));
        List<Integer> ports = new ArrayList<>(base.allowedPorts());
        ports.addAll(allowPorts);
        List<String> denied = new ArrayList<>(base.deniedHosts());
        denyHosts.forEach(h -> denied.add(h.toLowerCase(java.util.Locale.ROOT)));
        try {
          b.network(new NetworkPolicy(true, hosts, ports, denied));
        } catch (IllegalArgumentException e) {
          throw new KavachException(Reason.POLICY_INVALID, e.getMessage(), e);
        }
      }
      if (bestEffort) {
        b.bestEffort(true);
      }
      p = b.build();
    }
    return p;
  }
}
