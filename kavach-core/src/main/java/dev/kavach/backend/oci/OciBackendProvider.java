package dev.kavach.backend.oci;

import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.internal.container.OciRuntimeDriver.Kind;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The {@code oci} backend: each sandbox is one crun or runc container, crun first (it starts
 * faster), runc when crun cannot run here. {@code oci-crun} and {@code oci-runc} ({@link
 * OciCrunBackendProvider}, {@link OciRuncBackendProvider}) name one runtime explicitly.
 *
 * <p>The container's root is an empty directory with the host's system directories bound read-only
 * (or a root filesystem directory given to {@link #OciBackendProvider(Path)}); see {@link
 * OciBundle} for everything it gets. Commands run as an unprivileged uid with no capabilities and
 * no_new_privs, which a probe inside the container confirms at start.
 *
 * <pre>{@code
 * SandboxConfig config = SandboxConfig.builder().backend("oci").policy(SandboxPolicy.minimal()).build();
 * }</pre>
 */
public sealed class OciBackendProvider implements BackendProvider
    permits OciCrunBackendProvider, OciRuncBackendProvider {
  /** The base score of the oci backends (the Rust crate's table). */
  public static final int BASE_SCORE = 55;

  private final String name;
  private final List<Kind> kinds;
  private final @Nullable Path rootfs;

  /** The provider for {@link java.util.ServiceLoader}: the host's system directories as root. */
  public OciBackendProvider() {
    this("oci", List.of(Kind.CRUN, Kind.RUNC), null);
  }

  /** A provider whose containers use {@code rootfs} as their root filesystem. */
  public OciBackendProvider(Path rootfs) {
    this("oci", List.of(Kind.CRUN, Kind.RUNC), rootfs);
  }

  OciBackendProvider(String name, List<Kind> kinds, @Nullable Path rootfs) {
    this.name = name;
    this.kinds = List.copyOf(kinds);
    this.rootfs = rootfs == null ? null : rootfs.toAbsolutePath().normalize();
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final String description() {
    String runtimes = kinds.size() == 1 ? kinds.get(0).command() : "crun (or runc)";
    return "one " + runtimes + " container per sandbox: namespaces, cgroups, no capabilities";
  }

  @Override
  public final int baseScore() {
    return BASE_SCORE;
  }

  @Override
  public final Availability probe() {
    return OciRuntimes.probe(kinds);
  }

  @Override
  public final Set<Capability> capabilities() {
    return OciRuntimes.capabilities();
  }

  @Override
  public final Backend open(String sandboxId, SandboxConfig config) {
    Objects.requireNonNull(sandboxId, "sandboxId");
    return OciRuntimes.open(this, kinds, sandboxId, config, rootfs);
  }
}
