package dev.kavach.backend.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kavach.KavachException;
import dev.kavach.internal.container.ContainerLayout;
import dev.kavach.internal.container.ContainerPlan;
import dev.kavach.internal.container.ContainerSeccomp;
import dev.kavach.policy.FilesystemRule;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class OciBundleTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static ContainerPlan plan(boolean isolated, @Nullable ContainerSeccomp seccomp) {
    return new ContainerPlan(
        "kv-0123456789ab",
        "kavach-kv-0123456789ab",
        2113929216,
        2113929216,
        "kavach",
        isolated,
        true,
        64L << 20,
        0.5,
        64,
        1024,
        0,
        64L << 20,
        List.of(
            FilesystemRule.readOnly(Path.of("/opt/data")),
            FilesystemRule.readWrite(Path.of("/srv/out"))),
        null,
        List.of("/usr", "/bin", "/lib", "/lib64", "/sbin", "/etc"),
        List.of("/etc/shadow", "/etc/gshadow", "/etc/ssh/ssh_host_ed25519_key"),
        List.of("/etc/sudoers.d"),
        List.of("/run/secrets"),
        seccomp);
  }

  static ContainerLayout layout() {
    return new ContainerLayout(Path.of("/dev/shm/kavach-kv-0123456789ab"), Path.of("/tmp/ws"));
  }

  @Test
  void configMatchesTheGoldenFile() throws Exception {
    String golden;
    try (InputStream in = OciBundleTest.class.getResourceAsStream("config-golden.json")) {
      golden = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(new OciBundle().config(plan(true, null), layout())).isEqualTo(golden);
  }

  @Test
  void processHasNoCapabilitiesNoNewPrivsAndTheSandboxUid() throws Exception {
    JsonNode p = JSON.readTree(new OciBundle().process(plan(true, null), List.of("a"), List.of()));
    assertThat(p.path("user").path("uid").asInt()).isEqualTo(2113929216);
    assertThat(p.path("noNewPrivileges").asBoolean()).isTrue();
    for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
      assertThat(p.path("capabilities").path(set).isArray()).as(set).isTrue();
      assertThat(p.path("capabilities").path(set)).as(set).isEmpty();
    }
    assertThat(p.path("cwd").asText()).isEqualTo("/workspace");
    assertThat(p.path("rlimits").toString())
        .contains("\"type\":\"RLIMIT_CORE\",\"hard\":0,\"soft\":0");
  }

  @Test
  void theNetworkNamespaceComesOnlyWithIsolation() throws Exception {
    assertThat(namespaces(new OciBundle().config(plan(true, null), layout())))
        .containsExactly("pid", "mount", "ipc", "uts", "cgroup", "network");
    assertThat(namespaces(new OciBundle().config(plan(false, null), layout())))
        .containsExactly("pid", "mount", "ipc", "uts", "cgroup");
  }

  @Test
  void rootlessMapsTheSandboxIdsToTheCallerInAUserNamespace() throws Exception {
    JsonNode c = JSON.readTree(OciBundle.rootless(1000, 1001).config(plan(true, null), layout()));
    assertThat(namespaces(c.toString())).contains("user");
    assertThat(c.path("linux").path("uidMappings").toString())
        .isEqualTo("[{\"containerID\":2113929216,\"hostID\":1000,\"size\":1}]");
    assertThat(c.path("linux").path("gidMappings").toString())
        .isEqualTo("[{\"containerID\":2113929216,\"hostID\":1001,\"size\":1}]");
  }

  @Test
  void secretsAreMaskedAfterTheSystemDirectoriesAreBound() throws Exception {
    List<String> dests = destinations(new OciBundle().config(plan(true, null), layout()));
    assertThat(dests.indexOf("/etc/shadow")).isGreaterThan(dests.indexOf("/etc"));
    assertThat(dests.indexOf("/etc/sudoers.d")).isGreaterThan(dests.indexOf("/etc"));
    JsonNode c = JSON.readTree(new OciBundle().config(plan(true, null), layout()));
    for (JsonNode m : c.path("mounts")) {
      if (m.path("destination").asText().equals("/etc/shadow")) {
        assertThat(m.path("source").asText()).isEqualTo("/dev/null");
        assertThat(m.path("options").toString()).contains("\"ro\"", "\"nodev\"");
      }
      if (List.of("/usr", "/etc", "/bin").contains(m.path("destination").asText())) {
        assertThat(m.path("options").toString()).contains("\"ro\"", "\"nosuid\"");
      }
    }
  }

  @Test
  void aRootfsReplacesTheSystemDirectories() throws Exception {
    ContainerPlan p = plan(true, null);
    ContainerPlan withRoot =
        new ContainerPlan(
            p.sandboxId(),
            p.containerId(),
            p.uid(),
            p.gid(),
            p.hostname(),
            true,
            true,
            0,
            0,
            0,
            1024,
            0,
            p.tmpSizeBytes(),
            List.of(),
            Path.of("/images/alpine"),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            null);
    JsonNode c = JSON.readTree(new OciBundle().config(withRoot, layout()));
    assertThat(c.path("root").path("path").asText()).isEqualTo("/images/alpine");
    assertThat(destinations(c.toString())).doesNotContain("/usr", "/etc");
    assertThat(c.path("linux").path("resources").has("memory")).isFalse();
  }

  @Test
  void theSeccompProfileIsEmbeddedAsGiven() throws Exception {
    String profile =
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
            + "\"syscalls\":[{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
    JsonNode c =
        JSON.readTree(
            new OciBundle()
                .config(plan(true, new ContainerSeccomp("basic", profile, new byte[8])), layout()));
    assertThat(c.path("linux").path("seccomp")).isEqualTo(JSON.readTree(profile));
  }

  @Test
  void aSeccompProfileThatIsNotAnObjectIsRefused() {
    assertThatThrownBy(
            () ->
                new OciBundle()
                    .config(plan(true, new ContainerSeccomp("x", "[1]", new byte[8])), layout()))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("seccomp profile x is not an OCI linux.seccomp object");
  }

  private static List<String> namespaces(String config) throws Exception {
    List<String> out = new ArrayList<>();
    JSON.readTree(config)
        .path("linux")
        .path("namespaces")
        .forEach(n -> out.add(n.path("type").asText()));
    return out;
  }

  private static List<String> destinations(String config) throws Exception {
    List<String> out = new ArrayList<>();
    JSON.readTree(config).path("mounts").forEach(n -> out.add(n.path("destination").asText()));
    return out;
  }
}
