package dev.kavach.backend.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.testing.BackendContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The backend contract on the process backend, under the {@code minimal} preset. */
class ProcessContractTest extends BackendContract {
  private final ProcessBackendProvider provider = new ProcessBackendProvider();
  private final List<String> ids = new ArrayList<>();

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
    return s;
  }

  @Override
  protected List<Path> hostResources(Sandbox sandbox) {
    return cgroupDirectories(sandbox.id());
  }

  /** Where the sandbox's cgroup would be in every hierarchy: none may exist after destroy. */
  static List<Path> cgroupDirectories(String sandboxId) {
    HostProbe host = HostProbe.system();
    CgroupLayout layout = host.cgroups();
    Map<String, String> own = host.ownCgroups();
    List<Path> dirs = new ArrayList<>();
    layout
        .v1()
        .forEach(
            (controller, mount) ->
                dirs.add(Path.of(mount, own.getOrDefault(controller, "/"), "kavach", sandboxId)));
    if (layout.v2Mount() != null) {
      dirs.add(Path.of(layout.v2Mount(), own.getOrDefault("", "/"), "kavach", sandboxId));
    }
    return dirs;
  }

  /** No run directory of any of this test's sandboxes is left in /dev/shm. */
  @AfterEach
  void noRunDirectoriesLeft() throws IOException {
    try (Stream<Path> list = Files.list(RunDir.BASE)) {
      List<String> left =
          list.map(p -> p.getFileName().toString())
              .filter(n -> ids.stream().anyMatch(id -> n.startsWith(RunDir.PREFIX + id)))
              .toList();
      assertThat(left).as("run directories left in /dev/shm").isEmpty();
    }
  }

  @Test
  void reportsWhatTheLauncherApplied() {
    ExecResult r = started().exec(List.of("true"));
    assertThat(r.enforcement().namespaces())
        .containsExactlyInAnyOrder("user", "pid", "mount", "ipc", "uts", "cgroup", "net");
    assertThat(r.enforcement().networkIsolated()).isTrue();
    assertThat(r.enforcement().readOnlyRoot()).isTrue();
    assertThat(r.enforcement().capabilitiesDropped()).isTrue();
    assertThat(r.enforcement().noNewPrivs()).isTrue();
    assertThat(r.enforcement().uid()).isNotZero().isNotEqualTo(-1);
  }
}
