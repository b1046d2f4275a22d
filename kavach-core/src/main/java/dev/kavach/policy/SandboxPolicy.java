package dev.kavach.policy;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a sandbox is allowed to do. A policy is a request: the backend reports what it actually
 * enforced, and the strength score is computed from that report.
 *
 * <p>Fields and presets follow the Rust crate's {@code SandboxPolicy}; {@code bestEffort} is new.
 * Without it, a control that cannot be applied stops the exec before the command runs.
 *
 * <pre>{@code
 * SandboxPolicy policy = SandboxPolicy.strict().toBuilder()
 *     .filesystemRule(FilesystemRule.readOnly(Path.of("/opt/data")))
 *     .memoryLimitMb(1024)
 *     .build();
 * String json = policy.toJson();
 * SandboxPolicy same = SandboxPolicy.parse(json);
 * }</pre>
 */
public final class SandboxPolicy {
  /** Seccomp profiles shipped with kavach; a policy may also name an absolute path to a file. */
  public static final List<String> BUILT_IN_SECCOMP_PROFILES = List.of("basic", "strict");

  /** Policy files larger than this are refused rather than read. */
  public static final int MAX_POLICY_BYTES = 1024 * 1024;

  /** Largest {@code max_file_size_mb}: 1 PiB, so the limit in bytes fits every rlimit. */
  public static final long MAX_FILE_SIZE_MB = 1L << 30;

  /** The preset names accepted by {@link #preset(String)}. */
  public static final List<String> PRESETS = List.of("minimal", "basic", "strict");

  private final boolean seccompEnabled;
  private final @Nullable String seccompProfile;
  private final List<FilesystemRule> filesystemRules;
  private final NetworkPolicy network;
  private final boolean readOnlyRootfs;
  private final @Nullable Long memoryLimitMb;
  private final @Nullable Double cpuLimit;
  private final @Nullable Integer maxPids;
  private final @Nullable Long maxFileSizeMb;
  private final @Nullable Path dataDir;
  private final boolean bestEffort;

  private SandboxPolicy(Builder b) {
    this.seccompEnabled = b.seccompEnabled;
    this.seccompProfile = b.seccompProfile;
    this.filesystemRules = List.copyOf(b.filesystemRules);
    this.network = b.network;
    this.readOnlyRootfs = b.readOnlyRootfs;
    this.memoryLimitMb = b.memoryLimitMb;
    this.cpuLimit = b.cpuLimit;
    this.maxPids = b.maxPids;
    this.maxFileSizeMb = b.maxFileSizeMb;
    this.dataDir = b.dataDir;
    this.bestEffort = b.bestEffort;
  }

  /** No seccomp, no filesystem rules, network disabled, no limits. */
  public static SandboxPolicy minimal() {
    return builder().build();
  }

  /** Seccomp {@code basic} denylist and network disabled: the default policy. */
  public static SandboxPolicy basic() {
    return builder().seccompProfile("basic").build();
  }

  /**
   * Seccomp {@code strict} allowlist, network disabled, read-only root, 512 MB memory, one CPU and
   * 64 processes.
   */
  public static SandboxPolicy strict() {
    return builder()
        .seccompProfile("strict")
        .readOnlyRootfs(true)
        .memoryLimitMb(512)
        .cpuLimit(1.0)
        .maxPids(64)
        .build();
  }

