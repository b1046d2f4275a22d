package dev.kavach.policy;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * A host path the sandbox may use, and how.
 *
 * <p>On the process backend a rule becomes both a bind mount and a Landlock rule; a path that does
 * not exist when the sandbox starts is an error, never a silently skipped rule.
 *
 * @param path absolute, normalized host path
 * @param access read-only or read-write
 */
public record FilesystemRule(Path path, Access access) {

  /** Access granted on a path. JSON names are {@code ro} and {@code rw}, as in the Rust crate. */
  public enum Access {
    /** Read and execute. */
    RO,
    /** Everything, including create, remove and rename inside the path. */
    RW;

    /** The JSON name, {@code ro} or {@code rw}. */
    public String jsonName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code ro} or {@code rw}.
     *
     * @throws IllegalArgumentException for anything else
     */
    public static Access parse(String s) {
      return switch (s) {
        case "ro" -> RO;
        case "rw" -> RW;
        default ->
            throw new IllegalArgumentException(
                "access must be \"ro\" or \"rw\", not \"" + s + "\"");
      };
    }
  }

  /** Validates that the path is absolute and normalized. */
  public FilesystemRule {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(access, "access");
    if (!path.isAbsolute()) {
      throw new IllegalArgumentException("path (" + path + ") must be absolute");
    }
    if (!path.normalize().equals(path)) {
      throw new IllegalArgumentException("path (" + path + ") must be normalized (no . or ..)");
    }
  }

  /** A read-only rule. */
  public static FilesystemRule readOnly(Path path) {
    return new FilesystemRule(path, Access.RO);
  }

  /** A read-write rule. */
  public static FilesystemRule readWrite(Path path) {
    return new FilesystemRule(path, Access.RW);
  }
}
