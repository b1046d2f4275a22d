package dev.kavach.backend.syagnos;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Capability;
import dev.kavach.internal.container.ContainerBackend;
import dev.kavach.internal.container.ContainerPlan;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The {@code sy-agnos} backend: each sandbox is one container of a hardened sy-agnos image, run by
 * podman (or a reachable docker daemon) with a read-only root, no capabilities, no_new_privs, no
 * network when isolated, memory, CPU and pids limits and a name per container.
 *
 * <p>The base score is the image's tier ({@link SyAgnosTier}: minimal 80, dmverity 85, tpm_measured
 * 88), read from the image's {@code /etc/sy-agnos-release} without running anything of the image,
 * and checked again inside every started container; the image is used by its id, so the container
 * runs exactly the image that was scored. {@code baseScore()} is per provider instance, and a
 * provider is configured with one image. kavach never pulls: the image must be in the engine's
 * local store (no registry is assumed reachable, and a pulled mutable tag is what the Rust crate
 * got wrong).
 *
 * <pre>{@code
 * BackendProvider p = new SyAgnosBackendProvider("localhost/sy-agnos:1", List.of());
 * Sandbox s = Sandbox.create(SandboxConfig.builder().backend("sy-agnos").build(), Backends.of(List.of(p)));
 * }</pre>
 */
public final class SyAgnosBackendProvider implements BackendProvider {
  /** The Rust crate's default image (a mutable tag; it must be present locally to be used). */
  public static final String DEFAULT_IMAGE = "ghcr.io/maccracken/sy-agnos:latest";

  /** The environment variable naming the image for the {@link java.util.ServiceLoader} provider. */
  public static final String IMAGE_VARIABLE = "KAVACH_SYAGNOS_IMAGE";

  private static final int MAX_RELEASE_BYTES = 4096;

  private final String image;
  private final List<String> podmanArgs;
  private volatile @Nullable Inspected inspected;

  /**
   * The provider for {@link java.util.ServiceLoader}: the image named by {@value #IMAGE_VARIABLE}.
   */
  public SyAgnosBackendProvider() {
    String fromEnv = System.getenv(IMAGE_VARIABLE);
    this.image = fromEnv == null || fromEnv.isBlank() ? DEFAULT_IMAGE : fromEnv.trim();
    this.podmanArgs = List.of();
  }

  /**
   * A provider for one image.
   *
   * @param image the image's name or id in the engine's local store
   * @param podmanArgs global podman arguments, for example {@code --root}, {@code --runroot} and
   *     {@code --tmpdir} of a private store (ignored for docker)
   */
  public SyAgnosBackendProvider(String image, List<String> podmanArgs) {
    this.image = Objects.requireNonNull(image, "image");
    this.podmanArgs = List.copyOf(podmanArgs);
  }

  @Override
  public String name() {
    return "sy-agnos";
  }

  @Override
  public List<String> aliases() {
    return List.of("syagnos");
  }

  @Override
  public String description() {
    return "one container of a hardened sy-agnos image per sandbox (podman or docker)";
  }

  /** The tier of the configured image: 80, 85 or 88; 80 when the image cannot be inspected. */
  @Override
  public int baseScore() {
    return inspect().map(i -> i.tier().baseScore()).orElse(SyAgnosTier.MINIMAL.baseScore());
  }

  /** The tier of the configured image, when it can be inspected. */
  public Optional<SyAgnosTier> tier() {
    return inspect().map(Inspected::tier);
  }

  @Override
  public Availability probe() {
    List<String> why = new ArrayList<>();
    Optional<ContainerEngine> engine = ContainerEngine.find(HostProbe.system(), podmanArgs, why);
    if (engine.isEmpty()) {
      return Availability.unavailable(String.join("; ", why));
    }
    Optional<Inspected> i = inspect(engine.get(), why);
    if (i.isEmpty()) {
      return Availability.unavailable(String.join("; ", why));
    }
    return Availability.available(
        engine.get().name()
            + " "
            + engine.get().tool().version()
            + ", image "
            + image
            + " ("
            + i.get().id()
            + "), tier "
            + i.get().tier().id());
  }

