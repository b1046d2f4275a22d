package dev.kavach.backend.oci;

import dev.kavach.internal.container.OciRuntimeDriver.Kind;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code oci-runc} backend: the {@code oci} backend on runc only. See {@link
 * OciBackendProvider}.
 */
public final class OciRuncBackendProvider extends OciBackendProvider {

  /** The provider for {@link java.util.ServiceLoader}: the host's system directories as root. */
  public OciRuncBackendProvider() {
    super("oci-runc", List.of(Kind.RUNC), null);
  }

  /** A provider whose containers use {@code rootfs} as their root filesystem. */
  public OciRuncBackendProvider(Path rootfs) {
    super("oci-runc", List.of(Kind.RUNC), rootfs);
  }
}
