package dev.kavach.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kavach.policy.SandboxPolicy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class MainTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void unknownPresetExits125WithOneLine() {
    Run r = run("exec", "-p", "nosuch", "--", "true");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err().lines())
        .containsExactly("kavach: unknown policy preset \"nosuch\" (use minimal, basic, strict)");
  }

  @Test
  void negativeMemoryInAPolicyFileExits125NamingTheField(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("p.json"), "{\"memory_limit_mb\": -1}");
    Run r = run("exec", "--policy-file", f.toString(), "--", "true");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err().lines())
        .singleElement()
        .satisfies(l -> assertThat(l).startsWith("kavach: ").contains("memory_limit_mb"));
  }

  @Test
  void unknownBackendExits125() {
    Run r = run("exec", "-b", "nosuch", "--", "true");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err()).startsWith("kavach: unknown backend \"nosuch\"");
  }

  @Test
  void usageErrorsExit2() {
    assertThat(run("exec").code()).isEqualTo(2);
    assertThat(run("nosuchcommand").code()).isEqualTo(2);
    assertThat(run("exec", "-t", "5", "--", "true").code()).isEqualTo(2);
    assertThat(run("exec", "-p", "basic", "--policy-file", "x", "--", "true").code()).isEqualTo(2);
    assertThat(run().code()).isEqualTo(2);
  }

  @Test
  void everyCommandHasHelp() {
    for (String cmd :
        new String[] {"exec", "backends", "score", "doctor", "policy", "audit", "quarantine"}) {
      Run r = run(cmd, "--help");
      assertThat(r.code()).as(cmd).isZero();
      assertThat(r.out()).as(cmd).contains("Usage: kavach " + cmd);
    }
    assertThat(run("--help").out()).contains("124", "125", "128+N");
  }

  @Test
  void noopExecRunsNothingAndExitsZero() throws Exception {
    Run r = run("exec", "-b", "noop", "--json", "--", "sh", "-c", "exit 3");
    assertThat(r.code()).isZero();
    JsonNode n = JSON.readTree(r.out());
    assertThat(n.get("exit_code").asInt()).isZero();
    assertThat(n.get("score").get("value").asInt()).isZero();
    assertThat(n.get("enforcement").get("backend").asText()).isEqualTo("noop");
  }

  @Test
  void backendsListsNoopHonestly() throws Exception {
    Run text = run("backends");
    assertThat(text.code()).isZero();
    assertThat(text.out()).contains("noop", "does not run commands");
    JsonNode n = JSON.readTree(run("backends", "--json").out());
    assertThat(n.isArray()).isTrue();
    JsonNode noop = null;
    for (JsonNode b : n) {
      if (b.get("name").asText().equals("noop")) {
        noop = b;
      }
    }
    assertThat(noop).isNotNull();
    assertThat(noop.get("runs_commands").asBoolean()).isFalse();
    assertThat(noop.get("base_score").asInt()).isZero();
  }

  @Test
  void doctorJsonParsesAndNamesConsequences() throws Exception {
    JsonNode n = JSON.readTree(run("doctor", "--json").out());
    assertThat(n.size()).isGreaterThan(10);
    for (JsonNode c : n) {
      assertThat(c.get("check").asText()).isNotEmpty();
      assertThat(c.get("enables").asText()).isNotEmpty();
    }
  }

  @Test
  void scoreJsonShowsDeclared() throws Exception {
    Run r = run("score", "-b", "noop", "-p", "strict", "--json");
    assertThat(r.code()).isZero();
    JsonNode n = JSON.readTree(r.out());
    assertThat(n.get("declared").get("value").asInt()).isZero();
    assertThat(n.get("enforced").isNull()).isTrue();
    assertThat(n.get("enforced_unavailable").asText()).contains("runs nothing");
  }

  @Test
  void policyShowPrintsCanonicalJsonThatParsesBack(@TempDir Path dir) throws Exception {
    Run r = run("policy", "show", "strict");
    assertThat(r.code()).isZero();
    assertThat(SandboxPolicy.parse(r.out())).isEqualTo(SandboxPolicy.strict());
    Path f = Files.writeString(dir.resolve("p.json"), "{\"seccomp_enabled\": true}");
    assertThat(SandboxPolicy.parse(run("policy", "show", "--file", f.toString()).out()))
        .isEqualTo(SandboxPolicy.basic());
    assertThat(run("policy", "show", "nosuch").code()).isEqualTo(125);
  }

  @Test
  void durations() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("PT3S")).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void networkFlagsConflictWithNoNetworkAndNameBadHosts() {
    Run conflict = run("exec", "--no-network", "--allow-host", "api.github.com", "--", "true");
    assertThat(conflict.code()).isEqualTo(125);
    assertThat(conflict.err()).contains("--no-network conflicts with --allow-host");
    Run bad = run("exec", "--allow-host", "api github com", "--", "true");
    assertThat(bad.code()).isEqualTo(125);
    assertThat(bad.err()).startsWith("kavach: allowed_hosts[0] (\"api github com\")");
  }

  @Test
  void secretFlagsNameWhatIsMissing() {
    Run form = run("exec", "--allow-host", "api.test", "--secret", "X=bogus:Y", "--", "true");
    assertThat(form.code()).isEqualTo(125);
    assertThat(form.err()).contains("expected NAME=env:VAR", "NAME=proxy:HOST[,HOST]");
    Run noValue = run("exec", "-b", "noop", "--secret", "X=env:Y", "--", "true");
    assertThat(noValue.code()).isEqualTo(125);
    assertThat(noValue.err())
        .contains("--secret X=env:Y: no value: add --secret-from X=env:HOSTVAR or X=file:HOSTPATH");
    Run unset =
        run(
            "exec",
            "--allow-host",
            "api.test",
            "--secret",
            "KAVACH_SURELY_UNSET_VAR=proxy:api.test",
            "--",
            "true");
    assertThat(unset.err()).contains("the environment variable KAVACH_SURELY_UNSET_VAR is not set");
    Run noAllowlist =
        run(
            "exec",
            "-p",
            "minimal",
            "--secret",
            "KAVACH_TEST_HOST_MARKER=proxy:api.test",
            "--",
            "true");
    assertThat(noAllowlist.code()).isEqualTo(125);
    assertThat(noAllowlist.err()).contains("needs network.allowed_hosts");
  }

  @Test
  void execThroughTheEgressProxyWithAMaskedSecret() throws Exception {
    JsonNode backends = JSON.readTree(run("backends", "--json").out());
    boolean process = false;
    for (JsonNode b : backends) {
      process |= b.path("name").asText().equals("process") && b.path("available").asBoolean();
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(process, "process backend unavailable");
    java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer origin =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    origin.createContext(
        "/",
        ex -> {
          seen.add(String.valueOf(ex.getRequestHeaders().getFirst("X-Key")));
          byte[] body = "from origin".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    origin.start();
    try {
      int port = origin.getAddress().getPort();
      // An IP literal in allowed_hosts is an explicit choice of that (here: loopback) address.
      // The sandbox's NO_PROXY lists 127.0.0.1, so the command names the proxy itself.
      Run r =
          run(
              "exec",
              "-b",
              "process",
              "-p",
              "minimal",
              "--json",
              "--allow-host",
              "127.0.0.1:" + port,
              "--deny-host",
              "evil.example.com",
              "--secret",
              "KAVACH_TEST_HOST_MARKER=proxy:127.0.0.1",
              "--",
              "sh",
              "-c",
              "echo \"$KAVACH_TEST_HOST_MARKER\"; curl -sS --max-time 20 --noproxy '' -x \"$HTTP_PROXY\""
                  + " -H \"X-Key: $KAVACH_TEST_HOST_MARKER\" http://127.0.0.1:"
                  + port
                  + "/");
      assertThat(r.code()).as(r.err()).isZero();
      JsonNode n = JSON.readTree(r.out());
      assertThat(n.path("stdout").asText())
          .matches("kavach-placeholder-[0-9a-f]{32}\nfrom origin")
          .doesNotContain("visible-only-on-the-host");
      assertThat(seen).containsExactly("visible-only-on-the-host");
      JsonNode egress = n.path("enforcement").path("egress");
      assertThat(egress.path("allowed_hosts").get(0).asText()).isEqualTo("127.0.0.1:" + port);
      assertThat(egress.path("denied_hosts").get(0).asText()).isEqualTo("evil.example.com");
      assertThat(egress.path("masked_secrets").get(0).asText())
          .isEqualTo("KAVACH_TEST_HOST_MARKER -> [127.0.0.1]");
      assertThat(n.path("enforcement").path("network_isolated").asBoolean()).isTrue();
    } finally {
      origin.stop(0);
    }
  }
}
