package dev.kavach.internal.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ContainerPlanTest {
  private static final ContainerPlan.Host HOST =
      new ContainerPlan.Host(
          20000,
          List.of("/usr", "/etc"),
          List.of("/etc/shadow", "/etc/ssh/ssh_host_rsa_key", "/etc/sudoers.d/"));

  @Test
  void translatesThePolicy() {
    ContainerPlan p = ContainerPlan.of("kv-1", SandboxPolicy.strict(), HOST, null, true);
    assertThat(p.containerId()).isEqualTo("kavach-kv-1");
    assertThat(p.networkIsolated()).isTrue();
    assertThat(p.readOnlyRoot()).isTrue();
    assertThat(p.memoryLimitBytes()).isEqualTo(512L << 20);
    assertThat(p.cpuQuotaUs()).isEqualTo(100_000);
    assertThat(p.pidsLimit()).isEqualTo(64);
    assertThat(p.nofile()).isEqualTo(1024);
    assertThat(p.maskedFiles()).containsExactly("/etc/shadow", "/etc/ssh/ssh_host_rsa_key");
    assertThat(p.maskedDirs()).containsExactly("/etc/sudoers.d");
  }

  @Test
  void theSeccompProfileIsTheSharedExport() {
    ContainerPlan p = ContainerPlan.of("kv-1", SandboxPolicy.basic(), HOST, null, true);
    assertThat(p.seccomp()).isNotNull();
    assertThat(p.seccomp().profile()).isEqualTo("basic");
    assertThat(p.seccomp().linuxSeccomp()).contains("\"unshare\"").contains("SCMP_ACT_ERRNO");
    assertThat(ContainerPlan.of("kv-1", SandboxPolicy.minimal(), HOST, null, true).seccomp())
        .isNull();
    // A runtime without seccomp support gets no profile (only a best-effort policy reaches it).
    assertThat(ContainerPlan.of("kv-1", SandboxPolicy.basic(), HOST, null, false).seccomp())
        .isNull();
  }

  @Test
  void eachSandboxGetsItsOwnUnprivilegedUid() {
    ContainerPlan a = ContainerPlan.of("kv-1", SandboxPolicy.minimal(), HOST, null, true);
    ContainerPlan b = ContainerPlan.of("kv-2", SandboxPolicy.minimal(), HOST, null, true);
    assertThat(a.uid())
        .isGreaterThanOrEqualTo(ContainerPlan.SANDBOX_UID_BASE)
        .isNotEqualTo(b.uid());
    assertThat(a.gid()).isEqualTo(a.uid());
  }

  @Test
  void nofileStaysWithinTheHostHardLimit() {
    ContainerPlan.Host low = new ContainerPlan.Host(512, List.of(), List.of());
    assertThat(ContainerPlan.of("kv-1", SandboxPolicy.minimal(), low, null, true).nofile())
        .isEqualTo(512);
  }

  @Test
  void aRootfsTakesNoHostDirectoriesAndNoMasks() {
    ContainerPlan p =
        ContainerPlan.of("kv-1", SandboxPolicy.minimal(), HOST, Path.of("/img"), true);
    assertThat(p.systemDirs()).isEmpty();
    assertThat(p.maskedFiles()).isEmpty();
    assertThat(p.rootfs()).isEqualTo(Path.of("/img"));
  }

  @Test
  void aRuleOnAMissingPathIsRefusedNotSkipped() {
    SandboxPolicy p =
        SandboxPolicy.builder()
            .filesystemRule(FilesystemRule.readOnly(Path.of("/no/such/kavach/path")))
            .build();
    assertThatThrownBy(() -> ContainerPlan.of("kv-1", p, HOST, null, true))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("/no/such/kavach/path does not exist");
  }

  @Test
  void secretFilesGetAPrivateTmpfsAtTheirDirectoryParentsFirst() {
    ContainerPlan p =
        ContainerPlan.of(
            "kv-1",
            SandboxPolicy.minimal(),
            HOST,
            null,
            true,
            List.of("/run/secrets/sub/b", "/run/secrets/a", "/run/secrets/c", "/tmp/d"));
    // /tmp is the container's own tmpfs already.
    assertThat(p.secretDirs()).containsExactly("/run/secrets", "/run/secrets/sub");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/token",
        "/etc/token",
        "/etc/ssl/token",
        "/usr/local/token",
        "/workspace/token",
        "/workspace/a/token",
        "/proc/token",
        "/dev/shm/token",
        "/.kavach/run/token",
        "/srv/rule/token",
        "/srv/token"
      })
  void aSecretFileThatWouldNotBeOnMemoryIsRefusedAtPlanTime(String path) {
    // /srv is a filesystem rule: a bind of the host's disk, where a secret must never be written.
    SandboxPolicy policy =
        SandboxPolicy.builder().filesystemRule(FilesystemRule.readOnly(Path.of("/srv"))).build();
    assertThatThrownBy(
            () ->
                ContainerPlan.secretDirs(
                    List.of(path), List.of("/usr", "/etc"), policy.filesystemRules()))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("secret file " + path)
        .satisfies(
            e -> assertThat(((KavachException) e).reason()).isEqualTo(Reason.POLICY_INVALID));
  }

  @Test
  void aTmpfsThatWouldHideABindIsRefused() {
    assertThatThrownBy(
            () ->
                ContainerPlan.secretDirs(
                    List.of("/srv/token"),
                    List.of(),
                    List.of(FilesystemRule.readOnly(Path.of("/srv/data")))))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("would hide /srv/data");
  }

  @Test
  void rootIsNeverAPlanUid() {
    assertThatThrownBy(
            () ->
                new ContainerPlan(
                    "kv",
                    "kavach-kv",
                    0,
                    0,
                    "h",
                    true,
                    true,
                    0,
                    0,
                    0,
                    1,
                    0,
                    1,
                    List.of(),
                    null,
                    List.of(),
                    List.of(),
                    List.of(),
                    List.of(),
                    null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
