package dev.kavach.internal.guest;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.testing.BackendContract;
import java.nio.file.Path;
import java.util.List;

/**
 * The backend contract through kavach-agent and the Firecracker vsock handshake: exit codes,
 * signals, output, binary output, stdin, env, cwd, timeout with tree kill of a grandchild that
 * ignores SIGTERM, output cap, concurrency, stop.
 */
class AgentContractTest extends BackendContract {
  private final AgentUnixBackendProvider provider = new AgentUnixBackendProvider();

  @Override
  protected BackendProvider provider() {
    return provider;
  }

  @Override
  protected SandboxPolicy policy() {
    return SandboxPolicy.minimal().toBuilder().network(NetworkPolicy.unrestricted()).build();
  }

  @Override
  protected String workspaceInside(Sandbox sandbox) {
    return sandbox.workspace().orElseThrow().toString();
  }

  @Override
  protected List<Path> hostResources(Sandbox sandbox) {
    return List.of(Path.of("/dev/shm", "kavach-" + sandbox.id()));
  }
}