  /**
   * The preset with this name, case-insensitive.
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} naming the known presets
   */
  public static SandboxPolicy preset(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "minimal" -> minimal();
      case "basic" -> basic();
      case "strict" -> strict();
      default ->
          throw new KavachException(
              Reason.POLICY_INVALID,
              "unknown policy preset \"" + name + "\" (use " + String.join(", ", PRESETS) + ")");
    };
  }

  /**
   * Parses a policy from JSON with the Rust crate's snake_case field names. Parsing is strict: an
   * unknown field, a wrong type or an out-of-range value is an error naming its JSON path.
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID}
   */
  public static SandboxPolicy parse(String json) {
    return PolicyJson.parse(json);
  }

  /**
   * Reads and parses a policy file.
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} if the file is missing, unreadable,
   *     not UTF-8 or not a valid policy
   */
  public static SandboxPolicy load(Path file) {
    byte[] bytes;
    try (java.io.InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_POLICY_BYTES + 1);
      if (bytes.length > MAX_POLICY_BYTES) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "policy file " + file + " is larger than " + MAX_POLICY_BYTES + " bytes");
      }
    } catch (IOException e) {
      throw new KavachException(
          Reason.POLICY_INVALID, "cannot read policy file " + file + ": " + describe(e), e);
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new KavachException(
          Reason.POLICY_INVALID, "policy file " + file + " is not valid UTF-8", e);
    }
    try {
      return parse(text);
    } catch (KavachException e) {
      throw new KavachException(
          Reason.POLICY_INVALID, "policy file " + file + ": " + e.getMessage(), e);
    }
  }

  private static String describe(IOException e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    return String.valueOf(e.getMessage());
  }

  /** Canonical JSON, the form {@link #parse} reads back into an equal policy. */
  public String toJson() {
    return PolicyJson.write(this);
  }

  /** A builder with no controls requested. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder initialised with this policy's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.seccompEnabled = seccompEnabled;
    b.seccompProfile = seccompProfile;
    b.filesystemRules.addAll(filesystemRules);
    b.network = network;
    b.readOnlyRootfs = readOnlyRootfs;
    b.memoryLimitMb = memoryLimitMb;
    b.cpuLimit = cpuLimit;
    b.maxPids = maxPids;
    b.maxFileSizeMb = maxFileSizeMb;
    b.dataDir = dataDir;
    b.bestEffort = bestEffort;
    return b;
  }

  /** Whether a seccomp filter is requested. */
  public boolean seccompEnabled() {
    return seccompEnabled;
  }

  /** The requested seccomp profile name or file, or null when seccomp is off. */
  public @Nullable String seccompProfile() {
    return seccompProfile;
  }

  /** Host paths the sandbox may use ({@code landlock_rules} in JSON). */
  public List<FilesystemRule> filesystemRules() {
    return filesystemRules;
  }

  /** Network access. */
  public NetworkPolicy network() {
    return network;
  }

  /** Whether the root filesystem is read-only inside the sandbox. */
  public boolean readOnlyRootfs() {
    return readOnlyRootfs;
  }

  /** Memory limit in MiB, or null for none. */
  public @Nullable Long memoryLimitMb() {
    return memoryLimitMb;
  }

  /** CPU limit in cores (0.25 is a quarter of one core), or null for none. */
  public @Nullable Double cpuLimit() {
    return cpuLimit;
  }

  /** Maximum number of processes and threads, or null for none. */
  public @Nullable Integer maxPids() {
    return maxPids;
  }

  /**
   * Largest file a command may write, in MiB ({@code RLIMIT_FSIZE}; a write past it fails with
   * EFBIG after SIGXFSZ), or null for none.
   */
  public @Nullable Long maxFileSizeMb() {
    return maxFileSizeMb;
  }

  /** An extra host directory the sandbox may write, or null. */
  public @Nullable Path dataDir() {
    return dataDir;
  }

  /**
   * Whether the sandbox may run with only the controls the host could apply. The score then counts
   * only those.
   */
  public boolean bestEffort() {
    return bestEffort;
  }

  /** Whether any resource limit (memory, CPU or processes) is requested. */
  public boolean hasResourceLimits() {
    return memoryLimitMb != null || cpuLimit != null || maxPids != null;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof SandboxPolicy p)) {
      return false;
    }
    return seccompEnabled == p.seccompEnabled
        && readOnlyRootfs == p.readOnlyRootfs
        && bestEffort == p.bestEffort
        && Objects.equals(seccompProfile, p.seccompProfile)
        && filesystemRules.equals(p.filesystemRules)
        && network.equals(p.network)
        && Objects.equals(memoryLimitMb, p.memoryLimitMb)
        && Objects.equals(cpuLimit, p.cpuLimit)
        && Objects.equals(maxPids, p.maxPids)
        && Objects.equals(maxFileSizeMb, p.maxFileSizeMb)
        && Objects.equals(dataDir, p.dataDir);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        seccompEnabled,
        seccompProfile,
        filesystemRules,
        network,
        readOnlyRootfs,
        memoryLimitMb,
        cpuLimit,
        maxPids,
        maxFileSizeMb,
        dataDir,
        bestEffort);
  }

  @Override
  public String toString() {
    return "SandboxPolicy" + toJson();
  }

  /** Builder for {@link SandboxPolicy}; {@link #build()} checks combinations. */
  public static final class Builder {
    private boolean seccompEnabled;
    private @Nullable String seccompProfile;
    private final List<FilesystemRule> filesystemRules = new ArrayList<>();
    private NetworkPolicy network = NetworkPolicy.disabled();
    private boolean readOnlyRootfs;
    private @Nullable Long memoryLimitMb;
    private @Nullable Double cpuLimit;
    private @Nullable Integer maxPids;
    private @Nullable Long maxFileSizeMb;
    private @Nullable Path dataDir;
    private boolean bestEffort;

    private Builder() {}

    /** Turns seccomp on or off; on without a profile means {@code basic}. */
    public Builder seccompEnabled(boolean enabled) {
      this.seccompEnabled = enabled;
      if (!enabled) {
        this.seccompProfile = null;
      } else if (seccompProfile == null) {
        this.seccompProfile = "basic";
      }
      return this;
    }

    /** Turns seccomp on with a built-in profile name or an absolute path to a profile file. */
    public Builder seccompProfile(String profile) {
      checkSeccompProfile(profile);
      this.seccompEnabled = true;
      this.seccompProfile = profile;
      return this;
    }

    /** Adds a filesystem rule. */
    public Builder filesystemRule(FilesystemRule rule) {
      filesystemRules.add(Objects.requireNonNull(rule, "rule"));
      return this;
    }

    /** Replaces all filesystem rules. */
    public Builder filesystemRules(List<FilesystemRule> rules) {
      filesystemRules.clear();
      rules.forEach(this::filesystemRule);
      return this;
    }

    /** Sets network access. */
    public Builder network(NetworkPolicy network) {
      this.network = Objects.requireNonNull(network, "network");
      return this;
    }

    /** Makes the root filesystem read-only. */
    public Builder readOnlyRootfs(boolean readOnly) {
      this.readOnlyRootfs = readOnly;
      return this;
    }

    /** Sets the memory limit in MiB (must be positive). */
    public Builder memoryLimitMb(long mb) {
      if (mb <= 0) {
        throw invalid("memory_limit_mb (" + mb + ") must be positive");
      }
      this.memoryLimitMb = mb;
      return this;
    }

    /** Sets the CPU limit in cores (must be positive and finite; 0.5 is half a core). */
    public Builder cpuLimit(double cores) {
      if (!(cores > 0) || Double.isInfinite(cores)) {
        throw invalid("cpu_limit (" + cores + ") must be a positive number of cores");
      }
      this.cpuLimit = cores;
      return this;
    }

    /** Sets the maximum number of processes and threads (must be at least 1). */
    public Builder maxPids(int pids) {
      if (pids < 1) {
        throw invalid("max_pids (" + pids + ") must be at least 1");
      }
      this.maxPids = pids;
      return this;
    }

    /** Sets the largest file a command may write, in MiB (must be at least 1). */
    public Builder maxFileSizeMb(long mb) {
      if (mb < 1 || mb > MAX_FILE_SIZE_MB) {
        throw invalid("max_file_size_mb (" + mb + ") must be between 1 and " + MAX_FILE_SIZE_MB);
      }
      this.maxFileSizeMb = mb;
      return this;
    }

    /** Removes every resource limit. */
    public Builder noResourceLimits() {
      this.memoryLimitMb = null;
      this.cpuLimit = null;
      this.maxPids = null;
      this.maxFileSizeMb = null;
      return this;
    }

    /** Sets an extra writable host directory (absolute), or null for none. */
    public Builder dataDir(@Nullable Path dir) {
      if (dir != null && (!dir.isAbsolute() || !dir.normalize().equals(dir))) {
        throw invalid("data_dir (" + dir + ") must be an absolute, normalized path");
      }
      this.dataDir = dir;
      return this;
    }

    /** Allows running with only the controls the host can apply. */
    public Builder bestEffort(boolean bestEffort) {
      this.bestEffort = bestEffort;
      return this;
    }

    /**
     * Builds the policy.
     *
     * @throws KavachException with {@link Reason#POLICY_INVALID} for conflicting values
     */
    public SandboxPolicy build() {
      Set<Path> seen = new HashSet<>();
      for (int i = 0; i < filesystemRules.size(); i++) {
        Path p = filesystemRules.get(i).path();
        if (!seen.add(p)) {
          throw invalid("landlock_rules[" + i + "].path (" + p + ") appears twice");
        }
      }
      return new SandboxPolicy(this);
    }

    private static void checkSeccompProfile(String profile) {
      Objects.requireNonNull(profile, "profile");
      if (BUILT_IN_SECCOMP_PROFILES.contains(profile)) {
        return;
      }
      if (profile.startsWith("/")) {
        if (!Files.isRegularFile(Path.of(profile))) {
          throw invalid("seccomp_profile (" + profile + ") is not a readable profile file");
        }
        return;
      }
      throw invalid(
          "seccomp_profile (\""
              + profile
              + "\") is not a known profile (use "
              + String.join(", ", BUILT_IN_SECCOMP_PROFILES)
              + " or an absolute path to a profile file)");
    }

    private static KavachException invalid(String message) {
      return new KavachException(Reason.POLICY_INVALID, message);
    }
  }
}
