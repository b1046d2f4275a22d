package dev.kavach.cli;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.credential.SecretRef;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * {@code --secret} values: {@code NAME=proxy:HOST[,HOST]} masks the value of this process's
 * environment variable {@code NAME} behind the egress proxy. The value is read when a command runs,
 * never copied into the configuration.
 */
final class Secrets {
  private Secrets() {}

  /**
   * Adds every {@code --secret} to the configuration, with this process's environment as the
   * credential source.
   *
   * @param env looks up this process's environment variables (injected for tests)
   * @throws KavachException with {@link Reason#POLICY_INVALID} naming a malformed value or an unset
   *     variable
   */
  static void add(
      SandboxConfig.Builder b, List<String> specs, UnaryOperator<@Nullable String> env) {
    if (specs.isEmpty()) {
      return;
    }
    for (String spec : specs) {
      int eq = spec.indexOf('=');
      String name = eq < 0 ? spec : spec.substring(0, eq);
      String how = eq < 0 ? "" : spec.substring(eq + 1);
      if (!how.startsWith("proxy:")) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "--secret "
                + spec
                + ": expected NAME=proxy:HOST[,HOST] (e.g. GH_TOKEN=proxy:api.github.com)");
      }
      if (env.apply(name) == null) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "--secret " + name + ": the environment variable " + name + " is not set");
      }
      List<String> hosts = new ArrayList<>();
      for (String h : how.substring("proxy:".length()).split(",", -1)) {
        hosts.add(h.strip().toLowerCase(Locale.ROOT));
      }
      try {
        b.secret(SecretRef.proxy(name, name, hosts.toArray(new String[0])));
      } catch (IllegalArgumentException e) {
        throw new KavachException(
            Reason.POLICY_INVALID, "--secret " + spec + ": " + e.getMessage(), e);
      }
    }
    b.credentials(
        name -> Optional.ofNullable(env.apply(name)).map(v -> v.getBytes(StandardCharsets.UTF_8)));
  }
}
