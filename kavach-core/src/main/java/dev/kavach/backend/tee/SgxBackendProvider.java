package dev.kavach.backend.tee;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.internal.guest.GuestHost;
import java.util.EnumSet;
import java.util.Set;

/**
 * The {@code sgx} backend: each command runs in an Intel SGX enclave under Gramine. Per exec it
 * renders a manifest (argv, environment names, the program and libraries as hashed trusted files,
 * enclave size from the memory limit, the workspace mount), renders it with {@code
 * gramine-manifest}, signs it with {@code gramine-sgx-sign} and runs {@code gramine-sgx}, in a
 * network namespace of its own when the policy isolates the network.
 *
 * <pre>{@code
 * Sandbox s = Sandbox.create(SandboxConfig.builder().backend("sgx").build());
 * }</pre>
 */
public final class SgxBackendProvider implements BackendProvider {
  private final GuestHost host;

  /** A provider probing this host (for {@link java.util.ServiceLoader}). */
  public SgxBackendProvider() {
    this(GuestHost.system());
  }

  SgxBackendProvider(GuestHost host) {
    this.host = host;
  }

  @Override
  public String name() {
    return "sgx";
  }

  @Override
  public String description() {
    return "Intel SGX enclave through Gramine: signed manifest, hashed trusted files";
  }

  @Override
  public int baseScore() {
    return 80;
  }

  @Override
  public Availability probe() {
    return SgxProbe.probe(host);
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(
        Capability.RUNS_COMMANDS,
        Capability.NETWORK_ISOLATION,
        Capability.MEMORY_LIMIT,
        Capability.SECRET_ENV,
        Capability.SECRET_STDIN);
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    Availability a = probe();
    if (!a.available()) {
      throw new KavachException(Reason.BACKEND_UNAVAILABLE, "sgx: " + a.reason());
    }
    return new SgxBackend(sandboxId, config, host);
  }
}
