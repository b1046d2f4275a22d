package dev.kavach.backend.tee;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.guest.GuestBackendContract;

/** The contract in a real SEV-SNP guest; skips with the probe's reason elsewhere. */
class SevContractTest extends GuestBackendContract {
  private final BackendProvider provider = new SevBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }
}
