package dev.kavach.backend.tee;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.testing.BackendContract;
import java.nio.file.Path;
import java.util.List;

/**
 * The contract on an SEV-SNP host. It skips with the probe's reason elsewhere, which includes this
 * project's CI machine kind (no SEV-SNP), so CI installs nothing for it.
 */
class SevContractTest extends BackendContract {
  private final BackendProvider provider = new SevBackendProvider();

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
