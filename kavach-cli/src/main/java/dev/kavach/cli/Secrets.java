package dev.kavach.cli;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.credential.CredentialProxy;
import dev.kavach.credential.Injection;
import dev.kavach.credential.SecretRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * {@code --secret} and {@code --secret-from} values.
 *
 * <p>{@code --secret} says how the command receives a secret:
 *
 * <ul>
 *   <li>{@code NAME=env:VAR}: in the environment variable {@code VAR};
 *   <li>{@code NAME=file:/path/in/sandbox[:MODE]}: as a file in memory inside the sandbox (mode in
 *       octal, default 0400);
 *   <li>{@code NAME=stdin}: on standard input, before the command's own input;
 *   <li>{@code NAME=proxy:HOST[,HOST]}: masked; the command sees a placeholder in the variable
 *       {@code NAME} and the egress proxy swaps in the value only in requests to {@code HOST}.
 * </ul>
 *
 * <p>{@code --secret-from} says where the value comes from: {@code NAME=env:HOSTVAR} (this
 * process's environment) or {@code NAME=file:HOSTPATH} (a file on this host, at most 1 MiB). A
 * masked secret without {@code --secret-from} takes its value from this process's environment
 * variable {@code NAME}. Values never appear in argv: only their names and sources do.
 */
final class Secrets {
  private Secrets() {}

  /**
   * Adds every {@code --secret} to the configuration with a credential proxy holding the values,
   * which the caller closes after the run (it zeroes them).
   *
   * @param env looks up this process's environment variables (injected for tests)
   * @return the proxy, or null when no secret was given
   * @throws KavachException with {@link Reason#POLICY_INVALID} naming a malformed value, a secret
   *     without a value, or an unset variable; {@link Reason#CREDENTIAL} for an unreadable file
   */
  static @Nullable CredentialProxy add(
      SandboxConfig.Builder b,
      List<String> specs,
      List<String> sources,
      UnaryOperator<@Nullable String> env) {
    if (specs.isEmpty() && sources.isEmpty()) {
      return null;
    }
    Map<String, String> from = new LinkedHashMap<>();
    for (String source : sources) {
      int eq = source.indexOf('=');
      if (eq <= 0) {
        throw usage("--secret-from " + source, "expected NAME=env:HOSTVAR or NAME=file:HOSTPATH");
      }
      if (from.put(source.substring(0, eq), source.substring(eq + 1)) != null) {
        throw usage(
            "--secret-from " + source,
            "the value of " + source.substring(0, eq) + " is given twice");
      }
    }
    List<SecretRef> refs = new ArrayList<>();
    Set<String> needed = new LinkedHashSet<>();
    for (String spec : specs) {
      SecretRef ref = parse(spec);
      refs.add(ref);
      if (!from.containsKey(ref.name())) {
        if (ref.injection() instanceof Injection.Proxy) {
          if (env.apply(ref.name()) == null) {
            throw new KavachException(
                Reason.POLICY_INVALID,
                "--secret "
                    + ref.name()
                    + ": the environment variable "
                    + ref.name()
                    + " is not set");
          }
          from.put(ref.name(), "env:" + ref.name());
        } else {
          throw usage(
              "--secret " + spec,
              "no value: add --secret-from "
                  + ref.name()
                  + "=env:HOSTVAR or "
                  + ref.name()
                  + "=file:HOSTPATH");
        }
      }
      needed.add(ref.name());
    }
    for (String name : from.keySet()) {
      if (!needed.contains(name)) {
        throw usage("--secret-from " + name, "no --secret " + name + "=... injects it");
      }
    }
    CredentialProxy proxy = new CredentialProxy();
    try {
      for (Map.Entry<String, String> e : from.entrySet()) {
        register(proxy, e.getKey(), e.getValue(), env);
      }
      refs.forEach(b::secret);
      b.credentials(proxy);
      return proxy;
    } catch (RuntimeException e) {
      proxy.close();
      throw e;
    }
  }

  private static void register(
      CredentialProxy proxy, String name, String source, UnaryOperator<@Nullable String> env) {
    if (source.startsWith("env:")) {
      String var = source.substring(4);
      String value = env.apply(var);
      if (value == null || value.isEmpty()) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "--secret-from " + name + ": the environment variable " + var + " is not set");
      }
      proxy.register(name, value.toCharArray());
    } else if (source.startsWith("file:") && source.length() > 5) {
      proxy.registerFromFile(name, Path.of(source.substring(5)));
    } else {
      throw usage(
          "--secret-from " + name + "=" + source,
          "expected NAME=env:HOSTVAR or NAME=file:HOSTPATH");
    }
  }

  /** One {@code --secret} value. */
  static SecretRef parse(String spec) {
    int eq = spec.indexOf('=');
    String name = eq < 0 ? spec : spec.substring(0, eq);
    String how = eq < 0 ? "" : spec.substring(eq + 1);
    try {
      if (how.equals("stdin")) {
        return SecretRef.stdin(name);
      }
      if (how.startsWith("env:")) {
        return SecretRef.env(name, how.substring(4));
      }
      if (how.startsWith("file:")) {
        String rest = how.substring(5);
        int colon = rest.lastIndexOf(':');
        int mode = 0400;
        String path = rest;
        if (colon > 0 && rest.substring(colon + 1).matches("0?[0-7]{3}")) {
          mode = Integer.parseInt(rest.substring(colon + 1), 8);
          path = rest.substring(0, colon);
        }
        return new SecretRef(name, new Injection.File(path, mode));
      }
      if (how.startsWith("proxy:")) {
        List<String> hosts = new ArrayList<>();
        for (String h : how.substring("proxy:".length()).split(",", -1)) {
          hosts.add(h.strip().toLowerCase(Locale.ROOT));
        }
        return SecretRef.proxy(name, name, hosts.toArray(new String[0]));
      }
    } catch (IllegalArgumentException e) {
      throw new KavachException(
          Reason.POLICY_INVALID, "--secret " + spec + ": " + e.getMessage(), e);
    }
    throw usage(
        "--secret " + spec,
        "expected NAME=env:VAR, NAME=file:/path/in/sandbox[:MODE], NAME=stdin or"
            + " NAME=proxy:HOST[,HOST] (e.g. GH_TOKEN=proxy:api.github.com)");
  }

  private static KavachException usage(String what, String why) {
    return new KavachException(Reason.POLICY_INVALID, what + ": " + why);
  }
}
