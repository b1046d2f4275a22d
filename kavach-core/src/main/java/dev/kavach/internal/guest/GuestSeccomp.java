package dev.kavach.internal.guest;

import dev.kavach.backend.process.seccomp.Arch;
import dev.kavach.backend.process.seccomp.BpfProgram;
import dev.kavach.backend.process.seccomp.SeccompCompiler;
import dev.kavach.backend.process.seccomp.SeccompProfile;
import dev.kavach.policy.SandboxPolicy;
import java.util.Optional;

/**
 * The policy's seccomp profile compiled for a guest. The profiles and their compiler belong to the
 * process backend's seccomp package; the guest backends use them deliberately (as the OCI backend
 * exports them), so that one profile means the same filter on every backend. A KVM guest has the
 * host's architecture, so the filter is compiled for {@link Arch#host()}; the agent installs it in
 * the command's process right before execve.
 */
public final class GuestSeccomp {
  private GuestSeccomp() {}

  /**
   * The compiled filter, or empty when the policy asks for none.
   *
   * @throws dev.kavach.KavachException if the profile cannot be resolved or compiled
   */
  public static Optional<BpfProgram> compile(SandboxPolicy policy) {
    String profile = policy.seccompProfile();
    if (!policy.seccompEnabled() || profile == null) {
      return Optional.empty();
    }
    return Optional.of(
        SeccompCompiler.compile(
            SeccompProfile.resolve(profile), Arch.host(), !policy.network().enabled()));
  }
}
