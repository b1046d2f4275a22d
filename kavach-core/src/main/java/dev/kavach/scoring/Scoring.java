package dev.kavach.scoring;

import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.backend.Enforcement;
import dev.kavach.policy.SandboxPolicy;
import java.util.List;
import java.util.Set;

/**
 * Pure functions from a backend and what it enforced to a {@link StrengthScore}.
 *
 * <p>The table is the Rust crate's: a base per backend, then seccomp +5, Landlock rules +3, network
 * isolated +5, read-only root +3, memory or CPU limit +2, clamped to 0..100. The difference is the
 * input: {@link #score} counts a modifier only when the {@link Enforcement} report says the control
 * was applied; {@link #declared} shows what a policy would score if every control it asks for that
 * the backend supports were applied.
 *
 * <pre>{@code
 * StrengthScore s = Scoring.score(50, result.enforcement());   // e.g. 68 (standard)
 * }</pre>
 */
public final class Scoring {
  /** Points for a seccomp filter. */
  public static final int SECCOMP = 5;

  /** Points for Landlock filesystem rules. */
  public static final int LANDLOCK = 3;

  /** Points for an isolated network. */
  public static final int NETWORK_ISOLATED = 5;

  /** Points for a read-only root filesystem. */
  public static final int READ_ONLY_ROOT = 3;

  /** Points for a memory or CPU limit. */
  public static final int RESOURCE_LIMIT = 2;

  private Scoring() {}

  /** The score of what was enforced. */
  public static StrengthScore score(int baseScore, Enforcement e) {
    // Same sum as breakdown(e), without building the explanation: this runs on every exec.
    int total = baseScore;
    total += e.seccomp() ? SECCOMP : 0;
    total += e.landlock() ? LANDLOCK : 0;
    total += e.networkIsolated() ? NETWORK_ISOLATED : 0;
    total += e.readOnlyRoot() ? READ_ONLY_ROOT : 0;
    total += e.memoryOrCpuLimited() ? RESOURCE_LIMIT : 0;
    return new StrengthScore(total);
  }

  /** The score of what was enforced by a backend of this provider. */
  public static StrengthScore score(BackendProvider provider, Enforcement e) {
    return score(provider.baseScore(), e);
  }

  /** The modifiers of an enforcement report, counted or not, with why. */
  public static List<Modifier> breakdown(Enforcement e) {
    return List.of(
        new Modifier(
            "seccomp",
            SECCOMP,
            e.seccomp(),
            e.seccomp() ? "profile " + e.seccompProfile() + " installed" : "no filter"),
        new Modifier(
            "landlock",
            LANDLOCK,
            e.landlock(),
            e.landlock()
                ? e.landlockRules() + " rules, ABI " + e.landlockAbi()
                : "no Landlock ruleset"),
        new Modifier(
            "network-isolated",
            NETWORK_ISOLATED,
            e.networkIsolated(),
            !e.networkIsolated()
                ? "network reachable"
                : e.egress() != null
                    ? "only through the egress proxy: " + e.egress().describe()
                    : "no route out but loopback"),
        new Modifier(
            "read-only-root",
            READ_ONLY_ROOT,
            e.readOnlyRoot(),
            e.readOnlyRoot() ? "root mounted read-only" : "root writable"),
        new Modifier(
            "resource-limit",
            RESOURCE_LIMIT,
            e.memoryOrCpuLimited(),
            e.memoryOrCpuLimited() ? "memory or CPU limited" : "no memory or CPU limit"));
  }

  /**
   * What the policy would score on this backend if every control it requests that the backend
   * supports were enforced. A backend that runs nothing (noop) gets no modifiers.
   */
  public static StrengthScore declared(BackendProvider provider, SandboxPolicy policy) {
    return sum(provider.baseScore(), declaredBreakdown(provider.capabilities(), policy));
  }

  /** The modifiers a policy requests, counted when the backend has the capability. */
  public static List<Modifier> declaredBreakdown(Set<Capability> caps, SandboxPolicy policy) {
    boolean runs = caps.contains(Capability.RUNS_COMMANDS);
    boolean seccomp = runs && policy.seccompEnabled() && caps.contains(Capability.SECCOMP);
    boolean landlock =
        runs && !policy.filesystemRules().isEmpty() && caps.contains(Capability.FILESYSTEM_RULES);
    // An egress proxy with an allowlist is the only way out, which counts as isolation; one that
    // lets every host but a few through does not.
    boolean egress =
        !policy.network().allowedHosts().isEmpty() && caps.contains(Capability.NETWORK_HOST_RULES);
    boolean net =
        runs
            && ((policy.network().isolated() && caps.contains(Capability.NETWORK_ISOLATION))
                || egress);
    boolean ro = runs && policy.readOnlyRootfs() && caps.contains(Capability.READ_ONLY_ROOT);
    boolean limit =
        runs
            && ((policy.memoryLimitMb() != null && caps.contains(Capability.MEMORY_LIMIT))
                || (policy.cpuLimit() != null && caps.contains(Capability.CPU_LIMIT)));
    return List.of(
        new Modifier("seccomp", SECCOMP, seccomp, requested(policy.seccompEnabled(), seccomp)),
        new Modifier(
            "landlock",
            LANDLOCK,
            landlock,
            requested(!policy.filesystemRules().isEmpty(), landlock)),
        new Modifier(
            "network-isolated",
            NETWORK_ISOLATED,
            net,
            requested(
                policy.network().isolated() || !policy.network().allowedHosts().isEmpty(), net)),
        new Modifier("read-only-root", READ_ONLY_ROOT, ro, requested(policy.readOnlyRootfs(), ro)),
        new Modifier(
            "resource-limit",
            RESOURCE_LIMIT,
            limit,
            requested(policy.memoryLimitMb() != null || policy.cpuLimit() != null, limit)));
  }

  private static String requested(boolean requested, boolean supported) {
    if (!requested) {
      return "not requested";
    }
    return supported ? "requested" : "requested, not supported by this backend";
  }

  private static StrengthScore sum(int base, List<Modifier> modifiers) {
    int total = base;
    for (Modifier m : modifiers) {
      if (m.counted()) {
        total += m.points();
      }
    }
    return new StrengthScore(total);
  }
}
