package dev.kavach.egress;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A secret the sandbox sees only as a placeholder. The egress proxy swaps the placeholder for the
 * real value in requests to the bound hosts, and refuses any request that carries it anywhere else.
 *
 * @param name the secret's name in the {@link dev.kavach.credential.CredentialSource}
 * @param placeholder the value the sandbox sees, {@code kavach-placeholder-} and 32 random hex
 *     digits: unguessable, so no other text in a request can be mistaken for it
 * @param hosts host patterns ({@code api.github.com}, {@code *.example.com}) the real value may be
 *     sent to
 */
public record MaskedSecret(String name, String placeholder, List<String> hosts) {
  /** The prefix of every placeholder. */
  public static final String PREFIX = "kavach-placeholder-";

  private static final Pattern PLACEHOLDER = Pattern.compile(PREFIX + "[0-9a-f]{32}");

  /** Validates and copies. */
  public MaskedSecret {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(placeholder, "placeholder");
    hosts = List.copyOf(hosts);
    if (!PLACEHOLDER.matcher(placeholder).matches()) {
      throw new IllegalArgumentException(
          "placeholder of " + name + " must match " + PLACEHOLDER.pattern());
    }
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("secret " + name + " must be bound to at least one host");
    }
  }

  /** A fresh placeholder: 128 random bits. */
  public static String newPlaceholder(SecureRandom random) {
    byte[] b = new byte[16];
    random.nextBytes(b);
    return PREFIX + HexFormat.of().formatHex(b);
  }

  /** Never shows the placeholder, so logs cannot be used to learn it either. */
  @Override
  public String toString() {
    return "MaskedSecret[" + name + " -> " + hosts + "]";
  }
}
