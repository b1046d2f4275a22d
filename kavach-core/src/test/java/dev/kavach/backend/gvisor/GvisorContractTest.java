package dev.kavach.backend.gvisor;

import dev.kavach.Sandbox;
import dev.kavach.SandboxState;
import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.internal.container.OciRuntimeDriver;
import dev.kavach.internal.container.RuntimeCommands;
import dev.kavach.internal.exec.Exec;
import dev.kavach.testing.BackendContract;
import dev.kavach.testing.Leftovers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The backend contract on runsc (gVisor). */
class GvisorContractTest extends BackendContract {
  @RegisterExtension
  final ContainerLeftovers leftovers =
      ContainerLeftovers.forOciRuntime(OciRuntimeDriver.Kind.RUNSC);

  @Override
  protected BackendProvider provider() {
    return new GvisorBackendProvider();
  }

  @Override
  protected List<Path> hostResources(Sandbox sandbox) {
    return leftovers.track(sandbox.id());
  }

  /** gVisor's processes are not host processes: also list them inside the sandbox. */
  @Override
  protected List<String> processesMatching(Sandbox sandbox, String marker) {
    List<String> found = new ArrayList<>(Leftovers.processesMatching(marker));
    found.addAll(insideProcessesMatching(sandbox, marker));
    return found;
  }

  /** Command lines inside a running gVisor sandbox that contain {@code marker}. */
  static List<String> insideProcessesMatching(Sandbox sandbox, String marker) {
    List<String> found = new ArrayList<>();
    if (sandbox.state() != SandboxState.RUNNING) {
      return found;
    }
    Exec.Result r =
        RuntimeCommands.run(
            List.of(
                "runsc",
                "--root",
                OciRuntimeDriver.stateRoot(OciRuntimeDriver.Kind.RUNSC).toString(),
                "exec",
                "--user",
                "65534:65534",
                "kavach-" + sandbox.id(),
                "/bin/sh",
                "-c",
                "for f in /proc/[0-9]*/cmdline; do tr '\\000' ' ' < \"$f\"; echo; done"));
    for (String line : r.stdoutText().split("\n")) {
      if (line.contains(marker)) {
        found.add("inside " + sandbox.id() + ": " + line.trim());
      }
    }
    return found;
  }
}
