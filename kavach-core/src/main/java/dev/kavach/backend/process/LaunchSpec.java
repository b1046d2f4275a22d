package dev.kavach.backend.process;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One launcher invocation: the argv of {@code kavach-launch} (non-secret options only) and the
 * encodings of the files that carry the rest. Built by {@link ProcessBackend} from the policy and
 * the exec; the flags are documented in {@code native/launcher/options.h}.
 *
 * <pre>{@code
 * List<String> argv = LaunchSpec.builder(launcher.path())
 *     .status(run.path().resolve("status"))
 *     .ids(2113929300, 2113929300)
 *     .workspace(Path.of("/tmp/kavach-ws-1"))
 *     .command(List.of("/bin/true"))
 *     .build()
 *     .argv();
 * }</pre>
 *
 * @param argv the launcher's complete argv
 */
record LaunchSpec(List<String> argv) {

  /**
   * Host directories every sandbox sees read-only (those that exist; a symlink such as {@code /bin
   * -> usr/bin} is recreated as one). Everything else of the host stays out of view.
   */
  static final List<String> SYSTEM_DIRS =
      List.of("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt");

  /** Copies the argv. */
  LaunchSpec {
    argv = List.copyOf(argv);
  }

  /** A builder for a launch of this binary. */
  static Builder builder(Path launcher) {
    return new Builder(launcher);
  }

  /** Encodes an environment as the launcher's env file: {@code NAME=VALUE\0} per variable. */
  static byte[] envFile(Map<String, String> env) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    env.forEach(
        (k, v) -> {
          out.writeBytes((k + "=" + v).getBytes(StandardCharsets.UTF_8));
          out.write(0);
        });
    return out.toByteArray();
  }

  /**
   * Encodes a command for a prepared launch's stdin: {@code <length>\n} and the argv, each argument
   * NUL-terminated. What follows on stdin is the command's own input.
   */
  static byte[] commandHeader(List<String> argv) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (String a : argv) {
      body.writeBytes(a.getBytes(StandardCharsets.UTF_8));
      body.write(0);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes((body.size() + "\n").getBytes(StandardCharsets.UTF_8));
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  /** Builder for {@link LaunchSpec}. */
  static final class Builder {
    private final Path launcher;
    private final List<String> options = new ArrayList<>();
    private @Nullable List<String> command;
    private boolean ids;
    private boolean status;
    private boolean wait;

    private Builder(Path launcher) {
      this.launcher = launcher;
    }

    private Builder add(String flag, Object value) {
      options.add(flag);
      options.add(String.valueOf(value));
      return this;
    }

    /** The status channel file. */
    Builder status(Path file) {
      status = true;
      return add("--status", file);
    }

    /** The JVM's pid: the sandbox dies with it. */
    Builder parentPid(long pid) {
      return add("--parent-pid", pid);
    }

    /** cgroup.procs files the launcher joins before anything else. */
    Builder cgroupProcs(List<Path> files) {
      files.forEach(f -> add("--cgroup-procs", f));
      return this;
    }

    /** The environment file. */
    Builder envFile(Path file) {
      return add("--env-file", file);
    }

    /** The secret files file. */
    Builder secretsFile(Path file) {
      return add("--secrets-file", file);
    }

    /** The seccomp program file and the profile's name for the report. */
    Builder seccomp(Path file, String name) {
      add("--seccomp", file);
      return add("--seccomp-name", name);
    }

    /** The command's host uid and gid (never 0). */
    Builder ids(int uid, int gid) {
      ids = true;
      add("--uid", Integer.toUnsignedString(uid));
      return add("--gid", Integer.toUnsignedString(gid));
    }

    /** Shares the host's network instead of a new, loopback-only network namespace. */
    Builder shareNetwork(boolean share) {
      return share ? add("--net", "host") : add("--net", "none");
    }

    /** The UTS hostname. */
    Builder hostname(String name) {
      return add("--hostname", name);
    }

    /** The workspace, bound read-write at /workspace. */
    Builder workspace(Path dir) {
      return add("--workspace", dir);
    }

    /** Host system directories, read-only at the same path. */
    Builder system(List<String> dirs) {
      dirs.forEach(d -> add("--system", d));
      return this;
    }

    /** A root filesystem whose entries replace the host's system directories, read-only. */
    Builder rootfs(Path dir) {
      return add("--rootfs", dir);
    }

    /** A policy path, read-only at the same path. */
    Builder readOnly(Path path) {
      return add("--ro", path);
    }

    /** A policy path, read-write at the same path. */
    Builder readWrite(Path path) {
      return add("--rw", path);
    }

    /** The size of /tmp in bytes. */
    Builder tmpSize(long bytes) {
      return add("--tmp-size", bytes);
    }

    /** RLIMIT_NOFILE. */
    Builder nofile(long n) {
      return add("--nofile", n);
    }

    /** RLIMIT_FSIZE in bytes. */
    Builder fsize(long bytes) {
      return add("--fsize", bytes);
    }

    /** Applies Landlock (a failure stops the exec). */
    Builder landlock() {
      options.add("--landlock");
      return this;
    }

    /** A TCP port Landlock allows to bind and connect. */
    Builder allowPort(int port) {
      return add("--allow-port", port);
    }

    /**
     * Runs the egress relay: {@code 127.0.0.1:port} inside the sandbox's (new, loopback-only)
     * network namespace, forwarded to the proxy's Unix socket.
     */
    Builder egressRelay(int port, Path socket) {
      return add("--egress-relay", port + ":" + socket);
    }

    /** The command. */
    Builder command(List<String> argv) {
      this.command = List.copyOf(argv);
      return this;
    }

    /**
     * A prepared launch: the launcher joins its cgroups and then waits for the command on stdin
     * ({@link LaunchSpec#commandHeader}).
     */
    Builder waitForCommand() {
      wait = true;
      options.add("--wait");
      return this;
    }

    /** Builds the spec; status, ids and the command (or {@link #waitForCommand}) are required. */
    LaunchSpec build() {
      if (!status || !ids) {
        throw new IllegalStateException("a launch needs a status file and ids");
      }
      List<String> argv = new ArrayList<>();
      argv.add(launcher.toString());
      argv.addAll(options);
      if (!wait) {
        argv.add("--");
        argv.addAll(Objects.requireNonNull(command, "command"));
      }
      return new LaunchSpec(argv);
    }
  }
}
