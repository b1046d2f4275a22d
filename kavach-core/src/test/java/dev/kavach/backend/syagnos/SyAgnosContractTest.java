package dev.kavach.backend.syagnos;

import dev.kavach.Sandbox;
import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.testing.BackendContract;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The backend contract on podman with a locally built sy-agnos image. */
class SyAgnosContractTest extends BackendContract {
  private static final TestImages IMAGES = TestImages.create();
  private static String image = "localhost/kavach-test-missing:1";

  @RegisterExtension final ContainerLeftovers leftovers = IMAGES.leftovers();

  @BeforeAll
  static void buildImage() {
    image = IMAGES.build("dmverity", "tier=dmverity\n").orElse(image);
  }

  @AfterAll
  static void removeStore() throws Exception {
    IMAGES.close();
  }

  @Override
  protected BackendProvider provider() {
    return new SyAgnosBackendProvider(image, IMAGES.podmanArgs());
  }

  @Override
  protected List<Path> hostResources(Sandbox sandbox) {
    return leftovers.track(sandbox.id());
  }
}
