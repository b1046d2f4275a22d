package dev.kavach.scanning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.scanning.ExternalizationGate.Decision;
import dev.kavach.scanning.ExternalizationGate.Origin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExternalizationGateTest {
  @TempDir Path dir;

  private static final Origin ORIGIN =
      new Origin("kv-000000000001", "agent-1", "kv-000000000001-1");

  private static Map<String, byte[]> output(String stdout, String stderr) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    m.put("stdout", stdout.getBytes(StandardCharsets.UTF_8));
    m.put("stderr", stderr.getBytes(StandardCharsets.UTF_8));
    return m;
  }

  private Decision review(ExternalizationPolicy policy, String stdout, String stderr) {
    ExternalizationGate gate = new ExternalizationGate(policy, QuarantineStore.at(dir));
    try (SecretsScanner scanner = SecretsScanner.create()) {
      return gate.review(output(stdout, stderr), scanner, ORIGIN);
    }
  }

  private static String text(Decision d, String part) {
    return new String(d.released().get(part), StandardCharsets.UTF_8);
  }

  @Test
  void cleanOutputPassesUnchanged() {
    Decision d = review(ExternalizationPolicy.defaults(), "hello world\nstatus: ok\n", "");
    assertThat(d.report().verdict()).isEqualTo(Verdict.PASS);
    assertThat(d.report().findings()).isEmpty();
    assertThat(d.report().worst()).isEqualTo(Severity.INFO);
    assertThat(text(d, "stdout")).isEqualTo("hello world\nstatus: ok\n");
  }

  @Test
  void lowAndMediumFindingsWarnAndAreRedacted() {
    Decision d =
        review(
            ExternalizationPolicy.defaults(),
            "contact bob@example.com\n",
            "api_key='abcdefghij0123456789'\n");
    assertThat(d.report().verdict()).isEqualTo(Verdict.WARN);
    assertThat(d.report().worst()).isEqualTo(Severity.MEDIUM);
    assertThat(d.report().findings())
        .extracting(Finding::stream, Finding::category)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("stdout", "pii"),
            org.assertj.core.groups.Tuple.tuple("stderr", "api_key"));
    assertThat(text(d, "stdout")).isEqualTo("contact [REDACTED:pii]\n");
    assertThat(text(d, "stderr")).isEqualTo("[REDACTED:api_key]\n");
  }

  @Test
  void warnWithoutRedactionReturnsTheOutputAsIs() {
    ExternalizationPolicy noRedact =
        new ExternalizationPolicy(true, 1 << 20, Severity.CRITICAL, Severity.HIGH, false);
    Decision d = review(noRedact, "contact bob@example.com\n", "");
    assertThat(d.report().verdict()).isEqualTo(Verdict.WARN);
    assertThat(text(d, "stdout")).isEqualTo("contact bob@example.com\n");
  }

  @Test
  void highFindingsAreQuarantinedAndStored() {
    Decision d =
        review(
            ExternalizationPolicy.defaults(),
            "ok\n",
            "Authorization: Bearer abcdefghijklmnopqrstuv\n");
    assertThat(d.report().verdict()).isEqualTo(Verdict.QUARANTINE);
    assertThat(d.report().quarantineId()).matches("[0-9a-f]{32}");
    assertThat(d.released().get("stdout")).isEmpty();
    assertThat(d.released().get("stderr")).isEmpty();
    QuarantineStore.Released r = QuarantineStore.at(dir).approve(d.report().quarantineId());
    assertThat(new String(r.parts().get("stderr"), StandardCharsets.UTF_8))
        .isEqualTo("Authorization: Bearer abcdefghijklmnopqrstuv\n");
    assertThat(r.entry().execId()).isEqualTo(ORIGIN.execId());
  }

  @Test
  void criticalFindingsBlockAndNothingIsStoredOrReturned() {
    Decision d = review(ExternalizationPolicy.defaults(), "AKIAIOSFODNN7EXAMPLE\n", "x@y.io");
    assertThat(d.report().verdict()).isEqualTo(Verdict.BLOCK);
    assertThat(d.report().quarantineId()).isNull();
    assertThat(d.report().findings()).hasSize(2);
    assertThat(d.released().values()).allSatisfy(b -> assertThat(b).isEmpty());
    assertThat(QuarantineStore.at(dir).list()).isEmpty();
  }

  @Test
  void oversizedOutputIsBlockedWithoutScanning() {
    ExternalizationPolicy small =
        new ExternalizationPolicy(true, 10, Severity.CRITICAL, Severity.HIGH, true);
    Decision d = review(small, "0123456789", "x");
    assertThat(d.report().verdict()).isEqualTo(Verdict.BLOCK);
    assertThat(d.report().findings())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.category()).isEqualTo("size_limit");
              assertThat(f.message()).isEqualTo("output size 11 exceeds limit 10");
            });
    assertThat(d.released().get("stdout")).isEmpty();
  }

  @Test
  void verdictTableFollowsTheThresholds() {
    ExternalizationGate strictGate =
        new ExternalizationGate(
            new ExternalizationPolicy(true, 100, Severity.MEDIUM, Severity.LOW, true),
            QuarantineStore.at(dir));
    assertThat(strictGate.verdictFor(Severity.INFO)).isEqualTo(Verdict.PASS);
    assertThat(strictGate.verdictFor(Severity.LOW)).isEqualTo(Verdict.QUARANTINE);
    assertThat(strictGate.verdictFor(Severity.MEDIUM)).isEqualTo(Verdict.BLOCK);
    assertThat(strictGate.verdictFor(Severity.CRITICAL)).isEqualTo(Verdict.BLOCK);
    ExternalizationGate defaults =
        new ExternalizationGate(ExternalizationPolicy.defaults(), QuarantineStore.at(dir));
    assertThat(defaults.verdictFor(Severity.INFO)).isEqualTo(Verdict.PASS);
    assertThat(defaults.verdictFor(Severity.LOW)).isEqualTo(Verdict.WARN);
    assertThat(defaults.verdictFor(Severity.MEDIUM)).isEqualTo(Verdict.WARN);
    assertThat(defaults.verdictFor(Severity.HIGH)).isEqualTo(Verdict.QUARANTINE);
    assertThat(defaults.verdictFor(Severity.CRITICAL)).isEqualTo(Verdict.BLOCK);
  }

  @Test
  void aDisabledPolicyPassesEverythingUnscanned() {
    Decision d = review(ExternalizationPolicy.disabled(), "AKIAIOSFODNN7EXAMPLE", "");
    assertThat(d.report().verdict()).isEqualTo(Verdict.PASS);
    assertThat(d.report().findings()).isEmpty();
    assertThat(text(d, "stdout")).isEqualTo("AKIAIOSFODNN7EXAMPLE");
  }

  @Test
  void anInjectedSecretEchoedBackIsBlocked() {
    ExternalizationGate gate =
        new ExternalizationGate(ExternalizationPolicy.defaults(), QuarantineStore.at(dir));
    byte[] secret = "tok-7f3a9c1e55b2".getBytes(StandardCharsets.UTF_8);
    try (SecretsScanner s = SecretsScanner.builder().secret("api_token", secret).build()) {
      Decision d = gate.review(output("the token is dG9rLTdmM2E5YzFlNTViMg==\n", ""), s, ORIGIN);
      assertThat(d.report().verdict()).isEqualTo(Verdict.BLOCK);
      assertThat(d.report().findings())
          .singleElement()
          .satisfies(f -> assertThat(f.message()).contains("api_token", "base64"));
    }
  }
}
