package dev.kavach.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.backend.noop.NoopBackendProvider;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.testing.FakeBackendProvider;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendsTest {
  private final FakeBackendProvider process = FakeBackendProvider.full("process", 50);
  private final FakeBackendProvider gvisor =
      FakeBackendProvider.full("gvisor", 70).unavailable("runsc not found on PATH");
  private final FakeBackendProvider microvm =
      FakeBackendProvider.full("microvm", 90).unavailable("no hardware virtualization");
  private final NoopBackendProvider noop = new NoopBackendProvider();

  private Backends all() {
    return Backends.of(List.of(microvm, noop, gvisor, process));
  }

  @Test
  void discoversTheNoopBackendThroughServiceLoader() {
    assertThat(Backends.discover().find("noop")).isPresent();
  }

  @Test
  void providersAreListedWeakestFirst() {
    assertThat(all().names()).containsExactly("noop", "process", "gvisor", "microvm");
  }

  @Test
  void findIsCaseInsensitiveAndKnowsAliases() {
    FakeBackendProvider aliased = FakeBackendProvider.full("microvm", 90).aliases("firecracker");
    Backends b = Backends.of(List.of(aliased));
    assertThat(b.find("FIRECRACKER")).contains(aliased);
    assertThat(b.find("MicroVM")).contains(aliased);
  }

  @Test
  void selectingAnUnknownBackendListsTheKnownOnes() {
    assertThatThrownBy(() -> all().select("nosuch", SandboxPolicy.basic()))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("unknown backend \"nosuch\"")
        .hasMessageContaining("noop, process, gvisor, microvm, auto");
  }

  @Test
  void selectingAnUnavailableBackendGivesItsReason() {
    assertThatThrownBy(() -> all().select("gvisor", SandboxPolicy.basic()))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessage("backend gvisor is not available: runsc not found on PATH");
  }

  @Test
  void selectingABackendThatCannotEnforceThePolicyFailsClosed() {
    FakeBackendProvider weak =
        new FakeBackendProvider(
            "weak", 50, EnumSet.of(Capability.RUNS_COMMANDS, Capability.SECCOMP));
    Backends b = Backends.of(List.of(weak));
    assertThatThrownBy(() -> b.select("weak", SandboxPolicy.strict()))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("backend weak cannot enforce")
        .hasMessageContaining("network isolation (network.enabled: false)")
        .hasMessageContaining("a memory limit (memory_limit_mb)")
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(Reason.ENFORCEMENT_FAILED);
    SandboxPolicy bestEffort = SandboxPolicy.strict().toBuilder().bestEffort(true).build();
    assertThat(b.select("weak", bestEffort)).isSameAs(weak);
  }

  @Test
  void anInapplicableControlIsMetButNeverScored() {
    BackendProvider noSyscalls =
        new BackendProvider() {
          @Override
          public String name() {
            return "nosyscalls";
          }

          @Override
          public String description() {
            return "test: a kind of isolation with no system calls";
          }

          @Override
          public int baseScore() {
            return 65;
          }

          @Override
          public Availability probe() {
            return Availability.available("test");
          }

          @Override
          public java.util.Set<Capability> capabilities() {
            return EnumSet.of(Capability.RUNS_COMMANDS, Capability.NETWORK_ISOLATION);
          }

          @Override
          public java.util.Set<Capability> inapplicable() {
            return EnumSet.of(Capability.SECCOMP);
          }

          @Override
          public Backend open(String sandboxId, dev.kavach.SandboxConfig config) {
            throw new UnsupportedOperationException();
          }
        };
    Backends b = Backends.of(List.of(noSyscalls));
    assertThat(Backends.missingCapabilities(noSyscalls, SandboxPolicy.basic())).isEmpty();
    assertThat(b.select("nosyscalls", SandboxPolicy.basic())).isSameAs(noSyscalls);
    // Declared score: base 65 + network 5, and nothing for the seccomp that was never applied.
    assertThat(dev.kavach.scoring.Scoring.declared(noSyscalls, SandboxPolicy.basic()).value())
        .isEqualTo(70);
    // Only the inapplicable control is waived: a memory limit is still missing.
    assertThat(Backends.missingCapabilities(noSyscalls, SandboxPolicy.strict()))
        .contains("a memory limit (memory_limit_mb)")
        .noneMatch(m -> m.startsWith("seccomp"));
  }

  @Test
  void bestPicksTheStrongestAvailableAndNeverNoop() {
    assertThat(all().best(SandboxPolicy.basic(), 0)).isSameAs(process);
    assertThat(all().select("auto", SandboxPolicy.basic())).isSameAs(process);
  }

  @Test
  void bestExplainsEverySkippedBackend() {
    assertThatThrownBy(() -> all().best(SandboxPolicy.basic(), 70))
        .isInstanceOf(BackendUnavailableException.class)
        .satisfies(
            e ->
                assertThat(((BackendUnavailableException) e).attempts())
                    .containsExactly(
                        "microvm: no hardware virtualization",
                        "gvisor: runsc not found on PATH",
                        "process: would score 60 < 70",
                        "noop: runs nothing"));
  }

  @Test
  void noopNeedsNoCapabilities() {
    assertThat(Backends.missingCapabilities(noop, SandboxPolicy.strict())).isEmpty();
  }

  @Test
  void aFileSizeLimitNeedsABackendThatEnforcesIt() {
    SandboxPolicy p = SandboxPolicy.minimal().toBuilder().maxFileSizeMb(8).build();
    assertThat(Backends.required(p)).contains(Capability.FILE_SIZE_LIMIT);
    FakeBackendProvider without =
        new FakeBackendProvider(
            "nofsize", 60, EnumSet.of(Capability.RUNS_COMMANDS, Capability.NETWORK_ISOLATION));
    assertThat(Backends.missingCapabilities(without, p))
        .containsExactly("a file size limit (max_file_size_mb)");
  }

  @Test
  void requiredCapabilitiesFollowThePolicy() {
    assertThat(Backends.required(SandboxPolicy.strict()))
        .containsExactlyInAnyOrder(
            Capability.RUNS_COMMANDS,
            Capability.SECCOMP,
            Capability.NETWORK_ISOLATION,
            Capability.READ_ONLY_ROOT,
            Capability.MEMORY_LIMIT,
            Capability.CPU_LIMIT,
            Capability.PIDS_LIMIT);
  }
}
