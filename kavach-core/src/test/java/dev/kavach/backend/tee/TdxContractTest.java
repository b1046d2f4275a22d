package dev.kavach.backend.tee;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.testing.BackendContract;
import java.nio.file.Path;
import java.util.List;

/**
 * The contract on a TDX host. It skips with the probe's reason elsewhere, which includes this
 * project's CI machine kind (no TDX), so CI installs nothing for it.
 */
class TdxContractTest extends BackendContract {
  private final BackendProvider provider = new TdxBackendProvider();

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
