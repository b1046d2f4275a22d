package dev.kavach.testing;

import dev.kavach.backend.BackendProvider;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;

/**
 * The secrets suite through {@link dev.kavach.Sandbox} on real host processes (no isolation):
 * proves the wiring (injection, gate, audit, copyOut) independently of any isolation backend. This
 * backend injects by environment and standard input only.
 */
class HostExecSecretsTest extends SecretsEndToEnd {
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
}
