package dev.kavach.backend.microvm;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.guest.GuestBackendContract;

/** The contract on a real Firecracker microVM; skips with the probe's reason elsewhere. */
class MicrovmContractTest extends GuestBackendContract {
  private final BackendProvider provider = new MicrovmBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }
}
