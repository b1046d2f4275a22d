package dev.kavach.backend.tee;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.guest.GuestBackendContract;

/** The contract in a real TDX guest; skips with the probe's reason elsewhere. */
class TdxContractTest extends GuestBackendContract {
  private final BackendProvider provider = new TdxBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }
}
