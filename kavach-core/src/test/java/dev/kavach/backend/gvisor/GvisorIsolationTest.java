package dev.kavach.backend.gvisor;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerIsolationContract;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.internal.container.OciRuntimeDriver;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Attacks on the gvisor backend's claims. */
class GvisorIsolationTest extends ContainerIsolationContract {
  @RegisterExtension
  final ContainerLeftovers leftovers =
      ContainerLeftovers.forOciRuntime(OciRuntimeDriver.Kind.RUNSC);

  @Override
  protected BackendProvider provider() {
    return new GvisorBackendProvider();
  }

  @Override
  protected ContainerLeftovers leftovers() {
    return leftovers;
  }

  @Override
  protected List<String> insideProcesses(Sandbox sandbox, String marker) {
    return GvisorContractTest.insideProcessesMatching(sandbox, marker);
  }

  /** gVisor shows the /dev/null that covers the secret as an empty, readable file. */
  @Override
  protected String maskedReadError() {
    return "";
  }

  @Override
  protected String unreachableError() {
    return "No route to host";
  }

  @Override
  protected String mknodError() {
    return "No such device or address";
  }

  @Override
  protected boolean forkBombEndsTheSandbox() {
    return true;
  }

  @Override
  protected int reportedPids(int n) {
    return n + GvisorBackendProvider.SENTRY_PIDS;
  }

  @Override
  protected boolean oomKillsTheSandbox() {
    return true;
  }
}
