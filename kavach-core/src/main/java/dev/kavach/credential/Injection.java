package dev.kavach.credential;

import java.util.Objects;
import java.util.regex.Pattern;

/** How a secret reaches the command. */
public sealed interface Injection permits Injection.Env, Injection.File, Injection.Stdin {

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
      if (!path.startsWith("/")
          || path.contains("\0")
          || path.contains("/../")
          || path.endsWith("/..")) {
        throw new IllegalArgumentException(
            "secret file path (\"" + path + "\") must be absolute without ..");
      }
      if ((mode & ~0777) != 0) {
        throw new IllegalArgumentException("secret file mode must be within 0777");
      }
    }
  }

  /** On standard input, joined with newlines in declaration order. */
  record Stdin() implements Injection {}
}
