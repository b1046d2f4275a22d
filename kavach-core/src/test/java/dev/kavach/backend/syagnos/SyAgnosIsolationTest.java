package dev.kavach.backend.syagnos;

import dev.kavach.backend.BackendProvider;
import dev.kavach.internal.container.ContainerIsolationContract;
import dev.kavach.internal.container.ContainerLeftovers;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Attacks on the sy-agnos backend's claims, in a busybox image run by podman. */
class SyAgnosIsolationTest extends ContainerIsolationContract {
  private static final TestImages IMAGES = TestImages.create();
  private static String image = "localhost/kavach-test-missing:1";

  @RegisterExtension final ContainerLeftovers leftovers = IMAGES.leftovers();

  @BeforeAll
  static void buildImage() {
    image = IMAGES.build("minimal", null).orElse(image);
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
  protected ContainerLeftovers leftovers() {
    return leftovers;
  }

  /** The image has busybox, not python (and busybox-static's wget crashes without NSS). */
  @Override
  protected List<String> connectCommand() {
    return List.of("nc", "-w", "5", "1.1.1.1", "80");
  }

  /** The image has no /etc/shadow at all: the host's is not there to read. */
  @Override
  protected String maskedReadError() {
    return "No such file or directory";
  }
}
