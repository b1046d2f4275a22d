package dev.kavach.backend.process;

import dev.kavach.policy.SandboxPolicy;

/**
 * The backend contract on the process backend under the {@code strict} preset: seccomp allowlist,
 * read-only root, 512 MB, one core, 64 processes.
 */
class ProcessStrictContractTest extends ProcessContractTest {
  @Override
  protected SandboxPolicy policy() {
    return SandboxPolicy.strict();
  }
}
