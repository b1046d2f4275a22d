package dev.kavach;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException.Reason;
import dev.kavach.audit.AuditEvent;
import dev.kavach.audit.AuditSink;
import dev.kavach.audit.MemoryAuditSink;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Capability;
import dev.kavach.backend.EgressEndpoint;
import dev.kavach.backend.ExecSpec;
import dev.kavach.credential.SecretRef;
import dev.kavach.egress.EgressOptions;
import dev.kavach.egress.Resolver;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.testing.FakeBackendProvider;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** How a sandbox owns its egress proxy, with a fake backend (no process is started). */
@Timeout(60)
class SandboxEgressTest {
  private final FakeBackendProvider fake = FakeBackendProvider.full("fake", 50);
  private final MemoryAuditSink audit = AuditSink.inMemory();

  private SandboxConfig.Builder config(NetworkPolicy net) {
    return SandboxConfig.builder()
        .backend("fake")
        .policy(SandboxPolicy.minimal().toBuilder().network(net).build())
        .egress(EgressOptions.builder().resolver(Resolver.fixed(Map.of())).build())
        .auditSink(audit);
  }

  private static NetworkPolicy allow(String... hosts) {
    return new NetworkPolicy(true, List.of(hosts), List.of(), List.of());
  }

  @Test
  void theProxyLivesFromStartToDestroy() throws Exception {
    Sandbox s =
        Sandbox.create(config(allow("api.example.com")).build(), Backends.of(List.of(fake)));
    s.start();
    s.exec(List.of("true"));
    ExecSpec spec = fake.opened.get(0).specs.get(0);
    EgressEndpoint endpoint = spec.egress();
    assertThat(endpoint).isNotNull();
    assertThat(endpoint.relayPort()).isEqualTo(SandboxEgress.RELAY_PORT);
    assertThat(endpoint.report().allowedHosts()).containsExactly("api.example.com");
    Path socket = endpoint.socket();
    assertThat(socket).exists();
    assertThat(socket.getParent().getFileName().toString()).startsWith("kavach-" + s.id());
    assertThat(spec.env())
        .containsEntry("HTTP_PROXY", "http://127.0.0.1:3128")
        .containsEntry("https_proxy", "http://127.0.0.1:3128")
        .containsEntry("ALL_PROXY", "http://127.0.0.1:3128")
        .containsEntry("no_proxy", "localhost,127.0.0.1,::1")
        .doesNotContainKey("SSL_CERT_FILE");
    assertThat(spec.secretFiles()).isEmpty();

    // A request through the socket is decided and audited as the sandbox's.
    assertThat(send(socket, "CONNECT evil.example.com:443 HTTP/1.1\r\n\r\n"))
        .startsWith("HTTP/1.1 403 ");
    AuditEvent denied =
        audit.events().stream()
            .filter(e -> e.type() == AuditEvent.Type.EGRESS_DENIED)
            .findFirst()
            .orElseThrow();
    assertThat(denied.sandboxId()).isEqualTo(s.id());
    assertThat(denied.details())
        .containsEntry("protocol", "connect")
        .containsEntry("host", "evil.example.com")
        .containsEntry("port", 443)
        .containsEntry("rule", "allowed_hosts");

    s.destroy();
    assertThat(socket.getParent()).doesNotExist();
    assertThat(
            Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("kavach-egress-" + s.id())))
        .isEmpty();
  }

  @Test
  void noHostRulesNoProxy() {
    Sandbox s =
        Sandbox.create(config(NetworkPolicy.unrestricted()).build(), Backends.of(List.of(fake)));
    s.start();
    s.exec(List.of("true"));
    assertThat(fake.opened.get(0).specs.get(0).egress()).isNull();
    assertThat(fake.opened.get(0).specs.get(0).env()).doesNotContainKey("HTTP_PROXY");
    s.destroy();
  }

  private Sandbox withMaskedSecret() {
    return Sandbox.create(
        config(allow("api.github.com"))
            .secret(SecretRef.proxy("GH", "GITHUB_TOKEN", "api.github.com"))
            .credentials(name -> Optional.of("real".getBytes(StandardCharsets.UTF_8)))
            .build(),
        Backends.of(List.of(fake)));
  }

  @Test
  void aMaskedSecretReachesTheCommandAsAPlaceholderWithTheCaBundle() {
    Sandbox s = withMaskedSecret();
    s.start();
    s.exec(List.of("true"));
    s.exec(List.of("true"));
    List<ExecSpec> specs = fake.opened.get(0).specs;
    String placeholder = specs.get(0).env().get("GITHUB_TOKEN");
    assertThat(placeholder).matches("kavach-placeholder-[0-9a-f]{32}");
    assertThat(specs.get(1).env()).containsEntry("GITHUB_TOKEN", placeholder);
    assertThat(specs.get(0).env().values()).doesNotContain("real");
    for (String v : SandboxEgress.CA_VARIABLES) {
      assertThat(specs.get(0).env()).containsEntry(v, SandboxEgress.CA_BUNDLE_PATH);
    }
    String bundle =
        new String(specs.get(0).secretFiles().get(0).content(), StandardCharsets.US_ASCII);
    assertThat(specs.get(0).secretFiles().get(0).path()).isEqualTo(SandboxEgress.CA_BUNDLE_PATH);
    // Public roots first (the host's bundle), then this sandbox's CA.
    assertThat(bundle).contains("-----BEGIN CERTIFICATE-----");
    assertThat(bundle.split("BEGIN CERTIFICATE").length).isGreaterThan(10);
    assertThat(specs.get(0).egress().report().maskedSecrets())
        .containsExactly("GH -> [api.github.com]");
    s.destroy();

    Sandbox other = withMaskedSecret();
    other.start();
    other.exec(List.of("true"));
    assertThat(fake.opened.get(1).specs.get(0).env().get("GITHUB_TOKEN"))
        .as("placeholders are per sandbox")
        .isNotEqualTo(placeholder);
    other.destroy();
  }

  @Test
  void aSecretBoundToHostsNeedsAnAllowlist() {
    assertThatThrownBy(
            () ->
                Sandbox.create(
                    config(NetworkPolicy.unrestricted())
                        .secret(SecretRef.proxy("GH", "GITHUB_TOKEN", "api.github.com"))
                        .credentials(name -> Optional.empty())
                        .build(),
                    Backends.of(List.of(fake))))
        .isInstanceOf(KavachException.class)
        .hasFieldOrPropertyWithValue("reason", Reason.POLICY_INVALID)
        .hasMessageContaining("needs network.allowed_hosts")
        .hasMessageContaining("--allow-host api.github.com");
  }

  @Test
  void aBackendWithoutHostRulesIsRefused() {
    FakeBackendProvider weak =
        new FakeBackendProvider(
            "weak", 50, EnumSet.complementOf(EnumSet.of(Capability.NETWORK_HOST_RULES)));
    assertThatThrownBy(
            () ->
                Sandbox.create(
                    config(allow("api.example.com")).backend("weak").build(),
                    Backends.of(List.of(weak))))
        .hasMessageContaining("host rules (network.allowed_hosts, network.denied_hosts)");
    assertThatThrownBy(
            () ->
                Sandbox.create(
                    config(allow("api.example.com"))
                        .backend("weak")
                        .policy(
                            SandboxPolicy.minimal().toBuilder()
                                .network(allow("api.example.com"))
                                .bestEffort(true)
                                .build())
                        .secret(SecretRef.proxy("GH", "T", "api.example.com"))
                        .credentials(name -> Optional.empty())
                        .build(),
                    Backends.of(List.of(weak))))
        .hasFieldOrPropertyWithValue("reason", Reason.CREDENTIAL)
        .hasMessageContaining("cannot inject secret GH");
  }

  @Test
  void aFailedStartClosesTheProxyAgain() throws IOException {
    Sandbox s =
        Sandbox.create(config(allow("api.example.com")).build(), Backends.of(List.of(fake)));
    fake.failStart(new KavachException(Reason.LAUNCH_FAILED, "boom"));
    assertThatThrownBy(s::start).hasMessage("boom");
    assertThat(s.state()).isEqualTo(SandboxState.CREATED);
    assertThat(
            Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("kavach-egress-" + s.id())))
        .isEmpty();
    try (var shm = Files.list(Path.of("/dev/shm"))) {
      assertThat(shm.filter(p -> p.getFileName().toString().contains(s.id()))).isEmpty();
    }
    s.destroy();
  }

  private static String send(Path socket, String request) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
      ByteBuffer buf = ByteBuffer.allocate(4096);
      StringBuilder sb = new StringBuilder();
      while (ch.read(buf) >= 0) {
        buf.flip();
        sb.append(StandardCharsets.US_ASCII.decode(buf));
        buf.clear();
      }
      return sb.toString();
    }
  }
}
