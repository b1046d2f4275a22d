package dev.kavach.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.backend.Capability;
import dev.kavach.backend.Enforcement;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.testing.FakeBackendProvider;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ScoringTest {

  @ParameterizedTest(name = "{0}+{1} declares {2}")
  @CsvSource({
    // The Rust crate's computed matrix for backends that can enforce every control.
    "process,minimal,55",
    "process,basic,60",
    "process,strict,65",
    "oci,minimal,60",
    "oci,strict,70",
    "wasm,basic,75",
    "gvisor,strict,85",
    "sev,strict,97",
    "firecracker,minimal,95",
    "firecracker,strict,100"
  })
  void declaredMatchesTheRustTableWhenEverythingIsSupported(
      String backend, String preset, int score) {
    int base =
        switch (backend) {
          case "process" -> 50;
          case "oci" -> 55;
          case "wasm" -> 65;
          case "gvisor" -> 70;
          case "sev" -> 82;
          default -> 90;
        };
    assertThat(
            Scoring.declared(FakeBackendProvider.full(backend, base), SandboxPolicy.preset(preset))
                .value())
        .isEqualTo(score);
  }

  @Test
  void allModifiersGiveEighteen() {
    SandboxPolicy all =
        SandboxPolicy.strict().toBuilder()
            .filesystemRule(FilesystemRule.readOnly(Path.of("/opt")))
            .build();
    assertThat(Scoring.declared(FakeBackendProvider.full("process", 50), all).value())
        .isEqualTo(68);
  }

  @Test
  void aBackendThatRunsNothingDeclaresNothing() {
    FakeBackendProvider noop = new FakeBackendProvider("noop", 0, EnumSet.of(Capability.PAUSE));
    assertThat(Scoring.declared(noop, SandboxPolicy.strict()).value()).isZero();
  }

  @Test
  void unsupportedControlsAreNotDeclared() {
    FakeBackendProvider weak =
        new FakeBackendProvider(
            "weak", 50, EnumSet.of(Capability.RUNS_COMMANDS, Capability.SECCOMP));
    assertThat(Scoring.declared(weak, SandboxPolicy.strict()).value()).isEqualTo(55);
    assertThat(Scoring.declaredBreakdown(weak.capabilities(), SandboxPolicy.strict()))
        .filteredOn(m -> m.name().equals("network-isolated"))
        .singleElement()
        .satisfies(m -> assertThat(m.why()).isEqualTo("requested, not supported by this backend"));
  }

  @Test
  void enforcedScoreCountsOnlyWhatWasApplied() {
    assertThat(Scoring.score(50, Enforcement.none("process")).value()).isEqualTo(50);
    Enforcement all =
        Enforcement.builder("process")
            .seccompProfile("strict")
            .landlock(7, 4)
            .networkIsolated(true)
            .readOnlyRoot(true)
            .memoryLimitBytes(512L << 20)
            .build();
    assertThat(Scoring.score(50, all).value()).isEqualTo(68);
    // Landlock with an ABI but no rules restricts nothing.
    assertThat(Scoring.score(50, Enforcement.builder("p").landlock(7, 0).build()).value())
        .isEqualTo(50);
    assertThat(Scoring.score(50, Enforcement.builder("p").cpuLimit(0.5).build()).value())
        .isEqualTo(52);
    // A pids limit alone earns nothing, as in the Rust crate.
    assertThat(Scoring.score(50, Enforcement.builder("p").pidsLimit(64).build()).value())
        .isEqualTo(50);
  }

  @Test
  void scoreAgreesWithItsBreakdown() {
    for (int bits = 0; bits < 32; bits++) {
      Enforcement.Builder b = Enforcement.builder("p");
      if ((bits & 1) != 0) {
        b.seccompProfile("basic");
      }
      if ((bits & 2) != 0) {
        b.landlock(7, 3);
      }
      if ((bits & 4) != 0) {
        b.networkIsolated(true);
      }
      if ((bits & 8) != 0) {
        b.readOnlyRoot(true);
      }
      if ((bits & 16) != 0) {
        b.memoryLimitBytes(1);
      }
      Enforcement e = b.build();
      int fromBreakdown = 50;
      for (Modifier m : Scoring.breakdown(e)) {
        fromBreakdown += m.counted() ? m.points() : 0;
      }
      assertThat(Scoring.score(50, e).value()).isEqualTo(fromBreakdown);
    }
  }

  @Test
  void clampedAndLabelled() {
    assertThat(
            Scoring.score(
                    95, Enforcement.builder("x").seccompProfile("s").networkIsolated(true).build())
                .value())
        .isEqualTo(100);
    assertThat(new StrengthScore(-5).value()).isZero();
    assertThat(new StrengthScore(29).label()).isEqualTo("minimal");
    assertThat(new StrengthScore(30).label()).isEqualTo("basic");
    assertThat(new StrengthScore(49).label()).isEqualTo("basic");
    assertThat(new StrengthScore(50).label()).isEqualTo("standard");
    assertThat(new StrengthScore(69).label()).isEqualTo("standard");
    assertThat(new StrengthScore(70).label()).isEqualTo("hardened");
    assertThat(new StrengthScore(84).label()).isEqualTo("hardened");
    assertThat(new StrengthScore(85).label()).isEqualTo("fortress");
    assertThat(new StrengthScore(75)).hasToString("75 (hardened)");
  }

  @Test
  void networkEnabledEarnsNoIsolationPoints() {
    SandboxPolicy open =
        SandboxPolicy.minimal().toBuilder().network(NetworkPolicy.unrestricted()).build();
    assertThat(Scoring.declared(FakeBackendProvider.full("process", 50), open).value())
        .isEqualTo(50);
  }
}
