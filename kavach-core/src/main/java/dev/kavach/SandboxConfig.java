package dev.kavach;

import dev.kavach.KavachException.Reason;
import dev.kavach.audit.AuditSink;
import dev.kavach.credential.CredentialSource;
import dev.kavach.credential.SecretRef;
import dev.kavach.egress.EgressOptions;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scanning.ExternalizationPolicy;
import dev.kavach.scanning.QuarantineStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Everything a {@link Sandbox} needs: which backend, which policy, the command environment, limits
 * on time and output, and where audit events go.
 *
 * <pre>{@code
 * SandboxConfig config = SandboxConfig.builder()
 *     .backend("process")
 *     .policy(SandboxPolicy.strict())
 *     .timeout(Duration.ofSeconds(10))
 *     .env("LANG", "C.UTF-8")
 *     .auditSink(AuditSink.jsonLines(Path.of("audit.jsonl")))
 *     .build();
 * }</pre>
 */
public final class SandboxConfig {
  /** The default per-exec timeout, 30 seconds. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** The default cap on each output stream, 1 MiB. */
  public static final int DEFAULT_OUTPUT_LIMIT = 1024 * 1024;

  /**
   * Backend name that means "the strongest available backend", never noop. See {@link
   * dev.kavach.backend.Backends#best}.
   */
  public static final String AUTO = "auto";

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final String backend;
  private final SandboxPolicy policy;
  private final List<SecretRef> secrets;
  private final @Nullable CredentialSource credentials;
  private final Duration timeout;
  private final @Nullable Path workdir;
  private final Map<String, String> env;
  private final @Nullable String agentId;
  private final @Nullable ExternalizationPolicy externalization;
  private final @Nullable ExternalizationPolicy externalizationSet;
  private final QuarantineStore quarantine;
  private final int outputLimit;
  private final List<AuditSink> auditSinks;
  private final Clock clock;
  private final EgressOptions egress;

  private SandboxConfig(Builder b) {
    this.backend = b.backend;
    this.policy = b.policy;
    this.secrets = List.copyOf(b.secrets);
    this.credentials = b.credentials;
    this.timeout = b.timeout;
    this.workdir = b.workdir;
    this.env = Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
    this.agentId = b.agentId;
    this.externalizationSet = b.externalization;
    this.externalization = b.externalization != null ? b.externalization : defaultGate(b.policy);
    this.quarantine =
        b.quarantine != null
            ? b.quarantine
            : QuarantineStore.at(QuarantineStore.defaultDirectory());
    this.outputLimit = b.outputLimit;
    this.auditSinks = List.copyOf(b.auditSinks);
    this.clock = b.clock;
    this.egress = b.egress;
  }

  /** A builder with the defaults: process backend, basic policy, 30 s, 1 MiB per stream. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder initialised with this configuration. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.backend = backend;
    b.policy = policy;
    b.secrets.addAll(secrets);
    b.credentials = credentials;
    b.timeout = timeout;
    b.workdir = workdir;
    b.env.putAll(env);
    b.agentId = agentId;
    b.externalization = externalizationSet;
    b.quarantine = quarantine;
    b.outputLimit = outputLimit;
    b.auditSinks.addAll(auditSinks);
    b.clock = clock;
    b.egress = egress;
    return b;
  }

  /** Backend name, or {@link #AUTO}. */
  public String backend() {
    return backend;
  }

  /** The policy requested. */
  public SandboxPolicy policy() {
    return policy;
  }

  /** Secrets to inject into every exec. */
  public List<SecretRef> secrets() {
    return secrets;
  }

  /** Where secret values come from, or null when no secrets are configured. */
  public @Nullable CredentialSource credentials() {
    return credentials;
  }

  /** Default wall-clock limit of each exec. */
  public Duration timeout() {
    return timeout;
  }

  /**
   * Host directory used as the workspace (read-write at {@code /workspace} inside the sandbox and
   * kept after destroy), or null for a fresh private directory removed at destroy.
   */
  public @Nullable Path workdir() {
    return workdir;
  }

  /** Environment added to every exec after the base variables. */
  public Map<String, String> env() {
    return env;
  }

  /** The agent this sandbox runs for, recorded in audit events. */
  public @Nullable String agentId() {
    return agentId;
  }

  /**
   * How output (and {@link Sandbox#copyOut} files) is scanned before it is returned, or null for no
   * gate. Unless set, the gate is on with {@link ExternalizationPolicy#defaults()} when the policy
   * uses the {@code strict} seccomp profile (the strict preset and policies derived from it with
   * {@code toBuilder()}), and off otherwise, as in the Rust crate. Set {@link
   * ExternalizationPolicy#defaults()} to catch echoed secrets under any policy, or {@link
   * ExternalizationPolicy#disabled()} to turn the strict default off.
   */
  public @Nullable ExternalizationPolicy externalization() {
    return externalization;
  }

  /**
   * Why the profile and not {@code policy.equals(SandboxPolicy.strict())}: a caller who derives
   * from the strict preset (a larger memory limit, a data directory) still asked for the strict
   * preset's protection, and equality would silently drop the gate. The strict seccomp profile is
   * only in that preset and its derivatives, or chosen deliberately.
   */
  private static @Nullable ExternalizationPolicy defaultGate(SandboxPolicy policy) {
    return policy.seccompEnabled() && "strict".equals(policy.seccompProfile())
        ? ExternalizationPolicy.defaults()
        : null;
  }

  /**
   * Where the gate keeps quarantined output: by default {@link QuarantineStore#defaultDirectory()},
   * created (0700) on first use.
   */
  public QuarantineStore quarantine() {
    return quarantine;
  }

