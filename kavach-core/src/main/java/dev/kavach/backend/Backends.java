package dev.kavach.backend;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scoring.Scoring;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The backends known to this JVM and the choice between them. Selection explains itself: when
 * nothing fits, the exception lists every backend tried and why it was skipped. Nothing is cached
 * between calls.
 *
 * <pre>{@code
 * BackendProvider p = Backends.discover().best(SandboxPolicy.strict(), 60);
 * }</pre>
 */
public final class Backends {
  private final List<BackendProvider> providers;

  private Backends(List<BackendProvider> providers) {
    List<BackendProvider> sorted = new ArrayList<>(providers);
    sorted.sort(
        Comparator.comparingInt(BackendProvider::baseScore).thenComparing(BackendProvider::name));
    this.providers = List.copyOf(sorted);
  }

  /** The providers registered with {@link ServiceLoader}. */
  public static Backends discover() {
    List<BackendProvider> found = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(found::add);
    return new Backends(found);
  }

  /** A fixed set of providers, for tests and embedding. */
  public static Backends of(List<BackendProvider> providers) {
    return new Backends(providers);
  }

  /** Every provider, weakest first. */
  public List<BackendProvider> providers() {
    return providers;
  }

  /** The provider with this name or alias, case-insensitive. */
  public Optional<BackendProvider> find(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (BackendProvider p : providers) {
      if (p.name().equals(n) || p.aliases().contains(n)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * The named provider if it is available on this host and can enforce the policy; {@code auto}
   * means {@link #best(SandboxPolicy, int) best(policy, 0)}.
   *
   * @throws BackendUnavailableException if the name is unknown or the backend cannot run here
   * @throws KavachException with {@link Reason#ENFORCEMENT_FAILED} if it cannot enforce the policy
   */
  public BackendProvider select(String name, SandboxPolicy policy) {
    if (name.equalsIgnoreCase("auto")) {
      return best(policy, 0);
    }
    BackendProvider p =
        find(name)
            .orElseThrow(
                () ->
                    new BackendUnavailableException(
                        "unknown backend \""
                            + name
                            + "\" (known: "
                            + String.join(", ", names())
                            + ", auto)",
                        List.of()));
    Availability a = p.probe();
    if (!a.available()) {
      throw new BackendUnavailableException(
          "backend " + p.name() + " is not available: " + a.reason(), List.of());
    }
    List<String> missing = missingCapabilities(p, policy);
    if (!missing.isEmpty() && !policy.bestEffort()) {
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED,
          "backend "
              + p.name()
              + " cannot enforce "
              + String.join(", ", missing)
              + " (use a stronger backend, drop the control, or set best_effort)");
    }
    return p;
  }

  /**
   * The strongest available provider that can enforce the policy and whose declared score is at
   * least {@code minScore}. Never noop: a backend that runs nothing is not a sandbox.
   *
   * @throws BackendUnavailableException listing every provider and why it was skipped
   */
  public BackendProvider best(SandboxPolicy policy, int minScore) {
    List<BackendProvider> candidates = new ArrayList<>(providers);
    candidates.sort(
        Comparator.comparingInt((BackendProvider p) -> Scoring.declared(p, policy).value())
            .reversed()
            .thenComparing(BackendProvider::name));
    List<String> skipped = new ArrayList<>();
    for (BackendProvider p : candidates) {
      if (!p.capabilities().contains(Capability.RUNS_COMMANDS)) {
        skipped.add(p.name() + ": runs nothing");
        continue;
      }
      int declared = Scoring.declared(p, policy).value();
      if (declared < minScore) {
        skipped.add(p.name() + ": would score " + declared + " < " + minScore);
        continue;
      }
      List<String> missing = missingCapabilities(p, policy);
      if (!missing.isEmpty() && !policy.bestEffort()) {
        skipped.add(p.name() + ": cannot enforce " + String.join(", ", missing));
        continue;
      }
      Availability a = p.probe();
      if (!a.available()) {
        skipped.add(p.name() + ": " + a.reason());
        continue;
      }
      return p;
    }
    throw new BackendUnavailableException(
        "no available backend can enforce this policy with a score of at least " + minScore,
        skipped);
  }

  /** Names of all providers. */
  public List<String> names() {
    List<String> names = new ArrayList<>();
    providers.forEach(p -> names.add(p.name()));
    return names;
  }

  /**
   * The controls the policy asks for that the provider lacks, each named with its policy field.
   * Empty for a provider that runs nothing: nothing runs, so nothing is exposed. A control the
   * provider declares {@link BackendProvider#inapplicable() inapplicable} is not missing.
   */
  public static List<String> missingCapabilities(BackendProvider provider, SandboxPolicy policy) {
    Set<Capability> caps = provider.capabilities();
    List<String> missing = new ArrayList<>();
    if (!caps.contains(Capability.RUNS_COMMANDS)) {
      return missing;
    }
    for (Capability c : required(policy)) {
      if (!caps.contains(c) && !provider.inapplicable().contains(c)) {
        missing.add(describe(c));
      }
    }
    return missing;
  }

  /** The capabilities a policy needs. */
  public static Set<Capability> required(SandboxPolicy policy) {
    Set<Capability> need = EnumSet.of(Capability.RUNS_COMMANDS);
    if (policy.seccompEnabled()) {
      need.add(Capability.SECCOMP);
    }
    if (!policy.filesystemRules().isEmpty() || policy.dataDir() != null) {
      need.add(Capability.FILESYSTEM_RULES);
    }
    if (policy.network().isolated()) {
      need.add(Capability.NETWORK_ISOLATION);
    }
    boolean hostRules =
        !policy.network().allowedHosts().isEmpty() || !policy.network().deniedHosts().isEmpty();
    if (hostRules) {
      // The egress proxy then checks destination ports too.
      need.add(Capability.NETWORK_HOST_RULES);
    } else if (!policy.network().allowedPorts().isEmpty()) {
      need.add(Capability.NETWORK_PORT_RULES);
    }
    if (policy.readOnlyRootfs()) {
      need.add(Capability.READ_ONLY_ROOT);
    }
    if (policy.memoryLimitMb() != null) {
      need.add(Capability.MEMORY_LIMIT);
    }
    if (policy.cpuLimit() != null) {
      need.add(Capability.CPU_LIMIT);
    }
    if (policy.maxPids() != null) {
      need.add(Capability.PIDS_LIMIT);
    }
    if (policy.maxFileSizeMb() != null) {
      need.add(Capability.FILE_SIZE_LIMIT);
    }
    return need;
  }

  /** A capability with the policy field that asks for it. */
  public static String describe(Capability c) {
    return switch (c) {
      case RUNS_COMMANDS -> "running commands";
      case NETWORK_ISOLATION -> "network isolation (network.enabled: false)";
      case NETWORK_PORT_RULES -> "port rules (network.allowed_ports)";
      case NETWORK_HOST_RULES -> "host rules (network.allowed_hosts, network.denied_hosts)";
      case FILESYSTEM_RULES -> "filesystem rules (landlock_rules, data_dir)";
      case READ_ONLY_ROOT -> "a read-only root (read_only_rootfs)";
      case SECCOMP -> "seccomp (seccomp_enabled)";
      case MEMORY_LIMIT -> "a memory limit (memory_limit_mb)";
      case CPU_LIMIT -> "a CPU limit (cpu_limit)";
      case PIDS_LIMIT -> "a process limit (max_pids)";
      case FILE_SIZE_LIMIT -> "a file size limit (max_file_size_mb)";
      case PAUSE -> "pause and resume";
      case SECRET_ENV -> "secrets by environment variable";
      case SECRET_FILE -> "secrets by file";
      case SECRET_STDIN -> "secrets on standard input";
      case RESOURCE_USAGE -> "resource accounting";
    };
  }
}
