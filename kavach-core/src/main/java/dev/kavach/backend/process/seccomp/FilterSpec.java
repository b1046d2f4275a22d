package dev.kavach.backend.process.seccomp;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A profile resolved for one architecture and network setting: the decision for every system call
 * number. The single source of the semantics that the BPF code, the OCI export and the tests'
 * reference answers are all derived from.
 */
final class FilterSpec {
  /** The action for another architecture's calls and for x32 calls on x86_64. */
  static final SeccompAction FOREIGN_ABI = SeccompAction.killProcess();

  /**
   * What happens to calls of one system call number.
   *
   * @param fallback the action when no case holds
   * @param cases the cases that apply to this network setting, in order
   */
  record Decision(SeccompAction fallback, List<ArgCase> cases) {
    Decision {
      cases = List.copyOf(cases);
    }

    SeccompAction decide(long[] args) {
      for (ArgCase c : cases) {
        if (c.matches(args)) {
          return c.action();
        }
      }
      return fallback;
    }

    boolean hasCases() {
      return !cases.isEmpty();
    }
  }

  private final Arch arch;
  private final String profileName;
  private final boolean networkIsolated;
  private final SeccompAction unknown;
  private final SeccompAction dflt;

  /** Indexed by system call number up to the table's maximum; null where the table has a gap. */
  private final Decision[] decisions;

  private FilterSpec(
      Arch arch,
      String profileName,
      boolean networkIsolated,
      SeccompAction dflt,
      SeccompAction unknown,
      Decision[] decisions) {
    this.arch = arch;
    this.profileName = profileName;
    this.networkIsolated = networkIsolated;
    this.dflt = dflt;
    this.unknown = unknown;
    this.decisions = decisions;
  }

  static FilterSpec of(SeccompProfile profile, Arch arch, boolean networkIsolated) {
    Objects.requireNonNull(profile, "profile");
    Objects.requireNonNull(arch, "arch");
    SyscallTable table = arch.syscalls();
    Decision[] decisions = new Decision[table.maxNumber() + 1];
    Decision byDefault = new Decision(profile.defaultAction(), List.of());
    for (int nr = 0; nr < decisions.length; nr++) {
      if (table.name(nr) != null) {
        decisions[nr] = byDefault;
      }
    }
    for (SyscallRule rule : profile.rules()) {
      Decision d = new Decision(rule.action(), rule.casesFor(networkIsolated));
      for (String name : rule.names()) {
        // A name this architecture lacks (open on aarch64) has nothing to filter here.
        table.number(name).ifPresent(nr -> decisions[nr] = d);
      }
    }
    return new FilterSpec(
        arch,
        profile.name(),
        networkIsolated,
        profile.defaultAction(),
        profile.unknownAction(),
        decisions);
  }

  Arch arch() {
    return arch;
  }

  String profileName() {
    return profileName;
  }

  boolean networkIsolated() {
    return networkIsolated;
  }

  SeccompAction defaultAction() {
    return dflt;
  }

  SeccompAction unknownAction() {
    return unknown;
  }

  /** Numbers 0 to this value may have a decision; higher numbers are unknown. */
  int maxNumber() {
    return decisions.length - 1;
  }

  /** The decision for a number, or null if the table does not name it. */
  @Nullable Decision decision(int nr) {
    return nr >= 0 && nr < decisions.length ? decisions[nr] : null;
  }

  /** The action the compiled filter must return for this input. */
  SeccompAction decide(SeccompData d) {
    if (d.arch() != arch.auditArch()) {
      return FOREIGN_ABI;
    }
    if (arch.hasX32() && (d.nr() & Arch.X32_SYSCALL_BIT) != 0) {
      return FOREIGN_ABI;
    }
    Decision decision = decision(d.nr());
    return decision == null ? unknown : decision.decide(d.args());
  }
}
