package dev.kavach.egress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.policy.NetworkPolicy;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RulesTest {
  private static Rules rules(List<String> allowed, List<Integer> ports, List<String> denied) {
    return new Rules(new NetworkPolicy(true, allowed, ports, denied), List.of(), List.of());
  }

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByAddress(Addresses.literal(literal));
  }

  @Test
  void wildcardMatchesSubdomainsAtAnyDepthButNotTheApex() throws Exception {
    Rules r = rules(List.of("*.pypi.org"), List.of(), List.of());
    assertThat(r.checkName("files.pypi.org", 443)).contains("*.pypi.org");
    assertThat(r.checkName("a.b.pypi.org", 443)).contains("*.pypi.org");
    assertThatThrownBy(() -> r.checkName("pypi.org", 443))
        .hasMessage("host pypi.org is not in allowed_hosts [*.pypi.org]");
    assertThatThrownBy(() -> r.checkName("evilpypi.org", 443)).isInstanceOf(Denied.class);
  }

  @Test
  void exactEntryMatchesOnlyThatName() throws Exception {
    Rules r = rules(List.of("api.github.com"), List.of(), List.of());
    assertThat(r.checkName("api.github.com", 443)).isEqualTo("allowed_hosts entry api.github.com");
    assertThatThrownBy(() -> r.checkName("evil.api.github.com", 443)).isInstanceOf(Denied.class);
    assertThatThrownBy(() -> r.checkName("api.github.com.evil.com", 443))
        .isInstanceOf(Denied.class);
  }

  @Test
  void entryWithPortAllowsOnlyThatPort() throws Exception {
    Rules r = rules(List.of("api.github.com:443"), List.of(), List.of());
    r.checkName("api.github.com", 443);
    assertThatThrownBy(() -> r.checkName("api.github.com", 80))
        .hasMessage(
            "port 80 of api.github.com is not allowed: allowed_hosts has only [api.github.com:443]");
  }

  @Test
  void allowedPortsApplyOnTopOfHostEntries() throws Exception {
    Rules r = rules(List.of("*.example.com"), List.of(443), List.of());
    r.checkName("a.example.com", 443);
    Denied d = catchDenied(() -> r.checkName("a.example.com", 8080));
    assertThat(d.rule()).isEqualTo("allowed_ports");
    assertThat(d.text())
        .isEqualTo("kavach egress: denied: port 8080 is not in allowed_ports [443]");
  }

  @Test
  void denyListWinsOverAllowList() throws Exception {
    Rules r = rules(List.of("*.example.com"), List.of(), List.of("evil.example.com"));
    r.checkName("good.example.com", 443);
    Denied d = catchDenied(() -> r.checkName("evil.example.com", 443));
    assertThat(d.rule()).isEqualTo("denied_hosts");
    assertThat(d.getMessage())
        .isEqualTo("host evil.example.com:443 matches denied_hosts entry evil.example.com");
  }

  @Test
  void denyListAloneAllowsEverythingElse() throws Exception {
    Rules r = rules(List.of(), List.of(), List.of("*.evil.com"));
    assertThat(r.checkName("good.com", 80)).isEqualTo("any");
    assertThatThrownBy(() -> r.checkName("x.evil.com", 80)).isInstanceOf(Denied.class);
  }

  @Test
  void trailingDotAndCaseCannotDodgeTheDenyList() throws Exception {
    Rules r = rules(List.of(), List.of(), List.of("evil.com"));
    String host = Rules.normalizeHost("EVIL.com.");
    assertThat(host).isEqualTo("evil.com");
    assertThatThrownBy(() -> r.checkName(host, 443)).isInstanceOf(Denied.class);
  }

  @Test
  void malformedHostNamesAreBadRequests() {
    for (String bad : List.of("", "a b", "ex%61mple.com", "ünï.com", "a..b", "-", "[::zz]")) {
      Denied d = catchDenied(() -> Rules.normalizeHost(bad));
      assertThat(d.status()).as(bad).isEqualTo(400);
    }
  }

  @Test
  void metadataNamesNeedAnExactEntry() throws Exception {
    Rules open = rules(List.of(), List.of(), List.of());
    assertThat(catchDenied(() -> open.checkName("metadata.google.internal", 80)).rule())
        .isEqualTo("address");
    Rules wildcard = rules(List.of("*.google.internal"), List.of(), List.of());
    assertThatThrownBy(() -> wildcard.checkName("metadata.google.internal", 80))
        .hasMessageContaining("cloud metadata service name");
    Rules exact = rules(List.of("metadata.google.internal"), List.of(), List.of());
    exact.checkName("metadata.google.internal", 80);
  }

  @Test
  void refusesSpecialAddressClasses() throws Exception {
    Map<String, String> expected =
        Map.ofEntries(
            Map.entry("127.0.0.1", "loopback"),
            Map.entry("127.8.9.10", "loopback"),
            Map.entry("10.1.2.3", "private (RFC 1918)"),
            Map.entry("172.20.0.1", "private (RFC 1918)"),
            Map.entry("192.168.1.1", "private (RFC 1918)"),
            Map.entry("100.64.0.1", "shared address space (CGNAT)"),
            Map.entry("169.254.1.1", "link-local"),
            Map.entry("169.254.169.254", "cloud metadata"),
            Map.entry("0.0.0.0", "unspecified (this network)"),
            Map.entry("224.0.0.1", "multicast"),
            Map.entry("255.255.255.255", "broadcast"),
            Map.entry("::1", "loopback"),
            Map.entry("::", "unspecified"),
            Map.entry("fe80::1", "link-local"),
            Map.entry("fd12:3456::1", "unique local (ULA)"),
            Map.entry("fd00:ec2::254", "cloud metadata"),
            Map.entry("ff02::1", "multicast"),
            Map.entry("::ffff:127.0.0.1", "loopback via IPv4-mapped IPv6"),
            Map.entry("::ffff:169.254.169.254", "cloud metadata via IPv4-mapped IPv6"),
            Map.entry("64:ff9b::a00:1", "private (RFC 1918) via NAT64"),
            Map.entry("2002:7f00:1::1", "loopback via 6to4"),
            Map.entry("::127.0.0.1", "IPv4-compatible (deprecated)"));
    for (Map.Entry<String, String> e : expected.entrySet()) {
      byte[] b = Addresses.literal(e.getKey());
      // Build an Inet6Address even for the mapped form: a resolver may hand one out.
      InetAddress a =
          b.length == 16
              ? java.net.Inet6Address.getByAddress(null, b, -1)
              : InetAddress.getByAddress(b);
      assertThat(Addresses.refusedClass(a)).as(e.getKey()).contains(e.getValue());
    }
    for (String ok : List.of("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8")) {
      assertThat(Addresses.refusedClass(ip(ok))).as(ok).isEmpty();
    }
  }

  @Test
  void rebindingToLoopbackIsRefusedWithTheReason() {
    Rules r = rules(List.of("api.example.test"), List.of(), List.of());
    Denied d =
        catchDenied(
            () ->
                r.resolve(
                    "api.example.test", Resolver.fixed(Map.of("api.example.test", "127.0.0.1"))));
    assertThat(d.status()).isEqualTo(403);
    assertThat(d.rule()).isEqualTo("address");
    assertThat(d.getMessage())
        .startsWith(
            "host api.example.test resolves only to refused addresses: 127.0.0.1 (loopback)");
  }

  @Test
  void mixedAnswersKeepOnlyTheAllowedAddresses() throws Exception {
    Rules r = rules(List.of(), List.of(), List.of());
    List<InetAddress> answer = List.of(ip("127.0.0.1"), ip("93.184.216.34"), ip("10.0.0.1"));
    List<InetAddress> kept = r.resolve("x.test", h -> answer);
    assertThat(kept).containsExactly(ip("93.184.216.34"));
  }

  @Test
  void explicitlyAllowedBlocksAndLiteralsAreReachable() throws Exception {
    Rules r =
        new Rules(
            new NetworkPolicy(true, List.of("api.test", "10.9.8.7"), List.of(), List.of()),
            List.of("127.0.0.0/8"),
            List.of());
    assertThat(r.resolve("api.test", Resolver.fixed(Map.of("api.test", "127.0.0.5"))))
        .containsExactly(ip("127.0.0.5"));
    assertThat(r.resolve("10.9.8.7", h -> List.of())).containsExactly(ip("10.9.8.7"));
    assertThatThrownBy(() -> r.resolve("api.test", Resolver.fixed(Map.of("api.test", "10.0.0.1"))))
        .isInstanceOf(Denied.class);
  }

  @Test
  void theHostsOwnAddressesAreRefused() throws Exception {
    Rules r =
        new Rules(
            new NetworkPolicy(true, List.of(), List.of(), List.of()),
            List.of(),
            List.of(ip("93.184.216.34")));
    assertThat(r.refusal(ip("93.184.216.34"))).contains("an address of this host");
    assertThat(r.refusal(ip("93.184.216.35"))).isEmpty();
  }

  @Test
  void unresolvableNamesAreBadGateway() {
    Rules r = rules(List.of(), List.of(), List.of());
    Denied d = catchDenied(() -> r.resolve("nope.test", Resolver.fixed(Map.of())));
    assertThat(d.status()).isEqualTo(502);
    assertThat(d.text()).isEqualTo("kavach egress: failed: host nope.test does not resolve");
  }

  @Test
  void cidrParsingNamesTheBadBlock() {
    assertThatThrownBy(() -> Addresses.Cidr.parse("10.0.0.0/33"))
        .hasMessageContaining("10.0.0.0/33");
    assertThatThrownBy(() -> Addresses.Cidr.parse("example.com"))
        .hasMessageContaining("example.com");
    assertThat(Addresses.Cidr.parse("10.0.0.0/8").contains(new byte[] {10, 1, 2, 3})).isTrue();
    assertThat(Addresses.Cidr.parse("172.16.0.0/12").contains(new byte[] {(byte) 172, 32, 0, 1}))
        .isFalse();
  }

  @Test
  void literalParsingNeverAcceptsShortFormsOrNames() {
    for (String notLiteral :
        List.of("127.1", "2130706433", "0x7f.0.0.1", "localhost", "1.2.3.256")) {
      assertThat(Addresses.literal(notLiteral)).as(notLiteral).isNull();
    }
  }

  interface Throwing {
    void run() throws Exception;
  }

  static Denied catchDenied(Throwing t) {
    try {
      t.run();
    } catch (Denied d) {
      return d;
    } catch (Exception e) {
      throw new AssertionError("expected Denied, got " + e, e);
    }
    throw new AssertionError("expected Denied, nothing thrown");
  }
}
