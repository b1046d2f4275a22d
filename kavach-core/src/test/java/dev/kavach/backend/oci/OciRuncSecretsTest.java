package dev.kavach.backend.oci;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.internal.container.OciRuntimeDriver;
import dev.kavach.testing.SecretsEndToEnd;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The secrets suite (injection, gate, argv, disk, audit, copyOut) on the oci backend, runc. */
class OciRuncSecretsTest extends SecretsEndToEnd {
  @RegisterExtension
  final ContainerLeftovers leftovers = ContainerLeftovers.forOciRuntime(OciRuntimeDriver.Kind.RUNC);

  private final BackendProvider provider = new OciRuncBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }
}
