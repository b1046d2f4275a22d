package dev.kavach.credential;

import dev.kavach.policy.NetworkPolicy;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/** How a secret reaches the command. */
public sealed interface Injection
    permits Injection.Env, Injection.File, Injection.Stdin, Injection.Proxy {

  /**
   * As an environment variable.
   *
   * @param variable the variable name
   */
  record Env(String variable) implements Injection {
    private static final Pattern VAR = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** Validates the variable name. */
    public Env {
      Objects.requireNonNull(variable, "variable");
      if (!VAR.matcher(variable).matches()) {
        throw new IllegalArgumentException(
            "environment variable name (\"" + variable + "\") must match " + VAR.pattern());
      }
    }
  }

  /**
   * As a file inside the sandbox, on memory-backed storage.
   *
   * @param path absolute path inside the sandbox
   * @param mode permission bits
   */
  record File(String path, int mode) implements Injection {
    /** Validates the path and mode. */
    public File {
      Objects.requireNonNull(path, "path");
      // Newlines would forge records of the native helpers' secret files format.
      if (!path.startsWith("/")
          || path.contains("\0")
          || path.contains("\n")
          || path.contains("/../")
          || path.endsWith("/..")) {
        throw new IllegalArgumentException(
            "secret file path (\"" + path + "\") must be absolute, without .. or newlines");
      }
      if ((mode & ~0777) != 0) {
        throw new IllegalArgumentException("secret file mode must be within 0777");
      }
    }
  }

  /** On standard input, joined with newlines in declaration order. */
  record Stdin() implements Injection {}

  /**
   * Masked: the command sees only a placeholder in the environment variable {@code variable}; the
   * egress proxy replaces the placeholder with the real value in requests to {@code hosts} (header
   * values and the request target, over plain HTTP and over HTTPS, which the proxy intercepts for
   * these hosts with a CA only this sandbox trusts) and refuses any request that carries it to
   * another host. The real value never enters the sandbox. Needs {@code network.allowed_hosts}.
   *
   * @param variable the variable that holds the placeholder
   * @param hosts host patterns the real value may be sent to ({@code api.github.com}, {@code
   *     *.example.com}, optionally {@code :port}; without a port TLS is intercepted on 443 only)
   */
  record Proxy(String variable, List<String> hosts) implements Injection {
    /** Validates the variable name and host patterns. */
    public Proxy {
      Objects.requireNonNull(variable, "variable");
      if (!Env.VAR.matcher(variable).matches()) {
        throw new IllegalArgumentException(
            "environment variable name (\"" + variable + "\") must match " + Env.VAR.pattern());
      }
      hosts = List.copyOf(hosts);
      if (hosts.isEmpty()) {
        throw new IllegalArgumentException(
            "a proxy-injected secret needs at least one host (e.g. api.github.com)");
      }
      for (int i = 0; i < hosts.size(); i++) {
        NetworkPolicy.checkHost("hosts[" + i + "]", hosts.get(i));
      }
    }
  }
}
