package dev.kavach;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One command to run: an argv passed through untouched (never re-split), optional standard input,
 * extra environment and a per-exec timeout.
 *
 * <pre>{@code
 * ExecRequest req = ExecRequest.builder("python3", "-c", "import sys; print(sys.stdin.read())")
 *     .stdin("hello")
 *     .env("MODE", "test")
 *     .timeout(Duration.ofSeconds(5))
 *     .build();
 * }</pre>
 *
 * @param argv program and arguments
 * @param stdin bytes for standard input; empty means {@code /dev/null}
 * @param env variables added after the sandbox's own environment
 * @param timeout overrides the sandbox's timeout, or null to use it
 */
// Byte arrays rather than immutable copies: outputs reach megabytes and are never shared.
@SuppressWarnings("ArrayRecordComponent")
public record ExecRequest(
    List<String> argv, byte[] stdin, Map<String, String> env, @Nullable Duration timeout) {

  /** Copies and validates. */
  public ExecRequest {
    argv = List.copyOf(argv);
    Objects.requireNonNull(stdin, "stdin");
    env = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(env));
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("argv must not be empty");
    }
    if (argv.get(0).isEmpty()) {
      throw new IllegalArgumentException("argv[0] must not be empty");
    }
    for (int i = 0; i < argv.size(); i++) {
      if (argv.get(i).indexOf('\0') >= 0) {
        throw new IllegalArgumentException("argv[" + i + "] contains a NUL character");
      }
    }
    env.forEach(SandboxConfig::checkEnv);
    if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
      throw new IllegalArgumentException("timeout (" + timeout + ") must be positive");
    }
  }

  /** A request for this argv with no stdin, no extra env and the sandbox's timeout. */
  public static ExecRequest of(String... argv) {
    return builder(argv).build();
  }

  /** A request for this argv. */
  public static ExecRequest of(List<String> argv) {
    return builder(argv).build();
  }

  /** A builder for this argv. */
  public static Builder builder(String... argv) {
    return new Builder(List.of(argv));
  }

  /** A builder for this argv. */
  public static Builder builder(List<String> argv) {
    return new Builder(argv);
  }

  /** Builder for {@link ExecRequest}. */
  public static final class Builder {
    private final List<String> argv;
    private byte[] stdin = new byte[0];
    private final Map<String, String> env = new LinkedHashMap<>();
    private @Nullable Duration timeout;

    private Builder(List<String> argv) {
      this.argv = new ArrayList<>(argv);
    }

    /** Sets standard input. */
    public Builder stdin(byte[] bytes) {
      this.stdin = bytes.clone();
      return this;
    }

    /** Sets standard input as UTF-8 text. */
    public Builder stdin(String text) {
      this.stdin = text.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    /** Adds an environment variable. */
    public Builder env(String name, String value) {
      SandboxConfig.checkEnv(name, value);
      env.put(name, value);
      return this;
    }

    /** Sets the timeout of this exec. */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** Builds the request. */
    public ExecRequest build() {
      return new ExecRequest(argv, stdin, env, timeout);
    }
  }
}
