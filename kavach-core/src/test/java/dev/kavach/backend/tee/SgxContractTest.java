package dev.kavach.backend.tee;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.guest.GuestBackendContract;

/** The contract in a real SGX enclave under Gramine; skips with the probe's reason elsewhere. */
class SgxContractTest extends GuestBackendContract {
  private final BackendProvider provider = new SgxBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }
}
