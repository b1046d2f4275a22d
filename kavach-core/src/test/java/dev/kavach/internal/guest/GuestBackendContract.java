package dev.kavach.internal.guest;

import dev.kavach.Sandbox;
import dev.kavach.testing.BackendContract;
import java.nio.file.Path;
import java.util.List;

/**
 * The contract for the backends that need hardware this project's CI machine kind lacks (microvm,
 * sev, tdx, sgx): they skip there with their probe's reason, and CI installs nothing for them. A
 * sandbox's host resources are its run directory, {@code /dev/shm/kavach-<id>}.
 */
public abstract class GuestBackendContract extends BackendContract {

  @Override
  protected boolean installedByCi() {
    return false;
  }

  @Override
  protected List<Path> hostResources(Sandbox sandbox) {
    return List.of(Path.of("/dev/shm", "kavach-" + sandbox.id()));
  }
}
