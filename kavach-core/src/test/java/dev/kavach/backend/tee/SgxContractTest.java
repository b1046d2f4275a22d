package dev.kavach.backend.tee;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.testing.BackendContract;
import java.nio.file.Path;
import java.util.List;

/**
 * The contract on real SGX hardware (with Gramine). It skips with the probe's reason elsewhere,
 * which includes this project's CI machine kind (no SGX), so CI installs nothing for it.
 */
class SgxContractTest extends BackendContract {
  private final BackendProvider provider = new SgxBackendProvider();

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
