package dev.kavach.backend.process;

import dev.kavach.policy.SandboxPolicy;

/**
 * The backend contract on the process backend under the {@code basic} preset (seccomp denylist).
 */
class ProcessBasicContractTest extends ProcessContractTest {
  @Override
  protected SandboxPolicy policy() {
    return SandboxPolicy.basic();
  }
}
