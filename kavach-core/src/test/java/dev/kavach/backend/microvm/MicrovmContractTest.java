package dev.kavach.backend.microvm;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.testing.BackendContract;
import java.nio.file.Path;
import java.util.List;

/**
 * The contract on a real Firecracker microVM. It skips with the probe's reason on hosts without
 * hardware virtualization, which includes this project's CI machine kind (PVM /dev/kvm), so CI does
 * not install firecracker.
 */
class MicrovmContractTest extends BackendContract {
  private final MicrovmBackendProvider provider = new MicrovmBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }

  @Override
  protected boolean installedByCi() {
    return false;
  }

  @Override
  protected List<Path> hostResources(Sandbox sandbox) {
    return List.of(Path.of("/dev/shm", "kavach-" + sandbox.id()));
  }
}
