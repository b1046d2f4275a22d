package dev.kavach.backend.syagnos;

import dev.kavach.internal.container.RuntimeCommands;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.internal.host.Tool;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A container engine that runs images: podman (preferred, daemonless) or docker (only when its
 * daemon answers: a docker client without an engine is common and useless here).
 *
 * @param name {@code podman} or {@code docker}
 * @param tool the client binary
 * @param globalArgs arguments before every subcommand (for podman: {@code --root}, {@code
 *     --runroot}, {@code --tmpdir} of a private store)
 * @param ociRuntime the OCI runtime the engine is told to use, or null for its default
 */
record ContainerEngine(
    String name,
    Tool tool,
    List<String> globalArgs,
    @org.jspecify.annotations.Nullable String ociRuntime) {

  /** Copies the list. */
  ContainerEngine {
    globalArgs = List.copyOf(globalArgs);
  }

  /** Whether this is podman. */
  boolean podman() {
    return name.equals("podman");
  }

  /** The command line of one subcommand. */
  List<String> cmd(String... args) {
    List<String> out = new ArrayList<>();
    out.add(tool.path().toString());
    out.addAll(globalArgs);
    out.addAll(List.of(args));
    return out;
  }

  /** Runs one subcommand. */
  Exec.Result run(String... args) {
    return RuntimeCommands.run(cmd(args));
  }

  /**
   * The engine to use on this host, or empty with the reasons in {@code why}.
   *
   * @param podmanArgs global arguments for podman (a private store), ignored for docker
   */
  static Optional<ContainerEngine> find(HostProbe host, List<String> podmanArgs, List<String> why) {
    if (host.uid() != 0) {
      why.add("kavach runs sy-agnos containers with a rootful engine only (limits need cgroups)");
      return Optional.empty();
    }
    Optional<Tool> podman = host.tool("podman");
    if (podman.isPresent()) {
      // crun refuses hybrid cgroup hosts (see the oci backend); podman is pointed at runc there.
      String runtime = null;
      var cgroups = host.cgroups();
      if (cgroups.v2Mount() != null && !cgroups.v1().isEmpty()) {
        Optional<java.nio.file.Path> runc = host.which("runc");
        if (runc.isEmpty()) {
          why.add("podman found, but this hybrid cgroup host needs runc (crun refuses it)");
          return Optional.empty();
        }
        runtime = runc.get().toString();
      }
      return Optional.of(new ContainerEngine("podman", podman.get(), podmanArgs, runtime));
    }
    why.add("podman not found on PATH");
    return findDocker(host, why);
  }

  /** docker, only when its daemon answers. */
  static Optional<ContainerEngine> findDocker(HostProbe host, List<String> why) {
    Optional<Tool> docker = host.tool("docker");
    if (docker.isEmpty()) {
      why.add("docker not found on PATH");
      return Optional.empty();
    }
    Exec.Result r =
        RuntimeCommands.run(
            List.of(docker.get().path().toString(), "version", "--format", "{{.Server.Version}}"));
    if (r.exitValue() != 0 || r.stdoutText().isBlank()) {
      String err = r.stderrText().trim();
      why.add(
          "docker client found, but its daemon is unreachable"
              + (err.isEmpty() ? "" : ": " + err.lines().reduce((a, b) -> b).orElse(err)));
      return Optional.empty();
    }
    return Optional.of(new ContainerEngine("docker", docker.get(), List.of(), null));
  }
}
