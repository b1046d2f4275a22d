package dev.kavach.backend.gvisor;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.internal.container.OciRuntimeDriver;
import dev.kavach.testing.SecretsEndToEnd;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The secrets suite (injection, gate, argv, disk, audit, copyOut) on the gvisor backend, runsc. */
class GvisorSecretsTest extends SecretsEndToEnd {
  @RegisterExtension
  final ContainerLeftovers leftovers =
      ContainerLeftovers.forOciRuntime(OciRuntimeDriver.Kind.RUNSC);

  private final BackendProvider provider = new GvisorBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }

  /** The sentry runs the command: its argv is visible only inside. */
  @Override
  protected List<String> insideProcesses(Sandbox sandbox, String needle) {
    return GvisorContractTest.insideProcessesMatching(sandbox, needle);
  }
}
