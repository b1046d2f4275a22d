package dev.kavach.backend.syagnos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.ExecResult;
import dev.kavach.KavachException;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backends;
import dev.kavach.internal.container.ContainerPlan;
import dev.kavach.internal.container.InsideFacts;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.internal.host.Tool;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scoring.Scoring;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The image's tier raises the base score, read from images built here: a {@code tier=} line, a JSON
 * {@code tier} field, and no release file at all.
 */
@Timeout(180)
class SyAgnosScoringTest {
  private static final TestImages IMAGES = TestImages.create();
  private static Optional<String> dmverity = Optional.empty();
  private static Optional<String> tpm = Optional.empty();
  private static Optional<String> none = Optional.empty();

  @BeforeAll
  static void build() {
    dmverity = IMAGES.build("tier-line", "NAME=sy-agnos\ntier=dmverity\n");
    tpm = IMAGES.build("tier-json", "{\"name\":\"sy-agnos\",\"tier\":\"tpm_measured\"}\n");
    none = IMAGES.build("no-release", null);
    if (dmverity.isEmpty() && "true".equals(System.getenv("CI"))) {
      fail("podman and busybox must be installed in CI");
    }
    assumeTrue(dmverity.isPresent(), "podman or busybox missing");
  }

  @AfterAll
  static void clean() throws Exception {
    IMAGES.close();
  }

  private static SyAgnosBackendProvider provider(String image) {
    return new SyAgnosBackendProvider(image, IMAGES.podmanArgs());
  }

  @Test
  void theTierOfTheImageIsTheBase() {
    assertThat(provider(dmverity.orElseThrow()).baseScore()).isEqualTo(85);
    assertThat(provider(tpm.orElseThrow()).baseScore()).isEqualTo(88);
    assertThat(provider(none.orElseThrow()).baseScore()).isEqualTo(80);
    assertThat(provider("localhost/kavach-test-absent:1").baseScore()).isEqualTo(80);
    assertThat(provider("localhost/kavach-test-absent:1").probe().reason())
        .contains("not in podman's local store (kavach never pulls");
  }

  @Test
  void theEnforcedScoreStartsFromTheTierAndSaysWhy() {
    SyAgnosBackendProvider p = provider(tpm.orElseThrow());
    SandboxConfig config =
        SandboxConfig.builder().backend(p.name()).policy(SandboxPolicy.minimal()).build();
    try (Sandbox s = Sandbox.create(config, Backends.of(List.of(p)))) {
      s.start();
      ExecResult r = s.exec(List.of("cat", "/etc/sy-agnos-release"));
      assertThat(r.stdoutText()).contains("tpm_measured");
      // minimal: only network isolation counts (+5); no read-only root, no limits.
      assertThat(r.score().value()).isEqualTo(88 + Scoring.NETWORK_ISOLATED);
      assertThat(r.score()).isEqualTo(Scoring.score(p, r.enforcement()));
      assertThat(r.enforcement().notes())
          .anyMatch(
              n -> n.contains("declares sy-agnos tier tpm_measured") && n.contains("base 88"));
    }
  }

  @Test
  void aContainerWhoseTierDiffersFromTheScoredOneIsRefused() {
    ContainerEngine engine =
        new ContainerEngine(
            "podman", new Tool("podman", Path.of("/usr/bin/podman"), "test"), List.of(), null);
    ContainerPlan plan =
        ContainerPlan.of(
            "kv-1",
            SandboxPolicy.minimal(),
            new ContainerPlan.Host(1024, List.of(), List.of()),
            null,
            true);
    EngineDriver d =
        new EngineDriver(engine, plan, "sha256:x", SyAgnosTier.TPM_MEASURED, List.of());
    assertThatThrownBy(() -> d.verify(InsideFacts.parse("release 746965723d646d7665726974790a\n")))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining(
            "declares tier dmverity but image sha256:x was scored as tpm_measured");
    d.verify(
        InsideFacts.parse(
            "release "
                + java.util.HexFormat.of()
                    .formatHex(
                        "tier=tpm_measured\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
  }

  @Test
  void dockerWithoutADaemonIsUnavailableAndSaysWhy() {
    HostProbe host = HostProbe.system();
    assumeTrue(host.tool("docker").isPresent(), "no docker client here");
    List<String> why = new java.util.ArrayList<>();
    Optional<ContainerEngine> docker = ContainerEngine.findDocker(host, why);
    assumeTrue(docker.isEmpty(), "a docker daemon answers on this host");
    assertThat(String.join("; ", why))
        .contains("docker client found, but its daemon is unreachable");
  }
}
