package dev.kavach.testing;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;

/** Proves the contract itself against real processes with no isolation in the way. */
class HostExecContractTest extends BackendContract {
  private final HostExecBackendProvider provider = new HostExecBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }

  @Override
  protected SandboxPolicy policy() {
    // It isolates nothing, so it can only accept a policy that asks for nothing.
    return SandboxPolicy.minimal().toBuilder().network(NetworkPolicy.unrestricted()).build();
  }

  @Override
  protected String workspaceInside(Sandbox sandbox) {
    return sandbox.workspace().orElseThrow().toString();
  }
}
