package dev.kavach.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kavach.backend.process.ProcessBackendProvider;
import dev.kavach.cli.MainTest.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --secret}, {@code --secret-from}, {@code --gate}, {@code --audit}, {@code audit}, {@code
 * quarantine}.
 */
@Timeout(120)
class TrustCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Surefire sets this in the test JVM's environment. */
  private static final String HOST_VALUE = "visible-only-on-the-host";

  private static final String KEY = "0123456789abcdef".repeat(4);

  @TempDir Path dir;

  private static Run run(String... args) {
    return MainTest.run(args);
  }

  private static void assumeProcessBackend() {
    assumeTrue(
        new ProcessBackendProvider().probe().available(), "process backend unavailable here");
  }

  private static String sha256(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  private Path keyFile() throws Exception {
    return Files.writeString(dir.resolve("audit.key"), KEY + "\n");
  }

  @Test
  void secretsReachTheCommandByEnvFileAndStdinWithValuesFromTheHost() throws Exception {
    assumeProcessBackend();
    Path hostFile = Files.writeString(dir.resolve("token"), "file-secret-42");
    Run r =
        run(
            "exec",
            "-p",
            "minimal",
            "--secret",
            "a=env:API",
            "--secret-from",
            "a=env:KAVACH_TEST_HOST_MARKER",
            "--secret",
            "k=file:/run/secrets/k:0440",
            "--secret-from",
            "k=file:" + hostFile,
            "--secret",
            "s=stdin",
            "--secret-from",
            "s=env:KAVACH_TEST_HOST_MARKER",
            "--",
            "sh",
            "-c",
            "printf %s \"$API\" | sha256sum; sha256sum < /run/secrets/k;"
                + " stat -c %a /run/secrets/k; sha256sum");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().lines().map(l -> l.split(" ")[0]))
        .containsExactly(sha256(HOST_VALUE), sha256("file-secret-42"), "440", sha256(HOST_VALUE));
  }

  @Test
  void anEchoedSecretIsBlockedAndTheVerdictIsInTheJson() throws Exception {
    assumeProcessBackend();
    String[] common = {
      "exec",
      "-p",
      "minimal",
      "--gate",
      "--secret",
      "a=env:API",
      "--secret-from",
      "a=env:KAVACH_TEST_HOST_MARKER"
    };
    List<String> args = new ArrayList<>(List.of(common));
    args.addAll(List.of("--json", "--", "sh", "-c", "echo \"$API\" | base64; exit 4"));
    Run r = run(args.toArray(new String[0]));
    assertThat(r.code()).isEqualTo(4);
    assertThat(r.out()).doesNotContain(HOST_VALUE);
    JsonNode n = JSON.readTree(r.out());
    assertThat(n.path("stdout").asText()).isEmpty();
    assertThat(n.path("scan").path("verdict").asText()).isEqualTo("block");
    assertThat(n.path("scan").path("findings").get(0).path("category").asText())
        .isEqualTo("injected_secret");
    List<String> text = new ArrayList<>(List.of(common));
    text.addAll(List.of("--", "sh", "-c", "echo \"$API\""));
    Run t = run(text.toArray(new String[0]));
    assertThat(t.out()).isEmpty();
    assertThat(t.err())
        .contains("kavach: output blocked by the gate: 1 finding(s), worst critical");
  }

  @Test
  void secretFlagsFailClosedNamingWhatIsWrong() throws Exception {
    Run unused =
        run("exec", "-b", "noop", "--secret-from", "x=env:KAVACH_TEST_HOST_MARKER", "--", "true");
    assertThat(unused.code()).isEqualTo(125);
    assertThat(unused.err()).contains("--secret-from x: no --secret x=... injects it");
    Run unset =
        run(
            "exec",
            "-b",
            "noop",
            "--secret",
            "x=stdin",
            "--secret-from",
            "x=env:KAVACH_SURELY_UNSET_VAR",
            "--",
            "true");
    assertThat(unset.err())
        .contains("--secret-from x: the environment variable KAVACH_SURELY_UNSET_VAR is not set");
    Run missing =
        run(
            "exec",
            "-b",
            "noop",
            "--secret",
            "x=stdin",
            "--secret-from",
            "x=file:" + dir.resolve("nope"),
            "--",
            "true");
    assertThat(missing.code()).isEqualTo(125);
    assertThat(missing.err()).contains("cannot read secret file " + dir.resolve("nope"));
    Run mode = run("exec", "-b", "noop", "--secret", "x=file:relative", "--", "true");
    assertThat(mode.err()).contains("must be absolute");
  }

  @Test
  void execAppendsToAnAuditChainThatVerifiesAndDetectsTampering() throws Exception {
    Path log = dir.resolve("audit.jsonl");
    Path key = keyFile();
    Run first =
        run(
            "exec",
            "-b",
            "noop",
            "--audit",
            log.toString(),
            "--audit-key-file",
            key.toString(),
            "--secret",
            "a=stdin",
            "--secret-from",
            "a=env:KAVACH_TEST_HOST_MARKER",
            "--",
            "true");
    assertThat(first.code()).as(first.err()).isZero();
    Matcher m = Pattern.compile("kavach: audit head (\\d+:[0-9a-f]{64})").matcher(first.err());
    assertThat(m.find()).as(first.err()).isTrue();
    String head = m.group(1);
    Run second =
        run(
            "exec",
            "-b",
            "noop",
            "--json",
            "--audit",
            log.toString(),
            "--audit-key-file",
            key.toString(),
            "--",
            "true");
    assertThat(second.code()).isZero();
    String secondHead = JSON.readTree(second.out()).path("audit_head").asText();
    assertThat(secondHead).matches("\\d+:[0-9a-f]{64}").isNotEqualTo(head);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(log)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(log)).doesNotContain(HOST_VALUE).contains("\"secrets\":[\"a\"]");

    Run ok = run("audit", "verify", log.toString(), "--key-file", key.toString(), "--head", head);
    assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out()).startsWith("intact: ");

    List<String> lines = new ArrayList<>(Files.readAllLines(log));
    int n = lines.size();
    // Truncation: intact alone, broken against the later head.
    Files.write(log, lines.subList(0, n - 2));
    assertThat(run("audit", "verify", log.toString(), "--key-file", key.toString()).code())
        .isZero();
    Run cut =
        run("audit", "verify", log.toString(), "--key-file", key.toString(), "--head", secondHead);
    assertThat(cut.code()).isEqualTo(1);
    assertThat(cut.out()).contains("lines were removed from the end");
    // Modification.
    lines.set(1, lines.get(1).replace("\"started\"", "\"stopped\""));
    Files.write(log, lines);
    Run bad = run("audit", "verify", log.toString(), "--key-file", key.toString(), "--json");
    assertThat(bad.code()).isEqualTo(1);
    JsonNode v = JSON.readTree(bad.out());
    assertThat(v.path("intact").asBoolean()).isFalse();
    assertThat(v.path("broken_line").asInt()).isEqualTo(2);
    // A broken chain is never extended.
    Run refused =
        run(
            "exec",
            "-b",
            "noop",
            "--audit",
            log.toString(),
            "--audit-key-file",
            key.toString(),
            "--",
            "true");
    assertThat(refused.code()).isEqualTo(125);
    assertThat(refused.err()).contains("is broken at line 2");
  }

  @Test
  void auditNeedsAKey() {
    assumeTrue(System.getenv("KAVACH_AUDIT_KEY") == null, "KAVACH_AUDIT_KEY is set here");
    Run r = run("audit", "verify", dir.resolve("x").toString());
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err()).contains("KAVACH_AUDIT_KEY is not set");
    Run e = run("exec", "-b", "noop", "--audit", dir.resolve("x").toString(), "--", "true");
    assertThat(e.code()).isEqualTo(125);
    assertThat(dir.resolve("x")).doesNotExist();
  }

  @Test
  void quarantinedOutputIsListedShownApprovedAndRejected() throws Exception {
    assumeProcessBackend();
    Path q = dir.resolve("q");
    String bearer = "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123";
    String[] exec = {
      "exec",
      "-p",
      "minimal",
      "--gate",
      "--quarantine-dir",
      q.toString(),
      "--",
      "sh",
      "-c",
      "echo '" + bearer + "'; echo side >&2"
    };
    Run r = run(exec);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).isEmpty();
    Matcher m = Pattern.compile("quarantined as ([0-9a-f]{32})").matcher(r.err());
    assertThat(m.find()).as(r.err()).isTrue();
    String id = m.group(1);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(q)))
        .isEqualTo("rwx------");

    Run list = run("quarantine", "list", "--dir", q.toString());
    assertThat(list.out()).contains(id, "high", "1 finding(s)");
    JsonNode listed =
        JSON.readTree(run("quarantine", "list", "--dir", q.toString(), "--json").out());
    assertThat(listed.get(0).path("id").asText()).isEqualTo(id);
    Run show = run("quarantine", "show", id, "--dir", q.toString());
    JsonNode shown = JSON.readTree(show.out());
    assertThat(shown.path("findings").get(0).path("category").asText()).isEqualTo("auth_token");
    assertThat(shown.path("parts").get(0).path("name").asText()).isEqualTo("stdout");
    assertThat(show.out()).doesNotContain("abcdefghijklmnopqrstuvwxyz0123");

    Run approve = run("quarantine", "approve", id, "--dir", q.toString());
    assertThat(approve.code()).isZero();
    assertThat(approve.out()).isEqualTo(bearer + "\n");
    assertThat(approve.err()).isEqualTo("side\n");
    assertThat(run("quarantine", "list", "--dir", q.toString()).out()).isEmpty();

    Matcher again = Pattern.compile("quarantined as ([0-9a-f]{32})").matcher(run(exec).err());
    assertThat(again.find()).isTrue();
    assertThat(run("quarantine", "reject", again.group(1), "--dir", q.toString()).code()).isZero();
    Run gone = run("quarantine", "show", again.group(1), "--dir", q.toString());
    assertThat(gone.code()).isEqualTo(125);
    assertThat(gone.err()).contains("no quarantined output with id");
    Run badId = run("quarantine", "approve", "../../etc", "--dir", q.toString());
    assertThat(badId.code()).isEqualTo(125);
    assertThat(badId.err()).contains("must be 32 lower-case hex digits");
  }
}
