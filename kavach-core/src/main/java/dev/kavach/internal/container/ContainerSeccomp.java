package dev.kavach.internal.container;

import dev.kavach.backend.process.seccomp.Arch;
import dev.kavach.backend.process.seccomp.OciSeccomp;
import dev.kavach.backend.process.seccomp.SeccompCompiler;
import dev.kavach.backend.process.seccomp.SeccompProfile;
import dev.kavach.policy.SandboxPolicy;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A seccomp profile in the two forms containers take it: the OCI {@code linux.seccomp} object for
 * the runtime, and the compiled BPF for the agent to install itself where the runtime does not
 * apply the OCI object to exec'd processes (runsc).
 *
 * @param profile the profile's name as the policy gave it ({@code basic}, {@code strict}, a path)
 * @param linuxSeccomp the {@code linux.seccomp} object of an OCI runtime spec, as JSON
 * @param bpf the same profile compiled to {@code struct sock_filter[]} for this host's architecture
 */
// A byte array rather than an immutable copy: it is written to a file per exec and never changed.
@SuppressWarnings("ArrayRecordComponent")
public record ContainerSeccomp(String profile, String linuxSeccomp, byte[] bpf) {

  /** Validates the fields are present. */
  public ContainerSeccomp {
    Objects.requireNonNull(profile, "profile");
    Objects.requireNonNull(linuxSeccomp, "linuxSeccomp");
    Objects.requireNonNull(bpf, "bpf");
  }

  /**
   * The policy's profile exported for OCI runtimes, or null when the policy asks for none. The
   * profiles are the process backend's ({@code dev.kavach.backend.process.seccomp}), compiled from
   * the same data as its BPF: one source of truth for seccomp on every backend.
   *
   * @param networkIsolated whether the container has no network, which lets the profile refuse
   *     socket families a loopback-only sandbox has no use for
   * @throws dev.kavach.KavachException with {@code POLICY_INVALID} for an unknown profile or a user
   *     profile that cannot be exported
   */
  public static @Nullable ContainerSeccomp of(SandboxPolicy policy, boolean networkIsolated) {
    String name = policy.seccompProfile();
    if (!policy.seccompEnabled() || name == null) {
      return null;
    }
    SeccompProfile profile = SeccompProfile.resolve(name);
    Arch arch = Arch.host();
    return new ContainerSeccomp(
        name,
        OciSeccomp.toJson(profile, arch, networkIsolated),
        SeccompCompiler.compile(profile, arch, networkIsolated).bytes());
  }
}
