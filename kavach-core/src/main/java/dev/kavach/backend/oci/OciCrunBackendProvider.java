package dev.kavach.backend.oci;

import dev.kavach.internal.container.OciRuntimeDriver.Kind;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code oci-crun} backend: the {@code oci} backend on crun only. See {@link
 * OciBackendProvider}.
 */
public final class OciCrunBackendProvider extends OciBackendProvider {

  /** The provider for {@link java.util.ServiceLoader}: the host's system directories as root. */
  public OciCrunBackendProvider() {
    super("oci-crun", List.of(Kind.CRUN), null);
  }

  /** A provider whose containers use {@code rootfs} as their root filesystem. */
  public OciCrunBackendProvider(Path rootfs) {
    super("oci-crun", List.of(Kind.CRUN), rootfs);
  }
}
