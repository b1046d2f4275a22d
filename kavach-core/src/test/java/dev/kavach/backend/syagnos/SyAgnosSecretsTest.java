package dev.kavach.backend.syagnos;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.testing.SecretsEndToEnd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The secrets suite on podman with a locally built busybox image. */
class SyAgnosSecretsTest extends SecretsEndToEnd {
  private static final TestImages IMAGES = TestImages.create();
  private static String image = "localhost/kavach-test-missing:1";

  @RegisterExtension final ContainerLeftovers leftovers = IMAGES.leftovers();

  @BeforeAll
  static void buildImage() {
    image = IMAGES.build("minimal", "tier=minimal\n").orElse(image);
  }

  @AfterAll
  static void removeStore() throws Exception {
    IMAGES.close();
  }

  @Override
  protected BackendProvider provider() {
    return new SyAgnosBackendProvider(image, IMAGES.podmanArgs());
  }
}
