package dev.kavach.backend;

import dev.kavach.SandboxConfig;
import java.util.List;
import java.util.Set;

/**
 * A kind of isolation, found with {@link java.util.ServiceLoader}. Providers are cheap to create;
 * probing the host happens in {@link #probe()}.
 *
 * <p>To add a backend, implement this interface and list the class in {@code
 * META-INF/services/dev.kavach.backend.BackendProvider} (and {@code provides} in module-info).
 */
public interface BackendProvider {

  /** The name users select it by, lower case ({@code process}, {@code oci}, ...). */
  String name();

  /** Other accepted names (for example {@code firecracker} for {@code microvm}). */
  default List<String> aliases() {
    return List.of();
  }

  /** One line describing the isolation boundary. */
  String description();

  /** The base strength score before modifiers (process 50, oci 55, wasm 65, gvisor 70, ...). */
  int baseScore();

  /**
   * Controls a policy may request that have nothing to act on in this kind of isolation, so they
   * hold by construction: a WebAssembly module makes no system calls at all, so a seccomp filter
   * would have nothing to filter. Selection treats them as met; scoring never counts them, because
   * nothing was applied; the backend says why in its enforcement notes. Empty by default.
   */
  default Set<Capability> inapplicable() {
    return Set.of();
  }

  /** Checks this host for what the backend needs; never throws. */
  Availability probe();

  /** What the backend can enforce. */
  Set<Capability> capabilities();

  /**
   * Prepares a backend for one sandbox. Validates the configuration against what this backend
   * supports; allocates nothing on the host (that happens in {@link Backend#start}).
   *
   * @param sandboxId the sandbox's id, for naming host resources
   * @throws dev.kavach.KavachException if the configuration cannot be honoured
   */
  Backend open(String sandboxId, SandboxConfig config);
}
