package dev.kavach.backend.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.credential.SecretRef;
import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scanning.ExternalizationPolicy;
import dev.kavach.testing.BackendContract;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The backend contract on the process backend, under the {@code minimal} preset. */
class ProcessContractTest extends BackendContract {
  private final ProcessBackendProvider provider = new ProcessBackendProvider();
  private final List<String> ids = new ArrayList<>();
  private final List<Sandbox> mine = new ArrayList<>();

  @Override
  protected BackendProvider provider() {
    return provider;
  }

  @Override
  protected SandboxPolicy policy() {
    return SandboxPolicy.minimal();
  }

  @Override
  protected Sandbox create(SandboxConfig config) {
    Sandbox s = super.create(config);
    ids.add(s.id());
    mine.add(s);
    return s;
  }

  @Override
  protected List<Path> hostResources(Sandbox sandbox) {
    return cgroupDirectories(sandbox.id());
  }

  /**
   * Where the sandbox's cgroup is in every hierarchy ({@code kavach/<owner>/<sandbox-id>} under the
   * JVM's own group, or {@code kavach/<sandbox-id>}): none may exist after destroy.
   */
  static List<Path> cgroupDirectories(String sandboxId) {
    HostProbe host = HostProbe.system();
    CgroupLayout layout = host.cgroups();
    Map<String, String> own = host.ownCgroups();
    List<Path> roots = new ArrayList<>();
    layout
        .v1()
        .forEach(
            (controller, mount) ->
                roots.add(Path.of(mount, own.getOrDefault(controller, "/"), "kavach")));
    if (layout.v2Mount() != null) {
      roots.add(Path.of(layout.v2Mount(), own.getOrDefault("", "/"), "kavach"));
    }
    List<Path> dirs = new ArrayList<>();
    for (Path root : roots) {
      dirs.add(root.resolve(sandboxId));
      try (Stream<Path> owners = Files.list(root)) {
        owners.filter(Files::isDirectory).forEach(o -> dirs.add(o.resolve(sandboxId)));
      } catch (IOException e) {
        // No kavach/ in this hierarchy.
      }
    }
    return dirs;
  }

  /**
   * No run directory of any of this test's sandboxes is left in /dev/shm once they are destroyed
   * (this runs before the contract's own check, so it destroys them first).
   */
  @AfterEach
  void noRunDirectoriesLeft() throws IOException {
    mine.forEach(Sandbox::close);
    try (Stream<Path> list = Files.list(RunDir.BASE)) {
      List<String> left =
          list.map(p -> p.getFileName().toString())
              .filter(n -> ids.stream().anyMatch(id -> n.startsWith(RunDir.PREFIX + id)))
              .toList();
      assertThat(left).as("run directories left in /dev/shm").isEmpty();
    }
  }

  @Test
  void secretsReachTheCommandOnlyThroughMemoryAndTheEnvFile() {
    Map<String, byte[]> values =
        Map.of(
            "token", "tok-3f9a".getBytes(StandardCharsets.UTF_8),
            "key", "key-77c1".getBytes(StandardCharsets.UTF_8),
            "pin", "pin-0412".getBytes(StandardCharsets.UTF_8));
    Sandbox s =
        create(
            config()
                // Prints the secrets on purpose, to show what the command sees; the externalization
                // gate (on by default under strict) would rightly withhold that output.
                .externalization(ExternalizationPolicy.disabled())
                .secret(SecretRef.file("token", "/run/secrets/token"))
                .secret(SecretRef.env("key", "API_KEY"))
                .secret(SecretRef.stdin("pin"))
                .credentials(name -> Optional.ofNullable(values.get(name)).map(byte[]::clone))
                .build());
    s.start();
    ExecResult r =
        s.exec(
            List.of(
                "/bin/sh",
                "-c",
                "cat /run/secrets/token; echo; stat -c %a /run/secrets/token;"
                    + " stat -f -c %T /run/secrets/token; echo $API_KEY; read p; echo $p;"
                    + " cat /proc/1/cmdline | tr '\\0' ' '"));
    assertThat(r.stdoutText()).startsWith("tok-3f9a\n400\ntmpfs\nkey-77c1\npin-0412\n");
    // Nothing secret in any argv: not in init's (which was the launcher's, then retitled).
    assertThat(r.stdoutText().lines().skip(5).findFirst().orElse(""))
        .contains("kavach-init")
        .doesNotContain("tok-3f9a", "key-77c1", "pin-0412");
    assertThat(s.workspace().orElseThrow()).isEmptyDirectory();
  }

  @Test
  void reportsWhatTheLauncherApplied() {
    Sandbox s = started();
    if (provider.capabilities().contains(Capability.RESOURCE_USAGE)) {
      // The leak check is not vacuous: while the sandbox lives, its cgroup is where we look.
      assertThat(cgroupDirectories(s.id())).anyMatch(Files::isDirectory);
    }
    ExecResult r = s.exec(List.of("true"));
    assertThat(r.enforcement().namespaces())
        .containsExactlyInAnyOrder("user", "pid", "mount", "ipc", "uts", "cgroup", "net");
    assertThat(r.enforcement().networkIsolated()).isTrue();
    assertThat(r.enforcement().readOnlyRoot()).isTrue();
    assertThat(r.enforcement().capabilitiesDropped()).isTrue();
    assertThat(r.enforcement().noNewPrivs()).isTrue();
    assertThat(r.enforcement().uid()).isNotZero().isNotEqualTo(-1);
  }
}
