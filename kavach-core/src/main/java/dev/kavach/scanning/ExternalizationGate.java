package dev.kavach.scanning;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Decides what of a sandbox's output may leave it. Scans every part (stdout, stderr, a copied-out
 * file), takes the worst severity found and applies the Rust crate's verdict table:
 *
 * <table>
 *   <caption>Verdicts</caption>
 *   <tr><th>condition</th><th>verdict</th><th>what the caller gets</th></tr>
 *   <tr><td>total size above {@code maxArtifactSizeBytes}</td><td>BLOCK</td><td>nothing</td></tr>
 *   <tr><td>worst at or above {@code blockThreshold}</td><td>BLOCK</td><td>nothing</td></tr>
 *   <tr><td>worst at or above {@code quarantineThreshold}</td><td>QUARANTINE</td>
 *       <td>nothing now; the output is kept in the {@link QuarantineStore} until approved or
 *       rejected</td></tr>
 *   <tr><td>worst above INFO</td><td>WARN</td><td>the output, redacted if {@code
 *       redactSecrets}</td></tr>
 *   <tr><td>no finding</td><td>PASS</td><td>the output unchanged</td></tr>
 * </table>
 *
 * <p>Unlike the Rust gate, a verdict is an outcome, not an error: it comes back with every finding
 * in a {@link Decision}, a quarantined output is stored instead of lost, and withheld parts are
 * returned empty.
 *
 * <pre>{@code
 * ExternalizationGate gate =
 *     new ExternalizationGate(ExternalizationPolicy.defaults(), QuarantineStore.at(dir));
 * try (SecretsScanner scanner = SecretsScanner.create()) {
 *   Decision d = gate.review(Map.of("stdout", out), scanner, new Origin("kv-1", null, "kv-1-1"));
 *   if (d.report().verdict() == Verdict.QUARANTINE) { ... d.report().quarantineId() ... }
 * }
 * }</pre>
 */
public final class ExternalizationGate {

  /**
   * Where an output came from, recorded with quarantined output.
   *
   * @param sandboxId the sandbox
   * @param agentId the agent it runs for, if known
   * @param execId the exec (or {@code copy-out} operation) that produced the output
   */
  public record Origin(String sandboxId, @Nullable String agentId, String execId) {
    /** Validates. */
    public Origin {
      Objects.requireNonNull(sandboxId, "sandboxId");
      Objects.requireNonNull(execId, "execId");
    }
  }

  /**
   * The gate's decision on one output.
   *
   * @param report verdict, findings, worst severity and quarantine id
   * @param released each part as it may be released, in the order given: unchanged, redacted, or
   *     empty when withheld
   */
  public record Decision(ScanReport report, Map<String, byte[]> released) {
    /** Copies the map, keeping its order. */
    public Decision {
      Objects.requireNonNull(report, "report");
      released = Collections.unmodifiableMap(new LinkedHashMap<>(released));
    }
  }

  private static final byte[] EMPTY = new byte[0];

  private final ExternalizationPolicy policy;
  private final QuarantineStore quarantine;

  /** A gate applying {@code policy}, keeping quarantined output in {@code quarantine}. */
  public ExternalizationGate(ExternalizationPolicy policy, QuarantineStore quarantine) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.quarantine = Objects.requireNonNull(quarantine, "quarantine");
  }

  /** The policy applied. */
  public ExternalizationPolicy policy() {
    return policy;
  }

  /** Where quarantined output goes. */
  public QuarantineStore quarantine() {
    return quarantine;
  }

  /** The verdict for a worst severity, by the policy's thresholds. */
  public Verdict verdictFor(Severity worst) {
    if (worst.compareTo(policy.blockThreshold()) >= 0) {
      return Verdict.BLOCK;
    }
    if (worst.compareTo(policy.quarantineThreshold()) >= 0) {
      return Verdict.QUARANTINE;
    }
    return worst.compareTo(Severity.INFO) > 0 ? Verdict.WARN : Verdict.PASS;
  }

  /**
   * Scans {@code parts} with {@code scanner} and decides. A disabled policy passes everything
   * without scanning.
   *
   * @param parts named outputs, in order ({@code stdout}, {@code stderr}, or a file path)
   * @throws dev.kavach.KavachException with reason {@code IO} if a quarantined output cannot be
   *     stored (the output is then not released either)
   */
  public Decision review(Map<String, byte[]> parts, SecretsScanner scanner, Origin origin) {
    if (!policy.enabled()) {
      return new Decision(new ScanReport(Verdict.PASS, List.of(), Severity.INFO, null), parts);
    }
    long total = 0;
    for (byte[] p : parts.values()) {
      total += p.length;
    }
    if (total > policy.maxArtifactSizeBytes()) {
      return oversized(parts, total);
    }
    List<Finding> findings = new ArrayList<>();
    Map<String, Matches> matches = new LinkedHashMap<>();
    Severity worst = Severity.INFO;
    for (Map.Entry<String, byte[]> part : parts.entrySet()) {
      Matches m = scanner.matches(part.getValue());
      matches.put(part.getKey(), m);
      for (Finding f : scanner.findings(part.getValue(), m, part.getKey())) {
        findings.add(f);
        if (f.severity().compareTo(worst) > 0) {
          worst = f.severity();
        }
      }
    }
    Verdict verdict = verdictFor(worst);
    switch (verdict) {
      case BLOCK:
        return new Decision(new ScanReport(verdict, findings, worst, null), withheld(parts));
      case QUARANTINE:
        String id = quarantine.put(origin, parts, findings, worst);
        return new Decision(new ScanReport(verdict, findings, worst, id), withheld(parts));
      case WARN:
        Map<String, byte[]> released = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> part : parts.entrySet()) {
          Matches m = matches.get(part.getKey());
          boolean redact = policy.redactSecrets() && m != null && m.size() > 0;
          released.put(
              part.getKey(), redact ? SecretsScanner.redact(part.getValue(), m) : part.getValue());
        }
        return new Decision(new ScanReport(verdict, findings, worst, null), released);
      case PASS:
      default:
        return new Decision(new ScanReport(verdict, findings, worst, null), parts);
    }
  }

  /**
   * The decision on an output known to be {@code bytes} long without reading it: blocked if above
   * the policy's maximum. For files too large to read into memory.
   *
   * @throws IllegalArgumentException if {@code bytes} is within the maximum
   */
  public Decision tooLarge(String part, long bytes) {
    if (bytes <= policy.maxArtifactSizeBytes()) {
      throw new IllegalArgumentException(bytes + " bytes is within the limit");
    }
    Map<String, byte[]> parts = new LinkedHashMap<>();
    parts.put(part, EMPTY);
    return oversized(parts, bytes);
  }

  private Decision oversized(Map<String, byte[]> parts, long total) {
    Finding tooBig =
        new Finding(
            "gate",
            Severity.CRITICAL,
            "size_limit",
            "output size " + total + " exceeds limit " + policy.maxArtifactSizeBytes(),
            "",
            String.join("+", parts.keySet()),
            0);
    return new Decision(
        new ScanReport(Verdict.BLOCK, List.of(tooBig), Severity.CRITICAL, null), withheld(parts));
  }

  private static Map<String, byte[]> withheld(Map<String, byte[]> parts) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    parts.keySet().forEach(k -> out.put(k, EMPTY));
    return out;
  }

  @Override
  public String toString() {
    return "ExternalizationGate[" + policy + ", quarantine=" + quarantine.directory() + "]";
  }
}
