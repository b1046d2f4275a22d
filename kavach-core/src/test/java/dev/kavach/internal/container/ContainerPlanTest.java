package dev.kavach.internal.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

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
                    1,
                    List.of(),
                    null,
                    List.of(),
                    List.of(),
                    List.of(),
                    null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
