package dev.kavach.backend.oci;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerIsolationContract;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.internal.container.OciRuntimeDriver;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Attacks on the oci backend's claims, on crun. */
class OciCrunIsolationTest extends ContainerIsolationContract {
  @RegisterExtension
  final ContainerLeftovers leftovers = ContainerLeftovers.forOciRuntime(OciRuntimeDriver.Kind.CRUN);

  @Override
  protected BackendProvider provider() {
    return new OciCrunBackendProvider();
  }

  @Override
  protected ContainerLeftovers leftovers() {
    return leftovers;
  }
}
