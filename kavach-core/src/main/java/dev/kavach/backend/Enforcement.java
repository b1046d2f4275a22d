package dev.kavach.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * What a backend actually applied to one exec, as reported by the launcher or runtime that applied
 * it, never copied from the policy. The strength score is computed from this report.
 *
 * @param backend backend name
 * @param namespaces Linux namespaces the command runs in ({@code user}, {@code pid}, {@code mount},
 *     {@code net}, {@code ipc}, {@code uts}, {@code cgroup}), sorted
 * @param networkIsolated whether the command cannot reach any network but its own loopback (or only
 *     through the egress proxy)
 * @param readOnlyRoot whether the root filesystem is read-only
 * @param seccompProfile the seccomp profile in force, or null when no filter is installed
 * @param landlockAbi the Landlock ABI version in force, 0 when Landlock is not applied
 * @param landlockRules the number of Landlock rules in the ruleset
 * @param memoryLimitBytes memory limit enforced by a cgroup or the runtime, 0 when none
 * @param cpuLimit CPU quota in cores, 0 when none
 * @param pidsLimit process limit, 0 when none
 * @param fileSizeLimitBytes largest file the command may write ({@code RLIMIT_FSIZE}), 0 when none
 * @param capabilitiesDropped whether every capability, including the bounding and ambient sets, is
 *     gone
 * @param noNewPrivs whether no_new_privs is set
 * @param uid the host uid the command runs as, -1 when unknown
 * @param notes requested controls that were not applied (only possible with a best-effort policy),
 *     each with the host reason; and other facts worth showing
 * @param egress what the egress proxy enforces when it is the command's only way out, or null when
 *     the command's network does not go through one
 */
