package dev.kavach.backend;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One command as the backend must run it: the environment is complete (nothing is inherited from
 * the JVM) and secrets are already resolved.
 *
 * @param execId unique id of this exec, for naming and audit
 * @param argv program and arguments, passed through untouched
 * @param env the complete environment of the command
 * @param stdin bytes for standard input; empty means {@code /dev/null}
 * @param timeout wall-clock limit; the whole process tree is killed when it passes
 * @param outputLimit bytes kept per stream; the rest is drained and discarded
 * @param secretFiles files to place inside the sandbox, never on the host's persistent disk
 * @param egress the egress proxy to route the command's network through, or null when the policy
 *     names no hosts (then {@code network.enabled} alone decides)
 */
// Byte arrays rather than immutable copies: outputs reach megabytes and are never shared.
@SuppressWarnings("ArrayRecordComponent")
public record ExecSpec(
    String execId,
    List<String> argv,
    Map<String, String> env,
    byte[] stdin,
    Duration timeout,
    int outputLimit,
    List<SecretFile> secretFiles,
    @Nullable EgressEndpoint egress) {

  /** Copies the collections and validates. */
  public ExecSpec {
    Objects.requireNonNull(execId, "execId");
    argv = List.copyOf(argv);
    env = Map.copyOf(env);
    Objects.requireNonNull(stdin, "stdin");
    Objects.requireNonNull(timeout, "timeout");
    secretFiles = List.copyOf(secretFiles);
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("argv must not be empty");
    }
  }

  /** A spec without an egress proxy. */
  public ExecSpec(
      String execId,
      List<String> argv,
      Map<String, String> env,
      byte[] stdin,
      Duration timeout,
      int outputLimit,
      List<SecretFile> secretFiles) {
    this(execId, argv, env, stdin, timeout, outputLimit, secretFiles, null);
  }
}