  /** Bytes kept per output stream. */
  public int outputLimit() {
    return outputLimit;
  }

  /** Where audit events go. */
  public List<AuditSink> auditSinks() {
    return auditSinks;
  }

  /** The clock for timestamps. */
  public Clock clock() {
    return clock;
  }

  /**
   * How the egress proxy resolves names, which otherwise refused addresses it may reach, and its
   * limits. Used only when the policy names hosts ({@code network.allowed_hosts} or {@code
   * denied_hosts}) or a secret is bound to hosts.
   */
  public EgressOptions egress() {
    return egress;
  }

  static void checkEnv(String name, String value) {
    Objects.requireNonNull(name, "env name");
    Objects.requireNonNull(value, "env value");
    if (!ENV_NAME.matcher(name).matches()) {
      throw new KavachException(
          Reason.POLICY_INVALID, "env name (\"" + name + "\") must match " + ENV_NAME.pattern());
    }
    if (value.indexOf('\0') >= 0) {
      throw new KavachException(
          Reason.POLICY_INVALID, "env value of " + name + " contains a NUL character");
    }
  }

  /** Builder for {@link SandboxConfig}. */
  public static final class Builder {
    private String backend = "process";
    private SandboxPolicy policy = SandboxPolicy.basic();
    private final List<SecretRef> secrets = new ArrayList<>();
    private @Nullable CredentialSource credentials;
    private Duration timeout = DEFAULT_TIMEOUT;
    private @Nullable Path workdir;
    private final Map<String, String> env = new LinkedHashMap<>();
    private @Nullable String agentId;
    private @Nullable ExternalizationPolicy externalization;
    private @Nullable QuarantineStore quarantine;
    private int outputLimit = DEFAULT_OUTPUT_LIMIT;
    private final List<AuditSink> auditSinks = new ArrayList<>();
    private Clock clock = Clock.systemUTC();
    private EgressOptions egress = EgressOptions.defaults();

    private Builder() {}

    /** Selects the backend by name ({@code process}, {@code oci}, ..., or {@code auto}). */
    public Builder backend(String name) {
      Objects.requireNonNull(name, "backend");
      if (name.isBlank()) {
        throw new KavachException(Reason.POLICY_INVALID, "backend must not be blank");
      }
      this.backend = name;
      return this;
    }

    /** Sets the policy. */
    public Builder policy(SandboxPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Adds a secret to inject into every exec. */
    public Builder secret(SecretRef ref) {
      secrets.add(Objects.requireNonNull(ref, "ref"));
      return this;
    }

    /** Sets where secret values come from. */
    public Builder credentials(CredentialSource source) {
      this.credentials = Objects.requireNonNull(source, "credentials");
      return this;
    }

    /** Sets the default per-exec timeout (must be positive). */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new KavachException(
            Reason.POLICY_INVALID, "timeout (" + timeout + ") must be positive");
      }
      this.timeout = timeout;
      return this;
    }

    /** Uses an existing host directory as the workspace. */
    public Builder workdir(Path dir) {
      Objects.requireNonNull(dir, "workdir");
      Path abs = dir.toAbsolutePath().normalize();
      if (!Files.isDirectory(abs)) {
        throw new KavachException(
            Reason.POLICY_INVALID, "workdir (" + dir + ") is not an existing directory");
      }
      this.workdir = abs;
      return this;
    }

    /** Adds an environment variable for every exec. */
    public Builder env(String name, String value) {
      checkEnv(name, value);
      env.put(name, value);
      return this;
    }

    /** Records the agent id in audit events. */
    public Builder agentId(String agentId) {
      this.agentId = Objects.requireNonNull(agentId, "agentId");
      return this;
    }

    /**
     * Sets the externalization gate's policy ({@link ExternalizationPolicy#disabled()} turns it
     * off); see {@link SandboxConfig#externalization()} for the default.
     */
    public Builder externalization(ExternalizationPolicy policy) {
      this.externalization = Objects.requireNonNull(policy, "externalization");
      return this;
    }

    /** Sets where quarantined output is kept. */
    public Builder quarantine(QuarantineStore store) {
      this.quarantine = Objects.requireNonNull(store, "quarantine");
      return this;
    }

    /** Sets the bytes kept per output stream (at least 1 KiB). */
    public Builder outputLimit(int bytes) {
      if (bytes < 1024) {
        throw new KavachException(
            Reason.POLICY_INVALID, "output limit (" + bytes + ") must be at least 1024 bytes");
      }
      this.outputLimit = bytes;
      return this;
    }

    /** Adds an audit sink. */
    public Builder auditSink(AuditSink sink) {
      auditSinks.add(Objects.requireNonNull(sink, "sink"));
      return this;
    }

    /** Sets the clock for timestamps. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Sets the egress proxy's options (resolver, allowed address blocks, limits). */
    public Builder egress(EgressOptions options) {
      this.egress = Objects.requireNonNull(options, "egress");
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @throws KavachException with {@link Reason#POLICY_INVALID} for conflicting values
     */
    public SandboxConfig build() {
      if (!secrets.isEmpty() && credentials == null) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "secrets " + secretNames() + " are configured but no credential source is set");
      }
      for (int i = 0; i < secrets.size(); i++) {
        for (int j = 0; j < i; j++) {
          if (secrets.get(i).equals(secrets.get(j))) {
            throw new KavachException(
                Reason.POLICY_INVALID, "secret " + secrets.get(i).name() + " is listed twice");
          }
        }
      }
      return new SandboxConfig(this);
    }

    private List<String> secretNames() {
      List<String> names = new ArrayList<>();
      secrets.forEach(s -> names.add(s.name()));
      return names;
    }
  }
}
