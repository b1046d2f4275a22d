package dev.kavach.backend.oci;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.internal.container.OciRuntimeDriver;
import dev.kavach.testing.SecretsEndToEnd;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The secrets suite (injection, gate, argv, disk, audit, copyOut) on the oci backend, crun. */
class OciCrunSecretsTest extends SecretsEndToEnd {
  @RegisterExtension
  final ContainerLeftovers leftovers = ContainerLeftovers.forOciRuntime(OciRuntimeDriver.Kind.CRUN);

  private final BackendProvider provider = new OciCrunBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }
}
