package dev.kavach.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SandboxPolicyTest {

  @Test
  void presetsHaveTheRustValues() {
    SandboxPolicy minimal = SandboxPolicy.minimal();
    assertThat(minimal.seccompEnabled()).isFalse();
    assertThat(minimal.seccompProfile()).isNull();
    assertThat(minimal.network().isolated()).isTrue();
    assertThat(minimal.readOnlyRootfs()).isFalse();
    assertThat(minimal.hasResourceLimits()).isFalse();

    SandboxPolicy basic = SandboxPolicy.basic();
    assertThat(basic.seccompEnabled()).isTrue();
    assertThat(basic.seccompProfile()).isEqualTo("basic");
    assertThat(basic.network().isolated()).isTrue();
    assertThat(basic.readOnlyRootfs()).isFalse();

    SandboxPolicy strict = SandboxPolicy.strict();
    assertThat(strict.seccompProfile()).isEqualTo("strict");
    assertThat(strict.readOnlyRootfs()).isTrue();
    assertThat(strict.memoryLimitMb()).isEqualTo(512);
    assertThat(strict.cpuLimit()).isEqualTo(1.0);
    assertThat(strict.maxPids()).isEqualTo(64);
    assertThat(strict.bestEffort()).isFalse();
  }

  @Test
  void presetNamesAreCaseInsensitiveAndUnknownNamesFail() {
    assertThat(SandboxPolicy.preset("STRICT")).isEqualTo(SandboxPolicy.strict());
    assertThatThrownBy(() -> SandboxPolicy.preset("nosuch"))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("\"nosuch\"")
        .hasMessageContaining("minimal, basic, strict");
  }

  @Test
  void jsonRoundTripsEveryField() {
    SandboxPolicy p =
        SandboxPolicy.strict().toBuilder()
            .filesystemRule(FilesystemRule.readOnly(Path.of("/opt/data")))
            .filesystemRule(FilesystemRule.readWrite(Path.of("/var/tmp/out")))
            .network(
                new NetworkPolicy(
                    true,
                    java.util.List.of("api.example.com:443", "*.pypi.org"),
                    java.util.List.of(443),
                    java.util.List.of("evil.example.com")))
            .dataDir(Path.of("/srv/data"))
            .bestEffort(true)
            .cpuLimit(0.25)
            .build();
    String json = p.toJson();
    assertThat(SandboxPolicy.parse(json)).isEqualTo(p);
    assertThat(json)
        .contains("\"landlock_rules\"", "\"read_only_rootfs\" : true", "\"access\" : \"rw\"");
    for (String preset : SandboxPolicy.PRESETS) {
      SandboxPolicy q = SandboxPolicy.preset(preset);
      assertThat(SandboxPolicy.parse(q.toJson())).isEqualTo(q);
    }
  }

  @Test
  void rustSerdeOutputParses() {
    // The Rust crate's serde form of strict(), with nulls and without best_effort.
    String rust =
        "{\"seccomp_enabled\":true,\"seccomp_profile\":\"strict\",\"landlock_rules\":[],"
            + "\"network\":{\"enabled\":false,\"allowed_hosts\":[],\"allowed_ports\":[]},"
            + "\"read_only_rootfs\":true,\"memory_limit_mb\":512,\"cpu_limit\":1.0,"
            + "\"max_pids\":64,\"data_dir\":null}";
    assertThat(SandboxPolicy.parse(rust)).isEqualTo(SandboxPolicy.strict());
  }

  @Test
  void aFileSizeLimitRoundTrips() {
    SandboxPolicy p = SandboxPolicy.parse("{\"max_file_size_mb\": 100}");
    assertThat(p.maxFileSizeMb()).isEqualTo(100);
    assertThat(SandboxPolicy.parse(p.toJson())).isEqualTo(p);
    assertThat(p.toBuilder().noResourceLimits().build().maxFileSizeMb()).isNull();
  }

  @Test
  void enabledSeccompWithoutProfileMeansBasic() {
    assertThat(SandboxPolicy.parse("{\"seccomp_enabled\": true}").seccompProfile())
        .isEqualTo("basic");
  }

  @ParameterizedTest(name = "[{index}] {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"memory_limit_mb\": -1}|$.memory_limit_mb (-1) must be positive",
        "{\"memory_limit_mb\": 0}|$.memory_limit_mb (0) must be positive",
        "{\"memory_limit_mb\": 1.5}|$.memory_limit_mb: expected a whole number of MiB, got 1.5",
        "{\"memory_limit_mb\": \"512\"}|$.memory_limit_mb: expected a whole number of MiB, got the string \"512\"",
        "{\"cpu_limit\": 0}|$.cpu_limit (0.0) must be a positive number of cores",
        "{\"cpu_limit\": -0.5}|$.cpu_limit (-0.5) must be a positive number of cores",
        "{\"max_pids\": 0}|$.max_pids (0) must be at least 1",
        "{\"max_pids\": 99999999999}|$.max_pids: expected a whole number, got 99999999999",
        "{\"max_file_size_mb\": 0}|$.max_file_size_mb (0) must be between 1 and 1073741824",
        "{\"max_file_size_mb\": 2.5}|$.max_file_size_mb: expected a whole number of MiB, got 2.5",
        "{\"seccomp_enabled\": \"yes\"}|$.seccomp_enabled: expected true or false, got the string \"yes\"",
        "{\"seccomp_enabled\": true, \"seccomp_profile\": \"desktop\"}|$.seccomp_profile (\"desktop\") is not a known profile",
        "{\"seccomp_profile\": \"basic\"}|$.seccomp_profile: set to \"basic\" but $.seccomp_enabled is not true",
        "{\"network\": {\"enabled\": true, \"allowed_ports\": [80, 70000]}}|$.network.allowed_ports[1] (70000) must be between 1 and 65535",
        "{\"network\": {\"enabled\": true, \"allowed_ports\": [0]}}|$.network.allowed_ports[0] (0) must be between 1 and 65535",
        "{\"network\": {\"enabled\": true, \"allowed_ports\": [\"80\"]}}|$.network.allowed_ports[0]: expected a port number",
        "{\"network\": {\"allowed_ports\": [80]}}|need enabled: true",
        "{\"network\": {\"enabled\": true, \"allowed_hosts\": [\"http://x.com\"]}}|$.network.allowed_hosts[0]",
        "{\"network\": {\"enabled\": true, \"allowed_hosts\": [\"Example.com\"]}}|lower-case host name",
        "{\"network\": {\"enable\": true}}|$.network.enable: unknown field",
        "{\"network\": true}|$.network: expected an object, got true",
        "{\"landlock_rules\": [{\"path\": \"relative/dir\", \"access\": \"ro\"}]}|$.landlock_rules[0].path (relative/dir) must be absolute",
        "{\"landlock_rules\": [{\"path\": \"/a/../b\", \"access\": \"ro\"}]}|$.landlock_rules[0].path (/a/../b) must be normalized",
        "{\"landlock_rules\": [{\"path\": \"/tmp\", \"access\": \"rwx\"}]}|$.landlock_rules[0].access must be \"ro\" or \"rw\", not \"rwx\"",
        "{\"landlock_rules\": [{\"path\": \"/tmp\"}]}|$.landlock_rules[0].access: required",
        "{\"landlock_rules\": [{\"path\": \"/tmp\", \"access\": \"ro\", \"mode\": 1}]}|$.landlock_rules[0].mode: unknown field",
        "{\"landlock_rules\": [{\"path\": \"/tmp\", \"access\": \"ro\"}, {\"path\": \"/tmp\", \"access\": \"rw\"}]}|landlock_rules[1].path (/tmp) appears twice",
        "{\"landlock_rules\": {}}|$.landlock_rules: expected an array, got an object",
        "{\"data_dir\": \"data\"}|$.data_dir (data) must be an absolute, normalized path",
        "{\"read_only_rootfs\": 1}|$.read_only_rootfs: expected true or false, got 1",
        "{\"memory_limit\": 5}|$.memory_limit: unknown field (known: best_effort, cpu_limit",
        "{\"max_pids\": 5, \"max_pids\": 6}|Duplicate field 'max_pids'",
        "[]|$: expected a JSON object, got an array",
        "{|not valid JSON",
        "''|empty policy",
      })
  void invalidInputNamesTheField(String json, String message) {
    assertThatThrownBy(() -> SandboxPolicy.parse(json.equals("''") ? "" : json))
        .isInstanceOf(KavachException.class)
        .hasMessageStartingWith("invalid policy: ")
        .hasMessageContaining(message)
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(Reason.POLICY_INVALID);
  }

  @Test
  void aProfileFileMustExist(@TempDir Path dir) throws Exception {
    Path profile = dir.resolve("p.json");
    assertThatThrownBy(
            () ->
                SandboxPolicy.parse(
                    "{\"seccomp_enabled\":true,\"seccomp_profile\":\"" + profile + "\"}"))
        .hasMessageContaining("is not a readable profile file");
    Files.writeString(profile, "{}");
    assertThat(
            SandboxPolicy.parse(
                    "{\"seccomp_enabled\":true,\"seccomp_profile\":\"" + profile + "\"}")
                .seccompProfile())
        .isEqualTo(profile.toString());
  }

  @Test
  void loadNamesTheFileAndItsProblem(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> SandboxPolicy.load(dir.resolve("missing.json")))
        .hasMessageContaining("missing.json")
        .hasMessageContaining("no such file");
    Path bad = dir.resolve("bad.json");
    Files.write(bad, new byte[] {'{', '"', (byte) 0xff, '"', ':', '1', '}'});
    assertThatThrownBy(() -> SandboxPolicy.load(bad)).hasMessageContaining("not valid UTF-8");
    Path huge = dir.resolve("huge.json");
    Files.write(huge, new byte[SandboxPolicy.MAX_POLICY_BYTES + 10]);
    assertThatThrownBy(() -> SandboxPolicy.load(huge)).hasMessageContaining("larger than");
    Path neg = dir.resolve("neg.json");
    Files.writeString(neg, "{\"memory_limit_mb\": -1}");
    assertThatThrownBy(() -> SandboxPolicy.load(neg))
        .hasMessageContaining("neg.json")
        .hasMessageContaining("memory_limit_mb");
    assertThatThrownBy(() -> SandboxPolicy.load(dir))
        .hasMessageContaining("cannot read policy file");
  }

  @Test
  void builderRejectsBadValuesNamingTheField() {
    assertThatThrownBy(() -> SandboxPolicy.builder().memoryLimitMb(-1))
        .hasMessageContaining("memory_limit_mb");
    assertThatThrownBy(() -> SandboxPolicy.builder().cpuLimit(Double.NaN))
        .hasMessageContaining("cpu_limit");
    assertThatThrownBy(() -> SandboxPolicy.builder().cpuLimit(Double.POSITIVE_INFINITY))
        .hasMessageContaining("cpu_limit");
    assertThatThrownBy(() -> SandboxPolicy.builder().seccompProfile("typo"))
        .hasMessageContaining("seccomp_profile");
  }

  @Test
  void seccompOffClearsTheProfile() {
    SandboxPolicy p = SandboxPolicy.strict().toBuilder().seccompEnabled(false).build();
    assertThat(p.seccompProfile()).isNull();
    assertThat(SandboxPolicy.parse(p.toJson())).isEqualTo(p);
  }

  @Test
  void networkHelpers() {
    assertThat(NetworkPolicy.ports(443).allowedPorts()).containsExactly(443);
    assertThat(NetworkPolicy.unrestricted().isolated()).isFalse();
    assertThat(
            new NetworkPolicy(
                    true,
                    java.util.List.of("10.0.0.1:8080"),
                    java.util.List.of(),
                    java.util.List.of())
                .allowedHosts())
        .containsExactly("10.0.0.1:8080");
    assertThatThrownBy(
            () ->
                new NetworkPolicy(
                    true, java.util.List.of("x.com:0"), java.util.List.of(), java.util.List.of()))
        .hasMessageContaining("port outside");
  }
}
