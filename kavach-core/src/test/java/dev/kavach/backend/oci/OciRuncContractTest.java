package dev.kavach.backend.oci;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.internal.container.OciRuntimeDriver;
import dev.kavach.testing.BackendContract;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The backend contract on runc. */
class OciRuncContractTest extends BackendContract {
  @RegisterExtension
  final ContainerLeftovers leftovers = ContainerLeftovers.forOciRuntime(OciRuntimeDriver.Kind.RUNC);

  @Override
  protected BackendProvider provider() {
    return new OciRuncBackendProvider();
  }

  @Override
  protected List<Path> hostResources(Sandbox sandbox) {
    return leftovers.track(sandbox.id());
  }
}
