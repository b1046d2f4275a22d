package dev.kavach.backend.oci;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerIsolationContract;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.internal.container.OciRuntimeDriver;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Attacks on the oci backend's claims, on runc. */
class OciRuncIsolationTest extends ContainerIsolationContract {
  @RegisterExtension
  final ContainerLeftovers leftovers = ContainerLeftovers.forOciRuntime(OciRuntimeDriver.Kind.RUNC);

  @Override
  protected BackendProvider provider() {
    return new OciRuncBackendProvider();
  }

  @Override
  protected ContainerLeftovers leftovers() {
    return leftovers;
  }
}
