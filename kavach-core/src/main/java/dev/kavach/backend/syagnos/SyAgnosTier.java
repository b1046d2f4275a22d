package dev.kavach.backend.syagnos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Locale;

/**
 * How a sy-agnos image says it was hardened, from its {@code /etc/sy-agnos-release}, and the base
 * score each tier gives (the Rust crate's table).
 *
 * <p>The tier is the image's own declaration: kavach reads it from the image it runs (and checks it
 * again inside the running container), but cannot verify a dm-verity root or a TPM measurement from
 * a container. The enforcement report says so.
 */
public enum SyAgnosTier {
  /** No stronger claim: base 80. */
  MINIMAL("minimal", 80),
  /** The image's root is verified by dm-verity: base 85. */
  DMVERITY("dmverity", 85),
  /** The image's boot chain is measured into a TPM: base 88. */
  TPM_MEASURED("tpm_measured", 88);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String id;
  private final int baseScore;

  SyAgnosTier(String id, int baseScore) {
    this.id = id;
    this.baseScore = baseScore;
  }

  /**
   * The name used in the release file ({@code minimal}, {@code dmverity}, {@code tpm_measured}).
   */
  public String id() {
    return id;
  }

  /** The base score of a sandbox on an image of this tier. */
  public int baseScore() {
    return baseScore;
  }

  /** The tier named {@code s} (case-insensitive); anything unknown is {@link #MINIMAL}. */
  public static SyAgnosTier named(String s) {
    String n = s.trim().toLowerCase(Locale.ROOT);
    for (SyAgnosTier t : values()) {
      if (t.id.equals(n)) {
        return t;
      }
    }
    return MINIMAL;
  }

  /**
   * The tier declared by a release file: a JSON object's {@code tier} field, or else a {@code
   * tier=} line (the value may be quoted). A file that says neither is {@link #MINIMAL}, as in the
   * Rust crate.
   */
  public static SyAgnosTier parseRelease(String text) {
    String t = text.trim();
    if (t.startsWith("{")) {
      try {
        JsonNode n = JSON.readTree(t);
        JsonNode tier = n.path("tier");
        return tier.isTextual() ? named(tier.asText()) : MINIMAL;
      } catch (IOException e) {
        return MINIMAL;
      }
    }
    for (String line : t.split("\n")) {
      String l = line.trim();
      if (l.startsWith("tier=")) {
        String v = l.substring("tier=".length()).trim();
        if (v.length() >= 2
            && ((v.startsWith("\"") && v.endsWith("\""))
                || (v.startsWith("'") && v.endsWith("'")))) {
          v = v.substring(1, v.length() - 1);
        }
        return named(v);
      }
    }
    return MINIMAL;
  }
}