  @Override
  public Set<Capability> capabilities() {
    return ContainerBackend.capabilities();
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    List<String> why = new ArrayList<>();
    ContainerEngine engine =
        ContainerEngine.find(HostProbe.system(), podmanArgs, why)
            .orElseThrow(() -> unavailable(why));
    Inspected i = inspect(engine, why).orElseThrow(() -> unavailable(why));
    // The image is the root: no host directories and so no host secrets to mask.
    ContainerPlan.Host host = ContainerPlan.Host.read();
    ContainerPlan plan =
        ContainerPlan.of(
            sandboxId,
            config.policy(),
            new ContainerPlan.Host(host.nofileHard(), List.of(), List.of()),
            null,
            true,
            ContainerPlan.secretFiles(config));
    List<String> notes = new ArrayList<>();
    notes.add(
        "engine "
            + engine.name()
            + " "
            + engine.tool().version()
            + (engine.ociRuntime() == null ? "" : " with runtime " + engine.ociRuntime()));
    notes.add(
        "image "
            + image
            + " ("
            + i.id()
            + ") declares sy-agnos tier "
            + i.tier().id()
            + " in /etc/sy-agnos-release (base "
            + i.tier().baseScore()
            + "); the tier is the image's declaration, not verified by kavach");
    for (String m : Backends.missingCapabilities(this, config.policy())) {
      notes.add("not enforced (best effort): " + m);
    }
    EngineDriver driver = new EngineDriver(engine, plan, i.id(), i.tier(), notes);
    return new ContainerBackend(name(), plan, driver, config.policy().bestEffort());
  }

  private KavachException unavailable(List<String> why) {
    return new KavachException(
        Reason.BACKEND_UNAVAILABLE, "sy-agnos is not available: " + String.join("; ", why));
  }

  /** The image's id and tier. */
  private record Inspected(String id, SyAgnosTier tier) {}

  private Optional<Inspected> inspect() {
    Inspected i = inspected;
    if (i != null) {
      return Optional.of(i);
    }
    List<String> why = new ArrayList<>();
    return ContainerEngine.find(HostProbe.system(), podmanArgs, why).flatMap(e -> inspect(e, why));
  }

  /**
   * Finds the image in the engine's local store and reads its tier. With podman the image is
   * mounted and the file read from it, so nothing of the image runs; a release file that is a
   * symbolic link (or under one) is ignored, since following it would read the host's files. docker
   * cannot mount images, so docker images count as minimal until started.
   */
  private Optional<Inspected> inspect(ContainerEngine engine, List<String> why) {
    Inspected cached = inspected;
    if (cached != null) {
      return Optional.of(cached);
    }
    Exec.Result id = engine.run("image", "inspect", "--format", "{{.Id}}", image);
    if (id.exitValue() != 0 || id.stdoutText().isBlank()) {
      why.add(
          "image "
              + image
              + " is not in "
              + engine.name()
              + "'s local store (kavach never pulls: load or import it first)");
      return Optional.empty();
    }
    String imageId = id.stdoutText().trim().lines().findFirst().orElse("");
    SyAgnosTier tier = SyAgnosTier.MINIMAL;
    if (engine.podman()) {
      Exec.Result mount = engine.run("image", "mount", imageId);
      if (mount.exitValue() != 0) {
        why.add("podman image mount " + imageId + " failed: " + mount.stderrText().trim());
        return Optional.empty();
      }
      try {
        tier = readTier(Path.of(mount.stdoutText().trim()));
      } finally {
        engine.run("image", "unmount", imageId);
      }
    }
    Inspected i = new Inspected(imageId, tier);
    inspected = i;
    return Optional.of(i);
  }

  /** The tier in {@code root/etc/sy-agnos-release}, never following a symbolic link. */
  static SyAgnosTier readTier(Path root) {
    Path etc = root.resolve("etc");
    Path file = etc.resolve("sy-agnos-release");
    if (!Files.isDirectory(etc, LinkOption.NOFOLLOW_LINKS)
        || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return SyAgnosTier.MINIMAL;
    }
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      byte[] b = in.readNBytes(MAX_RELEASE_BYTES);
      return SyAgnosTier.parseRelease(new String(b, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return SyAgnosTier.MINIMAL;
    }
  }
}
