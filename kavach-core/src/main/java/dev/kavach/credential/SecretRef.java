package dev.kavach.credential;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A named secret and how it reaches the command. The value lives in a {@link CredentialSource}; a
 * reference carries only the name, so it is safe to log.
 *
 * @param name the secret's name
 * @param injection how the command receives it
 */
public record SecretRef(String name, Injection injection) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,127}");

  /** Validates the name. */
  public SecretRef {
    checkName(name);
    Objects.requireNonNull(injection, "injection");
  }

  /** Throws unless {@code name} is a valid secret name. */
  static void checkName(String name) {
    Objects.requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "secret name (\"" + name + "\") must match " + NAME.pattern());
    }
  }

  /** A secret injected as the environment variable {@code variable}. */
  public static SecretRef env(String name, String variable) {
    return new SecretRef(name, new Injection.Env(variable));
  }

  /** A secret injected as a file at {@code path} inside the sandbox, mode 0400. */
  public static SecretRef file(String name, String path) {
    return new SecretRef(name, new Injection.File(path, 0400));
  }

  /** A secret written to the command's standard input. */
  public static SecretRef stdin(String name) {
    return new SecretRef(name, new Injection.Stdin());
  }

  /**
   * A secret the command sees only as a placeholder in {@code variable}, which the egress proxy
   * swaps for the real value in requests to {@code hosts}.
   */
  public static SecretRef proxy(String name, String variable, String... hosts) {
    return new SecretRef(name, new Injection.Proxy(variable, List.of(hosts)));
  }
}
