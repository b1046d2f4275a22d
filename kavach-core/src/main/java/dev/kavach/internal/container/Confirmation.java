package dev.kavach.internal.container;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.backend.Enforcement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns what was asked ({@link ContainerPlan}) and what was observed (the probe inside the
 * container, the cgroup files on the host, the namespaces on the host) into the {@link Enforcement}
 * report. A control counts only when it was observed. A requested control that was not observed
 * stops the sandbox from starting, naming the control and what was seen, unless the policy is
 * best-effort, in which case it is left out of the report and noted.
 *
 * <p>Three properties are not policy requests but this backend's baseline, so no policy can waive
 * them: the command's uid is the plan's unprivileged uid, every capability set is empty, and
 * no_new_privs is set.
 */
public final class Confirmation {
  private Confirmation() {}

  private static String hostHostname() {
    return dev.kavach.internal.host.HostProbe.read("/proc/sys/kernel/hostname").trim();
  }

  /**
   * Observations besides the probe.
   *
   * @param limits the container's cgroup limits read on the host
   * @param namespaces the namespaces observed on the host
   * @param agent the status of the probe's exec (subreaper, signal scope)
   * @param notes runtime facts to carry into the report
   */
  public record Observed(
      Limits limits, Set<String> namespaces, AgentStatus agent, List<String> notes) {

    /** Copies the collections. */
    public Observed {
      namespaces = Set.copyOf(namespaces);
      notes = List.copyOf(notes);
    }
  }

  /**
   * The report of what the container enforces.
   *
   * @throws KavachException with {@link Reason#ENFORCEMENT_FAILED} naming every control that was
   *     requested and not observed
   */
  public static Enforcement confirm(
      String backend, ContainerPlan plan, InsideFacts facts, Observed seen, boolean bestEffort) {
    List<String> baseline = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    Enforcement.Builder b = Enforcement.builder(backend);
    seen.namespaces().forEach(b::namespace);
    // Seen from inside (gVisor's namespaces are its own kernel's; the host cannot see them).
    if (facts.init().startsWith("kavach-agent")) {
      b.namespace("pid");
    }
    if (facts.hostname().equals(plan.hostname()) && !plan.hostname().equals(hostHostname())) {
      b.namespace("uts");
    }

    if (facts.uid() != plan.uid() || facts.euid() != plan.uid()) {
      baseline.add(
          "the command runs as uid "
              + facts.uid()
              + "/"
              + facts.euid()
              + ", not the unprivileged uid "
              + plan.uid());
    }
    b.uid(facts.uid());
    if (!facts.noCapabilities()) {
      baseline.add("capability sets are not all empty: " + facts.capabilitySets());
    }
    b.capabilitiesDropped(facts.noCapabilities());
    if (!facts.noNewPrivsConfirmed()) {
      baseline.add("no_new_privs is not set");
    }
    b.noNewPrivs(facts.noNewPrivsConfirmed());
    if (facts.noNewPrivs().isEmpty() && facts.nnpPrctl() == 1) {
      b.note("no_new_privs confirmed by prctl(PR_GET_NO_NEW_PRIVS); /proc/self/status has no line");
    }

    if (plan.networkIsolated()) {
      if (facts.onlyLoopback()) {
        b.networkIsolated(true);
      } else {
        missing.add("network isolation: interfaces " + facts.interfaces() + ", not only lo");
      }
    }
    if (plan.readOnlyRoot()) {
      if (facts.rootReadOnly()) {
        b.readOnlyRoot(true);
      } else {
        missing.add("a read-only root: / is mounted read-write");
      }
    } else {
      b.readOnlyRoot(facts.rootReadOnly());
    }
    ContainerSeccomp seccomp = plan.seccomp();
    if (seccomp != null) {
      if (facts.seccompFilterConfirmed()) {
        b.seccompProfile(seccomp.profile());
      } else {
        missing.add("seccomp profile " + seccomp.profile() + ": Seccomp " + facts.seccompMode());
      }
    }
    Limits l = seen.limits();
    if (plan.memoryLimitBytes() > 0) {
      // The kernel rounds the limit down to whole pages.
      if (l.memoryBytes() > 0 && l.memoryBytes() <= plan.memoryLimitBytes()) {
        b.memoryLimitBytes(l.memoryBytes());
      } else {
        missing.add(
            "a memory limit of "
                + plan.memoryLimitBytes()
                + " bytes: the cgroup shows "
                + (l.memoryBytes() == 0 ? "none" : l.memoryBytes()));
      }
    }
    if (plan.cpuLimit() > 0) {
      if (l.cpuQuotaUs() > 0 && Math.abs(l.cpuCores() - plan.cpuLimit()) < 0.01) {
        b.cpuLimit(l.cpuCores());
      } else {
        missing.add(
            "a CPU limit of "
                + plan.cpuLimit()
                + " cores: the cgroup shows "
                + (l.cpuQuotaUs() == 0 ? "none" : l.cpuCores()));
      }
    }
    if (plan.pidsLimit() > 0) {
      if (l.pids() > 0) {
        b.pidsLimit(l.pids());
      } else {
        missing.add("a process limit of " + plan.pidsLimit() + ": the cgroup shows none");
      }
    }

    if (plan.fileSizeBytes() > 0) {
      if (facts.fileSizeLimit() == plan.fileSizeBytes()) {
        b.fileSizeLimitBytes(facts.fileSizeLimit());
      } else {
        missing.add(
            "a file size limit of "
                + plan.fileSizeBytes()
                + " bytes: RLIMIT_FSIZE inside is "
                + (facts.fileSizeLimit() == 0 ? "unlimited" : facts.fileSizeLimit()));
      }
    }

    AgentStatus a = seen.agent();
    b.note(
        a.subreaper()
            ? "timeouts kill the exec's whole process tree (the agent is a child subreaper)"
            : "timeouts kill the exec's process group; a process that leaves it and is orphaned"
                + " lives until the sandbox stops (this runtime has no child subreapers)");
    b.note(
        a.scoped()
            ? "commands cannot signal processes outside their exec (Landlock signal scope)"
            : "commands can signal other processes of the container's uid (no Landlock signal"
                + " scope here)");
    seen.notes().forEach(b::note);

    if (!baseline.isEmpty()) {
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED,
          backend + ": the container is not confined as required: " + String.join("; ", baseline));
    }
    if (!missing.isEmpty()) {
      if (!bestEffort) {
        throw new KavachException(
            Reason.ENFORCEMENT_FAILED,
            backend + " could not confirm " + String.join("; ", missing));
      }
      missing.forEach(m -> b.note("not enforced (best effort): " + m));
    }
    return b.build();
  }
}
