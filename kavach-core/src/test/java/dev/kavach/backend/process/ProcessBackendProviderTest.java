package dev.kavach.backend.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Capability;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the provider refuses at open, and what it advertises. */
class ProcessBackendProviderTest {
  private static ProcessBackendProvider provider;

  @BeforeAll
  static void probe() {
    provider = new ProcessBackendProvider();
    assumeTrue(provider.probe().available(), provider.probe().reason());
  }

  private static KavachException openFails(SandboxPolicy policy) {
    return (KavachException)
        org.assertj.core.api.Assertions.catchThrowable(
            () -> provider.open("kv-test", SandboxConfig.builder().policy(policy).build()));
  }

  @Test
  void theWholeHostCannotBeBound() {
    KavachException e =
        openFails(
            SandboxPolicy.minimal().toBuilder()
                .filesystemRule(FilesystemRule.readOnly(Path.of("/")))
                .build());
    assertThat(e.reason()).isEqualTo(Reason.POLICY_INVALID);
    assertThat(e).hasMessageContaining("landlock_rules[0].path (/) would expose the whole host");
  }

  @Test
  void aMissingPolicyPathIsAnErrorNotASkippedRule() {
    KavachException e =
        openFails(
            SandboxPolicy.minimal().toBuilder()
                .filesystemRule(FilesystemRule.readWrite(Path.of("/no/such/kavach/dir")))
                .build());
    assertThat(e.reason()).isEqualTo(Reason.POLICY_INVALID);
    assertThat(e)
        .hasMessageContaining("landlock_rules[0].path (/no/such/kavach/dir) does not exist");
  }

  @Test
  void anUnknownSeccompProfileFileIsRefused() {
    assertThatThrownBy(() -> SandboxPolicy.minimal().toBuilder().seccompProfile("/no/such.json"))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("seccomp_profile");
  }

  @Test
  void advertisesWhatThisHostSupports() {
    HostSupport s = provider.hostSupport();
    assertThat(provider.capabilities())
        .contains(
            Capability.RUNS_COMMANDS,
            Capability.NETWORK_ISOLATION,
            Capability.READ_ONLY_ROOT,
            Capability.FILESYSTEM_RULES,
            Capability.SECRET_ENV,
            Capability.SECRET_FILE,
            Capability.SECRET_STDIN);
    assertThat(provider.capabilities().contains(Capability.SECCOMP)).isEqualTo(s.seccomp());
    assertThat(provider.capabilities().contains(Capability.NETWORK_PORT_RULES))
        .isEqualTo(s.landlockAbi() >= 4);
    assertThat(provider.baseScore()).isEqualTo(50);
    assertThat(provider.name()).isEqualTo("process");
  }

  @Test
  void probeOutputParses() {
    HostSupport s =
        HostSupport.parse(
            "launcher=1\narch=x86_64\nkernel=6.1\neuid=1000\nlandlock_abi=0\n"
                + "landlock_reason=Landlock is disabled at boot\nnamespaces=1\nseccomp=1\n");
    assertThat(s.usable()).isTrue();
    assertThat(s.landlock()).isFalse();
    assertThat(s.describe()).contains("Landlock unavailable (Landlock is disabled at boot)");
    assertThat(HostSupport.parse("garbage").usable()).isFalse();
  }
}