public record Enforcement(
    String backend,
    Set<String> namespaces,
    boolean networkIsolated,
    boolean readOnlyRoot,
    @Nullable String seccompProfile,
    int landlockAbi,
    int landlockRules,
    long memoryLimitBytes,
    double cpuLimit,
    int pidsLimit,
    long fileSizeLimitBytes,
    boolean capabilitiesDropped,
    boolean noNewPrivs,
    int uid,
    List<String> notes,
    @Nullable Egress egress) {

  /**
   * The destinations an egress proxy lets the command reach, as the policy lists them, and the
   * secrets it swaps in on the way out.
   *
   * @param allowedHosts {@code network.allowed_hosts} (empty: every host not denied)
   * @param allowedPorts {@code network.allowed_ports} (empty: every port)
   * @param deniedHosts {@code network.denied_hosts}, which win over the allowlist
   * @param maskedSecrets secrets the command sees as placeholders, each as {@code NAME -> [hosts]}
   */
  public record Egress(
      List<String> allowedHosts,
      List<Integer> allowedPorts,
      List<String> deniedHosts,
      List<String> maskedSecrets) {
    /** Copies the lists. */
    public Egress {
      allowedHosts = List.copyOf(allowedHosts);
      allowedPorts = List.copyOf(allowedPorts);
      deniedHosts = List.copyOf(deniedHosts);
      maskedSecrets = List.copyOf(maskedSecrets);
    }

    /** One line for reports: {@code allowed_hosts [...], allowed_ports [...], ...}. */
    public String describe() {
      StringBuilder sb = new StringBuilder("allowed_hosts ");
      sb.append(allowedHosts.isEmpty() ? "[any]" : allowedHosts.toString());
      if (!allowedPorts.isEmpty()) {
        sb.append(", allowed_ports ").append(allowedPorts);
      }
      if (!deniedHosts.isEmpty()) {
        sb.append(", denied_hosts ").append(deniedHosts);
      }
      return sb.toString();
    }
  }

  /** Copies and sorts the collections. */
  public Enforcement {
    Objects.requireNonNull(backend, "backend");
    namespaces = Set.copyOf(new TreeSet<>(namespaces));
    notes = List.copyOf(notes);
  }

  /** A report without an egress proxy. */
  public Enforcement(
      String backend,
      Set<String> namespaces,
      boolean networkIsolated,
      boolean readOnlyRoot,
      @Nullable String seccompProfile,
      int landlockAbi,
      int landlockRules,
      long memoryLimitBytes,
      double cpuLimit,
      int pidsLimit,
      long fileSizeLimitBytes,
      boolean capabilitiesDropped,
      boolean noNewPrivs,
      int uid,
      List<String> notes) {
    this(
        backend,
        namespaces,
        networkIsolated,
        readOnlyRoot,
        seccompProfile,
        landlockAbi,
        landlockRules,
        memoryLimitBytes,
        cpuLimit,
        pidsLimit,
        fileSizeLimitBytes,
        capabilitiesDropped,
        noNewPrivs,
        uid,
        notes,
        null);
  }

  /** Nothing applied: the honest report of a backend that isolates nothing. */
  public static Enforcement none(String backend) {
    return builder(backend).build();
  }

  /** Whether a seccomp filter is in force. */
  public boolean seccomp() {
    return seccompProfile != null;
  }

  /** Whether Landlock is in force with at least one rule. */
  public boolean landlock() {
    return landlockAbi > 0 && landlockRules > 0;
  }

  /** Whether a memory or CPU limit is in force. */
  public boolean memoryOrCpuLimited() {
    return memoryLimitBytes > 0 || cpuLimit > 0;
  }

  /** Namespaces in a stable (sorted) order. */
  public List<String> sortedNamespaces() {
    return List.copyOf(new TreeSet<>(namespaces));
  }

  /** A builder starting from nothing applied. */
  public static Builder builder(String backend) {
    return new Builder(backend);
  }

  /** A builder starting from this report. */
  public Builder toBuilder() {
    Builder b = new Builder(backend);
    b.namespaces.addAll(namespaces);
    b.networkIsolated = networkIsolated;
    b.readOnlyRoot = readOnlyRoot;
    b.seccompProfile = seccompProfile;
    b.landlockAbi = landlockAbi;
    b.landlockRules = landlockRules;
    b.memoryLimitBytes = memoryLimitBytes;
    b.cpuLimit = cpuLimit;
    b.pidsLimit = pidsLimit;
    b.fileSizeLimitBytes = fileSizeLimitBytes;
    b.capabilitiesDropped = capabilitiesDropped;
    b.noNewPrivs = noNewPrivs;
    b.uid = uid;
    b.notes.addAll(notes);
    b.egress = egress;
    return b;
  }

  /** Builder for {@link Enforcement}. */
  public static final class Builder {
    private final String backend;
    private final Set<String> namespaces = new TreeSet<>();
    private boolean networkIsolated;
    private boolean readOnlyRoot;
    private @Nullable String seccompProfile;
    private int landlockAbi;
    private int landlockRules;
    private long memoryLimitBytes;
    private double cpuLimit;
    private int pidsLimit;
    private long fileSizeLimitBytes;
    private boolean capabilitiesDropped;
    private boolean noNewPrivs;
    private int uid = -1;
    private final List<String> notes = new ArrayList<>();
    private @Nullable Egress egress;

    private Builder(String backend) {
      this.backend = backend;
    }

    /** Adds a namespace the command runs in. */
    public Builder namespace(String ns) {
      namespaces.add(ns);
      return this;
    }

    /** Marks the network as isolated. */
    public Builder networkIsolated(boolean v) {
      networkIsolated = v;
      return this;
    }

    /** Marks the root filesystem read-only. */
    public Builder readOnlyRoot(boolean v) {
      readOnlyRoot = v;
      return this;
    }

    /** Sets the seccomp profile in force (null for none). */
    public Builder seccompProfile(@Nullable String v) {
      seccompProfile = v;
      return this;
    }

    /** Sets the Landlock ABI and rule count in force. */
    public Builder landlock(int abi, int rules) {
      landlockAbi = abi;
      landlockRules = rules;
      return this;
    }

    /** Sets the enforced memory limit in bytes. */
    public Builder memoryLimitBytes(long v) {
      memoryLimitBytes = v;
      return this;
    }

    /** Sets the enforced CPU quota in cores. */
    public Builder cpuLimit(double v) {
      cpuLimit = v;
      return this;
    }

    /** Sets the enforced process limit. */
    public Builder pidsLimit(int v) {
      pidsLimit = v;
      return this;
    }

    /** Sets the enforced file size limit in bytes. */
    public Builder fileSizeLimitBytes(long v) {
      fileSizeLimitBytes = v;
      return this;
    }

    /** Marks every capability as dropped. */
    public Builder capabilitiesDropped(boolean v) {
      capabilitiesDropped = v;
      return this;
    }

    /** Marks no_new_privs as set. */
    public Builder noNewPrivs(boolean v) {
      noNewPrivs = v;
      return this;
    }

    /** Sets the host uid of the command. */
    public Builder uid(int v) {
      uid = v;
      return this;
    }

    /** Adds a note, for example a control skipped under a best-effort policy and why. */
    public Builder note(String v) {
      notes.add(v);
      return this;
    }

    /** Records that the command's only way out is an egress proxy enforcing this. */
    public Builder egress(@Nullable Egress v) {
      egress = v;
      return this;
    }

    /** Builds the report. */
    public Enforcement build() {
      return new Enforcement(
          backend,
          namespaces,
          networkIsolated,
          readOnlyRoot,
          seccompProfile,
          landlockAbi,
          landlockRules,
          memoryLimitBytes,
          cpuLimit,
          pidsLimit,
          fileSizeLimitBytes,
          capabilitiesDropped,
          noNewPrivs,
          uid,
          notes,
          egress);
    }
  }
}
