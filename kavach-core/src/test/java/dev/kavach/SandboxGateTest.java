package dev.kavach;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException.Reason;
import dev.kavach.audit.AuditEvent;
import dev.kavach.audit.AuditSink;
import dev.kavach.audit.MemoryAuditSink;
import dev.kavach.backend.Backends;
import dev.kavach.credential.CredentialProxy;
import dev.kavach.credential.SecretRef;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scanning.ExternalizationPolicy;
import dev.kavach.scanning.QuarantineStore;
import dev.kavach.scanning.ScanReport;
import dev.kavach.scanning.Severity;
import dev.kavach.scanning.Verdict;
import dev.kavach.testing.FakeBackendProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The externalization gate as wired into {@link Sandbox#exec} and {@link Sandbox#copyOut}. */
class SandboxGateTest {
  private static final String AWS_KEY = "AKIAIOSFODNN7EXAMPLE";

  @TempDir Path tmp;
  private final FakeBackendProvider fake = FakeBackendProvider.full("fake", 50);
  private final MemoryAuditSink audit = AuditSink.inMemory();
  private Sandbox sandbox;

  private Sandbox start(SandboxConfig.Builder b) {
    sandbox =
        Sandbox.create(
            b.backend("fake")
                .auditSink(audit)
                .quarantine(QuarantineStore.at(tmp.resolve("q")))
                .build(),
            Backends.of(List.of(fake)));
    sandbox.start();
    return sandbox;
  }

  private Sandbox gated() {
    return start(SandboxConfig.builder().externalization(ExternalizationPolicy.defaults()));
  }

  private void answer(String stdout) {
    fake.answer(spec -> FakeBackendProvider.outcome(0, stdout));
  }

  @AfterEach
  void close() {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  @Test
  void theGateIsOnByDefaultForTheStrictPresetAndWhatDerivesFromIt() {
    assertThat(SandboxConfig.builder().policy(SandboxPolicy.strict()).build().externalization())
        .isEqualTo(ExternalizationPolicy.defaults());
    SandboxPolicy derived = SandboxPolicy.strict().toBuilder().memoryLimitMb(2048).build();
    assertThat(SandboxConfig.builder().policy(derived).build().externalization())
        .isEqualTo(ExternalizationPolicy.defaults());
    assertThat(SandboxConfig.builder().policy(SandboxPolicy.basic()).build().externalization())
        .isNull();
    assertThat(SandboxConfig.builder().policy(SandboxPolicy.minimal()).build().externalization())
        .isNull();
    SandboxConfig off =
        SandboxConfig.builder()
            .policy(SandboxPolicy.strict())
            .externalization(ExternalizationPolicy.disabled())
            .build();
    assertThat(off.externalization()).isEqualTo(ExternalizationPolicy.disabled());
    // toBuilder keeps what was set, not what was derived: switching to basic drops the gate.
    assertThat(
            SandboxConfig.builder().policy(SandboxPolicy.strict()).build().toBuilder()
                .policy(SandboxPolicy.basic())
                .build()
                .externalization())
        .isNull();
  }

  @Test
  void withoutAGateOutputIsReturnedAsItCameAndScanIsEmpty() {
    answer(AWS_KEY);
    ExecResult r = start(SandboxConfig.builder()).exec(List.of("true"));
    assertThat(r.stdoutText()).isEqualTo(AWS_KEY);
    assertThat(r.scan()).isEmpty();
    assertThat(audit.types()).doesNotContain("gate.decision");
  }

  @Test
  void cleanOutputPassesWithAnEmptyReport() {
    answer("all good\n");
    ExecResult r = gated().exec(List.of("true"));
    assertThat(r.stdoutText()).isEqualTo("all good\n");
    assertThat(r.scan()).hasValueSatisfying(s -> assertThat(s.verdict()).isEqualTo(Verdict.PASS));
  }

  @Test
  void aCriticalFindingBlocksTheOutputAndTheDecisionIsAudited() {
    answer("key " + AWS_KEY + "\n");
    ExecResult r = gated().exec(List.of("true"));
    assertThat(r.stdout()).isEmpty();
    assertThat(r.exitCode()).isZero();
    ScanReport s = r.scan().orElseThrow();
    assertThat(s.verdict()).isEqualTo(Verdict.BLOCK);
    assertThat(s.worst()).isEqualTo(Severity.CRITICAL);
    assertThat(s.findings())
        .singleElement()
        .satisfies(f -> assertThat(f.stream()).isEqualTo("stdout"));
    assertThat(audit.types()).containsSubsequence("exec.start", "exec.end", "gate.decision");
    AuditEvent gate = audit.events().get(audit.types().indexOf("gate.decision"));
    assertThat(gate.details())
        .containsEntry("verdict", "block")
        .containsEntry("worst", "critical")
        .containsEntry("findings", 1)
        .containsEntry("categories", Map.of("cloud_credential", 1));
    assertThat(audit.events().toString()).doesNotContain(AWS_KEY, "AKIA****");
  }

  @Test
  void aHighFindingIsQuarantinedAndCanBeApproved() {
    String out = "Authorization: Bearer abcdefghijklmnopqrstuvwxyz\n";
    answer(out);
    ExecResult r = gated().exec(List.of("true"));
    ScanReport s = r.scan().orElseThrow();
    assertThat(s.verdict()).isEqualTo(Verdict.QUARANTINE);
    assertThat(r.stdout()).isEmpty();
    QuarantineStore store = QuarantineStore.at(tmp.resolve("q"));
    QuarantineStore.Entry e = store.show(s.quarantineId());
    assertThat(e.sandboxId()).isEqualTo(sandbox.id());
    assertThat(e.execId()).isEqualTo(sandbox.id() + "-1");
    assertThat(
            new String(
                store.approve(s.quarantineId()).parts().get("stdout"), StandardCharsets.UTF_8))
        .isEqualTo(out);
  }

  @Test
  void lowFindingsAreRedacted() {
    answer("mail bob@example.com now\n");
    ExecResult r = gated().exec(List.of("true"));
    assertThat(r.scan().orElseThrow().verdict()).isEqualTo(Verdict.WARN);
    assertThat(r.stdoutText()).isEqualTo("mail [REDACTED:pii] now\n");
  }

  @Test
  void everySecretTheSourceKnowsIsLookedForNotOnlyTheInjectedOnes() {
    try (CredentialProxy proxy = new CredentialProxy()) {
      proxy.register("injected", "inj-3f9a7c2e".getBytes(StandardCharsets.UTF_8));
      proxy.register("other", "oth-8b1d4e6f".getBytes(StandardCharsets.UTF_8));
      answer("x oth-8b1d4e6f y\n");
      ExecResult r =
          start(
                  SandboxConfig.builder()
                      .externalization(ExternalizationPolicy.defaults())
                      .credentials(proxy)
                      .secret(SecretRef.env("injected", "TOKEN")))
              .exec(List.of("true"));
      assertThat(r.scan().orElseThrow().verdict()).isEqualTo(Verdict.BLOCK);
      assertThat(r.scan().orElseThrow().findings())
          .singleElement()
          .satisfies(f -> assertThat(f.message()).contains("Injected secret other"));
    }
  }

  // ---- copyOut ----

  private Path workspace() {
    return sandbox.workspace().orElseThrow();
  }

  @Test
  void copyOutReturnsAFileThroughTheGate() throws Exception {
    gated();
    Files.createDirectories(workspace().resolve("out"));
    Files.writeString(workspace().resolve("out/report.txt"), "total: 3\n");
    Files.writeString(workspace().resolve("out/keys.txt"), AWS_KEY);
    Files.writeString(workspace().resolve("out/mail.txt"), "to bob@example.com");

    Artifact ok = sandbox.copyOut("out/report.txt");
    assertThat(new String(ok.content(), StandardCharsets.UTF_8)).isEqualTo("total: 3\n");
    assertThat(ok.scan().orElseThrow().verdict()).isEqualTo(Verdict.PASS);

    Artifact keys = sandbox.copyOut("./out//keys.txt");
    assertThat(keys.content()).isEmpty();
    assertThat(keys.scan().orElseThrow().verdict()).isEqualTo(Verdict.BLOCK);
    assertThat(keys.scan().orElseThrow().findings().get(0).stream()).isEqualTo("./out//keys.txt");

    Artifact mail = sandbox.copyOut("out/mail.txt");
    assertThat(new String(mail.content(), StandardCharsets.UTF_8)).isEqualTo("to [REDACTED:pii]");
    assertThat(audit.types()).containsSubsequence("copy.out", "gate.decision");
    assertThat(audit.events().toString()).doesNotContain(AWS_KEY);
  }

  @Test
  void copyOutWithoutAGateReturnsTheFileAsIs() throws Exception {
    start(SandboxConfig.builder());
    Files.writeString(workspace().resolve("k"), AWS_KEY);
    Artifact a = sandbox.copyOut("k");
    assertThat(new String(a.content(), StandardCharsets.UTF_8)).isEqualTo(AWS_KEY);
    assertThat(a.scan()).isEmpty();
  }

  @Test
  void copyOutRefusesPathsThatLeaveTheWorkspace() {
    gated();
    for (String bad : new String[] {"../etc/passwd", "/etc/passwd", "a/../../x", "", ".", "a/.."}) {
      assertThatThrownBy(() -> sandbox.copyOut(bad))
          .as(bad)
          .isInstanceOf(KavachException.class)
          .hasMessageContaining("must be relative to /workspace without ..")
          .extracting(e -> ((KavachException) e).reason())
          .isEqualTo(Reason.POLICY_INVALID);
    }
  }

  @Test
  void copyOutNeverFollowsALink() throws Exception {
    gated();
    Path host = Files.writeString(tmp.resolve("host-only.txt"), "HOST-ONLY-CONTENT");
    Files.createSymbolicLink(workspace().resolve("leak"), host);
    Files.createSymbolicLink(workspace().resolve("etc"), Path.of("/etc"));
    Files.createDirectories(workspace().resolve("inside"));
    Files.writeString(workspace().resolve("inside/file"), "fine");
    Files.createSymbolicLink(workspace().resolve("alias"), workspace().resolve("inside"));
    for (String path : new String[] {"leak", "etc/passwd", "alias/file"}) {
      assertThatThrownBy(() -> sandbox.copyOut(path))
          .as(path)
          .hasMessageContaining("is a symbolic link; copyOut never follows links")
          .hasMessageNotContaining("HOST-ONLY");
    }
    assertThat(new String(sandbox.copyOut("inside/file").content(), StandardCharsets.UTF_8))
        .isEqualTo("fine");
  }

  @Test
  void copyOutRefusesWhatIsNotARegularFile() throws Exception {
    gated();
    Files.createDirectories(workspace().resolve("dir"));
    assertThatThrownBy(() -> sandbox.copyOut("dir"))
        .hasMessageContaining("dir is not a regular file");
    assertThatThrownBy(() -> sandbox.copyOut("missing/x"))
        .hasMessageContaining("no file missing/x");
    Process mkfifo = new ProcessBuilder("mkfifo", workspace().resolve("fifo").toString()).start();
    assertThat(mkfifo.waitFor()).isZero();
    assertThatThrownBy(() -> sandbox.copyOut("fifo"))
        .hasMessageContaining("fifo is not a regular file");
  }

  @Test
  void anOversizedFileIsBlockedWithoutBeingRead() throws Exception {
    start(
        SandboxConfig.builder()
            .externalization(
                new ExternalizationPolicy(true, 16, Severity.CRITICAL, Severity.HIGH, true)));
    Files.writeString(workspace().resolve("big"), "x".repeat(17));
    Artifact a = sandbox.copyOut("big");
    assertThat(a.content()).isEmpty();
    assertThat(a.scan().orElseThrow().verdict()).isEqualTo(Verdict.BLOCK);
    assertThat(a.scan().orElseThrow().findings().get(0).message())
        .isEqualTo("output size 17 exceeds limit 16");
  }

  @Test
  void copyOutNeedsAWorkspace() {
    sandbox =
        Sandbox.create(SandboxConfig.builder().backend("fake").build(), Backends.of(List.of(fake)));
    assertThatThrownBy(() -> sandbox.copyOut("x"))
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(Reason.INVALID_STATE);
    sandbox.start();
    sandbox.stop();
    assertThatThrownBy(() -> sandbox.copyOut("x")).hasMessageContaining("no file x");
    sandbox.destroy();
    assertThatThrownBy(() -> sandbox.copyOut("x")).hasMessageContaining("no workspace");
  }
}
