package dev.kavach.egress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.credential.CredentialSource;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.testing.TestOrigin;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy against real local listeners: origins on 127.0.0.1 reached under fake names through an
 * injected resolver, so no test touches DNS or any address but loopback.
 */
@Timeout(60)
class EgressProxyTest {
  private static final String SECRET = "ghp_real-secret-value-123";

  private final List<EgressDecision> decisions = new CopyOnWriteArrayList<>();
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private TestOrigin api;
  private TestOrigin other;
  private String placeholder;

  @BeforeEach
  void origins() throws IOException {
    api = TestOrigin.http("api");
    other = TestOrigin.http("other");
    cleanup.add(api);
    cleanup.add(other);
    placeholder = MaskedSecret.newPlaceholder(new SecureRandom());
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : cleanup) {
      c.close();
    }
  }

  private static Resolver fakeDns() {
    return Resolver.fixed(
        Map.of(
            "api.test", "127.0.0.1",
            "other.test", "127.0.0.1",
            "files.pypi.test", "127.0.0.1",
            "evil.pypi.test", "127.0.0.1"));
  }

  /** Fake DNS, loopback origins allowed, a TCP listener for the clients. */
  private static EgressOptions.Builder localOptions() {
    return EgressOptions.builder()
        .resolver(fakeDns())
        .allowAddresses("127.0.0.1/32")
        .loopbackListener(true);
  }

  private EgressProxy.Builder builder(List<String> allowed, List<String> denied) {
    return EgressProxy.builder(new NetworkPolicy(true, allowed, List.of(), denied))
        .label("kv-egresstest")
        .listener(decisions::add)
        .options(localOptions().build());
  }

  private EgressProxy start(EgressProxy.Builder b) {
    EgressProxy p = b.start();
    cleanup.add(0, p);
    return p;
  }

  private EgressProxy standard() {
    return start(builder(List.of("api.test", "*.pypi.test"), List.of("evil.pypi.test")));
  }

  private static InetSocketAddress tcp(EgressProxy p) {
    return p.loopbackAddress().orElseThrow();
  }

  private RawClient client(EgressProxy p) throws IOException {
    RawClient c = new RawClient(tcp(p));
    cleanup.add(c);
    return c;
  }

  private static HttpClient httpClient(EgressProxy p) {
    return HttpClient.newBuilder()
        .proxy(ProxySelector.of(tcp(p)))
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  private List<EgressDecision> denied() {
    return decisions.stream().filter(d -> !d.allowed()).toList();
  }

  // ------------------------------------------------------------------ allowed paths

  @Test
  void forwardsPlainHttpToAnAllowedHost() throws Exception {
    EgressProxy p = standard();
    HttpResponse<String> r =
        httpClient(p)
            .send(
                HttpRequest.newBuilder(URI.create("http://api.test:" + api.port() + "/hello?x=1"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("hello from api GET /hello?x=1 body=0");
    assertThat(api.seen).hasSize(1);
    assertThat(api.seen.get(0).header("Host")).isEqualTo("api.test:" + api.port());
    assertThat(api.seen.get(0).header("Proxy-Connection")).isNull();
    EgressDecision d = decisions.get(0);
    assertThat(d.allowed()).isTrue();
    assertThat(d.protocol()).isEqualTo("http");
    assertThat(d.host()).isEqualTo("api.test");
    assertThat(d.address()).isEqualTo("127.0.0.1");
    assertThat(d.rule()).isEqualTo("allowed_hosts entry api.test");
  }

  @Test
  void tunnelsConnectToAnAllowedWildcardHost() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send("CONNECT files.pypi.test:" + api.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(c.response(true).status()).isEqualTo(200);
    c.send("GET /simple HTTP/1.1\r\nHost: files.pypi.test\r\nConnection: close\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.body()).isEqualTo("hello from api GET /simple body=0");
    assertThat(decisions).anyMatch(d -> d.allowed() && d.protocol().equals("connect"));
  }

  @Test
  void socks5ConnectsByDomainName() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send(new byte[] {5, 1, 0});
    assertThat(c.in.readNBytes(2)).containsExactly(5, 0);
    byte[] name = "api.test".getBytes(StandardCharsets.US_ASCII);
    java.io.ByteArrayOutputStream req = new java.io.ByteArrayOutputStream();
    req.writeBytes(new byte[] {5, 1, 0, 3, (byte) name.length});
    req.writeBytes(name);
    req.write(api.port() >> 8);
    req.write(api.port() & 0xff);
    c.send(req.toByteArray());
    byte[] reply = c.in.readNBytes(10);
    assertThat(reply[1]).as("SOCKS reply code").isEqualTo((byte) 0);
    c.send("GET /s HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n");
    assertThat(c.response().body()).isEqualTo("hello from api GET /s body=0");
    assertThat(decisions).anyMatch(d -> d.allowed() && d.protocol().equals("socks5"));
  }

  @Test
  void worksOverTheUnixSocketInAPrivateDirectory() throws Exception {
    EgressProxy p = standard();
    assertThat(Files.getPosixFilePermissions(p.directory()))
        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    try (RawClient c = new RawClient(p.socket())) {
      c.send(
          "GET http://api.test:"
              + api.port()
              + "/unix HTTP/1.1\r\nHost: api.test:"
              + api.port()
              + "\r\nConnection: close\r\n\r\n");
      RawClient.Response r = c.response();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("hello from api GET /unix body=0");
    }
  }

  @Test
  void keepsTheClientConnectionAliveAcrossRequests() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    for (int i = 0; i < 3; i++) {
      c.send(
          "GET http://api.test:"
              + api.port()
              + "/k"
              + i
              + " HTTP/1.1\r\nHost: api.test:"
              + api.port()
              + "\r\n\r\n");
      RawClient.Response r = c.response();
      assertThat(r.body()).isEqualTo("hello from api GET /k" + i + " body=0");
      assertThat(r.header("Connection")).isEqualTo("keep-alive");
    }
    assertThat(api.seen).hasSize(3);
  }

  @Test
  void passesChunkedBodiesThroughBothWays() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send(
        "POST http://api.test:"
            + api.port()
            + "/chunked HTTP/1.1\r\nHost: api.test:"
            + api.port()
            + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
    assertThat(r.body()).isEqualTo("hello from api POST /chunked body=11");
    assertThat(api.seen.get(0).bodyText()).isEqualTo("hello world");
  }

  @Test
  void expectContinueIsAnsweredByTheProxy() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send(
        "PUT http://api.test:"
            + api.port()
            + "/up HTTP/1.1\r\nHost: api.test:"
            + api.port()
            + "\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
    assertThat(c.response(true).status()).isEqualTo(100);
    c.send("data");
    assertThat(c.response().body()).isEqualTo("hello from api PUT /up body=4");
  }

  // ------------------------------------------------------------------ refusals

  @Test
  void refusesAHostOutsideTheAllowlistWithAReadableReason() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send(
        "GET http://other.test:"
            + other.port()
            + "/ HTTP/1.1\r\nHost: other.test:"
            + other.port()
            + "\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.body())
        .isEqualTo(
            "kavach egress: denied: host other.test is not in allowed_hosts [api.test,"
                + " *.pypi.test]\n");
    assertThat(r.header("X-Kavach-Egress")).isEqualTo("denied");
    assertThat(other.seen).isEmpty();
    EgressDecision d = denied().get(0);
    assertThat(d.rule()).isEqualTo("allowed_hosts");
    assertThat(d.host()).isEqualTo("other.test");
    assertThat(d.reason()).isEqualTo(r.body().strip());
  }

  @Test
  void refusedConnectCarriesTheReasonInTheStatusLine() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send("CONNECT evil.pypi.test:443 HTTP/1.1\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.statusLine()).contains("denied: host evil.pypi.test:443 matches denied_hosts");
    assertThat(r.body())
        .isEqualTo(
            "kavach egress: denied: host evil.pypi.test:443 matches denied_hosts entry"
                + " evil.pypi.test\n");
    assertThat(denied()).extracting(EgressDecision::rule).containsExactly("denied_hosts");
  }

  @Test
  void socks5RefusalUsesTheRulesetReplyCode() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send(new byte[] {5, 1, 0});
    c.in.readNBytes(2);
    byte[] name = "other.test".getBytes(StandardCharsets.US_ASCII);
    java.io.ByteArrayOutputStream req = new java.io.ByteArrayOutputStream();
    req.writeBytes(new byte[] {5, 1, 0, 3, (byte) name.length});
    req.writeBytes(name);
    req.writeBytes(new byte[] {0, 80});
    c.send(req.toByteArray());
    assertThat(c.in.readNBytes(10)[1]).isEqualTo((byte) 2);
    assertThat(denied().get(0).reason()).contains("other.test is not in allowed_hosts");
  }

  @Test
  void refusesDnsRebindingToLoopback() throws Exception {
    // No allowAddresses: the name is allowed, but it resolves to loopback.
    EgressProxy p =
        start(
            EgressProxy.builder(new NetworkPolicy(true, List.of("api.test"), List.of(), List.of()))
                .label("kv-rebind")
                .listener(decisions::add)
                .options(
                    EgressOptions.builder().resolver(fakeDns()).loopbackListener(true).build()));
    RawClient c = client(p);
    c.send(
        "GET http://api.test:"
            + api.port()
            + "/ HTTP/1.1\r\nHost: api.test:"
            + api.port()
            + "\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.body())
        .startsWith(
            "kavach egress: denied: host api.test resolves only to refused addresses: 127.0.0.1"
                + " (loopback)");
    assertThat(api.seen).isEmpty();
    assertThat(denied().get(0).rule()).isEqualTo("address");
  }

  @Test
  void refusesLiteralMetadataAndMappedLoopbackAddresses() throws Exception {
    EgressProxy p =
        start(
            EgressProxy.builder(NetworkPolicy.unrestricted())
                .label("kv-literals")
                .listener(decisions::add)
                .options(EgressOptions.builder().loopbackListener(true).build()));
    for (String target :
        List.of(
            "169.254.169.254:80",
            "[::ffff:127.0.0.1]:" + api.port(),
            "127.0.0.1:" + api.port(),
            "[fd00:ec2::254]:80",
            "metadata.google.internal:80")) {
      RawClient c = client(p);
      c.send("CONNECT " + target + " HTTP/1.1\r\n\r\n");
      RawClient.Response r = c.response();
      assertThat(r.status()).as(target).isEqualTo(403);
    }
    assertThat(api.seen).isEmpty();
    assertThat(denied()).extracting(EgressDecision::rule).containsOnly("address");
  }

  @Test
  void refusesAHostHeaderThatDisagreesWithTheTarget() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send("GET http://api.test:" + api.port() + "/ HTTP/1.1\r\nHost: other.test\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("Host header other.test:80 does not match the request target");
    assertThat(api.seen).isEmpty();
  }

  @Test
  void refusesAmbiguousBodyFraming() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send(
        "POST http://api.test:"
            + api.port()
            + "/ HTTP/1.1\r\nHost: api.test:"
            + api.port()
            + "\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("both Transfer-Encoding and Content-Length");
    assertThat(api.seen).isEmpty();
  }

  @Test
  void refusesOriginFormAndHttpsInAbsoluteForm() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send("GET / HTTP/1.1\r\nHost: api.test\r\n\r\n");
    assertThat(c.response().body()).contains("must be an absolute http:// URL");
    RawClient c2 = client(p);
    c2.send("GET https://api.test/ HTTP/1.1\r\nHost: api.test\r\n\r\n");
    assertThat(c2.response().body()).contains("https:// URLs go through CONNECT");
  }

  @Test
  void refusesARequestTargetThatIsNotVisibleAscii() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send(
        "GET http://api.test:"
            + api.port()
            + "/a\u00e9b HTTP/1.1\r\nHost: api.test:"
            + api.port()
            + "\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("not visible ASCII");
    assertThat(api.seen).isEmpty();
  }

  @Test
  void aSecretThatCouldBreakTheRequestLineIsNotSubstituted() throws Exception {
    EgressProxy p =
        start(
            EgressProxy.builder(new NetworkPolicy(true, List.of("api.test"), List.of(), List.of()))
                .label("kv-spaces")
                .listener(decisions::add)
                .secret(new MaskedSecret("SPACEY", placeholder, List.of("api.test")))
                .credentials(name -> Optional.of("a b HTTP/1.1".getBytes(StandardCharsets.UTF_8)))
                .options(localOptions().build()));
    RawClient c = client(p);
    c.send(
        "GET http://api.test:"
            + api.port()
            + "/?k="
            + placeholder
            + " HTTP/1.1\r\nHost: api.test:"
            + api.port()
            + "\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.body()).contains("secret SPACEY has characters a URL cannot carry");
    assertThat(api.seen).isEmpty();
  }

  @Test
  void refusesOversizedHeads() throws Exception {
    EgressProxy p = standard();
    RawClient c = client(p);
    c.send("GET http://api.test/ HTTP/1.1\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("longer than 8192 bytes");
  }

  @Test
  void aTunnelRefusesATlsServerNameTheRulesDoNotAllow() throws Exception {
    TestOrigin secure = secureOrigin();
    EgressProxy p = standard();
    // Fronting: an allowed tunnel host, a server name outside the allowlist.
    RawClient c = client(p);
    c.send("CONNECT api.test:" + secure.port() + " HTTP/1.1\r\n\r\n");
    assertThat(c.response(true).status()).isEqualTo(200);
    c.send(ClientHelloTest.clientHello("other.test"));
    assertThat(c.in.read()).as("connection closed").isEqualTo(-1);
    assertThat(secure.seen).isEmpty();
    EgressDecision d = denied().get(0);
    assertThat(d.rule()).isEqualTo("tls_sni");
    assertThat(d.reason())
        .contains("the TLS server name other.test in the tunnel to api.test:" + secure.port())
        .contains("not in allowed_hosts");

    // A denied name is refused even though the tunnel host is allowed.
    RawClient c2 = client(p);
    c2.send("CONNECT files.pypi.test:" + secure.port() + " HTTP/1.1\r\n\r\n");
    c2.response(true);
    c2.send(ClientHelloTest.clientHello("evil.pypi.test"));
    assertThat(c2.in.read()).isEqualTo(-1);
    assertThat(denied()).extracting(EgressDecision::rule).containsOnly("tls_sni");
  }

  @Test
  void aTunnelPassesTlsForItsOwnOrAnotherAllowedName() throws Exception {
    TestOrigin secure = secureOrigin();
    EgressProxy p = standard();
    for (String sni : List.of("api.test", "files.pypi.test")) {
      RawClient c = client(p);
      c.send("CONNECT api.test:" + secure.port() + " HTTP/1.1\r\n\r\n");
      assertThat(c.response(true).status()).isEqualTo(200);
      c.startTls(upstreamCa.trustingOnlyThis(), "api.test", sni);
      c.send("GET /" + sni + " HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n");
      assertThat(c.response().body()).isEqualTo("hello from secure GET /" + sni + " body=0");
    }
    assertThat(denied()).isEmpty();
  }

  @Test
  void aServerThatSpeaksFirstIsNotHeldUpByTheCheck() throws Exception {
    try (java.net.ServerSocket banner =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Thread t =
          new Thread(
              () -> {
                try (java.net.Socket s = banner.accept()) {
                  s.getOutputStream().write("SSH-2.0-test\r\n".getBytes(StandardCharsets.US_ASCII));
                  byte[] reply = s.getInputStream().readNBytes(4);
                  s.getOutputStream().write(reply);
                } catch (IOException e) {
                  // The test fails on its own side.
                }
              });
      t.start();
      EgressProxy p = standard();
      RawClient c = client(p);
      c.send("CONNECT api.test:" + banner.getLocalPort() + " HTTP/1.1\r\n\r\n");
      assertThat(c.response(true).status()).isEqualTo(200);
      assertThat(c.line()).isEqualTo("SSH-2.0-test");
      c.send("ping");
      assertThat(new String(c.in.readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
      t.join(5000);
    }
  }

  // ------------------------------------------------------------------ bounds

  @Test
  void aClientThatSendsTooSlowlyIsCutOff() throws Exception {
    EgressProxy p =
        start(
            builder(List.of("api.test"), List.of())
                .options(localOptions().headerTimeout(Duration.ofMillis(300)).build()));
    RawClient c = client(p);
    c.send("GET http://api.test/ HTTP/1.1\r\n");
    long start = System.nanoTime();
    assertThat(c.in.read()).as("proxy closed the connection").isEqualTo(-1);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void aDestinationThatStallsTheTlsHandshakeIsCutOff() throws Exception {
    // Accepts TCP and never says a word: the proxy's upstream handshake would wait forever.
    try (java.net.ServerSocket silent =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      EgressProxy p =
          withSecret(
              EgressOptions.builder()
                  .upstreamTls(upstreamCa.trustingOnlyThis())
                  .idleTimeout(Duration.ofMillis(500)),
              "api.test:" + silent.getLocalPort());
      RawClient c = client(p);
      c.send("CONNECT api.test:" + silent.getLocalPort() + " HTTP/1.1\r\n\r\n");
      assertThat(c.response(true).status()).isEqualTo(200);
      c.startTls(trusting(pemCertificate(p.caCertificatePem().orElseThrow())), "api.test");
      c.send("GET / HTTP/1.1\r\nHost: api.test:" + silent.getLocalPort() + "\r\n\r\n");
      long start = System.nanoTime();
      // Closing the stalled socket ends the dial; the client sees the 502 or, if the watchdog
      // closed its side first, just the end of the connection.
      String rest = c.rest();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      assertThat("HTTP/1.1 502 Bad Gateway (kavach egress: failed: cannot connect to api.test:")
          .startsWith(rest.substring(0, Math.min(rest.length(), 70)));
      waitFor(() -> p.activeConnections() == 0);
      assertThat(p.activeConnections()).isZero();
    }
  }

  @Test
  void connectionsBeyondTheLimitGet503() throws Exception {
    EgressProxy p =
        start(
            builder(List.of("api.test"), List.of())
                .options(localOptions().maxConnections(1).build()));
    RawClient first = client(p);
    first.send("GET http://api.test/ HTTP/1.1\r\n"); // holds the only slot
    waitFor(() -> p.activeConnections() == 1);
    RawClient second = client(p);
    RawClient.Response r = second.response();
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).contains("more than 1 connections");
  }

  @Test
  void anAuditFailureStopsTheRequest() throws Exception {
    EgressProxy p =
        start(
            builder(List.of("api.test"), List.of())
                .listener(
                    d -> {
                      throw new IllegalStateException("audit disk full");
                    }));
    RawClient c = client(p);
    c.send(
        "GET http://api.test:"
            + api.port()
            + "/ HTTP/1.1\r\nHost: api.test:"
            + api.port()
            + "\r\n\r\n");
    assertThat(c.rest()).isEmpty();
    assertThat(api.seen).isEmpty();
  }

  // ------------------------------------------------------------------ secrets

  private CredentialSource secrets() {
    return name ->
        name.equals("GH_TOKEN")
            ? Optional.of(SECRET.getBytes(StandardCharsets.UTF_8))
            : Optional.empty();
  }

  private EgressProxy withSecret(EgressOptions.Builder options) {
    return withSecret(options, "api.test");
  }

  private EgressProxy withSecret(EgressOptions.Builder options, String boundTo) {
    return start(
        EgressProxy.builder(
                new NetworkPolicy(true, List.of("api.test", "other.test"), List.of(), List.of()))
            .label("kv-secrets")
            .listener(decisions::add)
            .secret(new MaskedSecret("GH_TOKEN", placeholder, List.of(boundTo)))
            .credentials(secrets())
            .options(
                options
                    .resolver(fakeDns())
                    .allowAddresses("127.0.0.1")
                    .loopbackListener(true)
                    .build()));
  }

  @Test
  void replacesThePlaceholderForTheBoundHostOnly() throws Exception {
    EgressProxy p = withSecret(EgressOptions.builder());
    RawClient c = client(p);
    c.send(
        "GET http://api.test:"
            + api.port()
            + "/echo-auth?t="
            + placeholder
            + " HTTP/1.1\r\nHost: api.test:"
            + api.port()
            + "\r\nAuthorization: Bearer "
            + placeholder
            + "\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(200);
    assertThat(api.seen.get(0).header("Authorization")).isEqualTo("Bearer " + SECRET);
    assertThat(api.seen.get(0).uri()).isEqualTo("/echo-auth?t=" + SECRET);
    // The origin reflected the header: the sandbox gets the placeholder back, not the secret.
    assertThat(r.header("X-Seen-Authorization")).isEqualTo("Bearer " + placeholder);
    assertThat(decisions.get(0).secrets()).containsExactly("GH_TOKEN");

    RawClient c2 = client(p);
    c2.send(
        "GET http://other.test:"
            + other.port()
            + "/ HTTP/1.1\r\nHost: other.test:"
            + other.port()
            + "\r\nX-Api-Key: "
            + placeholder
            + "\r\n\r\n");
    RawClient.Response refused = c2.response();
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.body())
        .isEqualTo(
            "kavach egress: denied: the request carries the placeholder of secret GH_TOKEN, which"
                + " may only be sent to [api.test], not to other.test:"
                + other.port()
                + "\n");
    assertThat(other.seen).isEmpty();
    assertThat(denied()).extracting(EgressDecision::rule).containsExactly("secret_binding");
    for (EgressDecision d : decisions) {
      assertThat(d.toString()).doesNotContain(SECRET);
    }
  }

  private final TestCerts upstreamCa = TestCerts.authority("upstream");

  /** An HTTPS origin for api.test with a certificate from the test's upstream CA. */
  private TestOrigin secureOrigin() throws IOException {
    TestOrigin secure = TestOrigin.https("secure", upstreamCa.server("api.test"));
    cleanup.add(secure);
    return secure;
  }

  /** A proxy that trusts the upstream CA and intercepts TLS to the secure origin's port. */
  private EgressProxy interceptingFor(TestOrigin secure) {
    // A binding without a port intercepts only 443; the local origin has another port.
    return withSecret(
        EgressOptions.builder().upstreamTls(upstreamCa.trustingOnlyThis()),
        "api.test:" + secure.port());
  }

  @Test
  void interceptsTlsForTheBoundHostWithTheSandboxCa(@TempDir Path tmp) throws Exception {
    TestOrigin secure = secureOrigin();
    EgressProxy p = interceptingFor(secure);
    String caPem = p.caCertificatePem().orElseThrow();

    // The client trusts only the sandbox CA: a certificate from anywhere else would fail.
    java.security.cert.X509Certificate sandboxCa = pemCertificate(caPem);
    HttpClient client =
        HttpClient.newBuilder()
            .proxy(ProxySelector.of(tcp(p)))
            .sslContext(trusting(sandboxCa))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("https://api.test:" + secure.port() + "/echo-auth"))
                .header("Authorization", "Bearer " + placeholder)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(secure.seen.get(0).header("Authorization")).isEqualTo("Bearer " + SECRET);
    assertThat(r.headers().firstValue("X-Seen-Authorization")).contains("Bearer " + placeholder);
    assertThat(decisions)
        .anyMatch(d -> d.protocol().equals("https") && d.secrets().contains("GH_TOKEN"));

    Path curl = Path.of("/usr/bin/curl");
    // .ci/run installs curl: under CI this part always runs.
    if (Files.isExecutable(curl) || "true".equals(System.getenv("CI"))) {
      Path ca = Files.writeString(tmp.resolve("ca.pem"), caPem);
      Process proc =
          new ProcessBuilder(
                  curl.toString(),
                  "-sS",
                  "--max-time",
                  "20",
                  "--proxy",
                  "http://127.0.0.1:" + tcp(p).getPort(),
                  "--cacert",
                  ca.toString(),
                  "-H",
                  "Authorization: token " + placeholder,
                  "https://api.test:" + secure.port() + "/from-curl")
              .redirectErrorStream(true)
              .start();
      String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(proc.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(out).isEqualTo("hello from secure GET /from-curl body=0");
      assertThat(secure.seen.get(1).header("Authorization")).isEqualTo("token " + SECRET);
    }
  }

  @Test
  void anInterceptedTunnelOnlyCarriesRequestsForItsOwnHost() throws Exception {
    TestOrigin secure = secureOrigin();
    EgressProxy p = interceptingFor(secure);
    SSLContext sandboxTrust = trusting(pemCertificate(p.caCertificatePem().orElseThrow()));

    RawClient c = client(p);
    c.send("CONNECT api.test:" + secure.port() + " HTTP/1.1\r\n\r\n");
    assertThat(c.response(true).status()).isEqualTo(200);
    c.startTls(sandboxTrust, "api.test");
    c.send(
        "GET https://other.test/ HTTP/1.1\r\nHost: other.test\r\nX-Key: "
            + placeholder
            + "\r\n\r\n");
    RawClient.Response r = c.response();
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).contains("request for other.test:443 inside a tunnel to api.test:");

    RawClient c2 = client(p);
    c2.send("CONNECT api.test:" + secure.port() + " HTTP/1.1\r\n\r\n");
    c2.response(true);
    c2.startTls(sandboxTrust, "api.test");
    c2.send("GET / HTTP/1.1\r\nHost: other.test\r\n\r\n");
    assertThat(c2.response().body()).contains("does not match the request target");
    assertThat(secure.seen).isEmpty();
    assertThat(other.seen).isEmpty();
  }

  static java.security.cert.X509Certificate pemCertificate(String pem) throws Exception {
    return (java.security.cert.X509Certificate)
        java.security.cert.CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  static SSLContext trusting(java.security.cert.X509Certificate ca) {
    return TestCerts.trusting(ca);
  }

  // ------------------------------------------------------------------ cleanup

  @Test
  void closeStopsEveryThreadAndRemovesTheSocket() throws Exception {
    EgressProxy p = standard();
    RawClient tunnel = client(p);
    tunnel.send("CONNECT api.test:" + api.port() + " HTTP/1.1\r\n\r\n");
    assertThat(tunnel.response(true).status()).isEqualTo(200);
    waitFor(() -> p.activeConnections() == 1);
    Path dir = p.directory();
    assertThat(threads(p.threadPrefix())).isNotEmpty();

    p.close();

    assertThat(tunnel.in.read()).as("open tunnel closed").isEqualTo(-1);
    assertThat(dir).doesNotExist();
    waitFor(() -> threads(p.threadPrefix()).isEmpty());
    assertThat(threads(p.threadPrefix())).isEmpty();
    assertThat(p.activeConnections()).isZero();
  }

  static List<String> threads(String prefix) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith(prefix))
        .toList();
  }

  static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }
}
